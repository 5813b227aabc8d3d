#!/bin/sh
# peers.lib's own test: every peer other tests rely on starts, answers as
# configured and goes away again.  mosquitto plain, with a password, over
# TLS (with and without client certificates), persistent across a graceful
# restart and a SIGKILL on the same port, frozen and thawed; aedes with and
# without credentials; the test PKI; and no process left behind.
. "$(dirname "$0")/lib.sh"
. "$ROOT/test/integration/peers.lib"

# check NAME CMD...: ok when CMD succeeds (output in $T_TMP/check.*)
check() {
	c_name=$1
	shift
	if "$@" >"$T_TMP/check.out" 2>"$T_TMP/check.err"; then ok "$c_name"; else
		fail "$c_name" "exit $?: $(head -c 300 "$T_TMP/check.err")"
	fi
}
# refused NAME PATTERN CMD...: CMD fails and says PATTERN
refused() {
	r_name=$1 r_pat=$2
	shift 2
	if "$@" >"$T_TMP/check.out" 2>"$T_TMP/check.err"; then
		fail "$r_name" "succeeded"
	elif grep -qE -- "$r_pat" "$T_TMP/check.out" "$T_TMP/check.err"; then
		ok "$r_name"
	else
		fail "$r_name" "no /$r_pat/ in: $(cat "$T_TMP/check.out" "$T_TMP/check.err" | head -c 300)"
	fi
}
pub() { timeout 10 mosquitto_pub -h 127.0.0.1 "$@"; }
# got NAME SUB LINE: the collector SUB received LINE
got() { expect_grep "$1" "^$3\$" "$T_TMP/$2.out"; }
PIDS=""

check "toolchain/deps-node.sh installs the node peers" sh toolchain/deps-node.sh
check "deps-node.sh again is a no-op" sh toolchain/deps-node.sh

# ---- plain mosquitto, --extra, freeze/thaw
if mosq_start plain --extra 'max_keepalive 300'; then
	ok "mosq_start plain"
else
	fail "mosq_start plain" "see above"
fi
PIDS="$PIDS $plain_PID"
expect_grep "plain: config carries --extra" '^max_keepalive 300$' "$plain_DIR/mosquitto.conf"
expect_grep "plain: listens on loopback only" "^listener $plain_PORT 127.0.0.1\$" "$plain_DIR/mosquitto.conf"
case $plain_PORT in 1883 | 8883) fail "plain: free port" "got well-known $plain_PORT" ;; *) ok "plain: free port $plain_PORT" ;; esac
check "sub_collect on plain" sub_collect s_plain "$plain_PORT" 't/#' 2
check "publish 1 to plain" pub -p "$plain_PORT" -t t/a -m 'hello world'
check "publish 2 to plain" pub -p "$plain_PORT" -t t/b -q 1 -m two
check "sub_wait plain" sub_wait s_plain 5
got "plain: first message collected" s_plain 't/a hello world'
got "plain: second message collected" s_plain 't/b two'
if [ "$(wc -l <"$T_TMP/s_plain.out")" -eq 2 ]; then ok "plain: .out holds only the messages"; else
	fail "plain: .out holds only the messages" "$(head -c 300 "$T_TMP/s_plain.out")"
fi
sub_collect s_never "$plain_PORT" never 1 >/dev/null 2>&1
if sub_wait s_never 1; then fail "sub_wait times out" "returned 0"; else ok "sub_wait times out with non-zero"; fi

mosq_freeze plain
expect_rc "frozen mosquitto does not answer" 124 timeout 1 mosquitto_pub -h 127.0.0.1 -p "$plain_PORT" -t f -m x
mosq_thaw plain
check "thawed mosquitto answers" pub -p "$plain_PORT" -t f -m x

if mosq_start bad --extra 'no_such_option 1' 2>"$T_TMP/bad.err"; then
	fail "mosq_start with a bad config fails" "returned 0"
else
	ok "mosq_start with a bad config fails"
fi
expect_grep "bad config: log shown" "no_such_option|Unknown configuration" "$T_TMP/bad.err"

# ---- password
if mosq_start auth --user alice --password 'pa ss:1'; then ok "mosq_start auth"; else fail "mosq_start auth" "see above"; fi
PIDS="$PIDS $auth_PID"
check "auth: right password accepted" pub -p "$auth_PORT" -t a -m x -u alice -P 'pa ss:1'
refused "auth: wrong password refused (mosquitto: CONNACK 5)" 'not authorised' pub -p "$auth_PORT" -t a -m x -u alice -P wrong
refused "auth: anonymous refused" 'not authorised' pub -p "$auth_PORT" -t a -m x

# ---- PKI and TLS
PKI=$T_TMP/pki
check "pki_make" pki_make "$PKI"
for f in ca.pem ca.key server.pem server.key client.pem client.key ca.b64; do
	[ -s "$PKI/$f" ] || fail "pki: $f" "missing or empty"
done
if base64 -d "$PKI/ca.b64" | cmp -s - "$PKI/ca.pem" && [ "$(wc -l <"$PKI/ca.b64")" -eq 0 ]; then
	ok "pki: ca.b64 is one line of ca.pem"
else
	fail "pki: ca.b64" "does not decode to ca.pem"
fi
check "pki: server cert verifies for localhost" openssl verify -CAfile "$PKI/ca.pem" -verify_hostname localhost "$PKI/server.pem"
check "pki: client cert verifies as a TLS client" openssl verify -CAfile "$PKI/ca.pem" -purpose sslclient "$PKI/client.pem"
openssl x509 -in "$PKI/server.pem" -noout -text >"$T_TMP/srv.txt" 2>&1
expect_grep "pki: server key is P-256" 'prime256v1|P-256' "$T_TMP/srv.txt"

if mosq_start tls --tls "$PKI/ca.pem" "$PKI/server.pem" "$PKI/server.key"; then ok "mosq_start tls"; else fail "mosq_start tls" "see above"; fi
PIDS="$PIDS $tls_PID"
check "tls: sub_collect by name localhost" sub_collect s_tls "$tls_PORT" tls/t 1 -h localhost --cafile "$PKI/ca.pem"
check "tls: publish with the CA" pub -h localhost -p "$tls_PORT" --cafile "$PKI/ca.pem" -t tls/t -m secure
check "tls: sub_wait" sub_wait s_tls 5
got "tls: message collected" s_tls 'tls/t secure'
refused "tls: 127.0.0.1 is not the certificate's name" 'rror|fail' pub -p "$tls_PORT" --cafile "$PKI/ca.pem" -t tls/t -m x
refused "tls: plain MQTT refused on the TLS port" 'rror|lost|refused' pub -p "$tls_PORT" -t tls/t -m x
check "tls: TLS 1.2 handshake (what BearSSL speaks)" \
	openssl s_client -connect "127.0.0.1:$tls_PORT" -tls1_2 -CAfile "$PKI/ca.pem" </dev/null
refused "tls: TLS 1.1 refused (tls_version tlsv1.2 is a minimum)" 'alert|rror' \
	openssl s_client -connect "127.0.0.1:$tls_PORT" -tls1_1 -CAfile "$PKI/ca.pem" </dev/null

if mosq_start mtls --tls "$PKI/ca.pem" "$PKI/server.pem" "$PKI/server.key" --require-cert; then
	ok "mosq_start mtls --require-cert"
else
	fail "mosq_start mtls" "see above"
fi
PIDS="$PIDS $mtls_PID"
check "mtls: client certificate accepted" pub -h localhost -p "$mtls_PORT" --cafile "$PKI/ca.pem" \
	--cert "$PKI/client.pem" --key "$PKI/client.key" -t m -m x
refused "mtls: no client certificate refused" 'rror|lost|fail' pub -h localhost -p "$mtls_PORT" --cafile "$PKI/ca.pem" -t m -m x

# ---- persistence: a queued QoS 1 message survives a restart and a SIGKILL
if mosq_start pers --persist; then ok "mosq_start pers --persist"; else fail "mosq_start pers" "see above"; fi
P0=$pers_PORT
check "pers: durable subscriber registers" timeout 10 mosquitto_sub -h 127.0.0.1 -p "$pers_PORT" -c -i durable -q 1 -t p/q -E
check "pers: queue m1" pub -p "$pers_PORT" -q 1 -t p/q -m m1
check "pers: mosq_restart" mosq_restart pers
if [ "$pers_PORT" = "$P0" ]; then ok "pers: same port after restart"; else fail "pers: same port" "$P0 -> $pers_PORT"; fi
check "pers: queue m2" pub -p "$pers_PORT" -q 1 -t p/q -m m2
check "pers: autosave written" mosq_wait_saved pers
mosq_kill pers
check "pers: restart after SIGKILL" mosq_restart pers
PIDS="$PIDS $pers_PID"
check "pers: durable subscriber reconnects" sub_collect s_pers "$pers_PORT" p/q 2 -c -i durable -q 1
check "pers: both queued messages delivered" sub_wait s_pers 5
got "pers: m1 (kept over SIGTERM restart)" s_pers 'p/q m1'
got "pers: m2 (kept over SIGKILL by autosave)" s_pers 'p/q m2'

# ---- aedes
if aedes_start ae; then ok "aedes_start ae"; else fail "aedes_start ae" "see above"; fi
PIDS="$PIDS $ae_PID"
check "aedes: sub_collect" sub_collect s_ae "$ae_PORT" 'x/+' 1
check "aedes: publish" pub -p "$ae_PORT" -t x/y -q 1 -m 'from aedes'
check "aedes: sub_wait" sub_wait s_ae 5
got "aedes: message collected" s_ae 'x/y from aedes'
check "aedes: durable subscriber registers" timeout 10 mosquitto_sub -h 127.0.0.1 -p "$ae_PORT" -c -i d2 -q 1 -t d -E
check "aedes: queue while offline" pub -p "$ae_PORT" -q 1 -t d -m offline
check "aedes: durable subscriber reconnects" sub_collect s_ae2 "$ae_PORT" d 1 -c -i d2 -q 1
check "aedes: in-memory session kept the message" sub_wait s_ae2 5
got "aedes: queued message delivered" s_ae2 'd offline'

if aedes_start aeauth --user bob --password 'pw!'; then ok "aedes_start aeauth"; else fail "aedes_start aeauth" "see above"; fi
PIDS="$PIDS $aeauth_PID"
check "aedes auth: right password accepted" pub -p "$aeauth_PORT" -t a -m x -u bob -P 'pw!'
refused "aedes auth: wrong password refused (CONNACK 4)" 'bad user name or password' pub -p "$aeauth_PORT" -t a -m x -u bob -P nope
refused "aedes auth: anonymous refused (CONNACK 5)" 'not authorised' pub -p "$aeauth_PORT" -t a -m x

# ---- everything goes away
for b in plain auth tls mtls pers; do
	check "mosq_stop $b" mosq_stop $b
done
check "aedes_stop ae exits 0" aedes_stop ae
check "aedes_stop aeauth exits 0" aedes_stop aeauth
left=""
for p in $PIDS; do
	[ -d "/proc/$p" ] && left="$left $p"
done
if [ -z "$left" ] && ! pgrep -f "$T_TMP" >/dev/null; then
	ok "no process left"
else
	fail "no process left" "pids$left; pgrep: $(pgrep -af "$T_TMP" | head -c 300)"
fi
finish
