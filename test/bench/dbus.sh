#!/bin/sh
# D-Bus method-call rate on one connection: our client (src/bus.c,
# bus_call_wait) beside sd-bus (libsystemd-dev, sd_bus_call_method), in one
# program (test/bench/dbus_bench.c), on the VeeaHub emulator's private bus.
#
#   1. io.veea.VeeaHub.Info.MeshUUID, answered by python-dbusmock through
#      dbus-daemon: the call the node and broker make.  The Python service
#      costs most of each round trip, for both clients alike.
#   2. org.freedesktop.DBus.GetId, answered by dbus-daemon itself (C): the
#      fairer figure for the clients' own cost.
#
# N sequential calls per client and round (default 10,000).  Rounds run
# both clients back to back, the order alternating each round; each client
# connects afresh and makes 100 warm-up calls outside the timing.  The
# figures are medians over the rounds (the best round of each and the
# median of the per-round ratios are in the note).  Target: ours >= sd-bus.
#
# The bench, dbus-daemon and the emulator's services are pinned to one CPU
# (DBUS_BENCH_PIN=0 to not): on this 2-vCPU VM a round trip whose two ends
# sit on different CPUs pays a cross-CPU wake-up (~50 us here), so unpinned
# rounds swing 3x (10k vs 30k calls/s) with where the scheduler put them.
# The clients' own CPU time per call (CLOCK_PROCESS_CPUTIME_ID over the
# timed calls: user and system, syscalls included) is reported beside it.
. "$(dirname "$0")/lib.sh"
N=${DBUS_BENCH_N:-10000}
ROUNDS_MOCK=${DBUS_BENCH_ROUNDS_MOCK:-5}
ROUNDS_DAEMON=${DBUS_BENCH_ROUNDS:-7}
EMU=$ROOT/test/emu/veeahub
T=$(mktemp -d /tmp/dmqtt-bench-dbus.XXXXXX)
cleanup() {
	[ -f "$T/hub/hub.json" ] && "$EMU" stop --dir "$T/hub" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

[ -f /usr/include/systemd/sd-bus.h ] || { echo "dbus.sh: libsystemd-dev is not installed" >&2; exit 2; }
cc -std=c11 -O2 -I. -D_POSIX_C_SOURCE=200809L -o "$BENCH_DIR/dbus_bench" test/bench/dbus_bench.c \
	src/bus.c proto/dbus.c proto/dbus_sasl.c proto/utf8.c platform/net.c platform/clock.c \
	platform/log.c platform/fmt.c -lsystemd >"$T/cc.log" 2>&1 || { echo "dbus.sh: build failed" >&2; cat "$T/cc.log" >&2; exit 2; }

UUID=6f1d2c3e-8a4b-4c5d-9e6f-7a8b9c0d1e2f
"$EMU" start --dir "$T/hub" --serial C25DTADSR00000000042 --node-type MEN --mesh-uuid $UUID \
	--mesh-ip 127.0.0.1 -q >"$T/emu.log" 2>&1 || { echo "dbus.sh: emulator: $(cat "$T/emu.log")" >&2; exit 1; }
ADDR=$(sed -n 's/^DBUS_SYSTEM_BUS_ADDRESS=//p' "$T/hub/env")
[ -n "$ADDR" ] || { echo "dbus.sh: no bus address in $T/hub/env" >&2; exit 1; }

PIN=""
if [ "${DBUS_BENCH_PIN:-1}" != 0 ] && command -v taskset >/dev/null; then
	CPU=$(($(nproc) - 1))
	for p in dbus-daemon info networking; do
		[ -f "$T/hub/$p.pid" ] && taskset -pc "$CPU" "$(cat "$T/hub/$p.pid")" >/dev/null 2>&1
	done
	PIN="taskset -c $CPU"
fi

# run_bench NAME ROUNDS DEST PATH IFACE MEMBER -> $T/NAME.out
run_bench() {
	f=$T/$1.out
	shift
	$PIN "$BENCH_DIR/dbus_bench" "$ADDR" "$N" "$@" >"$f" 2>"$f.err" ||
		echo "dbus.sh: dbus_bench $*: $(tail -3 "$f.err")" >&2
	sed 's/^/  /' "$f.err"
}
val() { awk -v k="$2" '$1 == k { print $2 }' "$T/$1.out"; }

# row NAME ROUNDS METRIC WHAT: the record for one run of dbus_bench
row() {
	o=$(val "$1" ours_calls_s); s=$(val "$1" sdbus_calls_s)
	record "$3" "${o:--}" "${s:--}" calls/s "min=${s:-0}" \
		"median of $2 rounds, order alternating; reference: sd-bus; $4; best round ours $(val "$1" ours_calls_s_best) sd-bus $(val "$1" sdbus_calls_s_best), median paired ratio $(val "$1" ratio_median); us/call ours $(val "$1" ours_us_per_call) sd-bus $(val "$1" sdbus_us_per_call); CPU us/call ours $(val "$1" ours_cpu_us_per_call) sd-bus $(val "$1" sdbus_cpu_us_per_call)${PIN:+; pinned to one CPU}"
}

run_bench mock "$ROUNDS_MOCK" io.veea.VeeaHub.Info /io/veea/VeeaHub/Info io.veea.VeeaHub.Info MeshUUID
row mock "$ROUNDS_MOCK" "D-Bus Info.MeshUUID x$N, one connection" "python-dbusmock dominates"
record "D-Bus client CPU per call (MeshUUID)" "$(val mock ours_cpu_us_per_call)" \
	"$(val mock sdbus_cpu_us_per_call)" us "-" "user+sys of the calling process, median round; reference: sd-bus"

run_bench daemon "$ROUNDS_DAEMON" org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId
row daemon "$ROUNDS_DAEMON" "D-Bus daemon GetId x$N, one connection" "answered by dbus-daemon"
record "D-Bus client CPU per call (GetId)" "$(val daemon ours_cpu_us_per_call)" \
	"$(val daemon sdbus_cpu_us_per_call)" us "-" "user+sys of the calling process, median round; reference: sd-bus"
