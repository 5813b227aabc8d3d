/*
 * dbus.c -- D-Bus wire format: validation, framing, parsing, iterator,
 * writer, busctl-style text arguments and printing.  See dbus.h.
 *
 * Invariants: every offset is a uint32_t below DBUS_MAX_MSG (128 MiB), so
 * `a + b` of two offsets or of an offset and a checked length cannot wrap.
 * All alignment is relative to the message start (offset 0 of msg/buf).
 * A signature is checked (dbus_check_sig) before anything walks it, so the
 * walkers below may rely on balanced brackets and a terminating NUL.
 */
#include "proto/dbus.h"
#include "proto/utf8.h"

#include <string.h>

/* ---- small helpers -------------------------------------------------- */

static const char type_codes[] = "ybnqiuxtdsoghav({";
static const uint8_t type_align[] = { 1, 4, 2, 2, 4, 4, 8, 8, 8, 4, 4, 1, 4, 4, 1, 8, 8 };

/* alignment of a type code, 0 if it is not one that can start a type */
static unsigned talign(char c)
{
	const char *p = c ? memchr(type_codes, c, sizeof type_codes - 1) : NULL;
	return p ? type_align[p - type_codes] : 0;
}

static int is_basic(char c)
{
	return c && memchr(type_codes, c, 13) != NULL;
}

/* x / 10 without a division (armv7 has no divide instruction) */
static uint32_t div10(uint32_t x)
{
	return (uint32_t)(((uint64_t)x * 0xcccccccdu) >> 35);
}

static uint32_t align_up(uint32_t p, unsigned a)
{
	return (p + a - 1) & ~(uint32_t)(a - 1);
}

static uint64_t rd(const uint8_t *p, unsigned n, int be)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[be ? n - 1 - i : i] << (8 * i);
	return v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* past one complete type of a checked signature */
static const char *sig_skip(const char *s)
{
	int d = 0;
	char c;
	do {
		c = *s++;
		if (c == '(' || c == '{')
			d++;
		else if (c == ')' || c == '}')
			d--;
	} while (c == 'a' || d > 0);
	return s;
}

/* ---- validity of names, paths, signatures --------------------------- */

static int is_alpha_(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

dbus_status_t dbus_check_path(const char *p, size_t n)
{
	/* "/" or "/elem(/elem)*", elem = [A-Za-z0-9_]+ */
	if (n == 0 || p[0] != '/' || (n > 1 && p[n - 1] == '/'))
		return DBUS_E_PATH;
	for (size_t i = 1; i < n; i++)
		if (p[i] == '/' ? p[i - 1] == '/' : !(is_alpha_(p[i]) || is_digit(p[i])))
			return DBUS_E_PATH;
	return DBUS_OK;
}

/* see dbus.h: kind 'b' bus name, 'i' interface or error name, 'm' member */
dbus_status_t dbus_check_name(char kind, const char *s, size_t n)
{
	int uniq = kind == 'b' && n > 0 && s[0] == ':';
	int start = 1;
	unsigned elems = 1;

	if (n == 0 || n > DBUS_MAX_NAME)
		return DBUS_E_NAME;
	for (size_t i = (size_t)uniq; i < n; i++) {
		char c = s[i];
		if (c == '.' && kind != 'm') {
			if (start)
				return DBUS_E_NAME;
			elems++;
			start = 1;
			continue;
		}
		if (!(is_alpha_(c) || (kind == 'b' && c == '-') ||
		    (is_digit(c) && (!start || uniq))))
			return DBUS_E_NAME;
		start = 0;
	}
	return start || (kind != 'm' && elems < 2) ? DBUS_E_NAME : DBUS_OK;
}

/*
 * One complete type at s (before e).  arr/str count the array codes and
 * struct parentheses open around it (each limited to 32 per signature).
 * Returns the position after it, or NULL with *st set.
 */
static const char *sig_one(const char *s, const char *e, unsigned arr,
	unsigned str, dbus_status_t *st)
{
	if (s >= e)
		goto bad;
	if (is_basic(*s) || *s == 'v')
		return s + 1;
	if (*s == 'a') {
		if (++arr > DBUS_MAX_SIG_DEPTH)
			goto deep;
		if (++s < e && *s == '{') {
			/* dict entry: only here, a basic key and one value */
			if (++s >= e || !is_basic(*s))
				goto bad;
			s = sig_one(s + 1, e, arr, str, st);
			if (s == NULL)
				return NULL;
			if (s >= e || *s != '}')
				goto bad;
			return s + 1;
		}
		return sig_one(s, e, arr, str, st);
	}
	if (*s == '(') {
		if (++str > DBUS_MAX_SIG_DEPTH)
			goto deep;
		if (++s < e && *s == ')')
			goto bad;   /* empty struct */
		while (s < e && *s != ')')
			if ((s = sig_one(s, e, arr, str, st)) == NULL)
				return NULL;
		if (s >= e)
			goto bad;
		return s + 1;
	}
bad:
	*st = DBUS_E_SIG;
	return NULL;
deep:
	*st = DBUS_E_DEPTH;
	return NULL;
}

/* see dbus.h */
dbus_status_t dbus_check_sig(const char *sig, size_t len)
{
	dbus_status_t st = DBUS_OK;
	const char *e = sig + len;

	if (len > DBUS_MAX_SIG)
		return DBUS_E_SIG;
	while (sig != NULL && sig < e)
		sig = sig_one(sig, e, 0, 0, &st);
	return st;
}

/* exactly one complete type (variant contents) */
static dbus_status_t check_single(const char *sig, size_t len)
{
	dbus_status_t st = dbus_check_sig(sig, len);
	if (st == DBUS_OK && (len == 0 || sig_skip(sig) != sig + len))
		st = DBUS_E_SIG;
	return st;
}

/* A string body s[0..n) followed (in the buffer) by what must be its NUL. */
static dbus_status_t check_str(char type, const uint8_t *s, size_t n)
{
	if (s[n] != 0 || memchr(s, 0, n) != NULL)
		return DBUS_E_STRING;
	if (!utf8_valid(s, n))
		return DBUS_E_UTF8;
	if (type == 'o')
		return dbus_check_path((const char *)s, n);
	if (type == 'g')
		return dbus_check_sig((const char *)s, n);
	return DBUS_OK;
}

/* ---- validating walk ------------------------------------------------- */

struct rd {
	const uint8_t *m;
	uint8_t be;
	uint32_t nfds;
};

/* skip zero padding up to alignment a, staying within end */
static dbus_status_t pad(const uint8_t *m, uint32_t *pos, uint32_t end, unsigned a)
{
	uint32_t p = *pos, np = align_up(p, a);
	if (np > end)
		return DBUS_E_BOUNDS;
	for (; p < np; p++)
		if (m[p] != 0)
			return DBUS_E_PADDING;
	*pos = np;
	return DBUS_OK;
}

/*
 * Validate the value of the complete type at *sigp, at *pos, within end;
 * advance both past it.  depth = containers around it (incl. variants).
 */
static dbus_status_t val(const struct rd *r, uint32_t end, uint32_t *pos,
	const char **sigp, unsigned depth)
{
	const uint8_t *m = r->m;
	const char *sig = *sigp, *s;
	char c = *sig;
	unsigned a = talign(c);
	uint32_t p = *pos, n, aend;
	uint64_t v;
	dbus_status_t st;

	if ((st = pad(m, &p, end, a)) != DBUS_OK)
		return st;
	*sigp = sig + 1;
	if (c == 'a' || c == '(' || c == '{' || c == 'v') {
		if (depth + 1 > DBUS_MAX_DEPTH)
			return DBUS_E_DEPTH;
	}
	/* fixed values and length prefixes take `a` bytes (1 for g and v) */
	if (c != '(' && c != '{' && end - p < a)
		return DBUS_E_BOUNDS;
	switch (c) {
	case 'y':
		p += 1;
		break;
	case 'n': case 'q':
		p += 2;
		break;
	case 'b': case 'h': case 'i': case 'u':
		v = rd(m + p, 4, r->be);
		if (c == 'b' && v > 1)
			return DBUS_E_BOOL;
		if (c == 'h' && v >= r->nfds)
			return DBUS_E_FD;
		p += 4;
		break;
	case 'x': case 't': case 'd':
		p += 8;
		break;
	case 's': case 'o': case 'g': case 'v':
		if (c == 's' || c == 'o') {
			n = (uint32_t)rd(m + p, 4, r->be);
			p += 4;
		} else {
			n = m[p++];
		}
		if (n >= end - p)   /* needs n bytes and the NUL */
			return DBUS_E_BOUNDS;
		if ((st = check_str(c == 'v' ? 's' : c, m + p, n)) != DBUS_OK)
			return st;
		s = (const char *)m + p;
		p += n + 1;
		if (c == 'v') {
			if ((st = check_single(s, n)) != DBUS_OK)
				return st;
			if ((st = val(r, end, &p, &s, depth + 1)) != DBUS_OK)
				return st;
		}
		break;
	case 'a':
		n = (uint32_t)rd(m + p, 4, r->be);
		p += 4;
		if (n > DBUS_MAX_ARRAY)
			return DBUS_E_ARRAY;
		/* the padding before the first element exists even when empty */
		if ((st = pad(m, &p, end, talign(sig[1]))) != DBUS_OK)
			return st;
		if (n > end - p)
			return DBUS_E_ARRAY;
		aend = p + n;
		s = sig_skip(sig + 1);
		while (p < aend) {
			/* each element uses >= 1 byte: the loop ends */
			const char *es = sig + 1;
			if ((st = val(r, aend, &p, &es, depth + 1)) != DBUS_OK)
				return st;
		}
		*sigp = s;
		break;
	case '(': case '{':
		s = sig + 1;
		while (*s != ')' && *s != '}')
			if ((st = val(r, end, &p, &s, depth + 1)) != DBUS_OK)
				return st;
		*sigp = s + 1;
		break;
	default:
		return DBUS_E_SIG;
	}
	*pos = p;
	return DBUS_OK;
}

/* ---- framing and parsing -------------------------------------------- */

/* see dbus.h */
dbus_status_t dbus_frame(const uint8_t *buf, size_t have, size_t cap,
	size_t *need)
{
	uint64_t total;
	uint32_t flen;
	int be;

	*need = 16;
	if (have < 16)
		return DBUS_NEED_MORE;
	if ((buf[0] != 'l' && buf[0] != 'B') || buf[3] != 1)
		return DBUS_E_HEADER;
	be = buf[0] == 'B';
	flen = (uint32_t)rd(buf + 12, 4, be);
	if (flen > DBUS_MAX_ARRAY)
		return DBUS_E_ARRAY;
	total = ((16u + (uint64_t)flen + 7) & ~(uint64_t)7) + rd(buf + 4, 4, be);
	if (total > DBUS_MAX_MSG || total > cap)
		return DBUS_E_TOO_BIG;
	*need = (size_t)total;
	return have < total ? DBUS_NEED_MORE : DBUS_OK;
}

/* header field code -> type and where it lives in dbus_msg_t */
static const struct field {
	uint8_t code;
	char type;
	uint8_t off;
} fields[] = {
	{ 1, 'o', offsetof(dbus_msg_t, path) },
	{ 2, 's', offsetof(dbus_msg_t, interface) },
	{ 3, 's', offsetof(dbus_msg_t, member) },
	{ 4, 's', offsetof(dbus_msg_t, error_name) },
	{ 5, 'u', offsetof(dbus_msg_t, reply_serial) },
	{ 6, 's', offsetof(dbus_msg_t, destination) },
	{ 7, 's', offsetof(dbus_msg_t, sender) },
	{ 8, 'g', offsetof(dbus_msg_t, signature) },
	{ 9, 'u', offsetof(dbus_msg_t, unix_fds) },
};
/* name checks per field code 1..9 ('-': none) */
static const char field_kind[] = "-imi-bb--";

/* bitmask of the fields a message type needs (bit = 1 << code) */
static unsigned required(unsigned type)
{
	switch (type) {
	case DBUS_METHOD_CALL: return 1u << 1 | 1u << 3;
	case DBUS_METHOD_RETURN: return 1u << 5;
	case DBUS_ERROR: return 1u << 4 | 1u << 5;
	case DBUS_SIGNAL: return 1u << 1 | 1u << 2 | 1u << 3;
	}
	return 0;
}

static const char *field_str(const dbus_msg_t *m, const struct field *f)
{
	const char *s;
	memcpy(&s, (const char *)m + f->off, sizeof s);
	return s;
}

/* see dbus.h */
dbus_status_t dbus_msg_parse(dbus_msg_t *m, const uint8_t *buf, size_t len)
{
	struct rd r;
	dbus_iter_t it, arr, fs, vs;
	dbus_value_t code, v;
	dbus_status_t st;
	unsigned seen = 0;
	uint32_t p, fend;
	const char *s;
	size_t n;

	memset(m, 0, sizeof *m);
	st = dbus_frame(buf, len, DBUS_MAX_MSG, &n);
	if (st != DBUS_OK)
		return st == DBUS_NEED_MORE ? DBUS_E_BOUNDS : st;
	r.m = buf;
	r.be = buf[0] == 'B';
	r.nfds = 0;
	m->endian = (char)buf[0];
	m->type = buf[1];
	m->flags = buf[2];
	m->serial = (uint32_t)rd(buf + 8, 4, r.be);
	m->msg = buf;
	m->len = (uint32_t)n;
	if (m->type == 0)
		return DBUS_E_HEADER;
	if (m->serial == 0)
		return DBUS_E_SERIAL;

	/* the header fields are an a(yv) at offset 12: validate, then read */
	fend = 16 + (uint32_t)rd(buf + 12, 4, r.be);
	p = 12;
	s = "a(yv)";
	if ((st = val(&r, fend, &p, &s, 0)) != DBUS_OK)
		return st;
	memset(&it, 0, sizeof it);
	it.msg = buf;
	it.pos = 12;
	it.end = fend;
	it.sig = "a(yv)";
	it.sig_end = it.sig + 5;
	it.be = r.be;
	dbus_iter_enter(&it, &arr);
	while (dbus_iter_type(&arr)) {
		if (dbus_iter_enter(&arr, &fs) != DBUS_OK || dbus_iter_get(&fs, &code) != DBUS_OK ||
		    dbus_iter_enter(&fs, &vs) != DBUS_OK || code.u == 0)
			return DBUS_E_FIELD;
		if (code.u > 9)
			continue;   /* unknown: validated above, ignored */
		const struct field *f = &fields[code.u - 1];
		if (seen & 1u << code.u || vs.sig_end - vs.sig != 1 || *vs.sig != f->type)
			return DBUS_E_FIELD;
		seen |= 1u << code.u;
		dbus_iter_get(&vs, &v);
		if (f->type == 'u') {
			uint32_t u = (uint32_t)v.u;
			memcpy((char *)m + f->off, &u, sizeof u);
		} else {
			if (field_kind[code.u - 1] != '-' &&
			    (st = dbus_check_name(field_kind[code.u - 1], v.s, v.len)) != DBUS_OK)
				return st;
			memcpy((char *)m + f->off, &v.s, sizeof v.s);
		}
	}
	if ((seen & 1u << 5) && m->reply_serial == 0)
		return DBUS_E_SERIAL;
	if ((seen & required(m->type)) != required(m->type))
		return DBUS_E_MISSING;
	if (m->signature == NULL)
		m->signature = "";
	r.nfds = m->unix_fds;

	/* body: 8-aligned after the fields, exactly as long as the header says */
	p = fend;
	if ((st = pad(buf, &p, (uint32_t)n, 8)) != DBUS_OK)
		return st;
	m->body_off = p;
	m->body_len = (uint32_t)n - p;
	if (m->body_len != 0 && *m->signature == 0)
		return DBUS_E_MISSING;
	s = m->signature;
	while (*s)
		if ((st = val(&r, (uint32_t)n, &p, &s, 0)) != DBUS_OK)
			return st;
	return p == n ? DBUS_OK : DBUS_E_BOUNDS;
}

/* see dbus.h */
int dbus_msg_is_reply(const dbus_msg_t *m, uint32_t serial)
{
	return (m->type == DBUS_METHOD_RETURN || m->type == DBUS_ERROR) &&
		serial != 0 && m->reply_serial == serial;
}

/* see dbus.h */
const char *dbus_msg_error_text(const dbus_msg_t *m)
{
	/* the body starts 8-aligned: a leading string's length is right there */
	if (m->msg == NULL || m->signature == NULL || m->signature[0] != 's')
		return "";
	return (const char *)m->msg + m->body_off + 4;
}

/* ---- iterator -------------------------------------------------------- */

/* see dbus.h */
void dbus_iter_init(dbus_iter_t *it, const dbus_msg_t *m)
{
	memset(it, 0, sizeof *it);
	it->msg = m->msg;
	it->pos = m->body_off;
	it->end = m->len;
	it->sig = m->signature ? m->signature : "";
	it->sig_end = it->sig + strlen(it->sig);
	it->be = m->endian == 'B';
	it->nfds = m->unix_fds;
}

/* see dbus.h */
char dbus_iter_type(const dbus_iter_t *it)
{
	if (it->array ? it->pos >= it->end : it->sig >= it->sig_end)
		return 0;
	return *it->sig;
}

/* see dbus.h */
size_t dbus_iter_sig(const dbus_iter_t *it, const char **sig)
{
	*sig = it->sig;
	if (!dbus_iter_type(it))
		return 0;
	return (size_t)((it->array ? it->sig_end : sig_skip(it->sig)) - it->sig);
}

/* step past the next value (validating it again); fill sub if asked */
static dbus_status_t step(dbus_iter_t *it, dbus_iter_t *sub)
{
	struct rd r = { it->msg, it->be, it->nfds };
	const uint8_t *m = it->msg;
	const char *s = it->sig;
	char c = dbus_iter_type(it);
	uint32_t p = it->pos, q;
	dbus_status_t st;

	if (c == 0)
		return DBUS_E_TYPE;
	if ((st = val(&r, it->end, &p, &s, it->depth)) != DBUS_OK)
		return st;
	if (sub != NULL) {
		*sub = *it;
		sub->depth++;
		sub->array = c == 'a';
		sub->sig = it->sig + 1;
		q = align_up(it->pos, talign(c));
		if (c == 'a') {
			uint32_t n = (uint32_t)rd(m + q, 4, it->be);
			sub->pos = align_up(q + 4, talign(it->sig[1]));
			sub->end = sub->pos + n;
			sub->sig_end = s;
		} else if (c == 'v') {
			sub->sig = (const char *)m + q + 1;
			sub->sig_end = sub->sig + m[q];
			sub->pos = q + 2 + m[q];
		} else {
			sub->pos = q;
			sub->sig_end = s - 1;
		}
	}
	it->pos = p;
	if (!it->array)
		it->sig = s;
	return DBUS_OK;
}

/* see dbus.h */
dbus_status_t dbus_iter_get(dbus_iter_t *it, dbus_value_t *v)
{
	char c = dbus_iter_type(it);
	unsigned a = talign(c);
	uint32_t q;
	const uint8_t *m = it->msg;

	if (!is_basic(c) || a == 0)
		return DBUS_E_TYPE;
	q = align_up(it->pos, a);
	memset(v, 0, sizeof *v);
	v->type = c;
	if (c == 's' || c == 'o' || c == 'g') {
		v->len = c == 'g' ? m[q] : (uint32_t)rd(m + q, 4, it->be);
		v->s = (const char *)m + q + (c == 'g' ? 1 : 4);
	} else {
		uint64_t sb = (uint64_t)1 << (8 * a - 1);
		v->u = rd(m + q, a, it->be);
		if (c == 'n' || c == 'i' || c == 'x')
			v->u = (v->u ^ sb) - sb;   /* sign-extend */
	}
	return step(it, NULL);
}

/* see dbus.h */
dbus_status_t dbus_iter_enter(dbus_iter_t *it, dbus_iter_t *sub)
{
	dbus_iter_t tmp;
	char c = dbus_iter_type(it);
	if (c != 'a' && c != '(' && c != '{' && c != 'v')
		return DBUS_E_TYPE;
	return step(it, sub != NULL ? sub : &tmp);
}

/* see dbus.h */
dbus_status_t dbus_iter_skip(dbus_iter_t *it)
{
	return step(it, NULL);
}

/* see dbus.h */
double dbus_value_double(const dbus_value_t *v)
{
	double d;
	memcpy(&d, &v->u, sizeof d);
	return d;
}

/* see dbus.h */
uint64_t dbus_double_bits(double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof u);
	return u;
}

/* ---- writer ---------------------------------------------------------- */

/* see dbus.h */
void dbus_w_init(dbus_writer_t *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap > DBUS_MAX_MSG ? DBUS_MAX_MSG : (uint32_t)cap;
	w->len = 0;
	w->st = DBUS_OK;
	w->body = 0;
}

/* see dbus.h */
dbus_status_t dbus_w_status(const dbus_writer_t *w)
{
	return w->st;
}

/* zero-pad to a, reserve n bytes; NULL (and sticky E_SPACE) if no room */
static uint8_t *room(dbus_writer_t *w, unsigned a, uint32_t n)
{
	uint32_t p;
	if (w->st != DBUS_OK)
		return NULL;
	p = align_up(w->len, a);
	if (p > w->cap || n > w->cap - p) {
		w->st = DBUS_E_SPACE;
		return NULL;
	}
	memset(w->buf + w->len, 0, p - w->len);
	w->len = p + n;
	return w->buf + p;
}

static void put_le(dbus_writer_t *w, uint64_t v, unsigned n)
{
	uint8_t *p = room(w, n, n);
	if (p != NULL)
		for (unsigned i = 0; i < n; i++)
			p[i] = (uint8_t)(v >> (8 * i));
}

/* see dbus.h */
void dbus_put_u8(dbus_writer_t *w, uint8_t v) { put_le(w, v, 1); }
void dbus_put_u16(dbus_writer_t *w, uint16_t v) { put_le(w, v, 2); }
void dbus_put_u32(dbus_writer_t *w, uint32_t v) { put_le(w, v, 4); }
void dbus_put_u64(dbus_writer_t *w, uint64_t v) { put_le(w, v, 8); }

static void fail(dbus_writer_t *w, dbus_status_t st)
{
	if (w->st == DBUS_OK)
		w->st = st;
}

/* see dbus.h */
void dbus_put_string(dbus_writer_t *w, char type, const char *s)
{
	size_t n = strlen(s);
	unsigned g = type == 'g';
	dbus_status_t st = g && n > DBUS_MAX_SIG ? DBUS_E_SIG
		: check_str(type, (const uint8_t *)s, n);
	uint8_t *p;

	if (n > DBUS_MAX_MSG)   /* keeps the uint32_t sizes below exact */
		st = DBUS_E_SPACE;
	if (st != DBUS_OK) {
		fail(w, st);
		return;
	}
	if ((p = room(w, g ? 1 : 4, (uint32_t)n + (g ? 2 : 5))) == NULL)
		return;
	if (g)
		p[0] = (uint8_t)n;
	else
		wr32(p, (uint32_t)n);
	memcpy(p + (g ? 1 : 4), s, n + 1);
}

/* see dbus.h: the length placeholder holds the element alignment */
uint32_t dbus_open_array(dbus_writer_t *w, char elem)
{
	unsigned a = talign(elem);
	uint8_t *p = room(w, 4, 4);

	if (a == 0) {
		fail(w, DBUS_E_SIG);
		a = 8;
	}
	if (p == NULL)
		return 0;
	wr32(p, a);
	room(w, a, 0);
	return (uint32_t)(p - w->buf);
}

/* see dbus.h */
void dbus_close_array(dbus_writer_t *w, uint32_t mark)
{
	uint32_t start, n;
	if (w->st != DBUS_OK)
		return;
	if ((uint64_t)mark + 4 > w->len || w->buf[mark] > 8) {
		w->st = DBUS_E_STATE;
		return;
	}
	start = align_up(mark + 4, w->buf[mark]);
	n = w->len - start;
	if (n > DBUS_MAX_ARRAY)
		w->st = DBUS_E_ARRAY;
	else
		wr32(w->buf + mark, n);
}

/* see dbus.h */
void dbus_open_struct(dbus_writer_t *w)
{
	room(w, 8, 0);
}

/* see dbus.h */
void dbus_open_variant(dbus_writer_t *w, const char *sig)
{
	dbus_status_t st = check_single(sig, strlen(sig));
	if (st != DBUS_OK)
		fail(w, st);
	else
		dbus_put_string(w, 'g', sig);
}

/* see dbus.h */
dbus_status_t dbus_w_begin(dbus_writer_t *w, const dbus_msg_t *h)
{
	unsigned have = 0, need = required(h->type);
	uint32_t mark;
	uint8_t *p;

	if (w->st == DBUS_OK && w->len != 0)
		w->st = DBUS_E_STATE;
	else if (h->type == 0 || h->type > DBUS_SIGNAL)
		fail(w, DBUS_E_HEADER);
	else if (h->serial == 0)
		fail(w, DBUS_E_SERIAL);
	if ((p = room(w, 1, 12)) == NULL)
		return w->st;
	p[0] = 'l';
	p[1] = h->type;
	p[2] = h->flags;
	p[3] = 1;
	wr32(p + 4, 0);          /* body length, patched by dbus_w_end */
	wr32(p + 8, h->serial);
	mark = dbus_open_array(w, '(');
	for (unsigned i = 0; i < 9; i++) {
		const struct field *f = &fields[i];
		const char *s = NULL;
		uint32_t u = 0;
		if (f->type == 'u')
			memcpy(&u, (const char *)h + f->off, sizeof u);
		else
			s = field_str(h, f);
		if (f->type == 'u' ? u == 0 : s == NULL || (f->type == 'g' && *s == 0))
			continue;
		/* put_string checks paths and signatures; names are checked here */
		if (f->type == 's')
			fail(w, dbus_check_name(field_kind[i], s, strlen(s)));
		/* struct (yv): code, then the variant's signature (one type code) */
		if ((p = room(w, 8, 4)) == NULL)
			break;
		p[0] = f->code;
		p[1] = 1;
		p[2] = (uint8_t)f->type;
		p[3] = 0;
		if (s == NULL)
			dbus_put_u32(w, u);
		else
			dbus_put_string(w, f->type, s);
		have |= 1u << f->code;
	}
	if ((have & need) != need)
		fail(w, DBUS_E_MISSING);
	dbus_close_array(w, mark);
	room(w, 8, 0);
	w->body = w->len;
	return w->st;
}

/* see dbus.h */
dbus_status_t dbus_w_end(dbus_writer_t *w, size_t *len)
{
	if (w->st == DBUS_OK && w->body == 0)
		w->st = DBUS_E_STATE;
	if (w->st != DBUS_OK)
		return w->st;
	wr32(w->buf + 4, w->len - w->body);
	*len = w->len;
	return DBUS_OK;
}

/* ---- exact decimal <-> binary64 (for 'd' in text form) ----------------
 * A fixed-size bignum is enough: the largest intermediate is about
 * 10^370 * 2^60 < 2^1300 (parse) and 10^330 * 2^85 (print).  */

#define BN_N 48
typedef struct { uint32_t w[BN_N]; } bn_t;

static void bn_set(bn_t *a, uint64_t v)
{
	memset(a, 0, sizeof *a);
	a->w[0] = (uint32_t)v;
	a->w[1] = (uint32_t)(v >> 32);
}

static void bn_muladd(bn_t *a, uint32_t mul, uint32_t add)
{
	uint64_t c = add;
	for (unsigned i = 0; i < BN_N; i++) {
		c += (uint64_t)a->w[i] * mul;
		a->w[i] = (uint32_t)c;
		c >>= 32;
	}
}

static void bn_pow10(bn_t *a, unsigned k)
{
	for (; k >= 9; k -= 9)
		bn_muladd(a, 1000000000u, 0);
	while (k-- > 0)
		bn_muladd(a, 10, 0);
}

static void bn_shl(bn_t *a, unsigned s)
{
	unsigned q = s / 32, r = s % 32;
	for (unsigned i = BN_N; i-- > 0;) {
		uint32_t v = 0;
		if (i >= q) {
			v = a->w[i - q] << r;
			if (r && i > q)
				v |= a->w[i - q - 1] >> (32 - r);
		}
		a->w[i] = v;
	}
}

static int bn_cmp(const bn_t *a, const bn_t *b)
{
	for (unsigned i = BN_N; i-- > 0;)
		if (a->w[i] != b->w[i])
			return a->w[i] < b->w[i] ? -1 : 1;
	return 0;
}

static unsigned bn_bits(const bn_t *a)
{
	for (unsigned i = BN_N; i-- > 0;)
		if (a->w[i])
			for (unsigned b = 32; b-- > 0;)
				if (a->w[i] >> b & 1)
					return i * 32 + b + 1;
	return 0;
}

/*
 * q = n / d when below 2^bits (else UINT64_MAX).  *half compares the
 * remainder with d/2 (-1 below, 0 equal, 1 above) for rounding.
 */
static uint64_t bn_div(bn_t n, const bn_t *d, unsigned bits, int *half)
{
	uint64_t q = 0;
	bn_t t;
	for (unsigned i = bits + 1; i-- > 0;) {
		t = *d;
		bn_shl(&t, i);
		if (bn_cmp(&n, &t) >= 0) {
			if (i == bits)
				return UINT64_MAX;
			uint64_t b = 0;   /* n -= t */
			for (unsigned j = 0; j < BN_N; j++) {
				b = (uint64_t)n.w[j] - t.w[j] - b;
				n.w[j] = (uint32_t)b;
				b = b >> 63;
			}
			q |= (uint64_t)1 << i;
		}
	}
	bn_shl(&n, 1);
	*half = bn_cmp(&n, d);
	return q;
}

/* q = n * 10^p10 * 2^p2 exactly, as bn_div (bits, *half) */
static uint64_t bn_scale(bn_t n, int p10, int p2, unsigned bits, int *half)
{
	bn_t d;
	bn_set(&d, 1);
	bn_pow10(p10 >= 0 ? &n : &d, (unsigned)(p10 >= 0 ? p10 : -p10));
	bn_shl(p2 >= 0 ? &n : &d, (unsigned)(p2 >= 0 ? p2 : -p2));
	return bn_div(n, &d, bits, half);
}

/* floor(x * log_b(a)) for |x| < 2^16, given log_b(a) ~= f / 4096 */
static int floor_mul(int x, unsigned f)
{
	return x >= 0 ? (int)((unsigned)x * f >> 12)
		: -(int)(((unsigned)-x * f + 4095) >> 12);
}

static uint64_t round_half_even(uint64_t q, int half)
{
	return q + (half > 0 || (half == 0 && (q & 1)));
}

/* see dbus.h: like printf("%g"), i.e. 6 significant digits */
size_t dbus_fmt_double(uint64_t bits, char out[16])
{
	unsigned be = (unsigned)(bits >> 52) & 0x7ff;
	uint64_t m = bits & (((uint64_t)1 << 52) - 1), q;
	char *o = out, dig[6];
	int e2, k, x, half, nd, expo, point;
	bn_t n;

	if (bits >> 63)
		*o++ = '-';
	if (be == 0x7ff) {
		memcpy(o, m ? "nan" : "inf", 3);
		return (size_t)(o + 3 - out);
	}
	if (be == 0 && m == 0) {
		*o++ = '0';
		return (size_t)(o - out);
	}
	e2 = be ? (int)be - 1075 : -1074;
	if (be)
		m |= (uint64_t)1 << 52;
	bn_set(&n, m);
	x = e2 + (int)bn_bits(&n) - 1;         /* floor(log2 v) */
	/* floor(log10 v) is k or k + 1 (1233 / 4096 < log10 2) */
	k = floor_mul(x, 1233);
	for (;;) {
		/* q = v / 10^(k-5), exactly */
		q = bn_scale(n, 5 - k, e2, 24, &half);
		if (q >= 1000000)
			k++;
		else if (q < 100000)
			k--;
		else
			break;
	}
	q = round_half_even(q, half);
	if (q == 1000000) {
		q = 100000;
		k++;
	}
	for (uint32_t i = 6, r = (uint32_t)q; i-- > 0; r = div10(r))
		dig[i] = (char)('0' + r - 10 * div10(r));
	for (nd = 6; nd > 1 && dig[nd - 1] == '0'; nd--)
		;
	/* %g: exponent form when k < -4 or k >= 6, else plain; point = how
	 * many digits stand before the decimal point */
	expo = k < -4 || k >= 6;
	point = expo ? 1 : k + 1;
	if (point <= 0) {
		*o++ = '0';
		*o++ = '.';
		while (point++ < 0)
			*o++ = '0';
		point = -1;
	}
	for (int i = 0; i < nd || i < point; i++) {
		if (i == point)
			*o++ = '.';
		*o++ = dig[i];
	}
	if (expo) {
		uint32_t t, h;
		*o++ = 'e';
		*o++ = k < 0 ? '-' : '+';
		if (k < 0)
			k = -k;
		t = div10((uint32_t)k);
		h = div10(t);   /* k <= 324 */
		if (h)
			*o++ = (char)('0' + h);
		*o++ = (char)('0' + t - 10 * h);
		*o++ = (char)('0' + (uint32_t)k - 10 * t);
	}
	return (size_t)(o - out);
}

static int lower(char c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* s equals one of the NUL-separated words in list (ending with ""), any case */
static int word_in(const char *s, const char *list)
{
	for (; *list; list += strlen(list) + 1) {
		size_t i = 0;
		while (list[i] && lower(s[i]) == list[i])
			i++;
		if (!list[i] && !s[i])
			return 1;
	}
	return 0;
}

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

/*
 * strtod's decimal syntax: [ws][+-](digits[.digits]|.digits)[e[+-]digits],
 * inf, infinity, nan.  Exactly rounded, except that significant digits
 * past the 40th only count as "something non-zero follows" (a sticky
 * digit), which can misround only when a rounding boundary falls within
 * them.  Like busctl (strtod + ERANGE), out of range and subnormal results
 * are errors.  0 on success.
 */
static int parse_double(const char *s, uint64_t *out)
{
	uint64_t sign = 0, q = 0;
	int x = 0, nd = 0, any = 0, pt = 0, e = 0, eneg = 0, sh, half = 0;
	int sticky = 0;
	bn_t n;

	s = skip_ws(s);
	if (*s == '+' || *s == '-')
		sign = (uint64_t)(*s++ == '-') << 63;
	if (word_in(s, "inf\0infinity\0")) {
		*out = sign | (uint64_t)0x7ff << 52;
		return 0;
	}
	if (word_in(s, "nan\0")) {
		*out = sign | (uint64_t)0xfff << 51;
		return 0;
	}
	bn_set(&n, 0);
	for (;; s++) {
		if (is_digit(*s)) {
			any = 1;
			if (nd == 0 && *s == '0') {
				x -= pt;
			} else if (nd < 40) {
				bn_muladd(&n, 10, (uint32_t)(*s - '0'));
				nd++;
				x -= pt;
			} else {
				x += !pt;
				sticky |= *s != '0';
			}
		} else if (*s == '.' && !pt) {
			pt = 1;
		} else {
			break;
		}
	}
	if (!any)
		return -1;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			eneg = *s++ == '-';
		if (!is_digit(*s))
			return -1;
		for (; is_digit(*s); s++)
			if (e < 100000)
				e = e * 10 + (*s - '0');
	}
	if (*s)
		return -1;
	x += eneg ? -e : e;
	if (sticky) {
		bn_muladd(&n, 10, 1);
		x--;
	}
	if (nd == 0) {
		*out = sign;
		return 0;
	}
	if (x + nd - 1 > 309 || x + nd - 1 < -325)
		return -1;
	/* find the shift sh with 2^52 <= n * 10^x * 2^sh < 2^53; the
	 * estimate (log2 10 ~= 13607 / 4096) is off by a step or two */
	sh = 53 - (int)bn_bits(&n) - floor_mul(x, 13607);
	for (;;) {
		q = bn_scale(n, x, sh, 56, &half);
		if (q >= (uint64_t)1 << 53)
			sh--;
		else if (q < (uint64_t)1 << 52)
			sh++;
		else
			break;
	}
	q = round_half_even(q, half);
	if (q == (uint64_t)1 << 53) {
		q >>= 1;
		sh--;
	}
	if (52 - sh > 1023 || 52 - sh < -1022)
		return -1;
	*out = sign | (uint64_t)(52 - sh + 1023) << 52 | (q & (((uint64_t)1 << 52) - 1));
	return 0;
}

/* ---- busctl text arguments ------------------------------------------- */

/*
 * busctl's safe_ato*: [ws][+-] then 0x/0o/0b, C octal (leading 0) or
 * decimal; unsigned types accept "-0" only.  max is the largest positive
 * value; signed types also take -(max + 1).
 */
static int parse_int(const char *s, int is_signed, uint64_t max, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;
	int neg = 0;

	s = skip_ws(s);
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (s[0] == '0' && s[1]) {
		char c = (char)lower(s[1]);
		base = c == 'x' ? 16 : c == 'b' ? 2 : 8;
		s += c == 'x' || c == 'b' || c == 'o' ? 2 : 1;
	}
	if (!*s)
		return -1;
	for (; *s; s++) {
		char c = (char)lower(*s);
		unsigned dg = is_digit(c) ? (unsigned)(c - '0')
			: c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) : 99;
		if (dg >= base || __builtin_mul_overflow(v, (uint64_t)base, &v) ||
		    __builtin_add_overflow(v, (uint64_t)dg, &v))
			return -1;
	}
	if (neg) {
		if (v > (is_signed ? max + 1 : 0))
			return -1;
		v = 0 - v;
	} else if (v > max) {
		return -1;
	}
	*out = v;
	return 0;
}

struct targs {
	char *const *argv;
	int argc, i;
};

/* marshal the value of the complete type at *sigp from the arguments */
static void targ(dbus_writer_t *w, const char **sigp, struct targs *a,
	unsigned depth)
{
	/* type code -> (bits, signed) for the integer types */
	static const char ints[] = "ynqiuxt";
	static const uint8_t ibits[] = { 8, 16, 16, 32, 32, 64, 64 };
	const char *sig = *sigp, *v, *ip;
	char c = *sig;
	uint64_t u;

	if (w->st != DBUS_OK)
		return;
	if (depth > DBUS_MAX_DEPTH) {
		w->st = DBUS_E_DEPTH;
		return;
	}
	*sigp = sig_skip(sig);
	if (c == '(' || c == '{') {
		dbus_open_struct(w);
		for (sig++; *sig != ')' && *sig != '}' && w->st == DBUS_OK;)
			targ(w, &sig, a, depth + 1);
		return;
	}
	if (a->i >= a->argc) {
		w->st = DBUS_E_ARGC;
		return;
	}
	v = a->argv[a->i];
	ip = memchr(ints, c, sizeof ints - 1);
	if (ip != NULL) {
		unsigned b = ibits[ip - ints];
		int sgn = c == 'n' || c == 'i' || c == 'x';
		uint64_t max = (b == 64 ? UINT64_MAX : ((uint64_t)1 << b) - 1) >> sgn;
		if (parse_int(v, sgn, max, &u) != 0)
			goto bad;
		a->i++;
		put_le(w, u, b / 8);
		return;
	}
	switch (c) {
	case 'b':
		if (word_in(v, "1\0yes\0y\0true\0t\0on\0"))
			u = 1;
		else if (word_in(v, "0\0no\0n\0false\0f\0off\0"))
			u = 0;
		else
			goto bad;
		a->i++;
		dbus_put_u32(w, (uint32_t)u);
		return;
	case 'd':
		if (parse_double(v, &u) != 0)
			goto bad;
		a->i++;
		dbus_put_u64(w, u);
		return;
	case 's': case 'o': case 'g':
		dbus_put_string(w, c, v);
		break;
	case 'v':
		dbus_open_variant(w, v);
		if (w->st == DBUS_OK) {
			a->i++;
			targ(w, &v, a, depth + 1);
		}
		return;
	case 'a': {
		uint32_t mark, k;
		if (parse_int(v, 0, UINT32_MAX, &u) != 0)
			goto bad;
		a->i++;
		mark = dbus_open_array(w, sig[1]);
		/* every element takes >= 1 argument: a huge count runs out */
		for (k = 0; k < u && w->st == DBUS_OK; k++) {
			const char *es = sig + 1;
			targ(w, &es, a, depth + 1);
		}
		dbus_close_array(w, mark);
		return;
	}
	default:   /* 'h': busctl passes a file; we cannot */
		goto bad;
	}
	if (w->st == DBUS_OK)
		a->i++;
	return;
bad:
	w->st = DBUS_E_ARG;
}

/* see dbus.h */
dbus_status_t dbus_put_args(dbus_writer_t *w, const char *sig, int argc,
	char *const argv[], int *argi)
{
	struct targs a = { argv, argc, 0 };
	dbus_status_t st = dbus_check_sig(sig, strlen(sig));

	if (st != DBUS_OK)
		fail(w, st);
	while (*sig && w->st == DBUS_OK)
		targ(w, &sig, &a, 0);
	if (w->st == DBUS_OK && a.i < argc)
		w->st = DBUS_E_ARGC;
	if (argi != NULL)
		*argi = a.i;
	return w->st;
}

/* see dbus.h */
dbus_status_t dbus_msg_call_text(uint8_t *buf, size_t cap,
	const dbus_msg_t *h, int argc, char *const argv[], size_t *len,
	int *argi)
{
	dbus_writer_t w;
	dbus_w_init(&w, buf, cap);
	if (argi != NULL)
		*argi = 0;
	if (dbus_w_begin(&w, h) == DBUS_OK)
		dbus_put_args(&w, h->signature ? h->signature : "", argc, argv, argi);
	return dbus_w_end(&w, len);
}

static dbus_status_t bus_call(uint8_t *buf, size_t cap, uint32_t serial,
	const char *member, const char *arg, size_t *len)
{
	dbus_msg_t h;
	dbus_writer_t w;

	memset(&h, 0, sizeof h);
	h.type = DBUS_METHOD_CALL;
	h.serial = serial;
	h.path = "/org/freedesktop/DBus";
	h.interface = h.destination = "org.freedesktop.DBus";
	h.member = member;
	h.signature = arg != NULL ? "s" : NULL;
	dbus_w_init(&w, buf, cap);
	dbus_w_begin(&w, &h);
	if (arg != NULL)
		dbus_put_string(&w, 's', arg);
	return dbus_w_end(&w, len);
}

/* see dbus.h */
dbus_status_t dbus_msg_hello(uint8_t *buf, size_t cap, uint32_t serial,
	size_t *len)
{
	return bus_call(buf, cap, serial, "Hello", NULL, len);
}

/* see dbus.h */
dbus_status_t dbus_msg_add_match(uint8_t *buf, size_t cap, uint32_t serial,
	const char *rule, size_t *len)
{
	return bus_call(buf, cap, serial, "AddMatch", rule, len);
}

/* ---- printing in busctl's form --------------------------------------- */

struct out {
	char *p;
	size_t cap, len;   /* cap > 0; p[len] is kept a NUL */
	int full;
};

static void put(struct out *o, const char *s, size_t n)
{
	size_t room = o->cap - 1 - o->len;
	if (n > room) {
		n = room;
		o->full = 1;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = 0;
}

static void put_u64(struct out *o, uint64_t v, int neg)
{
	char b[21], *e = b + sizeof b, *p = e;
	if (neg)
		v = 0 - v;
	do {
		/* v / 10 in 16-bit steps: no 64-bit division helper needed */
		uint32_t r = 0;
		uint64_t qv = 0;
		for (int s = 48; s >= 0; s -= 16) {
			uint32_t cur = r << 16 | (uint32_t)(v >> s & 0xffff);
			qv |= (uint64_t)div10(cur) << s;
			r = cur - 10 * div10(cur);
		}
		*--p = (char)('0' + r);
		v = qv;
	} while (v);
	if (neg)
		*--p = '-';
	put(o, p, (size_t)(e - p));
}

/* a C-escaped, double-quoted string, as systemd's cescape() */
static void put_quoted(struct out *o, const char *s, uint32_t n)
{
	static const char from[] = "\a\b\f\n\r\t\v\\\"'", to[] = "abfnrtv\\\"'";
	put(o, "\"", 1);
	for (uint32_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *e = c ? memchr(from, c, sizeof from - 1) : NULL;
		char b[4] = { '\\', 0, 0, 0 };
		if (e != NULL) {
			b[1] = to[e - from];
			put(o, b, 2);
		} else if (c < 0x20 || c >= 0x7f) {
			b[1] = (char)('0' + (c >> 6));
			b[2] = (char)('0' + (c >> 3 & 7));
			b[3] = (char)('0' + (c & 7));
			put(o, b, 4);
		} else {
			put(o, (const char *)&c, 1);
		}
	}
	put(o, "\"", 1);
}

static dbus_status_t print_level(struct out *o, dbus_iter_t *it)
{
	dbus_status_t st = DBUS_OK;
	char c;

	while (st == DBUS_OK && (c = dbus_iter_type(it)) != 0 && !o->full) {
		dbus_value_t v;
		dbus_iter_t sub;
		if (c != '(' && c != '{')
			put(o, " ", 1);
		if (!is_basic(c)) {
			if ((st = dbus_iter_enter(it, &sub)) != DBUS_OK)
				break;
			if (c == 'a') {
				dbus_iter_t t = sub;
				uint64_t cnt = 0;
				while (dbus_iter_type(&t) && dbus_iter_skip(&t) == DBUS_OK)
					cnt++;
				put_u64(o, cnt, 0);
			} else if (c == 'v') {
				put(o, sub.sig, (size_t)(sub.sig_end - sub.sig));
			}
			st = print_level(o, &sub);
			continue;
		}
		if ((st = dbus_iter_get(it, &v)) != DBUS_OK)
			break;
		if (c == 's' || c == 'o' || c == 'g') {
			put_quoted(o, v.s, v.len);
		} else if (c == 'b') {
			put(o, v.u ? "true" : "false", v.u ? 4 : 5);
		} else if (c == 'd') {
			char b[16];
			size_t k = dbus_fmt_double(v.u, b);
			put(o, b, k);
		} else {
			put_u64(o, v.u, (c == 'n' || c == 'i' || c == 'x') && v.u >> 63);
		}
	}
	return st;
}

/* see dbus.h */
dbus_status_t dbus_print_body(const dbus_msg_t *m, char *out, size_t cap,
	size_t *len)
{
	struct out o = { out, cap, 0, 0 };
	dbus_status_t st = DBUS_E_SPACE;
	dbus_iter_t it;

	if (len != NULL)
		*len = 0;
	if (cap == 0)
		return st;
	out[0] = 0;
	dbus_iter_init(&it, m);
	put(&o, it.sig, (size_t)(it.sig_end - it.sig));
	if (!o.full)
		st = print_level(&o, &it);
	if (len != NULL)
		*len = o.len;
	return o.full ? DBUS_E_SPACE : st;
}

/* see dbus.h */
const char *dbus_strerror(dbus_status_t st)
{
	/* one string, NUL-separated, in enum order: no pointer table */
	static const char msg[] =
		"ok\0need more input\0no room in buffer\0message too large\0"
		"bad header\0serial is 0\0bad header field\0"
		"missing header field\0value past end\0padding not zero\0"
		"boolean not 0/1\0bad string\0bad UTF-8\0bad object path\0"
		"bad signature\0nested too deep\0bad name\0bad array length\0"
		"bad fd index\0wrong value type\0bad argument\0"
		"wrong argument count\0auth rejected\0auth error\0"
		"bad auth reply\0auth line too long\0wrong state\0";
	const char *s = msg, *e = msg + sizeof msg - 1;   /* e: the final "" */
	for (unsigned i = (unsigned)st; i > 0 && s < e; s++)
		if (*s == 0)
			i--;
	return s < e ? s : "unknown status";
}
