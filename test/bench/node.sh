#!/bin/sh
# One real `dmqtt node` (the hub agent) on plain MQTT, connected to a mesh
# mosquitto on loopback with the mesh credentials it derives from the mesh
# UUID, telemetry at the default 10 s:
#   - resident memory (VmRSS) once it has run for 30 s, connected;
#   - idle wake-ups over the next 60 s: how many times the kernel scheduled
#     the process (third field of /proc/PID/schedstat, before and after);
#     voluntary context switches from /proc/PID/status beside it.
# A `mosquitto_sub` idling on the same broker is measured the same way, as a
# reference for what a connected MQTT client costs.
. "$(dirname "$0")/lib.sh"
SETTLE=${NODE_BENCH_SETTLE:-30}
IDLE=${NODE_BENCH_IDLE:-60}
UUID=6f1d2c3e-8a4b-4c5d-9e6f-7a8b9c0d1e2f
SERIAL=C25DTADSR00000001134
T=$(mktemp -d /tmp/dmqtt-bench-node.XXXXXX)
BROKER="" NODE="" REF=""
cleanup() {
	for p in $NODE $REF $BROKER; do kill "$p" 2>/dev/null; done
	for p in $NODE $REF $BROKER; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

[ -x "$DMQTT" ] || { echo "node.sh: $DMQTT missing (make -s bin)" >&2; exit 2; }

# the mesh credentials every hub of this mesh derives
CRED=$(DMQTT_MESH_UUID=$UUID "$DMQTT" secret --show-secrets) || { echo "node.sh: dmqtt secret failed" >&2; exit 1; }
MU=$(echo "$CRED" | sed -n 's/^username: //p'); MP=$(echo "$CRED" | sed -n 's/^password: //p')
mosquitto_passwd -b -c "$T/passwd" "$MU" "$MP" >/dev/null 2>&1 || { echo "node.sh: mosquitto_passwd failed" >&2; exit 1; }
for _ in 1 2 3; do
	PORT=$(free_port)
	printf 'user root\npersistence false\nlog_dest file %s/m.log\nlistener %s 127.0.0.1\nallow_anonymous false\npassword_file %s/passwd\n' \
		"$T" "$PORT" "$T" >"$T/m.conf"
	mosquitto -c "$T/m.conf" >"$T/m.err" 2>&1 &
	BROKER=$!
	wait_port "$PORT" && break
	kill "$BROKER" 2>/dev/null; wait "$BROKER" 2>/dev/null; BROKER=""
done
[ -n "$BROKER" ] || { echo "node.sh: mosquitto did not start" >&2; exit 1; }

# the node: identity from the environment, no D-Bus (an address that is not there)
DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/no-bus DMQTT_SERIAL=$SERIAL DMQTT_MESH_UUID=$UUID DMQTT_NODE_TYPE=MN \
	"$DMQTT" node --broker "127.0.0.1:$PORT" >"$T/node.log" 2>&1 &
NODE=$!
mosquitto_sub -h 127.0.0.1 -p "$PORT" -u "$MU" -P "$MP" -t "status/$SERIAL" -C 1 -W 15 >"$T/status" 2>&1
grep -q '^online$' "$T/status" || { echo "node.sh: node not online: $(cat "$T/status"; tail -3 "$T/node.log")" >&2; exit 1; }
# the reference: a connected, idle mosquitto_sub
mosquitto_sub -h 127.0.0.1 -p "$PORT" -u "$MU" -P "$MP" -t "req/$SERIAL" >/dev/null 2>&1 &
REF=$!

sleep "$SETTLE"
kill -0 "$NODE" 2>/dev/null || { echo "node.sh: node exited: $(tail -5 "$T/node.log")" >&2; exit 1; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
slices() { awk '{ print $3 }' "/proc/$1/schedstat"; }
vcsw() { awk '/^voluntary_ctxt_switches:/ { print $2 }' "/proc/$1/status"; }
record "node steady-state RSS after ${SETTLE} s" "$(rss "$NODE")" "$(rss "$REF")" KiB "max=512" \
	"VmRSS, plain MQTT, connected; reference: idle mosquitto_sub; peak VmHWM $(awk '/^VmHWM:/ { print $2 }' "/proc/$NODE/status") KiB"

s0=$(slices "$NODE"); v0=$(vcsw "$NODE"); r0=$(slices "$REF")
sleep "$IDLE"
s1=$(slices "$NODE"); v1=$(vcsw "$NODE"); r1=$(slices "$REF")
kill -0 "$NODE" 2>/dev/null || { echo "node.sh: node exited: $(tail -5 "$T/node.log")" >&2; exit 1; }
record "node idle wake-ups per ${IDLE} s" "$((s1 - s0))" "$((r1 - r0))" count "max=70" \
	"schedstat run count; voluntary ctxt switches $((v1 - v0)); reference: idle mosquitto_sub; telemetry every 10 s"
