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
	static const char auth[] = "AUTH EXTERNAL ";
	char dec[10];
	size_t n = 0, i = sizeof dec;

	memset(s, 0, sizeof *s);
	if (cap < DBUS_SASL_START_MAX)
		return 0;
	do {
		/* uid / 10 without a division (armv7 has no divide instruction) */
		uint32_t q = (uint32_t)(((uint64_t)uid * 0xcccccccdu) >> 35);
		dec[--i] = (char)('0' + uid - 10 * q);
		uid = q;
	} while (uid != 0);
	out[n++] = 0;
	memcpy(out + n, auth, sizeof auth - 1);
	n += sizeof auth - 1;
	/* a decimal digit d is the byte 0x3d: its hex is "3" then d */
	for (; i < sizeof dec; i++) {
		out[n++] = '3';
		out[n++] = (uint8_t)dec[i];
	}
	out[n++] = '\r';
	out[n++] = '\n';
	s->state = S_WAIT_OK;
	return n;
}

static int is_hex(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* line starts with the command word w (followed by a space or its end) */
static int is_cmd(const uint8_t *line, size_t n, const char *w)
{
	size_t k = strlen(w);
	return n >= k && strncmp((const char *)line, w, k) == 0 && (n == k || line[k] == ' ');
}

/* see dbus.h */
dbus_status_t dbus_sasl_input(dbus_sasl_t *s, const uint8_t *in, size_t n,
	size_t *used, uint8_t *out, size_t cap, size_t *outlen)
{
	const uint8_t *nl;
	size_t len, i;

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
	if (len == 0 || in[len - 1] != '\r')
		return DBUS_E_SASL_PROTO;
	len--;
	if (is_cmd(in, len, "OK")) {
		if (len != 3 + 32)
			return DBUS_E_SASL_PROTO;
		for (i = 0; i < 32; i++)
			if (!is_hex(in[3 + i]))
				return DBUS_E_SASL_PROTO;
		if (cap < DBUS_SASL_BEGIN_MAX) {
			s->state = S_WAIT_OK;   /* retry with room */
			return DBUS_E_SPACE;
		}
		memcpy(s->guid, in + 3, 32);
		s->guid[32] = 0;
		memcpy(out, "BEGIN\r\n", 7);
		*outlen = 7;
		*used = len + 2;
		s->state = S_DONE;
		return DBUS_OK;
	}
	if (is_cmd(in, len, "REJECTED"))
		return DBUS_E_SASL_REJECTED;
	if (is_cmd(in, len, "ERROR"))
		return DBUS_E_SASL_ERROR;
	return DBUS_E_SASL_PROTO;
}
