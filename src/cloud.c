/* cloud.c -- `dmqtt cloud`: list, rcmd and stats; serve is src/console.c. */
#include "src/cloud.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/clock.h"
#include "platform/proc.h"
#include "platform/random.h"
#include "proto/json.h"
#include "src/cli.h"
#include "src/commands.h"
#include "src/nodetable.h"
#include "src/request.h"
#include "platform/fmt.h"

enum { O_WAIT = 1, O_EXPECT, O_JSON, O_TIMEOUT, O_HTTP, O_TOKEN, O_MAXNODES, O_HELP };
#define BIT(o) (1u << (o))

static const struct cli_opt cloud_table[] = {
	{ "wait", 0, CLI_ARG, O_WAIT }, { "expect", 0, CLI_ARG, O_EXPECT },
	{ "json", 0, CLI_NOARG, O_JSON }, { "timeout", 0, CLI_ARG, O_TIMEOUT },
	{ "http", 0, CLI_ARG, O_HTTP }, { "http-token", 0, CLI_ARG, O_TOKEN },
	{ "max-nodes", 0, CLI_ARG, O_MAXNODES }, { "help", 0, CLI_NOARG, O_HELP },
};

enum { SUB_LIST, SUB_RCMD, SUB_STATS, SUB_SERVE };
static const struct {
	const char *name;
	int nargs;
	unsigned opts;
} subs[] = {
	{ "list", 0, BIT(O_WAIT) | BIT(O_EXPECT) | BIT(O_JSON) },
	{ "rcmd", 2, BIT(O_TIMEOUT) | BIT(O_JSON) },
	{ "stats", 0, BIT(O_WAIT) | BIT(O_JSON) | BIT(O_MAXNODES) },
	{ "serve", 0, BIT(O_HTTP) | BIT(O_TOKEN) | BIT(O_TIMEOUT) | BIT(O_MAXNODES) },
};

static const char cloud_usage[] =
	"usage: dmqtt cloud list [--wait MS] [--expect N] [--json] [connection]\n"
	"       dmqtt cloud rcmd SERIAL COMMAND [--timeout MS] [--json] [connection]\n"
	"       dmqtt cloud stats [--wait MS] [--json] [connection]\n"
	"       dmqtt cloud serve [--http ADDR:PORT] [--http-token TOKEN] [--timeout MS] [connection]\n"
	"  list                     ask every node (req/all) and print who answered\n"
	"  rcmd SERIAL COMMAND      run a command on one node and print its output\n"
	"  stats                    watch the traffic for a while and summarise it\n"
	"  serve                    web console and JSON API (docs/cloud.md)\n"
	"  --wait MS                how long to collect (list 2000, stats 5000)\n"
	"  --expect N               list: stop as soon as N nodes answered\n"
	"  --timeout MS             rcmd and POST /api/rcmd: reply deadline (5000)\n"
	"  --json                   print JSON instead of a table\n"
	"  --http ADDR:PORT         serve: address (default 127.0.0.1:9090)\n"
	"  --http-token TOKEN       serve: require 'Authorization: Bearer TOKEN' on /api/\n"
	"                           (or DMQTT_HTTP_TOKEN)\n"
	"  --max-nodes N            serve, stats: node table size (default 20000)\n"
	"environment: DMQTT_CLOUD_HOST, DMQTT_CLOUD_PORT, DMQTT_CLOUD_USERNAME,\n"
	"  DMQTT_CLOUD_PASSWORD, DMQTT_CLOUD_CAFILE (flags win)\n";

/* ------------------------------------------------------------ helpers */

int cloud_buf_reserve(cloud_buf_t *b, size_t n)
{
	size_t cap;
	char *p;
	if (b->oom)
		return -1;
	if (b->cap - b->len >= n)
		return 0;
	cap = b->cap ? b->cap : 1024;
	while (cap - b->len < n) {
		if (cap > ((size_t)1 << 30)) {
			b->oom = true;
			return -1;
		}
		cap *= 2;
	}
	p = realloc(b->p, cap);
	if (p == NULL) {
		b->oom = true;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void cloud_buf_add(cloud_buf_t *b, const void *s, size_t n)
{
	if (n == 0 || cloud_buf_reserve(b, n) != 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

void cloud_buf_str(cloud_buf_t *b, const char *s)
{
	cloud_buf_add(b, s, strlen(s));
}

void cloud_buf_printf(cloud_buf_t *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = fmt_vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || cloud_buf_reserve(b, (size_t)n + 1) != 0)
		return;
	va_start(ap, fmt);
	fmt_vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void cloud_buf_json(cloud_buf_t *b, const char *s, size_t n)
{
	size_t e;
	if (cloud_buf_reserve(b, n * 6 + 2) != 0)
		return;
	b->p[b->len++] = '"';
	e = json_escape(b->p + b->len, n * 6, s, n);
	b->len += e;
	b->p[b->len++] = '"';
}

void cloud_buf_free(cloud_buf_t *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

void cloud_make_id(char *out, size_t cap)
{
	static uint32_t prefix;
	static unsigned long counter;
	if (prefix == 0 && (random_bytes(&prefix, sizeof prefix) != 0 || prefix == 0))
		prefix = (uint32_t)clock_mono_ms() | 1u;
	fmt_snprintf(out, cap, "%08x-%lu", (unsigned)prefix, ++counter);
}

bool cloud_serial_ok(const char *s, size_t n)
{
	if (n == 0 || n > NT_SERIAL_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= 'a' && s[i] <= 'z') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

void cloud_nodes_json(cloud_buf_t *b, const nodetable_t *t, uint64_t now)
{
	cloud_buf_str(b, "[");
	for (size_t i = 0; i < t->n; i++) {
		size_t n;
		if (cloud_buf_reserve(b, NT_NODE_JSON_MAX + 2) != 0)
			return;
		if (i > 0)
			b->p[b->len++] = ',';
		n = nodetable_node_json(t, &t->nodes[i], now, b->p + b->len, NT_NODE_JSON_MAX);
		b->len += n;
	}
	cloud_buf_str(b, "]");
}

void cloud_stats_json(cloud_buf_t *b, const nodetable_t *t, uint64_t now)
{
	size_t cnt[3];
	nodetable_count(t, now, cnt);
	cloud_buf_printf(b, "\"counts\":{\"nodes\":%zu,\"online\":%zu,\"stale\":%zu,"
		"\"offline\":%zu},\"messages\":{", t->n, cnt[NT_ONLINE], cnt[NT_STALE],
		cnt[NT_OFFLINE]);
	for (int c = 0; c < NT_CLASSES; c++)
		cloud_buf_printf(b, "%s\"%s\":%llu", c ? "," : "",
			nodetable_class_name((nt_class_t)c), (unsigned long long)t->msgs[c]);
	cloud_buf_str(b, "},\"meshes\":[");
	for (size_t i = 0; i < t->nmesh; i++) {
		const nt_mesh_t *m = &t->meshes[i];
		cloud_buf_printf(b, "%s{\"men\":\"%s\",\"bridge\":\"%s\",\"since_ms\":%llu}",
			i ? "," : "", m->sn, m->bridge == NT_UP ? "up" : "down",
			(unsigned long long)(now > m->since ? now - m->since : 0));
	}
	cloud_buf_printf(b, "],\"dropped\":%llu,\"ignored\":%llu",
		(unsigned long long)t->dropped, (unsigned long long)t->ignored);
}

int cloud_table_new(nodetable_t *t, long max_nodes)
{
	size_t cap = (size_t)max_nodes, ns = nodetable_slots_for(cap);
	nt_node_t *nodes = malloc(cap * sizeof *nodes);
	uint32_t *slots = malloc(ns * sizeof *slots);
	if (nodes == NULL || slots == NULL || nodetable_init(t, nodes, cap, slots, ns) != 0) {
		free(nodes);
		free(slots);
		return -1;
	}
	return 0;
}

void cloud_table_free(nodetable_t *t)
{
	free(t->nodes);
	free(t->slots);
	t->nodes = NULL;
	t->slots = NULL;
}

/* Terminal-safe copy of reply text: control characters become spaces. */
static void print_clean(const char *s, size_t n, size_t max)
{
	for (size_t i = 0; i < n && i < max; i++)
		putchar((unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i]);
	if (n > max)
		fputs("...", stdout);
}

/* ------------------------------------------------------- the session */

struct lent {                  /* list: one node's answers */
	char sn[NT_SERIAL_MAX + 1];
	char type[NT_TYPE_MAX + 1];
	char *data;
	size_t data_len;
	long rtt, rc;
	bool up, ty;
};

struct run {
	struct cloud_opts *o;
	int sub;
	mqttc_t *c;
	bool ever_up, sent, done, failed;
	int exit_code;
	unsigned refused, subs;
	uint64_t t_sent, deadline;
	char id[CLOUD_ID_MAX], id2[CLOUD_ID_MAX];
	char topic[NT_SERIAL_MAX + 8];
	/* list */
	struct lent *ents;
	size_t n, cap, both;
	uint32_t *slots;
	size_t nslots;
	/* stats */
	nodetable_t nt;
	uint64_t t_start;
};

static void finish(struct run *r, int code)
{
	if (r->done)
		return;
	r->done = true;
	r->failed = code != 0;
	r->exit_code = code;
	mqttc_stop(r->c);
}

static void on_up(mqttc_t *c, void *user, bool session_present)
{
	struct run *r = user;
	(void)c;
	(void)session_present;
	if (!r->ever_up && r->sub == SUB_STATS) {
		r->t_start = clock_mono_ms();
		r->deadline = r->t_start + (uint64_t)r->o->wait_ms;
	}
	r->ever_up = true;
}

static void on_down(mqttc_t *c, void *user, mqttc_reason_t why, const char *detail)
{
	struct run *r = user;
	(void)c;
	if (!r->ever_up) {
		fmt_fprintf(stderr, "dmqtt cloud: %s\n", detail);
		finish(r, connopt_failure_code(&r->o->co, why));
	} else if (!r->done) {
		fmt_fprintf(stderr, "dmqtt cloud: connection lost: %s; reconnecting\n", detail);
	}
}

/* Publish the request(s) once the subscription is in place. */
static void send_requests(struct run *r)
{
	char pl[REQ_CMD_MAX * 6 + CLOUD_ID_MAX + 32];
	size_t n;
	mqtt_status_t st;
	if (r->sent)
		return;
	r->sent = true;
	cloud_make_id(r->id, sizeof r->id);
	if (r->sub == SUB_LIST) {
		cloud_make_id(r->id2, sizeof r->id2);
		fmt_snprintf(pl, sizeof pl, "{\"cmd\":\"uptime\",\"id\":\"%s\"}", r->id);
		st = mqttc_publish(r->c, "req/all", pl, strlen(pl), 1, false, NULL);
		fmt_snprintf(pl, sizeof pl, "{\"cmd\":\"nodetype\",\"id\":\"%s\"}", r->id2);
		if (st == MQTT_OK)
			st = mqttc_publish(r->c, "req/all", pl, strlen(pl), 1, false, NULL);
	} else {
		char t[NT_SERIAL_MAX + 8];
		n = json_escape(pl + 8, REQ_CMD_MAX * 6, r->o->pos[2], strlen(r->o->pos[2]));
		memcpy(pl, "{\"cmd\":\"", 8);
		fmt_snprintf(pl + 8 + n, sizeof pl - 8 - n, "\",\"id\":\"%s\"}", r->id);
		fmt_snprintf(t, sizeof t, "req/%s", r->o->pos[1]);
		st = mqttc_publish(r->c, t, pl, strlen(pl), 1, false, NULL);
	}
	if (st != MQTT_OK) {
		fmt_fprintf(stderr, "dmqtt cloud: cannot publish the request: %s\n", mqtt_strerror(st));
		finish(r, EXIT_UNAVAILABLE);
		return;
	}
	r->t_sent = clock_mono_ms();
	r->deadline = r->t_sent + (uint64_t)(r->sub == SUB_LIST ? r->o->wait_ms : r->o->timeout_ms);
}

static void on_suback(mqttc_t *c, void *user, const uint8_t *codes, size_t n)
{
	struct run *r = user;
	(void)c;
	for (size_t i = 0; i < n; i++)
		if (codes[i] == MQTT_SUBACK_FAILURE)
			r->refused++;
	if (r->refused > 0 && r->sub != SUB_STATS) {
		fmt_fprintf(stderr, "dmqtt cloud: the broker refused the subscription to %s\n", r->topic);
		finish(r, EXIT_NOPERM);
		return;
	}
	if (r->refused >= r->subs) {
		fmt_fprintf(stderr, "dmqtt cloud: the broker refused every subscription\n");
		finish(r, EXIT_NOPERM);
		return;
	}
	if (r->sub != SUB_STATS)
		send_requests(r);
}

/* A reply object: its id token matches one of ours?  0 none, 1 id, 2 id2. */
static int reply_parse(struct run *r, const char *js, size_t len, json_tok_t *tok, size_t ntok,
	long *rc, uint32_t *data)
{
	json_parser_t p;
	uint32_t v;
	int64_t x = -1;
	int which;
	if (json_parse(&p, js, len, tok, ntok) != JSON_OK || tok[0].type != JSON_OBJECT ||
	    json_find_key(js, tok, 0, "id", &v) != JSON_OK || tok[v].type != JSON_STRING)
		return 0;
	which = json_streq(js, &tok[v], r->id) ? 1 : r->id2[0] && json_streq(js, &tok[v], r->id2) ? 2 : 0;
	if (which == 0)
		return 0;
	if (json_find_key(js, tok, 0, "rc", &v) == JSON_OK)
		json_get_int(js, &tok[v], -100000, 100000, &x);
	*rc = (long)x;
	*data = JSON_NONE;
	if (json_find_key(js, tok, 0, "data", &v) == JSON_OK && tok[v].type == JSON_STRING)
		*data = v;
	return which;
}

static char *unescape_dup(const char *js, const json_tok_t *t, size_t *len)
{
	size_t cap = t->end - t->start + 1;
	char *s = malloc(cap);
	*len = 0;
	if (s != NULL && json_unescape(js, t, s, cap, len) != JSON_OK && *len == 0)
		s[0] = '\0';
	return s;
}

static struct lent *list_entry(struct run *r, const char *sn, size_t n)
{
	size_t mask, i;
	struct lent *e;
	if (r->n * 2 >= r->nslots) {        /* grow and rehash */
		size_t ns = r->nslots ? r->nslots * 2 : 64;
		uint32_t *sl = calloc(ns, sizeof *sl);
		struct lent *en = realloc(r->ents, ns / 2 * sizeof *en);
		if (sl == NULL || en == NULL) {
			free(sl);
			if (en != NULL)
				r->ents = en;
			return NULL;
		}
		r->ents = en;
		for (size_t k = 0; k < r->n; k++) {
			uint32_t h = 2166136261u;
			for (const char *p = r->ents[k].sn; *p; p++)
				h = (h ^ (uint8_t)*p) * 16777619u;
			for (i = h & (ns - 1); sl[i] != 0; i = (i + 1) & (ns - 1))
				;
			sl[i] = (uint32_t)k + 1;
		}
		free(r->slots);
		r->slots = sl;
		r->nslots = ns;
	}
	{
		uint32_t h = 2166136261u;
		for (size_t k = 0; k < n; k++)
			h = (h ^ (uint8_t)sn[k]) * 16777619u;
		mask = r->nslots - 1;
		i = h & mask;
	}
	for (; r->slots[i] != 0; i = (i + 1) & mask) {
		e = &r->ents[r->slots[i] - 1];
		if (strlen(e->sn) == n && memcmp(e->sn, sn, n) == 0)
			return e;
	}
	e = &r->ents[r->n++];
	memset(e, 0, sizeof *e);
	memcpy(e->sn, sn, n);
	r->slots[i] = (uint32_t)r->n;
	return e;
}

static void list_message(struct run *r, const mqtt_publish_t *m)
{
	const char *js = (const char *)m->payload, *sn = m->topic + 8;
	size_t sl = m->topic_len - 8;
	json_tok_t tok[32];
	long rc;
	uint32_t d;
	int which;
	struct lent *e;

	if (m->topic_len <= 8 || memcmp(m->topic, "rsp/all/", 8) != 0 || !cloud_serial_ok(sn, sl))
		return;
	which = reply_parse(r, js, m->payload_len, tok, 32, &rc, &d);
	if (which == 0 || (e = list_entry(r, sn, sl)) == NULL)
		return;
	if (which == 1 && !e->up) {
		e->up = true;
		e->rtt = (long)(clock_mono_ms() - r->t_sent);
		e->rc = rc;
		if (d != JSON_NONE)
			e->data = unescape_dup(js, &tok[d], &e->data_len);
		if (e->ty)
			r->both++;
	} else if (which == 2 && !e->ty) {
		size_t n = 0;
		char *s = d != JSON_NONE && rc == 0 ? unescape_dup(js, &tok[d], &n) : NULL;
		e->ty = true;
		if (s != NULL && n > 0 && n <= NT_TYPE_MAX && cloud_serial_ok(s, n))
			memcpy(e->type, s, n + 1);
		free(s);
		if (e->up)
			r->both++;
	}
	if (r->o->expect > 0 && r->both >= (size_t)r->o->expect)
		finish(r, EXIT_OK);
}

static void rcmd_message(struct run *r, const mqtt_publish_t *m)
{
	const char *js = (const char *)m->payload;
	json_tok_t tok[32];
	long rc;
	uint32_t d;
	char safe[96];
	if (m->topic_len != strlen(r->topic) || memcmp(m->topic, r->topic, m->topic_len) != 0 ||
	    reply_parse(r, js, m->payload_len, tok, 32, &rc, &d) != 1)
		return;
	if (r->o->json) {
		fwrite(js, 1, m->payload_len, stdout);
		putchar('\n');
	} else if (d != JSON_NONE) {
		size_t n;
		char *s = unescape_dup(js, &tok[d], &n);
		if (s != NULL) {
			fwrite(s, 1, n, stdout);
			if (n == 0 || s[n - 1] != '\n')
				putchar('\n');
		}
		free(s);
	}
	if (rc != 0)
		fmt_fprintf(stderr, "dmqtt cloud: %s: '%s' failed with rc %ld\n", r->o->pos[1],
			cli_safe(r->o->pos[2], safe, sizeof safe), rc);
	finish(r, rc == 0 ? EXIT_OK : EXIT_NEGATIVE);
}

static void on_message(mqttc_t *c, void *user, const mqtt_publish_t *m)
{
	struct run *r = user;
	(void)c;
	if (r->done)
		return;
	if (r->sub == SUB_LIST)
		list_message(r, m);
	else if (r->sub == SUB_RCMD)
		rcmd_message(r, m);
	else
		nodetable_update(&r->nt, m->topic, m->topic_len, m->payload, m->payload_len,
			m->retain, clock_mono_ms());
}

/* ------------------------------------------------------------- output */

static int cmp_lent(const void *a, const void *b)
{
	return strcmp(((const struct lent *)a)->sn, ((const struct lent *)b)->sn);
}

static int list_print(struct run *r)
{
	cloud_buf_t b = { 0 };
	if (r->n > 1)
		qsort(r->ents, r->n, sizeof *r->ents, cmp_lent);
	if (r->o->json) {
		cloud_buf_str(&b, "[");
		for (size_t i = 0; i < r->n; i++) {
			const struct lent *e = &r->ents[i];
			cloud_buf_str(&b, i ? ",\n  {\"sn\":" : "\n  {\"sn\":");
			cloud_buf_json(&b, e->sn, strlen(e->sn));
			cloud_buf_str(&b, ",\"type\":");
			if (e->type[0])
				cloud_buf_json(&b, e->type, strlen(e->type));
			else
				cloud_buf_str(&b, "null");
			if (e->up) {
				cloud_buf_printf(&b, ",\"rtt_ms\":%ld,\"rc\":%ld,\"data\":", e->rtt, e->rc);
				cloud_buf_json(&b, e->data ? e->data : "", e->data_len);
			} else {
				cloud_buf_str(&b, ",\"rtt_ms\":null,\"rc\":null,\"data\":null");
			}
			cloud_buf_str(&b, "}");
		}
		cloud_buf_str(&b, r->n ? "\n]\n" : "]\n");
		if (b.p != NULL)
			fwrite(b.p, 1, b.len, stdout);
		cloud_buf_free(&b);
	} else if (r->n > 0) {
		fmt_printf("%-20s  %-4s  %6s  %s\n", "SERIAL", "TYPE", "RTT_MS", "DATA");
		for (size_t i = 0; i < r->n; i++) {
			const struct lent *e = &r->ents[i];
			fmt_printf("%-20s  %-4s  ", e->sn, e->type[0] ? e->type : "-");
			if (e->up) {
				fmt_printf("%6ld  ", e->rtt);
				if (e->rc != 0)
					fmt_printf("rc=%ld: ", e->rc);
				print_clean(e->data ? e->data : "", e->data_len, 200);
			} else {
				fmt_printf("%6s  -", "-");
			}
			putchar('\n');
		}
	}
	if (r->n == 0) {
		fmt_fprintf(stderr, "dmqtt cloud: no node answered within %ld ms\n", r->o->wait_ms);
		return EXIT_NEGATIVE;
	}
	return EXIT_OK;
}

static void stats_print(struct run *r)
{
	uint64_t now = clock_mono_ms();
	const nodetable_t *t = &r->nt;
	size_t cnt[3];
	if (r->o->json) {
		cloud_buf_t b = { 0 };
		cloud_buf_printf(&b, "{\"window_ms\":%llu,",
			(unsigned long long)(now - r->t_start));
		cloud_stats_json(&b, t, now);
		cloud_buf_str(&b, ",\"nodes\":");
		cloud_nodes_json(&b, t, now);
		cloud_buf_str(&b, "}\n");
		if (b.p != NULL)
			fwrite(b.p, 1, b.len, stdout);
		cloud_buf_free(&b);
		return;
	}
	nodetable_count(t, now, cnt);
	fmt_printf("nodes: %zu (%zu online, %zu stale, %zu offline) over %.1f s\n", t->n,
		cnt[NT_ONLINE], cnt[NT_STALE], cnt[NT_OFFLINE], (double)(now - r->t_start) / 1000.0);
	fmt_printf("messages:");
	for (int c = 0; c < NT_CLASSES; c++)
		fmt_printf("%s %s %llu", c ? "," : "", nodetable_class_name((nt_class_t)c),
			(unsigned long long)t->msgs[c]);
	putchar('\n');
	for (size_t i = 0; i < t->nmesh; i++)
		fmt_printf("mesh %s: bridge %s\n", t->meshes[i].sn,
			t->meshes[i].bridge == NT_UP ? "up" : "down");
	if (t->dropped || t->ignored)
		fmt_printf("table full: %llu messages dropped; malformed: %llu\n",
			(unsigned long long)t->dropped, (unsigned long long)t->ignored);
	if (t->n == 0)
		return;
	fmt_printf("\n%-20s  %-7s  %-4s  %7s  %s\n", "SERIAL", "STATE", "TYPE", "SEEN_S",
		"INTERFACES (state, age in s)");
	for (size_t i = 0; i < t->n; i++) {
		const nt_node_t *n = &t->nodes[i];
		fmt_printf("%-20s  %-7s  %-4s  %7.1f  ", n->sn,
			nodetable_state_name(nodetable_state(t, n, now, NULL)),
			n->type[0] ? n->type : "-", (double)(now - n->last_seen) / 1000.0);
		for (size_t k = 0; k < n->nif; k++)
			fmt_printf("%s%s %s %.1f", k ? ", " : "", n->ifs[k].name,
				n->ifs[k].up == NT_UP ? "Up" : n->ifs[k].up == NT_DOWN ? "Down" : "?",
				(double)(now - n->ifs[k].at) / 1000.0);
		puts(n->nif ? "" : "-");
	}
}

/* ------------------------------------------------------------ command */

struct parse {
	struct cloud_opts *o;
	unsigned used;
};

static int on_opt(void *ctx, int id, const char *arg)
{
	struct parse *p = ctx;
	struct cloud_opts *o = p->o;
	if (id >= CONNOPT_FIRST_ID)
		return connopt_apply(&o->co, "cloud", id, arg);
	if (id > 0 && id < 32)
		p->used |= BIT(id);
	switch (id) {
	case O_WAIT:
		if (cli_long(arg, 1, 86400000L, &o->wait_ms) != 0)
			return cli_usage_error("cloud", "--wait needs milliseconds (at least 1)");
		return 0;
	case O_EXPECT:
		if (cli_long(arg, 1, 1000000L, &o->expect) != 0)
			return cli_usage_error("cloud", "--expect needs a node count of at least 1");
		return 0;
	case O_TIMEOUT:
		if (cli_long(arg, 1, 3600000L, &o->timeout_ms) != 0)
			return cli_usage_error("cloud", "--timeout needs milliseconds (at least 1)");
		return 0;
	case O_MAXNODES:
		if (cli_long(arg, 1, 1000000L, &o->max_nodes) != 0)
			return cli_usage_error("cloud", "--max-nodes needs 1-1000000");
		return 0;
	case O_JSON: o->json = true; return 0;
	case O_HTTP: o->http = arg; return 0;
	case O_TOKEN: o->http_token = arg; return 0;
	case O_HELP:
		fputs(cloud_usage, stdout);
		fputs(connopt_usage, stdout);
		return -1;
	}
	return 0;
}

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v != NULL && *v != '\0' ? v : NULL;
}

/* DMQTT_CLOUD_*: more specific than DMQTT_BROKER, beaten by flags. */
static int apply_env(connopt_t *co)
{
	const char *v;
	long port;
	if ((v = env("DMQTT_CLOUD_HOST")) != NULL) {
		co->host = v;
		co->port = 1883;
		co->port_set = false;
	}
	if ((v = env("DMQTT_CLOUD_PORT")) != NULL) {
		if (cli_long(v, 1, 65535, &port) != 0)
			return cli_usage_error("cloud", "DMQTT_CLOUD_PORT needs a port number 1-65535");
		co->port = (uint16_t)port;
		co->port_set = true;
	}
	if ((v = env("DMQTT_CLOUD_USERNAME")) != NULL)
		co->username = v;
	if ((v = env("DMQTT_CLOUD_PASSWORD")) != NULL)
		co->password = v;
	if ((v = env("DMQTT_CLOUD_CAFILE")) != NULL)
		co->cafile = v;
	return 0;
}

static int run_session(struct run *r, mqttc_config_t *cfg, mqttc_hooks_t *hooks)
{
	int sigfd;
	hooks->on_up = on_up;
	hooks->on_down = on_down;
	hooks->on_message = on_message;
	hooks->on_suback = on_suback;
	hooks->user = r;
	r->c = mqttc_new(cfg, hooks);
	if (r->c == NULL) {
		fmt_fprintf(stderr, "dmqtt cloud: out of memory\n");
		return EXIT_UNAVAILABLE;
	}
	if (r->sub == SUB_STATS) {
		static const char *const f[] = { "status/#", "data/#", "rsp/#", "req/#" };
		for (size_t i = 0; i < 4; i++)
			mqttc_subscribe(r->c, f[i], 0);
		r->subs = 4;
	} else {
		mqttc_subscribe(r->c, r->topic, 1);
		r->subs = 1;
	}
	sigfd = proc_signals_init();
	mqttc_start(r->c, clock_mono_ms());
	while (mqttc_state(r->c) != MQTTC_IDLE) {
		short rev;
		int sig = 0, cap = -1;
		if (!r->done && r->deadline != 0) {
			uint64_t now = clock_mono_ms();
			if (now >= r->deadline) {
				if (r->sub == SUB_RCMD) {
					fmt_fprintf(stderr, "dmqtt cloud: no reply from %s within %ld ms "
						"(unknown serial, or the node is offline)\n",
						r->o->pos[1], r->o->timeout_ms);
					finish(r, EXIT_UNAVAILABLE);
				} else {
					finish(r, EXIT_OK);
				}
				continue;
			}
			cap = (int)(r->deadline - now);
		}
		connopt_poll_once(r->c, -1, 0, sigfd, cap, &rev, &sig);
		if ((sig == SIGINT || sig == SIGTERM) && !r->done)
			finish(r, 128 + sig);
	}
	mqttc_free(r->c);
	if (r->failed)
		return r->exit_code;
	if (r->sub == SUB_LIST)
		return list_print(r);
	if (r->sub == SUB_STATS)
		stats_print(r);
	return EXIT_OK;
}

int cmd_cloud(int argc, char **argv)
{
	struct cloud_opts o;
	struct parse p = { &o, 0 };
	struct cli_opt opts[sizeof cloud_table / sizeof cloud_table[0] + 32];
	mqttc_config_t cfg;
	mqttc_hooks_t hooks;
	struct run r;
	char *pos[3], safe[96];
	size_t nopts = 0;
	int npos, rc, sub = -1;

	memset(&o, 0, sizeof o);
	connopt_init(&o.co, "cloud");
	if ((rc = apply_env(&o.co)) != 0)
		return rc;
	for (size_t i = 0; i < sizeof cloud_table / sizeof cloud_table[0]; i++)
		opts[nopts++] = cloud_table[i];
	for (size_t i = 0; i < connopt_count; i++)
		opts[nopts++] = connopt_table[i];
	rc = cli_parse(argc, argv, opts, nopts, on_opt, &p, pos, 3, &npos);
	if (rc != 0)
		return rc < 0 ? EXIT_OK : rc;
	if (npos == 0)
		return cli_usage_error("cloud", "missing subcommand: list, rcmd, stats or serve");
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
		if (strcmp(pos[0], subs[i].name) == 0)
			sub = (int)i;
	if (sub < 0)
		return cli_usage_error("cloud", "unknown subcommand '%s'", cli_safe(pos[0], safe, sizeof safe));
	if (npos - 1 != subs[sub].nargs)
		return cli_usage_error("cloud", sub == SUB_RCMD ? "rcmd needs SERIAL and COMMAND" :
			"%s takes no arguments", subs[sub].name);
	for (int i = 1; i <= O_MAXNODES; i++)
		if ((p.used & BIT(i)) && !(subs[sub].opts & BIT(i)))
			return cli_usage_error("cloud", "--%s is not an option of 'cloud %s'",
				cloud_table[i - 1].lng, subs[sub].name);
	for (int i = 0; i < npos; i++)
		o.pos[i] = pos[i];
	o.npos = npos;
	if (o.wait_ms == 0)
		o.wait_ms = sub == SUB_LIST ? 2000 : 5000;
	if (o.timeout_ms == 0)
		o.timeout_ms = 5000;
	if (o.max_nodes == 0)
		o.max_nodes = 20000;
	if (sub == SUB_RCMD) {
		if (!cloud_serial_ok(pos[1], strlen(pos[1])))
			return cli_usage_error("cloud", "'%s' is not a serial number (1-%d of A-Z a-z 0-9 . _ -)",
				cli_safe(pos[1], safe, sizeof safe), NT_SERIAL_MAX);
		if (pos[2][0] == '\0' || strlen(pos[2]) > REQ_CMD_MAX)
			return cli_usage_error("cloud", "COMMAND must be 1-%d bytes", REQ_CMD_MAX);
	}
	if (sub == SUB_SERVE && o.http_token == NULL)
		o.http_token = env("DMQTT_HTTP_TOKEN");
	memset(&cfg, 0, sizeof cfg);
	if ((rc = connopt_finish(&o.co, "cloud", &cfg, &hooks)) != 0)
		return rc;
	if (sub == SUB_SERVE) {
		rc = cloud_serve(&o, &cfg, &hooks);
		connopt_free(&o.co);
		return rc;
	}

	memset(&r, 0, sizeof r);
	r.o = &o;
	r.sub = sub;
	cfg.inflight = 4;
	if (sub == SUB_LIST)
		fmt_snprintf(r.topic, sizeof r.topic, "rsp/all/+");
	else if (sub == SUB_RCMD)
		fmt_snprintf(r.topic, sizeof r.topic, "rsp/%s", pos[1]);
	else if (cloud_table_new(&r.nt, o.max_nodes) != 0) {
		fmt_fprintf(stderr, "dmqtt cloud: out of memory for %ld nodes\n", o.max_nodes);
		connopt_free(&o.co);
		return EXIT_UNAVAILABLE;
	}
	rc = run_session(&r, &cfg, &hooks);
	for (size_t i = 0; i < r.n; i++)
		free(r.ents[i].data);
	free(r.ents);
	free(r.slots);
	if (sub == SUB_STATS)
		cloud_table_free(&r.nt);
	connopt_free(&o.co);
	fflush(stdout);
	return rc;
}
