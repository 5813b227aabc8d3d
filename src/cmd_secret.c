/* cmd_secret.c -- `dmqtt secret`: the mesh MQTT credentials derived from
 * the mesh UUID (proto/kdf.h has the derivation). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/kdf.h"
#include "src/cli.h"
#include "src/commands.h"
#include "src/node_config.h"
#include "src/veeahub.h"
#include "platform/fmt.h"

enum { O_UUID = 1, O_CONFIG, O_SHOW, O_HELP };

struct secretcmd {
	const char *uuid, *config;
	bool show;
};

static const struct cli_opt secret_opts[] = {
	{ "mesh-uuid", 0, CLI_ARG, O_UUID }, { "config", 0, CLI_ARG, O_CONFIG },
	{ "show-secrets", 0, CLI_NOARG, O_SHOW }, { "help", 0, CLI_NOARG, O_HELP },
};

static int on_opt(void *ctx, int id, const char *arg)
{
	struct secretcmd *s = ctx;
	switch (id) {
	case O_UUID: s->uuid = arg; return 0;
	case O_CONFIG: s->config = arg; return 0;
	case O_SHOW: s->show = true; return 0;
	case O_HELP:
		fmt_printf("usage: dmqtt secret [--mesh-uuid UUID] [--config FILE] [--show-secrets]\n"
			"  prints the mesh MQTT user name derived from the mesh UUID (from D-Bus,\n"
			"  --mesh-uuid or DMQTT_MESH_UUID) and mesh_secret_salt; the password only\n"
			"  with --show-secrets.\n");
		return -1;
	}
	return 0;
}

int cmd_secret(int argc, char **argv)
{
	struct secretcmd s = { NULL, NULL, false };
	char uuid[KDF_UUID_MAX + 1], user[KDF_USER_LEN + 1], pass[KDF_PASS_LEN + 1], err[300];
	char *pos[1];
	node_config_t nc;
	node_settings_t set;
	bus_t *bus = NULL;
	kdf_status_t ks;
	int npos, r = cli_parse(argc, argv, secret_opts, sizeof secret_opts / sizeof secret_opts[0],
		on_opt, &s, pos, 0, &npos);
	if (r != 0)
		return r < 0 ? EXIT_OK : r;
	if ((r = node_config_load(s.config, &nc, &set, false)) != 0)
		return r;
	if (s.uuid != NULL) {
		fmt_snprintf(uuid, sizeof uuid, "%s", s.uuid);
	} else if (vh_mesh_uuid(&bus, uuid, sizeof uuid, 3000, err, sizeof err) != 0) {
		fmt_fprintf(stderr, "dmqtt secret: no mesh UUID: %s\n", err);
		bus_close(bus);
		node_config_free(&nc);
		return EXIT_UNAVAILABLE;
	}
	bus_close(bus);
	ks = kdf_mesh_credentials(uuid, strlen(uuid), set.salt, set.salt_len, user, sizeof user,
		pass, sizeof pass);
	memset(uuid, 0, sizeof uuid);
	node_config_free(&nc);
	if (ks != KDF_OK) {
		fmt_fprintf(stderr, "dmqtt secret: %s\n", kdf_strerror(ks));
		return EXIT_DATAERR;
	}
	fmt_printf("username: %s\n", user);
	if (s.show)
		fmt_printf("password: %s\n", pass);
	else
		fmt_printf("password: (hidden; --show-secrets shows it)\n");
	memset(pass, 0, sizeof pass);
	return EXIT_OK;
}
