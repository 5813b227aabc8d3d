/*
 * mqtt_rx_dmqtt -- the receive path of `dmqtt sub`, for instruction counts
 * (test/bench/mqtt_rx.sh runs it under callgrind; mqtt_rx_mosq.c is the
 * libmosquitto side, fed the same bytes).
 *
 *   mqtt_rx_dmqtt PORT N QOS
 *
 * Connects to 127.0.0.1:PORT (the replaying broker of mqtt_stream.py),
 * subscribes to bench/rx at QOS and waits for the SUBACK, then rx_loop()
 * runs until N PUBLISH packets have been delivered, and the client
 * disconnects.  The client is set up as cmd_sub.c sets it up (src/mqttc.c
 * over proto/mqtt.c, the plain TCP transport, the same buffer sizes), and
 * rx_loop() is one round of connopt_poll_once() at a time: mqttc_pollfd,
 * mqttc_timeout_ms, net_poll, clock_mono_ms, mqttc_process.  The message
 * callback only counts (no printing), as the libmosquitto side's does.
 *
 * callgrind counts inside rx_loop() only (--toggle-collect=rx_loop); the
 * script takes the difference of a 2N and an N run, so set-up, the first
 * call of every function and whatever arrived before the loop cancel.
 * Prints "received N bytes B".  Exit 0, or 1 when the connection failed.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/clock.h"
#include "platform/net.h"
#include "src/mqttc.h"

struct rx {
	uint16_t port;
	unsigned long received, bytes;
	bool up, subscribed, down;
};

static int resolve(void *user, net_addr_t *out, int max, char *err, size_t errcap)
{
	struct rx *r = user;
	(void)max;
	if (net_addr_literal("127.0.0.1", r->port, out) != 0) {
		snprintf(err, errcap, "bad port");
		return 0;
	}
	return 1;
}

static void on_up(mqttc_t *c, void *user, bool session_present)
{
	struct rx *r = user;
	(void)c;
	(void)session_present;
	r->up = true;
}

static void on_down(mqttc_t *c, void *user, mqttc_reason_t why, const char *detail)
{
	struct rx *r = user;
	(void)why;
	if (!r->subscribed)
		fprintf(stderr, "mqtt_rx_dmqtt: %s\n", detail);
	r->down = true;
	mqttc_stop(c);
}

static void on_message(mqttc_t *c, void *user, const mqtt_publish_t *m)
{
	struct rx *r = user;
	(void)c;
	r->received++;
	r->bytes += m->payload_len;
}

static void on_suback(mqttc_t *c, void *user, const uint8_t *codes, size_t n)
{
	struct rx *r = user;
	(void)c;
	(void)codes;
	(void)n;
	r->subscribed = true;
}

/* One round of connopt_poll_once() without the signal pipe and stdin. */
static void poll_once(mqttc_t *c)
{
	struct pollfd p;
	int has, t;
	uint64_t now = clock_mono_ms();

	has = mqttc_pollfd(c, &p);
	t = mqttc_timeout_ms(c, now);
	net_poll(&p, has ? 1 : 0, t);
	now = clock_mono_ms();
	mqttc_process(c, has ? &p : NULL, now);
}

/* The measured part: everything the client does until n messages are in. */
__attribute__((noinline)) static void rx_loop(mqttc_t *c, struct rx *r, unsigned long n)
{
	while (r->received < n && !r->down)
		poll_once(c);
}

int main(int argc, char **argv)
{
	struct rx r;
	mqttc_config_t cfg;
	mqttc_hooks_t hooks;
	mqttc_t *c;
	unsigned long n;
	int qos;

	if (argc != 4) {
		fprintf(stderr, "usage: mqtt_rx_dmqtt PORT N QOS\n");
		return 2;
	}
	memset(&r, 0, sizeof r);
	r.port = (uint16_t)strtoul(argv[1], NULL, 10);
	n = strtoul(argv[2], NULL, 10);
	qos = (int)strtol(argv[3], NULL, 10);
	if (r.port == 0 || n == 0 || qos < 0 || qos > 1) {
		fprintf(stderr, "mqtt_rx_dmqtt: bad PORT, N or QOS (0 or 1)\n");
		return 2;
	}

	/* as cmd_sub: connopt_finish's connection, then a small transmit side */
	memset(&cfg, 0, sizeof cfg);
	cfg.connect.client_id = "dmqtt-rx-bench";
	cfg.connect.client_id_len = strlen(cfg.connect.client_id);
	cfg.connect.clean_session = true;
	cfg.connect.keepalive_s = 60;
	cfg.connect_timeout_ms = 10000;
	cfg.max_publish = 1024;
	cfg.tx_max = 16384;
	cfg.inflight = 1;
	memset(&hooks, 0, sizeof hooks);
	hooks.resolve = resolve;
	hooks.net_user = &r;
	hooks.on_up = on_up;
	hooks.on_down = on_down;
	hooks.on_message = on_message;
	hooks.on_suback = on_suback;
	hooks.user = &r;
	c = mqttc_new(&cfg, &hooks);
	if (c == NULL) {
		fprintf(stderr, "mqtt_rx_dmqtt: out of memory\n");
		return 1;
	}
	mqttc_subscribe(c, "bench/rx", (uint8_t)qos);
	mqttc_start(c, clock_mono_ms());
	while (!r.subscribed && !r.down)
		poll_once(c);
	rx_loop(c, &r, n);
	mqttc_stop(c);
	while (mqttc_state(c) != MQTTC_IDLE)
		poll_once(c);
	mqttc_free(c);
	printf("received %lu bytes %lu\n", r.received, r.bytes);
	return r.received == n ? 0 : 1;
}
