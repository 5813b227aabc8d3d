/*
 * dns_bench -- our resolver (src/resolv.c) beside c-ares, in one program,
 * against the same DNS server (dnsmasq on loopback, started by dns.sh).
 *
 *   dns_bench PORT N SRVNAME [QTYPE:NAME ...]
 *
 * 1. SRV lookup latency, median and 90th percentile of N lookups each,
 *    alternating ours / c-ares so noise hits both alike:
 *    ours:   resolv_start(RESOLV_SRV) + resolv_wait + resolv_targets (RFC
 *            2782 order, target addresses from the additional section),
 *            resolv_free -- exactly what `dmqtt srv` and the node do;
 *    c-ares: ares_query(SRV) on a channel whose server is 127.0.0.1:PORT,
 *            driven by poll + ares_process_fd, ares_parse_srv_reply in
 *            the callback.  The channel is made once, outside the timing.
 *            c-ares 1.18 closes its UDP socket when no query is left (no
 *            ARES_FLAG_STAYOPEN), so it too opens a socket per query, its
 *            port chosen by the kernel at connect(); so does ours (a fresh
 *            socket per transmission, RFC 5452).
 * 2. Parser throughput: responses to each QTYPE:NAME (SRV, A, AAAA) are
 *    captured from the server with a plain UDP socket, then checked with
 *    dns_response_check and walked record by record (owner name and
 *    SRV/A/AAAA extraction) in a loop; MB/s of response bytes.  Beside it
 *    the same responses through c-ares' ares_parse_srv/a/aaaa_reply.
 *
 * 3. Costs of ours timed alone: the fresh UDP socket as the resolver makes
 *    it (socket+connect+close, the kernel picks a random port), the same
 *    with an explicit random bind() first (what the resolver used to do),
 *    the hosts-file revalidation (one stat(), at most once a second) and
 *    an uncached read of the hosts file for the SRV target
 *    (net_resolve_local; paid again only when the file changes).
 *
 * Prints "key value" lines for dns.sh.  Exit 1 when a lookup fails.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <ares.h>

#include "platform/clock.h"
#include "platform/log.h"
#include "platform/net.h"
#include "platform/random.h"
#include "proto/dns.h"
#include "src/resolv.h"

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p)
{
	qsort(v, (size_t)n, sizeof v[0], cmp_double);
	int i = (int)(p * (n - 1) + 0.5);
	return v[i];
}

/* ------------------------------------------------------------ ours */

static resolv_conf_t g_rc;

static int ours_lookup(const char *name)
{
	resolv_t *r = resolv_start(&g_rc, RESOLV_SRV, name, 0, clock_mono_ms());
	const resolv_target_t *t;
	int n, ok;
	if (r == NULL)
		return -1;
	if (resolv_wait(r) != RESOLV_OK) {
		fprintf(stderr, "ours: %s: %s (%s)\n", name, resolv_strerror(resolv_status(r)),
			resolv_detail(r));
		resolv_free(r);
		return -1;
	}
	n = resolv_targets(r, &t);
	ok = n >= 1 && t[0].naddrs >= 1 && t[0].srv.port != 0;
	resolv_free(r);
	return ok ? 0 : -1;
}

/* ------------------------------------------------------------ c-ares */

struct cares_res {
	int done, ok;
};

static void cares_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct cares_res *res = arg;
	struct ares_srv_reply *srv = NULL;
	(void)timeouts;
	res->done = 1;
	res->ok = 0;
	if (status != ARES_SUCCESS) {
		fprintf(stderr, "c-ares: %s\n", ares_strerror(status));
		return;
	}
	if (ares_parse_srv_reply(abuf, alen, &srv) == ARES_SUCCESS && srv != NULL && srv->port != 0)
		res->ok = 1;
	if (srv != NULL)
		ares_free_data(srv);
}

static int cares_lookup(ares_channel ch, const char *name)
{
	struct cares_res res = { 0, 0 };
	ares_query(ch, name, 1 /* C_IN */, 33 /* T_SRV */, cares_cb, &res);
	while (!res.done) {
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		struct pollfd p[ARES_GETSOCK_MAXNUM];
		struct timeval tv, *tvp;
		int bits = ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM), np = 0, rc;
		for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			short ev = 0;
			if (ARES_GETSOCK_READABLE(bits, i))
				ev |= POLLIN;
			if (ARES_GETSOCK_WRITABLE(bits, i))
				ev |= POLLOUT;
			if (ev == 0)
				continue;
			p[np].fd = socks[i];
			p[np].events = ev;
			p[np].revents = 0;
			np++;
		}
		tvp = ares_timeout(ch, NULL, &tv);
		rc = poll(p, (nfds_t)np, tvp != NULL ? (int)(tv.tv_sec * 1000 + tv.tv_usec / 1000) : -1);
		if (rc <= 0) {
			ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
			continue;
		}
		for (int i = 0; i < np; i++)
			if (p[i].revents != 0)
				ares_process_fd(ch,
					(p[i].revents & (POLLIN | POLLERR | POLLHUP)) ? p[i].fd : ARES_SOCKET_BAD,
					(p[i].revents & POLLOUT) ? p[i].fd : ARES_SOCKET_BAD);
	}
	return res.ok ? 0 : -1;
}

/* ------------------------------------------------------------ capture */

#define MAXCAP 32

struct capture {
	uint16_t qtype;
	uint8_t q[DNS_QUERY_MAX];
	size_t qlen;
	uint8_t r[4096];
	size_t rlen;
};

static struct capture caps[MAXCAP];
static int ncaps;

static int capture(uint16_t port, uint16_t qtype, const char *name)
{
	struct capture *c = &caps[ncaps];
	struct sockaddr_in sa;
	struct pollfd p;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	ssize_t n;
	if (fd < 0 || ncaps >= MAXCAP)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (dns_query_encode(c->q, sizeof c->q, &c->qlen, (uint16_t)(0x1234 + ncaps), name, qtype,
		DNS_QUERY_EDNS0) != DNS_OK ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || send(fd, c->q, c->qlen, 0) != (ssize_t)c->qlen) {
		close(fd);
		return -1;
	}
	p.fd = fd;
	p.events = POLLIN;
	if (poll(&p, 1, 2000) != 1 || (n = recv(fd, c->r, sizeof c->r, 0)) <= 0) {
		close(fd);
		return -1;
	}
	close(fd);
	c->rlen = (size_t)n;
	c->qtype = qtype;
	ncaps++;
	return 0;
}

/* check + walk one response; returns records seen (or -1) */
static int walk(const struct capture *c, unsigned long *sum)
{
	dns_msg_t m;
	dns_rr_t rr;
	dns_status_t st;
	char owner[DNS_NAME_MAX];
	int n = 0;
	if (dns_response_check(&m, c->r, c->rlen, c->q, c->qlen) != DNS_OK)
		return -1;
	while ((st = dns_rr_next(&m, &rr)) == DNS_OK) {
		if (dns_rr_owner(&m, &rr, owner, sizeof owner) != DNS_OK)
			return -1;
		*sum += (unsigned char)owner[0];
		if (rr.type == DNS_TYPE_SRV) {
			dns_srv_t s;
			if (dns_rr_srv(&m, &rr, &s) != DNS_OK)
				return -1;
			*sum += s.port + (unsigned char)s.target[0];
		} else if (rr.type == DNS_TYPE_A || rr.type == DNS_TYPE_AAAA) {
			dns_addr_t a;
			if (dns_rr_addr(&m, &rr, &a) != DNS_OK)
				return -1;
			*sum += a.addr[a.len - 1];
		}
		n++;
	}
	return st == DNS_END ? n : -1;
}

static int cares_parse(const struct capture *c, unsigned long *sum)
{
	int rc;
	if (c->qtype == DNS_TYPE_SRV) {
		struct ares_srv_reply *s = NULL;
		rc = ares_parse_srv_reply(c->r, (int)c->rlen, &s);
		for (struct ares_srv_reply *i = s; i != NULL; i = i->next)
			*sum += i->port + (unsigned char)i->host[0];
		if (s != NULL)
			ares_free_data(s);
	} else if (c->qtype == DNS_TYPE_A) {
		struct ares_addrttl at[16];
		int na = 16;
		struct hostent *h = NULL;
		rc = ares_parse_a_reply(c->r, (int)c->rlen, &h, at, &na);
		if (h != NULL) {
			*sum += (unsigned char)h->h_name[0];
			ares_free_hostent(h);
		}
	} else {
		struct ares_addr6ttl at[16];
		int na = 16;
		struct hostent *h = NULL;
		rc = ares_parse_aaaa_reply(c->r, (int)c->rlen, &h, at, &na);
		if (h != NULL) {
			*sum += (unsigned char)h->h_name[0];
			ares_free_hostent(h);
		}
	}
	return rc == ARES_SUCCESS || rc == ARES_ENODATA ? 0 : -1;
}

int main(int argc, char **argv)
{
	int port, n;
	const char *name;
	char srv[64];
	ares_channel ch;
	struct ares_options opts;
	double *ours, *theirs;
	int fail = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: dns_bench PORT N SRVNAME [QTYPE:NAME ...]\n");
		return 2;
	}
	port = atoi(argv[1]);
	n = atoi(argv[2]);
	name = argv[3];
	log_set_level(LOG_ERROR);
	snprintf(srv, sizeof srv, "127.0.0.1:%d", port);

	/* ours: defaults (timeout 2 s, 2 attempts), the server given */
	if (resolv_conf_load(&g_rc, "/dev/null") != 0 || resolv_conf_server(&g_rc, srv) != 0) {
		fprintf(stderr, "resolv conf failed\n");
		return 2;
	}
	/* c-ares: defaults, the same server, no search list (a query for a
	 * fully qualified name, as ours does with ndots 1) */
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
		return 2;
	memset(&opts, 0, sizeof opts);
	opts.flags = ARES_FLAG_NOSEARCH;
	if (ares_init_options(&ch, &opts, ARES_OPT_FLAGS) != ARES_SUCCESS ||
	    ares_set_servers_ports_csv(ch, srv) != ARES_SUCCESS) {
		fprintf(stderr, "c-ares init failed\n");
		return 2;
	}

	ours = calloc((size_t)n, sizeof *ours);
	theirs = calloc((size_t)n, sizeof *theirs);
	if (ours == NULL || theirs == NULL)
		return 2;
	for (int i = 0; i < 20; i++) { /* warm up both */
		fail |= ours_lookup(name);
		fail |= cares_lookup(ch, name);
	}
	for (int i = 0; i < n && !fail; i++) {
		double t0 = now_us();
		fail |= ours_lookup(name);
		double t1 = now_us();
		fail |= cares_lookup(ch, name);
		double t2 = now_us();
		ours[i] = t1 - t0;
		theirs[i] = t2 - t1;
	}
	if (fail) {
		fprintf(stderr, "a lookup failed\n");
		return 1;
	}
	printf("ours_median_us %.1f\n", pct(ours, n, 0.5));
	printf("ours_p90_us %.1f\n", pct(ours, n, 0.9));
	printf("cares_median_us %.1f\n", pct(theirs, n, 0.5));
	printf("cares_p90_us %.1f\n", pct(theirs, n, 0.9));

	/* costs of ours, alone */
	{
		const int k = 5000;
		net_addr_t h[RESOLV_MAX_ADDRS];
		struct stat st;
		double t0 = now_us();
		for (int i = 0; i < k; i++) {
			int fd = net_udp_connect(&g_rc.servers[0]);
			if (fd < 0)
				return 1;
			close(fd);
		}
		printf("ours_socket_us %.1f\n", (now_us() - t0) / k);
		t0 = now_us();
		for (int i = 0; i < k; i++) {
			struct sockaddr_in l;
			int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
			memset(&l, 0, sizeof l);
			l.sin_family = AF_INET;
			l.sin_port = htons((uint16_t)(1024 + random_below(65536 - 1024)));
			if (fd < 0)
				return 1;
			if (bind(fd, (struct sockaddr *)&l, sizeof l) != 0 ||
			    connect(fd, (const struct sockaddr *)&g_rc.servers[0].ss, g_rc.servers[0].len) != 0) {
				/* a taken port: a retry would follow; count it anyway */
			}
			close(fd);
		}
		printf("ours_bind_socket_us %.1f\n", (now_us() - t0) / k);
		t0 = now_us();
		for (int i = 0; i < k; i++)
			(void)stat("/etc/hosts", &st);
		printf("ours_hosts_stat_us %.1f\n", (now_us() - t0) / k);
		t0 = now_us();
		for (int i = 0; i < k; i++)
			(void)net_resolve_local("dmqtt-broker-application.service.veeamesh.local", 1883, NULL, h,
				RESOLV_MAX_ADDRS);
		printf("ours_hosts_read_us %.1f\n", (now_us() - t0) / k);
	}

	/* parser throughput over captured responses */
	for (int i = 4; i < argc; i++) {
		char *colon = strchr(argv[i], ':');
		uint16_t qt;
		if (colon == NULL)
			return 2;
		*colon = '\0';
		qt = strcmp(argv[i], "SRV") == 0 ? DNS_TYPE_SRV : strcmp(argv[i], "AAAA") == 0 ?
			DNS_TYPE_AAAA : DNS_TYPE_A;
		if (capture((uint16_t)port, qt, colon + 1) != 0) {
			fprintf(stderr, "capture %s %s failed\n", argv[i], colon + 1);
			return 1;
		}
	}
	if (ncaps > 0) {
		size_t bytes = 0;
		unsigned long sum = 0;
		long iters = 0, records = 0;
		double t0, t1;
		for (int i = 0; i < ncaps; i++) {
			int k = walk(&caps[i], &sum);
			if (k < 0) {
				fprintf(stderr, "capture %d does not walk\n", i);
				return 1;
			}
			bytes += caps[i].rlen;
			records += k;
		}
		printf("captured %d responses, %zu bytes, %ld records\n", ncaps, bytes, records);
		t0 = now_us();
		do {
			for (int j = 0; j < 1000; j++)
				for (int i = 0; i < ncaps; i++)
					walk(&caps[i], &sum);
			iters += 1000;
			t1 = now_us();
		} while (t1 - t0 < 1e6);
		printf("ours_parse_mbs %.1f\n", (double)bytes * (double)iters / (t1 - t0));
		printf("ours_parse_ns_per_response %.1f\n", (t1 - t0) * 1e3 / ((double)iters * ncaps));
		t0 = now_us();
		iters = 0;
		do {
			for (int j = 0; j < 1000; j++)
				for (int i = 0; i < ncaps; i++)
					if (cares_parse(&caps[i], &sum) != 0)
						return 1;
			iters += 1000;
			t1 = now_us();
		} while (t1 - t0 < 1e6);
		printf("cares_parse_mbs %.1f\n", (double)bytes * (double)iters / (t1 - t0));
		printf("checksum %lu\n", sum);
	}
	ares_destroy(ch);
	ares_library_cleanup();
	free(ours);
	free(theirs);
	return 0;
}
