#!/bin/sh
# Many nodes at once: `dmqtt node --fleet N` simulates N hubs in one process
# (one MQTT session each, client id mesh-<serial>, serials
# C25DTADSR00000000001...).
#
#   A. mesh broker alone: a mosquitto with the mesh credentials (derived
#      from DMQTT_MESH_UUID, as the broker role writes them) and the
#      generated config's queue limits; 1,000 simulated nodes.  Time from
#      the broker delivering req/all to the 1,000th rsp/all/<serial> reply:
#      one mosquitto_sub subscribed to both (QoS 1, -F '%U' receive
#      timestamps), so neither process start-up is in the figure; median of
#      5.  And the fleet process's resident memory per simulated node.
#   B. discovery through the TLS bridge, as test/demo.sh builds it: cloud
#      mosquitto (TLS listener for the bridge, plain listener for cloud
#      apps), an emulated MEN (test/emu/veeahub) running `dmqtt broker`,
#      which writes and supervises the mesh mosquitto bridged to the cloud,
#      and the fleet on the mesh broker.  Wall time of
#      `dmqtt cloud list --expect 1000 --wait 10000` (two requests each
#      node answers, uptime and nodetype: 2,000 replies over the bridge),
#      median of 5; target 2,000 ms.
#   C. the same with 10,000 nodes (FLEET_BENCH_BIG=0 skips it), report only.
#
# The whole script is bounded by a watchdog (FLEET_BENCH_LIMIT, 280 s).
. "$(dirname "$0")/lib.sh"
N=${FLEET_BENCH_N:-1000}
BIG=${FLEET_BENCH_BIG:-10000}
RUNS=${FLEET_BENCH_RUNS:-5}
RUNS_BIG=${FLEET_BENCH_RUNS_BIG:-3}
LIMIT=${FLEET_BENCH_LIMIT:-280}
UUID=6f1d2c3e-8a4b-4c5d-9e6f-7a8b9c0d1e2f
MEN_SERIAL=C25DTADSR00000000777
PREFIX=C25DTADSR
EMU=$ROOT/test/emu/veeahub
T=$(mktemp -d /tmp/dmqtt-bench-fleet.XXXXXX)
chmod 755 "$T" # mosquitto may drop to its own user before reading files here
PIDS="" WATCHDOG=""
cleanup() {
	trap - EXIT INT TERM HUP
	[ -n "$WATCHDOG" ] && kill "$WATCHDOG" 2>/dev/null
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	[ -f "$T/men/hub.json" ] && "$EMU" stop --dir "$T/men" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
( sleep "$LIMIT"; echo "fleet.sh: over ${LIMIT} s, stopping" >&2; kill -TERM $$ ) &
WATCHDOG=$!
stop_pid() { # PID: TERM, wait up to 5 s, KILL
	kill "$1" 2>/dev/null
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	PIDS=$(echo "$PIDS" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' ')
}

[ -x "$DMQTT" ] || { echo "fleet.sh: $DMQTT missing (make -s bin)" >&2; exit 2; }
# a socket per simulated node, and as many at the brokers
# shellcheck disable=SC3045 # dash and bash have -n and -H
ulimit -n "$(ulimit -Hn)" 2>/dev/null
# shellcheck disable=SC3045
NOFILE=$(ulimit -n)
[ "$NOFILE" = unlimited ] || [ "$NOFILE" -gt $((BIG + 200)) ] || BIG=0

ms_since() { # EPOCHREALTIME-style start -> ms elapsed
	bash -c 'd=$(( ${EPOCHREALTIME/./} - ${1/./} )); printf "%d.%03d\n" $((d / 1000)) $((d % 1000))' _ "$1"
}
now_rt() { bash -c 'echo $EPOCHREALTIME'; }

# the mesh credentials every hub of this mesh derives
CRED=$(DMQTT_MESH_UUID=$UUID "$DMQTT" secret --show-secrets) || { echo "fleet.sh: dmqtt secret failed" >&2; exit 1; }
MU=$(echo "$CRED" | sed -n 's/^username: //p'); MP=$(echo "$CRED" | sed -n 's/^password: //p')

# start_fleet COUNT PORT: the fleet process, pid in FLEET
start_fleet() {
	DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/no-bus DMQTT_MESH_UUID=$UUID \
		"$DMQTT" node --fleet "$1" --serial-prefix "$PREFIX" --broker "127.0.0.1:$2" >"$T/fleet-$1.log" 2>&1 &
	FLEET=$!
	PIDS="$PIDS $FLEET"
}
# wait_online COUNT PORT SECONDS [mosquitto_sub auth...]: until COUNT
# retained status/<serial> say online; prints how many did
wait_online() {
	_c=$1 _p=$2 _s=$3
	shift 3
	_end=$(($(date +%s) + _s))
	while :; do
		_n=$(mosquitto_sub -h 127.0.0.1 -p "$_p" "$@" -t 'status/+' -v -C "$_c" -W 3 2>/dev/null | grep -c ' online$')
		[ "$_n" -ge "$_c" ] || [ "$(date +%s)" -ge "$_end" ] && break
		sleep 0.5
	done
	echo "$_n"
}

# ------------------------------------------------------------ A: mesh broker alone
mosquitto_passwd -b -c "$T/passwd" "$MU" "$MP" >/dev/null 2>&1 || { echo "fleet.sh: mosquitto_passwd failed" >&2; exit 1; }
for _ in 1 2 3; do
	MPORT=$(free_port)
	cat >"$T/mesh.conf" <<CONF
user root
persistence false
log_dest file $T/mesh.log
max_queued_messages 100000
max_inflight_messages 100
listener $MPORT 127.0.0.1
allow_anonymous false
password_file $T/passwd
CONF
	mosquitto -c "$T/mesh.conf" >"$T/mesh.err" 2>&1 &
	MESH=$!
	PIDS="$PIDS $MESH"
	wait_port "$MPORT" && break
	stop_pid "$MESH"; MESH=""
done
[ -n "$MESH" ] || { echo "fleet.sh: mesh mosquitto did not start" >&2; exit 1; }
AUTH="-u $MU -P $MP"
t0=$(now_rt)
start_fleet "$N" "$MPORT"
# shellcheck disable=SC2086
online=$(wait_online "$N" "$MPORT" 60 $AUTH)
echo "  $online of $N nodes online at the mesh broker after $(ms_since "$t0") ms"
if [ "$online" -lt "$N" ]; then
	record "req/all -> ${N}th reply, mesh broker" - - ms "-" "only $online of $N nodes came online"
else
	sleep 2 # let the connect burst and first telemetry settle
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$FLEET/status")
	: >"$T/a.ms"
	for r in $(seq "$RUNS"); do
		# a file per run, made empty before the subscriber starts: the
		# SUBACK check must not see an earlier run's
		out=$T/a.$r.out
		: >"$out"
		# shellcheck disable=SC2086
		mosquitto_sub -h 127.0.0.1 -p "$MPORT" $AUTH -q 1 -t req/all -t 'rsp/all/#' -C $((N + 1)) -W 30 \
			-F '%U %t' -d >"$out" 2>&1 &
		SUB=$!
		PIDS="$PIDS $SUB"
		i=0
		while ! grep -q '^Subscribed' "$out" && [ $i -lt 200 ]; do sleep 0.02; i=$((i + 1)); done
		# shellcheck disable=SC2086
		mosquitto_pub -h 127.0.0.1 -p "$MPORT" $AUTH -q 1 -t req/all -m "{\"cmd\":\"uptime\",\"id\":\"a$r\"}"
		wait "$SUB"
		PIDS=$(echo "$PIDS" | tr ' ' '\n' | grep -vx "$SUB" | tr '\n' ' ')
		grep -E '^[0-9]+\.[0-9]+ (req/all|rsp/all/)' "$out" | awk -v n="$N" '
			$2 == "req/all" && !t0 { t0 = $1 } $2 != "req/all" { k++; t = $1 }
			END { if (t0 && k == n) printf "%.1f\n", (t - t0) * 1000 }' >>"$T/a.ms"
		sleep 0.5
	done
	ok=$(wc -l <"$T/a.ms")
	a=$(median <"$T/a.ms")
	[ "$ok" -eq "$RUNS" ] || a=-
	record "req/all -> ${N}th reply, mesh broker" "$a" - ms "-" \
		"median of $RUNS ($ok complete); broker fan-out to last reply, one mosquitto_sub's receive stamps"
	record "fleet RSS per simulated node ($N nodes)" "$(awk -v r="$rss" -v n="$N" 'BEGIN { printf "%.1f", r / n }')" - KiB "-" \
		"VmRSS of the fleet process $rss KiB"
fi
stop_pid "$FLEET"
stop_pid "$MESH"

# ------------------------------------------------------------ B: through the TLS bridge
sh deploy/cloud/make-pki.sh "$T/pki" >"$T/pki.log" 2>&1 || { echo "fleet.sh: PKI failed" >&2; exit 1; }
mosquitto_passwd -b -c "$T/cloud.passwd" men-bridge bridge-secret >/dev/null 2>&1
for _ in 1 2 3; do
	TLS_PORT=$(free_port); APP_PORT=$(free_port)
	cat >"$T/cloud.conf" <<CONF
per_listener_settings true
user root
log_dest file $T/cloud.log
persistence false
max_queued_messages 200000
max_inflight_messages 1000
listener $TLS_PORT 127.0.0.1
cafile $T/pki/ca.pem
certfile $T/pki/server.pem
keyfile $T/pki/server.key
tls_version tlsv1.2
allow_anonymous false
password_file $T/cloud.passwd
listener $APP_PORT 127.0.0.1
allow_anonymous true
CONF
	mosquitto -c "$T/cloud.conf" >"$T/cloud.err" 2>&1 &
	CLOUD=$!
	PIDS="$PIDS $CLOUD"
	wait_port "$TLS_PORT" && wait_port "$APP_PORT" && break
	stop_pid "$CLOUD"; CLOUD=""
done
[ -n "$CLOUD" ] || { echo "fleet.sh: cloud mosquitto did not start" >&2; exit 1; }

"$EMU" start --dir "$T/men" --serial $MEN_SERIAL --node-type MEN --mesh-uuid $UUID \
	--mesh-ip 127.0.0.1 -q >"$T/emu.log" 2>&1 || { echo "fleet.sh: emulated MEN: $(cat "$T/emu.log")" >&2; exit 1; }
MESH_PORT=$(free_port)
cat >"$T/user-config.json" <<JSON
{
  "mqtt_cloud_broker_hostname": "localhost",
  "mqtt_cloud_broker_port": "$TLS_PORT",
  "mqtt_cloud_broker_username": "men-bridge",
  "mqtt_cloud_broker_password": "bridge-secret",
  "mqtt_cloud_broker_ca_cert_b64": "$(base64 -w0 "$T/pki/ca.pem")",
  "mqtt_mesh_broker_port": "$MESH_PORT"
}
JSON
(set -a; . "$T/men/env"; exec "$DMQTT" broker --config "$T/user-config.json" --mosquitto-dir "$T/mosq" \
	--listen-address 127.0.0.1) >"$T/broker.log" 2>&1 &
BROKER=$!
PIDS="$PIDS $BROKER"
wait_port "$MESH_PORT" || { echo "fleet.sh: mesh broker did not start: $(tail -5 "$T/broker.log")" >&2; exit 1; }
# the bridge is up when its notification says 1
mosquitto_sub -h 127.0.0.1 -p "$APP_PORT" -t "status/men/$MEN_SERIAL" -C 1 -W 20 >"$T/bridge.st" 2>&1
grep -q '^1$' "$T/bridge.st" || { echo "fleet.sh: bridge not connected: $(cat "$T/bridge.st"; tail -5 "$T/broker.log")" >&2; exit 1; }

# bridge_list COUNT RUNS WAIT_MS: fleet of COUNT on the mesh broker, RUNS
# `dmqtt cloud list` from the cloud side; sets L (median ms or -), LOK
# (complete runs), LNOTE
bridge_list() {
	t0=$(now_rt)
	start_fleet "$1" "$MESH_PORT"
	online=$(wait_online "$1" "$APP_PORT" $(($1 / 100 + 60)))
	up_ms=$(ms_since "$t0")
	echo "  $online of $1 nodes online at the cloud (through the bridge) after $up_ms ms"
	LNOTE="$online/$1 online at the cloud after $(printf '%.0f' "$up_ms") ms"
	: >"$T/b.ms"
	LOK=0 LGOT=0
	if [ "$online" -ge "$1" ]; then
		sleep 2
		for r in $(seq "$2"); do
			s=$(now_rt)
			"$DMQTT" cloud list --expect "$1" --wait "$3" -h 127.0.0.1 -p "$APP_PORT" >"$T/list.out" 2>"$T/list.err"
			rc=$?
			ms=$(ms_since "$s")
			got=$(grep -c "^$PREFIX" "$T/list.out")
			echo "  run $r: cloud list exit $rc, $got nodes, $ms ms"
			[ "$got" -gt "$LGOT" ] && LGOT=$got
			if [ "$got" -ge "$1" ]; then echo "$ms" >>"$T/b.ms"; LOK=$((LOK + 1)); fi
			sleep 1
		done
	fi
	L=$(median <"$T/b.ms")
	[ "$LOK" -eq "$2" ] || L=-
	stop_pid "$FLEET"
}

bridge_list "$N" "$RUNS" 10000
record "cloud list --expect $N through TLS bridge" "$L" - ms "max=2000" \
	"median of $RUNS ($LOK complete), wall time of the process (connect, 2 requests, $((N * 2)) replies); $LNOTE"

# ------------------------------------------------------------ C: 10,000 nodes
if [ "$BIG" -gt 0 ]; then
	bridge_list "$BIG" "$RUNS_BIG" 20000
	[ "$L" = - ] && [ -s "$T/b.ms" ] && L="$(median <"$T/b.ms")"
	if [ "$L" != - ]; then
		record "cloud list --expect $BIG through TLS bridge" "$L" - ms "-" \
			"median of $RUNS_BIG ($LOK complete); $LNOTE"
	else # not one complete run: say how far it got
		record "cloud list $BIG through TLS bridge: answered" "$LGOT" "$BIG" nodes "-" \
			"no run saw every node within 20 s; $LNOTE"
	fi
else
	echo "  10,000-node run skipped (open-file limit $NOFILE)"
fi
