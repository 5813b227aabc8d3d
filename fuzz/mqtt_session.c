/*
 * mqtt_session.c -- libFuzzer harness for the MQTT client session.
 *
 * A connected session is fed arbitrary broker bytes.  The input is a
 * program: two bytes choose the rx/tx buffer sizes, then each byte is an
 * operation whose low bits are its argument:
 *   0x00-0x7f  feed the next (c & 0x3f) + 1 input bytes as broker data
 *   0x80-0x9f  the transport takes (c & 0x1f) + 1 bytes (a partial send)
 *   0xa0-0xbf  the clock advances by (c & 0x1f) * 300 ms, then mqtt_tick
 *   0xc0-0xdf  publish QoS (c % 3), subscribe, unsubscribe or disconnect
 *   0xe0-0xff  the transport drops: reset and connect again; bit 0 is the
 *              CONNACK's session present, with bit 1 the CONNACK (or not)
 *              must come from the input's broker bytes
 * Whenever the session is CLOSED it must be reset-able: reconnect and a
 * CONNACK must bring it to CONNECTED.  Every byte the session sends is
 * framed and parsed: the client never emits a malformed packet.
 * Buffers are exact-size heap blocks so ASan sees any overrun.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/mqtt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NSLOTS 3
#define NQ2 3

static void check(int cond)
{
	if (!cond)
		abort();
}

static struct {
	mqtt_session_t s;
	uint64_t now;
	uint8_t wire[1024];   /* what the "broker" received, not yet parsed */
	size_t wire_len;
	unsigned events;
} h;

static volatile unsigned sink;

static void touch(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		sink += b[i];
}

static void on_event(void *user, const mqtt_event_t *ev)
{
	(void)user;
	h.events++;
	if (ev->type == MQTT_EV_MESSAGE) {
		touch(ev->msg.topic, ev->msg.topic_len);
		touch(ev->msg.payload, ev->msg.payload_len);
		check(mqtt_check_topic(ev->msg.topic, ev->msg.topic_len) == MQTT_OK);
		if (ev->msg.qos == 1 && (h.events & 3) == 0) { /* reply from the callback */
			mqtt_publish_t r = { .topic = "rsp", .topic_len = 3, .payload = ev->msg.payload,
				.payload_len = ev->msg.payload_len > 8 ? 8 : ev->msg.payload_len, .qos = 1 };
			mqtt_publish(&h.s, &r, NULL);
		}
	} else if (ev->type == MQTT_EV_SUBACK) {
		touch(ev->codes, ev->count);
	} else if (ev->type == MQTT_EV_ERROR || ev->type == MQTT_EV_TIMEOUT) {
		check(mqtt_state(&h.s) == MQTT_ST_CLOSED);
	}
}

/* Parse every whole packet the client has sent so far. */
static void broker_parse(void)
{
	size_t off = 0;
	for (;;) {
		mqtt_frame_t f;
		mqtt_packet_t pk;
		mqtt_status_t st = mqtt_frame(h.wire + off, h.wire_len - off, &f);
		if (st == MQTT_NEED_MORE) {
			/* packets never exceed the 255-byte tx buffer */
			check(f.total == 0 || f.total <= 255);
			break;
		}
		check(st == MQTT_OK);
		check(mqtt_parse(h.wire + off, f.total, &pk) == MQTT_OK);
		check(pk.type != MQTT_CONNACK && pk.type != MQTT_SUBACK);
		off += f.total;
	}
	memmove(h.wire, h.wire + off, h.wire_len - off);
	h.wire_len -= off;
}

static void transport_send(size_t max)
{
	size_t len;
	const uint8_t *p = mqtt_send_buf(&h.s, &len);
	if (len > max)
		len = max;
	if (len == 0)
		return;
	check(h.wire_len + len <= sizeof h.wire);
	memcpy(h.wire + h.wire_len, p, len);
	h.wire_len += len;
	mqtt_send_ack(&h.s, len);
	broker_parse();
}

/* reset, connect and, unless the input's bytes are to bring the CONNACK
 * (flags & 2), a CONNACK that must bring the session to CONNECTED */
static void reconnect(int flags)
{
	static const mqtt_connect_t c = { .client_id = "fz", .client_id_len = 2,
		.keepalive_s = 5 };
	uint8_t connack[4] = { 0x20, 0x02, 0, 0 };
	connack[2] = (uint8_t)(flags & 1);
	mqtt_reset_connection(&h.s);
	h.wire_len = 0; /* the old stream's half packet went with it */
	check(mqtt_state(&h.s) == MQTT_ST_IDLE);
	check(mqtt_connect(&h.s, &c, h.now) == MQTT_OK);
	transport_send(SIZE_MAX);
	check(mqtt_state(&h.s) == MQTT_ST_CONNECTING);
	if (flags & 2)
		return;
	check(mqtt_feed(&h.s, connack, 4) == 4);
	check(mqtt_state(&h.s) == MQTT_ST_CONNECTED);
}

static void user_op(uint8_t c)
{
	static const mqtt_sub_t subs[] = { { "req/#", 5, 1 }, { "a/+/b", 5, 2 } };
	static const uint8_t payload[40] = "0123456789abcdefghijklmnopqrstuvwxyz";
	mqtt_publish_t m = { .topic = "t/x", .topic_len = 3, .payload = payload,
		.payload_len = (c * 7u) % sizeof payload, .qos = c % 3 };
	uint16_t id = 0;
	mqtt_status_t st;

	switch ((c >> 3) & 3) {
	case 0:
	case 1:
		st = mqtt_publish(&h.s, &m, &id);
		check(st != MQTT_OK || m.qos == 0 || id != 0);
		break;
	case 2:
		st = (c & 1) ? mqtt_unsubscribe(&h.s, subs, 1 + (c & 2) / 2, &id) :
			mqtt_subscribe(&h.s, subs, 1 + (c & 2) / 2, &id);
		check(st != MQTT_OK || id != 0);
		break;
	default:
		if ((c & 7) == 0)
			mqtt_disconnect(&h.s);
		break;
	}
	check(mqtt_inflight_count(&h.s) <= NSLOTS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mqtt_config_t cfg;
	size_t i = 2, rx_len, tx_len;
	uint8_t *rx, *tx, *store;
	mqtt_inflight_t *slots;
	uint16_t *q2;

	if (size < 2)
		return 0;
	rx_len = MQTT_MIN_BUF + data[0];   /* 16..271 */
	tx_len = 64 + (data[1] & 0xbf);    /* 64..255: CONNECT and SUBSCRIBE fit */
	rx = malloc(rx_len);
	tx = malloc(tx_len);
	store = malloc(NSLOTS * 48);
	slots = malloc(NSLOTS * sizeof *slots);
	q2 = malloc(NQ2 * sizeof *q2);
	check(rx && tx && store && slots && q2);
	memset(&h, 0, sizeof h);
	cfg = (mqtt_config_t){ .rx_buf = rx, .rx_len = rx_len, .tx_buf = tx, .tx_len = tx_len,
		.inflight = slots, .inflight_n = NSLOTS, .store = store, .store_len = NSLOTS * 48,
		.qos2_ids = q2, .qos2_n = NQ2, .on_event = on_event };
	check(mqtt_init(&h.s, &cfg) == MQTT_OK);
	h.now = 1000;
	mqtt_tick(&h.s, h.now);
	reconnect(0);

	while (i < size) {
		uint8_t c = data[i++];
		if (c < 0x80) {
			size_t n = (size_t)(c & 0x3f) + 1;
			if (n > size - i)
				n = size - i;
			size_t took = 0, pending;
			for (;;) {
				took += mqtt_feed(&h.s, data + i + took, n - took);
				if (took == n)
					break;
				/* the session stops reading only behind unsent bytes */
				mqtt_send_buf(&h.s, &pending);
				check(pending > 0);
				transport_send(SIZE_MAX);
			}
			i += n;
		} else if (c < 0xa0) {
			transport_send((size_t)(c & 0x1f) + 1);
		} else if (c < 0xc0) {
			h.now += (uint64_t)(c & 0x1f) * 300;
			mqtt_tick(&h.s, h.now);
			/* after a tick nothing is left due */
			check(mqtt_state(&h.s) == MQTT_ST_CLOSED || mqtt_next_deadline(&h.s) > h.now);
		} else if (c < 0xe0) {
			user_op(c);
		} else {
			reconnect(c & 3);
		}
		if (mqtt_state(&h.s) == MQTT_ST_CLOSED)
			reconnect(data[i - 1] & 1); /* reset-able after any end */
	}
	/* drain: everything queued is whole packets */
	transport_send(SIZE_MAX);
	check(h.wire_len == 0 || mqtt_state(&h.s) != MQTT_ST_CONNECTED);
	free(rx);
	free(tx);
	free(store);
	free(slots);
	free(q2);
	return 0;
}
