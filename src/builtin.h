/*
 * builtin.h -- the node's built-in commands, answered from /proc and /sys
 * (never through a shell), and the interface readers telemetry uses.
 *
 * Roots are overridable for tests: DMQTT_PROC_ROOT (default /proc) and
 * DMQTT_SYS_NET (default /sys/class/net).
 */
#ifndef DMQTT_BUILTIN_H
#define DMQTT_BUILTIN_H

#include <stddef.h>

typedef struct {
	const char *serial;
	const char *node_type;   /* "MEN", "MN" or "unknown" */
	const char *proc;        /* /proc */
	const char *sys_net;     /* /sys/class/net */
} builtin_env_t;

#define IFACE_NAME_MAX 16

/* Fill proc/sys_net from the environment (or the defaults). */
void builtin_env_init(builtin_env_t *e, const char *serial, const char *node_type);

/* The built-in command names, for help and for the config's allow-list
 * (an allowed command may not shadow one). */
extern const char *const builtin_names[];
extern const size_t builtin_count;
int builtin_exists(const char *name);

/* Run a built-in: its output in out (at most cap-1 bytes, NUL-terminated)
 * and its rc (0, or 1 when the source could not be read).  -1 when cmd is
 * not a built-in. */
int builtin_run(const builtin_env_t *e, const char *cmd, char *out, size_t cap);

/* Interface names in sys_net except "lo", sorted; returns the count. */
size_t iface_list(const char *sys_net, char names[][IFACE_NAME_MAX], size_t max);
/* 1 when operstate is "up", 0 for anything else, -1 when unreadable. */
int iface_up(const char *sys_net, const char *name);

#endif
