/*
 * Fuzz the JSON tokenizer and its helpers.
 *
 * Every input is tokenized three ways: counting mode (NULL array), a small
 * array and an array large enough for any document of that size.  They
 * must agree (status, error position, token count; the small array fails
 * with JSON_ERR_NOTOKENS exactly when counting started more tokens than it
 * holds).  On success the token tree's invariants are checked and every
 * helper runs on every token it applies to.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/json.h"
#include "proto/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SMALL 8

#define ASSERT(c) do { if (!(c)) { \
	fprintf(stderr, "%s:%d: ASSERT(%s) failed\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

static void check_string(const char *js, const json_tok_t *t)
{
	size_t raw = t->end - t->start, n = 0, n2 = 0;
	char *out = malloc(raw + 1);
	json_status_t st;

	ASSERT(out != NULL);
	st = json_unescape(js, t, out, raw + 1, &n);
	ASSERT(st == JSON_OK || st == JSON_ERR_NUL);
	ASSERT(n <= raw);
	ASSERT(out[n] == '\0');
	ASSERT(utf8_valid((const uint8_t *)out, n));
	ASSERT((st == JSON_ERR_NUL) == (memchr(out, 0, n) != NULL));
	if (!(t->flags & JSON_F_ESCAPED))
		ASSERT(n == raw && memcmp(out, js + t->start, raw) == 0);
	if (st == JSON_OK)
		ASSERT(json_streq(js, t, out));
	/* exact fit and one byte short */
	{
		char *tight = malloc(n + 1);
		ASSERT(tight != NULL);
		ASSERT(json_unescape(js, t, tight, n + 1, &n2) == st && n2 == n);
		ASSERT(memcmp(tight, out, n + 1) == 0);
		ASSERT(json_unescape(js, t, tight, n, &n2) == JSON_ERR_NOSPACE);
		ASSERT(n2 == n);
		free(tight);
	}
	free(out);
}

static void check_int(const char *js, const json_tok_t *t)
{
	int64_t v = 0, w = 0;
	json_status_t st = json_get_int(js, t, INT64_MIN, INT64_MAX, &v);
	size_t raw = t->end - t->start;
	char buf[64];

	if (t->type == JSON_NUMBER) {
		if (t->flags & (JSON_F_FRAC | JSON_F_EXP)) {
			ASSERT(st == JSON_ERR_NOT_INTEGER);
			return;
		}
		ASSERT(st == JSON_OK || st == JSON_ERR_RANGE);
	} else if (st == JSON_ERR_NOT_INTEGER) {
		return;
	}
	ASSERT(st == JSON_OK || st == JSON_ERR_RANGE);
	/* cross-check with strtoll */
	if (raw < sizeof buf) {
		long long ll;
		char *end;
		memcpy(buf, js + t->start, raw);
		buf[raw] = '\0';
		errno = 0;
		ll = strtoll(buf, &end, 10);
		ASSERT(*end == '\0');
		if (st == JSON_OK)
			ASSERT(errno == 0 && ll == v);
		else
			ASSERT(errno == ERANGE);
	} else {
		ASSERT(st == JSON_ERR_RANGE); /* more than 63 digits */
	}
	if (st == JSON_OK) {
		ASSERT(json_get_int(js, t, v, v, &w) == JSON_OK && w == v);
		if (v < INT64_MAX)
			ASSERT(json_get_int(js, t, v + 1, INT64_MAX, &w) == JSON_ERR_RANGE);
		if (v > INT64_MIN)
			ASSERT(json_get_int(js, t, INT64_MIN, v - 1, &w) == JSON_ERR_RANGE);
	}
}

static void check_object(const char *js, const json_tok_t *toks, uint32_t obj)
{
	json_iter_t it = json_iter(toks, obj);
	uint32_t k, v, dup = JSON_NONE, n = 0;
	json_status_t dst = json_find_dup(js, toks, obj, &dup);

	ASSERT(dst == JSON_OK || dst == JSON_ERR_DUPLICATE);
	while (json_iter_next(&it, toks, &k, &v)) {
		size_t raw = toks[k].end - toks[k].start, len;
		char *name = malloc(raw + 1);
		uint32_t found = JSON_NONE;
		json_status_t st;

		ASSERT(name != NULL);
		n++;
		ASSERT(toks[k].type == JSON_STRING && (toks[k].flags & JSON_F_KEY));
		ASSERT(toks[k].size == 1 && v == k + 1 && toks[k].next == toks[v].next);
		st = json_unescape(js, &toks[k], name, raw + 1, &len);
		if (st == JSON_OK) {
			st = json_find_key(js, toks, obj, name, &found);
			if (dst == JSON_OK) {
				ASSERT(st == JSON_OK && found == v);
			} else {
				ASSERT(st == JSON_OK || st == JSON_ERR_DUPLICATE);
				if (st == JSON_OK)
					ASSERT(found == v);
			}
		}
		free(name);
	}
	ASSERT(n == toks[obj].size);
	if (dst == JSON_ERR_DUPLICATE)
		ASSERT(dup > obj && dup < toks[obj].next &&
			(toks[dup].flags & JSON_F_KEY));
}

static void check_tree(const char *js, size_t len, const json_tok_t *toks,
	uint32_t ntok)
{
	ASSERT(ntok >= 1 && toks[0].next == ntok);
	for (uint32_t i = 0; i < ntok; i++) {
		const json_tok_t *t = &toks[i];
		ASSERT(t->next > i && t->next <= ntok);
		ASSERT(t->start <= t->end && t->end <= len);
		switch (t->type) {
		case JSON_OBJECT:
			ASSERT(js[t->start] == '{' && js[t->end - 1] == '}');
			check_object(js, toks, i);
			break;
		case JSON_ARRAY: {
			json_iter_t it = json_iter(toks, i);
			uint32_t k, v, n = 0;
			ASSERT(js[t->start] == '[' && js[t->end - 1] == ']');
			while (json_iter_next(&it, toks, &k, &v)) {
				ASSERT(k == JSON_NONE && v > i && v < t->next);
				ASSERT(!(toks[v].flags & JSON_F_KEY));
				n++;
			}
			ASSERT(n == t->size);
			break;
		}
		case JSON_STRING:
			ASSERT(t->start > 0 && js[t->start - 1] == '"' &&
				t->end < len && js[t->end] == '"');
			ASSERT(t->size == ((t->flags & JSON_F_KEY) ? 1u : 0u));
			ASSERT(t->next == ((t->flags & JSON_F_KEY) ? toks[i + 1].next : i + 1));
			check_string(js, t);
			check_int(js, t);
			break;
		case JSON_NUMBER:
			ASSERT(t->next == i + 1 && t->size == 0 && t->end > t->start);
			check_int(js, t);
			break;
		case JSON_TRUE:
		case JSON_FALSE:
		case JSON_NULL:
			ASSERT(t->next == i + 1 && t->size == 0);
			ASSERT(t->end - t->start == (t->type == JSON_FALSE ? 5u : 4u));
			ASSERT(json_get_int(js, t, 0, 0, NULL) == JSON_ERR_TYPE);
			break;
		default:
			ASSERT(0);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_parser_t pc, ps, pf;
	json_tok_t small[SMALL], *full;
	json_status_t sc, ss, sf;
	/* a private copy, so reads past `size` are caught by ASan */
	char *js = malloc(size ? size : 1);

	ASSERT(js != NULL);
	memcpy(js, data, size);
	full = malloc((size + 1) * sizeof *full); /* every token takes a byte */
	ASSERT(full != NULL);

	sc = json_parse(&pc, js, size, NULL, 0);
	sf = json_parse(&pf, js, size, full, size + 1);
	ss = json_parse(&ps, js, size, small, SMALL);

	ASSERT(sf == sc && pf.ntok == pc.ntok);
	if (sc != JSON_OK) {
		size_t line, col;
		ASSERT(sc != JSON_ERR_NOTOKENS);
		ASSERT(pf.err_offset == pc.err_offset && pc.err_offset <= size);
		ASSERT(pf.err_line == pc.err_line && pf.err_col == pc.err_col);
		json_position(js, size, pc.err_offset, &line, &col);
		ASSERT(line == pc.err_line && col == pc.err_col);
		ASSERT(line >= 1 && col >= 1 && col <= pc.err_offset + 1);
		ASSERT(json_strerror(sc) != NULL);
	}
	if (pc.ntok > SMALL) {
		ASSERT(ss == JSON_ERR_NOTOKENS && ps.ntok == SMALL);
	} else {
		ASSERT(ss == sc && ps.ntok == pc.ntok);
		if (ss == JSON_OK) {
			/* field by field: the struct has padding */
			for (uint32_t i = 0; i < ps.ntok; i++)
				ASSERT(small[i].start == full[i].start &&
					small[i].end == full[i].end &&
					small[i].size == full[i].size &&
					small[i].next == full[i].next &&
					small[i].type == full[i].type &&
					small[i].flags == full[i].flags);
		}
	}
	if (sc == JSON_OK)
		check_tree(js, size, full, pf.ntok);
	free(full);
	free(js);
	return 0;
}
