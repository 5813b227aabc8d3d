/* resolv.c -- see resolv.h */
#include "src/resolv.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "platform/clock.h"
#include "platform/log.h"
#include "platform/random.h"
#include "platform/fmt.h"

#define MAX_CAND (RESOLV_MAX_SEARCH + 1)
#define RESP_MAX 65535

/* ---------------------------------------------------------------- config */

static void conf_defaults(resolv_conf_t *rc)
{
	memset(rc, 0, sizeof *rc);
	rc->ndots = 1;
	rc->timeout_ms = 2000;
	rc->attempts = 2;
}

int resolv_conf_server(resolv_conf_t *rc, const char *list)
{
	char one[80], host[64];
	int n = 0;
	while (*list != '\0') {
		const char *comma = strchr(list, ',');
		size_t len = comma != NULL ? (size_t)(comma - list) : strlen(list);
		uint16_t port = 53;
		if (len == 0 || len >= sizeof one || n >= RESOLV_MAX_SERVERS)
			return -EINVAL;
		memcpy(one, list, len);
		one[len] = '\0';
		if (net_split_hostport(one, host, sizeof host, &port) != 0 ||
		    net_addr_literal(host, port, &rc->servers[n]) != 0)
			return -EINVAL;
		n++;
		list += len + (comma != NULL ? 1 : 0);
	}
	if (n == 0)
		return -EINVAL;
	rc->nservers = n;
	return 0;
}

int resolv_conf_load(resolv_conf_t *rc, const char *path)
{
	char line[512];
	FILE *f;

	conf_defaults(rc);
	f = fopen(path != NULL ? path : "/etc/resolv.conf", "re");
	if (f == NULL) {
		if (errno != ENOENT)
			return -errno;
		net_addr_literal("127.0.0.1", 53, &rc->servers[0]);
		rc->nservers = 1;
		return 0;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		char *save = NULL, *key = strtok_r(line, " \t\r\n", &save), *v;
		if (key == NULL || key[0] == '#' || key[0] == ';')
			continue;
		if (strcmp(key, "nameserver") == 0) {
			v = strtok_r(NULL, " \t\r\n", &save);
			if (v != NULL && rc->nservers < RESOLV_MAX_SERVERS &&
			    net_addr_literal(v, 53, &rc->servers[rc->nservers]) == 0)
				rc->nservers++;
		} else if (strcmp(key, "search") == 0 || strcmp(key, "domain") == 0) {
			rc->nsearch = 0; /* the last search/domain line wins */
			while ((v = strtok_r(NULL, " \t\r\n", &save)) != NULL &&
			       rc->nsearch < RESOLV_MAX_SEARCH) {
				size_t n = strlen(v);
				if (n > 0 && v[n - 1] == '.')
					v[--n] = '\0';
				if (n > 0 && n < DNS_NAME_MAX)
					memcpy(rc->search[rc->nsearch++], v, n + 1);
			}
		} else if (strcmp(key, "options") == 0) {
			while ((v = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
				long n;
				if (strncmp(v, "ndots:", 6) == 0 && (n = strtol(v + 6, NULL, 10)) >= 0)
					rc->ndots = n > 15 ? 15 : (int)n;
				else if (strncmp(v, "timeout:", 8) == 0 && (n = strtol(v + 8, NULL, 10)) >= 1)
					rc->timeout_ms = (int)(n > 30 ? 30 : n) * 1000;
				else if (strncmp(v, "attempts:", 9) == 0 && (n = strtol(v + 9, NULL, 10)) >= 1)
					rc->attempts = n > 5 ? 5 : (int)n;
			}
		}
	}
	fclose(f);
	if (rc->nservers == 0) {
		net_addr_literal("127.0.0.1", 53, &rc->servers[0]);
		rc->nservers = 1;
	}
	return 0;
}

int resolv_conf_default(resolv_conf_t *rc, char *err, size_t errcap)
{
	const char *path = getenv("DMQTT_RESOLV_CONF"), *srv = getenv("DMQTT_DNS_SERVER");
	int r = resolv_conf_load(rc, path);
	if (r != 0) {
		fmt_snprintf(err, errcap, "cannot read %s: %s", path != NULL ? path : "/etc/resolv.conf",
			strerror(-r));
		return r;
	}
	if (srv != NULL && *srv != '\0' && resolv_conf_server(rc, srv) != 0) {
		fmt_snprintf(err, errcap, "DMQTT_DNS_SERVER is not ip[:port]");
		return -EINVAL;
	}
	rc->hosts = getenv("DMQTT_HOSTS");
	return 0;
}

const char *resolv_strerror(resolv_status_t st)
{
	switch (st) {
	case RESOLV_OK: return "ok";
	case RESOLV_PENDING: return "in progress";
	case RESOLV_NXDOMAIN: return "no such name (NXDOMAIN)";
	case RESOLV_NODATA: return "no record of that type";
	case RESOLV_NO_SERVICE: return "service explicitly not offered (SRV target \".\")";
	case RESOLV_SERVFAIL: return "server failure (SERVFAIL)";
	case RESOLV_REFUSED: return "query refused (REFUSED)";
	case RESOLV_TIMEOUT: return "no answer in time";
	case RESOLV_BADANSWER: return "malformed answer";
	case RESOLV_ERROR: return "local error";
	}
	return "?";
}

/* ---------------------------------------------------------------- state */

struct resolv {
	resolv_conf_t rc;
	resolv_kind_t kind;
	uint16_t port;
	resolv_status_t status;
	uint64_t deadline;             /* whole lookup */
	/* candidate names (search list applied) */
	char cand[MAX_CAND][DNS_NAME_MAX + 1];
	int ncand, icand;
	/* the question on the wire */
	char qname[DNS_NAME_MAX + 1];
	uint16_t qtype;
	int server, round;
	int fd;
	bool tcp;
	uint8_t q[DNS_QUERY_MAX + 2];  /* +2: TCP length prefix */
	size_t qlen, tcp_sent;
	uint8_t resp[RESP_MAX + 2];
	size_t rlen;
	uint64_t try_deadline;
	int n_servfail, n_refused, n_bad, n_timeout;
	/* results */
	dns_srv_t srv[RESOLV_MAX_SRV];
	size_t nsrv;
	resolv_target_t tgt[RESOLV_MAX_SRV];
	int ntgt, itgt;                /* address phase: target being resolved */
	int addr_phase;                /* 0: SRV/first query, 1: A, 2: AAAA */
	uint32_t ttl;
	char detail[512];
};

static void note(resolv_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(resolv_t *r, const char *fmt, ...)
{
	size_t n = strlen(r->detail);
	va_list ap;
	if (n + 4 >= sizeof r->detail)
		return;
	if (n > 0) {
		memcpy(r->detail + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	fmt_vsnprintf(r->detail + n, sizeof r->detail - n, fmt, ap);
	va_end(ap);
}

static void close_fd(resolv_t *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

static int dots(const char *s)
{
	int n = 0;
	for (; *s != '\0'; s++)
		n += *s == '.';
	return n;
}

static void build_candidates(resolv_t *r, const char *name)
{
	size_t n = strlen(name);
	bool absolute = n > 0 && name[n - 1] == '.';
	char base[DNS_NAME_MAX + 1];

	r->ncand = 0;
	if (n >= sizeof base)
		n = sizeof base - 1;
	memcpy(base, name, n);
	base[n] = '\0';
	if (absolute) {
		base[n - 1] = '\0';
		strcpy(r->cand[r->ncand++], base);
		return;
	}
	if (dots(base) >= r->rc.ndots)
		strcpy(r->cand[r->ncand++], base);
	for (int i = 0; i < r->rc.nsearch && r->ncand < MAX_CAND; i++)
		if (strlen(base) + 1 + strlen(r->rc.search[i]) <= DNS_NAME_MAX) {
			char *c = r->cand[r->ncand++];
			size_t bl = strlen(base), sl = strlen(r->rc.search[i]);
			memcpy(c, base, bl);
			c[bl] = '.';
			memcpy(c + bl + 1, r->rc.search[i], sl + 1);
		}
	if (dots(base) < r->rc.ndots && r->ncand < MAX_CAND)
		strcpy(r->cand[r->ncand++], base);
}

static uint32_t rnd32(void *ctx)
{
	uint32_t v;
	(void)ctx;
	if (random_bytes(&v, sizeof v) != 0)
		v = (uint32_t)clock_mono_ms();
	return v;
}

/* A UDP socket bound to a random source port, connected to the server. */
static int udp_socket(const net_addr_t *srv)
{
	net_addr_t local;
	int fd;
	memset(&local, 0, sizeof local);
	local.ss.ss_family = srv->ss.ss_family;
	local.len = srv->len;
	for (int i = 0; i < 8; i++) {
		uint16_t port = (uint16_t)(1024 + random_below(65536 - 1024));
		fd = socket(srv->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (srv->ss.ss_family == AF_INET)
			((struct sockaddr_in *)(void *)&local.ss)->sin_port = htons(port);
		else
			((struct sockaddr_in6 *)(void *)&local.ss)->sin6_port = htons(port);
		if (bind(fd, (struct sockaddr *)&local.ss, local.len) == 0 &&
		    connect(fd, (const struct sockaddr *)&srv->ss, srv->len) == 0)
			return fd;
		close(fd);
	}
	return net_udp_connect(srv); /* the kernel's (also randomised) choice */
}

static void send_try(resolv_t *r, uint64_t now);

/* Current server exhausted or failed: the next server, or the next round. */
static void next_server(resolv_t *r, uint64_t now)
{
	close_fd(r);
	r->tcp = false;
	if (++r->server >= r->rc.nservers) {
		r->server = 0;
		r->round++;
	}
	send_try(r, now);
}

static resolv_status_t give_up_status(const resolv_t *r)
{
	if (r->n_servfail > 0)
		return RESOLV_SERVFAIL;
	if (r->n_refused > 0)
		return RESOLV_REFUSED;
	if (r->n_bad > 0)
		return RESOLV_BADANSWER;
	return RESOLV_TIMEOUT;
}

static void failed_query(resolv_t *r, resolv_status_t st, uint64_t now);

static void send_try(resolv_t *r, uint64_t now)
{
	char srv[NET_ADDR_STRLEN];
	long n;
	if (r->round >= r->rc.attempts || now >= r->deadline) {
		failed_query(r, give_up_status(r), now);
		return;
	}
	net_addr_format(&r->rc.servers[r->server], srv, sizeof srv);
	r->fd = udp_socket(&r->rc.servers[r->server]);
	if (r->fd < 0) {
		note(r, "%s: socket: %s", srv, strerror(-r->fd));
		r->fd = -1;
		r->n_bad++;
		next_server(r, now);
		return;
	}
	/* a fresh random ID for every transmission */
	{
		uint16_t id = (uint16_t)random_below(65536);
		size_t len;
		if (dns_query_encode(r->q + 2, sizeof r->q - 2, &len, id, r->qname, r->qtype,
			DNS_QUERY_EDNS0) != DNS_OK) {
			failed_query(r, RESOLV_ERROR, now);
			return;
		}
		r->qlen = len;
	}
	n = net_fd_send(r->fd, r->q + 2, r->qlen);
	if (n != (long)r->qlen) {
		note(r, "%s: send failed", srv);
		r->n_bad++;
		next_server(r, now);
		return;
	}
	r->try_deadline = now + (uint64_t)r->rc.timeout_ms;
	if (r->try_deadline > r->deadline)
		r->try_deadline = r->deadline;
}

static void start_tcp(resolv_t *r, uint64_t now)
{
	close_fd(r);
	r->fd = net_tcp_connect(&r->rc.servers[r->server]);
	if (r->fd < 0) {
		r->fd = -1;
		note(r, "TCP connect failed");
		next_server(r, now);
		return;
	}
	r->tcp = true;
	r->q[0] = (uint8_t)(r->qlen >> 8);
	r->q[1] = (uint8_t)r->qlen;
	r->tcp_sent = 0;
	r->rlen = 0;
	r->try_deadline = now + (uint64_t)r->rc.timeout_ms;
	if (r->try_deadline > r->deadline)
		r->try_deadline = r->deadline;
}

static void query_start(resolv_t *r, const char *name, uint16_t qtype, uint64_t now)
{
	if (name != r->qname) { /* callers may pass r->qname itself */
		size_t n = strlen(name);
		if (n >= sizeof r->qname)
			n = sizeof r->qname - 1;
		memmove(r->qname, name, n);
		r->qname[n] = '\0';
	}
	r->qtype = qtype;
	r->server = 0;
	r->round = 0;
	r->n_servfail = r->n_refused = r->n_bad = r->n_timeout = 0;
	close_fd(r);
	r->tcp = false;
	send_try(r, now);
}

/* ---------------------------------------------------------------- results */

static void take_ttl(resolv_t *r, uint32_t ttl)
{
	if (ttl < r->ttl)
		r->ttl = ttl;
}

static void add_addr(resolv_target_t *t, const dns_addr_t *a, uint16_t port)
{
	char ip[FMT_INET_MAX];
	if (t->naddrs >= RESOLV_MAX_ADDRS)
		return;
	fmt_inet(a->addr, a->len, ip, sizeof ip);
	if (net_addr_literal(ip, port, &t->addrs[t->naddrs]) == 0)
		t->naddrs++;
}

/* Walk an answer: SRV records (answer section, owner = qname or a CNAME
 * alias of it) and addresses (answer and additional) for known names. */
static resolv_status_t absorb(resolv_t *r, dns_msg_t *m, uint64_t now)
{
	char owner[DNS_NAME_MAX + 1], alias[DNS_NAME_MAX + 1];
	dns_rr_t rr;
	dns_status_t st;
	int found = 0;

	fmt_snprintf(alias, sizeof alias, "%s", r->qname);
	(void)now;
	while ((st = dns_rr_next(m, &rr)) == DNS_OK) {
		if (rr.rclass != DNS_CLASS_IN)
			continue;
		if (dns_rr_owner(m, &rr, owner, sizeof owner) != DNS_OK)
			return RESOLV_BADANSWER;
		if (rr.section == DNS_SEC_ANSWER && rr.type == DNS_TYPE_CNAME &&
		    (dns_name_equal(owner, r->qname) || dns_name_equal(owner, alias))) {
			if (dns_rr_cname(m, &rr, alias, sizeof alias) != DNS_OK)
				return RESOLV_BADANSWER;
			continue;
		}
		if (rr.type == DNS_TYPE_SRV && rr.section == DNS_SEC_ANSWER && r->addr_phase == 0 &&
		    r->kind == RESOLV_SRV && (dns_name_equal(owner, r->qname) || dns_name_equal(owner, alias))) {
			if (r->nsrv < RESOLV_MAX_SRV && dns_rr_srv(m, &rr, &r->srv[r->nsrv]) == DNS_OK) {
				take_ttl(r, rr.ttl);
				r->nsrv++;
				found++;
			}
			continue;
		}
		if ((rr.type == DNS_TYPE_A || rr.type == DNS_TYPE_AAAA) &&
		    (rr.section == DNS_SEC_ANSWER || rr.section == DNS_SEC_ADDITIONAL)) {
			dns_addr_t a;
			if (dns_rr_addr(m, &rr, &a) != DNS_OK)
				return RESOLV_BADANSWER;
			if (r->kind == RESOLV_ADDR && rr.section == DNS_SEC_ANSWER &&
			    (dns_name_equal(owner, r->qname) || dns_name_equal(owner, alias))) {
				add_addr(&r->tgt[0], &a, r->port);
				take_ttl(r, rr.ttl);
				found++;
				continue;
			}
			/* an address for an SRV target (additional section, or
			 * the answer to our own A/AAAA query for it) */
			for (size_t i = 0; i < r->nsrv; i++)
				if (dns_name_equal(owner, r->srv[i].target) ||
				    (r->addr_phase > 0 && (int)i == r->itgt && dns_name_equal(owner, alias))) {
					add_addr(&r->tgt[i], &a, r->srv[i].port);
					take_ttl(r, rr.ttl);
					if (r->addr_phase > 0)
						found++;
				}
		}
	}
	if (st != DNS_END)
		return RESOLV_BADANSWER;
	return found > 0 ? RESOLV_OK : RESOLV_NODATA;
}

static void done(resolv_t *r, resolv_status_t st)
{
	close_fd(r);
	r->status = st;
}

/* Address phase: resolve the next target that has no address yet. */
static void next_target(resolv_t *r, uint64_t now)
{
	for (;;) {
		if (r->addr_phase == 2 || r->addr_phase == 0) {
			/* move to the next target needing addresses */
			r->itgt = r->addr_phase == 0 ? 0 : r->itgt + 1;
			r->addr_phase = 1;
			while (r->itgt < r->ntgt && r->tgt[r->itgt].naddrs > 0)
				r->itgt++;
			if (r->itgt >= r->ntgt)
				break;
			query_start(r, r->tgt[r->itgt].srv.target, DNS_TYPE_A, now);
			return;
		}
		/* A done: AAAA for the same target */
		r->addr_phase = 2;
		query_start(r, r->tgt[r->itgt].srv.target, DNS_TYPE_AAAA, now);
		return;
	}
	/* OK even when a target has no address: the records exist; callers
	 * skip targets without addresses */
	for (int i = 0; i < r->ntgt; i++)
		if (r->tgt[i].naddrs == 0)
			note(r, "no address for %s", r->tgt[i].srv.target);
	done(r, RESOLV_OK);
}

static void srv_answer_done(resolv_t *r, uint64_t now)
{
	size_t order[RESOLV_MAX_SRV], count = 0;
	dns_status_t st = dns_srv_order(r->srv, r->nsrv, rnd32, NULL, order, &count);
	if (st == DNS_NO_SERVICE) {
		done(r, RESOLV_NO_SERVICE);
		return;
	}
	{
		/* reorder srv[] and attach addresses already known: hosts file
		 * first (as the system resolver would), else the additional
		 * section collected in tgt[] by absorb() */
		resolv_target_t sorted[RESOLV_MAX_SRV];
		memset(sorted, 0, sizeof sorted);
		for (size_t i = 0; i < count; i++) {
			resolv_target_t *t = &sorted[i];
			net_addr_t h[RESOLV_MAX_ADDRS];
			int nh;
			*t = r->tgt[order[i]];
			t->srv = r->srv[order[i]];
			nh = net_resolve_local(t->srv.target, t->srv.port, r->rc.hosts, h, RESOLV_MAX_ADDRS);
			if (nh > 0) {
				memcpy(t->addrs, h, sizeof h[0] * (size_t)nh);
				t->naddrs = nh;
			}
		}
		memcpy(r->tgt, sorted, sizeof sorted[0] * count);
		for (size_t i = 0; i < count; i++)
			r->srv[i] = r->tgt[i].srv;
		r->nsrv = count;
		r->ntgt = (int)count;
	}
	r->addr_phase = 0;
	next_target(r, now);
}

static void failed_query(resolv_t *r, resolv_status_t st, uint64_t now)
{
	close_fd(r);
	if (r->addr_phase > 0) { /* a target's A or AAAA: not fatal */
		next_target(r, now);
		return;
	}
	if ((st == RESOLV_NXDOMAIN || st == RESOLV_NODATA) && r->icand + 1 < r->ncand) {
		r->icand++;
		query_start(r, r->cand[r->icand], r->kind == RESOLV_SRV ? DNS_TYPE_SRV : DNS_TYPE_A, now);
		return;
	}
	if (r->kind == RESOLV_ADDR && r->qtype == DNS_TYPE_A && (st == RESOLV_NODATA || st == RESOLV_OK)) {
		query_start(r, r->qname, DNS_TYPE_AAAA, now);
		return;
	}
	if (r->kind == RESOLV_ADDR && r->tgt[0].naddrs > 0) {
		done(r, RESOLV_OK);
		return;
	}
	done(r, st);
}

/* A complete response is in r->resp[0..rlen). */
static void handle_response(resolv_t *r, uint64_t now)
{
	dns_msg_t m;
	char srv[NET_ADDR_STRLEN];
	dns_status_t st = dns_response_check(&m, r->resp, r->rlen, r->q + 2, r->qlen);
	resolv_status_t rs;

	net_addr_format(&r->rc.servers[r->server], srv, sizeof srv);
	if (st == DNS_E_ID || st == DNS_E_QUESTION || st == DNS_E_HEADER) {
		/* not the answer to our question: ignore it, keep waiting (a
		 * spoofed or stale datagram must not end the query) */
		log_debug("dns", "ignored a mismatched answer from %s: %s", srv, dns_strerror(st));
		if (r->tcp)
			goto bad;
		return;
	}
	if (st != DNS_OK)
		goto bad;
	if (m.tc && !r->tcp) {
		log_debug("dns", "answer from %s truncated: retrying over TCP", srv);
		start_tcp(r, now);
		return;
	}
	switch (m.rcode) {
	case DNS_RCODE_NOERROR:
		break;
	case DNS_RCODE_NXDOMAIN:
		close_fd(r);
		failed_query(r, RESOLV_NXDOMAIN, now);
		return;
	case DNS_RCODE_SERVFAIL:
		note(r, "%s: SERVFAIL for %s", srv, r->qname);
		r->n_servfail++;
		next_server(r, now);
		return;
	case DNS_RCODE_REFUSED:
		note(r, "%s: REFUSED %s", srv, r->qname);
		r->n_refused++;
		next_server(r, now);
		return;
	default:
		note(r, "%s: rcode %u for %s", srv, m.rcode, r->qname);
		r->n_bad++;
		next_server(r, now);
		return;
	}
	close_fd(r);
	rs = absorb(r, &m, now);
	if (rs == RESOLV_BADANSWER) {
		note(r, "%s: malformed records for %s", srv, r->qname);
		r->n_bad++;
		next_server(r, now);
		return;
	}
	if (r->addr_phase > 0) {
		next_target(r, now);
		return;
	}
	if (rs == RESOLV_NODATA) {
		failed_query(r, RESOLV_NODATA, now);
		return;
	}
	if (r->kind == RESOLV_SRV) {
		srv_answer_done(r, now);
		return;
	}
	/* RESOLV_ADDR: A answered; try AAAA as well, then done */
	if (r->qtype == DNS_TYPE_A) {
		query_start(r, r->qname, DNS_TYPE_AAAA, now);
		return;
	}
	done(r, RESOLV_OK);
	return;
bad:
	note(r, "%s: %s", srv, dns_strerror(st));
	r->n_bad++;
	next_server(r, now);
}

/* ---------------------------------------------------------------- API */

resolv_t *resolv_start(const resolv_conf_t *rc, resolv_kind_t kind,
	const char *name, uint16_t port, uint64_t now)
{
	resolv_t *r = calloc(1, sizeof *r);
	int total;
	if (r == NULL)
		return NULL;
	r->rc = *rc;
	r->kind = kind;
	r->port = port;
	r->fd = -1;
	r->ttl = UINT32_MAX;
	r->status = RESOLV_PENDING;
	total = rc->total_ms > 0 ? rc->total_ms : rc->timeout_ms * rc->attempts * rc->nservers;
	r->deadline = now + (uint64_t)total;
	/* a total deadline shorter than every try's wait would leave the later
	 * servers unasked: share it out, as the system resolver does */
	if (rc->total_ms > 0 && rc->timeout_ms * rc->attempts * rc->nservers > total) {
		int per = total / (rc->attempts * rc->nservers);
		r->rc.timeout_ms = per < 200 ? 200 : per;
	}
	if (kind == RESOLV_ADDR) {
		int n = net_resolve_local(name, port, rc->hosts, r->tgt[0].addrs, RESOLV_MAX_ADDRS);
		r->ntgt = 1;
		fmt_snprintf(r->tgt[0].srv.target, sizeof r->tgt[0].srv.target, "%s", name);
		r->tgt[0].srv.port = port;
		if (n > 0) {
			r->tgt[0].naddrs = n;
			r->ttl = 0;
			r->status = RESOLV_OK;
			return r;
		}
	}
	build_candidates(r, name);
	if (r->ncand == 0 || strlen(name) > DNS_NAME_MAX) {
		note(r, "not a valid name");
		r->status = RESOLV_ERROR;
		return r;
	}
	query_start(r, r->cand[0], kind == RESOLV_SRV ? DNS_TYPE_SRV : DNS_TYPE_A, now);
	return r;
}

void resolv_free(resolv_t *r)
{
	if (r == NULL)
		return;
	close_fd(r);
	free(r);
}

int resolv_pollfd(resolv_t *r, struct pollfd *p)
{
	if (r->status != RESOLV_PENDING || r->fd < 0)
		return 0;
	p->fd = r->fd;
	p->events = POLLIN;
	if (r->tcp && r->tcp_sent < r->qlen + 2)
		p->events = POLLOUT;
	p->revents = 0;
	return 1;
}

int resolv_timeout_ms(resolv_t *r, uint64_t now)
{
	uint64_t d;
	if (r->status != RESOLV_PENDING)
		return -1;
	d = r->try_deadline < r->deadline ? r->try_deadline : r->deadline;
	return d <= now ? 0 : (int)(d - now);
}

static void read_udp(resolv_t *r, uint64_t now)
{
	for (int i = 0; i < 16 && r->status == RESOLV_PENDING && r->fd >= 0 && !r->tcp; i++) {
		ssize_t n = recv(r->fd, r->resp, RESP_MAX, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			/* ICMP port unreachable and the like */
			char srv[NET_ADDR_STRLEN];
			net_addr_format(&r->rc.servers[r->server], srv, sizeof srv);
			note(r, "%s: %s", srv, strerror(errno));
			r->n_timeout++;
			next_server(r, now);
			return;
		}
		r->rlen = (size_t)n;
		handle_response(r, now);
	}
}

static void do_tcp(resolv_t *r, uint64_t now)
{
	if (r->tcp_sent < r->qlen + 2) {
		long n;
		if (r->tcp_sent == 0 && net_connect_result(r->fd) != 0) {
			note(r, "TCP connect refused");
			r->n_bad++;
			next_server(r, now);
			return;
		}
		n = net_fd_send(r->fd, r->q + r->tcp_sent, r->qlen + 2 - r->tcp_sent);
		if (n < 0) {
			r->n_bad++;
			next_server(r, now);
			return;
		}
		r->tcp_sent += (size_t)n;
		return;
	}
	for (;;) {
		size_t want = r->rlen < 2 ? 2 : 2 + (((size_t)r->resp[0] << 8) | r->resp[1]);
		long n;
		if (r->rlen >= 2 && r->rlen == want) {
			memmove(r->resp, r->resp + 2, want - 2);
			r->rlen = want - 2;
			handle_response(r, now);
			return;
		}
		n = net_fd_recv(r->fd, r->resp + r->rlen, want - r->rlen);
		if (n == 0)
			return;
		if (n < 0) {
			note(r, "TCP answer cut short");
			r->n_bad++;
			next_server(r, now);
			return;
		}
		r->rlen += (size_t)n;
	}
}

resolv_status_t resolv_process(resolv_t *r, const struct pollfd *p, uint64_t now)
{
	if (r->status != RESOLV_PENDING)
		return r->status;
	if (p != NULL && r->fd >= 0 && p->fd == r->fd && p->revents != 0) {
		if (r->tcp)
			do_tcp(r, now);
		else
			read_udp(r, now);
	}
	if (r->status == RESOLV_PENDING && r->fd >= 0 && now >= r->try_deadline) {
		char srv[NET_ADDR_STRLEN];
		net_addr_format(&r->rc.servers[r->server], srv, sizeof srv);
		note(r, "%s: no answer for %s %s", srv, r->qtype == DNS_TYPE_SRV ? "SRV" :
			r->qtype == DNS_TYPE_A ? "A" : "AAAA", r->qname);
		r->n_timeout++;
		next_server(r, now);
	}
	if (r->status == RESOLV_PENDING && r->fd < 0 && now >= r->deadline)
		failed_query(r, give_up_status(r), now);
	return r->status;
}

resolv_status_t resolv_status(const resolv_t *r) { return r->status; }
const char *resolv_detail(const resolv_t *r) { return r->detail; }
uint32_t resolv_ttl(const resolv_t *r) { return r->ttl == UINT32_MAX ? 0 : r->ttl; }

int resolv_targets(const resolv_t *r, const resolv_target_t **out)
{
	*out = r->tgt;
	return r->status == RESOLV_OK ? r->ntgt : 0;
}

resolv_status_t resolv_wait(resolv_t *r)
{
	while (r->status == RESOLV_PENDING) {
		struct pollfd p;
		int have = resolv_pollfd(r, &p);
		uint64_t now = clock_mono_ms();
		int t = resolv_timeout_ms(r, now);
		if (have)
			net_poll(&p, 1, t);
		else if (t > 0)
			clock_sleep_ms((uint32_t)t);
		resolv_process(r, have ? &p : NULL, clock_mono_ms());
	}
	return r->status;
}
