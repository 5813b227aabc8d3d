/* tls.c -- see tls.h */
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

#include "proto/tls.h"

#include <stddef.h>
#include <string.h>

/* The suites we offer, strongest-first within each key type. */
static const uint16_t tls_suites[] = {
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
};

/* Days from 0000-01-01 to 1970-01-01 in BearSSL's calendar. */
#define DAYS_TO_1970 719528u

/* ---- certificate reader (diagnostics only) ---- */

/* The TLVs walked, in order, down to the subject DN. */
enum {
	CI_CERT,        /* Certificate SEQUENCE: enter */
	CI_TBS,         /* TBSCertificate SEQUENCE: enter */
	CI_VERSION,     /* [0] version (optional): skip */
	CI_SERIAL,      /* INTEGER: skip */
	CI_SIGALG,      /* SEQUENCE: skip */
	CI_ISSUER,      /* SEQUENCE: hash contents */
	CI_VALIDITY,    /* SEQUENCE: enter */
	CI_NOT_BEFORE,  /* UTCTime / GeneralizedTime: copy */
	CI_NOT_AFTER,
	CI_SUBJECT,     /* SEQUENCE: hash contents */
	CI_DONE
};
enum { PH_TAG, PH_LEN, PH_LEN_MORE, PH_BODY, PH_STOP };

/* see tls.h */
void tls_certinfo_init(tls_certinfo_t *ci)
{
	memset(ci, 0, sizeof *ci);
	ci->phase = PH_TAG;
	ci->item = CI_CERT;
}

static int ci_tag_ok(uint8_t item, uint8_t tag)
{
	switch (item) {
	case CI_SERIAL: return tag == 0x02;
	case CI_NOT_BEFORE:
	case CI_NOT_AFTER: return tag == 0x17 || tag == 0x18;
	default: return tag == 0x30;
	}
}

/* Normalise a DER time (the copy in dst, ci->clen bytes) to
 * "YYYYMMDDHHMMSS"; "" when it is not a plain UTC time. */
static void ci_time(char dst[16], uint8_t tag, uint32_t len)
{
	char t[16];
	size_t i, n = tag == 0x17 ? 13 : 15;

	if (len != n || dst[n - 1] != 'Z') {
		dst[0] = '\0';
		return;
	}
	for (i = 0; i < n - 1; i++) {
		if (dst[i] < '0' || dst[i] > '9') {
			dst[0] = '\0';
			return;
		}
	}
	if (tag == 0x17) { /* RFC 5280: YY >= 50 is 19YY */
		t[0] = dst[0] >= '5' ? '1' : '2';
		t[1] = dst[0] >= '5' ? '9' : '0';
		memcpy(t + 2, dst, 12);
	} else {
		memcpy(t, dst, 14);
	}
	memcpy(dst, t, 14);
	dst[14] = '\0';
}

/* A TLV header is complete: decide what to do with its contents. */
static void ci_header_done(tls_certinfo_t *ci)
{
	switch (ci->item) {
	case CI_CERT:
	case CI_TBS:
	case CI_VALIDITY:
		ci->item++;
		ci->phase = PH_TAG;
		return;
	case CI_ISSUER:
	case CI_SUBJECT:
		br_sha256_init(&ci->h);
		break;
	default:
		break;
	}
	ci->phase = PH_BODY;
	if (ci->need == 0) /* empty contents: finish at once */
		tls_certinfo_push(ci, NULL, 0);
}

/* The contents of the current TLV are complete. */
static void ci_body_done(tls_certinfo_t *ci)
{
	switch (ci->item) {
	case CI_ISSUER:
		br_sha256_out(&ci->h, ci->issuer);
		break;
	case CI_SUBJECT:
		br_sha256_out(&ci->h, ci->subject);
		ci->ok = ci->not_before[0] != '\0' && ci->not_after[0] != '\0';
		ci->phase = PH_STOP;
		ci->item = CI_DONE;
		return;
	case CI_NOT_BEFORE:
		ci_time(ci->not_before, ci->tag, ci->clen);
		break;
	case CI_NOT_AFTER:
		ci_time(ci->not_after, ci->tag, ci->clen);
		break;
	default:
		break;
	}
	ci->item++;
	ci->phase = PH_TAG;
}

/* see tls.h */
void tls_certinfo_push(tls_certinfo_t *ci, const uint8_t *der, size_t len)
{
	size_t i = 0;

	/* invariant: i <= len; every byte read is der[i] with i < len */
	for (;;) {
		if (ci->phase == PH_STOP)
			return;
		if (ci->phase == PH_BODY) {
			size_t k = len - i < ci->need ? len - i : ci->need;
			if (k > 0) {
				if (ci->item == CI_ISSUER || ci->item == CI_SUBJECT) {
					br_sha256_update(&ci->h, der + i, k);
				} else if (ci->item == CI_NOT_BEFORE || ci->item == CI_NOT_AFTER) {
					char *dst = ci->item == CI_NOT_BEFORE ?
						ci->not_before : ci->not_after;
					uint32_t at = ci->clen - ci->need;
					for (size_t j = 0; j < k; j++)
						if (at + j < 15)
							dst[at + j] = (char)der[i + j];
				}
				i += k;
				ci->need -= (uint32_t)k;
			}
			if (ci->need > 0)
				return;
			ci_body_done(ci);
			continue;
		}
		if (i >= len)
			return;
		switch (ci->phase) {
		case PH_TAG:
			ci->tag = der[i++];
			if (ci->item == CI_VERSION) {
				if (ci->tag != 0xA0) /* no version: this is the serial */
					ci->item = CI_SERIAL;
			}
			if (ci->item != CI_VERSION && !ci_tag_ok(ci->item, ci->tag)) {
				ci->phase = PH_STOP;
				return;
			}
			ci->phase = PH_LEN;
			break;
		case PH_LEN: {
			uint8_t b = der[i++];
			if (b < 0x80) {
				ci->need = ci->clen = b;
				ci_header_done(ci);
			} else if (b >= 0x81 && b <= 0x84) {
				ci->need = 0;
				ci->lenbytes = (uint8_t)(b & 0x7f);
				ci->phase = PH_LEN_MORE;
			} else { /* indefinite or absurd length */
				ci->phase = PH_STOP;
				return;
			}
			break;
		}
		case PH_LEN_MORE:
			if (ci->need > 0x00ffffffu) { /* would overflow 32 bits */
				ci->phase = PH_STOP;
				return;
			}
			ci->need = (ci->need << 8) | der[i++];
			if (--ci->lenbytes == 0) {
				ci->clen = ci->need;
				ci_header_done(ci);
			}
			break;
		default:
			ci->phase = PH_STOP;
			return;
		}
	}
}

/* see tls.h */
int tls_certinfo_done(const tls_certinfo_t *ci)
{
	return ci->item == CI_DONE && ci->ok;
}

/* ---- time ---- */

/* "YYYYMMDDHHMMSS" for t seconds after 1970 (t >= 0), by H. Hinnant's
 * civil_from_days. */
static void civil(char out[16], int64_t t)
{
	uint64_t s = (uint64_t)t, z = s / 86400 + 719468, sod = s % 86400;
	uint64_t era = z / 146097, doe = z - era * 146097;
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	uint64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
	uint64_t m = mp < 10 ? mp + 3 : mp - 9;
	uint64_t v[6];

	y += m <= 2;
	if (y > 9999)
		y = 9999;
	v[0] = y;
	v[1] = m;
	v[2] = d;
	v[3] = sod / 3600;
	v[4] = sod / 60 % 60;
	v[5] = sod % 60;
	for (int i = 0, o = 0; i < 6; i++) {
		int w = i == 0 ? 4 : 2;
		for (int j = w - 1; j >= 0; j--) {
			out[o + j] = (char)('0' + v[i] % 10);
			v[i] /= 10;
		}
		o += w;
	}
	out[14] = '\0';
}

/* ---- X.509 wrapper: br_x509_minimal plus the reader above ---- */

static tls_client_t *from_x(const br_x509_class *const *ctx)
{
	return (tls_client_t *)(void *)((unsigned char *)(uintptr_t)ctx -
		offsetof(tls_client_t, xvtable));
}

static void x_start_chain(const br_x509_class **ctx, const char *server_name)
{
	tls_client_t *c = from_x(ctx);
	c->ncerts = 0;
	c->cert_problem = 0;
	c->self_signed = 0;
	c->x509_err = 0;
	c->xc.vtable->start_chain(&c->xc.vtable, server_name);
}

static void x_start_cert(const br_x509_class **ctx, uint32_t length)
{
	tls_client_t *c = from_x(ctx);
	tls_certinfo_init(&c->ci);
	c->xc.vtable->start_cert(&c->xc.vtable, length);
}

static void x_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	tls_client_t *c = from_x(ctx);
	tls_certinfo_push(&c->ci, buf, len);
	c->xc.vtable->append(&c->xc.vtable, buf, len);
}

static void x_end_cert(const br_x509_class **ctx)
{
	tls_client_t *c = from_x(ctx);
	char now[16];

	c->xc.vtable->end_cert(&c->xc.vtable);
	c->ncerts++;
	if (!tls_certinfo_done(&c->ci))
		return;
	if (c->ncerts == 1)
		c->self_signed = memcmp(c->ci.issuer, c->ci.subject, 32) == 0;
	if (c->cert_problem != 0)
		return;
	civil(now, (int64_t)(c->days - DAYS_TO_1970) * 86400 + c->secs);
	if (strcmp(now, c->ci.not_after) > 0) {
		c->cert_problem = TLS_E_EXPIRED;
		memcpy(c->problem_date, c->ci.not_after, 16);
	} else if (strcmp(now, c->ci.not_before) < 0) {
		c->cert_problem = TLS_E_NOT_YET_VALID;
		memcpy(c->problem_date, c->ci.not_before, 16);
	} else {
		return;
	}
	c->problem_index = c->ncerts;
}

static unsigned x_end_chain(const br_x509_class **ctx)
{
	tls_client_t *c = from_x(ctx);
	unsigned err = c->xc.vtable->end_chain(&c->xc.vtable);
	c->x509_err = (int)err;
	return err;
}

static const br_x509_pkey *x_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	tls_client_t *c = from_x(ctx);
	return c->xc.vtable->get_pkey(&c->xc.vtable, usages);
}

/* ---- client certificate wrapper: notes a CertificateRequest ---- */

static tls_client_t *from_c(const br_ssl_client_certificate_class **ctx)
{
	return (tls_client_t *)(void *)((unsigned char *)ctx -
		offsetof(tls_client_t, cvtable));
}

static void c_start_name_list(const br_ssl_client_certificate_class **ctx)
{
	tls_client_t *c = from_c(ctx);
	c->cert_requested = 1;
	if (c->cinner != NULL)
		(*c->cinner)->start_name_list(c->cinner);
}

static void c_start_name(const br_ssl_client_certificate_class **ctx, size_t len)
{
	tls_client_t *c = from_c(ctx);
	if (c->cinner != NULL)
		(*c->cinner)->start_name(c->cinner, len);
}

static void c_append_name(const br_ssl_client_certificate_class **ctx,
	const unsigned char *data, size_t len)
{
	tls_client_t *c = from_c(ctx);
	if (c->cinner != NULL)
		(*c->cinner)->append_name(c->cinner, data, len);
}

static void c_end_name(const br_ssl_client_certificate_class **ctx)
{
	tls_client_t *c = from_c(ctx);
	if (c->cinner != NULL)
		(*c->cinner)->end_name(c->cinner);
}

static void c_end_name_list(const br_ssl_client_certificate_class **ctx)
{
	tls_client_t *c = from_c(ctx);
	if (c->cinner != NULL)
		(*c->cinner)->end_name_list(c->cinner);
}

static void c_choose(const br_ssl_client_certificate_class **ctx,
	const br_ssl_client_context *cc, uint32_t auth_types,
	br_ssl_client_certificate *choices)
{
	tls_client_t *c = from_c(ctx);
	c->cert_requested = 1;
	if (c->cinner == NULL) {
		memset(choices, 0, sizeof *choices);
		return;
	}
	(*c->cinner)->choose(c->cinner, cc, auth_types, choices);
	c->sent_cert = choices->chain_len > 0;
}

static uint32_t c_do_keyx(const br_ssl_client_certificate_class **ctx,
	unsigned char *data, size_t *len)
{
	tls_client_t *c = from_c(ctx);
	return c->cinner != NULL ? (*c->cinner)->do_keyx(c->cinner, data, len) : 0;
}

static size_t c_do_sign(const br_ssl_client_certificate_class **ctx,
	int hash_id, size_t hv_len, unsigned char *data, size_t len)
{
	tls_client_t *c = from_c(ctx);
	return c->cinner != NULL ?
		(*c->cinner)->do_sign(c->cinner, hash_id, hv_len, data, len) : 0;
}

/* ---- setup ---- */

/* 1 when name looks like an IPv4 or IPv6 literal (BearSSL matches DNS
 * names only, so such a name could never be verified). */
static int is_ip_literal(const char *name)
{
	int dots_digits = 1;
	for (const char *p = name; *p != '\0'; p++) {
		if (*p == ':')
			return 1;
		if (*p != '.' && (*p < '0' || *p > '9'))
			dots_digits = 0;
	}
	return dots_digits;
}

/* see tls.h */
tls_status_t tls_client_init(tls_client_t *c, const tls_config_t *cfg)
{
	br_ssl_engine_context *eng = &c->sc.eng;
	size_t nlen = cfg->server_name != NULL ? strlen(cfg->server_name) : 0;
	int64_t now = cfg->now > 0 ? cfg->now : 0;

	memset(c, 0, sizeof *c);
	c->status = TLS_E_PARAM;
	if (cfg->anchors == NULL || cfg->anchors->n == 0 || nlen == 0 ||
	    nlen > TLS_NAME_MAX || is_ip_literal(cfg->server_name) ||
	    cfg->entropy == NULL || cfg->entropy_len < TLS_ENTROPY_MIN ||
	    (cfg->chain != NULL) != (cfg->key != NULL) ||
	    (cfg->chain != NULL && cfg->chain->n == 0) ||
	    (cfg->key != NULL && cfg->key->type != BR_KEYTYPE_RSA &&
	     cfg->key->type != BR_KEYTYPE_EC))
		return TLS_E_PARAM;
	memcpy(c->name, cfg->server_name, nlen + 1);
	c->days = (uint32_t)(now / 86400) + DAYS_TO_1970;
	c->secs = (uint32_t)(now % 86400);

	br_ssl_client_zero(&c->sc);
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_suites(eng, tls_suites, sizeof tls_suites / sizeof tls_suites[0]);
	br_ssl_engine_set_hash(eng, br_sha256_ID, &br_sha256_vtable);
	br_ssl_engine_set_hash(eng, br_sha384_ID, &br_sha384_vtable);
	br_ssl_engine_set_hash(eng, br_sha512_ID, &br_sha512_vtable);
	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	br_ssl_engine_set_default_aes_gcm(eng);
	/* one implementation each, for size: the portable constant-time
	 * ChaCha20 and Poly1305 and the 31-bit RSA code (the defaults link
	 * a second, faster variant on 64-bit CPUs; MQTT traffic is small) */
	br_ssl_engine_set_chapol(eng, &br_sslrec_in_chapol_vtable,
		&br_sslrec_out_chapol_vtable);
	br_ssl_engine_set_chacha20(eng, &br_chacha20_ct_run);
	br_ssl_engine_set_poly1305(eng, &br_poly1305_ctmul_run);
	br_ssl_engine_set_default_ec(eng);
	br_ssl_engine_set_rsavrfy(eng, &br_rsa_i31_pkcs1_vrfy);
	br_ssl_engine_set_default_ecdsa(eng);

	br_x509_minimal_init(&c->xc, &br_sha256_vtable, cfg->anchors->ta, cfg->anchors->n);
	br_x509_minimal_set_hash(&c->xc, br_sha256_ID, &br_sha256_vtable);
	br_x509_minimal_set_hash(&c->xc, br_sha384_ID, &br_sha384_vtable);
	br_x509_minimal_set_hash(&c->xc, br_sha512_ID, &br_sha512_vtable);
	br_x509_minimal_set_rsa(&c->xc, br_ssl_engine_get_rsavrfy(eng));
	br_x509_minimal_set_ecdsa(&c->xc, br_ssl_engine_get_ec(eng),
		br_ssl_engine_get_ecdsa(eng));
	br_x509_minimal_set_time(&c->xc, c->days, c->secs);
	/* vtables live in the client (a const table of function pointers
	 * would be writable data in a position-independent build) */
	c->xvt.context_size = sizeof *c;
	c->xvt.start_chain = x_start_chain;
	c->xvt.start_cert = x_start_cert;
	c->xvt.append = x_append;
	c->xvt.end_cert = x_end_cert;
	c->xvt.end_chain = x_end_chain;
	c->xvt.get_pkey = x_get_pkey;
	c->xvtable = &c->xvt;
	br_ssl_engine_set_x509(eng, &c->xvtable);

	if (cfg->key != NULL) {
		if (cfg->key->type == BR_KEYTYPE_RSA)
			br_ssl_client_set_single_rsa(&c->sc, cfg->chain->certs,
				cfg->chain->n, &cfg->key->k.rsa,
				&br_rsa_i31_pkcs1_sign);
		else
			br_ssl_client_set_single_ec(&c->sc, cfg->chain->certs,
				cfg->chain->n, &cfg->key->k.ec, BR_KEYTYPE_SIGN,
				(unsigned)cfg->chain->signer_key_type,
				br_ec_get_default(), br_ecdsa_sign_asn1_get_default());
		c->cinner = c->sc.client_auth_vtable;
	}
	c->cvt.context_size = sizeof *c;
	c->cvt.start_name_list = c_start_name_list;
	c->cvt.start_name = c_start_name;
	c->cvt.append_name = c_append_name;
	c->cvt.end_name = c_end_name;
	c->cvt.end_name_list = c_end_name_list;
	c->cvt.choose = c_choose;
	c->cvt.do_keyx = c_do_keyx;
	c->cvt.do_sign = c_do_sign;
	c->cvtable = &c->cvt;
	br_ssl_client_set_client_certificate(&c->sc, &c->cvtable);

	br_ssl_engine_set_buffers_bidi(eng, c->ibuf, sizeof c->ibuf, c->obuf, sizeof c->obuf);
	br_ssl_engine_inject_entropy(eng, cfg->entropy, cfg->entropy_len);
	if (!br_ssl_client_reset(&c->sc, c->name, 0)) {
		c->br_err = br_ssl_engine_last_error(eng);
		return TLS_E_PARAM;
	}
	c->status = TLS_OK;
	return TLS_OK;
}

/* ---- failure classification ---- */

static int is_client_cert_alert(int alert)
{
	switch (alert) {
	case BR_ALERT_HANDSHAKE_FAILURE:
	case BR_ALERT_BAD_CERTIFICATE:
	case BR_ALERT_UNSUPPORTED_CERTIFICATE:
	case BR_ALERT_CERTIFICATE_REVOKED:
	case BR_ALERT_CERTIFICATE_EXPIRED:
	case BR_ALERT_CERTIFICATE_UNKNOWN:
	case BR_ALERT_UNKNOWN_CA:
	case BR_ALERT_ACCESS_DENIED:
	case BR_ALERT_DECRYPT_ERROR:
	case 116: /* certificate_required (RFC 8446) */
		return 1;
	default:
		return 0;
	}
}

/* A fatal alert from the peer (br_err already set). */
static void classify_alert(tls_client_t *c, int alert)
{
	if (!c->done && c->cert_requested && !c->sent_cert)
		c->status = TLS_E_CLIENT_CERT_REQUIRED;
	else if (!c->done && c->sent_cert && is_client_cert_alert(alert))
		c->status = TLS_E_CLIENT_CERT_REJECTED;
	else
		c->status = TLS_E_ALERT;
}

/* The engine closed: record why (once). */
static void classify(tls_client_t *c)
{
	int err = br_ssl_engine_last_error(&c->sc.eng);

	if (c->status != TLS_OK)
		return;
	c->br_err = err;
	if (err == BR_ERR_OK) /* close_notify: not a failure */
		return;
	if (err >= BR_ERR_RECV_FATAL_ALERT && err < BR_ERR_SEND_FATAL_ALERT) {
		classify_alert(c, err - BR_ERR_RECV_FATAL_ALERT);
		return;
	}
	if (err >= BR_ERR_X509_OK && err < BR_ERR_RECV_FATAL_ALERT) {
		switch (err) {
		case BR_ERR_X509_EXPIRED:
			c->status = c->cert_problem != 0 ?
				(tls_status_t)c->cert_problem : TLS_E_EXPIRED;
			break;
		case BR_ERR_X509_NOT_TRUSTED:
		case BR_ERR_X509_BAD_SIGNATURE:
		case BR_ERR_X509_DN_MISMATCH:
			c->status = c->self_signed && c->ncerts == 1 ?
				TLS_E_SELF_SIGNED : TLS_E_UNTRUSTED;
			break;
		case BR_ERR_X509_BAD_SERVER_NAME:
			c->status = TLS_E_NAME_MISMATCH;
			break;
		default:
			c->status = TLS_E_BAD_CERT;
			break;
		}
		return;
	}
	if (c->nhead > 0 && (c->head[0] < 20 || c->head[0] > 23 ||
	    (c->nhead > 1 && c->head[1] != 3))) {
		c->status = TLS_E_NOT_TLS;
		return;
	}
	c->status = err == BR_ERR_TOO_LARGE ? TLS_E_RECORD_TOO_LARGE : TLS_E_PROTOCOL;
}

/* What a dead transport returns. */
static long dead(const tls_client_t *c)
{
	if (c->status == TLS_E_IO)
		return IO_ERR;
	if (c->status != TLS_OK)
		return IO_ETLS;
	return IO_EOF;
}

static long fail(tls_client_t *c, tls_status_t st)
{
	if (c->status == TLS_OK)
		c->status = st;
	return dead(c);
}

/* ---- moving records ---- */

/*
 * The lower transport failed (or hit EOF) during the handshake.  A peer
 * that refuses us sends an alert and closes at once, often while our flight
 * is still going out, so our send fails before the engine has read the
 * alert (it reads only after writing).  Until the server's ChangeCipherSpec
 * its alerts are plaintext: look for one among the bytes already here.
 */
static long handshake_lost(tls_client_t *c, int reading)
{
	unsigned char b[7];
	long n = 0;

	while (!reading && n < (long)sizeof b) {
		long r = c->lower.recv(c->lower.ctx, b + n, sizeof b - (size_t)n);
		if (r <= 0)
			break;
		n += r;
	}
	if (n == (long)sizeof b && b[0] == 21 /* alert */ && b[1] == 3 && b[3] == 0 &&
	    b[4] == 2 && b[5] == 2) {
		c->br_err = BR_ERR_RECV_FATAL_ALERT + b[6];
		classify_alert(c, b[6]);
		return dead(c);
	}
	/* a server that wants a certificate may also just hang up */
	return fail(c, c->cert_requested && !c->sent_cert ?
		TLS_E_CLIENT_CERT_REQUIRED : TLS_E_CLOSED_HANDSHAKE);
}

/*
 * One step between the engine and the lower transport.  Reads from the
 * lower transport only when allowed (read != 0).  Returns 1 when bytes
 * moved, 0 when nothing could move, or a negative IO_E* when dead.
 */
static long step(tls_client_t *c, int read)
{
	br_ssl_engine_context *eng = &c->sc.eng;
	unsigned st;

	if (c->eof || c->status != TLS_OK)
		return dead(c);
	st = br_ssl_engine_current_state(eng);
	if (st & BR_SSL_CLOSED) {
		classify(c);
		return dead(c);
	}
	if (!c->done && (st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP)) != 0)
		c->done = 1;
	if (st & BR_SSL_SENDREC) {
		size_t n;
		unsigned char *p = br_ssl_engine_sendrec_buf(eng, &n);
		long r = c->lower.send(c->lower.ctx, p, n);
		if (r < 0)
			return c->done ? fail(c, TLS_E_IO) : handshake_lost(c, 0);
		if (r > 0) {
			br_ssl_engine_sendrec_ack(eng, (size_t)r);
			return 1;
		}
	}
	if (read && (st & BR_SSL_RECVREC)) {
		size_t n;
		unsigned char *p = br_ssl_engine_recvrec_buf(eng, &n);
		long r = c->lower.recv(c->lower.ctx, p, n);
		if (r < 0 && !c->done) /* EOF or reset: the engine saw it all */
			return handshake_lost(c, 1);
		if (r == IO_EOF) {
			c->eof = 1; /* closed without close_notify */
			return IO_EOF;
		}
		if (r < 0)
			return fail(c, TLS_E_IO);
		if (r > 0) {
			for (long i = 0; i < r && c->nhead < sizeof c->head; i++)
				c->head[c->nhead++] = p[i];
			br_ssl_engine_recvrec_ack(eng, (size_t)r);
			return 1;
		}
	}
	return 0;
}

static long tls_recv(void *ctx, uint8_t *buf, size_t len)
{
	tls_client_t *c = ctx;
	br_ssl_engine_context *eng = &c->sc.eng;

	for (;;) {
		long r;
		size_t n;
		unsigned char *p;

		if (c->eof || c->status != TLS_OK)
			return dead(c);
		p = br_ssl_engine_recvapp_buf(eng, &n);
		if (p != NULL && len > 0) {
			if (n > len)
				n = len;
			memcpy(buf, p, n);
			br_ssl_engine_recvapp_ack(eng, n);
			return (long)n;
		}
		r = step(c, 1);
		if (r <= 0)
			return r;
	}
}

static long tls_send(void *ctx, const uint8_t *buf, size_t len)
{
	tls_client_t *c = ctx;
	br_ssl_engine_context *eng = &c->sc.eng;

	for (;;) {
		long r;
		size_t n;
		unsigned char *p;

		if (c->eof || c->status != TLS_OK)
			return dead(c);
		p = br_ssl_engine_sendapp_buf(eng, &n);
		if (p != NULL && len > 0) {
			if (n > len)
				n = len;
			memcpy(p, buf, n);
			br_ssl_engine_sendapp_ack(eng, n);
			br_ssl_engine_flush(eng, 0);
			/* push what we can now; the rest goes when writable */
			while ((r = step(c, 0)) > 0)
				;
			if (r < 0)
				return r;
			return (long)n;
		}
		/* before the handshake is done, reading is part of sending;
		 * after it, reading here could hide decrypted bytes from the
		 * caller's poll loop, so only recv() reads */
		r = step(c, !c->done);
		if (r <= 0)
			return r;
	}
}

static int tls_events(void *ctx, int have_output)
{
	tls_client_t *c = ctx;
	unsigned st;
	int ev = 0;

	if (c->eof || c->status != TLS_OK)
		return IO_WANT_READ | IO_WANT_WRITE; /* wake up to see the error */
	st = br_ssl_engine_current_state(&c->sc.eng);
	if (st & BR_SSL_CLOSED)
		return IO_WANT_READ | IO_WANT_WRITE;
	if (st & BR_SSL_SENDREC)
		ev |= IO_WANT_WRITE;
	if (st & (BR_SSL_RECVREC | BR_SSL_RECVAPP))
		ev |= IO_WANT_READ;
	if (have_output && (st & BR_SSL_SENDAPP))
		ev |= IO_WANT_WRITE;
	return ev != 0 ? ev : IO_WANT_READ;
}

static void tls_close(void *ctx)
{
	tls_client_t *c = ctx;
	if (c->status == TLS_OK && !c->eof) {
		br_ssl_engine_close(&c->sc.eng);
		while (step(c, 0) > 0)
			;
	}
	if (c->lower.close != NULL)
		c->lower.close(c->lower.ctx);
	c->lower.close = NULL;
}

/* see tls.h */
void tls_transport(tls_client_t *c, const io_transport_t *lower, io_transport_t *out)
{
	c->lower = *lower;
	out->ctx = c;
	out->recv = tls_recv;
	out->send = tls_send;
	out->events = tls_events;
	out->close = tls_close;
}

/* see tls.h */
int tls_handshake(tls_client_t *c)
{
	for (;;) {
		long r;
		if (c->done)
			return 1;
		r = step(c, 1);
		if (r < 0)
			return (int)r;
		if (r == 0)
			return c->done;
	}
}

/* ---- reporting ---- */

/* see tls.h */
tls_status_t tls_status(const tls_client_t *c)
{
	return c->status;
}

/* see tls.h */
int tls_br_error(const tls_client_t *c)
{
	return c->br_err;
}

/* see tls.h */
const char *tls_strerror(tls_status_t st)
{
	switch (st) {
	case TLS_OK: return "ok";
	case TLS_E_PARAM: return "invalid TLS configuration";
	case TLS_E_EXPIRED: return "certificate expired";
	case TLS_E_NOT_YET_VALID: return "certificate not yet valid";
	case TLS_E_UNTRUSTED: return "certificate not signed by the given CA";
	case TLS_E_SELF_SIGNED: return "certificate not signed by the given CA: the server's certificate is self-signed";
	case TLS_E_NAME_MISMATCH: return "host name mismatch";
	case TLS_E_BAD_CERT: return "server certificate rejected";
	case TLS_E_CLIENT_CERT_REQUIRED: return "handshake failed: peer requires a client certificate";
	case TLS_E_CLIENT_CERT_REJECTED: return "handshake failed: peer rejected our client certificate";
	case TLS_E_ALERT: return "handshake failed: peer sent a fatal alert";
	case TLS_E_NOT_TLS: return "peer is not speaking TLS";
	case TLS_E_CLOSED_HANDSHAKE: return "connection closed during handshake";
	case TLS_E_RECORD_TOO_LARGE: return "peer sent a TLS record larger than negotiated (it ignored max_fragment_length)";
	case TLS_E_PROTOCOL: return "TLS protocol error";
	case TLS_E_IO: return "connection failed during TLS";
	}
	return "unknown TLS status";
}

/* Bounded string builder: never writes past cap, always terminated. */
struct sb {
	char *buf;
	size_t cap, len;
};

static void sb_add(struct sb *s, const char *t)
{
	size_t n = strlen(t);
	if (s->cap == 0)
		return;
	if (n > s->cap - 1 - s->len)
		n = s->cap - 1 - s->len;
	memcpy(s->buf + s->len, t, n);
	s->len += n;
	s->buf[s->len] = '\0';
}

static void sb_num(struct sb *s, unsigned long v)
{
	char d[24];
	size_t i = sizeof d - 1;
	d[i] = '\0';
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 && i > 0);
	sb_add(s, d + i);
}

/* "YYYY-MM-DD HH:MM:SS UTC" from "YYYYMMDDHHMMSS". */
static void sb_date(struct sb *s, const char *t)
{
	char o[24];
	memcpy(o, t, 4);
	o[4] = '-';
	memcpy(o + 5, t + 4, 2);
	o[7] = '-';
	memcpy(o + 8, t + 6, 2);
	o[10] = ' ';
	memcpy(o + 11, t + 8, 2);
	o[13] = ':';
	memcpy(o + 14, t + 10, 2);
	o[16] = ':';
	memcpy(o + 17, t + 12, 2);
	memcpy(o + 19, " UTC", 5);
	sb_add(s, o);
}

static const char *alert_name(int alert)
{
	switch (alert) {
	case BR_ALERT_CLOSE_NOTIFY: return "close_notify";
	case BR_ALERT_UNEXPECTED_MESSAGE: return "unexpected_message";
	case BR_ALERT_BAD_RECORD_MAC: return "bad_record_mac";
	case BR_ALERT_RECORD_OVERFLOW: return "record_overflow";
	case BR_ALERT_DECOMPRESSION_FAILURE: return "decompression_failure";
	case BR_ALERT_HANDSHAKE_FAILURE: return "handshake_failure";
	case BR_ALERT_BAD_CERTIFICATE: return "bad_certificate";
	case BR_ALERT_UNSUPPORTED_CERTIFICATE: return "unsupported_certificate";
	case BR_ALERT_CERTIFICATE_REVOKED: return "certificate_revoked";
	case BR_ALERT_CERTIFICATE_EXPIRED: return "certificate_expired";
	case BR_ALERT_CERTIFICATE_UNKNOWN: return "certificate_unknown";
	case BR_ALERT_ILLEGAL_PARAMETER: return "illegal_parameter";
	case BR_ALERT_UNKNOWN_CA: return "unknown_ca";
	case BR_ALERT_ACCESS_DENIED: return "access_denied";
	case BR_ALERT_DECODE_ERROR: return "decode_error";
	case BR_ALERT_DECRYPT_ERROR: return "decrypt_error";
	case BR_ALERT_PROTOCOL_VERSION: return "protocol_version";
	case BR_ALERT_INSUFFICIENT_SECURITY: return "insufficient_security";
	case BR_ALERT_INTERNAL_ERROR: return "internal_error";
	case BR_ALERT_USER_CANCELED: return "user_canceled";
	case BR_ALERT_NO_RENEGOTIATION: return "no_renegotiation";
	case BR_ALERT_UNSUPPORTED_EXTENSION: return "unsupported_extension";
	case BR_ALERT_NO_APPLICATION_PROTOCOL: return "no_application_protocol";
	case 116: return "certificate_required";
	default: return NULL;
	}
}

/* "the server's certificate" or "certificate N of the server's chain" */
static void sb_which(struct sb *s, uint32_t index)
{
	if (index <= 1) {
		sb_add(s, "the server's certificate");
	} else {
		sb_add(s, "certificate ");
		sb_num(s, index);
		sb_add(s, " of the server's chain");
	}
}

/* see tls.h */
const char *tls_describe(const tls_client_t *c, char *buf, size_t cap)
{
	struct sb s = { buf, cap, 0 };

	if (cap == 0)
		return buf;
	buf[0] = '\0';
	switch (c->status) {
	case TLS_E_EXPIRED:
	case TLS_E_NOT_YET_VALID:
		sb_add(&s, tls_strerror(c->status));
		if (c->cert_problem == c->status) {
			sb_add(&s, ": ");
			sb_which(&s, c->problem_index);
			sb_add(&s, c->status == TLS_E_EXPIRED ?
				" was valid until " : " is valid from ");
			sb_date(&s, c->problem_date);
		}
		break;
	case TLS_E_NAME_MISMATCH:
		sb_add(&s, "host name mismatch: expected ");
		sb_add(&s, c->name);
		sb_add(&s, " (not among the certificate's DNS names)");
		break;
	case TLS_E_ALERT:
	case TLS_E_CLIENT_CERT_REQUIRED:
	case TLS_E_CLIENT_CERT_REJECTED: {
		int alert = c->br_err - BR_ERR_RECV_FATAL_ALERT;
		const char *an = alert_name(alert);
		sb_add(&s, tls_strerror(c->status));
		if (c->br_err == 0) { /* no alert: the peer hung up */
			sb_add(&s, " (it closed the connection)");
			break;
		}
		sb_add(&s, c->status == TLS_E_ALERT ? " " : " (alert ");
		if (an != NULL) {
			sb_add(&s, an);
		} else {
			sb_add(&s, "alert ");
			sb_num(&s, (unsigned long)alert);
		}
		if (c->status != TLS_E_ALERT)
			sb_add(&s, ")");
		break;
	}
	case TLS_E_NOT_TLS:
		sb_add(&s, "peer is not speaking TLS (is the port a TLS listener?)");
		break;
	case TLS_E_CLOSED_HANDSHAKE:
		sb_add(&s, "connection closed during handshake");
		if (c->nhead == 0)
			sb_add(&s, " (nothing received: is the port a TLS listener?)");
		break;
	default:
		sb_add(&s, tls_strerror(c->status));
		break;
	}
	if (c->br_err != 0) {
		sb_add(&s, " (BearSSL error ");
		sb_num(&s, (unsigned long)c->br_err);
		sb_add(&s, ")");
	}
	return buf;
}

/* see tls.h */
unsigned tls_version(const tls_client_t *c)
{
	return br_ssl_engine_get_version(&c->sc.eng);
}

/* see tls.h */
uint16_t tls_suite(const tls_client_t *c)
{
	return c->sc.eng.session.cipher_suite;
}

/* see tls.h */
const char *tls_suite_name(uint16_t suite)
{
	switch (suite) {
	case BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:
		return "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";
	case BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:
		return "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256";
	case BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384:
		return "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384";
	case BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:
		return "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384";
	case BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256:
		return "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256";
	case BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256:
		return "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256";
	default:
		return "unknown";
	}
}

/* see tls.h */
const char *tls_server_name(const tls_client_t *c)
{
	return c->name;
}
