# Shared state of the VeeaHub emulator (test/emu/veeahub).
#
# One DNS directory holds the records every emulated hub registered plus the
# ones injected by `veeahub dns-add`, as JSON in records.json. Writers take an
# exclusive flock on records.lock, read, modify and replace the file atomically
# (write a temporary file, fsync-free rename); the DNS server only reads, and
# re-reads whenever the file's identity (inode, mtime, size) changes.
#
# Also holds the small helpers the CLI, the dbusmock templates and the DNS
# server share: name and address validation, the fault-injection control file
# of the Networking mock, process bookkeeping.
#
# Runs under Debian's /usr/bin/python3 (the templates are loaded by
# python3-dbusmock); standard library only.

import contextlib
import fcntl
import ipaddress
import json
import os
import signal
import tempfile
import time

ZONE = 'veeamesh.local'
TTL = 5
RECORDS = 'records.json'
RECORDS_LOCK = 'records.lock'
PORT_FILE = 'port'
DNS_PID = 'dns.pid'

# Networking fault injection (per hub directory).
NET_CONTROL = 'networking-control.json'
NET_CONTROL_LOCK = 'networking-control.lock'

# Status codes of the emulated Networking service. The real ones are
# undocumented; callers must treat any non-zero value as failure.
ST_OK = 0
ST_ENOENT = 2      # Unregister: unknown token
ST_EINVAL = 22     # Register*: invalid argument


# ---------------------------------------------------------------- files

def write_atomic(path, data):
    '''Write bytes or str to path via a temporary file and rename.'''
    if isinstance(data, str):
        data = data.encode('utf-8')
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix='.tmp-', dir=d)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def locked(lock_path):
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def read_json(path, default):
    try:
        with open(path, 'rb') as f:
            return json.loads(f.read().decode('utf-8'))
    except FileNotFoundError:
        return default


# ---------------------------------------------------------------- names

def norm_name(name):
    '''Lower-case, no trailing dot.'''
    return str(name).strip().rstrip('.').lower()


def valid_name(name):
    '''A DNS name we are willing to serve: 1..253 chars, labels 1..63 of
    letters, digits, '-' and '_' (SRV owner names start with '_').'''
    n = norm_name(name)
    if not n or len(n) > 253:
        return False
    for label in n.split('.'):
        if not 1 <= len(label) <= 63:
            return False
        if not all(c.isascii() and (c.isalnum() or c in '-_') for c in label):
            return False
    return True


def parse_ip(ip):
    '''Return ('A'|'AAAA', canonical text) or None.'''
    try:
        a = ipaddress.ip_address(str(ip).strip())
    except ValueError:
        return None
    return ('A' if a.version == 4 else 'AAAA', str(a))


def in_zone(name, zone=ZONE):
    n = norm_name(name)
    return n == zone or n.endswith('.' + zone)


# ---------------------------------------------------------------- records

def records_path(dns_dir):
    return os.path.join(dns_dir, RECORDS)


def load_records(dns_dir):
    st = read_json(records_path(dns_dir), {'records': []})
    return st.get('records', [])


def modify_records(dns_dir, fn):
    '''Run fn(list_of_records) -> result under the lock; the list, modified in
    place, is written back atomically. Returns fn's result.'''
    os.makedirs(dns_dir, exist_ok=True)
    with locked(os.path.join(dns_dir, RECORDS_LOCK)):
        recs = load_records(dns_dir)
        before = json.dumps(recs, sort_keys=True)
        result = fn(recs)
        if json.dumps(recs, sort_keys=True) != before or \
                not os.path.exists(records_path(dns_dir)):
            write_atomic(records_path(dns_dir),
                         json.dumps({'version': 1, 'records': recs}, indent=1) + '\n')
        return result


def add_records(dns_dir, new):
    modify_records(dns_dir, lambda recs: recs.extend(new))


def remove_where(dns_dir, pred):
    '''Remove records matching pred; return how many went.'''
    def fn(recs):
        keep = [r for r in recs if not pred(r)]
        n = len(recs) - len(keep)
        recs[:] = keep
        return n
    return modify_records(dns_dir, fn)


# ---------------------------------------------------------------- faults

def take_fault(hub_dir, method):
    '''Return the fault to apply to this Networking call, or None. A fault with
    a count is consumed; when its count reaches zero it disappears.'''
    path = os.path.join(hub_dir, NET_CONTROL)
    if not os.path.exists(path):
        return None
    with locked(os.path.join(hub_dir, NET_CONTROL_LOCK)):
        ctl = read_json(path, None)
        if not ctl:
            return None
        methods = ctl.get('methods') or ['RegisterDnsHost', 'RegisterDnsSRV']
        if method not in methods:
            return None
        fault = dict(ctl)
        count = int(ctl.get('count') or 0)
        if count > 0:
            if count == 1:
                os.unlink(path)
            else:
                ctl['count'] = count - 1
                write_atomic(path, json.dumps(ctl) + '\n')
        return fault


def set_fault(hub_dir, ctl):
    with locked(os.path.join(hub_dir, NET_CONTROL_LOCK)):
        path = os.path.join(hub_dir, NET_CONTROL)
        if ctl:
            write_atomic(path, json.dumps(ctl) + '\n')
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


# ---------------------------------------------------------------- processes

def proc_alive(pid):
    '''True if pid runs (a zombie counts as gone).'''
    try:
        with open(f'/proc/{pid}/stat', 'rb') as f:
            stat = f.read().decode('ascii', 'replace')
    except OSError:
        return False
    state = stat.rsplit(')', 1)[-1].split()[0]
    return state not in ('Z', 'X')


def proc_cmdline(pid):
    try:
        with open(f'/proc/{pid}/cmdline', 'rb') as f:
            return f.read().replace(b'\0', b' ').decode('utf-8', 'replace')
    except OSError:
        return ''


def read_pid(path):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def pid_is_ours(pid, marker):
    '''pid runs and its command line mentions marker (a directory of ours),
    so a recycled pid is never signalled.'''
    return pid is not None and proc_alive(pid) and marker in proc_cmdline(pid)


def kill_pid(pid, marker, timeout=3.0):
    '''SIGTERM the process (and its process group when it leads one), wait,
    then SIGKILL. Returns True if it is gone.'''
    if not pid_is_ours(pid, marker):
        return True
    try:
        group = os.getpgid(pid) == pid
    except OSError:
        group = False

    def send(sig):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if group:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)

    send(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc_alive(pid):
            return True
        time.sleep(0.01)
    send(signal.SIGKILL)
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        if not proc_alive(pid):
            return True
        time.sleep(0.01)
    return not proc_alive(pid)
