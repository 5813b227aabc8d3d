/* cli.c -- see cli.h */
#include "src/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/utf8.h"
#include "platform/fmt.h"

const char *cli_safe(const char *s, char *buf, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0, shown = 0;

	if (cap < 8) {
		if (cap > 0)
			buf[0] = '\0';
		return buf;
	}
	while (p[i] != '\0') {
		size_t k = p[i] >= 0x20 && p[i] < 0x7f ? 1 :
			utf8_decode(p + i, strlen(s + i), NULL);
		size_t need = (k == 0 || p[i] < 0x20 || p[i] == 0x7f) ? 4 : k;
		if (shown >= 60 || o + need + 4 > cap) {
			memcpy(buf + o, "...", 4);
			return buf;
		}
		if (need == 4 && (k <= 1)) { /* invalid byte or control char */
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[p[i] >> 4];
			buf[o++] = hex[p[i] & 15];
			i++;
		} else {
			memcpy(buf + o, p + i, k);
			o += k;
			i += k;
		}
		shown++;
	}
	buf[o] = '\0';
	return buf;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fmt_fprintf(stderr, "dmqtt %s: ", cmd);
	va_start(ap, fmt);
	fmt_vfprintf(stderr, fmt, ap);
	va_end(ap);
	fmt_fprintf(stderr, "\ntry 'dmqtt help %s'\n", cmd);
	return EXIT_USAGE;
}

int cli_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;
	if (*s == '\0' || (*s != '-' && (*s < '0' || *s > '9')))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static const struct cli_opt *find_long(const struct cli_opt *o, size_t n,
	const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (o[i].lng != NULL && strlen(o[i].lng) == len &&
		    memcmp(o[i].lng, name, len) == 0)
			return &o[i];
	return NULL;
}

static const struct cli_opt *find_short(const struct cli_opt *o, size_t n, char c)
{
	for (size_t i = 0; i < n; i++)
		if (o[i].shrt == c)
			return &o[i];
	return NULL;
}

int cli_parse(int argc, char **argv, const struct cli_opt *opts, size_t nopts,
	int (*on_opt)(void *ctx, int id, const char *arg), void *ctx,
	char **pos, int maxpos, int *npos)
{
	const char *cmd = argv[0];
	char safe[96];
	int only_pos = 0, r;

	*npos = 0;
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		if (only_pos || a[0] != '-' || a[1] == '\0') {
			if (*npos >= maxpos)
				return cli_usage_error(cmd, "unexpected argument '%s'",
					cli_safe(a, safe, sizeof safe));
			pos[(*npos)++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = 1;
			continue;
		}
		if (a[1] == '-') {
			const char *name = a + 2, *eq = strchr(name, '=');
			size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
			const struct cli_opt *o = find_long(opts, nopts, name, len);
			const char *arg = NULL;
			if (o == NULL)
				return cli_usage_error(cmd, "unknown option '%s'",
					cli_safe(a, safe, sizeof safe));
			if (o->has_arg) {
				if (eq != NULL)
					arg = eq + 1;
				else if (i + 1 < argc)
					arg = argv[++i];
				else
					return cli_usage_error(cmd, "option '--%s' needs a value", o->lng);
			} else if (eq != NULL) {
				return cli_usage_error(cmd, "option '--%s' takes no value", o->lng);
			}
			if ((r = on_opt(ctx, o->id, arg)) != 0)
				return r;
			continue;
		}
		for (const char *c = a + 1; *c != '\0'; c++) {
			const struct cli_opt *o = find_short(opts, nopts, *c);
			if (o == NULL) {
				char one[3] = { '-', *c, '\0' };
				return cli_usage_error(cmd, "unknown option '%s'",
					cli_safe(one, safe, sizeof safe));
			}
			if (o->has_arg) {
				const char *arg;
				if (c[1] != '\0')
					arg = c + 1;
				else if (i + 1 < argc)
					arg = argv[++i];
				else
					return cli_usage_error(cmd, "option '-%c' needs a value", *c);
				if ((r = on_opt(ctx, o->id, arg)) != 0)
					return r;
				break;
			}
			if ((r = on_opt(ctx, o->id, NULL)) != 0)
				return r;
		}
	}
	return 0;
}
