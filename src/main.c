/* main.c -- the subcommand dispatcher. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/log.h"
#include "src/cli.h"
#include "src/commands.h"
#include "src/node.h"
#include "platform/fmt.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *args;
	const char *summary;
};

static int cmd_help(int argc, char **argv);

/*
 * DMQTT_CLIENT_ONLY builds dmqtt-client: the MQTT and TLS client commands
 * alone (pub, sub, tls), the binary the TLS stage's 200 KiB budget is
 * about; the linker drops every other role.
 */
static const struct command commands[] = {
#ifndef DMQTT_CLIENT_ONLY
	{ "broker", cmd_broker, "", "the MEN's bridged mosquitto: config, DNS records, supervision" },
	{ "cloud", cmd_cloud, "SUBCOMMAND", "the cloud side: list, rcmd, stats, serve (web console); --help" },
	{ "config", cmd_config, "check [FILE]", "validate user-config.json" },
	{ "dbus", cmd_dbus, "call DEST PATH IFACE METHOD [SIG [ARGS]]", "call a D-Bus method, busctl-style output" },
#endif
	{ "help", cmd_help, "[COMMAND]", "show this list, or one command's usage" },
#ifndef DMQTT_CLIENT_ONLY
	{ "hub", cmd_hub, "info", "this hub's serial, node type, host name (VeeaHub D-Bus)" },
	{ "node", cmd_node, "", "the hub agent: answers requests, publishes telemetry" },
#endif
	{ "pub", cmd_pub, "-t TOPIC -m MSG", "publish (mosquitto_pub's flags; --help)" },
#ifndef DMQTT_CLIENT_ONLY
	{ "secret", cmd_secret, "", "the mesh MQTT credentials derived from the mesh UUID" },
	{ "srv", cmd_srv, "NAME", "look up SRV records with our resolver, in client order" },
#endif
	{ "sub", cmd_sub, "-t FILTER", "subscribe and print (mosquitto_sub's flags; --help)" },
	{ "tls", cmd_tls, "check HOST[:PORT] --cafile F", "TLS handshake and certificate check (--help)" },
	{ "version", cmd_version, "", "version, target triple, BearSSL version, build id" },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const struct command *find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void usage(FILE *f)
{
	fmt_fprintf(f, "usage: dmqtt COMMAND [OPTIONS] [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fmt_fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fmt_fprintf(f, "\n'dmqtt help COMMAND' or 'dmqtt COMMAND --help' for a command's usage.\n"
		"\nExit codes: 0 ok, 1 negative answer, 27 wait expired, 64 usage,\n"
		"65 bad data, 66 unreadable input, 69 unavailable, 76 protocol error,\n"
		"77 not authorised, 78 configuration error.\n");
}

static int cmd_help(int argc, char **argv)
{
	char safe[96];
	const struct command *c;
	if (argc < 2) {
		usage(stdout);
		return EXIT_OK;
	}
	if (argc > 2)
		return cli_usage_error("help", "too many arguments");
	c = find(argv[1]);
	if (c == NULL)
		return cli_usage_error("help", "unknown command '%s'",
			cli_safe(argv[1], safe, sizeof safe));
	fmt_printf("usage: dmqtt %s %s\n  %s\n", c->name, c->args, c->summary);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	const struct command *c;
	const char *lvl = getenv("DMQTT_LOG_LEVEL");
	char safe[96];

	if (lvl != NULL && log_parse_level(lvl) >= 0)
		log_set_level((enum log_level)log_parse_level(lvl));
	if (argc < 2) {
		fmt_fprintf(stderr, "dmqtt: missing command\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(1, argv + 1);
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(1, argv + 1);
	c = find(argv[1]);
	if (c == NULL) {
		fmt_fprintf(stderr, "dmqtt: unknown %s '%s'\ntry 'dmqtt help'\n",
			argv[1][0] == '-' ? "option" : "command",
			cli_safe(argv[1], safe, sizeof safe));
		return EXIT_USAGE;
	}
	return c->run(argc - 1, argv + 1);
}
