/*
 * console.c -- `dmqtt cloud serve`: one poll loop drives the MQTT
 * connection to the cloud broker and an HTTP/1.1 server (src/http.c) with
 * the web console (src/console_page.h) and its JSON API.  See docs/cloud.md.
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bearssl.h"
#include "platform/clock.h"
#include "platform/log.h"
#include "platform/net.h"
#include "platform/proc.h"
#include "proto/base64.h"
#include "proto/json.h"
#include "src/cli.h"
#include "src/cloud.h"
#include "src/console_page.h"
#include "src/http.h"
#include "src/nodetable.h"
#include "src/request.h"
#include "platform/fmt.h"

#define MAX_CONNS 64
#define BODY_MAX 8192
#define IN_CAP (HTTP_HEAD_MAX + BODY_MAX)
#define READ_MS 10000      /* a whole request within this, else 408 / close */
#define WRITE_MS 30000     /* a response must be taken within this */
#define LINGER_MS 2000     /* after a final response: drain, then close */

enum { C_FREE, C_READ, C_BUSY, C_LINGER };

struct conn {
	int fd;
	int st;
	char *in;
	size_t in_len;
	http_parser_t hp;
	cloud_buf_t out;
	size_t out_off;
	uint64_t deadline;
	bool close_after;      /* close once the response is out */
	bool responded;        /* the response is queued in out */
	bool continued;        /* 100 Continue sent */
	unsigned served;       /* responses completed on this connection */
	char id[CLOUD_ID_MAX]; /* waiting for this rcmd reply ("" none) */
	char sn[NT_SERIAL_MAX + 1];
};

struct console {
	struct cloud_opts *o;
	mqttc_t *c;
	nodetable_t nt;
	int lfd;
	char hosts[2][NET_ADDR_STRLEN + 16];
	const char *allowed[2];
	size_t nallowed;
	struct conn conns[MAX_CONNS];
	size_t nconns;
	char csp[400];
	bool stopping, up;
	unsigned subcodes;
	char down_detail[160];
	uint64_t started, state_since;
	unsigned long requests;
};

/* ---------------------------------------------------------------- MQTT */

static const char *const sub_filters[] = { "status/#", "data/#", "rsp/#", "req/#" };
static const uint8_t sub_qos[] = { 1, 0, 1, 0 };
#define NSUBS (sizeof sub_filters / sizeof sub_filters[0])

/* req/all uptime + nodetype: replies fill the table's type and uptime. */
static int discover(struct console *k)
{
	char id[CLOUD_ID_MAX], pl[96];
	static const char *const cmds[] = { "uptime", "nodetype" };
	if (mqttc_state(k->c) != MQTTC_UP)
		return -1;
	for (size_t i = 0; i < 2; i++) {
		cloud_make_id(id, sizeof id);
		fmt_snprintf(pl, sizeof pl, "{\"cmd\":\"%s\",\"id\":\"%s\"}", cmds[i], id);
		if (mqttc_publish(k->c, "req/all", pl, strlen(pl), 1, false, NULL) != MQTT_OK)
			return -1;
	}
	return 0;
}

static void on_up(mqttc_t *c, void *user, bool session_present)
{
	struct console *k = user;
	(void)session_present;
	log_info("cloud", "connected to the cloud broker%s",
		mqttc_connects(c) > 1 ? " again" : "");
	k->up = true;
	k->subcodes = 0;
	k->state_since = clock_mono_ms();
	k->down_detail[0] = '\0';
}

static void on_down(mqttc_t *c, void *user, mqttc_reason_t why, const char *detail)
{
	struct console *k = user;
	(void)c;
	(void)why;
	if (k->stopping)
		return;
	if (k->up || k->down_detail[0] == '\0' || strcmp(k->down_detail, detail) != 0)
		log_warn("cloud", "cloud broker: %s; reconnecting", detail);
	k->up = false;
	k->state_since = clock_mono_ms();
	fmt_snprintf(k->down_detail, sizeof k->down_detail, "%s", detail);
}

static void on_suback(mqttc_t *c, void *user, const uint8_t *codes, size_t n)
{
	struct console *k = user;
	(void)c;
	for (size_t i = 0; i < n; i++, k->subcodes++)
		if (codes[i] == MQTT_SUBACK_FAILURE && k->subcodes < NSUBS)
			log_warn("cloud", "the broker refused the subscription to %s",
				sub_filters[k->subcodes]);
	if (k->subcodes == NSUBS)
		discover(k);
}

static void respond(struct conn *cn, int code, const char *ctype, const char *extra,
	const char *body, size_t len);
static void respond_error(struct conn *cn, int code, const char *extra, const char *msg);
static void conn_flush(struct console *k, struct conn *cn, uint64_t now);

static void on_message(mqttc_t *c, void *user, const mqtt_publish_t *m)
{
	struct console *k = user;
	uint64_t now = clock_mono_ms();
	const char *js = (const char *)m->payload;
	json_parser_t p;
	json_tok_t tok[32];
	uint32_t v;
	(void)c;
	nodetable_update(&k->nt, m->topic, m->topic_len, m->payload, m->payload_len,
		m->retain, now);
	/* a reply to a waiting POST /api/rcmd? */
	if (m->topic_len < 5 || memcmp(m->topic, "rsp/", 4) != 0 ||
	    json_parse(&p, js, m->payload_len, tok, 32) != JSON_OK ||
	    tok[0].type != JSON_OBJECT || json_find_key(js, tok, 0, "id", &v) != JSON_OK ||
	    tok[v].type != JSON_STRING)
		return;
	for (size_t i = 0; i < MAX_CONNS; i++) {
		struct conn *cn = &k->conns[i];
		if (cn->st != C_BUSY || cn->id[0] == '\0' || !json_streq(js, &tok[v], cn->id) ||
		    m->topic_len != 4 + strlen(cn->sn) || memcmp(m->topic + 4, cn->sn, m->topic_len - 4) != 0)
			continue;
		cn->id[0] = '\0';
		respond(cn, 200, "application/json", NULL, js, m->payload_len);
		cn->deadline = now + WRITE_MS;
		conn_flush(k, cn, now);
	}
}

/* --------------------------------------------------------- responses */

static void respond(struct conn *cn, int code, const char *ctype, const char *extra,
	const char *body, size_t len)
{
	cloud_buf_printf(&cn->out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		"Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
		"Referrer-Policy: no-referrer\r\n%s%s\r\n", code, http_reason(code), ctype, len,
		cn->close_after ? "Connection: close\r\n" :
		cn->hp.minor == 0 ? "Connection: keep-alive\r\n" : "", extra ? extra : "");
	cloud_buf_add(&cn->out, body, len);
	cn->responded = true;
}

static void respond_error(struct conn *cn, int code, const char *extra, const char *msg)
{
	cloud_buf_t b = { 0 };
	cloud_buf_str(&b, "{\"error\":");
	cloud_buf_json(&b, msg, strlen(msg));
	cloud_buf_str(&b, "}");
	if (code >= 500 && code != 503 && code != 504)
		cn->close_after = true;
	respond(cn, code, "application/json", extra, b.p != NULL ? b.p : "{}", b.p != NULL ? b.len : 2);
	cloud_buf_free(&b);
}

static void respond_buf(struct conn *cn, int code, cloud_buf_t *b)
{
	if (b->oom || b->p == NULL)
		respond_error(cn, 500, NULL, "out of memory");
	else
		respond(cn, code, "application/json", NULL, b->p, b->len);
	cloud_buf_free(b);
}

static void page(struct console *k, struct conn *cn)
{
	char hdr[sizeof k->csp + 64];
	cloud_buf_t b = { 0 };
	cloud_buf_add(&b, page_head, sizeof page_head - 1);
	cloud_buf_add(&b, page_style, sizeof page_style - 1);
	cloud_buf_add(&b, page_mid, sizeof page_mid - 1);
	cloud_buf_add(&b, page_script, sizeof page_script - 1);
	cloud_buf_add(&b, page_tail, sizeof page_tail - 1);
	fmt_snprintf(hdr, sizeof hdr, "Content-Security-Policy: %s\r\nX-Frame-Options: DENY\r\n", k->csp);
	if (b.oom)
		respond_error(cn, 500, NULL, "out of memory");
	else
		respond(cn, 200, "text/html; charset=utf-8", hdr, b.p, b.len);
	cloud_buf_free(&b);
}

static void api_nodes(struct console *k, struct conn *cn, uint64_t now)
{
	cloud_buf_t b = { 0 };
	cloud_buf_str(&b, "{\"nodes\":");
	cloud_nodes_json(&b, &k->nt, now);
	cloud_buf_str(&b, "}");
	respond_buf(cn, 200, &b);
}

static void api_stats(struct console *k, struct conn *cn, uint64_t now)
{
	cloud_buf_t b = { 0 };
	cloud_buf_printf(&b, "{\"broker\":{\"state\":\"%s\",\"since_ms\":%llu,\"connects\":%u,"
		"\"detail\":", k->up ? "up" : "down",
		(unsigned long long)(now - k->state_since), mqttc_connects(k->c));
	cloud_buf_json(&b, k->down_detail, strlen(k->down_detail));
	cloud_buf_printf(&b, "},\"uptime_ms\":%llu,\"http_requests\":%lu,\"http_clients\":%zu,",
		(unsigned long long)(now - k->started), k->requests, k->nconns);
	cloud_stats_json(&b, &k->nt, now);
	cloud_buf_str(&b, "}");
	respond_buf(cn, 200, &b);
}

/* {"sn":"...","cmd":"..."} -> req/<sn>; the reply (or 504) comes later */
static void api_rcmd(struct console *k, struct conn *cn, const char *body, size_t len,
	uint64_t now)
{
	json_parser_t p;
	json_tok_t tok[16];
	uint32_t vs, vc;
	char sn[NT_SERIAL_MAX + 2], cmd[REQ_CMD_MAX + 2], esc[REQ_CMD_MAX * 6], topic[NT_SERIAL_MAX + 8];
	char pl[sizeof esc + CLOUD_ID_MAX + 32];
	size_t snl, cl, el;
	json_status_t st = json_parse(&p, body, len, tok, 16);

	if (st != JSON_OK) {
		char msg[96];
		fmt_snprintf(msg, sizeof msg, "body is not valid JSON: %s at byte %zu",
			json_strerror(st), p.err_offset);
		respond_error(cn, 400, NULL, msg);
		return;
	}
	if (tok[0].type != JSON_OBJECT ||
	    json_find_key(body, tok, 0, "sn", &vs) != JSON_OK || tok[vs].type != JSON_STRING ||
	    json_find_key(body, tok, 0, "cmd", &vc) != JSON_OK || tok[vc].type != JSON_STRING) {
		respond_error(cn, 400, NULL, "expected an object with string members \"sn\" and \"cmd\"");
		return;
	}
	if (json_unescape(body, &tok[vs], sn, sizeof sn, &snl) != JSON_OK || !cloud_serial_ok(sn, snl)) {
		respond_error(cn, 400, NULL, "\"sn\" is not a serial number");
		return;
	}
	if (json_unescape(body, &tok[vc], cmd, sizeof cmd, &cl) != JSON_OK || cl == 0 ||
	    cl > REQ_CMD_MAX) {
		respond_error(cn, 400, NULL, "\"cmd\" must be 1-64 bytes");
		return;
	}
	if (mqttc_state(k->c) != MQTTC_UP) {
		respond_error(cn, 503, NULL, "not connected to the cloud broker");
		return;
	}
	el = json_escape(esc, sizeof esc, cmd, cl);
	cloud_make_id(cn->id, sizeof cn->id);
	fmt_snprintf(pl, sizeof pl, "{\"cmd\":\"%.*s\",\"id\":\"%s\"}", (int)el, esc, cn->id);
	fmt_snprintf(topic, sizeof topic, "req/%s", sn);
	if (mqttc_publish(k->c, topic, pl, strlen(pl), 1, false, NULL) != MQTT_OK) {
		cn->id[0] = '\0';
		respond_error(cn, 503, NULL, "too many requests in flight; try again");
		return;
	}
	memcpy(cn->sn, sn, snl + 1);
	cn->deadline = now + (uint64_t)k->o->timeout_ms;
}

static bool path_is(const char *buf, http_span_t s, const char *p)
{
	return http_span_is(buf, s, p);
}

static void handle(struct console *k, struct conn *cn, uint64_t now)
{
	const char *b = cn->in;
	const http_parser_t *h = &cn->hp;
	http_span_t path = http_path(b, h);
	const char *body = b + h->head_len;
	bool get = h->method == HTTP_M_GET, post = h->method == HTTP_M_POST;

	k->requests++;
	cn->close_after = !http_keep_alive(h);
	if (!http_host_ok(b, h, k->allowed, k->nallowed)) {
		respond_error(cn, 421, NULL, "the Host header does not name this console");
		return;
	}
	if (!http_origin_ok(b, h)) {
		respond_error(cn, 403, NULL, "cross-origin request refused");
		return;
	}
	if (path.len >= 5 && memcmp(b + path.off, "/api/", 5) == 0 && k->o->http_token != NULL &&
	    !http_bearer_ok(b, h, k->o->http_token)) {
		respond_error(cn, 401, "WWW-Authenticate: Bearer realm=\"dmqtt\"\r\n",
			"missing or wrong bearer token");
		return;
	}
	if (path_is(b, path, "/")) {
		if (get)
			page(k, cn);
		else
			respond_error(cn, 405, "Allow: GET\r\n", "use GET");
	} else if (path_is(b, path, "/api/nodes") || path_is(b, path, "/api/stats")) {
		if (!get)
			respond_error(cn, 405, "Allow: GET\r\n", "use GET");
		else if (path_is(b, path, "/api/nodes"))
			api_nodes(k, cn, now);
		else
			api_stats(k, cn, now);
	} else if (path_is(b, path, "/api/rcmd") || path_is(b, path, "/api/list")) {
		bool rcmd = path_is(b, path, "/api/rcmd");
		if (!post)
			respond_error(cn, 405, "Allow: POST\r\n", "use POST");
		else if ((rcmd || h->content_length > 0) && !http_is_json(b, h))
			respond_error(cn, 415, NULL, "the body must be application/json");
		else if (rcmd)
			api_rcmd(k, cn, body, h->content_length, now);
		else if (discover(k) != 0)
			respond_error(cn, 503, NULL, "not connected to the cloud broker");
		else
			respond(cn, 202, "application/json", NULL, "{\"sent\":\"req/all\"}", 18);
	} else {
		respond_error(cn, 404, NULL, "no such page");
	}
}

/* ------------------------------------------------------- connections */

static void conn_close(struct console *k, struct conn *cn)
{
	if (cn->st == C_FREE)
		return;
	close(cn->fd);
	free(cn->in);
	cloud_buf_free(&cn->out);
	memset(cn, 0, sizeof *cn);
	cn->fd = -1;
	cn->st = C_FREE;
	k->nconns--;
}

static void conn_next(struct conn *cn, uint64_t now)
{
	size_t used = http_total_len(&cn->hp);
	memmove(cn->in, cn->in + used, cn->in_len - used);
	cn->in_len -= used;
	cn->served++;
	http_init(&cn->hp, BODY_MAX);
	cn->st = C_READ;
	cn->responded = cn->continued = cn->close_after = false;
	cn->deadline = now + READ_MS;
}

static void conn_parse(struct console *k, struct conn *cn, uint64_t now)
{
	http_status_t st = http_parse(&cn->hp, cn->in, cn->in_len);
	if (st == HTTP_MORE) {
		if (cn->in_len == IN_CAP) {
			cn->close_after = true;
			cn->st = C_BUSY;
			respond_error(cn, 431, NULL, "request too large");
		} else if (http_in_body(&cn->hp) && cn->hp.expect_continue && !cn->continued) {
			cn->continued = true;
			cloud_buf_str(&cn->out, "HTTP/1.1 100 Continue\r\n\r\n");
		}
		return;
	}
	cn->st = C_BUSY;
	cn->deadline = now + WRITE_MS;
	if (st != HTTP_OK) {
		cn->close_after = true;
		respond_error(cn, http_status_code(st), NULL, cn->hp.why ? cn->hp.why : http_strerror(st));
		return;
	}
	handle(k, cn, now);
}

/* Send what is queued; after a complete response go on with the next
 * request, or close.  May free the connection. */
static void conn_flush(struct console *k, struct conn *cn, uint64_t now)
{
	while (cn->out_off < cn->out.len) {
		long r = net_fd_send(cn->fd, (const uint8_t *)cn->out.p + cn->out_off,
			cn->out.len - cn->out_off);
		if (r == 0)        /* would block (io.h contract) */
			return;
		if (r < 0) {
			conn_close(k, cn);
			return;
		}
		cn->out_off += (size_t)r;
	}
	cn->out.len = cn->out_off = 0;
	if (cn->out.oom) {
		conn_close(k, cn);
		return;
	}
	if (cn->st != C_BUSY || !cn->responded)
		return;
	if (cn->close_after) {
		shutdown(cn->fd, SHUT_WR);
		cn->st = C_LINGER;
		cn->deadline = now + LINGER_MS;
		return;
	}
	conn_next(cn, now);
	if (cn->in_len > 0)   /* a pipelined request */
		conn_parse(k, cn, now);
	if (cn->st == C_BUSY && cn->responded)
		conn_flush(k, cn, now);
}

static void conn_read(struct console *k, struct conn *cn, uint64_t now)
{
	if (cn->st == C_LINGER) {
		uint8_t junk[4096];
		long r = net_fd_recv(cn->fd, junk, sizeof junk);
		if (r < 0)          /* EOF or error; 0 is "nothing now" */
			conn_close(k, cn);
		return;
	}
	if (cn->st != C_READ)
		return;
	bool eof = false;
	for (;;) {
		long r = net_fd_recv(cn->fd, (uint8_t *)cn->in + cn->in_len, IN_CAP - cn->in_len);
		if (r == 0)            /* nothing more now */
			break;
		if (r < 0) {           /* EOF or error */
			eof = true;
			break;
		}
		cn->in_len += (size_t)r;
		if (cn->in_len == IN_CAP)
			break;
	}
	if (eof && cn->in_len == 0) {
		conn_close(k, cn);
		return;
	}
	conn_parse(k, cn, now);
	if (eof) {
		/* the client sent its request and shut its side: answer, then close */
		if (cn->st != C_BUSY) {
			conn_close(k, cn);
			return;
		}
		cn->close_after = true;
	}
	conn_flush(k, cn, now);
}

static void conn_expire(struct console *k, struct conn *cn, uint64_t now)
{
	if (cn->st == C_FREE || now < cn->deadline)
		return;
	if (cn->st == C_READ && cn->in_len > 0) {
		/* a slow or stuck client: tell it, then close */
		cn->st = C_BUSY;
		cn->close_after = true;
		cn->deadline = now + LINGER_MS;
		respond_error(cn, 408, NULL, "request not complete within 10 s");
		conn_flush(k, cn, now);
	} else if (cn->st == C_BUSY && cn->id[0] != '\0') {
		char msg[96];
		fmt_snprintf(msg, sizeof msg, "no reply from %s within %ld ms", cn->sn, k->o->timeout_ms);
		cn->id[0] = '\0';
		respond_error(cn, 504, NULL, msg);
		cn->deadline = now + WRITE_MS;
		conn_flush(k, cn, now);
	} else {
		conn_close(k, cn);   /* idle keep-alive, a reader that stalls, linger done */
	}
}

/* A kept-alive connection waiting for its next request, nothing received:
 * the one to close when every slot is taken. */
static bool idle(const struct conn *c)
{
	return c->st == C_READ && c->in_len == 0 && c->served > 0;
}

static bool any_idle(const struct console *k)
{
	for (size_t i = 0; i < MAX_CONNS; i++)
		if (idle(&k->conns[i]))
			return true;
	return false;
}

static void accept_all(struct console *k, uint64_t now)
{
	while (!k->stopping) {
		struct conn *cn = NULL;
		int fd;
		if (k->nconns == MAX_CONNS) {
			/* full: make room by closing the connection idle the longest */
			struct conn *old = NULL;
			for (size_t i = 0; i < MAX_CONNS; i++) {
				struct conn *x = &k->conns[i];
				if (idle(x) && (old == NULL || x->deadline < old->deadline))
					old = x;
			}
			if (old == NULL)
				return;
			conn_close(k, old);
		}
		fd = net_tcp_accept(k->lfd);
		if (fd < 0) {
			if (fd == -EMFILE || fd == -ENFILE)
				log_warn("cloud", "console: cannot accept: %s", strerror(-fd));
			return;
		}
		for (size_t i = 0; i < MAX_CONNS && cn == NULL; i++)
			if (k->conns[i].st == C_FREE)
				cn = &k->conns[i];
		if (cn == NULL || (cn->in = malloc(IN_CAP)) == NULL) {
			close(fd);
			return;
		}
		cn->fd = fd;
		cn->st = C_READ;
		http_init(&cn->hp, BODY_MAX);
		cn->deadline = now + READ_MS;
		k->nconns++;
	}
}

/* ------------------------------------------------------------- set-up */

static int csp_hash(char *out, size_t cap, const char *s, size_t n)
{
	br_sha256_context h;
	uint8_t d[32];
	char b64[48];
	size_t len;
	br_sha256_init(&h);
	br_sha256_update(&h, s, n);
	br_sha256_out(&h, d);
	if (b64_encode(d, sizeof d, b64, sizeof b64, &len) != B64_OK)
		return -1;
	return fmt_snprintf(out, cap, "'sha256-%.*s'", (int)len, b64) < (int)cap ? 0 : -1;
}

static bool is_loopback(const net_addr_t *a)
{
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)(const void *)&a->ss;
		return (ntohl(s->sin_addr.s_addr) >> 24) == 127;
	}
	if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)(const void *)&a->ss;
		static const uint8_t lo[16] = { [15] = 1 };
		return memcmp(&s->sin6_addr, lo, 16) == 0;
	}
	return false;
}

static int listen_http(struct console *k)
{
	const char *spec = k->o->http != NULL ? k->o->http : "127.0.0.1:9090";
	char host[NET_ADDR_STRLEN], safe[96];
	uint16_t port = 0;
	net_addr_t a;
	bool lo;

	if (net_split_hostport(spec, host, sizeof host, &port) != 0 || port == 0)
		return cli_usage_error("cloud", "--http needs ADDRESS:PORT, e.g. 127.0.0.1:9090 (got '%s')",
			cli_safe(spec, safe, sizeof safe));
	if (strcmp(host, "localhost") == 0)
		fmt_snprintf(host, sizeof host, "127.0.0.1");
	if (net_addr_literal(host, port, &a) != 0)
		return cli_usage_error("cloud", "--http needs an IP address (or localhost), got '%s'",
			cli_safe(host, safe, sizeof safe));
	lo = is_loopback(&a);
	if (!lo && (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0))
		return cli_usage_error("cloud", "--http: bind one address, not every interface");
	if (!lo && k->o->http_token == NULL)
		return cli_usage_error("cloud", "--http on a non-loopback address needs --http-token");
	net_addr_format(&a, k->hosts[0], sizeof k->hosts[0]);
	k->allowed[k->nallowed++] = k->hosts[0];
	if (lo) {
		fmt_snprintf(k->hosts[1], sizeof k->hosts[1], "localhost:%u", (unsigned)port);
		k->allowed[k->nallowed++] = k->hosts[1];
	}
	k->lfd = net_tcp_listen(&a, 128);
	if (k->lfd < 0) {
		fmt_fprintf(stderr, "dmqtt cloud: cannot listen on %s: %s\n", k->hosts[0], strerror(-k->lfd));
		return EXIT_UNAVAILABLE;
	}
	return 0;
}

static int build_csp(struct console *k)
{
	char hs[64], hj[64];
	if (csp_hash(hs, sizeof hs, page_style, sizeof page_style - 1) != 0 ||
	    csp_hash(hj, sizeof hj, page_script, sizeof page_script - 1) != 0)
		return -1;
	fmt_snprintf(k->csp, sizeof k->csp, "default-src 'none'; script-src %s; style-src %s; "
		"connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; "
		"frame-ancestors 'none'", hj, hs);
	return 0;
}

int cloud_serve(struct cloud_opts *o, mqttc_config_t *cfg, mqttc_hooks_t *hooks)
{
	static struct console k;
	struct pollfd pf[MAX_CONNS + 3];
	int sigfd, rc;
	uint64_t stop_by = 0;

	memset(&k, 0, sizeof k);
	k.o = o;
	k.lfd = -1;
	for (size_t i = 0; i < MAX_CONNS; i++)
		k.conns[i].fd = -1;
	if ((rc = listen_http(&k)) != 0)
		return rc;
	if (build_csp(&k) != 0 || cloud_table_new(&k.nt, o->max_nodes) != 0) {
		fmt_fprintf(stderr, "dmqtt cloud: out of memory\n");
		close(k.lfd);
		return EXIT_UNAVAILABLE;
	}
	cfg->inflight = MAX_CONNS + 8;
	hooks->on_up = on_up;
	hooks->on_down = on_down;
	hooks->on_message = on_message;
	hooks->on_suback = on_suback;
	hooks->user = &k;
	k.c = mqttc_new(cfg, hooks);
	if (k.c == NULL) {
		fmt_fprintf(stderr, "dmqtt cloud: out of memory\n");
		close(k.lfd);
		cloud_table_free(&k.nt);
		return EXIT_UNAVAILABLE;
	}
	for (size_t i = 0; i < NSUBS; i++)
		mqttc_subscribe(k.c, sub_filters[i], sub_qos[i]);
	sigfd = proc_signals_init();
	k.started = k.state_since = clock_mono_ms();
	fmt_snprintf(k.down_detail, sizeof k.down_detail, "connecting to %s:%u", o->co.host,
		(unsigned)o->co.port);
	log_info("cloud", "console on http://%s/%s", k.hosts[0],
		o->http_token ? " (API needs the bearer token)" : "");
	mqttc_start(k.c, k.started);

	for (;;) {
		int n = 0, li = -1, ci = -1, si = -1, ix[MAX_CONNS], t;
		uint64_t now = clock_mono_ms();
		if (k.stopping && (mqttc_state(k.c) == MQTTC_IDLE || now >= stop_by))
			break;
		if (!k.stopping && (k.nconns < MAX_CONNS || any_idle(&k))) {
			pf[n].fd = k.lfd;
			pf[n].events = POLLIN;
			li = n++;
		}
		if (mqttc_pollfd(k.c, &pf[n]))
			ci = n++;
		if (sigfd >= 0) {
			pf[n].fd = sigfd;
			pf[n].events = POLLIN;
			si = n++;
		}
		t = mqttc_timeout_ms(k.c, now);
		for (size_t i = 0; i < MAX_CONNS; i++) {
			struct conn *cn = &k.conns[i];
			int d;
			ix[i] = -1;
			if (cn->st == C_FREE)
				continue;
			pf[n].fd = cn->fd;
			pf[n].events = (short)((cn->st == C_READ || cn->st == C_LINGER ? POLLIN : 0) |
				(cn->out_off < cn->out.len ? POLLOUT : 0));
			ix[i] = n++;
			d = cn->deadline > now ? (int)(cn->deadline - now) : 0;
			if (t < 0 || d < t)
				t = d;
		}
		if (k.stopping && (t < 0 || t > 100))
			t = 100;
		for (int i = 0; i < n; i++)
			pf[i].revents = 0;
		net_poll(pf, (nfds_t)n, t);
		now = clock_mono_ms();
		mqttc_process(k.c, ci >= 0 ? &pf[ci] : NULL, now);
		if (si >= 0 && (pf[si].revents & POLLIN)) {
			int sig;
			while ((sig = proc_signal_next(sigfd)) != 0)
				if ((sig == SIGINT || sig == SIGTERM) && !k.stopping) {
					log_info("cloud", "console stopping (signal %d)", sig);
					k.stopping = true;
					stop_by = now + 2000;
					mqttc_stop(k.c);
				}
		}
		for (size_t i = 0; i < MAX_CONNS; i++) {
			struct conn *cn = &k.conns[i];
			short re;
			if (ix[i] < 0 || cn->st == C_FREE)
				continue;
			re = pf[ix[i]].revents;
			if (re & POLLNVAL) {
				conn_close(&k, cn);
				continue;
			}
			if ((re & POLLOUT) || ((re & (POLLERR | POLLHUP)) && cn->out_off < cn->out.len))
				conn_flush(&k, cn, now);
			if (cn->st != C_FREE && (re & (POLLIN | POLLHUP | POLLERR)))
				conn_read(&k, cn, now);
			/* gone while its command runs: nobody to answer */
			if (cn->st == C_BUSY && (re & (POLLHUP | POLLERR)))
				conn_close(&k, cn);
		}
		for (size_t i = 0; i < MAX_CONNS; i++)
			conn_expire(&k, &k.conns[i], now);
		if (li >= 0 && (pf[li].revents & POLLIN))
			accept_all(&k, now);
		if (k.stopping)
			for (size_t i = 0; i < MAX_CONNS; i++)
				conn_close(&k, &k.conns[i]);
	}
	for (size_t i = 0; i < MAX_CONNS; i++)
		conn_close(&k, &k.conns[i]);
	close(k.lfd);
	mqttc_free(k.c);
	cloud_table_free(&k.nt);
	return EXIT_OK;
}
