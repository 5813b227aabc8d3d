/*
 * Fuzz the console's HTTP/1.1 request parser (src/http.c) and its policy
 * helpers.
 *
 * Every input is parsed as a stream of pipelined requests, twice: all bytes
 * at once, and one byte more per call (as a slow client sends them).  Both
 * must reach the same verdicts at the same places.  On success the spans
 * must lie inside the request, the limits must hold, and every helper runs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BODY_MAX 8192

#define ASSERT(c) do { if (!(c)) { \
	fprintf(stderr, "%s:%d: ASSERT(%s) failed\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

static void check_span(http_span_t s, size_t head_len)
{
	ASSERT(s.len == 0 || (size_t)s.off + s.len <= head_len);
}

static void check_ok(const char *buf, size_t len, const http_parser_t *p)
{
	static const char *const allowed[] = { "127.0.0.1:9090", "localhost:9090" };
	http_span_t path;
	ASSERT(p->head_len > 0 && p->head_len <= HTTP_HEAD_MAX);
	ASSERT(p->content_length <= BODY_MAX);
	ASSERT(http_total_len(p) <= len);
	ASSERT(p->minor <= 1);
	ASSERT(p->nfields <= HTTP_FIELDS_MAX);
	check_span(p->method_text, p->head_len);
	check_span(p->target, p->head_len);
	check_span(p->host, p->head_len);
	check_span(p->origin, p->head_len);
	check_span(p->content_type, p->head_len);
	check_span(p->authorization, p->head_len);
	ASSERT(p->method_text.len >= 1 && p->method_text.len <= HTTP_METHOD_MAX);
	ASSERT(p->target.len >= 1 && p->target.len <= HTTP_TARGET_MAX);
	ASSERT(buf[p->target.off] == '/');
	ASSERT(memchr(buf + p->target.off, ' ', p->target.len) == NULL);
	ASSERT(p->method != HTTP_M_POST || (p->seen & HTTP_F_LENGTH));
	ASSERT(!(p->seen & HTTP_F_TE));
	ASSERT(p->minor == 0 || (p->seen & HTTP_F_HOST));
	path = http_path(buf, p);
	ASSERT(path.off == p->target.off && path.len <= p->target.len);
	(void)http_keep_alive(p);
	(void)http_host_ok(buf, p, allowed, 2);
	if (http_origin_ok(buf, p) && (p->seen & HTTP_F_ORIGIN))
		ASSERT(p->origin.len == p->host.len + 7);
	(void)http_bearer_ok(buf, p, "token");
	(void)http_is_json(buf, p);
	ASSERT(http_status_code(HTTP_OK) == 200);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a private copy, so reads past `size` are caught by ASan */
	char *buf = malloc(size ? size : 1);
	size_t off = 0;
	ASSERT(buf != NULL);
	memcpy(buf, data, size);
	while (off < size) {
		http_parser_t whole, slow;
		http_status_t a, b = HTTP_MORE;
		size_t n = size - off, at = 0;
		http_init(&whole, BODY_MAX);
		a = http_parse(&whole, buf + off, n);
		http_init(&slow, BODY_MAX);
		for (size_t i = 1; i <= n; i++) {
			b = http_parse(&slow, buf + off, i);
			if (b != HTTP_MORE) {
				at = i;
				break;
			}
		}
		ASSERT(a == b);
		ASSERT(http_strerror(a) != NULL);
		if (a == HTTP_MORE)
			break;
		if (a != HTTP_OK) {
			int code = http_status_code(a);
			ASSERT(code == 400 || code == 411 || code == 413 || code == 414 ||
				code == 417 || code == 431 || code == 501 || code == 505);
			ASSERT(whole.why != NULL);
			ASSERT(http_parse(&whole, buf + off, n) == a);   /* sticky */
			break;
		}
		ASSERT(whole.head_len == slow.head_len);
		ASSERT(whole.content_length == slow.content_length);
		ASSERT(whole.target.off == slow.target.off && whole.target.len == slow.target.len);
		ASSERT(whole.host.off == slow.host.off && whole.host.len == slow.host.len);
		ASSERT(at == http_total_len(&whole) || (whole.content_length == 0 && at == whole.head_len));
		check_ok(buf + off, n, &whole);
		off += http_total_len(&whole);
	}
	free(buf);
	return 0;
}
