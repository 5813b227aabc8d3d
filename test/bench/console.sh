#!/bin/sh
# The web console's JSON API under load: `dmqtt cloud serve` knowing 1,000
# nodes (a `dmqtt node --fleet 1000` on the same mosquitto, so the console
# learns them from their retained status and telemetry), then
# `wrk -t2 -c16 -d10s http://127.0.0.1:PORT/api/nodes` (wrk sends
# Host: 127.0.0.1:PORT, the one the console accepts).  Requests/s and the
# body size, report only; a GET /api/stats rate beside it (the small
# answer: what the HTTP path itself costs).
. "$(dirname "$0")/lib.sh"
N=${CONSOLE_BENCH_N:-1000}
DUR=${CONSOLE_BENCH_SECONDS:-10}
UUID=6f1d2c3e-8a4b-4c5d-9e6f-7a8b9c0d1e2f
T=$(mktemp -d /tmp/dmqtt-bench-console.XXXXXX)
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

[ -x "$DMQTT" ] || { echo "console.sh: $DMQTT missing (make -s bin)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "console.sh: wrk is not installed (apt-get install wrk)" >&2; exit 2; }
# shellcheck disable=SC3045 # dash and bash have -n and -H
ulimit -n "$(ulimit -Hn)" 2>/dev/null

for _ in 1 2 3; do
	PORT=$(free_port)
	printf 'user root\npersistence false\nlog_dest file %s/m.log\nmax_queued_messages 100000\nmax_inflight_messages 100\nlistener %s 127.0.0.1\nallow_anonymous true\n' \
		"$T" "$PORT" >"$T/m.conf"
	mosquitto -c "$T/m.conf" >"$T/m.err" 2>&1 &
	BROKER=$!
	PIDS="$PIDS $BROKER"
	wait_port "$PORT" && break
	kill "$BROKER" 2>/dev/null; wait "$BROKER" 2>/dev/null; BROKER=""
done
[ -n "$BROKER" ] || { echo "console.sh: mosquitto did not start" >&2; exit 1; }

HPORT=$(free_port)
"$DMQTT" cloud serve --http "127.0.0.1:$HPORT" -h 127.0.0.1 -p "$PORT" >"$T/console.log" 2>&1 &
PIDS="$PIDS $!"
CONSOLE=$!
wait_port "$HPORT" || { echo "console.sh: console not listening: $(tail -3 "$T/console.log")" >&2; exit 1; }

DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/no-bus DMQTT_MESH_UUID=$UUID \
	"$DMQTT" node --fleet "$N" --serial-prefix C25DTADSR --broker "127.0.0.1:$PORT" >"$T/fleet.log" 2>&1 &
PIDS="$PIDS $!"

# until the console lists every node
URL=http://127.0.0.1:$HPORT
known=0
i=0
while [ $i -lt 60 ]; do
	known=$(curl -s "$URL/api/nodes" 2>/dev/null | grep -o '"sn":"C25DTADSR' | wc -l)
	[ "$known" -ge "$N" ] && break
	sleep 0.5; i=$((i + 1))
done
[ "$known" -ge "$N" ] || echo "console.sh: the console knows only $known of $N nodes" >&2
bytes=$(curl -s "$URL/api/nodes" | wc -c)
echo "  console knows $known nodes; /api/nodes is $bytes bytes"

# wrk_rps PATH -> requests/s (RPS), non-2xx count (BAD), transfer (XFER)
wrk_rps() {
	wrk -t2 -c16 -d"${DUR}s" "$URL$1" >"$T/wrk.out" 2>&1
	RPS=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$T/wrk.out")
	BAD=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$T/wrk.out")
	XFER=$(awk '/^Transfer\/sec:/ { print $2 }' "$T/wrk.out")
	LAT=$(awk '$1 == "Latency" { print $2 }' "$T/wrk.out")
	sed 's/^/  /' "$T/wrk.out"
}
wrk_rps /api/nodes
kill -0 "$CONSOLE" 2>/dev/null || { echo "console.sh: the console died under load: $(tail -3 "$T/console.log")" >&2; RPS=-; }
[ -z "${BAD:-}" ] || RPS=-
record "console GET /api/nodes ($known nodes)" "${RPS:--}" - req/s "-" \
	"wrk -t2 -c16 -d${DUR}s; body $bytes B, ${XFER:-?}/s, mean latency ${LAT:-?}; ${BAD:-0} non-2xx"
wrk_rps /api/stats
[ -z "${BAD:-}" ] || RPS=-
record "console GET /api/stats" "${RPS:--}" - req/s "-" \
	"wrk -t2 -c16 -d${DUR}s; mean latency ${LAT:-?}; ${BAD:-0} non-2xx"
