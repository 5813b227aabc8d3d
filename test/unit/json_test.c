#include "unit.h"
#include "proto/json.h"

#include <stdio.h>

#define NTOK 256

/* Parse s (length n) into toks; also check counting mode agrees. */
static json_status_t parse_n(const char *s, size_t n, json_parser_t *p,
	json_tok_t *toks, size_t ntoks)
{
	json_parser_t pc;
	json_status_t st = json_parse(p, s, n, toks, ntoks);
	json_status_t sc = json_parse(&pc, s, n, NULL, 0);

	if (st != JSON_ERR_NOTOKENS) {
		CHECK_INT(sc, st);
		CHECK_INT(pc.ntok, p->ntok);
		if (st != JSON_OK) {
			CHECK_INT(pc.err_offset, p->err_offset);
			CHECK_INT(pc.err_line, p->err_line);
			CHECK_INT(pc.err_col, p->err_col);
		}
	}
	return st;
}

static json_status_t parse(const char *s, json_parser_t *p, json_tok_t *toks)
{
	return parse_n(s, strlen(s), p, toks, NTOK);
}

/* ---- valid documents: status OK and the expected token count */

static const struct {
	const char *in;
	uint32_t ntok;
} valid_docs[] = {
	{ "{}", 1 },
	{ "[]", 1 },
	{ "\"\"", 1 },
	{ "0", 1 },
	{ "true", 1 },
	{ "false", 1 },
	{ "null", 1 },
	{ " \t\r\n{ \t\r\n} \t\r\n", 1 },
	{ "[1,2,3]", 4 },
	{ "{\"a\":1}", 3 },
	{ "{\"a\":{\"b\":[true,false,null]}}", 8 },
	{ "[[],{},[[]],\"x\"]", 6 },
	{ "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\uD83D\\uDE00\"]", 2 },
	{ "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xef\xbb\xbf\x7f\"", 1 },
	{ "{\"a\":1,\"a\":2}", 5 }, /* duplicates: the tokenizer accepts them */
	{ "\"\\u0000\"", 1 },
	{ "123456789012345678901234567890123456789012345678901234567890", 1 },
	{ "-1.5e-999999999999999999999", 1 },
	{ "[0,-0,0.0,-0.0e0,1E5,1e+5,1e-5,10,1.25]", 10 },
	{ "{\"\":\"\"}", 3 },
	{ "[\"a\",[\"b\",[\"c\"]],{\"d\":{}}]", 9 },
};

static void json_valid_docs(void)
{
	json_parser_t p;
	json_tok_t toks[NTOK];

	for (size_t i = 0; i < sizeof valid_docs / sizeof valid_docs[0]; i++) {
		json_status_t st = parse(valid_docs[i].in, &p, toks);
		if (st != JSON_OK)
			unit_fail(__FILE__, __LINE__, "valid_docs[%zu] %s: %s at %zu",
				i, valid_docs[i].in, json_strerror(st), p.err_offset);
		CHECK_INT(p.ntok, valid_docs[i].ntok);
		CHECK_INT(toks[0].next, p.ntok);
	}
}

/* ---- malformed documents: status and the byte offset reported */

#define E(s, st, off) { s, sizeof s - 1, st, off }
static const struct {
	const char *in;
	size_t len;
	json_status_t st;
	size_t off;
} bad_docs[] = {
	/* empty, whitespace, BOM, trailing data */
	E("", JSON_ERR_EMPTY, 0),
	E(" \t\r\n", JSON_ERR_EMPTY, 4),
	E("\xef\xbb\xbf{}", JSON_ERR_BOM, 0),
	E("\xef\xbb\xbf", JSON_ERR_BOM, 0),
	E(" \xef\xbb\xbf{}", JSON_ERR_EXPECT_VALUE, 1),
	E("{} x", JSON_ERR_TRAILING, 3),
	E("1 2", JSON_ERR_TRAILING, 2),
	E("\"a\" \"b\"", JSON_ERR_TRAILING, 4),
	E("{}}", JSON_ERR_TRAILING, 2),
	E("[]]", JSON_ERR_TRAILING, 2),
	E("{},{}", JSON_ERR_TRAILING, 2),
	E("{}\0", JSON_ERR_TRAILING, 2),
	E("{}\f", JSON_ERR_TRAILING, 2),
	E("\f{}", JSON_ERR_EXPECT_VALUE, 0),
	E("\xc2\xa0{}", JSON_ERR_EXPECT_VALUE, 0),
	/* structure */
	E("[", JSON_ERR_EOF, 1),
	E("[1", JSON_ERR_EOF, 2),
	E("[1,", JSON_ERR_EOF, 3),
	E("{", JSON_ERR_EOF, 1),
	E("{\"a\"", JSON_ERR_EOF, 4),
	E("{\"a\":", JSON_ERR_EOF, 5),
	E("{\"a\":1", JSON_ERR_EOF, 6),
	E("]", JSON_ERR_EXPECT_VALUE, 0),
	E("}", JSON_ERR_EXPECT_VALUE, 0),
	E(":", JSON_ERR_EXPECT_VALUE, 0),
	E("[1,]", JSON_ERR_TRAILING_COMMA, 3),
	E("[1, ]", JSON_ERR_TRAILING_COMMA, 4),
	E("{\"a\":1,}", JSON_ERR_TRAILING_COMMA, 7),
	E("[,]", JSON_ERR_EXPECT_VALUE, 1),
	E("[,1]", JSON_ERR_EXPECT_VALUE, 1),
	E("[1,,2]", JSON_ERR_EXPECT_VALUE, 3),
	E("{,}", JSON_ERR_EXPECT_KEY, 1),
	E("{1:2}", JSON_ERR_EXPECT_KEY, 1),
	E("{'a':1}", JSON_ERR_EXPECT_KEY, 1),
	E("{a:1}", JSON_ERR_EXPECT_KEY, 1),
	E("{\"a\" 1}", JSON_ERR_EXPECT_COLON, 5),
	E("{\"a\"=1}", JSON_ERR_EXPECT_COLON, 4),
	E("{\"a\":}", JSON_ERR_EXPECT_VALUE, 5),
	E("{\"a\":1 \"b\":2}", JSON_ERR_EXPECT_COMMA, 7),
	E("{\"a\":1]", JSON_ERR_EXPECT_COMMA, 6),
	E("[1}", JSON_ERR_EXPECT_COMMA, 2),
	E("[1 2]", JSON_ERR_EXPECT_COMMA, 3),
	E("[\"a\" \"b\"]", JSON_ERR_EXPECT_COMMA, 5),
	E("['a']", JSON_ERR_EXPECT_VALUE, 1),
	E("[1]/* c */", JSON_ERR_TRAILING, 3),
	E("// c\n1", JSON_ERR_EXPECT_VALUE, 0),
	E("[1 /* c */]", JSON_ERR_EXPECT_COMMA, 3),
	/* literals */
	E("tru", JSON_ERR_LITERAL, 0),
	E("nul", JSON_ERR_LITERAL, 0),
	E("True", JSON_ERR_LITERAL, 0),
	E("nulll", JSON_ERR_LITERAL, 0),
	E("[truex]", JSON_ERR_LITERAL, 1),
	E("[true1]", JSON_ERR_LITERAL, 1),
	E("NaN", JSON_ERR_LITERAL, 0),
	E("Infinity", JSON_ERR_LITERAL, 0),
	E("undefined", JSON_ERR_LITERAL, 0),
	/* numbers: every form RFC 8259 forbids */
	E("01", JSON_ERR_NUMBER, 1),
	E("-01", JSON_ERR_NUMBER, 2),
	E("00", JSON_ERR_NUMBER, 1),
	E("+1", JSON_ERR_NUMBER, 0),
	E(".5", JSON_ERR_NUMBER, 0),
	E("-.5", JSON_ERR_NUMBER, 1),
	E("1.", JSON_ERR_NUMBER, 2),
	E("[1.]", JSON_ERR_NUMBER, 3),
	E("1.e5", JSON_ERR_NUMBER, 2),
	E("-", JSON_ERR_NUMBER, 1),
	E("[-]", JSON_ERR_NUMBER, 2),
	E("--1", JSON_ERR_NUMBER, 1),
	E("-a", JSON_ERR_NUMBER, 1),
	E("1e", JSON_ERR_NUMBER, 2),
	E("1e+", JSON_ERR_NUMBER, 3),
	E("1E-", JSON_ERR_NUMBER, 3),
	E("1ee5", JSON_ERR_NUMBER, 2),
	E("1e5.5", JSON_ERR_NUMBER, 3),
	E("1.5.3", JSON_ERR_NUMBER, 3),
	E("0x10", JSON_ERR_NUMBER, 1),
	E("1x", JSON_ERR_NUMBER, 1),
	E("1-", JSON_ERR_NUMBER, 1),
	E("1+1", JSON_ERR_NUMBER, 1),
	E("-Infinity", JSON_ERR_NUMBER, 1),
	E("[1,+1]", JSON_ERR_NUMBER, 3),
	/* strings */
	E("\"", JSON_ERR_UNTERMINATED, 0),
	E("\"abc", JSON_ERR_UNTERMINATED, 0),
	E("[1, \"abc", JSON_ERR_UNTERMINATED, 4),
	E("\"abc\\", JSON_ERR_UNTERMINATED, 0),
	E("\"abc\\\"", JSON_ERR_UNTERMINATED, 0),
	E("\"a\nb\"", JSON_ERR_CTRL, 2),
	E("\"a\tb\"", JSON_ERR_CTRL, 2),
	E("\"\0\"", JSON_ERR_CTRL, 1),
	E("\"\x1f\"", JSON_ERR_CTRL, 1),
	E("\"\\a\"", JSON_ERR_ESCAPE, 1),
	E("\"\\x41\"", JSON_ERR_ESCAPE, 1),
	E("\"\\'\"", JSON_ERR_ESCAPE, 1),
	E("\"\\0\"", JSON_ERR_ESCAPE, 1),
	E("\"\\U0041\"", JSON_ERR_ESCAPE, 1),
	E("\"\\u\"", JSON_ERR_ESCAPE, 1),
	E("\"\\u12\"", JSON_ERR_ESCAPE, 1),
	E("\"\\u12g4\"", JSON_ERR_ESCAPE, 1),
	E("\"\\u123", JSON_ERR_ESCAPE, 1),
	E("\"\\\n\"", JSON_ERR_ESCAPE, 1),
	/* surrogates in \u escapes */
	E("\"\\ud800\"", JSON_ERR_SURROGATE, 1),
	E("\"\\udbff\"", JSON_ERR_SURROGATE, 1),
	E("\"\\udc00\"", JSON_ERR_SURROGATE, 1),
	E("\"\\uDFFF\"", JSON_ERR_SURROGATE, 1),
	E("\"x\\ude00\\ud83d\"", JSON_ERR_SURROGATE, 2),
	E("\"\\ud800\\u0041\"", JSON_ERR_SURROGATE, 1),
	E("\"\\ud800\\ud800\"", JSON_ERR_SURROGATE, 1),
	E("\"\\ud800x\"", JSON_ERR_SURROGATE, 1),
	E("\"\\ud800\\n\"", JSON_ERR_SURROGATE, 1),
	E("\"\\ud800\\uzzzz\"", JSON_ERR_ESCAPE, 7),
	E("\"\\ud800", JSON_ERR_SURROGATE, 1),
	/* raw bytes: ill-formed UTF-8 */
	E("\"\x80\"", JSON_ERR_UTF8, 1),
	E("\"\xbf\"", JSON_ERR_UTF8, 1),
	E("\"\xc0\xaf\"", JSON_ERR_UTF8, 1),        /* overlong '/' */
	E("\"\xc1\xbf\"", JSON_ERR_UTF8, 1),        /* overlong */
	E("\"\xe0\x80\xaf\"", JSON_ERR_UTF8, 1),    /* overlong 3-byte */
	E("\"\xe0\x9f\xbf\"", JSON_ERR_UTF8, 1),    /* overlong U+07FF */
	E("\"\xf0\x80\x80\xaf\"", JSON_ERR_UTF8, 1), /* overlong 4-byte */
	E("\"\xf0\x8f\xbf\xbf\"", JSON_ERR_UTF8, 1), /* overlong U+FFFF */
	E("\"\xed\xa0\x80\"", JSON_ERR_UTF8, 1),    /* U+D800 encoded */
	E("\"\xed\xbf\xbf\"", JSON_ERR_UTF8, 1),    /* U+DFFF encoded */
	E("\"\xed\xa0\xbd\xed\xb8\x80\"", JSON_ERR_UTF8, 1), /* CESU-8 pair */
	E("\"\xf4\x90\x80\x80\"", JSON_ERR_UTF8, 1), /* > U+10FFFF */
	E("\"\xf8\x88\x80\x80\x80\"", JSON_ERR_UTF8, 1),
	E("\"\xfe\"", JSON_ERR_UTF8, 1),
	E("\"\xff\"", JSON_ERR_UTF8, 1),
	E("\"\xe2\x82\"", JSON_ERR_UTF8, 1),         /* truncated */
	E("\"ok\xc3\"", JSON_ERR_UTF8, 3),
	E("\"ok\xc3", JSON_ERR_UTF8, 3),
	E("\"\xc3\xa9\xc3\x28\"", JSON_ERR_UTF8, 3),
	E("{\"k\xff\":1}", JSON_ERR_UTF8, 3),
	/* bytes >= 0x80 outside strings */
	E("\xc3\xa9", JSON_ERR_EXPECT_VALUE, 0),
	E("[1]\xc3\xa9", JSON_ERR_TRAILING, 3),
};
#undef E

static void json_bad_docs(void)
{
	json_parser_t p;
	json_tok_t toks[NTOK];

	for (size_t i = 0; i < sizeof bad_docs / sizeof bad_docs[0]; i++) {
		json_status_t st = parse_n(bad_docs[i].in, bad_docs[i].len, &p,
			toks, NTOK);
		if (st != bad_docs[i].st || p.err_offset != bad_docs[i].off)
			unit_fail(__FILE__, __LINE__,
				"bad_docs[%zu]: got %d (%s) at %zu, want %d (%s) at %zu",
				i, st, json_strerror(st), p.err_offset,
				bad_docs[i].st, json_strerror(bad_docs[i].st),
				bad_docs[i].off);
	}
}

static void json_null_input(void)
{
	json_parser_t p;

	CHECK_INT(json_parse(&p, NULL, 0, NULL, 0), JSON_ERR_EMPTY);
	CHECK_INT(p.err_offset, 0);
	CHECK_INT(p.err_line, 1);
	CHECK_INT(p.err_col, 1);
	CHECK_INT(p.ntok, 0);
}

/* Limits of the 32-bit offsets (nothing past the first byte is read). */
static void json_size_limits(void)
{
#if SIZE_MAX > UINT32_MAX
	json_parser_t p;
	json_tok_t t[2];

	CHECK_INT(json_parse(&p, "[", (size_t)UINT32_MAX + 1, NULL, 0),
		JSON_ERR_TOOBIG);
	CHECK_INT(p.err_offset, 0);
	CHECK_INT(p.err_line, 1);
	/* a huge token count is clamped, not truncated to a small one */
	CHECK_INT(json_parse(&p, "[1]", 3, t, (size_t)UINT32_MAX + 2), JSON_OK);
	CHECK_INT(p.ntok, 2);
#endif
}

static void json_control_chars(void)
{
	json_parser_t p;
	json_tok_t toks[4];
	char doc[4] = { '"', 0, '"', 0 };

	for (int c = 0; c < 0x20; c++) {
		doc[1] = (char)c;
		CHECK_INT(parse_n(doc, 3, &p, toks, 4), JSON_ERR_CTRL);
		CHECK_INT(p.err_offset, 1);
	}
	doc[1] = 0x7f; /* DEL is not a control character for JSON */
	CHECK_INT(parse_n(doc, 3, &p, toks, 4), JSON_OK);
}

/* ---- token layout */

static void json_layout(void)
{
	static const char doc[] =
		"{\"a\":[1,2,{\"b\":null}],\"c\\n\":\"x\\ty\",\"d\":-1.5e3}";
	json_parser_t p;
	json_tok_t t[NTOK];

	CHECK_INT(parse(doc, &p, t), JSON_OK);
	CHECK_INT(p.ntok, 12);
	/* 0 {..}  1 "a"  2 [..]  3 1  4 2  5 {..}  6 "b"  7 null
	 * 8 "c\n"  9 "x\ty"  10 "d"  11 -1.5e3 */
	CHECK_INT(t[0].type, JSON_OBJECT);
	CHECK_INT(t[0].start, 0);
	CHECK_INT(t[0].end, sizeof doc - 1);
	CHECK_INT(t[0].size, 3);
	CHECK_INT(t[0].next, 12);
	CHECK_INT(t[1].type, JSON_STRING);
	CHECK_INT(t[1].flags, JSON_F_KEY);
	CHECK_INT(t[1].start, 2);
	CHECK_INT(t[1].end, 3);
	CHECK_INT(t[1].size, 1);
	CHECK_INT(t[1].next, 8);
	CHECK_INT(t[2].type, JSON_ARRAY);
	CHECK_INT(t[2].size, 3);
	CHECK_INT(t[2].start, 5);
	CHECK_INT(doc[t[2].end - 1], ']');
	CHECK_INT(t[2].next, 8);
	CHECK_INT(t[3].type, JSON_NUMBER);
	CHECK_INT(t[3].next, 4);
	CHECK_INT(t[5].type, JSON_OBJECT);
	CHECK_INT(t[5].size, 1);
	CHECK_INT(t[5].next, 8);
	CHECK_INT(t[6].next, 8);
	CHECK_INT(t[7].type, JSON_NULL);
	CHECK_INT(t[7].end - t[7].start, 4);
	CHECK_INT(t[8].flags, JSON_F_KEY | JSON_F_ESCAPED);
	CHECK_INT(t[8].next, 10);
	CHECK_INT(t[9].type, JSON_STRING);
	CHECK_INT(t[9].flags, JSON_F_ESCAPED);
	CHECK_MEM(doc + t[9].start, t[9].end - t[9].start, "x\\ty", 4);
	CHECK_INT(t[11].type, JSON_NUMBER);
	CHECK_INT(t[11].flags, JSON_F_NEG | JSON_F_FRAC | JSON_F_EXP);
	CHECK_MEM(doc + t[11].start, t[11].end - t[11].start, "-1.5e3", 6);
	CHECK_INT(t[11].next, 12);
}

/* ---- limits: depth and token array size */

static void nest(char *buf, size_t depth, int obj)
{
	size_t o = 0;
	for (size_t i = 0; i < depth; i++) {
		if (obj && i > 0) {
			memcpy(buf + o, "\"k\":", 4);
			o += 4;
		}
		buf[o++] = obj ? '{' : '[';
	}
	for (size_t i = 0; i < depth; i++)
		buf[o++] = obj ? '}' : ']';
	buf[o] = '\0';
}

static void json_depth(void)
{
	static char buf[8 * (JSON_MAX_DEPTH + 2)];
	json_parser_t p;
	json_tok_t t[3 * JSON_MAX_DEPTH];

	nest(buf, JSON_MAX_DEPTH, 0);
	CHECK_INT(parse(buf, &p, t), JSON_OK);
	CHECK_INT(p.ntok, JSON_MAX_DEPTH);
	CHECK_INT(t[0].next, JSON_MAX_DEPTH);
	CHECK_INT(t[JSON_MAX_DEPTH - 1].size, 0);
	nest(buf, JSON_MAX_DEPTH + 1, 0);
	CHECK_INT(parse(buf, &p, t), JSON_ERR_DEPTH);
	CHECK_INT(p.err_offset, JSON_MAX_DEPTH);

	nest(buf, JSON_MAX_DEPTH, 1);
	CHECK_INT(parse(buf, &p, t), JSON_OK);
	CHECK_INT(p.ntok, 2 * JSON_MAX_DEPTH - 1);
	nest(buf, JSON_MAX_DEPTH + 1, 1);
	CHECK_INT(parse(buf, &p, t), JSON_ERR_DEPTH);
	CHECK_INT(p.err_offset, 5 * JSON_MAX_DEPTH);

	/* depth is nesting, not length: many siblings are fine */
	{
		static char wide[4 * 1000 + 4];
		size_t o = 0;
		wide[o++] = '[';
		for (int i = 0; i < 1000; i++) {
			memcpy(wide + o, "[0],", 4);
			o += 4;
		}
		wide[o - 1] = ']';
		wide[o] = 0;
		CHECK_INT(parse_n(wide, o, &p, NULL, 0), JSON_OK);
		CHECK_INT(p.ntok, 2001);
	}
}

static void json_notokens(void)
{
	static const char doc[] = "{\"a\":[1,2,3],\"b\":\"c\"}";
	json_parser_t p;
	json_tok_t t[16];

	CHECK_INT(json_parse(&p, doc, sizeof doc - 1, NULL, 0), JSON_OK);
	CHECK_INT(p.ntok, 8);
	CHECK_INT(json_parse(&p, doc, sizeof doc - 1, t, 8), JSON_OK);
	CHECK_INT(p.ntok, 8);
	CHECK_INT(json_parse(&p, doc, sizeof doc - 1, t, 7), JSON_ERR_NOTOKENS);
	CHECK_INT(p.ntok, 7);
	CHECK_INT(p.err_offset, 17); /* the "c" value */
	CHECK_INT(json_parse(&p, doc, sizeof doc - 1, t, 0), JSON_ERR_NOTOKENS);
	CHECK_INT(p.ntok, 0);
	CHECK_INT(p.err_offset, 0);
	CHECK_INT(json_parse(&p, doc, sizeof doc - 1, t, 3), JSON_ERR_NOTOKENS);
	CHECK_INT(p.err_offset, 6);
	/* an error before the array runs out wins */
	CHECK_INT(json_parse(&p, "[01,2,3]", 8, t, 2), JSON_ERR_NUMBER);
	/* counting mode sees the whole document */
	CHECK_INT(json_parse(&p, "[1,2,3,01]", 10, t, 2), JSON_ERR_NOTOKENS);
	CHECK_INT(json_parse(&p, "[1,2,3,01]", 10, NULL, 0), JSON_ERR_NUMBER);
	CHECK_INT(p.ntok, 5); /* including the bad one */
}

/* ---- error positions */

static void json_error_position(void)
{
	/* line 4, the 'x' is the 9th code point on its line (é is 2 bytes) */
	static const char doc[] =
		"{\n"
		"  \"a\": \"1\",\r\n"
		"\t\"b\": [\n"
		"  \"\xc3\xa9\xc3\xa9\", x]\n"
		"}\n";
	json_parser_t p;
	json_tok_t t[16];
	size_t line, col;

	CHECK_INT(parse(doc, &p, t), JSON_ERR_LITERAL);
	CHECK_INT(p.err_offset, (size_t)(strchr(doc, 'x') - doc));
	CHECK_INT(p.err_line, 4);
	CHECK_INT(p.err_col, 9);

	CHECK_INT(parse("{\n\"a\":1,\n}", &p, t), JSON_ERR_TRAILING_COMMA);
	CHECK_INT(p.err_line, 3);
	CHECK_INT(p.err_col, 1);

	CHECK_INT(parse("[\n1,\n2\n", &p, t), JSON_ERR_EOF);
	CHECK_INT(p.err_offset, 7);
	CHECK_INT(p.err_line, 4);
	CHECK_INT(p.err_col, 1);

	CHECK_INT(parse("\n\n  \"abc", &p, t), JSON_ERR_UNTERMINATED);
	CHECK_INT(p.err_line, 3);
	CHECK_INT(p.err_col, 3);

	json_position(doc, sizeof doc - 1, 0, &line, &col);
	CHECK_INT(line, 1);
	CHECK_INT(col, 1);
	json_position(doc, sizeof doc - 1, 1, &line, &col);
	CHECK_INT(line, 1);
	CHECK_INT(col, 2);
	json_position(doc, sizeof doc - 1, 2, &line, &col);
	CHECK_INT(line, 2);
	CHECK_INT(col, 1);
	json_position(doc, sizeof doc - 1, 1000, &line, &col); /* clamped */
	CHECK_INT(line, 6);
	CHECK_INT(col, 1);
}

/* ---- helpers */

static void json_unescape_all(void)
{
	static const char doc[] =
		"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20AC\\ud83d\\ude00\\u007f\xc3\xa9-\"";
	static const char want[] =
		"\"\\/\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\x7f\xc3\xa9-";
	json_parser_t p;
	json_tok_t t[2];
	char out[64];
	size_t n = 0;

	CHECK_INT(parse_n(doc, sizeof doc - 1, &p, t, 2), JSON_OK);
	CHECK_INT(t[0].flags, JSON_F_ESCAPED);
	CHECK_INT(json_unescape(doc, &t[0], out, sizeof out, &n), JSON_OK);
	CHECK_MEM(out, n, want, sizeof want - 1);
	CHECK_INT(out[n], 0);
	CHECK(json_streq(doc, &t[0], want));
	CHECK(!json_streq(doc, &t[0], "\"\\/"));

	/* exact fit, one byte short (NUL needs room) */
	CHECK_INT(json_unescape(doc, &t[0], out, sizeof want, &n), JSON_OK);
	out[0] = 'x';
	CHECK_INT(json_unescape(doc, &t[0], out, sizeof want - 1, &n),
		JSON_ERR_NOSPACE);
	CHECK_INT(n, sizeof want - 1);
	CHECK_INT(out[0], 0);
	CHECK_INT(json_unescape(doc, &t[0], out, 0, NULL), JSON_ERR_NOSPACE);
	/* the raw length + 1 always suffices */
	CHECK(t[0].end - t[0].start + 1 >= sizeof want);
}

static void json_unescape_plain(void)
{
	static const char doc[] = "[\"hello\", \"\", 1]";
	json_parser_t p;
	json_tok_t t[4];
	char out[6];
	size_t n = 99;

	CHECK_INT(parse_n(doc, sizeof doc - 1, &p, t, 4), JSON_OK);
	CHECK_INT(t[1].flags, 0);
	CHECK_INT(json_unescape(doc, &t[1], out, 6, &n), JSON_OK);
	CHECK_STR(out, "hello");
	CHECK_INT(n, 5);
	CHECK_INT(json_unescape(doc, &t[1], out, 5, &n), JSON_ERR_NOSPACE);
	CHECK_INT(n, 5);
	CHECK_INT(json_unescape(doc, &t[2], out, 1, &n), JSON_OK);
	CHECK_STR(out, "");
	CHECK_INT(json_unescape(doc, &t[3], out, 6, &n), JSON_ERR_TYPE);
	CHECK(json_streq(doc, &t[1], "hello"));
	CHECK(!json_streq(doc, &t[1], "hell"));
	CHECK(!json_streq(doc, &t[1], "hello!"));
	CHECK(json_streq(doc, &t[2], ""));
	CHECK(!json_streq(doc, &t[3], "1"));
}

static void json_nul_escape(void)
{
	static const char doc[] = "{\"a\\u0000b\":\"x\\u0000y\"}";
	json_parser_t p;
	json_tok_t t[4];
	char out[16];
	size_t n = 0;
	uint32_t v;

	CHECK_INT(parse(doc, &p, t), JSON_OK);
	CHECK_INT(json_unescape(doc, &t[2], out, sizeof out, &n), JSON_ERR_NUL);
	CHECK_MEM(out, n + 1, "x\0y", 4);
	CHECK(!json_streq(doc, &t[2], "x"));
	CHECK(!json_streq(doc, &t[2], "xy"));
	CHECK_INT(json_find_key(doc, t, 0, "a", &v), JSON_ERR_NOT_FOUND);
	CHECK_INT(json_find_key(doc, t, 0, "ab", &v), JSON_ERR_NOT_FOUND);
}

static void json_find(void)
{
	static const char doc[] =
		"{\"a\":1,\"b\":{\"a\":2},\"k\\u00e9y\":[3],\"\\u0063\":4}";
	json_parser_t p;
	json_tok_t t[16];
	uint32_t v = 0, k = 0;

	CHECK_INT(parse(doc, &p, t), JSON_OK);
	CHECK_INT(json_find_key(doc, t, 0, "a", &v), JSON_OK);
	CHECK_INT(v, 2);
	CHECK_INT(json_find_key(doc, t, 0, "b", &v), JSON_OK);
	CHECK_INT(t[v].type, JSON_OBJECT);
	CHECK_INT(json_find_key(doc, t, v, "a", &v), JSON_OK);
	CHECK_INT(v, 6);
	CHECK_INT(json_find_key(doc, t, 0, "k\xc3\xa9y", &v), JSON_OK);
	CHECK_INT(t[v].type, JSON_ARRAY);
	CHECK_INT(json_find_key(doc, t, 0, "c", &v), JSON_OK);
	CHECK_INT(t[v].type, JSON_NUMBER);
	CHECK_INT(json_find_key(doc, t, 0, "key", &v), JSON_ERR_NOT_FOUND);
	CHECK_INT(json_find_key(doc, t, 0, "", &v), JSON_ERR_NOT_FOUND);
	CHECK_INT(json_find_key(doc, t, 1, "a", &v), JSON_ERR_TYPE);
	CHECK_INT(json_find_dup(doc, t, 0, &k), JSON_OK);
	CHECK_INT(json_find_dup(doc, t, 9, &k), JSON_ERR_TYPE);
}

static void json_duplicates(void)
{
	static const char doc[] =
		"{\"a\":1,\"b\":2,\"a\":3,\"\\u0062\":4}";
	static const char doc2[] = "{\"x\":{\"a\":1},\"y\":{\"a\":1}}";
	json_parser_t p;
	json_tok_t t[16];
	uint32_t v = 0, k = 0;
	char name[8];

	CHECK_INT(parse(doc, &p, t), JSON_OK);
	CHECK_INT(json_find_key(doc, t, 0, "a", &v), JSON_ERR_DUPLICATE);
	CHECK_INT(v, 6); /* the second "a"'s value: 3 */
	CHECK_MEM(doc + t[v].start, 1, "3", 1);
	CHECK_INT(json_find_key(doc, t, 0, "b", &v), JSON_ERR_DUPLICATE);
	CHECK_INT(v, 8);
	CHECK_INT(json_find_dup(doc, t, 0, &k), JSON_ERR_DUPLICATE);
	CHECK_INT(k, 5);
	CHECK_INT(json_unescape(doc, &t[k], name, sizeof name, NULL), JSON_OK);
	CHECK_STR(name, "a");

	/* same keys in different objects are not duplicates */
	CHECK_INT(parse(doc2, &p, t), JSON_OK);
	CHECK_INT(json_find_dup(doc2, t, 0, &k), JSON_OK);
	CHECK_INT(json_find_dup(doc2, t, 2, &k), JSON_OK);

	/* only escapes differ: "\u00e9" and raw é, "\/" and "/" */
	CHECK_INT(parse("{\"\\u00e9\\/\":1,\"\xc3\xa9/\":2}", &p, t), JSON_OK);
	CHECK_INT(json_find_dup("{\"\\u00e9\\/\":1,\"\xc3\xa9/\":2}", t, 0, &k),
		JSON_ERR_DUPLICATE);
	CHECK_INT(k, 3);
	/* prefixes are not duplicates */
	CHECK_INT(parse("{\"ab\":1,\"a\\u0062c\":2,\"a\":3}", &p, t), JSON_OK);
	CHECK_INT(json_find_dup("{\"ab\":1,\"a\\u0062c\":2,\"a\":3}", t, 0, &k),
		JSON_OK);
}

static const struct {
	const char *in;
	int64_t min, max;
	json_status_t st;
	int64_t want;
} int_cases[] = {
	{ "0", INT64_MIN, INT64_MAX, JSON_OK, 0 },
	{ "-0", INT64_MIN, INT64_MAX, JSON_OK, 0 },
	{ "8883", 1, 65535, JSON_OK, 8883 },
	{ "\"8883\"", 1, 65535, JSON_OK, 8883 },
	{ "\"-12\"", -100, 100, JSON_OK, -12 },
	{ "65535", 1, 65535, JSON_OK, 65535 },
	{ "65536", 1, 65535, JSON_ERR_RANGE, 0 },
	{ "0", 1, 65535, JSON_ERR_RANGE, 0 },
	{ "-1", 0, 10, JSON_ERR_RANGE, 0 },
	{ "9223372036854775807", INT64_MIN, INT64_MAX, JSON_OK, INT64_MAX },
	{ "-9223372036854775808", INT64_MIN, INT64_MAX, JSON_OK, INT64_MIN },
	{ "9223372036854775808", INT64_MIN, INT64_MAX, JSON_ERR_RANGE, 0 },
	{ "-9223372036854775809", INT64_MIN, INT64_MAX, JSON_ERR_RANGE, 0 },
	{ "18446744073709551616", INT64_MIN, INT64_MAX, JSON_ERR_RANGE, 0 },
	{ "99999999999999999999999999999999", INT64_MIN, INT64_MAX, JSON_ERR_RANGE, 0 },
	{ "1.0", INT64_MIN, INT64_MAX, JSON_ERR_NOT_INTEGER, 0 },
	{ "1e3", INT64_MIN, INT64_MAX, JSON_ERR_NOT_INTEGER, 0 },
	{ "1E+0", INT64_MIN, INT64_MAX, JSON_ERR_NOT_INTEGER, 0 },
	{ "-0.5", INT64_MIN, INT64_MAX, JSON_ERR_NOT_INTEGER, 0 },
	{ "\"\"", INT64_MIN, INT64_MAX, JSON_ERR_NOT_INTEGER, 0 },
	{ "\"-\"", INT64_MIN, INT64_MAX, JSON_ERR_NOT_INTEGER, 0 },
	{ "\"08883\"", INT64_MIN, INT64_MAX, JSON_ERR_NOT_INTEGER, 0 },
	{ "\" 1\"", INT64_MIN, INT64_MAX, JSON_ERR_NOT_INTEGER, 0 },
	{ "\"1 \"", INT64_MIN, INT64_MAX, JSON_ERR_NOT_INTEGER, 0 },
	{ "\"+1\"", INT64_MIN, INT64_MAX, JSON_ERR_NOT_INTEGER, 0 },
	{ "\"1.5\"", INT64_MIN, INT64_MAX, JSON_ERR_NOT_INTEGER, 0 },
	{ "\"0x10\"", INT64_MIN, INT64_MAX, JSON_ERR_NOT_INTEGER, 0 },
	{ "\"\\u0031\"", INT64_MIN, INT64_MAX, JSON_ERR_NOT_INTEGER, 0 },
	{ "\"99999999999999999999\"", INT64_MIN, INT64_MAX, JSON_ERR_RANGE, 0 },
	{ "true", INT64_MIN, INT64_MAX, JSON_ERR_TYPE, 0 },
	{ "null", INT64_MIN, INT64_MAX, JSON_ERR_TYPE, 0 },
	{ "[1]", INT64_MIN, INT64_MAX, JSON_ERR_TYPE, 0 },
	{ "{}", INT64_MIN, INT64_MAX, JSON_ERR_TYPE, 0 },
};

static void json_integers(void)
{
	json_parser_t p;
	json_tok_t t[4];

	for (size_t i = 0; i < sizeof int_cases / sizeof int_cases[0]; i++) {
		int64_t v = 12345;
		json_status_t st;
		CHECK_INT(parse_n(int_cases[i].in, strlen(int_cases[i].in), &p,
			t, 4), JSON_OK);
		st = json_get_int(int_cases[i].in, &t[0], int_cases[i].min,
			int_cases[i].max, &v);
		if (st != int_cases[i].st)
			unit_fail(__FILE__, __LINE__, "int_cases[%zu] %s: got %s, want %s",
				i, int_cases[i].in, json_strerror(st),
				json_strerror(int_cases[i].st));
		if (st == JSON_OK)
			CHECK_INT(v, int_cases[i].want);
		else
			CHECK_INT(v, 12345); /* untouched */
	}
}

static void json_iterate(void)
{
	static const char doc[] =
		"{\"a\":[1,[2,3],{\"x\":4}],\"b\":{},\"c\":[],\"d\":\"s\"}";
	static const char *keys[] = { "a", "b", "c", "d" };
	json_parser_t p;
	json_tok_t t[32];
	json_iter_t it;
	uint32_t k, v, n = 0, arr = 0;
	char name[4];

	CHECK_INT(parse(doc, &p, t), JSON_OK);
	it = json_iter(t, 0);
	while (json_iter_next(&it, t, &k, &v)) {
		CHECK(n < 4);
		CHECK_INT(json_unescape(doc, &t[k], name, sizeof name, NULL), JSON_OK);
		CHECK_STR(name, keys[n]);
		CHECK_INT(v, k + 1);
		if (n == 0)
			arr = v;
		n++;
	}
	CHECK_INT(n, 4);
	CHECK_INT(t[0].size, 4);

	/* the array's elements: 1, [2,3], {"x":4} */
	{
		static const int types[] = { JSON_NUMBER, JSON_ARRAY, JSON_OBJECT };
		n = 0;
		it = json_iter(t, arr);
		while (json_iter_next(&it, t, &k, &v)) {
			CHECK_INT(k, JSON_NONE);
			CHECK_INT(t[v].type, types[n]);
			n++;
		}
		CHECK_INT(n, 3);
		CHECK_INT(t[arr].size, 3);
	}
	/* empty containers and scalars iterate nothing */
	CHECK_INT(json_find_key(doc, t, 0, "b", &v), JSON_OK);
	it = json_iter(t, v);
	CHECK(!json_iter_next(&it, t, &k, &v));
	CHECK_INT(json_find_key(doc, t, 0, "c", &v), JSON_OK);
	it = json_iter(t, v);
	CHECK(!json_iter_next(&it, t, &k, &v));
	CHECK_INT(json_find_key(doc, t, 0, "d", &v), JSON_OK);
	it = json_iter(t, v);
	CHECK(!json_iter_next(&it, t, &k, &v));
}

/* A user-config.json as the VeeaHub app manager writes it: all strings. */
static void json_user_config(void)
{
	static const char doc[] =
		"{\n"
		"  \"mqtt_cloud_broker_hostname\": \"mqtt.example.com\",\n"
		"  \"mqtt_cloud_broker_port\": \"8883\",\n"
		"  \"mqtt_cloud_broker_username\": \"mesh\",\n"
		"  \"mqtt_cloud_broker_password\": \"p\\\"w\\\\d\",\n"
		"  \"mqtt_cloud_broker_ca_cert_b64\": \"LS0tLS1CRUdJTg==\",\n"
		"  \"mqtt_mesh_broker_port\": 1883,\n"
		"  \"telemetry_interfaces\": [\"eth0\", \"wlan0\"],\n"
		"  \"allowed_commands\": {\"df\": [\"/bin/df\", \"-h\"]}\n"
		"}\n";
	json_parser_t p;
	json_tok_t t[64];
	uint32_t v, k;
	int64_t port;
	char buf[32];

	CHECK_INT(json_parse(&p, doc, sizeof doc - 1, NULL, 0), JSON_OK);
	CHECK(p.ntok <= 64);
	CHECK_INT(parse(doc, &p, t), JSON_OK);
	CHECK_INT(json_find_dup(doc, t, 0, &k), JSON_OK);
	CHECK_INT(json_find_key(doc, t, 0, "mqtt_cloud_broker_port", &v), JSON_OK);
	CHECK_INT(json_get_int(doc, &t[v], 1, 65535, &port), JSON_OK);
	CHECK_INT(port, 8883);
	CHECK_INT(json_find_key(doc, t, 0, "mqtt_mesh_broker_port", &v), JSON_OK);
	CHECK_INT(json_get_int(doc, &t[v], 1, 65535, &port), JSON_OK);
	CHECK_INT(port, 1883);
	CHECK_INT(json_find_key(doc, t, 0, "mqtt_cloud_broker_password", &v), JSON_OK);
	CHECK_INT(json_unescape(doc, &t[v], buf, sizeof buf, NULL), JSON_OK);
	CHECK_STR(buf, "p\"w\\d");
	CHECK_INT(json_find_key(doc, t, 0, "allowed_commands", &v), JSON_OK);
	CHECK_INT(json_find_key(doc, t, v, "df", &v), JSON_OK);
	CHECK_INT(t[v].size, 2);
	CHECK(json_streq(doc, &t[v + 2], "-h"));
	CHECK_INT(json_find_key(doc, t, 0, "log_level", &v), JSON_ERR_NOT_FOUND);
}

static void json_strings_and_names(void)
{
	char seen[64][64];
	size_t n = 0;

	for (int st = JSON_OK; st <= JSON_ERR_RANGE; st++) {
		const char *m = json_strerror((json_status_t)st);
		CHECK(m != NULL && m[0] != '\0');
		for (size_t i = 0; i < n; i++)
			CHECK(strcmp(seen[i], m) != 0);
		snprintf(seen[n++], sizeof seen[0], "%s", m);
	}
	CHECK_STR(json_strerror((json_status_t)999), "unknown JSON status");
	CHECK_STR(json_type_name(JSON_OBJECT), "object");
	CHECK_STR(json_type_name(JSON_STRING), "string");
	CHECK_STR(json_type_name(JSON_NULL), "null");
	CHECK_STR(json_type_name(0), "?");
}

/* Every byte value as a whole document: only digits parse. */
static void json_single_bytes(void)
{
	json_parser_t p;
	json_tok_t t[2];

	for (int c = 0; c < 256; c++) {
		char b = (char)c;
		json_status_t st = parse_n(&b, 1, &p, t, 2);
		if (c >= '0' && c <= '9')
			CHECK_INT(st, JSON_OK);
		else
			CHECK(st != JSON_OK);
	}
}

UNIT_SUITE(json,
	UNIT_CASE(json_valid_docs),
	UNIT_CASE(json_bad_docs),
	UNIT_CASE(json_null_input),
	UNIT_CASE(json_size_limits),
	UNIT_CASE(json_control_chars),
	UNIT_CASE(json_layout),
	UNIT_CASE(json_depth),
	UNIT_CASE(json_notokens),
	UNIT_CASE(json_error_position),
	UNIT_CASE(json_unescape_all),
	UNIT_CASE(json_unescape_plain),
	UNIT_CASE(json_nul_escape),
	UNIT_CASE(json_find),
	UNIT_CASE(json_duplicates),
	UNIT_CASE(json_integers),
	UNIT_CASE(json_iterate),
	UNIT_CASE(json_user_config),
	UNIT_CASE(json_strings_and_names),
	UNIT_CASE(json_single_bytes))
