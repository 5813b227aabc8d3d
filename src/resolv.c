/* resolv.c -- see resolv.h */
#include "src/resolv.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platform/clock.h"
#include "platform/log.h"
#include "platform/random.h"
#include "platform/fmt.h"

#define MAX_CAND (RESOLV_MAX_SEARCH + 1)
#define RESP_MAX 65535
/* Shortest try worth keeping the retry rounds for: when an equal share of
 * the time left is below it, the later rounds are given up and the servers
 * left in this round share the time instead (see try_until). */
#define MIN_TRY_MS 200
/* Largest hosts file kept in memory; a larger one is read per lookup. */
#define HOSTS_CAP 8192
/* The hosts file is stat()ed again at most this often (systemd-resolved:
 * every 2 s), so an edit shows within a second. */
#define HOSTS_RECHECK_MS 1000

/* ---------------------------------------------------------------- config */

/* The n-th of a run of NUL-terminated strings (n is in range). */
static const char *nth(const char *s, unsigned n)
{
	while (n-- > 0)
		s += strlen(s) + 1;
	return s;
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

static const char resolv_conf_path[] = "/etc/resolv.conf";

int resolv_conf_load(resolv_conf_t *rc, const char *path)
{
	char line[512];
	int opt[3] = { 1, 2, 2 }; /* the defaults: ndots 1, timeout 2 s, attempts 2 */
	FILE *f;

	memset(rc, 0, sizeof *rc);
	f = fopen(path != NULL ? path : resolv_conf_path, "re");
	if (f == NULL && errno != ENOENT)
		return -errno;
	while (f != NULL && fgets(line, sizeof line, f) != NULL) {
		char *save = NULL, *key = strtok_r(line, " \t\r\n", &save), *v;
		if (key == NULL)
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
			/* ndots:0..15, timeout:1..30 (seconds), attempts:1..5;
			 * larger values are clamped, smaller ones ignored */
			static const uint8_t lo[] = { 0, 1, 1 }, hi[] = { 15, 30, 5 };
			while ((v = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
				const char *o = "ndots:\0timeout:\0attempts:";
				for (unsigned k = 0; k < 3; k++, o += strlen(o) + 1) {
					size_t ol = strlen(o);
					long n;
					if (strncmp(v, o, ol) == 0 && (n = strtol(v + ol, NULL, 10)) >= lo[k])
						opt[k] = n > hi[k] ? hi[k] : (int)n;
				}
			}
		}
		/* anything else, '#' and ';' comments included, is ignored */
	}
	if (f != NULL)
		fclose(f);
	rc->ndots = opt[0];
	rc->timeout_ms = opt[1] * 1000;
	rc->attempts = opt[2];
	if (rc->nservers == 0) { /* no file, or no nameserver line: as glibc */
		net_addr_literal("127.0.0.1", 53, &rc->servers[0]);
		rc->nservers = 1;
	}
	return 0;
}

int resolv_conf_default(resolv_conf_t *rc, char *err, size_t errcap)
{
	static const char env_server[] = "DMQTT_DNS_SERVER";
	const char *path = getenv("DMQTT_RESOLV_CONF"), *srv = getenv(env_server);
	int r = resolv_conf_load(rc, path);
	if (r != 0) {
		fmt_snprintf(err, errcap, "cannot read %s: %s", path != NULL ? path : resolv_conf_path,
			strerror(-r));
		return r;
	}
	if (srv != NULL && *srv != '\0' && resolv_conf_server(rc, srv) != 0) {
		fmt_snprintf(err, errcap, "%s is not ip[:port]", env_server);
		return -EINVAL;
	}
	rc->hosts = getenv("DMQTT_HOSTS");
	return 0;
}

const char *resolv_strerror(resolv_status_t st)
{
	if (st == RESOLV_NO_SERVICE)
		return dns_strerror(DNS_NO_SERVICE);
	/* in resolv_status_t order */
	return (unsigned)st > RESOLV_ERROR ? "?" : nth("ok\0in progress\0no such name (NXDOMAIN)\0"
		"no record of that type\0\0server failure (SERVFAIL)\0query refused (REFUSED)\0"
		"no answer in time\0malformed answer\0local error", st);
}

/* ---------------------------------------------------------------- state */

struct resolv {
	resolv_kind_t kind;
	resolv_status_t status;
	uint16_t qtype;                /* the question on the wire */
	int server, round, fd;
	unsigned ntry;                 /* transmissions so far */
	unsigned failed;               /* bit 1 << st for each server failure st */
	int ncand, icand;              /* candidate names (search list applied) */
	int ntgt, itgt;                /* address phase: target being resolved */
	int addr_phase;                /* 0: SRV/first query, 1: A, 2: AAAA */
	bool tcp;
	uint32_t hosted;               /* bit i: tgt[i] came from the hosts file */
	size_t qlen, tcp_sent, rlen, nsrv;
	uint64_t deadline;             /* whole lookup */
	uint64_t try_deadline;         /* this transmission */
	uint32_t ttl;
	uint8_t q[DNS_QUERY_MAX + 2];  /* +2: TCP length prefix */
	char qname[DNS_NAME_MAX + 1];
	char detail[512];
	/* from here on not cleared by resolv_start */
	resolv_conf_t rc;
	char cand[MAX_CAND][DNS_NAME_MAX + 1];
	dns_srv_t srv[RESOLV_MAX_SRV];
	resolv_target_t tgt[RESOLV_MAX_SRV];
	uint8_t resp[RESP_MAX + 2];
};


/* ---------------------------------------------------------------- hosts */

/*
 * The hosts file, kept in memory between lookups.  It is revalidated with
 * one stat() -- a changed device, inode, size or modification time reloads
 * it -- unless the same file was checked less than HOSTS_RECHECK_MS ago.
 * (The resolver runs on one thread.)
 */
struct hosts_id {
	dev_t dev;
	ino_t ino;      /* 0: no file (or no access): no entries */
	off_t size;
	struct timespec mtime;
};

static struct {
	struct hosts_id id;
	bool big;             /* too big or not read whole: read per lookup */
	uint64_t checked;     /* when (ms, the lookups' clock) */
	char path[128];       /* of the file checked; a longer one never matches */
	size_t len;
	char text[HOSTS_CAP];
} hosts;

static void hosts_check(const char *path, uint64_t now)
{
	struct stat st;
	struct hosts_id id;
	ssize_t n = -1;
	int fd;

	if (now >= hosts.checked && now - hosts.checked < HOSTS_RECHECK_MS &&
	    strcmp(path, hosts.path) == 0)
		return;
	hosts.checked = now;
	strncpy(hosts.path, path, sizeof hosts.path - 1);
	memset(&id, 0, sizeof id); /* padding included: compared with memcmp */
	if (stat(path, &st) == 0) {
		id.dev = st.st_dev;
		id.ino = st.st_ino;
		id.size = st.st_size;
		id.mtime = st.st_mtim;
	}
	if (memcmp(&id, &hosts.id, sizeof id) == 0)
		return;
	/* (re)load.  Replaced between stat() and read()?  Then the next
	 * check's stat() differs and loads it again. */
	memcpy(&hosts.id, &id, sizeof id);
	fd = id.ino != 0 && id.size < HOSTS_CAP ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd >= 0) {
		n = read(fd, hosts.text, HOSTS_CAP);
		close(fd);
	}
	/* anything but the whole file in one read: the uncached path */
	hosts.len = n == id.size ? (size_t)n : 0;
	hosts.big = id.ino != 0 && n != id.size;
}

/* Addresses of name in the cached text: "addr name alias..." lines, '#'
 * comments, names without regard to case, one address per line (as
 * net_resolve_local reads the file). */
static int hosts_find(const char *name, uint16_t port, net_addr_t *out)
{
	const char *p = hosts.text, *end = p + hosts.len;
	int n = 0;

	while (p < end && n < RESOLV_MAX_ADDRS) {
		char line[512], *save = NULL, *addr, *tok;
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((eol != NULL ? eol : end) - p);
		if (len >= sizeof line)
			len = sizeof line - 1;
		memcpy(line, p, len);
		line[len] = '\0';
		p = eol != NULL ? eol + 1 : end;
		line[strcspn(line, "#")] = '\0';
		addr = strtok_r(line, " \t\r", &save);
		while (addr != NULL && (tok = strtok_r(NULL, " \t\r", &save)) != NULL)
			if (strcasecmp(tok, name) == 0) {
				n += net_addr_literal(addr, port, &out[n]) == 0;
				break;
			}
	}
	return n;
}

/* What the system resolver answers without DNS: an IP literal, the hosts
 * file, "localhost".  Fills out[RESOLV_MAX_ADDRS]; 0: ask DNS. */
static int local_addrs(resolv_t *r, const char *name, uint16_t port, net_addr_t *out, uint64_t now)
{
	size_t l = strlen(name);
	int n;
	if (net_addr_literal(name, port, out) == 0)
		return 1;
	hosts_check(r->rc.hosts != NULL ? r->rc.hosts : "/etc/hosts", now);
	n = hosts_find(name, port, out);
	/* a big file, or the built-in localhost names: the uncached path */
	if (hosts.big || (n == 0 && l >= 9 && strcasecmp(name + l - 9, "localhost") == 0))
		n = net_resolve_local(name, port, r->rc.hosts, out, RESOLV_MAX_ADDRS);
	return n;
}

/* 32 random bits for query IDs and RFC 2782 draws: from a pool of
 * getrandom() bytes, refilled when empty (one system call per 64 draws, as
 * arc4random buffers).  Per process: dmqtt forks only to exec.  Also a
 * dns_rand_fn (ctx unused). */
static uint32_t draw(void *ctx)
{
	static struct {
		uint8_t b[256];
		unsigned n;
	} pool;
	uint32_t v;
	(void)ctx;
	if (pool.n < sizeof v) {
		if (random_bytes(pool.b, sizeof pool.b) != 0)
			abort(); /* no randomness, no safe DNS; no supported kernel */
		pool.n = sizeof pool.b;
	}
	pool.n -= sizeof v;
	memcpy(&v, pool.b + pool.n, sizeof v);
	return v;
}

/* Where the next note of the detail line goes, after "; " if there is one
 * already: a buffer of *cap bytes. */
static char *note_at(resolv_t *r, size_t *cap)
{
	size_t n = strlen(r->detail);
	*cap = 1; /* full: nothing more */
	if (n + 4 >= sizeof r->detail)
		return r->detail + n;
	if (n > 0) {
		memcpy(r->detail + n, "; ", 3);
		n += 2;
	}
	*cap = sizeof r->detail - n;
	return r->detail + n;
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

/* The names to ask, in order (resolv.conf "search" and "ndots"): an
 * absolute name alone; else the name itself first when it has ndots dots,
 * the name in each search domain, and the name itself last otherwise. */
static void build_candidates(resolv_t *r, const char *name)
{
	size_t n = strlen(name);
	bool rooted = n > 0 && name[n - 1] == '.';
	int ns = rooted ? 0 : r->rc.nsearch, first = rooted || dots(name) >= r->rc.ndots;

	r->ncand = 0;
	for (int i = -1; i <= ns; i++) {
		char *c = r->cand[r->ncand];
		int l;
		if (i == (first ? ns : -1))
			continue;
		/* the name as given, less a final dot; or NAME.DOMAIN */
		l = i < 0 || i == ns ? fmt_snprintf(c, DNS_NAME_MAX + 1, "%.*s", (int)(n - rooted), name) :
			fmt_snprintf(c, DNS_NAME_MAX + 1, "%s.%s", name, r->rc.search[i]);
		r->ncand += l > 0 && l <= DNS_NAME_MAX;
	}
}

/*
 * When this transmission gives up: an equal share of the time left before
 * the lookup's deadline among the tries this query may still make (what is
 * left of this round, then the later rounds), at most the resolv.conf
 * timeout.  A share under MIN_TRY_MS drops the later rounds: the servers
 * left in this round share the time, so each is asked at least once.  So
 * the default (total = timeout * attempts * servers) waits exactly
 * timeout per try, and a shorter --timeout still reaches every server.
 */
static uint64_t try_until(const resolv_t *r, uint64_t now)
{
	uint64_t left = r->deadline > now ? r->deadline - now : 0;
	uint64_t in_round = (uint64_t)(r->rc.nservers - r->server);
	uint64_t t = left / (in_round + (uint64_t)(r->rc.attempts - r->round - 1) * (uint64_t)r->rc.nservers);
	if (t < MIN_TRY_MS)
		t = left / in_round;
	if (t > (uint64_t)r->rc.timeout_ms)
		t = (uint64_t)r->rc.timeout_ms;
	return now + t;
}

static void send_try(resolv_t *r, uint64_t now);
static void failed_query(resolv_t *r, resolv_status_t st, uint64_t now);

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

/* The current server gave no usable answer; why is the resolv_status_t it
 * counts as.  Notes "SERVER: WHAT[CODE] for TYPE NAME" and moves on. */
static void fail_try(resolv_t *r, resolv_status_t why, const char *what, unsigned code, uint64_t now)
{
	char a[NET_ADDR_STRLEN];
	size_t cap;
	char *d = note_at(r, &cap);
	net_addr_format(&r->rc.servers[r->server], a, sizeof a);
	/* %.0u prints nothing for a code of 0 */
	fmt_snprintf(d, cap, "%s: %s%.0u for %s %s", a, what, code, r->qtype == DNS_TYPE_SRV ? "SRV" :
		r->qtype == DNS_TYPE_A ? "A" : "AAAA", r->qname);
	r->failed |= 1u << why;
	next_server(r, now);
}

/* What a query that got no usable answer reports: SERVFAIL before REFUSED
 * before a malformed answer (their order in resolv_status_t) before a
 * timeout. */
static resolv_status_t give_up_status(const resolv_t *r)
{
	unsigned f = r->failed & ~(1u << RESOLV_TIMEOUT);
	return f != 0 ? (resolv_status_t)__builtin_ctz(f) : RESOLV_TIMEOUT;
}

static void send_try(resolv_t *r, uint64_t now)
{
	size_t len;
	if (r->round >= r->rc.attempts || now >= r->deadline) {
		failed_query(r, give_up_status(r), now);
		return;
	}
	/* a fresh random ID for every transmission */
	if (dns_query_encode(r->q + 2, DNS_QUERY_MAX, &len, (uint16_t)draw(NULL), r->qname, r->qtype,
		DNS_QUERY_EDNS0) != DNS_OK) {
		failed_query(r, RESOLV_ERROR, now);
		return;
	}
	r->qlen = len;
	r->ntry++;
	/* and a fresh socket: its source port is picked at random by the
	 * kernel when connect() binds it (see docs/dns.md); connected, so
	 * datagrams from any other address or port are dropped */
	r->fd = net_udp_connect(&r->rc.servers[r->server]);
	if (r->fd < 0) {
		const char *e = strerror(-r->fd);
		r->fd = -1;
		fail_try(r, RESOLV_BADANSWER, e, 0, now);
		return;
	}
	if (net_fd_send(r->fd, r->q + 2, len) != (long)len) {
		fail_try(r, RESOLV_BADANSWER, "send failed", 0, now);
		return;
	}
	r->try_deadline = try_until(r, now);
}

static void start_tcp(resolv_t *r, uint64_t now)
{
	close_fd(r);
	r->fd = net_tcp_connect(&r->rc.servers[r->server]);
	if (r->fd < 0) {
		r->fd = -1;
		fail_try(r, RESOLV_BADANSWER, "TCP connect failed", 0, now);
		return;
	}
	r->tcp = true;
	r->q[0] = (uint8_t)(r->qlen >> 8);
	r->q[1] = (uint8_t)r->qlen;
	r->tcp_sent = 0;
	r->rlen = 0;
	r->try_deadline = try_until(r, now);
}

static void query_start(resolv_t *r, const char *name, uint16_t qtype, uint64_t now)
{
	/* name: a candidate, a target or r->qname itself, all shorter
	 * than qname */
	memmove(r->qname, name, strlen(name) + 1);
	r->qtype = qtype;
	r->server = 0;
	r->round = 0;
	r->failed = 0;
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

/* The socket address of a dns_addr_t, filled byte-wise: port at 2 and
 * address at 4 (IPv4) or 8 (IPv6), in network order like the wire. */
_Static_assert(offsetof(struct sockaddr_in, sin_port) == 2 &&
	offsetof(struct sockaddr_in6, sin6_port) == 2 &&
	offsetof(struct sockaddr_in, sin_addr) == 4 &&
	offsetof(struct sockaddr_in6, sin6_addr) == 8, "sockaddr layout");

static void add_addr(resolv_t *r, resolv_target_t *t, const dns_addr_t *a, uint16_t port, uint32_t ttl)
{
	net_addr_t *o;
	uint8_t *b;
	if (t->naddrs >= RESOLV_MAX_ADDRS)
		return;
	o = &t->addrs[t->naddrs++];
	take_ttl(r, ttl);
	memset(o, 0, sizeof *o);
	b = (uint8_t *)&o->ss;
	o->ss.ss_family = a->len == 4 ? AF_INET : AF_INET6;
	b[2] = (uint8_t)(port >> 8);
	b[3] = (uint8_t)port;
	memcpy(b + (a->len == 4 ? 4 : 8), a->addr, a->len);
	o->len = a->len == 4 ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

/* Walk a checked, wholly valid answer: SRV records (answer section, owner
 * the question name or a CNAME alias of it) until the targets are ordered,
 * then addresses: for the name asked (answer section), and for targets not
 * in the hosts file (also from the additional section).  Records whose
 * names cannot be text are skipped.  Returns how many records of the type
 * asked for were used. */
static int absorb(resolv_t *r, dns_msg_t m)
{
	char owner[DNS_NAME_MAX + 1], alias[DNS_NAME_MAX + 1] = "";
	dns_rr_t rr;
	int found = 0;

	while (dns_rr_next(&m, &rr) == DNS_OK) {
		dns_addr_t a;
		bool ours;
		if (rr.rclass != DNS_CLASS_IN || dns_rr_owner(&m, &rr, owner, sizeof owner) != DNS_OK)
			continue;
		ours = rr.section == DNS_SEC_ANSWER &&
			(dns_name_equal(owner, r->qname) || dns_name_equal(owner, alias));
		if (ours && rr.type == DNS_TYPE_CNAME) {
			if (dns_rr_cname(&m, &rr, alias, sizeof alias) != DNS_OK)
				alias[0] = '\0'; /* the chain ends here */
		} else if (ours && rr.type == DNS_TYPE_SRV) {
			if (r->kind == RESOLV_SRV && r->ntgt == 0 && r->nsrv < RESOLV_MAX_SRV &&
			    dns_rr_srv(&m, &rr, &r->srv[r->nsrv]) == DNS_OK) {
				take_ttl(r, rr.ttl);
				r->nsrv++;
				found++;
			}
		} else if (rr.section != DNS_SEC_AUTHORITY && dns_rr_addr(&m, &rr, &a) == DNS_OK) {
			/* RESOLV_ADDR's name, or the target whose A/AAAA we asked */
			bool asked = ours && (r->kind == RESOLV_ADDR || r->addr_phase > 0);
			for (int i = 0; i < r->ntgt; i++)
				if ((asked && i == r->itgt) || (!(r->hosted >> i & 1) &&
				    dns_name_equal(owner, r->tgt[i].srv.target))) {
					add_addr(r, &r->tgt[i], &a, r->tgt[i].srv.port, rr.ttl);
					found += asked;
				}
		}
	}
	return found;
}

static void done(resolv_t *r, resolv_status_t st)
{
	close_fd(r);
	r->status = st;
}

/* Address phase: resolve the next target that has no address yet. */
static void next_target(resolv_t *r, uint64_t now)
{
	if (r->addr_phase == 1) { /* A done: AAAA for the same target */
		r->addr_phase = 2;
		query_start(r, r->tgt[r->itgt].srv.target, DNS_TYPE_AAAA, now);
		return;
	}
	/* move to the next target needing addresses */
	r->itgt = r->addr_phase == 0 ? 0 : r->itgt + 1;
	r->addr_phase = 1;
	while (r->itgt < r->ntgt && r->tgt[r->itgt].naddrs > 0)
		r->itgt++;
	if (r->itgt < r->ntgt) {
		query_start(r, r->tgt[r->itgt].srv.target, DNS_TYPE_A, now);
		return;
	}
	/* OK even when a target has no address: the records exist; callers
	 * skip targets without addresses */
	for (int i = 0; i < r->ntgt; i++)
		if (r->tgt[i].naddrs == 0) {
			size_t cap;
			char *d = note_at(r, &cap);
			fmt_snprintf(d, cap, "no address for %s", r->tgt[i].srv.target);
		}
	done(r, RESOLV_OK);
}

/* The SRV records of m are in srv[]: order them into tgt[] and attach the
 * addresses known: from the hosts file first (as the system resolver
 * would), else from m's additional section; A/AAAA queries for the rest. */
static void srv_answer_done(resolv_t *r, const dns_msg_t *m, uint64_t now)
{
	size_t order[RESOLV_MAX_SRV], count = 0;

	if (dns_srv_order(r->srv, r->nsrv, draw, NULL, order, &count) == DNS_NO_SERVICE) {
		done(r, RESOLV_NO_SERVICE);
		return;
	}
	for (size_t i = 0; i < count; i++) {
		resolv_target_t *t = &r->tgt[i];
		t->srv = r->srv[order[i]];
		t->naddrs = local_addrs(r, t->srv.target, t->srv.port, t->addrs, now);
		r->hosted |= (uint32_t)(t->naddrs > 0) << i;
	}
	r->ntgt = (int)count;
	absorb(r, *m);
	next_target(r, now);
}

/* The query ended without a usable answer: st says why. */
static void failed_query(resolv_t *r, resolv_status_t st, uint64_t now)
{
	/* (every way on closes the socket: query_start or done) */
	if (r->addr_phase > 0) { /* a target's A or AAAA: not fatal */
		next_target(r, now);
		return;
	}
	if (r->kind == RESOLV_ADDR && r->qtype == DNS_TYPE_A && st == RESOLV_NODATA) {
		query_start(r, r->qname, DNS_TYPE_AAAA, now); /* the name exists */
		return;
	}
	if ((st == RESOLV_NXDOMAIN || st == RESOLV_NODATA) && r->tgt[0].naddrs == 0 &&
	    r->icand + 1 < r->ncand) {
		r->icand++;
		query_start(r, r->cand[r->icand], r->kind == RESOLV_SRV ? DNS_TYPE_SRV : DNS_TYPE_A, now);
		return;
	}
	done(r, r->kind == RESOLV_ADDR && r->tgt[0].naddrs > 0 ? RESOLV_OK : st);
}

/* A complete response is in r->resp[0..rlen). */
static void handle_response(resolv_t *r, uint64_t now)
{
	dns_msg_t m, v;
	dns_rr_t rr;
	dns_status_t st = dns_response_check(&m, r->resp, r->rlen, r->q + 2, r->qlen);

	if (!r->tcp && (st == DNS_E_ID || st == DNS_E_QUESTION || st == DNS_E_HEADER)) {
		/* not the answer to our question: ignore it, keep waiting (a
		 * spoofed or stale datagram must not end the query) */
		log_debug("dns", "ignored an answer: %s", dns_strerror(st));
		return;
	}
	if (st == DNS_OK && m.tc && !r->tcp) { /* truncated: ask again over TCP */
		start_tcp(r, now);
		return;
	}
	if (st == DNS_OK) {
		switch (m.rcode) {
		case DNS_RCODE_NOERROR:
			/* one bad record condemns the message: check every
			 * record before using any */
			v = m;
			while ((st = dns_rr_next(&v, &rr)) == DNS_OK)
				;
			break;
		case DNS_RCODE_NXDOMAIN:
			failed_query(r, RESOLV_NXDOMAIN, now);
			return;
		case DNS_RCODE_SERVFAIL:
			fail_try(r, RESOLV_SERVFAIL, "SERVFAIL", 0, now);
			return;
		case DNS_RCODE_REFUSED:
			fail_try(r, RESOLV_REFUSED, "REFUSED", 0, now);
			return;
		default:
			fail_try(r, RESOLV_BADANSWER, "rcode ", m.rcode, now);
			return;
		}
	}
	if (st != DNS_END) {
		fail_try(r, RESOLV_BADANSWER, dns_strerror(st), 0, now);
		return;
	}
	if (absorb(r, m) == 0)
		failed_query(r, RESOLV_NODATA, now); /* the address phase goes on */
	else if (r->addr_phase > 0)
		next_target(r, now);
	else if (r->kind == RESOLV_SRV)
		srv_answer_done(r, &m, now);
	else if (r->qtype == DNS_TYPE_A) /* RESOLV_ADDR: AAAA as well */
		query_start(r, r->qname, DNS_TYPE_AAAA, now);
	else
		done(r, RESOLV_OK);
}

/* ---------------------------------------------------------------- API */

resolv_t *resolv_start(const resolv_conf_t *rc, resolv_kind_t kind,
	const char *name, uint16_t port, uint64_t now)
{
	resolv_t *r = malloc(sizeof *r);
	if (r == NULL)
		return NULL;
	memset(r, 0, offsetof(struct resolv, rc));
	r->rc = *rc;
	r->kind = kind;
	r->fd = -1;
	r->ttl = UINT32_MAX;
	r->status = RESOLV_PENDING;
	r->deadline = now + (uint64_t)(rc->total_ms > 0 ? rc->total_ms :
		rc->timeout_ms * rc->attempts * rc->nservers);
	memset(&r->tgt[0], 0, sizeof r->tgt[0]);
	if (kind == RESOLV_ADDR) {
		resolv_target_t *t = &r->tgt[0];
		r->ntgt = 1;
		fmt_snprintf(t->srv.target, sizeof t->srv.target, "%s", name);
		t->srv.port = port;
		t->naddrs = local_addrs(r, name, port, t->addrs, now);
		if (t->naddrs > 0) {
			r->ttl = 0;
			r->status = RESOLV_OK;
			return r;
		}
	}
	build_candidates(r, name);
	if (r->ncand == 0 || strlen(name) > DNS_NAME_MAX) {
		strcpy(r->detail, "not a valid name");
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
	if (r->status != RESOLV_PENDING)
		return -1;
	return r->try_deadline <= now ? 0 : (int)(r->try_deadline - now);
}

static void read_udp(resolv_t *r, uint64_t now)
{
	/* stop when the datagram ended this try: a new socket has nothing yet */
	for (unsigned i = 0, t = r->ntry; i < 16 && r->status == RESOLV_PENDING && r->ntry == t && !r->tcp; i++) {
		ssize_t n = recv(r->fd, r->resp, RESP_MAX, 0);
		if (n < 0) {
			/* ICMP port unreachable and the like */
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				fail_try(r, RESOLV_TIMEOUT, strerror(errno), 0, now);
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
			fail_try(r, RESOLV_BADANSWER, "TCP connect failed", 0, now);
			return;
		}
		n = net_fd_send(r->fd, r->q + r->tcp_sent, r->qlen + 2 - r->tcp_sent);
		if (n < 0) {
			fail_try(r, RESOLV_BADANSWER, "TCP send failed", 0, now);
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
			fail_try(r, RESOLV_BADANSWER, "TCP answer cut short", 0, now);
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
	if (r->status == RESOLV_PENDING && r->fd >= 0 && now >= r->try_deadline)
		fail_try(r, RESOLV_TIMEOUT, "no answer", 0, now);
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
	unsigned looked = 0;
	while (r->status == RESOLV_PENDING) {
		struct pollfd p;
		int have = resolv_pollfd(r, &p);
		uint64_t now = clock_mono_ms();
		int t = resolv_timeout_ms(r, now);
		/* one look at each new UDP query's socket before poll(): a
		 * server on this host (dnsmasq on the hub) has usually answered
		 * by the time send() returns; if not, it costs one recv() */
		if (have && !r->tcp && r->ntry != looked) {
			looked = r->ntry;
			p.revents = POLLIN;
		} else if (have)
			net_poll(&p, 1, t);
		else if (t > 0)
			clock_sleep_ms((uint32_t)t);
		resolv_process(r, have ? &p : NULL, clock_mono_ms());
	}
	return r->status;
}
