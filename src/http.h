/*
 * http.h -- a strict, incremental HTTP/1.1 request parser (RFC 9110/9112)
 * for the web console.  Pure: no I/O, no allocation, no globals; fuzzed by
 * fuzz/http_request.c.
 *
 * The caller owns the bytes.  It appends what arrives to one buffer and
 * calls http_parse(p, buf, len) again with the longer buffer (the bytes
 * already seen must not change); each call only looks at the new bytes, so
 * a request that arrives one byte at a time costs O(n) in all.  Results are
 * spans (offset, length) into that buffer, like jsmn's tokens.
 *
 * Strictness (anything else is an error with the HTTP status to answer):
 *   - request line `METHOD SP /target SP HTTP/1.x CRLF`: the method a token
 *     of at most HTTP_METHOD_MAX bytes (501 when longer), origin-form target
 *     of visible ASCII without '#' (400), at most HTTP_TARGET_MAX bytes
 *     (414), version HTTP/1.1 or HTTP/1.0 (another HTTP/d.d is 505);
 *   - lines end in CRLF: a bare CR or LF is 400; empty lines before the
 *     request line are skipped (RFC 9112 2.2);
 *   - header fields `token ":" OWS value OWS CRLF`: no space before the
 *     colon, no obsolete line folding, no control characters (400); at most
 *     HTTP_FIELDS_MAX fields and HTTP_HEAD_MAX bytes from the request line
 *     to the blank line included (431);
 *   - Host, Content-Length, Content-Type, Origin, Authorization at most once
 *     each (400); HTTP/1.1 needs Host (400);
 *   - Content-Length only digits (400), over the body limit 413; with
 *     Transfer-Encoding as well 400 (request smuggling); Transfer-Encoding
 *     chunked alone 411 (we want a length), any other coding 501;
 *   - POST needs Content-Length (411);
 *   - Expect: 100-continue is reported, any other expectation is 417.
 */
#ifndef DMQTT_HTTP_H
#define DMQTT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_HEAD_MAX 8192    /* request line + fields + blank line */
#define HTTP_TARGET_MAX 2048
#define HTTP_METHOD_MAX 16
#define HTTP_FIELDS_MAX 64

typedef enum http_status {
	HTTP_OK = 0,          /* a complete request: http_total_len() bytes */
	HTTP_MORE,            /* incomplete: call again with more bytes */
	HTTP_E_SYNTAX,        /* 400: malformed request line or field */
	HTTP_E_DUPLICATE,     /* 400: a field that must be unique repeats */
	HTTP_E_NO_HOST,       /* 400: HTTP/1.1 without Host */
	HTTP_E_BAD_LENGTH,    /* 400: Content-Length not a number */
	HTTP_E_SMUGGLE,       /* 400: both Content-Length and Transfer-Encoding */
	HTTP_E_TARGET_LONG,   /* 414 */
	HTTP_E_HEAD_LARGE,    /* 431: too many fields or bytes before the body */
	HTTP_E_NO_LENGTH,     /* 411: POST without Content-Length, or chunked */
	HTTP_E_BODY_LARGE,    /* 413: Content-Length over the body limit */
	HTTP_E_CODING,        /* 501: unknown transfer coding */
	HTTP_E_METHOD_LONG,   /* 501: a method name we cannot know */
	HTTP_E_VERSION,       /* 505: HTTP/2.0, HTTP/0.9 ... */
	HTTP_E_EXPECT         /* 417: Expect other than 100-continue */
} http_status_t;

typedef enum { HTTP_M_OTHER = 0, HTTP_M_GET, HTTP_M_POST } http_method_t;

/* Bytes [off, off + len) of the caller's buffer; len 0 when absent. */
typedef struct {
	uint32_t off, len;
} http_span_t;

/* Fields seen (http_parser_t.seen) */
#define HTTP_F_HOST    0x01u
#define HTTP_F_LENGTH  0x02u
#define HTTP_F_CTYPE   0x04u
#define HTTP_F_ORIGIN  0x08u
#define HTTP_F_AUTH    0x10u
#define HTTP_F_TE      0x20u

typedef struct http_parser {
	/* results: complete when http_parse returned HTTP_OK */
	http_method_t method;
	http_span_t method_text, target, host, origin, content_type, authorization;
	uint8_t minor;             /* HTTP/1.<minor> */
	unsigned seen;             /* HTTP_F_* */
	bool conn_close;           /* Connection: close */
	bool conn_keep_alive;      /* Connection: keep-alive */
	bool expect_continue;      /* Expect: 100-continue */
	bool te_chunked;
	size_t content_length;     /* 0 without Content-Length */
	size_t head_len;           /* bytes before the body (blank line included) */
	unsigned nfields;
	const char *why;           /* on error: static English text */
	/* internal */
	http_status_t st;
	size_t pos, body_max;
	uint32_t mark, name_off, name_len, val_off, val_end;
	uint8_t state;
} http_parser_t;

/* Start a request; body_max is the largest accepted Content-Length. */
void http_init(http_parser_t *p, size_t body_max);

/* Parse buf[0..len), of which the first bytes were passed before.
 * HTTP_MORE, HTTP_OK, or an error (sticky: later calls return it again). */
http_status_t http_parse(http_parser_t *p, const char *buf, size_t len);

/* head_len + content_length: bytes of the whole request (after HTTP_OK). */
size_t http_total_len(const http_parser_t *p);
/* The headers are complete and the body is still coming (for 100-continue). */
bool http_in_body(const http_parser_t *p);

/* The status code to answer for a status (200 for HTTP_OK and HTTP_MORE). */
int http_status_code(http_status_t st);
const char *http_strerror(http_status_t st);
/* Reason phrase of a status code ("Not Found"), "Unknown" for others. */
const char *http_reason(int code);

/* After HTTP_OK: does the connection stay open after the response? */
bool http_keep_alive(const http_parser_t *p);

/* The target's path, without the query (after HTTP_OK). */
http_span_t http_path(const char *buf, const http_parser_t *p);

/* 1 if span s of buf equals the C string lit (exactly / ASCII case-insensitively). */
bool http_span_is(const char *buf, http_span_t s, const char *lit);
bool http_span_is_ci(const char *buf, http_span_t s, const char *lit);

/*
 * Policy checks for a console on a loopback port (any web page can make the
 * browser send requests there):
 *   http_host_ok     Host names one of the allowed "host:port" strings
 *                    (ASCII case-insensitive, exact); defeats DNS rebinding.
 *   http_origin_ok   no Origin, or Origin is "http://" + the Host value
 *                    (same origin); "null" and other sites are refused.
 *   http_bearer_ok   Authorization is "Bearer <token>" (scheme in any case),
 *                    compared in time independent of where it differs.
 *   http_is_json     Content-Type is application/json, parameters allowed.
 */
bool http_host_ok(const char *buf, const http_parser_t *p,
	const char *const *allowed, size_t n);
bool http_origin_ok(const char *buf, const http_parser_t *p);
bool http_bearer_ok(const char *buf, const http_parser_t *p, const char *token);
bool http_is_json(const char *buf, const http_parser_t *p);

#endif
