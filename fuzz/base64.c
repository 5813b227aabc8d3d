/*
 * Fuzz the base64 codec.
 *
 * Decode arbitrary bytes; when that succeeds, the strict decoder promises
 * one canonical encoding, so re-encoding must give back the input minus its
 * CR/LF line breaks, and decoding that must give the same bytes.  Decoding
 * in place and into an exactly sized buffer must agree with the plain
 * decode.  Independently, the input bytes themselves must survive an
 * encode/decode round trip.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/base64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c) do { if (!(c)) { \
	fprintf(stderr, "%s:%d: ASSERT(%s) failed\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in;
	char *copy = malloc(size + 1), *canon = malloc(size + 1);
	size_t max = b64_decoded_maxlen(size), n = 0, n2 = 0, off = 0, off2 = 0;
	size_t elen, clen = 0, m;
	uint8_t *out = malloc(max + 1), *out2 = malloc(max + 1);
	char *enc;
	b64_status_t st, st2;

	ASSERT(copy && canon && out && out2);
	memcpy(copy, data, size);
	in = copy;

	st = b64_decode(in, size, out, max, &n, &off);
	ASSERT(b64_strerror(st) != NULL);
	ASSERT(st != B64_ERR_NOSPACE); /* maxlen always suffices */

	/* in place: same result */
	{
		char *ip = malloc(size + 1);
		ASSERT(ip != NULL);
		memcpy(ip, data, size);
		st2 = b64_decode(ip, size, (uint8_t *)ip, size, &n2, &off2);
		ASSERT(st2 == st);
		if (st == B64_OK)
			ASSERT(n2 == n && memcmp(ip, out, n) == 0);
		else
			ASSERT(off2 == off);
		free(ip);
	}

	if (st != B64_OK) {
		ASSERT(off <= size);
		goto roundtrip;
	}
	ASSERT(n <= max);

	/* exact buffer fits; one byte less does not */
	ASSERT(b64_decode(in, size, out2, n, &n2, NULL) == B64_OK && n2 == n);
	ASSERT(memcmp(out2, out, n) == 0);
	if (n > 0)
		ASSERT(b64_decode(in, size, out2, n - 1, &n2, NULL) == B64_ERR_NOSPACE);

	/* canonical form: the input without line breaks */
	for (size_t i = 0; i < size; i++) {
		if (data[i] != '\r' && data[i] != '\n')
			canon[clen++] = (char)data[i];
	}
	elen = b64_encoded_len(n);
	ASSERT(elen == clen);
	enc = malloc(elen + 1);
	ASSERT(enc != NULL);
	ASSERT(b64_encode(out, n, enc, elen + 1, &m) == B64_OK && m == elen);
	ASSERT(enc[elen] == '\0' && memcmp(enc, canon, clen) == 0);
	ASSERT(b64_decode(enc, elen, out2, max, &n2, NULL) == B64_OK);
	ASSERT(n2 == n && memcmp(out2, out, n) == 0);
	free(enc);

roundtrip:
	/* any bytes encode, and decode back */
	elen = b64_encoded_len(size);
	enc = malloc(elen + 1);
	ASSERT(enc != NULL);
	ASSERT(b64_encode(data, size, enc, elen, &m) == B64_ERR_NOSPACE);
	ASSERT(b64_encode(data, size, enc, elen + 1, &m) == B64_OK && m == elen);
	ASSERT(strlen(enc) == elen);
	{
		uint8_t *back = malloc(size + 1);
		ASSERT(back != NULL);
		ASSERT(b64_decode(enc, elen, back, size, &n2, &off2) == B64_OK);
		ASSERT(n2 == size && memcmp(back, data, size) == 0);
		free(back);
	}
	free(enc);
	free(copy);
	free(canon);
	free(out);
	free(out2);
	return 0;
}
