#!/bin/sh
# `dmqtt cloud serve` end to end: the web console and its JSON API against
# the system of mesh.sh (cloud mosquitto with a plain listener for
# applications, an emulated MEN running `dmqtt broker` bridged over TLS,
# three emulated hubs running `dmqtt node`).  Python sockets and curl are the
# HTTP clients; the page is checked in headless Chromium
# (test/browser/console.test.mjs).
. "$(dirname "$0")/lib.sh"
. "$ROOT/test/integration/peers.lib"
. "$ROOT/test/integration/mesh.lib"
PY=/usr/bin/python3

# ---- the system (test/integration/mesh.lib)
{ mesh_cloud_up --app && mesh_men_up && mesh_broker_start && mesh_hubs_up; } || { finish; exit 1; }
set -- $SERIALS

# ---- the console
HTTP_PORT=$(free_port)
"$DMQTT" cloud serve --http "127.0.0.1:$HTTP_PORT" --timeout 2000 $AS >"$T_TMP/serve.log" 2>&1 &
SERVE_PID=$!
cleanup_add "kill \$SERVE_PID"
if wait_port "$HTTP_PORT" 5; then ok "serve listens on 127.0.0.1:$HTTP_PORT"; else
	fail serve "not listening: $(cat "$T_TMP/serve.log")"; finish; exit 1; fi
BASE=http://127.0.0.1:$HTTP_PORT

# A small HTTP client on raw sockets (curl hides malformed requests).
cat >"$T_TMP/h.py" <<'PY'
import json, socket, sys, threading, time

PORT = int(sys.argv[2])
HOST = "127.0.0.1:%d" % PORT

LEFT = {}   # bytes read past a response, per socket (pipelining)

def read_response(s):
    """status, headers (lower-case names), body; None at EOF."""
    buf = LEFT.pop(s.fileno(), b"")
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            return None
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdr = {}
    for l in lines[1:]:
        k, v = l.split(":", 1)
        hdr[k.strip().lower()] = v.strip()
    n = int(hdr["content-length"])
    while len(rest) < n:
        d = s.recv(65536)
        if not d:
            break
        rest += d
    LEFT[s.fileno()] = rest[n:]
    return status, hdr, rest[:n]

def closed(s, wait=3.0):
    s.settimeout(wait)
    try:
        return s.recv(1) == b""
    except (socket.timeout, ConnectionResetError):
        return False

def request(method, path, body=None, headers=None, host=HOST):
    h = ["%s %s HTTP/1.1" % (method, path)]
    if host is not None:
        h.append("Host: " + host)
    for k, v in (headers or {}).items():
        h.append("%s: %s" % (k, v))
    b = body.encode() if isinstance(body, str) else (body or b"")
    if body is not None and not any(k.lower() == "content-length" for k in (headers or {})):
        h.append("Content-Length: %d" % len(b))
    return ("\r\n".join(h) + "\r\n\r\n").encode() + b

def one(raw, timeout=10):
    s = socket.create_connection(("127.0.0.1", PORT), timeout)
    s.sendall(raw)
    r = read_response(s)
    s.close()
    return r

cmd = sys.argv[1]
if cmd == "raw":            # raw request on stdin -> "STATUS closed|open" and the body
    s = socket.create_connection(("127.0.0.1", PORT), 10)
    s.sendall(sys.stdin.buffer.read())
    r = read_response(s)
    print(r[0], "closed" if closed(s) else "open")
    print(r[2].decode())
elif cmd == "req":          # METHOD PATH [BODY [JSON headers [host]]] -> "STATUS" + body
    body = sys.argv[5] if len(sys.argv) > 5 and sys.argv[5] != "-" else None
    hdrs = json.loads(sys.argv[6]) if len(sys.argv) > 6 else {}
    host = sys.argv[7] if len(sys.argv) > 7 else HOST
    r = one(request(sys.argv[3], sys.argv[4], body, hdrs, None if host == "-" else host))
    print(r[0])
    if r[1].get("allow"):
        print("Allow:", r[1]["allow"])
    print(r[2].decode())
elif cmd == "keepalive":    # three requests on one connection, then two pipelined
    s = socket.create_connection(("127.0.0.1", PORT), 10)
    codes = []
    for _ in range(3):
        s.sendall(request("GET", "/api/stats"))
        codes.append(read_response(s)[0])
    s.sendall(request("GET", "/api/nodes") + request("GET", "/api/stats"))
    codes += [read_response(s)[0], read_response(s)[0]]
    s.sendall(request("GET", "/api/stats", headers={"Connection": "close"}))
    codes.append(read_response(s)[0])
    print(" ".join(map(str, codes)), "closed" if closed(s) else "open")
elif cmd == "many":         # N connections at once, one request each
    n = int(sys.argv[3])
    socks = [socket.create_connection(("127.0.0.1", PORT), 10) for _ in range(n)]
    for s in socks:
        s.sendall(request("GET", "/api/stats"))
    codes = [read_response(s)[0] for s in socks]
    print(sum(1 for c in codes if c == 200))
elif cmd == "slow":         # one byte per second; others are served meanwhile
    res = {}
    def slow():
        s = socket.create_connection(("127.0.0.1", PORT), 30)
        t0 = time.time()
        data = request("GET", "/api/stats")
        s.settimeout(1.0)
        got = b""
        for b in data[:-1]:          # never complete
            try:
                s.sendall(bytes([b]))
            except OSError:
                break
            try:
                d = s.recv(4096)
                if not d:
                    break
                got += d
                res["answer"] = time.time() - t0
                break                     # answered: stop sending
            except socket.timeout:
                pass
            except OSError:
                break
            if time.time() - t0 > 25:
                break
        s.settimeout(5)
        try:
            while True:
                d = s.recv(4096)
                if not d:
                    break
                got += d
        except OSError:
            pass
        res["after"] = time.time() - t0
        res["status"] = got.split(b" ")[1].decode() if got.startswith(b"HTTP/1.1 ") else "none"
    th = threading.Thread(target=slow)
    th.start()
    served, worst = 0, 0.0
    while th.is_alive():
        t = time.time()
        r = one(request("GET", "/api/nodes"))
        worst = max(worst, time.time() - t)
        served += r[0] == 200
        time.sleep(0.5)
    th.join()
    print(json.dumps({"answer_after_s": round(res.get("answer", -1), 1),
                      "closed_after_s": round(res["after"], 1), "status": res["status"],
                      "served": served, "worst_ms": int(worst * 1000)}))
PY
H() { _hc=$1; shift; $PY "$T_TMP/h.py" "$_hc" "$HTTP_PORT" "$@"; }

# ---- the node table agrees with what mosquitto_sub sees
sub_collect st "$APP_PORT" 'status/+' 3 -u cloudmen -P cloudpw -q 1
sub_wait st 15
grep ' online$' "$T_TMP/st.out" | sed 's|^status/||; s| online$||' | sort >"$T_TMP/mosq-online"
i=0
while [ $i -lt 40 ]; do
	curl -s "$BASE/api/nodes" >"$T_TMP/nodes.json"
	$PY -c 'import json,sys; print("\n".join(sorted(n["sn"] for n in json.load(open(sys.argv[1]))["nodes"] if n["state"] == "online" and n["type"] == "MN" and n["ifaces"])))' \
		"$T_TMP/nodes.json" >"$T_TMP/api-online" 2>/dev/null
	[ "$(wc -l <"$T_TMP/api-online")" -eq 3 ] && break
	sleep 0.25
	i=$((i + 1))
done
if [ "$(wc -l <"$T_TMP/mosq-online")" -eq 3 ] && cmp -s "$T_TMP/mosq-online" "$T_TMP/api-online"; then
	ok "/api/nodes: the three serials mosquitto_sub sees online, type MN"
else
	fail "/api/nodes" "mosquitto_sub: $(cat "$T_TMP/mosq-online" | tr '\n' ' ') api: $(head -c 300 "$T_TMP/nodes.json")"
fi
if $PY - "$T_TMP/nodes.json" "$MEN_SERIAL" <<'PY'
import json, sys
for n in json.load(open(sys.argv[1]))["nodes"]:
    assert n["status"] == "online" and n["mesh"] == sys.argv[2] and n["bridge"] == "up", n
    assert n["ifaces"] and all(i["status"] in ("Up", "Down") for i in n["ifaces"]), n
    assert n["seen_ms"] < 10000 and n["uptime"].startswith("up "), n
PY
then ok "/api/nodes: status, mesh, bridge, interfaces, uptime"; else fail "/api/nodes fields" "$(head -c 400 "$T_TMP/nodes.json")"; fi

# the slow client runs (about 10 s) while the other checks go on
H slow >"$T_TMP/slow.json" 2>&1 &
SLOW_PID=$!

# ---- API
H req GET / >"$T_TMP/r"
expect_grep "GET /: the page" "^200$" "$T_TMP/r"
expect_grep "GET /: everything inline" "<script>'use strict'" "$T_TMP/r"
curl -s -D "$T_TMP/h" -o /dev/null "$BASE/"
expect_grep "GET /: Content-Security-Policy with script and style hashes" \
	"^Content-Security-Policy: default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+'; style-src 'sha256-" "$T_TMP/h"
expect_grep "GET /: Content-Length" "^Content-Length: [0-9]+" "$T_TMP/h"
if grep -Eiq '(src|href)="(https?:)?//' "$T_TMP/r"; then fail "no external resource" "$(grep -Eio '(src|href)="[^"]*"' "$T_TMP/r")"; else ok "no external script, style or font"; fi
H req GET /api/stats >"$T_TMP/r"
expect_grep "GET /api/stats: broker up, 3 nodes" '"broker":\{"state":"up".*"counts":\{"nodes":3,"online":3' "$T_TMP/r"
H req POST /api/rcmd "{\"sn\":\"$1\",\"cmd\":\"uptime\"}" '{"Content-Type":"application/json"}' >"$T_TMP/r"
expect_grep "POST /api/rcmd: 200" "^200$" "$T_TMP/r"
expect_grep "POST /api/rcmd: the node's reply" "^\{\"sn\":\"$1\",\"cmd\":\"uptime\",\"data\":\"up [0-9]+ days?, .*\",\"rc\":0,\"id\":\"[0-9a-f-]+\"\}$" "$T_TMP/r"
curl -s -X POST -H 'Content-Type: application/json; charset=utf-8' -H "Origin: $BASE" \
	-d "{\"cmd\":\"serial\",\"sn\":\"$2\"}" "$BASE/api/rcmd" >"$T_TMP/r"
expect_grep "POST /api/rcmd with curl and a same-origin Origin" "\"data\":\"$2\",\"rc\":0" "$T_TMP/r"
# a client that asks "Expect: 100-continue" and waits for it before the body
$PY -c "import sys; sys.stdout.write('{\"sn\":\"$1\",\"cmd\":\"ping\"}' + ' ' * 3000)" >"$T_TMP/big.json"
curl -s -v -X POST -H 'Content-Type: application/json' -H 'Expect: 100-continue' --data-binary @"$T_TMP/big.json" \
	"$BASE/api/rcmd" >"$T_TMP/r" 2>"$T_TMP/curl.err"
if grep -q '100 Continue' "$T_TMP/curl.err" && grep -q '"data":"pong","rc":0' "$T_TMP/r"; then
	ok "Expect: 100-continue is honoured"; else fail "100-continue" "$(grep -E '^[<>] ' "$T_TMP/curl.err" | head -8 | tr '\n' ' ')"; fi
H req POST /api/rcmd "{\"sn\":\"$3\",\"cmd\":\"no-such\"}" '{"Content-Type":"application/json"}' >"$T_TMP/r"
expect_grep "POST /api/rcmd: a failing command is 200 with its rc" '"rc":127' "$T_TMP/r"
t0=$(date +%s%N)
H req POST /api/rcmd '{"sn":"C25DTADSR00000009999","cmd":"uptime"}' '{"Content-Type":"application/json"}' >"$T_TMP/r"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_grep "POST /api/rcmd to an unknown serial: 504" "^504$" "$T_TMP/r"
expect_grep "504 names the serial" "no reply from C25DTADSR00000009999 within 2000 ms" "$T_TMP/r"
if [ $ms -ge 1900 ] && [ $ms -lt 4000 ]; then ok "504 after ${ms} ms (--timeout 2000)"; else fail "504 timing" "${ms} ms"; fi
H req POST /api/list "" >"$T_TMP/r"
expect_grep "POST /api/list: 202" "^202$" "$T_TMP/r"

# ---- bad input
expect_status() {   # NAME WANT METHOD PATH [BODY [HEADERS [HOST]]]
	_n=$1 _w=$2
	shift 2
	H req "$@" >"$T_TMP/r" 2>&1
	if [ "$(head -1 "$T_TMP/r")" = "$_w" ]; then ok "$_n"; else fail "$_n" "want $_w, got $(head -c 200 "$T_TMP/r")"; fi
}
expect_raw() {      # NAME WANT-FIRST-LINE, the request in $T_TMP/req
	H raw <"$T_TMP/req" >"$T_TMP/r" 2>&1
	if [ "$(head -1 "$T_TMP/r")" = "$2" ]; then ok "$1"; else fail "$1" "want '$2', got $(head -c 200 "$T_TMP/r")"; fi
}
$PY -c "import sys; sys.stdout.write('GET / HTTP/1.1\r\nHost: 127.0.0.1:$HTTP_PORT\r\nX-Big: ' + 'a' * 9000 + '\r\n\r\n')" >"$T_TMP/req"
expect_raw "oversized headers: 431, then closed" "431 closed"
printf 'POST /api/rcmd HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nContent-Type: application/json\r\n\r\n{}' "$HTTP_PORT" >"$T_TMP/req"
expect_raw "POST without Content-Length: 411" "411 closed"
printf 'POST /api/rcmd HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n' "$HTTP_PORT" >"$T_TMP/req"
expect_raw "chunked body: 411" "411 closed"
printf 'POST /api/rcmd HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}' "$HTTP_PORT" >"$T_TMP/req"
expect_raw "duplicate Content-Length: 400" "400 closed"
printf 'POST /api/rcmd HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nContent-Length: 100000\r\n\r\n' "$HTTP_PORT" >"$T_TMP/req"
expect_raw "body over the limit: 413" "413 closed"
printf 'GET / HTTP/2.0\r\nHost: 127.0.0.1:%s\r\n\r\n' "$HTTP_PORT" >"$T_TMP/req"
expect_raw "HTTP/2.0: 505" "505 closed"
printf 'GET / HTTP/1.1\r\n\r\n' >"$T_TMP/req"
expect_raw "no Host: 400" "400 closed"
printf 'hello world\r\n\r\n' >"$T_TMP/req"
expect_raw "garbage: 400" "400 closed"
printf 'GET / HTTP/1.1\nHost: 127.0.0.1:%s\n\n' "$HTTP_PORT" >"$T_TMP/req"
expect_raw "bare LF: 400" "400 closed"
expect_status "invalid JSON in /api/rcmd: 400" 400 POST /api/rcmd '{"sn":' '{"Content-Type":"application/json"}'
expect_status "/api/rcmd without cmd: 400" 400 POST /api/rcmd "{\"sn\":\"$1\"}" '{"Content-Type":"application/json"}'
expect_status "/api/rcmd with a wildcard serial: 400" 400 POST /api/rcmd '{"sn":"#","cmd":"uptime"}' '{"Content-Type":"application/json"}'
expect_status "/api/rcmd as text/plain: 415" 415 POST /api/rcmd "{\"sn\":\"$1\",\"cmd\":\"uptime\"}" '{"Content-Type":"text/plain"}'
expect_status "wrong Host: 421" 421 GET /api/nodes - '{}' "evil.example:$HTTP_PORT"
expect_status "Host without the port: 421" 421 GET /api/nodes - '{}' "127.0.0.1"
expect_status "Host localhost:PORT is fine" 200 GET /api/nodes - '{}' "localhost:$HTTP_PORT"
expect_status "cross-origin Origin: 403" 403 POST /api/list "" '{"Origin":"http://evil.example"}'
expect_status "Origin null: 403" 403 GET /api/nodes - '{"Origin":"null"}'
expect_status "same-origin Origin: 200" 200 GET /api/nodes - "{\"Origin\":\"$BASE\"}"
expect_status "unknown path: 404" 404 GET /nope
expect_status "unknown API path: 404" 404 GET /api/nope
expect_status "DELETE /: 405" 405 DELETE /
expect_status "GET /api/rcmd: 405" 405 GET /api/rcmd
expect_grep "405 says what is allowed" "^Allow: POST$" "$T_TMP/r"
expect_status "POST /api/nodes: 405" 405 POST /api/nodes ""
H keepalive >"$T_TMP/r"
expect_grep "keep-alive, pipelining, then Connection: close" "^200 200 200 200 200 200 closed$" "$T_TMP/r"
H many 64 >"$T_TMP/r"
expect_grep "64 clients at once: 64 answers" "^64$" "$T_TMP/r"

# ---- the slow client
wait $SLOW_PID
if $PY - "$T_TMP/slow.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["status"] == "408" and 9.5 <= r["answer_after_s"] <= 13, r
assert r["closed_after_s"] - r["answer_after_s"] < 3, r
assert r["served"] >= 8 and r["worst_ms"] < 2000, r
PY
then ok "slow client (1 byte/s): 408 and closed after 10 s, others served meanwhile ($(cat "$T_TMP/slow.json"))"
else fail "slow client" "$(cat "$T_TMP/slow.json")"; fi

# ---- bearer token, and where serve may listen
TOK_PORT=$(free_port)
"$DMQTT" cloud serve --http "localhost:$TOK_PORT" --http-token s3cret $AS >"$T_TMP/serve2.log" 2>&1 &
SERVE2_PID=$!
cleanup_add "kill \$SERVE2_PID"
wait_port "$TOK_PORT" 5
Ht() { $PY "$T_TMP/h.py" req "$TOK_PORT" "$@"; }
tok_status() {      # NAME WANT METHOD PATH [BODY [HEADERS]]
	_n=$1 _w=$2
	shift 2
	Ht "$@" >"$T_TMP/r" 2>&1
	if [ "$(head -1 "$T_TMP/r")" = "$_w" ]; then ok "$_n"; else fail "$_n" "want $_w, got $(head -c 200 "$T_TMP/r")"; fi
}
tok_status "token: /api/ without it: 401" 401 GET /api/nodes
tok_status "token: a wrong one: 401" 401 GET /api/nodes - '{"Authorization":"Bearer wrong"}'
tok_status "token: the right one: 200" 200 GET /api/nodes - '{"Authorization":"Bearer s3cret"}'
tok_status "token: POST /api/rcmd without it: 401" 401 POST /api/rcmd "{\"sn\":\"$1\",\"cmd\":\"ping\"}" '{"Content-Type":"application/json"}'
tok_status "token: the page itself needs none" 200 GET /
curl -s -D "$T_TMP/h" -o /dev/null "http://127.0.0.1:$TOK_PORT/api/stats"
expect_grep "401 asks for a bearer token" "^WWW-Authenticate: Bearer" "$T_TMP/h"
kill $SERVE2_PID
expect_rc "a non-loopback address needs --http-token: 64" 64 "$DMQTT" cloud serve --http 192.0.2.1:8080 $AS
expect_rc "every-interface address is refused: 64" 64 "$DMQTT" cloud serve --http 0.0.0.0:8080 --http-token x $AS
expect_rc "--http needs a port: 64" 64 "$DMQTT" cloud serve --http 127.0.0.1 $AS

# ---- the page in headless Chromium
if [ -x /usr/bin/chromium ]; then
	mkdir -p "$ROOT/build"
	eval "KILL=\$NODE_$3"
	CONSOLE_URL="$BASE/" SERIALS="$SERIALS" KILL_PID=$KILL KILL_SN=$3 SCREENSHOT="$ROOT/build/console.png" \
		timeout 60 node "$ROOT/test/browser/console.test.mjs" >"$T_TMP/browser.out" 2>&1
	while IFS= read -r line; do
		case $line in
		"ok "*) ok "browser: ${line#ok }" ;;
		"FAIL "*) r=${line#FAIL }; fail "browser: ${r%%: *}" "${r#*: }" ;;
		esac
	done <"$T_TMP/browser.out"
	grep -qE '^(ok|FAIL) ' "$T_TMP/browser.out" || fail browser "$(tail -5 "$T_TMP/browser.out")"
else
	fail browser "/usr/bin/chromium missing (apt-get install chromium)"
fi
H req GET /api/nodes >"$T_TMP/r"
expect_grep "/api/nodes: the stopped node is offline (its status)" "\"sn\":\"$3\",\"state\":\"offline\",\"why\":\"status\"" "$T_TMP/r"

# ---- the MEN's bridge goes down: the whole mesh is offline
kill -KILL $BROKER_PID 2>/dev/null
MPID=$(pgrep -f "mosquitto -c $T_TMP/mosq/mosquitto.conf" | head -1)
[ -n "$MPID" ] && kill -KILL "$MPID"
i=0
while [ $i -lt 40 ]; do
	H req GET /api/nodes >"$T_TMP/r"
	[ "$(grep -o '"why":"bridge"' "$T_TMP/r" | wc -l)" -eq 2 ] && break
	sleep 0.25
	i=$((i + 1))
done
for sn in $1 $2; do
	expect_grep "bridge down: $sn offline" "\"sn\":\"$sn\",\"state\":\"offline\",\"why\":\"bridge\"" "$T_TMP/r"
done
H req GET /api/stats >"$T_TMP/r"
expect_grep "/api/stats: the MEN's bridge is down" "\"men\":\"$MEN_SERIAL\",\"bridge\":\"down\"" "$T_TMP/r"

kill -TERM $SERVE_PID
wait $SERVE_PID
rc=$?
if [ $rc -eq 0 ]; then ok "serve exits 0 on SIGTERM"; else fail "serve exit" "rc $rc"; fi
finish
