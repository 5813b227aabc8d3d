/* cmd_sub.c -- `dmqtt sub`: subscribe and print messages, with
 * mosquitto_sub's flags. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "platform/clock.h"
#include "platform/log.h"
#include "platform/proc.h"
#include "src/cli.h"
#include "src/commands.h"
#include "src/connopt.h"
#include "platform/fmt.h"

enum { O_TOPIC = 1, O_QOS, O_COUNT, O_WAIT, O_VERBOSE, O_NOEOL, O_HELP };

static const struct cli_opt sub_opts[] = {
	{ "topic", 't', CLI_ARG, O_TOPIC }, { "qos", 'q', CLI_ARG, O_QOS },
	{ "count", 'C', CLI_ARG, O_COUNT }, { "timeout", 'W', CLI_ARG, O_WAIT },
	{ "verbose", 'v', CLI_NOARG, O_VERBOSE }, { "no-eol", 'N', CLI_NOARG, O_NOEOL },
	{ "help", 0, CLI_NOARG, O_HELP },
};

/*
 * Reading pace.  After a round that delivered messages the loop waits this
 * long before it reads again.  A reader that drains the socket at once
 * makes the kernel acknowledge at once, and a broker with Nagle on
 * (mosquitto's default) then sends each message or two in its own segment:
 * 72,000 segments, wake-ups and ACKs for 100,000 64-byte messages.  Waiting
 * lets the broker's writes coalesce: ~1,300 segments, a tenth of the CPU
 * here or less, and less on the broker's side too.  A message is delayed
 * by at most the pause, and only inside a burst: when the stream is idle
 * the next one wakes the loop at once (docs/mqtt.md).
 */
#define SUB_PACE_NS 200000L

struct sub {
	connopt_t co;
	mqttc_t *c;
	const char *topics[MQTTC_MAX_SUBS];
	size_t ntopics;
	long qos, count, wait_s;
	bool verbose, noeol;
	unsigned long received;
	bool ever_up, failed, done;
	int exit_code;
};

static const char sub_usage[] =
	"usage: dmqtt sub -t FILTER [-t FILTER]... [-q QOS] [-C N] [-W SEC] [-v] [connection]\n"
	"  -t, --topic FILTER       topic filter to subscribe to (up to 8)\n"
	"  -q, --qos 0|1|2          requested quality of service (default 0)\n"
	"  -C, --count N            exit after N messages\n"
	"  -W, --timeout SEC        exit with status 27 after SEC seconds\n"
	"  -v, --verbose            print 'topic payload'\n"
	"  -N, --no-eol             no newline after each payload\n";

static int on_opt(void *ctx, int id, const char *arg)
{
	struct sub *s = ctx;
	if (id >= CONNOPT_FIRST_ID)
		return connopt_apply(&s->co, "sub", id, arg);
	switch (id) {
	case O_TOPIC:
		if (s->ntopics >= MQTTC_MAX_SUBS)
			return cli_usage_error("sub", "at most %d -t filters", MQTTC_MAX_SUBS);
		if (mqtt_check_filter(arg, strlen(arg)) != MQTT_OK)
			return cli_usage_error("sub", "-t: not a valid topic filter");
		s->topics[s->ntopics++] = arg;
		return 0;
	case O_QOS:
		if (cli_long(arg, 0, 2, &s->qos) != 0)
			return cli_usage_error("sub", "-q needs 0, 1 or 2");
		return 0;
	case O_COUNT:
		if (cli_long(arg, 1, 2147483647L, &s->count) != 0)
			return cli_usage_error("sub", "-C needs a count of at least 1");
		return 0;
	case O_WAIT:
		if (cli_long(arg, 1, 86400L * 365, &s->wait_s) != 0)
			return cli_usage_error("sub", "-W needs seconds (at least 1)");
		return 0;
	case O_VERBOSE: s->verbose = true; return 0;
	case O_NOEOL: s->noeol = true; return 0;
	case O_HELP:
		fputs(sub_usage, stdout);
		fputs(connopt_usage, stdout);
		return -1;
	}
	return 0;
}

static void on_up(mqttc_t *c, void *user, bool session_present)
{
	struct sub *s = user;
	(void)c;
	if (s->ever_up)
		log_info("sub", "reconnected to the broker (session %s)",
			session_present ? "kept" : "new: subscribing again");
	s->ever_up = true;
}

static void on_down(mqttc_t *c, void *user, mqttc_reason_t why, const char *detail)
{
	struct sub *s = user;
	if (!s->ever_up) {
		fmt_fprintf(stderr, "dmqtt sub: %s\n", detail);
		s->failed = true;
		s->exit_code = connopt_failure_code(&s->co, why);
		mqttc_stop(c);
		return;
	}
	if (!s->done)
		log_warn("sub", "connection lost: %s; reconnecting", detail);
}

static void on_message(mqttc_t *c, void *user, const mqtt_publish_t *m)
{
	struct sub *s = user;
	if (s->done)
		return;
	if (s->verbose) {
		fwrite(m->topic, 1, m->topic_len, stdout);
		fputc(' ', stdout);
	}
	fwrite(m->payload, 1, m->payload_len, stdout);
	if (!s->noeol)
		fputc('\n', stdout);
	s->received++;
	if (s->count > 0 && s->received >= (unsigned long)s->count) {
		s->done = true;
		mqttc_stop(c);
	}
}

static void on_suback(mqttc_t *c, void *user, const uint8_t *codes, size_t n)
{
	struct sub *s = user;
	for (size_t i = 0; i < n; i++)
		if (codes[i] == MQTT_SUBACK_FAILURE) {
			fmt_fprintf(stderr, "dmqtt sub: the broker refused a subscription (SUBACK 0x80)\n");
			s->failed = true;
			s->exit_code = EXIT_NOPERM;
			mqttc_stop(c);
		}
}

int cmd_sub(int argc, char **argv)
{
	struct sub s;
	struct cli_opt opts[sizeof sub_opts / sizeof sub_opts[0] + 32];
	mqttc_config_t cfg;
	mqttc_hooks_t hooks;
	char *pos[1];
	int npos, r, sigfd;
	size_t nopts = 0;
	uint64_t deadline = 0;
	/* full buffering (flushed before every wait): ~one write per 16 KiB read */
	static char outbuf[16384];

	memset(&s, 0, sizeof s);
	connopt_init(&s.co, "sub");
	for (size_t i = 0; i < sizeof sub_opts / sizeof sub_opts[0]; i++)
		opts[nopts++] = sub_opts[i];
	for (size_t i = 0; i < connopt_count; i++)
		opts[nopts++] = connopt_table[i];
	r = cli_parse(argc, argv, opts, nopts, on_opt, &s, pos, 0, &npos);
	if (r != 0)
		return r < 0 ? EXIT_OK : r;
	if (s.ntopics == 0)
		return cli_usage_error("sub", "missing -t FILTER");
	memset(&cfg, 0, sizeof cfg);
	if ((r = connopt_finish(&s.co, "sub", &cfg, &hooks)) != 0)
		return r;
	/* a subscriber publishes nothing: small transmit side */
	cfg.max_publish = 1024;
	cfg.tx_max = 16384;
	cfg.inflight = 1;
	hooks.on_up = on_up;
	hooks.on_down = on_down;
	hooks.on_message = on_message;
	hooks.on_suback = on_suback;
	hooks.user = &s;
	s.c = mqttc_new(&cfg, &hooks);
	if (s.c == NULL) {
		fmt_fprintf(stderr, "dmqtt sub: out of memory\n");
		return EXIT_UNAVAILABLE;
	}
	for (size_t i = 0; i < s.ntopics; i++)
		mqttc_subscribe(s.c, s.topics[i], (uint8_t)s.qos);
	setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
	sigfd = proc_signals_init();
	if (s.wait_s > 0)
		deadline = clock_mono_ms() + (uint64_t)s.wait_s * 1000u;
	mqttc_start(s.c, clock_mono_ms());
	while (mqttc_state(s.c) != MQTTC_IDLE) {
		short rev;
		int sig = 0, cap = -1;
		unsigned long before = s.received;
		if (deadline != 0) {
			uint64_t now = clock_mono_ms();
			if (now >= deadline && !s.done && !s.failed) {
				fflush(stdout);
				fmt_fprintf(stderr, "dmqtt sub: timed out after %ld s\n", s.wait_s);
				s.failed = true;
				s.exit_code = EXIT_WAIT;
				s.done = true;
				mqttc_stop(s.c);
				continue;
			}
			cap = now >= deadline ? 0 : (int)(deadline - now);
		}
		connopt_poll_once(s.c, -1, 0, sigfd, cap, &rev, &sig);
		if ((sig == SIGINT || sig == SIGTERM) && !s.done) {
			s.done = true;
			mqttc_stop(s.c);
		}
		if (s.received != before && !s.done) {
			/* a signal cuts it short; the next poll sees the signal */
			struct timespec pace = { 0, SUB_PACE_NS };
			nanosleep(&pace, NULL);
		}
	}
	fflush(stdout);
	mqttc_free(s.c);
	connopt_free(&s.co);
	return s.failed ? s.exit_code : EXIT_OK;
}
