/*
 * veeahub.h -- the VeeaHub platform services this program uses, over the
 * system bus (DESIGN.md "VeeaHub D-Bus API used").  Each service's
 * interface name equals its bus name.
 *
 * The Info getters honour development overrides: DMQTT_SERIAL for
 * VeeaSerial and DMQTT_MESH_UUID for MeshUUID (then the bus is not asked).
 */
#ifndef DMQTT_VEEAHUB_H
#define DMQTT_VEEAHUB_H

#include <stddef.h>
#include <stdint.h>

#include "src/bus.h"

#define VH_INFO "io.veea.VeeaHub.Info"
#define VH_INFO_PATH "/io/veea/VeeaHub/Info"
#define VH_NET "io.veea.VeeaHub.Networking"
#define VH_NET_PATH "/io/veea/VeeaHub/Networking"

/* The broker's DNS names and scope (DESIGN.md). */
#define VH_BROKER_HOST "dmqtt-broker-application.service.veeamesh.local"
#define VH_SRV_DOMAIN "service.veeamesh.local"
#define VH_SRV_SERVICE "dmqtt"
#define VH_NETWORK "shared:trusted"
#define VH_SCOPE "mesh"

/*
 * Blocking getters for the tools and for start-up (timeout_ms each).  *bus
 * is opened on first use (NULL: not yet) and reused.  0 and the string in
 * out, or -1 with the reason in err (an ERROR reply is "NAME: message").
 */
int vh_info(bus_t **bus, const char *method, char *out, size_t cap,
	uint32_t timeout_ms, char *err, size_t errcap);
int vh_serial(bus_t **bus, char *out, size_t cap, uint32_t timeout_ms, char *err, size_t errcap);
int vh_mesh_uuid(bus_t **bus, char *out, size_t cap, uint32_t timeout_ms, char *err, size_t errcap);

/*
 * Networking.Register* and Unregister, asynchronous (from a poll loop).
 * The reply callback gets the raw reply; vh_register_result() extracts the
 * status and token from an (isa{sv}) reply.
 */
uint32_t vh_register_host(bus_t *b, const char *ip, uint64_t now,
	bus_reply_fn fn, void *user, char *err, size_t errcap);
uint32_t vh_register_srv(bus_t *b, uint16_t port, uint64_t now,
	bus_reply_fn fn, void *user, char *err, size_t errcap);
uint32_t vh_unregister(bus_t *b, const char *token, uint64_t now,
	bus_reply_fn fn, void *user, char *err, size_t errcap);
/* 0 with *status and token (NUL-terminated), or -1 if the reply is not isa{sv}. */
int vh_register_result(const dbus_msg_t *m, int32_t *status, char *token, size_t cap);

#endif
