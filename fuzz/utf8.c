/* Fuzz the UTF-8 decoder: utf8_valid must agree with a walk of
 * utf8_decode, and every decoded code point must re-encode to its bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t i = 0;
	int ok = 1;
	while (i < size) {
		uint32_t cp;
		uint8_t enc[4];
		size_t k = utf8_decode(data + i, size - i, &cp);
		if (k == 0) {
			ok = 0;
			break;
		}
		if (utf8_encode(cp, enc) != k || memcmp(enc, data + i, k) != 0)
			abort();
		i += k;
	}
	if (utf8_valid(data, size) != ok)
		abort();
	return 0;
}
