/* log.c -- see log.h */
#include "platform/log.h"
#include "platform/clock.h"
#include "platform/fmt.h"

#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>

static enum log_level threshold = LOG_INFO;

void log_set_level(enum log_level level) { threshold = level; }
enum log_level log_get_level(void) { return threshold; }

int log_parse_level(const char *name)
{
	static const struct { const char *n; int l; } t[] = {
		{ "error", LOG_ERROR }, { "warn", LOG_WARN }, { "warning", LOG_WARN },
		{ "info", LOG_INFO }, { "debug", LOG_DEBUG },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (strcasecmp(name, t[i].n) == 0)
			return t[i].l;
	return -1;
}

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	char line[1024], stamp[32];
	va_list ap;
	int n, m;

	if (level > threshold)
		return;
	clock_iso8601(clock_wall_s(), stamp, sizeof stamp);
	n = fmt_snprintf(line, sizeof line, "%s %s %s: ", stamp, names[level], module);
	if (n < 0)
		return;
	va_start(ap, fmt);
	m = fmt_vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	if ((size_t)n + (size_t)m >= sizeof line - 1)
		n = (int)sizeof line - 2; /* truncated: keep room for the newline */
	else
		n += m;
	line[n++] = '\n';
	/* one write per line so concurrent processes do not interleave */
	fwrite(line, 1, (size_t)n, stderr);
	fflush(stderr);
}
