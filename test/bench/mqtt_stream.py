#!/usr/bin/python3
"""mqtt_stream.py -- record the bytes a real mosquitto sends a subscriber,
and replay them to a client, for test/bench/mqtt_rx.sh.  Stdlib only.

    mqtt_stream.py record PORT QOS COUNT OUT LINES
        Connect to the mosquitto on 127.0.0.1:PORT as a plain MQTT 3.1.1
        client, subscribe to bench/rx at QOS, then publish every line of
        the file LINES with `mosquitto_pub -q 1 -l` and write the first
        COUNT PUBLISH packets the broker delivers, byte for byte, to OUT
        (a QoS 1 one is acknowledged, so the broker goes on sending).

    mqtt_stream.py serve STREAM COUNT READY
        A broker that replays: listen on a free 127.0.0.1 port and write
        "PORT" to the file READY; accept one client; answer its CONNECT with
        CONNACK 0 and its SUBSCRIBE with a SUBACK granting what it asked;
        after a pause (so the SUBACK arrives alone), send the first COUNT
        packets of STREAM as fast as the client takes them, while reading
        (and counting) what it sends; exit when it closes the connection.
        Prints "sent COUNT bytes B acks A" on stdout.
"""
import os
import select
import socket
import struct
import subprocess
import sys
import time

# the packet encoders of the adversarial tests' fake broker
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from fakebroker import pkt, s16  # noqa: E402


def split(buf):
    """Complete packets at the start of buf: list of (first byte, body,
    whole packet), and how many bytes they take."""
    out, off = [], 0
    while off < len(buf):
        mult, n, i = 1, 0, off + 1
        while True:
            if i >= len(buf):
                return out, off
            b = buf[i]
            n += (b & 0x7F) * mult
            mult *= 128
            i += 1
            if not b & 0x80:
                break
        if i + n > len(buf):
            return out, off
        out.append((buf[off], buf[i:i + n], buf[off:i + n]))
        off = i + n
    return out, off


def record(port, qos, count, out, lines):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(pkt(0x10, s16(b"MQTT") + b"\x04\x02\x00\x3c" + s16(b"rx-recorder")))
    s.sendall(pkt(0x82, struct.pack(">H", 1) + s16(b"bench/rx") + bytes([qos])))
    buf, got, pub = b"", [], None
    while len(got) < count:
        data = s.recv(1 << 16)
        if not data:
            sys.exit("record: the broker closed the connection after %d packets" % len(got))
        buf += data
        pkts, used = split(buf)
        buf = buf[used:]
        for first, body, whole in pkts:
            kind = first >> 4
            if kind == 2 and body[1] != 0:
                sys.exit("record: CONNACK %d" % body[1])
            if kind == 9 and pub is None:
                with open(lines, "rb") as f:
                    pub = subprocess.Popen(["mosquitto_pub", "-p", str(port), "-t", "bench/rx",
                                            "-q", "1", "-l"], stdin=f)
            if kind == 3 and len(got) < count:
                got.append(whole)
                if (first >> 1) & 3 == 1:
                    tlen = struct.unpack(">H", body[:2])[0]
                    s.sendall(pkt(0x40, body[2 + tlen:4 + tlen]))
    s.sendall(b"\xe0\x00")
    s.close()
    if pub is not None and pub.wait(60) != 0:
        sys.exit("record: mosquitto_pub failed")
    with open(out, "wb") as f:
        f.write(b"".join(got))


def serve(stream, count, ready):
    with open(stream, "rb") as f:
        pkts, _ = split(f.read())
    if len(pkts) < count:
        sys.exit("serve: %s holds %d packets, not %d" % (stream, len(pkts), count))
    out = b"".join(p[2] for p in pkts[:count])
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    tmp = ready + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.rename(tmp, ready)
    ls.settimeout(120)
    c, _ = ls.accept()
    ls.close()
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf, sent, acks, streaming, closed = b"", 0, 0, False, False
    deadline = time.monotonic() + 600
    while not closed and time.monotonic() < deadline:
        want_w = [c] if streaming and sent < len(out) else []
        r, w, _ = select.select([c], want_w, [], 1.0)
        if r:
            data = c.recv(1 << 16)
            if not data:
                closed = True
            buf += data
            got, used = split(buf)
            buf = buf[used:]
            for first, body, _ in got:
                kind = first >> 4
                if kind == 1:
                    c.sendall(bytes([0x20, 2, 0, 0]))
                elif kind == 8:
                    c.sendall(pkt(0x90, body[:2] + bytes([body[-1] & 3])))
                    time.sleep(0.2)
                    streaming = True
                    c.setblocking(False)
                elif kind == 4:
                    acks += 1
                elif kind == 12:
                    c.sendall(b"\xd0\x00")
                elif kind == 14:
                    closed = True
        if w:
            try:
                sent += c.send(out[sent:sent + (1 << 18)])
            except BlockingIOError:
                pass
    c.close()
    print("sent %d bytes %d acks %d" % (count, sent, acks))


def main():
    if len(sys.argv) == 7 and sys.argv[1] == "record":
        record(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6])
    elif len(sys.argv) == 5 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
