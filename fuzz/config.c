/* Fuzz the whole user-config.json loader from memory: config_parse, then
 * config_check for every role and config_print, checking that the status,
 * the diagnostics and the config agree with each other. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;

static void check_diag(const config_diag_t *d)
{
	size_t e = 0, w = 0;
	if (d->n > CONFIG_MAX_MSGS || d->n + d->dropped != d->nerrors + d->nwarnings)
		abort();
	for (size_t i = 0; i < d->n; i++) {
		const config_msg_t *m = &d->msgs[i];
		if (m->text == NULL || m->key == NULL || strchr(m->text, '\n') != NULL)
			abort();
		if (m->sev == CONFIG_SEV_ERROR)
			e++;
		else
			w++;
	}
	if (e > d->nerrors || w > d->nwarnings)
		abort();
}

static void check_cfg(const dmqtt_config_t *c)
{
	if (c->cloud_port == 0 || c->mesh_port == 0 || c->telemetry_interval_s == 0 ||
	    c->telemetry_interval_s > CONFIG_MAX_TELEMETRY_S || c->nbridge_topics == 0 ||
	    c->bridge_topics == NULL)
		abort();
	if ((c->state[CONFIG_KEY_CLOUD_HOST] == CONFIG_SET) != (c->cloud_host != NULL) ||
	    (c->state[CONFIG_KEY_CLOUD_PASSWORD] == CONFIG_SET) != (c->cloud_password != NULL) ||
	    (c->state[CONFIG_KEY_CLOUD_CA] == CONFIG_SET) != (c->cloud_ca_pem != NULL))
		abort();
	if (c->cloud_ca_pem != NULL && (c->cloud_ca_ncerts == 0 ||
	    strlen(c->cloud_ca_pem) > c->cloud_ca_pem_len))
		abort();
	for (size_t i = 0; i < c->nbridge_topics; i++)
		for (const char *p = c->bridge_topics[i]; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				abort(); /* would break mosquitto.conf */
	for (size_t i = 0; i < c->ncommands; i++) {
		const config_command_t *cmd = &c->commands[i];
		if (cmd->argc == 0 || cmd->argv[0][0] != '/' || cmd->argv[cmd->argc] != NULL)
			abort();
		for (size_t b = 0; config_builtin_commands[b] != NULL; b++)
			if (strcmp(cmd->name, config_builtin_commands[b]) == 0)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dmqtt_config_t cfg;
	config_diag_t d;
	config_status_t st;

	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	config_diag_init(&d);
	st = config_parse((const char *)data, size, "fuzz.json", &cfg, &d);
	check_diag(&d);
	check_cfg(&cfg);
	switch (st) {
	case CONFIG_OK:
		if (d.nerrors != 0)
			abort();
		break;
	case CONFIG_ERR_SYNTAX:
		if (d.nerrors != 1 || d.n != 1 || d.msgs[0].kind != CONFIG_ERR_SYNTAX ||
		    d.msgs[0].line == 0 || d.msgs[0].col == 0)
			abort();
		break;
	case CONFIG_ERR_INVALID:
		if (d.nerrors == 0)
			abort();
		break;
	default:
		abort(); /* no I/O here, and input is small */
	}
	if (st != CONFIG_ERR_SYNTAX) {
		for (int role = CONFIG_ROLE_NODE; role <= CONFIG_ROLE_CLOUD; role++) {
			config_diag_t rd;
			config_status_t rs;
			config_diag_init(&rd);
			rs = config_check(&cfg, (config_role_t)role, &rd);
			check_diag(&rd);
			if ((rs == CONFIG_OK) != (rd.nerrors == 0))
				abort();
			if (role != CONFIG_ROLE_BROKER && rd.nerrors != 0)
				abort();
			config_diag_free(&rd);
		}
	}
	config_print(&cfg, devnull, false);
	config_print(&cfg, devnull, true);
	config_free(&cfg);
	config_diag_free(&d);
	return 0;
}
