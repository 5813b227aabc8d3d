/* Unit tests for src/resolv.c: the per-try timeouts inside the total
 * deadline, moving on from a silent or failing server, a condemned message,
 * the search list, resolv.conf parsing and the cached hosts file.
 *
 * The resolver's clock is the `now` passed in, so time is simulated: no
 * case waits for a timeout.  The DNS servers are UDP sockets on loopback
 * that this file reads queries from and answers by hand. */
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platform/net.h"
#include "proto/dns.h"
#include "src/resolv.h"

#define T0 1000000u /* a simulated clock reading, ms */

/* ---- a scripted DNS server on loopback ---------------------------------- */

typedef struct {
	int fd;
	uint16_t port;
	uint8_t q[512];     /* the last query read */
	size_t qlen;
	struct sockaddr_in from;
} server_t;

static void server_open(server_t *s)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	memset(s, 0, sizeof *s);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->fd = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(s->fd >= 0);
	CHECK_INT(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
	CHECK_INT(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
	s->port = ntohs(a.sin_port);
}

/* Read one query, waiting up to wait_ms of real time (loopback delivery is
 * immediate; the wait only covers a slow emulator).  1 read, 0 none. */
static int server_read(server_t *s, int wait_ms)
{
	struct pollfd p = { s->fd, POLLIN, 0 };
	socklen_t len = sizeof s->from;
	ssize_t n;
	if (poll(&p, 1, wait_ms) != 1)
		return 0;
	n = recvfrom(s->fd, s->q, sizeof s->q, 0, (struct sockaddr *)&s->from, &len);
	CHECK(n >= 12);
	s->qlen = (size_t)n;
	return 1;
}

static uint16_t query_id(const server_t *s) { return (uint16_t)(s->q[0] << 8 | s->q[1]); }
static uint16_t query_port(const server_t *s) { return ntohs(s->from.sin_port); }

/* The question name of the last query, dotted. */
static const char *query_name(const server_t *s)
{
	static char out[DNS_NAME_MAX];
	size_t p = 12, o = 0;
	while (p < s->qlen && s->q[p] != 0 && o + s->q[p] + 1 < sizeof out) {
		if (o > 0)
			out[o++] = '.';
		memcpy(out + o, s->q + p + 1, s->q[p]);
		o += s->q[p];
		p += (size_t)s->q[p] + 1;
	}
	out[o] = '\0';
	return out;
}

enum { ANS_SRV, ANS_SRV_BAD_A, ANS_RCODE };

/* Answer the last query: ANS_SRV: "0 0 1883 broker.test" with A 192.0.2.7
 * in the additional section; ANS_SRV_BAD_A: the same, but the A record's
 * RDLENGTH is 5 (a malformed record); ANS_RCODE: no records, RCODE rcode. */
static void server_answer(server_t *s, int mode, unsigned rcode)
{
	static const uint8_t target[] = "\6broker\4test"; /* + its NUL: the root */
	uint8_t r[512];
	size_t qend = 12, n;
	while (qend < s->qlen && s->q[qend] != 0)
		qend += (size_t)s->q[qend] + 1;
	qend += 5; /* root label, QTYPE, QCLASS */
	CHECK(qend <= s->qlen);
	memcpy(r, s->q, qend);
	r[2] = 0x81; /* QR, RD */
	r[3] = (uint8_t)(0x80 | rcode); /* RA */
	memset(r + 6, 0, 6);
	n = qend;
	if (mode != ANS_RCODE) {
		static const uint8_t srv[] = { 0xc0, 12, 0, 33, 0, 1, 0, 0, 0, 60, 0, 6 + sizeof target,
			0, 0, 0, 0, 0x07, 0x5b };
		static const uint8_t a[] = { 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7 };
		r[7] = 1;  /* ANCOUNT */
		r[11] = 1; /* ARCOUNT */
		memcpy(r + n, srv, sizeof srv);
		n += sizeof srv;
		memcpy(r + n, target, sizeof target);
		n += sizeof target;
		memcpy(r + n, target, sizeof target);
		n += sizeof target;
		memcpy(r + n, a, sizeof a);
		if (mode == ANS_SRV_BAD_A) {
			r[n + 9] = 5;
			r[n + 14] = 0;
			n++;
		}
		n += sizeof a;
	}
	CHECK(sendto(s->fd, r, n, 0, (struct sockaddr *)&s->from, sizeof s->from) == (ssize_t)n);
}

/* Deliver what the resolver's socket has (waiting for it in real time). */
static resolv_status_t feed(resolv_t *r, uint64_t now)
{
	struct pollfd p;
	CHECK(resolv_pollfd(r, &p) == 1);
	CHECK(poll(&p, 1, 5000) == 1);
	return resolv_process(r, &p, now);
}

static void conf(resolv_conf_t *rc, const server_t *s1, const server_t *s2, int total_ms)
{
	char list[64];
	CHECK_INT(resolv_conf_load(rc, "/nonexistent/resolv.conf"), 0);
	if (s2 != NULL)
		snprintf(list, sizeof list, "127.0.0.1:%u,127.0.0.1:%u", s1->port, s2->port);
	else
		snprintf(list, sizeof list, "127.0.0.1:%u", s1->port);
	CHECK_INT(resolv_conf_server(rc, list), 0);
	rc->total_ms = total_ms;
	rc->hosts = "/nonexistent/hosts";
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	fputs(text, f);
	CHECK_INT(fclose(f), 0);
}

/* ---- timeouts ------------------------------------------------------------ */

/* The KNOWN BUG of test/integration/dns.sh: with --timeout 1500 the first
 * try waited the whole resolv.conf timeout (2000 ms) and the second server
 * was never asked.  Now each try gets an equal share of the deadline. */
static void resolv_silent_first_server_moves_on(void)
{
	server_t s1, s2;
	resolv_conf_t rc;
	resolv_t *r;
	const resolv_target_t *t;
	char want[64];

	server_open(&s1);
	server_open(&s2);
	conf(&rc, &s1, &s2, 1500);
	r = resolv_start(&rc, RESOLV_SRV, "_x._tcp.test.", 0, T0);
	CHECK(r != NULL);
	CHECK_INT(resolv_status(r), RESOLV_PENDING);
	/* 2 servers x 2 attempts share 1500 ms */
	CHECK_INT(resolv_timeout_ms(r, T0), 375);
	CHECK(server_read(&s1, 2000));
	CHECK_STR(query_name(&s1), "_x._tcp.test");
	CHECK(!server_read(&s2, 0));
	CHECK_INT(resolv_process(r, NULL, T0 + 374), RESOLV_PENDING);
	CHECK(!server_read(&s2, 0));
	/* s1 said nothing in its share: s2 is asked */
	CHECK_INT(resolv_process(r, NULL, T0 + 375), RESOLV_PENDING);
	CHECK(server_read(&s2, 2000));
	CHECK_INT(resolv_timeout_ms(r, T0 + 375), 375);
	server_answer(&s2, ANS_SRV, 0);
	CHECK_INT(feed(r, T0 + 380), RESOLV_OK);
	CHECK_INT(resolv_targets(r, &t), 1);
	CHECK_STR(t[0].srv.target, "broker.test");
	CHECK_INT(t[0].srv.port, 1883);
	CHECK_INT(t[0].naddrs, 1);
	CHECK_INT(resolv_ttl(r), 60);
	snprintf(want, sizeof want, "127.0.0.1:%u: no answer for SRV _x._tcp.test", s1.port);
	CHECK_STR(resolv_detail(r), want);
	resolv_free(r);
	close(s1.fd);
	close(s2.fd);
}

/* Only silent servers: every server is asked in every round, each try a
 * fresh ID and a fresh source port, and the deadline holds exactly. */
static void resolv_silent_servers_deadline(void)
{
	server_t s[2];
	resolv_conf_t rc;
	resolv_t *r;
	uint16_t ids[4], ports[4];
	uint64_t now = T0;
	char d1[48], d2[48];

	server_open(&s[0]);
	server_open(&s[1]);
	conf(&rc, &s[0], &s[1], 1500);
	r = resolv_start(&rc, RESOLV_SRV, "_x._tcp.test.", 0, now);
	for (int i = 0; i < 4; i++) {
		server_t *sv = &s[i % 2];
		CHECK(server_read(sv, 2000));
		CHECK(!server_read(&s[(i + 1) % 2], 0));
		ids[i] = query_id(sv);
		ports[i] = query_port(sv);
		CHECK_INT(resolv_timeout_ms(r, now), 375);
		now += 375;
		CHECK_INT(resolv_process(r, NULL, now), i < 3 ? RESOLV_PENDING : RESOLV_TIMEOUT);
	}
	CHECK_INT(now - T0, 1500);
	CHECK(!server_read(&s[0], 0));
	CHECK(!server_read(&s[1], 0));
	/* RFC 5452: a fresh random ID and source port per transmission.  Two
	 * of four may repeat by chance (1 in ~11,000 for IDs, ~5,000 for
	 * ports); two repeats (~1e-8) would mean they are not fresh. */
	{
		int same_id = 0, same_port = 0;
		for (int i = 0; i < 4; i++)
			for (int j = 0; j < i; j++) {
				same_id += ids[i] == ids[j];
				same_port += ports[i] == ports[j];
			}
		CHECK(same_id <= 1 && same_port <= 1);
	}
	snprintf(d1, sizeof d1, "127.0.0.1:%u: no answer", s[0].port);
	snprintf(d2, sizeof d2, "127.0.0.1:%u: no answer", s[1].port);
	CHECK(strstr(resolv_detail(r), d1) != NULL);
	CHECK(strstr(resolv_detail(r), d2) != NULL);
	resolv_free(r);
	close(s[0].fd);
	close(s[1].fd);
}

/* No total deadline given: the resolv.conf timeout per try (2 s by
 * default), attempts x servers of them; a SERVFAIL moves on at once. */
static void resolv_default_timeouts(void)
{
	server_t s1, s2;
	resolv_conf_t rc;
	resolv_t *r;

	server_open(&s1);
	server_open(&s2);
	conf(&rc, &s1, &s2, 0);
	CHECK_INT(rc.timeout_ms, 2000);
	CHECK_INT(rc.attempts, 2);
	r = resolv_start(&rc, RESOLV_SRV, "_x._tcp.test.", 0, T0);
	CHECK_INT(resolv_timeout_ms(r, T0), 2000);
	CHECK(server_read(&s1, 2000));
	server_answer(&s1, ANS_RCODE, DNS_RCODE_SERVFAIL);
	CHECK_INT(feed(r, T0 + 10), RESOLV_PENDING);
	CHECK(server_read(&s2, 2000));
	CHECK_INT(resolv_timeout_ms(r, T0 + 10), 2000);
	server_answer(&s2, ANS_RCODE, DNS_RCODE_REFUSED);
	CHECK_INT(feed(r, T0 + 20), RESOLV_PENDING);
	/* second round */
	CHECK(server_read(&s1, 2000));
	CHECK_INT(resolv_timeout_ms(r, T0 + 20), 2000);
	CHECK_INT(resolv_process(r, NULL, T0 + 2020), RESOLV_PENDING);
	CHECK(server_read(&s2, 2000));
	CHECK_INT(resolv_timeout_ms(r, T0 + 2020), 2000);
	/* SERVFAIL is reported before REFUSED before a timeout */
	CHECK_INT(resolv_process(r, NULL, T0 + 4020), RESOLV_SERVFAIL);
	CHECK(strstr(resolv_detail(r), "SERVFAIL for SRV _x._tcp.test") != NULL);
	CHECK(strstr(resolv_detail(r), "REFUSED for SRV _x._tcp.test") != NULL);
	resolv_free(r);
	close(s1.fd);
	close(s2.fd);
}

/* A budget too short for the retry rounds: each server is still asked
 * once, sharing it; and a long budget never stretches a try beyond the
 * resolv.conf timeout. */
static void resolv_short_and_long_budgets(void)
{
	server_t s1, s2;
	resolv_conf_t rc;
	resolv_t *r;

	server_open(&s1);
	server_open(&s2);
	conf(&rc, &s1, &s2, 300);
	r = resolv_start(&rc, RESOLV_SRV, "_x._tcp.test.", 0, T0);
	CHECK_INT(resolv_timeout_ms(r, T0), 150);
	CHECK(server_read(&s1, 2000));
	CHECK_INT(resolv_process(r, NULL, T0 + 150), RESOLV_PENDING);
	CHECK(server_read(&s2, 2000));
	CHECK_INT(resolv_timeout_ms(r, T0 + 150), 150);
	CHECK_INT(resolv_process(r, NULL, T0 + 300), RESOLV_TIMEOUT);
	CHECK(!server_read(&s1, 0));
	resolv_free(r);

	rc.total_ms = 60000;
	rc.timeout_ms = 1000;
	r = resolv_start(&rc, RESOLV_SRV, "_x._tcp.test.", 0, T0);
	CHECK_INT(resolv_timeout_ms(r, T0), 1000);
	CHECK(server_read(&s1, 2000));
	resolv_free(r);
	close(s1.fd);
	close(s2.fd);
}

/* One malformed record condemns its message: nothing of it is kept, the
 * next server's answer is used alone. */
static void resolv_bad_message_discarded(void)
{
	server_t s1, s2;
	resolv_conf_t rc;
	resolv_t *r;
	const resolv_target_t *t;

	server_open(&s1);
	server_open(&s2);
	conf(&rc, &s1, &s2, 0);
	r = resolv_start(&rc, RESOLV_SRV, "_x._tcp.test.", 0, T0);
	CHECK(server_read(&s1, 2000));
	server_answer(&s1, ANS_SRV_BAD_A, 0);
	CHECK_INT(feed(r, T0 + 1), RESOLV_PENDING);
	CHECK(strstr(resolv_detail(r), "RDATA does not fit its type for SRV") != NULL);
	CHECK(server_read(&s2, 2000));
	server_answer(&s2, ANS_SRV, 0);
	CHECK_INT(feed(r, T0 + 2), RESOLV_OK);
	CHECK_INT(resolv_targets(r, &t), 1);
	CHECK_INT(t[0].naddrs, 1);
	resolv_free(r);
	close(s1.fd);
	close(s2.fd);
}

/* ---- names and configuration --------------------------------------------- */

/* The names asked for name, in order, each answered NXDOMAIN. */
static void expect_names(const char *name, const char *const *want, int n)
{
	server_t s1;
	resolv_conf_t rc;
	resolv_t *r;
	char list[32];
	const char *path = "/tmp/dmqtt-unit-resolv.conf";

	server_open(&s1);
	write_file(path, "search a.test b.test.\noptions ndots:3\n");
	CHECK_INT(resolv_conf_load(&rc, path), 0);
	unlink(path);
	CHECK_INT(rc.nsearch, 2);
	CHECK_STR(rc.search[1], "b.test");
	CHECK_INT(rc.ndots, 3);
	snprintf(list, sizeof list, "127.0.0.1:%u", s1.port);
	CHECK_INT(resolv_conf_server(&rc, list), 0);
	rc.hosts = "/nonexistent/hosts";
	r = resolv_start(&rc, RESOLV_SRV, name, 0, T0);
	for (int i = 0; i < n; i++) {
		CHECK(server_read(&s1, 2000));
		CHECK_STR(query_name(&s1), want[i]);
		server_answer(&s1, ANS_RCODE, DNS_RCODE_NXDOMAIN);
		CHECK_INT(feed(r, T0 + (uint64_t)i), i + 1 < n ? RESOLV_PENDING : RESOLV_NXDOMAIN);
	}
	resolv_free(r);
	close(s1.fd);
}

static void resolv_search_list(void)
{
	static const char *const rel[] = { "_x._tcp.a.test", "_x._tcp.b.test", "_x._tcp" };
	static const char *const dotted[] = { "a.b.c.d", "a.b.c.d.a.test", "a.b.c.d.b.test" };
	static const char *const abs[] = { "_x._tcp.c.test" };
	expect_names("_x._tcp", rel, 3);
	expect_names("a.b.c.d", dotted, 3);
	expect_names("_x._tcp.c.test.", abs, 1);
}

static void resolv_conf_parse(void)
{
	resolv_conf_t rc;
	const char *path = "/tmp/dmqtt-unit-resolv2.conf";
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	fprintf(f, "# nameserver 192.0.2.9\n; nameserver 192.0.2.8\nnameserver 192.0.2.1\n"
		"nameserver ::1\nnameserver bogus\nnameserver 192.0.2.3\nnameserver 192.0.2.4\n"
		"domain x.test\noptions timeout:0 attempts:9 ndots:20 rotate\noptions timeout:3\n");
	fclose(f);
	CHECK_INT(resolv_conf_load(&rc, path), 0);
	unlink(path);
	CHECK_INT(rc.nservers, 3);
	CHECK_INT(rc.servers[1].ss.ss_family, AF_INET6);
	CHECK_INT(rc.nsearch, 1);
	CHECK_STR(rc.search[0], "x.test");
	CHECK_INT(rc.timeout_ms, 3000);
	CHECK_INT(rc.attempts, 5);
	CHECK_INT(rc.ndots, 15);
	/* no file: the defaults and 127.0.0.1:53 */
	CHECK_INT(resolv_conf_load(&rc, "/nonexistent/resolv.conf"), 0);
	CHECK_INT(rc.nservers, 1);
	CHECK_INT(rc.timeout_ms, 2000);
	CHECK_INT(rc.attempts, 2);
	CHECK_INT(rc.ndots, 1);
	CHECK_INT(resolv_conf_server(&rc, "127.0.0.1:5300,[::1]:53"), 0);
	CHECK_INT(rc.nservers, 2);
	CHECK_INT(resolv_conf_server(&rc, "127.0.0.1,,::1"), -EINVAL);
	CHECK_STR(resolv_strerror(RESOLV_NO_SERVICE), dns_strerror(DNS_NO_SERVICE));
	CHECK_STR(resolv_strerror(RESOLV_TIMEOUT), "no answer in time");
	CHECK_STR(resolv_strerror(RESOLV_ERROR), "local error");
	CHECK_STR(resolv_strerror((resolv_status_t)99), "?");
}

/* ---- the hosts file, cached ---------------------------------------------- */

/* RESOLV_ADDR answers from the hosts file at once, without DNS; an unknown
 * name goes to DNS (PENDING).  Returns the status, the first address's
 * text in ip. */
static resolv_status_t addr_lookup(const char *hosts, const char *name, uint64_t now, char *ip)
{
	server_t s1;
	resolv_conf_t rc;
	resolv_t *r;
	const resolv_target_t *t;
	resolv_status_t st;

	server_open(&s1);
	conf(&rc, &s1, NULL, 0);
	rc.hosts = hosts;
	r = resolv_start(&rc, RESOLV_ADDR, name, 1883, now);
	st = resolv_status(r);
	ip[0] = '\0';
	if (st == RESOLV_OK && resolv_targets(r, &t) == 1 && t[0].naddrs > 0)
		net_addr_format(&t[0].addrs[0], ip, NET_ADDR_STRLEN);
	resolv_free(r);
	close(s1.fd);
	return st;
}

static void resolv_hosts_cache(void)
{
	char dir[] = "/tmp/dmqtt-unit-hosts.XXXXXX", path[64], other[64], big[64], ip[NET_ADDR_STRLEN];
	struct timespec ts[2] = { { 1000000, 0 }, { 1000000, 0 } };
	uint64_t now = 5 * T0;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/hosts", dir);
	snprintf(other, sizeof other, "%s/hosts2", dir);
	snprintf(big, sizeof big, "%s/hosts3", dir);
	write_file(path, "# 10.9.9.9 node-b.test\n 10.1.2.3\tnode-a.test  Alias-A # node-c.test\n"
		"10.4.4.4 x\t# node-d.test\nfd00::5 node-a.test\n");
	CHECK_INT(addr_lookup(path, "node-a.test", now, ip), RESOLV_OK);
	CHECK_STR(ip, "10.1.2.3:1883");
	CHECK_INT(addr_lookup(path, "ALIAS-a", now, ip), RESOLV_OK);
	CHECK_STR(ip, "10.1.2.3:1883");
	CHECK_INT(addr_lookup(path, "node-b.test", now, ip), RESOLV_PENDING);
	CHECK_INT(addr_lookup(path, "node-c.test", now, ip), RESOLV_PENDING);
	CHECK_INT(addr_lookup(path, "node-d.test", now, ip), RESOLV_PENDING);
	CHECK_INT(addr_lookup(path, "x", now, ip), RESOLV_OK);

	/* an edit shows once the file is checked again (at most 1 s later) */
	write_file(path, "10.1.2.33 node-a.test\n");
	CHECK_INT(addr_lookup(path, "node-a.test", now + 999, ip), RESOLV_OK);
	CHECK_STR(ip, "10.1.2.3:1883");
	CHECK_INT(addr_lookup(path, "node-a.test", now + 1000, ip), RESOLV_OK);
	CHECK_STR(ip, "10.1.2.33:1883");
	/* the same size rewritten in place: the modification time tells */
	CHECK_INT(utimensat(AT_FDCWD, path, ts, 0), 0);
	CHECK_INT(addr_lookup(path, "node-a.test", now + 2000, ip), RESOLV_OK);
	write_file(path, "10.1.2.44 node-a.test\n");
	CHECK_INT(addr_lookup(path, "node-a.test", now + 3000, ip), RESOLV_OK);
	CHECK_STR(ip, "10.1.2.44:1883");

	/* another file is read at once, whatever the time */
	write_file(other, "10.7.7.7 node-a.test\n");
	CHECK_INT(addr_lookup(other, "node-a.test", now + 3000, ip), RESOLV_OK);
	CHECK_STR(ip, "10.7.7.7:1883");

	/* a file too big to keep is read per lookup */
	f = fopen(big, "w");
	CHECK(f != NULL);
	for (int i = 0; i < 400; i++)
		fprintf(f, "10.0.%d.%d filler-%d.test\n", i / 250, i % 250, i);
	fprintf(f, "10.8.8.8 last.test\n");
	fclose(f);
	CHECK_INT(addr_lookup(big, "last.test", now + 3000, ip), RESOLV_OK);
	CHECK_STR(ip, "10.8.8.8:1883");
	CHECK_INT(addr_lookup(big, "filler-7.test", now + 3000, ip), RESOLV_OK);
	CHECK_STR(ip, "10.0.0.7:1883");

	/* gone: no entries; localhost and literals need no file */
	unlink(path);
	CHECK_INT(addr_lookup(path, "node-a.test", now + 4000, ip), RESOLV_PENDING);
	CHECK_INT(addr_lookup(path, "localhost", now + 4000, ip), RESOLV_OK);
	CHECK_STR(ip, "127.0.0.1:1883");
	CHECK_INT(addr_lookup(path, "192.0.2.1", now + 4000, ip), RESOLV_OK);
	CHECK_STR(ip, "192.0.2.1:1883");
	/* created again */
	write_file(path, "10.1.2.55 node-a.test\n");
	CHECK_INT(addr_lookup(path, "node-a.test", now + 5000, ip), RESOLV_OK);
	CHECK_STR(ip, "10.1.2.55:1883");

	unlink(path);
	unlink(other);
	unlink(big);
	rmdir(dir);
}

UNIT_SUITE(resolv,
	UNIT_CASE(resolv_silent_first_server_moves_on), UNIT_CASE(resolv_silent_servers_deadline),
	UNIT_CASE(resolv_default_timeouts), UNIT_CASE(resolv_short_and_long_budgets),
	UNIT_CASE(resolv_bad_message_discarded), UNIT_CASE(resolv_search_list),
	UNIT_CASE(resolv_conf_parse), UNIT_CASE(resolv_hosts_cache))
