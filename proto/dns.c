/* dns.c -- see dns.h */
#include "proto/dns.h"

#include <string.h>

#define HDR        12    /* header octets */
#define WIRE_MAX   255   /* RFC 1035 2.3.4: a name is <= 255 octets on the wire */
#define LABEL_MAX  63
/* A legitimate name has at most 127 labels and needs at most one pointer per
 * label; pointers also strictly decrease, so this is only a backstop. */
#define JUMPS_MAX  127

static unsigned get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* 1 when a[0..n) and b[0..n) are equal without regard to ASCII case. */
static int same_nocase(const uint8_t *a, const uint8_t *b, size_t n)
{
	while (n-- > 0)
		if (lower(*a++) != lower(*b++))
			return 0;
	return 1;
}

/* Printable ASCII other than '.': what a label may hold as text. */
static int text_ok(int c)
{
	return c > 0x20 && c < 0x7f && c != '.';
}

/*
 * Expand the name at msg[off], reading nothing at or past msg[len].
 * wire: NULL, or WIRE_MAX bytes receiving the name uncompressed.
 * *next: offset just after the name's in-place part (after the first
 * pointer, or after the root label).  Returns the uncompressed length
 * (>= 1) or a negated status.
 * Loop invariant: seg <= p < len once the bound is checked; every pointer
 * must land strictly before seg (the start of the run of labels being read)
 * and never in the header, so seg strictly decreases: no loop can form.
 */
static int expand(const uint8_t *msg, size_t len, size_t off, uint8_t *wire,
	size_t *next)
{
	size_t p = off, seg = off, wl = 0, end = 0, t;
	unsigned c, jumps = 0;

	for (;;) {
		if (p >= len)
			return -DNS_E_SHORT;
		c = msg[p];
		if (c >= 0xc0) {
			if (len - p < 2)
				return -DNS_E_SHORT;
			t = (size_t)(c & 0x3f) << 8 | msg[p + 1];
			if (t >= seg || t < HDR || ++jumps > JUMPS_MAX)
				return -DNS_E_POINTER;
			if (end == 0)
				end = p + 2;
			p = seg = t;
			continue;
		}
		if (c > LABEL_MAX)       /* 0x40 extended, 0x80 reserved */
			return -DNS_E_FORMAT;
		if (wl + c + (c ? 2 : 1) > WIRE_MAX)
			return -DNS_E_FORMAT;
		if (c >= len - p)        /* need p + 1 + c <= len */
			return -DNS_E_SHORT;
		if (wire != NULL)
			memcpy(wire + wl, msg + p, c + 1);
		wl += c + 1;
		if (c == 0) {
			*next = end ? end : p + 1;
			return (int)wl;
		}
		p += c + 1;
	}
}

/* Uncompressed wire name w (well-formed, from expand) to dotted text. */
static dns_status_t wire_text(const uint8_t *w, size_t wl, char *out,
	size_t cap)
{
	size_t o = 0, i;

	/* out is not NULL (rr_ok checked it); text is wl - 2 characters
	 * ("a.b" from 1a1b0), root is "." */
	if (cap < (wl > 1 ? wl - 1 : 2))
		return DNS_E_SPACE;
	if (*w == 0) {
		memcpy(out, ".", 2);
		return DNS_OK;
	}
	for (; *w != 0; w += *w + 1) {
		if (o != 0)
			out[o++] = '.';
		for (i = 1; i <= *w; i++) {
			if (!text_ok(w[i]))
				return DNS_E_NAME;
			out[o++] = (char)w[i];
		}
	}
	out[o] = '\0';
	return DNS_OK;
}

/* Dotted text to an uncompressed wire name in w[WIRE_MAX]; returns the
 * length or -DNS_E_NAME. */
static int text_wire(const char *s, uint8_t *w)
{
	size_t wl = 0, n;

	if (s[0] == '.' && s[1] == '\0') {
		w[0] = 0;
		return 1;
	}
	while (*s != '\0') {
		for (n = 0; n <= LABEL_MAX && text_ok((unsigned char)s[n]); n++)
			;
		if (n == 0 || n > LABEL_MAX || (s[n] != '.' && s[n] != '\0')
			|| wl + n + 2 > WIRE_MAX)
			return -DNS_E_NAME;
		w[wl] = (uint8_t)n;
		memcpy(w + wl + 1, s, n);
		wl += n + 1;
		s += n;
		if (*s == '.')
			s++;
	}
	if (wl == 0)
		return -DNS_E_NAME;
	w[wl++] = 0;
	return (int)wl;
}

/* see dns.h */
dns_status_t dns_query_encode(uint8_t *buf, size_t cap, size_t *len,
	uint16_t id, const char *name, uint16_t qtype, unsigned flags)
{
	uint8_t w[WIRE_MAX], *p;
	size_t n, edns = flags & DNS_QUERY_EDNS0 ? 11 : 0;
	int wl;

	if (buf == NULL || len == NULL || name == NULL
		|| (flags & ~DNS_QUERY_EDNS0) != 0
		|| (qtype != DNS_TYPE_A && qtype != DNS_TYPE_AAAA
			&& qtype != DNS_TYPE_SRV))
		return DNS_E_ARG;
	wl = text_wire(name, w);
	if (wl < 0)
		return (dns_status_t)-wl;
	n = HDR + (size_t)wl + 4 + edns;
	if (n > cap)
		return DNS_E_SPACE;
	memset(buf, 0, n);
	put16(buf, id);
	buf[2] = 0x01;                  /* RD; QR, opcode, AA, TC clear */
	buf[5] = 1;                     /* QDCOUNT */
	buf[11] = edns ? 1 : 0;         /* ARCOUNT */
	p = buf + HDR;
	memcpy(p, w, (size_t)wl);
	p += wl;
	put16(p, qtype);
	put16(p + 2, DNS_CLASS_IN);
	if (edns) {
		/* root owner, TYPE OPT, CLASS = payload size, TTL (extended
		 * RCODE, version 0, flags) = 0, RDLENGTH 0 */
		put16(p + 5, DNS_TYPE_OPT);
		put16(p + 7, DNS_EDNS_PAYLOAD);
	}
	*len = n;
	return DNS_OK;
}

/* The one question at msg[HDR]: its name into w, type and class. */
static dns_status_t question(const uint8_t *msg, size_t len, uint8_t *w,
	int *wl, unsigned *tc, size_t *next)
{
	size_t p = 0;

	*wl = expand(msg, len, HDR, w, &p);
	if (*wl < 0)
		return (dns_status_t)-*wl;
	if (len - p < 4)
		return DNS_E_SHORT;
	*tc = get16(msg + p) << 16 | get16(msg + p + 2);
	*next = p + 4;
	return DNS_OK;
}

/* see dns.h */
dns_status_t dns_response_check(dns_msg_t *m, const uint8_t *resp,
	size_t rlen, const uint8_t *query, size_t qlen)
{
	uint8_t qw[WIRE_MAX], rw[WIRE_MAX];
	int qwl = 0, rwl = 0;
	unsigned qtc = 0, rtc = 0;
	size_t p = 0;
	dns_status_t st;

	if (m == NULL)
		return DNS_E_ARG;
	memset(m, 0, sizeof *m);
	m->err = DNS_E_ARG;
	if (resp == NULL || query == NULL || qlen < HDR
		|| get16(query + 4) != 1
		|| question(query, qlen, qw, &qwl, &qtc, &p) != DNS_OK)
		return DNS_E_ARG;
	st = DNS_E_SHORT;
	if (rlen < HDR)
		goto out;
	st = DNS_E_ID;
	if (get16(resp) != get16(query))
		goto out;
	st = DNS_E_HEADER;
	if (!(resp[2] & 0x80) || ((resp[2] ^ query[2]) & 0x78) != 0)
		goto out;
	st = DNS_E_QUESTION;
	if (get16(resp + 4) != 1)
		goto out;
	st = question(resp, rlen, rw, &rwl, &rtc, &p);
	if (st != DNS_OK)
		goto out;
	st = DNS_E_QUESTION;
	if (rwl != qwl || rtc != qtc)
		goto out;
	/* label length octets are < 'A', so lowering them is harmless */
	if (!same_nocase(rw, qw, (size_t)rwl))
		goto out;
	m->buf = resp;
	m->len = rlen;
	m->id = (uint16_t)get16(resp);
	m->aa = resp[2] >> 2 & 1;
	m->tc = resp[2] >> 1 & 1;
	m->ra = resp[3] >> 7;
	m->rcode = resp[3] & 0x0f;
	m->ancount = (uint16_t)get16(resp + 6);
	m->nscount = (uint16_t)get16(resp + 8);
	m->arcount = (uint16_t)get16(resp + 10);
	m->pos = p;
	st = DNS_OK;
out:
	m->err = st;
	return st;
}

/* A name filling RDATA exactly: its in-place part must end at rdata's end. */
static dns_status_t rdata_name(const uint8_t *msg, size_t off, size_t end,
	uint8_t *w, int *wl)
{
	size_t next;
	int n = expand(msg, end, off, w, &next);

	if (n < 0)
		return n == -DNS_E_SHORT ? DNS_E_RDATA : (dns_status_t)-n;
	if (next != end)
		return DNS_E_RDATA;
	if (wl != NULL)
		*wl = n;
	return DNS_OK;
}

/* see dns.h */
dns_status_t dns_rr_next(dns_msg_t *m, dns_rr_t *rr)
{
	const uint8_t *b;
	size_t p, rd;
	unsigned type, rdlen;
	uint32_t ttl;
	int n;
	dns_status_t st = DNS_OK;

	if (m == NULL || rr == NULL)
		return DNS_E_ARG;
	if (m->err != DNS_OK)
		return m->err;
	if (m->idx >= (uint32_t)m->ancount + m->nscount + m->arcount)
		return m->err = DNS_END;
	b = m->buf;
	n = expand(b, m->len, m->pos, NULL, &p);
	if (n < 0)
		return m->err = (dns_status_t)-n;
	if (m->len - p < 10)
		return m->err = DNS_E_SHORT;
	type = get16(b + p);
	rdlen = get16(b + p + 8);
	rd = p + 10;
	if (rdlen > m->len - rd)
		return m->err = DNS_E_SHORT;
	switch (type) {
	case DNS_TYPE_A:
		st = rdlen == 4 ? DNS_OK : DNS_E_RDATA;
		break;
	case DNS_TYPE_AAAA:
		st = rdlen == 16 ? DNS_OK : DNS_E_RDATA;
		break;
	case DNS_TYPE_SRV:
		st = rdlen < 7 ? DNS_E_RDATA
			: rdata_name(b, rd + 6, rd + rdlen, NULL, NULL);
		break;
	case DNS_TYPE_CNAME:
		st = rdata_name(b, rd, rd + rdlen, NULL, NULL);
		break;
	}
	if (st != DNS_OK)
		return m->err = st;
	ttl = (uint32_t)get16(b + p + 4) << 16 | get16(b + p + 6);
	rr->section = m->idx < m->ancount ? DNS_SEC_ANSWER
		: m->idx < (uint32_t)m->ancount + m->nscount ? DNS_SEC_AUTHORITY
		: DNS_SEC_ADDITIONAL;
	rr->type = (uint16_t)type;
	rr->rclass = (uint16_t)get16(b + p + 2);
	rr->ttl = ttl >> 31 ? 0 : ttl;   /* RFC 2181 s8 */
	rr->rdlength = (uint16_t)rdlen;
	rr->name_off = m->pos;
	rr->rdata_off = rd;
	m->pos = rd + rdlen;
	m->idx++;
	return DNS_OK;
}

/* out is given, rr really lies in m, and is an IN record of type t (0: any). */
static dns_status_t rr_ok(const dns_msg_t *m, const dns_rr_t *rr,
	const void *out, unsigned t)
{
	if (m == NULL || rr == NULL || out == NULL || m->buf == NULL
		|| rr->rdata_off > m->len
		|| rr->rdlength > m->len - rr->rdata_off
		|| rr->name_off >= rr->rdata_off)
		return DNS_E_ARG;
	if (t != 0 && (rr->type != t || rr->rclass != DNS_CLASS_IN))
		return DNS_E_TYPE;
	return DNS_OK;
}

/* see dns.h */
dns_status_t dns_rr_owner(const dns_msg_t *m, const dns_rr_t *rr,
	char *out, size_t cap)
{
	uint8_t w[WIRE_MAX];
	size_t next;
	int n;
	dns_status_t st = rr_ok(m, rr, out, 0);

	if (st != DNS_OK)
		return st;
	n = expand(m->buf, rr->rdata_off, rr->name_off, w, &next);
	if (n < 0)
		return (dns_status_t)-n;
	return wire_text(w, (size_t)n, out, cap);
}

/* see dns.h */
dns_status_t dns_rr_addr(const dns_msg_t *m, const dns_rr_t *rr,
	dns_addr_t *out)
{
	unsigned n = rr != NULL && rr->type == DNS_TYPE_A ? 4 : 16;
	dns_status_t st = rr_ok(m, rr, out, n == 4 ? DNS_TYPE_A : DNS_TYPE_AAAA);

	if (st != DNS_OK)
		return st;
	if (rr->rdlength != n)
		return DNS_E_RDATA;
	memset(out, 0, sizeof *out);
	out->type = rr->type;
	out->len = (uint8_t)n;
	memcpy(out->addr, m->buf + rr->rdata_off, n);
	out->ttl = rr->ttl;
	return DNS_OK;
}

/* The name filling rr's RDATA from offset skip on, as text. */
static dns_status_t rdata_text(const dns_msg_t *m, const dns_rr_t *rr,
	size_t skip, char *out, size_t cap)
{
	uint8_t w[WIRE_MAX];
	int n = 0;
	dns_status_t st;

	if (rr->rdlength <= skip)
		return DNS_E_RDATA;
	st = rdata_name(m->buf, rr->rdata_off + skip,
		rr->rdata_off + rr->rdlength, w, &n);
	return st != DNS_OK ? st : wire_text(w, (size_t)n, out, cap);
}

/* see dns.h */
dns_status_t dns_rr_cname(const dns_msg_t *m, const dns_rr_t *rr,
	char *out, size_t cap)
{
	dns_status_t st = rr_ok(m, rr, out, DNS_TYPE_CNAME);

	return st != DNS_OK ? st : rdata_text(m, rr, 0, out, cap);
}

/* see dns.h */
dns_status_t dns_rr_srv(const dns_msg_t *m, const dns_rr_t *rr,
	dns_srv_t *out)
{
	const uint8_t *d;
	dns_status_t st = rr_ok(m, rr, out, DNS_TYPE_SRV);

	if (st != DNS_OK)
		return st;
	memset(out, 0, sizeof *out);
	st = rdata_text(m, rr, 6, out->target, sizeof out->target);
	if (st != DNS_OK) {
		out->target[0] = '\0';
		return st;
	}
	d = m->buf + rr->rdata_off;
	out->priority = (uint16_t)get16(d);
	out->weight = (uint16_t)get16(d + 2);
	out->port = (uint16_t)get16(d + 4);
	out->ttl = rr->ttl;
	return DNS_OK;
}

/* see dns.h */
dns_status_t dns_srv_order(const dns_srv_t *srv, size_t n, dns_rand_fn rnd,
	void *ctx, size_t *order, size_t *count)
{
	size_t k = 0, i, j, s, e, pick;
	unsigned key;
	uint64_t sum, run, r;

	if (count == NULL)
		return DNS_E_ARG;
	*count = 0;
	if (n > 65535 || (n != 0 && (srv == NULL || order == NULL || rnd == NULL)))
		return DNS_E_ARG;
	/* drop "." targets; stable insertion sort by priority, and within a
	 * priority weight-0 records first (RFC 2782, "Usage rules") */
	for (i = 0; i < n; i++) {
		if (strcmp(srv[i].target, ".") == 0)
			continue;
		key = (unsigned)srv[i].priority << 1 | (srv[i].weight != 0);
		for (j = k; j > 0; j--) {
			const dns_srv_t *o = &srv[order[j - 1]];
			if (((unsigned)o->priority << 1 | (o->weight != 0)) <= key)
				break;
			order[j] = order[j - 1];
		}
		order[j] = i;
		k++;
	}
	if (k == 0)
		return n != 0 ? DNS_NO_SERVICE : DNS_OK;
	for (s = 0; s < k; s = e) {
		for (e = s + 1; e < k && srv[order[e]].priority == srv[order[s]].priority; e++)
			;
		/* order[s..e) is one priority; fill its positions i in turn */
		for (i = s; i + 1 < e; i++) {
			sum = 0;
			for (j = i; j < e; j++)
				sum += srv[order[j]].weight;
			/* uniform in [0, sum]; sum + 1 <= 2^32 as n <= 65535 */
			r = (uint64_t)rnd(ctx) * (sum + 1) >> 32;
			run = 0;
			for (j = i; j + 1 < e; j++) {
				run += srv[order[j]].weight;
				if (run >= r)
					break;
			}
			/* remove order[j], keeping the rest in place (weight-0
			 * records stay first), and append it to the result */
			pick = order[j];
			memmove(order + i + 1, order + i, (j - i) * sizeof *order);
			order[i] = pick;
		}
	}
	*count = k;
	return DNS_OK;
}

/* see dns.h */
int dns_name_equal(const char *a, const char *b)
{
	size_t la, lb;

	if (a == NULL || b == NULL)
		return 0;
	la = strlen(a);
	lb = strlen(b);
	la -= la > 1 && a[la - 1] == '.';
	lb -= lb > 1 && b[lb - 1] == '.';
	return la == lb && same_nocase((const uint8_t *)a, (const uint8_t *)b, la);
}

/* see dns.h */
const char *dns_strerror(dns_status_t st)
{
	/* in dns_status_t order, NUL-separated */
	const char *s = "success\0no more records\0service not offered (SRV target \".\")\0"
		"invalid argument\0name not representable\0buffer too small\0"
		"message truncated\0bad compression pointer\0malformed name\0"
		"RDATA does not fit its type\0response ID does not match\0"
		"not a response to a query\0question does not match\0"
		"record of another type";
	unsigned n = (unsigned)st;

	if (n > DNS_E_TYPE)
		return "unknown DNS status";
	while (n-- > 0)
		s += strlen(s) + 1;
	return s;
}
