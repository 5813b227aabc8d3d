/*
 * dbus_bench -- sequential method calls on one connection: our client
 * (src/bus.c, bus_call_wait) beside sd-bus (libsystemd, sd_bus_call_method)
 * in one program, against the same bus.
 *
 *   dbus_bench ADDRESS N ROUNDS DEST PATH IFACE MEMBER
 *
 * Each client opens one connection (outside the timing), makes one warm-up
 * call, then N calls back to back, each waiting for its reply and reading
 * the reply's first string argument when there is one.  ROUNDS rounds,
 * alternating ours / sd-bus; the best round of each counts (the other
 * processes on the bus -- python-dbusmock, dbus-daemon -- are shared, so
 * the best round is the least disturbed one).  Prints "key value" lines:
 * ours_calls_s, sdbus_calls_s, the per-call microseconds, and the client's
 * own CPU time (user+sys, getrusage) per call, lowest round of each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <systemd/sd-bus.h>

#include "platform/clock.h"
#include "platform/log.h"
#include "proto/dbus.h"
#include "src/bus.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* this process's CPU time (user+sys), seconds */
static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
		(double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double g_cpu; /* CPU seconds of the last round's timed calls */

static const char *g_dest, *g_path, *g_iface, *g_member;

/* ---------------------------------------------------------------- ours */

static uint8_t g_buf[1 << 16];

static int ours_call(bus_t *b, size_t *sum)
{
	char err[256];
	dbus_msg_t m;
	if (bus_call_wait(b, g_dest, g_path, g_iface, g_member, NULL, 0, NULL, 25000,
		g_buf, sizeof g_buf, &m, err, sizeof err) != 0) {
		fprintf(stderr, "ours: %s\n", err);
		return -1;
	}
	if (m.type != DBUS_METHOD_RETURN) {
		fprintf(stderr, "ours: error reply %s\n", m.error_name != NULL ? m.error_name : "?");
		return -1;
	}
	if (m.signature[0] == 's') {
		dbus_iter_t it;
		dbus_value_t v;
		dbus_iter_init(&it, &m);
		if (dbus_iter_get(&it, &v) != DBUS_OK)
			return -1;
		*sum += v.len;
	}
	return 0;
}

static double ours_round(const char *address, int n, size_t *sum)
{
	char err[256];
	bus_t *b = bus_open(address, clock_mono_ms(), err, sizeof err);
	double t0, t1;
	if (b == NULL) {
		fprintf(stderr, "ours: %s\n", err);
		return -1;
	}
	if (ours_call(b, sum) != 0) { /* connects, SASL, Hello, first call */
		bus_close(b);
		return -1;
	}
	g_cpu = cpu_s();
	t0 = now_s();
	for (int i = 0; i < n; i++)
		if (ours_call(b, sum) != 0) {
			bus_close(b);
			return -1;
		}
	t1 = now_s();
	g_cpu = cpu_s() - g_cpu;
	bus_close(b);
	return t1 - t0;
}

/* ---------------------------------------------------------------- sd-bus */

static int sd_call(sd_bus *bus, size_t *sum)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	int r = sd_bus_call_method(bus, g_dest, g_path, g_iface, g_member, &e, &reply, "");
	if (r < 0) {
		fprintf(stderr, "sd-bus: %s: %s\n", e.name != NULL ? e.name : "", e.message != NULL ?
			e.message : strerror(-r));
		sd_bus_error_free(&e);
		return -1;
	}
	{
		const char *sig = sd_bus_message_get_signature(reply, 1);
		if (sig != NULL && sig[0] == 's') {
			const char *s = NULL;
			if (sd_bus_message_read(reply, "s", &s) < 0 || s == NULL) {
				sd_bus_message_unref(reply);
				return -1;
			}
			*sum += strlen(s);
		}
	}
	sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
	return 0;
}

static double sd_round(const char *address, int n, size_t *sum)
{
	sd_bus *bus = NULL;
	double t0, t1;
	int r;
	if ((r = sd_bus_new(&bus)) < 0 || (r = sd_bus_set_address(bus, address)) < 0 ||
	    (r = sd_bus_set_bus_client(bus, 1)) < 0 || (r = sd_bus_start(bus)) < 0) {
		fprintf(stderr, "sd-bus: connect: %s\n", strerror(-r));
		sd_bus_unref(bus);
		return -1;
	}
	if (sd_call(bus, sum) != 0) {
		sd_bus_flush_close_unref(bus);
		return -1;
	}
	g_cpu = cpu_s();
	t0 = now_s();
	for (int i = 0; i < n; i++)
		if (sd_call(bus, sum) != 0) {
			sd_bus_flush_close_unref(bus);
			return -1;
		}
	t1 = now_s();
	g_cpu = cpu_s() - g_cpu;
	sd_bus_flush_close_unref(bus);
	return t1 - t0;
}

int main(int argc, char **argv)
{
	const char *address;
	int n, rounds;
	double best_ours = 1e30, best_sd = 1e30, cpu_ours = 1e30, cpu_sd = 1e30;
	size_t sum_ours = 0, sum_sd = 0;

	if (argc != 8) {
		fprintf(stderr, "usage: dbus_bench ADDRESS N ROUNDS DEST PATH IFACE MEMBER\n");
		return 2;
	}
	address = argv[1];
	n = atoi(argv[2]);
	rounds = atoi(argv[3]);
	g_dest = argv[4];
	g_path = argv[5];
	g_iface = argv[6];
	g_member = argv[7];
	log_set_level(LOG_ERROR);

	for (int r = 0; r < rounds; r++) {
		double a = ours_round(address, n, &sum_ours), ca = g_cpu, b, cb;
		if (a < 0)
			return 1;
		b = sd_round(address, n, &sum_sd);
		cb = g_cpu;
		if (b < 0)
			return 1;
		if (ca < cpu_ours)
			cpu_ours = ca;
		if (cb < cpu_sd)
			cpu_sd = cb;
		fprintf(stderr, "round %d: ours %.0f calls/s, sd-bus %.0f calls/s\n", r + 1, n / a, n / b);
		if (a < best_ours)
			best_ours = a;
		if (b < best_sd)
			best_sd = b;
	}
	if (sum_ours != sum_sd) {
		fprintf(stderr, "replies differ: ours read %zu string bytes, sd-bus %zu\n", sum_ours, sum_sd);
		return 1;
	}
	printf("ours_calls_s %.0f\n", n / best_ours);
	printf("sdbus_calls_s %.0f\n", n / best_sd);
	printf("ours_us_per_call %.1f\n", best_ours * 1e6 / n);
	printf("sdbus_us_per_call %.1f\n", best_sd * 1e6 / n);
	printf("ours_cpu_us_per_call %.2f\n", cpu_ours * 1e6 / n);
	printf("sdbus_cpu_us_per_call %.2f\n", cpu_sd * 1e6 / n);
	return 0;
}
