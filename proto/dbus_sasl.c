/*
 * dbus_sasl.c -- the client side of D-Bus SASL, EXTERNAL mechanism only,
 * with the uid sent as the initial response.  See dbus.h.
 *
 *   client: "\0AUTH EXTERNAL <hex(decimal uid)>\r\n"
 *   server: "OK <32 hex guid>\r\n"   -> client "BEGIN\r\n", messages follow
 *           "REJECTED <mechs>\r\n" / "ERROR ...\r\n" -> failure
 * NEGOTIATE_UNIX_FD is not used (we pass no descriptors).
 */
#include "proto/dbus.h"

#include <string.h>

enum { S_IDLE, S_WAIT_OK, S_DONE, S_FAILED };

/* see dbus.h */
size_t dbus_sasl_start(dbus_sasl_t *s, uint32_t uid, uint8_t *out, size_t cap)
{
	size_t n = 15 + 2;   /* the fixed text, and the uid's first digit */

	memset(s, 0, sizeof *s);
	if (cap < DBUS_SASL_START_MAX)
		return 0;
	for (uint32_t t = uid; t >= 10; t /= 10)
		n += 2;
	memcpy(out, "\0AUTH EXTERNAL ", 15);
	memcpy(out + n, "\r\n", 2);
	/* a decimal digit d is the byte 0x3d: its hex is "3" then d */
	for (size_t i = n; i > 15; uid /= 10) {
		out[--i] = (uint8_t)('0' + uid % 10);
		out[--i] = '3';
	}
	s->state = S_WAIT_OK;
	return n + 2;
}

/* see dbus.h */
dbus_status_t dbus_sasl_input(dbus_sasl_t *s, const uint8_t *in, size_t n,
	size_t *used, uint8_t *out, size_t cap, size_t *outlen)
{
	const uint8_t *nl;
	size_t len, i, w;

	*used = 0;
	*outlen = 0;
	if (s->state != S_WAIT_OK)
		return DBUS_E_STATE;
	nl = memchr(in, '\n', n < DBUS_SASL_LINE_MAX ? n : DBUS_SASL_LINE_MAX);
	if (nl == NULL) {
		if (n < DBUS_SASL_LINE_MAX)
			return DBUS_NEED_MORE;
		s->state = S_FAILED;
		return DBUS_E_SASL_LINE;
	}
	len = (size_t)(nl - in);     /* the line without its "\n" */
	s->state = S_FAILED;
	if (len == 0 || in[--len] != '\r')
		return DBUS_E_SASL_PROTO;
	/* the command: the first word */
	for (w = 0; w < len && in[w] != ' '; w++)
		;
	if (w == 8 && memcmp(in, "REJECTED", 8) == 0)
		return DBUS_E_SASL_REJECTED;
	if (w == 5 && memcmp(in, "ERROR", 5) == 0)
		return DBUS_E_SASL_ERROR;
	/* "OK " and a GUID of 32 hex digits */
	if (w != 2 || len != 3 + 32 || memcmp(in, "OK", 2) != 0)
		return DBUS_E_SASL_PROTO;
	for (i = 3; i < len; i++) {
		uint8_t c = in[i], l = c | 0x20;
		if (!((c >= '0' && c <= '9') || (l >= 'a' && l <= 'f')))
			return DBUS_E_SASL_PROTO;
	}
	if (cap < DBUS_SASL_BEGIN_MAX) {
		s->state = S_WAIT_OK;   /* retry with room */
		return DBUS_E_SPACE;
	}
	memcpy(s->guid, in + 3, 32);
	memcpy(out, "BEGIN\r\n", 7);
	*outlen = 7;
	*used = len + 2;
	s->state = S_DONE;
	return DBUS_OK;
}
