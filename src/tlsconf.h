/*
 * tlsconf.h -- TLS for the program: reads the CA, certificate and key files
 * (or a CA PEM held in memory, e.g. decoded from user-config.json), and
 * wraps connected TCP transports in proto/tls with fresh entropy from the
 * kernel and the wall-clock time.
 *
 * For dmqtt pub/sub (mqttc_hooks_t):
 *
 *     tlsconf_opts_t o = { .cafile = ..., .cert = ..., .key = ...,
 *                          .server_name = --tls-server-name or NULL };
 *     tlsconf_t *t = tlsconf_new(&o, host, err, sizeof err, &rc);
 *     if (t == NULL) { print err; return rc; }
 *     hooks.wrap = tlsconf_wrap; hooks.wrap_error = tlsconf_wrap_error;
 *     hooks.net_user = t;
 *     ... on a TLS failure: exit with tlsconf_exit_code(t) ...
 *     tlsconf_free(t);
 *
 * One tlsconf_t serves one connection at a time (reconnects reuse it).
 */
#ifndef DMQTT_TLSCONF_H
#define DMQTT_TLSCONF_H

#include <stddef.h>

#include "proto/io.h"
#include "proto/tls.h"

typedef struct tlsconf_opts {
	const char *cafile;       /* PEM file with one or more CA certificates */
	const char *ca_pem;       /* or the PEM text itself (used when cafile is NULL) */
	size_t ca_pem_len;
	const char *cert, *key;   /* client certificate chain and key files, or NULL */
	const char *server_name;  /* name to verify; NULL: the host connected to */
} tlsconf_opts_t;

typedef struct tlsconf tlsconf_t;

/* Largest file read (a big CA bundle is ~250 KB). */
#define TLSCONF_FILE_MAX (1024 * 1024)

/*
 * Load everything and check it: CAs parse, the key matches the first
 * certificate, the name to verify is a DNS name (connecting to an IP
 * address needs opts->server_name).  On failure returns NULL, a message
 * naming the file and the problem in err, and *exit_code: 64 (usage:
 * missing --cafile, --cert without --key, IP without a server name), 66
 * (file not readable), 65 (file content unusable), 69 (out of memory).
 */
tlsconf_t *tlsconf_new(const tlsconf_opts_t *opts, const char *host,
	char *err, size_t errcap, int *exit_code);
void tlsconf_free(tlsconf_t *t);

/*
 * mqttc's wrap hook (user = the tlsconf_t): start a TLS client over tcp
 * (32 bytes from getrandom, the current wall time) and fill *out.
 * 0, or -1 with err filled.
 */
int tlsconf_wrap(void *user, const io_transport_t *tcp, io_transport_t *out,
	char *err, size_t errcap);

/* mqttc's wrap_error hook: after the TLS transport failed, the message
 * (tls_describe: user-facing text and BearSSL code), or NULL when the
 * failure was not TLS's (a plain connection loss). */
const char *tlsconf_wrap_error(void *user);

/* Exit code for the last failure: 77 certificate/authentication (expired,
 * untrusted, name, client certificate, peer's alert), 76 protocol (not
 * TLS, closed during the handshake), 69 connection failure, 0 none. */
int tlsconf_exit_code(const tlsconf_t *t);
int tlsconf_status_exit_code(tls_status_t st);

/* The client of the current connection (for version, suite, name). */
tls_client_t *tlsconf_client(tlsconf_t *t);

/* The name verified in the server's certificate. */
const char *tlsconf_server_name(const tlsconf_t *t);

#endif
