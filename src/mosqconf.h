/*
 * mosqconf.h -- the files `dmqtt broker` writes for mosquitto: the
 * password file ($7$ PBKDF2-SHA512 lines), the cloud CA, the ACL and
 * mosquitto.conf with the listener and the bridge (DESIGN.md "Mesh broker
 * bridge").  Text is built in memory first; files are then replaced
 * atomically, and only when their content changes.
 */
#ifndef DMQTT_MOSQCONF_H
#define DMQTT_MOSQCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "src/config.h"

#define MOSQ_PW_ITERATIONS 101   /* as mosquitto_passwd */

typedef struct {
	const char *dir;            /* where the files go */
	const char *serial;         /* the MEN's serial */
	const char *mesh_user, *mesh_pass;
	const char *listen_addr;    /* NULL: every address */
	const char *run_as;         /* user mosquitto runs as, NULL: the current one */
	uid_t uid;                  /* owner of the files (-1: unchanged) */
	gid_t gid;
	const dmqtt_config_t *cfg;
} mosq_params_t;

/* One password-file line "user:$7$101$salt$hash\n" with a fresh salt
 * (12 random bytes).  Returns the length or 0 on error. */
size_t mosq_pw_line(const char *user, const char *pass, const uint8_t salt[12],
	uint32_t iterations, char *out, size_t cap);
/* 1 when line (user:$7$...) is user's and verifies pass. */
int mosq_pw_verify(const char *line, size_t len, const char *user, const char *pass);

/* mosquitto.conf text into a malloc'd string (caller frees), or NULL. */
char *mosq_conf_text(const mosq_params_t *p);
char *mosq_acl_text(const mosq_params_t *p);

/*
 * Write every file (password file only when it no longer verifies, others
 * only when changed).  Returns 0, or -errno with the failing path in err;
 * on failure nothing already in place is half-written (atomic renames).
 * *changed counts the files replaced.
 */
int mosq_write_all(const mosq_params_t *p, int *changed, char *err, size_t errcap);

#endif
