/*
 * pem.h -- trust anchors, certificate chains and private keys from PEM text,
 * decoded with BearSSL into storage the caller owns.
 *
 * Pure: no I/O, no allocation, no global state.  Each loader reads a PEM
 * buffer (need not be NUL-terminated; CRLF or LF line ends; text between
 * blocks is ignored) and writes everything the result points to into one
 * caller-supplied arena, so the result stays valid exactly as long as the
 * arena does and is released by releasing the arena.
 *
 * Sizing: every loader reports in diag->need how many arena bytes the
 * whole buffer takes (alignment slack included).  Call once with arena NULL
 * (it returns PEM_E_SPACE with need set, after checking every block), then
 * again with an arena of that size:
 *
 *     pem_diag_t d;
 *     pem_load_anchors(pem, len, NULL, 0, &ta, &d);    -> PEM_E_SPACE
 *     arena = malloc(d.need);
 *     pem_load_anchors(pem, len, arena, d.need, &ta, &d); -> PEM_OK
 *
 * A syntax or decoding error is reported before PEM_E_SPACE, so a dry run
 * already validates the whole buffer.
 */
#ifndef DMQTT_PEM_H
#define DMQTT_PEM_H

#include <stddef.h>
#include <stdint.h>

#include "bearssl.h"

typedef enum pem_status {
	PEM_OK = 0,
	PEM_E_SPACE,         /* arena too small (or NULL); diag->need says how big */
	PEM_E_NO_CERT,       /* no CERTIFICATE block in the buffer */
	PEM_E_SYNTAX,        /* a block with bad base64 or without its END line */
	PEM_E_BAD_CERT,      /* certificate diag->index does not decode */
	PEM_E_NO_KEY,        /* no private key block in the buffer */
	PEM_E_BAD_KEY,       /* the key block does not decode (or unsupported type) */
	PEM_E_KEY_ENCRYPTED, /* the key is encrypted (passphrase); not supported */
	PEM_E_TWO_KEYS,      /* more than one private key block */
	PEM_E_KEY_MISMATCH,  /* pem_key_matches: key is not the certificate's */
	PEM_E_TOO_MANY       /* more than PEM_MAX_ITEMS certificates */
} pem_status_t;

/* Upper bound on certificates per buffer (a big CA bundle has ~150). */
#define PEM_MAX_ITEMS 1024

/* Where a loader stopped or what it measured. */
typedef struct pem_diag {
	size_t need;    /* arena bytes the buffer needs (valid on OK and E_SPACE) */
	size_t index;   /* 1-based number of the certificate (or PEM block) at
			   fault; 0 when not about one block */
	size_t line;    /* 1-based line where that block begins (0: n/a) */
	int br_err;     /* BearSSL decoder code (BR_ERR_X509_*), 0 when none */
} pem_diag_t;

/* Trust anchors, one per certificate of the buffer, in file order.  A CA
 * certificate (basicConstraints CA:TRUE) becomes a CA anchor; any other
 * certificate becomes a direct-trust anchor (pins that exact server
 * certificate: same subject and key; its name and dates are still checked). */
typedef struct pem_anchors {
	br_x509_trust_anchor *ta;
	size_t n;
} pem_anchors_t;

/* A certificate chain (client certificate first, then its issuers), DER
 * copies in the arena, plus what the TLS client needs to announce it. */
typedef struct pem_chain {
	br_x509_certificate *certs;
	size_t n;
	int key_type;         /* public key of certs[0]: BR_KEYTYPE_RSA or _EC */
	int signer_key_type;  /* key type of the CA that signed certs[0] */
	br_x509_pkey pkey;    /* public key of certs[0] (points into the arena) */
} pem_chain_t;

/* A private key (RSA or EC; PKCS#1, SEC1 or unencrypted PKCS#8). */
typedef struct pem_key {
	int type;             /* BR_KEYTYPE_RSA or BR_KEYTYPE_EC */
	union {
		br_rsa_private_key rsa;
		br_ec_private_key ec;
	} k;
} pem_key_t;

/*
 * Every CERTIFICATE (or X509 CERTIFICATE) block of pem into out.  Other
 * blocks (keys, parameters) are skipped.  Errors: PEM_E_NO_CERT,
 * PEM_E_SYNTAX, PEM_E_BAD_CERT (diag->index, ->line, ->br_err),
 * PEM_E_TOO_MANY, PEM_E_SPACE.  out is filled only on PEM_OK.
 */
pem_status_t pem_load_anchors(const char *pem, size_t len, void *arena,
	size_t cap, pem_anchors_t *out, pem_diag_t *diag);

/* Every CERTIFICATE block of pem, in order, as a chain (same errors). */
pem_status_t pem_load_chain(const char *pem, size_t len, void *arena,
	size_t cap, pem_chain_t *out, pem_diag_t *diag);

/*
 * The one private key block of pem ("PRIVATE KEY", "RSA PRIVATE KEY" or
 * "EC PRIVATE KEY"; certificates and "EC PARAMETERS" are skipped).
 * Errors: PEM_E_NO_KEY, PEM_E_KEY_ENCRYPTED, PEM_E_BAD_KEY (->br_err),
 * PEM_E_TWO_KEYS, PEM_E_SYNTAX, PEM_E_SPACE.
 */
pem_status_t pem_load_key(const char *pem, size_t len, void *arena,
	size_t cap, pem_key_t *out, pem_diag_t *diag);

/* PEM_OK when key is the private half of chain->certs[0]'s public key,
 * else PEM_E_KEY_MISMATCH (also for an RSA key over 4096 bits). */
pem_status_t pem_key_matches(const pem_key_t *key, const pem_chain_t *chain);

const char *pem_strerror(pem_status_t st);

/*
 * PEM armour on its own (RFC 7468's strict form), for callers that only
 * need the blocks' labels and bytes, fast: BearSSL's PEM decoder costs
 * over a thousand instructions per character, this a few.
 *
 * A block is a BEGIN line "-----BEGIN <label>-----" at the start of a line
 * (only a CR may follow it before the LF), base64 lines, and an END line
 * "-----END <label>-----" with the same label (spaces, tabs or CR may
 * follow it).  Text between
 * blocks is skipped.  What this accepts, BearSSL's decoder decodes to the
 * same labels and bytes (fuzz/pem_armour.c checks that on every input);
 * it is stricter where the two could disagree: outside a block, a line
 * that starts with "-----" but is not a well-formed BEGIN banner is an error,
 * labels are upper case (BearSSL's decoder upper-cases them), the END
 * label must match, and the body holds only base64 and line
 * breaks (no RFC 1421 headers such as Proc-Type).
 */
#define PEM_LABEL_MAX 64 /* the longest in use is 29 ("ENCRYPTED PRIVATE KEY"...) */
typedef struct pem_armour {
	const char *label;   /* inside the BEGIN line; not NUL-terminated */
	size_t label_len;
	const char *body;    /* from after the BEGIN line to the END line */
	size_t body_len;
	size_t line;         /* 1-based line of the BEGIN banner */
} pem_armour_t;

/*
 * The next block at or after text[*pos].  Returns 1 with *blk filled and
 * *pos moved past the END line; 0 when no block is left (*pos = len); -1
 * for a malformed banner or a BEGIN without its END line (*blk->line and,
 * when a BEGIN line was read, its label say where; *pos is unchanged).
 */
int pem_armour_next(const char *text, size_t len, size_t *pos,
	pem_armour_t *blk);

/*
 * The bytes of a block's body into out[0..cap): base64 as proto/base64
 * reads it (alphabet, padding only at the end, zero unused bits, line
 * breaks only between 4-character groups: the 64-column lines tools write,
 * as BearSSL's decoder also requires), with no blank line and a CR only
 * before a LF.
 * Returns 0 with *n set, -1 for bad base64, -2 when cap is too small
 * (body_len / 4 * 3 always suffices).
 */
int pem_armour_decode(const pem_armour_t *blk, uint8_t *out, size_t cap,
	size_t *n);

#endif
