/*
 * node.h -- `dmqtt node`, the agent every hub runs (DESIGN.md): finds the
 * mesh broker by DNS SRV, logs in with the credentials derived from the
 * mesh UUID, answers req/all and req/<serial>, publishes telemetry and a
 * retained online/offline status.  `--fleet N` runs N such nodes in one
 * process and one poll loop, for load tests.
 */
#ifndef DMQTT_NODE_H
#define DMQTT_NODE_H

#include <stddef.h>
#include <stdint.h>

#define NODE_MAX_CMDS 32
#define NODE_MAX_ARGS 16
#define NODE_MAX_IFACES 32

/* What the node takes from user-config.json (see docs/config.md). */
typedef struct {
	uint32_t telemetry_interval_s;           /* default 10 */
	const char *ifaces[NODE_MAX_IFACES];     /* empty: every interface but lo */
	size_t nifaces;
	struct {
		const char *name;
		char *const *argv;                   /* NULL-terminated, absolute argv[0] */
	} cmds[NODE_MAX_CMDS];
	size_t ncmds;
	const uint8_t *salt;                     /* mesh_secret_salt, may be NULL */
	size_t salt_len;
	uint16_t mesh_port;                      /* broker port when --broker has none */
} node_settings_t;

int cmd_node(int argc, char **argv);

#endif
