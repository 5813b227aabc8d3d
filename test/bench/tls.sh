#!/bin/sh
# TLS connection cost: one `dmqtt sub` over TLS 1.2 beside one
# `mosquitto_sub` over TLS 1.2, against the same mosquitto TLS listener on
# loopback (EC P-256 PKI from deploy/cloud/make-pki.sh).  A retained message
# waits on the topic, so each process connects, does the TLS handshake,
# CONNECT/CONNACK, SUBSCRIBE/SUBACK, receives the message and exits (-C 1):
# its wall time is the per-connection figure.  Runs alternate ours/theirs so
# machine noise hits both alike.
#
# The broker runs with `set_tcp_nodelay true` for the target figure: with
# mosquitto's default (Nagle on) its SUBACK and the retained PUBLISH leave as
# two small segments and the second waits for the client's delayed ACK
# (~40 ms on Linux), which swamps what the clients themselves cost.  That
# default-config figure is recorded too, for information.
# Also: CPU per connection and peak RSS of each client over TLS.
. "$(dirname "$0")/lib.sh"
N=${TLS_BENCH_N:-50}
N_DEFAULT=${TLS_BENCH_N_DEFAULT:-20}
T=$(mktemp -d /tmp/dmqtt-bench-tls.XXXXXX)
BROKER=""
stop_broker() {
	if [ -n "$BROKER" ]; then kill "$BROKER" 2>/dev/null; wait "$BROKER" 2>/dev/null; fi
	BROKER=""
}
cleanup() { stop_broker; rm -rf "$T"; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

[ -x "$DMQTT" ] || { echo "tls.sh: $DMQTT missing (make -s bin)" >&2; exit 2; }

sh deploy/cloud/make-pki.sh "$T/pki" >"$T/pki.log" 2>&1 || { echo "tls.sh: PKI failed" >&2; cat "$T/pki.log" >&2; exit 1; }
CA=$T/pki/ca.pem

# start_broker true|false: mosquitto with a TLS listener on a free port,
# set_tcp_nodelay as given; a retained message on bench/tls
start_broker() {
	for _ in 1 2 3; do
		PORT=$(free_port)
		cat >"$T/m.conf" <<CONF
user root
persistence false
log_dest file $T/m.log
set_tcp_nodelay $1
listener $PORT 127.0.0.1
allow_anonymous true
cafile $CA
certfile $T/pki/server.pem
keyfile $T/pki/server.key
tls_version tlsv1.2
CONF
		mosquitto -c "$T/m.conf" >"$T/m.err" 2>&1 &
		BROKER=$!
		wait_port "$PORT" && break
		stop_broker
	done
	[ -n "$BROKER" ] || { echo "tls.sh: mosquitto did not start: $(cat "$T/m.err")" >&2; exit 1; }
	mosquitto_pub --cafile "$CA" -h localhost -p "$PORT" -t bench/tls -m retained-hello -r ||
		{ echo "tls.sh: could not publish the retained message" >&2; exit 1; }
	OURS="$DMQTT sub --cafile $CA -h localhost -p $PORT -t bench/tls -C 1"
	REF="mosquitto_sub --cafile $CA -h localhost -p $PORT -t bench/tls -C 1"
	# both must really get the retained message over TLS
	for c in "$OURS" "$REF"; do
		got=$($c -W 10 2>"$T/err")
		[ "$got" = retained-hello ] || { echo "tls.sh: '$c' gave '$got': $(cat "$T/err")" >&2; exit 1; }
	done
}

# alternate N: N runs of each, alternating; wall ms per run into
# $T/ours.ms and $T/ref.ms (bash's EPOCHREALTIME: microseconds, no extra
# process inside the timed window); O and R get the medians ("-" when a
# run failed)
alternate() {
	bash -c '
	n=$1 a=$2 b=$3 oa=$4 ob=$5
	: >"$oa"; : >"$ob"
	ms() { d=$(( ${2/./} - ${1/./} )); printf "%d.%03d\n" $((d / 1000)) $((d % 1000)); }
	for i in $(seq "$n"); do
		s=$EPOCHREALTIME; $a >/dev/null 2>&1; ra=$?; e=$EPOCHREALTIME
		if [ $ra -eq 0 ]; then ms "$s" "$e" >>"$oa"; else echo "run $i: ours exit $ra" >&2; fi
		s=$EPOCHREALTIME; $b >/dev/null 2>&1; rb=$?; e=$EPOCHREALTIME
		if [ $rb -eq 0 ]; then ms "$s" "$e" >>"$ob"; else echo "run $i: mosquitto_sub exit $rb" >&2; fi
	done' _ "$1" "$OURS" "$REF" "$T/ours.ms" "$T/ref.ms"
	O=$(median <"$T/ours.ms"); R=$(median <"$T/ref.ms")
	[ "$(wc -l <"$T/ours.ms")" -eq "$1" ] || O=-
	[ "$(wc -l <"$T/ref.ms")" -eq "$1" ] || R=-
}

start_broker true
alternate "$N"
record "TLS connect+CONNACK+SUBACK+msg, wall" "$O" "$R" ms "ratio<=1.0" \
	"median of $N, whole process; reference: mosquitto_sub (OpenSSL); broker set_tcp_nodelay true"

# CPU (user+sys) per connection, each tool alone, N runs
loop='for i in $(seq "$1"); do $2 >/dev/null 2>&1; done'
/usr/bin/time -f '%U %S' -o "$T/cpu.o" bash -c "$loop" _ "$N" "$OURS"
/usr/bin/time -f '%U %S' -o "$T/cpu.r" bash -c "$loop" _ "$N" "$REF"
co=$(awk -v n="$N" '{ printf "%.1f", ($1 + $2) * 1000 / n }' "$T/cpu.o")
cr=$(awk -v n="$N" '{ printf "%.1f", ($1 + $2) * 1000 / n }' "$T/cpu.r")
record "TLS connection, CPU per process" "$co" "$cr" ms "-" "user+sys over $N runs (includes the bash loop's forks)"

# peak RSS over TLS, median of 5: VmHWM read from /proc as the client
# exits (test/bench/mqtt_peak.c; /usr/bin/time's figure would include its
# own image from before the exec)
cc -std=c11 -Wall -Wextra -Werror -O2 -o "$BENCH_DIR/mqtt_peak" test/bench/mqtt_peak.c || exit 1
peak() { "$BENCH_DIR/mqtt_peak" "$@" 2>&1 >/dev/null | sed -n 's/.*peak_kb=\([0-9]*\).*/\1/p' | tail -1; }
: >"$T/rss.o"; : >"$T/rss.r"
for i in 1 2 3 4 5; do
	# shellcheck disable=SC2086
	peak $OURS >>"$T/rss.o"
	# shellcheck disable=SC2086
	peak $REF >>"$T/rss.r"
done
record "sub peak RSS over TLS" "$(median <"$T/rss.o")" "$(median <"$T/rss.r")" KiB "max=512" \
	"VmHWM at exit; reference: mosquitto_sub (dynamic, OpenSSL)"

# the same wall time against mosquitto's default (Nagle on), for information
stop_broker
start_broker false
alternate "$N_DEFAULT"
record "TLS connect..msg, wall, broker Nagle on" "$O" "$R" ms "-" \
	"median of $N_DEFAULT; mosquitto default set_tcp_nodelay false: ~40 ms delayed-ACK stalls dominate"
