/* mqtt_codec.c -- see mqtt_codec.h */
#include "proto/mqtt_codec.h"

#include <string.h>

#include "proto/utf8.h"

const char *mqtt_strerror(mqtt_status_t st)
{
	switch (st) {
	case MQTT_OK: return "ok";
	case MQTT_NEED_MORE: return "incomplete packet";
	case MQTT_E_NOSPACE: return "buffer too small";
	case MQTT_E_ARG: return "invalid argument";
	case MQTT_E_MALFORMED: return "malformed packet";
	case MQTT_E_TYPE: return "bad packet type";
	case MQTT_E_FLAGS: return "bad fixed-header flags";
	case MQTT_E_QOS: return "bad QoS";
	case MQTT_E_PACKET_ID: return "packet id 0";
	case MQTT_E_UTF8: return "bad UTF-8 string";
	case MQTT_E_TOPIC: return "bad topic";
	case MQTT_E_RETURN_CODE: return "bad return code";
	case MQTT_E_TOO_LARGE: return "packet too large";
	case MQTT_E_PROTOCOL: return "protocol violation by peer";
	case MQTT_E_STATE: return "not allowed in this state";
	case MQTT_E_WOULDBLOCK: return "send buffer full";
	case MQTT_E_WINDOW_FULL: return "in-flight window full";
	case MQTT_E_QOS2_FULL: return "inbound QoS 2 table full";
	case MQTT_E_TIMEOUT: return "timed out";
	case MQTT_E_REFUSED: return "connection refused by broker";
	}
	return "unknown status";
}

/* ---- checks shared by the parsers and the serializers */

/* MQTT strings: well-formed UTF-8 without U+0000 (MQTT-1.5.3-1/2). */
static mqtt_status_t check_utf8(const void *s, size_t n)
{
	if (n > MQTT_MAX_STRING)
		return MQTT_E_TOO_LARGE;
	if (n > 0 && (memchr(s, 0, n) != NULL || !utf8_valid(s, n)))
		return MQTT_E_UTF8;
	return MQTT_OK;
}

/* '+' and '#' are ASCII, so they never occur inside a multi-byte UTF-8
 * sequence (those bytes are all >= 0x80): scanning bytes is exact. */
static mqtt_status_t check_len(const char *s, size_t n)
{
	if (s == NULL)
		return MQTT_E_ARG;
	if (n == 0) /* MQTT-4.7.3-1 */
		return MQTT_E_TOPIC;
	return n > MQTT_MAX_STRING ? MQTT_E_TOO_LARGE : MQTT_OK;
}

/* One pass (every PUBLISH in and out comes through here): MQTT_E_TOPIC
 * at a wildcard, else MQTT_E_UTF8 if the name holds U+0000 or ill-formed
 * UTF-8 anywhere -- the same answer as checking wildcards first.  A valid
 * multi-byte sequence is skipped whole; after an invalid lead byte the scan
 * goes on byte by byte, so no '+' or '#' is missed. */
mqtt_status_t mqtt_check_topic(const char *t, size_t n)
{
	const uint8_t *s = (const uint8_t *)t;
	mqtt_status_t st = check_len(t, n);
	size_t i = 0, k;

	if (st != MQTT_OK)
		return st;
	while (i < n) {
		if (s[i] >= 0x80) {
			k = utf8_decode(s + i, n - i, NULL);
			if (k == 0) {
				st = MQTT_E_UTF8;
				k = 1;
			}
			i += k;
			continue;
		}
		if (s[i] == '+' || s[i] == '#')
			return MQTT_E_TOPIC;
		if (s[i] == 0)
			st = MQTT_E_UTF8;
		i++;
	}
	return st;
}

mqtt_status_t mqtt_check_filter(const char *f, size_t n)
{
	mqtt_status_t st = check_len(f, n);

	if (st != MQTT_OK)
		return st;
	for (size_t i = 0; i < n; i++) {
		if (f[i] != '+' && f[i] != '#')
			continue;
		/* a wildcard fills its whole level; '#' only as the last level */
		if (i > 0 && f[i - 1] != '/')
			return MQTT_E_TOPIC;
		if (f[i] == '#' ? i + 1 != n : i + 1 < n && f[i + 1] != '/')
			return MQTT_E_TOPIC;
	}
	return check_utf8(f, n);
}

/* ---- framing */

/* Reserved flag bits per type (MQTT-2.2.2-1/2); PUBLISH is checked apart. */
static int flags_ok(unsigned type, unsigned flags)
{
	if (type == MQTT_PUBREL || type == MQTT_SUBSCRIBE || type == MQTT_UNSUBSCRIBE)
		return flags == 2;
	return flags == 0;
}

mqtt_status_t mqtt_frame(const uint8_t *buf, size_t len, mqtt_frame_t *f)
{
	size_t rem = 0, i;

	memset(f, 0, sizeof *f);
	if (len == 0)
		return MQTT_NEED_MORE;
	f->type = buf[0] >> 4;
	f->flags = buf[0] & 0x0f;
	if (f->type == 0 || f->type == 15)
		return MQTT_E_TYPE;
	if (f->type == MQTT_PUBLISH) {
		if ((f->flags & 6) == 6)
			return MQTT_E_QOS;
		if ((f->flags & 6) == 0 && (f->flags & 8) != 0)
			return MQTT_E_FLAGS; /* DUP at QoS 0 (MQTT-3.3.1-2) */
	} else if (!flags_ok(f->type, f->flags)) {
		return MQTT_E_FLAGS;
	}
	/* length bytes are buf[1..4]; a continuation bit on buf[4] is malformed */
	for (i = 1;; i++) {
		if (i > 4)
			return MQTT_E_MALFORMED;
		if (i >= len)
			return MQTT_NEED_MORE;
		rem |= (size_t)(buf[i] & 0x7f) << (7 * (i - 1));
		if ((buf[i] & 0x80) == 0)
			break;
	}
	f->header_len = i + 1;
	f->remaining = rem;
	f->total = i + 1 + rem; /* <= 5 + 2^28 - 1: fits a 32-bit size_t */
	return len >= f->total ? MQTT_OK : MQTT_NEED_MORE;
}

/* ---- parsing: a cursor over the remaining bytes; invariant n = bytes left */

typedef struct {
	const uint8_t *p;
	size_t n;
} rd_t;

static int get8(rd_t *r, uint8_t *v)
{
	if (r->n < 1)
		return 0;
	*v = r->p[0];
	r->p++;
	r->n--;
	return 1;
}

static int get16(rd_t *r, uint16_t *v)
{
	if (r->n < 2)
		return 0;
	*v = (uint16_t)(r->p[0] << 8 | r->p[1]);
	r->p += 2;
	r->n -= 2;
	return 1;
}

/* length-prefixed bytes; the length is checked against what remains */
static int getstr(rd_t *r, const uint8_t **s, size_t *len)
{
	uint16_t l;
	if (!get16(r, &l) || r->n < l)
		return 0;
	*s = r->p;
	*len = l;
	r->p += l;
	r->n -= l;
	return 1;
}

/* The body of a packet mqtt_frame() accepted, as exactly one packet of
 * len bytes: trailing bytes are malformed. */
static mqtt_status_t body_of(const uint8_t *pkt, size_t len, const mqtt_frame_t *f, rd_t *r)
{
	if (f->total != len)
		return MQTT_E_MALFORMED; /* trailing bytes */
	r->p = pkt + f->header_len;
	r->n = f->remaining;
	return MQTT_OK;
}

/* Exactly one whole packet of the given type; r gets its body. */
static mqtt_status_t body(const uint8_t *pkt, size_t len, int type, rd_t *r)
{
	mqtt_frame_t f;
	mqtt_status_t st = mqtt_frame(pkt, len, &f);

	if (st == MQTT_NEED_MORE)
		return MQTT_E_MALFORMED; /* truncated */
	if (st != MQTT_OK)
		return st;
	if (f.type != type)
		return MQTT_E_TYPE;
	return body_of(pkt, len, &f, r);
}

/* Read a packet id that must not be 0. */
static mqtt_status_t get_id(rd_t *r, uint16_t *id)
{
	if (!get16(r, id))
		return MQTT_E_MALFORMED;
	return *id != 0 ? MQTT_OK : MQTT_E_PACKET_ID;
}

/*
 * Per type: the checks on a body r (the fixed header was checked).  The
 * public mqtt_parse_<type>() frame first; mqtt_parse_framed() reuses the
 * frame its caller already has.
 */

static mqtt_status_t connect_body(rd_t r, mqtt_connect_t *c)
{
	static const uint8_t proto[7] = { 0, 4, 'M', 'Q', 'T', 'T', 4 };
	const uint8_t *s;
	mqtt_status_t st;
	uint8_t fl;

	memset(c, 0, sizeof *c);
	if (r.n < 10 || memcmp(r.p, proto, 7) != 0)
		return MQTT_E_MALFORMED; /* only protocol "MQTT" level 4 */
	fl = r.p[7];
	c->keepalive_s = (uint16_t)(r.p[8] << 8 | r.p[9]);
	r.p += 10;
	r.n -= 10;
	c->clean_session = (fl & 0x02) != 0;
	c->will_qos = (fl >> 3) & 3;
	c->will_retain = (fl & 0x20) != 0;
	if (fl & 0x01) /* reserved (MQTT-3.1.2-3) */
		return MQTT_E_MALFORMED;
	if (c->will_qos == 3)
		return MQTT_E_QOS;
	if (!(fl & 0x04) && (fl & 0x38)) /* will QoS/retain without will */
		return MQTT_E_MALFORMED;
	if ((fl & 0xc0) == 0x40) /* password without username */
		return MQTT_E_MALFORMED;
	if (!getstr(&r, &s, &c->client_id_len))
		return MQTT_E_MALFORMED;
	c->client_id = (const char *)s;
	if ((st = check_utf8(s, c->client_id_len)) != MQTT_OK)
		return st;
	if (fl & 0x04) {
		if (!getstr(&r, &s, &c->will_topic_len))
			return MQTT_E_MALFORMED;
		c->will_topic = (const char *)s;
		if ((st = mqtt_check_topic(c->will_topic, c->will_topic_len)) != MQTT_OK)
			return st;
		if (!getstr(&r, &c->will_payload, &c->will_payload_len))
			return MQTT_E_MALFORMED;
	}
	if (fl & 0x80) {
		if (!getstr(&r, &s, &c->username_len))
			return MQTT_E_MALFORMED;
		c->username = (const char *)s;
		if ((st = check_utf8(s, c->username_len)) != MQTT_OK)
			return st;
	}
	if ((fl & 0x40) && !getstr(&r, &c->password, &c->password_len))
		return MQTT_E_MALFORMED;
	return r.n == 0 ? MQTT_OK : MQTT_E_MALFORMED;
}

static mqtt_status_t connack_body(rd_t r, mqtt_connack_t *out)
{
	if (r.n != 2 || (r.p[0] & 0xfe) != 0)
		return MQTT_E_MALFORMED;
	if (r.p[1] > MQTT_CONNACK_NOT_AUTHORIZED)
		return MQTT_E_RETURN_CODE;
	if (r.p[1] != 0 && r.p[0] != 0) /* refusal with session present (MQTT-3.2.2-4) */
		return MQTT_E_MALFORMED;
	out->session_present = r.p[0] != 0;
	out->return_code = r.p[1];
	return MQTT_OK;
}

/* b0: the packet's first byte (DUP, QoS, RETAIN) */
static mqtt_status_t publish_body(uint8_t b0, rd_t r, mqtt_publish_t *m)
{
	const uint8_t *t;
	mqtt_status_t st;

	memset(m, 0, sizeof *m);
	m->dup = (b0 & 0x08) != 0;
	m->qos = (b0 >> 1) & 3; /* 3 was rejected by mqtt_frame */
	m->retain = (b0 & 0x01) != 0;
	if (!getstr(&r, &t, &m->topic_len))
		return MQTT_E_MALFORMED;
	m->topic = (const char *)t;
	if ((st = mqtt_check_topic(m->topic, m->topic_len)) != MQTT_OK)
		return st;
	if (m->qos > 0 && (st = get_id(&r, &m->packet_id)) != MQTT_OK)
		return st;
	m->payload = r.p;
	m->payload_len = r.n;
	return MQTT_OK;
}

static int is_ack(int type)
{
	return type == MQTT_PUBACK || type == MQTT_PUBREC || type == MQTT_PUBREL ||
		type == MQTT_PUBCOMP || type == MQTT_UNSUBACK;
}

static mqtt_status_t ack_body(rd_t r, uint16_t *id)
{
	if (r.n != 2)
		return MQTT_E_MALFORMED;
	return get_id(&r, id);
}

static mqtt_status_t sublist_body(int type, rd_t r, mqtt_sublist_t *l)
{
	const uint8_t *f;
	size_t flen;
	uint8_t qos;
	mqtt_status_t st;

	memset(l, 0, sizeof *l);
	l->type = (uint8_t)type;
	if ((st = get_id(&r, &l->packet_id)) != MQTT_OK)
		return st;
	l->list = r.p;
	l->list_len = r.n;
	if (r.n == 0) /* at least one filter (MQTT-3.8.3-3, MQTT-3.10.3-2) */
		return MQTT_E_MALFORMED;
	while (r.n > 0) {
		if (!getstr(&r, &f, &flen))
			return MQTT_E_MALFORMED;
		if ((st = mqtt_check_filter((const char *)f, flen)) != MQTT_OK)
			return st;
		if (type == MQTT_SUBSCRIBE) {
			if (!get8(&r, &qos))
				return MQTT_E_MALFORMED;
			if (qos > 2) /* upper 6 bits reserved (MQTT-3.8.3-4), QoS 3 */
				return (qos & 0xfc) ? MQTT_E_MALFORMED : MQTT_E_QOS;
		}
		l->count++;
	}
	return MQTT_OK;
}

static mqtt_status_t suback_body(rd_t r, mqtt_suback_t *out)
{
	mqtt_status_t st;

	if ((st = get_id(&r, &out->packet_id)) != MQTT_OK)
		return st;
	if (r.n == 0)
		return MQTT_E_MALFORMED;
	for (size_t i = 0; i < r.n; i++)
		if (r.p[i] > 2 && r.p[i] != MQTT_SUBACK_FAILURE)
			return MQTT_E_RETURN_CODE;
	out->codes = r.p;
	out->count = r.n;
	return MQTT_OK;
}

mqtt_status_t mqtt_parse_connect(const uint8_t *pkt, size_t len, mqtt_connect_t *c)
{
	rd_t r;
	mqtt_status_t st = body(pkt, len, MQTT_CONNECT, &r);

	if (st != MQTT_OK)
		return st;
	return connect_body(r, c);
}

mqtt_status_t mqtt_parse_connack(const uint8_t *pkt, size_t len, mqtt_connack_t *out)
{
	rd_t r;
	mqtt_status_t st = body(pkt, len, MQTT_CONNACK, &r);

	if (st != MQTT_OK)
		return st;
	return connack_body(r, out);
}

mqtt_status_t mqtt_parse_publish(const uint8_t *pkt, size_t len, mqtt_publish_t *m)
{
	rd_t r;
	mqtt_status_t st = body(pkt, len, MQTT_PUBLISH, &r);

	if (st != MQTT_OK)
		return st;
	return publish_body(pkt[0], r, m);
}

mqtt_status_t mqtt_parse_ack(const uint8_t *pkt, size_t len, int type, uint16_t *id)
{
	rd_t r;
	mqtt_status_t st;

	if (!is_ack(type))
		return MQTT_E_ARG;
	if ((st = body(pkt, len, type, &r)) != MQTT_OK)
		return st;
	return ack_body(r, id);
}

mqtt_status_t mqtt_parse_sublist(const uint8_t *pkt, size_t len, int type, mqtt_sublist_t *l)
{
	rd_t r;
	mqtt_status_t st;

	if (type != MQTT_SUBSCRIBE && type != MQTT_UNSUBSCRIBE)
		return MQTT_E_ARG;
	if ((st = body(pkt, len, type, &r)) != MQTT_OK)
		return st;
	return sublist_body(type, r, l);
}

int mqtt_sublist_next(const mqtt_sublist_t *l, size_t *off, mqtt_sub_t *out)
{
	rd_t r;
	const uint8_t *f;

	if (*off >= l->list_len)
		return 0;
	r.p = l->list + *off;
	r.n = l->list_len - *off;
	if (!getstr(&r, &f, &out->len))
		return 0;
	out->filter = (const char *)f;
	out->qos = 0;
	if (l->type == MQTT_SUBSCRIBE && !get8(&r, &out->qos))
		return 0;
	*off = l->list_len - r.n;
	return 1;
}

mqtt_status_t mqtt_parse_suback(const uint8_t *pkt, size_t len, mqtt_suback_t *out)
{
	rd_t r;
	mqtt_status_t st = body(pkt, len, MQTT_SUBACK, &r);

	if (st != MQTT_OK)
		return st;
	return suback_body(r, out);
}

mqtt_status_t mqtt_parse_empty(const uint8_t *pkt, size_t len, int type)
{
	rd_t r;
	mqtt_status_t st;

	if (type != MQTT_PINGREQ && type != MQTT_PINGRESP && type != MQTT_DISCONNECT)
		return MQTT_E_ARG;
	if ((st = body(pkt, len, type, &r)) != MQTT_OK)
		return st;
	return r.n == 0 ? MQTT_OK : MQTT_E_MALFORMED;
}

mqtt_status_t mqtt_parse_framed(const uint8_t *pkt, size_t len, const mqtt_frame_t *f,
	mqtt_packet_t *out)
{
	rd_t r;
	mqtt_status_t st = body_of(pkt, len, f, &r);

	if (st != MQTT_OK)
		return st;
	memset(out, 0, sizeof *out);
	out->type = f->type;
	out->flags = f->flags;
	switch (f->type) {
	case MQTT_CONNECT: return connect_body(r, &out->u.connect);
	case MQTT_CONNACK: return connack_body(r, &out->u.connack);
	case MQTT_PUBLISH: return publish_body(pkt[0], r, &out->u.publish);
	case MQTT_SUBSCRIBE:
	case MQTT_UNSUBSCRIBE: return sublist_body(f->type, r, &out->u.sublist);
	case MQTT_SUBACK: return suback_body(r, &out->u.suback);
	case MQTT_PINGREQ:
	case MQTT_PINGRESP:
	case MQTT_DISCONNECT: return r.n == 0 ? MQTT_OK : MQTT_E_MALFORMED;
	default: return ack_body(r, &out->u.packet_id); /* types 4-7 and 11 */
	}
}

mqtt_status_t mqtt_parse(const uint8_t *pkt, size_t len, mqtt_packet_t *out)
{
	mqtt_frame_t f;
	mqtt_status_t st = mqtt_frame(pkt, len, &f);

	if (st == MQTT_NEED_MORE)
		return MQTT_E_MALFORMED;
	if (st != MQTT_OK)
		return st;
	return mqtt_parse_framed(pkt, len, &f, out);
}

/* ---- serializing: sizes first, then one pass of writes */

static size_t varint_len(size_t rem)
{
	return rem < 128 ? 1 : rem < 16384 ? 2 : rem < 2097152 ? 3 : 4;
}

/* Set *len to the packet size for body length rem; when it fits, write the
 * fixed header and return its end in *w.  rem must be <= MQTT_MAX_REMAINING
 * or TOO_LARGE results. */
static mqtt_status_t begin(uint8_t *buf, size_t cap, uint8_t b0, size_t rem,
	size_t *len, uint8_t **w)
{
	if (rem > MQTT_MAX_REMAINING)
		return MQTT_E_TOO_LARGE;
	*len = 1 + varint_len(rem) + rem;
	if (buf == NULL || cap < *len)
		return MQTT_E_NOSPACE;
	*buf++ = b0;
	do {
		uint8_t d = rem & 0x7f;
		rem >>= 7;
		*buf++ = (uint8_t)(d | (rem ? 0x80 : 0));
	} while (rem);
	*w = buf;
	return MQTT_OK;
}

static uint8_t *put16(uint8_t *w, unsigned v)
{
	w[0] = (uint8_t)(v >> 8);
	w[1] = (uint8_t)v;
	return w + 2;
}

static uint8_t *putraw(uint8_t *w, const void *s, size_t n)
{
	if (n > 0)
		memcpy(w, s, n);
	return w + n;
}

/* length-prefixed; n <= 65535 was checked by the caller */
static uint8_t *putstr(uint8_t *w, const void *s, size_t n)
{
	return putraw(put16(w, (unsigned)n), s, n);
}

mqtt_status_t mqtt_ser_connect(uint8_t *buf, size_t cap, const mqtt_connect_t *c, size_t *len)
{
	static const uint8_t proto[7] = { 0, 4, 'M', 'Q', 'T', 'T', 4 };
	mqtt_status_t st;
	uint8_t fl = 0, *w;
	size_t rem;

	if (c == NULL || c->client_id == NULL)
		return MQTT_E_ARG;
	if (c->client_id_len == 0 && !c->clean_session) /* MQTT-3.1.3-7 */
		return MQTT_E_ARG;
	if ((st = check_utf8(c->client_id, c->client_id_len)) != MQTT_OK)
		return st;
	rem = 10 + 2 + c->client_id_len;
	if (c->clean_session)
		fl |= 0x02;
	if (c->will_topic != NULL) {
		if ((st = mqtt_check_topic(c->will_topic, c->will_topic_len)) != MQTT_OK)
			return st;
		if (c->will_qos > 2)
			return MQTT_E_QOS;
		if (c->will_payload_len > MQTT_MAX_STRING)
			return MQTT_E_TOO_LARGE;
		if (c->will_payload == NULL && c->will_payload_len > 0)
			return MQTT_E_ARG;
		fl |= (uint8_t)(0x04 | c->will_qos << 3 | (c->will_retain ? 0x20 : 0));
		rem += 4 + c->will_topic_len + c->will_payload_len;
	}
	if (c->username != NULL) {
		if ((st = check_utf8(c->username, c->username_len)) != MQTT_OK)
			return st;
		fl |= 0x80;
		rem += 2 + c->username_len;
	}
	if (c->password != NULL) {
		if (c->username == NULL) /* MQTT-3.1.2-22 */
			return MQTT_E_ARG;
		if (c->password_len > MQTT_MAX_STRING)
			return MQTT_E_TOO_LARGE;
		fl |= 0x40;
		rem += 2 + c->password_len;
	}
	if ((st = begin(buf, cap, MQTT_CONNECT << 4, rem, len, &w)) != MQTT_OK)
		return st;
	w = putraw(w, proto, 7);
	*w++ = fl;
	w = put16(w, c->keepalive_s);
	w = putstr(w, c->client_id, c->client_id_len);
	if (c->will_topic != NULL) {
		w = putstr(w, c->will_topic, c->will_topic_len);
		w = putstr(w, c->will_payload, c->will_payload_len);
	}
	if (c->username != NULL)
		w = putstr(w, c->username, c->username_len);
	if (c->password != NULL)
		putstr(w, c->password, c->password_len);
	return MQTT_OK;
}

mqtt_status_t mqtt_ser_connack(uint8_t *buf, size_t cap, bool session_present,
	uint8_t return_code, size_t *len)
{
	mqtt_status_t st;
	uint8_t *w;

	if (return_code > MQTT_CONNACK_NOT_AUTHORIZED)
		return MQTT_E_RETURN_CODE;
	if (return_code != 0 && session_present)
		return MQTT_E_ARG;
	if ((st = begin(buf, cap, MQTT_CONNACK << 4, 2, len, &w)) != MQTT_OK)
		return st;
	w[0] = session_present ? 1 : 0;
	w[1] = return_code;
	return MQTT_OK;
}

mqtt_status_t mqtt_ser_publish(uint8_t *buf, size_t cap, const mqtt_publish_t *p, size_t *len)
{
	mqtt_status_t st;
	uint8_t b0, *w;

	if (p == NULL || (p->payload == NULL && p->payload_len > 0))
		return MQTT_E_ARG;
	if ((st = mqtt_check_topic(p->topic, p->topic_len)) != MQTT_OK)
		return st;
	if (p->qos > 2)
		return MQTT_E_QOS;
	if (p->qos > 0 && p->packet_id == 0)
		return MQTT_E_PACKET_ID;
	if (p->qos == 0 && p->dup)
		return MQTT_E_FLAGS;
	if (p->payload_len > MQTT_MAX_REMAINING) /* keeps the sum below from wrapping */
		return MQTT_E_TOO_LARGE;
	b0 = (uint8_t)(MQTT_PUBLISH << 4 | (p->dup ? 8 : 0) | p->qos << 1 | (p->retain ? 1 : 0));
	st = begin(buf, cap, b0, 2 + p->topic_len + (p->qos ? 2 : 0) + p->payload_len, len, &w);
	if (st != MQTT_OK)
		return st;
	w = putstr(w, p->topic, p->topic_len);
	if (p->qos > 0)
		w = put16(w, p->packet_id);
	putraw(w, p->payload, p->payload_len);
	return MQTT_OK;
}

mqtt_status_t mqtt_ser_ack(uint8_t *buf, size_t cap, int type, uint16_t id, size_t *len)
{
	mqtt_status_t st;
	uint8_t *w;

	if (!is_ack(type))
		return MQTT_E_ARG;
	if (id == 0)
		return MQTT_E_PACKET_ID;
	st = begin(buf, cap, (uint8_t)(type << 4 | (type == MQTT_PUBREL ? 2 : 0)), 2, len, &w);
	if (st != MQTT_OK)
		return st;
	put16(w, id);
	return MQTT_OK;
}

/* SUBSCRIBE and UNSUBSCRIBE share everything but the QoS byte. */
static mqtt_status_t ser_sublist(uint8_t *buf, size_t cap, int type, uint16_t id,
	const mqtt_sub_t *subs, size_t n, size_t *len)
{
	int sub = type == MQTT_SUBSCRIBE;
	mqtt_status_t st;
	size_t rem = 2, i;
	uint8_t *w;

	if (subs == NULL || n == 0)
		return MQTT_E_ARG;
	if (id == 0)
		return MQTT_E_PACKET_ID;
	for (i = 0; i < n; i++) {
		if ((st = mqtt_check_filter(subs[i].filter, subs[i].len)) != MQTT_OK)
			return st;
		if (sub && subs[i].qos > 2)
			return MQTT_E_QOS;
		rem += 2 + subs[i].len + (size_t)sub;
		if (rem > MQTT_MAX_REMAINING) /* stop before the sum could wrap */
			return MQTT_E_TOO_LARGE;
	}
	if ((st = begin(buf, cap, (uint8_t)(type << 4 | 2), rem, len, &w)) != MQTT_OK)
		return st;
	w = put16(w, id);
	for (i = 0; i < n; i++) {
		w = putstr(w, subs[i].filter, subs[i].len);
		if (sub)
			*w++ = subs[i].qos;
	}
	return MQTT_OK;
}

mqtt_status_t mqtt_ser_subscribe(uint8_t *buf, size_t cap, uint16_t id,
	const mqtt_sub_t *subs, size_t n, size_t *len)
{
	return ser_sublist(buf, cap, MQTT_SUBSCRIBE, id, subs, n, len);
}

mqtt_status_t mqtt_ser_unsubscribe(uint8_t *buf, size_t cap, uint16_t id,
	const mqtt_sub_t *subs, size_t n, size_t *len)
{
	return ser_sublist(buf, cap, MQTT_UNSUBSCRIBE, id, subs, n, len);
}

mqtt_status_t mqtt_ser_suback(uint8_t *buf, size_t cap, uint16_t id,
	const uint8_t *codes, size_t n, size_t *len)
{
	mqtt_status_t st;
	uint8_t *w;

	if (codes == NULL || n == 0)
		return MQTT_E_ARG;
	if (id == 0)
		return MQTT_E_PACKET_ID;
	for (size_t i = 0; i < n; i++)
		if (codes[i] > 2 && codes[i] != MQTT_SUBACK_FAILURE)
			return MQTT_E_RETURN_CODE;
	if (n > MQTT_MAX_REMAINING - 2)
		return MQTT_E_TOO_LARGE;
	if ((st = begin(buf, cap, MQTT_SUBACK << 4, 2 + n, len, &w)) != MQTT_OK)
		return st;
	putraw(put16(w, id), codes, n);
	return MQTT_OK;
}

mqtt_status_t mqtt_ser_empty(uint8_t *buf, size_t cap, int type, size_t *len)
{
	uint8_t *w;

	if (type != MQTT_PINGREQ && type != MQTT_PINGRESP && type != MQTT_DISCONNECT)
		return MQTT_E_ARG;
	return begin(buf, cap, (uint8_t)(type << 4), 0, len, &w);
}
