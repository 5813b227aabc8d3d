/* fmt.c -- see fmt.h */
#include "platform/fmt.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

typedef struct out {
	fmt_sink_fn sink;
	void *ctx;
	size_t total;
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
	if (n == 0)
		return;
	o->sink(o->ctx, s, n);
	o->total += n;
}

static void pad(out_t *o, char c, size_t n)
{
	static const char spaces[] = "                ";
	static const char zeros[] = "0000000000000000";
	const char *src = c == '0' ? zeros : spaces;

	while (n > 0) {
		size_t k = n < sizeof spaces - 1 ? n : sizeof spaces - 1;
		put(o, src, k);
		n -= k;
	}
}

/* one converted field: prefix (sign, "0x"), zeros, body, then justification */
static void field(out_t *o, int left, int zero, size_t width,
	const char *prefix, size_t zeros, const char *body, size_t len)
{
	size_t plen = strlen(prefix);
	size_t used = plen + zeros + len;
	size_t fill = width > used ? width - used : 0;

	if (!left && !zero)
		pad(o, ' ', fill);
	put(o, prefix, plen);
	if (!left && zero)
		pad(o, '0', fill);
	pad(o, '0', zeros);
	put(o, body, len);
	if (left)
		pad(o, ' ', fill);
}

/* digits of v in base, written backwards ending at end; returns the start */
static char *digits(char *end, uintmax_t v, unsigned base, int upper)
{
	const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	do {
		*--end = set[v % base];
		v /= base;
	} while (v != 0);
	return end;
}

static size_t read_num(const char **fp)
{
	size_t n = 0;

	while (**fp >= '0' && **fp <= '9') {
		if (n < 100000)
			n = n * 10 + (size_t)(**fp - '0');
		(*fp)++;
	}
	return n;
}

/*
 * a * b - p exactly, where p is a * b rounded (Dekker's product; needs
 * double arithmetic without contraction into fused multiply-adds, which
 * -std=c11 gives with gcc and clang).
 */
static double mul_err(double a, double b, double p)
{
	const double split = 134217729.0; /* 2^27 + 1 */
	double t, ah, al, bh, bl;

	t = split * a;
	ah = t - (t - a);
	al = a - ah;
	t = split * b;
	bh = t - (t - b);
	bl = b - bh;
	return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

static void fmt_double(out_t *o, double v, int left, int zero, size_t width,
	size_t prec)
{
	static const uint32_t pow10[] = { 1, 10, 100, 1000, 10000, 100000,
		1000000, 10000000, 100000000, 1000000000 };
	const char *sign = "";
	char ib[24], *ie = ib + sizeof ib, *ip, fb[10];
	uint64_t whole, frac = 0;
	size_t tens = 0, flen = 0, used, fill;

	uint64_t bits;

	memcpy(&bits, &v, sizeof bits);
	if (bits >> 63) { /* -0.0 and a NaN with the sign bit print their '-' */
		sign = "-";
		v = -v;
	}
	if (v != v) {
		field(o, left, 0, width, sign, 0, "nan", 3);
		return;
	}
	if (v > 1.7976931348623157e308) {
		field(o, left, 0, width, sign, 0, "inf", 3);
		return;
	}
	if (prec > 9)
		prec = 9;
	if (v >= 1e15) {
		/* beyond exact range: leading digits, zeros for the rest */
		while (v >= 1e15) {
			v /= 10;
			tens++;
		}
		whole = (uint64_t)v;
	} else {
		/* v < 1e15 and the fraction scaled by <= 1e9 both fit */
		double part, scaled, diff;
		whole = (uint64_t)v;
		part = v - (double)whole;         /* exact */
		scaled = part * pow10[prec];      /* < 1e9: its floor is exact */
		frac = (uint64_t)scaled;
		diff = scaled - (double)frac;     /* exact */
		/*
		 * printf rounds the exact binary value, ties to even.  The only
		 * case the rounded product cannot decide is a product of exactly
		 * .5: then the product's rounding error says which side the true
		 * value lies on.
		 */
		if (diff > 0.5 || (diff == 0.5 &&
			(mul_err(part, pow10[prec], scaled) > 0 ||
			(mul_err(part, pow10[prec], scaled) == 0 &&
			((prec > 0 ? frac : whole) & 1)))))
			frac++;
		if (frac >= pow10[prec]) { /* rounding carried into the integer */
			frac -= pow10[prec];
			whole++;
		}
	}
	ip = digits(ie, whole, 10, 0);
	if (prec > 0) {
		fb[0] = '.';
		for (size_t i = prec; i > 0; i--) {
			fb[i] = (char)('0' + frac % 10);
			frac /= 10;
		}
		flen = prec + 1;
	}
	used = strlen(sign) + (size_t)(ie - ip) + tens + flen;
	fill = width > used ? width - used : 0;
	if (!left && !zero)
		pad(o, ' ', fill);
	put(o, sign, strlen(sign));
	if (!left && zero)
		pad(o, '0', fill);
	put(o, ip, (size_t)(ie - ip));
	pad(o, '0', tens);
	put(o, fb, flen);
	if (left)
		pad(o, ' ', fill);
}

int fmt_vformat(fmt_sink_fn sink, void *ctx, const char *f, va_list ap)
{
	out_t o = { sink, ctx, 0 };

	while (*f) {
		const char *lit = f;
		while (*f && *f != '%')
			f++;
		put(&o, lit, (size_t)(f - lit));
		if (*f == '\0')
			break;

		const char *spec = f++;
		int left = 0, zero = 0, lng = 0;
		size_t width = 0, prec = 0;
		int has_prec = 0;

		for (;; f++) {
			if (*f == '-')
				left = 1;
			else if (*f == '0')
				zero = 1;
			else
				break;
		}
		if (*f == '*') {
			int w = va_arg(ap, int);
			if (w < 0) {
				left = 1;
				w = -w;
			}
			width = (size_t)w;
			f++;
		} else {
			width = read_num(&f);
		}
		if (*f == '.') {
			f++;
			has_prec = 1;
			if (*f == '*') {
				int p = va_arg(ap, int);
				if (p < 0)
					has_prec = 0;
				else
					prec = (size_t)p;
				f++;
			} else {
				prec = read_num(&f);
			}
		}
		/* lng: -2 hh, -1 h, 0 int, 1 long, 2 long long, 3 z, 4 j, 5 t */
		if (*f == 'h') {
			lng = -1;
			if (*++f == 'h') {
				lng = -2;
				f++;
			}
		} else if (*f == 'l') {
			lng = 1;
			if (*++f == 'l') {
				lng = 2;
				f++;
			}
		} else if (*f == 'z' || *f == 'j' || *f == 't') {
			lng = *f == 'z' ? 3 : *f == 'j' ? 4 : 5;
			f++;
		}

		char nb[3 * sizeof(uintmax_t) + 4], *ne = nb + sizeof nb, *np;
		uintmax_t u;
		unsigned base = 10;
		const char *prefix = "";
		char c = *f++;

		switch (c) {
		case '%':
			put(&o, "%", 1);
			continue;
		case 'c': {
			char ch = (char)va_arg(ap, int);
			field(&o, left, 0, width, "", 0, &ch, 1);
			continue;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);
			size_t len;
			if (s == NULL)
				s = "(null)";
			if (has_prec) {
				const char *z = memchr(s, '\0', prec);
				len = z ? (size_t)(z - s) : prec;
			} else {
				len = strlen(s);
			}
			field(&o, left, 0, width, "", 0, s, len);
			continue;
		}
		case 'f':
		case 'F':
			fmt_double(&o, va_arg(ap, double), left, zero, width,
				has_prec ? prec : 6);
			continue;
		case 'p':
			u = (uintptr_t)va_arg(ap, void *);
			np = digits(ne, u, 16, 0);
			field(&o, left, 0, width, "0x", 0, np, (size_t)(ne - np));
			continue;
		case 'd':
		case 'i': {
			intmax_t s;
			int t;
			switch (lng) {
			/*
			 * hh, h: the int argument cut to 8 or 16 bits, sign-extended
			 * (by comparison: gcc 12 -Os for Thumb-2 widened the xor/subtract
			 * idiom to 64 bits wrongly; fmt_integers caught it on armv7)
			 */
			case -2: t = va_arg(ap, int) & 0xff; s = t < 0x80 ? t : t - 0x100; break;
			case -1: t = va_arg(ap, int) & 0xffff; s = t < 0x8000 ? t : t - 0x10000; break;
			case 0: s = va_arg(ap, int); break;
			case 1: s = va_arg(ap, long); break;
			case 2: s = va_arg(ap, long long); break;
			/* the signed type of size_t's width */
			case 3: s = (ptrdiff_t)va_arg(ap, size_t); break;
			case 4: s = va_arg(ap, intmax_t); break;
			default: s = va_arg(ap, ptrdiff_t); break;
			}
			if (s < 0) {
				prefix = "-";
				u = (uintmax_t)0 - (uintmax_t)s;
			} else {
				u = (uintmax_t)s;
			}
			break;
		}
		case 'u':
		case 'x':
		case 'X':
		case 'o':
			switch (lng) {
			case -2: u = (unsigned char)va_arg(ap, unsigned); break;
			case -1: u = (unsigned short)va_arg(ap, unsigned); break;
			case 0: u = va_arg(ap, unsigned); break;
			case 1: u = va_arg(ap, unsigned long); break;
			case 2: u = va_arg(ap, unsigned long long); break;
			case 3: u = va_arg(ap, size_t); break;
			case 4: u = va_arg(ap, uintmax_t); break;
			default: u = (size_t)va_arg(ap, ptrdiff_t); break;
			}
			base = c == 'o' ? 8 : c == 'u' ? 10 : 16;
			break;
		default:
			/* not supported: show the directive rather than guess */
			if (c == '\0')
				f--;
			put(&o, spec, (size_t)(f - spec));
			continue;
		}
		if (has_prec && prec == 0 && u == 0) {
			np = ne; /* C: "%.0d" of 0 prints no digits */
		} else {
			np = digits(ne, u, base, c == 'X');
		}
		size_t len = (size_t)(ne - np);
		size_t zeros = has_prec && prec > len ? prec - len : 0;
		field(&o, left, zero && !has_prec, width, prefix, zeros, np, len);
	}
	return o.total > INT_MAX ? INT_MAX : (int)o.total;
}

typedef struct sbuf {
	char *p;
	size_t room; /* bytes left, the NUL's included */
} sbuf_t;

static void sbuf_sink(void *ctx, const char *s, size_t n)
{
	sbuf_t *b = ctx;
	size_t k;

	if (b->room <= 1)
		return;
	k = n < b->room - 1 ? n : b->room - 1;
	memcpy(b->p, s, k);
	b->p += k;
	b->room -= k;
}

int fmt_vsnprintf(char *buf, size_t cap, const char *f, va_list ap)
{
	sbuf_t b = { buf, cap };
	int n = fmt_vformat(sbuf_sink, &b, f, ap);

	if (cap > 0)
		*b.p = '\0';
	return n;
}

int fmt_snprintf(char *buf, size_t cap, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = fmt_vsnprintf(buf, cap, f, ap);
	va_end(ap);
	return n;
}

static void file_sink(void *ctx, const char *s, size_t n)
{
	fwrite(s, 1, n, (FILE *)ctx);
}

int fmt_vfprintf(FILE *f, const char *fmt, va_list ap)
{
	int n = fmt_vformat(file_sink, f, fmt, ap);

	return ferror(f) ? -1 : n;
}

int fmt_fprintf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vfprintf(f, fmt, ap);
	va_end(ap);
	return n;
}

int fmt_printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vfprintf(stdout, fmt, ap);
	va_end(ap);
	return n;
}

/* see fmt.h */
size_t fmt_inet(const unsigned char *a, size_t len, char *buf, size_t cap)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff };
	char tmp[FMT_INET_MAX];
	int n = -1;

	if (len == 4) {
		n = fmt_snprintf(tmp, sizeof tmp, "%u.%u.%u.%u", a[0], a[1], a[2],
			a[3]);
	} else if (len == 16 && memcmp(a, mapped, 12) == 0) {
		n = fmt_snprintf(tmp, sizeof tmp, "::ffff:%u.%u.%u.%u", a[12], a[13],
			a[14], a[15]);
	} else if (len == 16) {
		unsigned g[8];
		int best = -1, best_len = 1, i = 0;

		for (int k = 0; k < 8; k++)
			g[k] = (unsigned)a[2 * k] << 8 | a[2 * k + 1];
		while (i < 8) { /* the first longest run of zero groups, if >= 2 */
			int j = i;
			while (j < 8 && g[j] == 0)
				j++;
			if (j - i > best_len) {
				best = i;
				best_len = j - i;
			}
			i = j > i ? j : i + 1;
		}
		n = 0;
		for (int k = 0; k < 8; k++) {
			if (k == best) {
				tmp[n++] = ':';
				if (k == 0)
					tmp[n++] = ':';
				k += best_len - 1;
				continue;
			}
			n += fmt_snprintf(tmp + n, sizeof tmp - (size_t)n, "%x%s", g[k],
				k < 7 ? ":" : "");
		}
		tmp[n] = '\0';
	}
	if (n < 0 || (size_t)n >= cap) {
		if (cap > 0)
			buf[0] = '\0';
		return 0;
	}
	memcpy(buf, tmp, (size_t)n + 1);
	return (size_t)n;
}
