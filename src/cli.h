/*
 * cli.h -- what every subcommand shares: exit codes (sysexits, see
 * DESIGN.md "Conventions"), option parsing with options before or after
 * positional arguments, and safe echoing of user input in messages.
 */
#ifndef DMQTT_CLI_H
#define DMQTT_CLI_H

#include <stddef.h>

enum {
	EXIT_OK = 0,
	EXIT_NEGATIVE = 1,      /* nothing found, a remote command failed */
	EXIT_WAIT = 27,         /* -W wait expired */
	EXIT_USAGE = 64,
	EXIT_DATAERR = 65,      /* malformed data (JSON syntax) */
	EXIT_NOINPUT = 66,      /* input not readable */
	EXIT_UNAVAILABLE = 69,  /* unreachable, refused, timed out */
	EXIT_CANTCREAT = 73,    /* an output file cannot be created */
	EXIT_PROTOCOL = 76,     /* protocol error from a peer */
	EXIT_NOPERM = 77,       /* bad credentials, TLS refused */
	EXIT_CONFIG = 78
};

enum { CLI_NOARG = 0, CLI_ARG = 1 };

struct cli_opt {
	const char *lng;  /* "count" for --count, or NULL */
	char shrt;        /* 'C' for -C, or 0 */
	int has_arg;      /* CLI_NOARG or CLI_ARG */
	int id;           /* passed to the callback */
};

/*
 * Parse argv[1..argc) (argv[0] is the subcommand's name).  For each option
 * on_opt(ctx, id, arg) is called (arg NULL for flags); it returns 0 or an
 * exit code, which stops parsing.  Positional arguments are collected in
 * pos (at most maxpos, more is a usage error); "--" ends the options.
 * Accepts --name=value, --name value, -x value, -xvalue and bundled flags
 * (-vr).  On a usage error prints "dmqtt CMD: ..." and a usage hint to
 * stderr and returns EXIT_USAGE.  Returns 0 on success.
 */
int cli_parse(int argc, char **argv, const struct cli_opt *opts, size_t nopts,
	int (*on_opt)(void *ctx, int id, const char *arg), void *ctx,
	char **pos, int maxpos, int *npos);

/*
 * Copy s into buf for an error message: at most ~60 characters (longer
 * input ends in "..."), control characters and invalid UTF-8 shown as \xNN.
 * Returns buf.
 */
const char *cli_safe(const char *s, char *buf, size_t cap);

/* Print "dmqtt CMD: MESSAGE" and the "try 'dmqtt help CMD'" hint to
 * stderr; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Parse a decimal integer in [min, max]; 0 on success, -1 otherwise. */
int cli_long(const char *s, long min, long max, long *out);

#endif
