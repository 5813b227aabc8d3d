/*
 * dns.h -- DNS stub-resolver codec: encode one query, check and walk the
 * response, pick SRV targets by RFC 2782.
 *
 * Pure: no I/O, no allocation, no global state.  Randomness is passed in.
 * Every buffer is owned by the caller; nothing here keeps a pointer after a
 * call returns, except dns_msg_t, which points into the response buffer the
 * caller checked (keep that buffer alive and unchanged while walking it).
 *
 * Use (the resolver glue in src/ owns sockets, timers and the source-address
 * check):
 *
 *     dns_query_encode(q, sizeof q, &qlen, id, name, DNS_TYPE_SRV, DNS_QUERY_EDNS0);
 *     ... send q, receive r ...
 *     if (dns_response_check(&m, r, rlen, q, qlen) != DNS_OK)
 *             keep waiting (not our answer, or malformed);
 *     look at m.rcode and m.tc;
 *     while ((st = dns_rr_next(&m, &rr)) == DNS_OK)
 *             if (rr.type == DNS_TYPE_SRV) dns_rr_srv(&m, &rr, &srv[n++]);
 *     if (st != DNS_END) the message is malformed: discard all of it;
 *     dns_srv_order(srv, n, rnd, rnd_ctx, order, &count);
 *
 * Names given to or returned by this module are dotted ASCII text without
 * escapes: labels of 1..63 bytes in 0x21..0x7e other than '.', joined by
 * '.'.  Returned names carry no trailing dot; the root name is ".".  A name
 * whose labels hold other bytes is refused (DNS_E_NAME) rather than escaped.
 */
#ifndef DMQTT_DNS_H
#define DMQTT_DNS_H

#include <stddef.h>
#include <stdint.h>

/* Record types and the one class this module knows. */
enum {
	DNS_TYPE_A = 1,
	DNS_TYPE_CNAME = 5,
	DNS_TYPE_AAAA = 28,
	DNS_TYPE_SRV = 33,
	DNS_TYPE_OPT = 41,   /* EDNS0 pseudo-record; walked like any other */
	DNS_CLASS_IN = 1
};

/* Header RCODE values (RFC 1035 4.1.1), as found in dns_msg_t.rcode. */
enum {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5
};

/* Sections, as found in dns_rr_t.section. */
enum { DNS_SEC_ANSWER = 1, DNS_SEC_AUTHORITY = 2, DNS_SEC_ADDITIONAL = 3 };

#define DNS_QUERY_EDNS0   1u     /* dns_query_encode flag: add an OPT record */
#define DNS_EDNS_PAYLOAD  1232   /* UDP payload size the OPT record advertises */
/* Largest query dns_query_encode writes: header, 255-octet name, type and
 * class, OPT record. */
#define DNS_QUERY_MAX     (12 + 255 + 4 + 11)
/* Buffer size for any name this module returns: 253 characters + NUL. */
#define DNS_NAME_MAX      254

typedef enum dns_status {
	DNS_OK = 0,
	DNS_END,          /* dns_rr_next: no more records (not an error) */
	DNS_NO_SERVICE,   /* dns_srv_order: target "." -- service not offered */
	DNS_E_ARG,        /* NULL pointer, unknown qtype or flag, query bytes
			     that are not one question, record not from this
			     message, too many SRV records */
	DNS_E_NAME,       /* name not representable as text: empty, empty
			     label, label > 63, > 255 octets, byte outside
			     0x21..0x7e, '.' inside a label */
	DNS_E_SPACE,      /* caller buffer too small */
	DNS_E_SHORT,      /* message ends inside a header, name, record or
			     RDATA (RDLENGTH past the end) */
	DNS_E_POINTER,    /* compression pointer not strictly backwards, into
			     the header, or too many of them */
	DNS_E_FORMAT,     /* label type 0x40/0x80, name over 255 octets */
	DNS_E_RDATA,      /* RDLENGTH wrong for the type (A != 4, AAAA != 16,
			     SRV < 7) or its name not ending at RDATA's end */
	DNS_E_ID,         /* response ID differs from the query's */
	DNS_E_HEADER,     /* not a response (QR clear) or other opcode */
	DNS_E_QUESTION,   /* QDCOUNT != 1 or question name/type/class differ */
	DNS_E_TYPE        /* extraction asked of a record of another type or
			     class */
} dns_status_t;

/* A fixed, human-readable English string for any status value. */
const char *dns_strerror(dns_status_t st);

/*
 * Encode a recursive (RD) query for `name` (dotted text, trailing dot
 * optional; "." is the root) with QTYPE qtype (DNS_TYPE_A, _AAAA or _SRV
 * only), class IN, ID id (the caller draws it at random per query).
 * flags: 0 or DNS_QUERY_EDNS0, which appends an OPT record advertising
 * DNS_EDNS_PAYLOAD bytes (version 0, DO clear).  Writes *len bytes to buf,
 * which holds cap bytes; DNS_QUERY_MAX is always enough.
 * DNS_E_NAME: bad name, DNS_E_SPACE: cap too small (nothing usable written).
 */
dns_status_t dns_query_encode(uint8_t *buf, size_t cap, size_t *len,
	uint16_t id, const char *name, uint16_t qtype, unsigned flags);

/*
 * A checked response.  The caller reads the public fields; pos, idx and err
 * are the walk's state.  Points into the response buffer (not owned).
 */
typedef struct dns_msg {
	const uint8_t *buf;
	size_t len;
	uint16_t id;
	uint8_t rcode;        /* header RCODE, DNS_RCODE_* (4 bits; the EDNS
				 extended bits in OPT are not merged) */
	uint8_t tc;           /* 1: truncated, the records may be cut short */
	uint8_t aa, ra;       /* authoritative answer, recursion available */
	uint16_t ancount, nscount, arcount;
	size_t pos;           /* walk: offset of the next record */
	uint32_t idx;         /* walk: records returned so far */
	dns_status_t err;     /* walk: DNS_OK, DNS_END or the sticky error */
} dns_msg_t;

/*
 * Decide whether resp[0..rlen) answers query[0..qlen) (the exact bytes that
 * were sent, normally from dns_query_encode): same ID, QR set, same opcode,
 * exactly one question whose name (compared without regard to ASCII case),
 * type and class equal the query's.  The source address is the caller's to
 * check.  On DNS_OK *m is ready for dns_rr_next and carries rcode and tc;
 * any RCODE is DNS_OK here -- NXDOMAIN, SERVFAIL etc. are the caller's
 * decision.  On any other status the datagram is not an answer to this
 * query (a resolver keeps waiting) and dns_rr_next on *m returns that
 * status.  Bytes after the last record are ignored.
 */
dns_status_t dns_response_check(dns_msg_t *m, const uint8_t *resp,
	size_t rlen, const uint8_t *query, size_t qlen);

/* One resource record of a checked message; offsets index m->buf. */
typedef struct dns_rr {
	uint8_t section;      /* DNS_SEC_* */
	uint16_t type;        /* any value; DNS_TYPE_* are the known ones */
	uint16_t rclass;      /* DNS_CLASS_IN except for OPT and oddities */
	uint32_t ttl;         /* seconds, <= 2^31-1: RFC 2181 s8 reads a TTL
				 with the top bit set as 0 */
	uint16_t rdlength;
	size_t name_off;      /* owner name (possibly compressed) */
	size_t rdata_off;     /* RDATA, rdlength bytes, inside the message */
} dns_rr_t;

/*
 * Next record of the answer, authority and additional sections, in wire
 * order.  DNS_OK: *rr filled.  DNS_END: all ANCOUNT+NSCOUNT+ARCOUNT records
 * were returned.  Anything else: the message is malformed at that record;
 * the error is sticky and the caller should distrust the whole message.
 * Before returning a record the walk has checked its owner name (bounds,
 * pointers, label types, length), that RDATA lies inside the message, and
 * for A, AAAA, SRV and CNAME (any class) that RDATA has the right shape.
 * Cost is linear in the message size: every name costs at most 255 label
 * octets and 127 pointer jumps.
 */
dns_status_t dns_rr_next(dns_msg_t *m, dns_rr_t *rr);

/* Owner name of rr as text into out[0..cap) (DNS_NAME_MAX is enough). */
dns_status_t dns_rr_owner(const dns_msg_t *m, const dns_rr_t *rr,
	char *out, size_t cap);

/* An A or AAAA record's address. */
typedef struct dns_addr {
	uint16_t type;        /* DNS_TYPE_A or DNS_TYPE_AAAA */
	uint8_t len;          /* 4 or 16 */
	uint8_t addr[16];     /* network byte order, len bytes used */
	uint32_t ttl;
} dns_addr_t;

/* Extract an IN A or IN AAAA record; DNS_E_TYPE for anything else. */
dns_status_t dns_rr_addr(const dns_msg_t *m, const dns_rr_t *rr,
	dns_addr_t *out);

/* Extract the target of an IN CNAME record as text into out[0..cap). */
dns_status_t dns_rr_cname(const dns_msg_t *m, const dns_rr_t *rr,
	char *out, size_t cap);

/* An SRV record (RFC 2782). */
typedef struct dns_srv {
	uint16_t priority, weight, port;
	uint32_t ttl;
	char target[DNS_NAME_MAX];  /* "." means: service not offered */
} dns_srv_t;

/* Extract an IN SRV record; DNS_E_TYPE for anything else. */
dns_status_t dns_rr_srv(const dns_msg_t *m, const dns_rr_t *rr,
	dns_srv_t *out);

/* Random source: returns 32 uniformly random bits. */
typedef uint32_t (*dns_rand_fn)(void *ctx);

/*
 * RFC 2782 client order for srv[0..n), n <= 65535.  Writes indexes into srv
 * to order[0..*count): ascending priority; within one priority, weighted
 * random order by the RFC's running-sum algorithm, weight-0 records placed
 * first in the list before each draw so they keep a small chance.  Records
 * whose target is "." are left out; if that leaves none (one "." record
 * is the RFC's case) the result is DNS_NO_SERVICE with *count = 0.  n = 0 is
 * DNS_OK with *count = 0.  rnd is called at most n-1 times per group.
 * O(n^2); callers keep n small.  srv is not modified.
 */
dns_status_t dns_srv_order(const dns_srv_t *srv, size_t n, dns_rand_fn rnd,
	void *ctx, size_t *order, size_t *count);

/* 1 when dotted names a and b are equal ignoring ASCII case and one
 * trailing dot each, else 0. */
int dns_name_equal(const char *a, const char *b);

#endif
