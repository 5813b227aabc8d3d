#include "unit.h"
#include "platform/fmt.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

/*
 * Every case is checked against the C library's snprintf with the same
 * arguments (glibc under the sanitizers, musl in the static builds), for
 * the length returned and for the text.
 */
#define SAME(...)                                                            \
	do {                                                                     \
		char ours_[256], libc_[256];                                         \
		int no_ = fmt_snprintf(ours_, sizeof ours_, __VA_ARGS__);            \
		int nl_ = snprintf(libc_, sizeof libc_, __VA_ARGS__);                \
		CHECK_STR(ours_, libc_);                                             \
		CHECK_INT(no_, nl_);                                                 \
	} while (0)

static void fmt_integers(void)
{
	SAME("%d %i %u", 0, -1, 0u);
	SAME("%d|%d", INT32_MAX, INT32_MIN);
	SAME("%ld %lu", -1234567890L, 4000000000UL);
	SAME("%lld %llu", (long long)INT64_MIN, (unsigned long long)UINT64_MAX);
	SAME("%zu %zu", (size_t)0, SIZE_MAX);
	SAME("%x %X %08x %02X %o", 0xdeadbeefu, 0xabcu, 0x1fu, 7u, 8u);
	SAME("%hhu %hd %hhd", (unsigned char)200, (short)-7000, (signed char)-12);
	SAME("%5d|%-5d|%05d|%-3d", 42, 42, -42, 7);
	SAME("%0*zu|%*d|%-*d", 6, (size_t)31, -4, 9, 3, 1);
	SAME("%.3d|%.0d|%5.2d|%.0u", 7, 0, -3, 0u);
	SAME("%02d:%02d:%02d %04d", 1, 2, 3, 2026);
	SAME("%02lu %6ld", 5UL, -77L);
	SAME("%jd %td", (intmax_t)-5, (ptrdiff_t)12);
}

static void fmt_strings(void)
{
	static const char part[4] = { 'a', 'b', 'c', 'd' }; /* no NUL */

	SAME("%s", "");
	SAME("[%s] [%10s] [%-10s] [%2s]", "x", "right", "left", "long");
	SAME("%.*s|%.2s|%.9s", 3, part, "hello", "hi");
	SAME("%-20s|%-4s|%7s|%6s", "C25DTADSR00000001134", "MEN", "1.5", "ok");
	SAME("%c%c%5c%-3c|", 'a', '\n', 'z', 'q');
	SAME("100%% %s%%", "done");
	SAME("no directives at all");
}

static void fmt_doubles(void)
{
	SAME("%.1f %.1f %.1f %.1f", 0.0, 1.25, 2.75, -0.05);
	SAME("%7.1f|%-7.1f|%07.1f", 3.14159, 2.5, -1.5);
	SAME("%f %.0f %.3f %.9f", 1.0 / 3, 0.5, 999.9995, 1e-9);
	SAME("%.2f %.2f", 123456789.125, 0.995);
	SAME("%.1f %.1f", 99.95, 9.96);
	SAME("%.3f", 123456789012.345);
	SAME("%f %f %5.1f", 1.0 / 0.0, -1.0 / 0.0, 0.0 / 0.0);
	SAME("%.1f", -0.0);
}

/* many values, every precision, exact ties included: as libc rounds them */
static void fmt_doubles_random(void)
{
	uint64_t x = 0x9e3779b97f4a7c15u;

	for (int i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int prec = (int)(x % 10);
		double v;
		switch (i % 4) {
		case 0: v = (double)(x >> 11) / (double)(1ull << 53) * 1000; break;
		case 1: v = (double)(x % 100000) / 8;  break;   /* exact ties */
		case 2: v = (double)(x % 1000003) / 1000; break;
		default: v = (double)(x >> 14) / 1024; break;  /* up to ~1e13 */
		}
		if (i & 8)
			v = -v;
		SAME("%.*f", prec, v);
	}
}

static void fmt_truncation(void)
{
	char b[8];

	CHECK_INT(fmt_snprintf(b, sizeof b, "%s", "0123456789"), 10);
	CHECK_STR(b, "0123456");
	CHECK_INT(fmt_snprintf(b, 1, "%d", 12345), 5);
	CHECK_STR(b, "");
	CHECK_INT(fmt_snprintf(NULL, 0, "%s-%d", "ab", 77), 5);
	b[0] = 'x';
	CHECK_INT(fmt_snprintf(b, 0, "abc"), 3);
	CHECK_INT(b[0], 'x'); /* cap 0: nothing written */
	CHECK_INT(fmt_snprintf(b, sizeof b, "%10d", 1), 10);
	CHECK_STR(b, "       ");
}

static void fmt_pointer(void)
{
	char b[32];
	int x;

	/* glibc and musl agree on "0x..." for non-null pointers */
	SAME("%p", (void *)&x);
	CHECK(fmt_snprintf(b, sizeof b, "%p", (void *)(uintptr_t)0x1234) == 6);
	CHECK_STR(b, "0x1234");
}

static void fmt_inet_cases(void)
{
	static const unsigned char lo6[16] = { [15] = 1 }, any6[16] = { 0 };
	static const unsigned char v4[4] = { 192, 168, 0, 255 };
	static const unsigned char mapped[16] = { [10] = 0xff, [11] = 0xff,
		[12] = 10, [13] = 0, [14] = 0, [15] = 1 };
	char b[FMT_INET_MAX], w[INET6_ADDRSTRLEN];
	uint64_t x = 88172645463325252u;

	CHECK_INT(fmt_inet(v4, 4, b, sizeof b), 13);
	CHECK_STR(b, "192.168.0.255");
	CHECK_INT(fmt_inet(lo6, 16, b, sizeof b), 3);
	CHECK_STR(b, "::1");
	CHECK_INT(fmt_inet(any6, 16, b, sizeof b), 2);
	CHECK_STR(b, "::");
	fmt_inet(mapped, 16, b, sizeof b);
	CHECK_STR(b, "::ffff:10.0.0.1");
	CHECK_INT(fmt_inet(v4, 4, b, 13), 0); /* no room for the NUL */
	CHECK_STR(b, "");
	CHECK_INT(fmt_inet(v4, 5, b, sizeof b), 0);

	/* two equally long zero runs: RFC 5952 shortens the first */
	static const unsigned char two[16] = { 0, 0, 0, 0, 0x5e, 0xe0, 0, 0, 0, 0,
		0x0f, 0x59, 0, 0x0a, 0, 0 };
	fmt_inet(two, 16, b, sizeof b);
	CHECK_STR(b, "::5ee0:0:0:f59:a:0");

	/*
	 * Random addresses rich in zero groups, against glibc's inet_ntop (the
	 * sanitizer build).  musl's differs from RFC 5952 in the case above (it
	 * counts a run's leading ':' and so prefers a later run), so the static
	 * builds check the fixed cases only.
	 */
#ifdef __GLIBC__
	for (int i = 0; i < 5000; i++) {
		unsigned char a[16];
		for (int k = 0; k < 8; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			unsigned v = (x >> 8) % 4 ? 0 : (unsigned)(x >> 20) & 0xffff;
			if ((x >> 40) % 7 == 0)
				v = (unsigned)(x >> 24) & 0xf;
			a[2 * k] = (unsigned char)(v >> 8);
			a[2 * k + 1] = (unsigned char)v;
		}
		static const unsigned char z12[12];
		if (memcmp(a, z12, 12) == 0)
			a[0] = 0x20; /* IPv4-compatible forms differ between libcs */
		CHECK(inet_ntop(AF_INET6, a, w, sizeof w) != NULL);
		CHECK_INT(fmt_inet(a, 16, b, sizeof b), strlen(w));
		CHECK_STR(b, w);
	}
#else
	(void)w;
	(void)x;
#endif
}

UNIT_SUITE(fmt, UNIT_CASE(fmt_integers), UNIT_CASE(fmt_strings),
	UNIT_CASE(fmt_doubles), UNIT_CASE(fmt_doubles_random),
	UNIT_CASE(fmt_truncation), UNIT_CASE(fmt_pointer),
	UNIT_CASE(fmt_inet_cases))
