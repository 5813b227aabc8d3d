/* mqtt_session_test.c -- the MQTT session driven by a fake broker in memory:
 * bytes the session sends are collected in fx.out, broker bytes are fed in,
 * events are logged as text in fx.log, time is a fake clock. */
#include "unit.h"
#include "proto/mqtt.h"

#include <stdarg.h>
#include <stdio.h>

#define B(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })
#define NSLOTS 4
#define SLOT 128

static struct {
	mqtt_session_t s;
	uint8_t rx[256], tx[256], store[NSLOTS * SLOT];
	mqtt_inflight_t slots[NSLOTS];
	uint16_t q2[4];
	char log[4096];
	uint8_t out[4096];
	size_t out_len;
	int reply_on_msg;     /* the callback publishes a QoS 1 reply */
	mqtt_status_t reply_st;
} fx;

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	size_t n = strlen(fx.log);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(fx.log + n, sizeof fx.log - n, fmt, ap);
	va_end(ap);
}

static void on_event(void *user, const mqtt_event_t *ev)
{
	CHECK(user == &fx);
	switch (ev->type) {
	case MQTT_EV_CONNACK:
		logf_("connack rc=%d sp=%d;", ev->return_code, ev->session_present);
		break;
	case MQTT_EV_MESSAGE:
		logf_("msg %.*s q%d r%d d%d id%d [%.*s];", (int)ev->msg.topic_len, ev->msg.topic,
			ev->msg.qos, ev->msg.retain, ev->msg.dup, ev->msg.packet_id,
			(int)ev->msg.payload_len, (const char *)ev->msg.payload);
		if (fx.reply_on_msg) {
			mqtt_publish_t r = { .topic = "rsp", .topic_len = 3,
				.payload = ev->msg.payload, .payload_len = ev->msg.payload_len, .qos = 1 };
			fx.reply_st = mqtt_publish(&fx.s, &r, NULL);
		}
		break;
	case MQTT_EV_PUBLISHED:
		logf_("published %d;", ev->packet_id);
		break;
	case MQTT_EV_SUBACK:
		logf_("suback %d", ev->packet_id);
		for (size_t i = 0; i < ev->count; i++)
			logf_(" %02x", ev->codes[i]);
		logf_(";");
		break;
	case MQTT_EV_UNSUBACK:
		logf_("unsuback %d;", ev->packet_id);
		break;
	case MQTT_EV_OVERSIZED:
		logf_("oversized q%d id%d size%zu;", ev->msg.qos, ev->msg.packet_id, ev->size);
		break;
	case MQTT_EV_ERROR:
		logf_("error %s;", mqtt_strerror(ev->status));
		break;
	case MQTT_EV_TIMEOUT:
		logf_("timeout;");
		break;
	}
}

static void fx_init(size_t rx_len, size_t tx_len)
{
	mqtt_config_t c = { .rx_buf = fx.rx, .rx_len = rx_len, .tx_buf = fx.tx, .tx_len = tx_len,
		.inflight = fx.slots, .inflight_n = NSLOTS, .store = fx.store,
		.store_len = sizeof fx.store, .qos2_ids = fx.q2, .qos2_n = 4,
		.on_event = on_event, .user = &fx };
	memset(&fx, 0xa5, sizeof fx); /* the session must not rely on zeroed memory */
	fx.log[0] = 0;
	fx.out_len = 0;
	fx.reply_on_msg = 0;
	CHECK_INT(mqtt_init(&fx.s, &c), MQTT_OK);
	CHECK_INT(mqtt_state(&fx.s), MQTT_ST_IDLE);
}

/* Send everything queued, `step` bytes per write (0: all at once). */
static void drain_by(size_t step)
{
	size_t len;
	const uint8_t *p;
	while ((p = mqtt_send_buf(&fx.s, &len)), len > 0) {
		size_t n = step && step < len ? step : len;
		CHECK(fx.out_len + n <= sizeof fx.out);
		memcpy(fx.out + fx.out_len, p, n);
		fx.out_len += n;
		mqtt_send_ack(&fx.s, n);
	}
}

static void drain(void)
{
	drain_by(0);
}

static void check_mem(const uint8_t *got, size_t gotlen, const uint8_t *want, size_t wantlen)
{
	CHECK_MEM(got, gotlen, want, wantlen);
}

static void expect_out(const uint8_t *want, size_t n)
{
	drain();
	check_mem(fx.out, fx.out_len, want, n);
	fx.out_len = 0;
}

/* B() expands to two arguments, so it goes through functions, not CHECK_MEM */
#define EXPECT_OUT(...) expect_out(B(__VA_ARGS__))
#define EXPECT_NO_OUT() do { drain(); CHECK_INT(fx.out_len, 0); } while (0)
#define EXPECT_LOG(str) do { CHECK_STR(fx.log, str); fx.log[0] = 0; } while (0)

static void feed(const uint8_t *p, size_t n)
{
	CHECK_INT(mqtt_feed(&fx.s, p, n), n);
}

/* CONNECT for client "t", clean session off */
static void fx_connect(uint16_t ka, uint64_t now, bool sp)
{
	mqtt_connect_t c = { .client_id = "t", .client_id_len = 1, .keepalive_s = ka };
	mqtt_tick(&fx.s, now);
	CHECK_INT(mqtt_connect(&fx.s, &c, now), MQTT_OK);
	CHECK_INT(mqtt_state(&fx.s), MQTT_ST_CONNECTING);
	EXPECT_OUT(0x10, 0x0d, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x00,
		(uint8_t)(ka >> 8), (uint8_t)ka, 0x00, 0x01, 't');
	feed(B(0x20, 0x02, sp, 0x00));
	CHECK_INT(mqtt_state(&fx.s), MQTT_ST_CONNECTED);
	CHECK(strstr(fx.log, sp ? "connack rc=0 sp=1;" : "connack rc=0 sp=0;") != NULL);
}

static mqtt_status_t pub(const char *topic, const char *payload, int qos, uint16_t *id)
{
	mqtt_publish_t m = { .topic = topic, .topic_len = strlen(topic),
		.payload = (const uint8_t *)payload, .payload_len = strlen(payload),
		.qos = (uint8_t)qos };
	return mqtt_publish(&fx.s, &m, id);
}

/* ---- cases */

static void mqtt_session_init_rejects(void)
{
	mqtt_session_t s;
	uint8_t b[64];
	mqtt_config_t c = { .rx_buf = b, .rx_len = 15, .tx_buf = b, .tx_len = 64 };
	CHECK_INT(mqtt_init(&s, &c), MQTT_E_ARG);
	c.rx_len = 16;
	CHECK_INT(mqtt_init(&s, &c), MQTT_OK);
	c.inflight_n = 2; /* slots without store */
	CHECK_INT(mqtt_init(&s, &c), MQTT_E_ARG);
	CHECK_INT(mqtt_init(&s, NULL), MQTT_E_ARG);
	CHECK_INT(mqtt_next_deadline(&s), MQTT_NO_DEADLINE);
}

static void mqtt_session_connect(void)
{
	fx_init(256, 256);
	CHECK_INT(pub("a", "x", 0, NULL), MQTT_E_STATE);
	fx_connect(60, 0, false);
	EXPECT_LOG("connack rc=0 sp=0;");
	EXPECT_NO_OUT();
	CHECK_INT(mqtt_last_error(&fx.s), MQTT_OK);
}

static void mqtt_session_connect_full_options(void)
{
	mqtt_connect_t c = { .client_id = "mesh-1", .client_id_len = 6, .keepalive_s = 30,
		.username = "u", .username_len = 1, .password = (const uint8_t *)"pw",
		.password_len = 2, .will_topic = "status/1", .will_topic_len = 8,
		.will_payload = (const uint8_t *)"offline", .will_payload_len = 7,
		.will_qos = 1, .will_retain = true };
	uint8_t want[128];
	size_t wlen;
	fx_init(256, 256);
	CHECK_INT(mqtt_ser_connect(want, sizeof want, &c, &wlen), MQTT_OK);
	CHECK_INT(mqtt_connect(&fx.s, &c, 5), MQTT_OK);
	drain();
	CHECK_MEM(fx.out, fx.out_len, want, wlen);
	/* a CONNECT that does not fit the tx buffer */
	fx_init(256, 16);
	CHECK_INT(mqtt_connect(&fx.s, &c, 5), MQTT_E_TOO_LARGE);
	CHECK_INT(mqtt_state(&fx.s), MQTT_ST_IDLE);
}

static void mqtt_session_refused(void)
{
	mqtt_connect_t c = { .client_id = "t", .client_id_len = 1 };
	fx_init(256, 256);
	CHECK_INT(mqtt_connect(&fx.s, &c, 0), MQTT_OK);
	drain();
	feed(B(0x20, 0x02, 0x00, 0x05));
	EXPECT_LOG("connack rc=5 sp=0;");
	CHECK_INT(mqtt_state(&fx.s), MQTT_ST_CLOSED);
	CHECK_INT(mqtt_last_error(&fx.s), MQTT_E_REFUSED);
}

static void mqtt_session_qos0(void)
{
	fx_init(256, 256);
	fx_connect(0, 0, false);
	fx.log[0] = 0;
	CHECK_INT(pub("a/b", "hi", 0, NULL), MQTT_OK);
	EXPECT_OUT(0x30, 0x07, 0x00, 0x03, 'a', '/', 'b', 'h', 'i');
	feed(B(0x31, 0x06, 0x00, 0x01, 'x', 'y', 'z', '!'));
	EXPECT_LOG("msg x q0 r1 d0 id0 [yz!];");
	EXPECT_NO_OUT();
	CHECK_INT(pub("a/+", "x", 0, NULL), MQTT_E_TOPIC);
	CHECK_INT(pub("a", "x", 3, NULL), MQTT_E_QOS);
}

static void mqtt_session_qos1(void)
{
	uint16_t id = 0;
	fx_init(256, 256);
	fx_connect(0, 0, false);
	fx.log[0] = 0;
	CHECK_INT(pub("a", "1", 1, &id), MQTT_OK);
	CHECK_INT(id, 1);
	CHECK_INT(mqtt_inflight_count(&fx.s), 1);
	EXPECT_OUT(0x32, 0x06, 0x00, 0x01, 'a', 0x00, 0x01, '1');
	feed(B(0x40, 0x02, 0x00, 0x01));
	EXPECT_LOG("published 1;");
	CHECK_INT(mqtt_inflight_count(&fx.s), 0);
	feed(B(0x40, 0x02, 0x00, 0x01)); /* a second PUBACK is ignored */
	EXPECT_LOG("");
	/* inbound: delivered and acknowledged */
	feed(B(0x32, 0x07, 0x00, 0x01, 'q', 0x12, 0x34, 'o', 'k'));
	EXPECT_LOG("msg q q1 r0 d0 id4660 [ok];");
	EXPECT_OUT(0x40, 0x02, 0x12, 0x34);
	CHECK_INT(mqtt_state(&fx.s), MQTT_ST_CONNECTED);
}

static void mqtt_session_qos2_out(void)
{
	uint16_t id = 0;
	fx_init(256, 256);
	fx_connect(0, 0, false);
	fx.log[0] = 0;
	CHECK_INT(pub("b", "2", 2, &id), MQTT_OK);
	EXPECT_OUT(0x34, 0x06, 0x00, 0x01, 'b', 0x00, 0x01, '2');
	feed(B(0x40, 0x02, 0x00, 0x01)); /* PUBACK for a QoS 2 message: ignored */
	EXPECT_LOG("");
	feed(B(0x50, 0x02, 0x00, 0x01));
	EXPECT_OUT(0x62, 0x02, 0x00, 0x01);
	feed(B(0x50, 0x02, 0x00, 0x01)); /* repeated PUBREC: PUBREL again */
	EXPECT_OUT(0x62, 0x02, 0x00, 0x01);
	EXPECT_LOG("");
	CHECK_INT(mqtt_inflight_count(&fx.s), 1);
	feed(B(0x70, 0x02, 0x00, 0x01));
	EXPECT_LOG("published 1;");
	CHECK_INT(mqtt_inflight_count(&fx.s), 0);
}

static void mqtt_session_qos2_in(void)
{
	fx_init(256, 256);
	fx_connect(0, 0, false);
	fx.log[0] = 0;
	feed(B(0x34, 0x06, 0x00, 0x01, 'c', 0x00, 0x09, 'm'));
	EXPECT_LOG("msg c q2 r0 d0 id9 [m];");
	EXPECT_OUT(0x50, 0x02, 0x00, 0x09);
	/* the broker resends (DUP): acknowledged, not delivered again */
	feed(B(0x3c, 0x06, 0x00, 0x01, 'c', 0x00, 0x09, 'm'));
	EXPECT_LOG("");
	EXPECT_OUT(0x50, 0x02, 0x00, 0x09);
	feed(B(0x62, 0x02, 0x00, 0x09));
	EXPECT_OUT(0x70, 0x02, 0x00, 0x09);
	feed(B(0x62, 0x02, 0x00, 0x09)); /* PUBREL for an unknown id: PUBCOMP anyway */
	EXPECT_OUT(0x70, 0x02, 0x00, 0x09);
	/* after PUBREL the id is free: a new message with it is delivered */
	feed(B(0x34, 0x06, 0x00, 0x01, 'c', 0x00, 0x09, 'n'));
	EXPECT_LOG("msg c q2 r0 d0 id9 [n];");
	EXPECT_OUT(0x50, 0x02, 0x00, 0x09);
	/* table of 4 ids: the 4 open ones fill it, a 5th cannot be exactly-once */
	feed(B(0x34, 0x06, 0x00, 0x01, 'c', 0x00, 0x0a, 'n'));
	feed(B(0x34, 0x06, 0x00, 0x01, 'c', 0x00, 0x0b, 'n'));
	feed(B(0x34, 0x06, 0x00, 0x01, 'c', 0x00, 0x0c, 'n'));
	fx.log[0] = 0;
	feed(B(0x34, 0x06, 0x00, 0x01, 'c', 0x00, 0x0d, 'n'));
	EXPECT_LOG("error inbound QoS 2 table full;");
	CHECK_INT(mqtt_state(&fx.s), MQTT_ST_CLOSED);
}

/* QoS 2 ids survive a reconnect with session present, not without. */
static void mqtt_session_qos2_in_reconnect(void)
{
	fx_init(256, 256);
	fx_connect(0, 0, false);
	feed(B(0x34, 0x06, 0x00, 0x01, 'c', 0x00, 0x09, 'm'));
	drain();
	fx.out_len = 0;
	mqtt_reset_connection(&fx.s);
	fx_connect(0, 100, true);
	fx.log[0] = 0;
	feed(B(0x3c, 0x06, 0x00, 0x01, 'c', 0x00, 0x09, 'm'));
	EXPECT_LOG("");
	EXPECT_OUT(0x50, 0x02, 0x00, 0x09);
	mqtt_reset_connection(&fx.s);
	fx_connect(0, 200, false); /* session lost: the broker starts afresh */
	fx.log[0] = 0;
	feed(B(0x34, 0x06, 0x00, 0x01, 'c', 0x00, 0x09, 'z'));
	EXPECT_LOG("msg c q2 r0 d0 id9 [z];");
}

static void mqtt_session_window_full(void)
{
	uint16_t id = 0;
	char big[300];
	fx_init(256, 256);
	fx_connect(0, 0, false);
	fx.log[0] = 0;
	for (int i = 1; i <= NSLOTS; i++) {
		CHECK_INT(pub("w", "x", 1, &id), MQTT_OK);
		CHECK_INT(id, i);
	}
	CHECK_INT(pub("w", "x", 1, &id), MQTT_E_WINDOW_FULL);
	CHECK_INT(pub("w", "x", 2, &id), MQTT_E_WINDOW_FULL);
	CHECK_INT(pub("w", "x", 0, &id), MQTT_OK); /* QoS 0 needs no slot */
	drain();
	fx.out_len = 0;
	feed(B(0x40, 0x02, 0x00, 0x02));
	EXPECT_LOG("published 2;");
	CHECK_INT(pub("w", "x", 1, &id), MQTT_OK);
	CHECK_INT(id, 5);
	/* a message larger than the tx buffer (256) */
	feed(B(0x40, 0x02, 0x00, 0x01));
	memset(big, 'b', sizeof big - 1);
	big[sizeof big - 1] = 0;
	CHECK_INT(pub("w", big, 1, &id), MQTT_E_TOO_LARGE);
}

/* What the broker received in fx.out, one entry per packet: "P<id>d<dup>
 * <topic>:<payload length>:<first payload byte>;" for a PUBLISH, "R<id>;"
 * for a PUBREL, "A<id>;" for other acks.  Clears fx.out. */
static void wire_log(char *buf, size_t cap)
{
	size_t off = 0, n = 0;
	buf[0] = 0;
	drain();
	while (off < fx.out_len) {
		mqtt_frame_t f;
		mqtt_packet_t pk;
		CHECK_INT(mqtt_frame(fx.out + off, fx.out_len - off, &f), MQTT_OK);
		CHECK_INT(mqtt_parse(fx.out + off, f.total, &pk), MQTT_OK);
		if (pk.type == MQTT_PUBLISH)
			n += (size_t)snprintf(buf + n, cap - n, "P%ud%d %.*s:%zu:%c;",
				pk.u.publish.packet_id, pk.u.publish.dup, (int)pk.u.publish.topic_len,
				pk.u.publish.topic, pk.u.publish.payload_len,
				pk.u.publish.payload_len ? pk.u.publish.payload[0] : '-');
		else
			n += (size_t)snprintf(buf + n, cap - n, "%c%u;",
				pk.type == MQTT_PUBREL ? 'R' : 'A', pk.u.packet_id);
		CHECK(n < cap);
		off += f.total;
	}
	fx.out_len = 0;
}

static mqtt_status_t pub_n(char c, size_t n, int qos, uint16_t *id)
{
	static uint8_t payload[256];
	mqtt_publish_t m = { .topic = "s", .topic_len = 1, .payload = payload,
		.payload_len = n, .qos = (uint8_t)qos };
	memset(payload, c, sizeof payload);
	return mqtt_publish(&fx.s, &m, id);
}

/* The store (512 bytes here) is shared: messages take their size, the
 * window is full when it has no room even with slots free; room comes
 * back as messages complete, in order or not, and what a message that is
 * not acknowledged leaves around it is reused (compaction). */
static void mqtt_session_store_ring(void)
{
	char got[1024];
	uint16_t id;
	fx_init(256, 256);
	fx_connect(0, 0, false);
	fx.log[0] = 0;
	/* 150 + 8 = 158-byte packets: three fit 512, the fourth does not */
	CHECK_INT(pub_n('a', 150, 1, &id), MQTT_OK);
	CHECK_INT(pub_n('b', 150, 1, &id), MQTT_OK);
	CHECK_INT(pub_n('c', 150, 2, &id), MQTT_OK);
	CHECK_INT(mqtt_inflight_count(&fx.s), 3);
	CHECK_INT(pub_n('d', 150, 1, &id), MQTT_E_WINDOW_FULL);
	CHECK_INT(pub_n('d', 30, 1, &id), MQTT_OK); /* 37 bytes still fit */
	CHECK_INT(id, 4);
	CHECK_INT(pub_n('e', 2, 1, &id), MQTT_E_WINDOW_FULL); /* no slot left */
	wire_log(got, sizeof got);
	CHECK_STR(got, "P1d0 s:150:a;P2d0 s:150:b;P3d0 s:150:c;P4d0 s:30:d;");
	/* in order: the oldest completes, the next message wraps to offset 0 */
	feed(B(0x40, 0x02, 0x00, 0x01));
	CHECK_INT(pub_n('e', 150, 1, &id), MQTT_OK);
	CHECK_INT(id, 5);
	/* out of order: 2 (behind it 3 and 4) is not acknowledged, 4 and 5 are */
	feed(B(0x40, 0x02, 0x00, 0x04, 0x40, 0x02, 0x00, 0x05));
	CHECK_INT(mqtt_inflight_count(&fx.s), 2);
	EXPECT_LOG("published 1;published 4;published 5;");
	/* 316 bytes live (2, 3): 196 more need the holes squeezed out */
	CHECK_INT(pub_n('f', 188, 1, &id), MQTT_OK);
	CHECK_INT(pub_n('g', 1, 1, &id), MQTT_E_WINDOW_FULL); /* 512 of 512 */
	wire_log(got, sizeof got);
	CHECK_STR(got, "P5d0 s:150:e;P6d0 s:188:f;");
	/* what moved is intact: the resend after a reconnect shows it */
	feed(B(0x50, 0x02, 0x00, 0x03));
	wire_log(got, sizeof got);
	CHECK_STR(got, "R3;");
	mqtt_reset_connection(&fx.s);
	fx_connect(0, 10, true);
	wire_log(got, sizeof got);
	CHECK_STR(got, "P2d1 s:150:b;R3;P6d1 s:188:f;");
	feed(B(0x40, 0x02, 0x00, 0x02, 0x70, 0x02, 0x00, 0x03, 0x40, 0x02, 0x00, 0x06));
	CHECK_INT(mqtt_inflight_count(&fx.s), 0);
	CHECK_INT(pub_n('h', 240, 1, &id), MQTT_OK); /* empty: the whole store again */
	wire_log(got, sizeof got);
	CHECK_STR(got, "P7d0 s:240:h;");
}

/* A store smaller than the tx buffer bounds the message size. */
static void mqtt_session_store_too_large(void)
{
	static uint8_t rx[64], tx[256], store[64];
	static mqtt_inflight_t slots[2];
	mqtt_session_t s;
	mqtt_config_t c = { .rx_buf = rx, .rx_len = sizeof rx, .tx_buf = tx, .tx_len = sizeof tx,
		.inflight = slots, .inflight_n = 2, .store = store, .store_len = sizeof store };
	mqtt_publish_t m = { .topic = "t", .topic_len = 1, .payload = tx, .payload_len = 57,
		.qos = 1 };
	CHECK_INT(mqtt_init(&s, &c), MQTT_OK);
	CHECK_INT(mqtt_publish(&s, &m, NULL), MQTT_OK); /* 64 bytes: the whole store */
	CHECK_INT(mqtt_publish(&s, &m, NULL), MQTT_E_WINDOW_FULL);
	m.payload_len = 58;
	CHECK_INT(mqtt_publish(&s, &m, NULL), MQTT_E_TOO_LARGE);
	c.store_len = 15;
	CHECK_INT(mqtt_init(&s, &c), MQTT_E_ARG);
	c.store_len = 16;
	c.inflight_n = 65536; /* slot indices are 16-bit */
	CHECK_INT(mqtt_init(&s, &c), MQTT_E_ARG);
}

/* Random publishes, acks in and out of order, QoS 2 steps and reconnects,
 * checked against a model: after every reconnect the resent packets are
 * exactly the incomplete messages, oldest first, each with its own bytes. */
static void mqtt_session_window_model(void)
{
	struct { uint16_t id; uint8_t qos, rel; char c; size_t n; } m[NSLOTS];
	size_t live = 0;
	uint32_t x = 12345;
	char got[1024], want[1024];
	fx_init(256, 256);
	fx_connect(0, 0, false);
	for (int step = 0; step < 20000; step++) {
		x ^= x << 13; x ^= x >> 17; x ^= x << 5;
		unsigned op = x % 8, r = (x >> 8) % 256;
		if (op < 3) { /* publish: its size from r */
			uint16_t id;
			int qos = 1 + (int)(x >> 20) % 2;
			char c = (char)('a' + step % 26);
			mqtt_status_t st = pub_n(c, r % 200, qos, &id);
			CHECK(st == MQTT_OK || st == MQTT_E_WINDOW_FULL);
			CHECK((st == MQTT_E_WINDOW_FULL) == (live == NSLOTS) || live < NSLOTS);
			if (st == MQTT_OK) {
				CHECK(live < NSLOTS);
				m[live].id = id;
				m[live].qos = (uint8_t)qos;
				m[live].rel = 0;
				m[live].c = c;
				m[live].n = r % 200;
				live++;
			}
		} else if (op < 6 && live > 0) { /* the next ack of any live message */
			size_t k = op == 3 ? 0 : r % live; /* mostly in order */
			uint8_t a[4] = { 0, 0x02, (uint8_t)(m[k].id >> 8), (uint8_t)m[k].id };
			if (m[k].qos == 1 || m[k].rel) {
				a[0] = m[k].qos == 1 ? 0x40 : 0x70;
				feed(a, 4);
				memmove(&m[k], &m[k + 1], (live - k - 1) * sizeof m[0]);
				live--;
			} else {
				a[0] = 0x50;
				feed(a, 4);
				m[k].rel = 1;
			}
		} else if (op == 6) { /* drop and reconnect: every message again */
			size_t n = 0;
			drain();
			fx.out_len = 0;
			mqtt_reset_connection(&fx.s);
			fx_connect(0, (uint64_t)step, true);
			want[0] = 0;
			for (size_t k = 0; k < live; k++) {
				if (m[k].rel)
					n += (size_t)snprintf(want + n, sizeof want - n, "R%u;", m[k].id);
				else
					n += (size_t)snprintf(want + n, sizeof want - n, "P%ud%d s:%zu:%c;",
						m[k].id, 1, m[k].n, m[k].n ? m[k].c : '-');
			}
			wire_log(got, sizeof got);
			CHECK_STR(got, want);
		} else {
			drain();
			fx.out_len = 0;
		}
		CHECK_INT(mqtt_inflight_count(&fx.s), live);
		fx.log[0] = 0;
	}
}

/* ids skip 0 and ids still in flight when they wrap */
static void mqtt_session_packet_ids(void)
{
	uint16_t id = 0, held;
	fx_init(256, 256);
	fx_connect(0, 0, false);
	CHECK_INT(pub("p", "", 1, &held), MQTT_OK); /* id 1 stays in flight */
	CHECK_INT(held, 1);
	for (uint32_t want = 2; want <= 65535 + 3; want++) {
		uint32_t w = want > 65535 ? want - 65535 + 1 : want; /* 65535 -> 2 -> 3 */
		uint8_t ack[4] = { 0x40, 0x02, 0, 0 };
		CHECK_INT(pub("p", "", 1, &id), MQTT_OK);
		CHECK_INT(id, w);
		ack[2] = (uint8_t)(id >> 8);
		ack[3] = (uint8_t)id;
		drain();
		fx.out_len = 0;
		fx.log[0] = 0;
		feed(ack, 4);
	}
}

static void mqtt_session_subscribe(void)
{
	const mqtt_sub_t subs[] = { { "req/all", 7, 1 }, { "req/+", 5, 2 } };
	uint16_t id = 0;
	fx_init(256, 256);
	CHECK_INT(mqtt_subscribe(&fx.s, subs, 2, &id), MQTT_E_STATE);
	fx_connect(0, 0, false);
	fx.log[0] = 0;
	CHECK_INT(mqtt_subscribe(&fx.s, subs, 2, &id), MQTT_OK);
	CHECK_INT(id, 1);
	EXPECT_OUT(0x82, 0x14, 0x00, 0x01, 0x00, 0x07, 'r', 'e', 'q', '/', 'a', 'l', 'l', 0x01,
		0x00, 0x05, 'r', 'e', 'q', '/', '+', 0x02);
	feed(B(0x90, 0x04, 0x00, 0x01, 0x01, 0x80));
	EXPECT_LOG("suback 1 01 80;");
	CHECK_INT(mqtt_unsubscribe(&fx.s, subs + 1, 1, &id), MQTT_OK);
	CHECK_INT(id, 2);
	EXPECT_OUT(0xa2, 0x09, 0x00, 0x02, 0x00, 0x05, 'r', 'e', 'q', '/', '+');
	feed(B(0x90, 0x03, 0x00, 0x02, 0x00)); /* a SUBACK for the UNSUBSCRIBE's id: not ours */
	EXPECT_LOG("");
	feed(B(0xb0, 0x02, 0x00, 0x02));
	EXPECT_LOG("unsuback 2;");
	/* bad filters, too many open requests */
	const mqtt_sub_t bad = { "a/#/b", 5, 0 };
	CHECK_INT(mqtt_subscribe(&fx.s, &bad, 1, &id), MQTT_E_TOPIC);
	CHECK_INT(mqtt_subscribe(&fx.s, subs, 0, &id), MQTT_E_ARG);
	for (int i = 0; i < MQTT_MAX_PENDING_SUBS; i++)
		CHECK_INT(mqtt_subscribe(&fx.s, subs, 1, &id), MQTT_OK);
	CHECK_INT(mqtt_subscribe(&fx.s, subs, 1, &id), MQTT_E_WOULDBLOCK);
	/* a SUBACK whose code count differs from the request's filters */
	feed(B(0x90, 0x04, 0x00, 0x03, 0x01, 0x01));
	EXPECT_LOG("error protocol violation by peer;");
	CHECK_INT(mqtt_state(&fx.s), MQTT_ST_CLOSED);
}

/* Partial writes, one byte at a time, interleaved with new packets:
 * the byte stream is exactly the packets in order, none cut. */
static void mqtt_session_partial_writes(void)
{
	static const uint8_t want[] = {
		0x30, 0x05, 0x00, 0x01, 'a', 'h', 'i',                /* QoS 0 */
		0x32, 0x06, 0x00, 0x01, 'b', 0x00, 0x01, '1',         /* QoS 1 id 1 */
		0x34, 0x06, 0x00, 0x01, 'c', 0x00, 0x02, '2',         /* QoS 2 id 2 */
		0x30, 0x09, 0x00, 0x01, 'd', 'x', 'y', 'z', 'x', 'y', 'z', /* mid-drain */
	};
	size_t len;
	fx_init(256, 32); /* small tx: the late packet forces a compaction */
	fx_connect(0, 0, false);
	CHECK_INT(pub("a", "hi", 0, NULL), MQTT_OK);
	CHECK_INT(pub("b", "1", 1, NULL), MQTT_OK);
	CHECK_INT(pub("c", "2", 2, NULL), MQTT_OK);
	for (int i = 0; i < 12; i++) {
		const uint8_t *p = mqtt_send_buf(&fx.s, &len);
		CHECK_INT(len, 23 - i);
		fx.out[fx.out_len++] = p[0];
		mqtt_send_ack(&fx.s, 1);
	}
	CHECK_INT(pub("d", "xyzxyz", 0, NULL), MQTT_OK); /* 11 bytes: tail has 9 */
	CHECK_INT(pub("d", "more than fits now", 0, NULL), MQTT_E_WOULDBLOCK);
	drain_by(1);
	CHECK_MEM(fx.out, fx.out_len, want, sizeof want);
	mqtt_send_ack(&fx.s, 5); /* more than queued: ignored */
	mqtt_send_buf(&fx.s, &len);
	CHECK_INT(len, 0);
}

/* The broker's stream for the split-read test, and what it must cause. */
static const uint8_t split_stream[] = {
	0x20, 0x02, 0x00, 0x00,                                  /* CONNACK */
	0x30, 0x04, 0x00, 0x01, 'a', 'x',                        /* QoS 0 */
	0x32, 0x07, 0x00, 0x01, 'b', 0x00, 0x01, 'y', 'y',       /* QoS 1 id 1 */
	0x34, 0x05, 0x00, 0x01, 'c', 0x00, 0x02,                 /* QoS 2 id 2 */
	0x3c, 0x05, 0x00, 0x01, 'c', 0x00, 0x02,                 /* duplicate */
	0x62, 0x02, 0x00, 0x02,                                  /* PUBREL 2 */
	0xd0, 0x00,                                              /* PINGRESP */
	0x90, 0x03, 0x00, 0x07, 0x00,                            /* stray SUBACK */
	0x30, 0x83, 0x01, 0x00, 0x01, 'd',                       /* QoS 0, 2-byte length */
};
static const char split_log[] = "connack rc=0 sp=0;msg a q0 r0 d0 id0 [x];"
	"msg b q1 r0 d0 id1 [yy];msg c q2 r0 d0 id2 [];msg d q0 r0 d0 id0 [";
static const uint8_t split_out[] = { 0x40, 0x02, 0x00, 0x01, 0x50, 0x02, 0x00, 0x02,
	0x50, 0x02, 0x00, 0x02, 0x70, 0x02, 0x00, 0x02 };

static void split_start(void)
{
	mqtt_connect_t c = { .client_id = "t", .client_id_len = 1 };
	fx_init(256, 256);
	CHECK_INT(mqtt_connect(&fx.s, &c, 0), MQTT_OK);
	drain();
	fx.out_len = 0;
}

static void split_check(const uint8_t *big, size_t n)
{
	char want[512];
	snprintf(want, sizeof want, "%s%.*s];", split_log, 128, (const char *)big + sizeof split_stream);
	CHECK_INT(mqtt_state(&fx.s), MQTT_ST_CONNECTED);
	CHECK_STR(fx.log, want);
	drain();
	CHECK_MEM(fx.out, fx.out_len, split_out, sizeof split_out);
	(void)n;
}

static void mqtt_session_split_reads(void)
{
	static uint8_t big[sizeof split_stream + 128];
	size_t n = sizeof big;
	memcpy(big, split_stream, sizeof split_stream);
	memset(big + sizeof split_stream, 'p', 128); /* payload of the last PUBLISH */
	for (size_t k = 0; k <= n; k++) {
		split_start();
		feed(big, k);
		feed(big + k, n - k);
		split_check(big, n);
	}
	/* one byte per read, and three-way splits */
	split_start();
	for (size_t i = 0; i < n; i++)
		feed(big + i, 1);
	split_check(big, n);
	for (size_t a = 0; a < sizeof split_stream; a += 3)
		for (size_t b = a; b <= n; b += 7) {
			split_start();
			feed(big, a);
			feed(big + a, b - a);
			feed(big + b, n - b);
			split_check(big, n);
		}
}

/* Receiving straight into the session's buffer (mqtt_recv_buf/ack). */
static void mqtt_session_recv_buf(void)
{
	size_t cap;
	uint8_t *w;
	fx_init(256, 256);
	split_start();
	for (size_t i = 0; i < sizeof split_stream; i += 5) {
		size_t n = sizeof split_stream - i < 5 ? sizeof split_stream - i : 5;
		w = mqtt_recv_buf(&fx.s, &cap);
		CHECK(cap >= n);
		memcpy(w, split_stream + i, n);
		mqtt_recv_ack(&fx.s, n);
	}
	CHECK(strstr(fx.log, "msg c q2 r0 d0 id2 [];") != NULL);
}

/* Reconnect: unacknowledged PUBLISH with DUP=1 and pending PUBREL, in the
 * original order, whether or not the broker kept the session. */
static void mqtt_session_reconnect_resend(void)
{
	for (int sp = 1; sp >= 0; sp--) {
		fx_init(256, 256);
		fx_connect(0, 0, false);
		CHECK_INT(pub("a", "1", 1, NULL), MQTT_OK);
		CHECK_INT(pub("b", "2", 2, NULL), MQTT_OK);
		CHECK_INT(pub("c", "3", 1, NULL), MQTT_OK);
		drain();
		fx.out_len = 0;
		feed(B(0x50, 0x02, 0x00, 0x02));
		EXPECT_OUT(0x62, 0x02, 0x00, 0x02);
		/* the connection drops; a QoS 1 publish made while offline waits */
		mqtt_reset_connection(&fx.s);
		CHECK_INT(mqtt_state(&fx.s), MQTT_ST_IDLE);
		CHECK_INT(pub("d", "4", 1, NULL), MQTT_OK);
		CHECK_INT(pub("d", "4", 0, NULL), MQTT_E_STATE);
		EXPECT_NO_OUT();
		fx.log[0] = 0;
		fx_connect(0, 1000, sp);
		EXPECT_OUT(0x3a, 0x06, 0x00, 0x01, 'a', 0x00, 0x01, '1',
			0x62, 0x02, 0x00, 0x02,
			0x3a, 0x06, 0x00, 0x01, 'c', 0x00, 0x03, '3',
			0x32, 0x06, 0x00, 0x01, 'd', 0x00, 0x04, '4'); /* never sent: DUP=0 */
		fx.log[0] = 0;
		feed(B(0x40, 0x02, 0x00, 0x01, 0x70, 0x02, 0x00, 0x02, 0x40, 0x02, 0x00, 0x03,
			0x40, 0x02, 0x00, 0x04));
		EXPECT_LOG("published 1;published 2;published 3;published 4;");
		CHECK_INT(mqtt_inflight_count(&fx.s), 0);
	}
}

/* Resends larger than the tx buffer's free room go out as it drains. */
static void mqtt_session_resend_small_tx(void)
{
	fx_init(256, 24);
	fx_connect(0, 0, false);
	for (int i = 0; i < NSLOTS; i++)
		CHECK_INT(pub("topic", "payload", 1, NULL), MQTT_OK); /* 18 bytes each */
	drain();
	fx.out_len = 0;
	mqtt_reset_connection(&fx.s);
	fx_connect(0, 10, true);
	drain_by(5);
	CHECK_INT(fx.out_len, 4 * 18);
	for (int i = 0; i < NSLOTS; i++) {
		CHECK_INT(fx.out[i * 18], 0x3a);
		CHECK_INT(fx.out[i * 18 + 10], i + 1);
	}
}

static void mqtt_session_keepalive(void)
{
	fx_init(256, 256);
	fx_connect(10, 0, false);
	fx.log[0] = 0;
	CHECK_INT(mqtt_next_deadline(&fx.s), 10000);
	mqtt_tick(&fx.s, 9999);
	EXPECT_NO_OUT();
	mqtt_tick(&fx.s, 10000);
	EXPECT_OUT(0xc0, 0x00);
	CHECK_INT(mqtt_next_deadline(&fx.s), 15000); /* keepalive/2 for the answer */
	mqtt_tick(&fx.s, 12000);
	EXPECT_NO_OUT(); /* no second PINGREQ while one is open */
	feed(B(0xd0, 0x00));
	CHECK_INT(mqtt_next_deadline(&fx.s), 20000);
	/* outbound traffic postpones the ping */
	mqtt_tick(&fx.s, 15000);
	CHECK_INT(pub("a", "x", 0, NULL), MQTT_OK);
	drain();
	fx.out_len = 0;
	CHECK_INT(mqtt_next_deadline(&fx.s), 25000);
	mqtt_tick(&fx.s, 20000);
	EXPECT_NO_OUT();
	mqtt_tick(&fx.s, 25000);
	EXPECT_OUT(0xc0, 0x00);
	/* any byte from the broker counts as an answer */
	feed(B(0x30, 0x03, 0x00, 0x01, 'k'));
	CHECK_INT(mqtt_next_deadline(&fx.s), 35000);
	mqtt_tick(&fx.s, 35000);
	EXPECT_OUT(0xc0, 0x00);
	mqtt_tick(&fx.s, 39999);
	CHECK_INT(mqtt_state(&fx.s), MQTT_ST_CONNECTED);
	mqtt_tick(&fx.s, 40000);
	CHECK_STR(fx.log, "msg k q0 r0 d0 id0 [];timeout;");
	CHECK_INT(mqtt_state(&fx.s), MQTT_ST_CLOSED);
	CHECK_INT(mqtt_last_error(&fx.s), MQTT_E_TIMEOUT);
	CHECK_INT(mqtt_next_deadline(&fx.s), MQTT_NO_DEADLINE);
	/* keepalive 0: no pings at all */
	fx_init(256, 256);
	fx_connect(0, 0, false);
	CHECK_INT(mqtt_next_deadline(&fx.s), MQTT_NO_DEADLINE);
	mqtt_tick(&fx.s, 1000000);
	EXPECT_NO_OUT();
}

static void mqtt_session_connack_timeout(void)
{
	mqtt_connect_t c = { .client_id = "t", .client_id_len = 1 };
	fx_init(256, 256);
	CHECK_INT(mqtt_connect(&fx.s, &c, 100), MQTT_OK);
	CHECK_INT(mqtt_next_deadline(&fx.s), 30100); /* no keepalive: 30 s */
	mqtt_tick(&fx.s, 30099);
	CHECK_INT(mqtt_state(&fx.s), MQTT_ST_CONNECTING);
	mqtt_tick(&fx.s, 30100);
	CHECK_STR(fx.log, "timeout;");
	c.keepalive_s = 1; /* keepalive/2, at least 1 s */
	CHECK_INT(mqtt_connect(&fx.s, &c, 0), MQTT_OK);
	CHECK_INT(mqtt_next_deadline(&fx.s), 1000);
	c.keepalive_s = 60;
	CHECK_INT(mqtt_connect(&fx.s, &c, 0), MQTT_OK);
	CHECK_INT(mqtt_next_deadline(&fx.s), 30000);
}

/* Every reconnect starts clean: half a packet in rx, unsent tx, an open
 * ping, open SUBSCRIBEs and a partial skip are all forgotten. */
static void mqtt_session_reset_clears(void)
{
	const mqtt_sub_t sub = { "s", 1, 1 };
	char fill[35];
	fx_init(64, 48);
	fx_connect(10, 0, false);
	CHECK_INT(mqtt_subscribe(&fx.s, &sub, 1, NULL), MQTT_OK); /* 8 bytes */
	memset(fill, 'f', 34);
	fill[34] = 0;
	CHECK_INT(pub("t", fill, 0, NULL), MQTT_OK); /* 39 bytes: 1 left */
	feed(B(0x30, 0xc8, 0x01, 0x00, 0x01, 'o')); /* start of an oversized PUBLISH */
	mqtt_tick(&fx.s, 10000); /* ping due, no room to queue it */
	CHECK_INT(mqtt_next_deadline(&fx.s), 15000);
	fx.log[0] = 0;
	fx.out_len = 0;
	mqtt_reset_connection(&fx.s);
	fx_connect(10, 20000, true);
	EXPECT_NO_OUT(); /* no PINGREQ, no SUBSCRIBE left over */
	CHECK_INT(mqtt_next_deadline(&fx.s), 30000);
	/* what follows is parsed as fresh packets, not skipped as the old rest */
	feed(B(0x40, 0x02, 0x00, 0x09, 0x90, 0x03, 0x00, 0x01, 0x00));
	EXPECT_LOG("connack rc=0 sp=1;"); /* unknown PUBACK, SUBACK of the lost request */
	/* and a half packet before the reset is dropped */
	feed(B(0x30, 0x05, 0x00));
	mqtt_reset_connection(&fx.s);
	fx_connect(10, 30000, true);
	EXPECT_LOG("connack rc=0 sp=1;");
}

/* A PUBLISH larger than the rx buffer is skipped, acknowledged, reported. */
static void mqtt_session_oversized(void)
{
	static const size_t chunks[] = { 1, 2, 7, 63, 64, 1000 };
	static uint8_t stream[512];
	uint8_t payload[200];
	mqtt_publish_t m = { .topic = "big/t", .topic_len = 5, .payload = payload,
		.payload_len = sizeof payload, .qos = 1, .packet_id = 77 };
	size_t len, n;

	memset(payload, 'z', sizeof payload);
	CHECK_INT(mqtt_ser_publish(stream, sizeof stream, &m, &len), MQTT_OK);
	CHECK_INT(len, 212);
	memcpy(stream + len, B(0x30, 0x05, 0x00, 0x01, 's', 'o', 'k'));
	n = len + 7;
	for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
		fx_init(64, 256);
		fx_connect(0, 0, false);
		fx.log[0] = 0;
		for (size_t i = 0; i < n; i += chunks[c])
			feed(stream + i, n - i < chunks[c] ? n - i : chunks[c]);
		EXPECT_LOG("oversized q1 id77 size212;msg s q0 r0 d0 id0 [ok];");
		EXPECT_OUT(0x40, 0x02, 0x00, 0x4d);
		CHECK_INT(mqtt_state(&fx.s), MQTT_ST_CONNECTED);
	}
	/* QoS 2: reported once, duplicates acknowledged only */
	m.qos = 2;
	fx_init(64, 256);
	fx_connect(0, 0, false);
	fx.log[0] = 0;
	CHECK_INT(mqtt_ser_publish(stream, sizeof stream, &m, &len), MQTT_OK);
	feed(stream, len);
	m.dup = true;
	CHECK_INT(mqtt_ser_publish(stream, sizeof stream, &m, &len), MQTT_OK);
	feed(stream, len);
	feed(B(0x62, 0x02, 0x00, 0x4d));
	EXPECT_LOG("oversized q2 id77 size212;");
	EXPECT_OUT(0x50, 0x02, 0x00, 0x4d, 0x50, 0x02, 0x00, 0x4d, 0x70, 0x02, 0x00, 0x4d);
	/* QoS 0 with a long topic: nothing to acknowledge */
	static char topic[100];
	memset(topic, 't', sizeof topic);
	m = (mqtt_publish_t){ .topic = topic, .topic_len = sizeof topic };
	CHECK_INT(mqtt_ser_publish(stream, sizeof stream, &m, &len), MQTT_OK);
	feed(stream, len);
	EXPECT_LOG("oversized q0 id0 size104;");
	EXPECT_NO_OUT();
	/* a topic length beyond the packet is malformed */
	feed(B(0x32, 0x50, 0x00, 0x60));
	EXPECT_LOG("error malformed packet;");
	/* packet id 0 */
	fx_init(64, 256);
	fx_connect(0, 0, false);
	fx.log[0] = 0;
	static uint8_t z[0x52];
	memcpy(z, B(0x32, 0x50, 0x00, 0x01, 'x', 0x00, 0x00));
	feed(z, sizeof z);
	EXPECT_LOG("error packet id 0;");
	/* a non-PUBLISH packet over the rx buffer is fatal */
	fx_init(64, 256);
	fx_connect(0, 0, false);
	fx.log[0] = 0;
	feed(B(0x90, 0x50, 0x00, 0x01));
	EXPECT_LOG("error packet too large;");
}

/* With no room in tx for the ack, a QoS 1 PUBLISH waits in rx until the
 * transport takes bytes: backpressure, nothing lost. */
static void mqtt_session_backpressure(void)
{
	static uint8_t stream[300];
	uint8_t payload[100];
	size_t len, got, tail;
	char want[128];
	mqtt_publish_t m = { .topic = "big", .topic_len = 3, .payload = payload,
		.payload_len = sizeof payload, .qos = 1, .packet_id = 5 };

	fx_init(64, 16);
	fx_connect(0, 0, false);
	fx.log[0] = 0;
	CHECK_INT(pub("t", "123456789", 0, NULL), MQTT_OK); /* 14 of 16 bytes */
	feed(B(0x32, 0x05, 0x00, 0x01, 'q', 0x00, 0x01));
	EXPECT_LOG(""); /* stalled */
	drain();
	EXPECT_LOG("msg q q1 r0 d0 id1 [];");
	check_mem(fx.out + 14, fx.out_len - 14, B(0x40, 0x02, 0x00, 0x01));
	fx.out_len = 0;
	/* the same for an oversized one: its last byte waits, the rx buffer
	 * fills behind it and the reader is told to stop */
	CHECK_INT(pub("t", "123456789", 0, NULL), MQTT_OK);
	CHECK_INT(mqtt_ser_publish(stream, sizeof stream, &m, &len), MQTT_OK);
	CHECK_INT(len, 109);
	memset(payload, 'N', 59);
	m = (mqtt_publish_t){ .topic = "n", .topic_len = 1, .payload = payload, .payload_len = 59 };
	CHECK_INT(mqtt_ser_publish(stream + len, sizeof stream - len, &m, &tail), MQTT_OK);
	CHECK_INT(tail, 64); /* exactly the rx buffer */
	len += tail;
	got = mqtt_feed(&fx.s, stream, len);
	CHECK(got < len);
	EXPECT_LOG("");
	drain();
	EXPECT_LOG("oversized q1 id5 size109;");
	check_mem(fx.out + 14, fx.out_len - 14, B(0x40, 0x02, 0x00, 0x05));
	fx.out_len = 0;
	CHECK_INT(mqtt_feed(&fx.s, stream + got, len - got), len - got);
	snprintf(want, sizeof want, "msg n q0 r0 d0 id0 [%.59s];", (const char *)payload);
	EXPECT_LOG(want);
	EXPECT_NO_OUT();
}

static void mqtt_session_protocol_errors(void)
{
	static const struct { const char *log; uint8_t pkt[8]; size_t n; } t[] = {
		{ "error protocol violation by peer;", { 0x30, 0x03, 0x00, 0x01, 'a' }, 5 },
		{ "error bad QoS;", { 0x36, 0x03, 0x00, 0x01, 'a' }, 5 },
		{ "error bad packet type;", { 0xf0, 0x00 }, 2 },
		{ "error malformed packet;", { 0x20, 0x03, 0, 0, 0 }, 5 },
	};
	mqtt_connect_t c = { .client_id = "t", .client_id_len = 1 };
	/* before CONNACK */
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		fx_init(256, 256);
		CHECK_INT(mqtt_connect(&fx.s, &c, 0), MQTT_OK);
		feed(t[i].pkt, t[i].n);
		EXPECT_LOG(t[i].log);
		CHECK_INT(mqtt_state(&fx.s), MQTT_ST_CLOSED);
		feed(B(0x20, 0x02, 0x00, 0x00)); /* ignored once closed */
		EXPECT_LOG("");
		/* reset-able */
		fx.out_len = 0;
		fx_connect(0, 0, false);
		EXPECT_LOG("connack rc=0 sp=0;");
	}
	/* an error with the rx buffer full: later bytes are still all taken */
	static const uint8_t zeros[40];
	fx_init(16, 256);
	fx_connect(0, 0, false);
	fx.log[0] = 0;
	feed(zeros, 16);
	EXPECT_LOG("error bad packet type;");
	feed(zeros, sizeof zeros);
	EXPECT_LOG("");
	/* after CONNACK: packets only a client sends, a second CONNACK */
	static const uint8_t after[][4] = { { 0x20, 0x02, 0x00, 0x00 }, { 0xc0, 0x00 },
		{ 0xe0, 0x00 }, { 0x82, 0x02, 0x00, 0x01 } };
	for (size_t i = 0; i < 4; i++) {
		fx_init(256, 256);
		fx_connect(0, 0, false);
		fx.log[0] = 0;
		mqtt_feed(&fx.s, after[i], after[i][1] + 2u);
		CHECK(strncmp(fx.log, "error ", 6) == 0);
		CHECK_INT(mqtt_state(&fx.s), MQTT_ST_CLOSED);
	}
}

static void mqtt_session_disconnect(void)
{
	fx_init(256, 256);
	CHECK_INT(mqtt_disconnect(&fx.s), MQTT_E_STATE);
	fx_connect(5, 0, false);
	CHECK_INT(pub("status/x", "offline", 0, NULL), MQTT_OK);
	CHECK_INT(mqtt_disconnect(&fx.s), MQTT_OK);
	CHECK_INT(mqtt_state(&fx.s), MQTT_ST_CLOSING);
	CHECK_INT(mqtt_disconnect(&fx.s), MQTT_E_STATE);
	drain();
	check_mem(fx.out + fx.out_len - 2, 2, B(0xe0, 0x00));
	CHECK_INT(mqtt_state(&fx.s), MQTT_ST_CLOSED);
	CHECK_INT(mqtt_last_error(&fx.s), MQTT_OK);
	CHECK_INT(mqtt_next_deadline(&fx.s), MQTT_NO_DEADLINE);
}

/* The callback may publish: a reply goes out after the triggering ack. */
static void mqtt_session_publish_from_callback(void)
{
	fx_init(256, 256);
	fx_connect(0, 0, false);
	fx.reply_on_msg = 1;
	feed(B(0x32, 0x06, 0x00, 0x01, 'q', 0x00, 0x07, 'X'));
	CHECK_INT(fx.reply_st, MQTT_OK);
	EXPECT_OUT(0x40, 0x02, 0x00, 0x07, 0x32, 0x08, 0x00, 0x03, 'r', 's', 'p', 0x00, 0x01, 'X');
}

/* Two sessions in one process do not share anything. */
static void mqtt_session_independent(void)
{
	static uint8_t rx2[64], tx2[64];
	mqtt_session_t s2;
	mqtt_config_t c2 = { .rx_buf = rx2, .rx_len = sizeof rx2, .tx_buf = tx2, .tx_len = sizeof tx2 };
	mqtt_connect_t cc = { .client_id = "u", .client_id_len = 1, .clean_session = true };
	size_t len;
	fx_init(256, 256);
	CHECK_INT(mqtt_init(&s2, &c2), MQTT_OK);
	CHECK_INT(mqtt_connect(&s2, &cc, 0), MQTT_OK);
	fx_connect(0, 0, false);
	mqtt_send_buf(&s2, &len);
	CHECK_INT(len, 15);
	CHECK_INT(mqtt_state(&s2), MQTT_ST_CONNECTING);
	/* without slots, QoS 1 is impossible */
	mqtt_publish_t m = { .topic = "a", .topic_len = 1, .qos = 1 };
	CHECK_INT(mqtt_publish(&s2, &m, NULL), MQTT_E_TOO_LARGE);
}

UNIT_SUITE(mqtt_session,
	UNIT_CASE(mqtt_session_init_rejects), UNIT_CASE(mqtt_session_connect),
	UNIT_CASE(mqtt_session_connect_full_options), UNIT_CASE(mqtt_session_refused),
	UNIT_CASE(mqtt_session_qos0), UNIT_CASE(mqtt_session_qos1),
	UNIT_CASE(mqtt_session_qos2_out), UNIT_CASE(mqtt_session_qos2_in),
	UNIT_CASE(mqtt_session_qos2_in_reconnect), UNIT_CASE(mqtt_session_window_full),
	UNIT_CASE(mqtt_session_store_ring), UNIT_CASE(mqtt_session_store_too_large),
	UNIT_CASE(mqtt_session_window_model),
	UNIT_CASE(mqtt_session_packet_ids), UNIT_CASE(mqtt_session_subscribe),
	UNIT_CASE(mqtt_session_partial_writes), UNIT_CASE(mqtt_session_split_reads),
	UNIT_CASE(mqtt_session_recv_buf), UNIT_CASE(mqtt_session_reconnect_resend),
	UNIT_CASE(mqtt_session_resend_small_tx), UNIT_CASE(mqtt_session_keepalive),
	UNIT_CASE(mqtt_session_connack_timeout), UNIT_CASE(mqtt_session_reset_clears),
	UNIT_CASE(mqtt_session_oversized), UNIT_CASE(mqtt_session_backpressure),
	UNIT_CASE(mqtt_session_protocol_errors), UNIT_CASE(mqtt_session_disconnect),
	UNIT_CASE(mqtt_session_publish_from_callback), UNIT_CASE(mqtt_session_independent))
