#!/bin/sh
# `dmqtt dbus call` and `dmqtt hub info` against real dbus-daemons:
#  1. the VeeaHub emulator: hub info, every Info binding, RegisterDnsSRV /
#     RegisterDnsHost seen by dig and `dmqtt srv`, Unregister;
#  2. our output equals `busctl call`'s, string for string, for a matrix of
#     return signatures, errors and arguments (python3-dbusmock service in
#     dbus_service.py); what the service received equals what busctl sends;
#  3. dbus-monitor shows the bus forwarded and answered every message we sent
#     (a client sending an invalid message is dropped: checked on a raw
#     client that does so on purpose);
#  4. failures, with the ASan build: the daemon killed mid-call, a method
#     that never answers, no daemon, fake buses, bad addresses.
. "$(dirname "$0")/lib.sh"
EMU=$ROOT/test/emu/veeahub
SVC=$ROOT/test/integration/dbus_service.py
PY=/usr/bin/python3
ASAN=${DMQTT_ASAN:-$ROOT/build/asan/dmqtt}
unset DMQTT_SERIAL DMQTT_MESH_UUID # they would override the bus in `hub info`
export PYTHONDONTWRITEBYTECODE=1   # the template is imported: no __pycache__
DST="org.dmqtt.Test /org/dmqtt/Test org.dmqtt.Test"
MOCK="org.dmqtt.Test /org/dmqtt/Test org.freedesktop.DBus.Mock"
DBUSD="org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus"

for b in "$DMQTT" "$ASAN"; do
	[ -x "$b" ] || { fail binary "$b missing (make -s bin && make -s TARGET=asan bin)"; finish; exit 1; }
done

# bus_start NAME [EXTRA_LISTEN]: a private dbus-daemon on $T_TMP/NAME.sock;
# its pid in $BUS_PID, address in $BUS_ADDR
bus_start() {
	cat >"$T_TMP/$1.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$T_TMP/$1.sock</listen>${2:+
  <listen>$2</listen>}
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
EOF
	dbus-daemon --config-file="$T_TMP/$1.conf" --nofork --nopidfile --nosyslog \
		>"$T_TMP/$1.daemon.log" 2>&1 &
	BUS_PID=$!
	cleanup_add "kill $BUS_PID"
	BUS_ADDR=unix:path=$T_TMP/$1.sock
	i=0
	until busctl --address="$BUS_ADDR" call $DBUSD GetId >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -lt 100 ] || return 1; sleep 0.05
	done
}
# mock_start ADDR NAME: the dbusmock template on that bus; pid in $MOCK_PID
mock_start() {
	DBUS_SESSION_BUS_ADDRESS=$1 $PY -m dbusmock --session -t "$SVC" >"$T_TMP/$2.mock.log" 2>&1 &
	MOCK_PID=$!
	cleanup_add "kill $MOCK_PID"
	i=0
	until [ "$(busctl --address="$1" call $DBUSD NameHasOwner s org.dmqtt.Test 2>/dev/null)" = "b true" ]; do
		i=$((i + 1)); [ $i -lt 200 ] || return 1; sleep 0.05
	done
}
# monitor ADDR LOG: dbus-monitor in the background, ready when it returns
monitor() {
	dbus-monitor --address "$1" >"$2" 2>&1 &
	cleanup_add "kill $!"
	i=0
	until grep -q 'member=NameLost' "$2" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 100 ] || return 1; sleep 0.05
	done
}
# mark ADDR NAME LOG: a marker call, seen by the monitor writing LOG
mark() {
	busctl --address="$1" call $DBUSD NameHasOwner s "$2" >/dev/null
	i=0
	until grep -q "string \"$2\"" "$3" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 100 ] || return 1; sleep 0.05
	done
}
# same NAME GOT WANT: exact equality of two outputs (ours first)
same() {
	if cmp -s "$2" "$3"; then ok "$1"; else fail "$1" "got: [$(head -c 300 "$2")] want: [$(head -c 300 "$3")]"; fi
}
# clean_asan NAME FILE: no sanitizer report
clean_asan() {
	if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$1"; then
		fail "asan: $2" "$(grep -m3 -E 'ERROR|SUMMARY|runtime error' "$1")"
	else ok "asan clean: $2"; fi
}

########################################################################
# 1. The VeeaHub emulator
SN=C25DTADSR00000007731
UUID=7e0a3b5c-9d1f-4e2a-8b6c-0d4f1a2e3b5c
HOST=dmqtt-broker-application.service.veeamesh.local
SRV=_dmqtt._tcp.service.veeamesh.local
"$EMU" start --dir "$T_TMP/hub" --serial $SN --node-type MN --mesh-uuid $UUID \
	--hostname hub-7731 --mesh-ip 127.0.0.9 -q >/dev/null ||
	{ fail emulator "did not start"; finish; exit 1; }
cleanup_add "'$EMU' stop --dir '$T_TMP/hub'"
HUB_BUS=$(sed -n 's/^DBUS_SYSTEM_BUS_ADDRESS=//p' "$T_TMP/hub/env")
HUB_DNS=$(sed -n 's/^DMQTT_DNS_SERVER=//p' "$T_TMP/hub/env")
DNS_PORT=${HUB_DNS##*:}
hub() { env DBUS_SYSTEM_BUS_ADDRESS="$HUB_BUS" DMQTT_DNS_SERVER="$HUB_DNS" "$@"; }
INFO="io.veea.VeeaHub.Info /io/veea/VeeaHub/Info io.veea.VeeaHub.Info"
NET="io.veea.VeeaHub.Networking /io/veea/VeeaHub/Networking io.veea.VeeaHub.Networking"
monitor "$HUB_BUS" "$T_TMP/hubmon.log" || fail "hub monitor" "dbus-monitor not ready"
mark "$HUB_BUS" mark.hub-begin "$T_TMP/hubmon.log"
HUB_CONNS=""

expect_rc "hub info: exit 0" 0 hub "$DMQTT" hub info
HUB_CONNS=$HUB_CONNS,5
printf 'serial: %s\nnode type: MN\nhostname: hub-7731\nmesh uuid: (hidden, 36 characters; --show-secrets shows it)\n' \
	$SN >"$T_TMP/want"
same "hub info: serial, node type, host name; the UUID hidden" "$T_OUT" "$T_TMP/want"
if grep -q "$UUID" "$T_OUT"; then fail "hub info hides the mesh UUID" "it is printed"; else ok "hub info: mesh UUID not printed"; fi
expect_rc "hub info --show-secrets: exit 0" 0 hub "$DMQTT" hub info --show-secrets
HUB_CONNS=$HUB_CONNS,5
expect_grep "hub info --show-secrets: the mesh UUID" "^mesh uuid: $UUID\$" "$T_OUT"

for mv in "VeeaSerial $SN" "NodeType MN" "Hostname hub-7731" "MeshUUID $UUID"; do
	m=${mv%% *} v=${mv#* }
	expect_rc "Info.$m via dbus call --system" 0 hub "$DMQTT" dbus call --system $INFO "$m"
	HUB_CONNS=$HUB_CONNS,2
	echo "s \"$v\"" >"$T_TMP/want"
	same "Info.$m returns the configured value" "$T_OUT" "$T_TMP/want"
done
expect_rc "Networking.GetMeshIPAddress (default bus address)" 0 hub "$DMQTT" dbus call $NET GetMeshIPAddress
HUB_CONNS=$HUB_CONNS,2
echo 's "127.0.0.9"' >"$T_TMP/want"
same "GetMeshIPAddress returns --mesh-ip" "$T_OUT" "$T_TMP/want"
# change NodeType at run time through dbusmock's control interface (an empty
# string argument), then hub info follows
expect_rc "Mock.AddMethod with an empty string argument" 0 hub "$DMQTT" dbus call \
	--address "$HUB_BUS" io.veea.VeeaHub.Info /io/veea/VeeaHub/Info org.freedesktop.DBus.Mock \
	AddMethod sssss "" NodeType "" s "ret = 'MEN'"
HUB_CONNS=$HUB_CONNS,2
hub "$DMQTT" hub info >"$T_TMP/out" 2>&1
HUB_CONNS=$HUB_CONNS,5
expect_grep "hub info follows a changed NodeType" "^node type: MEN$" "$T_TMP/out"

expect_rc "RegisterDnsSRV via dbus call" 0 hub "$DMQTT" dbus call $NET RegisterDnsSRV ssissss \
	shared:trusted $HOST 18830 service.veeamesh.local tcp dmqtt mesh
HUB_CONNS=$HUB_CONNS,2
cp "$T_OUT" "$T_TMP/reg_srv"
expect_grep "RegisterDnsSRV: status 0, token, fqdn and port" \
	"^isa\{sv\} 0 \"[0-9a-f-]{36}\" 5 \"fqdn\" s \"$SRV\" \"target\" s \"$HOST\" \"port\" i 18830 \"scope\" s \"mesh\" \"network\" s \"shared:trusted\"$" \
	"$T_TMP/reg_srv"
TOK_SRV=$(sed -n 's/^isa{sv} 0 "\([0-9a-f-]*\)".*/\1/p' "$T_TMP/reg_srv")
expect_rc "RegisterDnsHost via dbus call" 0 hub "$DMQTT" dbus call $NET RegisterDnsHost ssss \
	shared:trusted $HOST 127.0.0.9 mesh
HUB_CONNS=$HUB_CONNS,2
cp "$T_OUT" "$T_TMP/reg_host"
expect_grep "RegisterDnsHost: status 0 and a token" \
	"^isa\{sv\} 0 \"[0-9a-f-]{36}\" 4 \"fqdn\" s \"$HOST\" \"ipAddr\" s \"127.0.0.9\"" "$T_TMP/reg_host"
TOK_HOST=$(sed -n 's/^isa{sv} 0 "\([0-9a-f-]*\)".*/\1/p' "$T_TMP/reg_host")
expect_rc "invalid scope: status 22 from the service" 0 hub "$DMQTT" dbus call $NET RegisterDnsSRV ssissss \
	shared:trusted $HOST 18830 service.veeamesh.local tcp dmqtt galaxy
HUB_CONNS=$HUB_CONNS,2
expect_grep "invalid scope: status 22, empty token, error text" '^isa\{sv\} 22 "" 1 "error" s "scope must be' "$T_OUT"
mark "$HUB_BUS" mark.hub-end "$T_TMP/hubmon.log"

"$EMU" calls --dir "$T_TMP/hub" --service networking --method RegisterDnsSRV >"$T_TMP/calls"
expect_grep "the service received the SRV arguments exactly" \
	"RegisterDnsSRV \[\"shared:trusted\", \"$HOST\", 18830, \"service.veeamesh.local\", \"tcp\", \"dmqtt\", \"mesh\"\]" "$T_TMP/calls"
dig +norec +time=2 +tries=1 @127.0.0.1 -p "$DNS_PORT" SRV $SRV >"$T_TMP/dig" 2>&1
expect_grep "dig: the SRV record" "^$SRV\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+SRV[[:space:]]+0 0 18830 $HOST\.$" "$T_TMP/dig"
expect_grep "dig: the target's A record in the additional section" "^$HOST\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+A[[:space:]]+127\.0\.0\.9$" "$T_TMP/dig"
expect_rc "dmqtt srv finds it" 0 hub "$DMQTT" srv $SRV
echo "0 0 18830 $HOST 127.0.0.9" >"$T_TMP/want"
same "dmqtt srv: the registered record" "$T_OUT" "$T_TMP/want"

expect_rc "Unregister(SRV token)" 0 hub "$DMQTT" dbus call $NET Unregister s "$TOK_SRV"
echo 'i 0' >"$T_TMP/want"; same "Unregister: status 0" "$T_OUT" "$T_TMP/want"
expect_rc "Unregister(SRV token) again" 0 hub "$DMQTT" dbus call $NET Unregister s "$TOK_SRV"
echo 'i 2' >"$T_TMP/want"; same "Unregister again: status 2" "$T_OUT" "$T_TMP/want"
dig +norec +time=2 +tries=1 @127.0.0.1 -p "$DNS_PORT" SRV $SRV >"$T_TMP/dig" 2>&1
expect_grep "dig: the SRV record is gone" "status: NXDOMAIN|ANSWER: 0," "$T_TMP/dig"
expect_rc "dmqtt srv: no such service after Unregister (exit 1)" 1 hub "$DMQTT" srv $SRV
expect_rc "Unregister(host token)" 0 hub "$DMQTT" dbus call $NET Unregister s "$TOK_HOST"
echo 'i 0' >"$T_TMP/want"; same "Unregister host: status 0" "$T_OUT" "$T_TMP/want"
dig +norec +time=2 +tries=1 @127.0.0.1 -p "$DNS_PORT" A $HOST >"$T_TMP/dig" 2>&1
expect_grep "dig: the A record is gone" "status: NXDOMAIN|ANSWER: 0," "$T_TMP/dig"

$PY "$SVC" monitor-check "$T_TMP/hubmon.log" mark.hub-begin mark.hub-end "$HUB_CONNS" >"$T_TMP/hubcheck"
expect_grep "hub bus: every message of every dmqtt connection forwarded and answered" "^RESULT ok" "$T_TMP/hubcheck"
grep -q "^RESULT ok" "$T_TMP/hubcheck" || sed 's/^/    /' "$T_TMP/hubcheck"

########################################################################
# 2. dmqtt dbus call vs busctl call on a bus of our own
mkdir -p "$T_TMP/m"
bus_start b1 "unix:abstract=$T_TMP/b1-abstract" || { fail "bus b1" "did not start"; finish; exit 1; }
B1=$BUS_ADDR
mock_start "$B1" b1 || { fail "dbusmock" "$(tail -5 "$T_TMP/b1.mock.log")"; finish; exit 1; }
monitor "$B1" "$T_TMP/b1mon.log" || fail "b1 monitor" "dbus-monitor not ready"

# every case: NAME METHOD [SIGNATURE ARGS...]; run by `ours` and `ref`
matrix() {
	r=$1
	$r s RetS; $r s_empty RetEmptyS; $r i RetI; $r as RetAs; $r as_empty RetEmptyAs
	$r asv_nested RetDict; $r asv_empty RetEmptyDict; $r struct_isasv RetIsaStruct
	$r isasv RetIsa; $r ay RetAy; $r ay_empty RetEmptyAy; $r ao RetAo; $r aii RetAii
	$r d RetD; $r doubles RetDs; $r bb RetB; $r empty RetEmpty; $r basic_all RetAll
	$r asasv RetNested; $r big_400k RetBig; $r utf8 RetUtf8
	$r err_mock Fail; $r err_mock2 FailOther; $r err_empty_message FailEmpty
	$r err_unknown_method NoSuchMethod
	$r args_ssissss Echo0 ssissss shared:trusted "a host" 1883 service.veeamesh.local tcp dmqtt mesh
	$r args_as Echo1 as 3 a b c
	$r args_asv Echo2 a{sv} 2 k1 s v1 k2 i 7
	$r args_negative Echo3 ixd -- -5 -9223372036854775808 -2.5e-3
	$r args_ints Echo4 nqiuxt -- -0x10 0xffff 0o17 0b101 -1 18446744073709551615
	$r args_basic Echo5 ybdsog 255 yes 1e300 'tab	and "q" \ x' /x/y_1 'a{sv}'
	$r args_struct Echo6 '(isa{sv})' 0 tok 1 k s v
	$r args_aii Echo7 'a(ii)' 2 1 2 3 4
	$r args_ay Echo8 ay 3 0 1 255
	$r args_ao Echo9 ao 2 / /a/b
	$r args_v Echo10 v as 2 x y
	$r args_aav Echo11 aav 2 1 i 5 0
}
MATRIX_N=37
ours() {
	n=$1; shift
	"$RUN" dbus call --address "$B1" $DST "$@" >"$T_TMP/m/$n.$TAG" 2>"$T_TMP/m/$n.$TAG.err"
	echo $? >"$T_TMP/m/$n.$TAG.rc"
}
ref() {
	n=$1; shift
	busctl --address="$B1" call $DST "$@" >"$T_TMP/m/$n.ref" 2>"$T_TMP/m/$n.ref.err"
	echo $? >"$T_TMP/m/$n.ref.rc"
}
calls_of() { # the mock's log of one method, timestamps dropped
	busctl --address="$B1" call $MOCK GetMethodCalls s "$1" 2>&1 |
		sed 's/^a(tav) 1 [0-9]* //'
}
ECHO_N=12

mark "$B1" mark.ours-begin "$T_TMP/b1mon.log"
RUN=$DMQTT TAG=ours; matrix ours
mark "$B1" mark.ours-end "$T_TMP/b1mon.log"
i=0; while [ $i -lt $ECHO_N ]; do calls_of Echo$i >"$T_TMP/m/calls$i.ours"; i=$((i + 1)); done
busctl --address="$B1" call $MOCK ClearCalls
mark "$B1" mark.ref-begin "$T_TMP/b1mon.log"
matrix ref
mark "$B1" mark.ref-end "$T_TMP/b1mon.log"
i=0; while [ $i -lt $ECHO_N ]; do calls_of Echo$i >"$T_TMP/m/calls$i.ref"; i=$((i + 1)); done
RUN=$ASAN TAG=asan; matrix ours

for f in "$T_TMP"/m/*.ref.rc; do
	n=$(basename "$f" .ref.rc)
	ro=$(cat "$T_TMP/m/$n.ours.rc") rr=$(cat "$f")
	case $n in
	err_*)
		if [ "$ro" = 1 ] && [ "$rr" = 1 ]; then ok "$n: exit 1 like busctl"; else fail "$n: exit" "ours $ro, busctl $rr"; fi
		# ours: "ERROR name: message" on stdout; busctl: "Call failed: message"
		head -1 "$T_TMP/m/$n.ours" | sed 's/^ERROR [A-Za-z0-9_.]*: //' >"$T_TMP/a"
		head -1 "$T_TMP/m/$n.ref.err" | sed 's/^Call failed: //' >"$T_TMP/b"
		same "$n: error message as busctl's" "$T_TMP/a" "$T_TMP/b"
		;;
	*)
		if [ "$ro" = 0 ] && [ "$rr" = 0 ]; then ok "$n: exit 0 like busctl"; else
			fail "$n: exit" "ours $ro ($(head -c 200 "$T_TMP/m/$n.ours.err")), busctl $rr ($(head -c 200 "$T_TMP/m/$n.ref.err"))"; fi
		same "$n: output equals busctl's" "$T_TMP/m/$n.ours" "$T_TMP/m/$n.ref"
		if [ -s "$T_TMP/m/$n.ours.err" ]; then fail "$n: stderr empty" "$(head -c 200 "$T_TMP/m/$n.ours.err")"; fi
		;;
	esac
	if cmp -s "$T_TMP/m/$n.asan" "$T_TMP/m/$n.ours" && [ "$(cat "$T_TMP/m/$n.asan.rc")" = "$ro" ]; then :; else
		fail "$n: the ASan build answers the same" "rc $(cat "$T_TMP/m/$n.asan.rc"): $(head -c 200 "$T_TMP/m/$n.asan.err")"; fi
done
cat "$T_TMP"/m/*.asan.err >"$T_TMP/asan_matrix.err"
clean_asan "$T_TMP/asan_matrix.err" "the whole matrix"
[ "$(ls "$T_TMP"/m/*.ref.rc | wc -l)" -eq $MATRIX_N ] && ok "all $MATRIX_N cases ran" || fail "matrix" "case count"

# error names: ours printed the mock's; busctl's call got the same (monitor)
expect_grep "error name: the mock's" '^ERROR org\.dmqtt\.Test\.Error\.Failed: it failed: "quoted" and more$' "$T_TMP/m/err_mock.ours"
expect_grep "error name: the mock's (2)" '^ERROR com\.example\.Weird_Name\.E2: second$' "$T_TMP/m/err_mock2.ours"
expect_grep "error name: unknown method" '^ERROR org\.freedesktop\.DBus\.Error\.UnknownMethod: ' "$T_TMP/m/err_unknown_method.ours"
$PY "$SVC" monitor-calls "$T_TMP/b1mon.log" mark.ours-begin mark.ours-end org.dmqtt.Test >"$T_TMP/calls.ours"
$PY "$SVC" monitor-calls "$T_TMP/b1mon.log" mark.ref-begin mark.ref-end org.dmqtt.Test >"$T_TMP/calls.ref"
expect_grep "busctl got error org.dmqtt.Test.Error.Failed too" '^Fail \|  \| error org\.dmqtt\.Test\.Error\.Failed$' "$T_TMP/calls.ref"
[ "$(wc -l <"$T_TMP/calls.ours")" -eq $MATRIX_N ] && ok "monitor: all $MATRIX_N calls of ours seen" ||
	fail "monitor: our calls" "$(wc -l <"$T_TMP/calls.ours") seen"
same "monitor: every message we sent (member, typed arguments) and its reply equal busctl's" \
	"$T_TMP/calls.ours" "$T_TMP/calls.ref"
i=0; while [ $i -lt $ECHO_N ]; do
	same "GetMethodCalls(Echo$i): the service received what busctl sends" "$T_TMP/m/calls$i.ours" "$T_TMP/m/calls$i.ref"
	i=$((i + 1))
done
echo '7 s "shared:trusted" s "a host" i 1883 s "service.veeamesh.local" s "tcp" s "dmqtt" s "mesh"' >"$T_TMP/want"
same "GetMethodCalls: ssissss exactly" "$T_TMP/m/calls0.ours" "$T_TMP/want"
echo '1 as 3 "a" "b" "c"' >"$T_TMP/want"
same "GetMethodCalls: as 3 a b c" "$T_TMP/m/calls1.ours" "$T_TMP/want"
echo '1 a{sv} 2 "k1" s "v1" "k2" i 7' >"$T_TMP/want"
same "GetMethodCalls: a{sv} 2 k1 s v1 k2 i 7" "$T_TMP/m/calls2.ours" "$T_TMP/want"
echo '3 i -5 x -9223372036854775808 d -0.0025' >"$T_TMP/want"
same "GetMethodCalls: negative numbers after --" "$T_TMP/m/calls3.ours" "$T_TMP/want"

# bad arguments: refused locally (64), like busctl refuses them; nothing sent
for a in "i 2147483648" "as 3 a b" "b maybe" "y 256" "u -- -1" "i 1 2" "ai 1 x"; do
	# shellcheck disable=SC2086
	"$DMQTT" dbus call --address "$B1" $DST Echo3 $a >"$T_TMP/out" 2>"$T_TMP/err"; ro=$?
	# shellcheck disable=SC2086
	busctl --address="$B1" call $DST Echo3 $a >/dev/null 2>&1; rr=$?
	if [ $ro -eq 64 ] && [ $rr -ne 0 ] && grep -q "argument" "$T_TMP/err"; then ok "bad argument '$a': exit 64, busctl refuses too"
	else fail "bad argument '$a'" "ours $ro ($(head -c 200 "$T_TMP/err")), busctl $rr"; fi
done

# the Info service absent, or answering the wrong type
expect_rc "hub info on a bus without Info: exit 69" 69 env DBUS_SYSTEM_BUS_ADDRESS="$B1" "$DMQTT" hub info
expect_grep "hub info without Info: each value unavailable" "^hostname: unavailable$" "$T_OUT"
expect_grep "hub info without Info: the bus's error" "ServiceUnknown: The name io\.veea\.VeeaHub\.Info was not provided" "$T_ERR"
busctl --address="$HUB_BUS" call io.veea.VeeaHub.Info /io/veea/VeeaHub/Info org.freedesktop.DBus.Mock \
	AddMethod sssss "" Hostname "" i "ret = 7"
expect_rc "hub info, Hostname answers an int: exit 69" 69 hub "$DMQTT" hub info
expect_grep "wrong type: the other values still printed" "^serial: $SN$" "$T_OUT"
expect_grep "wrong type: hostname unavailable" "^hostname: unavailable$" "$T_OUT"
expect_grep "wrong type: says what came back" "Hostname returned 'i', expected 's'" "$T_ERR"

# a reply over the CLI's 1 MiB reply buffer (busctl prints it): refused cleanly
expect_rc "2.7 MB reply: refused, exit 69" 69 "$ASAN" dbus call --address "$B1" $DST RetHuge
expect_grep "2.7 MB reply: clear message" "RetHuge: reply of [0-9]+ bytes is too large" "$T_ERR"
clean_asan "$T_ERR" "2.7 MB reply"

########################################################################
# Regressions of two bugs this test found (fixed in src/):
# (a) positionals were capped at 72 slots: arrays of more than ~66 elements
#     could not be passed (busctl takes any number);
# (b) a local marshalling error exited 64 only when its text said "argument"
#     or "signature": a bad name or path looked like an unreachable bus (69).
ARGS100=$(i=1; while [ $i -le 100 ]; do printf 'x%d ' $i; i=$((i + 1)); done)
# shellcheck disable=SC2086
busctl --address="$B1" call $DST Echo1 as 100 $ARGS100 >"$T_TMP/as100.ref" 2>&1
# shellcheck disable=SC2086
"$DMQTT" dbus call --address "$B1" $DST Echo1 as 100 $ARGS100 >"$T_TMP/as100.ours" 2>"$T_TMP/as100.err"
if cmp -s "$T_TMP/as100.ours" "$T_TMP/as100.ref"; then ok "as with 100 elements equals busctl's"
else fail "as with 100 elements (101 argument tokens)" "$(head -c 150 "$T_TMP/as100.err")"; fi
mark "$B1" mark.local-begin "$T_TMP/b1mon.log"
BADUTF8=$(printf '\377\376') WRONG_RC=""
for a in "org|/org/dmqtt/Test|org.dmqtt.Test|RetI|bad name" "org.dmqtt.Test|org/dmqtt|org.dmqtt.Test|RetI|bad object path" \
	"org.dmqtt.Test|/org/dmqtt/|org.dmqtt.Test|RetI|bad object path" "org.dmqtt.Test|/org/dmqtt/Test|nodot|RetI|bad name" \
	"org.dmqtt.Test|/org/dmqtt/Test|org.dmqtt.Test|a.b|bad name" \
	"org.dmqtt.Test|/org/dmqtt/Test|org.dmqtt.Test|Echo1 s $BADUTF8|bad UTF-8" \
	"org.dmqtt.Test|/org/dmqtt/Test|org.dmqtt.Test|Echo1 o /a//b|bad object path"; do
	d=$(echo "$a" | cut -d'|' -f1) p=$(echo "$a" | cut -d'|' -f2) i=$(echo "$a" | cut -d'|' -f3)
	m=$(echo "$a" | cut -d'|' -f4) want=$(echo "$a" | cut -d'|' -f5)
	shown=$(printf '%s' "$d $p $i $m" | tr -c '[:print:]' '?')
	# shellcheck disable=SC2086
	"$DMQTT" dbus call --address "$B1" "$d" "$p" "$i" $m >"$T_TMP/out" 2>"$T_TMP/err"; rc=$?
	if grep -q "$want" "$T_TMP/err"; then ok "refused locally, '$want': $shown"; else fail "local refusal '$want'" "$(cat "$T_TMP/err")"; fi
	[ $rc -eq 64 ] || WRONG_RC="$WRONG_RC [$shown: $want, exit $rc]"
done
if [ -z "$WRONG_RC" ]; then ok "invalid names, paths and strings: exit 64 (usage)"
else fail "invalid input must exit 64 (usage), not 69 (unavailable)" "$WRONG_RC"; fi
mark "$B1" mark.local-end "$T_TMP/b1mon.log"
$PY "$SVC" monitor-check "$T_TMP/b1mon.log" mark.local-begin mark.local-end "" >"$T_TMP/localcheck"
expect_grep "invalid input never reaches the bus (no connection said Hello)" "^RESULT ok: 0 connections" "$T_TMP/localcheck"

########################################################################
# 3. never disconnected: the bus forwarded and answered all our messages
$PY "$SVC" monitor-check "$T_TMP/b1mon.log" mark.ours-begin mark.ours-end \
	"$(i=0; while [ $i -lt $MATRIX_N ]; do printf '2,'; i=$((i + 1)); done)" >"$T_TMP/b1check"
expect_grep "b1: all $MATRIX_N connections of ours: Hello and call forwarded and answered" "^RESULT ok" "$T_TMP/b1check"
grep -q "^RESULT ok" "$T_TMP/b1check" || sed 's/^/    /' "$T_TMP/b1check"
# the method works: a raw client sending an invalid message is dropped, and
# the same check flags it
mark "$B1" mark.bad-begin "$T_TMP/b1mon.log"
$PY "$SVC" bad-client "$T_TMP/b1.sock" >"$T_TMP/bad" 2>&1
mark "$B1" mark.bad-end "$T_TMP/b1mon.log"
expect_grep "control: the bus disconnects a client sending an invalid message" "after invalid message: b''" "$T_TMP/bad"
$PY "$SVC" monitor-check "$T_TMP/b1mon.log" mark.bad-begin mark.bad-end 2 >"$T_TMP/badcheck"
expect_grep "control: monitor-check flags that client" "^RESULT BAD" "$T_TMP/badcheck"
# several calls on one connection, and other address forms (ASan build)
expect_rc "abstract socket address" 0 "$ASAN" dbus call --address "unix:abstract=$T_TMP/b1-abstract" $DST RetI
clean_asan "$T_ERR" "abstract address"
echo 'i -42' >"$T_TMP/want"; same "abstract socket: answer" "$T_OUT" "$T_TMP/want"
esc=$(echo "$T_TMP/b1.sock" | sed 's/b1\.sock$/%62%31.sock/')
expect_rc "%-escaped path, guid= key" 0 "$ASAN" dbus call --address "unix:path=$esc,guid=0123456789abcdef0123456789abcdef" $DST RetI
expect_rc "address list: first entry dead, second used" 0 "$ASAN" dbus call \
	--address "unix:path=$T_TMP/nothing.sock;unix:path=$T_TMP/b1.sock" $DST RetI
expect_rc "--session uses DBUS_SESSION_BUS_ADDRESS" 0 env DBUS_SESSION_BUS_ADDRESS="$B1" "$ASAN" dbus call --session $DST RetI
clean_asan "$T_ERR" "--session"

########################################################################
# 4. failures (ASan build)
expect_rc "bus daemon's own error: ServiceUnknown, exit 1" 1 "$ASAN" dbus call --address "$B1" org.nope / org.nope X
expect_grep "ServiceUnknown error printed" "^ERROR org\.freedesktop\.DBus\.Error\.ServiceUnknown: The name org\.nope was not provided" "$T_OUT"

t0=$(now_ms)
"$ASAN" dbus call --address "$B1" --timeout 1000 $DST Never >"$T_TMP/out" 2>"$T_TMP/err"; rc=$?
dt=$(($(now_ms) - t0))
if [ $rc -eq 69 ]; then ok "no answer, --timeout 1000: exit 69"; else fail "no answer: exit" "$rc $(cat "$T_TMP/err")"; fi
if [ $dt -ge 950 ] && [ $dt -le 1800 ]; then ok "no answer: gives up after ${dt} ms"; else fail "no answer: time" "${dt} ms"; fi
expect_grep "no answer: clear message" "Never: no reply in time" "$T_TMP/err"
clean_asan "$T_TMP/err" "timeout"

# a second bus and service, killed 0.5 s into a 5 s call
bus_start b2 || { fail "bus b2" "did not start"; finish; exit 1; }
B2=$BUS_ADDR B2_PID=$BUS_PID
mock_start "$B2" b2 || fail "dbusmock b2" "$(tail -5 "$T_TMP/b2.mock.log")"
"$ASAN" dbus call --address "$B2" --timeout 20000 $DST Slow >"$T_TMP/slow.out" 2>"$T_TMP/slow.err" &
CALL=$!
sleep 0.5
kill -KILL "$B2_PID"; tk=$(now_ms)
i=0; while kill -0 $CALL 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
dt=$(($(now_ms) - tk))
if kill -0 $CALL 2>/dev/null; then fail "daemon killed mid-call" "dmqtt still waits 5 s later"; kill $CALL; fi
wait $CALL; rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 137 ]; then ok "daemon killed mid-call: exit $rc"; else fail "daemon killed: exit" "$rc"; fi
if [ $dt -le 1200 ]; then ok "daemon killed mid-call: exits ${dt} ms after the kill"; else fail "daemon killed: time" "${dt} ms"; fi
expect_grep "daemon killed: clear message" "Slow: the bus closed the connection|Slow: bus connection lost" "$T_TMP/slow.err"
clean_asan "$T_TMP/slow.err" "daemon killed"

expect_rc "stale socket, no daemon: exit 69" 69 "$ASAN" dbus call --address "$B2" $DST RetI
expect_grep "stale socket: clear message" "cannot connect to the bus at $T_TMP/b2\.sock: Connection refused" "$T_ERR"
clean_asan "$T_ERR" "stale socket"
expect_rc "no socket at all: exit 69" 69 "$ASAN" dbus call --address "unix:path=$T_TMP/none.sock" $DST RetI
expect_grep "no socket: clear message" "cannot connect to the bus at $T_TMP/none\.sock: No such file or directory" "$T_ERR"
expect_rc "hub info, no bus: exit 69" 69 env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T_TMP/none.sock" "$ASAN" hub info
expect_grep "hub info, no bus: each value unavailable" "^serial: unavailable$" "$T_OUT"
clean_asan "$T_ERR" "hub info, no bus"

# fake buses: accept and never answer; close at once; refuse authentication
for mode in silent close reject garbage; do
	$PY "$SVC" silent-server "$T_TMP/$mode.sock" $mode >/dev/null 2>&1 &
	cleanup_add "kill $!"
done
for mode in silent close reject garbage; do
	i=0; while [ ! -S "$T_TMP/$mode.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
done
t0=$(now_ms)
expect_rc "a server that never answers SASL, --timeout 1000: exit 69" 69 "$ASAN" dbus call \
	--address "unix:path=$T_TMP/silent.sock" --timeout 1000 $DST RetI
dt=$(($(now_ms) - t0))
if [ $dt -ge 950 ] && [ $dt -le 1800 ]; then ok "silent server: gives up after ${dt} ms"; else fail "silent server: time" "${dt} ms"; fi
expect_grep "silent server: clear message" "no reply in time|no answer from the bus" "$T_ERR"
clean_asan "$T_ERR" "silent server"
expect_rc "a server that closes at once: exit 69" 69 "$ASAN" dbus call --address "unix:path=$T_TMP/close.sock" $DST RetI
expect_grep "closing server: clear message" "closed the connection|connection lost" "$T_ERR"
clean_asan "$T_ERR" "closing server"
expect_rc "SASL REJECTED: exit 69" 69 "$ASAN" dbus call --address "unix:path=$T_TMP/reject.sock" $DST RetI
expect_grep "SASL REJECTED: clear message" "authentication failed" "$T_ERR"
clean_asan "$T_ERR" "SASL rejected"
expect_rc "SASL garbage: exit 69" 69 "$ASAN" dbus call --address "unix:path=$T_TMP/garbage.sock" $DST RetI
expect_grep "SASL garbage: clear message" "authentication failed" "$T_ERR"
clean_asan "$T_ERR" "SASL garbage"

# bad address strings: a clear error, no crash, no connection attempt hangs
for a in "bogus|bus address 'bogus': unsupported transport" \
	"tcp:host=127.0.0.1,port=1|unsupported transport" "unix:foo=bar|no path= or abstract=" "unix:path=%zz|bad escape" "|empty bus address" \
	"unix:path=/$(printf '%0120d' 0)|too long" ";;|empty bus address"; do
	addr=${a%%|*} want=${a#*|}
	t0=$(now_ms)
	"$ASAN" dbus call --address "$addr" --timeout 3000 $DST RetI >"$T_TMP/out" 2>"$T_TMP/err"; rc=$?
	dt=$(($(now_ms) - t0))
	if [ $rc -eq 69 ] || [ $rc -eq 64 ]; then ok "bad address '$addr': exit $rc"; else fail "bad address '$addr'" "exit $rc"; fi
	if grep -q "$want" "$T_TMP/err" && [ $dt -lt 1000 ]; then ok "bad address '$addr': '$want'"; else
		fail "bad address '$addr': message" "${dt} ms: $(head -c 200 "$T_TMP/err")"; fi
	clean_asan "$T_TMP/err" "bad address '$addr'"
done

finish
