/* http_test.c -- src/http.c: the strict HTTP/1.1 request parser and the
 * console's Host / Origin / token rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/http.h"
#include "unit.h"

#define BODY 8192

/* Whole request at once. */
static http_status_t parse_all(const char *s, http_parser_t *p)
{
	http_init(p, BODY);
	return http_parse(p, s, strlen(s));
}

/*
 * Feed s one byte more at a time (the buffer grows, as a server's does):
 * every prefix must say HTTP_MORE until the byte where the whole-buffer
 * result appears, and that result must be the same.
 */
static http_status_t parse_split(const char *s, size_t len)
{
	http_parser_t p, q;
	http_status_t whole, st = HTTP_MORE;
	http_init(&q, BODY);
	whole = http_parse(&q, s, len);
	http_init(&p, BODY);
	for (size_t i = 1; i <= len; i++) {
		st = http_parse(&p, s, i);
		if (st != HTTP_MORE)
			break;
	}
	CHECK_INT(st, whole);
	if (st == HTTP_OK) {
		CHECK_INT(p.head_len, q.head_len);
		CHECK_INT(p.content_length, q.content_length);
		CHECK_INT(p.target.off, q.target.off);
		CHECK_INT(p.target.len, q.target.len);
		CHECK_INT(p.host.len, q.host.len);
	}
	return st;
}

static http_status_t split(const char *s)
{
	return parse_split(s, strlen(s));
}

static void http_get_simple(void)
{
	const char *r = "GET /api/nodes?x=1 HTTP/1.1\r\nHost: 127.0.0.1:9090\r\n"
		"User-Agent: t\r\nAccept: */*\r\n\r\n";
	http_parser_t p;
	http_span_t path;
	CHECK_INT(parse_all(r, &p), HTTP_OK);
	CHECK_INT(p.method, HTTP_M_GET);
	CHECK(http_span_is(r, p.method_text, "GET"));
	CHECK(http_span_is(r, p.target, "/api/nodes?x=1"));
	path = http_path(r, &p);
	CHECK(http_span_is(r, path, "/api/nodes"));
	CHECK(http_span_is(r, p.host, "127.0.0.1:9090"));
	CHECK_INT(p.minor, 1);
	CHECK_INT(p.head_len, strlen(r));
	CHECK_INT(http_total_len(&p), strlen(r));
	CHECK_INT(p.nfields, 3);
	CHECK(http_keep_alive(&p));
	CHECK_INT(http_status_code(HTTP_OK), 200);
}

static void http_post_body(void)
{
	const char *r = "POST /api/rcmd HTTP/1.1\r\nHost: h:1\r\nContent-Type: application/json\r\n"
		"Content-Length: 29\r\n\r\n{\"sn\":\"ABC\",\"cmd\":\"uptime\"}xx";
	http_parser_t p;
	http_init(&p, BODY);
	CHECK_INT(http_parse(&p, r, strlen(r) - 5), HTTP_MORE);
	CHECK(http_in_body(&p));
	CHECK_INT(http_parse(&p, r, strlen(r)), HTTP_OK);
	CHECK_INT(p.method, HTTP_M_POST);
	CHECK_INT(p.content_length, 29);
	CHECK_INT(http_total_len(&p), strlen(r));
	CHECK(http_is_json(r, &p));
	CHECK_INT(split(r), HTTP_OK);
	/* a request that is complete stays complete */
	CHECK_INT(http_parse(&p, r, strlen(r)), HTTP_OK);
}

static void http_pipelined(void)
{
	const char *r = "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n";
	http_parser_t p;
	size_t first;
	CHECK_INT(parse_all(r, &p), HTTP_OK);
	first = http_total_len(&p);
	CHECK_INT(first, strlen(r) / 2);
	http_init(&p, BODY);
	CHECK_INT(http_parse(&p, r + first, strlen(r) - first), HTTP_OK);
	CHECK(http_span_is(r + first, p.target, "/b"));
}

static void http_leading_crlf(void)
{
	http_parser_t p;
	CHECK_INT(parse_all("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", &p), HTTP_OK);
	CHECK_INT(parse_all("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", &p), HTTP_E_SYNTAX);
}

static void http_bad_request_lines(void)
{
	static const char *const bad[] = {
		"GET  / HTTP/1.1\r\nHost: h\r\n\r\n",       /* two spaces */
		" GET / HTTP/1.1\r\nHost: h\r\n\r\n",       /* leading space */
		"GET / HTTP/1.1 \r\nHost: h\r\n\r\n",       /* trailing space */
		"GET /\r\n\r\n",                            /* HTTP/0.9 */
		"GET / \r\nHost: h\r\n\r\n",                /* no version */
		"GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", /* absolute-form */
		"GET * HTTP/1.1\r\nHost: h\r\n\r\n",        /* asterisk-form */
		"GET /a#b HTTP/1.1\r\nHost: h\r\n\r\n",     /* fragment */
		"GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n",   /* control char */
		"GET /\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", /* raw UTF-8 */
		"GET / HTTX/1.1\r\nHost: h\r\n\r\n",
		"GET / http/1.1\r\nHost: h\r\n\r\n",
		"GET / HTTP/1.1x\r\nHost: h\r\n\r\n",
		"GET / HTTP/1.1\nHost: h\r\n\r\n",          /* bare LF */
		"GET / HTTP/1.1\rHost: h\r\n\r\n",          /* bare CR */
		"G(T / HTTP/1.1\r\nHost: h\r\n\r\n",        /* not a token */
		"GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		http_parser_t p;
		http_status_t st = parse_all(bad[i], &p);
		if (http_status_code(st) != 400)
			unit_fail(__FILE__, __LINE__, "bad[%zu]: status %d", i, (int)st);
		CHECK(p.why != NULL);
		CHECK_INT(split(bad[i]), st);
	}
}

static void http_versions(void)
{
	http_parser_t p;
	CHECK_INT(parse_all("GET / HTTP/2.0\r\nHost: h\r\n\r\n", &p), HTTP_E_VERSION);
	CHECK_INT(http_status_code(HTTP_E_VERSION), 505);
	CHECK_INT(parse_all("GET / HTTP/1.2\r\nHost: h\r\n\r\n", &p), HTTP_E_VERSION);
	CHECK_INT(parse_all("GET / HTTP/1.0\r\n\r\n", &p), HTTP_OK);   /* 1.0 needs no Host */
	CHECK_INT(p.minor, 0);
	CHECK(!http_keep_alive(&p));
	CHECK_INT(parse_all("GET / HTTP/1.1\r\n\r\n", &p), HTTP_E_NO_HOST);
	CHECK_INT(http_status_code(HTTP_E_NO_HOST), 400);
}

static void http_methods(void)
{
	http_parser_t p;
	char big[64];
	CHECK_INT(parse_all("PUT / HTTP/1.1\r\nHost: h\r\n\r\n", &p), HTTP_OK);
	CHECK_INT(p.method, HTTP_M_OTHER);
	CHECK_INT(parse_all("get / HTTP/1.1\r\nHost: h\r\n\r\n", &p), HTTP_OK);
	CHECK_INT(p.method, HTTP_M_OTHER);   /* methods are case-sensitive */
	CHECK_INT(parse_all("HEAD / HTTP/1.1\r\nHost: h\r\n\r\n", &p), HTTP_OK);
	CHECK_INT(p.method, HTTP_M_OTHER);
	snprintf(big, sizeof big, "%s / HTTP/1.1\r\nHost: h\r\n\r\n", "ABCDEFGHIJKLMNOPQ");
	CHECK_INT(parse_all(big, &p), HTTP_E_METHOD_LONG);
	CHECK_INT(http_status_code(HTTP_E_METHOD_LONG), 501);
	snprintf(big, sizeof big, "%s / HTTP/1.1\r\nHost: h\r\n\r\n", "ABCDEFGHIJKLMNOP");
	CHECK_INT(parse_all(big, &p), HTTP_OK);
}

static void http_bad_fields(void)
{
	static const char *const bad[] = {
		"GET / HTTP/1.1\r\nHost : h\r\n\r\n",             /* space before colon */
		"GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n",   /* obs-fold */
		"GET / HTTP/1.1\r\nHost: h\r\n\tfolded\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nX: a\x01z\r\n\r\n", /* control char */
		"GET / HTTP/1.1\r\nHost: h\r\nX: a\x7fz\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nX: a\nb\r\n\r\n",   /* bare LF in a value */
		"GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\n: novalue\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nX(y): 1\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\n\r\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nHost: h\r\n\r\n",   /* duplicate Host */
		"GET / HTTP/1.1\r\nHost: h\r\nOrigin: a\r\nOrigin: a\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nAuthorization: a\r\nauthorization: a\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Type: a\r\nContent-type: a\r\nContent-Length: 0\r\n\r\n",
	};
	http_parser_t p;
	static const char nul[] = "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n";
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		http_status_t st = parse_all(bad[i], &p);
		if (http_status_code(st) != 400)
			unit_fail(__FILE__, __LINE__, "bad[%zu]: status %d", i, (int)st);
		CHECK_INT(split(bad[i]), st);
	}
	http_init(&p, BODY);
	CHECK_INT(http_parse(&p, nul, sizeof nul - 1), HTTP_E_SYNTAX);
	CHECK_INT(parse_split(nul, sizeof nul - 1), HTTP_E_SYNTAX);
	/* empty values and surrounding whitespace are fine */
	CHECK_INT(parse_all("GET / HTTP/1.1\r\nHost:\t h:1 \t\r\nX-Empty:\r\nY:  \r\n\r\n", &p), HTTP_OK);
	CHECK_INT(p.host.len, 3);
}

static void http_content_length(void)
{
	http_parser_t p;
	CHECK_INT(parse_all("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", &p),
		HTTP_E_DUPLICATE);
	CHECK_INT(http_status_code(p.st), 400);
	CHECK_INT(parse_all("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1, 1\r\n\r\nx", &p), HTTP_E_BAD_LENGTH);
	CHECK_INT(parse_all("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 12a\r\n\r\n", &p), HTTP_E_BAD_LENGTH);
	CHECK_INT(parse_all("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", &p), HTTP_E_BAD_LENGTH);
	CHECK_INT(parse_all("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\n", &p), HTTP_E_BAD_LENGTH);
	CHECK_INT(parse_all("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", &p), HTTP_E_BAD_LENGTH);
	CHECK_INT(parse_all("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 8193\r\n\r\n", &p), HTTP_E_BODY_LARGE);
	CHECK_INT(http_status_code(HTTP_E_BODY_LARGE), 413);
	CHECK_INT(parse_all("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999999\r\n\r\n", &p),
		HTTP_E_BODY_LARGE);
	CHECK_INT(parse_all("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", &p), HTTP_OK);
	CHECK_INT(parse_all("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 007\r\n\r\nabcdefg", &p), HTTP_OK);
	CHECK_INT(p.content_length, 7);
	/* at the limit */
	{
		char *r = malloc(100 + BODY);
		int n = snprintf(r, 100, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n", BODY);
		memset(r + n, 'x', BODY);
		http_init(&p, BODY);
		CHECK_INT(http_parse(&p, r, (size_t)n + BODY), HTTP_OK);
		free(r);
	}
}

static void http_length_required(void)
{
	http_parser_t p;
	CHECK_INT(parse_all("POST /api/rcmd HTTP/1.1\r\nHost: h\r\n\r\n", &p), HTTP_E_NO_LENGTH);
	CHECK_INT(http_status_code(HTTP_E_NO_LENGTH), 411);
	CHECK_INT(parse_all("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", &p),
		HTTP_E_NO_LENGTH);
	CHECK_INT(parse_all("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", &p),
		HTTP_E_CODING);
	CHECK_INT(http_status_code(HTTP_E_CODING), 501);
	CHECK_INT(parse_all("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc", &p),
		HTTP_E_SMUGGLE);
	CHECK_INT(http_status_code(HTTP_E_SMUGGLE), 400);
	CHECK_INT(parse_all("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", &p),
		HTTP_E_NO_LENGTH);
	/* GET needs no length */
	CHECK_INT(parse_all("GET / HTTP/1.1\r\nHost: h\r\n\r\n", &p), HTTP_OK);
	CHECK_INT(p.content_length, 0);
}

static void http_expect(void)
{
	http_parser_t p;
	const char *r = "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n";
	http_init(&p, BODY);
	CHECK_INT(http_parse(&p, r, strlen(r)), HTTP_MORE);
	CHECK(p.expect_continue);
	CHECK(http_in_body(&p));
	CHECK_INT(parse_all("GET / HTTP/1.1\r\nHost: h\r\nExpect: something\r\n\r\n", &p), HTTP_E_EXPECT);
	CHECK_INT(http_status_code(HTTP_E_EXPECT), 417);
}

static void http_limits(void)
{
	http_parser_t p;
	char *r = malloc(HTTP_HEAD_MAX * 2);
	size_t n;
	/* target: 2048 bytes pass, 2049 are 414 */
	n = (size_t)sprintf(r, "GET /");
	memset(r + n, 'a', HTTP_TARGET_MAX - 1);
	n += HTTP_TARGET_MAX - 1;
	n += (size_t)sprintf(r + n, " HTTP/1.1\r\nHost: h\r\n\r\n");
	http_init(&p, BODY);
	CHECK_INT(http_parse(&p, r, n), HTTP_OK);
	CHECK_INT(p.target.len, HTTP_TARGET_MAX);
	n = (size_t)sprintf(r, "GET /");
	memset(r + n, 'a', HTTP_TARGET_MAX);
	n += HTTP_TARGET_MAX;
	n += (size_t)sprintf(r + n, " HTTP/1.1\r\nHost: h\r\n\r\n");
	http_init(&p, BODY);
	CHECK_INT(http_parse(&p, r, n), HTTP_E_TARGET_LONG);
	CHECK_INT(http_status_code(HTTP_E_TARGET_LONG), 414);
	/* head: exactly 8192 bytes pass, 8193 are 431 */
	for (size_t extra = 0; extra < 2; extra++) {
		size_t fill;
		n = (size_t)sprintf(r, "GET / HTTP/1.1\r\nHost: h\r\nX: ");
		fill = HTTP_HEAD_MAX - n - 4 + extra;
		memset(r + n, 'v', fill);
		n += fill;
		memcpy(r + n, "\r\n\r\n", 4);
		n += 4;
		http_init(&p, BODY);
		CHECK_INT(http_parse(&p, r, n), extra ? HTTP_E_HEAD_LARGE : HTTP_OK);
	}
	CHECK_INT(http_status_code(HTTP_E_HEAD_LARGE), 431);
	/* an endless header without CRLF stops at the limit too */
	n = (size_t)sprintf(r, "GET / HTTP/1.1\r\nX: ");
	memset(r + n, 'v', HTTP_HEAD_MAX * 2 - n);
	http_init(&p, BODY);
	CHECK_INT(http_parse(&p, r, HTTP_HEAD_MAX * 2), HTTP_E_HEAD_LARGE);
	CHECK_INT(p.pos, HTTP_HEAD_MAX);
	/* 64 fields pass, 65 are 431 */
	for (int k = 64; k <= 65; k++) {
		n = (size_t)sprintf(r, "GET / HTTP/1.1\r\nHost: h\r\n");
		for (int i = 1; i < k; i++)
			n += (size_t)sprintf(r + n, "X-%d: %d\r\n", i, i);
		n += (size_t)sprintf(r + n, "\r\n");
		http_init(&p, BODY);
		CHECK_INT(http_parse(&p, r, n), k == 64 ? HTTP_OK : HTTP_E_HEAD_LARGE);
	}
	free(r);
}

/* Every prefix of every test request: no early verdict, same final one. */
static void http_split_everywhere(void)
{
	static const char *const reqs[] = {
		"GET / HTTP/1.1\r\nHost: localhost:9090\r\nConnection: keep-alive\r\n\r\n",
		("POST /api/rcmd HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
		 "Content-Length: 28\r\nOrigin: http://h\r\n\r\n{\"sn\":\"A\",\"cmd\":\"uptime\"}   "),
		"\r\nGET /x?y HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
		"GET / HTTP/2.0\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\n x\r\n\r\n",
	};
	static const http_status_t want[] = {
		HTTP_OK, HTTP_OK, HTTP_OK, HTTP_E_NO_LENGTH, HTTP_E_DUPLICATE, HTTP_E_VERSION,
		HTTP_E_SYNTAX,
	};
	for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++)
		CHECK_INT(split(reqs[i]), want[i]);
}

static void http_connection(void)
{
	http_parser_t p;
	CHECK_INT(parse_all("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", &p), HTTP_OK);
	CHECK(!http_keep_alive(&p));
	CHECK_INT(parse_all("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, CLOSE\r\n\r\n", &p), HTTP_OK);
	CHECK(!http_keep_alive(&p));
	CHECK_INT(parse_all("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &p), HTTP_OK);
	CHECK(http_keep_alive(&p));
	CHECK_INT(parse_all("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", &p), HTTP_OK);
	CHECK(!http_keep_alive(&p));
	CHECK_INT(parse_all("GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n", &p), HTTP_OK);
	CHECK(http_keep_alive(&p));
}

static void http_host_rules(void)
{
	static const char *const allowed[] = { "127.0.0.1:9090", "localhost:9090" };
	static const struct { const char *host; bool ok; } cases[] = {
		{ "127.0.0.1:9090", true }, { "localhost:9090", true }, { "LOCALHOST:9090", true },
		{ "127.0.0.1", false }, { "localhost", false }, { "127.0.0.1:9091", false },
		{ "evil.example:9090", false }, { "127.0.0.1:9090.evil.example", false },
		{ "127.0.0.1:90900", false }, { "", false }, { "[::1]:9090", false },
	};
	char r[256];
	http_parser_t p;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(r, sizeof r, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", cases[i].host);
		CHECK_INT(parse_all(r, &p), HTTP_OK);
		if (http_host_ok(r, &p, allowed, 2) != cases[i].ok)
			unit_fail(__FILE__, __LINE__, "Host '%s'", cases[i].host);
	}
	CHECK_INT(parse_all("GET / HTTP/1.0\r\n\r\n", &p), HTTP_OK);
	CHECK(!http_host_ok("GET / HTTP/1.0\r\n\r\n", &p, allowed, 2));
}

static void http_origin_rules(void)
{
	static const struct { const char *origin; bool ok; } cases[] = {
		{ NULL, true }, { "http://127.0.0.1:9090", true }, { "HTTP://127.0.0.1:9090", true },
		{ "https://127.0.0.1:9090", false }, { "http://localhost:9090", false },
		{ "null", false }, { "http://evil.example", false }, { "http://127.0.0.1:9090/", false },
		{ "http://127.0.0.1", false }, { "", false },
	};
	char r[256];
	http_parser_t p;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (cases[i].origin != NULL)
			snprintf(r, sizeof r, "POST / HTTP/1.1\r\nHost: 127.0.0.1:9090\r\nOrigin: %s\r\n"
				"Content-Length: 0\r\n\r\n", cases[i].origin);
		else
			snprintf(r, sizeof r, "POST / HTTP/1.1\r\nHost: 127.0.0.1:9090\r\nContent-Length: 0\r\n\r\n");
		CHECK_INT(parse_all(r, &p), HTTP_OK);
		if (http_origin_ok(r, &p) != cases[i].ok)
			unit_fail(__FILE__, __LINE__, "Origin '%s'", cases[i].origin ? cases[i].origin : "(none)");
	}
	/* an Origin without Host is never same-origin */
	CHECK_INT(parse_all("GET / HTTP/1.0\r\nOrigin: http://\r\n\r\n", &p), HTTP_OK);
	CHECK(!http_origin_ok("GET / HTTP/1.0\r\nOrigin: http://\r\n\r\n", &p));
}

static void http_bearer_rules(void)
{
	static const struct { const char *auth; bool ok; } cases[] = {
		{ "Bearer s3cret", true }, { "bearer s3cret", true }, { "Bearer   s3cret", true },
		{ "Bearer s3cre", false }, { "Bearer s3cret2", false }, { "Bearer S3CRET", false },
		{ "Basic s3cret", false }, { "Bearers3cret", false }, { "s3cret", false },
		{ "Bearer ", false }, { NULL, false },
	};
	char r[256];
	http_parser_t p;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (cases[i].auth != NULL)
			snprintf(r, sizeof r, "GET / HTTP/1.1\r\nHost: h\r\nAuthorization: %s\r\n\r\n", cases[i].auth);
		else
			snprintf(r, sizeof r, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
		CHECK_INT(parse_all(r, &p), HTTP_OK);
		if (http_bearer_ok(r, &p, "s3cret") != cases[i].ok)
			unit_fail(__FILE__, __LINE__, "Authorization '%s'", cases[i].auth ? cases[i].auth : "(none)");
	}
}

static void http_json_type(void)
{
	static const struct { const char *ct; bool ok; } cases[] = {
		{ "application/json", true }, { "application/json; charset=utf-8", true },
		{ "Application/JSON;charset=UTF-8", true }, { "application/json ;x=y", true },
		{ "application/jsonx", false }, { "text/plain", false }, { "application/js", false },
		{ "", false },
	};
	char r[256];
	http_parser_t p;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(r, sizeof r, "POST / HTTP/1.1\r\nHost: h\r\nContent-Type: %s\r\nContent-Length: 0\r\n\r\n",
			cases[i].ct);
		CHECK_INT(parse_all(r, &p), HTTP_OK);
		if (http_is_json(r, &p) != cases[i].ok)
			unit_fail(__FILE__, __LINE__, "Content-Type '%s'", cases[i].ct);
	}
	CHECK_INT(parse_all("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", &p), HTTP_OK);
	CHECK(!http_is_json("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", &p));
}

static void http_texts(void)
{
	for (int st = HTTP_OK; st <= HTTP_E_EXPECT; st++) {
		CHECK(http_strerror((http_status_t)st) != NULL);
		CHECK(strcmp(http_reason(http_status_code((http_status_t)st)), "Unknown") != 0);
	}
	CHECK_STR(http_reason(404), "Not Found");
	CHECK_STR(http_reason(421), "Misdirected Request");
	CHECK_STR(http_reason(999), "Unknown");
}

/* Errors are sticky: more bytes do not revive a refused request. */
static void http_sticky(void)
{
	http_parser_t p;
	const char *r = "GET / HTTP/1.1\nHost: h\r\n\r\n";
	http_init(&p, BODY);
	CHECK_INT(http_parse(&p, r, 16), HTTP_E_SYNTAX);
	CHECK_INT(http_parse(&p, r, strlen(r)), HTTP_E_SYNTAX);
}

UNIT_SUITE(http,
	UNIT_CASE(http_get_simple), UNIT_CASE(http_post_body), UNIT_CASE(http_pipelined),
	UNIT_CASE(http_leading_crlf), UNIT_CASE(http_bad_request_lines), UNIT_CASE(http_versions),
	UNIT_CASE(http_methods), UNIT_CASE(http_bad_fields), UNIT_CASE(http_content_length),
	UNIT_CASE(http_length_required), UNIT_CASE(http_expect), UNIT_CASE(http_limits),
	UNIT_CASE(http_split_everywhere), UNIT_CASE(http_connection), UNIT_CASE(http_host_rules),
	UNIT_CASE(http_origin_rules), UNIT_CASE(http_bearer_rules), UNIT_CASE(http_json_type),
	UNIT_CASE(http_texts), UNIT_CASE(http_sticky))
