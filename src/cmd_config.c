/* cmd_config.c -- `dmqtt config check [FILE]`: validate user-config.json
 * the way the roles will read it (docs/config.md). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "src/cli.h"
#include "src/commands.h"
#include "src/config.h"
#include "platform/fmt.h"

/* sysexits EX_OSERR: out of memory, which no other code describes */
#define EXIT_OSERR 71

enum { O_CONFIG = 1, O_ROLE, O_VERBOSE, O_SECRETS, O_HELP };

static const struct cli_opt config_opts[] = {
	{ "config", 'c', CLI_ARG, O_CONFIG }, { "role", 0, CLI_ARG, O_ROLE },
	{ "verbose", 'v', CLI_NOARG, O_VERBOSE }, { "show-secrets", 0, CLI_NOARG, O_SECRETS },
	{ "help", 'h', CLI_NOARG, O_HELP },
};

static const char config_usage[] =
	"usage: dmqtt config check [FILE] [--config FILE] [--role node|broker|cloud]\n"
	"                          [-v] [--show-secrets]\n"
	"  Validates user-config.json: prints \"ok\", or every problem on its own\n"
	"  line (FILE:LINE:COL: KEY: problem).  FILE (or --config) beats\n"
	"  $DMQTT_CONFIG, which beats " CONFIG_DEFAULT_PATH ".\n"
	"  --role     the role whose needs are checked (default broker, the\n"
	"             strictest: it needs the cloud broker's host, login and CA)\n"
	"  -v         also print the effective settings, secrets masked\n"
	"  --show-secrets  print the password and the salt too (implies -v)\n"
	"  Exit 0 valid, 65 not JSON, 66 unreadable or over 1 MiB, 78 invalid.\n";

struct cfgcmd {
	const char *file;
	int role;
	bool verbose, secrets;
};

static int on_opt(void *ctx, int id, const char *arg)
{
	struct cfgcmd *c = ctx;
	char safe[96];

	switch (id) {
	case O_CONFIG:
		if (arg[0] == '\0')
			return cli_usage_error("config", "--config needs a file name");
		c->file = arg;
		return 0;
	case O_ROLE:
		c->role = config_parse_role(arg);
		if (c->role < 0)
			return cli_usage_error("config", "unknown role '%s' (node, broker or cloud)",
				cli_safe(arg, safe, sizeof safe));
		return 0;
	case O_VERBOSE:
		c->verbose = true;
		return 0;
	case O_SECRETS:
		c->secrets = c->verbose = true;
		return 0;
	case O_HELP:
		fputs(config_usage, stdout);
		return -1;
	}
	return 0;
}

static int check(const struct cfgcmd *c)
{
	const char *path = config_path(c->file);
	dmqtt_config_t cfg;
	config_diag_t d;
	config_status_t st;
	int rc;

	config_diag_init(&d);
	st = config_load(path, &cfg, &d);
	if (st == CONFIG_OK || st == CONFIG_ERR_INVALID)
		st = config_check(&cfg, (config_role_t)c->role, &d);
	config_diag_print(&d, stderr);
	switch (st) {
	case CONFIG_OK:
		if (c->verbose) {
			fmt_printf("file = %s\nrole = %s\n", path, config_role_name((config_role_t)c->role));
			config_print(&cfg, stdout, c->secrets);
		}
		fmt_printf("ok\n");
		rc = EXIT_OK;
		break;
	case CONFIG_ERR_IO: rc = EXIT_NOINPUT; break;
	case CONFIG_ERR_SYNTAX: rc = EXIT_DATAERR; break;
	case CONFIG_ERR_INVALID: rc = EXIT_CONFIG; break;
	default:
		fmt_fprintf(stderr, "dmqtt config: %s\n", config_strerror(st));
		rc = EXIT_OSERR;
		break;
	}
	config_free(&cfg);
	config_diag_free(&d);
	return rc;
}

int cmd_config(int argc, char **argv)
{
	struct cfgcmd c = { NULL, CONFIG_ROLE_BROKER, false, false };
	char *pos[2], safe[96];
	int npos, rv;

	rv = cli_parse(argc, argv, config_opts, sizeof config_opts / sizeof config_opts[0],
		on_opt, &c, pos, 2, &npos);
	if (rv != 0)
		return rv < 0 ? EXIT_OK : rv;
	if (npos == 0)
		return cli_usage_error("config", "missing subcommand (check)");
	if (strcmp(pos[0], "check") != 0)
		return cli_usage_error("config", "unknown subcommand '%s' (check)",
			cli_safe(pos[0], safe, sizeof safe));
	if (npos == 2) {
		if (c.file != NULL)
			return cli_usage_error("config", "give the file either as FILE or with "
				"--config, not both");
		c.file = pos[1];
	}
	return check(&c);
}
