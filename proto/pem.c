/* pem.c -- see pem.h */
/* BearSSL's symbols are linked statically into this program: hidden
 * visibility lets position-independent code reach its tables directly,
 * without a GOT (which the purity check would flag) */
/* the C library first, so its declarations keep default visibility */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#pragma GCC visibility push(hidden)
#include "bearssl.h"
#pragma GCC visibility pop

#include "proto/pem.h"
#include "proto/base64.h"

#include <string.h>

/*
 * The arena is filled from both ends: decoded bytes (DER copies, names,
 * key integers) grow up from the start, so a value that arrives in chunks
 * stays contiguous; the aligned structures (anchor and certificate arrays)
 * grow down from the end and are put back into file order at the finish.
 * Once the two would meet, nothing more is written but sizes are still
 * added up, so one pass measures the whole buffer.
 */
#define ARENA_ALIGN 16

struct arena {
	unsigned char *base;   /* NULL: measure only */
	size_t cap;
	size_t lo;             /* bytes used at the start */
	size_t hi;             /* bytes used at the end (multiple of ARENA_ALIGN) */
	int over;              /* sticky: stopped writing */
};

/* Bytes the caller must provide for what was used so far. */
static size_t arena_need(const struct arena *a)
{
	return a->lo + a->hi + (ARENA_ALIGN - 1);
}

/* End of the usable area, aligned down (base must not be NULL). */
static size_t arena_top(const struct arena *a)
{
	size_t pad = ((uintptr_t)a->base + a->cap) % ARENA_ALIGN;
	return a->cap >= pad ? a->cap - pad : 0;
}

static void arena_check(struct arena *a)
{
	if (a->over || a->base == NULL || a->lo + a->hi > arena_top(a))
		a->over = 1;
}

/* n bytes at the start; NULL once over (the count still grows). */
static unsigned char *arena_bytes(struct arena *a, size_t n)
{
	size_t at = a->lo;
	a->lo += n;
	arena_check(a);
	return a->over ? NULL : a->base + at;
}

/*
 * One structure of size n at the end.  A loader puts only one type there,
 * so the items form an array (in reverse order): the top is aligned to
 * ARENA_ALIGN and a size is a multiple of its type's alignment.
 */
static void *arena_item(struct arena *a, size_t n)
{
	a->hi += n;
	arena_check(a);
	return a->over ? NULL : a->base + arena_top(a) - a->hi;
}

static unsigned char *arena_copy(struct arena *a, const void *src, size_t n)
{
	unsigned char *p = arena_bytes(a, n);
	if (p != NULL && n > 0)
		memcpy(p, src, n);
	return p;
}

enum kind { K_ANCHORS, K_CHAIN, K_KEY };

/* What the block being decoded is. */
enum block { B_NONE, B_SKIP, B_CERT, B_KEY };

struct loader {
	enum kind kind;
	struct arena a;
	pem_diag_t *d;
	enum block block;
	size_t count;          /* certificates (or keys) seen */
	size_t blocks;         /* PEM blocks seen */
	size_t dn_len;         /* subject DN bytes of the current certificate */
	unsigned char *dn;     /* where it starts (NULL when measuring) */
	unsigned char *der;    /* chain: where the DER copy starts */
	size_t der_len;
	int encrypted_hint;    /* "Proc-Type: 4,ENCRYPTED" seen in the buffer */
	int extra;             /* bytes after the end of the DER object */
	union {
		br_x509_decoder_context x;
		br_skey_decoder_context k;
	} dec;
	pem_key_t key;
	pem_chain_t chain;
};

static void dn_append(void *ctx, const void *buf, size_t len)
{
	struct loader *L = ctx;
	unsigned char *p = arena_copy(&L->a, buf, len);
	if (L->dn_len == 0)
		L->dn = p;
	L->dn_len += len;
}

static void cert_bytes(void *ctx, const void *buf, size_t len)
{
	struct loader *L = ctx;
	if (L->kind == K_CHAIN) {
		unsigned char *p = arena_copy(&L->a, buf, len);
		if (L->der_len == 0)
			L->der = p;
		L->der_len += len;
	}
	/* BearSSL's decoders must not be pushed to once they finished or
	 * failed (their T0 machine has stopped): check the state first */
	if (L->dec.x.err == 0 && !L->dec.x.decoded)
		br_x509_decoder_push(&L->dec.x, buf, len);
	else if (L->dec.x.err == 0)
		L->extra = 1;
}

static void key_bytes(void *ctx, const void *buf, size_t len)
{
	struct loader *L = ctx;
	if (L->dec.k.err == 0 && L->dec.k.key_type == 0)
		br_skey_decoder_push(&L->dec.k, buf, len);
	else if (L->dec.k.err == 0)
		L->extra = 1;
}

static int name_is(const char *name, const char *want)
{
	return strcmp(name, want) == 0;
}

static int is_cert_name(const char *name)
{
	return name_is(name, "CERTIFICATE") || name_is(name, "X509 CERTIFICATE");
}

static int is_key_name(const char *name)
{
	return name_is(name, "PRIVATE KEY") || name_is(name, "RSA PRIVATE KEY") ||
		name_is(name, "EC PRIVATE KEY");
}

/* Copy a public key's integers into the arena; dst points at the copies. */
static void copy_pkey(struct arena *a, br_x509_pkey *dst, const br_x509_pkey *src)
{
	dst->key_type = src->key_type;
	if (src->key_type == BR_KEYTYPE_RSA) {
		dst->key.rsa.n = arena_copy(a, src->key.rsa.n, src->key.rsa.nlen);
		dst->key.rsa.nlen = src->key.rsa.nlen;
		dst->key.rsa.e = arena_copy(a, src->key.rsa.e, src->key.rsa.elen);
		dst->key.rsa.elen = src->key.rsa.elen;
	} else {
		dst->key.ec.curve = src->key.ec.curve;
		dst->key.ec.q = arena_copy(a, src->key.ec.q, src->key.ec.qlen);
		dst->key.ec.qlen = src->key.ec.qlen;
	}
}

static pem_status_t begin_block(struct loader *L, const char *raw)
{
	/* BearSSL keeps a CR (CRLF files) and the dashes before it in the
	 * name: trim trailing CR, blanks and dashes */
	char name[128];
	size_t n = strlen(raw);
	if (n >= sizeof name)
		n = sizeof name - 1;
	while (n > 0 && (raw[n - 1] == '-' || raw[n - 1] == '\r' ||
	    raw[n - 1] == ' ' || raw[n - 1] == '\t'))
		n--;
	memcpy(name, raw, n);
	name[n] = '\0';
	L->blocks++;
	L->block = B_SKIP;
	if (L->kind == K_KEY) {
		if (name_is(name, "ENCRYPTED PRIVATE KEY"))
			return PEM_E_KEY_ENCRYPTED;
		if (!is_key_name(name))
			return PEM_OK;
		if (++L->count > 1)
			return PEM_E_TWO_KEYS;
		L->block = B_KEY;
		L->d->index = L->blocks;
		L->extra = 0;
		br_skey_decoder_init(&L->dec.k);
		return PEM_OK;
	}
	if (!is_cert_name(name))
		return PEM_OK;
	if (++L->count > PEM_MAX_ITEMS)
		return PEM_E_TOO_MANY;
	L->block = B_CERT;
	L->d->index = L->count;
	L->dn = NULL;
	L->dn_len = 0;
	L->der = NULL;
	L->der_len = 0;
	L->extra = 0;
	br_x509_decoder_init(&L->dec.x, L->kind == K_ANCHORS ? dn_append : NULL, L);
	return PEM_OK;
}

static pem_status_t end_cert(struct loader *L)
{
	br_x509_pkey *pk;
	int err = br_x509_decoder_last_error(&L->dec.x);

	if (err == 0 && L->extra)
		err = BR_ERR_X509_EXTRA_ELEMENT;
	if (err != 0) {
		L->d->br_err = err;
		return PEM_E_BAD_CERT;
	}
	pk = br_x509_decoder_get_pkey(&L->dec.x);
	if (pk == NULL) {
		L->d->br_err = BR_ERR_X509_UNSUPPORTED;
		return PEM_E_BAD_CERT;
	}
	if (L->kind == K_ANCHORS) {
		br_x509_trust_anchor *ta = arena_item(&L->a, sizeof *ta);
		br_x509_pkey k;
		copy_pkey(&L->a, &k, pk);
		if (ta != NULL && !L->a.over) {
			ta->dn.data = L->dn;
			ta->dn.len = L->dn_len;
			ta->flags = br_x509_decoder_isCA(&L->dec.x) ? BR_X509_TA_CA : 0;
			ta->pkey = k;
		}
	} else {
		br_x509_certificate *c = arena_item(&L->a, sizeof *c);
		if (L->count == 1) {
			L->chain.key_type = pk->key_type;
			L->chain.signer_key_type =
				br_x509_decoder_get_signer_key_type(&L->dec.x);
			copy_pkey(&L->a, &L->chain.pkey, pk);
		}
		if (c != NULL && !L->a.over) {
			c->data = L->der;
			c->data_len = L->der_len;
		}
	}
	return PEM_OK;
}

static pem_status_t end_key(struct loader *L)
{
	int err = br_skey_decoder_last_error(&L->dec.k);
	pem_key_t *k = &L->key;

	if (err == 0 && L->extra)
		err = BR_ERR_X509_EXTRA_ELEMENT;
	if (err != 0) {
		L->d->br_err = err;
		return PEM_E_BAD_KEY;
	}
	k->type = br_skey_decoder_key_type(&L->dec.k);
	if (k->type == BR_KEYTYPE_RSA) {
		const br_rsa_private_key *s = br_skey_decoder_get_rsa(&L->dec.k);
		k->k.rsa.n_bitlen = s->n_bitlen;
		k->k.rsa.p = arena_copy(&L->a, s->p, s->plen);
		k->k.rsa.plen = s->plen;
		k->k.rsa.q = arena_copy(&L->a, s->q, s->qlen);
		k->k.rsa.qlen = s->qlen;
		k->k.rsa.dp = arena_copy(&L->a, s->dp, s->dplen);
		k->k.rsa.dplen = s->dplen;
		k->k.rsa.dq = arena_copy(&L->a, s->dq, s->dqlen);
		k->k.rsa.dqlen = s->dqlen;
		k->k.rsa.iq = arena_copy(&L->a, s->iq, s->iqlen);
		k->k.rsa.iqlen = s->iqlen;
	} else if (k->type == BR_KEYTYPE_EC) {
		const br_ec_private_key *s = br_skey_decoder_get_ec(&L->dec.k);
		k->k.ec.curve = s->curve;
		k->k.ec.x = arena_copy(&L->a, s->x, s->xlen);
		k->k.ec.xlen = s->xlen;
	} else {
		L->d->br_err = BR_ERR_X509_UNSUPPORTED;
		return PEM_E_BAD_KEY;
	}
	return PEM_OK;
}

/* 1 when the text holds s (an encrypted legacy key has such a header). */
static int contains(const char *text, size_t len, const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i + n <= len; i++) {
		const char *p = memchr(text + i, s[0], len - i);
		if (p == NULL || (size_t)(p - text) + n > len)
			return 0;
		if (memcmp(p, s, n) == 0)
			return 1;
		i = (size_t)(p - text);
	}
	return 0;
}

static size_t count_lines(const char *p, size_t n)
{
	size_t c = 0;
	const char *q;
	while (n > 0 && (q = memchr(p, '\n', n)) != NULL) {
		c++;
		n -= (size_t)(q - p) + 1;
		p = q + 1;
	}
	return c;
}

/* Push the whole buffer (plus a final newline, so a last END line without
 * one still counts) through BearSSL's PEM decoder, block by block. */
static pem_status_t walk(struct loader *L, const char *pem, size_t len)
{
	br_pem_decoder_context pc;
	size_t pos = 0, line = 1;
	pem_status_t st;

	br_pem_decoder_init(&pc);
	while (pos <= len) {
		const char *p = pos < len ? pem + pos : "\n";
		size_t n = pos < len ? len - pos : 1;
		size_t k = br_pem_decoder_push(&pc, p, n);
		int ev = br_pem_decoder_event(&pc);

		line += count_lines(p, k);
		pos += k;
		switch (ev) {
		case BR_PEM_BEGIN_OBJ:
			st = begin_block(L, br_pem_decoder_name(&pc));
			/* the banner's newline is consumed with the event */
			L->d->line = line > 1 ? line - 1 : 1;
			if (st != PEM_OK)
				return st;
			if (L->block == B_CERT)
				br_pem_decoder_setdest(&pc, cert_bytes, L);
			else if (L->block == B_KEY)
				br_pem_decoder_setdest(&pc, key_bytes, L);
			else
				br_pem_decoder_setdest(&pc, NULL, NULL);
			break;
		case BR_PEM_END_OBJ:
			st = PEM_OK;
			if (L->block == B_CERT)
				st = end_cert(L);
			else if (L->block == B_KEY)
				st = end_key(L);
			L->block = B_NONE;
			if (st != PEM_OK)
				return st;
			break;
		case BR_PEM_ERROR:
			if (L->block == B_KEY && L->encrypted_hint)
				return PEM_E_KEY_ENCRYPTED;
			if (L->block == B_NONE || L->block == B_SKIP)
				L->d->index = L->blocks;
			return PEM_E_SYNTAX;
		default:
			if (k == 0) /* no progress and no event: cannot happen */
				return PEM_E_SYNTAX;
			break;
		}
	}
	if (L->block != B_NONE) { /* BEGIN without END */
		if (L->block == B_SKIP)
			L->d->index = L->blocks;
		return PEM_E_SYNTAX;
	}
	return PEM_OK;
}

static void loader_init(struct loader *L, enum kind kind, void *arena,
	size_t cap, pem_diag_t *d)
{
	memset(L, 0, sizeof *L);
	L->kind = kind;
	L->a.base = arena;
	L->a.cap = arena != NULL ? cap : 0;
	L->a.over = arena == NULL;
	L->d = d;
	memset(d, 0, sizeof *d);
}

/* Common end: counts, sizes, and the item array (size item each) put
 * back in file order.  Returns the array or NULL with *st set. */
static void *finish(struct loader *L, pem_status_t *st, size_t item)
{
	unsigned char *first;

	L->d->need = arena_need(&L->a);
	if (*st != PEM_OK)
		return NULL;
	L->d->index = 0;
	L->d->line = 0;
	if (L->count == 0) {
		*st = L->kind == K_KEY ? PEM_E_NO_KEY : PEM_E_NO_CERT;
		return NULL;
	}
	if (L->a.over) {
		*st = PEM_E_SPACE;
		return NULL;
	}
	if (item == 0)
		return L->a.base;
	first = L->a.base + arena_top(&L->a) - L->a.hi;
	for (size_t i = 0, j = L->count - 1; i < j; i++, j--) {
		unsigned char tmp[64];
		memcpy(tmp, first + i * item, item);
		memcpy(first + i * item, first + j * item, item);
		memcpy(first + j * item, tmp, item);
	}
	return first;
}

_Static_assert(sizeof(br_x509_trust_anchor) <= 64, "finish(): tmp too small");
_Static_assert(sizeof(br_x509_certificate) <= 64, "finish(): tmp too small");
_Static_assert(ARENA_ALIGN % _Alignof(br_x509_trust_anchor) == 0, "alignment");
_Static_assert(ARENA_ALIGN % _Alignof(br_x509_certificate) == 0, "alignment");

/* see pem.h */
pem_status_t pem_load_anchors(const char *pem, size_t len, void *arena,
	size_t cap, pem_anchors_t *out, pem_diag_t *diag)
{
	struct loader L;
	pem_status_t st;
	void *first;

	loader_init(&L, K_ANCHORS, arena, cap, diag);
	st = walk(&L, pem, len);
	first = finish(&L, &st, sizeof(br_x509_trust_anchor));
	if (first == NULL)
		return st;
	out->ta = first;
	out->n = L.count;
	return PEM_OK;
}

/* see pem.h */
pem_status_t pem_load_chain(const char *pem, size_t len, void *arena,
	size_t cap, pem_chain_t *out, pem_diag_t *diag)
{
	struct loader L;
	pem_status_t st;
	void *first;

	loader_init(&L, K_CHAIN, arena, cap, diag);
	st = walk(&L, pem, len);
	first = finish(&L, &st, sizeof(br_x509_certificate));
	if (first == NULL)
		return st;
	*out = L.chain;
	out->certs = first;
	out->n = L.count;
	return PEM_OK;
}

/* see pem.h */
pem_status_t pem_load_key(const char *pem, size_t len, void *arena,
	size_t cap, pem_key_t *out, pem_diag_t *diag)
{
	struct loader L;
	pem_status_t st;

	loader_init(&L, K_KEY, arena, cap, diag);
	L.encrypted_hint = contains(pem, len, "ENCRYPTED");
	st = walk(&L, pem, len);
	L.d->need = arena_need(&L.a);
	if (st != PEM_OK)
		return st;
	if (L.count == 0)
		return PEM_E_NO_KEY;
	diag->index = 0;
	diag->line = 0;
	if (L.a.over)
		return PEM_E_SPACE;
	*out = L.key;
	return PEM_OK;
}

/* Compare two big-endian integers, ignoring leading zero bytes. */
static int same_int(const unsigned char *a, size_t alen,
	const unsigned char *b, size_t blen)
{
	while (alen > 0 && *a == 0) {
		a++;
		alen--;
	}
	while (blen > 0 && *b == 0) {
		b++;
		blen--;
	}
	return alen == blen && memcmp(a, b, alen) == 0;
}

/* see pem.h */
pem_status_t pem_key_matches(const pem_key_t *key, const pem_chain_t *chain)
{
	const br_x509_pkey *pk = &chain->pkey;

	if (chain->n == 0 || key->type != pk->key_type)
		return PEM_E_KEY_MISMATCH;
	if (key->type == BR_KEYTYPE_EC) {
		unsigned char q[BR_EC_KBUF_PUB_MAX_SIZE];
		size_t qlen;
		if (key->k.ec.curve != pk->key.ec.curve)
			return PEM_E_KEY_MISMATCH;
		qlen = br_ec_compute_pub(br_ec_get_default(), NULL, q, &key->k.ec);
		if (qlen == 0 || qlen != pk->key.ec.qlen ||
		    memcmp(q, pk->key.ec.q, qlen) != 0)
			return PEM_E_KEY_MISMATCH;
		return PEM_OK;
	} else {
		unsigned char n[512];
		br_rsa_compute_modulus cm = &br_rsa_i31_compute_modulus;
		size_t nlen = cm(NULL, &key->k.rsa);
		if (nlen == 0 || nlen > sizeof n || cm(n, &key->k.rsa) != nlen)
			return PEM_E_KEY_MISMATCH;
		if (!same_int(n, nlen, pk->key.rsa.n, pk->key.rsa.nlen))
			return PEM_E_KEY_MISMATCH;
		return PEM_OK;
	}
}

/* see pem.h */
const char *pem_strerror(pem_status_t st)
{
	switch (st) {
	case PEM_OK: return "success";
	case PEM_E_SPACE: return "storage too small";
	case PEM_E_NO_CERT: return "no certificate (no BEGIN CERTIFICATE block)";
	case PEM_E_SYNTAX: return "malformed PEM (bad base64 or a block without its END line)";
	case PEM_E_BAD_CERT: return "certificate does not decode";
	case PEM_E_NO_KEY: return "no private key (no BEGIN PRIVATE KEY block)";
	case PEM_E_BAD_KEY: return "private key does not decode or is of an unsupported type";
	case PEM_E_KEY_ENCRYPTED: return "private key is encrypted (passphrases are not supported)";
	case PEM_E_TWO_KEYS: return "more than one private key";
	case PEM_E_KEY_MISMATCH: return "private key does not match the certificate";
	case PEM_E_TOO_MANY: return "too many certificates";
	}
	return "unknown PEM status";
}

/* ---- PEM armour without BearSSL's decoder (see pem.h) */

/* length of the line at p (without its LF), and where the next one starts */
static size_t line_len(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	*next = nl != NULL ? nl + 1 : end;
	return (size_t)((nl != NULL ? nl : end) - p);
}

/*
 * A banner "-----<kw> <label>-----" filling the line [p, p + n) apart from
 * a CR before the LF, and for END also trailing spaces and tabs (BearSSL
 * keeps whatever follows a BEGIN label in the block's name, and refuses
 * the block once that name passes 127 bytes).  The label: printable ASCII without '-'
 * at either end, no two spaces in a row (RFC 7468 section 3).  1 with the
 * label set, 0 if the line does not start with "-----<kw>", -1 if it does
 * but is not a well-formed banner.
 */
static int banner(const char *p, size_t n, const char *kw, const char **label,
	size_t *label_len)
{
	size_t k = strlen(kw), i;

	if (n < 5 + k || memcmp(p, "-----", 5) != 0 || memcmp(p + 5, kw, k) != 0)
		return 0;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	while (kw[0] == 'E' && n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
		n--;
	if (n < 5 + k + 1 + 1 + 5 || p[5 + k] != ' ' || memcmp(p + n - 5, "-----", 5) != 0)
		return -1;
	*label = p + 5 + k + 1;
	*label_len = n - 5 - k - 1 - 5;
	if (*label_len > PEM_LABEL_MAX)
		return -1;
	for (i = 0; i < *label_len; i++) {
		char c = (*label)[i];
		/* no lower case: BearSSL's decoder upper-cases labels */
		if (c < 0x20 || c > 0x7e || (c >= 'a' && c <= 'z') ||
		    (c == ' ' && (i == 0 || (*label)[i - 1] == ' ')))
			return -1;
	}
	if ((*label)[0] == '-' || (*label)[*label_len - 1] == '-' ||
	    (*label)[*label_len - 1] == ' ')
		return -1;
	return 1;
}

/* see pem.h */
int pem_armour_next(const char *text, size_t len, size_t *pos, pem_armour_t *blk)
{
	const char *p = text + *pos, *end = text + len, *next;
	size_t line = 1;
	int r;

	memset(blk, 0, sizeof *blk);
	for (const char *q = text; q < p; q++)
		line += *q == '\n';
	/* the BEGIN line */
	for (;; p = next, line++) {
		if (p >= end) {
			*pos = len;
			return 0;
		}
		size_t n = line_len(p, end, &next);
		blk->line = line;
		if (n < 5 || memcmp(p, "-----", 5) != 0)
			continue; /* text between blocks */
		/* any other line starting with dashes (an END outside a block,
		 * "-----Begin", a broken banner) is refused, not skipped:
		 * BearSSL's decoder would read some of those as banners */
		r = banner(p, n, "BEGIN", &blk->label, &blk->label_len);
		if (r <= 0)
			return -1;
		break;
	}
	blk->body = next;
	/* the END line */
	for (p = next; p < end; p = next) {
		size_t n = line_len(p, end, &next);
		const char *el;
		size_t elen;

		if (n >= 5 && memcmp(p, "-----", 5) == 0) {
			if (banner(p, n, "END", &el, &elen) <= 0 || elen != blk->label_len ||
			    memcmp(el, blk->label, elen) != 0)
				return -1;
			blk->body_len = (size_t)(p - blk->body);
			*pos = (size_t)(next - text);
			return 1;
		}
	}
	return -1; /* no END line */
}

/* see pem.h */
int pem_armour_decode(const pem_armour_t *blk, uint8_t *out, size_t cap, size_t *n)
{
	const char *p = blk->body, *end = blk->body + blk->body_len, *next;
	size_t off;

	/* RFC 7468's strict form: every line holds base64, and a CR only ends
	 * a line (BearSSL's decoder, for one, refuses a blank line after the
	 * padding) */
	*n = 0;
	for (; p < end; p = next) {
		size_t l = line_len(p, end, &next);
		if (l > 0 && p[l - 1] == '\r')
			l--;
		if (l == 0 || memchr(p, '\r', l) != NULL)
			return -1;
	}

	switch (b64_decode(blk->body, blk->body_len, out, cap, n, &off)) {
	case B64_OK:
		return 0;
	case B64_ERR_NOSPACE:
		return -2;
	default:
		return -1;
	}
}
