#!/bin/sh
# make demo: the whole system on this machine, with emulated hubs.
#
#   cloud side   mosquitto with a TLS listener (for the mesh's bridge) and a
#                plain loopback listener (for cloud applications)
#   MEN          an emulated VeeaHub (D-Bus services + DNS) running
#                `dmqtt broker`, which writes, starts and supervises the mesh
#                mosquitto bridged to the cloud over TLS
#   three hubs   emulated VeeaHubs running `dmqtt node`, each reading its
#                serial from its own D-Bus and finding the broker by DNS SRV
#   then         `dmqtt cloud list` and `dmqtt cloud rcmd` from the cloud side
#
# Everything listens on free loopback ports and is removed at the end.
# STAY=1 keeps it running with the web console until Ctrl-C.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
. "$ROOT/test/ports.lib"
DMQTT=${DMQTT:-$ROOT/build/x86_64/dmqtt}
EMU=$ROOT/test/emu/veeahub
D=$(mktemp -d /tmp/dmqtt-demo.XXXXXX)
chmod 755 "$D" # mosquitto drops to its own user before reading its files
PIDS=""
HUBS=""
step=0

say() { step=$((step + 1)); printf '\n%d. %s\n' "$step" "$*"; }
die() {
	echo "demo: FAILED: $*" >&2
	for f in "$D"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -5 "$f" >&2; }; done
	exit 1
}
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.5
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	for h in $HUBS; do "$EMU" stop --dir "$h" >/dev/null 2>&1; done
	rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$DMQTT" ] || die "$DMQTT is missing: run make"
SERIALS="C25DTADSR00000001134 C25DTADSR00000001135 C25DTADSR00000001136"
MEN_SERIAL=C25DTADSR00000000042
UUID=$(cat /proc/sys/kernel/random/uuid)

say "Making a demo PKI with openssl (a CA and the cloud broker's certificate for 'localhost')"
sh deploy/cloud/make-pki.sh "$D/pki" >"$D/pki.log" 2>&1 || die "PKI"
echo "   CA: $D/pki/ca.pem"

say "Starting the cloud broker: TLS listener for the bridge, plain listener for cloud apps"
TLS_PORT=$(free_port); APP_PORT=$(free_port)
cat >"$D/cloud.conf" <<CONF
per_listener_settings true
user root
listener $TLS_PORT 127.0.0.1
cafile $D/pki/ca.pem
certfile $D/pki/server.pem
keyfile $D/pki/server.key
tls_version tlsv1.2
allow_anonymous false
password_file $D/cloud.passwd
listener $APP_PORT 127.0.0.1
allow_anonymous true
CONF
mosquitto_passwd -b -c "$D/cloud.passwd" men-bridge bridge-secret 2>/dev/null
mosquitto -c "$D/cloud.conf" >"$D/cloud.log" 2>&1 &
PIDS="$PIDS $!"
wait_port "$TLS_PORT" && wait_port "$APP_PORT" || die "cloud mosquitto did not start"
echo "   bridge (TLS): localhost:$TLS_PORT   cloud apps (plain): 127.0.0.1:$APP_PORT"

say "Starting the MEN: an emulated VeeaHub (D-Bus Info and Networking, DNS) with serial $MEN_SERIAL"
"$EMU" start --dir "$D/men" --serial $MEN_SERIAL --node-type MEN --mesh-uuid "$UUID" \
	--mesh-ip 127.0.0.1 -q >/dev/null || die "emulated MEN"
HUBS="$HUBS $D/men"
MESH_PORT=$(free_port)
cat >"$D/user-config.json" <<JSON
{
  "mqtt_cloud_broker_hostname": "localhost",
  "mqtt_cloud_broker_port": "$TLS_PORT",
  "mqtt_cloud_broker_username": "men-bridge",
  "mqtt_cloud_broker_password": "bridge-secret",
  "mqtt_cloud_broker_ca_cert_b64": "$(base64 -w0 "$D/pki/ca.pem")",
  "mqtt_mesh_broker_port": "$MESH_PORT",
  "telemetry_interval_s": "5"
}
JSON
echo "   user-config.json: $D/user-config.json (the file a real MEN gets)"
DMQTT_CONFIG=$D/user-config.json "$DMQTT" config check --role broker >"$D/check.log" 2>&1 || die "config check"
echo "   dmqtt config check: $(cat "$D/check.log")"

say "dmqtt broker on the MEN: derives the mesh credentials, writes mosquitto's files, registers DNS, runs mosquitto"
(set -a; . "$D/men/env"; exec "$DMQTT" broker --config "$D/user-config.json" --mosquitto-dir "$D/mosquitto" \
	--listen-address 127.0.0.1) >"$D/broker.log" 2>&1 &
PIDS="$PIDS $!"
wait_port "$MESH_PORT" || die "mesh broker did not start"
i=0; while [ $i -lt 50 ] && ! grep -q "registered DNS SRV" "$D/broker.log"; do sleep 0.1; i=$((i + 1)); done
grep -q "registered DNS SRV" "$D/broker.log" || die "SRV registration"
echo "   mesh broker on 127.0.0.1:$MESH_PORT, bridged to the cloud over TLS"
DNS=$(grep '^DMQTT_DNS_SERVER=' "$D/men/env" | cut -d= -f2)
echo "   SRV lookup with our resolver: $("$DMQTT" srv _dmqtt._tcp.service.veeamesh.local --server "$DNS")"

say "Starting three hubs, each running dmqtt node (serial from its own D-Bus, broker by DNS SRV)"
for sn in $SERIALS; do
	"$EMU" start --dir "$D/hub-$sn" --serial "$sn" --node-type MN --mesh-uuid "$UUID" --dns "$D/men" -q \
		>/dev/null || die "emulated hub $sn"
	HUBS="$HUBS $D/hub-$sn"
	(set -a; . "$D/hub-$sn/env"; exec "$DMQTT" node --config "$D/user-config.json") >"$D/node-$sn.log" 2>&1 &
	PIDS="$PIDS $!"
	echo "   hub $sn"
done

say "Waiting until the cloud sees all three online (retained status/<serial>, through the bridge)"
"$DMQTT" sub -h 127.0.0.1 -p "$APP_PORT" -t 'status/+' -v -C 3 -W 30 >"$D/status.out" 2>&1 ||
	die "nodes not online: $(cat "$D/status.out")"
sed 's/^/   /' "$D/status.out"

say "From the cloud side: dmqtt cloud list (req/all through the TLS bridge)"
"$DMQTT" cloud list --expect 3 --wait 15000 -h 127.0.0.1 -p "$APP_PORT" >"$D/list.out" 2>"$D/list.err" ||
	die "cloud list: $(cat "$D/list.err")"
sed 's/^/   /' "$D/list.out"
n=$(grep -c '^C25DTADSR' "$D/list.out")
[ "$n" -eq 3 ] || die "expected 3 nodes, saw $n"

set -- $SERIALS
say "dmqtt cloud rcmd $1 uptime (req/$1, answered on rsp/$1)"
out=$("$DMQTT" cloud rcmd "$1" uptime -h 127.0.0.1 -p "$APP_PORT" 2>&1) || die "rcmd: $out"
echo "   $out"

if [ "${STAY:-}" = 1 ]; then
	HTTP=$(free_port)
	"$DMQTT" cloud serve --http "127.0.0.1:$HTTP" -h 127.0.0.1 -p "$APP_PORT" >"$D/console.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_port "$HTTP" || die "console"
	say "Web console: http://127.0.0.1:$HTTP/  (Ctrl-C stops everything)"
	while :; do sleep 3600; done
fi

say "Stopping everything"
echo
echo "demo: ok"
