/* http.c -- see http.h */
#include "src/http.h"

#include <string.h>

enum {
	S_START, S_START_LF, S_METHOD, S_TARGET0, S_TARGET, S_VERSION, S_LINE_LF,
	S_FIELD, S_NAME, S_OWS, S_VALUE, S_FIELD_LF, S_END_LF, S_BODY
};

/* te_other lives in a bit of `seen` the header does not publish */
#define F_TE_OTHER 0x100u

static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c != 0 && memchr("!#$%&'*+-.^_`|~", c, 15) != NULL;
}

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static bool mem_ci(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return false;
	return true;
}

bool http_span_is(const char *buf, http_span_t s, const char *lit)
{
	size_t n = strlen(lit);
	return s.len == n && memcmp(buf + s.off, lit, n) == 0;
}

bool http_span_is_ci(const char *buf, http_span_t s, const char *lit)
{
	size_t n = strlen(lit);
	return s.len == n && mem_ci(buf + s.off, lit, n);
}

void http_init(http_parser_t *p, size_t body_max)
{
	memset(p, 0, sizeof *p);
	p->st = HTTP_MORE;
	p->body_max = body_max;
	p->state = S_START;
}

static http_status_t fail(http_parser_t *p, http_status_t st, const char *why)
{
	p->st = st;
	p->why = why;
	return st;
}

static http_span_t span(uint32_t off, uint32_t end)
{
	http_span_t s = { off, end - off };
	return s;
}

/* A field that may appear once: its span, or HTTP_E_DUPLICATE. */
static http_status_t once(http_parser_t *p, unsigned flag, http_span_t *dst, http_span_t v,
	const char *why)
{
	if (p->seen & flag)
		return fail(p, HTTP_E_DUPLICATE, why);
	p->seen |= flag;
	*dst = v;
	return HTTP_MORE;
}

static http_status_t content_length(http_parser_t *p, const char *v, size_t n)
{
	size_t val = 0;
	bool big = false;
	if (p->seen & HTTP_F_LENGTH)
		return fail(p, HTTP_E_DUPLICATE, "Content-Length appears twice");
	p->seen |= HTTP_F_LENGTH;
	if (n == 0)
		return fail(p, HTTP_E_BAD_LENGTH, "empty Content-Length");
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return fail(p, HTTP_E_BAD_LENGTH, "Content-Length is not a decimal number");
		if (val > p->body_max)
			big = true;
		else
			val = val * 10 + (size_t)(v[i] - '0');
	}
	if (big || val > p->body_max)
		return fail(p, HTTP_E_BODY_LARGE, "request body over the limit");
	p->content_length = val;
	return HTTP_MORE;
}

/* Connection: a comma-separated list of tokens */
static void connection(http_parser_t *p, const char *v, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t s, e;
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == 5 && mem_ci(v + s, "close", 5))
			p->conn_close = true;
		else if (e - s == 10 && mem_ci(v + s, "keep-alive", 10))
			p->conn_keep_alive = true;
	}
}

static http_status_t field(http_parser_t *p, const char *buf)
{
	const char *name = buf + p->name_off, *v = buf + p->val_off;
	size_t nl = p->name_len, vl = p->val_end - p->val_off;
	http_span_t val = span(p->val_off, p->val_end);

	if (++p->nfields > HTTP_FIELDS_MAX)
		return fail(p, HTTP_E_HEAD_LARGE, "too many header fields");
#define NAME(s) (nl == sizeof s - 1 && mem_ci(name, s, sizeof s - 1))
	if (NAME("host"))
		return once(p, HTTP_F_HOST, &p->host, val, "Host appears twice");
	if (NAME("content-length"))
		return content_length(p, v, vl);
	if (NAME("content-type"))
		return once(p, HTTP_F_CTYPE, &p->content_type, val, "Content-Type appears twice");
	if (NAME("origin"))
		return once(p, HTTP_F_ORIGIN, &p->origin, val, "Origin appears twice");
	if (NAME("authorization"))
		return once(p, HTTP_F_AUTH, &p->authorization, val, "Authorization appears twice");
	if (NAME("connection"))
		connection(p, v, vl);
	else if (NAME("transfer-encoding")) {
		p->seen |= HTTP_F_TE;
		if (vl == 7 && mem_ci(v, "chunked", 7))
			p->te_chunked = true;
		else
			p->seen |= F_TE_OTHER;
	} else if (NAME("expect")) {
		if (vl == 12 && mem_ci(v, "100-continue", 12))
			p->expect_continue = true;
		else
			return fail(p, HTTP_E_EXPECT, "unsupported Expect");
	}
#undef NAME
	return HTTP_MORE;
}

/* The blank line ended the head: the rules over all fields. */
static http_status_t head_done(http_parser_t *p)
{
	if (p->minor == 1 && !(p->seen & HTTP_F_HOST))
		return fail(p, HTTP_E_NO_HOST, "HTTP/1.1 request without Host");
	if (p->seen & HTTP_F_TE) {
		if (p->seen & HTTP_F_LENGTH)
			return fail(p, HTTP_E_SMUGGLE, "both Content-Length and Transfer-Encoding");
		if (p->seen & F_TE_OTHER)
			return fail(p, HTTP_E_CODING, "unsupported Transfer-Encoding");
		return fail(p, HTTP_E_NO_LENGTH, "chunked bodies are not accepted: send Content-Length");
	}
	if (p->method == HTTP_M_POST && !(p->seen & HTTP_F_LENGTH))
		return fail(p, HTTP_E_NO_LENGTH, "POST without Content-Length");
	p->state = S_BODY;
	return HTTP_MORE;
}

static http_status_t version(http_parser_t *p, const char *v, size_t n)
{
	if (n == 8 && memcmp(v, "HTTP/1.", 7) == 0 && (v[7] == '0' || v[7] == '1')) {
		p->minor = (uint8_t)(v[7] - '0');
		return HTTP_MORE;
	}
	if (n == 8 && memcmp(v, "HTTP/", 5) == 0 && v[5] >= '0' && v[5] <= '9' &&
	    v[6] == '.' && v[7] >= '0' && v[7] <= '9')
		return fail(p, HTTP_E_VERSION, "only HTTP/1.0 and HTTP/1.1 are supported");
	return fail(p, HTTP_E_SYNTAX, "bad HTTP version");
}

/* One byte of the head; HTTP_MORE to go on, or an error. */
static http_status_t step(http_parser_t *p, const char *buf, uint32_t i)
{
	unsigned char c = (unsigned char)buf[i];
	switch (p->state) {
	case S_START:
		if (c == '\r') {
			p->state = S_START_LF;
		} else if (is_tchar(c)) {
			p->mark = i;
			p->state = S_METHOD;
		} else {
			return fail(p, HTTP_E_SYNTAX, "request line does not start with a method");
		}
		return HTTP_MORE;
	case S_START_LF:
		if (c != '\n')
			return fail(p, HTTP_E_SYNTAX, "bare CR");
		p->state = S_START;
		return HTTP_MORE;
	case S_METHOD:
		if (is_tchar(c)) {
			if (i - p->mark >= HTTP_METHOD_MAX)
				return fail(p, HTTP_E_METHOD_LONG, "method name too long");
			return HTTP_MORE;
		}
		if (c != ' ')
			return fail(p, HTTP_E_SYNTAX, "bad character in the method");
		p->method_text = span(p->mark, i);
		if (http_span_is(buf, p->method_text, "GET"))
			p->method = HTTP_M_GET;
		else if (http_span_is(buf, p->method_text, "POST"))
			p->method = HTTP_M_POST;
		p->state = S_TARGET0;
		return HTTP_MORE;
	case S_TARGET0:
		if (c != '/')
			return fail(p, HTTP_E_SYNTAX, "the target must be a path starting with /");
		p->mark = i;
		p->state = S_TARGET;
		return HTTP_MORE;
	case S_TARGET:
		if (c == ' ') {
			p->target = span(p->mark, i);
			p->mark = i + 1;
			p->state = S_VERSION;
			return HTTP_MORE;
		}
		if (c < 0x21 || c > 0x7e || c == '#')
			return fail(p, HTTP_E_SYNTAX, "bad character in the target");
		if (i - p->mark >= HTTP_TARGET_MAX)
			return fail(p, HTTP_E_TARGET_LONG, "target too long");
		return HTTP_MORE;
	case S_VERSION:
		if (c == '\r') {
			p->state = S_LINE_LF;
			return version(p, buf + p->mark, i - p->mark);
		}
		if (i - p->mark >= 8 || c < 0x21 || c > 0x7e)
			return fail(p, HTTP_E_SYNTAX, "bad HTTP version");
		return HTTP_MORE;
	case S_LINE_LF:
	case S_FIELD_LF:
	case S_END_LF:
		if (c != '\n')
			return fail(p, HTTP_E_SYNTAX, "bare CR");
		if (p->state == S_END_LF) {
			p->head_len = (size_t)i + 1;
			return head_done(p);
		}
		if (p->state == S_FIELD_LF && field(p, buf) != HTTP_MORE)
			return p->st;
		p->state = S_FIELD;
		return HTTP_MORE;
	case S_FIELD:
		if (c == '\r') {
			p->state = S_END_LF;
		} else if (is_tchar(c)) {
			p->name_off = i;
			p->state = S_NAME;
		} else if (c == ' ' || c == '\t') {
			return fail(p, HTTP_E_SYNTAX, "obsolete line folding");
		} else {
			return fail(p, HTTP_E_SYNTAX, "bad character in a field name");
		}
		return HTTP_MORE;
	case S_NAME:
		if (is_tchar(c))
			return HTTP_MORE;
		if (c != ':')
			return fail(p, HTTP_E_SYNTAX, "bad character in a field name");
		p->name_len = i - p->name_off;
		p->val_off = p->val_end = i + 1;
		p->state = S_OWS;
		return HTTP_MORE;
	case S_OWS:
	case S_VALUE:
		if (c == ' ' || c == '\t') {
			if (p->state == S_OWS)
				p->val_off = p->val_end = i + 1;
			return HTTP_MORE;
		}
		if (c == '\r') {
			p->state = S_FIELD_LF;
			return HTTP_MORE;
		}
		if (c < 0x21 || c == 0x7f)
			return fail(p, HTTP_E_SYNTAX, "control character in a field value");
		p->val_end = i + 1;
		p->state = S_VALUE;
		return HTTP_MORE;
	default:
		return fail(p, HTTP_E_SYNTAX, "internal state");
	}
}

http_status_t http_parse(http_parser_t *p, const char *buf, size_t len)
{
	if (p->st != HTTP_MORE && p->st != HTTP_OK)
		return p->st;
	while (p->state != S_BODY && p->pos < len) {
		if (p->pos >= HTTP_HEAD_MAX)
			return fail(p, HTTP_E_HEAD_LARGE, "request head over 8 KiB");
		if (step(p, buf, (uint32_t)p->pos) != HTTP_MORE)
			return p->st;
		p->pos++;
	}
	if (p->state != S_BODY || len - p->head_len < p->content_length)
		return HTTP_MORE;
	p->st = HTTP_OK;
	return HTTP_OK;
}

size_t http_total_len(const http_parser_t *p)
{
	return p->head_len + p->content_length;
}

bool http_in_body(const http_parser_t *p)
{
	return p->state == S_BODY && p->st == HTTP_MORE;
}

int http_status_code(http_status_t st)
{
	switch (st) {
	case HTTP_OK:
	case HTTP_MORE: return 200;
	case HTTP_E_TARGET_LONG: return 414;
	case HTTP_E_HEAD_LARGE: return 431;
	case HTTP_E_NO_LENGTH: return 411;
	case HTTP_E_BODY_LARGE: return 413;
	case HTTP_E_CODING:
	case HTTP_E_METHOD_LONG: return 501;
	case HTTP_E_VERSION: return 505;
	case HTTP_E_EXPECT: return 417;
	default: return 400;
	}
}

const char *http_strerror(http_status_t st)
{
	switch (st) {
	case HTTP_OK: return "complete request";
	case HTTP_MORE: return "incomplete request";
	case HTTP_E_SYNTAX: return "malformed request";
	case HTTP_E_DUPLICATE: return "duplicated header field";
	case HTTP_E_NO_HOST: return "no Host header";
	case HTTP_E_BAD_LENGTH: return "bad Content-Length";
	case HTTP_E_SMUGGLE: return "Content-Length with Transfer-Encoding";
	case HTTP_E_TARGET_LONG: return "target too long";
	case HTTP_E_HEAD_LARGE: return "request head too large";
	case HTTP_E_NO_LENGTH: return "Content-Length required";
	case HTTP_E_BODY_LARGE: return "request body too large";
	case HTTP_E_CODING: return "unsupported transfer coding";
	case HTTP_E_METHOD_LONG: return "unknown method";
	case HTTP_E_VERSION: return "unsupported HTTP version";
	case HTTP_E_EXPECT: return "unsupported expectation";
	}
	return "unknown status";
}

const char *http_reason(int code)
{
	static const struct { short code; const char *text; } r[] = {
		{ 100, "Continue" }, { 200, "OK" }, { 202, "Accepted" },
		{ 400, "Bad Request" }, { 401, "Unauthorized" }, { 403, "Forbidden" },
		{ 404, "Not Found" }, { 405, "Method Not Allowed" },
		{ 408, "Request Timeout" }, { 411, "Length Required" },
		{ 413, "Content Too Large" }, { 414, "URI Too Long" },
		{ 415, "Unsupported Media Type" }, { 417, "Expectation Failed" },
		{ 421, "Misdirected Request" }, { 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
		{ 503, "Service Unavailable" }, { 504, "Gateway Timeout" },
		{ 505, "HTTP Version Not Supported" },
	};
	for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
		if (r[i].code == code)
			return r[i].text;
	return "Unknown";
}

bool http_keep_alive(const http_parser_t *p)
{
	if (p->conn_close)
		return false;
	return p->minor == 1 || p->conn_keep_alive;
}

http_span_t http_path(const char *buf, const http_parser_t *p)
{
	const char *q = memchr(buf + p->target.off, '?', p->target.len);
	http_span_t s = p->target;
	if (q != NULL)
		s.len = (uint32_t)(q - (buf + p->target.off));
	return s;
}

bool http_host_ok(const char *buf, const http_parser_t *p,
	const char *const *allowed, size_t n)
{
	if (!(p->seen & HTTP_F_HOST))
		return false;
	for (size_t i = 0; i < n; i++)
		if (http_span_is_ci(buf, p->host, allowed[i]))
			return true;
	return false;
}

bool http_origin_ok(const char *buf, const http_parser_t *p)
{
	const char *o = buf + p->origin.off;
	if (!(p->seen & HTTP_F_ORIGIN))
		return true;
	if (!(p->seen & HTTP_F_HOST) || p->host.len == 0 || p->origin.len != 7 + p->host.len)
		return false;
	return mem_ci(o, "http://", 7) && mem_ci(o + 7, buf + p->host.off, p->host.len);
}

bool http_bearer_ok(const char *buf, const http_parser_t *p, const char *token)
{
	const char *a = buf + p->authorization.off;
	size_t n = p->authorization.len, i = 7, tl = strlen(token);
	unsigned diff;
	if (!(p->seen & HTTP_F_AUTH) || n < 8 || !mem_ci(a, "bearer ", 7))
		return false;
	while (i < n && a[i] == ' ')
		i++;
	a += i;
	n -= i;
	/* time depends on the token's length only */
	diff = (unsigned)(n != tl);
	for (size_t k = 0; k < tl; k++)
		diff |= (unsigned)((unsigned char)(k < n ? a[k] : 0) ^ (unsigned char)token[k]);
	return diff == 0 && tl > 0;
}

bool http_is_json(const char *buf, const http_parser_t *p)
{
	const char *v = buf + p->content_type.off;
	size_t n = p->content_type.len, i = 16;
	if (!(p->seen & HTTP_F_CTYPE) || n < 16 || !mem_ci(v, "application/json", 16))
		return false;
	while (i < n && (v[i] == ' ' || v[i] == '\t'))
		i++;
	return i == n || v[i] == ';';
}
