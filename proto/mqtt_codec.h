/*
 * mqtt_codec.h -- MQTT 3.1.1 control packets: serialize and parse.
 *
 * Pure: no I/O, no allocation, no global state.  Every function works on
 * buffers the caller owns.  The stateful client (proto/mqtt.h) is built on
 * top of this file; the fuzzers hit it directly.
 *
 * Serializing.  Every mqtt_ser_*() validates its arguments, computes the
 * packet size into *len and writes the packet only when it fits:
 *   MQTT_OK          buf[0..*len) holds the packet
 *   MQTT_E_NOSPACE   buf is NULL or cap < *len; nothing written.  Calling
 *                    with (NULL, 0) is the size query.
 *   other            an argument is invalid (*len is then unspecified).
 *
 * Parsing.  mqtt_frame() finds packet boundaries in a byte stream; the
 * mqtt_parse_*() functions take exactly one whole packet (fixed header
 * included, len == frame.total) and check every length against what
 * remains, packet ids, reserved flag bits, QoS and UTF-8.  Parsed strings
 * and payloads point into the caller's buffer (zero-copy) and live as long
 * as it does; they are not NUL-terminated.
 */
#ifndef DMQTT_MQTT_CODEC_H
#define DMQTT_MQTT_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One status enum for the codec and the session (proto/mqtt.h). */
typedef enum {
	MQTT_OK = 0,
	MQTT_NEED_MORE,      /* mqtt_frame: the packet is not complete yet */
	MQTT_E_NOSPACE,      /* output buffer too small (*len = size needed) */
	MQTT_E_ARG,          /* invalid argument (NULL, empty list, bad type) */
	MQTT_E_MALFORMED,    /* lengths or structure inconsistent */
	MQTT_E_TYPE,         /* reserved packet type 0 or 15, or not the type asked */
	MQTT_E_FLAGS,        /* reserved fixed-header flag bits wrong */
	MQTT_E_QOS,          /* QoS 3 (or > 2 as an argument) */
	MQTT_E_PACKET_ID,    /* packet id 0 where one is required */
	MQTT_E_UTF8,         /* ill-formed UTF-8 or U+0000 in a string */
	MQTT_E_TOPIC,        /* empty topic, wildcard in a topic name, bad filter */
	MQTT_E_RETURN_CODE,  /* CONNACK code > 5, SUBACK code not 0,1,2,0x80 */
	MQTT_E_TOO_LARGE,    /* over a protocol limit or a configured buffer */
	/* session (proto/mqtt.h) */
	MQTT_E_PROTOCOL,     /* the broker sent a packet not allowed now */
	MQTT_E_STATE,        /* call not allowed in the session's state */
	MQTT_E_WOULDBLOCK,   /* no room in the tx buffer now: send, then retry */
	MQTT_E_WINDOW_FULL,  /* every in-flight slot is taken */
	MQTT_E_QOS2_FULL,    /* inbound QoS 2 id table full */
	MQTT_E_TIMEOUT,      /* no CONNACK / PINGRESP / byte within the deadline */
	MQTT_E_REFUSED       /* CONNACK return code != 0 */
} mqtt_status_t;

/* Control packet types (high nibble of the first byte). */
enum {
	MQTT_CONNECT = 1, MQTT_CONNACK, MQTT_PUBLISH, MQTT_PUBACK, MQTT_PUBREC,
	MQTT_PUBREL, MQTT_PUBCOMP, MQTT_SUBSCRIBE, MQTT_SUBACK, MQTT_UNSUBSCRIBE,
	MQTT_UNSUBACK, MQTT_PINGREQ, MQTT_PINGRESP, MQTT_DISCONNECT
};

#define MQTT_MAX_REMAINING 268435455u  /* 4-byte remaining-length varint */
#define MQTT_MAX_STRING    65535u      /* 2-byte string length prefix */
#define MQTT_SUBACK_FAILURE 0x80
/* CONNACK return codes 1..5 (0 is accepted) */
enum {
	MQTT_CONNACK_ACCEPTED = 0, MQTT_CONNACK_BAD_VERSION,
	MQTT_CONNACK_ID_REJECTED, MQTT_CONNACK_UNAVAILABLE,
	MQTT_CONNACK_BAD_LOGIN, MQTT_CONNACK_NOT_AUTHORIZED
};

/* Fixed header of a packet at the start of a byte stream. */
typedef struct {
	uint8_t type;       /* MQTT_CONNECT..MQTT_DISCONNECT */
	uint8_t flags;      /* low nibble of the first byte */
	size_t header_len;  /* 2..5 */
	size_t remaining;   /* remaining length */
	size_t total;       /* header_len + remaining; 0 while the header is incomplete */
} mqtt_frame_t;

/* CONNECT fields.  A NULL pointer means "absent" (a non-NULL pointer with
 * length 0 is present and empty).  password requires username. */
typedef struct {
	const char *client_id;  size_t client_id_len;  /* "" needs clean_session */
	const char *username;   size_t username_len;
	const uint8_t *password; size_t password_len;
	const char *will_topic; size_t will_topic_len; /* NULL: no will */
	const uint8_t *will_payload; size_t will_payload_len;
	uint8_t will_qos;
	bool will_retain;
	bool clean_session;
	uint16_t keepalive_s;   /* 0 disables keepalive */
} mqtt_connect_t;

typedef struct {
	bool session_present;
	uint8_t return_code;    /* MQTT_CONNACK_* */
} mqtt_connack_t;

typedef struct {
	const char *topic;      size_t topic_len;
	const uint8_t *payload; size_t payload_len;
	uint8_t qos;            /* 0, 1, 2 */
	bool retain;
	bool dup;
	uint16_t packet_id;     /* QoS 1 and 2 only; never 0 there */
} mqtt_publish_t;

/* One topic filter of a SUBSCRIBE (qos = requested) or UNSUBSCRIBE (qos unused). */
typedef struct {
	const char *filter;
	size_t len;
	uint8_t qos;
} mqtt_sub_t;

/* A parsed SUBSCRIBE or UNSUBSCRIBE: walk it with mqtt_sublist_next(). */
typedef struct {
	uint16_t packet_id;
	uint8_t type;           /* MQTT_SUBSCRIBE or MQTT_UNSUBSCRIBE */
	size_t count;           /* >= 1 */
	const uint8_t *list;    /* the payload */
	size_t list_len;
} mqtt_sublist_t;

typedef struct {
	uint16_t packet_id;
	size_t count;           /* >= 1 */
	const uint8_t *codes;   /* granted QoS 0..2 or MQTT_SUBACK_FAILURE, per filter */
} mqtt_suback_t;

/* Any parsed packet. */
typedef struct {
	uint8_t type;
	uint8_t flags;
	union {
		mqtt_connect_t connect;
		mqtt_connack_t connack;
		mqtt_publish_t publish;
		mqtt_sublist_t sublist;   /* SUBSCRIBE, UNSUBSCRIBE */
		mqtt_suback_t suback;
		uint16_t packet_id;       /* PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK */
	} u;
} mqtt_packet_t;

/* Static English text for a status ("ok", "malformed packet", ...). */
const char *mqtt_strerror(mqtt_status_t st);

/* Topic name check (PUBLISH, will): 1..65535 bytes of UTF-8 without U+0000,
 * '+' or '#'.  MQTT_OK, MQTT_E_TOPIC, MQTT_E_UTF8 or MQTT_E_TOO_LARGE. */
mqtt_status_t mqtt_check_topic(const char *t, size_t n);
/* Topic filter check (SUBSCRIBE, UNSUBSCRIBE): like a topic name, but '+'
 * and '#' allowed when they fill a whole level and '#' only as the last. */
mqtt_status_t mqtt_check_filter(const char *f, size_t n);

/*
 * Frame the packet at buf[0..len).  MQTT_OK: a whole packet is there, f
 * describes it (f->total bytes).  MQTT_NEED_MORE: read more; f->total is
 * the size the packet will have once its header is complete, else 0.
 * Errors (the stream cannot be resynchronised): MQTT_E_TYPE (type 0/15),
 * MQTT_E_FLAGS (reserved flags, or PUBLISH with DUP=1 at QoS 0),
 * MQTT_E_QOS (PUBLISH QoS 3), MQTT_E_MALFORMED (a 5th length byte).
 */
mqtt_status_t mqtt_frame(const uint8_t *buf, size_t len, mqtt_frame_t *f);

/* Parse one whole packet of any type into out (dispatches to the below). */
mqtt_status_t mqtt_parse(const uint8_t *pkt, size_t len, mqtt_packet_t *out);
/* The same for a packet mqtt_frame() returned MQTT_OK on (f is its frame,
 * len == f->total), without framing it again: a stream reader frames
 * every packet anyway. */
mqtt_status_t mqtt_parse_framed(const uint8_t *pkt, size_t len, const mqtt_frame_t *f,
	mqtt_packet_t *out);

mqtt_status_t mqtt_parse_connect(const uint8_t *pkt, size_t len, mqtt_connect_t *out);
mqtt_status_t mqtt_parse_connack(const uint8_t *pkt, size_t len, mqtt_connack_t *out);
mqtt_status_t mqtt_parse_publish(const uint8_t *pkt, size_t len, mqtt_publish_t *out);
/* type: MQTT_PUBACK, PUBREC, PUBREL, PUBCOMP or UNSUBACK; *id != 0 */
mqtt_status_t mqtt_parse_ack(const uint8_t *pkt, size_t len, int type, uint16_t *id);
/* type: MQTT_SUBSCRIBE or MQTT_UNSUBSCRIBE; every filter checked */
mqtt_status_t mqtt_parse_sublist(const uint8_t *pkt, size_t len, int type, mqtt_sublist_t *out);
mqtt_status_t mqtt_parse_suback(const uint8_t *pkt, size_t len, mqtt_suback_t *out);
/* type: MQTT_PINGREQ, PINGRESP or DISCONNECT (remaining length 0) */
mqtt_status_t mqtt_parse_empty(const uint8_t *pkt, size_t len, int type);

/* Next filter of a parsed list: start with *off = 0; returns 1 and fills
 * out (pointing into the packet) while there is one, then 0. */
int mqtt_sublist_next(const mqtt_sublist_t *l, size_t *off, mqtt_sub_t *out);

mqtt_status_t mqtt_ser_connect(uint8_t *buf, size_t cap, const mqtt_connect_t *c, size_t *len);
mqtt_status_t mqtt_ser_connack(uint8_t *buf, size_t cap, bool session_present,
	uint8_t return_code, size_t *len);
/* Uses every field of p; packet_id is ignored at QoS 0. */
mqtt_status_t mqtt_ser_publish(uint8_t *buf, size_t cap, const mqtt_publish_t *p, size_t *len);
/* PUBACK, PUBREC, PUBREL (flags 0010 set for it), PUBCOMP or UNSUBACK */
mqtt_status_t mqtt_ser_ack(uint8_t *buf, size_t cap, int type, uint16_t id, size_t *len);
/* SUBSCRIBE (filters with QoS) or UNSUBSCRIBE (qos ignored); n >= 1 */
mqtt_status_t mqtt_ser_subscribe(uint8_t *buf, size_t cap, uint16_t id,
	const mqtt_sub_t *subs, size_t n, size_t *len);
mqtt_status_t mqtt_ser_unsubscribe(uint8_t *buf, size_t cap, uint16_t id,
	const mqtt_sub_t *subs, size_t n, size_t *len);
mqtt_status_t mqtt_ser_suback(uint8_t *buf, size_t cap, uint16_t id,
	const uint8_t *codes, size_t n, size_t *len);
/* PINGREQ, PINGRESP or DISCONNECT: two bytes */
mqtt_status_t mqtt_ser_empty(uint8_t *buf, size_t cap, int type, size_t *len);

#endif
