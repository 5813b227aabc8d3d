/* cmd_pub.c -- `dmqtt pub`: publish one message, a file, stdin, or one
 * message per stdin line, with mosquitto_pub's flags. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "platform/clock.h"
#include "platform/file.h"
#include "platform/log.h"
#include "platform/proc.h"
#include "src/cli.h"
#include "src/commands.h"
#include "src/connopt.h"
#include "platform/fmt.h"

enum { O_TOPIC = 1, O_MSG, O_FILE, O_LINES, O_STDIN, O_NULL, O_QOS, O_RETAIN, O_HELP };

static const struct cli_opt pub_opts[] = {
	{ "topic", 't', CLI_ARG, O_TOPIC }, { "message", 'm', CLI_ARG, O_MSG },
	{ "file", 'f', CLI_ARG, O_FILE }, { "stdin-line", 'l', CLI_NOARG, O_LINES },
	{ "stdin-file", 's', CLI_NOARG, O_STDIN }, { "null-message", 'n', CLI_NOARG, O_NULL },
	{ "qos", 'q', CLI_ARG, O_QOS }, { "retain", 'r', CLI_NOARG, O_RETAIN },
	{ "help", 0, CLI_NOARG, O_HELP },
};

enum src { SRC_NONE, SRC_MSG, SRC_FILE, SRC_LINES, SRC_STDIN, SRC_NULL };

/*
 * Messages -l keeps in flight.  QoS 1: deep (see cmd_pub).  QoS 2: what a
 * broker holds for us between PUBREC and PUBREL is limited, and MQTT 3.1.1
 * cannot tell us the limit; mosquitto (max_inflight_messages, default 20)
 * answers a PUBLISH over it with PUBREC but drops the message, so 20, as
 * mosquitto_pub uses.
 */
#define PUB_WINDOW_QOS1 4096
#define PUB_WINDOW_QOS2 20

struct pub {
	connopt_t co;
	mqttc_t *c;
	const char *topic;
	long qos;
	bool retain;
	enum src src;
	int nsrc;
	const char *msg;
	const char *path;
	char *data;          /* -m/-f/-s/-n: the one message */
	size_t datalen;
	bool data_sent;
	/* -l */
	char *lbuf;
	size_t lcap, lstart, lfill;
	bool eof;
	/* outcome */
	bool ever_up, failed;
	int exit_code;
	unsigned long published;
};

static const char pub_usage[] =
	"usage: dmqtt pub -t TOPIC (-m MSG | -f FILE | -l | -s | -n) [-q QOS] [-r] [connection]\n"
	"  -t, --topic TOPIC        topic to publish on\n"
	"  -m, --message MSG        one message\n"
	"  -f, --file FILE          the file's contents as one message\n"
	"  -l, --stdin-line         one message per line of stdin (newline removed)\n"
	"  -s, --stdin-file         all of stdin as one message\n"
	"  -n, --null-message       a zero-length message\n"
	"  -q, --qos 0|1|2          quality of service (default 0)\n"
	"  -r, --retain             retained message\n";

static int on_opt(void *ctx, int id, const char *arg)
{
	struct pub *p = ctx;
	if (id >= CONNOPT_FIRST_ID)
		return connopt_apply(&p->co, "pub", id, arg);
	switch (id) {
	case O_TOPIC: p->topic = arg; return 0;
	case O_MSG: p->src = SRC_MSG; p->msg = arg; p->nsrc++; return 0;
	case O_FILE: p->src = SRC_FILE; p->path = arg; p->nsrc++; return 0;
	case O_LINES: p->src = SRC_LINES; p->nsrc++; return 0;
	case O_STDIN: p->src = SRC_STDIN; p->nsrc++; return 0;
	case O_NULL: p->src = SRC_NULL; p->nsrc++; return 0;
	case O_QOS:
		if (cli_long(arg, 0, 2, &p->qos) != 0)
			return cli_usage_error("pub", "-q needs 0, 1 or 2");
		return 0;
	case O_RETAIN: p->retain = true; return 0;
	case O_HELP:
		fputs(pub_usage, stdout);
		fputs(connopt_usage, stdout);
		return -1;
	}
	return 0;
}

static void on_up(mqttc_t *c, void *user, bool session_present)
{
	struct pub *p = user;
	(void)c;
	(void)session_present;
	if (p->ever_up)
		log_info("pub", "reconnected to the broker");
	p->ever_up = true;
}

static void on_down(mqttc_t *c, void *user, mqttc_reason_t why, const char *detail)
{
	struct pub *p = user;
	if (!p->ever_up) {
		/* the first connection failed: a tool reports, it does not retry */
		fmt_fprintf(stderr, "dmqtt pub: %s\n", detail);
		p->failed = true;
		p->exit_code = connopt_failure_code(&p->co, why);
		mqttc_stop(c);
		return;
	}
	log_warn("pub", "connection lost: %s; reconnecting (%zu messages kept)",
		detail, mqttc_inflight(c));
}

/* Read all of stdin (for -s). */
static int slurp_stdin(struct pub *p, size_t max)
{
	size_t cap = 4096, n = 0;
	char *b = malloc(cap);
	if (b == NULL)
		return -ENOMEM;
	for (;;) {
		ssize_t r;
		if (n == cap) {
			char *nb;
			if (cap > max) {
				free(b);
				return -EFBIG;
			}
			cap *= 2;
			nb = realloc(b, cap);
			if (nb == NULL) {
				free(b);
				return -ENOMEM;
			}
			b = nb;
		}
		r = read(0, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = -errno;
			free(b);
			return e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		free(b);
		return -EFBIG;
	}
	p->data = b;
	p->datalen = n;
	return 0;
}

/* Publish what is ready.  Returns false when the input is exhausted and
 * everything was handed to the session. */
static bool feed(struct pub *p)
{
	mqtt_status_t st;
	if (p->src != SRC_LINES) {
		if (p->data_sent)
			return false;
		st = mqttc_publish(p->c, p->topic, p->data, p->datalen, (uint8_t)p->qos, p->retain, NULL);
		if (st == MQTT_OK) {
			p->data_sent = true;
			p->published++;
			return false;
		}
		if (st == MQTT_E_TOO_LARGE) {
			fmt_fprintf(stderr, "dmqtt pub: message of %zu bytes is too large\n", p->datalen);
			p->failed = true;
			p->exit_code = EXIT_DATAERR;
			return false;
		}
		return true;
	}
	for (;;) {
		char *start = p->lbuf + p->lstart;
		size_t avail = p->lfill - p->lstart, len;
		char *nl = memchr(start, '\n', avail);
		if (nl == NULL) {
			if (!p->eof || avail == 0)
				return !p->eof;
			len = avail; /* the last line has no newline */
		} else {
			len = (size_t)(nl - start);
		}
		st = mqttc_publish(p->c, p->topic, start, len, (uint8_t)p->qos, p->retain, NULL);
		if (st != MQTT_OK) {
			if (st == MQTT_E_TOO_LARGE) {
				fmt_fprintf(stderr, "dmqtt pub: line of %zu bytes is too large\n", len);
				p->failed = true;
				p->exit_code = EXIT_DATAERR;
				return false;
			}
			return true; /* window full or tx buffer full: after the next round */
		}
		p->published++;
		p->lstart += len + (nl != NULL ? 1 : 0);
	}
}

/* Read more of stdin for -l: compact, then one read.  Only called when
 * less than a quarter of the buffer is left unconsumed, so each byte is
 * moved at most a few times. */
static void read_lines(struct pub *p)
{
	ssize_t r;
	if (p->lstart > 0) {
		memmove(p->lbuf, p->lbuf + p->lstart, p->lfill - p->lstart);
		p->lfill -= p->lstart;
		p->lstart = 0;
	}
	if (p->lfill == p->lcap) {
		fmt_fprintf(stderr, "dmqtt pub: a line of stdin is longer than %zu bytes\n", p->lcap);
		p->failed = true;
		p->exit_code = EXIT_DATAERR;
		return;
	}
	do
		r = read(0, p->lbuf + p->lfill, p->lcap - p->lfill);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		p->eof = true;
	else
		p->lfill += (size_t)r;
}

int cmd_pub(int argc, char **argv)
{
	struct pub p;
	struct cli_opt opts[sizeof pub_opts / sizeof pub_opts[0] + 32];
	mqttc_config_t cfg;
	mqttc_hooks_t hooks;
	char *pos[1];
	int npos, r, sigfd;
	size_t nopts = 0;
	bool stopping = false;

	memset(&p, 0, sizeof p);
	connopt_init(&p.co, "pub");
	for (size_t i = 0; i < sizeof pub_opts / sizeof pub_opts[0]; i++)
		opts[nopts++] = pub_opts[i];
	for (size_t i = 0; i < connopt_count; i++)
		opts[nopts++] = connopt_table[i];
	r = cli_parse(argc, argv, opts, nopts, on_opt, &p, pos, 0, &npos);
	if (r != 0)
		return r < 0 ? EXIT_OK : r;
	if (p.topic == NULL)
		return cli_usage_error("pub", "missing -t TOPIC");
	if (mqtt_check_topic(p.topic, strlen(p.topic)) != MQTT_OK)
		return cli_usage_error("pub", "-t: not a valid topic name for publishing (no + or #, valid UTF-8)");
	if (p.nsrc == 0)
		return cli_usage_error("pub", "missing a message: -m, -f, -l, -s or -n");
	if (p.nsrc > 1)
		return cli_usage_error("pub", "give only one of -m, -f, -l, -s, -n");
	memset(&cfg, 0, sizeof cfg);
	if ((r = connopt_finish(&p.co, "pub", &cfg, &hooks)) != 0)
		return r;
	if (p.src == SRC_MSG) {
		p.data = (char *)p.msg;
		p.datalen = strlen(p.msg);
	} else if (p.src == SRC_FILE) {
		char *buf;
		size_t len;
		r = file_read(p.path, 256u << 20, &buf, &len);
		if (r != 0) {
			fmt_fprintf(stderr, "dmqtt pub: cannot read %s: %s\n", p.path, strerror(-r));
			return EXIT_NOINPUT;
		}
		p.data = buf;
		p.datalen = len;
	} else if (p.src == SRC_STDIN) {
		if ((r = slurp_stdin(&p, 256u << 20)) != 0) {
			fmt_fprintf(stderr, "dmqtt pub: cannot read stdin: %s\n", strerror(-r));
			return EXIT_NOINPUT;
		}
	} else if (p.src == SRC_NULL) {
		p.data = (char *)"";
	}
	if (p.data != NULL && p.datalen + strlen(p.topic) + 16 > cfg.max_publish)
		cfg.max_publish = p.datalen + strlen(p.topic) + 16;
	cfg.inflight = 1; /* one message: one slot, a store of its size */
	if (p.src == SRC_LINES) {
		p.lcap = 256u << 10;
		p.lbuf = malloc(p.lcap);
		if (p.lbuf == NULL)
			return EXIT_UNAVAILABLE;
		cfg.max_publish = p.lcap + strlen(p.topic) + 16;
		if (p.qos > 0) {
			/* QoS 1 lines stream through a deep window: the next line goes
			 * out as soon as an ack frees room, and the broker always has
			 * a backlog, so neither side sleeps per message (a window of
			 * 64 cost ~40k sleeps and wake-ups per 100k lines).  The store
			 * bounds its memory: 2 longest lines, of which the ring
			 * touches about what is in flight (4096 x 76 B for 64-byte
			 * lines); the slot table is 4096 x 24 B. */
			cfg.inflight = p.qos == 1 ? PUB_WINDOW_QOS1 : PUB_WINDOW_QOS2;
			cfg.store = 2 * cfg.max_publish;
		}
	}
	hooks.on_up = on_up;
	hooks.on_down = on_down;
	hooks.user = &p;
	p.c = mqttc_new(&cfg, &hooks);
	if (p.c == NULL) {
		fmt_fprintf(stderr, "dmqtt pub: out of memory\n");
		return EXIT_UNAVAILABLE;
	}
	sigfd = proc_signals_init();
	mqttc_start(p.c, clock_mono_ms());
	while (mqttc_state(p.c) != MQTTC_IDLE) {
		short rev = 0;
		int sig = 0;
		bool want_input = false;
		/* QoS 1/2 keeps filling the window while disconnected: those
		 * messages are kept and sent after the reconnect */
		bool can_feed = mqttc_state(p.c) == MQTTC_UP || (p.ever_up && p.qos > 0);
		if (!stopping && !p.failed && can_feed)
			want_input = feed(&p);
		else if (!stopping && !p.failed)
			want_input = true; /* not connected yet: keep the input */
		/* hand what was just published to the socket before deciding
		 * whether we are done and before waiting */
		if (mqttc_unsent(p.c) > 0)
			mqttc_process(p.c, NULL, clock_mono_ms());
		if (!can_feed && mqttc_state(p.c) == MQTTC_UP)
			continue; /* the flush read the CONNACK (TLS reads eagerly): feed now */
		if (!stopping && !p.failed && !want_input && mqttc_state(p.c) == MQTTC_UP &&
		    mqttc_inflight(p.c) == 0 && mqttc_unsent(p.c) == 0) {
			mqttc_stop(p.c); /* all delivered: DISCONNECT */
			stopping = true;
		}
		if (p.failed && !stopping) {
			mqttc_stop(p.c);
			stopping = true;
		}
		if (stopping && mqttc_unsent(p.c) > 0)
			mqttc_process(p.c, NULL, clock_mono_ms()); /* the DISCONNECT */
		if (mqttc_state(p.c) == MQTTC_IDLE)
			break;
		connopt_poll_once(p.c, p.src == SRC_LINES ? 0 : -1,
			(p.src == SRC_LINES && !p.eof && !stopping &&
			 p.lfill - p.lstart < p.lcap / 4 && can_feed) ? POLLIN : 0,
			sigfd, -1, &rev, &sig);
		if (rev & (POLLIN | POLLHUP | POLLERR))
			read_lines(&p);
		if (sig == SIGINT || sig == SIGTERM) {
			fmt_fprintf(stderr, "dmqtt pub: interrupted, %zu messages not delivered\n",
				mqttc_inflight(p.c));
			p.failed = true;
			p.exit_code = 128 + sig;
			mqttc_stop(p.c);
			stopping = true;
		}
	}
	mqttc_free(p.c);
	connopt_free(&p.co);
	if (p.src == SRC_FILE || p.src == SRC_STDIN)
		free(p.data);
	free(p.lbuf);
	return p.failed ? p.exit_code : EXIT_OK;
}
