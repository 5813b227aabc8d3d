/*
 * mqtt_driver.c -- differential-test driver for proto/mqtt_codec.
 *
 * Each argument is a file holding a byte stream as a broker or client would
 * send it.  For each file one line is printed:
 *
 *     PATH <TAB> VERDICT <TAB> PACKETS
 *
 * VERDICT is "accept" (the stream is a whole number of valid packets),
 * "incomplete" (it ends inside a packet; everything before was valid) or
 * "reject:<STATUS>" (mqtt_frame or mqtt_parse refused the packet after the
 * listed ones).  PACKETS is the space-separated canonical summary of every
 * packet parsed before the verdict ("-" when none):
 *
 *     TYPE:FLAGS:REMAINING[:FIELDS]
 *
 * with FIELDS per type (strings as lowercase hex, "-" when absent):
 *     CONNECT      c=CLIENTID,ka=KEEPALIVE,cl=CLEAN,u=USER,p=PASSLEN,w=TOPIC/QOS/RETAIN/PAYLEN
 *     CONNACK      sp=SESSION_PRESENT,rc=CODE
 *     PUBLISH      t=TOPIC,q=QOS,pl=PAYLOAD_LEN,id=PACKET_ID (id=- at QoS 0)
 *     acks         id=PACKET_ID   (PUBACK PUBREC PUBREL PUBCOMP UNSUBACK)
 *     SUBSCRIBE    id=PACKET_ID,f=FILTER/QOS+FILTER/QOS...
 *     UNSUBSCRIBE  id=PACKET_ID,f=FILTER+FILTER...
 *     SUBACK       id=PACKET_ID,g=CODE+CODE...
 * test/diff/mqtt_ref.mjs prints the same format from mqtt-packet's parser.
 *
 * Build: cc -std=c11 -O1 -I. -D_POSIX_C_SOURCE=200809L \
 *            test/diff/mqtt_driver.c proto/mqtt_codec.c proto/utf8.c -o mqtt_driver
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/mqtt_codec.h"

static const char *type_name(unsigned t)
{
	static const char *const names[16] = {
		"RESERVED0", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC",
		"PUBREL", "PUBCOMP", "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE",
		"UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "RESERVED15"
	};
	return names[t & 15];
}

static const char *status_name(mqtt_status_t st)
{
	switch (st) {
	case MQTT_OK: return "OK";
	case MQTT_NEED_MORE: return "NEED_MORE";
	case MQTT_E_NOSPACE: return "E_NOSPACE";
	case MQTT_E_ARG: return "E_ARG";
	case MQTT_E_MALFORMED: return "E_MALFORMED";
	case MQTT_E_TYPE: return "E_TYPE";
	case MQTT_E_FLAGS: return "E_FLAGS";
	case MQTT_E_QOS: return "E_QOS";
	case MQTT_E_PACKET_ID: return "E_PACKET_ID";
	case MQTT_E_UTF8: return "E_UTF8";
	case MQTT_E_TOPIC: return "E_TOPIC";
	case MQTT_E_RETURN_CODE: return "E_RETURN_CODE";
	case MQTT_E_TOO_LARGE: return "E_TOO_LARGE";
	default: return "E_OTHER";
	}
}

static void hex(FILE *o, const void *p, size_t n)
{
	const unsigned char *b = p;
	if (p == NULL) {
		fputc('-', o);
		return;
	}
	for (size_t i = 0; i < n; i++)
		fprintf(o, "%02x", b[i]);
}

static void summary(FILE *o, const mqtt_frame_t *f, const mqtt_packet_t *pk)
{
	size_t off = 0;
	mqtt_sub_t s;
	int first = 1;

	fprintf(o, "%s:%u:%zu", type_name(f->type), (unsigned)f->flags, f->remaining);
	switch (pk->type) {
	case MQTT_CONNECT: {
		const mqtt_connect_t *c = &pk->u.connect;
		fprintf(o, ":c=");
		hex(o, c->client_id, c->client_id_len);
		fprintf(o, ",ka=%u,cl=%d,u=", (unsigned)c->keepalive_s, c->clean_session ? 1 : 0);
		hex(o, c->username, c->username_len);
		if (c->password != NULL)
			fprintf(o, ",p=%zu", c->password_len);
		else
			fprintf(o, ",p=-");
		fprintf(o, ",w=");
		if (c->will_topic != NULL) {
			hex(o, c->will_topic, c->will_topic_len);
			fprintf(o, "/%u/%d/%zu", (unsigned)c->will_qos, c->will_retain ? 1 : 0,
				c->will_payload_len);
		} else {
			fputc('-', o);
		}
		break;
	}
	case MQTT_CONNACK:
		fprintf(o, ":sp=%d,rc=%u", pk->u.connack.session_present ? 1 : 0,
			(unsigned)pk->u.connack.return_code);
		break;
	case MQTT_PUBLISH: {
		const mqtt_publish_t *m = &pk->u.publish;
		fprintf(o, ":t=");
		hex(o, m->topic, m->topic_len);
		fprintf(o, ",q=%u,pl=%zu,id=", (unsigned)m->qos, m->payload_len);
		if (m->qos > 0)
			fprintf(o, "%u", (unsigned)m->packet_id);
		else
			fputc('-', o);
		break;
	}
	case MQTT_SUBSCRIBE:
	case MQTT_UNSUBSCRIBE:
		fprintf(o, ":id=%u,f=", (unsigned)pk->u.sublist.packet_id);
		while (mqtt_sublist_next(&pk->u.sublist, &off, &s)) {
			if (!first)
				fputc('+', o);
			first = 0;
			hex(o, s.filter, s.len);
			if (pk->type == MQTT_SUBSCRIBE)
				fprintf(o, "/%u", (unsigned)s.qos);
		}
		break;
	case MQTT_SUBACK:
		fprintf(o, ":id=%u,g=", (unsigned)pk->u.suback.packet_id);
		for (size_t i = 0; i < pk->u.suback.count; i++)
			fprintf(o, "%s%u", i ? "+" : "", (unsigned)pk->u.suback.codes[i]);
		break;
	case MQTT_PINGREQ:
	case MQTT_PINGRESP:
	case MQTT_DISCONNECT:
		break;
	default: /* PUBACK PUBREC PUBREL PUBCOMP UNSUBACK */
		fprintf(o, ":id=%u", (unsigned)pk->u.packet_id);
		break;
	}
}

static int one_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0, off = 0;
	int npk = 0;
	const char *verdict = "accept";
	mqtt_status_t bad = MQTT_OK;

	if (fp == NULL) {
		perror(path);
		return 1;
	}
	for (;;) {
		size_t n;
		if (len == cap) {
			unsigned char *nb;
			cap = cap ? cap * 2 : 4096;
			nb = realloc(buf, cap);
			if (nb == NULL) {
				fclose(fp);
				free(buf);
				return 1;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
		if (n == 0)
			break;
	}
	fclose(fp);

	printf("%s\t", path);
	/* the verdict comes first on the line: collect the summaries apart */
	{
		char *sbuf = NULL;
		size_t ssize = 0;
		FILE *out = open_memstream(&sbuf, &ssize);

		if (out == NULL) {
			free(buf);
			return 1;
		}
		while (off < len) {
			mqtt_frame_t f;
			mqtt_packet_t pk;
			mqtt_status_t st = mqtt_frame(buf + off, len - off, &f);

			if (st == MQTT_NEED_MORE) {
				verdict = "incomplete";
				break;
			}
			if (st == MQTT_OK)
				st = mqtt_parse(buf + off, f.total, &pk);
			if (st != MQTT_OK) {
				verdict = "reject";
				bad = st;
				break;
			}
			if (npk++)
				fputc(' ', out);
			summary(out, &f, &pk);
			off += f.total;
		}
		fclose(out);
		if (bad != MQTT_OK)
			printf("reject:%s\t", status_name(bad));
		else
			printf("%s\t", verdict);
		printf("%s\n", npk ? sbuf : "-");
		free(sbuf);
	}
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int rc = 0;
	for (int i = 1; i < argc; i++)
		rc |= one_file(argv[i]);
	return rc;
}
