/* json.c -- see json.h */
#include "proto/json.h"
#include "proto/utf8.h"

#include <string.h>

/* Character classes for the tokenizer's inner loops (one lookup per byte). */
#define C_WS    0x01 /* JSON whitespace: space, \t, \n, \r */
#define C_STR   0x02 /* leaves the string fast path: '"', '\\', < 0x20, >= 0x80 */
#define C_DIGIT 0x04 /* '0'..'9' */
#define C_NTAIL 0x08 /* may not follow a number: alnum, '.', '+', '-' */
#define C_ALNUM 0x10 /* may not follow a literal: ASCII letters and digits */

static const uint8_t cls[256] = {
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x03, 0x03, 0x02, 0x02, 0x03, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x08, 0x08, 0x00,
	0x1c, 0x1c, 0x1c, 0x1c, 0x1c, 0x1c, 0x1c, 0x1c, 0x1c, 0x1c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18,
	0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x00, 0x02, 0x00, 0x00, 0x00,
	0x00, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18,
	0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
};

/* Hex digit values; 0xff for anything else. */
static const uint8_t hexval[256] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

#define HEX_BAD 0x10000u /* hex4() failure: not a 16-bit value */

/* The 4 hex digits at s[i..i+4) (i <= len), or HEX_BAD. */
static uint32_t hex4(const uint8_t *s, size_t len, size_t i)
{
	uint32_t a, b, c, d;

	if (len - i < 4)
		return HEX_BAD;
	a = hexval[s[i]];
	b = hexval[s[i + 1]];
	c = hexval[s[i + 2]];
	d = hexval[s[i + 3]];
	if ((a | b | c | d) & 0xf0)
		return HEX_BAD;
	return a << 12 | b << 8 | c << 4 | d;
}

/*
 * Validate string contents from s[*pi] (just after the opening quote) to
 * the closing quote.  JSON_OK: *pi = offset of the closing quote.  Error:
 * *pi = offset to report.  Sets JSON_F_ESCAPED in *flags on a backslash.
 */
static json_status_t scan_string(const uint8_t *s, size_t len, size_t *pi,
	uint8_t *flags)
{
	size_t i = *pi, k;
	uint32_t cp, lo;
	uint8_t c;

	for (;;) {
		/* fast path: printable ASCII other than '"' and '\\' */
		while (len - i >= 4 && !((cls[s[i]] | cls[s[i + 1]] |
			cls[s[i + 2]] | cls[s[i + 3]]) & C_STR))
			i += 4;
		while (i < len && !(cls[s[i]] & C_STR))
			i++;
		if (i == len)
			goto unterminated;
		c = s[i];
		if (c == '"') {
			*pi = i;
			return JSON_OK;
		}
		if (c == '\\') {
			*flags |= JSON_F_ESCAPED;
			if (len - i < 2)
				goto unterminated;
			switch (s[i + 1]) {
			case '"': case '\\': case '/': case 'b':
			case 'f': case 'n': case 'r': case 't':
				i += 2;
				continue;
			case 'u':
				break;
			default:
				*pi = i;
				return JSON_ERR_ESCAPE;
			}
			cp = hex4(s, len, i + 2);
			if (cp == HEX_BAD) {
				*pi = i;
				return JSON_ERR_ESCAPE;
			}
			if (cp < 0xd800 || cp > 0xdfff) {
				i += 6;
				continue;
			}
			/* a high surrogate must be followed by \u + low surrogate */
			if (cp >= 0xdc00 || len - i < 8 || s[i + 6] != '\\' ||
				s[i + 7] != 'u') {
				*pi = i;
				return JSON_ERR_SURROGATE;
			}
			lo = hex4(s, len, i + 8);
			if (lo == HEX_BAD) {
				*pi = i + 6;
				return JSON_ERR_ESCAPE;
			}
			if (lo < 0xdc00 || lo > 0xdfff) {
				*pi = i;
				return JSON_ERR_SURROGATE;
			}
			i += 12;
			continue;
		}
		if (c < 0x20) {
			*pi = i;
			return JSON_ERR_CTRL;
		}
		/* c >= 0x80: one well-formed UTF-8 sequence */
		k = utf8_decode(s + i, len - i, NULL);
		if (k == 0) {
			*pi = i;
			return JSON_ERR_UTF8;
		}
		i += k;
	}
unterminated:
	*pi -= 1; /* the opening quote */
	return JSON_ERR_UNTERMINATED;
}

/*
 * Validate a number starting at s[*pi] ('-' or a digit).  JSON_OK: *pi =
 * one past its end, number flags in *flags.  Error: *pi = first bad byte.
 */
static json_status_t scan_number(const uint8_t *s, size_t len, size_t *pi,
	uint8_t *flags)
{
	size_t i = *pi;

	if (s[i] == '-') {
		*flags |= JSON_F_NEG;
		i++;
	}
	if (i < len && s[i] == '0') {
		i++;
	} else if (i < len && (cls[s[i]] & C_DIGIT)) {
		while (i < len && (cls[s[i]] & C_DIGIT))
			i++;
	} else {
		goto bad;
	}
	if (i < len && s[i] == '.') {
		*flags |= JSON_F_FRAC;
		i++;
		if (i == len || !(cls[s[i]] & C_DIGIT))
			goto bad;
		while (i < len && (cls[s[i]] & C_DIGIT))
			i++;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		*flags |= JSON_F_EXP;
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i == len || !(cls[s[i]] & C_DIGIT))
			goto bad;
		while (i < len && (cls[s[i]] & C_DIGIT))
			i++;
	}
	/* "01", "1.2.3", "1x", "1-": the number must end at a delimiter */
	if (i < len && (cls[s[i]] & C_NTAIL))
		goto bad;
	*pi = i;
	return JSON_OK;
bad:
	*pi = i;
	return JSON_ERR_NUMBER;
}

/*
 * 1 if a[0..n) == b[0..n).  A loop rather than memcmp() == 0, which clang
 * turns into a call to bcmp, outside the libc subset proto/ may use.
 */
static int same_bytes(const uint8_t *a, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (a[i] != b[i])
			return 0;
	}
	return 1;
}

/* What the value being expected follows (decides ']' / '}' handling). */
enum { AFTER_OTHER, AFTER_OPEN, AFTER_COMMA };

/* see json.h */
json_status_t json_parse(json_parser_t *p, const char *js, size_t len,
	json_tok_t *toks, size_t ntoks)
{
	const uint8_t *s = (const uint8_t *)js;
	size_t i = 0;
	uint32_t n = 0, depth = 0, cap = 0, v = 0, parent;
	json_status_t st;
	json_tok_t *t = NULL;
	int ctx = AFTER_OTHER;
	uint8_t c, type, flags;

	p->ntok = 0;
	p->err_offset = 0;
	p->err_line = 0;
	p->err_col = 0;
#if SIZE_MAX > UINT32_MAX
	if (len > JSON_MAX_LEN) {
		st = JSON_ERR_TOOBIG;
		goto fail;
	}
	if (ntoks > UINT32_MAX)
		ntoks = UINT32_MAX;
#endif
	if (toks != NULL)
		cap = (uint32_t)ntoks;
	if (len >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf) {
		st = JSON_ERR_BOM;
		goto fail;
	}

/*
 * Create token n for a value of type T starting at i; v = its index.  A
 * new array element counts towards its array's size (keys are counted
 * where they are made).  In counting mode (toks == NULL) only n moves.
 */
#define NEW_TOKEN(T) do {                                               \
		if (toks != NULL) {                                     \
			if (n == cap) {                                 \
				st = JSON_ERR_NOTOKENS;                 \
				goto fail;                              \
			}                                               \
			t = &toks[n];                                   \
			t->start = (uint32_t)i;                         \
			t->end = 0;                                     \
			t->size = 0;                                    \
			t->next = n + 1;                                \
			t->type = (T);                                  \
			t->flags = 0;                                   \
			if (depth > 0 && !p->is_obj[depth - 1])         \
				toks[p->stack[depth - 1]].size++;       \
		}                                                       \
		v = n++;                                                \
	} while (0)
#define SKIP_WS() do { while (i < len && (cls[s[i]] & C_WS)) i++; } while (0)

value:
	/* expecting a value: top level, after '[', ',' (array) or ':' */
	SKIP_WS();
	if (i == len) {
		st = depth == 0 ? JSON_ERR_EMPTY : JSON_ERR_EOF;
		goto fail;
	}
	c = s[i];
	switch (c) {
	case '"':
		NEW_TOKEN(JSON_STRING);
		flags = 0;
		i++;
		st = scan_string(s, len, &i, &flags);
		if (st != JSON_OK)
			goto fail;
		if (toks != NULL) {
			t->start++;
			t->end = (uint32_t)i;
			t->flags = flags;
		}
		i++;
		goto value_done;
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		NEW_TOKEN(JSON_NUMBER);
		flags = 0;
		st = scan_number(s, len, &i, &flags);
		if (st != JSON_OK)
			goto fail;
		if (toks != NULL) {
			t->end = (uint32_t)i;
			t->flags = flags;
		}
		goto value_done;
	case '{':
	case '[':
		if (depth == JSON_MAX_DEPTH) {
			st = JSON_ERR_DEPTH;
			goto fail;
		}
		type = c == '{' ? JSON_OBJECT : JSON_ARRAY;
		NEW_TOKEN(type);
		p->stack[depth] = v;
		p->is_obj[depth] = c == '{';
		depth++;
		i++;
		ctx = AFTER_OPEN;
		if (c == '{')
			goto key;
		goto value;
	case ']':
		if (depth > 0 && !p->is_obj[depth - 1] && ctx != AFTER_OTHER) {
			if (ctx == AFTER_OPEN)
				goto close;
			st = JSON_ERR_TRAILING_COMMA;
		} else {
			st = JSON_ERR_EXPECT_VALUE;
		}
		goto fail;
	case 't':
	case 'f':
	case 'n': {
		static const char words[3][6] = { "true", "false", "null" };
		size_t w = c == 't' ? 0 : c == 'f' ? 1 : 2;
		size_t wl = w == 1 ? 5 : 4;
		if (len - i < wl ||
			!same_bytes(s + i, (const uint8_t *)words[w], wl) ||
			(len - i > wl && (cls[s[i + wl]] & C_ALNUM))) {
			st = JSON_ERR_LITERAL;
			goto fail;
		}
		NEW_TOKEN(w == 0 ? JSON_TRUE : w == 1 ? JSON_FALSE : JSON_NULL);
		i += wl;
		if (toks != NULL)
			t->end = (uint32_t)i;
		goto value_done;
	}
	default:
		if (c == '+' || c == '.')
			st = JSON_ERR_NUMBER;
		else if (cls[c] & C_ALNUM)
			st = JSON_ERR_LITERAL; /* NaN, Infinity, yes, ... */
		else
			st = JSON_ERR_EXPECT_VALUE;
		goto fail;
	}

key:
	/* expecting an object key: after '{' or ',' */
	SKIP_WS();
	if (i == len) {
		st = JSON_ERR_EOF;
		goto fail;
	}
	if (s[i] != '"') {
		if (s[i] == '}' && ctx == AFTER_OPEN)
			goto close;
		st = s[i] == '}' ? JSON_ERR_TRAILING_COMMA : JSON_ERR_EXPECT_KEY;
		goto fail;
	}
	NEW_TOKEN(JSON_STRING); /* (its parent is an object: no size++ there) */
	flags = JSON_F_KEY;
	i++;
	st = scan_string(s, len, &i, &flags);
	if (st != JSON_OK)
		goto fail;
	if (toks != NULL) {
		t->start++;
		t->end = (uint32_t)i;
		t->size = 1;
		t->flags = flags;
		toks[p->stack[depth - 1]].size++;
	}
	i++;
	SKIP_WS();
	if (i == len) {
		st = JSON_ERR_EOF;
		goto fail;
	}
	if (s[i] != ':') {
		st = JSON_ERR_EXPECT_COLON;
		goto fail;
	}
	i++;
	ctx = AFTER_OTHER;
	goto value;

close:
	/* s[i] closes the innermost container */
	v = p->stack[--depth];
	i++;
	if (toks != NULL) {
		toks[v].end = (uint32_t)i;
		toks[v].next = n;
	}
	/* fall through */

value_done:
	/* toks[v] is complete (its `next` is final) */
	if (depth == 0) {
		SKIP_WS();
		if (i != len) {
			st = JSON_ERR_TRAILING;
			goto fail;
		}
		p->ntok = n;
		return JSON_OK;
	}
	parent = depth - 1;
	if (toks != NULL && p->is_obj[parent])
		toks[v - 1].next = toks[v].next; /* the key spans its value */
	SKIP_WS();
	if (i == len) {
		st = JSON_ERR_EOF;
		goto fail;
	}
	c = s[i];
	if (c == ',') {
		i++;
		ctx = AFTER_COMMA;
		if (p->is_obj[parent])
			goto key;
		goto value;
	}
	if (c == (p->is_obj[parent] ? '}' : ']'))
		goto close;
	st = JSON_ERR_EXPECT_COMMA;
	/* fall through */

fail:
	p->ntok = n;
	p->err_offset = i;
	json_position(js, len, i, &p->err_line, &p->err_col);
	return st;
#undef NEW_TOKEN
#undef SKIP_WS
}

/* see json.h */
const char *json_strerror(json_status_t st)
{
	switch (st) {
	case JSON_OK: return "success";
	case JSON_ERR_EMPTY: return "empty document (no JSON value)";
	case JSON_ERR_BOM: return "byte order mark at start of document";
	case JSON_ERR_EOF: return "unexpected end of input";
	case JSON_ERR_EXPECT_VALUE: return "expected a value";
	case JSON_ERR_EXPECT_KEY: return "expected a string as object key";
	case JSON_ERR_EXPECT_COLON: return "expected ':' after object key";
	case JSON_ERR_EXPECT_COMMA: return "expected ',' or closing bracket";
	case JSON_ERR_TRAILING_COMMA: return "trailing comma";
	case JSON_ERR_TRAILING: return "unexpected data after the value";
	case JSON_ERR_LITERAL: return "invalid literal (expected true, false or null)";
	case JSON_ERR_NUMBER: return "invalid number";
	case JSON_ERR_UNTERMINATED: return "unterminated string";
	case JSON_ERR_CTRL: return "control character in string (must be escaped)";
	case JSON_ERR_ESCAPE: return "invalid escape sequence";
	case JSON_ERR_SURROGATE: return "unpaired surrogate in \\u escape";
	case JSON_ERR_UTF8: return "invalid UTF-8";
	case JSON_ERR_DEPTH: return "nesting too deep";
	case JSON_ERR_NOTOKENS: return "too many tokens for the token array";
	case JSON_ERR_TOOBIG: return "document too large";
	case JSON_ERR_TYPE: return "wrong type";
	case JSON_ERR_NOT_FOUND: return "key not found";
	case JSON_ERR_DUPLICATE: return "duplicated key";
	case JSON_ERR_NOSPACE: return "output buffer too small";
	case JSON_ERR_NUL: return "string contains U+0000";
	case JSON_ERR_NOT_INTEGER: return "not an integer";
	case JSON_ERR_RANGE: return "integer out of range";
	}
	return "unknown JSON status";
}

/* see json.h */
const char *json_type_name(int type)
{
	switch (type) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_NUMBER: return "number";
	case JSON_TRUE: return "true";
	case JSON_FALSE: return "false";
	case JSON_NULL: return "null";
	default: return "?";
	}
}

/* see json.h */
void json_position(const char *js, size_t len, size_t offset,
	size_t *line, size_t *col)
{
	const uint8_t *s = (const uint8_t *)js;
	size_t ln = 1, cl = 1, i;

	if (offset > len)
		offset = len;
	for (i = 0; i < offset; i++) {
		if (s[i] == '\n') {
			ln++;
			cl = 1;
		} else if ((s[i] & 0xc0) != 0x80) {
			cl++; /* count lead bytes: one per code point */
		}
	}
	*line = ln;
	*col = cl;
}

/*
 * Decode the code point of the escape at s[*pi] (a backslash, *pi < end)
 * of a validated string and advance past it.  Out-of-range input from a
 * foreign token yields U+FFFD rather than reading past `end`.
 */
static uint32_t unescape_one(const uint8_t *s, size_t end, size_t *pi)
{
	size_t i = *pi;
	uint32_t cp, lo;

	if (end - i < 2) {
		*pi = end;
		return 0xfffd;
	}
	*pi = i + 2;
	switch (s[i + 1]) {
	case 'b': return '\b';
	case 'f': return '\f';
	case 'n': return '\n';
	case 'r': return '\r';
	case 't': return '\t';
	case 'u': break;
	default: return s[i + 1]; /* '"', '\\', '/' */
	}
	cp = hex4(s, end, i + 2);
	if (cp == HEX_BAD) {
		*pi = end;
		return 0xfffd;
	}
	*pi = i + 6;
	if (cp < 0xd800 || cp > 0xdbff)
		return cp >= 0xdc00 && cp <= 0xdfff ? 0xfffd : cp;
	lo = end - i >= 12 ? hex4(s, end, i + 8) : HEX_BAD;
	if (lo < 0xdc00 || lo > 0xdfff)
		return 0xfffd;
	*pi = i + 12;
	return 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
}

/* Next code point of string contents s[*pi..end) (*pi < end). */
static uint32_t next_cp(const uint8_t *s, size_t end, size_t *pi)
{
	size_t i = *pi, k;
	uint32_t cp;

	if (s[i] == '\\')
		return unescape_one(s, end, pi);
	if (s[i] < 0x80) {
		*pi = i + 1;
		return s[i];
	}
	k = utf8_decode(s + i, end - i, &cp);
	if (k == 0) {
		*pi = i + 1;
		return 0xfffd;
	}
	*pi = i + k;
	return cp;
}

/* see json.h */
int json_streq(const char *js, const json_tok_t *t, const char *str)
{
	const uint8_t *s = (const uint8_t *)js;
	const uint8_t *z = (const uint8_t *)str;
	size_t i, end, j = 0, k, m;
	uint8_t buf[4];

	if (t->type != JSON_STRING)
		return 0;
	i = t->start;
	end = t->end;
	if (!(t->flags & JSON_F_ESCAPED))
		return strlen(str) == end - i && same_bytes(s + i, z, end - i);
	while (i < end) {
		k = utf8_encode(next_cp(s, end, &i), buf);
		for (m = 0; m < k; m++, j++) {
			/* a NUL from \u0000 never matches the C string's end */
			if (z[j] == 0 || z[j] != buf[m])
				return 0;
		}
	}
	return z[j] == 0;
}

/* 1 if string tokens a and b have the same unescaped value. */
static int tok_eq(const uint8_t *s, const json_tok_t *a, const json_tok_t *b)
{
	size_t i = a->start, j = b->start;

	if (!((a->flags | b->flags) & JSON_F_ESCAPED))
		return a->end - i == b->end - j &&
			same_bytes(s + i, s + j, a->end - i);
	while (i < a->end && j < b->end) {
		if (next_cp(s, a->end, &i) != next_cp(s, b->end, &j))
			return 0;
	}
	return i == a->end && j == b->end;
}

/* see json.h */
json_status_t json_find_key(const char *js, const json_tok_t *toks,
	uint32_t obj, const char *key, uint32_t *val)
{
	uint32_t i, end, found = JSON_NONE;

	if (toks[obj].type != JSON_OBJECT)
		return JSON_ERR_TYPE;
	end = toks[obj].next;
	for (i = obj + 1; i < end; i = toks[i].next) {
		if (!json_streq(js, &toks[i], key))
			continue;
		if (found != JSON_NONE) {
			*val = i + 1;
			return JSON_ERR_DUPLICATE;
		}
		found = i + 1;
	}
	if (found == JSON_NONE)
		return JSON_ERR_NOT_FOUND;
	*val = found;
	return JSON_OK;
}

/* see json.h */
json_status_t json_find_dup(const char *js, const json_tok_t *toks,
	uint32_t obj, uint32_t *key)
{
	const uint8_t *s = (const uint8_t *)js;
	uint32_t i, j, end;

	if (toks[obj].type != JSON_OBJECT)
		return JSON_ERR_TYPE;
	end = toks[obj].next;
	for (i = obj + 1; i < end; i = toks[i].next) {
		for (j = obj + 1; j < i; j = toks[j].next) {
			if (tok_eq(s, &toks[i], &toks[j])) {
				*key = i;
				return JSON_ERR_DUPLICATE;
			}
		}
	}
	return JSON_OK;
}

/* see json.h */
json_status_t json_unescape(const char *js, const json_tok_t *t,
	char *out, size_t outsz, size_t *outlen)
{
	const uint8_t *s = (const uint8_t *)js;
	const uint8_t *bs;
	size_t i, end, o = 0, run, k;
	uint32_t cp;
	uint8_t buf[4];
	int nul = 0;

	if (t->type != JSON_STRING)
		return JSON_ERR_TYPE;
	i = t->start;
	end = t->end;
	if (!(t->flags & JSON_F_ESCAPED)) {
		o = end - i;
		if (o < outsz)
			memcpy(out, s + i, o);
	} else {
		/* loop invariant: the bytes written so far fit, o counts all */
		while (i < end) {
			bs = memchr(s + i, '\\', end - i);
			run = bs != NULL ? (size_t)(bs - (s + i)) : end - i;
			if (run > 0) {
				if (o + run < outsz)
					memcpy(out + o, s + i, run);
				o += run;
				i += run;
				if (i == end)
					break;
			}
			cp = unescape_one(s, end, &i);
			if (cp == 0)
				nul = 1;
			k = utf8_encode(cp, buf);
			if (o + k < outsz)
				memcpy(out + o, buf, k);
			o += k;
		}
	}
	if (outlen != NULL)
		*outlen = o;
	if (o >= outsz) {
		if (outsz > 0)
			out[0] = '\0';
		return JSON_ERR_NOSPACE;
	}
	out[o] = '\0';
	return nul ? JSON_ERR_NUL : JSON_OK;
}

/* see json.h */
json_status_t json_get_int(const char *js, const json_tok_t *t,
	int64_t min, int64_t max, int64_t *out)
{
	const uint8_t *s = (const uint8_t *)js + t->start;
	size_t n = t->end - t->start, i = 0;
	uint64_t mag = 0, d, lim;
	int64_t val;
	int neg;

	if (t->type == JSON_NUMBER) {
		if (t->flags & (JSON_F_FRAC | JSON_F_EXP))
			return JSON_ERR_NOT_INTEGER;
	} else if (t->type == JSON_STRING) {
		/* the same grammar the tokenizer applies to number tokens */
		if (t->flags & JSON_F_ESCAPED)
			return JSON_ERR_NOT_INTEGER;
		i = n > 0 && s[0] == '-';
		if (i == n || !(cls[s[i]] & C_DIGIT) ||
			(s[i] == '0' && n - i > 1))
			return JSON_ERR_NOT_INTEGER;
		while (i < n && (cls[s[i]] & C_DIGIT))
			i++;
		if (i != n)
			return JSON_ERR_NOT_INTEGER;
	} else {
		return JSON_ERR_TYPE;
	}
	neg = n > 0 && s[0] == '-';
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (i = (size_t)neg; i < n; i++) {
		d = (uint64_t)(s[i] - '0');
		if (mag > (lim - d) / 10)
			return JSON_ERR_RANGE;
		mag = mag * 10 + d;
	}
	if (neg)
		val = mag == 0 ? 0 : -(int64_t)(mag - 1) - 1;
	else
		val = (int64_t)mag;
	if (val < min || val > max)
		return JSON_ERR_RANGE;
	*out = val;
	return JSON_OK;
}

/* see json.h */
json_iter_t json_iter(const json_tok_t *toks, uint32_t container)
{
	json_iter_t it;
	uint8_t type = toks[container].type;

	it.cur = container + 1;
	it.end = type == JSON_OBJECT || type == JSON_ARRAY ?
		toks[container].next : it.cur;
	it.is_obj = type == JSON_OBJECT;
	return it;
}

/* see json.h */
int json_iter_next(json_iter_t *it, const json_tok_t *toks,
	uint32_t *key, uint32_t *val)
{
	uint32_t i = it->cur;

	if (i >= it->end)
		return 0;
	if (it->is_obj) {
		*key = i;
		*val = i + 1;
	} else {
		*key = JSON_NONE;
		*val = i;
	}
	it->cur = toks[i].next;
	return 1;
}
