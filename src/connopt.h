/*
 * connopt.h -- the connection options every MQTT subcommand shares (pub,
 * sub, cloud): the flags mosquitto_pub/sub users know, the environment
 * variables, and the mapping of connection failures to exit codes.
 */
#ifndef DMQTT_CONNOPT_H
#define DMQTT_CONNOPT_H

#include <stdbool.h>
#include <stdint.h>

#include "src/cli.h"
#include "src/mqttc.h"

/* Option ids 1000.. belong to connopt; commands use ids below 1000. */
enum { CONNOPT_FIRST_ID = 1000 };

typedef struct {
	const char *host;          /* -h, default localhost */
	uint16_t port;             /* -p, default 1883 (8883 with --cafile) */
	bool port_set;
	const char *client_id;     /* -i, default "dmqtt-<cmd>-<pid>" */
	char id_buf[48];
	long keepalive;            /* -k seconds, default 60 */
	const char *username, *password;   /* -u -P */
	bool persistent;           /* -c: clean session off */
	const char *will_topic, *will_payload;
	long will_qos;
	bool will_retain;
	const char *cafile, *cert, *key, *tls_server_name;
	long connect_timeout_ms;   /* --connect-timeout MS */
	struct tlsconf *tls;       /* TLS state when cafile is set */
} connopt_t;

/* Defaults plus the environment (DMQTT_BROKER=host:port). */
void connopt_init(connopt_t *o, const char *cmd);

/* The shared option table, for cli_parse(). */
extern const struct cli_opt connopt_table[];
extern const size_t connopt_count;

/* Handle one shared option (id >= CONNOPT_FIRST_ID); 0 or an exit code. */
int connopt_apply(connopt_t *o, const char *cmd, int id, const char *arg);

/* Check the combination and fill the client config and hooks (resolve and,
 * with --cafile, TLS); the caller then sets its own callbacks and user.
 * 0 or an exit code (the message already printed). */
int connopt_finish(connopt_t *o, const char *cmd, mqttc_config_t *cfg, mqttc_hooks_t *hooks);

/* The exit code for a failed first connection. */
int connopt_exit_code(mqttc_reason_t why);
/* The same, knowing the TLS failure's kind (76 protocol, 77 certificate). */
int connopt_failure_code(const connopt_t *o, mqttc_reason_t why);
/* Release what connopt_finish set up (the TLS state). */
void connopt_free(connopt_t *o);

/* Usage text of the shared options. */
extern const char connopt_usage[];

#endif

/*
 * One round of the single-client loop the tools share: poll the client,
 * an optional extra fd (stdin; -1 for none) and the signal pipe (-1 for
 * none) for at most cap_ms (-1: no cap), then process the client.
 * *extra_revents and *sig (0 when none) report what happened.
 */
void connopt_poll_once(mqttc_t *c, int extra_fd, short extra_events, int sigfd,
	int cap_ms, short *extra_revents, int *sig);
