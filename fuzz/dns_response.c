/*
 * dns_response.c -- libFuzzer harness for proto/dns: the input is a
 * response to a fixed query (ID 0x1234, SRV _dmqtt._tcp.service.veeamesh.local,
 * EDNS0).  It is checked against the query, every record is walked and
 * SRV/A/AAAA/CNAME extracted, and the SRV records found are ordered.
 * Invariants the API promises are asserted with abort().
 */
#include "proto/dns.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NSRV 64

static uint32_t xorshift(void *ctx)
{
	uint32_t *s = ctx;
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void name_ok(dns_status_t st, const char *name)
{
	size_t n;

	if (st != DNS_OK)
		return;
	n = strlen(name);
	if (n == 0 || n >= DNS_NAME_MAX || dns_name_equal(name, name) != 1)
		abort();
	if (n > 1 && (name[0] == '.' || name[n - 1] == '.' || strstr(name, "..")))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char qname[] = "_dmqtt._tcp.service.veeamesh.local";
	uint8_t q[DNS_QUERY_MAX];
	size_t qlen, order[NSRV], count, i, nsrv = 0;
	dns_srv_t srv[NSRV];
	dns_msg_t m;
	dns_rr_t rr;
	dns_addr_t addr;
	char name[DNS_NAME_MAX];
	dns_status_t st;
	uint32_t seed = 0x2545f491, prev = 0;
	unsigned seen = 0;

	if (dns_query_encode(q, sizeof q, &qlen, 0x1234, qname, DNS_TYPE_SRV,
		DNS_QUERY_EDNS0) != DNS_OK)
		abort();
	st = dns_response_check(&m, data, size, q, qlen);
	if (dns_strerror(st) == NULL)
		abort();
	if (st != DNS_OK) {
		if (dns_rr_next(&m, &rr) != st)
			abort();
		return 0;
	}
	if (m.rcode > 15 || m.tc > 1)
		abort();
	for (i = 0; i < size && i < 4; i++)
		seed = seed * 31 + data[size - 1 - i];
	while ((st = dns_rr_next(&m, &rr)) == DNS_OK) {
		if (rr.rdata_off > size || rr.rdlength > size - rr.rdata_off
			|| rr.ttl > 0x7fffffffu || rr.section < prev
			|| rr.section < DNS_SEC_ANSWER || rr.section > DNS_SEC_ADDITIONAL)
			abort();
		prev = rr.section;
		seen++;
		name_ok(dns_rr_owner(&m, &rr, name, sizeof name), name);
		switch (rr.type) {
		case DNS_TYPE_SRV:
			if (nsrv < NSRV) {
				st = dns_rr_srv(&m, &rr, &srv[nsrv]);
				name_ok(st, srv[nsrv].target);
				nsrv += st == DNS_OK;
			}
			break;
		case DNS_TYPE_A:
		case DNS_TYPE_AAAA:
			st = dns_rr_addr(&m, &rr, &addr);
			if (st == DNS_OK && addr.len != (rr.type == DNS_TYPE_A ? 4 : 16))
				abort();
			break;
		case DNS_TYPE_CNAME:
			name_ok(dns_rr_cname(&m, &rr, name, sizeof name), name);
			break;
		}
	}
	/* the walk ends or fails, and stays that way */
	if (st == DNS_OK || dns_rr_next(&m, &rr) != st)
		abort();
	if (st == DNS_END && seen != (unsigned)m.ancount + m.nscount + m.arcount)
		abort();
	st = dns_srv_order(srv, nsrv, xorshift, &seed, order, &count);
	if (st != DNS_OK && st != DNS_NO_SERVICE)
		abort();
	if (count > nsrv || (st == DNS_NO_SERVICE && count != 0))
		abort();
	{
		unsigned char used[NSRV] = { 0 };
		for (i = 0; i < count; i++) {
			if (order[i] >= nsrv || used[order[i]]++
				|| strcmp(srv[order[i]].target, ".") == 0
				|| (i > 0 && srv[order[i - 1]].priority
					> srv[order[i]].priority))
				abort();
		}
	}
	return 0;
}
