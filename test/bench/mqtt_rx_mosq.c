/*
 * mqtt_rx_mosq -- libmosquitto's receive path, the reference beside
 * mqtt_rx_dmqtt.c, for instruction counts (test/bench/mqtt_rx.sh).
 *
 *   mqtt_rx_mosq PORT N QOS
 *
 * Public API only: mosquitto_connect to 127.0.0.1:PORT (the replaying
 * broker of mqtt_stream.py), mosquitto_subscribe to bench/rx at QOS,
 * mosquitto_loop until the SUBACK; then rx_loop() calls mosquitto_loop
 * until the on_message callback has counted N messages; then
 * mosquitto_disconnect.  No network thread (mosquitto_loop_start is not
 * used), so every instruction of the receive path runs in rx_loop(), which
 * is what callgrind counts (--toggle-collect=rx_loop).  The callback only
 * counts, as mqtt_rx_dmqtt's does.
 *
 * Prints "received N bytes B".  Exit 0, or 1 when the connection failed.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>

struct rx {
	unsigned long received, bytes;
	bool up, subscribed, down;
};

static void on_connect(struct mosquitto *m, void *user, int rc)
{
	struct rx *r = user;
	(void)m;
	if (rc == 0)
		r->up = true;
	else
		r->down = true;
}

static void on_subscribe(struct mosquitto *m, void *user, int mid, int n, const int *granted)
{
	struct rx *r = user;
	(void)m;
	(void)mid;
	(void)n;
	(void)granted;
	r->subscribed = true;
}

static void on_message(struct mosquitto *m, void *user, const struct mosquitto_message *msg)
{
	struct rx *r = user;
	(void)m;
	r->received++;
	r->bytes += (unsigned long)msg->payloadlen;
}

static void on_disconnect(struct mosquitto *m, void *user, int rc)
{
	struct rx *r = user;
	(void)m;
	(void)rc;
	r->down = true;
}

/* The measured part: everything the client does until n messages are in. */
__attribute__((noinline)) static void rx_loop(struct mosquitto *m, struct rx *r, unsigned long n)
{
	while (r->received < n && !r->down)
		if (mosquitto_loop(m, 1000, 1) != MOSQ_ERR_SUCCESS)
			break;
}

int main(int argc, char **argv)
{
	struct rx r;
	struct mosquitto *m;
	unsigned long n;
	int port, qos, rc;

	if (argc != 4) {
		fprintf(stderr, "usage: mqtt_rx_mosq PORT N QOS\n");
		return 2;
	}
	memset(&r, 0, sizeof r);
	port = (int)strtol(argv[1], NULL, 10);
	n = strtoul(argv[2], NULL, 10);
	qos = (int)strtol(argv[3], NULL, 10);
	if (port <= 0 || port > 65535 || n == 0 || qos < 0 || qos > 1) {
		fprintf(stderr, "mqtt_rx_mosq: bad PORT, N or QOS (0 or 1)\n");
		return 2;
	}

	mosquitto_lib_init();
	m = mosquitto_new("mosq-rx-bench", true, &r);
	if (m == NULL) {
		fprintf(stderr, "mqtt_rx_mosq: mosquitto_new failed\n");
		return 1;
	}
	mosquitto_connect_callback_set(m, on_connect);
	mosquitto_subscribe_callback_set(m, on_subscribe);
	mosquitto_message_callback_set(m, on_message);
	mosquitto_disconnect_callback_set(m, on_disconnect);
	rc = mosquitto_connect(m, "127.0.0.1", port, 60);
	if (rc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "mqtt_rx_mosq: connect: %s\n", mosquitto_strerror(rc));
		return 1;
	}
	while (!r.up && !r.down)
		if (mosquitto_loop(m, 1000, 1) != MOSQ_ERR_SUCCESS)
			r.down = true;
	if (r.up)
		mosquitto_subscribe(m, NULL, "bench/rx", qos);
	while (r.up && !r.subscribed && !r.down)
		if (mosquitto_loop(m, 1000, 1) != MOSQ_ERR_SUCCESS)
			r.down = true;
	if (r.subscribed)
		rx_loop(m, &r, n);
	mosquitto_disconnect(m);
	while (!r.down)
		if (mosquitto_loop(m, 1000, 1) != MOSQ_ERR_SUCCESS)
			break;
	mosquitto_destroy(m);
	mosquitto_lib_cleanup();
	printf("received %lu bytes %lu\n", r.received, r.bytes);
	return r.received == n ? 0 : 1;
}
