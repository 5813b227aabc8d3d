#!/bin/sh
# Service discovery (`dmqtt srv`) against real DNS servers and a hostile one:
#  1. dnsmasq: SRV + additional A, --json, NXDOMAIN, a target with no address
#  2. unbound (local-zone): the same answer, addresses by a separate A query
#  3. RFC 2782 order over 300 runs: priority strict, weight roughly followed
#     (the strict 10,000-draw statistics are in test/unit/dns_test.c)
#  4. TC=1 over UDP -> TCP; a silent first server (resolv.conf's 2 s, or its
#     share of --timeout); only silent servers (each asked in every round,
#     the --timeout deadline holds)
#  5. hostile answers (test/integration/dns_responder.py) under ASan+UBSan
#  6. hosts file before DNS; resolv.conf search + ndots
# Every server runs on a free loopback port and is stopped on exit.
. "$(dirname "$0")/lib.sh"
ASAN=${ASAN_DMQTT:-$ROOT/build/asan/dmqtt}
PY=/usr/bin/python3
RESP=$ROOT/test/integration/dns_responder.py
SRV=_dmqtt._tcp.service.veeamesh.local
HOST=dmqtt-broker-application.service.veeamesh.local
if [ ! -x "$DMQTT" ] || [ ! -x "$ASAN" ]; then
	(make -s bin && make -s TARGET=asan bin) >"$T_TMP/build.log" 2>&1 ||
		{ fail build "$(tail -5 "$T_TMP/build.log")"; finish; exit 1; }
fi

# hermetic: no /etc/resolv.conf search list, no /etc/hosts entries
: >"$T_TMP/resolv.empty"
: >"$T_TMP/hosts.empty"
DMQTT_RESOLV_CONF=$T_TMP/resolv.empty
DMQTT_HOSTS=$T_TMP/hosts.empty
export DMQTT_RESOLV_CONF DMQTT_HOSTS
unset DMQTT_DNS_SERVER

# a loopback port free for both UDP and TCP (small race accepted)
free_port2() {
	$PY -c '
import socket
while True:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
    p = u.getsockname()[1]
    t = socket.socket()
    try:
        t.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass'
}
# wait_dns PORT NAME TYPE [SECONDS]: until the server answers (any rcode)
wait_dns() {
	i=0
	while [ $i -lt $((${4:-5} * 10)) ]; do
		if dig +time=1 +tries=1 -p "$1" @127.0.0.1 "$3" "$2" 2>/dev/null | grep -q 'status:'; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
# responder NAME [ARGS...]: start dns_responder.py, its port in $RPORT,
# its query log in $T_TMP/NAME.log
responder() {
	n=$1
	shift
	$PY "$RESP" --port-file "$T_TMP/$n.port" --log "$T_TMP/$n.log" "$@" 2>>"$T_TMP/$n.stderr" &
	cleanup_add "kill $!"
	: >"$T_TMP/$n.log"
	i=0
	while [ ! -s "$T_TMP/$n.port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	RPORT=$(cat "$T_TMP/$n.port" 2>/dev/null)
	[ -n "$RPORT" ]
}
# lines of a file
nlines() { wc -l <"$1" | tr -d ' '; }

T_START=$(now_ms)

# ---------------------------------------------------------------- 1 dnsmasq
DP=$(free_port2)
dnsmasq -C /dev/null --keep-in-foreground --no-resolv --no-hosts --port="$DP" \
	--listen-address=127.0.0.1 --bind-interfaces --pid-file="$T_TMP/dnsmasq.pid" \
	--local=/service.veeamesh.local/ \
	--srv-host=$SRV,$HOST,1883 --host-record=$HOST,127.0.0.1 \
	--srv-host=_noaddr._tcp.service.veeamesh.local,nohost.service.veeamesh.local,1884 \
	--srv-host=_mix._tcp.service.veeamesh.local,a.service.veeamesh.local,1001,0,60 \
	--srv-host=_mix._tcp.service.veeamesh.local,b.service.veeamesh.local,1002,0,30 \
	--srv-host=_mix._tcp.service.veeamesh.local,c.service.veeamesh.local,1003,0,10 \
	--srv-host=_mix._tcp.service.veeamesh.local,d.service.veeamesh.local,1004,1,50 \
	--srv-host=_mix._tcp.service.veeamesh.local,e.service.veeamesh.local,1005,1,50 \
	--srv-host=_mix._tcp.service.veeamesh.local,f.service.veeamesh.local,1006,1,0 \
	--host-record=a.service.veeamesh.local,127.0.0.11 --host-record=b.service.veeamesh.local,127.0.0.12 \
	--host-record=c.service.veeamesh.local,127.0.0.13 --host-record=d.service.veeamesh.local,127.0.0.14 \
	--host-record=e.service.veeamesh.local,127.0.0.15 --host-record=f.service.veeamesh.local,127.0.0.16 \
	>"$T_TMP/dnsmasq.log" 2>&1 &
DNSMASQ=$!
cleanup_add "kill $DNSMASQ"
if wait_dns "$DP" $SRV SRV 5; then ok "dnsmasq answers on 127.0.0.1:$DP"; else
	fail dnsmasq "not answering: $(head -c 300 "$T_TMP/dnsmasq.log")"; finish; exit 1
fi
D=127.0.0.1:$DP

expect_rc "dnsmasq: srv finds the record" 0 "$DMQTT" srv $SRV --server $D
expect_grep "dnsmasq: PRIO WEIGHT PORT TARGET ADDR" "^0 0 1883 $HOST 127\\.0\\.0\\.1\$" "$T_OUT"
[ "$(nlines "$T_OUT")" = 1 ] && ok "dnsmasq: one line" || fail "dnsmasq: one line" "$(cat "$T_OUT")"

expect_rc "dnsmasq: --json" 0 "$DMQTT" srv $SRV --server $D --json
if $PY -c '
import json, sys
v = json.load(open(sys.argv[1]))
assert isinstance(v, list) and len(v) == 1, v
r = v[0]
assert (r["priority"], r["weight"], r["port"], r["target"], r["addresses"]) == \
    (0, 0, 1883, sys.argv[2], ["127.0.0.1"]), r
assert isinstance(r["ttl"], int)' "$T_OUT" $HOST 2>"$T_TMP/json.err"; then
	ok "dnsmasq: --json is valid JSON with priority/weight/port/target/addresses"
else fail "dnsmasq: --json content" "$(cat "$T_OUT") $(tail -1 "$T_TMP/json.err")"; fi

expect_rc "dnsmasq: NXDOMAIN -> exit 1" 1 "$DMQTT" srv _other._tcp.service.veeamesh.local --server $D
expect_grep "dnsmasq: NXDOMAIN message" "NXDOMAIN" "$T_ERR"
[ ! -s "$T_OUT" ] && ok "dnsmasq: NXDOMAIN prints nothing on stdout" || fail "NXDOMAIN stdout" "$(cat "$T_OUT")"

expect_rc "dnsmasq: target without an address record still exits 0" 0 \
	"$DMQTT" srv _noaddr._tcp.service.veeamesh.local --server $D
expect_grep "dnsmasq: (no address)" "^0 0 1884 nohost\\.service\\.veeamesh\\.local \\(no address\\)\$" "$T_OUT"

# ---------------------------------------------------------------- 2 unbound
UP=$(free_port2)
mkdir -p "$T_TMP/unbound"
cat >"$T_TMP/unbound/unbound.conf" <<EOF
server:
	interface: 127.0.0.1
	port: $UP
	do-daemonize: no
	username: ""
	chroot: ""
	directory: "$T_TMP/unbound"
	pidfile: "$T_TMP/unbound/pid"
	use-syslog: no
	do-ip6: no
	local-zone: "service.veeamesh.local." static
	local-data: "$SRV. 60 IN SRV 0 0 1883 $HOST."
	local-data: "$HOST. 60 IN A 127.0.0.1"
EOF
if unbound-checkconf "$T_TMP/unbound/unbound.conf" >"$T_TMP/unbound/check" 2>&1; then
	ok "unbound-checkconf accepts the test config"
else fail "unbound-checkconf" "$(cat "$T_TMP/unbound/check")"; fi
unbound -d -c "$T_TMP/unbound/unbound.conf" >"$T_TMP/unbound/log" 2>&1 &
UNBOUND=$!
cleanup_add "kill $UNBOUND"
if wait_dns "$UP" $SRV SRV 10; then
	ok "unbound answers on 127.0.0.1:$UP"
	U=127.0.0.1:$UP
	expect_rc "unbound: srv finds the record" 0 "$DMQTT" srv $SRV --server $U
	expect_grep "unbound: same line as dnsmasq (A via its own query)" "^0 0 1883 $HOST 127\\.0\\.0\\.1\$" "$T_OUT"
	expect_rc "unbound: --json" 0 "$DMQTT" srv $SRV --server $U --json
	expect_grep "unbound: --json has TTL 60 and the address" \
		"^\\[\\{\"priority\":0,\"weight\":0,\"port\":1883,\"target\":\"$HOST\",\"ttl\":60,\"addresses\":\\[\"127\\.0\\.0\\.1\"\\]\\}\\]\$" "$T_OUT"
	expect_rc "unbound: NXDOMAIN -> exit 1" 1 "$DMQTT" srv _other._tcp.service.veeamesh.local --server $U
	expect_grep "unbound: NXDOMAIN message" "NXDOMAIN" "$T_ERR"
else
	fail unbound "not answering: $(head -c 300 "$T_TMP/unbound/log")"
fi
kill $UNBOUND 2>/dev/null

# ---------------------------------------------------------------- 3 RFC 2782
# _mix: priority 0 a/b/c weights 60/30/10, priority 1 d/e/f weights 50/50/0
RUNS=300
i=0
while [ $i -lt $RUNS ]; do
	"$DMQTT" srv _mix._tcp.service.veeamesh.local --server $D 2>&1
	echo "-- $?"
	i=$((i + 1))
done >"$T_TMP/mix.out"
awk -v runs=$RUNS '
	/^-- / { if ($2 != 0) badrc++; if (n != 6) badn++; n = 0; maxp = -1; next }
	{ n++; p = $1 + 0; if (p < maxp) order++; if (p > maxp) maxp = p
	  if (n == 1) first[substr($4, 1, 1)]++
	  if (!(($1 == 0 && $4 ~ /^[abc]\./) || ($1 == 1 && $4 ~ /^[def]\./))) wrong++ }
	END { printf "badrc=%d badn=%d order=%d wrong=%d a=%d b=%d c=%d other=%d\n", badrc, badn, order, wrong,
	      first["a"], first["b"], first["c"], runs - first["a"] - first["b"] - first["c"] }
' "$T_TMP/mix.out" >"$T_TMP/mix.stats"
read -r S_RC S_N S_ORDER S_WRONG S_A S_B S_C S_OTHER <"$T_TMP/mix.stats"
STATS=$(cat "$T_TMP/mix.stats")
[ "$S_RC" = badrc=0 ] && [ "$S_N" = badn=0 ] && [ "$S_WRONG" = wrong=0 ] &&
	ok "RFC 2782: $RUNS runs, each exit 0 with all 6 records" || fail "RFC 2782 runs" "$STATS"
[ "$S_ORDER" = order=0 ] && [ "$S_OTHER" = other=0 ] &&
	ok "RFC 2782: priority 0 strictly before priority 1 in all $RUNS runs" || fail "RFC 2782 priority" "$STATS"
share_ok() { # NAME COUNT WEIGHT%: |100*COUNT/RUNS - WEIGHT| <= 10
	pct=$(($2 * 100 / RUNS))
	d=$((pct - $3))
	[ $d -lt 0 ] && d=$((-d))
	if [ $d -le 10 ]; then ok "RFC 2782: $1 first in $pct% of runs (weight $3%)"; else
		fail "RFC 2782 weight $1" "first in $pct% of runs, weight $3% ($STATS)"; fi
}
share_ok a "${S_A#a=}" 60
share_ok b "${S_B#b=}" 30
share_ok c "${S_C#c=}" 10
echo "     (loose bound only; the 10,000-selection statistics are in test/unit/dns_test.c)"

# ---------------------------------------------------------------- 4 TC, silent servers
responder main || { fail responder "did not start: $(cat "$T_TMP/main.stderr")"; finish; exit 1; }
R=127.0.0.1:$RPORT
expect_rc "TC=1 over UDP: srv succeeds" 0 "$DMQTT" srv _tc._tcp.h.test --server $R
expect_grep "TC=1: the full answer" "^0 0 1883 broker\\.h\\.test 127\\.0\\.0\\.1\$" "$T_OUT"
expect_grep "TC=1: the answer came over TCP (responder log)" "^tcp _tc\\._tcp\\.h\\.test 33 " "$T_TMP/main.log"

responder silent1 --silent && S1=127.0.0.1:$RPORT || fail "silent server" "did not start"
responder silent2 --silent && S2=127.0.0.1:$RPORT || fail "silent server" "did not start"
# queries a silent responder saw for $SRV
asked() { grep -c "^udp $SRV 33 " "$T_TMP/$1.log"; }
t0=$(now_ms)
expect_rc "--server SILENT,GOOD: exit 0" 0 "$DMQTT" srv $SRV --server $S1,$D
el=$(($(now_ms) - t0))
expect_grep "--server SILENT,GOOD: answer from the second server (${el} ms)" "^0 0 1883 $HOST 127\\.0\\.0\\.1\$" "$T_OUT"
[ "$(asked silent1)" -ge 1 ] && ok "--server SILENT,GOOD: the silent server was asked first" ||
	fail "silent first" "the silent server saw no query"
# no --timeout: resolv.conf's timeout (2 s) for the one try at the silent server
if [ $el -ge 1900 ] && [ $el -le 3500 ]; then ok "--server SILENT,GOOD: waited resolv.conf's 2 s per try, then moved on"; else
	fail "--server SILENT,GOOD: time" "$el ms (2000 expected)"; fi

# --timeout is the whole lookup's deadline: the tries share it, so every
# server is asked in every round (2 servers x 2 attempts: 375 ms a try)
: >"$T_TMP/silent1.log"
: >"$T_TMP/silent2.log"
t0=$(now_ms)
expect_rc "only silent servers, --timeout 1500: exit 69" 69 "$DMQTT" srv $SRV --server $S1,$S2 --timeout 1500
el=$(($(now_ms) - t0))
if [ $el -ge 1400 ] && [ $el -le 2000 ]; then ok "only silent servers: gave up after $el ms (the 1.5 s deadline holds)"; else
	fail "only silent servers: time" "$el ms (1500 wanted, <= 2000)"; fi
[ "$(nlines "$T_ERR")" = 1 ] && ok "only silent servers: one line on stderr" || fail "silent stderr" "$(cat "$T_ERR")"
expect_grep "only silent servers: says no answer in time" "^dmqtt srv: $SRV: no answer in time -- " "$T_ERR"
n1=$(asked silent1) n2=$(asked silent2)
if [ "$n1" = 2 ] && [ "$n2" = 2 ]; then ok "only silent servers: each server asked in both rounds (2 + 2 queries)"; else
	fail "only silent servers: queries per server" "first $n1, second $n2 (2 and 2 wanted)"; fi
if grep -q "$S1: no answer" "$T_ERR" && grep -q "$S2: no answer" "$T_ERR"; then
	ok "only silent servers: stderr names what each server did"
else
	fail "only silent servers, --timeout 1500: stderr names each server" "$(cat "$T_ERR")"
fi
: >"$T_TMP/silent1.log"
t0=$(now_ms)
"$DMQTT" srv $SRV --server $S1,$D --timeout 1500 >"$T_OUT" 2>"$T_ERR"
rc=$? el=$(($(now_ms) - t0))
if [ $rc -eq 0 ] && grep -q "^0 0 1883 $HOST 127\\.0\\.0\\.1\$" "$T_OUT"; then
	ok "--server SILENT,GOOD --timeout 1500: the good server answers"
else
	fail "--server SILENT,GOOD --timeout 1500: the good server answers" "exit $rc after $el ms: $(cat "$T_ERR")"
fi
[ "$(asked silent1)" = 1 ] && ok "--server SILENT,GOOD --timeout 1500: the silent server was asked once, first" ||
	fail "silent first, --timeout" "$(asked silent1) queries at the silent server"
if [ $el -ge 350 ] && [ $el -lt 1500 ]; then
	ok "--server SILENT,GOOD --timeout 1500: moved on after the silent server's share ($el ms, 375 expected)"
else
	fail "--server SILENT,GOOD --timeout 1500: time" "$el ms (375 expected, < 1500)"
fi

# ---------------------------------------------------------------- 5 hostile answers (ASan+UBSan)
# hostile MODE RC REASON [ARGS]: _MODE._tcp.h.test from the scripted responder
hostile() {
	m=$1 want=$2 why=$3
	shift 3
	ASAN_OPTIONS=exitcode=99:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		expect_rc "hostile $m: exit $want" "$want" "$ASAN" srv "_$m._tcp.h.test" --server $R "$@"
	if grep -qE "AddressSanitizer|LeakSanitizer|runtime error" "$T_ERR"; then
		fail "hostile $m: sanitizers clean" "$(head -c 600 "$T_ERR")"
	elif [ "$(nlines "$T_ERR")" != 1 ]; then
		fail "hostile $m: one line on stderr" "$(head -c 600 "$T_ERR")"
	elif ! grep -q "^dmqtt srv: _$m\\._tcp\\.h\\.test: $why" "$T_ERR"; then
		fail "hostile $m: says '$why'" "$(cat "$T_ERR")"
	else
		ok "hostile $m: sanitizers clean, one stderr line ($why)"
	fi
	[ ! -s "$T_OUT" ] || fail "hostile $m: nothing on stdout" "$(head -3 "$T_OUT")"
}
: >"$T_TMP/main.log"
hostile wrongid 69 "no answer in time" --timeout 1000
n=$(grep -c "^udp _wrongid" "$T_TMP/main.log")
[ "$n" -ge 1 ] && ok "hostile wrongid: $n answered queries, none accepted" || fail "wrongid" "responder saw no query"
hostile wrongq 69 "no answer in time" --timeout 1000
hostile ptrloop 69 "malformed answer"
hostile fwdptr 69 "malformed answer"
hostile longname 69 "malformed answer"
hostile rdlen 69 "malformed answer"
hostile a5 69 "malformed answer"
hostile empty 1 "no record of that type"
hostile servfail 69 "server failure (SERVFAIL)"
hostile refused 69 "query refused (REFUSED)"
# RFC 5452: each retry has a fresh ID and source port
grep "^udp _servfail" "$T_TMP/main.log" | awk '{print $4, $5}' >"$T_TMP/ids"
if [ "$(nlines "$T_TMP/ids")" -ge 2 ] && [ "$(cut -d' ' -f1 "$T_TMP/ids" | sort -u | wc -l)" -ge 2 ] &&
	[ "$(cut -d' ' -f2 "$T_TMP/ids" | sort -u | wc -l)" -ge 2 ]; then
	ok "retries use a fresh ID and source port ($(tr '\n' ' ' <"$T_TMP/ids"))"
else fail "fresh ID/port per try" "$(cat "$T_TMP/ids")"; fi
# 500 SRV records: keeps what fits (RESOLV_MAX_SRV), in priority order
ASAN_OPTIONS=exitcode=99:detect_leaks=1 expect_rc "hostile flood (500 SRV): exit 0" 0 \
	"$ASAN" srv _flood._tcp.h.test --server $R
if grep -qE "AddressSanitizer|LeakSanitizer|runtime error" "$T_ERR"; then
	fail "hostile flood: sanitizers clean" "$(head -c 600 "$T_ERR")"
else ok "hostile flood: sanitizers clean"; fi
n=$(nlines "$T_OUT")
if [ "$n" -ge 1 ] && [ "$n" -le 16 ] && awk 'NF < 5 || $1 < p { exit 1 } { p = $1 }' "$T_OUT"; then
	ok "hostile flood: $n records printed (<= 16), ascending priority, each with an address"
else fail "hostile flood output" "$n lines: $(head -c 400 "$T_OUT")"; fi

# ---------------------------------------------------------------- 6 hosts file, search + ndots
echo "10.9.9.9 $HOST" >"$T_TMP/hosts"
DMQTT_HOSTS=$T_TMP/hosts expect_rc "DMQTT_HOSTS: srv exit 0" 0 "$DMQTT" srv $SRV --server $D
expect_grep "DMQTT_HOSTS: hosts file before DNS (10.9.9.9, not 127.0.0.1)" "^0 0 1883 $HOST 10\\.9\\.9\\.9\$" "$T_OUT"
printf 'search service.veeamesh.local\noptions ndots:5\n' >"$T_TMP/resolv.conf"
DMQTT_RESOLV_CONF=$T_TMP/resolv.conf DMQTT_DNS_SERVER=$D \
	expect_rc "resolv.conf search+ndots:5: relative _dmqtt._tcp found" 0 "$DMQTT" srv _dmqtt._tcp
expect_grep "resolv.conf search: record of the search-list name" "^0 0 1883 $HOST 127\\.0\\.0\\.1\$" "$T_OUT"
DMQTT_DNS_SERVER=$D expect_rc "no search list: relative _dmqtt._tcp is not found" 69 "$DMQTT" srv _dmqtt._tcp

echo "     runtime $(($(now_ms) - T_START)) ms"
finish
