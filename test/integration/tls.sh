#!/bin/sh
# TLS against real peers: `dmqtt tls check` with mosquitto 2 (OpenSSL 3)
# listeners, and small python responders for broken peers.  The PKI is made
# here with the openssl CLI.  What it proves:
#   - a good handshake on x86_64, aarch64 and armv7 (qemu), EC and RSA server
#     keys, mutual TLS with RSA and EC client certificates;
#   - each refusal has its own message and exit 77: expired, not yet valid,
#     other CA, self-signed, wrong name, client certificate required/refused;
#   - garbage -> 76, closed mid-handshake -> 76, stalled -> 69 within
#     --timeout, refused -> 69, file problems -> 66/65, usage -> 64;
#   - through a recording relay: mosquitto honours our max_fragment_length
#     (no record over TLS_FRAG_LEN = 512 bytes of plaintext), and the client
#     sends only handshake, change-cipher-spec and alert records: `tls
#     check` never sends application data, so no MQTT byte at all;
#   - the command and the glue under ASan+UBSan (build/asan/dmqtt).
. "$(dirname "$0")/lib.sh"

A64=${DMQTT_AARCH64:-$ROOT/build/aarch64/dmqtt}
A32=${DMQTT_ARMV7:-$ROOT/build/armv7/dmqtt}
PY=/usr/bin/python3
P=$T_TMP/pki
mkdir -p "$P/newcerts"
: >"$P/index.txt"
echo 1000 >"$P/serial"

# ---- PKI -----------------------------------------------------------------
cat >"$P/ca.cnf" <<EOF
[ ca ]
default_ca = ca_default
[ ca_default ]
dir = $P
database = $P/index.txt
new_certs_dir = $P/newcerts
serial = $P/serial
default_md = sha256
policy = policy_any
unique_subject = no
default_days = 30
[ policy_any ]
commonName = supplied
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[ v3_server ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,DNS:broker.it.test
[ v3_client ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
EOF

# key NAME ec|rsa
key() {
	if [ "$2" = ec ]; then
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$P/$1.key"
	else
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$P/$1.key"
	fi 2>/dev/null
}
# cert NAME CN EXT CA [ca options...]: a key must exist as NAME.key
cert() {
	n=$1 cn=$2 ext=$3 ca=$4
	shift 4
	openssl req -new -config "$P/ca.cnf" -key "$P/$n.key" -subj "/CN=$cn" -out "$P/$n.csr" 2>/dev/null &&
	openssl ca -config "$P/ca.cnf" -batch -notext -extensions "$ext" -cert "$P/$ca.crt" \
		-keyfile "$P/$ca.key" -in "$P/$n.csr" -out "$P/$n.crt" "$@" 2>/dev/null
}
# selfca NAME CN
selfca() {
	openssl req -new -config "$P/ca.cnf" -key "$P/$1.key" -subj "/CN=$2" -out "$P/$1.csr" 2>/dev/null &&
	openssl ca -config "$P/ca.cnf" -batch -notext -selfsign -extensions v3_ca -keyfile "$P/$1.key" \
		-in "$P/$1.csr" -out "$P/$1.crt" -days 365 2>/dev/null
}

pki_ok=1
key ca ec && selfca ca "dmqtt it CA" || pki_ok=0
key other rsa && selfca other "dmqtt it other CA" || pki_ok=0
key srv ec && cert srv localhost v3_server ca || pki_ok=0
key srvrsa rsa && cert srvrsa localhost v3_server ca || pki_ok=0
key old ec && cert old localhost v3_server ca -startdate 20200101000000Z -enddate 20210101000000Z || pki_ok=0
key future ec && cert future localhost v3_server ca -startdate 20400101000000Z -enddate 20410101000000Z || pki_ok=0
key foreign ec && cert foreign localhost v3_server other || pki_ok=0
key self ec && openssl req -x509 -new -key "$P/self.key" -subj "/CN=localhost" -days 30 \
	-addext "subjectAltName=DNS:localhost" -out "$P/self.crt" 2>/dev/null || pki_ok=0
key clirsa rsa && cert clirsa "client rsa" v3_client ca || pki_ok=0
key cliec ec && cert cliec "client ec" v3_client ca || pki_ok=0
key clifor ec && cert clifor "client of another CA" v3_client other || pki_ok=0
if [ $pki_ok = 1 ] && openssl verify -CAfile "$P/ca.crt" "$P/srv.crt" >/dev/null 2>&1; then
	ok "test PKI made with the openssl CLI"
else
	fail "test PKI" "openssl failed"
	finish
	exit 1
fi

# ---- mosquitto: one listener per server certificate ------------------------
for v in good rsa old future foreign self reqcert plain relay garbage closer staller refused; do
	eval "PORT_$v=$(free_port)"
done
conf=$T_TMP/mosquitto.conf
{
	[ "$(id -u)" -eq 0 ] && echo "user root"
	echo "allow_anonymous true"
	echo "persistence false"
	echo "log_dest file $T_TMP/mosquitto.log"
	echo "log_type all"
	tlsl() { # port cert [extra lines]
		echo "listener $1 127.0.0.1"
		echo "certfile $P/$2.crt"
		echo "keyfile $P/$2.key"
		echo "tls_version tlsv1.2"
	}
	tlsl "$PORT_good" srv
	tlsl "$PORT_rsa" srvrsa
	tlsl "$PORT_old" old
	tlsl "$PORT_future" future
	tlsl "$PORT_foreign" foreign
	tlsl "$PORT_self" self
	tlsl "$PORT_reqcert" srv
	echo "cafile $P/ca.crt"
	echo "require_certificate true"
	echo "listener $PORT_plain 127.0.0.1"
} >"$conf"
mosquitto -c "$conf" >"$T_TMP/mosquitto.out" 2>&1 &
MPID=$!
cleanup_add "kill $MPID"

# ---- python peers: a recording relay to the good listener, and broken peers
cat >"$T_TMP/peers.py" <<'EOF'
import socket, sys, threading, time
relay, upstream, garbage, closer, staller, log = sys.argv[1:7]

def serve(port, handler):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(port)))
    s.listen(8)
    def loop():
        while True:
            c, _ = s.accept()
            threading.Thread(target=handler, args=(c,), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()

def records(buf):
    """(type, length) of every complete TLS record in buf"""
    out, i = [], 0
    while i + 5 <= len(buf):
        n = int.from_bytes(buf[i + 3:i + 5], "big")
        if i + 5 + n > len(buf):
            break
        out.append((buf[i], n))
        i += 5 + n
    return out

def do_relay(c):
    u = socket.create_connection(("127.0.0.1", int(upstream)))
    seen = {"c2s": b"", "s2c": b""}
    def pipe(a, b, key):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                seen[key] += d
                b.sendall(d)
        except OSError:
            pass
        for x in (a, b):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
    t = threading.Thread(target=pipe, args=(u, c, "s2c"))
    t.start()
    pipe(c, u, "c2s")
    t.join()
    c2s, s2c = records(seen["c2s"]), records(seen["s2c"])
    if not c2s:
        return  # a port probe
    with open(log, "a") as f:
        f.write("c2s_types=%s s2c_max=%d s2c_records=%d c2s_bytes=%d\n" % (
            ",".join(sorted({str(t) for t, _ in c2s})),
            max(n for _, n in s2c) if s2c else 0, len(s2c), len(seen["c2s"])))

def do_garbage(c):
    try:
        c.recv(4096)
        c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    except OSError:
        pass
    c.close()

def do_closer(c):
    try:
        c.recv(4096)
    except OSError:
        pass
    c.close()

def do_staller(c):
    time.sleep(30)
    c.close()

serve(relay, do_relay)
serve(garbage, do_garbage)
serve(closer, do_closer)
serve(staller, do_staller)
time.sleep(600)
EOF
$PY "$T_TMP/peers.py" "$PORT_relay" "$PORT_good" "$PORT_garbage" "$PORT_closer" \
	"$PORT_staller" "$T_TMP/relay.log" >"$T_TMP/peers.out" 2>&1 &
PPID_=$!
cleanup_add "kill $PPID_"

if wait_port "$PORT_good" 10 && wait_port "$PORT_reqcert" 5 && wait_port "$PORT_plain" 5 &&
   wait_port "$PORT_staller" 5; then
	ok "mosquitto TLS listeners and python peers are up"
else
	fail "peers start" "$(tail -5 "$T_TMP/mosquitto.out" "$T_TMP/peers.out")"
	finish
	exit 1
fi

CA=$P/ca.crt
# a CA file whose second certificate is cut short
head -c 400 "$P/other.crt" >"$T_TMP/cut.pem"
cat "$CA" "$T_TMP/cut.pem" >"$T_TMP/two.pem"
echo "-----END CERTIFICATE-----" >>"$T_TMP/two.pem"
chk() { "$DMQTT" tls check "$@"; }

# ---- success, three targets ------------------------------------------------
expect_rc "x86_64: handshake with mosquitto (EC server key)" 0 chk "localhost:$PORT_good" --cafile "$CA"
expect_grep "x86_64: reports version, suite and name" \
	"^ok: TLS1.2 TLS_ECDHE_ECDSA_WITH_[A-Z0-9_]+ server=localhost$" "$T_OUT"
expect_rc "x86_64: RSA server key (ECDHE_RSA)" 0 chk "localhost:$PORT_rsa" --cafile "$CA"
expect_grep "x86_64: ECDHE_RSA suite" "^ok: TLS1.2 TLS_ECDHE_RSA_WITH_" "$T_OUT"
expect_rc "by IP address with --tls-server-name" 0 chk "127.0.0.1:$PORT_good" --cafile "$CA" \
	--tls-server-name broker.it.test
expect_grep "the name checked is the one given" "server=broker.it.test$" "$T_OUT"
expect_rc "aarch64 (qemu): handshake with mosquitto" 0 qemu-aarch64-static "$A64" tls check \
	"localhost:$PORT_good" --cafile "$CA"
expect_grep "aarch64: ok line" "^ok: TLS1.2 TLS_ECDHE_ECDSA_" "$T_OUT"
expect_rc "armv7 (qemu): handshake with mosquitto" 0 qemu-arm-static "$A32" tls check \
	"localhost:$PORT_rsa" --cafile "$CA"
expect_grep "armv7: ok line" "^ok: TLS1.2 TLS_ECDHE_RSA_" "$T_OUT"
expect_rc "armv7 (qemu): mutual TLS with an EC client certificate" 0 qemu-arm-static "$A32" tls check \
	"localhost:$PORT_reqcert" --cafile "$CA" --cert "$P/cliec.crt" --key "$P/cliec.key"

# dmqtt-client (pub, sub and tls only; the TLS stage's size budget): a
# message over TLS from its pub to its sub, aarch64 under qemu
A64C=${DMQTT_AARCH64_CLIENT:-$ROOT/build/aarch64/dmqtt-client}
if [ -x "$A64C" ]; then
	qemu-aarch64-static "$A64C" sub -h localhost -p "$PORT_good" --cafile "$CA" -t client/x \
		-C 1 -W 20 >"$T_TMP/client.out" 2>"$T_TMP/client.err" &
	cpid=$!
	i=0; while [ $i -lt 100 ] && ! grep -q . "$T_TMP/client.err" 2>/dev/null; do
		qemu-aarch64-static "$A64C" pub -h localhost -p "$PORT_good" --cafile "$CA" -t client/x \
			-m "over tls" -q 1 >/dev/null 2>&1
		grep -q "over tls" "$T_TMP/client.out" && break
		sleep 0.2; i=$((i + 1))
	done
	wait $cpid
	if grep -qx "over tls" "$T_TMP/client.out"; then ok "aarch64 dmqtt-client: pub to sub over TLS"; else
		fail "aarch64 dmqtt-client" "sub saw: $(cat "$T_TMP/client.out") $(tail -2 "$T_TMP/client.err")"; fi
else
	fail "aarch64 dmqtt-client" "$A64C missing (make TARGET=aarch64 client)"
fi

# ---- mutual TLS ------------------------------------------------------------
expect_rc "mutual TLS with an RSA client certificate" 0 chk "localhost:$PORT_reqcert" \
	--cafile "$CA" --cert "$P/clirsa.crt" --key "$P/clirsa.key"
expect_rc "mutual TLS with an EC client certificate" 0 chk "localhost:$PORT_reqcert" \
	--cafile "$CA" --cert "$P/cliec.crt" --key "$P/cliec.key"
cat "$P/cliec.crt" "$P/ca.crt" >"$P/cliec-chain.crt"
expect_rc "mutual TLS with a chain file (certificate + CA)" 0 chk "localhost:$PORT_reqcert" \
	--cafile "$CA" --cert "$P/cliec-chain.crt" --key "$P/cliec.key"

# ---- refusals: own message, exit 77 ----------------------------------------
refuse() { # NAME PORT PATTERN [args...]
	n=$1 port=$2 pat=$3
	shift 3
	expect_rc "$n -> 77" 77 chk "localhost:$port" --cafile "$CA" "$@"
	expect_grep "$n: message" "$pat" "$T_ERR"
}
refuse "expired server certificate" "$PORT_old" \
	"^dmqtt tls: certificate expired: the server's certificate was valid until 2021-01-01 00:00:00 UTC \(BearSSL error 54\)$"
refuse "not-yet-valid server certificate" "$PORT_future" \
	"^dmqtt tls: certificate not yet valid: the server's certificate is valid from 2040-01-01 00:00:00 UTC \(BearSSL error 54\)$"
refuse "certificate from another CA" "$PORT_foreign" \
	"^dmqtt tls: certificate not signed by the given CA \(BearSSL error 62\)$"
refuse "self-signed server certificate" "$PORT_self" \
	"^dmqtt tls: certificate not signed by the given CA: the server's certificate is self-signed \(BearSSL error 62\)$"
expect_rc "wrong host name -> 77" 77 chk "127.0.0.1:$PORT_good" --cafile "$CA" --tls-server-name wrong.example
expect_grep "wrong host name: message" \
	"^dmqtt tls: host name mismatch: expected wrong.example .*\(BearSSL error 56\)$" "$T_ERR"
refuse "server requires a client certificate" "$PORT_reqcert" \
	"^dmqtt tls: handshake failed: peer requires a client certificate \(alert handshake_failure\) \(BearSSL error 296\)$"
refuse "client certificate of another CA" "$PORT_reqcert" \
	"^dmqtt tls: handshake failed: peer rejected our client certificate \(alert unknown_ca\)" \
	--cert "$P/clifor.crt" --key "$P/clifor.key"
expect_rc "aarch64 (qemu): expired -> 77" 77 qemu-aarch64-static "$A64" tls check \
	"localhost:$PORT_old" --cafile "$CA"
expect_grep "aarch64: same message" "^dmqtt tls: certificate expired: " "$T_ERR"

# ---- broken peers ----------------------------------------------------------
expect_rc "peer sending garbage -> 76" 76 chk "localhost:$PORT_garbage" --cafile "$CA"
expect_grep "garbage: message" "^dmqtt tls: peer is not speaking TLS .*\(BearSSL error 3\)$" "$T_ERR"
expect_rc "peer closing mid-handshake -> 76" 76 chk "localhost:$PORT_closer" --cafile "$CA"
expect_grep "closed: message" "^dmqtt tls: connection closed during handshake" "$T_ERR"
expect_rc "plain MQTT listener -> 76" 76 chk "localhost:$PORT_plain" --cafile "$CA"
expect_grep "plain MQTT: message" "^dmqtt tls: connection closed during handshake" "$T_ERR"
t0=$(date +%s%N)
expect_rc "stalled peer -> 69" 69 chk "localhost:$PORT_staller" --cafile "$CA" --timeout 800
t1=$(date +%s%N)
expect_grep "stalled: message" "^dmqtt tls: timed out after 800 ms during the TLS handshake" "$T_ERR"
ms=$(( (t1 - t0) / 1000000 ))
if [ "$ms" -ge 750 ] && [ "$ms" -lt 2500 ]; then ok "stalled peer: gave up after ${ms} ms (timeout 800)"; else fail "stall timing" "$ms ms"; fi
expect_rc "nothing listening -> 69" 69 chk "localhost:$PORT_refused" --cafile "$CA"
expect_grep "refused: message" "Connection refused" "$T_ERR"

# ---- the same under ASan+UBSan (tlsconf, the command, the glue) -------------
ASAN=$ROOT/build/asan/dmqtt
if [ -x "$ASAN" ]; then
	expect_rc "asan: handshake" 0 "$ASAN" tls check "localhost:$PORT_good" --cafile "$CA"
	expect_rc "asan: mutual TLS (RSA)" 0 "$ASAN" tls check "localhost:$PORT_reqcert" --cafile "$CA" \
		--cert "$P/clirsa.crt" --key "$P/clirsa.key"
	expect_rc "asan: client certificate required" 77 "$ASAN" tls check "localhost:$PORT_reqcert" --cafile "$CA"
	expect_rc "asan: self-signed" 77 "$ASAN" tls check "localhost:$PORT_self" --cafile "$CA"
	expect_rc "asan: garbage" 76 "$ASAN" tls check "localhost:$PORT_garbage" --cafile "$CA"
	expect_rc "asan: broken CA file" 65 "$ASAN" tls check "localhost:$PORT_good" --cafile "$T_TMP/two.pem"
else
	fail "asan binary" "$ASAN missing (make TARGET=asan bin)"
fi

# ---- what goes over the wire ----------------------------------------------
: >"$T_TMP/relay.log"
expect_rc "through the recording relay" 0 chk "localhost:$PORT_relay" --cafile "$CA"
i=0
while [ ! -s "$T_TMP/relay.log" ] && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
line=$(head -1 "$T_TMP/relay.log")
case $line in
"c2s_types=20,21,22 "*) ok "client sent only handshake/CCS/alert records, no application data ($line)" ;;
*) fail "client record types" "$line" ;;
esac
max=$(echo "$line" | sed -n 's/.*s2c_max=\([0-9]*\).*/\1/p')
if [ -n "$max" ] && [ "$max" -le $((512 + 64)) ]; then
	ok "mosquitto honoured max_fragment_length: largest record ${max} bytes"
else
	fail "max_fragment_length" "largest server record: ${max:-?} ($line)"
fi

# ---- files and usage -------------------------------------------------------
expect_rc "missing --cafile file -> 66" 66 chk "localhost:$PORT_good" --cafile "$T_TMP/nope.pem"
expect_grep "names the file" "cannot read --cafile .*nope.pem: No such file" "$T_ERR"
echo "not a certificate" >"$T_TMP/junk.pem"
expect_rc "CA file without a certificate -> 65" 65 chk "localhost:$PORT_good" --cafile "$T_TMP/junk.pem"
expect_grep "says no certificate" "no certificate" "$T_ERR"
expect_rc "broken second certificate -> 65" 65 chk "localhost:$PORT_good" --cafile "$T_TMP/two.pem"
expect_grep "names which block" "block 2|certificate 2" "$T_ERR"
expect_rc "key of another certificate -> 65" 65 chk "localhost:$PORT_reqcert" --cafile "$CA" \
	--cert "$P/clirsa.crt" --key "$P/cliec.key"
expect_grep "key mismatch message" "is not the key of --cert" "$T_ERR"
expect_rc "--cert without --key -> 64" 64 chk "localhost:$PORT_good" --cafile "$CA" --cert "$P/cliec.crt"
expect_rc "IP address without --tls-server-name -> 64" 64 chk "127.0.0.1:$PORT_good" --cafile "$CA"
expect_grep "explains DNS names" "checked against DNS names only" "$T_ERR"
expect_rc "no --cafile -> 64" 64 chk "localhost:$PORT_good"
expect_rc "unknown subcommand -> 64" 64 "$DMQTT" tls verify x
expect_rc "--timeout not a number -> 64" 64 chk "localhost:$PORT_good" --cafile "$CA" --timeout soon

finish
