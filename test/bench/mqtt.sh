#!/bin/sh
# MQTT throughput, CPU and memory: dmqtt pub/sub beside mosquitto_pub/sub on
# the same input, into the same mosquitto on loopback, in the same run.
#
# Publishing: N lines of 64 bytes through `pub -l`, wall and CPU time of
# the whole process (/usr/bin/time), median of RUNS.  After the timed runs
# one more run of each tool goes to a subscriber that counts what arrived,
# so a tool that stops early cannot look fast: the count is in the note,
# and a dmqtt row fails when dmqtt lost a message.  mosquitto_pub -l at QoS
# 1 stops after ~34,465 of 100,000 lines: it disconnects at the PUBACK whose
# 16-bit message id equals the last line's, and ids wrap after 65,535.  So
# QoS 1 is also measured at 65,000 lines, where both deliver everything.
#
# Subscribing: `sub -C N` while mosquitto_pub sends N lines at QoS 0; CPU
# time and peak memory of the subscriber through test/bench/mqtt_peak.c
# (VmHWM of the process's own address space at exit; /usr/bin/time's %M
# includes its own pre-exec image, ~440 KiB on this machine, see there).
. "$(dirname "$0")/lib.sh"
N=${MQTT_BENCH_N:-100000}
N1=${MQTT_BENCH_N1:-65000}
RUNS=${MQTT_BENCH_RUNS:-3}
T=$(mktemp -d /tmp/dmqtt-bench-mqtt.XXXXXX)
BROKER="" SUB=""
stop() { # pid
	if [ -n "$1" ]; then kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; fi
}
trap 'stop "$SUB"; stop "$BROKER"; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM HUP
cc -std=c11 -Wall -Wextra -Werror -O2 -o "$BENCH_DIR/mqtt_peak" test/bench/mqtt_peak.c || exit 1
PEAK=$BENCH_DIR/mqtt_peak
PORT=$(free_port)
printf 'listener %s 127.0.0.1\nallow_anonymous true\nuser root\npersistence false\nmax_queued_messages 1000000\nmax_inflight_messages 64\n' "$PORT" >"$T/m.conf"
mosquitto -c "$T/m.conf" >"$T/m.log" 2>&1 &
BROKER=$!
wait_port "$PORT" || { cat "$T/m.log" >&2; exit 1; }
# N lines of 64 bytes (the payload is 64 bytes without the newline)
awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++) printf "%010d%054d\n", i, 0 }' >"$T/lines"
head -n "$N1" "$T/lines" >"$T/lines1"

pub_run() { # QOS TOOL FILE -> CPU_S, WALL_S (medians)
	: >"$T/cpu"; : >"$T/wall"
	for r in $(seq "$RUNS"); do
		if [ "$2" = dmqtt ]; then
			measure "$DMQTT" pub -p "$PORT" -t bench/pub -q "$1" -l <"$3"
		else
			measure mosquitto_pub -p "$PORT" -t bench/pub -q "$1" -l <"$3"
		fi
		echo "$CPU_S" >>"$T/cpu"; echo "$WALL_S" >>"$T/wall"
	done
	CPU_S=$(median <"$T/cpu"); WALL_S=$(median <"$T/wall")
}
delivered() { # QOS TOOL FILE -> GOT: messages a QoS 1 subscriber received intact
	mosquitto_sub -p "$PORT" -t bench/count -q 1 >"$T/got" 2>/dev/null &
	SUB=$!
	sleep 0.5
	if [ "$2" = dmqtt ]; then
		"$DMQTT" pub -p "$PORT" -t bench/count -q "$1" -l <"$3"
	else
		mosquitto_pub -p "$PORT" -t bench/count -q "$1" -l <"$3"
	fi
	sleep 1
	stop "$SUB"; SUB=""
	GOT=$(sort -u "$T/got" | grep -cxFf "$3")
}
pub_rows() { # QOS FILE LINES WINDOW-NOTE
	pub_run "$1" dmqtt "$2"; dc=$CPU_S; dw=$WALL_S
	pub_run "$1" mosq "$2"; mc=$CPU_S; mw=$WALL_S
	delivered "$1" dmqtt "$2"; dgot=$GOT
	delivered "$1" mosq "$2"; mgot=$GOT
	# QoS 1 promises delivery: a lost message fails dmqtt's rows
	[ "$1" = 0 ] || [ "$dgot" = "$3" ] || { dw=-; dc=-; }
	per=$(awk -v dw="$dw" -v mw="$mw" -v d="$dgot" -v m="$mgot" 'BEGIN {
		if (dw + 0 > 0 && d > 0 && m > 0)
			printf "; wall per delivered message: dmqtt %.1f us, mosquitto_pub %.1f us", dw * 1e6 / d, mw * 1e6 / m }')
	note="delivered: dmqtt $dgot, mosquitto_pub $mgot of $3$per${4:+; $4}"
	if [ "$mgot" = "$3" ] || [ "$dw" = - ]; then
		record "pub -l $3 x 64 B QoS $1, wall" "$dw" "$mw" s "ratio<=1.0" "$note"
		record "pub -l $3 x 64 B QoS $1, CPU" "$dc" "$mc" s "ratio<=1.0" "median of $RUNS; $note"
		return
	fi
	# the reference did not do the whole job (mosquitto_pub -l at QoS 1
	# stops at the 16-bit packet id wrap): its totals are no reference for
	# the whole input, so they are shown, and the check is per message
	# each tool delivered
	record "pub -l $3 x 64 B QoS $1, wall" "$dw" "$mw" s "-" "totals, not comparable: $note"
	record "pub -l $3 x 64 B QoS $1, CPU" "$dc" "$mc" s "-" "totals, not comparable: median of $RUNS; $note"
	record "pub -l $3 x 64 B QoS $1, wall per delivered message" \
		"$(awk -v t="$dw" -v n="$dgot" 'BEGIN { printf "%.2f", t * 1e6 / n }')" \
		"$(awk -v t="$mw" -v n="$mgot" 'BEGIN { printf "%.2f", t * 1e6 / n }')" us "ratio<=1.0" \
		"wall / messages the subscriber received: dmqtt $dgot, mosquitto_pub $mgot"
	record "pub -l $3 x 64 B QoS $1, CPU per delivered message" \
		"$(awk -v t="$dc" -v n="$dgot" 'BEGIN { printf "%.2f", t * 1e6 / n }')" \
		"$(awk -v t="$mc" -v n="$mgot" 'BEGIN { printf "%.2f", t * 1e6 / n }')" us "ratio<=1.0" \
		"CPU / messages the subscriber received: dmqtt $dgot, mosquitto_pub $mgot"
}
win="in-flight window: dmqtt 4096 messages sharing a 512 KiB store (20 at QoS 2), mosquitto_pub 20 (its default; the rest of stdin waits in its memory)"
pub_rows 0 "$T/lines" "$N" ""
pub_rows 1 "$T/lines" "$N" "$win; mosquitto_pub -l stops after the PUBACK whose 16-bit id equals the last line's"
pub_rows 1 "$T/lines1" "$N1" "$win; below the id wrap: both deliver all"

sub_run() { # TOOL -> CPU_S, PEAK_KB, ANON_KB, FILE_KB of the subscriber
	if [ "$1" = dmqtt ]; then
		"$PEAK" "$DMQTT" sub -p "$PORT" -t bench/sub -C "$N" >/dev/null 2>"$T/peak" &
	else
		"$PEAK" mosquitto_sub -p "$PORT" -t bench/sub -C "$N" >/dev/null 2>"$T/peak" &
	fi
	sp=$!
	sleep 0.5
	mosquitto_pub -p "$PORT" -t bench/sub -l <"$T/lines"
	wait $sp
	CPU_S=$(sed -n 's/.*cpu_s=\([0-9.]*\).*/\1/p' "$T/peak")
	PEAK_KB=$(sed -n 's/.*peak_kb=\([0-9]*\).*/\1/p' "$T/peak")
	ANON_KB=$(sed -n 's/.*anon_kb=\([0-9]*\).*/\1/p' "$T/peak")
	FILE_KB=$(sed -n 's/.*file_kb=\([0-9]*\).*/\1/p' "$T/peak")
}
: >"$T/dcpu"; : >"$T/mcpu"; : >"$T/drss"; : >"$T/mrss"
for r in $(seq "$RUNS"); do
	sub_run dmqtt; echo "$CPU_S" >>"$T/dcpu"; echo "$PEAK_KB" >>"$T/drss"
	split="at exit RssAnon $ANON_KB KiB, RssFile $FILE_KB KiB"
	sub_run mosq; echo "$CPU_S" >>"$T/mcpu"; echo "$PEAK_KB" >>"$T/mrss"
done
record "sub -C $N, CPU" "$(median <"$T/dcpu")" "$(median <"$T/mcpu")" s "ratio<=1.0" \
	"median of $RUNS, user+sys (wait4); dmqtt waits 0.2 ms between reads inside a burst, so the broker's writes coalesce (see docs/mqtt.md)"
record "sub peak RSS (plain TCP)" "$(median <"$T/drss")" "$(median <"$T/mrss")" KiB "max=256" \
	"VmHWM of the process at exit (test/bench/mqtt_peak.c), median of $RUNS; dmqtt $split; reference: mosquitto_sub (dynamic)"
