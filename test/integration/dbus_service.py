'''Test service for test/integration/dbus.sh, two uses in one file.

1. A python3-dbusmock template (org.dmqtt.Test at /org/dmqtt/Test):

       /usr/bin/python3 -m dbusmock --session -t test/integration/dbus_service.py

   One method per return signature with fixed values (Ret*), error replies
   (Fail*), argument echoes (Echo*: in signature == out signature, the value
   sent comes straight back; GetMethodCalls shows what arrived), a method
   answering 5 s late without blocking the mock (Slow), one that never
   answers (Never).

2. Helpers run as a script with /usr/bin/python3:

       dbus_service.py monitor-check LOG BEGIN END K1,K2,...
           reads a `dbus-monitor` text log; for every connection that said
           Hello between two marker calls (any method call whose first
           argument is the string BEGIN / END), one line `conn :1.N sent=..
           ok|BAD`, then `RESULT ok|BAD`. A connection is ok when the bus
           forwarded exactly its K messages (serials 1..K: the bus shows
           every message it accepted and drops a client at the first
           invalid one, unseen) and every one was answered.
       dbus_service.py monitor-calls LOG BEGIN END DEST
           one line per method call to DEST in the window: member, the
           arguments as dbus-monitor decoded them, and `return`/`error NAME`.
       dbus_service.py bad-client SOCKET
           a raw client that says Hello and then sends one message with a
           non-zero padding byte; prints what came back (b'' = disconnected).
       dbus_service.py silent-server SOCKET MODE
           a fake bus: MODE "silent" accepts and never answers, "close"
           closes each connection at once, "reject" answers SASL with
           REJECTED, "garbage" answers with a non-SASL line.
'''

import os
import re
import socket
import struct
import sys
import time

BUS_NAME = 'org.dmqtt.Test'
MAIN_OBJ = '/org/dmqtt/Test'
MAIN_IFACE = 'org.dmqtt.Test'
SYSTEM_BUS = False

try:
    import dbus
    import dbus.service

    @dbus.service.method(MAIN_IFACE, in_signature='', out_signature='s',
                         async_callbacks=('ok', 'err'))
    def Slow(self, ok, err):
        '''Answers after 5 s; the mock keeps serving meanwhile.'''
        from gi.repository import GLib
        GLib.timeout_add(5000, lambda: ok('slow done') and False)

    @dbus.service.method(MAIN_IFACE, in_signature='', out_signature='s',
                         async_callbacks=('ok', 'err'))
    def Never(self, ok, err):
        '''Never answers (the callbacks are kept so nothing replies for us).'''
        self.never_pending = getattr(self, 'never_pending', []) + [(ok, err)]
except ImportError:  # script use does not need dbus
    pass


# (name, out signature, python expression for ret)
RETURNS = [
    ('RetS', 's', "'hello w\\u00f6rld \"q\" \\\\ tab\\there\\nnl \\x01 \\x7f end'"),
    ('RetEmptyS', 's', "''"),
    ('RetI', 'i', '-42'),
    ('RetAs', 'as', "['a', 'b c', '', 'd\"e']"),
    ('RetEmptyAs', 'as', 'dbus.Array([], signature="s")'),
    ('RetDict', 'a{sv}', '''dbus.Dictionary({
        'arr': dbus.Array([dbus.Struct((dbus.Int32(1), dbus.Int32(2))),
                           dbus.Struct((dbus.Int32(-3), dbus.Int32(4)))], signature='(ii)', variant_level=1),
        'st': dbus.Struct((dbus.String('x'), dbus.Array([dbus.ObjectPath('/o'), dbus.ObjectPath('/p/q')],
                           signature='o')), signature='sao', variant_level=1),
        'vv': dbus.String('inner', variant_level=2),
        'b': dbus.Boolean(True, variant_level=1),
        'd': dbus.Double(2.5, variant_level=1),
        'u64': dbus.UInt64(18446744073709551615, variant_level=1),
        'n': dbus.Int16(-7, variant_level=1),
        'y': dbus.Byte(200, variant_level=1),
        'ay': dbus.ByteArray(b'\\x00\\x01\\xff', variant_level=1),
        'empty': dbus.Array([], signature='s', variant_level=1),
        'dict': dbus.Dictionary({'k': dbus.Int32(1, variant_level=1)}, signature='sv', variant_level=1),
        'o': dbus.ObjectPath('/a/b_1', variant_level=1),
        'g': dbus.Signature('a{sv}', variant_level=1),
    }, signature='sv')'''),
    ('RetEmptyDict', 'a{sv}', 'dbus.Dictionary({}, signature="sv")'),
    ('RetIsaStruct', '(isa{sv})', '''dbus.Struct((dbus.Int32(0), dbus.String('tok'),
        dbus.Dictionary({'k': dbus.String('v', variant_level=1), 'n': dbus.Int32(3, variant_level=1)},
        signature='sv')), signature='isa{sv}')'''),
    ('RetIsa', 'isa{sv}', '''(dbus.Int32(0), dbus.String('5b2e-token'),
        dbus.Dictionary({'fqdn': dbus.String('_dmqtt._tcp.service.veeamesh.local', variant_level=1),
                         'port': dbus.Int32(1883, variant_level=1)}, signature='sv'))'''),
    ('RetAy', 'ay', "dbus.ByteArray(bytes([0, 1, 127, 128, 255]))"),
    ('RetEmptyAy', 'ay', "dbus.ByteArray(b'')"),
    ('RetAo', 'ao', "[dbus.ObjectPath('/'), dbus.ObjectPath('/org/dmqtt/Test'), dbus.ObjectPath('/a/b_1')]"),
    ('RetAii', 'a(ii)', "[(1, 2), (-2147483648, 2147483647), (0, -1)]"),
    ('RetD', 'd', '3.141592653589793'),
    ('RetDs', 'ddddddddddd', "(0.0, -0.0, 1e-05, 1234567.0, 123456.5, 0.1, -2.5e+300, 5e-324, "
                             "float('inf'), float('-inf'), float('nan'))"),
    ('RetB', 'bb', '(True, False)'),
    ('RetEmpty', '', 'None'),
    ('RetAll', 'ybnqiuxtdsogv', '''(dbus.Byte(255), True, dbus.Int16(-32768), dbus.UInt16(65535),
        dbus.Int32(-2147483648), dbus.UInt32(4294967295), dbus.Int64(-9223372036854775808),
        dbus.UInt64(18446744073709551615), 1.5, 'x', dbus.ObjectPath('/a/b'), dbus.Signature('a{sv}'),
        dbus.String('v', variant_level=1))'''),
    ('RetNested', 'a{sa{sv}}', '''dbus.Dictionary({'outer': dbus.Dictionary({
        'v': dbus.Array([dbus.String('x', variant_level=1), dbus.Int32(2, variant_level=1)],
                        signature='v', variant_level=1)}, signature='sv')}, signature='sa{sv}')'''),
    ('RetBig', 'as', "['%06d-' % i + 'x' * 40 for i in range(8000)]"),
    ('RetUtf8', 's', "'caf\\u00e9 \\u2603 \\U0001f600'"),
    ('RetHuge', 'as', "['x' * 100] * 25000"),  # 2.7 MB: over the CLI's 1 MiB buffer
]

# (name, error name, message)
FAILS = [
    ('Fail', 'org.dmqtt.Test.Error.Failed', 'it failed: "quoted" and more'),
    ('FailOther', 'com.example.Weird_Name.E2', 'second'),
    ('FailEmpty', 'org.dmqtt.Test.Error.Empty', ''),
]

ECHOES = ['ssissss', 'as', 'a{sv}', 'ixd', 'nqiuxt', 'ybdsog', '(isa{sv})', 'a(ii)', 'ay', 'ao', 'v', 'aav']


def load(mock, parameters):
    methods = [(n, '', sig, f'ret = {expr}') for n, sig, expr in RETURNS]
    methods += [(n, '', 's', f'raise dbus.exceptions.DBusException({msg!r}, name={name!r})')
                for n, name, msg in FAILS]
    for i, sig in enumerate(ECHOES):
        n = len(list(dbus.Signature(sig)))  # complete types, not characters
        code = 'ret = args[0]' if n == 1 else 'ret = tuple(args)'
        methods.append((f'Echo{i}', sig, sig, code))
    mock.AddMethods(MAIN_IFACE, methods)


# ---------------------------------------------------------------- scripts

MON_HEAD = re.compile(r'^(method call|method return|error|signal) time=\S+ sender=(\S+) -> '
                      r'destination=(.+?) ((?:serial|error_name)=.*)$')


def monitor_parse(log, begin, end):
    """The messages of a dbus-monitor text log between two marker calls: a
    marker is any method call whose first argument is the string BEGIN/END
    (the test uses org.freedesktop.DBus.NameHasOwner). Each message is a
    dict: kind, sender, dest, serial, reply_serial, member, error_name, body
    (the argument lines, whitespace collapsed)."""
    msgs = []
    with open(log, encoding='utf-8', errors='replace') as f:
        for ln in f:
            ln = ln.rstrip('\n')
            m = MON_HEAD.match(ln)
            if m:
                kind, snd, dst, rest = m.groups()
                kv = dict(re.findall(r'(\w+)=([^ ;]+)', rest))
                msgs.append({'kind': kind, 'sender': snd, 'dest': dst,
                             'serial': int(kv.get('serial', 0)),
                             'reply_serial': int(kv.get('reply_serial', 0)),
                             'member': kv.get('member', ''), 'error_name': kv.get('error_name', ''),
                             'body': []})
            elif msgs:
                msgs[-1]['body'].append(' '.join(ln.split()))
    start = stop = None
    for j, m in enumerate(msgs):
        first = m['body'][0] if m['body'] else ''
        if m['kind'] == 'method call' and first == f'string "{begin}"' and start is None:
            start = j
        elif m['kind'] == 'method call' and first == f'string "{end}"' and start is not None:
            stop = j
            break
    if start is None or stop is None:
        return None
    # the end marker's own connection said Hello inside the window: not ours
    marker = msgs[stop]['sender']
    return [m for m in msgs[start + 1:stop] if marker not in (m['sender'], m['dest'])]


def monitor_check(log, begin, end, expected):
    """Every connection that said Hello in the window: the serials of its
    method calls must be exactly 1..K (K from the comma list `expected`, one
    per connection in order), each answered by a method return or error."""
    window = monitor_parse(log, begin, end)
    if window is None:
        print(f'RESULT BAD: markers {begin}/{end} not found in {log}')
        return 1
    want = [int(k) for k in expected.split(',') if k]
    conns = [m['sender'] for m in window if m['kind'] == 'method call' and m['member'] == 'Hello']
    good = len(conns) == len(want)
    for i, c in enumerate(conns):
        calls = [m for m in window if m['kind'] == 'method call' and m['sender'] == c]
        sers = [m['serial'] for m in calls]
        answered = {m['reply_serial'] for m in window
                    if m['kind'] in ('method return', 'error') and m['dest'] == c}
        k = want[i] if i < len(want) else -1
        ok = sorted(sers) == list(range(1, k + 1)) and all(s in answered for s in sers)
        good = good and ok
        print(f'conn {c} sent={len(sers)} want={k} serials={",".join(map(str, sers))} '
              f'answered={sum(s in answered for s in sers)} {"ok" if ok else "BAD"} '
              f'members={",".join(m["member"] for m in calls)}')
    print(f'RESULT {"ok" if good else "BAD"}: {len(conns)} connections, {len(want)} expected')
    return 0


def monitor_calls(log, begin, end, dest):
    """One line per method call to `dest` in the window: member, signature of
    the arguments as dbus-monitor shows them (type names and values), and the
    reply: `return` or `error NAME`."""
    window = monitor_parse(log, begin, end)
    if window is None:
        print(f'markers {begin}/{end} not found in {log}')
        return 1
    for m in window:
        if m['kind'] != 'method call' or m['dest'] != dest:
            continue
        rep = [r for r in window if r['kind'] in ('method return', 'error')
               and r['dest'] == m['sender'] and r['reply_serial'] == m['serial']]
        how = 'none' if not rep else ('return' if rep[0]['kind'] == 'method return'
                                      else 'error ' + rep[0]['error_name'])
        print(f'{m["member"]} | {" ".join(m["body"])} | {how}')
    return 0


def raw_msg(serial, fields, pad_byte=0):
    out = bytearray()

    def align(n):
        while len(out) % n:
            out.append(pad_byte)
    for code, t, v in fields:
        align(8)
        out += bytes([code, 1]) + t.encode() + b'\0'
        vb = v.encode()
        out += struct.pack('<I', len(vb)) + vb + b'\0'
    m = b'l\x01\x00\x01' + struct.pack('<III', 0, serial, len(out)) + bytes(out)
    while len(m) % 8:
        m += b'\0'
    return m


def bad_client(path):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(3)
    s.connect(path)
    s.sendall(b'\0AUTH EXTERNAL ' + str(os.geteuid()).encode().hex().encode() + b'\r\n')
    s.recv(200)
    s.sendall(b'BEGIN\r\n')
    bus = [(1, 'o', '/org/freedesktop/DBus'), (2, 's', 'org.freedesktop.DBus'),
           (6, 's', 'org.freedesktop.DBus')]
    s.sendall(raw_msg(1, bus + [(3, 's', 'Hello')]))
    time.sleep(0.2)
    s.recv(4096)
    # one non-zero padding byte in the header fields: the bus must drop us
    s.sendall(raw_msg(2, bus + [(3, 's', 'GetId')], pad_byte=1))
    time.sleep(0.3)
    try:
        got = s.recv(4096)
    except OSError as e:
        got = repr(e).encode()
    print('after invalid message:', got)


def silent_server(path, mode):
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.listen(8)
    keep = []
    while True:
        c, _ = s.accept()
        if mode == 'close':
            c.close()
            continue
        if mode in ('reject', 'garbage'):
            c.settimeout(2)
            try:
                c.recv(200)
                c.sendall(b'REJECTED EXTERNAL\r\n' if mode == 'reject' else b'HELLO THERE\r\n')
                time.sleep(0.2)
            except OSError:
                pass
            c.close()
            continue
        keep.append(c)


if __name__ == '__main__':
    cmd = sys.argv[1] if len(sys.argv) > 1 else ''
    if cmd == 'monitor-check':
        sys.exit(monitor_check(*sys.argv[2:6]))
    elif cmd == 'monitor-calls':
        sys.exit(monitor_calls(*sys.argv[2:6]))
    elif cmd == 'bad-client':
        bad_client(sys.argv[2])
    elif cmd == 'silent-server':
        silent_server(sys.argv[2], sys.argv[3])
    else:
        print(__doc__)
        sys.exit(64)
