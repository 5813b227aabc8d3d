#!/bin/sh
# Differential checks: our protocol parsers against independent ones, on
# the same bytes.
#
#   MQTT  proto/mqtt_codec (mqtt_frame + mqtt_parse over a byte stream)
#         vs mqtt-packet 9's parser, protocolVersion 4 (test/node)
#   DNS   proto/dns (dns_response_check + dns_rr_next + extraction)
#         vs python3-dnslib's DNSRecord.parse
#   JSON  proto/json (json_parse)
#         vs Python's json.loads with strict settings
#
# Inputs: every committed file of fuzz/corpus/{mqtt_packet,dns_response,
# json}/ plus DIFF_COUNT (default 200) inputs per format generated here by
# a seeded script (DIFF_SEED, default 1): well-formed messages built from
# scratch and mutations of those and of the corpus.  Each side prints one
# line per input (accept/reject and a canonical summary); the comparison
# counts agreements, differences explained by a documented rule (the rule
# is checked on the input, never chosen by file name), and unexplained
# disagreements, which fail the test and are printed with the input in hex.
# docs/differential.md says what each comparison proves and lists the
# documented differences.  DIFF_VERBOSE=1 prints every documented
# difference too; KEEP=1 keeps the generated inputs.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
DIFF_SEED=${DIFF_SEED:-1}
DIFF_COUNT=${DIFF_COUNT:-200}
DIFF_VERBOSE=${DIFF_VERBOSE:-0}
CC=${CC:-cc}

# ------------------------------------------------------------ drivers
build() { # NAME SOURCES...
	_b=$1
	shift
	if "$CC" -std=c11 -O1 -Wall -Wextra -Werror -I. -D_POSIX_C_SOURCE=200809L \
		"test/diff/${_b}_driver.c" "$@" -o "$T_TMP/${_b}_driver" 2>"$T_TMP/${_b}_cc.log"; then
		ok "build $_b driver"
	else
		fail "build $_b driver" "$(head -c 600 "$T_TMP/${_b}_cc.log")"
	fi
}
build mqtt proto/mqtt_codec.c proto/utf8.c
build dns proto/dns.c
build json proto/json.c proto/utf8.c
for tool in node "$PY"; do
	command -v "$tool" >/dev/null 2>&1 || { fail "reference tools" "$tool missing"; finish; exit 1; }
done
"$PY" -c 'import dnslib' 2>/dev/null || { fail "reference tools" "python3-dnslib missing"; finish; exit 1; }
[ -d test/node/node_modules/mqtt-packet ] || { fail "reference tools" "test/node/node_modules/mqtt-packet missing (sh toolchain/deps-node.sh)"; finish; exit 1; }

# ------------------------------------------------------------ generated inputs
mkdir -p "$T_TMP/gen/mqtt" "$T_TMP/gen/dns" "$T_TMP/gen/json"
if "$PY" - "$T_TMP/gen" "$DIFF_SEED" "$DIFF_COUNT" >"$T_TMP/gen.log" 2>&1 <<'PYGEN'; then
import glob, json, os, random, sys
from dnslib import DNSRecord, DNSHeader, DNSQuestion, RR, QTYPE, SRV, A, AAAA, CNAME, TXT, MX, NS, EDNS0, DNSLabel

out, seed, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(seed)

def write(fam, i, data):
    with open(os.path.join(out, fam, "%s-%04d" % (fam, i)), "wb") as f:
        f.write(bytes(data))

def corpus(name):
    files = sorted(glob.glob("fuzz/corpus/%s/*" % name))
    return [open(p, "rb").read() for p in files]

def byte_mutate(b, lo=0, dictionary=()):
    b = bytearray(b)
    for _ in range(rnd.randint(1, 3)):
        op = rnd.randrange(6 if dictionary else 5)
        pos = rnd.randint(lo, max(lo, len(b)))
        if op == 0 and pos < len(b):
            b[pos] ^= 1 << rnd.randrange(8)
        elif op == 1 and pos < len(b):
            b[pos] = rnd.choice([0, 1, 0x7f, 0x80, 0xff, rnd.randrange(256)])
        elif op == 2 and pos < len(b):
            del b[pos:pos + rnd.randint(1, 4)]
        elif op == 3:
            b[pos:pos] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 4)))
        elif op == 4 and len(b) > lo:
            del b[rnd.randint(lo, len(b)):]
        elif dictionary:
            b[pos:pos] = rnd.choice(dictionary)
    return bytes(b)

# ---------------------------------------------------------------- MQTT
def varint(n, pad=0):
    o = bytearray()
    while True:
        d, n = n & 0x7f, n >> 7
        if n or pad:
            o.append(d | 0x80)
        else:
            o.append(d)
            break
        if not n:
            pad -= 1
            if pad == 0:
                o.append(0)
                break
    return bytes(o)

def pkt(first, body):
    pad = 1 if rnd.random() < 0.05 and len(body) < 128 else 0
    return bytes([first]) + varint(len(body), pad) + body

def s16(b):
    return len(b).to_bytes(2, "big") + b

TOPICS = [b"req/all", b"rsp/C25DTADSR00000000001", b"rsp/all/C25DTADSR00000000200",
          b"status/C25DTADSR00000000007", b"a/b", b"x", b"/", "\u00e9/\u00fc".encode(),
          "\u65e5\u672c/\u8a9e".encode(), b"data/x/interface/eth0"]
BAD_TOPICS = [b"", b"a/+", b"#", b"a\x00b", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xff"]
FILTERS = [b"req/#", b"rsp/+/x", b"+", b"#", b"a/b", b"+/+/#", "\u00e9/#".encode()]
BAD_FILTERS = [b"", b"a/#/b", b"a+/b", b"#/a", b"a/b#", b"\xc0\xaf", b"x\x00"]

def pid(bad):
    return 0 if bad and rnd.random() < 0.3 else rnd.randint(1, 65535)

def mqtt_packet():
    bad = rnd.random() < 0.3
    k = rnd.randrange(9)
    if k == 0:  # PUBLISH
        qos = rnd.choice([0, 1, 2])
        t = rnd.choice(BAD_TOPICS if bad and rnd.random() < 0.5 else TOPICS)
        dup = rnd.random() < 0.2 and (qos > 0 or bad)
        body = s16(t) + (pid(bad).to_bytes(2, "big") if qos else b"") + \
            bytes(rnd.randrange(256) for _ in range(rnd.choice([0, 1, 5, 40, 300])))
        return pkt(0x30 | dup << 3 | qos << 1 | (rnd.random() < 0.3), body)
    if k == 1:  # SUBSCRIBE
        n = 0 if bad and rnd.random() < 0.2 else rnd.randint(1, 4)
        body = pid(bad).to_bytes(2, "big")
        for _ in range(n):
            f = rnd.choice(BAD_FILTERS if bad and rnd.random() < 0.4 else FILTERS)
            body += s16(f) + bytes([rnd.choice([0, 1, 2, 3, 4] if bad else [0, 1, 2])])
        return pkt(0x82, body)
    if k == 2:  # UNSUBSCRIBE
        n = 0 if bad and rnd.random() < 0.2 else rnd.randint(1, 3)
        body = pid(bad).to_bytes(2, "big")
        for _ in range(n):
            body += s16(rnd.choice(BAD_FILTERS if bad and rnd.random() < 0.4 else FILTERS))
        return pkt(0xa2, body)
    if k == 3:  # SUBACK
        n = 0 if bad and rnd.random() < 0.2 else rnd.randint(1, 4)
        codes = [rnd.choice([0, 1, 2, 0x80] + ([3, 0x81] if bad else [])) for _ in range(n)]
        return pkt(0x90, pid(bad).to_bytes(2, "big") + bytes(codes))
    if k == 4:  # CONNACK
        sp = rnd.random() < 0.5
        rc = rnd.choice([0, 1, 5, 6, 0xff] if bad else [0, 0, 1, 2, 3, 4, 5])
        if not bad and rc:
            sp = False
        return pkt(0x20, bytes([sp, rc]))
    if k == 5:  # PUBACK PUBREC PUBREL PUBCOMP UNSUBACK
        t = rnd.choice([0x40, 0x50, 0x62, 0x70, 0xb0])
        return pkt(t, pid(bad).to_bytes(2, "big"))
    if k == 6:  # PINGREQ PINGRESP DISCONNECT
        return pkt(rnd.choice([0xc0, 0xd0, 0xe0]), b"")
    # CONNECT
    will = rnd.random() < 0.5
    user = rnd.random() < 0.6
    pw = user and rnd.random() < 0.7 or (bad and rnd.random() < 0.3)
    wq = rnd.choice([0, 1, 2, 3] if bad else [0, 1, 2]) if will else 0
    fl = (user << 7) | (pw << 6) | ((will and rnd.random() < 0.5) << 5) | (wq << 3) | (will << 2) | \
        (rnd.random() < 0.5) << 1
    proto = rnd.choice([b"\x00\x04MQTT\x04", b"\x00\x04MQTT\x04", b"\x00\x06MQIsdp\x03",
                        b"\x00\x04MQTT\x05", b"\x00\x04MQTT\x84"]) if bad else b"\x00\x04MQTT\x04"
    body = proto + bytes([fl]) + rnd.randint(0, 65535).to_bytes(2, "big")
    body += s16(rnd.choice([b"mesh-C25DTADSR00000000001", b"", b"c1", "\u00e9".encode()]
                          + ([b"\xc0\xaf"] if bad else [])))
    if will:
        body += s16(rnd.choice(TOPICS + (BAD_TOPICS if bad else []))) + s16(b"offline")
    if user:
        body += s16(b"dmqtt-646d6d2ef7f487f6")
    if pw:
        body += s16(bytes(rnd.randrange(256) for _ in range(rnd.choice([0, 8, 64]))))
    if bad and rnd.random() < 0.2:
        body += b"\x00"
    return pkt(0x10, body)

seeds = corpus("mqtt_packet")
for i in range(count):
    r = rnd.random()
    if r < 0.45:
        data = b"".join(mqtt_packet() for _ in range(rnd.randint(1, 3)))
        if rnd.random() < 0.3:
            data = byte_mutate(data)
    elif r < 0.85:
        data = byte_mutate(rnd.choice(seeds))
    else:
        data = rnd.choice(seeds) + byte_mutate(rnd.choice(seeds))
    write("mqtt", i, data)

# ---------------------------------------------------------------- DNS
QN = "_dmqtt._tcp.service.veeamesh.local"

def mixcase(s):
    return "".join(c.upper() if rnd.random() < 0.2 else c for c in s)

def host():
    r = rnd.random()
    if r < 0.03:
        return DNSLabel([b"h\xff", b"service", b"veeamesh", b"local"])  # not UTF-8
    if r < 0.09:
        return DNSLabel([b"a b", b"local"])  # not representable as text
    if r < 0.13:
        return DNSLabel([])  # the root: "service not offered"
    return rnd.choice(["dmqtt-broker-application", "n1", "n2", "backup", "x" * 63]) + \
        rnd.choice([".service.veeamesh.local", ".service.VEEAMESH.local", ".lan"])

def dns_message():
    h = DNSHeader(id=0x1234, qr=1, aa=rnd.random() < 0.7, ra=1, rd=1,
                  rcode=rnd.choice([0, 0, 0, 2, 3, 5]), tc=rnd.random() < 0.1)
    m = DNSRecord(h, q=DNSQuestion(mixcase(QN), QTYPE.SRV))
    targets = []
    for _ in range(rnd.randint(0, 5)):
        t = host()
        targets.append(t)
        m.add_answer(RR(mixcase(QN), QTYPE.SRV, ttl=rnd.choice([0, 60, 300, 2**31 + 7]),
                        rdata=SRV(rnd.randint(0, 3), rnd.choice([0, 10, 60]), rnd.choice([1883, 8883]), t)))
    if rnd.random() < 0.2:
        m.add_answer(RR(QN, QTYPE.CNAME, ttl=300, rdata=CNAME("alias.service.veeamesh.local")))
    if rnd.random() < 0.2:
        m.add_auth(RR("veeamesh.local", QTYPE.NS, ttl=300, rdata=NS("ns.veeamesh.local")))
    for t in targets:
        if rnd.random() < 0.7:
            m.add_ar(RR(t, QTYPE.A, ttl=300, rdata=A("10.%d.%d.%d" % (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)))))
        if rnd.random() < 0.4:
            m.add_ar(RR(t, QTYPE.AAAA, ttl=300, rdata=AAAA("fd00::%x" % rnd.randrange(65536))))
    if rnd.random() < 0.2:
        m.add_ar(RR("info.veeamesh.local", QTYPE.TXT, ttl=60, rdata=TXT(["v=1", "mesh"])))
    if rnd.random() < 0.15:
        m.add_ar(RR("mail.veeamesh.local", QTYPE.MX, ttl=60, rdata=MX("mx.veeamesh.local", 10)))
    if rnd.random() < 0.7:
        m.add_ar(EDNS0(udp_len=1232))
    return m.pack()

def qend(b):
    p = 12
    while p < len(b) and b[p] != 0 and b[p] < 0x40:
        p += b[p] + 1
    return min(len(b), p + 5)

def dns_mutate(b):
    b = bytearray(b)
    lo = qend(b)
    op = rnd.randrange(7)
    if op == 0 and len(b) > 12:  # a count
        i = rnd.choice([6, 8, 10])
        b[i:i + 2] = rnd.choice([0, 1, rnd.randint(0, 40), 65535]).to_bytes(2, "big")
    elif op == 1 and len(b) > lo + 1:  # a compression pointer somewhere
        pos = rnd.randint(lo, len(b) - 2)
        b[pos:pos + 2] = bytes([0xc0 | rnd.choice([0, 0, 1]), rnd.choice([0, 5, 12, 13, lo, pos & 0xff, rnd.randrange(256)])])
    elif op == 2 and len(b) > lo:  # a label length octet
        b[rnd.randint(lo, len(b) - 1)] = rnd.choice([0x3f, 0x40, 0x41, 0x80, 0xbf, 0x7f])
    elif op == 3 and len(b) > lo:  # a byte in the record area
        b[rnd.randint(lo, len(b) - 1)] = rnd.randrange(256)
    elif op == 4 and len(b) > lo:  # truncation inside the records
        del b[rnd.randint(lo, len(b)):]
    elif op == 5 and len(b) > lo + 2:  # RDLENGTH-like 16-bit field
        pos = rnd.randint(lo, len(b) - 2)
        v = (b[pos] << 8 | b[pos + 1]) + rnd.choice([-2, -1, 1, 2, 100])
        b[pos:pos + 2] = (v & 0xffff).to_bytes(2, "big")
    else:
        return byte_mutate(bytes(b), lo)
    return bytes(b)

seeds = corpus("dns_response")
for i in range(count):
    r = rnd.random()
    if r < 0.35:
        data = dns_message()
    elif r < 0.7:
        data = dns_mutate(dns_message())
    else:
        data = dns_mutate(rnd.choice(seeds))
    write("dns", i, data)

# ---------------------------------------------------------------- JSON
def jstr():
    chars = []
    for _ in range(rnd.randint(0, 8)):
        c = rnd.choice(["a", "Z", " ", "/", "\u00e9", "\u65e5", "\U0001F600", '"', "\\", "\n", "\x01", "\u2028", "\ufeff"])
        if c in '"\\':
            chars.append("\\" + c)
        elif ord(c) < 0x20 or rnd.random() < 0.2:
            cp = ord(c)
            if cp > 0xffff:
                cp -= 0x10000
                chars.append("\\u%04x\\u%04X" % (0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff)))
            else:
                chars.append("\\u%04x" % cp if rnd.random() < 0.5 else {"\n": "\\n", "\x01": "\\u0001"}.get(c, "\\u%04X" % cp))
        else:
            chars.append(c)
    if rnd.random() < 0.05:
        chars.append(rnd.choice(["\\ud800", "\\udfff", "\\ud83d\\u0041", "\\ude00\\ud83d"]))
    return '"' + "".join(chars) + '"'

def jnum():
    return rnd.choice(["0", "-0", "1", "-17", "3.25", "1e9", "1E+2", "2.5e-3", "123456789012345678901234567890",
                       "1" + "0" * 400, "1e400", "-1.5E-400", "0.000001"])

def ws():
    return rnd.choice(["", "", " ", "\n", "\t", "\r\n", "  "])

def jvalue(depth):
    r = rnd.random()
    if depth > 0 and r < 0.25:
        return "[" + ws() + ("," + ws()).join(jvalue(depth - 1) for _ in range(rnd.randint(0, 4))) + ws() + "]"
    if depth > 0 and r < 0.5:
        return "{" + ws() + ",".join(ws() + jstr() + ws() + ":" + ws() + jvalue(depth - 1) for _ in range(rnd.randint(0, 4))) + ws() + "}"
    if r < 0.7:
        return jstr()
    if r < 0.9:
        return jnum()
    return rnd.choice(["true", "false", "null"])

def jdeep():
    d = rnd.choice([63, 64, 65, 66, 100])
    inner = rnd.choice(["1", "[]", "{}", '"x"'])
    opens = [rnd.choice(["[", '{"k":']) for _ in range(d - (inner in ("[]", "{}")))]
    closes = ["]" if o == "[" else "}" for o in reversed(opens)]
    return "".join(opens) + inner + "".join(closes)

DICT = [b",", b"]", b"}", b"[", b"{", b'"', b"\\", b"\\u", b"\\ud800", b"\\udc00", b"NaN", b"Infinity",
        b"-Infinity", b"-", b"0", b"01", b"1e", b".", b" ", b"\t", b"\x00", b"\x1f", b"\x7f", b"\xc0\xaf",
        b"\xed\xa0\x80", b"\xef\xbb\xbf", b"tru", b"null", b"1E+2", b"-0", b"\xf4\x90\x80\x80", b":", b"/*x*/",
        b"'", b"\xe2\x80\xa8", b"\x0c"]
seeds = corpus("json")
for i in range(count):
    r = rnd.random()
    if r < 0.3:
        data = (ws() + jvalue(rnd.randint(0, 4)) + ws()).encode("utf-8", "surrogatepass")
    elif r < 0.38:
        data = jdeep().encode()
    elif r < 0.6:
        data = byte_mutate((jvalue(3)).encode("utf-8", "surrogatepass"), 0, DICT)
    else:
        data = byte_mutate(rnd.choice(seeds), 0, DICT)
    write("json", i, data)
# ---------------------------------------------------------------- edges
# Hand-picked boundary cases, written every run next to the random ones.
def edge(fam, items):
    for i, data in enumerate(items):
        with open(os.path.join(out, fam, "edge-%02d" % i), "wb") as f:
            f.write(data)

def name_wire(labels):
    return b"".join(bytes([len(l)]) + l for l in labels) + b"\0"

QW = name_wire([b"_dmqtt", b"_tcp", b"service", b"veeamesh", b"local"])
def dns_raw(records, an=None, ar=0, flags=b"\x85\x80"):
    n = len(records) if an is None else an
    return b"\x12\x34" + flags + b"\x00\x01" + n.to_bytes(2, "big") + b"\x00\x00" + \
        ar.to_bytes(2, "big") + QW + b"\x00\x21\x00\x01" + b"".join(records)
def rr(owner, rtype, rdata, ttl=300, rclass=1):
    return owner + rtype.to_bytes(2, "big") + rclass.to_bytes(2, "big") + ttl.to_bytes(4, "big") + \
        len(rdata).to_bytes(2, "big") + rdata
A4 = b"\x0a\x00\x00\x01"
# a name of exactly 255 and one of 256 octets on the wire
n255 = name_wire([b"a" * 63, b"b" * 63, b"c" * 63, b"d" * 61])
n256 = name_wire([b"a" * 63, b"b" * 63, b"c" * 63, b"d" * 62])
# chains of pointers, each to the one before: the last record's owner
# name takes K + 1 jumps to reach the root (we allow 127)
def chain_msg(k):
    base = 12 + len(QW) + 4
    first = rr(b"\x00", 1, A4)                 # owner: the root, at base
    rd = base + len(first) + 12                  # the type NULL record's RDATA
    ptrs = b"".join((0xc000 | (base if i == 0 else rd + 2 * (i - 1))).to_bytes(2, "big") for i in range(k))
    return dns_raw([first, rr(b"\xc0\x0c", 10, ptrs), rr((0xc000 | (rd + 2 * (k - 1))).to_bytes(2, "big"), 1, A4)])
edge("dns", [
    dns_raw([rr(b"\xc0\x0c", 1, A4, ttl=0x80000000)]),               # TTL top bit (RFC 2181 s8)
    dns_raw([rr(b"\xc0\x0c", 1, A4, ttl=0x7fffffff)]),
    dns_raw([rr(n255, 1, A4)]), dns_raw([rr(n256, 1, A4)]),
    dns_raw([rr(name_wire([b"x" * 63]), 1, A4)]),
    dns_raw([rr(b"\xc0\x05", 1, A4)]),                                # pointer into the header
    dns_raw([rr(b"\xc0\x0c", 1, A4, rclass=3)]),                       # class CH
    dns_raw([rr(b"\xc0\x0c", 1, A4 + b"\x00", rclass=3)]),            # class CH, RDLENGTH 5
    dns_raw([rr(b"\xc0\x0c", 28, bytes(16)), rr(b"\xc0\x0c", 28, bytes(15))]),
    dns_raw([rr(b"\xc0\x0c", 33, b"\x00\x01\x00\x02\x07\x5b\x00")]),  # SRV to "."
    dns_raw([rr(b"\xc0\x0c", 33, b"\x00\x01\x00\x02\x07\x5b\xc0\x0c")]),  # SRV target compressed
    dns_raw([rr(b"\xc0\x0c", 33, b"\x00\x01\x00\x02\x07\x5b\x00\x00")]),  # a byte after the target
    dns_raw([rr(b"\xc0\x0c", 5, b"\xc0\x0c")]),                       # CNAME to itself (no loop in the walk)
    dns_raw([rr(b"\xc0\x0c", 5, b"")]),
    dns_raw([rr(b"\xc0\x0c", 41, b"\x00\x0a\x00\x08" + bytes(8), ttl=0, rclass=1232)]),
    dns_raw([rr(b"\xc0\x0c", 1, A4)]) + b"trailing garbage",
    dns_raw([], flags=b"\x05\x80"),                                      # QR clear
    dns_raw([], flags=b"\x85\x8f"),                                      # RCODE 15
    dns_raw([], flags=b"\x8d\x80"),                                      # opcode 1
    chain_msg(100), chain_msg(126), chain_msg(127), chain_msg(128),
])

edge("mqtt", [
    b"\xc0\x80\x80\x80\x00",          # 4-byte encoding of 0
    b"\xc0\x80\x80\x80\x80\x00",      # 5 length bytes
    b"\x30\xff\xff\xff\x7f",           # the largest remaining length, no body
    b"\x30\x03\x00\x01a",              # payload empty
    b"\x32\x05\x00\x01a\x00\x01",      # QoS 1, no payload
    b"\x32\x04\x00\x01a\x00",          # QoS 1, packet id cut
    b"\x30\x05\x00\x03\xef\xbb\xbf",   # U+FEFF topic
    b"\x30\x05\x00\x03\xef\xbf\xbf",   # U+FFFF topic
    b"\x30\x03\x00\x01\x7f",           # U+007F topic
    b"\x30\x03\x00\x01\x01",           # U+0001 topic
    b"\x30\x06\x00\x04\xf0\x9f\x98\x80",  # 4-byte UTF-8
    b"\x30\x04\x00\x02\xc2\x80",       # U+0080
    b"\x30\x05\x00\x03\xe0\x80\xaf",   # overlong
    b"\x82\x06\x00\x01\x00\x01#\x00",  # SUBSCRIBE "#"
    b"\x82\x08\x00\x01\x00\x03+/+\x02",
    b"\x82\x06\x00\x01\x00\x01/\x00",
    b"\x82\x05\x00\x01\x00\x01/",       # QoS byte missing
    b"\xa2\x02\x00\x01",                 # UNSUBSCRIBE with no filter
    b"\x90\x03\x00\x01\x80",
    b"\x20\x02\x01\x00", b"\x20\x02\x01\x01", b"\x20\x02\x02\x00", b"\x20\x03\x00\x00\x00",
    b"\x40\x02\x00\x00", b"\x40\x03\x00\x01\x00", b"\x40\x01\x00",
    b"\xe0\x00", b"\xe0\x01\x00", b"\xd0\x00\xd0\x00\xd0",
    b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00",   # empty client id, clean
    b"\x10\x0c\x00\x04MQTT\x04\x00\x00\x3c\x00\x00",   # empty client id, not clean
    b"\x10\x0c\x00\x04MQTT\x04\x01\x00\x3c\x00\x00",   # reserved flag
    b"\x10\x0a\x00\x04MQTT\x04\x02\x00\x3c",           # client id missing
    b"\x10\x0e\x00\x06MQIsdp\x03\x02\x00\x3c\x00\x00",
    b"\x00\x00", b"\xf0\x00", b"\x01\x00", b"\x31\x03\x00\x01a\x38\x03\x00\x01a",
])

edge("json", [s.encode("utf-8", "surrogatepass") if isinstance(s, str) else s for s in [
    "0", "-0", "-", "-01", "1.", ".1", "1e", "1e+", "1E5", "-0.0e-0", "1" * 5000, "1e99999", "[1,]",
    "[,1]", "{\"a\":1,}", "{\"\":0}", "\"\\u00e9\"", "\"\\uD834\\uDD1E\"", "\"\\uDD1E\\uD834\"",
    "\"\\ud834\"", "\"\\u12G4\"", "\"\\/\"", "\"\x7f\"", " 1 ", "\x0c1", "1\x0c", "\v1", "nul", "truex",
    "[true false]", "{\"a\" 1}", "\"a", "[", "{", "[[]]]", "\"\\\"", "NaN", "-Infinity", "[Infinity]",
    "\ufeff{}", "{} \ufeff", "\"\u2028\"", "\"\x1f\"", "\"\\u0000\"", "1 2", "\"\\a\"",
    b'"\xc2"', b'"\xe2\x82"', b'"\xf0\x9f\x98"', b'"\xf8\x88\x80\x80\x80"', b'"\xe0\x80\xaf"',
    b'"\xed\xbf\xbf"', b'"\xf4\x8f\xbf\xbf"', b'"\xf4\x90\x80\x80"', b'"\xef\xbf\xbe"',
    "[" * 64 + "]" * 64, "[" * 65 + "]" * 65, "{\"a\":" * 64 + "1" + "}" * 64, "{\"a\":" * 65 + "1" + "}" * 65,
]])
print("generated %d inputs per format (seed %d) and the boundary cases" % (count, seed))
PYGEN
	ok "generated inputs: $(cat "$T_TMP/gen.log")"
else
	fail "generate inputs" "$(tail -5 "$T_TMP/gen.log")"
	finish
	exit 1
fi

# ------------------------------------------------------------ run and compare
# run_sides FAMILY CORPUS_DIR REF_CMD...: our driver and the reference over
# the same files, into $T_TMP/FAMILY.ours and $T_TMP/FAMILY.ref
run_sides() {
	_fam=$1 _cdir=$2
	shift 2
	"$T_TMP/${_fam}_driver" fuzz/corpus/"$_cdir"/* "$T_TMP"/gen/"$_fam"/* \
		>"$T_TMP/$_fam.ours" 2>"$T_TMP/$_fam.ours.err" ||
		{ fail "$_fam: our driver" "$(head -c 300 "$T_TMP/$_fam.ours.err")"; return 1; }
	"$@" fuzz/corpus/"$_cdir"/* "$T_TMP"/gen/"$_fam"/* >"$T_TMP/$_fam.ref" 2>"$T_TMP/$_fam.ref.err" ||
		{ fail "$_fam: reference" "$(head -c 300 "$T_TMP/$_fam.ref.err")"; return 1; }
}

compare() { # FAMILY
	DIFF_VERBOSE=$DIFF_VERBOSE "$PY" - "$1" "$T_TMP/$1.ours" "$T_TMP/$1.ref" <<'PYCMP'
import json, os, sys
fam, ours_path, ref_path = sys.argv[1:4]
verbose = os.environ.get("DIFF_VERBOSE", "0") == "1"

def load(path, ncol):
    rows = {}
    order = []
    for line in open(path, encoding="utf-8", errors="replace"):
        f = line.rstrip("\n").split("\t")
        if len(f) != ncol:
            print("malformed line in %s: %r" % (path, line[:200]))
            sys.exit(2)
        rows[f[0]] = f[1:]
        order.append(f[0])
    return rows, order

ours, order = load(ours_path, 3)
ref, _ = load(ref_path, 4)
if set(ours) != set(ref):
    print("the two sides did not see the same inputs")
    sys.exit(2)

MQTT_TAG = {"dup_qos0": "E_FLAGS", "utf8": "E_UTF8", "topic_empty": "E_TOPIC", "topic_wild": "E_TOPIC",
            "filter_wild": "E_TOPIC", "pid0": "E_PACKET_ID", "length": "E_MALFORMED",
            "trailing": "E_MALFORMED", "empty_list": "E_MALFORMED", "connack_rc": "E_RETURN_CODE",
            "connack_sp": "E_MALFORMED", "will_qos3": "E_QOS", "pass_no_user": "E_MALFORMED",
            "protocol": "E_MALFORMED", "reserved_type": "E_TYPE"}
DNS_TAG = {"ptr_header": "E_POINTER", "ptr_not_prior": "E_POINTER", "ptr_many": "E_POINTER",
           "label_type": "E_FORMAT", "name_long": "E_FORMAT", "short": "E_SHORT", "rdata_shape": "E_RDATA"}
DNS_REVERSE = {"label_not_utf8", "opaque_bad"}
JSON_TAG = {"lone_surrogate": "SURROGATE", "depth": "DEPTH"}

def kind(v):
    return v.split(":", 1)[0]

def judge_mqtt(o, r):
    """(category, detail): agree / documented / unexplained."""
    vo, po = o[0], o[1].split(" ") if o[1] != "-" else []
    vr, pr = r[0], r[1].split(" ") if r[1] != "-" else []
    notes = json.loads(r[2])
    # a packet we accepted must break none of the rules the checker knows
    for k in range(len(po)):
        if k < len(notes) and notes[k]:
            return "unexplained", "we accepted packet %d, which breaks %s" % (k, ",".join(notes[k]))
    if po == pr and kind(vo) == kind(vr):
        return "agree", kind(vo)
    k = 0
    while k < len(po) and k < len(pr) and po[k] == pr[k]:
        k += 1
    if k < len(po) and k < len(pr):
        return "unexplained", "packet %d differs" % k
    if k == len(po) and kind(vo) == "reject":
        st = vo.split(":", 1)[1]
        tags = notes[k] if k < len(notes) else []
        why = sorted(t for t in tags if MQTT_TAG.get(t) == st)
        if why:
            return "documented", "+".join(why)
        return "unexplained", "we refuse packet %d (%s), mqtt-packet %s; rules broken: %s" % (
            k, st, "takes it" if k < len(pr) else vr, ",".join(tags) or "none")
    return "unexplained", "mqtt-packet stops at packet %d (%s), we go on" % (k, vr)

def judge_dns(o, r):
    vo, so = o[0], o[1]
    vr, sr = r[0], r[1]
    facts = json.loads(r[2])
    fwd = [f for f in facts if f.split("@")[0] not in DNS_REVERSE]
    rev = sorted({f.split("@")[0] for f in facts} & DNS_REVERSE)
    if kind(vo) == "accept" and fwd:
        return "unexplained", "we accepted a message that breaks %s" % ",".join(fwd)
    if kind(vo) == kind(vr) and (kind(vo) == "reject" or so == sr):
        return "agree", kind(vo)
    if kind(vo) == "reject":
        st, where = vo.split(":", 1)[1].split("@")
        why = sorted(f.split("@")[0] for f in fwd if f.split("@")[1] == where and DNS_TAG.get(f.split("@")[0]) == st)
        if why:
            return "documented", "+".join(why)
        return "unexplained", "we refuse (%s at %s), dnslib accepts; facts: %s" % (st, where, ",".join(facts) or "none")
    if rev:
        return "documented", "+".join(rev)
    return "unexplained", "we accept, dnslib %s" % ("differs" if kind(vr) == "accept" else "refuses")

def judge_json(o, r):
    vo, vr = o[0], r[0]
    notes = json.loads(r[2])
    if kind(vo) == "accept" and notes:
        return "unexplained", "we accepted a document with %s" % ",".join(notes)
    if kind(vo) == kind(vr):
        return "agree", kind(vo)
    if kind(vo) == "reject":
        st = vo.split(":", 1)[1].split("@")[0]
        why = sorted(t for t in notes if JSON_TAG[t] == st)
        if why:
            return "documented", "+".join(why)
        return "unexplained", "we refuse (%s), Python accepts" % vo.split(":", 1)[1]
    return "unexplained", "we accept, Python refuses"

judge = {"mqtt": judge_mqtt, "dns": judge_dns, "json": judge_json}[fam]
counts = {"agree": {}, "documented": {}, "unexplained": {}}
ncorpus = sum(1 for p in order if p.startswith("fuzz/corpus/"))
for path in order:
    cat, detail = judge(ours[path], ref[path])
    counts[cat][detail] = counts[cat].get(detail, 0) + 1
    if cat == "unexplained" or (cat == "documented" and verbose):
        data = open(path, "rb").read()
        hx = data.hex()
        print("%s %s: %s" % ("UNEXPLAINED" if cat == "unexplained" else "documented", path, detail))
        print("    input (%d bytes): %s%s" % (len(data), hx[:512], "..." if len(hx) > 512 else ""))
        print("    ours: %s  %s" % (ours[path][0], ours[path][1][:400]))
        print("    ref:  %s  %s  %s" % (ref[path][0], ref[path][1][:400], ref[path][2]))
agree = sum(counts["agree"].values())
doc = sum(counts["documented"].values())
bad = sum(counts["unexplained"].values())
print("%s: %d inputs (%d corpus, %d generated): %d agree (%s), %d documented differences (%s), %d unexplained" % (
    fam, len(order), ncorpus, len(order) - ncorpus, agree,
    ", ".join("%s %d" % kv for kv in sorted(counts["agree"].items())) or "-", doc,
    ", ".join("%s %d" % kv for kv in sorted(counts["documented"].items())) or "-", bad))
sys.exit(1 if bad else 0)
PYCMP
}

for spec in "mqtt mqtt_packet node test/diff/mqtt_ref.mjs" \
	"dns dns_response $PY test/diff/dns_ref.py" \
	"json json $PY test/diff/json_ref.py"; do
	# shellcheck disable=SC2086
	set -- $spec
	fam=$1 cdir=$2
	shift 2
	run_sides "$fam" "$cdir" "$@" || continue
	n_in=0
	for f in fuzz/corpus/"$cdir"/* "$T_TMP"/gen/"$fam"/*; do [ -f "$f" ] && n_in=$((n_in + 1)); done
	if [ "$(wc -l <"$T_TMP/$fam.ours")" -ne "$n_in" ] || [ "$(wc -l <"$T_TMP/$fam.ref")" -ne "$n_in" ]; then
		fail "$fam: one line per input" "ours $(wc -l <"$T_TMP/$fam.ours"), reference $(wc -l <"$T_TMP/$fam.ref"), inputs $n_in"
		continue
	fi
	compare "$fam" >"$T_TMP/$fam.cmp" 2>&1
	rc=$?
	sed '$d' "$T_TMP/$fam.cmp"
	if [ $rc -eq 0 ]; then ok "$(tail -n 1 "$T_TMP/$fam.cmp")"; else fail "$fam" "$(tail -n 1 "$T_TMP/$fam.cmp")"; fi
done
finish
