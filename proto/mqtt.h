/*
 * mqtt.h -- MQTT 3.1.1 client session: a state machine with no I/O.
 *
 * Like BearSSL's engine, the session only moves bytes between buffers the
 * caller supplied at mqtt_init():
 *
 *   received bytes  -> mqtt_recv_buf()/mqtt_recv_ack(n), or mqtt_feed()
 *   bytes to send   <- mqtt_send_buf(&len) ... transport send ... mqtt_send_ack(n)
 *   time            -> mqtt_tick(now_ms); sleep until mqtt_next_deadline()
 *   results         -> the event callback (mqtt_event_t)
 *
 * A driver (src/) loops: poll the transport (read interest when
 * mqtt_recv_buf() offers space, write interest when mqtt_send_buf() has
 * bytes, timeout from mqtt_next_deadline()), call mqtt_tick() with the
 * monotonic clock, then move bytes.  When mqtt_state() is MQTT_ST_CLOSED
 * (or the transport died), close the transport; reconnect with
 * mqtt_connect(), which starts from a clean connection state.
 *
 * No malloc, no globals: many sessions may run in one process.  Not
 * thread-safe; one session is used by one thread at a time.
 *
 * Pointers returned by mqtt_recv_buf()/mqtt_send_buf() stay valid until the
 * next call on the session other than the matching *_ack().
 *
 * The callback runs inside mqtt_recv_ack()/mqtt_feed()/mqtt_send_ack()/
 * mqtt_tick().  From it you may call mqtt_publish(), mqtt_subscribe(),
 * mqtt_unsubscribe(), mqtt_disconnect() and the getters; not the byte
 * functions, mqtt_tick(), mqtt_connect() or mqtt_reset_connection()
 * (remember the event and act after the call returns).
 *
 * See docs/mqtt.md for buffer sizing and the behaviour choices.
 */
#ifndef DMQTT_MQTT_H
#define DMQTT_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/mqtt_codec.h"

#define MQTT_NO_DEADLINE UINT64_MAX
/* smallest rx and tx buffers mqtt_init() accepts */
#define MQTT_MIN_BUF 16
/* SUBSCRIBE/UNSUBSCRIBE requests awaiting their ack, per session */
#ifndef MQTT_MAX_PENDING_SUBS
#define MQTT_MAX_PENDING_SUBS 4
#endif

typedef enum {
	MQTT_ST_IDLE,        /* no connection (after init or reset) */
	MQTT_ST_CONNECTING,  /* CONNECT queued, waiting for CONNACK */
	MQTT_ST_CONNECTED,   /* CONNACK accepted */
	MQTT_ST_CLOSING,     /* DISCONNECT queued; CLOSED once it is sent */
	MQTT_ST_CLOSED       /* over: refused, error, timeout or disconnected */
} mqtt_state_t;

typedef enum {
	MQTT_EV_CONNACK = 1,  /* return_code, session_present; code != 0: CLOSED.
	                       * session_present == false: the broker has no
	                       * subscriptions for us, subscribe again */
	MQTT_EV_MESSAGE,      /* msg: an inbound PUBLISH, delivered once */
	MQTT_EV_PUBLISHED,    /* packet_id: our QoS 1/2 publish is complete */
	MQTT_EV_SUBACK,       /* packet_id, codes[count]: granted QoS per filter */
	MQTT_EV_UNSUBACK,     /* packet_id */
	MQTT_EV_OVERSIZED,    /* inbound PUBLISH over rx buffer: skipped (but
	                       * acknowledged); msg.qos, msg.packet_id, size */
	MQTT_EV_ERROR,        /* status: protocol error; state is now CLOSED */
	MQTT_EV_TIMEOUT       /* no CONNACK/PINGRESP in time; state is now CLOSED */
} mqtt_event_type_t;

typedef struct {
	mqtt_event_type_t type;
	mqtt_status_t status;     /* ERROR, TIMEOUT */
	uint16_t packet_id;       /* PUBLISHED, SUBACK, UNSUBACK */
	uint8_t return_code;      /* CONNACK */
	bool session_present;     /* CONNACK */
	mqtt_publish_t msg;       /* MESSAGE: topic/payload point into the rx
	                           * buffer and are valid during the callback */
	const uint8_t *codes;     /* SUBACK: count codes, valid during the callback */
	size_t count;
	size_t size;              /* OVERSIZED: the whole packet's length */
} mqtt_event_t;

typedef void (*mqtt_event_fn)(void *user, const mqtt_event_t *ev);

/* Slot of the outbound in-flight table; the caller supplies the array,
 * the session owns its contents (set up by mqtt_init). */
typedef struct {
	uint64_t seq;        /* packet id allocation order: publication order */
	uint32_t off, len;   /* the stored PUBLISH: store[off..off+len) */
	uint16_t packet_id;
	uint16_t prev, next; /* live slots in publication order; free list */
	uint8_t state;       /* free, awaiting PUBACK/PUBREC, awaiting PUBCOMP */
	uint8_t flags;       /* must (re)send, sent at least once */
} mqtt_inflight_t;

typedef struct {
	uint8_t *rx_buf;  size_t rx_len;   /* >= MQTT_MIN_BUF: largest inbound packet */
	uint8_t *tx_buf;  size_t tx_len;   /* >= MQTT_MIN_BUF: CONNECT, largest outbound */
	mqtt_inflight_t *inflight; size_t inflight_n; /* window for QoS 1/2 out:
	                                      * messages in flight, <= 65535 */
	uint8_t *store;   size_t store_len;  /* >= 16: a ring the messages in
	                                      * flight share, each taking its
	                                      * packet's size (see docs/mqtt.md) */
	uint16_t *qos2_ids; size_t qos2_n;   /* inbound QoS 2 awaiting PUBREL */
	mqtt_event_fn on_event;              /* may be NULL */
	void *user;
	uint32_t timeout_ms;  /* CONNACK/PINGRESP/close wait; 0: default, see
	                       * mqtt_connect() */
} mqtt_config_t;

/* The session.  Plain struct the caller places anywhere; fields are private. */
typedef struct {
	mqtt_config_t c;
	mqtt_state_t state;
	mqtt_status_t error;
	uint32_t gen;             /* +1 per reset: a loop notices the callback reset us */
	uint64_t next_seq;        /* packet ids allocated so far */
	/* in-flight table: live slots in a list in publication order, free
	 * slots in a stack; n_send slots wait to be queued, none before cursor */
	size_t n_live, n_send;
	uint16_t live_head, live_tail, free_head, cursor;
	uint16_t hint[2];         /* likely slot of the next PUBACK/PUBREC, PUBCOMP */
	size_t st_tail, st_live;  /* store: end of the newest message; bytes live */
	uint32_t timeout;         /* effective response timeout, ms */
	uint16_t next_id;
	uint16_t keepalive;       /* seconds */
	bool ping_out;            /* PINGREQ due/sent and no byte received since */
	bool ping_queue;          /* PINGREQ not yet in the tx buffer */
	bool busy;                /* inside process(): no re-entry */
	size_t rx_off, rx_fill;   /* unprocessed rx bytes: rx_buf[rx_off..rx_fill) */
	size_t tx_off, tx_fill;   /* unsent tx bytes: tx_buf[tx_off..tx_fill) */
	/* an oversized PUBLISH being skipped (skip_len != 0) */
	size_t skip_len, skip_pos, skip_need, skip_total;
	uint16_t skip_tlen, skip_id;
	uint8_t skip_qos;
	uint64_t now;             /* last mqtt_tick() time */
	uint64_t last_tx;         /* when bytes were last acked as sent */
	uint64_t deadline;        /* CONNACK, PINGRESP or close deadline */
	struct {
		uint16_t id;          /* 0: free */
		bool unsub;
		size_t count;         /* filters in the request */
	} subs[MQTT_MAX_PENDING_SUBS];
} mqtt_session_t;

/* Set up s over the caller's buffers (all must outlive s).  MQTT_E_ARG if a
 * buffer is missing or under its minimum (rx/tx < MQTT_MIN_BUF, a store
 * under 16 bytes, over 65535 slots).  The state is MQTT_ST_IDLE; in-flight
 * table empty. */
mqtt_status_t mqtt_init(mqtt_session_t *s, const mqtt_config_t *cfg);

/* Start a connection: mqtt_reset_connection(), then queue CONNECT (c is
 * copied into the tx buffer; MQTT_E_TOO_LARGE if it does not fit).  The
 * response timeout is cfg.timeout_ms, else keepalive/2 (at least 1 s), or
 * 30 s without keepalive.  State: CONNECTING. */
mqtt_status_t mqtt_connect(mqtt_session_t *s, const mqtt_connect_t *c, uint64_t now_ms);

/* Forget the connection (call when the transport closes): rx/tx bytes,
 * a partial skip, keepalive/ping state and pending SUBSCRIBE/UNSUBSCRIBE
 * are dropped; the in-flight table and inbound QoS 2 ids are kept, and
 * every in-flight entry is marked for resending after the next CONNACK.
 * State: IDLE. */
void mqtt_reset_connection(mqtt_session_t *s);

/* Space to receive into (*cap bytes, 0 when full: stop reading until
 * bytes are sent) and its acknowledgement, which processes the bytes.
 * Bytes received outside CONNECTING/CONNECTED are discarded. */
uint8_t *mqtt_recv_buf(mqtt_session_t *s, size_t *cap);
void mqtt_recv_ack(mqtt_session_t *s, size_t n);
/* Copy-in convenience: returns how many bytes of data were taken (< len
 * only when the rx buffer is full behind a full tx buffer). */
size_t mqtt_feed(mqtt_session_t *s, const uint8_t *data, size_t len);

/* Bytes to send (*len, 0 when nothing) and how many the transport took.
 * A partial send keeps the rest queued; packets are never cut. */
const uint8_t *mqtt_send_buf(const mqtt_session_t *s, size_t *len);
void mqtt_send_ack(mqtt_session_t *s, size_t n);

/* Advance time (monotonic ms, never backwards): CONNACK/PINGRESP
 * timeouts, PINGREQ after keepalive seconds without sending. */
void mqtt_tick(mqtt_session_t *s, uint64_t now_ms);
/* Absolute time mqtt_tick() next has work, or MQTT_NO_DEADLINE. */
uint64_t mqtt_next_deadline(const mqtt_session_t *s);

/*
 * Publish m's topic, payload, qos and retain (dup and packet_id ignored).
 * QoS 0: CONNECTED only, straight into the tx buffer (MQTT_E_WOULDBLOCK
 * when it has no room now).  QoS 1/2: copied into an in-flight slot (and
 * the store) in any state and sent when connected; *packet_id (may be
 * NULL) identifies the later MQTT_EV_PUBLISHED.  MQTT_E_WINDOW_FULL when no
 * slot is free or the store has no room for it now (it will once older
 * messages complete), MQTT_E_TOO_LARGE when the packet exceeds the store
 * or the tx buffer.
 */
mqtt_status_t mqtt_publish(mqtt_session_t *s, const mqtt_publish_t *m, uint16_t *packet_id);

/* SUBSCRIBE to n filters (CONNECTED only); the MQTT_EV_SUBACK with the
 * same packet id carries one code per filter.  MQTT_E_WOULDBLOCK when
 * the tx buffer has no room or MQTT_MAX_PENDING_SUBS requests are open. */
mqtt_status_t mqtt_subscribe(mqtt_session_t *s, const mqtt_sub_t *subs, size_t n,
	uint16_t *packet_id);
mqtt_status_t mqtt_unsubscribe(mqtt_session_t *s, const mqtt_sub_t *subs, size_t n,
	uint16_t *packet_id);

/* Queue DISCONNECT (CONNECTING or CONNECTED): no will is published.  The
 * state is CLOSING until the tx buffer is fully sent, then CLOSED. */
mqtt_status_t mqtt_disconnect(mqtt_session_t *s);

mqtt_state_t mqtt_state(const mqtt_session_t *s);
/* Why the session is CLOSED (MQTT_OK after a clean disconnect). */
mqtt_status_t mqtt_last_error(const mqtt_session_t *s);
/* Outbound QoS 1/2 messages not yet complete. */
size_t mqtt_inflight_count(const mqtt_session_t *s);

#endif
