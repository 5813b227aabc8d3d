/*
 * bus.h -- a D-Bus client connection on proto/dbus: address parsing,
 * SASL EXTERNAL, Hello, method calls with timeouts, and signals on request.
 *
 * Non-blocking: the caller's poll loop drives it (bus_pollfd, bus_timeout_ms,
 * bus_process), so the broker and node roles call D-Bus without stalling
 * their MQTT sessions.  bus_call_wait() drives one call alone for the
 * command-line tools.  Calls made before the connection is ready are queued
 * behind Hello and sent with it once SASL is done.  A call is written with
 * one send, and its reply read with one poll and one receive.
 */
#ifndef DMQTT_BUS_H
#define DMQTT_BUS_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/dbus.h"

typedef struct bus bus_t;

typedef enum {
	BUS_CONNECTING,  /* socket, SASL or Hello in progress */
	BUS_READY,
	BUS_DEAD         /* connection lost or refused: bus_error() says why */
} bus_state_t;

/*
 * The reply to a call: m is the METHOD_RETURN or ERROR message (valid
 * during the callback), or NULL when the call failed locally, timed out or
 * the bus went away (err says which).
 */
typedef void (*bus_reply_fn)(void *user, const dbus_msg_t *m, const char *err);
typedef void (*bus_signal_fn)(void *user, const dbus_msg_t *m);

/* The system bus address: $DBUS_SYSTEM_BUS_ADDRESS or the default path. */
const char *bus_system_address(void);

/* Start connecting to an address ("unix:path=...", "unix:abstract=...",
 * several separated by ';', tried in order).  NULL on a bad address or no
 * memory, with the reason in err. */
bus_t *bus_open(const char *address, uint64_t now, char *err, size_t errcap);
void bus_close(bus_t *b);

bus_state_t bus_state(const bus_t *b);
const char *bus_error(const bus_t *b);

/*
 * Call a method; the body is built from busctl-style text arguments
 * (signature sig, may be NULL or "" for none).  The reply callback runs
 * exactly once.  Returns the serial, or 0 when the arguments did not
 * marshal (err says why; the callback is not called).
 */
uint32_t bus_call_text(bus_t *b, const char *dest, const char *path,
	const char *iface, const char *member, const char *sig, int argc,
	char *const argv[], uint32_t timeout_ms, uint64_t now,
	bus_reply_fn fn, void *user, char *err, size_t errcap);

/* Ask for NameOwnerChanged signals about name; fn gets every signal. */
void bus_watch_name(bus_t *b, const char *name, bus_signal_fn fn, void *user, uint64_t now);

int bus_pollfd(bus_t *b, struct pollfd *p);
int bus_timeout_ms(bus_t *b, uint64_t now);
void bus_process(bus_t *b, const struct pollfd *p, uint64_t now);

/*
 * Blocking convenience: one call, waiting at most timeout_ms (including
 * connecting).  On success copies the reply message into buf and parses it
 * into *reply (type METHOD_RETURN or ERROR); returns 0.  Otherwise -1 (bus
 * or timeout) or -2 (the call could not be built from the arguments: bad
 * name, path, signature or argument), with the reason in err.
 */
int bus_call_wait(bus_t *b, const char *dest, const char *path, const char *iface,
	const char *member, const char *sig, int argc, char *const argv[],
	uint32_t timeout_ms, uint8_t *buf, size_t cap, dbus_msg_t *reply,
	char *err, size_t errcap);

#endif
