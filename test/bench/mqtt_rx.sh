#!/bin/sh
# Instructions per received MQTT message: the receive path of `dmqtt sub`
# (src/mqttc.c over proto/mqtt.c and proto/mqtt_codec.c, the plain TCP
# transport) beside libmosquitto's (mosquitto_loop + on_message), counted
# by callgrind, both fed the same recorded bytes.
#
# 1. A mosquitto on a free loopback port delivers 2N PUBLISH packets of
#    64-byte payloads (published with mosquitto_pub -l) to a raw subscriber
#    at QoS 0 and at QoS 1; mqtt_stream.py records those bytes.
# 2. For each QoS and each side, mqtt_stream.py replays the first N, then
#    the first 2N, recorded packets to one client: CONNACK, SUBACK, then the
#    stream as fast as the client takes it (PUBACKs read and counted).
#    The client (mqtt_rx_dmqtt.c or mqtt_rx_mosq.c, cc -O2 against glibc,
#    Debian's libmosquitto) runs under
#    `valgrind --tool=callgrind --toggle-collect=rx_loop`: only the loop
#    that receives the messages is counted (poll, read, framing, decoding,
#    the callback, PUBACKs for QoS 1).
# 3. Instructions per message = (Ir at 2N - Ir at N) / N, so start-up,
#    connecting, the first call of each function and whatever arrived
#    before the loop cancel.  Callgrind counts user-space instructions
#    only; the system calls per message (strace -f -c over the whole
#    process, the same difference) are in the note, as is ours built with
#    the shipped -Os.
#
# Report only: no target in the issues.  MQTT_RX_N sets N (default 10000).
. "$(dirname "$0")/lib.sh"
N=${MQTT_RX_N:-10000}
N2=$((2 * N))
T=$(mktemp -d /tmp/dmqtt-bench-rx.XXXXXX)
BROKER="" SERVER=""
stop() { # pid
	if [ -n "$1" ]; then kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; fi
}
cleanup() { stop "$SERVER"; stop "$BROKER"; rm -rf "$T"; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# a broken benchmark still leaves its rows, as missing figures (a FAIL)
give_up() { # code reason
	echo "mqtt_rx.sh: $2" >&2
	for q in 0 1; do
		record "MQTT receive path, QoS $q, instructions/msg" - - instr "-" "not measured: $2"
	done
	exit "$1"
}
command -v valgrind >/dev/null || give_up 2 "valgrind is not installed"
command -v strace >/dev/null || give_up 2 "strace is not installed"
[ -f /usr/include/mosquitto.h ] || give_up 2 "libmosquitto-dev is not installed"

CFLAGS="-std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
	-Wvla -Wformat=2 -Wundef -Wcast-align -D_POSIX_C_SOURCE=200809L -I."
OURS_SRC="test/bench/mqtt_rx_dmqtt.c src/mqttc.c proto/mqtt.c proto/mqtt_codec.c proto/utf8.c
	platform/net.c platform/clock.c platform/random.c platform/log.c platform/fmt.c"
# shellcheck disable=SC2086
{ cc $CFLAGS -O2 -o "$BENCH_DIR/mqtt_rx_dmqtt" $OURS_SRC &&
  cc $CFLAGS -Os -o "$BENCH_DIR/mqtt_rx_dmqtt_os" $OURS_SRC &&
  cc $CFLAGS -O2 -o "$BENCH_DIR/mqtt_rx_mosq" test/bench/mqtt_rx_mosq.c -lmosquitto; } \
	>"$T/cc.log" 2>&1 || { cat "$T/cc.log" >&2; give_up 2 "build failed"; }

# 1. record what mosquitto sends a subscriber
for _ in 1 2 3; do
	PORT=$(free_port)
	printf 'listener %s 127.0.0.1\nallow_anonymous true\nuser root\npersistence false\nmax_queued_messages 1000000\n' \
		"$PORT" >"$T/m.conf"
	mosquitto -c "$T/m.conf" >"$T/m.log" 2>&1 &
	BROKER=$!
	wait_port "$PORT" && break
	stop "$BROKER"; BROKER=""
done
[ -n "$BROKER" ] || { cat "$T/m.log" >&2; give_up 1 "mosquitto did not start"; }
awk -v n="$N2" 'BEGIN { for (i = 1; i <= n; i++) printf "%010d%054d\n", i, 0 }' >"$T/lines"
for q in 0 1; do
	/usr/bin/python3 test/bench/mqtt_stream.py record "$PORT" $q "$N2" "$T/stream$q" "$T/lines" ||
		give_up 1 "recording the QoS $q stream from mosquitto failed"
done
stop "$BROKER"; BROKER=""

# 2. one replay: HOW BIN COUNT QOS, HOW = callgrind (Ir inside rx_loop) or
# strace (system calls of the whole process); the figure goes to
# $T/count.res (not a subshell: the exit trap must see $SERVER)
count() {
	rm -f "$T/ready" "$T/cg.out" "$T/st.out" "$T/count.res"
	/usr/bin/python3 test/bench/mqtt_stream.py serve "$T/stream$4" "$3" "$T/ready" >"$T/serve.out" 2>"$T/serve.err" &
	SERVER=$!
	i=0
	while [ ! -f "$T/ready" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	if [ ! -f "$T/ready" ]; then
		echo "mqtt_rx.sh: the replaying broker did not start: $(cat "$T/serve.err")" >&2
		stop "$SERVER"; SERVER=""
		return 1
	fi
	if [ "$1" = callgrind ]; then
		valgrind --tool=callgrind --toggle-collect=rx_loop --callgrind-out-file="$T/cg.out" \
			"$2" "$(cat "$T/ready")" "$3" "$4" >"$T/run.out" 2>"$T/tool.err"
	else
		strace -f -c -o "$T/st.out" "$2" "$(cat "$T/ready")" "$3" "$4" >"$T/run.out" 2>"$T/tool.err"
	fi
	rc=$?
	if [ $rc -ne 0 ] || ! grep -q "^received $3 " "$T/run.out"; then
		echo "mqtt_rx.sh: $1 $2 $3 QoS $4 failed (exit $rc): $(cat "$T/run.out") $(tail -3 "$T/tool.err")" >&2
		stop "$SERVER"; SERVER=""
		return 1
	fi
	wait "$SERVER"; SERVER=""
	if [ "$1" = callgrind ]; then
		awk '/^totals:/ { print $2; exit }' "$T/cg.out" >"$T/count.res"
	else
		awk '$NF == "total" { print $4 }' "$T/st.out" >"$T/count.res"
	fi
	[ -s "$T/count.res" ]
}
# per message: HOW BIN QOS -> (figure at 2N - figure at N) / N in $PER, or "-"
per_msg() {
	PER=-
	count "$1" "$2" "$N" "$3" || return 0
	a=$(cat "$T/count.res")
	count "$1" "$2" "$N2" "$3" || return 0
	PER=$(echo "$a $(cat "$T/count.res")" | awk -v n="$N" -v f="$1" '{
		printf (f == "callgrind" ? "%.1f" : "%.3g"), ($2 - $1) / n }')
}

# 3. the rows
mver=$(dpkg-query -W -f '${Version}' libmosquitto1 2>/dev/null | sed 's/-.*//')
for q in 0 1; do
	per_msg callgrind "$BENCH_DIR/mqtt_rx_dmqtt" $q; ours=$PER
	per_msg callgrind "$BENCH_DIR/mqtt_rx_mosq" $q; ref=$PER
	per_msg callgrind "$BENCH_DIR/mqtt_rx_dmqtt_os" $q; ours_os=$PER
	per_msg strace "$BENCH_DIR/mqtt_rx_dmqtt" $q; ours_sys=$PER
	per_msg strace "$BENCH_DIR/mqtt_rx_mosq" $q; ref_sys=$PER
	record "MQTT receive path, QoS $q, instructions/msg" "$ours" "$ref" instr "-" \
		"callgrind Ir inside the receive loop, (Ir at $N2 - Ir at $N msgs)/$N, same recorded 64-byte PUBLISH stream; ours: src/mqttc.c+proto/mqtt as dmqtt sub drives them, cc -O2 (-Os: $ours_os); reference: libmosquitto $mver mosquitto_loop+on_message; user space only: system calls/msg (strace) ours $ours_sys, libmosquitto $ref_sys"
done
