#!/bin/sh
# The mesh side end to end (issue: broker and node roles), on loopback with
# real peers: a cloud mosquitto with TLS, one emulated MEN (dbus-daemon +
# python-dbusmock + dnslib DNS) running `dmqtt broker` (which writes and
# supervises the mesh mosquitto bridged to the cloud over TLS), three
# emulated hubs running `dmqtt node` that find the broker by DNS SRV.
# mosquitto_pub/mosquitto_sub on the cloud side are the independent peer.
. "$(dirname "$0")/lib.sh"
. "$ROOT/test/integration/peers.lib"
. "$ROOT/test/integration/mesh.lib"

# the cloud (TLS), then the MEN: emulated hub services and dmqtt broker
{ mesh_cloud_up --persist && mesh_men_up; } || { finish; exit 1; }
start_broker() { mesh_broker_start; }
start_broker
if wait_port "$MESH_PORT" 10; then ok "dmqtt broker started mosquitto on the mesh port"; else
	fail "broker" "mesh port not listening; log: $(tail -5 "$T_TMP/broker.log")"; finish; exit 1; fi
for f in mosquitto.conf passwd acl cloud-ca.pem; do
	m=$(stat -c %a "$T_TMP/mosq/$f" 2>/dev/null)
	if [ "$m" = 600 ]; then ok "$f written with mode 0600"; else fail "$f mode" "$m"; fi
done
expect_grep "conf: listener on the mesh port" "^listener $MESH_PORT 127.0.0.1$" "$T_TMP/mosq/mosquitto.conf"
expect_grep "conf: anonymous refused" "^allow_anonymous false$" "$T_TMP/mosq/mosquitto.conf"
expect_grep "conf: bridge TLS 1.2, verified" "^bridge_insecure false$" "$T_TMP/mosq/mosquitto.conf"
expect_grep "conf: bridge notifications" "^notification_topic status/men/$MEN_SERIAL$" "$T_TMP/mosq/mosquitto.conf"
expect_grep "conf: least-privilege topics" "^topic req/# in 1$" "$T_TMP/mosq/mosquitto.conf"
expect_grep "passwd: mosquitto \$7\$ line" '^dmqtt-[0-9a-f]{16}:\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$' "$T_TMP/mosq/passwd"

# registration over D-Bus, exactly as DESIGN.md spells the calls
i=0; while [ $i -lt 50 ] && ! grep -q "registered DNS SRV" "$T_TMP/broker.log"; do sleep 0.1; i=$((i+1)); done
"$EMU" calls --dir "$T_TMP/men" --service networking >"$T_TMP/calls" 2>&1
expect_grep "RegisterDnsHost(shared:trusted, host, mesh IP, mesh)" \
	"RegisterDnsHost.*shared:trusted.*dmqtt-broker-application.service.veeamesh.local.*127.0.0.1.*mesh" "$T_TMP/calls"
expect_grep "RegisterDnsSRV(..., port, domain, tcp, dmqtt, mesh)" \
	"RegisterDnsSRV.*dmqtt-broker-application.service.veeamesh.local.*$MESH_PORT.*service.veeamesh.local.*tcp.*dmqtt.*mesh" "$T_TMP/calls"
DNS=$(grep '^DMQTT_DNS_SERVER=' "$T_TMP/men/env" | cut -d= -f2)
expect_rc "dmqtt srv finds the registered broker" 0 "$DMQTT" srv _dmqtt._tcp.service.veeamesh.local --server "$DNS"
expect_grep "SRV answer: port and address" "^0 0 $MESH_PORT dmqtt-broker-application.service.veeamesh.local 127.0.0.1$" "$T_TMP/out"

# mosquitto accepts the password file we wrote, and refuses a wrong password
CRED=$(DMQTT_MESH_UUID=$UUID "$DMQTT" secret --show-secrets)
MU=$(echo "$CRED" | sed -n 's/^username: //p'); MP=$(echo "$CRED" | sed -n 's/^password: //p')
expect_rc "mesh login with the derived password" 0 mosquitto_pub -h 127.0.0.1 -p "$MESH_PORT" -u "$MU" -P "$MP" -t data/probe -m x
expect_rc "mesh login with a wrong password is refused" 5 mosquitto_pub -h 127.0.0.1 -p "$MESH_PORT" -u "$MU" -P wrong -t data/probe -m x

# three hubs, sharing the MEN's DNS server
mesh_hubs_up || { finish; exit 1; }
# all three online (retained status, through the TLS bridge)
sub_collect st "$cloud_PORT" 'status/+' 3 $CS -q 1
if sub_wait st 15; then ok "three nodes online at the cloud (retained status over the bridge)"; else
	fail "status" "$(cat "$T_TMP/st.out")"; fi
for sn in $SERIALS; do expect_grep "status/$sn online" "^status/$sn online$" "$T_TMP/st.out"; done

# discovery: req/all from the cloud, three replies
sub_collect all "$cloud_PORT" 'rsp/all/+' 3 $CS -q 1
mosquitto_pub $CS -q 1 -t req/all -m '{"cmd":"uptime","id":"d1"}'
if sub_wait all 10; then ok "req/all answered by three nodes"; else fail "req/all" "$(cat "$T_TMP/all.out")"; fi
for sn in $SERIALS; do
	expect_grep "reply from $sn" "^rsp/all/$sn \{\"sn\":\"$sn\",\"cmd\":\"uptime\",\"data\":\"up .*\",\"rc\":0,\"id\":\"d1\"\}$" "$T_TMP/all.out"
done
# a targeted request, one reply
set -- $SERIALS
sub_collect one "$cloud_PORT" "rsp/$1" 1 $CS -q 1
mosquitto_pub $CS -q 1 -t "req/$1" -m '{"cmd":"serial","id":42}'
if sub_wait one 10; then ok "req/<sn> answered"; else fail "req/sn" "$(cat "$T_TMP/one.out")"; fi
expect_grep "targeted reply" "^rsp/$1 \{\"sn\":\"$1\",\"cmd\":\"serial\",\"data\":\"$1\",\"rc\":0,\"id\":42\}$" "$T_TMP/one.out"
# telemetry arrives at the cloud
sub_collect tel "$cloud_PORT" "data/$1/interface/+" 1 $CS
if sub_wait tel 10; then ok "telemetry reaches the cloud"; else fail telemetry "none"; fi
expect_grep "telemetry payload" '^data/.*/interface/[^ ]+ \{"interface_status":"(Up|Down)"\}$' "$T_TMP/tel.out"
# bad input: each answered, the node keeps serving
sub_collect bad "$cloud_PORT" "rsp/$2" 4 $CS -q 1
mosquitto_pub $CS -q 1 -t "req/$2" -m 'not json'
mosquitto_pub $CS -q 1 -t "req/$2" -m '{"id":1}'
mosquitto_pub $CS -q 1 -t "req/$2" -m '{"cmd":"rm -rf /"}'
head -c 5000 /dev/zero | tr '\0' x >"$T_TMP/big"; mosquitto_pub $CS -q 1 -t "req/$2" -f "$T_TMP/big"
if sub_wait bad 10; then ok "bad requests answered"; else fail "bad requests" "$(cat "$T_TMP/bad.out")"; fi
expect_grep "not JSON -> rc 2" '"cmd":"","data":"request is not valid JSON.*"rc":2' "$T_TMP/bad.out"
expect_grep "no cmd -> rc 2" 'no \\"cmd\\"","rc":2,"id":1' "$T_TMP/bad.out"
expect_grep "unknown command -> rc 127" '"cmd":"rm -rf /","data":"unknown command: rm -rf /","rc":127' "$T_TMP/bad.out"
expect_grep "oversized -> rc 2" 'request too large: 5000 bytes.*"rc":2' "$T_TMP/bad.out"
sub_collect alive "$cloud_PORT" "rsp/$2" 1 $CS -q 1
mosquitto_pub $CS -q 1 -t "req/$2" -m '{"cmd":"ping"}'
if sub_wait alive 10 && grep -q '"data":"pong"' "$T_TMP/alive.out"; then ok "node still serving after bad input"; else fail alive "no pong"; fi

# a hub of another mesh is refused, and says why
"$EMU" start --dir "$T_TMP/stranger" --serial C25DTADSR00000009999 --node-type MN \
	--mesh-uuid 11111111-2222-3333-4444-555555555555 --dns "$T_TMP/men" -q >/dev/null
cleanup_add "'$EMU' stop --dir '$T_TMP/stranger'"
env $(grep -v '^#' "$T_TMP/stranger/env") "$DMQTT" node >"$T_TMP/stranger.log" 2>&1 &
STRANGER=$!
cleanup_add "kill $STRANGER"
i=0; while [ $i -lt 50 ] && ! grep -q "refused our credentials" "$T_TMP/stranger.log"; do sleep 0.1; i=$((i+1)); done
expect_grep "other mesh: refused, and the log says why" "refused our credentials.*not authorised" "$T_TMP/stranger.log"
kill $STRANGER 2>/dev/null

# broker's mosquitto killed: the supervisor restarts it, nodes come back
MPID=$(pgrep -f "mosquitto -c $T_TMP/mosq/mosquitto.conf" | head -1)
# mosquitto persists sessions on its autosave interval: a crash loses
# subscriptions made since the last save, so let it save the nodes' first
saves=$(grep -c "Saving in-memory database" "$T_TMP/broker.log")
i=0; while [ $i -lt 100 ] && [ "$(grep -c "Saving in-memory database" "$T_TMP/broker.log")" -le "$saves" ]; do
	sleep 0.1; i=$((i + 1)); done
sub_collect down "$cloud_PORT" "rsp/all/+" 15 $CS -q 1 -c -i down-collector
kill -9 "$MPID" 2>/dev/null
t0=$(date +%s%N)
# requests published at the cloud while the mesh broker is down: the cloud
# queues them for the bridge's persistent session
for k in 1 2 3 4 5; do mosquitto_pub $CS -q 1 -t req/all -m "{\"cmd\":\"ping\",\"id\":\"down-$k\"}"; done
sub_collect back "$cloud_PORT" "rsp/all/+" 3 $CS -q 1
i=0; while [ $i -lt 100 ] && [ "$(grep -c "connected to the broker again" "$T_TMP"/node-C25*.log | awk -F: '{s+=$2} END {print s}')" -lt 3 ]; do sleep 0.1; i=$((i+1)); done
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
if [ $ms -le 5000 ]; then ok "all nodes back within 5 s after mosquitto was killed (${ms} ms)"; else fail "recovery" "${ms} ms"; fi
expect_grep "supervisor logged the restart" "mosquitto exited with status 137; restarting" "$T_TMP/broker.log"
mosquitto_pub $CS -q 1 -t req/all -m '{"cmd":"ping","id":"after"}'
if sub_wait back 15; then ok "req/all answered after the restart"; else fail "after restart" "$(cat "$T_TMP/back.out")"; fi
if sub_wait down 20; then ok "QoS 1 requests sent while the mesh broker was down: all answered"; else
	fail "requests while down" "$(wc -l <"$T_TMP/down.out") of 15 replies"; fi
for k in 1 2 3 4 5; do
	n=$(grep -c "\"id\":\"down-$k\"" "$T_TMP/down.out")
	if [ "$n" -eq 3 ]; then ok "request down-$k answered by all three"; else fail "down-$k" "$n replies"; fi
done

# SIGTERM on a node: retained offline status
kill -TERM "$(eval echo \$NODE_$3)"
sub_collect off "$cloud_PORT" "status/$3" 1 $CS
if sub_wait off 10 && grep -q "^status/$3 offline$" "$T_TMP/off.out"; then ok "SIGTERM: retained offline status"; else
	fail "offline" "$(cat "$T_TMP/off.out")"; fi

# broker shutdown: unregisters its records and exits with mosquitto's status
kill -TERM $BROKER_PID
wait $BROKER_PID
rc=$?
if [ $rc -eq 0 ]; then ok "broker exits 0 after SIGTERM"; else fail "broker exit" "rc $rc"; fi
expect_grep "records unregistered" "DNS records unregistered" "$T_TMP/broker.log"
"$EMU" calls --dir "$T_TMP/men" --service networking >"$T_TMP/calls2" 2>&1
expect_grep "Unregister called" "Unregister" "$T_TMP/calls2"

# bad configuration: exit 78, naming the keys, and no generated file touched
(cd "$T_TMP/mosq" && find . -type f -exec sha256sum {} + | sort >"$T_TMP/before.sum")
cat >"$T_TMP/bad-config.json" <<JSON
{ "mqtt_cloud_broker_hostname": "bad host name", "mqtt_cloud_broker_port": "99999",
  "mqtt_cloud_broker_ca_cert_b64": "not base64!", "mqtt_mesh_broker_port": [1883],
  "telemetry_interval_s": 0 }
JSON
(set -a; . "$T_TMP/men/env"; exec "$DMQTT" broker --config "$T_TMP/bad-config.json" \
	--mosquitto-dir "$T_TMP/mosq" --listen-address 127.0.0.1) >"$T_TMP/badbroker.log" 2>&1
rc=$?
if [ $rc -eq 78 ]; then ok "broker with an invalid config exits 78"; else fail "bad config exit" "rc $rc"; fi
for k in mqtt_cloud_broker_hostname mqtt_cloud_broker_port mqtt_cloud_broker_ca_cert_b64 \
	mqtt_mesh_broker_port telemetry_interval_s mqtt_cloud_broker_username mqtt_cloud_broker_password; do
	expect_grep "bad config: $k named" "$k" "$T_TMP/badbroker.log"
done
(cd "$T_TMP/mosq" && find . -type f -exec sha256sum {} + | sort >"$T_TMP/after.sum")
if cmp -s "$T_TMP/before.sum" "$T_TMP/after.sum"; then ok "bad config: no generated file written or changed"; else
	fail "bad config wrote files" "$(diff "$T_TMP/before.sum" "$T_TMP/after.sum" | head -3)"; fi

# a restart with the same configuration rewrites nothing (the password file
# keeps its salt while it verifies)
(set -a; . "$T_TMP/men/env"; exec "$DMQTT" broker --config "$T_TMP/user-config.json" --no-run \
	--mosquitto-dir "$T_TMP/mosq" --listen-address 127.0.0.1) >"$T_TMP/rerun.log" 2>&1
(cd "$T_TMP/mosq" && find . -type f -not -path './data/*' -exec sha256sum {} + | sort >"$T_TMP/rerun.sum")
grep -v ' ./data/' "$T_TMP/before.sum" >"$T_TMP/before-nodata.sum"
if cmp -s "$T_TMP/before-nodata.sum" "$T_TMP/rerun.sum"; then ok "same config again: files unchanged"; else
	fail "rewrite" "$(diff "$T_TMP/before-nodata.sum" "$T_TMP/rerun.sum" | head -3)"; fi
expect_grep "rerun says 0 written" "0 written, the rest unchanged" "$T_TMP/rerun.log"
finish
