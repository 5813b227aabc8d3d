'''python3-dbusmock template: io.veea.VeeaHub.Info of the VeeaHub emulator.

    /usr/bin/python3 -m dbusmock --system -t veeahub_info_template.py \
        -p '{"serial": "...", "mesh_uuid": "...", "node_type": "MEN", "hostname": "..."}'

Every method takes no argument and returns one string, the configured value.
Tests may replace a value at run time with dbusmock's own control interface,
e.g. org.freedesktop.DBus.Mock.AddMethod("", "NodeType", "", "s", "ret = 'MN'").
'''

BUS_NAME = 'io.veea.VeeaHub.Info'
MAIN_OBJ = '/io/veea/VeeaHub/Info'
MAIN_IFACE = BUS_NAME          # on VeeaHub the interface name equals the bus name
SYSTEM_BUS = True

DEFAULTS = {
    'serial': 'C25DTADSR00000001134',
    'mesh_uuid': '6f1c3b9e-0d4a-4c2e-9f57-2b8e7a1d5c30',
    'node_type': 'MEN',
    'hostname': 'veeahub-emu',
}


def load(mock, parameters):
    p = dict(DEFAULTS)
    p.update({k: v for k, v in (parameters or {}).items() if k in DEFAULTS})
    mock.AddMethods(MAIN_IFACE, [
        ('MeshUUID', '', 's', f'ret = {str(p["mesh_uuid"])!r}'),
        ('VeeaSerial', '', 's', f'ret = {str(p["serial"])!r}'),
        ('NodeType', '', 's', f'ret = {str(p["node_type"])!r}'),
        ('Hostname', '', 's', f'ret = {str(p["hostname"])!r}'),
    ])
