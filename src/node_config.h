/*
 * node_config.h -- user-config.json as the node role reads it: a missing
 * file means defaults; an invalid one is a configuration error (exit 78).
 */
#ifndef DMQTT_NODE_CONFIG_H
#define DMQTT_NODE_CONFIG_H

#include <stdbool.h>

#include "src/config.h"
#include "src/node.h"

typedef struct {
	dmqtt_config_t cfg;   /* owns every string set points to */
} node_config_t;

/* Load path (NULL: $DMQTT_CONFIG, then the default path) into set, and
 * apply its log_level.  A missing file is logged when announce is set.
 * Returns 0, or an exit code after printing why. */
int node_config_load(const char *path, node_config_t *nc, node_settings_t *set, bool announce);
void node_config_free(node_config_t *nc);

#endif
