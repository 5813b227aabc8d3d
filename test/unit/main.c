/* main.c -- runs every registered unit suite; see unit.h. */
#include "unit.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static struct unit_suite *suites;
static jmp_buf unit_jmp;
static const char *cur_suite, *cur_case;

void unit_register(struct unit_suite *s)
{
	/* keep registration order stable: append */
	struct unit_suite **p = &suites;
	while (*p != NULL)
		p = &(*p)->next;
	s->next = NULL;
	*p = s;
}

void unit_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "FAIL %s.%s: %s:%d: ", cur_suite, cur_case, file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	longjmp(unit_jmp, 1);
}

static void dump(const char *label, const unsigned char *p, size_t n, size_t mark)
{
	fprintf(stderr, "  %s (%zu bytes):", label, n);
	for (size_t i = 0; i < n && i < 256; i++) {
		if (i % 16 == 0)
			fprintf(stderr, "\n    %04zx ", i);
		fprintf(stderr, i == mark ? "[%02x]" : " %02x", p[i]);
	}
	if (n > 256)
		fprintf(stderr, "\n    ...");
	fputc('\n', stderr);
}

void unit_fail_mem(const char *file, int line, const char *what,
	const void *got, size_t gotlen, const void *want, size_t wantlen)
{
	const unsigned char *g = got, *w = want;
	size_t i = 0;
	while (i < gotlen && i < wantlen && g[i] == w[i])
		i++;
	fprintf(stderr, "FAIL %s.%s: %s:%d: %s differs at offset %zu\n",
		cur_suite, cur_case, file, line, what, i);
	dump("got", g, gotlen, i);
	dump("want", w, wantlen, i);
	longjmp(unit_jmp, 1);
}

const char *unit_data_dir(void)
{
	const char *d = getenv("UNIT_DATA");
	return d != NULL ? d : "test/data";
}

/* 1 when the case passed; its own frame holds nothing live across longjmp */
static int run_case(const struct unit_case *c)
{
	if (setjmp(unit_jmp) != 0)
		return 0;
	c->fn();
	return 1;
}

int main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	unsigned passed = 0, failed = 0;
	char full[256];

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (struct unit_suite *s = suites; s != NULL; s = s->next) {
		for (size_t i = 0; i < s->ncases; i++) {
			snprintf(full, sizeof full, "%s.%s", s->name, s->cases[i].name);
			if (filter != NULL && strstr(full, filter) == NULL)
				continue;
			cur_suite = s->name;
			cur_case = s->cases[i].name;
			if (run_case(&s->cases[i]))
				passed++;
			else
				failed++;
		}
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed == 0 && passed > 0 ? 0 : 1;
}
