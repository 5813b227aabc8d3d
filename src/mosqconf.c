/* mosqconf.c -- see mosqconf.h */
#include "src/mosqconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platform/file.h"
#include "platform/random.h"
#include "proto/base64.h"
#include "proto/kdf.h"
#include "platform/fmt.h"

size_t mosq_pw_line(const char *user, const char *pass, const uint8_t salt[12],
	uint32_t iterations, char *out, size_t cap)
{
	uint8_t hash[64];
	char s64[32], h64[100];
	size_t sl, hl;
	int n;
	if (kdf_pbkdf2_sha512((const uint8_t *)pass, strlen(pass), salt, 12, iterations,
		hash, sizeof hash) != KDF_OK ||
	    b64_encode(salt, 12, s64, sizeof s64, &sl) != B64_OK ||
	    b64_encode(hash, sizeof hash, h64, sizeof h64, &hl) != B64_OK)
		return 0;
	memset(hash, 0, sizeof hash);
	n = fmt_snprintf(out, cap, "%s:$7$%u$%s$%s\n", user, iterations, s64, h64);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

int mosq_pw_verify(const char *line, size_t len, const char *user, const char *pass)
{
	char buf[512], *p, *salt64, *hash64, *end;
	uint8_t salt[16], hash[64], want[64];
	size_t ulen = strlen(user), sl = 0, hl = 0;
	unsigned long it;
	int ok;

	if (len >= sizeof buf || len <= ulen + 1 || memcmp(line, user, ulen) != 0 || line[ulen] != ':')
		return 0;
	memcpy(buf, line, len);
	buf[len] = '\0';
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	p = buf + ulen + 1;
	if (strncmp(p, "$7$", 3) != 0)
		return 0;
	it = strtoul(p + 3, &end, 10);
	if (*end != '$' || it == 0 || it > 10000000)
		return 0;
	salt64 = end + 1;
	hash64 = strchr(salt64, '$');
	if (hash64 == NULL)
		return 0;
	*hash64++ = '\0';
	if (b64_decode(salt64, strlen(salt64), salt, sizeof salt, &sl, NULL) != B64_OK || sl != 12 ||
	    b64_decode(hash64, strlen(hash64), hash, sizeof hash, &hl, NULL) != B64_OK || hl != 64)
		return 0;
	if (kdf_pbkdf2_sha512((const uint8_t *)pass, strlen(pass), salt, 12, (uint32_t)it,
		want, sizeof want) != KDF_OK)
		return 0;
	ok = 1;
	for (size_t i = 0; i < 64; i++)
		ok &= want[i] == hash[i];
	memset(want, 0, sizeof want);
	return ok;
}

/* A growing string. */
struct sb {
	char *s;
	size_t len, cap;
	bool oom;
};

static void sb_add(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = fmt_vsnprintf(b->s != NULL ? b->s + b->len : NULL, b->s != NULL ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if (b->s != NULL && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		{
			size_t nc = b->cap == 0 ? 4096 : b->cap * 2;
			char *ns;
			while (nc < b->len + (size_t)n + 1)
				nc *= 2;
			ns = realloc(b->s, nc);
			if (ns == NULL) {
				b->oom = true;
				return;
			}
			b->s = ns;
			b->cap = nc;
		}
	}
}

static char *sb_done(struct sb *b)
{
	if (b->oom) {
		free(b->s);
		return NULL;
	}
	return b->s;
}

char *mosq_conf_text(const mosq_params_t *p)
{
	const dmqtt_config_t *c = p->cfg;
	struct sb b = { NULL, 0, 0, false };
	sb_add(&b, "# Written by dmqtt broker from user-config.json: edits are overwritten.\n");
	if (p->run_as != NULL)
		sb_add(&b, "user %s\n", p->run_as);
	sb_add(&b, "per_listener_settings false\n"
		"allow_anonymous false\n"
		"password_file %s/passwd\n"
		"acl_file %s/acl\n", p->dir, p->dir);
	sb_add(&b, "persistence true\n"
		"persistence_location %s/data/\n"
		"autosave_interval 2\n", p->dir);
	/* queue limits sized for large meshes: a node away for a while keeps
	 * its requests, the bridge keeps the mesh's replies while the cloud
	 * link is down */
	sb_add(&b, "max_queued_messages 100000\n"
		"max_inflight_messages 100\n"
		"log_dest stderr\n"
		"log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
		"connection_messages true\n"
		"log_timestamp false\n");
	sb_add(&b, "\nlistener %u%s%s\n", c->mesh_port, p->listen_addr != NULL ? " " : "",
		p->listen_addr != NULL ? p->listen_addr : "");
	sb_add(&b, "\nconnection cloud\n"
		"address %s:%u\n"
		"bridge_cafile %s/cloud-ca.pem\n"
		"bridge_tls_version tlsv1.2\n"
		"bridge_insecure false\n"
		"remote_username %s\n"
		"remote_password %s\n"
		"remote_clientid dmqtt-men-%s\n"
		"cleansession false\n"
		"try_private true\n"
		"notifications true\n"
		"notification_topic status/men/%s\n"
		"restart_timeout 2 30\n",
		c->cloud_host, c->cloud_port, p->dir, c->cloud_username, c->cloud_password,
		p->serial, p->serial);
	for (size_t i = 0; i < c->nbridge_topics; i++)
		sb_add(&b, "topic %s\n", c->bridge_topics[i]);
	return sb_done(&b);
}

char *mosq_acl_text(const mosq_params_t *p)
{
	struct sb b = { NULL, 0, 0, false };
	sb_add(&b, "# Written by dmqtt broker: the mesh nodes' rights.\n"
		"user %s\n"
		"topic read req/#\n"
		"topic write rsp/#\n"
		"topic write data/#\n"
		"topic write status/#\n", p->mesh_user);
	return sb_done(&b);
}

/* Write path if its content or mode differs; counts replacements. */
static int put(const mosq_params_t *p, const char *name, const char *data, size_t len,
	mode_t mode, int *changed, char *err, size_t errcap)
{
	char path[4096];
	int r;
	fmt_snprintf(path, sizeof path, "%s/%s", p->dir, name);
	if (file_same(path, data, len, mode))
		return 0;
	r = file_write_atomic(path, data, len, mode, p->uid, p->gid);
	if (r != 0) {
		fmt_snprintf(err, errcap, "cannot write %s: %s", path, strerror(-r));
		return r;
	}
	(*changed)++;
	return 0;
}

int mosq_write_all(const mosq_params_t *p, int *changed, char *err, size_t errcap)
{
	char path[4096], line[512], *conf = NULL, *acl = NULL, *old = NULL;
	size_t oldlen = 0, n;
	uint8_t salt[12];
	int r;

	*changed = 0;
	/* the persistence folder must exist and belong to mosquitto's user */
	fmt_snprintf(path, sizeof path, "%s/data", p->dir);
	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		r = -errno;
		fmt_snprintf(err, errcap, "cannot create %s: %s", path, strerror(errno));
		return r;
	}
	if (p->uid != (uid_t)-1 && chown(path, p->uid, p->gid) != 0) {
		r = -errno;
		fmt_snprintf(err, errcap, "cannot chown %s: %s", path, strerror(errno));
		return r;
	}
	conf = mosq_conf_text(p);
	acl = mosq_acl_text(p);
	if (conf == NULL || acl == NULL) {
		free(conf);
		free(acl);
		fmt_snprintf(err, errcap, "out of memory");
		return -ENOMEM;
	}
	/* order: everything mosquitto.conf refers to first, the conf last */
	r = put(p, "cloud-ca.pem", p->cfg->cloud_ca_pem, p->cfg->cloud_ca_pem_len, 0600, changed, err, errcap);
	if (r == 0)
		r = put(p, "acl", acl, strlen(acl), 0600, changed, err, errcap);
	if (r == 0) {
		/* the password file keeps its salt while it still verifies */
		fmt_snprintf(path, sizeof path, "%s/passwd", p->dir);
		if (file_read(path, 4096, &old, &oldlen) != 0 ||
		    !mosq_pw_verify(old, oldlen, p->mesh_user, p->mesh_pass) ||
		    !file_same(path, old, oldlen, 0600)) {
			if (random_bytes(salt, sizeof salt) != 0 ||
			    (n = mosq_pw_line(p->mesh_user, p->mesh_pass, salt, MOSQ_PW_ITERATIONS,
				    line, sizeof line)) == 0) {
				fmt_snprintf(err, errcap, "cannot compute the password hash");
				r = -EIO;
			} else {
				r = file_write_atomic(path, line, n, 0600, p->uid, p->gid);
				if (r != 0)
					fmt_snprintf(err, errcap, "cannot write %s: %s", path, strerror(-r));
				else
					(*changed)++;
			}
			memset(line, 0, sizeof line);
		}
		if (old != NULL) {
			memset(old, 0, oldlen);
			free(old);
		}
	}
	if (r == 0)
		r = put(p, "mosquitto.conf", conf, strlen(conf), 0600, changed, err, errcap);
	memset(conf, 0, strlen(conf)); /* holds the cloud password */
	free(conf);
	free(acl);
	return r;
}
