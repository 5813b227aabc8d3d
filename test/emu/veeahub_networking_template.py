'''python3-dbusmock template: io.veea.VeeaHub.Networking of the VeeaHub emulator.

    /usr/bin/python3 -m dbusmock --system -t veeahub_networking_template.py \
        -p '{"dir": HUB_DIR, "dns_dir": DNS_DIR, "mesh_ip": "127.0.0.1"}'

RegisterDnsHost(network, fqdn, ipAddr, scope)                           ssss    -> isa{sv}
RegisterDnsSRV(network, target, port, domain, protocol, service, scope) ssissss -> isa{sv}
Unregister(token)                                                       s       -> i
GetMeshIPAddress()                                                              -> s

Registrations go into DNS_DIR/records.json (see veeahub_state.py), which the
emulator's DNS server serves at once. Status 0 = success with a fresh token
(a UUID) and an info dict; 22 = invalid argument; Unregister: 0 for a token
this service handed out, 2 otherwise. When the mock starts it drops the
records an earlier instance of the same hub registered, as a restarted
service would have forgotten them.

Fault injection: HUB_DIR/networking-control.json (written by
`veeahub net-fail`), read on every call; see docs/emulator.md.
'''

import os
import sys
import time
import uuid

import dbus

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import veeahub_state as vs  # noqa: E402

BUS_NAME = 'io.veea.VeeaHub.Networking'
MAIN_OBJ = '/io/veea/VeeaHub/Networking'
MAIN_IFACE = BUS_NAME
SYSTEM_BUS = True

SCOPES = ('local', 'mesh', 'all')
PROTOCOLS = ('tcp', 'udp')


def _result(status, token='', **info):
    return (dbus.Int32(status), dbus.String(token),
            dbus.Dictionary({k: v for k, v in info.items()}, signature='sv'))


def _invalid(msg):
    return _result(vs.ST_EINVAL, '', error=dbus.String(msg))


def _fault(self, method):
    '''Apply an injected fault; return a result tuple to answer with, or None.'''
    f = vs.take_fault(self.veeahub['dir'], method)
    if not f:
        return None
    if f.get('delay'):
        time.sleep(float(f['delay']))
    if f.get('dbus_error'):
        raise dbus.exceptions.DBusException(
            f'injected failure of {method}', name=str(f['dbus_error']))
    status = int(f.get('status') or 0)
    if status:
        if method == 'Unregister':
            return dbus.Int32(status)
        return _result(status, '', error=dbus.String('injected failure'))
    return None


def _common(network, scope):
    if not str(network).strip():
        return 'network must not be empty'
    if scope not in SCOPES:
        return f'scope must be one of {", ".join(SCOPES)}'
    return None


def _owner(self):
    return 'hub:' + self.veeahub['dir']


def register_dns_host(self, network, fqdn, ip, scope):
    r = _fault(self, 'RegisterDnsHost')
    if r is not None:
        return r
    err = _common(network, scope)
    if err:
        return _invalid(err)
    if not vs.valid_name(fqdn):
        return _invalid('fqdn is not a valid host name')
    addr = vs.parse_ip(ip)
    if not addr:
        return _invalid('ipAddr is not an IPv4 or IPv6 address')
    token = str(uuid.uuid4())
    name = vs.norm_name(fqdn)
    vs.add_records(self.veeahub['dns_dir'], [{
        'token': token, 'owner': _owner(self), 'type': addr[0], 'name': name,
        'ip': addr[1], 'network': str(network), 'scope': str(scope)}])
    return _result(vs.ST_OK, token, fqdn=dbus.String(name),
                   ipAddr=dbus.String(addr[1]), scope=dbus.String(scope),
                   network=dbus.String(network))


def register_dns_srv(self, network, target, port, domain, protocol, service, scope):
    r = _fault(self, 'RegisterDnsSRV')
    if r is not None:
        return r
    err = _common(network, scope)
    if err:
        return _invalid(err)
    if not vs.valid_name(target):
        return _invalid('target is not a valid host name')
    if not 1 <= int(port) <= 65535:
        return _invalid('port must be 1..65535')
    if not vs.valid_name(domain):
        return _invalid('domain is not a valid domain name')
    if protocol not in PROTOCOLS:
        return _invalid(f'protocol must be one of {", ".join(PROTOCOLS)}')
    # the service is given without its underscore; DNS adds one (a leading
    # underscore in the argument therefore ends up doubled, as it would on a hub)
    if not service or not vs.valid_name('_' + service):
        return _invalid('service is not a valid label')
    name = vs.norm_name(f'_{service}._{protocol}.{domain}')
    token = str(uuid.uuid4())
    vs.add_records(self.veeahub['dns_dir'], [{
        'token': token, 'owner': _owner(self), 'type': 'SRV', 'name': name,
        'target': vs.norm_name(target), 'port': int(port), 'priority': 0,
        'weight': 0, 'network': str(network), 'scope': str(scope)}])
    return _result(vs.ST_OK, token, fqdn=dbus.String(name),
                   target=dbus.String(vs.norm_name(target)), port=dbus.Int32(int(port)),
                   scope=dbus.String(scope), network=dbus.String(network))


def unregister(self, token):
    r = _fault(self, 'Unregister')
    if r is not None:
        return r
    owner = _owner(self)
    n = vs.remove_where(self.veeahub['dns_dir'],
                        lambda rec: rec.get('token') == str(token) and rec.get('owner') == owner)
    return dbus.Int32(vs.ST_OK if n else vs.ST_ENOENT)


def get_mesh_ip_address(self):
    r = _fault(self, 'GetMeshIPAddress')
    if r is not None:
        return dbus.String('')
    return dbus.String(self.veeahub['mesh_ip'])


def load(mock, parameters):
    p = dict(parameters or {})
    hub_dir = os.path.abspath(p.get('dir') or os.getcwd())
    mock.veeahub = {
        'dir': hub_dir,
        'dns_dir': os.path.abspath(p.get('dns_dir') or os.path.join(hub_dir, 'dns')),
        'mesh_ip': str(p.get('mesh_ip') or '127.0.0.1'),
    }
    # a (re)started service knows no registrations: drop this hub's old ones
    owner = _owner(mock)
    vs.remove_where(mock.veeahub['dns_dir'], lambda rec: rec.get('owner') == owner)
    # Python functions as method code (dbusmock calls code(self, *args));
    # string code would run in dbusmock's globals, without this module's.
    mock.AddMethod(MAIN_IFACE, 'RegisterDnsHost', 'ssss', 'isa{sv}', register_dns_host)
    mock.AddMethod(MAIN_IFACE, 'RegisterDnsSRV', 'ssissss', 'isa{sv}', register_dns_srv)
    mock.AddMethod(MAIN_IFACE, 'Unregister', 's', 'i', unregister)
    mock.AddMethod(MAIN_IFACE, 'GetMeshIPAddress', '', 's', get_mesh_ip_address)
