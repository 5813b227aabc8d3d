/* mqtt_codec_test.c -- byte-exact MQTT 3.1.1 encodings (hand-computed from
 * the spec's figures), round trips, and every malformation rejected. */
#include "unit.h"
#include "proto/mqtt_codec.h"

#define S(str) (str), (sizeof(str) - 1)
#define N(a) (sizeof(a) / sizeof((a)[0]))

static uint8_t buf[1024];

/* ---- encodings */

static void mqtt_codec_connect_minimal(void)
{
	static const uint8_t want[] = { 0x10, 0x11, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04,
		0x02, 0x00, 0x3c, 0x00, 0x05, 'd', 'm', 'q', 't', 't' };
	mqtt_connect_t c = { .client_id = "dmqtt", .client_id_len = 5,
		.clean_session = true, .keepalive_s = 60 };
	size_t len = 0;
	CHECK_INT(mqtt_ser_connect(buf, sizeof buf, &c, &len), MQTT_OK);
	CHECK_MEM(buf, len, want, sizeof want);
}

static void mqtt_codec_connect_full(void)
{
	/* flags: user 0x80 | password 0x40 | will retain 0x20 | will QoS 1 0x08 | will 0x04 */
	static const uint8_t want[] = { 0x10, 0x1a, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04,
		0xec, 0x00, 0x0a, 0x00, 0x02, 'c', '1', 0x00, 0x01, 'w', 0x00, 0x01, 'x',
		0x00, 0x01, 'u', 0x00, 0x01, 'p' };
	mqtt_connect_t c = { .client_id = "c1", .client_id_len = 2,
		.username = "u", .username_len = 1,
		.password = (const uint8_t *)"p", .password_len = 1,
		.will_topic = "w", .will_topic_len = 1,
		.will_payload = (const uint8_t *)"x", .will_payload_len = 1,
		.will_qos = 1, .will_retain = true, .keepalive_s = 10 };
	mqtt_connect_t back;
	size_t len = 0;
	CHECK_INT(mqtt_ser_connect(buf, sizeof buf, &c, &len), MQTT_OK);
	CHECK_MEM(buf, len, want, sizeof want);
	CHECK_INT(mqtt_parse_connect(buf, len, &back), MQTT_OK);
	CHECK_MEM(back.client_id, back.client_id_len, "c1", 2);
	CHECK_MEM(back.username, back.username_len, "u", 1);
	CHECK_MEM(back.password, back.password_len, "p", 1);
	CHECK_MEM(back.will_topic, back.will_topic_len, "w", 1);
	CHECK_MEM(back.will_payload, back.will_payload_len, "x", 1);
	CHECK_INT(back.will_qos, 1);
	CHECK(back.will_retain);
	CHECK(!back.clean_session);
	CHECK_INT(back.keepalive_s, 10);
}

static void mqtt_codec_connack(void)
{
	static const uint8_t want[] = { 0x20, 0x02, 0x01, 0x00 };
	static const uint8_t refused[] = { 0x20, 0x02, 0x00, 0x05 };
	mqtt_connack_t a;
	size_t len = 0;
	CHECK_INT(mqtt_ser_connack(buf, sizeof buf, true, 0, &len), MQTT_OK);
	CHECK_MEM(buf, len, want, sizeof want);
	CHECK_INT(mqtt_parse_connack(want, sizeof want, &a), MQTT_OK);
	CHECK(a.session_present);
	CHECK_INT(a.return_code, 0);
	CHECK_INT(mqtt_parse_connack(refused, sizeof refused, &a), MQTT_OK);
	CHECK(!a.session_present);
	CHECK_INT(a.return_code, MQTT_CONNACK_NOT_AUTHORIZED);
	CHECK_INT(mqtt_ser_connack(buf, sizeof buf, true, 5, &len), MQTT_E_ARG);
	CHECK_INT(mqtt_ser_connack(buf, sizeof buf, false, 6, &len), MQTT_E_RETURN_CODE);
}

static void mqtt_codec_publish(void)
{
	static const uint8_t q0[] = { 0x30, 0x07, 0x00, 0x03, 'a', '/', 'b', 'h', 'i' };
	static const uint8_t q1[] = { 0x3b, 0x06, 0x00, 0x01, 'a', 0x00, 0x0a, 'x' };
	static const uint8_t q2[] = { 0x34, 0x05, 0x00, 0x01, 't', 0x12, 0x34 };
	mqtt_publish_t p = { .topic = "a/b", .topic_len = 3,
		.payload = (const uint8_t *)"hi", .payload_len = 2 };
	mqtt_publish_t back;
	size_t len = 0;

	CHECK_INT(mqtt_ser_publish(buf, sizeof buf, &p, &len), MQTT_OK);
	CHECK_MEM(buf, len, q0, sizeof q0);
	CHECK_INT(mqtt_parse_publish(q0, sizeof q0, &back), MQTT_OK);
	CHECK_MEM(back.topic, back.topic_len, "a/b", 3);
	CHECK_MEM(back.payload, back.payload_len, "hi", 2);
	CHECK(back.payload == q0 + 7); /* zero-copy */
	CHECK_INT(back.qos, 0);
	CHECK_INT(back.packet_id, 0);

	p = (mqtt_publish_t){ .topic = "a", .topic_len = 1, .payload = (const uint8_t *)"x",
		.payload_len = 1, .qos = 1, .retain = true, .dup = true, .packet_id = 10 };
	CHECK_INT(mqtt_ser_publish(buf, sizeof buf, &p, &len), MQTT_OK);
	CHECK_MEM(buf, len, q1, sizeof q1);
	CHECK_INT(mqtt_parse_publish(q1, sizeof q1, &back), MQTT_OK);
	CHECK(back.dup && back.retain);
	CHECK_INT(back.qos, 1);
	CHECK_INT(back.packet_id, 10);
	CHECK_MEM(back.payload, back.payload_len, "x", 1);

	p = (mqtt_publish_t){ .topic = "t", .topic_len = 1, .qos = 2, .packet_id = 0x1234 };
	CHECK_INT(mqtt_ser_publish(buf, sizeof buf, &p, &len), MQTT_OK);
	CHECK_MEM(buf, len, q2, sizeof q2);
	CHECK_INT(mqtt_parse_publish(q2, sizeof q2, &back), MQTT_OK);
	CHECK_INT(back.qos, 2);
	CHECK_INT(back.packet_id, 0x1234);
	CHECK_INT(back.payload_len, 0);
}

static void mqtt_codec_acks(void)
{
	static const struct { int type; uint8_t b0; } t[] = {
		{ MQTT_PUBACK, 0x40 }, { MQTT_PUBREC, 0x50 }, { MQTT_PUBREL, 0x62 },
		{ MQTT_PUBCOMP, 0x70 }, { MQTT_UNSUBACK, 0xb0 } };
	for (size_t i = 0; i < N(t); i++) {
		uint8_t want[4] = { t[i].b0, 0x02, 0xbe, 0xef };
		uint16_t id = 0;
		size_t len = 0;
		mqtt_packet_t pk;
		CHECK_INT(mqtt_ser_ack(buf, sizeof buf, t[i].type, 0xbeef, &len), MQTT_OK);
		CHECK_MEM(buf, len, want, 4);
		CHECK_INT(mqtt_parse_ack(want, 4, t[i].type, &id), MQTT_OK);
		CHECK_INT(id, 0xbeef);
		CHECK_INT(mqtt_parse(want, 4, &pk), MQTT_OK);
		CHECK_INT(pk.type, t[i].type);
		CHECK_INT(pk.u.packet_id, 0xbeef);
		CHECK_INT(mqtt_ser_ack(buf, sizeof buf, t[i].type, 0, &len), MQTT_E_PACKET_ID);
	}
	CHECK_INT(mqtt_ser_ack(buf, sizeof buf, MQTT_SUBACK, 1, &(size_t){ 0 }), MQTT_E_ARG);
}

static void mqtt_codec_subscribe(void)
{
	static const uint8_t sub[] = { 0x82, 0x0c, 0x00, 0x02, 0x00, 0x03, 'a', '/', '+', 0x01,
		0x00, 0x01, '#', 0x02 };
	static const uint8_t unsub[] = { 0xa2, 0x07, 0x00, 0x03, 0x00, 0x03, 'a', '/', '+' };
	static const uint8_t suback[] = { 0x90, 0x04, 0x00, 0x02, 0x01, 0x80 };
	const mqtt_sub_t subs[] = { { "a/+", 3, 1 }, { "#", 1, 2 } };
	const uint8_t codes[] = { 1, 0x80 };
	mqtt_sublist_t l;
	mqtt_suback_t a;
	mqtt_sub_t f;
	size_t len = 0, off = 0;

	CHECK_INT(mqtt_ser_subscribe(buf, sizeof buf, 2, subs, 2, &len), MQTT_OK);
	CHECK_MEM(buf, len, sub, sizeof sub);
	CHECK_INT(mqtt_parse_sublist(sub, sizeof sub, MQTT_SUBSCRIBE, &l), MQTT_OK);
	CHECK_INT(l.packet_id, 2);
	CHECK_INT(l.count, 2);
	CHECK(mqtt_sublist_next(&l, &off, &f));
	CHECK_MEM(f.filter, f.len, "a/+", 3);
	CHECK_INT(f.qos, 1);
	CHECK(mqtt_sublist_next(&l, &off, &f));
	CHECK_MEM(f.filter, f.len, "#", 1);
	CHECK_INT(f.qos, 2);
	CHECK(!mqtt_sublist_next(&l, &off, &f));

	CHECK_INT(mqtt_ser_unsubscribe(buf, sizeof buf, 3, subs, 1, &len), MQTT_OK);
	CHECK_MEM(buf, len, unsub, sizeof unsub);
	CHECK_INT(mqtt_parse_sublist(unsub, sizeof unsub, MQTT_UNSUBSCRIBE, &l), MQTT_OK);
	CHECK_INT(l.packet_id, 3);
	CHECK_INT(l.count, 1);
	off = 0;
	CHECK(mqtt_sublist_next(&l, &off, &f));
	CHECK_MEM(f.filter, f.len, "a/+", 3);
	CHECK(!mqtt_sublist_next(&l, &off, &f));

	CHECK_INT(mqtt_ser_suback(buf, sizeof buf, 2, codes, 2, &len), MQTT_OK);
	CHECK_MEM(buf, len, suback, sizeof suback);
	CHECK_INT(mqtt_parse_suback(suback, sizeof suback, &a), MQTT_OK);
	CHECK_INT(a.packet_id, 2);
	CHECK_MEM(a.codes, a.count, codes, 2);
}

static void mqtt_codec_empty(void)
{
	static const struct { int type; uint8_t b0; } t[] = {
		{ MQTT_PINGREQ, 0xc0 }, { MQTT_PINGRESP, 0xd0 }, { MQTT_DISCONNECT, 0xe0 } };
	for (size_t i = 0; i < N(t); i++) {
		uint8_t want[2] = { t[i].b0, 0 };
		size_t len = 0;
		CHECK_INT(mqtt_ser_empty(buf, sizeof buf, t[i].type, &len), MQTT_OK);
		CHECK_MEM(buf, len, want, 2);
		CHECK_INT(mqtt_parse_empty(want, 2, t[i].type), MQTT_OK);
	}
	CHECK_INT(mqtt_ser_empty(buf, sizeof buf, MQTT_PUBACK, &(size_t){ 0 }), MQTT_E_ARG);
}

/* Remaining length: 1..4 byte varint at each boundary (spec table 2.4). */
static void mqtt_codec_remaining_length(void)
{
	static const struct { size_t rem; uint8_t hdr[5]; size_t hlen; } t[] = {
		{ 0, { 0xc0, 0x00 }, 2 },
		{ 127, { 0x30, 0x7f }, 2 },
		{ 128, { 0x30, 0x80, 0x01 }, 3 },
		{ 16383, { 0x30, 0xff, 0x7f }, 3 },
		{ 16384, { 0x30, 0x80, 0x80, 0x01 }, 4 },
		{ 2097151, { 0x30, 0xff, 0xff, 0x7f }, 4 },
		{ 2097152, { 0x30, 0x80, 0x80, 0x80, 0x01 }, 5 },
		{ 268435455, { 0x30, 0xff, 0xff, 0xff, 0x7f }, 5 },
	};
	for (size_t i = 0; i < N(t); i++) {
		mqtt_frame_t f;
		mqtt_publish_t p = { .topic = "t", .topic_len = 1,
			.payload = buf, .payload_len = t[i].rem - 3 };
		size_t len = 0;
		/* the header alone: complete header, packet still incomplete */
		CHECK_INT(mqtt_frame(t[i].hdr, t[i].hlen, &f),
			t[i].rem == 0 ? MQTT_OK : MQTT_NEED_MORE);
		CHECK_INT(f.header_len, t[i].hlen);
		CHECK_INT(f.remaining, t[i].rem);
		CHECK_INT(f.total, t[i].hlen + t[i].rem);
		/* every shorter prefix of the header: no total known yet */
		for (size_t k = 0; k < t[i].hlen; k++) {
			CHECK_INT(mqtt_frame(t[i].hdr, k, &f), MQTT_NEED_MORE);
			CHECK_INT(f.total, 0);
		}
		if (t[i].rem < 3)
			continue;
		/* the serializer's size query agrees, and writes the same header */
		CHECK_INT(mqtt_ser_publish(NULL, 0, &p, &len), MQTT_E_NOSPACE);
		CHECK_INT(len, t[i].hlen + t[i].rem);
		if (len <= sizeof buf) {
			static uint8_t big[1024];
			CHECK_INT(mqtt_ser_publish(big, sizeof big, &p, &len), MQTT_OK);
			CHECK_MEM(big, t[i].hlen, t[i].hdr, t[i].hlen);
		}
	}
}

static void mqtt_codec_size_query(void)
{
	mqtt_connect_t c = { .client_id = "dmqtt", .client_id_len = 5, .clean_session = true };
	mqtt_sub_t sub = { "a/+", 3, 1 };
	size_t len = 0;
	CHECK_INT(mqtt_ser_connect(NULL, 0, &c, &len), MQTT_E_NOSPACE);
	CHECK_INT(len, 19);
	CHECK_INT(mqtt_ser_connect(buf, 18, &c, &len), MQTT_E_NOSPACE);
	CHECK_INT(len, 19);
	CHECK_INT(mqtt_ser_connect(buf, 19, &c, &len), MQTT_OK);
	CHECK_INT(mqtt_ser_subscribe(buf, 9, 1, &sub, 1, &len), MQTT_E_NOSPACE);
	CHECK_INT(len, 10);
	CHECK_INT(mqtt_ser_ack(buf, 3, MQTT_PUBACK, 1, &len), MQTT_E_NOSPACE);
	CHECK_INT(len, 4);
	CHECK_INT(mqtt_ser_empty(buf, 1, MQTT_PINGREQ, &len), MQTT_E_NOSPACE);
	CHECK_INT(len, 2);
	/* over the protocol maximum */
	mqtt_publish_t p = { .topic = "t", .topic_len = 1, .payload = buf,
		.payload_len = MQTT_MAX_REMAINING - 2 };
	CHECK_INT(mqtt_ser_publish(NULL, 0, &p, &len), MQTT_E_TOO_LARGE);
	p.payload_len = MQTT_MAX_REMAINING - 3;
	CHECK_INT(mqtt_ser_publish(NULL, 0, &p, &len), MQTT_E_NOSPACE);
	CHECK_INT(len, 5 + (size_t)MQTT_MAX_REMAINING);
}

static void mqtt_codec_ser_rejects(void)
{
	static char longstr[65536];
	mqtt_connect_t c = { .client_id = "", .client_id_len = 0 };
	mqtt_publish_t p = { .topic = "a/+", .topic_len = 3 };
	mqtt_sub_t bad = { "a/#/b", 5, 0 };
	size_t len;

	memset(longstr, 'a', sizeof longstr);
	CHECK_INT(mqtt_ser_connect(buf, sizeof buf, &c, &len), MQTT_E_ARG); /* MQTT-3.1.3-7 */
	c.clean_session = true;
	CHECK_INT(mqtt_ser_connect(buf, sizeof buf, &c, &len), MQTT_OK);
	c.password = (const uint8_t *)"p";
	c.password_len = 1;
	CHECK_INT(mqtt_ser_connect(buf, sizeof buf, &c, &len), MQTT_E_ARG);
	c.password = NULL;
	c.will_topic = "w/#";
	c.will_topic_len = 3;
	CHECK_INT(mqtt_ser_connect(buf, sizeof buf, &c, &len), MQTT_E_TOPIC);
	c.will_topic = "w";
	c.will_topic_len = 1;
	c.will_qos = 3;
	CHECK_INT(mqtt_ser_connect(buf, sizeof buf, &c, &len), MQTT_E_QOS);
	c.will_qos = 0;
	c.client_id = longstr;
	c.client_id_len = 65536;
	CHECK_INT(mqtt_ser_connect(NULL, 0, &c, &len), MQTT_E_TOO_LARGE);
	c.client_id_len = 65535;
	CHECK_INT(mqtt_ser_connect(NULL, 0, &c, &len), MQTT_E_NOSPACE);
	c.client_id = "\xc0\xaf";
	c.client_id_len = 2;
	CHECK_INT(mqtt_ser_connect(buf, sizeof buf, &c, &len), MQTT_E_UTF8);

	CHECK_INT(mqtt_ser_publish(buf, sizeof buf, &p, &len), MQTT_E_TOPIC);
	p.topic = "a";
	p.topic_len = 1;
	p.qos = 3;
	CHECK_INT(mqtt_ser_publish(buf, sizeof buf, &p, &len), MQTT_E_QOS);
	p.qos = 1;
	CHECK_INT(mqtt_ser_publish(buf, sizeof buf, &p, &len), MQTT_E_PACKET_ID);
	p.qos = 0;
	p.dup = true;
	CHECK_INT(mqtt_ser_publish(buf, sizeof buf, &p, &len), MQTT_E_FLAGS);
	p.dup = false;
	p.topic_len = 0;
	CHECK_INT(mqtt_ser_publish(buf, sizeof buf, &p, &len), MQTT_E_TOPIC);
	p.topic = longstr;
	p.topic_len = 65536;
	CHECK_INT(mqtt_ser_publish(buf, sizeof buf, &p, &len), MQTT_E_TOO_LARGE);

	CHECK_INT(mqtt_ser_subscribe(buf, sizeof buf, 1, &bad, 1, &len), MQTT_E_TOPIC);
	CHECK_INT(mqtt_ser_subscribe(buf, sizeof buf, 1, &bad, 0, &len), MQTT_E_ARG);
	bad.filter = "a";
	bad.len = 1;
	CHECK_INT(mqtt_ser_subscribe(buf, sizeof buf, 0, &bad, 1, &len), MQTT_E_PACKET_ID);
	bad.qos = 3;
	CHECK_INT(mqtt_ser_subscribe(buf, sizeof buf, 1, &bad, 1, &len), MQTT_E_QOS);
	CHECK_INT(mqtt_ser_unsubscribe(buf, sizeof buf, 1, &bad, 1, &len), MQTT_OK);
	CHECK_INT(mqtt_ser_suback(buf, sizeof buf, 1, (const uint8_t *)"\x03", 1, &len),
		MQTT_E_RETURN_CODE);
}

static void mqtt_codec_filters(void)
{
	static const char *const good[] = { "#", "+", "+/+", "a/#", "/+/", "sport/tennis/+",
		"+/tennis/#", "/", "a//b", "$SYS/#", "\xc3\xa9/+" };
	static const char *const bad[] = { "a#", "a/#/b", "a+", "+a", "a/b+", "##", "#/",
		"a/+b/c", "++" };
	for (size_t i = 0; i < N(good); i++)
		CHECK_INT(mqtt_check_filter(good[i], strlen(good[i])), MQTT_OK);
	for (size_t i = 0; i < N(bad); i++)
		CHECK_INT(mqtt_check_filter(bad[i], strlen(bad[i])), MQTT_E_TOPIC);
	CHECK_INT(mqtt_check_filter("", 0), MQTT_E_TOPIC);
	CHECK_INT(mqtt_check_filter("a\0b", 3), MQTT_E_UTF8);
	CHECK_INT(mqtt_check_topic(S("req/all")), MQTT_OK);
	CHECK_INT(mqtt_check_topic(S("/")), MQTT_OK);
	CHECK_INT(mqtt_check_topic(S("a/+")), MQTT_E_TOPIC);
	CHECK_INT(mqtt_check_topic(S("#")), MQTT_E_TOPIC);
	CHECK_INT(mqtt_check_topic(S("a\xed\xa0\x80")), MQTT_E_UTF8);
	CHECK_INT(mqtt_check_topic(NULL, 0), MQTT_E_ARG);
	/* one pass: a wildcard anywhere wins over bad UTF-8 or U+0000 before
	 * or after it, as when wildcards were looked for first */
	CHECK_INT(mqtt_check_topic(S("\xc3\xa9/caf\xc3\xa9")), MQTT_OK);
	CHECK_INT(mqtt_check_topic(S("\xf0\x9f\x98\x80")), MQTT_OK);
	CHECK_INT(mqtt_check_topic(S("a\xff+")), MQTT_E_TOPIC);
	CHECK_INT(mqtt_check_topic(S("\xe2+\x82\xac")), MQTT_E_TOPIC);
	CHECK_INT(mqtt_check_topic("a\0b#", 4), MQTT_E_TOPIC);
	CHECK_INT(mqtt_check_topic("a\0b", 3), MQTT_E_UTF8);
	CHECK_INT(mqtt_check_topic(S("a\xc3")), MQTT_E_UTF8);
	CHECK_INT(mqtt_check_topic(S("a\xc0\xaf")), MQTT_E_UTF8);
}

/* mqtt_parse_framed() gives what mqtt_parse() gives, for the frame the
 * caller has; a frame that does not match the length is malformed. */
static void mqtt_codec_parse_framed(void)
{
	static const uint8_t pub[] = { 0x3b, 0x08, 0x00, 0x01, 't', 0x12, 0x34, 'a', 'b', 'c' };
	static const uint8_t ack[] = { 0x40, 0x02, 0x00, 0x07 };
	mqtt_packet_t a, b;
	mqtt_frame_t f;
	CHECK_INT(mqtt_frame(pub, sizeof pub, &f), MQTT_OK);
	CHECK_INT(mqtt_parse_framed(pub, sizeof pub, &f, &a), MQTT_OK);
	CHECK_INT(mqtt_parse(pub, sizeof pub, &b), MQTT_OK);
	CHECK_INT(a.type, MQTT_PUBLISH);
	CHECK(a.u.publish.dup && a.u.publish.retain && a.u.publish.qos == 1);
	CHECK_INT(a.u.publish.packet_id, 0x1234);
	CHECK_MEM(a.u.publish.payload, a.u.publish.payload_len, "abc", 3);
	CHECK_INT(b.u.publish.packet_id, a.u.publish.packet_id);
	CHECK_INT(mqtt_parse_framed(pub, sizeof pub - 1, &f, &a), MQTT_E_MALFORMED);
	CHECK_INT(mqtt_frame(ack, sizeof ack, &f), MQTT_OK);
	CHECK_INT(mqtt_parse_framed(ack, sizeof ack, &f, &a), MQTT_OK);
	CHECK_INT(a.type, MQTT_PUBACK);
	CHECK_INT(a.u.packet_id, 7);
}

/* ---- malformations: each packet below is rejected with the given status */

#define BAD(st, ...) { st, sizeof((const uint8_t[]){ __VA_ARGS__ }), (const uint8_t[]){ __VA_ARGS__ } }

static const struct bad {
	mqtt_status_t st;
	size_t len;
	const uint8_t *p;
} bads[] = {
	/* framing: reserved types, 5th length byte */
	BAD(MQTT_E_TYPE, 0x00, 0x00),
	BAD(MQTT_E_TYPE, 0xf0, 0x00),
	BAD(MQTT_E_MALFORMED, 0x30, 0xff, 0xff, 0xff, 0xff, 0x01),
	/* reserved flags: PUBREL/SUBSCRIBE/UNSUBSCRIBE need 0010, others 0000 */
	BAD(MQTT_E_FLAGS, 0x60, 0x02, 0x00, 0x01),
	BAD(MQTT_E_FLAGS, 0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x00),
	BAD(MQTT_E_FLAGS, 0xa0, 0x05, 0x00, 0x01, 0x00, 0x01, 'a'),
	BAD(MQTT_E_FLAGS, 0x21, 0x02, 0x00, 0x00),
	BAD(MQTT_E_FLAGS, 0x42, 0x02, 0x00, 0x01),
	BAD(MQTT_E_FLAGS, 0x58, 0x02, 0x00, 0x01),
	BAD(MQTT_E_FLAGS, 0x71, 0x02, 0x00, 0x01),
	BAD(MQTT_E_FLAGS, 0x92, 0x03, 0x00, 0x01, 0x00),
	BAD(MQTT_E_FLAGS, 0xb2, 0x02, 0x00, 0x01),
	BAD(MQTT_E_FLAGS, 0xc1, 0x00),
	BAD(MQTT_E_FLAGS, 0xd2, 0x00),
	BAD(MQTT_E_FLAGS, 0xe4, 0x00),
	BAD(MQTT_E_FLAGS, 0x18, 0x00),
	/* PUBLISH */
	BAD(MQTT_E_QOS, 0x36, 0x05, 0x00, 0x01, 'a', 0x00, 0x01),
	BAD(MQTT_E_FLAGS, 0x38, 0x03, 0x00, 0x01, 'a'),           /* DUP at QoS 0 */
	BAD(MQTT_E_MALFORMED, 0x30, 0x03, 0x00, 0x05, 'a'),       /* topic over the end */
	BAD(MQTT_E_MALFORMED, 0x30, 0x01, 0x00),                  /* no topic length */
	BAD(MQTT_E_MALFORMED, 0x32, 0x04, 0x00, 0x01, 'a', 0x00), /* half a packet id */
	BAD(MQTT_E_PACKET_ID, 0x32, 0x05, 0x00, 0x01, 'a', 0x00, 0x00),
	BAD(MQTT_E_PACKET_ID, 0x34, 0x05, 0x00, 0x01, 'a', 0x00, 0x00),
	BAD(MQTT_E_UTF8, 0x30, 0x04, 0x00, 0x02, 0xc0, 0xaf),       /* overlong */
	BAD(MQTT_E_UTF8, 0x30, 0x05, 0x00, 0x03, 0xed, 0xa0, 0x80), /* surrogate */
	BAD(MQTT_E_UTF8, 0x30, 0x04, 0x00, 0x02, 'a', 0x00),        /* U+0000 */
	BAD(MQTT_E_TOPIC, 0x30, 0x05, 0x00, 0x03, 'a', '/', '+'),
	BAD(MQTT_E_TOPIC, 0x30, 0x03, 0x00, 0x01, '#'),
	BAD(MQTT_E_TOPIC, 0x30, 0x02, 0x00, 0x00),
	/* acks */
	BAD(MQTT_E_PACKET_ID, 0x40, 0x02, 0x00, 0x00),
	BAD(MQTT_E_PACKET_ID, 0x62, 0x02, 0x00, 0x00),
	BAD(MQTT_E_PACKET_ID, 0xb0, 0x02, 0x00, 0x00),
	BAD(MQTT_E_MALFORMED, 0x40, 0x03, 0x00, 0x01, 0x00),
	BAD(MQTT_E_MALFORMED, 0x50, 0x01, 0x01),
	BAD(MQTT_E_MALFORMED, 0x70, 0x00),
	/* CONNACK */
	BAD(MQTT_E_RETURN_CODE, 0x20, 0x02, 0x00, 0x06),
	BAD(MQTT_E_MALFORMED, 0x20, 0x02, 0x02, 0x00),  /* reserved ack flags */
	BAD(MQTT_E_MALFORMED, 0x20, 0x02, 0x01, 0x05),  /* refused, session present */
	BAD(MQTT_E_MALFORMED, 0x20, 0x03, 0x00, 0x00, 0x00),
	BAD(MQTT_E_MALFORMED, 0x20, 0x01, 0x00),
	/* SUBACK */
	BAD(MQTT_E_RETURN_CODE, 0x90, 0x03, 0x00, 0x01, 0x03),
	BAD(MQTT_E_RETURN_CODE, 0x90, 0x04, 0x00, 0x01, 0x00, 0x81),
	BAD(MQTT_E_MALFORMED, 0x90, 0x02, 0x00, 0x01),  /* no return code */
	BAD(MQTT_E_PACKET_ID, 0x90, 0x03, 0x00, 0x00, 0x00),
	/* SUBSCRIBE / UNSUBSCRIBE */
	BAD(MQTT_E_MALFORMED, 0x82, 0x02, 0x00, 0x01),  /* no filter */
	BAD(MQTT_E_MALFORMED, 0xa2, 0x02, 0x00, 0x01),
	BAD(MQTT_E_MALFORMED, 0x82, 0x05, 0x00, 0x01, 0x00, 0x01, 'a'),  /* no QoS byte */
	BAD(MQTT_E_QOS, 0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x03),
	BAD(MQTT_E_MALFORMED, 0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x41),
	BAD(MQTT_E_TOPIC, 0x82, 0x07, 0x00, 0x01, 0x00, 0x02, 'a', '#', 0x00),
	BAD(MQTT_E_TOPIC, 0xa2, 0x06, 0x00, 0x01, 0x00, 0x02, '+', 'a'),
	BAD(MQTT_E_TOPIC, 0xa2, 0x04, 0x00, 0x01, 0x00, 0x00),
	BAD(MQTT_E_UTF8, 0xa2, 0x05, 0x00, 0x01, 0x00, 0x01, 0xff),
	BAD(MQTT_E_PACKET_ID, 0x82, 0x06, 0x00, 0x00, 0x00, 0x01, 'a', 0x00),
	BAD(MQTT_E_MALFORMED, 0xa2, 0x05, 0x00, 0x01, 0x00, 0x09, 'a'),
	/* empty packets */
	BAD(MQTT_E_MALFORMED, 0xd0, 0x01, 0x00),
	BAD(MQTT_E_MALFORMED, 0xc0, 0x01, 0x00),
	BAD(MQTT_E_MALFORMED, 0xe0, 0x02, 0x00, 0x00),
	/* CONNECT */
	BAD(MQTT_E_MALFORMED, 0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'X', 0x04, 0x02, 0x00, 0x00,
		0x00, 0x00),                                         /* protocol name */
	BAD(MQTT_E_MALFORMED, 0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x03, 0x02, 0x00, 0x00,
		0x00, 0x00),                                         /* level 3 */
	BAD(MQTT_E_MALFORMED, 0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x03, 0x00, 0x00,
		0x00, 0x00),                                         /* reserved bit */
	BAD(MQTT_E_MALFORMED, 0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x42, 0x00, 0x00,
		0x00, 0x00),                                         /* password, no user */
	BAD(MQTT_E_MALFORMED, 0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x0a, 0x00, 0x00,
		0x00, 0x00),                                         /* will QoS, no will */
	BAD(MQTT_E_QOS, 0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x1e, 0x00, 0x00,
		0x00, 0x00),
	BAD(MQTT_E_MALFORMED, 0x10, 0x0d, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x00,
		0x00, 0x00, 0x00),                                   /* trailing byte */
	BAD(MQTT_E_MALFORMED, 0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x82, 0x00, 0x00,
		0x00, 0x00),                                         /* user flag, no user */
};

static void mqtt_codec_malformed(void)
{
	for (size_t i = 0; i < N(bads); i++) {
		mqtt_packet_t pk;
		mqtt_status_t st = mqtt_parse(bads[i].p, bads[i].len, &pk);
		if (st != bads[i].st)
			unit_fail(__FILE__, __LINE__, "bads[%zu]: %s, expected %s", i,
				mqtt_strerror(st), mqtt_strerror(bads[i].st));
	}
}

/* Every proper prefix of a valid packet is NEED_MORE to the framer and
 * truncated (MALFORMED) to the parser; extra bytes are trailing garbage. */
static void mqtt_codec_truncated(void)
{
	static const uint8_t pkt[] = { 0x3b, 0x06, 0x00, 0x01, 'a', 0x00, 0x0a, 'x' };
	uint8_t longer[sizeof pkt + 1];
	mqtt_frame_t f;
	mqtt_packet_t pk;
	for (size_t n = 0; n < sizeof pkt; n++) {
		CHECK_INT(mqtt_frame(pkt, n, &f), MQTT_NEED_MORE);
		CHECK_INT(mqtt_parse(pkt, n, &pk), MQTT_E_MALFORMED);
	}
	CHECK_INT(mqtt_frame(pkt, sizeof pkt, &f), MQTT_OK);
	CHECK_INT(f.type, MQTT_PUBLISH);
	CHECK_INT(f.flags, 0x0b);
	CHECK_INT(f.total, sizeof pkt);
	memcpy(longer, pkt, sizeof pkt);
	longer[sizeof pkt] = 0;
	CHECK_INT(mqtt_frame(longer, sizeof longer, &f), MQTT_OK);
	CHECK_INT(f.total, sizeof pkt);
	CHECK_INT(mqtt_parse(longer, sizeof longer, &pk), MQTT_E_MALFORMED);
	/* asking for the wrong type */
	uint16_t id;
	CHECK_INT(mqtt_parse_ack(pkt, sizeof pkt, MQTT_PUBACK, &id), MQTT_E_TYPE);
	CHECK_INT(mqtt_parse_ack(pkt, sizeof pkt, MQTT_PUBLISH, &id), MQTT_E_ARG);
}

/* Serialize each type, frame it inside a stream, parse it back. */
static void mqtt_codec_stream_roundtrip(void)
{
	const mqtt_sub_t subs[] = { { "req/all", 7, 1 }, { "req/C25DTADSR00000001134", 24, 1 } };
	const uint8_t codes[] = { 1, 1 };
	mqtt_connect_t c = { .client_id = "mesh-C25", .client_id_len = 8, .keepalive_s = 30,
		.will_topic = "status/C25", .will_topic_len = 10,
		.will_payload = (const uint8_t *)"offline", .will_payload_len = 7,
		.will_qos = 1, .will_retain = true, .username = "", .username_len = 0 };
	mqtt_publish_t p = { .topic = "rsp/C25", .topic_len = 7,
		.payload = (const uint8_t *)"{\"rc\":0}", .payload_len = 8, .qos = 2, .packet_id = 7 };
	static uint8_t stream[512];
	size_t off = 0, len, pos = 0;
	int types[16], nt = 0;

#define ADD(call) do { CHECK_INT(call, MQTT_OK); off += len; } while (0)
	ADD(mqtt_ser_connect(stream + off, sizeof stream - off, &c, &len)); types[nt++] = MQTT_CONNECT;
	ADD(mqtt_ser_connack(stream + off, sizeof stream - off, false, 0, &len)); types[nt++] = MQTT_CONNACK;
	ADD(mqtt_ser_subscribe(stream + off, sizeof stream - off, 1, subs, 2, &len)); types[nt++] = MQTT_SUBSCRIBE;
	ADD(mqtt_ser_suback(stream + off, sizeof stream - off, 1, codes, 2, &len)); types[nt++] = MQTT_SUBACK;
	ADD(mqtt_ser_publish(stream + off, sizeof stream - off, &p, &len)); types[nt++] = MQTT_PUBLISH;
	ADD(mqtt_ser_ack(stream + off, sizeof stream - off, MQTT_PUBREC, 7, &len)); types[nt++] = MQTT_PUBREC;
	ADD(mqtt_ser_ack(stream + off, sizeof stream - off, MQTT_PUBREL, 7, &len)); types[nt++] = MQTT_PUBREL;
	ADD(mqtt_ser_ack(stream + off, sizeof stream - off, MQTT_PUBCOMP, 7, &len)); types[nt++] = MQTT_PUBCOMP;
	ADD(mqtt_ser_unsubscribe(stream + off, sizeof stream - off, 2, subs, 2, &len)); types[nt++] = MQTT_UNSUBSCRIBE;
	ADD(mqtt_ser_ack(stream + off, sizeof stream - off, MQTT_UNSUBACK, 2, &len)); types[nt++] = MQTT_UNSUBACK;
	ADD(mqtt_ser_empty(stream + off, sizeof stream - off, MQTT_PINGREQ, &len)); types[nt++] = MQTT_PINGREQ;
	ADD(mqtt_ser_empty(stream + off, sizeof stream - off, MQTT_PINGRESP, &len)); types[nt++] = MQTT_PINGRESP;
	ADD(mqtt_ser_empty(stream + off, sizeof stream - off, MQTT_DISCONNECT, &len)); types[nt++] = MQTT_DISCONNECT;
#undef ADD
	for (int i = 0; i < nt; i++) {
		mqtt_frame_t f;
		mqtt_packet_t pk;
		CHECK_INT(mqtt_frame(stream + pos, off - pos, &f), MQTT_OK);
		CHECK_INT(f.type, types[i]);
		CHECK_INT(mqtt_parse(stream + pos, f.total, &pk), MQTT_OK);
		CHECK_INT(pk.type, types[i]);
		if (pk.type == MQTT_CONNECT) {
			CHECK_MEM(pk.u.connect.client_id, pk.u.connect.client_id_len, "mesh-C25", 8);
			CHECK(pk.u.connect.username != NULL && pk.u.connect.username_len == 0);
			CHECK(pk.u.connect.password == NULL);
			CHECK_MEM(pk.u.connect.will_payload, pk.u.connect.will_payload_len, "offline", 7);
		} else if (pk.type == MQTT_PUBLISH) {
			CHECK_MEM(pk.u.publish.topic, pk.u.publish.topic_len, "rsp/C25", 7);
			CHECK_MEM(pk.u.publish.payload, pk.u.publish.payload_len, "{\"rc\":0}", 8);
			CHECK_INT(pk.u.publish.packet_id, 7);
		} else if (pk.type == MQTT_SUBSCRIBE || pk.type == MQTT_UNSUBSCRIBE) {
			mqtt_sub_t s;
			size_t o = 0, k = 0;
			while (mqtt_sublist_next(&pk.u.sublist, &o, &s)) {
				CHECK_MEM(s.filter, s.len, subs[k].filter, subs[k].len);
				CHECK_INT(s.qos, pk.type == MQTT_SUBSCRIBE ? 1 : 0);
				k++;
			}
			CHECK_INT(k, 2);
			CHECK_INT(pk.u.sublist.count, 2);
		} else if (pk.type == MQTT_SUBACK) {
			CHECK_MEM(pk.u.suback.codes, pk.u.suback.count, codes, 2);
		}
		pos += f.total;
	}
	CHECK_INT(pos, off);
}

static void mqtt_codec_strerror(void)
{
	CHECK_STR(mqtt_strerror(MQTT_OK), "ok");
	CHECK_STR(mqtt_strerror(MQTT_E_MALFORMED), "malformed packet");
	for (int st = MQTT_OK; st <= MQTT_E_REFUSED; st++)
		CHECK(strcmp(mqtt_strerror((mqtt_status_t)st), "unknown status") != 0);
	CHECK_STR(mqtt_strerror((mqtt_status_t)999), "unknown status");
}

UNIT_SUITE(mqtt_codec,
	UNIT_CASE(mqtt_codec_connect_minimal), UNIT_CASE(mqtt_codec_connect_full),
	UNIT_CASE(mqtt_codec_connack), UNIT_CASE(mqtt_codec_publish),
	UNIT_CASE(mqtt_codec_acks), UNIT_CASE(mqtt_codec_subscribe),
	UNIT_CASE(mqtt_codec_empty), UNIT_CASE(mqtt_codec_remaining_length),
	UNIT_CASE(mqtt_codec_size_query), UNIT_CASE(mqtt_codec_ser_rejects),
	UNIT_CASE(mqtt_codec_filters), UNIT_CASE(mqtt_codec_parse_framed),
	UNIT_CASE(mqtt_codec_malformed),
	UNIT_CASE(mqtt_codec_truncated), UNIT_CASE(mqtt_codec_stream_roundtrip),
	UNIT_CASE(mqtt_codec_strerror))
