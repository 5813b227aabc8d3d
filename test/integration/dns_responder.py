#!/usr/bin/python3
"""Scripted DNS server for test/integration/dns.sh (stdlib only).

    dns_responder.py --port-file F [--log L] [--mode MODE] [--silent]

Binds UDP and TCP on the same free loopback port (written to F once both are
bound).  --silent: a UDP socket that reads queries and drops them (no TCP).

An SRV query for _MODE._tcp.<anything> is answered in that MODE (--mode
forces one MODE for every query).  A/AAAA queries for any other name get
127.0.0.1 / no data, so SRV targets resolve.  Every query is logged to L as
"udp|tcp QNAME QTYPE ID SRCPORT".

Modes:
  ok        SRV 0 0 1883 broker.h.test, A 127.0.0.1 in the additional section
  tc        UDP: TC=1 and no answer; TCP: the full "ok" answer
  wrongid   the "ok" answer with a different ID, always
  wrongq    the "ok" answer to another question name
  ptrloop   answer owner is a compression pointer to itself
  fwdptr    answer owner is a pointer forward, into the SRV RDATA
  longname  SRV target of 306 octets (over the 255 limit)
  rdlen     SRV RDLENGTH runs past the end of the message
  a5        good SRV, additional A record with RDLENGTH 5
  empty     NOERROR with 0 answers
  flood     500 SRV records, targets t0..t499.h.test (mixed priorities)
  servfail  RCODE 2
  refused   RCODE 5
"""
import argparse
import os
import socket
import struct
import sys
import threading

T_A, T_AAAA, T_SRV = 1, 28, 33
LOCK = threading.Lock()


def enc_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def rr(owner, rtype, rdata, ttl=60, rclass=1, rdlen=None):
    return owner + struct.pack(">HHIH", rtype, rclass, ttl,
                               len(rdata) if rdlen is None else rdlen) + rdata


def srv_rdata(prio, weight, port, target_bytes):
    return struct.pack(">HHH", prio, weight, port) + target_bytes


def parse_query(q):
    """(id, flags, qname, qtype, raw question bytes) or None."""
    if len(q) < 12:
        return None
    qid, flags, qd = struct.unpack(">HHH", q[:6])
    if qd != 1:
        return None
    off, labels = 12, []
    while True:
        if off >= len(q):
            return None
        n = q[off]
        off += 1
        if n == 0:
            break
        if n > 63 or off + n > len(q):
            return None
        labels.append(q[off:off + n].decode("ascii", "replace"))
        off += n
    if off + 4 > len(q):
        return None
    qtype = struct.unpack(">H", q[off:off + 2])[0]
    return qid, flags, ".".join(labels), qtype, q[12:off + 4]


def header(qid, rd, rcode=0, tc=False, qd=1, an=0, ns=0, ar=0):
    flags = 0x8000 | 0x0400 | 0x0080 | rcode  # QR AA RA
    if rd:
        flags |= 0x0100
    if tc:
        flags |= 0x0200
    return struct.pack(">HHHHHH", qid, flags, qd, an, ns, ar)


def answer(query, mode_flag, transport):
    p = parse_query(query)
    if p is None:
        return None
    qid, qflags, qname, qtype, question = p
    rd = bool(qflags & 0x0100)
    qoff = 12  # the question name's offset, for pointers
    ans_off = 12 + len(question)
    target = enc_name("broker.h.test")
    first = qname.split(".")[0].lower()
    mode = mode_flag or (first[1:] if qtype == T_SRV and first.startswith("_") else "addr")

    def full(qid_=qid, question_=question):
        srv = rr(struct.pack(">H", 0xC000 | qoff), T_SRV, srv_rdata(0, 0, 1883, target))
        # additional A: owner points at the target inside the SRV RDATA
        tgt_off = 12 + len(question_) + 2 + 10 + 6
        a = rr(struct.pack(">H", 0xC000 | tgt_off), T_A, bytes([127, 0, 0, 1]))
        return header(qid_, rd, an=1, ar=1) + question_ + srv + a

    if mode == "addr":  # A/AAAA for a target
        if qtype == T_A:
            last = 1
            if first.startswith("t") and first[1:].isdigit():
                last = int(first[1:]) % 250 + 1
            return header(qid, rd, an=1) + question + rr(b"\xc0\x0c", T_A, bytes([127, 0, 0, last]))
        return header(qid, rd) + question
    if mode == "ok":
        return full()
    if mode == "tc":
        if transport == "udp":
            return header(qid, rd, tc=True) + question
        return full()
    if mode == "wrongid":
        return full(qid_=(qid + 0x1234) & 0xFFFF)
    if mode == "wrongq":
        other = enc_name("_other._tcp.h.test") + question[-4:]
        return full(question_=other)
    if mode == "ptrloop":
        owner = struct.pack(">H", 0xC000 | ans_off)  # points at itself
        return header(qid, rd, an=1) + question + rr(owner, T_SRV, srv_rdata(0, 0, 1883, target))
    if mode == "fwdptr":
        owner = struct.pack(">H", 0xC000 | (ans_off + 2 + 10 + 6))  # at the SRV target
        return header(qid, rd, an=1) + question + rr(owner, T_SRV, srv_rdata(0, 0, 1883, target))
    if mode == "longname":
        long_target = b"".join(bytes([60]) + b"x" * 60 for _ in range(5)) + b"\0"  # 306 octets
        return header(qid, rd, an=1) + question + rr(b"\xc0\x0c", T_SRV, srv_rdata(0, 0, 1883, long_target))
    if mode == "rdlen":
        return (header(qid, rd, an=1) + question +
                rr(b"\xc0\x0c", T_SRV, srv_rdata(0, 0, 1883, target), rdlen=1000))
    if mode == "a5":
        srv = rr(b"\xc0\x0c", T_SRV, srv_rdata(0, 0, 1883, target))
        tgt_off = ans_off + 2 + 10 + 6
        a = rr(struct.pack(">H", 0xC000 | tgt_off), T_A, bytes([127, 0, 0, 1, 9]))
        return header(qid, rd, an=1, ar=1) + question + srv + a
    if mode == "empty":
        return header(qid, rd) + question
    if mode == "flood":
        recs = b"".join(rr(b"\xc0\x0c", T_SRV,
                           srv_rdata(i % 3, i % 7, 1000 + i, enc_name("t%d.h.test" % i)))
                        for i in range(500))
        return header(qid, rd, an=500) + question + recs
    if mode == "servfail":
        return header(qid, rd, rcode=2) + question
    if mode == "refused":
        return header(qid, rd, rcode=5) + question
    return header(qid, rd, rcode=3) + question  # unknown mode: NXDOMAIN


def log(args, transport, query, peer):
    if not args.log:
        return
    p = parse_query(query)
    line = "%s %s %s %s %s\n" % (transport, p[2] if p else "?", p[3] if p else "?",
                                 p[0] if p else "?", peer[1])
    with LOCK, open(args.log, "a") as f:
        f.write(line)


def serve_udp(args, u):
    while True:
        q, peer = u.recvfrom(65535)
        log(args, "udp", q, peer)
        if args.silent:
            continue
        r = answer(q, args.mode, "udp")
        if r is not None:
            u.sendto(r, peer)


def recv_exact(c, n):
    b = b""
    while len(b) < n:
        chunk = c.recv(n - len(b))
        if not chunk:
            return None
        b += chunk
    return b


def serve_tcp_conn(args, c, peer):
    try:
        c.settimeout(5)
        while True:
            h = recv_exact(c, 2)
            if h is None:
                return
            q = recv_exact(c, struct.unpack(">H", h)[0])
            if q is None:
                return
            log(args, "tcp", q, peer)
            r = answer(q, args.mode, "tcp")
            if r is None:
                return
            c.sendall(struct.pack(">H", len(r)) + r)
    except OSError:
        pass
    finally:
        c.close()


def serve_tcp(args, t):
    while True:
        c, peer = t.accept()
        threading.Thread(target=serve_tcp_conn, args=(args, c, peer), daemon=True).start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log")
    ap.add_argument("--mode")
    ap.add_argument("--silent", action="store_true")
    args = ap.parse_args()

    for _ in range(50):  # a free port for both UDP and TCP
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        port = u.getsockname()[1]
        if args.silent:
            t = None
            break
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            t.bind(("127.0.0.1", port))
            t.listen(16)
            break
        except OSError:
            u.close()
            t.close()
    else:
        sys.exit("no free port")
    if t is not None:
        threading.Thread(target=serve_tcp, args=(args, t), daemon=True).start()
    with open(args.port_file + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(args.port_file + ".tmp", args.port_file)
    serve_udp(args, u)


if __name__ == "__main__":
    main()
