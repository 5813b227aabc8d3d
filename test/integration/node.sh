#!/bin/sh
# dmqtt node on its own against a real mosquitto, with an emulated hub: the
# things a hub sees (broker not up yet, the SRV record moving to a new port,
# DNS down, the configuration), interface telemetry on change, and the
# allow-listed programs (exact match, no shell, 5 s timeout, 4 KiB cap).
. "$(dirname "$0")/lib.sh"
. "$ROOT/test/integration/peers.lib"
EMU=$ROOT/test/emu/veeahub
UUID=0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
SN=C25DTADSR00000004242
SRV=_dmqtt._tcp.service.veeamesh.local
HOST=dmqtt-broker-application.service.veeamesh.local

"$EMU" start --dir "$T_TMP/hub" --serial $SN --node-type MN --mesh-uuid $UUID -q >/dev/null ||
	{ fail emulator "did not start"; finish; exit 1; }
cleanup_add "'$EMU' stop --dir '$T_TMP/hub'"
CRED=$(DMQTT_MESH_UUID=$UUID "$DMQTT" secret --show-secrets)
MU=$(echo "$CRED" | sed -n 's/^username: //p'); MP=$(echo "$CRED" | sed -n 's/^password: //p')
mkdir -p "$T_TMP/pw"
mosquitto_passwd -b -c "$T_TMP/pw/passwd" "$MU" "$MP" 2>/dev/null
PORT=$(free_port)

# a fake /sys/class/net the test controls
NET=$T_TMP/net
mkdir -p "$NET/eth0" "$NET/wlan0" "$NET/lo"
echo up >"$NET/eth0/operstate"; echo down >"$NET/wlan0/operstate"; echo unknown >"$NET/lo/operstate"

# allow-listed programs: fixed argv, nothing from the request
cat >"$T_TMP/cfg.json" <<JSON
{
  "telemetry_interval_s": "30",
  "allowed_commands": {
    "greet": ["/bin/echo", "hello from", "the allow-list"],
    "slow": ["/bin/sleep", "10"],
    "flood": ["/usr/bin/head", "-c", "10000", "/dev/zero"],
    "fails": ["/bin/false"]
  }
}
JSON
dmqtt_node() {
	(set -a; . "$T_TMP/hub/env"; DMQTT_SYS_NET=$NET; exec "$DMQTT" node --config "$T_TMP/cfg.json" "$@") \
		>>"$T_TMP/node.log" 2>&1 &
	NODE=$!
}
# the node starts before the broker exists: no SRV record, nothing listening
dmqtt_node
cleanup_add "kill \$NODE"
sleep 1
if kill -0 $NODE 2>/dev/null; then ok "node keeps running with no broker and no SRV record"; else fail "no broker" "node exited"; fi
expect_grep "discovery failure logged" "broker discovery failed: SRV $SRV: no such name" "$T_TMP/node.log"

# the broker appears, and its SRV record
mosq_start mesh --port "$PORT" --extra "password_file $T_TMP/pw/passwd" --extra "allow_anonymous false"
"$EMU" dns-add --dir "$T_TMP/hub" a $HOST 127.0.0.1 >/dev/null
"$EMU" dns-add --dir "$T_TMP/hub" srv $SRV $HOST "$PORT" >/dev/null
S="-h 127.0.0.1 -p $PORT -u $MU -P $MP"
sub_collect on "$PORT" "status/$SN" 1 $S
if sub_wait on 40; then ok "node finds the broker once it and its SRV record appear"; else fail "late broker" "$(tail -3 "$T_TMP/node.log")"; fi
expect_grep "online" "status/$SN online" "$T_TMP/on.out"

# telemetry: every interface but lo, and at once on a change
sub_collect tel "$PORT" "data/$SN/interface/+" 1 $S
echo down >"$NET/eth0/operstate"
if sub_wait tel 5; then ok "telemetry published on a state change"; else fail "telemetry change" "none within 5 s"; fi
expect_grep "eth0 went Down" "^data/$SN/interface/eth0 \{\"interface_status\":\"Down\"\}$" "$T_TMP/tel.out"

# allow-listed programs
run_cmd() { # NAME CMD -> reply in $T_TMP/NAME.out
	sub_collect "$1" "$PORT" "rsp/$SN" 1 $S
	mosquitto_pub $S -q 1 -t "req/$SN" -m "{\"cmd\":\"$2\",\"id\":\"$1\"}"
	sub_wait "$1" 10
}
run_cmd greet greet
expect_grep "allow-listed program runs with its fixed argv" '"cmd":"greet","data":"hello from the allow-list","rc":0,"id":"greet"' "$T_TMP/greet.out"
run_cmd fails fails
expect_grep "a failing program's exit status is the rc" '"cmd":"fails","data":"","rc":1' "$T_TMP/fails.out"
run_cmd flood flood
n=$(sed 's/.*"data":"\(.*\)","rc".*/\1/' "$T_TMP/flood.out" | sed 's/\\u0000/x/g' | wc -c)
if [ "$n" -le 4097 ] && [ "$n" -ge 4000 ]; then ok "output capped at 4 KiB ($n)"; else fail "output cap" "$n bytes"; fi
t0=$(date +%s)
run_cmd slow slow
t1=$(date +%s)
expect_grep "a program over 5 s is killed: rc 124" '"cmd":"slow","data":"","rc":124' "$T_TMP/slow.out"
if [ $((t1 - t0)) -le 8 ]; then ok "timeout reply within the 5 s limit (+ slack)"; else fail "timeout" "$((t1 - t0)) s"; fi
run_cmd sh 'greet; ls'
expect_grep "no shell: a near-miss command is unknown" '"cmd":"greet; ls","data":"unknown command: greet; ls","rc":127' "$T_TMP/sh.out"
run_cmd bi hostname
expect_grep "built-in hostname" "\"cmd\":\"hostname\",\"data\":\"$(cat /proc/sys/kernel/hostname)\",\"rc\":0" "$T_TMP/bi.out"

# the SRV record moves to a new port (broker restarted elsewhere)
PORT2=$(free_port)
mosq_start mesh2 --port "$PORT2" --extra "password_file $T_TMP/pw/passwd" --extra "allow_anonymous false"
"$EMU" dns-add --dir "$T_TMP/hub" del $SRV >/dev/null
"$EMU" dns-add --dir "$T_TMP/hub" srv $SRV $HOST "$PORT2" >/dev/null
sub_collect moved "$PORT2" "status/$SN" 1 -h 127.0.0.1 -p "$PORT2" -u "$MU" -P "$MP"
mosq_stop mesh
if sub_wait moved 40; then ok "node follows the SRV record to the new port"; else fail "moved" "$(tail -3 "$T_TMP/node.log")"; fi

# DNS down, then the broker restarts: the cached answer is dropped on the
# failed connect, lookups fail, and the node keeps trying until DNS is back
DNSDIR=$(grep '^VEEAHUB_DNS_DIR=' "$T_TMP/hub/env" | cut -d= -f2)
mv "$DNSDIR/records.json" "$DNSDIR/records.off" 2>/dev/null
mosq_stop mesh2
sleep 2
if kill -0 $NODE 2>/dev/null; then ok "node survives DNS and broker both down"; else fail "dns down" "node exited"; fi
mv "$DNSDIR/records.off" "$DNSDIR/records.json"
mosq_start mesh2 --port "$PORT2" --extra "password_file $T_TMP/pw/passwd" --extra "allow_anonymous false"
sub_collect back "$PORT2" "status/$SN" 1 -h 127.0.0.1 -p "$PORT2" -u "$MU" -P "$MP"
if sub_wait back 45; then ok "node back after DNS and broker return"; else fail "back" "$(tail -3 "$T_TMP/node.log")"; fi

# SIGTERM: offline status, then a clean exit
kill -TERM $NODE
wait $NODE; rc=$?
if [ $rc -eq 0 ]; then ok "node exits 0 on SIGTERM"; else fail "sigterm exit" "$rc"; fi
sub_collect off "$PORT2" "status/$SN" 1 -h 127.0.0.1 -p "$PORT2" -u "$MU" -P "$MP"
sub_wait off 5
expect_grep "retained offline after SIGTERM" "status/$SN offline" "$T_TMP/off.out"

# configuration: missing file is fine, an invalid one exits 78
(set -a; . "$T_TMP/hub/env"; exec "$DMQTT" node --config "$T_TMP/none.json" --broker 127.0.0.1:1) \
	>"$T_TMP/nocfg.log" 2>&1 &
P=$!; sleep 1
if kill -0 $P 2>/dev/null; then ok "no config file: the node runs on defaults"; else fail "no config" "exited"; fi
kill $P; wait $P 2>/dev/null
echo '{"telemetry_interval_s": 0, "allowed_commands": {"ping": ["/bin/true"]}}' >"$T_TMP/bad.json"
(set -a; . "$T_TMP/hub/env"; exec "$DMQTT" node --config "$T_TMP/bad.json") >"$T_TMP/badcfg.log" 2>&1
rc=$?
if [ $rc -eq 78 ]; then ok "invalid config: exit 78"; else fail "invalid config" "rc $rc"; fi
expect_grep "the error names the key" "telemetry_interval_s" "$T_TMP/badcfg.log"
finish
