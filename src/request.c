/* request.c -- see request.h */
#include "src/request.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "proto/json.h"
#include "proto/utf8.h"
#include "platform/fmt.h"

size_t json_escape(char *out, size_t cap, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = (const uint8_t *)s;
	size_t o = 0, i = 0;

	while (i < n) {
		uint8_t c = p[i];
		char esc = 0;
		size_t k;
		switch (c) {
		case '"': esc = '"'; break;
		case '\\': esc = '\\'; break;
		case '\n': esc = 'n'; break;
		case '\r': esc = 'r'; break;
		case '\t': esc = 't'; break;
		case '\b': esc = 'b'; break;
		case '\f': esc = 'f'; break;
		default: break;
		}
		if (esc != 0) {
			if (o + 2 > cap)
				return 0;
			out[o++] = '\\';
			out[o++] = esc;
			i++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			if (o + 6 > cap)
				return 0;
			memcpy(out + o, "\\u00", 4);
			out[o + 4] = hex[c >> 4];
			out[o + 5] = hex[c & 15];
			o += 6;
			i++;
			continue;
		}
		if (c < 0x80) {
			if (o + 1 > cap)
				return 0;
			out[o++] = (char)c;
			i++;
			continue;
		}
		k = utf8_decode(p + i, n - i, NULL);
		if (k == 0) { /* not UTF-8: U+FFFD, so the reply stays valid JSON */
			if (o + 3 > cap)
				return 0;
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		if (o + k > cap)
			return 0;
		memcpy(out + o, p + i, k);
		o += k;
		i += k;
	}
	return o;
}

int request_parse(const uint8_t *payload, size_t len, request_t *r)
{
	json_tok_t toks[64];
	json_parser_t jp;
	json_status_t st;
	const char *js = (const char *)payload;
	uint32_t v;

	memset(r, 0, sizeof *r);
	if (len > REQ_MAX) {
		fmt_snprintf(r->error, sizeof r->error, "request too large: %zu bytes, the limit is %d", len, REQ_MAX);
		return RC_BAD_REQUEST;
	}
	st = json_parse(&jp, js, len, toks, sizeof toks / sizeof toks[0]);
	if (st != JSON_OK) {
		fmt_snprintf(r->error, sizeof r->error, "request is not valid JSON: %s at line %zu column %zu",
			json_strerror(st), jp.err_line, jp.err_col);
		if (st == JSON_ERR_NOTOKENS)
			fmt_snprintf(r->error, sizeof r->error, "request has too many JSON values (limit %zu)",
				sizeof toks / sizeof toks[0]);
		return RC_BAD_REQUEST;
	}
	if (toks[0].type != JSON_OBJECT) {
		fmt_snprintf(r->error, sizeof r->error, "request must be a JSON object, not %s",
			json_type_name(toks[0].type));
		return RC_BAD_REQUEST;
	}
	/* id first, so even a bad command's reply can be matched */
	st = json_find_key(js, toks, 0, "id", &v);
	if (st == JSON_OK) {
		const json_tok_t *t = &toks[v];
		if (t->type == JSON_STRING && t->end - t->start + 2 <= REQ_ID_MAX) {
			memcpy(r->id, js + t->start - 1, t->end - t->start + 2); /* with quotes */
		} else if (t->type == JSON_NUMBER && t->end - t->start <= REQ_ID_MAX) {
			memcpy(r->id, js + t->start, t->end - t->start);
		} else {
			fmt_snprintf(r->error, sizeof r->error, "\"id\" must be a string or a number of at most %d bytes",
				REQ_ID_MAX - 2);
			return RC_BAD_REQUEST;
		}
	} else if (st == JSON_ERR_DUPLICATE) {
		fmt_snprintf(r->error, sizeof r->error, "\"id\" appears more than once");
		return RC_BAD_REQUEST;
	}
	st = json_find_key(js, toks, 0, "cmd", &v);
	if (st == JSON_ERR_NOT_FOUND) {
		fmt_snprintf(r->error, sizeof r->error, "request has no \"cmd\"");
		return RC_BAD_REQUEST;
	}
	if (st == JSON_ERR_DUPLICATE) {
		fmt_snprintf(r->error, sizeof r->error, "\"cmd\" appears more than once");
		return RC_BAD_REQUEST;
	}
	if (st != JSON_OK || toks[v].type != JSON_STRING) {
		fmt_snprintf(r->error, sizeof r->error, "\"cmd\" must be a string");
		return RC_BAD_REQUEST;
	}
	{
		size_t n = 0;
		st = json_unescape(js, &toks[v], r->cmd, sizeof r->cmd, &n);
		if (st == JSON_ERR_NOSPACE) {
			r->cmd[0] = '\0';
			fmt_snprintf(r->error, sizeof r->error, "\"cmd\" is longer than %d bytes", REQ_CMD_MAX);
			return RC_BAD_REQUEST;
		}
		if (st != JSON_OK || n == 0) {
			r->cmd[0] = '\0';
			fmt_snprintf(r->error, sizeof r->error, "\"cmd\" must be a non-empty string without NUL");
			return RC_BAD_REQUEST;
		}
	}
	return 0;
}

/* Append len bytes; false when they do not fit. */
static bool put(char *out, size_t cap, size_t *o, const char *s, size_t len)
{
	if (*o + len > cap)
		return false;
	memcpy(out + *o, s, len);
	*o += len;
	return true;
}

/* Append s escaped; false when it does not fit. */
static bool put_esc(char *out, size_t cap, size_t *o, const char *s, size_t len)
{
	size_t n = json_escape(out + *o, cap - *o, s, len);
	if (n == 0 && len != 0)
		return false;
	*o += n;
	return true;
}

size_t reply_build(char *out, size_t cap, const char *serial, const request_t *r,
	const char *data, size_t data_len, int rc)
{
	char num[24];
	size_t o = 0;
	int w = fmt_snprintf(num, sizeof num, "%d", rc);

	if (!put(out, cap, &o, "{\"sn\":\"", 7) || !put_esc(out, cap, &o, serial, strlen(serial)) ||
	    !put(out, cap, &o, "\",\"cmd\":\"", 9) || !put_esc(out, cap, &o, r->cmd, strlen(r->cmd)) ||
	    !put(out, cap, &o, "\",\"data\":\"", 10) || !put_esc(out, cap, &o, data, data_len) ||
	    !put(out, cap, &o, "\",\"rc\":", 7) || w <= 0 || !put(out, cap, &o, num, (size_t)w))
		return 0;
	if (r->id[0] != '\0' &&
	    (!put(out, cap, &o, ",\"id\":", 6) || !put(out, cap, &o, r->id, strlen(r->id))))
		return 0;
	if (!put(out, cap, &o, "}", 1))
		return 0;
	return o;
}
