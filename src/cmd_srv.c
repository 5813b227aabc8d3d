/* cmd_srv.c -- `dmqtt srv NAME`: the SRV records of NAME in the order a
 * client tries them, each with its target's addresses. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "platform/clock.h"
#include "src/cli.h"
#include "src/commands.h"
#include "src/resolv.h"
#include "platform/fmt.h"

enum { O_SERVER = 1, O_JSON, O_TIMEOUT, O_HELP };

static const struct cli_opt srv_opts[] = {
	{ "server", 0, CLI_ARG, O_SERVER }, { "json", 0, CLI_NOARG, O_JSON },
	{ "timeout", 0, CLI_ARG, O_TIMEOUT }, { "help", 0, CLI_NOARG, O_HELP },
};

struct srvcmd {
	const char *server;
	bool json;
	long timeout_ms;
};

static int on_opt(void *ctx, int id, const char *arg)
{
	struct srvcmd *s = ctx;
	switch (id) {
	case O_SERVER: s->server = arg; return 0;
	case O_JSON: s->json = true; return 0;
	case O_TIMEOUT:
		if (cli_long(arg, 100, 600000, &s->timeout_ms) != 0)
			return cli_usage_error("srv", "--timeout needs milliseconds 100-600000");
		return 0;
	case O_HELP:
		fmt_printf("usage: dmqtt srv NAME [--server IP[:PORT][,IP[:PORT]...]] [--json] [--timeout MS]\n"
			"  prints the SRV records of NAME in the order a client tries them\n"
			"  (RFC 2782), each with its target's addresses.  Exit 0 found, 1 no\n"
			"  such service, 69 no server gave a usable answer.\n");
		return -1;
	}
	return 0;
}

static void addr_ip(const net_addr_t *a, char *buf, size_t cap)
{
	if (a->ss.ss_family == AF_INET)
		fmt_inet((const unsigned char *)&((const struct sockaddr_in *)(const void *)&a->ss)->sin_addr, 4, buf, cap);
	else
		fmt_inet(((const struct sockaddr_in6 *)(const void *)&a->ss)->sin6_addr.s6_addr, 16, buf, cap);
}

int cmd_srv(int argc, char **argv)
{
	struct srvcmd s = { NULL, false, 0 };
	resolv_conf_t rc;
	resolv_t *r;
	resolv_status_t st;
	const resolv_target_t *t;
	char *pos[1], err[160], ip[64];
	int npos, n, rv;

	rv = cli_parse(argc, argv, srv_opts, sizeof srv_opts / sizeof srv_opts[0], on_opt, &s, pos, 1, &npos);
	if (rv != 0)
		return rv < 0 ? EXIT_OK : rv;
	if (npos != 1)
		return cli_usage_error("srv", "missing NAME (e.g. _dmqtt._tcp.service.veeamesh.local)");
	if (resolv_conf_default(&rc, err, sizeof err) != 0) {
		fmt_fprintf(stderr, "dmqtt srv: %s\n", err);
		return EXIT_CONFIG;
	}
	if (s.server != NULL && resolv_conf_server(&rc, s.server) != 0)
		return cli_usage_error("srv", "--server needs IP[:PORT]");
	if (s.timeout_ms > 0)
		rc.total_ms = (int)s.timeout_ms;
	r = resolv_start(&rc, RESOLV_SRV, pos[0], 0, clock_mono_ms());
	if (r == NULL) {
		fmt_fprintf(stderr, "dmqtt srv: out of memory\n");
		return EXIT_UNAVAILABLE;
	}
	st = resolv_wait(r);
	if (st != RESOLV_OK) {
		const char *d = resolv_detail(r);
		fmt_fprintf(stderr, "dmqtt srv: %s: %s%s%s\n", pos[0], resolv_strerror(st),
			d[0] != '\0' ? " -- " : "", d);
		resolv_free(r);
		return (st == RESOLV_NXDOMAIN || st == RESOLV_NODATA || st == RESOLV_NO_SERVICE) ?
			EXIT_NEGATIVE : st == RESOLV_ERROR ? EXIT_USAGE : EXIT_UNAVAILABLE;
	}
	n = resolv_targets(r, &t);
	if (s.json)
		fputc('[', stdout);
	for (int i = 0; i < n; i++) {
		if (s.json) {
			fmt_printf("%s{\"priority\":%u,\"weight\":%u,\"port\":%u,\"target\":\"%s\",\"ttl\":%u,\"addresses\":[",
				i > 0 ? "," : "", t[i].srv.priority, t[i].srv.weight, t[i].srv.port,
				t[i].srv.target, t[i].srv.ttl);
			for (int k = 0; k < t[i].naddrs; k++) {
				addr_ip(&t[i].addrs[k], ip, sizeof ip);
				fmt_printf("%s\"%s\"", k > 0 ? "," : "", ip);
			}
			fputs("]}", stdout);
		} else {
			fmt_printf("%u %u %u %s", t[i].srv.priority, t[i].srv.weight, t[i].srv.port, t[i].srv.target);
			for (int k = 0; k < t[i].naddrs; k++) {
				addr_ip(&t[i].addrs[k], ip, sizeof ip);
				fmt_printf(" %s", ip);
			}
			if (t[i].naddrs == 0)
				fputs(" (no address)", stdout);
			fputc('\n', stdout);
		}
	}
	if (s.json)
		fputs("]\n", stdout);
	resolv_free(r);
	return EXIT_OK;
}
