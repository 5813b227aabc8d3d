#!/usr/bin/python3
'''Network faults for test/integration/faults.sh (standard library only).

  faultnet.py relay --port P --to HOST:PORT --log FILE
      A TCP relay on 127.0.0.1:P to HOST:PORT (bytes passed unchanged, so a
      TLS session goes through it end to end). SIGUSR1 cuts the link: every
      relayed connection is closed and the listening socket too, so new
      connects are refused. SIGUSR2 restores it (listens again on P).
      While not cut, a connection whose upstream refuses is accepted and
      closed at once, as Docker's userland proxy and many load balancers do.
  faultnet.py blackhole --port P --log FILE
      Accepts TCP connections on 127.0.0.1:P, reads and discards what they
      send and never answers: a hung process holding a broker's port. The
      client id of each MQTT CONNECT it swallows is logged ("connect ID").
  faultnet.py slowdns --port P --to HOST:PORT --delay-file F --log FILE
      A UDP DNS forwarder: each query goes to HOST:PORT and its answer is
      sent back after the delay (seconds, a float) read from F at the time
      the query arrives (0 when F is missing).

Port 0 lets the kernel pick. Each prints "ready PORT" on stdout once
listening, and appends one line per event to the log: "<unix ms> <event> ..."
(accept, cut, restored, connect, query, answered). SIGTERM/SIGINT end it,
closing every socket.
'''

import argparse
import os
import selectors
import signal
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True


def now_ms():
    return int(time.time() * 1000)


class Log:
    def __init__(self, path):
        self.f = open(path, 'a', buffering=1)
        self.lock = threading.Lock()

    def __call__(self, *words):
        with self.lock:
            self.f.write(f'{now_ms()} ' + ' '.join(str(w) for w in words) + '\n')


def listen(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('127.0.0.1', port))
    s.listen(64)
    s.setblocking(False)
    return s


def host_port(text):
    h, _, p = text.rpartition(':')
    return h, int(p)


def ready(port):
    print(f'ready {port}', flush=True)


class Flags:
    '''Signals set flags; the selector loop acts on them (never in a handler).'''

    def __init__(self):
        self.stop = self.cut = self.restore = False
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        signal.signal(signal.SIGUSR1, self._cut)
        signal.signal(signal.SIGUSR2, self._restore)

    def _stop(self, *_):
        self.stop = True

    def _cut(self, *_):
        self.cut = True

    def _restore(self, *_):
        self.restore = True


def close_quietly(s):
    try:
        s.close()
    except OSError:
        pass


def relay(a):
    log = Log(a.log)
    up_addr = host_port(a.to)
    flags = Flags()
    sel = selectors.DefaultSelector()
    lsock = listen(a.port)
    a.port = lsock.getsockname()[1]     # the kernel's pick for port 0
    sel.register(lsock, selectors.EVENT_READ, ('listen', None))
    peer = {}       # socket -> the other socket of its pair
    pending = {}    # socket -> bytes not yet written to it
    n = 0
    ready(a.port)

    def drop(s):
        for x in (s, peer.get(s)):
            if x is None or x not in peer:
                continue
            sel.unregister(x)
            close_quietly(x)
            peer.pop(x, None)
            pending.pop(x, None)

    def want(s):
        ev = selectors.EVENT_READ
        if pending.get(s):
            ev |= selectors.EVENT_WRITE
        sel.modify(s, ev, ('conn', None))

    while not flags.stop:
        if flags.cut:
            flags.cut = False
            if lsock is not None:
                sel.unregister(lsock)
                close_quietly(lsock)
                lsock = None
            k = len(peer) // 2
            for s in list(peer):
                drop(s)
            log('cut', f'closed={k}')
        if flags.restore:
            flags.restore = False
            if lsock is None:
                lsock = listen(a.port)
                sel.register(lsock, selectors.EVENT_READ, ('listen', None))
            log('restored')
        for key, ev in sel.select(0.05):
            kind = key.data[0]
            s = key.fileobj
            if kind == 'listen':
                try:
                    c, _ = s.accept()
                except OSError:
                    continue
                n += 1
                try:
                    u = socket.create_connection(up_addr, timeout=2)
                except OSError as e:
                    log('accept', n, f'upstream-failed={e.strerror or e}')
                    close_quietly(c)
                    continue
                for x in (c, u):
                    x.setblocking(False)
                    x.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                peer[c], peer[u] = u, c
                pending[c], pending[u] = b'', b''
                sel.register(c, selectors.EVENT_READ, ('conn', None))
                sel.register(u, selectors.EVENT_READ, ('conn', None))
                log('accept', n)
                continue
            if s not in peer:
                continue
            other = peer[s]
            if ev & selectors.EVENT_WRITE and pending.get(s):
                try:
                    k = s.send(pending[s])
                    pending[s] = pending[s][k:]
                except BlockingIOError:
                    pass
                except OSError:
                    drop(s)
                    continue
                want(s)
            if ev & selectors.EVENT_READ:
                try:
                    data = s.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b''
                if not data:
                    drop(s)
                    continue
                pending[other] += data
                want(other)
    for s in list(peer):
        drop(s)
    if lsock is not None:
        close_quietly(lsock)


def mqtt_client_id(data):
    '''The client id of an MQTT CONNECT at the start of data, or None.'''
    if len(data) < 2 or data[0] != 0x10:
        return None
    i = 1
    while i < len(data) and i < 5:      # skip the remaining length (varint)
        i += 1
        if not data[i - 1] & 0x80:
            break
    try:
        n = int.from_bytes(data[i:i + 2], 'big')
        i += 2 + n + 1 + 1 + 2          # protocol name, level, flags, keepalive
        n = int.from_bytes(data[i:i + 2], 'big')
        cid = data[i + 2:i + 2 + n]
        if len(cid) != n:
            return None
        return cid.decode('utf-8', 'replace') or '-'
    except (IndexError, ValueError):
        return None


def blackhole(a):
    log = Log(a.log)
    flags = Flags()
    sel = selectors.DefaultSelector()
    lsock = listen(a.port)
    sel.register(lsock, selectors.EVENT_READ, 'listen')
    conns = set()
    n = 0
    ready(lsock.getsockname()[1])
    while not flags.stop:
        for key, _ in sel.select(0.05):
            s = key.fileobj
            if key.data == 'listen':
                try:
                    c, _ = s.accept()
                except OSError:
                    continue
                n += 1
                c.setblocking(False)
                conns.add(c)
                sel.register(c, selectors.EVENT_READ, 'conn')
                log('accept', n)
                continue
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b''
            if not data:        # the client gave up: it closed first
                sel.unregister(s)
                conns.discard(s)
                close_quietly(s)
                log('client-closed')
                continue
            cid = mqtt_client_id(data)
            if cid is not None:
                log('connect', cid)
    for c in conns:
        close_quietly(c)
    close_quietly(lsock)


def slowdns(a):
    log = Log(a.log)
    flags = Flags()
    up_addr = host_port(a.to)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.1', a.port))
    s.settimeout(0.05)
    port = s.getsockname()[1]
    ready(port)

    def answer(query, client, delay):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(3)
        try:
            u.sendto(query, up_addr)
            resp, _ = u.recvfrom(65535)
        except OSError as e:
            log('upstream-failed', e)
            return
        finally:
            close_quietly(u)
        time.sleep(delay)
        try:
            s.sendto(resp, client)
        except OSError:
            return
        log('answered', f'delay={delay}')

    while not flags.stop:
        try:
            query, client = s.recvfrom(65535)
        except socket.timeout:
            continue
        except OSError:
            continue
        try:
            with open(a.delay_file) as f:
                delay = float(f.read().strip() or 0)
        except (OSError, ValueError):
            delay = 0.0
        log('query', f'delay={delay}')
        threading.Thread(target=answer, args=(query, client, delay), daemon=True).start()
    close_quietly(s)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest='cmd', required=True)
    r = sub.add_parser('relay')
    r.add_argument('--port', type=int, required=True)
    r.add_argument('--to', required=True)
    r.add_argument('--log', required=True)
    r.set_defaults(fn=relay)
    b = sub.add_parser('blackhole')
    b.add_argument('--port', type=int, required=True)
    b.add_argument('--log', required=True)
    b.set_defaults(fn=blackhole)
    d = sub.add_parser('slowdns')
    d.add_argument('--port', type=int, default=0)
    d.add_argument('--to', required=True)
    d.add_argument('--delay-file', required=True)
    d.add_argument('--log', required=True)
    d.set_defaults(fn=slowdns)
    a = ap.parse_args()
    try:
        a.fn(a)
    except OSError as e:
        print(f'faultnet {a.cmd}: {e}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    os.umask(0o022)
    sys.exit(main())
