/* base64.c -- see base64.h */
#include "proto/base64.h"

static const char b64_alphabet[64] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Decoding table: 0..63 alphabet, D_PAD '=', D_BREAK CR/LF, D_BAD else. */
#define D_PAD   0x40
#define D_BREAK 0x80
#define D_BAD   0xff

static const uint8_t b64_dec[256] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x80, 0xff, 0xff, 0x80, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3e, 0xff, 0xff, 0xff, 0x3f,
	0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0xff, 0xff, 0xff, 0x40, 0xff, 0xff,
	0xff, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
	0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28,
	0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

/* see base64.h */
const char *b64_strerror(b64_status_t st)
{
	switch (st) {
	case B64_OK: return "success";
	case B64_ERR_CHAR: return "invalid base64 character";
	case B64_ERR_BREAK: return "line break inside a base64 group";
	case B64_ERR_PAD: return "missing or misplaced base64 padding";
	case B64_ERR_BITS: return "non-zero bits before base64 padding";
	case B64_ERR_NOSPACE: return "output buffer too small";
	}
	return "unknown base64 status";
}

/* see base64.h */
size_t b64_encoded_len(size_t n)
{
	size_t groups = n / 3 + (n % 3 != 0);

	if (groups > SIZE_MAX / 4)
		return SIZE_MAX;
	return groups * 4;
}

/* see base64.h */
size_t b64_decoded_maxlen(size_t n)
{
	return n / 4 * 3;
}

/* see base64.h */
b64_status_t b64_encode(const uint8_t *in, size_t n, char *out, size_t outsz,
	size_t *outlen)
{
	size_t need = b64_encoded_len(n), i = 0, o = 0;
	uint32_t w;

	if (need == SIZE_MAX || outsz <= need)
		return B64_ERR_NOSPACE;
	for (; n - i >= 3; i += 3, o += 4) {
		w = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o] = b64_alphabet[w >> 18];
		out[o + 1] = b64_alphabet[(w >> 12) & 63];
		out[o + 2] = b64_alphabet[(w >> 6) & 63];
		out[o + 3] = b64_alphabet[w & 63];
	}
	if (n - i == 1) {
		w = (uint32_t)in[i] << 16;
		out[o] = b64_alphabet[w >> 18];
		out[o + 1] = b64_alphabet[(w >> 12) & 63];
		out[o + 2] = '=';
		out[o + 3] = '=';
		o += 4;
	} else if (n - i == 2) {
		w = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o] = b64_alphabet[w >> 18];
		out[o + 1] = b64_alphabet[(w >> 12) & 63];
		out[o + 2] = b64_alphabet[(w >> 6) & 63];
		out[o + 3] = '=';
		o += 4;
	}
	out[o] = '\0';
	if (outlen != NULL)
		*outlen = o;
	return B64_OK;
}

/* see base64.h */
b64_status_t b64_decode(const char *in, size_t n, uint8_t *out, size_t outsz,
	size_t *outlen, size_t *err_off)
{
	const uint8_t *s = (const uint8_t *)in;
	size_t i = 0, o = 0, bad = 0, k;
	b64_status_t st;
	uint32_t a, b, c, d;

	/* loop invariant: i is at a group boundary, o = 3 * groups decoded */
	for (;;) {
		while (i < n && b64_dec[s[i]] == D_BREAK)
			i++;
		if (i == n)
			break;
		/* fast path: four alphabet characters, no break, no padding */
		if (n - i >= 4) {
			a = b64_dec[s[i]];
			b = b64_dec[s[i + 1]];
			c = b64_dec[s[i + 2]];
			d = b64_dec[s[i + 3]];
			if (((a | b | c | d) & 0xc0) == 0) {
				if (outsz - o < 3)
					goto nospace;
				/* all four read before writing: in-place safe */
				out[o] = (uint8_t)(a << 2 | b >> 4);
				out[o + 1] = (uint8_t)(b << 4 | c >> 2);
				out[o + 2] = (uint8_t)(c << 6 | d);
				o += 3;
				i += 4;
				continue;
			}
		}
		/* slow path: the group is short, padded or holds a bad byte */
		for (k = 0; k < 4; k++) {
			if (i + k == n) {
				/* ended inside a group: a data character or
				 * padding is missing */
				bad = n;
				st = B64_ERR_PAD;
				goto fail;
			}
			d = b64_dec[s[i + k]];
			if (d == D_BAD) {
				bad = i + k;
				st = B64_ERR_CHAR;
				goto fail;
			}
			if (d == D_BREAK) {
				bad = i + k;
				st = B64_ERR_BREAK;
				goto fail;
			}
			if (d == D_PAD)
				break;
		}
		/* s[i + k] is '=' (k == 4 cannot happen: four alphabet
		 * characters took the fast path) */
		if (k < 2) {
			bad = i + k;
			st = B64_ERR_PAD;
			goto fail;
		}
		if (k == 2 && (n - i < 4 || s[i + 3] != '=')) {
			/* "xx=" needs a second '=' */
			bad = n - i < 4 ? n : i + 3;
			d = n - i < 4 ? D_PAD : b64_dec[s[i + 3]];
			st = d == D_BAD ? B64_ERR_CHAR :
				d == D_BREAK ? B64_ERR_BREAK : B64_ERR_PAD;
			goto fail;
		}
		/* "xx==" (k == 2) or "xxx=" (k == 3) */
		a = b64_dec[s[i]];
		b = b64_dec[s[i + 1]];
		c = k == 3 ? b64_dec[s[i + 2]] : 0;
		if (k == 2 ? (b & 0x0f) != 0 : (c & 0x03) != 0) {
			bad = i + k - 1;
			st = B64_ERR_BITS;
			goto fail;
		}
		if (outsz - o < k - 1)
			goto nospace;
		out[o] = (uint8_t)(a << 2 | b >> 4);
		if (k == 3)
			out[o + 1] = (uint8_t)(b << 4 | c >> 2);
		o += k - 1;
		i += 4;
		/* after the padded group only line breaks may follow */
		while (i < n && b64_dec[s[i]] == D_BREAK)
			i++;
		if (i != n) {
			bad = i;
			st = b64_dec[s[i]] == D_BAD ? B64_ERR_CHAR : B64_ERR_PAD;
			goto fail;
		}
		break;
	}
	if (outlen != NULL)
		*outlen = o;
	return B64_OK;
nospace:
	bad = i;
	st = B64_ERR_NOSPACE;
fail:
	if (outlen != NULL)
		*outlen = o;
	if (err_off != NULL)
		*err_off = bad;
	return st;
}
