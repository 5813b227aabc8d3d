/* mqtt.c -- see mqtt.h */
#include "proto/mqtt.h"

#include <string.h>

/* in-flight slot states and flags */
enum { SLOT_FREE, SLOT_PUB, SLOT_REL }; /* PUB: awaiting PUBACK/PUBREC; REL: PUBCOMP */
enum { F_SEND = 1, F_SENT = 2 };        /* queue it (again); went out before */
#define NIL 0xffffu                     /* no slot: inflight_n <= 65535 */

/*
 * The in-flight table.  Live slots form a doubly linked list in publication
 * order (live_head is the oldest), free slots a stack through .next; their
 * messages lie in the store in the same order, as a ring: the live bytes
 * run from the oldest message's offset to st_tail, wrapping at most once
 * (a message never wraps; the gap it leaves at the end is skipped).  A slot
 * freed out of order leaves a hole that is reused once the older messages
 * complete.  Every operation on the common path (publish, ack in order,
 * queue for sending) is O(1); a search over the table happens only for an
 * ack out of order or a packet id that might still be in use.
 */

static mqtt_inflight_t *slot(const mqtt_session_t *s, size_t i)
{
	return &s->c.inflight[i];
}

static uint8_t *slot_data(const mqtt_session_t *s, size_t i)
{
	return s->c.store + slot(s, i)->off;
}

static unsigned slot_qos(const mqtt_session_t *s, size_t i)
{
	return (slot_data(s, i)[0] >> 1) & 3; /* from the stored PUBLISH header */
}

static int find_slot(const mqtt_session_t *s, uint16_t id, int kind)
{
	uint16_t k = s->live_head;

	/* brokers acknowledge in order (MQTT-4.6.0-2): the oldest message, or
	 * the one after the last acknowledged, is almost always the one */
	if (k != NIL && slot(s, k)->packet_id == id)
		return k;
	k = s->hint[kind];
	if (k != NIL && slot(s, k)->state != SLOT_FREE && slot(s, k)->packet_id == id)
		return k;
	for (size_t i = 0; i < s->c.inflight_n; i++)
		if (slot(s, i)->state != SLOT_FREE && slot(s, i)->packet_id == id)
			return (int)i;
	return -1;
}

/* Mark slot i to be queued (again); pump() does it in publication order. */
static void mark_send(mqtt_session_t *s, uint16_t i)
{
	mqtt_inflight_t *e = slot(s, i);

	if (e->flags & F_SEND)
		return;
	e->flags |= F_SEND;
	if (s->n_send++ == 0 || e->seq < slot(s, s->cursor)->seq)
		s->cursor = i;
}

/* Take slot i off the live list (its message is complete). */
static void slot_free(mqtt_session_t *s, uint16_t i)
{
	mqtt_inflight_t *e = slot(s, i);

	if (e->flags & F_SEND)
		s->n_send--;
	if (s->cursor == i)
		s->cursor = e->next;
	for (int k = 0; k < 2; k++)
		if (s->hint[k] == i)
			s->hint[k] = e->next;
	if (e->prev != NIL)
		slot(s, e->prev)->next = e->next;
	else
		s->live_head = e->next;
	if (e->next != NIL)
		slot(s, e->next)->prev = e->prev;
	else
		s->live_tail = e->prev;
	s->st_live -= e->len;
	e->state = SLOT_FREE;
	e->flags = 0;
	e->next = s->free_head;
	s->free_head = i;
	s->n_live--;
}

/* Move slot i's message to offset to (no live bytes lie between). */
static void store_move(mqtt_session_t *s, uint16_t i, size_t to)
{
	mqtt_inflight_t *e = slot(s, i);

	if (e->off != to)
		memmove(s->c.store + to, s->c.store + e->off, e->len);
	e->off = (uint32_t)to;
}

/*
 * Squeeze out the holes that messages completed out of order left (a
 * message the broker does not acknowledge would otherwise hold up the whole
 * ring behind it).  The messages from the oldest up to the wrap move down
 * to offset 0 if there is no wrap; with a wrap, the wrapped (newer) ones
 * move down to 0 and the older ones up against the end, so the free bytes
 * are one run after the newest.  Each memmove goes towards free space
 * only: no message is overwritten before it moved.
 */
static void store_compact(mqtt_session_t *s)
{
	uint16_t i = s->live_head, last_old = NIL;
	size_t head = slot(s, i)->off, at = 0, top = s->c.store_len;

	while (i != NIL && slot(s, i)->off >= head) {
		last_old = i;
		i = slot(s, i)->next;
	}
	if (i == NIL) /* no wrap: everything goes down */
		i = s->live_head;
	for (uint16_t k = i; k != NIL; k = slot(s, k)->next) {
		store_move(s, k, at);
		at += slot(s, k)->len;
	}
	s->st_tail = at;
	if (i == s->live_head)
		return;
	for (uint16_t k = last_old;; k = slot(s, k)->prev) {
		top -= slot(s, k)->len;
		store_move(s, k, top);
		if (k == s->live_head)
			break;
	}
}

/* n free contiguous store bytes after the newest message: true and their
 * offset in *off, or false. */
static bool store_room(const mqtt_session_t *s, size_t n, size_t *off)
{
	size_t head, tail = s->st_tail;

	*off = 0;
	if (s->live_head == NIL)
		return n <= s->c.store_len; /* empty: start over at 0 */
	head = slot(s, s->live_head)->off;
	if (tail > head) {
		/* live bytes [head, tail): the start first once it is free, so the
		 * ring keeps to about the live bytes plus one message and leaves
		 * the rest of the store untouched (not resident) */
		if (head >= n)
			return true;
		*off = tail;
		return s->c.store_len - tail >= n;
	}
	/* wrapped, live bytes [head, end) and [0, tail): room between (tail ==
	 * head is full: a live message starts at head) */
	*off = tail;
	return tail < head && head - tail >= n;
}

static void emit(mqtt_session_t *s, const mqtt_event_t *ev)
{
	if (s->c.on_event != NULL)
		s->c.on_event(s->c.user, ev);
}

/* The connection is over; the caller closes the transport. */
static void fail(mqtt_session_t *s, mqtt_status_t st)
{
	mqtt_event_t ev;

	memset(&ev, 0, sizeof ev);
	s->state = MQTT_ST_CLOSED;
	s->error = st;
	ev.type = st == MQTT_E_TIMEOUT ? MQTT_EV_TIMEOUT : MQTT_EV_ERROR;
	ev.status = st;
	emit(s, &ev);
}

/* ---- packet ids: never 0, never one an in-flight slot or open request holds */

/*
 * next_id cycles through 1..65535, so the id handed out as the seq-th can
 * come round again only 65535 allocations later: while the oldest live
 * message is younger than that, no live message can hold the candidate and
 * the table need not be searched.
 */
static bool id_used(const mqtt_session_t *s, uint16_t id, uint64_t seq)
{
	for (size_t k = 0; k < MQTT_MAX_PENDING_SUBS; k++)
		if (s->subs[k].id == id)
			return true;
	if (s->live_head == NIL || seq - slot(s, s->live_head)->seq < 65535)
		return false;
	return find_slot(s, id, 0) >= 0;
}

static uint16_t alloc_id(mqtt_session_t *s)
{
	for (uint32_t tries = 0; tries < 65535; tries++) {
		uint16_t id = s->next_id;
		uint64_t seq = s->next_seq++;
		s->next_id = (uint16_t)(id >= 65535 ? 1 : id + 1);
		if (id != 0 && !id_used(s, id, seq))
			return id;
	}
	return 0;
}

/* ---- tx queue: tx_buf[tx_off..tx_fill) is unsent; whole packets only */

static size_t tx_room(const mqtt_session_t *s)
{
	return s->c.tx_len - (s->tx_fill - s->tx_off);
}

/* n contiguous free bytes at the queue's end (compacting), or NULL.  The
 * caller writes them and commits with tx_fill += n. */
static uint8_t *tx_reserve(mqtt_session_t *s, size_t n)
{
	if (tx_room(s) < n)
		return NULL;
	if (s->c.tx_len - s->tx_fill < n) {
		memmove(s->c.tx_buf, s->c.tx_buf + s->tx_off, s->tx_fill - s->tx_off);
		s->tx_fill -= s->tx_off;
		s->tx_off = 0;
	}
	return s->c.tx_buf + s->tx_fill;
}

static bool tx_put(mqtt_session_t *s, const uint8_t *p, size_t n)
{
	uint8_t *w = tx_reserve(s, n);

	if (w == NULL)
		return false;
	memcpy(w, p, n);
	s->tx_fill += n;
	return true;
}

/* PUBACK, PUBREC, PUBREL or PUBCOMP; id != 0 */
static bool tx_ack(mqtt_session_t *s, int type, uint16_t id)
{
	uint8_t b[4];

	b[0] = (uint8_t)(type << 4 | (type == MQTT_PUBREL ? 2 : 0));
	b[1] = 2;
	b[2] = (uint8_t)(id >> 8);
	b[3] = (uint8_t)id;
	return tx_put(s, b, 4);
}

/*
 * Move what waits outside the tx queue into it: a due PINGREQ, then the
 * in-flight slots marked F_SEND, oldest publication first (MQTT-4.6.0-1),
 * as a PUBLISH (DUP=1 if it went out before, MQTT-3.3.1-1) or a PUBREL.
 * Stops at the first that does not fit, so the order holds.
 */
static void pump(mqtt_session_t *s)
{
	static const uint8_t pingreq[2] = { MQTT_PINGREQ << 4, 0 };

	if (s->state != MQTT_ST_CONNECTED)
		return;
	if (s->ping_queue && tx_put(s, pingreq, 2))
		s->ping_queue = false;
	while (s->n_send > 0) { /* then the cursor is a live slot */
		uint16_t i = s->cursor;
		mqtt_inflight_t *e = slot(s, i);
		if (e->flags & F_SEND) {
			if (e->state == SLOT_PUB) {
				uint8_t *d = slot_data(s, i);
				if (e->flags & F_SENT)
					d[0] |= 0x08;
				if (!tx_put(s, d, e->len))
					return;
			} else if (!tx_ack(s, MQTT_PUBREL, e->packet_id)) {
				return;
			}
			e->flags = F_SENT;
			s->n_send--;
		}
		s->cursor = e->next;
	}
}

/* ---- receiving */

/*
 * An inbound PUBLISH (or its OVERSIZED stand-in): queue the ack, then
 * deliver it unless it is a QoS 2 id still awaiting PUBREL (a duplicate).
 * The caller checked that 4 bytes of tx room are free.
 */
static void deliver(mqtt_session_t *s, const mqtt_event_t *ev)
{
	uint16_t id = ev->msg.packet_id;
	size_t i, free_at = SIZE_MAX;

	if (ev->msg.qos == 1) {
		tx_ack(s, MQTT_PUBACK, id);
	} else if (ev->msg.qos == 2) {
		for (i = 0; i < s->c.qos2_n; i++) {
			if (s->c.qos2_ids[i] == id) {
				tx_ack(s, MQTT_PUBREC, id);
				return;
			}
			if (s->c.qos2_ids[i] == 0 && free_at == SIZE_MAX)
				free_at = i;
		}
		if (free_at == SIZE_MAX) { /* exactly-once impossible: give up */
			fail(s, MQTT_E_QOS2_FULL);
			return;
		}
		s->c.qos2_ids[free_at] = id;
		tx_ack(s, MQTT_PUBREC, id);
	}
	emit(s, ev);
}

static void start_skip(mqtt_session_t *s, const mqtt_frame_t *f)
{
	s->rx_off += f->header_len; /* present: f->total != 0 */
	s->skip_len = f->remaining; /* > 0: total > rx_len >= MQTT_MIN_BUF */
	s->skip_pos = 0;
	s->skip_need = 2;
	s->skip_total = f->total;
	s->skip_tlen = 0;
	s->skip_id = 0;
	s->skip_qos = (f->flags >> 1) & 3;
}

/*
 * Discard the body of a PUBLISH larger than the rx buffer as its bytes
 * arrive, decoding only the topic length and packet id on the way (body
 * offsets 0-1 and 2+tlen..skip_need).  Returns true once it is done and
 * handled, false when it needs more bytes, tx room, or failed.
 */
static bool skip(mqtt_session_t *s)
{
	mqtt_event_t ev;

	while (s->skip_pos < s->skip_len) {
		size_t avail = s->rx_fill - s->rx_off, pos = s->skip_pos, n, end;
		if (avail == 0)
			return false;
		if (pos < 2 || (pos >= 2u + s->skip_tlen && pos < s->skip_need)) {
			uint8_t b = s->c.rx_buf[s->rx_off];
			n = 1;
			if (pos < 2)
				s->skip_tlen = (uint16_t)(s->skip_tlen << 8 | b);
			else
				s->skip_id = (uint16_t)(s->skip_id << 8 | b);
			if (pos == 1) {
				s->skip_need = 2u + s->skip_tlen + (s->skip_qos ? 2u : 0u);
				if (s->skip_tlen == 0 || s->skip_need > s->skip_len) {
					fail(s, s->skip_tlen ? MQTT_E_MALFORMED : MQTT_E_TOPIC);
					return false;
				}
			}
		} else { /* rest of the topic, or the payload */
			end = pos < 2u + s->skip_tlen ? 2u + s->skip_tlen : s->skip_len;
			n = end - pos < avail ? end - pos : avail;
		}
		/* the last byte completes the packet: take it only when the ack fits */
		if (pos + n == s->skip_len && s->skip_qos && tx_room(s) < 4) {
			if (n == 1)
				return false;
			n--;
		}
		s->rx_off += n;
		s->skip_pos += n;
	}
	s->skip_len = 0;
	if (s->skip_qos && s->skip_id == 0) {
		fail(s, MQTT_E_PACKET_ID);
		return false;
	}
	memset(&ev, 0, sizeof ev);
	ev.type = MQTT_EV_OVERSIZED;
	ev.msg.qos = s->skip_qos;
	ev.msg.packet_id = s->skip_id;
	ev.size = s->skip_total;
	deliver(s, &ev);
	return true;
}

/* One whole packet from the broker, f its frame. */
static void handle(mqtt_session_t *s, const uint8_t *p, const mqtt_frame_t *f)
{
	mqtt_packet_t pk;
	mqtt_event_t ev;
	mqtt_status_t st = mqtt_parse_framed(p, f->total, f, &pk);
	uint16_t id;
	int i;

	if (st != MQTT_OK) {
		fail(s, st);
		return;
	}
	id = pk.type == MQTT_SUBACK ? pk.u.suback.packet_id : pk.u.packet_id; /* acks */
	/* CONNACK first and only once (MQTT-3.2.0-1) */
	if ((s->state == MQTT_ST_CONNECTING) != (pk.type == MQTT_CONNACK)) {
		fail(s, MQTT_E_PROTOCOL);
		return;
	}
	memset(&ev, 0, sizeof ev);
	switch (pk.type) {
	case MQTT_CONNACK:
		ev.type = MQTT_EV_CONNACK;
		ev.return_code = pk.u.connack.return_code;
		ev.session_present = pk.u.connack.session_present;
		if (ev.return_code != 0) {
			s->state = MQTT_ST_CLOSED;
			s->error = MQTT_E_REFUSED;
			emit(s, &ev);
			return;
		}
		s->state = MQTT_ST_CONNECTED;
		/* a fresh broker session forgot its half of inbound QoS 2 */
		if (!ev.session_present && s->c.qos2_n > 0)
			memset(s->c.qos2_ids, 0, s->c.qos2_n * sizeof s->c.qos2_ids[0]);
		pump(s); /* resends before anything the callback adds */
		emit(s, &ev);
		return;
	case MQTT_PUBLISH:
		ev.type = MQTT_EV_MESSAGE;
		ev.msg = pk.u.publish;
		deliver(s, &ev);
		return;
	case MQTT_PUBACK:
	case MQTT_PUBCOMP:
		/* unknown ids or acks out of step are ignored */
		i = find_slot(s, id, pk.type == MQTT_PUBCOMP);
		if (i < 0)
			return;
		if (pk.type == MQTT_PUBACK ? slot(s, i)->state != SLOT_PUB ||
		    slot_qos(s, (size_t)i) != 1 : slot(s, i)->state != SLOT_REL)
			return;
		s->hint[pk.type == MQTT_PUBCOMP] = slot(s, i)->next;
		slot_free(s, (uint16_t)i);
		ev.type = MQTT_EV_PUBLISHED;
		ev.packet_id = id;
		emit(s, &ev);
		return;
	case MQTT_PUBREC:
		i = find_slot(s, id, 0);
		if (i < 0 || (slot(s, i)->state == SLOT_PUB && slot_qos(s, (size_t)i) != 2))
			return;
		s->hint[0] = slot(s, i)->next;
		slot(s, i)->state = SLOT_REL;
		mark_send(s, (uint16_t)i); /* a repeated PUBREC repeats PUBREL */
		pump(s);
		return;
	case MQTT_PUBREL:
		for (size_t k = 0; k < s->c.qos2_n; k++)
			if (s->c.qos2_ids[k] == id)
				s->c.qos2_ids[k] = 0;
		tx_ack(s, MQTT_PUBCOMP, id); /* known id or not (MQTT-4.3.3-2) */
		return;
	case MQTT_SUBACK:
	case MQTT_UNSUBACK:
		for (size_t k = 0; k < MQTT_MAX_PENDING_SUBS; k++) {
			if (s->subs[k].id != id || s->subs[k].unsub != (pk.type == MQTT_UNSUBACK))
				continue;
			if (pk.type == MQTT_SUBACK && pk.u.suback.count != s->subs[k].count) {
				fail(s, MQTT_E_PROTOCOL); /* one code per filter */
				return;
			}
			s->subs[k].id = 0;
			ev.type = MQTT_EV_UNSUBACK;
			ev.packet_id = id;
			if (pk.type == MQTT_SUBACK) {
				ev.type = MQTT_EV_SUBACK;
				ev.codes = pk.u.suback.codes;
				ev.count = pk.u.suback.count;
			}
			emit(s, &ev);
			return;
		}
		return; /* not ours: ignored */
	case MQTT_PINGRESP:
		return; /* liveness is any received byte, see mqtt_recv_ack */
	default: /* CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT */
		fail(s, MQTT_E_PROTOCOL);
		return;
	}
}

static bool active(const mqtt_session_t *s)
{
	return s->state == MQTT_ST_CONNECTING || s->state == MQTT_ST_CONNECTED;
}

/*
 * Handle every complete packet in rx_buf[rx_off..rx_fill).  A packet whose
 * answer (PUBACK, PUBREC, PUBCOMP) does not fit the tx queue waits there:
 * backpressure reaches the reader through a full rx buffer.
 */
static void process(mqtt_session_t *s)
{
	uint32_t gen = s->gen;

	if (s->busy)
		return;
	s->busy = true;
	while (active(s)) {
		const uint8_t *p = s->c.rx_buf + s->rx_off;
		mqtt_frame_t f;
		mqtt_status_t st;

		if (s->skip_len > 0) {
			if (!skip(s))
				break;
			if (s->gen != gen)
				break;
			continue;
		}
		st = mqtt_frame(p, s->rx_fill - s->rx_off, &f);
		if (st == MQTT_NEED_MORE) {
			if (f.total <= s->c.rx_len)
				break; /* the rest is on its way */
			if (f.type != MQTT_PUBLISH || s->state != MQTT_ST_CONNECTED) {
				/* a PUBLISH here came before CONNACK */
				fail(s, f.type == MQTT_PUBLISH ? MQTT_E_PROTOCOL : MQTT_E_TOO_LARGE);
				break;
			}
			start_skip(s, &f);
			continue;
		}
		if (st != MQTT_OK) {
			fail(s, st);
			break;
		}
		if (((f.type == MQTT_PUBLISH && (f.flags & 6)) || f.type == MQTT_PUBREL) &&
		    tx_room(s) < 4)
			break;
		handle(s, p, &f);
		if (s->gen != gen)
			break; /* the callback reset the connection */
		s->rx_off += f.total;
	}
	if (s->rx_off == s->rx_fill)
		s->rx_off = s->rx_fill = 0;
	s->busy = false;
}

/* ---- public API */

mqtt_status_t mqtt_init(mqtt_session_t *s, const mqtt_config_t *cfg)
{
	memset(s, 0, sizeof *s);
	if (cfg == NULL || cfg->rx_buf == NULL || cfg->rx_len < MQTT_MIN_BUF ||
	    cfg->tx_buf == NULL || cfg->tx_len < MQTT_MIN_BUF ||
	    (cfg->inflight_n > 0 && (cfg->inflight == NULL || cfg->inflight_n > NIL ||
	    cfg->store == NULL || cfg->store_len < 16 || cfg->store_len > UINT32_MAX)) ||
	    (cfg->qos2_n > 0 && cfg->qos2_ids == NULL))
		return MQTT_E_ARG;
	s->c = *cfg;
	s->live_head = s->live_tail = s->free_head = s->cursor = NIL;
	s->hint[0] = s->hint[1] = NIL;
	for (size_t i = cfg->inflight_n; i-- > 0;) { /* the free stack pops slot 0 first */
		memset(slot(s, i), 0, sizeof *slot(s, i));
		slot(s, i)->next = s->free_head;
		s->free_head = (uint16_t)i;
	}
	if (cfg->qos2_n > 0)
		memset(cfg->qos2_ids, 0, cfg->qos2_n * sizeof cfg->qos2_ids[0]);
	s->next_id = 1;
	s->state = MQTT_ST_IDLE;
	return MQTT_OK;
}

void mqtt_reset_connection(mqtt_session_t *s)
{
	s->gen++;
	s->state = MQTT_ST_IDLE;
	s->error = MQTT_OK;
	s->rx_off = s->rx_fill = s->tx_off = s->tx_fill = 0;
	s->skip_len = 0;
	s->ping_out = s->ping_queue = false;
	s->deadline = 0;
	memset(s->subs, 0, sizeof s->subs);
	for (uint16_t i = s->live_head; i != NIL; i = slot(s, i)->next)
		slot(s, i)->flags |= F_SEND;
	s->n_send = s->n_live;
	s->cursor = s->live_head;
}

mqtt_status_t mqtt_connect(mqtt_session_t *s, const mqtt_connect_t *c, uint64_t now_ms)
{
	mqtt_status_t st;
	size_t len;

	mqtt_reset_connection(s);
	s->now = now_ms;
	if (c == NULL)
		return MQTT_E_ARG;
	st = mqtt_ser_connect(s->c.tx_buf, s->c.tx_len, c, &len);
	if (st != MQTT_OK)
		return st == MQTT_E_NOSPACE ? MQTT_E_TOO_LARGE : st;
	s->tx_fill = len;
	s->keepalive = c->keepalive_s;
	s->timeout = s->c.timeout_ms;
	if (s->timeout == 0)
		s->timeout = c->keepalive_s == 0 ? 30000 :
			c->keepalive_s < 2 ? 1000 : (uint32_t)c->keepalive_s * 500;
	s->state = MQTT_ST_CONNECTING;
	s->deadline = now_ms + s->timeout;
	s->last_tx = now_ms;
	return MQTT_OK;
}

uint8_t *mqtt_recv_buf(mqtt_session_t *s, size_t *cap)
{
	if (!active(s))
		s->rx_off = s->rx_fill = 0; /* dead bytes: all space is free */
	if (s->rx_off > 0) {
		memmove(s->c.rx_buf, s->c.rx_buf + s->rx_off, s->rx_fill - s->rx_off);
		s->rx_fill -= s->rx_off;
		s->rx_off = 0;
	}
	*cap = s->c.rx_len - s->rx_fill;
	return s->c.rx_buf + s->rx_fill;
}

void mqtt_recv_ack(mqtt_session_t *s, size_t n)
{
	if (n > s->c.rx_len - s->rx_fill)
		n = s->c.rx_len - s->rx_fill;
	if (n == 0 || !active(s))
		return; /* outside a connection the bytes are dropped */
	s->rx_fill += n;
	s->ping_out = false; /* the broker is alive */
	process(s);
}

size_t mqtt_feed(mqtt_session_t *s, const uint8_t *data, size_t len)
{
	size_t done = 0, cap;
	uint8_t *w;

	while (done < len) {
		w = mqtt_recv_buf(s, &cap);
		if (cap == 0)
			break;
		if (cap > len - done)
			cap = len - done;
		memcpy(w, data + done, cap);
		mqtt_recv_ack(s, cap);
		done += cap;
	}
	return done;
}

const uint8_t *mqtt_send_buf(const mqtt_session_t *s, size_t *len)
{
	*len = s->tx_fill - s->tx_off;
	return s->c.tx_buf + s->tx_off;
}

void mqtt_send_ack(mqtt_session_t *s, size_t n)
{
	if (n > s->tx_fill - s->tx_off)
		n = s->tx_fill - s->tx_off;
	if (n == 0)
		return;
	s->tx_off += n;
	s->last_tx = s->now;
	if (s->tx_off == s->tx_fill) {
		s->tx_off = s->tx_fill = 0;
		if (s->state == MQTT_ST_CLOSING)
			s->state = MQTT_ST_CLOSED;
	}
	pump(s);
	if (s->rx_off < s->rx_fill)
		process(s); /* packets waiting for tx room */
}

void mqtt_tick(mqtt_session_t *s, uint64_t now_ms)
{
	s->now = now_ms;
	if (s->state == MQTT_ST_CONNECTING || s->state == MQTT_ST_CLOSING ||
	    (s->state == MQTT_ST_CONNECTED && s->ping_out)) {
		if (now_ms >= s->deadline)
			fail(s, MQTT_E_TIMEOUT);
	} else if (s->state == MQTT_ST_CONNECTED && s->keepalive > 0 &&
	    now_ms >= s->last_tx + s->keepalive * 1000ull) {
		/* keepalive seconds without sending: ping, and expect a byte back */
		s->ping_out = s->ping_queue = true;
		s->deadline = now_ms + s->timeout;
		pump(s);
	}
}

uint64_t mqtt_next_deadline(const mqtt_session_t *s)
{
	if (s->state == MQTT_ST_CONNECTING || s->state == MQTT_ST_CLOSING ||
	    (s->state == MQTT_ST_CONNECTED && s->ping_out))
		return s->deadline;
	if (s->state == MQTT_ST_CONNECTED && s->keepalive > 0)
		return s->last_tx + s->keepalive * 1000ull;
	return MQTT_NO_DEADLINE;
}

mqtt_status_t mqtt_publish(mqtt_session_t *s, const mqtt_publish_t *m, uint16_t *packet_id)
{
	mqtt_inflight_t *e;
	mqtt_publish_t p;
	mqtt_status_t st;
	size_t len, off;
	uint16_t i;
	uint8_t *w;
	bool room;

	if (m == NULL)
		return MQTT_E_ARG;
	p = *m;
	p.dup = false;
	p.packet_id = 1; /* a stand-in for the size query */
	st = mqtt_ser_publish(NULL, 0, &p, &len);
	if (st != MQTT_E_NOSPACE)
		return st; /* invalid (a size query never returns OK) */
	if (len > s->c.tx_len)
		return MQTT_E_TOO_LARGE;
	if (p.qos == 0) {
		if (s->state != MQTT_ST_CONNECTED)
			return MQTT_E_STATE;
		if ((w = tx_reserve(s, len)) == NULL)
			return MQTT_E_WOULDBLOCK;
		mqtt_ser_publish(w, len, &p, &len);
		s->tx_fill += len;
		return MQTT_OK;
	}
	if (len > s->c.store_len)
		return MQTT_E_TOO_LARGE;
	if (s->free_head == NIL)
		return MQTT_E_WINDOW_FULL;
	room = store_room(s, len, &off);
	if (!room && s->st_live + len <= s->c.store_len) {
		store_compact(s); /* holes enough: then the room is at the end */
		room = store_room(s, len, &off);
	}
	if (!room || (p.packet_id = alloc_id(s)) == 0)
		return MQTT_E_WINDOW_FULL;
	i = s->free_head;
	e = slot(s, i);
	s->free_head = e->next;
	mqtt_ser_publish(s->c.store + off, len, &p, &len);
	e->seq = s->next_seq - 1; /* alloc_id's */
	e->off = (uint32_t)off;
	e->len = (uint32_t)len;
	e->packet_id = p.packet_id;
	e->state = SLOT_PUB;
	e->flags = 0;
	e->prev = s->live_tail;
	e->next = NIL;
	if (s->live_tail != NIL)
		slot(s, s->live_tail)->next = i;
	else
		s->live_head = i;
	s->live_tail = i;
	s->n_live++;
	s->st_live += len;
	s->st_tail = off + len;
	if (packet_id != NULL)
		*packet_id = p.packet_id;
	/* nothing queued ahead of it: straight into the tx buffer if it fits */
	if (s->n_send == 0 && s->state == MQTT_ST_CONNECTED && !s->ping_queue &&
	    tx_put(s, s->c.store + off, len)) {
		e->flags = F_SENT;
		return MQTT_OK;
	}
	mark_send(s, i);
	pump(s);
	return MQTT_OK;
}

static mqtt_status_t ser(uint8_t *buf, size_t cap, uint16_t id, const mqtt_sub_t *subs,
	size_t n, size_t *len, bool unsub)
{
	return unsub ? mqtt_ser_unsubscribe(buf, cap, id, subs, n, len) :
		mqtt_ser_subscribe(buf, cap, id, subs, n, len);
}

static mqtt_status_t sub_request(mqtt_session_t *s, const mqtt_sub_t *subs, size_t n,
	uint16_t *packet_id, bool unsub)
{
	mqtt_status_t st;
	size_t len, k;
	uint16_t id;
	uint8_t *w;

	st = ser(NULL, 0, 1, subs, n, &len, unsub);
	if (st != MQTT_E_NOSPACE)
		return st;
	if (s->state != MQTT_ST_CONNECTED)
		return MQTT_E_STATE;
	if (len > s->c.tx_len)
		return MQTT_E_TOO_LARGE;
	for (k = 0; k < MQTT_MAX_PENDING_SUBS && s->subs[k].id != 0; k++)
		;
	if (k == MQTT_MAX_PENDING_SUBS || (w = tx_reserve(s, len)) == NULL ||
	    (id = alloc_id(s)) == 0)
		return MQTT_E_WOULDBLOCK;
	ser(w, len, id, subs, n, &len, unsub);
	s->tx_fill += len;
	s->subs[k].id = id;
	s->subs[k].unsub = unsub;
	s->subs[k].count = n;
	if (packet_id != NULL)
		*packet_id = id;
	return MQTT_OK;
}

mqtt_status_t mqtt_subscribe(mqtt_session_t *s, const mqtt_sub_t *subs, size_t n,
	uint16_t *packet_id)
{
	return sub_request(s, subs, n, packet_id, false);
}

mqtt_status_t mqtt_unsubscribe(mqtt_session_t *s, const mqtt_sub_t *subs, size_t n,
	uint16_t *packet_id)
{
	return sub_request(s, subs, n, packet_id, true);
}

mqtt_status_t mqtt_disconnect(mqtt_session_t *s)
{
	static const uint8_t disc[2] = { MQTT_DISCONNECT << 4, 0 };

	if (!active(s))
		return MQTT_E_STATE;
	if (!tx_put(s, disc, 2))
		return MQTT_E_WOULDBLOCK;
	s->state = MQTT_ST_CLOSING;
	s->ping_out = s->ping_queue = false;
	s->deadline = s->now + s->timeout;
	return MQTT_OK;
}

mqtt_state_t mqtt_state(const mqtt_session_t *s)
{
	return s->state;
}

mqtt_status_t mqtt_last_error(const mqtt_session_t *s)
{
	return s->error;
}

size_t mqtt_inflight_count(const mqtt_session_t *s)
{
	return s->n_live;
}
