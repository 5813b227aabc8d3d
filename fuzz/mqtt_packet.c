/*
 * mqtt_packet.c -- libFuzzer harness for the MQTT codec.
 *
 * The input is a byte stream as a broker (or client) would send it: frame
 * each packet, parse it from an exact-size copy (so ASan sees any read past
 * its end), walk every pointer the parse returns, and check that the
 * per-type parser agrees with mqtt_parse() and that re-serializing a parsed
 * packet gives back the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/mqtt_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned sink;

static void touch(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		sink += b[i];
}

static void check(int cond)
{
	if (!cond)
		abort();
}

/* Re-serialize pk into out; returns the status. */
static mqtt_status_t reserialize(const mqtt_packet_t *pk, uint8_t *out, size_t cap, size_t *len)
{
	mqtt_sub_t subs[64];
	mqtt_sub_t s;
	size_t n = 0, off = 0;

	switch (pk->type) {
	case MQTT_CONNECT: return mqtt_ser_connect(out, cap, &pk->u.connect, len);
	case MQTT_CONNACK:
		return mqtt_ser_connack(out, cap, pk->u.connack.session_present,
			pk->u.connack.return_code, len);
	case MQTT_PUBLISH: return mqtt_ser_publish(out, cap, &pk->u.publish, len);
	case MQTT_SUBSCRIBE:
	case MQTT_UNSUBSCRIBE:
		while (mqtt_sublist_next(&pk->u.sublist, &off, &s)) {
			touch(s.filter, s.len);
			if (n < 64)
				subs[n] = s;
			n++;
		}
		check(n == pk->u.sublist.count);
		if (n > 64)
			return MQTT_E_ARG; /* too many to rebuild here */
		return pk->type == MQTT_SUBSCRIBE ?
			mqtt_ser_subscribe(out, cap, pk->u.sublist.packet_id, subs, n, len) :
			mqtt_ser_unsubscribe(out, cap, pk->u.sublist.packet_id, subs, n, len);
	case MQTT_SUBACK:
		return mqtt_ser_suback(out, cap, pk->u.suback.packet_id, pk->u.suback.codes,
			pk->u.suback.count, len);
	case MQTT_PINGREQ:
	case MQTT_PINGRESP:
	case MQTT_DISCONNECT: return mqtt_ser_empty(out, cap, pk->type, len);
	default: return mqtt_ser_ack(out, cap, pk->type, pk->u.packet_id, len);
	}
}

static mqtt_status_t parse_typed(const uint8_t *p, size_t n, int type)
{
	mqtt_connect_t c;
	mqtt_connack_t a;
	mqtt_publish_t m;
	mqtt_sublist_t l;
	mqtt_suback_t sa;
	uint16_t id;

	switch (type) {
	case MQTT_CONNECT: return mqtt_parse_connect(p, n, &c);
	case MQTT_CONNACK: return mqtt_parse_connack(p, n, &a);
	case MQTT_PUBLISH: return mqtt_parse_publish(p, n, &m);
	case MQTT_SUBSCRIBE:
	case MQTT_UNSUBSCRIBE: return mqtt_parse_sublist(p, n, type, &l);
	case MQTT_SUBACK: return mqtt_parse_suback(p, n, &sa);
	case MQTT_PINGREQ:
	case MQTT_PINGRESP:
	case MQTT_DISCONNECT: return mqtt_parse_empty(p, n, type);
	default: return mqtt_parse_ack(p, n, type, &id);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	while (off < size) {
		mqtt_frame_t f;
		mqtt_packet_t pk;
		mqtt_status_t st = mqtt_frame(data + off, size - off, &f);
		uint8_t *p, *out;
		size_t len = 0;

		if (st != MQTT_OK) {
			check(st != MQTT_NEED_MORE || f.total == 0 || f.total > size - off);
			break;
		}
		check(f.total >= 2 && f.total <= size - off && f.header_len + f.remaining == f.total);
		p = malloc(f.total);
		check(p != NULL);
		memcpy(p, data + off, f.total);
		st = mqtt_parse(p, f.total, &pk);
		check(st == parse_typed(p, f.total, f.type));
		if (st == MQTT_OK) {
			check(pk.type == f.type);
			if (pk.type == MQTT_PUBLISH) {
				touch(pk.u.publish.topic, pk.u.publish.topic_len);
				touch(pk.u.publish.payload, pk.u.publish.payload_len);
			} else if (pk.type == MQTT_SUBACK) {
				touch(pk.u.suback.codes, pk.u.suback.count);
			} else if (pk.type == MQTT_CONNECT) {
				const mqtt_connect_t *c = &pk.u.connect;
				touch(c->client_id, c->client_id_len);
				if (c->username)
					touch(c->username, c->username_len);
				if (c->password)
					touch(c->password, c->password_len);
				if (c->will_topic) {
					touch(c->will_topic, c->will_topic_len);
					touch(c->will_payload, c->will_payload_len);
				}
			}
			/* round trip: same bytes, unless the input used a longer
			 * length encoding than needed (accepted, not produced) */
			out = malloc(f.total);
			check(out != NULL);
			st = reserialize(&pk, out, f.total, &len);
			if (st == MQTT_OK) {
				size_t hl = len - f.remaining; /* our (minimal) header */
				check(len <= f.total && hl <= f.header_len && out[0] == p[0]);
				check(memcmp(out + hl, p + f.header_len, f.remaining) == 0);
				/* a longer header has a zero last length byte */
				check(hl == f.header_len || p[f.header_len - 1] == 0);
			} else {
				/* a CONNECT with an empty client id and clean session
				 * off, or a list too long for this harness */
				check(st == MQTT_E_ARG);
			}
			free(out);
		}
		free(p);
		off += f.total;
	}
	return 0;
}
