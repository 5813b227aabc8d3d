/*
 * resolv.h -- our stub resolver: nameservers and options from
 * /etc/resolv.conf (or DMQTT_DNS_SERVER / --server), queries built and
 * checked by proto/dns, UDP with a fresh socket (so a fresh source port,
 * picked at random by the kernel) and a random ID per transmission (RFC
 * 5452), TCP when the answer is truncated, retries across servers within a
 * total deadline (see docs/dns.md, "Timeouts").
 *
 * Non-blocking: a lookup is a state machine the caller's poll loop drives
 * (resolv_pollfd / resolv_timeout_ms / resolv_process), so it never stalls
 * MQTT sessions in the same loop.  resolv_wait() drives one lookup alone,
 * for the command-line tools.
 *
 * A lookup of kind RESOLV_SRV finds the SRV records of a name, orders them
 * by RFC 2782 and resolves every target: from the hosts file first, then the
 * response's additional section, else A and AAAA queries.  The hosts file
 * is kept in memory (per process) and stat()ed again at most once a second.
 *
 * One thread: the hosts cache and the random pool are unlocked globals.
 */
#ifndef DMQTT_RESOLV_H
#define DMQTT_RESOLV_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include "platform/net.h"
#include "proto/dns.h"

#define RESOLV_MAX_SERVERS 3
#define RESOLV_MAX_SEARCH 6
#define RESOLV_MAX_SRV 16
#define RESOLV_MAX_ADDRS 4   /* per target */

typedef struct {
	net_addr_t servers[RESOLV_MAX_SERVERS];
	int nservers;
	char search[RESOLV_MAX_SEARCH][DNS_NAME_MAX];
	int nsearch;
	int ndots;          /* default 1 */
	int timeout_ms;     /* longest try, default 2000 (resolv.conf: timeout:N s) */
	int attempts;       /* rounds over the servers, default 2 */
	int total_ms;       /* whole lookup deadline, default timeout*attempts*servers;
			     * each try waits an equal share of what is left of it
			     * (at most timeout_ms), so a short one still reaches
			     * every server */
	const char *hosts;  /* hosts file, NULL: /etc/hosts */
} resolv_conf_t;

/* Defaults, then the file (NULL: /etc/resolv.conf; a missing file leaves
 * 127.0.0.1:53 as glibc does).  0, or -errno when the file exists but
 * cannot be read. */
int resolv_conf_load(resolv_conf_t *rc, const char *path);
/* Replace the servers with "ip[:port][,ip[:port]]..." (at most 3, tried in
 * order); 0 or -EINVAL. */
int resolv_conf_server(resolv_conf_t *rc, const char *ipport);
/* resolv_conf_load, then DMQTT_DNS_SERVER if set (and DMQTT_RESOLV_CONF
 * as the file path).  0 or -errno with a message in err. */
int resolv_conf_default(resolv_conf_t *rc, char *err, size_t errcap);

typedef enum {
	RESOLV_OK = 0,
	RESOLV_PENDING,     /* still working: keep calling resolv_process */
	RESOLV_NXDOMAIN,    /* the name does not exist */
	RESOLV_NODATA,      /* the name exists but has no record of the type */
	RESOLV_NO_SERVICE,  /* SRV target "." : explicitly not offered */
	RESOLV_SERVFAIL,    /* every server failed (SERVFAIL) */
	RESOLV_REFUSED,     /* every server refused */
	RESOLV_TIMEOUT,     /* no usable answer before the deadline */
	RESOLV_BADANSWER,   /* answers were malformed */
	RESOLV_ERROR        /* local error (socket, bad name) */
} resolv_status_t;

const char *resolv_strerror(resolv_status_t st);

typedef enum { RESOLV_SRV, RESOLV_ADDR } resolv_kind_t;

typedef struct {
	dns_srv_t srv;
	net_addr_t addrs[RESOLV_MAX_ADDRS];
	int naddrs;
} resolv_target_t;

typedef struct resolv resolv_t;

/* Start a lookup of name (SRV, or A+AAAA for RESOLV_ADDR, whose addresses
 * get the given port).  NULL on allocation failure. */
resolv_t *resolv_start(const resolv_conf_t *rc, resolv_kind_t kind,
	const char *name, uint16_t port, uint64_t now);
void resolv_free(resolv_t *r);

/* Driving a lookup from a poll loop: resolv_pollfd fills p (1) or says
 * there is no descriptor to wait for (0); resolv_timeout_ms is the most to
 * wait from now (-1 when done); resolv_process takes p after poll() (or
 * NULL) and the time.  now, here and in resolv_start, is clock_mono_ms()
 * or another millisecond clock that every lookup shares (the hosts cache
 * compares readings of different lookups). */
int resolv_pollfd(resolv_t *r, struct pollfd *p);
int resolv_timeout_ms(resolv_t *r, uint64_t now);
resolv_status_t resolv_process(resolv_t *r, const struct pollfd *p, uint64_t now);
resolv_status_t resolv_status(const resolv_t *r);

/* Results once RESOLV_OK: targets in the order a client should try them
 * (RFC 2782; one pseudo-target with the addresses for RESOLV_ADDR). */
int resolv_targets(const resolv_t *r, const resolv_target_t **out);
/* What each server did, for error messages ("127.0.0.1:53 timed out; ..."). */
const char *resolv_detail(const resolv_t *r);
/* Smallest TTL of the records used, seconds. */
uint32_t resolv_ttl(const resolv_t *r);

/* Drive r alone until it is done; returns its status. */
resolv_status_t resolv_wait(resolv_t *r);

#endif
