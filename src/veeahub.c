/* veeahub.c -- see veeahub.h */
#include "src/veeahub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/clock.h"
#include "platform/fmt.h"

static int ensure_bus(bus_t **bus, char *err, size_t errcap)
{
	if (*bus != NULL && bus_state(*bus) != BUS_DEAD)
		return 0;
	if (*bus != NULL) {
		bus_close(*bus);
		*bus = NULL;
	}
	*bus = bus_open(bus_system_address(), clock_mono_ms(), err, errcap);
	return *bus != NULL ? 0 : -1;
}

int vh_info(bus_t **bus, const char *method, char *out, size_t cap,
	uint32_t timeout_ms, char *err, size_t errcap)
{
	uint8_t buf[4096];
	dbus_msg_t m;
	dbus_iter_t it;
	dbus_value_t v;

	if (ensure_bus(bus, err, errcap) != 0)
		return -1;
	if (bus_call_wait(*bus, VH_INFO, VH_INFO_PATH, VH_INFO, method, NULL, 0, NULL,
		timeout_ms, buf, sizeof buf, &m, err, errcap) != 0)
		return -1;
	if (m.type == DBUS_ERROR) {
		const char *t = dbus_msg_error_text(&m);
		fmt_snprintf(err, errcap, "%s.%s: %s%s%s", VH_INFO, method, m.error_name,
			t != NULL ? ": " : "", t != NULL ? t : "");
		return -1;
	}
	dbus_iter_init(&it, &m);
	if (strcmp(m.signature, "s") != 0 || dbus_iter_get(&it, &v) != DBUS_OK) {
		fmt_snprintf(err, errcap, "%s.%s returned '%s', expected 's'", VH_INFO, method, m.signature);
		return -1;
	}
	if (v.len + 1 > cap) {
		fmt_snprintf(err, errcap, "%s.%s: answer too long", VH_INFO, method);
		return -1;
	}
	memcpy(out, v.s, v.len + 1);
	return 0;
}

static int from_env(const char *var, char *out, size_t cap)
{
	const char *v = getenv(var);
	if (v == NULL || *v == '\0' || strlen(v) + 1 > cap)
		return -1;
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

int vh_serial(bus_t **bus, char *out, size_t cap, uint32_t timeout_ms, char *err, size_t errcap)
{
	if (from_env("DMQTT_SERIAL", out, cap) == 0)
		return 0;
	return vh_info(bus, "VeeaSerial", out, cap, timeout_ms, err, errcap);
}

int vh_mesh_uuid(bus_t **bus, char *out, size_t cap, uint32_t timeout_ms, char *err, size_t errcap)
{
	if (from_env("DMQTT_MESH_UUID", out, cap) == 0)
		return 0;
	return vh_info(bus, "MeshUUID", out, cap, timeout_ms, err, errcap);
}

uint32_t vh_register_host(bus_t *b, const char *ip, uint64_t now,
	bus_reply_fn fn, void *user, char *err, size_t errcap)
{
	char *argv[] = { VH_NETWORK, VH_BROKER_HOST, (char *)ip, VH_SCOPE };
	return bus_call_text(b, VH_NET, VH_NET_PATH, VH_NET, "RegisterDnsHost", "ssss", 4, argv,
		10000, now, fn, user, err, errcap);
}

uint32_t vh_register_srv(bus_t *b, uint16_t port, uint64_t now,
	bus_reply_fn fn, void *user, char *err, size_t errcap)
{
	char p[8];
	char *argv[] = { VH_NETWORK, VH_BROKER_HOST, p, VH_SRV_DOMAIN, "tcp", VH_SRV_SERVICE, VH_SCOPE };
	fmt_snprintf(p, sizeof p, "%u", port);
	return bus_call_text(b, VH_NET, VH_NET_PATH, VH_NET, "RegisterDnsSRV", "ssissss", 7, argv,
		10000, now, fn, user, err, errcap);
}

uint32_t vh_unregister(bus_t *b, const char *token, uint64_t now,
	bus_reply_fn fn, void *user, char *err, size_t errcap)
{
	char *argv[] = { (char *)token };
	return bus_call_text(b, VH_NET, VH_NET_PATH, VH_NET, "Unregister", "s", 1, argv,
		5000, now, fn, user, err, errcap);
}

int vh_register_result(const dbus_msg_t *m, int32_t *status, char *token, size_t cap)
{
	dbus_iter_t it;
	dbus_value_t v;
	if (m->type != DBUS_METHOD_RETURN || strncmp(m->signature, "is", 2) != 0)
		return -1;
	dbus_iter_init(&it, m);
	if (dbus_iter_get(&it, &v) != DBUS_OK || v.type != 'i')
		return -1;
	*status = (int32_t)(uint32_t)v.u;
	if (dbus_iter_get(&it, &v) != DBUS_OK || v.type != 's' || v.len + 1 > cap)
		return -1;
	memcpy(token, v.s, v.len + 1);
	return 0;
}
