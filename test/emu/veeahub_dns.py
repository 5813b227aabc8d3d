#!/usr/bin/python3
# DNS server of the VeeaHub emulator: authoritative for veeamesh.local (and for
# any other name registered in its state), answering from DNS_DIR/records.json,
# which it re-reads whenever that file changes. UDP and TCP on one loopback port.
#
#   veeahub_dns.py --dns DNS_DIR [--port P] [--address 127.0.0.1]
#
# Port 0 (the default) lets the kernel pick a free UDP port; TCP is then bound
# to the same number (retrying with a new UDP port if that TCP port is taken).
# Once both listen it writes DNS_DIR/port and DNS_DIR/dns.pid; it removes them
# when it ends (SIGTERM/SIGINT).
#
# Answers: A/AAAA/SRV (and ANY) for registered names, TTL 5; an SRV answer
# carries its targets' A/AAAA records in the additional section, as dnsmasq
# does. Unknown names inside veeamesh.local: NXDOMAIN; a known name without the
# asked type: NOERROR with no answer; both with the zone's SOA in the authority
# section. Names outside the zone that nobody registered: REFUSED.

import argparse
import os
import signal
import socketserver
import sys
import threading

sys.dont_write_bytecode = True    # keep test/emu free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import veeahub_state as vs  # noqa: E402

from dnslib import (A, AAAA, EDNS0, QTYPE, RCODE, RR, SOA, SRV,  # noqa: E402
                    DNSHeader, DNSRecord)
from dnslib.server import DNSHandler, DNSServer  # noqa: E402


class QuietLogger:
    '''dnslib logger that only reports errors (to stderr, i.e. dns.log).'''

    def log_recv(self, handler, data): pass
    def log_send(self, handler, data): pass
    def log_request(self, handler, request): pass
    def log_reply(self, handler, reply): pass
    def log_truncated(self, handler, reply): pass
    def log_data(self, dnsobj): pass

    def log_error(self, handler, e):
        print(f'dns: bad request from {handler.client_address}: {e}',
              file=sys.stderr, flush=True)


class UDPServer(socketserver.ThreadingMixIn, socketserver.UDPServer):
    # No SO_REUSEADDR for UDP: on Linux it would let us share a port that
    # another server (dnsmasq...) already uses.
    allow_reuse_address = False
    daemon_threads = True


class TCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True


class Handler(DNSHandler):
    '''Truncates too-large UDP answers the usual way: header with TC set and
    the question kept, no records (dnslib's own truncate() drops the question,
    which a strict client would reject). udplen is 512, or the client's EDNS0
    size, set per request by the resolver.'''
    udplen = 512

    def get_reply(self, data):
        request = DNSRecord.parse(data)
        reply = self.server.resolver.resolve(request, self)
        rdata = reply.pack()
        if self.protocol == 'udp' and len(rdata) > self.udplen:
            t = DNSRecord(DNSHeader(id=reply.header.id, bitmap=reply.header.bitmap),
                          q=reply.q)
            t.header.tc = 1
            t.add_ar(*[r for r in reply.ar if r.rtype == QTYPE.OPT])
            rdata = t.pack()
        return rdata


class Resolver:
    def __init__(self, dns_dir):
        self.dns_dir = dns_dir
        self.key = None
        self.records = []
        self.serial = 1
        self.lock = threading.Lock()

    def refresh(self):
        path = vs.records_path(self.dns_dir)
        try:
            st = os.stat(path)
            key = (st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            key = None
        with self.lock:
            if key == self.key:
                return self.records
            try:
                recs = vs.load_records(self.dns_dir) if key else []
            except ValueError as e:   # half-edited by hand: keep the old view
                print(f'dns: cannot parse {path}: {e}', file=sys.stderr, flush=True)
                return self.records
            self.records = [dict(r, name=vs.norm_name(r.get('name', ''))) for r in recs]
            self.key = key
            self.serial = (self.serial + 1) & 0xffffffff or 1
            return self.records

    def soa(self):
        return RR(vs.ZONE, QTYPE.SOA, ttl=vs.TTL,
                  rdata=SOA('ns.' + vs.ZONE, 'hostmaster.' + vs.ZONE,
                            (self.serial, 3600, 600, 86400, vs.TTL)))

    @staticmethod
    def rr(r):
        t = r.get('type')
        if t == 'A':
            return RR(r['name'], QTYPE.A, ttl=vs.TTL, rdata=A(r['ip']))
        if t == 'AAAA':
            return RR(r['name'], QTYPE.AAAA, ttl=vs.TTL, rdata=AAAA(r['ip']))
        if t == 'SRV':
            return RR(r['name'], QTYPE.SRV, ttl=vs.TTL,
                      rdata=SRV(int(r.get('priority', 0)), int(r.get('weight', 0)),
                                int(r['port']), r['target']))
        return None

    def resolve(self, request, handler):
        reply = request.reply(ra=0, aa=1)
        reply.header.ad = 0        # we do not validate anything
        try:
            self._resolve(request, reply)
        except Exception as e:  # never let one odd record kill the thread
            print(f'dns: internal error: {e!r}', file=sys.stderr, flush=True)
            reply = request.reply(ra=0, aa=0)
            reply.header.rcode = RCODE.SERVFAIL
        # EDNS0: honour the client's UDP size (dnslib truncates above
        # handler.udplen, which it reads after this returns) and answer with
        # an OPT record of our own.
        opt = [r for r in request.ar if r.rtype == QTYPE.OPT]
        if opt:
            handler.udplen = max(512, min(int(opt[0].rclass), 4096))
            reply.add_ar(EDNS0(udp_len=1232))
        return reply

    def _resolve(self, request, reply):
        if request.header.opcode != 0:
            reply.header.rcode = RCODE.NOTIMP
            return
        q = request.q
        if q.qclass not in (1, 255):          # IN, ANY
            reply.header.rcode = RCODE.REFUSED
            reply.header.aa = 0
            return
        qname = vs.norm_name(str(q.qname))
        qtype = QTYPE.get(q.qtype)
        recs = self.refresh()
        here = [r for r in recs if r['name'] == qname]
        below = any(r['name'].endswith('.' + qname) for r in recs)
        zone = vs.in_zone(qname)
        if not here and not zone:
            reply.header.rcode = RCODE.REFUSED
            reply.header.aa = 0
            return
        if qname == vs.ZONE and qtype in ('SOA', 'ANY'):
            reply.add_answer(self.soa())
        for r in here:
            if qtype in ('ANY', r.get('type')):
                rr = self.rr(r)
                if rr:
                    reply.add_answer(rr)
        if qtype in ('SRV', 'ANY'):
            seen = set()
            for r in here:
                if r.get('type') != 'SRV':
                    continue
                target = vs.norm_name(r['target'])
                if target in seen:
                    continue
                seen.add(target)
                for t in recs:
                    if t['name'] == target and t.get('type') in ('A', 'AAAA'):
                        reply.add_ar(self.rr(t))
        if reply.rr:
            return
        if not here and not below and qname != vs.ZONE:
            reply.header.rcode = RCODE.NXDOMAIN
        if zone:
            reply.add_auth(self.soa())


def bind(address, port):
    '''Bind UDP and TCP to one port; port 0 = any free one.'''
    tries = 50 if port == 0 else 1
    last = None
    for _ in range(tries):
        udp = tcp = None
        try:
            udp = DNSServer(None, address=address, port=port, server=UDPServer,
                            handler=Handler, logger=QuietLogger())
            real = udp.server.server_address[1]
            tcp = DNSServer(None, address=address, port=real, server=TCPServer,
                            handler=Handler, logger=QuietLogger())
            return udp, tcp, real
        except OSError as e:
            last = e
            for s in (udp, tcp):
                if s:
                    s.server.server_close()
    raise SystemExit(f'dns: cannot listen on {address}:{port}: {last}')


def main():
    ap = argparse.ArgumentParser(description='VeeaHub emulator DNS server')
    ap.add_argument('--dns', required=True, help='DNS state directory')
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--address', default='127.0.0.1')
    a = ap.parse_args()
    dns_dir = os.path.abspath(a.dns)
    os.makedirs(dns_dir, exist_ok=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    resolver = Resolver(dns_dir)
    udp, tcp, port = bind(a.address, a.port)
    for s in (udp, tcp):
        s.server.resolver = resolver
        s.start_thread()
    # make sure the state file exists so `dns-add` and hubs share one format
    vs.modify_records(dns_dir, lambda recs: None)
    vs.write_atomic(os.path.join(dns_dir, vs.DNS_PID), f'{os.getpid()}\n')
    vs.write_atomic(os.path.join(dns_dir, vs.PORT_FILE), f'{port}\n')
    print(f'dns: listening on {a.address}:{port} udp+tcp', file=sys.stderr, flush=True)

    while not stop.is_set():
        stop.wait(3600)

    for f in (vs.PORT_FILE, vs.DNS_PID):
        try:
            os.unlink(os.path.join(dns_dir, f))
        except OSError:
            pass
    for s in (udp, tcp):
        s.server.server_close()
    os._exit(0)   # do not wait for serve_forever's poll interval


if __name__ == '__main__':
    main()
