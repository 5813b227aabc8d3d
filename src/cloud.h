/*
 * cloud.h -- `dmqtt cloud`: the cloud side's tools (list, rcmd, stats in
 * src/cloud.c) and the web console (serve, in src/console.c), sharing the
 * connection options, request ids and a growable output buffer.
 */
#ifndef DMQTT_CLOUD_H
#define DMQTT_CLOUD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/connopt.h"
#include "src/mqttc.h"
#include "src/nodetable.h"

#define CLOUD_ID_MAX 40

/* Everything `dmqtt cloud` parsed from its command line and environment. */
struct cloud_opts {
	connopt_t co;
	long wait_ms;              /* list, stats: --wait */
	long expect;               /* list: --expect, 0 none */
	long timeout_ms;           /* rcmd, serve (POST /api/rcmd): --timeout */
	long max_nodes;            /* stats, serve: --max-nodes */
	bool json;
	const char *http;          /* serve: --http ADDR:PORT */
	const char *http_token;    /* serve: --http-token (or DMQTT_HTTP_TOKEN) */
	const char *pos[3];        /* subcommand and its arguments */
	int npos;
};

/* A growable byte buffer; oom is sticky (later appends do nothing). */
typedef struct {
	char *p;
	size_t len, cap;
	bool oom;
} cloud_buf_t;

/* Room for n more bytes; 0 or -1 (oom set). */
int cloud_buf_reserve(cloud_buf_t *b, size_t n);
void cloud_buf_add(cloud_buf_t *b, const void *s, size_t n);
void cloud_buf_str(cloud_buf_t *b, const char *s);
void cloud_buf_printf(cloud_buf_t *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* s[0..n) as a quoted JSON string. */
void cloud_buf_json(cloud_buf_t *b, const char *s, size_t n);
void cloud_buf_free(cloud_buf_t *b);

/* A request id unique to this process and run: "<8 hex>-<counter>". */
void cloud_make_id(char *out, size_t cap);

/* Is s a serial we can put in a topic (NT_SERIAL_MAX, [A-Za-z0-9._-])? */
bool cloud_serial_ok(const char *s, size_t n);

/* A node table of max_nodes nodes on the heap (0, or -1: out of memory). */
int cloud_table_new(nodetable_t *t, long max_nodes);
void cloud_table_free(nodetable_t *t);
/* The table's nodes as a JSON array. */
void cloud_nodes_json(cloud_buf_t *b, const nodetable_t *t, uint64_t now);
/* Members (no braces) "counts":{..},"messages":{..},"meshes":[..],
 * "dropped":N,"ignored":N -- shared by `cloud stats --json` and /api/stats. */
void cloud_stats_json(cloud_buf_t *b, const nodetable_t *t, uint64_t now);

/* `dmqtt cloud serve` (src/console.c); the exit code. */
int cloud_serve(struct cloud_opts *o, mqttc_config_t *cfg, mqttc_hooks_t *hooks);

#endif
