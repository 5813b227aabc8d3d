/*
 * mqttc.h -- an MQTT client connection: the proto/mqtt session driven over
 * a plain TCP or TLS transport, with reconnects.
 *
 * Everything is non-blocking and has no globals, so one poll loop can drive
 * many clients (dmqtt node --fleet):
 *
 *     for (;;) {
 *         n = 0; timeout = -1;
 *         for each client c: if (mqttc_pollfd(c, &fds[n])) idx[n++] = c;
 *                             timeout = min(timeout, mqttc_timeout_ms(c, now));
 *         net_poll(fds, n, timeout);
 *         now = clock_mono_ms();
 *         for each client c: mqttc_process(c, its pollfd or NULL, now);
 *     }
 *
 * Reconnect policy: after a failed attempt or a lost connection, wait
 * backoff = min(cap, base * 2^failures) with full jitter in [backoff/2,
 * backoff]; the failure count resets once a connection has stayed up for
 * stable_ms.  Addresses come from a resolve callback called before every
 * attempt (so SRV discovery is redone after a failure), tried in order.
 * Subscriptions are remembered and sent again whenever the broker reports
 * no session (session present = 0).
 */
#ifndef DMQTT_MQTTC_H
#define DMQTT_MQTTC_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform/net.h"
#include "proto/io.h"
#include "proto/mqtt.h"

#define MQTTC_MAX_ADDRS 8
#define MQTTC_MAX_SUBS 8
/* Largest read from the transport: 16 KiB is ~200 small messages per
 * system call, and what a backlog can make resident of the rx buffer. */
#define MQTTC_READ_MAX 16384

typedef enum {
	MQTTC_IDLE,      /* not started, or stopped */
	MQTTC_WAIT,      /* waiting before the next attempt */
	MQTTC_TCP,       /* TCP connect in progress */
	MQTTC_SESSION,   /* transport up; MQTT session connecting or connected */
	MQTTC_UP         /* CONNACK accepted */
} mqttc_state_t;

/* Why a connection attempt failed or a connection ended (for exit codes). */
typedef enum {
	MQTTC_R_NONE = 0,
	MQTTC_R_RESOLVE,     /* no address for the broker */
	MQTTC_R_UNREACHABLE, /* TCP connect failed (refused, unreachable) */
	MQTTC_R_TIMEOUT,     /* connect, TLS or CONNACK took too long */
	MQTTC_R_TLS,         /* TLS failure (verification, handshake) */
	MQTTC_R_REFUSED,     /* CONNACK return code 1 or 2 */
	MQTTC_R_BUSY,        /* CONNACK 3: server unavailable */
	MQTTC_R_AUTH,        /* CONNACK 4 (bad user name or password) or 5 */
	MQTTC_R_PROTOCOL,    /* malformed or unexpected packet from the broker */
	MQTTC_R_CLOSED,      /* the broker or network closed the connection */
	MQTTC_R_KEEPALIVE    /* no PINGRESP in time */
} mqttc_reason_t;

typedef struct mqttc mqttc_t;

typedef struct {
	/* connection state changes: up (session_present valid) or down (reason,
	 * detail is a human-readable text valid during the call) */
	void (*on_up)(mqttc_t *c, void *user, bool session_present);
	void (*on_down)(mqttc_t *c, void *user, mqttc_reason_t why, const char *detail);
	void (*on_message)(mqttc_t *c, void *user, const mqtt_publish_t *m);
	void (*on_published)(mqttc_t *c, void *user, uint16_t packet_id);
	/* one call per SUBACK, codes in the order of the filters sent */
	void (*on_suback)(mqttc_t *c, void *user, const uint8_t *codes, size_t n);
	/* returns how many addresses it wrote to out (0: none, retried later) */
	int (*resolve)(void *user, net_addr_t *out, int max, char *err, size_t errcap);
	/* wrap a connected TCP transport in TLS (NULL: plain); 0 or -1 with err */
	int (*wrap)(void *user, const io_transport_t *tcp, io_transport_t *out,
		char *err, size_t errcap);
	/* after wrap: the TLS failure text for a transport error, or NULL */
	const char *(*wrap_error)(void *user);
	void *user;       /* passed to the event callbacks */
	void *net_user;   /* passed to resolve, wrap and wrap_error */
} mqttc_hooks_t;

typedef struct {
	mqtt_connect_t connect;    /* strings must outlive the client */
	size_t rx_max;             /* largest inbound packet; default 1 MiB */
	size_t tx_max;             /* tx buffer; default 64 KiB + largest publish */
	size_t max_publish;        /* largest outbound PUBLISH; default 256 KiB + 1 KiB */
	size_t inflight;           /* QoS 1/2 window (messages); default 16 */
	size_t store;              /* bytes those messages share (at least
	                            * max_publish); default max_publish * inflight */
	size_t qos2_in;            /* inbound QoS 2 ids; default 64 */
	uint32_t connect_timeout_ms;   /* TCP + TLS + CONNACK; default 10 s */
	uint32_t backoff_base_ms;      /* default 500 */
	uint32_t backoff_cap_ms;       /* default 30 s */
	uint32_t stable_ms;            /* default 10 s */
} mqttc_config_t;

/* Allocate a client (buffers come from malloc: pages not touched are not
 * resident, so a 1 MiB receive limit costs nothing until used; reads take
 * at most MQTTC_READ_MAX bytes at a time, so a backlog in the socket does
 * not touch more of it).  Returns NULL on allocation failure or a bad
 * config. */
mqttc_t *mqttc_new(const mqttc_config_t *cfg, const mqttc_hooks_t *hooks);
void mqttc_free(mqttc_t *c);

/* First connection attempt now. */
void mqttc_start(mqttc_t *c, uint64_t now);
/* Queue DISCONNECT (no will) and stop reconnecting; mqttc_state() becomes
 * MQTTC_IDLE once it is sent or the connection is gone. */
void mqttc_stop(mqttc_t *c);
/* When waiting before a reconnect: try at the next mqttc_process. */
void mqttc_retry_now(mqttc_t *c, uint64_t now);
/* Drop the connection at once (no DISCONNECT) and reconnect after backoff. */
void mqttc_drop(mqttc_t *c, uint64_t now);

/* poll() interest: 1 and *p filled when the client has a socket, else 0. */
int mqttc_pollfd(mqttc_t *c, struct pollfd *p);
/* Milliseconds until the client needs mqttc_process without I/O, -1: none. */
int mqttc_timeout_ms(mqttc_t *c, uint64_t now);
/* Move bytes and time.  p is this client's pollfd after poll (or NULL). */
void mqttc_process(mqttc_t *c, const struct pollfd *p, uint64_t now);

/* Subscribe now and after every session loss (filter copied, max 8). */
int mqttc_subscribe(mqttc_t *c, const char *filter, uint8_t qos);

/* Publish; QoS 0 needs MQTTC_UP.  Returns MQTT_OK, MQTT_E_WOULDBLOCK (try
 * after the next mqttc_process), MQTT_E_WINDOW_FULL, MQTT_E_STATE (QoS 0
 * while down), MQTT_E_TOO_LARGE. */
mqtt_status_t mqttc_publish(mqttc_t *c, const char *topic, const void *payload,
	size_t len, uint8_t qos, bool retain, uint16_t *packet_id);

mqttc_state_t mqttc_state(const mqttc_t *c);
size_t mqttc_inflight(const mqttc_t *c);
/* Bytes waiting in the tx buffer (0: everything handed to the transport). */
size_t mqttc_unsent(const mqttc_t *c);
/* Connection attempts that failed since the last successful one. */
unsigned mqttc_failures(const mqttc_t *c);
/* Number of CONNACKs accepted so far (reconnect count + 1). */
unsigned mqttc_connects(const mqttc_t *c);
const char *mqttc_reason_str(mqttc_reason_t r);

#endif
