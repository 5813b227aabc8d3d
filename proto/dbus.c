/*
 * dbus.c -- D-Bus wire format: validation, framing, parsing, iterator,
 * writer, busctl-style text arguments and printing.  See dbus.h.
 *
 * Invariants: every offset is a uint32_t below DBUS_MAX_MSG (128 MiB), so
 * `a + b` of two offsets or of an offset and a checked length cannot wrap.
 * All alignment is relative to the message start (offset 0 of msg/buf).
 * A signature is checked (dbus_check_sig) before anything walks it, so the
 * walkers below may rely on balanced brackets and a terminating NUL.
 *
 * One walker, val(), goes over a value of any type: it validates a
 * received message once (dbus_msg_parse), steps the iterator over values
 * of a message known to be valid (bounds only), and prints a body in
 * busctl's form (dbus_print_body).
 */
#include "proto/dbus.h"
#include "proto/utf8.h"

#include <string.h>

/* ---- small helpers -------------------------------------------------- */

/*
 * Type codes: the letters a b d g h i n o q s t u v x y and the struct and
 * dict entry brackets.  Per letter (bit c - 'a'): whether it is a type
 * code, whether a basic one (all but a and v), and in 2 bits the log2 of
 * its alignment.  A fixed value is as long as its alignment, and so is
 * the length in front of a string, signature, variant or array ('g' and
 * 'v': 1 byte, else 4).
 */
#define T_CODE  0x1bd61cbu       /* a b d g h i n o q s t u v x y */
#define T_BASIC 0x19d61cau       /* the same without a and v */
#define T_ALIGN 0xc2e1240280caull /* 2 bits per letter: log2(alignment) */

/* alignment of a type code, 0 if it is not one that can start a type */
static unsigned talign(char c)
{
	unsigned k = (unsigned)(c - 'a');
	if (c == '(' || c == '{')
		return 8;
	return k < 26 && (T_CODE >> k & 1) ? 1u << (T_ALIGN >> 2 * k & 3) : 0;
}

static int is_basic(char c)
{
	unsigned k = (unsigned)(c - 'a');
	return k < 26 && (T_BASIC >> k & 1);
}

static int is_signed(char c)
{
	return c == 'n' || c == 'i' || c == 'x';
}

static uint32_t align_up(uint32_t p, unsigned a)
{
	return (p + a - 1) & ~(uint32_t)(a - 1);
}

/* n bytes at p, in either byte order */
static uint64_t rd(const uint8_t *p, unsigned n, int be)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[be ? i : n - 1 - i];
	return v;
}

/* a fixed value (or a length) of type c, a bytes, signed ones extended */
static uint64_t fixed(const uint8_t *p, char c, unsigned a, int be)
{
	uint64_t v = rd(p, a, be), sb = (uint64_t)1 << (8 * a - 1);
	return is_signed(c) ? (v ^ sb) - sb : v;
}

/* n bytes little endian */
static void wr(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
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

/* see dbus.h: kind 'b' bus name, 'i' interface or error name, 'm' member,
 * 'o' object path ("/" or "/elem(/elem)*", elem = [A-Za-z0-9_]+) */
dbus_status_t dbus_check_name(char kind, const char *s, size_t n)
{
	int path = kind == 'o', uniq = kind == 'b' && n > 0 && s[0] == ':';
	dbus_status_t bad = path ? DBUS_E_PATH : DBUS_E_NAME;
	char sep = path ? '/' : kind == 'm' ? 0 : '.';
	int start = 1;
	unsigned elems = 0;

	if (n == 0 || (!path && n > DBUS_MAX_NAME) || (path && s[0] != '/'))
		return bad;
	if (path && n == 1)
		return DBUS_OK;
	for (size_t i = (size_t)(uniq | path); i < n; i++) {
		char c = s[i];
		if (c == sep && c != 0) {
			if (start)
				return bad;
			start = 1;
			continue;
		}
		if (!(is_alpha_(c) || (kind == 'b' && c == '-') ||
		    (is_digit(c) && (!start || uniq || path))))
			return bad;
		elems += start;
		start = 0;
	}
	return start || (sep == '.' && elems < 2) ? bad : DBUS_OK;
}

/* see dbus.h */
dbus_status_t dbus_check_path(const char *p, size_t n)
{
	return dbus_check_name('o', p, n);
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

/* ---- busctl's text form (output side) ------------------------------- */

struct out {
	char *p;
	size_t cap, len;   /* p[len] is kept a NUL (no put when cap is 0) */
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
	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	if (neg)
		*--p = '-';
	put(o, p, (size_t)(e - p));
}

/* a C-escaped, double-quoted string, as systemd's cescape() */
static void put_quoted(struct out *o, const char *s, uint32_t n)
{
	/* the bytes with a letter escape, then those letters */
	static const char esc[] = "\a\b\f\n\r\t\v\\\"'" "abfnrtv\\\"'";
	put(o, "\"", 1);
	for (uint32_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *e = c ? memchr(esc, c, 10) : NULL;
		char b[4] = { '\\', e != NULL ? e[10] : (char)('0' + (c >> 6)),
			(char)('0' + (c >> 3 & 7)), (char)('0' + (c & 7)) };
		if (e == NULL && c >= 0x20 && c < 0x7f)
			put(o, s + i, 1);
		else
			put(o, b, e != NULL ? 2 : 4);
	}
	put(o, "\"", 1);
}

/* ---- the walker ------------------------------------------------------ */

struct rd {
	const uint8_t *m;
	uint8_t be;
	uint8_t trust;     /* validated already: check bounds only */
	uint32_t nfds;
	dbus_iter_t *sub;  /* receives a container's contents, or NULL */
	dbus_value_t *out; /* receives a basic value, or NULL */
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
 * Walk the value of the complete type at *sigp, at *pos, within end:
 * validate it (bounds only when r->trust), print it to o (unless NULL),
 * and advance both past it.  depth = containers around it (incl.
 * variants).  r->sub and r->out, when set, receive what the iterator
 * needs (see below).
 */
static dbus_status_t val(const struct rd *r, uint32_t end, uint32_t *pos,
	const char **sigp, unsigned depth, struct out *o)
{
	const uint8_t *m = r->m;
	const char *sig = *sigp, *s = sig + 1, *is = s, *ie;
	char c = *sig;
	unsigned a = talign(c);
	uint32_t p = *pos, n, in, iend = end;
	uint64_t v;
	dbus_status_t st;

	if (a == 0)
		return DBUS_E_SIG;
	if ((st = pad(m, &p, end, a)) != DBUS_OK)
		return st;
	if (!is_basic(c) && depth >= DBUS_MAX_DEPTH)
		return DBUS_E_DEPTH;
	if (c == '(' || c == '{') {
		/* the fields, flattened */
		for (in = p; *s != ')' && *s != '}';)
			if ((st = val(r, end, &p, &s, depth + 1, o)) != DBUS_OK)
				return st;
		ie = s++;
		goto contents;
	}
	/* a fixed value, or the length in front of s o g v a */
	if (end - p < a)
		return DBUS_E_BOUNDS;
	v = fixed(m + p, c, a, r->be);
	p += a;
	if (o != NULL)
		put(o, " ", 1);
	if (c == 'b' && v > 1)
		return DBUS_E_BOOL;
	if (c == 'h' && v >= r->nfds)
		return DBUS_E_FD;
	if (r->out != NULL) {
		/* the last value walked that is not a struct: for dbus_iter_get,
		 * a basic value; for the header fields, the one in a variant */
		r->out->type = c;
		if (c == 's' || c == 'o' || c == 'g') {
			r->out->s = (const char *)m + p;
			r->out->len = (uint32_t)v;
		} else {
			r->out->u = v;
		}
	}
	if (c == 'a') {
		uint32_t q, cnt;
		if (v > DBUS_MAX_ARRAY)
			return DBUS_E_ARRAY;
		/* the padding before the first element exists even when empty */
		if ((st = pad(m, &p, end, talign(*s))) != DBUS_OK)
			return st;
		if (v > end - p)
			return DBUS_E_ARRAY;
		in = p;
		iend = p + (uint32_t)v;
		/* busctl prints the count first: a quiet pass counts them */
		for (int pass = o == NULL; pass < 2; pass++) {
			for (q = p, cnt = 0; q < iend; cnt++) {
				/* each element uses >= 1 byte: the loop ends */
				const char *es = s;
				if ((st = val(r, iend, &q, &es, depth + 1, pass ? o : NULL)) != DBUS_OK)
					return st;
			}
			if (!pass)
				put_u64(o, cnt, 0);
		}
		p = iend;
		s = ie = sig_skip(s);
		goto contents;
	}
	if (c == 's' || c == 'o' || c == 'g' || c == 'v') {
		/* v bytes and a NUL; a variant's value follows */
		const char *t = (const char *)m + p;
		if (v >= end - p)
			return DBUS_E_BOUNDS;
		n = (uint32_t)v;
		if (!r->trust && (st = check_str(c == 'v' ? 's' : c, m + p, n)) != DBUS_OK)
			return st;
		p += n + 1;
		if (c != 'v') {
			if (o != NULL)
				put_quoted(o, t, n);
			goto done;
		}
		if (!r->trust && (st = check_single(t, n)) != DBUS_OK)
			return st;
		if (o != NULL)
			put(o, t, n);
		in = p;
		is = t;
		ie = t + n;
		if ((st = val(r, end, &p, &t, depth + 1, o)) != DBUS_OK)
			return st;
		goto contents;
	}
	if (o != NULL) {
		char b[16];
		if (c == 'b')
			put(o, v ? "true" : "false", 5 - v);
		else if (c == 'd') {
			n = (uint32_t)dbus_fmt_double(v, b);
			put(o, b, n);
		} else
			put_u64(o, v, is_signed(c) && v >> 63);
	}
	goto done;
contents:
	/* a container: where its contents lie, for dbus_iter_enter (the
	 * outermost call writes last) */
	if (r->sub != NULL) {
		r->sub->pos = in;
		r->sub->end = iend;
		r->sub->sig = is;
		r->sub->sig_end = ie;
		r->sub->array = c == 'a';
	}
done:
	*sigp = s;
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

/* Header field codes 1..9: the variant's type, the name check ('b' bus,
 * 'i' interface/error, 'm' member, '-' none) and where it lives in
 * dbus_msg_t. */
static const char field_type[] = "osssussgu", field_kind[] = "-imi-bb--";
static const uint8_t field_off[] = {
	offsetof(dbus_msg_t, path), offsetof(dbus_msg_t, interface),
	offsetof(dbus_msg_t, member), offsetof(dbus_msg_t, error_name),
	offsetof(dbus_msg_t, reply_serial), offsetof(dbus_msg_t, destination),
	offsetof(dbus_msg_t, sender), offsetof(dbus_msg_t, signature),
	offsetof(dbus_msg_t, unix_fds),
};

/* bitmask of the fields a message type needs (bit = 1 << code) */
static unsigned required(unsigned type)
{
	static const uint16_t req[] = { 0, 1u << 1 | 1u << 3, 1u << 5,
		1u << 4 | 1u << 5, 1u << 1 | 1u << 2 | 1u << 3 };
	return type <= DBUS_SIGNAL ? req[type] : 0;
}

/* see dbus.h */
dbus_status_t dbus_msg_parse(dbus_msg_t *m, const uint8_t *buf, size_t len)
{
	dbus_value_t fv;
	struct rd r = { buf, 0, 0, 0, NULL, &fv };
	dbus_status_t st;
	unsigned seen = 0, code;
	uint32_t p, q, fend;
	const char *s;
	size_t n;

	memset(m, 0, sizeof *m);
	st = dbus_frame(buf, len, DBUS_MAX_MSG, &n);
	if (st != DBUS_OK)
		return st == DBUS_NEED_MORE ? DBUS_E_BOUNDS : st;
	r.be = buf[0] == 'B';
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

	/*
	 * The header fields, an a(yv) at offset 12 (its data starts at 16,
	 * already 8-aligned), in one pass: each struct is 8-aligned, a code
	 * byte, then a variant validated like any value (at the depth it has
	 * inside the array and struct); known fields are then read in place.
	 */
	fend = 16 + (uint32_t)rd(buf + 12, 4, r.be);
	for (p = 16; p < fend;) {
		char t;
		if ((st = pad(buf, &p, fend, 8)) != DBUS_OK)
			return st;
		if (p >= fend)
			return DBUS_E_BOUNDS;
		code = buf[p++];
		q = p;          /* the variant: signature length, signature, NUL */
		s = "v";
		if ((st = val(&r, fend, &p, &s, 2, NULL)) != DBUS_OK)
			return st;
		if (code == 0)
			return DBUS_E_FIELD;
		if (code > 9)
			continue;   /* unknown: validated, ignored */
		/* one type code, the field's own: fv holds the value */
		t = field_type[code - 1];
		if (seen & 1u << code || buf[q] != 1 || buf[q + 1] != (uint8_t)t)
			return DBUS_E_FIELD;
		seen |= 1u << code;
		if (t == 'u') {
			uint32_t u = (uint32_t)fv.u;
			memcpy((char *)m + field_off[code - 1], &u, sizeof u);
		} else {
			if (field_kind[code - 1] != '-' &&
			    (st = dbus_check_name(field_kind[code - 1], fv.s, fv.len)) != DBUS_OK)
				return st;
			memcpy((char *)m + field_off[code - 1], &fv.s, sizeof fv.s);
		}
	}
	r.out = NULL;
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
		if ((st = val(&r, (uint32_t)n, &p, &s, 0, NULL)) != DBUS_OK)
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

/* step past the next value (the message is valid: bounds only); a
 * container's contents go to sub, a basic value to v */
static dbus_status_t step(dbus_iter_t *it, dbus_iter_t *sub, dbus_value_t *v)
{
	dbus_iter_t in = *it;
	struct rd r = { it->msg, it->be, 1, it->nfds, &in, v };
	const char *s = it->sig;
	uint32_t p = it->pos;
	dbus_status_t st;

	if (dbus_iter_type(it) == 0)
		return DBUS_E_TYPE;
	if ((st = val(&r, it->end, &p, &s, it->depth, NULL)) != DBUS_OK)
		return st;
	if (sub != NULL) {
		in.depth++;
		*sub = in;
	}
	it->pos = p;
	if (!it->array)
		it->sig = s;
	return DBUS_OK;
}

/* see dbus.h */
dbus_status_t dbus_iter_get(dbus_iter_t *it, dbus_value_t *v)
{
	if (!is_basic(dbus_iter_type(it)))
		return DBUS_E_TYPE;
	memset(v, 0, sizeof *v);
	return step(it, NULL, v);
}

/* see dbus.h */
dbus_status_t dbus_iter_enter(dbus_iter_t *it, dbus_iter_t *sub)
{
	char c = dbus_iter_type(it);
	/* a valid type code that is not basic is a container */
	if (c == 0 || is_basic(c))
		return DBUS_E_TYPE;
	return step(it, sub, NULL);
}

/* see dbus.h */
dbus_status_t dbus_iter_skip(dbus_iter_t *it)
{
	return step(it, NULL, NULL);
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

/* ---- printing in busctl's form --------------------------------------- */

/* see dbus.h */
dbus_status_t dbus_print_body(const dbus_msg_t *m, char *out, size_t cap,
	size_t *len)
{
	struct out o = { out, cap, 0, cap == 0 };
	struct rd r = { m->msg, m->endian == 'B', 1, m->unix_fds, NULL, NULL };
	const char *s = m->signature != NULL ? m->signature : "";
	uint32_t p = m->body_off;
	dbus_status_t st = DBUS_OK;

	if (cap != 0) {
		out[0] = 0;
		put(&o, s, strlen(s));
	}
	while (*s && st == DBUS_OK && !o.full)
		st = val(&r, m->len, &p, &s, 0, &o);
	if (len != NULL)
		*len = o.len;
	return o.full ? DBUS_E_SPACE : st;
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

static void fail(dbus_writer_t *w, dbus_status_t st)
{
	if (w->st == DBUS_OK)
		w->st = st;
}

/* zero-pad to a, reserve n bytes; NULL (and sticky E_SPACE) if no room */
static uint8_t *room(dbus_writer_t *w, unsigned a, size_t n)
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
	w->len = p + (uint32_t)n;
	return w->buf + p;
}

static void put_le(dbus_writer_t *w, uint64_t v, unsigned n)
{
	uint8_t *p = room(w, n, n);
	if (p != NULL)
		wr(p, v, n);
}

/* see dbus.h */
void dbus_put_u8(dbus_writer_t *w, uint8_t v) { put_le(w, v, 1); }
void dbus_put_u16(dbus_writer_t *w, uint16_t v) { put_le(w, v, 2); }
void dbus_put_u32(dbus_writer_t *w, uint32_t v) { put_le(w, v, 4); }
void dbus_put_u64(dbus_writer_t *w, uint64_t v) { put_le(w, v, 8); }

/* see dbus.h */
void dbus_put_string(dbus_writer_t *w, char type, const char *s)
{
	size_t n = strlen(s);
	unsigned a = talign(type);   /* the length: 1 byte for 'g', else 4 */
	dbus_status_t st = check_str(type, (const uint8_t *)s, n);
	uint8_t *p;

	if (st != DBUS_OK)
		fail(w, st);
	else if ((p = room(w, a, n + a + 1)) != NULL) {
		wr(p, n, a);
		memcpy(p + a, s, n + 1);
	}
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
	wr(p, a, 4);
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
		wr(w->buf + mark, n, 4);
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
	wr(p + 4, (uint64_t)h->serial << 32, 8);   /* body length 0 until dbus_w_end */
	mark = dbus_open_array(w, '(');
	for (unsigned i = 0; i < 9; i++) {
		char t = field_type[i];
		const char *s = NULL;
		uint32_t u = 0;
		if (t == 'u')
			memcpy(&u, (const char *)h + field_off[i], sizeof u);
		else
			memcpy(&s, (const char *)h + field_off[i], sizeof s);
		if (t == 'u' ? u == 0 : s == NULL || (t == 'g' && *s == 0))
			continue;
		/* put_string checks paths and signatures; names are checked here */
		if (field_kind[i] != '-')
			fail(w, dbus_check_name(field_kind[i], s, strlen(s)));
		/* struct (yv): code, then the variant's signature (one type code) */
		if ((p = room(w, 8, 4)) == NULL)
			break;
		wr(p, (uint32_t)t << 16 | 1u << 8 | (i + 1), 4);
		if (t == 'u')
			dbus_put_u32(w, u);
		else
			dbus_put_string(w, t, s);
		have |= 2u << i;
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
	wr(w->buf + 4, w->len - w->body, 4);
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
			return i * 32 + 32 - (unsigned)__builtin_clz(a->w[i]);
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

/*
 * q = n * 10^p10 * 2^p2, rounded to nearest (ties to even), with
 * p10 = c10 + s10 * e and p2 = c2 + s2 * e, where *e starts as an
 * estimate and is stepped until lo <= q < lo * base (a larger *e must
 * make q smaller); q == lo * base after rounding becomes lo, *e + 1.
 */
static uint64_t bn_norm(const bn_t *n, int *e, int c10, int s10, int c2,
	int s2, uint64_t lo, unsigned base)
{
	uint64_t q, hi = lo * base;
	int half;
	for (;;) {
		bn_t t = *n, d;
		int p10 = c10 + s10 * *e, p2 = c2 + s2 * *e;
		bn_set(&d, 1);
		bn_pow10(p10 >= 0 ? &t : &d, (unsigned)(p10 >= 0 ? p10 : -p10));
		bn_shl(p2 >= 0 ? &t : &d, (unsigned)(p2 >= 0 ? p2 : -p2));
		q = bn_div(t, &d, 64 - (unsigned)__builtin_clzll(hi), &half);
		if (q >= hi)
			++*e;
		else if (q < lo)
			--*e;
		else
			break;
	}
	q += half > 0 || (half == 0 && (q & 1));
	if (q == hi) {
		q = lo;
		++*e;
	}
	return q;
}

/* floor(x * log_b(a)) for |x| < 2^16, given log_b(a) ~= f / 4096 */
static int floor_mul(int x, unsigned f)
{
	return x >= 0 ? (int)((unsigned)x * f >> 12)
		: -(int)(((unsigned)-x * f + 4095) >> 12);
}

/* see dbus.h: like printf("%g"), i.e. 6 significant digits */
size_t dbus_fmt_double(uint64_t bits, char out[16])
{
	unsigned be = (unsigned)(bits >> 52) & 0x7ff;
	uint64_t m = bits & (((uint64_t)1 << 52) - 1), q;
	char *o = out, dig[6];
	int e2, k, x, nd, expo, point;
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
	/* q = v / 10^(k-5), 6 digits */
	q = bn_norm(&n, &k, 5, -1, e2, 0, 100000, 10);
	for (uint32_t i = 6, r = (uint32_t)q; i-- > 0; r /= 10)
		dig[i] = (char)('0' + r % 10);
	for (nd = 6; dig[nd - 1] == '0'; nd--)   /* dig[0] is not '0' */
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
		unsigned e = (unsigned)(k < 0 ? -k : k);   /* <= 324 */
		*o++ = 'e';
		*o++ = k < 0 ? '-' : '+';
		if (e >= 100)
			*o++ = (char)('0' + e / 100);
		*o++ = (char)('0' + e / 10 % 10);
		*o++ = (char)('0' + e % 10);
	}
	return (size_t)(o - out);
}

static int lower(char c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* 1 + the index of s among the NUL-separated words in list (ending with
 * ""), in any case; 0 when it is none of them */
static int word_in(const char *s, const char *list)
{
	for (int k = 1; *list; list += strlen(list) + 1, k++) {
		size_t i = 0;
		while (list[i] && lower(s[i]) == list[i])
			i++;
		if (!list[i] && !s[i])
			return k;
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
	uint64_t sign = 0, q;
	int x = 0, nd = 0, any = 0, pt = 0, e = 0, eneg = 0, sh;
	int sticky = 0;
	bn_t n;

	s = skip_ws(s);
	if (*s == '+' || *s == '-')
		sign = (uint64_t)(*s++ == '-') << 63;
	if ((e = word_in(s, "inf\0infinity\0nan\0")) != 0) {
		*out = sign | (e < 3 ? (uint64_t)0x7ff << 52 : (uint64_t)0xfff << 51);
		return 0;
	}
	bn_set(&n, 0);
	/* value = n * 10^x: a digit kept moves x down when after the point,
	 * one dropped (past 40) up when before it; leading zeros are not
	 * digits of n */
	for (;; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (*s == '.' && !pt) {
			pt = 1;
			continue;
		}
		if (d > 9)
			break;
		any = 1;
		if (nd >= 40) {
			x += !pt;
			sticky |= d != 0;
			continue;
		}
		x -= pt;
		if (nd != 0 || d != 0) {
			bn_muladd(&n, 10, d);
			nd++;
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
	sh = (int)bn_bits(&n) + floor_mul(x, 13607) - 53;   /* -shift */
	q = bn_norm(&n, &sh, x, 0, 0, -1, (uint64_t)1 << 52, 2);
	sh = -sh;
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
static int parse_int(const char *s, int sgn, uint64_t max, uint64_t *out)
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
		if (v > (sgn ? max + 1 : 0))
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
	const char *sig = *sigp, *v;
	char c = *sig;
	unsigned sz = talign(c);
	uint64_t u;
	int k;

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
	if (c == 's' || c == 'o' || c == 'g') {
		dbus_put_string(w, c, v);
		a->i += w->st == DBUS_OK;
		return;
	}
	if (c == 'v') {
		dbus_open_variant(w, v);
		if (w->st == DBUS_OK) {
			a->i++;
			targ(w, &v, a, depth + 1);
		}
		return;
	}
	if (c == 'a') {
		uint32_t mark;
		if (parse_int(v, 0, UINT32_MAX, &u) != 0)
			goto bad;
		a->i++;
		mark = dbus_open_array(w, sig[1]);
		/* every element takes >= 1 argument: a huge count runs out */
		for (; u > 0 && w->st == DBUS_OK; u--) {
			const char *es = sig + 1;
			targ(w, &es, a, depth + 1);
		}
		dbus_close_array(w, mark);
		return;
	}
	/* fixed size (sz bytes): y n q i u x t, b, d; not h (busctl opens a
	 * file for it, we pass no descriptors) */
	if (c == 'b') {
		k = word_in(v, "0\0no\0n\0false\0f\0off\0" "1\0yes\0y\0true\0t\0on\0");
		u = k > 6;
		if (k == 0)
			goto bad;
	} else if (c == 'd' ? parse_double(v, &u) != 0 : c == 'h' ||
	    parse_int(v, is_signed(c), (sz == 8 ? UINT64_MAX : ((uint64_t)1 << 8 * sz) - 1) >> is_signed(c), &u) != 0) {
		goto bad;
	}
	a->i++;
	put_le(w, u, sz);
	return;
bad:
	w->st = DBUS_E_ARG;
}

/* see dbus.h */
dbus_status_t dbus_msg_call_text(uint8_t *buf, size_t cap,
	const dbus_msg_t *h, int argc, char *const argv[], size_t *len,
	int *argi)
{
	struct targs a = { argv, argc, 0 };
	const char *sig = h->signature != NULL ? h->signature : "";
	dbus_writer_t w;

	/* dbus_w_begin checks the signature (the SIGNATURE field) */
	dbus_w_init(&w, buf, cap);
	dbus_w_begin(&w, h);
	while (*sig && w.st == DBUS_OK)
		targ(&w, &sig, &a, 0);
	if (w.st == DBUS_OK && a.i < argc)
		w.st = DBUS_E_ARGC;
	if (argi != NULL)
		*argi = a.i;
	return dbus_w_end(&w, len);
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
