/*
 * pem.c -- libFuzzer harness for proto/pem and the certificate reader of
 * proto/tls.  The input goes, as PEM text, through the trust-anchor, chain
 * and key loaders (a measuring pass, then a pass with an arena of exactly
 * the measured size, which must succeed the same way), and, as raw DER, through
 * tls_certinfo_push in uneven pieces.  Invariants are asserted with abort().
 */
#include "proto/pem.h"
#include "proto/tls.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* everything a result points to must lie inside the arena */
static void inside(const void *p, size_t n, const unsigned char *a, size_t cap)
{
	const unsigned char *q = p;
	if (n == 0)
		return;
	if (q < a || q + n > a + cap)
		abort();
}

static void anchors(const char *pem, size_t len)
{
	pem_anchors_t ta;
	pem_diag_t d;
	pem_status_t st = pem_load_anchors(pem, len, NULL, 0, &ta, &d);
	unsigned char *arena;

	if (st != PEM_E_SPACE)
		return; /* an error found while measuring */
	arena = malloc(d.need);
	if (arena == NULL)
		abort();
	if (pem_load_anchors(pem, len, arena, d.need, &ta, &d) != PEM_OK)
		abort();
	for (size_t i = 0; i < ta.n; i++) {
		const br_x509_trust_anchor *t = &ta.ta[i];
		inside(t, sizeof *t, arena, d.need);
		inside(t->dn.data, t->dn.len, arena, d.need);
		if (t->pkey.key_type == BR_KEYTYPE_RSA) {
			inside(t->pkey.key.rsa.n, t->pkey.key.rsa.nlen, arena, d.need);
			inside(t->pkey.key.rsa.e, t->pkey.key.rsa.elen, arena, d.need);
		} else if (t->pkey.key_type == BR_KEYTYPE_EC) {
			inside(t->pkey.key.ec.q, t->pkey.key.ec.qlen, arena, d.need);
		} else {
			abort();
		}
	}
	/* one slot too small must be refused, not overrun */
	if (d.need > 16 &&
	    pem_load_anchors(pem, len, arena, d.need - 16, &ta, &d) == PEM_OK && ta.n > 0)
		for (size_t i = 0; i < ta.n; i++)
			inside(&ta.ta[i], sizeof ta.ta[i], arena, d.need - 16);
	free(arena);
}

static void chain_and_key(const char *pem, size_t len)
{
	pem_chain_t ch;
	pem_key_t k;
	pem_diag_t d;
	unsigned char *ca = NULL, *ka = NULL;
	int have_chain = 0, have_key = 0;

	if (pem_load_chain(pem, len, NULL, 0, &ch, &d) == PEM_E_SPACE) {
		size_t need = d.need;
		ca = malloc(need);
		if (ca == NULL || pem_load_chain(pem, len, ca, need, &ch, &d) != PEM_OK)
			abort();
		for (size_t i = 0; i < ch.n; i++)
			inside(ch.certs[i].data, ch.certs[i].data_len, ca, need);
		have_chain = 1;
	}
	if (pem_load_key(pem, len, NULL, 0, &k, &d) == PEM_E_SPACE) {
		size_t need = d.need;
		ka = malloc(need);
		if (ka == NULL || pem_load_key(pem, len, ka, need, &k, &d) != PEM_OK)
			abort();
		if (k.type == BR_KEYTYPE_EC)
			inside(k.k.ec.x, k.k.ec.xlen, ka, need);
		else if (k.type == BR_KEYTYPE_RSA)
			inside(k.k.rsa.p, k.k.rsa.plen, ka, need);
		else
			abort();
		have_key = 1;
	}
	if (have_chain && have_key) {
		pem_status_t st = pem_key_matches(&k, &ch);
		if (st != PEM_OK && st != PEM_E_KEY_MISMATCH)
			abort();
	}
	free(ca);
	free(ka);
}

static void certinfo(const uint8_t *data, size_t size)
{
	tls_certinfo_t a, b;
	size_t i = 0, step = 1;

	tls_certinfo_init(&a);
	tls_certinfo_push(&a, data, size);
	tls_certinfo_init(&b);
	while (i < size) { /* 1, 2, 3, ... byte pieces: same result */
		size_t n = size - i < step ? size - i : step;
		tls_certinfo_push(&b, data + i, n);
		i += n;
		step = step % 7 + 1;
	}
	if (tls_certinfo_done(&a) != tls_certinfo_done(&b))
		abort();
	if (tls_certinfo_done(&a) &&
	    (strlen(a.not_before) != 14 || strlen(a.not_after) != 14 ||
	     memcmp(a.issuer, b.issuer, 32) != 0 || memcmp(a.subject, b.subject, 32) != 0 ||
	     strcmp(a.not_after, b.not_after) != 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *pem = (const char *)data;
	anchors(pem, size);
	chain_and_key(pem, size);
	certinfo(data, size);
	return 0;
}
