/*
 * config.h -- user-config.json: load it, validate every key, check what a
 * role needs, print the effective settings with secrets masked.
 *
 * The keys, their types, defaults and rules are in docs/config.md (the
 * template's keys are in DESIGN.md "Configuration: user-config.json").
 *
 * Flow:
 *
 *     dmqtt_config_t cfg;
 *     config_diag_t d;
 *     config_diag_init(&d);
 *     st = config_load(config_path(flag), &cfg, &d);   // or config_parse()
 *     if (st != CONFIG_ERR_IO && st != CONFIG_ERR_SYNTAX && st != CONFIG_ERR_NOMEM)
 *             config_check(&cfg, CONFIG_ROLE_BROKER, &d);
 *     config_diag_print(&d, stderr);
 *     if (d.nerrors == 0) ... use cfg ...
 *     config_free(&cfg);
 *     config_diag_free(&d);
 *
 * Every problem is collected in the diag (up to CONFIG_MAX_MSGS of them,
 * the rest only counted), one line each: "FILE:LINE:COL: KEY: problem" for
 * errors, "FILE:LINE:COL: warning: KEY: problem" for warnings,
 * "FILE: KEY: problem" where there is no position (a missing key).
 *
 * Ownership: the config owns every pointer in it (heap) and config_free
 * releases them, wiping the secrets first.  Nothing here logs; nothing
 * here prints a secret except config_print(..., show_secrets = true).
 */
#ifndef DMQTT_CONFIG_H
#define DMQTT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Where the VeeaHub mounts the file; DMQTT_CONFIG and --config override it. */
#define CONFIG_DEFAULT_PATH "/usr/local/config/defaults/user-config.json"

/* Larger files are refused unread (CONFIG_ERR_IO, sys_errno EFBIG). */
#define CONFIG_MAX_SIZE ((size_t)1 << 20)

/* Diagnostics kept per diag; more are only counted (config_diag_t.dropped). */
#define CONFIG_MAX_MSGS 200

/* Defaults of the keys that have one. */
#define CONFIG_DEFAULT_CLOUD_PORT 8883
#define CONFIG_DEFAULT_MESH_PORT 1883
#define CONFIG_DEFAULT_TELEMETRY_S 10
#define CONFIG_MAX_TELEMETRY_S 86400

/* Longest allowed_commands name (bytes). */
#define CONFIG_MAX_COMMAND_NAME 64

/* Most telemetry_interfaces entries (a hub has a handful; the duplicate
 * check is quadratic). */
#define CONFIG_MAX_INTERFACES 256

typedef enum config_status {
	CONFIG_OK = 0,
	CONFIG_ERR_IO,      /* cannot open or read, or larger than CONFIG_MAX_SIZE */
	CONFIG_ERR_SYNTAX,  /* not JSON (the message has FILE:LINE:COL) */
	CONFIG_ERR_INVALID, /* JSON, but not a valid configuration */
	CONFIG_ERR_NOMEM    /* out of memory */
} config_status_t;

/* Static English text for a status (never NULL). */
const char *config_strerror(config_status_t st);

typedef enum config_role {
	CONFIG_ROLE_NODE = 0,  /* needs no key: runs on defaults */
	CONFIG_ROLE_BROKER,    /* needs the cloud broker's host, login and CA */
	CONFIG_ROLE_CLOUD      /* needs no key (flags and DMQTT_CLOUD_* instead) */
} config_role_t;

/* "node", "broker", "cloud". */
const char *config_role_name(config_role_t role);
/* The role named s; -1 if none. */
int config_parse_role(const char *s);

/* Every key we know, in the order config_print shows them. */
typedef enum config_key {
	CONFIG_KEY_CLOUD_HOST = 0,      /* mqtt_cloud_broker_hostname */
	CONFIG_KEY_CLOUD_PORT,          /* mqtt_cloud_broker_port */
	CONFIG_KEY_CLOUD_USERNAME,      /* mqtt_cloud_broker_username */
	CONFIG_KEY_CLOUD_PASSWORD,      /* mqtt_cloud_broker_password (secret) */
	CONFIG_KEY_CLOUD_CA,            /* mqtt_cloud_broker_ca_cert_b64 */
	CONFIG_KEY_MESH_PORT,           /* mqtt_mesh_broker_port */
	CONFIG_KEY_MESH_SECRET_SALT,    /* mesh_secret_salt (secret) */
	CONFIG_KEY_TELEMETRY_INTERVAL,  /* telemetry_interval_s */
	CONFIG_KEY_TELEMETRY_INTERFACES,/* telemetry_interfaces */
	CONFIG_KEY_ALLOWED_COMMANDS,    /* allowed_commands */
	CONFIG_KEY_BRIDGE_TOPICS,       /* bridge_topics */
	CONFIG_KEY_LOG_LEVEL,           /* log_level */
	CONFIG_KEY_MESH_BROKER_IP,      /* mesh_broker_ip */
	CONFIG_NKEYS
} config_key_t;

/* The key's JSON name ("mqtt_cloud_broker_port"); NULL if out of range. */
const char *config_key_name(config_key_t key);

/* What the file said about one key (dmqtt_config_t.state[key]). */
typedef enum config_key_state {
	CONFIG_ABSENT = 0, /* not in the file: the default applies */
	CONFIG_EMPTY,      /* "" (a blank template field): treated as absent */
	CONFIG_INVALID,    /* present with a bad value (an error was reported) */
	CONFIG_SET         /* present and valid: the field holds it */
} config_key_state_t;

/* The built-in command names of the node (DESIGN.md), NULL-terminated.
 * allowed_commands may not reuse them. */
extern const char *const config_builtin_commands[];

/* The bridge's topic lines when bridge_topics is absent (least privilege,
 * DESIGN.md "Mesh broker bridge"), NULL-terminated. */
extern const char *const config_default_bridge_topics[];

/* One allowed_commands entry: run argv (argv[0] an absolute path) without
 * a shell when a request's cmd equals name. */
typedef struct config_command {
	char *name;
	char **argv;       /* argc strings then NULL, ready for execv */
	size_t argc;       /* >= 1 */
} config_command_t;

/* One certificate of the cloud CA. */
typedef struct config_cert {
	uint8_t sha256[32]; /* of the DER, as `openssl x509 -fingerprint -sha256` */
	bool is_ca;         /* basicConstraints CA:TRUE */
} config_cert_t;

typedef struct dmqtt_config {
	char *source;                  /* the name used in messages */
	uint8_t state[CONFIG_NKEYS];   /* config_key_state_t per key */

	/* the template's keys (NULL: not set) */
	char *cloud_host;              /* DNS name or IP literal */
	uint16_t cloud_port;           /* default 8883 */
	char *cloud_username;
	char *cloud_password;          /* SECRET */
	char *cloud_ca_pem;            /* the decoded PEM text, NUL-terminated */
	size_t cloud_ca_pem_len;       /* bytes, without the NUL */
	config_cert_t *cloud_ca_certs; /* one per CERTIFICATE block, in order */
	size_t cloud_ca_ncerts;        /* >= 1 when cloud_ca_pem is set */
	uint16_t mesh_port;            /* default 1883 */

	/* ours */
	char *mesh_secret_salt;        /* SECRET; NULL: no salt */
	uint32_t telemetry_interval_s; /* 1..86400, default 10 */
	bool telemetry_all;            /* key absent: every interface but lo */
	char **telemetry_interfaces;   /* else these (possibly none) */
	size_t ntelemetry_interfaces;
	config_command_t *commands;    /* allowed_commands, in file order */
	size_t ncommands;
	const char *const *bridge_topics; /* normalised "PATTERN DIR QOS[ LP RP]";
	                                     config_default_bridge_topics if unset */
	size_t nbridge_topics;
	int log_level;                 /* enum log_level (platform/log.h), default info */
	char *mesh_broker_ip;          /* NULL: ask GetMeshIPAddress */

	char **own_topics_;            /* internal: bridge_topics when from the file */
} dmqtt_config_t;

typedef enum config_sev { CONFIG_SEV_ERROR = 0, CONFIG_SEV_WARNING } config_sev_t;

typedef struct config_msg {
	config_sev_t sev;
	config_status_t kind; /* errors: CONFIG_ERR_IO, _SYNTAX or _INVALID */
	size_t line, col;     /* 1-based; 0 when the message has no position */
	char *key;            /* "mqtt_mesh_broker_port", "allowed_commands.x",
	                         "bridge_topics[2]"; "" when about no key */
	char *text;           /* the whole line, without a newline */
} config_msg_t;

typedef struct config_diag {
	config_msg_t *msgs;
	size_t n, cap;
	size_t nerrors, nwarnings; /* all of them, dropped ones included */
	size_t dropped;            /* messages past CONFIG_MAX_MSGS, not kept */
	int sys_errno;             /* after CONFIG_ERR_IO: ENOENT, EFBIG, ... */
	bool nomem;                /* a message could not be stored */
} config_diag_t;

void config_diag_init(config_diag_t *d);
void config_diag_free(config_diag_t *d);
/* Each message on its own line, then "... and N more" if some were dropped. */
void config_diag_print(const config_diag_t *d, FILE *f);

/* Defaults for every key; allocates nothing (config_free is still fine). */
void config_init(dmqtt_config_t *cfg);

/*
 * Parse and validate buf[0..len) (need not be NUL-terminated; len up to
 * CONFIG_MAX_SIZE) as user-config.json.  name (NULL: "user-config.json")
 * starts every message.  out is initialised here (no config_init needed)
 * and must be config_free'd whatever the result.
 *   CONFIG_OK          out holds the file's values over the defaults;
 *                      warnings (unknown keys, ...) may be in diag.
 *   CONFIG_ERR_SYNTAX  one message "NAME:LINE:COL: ..."; out = defaults.
 *   CONFIG_ERR_INVALID every problem is in diag; out holds the valid keys
 *                      and out->state says which keys were bad, so
 *                      config_check can still add the role's problems.
 *   CONFIG_ERR_IO      len > CONFIG_MAX_SIZE; out = defaults.
 *   CONFIG_ERR_NOMEM   out = defaults.
 * Pure apart from malloc: no I/O, no global state.
 */
config_status_t config_parse(const char *buf, size_t len, const char *name,
	dmqtt_config_t *out, config_diag_t *diag);

/*
 * Read path (with platform/file.h's file_read, at most CONFIG_MAX_SIZE
 * bytes) and config_parse it under the name path.  CONFIG_ERR_IO: one
 * message "PATH: ...", diag->sys_errno set (ENOENT when the file does not
 * exist: the node then runs on defaults), out = defaults.  The file's
 * bytes are wiped before they are freed (they hold the password).
 */
config_status_t config_load(const char *path, dmqtt_config_t *out,
	config_diag_t *diag);

/* The file to read: flag (--config) if non-empty, else $DMQTT_CONFIG if
 * non-empty, else CONFIG_DEFAULT_PATH. */
const char *config_path(const char *flag);

/*
 * Add the problems that make cfg unusable for role: a key the role needs
 * that is absent or empty (each reported on its own, all in one run).  A
 * key already reported as invalid is not reported again.  Returns
 * CONFIG_ERR_INVALID if diag holds any error (from the parse too),
 * CONFIG_ERR_NOMEM if a message could not be stored, else CONFIG_OK.
 */
config_status_t config_check(const dmqtt_config_t *cfg, config_role_t role,
	config_diag_t *diag);

/*
 * The effective settings, one "key = value" line each, "(default)" where
 * the file did not set one.  The password and the salt print as
 * "********" unless show_secrets.
 */
void config_print(const dmqtt_config_t *cfg, FILE *f, bool show_secrets);

/* Release everything cfg owns (wiping the secrets) and reset it to the
 * defaults.  Safe on a config_init'ed or already freed config. */
void config_free(dmqtt_config_t *cfg);

#endif
