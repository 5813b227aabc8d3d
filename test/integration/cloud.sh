#!/bin/sh
# `dmqtt cloud list | rcmd | stats` end to end.  The system of mesh.sh (a
# cloud mosquitto, an emulated MEN running `dmqtt broker` bridged to it over
# TLS, three emulated hubs running `dmqtt node`), with the cloud mosquitto
# also listening in plain MQTT for cloud applications (same users).
# mosquitto_pub/mosquitto_sub on the cloud side are the independent peer.
. "$(dirname "$0")/lib.sh"
. "$ROOT/test/integration/peers.lib"
. "$ROOT/test/integration/mesh.lib"

# ---- the system (test/integration/mesh.lib)
{ mesh_cloud_up --app && mesh_men_up && mesh_broker_start && mesh_hubs_up; } || { finish; exit 1; }
sub_collect st "$APP_PORT" 'status/+' 3 -u cloudmen -P cloudpw -q 1
if sub_wait st 15; then ok "three nodes online at the cloud"; else fail status "$(cat "$T_TMP/st.out")"; fi
set -- $SERIALS

# ---- list
expect_rc "list --expect 3: every node answers" 0 "$DMQTT" cloud list --expect 3 --wait 10000 $AS
for sn in $SERIALS; do
	expect_grep "list shows $sn, type MN, uptime" "^$sn +MN +[0-9]+ +up [0-9]+ days?, " "$T_OUT"
done
expect_grep "list prints a header" "^SERIAL +TYPE +RTT_MS +DATA$" "$T_OUT"
t0=$(date +%s%N)
expect_rc "list --expect 3 returns early" 0 "$DMQTT" cloud list --expect 3 --wait 20000 $AS
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
if [ $ms -lt 5000 ]; then ok "list --expect 3 took ${ms} ms of a 20 s wait"; else fail "list early" "${ms} ms"; fi
expect_rc "list --json (options before the subcommand)" 0 "$DMQTT" cloud $AS --json list --expect 3 --wait 10000
if /usr/bin/python3 - "$T_OUT" $SERIALS <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert sorted(e["sn"] for e in d) == sorted(sys.argv[2:]), d
for e in d:
    assert e["type"] == "MN" and e["rc"] == 0 and e["data"].startswith("up "), e
    assert isinstance(e["rtt_ms"], int) and 0 <= e["rtt_ms"] < 10000, e
PY
then ok "list --json: three entries with type, rc, data, rtt"; else fail "list --json" "$(head -c 400 "$T_OUT")"; fi
# a broker without a mesh behind it
mosq_start empty || fail "empty broker" "did not start"
expect_rc "list on a broker without nodes: exit 1" 1 "$DMQTT" cloud list --wait 500 -h 127.0.0.1 -p "$empty_PORT"
expect_grep "list says nobody answered" "no node answered within 500 ms" "$T_ERR"

# ---- environment: DMQTT_CLOUD_*, flags beat it
expect_rc "DMQTT_CLOUD_HOST/PORT/USERNAME/PASSWORD" 0 env DMQTT_CLOUD_HOST=127.0.0.1 \
	DMQTT_CLOUD_PORT="$APP_PORT" DMQTT_CLOUD_USERNAME=cloudmen DMQTT_CLOUD_PASSWORD=cloudpw \
	"$DMQTT" cloud list --expect 3 --wait 10000
expect_rc "flags beat DMQTT_CLOUD_* (wrong port and password in env)" 0 env DMQTT_CLOUD_HOST=127.0.0.1 \
	DMQTT_CLOUD_PORT=1 DMQTT_CLOUD_USERNAME=cloudmen DMQTT_CLOUD_PASSWORD=wrong \
	"$DMQTT" cloud list --expect 3 --wait 10000 -p "$APP_PORT" -P cloudpw
expect_rc "wrong password: exit 77" 77 "$DMQTT" cloud list -h 127.0.0.1 -p "$APP_PORT" -u cloudmen -P nope
UNUSED=$(free_port)
expect_rc "nothing listening: exit 69" 69 "$DMQTT" cloud list -h 127.0.0.1 -p "$UNUSED"

# ---- over TLS, as the bridge does (the cloud broker's TLS listener)
expect_rc "list over TLS (--cafile)" 0 "$DMQTT" cloud list --expect 3 --wait 10000 $CS
expect_rc "TLS from DMQTT_CLOUD_CAFILE" 0 env DMQTT_CLOUD_CAFILE="$T_TMP/pki/ca.pem" \
	DMQTT_CLOUD_HOST=localhost DMQTT_CLOUD_PORT="$cloud_PORT" DMQTT_CLOUD_USERNAME=cloudmen \
	DMQTT_CLOUD_PASSWORD=cloudpw "$DMQTT" cloud rcmd "$1" ping
expect_grep "rcmd over TLS: pong" "^pong$" "$T_OUT"

# ---- rcmd
for sn in $SERIALS; do
	expect_rc "rcmd $sn uptime" 0 "$DMQTT" cloud rcmd "$sn" uptime $AS
	expect_grep "rcmd $sn prints the uptime" "^up [0-9]+ days?, [0-9:]+, load average" "$T_OUT"
done
expect_rc "rcmd serial (options after the positionals)" 0 "$DMQTT" cloud rcmd "$2" serial $AS
expect_grep "rcmd serial answers its own serial" "^$2$" "$T_OUT"
expect_rc "rcmd --json prints the reply object" 0 "$DMQTT" cloud rcmd --json "$3" nodetype $AS
expect_grep "rcmd --json: sn, cmd, data, rc, id" "^\{\"sn\":\"$3\",\"cmd\":\"nodetype\",\"data\":\"MN\",\"rc\":0,\"id\":\"[0-9a-f]{8}-[0-9]+\"\}$" "$T_OUT"
t0=$(date +%s%N)
expect_rc "rcmd to an unknown serial: exit 69" 69 "$DMQTT" cloud rcmd C25DTADSR00000009999 uptime --timeout 1500 $AS
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_grep "timeout names the serial" "no reply from C25DTADSR00000009999 within 1500 ms" "$T_ERR"
if [ $ms -ge 1400 ] && [ $ms -lt 4000 ]; then ok "rcmd timed out after ${ms} ms (--timeout 1500)"; else fail "rcmd timeout" "${ms} ms"; fi
expect_rc "a failing command: exit 1" 1 "$DMQTT" cloud rcmd "$1" no-such-command $AS
expect_grep "failing command: rc on stderr" "$1: 'no-such-command' failed with rc 127" "$T_ERR"
expect_grep "failing command: the node's message on stdout" "unknown command: no-such-command" "$T_OUT"

# ---- usage errors
expect_rc "no subcommand: 64" 64 "$DMQTT" cloud
expect_rc "unknown subcommand: 64" 64 "$DMQTT" cloud frobnicate
expect_rc "rcmd without COMMAND: 64" 64 "$DMQTT" cloud rcmd "$1"
expect_rc "rcmd with a wildcard serial: 64" 64 "$DMQTT" cloud rcmd 'C25+' uptime
expect_rc "--expect is not an rcmd option: 64" 64 "$DMQTT" cloud rcmd "$1" uptime --expect 2
expect_rc "--wait needs a number: 64" 64 "$DMQTT" cloud list --wait soon
expect_rc "cloud --help: 0" 0 "$DMQTT" cloud --help
expect_grep "help names the subcommands" "dmqtt cloud rcmd SERIAL COMMAND" "$T_OUT"

# ---- a cloud application's own request: replies seen by mosquitto_sub
sub_collect rsp "$APP_PORT" 'rsp/#' 3 -u cloudmen -P cloudpw -q 1
mosquitto_pub $AS -q 1 -t req/all -m '{"cmd":"hostname","id":"app-1"}'
if sub_wait rsp 10; then ok "mosquitto_pub req/all: three replies on rsp/#"; else fail "rsp/#" "$(cat "$T_TMP/rsp.out")"; fi
for sn in $SERIALS; do
	expect_grep "reply from $sn on rsp/all/$sn" "^rsp/all/$sn \{\"sn\":\"$sn\",\"cmd\":\"hostname\",.*\"rc\":0,\"id\":\"app-1\"\}$" "$T_TMP/rsp.out"
done

# ---- stats
expect_rc "stats --wait 3000" 0 "$DMQTT" cloud stats --wait 3000 $AS
expect_grep "stats: 3 nodes online" "^nodes: 3 \(3 online, 0 stale, 0 offline\)" "$T_OUT"
expect_grep "stats: message classes" "^messages: req [0-9]+, rsp [0-9]+, data [1-9][0-9]*, status [3-9]" "$T_OUT"
expect_grep "stats: the MEN's bridge is up" "^mesh $MEN_SERIAL: bridge up$" "$T_OUT"
for sn in $SERIALS; do
	expect_grep "stats: $sn with its interfaces" "^$sn +online +[A-Z-]+ +[0-9.]+ +[^ ]+ (Up|Down) [0-9.]+" "$T_OUT"
done
expect_rc "stats --json" 0 "$DMQTT" cloud stats --wait 2500 --json $AS
if /usr/bin/python3 - "$T_OUT" $SERIALS <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["counts"]["nodes"] == 3 and d["counts"]["online"] == 3, d["counts"]
assert sorted(n["sn"] for n in d["nodes"]) == sorted(sys.argv[2:])
assert all(n["state"] == "online" and n["ifaces"] for n in d["nodes"])
assert d["messages"]["data"] > 0 and d["meshes"][0]["bridge"] == "up"
PY
then ok "stats --json: counts, nodes, meshes"; else fail "stats --json" "$(head -c 400 "$T_OUT")"; fi
finish
