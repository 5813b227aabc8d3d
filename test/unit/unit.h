/*
 * unit.h -- the project's tiny unit-test runner.
 *
 * A test file defines cases as `static void name(void)` and lists them once:
 *
 *     static void json_empty(void) { CHECK(json_parse(...) == JSON_ERR_EMPTY); }
 *     UNIT_SUITE(json, UNIT_CASE(json_empty), UNIT_CASE(json_nested))
 *
 * The suite registers itself before main() runs (a constructor), so adding a
 * file to test/unit/ is all it takes.  A failed CHECK prints the file, line
 * and expression (plus a hex dump for CHECK_MEM) and abandons that case only;
 * the other cases still run.  The runner's last line is `N passed, N failed`.
 *
 * Usage: unit [SUBSTRING]   runs the cases whose "suite.case" name contains
 * SUBSTRING (all when absent).  Exit status 0 when nothing failed.
 */
#ifndef DMQTT_UNIT_H
#define DMQTT_UNIT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct unit_case {
	const char *name;
	void (*fn)(void);
};

struct unit_suite {
	const char *name;
	const struct unit_case *cases;
	size_t ncases;
	struct unit_suite *next;
};

void unit_register(struct unit_suite *s);
/* Record a failure and leave the current case (does not return). */
_Noreturn void unit_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Hex dump of two buffers, marking the first difference. */
_Noreturn void unit_fail_mem(const char *file, int line, const char *what,
	const void *got, size_t gotlen, const void *want, size_t wantlen);
/* Directory holding test data files (env UNIT_DATA, default "test/data"). */
const char *unit_data_dir(void);

#define UNIT_CASE(fn) { #fn, fn }

#define UNIT_SUITE(sname, ...)                                               \
	static const struct unit_case sname##_unit_cases[] = { __VA_ARGS__ }; \
	static struct unit_suite sname##_unit_suite = { #sname,               \
		sname##_unit_cases,                                               \
		sizeof sname##_unit_cases / sizeof sname##_unit_cases[0], NULL }; \
	__attribute__((constructor)) static void sname##_unit_register(void) \
	{ unit_register(&sname##_unit_suite); }

#define CHECK(cond) do { if (!(cond)) \
	unit_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); } while (0)

#define CHECK_INT(got, want) do { long long g_ = (long long)(got), \
	w_ = (long long)(want); if (g_ != w_) unit_fail(__FILE__, __LINE__, \
	"%s == %lld, expected %s == %lld", #got, g_, #want, w_); } while (0)

#define CHECK_STR(got, want) do { const char *g_ = (got), *w_ = (want); \
	if (g_ == NULL || strcmp(g_, w_) != 0) unit_fail(__FILE__, __LINE__, \
	"%s == \"%s\", expected \"%s\"", #got, g_ ? g_ : "(null)", w_); } while (0)

#define CHECK_MEM(got, gotlen, want, wantlen) do { \
	size_t gl_ = (size_t)(gotlen), wl_ = (size_t)(wantlen); \
	if (gl_ != wl_ || memcmp((got), (want), gl_) != 0) \
		unit_fail_mem(__FILE__, __LINE__, #got, (got), gl_, (want), wl_); \
	} while (0)

#endif
