#include "unit.h"
#include "proto/dns.h"

/* ---- helpers: a message builder over one static buffer ---------------- */

#define SRV_NAME "_dmqtt._tcp.service.veeamesh.local"
#define QID 0x1234

static uint8_t mb[70000];
static size_t mn;

static void b8(unsigned v) { mb[mn++] = (uint8_t)v; }
static void b16(unsigned v) { b8(v >> 8); b8(v); }
static void b32(uint32_t v) { b16(v >> 16); b16(v & 0xffff); }
static void bptr(size_t off) { b16(0xc000 | (unsigned)off); }

/* dotted name, uncompressed, no checks (tests build bad names by hand) */
static void bname(const char *s)
{
	while (*s != '\0') {
		size_t n = 0;
		while (s[n] != '\0' && s[n] != '.')
			n++;
		b8((unsigned)n);
		memcpy(mb + mn, s, n);
		mn += n;
		s += n;
		if (*s == '.')
			s++;
	}
	b8(0);
}

/* response header and one question; flags: the 16 header flag bits */
static void resp(unsigned id, unsigned flags, unsigned qd, unsigned an,
	unsigned ns, unsigned ar, const char *qname, unsigned qtype)
{
	mn = 0;
	b16(id);
	b16(flags);
	b16(qd);
	b16(an);
	b16(ns);
	b16(ar);
	if (qname != NULL) {
		bname(qname);
		b16(qtype);
		b16(DNS_CLASS_IN);
	}
}

/* record header with the owner given as a pointer */
static void rrp(size_t owner, unsigned type, unsigned cls, uint32_t ttl,
	unsigned rdlen)
{
	bptr(owner);
	b16(type);
	b16(cls);
	b32(ttl);
	b16(rdlen);
}

static void set_counts(unsigned an, unsigned ns, unsigned ar)
{
	mb[6] = (uint8_t)(an >> 8); mb[7] = (uint8_t)an;
	mb[8] = (uint8_t)(ns >> 8); mb[9] = (uint8_t)ns;
	mb[10] = (uint8_t)(ar >> 8); mb[11] = (uint8_t)ar;
}

static uint8_t qb[DNS_QUERY_MAX];
static size_t qn;

static void query(const char *name, unsigned type)
{
	CHECK_INT(dns_query_encode(qb, sizeof qb, &qn, QID, name,
		(uint16_t)type, DNS_QUERY_EDNS0), DNS_OK);
}

static size_t hex(const char *s, uint8_t *out)
{
	size_t n = 0;
	for (; s[0] != '\0' && s[1] != '\0'; s += 2) {
		unsigned v = 0;
		for (int i = 0; i < 2; i++) {
			char c = s[i];
			v = v << 4 | (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
		}
		out[n++] = (uint8_t)v;
	}
	return n;
}

static dns_msg_t m;

/* check mb against the query in qb */
static dns_status_t check(void)
{
	return dns_response_check(&m, mb, mn, qb, qn);
}

/* walk everything; returns the final status, counts records */
static dns_status_t walk(unsigned *count)
{
	dns_rr_t rr;
	dns_status_t st;
	*count = 0;
	while ((st = dns_rr_next(&m, &rr)) == DNS_OK)
		(*count)++;
	return st;
}

/* check mb against an SRV query and walk it; the walk's final status */
static dns_status_t walk_srv(void)
{
	unsigned n;
	query(SRV_NAME, DNS_TYPE_SRV);
	if (check() != DNS_OK)
		return DNS_E_ARG;
	return walk(&n);
}

/* ---- query encoding --------------------------------------------------- */

static void dns_query_srv_edns0(void)
{
	static const uint8_t want[] = {
		0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
		6, '_', 'd', 'm', 'q', 't', 't', 4, '_', 't', 'c', 'p',
		7, 's', 'e', 'r', 'v', 'i', 'c', 'e',
		8, 'v', 'e', 'e', 'a', 'm', 'e', 's', 'h', 5, 'l', 'o', 'c', 'a', 'l', 0,
		0x00, 0x21, 0x00, 0x01,
		0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00
	};
	uint8_t buf[DNS_QUERY_MAX];
	size_t n = 0;
	CHECK_INT(dns_query_encode(buf, sizeof buf, &n, 0x1234, SRV_NAME,
		DNS_TYPE_SRV, DNS_QUERY_EDNS0), DNS_OK);
	CHECK_MEM(buf, n, want, sizeof want);
	/* trailing dot: same bytes; exact-size buffer fits, one less does not */
	CHECK_INT(dns_query_encode(buf, sizeof want, &n, 0x1234, SRV_NAME ".",
		DNS_TYPE_SRV, DNS_QUERY_EDNS0), DNS_OK);
	CHECK_MEM(buf, n, want, sizeof want);
	CHECK_INT(dns_query_encode(buf, sizeof want - 1, &n, 0x1234, SRV_NAME,
		DNS_TYPE_SRV, DNS_QUERY_EDNS0), DNS_E_SPACE);
}

static void dns_query_a_aaaa_plain(void)
{
	static const uint8_t want_a[] = {
		0xbe, 0xef, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		7, 'E', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
		0x00, 0x01, 0x00, 0x01
	};
	static const uint8_t want_aaaa[] = {
		0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
		1, 'h', 0, 0x00, 0x1c, 0x00, 0x01,
		0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00
	};
	static const uint8_t want_root[] = {
		0xff, 0xff, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0, 0x00, 0x01, 0x00, 0x01
	};
	uint8_t buf[DNS_QUERY_MAX];
	size_t n = 0;
	CHECK_INT(dns_query_encode(buf, sizeof buf, &n, 0xbeef, "Example.com",
		DNS_TYPE_A, 0), DNS_OK);
	CHECK_MEM(buf, n, want_a, sizeof want_a);
	CHECK_INT(dns_query_encode(buf, sizeof buf, &n, 0, "h.", DNS_TYPE_AAAA,
		DNS_QUERY_EDNS0), DNS_OK);
	CHECK_MEM(buf, n, want_aaaa, sizeof want_aaaa);
	CHECK_INT(dns_query_encode(buf, sizeof buf, &n, 0xffff, ".", DNS_TYPE_A,
		0), DNS_OK);
	CHECK_MEM(buf, n, want_root, sizeof want_root);
}

static void dns_query_rejects(void)
{
	uint8_t buf[DNS_QUERY_MAX];
	char name[300];
	size_t n = 0;
	static const char *const bad[] = { "", "..", "a..b", ".a", "a b",
		"a\x80", "a.\tb", "a.b..", "\x7f" };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK_INT(dns_query_encode(buf, sizeof buf, &n, 1, bad[i],
			DNS_TYPE_A, 0), DNS_E_NAME);
	/* label of 63 is fine, 64 is not */
	memset(name, 'a', 64);
	name[63] = '\0';
	CHECK_INT(dns_query_encode(buf, sizeof buf, &n, 1, name, DNS_TYPE_A, 0),
		DNS_OK);
	CHECK_INT(n, 12 + 65 + 4);
	name[63] = 'a';
	name[64] = '\0';
	CHECK_INT(dns_query_encode(buf, sizeof buf, &n, 1, name, DNS_TYPE_A, 0),
		DNS_E_NAME);
	/* 63.63.63.61 = 253 characters = 255 octets: the largest name */
	memset(name, 'b', 253);
	name[63] = name[127] = name[191] = '.';
	name[253] = '\0';
	CHECK_INT(dns_query_encode(buf, sizeof buf, &n, 1, name, DNS_TYPE_SRV,
		DNS_QUERY_EDNS0), DNS_OK);
	CHECK_INT(n, DNS_QUERY_MAX);
	name[253] = '.';                   /* trailing dot: still 255 octets */
	name[254] = '\0';
	CHECK_INT(dns_query_encode(buf, sizeof buf, &n, 1, name, DNS_TYPE_SRV,
		DNS_QUERY_EDNS0), DNS_OK);
	name[253] = 'b';                   /* 256 octets */
	CHECK_INT(dns_query_encode(buf, sizeof buf, &n, 1, name, DNS_TYPE_SRV,
		DNS_QUERY_EDNS0), DNS_E_NAME);
	/* types, flags, NULLs */
	CHECK_INT(dns_query_encode(buf, sizeof buf, &n, 1, "a", DNS_TYPE_CNAME, 0),
		DNS_E_ARG);
	CHECK_INT(dns_query_encode(buf, sizeof buf, &n, 1, "a", 255, 0), DNS_E_ARG);
	CHECK_INT(dns_query_encode(buf, sizeof buf, &n, 1, "a", DNS_TYPE_A, 2),
		DNS_E_ARG);
	CHECK_INT(dns_query_encode(NULL, 0, &n, 1, "a", DNS_TYPE_A, 0), DNS_E_ARG);
	CHECK_INT(dns_query_encode(buf, sizeof buf, NULL, 1, "a", DNS_TYPE_A, 0),
		DNS_E_ARG);
	CHECK_INT(dns_query_encode(buf, sizeof buf, &n, 1, NULL, DNS_TYPE_A, 0),
		DNS_E_ARG);
}

/* ---- real responses captured from dnsmasq 2.90 ------------------------- */

/* dnsmasq --local-ttl=60
 *   --srv-host=_dmqtt._tcp.service.veeamesh.local,dmqtt-broker-application.service.veeamesh.local,1883,0,100
 *   --srv-host=_dmqtt._tcp.service.veeamesh.local,backup.service.veeamesh.local,1883,10,0
 *   --host-record=dmqtt-broker-application.service.veeamesh.local,10.99.1.5,fd00::5
 *   --host-record=backup.service.veeamesh.local,10.99.1.6
 * queried with dns_query_encode(id 0x1234, SRV, EDNS0).  The additional
 * records' owners are pointers into the SRV RDATA. */
static const char cap_srv[] =
	"123485800001000200000004065f646d717474045f746370077365727669636508"
	"766565616d657368056c6f63616c0000210001c00c002100010000003c0025000a"
	"0000075b066261636b7570077365727669636508766565616d657368056c6f6361"
	"6c00c00c002100010000003c003700000064075b18646d7174742d62726f6b6572"
	"2d6170706c69636174696f6e077365727669636508766565616d657368056c6f63"
	"616c00c077000100010000003c00040a630105c077001c00010000003c0010fd00"
	"0000000000000000000000000005c046000100010000003c00040a63010600002904"
	"d0000000000000";
/* --cname=alias.service.veeamesh.local,dmqtt-broker-application...; A query */
static const char cap_cname[] =
	"12348580000100020000000105616c696173077365727669636508766565616d65"
	"7368056c6f63616c0000010001c00c000500010000003c003118646d7174742d62"
	"726f6b65722d6170706c69636174696f6e077365727669636508766565616d6573"
	"68056c6f63616c00c03a000100010000003c00040a63010500002904d000000000"
	"0000";
/* SRV nothere.service.veeamesh.local under --local=/service.veeamesh.local/ */
static const char cap_nx[] =
	"123481830001000000000001076e6f7468657265077365727669636508766565616d"
	"657368056c6f63616c000021000100002904d0000000000000";
/* A example.com without upstream: REFUSED, OPT with an EDE option */
static const char cap_refused[] =
	"123481850001000000000001076578616d706c6503636f6d000001000100002904d0"
	"000000000006000f0002000e";
/* --srv-host=_none._tcp.service.veeamesh.local (target ".") */
static const char cap_none[] =
	"123485800001000100000001055f6e6f6e65045f746370077365727669636508766565"
	"616d657368056c6f63616c0000210001c00c002100010000003c000700000000000100"
	"00002904d0000000000000";
/* AAAA backup.service.veeamesh.local, which has only an A record */
static const char cap_nodata[] =
	"123481800001000000000001066261636b7570077365727669636508766565616d6573"
	"68056c6f63616c00001c000100002904d0000000000000";
/* 40 SRV records for _big._tcp, asked without EDNS0: TC, 9 answers */
static const char cap_tc_head[] =
	"123487800001000900000000045f626967045f746370077365727669636508766565"
	"616d657368056c6f63616c0000210001c00c002100010000003c00250001001e075b"
	"066e6f64653430077365727669636508766565616d657368056c6f63616c00";

static void dns_real_srv(void)
{
	dns_rr_t rr;
	dns_srv_t srv[2];
	dns_addr_t a;
	char owner[DNS_NAME_MAX];
	unsigned nsrv = 0, naddr = 0;
	dns_status_t st;

	mn = hex(cap_srv, mb);
	query(SRV_NAME, DNS_TYPE_SRV);
	CHECK_INT(check(), DNS_OK);
	CHECK_INT(m.rcode, DNS_RCODE_NOERROR);
	CHECK_INT(m.tc, 0);
	CHECK_INT(m.aa, 1);
	CHECK_INT(m.ancount, 2);
	CHECK_INT(m.arcount, 4);
	while ((st = dns_rr_next(&m, &rr)) == DNS_OK) {
		CHECK_INT(dns_rr_owner(&m, &rr, owner, sizeof owner), DNS_OK);
		if (rr.type == DNS_TYPE_SRV) {
			CHECK_INT(rr.section, DNS_SEC_ANSWER);
			CHECK_STR(owner, SRV_NAME);
			CHECK_INT(dns_rr_srv(&m, &rr, &srv[nsrv]), DNS_OK);
			nsrv++;
		} else if (rr.type == DNS_TYPE_A || rr.type == DNS_TYPE_AAAA) {
			CHECK_INT(rr.section, DNS_SEC_ADDITIONAL);
			CHECK_INT(dns_rr_addr(&m, &rr, &a), DNS_OK);
			CHECK_INT(a.ttl, 60);
			if (naddr == 0) {
				static const uint8_t want[] = { 10, 99, 1, 5 };
				CHECK_STR(owner, "dmqtt-broker-application.service.veeamesh.local");
				CHECK_MEM(a.addr, a.len, want, 4);
			} else if (naddr == 1) {
				static const uint8_t want[16] = { 0xfd, [15] = 5 };
				CHECK_INT(a.type, DNS_TYPE_AAAA);
				CHECK_MEM(a.addr, a.len, want, 16);
			} else {
				CHECK_STR(owner, "backup.service.veeamesh.local");
			}
			naddr++;
		} else {
			CHECK_INT(rr.type, DNS_TYPE_OPT);
			CHECK_INT(rr.rclass, 1232);
			CHECK_STR(owner, ".");
		}
	}
	CHECK_INT(st, DNS_END);
	CHECK_INT(dns_rr_next(&m, &rr), DNS_END);     /* stays at the end */
	CHECK_INT(nsrv, 2);
	CHECK_INT(naddr, 3);
	CHECK_INT(srv[0].priority, 10);
	CHECK_INT(srv[0].weight, 0);
	CHECK_INT(srv[0].port, 1883);
	CHECK_INT(srv[0].ttl, 60);
	CHECK_STR(srv[0].target, "backup.service.veeamesh.local");
	CHECK_INT(srv[1].priority, 0);
	CHECK_INT(srv[1].weight, 100);
	CHECK_STR(srv[1].target, "dmqtt-broker-application.service.veeamesh.local");
}

static void dns_real_cname(void)
{
	dns_rr_t rr;
	dns_addr_t a;
	char name[DNS_NAME_MAX];

	mn = hex(cap_cname, mb);
	query("alias.service.veeamesh.local", DNS_TYPE_A);
	CHECK_INT(check(), DNS_OK);
	CHECK_INT(dns_rr_next(&m, &rr), DNS_OK);
	CHECK_INT(rr.type, DNS_TYPE_CNAME);
	CHECK_INT(dns_rr_cname(&m, &rr, name, sizeof name), DNS_OK);
	CHECK_STR(name, "dmqtt-broker-application.service.veeamesh.local");
	CHECK_INT(dns_rr_srv(&m, &rr, &(dns_srv_t){ 0 }), DNS_E_TYPE);
	CHECK_INT(dns_rr_addr(&m, &rr, &a), DNS_E_TYPE);
	CHECK_INT(dns_rr_cname(&m, &rr, name, 47), DNS_E_SPACE);
	CHECK_INT(dns_rr_cname(&m, &rr, name, 48), DNS_OK);
	CHECK_INT(dns_rr_next(&m, &rr), DNS_OK);
	CHECK_INT(dns_rr_owner(&m, &rr, name, sizeof name), DNS_OK);
	CHECK_STR(name, "dmqtt-broker-application.service.veeamesh.local");
	CHECK_INT(dns_rr_addr(&m, &rr, &a), DNS_OK);
	CHECK_INT(a.len, 4);
	CHECK_INT(dns_rr_cname(&m, &rr, name, sizeof name), DNS_E_TYPE);
	CHECK_INT(dns_rr_next(&m, &rr), DNS_OK);
	CHECK_INT(rr.type, DNS_TYPE_OPT);
	CHECK_INT(dns_rr_next(&m, &rr), DNS_END);
}

static void dns_real_rcodes(void)
{
	unsigned n;

	mn = hex(cap_nx, mb);
	query("nothere.service.veeamesh.local", DNS_TYPE_SRV);
	CHECK_INT(check(), DNS_OK);
	CHECK_INT(m.rcode, DNS_RCODE_NXDOMAIN);
	CHECK_INT(m.ancount, 0);
	CHECK_INT(walk(&n), DNS_END);
	CHECK_INT(n, 1);

	mn = hex(cap_refused, mb);
	query("example.com", DNS_TYPE_A);
	CHECK_INT(check(), DNS_OK);
	CHECK_INT(m.rcode, DNS_RCODE_REFUSED);
	CHECK_INT(walk(&n), DNS_END);

	/* NOERROR with 0 answers (NODATA) */
	mn = hex(cap_nodata, mb);
	query("backup.service.veeamesh.local", DNS_TYPE_AAAA);
	CHECK_INT(check(), DNS_OK);
	CHECK_INT(m.rcode, DNS_RCODE_NOERROR);
	CHECK_INT(m.ancount, 0);
	CHECK_INT(walk(&n), DNS_END);
	CHECK_INT(n, 1);

	/* the other rcodes are surfaced as they are */
	static const unsigned rc[] = { DNS_RCODE_FORMERR, DNS_RCODE_SERVFAIL,
		DNS_RCODE_NOTIMP, 9 };
	for (size_t i = 0; i < 4; i++) {
		resp(QID, 0x8180 | rc[i], 1, 0, 0, 0, SRV_NAME, DNS_TYPE_SRV);
		query(SRV_NAME, DNS_TYPE_SRV);
		CHECK_INT(check(), DNS_OK);
		CHECK_INT(m.rcode, rc[i]);
		CHECK_INT(walk(&n), DNS_END);
		CHECK_INT(n, 0);
	}
}

static uint32_t xorshift(void *ctx)
{
	uint32_t *s = ctx;
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void dns_real_none_and_tc(void)
{
	dns_rr_t rr;
	dns_srv_t srv;
	size_t order[1], cnt = 9;
	uint32_t seed = 1;
	unsigned n;

	mn = hex(cap_none, mb);
	query("_none._tcp.service.veeamesh.local", DNS_TYPE_SRV);
	CHECK_INT(check(), DNS_OK);
	CHECK_INT(dns_rr_next(&m, &rr), DNS_OK);
	CHECK_INT(dns_rr_srv(&m, &rr, &srv), DNS_OK);
	CHECK_STR(srv.target, ".");
	CHECK_INT(dns_srv_order(&srv, 1, xorshift, &seed, order, &cnt),
		DNS_NO_SERVICE);
	CHECK_INT(cnt, 0);

	mn = hex(cap_tc_head, mb);
	query("_big._tcp.service.veeamesh.local", DNS_TYPE_SRV);
	CHECK_INT(check(), DNS_OK);
	CHECK_INT(m.tc, 1);
	CHECK_INT(dns_rr_next(&m, &rr), DNS_OK);
	CHECK_INT(dns_rr_srv(&m, &rr, &srv), DNS_OK);
	CHECK_STR(srv.target, "node40.service.veeamesh.local");
	/* the capture is cut after one of its nine records */
	CHECK_INT(walk(&n), DNS_E_SHORT);
}

/* ---- the response must answer the query ------------------------------ */

static void dns_check_mismatch(void)
{
	query(SRV_NAME, DNS_TYPE_SRV);

	resp(QID, 0x8180, 1, 0, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	CHECK_INT(check(), DNS_OK);
	/* 0x20-style mixed case still matches */
	resp(QID, 0x8180, 1, 0, 0, 0, "_DMQTT._tcp.Service.VeeaMesh.LOCAL", DNS_TYPE_SRV);
	CHECK_INT(check(), DNS_OK);

	resp(QID + 1, 0x8180, 1, 0, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	CHECK_INT(check(), DNS_E_ID);
	resp(QID, 0x0100, 1, 0, 0, 0, SRV_NAME, DNS_TYPE_SRV);    /* QR clear */
	CHECK_INT(check(), DNS_E_HEADER);
	resp(QID, 0x9180, 1, 0, 0, 0, SRV_NAME, DNS_TYPE_SRV);    /* opcode 2 */
	CHECK_INT(check(), DNS_E_HEADER);
	resp(QID, 0x8180, 1, 0, 0, 0, "_dmqtt._tcp.service.veeamesh.loca", DNS_TYPE_SRV);
	CHECK_INT(check(), DNS_E_QUESTION);
	resp(QID, 0x8180, 1, 0, 0, 0, "_dmqtt._tcp.service.veeamesh", DNS_TYPE_SRV);
	CHECK_INT(check(), DNS_E_QUESTION);
	resp(QID, 0x8180, 1, 0, 0, 0, "_dmqtt._tcp.service.veeamesh.local.x", DNS_TYPE_SRV);
	CHECK_INT(check(), DNS_E_QUESTION);
	resp(QID, 0x8180, 1, 0, 0, 0, SRV_NAME, DNS_TYPE_A);
	CHECK_INT(check(), DNS_E_QUESTION);
	resp(QID, 0x8180, 1, 0, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	mb[mn - 1] = 3;                                           /* class CH */
	CHECK_INT(check(), DNS_E_QUESTION);
	/* QDCOUNT 0 (no question) and 2 (question repeated) */
	resp(QID, 0x8180, 0, 0, 0, 0, NULL, 0);
	CHECK_INT(check(), DNS_E_QUESTION);
	resp(QID, 0x8180, 2, 0, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	bname(SRV_NAME);
	b16(DNS_TYPE_SRV);
	b16(DNS_CLASS_IN);
	CHECK_INT(check(), DNS_E_QUESTION);
	/* truncated header, truncated question */
	resp(QID, 0x8180, 1, 0, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	CHECK_INT(dns_response_check(&m, mb, 11, qb, qn), DNS_E_SHORT);
	CHECK_INT(dns_response_check(&m, mb, 0, qb, qn), DNS_E_SHORT);
	CHECK_INT(dns_response_check(&m, mb, mn - 1, qb, qn), DNS_E_SHORT);
	CHECK_INT(dns_response_check(&m, mb, 20, qb, qn), DNS_E_SHORT);
	/* after a failed check, the walk reports the failure */
	{
		dns_rr_t rr;
		CHECK_INT(dns_rr_next(&m, &rr), DNS_E_SHORT);
	}
	/* the query itself must be one question */
	CHECK_INT(dns_response_check(&m, mb, mn, qb, 11), DNS_E_ARG);
	CHECK_INT(dns_response_check(&m, mb, mn, qb, 20), DNS_E_ARG);
	CHECK_INT(dns_response_check(&m, mb, mn, mb, 12), DNS_E_ARG);
	CHECK_INT(dns_response_check(&m, NULL, mn, qb, qn), DNS_E_ARG);
	CHECK_INT(dns_response_check(NULL, mb, mn, qb, qn), DNS_E_ARG);
	/* trailing bytes after the last record are ignored */
	resp(QID, 0x8180, 1, 0, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	b32(0xdeadbeef);
	CHECK_INT(check(), DNS_OK);
}

/* ---- names: compression and limits ----------------------------------- */

static void dns_name_pointers(void)
{
	size_t a, b;

	/* pointer to itself, as the owner of the first answer */
	resp(QID, 0x8180, 1, 1, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	a = mn;
	bptr(a);
	b16(DNS_TYPE_A); b16(1); b32(0); b16(4); b32(0);
	CHECK_INT(walk_srv(), DNS_E_POINTER);

	/* forward pointer */
	resp(QID, 0x8180, 1, 1, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	a = mn;
	bptr(a + 2 + 10 + 4);
	b16(DNS_TYPE_A); b16(1); b32(0); b16(4); b32(0);
	bname("x");
	CHECK_INT(walk_srv(), DNS_E_POINTER);

	/* loop: a label then a pointer back to that label (a strictly backwards
	 * pointer to the label run it ends -- must still be refused) */
	resp(QID, 0x8180, 1, 1, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	a = mn;
	b8(1); b8('x'); bptr(a);
	b16(DNS_TYPE_A); b16(1); b32(0); b16(4); b32(0);
	CHECK_INT(walk_srv(), DNS_E_POINTER);

	/* two names pointing at each other: first owner 1x -> second owner,
	 * second owner 1y -> first owner */
	resp(QID, 0x8180, 1, 2, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	a = mn;
	b = a + 4 + 10 + 4;
	b8(1); b8('x'); bptr(b);
	b16(DNS_TYPE_A); b16(1); b32(0); b16(4); b32(0);
	b8(1); b8('y'); bptr(a);
	b16(DNS_TYPE_A); b16(1); b32(0); b16(4); b32(0);
	CHECK_INT(walk_srv(), DNS_E_POINTER);

	/* into the header */
	resp(QID, 0x8180, 1, 1, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	rrp(4, DNS_TYPE_A, 1, 0, 4);
	b32(0);
	CHECK_INT(walk_srv(), DNS_E_POINTER);

	/* pointer cut by the end of the message */
	resp(QID, 0x8180, 1, 1, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	b8(0xc0);
	CHECK_INT(walk_srv(), DNS_E_SHORT);

	/* the question itself compressed: only backwards, into the header, is
	 * possible, and that is refused */
	query(SRV_NAME, DNS_TYPE_SRV);
	resp(QID, 0x8180, 1, 0, 0, 0, NULL, 0);
	bptr(0);
	b16(DNS_TYPE_SRV); b16(1);
	CHECK_INT(check(), DNS_E_POINTER);
}

static void dns_name_jump_bound(void)
{
	dns_rr_t rr;
	char name[DNS_NAME_MAX];
	size_t chain[140];

	/* a chain of pointers, each to the previous one; the first points at
	 * the question name.  Following chain[k] takes k + 1 jumps. */
	resp(QID, 0x8180, 1, 0, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	chain[0] = mn;
	bptr(12);
	for (int k = 1; k < 140; k++) {
		chain[k] = mn;
		bptr(chain[k - 1]);
	}
	/* an owner that is a pointer to chain[k] takes k + 2 jumps:
	 * 127 are accepted, 128 refused */
	rrp(chain[125], DNS_TYPE_A, 1, 0, 4);
	b32(0x01020304);
	rrp(chain[126], DNS_TYPE_A, 1, 0, 4);
	b32(0x01020304);
	set_counts(0, 0, 2);
	/* the chain sits where the answer section starts: skip it by hand */
	query(SRV_NAME, DNS_TYPE_SRV);
	CHECK_INT(check(), DNS_OK);
	m.pos = chain[139] + 2;
	CHECK_INT(dns_rr_next(&m, &rr), DNS_OK);
	CHECK_INT(dns_rr_owner(&m, &rr, name, sizeof name), DNS_OK);
	CHECK_STR(name, SRV_NAME);
	CHECK_INT(dns_rr_next(&m, &rr), DNS_E_POINTER);
	CHECK_INT(dns_rr_next(&m, &rr), DNS_E_POINTER);   /* sticky */
}

/* an answer owned by n bytes of label 'r' plus a pointer to a 63.63.63
 * name (193 octets) owning the answer before it */
static void long_names(unsigned n)
{
	size_t a;
	resp(QID, 0x8180, 1, 2, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	a = mn;
	for (int i = 0; i < 3; i++) {
		b8(63); memset(mb + mn, 'q', 63); mn += 63;
	}
	b8(0);
	b16(DNS_TYPE_A); b16(1); b32(0); b16(4); b32(0);
	b8(n); memset(mb + mn, 'r', n); mn += n; bptr(a);
	b16(DNS_TYPE_A); b16(1); b32(0); b16(4); b32(0);
	query(SRV_NAME, DNS_TYPE_SRV);
}

static void dns_name_limits(void)
{
	char name[DNS_NAME_MAX];
	dns_rr_t rr;

	/* 62 + 193 = 255 octets: the longest name, 253 characters */
	long_names(61);
	CHECK_INT(check(), DNS_OK);
	CHECK_INT(dns_rr_next(&m, &rr), DNS_OK);
	CHECK_INT(dns_rr_next(&m, &rr), DNS_OK);
	CHECK_INT(dns_rr_owner(&m, &rr, name, sizeof name), DNS_OK);
	CHECK_INT(strlen(name), 253);
	CHECK_INT(dns_rr_owner(&m, &rr, name, 253), DNS_E_SPACE);
	CHECK_INT(dns_rr_next(&m, &rr), DNS_END);
	/* 63 + 193 = 256 octets once expanded */
	long_names(62);
	CHECK_INT(check(), DNS_OK);
	CHECK_INT(dns_rr_next(&m, &rr), DNS_OK);
	CHECK_INT(dns_rr_next(&m, &rr), DNS_E_FORMAT);

	/* uncompressed over 255: 63.63.63.63 */
	resp(QID, 0x8180, 1, 1, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	for (int i = 0; i < 4; i++) {
		b8(63); memset(mb + mn, 'q', 63); mn += 63;
	}
	b8(0);
	b16(DNS_TYPE_A); b16(1); b32(0); b16(4); b32(0);
	CHECK_INT(walk_srv(), DNS_E_FORMAT);

	/* label type 0x40 ("label 64") and 0x80 */
	resp(QID, 0x8180, 1, 1, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	b8(64); memset(mb + mn, 'z', 64); mn += 64; b8(0);
	b16(DNS_TYPE_A); b16(1); b32(0); b16(4); b32(0);
	CHECK_INT(walk_srv(), DNS_E_FORMAT);
	resp(QID, 0x8180, 1, 1, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	b8(0x80); b8(0);
	b16(DNS_TYPE_A); b16(1); b32(0); b16(4); b32(0);
	CHECK_INT(walk_srv(), DNS_E_FORMAT);

	/* label running past the end */
	resp(QID, 0x8180, 1, 1, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	b8(10); b8('a');
	CHECK_INT(walk_srv(), DNS_E_SHORT);
	/* name without its root label */
	resp(QID, 0x8180, 1, 1, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	b8(1); b8('a');
	CHECK_INT(walk_srv(), DNS_E_SHORT);
}

static void dns_name_text(void)
{
	dns_rr_t rr;
	char name[DNS_NAME_MAX];
	static const char *const bad[] = { "a\x01", "a b", "a.b", "\x80", "x\x7f" };

	/* a label holding '.', a control byte, a space: walkable, not text */
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		size_t n = strlen(bad[i]);
		resp(QID, 0x8180, 1, 1, 0, 0, SRV_NAME, DNS_TYPE_SRV);
		b8((unsigned)n); memcpy(mb + mn, bad[i], n); mn += n; b8(0);
		b16(DNS_TYPE_A); b16(1); b32(0); b16(4); b32(0);
		query(SRV_NAME, DNS_TYPE_SRV);
		CHECK_INT(check(), DNS_OK);
		CHECK_INT(dns_rr_next(&m, &rr), DNS_OK);
		CHECK_INT(dns_rr_owner(&m, &rr, name, sizeof name), DNS_E_NAME);
		CHECK_INT(dns_rr_next(&m, &rr), DNS_END);
	}
	/* NUL inside a label */
	resp(QID, 0x8180, 1, 1, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	b8(2); b8('a'); b8(0); b8(0);
	b16(DNS_TYPE_A); b16(1); b32(0); b16(4); b32(0);
	query(SRV_NAME, DNS_TYPE_SRV);
	CHECK_INT(check(), DNS_OK);
	CHECK_INT(dns_rr_next(&m, &rr), DNS_OK);
	CHECK_INT(dns_rr_owner(&m, &rr, name, sizeof name), DNS_E_NAME);
	/* root needs 2 bytes */
	resp(QID, 0x8180, 1, 1, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	b8(0);
	b16(DNS_TYPE_A); b16(1); b32(0); b16(4); b32(0);
	query(SRV_NAME, DNS_TYPE_SRV);
	CHECK_INT(check(), DNS_OK);
	CHECK_INT(dns_rr_next(&m, &rr), DNS_OK);
	CHECK_INT(dns_rr_owner(&m, &rr, name, 1), DNS_E_SPACE);
	CHECK_INT(dns_rr_owner(&m, &rr, name, 2), DNS_OK);
	CHECK_STR(name, ".");
	CHECK_INT(dns_rr_owner(&m, &rr, NULL, 2), DNS_E_ARG);
}

/* ---- records ---------------------------------------------------------- */

static void dns_rdata_lengths(void)
{
	dns_rr_t rr;
	dns_addr_t a;
	dns_srv_t s;
	size_t t;

	/* RDLENGTH past the end of the message */
	resp(QID, 0x8180, 1, 1, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	rrp(12, DNS_TYPE_A, 1, 0, 5);
	b32(0);
	CHECK_INT(walk_srv(), DNS_E_SHORT);
	resp(QID, 0x8180, 1, 1, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	rrp(12, 99, 1, 0, 0xffff);
	b32(0);
	CHECK_INT(walk_srv(), DNS_E_SHORT);
	/* fixed fields cut */
	resp(QID, 0x8180, 1, 1, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	rrp(12, DNS_TYPE_A, 1, 0, 4);
	mn--;
	CHECK_INT(walk_srv(), DNS_E_SHORT);
	/* A with 5, AAAA with 4, A with 0 */
	resp(QID, 0x8180, 1, 1, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	rrp(12, DNS_TYPE_A, 1, 0, 5);
	b32(0); b8(0);
	CHECK_INT(walk_srv(), DNS_E_RDATA);
	resp(QID, 0x8180, 1, 1, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	rrp(12, DNS_TYPE_AAAA, 1, 0, 4);
	b32(0);
	CHECK_INT(walk_srv(), DNS_E_RDATA);
	resp(QID, 0x8180, 1, 1, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	rrp(12, DNS_TYPE_A, 1, 0, 0);
	CHECK_INT(walk_srv(), DNS_E_RDATA);
	/* SRV: 6 octets (no target), target cut by RDLENGTH, target with a
	 * trailing octet inside RDATA, target pointer forward */
	resp(QID, 0x8180, 1, 1, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	rrp(12, DNS_TYPE_SRV, 1, 0, 6);
	b16(0); b16(0); b16(1883);
	CHECK_INT(walk_srv(), DNS_E_RDATA);
	resp(QID, 0x8180, 1, 1, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	rrp(12, DNS_TYPE_SRV, 1, 0, 6 + 5);
	b16(0); b16(0); b16(1883);
	bname("host.lan");                  /* 10 octets, RDATA holds 5 */
	CHECK_INT(walk_srv(), DNS_E_RDATA);
	resp(QID, 0x8180, 1, 1, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	rrp(12, DNS_TYPE_SRV, 1, 0, 6 + 10 + 1);
	b16(0); b16(0); b16(1883);
	bname("host.lan");
	b8(0);
	CHECK_INT(walk_srv(), DNS_E_RDATA);
	resp(QID, 0x8180, 1, 1, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	t = mn + 12 + 6;
	rrp(12, DNS_TYPE_SRV, 1, 0, 6 + 2);
	b16(0); b16(0); b16(1883);
	bptr(t + 2);
	bname("x");
	CHECK_INT(walk_srv(), DNS_E_POINTER);
	/* the message ends inside the SRV target */
	resp(QID, 0x8180, 1, 1, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	rrp(12, DNS_TYPE_SRV, 1, 0, 6 + 10);
	b16(0); b16(0); b16(1883);
	b8(4); b8('h'); b8('o');
	CHECK_INT(walk_srv(), DNS_E_SHORT);
	/* CNAME: name longer than RDATA, name shorter than RDATA */
	resp(QID, 0x8180, 1, 1, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	rrp(12, DNS_TYPE_CNAME, 1, 0, 3);
	bname("host.lan");
	CHECK_INT(walk_srv(), DNS_E_RDATA);
	resp(QID, 0x8180, 1, 1, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	rrp(12, DNS_TYPE_CNAME, 1, 0, 12);
	bname("host.lan");
	b16(0);
	CHECK_INT(walk_srv(), DNS_E_RDATA);
	/* CNAME that is only a pointer (to the question): fine */
	resp(QID, 0x8180, 1, 1, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	rrp(12, DNS_TYPE_CNAME, 1, 7, 2);
	bptr(12);
	CHECK_INT(walk_srv(), DNS_END);

	/* SRV with a compressed target (RFC 2782 forbids it; accepted) and an
	 * unknown type, skipped with its RDATA, then a good AAAA */
	resp(QID, 0x8180, 1, 3, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	rrp(12, DNS_TYPE_SRV, 1, 300, 6 + 4);
	b16(1); b16(2); b16(8883);
	b8(1); b8('h'); bptr(12 + 7 + 5);   /* "h" + "service.veeamesh.local" */
	rrp(12, 16, 1, 0, 5);               /* TXT */
	b8(4); b32(0x74657374);
	rrp(12, DNS_TYPE_AAAA, 1, 0x80000000u, 16);
	b32(0x20010db8); b32(0); b32(0); b32(1);
	query(SRV_NAME, DNS_TYPE_SRV);
	CHECK_INT(check(), DNS_OK);
	CHECK_INT(dns_rr_next(&m, &rr), DNS_OK);
	CHECK_INT(dns_rr_srv(&m, &rr, &s), DNS_OK);
	CHECK_INT(s.priority, 1);
	CHECK_INT(s.weight, 2);
	CHECK_INT(s.port, 8883);
	CHECK_INT(s.ttl, 300);
	CHECK_STR(s.target, "h.service.veeamesh.local");
	CHECK_INT(dns_rr_addr(&m, &rr, &a), DNS_E_TYPE);
	CHECK_INT(dns_rr_next(&m, &rr), DNS_OK);
	CHECK_INT(rr.type, 16);
	CHECK_INT(rr.rdlength, 5);
	CHECK_INT(dns_rr_srv(&m, &rr, &s), DNS_E_TYPE);
	CHECK_INT(dns_rr_next(&m, &rr), DNS_OK);
	CHECK_INT(rr.ttl, 0);               /* top bit set: RFC 2181 says 0 */
	CHECK_INT(dns_rr_addr(&m, &rr, &a), DNS_OK);
	CHECK_INT(a.len, 16);
	CHECK_INT(a.addr[0], 0x20);
	CHECK_INT(a.addr[15], 1);
	CHECK_INT(dns_rr_next(&m, &rr), DNS_END);
}

static void dns_rr_misc(void)
{
	dns_rr_t rr, forged;
	dns_addr_t a;
	dns_srv_t s;
	char name[DNS_NAME_MAX];

	/* TTL 2^31-1 kept, class CH records walk but do not extract */
	resp(QID, 0x8180, 1, 2, 1, 0, SRV_NAME, DNS_TYPE_SRV);
	rrp(12, DNS_TYPE_A, 1, 0x7fffffff, 4);
	b32(0x0a000001);
	rrp(12, DNS_TYPE_A, 3, 5, 4);
	b32(0x0a000002);
	rrp(12, DNS_TYPE_SRV, 3, 5, 7);
	b16(0); b16(0); b16(1); b8(0);
	query(SRV_NAME, DNS_TYPE_SRV);
	CHECK_INT(check(), DNS_OK);
	CHECK_INT(dns_rr_next(&m, &rr), DNS_OK);
	CHECK_INT(rr.ttl, 0x7fffffff);
	CHECK_INT(rr.section, DNS_SEC_ANSWER);
	CHECK_INT(dns_rr_next(&m, &rr), DNS_OK);
	CHECK_INT(rr.section, DNS_SEC_ANSWER);
	CHECK_INT(dns_rr_addr(&m, &rr, &a), DNS_E_TYPE);
	CHECK_INT(dns_rr_next(&m, &rr), DNS_OK);
	CHECK_INT(rr.section, DNS_SEC_AUTHORITY);
	CHECK_INT(dns_rr_srv(&m, &rr, &s), DNS_E_TYPE);
	/* a record that does not lie in the message */
	forged = rr;
	forged.rdata_off = m.len;
	forged.rdlength = 1;
	CHECK_INT(dns_rr_srv(&m, &forged, &s), DNS_E_ARG);
	forged.rdata_off = (size_t)-1;
	CHECK_INT(dns_rr_owner(&m, &forged, name, sizeof name), DNS_E_ARG);
	forged = rr;
	forged.name_off = forged.rdata_off;
	CHECK_INT(dns_rr_owner(&m, &forged, name, sizeof name), DNS_E_ARG);
	CHECK_INT(dns_rr_srv(&m, &rr, NULL), DNS_E_ARG);
	CHECK_INT(dns_rr_addr(&m, &rr, NULL), DNS_E_ARG);
	CHECK_INT(dns_rr_next(&m, NULL), DNS_E_ARG);
	CHECK_INT(dns_rr_next(NULL, &rr), DNS_E_ARG);
	CHECK_INT(dns_rr_next(&m, &rr), DNS_END);
	/* a zeroed dns_msg_t walks nothing */
	memset(&m, 0, sizeof m);
	CHECK_INT(dns_rr_next(&m, &rr), DNS_END);
}

/* hundreds of records: all walked, in order; a count beyond what the
 * message holds stops at the end of the data */
static void dns_flood(void)
{
	dns_rr_t rr;
	dns_addr_t a;
	unsigned n = 0;
	dns_status_t st;

	resp(QID, 0x8180, 1, 600, 300, 300, SRV_NAME, DNS_TYPE_SRV);
	for (unsigned i = 0; i < 1200; i++) {
		rrp(12, DNS_TYPE_A, 1, i, 4);
		b32(0x0a000000 | i);
	}
	query(SRV_NAME, DNS_TYPE_SRV);
	CHECK_INT(check(), DNS_OK);
	while ((st = dns_rr_next(&m, &rr)) == DNS_OK) {
		CHECK_INT(rr.section, n < 600 ? DNS_SEC_ANSWER
			: n < 900 ? DNS_SEC_AUTHORITY : DNS_SEC_ADDITIONAL);
		CHECK_INT(dns_rr_addr(&m, &rr, &a), DNS_OK);
		CHECK_INT(a.addr[2] << 8 | a.addr[3], n);
		CHECK_INT(a.ttl, n);
		n++;
	}
	CHECK_INT(st, DNS_END);
	CHECK_INT(n, 1200);

	set_counts(65535, 65535, 65535);
	CHECK_INT(check(), DNS_OK);
	CHECK_INT(walk(&n), DNS_E_SHORT);
	CHECK_INT(n, 1200);

	/* a 64 KiB message of owners that each need 100 jumps: bounded work */
	resp(QID, 0x8180, 1, 0, 0, 0, SRV_NAME, DNS_TYPE_SRV);
	{
		size_t prev = 12, start, last;
		for (int k = 0; k < 100; k++) {
			start = mn;
			bptr(prev);
			prev = start;
		}
		last = prev;
		start = mn;
		n = 0;
		while (mn + 16 <= 65535) {
			rrp(last, DNS_TYPE_A, 1, 0, 4);
			b32(0);
			n++;
		}
		set_counts(0, 0, n);
		query(SRV_NAME, DNS_TYPE_SRV);
		CHECK_INT(check(), DNS_OK);
		m.pos = start;
		unsigned got;
		CHECK_INT(walk(&got), DNS_END);
		CHECK_INT(got, n);
		CHECK(n > 4000);
	}
}

/* ---- RFC 2782 selection ------------------------------------------------ */

static dns_srv_t mk(unsigned prio, unsigned weight, const char *target)
{
	dns_srv_t s;
	memset(&s, 0, sizeof s);
	s.priority = (uint16_t)prio;
	s.weight = (uint16_t)weight;
	s.port = 1883;
	strcpy(s.target, target);
	return s;
}

static void dns_select_stats(void)
{
	dns_srv_t srv[7];
	size_t order[7], cnt;
	unsigned first5[4] = { 0 }, first1[2] = { 0 };
	uint32_t seed = 0x9e3779b9;
	const unsigned runs = 10000;

	/* input deliberately out of order */
	srv[0] = mk(5, 30, "c");
	srv[1] = mk(1, 50, "p");
	srv[2] = mk(5, 10, "a");
	srv[3] = mk(9, 0, "z");
	srv[4] = mk(5, 40, "d");
	srv[5] = mk(1, 50, "q");
	srv[6] = mk(5, 20, "b");
	for (unsigned r = 0; r < runs; r++) {
		unsigned seen = 0;
		CHECK_INT(dns_srv_order(srv, 7, xorshift, &seed, order, &cnt), DNS_OK);
		CHECK_INT(cnt, 7);
		for (size_t i = 0; i < 7; i++) {
			CHECK(order[i] < 7);
			seen |= 1u << order[i];
			if (i > 0)
				CHECK(srv[order[i - 1]].priority <= srv[order[i]].priority);
		}
		CHECK_INT(seen, 0x7f);
		CHECK_INT(srv[order[0]].priority, 1);
		CHECK_INT(srv[order[2]].priority, 5);
		CHECK_INT(order[6], 3);
		first1[order[0] == 1 ? 0 : 1]++;
		switch (order[2]) {
		case 2: first5[0]++; break;
		case 6: first5[1]++; break;
		case 0: first5[2]++; break;
		case 4: first5[3]++; break;
		}
	}
	/* within 5 percentage points of weight / sum */
	for (int i = 0; i < 4; i++) {
		int pct10 = (int)(first5[i] * 1000 / runs);    /* per mille */
		int want = (i + 1) * 100;                      /* 10,20,30,40 % */
		if (pct10 < want - 50 || pct10 > want + 50)
			unit_fail(__FILE__, __LINE__, "weight %d first %u of %u",
				(i + 1) * 10, first5[i], runs);
	}
	for (int i = 0; i < 2; i++)
		if (first1[i] * 1000 / runs < 450 || first1[i] * 1000 / runs > 550)
			unit_fail(__FILE__, __LINE__, "equal weights: %u vs %u",
				first1[0], first1[1]);
}

static void dns_select_weight0(void)
{
	dns_srv_t srv[3];
	size_t order[3], cnt;
	unsigned zero_first = 0;
	uint32_t seed = 7;
	const unsigned runs = 10000;

	/* weight 0 given last still gets a small chance: 1 / (100 + 1) */
	srv[0] = mk(0, 100, "big");
	srv[1] = mk(0, 0, "zero");
	for (unsigned r = 0; r < runs; r++) {
		CHECK_INT(dns_srv_order(srv, 2, xorshift, &seed, order, &cnt), DNS_OK);
		CHECK_INT(cnt, 2);
		CHECK(order[0] != order[1]);
		zero_first += order[0] == 1;
	}
	CHECK(zero_first > 30);             /* expected about 99 */
	CHECK(zero_first < 300);

	/* all weights 0: the order given, no randomness needed */
	srv[0] = mk(3, 0, "a");
	srv[1] = mk(3, 0, "b");
	srv[2] = mk(3, 0, "c");
	CHECK_INT(dns_srv_order(srv, 3, xorshift, &seed, order, &cnt), DNS_OK);
	CHECK_INT(cnt, 3);
	CHECK_INT(order[0], 0);
	CHECK_INT(order[1], 1);
	CHECK_INT(order[2], 2);

	/* maximum weights do not overflow the running sums */
	srv[0] = mk(0, 65535, "a");
	srv[1] = mk(0, 65535, "b");
	srv[2] = mk(0, 65535, "c");
	for (int r = 0; r < 100; r++) {
		CHECK_INT(dns_srv_order(srv, 3, xorshift, &seed, order, &cnt), DNS_OK);
		CHECK_INT(order[0] + order[1] + order[2], 3);
	}
}

static uint32_t all_ones(void *ctx)
{
	(void)ctx;
	return 0xffffffffu;
}

static void dns_select_edges(void)
{
	dns_srv_t srv[3];
	size_t order[3], cnt = 5;
	uint32_t seed = 1;

	/* one record, target ".": explicitly not offered */
	srv[0] = mk(0, 0, ".");
	CHECK_INT(dns_srv_order(srv, 1, xorshift, &seed, order, &cnt),
		DNS_NO_SERVICE);
	CHECK_INT(cnt, 0);
	/* "." among real targets is left out */
	srv[1] = mk(1, 5, "real");
	CHECK_INT(dns_srv_order(srv, 2, xorshift, &seed, order, &cnt), DNS_OK);
	CHECK_INT(cnt, 1);
	CHECK_INT(order[0], 1);
	srv[1] = mk(1, 5, ".");
	CHECK_INT(dns_srv_order(srv, 2, xorshift, &seed, order, &cnt),
		DNS_NO_SERVICE);
	/* nothing in, nothing out */
	CHECK_INT(dns_srv_order(NULL, 0, NULL, NULL, NULL, &cnt), DNS_OK);
	CHECK_INT(cnt, 0);
	/* extreme random values stay in range */
	srv[0] = mk(0, 1, "a");
	srv[1] = mk(0, 1, "b");
	srv[2] = mk(0, 0, "c");
	CHECK_INT(dns_srv_order(srv, 3, all_ones, NULL, order, &cnt), DNS_OK);
	CHECK_INT(cnt, 3);
	CHECK_INT(order[0], 1);             /* list c:0 a:1 b:1, r = 2: b */
	CHECK_INT(order[1], 0);             /* list c:0 a:1, r = 1: a */
	CHECK_INT(order[2], 2);
	/* bad arguments */
	CHECK_INT(dns_srv_order(srv, 3, NULL, NULL, order, &cnt), DNS_E_ARG);
	CHECK_INT(dns_srv_order(srv, 3, xorshift, &seed, NULL, &cnt), DNS_E_ARG);
	CHECK_INT(dns_srv_order(srv, 3, xorshift, &seed, order, NULL), DNS_E_ARG);
	CHECK_INT(dns_srv_order(srv, 65536, xorshift, &seed, order, &cnt),
		DNS_E_ARG);
}

/* ---- small things ------------------------------------------------------ */

static void dns_misc(void)
{
	CHECK(dns_name_equal("Host.Lan", "host.lan."));
	CHECK(dns_name_equal("host.lan.", "HOST.LAN"));
	CHECK(dns_name_equal(".", "."));
	CHECK(!dns_name_equal(".", ""));
	CHECK(!dns_name_equal("host.lan", "host.la"));
	CHECK(!dns_name_equal("host.lan", "host.lan.."));
	CHECK(!dns_name_equal(NULL, "a"));
	for (int i = DNS_OK; i <= DNS_E_TYPE; i++) {
		const char *s = dns_strerror((dns_status_t)i);
		CHECK(s != NULL && s[0] != '\0');
		for (int j = DNS_OK; j < i; j++)
			CHECK(strcmp(s, dns_strerror((dns_status_t)j)) != 0);
	}
	CHECK_STR(dns_strerror((dns_status_t)999), "unknown DNS status");
}

UNIT_SUITE(dns,
	UNIT_CASE(dns_query_srv_edns0), UNIT_CASE(dns_query_a_aaaa_plain),
	UNIT_CASE(dns_query_rejects), UNIT_CASE(dns_real_srv),
	UNIT_CASE(dns_real_cname), UNIT_CASE(dns_real_rcodes),
	UNIT_CASE(dns_real_none_and_tc), UNIT_CASE(dns_check_mismatch),
	UNIT_CASE(dns_name_pointers), UNIT_CASE(dns_name_jump_bound),
	UNIT_CASE(dns_name_limits), UNIT_CASE(dns_name_text),
	UNIT_CASE(dns_rdata_lengths), UNIT_CASE(dns_rr_misc),
	UNIT_CASE(dns_flood), UNIT_CASE(dns_select_stats),
	UNIT_CASE(dns_select_weight0), UNIT_CASE(dns_select_edges),
	UNIT_CASE(dns_misc))
