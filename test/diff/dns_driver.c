/*
 * dns_driver.c -- differential-test driver for proto/dns.
 *
 * Each argument is a file holding one DNS response to the query the fuzz
 * harness (fuzz/dns_response.c) and the resolver use: ID 0x1234, RD, SRV
 * _dmqtt._tcp.service.veeamesh.local IN, with an EDNS0 OPT record.  The
 * response is checked with dns_response_check() and every record walked
 * with dns_rr_next().  One line per file:
 *
 *     PATH <TAB> VERDICT <TAB> SUMMARY
 *
 * VERDICT: "accept", or "reject:<STATUS>@<WHERE>" where WHERE is "q" when
 * dns_response_check() refused the message (header or question) and the
 * 0-based index of the record (answer, authority, additional in wire
 * order) when dns_rr_next() did.  SUMMARY ("-" on reject):
 *
 *     rcode=R,tc=T,aa=A,ra=R,an=N,ns=N,ar=N REC REC ...
 *
 * one REC per record, SECTION/TYPE/CLASS, and for class IN:
 *     A     .../TTL/OWNER/a.b.c.d
 *     AAAA  .../TTL/OWNER/32 hex digits
 *     SRV   .../TTL/OWNER/PRIORITY/WEIGHT/PORT/TARGET
 *     CNAME .../TTL/OWNER/TARGET
 * SECTION is an, ns or ar.  Names are dotted text without the final dot
 * ("." for the root) or "?" when a label holds a byte this module does not
 * represent as text (DNS_E_NAME: outside 0x21..0x7e, or a '.').
 * test/diff/dns_ref.py prints the same from dnslib.
 *
 * Build: cc -std=c11 -O1 -I. -D_POSIX_C_SOURCE=200809L \
 *            test/diff/dns_driver.c proto/dns.c -o dns_driver
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/dns.h"

#define QNAME "_dmqtt._tcp.service.veeamesh.local"
#define MSG_MAX 65536

static const char *status_name(dns_status_t st)
{
	switch (st) {
	case DNS_OK: return "OK";
	case DNS_END: return "END";
	case DNS_NO_SERVICE: return "NO_SERVICE";
	case DNS_E_ARG: return "E_ARG";
	case DNS_E_NAME: return "E_NAME";
	case DNS_E_SPACE: return "E_SPACE";
	case DNS_E_SHORT: return "E_SHORT";
	case DNS_E_POINTER: return "E_POINTER";
	case DNS_E_FORMAT: return "E_FORMAT";
	case DNS_E_RDATA: return "E_RDATA";
	case DNS_E_ID: return "E_ID";
	case DNS_E_HEADER: return "E_HEADER";
	case DNS_E_QUESTION: return "E_QUESTION";
	case DNS_E_TYPE: return "E_TYPE";
	}
	return "E_OTHER";
}

/* a name as text, "?" when the module refuses to represent it */
static void name_out(FILE *o, dns_status_t st, const char *name)
{
	if (st == DNS_OK)
		fputs(name, o);
	else if (st == DNS_E_NAME)
		fputc('?', o);
	else
		fprintf(o, "!%s", status_name(st)); /* never expected */
}

static int one_file(const char *path)
{
	static unsigned char buf[MSG_MAX + 1];
	uint8_t q[DNS_QUERY_MAX];
	size_t qlen, len;
	dns_msg_t m;
	dns_rr_t rr;
	dns_status_t st;
	char *sbuf = NULL;
	size_t ssize = 0;
	FILE *o, *fp = fopen(path, "rb");
	static const char *const sec[] = { "?", "an", "ns", "ar" };

	if (fp == NULL) {
		perror(path);
		return 1;
	}
	len = fread(buf, 1, sizeof buf, fp);
	fclose(fp);
	if (len > MSG_MAX) {
		fprintf(stderr, "%s: over %d bytes\n", path, MSG_MAX);
		return 1;
	}
	if (dns_query_encode(q, sizeof q, &qlen, 0x1234, QNAME, DNS_TYPE_SRV,
		DNS_QUERY_EDNS0) != DNS_OK)
		return 1;
	st = dns_response_check(&m, buf, len, q, qlen);
	if (st != DNS_OK) {
		printf("%s\treject:%s@q\t-\n", path, status_name(st));
		return 0;
	}
	o = open_memstream(&sbuf, &ssize);
	if (o == NULL)
		return 1;
	fprintf(o, "rcode=%u,tc=%u,aa=%u,ra=%u,an=%u,ns=%u,ar=%u", (unsigned)m.rcode,
		(unsigned)m.tc, (unsigned)m.aa, (unsigned)m.ra, (unsigned)m.ancount,
		(unsigned)m.nscount, (unsigned)m.arcount);
	while ((st = dns_rr_next(&m, &rr)) == DNS_OK) {
		char owner[DNS_NAME_MAX];
		dns_status_t ost;

		fprintf(o, " %s/%u/%u", sec[rr.section], (unsigned)rr.type, (unsigned)rr.rclass);
		if (rr.rclass != DNS_CLASS_IN)
			continue;
		if (rr.type != DNS_TYPE_A && rr.type != DNS_TYPE_AAAA
			&& rr.type != DNS_TYPE_SRV && rr.type != DNS_TYPE_CNAME)
			continue;
		ost = dns_rr_owner(&m, &rr, owner, sizeof owner);
		fprintf(o, "/%lu/", (unsigned long)rr.ttl);
		name_out(o, ost, owner);
		if (rr.type == DNS_TYPE_A || rr.type == DNS_TYPE_AAAA) {
			dns_addr_t a;
			dns_status_t ast = dns_rr_addr(&m, &rr, &a);
			if (ast != DNS_OK)
				fprintf(o, "/!%s", status_name(ast));
			else if (a.len == 4)
				fprintf(o, "/%u.%u.%u.%u", a.addr[0], a.addr[1], a.addr[2], a.addr[3]);
			else {
				fputc('/', o);
				for (int i = 0; i < 16; i++)
					fprintf(o, "%02x", a.addr[i]);
			}
		} else if (rr.type == DNS_TYPE_SRV) {
			dns_srv_t s;
			dns_status_t sst = dns_rr_srv(&m, &rr, &s);
			if (sst == DNS_OK || sst == DNS_E_NAME) {
				const unsigned char *d = buf + rr.rdata_off;
				fprintf(o, "/%u/%u/%u/", (unsigned)(d[0] << 8 | d[1]),
					(unsigned)(d[2] << 8 | d[3]), (unsigned)(d[4] << 8 | d[5]));
				name_out(o, sst, s.target);
			} else {
				fprintf(o, "/!%s", status_name(sst));
			}
		} else {
			char target[DNS_NAME_MAX];
			fputc('/', o);
			name_out(o, dns_rr_cname(&m, &rr, target, sizeof target), target);
		}
	}
	fclose(o);
	if (st != DNS_END)
		printf("%s\treject:%s@%lu\t-\n", path, status_name(st), (unsigned long)m.idx);
	else
		printf("%s\taccept\t%s\n", path, sbuf);
	free(sbuf);
	return 0;
}

int main(int argc, char **argv)
{
	int rc = 0;
	for (int i = 1; i < argc; i++)
		rc |= one_file(argv[i]);
	return rc;
}
