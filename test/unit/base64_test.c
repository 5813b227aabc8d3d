#include "unit.h"
#include "proto/base64.h"

/* RFC 4648 section 10 */
static const struct {
	const char *raw, *enc;
} rfc_vectors[] = {
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

static void b64_rfc4648(void)
{
	char enc[16];
	uint8_t dec[16];
	size_t n, off;

	for (size_t i = 0; i < sizeof rfc_vectors / sizeof rfc_vectors[0]; i++) {
		const char *raw = rfc_vectors[i].raw, *want = rfc_vectors[i].enc;
		size_t rl = strlen(raw), el = strlen(want);
		CHECK_INT(b64_encoded_len(rl), el);
		CHECK_INT(b64_encode((const uint8_t *)raw, rl, enc, sizeof enc, &n),
			B64_OK);
		CHECK_INT(n, el);
		CHECK_STR(enc, want);
		CHECK(b64_decoded_maxlen(el) >= rl);
		CHECK_INT(b64_decode(want, el, dec, sizeof dec, &n, &off), B64_OK);
		CHECK_MEM(dec, n, raw, rl);
	}
}

static const struct {
	const char *in;
	size_t len;
	b64_status_t st;
	size_t off;
} bad_inputs[] = {
#define E(s, st, off) { s, sizeof s - 1, st, off }
	/* truncated groups: padding (or data) missing */
	E("Z", B64_ERR_PAD, 1),
	E("Zg", B64_ERR_PAD, 2),
	E("Zg=", B64_ERR_PAD, 3),
	E("Zm9", B64_ERR_PAD, 3),
	E("Zm9vZ", B64_ERR_PAD, 5),
	E("Zm9v\nZg", B64_ERR_PAD, 7),
	/* misplaced padding */
	E("=", B64_ERR_PAD, 0),
	E("====", B64_ERR_PAD, 0),
	E("Z===", B64_ERR_PAD, 1),
	E("Zg=x", B64_ERR_PAD, 3),
	E("Zg=\n=", B64_ERR_BREAK, 3),
	E("Zg= ", B64_ERR_CHAR, 3),
	E("Zm9v=", B64_ERR_PAD, 4),
	E("Zg==Zg==", B64_ERR_PAD, 4),
	E("Zg==\nZg==", B64_ERR_PAD, 5),
	E("Zm8=Zm8=", B64_ERR_PAD, 4),
	E("Zg===", B64_ERR_PAD, 4),
	E("Zg==x", B64_ERR_PAD, 4),
	E("Zg==!", B64_ERR_CHAR, 4),
	/* non-zero bits before the padding */
	E("Zh==", B64_ERR_BITS, 1),
	E("Zv==", B64_ERR_BITS, 1),
	E("Zm9=", B64_ERR_BITS, 2),
	E("Zm+=", B64_ERR_BITS, 2),
	E("Zm9vYh==", B64_ERR_BITS, 5),
	/* characters outside the alphabet */
	E("Zm-v", B64_ERR_CHAR, 2),   /* base64url is not accepted */
	E("Zm_v", B64_ERR_CHAR, 2),
	E("Zm9v Ym", B64_ERR_CHAR, 4),
	E(" Zm9v", B64_ERR_CHAR, 0),
	E("Zm9v\t", B64_ERR_CHAR, 4),
	E("Zm9v\v", B64_ERR_CHAR, 4),
	E("Zm\0v", B64_ERR_CHAR, 2),
	E("Zm9v\xff", B64_ERR_CHAR, 4),
	E("Zm9v\xc3\xa9", B64_ERR_CHAR, 4),
	E("Zm.v", B64_ERR_CHAR, 2),
	/* line breaks inside a group */
	E("Zm9\nv", B64_ERR_BREAK, 3),
	E("Z\r\nm9v", B64_ERR_BREAK, 1),
	E("Zm9vYmFy\nZ\ng==", B64_ERR_BREAK, 10),
#undef E
};

static void b64_rejects(void)
{
	uint8_t out[64];

	for (size_t i = 0; i < sizeof bad_inputs / sizeof bad_inputs[0]; i++) {
		size_t off = 12345, n;
		b64_status_t st = b64_decode(bad_inputs[i].in, bad_inputs[i].len,
			out, sizeof out, &n, &off);
		if (st != bad_inputs[i].st || off != bad_inputs[i].off)
			unit_fail(__FILE__, __LINE__,
				"bad_inputs[%zu]: got %d (%s) at %zu, want %d at %zu",
				i, st, b64_strerror(st), off, bad_inputs[i].st,
				bad_inputs[i].off);
	}
}

static const struct {
	const char *in, *want;
} line_inputs[] = {
	{ "", "" },
	{ "\n", "" },
	{ "\r\n\r\n", "" },
	{ "Zg==\n", "f" },
	{ "Zg==\r\n", "f" },
	{ "\nZm9v", "foo" },
	{ "Zm9v\r\nYmFy\r\n", "foobar" },
	{ "Zm9v\nYmFy", "foobar" },
	{ "Zm9v\n\nYmFy\n\n", "foobar" },
	{ "Zm9v\rYmE=", "fooba" },
	{ "Zm9vYmFy\nZm8=\n", "foobarfo" },
};

static void b64_line_breaks(void)
{
	uint8_t out[64];

	for (size_t i = 0; i < sizeof line_inputs / sizeof line_inputs[0]; i++) {
		size_t n = 99, off;
		CHECK_INT(b64_decode(line_inputs[i].in, strlen(line_inputs[i].in),
			out, sizeof out, &n, &off), B64_OK);
		CHECK_MEM(out, n, line_inputs[i].want, strlen(line_inputs[i].want));
	}
}

/* All byte values, every length 0..300, one-line and wrapped at 64 / 76. */
static void b64_roundtrip_wrapped(void)
{
	static uint8_t raw[300], dec[300];
	static char enc[512], wrapped[600];
	size_t n, m, off;

	for (size_t i = 0; i < sizeof raw; i++)
		raw[i] = (uint8_t)(i * 7 + 3);
	for (size_t len = 0; len <= sizeof raw; len++) {
		CHECK_INT(b64_encode(raw, len, enc, sizeof enc, &n), B64_OK);
		CHECK_INT(n, b64_encoded_len(len));
		CHECK_INT(strlen(enc), n);
		CHECK_INT(b64_decode(enc, n, dec, sizeof dec, &m, &off), B64_OK);
		CHECK_MEM(dec, m, raw, len);
		CHECK(b64_decoded_maxlen(n) >= len);
		for (size_t w = 64; w <= 76; w += 12) {
			size_t o = 0;
			for (size_t j = 0; j < n; j++) {
				if (j > 0 && j % w == 0) {
					if (w == 64)
						wrapped[o++] = '\r';
					wrapped[o++] = '\n';
				}
				wrapped[o++] = enc[j];
			}
			wrapped[o++] = '\n';
			CHECK(b64_decoded_maxlen(o) >= len);
			CHECK_INT(b64_decode(wrapped, o, dec, sizeof dec, &m, &off),
				B64_OK);
			CHECK_MEM(dec, m, raw, len);
		}
	}
}

static void b64_in_place(void)
{
	char buf[] = "Zm9v\nYmFy\nYg==\n";
	size_t n, off;

	CHECK_INT(b64_decode(buf, strlen(buf), (uint8_t *)buf, sizeof buf, &n,
		&off), B64_OK);
	CHECK_MEM(buf, n, "foobarb", 7);
}

static void b64_nospace(void)
{
	uint8_t out[8];
	char enc[9];
	size_t n = 0, off = 0;

	/* decode: exact fit works, one short fails at the group that overflows */
	CHECK_INT(b64_decode("Zm9vYmFy", 8, out, 6, &n, &off), B64_OK);
	CHECK_INT(n, 6);
	CHECK_INT(b64_decode("Zm9vYmFy", 8, out, 5, &n, &off), B64_ERR_NOSPACE);
	CHECK_INT(off, 4);
	CHECK_INT(b64_decode("Zm9vYmE=", 8, out, 5, &n, &off), B64_OK);
	CHECK_INT(b64_decode("Zm9vYmE=", 8, out, 4, &n, &off), B64_ERR_NOSPACE);
	CHECK_INT(off, 4);
	CHECK_INT(b64_decode("Zg==", 4, out, 0, &n, &off), B64_ERR_NOSPACE);
	CHECK_INT(b64_decode("", 0, out, 0, &n, &off), B64_OK);
	CHECK_INT(n, 0);
	CHECK_INT(b64_decode(NULL, 0, NULL, 0, NULL, NULL), B64_OK);
	/* a bad input still reports its error without outlen/err_off */
	CHECK_INT(b64_decode("Zg=", 3, out, sizeof out, NULL, NULL), B64_ERR_PAD);

	/* encode: needs room for the NUL too, and leaves out alone otherwise */
	memset(enc, 'x', sizeof enc);
	CHECK_INT(b64_encode((const uint8_t *)"foobar", 6, enc, 8, &n),
		B64_ERR_NOSPACE);
	CHECK_INT(enc[0], 'x');
	CHECK_INT(b64_encode((const uint8_t *)"foobar", 6, enc, 9, NULL), B64_OK);
	CHECK_STR(enc, "Zm9vYmFy");
	CHECK_INT(b64_encode(NULL, 0, enc, 1, &n), B64_OK);
	CHECK_INT(n, 0);
	CHECK_STR(enc, "");
	CHECK_INT(b64_encode(NULL, 0, enc, 0, &n), B64_ERR_NOSPACE);
}

static void b64_sizes(void)
{
	CHECK_INT(b64_encoded_len(0), 0);
	CHECK_INT(b64_encoded_len(1), 4);
	CHECK_INT(b64_encoded_len(3), 4);
	CHECK_INT(b64_encoded_len(4), 8);
	CHECK_INT(b64_encoded_len(64), 88); /* PBKDF2-SHA512 output in $7$ */
	CHECK_INT(b64_encoded_len(12), 16); /* its salt */
	CHECK_INT(b64_encoded_len(SIZE_MAX), SIZE_MAX);
	CHECK_INT(b64_encoded_len(SIZE_MAX / 4 * 3), SIZE_MAX / 4 * 4);
	CHECK_INT(b64_encoded_len(SIZE_MAX / 4 * 3 + 1), SIZE_MAX);
	CHECK_INT(b64_decoded_maxlen(0), 0);
	CHECK_INT(b64_decoded_maxlen(3), 0);
	CHECK_INT(b64_decoded_maxlen(4), 3);
	CHECK_INT(b64_decoded_maxlen(10), 6);
	CHECK_INT(b64_decoded_maxlen(SIZE_MAX), SIZE_MAX / 4 * 3);
}

/* The one decoding that a 64-byte PBKDF2 hash plus 12-byte salt needs. */
static void b64_mosquitto_style(void)
{
	uint8_t salt[12];
	char enc[17];
	size_t n;

	for (int i = 0; i < 12; i++)
		salt[i] = (uint8_t)(0xf0 + i);
	CHECK_INT(b64_encode(salt, sizeof salt, enc, sizeof enc, &n), B64_OK);
	CHECK_STR(enc, "8PHy8/T19vf4+fr7");
}

static void b64_strerror_all(void)
{
	for (int st = B64_OK; st <= B64_ERR_NOSPACE; st++) {
		const char *m = b64_strerror((b64_status_t)st);
		CHECK(m != NULL && m[0] != '\0');
		CHECK(strcmp(m, "unknown base64 status") != 0);
	}
	CHECK_STR(b64_strerror((b64_status_t)99), "unknown base64 status");
}

/* Every single byte as a whole input, and as a 4th character. */
static void b64_every_byte(void)
{
	static const char alpha[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint8_t out[8];
	char in[4] = { 'Q', 'U', 'J', 0 };
	size_t n, off;

	for (int c = 0; c < 256; c++) {
		char b = (char)c;
		b64_status_t st = b64_decode(&b, 1, out, sizeof out, &n, &off);
		if (c == '\n' || c == '\r')
			CHECK_INT(st, B64_OK);
		else
			CHECK(st != B64_OK);
		in[3] = (char)c;
		st = b64_decode(in, 4, out, sizeof out, &n, &off);
		if (c != 0 && strchr(alpha, c) != NULL) {
			CHECK_INT(st, B64_OK);
			CHECK_INT(n, 3);
		} else if (c == '=') {
			CHECK_INT(st, B64_ERR_BITS); /* 'J' has low bits 01 */
		} else {
			CHECK(st != B64_OK);
			CHECK_INT(off, 3);
		}
	}
}

UNIT_SUITE(base64,
	UNIT_CASE(b64_rfc4648),
	UNIT_CASE(b64_rejects),
	UNIT_CASE(b64_line_breaks),
	UNIT_CASE(b64_roundtrip_wrapped),
	UNIT_CASE(b64_in_place),
	UNIT_CASE(b64_nospace),
	UNIT_CASE(b64_sizes),
	UNIT_CASE(b64_mosquitto_style),
	UNIT_CASE(b64_strerror_all),
	UNIT_CASE(b64_every_byte))
