/* node_config.c -- see node_config.h */
#include "src/node_config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "platform/log.h"
#include "src/cli.h"

void node_config_free(node_config_t *nc)
{
	config_free(&nc->cfg);
}

int node_config_load(const char *path, node_config_t *nc, node_settings_t *set, bool announce)
{
	const char *file = config_path(path);
	config_diag_t d;
	config_status_t st;
	const dmqtt_config_t *c = &nc->cfg;

	memset(set, 0, sizeof *set);
	config_diag_init(&d);
	st = config_load(file, &nc->cfg, &d);
	if (st == CONFIG_ERR_IO && d.sys_errno == ENOENT) {
		/* the node needs no key: no file, defaults */
		if (announce)
			log_info("node", "no configuration at %s: running on defaults", file);
		config_diag_free(&d);
		config_free(&nc->cfg);
		config_init(&nc->cfg);
	} else {
		if (st == CONFIG_OK)
			st = config_check(&nc->cfg, CONFIG_ROLE_NODE, &d);
		for (size_t i = 0; i < d.n; i++)
			log_msg(d.msgs[i].sev == CONFIG_SEV_ERROR ? LOG_ERROR : LOG_WARN, "config",
				"%s", d.msgs[i].text);
		config_diag_free(&d);
		if (st == CONFIG_ERR_NOMEM) {
			/* the messages may have gone with the memory: say it here,
			 * and not as a configuration error (a restart may succeed) */
			config_free(&nc->cfg);
			log_error("node", "cannot load %s: %s", file, config_strerror(st));
			return EXIT_UNAVAILABLE;
		}
		if (st != CONFIG_OK) {
			config_free(&nc->cfg);
			/* for a role, a file that is not JSON is a configuration
			 * error like any other (78); `config check` says 65 */
			return st == CONFIG_ERR_IO ? EXIT_NOINPUT : EXIT_CONFIG;
		}
	}
	if (c->state[CONFIG_KEY_LOG_LEVEL] == CONFIG_SET && getenv("DMQTT_LOG_LEVEL") == NULL)
		log_set_level((enum log_level)c->log_level);
	set->telemetry_interval_s = c->telemetry_interval_s;
	set->mesh_port = c->mesh_port;
	if (!c->telemetry_all)
		for (size_t i = 0; i < c->ntelemetry_interfaces && set->nifaces < NODE_MAX_IFACES; i++)
			set->ifaces[set->nifaces++] = c->telemetry_interfaces[i];
	for (size_t i = 0; i < c->ncommands && set->ncmds < NODE_MAX_CMDS; i++) {
		set->cmds[set->ncmds].name = c->commands[i].name;
		set->cmds[set->ncmds].argv = c->commands[i].argv;
		set->ncmds++;
	}
	if (c->mesh_secret_salt != NULL) {
		set->salt = (const uint8_t *)c->mesh_secret_salt;
		set->salt_len = strlen(c->mesh_secret_salt);
	}
	return 0;
}
