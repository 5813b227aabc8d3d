/*
 * tls_cmd.c -- `dmqtt tls check HOST[:PORT] --cafile FILE [--cert FILE
 * --key FILE] [--tls-server-name NAME] [--timeout MS]`: connect, complete
 * a TLS handshake with full verification, report, close.  An operator's
 * diagnostic; it sends no application data at all.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "platform/clock.h"
#include "platform/net.h"
#include "src/cli.h"
#include "src/commands.h"
#include "src/tlsconf.h"
#include "platform/fmt.h"

#define TLS_CHECK_PORT 8883
#define TLS_CHECK_TIMEOUT_MS 10000

enum { O_CAFILE = 1, O_CERT, O_KEY, O_NAME, O_TIMEOUT, O_HELP };

static const struct cli_opt opts[] = {
	{ "cafile", 0, CLI_ARG, O_CAFILE },
	{ "cert", 0, CLI_ARG, O_CERT },
	{ "key", 0, CLI_ARG, O_KEY },
	{ "tls-server-name", 0, CLI_ARG, O_NAME },
	{ "timeout", 0, CLI_ARG, O_TIMEOUT },
	{ "help", 0, CLI_NOARG, O_HELP },
};

struct args {
	tlsconf_opts_t tls;
	long timeout_ms;
	int help;
};

static int on_opt(void *ctx, int id, const char *arg)
{
	struct args *a = ctx;
	switch (id) {
	case O_CAFILE: a->tls.cafile = arg; return 0;
	case O_CERT: a->tls.cert = arg; return 0;
	case O_KEY: a->tls.key = arg; return 0;
	case O_NAME: a->tls.server_name = arg; return 0;
	case O_HELP: a->help = 1; return 0;
	case O_TIMEOUT:
		if (cli_long(arg, 1, 3600000, &a->timeout_ms) != 0)
			return cli_usage_error("tls", "--timeout wants milliseconds (1..3600000)");
		return 0;
	default:
		return EXIT_USAGE;
	}
}

static int ms_left(uint64_t deadline)
{
	uint64_t now = clock_mono_ms();
	return now >= deadline ? 0 : (int)(deadline - now);
}

static void drop_fd(int fd)
{
	net_tcp_t t;
	io_transport_t io;
	net_tcp_transport(&t, fd, &io);
	io.close(io.ctx);
}

/* Connect to one of addrs before the deadline: the fd, or -1 with why
 * (*timed_out set when the deadline passed). */
static int connect_any(const net_addr_t *addrs, int n, uint64_t deadline,
	char *why, size_t cap, int *timed_out)
{
	char a[NET_ADDR_STRLEN];

	*timed_out = 0;
	fmt_snprintf(why, cap, "no address");
	for (int i = 0; i < n; i++) {
		struct pollfd p;
		int r = 0, fd = net_tcp_connect(&addrs[i]);

		net_addr_format(&addrs[i], a, sizeof a);
		if (fd < 0) {
			fmt_snprintf(why, cap, "cannot connect to %s: %s", a, strerror(-fd));
			continue;
		}
		while (r == 0 && ms_left(deadline) > 0) {
			p.fd = fd;
			p.events = POLLOUT;
			p.revents = 0;
			r = net_poll(&p, 1, ms_left(deadline));
		}
		if (r <= 0) {
			drop_fd(fd);
			fmt_snprintf(why, cap, "timed out connecting to %s", a);
			*timed_out = 1;
			return -1;
		}
		r = net_connect_result(fd);
		if (r != 0) {
			drop_fd(fd);
			fmt_snprintf(why, cap, "cannot connect to %s: %s", a, strerror(-r));
			continue;
		}
		return fd;
	}
	return -1;
}

/* Drive the handshake until done, failed or the deadline: 1, <0 IO_E*. */
static int handshake(tls_client_t *c, const io_transport_t *io, int fd, uint64_t deadline)
{
	for (;;) {
		struct pollfd p;
		int ev, r = tls_handshake(c);
		if (r != 0)
			return r;
		if (ms_left(deadline) == 0)
			return IO_ETIMEOUT;
		ev = io->events(io->ctx, 0);
		p.fd = fd;
		p.events = (short)(((ev & IO_WANT_READ) ? POLLIN : 0) |
			((ev & IO_WANT_WRITE) ? POLLOUT : 0));
		p.revents = 0;
		if (net_poll(&p, 1, ms_left(deadline)) < 0)
			return IO_ERR;
	}
}

static int usage(void)
{
	fmt_printf("usage: dmqtt tls check HOST[:PORT] --cafile FILE [--cert FILE --key FILE]\n"
		"                      [--tls-server-name NAME] [--timeout MS]\n"
		"  Connect (default port %d), complete a TLS 1.2 handshake with full\n"
		"  verification of the server, print \"ok: TLS1.2 SUITE server=NAME\", close.\n"
		"  Sends no application data.\n"
		"  --cafile FILE            CA certificate(s) the server's chain must lead to\n"
		"  --cert FILE --key FILE   client certificate (chain) and key for mutual TLS\n"
		"  --tls-server-name NAME   name to verify (needed when HOST is an IP address)\n"
		"  --timeout MS             for the TCP connect and the handshake (default %d)\n"
		"  exit: 0 ok, 64 usage, 65 bad file content, 66 unreadable file,\n"
		"        69 unreachable or timed out, 76 peer not speaking TLS properly,\n"
		"        77 certificate or authentication refused\n",
		TLS_CHECK_PORT, TLS_CHECK_TIMEOUT_MS);
	return fflush(stdout) == 0 ? EXIT_OK : 74;
}

int cmd_tls(int argc, char **argv)
{
	struct args a;
	char *pos[1], host[256], why[320], safe[96];
	net_addr_t addrs[8];
	uint16_t port = TLS_CHECK_PORT;
	uint64_t deadline;
	tlsconf_t *t;
	tls_client_t *c;
	io_transport_t io;
	net_tcp_t tcp;
	io_transport_t tcp_io;
	int npos, n, fd, rc, timed_out;

	if (argc < 2 || strcmp(argv[1], "check") != 0) {
		if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
			return usage();
		return cli_usage_error("tls", argc < 2 ? "missing subcommand (check)" :
			"unknown subcommand '%s' (try check)", argc < 2 ? "" : cli_safe(argv[1], safe, sizeof safe));
	}
	memset(&a, 0, sizeof a);
	a.timeout_ms = TLS_CHECK_TIMEOUT_MS;
	argv[1] = argv[0]; /* parse "tls ARGS..." so messages name the command */
	rc = cli_parse(argc - 1, argv + 1, opts, sizeof opts / sizeof opts[0], on_opt, &a,
		pos, 1, &npos);
	if (rc != 0)
		return rc;
	if (a.help)
		return usage();
	if (npos != 1)
		return cli_usage_error("tls", "check wants one HOST[:PORT]");
	if (a.tls.cafile == NULL)
		return cli_usage_error("tls", "check needs --cafile FILE (the CA that signed the server's certificate)");
	if (net_split_hostport(pos[0], host, sizeof host, &port) != 0)
		return cli_usage_error("tls", "'%s' is not HOST[:PORT]", cli_safe(pos[0], safe, sizeof safe));

	t = tlsconf_new(&a.tls, host, why, sizeof why, &rc);
	if (t == NULL) {
		if (rc == EXIT_USAGE)
			return cli_usage_error("tls", "%s", why);
		fmt_fprintf(stderr, "dmqtt tls: %s\n", why);
		return rc;
	}
	deadline = clock_mono_ms() + (uint64_t)a.timeout_ms;
	n = net_resolve_local(host, port, NULL, addrs, 8);
	if (n <= 0) {
		fmt_fprintf(stderr, "dmqtt tls: cannot resolve %s (IP literals, localhost and /etc/hosts only)\n",
			cli_safe(host, safe, sizeof safe));
		tlsconf_free(t);
		return EXIT_UNAVAILABLE;
	}
	fd = connect_any(addrs, n, deadline, why, sizeof why, &timed_out);
	if (fd < 0) {
		fmt_fprintf(stderr, "dmqtt tls: %s\n", why);
		tlsconf_free(t);
		return EXIT_UNAVAILABLE;
	}
	net_tcp_transport(&tcp, fd, &tcp_io);
	if (tlsconf_wrap(t, &tcp_io, &io, why, sizeof why) != 0) {
		fmt_fprintf(stderr, "dmqtt tls: %s\n", why);
		tcp_io.close(tcp_io.ctx);
		tlsconf_free(t);
		return EXIT_UNAVAILABLE;
	}
	c = tlsconf_client(t);
	rc = handshake(c, &io, fd, deadline);
	if (rc == 1) {
		fmt_printf("ok: TLS%s %s server=%s\n", tls_version(c) == BR_TLS12 ? "1.2" : "?",
			tls_suite_name(tls_suite(c)), tlsconf_server_name(t));
		rc = fflush(stdout) == 0 ? EXIT_OK : 74;
	} else if (rc == IO_ETIMEOUT) {
		fmt_fprintf(stderr, "dmqtt tls: timed out after %ld ms during the TLS handshake with %s\n",
			a.timeout_ms, cli_safe(pos[0], safe, sizeof safe));
		rc = EXIT_UNAVAILABLE;
	} else if (tls_status(c) == TLS_E_IO || tls_status(c) == TLS_OK) {
		fmt_fprintf(stderr, "dmqtt tls: connection to %s lost during the TLS handshake\n",
			cli_safe(pos[0], safe, sizeof safe));
		rc = EXIT_UNAVAILABLE;
	} else {
		fmt_fprintf(stderr, "dmqtt tls: %s\n", tls_describe(c, why, sizeof why));
		rc = tlsconf_exit_code(t);
	}
	io.close(io.ctx);
	tlsconf_free(t);
	return rc;
}
