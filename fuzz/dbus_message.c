/*
 * Fuzz the D-Bus message side: framing, parsing, the iterator and the
 * busctl printer on arbitrary bytes, with these properties checked:
 *   - a parsed message re-marshals (writer, little endian) to one that
 *     parses and prints exactly the same text (so both byte orders agree);
 *   - the printer never overruns and reports truncation consistently;
 *   - dbus_fmt_double agrees with printf("%g");
 * and the same bytes, split at NULs into "signature, args...", go through
 * the busctl text-argument parser; what it accepts must parse back, and a
 * double it accepts must equal strtod's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/dbus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[1 << 16];
static char text[1 << 16], text2[1 << 16];

/* walk every value; copy it into w */
static void copy(dbus_iter_t *it, dbus_writer_t *w, int depth)
{
	char c;
	if (depth > 70)
		abort();   /* validation bounds the nesting at 64 */
	while ((c = dbus_iter_type(it)) != 0) {
		dbus_iter_t sub;
		dbus_value_t v;
		const char *sig;
		size_t n = dbus_iter_sig(it, &sig);
		if (n == 0 || sig[0] != c)
			abort();
		if (c == 'a' || c == '(' || c == '{' || c == 'v') {
			uint32_t mark = 0;
			if (dbus_iter_get(it, &v) != DBUS_E_TYPE)
				abort();
			if (dbus_iter_enter(it, &sub) != DBUS_OK)
				abort();
			if (c == 'a')
				mark = dbus_open_array(w, sig[1]);
			else if (c == 'v')
				dbus_open_variant(w, sub.sig);   /* NUL-terminated in msg */
			else
				dbus_open_struct(w);
			copy(&sub, w, depth + 1);
			if (c == 'a')
				dbus_close_array(w, mark);
			continue;
		}
		if (dbus_iter_enter(it, &sub) != DBUS_E_TYPE)
			abort();
		if (dbus_iter_get(it, &v) != DBUS_OK || v.type != c)
			abort();
		switch (c) {
		case 'y': dbus_put_u8(w, (uint8_t)v.u); break;
		case 'n': case 'q': dbus_put_u16(w, (uint16_t)v.u); break;
		case 'b': case 'i': case 'u': case 'h': dbus_put_u32(w, (uint32_t)v.u); break;
		case 'x': case 't': case 'd': dbus_put_u64(w, v.u); break;
		default:
			if (strlen(v.s) != v.len)
				abort();
			dbus_put_string(w, c, v.s);
		}
	}
}

static void check_message(const uint8_t *msg, size_t len)
{
	dbus_msg_t m, m2;
	dbus_writer_t w;
	dbus_iter_t it;
	size_t n, n2, olen;
	dbus_status_t st;

	if (dbus_msg_parse(&m, msg, len) != DBUS_OK)
		return;
	if (m.len > len || m.body_off + m.body_len != m.len)
		abort();
	(void)dbus_msg_is_reply(&m, m.reply_serial);
	if (strlen(dbus_msg_error_text(&m)) > m.len)
		abort();
	st = dbus_print_body(&m, text, sizeof text, &n);
	if (st != DBUS_OK && st != DBUS_E_SPACE)
		abort();
	if (strlen(text) != n)
		abort();
	/* a small buffer gives a prefix of the same text */
	if (dbus_print_body(&m, text2, 17, &n2) == DBUS_OK ? n2 != n : n2 != (n < 16 ? n : 16))
		abort();
	if (memcmp(text, text2, n2) != 0)
		abort();
	if (st != DBUS_OK || m.type > DBUS_SIGNAL)
		return;
	/* re-marshal little endian and compare the text */
	dbus_w_init(&w, out, sizeof out);
	if (dbus_w_begin(&w, &m) != DBUS_OK)
		abort();   /* a valid header is a valid header to build */
	dbus_iter_init(&it, &m);
	copy(&it, &w, 0);
	if (dbus_w_end(&w, &olen) != DBUS_OK) {
		if (dbus_w_status(&w) == DBUS_E_SPACE)
			return;
		abort();
	}
	if (dbus_msg_parse(&m2, out, olen) != DBUS_OK)
		abort();
	if (dbus_print_body(&m2, text2, sizeof text2, &n2) != DBUS_OK)
		abort();
	if (n != n2 || memcmp(text, text2, n) != 0)
		abort();
	/* a valid body has one encoding: little endian ones come back as is */
	if (m.body_len != m2.body_len || (m.endian == 'l' &&
	    memcmp(msg + m.body_off, out + m2.body_off, m.body_len) != 0))
		abort();
}

static void check_double(const uint8_t *data)
{
	uint64_t bits = 0;
	char a[16], b[64];
	double d;
	for (int i = 0; i < 8; i++)
		bits = bits << 8 | data[i];
	memcpy(&d, &bits, sizeof d);
	if (d != d)
		return;
	a[dbus_fmt_double(bits, a)] = 0;
	snprintf(b, sizeof b, "%g", d);
	if (strcmp(a, b) != 0)
		abort();
}

/* bytes as "sig\0arg\0arg..." through the text-argument parser */
static void check_args(const uint8_t *data, size_t size)
{
	static char buf[4096];
	char *argv[256], *p;
	int argc = 0, argi;
	dbus_msg_t h, m;
	size_t len;
	dbus_status_t st;

	if (size >= sizeof buf)
		return;
	memcpy(buf, data, size);
	buf[size] = 0;
	p = buf + strlen(buf) + 1;
	while (p <= buf + size && argc < 256) {
		argv[argc++] = p;
		p += strlen(p) + 1;
	}
	memset(&h, 0, sizeof h);
	h.type = DBUS_METHOD_CALL;
	h.serial = 1;
	h.path = "/";
	h.member = "M";
	h.signature = buf;
	st = dbus_msg_call_text(out, sizeof out, &h, argc, argv, &len, &argi);
	if (argi < 0 || argi > argc)
		abort();
	if (st != DBUS_OK)
		return;
	if (dbus_msg_parse(&m, out, len) != DBUS_OK)
		abort();
	if (dbus_print_body(&m, text, sizeof text, NULL) == DBUS_E_SIG)
		abort();
	if (strcmp(buf, "d") == 0 && argc == 1) {
		dbus_iter_t it;
		dbus_value_t v;
		double want = strtod(argv[0], NULL);
		dbus_iter_init(&it, &m);
		dbus_iter_get(&it, &v);
		if (want == want && v.u != dbus_double_bits(want))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t need = 0, off = 0;

	/* the stream as a sequence of frames */
	while (off < size) {
		dbus_status_t st = dbus_frame(data + off, size - off, size - off, &need);
		if (st != DBUS_OK)
			break;
		if (need < 16 || need > size - off)
			abort();
		check_message(data + off, need);
		off += need;
	}
	/* and as one message, whatever its framing says */
	check_message(data, size);
	if (size >= 8)
		check_double(data);
	check_args(data, size);
	return 0;
}
