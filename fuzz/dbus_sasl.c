/*
 * Fuzz the SASL EXTERNAL client with arbitrary server bytes.  The first
 * input byte picks how the bytes arrive (one chunk, or growing prefixes as
 * a real reader appends); every way must reach the same verdict, consume
 * only the OK line, and never write past the output buffer.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/dbus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static dbus_status_t run(const uint8_t *in, size_t n, size_t step,
	size_t *used, uint8_t out[DBUS_SASL_BEGIN_MAX], size_t *outlen)
{
	dbus_sasl_t s;
	uint8_t start[DBUS_SASL_START_MAX];
	dbus_status_t st = DBUS_NEED_MORE;
	size_t have = 0;

	if (dbus_sasl_start(&s, 1000, start, sizeof start) != 25)
		abort();
	while (st == DBUS_NEED_MORE && have < n) {
		have = n - have < step ? n : have + step;
		st = dbus_sasl_input(&s, in, have, used, out, DBUS_SASL_BEGIN_MAX, outlen);
		if (st == DBUS_NEED_MORE && *used != 0)
			abort();
	}
	if (st == DBUS_OK) {
		if (*used < 37 || *used > have || *outlen != 7 ||
		    memcmp(out, "BEGIN\r\n", 7) != 0 || strlen(s.guid) != 32 ||
		    memcmp(in, "OK ", 3) != 0 || in[*used - 1] != '\n')
			abort();
		/* finished: no more input accepted */
		if (dbus_sasl_input(&s, in, n, used, out, DBUS_SASL_BEGIN_MAX, outlen) != DBUS_E_STATE)
			abort();
	}
	return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out1[DBUS_SASL_BEGIN_MAX], out2[DBUS_SASL_BEGIN_MAX];
	size_t used1 = 0, used2 = 0, len1 = 0, len2 = 0, step;
	dbus_status_t a, b;

	if (size == 0)
		return 0;
	step = 1 + data[0] % 64;
	data++;
	size--;
	a = run(data, size, size ? size : 1, &used1, out1, &len1);
	b = run(data, size, step, &used2, out2, &len2);
	/* the verdict must not depend on how the bytes were split */
	if (a != b || (a == DBUS_OK && used1 != used2))
		abort();
	return 0;
}
