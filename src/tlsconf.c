/* tlsconf.c -- see tlsconf.h */
#include "src/tlsconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/clock.h"
#include "platform/file.h"
#include "platform/random.h"
#include "src/cli.h"
#include "platform/fmt.h"

struct tlsconf {
	tls_client_t client;          /* first: the big, aligned part */
	pem_anchors_t anchors;
	pem_chain_t chain;
	pem_key_t key;
	int have_cert;
	void *anchor_arena, *chain_arena, *key_arena;
	size_t key_arena_len;
	int used;                     /* client holds a connection's state */
	char name[TLS_NAME_MAX + 1];
	char msg[320];                /* tlsconf_wrap_error's text */
};

/* Overwrite secret bytes in a way the compiler keeps. */
static void wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;
	while (n-- > 0)
		*v++ = 0;
}

static int errf(char *err, size_t cap, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int errf(char *err, size_t cap, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fmt_vsnprintf(err, cap, fmt, ap);
	va_end(ap);
	return code;
}

/* Read a whole file; 0 or an exit code with err filled. */
static int read_file(const char *what, const char *path, char **buf, size_t *len,
	char *err, size_t cap)
{
	char safe[96];
	int r = file_read(path, TLSCONF_FILE_MAX, buf, len);
	if (r == -EFBIG)
		return errf(err, cap, EXIT_DATAERR, "%s %s: larger than %d bytes",
			what, cli_safe(path, safe, sizeof safe), TLSCONF_FILE_MAX);
	if (r < 0)
		return errf(err, cap, EXIT_NOINPUT, "cannot read %s %s: %s", what,
			cli_safe(path, safe, sizeof safe), strerror(-r));
	return 0;
}

/* "certificate 2 (line 12): ..." for a PEM failure; exit 65. */
static int pem_err(const char *what, const char *path, pem_status_t st,
	const pem_diag_t *d, char *err, size_t cap)
{
	char safe[96], where[64] = "", code[32] = "";
	if (d->index > 0 && st == PEM_E_BAD_CERT)
		fmt_snprintf(where, sizeof where, " certificate %zu (line %zu):", d->index, d->line);
	else if (d->index > 0 && st == PEM_E_SYNTAX)
		fmt_snprintf(where, sizeof where, " PEM block %zu (line %zu):", d->index, d->line);
	if (d->br_err != 0)
		fmt_snprintf(code, sizeof code, " (BearSSL error %d)", d->br_err);
	return errf(err, cap, EXIT_DATAERR, "%s %s:%s %s%s", what,
		path != NULL ? cli_safe(path, safe, sizeof safe) : "(in memory)",
		where, pem_strerror(st), code);
}

static pem_status_t load_pem(int kind, const char *pem, size_t len, void *arena,
	size_t cap, void *out, pem_diag_t *d)
{
	if (kind == 0)
		return pem_load_anchors(pem, len, arena, cap, out, d);
	if (kind == 1)
		return pem_load_chain(pem, len, arena, cap, out, d);
	return pem_load_key(pem, len, arena, cap, out, d);
}

/* Measure, allocate, load.  kind: 0 anchors, 1 chain, 2 key. */
static int load(int kind, const char *what, const char *path, const char *pem,
	size_t len, void **arena, size_t *arena_len, void *out, char *err, size_t cap)
{
	pem_diag_t d;
	pem_status_t st = load_pem(kind, pem, len, NULL, 0, out, &d);

	if (st == PEM_E_SPACE) {
		size_t need = d.need;
		*arena = malloc(need);
		if (*arena == NULL)
			return errf(err, cap, EXIT_UNAVAILABLE, "out of memory");
		*arena_len = need;
		st = load_pem(kind, pem, len, *arena, need, out, &d);
	}
	if (st != PEM_OK)
		return pem_err(what, path, st, &d, err, cap);
	return 0;
}

/* 1 when s is an IPv4 or IPv6 literal. */
static int is_ip(const char *s)
{
	int only = 1;
	for (; *s != '\0'; s++) {
		if (*s == ':')
			return 1;
		if (*s != '.' && (*s < '0' || *s > '9'))
			only = 0;
	}
	return only;
}

static int setup(tlsconf_t *t, const tlsconf_opts_t *o, const char *host,
	char *err, size_t cap)
{
	const char *name = o->server_name != NULL ? o->server_name : host;
	char safe[96], safe2[96], *buf = NULL;
	size_t len = 0, unused;
	int rc;

	if (o->cafile == NULL && o->ca_pem == NULL)
		return errf(err, cap, EXIT_USAGE, "TLS needs the CA certificate (--cafile FILE)");
	if ((o->cert != NULL) != (o->key != NULL))
		return errf(err, cap, EXIT_USAGE, "--cert and --key go together");
	if (name == NULL || *name == '\0')
		return errf(err, cap, EXIT_USAGE, "no server name to verify (--tls-server-name NAME)");
	if (is_ip(name))
		return errf(err, cap, EXIT_USAGE,
			"%s is an IP address: certificates are checked against DNS names only, "
			"give the name in the broker's certificate with --tls-server-name NAME",
			cli_safe(name, safe, sizeof safe));
	if (strlen(name) > TLS_NAME_MAX)
		return errf(err, cap, EXIT_USAGE, "server name longer than %d characters", TLS_NAME_MAX);
	memcpy(t->name, name, strlen(name) + 1);

	if (o->cafile != NULL) {
		if ((rc = read_file("--cafile", o->cafile, &buf, &len, err, cap)) != 0)
			return rc;
		rc = load(0, "--cafile", o->cafile, buf, len, &t->anchor_arena, &unused,
			&t->anchors, err, cap);
		free(buf);
	} else {
		rc = load(0, "CA certificate", NULL, o->ca_pem, o->ca_pem_len,
			&t->anchor_arena, &unused, &t->anchors, err, cap);
	}
	if (rc != 0 || o->cert == NULL)
		return rc;

	if ((rc = read_file("--cert", o->cert, &buf, &len, err, cap)) != 0)
		return rc;
	rc = load(1, "--cert", o->cert, buf, len, &t->chain_arena, &unused, &t->chain, err, cap);
	free(buf);
	if (rc != 0)
		return rc;
	if ((rc = read_file("--key", o->key, &buf, &len, err, cap)) != 0)
		return rc;
	rc = load(2, "--key", o->key, buf, len, &t->key_arena, &t->key_arena_len, &t->key, err, cap);
	wipe(buf, len);
	free(buf);
	if (rc != 0)
		return rc;
	if (pem_key_matches(&t->key, &t->chain) != PEM_OK)
		return errf(err, cap, EXIT_DATAERR, "--key %s is not the key of --cert %s",
			cli_safe(o->key, safe, sizeof safe), cli_safe(o->cert, safe2, sizeof safe2));
	t->have_cert = 1;
	return 0;
}

/* see tlsconf.h */
tlsconf_t *tlsconf_new(const tlsconf_opts_t *opts, const char *host,
	char *err, size_t errcap, int *exit_code)
{
	tlsconf_t *t = calloc(1, sizeof *t);
	int rc;

	if (t == NULL) {
		*exit_code = errf(err, errcap, EXIT_UNAVAILABLE, "out of memory");
		return NULL;
	}
	rc = setup(t, opts, host, err, errcap);
	if (rc != 0) {
		tlsconf_free(t);
		*exit_code = rc;
		return NULL;
	}
	*exit_code = 0;
	return t;
}

/* see tlsconf.h */
void tlsconf_free(tlsconf_t *t)
{
	if (t == NULL)
		return;
	free(t->anchor_arena);
	free(t->chain_arena);
	if (t->key_arena != NULL)
		wipe(t->key_arena, t->key_arena_len);
	free(t->key_arena);
	wipe(t, sizeof *t); /* session keys live in the client */
	free(t);
}

/* see tlsconf.h */
int tlsconf_wrap(void *user, const io_transport_t *tcp, io_transport_t *out,
	char *err, size_t errcap)
{
	tlsconf_t *t = user;
	uint8_t ent[32];
	tls_config_t cfg;
	tls_status_t st;
	int r = random_bytes(ent, sizeof ent);

	if (r < 0) {
		fmt_snprintf(err, errcap, "no randomness for TLS: %s", strerror(-r));
		return -1;
	}
	memset(&cfg, 0, sizeof cfg);
	cfg.anchors = &t->anchors;
	cfg.chain = t->have_cert ? &t->chain : NULL;
	cfg.key = t->have_cert ? &t->key : NULL;
	cfg.server_name = t->name;
	cfg.now = clock_wall_s();
	cfg.entropy = ent;
	cfg.entropy_len = sizeof ent;
	st = tls_client_init(&t->client, &cfg);
	wipe(ent, sizeof ent);
	t->used = 1;
	if (st != TLS_OK) {
		tls_describe(&t->client, err, errcap);
		return -1;
	}
	tls_transport(&t->client, tcp, out);
	return 0;
}

/* see tlsconf.h */
const char *tlsconf_wrap_error(void *user)
{
	tlsconf_t *t = user;
	tls_status_t st = t->used ? tls_status(&t->client) : TLS_OK;
	if (st == TLS_OK || st == TLS_E_IO)
		return NULL;
	return tls_describe(&t->client, t->msg, sizeof t->msg);
}

/* see tlsconf.h */
int tlsconf_status_exit_code(tls_status_t st)
{
	switch (st) {
	case TLS_OK:
		return EXIT_OK;
	case TLS_E_EXPIRED:
	case TLS_E_NOT_YET_VALID:
	case TLS_E_UNTRUSTED:
	case TLS_E_SELF_SIGNED:
	case TLS_E_NAME_MISMATCH:
	case TLS_E_BAD_CERT:
	case TLS_E_CLIENT_CERT_REQUIRED:
	case TLS_E_CLIENT_CERT_REJECTED:
	case TLS_E_ALERT:
		return EXIT_NOPERM;
	case TLS_E_NOT_TLS:
	case TLS_E_CLOSED_HANDSHAKE:
	case TLS_E_RECORD_TOO_LARGE:
	case TLS_E_PROTOCOL:
		return EXIT_PROTOCOL;
	case TLS_E_IO:
		return EXIT_UNAVAILABLE;
	case TLS_E_PARAM:
		return EXIT_CONFIG;
	}
	return EXIT_PROTOCOL;
}

/* see tlsconf.h */
int tlsconf_exit_code(const tlsconf_t *t)
{
	return t->used ? tlsconf_status_exit_code(tls_status(&t->client)) : EXIT_OK;
}

/* see tlsconf.h */
tls_client_t *tlsconf_client(tlsconf_t *t)
{
	return &t->client;
}

/* see tlsconf.h */
const char *tlsconf_server_name(const tlsconf_t *t)
{
	return t->name;
}
