#!/usr/bin/python3
"""fakebroker.py -- a deliberately broken MQTT 3.1.1 broker for dmqtt's
adversarial tests (test/integration/mqtt_adversarial.sh).  Stdlib only.

    fakebroker.py SCENARIO [--log FILE] [--life SECONDS]
    fakebroker.py --list

Listens on a free 127.0.0.1 port and prints "ready PORT" on stdout once it
does.  The FIRST connection gets SCENARIO; every later one is served by a
small well-behaved broker (CONNACK 0; SUBACK granting what was asked,
followed by one QoS 0 PUBLISH "hello" on each subscribed filter (a filter
with wildcards gets topic "x"); PUBACK/PUBREC/PUBCOMP for the client's
publishes; PINGRESP), so a client that is meant to recover from a broken
connection can be seen to do so, and a client that is meant to give up
can be seen not to retry.

"pre" scenarios answer the CONNECT with something other than a good
CONNACK; "sub:" / "pub:" scenarios send a good CONNACK and then misbehave
at the first SUBSCRIBE / PUBLISH from the client.

--log FILE gets one line per event, e.g.
    12.345 conn 1 recv PUBLISH flags=0x2 dup=0 qos=1 id=1 topic='x' len=1
    12.400 conn 1 send PUBACK id=2 (wrong id)
Exits after --life seconds (default 30) or on SIGTERM.
"""
import socket
import struct
import sys
import time

NAMES = {1: "CONNECT", 2: "CONNACK", 3: "PUBLISH", 4: "PUBACK", 5: "PUBREC",
         6: "PUBREL", 7: "PUBCOMP", 8: "SUBSCRIBE", 9: "SUBACK",
         10: "UNSUBSCRIBE", 11: "UNSUBACK", 12: "PINGREQ", 13: "PINGRESP",
         14: "DISCONNECT"}
T0 = time.monotonic()
LOG = None


def log(msg):
    line = "%.3f %s\n" % (time.monotonic() - T0, msg)
    if LOG is not None:
        LOG.write(line)
        LOG.flush()


def varint(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def pkt(first, body=b""):
    return bytes([first]) + varint(len(body)) + body


def s16(b):
    return struct.pack(">H", len(b)) + b


def publish(topic, payload, qos=0, pid=1, first=None):
    body = s16(topic) + (struct.pack(">H", pid) if qos else b"") + payload
    return pkt(first if first is not None else 0x30 | qos << 1, body)


def ack(ptype, pid):
    return pkt(ptype << 4 | (2 if ptype == 6 else 0), struct.pack(">H", pid))


def connack(code=0, flags=0):
    return bytes([0x20, 2, flags, code])


CONNECT_PKT = pkt(0x10, s16(b"MQTT") + b"\x04\x02\x00\x3c" + s16(b"fake-server"))


class Conn:
    def __init__(self, sock, n):
        self.s = sock
        self.n = n
        self.buf = b""
        self.s.settimeout(0.2)

    def log(self, msg):
        log("conn %d %s" % (self.n, msg))

    def _fill(self, want, deadline):
        while len(self.buf) < want:
            if time.monotonic() > deadline:
                return False
            try:
                d = self.s.recv(65536)
            except socket.timeout:
                continue
            except OSError as e:
                self.log("recv error %s" % e)
                return None
            if not d:
                return None
            self.buf += d
        return True

    def read(self, seconds=15.0):
        """One packet: (type, flags, body); None on EOF, "timeout" on timeout."""
        deadline = time.monotonic() + seconds
        r = self._fill(2, deadline)
        if r is not True:
            if r is None:
                self.log("eof")
            return "timeout" if r is False else None
        mult, n, i = 1, 0, 1
        while True:
            r = self._fill(i + 1, deadline)
            if r is not True:
                if r is None:
                    self.log("eof")
                return "timeout" if r is False else None
            b = self.buf[i]
            n += (b & 0x7F) * mult
            mult *= 128
            i += 1
            if not b & 0x80 or i > 4:
                break
        r = self._fill(i + n, deadline)
        if r is not True:
            if r is None:
                self.log("eof")
            return "timeout" if r is False else None
        first, body = self.buf[0], self.buf[i:i + n]
        self.buf = self.buf[i + n:]
        t, fl = first >> 4, first & 15
        desc = "recv %s flags=0x%x" % (NAMES.get(t, "TYPE%d" % t), fl)
        if t == 3:
            tl = struct.unpack(">H", body[:2])[0]
            qos = (fl >> 1) & 3
            pid = struct.unpack(">H", body[2 + tl:4 + tl])[0] if qos else 0
            desc += " dup=%d qos=%d id=%d topic=%r len=%d" % (
                fl >> 3, qos, pid, body[2:2 + tl].decode("utf-8", "replace"),
                len(body) - 2 - tl - (2 if qos else 0))
        elif t in (4, 5, 6, 7, 8, 10):
            desc += " id=%d" % struct.unpack(">H", body[:2])[0]
        self.log(desc)
        return t, fl, body

    def send(self, data, what):
        self.log("send " + what)
        try:
            self.s.sendall(data)
            return True
        except OSError as e:
            self.log("send error %s" % e)
            return False

    def drain(self, seconds=15.0):
        """Read (and log) whatever the client still sends, until it closes."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            p = self.read(end - time.monotonic())
            if p is None or p == "timeout":
                return


def sub_filters(body):
    pid = struct.unpack(">H", body[:2])[0]
    i, out = 2, []
    while i < len(body):
        n = struct.unpack(">H", body[i:i + 2])[0]
        out.append((body[i + 2:i + 2 + n], body[i + 2 + n]))
        i += 3 + n
    return pid, out


def serve(c, on_sub=None, on_pub=None, seconds=15.0):
    """A well-behaved broker for one client, with one-shot overrides for
    the first SUBSCRIBE / PUBLISH (return True when they handled it)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        p = c.read(end - time.monotonic())
        if p is None or p == "timeout":
            return
        t, fl, body = p
        if t == 1:
            c.send(connack(0), "CONNACK 0")
        elif t == 8:
            pid, filters = sub_filters(body)
            h, on_sub = on_sub, None
            if h is not None and h(c, pid, filters):
                continue
            c.send(pkt(0x90, struct.pack(">H", pid) + bytes(min(q, 2) for _, q in filters)),
                   "SUBACK id=%d" % pid)
            for f, _ in filters:
                topic = b"x" if (b"+" in f or b"#" in f) else f
                c.send(publish(topic, b"hello"), "PUBLISH hello")
        elif t == 3:
            tl = struct.unpack(">H", body[:2])[0]
            qos = (fl >> 1) & 3
            pid = struct.unpack(">H", body[2 + tl:4 + tl])[0] if qos else 0
            h, on_pub = on_pub, None
            if h is not None and h(c, pid, qos):
                continue
            if qos == 1:
                c.send(ack(4, pid), "PUBACK id=%d" % pid)
            elif qos == 2:
                c.send(ack(5, pid), "PUBREC id=%d" % pid)
        elif t == 6:
            c.send(ack(7, struct.unpack(">H", body[:2])[0]), "PUBCOMP")
        elif t == 12:
            c.send(bytes([0xD0, 0]), "PINGRESP")
        elif t == 14:
            pass  # the client closes next


# ---- scenarios: the first connection ------------------------------------

def answer(data, what):
    """pre: read CONNECT, send data instead of a good CONNACK, then wait for
    the client to close."""
    def run(c):
        if c.read() in (None, "timeout"):
            return
        c.send(data, what)
        c.drain()
    return run


def pre_trunc_close(c):
    if c.read() in (None, "timeout"):
        return
    c.send(b"\x20\x05\x00\x00", "CONNACK claiming 5 bytes, 2 sent, then close")
    c.s.shutdown(socket.SHUT_WR)
    c.drain(3)


def pre_silent(c):
    c.read()
    c.log("never answering")
    c.drain()


def pre_close_now(c):
    c.log("closing at once")


def pre_close_after_connect(c):
    c.read()
    c.log("closing after CONNECT")


def pre_huge(first):
    def run(c):
        if c.read() in (None, "timeout"):
            return
        if c.send(bytes([first]) + b"\xff\xff\xff\x7f", "0x%02x remaining length 268435455" % first):
            junk = bytes(range(256)) * 256
            for _ in range(16):  # 1 MiB of garbage, or until the client goes
                if not c.send(junk, "64 KiB garbage"):
                    break
        c.drain()
    return run


def on_sub_send(make, what, then_serve=True):
    """sub: at the first SUBSCRIBE send make(pid, filters)."""
    def hook(c, pid, filters):
        c.send(make(pid, filters), what)
        return not then_serve
    return lambda c: serve(c, on_sub=hook)


def sub_suback_wrongid(c):
    def hook(c, pid, filters):
        c.send(pkt(0x90, struct.pack(">H", pid + 1) + b"\x00"), "SUBACK id=%d (wrong id)" % (pid + 1))
        c.send(pkt(0x90, struct.pack(">H", pid + 7) + b"\x00\x00"), "SUBACK id=%d (wrong id, 2 codes)" % (pid + 7))
        time.sleep(0.3)
        c.send(pkt(0x90, struct.pack(">H", pid) + b"\x00"), "SUBACK id=%d (right id)" % pid)
        c.send(publish(filters[0][0], b"hello"), "PUBLISH hello")
        return True
    serve(c, on_sub=hook)


def sub_after_suback(data, what):
    """sub: good SUBACK, then data (a bad PUBLISH, a stray packet)."""
    def hook(c, pid, filters):
        c.send(pkt(0x90, struct.pack(">H", pid) + b"\x00"), "SUBACK id=%d" % pid)
        c.send(data, what)
        return True
    return lambda c: serve(c, on_sub=hook)


def sub_publish_huge(c):
    def hook(c, pid, filters):
        c.send(pkt(0x90, struct.pack(">H", pid) + b"\x00"), "SUBACK id=%d" % pid)
        c.send(b"\x30\xff\xff\xff\x7f\x00\x01x", "PUBLISH remaining length 268435455 topic x")
        junk = bytes(range(256)) * 256
        for _ in range(16):
            if not c.send(junk, "64 KiB garbage"):
                break
        c.log("closing mid-packet")
        return True
    serve(c, on_sub=hook, seconds=1.0)


def pub_wrong_then_right(kind):
    """pub: a wrong-id ack (and an id never used), 0.3 s later the right one."""
    def hook(c, pid, qos):
        t = 4 if kind == "puback" else 5
        c.send(ack(t, pid + 1), "%s id=%d (wrong id)" % (kind.upper(), pid + 1))
        c.send(ack(t, 4242), "%s id=4242 (wrong id)" % kind.upper())
        time.sleep(0.3)
        c.send(ack(t, pid), "%s id=%d (right id)" % (kind.upper(), pid))
        return True
    return lambda c: serve(c, on_pub=hook)


def pub_pubcomp_wrongid(c):
    state = {}

    def hook(c, pid, qos):
        c.send(ack(5, pid), "PUBREC id=%d" % pid)
        state["pid"] = pid
        p = c.read()
        if p in (None, "timeout"):
            return True
        c.send(ack(7, pid + 1), "PUBCOMP id=%d (wrong id)" % (pid + 1))
        time.sleep(0.3)
        c.send(ack(7, pid), "PUBCOMP id=%d (right id)" % pid)
        return True
    serve(c, on_pub=hook)


def pub_on_publish(data, what, then_ack=False):
    """pub: at the first PUBLISH send data instead of the ack (with
    then_ack, followed by the right ack)."""
    def hook(c, pid, qos):
        c.send(data, what)
        if then_ack:
            c.send(ack(4 if qos == 1 else 5, pid), "ack id=%d (right id)" % pid)
        return True
    return lambda c: serve(c, on_pub=hook)


def pub_unsolicited(data, what):
    """pub: right after CONNACK (before acking anything) send data."""
    def run(c):
        p = c.read()
        if p in (None, "timeout"):
            return
        c.send(connack(0), "CONNACK 0")
        c.send(data, what)
        serve(c)
    return run


SCENARIOS = {
    # ---- pre: instead of a good CONNACK
    "trunc_close": pre_trunc_close,
    "varint5": answer(b"\x20\xff\xff\xff\xff\x7f", "CONNACK with a 5-byte remaining length"),
    "connect": answer(CONNECT_PKT, "CONNECT (from the server)"),
    "type0": answer(b"\x00\x00", "reserved type 0"),
    "type15": answer(b"\xf0\x00", "reserved type 15"),
    "suback_first": answer(b"\x90\x03\x00\x01\x00", "SUBACK before CONNACK"),
    "publish_first": answer(publish(b"x", b"early"), "PUBLISH before CONNACK"),
    "huge_connack": pre_huge(0x20),
    "huge_publish_first": pre_huge(0x30),
    "connack1": answer(connack(1), "CONNACK 1"),
    "connack2": answer(connack(2), "CONNACK 2"),
    "connack3": answer(connack(3), "CONNACK 3"),
    "connack4": answer(connack(4), "CONNACK 4"),
    "connack5": answer(connack(5), "CONNACK 5"),
    "connack6": answer(connack(6), "CONNACK 6 (no such code)"),
    "connack_sp_refused": answer(connack(5, 1), "CONNACK 5 with session present"),
    "connack_flags": answer(connack(0, 2), "CONNACK with reserved flag bits"),
    "connack_long": answer(b"\x20\x03\x00\x00\x00", "CONNACK of 3 bytes"),
    "silent": pre_silent,
    "close_now": pre_close_now,
    "close_after_connect": pre_close_after_connect,
    # ---- sub: after a good CONNACK, at the first SUBSCRIBE
    "sub:suback_wrongid": sub_suback_wrongid,
    "sub:suback_count": on_sub_send(lambda p, f: pkt(0x90, struct.pack(">H", p) + b"\x00\x00"),
                                    "SUBACK with 2 codes for 1 filter"),
    "sub:suback_code3": on_sub_send(lambda p, f: pkt(0x90, struct.pack(">H", p) + b"\x03"),
                                    "SUBACK code 3"),
    "sub:suback_id0": on_sub_send(lambda p, f: pkt(0x90, b"\x00\x00\x00"), "SUBACK id 0"),
    "sub:suback_refused": on_sub_send(lambda p, f: pkt(0x90, struct.pack(">H", p) + b"\x80"),
                                      "SUBACK 0x80", then_serve=False),
    "sub:publish_qos3": sub_after_suback(publish(b"x", b"BAD", first=0x36, pid=9), "PUBLISH QoS 3"),
    "sub:publish_wildcard": sub_after_suback(publish(b"x/+", b"BAD"), "PUBLISH topic x/+"),
    "sub:publish_hash": sub_after_suback(publish(b"#", b"BAD"), "PUBLISH topic #"),
    "sub:publish_badutf8": sub_after_suback(publish(b"x\xff\xfe", b"BAD"), "PUBLISH topic x\\xff\\xfe"),
    "sub:publish_surrogate": sub_after_suback(publish(b"x\xed\xa0\x80", b"BAD"), "PUBLISH topic with a UTF-16 surrogate"),
    "sub:publish_nul": sub_after_suback(publish(b"x\x00y", b"BAD"), "PUBLISH topic with U+0000"),
    "sub:publish_empty_topic": sub_after_suback(publish(b"", b"BAD"), "PUBLISH empty topic"),
    "sub:publish_id0": sub_after_suback(publish(b"x", b"BAD", qos=1, pid=0), "PUBLISH QoS 1 id 0"),
    "sub:publish_topic_overrun": sub_after_suback(pkt(0x30, b"\x00\x50xy"), "PUBLISH topic length past the end"),
    "sub:publish_dup_qos0": sub_after_suback(publish(b"x", b"BAD", first=0x38), "PUBLISH DUP=1 at QoS 0"),
    "sub:publish_huge": sub_publish_huge,
    "sub:connect": sub_after_suback(CONNECT_PKT, "CONNECT after CONNACK"),
    "sub:connack_again": sub_after_suback(connack(0), "a second CONNACK"),
    "sub:pingreq": sub_after_suback(b"\xc0\x00", "PINGREQ from the server"),
    "sub:type0": sub_after_suback(b"\x00\x00", "reserved type 0"),
    "sub:type15": sub_after_suback(b"\xf0\x00", "reserved type 15"),
    "sub:varint5": sub_after_suback(b"\x30\xff\xff\xff\xff\x7f", "PUBLISH with a 5-byte remaining length"),
    # ---- pub: after a good CONNACK, at the first PUBLISH
    "pub:puback_wrongid": pub_wrong_then_right("puback"),
    "pub:pubrec_wrongid": pub_wrong_then_right("pubrec"),
    "pub:pubcomp_wrongid": pub_pubcomp_wrongid,
    "pub:puback_id0": pub_on_publish(b"\x40\x02\x00\x00", "PUBACK id 0"),
    "pub:puback_long": pub_on_publish(b"\x40\x03\x00\x01\x00", "PUBACK of 3 bytes"),
    "pub:suback": pub_on_publish(b"\x90\x03\x00\x01\x00", "SUBACK nobody asked for", then_ack=True),
    "pub:pubrel_unknown": pub_on_publish(ack(6, 777), "PUBREL for an id never received", then_ack=True),
    "pub:publish_qos3": pub_unsolicited(publish(b"x", b"BAD", first=0x36, pid=9), "PUBLISH QoS 3"),
    "pub:publish_wildcard": pub_unsolicited(publish(b"x/#", b"BAD"), "PUBLISH topic x/#"),
    "pub:connect": pub_unsolicited(CONNECT_PKT, "CONNECT after CONNACK"),
    "pub:type15": pub_unsolicited(b"\xf0\x00", "reserved type 15"),
    "pub:huge": pub_on_publish(b"\x40\xff\xff\xff\x7f" + b"\x00" * 4096, "PUBACK remaining length 268435455"),
}


def main(argv):
    global LOG
    if len(argv) >= 2 and argv[1] == "--list":
        print("\n".join(SCENARIOS))
        return 0
    if len(argv) < 2 or argv[1] not in SCENARIOS:
        sys.stderr.write("usage: fakebroker.py SCENARIO [--log FILE] [--life S] | --list\n")
        return 64
    name, life, i = argv[1], 30.0, 2
    while i < len(argv):
        if argv[i] == "--log" and i + 1 < len(argv):
            LOG = open(argv[i + 1], "a")
        elif argv[i] == "--life" and i + 1 < len(argv):
            life = float(argv[i + 1])
        else:
            sys.stderr.write("fakebroker.py: bad argument %r\n" % argv[i])
            return 64
        i += 2
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(8)
    ls.settimeout(0.2)
    sys.stdout.write("ready %d\n" % ls.getsockname()[1])
    sys.stdout.flush()
    log("scenario %s" % name)
    end = time.monotonic() + life
    n = 0
    while time.monotonic() < end:
        try:
            s, _ = ls.accept()
        except socket.timeout:
            continue
        n += 1
        c = Conn(s, n)
        c.log("accepted")
        try:
            if n == 1:
                SCENARIOS[name](c)
            else:
                serve(c)
        except OSError as e:
            c.log("error %s" % e)
        finally:
            s.close()
            c.log("closed")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except KeyboardInterrupt:
        sys.exit(0)
