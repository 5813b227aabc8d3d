/*
 * tls.h -- a TLS 1.2 client (BearSSL) behind the io_transport_t seam.
 *
 * tls_transport() wraps a connected, non-blocking lower transport (plain
 * TCP) into one with the same contract (proto/io.h), so an MQTT session
 * cannot tell TLS from TCP.  Pure: no syscalls, no allocation, no globals;
 * the caller owns tls_client_t (about 9 KiB with the default buffers, see
 * docs/tls.md), passes the wall-clock time and 32+ bytes of entropy in,
 * and keeps the anchors, chain and key it names alive while it is used.
 *
 * Policy, not configurable: TLS 1.2 only; ECDHE_ECDSA / ECDHE_RSA with
 * AES-128-GCM, AES-256-GCM or ChaCha20-Poly1305; the server's chain must
 * lead to one of the anchors (br_x509_minimal), be valid at cfg->now, and
 * its certificate must carry cfg->server_name as a DNS name (subjectAltName
 * dNSName, or the CN when there is no SAN; "*.example.com" wildcards per
 * BearSSL); the same name is sent as SNI.  There is no way to skip any of
 * this.  An optional client chain and key answer a CertificateRequest.
 *
 * Buffers: records are at most TLS_FRAG_LEN bytes of plaintext.  A length
 * under 16384 makes the client send the Maximum Fragment Length extension
 * (RFC 6066), which OpenSSL (mosquitto) honours.  A peer that ignores it
 * and sends a larger encrypted record ends the connection with
 * TLS_E_RECORD_TOO_LARGE.
 *
 * Transport behaviour:
 *   - recv/send/events/close as in io.h.  Until the handshake is complete
 *     send() accepts nothing (returns 0) and drives the handshake instead,
 *     so no application byte leaves before the server is verified.
 *   - events() asks for readability and/or writability as BearSSL needs
 *     (a read may need a write first, and during the handshake a send
 *     needs reads).
 *   - Decrypted bytes can wait inside the engine where poll() cannot see
 *     them: call recv() whenever you have room for input (not only after
 *     POLLIN), until it returns 0.
 *   - A failure makes every later call return IO_ETLS (TLS failure, see
 *     tls_status()/tls_describe()), IO_ERR (lower transport error) or
 *     IO_EOF (peer closed the connection cleanly after the handshake).
 */
#ifndef DMQTT_TLS_H
#define DMQTT_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "bearssl.h"
#include "proto/io.h"
#include "proto/pem.h"

#ifndef TLS_FRAG_LEN
#define TLS_FRAG_LEN 512   /* 512, 1024, 2048, 4096 or 16384 */
#endif
/* BearSSL's worst-case record overheads (bearssl_ssl.h, ssl_engine.c). */
#define TLS_IBUF_LEN (TLS_FRAG_LEN + 325)
#define TLS_OBUF_LEN (TLS_FRAG_LEN + 85)
/* Longest server name (a DNS name is at most 253 characters). */
#define TLS_NAME_MAX 253
/* Entropy the caller must provide, at least. */
#define TLS_ENTROPY_MIN 32

typedef enum tls_status {
	TLS_OK = 0,
	/* setup (tls_client_init) */
	TLS_E_PARAM,            /* no anchors, no/long/IP-literal name, short
				   entropy, chain without key, bad key type */
	/* server authentication */
	TLS_E_EXPIRED,          /* a certificate's notAfter is past */
	TLS_E_NOT_YET_VALID,    /* a certificate's notBefore is in the future */
	TLS_E_UNTRUSTED,        /* chain does not lead to an anchor */
	TLS_E_SELF_SIGNED,      /* ... and the server's certificate is self-signed */
	TLS_E_NAME_MISMATCH,    /* certificate is not for the server name */
	TLS_E_BAD_CERT,         /* other certificate problem (unsupported key or
				   algorithm, not a CA, key usage, weak key) */
	/* peer refused us */
	TLS_E_CLIENT_CERT_REQUIRED, /* server asked for a certificate, we had
				   none, and it ended the handshake (alert or
				   hang-up) */
	TLS_E_CLIENT_CERT_REJECTED, /* we sent one and the server refused it */
	TLS_E_ALERT,            /* server sent another fatal alert */
	/* protocol */
	TLS_E_NOT_TLS,          /* the first bytes received are not TLS */
	TLS_E_CLOSED_HANDSHAKE, /* peer closed or reset the connection during
				   the handshake (without an alert we could read) */
	TLS_E_RECORD_TOO_LARGE, /* record over TLS_FRAG_LEN (peer ignored MFL) */
	TLS_E_PROTOCOL,         /* any other TLS failure */
	TLS_E_IO                /* the lower transport failed after the handshake */
} tls_status_t;

/* What tls_client_init() needs.  Everything pointed to must outlive the
 * client (anchors, chain, key: pem.h arenas; the name is copied). */
typedef struct tls_config {
	const pem_anchors_t *anchors;  /* at least one */
	const pem_chain_t *chain;      /* client certificate chain, or NULL */
	const pem_key_t *key;          /* its private key (needed with chain) */
	const char *server_name;       /* checked in the certificate and sent as
					  SNI; a DNS name, not an IP literal */
	int64_t now;                   /* wall clock, seconds since 1970 (UTC) */
	const uint8_t *entropy;        /* >= TLS_ENTROPY_MIN random bytes */
	size_t entropy_len;
} tls_config_t;

/*
 * Incremental reader of one certificate's issuer, subject and validity,
 * for error messages only (BearSSL does the real validation).  Exposed for
 * tests and the fuzzer.  Never reads outside what it was given.
 */
typedef struct tls_certinfo {
	br_sha256_context h;
	uint32_t need;          /* bytes left in the current length/contents */
	uint32_t clen;          /* length of the current contents */
	uint8_t phase, item, tag, lenbytes, ok;
	uint8_t issuer[32], subject[32];   /* SHA-256 of the two DNs */
	char not_before[16], not_after[16]; /* "YYYYMMDDHHMMSS", "" if unknown */
} tls_certinfo_t;

void tls_certinfo_init(tls_certinfo_t *ci);
void tls_certinfo_push(tls_certinfo_t *ci, const uint8_t *der, size_t len);
/* 1 when issuer, subject and both dates were read. */
int tls_certinfo_done(const tls_certinfo_t *ci);

/* Opaque to callers; sized here so it can live anywhere. */
typedef struct tls_client {
	br_ssl_client_context sc;
	/* our X.509 class wraps br_x509_minimal to learn why a chain failed */
	const br_x509_class *xvtable;
	br_x509_class xvt;
	br_x509_minimal_context xc;
	/* our client-certificate class records a CertificateRequest */
	const br_ssl_client_certificate_class *cvtable;
	br_ssl_client_certificate_class cvt;
	const br_ssl_client_certificate_class **cinner; /* NULL: no cert */
	tls_certinfo_t ci;
	uint32_t days, secs;           /* cfg->now as BearSSL counts it */
	uint32_t ncerts;               /* certificates seen in the chain */
	int x509_err;                  /* what br_x509_minimal said */
	uint8_t cert_problem;          /* TLS_E_EXPIRED/_NOT_YET_VALID/0 */
	uint8_t self_signed;           /* first certificate: issuer == subject */
	uint8_t cert_requested, sent_cert, done, eof;
	uint32_t problem_index;        /* 1-based certificate with cert_problem */
	char problem_date[16];
	tls_status_t status;
	int br_err;
	uint8_t head[3], nhead;        /* first bytes received from the peer */
	io_transport_t lower;
	char name[TLS_NAME_MAX + 1];
	unsigned char ibuf[TLS_IBUF_LEN];
	unsigned char obuf[TLS_OBUF_LEN];
} tls_client_t;

/*
 * Set up c for one connection and start the handshake (nothing is sent
 * until the transport is used).  Returns TLS_OK or TLS_E_PARAM.  Call
 * again (or tls_client_init on a fresh struct) for every new connection.
 */
tls_status_t tls_client_init(tls_client_t *c, const tls_config_t *cfg);

/*
 * Fill *out with the TLS transport over lower (copied; lower->ctx must
 * outlive it).  out->close sends close_notify if it can without waiting,
 * then closes lower.
 */
void tls_transport(tls_client_t *c, const io_transport_t *lower, io_transport_t *out);

/*
 * Drive the handshake without application data: 1 complete, 0 in progress
 * (wait for out->events(ctx, 0) and call again), or a negative IO_E*.
 */
int tls_handshake(tls_client_t *c);

/* TLS_OK while healthy. */
tls_status_t tls_status(const tls_client_t *c);
/* BearSSL's code for the failure (BR_ERR_*, >= 256 for alerts), 0 if none. */
int tls_br_error(const tls_client_t *c);
/* Static text for a status ("certificate expired", ...). */
const char *tls_strerror(tls_status_t st);
/*
 * The user-facing message for c's failure, with its detail and BearSSL's
 * code, e.g. "host name mismatch: expected broker.example (BearSSL error
 * 56)".  Always NUL-terminated (truncated to cap).  Returns buf.
 */
const char *tls_describe(const tls_client_t *c, char *buf, size_t cap);

/* After the handshake: protocol version (0x0303) and cipher suite. */
unsigned tls_version(const tls_client_t *c);
uint16_t tls_suite(const tls_client_t *c);
/* IANA name of one of our suites ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
 * "unknown" otherwise. */
const char *tls_suite_name(uint16_t suite);
/* The name checked in the server's certificate. */
const char *tls_server_name(const tls_client_t *c);

#endif
