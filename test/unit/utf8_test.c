#include "unit.h"
#include "proto/utf8.h"

static void utf8_ascii_and_empty(void)
{
	CHECK(utf8_valid((const uint8_t *)"", 0));
	CHECK(utf8_valid((const uint8_t *)"req/all", 7));
}

static void utf8_multibyte(void)
{
	static const uint8_t s[] = { 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80 };
	uint32_t cp = 0;
	CHECK(utf8_valid(s, sizeof s));
	CHECK_INT(utf8_decode(s + 5, 4, &cp), 4);
	CHECK_INT(cp, 0x1f600);
}

static void utf8_rejects(void)
{
	static const uint8_t overlong2[] = { 0xc0, 0xaf };
	static const uint8_t overlong3[] = { 0xe0, 0x80, 0xaf };
	static const uint8_t surrogate[] = { 0xed, 0xa0, 0x80 };
	static const uint8_t toobig[] = { 0xf4, 0x90, 0x80, 0x80 };
	static const uint8_t lone_cont[] = { 0x80 };
	static const uint8_t truncated[] = { 0xe2, 0x82 };
	static const uint8_t ff[] = { 0xff };
	CHECK(!utf8_valid(overlong2, sizeof overlong2));
	CHECK(!utf8_valid(overlong3, sizeof overlong3));
	CHECK(!utf8_valid(surrogate, sizeof surrogate));
	CHECK(!utf8_valid(toobig, sizeof toobig));
	CHECK(!utf8_valid(lone_cont, sizeof lone_cont));
	CHECK(!utf8_valid(truncated, sizeof truncated));
	CHECK(!utf8_valid(ff, sizeof ff));
}

static void utf8_roundtrip(void)
{
	static const uint32_t cps[] = { 0, 0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xffff, 0x10000, 0x10ffff };
	uint8_t buf[4];
	for (size_t i = 0; i < sizeof cps / sizeof cps[0]; i++) {
		uint32_t back = 0xffffffff;
		size_t n = utf8_encode(cps[i], buf);
		CHECK(n > 0);
		CHECK_INT(utf8_decode(buf, n, &back), n);
		CHECK_INT(back, cps[i]);
	}
	CHECK_INT(utf8_encode(0xd800, buf), 0);
	CHECK_INT(utf8_encode(0x110000, buf), 0);
}

UNIT_SUITE(utf8, UNIT_CASE(utf8_ascii_and_empty), UNIT_CASE(utf8_multibyte),
	UNIT_CASE(utf8_rejects), UNIT_CASE(utf8_roundtrip))
