/*
 * dbus_bench -- sequential method calls on one connection: our client
 * (src/bus.c, bus_call_wait) beside sd-bus (libsystemd, sd_bus_call_method)
 * in one program, against the same bus.
 *
 *   dbus_bench ADDRESS N ROUNDS DEST PATH IFACE MEMBER
 *
 * A round runs both clients, one after the other; the order alternates
 * from round to round (ours first in odd rounds, sd-bus first in even
 * ones), so neither always gets the warmer or the quieter slot.  Each
 * client, in each round, does the same thing: opens a fresh connection
 * (SASL, Hello), makes WARMUP calls, then times N calls back to back, each
 * waiting for its reply and reading the reply's first string argument when
 * there is one.  Connecting and the warm-up are outside the timing.
 *
 * Per round and client: wall time, and the process's CPU time over the
 * timed calls (CLOCK_PROCESS_CPUTIME_ID: user and system, exact, not
 * sampled).  Printed on stderr per round; on stdout "key value" lines:
 *   ours_calls_s, sdbus_calls_s           median over the rounds
 *   ours_calls_s_best, sdbus_calls_s_best the best round of each
 *   ratio_median                          median of the per-round ratios
 *                                         ours / sd-bus (both measured
 *                                         side by side)
 *   ours_us_per_call, sdbus_us_per_call   median wall time per call
 *   ours_cpu_us_per_call, sdbus_cpu_us_per_call   median CPU per call
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-bus.h>

#include "platform/clock.h"
#include "platform/log.h"
#include "proto/dbus.h"
#include "src/bus.h"

#define WARMUP 100
#define MAX_ROUNDS 64

static double now_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *g_dest, *g_path, *g_iface, *g_member;

/* one client: connect, warm up, then n timed calls; wall and CPU seconds */
struct client {
	const char *name;
	int (*round)(const char *address, int n, size_t *sum, double *wall, double *cpu);
	double wall[MAX_ROUNDS], cpu[MAX_ROUNDS];
	size_t sum;
};

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

static int ours_round(const char *address, int n, size_t *sum, double *wall, double *cpu)
{
	char err[256];
	bus_t *b = bus_open(address, clock_mono_ms(), err, sizeof err);
	size_t warm = 0;
	int i, ok = 1;

	if (b == NULL) {
		fprintf(stderr, "ours: %s\n", err);
		return -1;
	}
	for (i = 0; ok && i < WARMUP; i++)
		ok = ours_call(b, &warm) == 0;
	*cpu = now_s(CLOCK_PROCESS_CPUTIME_ID);
	*wall = now_s(CLOCK_MONOTONIC);
	for (i = 0; ok && i < n; i++)
		ok = ours_call(b, sum) == 0;
	*wall = now_s(CLOCK_MONOTONIC) - *wall;
	*cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - *cpu;
	bus_close(b);
	return ok ? 0 : -1;
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

static int sd_round(const char *address, int n, size_t *sum, double *wall, double *cpu)
{
	sd_bus *bus = NULL;
	size_t warm = 0;
	int r, i, ok = 1;

	if ((r = sd_bus_new(&bus)) < 0 || (r = sd_bus_set_address(bus, address)) < 0 ||
	    (r = sd_bus_set_bus_client(bus, 1)) < 0 || (r = sd_bus_start(bus)) < 0) {
		fprintf(stderr, "sd-bus: connect: %s\n", strerror(-r));
		sd_bus_unref(bus);
		return -1;
	}
	for (i = 0; ok && i < WARMUP; i++)
		ok = sd_call(bus, &warm) == 0;
	*cpu = now_s(CLOCK_PROCESS_CPUTIME_ID);
	*wall = now_s(CLOCK_MONOTONIC);
	for (i = 0; ok && i < n; i++)
		ok = sd_call(bus, sum) == 0;
	*wall = now_s(CLOCK_MONOTONIC) - *wall;
	*cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - *cpu;
	sd_bus_flush_close_unref(bus);
	return ok ? 0 : -1;
}

/* ---------------------------------------------------------------- main */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
	double s[MAX_ROUNDS];
	memcpy(s, v, (size_t)n * sizeof *s);
	qsort(s, (size_t)n, sizeof *s, cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static double best(const double *v, int n)
{
	double m = v[0];
	for (int i = 1; i < n; i++)
		if (v[i] < m)
			m = v[i];
	return m;
}

int main(int argc, char **argv)
{
	struct client c[2] = { { "ours", ours_round, { 0 }, { 0 }, 0 },
		{ "sd-bus", sd_round, { 0 }, { 0 }, 0 } };
	double ratio[MAX_ROUNDS];
	const char *address;
	int n, rounds;

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
	if (n <= 0 || rounds <= 0 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "dbus_bench: N > 0 and 1 <= ROUNDS <= %d\n", MAX_ROUNDS);
		return 2;
	}
	log_set_level(LOG_ERROR);

	for (int r = 0; r < rounds; r++) {
		for (int k = 0; k < 2; k++) {
			struct client *x = &c[(k + r) % 2];   /* alternate who goes first */
			if (x->round(address, n, &x->sum, &x->wall[r], &x->cpu[r]) != 0)
				return 1;
		}
		ratio[r] = c[1].wall[r] / c[0].wall[r];
		fprintf(stderr, "round %d (%s first): ours %.0f calls/s %.2f us CPU/call, "
			"sd-bus %.0f calls/s %.2f us CPU/call\n", r + 1, c[r % 2].name,
			n / c[0].wall[r], c[0].cpu[r] * 1e6 / n, n / c[1].wall[r], c[1].cpu[r] * 1e6 / n);
	}
	if (c[0].sum != c[1].sum) {
		fprintf(stderr, "replies differ: ours read %zu string bytes, sd-bus %zu\n",
			c[0].sum, c[1].sum);
		return 1;
	}
	printf("ours_calls_s %.0f\n", n / median(c[0].wall, rounds));
	printf("sdbus_calls_s %.0f\n", n / median(c[1].wall, rounds));
	printf("ours_calls_s_best %.0f\n", n / best(c[0].wall, rounds));
	printf("sdbus_calls_s_best %.0f\n", n / best(c[1].wall, rounds));
	printf("ratio_median %.3f\n", median(ratio, rounds));
	printf("ours_us_per_call %.1f\n", median(c[0].wall, rounds) * 1e6 / n);
	printf("sdbus_us_per_call %.1f\n", median(c[1].wall, rounds) * 1e6 / n);
	printf("ours_cpu_us_per_call %.2f\n", median(c[0].cpu, rounds) * 1e6 / n);
	printf("sdbus_cpu_us_per_call %.2f\n", median(c[1].cpu, rounds) * 1e6 / n);
	return 0;
}
