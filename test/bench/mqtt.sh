#!/bin/sh
# MQTT throughput, CPU and memory: dmqtt pub/sub beside mosquitto_pub/sub on
# the same input, into the same mosquitto on loopback, in the same run.
. "$(dirname "$0")/lib.sh"
N=${MQTT_BENCH_N:-100000}
RUNS=${MQTT_BENCH_RUNS:-3}
T=$(mktemp -d)
trap 'kill $BROKER 2>/dev/null; rm -rf "$T"' EXIT
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\nuser root\nmax_queued_messages 1000000\nmax_inflight_messages 64\n' "$PORT" >"$T/m.conf"
mosquitto -c "$T/m.conf" >"$T/m.log" 2>&1 &
BROKER=$!
sleep 0.5
# N lines of 64 bytes (63 + newline... the payload is 64 bytes without it)
awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++) printf "%010d%054d\n", i, 0 }' >"$T/lines"

pub_run() { # QOS TOOL -> sets CPU_S, WALL_S (medians)
	: >"$T/cpu"; : >"$T/wall"
	for r in $(seq "$RUNS"); do
		if [ "$2" = dmqtt ]; then
			measure "$DMQTT" pub -p "$PORT" -t bench/pub -q "$1" -l <"$T/lines"
		else
			measure mosquitto_pub -p "$PORT" -t bench/pub -q "$1" -l <"$T/lines"
		fi
		echo "$CPU_S" >>"$T/cpu"; echo "$WALL_S" >>"$T/wall"
	done
	CPU_S=$(median <"$T/cpu"); WALL_S=$(median <"$T/wall")
}
for q in 0 1; do
	pub_run $q dmqtt; dc=$CPU_S; dw=$WALL_S
	pub_run $q mosq; mc=$CPU_S; mw=$WALL_S
	win=""; [ $q = 1 ] && win="in-flight window: dmqtt 64, mosquitto_pub 20 (its default)"
	record "pub -l $N x 64 B QoS $q, wall" "$dw" "$mw" s "ratio<=1.0" "$win"
	record "pub -l $N x 64 B QoS $q, CPU" "$dc" "$mc" s "ratio<=1.0" "median of $RUNS"
done

sub_run() { # TOOL -> CPU_S, PEAK_KB of the subscriber
	if [ "$1" = dmqtt ]; then
		( measure "$DMQTT" sub -p "$PORT" -t bench/sub -C "$N" >/dev/null; echo "$CPU_S $PEAK_KB" >"$T/subres" ) &
	else
		( measure mosquitto_sub -p "$PORT" -t bench/sub -C "$N" >/dev/null; echo "$CPU_S $PEAK_KB" >"$T/subres" ) &
	fi
	sp=$!
	sleep 0.5
	mosquitto_pub -p "$PORT" -t bench/sub -l <"$T/lines"
	wait $sp
	read -r CPU_S PEAK_KB <"$T/subres"
}
: >"$T/dcpu"; : >"$T/mcpu"; : >"$T/drss"; : >"$T/mrss"
for r in $(seq "$RUNS"); do
	sub_run dmqtt; echo "$CPU_S" >>"$T/dcpu"; echo "$PEAK_KB" >>"$T/drss"
	sub_run mosq; echo "$CPU_S" >>"$T/mcpu"; echo "$PEAK_KB" >>"$T/mrss"
done
record "sub -C $N, CPU" "$(median <"$T/dcpu")" "$(median <"$T/mcpu")" s "ratio<=1.0" "median of $RUNS"
record "sub peak RSS (plain TCP)" "$(median <"$T/drss")" "$(median <"$T/mrss")" KiB "max=256" "reference: mosquitto_sub"
