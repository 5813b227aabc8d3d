/* cmd_dbus.c -- `dmqtt dbus call ...` (busctl's text forms) and
 * `dmqtt hub info` (the VeeaHub Info service). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/clock.h"
#include "src/bus.h"
#include "src/cli.h"
#include "src/commands.h"
#include "src/veeahub.h"
#include "platform/fmt.h"

enum { O_SYSTEM = 1, O_SESSION, O_ADDRESS, O_TIMEOUT, O_SHOW, O_HELP };

struct dbuscmd {
	const char *address;
	long timeout_ms;
	bool show_secrets;
};

static const struct cli_opt dbus_opts[] = {
	{ "system", 0, CLI_NOARG, O_SYSTEM }, { "session", 0, CLI_NOARG, O_SESSION },
	{ "address", 0, CLI_ARG, O_ADDRESS }, { "timeout", 0, CLI_ARG, O_TIMEOUT },
	{ "show-secrets", 0, CLI_NOARG, O_SHOW }, { "help", 0, CLI_NOARG, O_HELP },
};

static const char dbus_usage[] =
	"usage: dmqtt dbus call [--system|--session|--address ADDR] [--timeout MS]\n"
	"                       DEST PATH INTERFACE METHOD [SIGNATURE [ARGS...]]\n"
	"  arguments and the reply in busctl's text form; an ERROR reply prints\n"
	"  'ERROR name: message' and exits 1.  Use -- before negative numbers.\n"
	"usage: dmqtt hub info [--show-secrets] [--timeout MS]\n"
	"  serial, node type, host name and mesh UUID (hidden unless --show-secrets)\n";

static int on_opt(void *ctx, int id, const char *arg)
{
	struct dbuscmd *d = ctx;
	switch (id) {
	case O_SYSTEM: d->address = bus_system_address(); return 0;
	case O_SESSION:
		d->address = getenv("DBUS_SESSION_BUS_ADDRESS");
		if (d->address == NULL)
			return cli_usage_error("dbus", "--session: DBUS_SESSION_BUS_ADDRESS is not set");
		return 0;
	case O_ADDRESS: d->address = arg; return 0;
	case O_TIMEOUT:
		if (cli_long(arg, 1, 600000, &d->timeout_ms) != 0)
			return cli_usage_error("dbus", "--timeout needs milliseconds");
		return 0;
	case O_SHOW: d->show_secrets = true; return 0;
	case O_HELP: fputs(dbus_usage, stdout); return -1;
	}
	return 0;
}

static int do_call(struct dbuscmd *d, int npos, char **pos)
{
	char err[300];
	size_t cap = 1u << 20;
	uint8_t *buf;
	char *text;
	dbus_msg_t m;
	bus_t *b;
	int rc;

	if (npos < 5)
		return cli_usage_error("dbus", "call needs DEST PATH INTERFACE METHOD");
	b = bus_open(d->address != NULL ? d->address : bus_system_address(), clock_mono_ms(),
		err, sizeof err);
	if (b == NULL) {
		fmt_fprintf(stderr, "dmqtt dbus: %s\n", err);
		return EXIT_UNAVAILABLE;
	}
	buf = malloc(cap);
	text = malloc(cap * 4);
	if (buf == NULL || text == NULL) {
		bus_close(b);
		free(buf);
		free(text);
		return EXIT_UNAVAILABLE;
	}
	rc = bus_call_wait(b, pos[1], pos[2], pos[3], pos[4], npos > 5 ? pos[5] : NULL,
		npos > 6 ? npos - 6 : 0, pos + 6, (uint32_t)d->timeout_ms, buf, cap, &m, err, sizeof err);
	if (rc != 0) {
		fmt_fprintf(stderr, "dmqtt dbus: %s.%s: %s\n", pos[3], pos[4], err);
		rc = rc == -2 ? EXIT_USAGE : EXIT_UNAVAILABLE;
	} else if (m.type == DBUS_ERROR) {
		const char *t = dbus_msg_error_text(&m);
		fmt_printf("ERROR %s: %s\n", m.error_name, t != NULL ? t : "");
		rc = EXIT_NEGATIVE;
	} else if (dbus_print_body(&m, text, cap * 4, NULL) != DBUS_OK) {
		fmt_fprintf(stderr, "dmqtt dbus: reply too large to print\n");
		rc = EXIT_PROTOCOL;
	} else {
		if (text[0] != '\0')
			fmt_printf("%s\n", text);
		rc = EXIT_OK;
	}
	bus_close(b);
	free(buf);
	free(text);
	return rc;
}

int cmd_dbus(int argc, char **argv)
{
	struct dbuscmd d = { NULL, 5000, false };
	/* as many positional slots as arguments: busctl has no limit either */
	char **pos = calloc((size_t)argc + 1, sizeof *pos);
	int npos, r;
	if (pos == NULL)
		return EXIT_UNAVAILABLE;
	r = cli_parse(argc, argv, dbus_opts, sizeof dbus_opts / sizeof dbus_opts[0],
		on_opt, &d, pos, argc, &npos);
	if (r == 0 && (npos == 0 || strcmp(pos[0], "call") != 0))
		r = cli_usage_error("dbus", "expected 'call'");
	if (r == 0)
		r = do_call(&d, npos, pos);
	else if (r < 0)
		r = EXIT_OK;
	free(pos);
	return r;
}

int cmd_hub(int argc, char **argv)
{
	struct dbuscmd d = { NULL, 3000, false };
	static const char *const methods[] = { "VeeaSerial", "NodeType", "Hostname", "MeshUUID" };
	static const char *const labels[] = { "serial", "node type", "hostname", "mesh uuid" };
	char *pos[2], val[256], err[300];
	bus_t *b = NULL;
	int npos, rc = EXIT_OK, r = cli_parse(argc, argv, dbus_opts, sizeof dbus_opts / sizeof dbus_opts[0],
		on_opt, &d, pos, 2, &npos);
	if (r != 0)
		return r < 0 ? EXIT_OK : r;
	if (npos != 1 || strcmp(pos[0], "info") != 0)
		return cli_usage_error("hub", "expected 'info'");
	for (int i = 0; i < 4; i++) {
		int got = i == 0 ? vh_serial(&b, val, sizeof val, (uint32_t)d.timeout_ms, err, sizeof err) :
			i == 3 ? vh_mesh_uuid(&b, val, sizeof val, (uint32_t)d.timeout_ms, err, sizeof err) :
			vh_info(&b, methods[i], val, sizeof val, (uint32_t)d.timeout_ms, err, sizeof err);
		if (got != 0) {
			fmt_printf("%s: unavailable\n", labels[i]);
			fmt_fprintf(stderr, "dmqtt hub: %s: %s\n", labels[i], err);
			rc = EXIT_UNAVAILABLE;
		} else if (i == 3 && !d.show_secrets) {
			fmt_printf("%s: (hidden, %zu characters; --show-secrets shows it)\n", labels[i], strlen(val));
		} else {
			fmt_printf("%s: %s\n", labels[i], val);
		}
	}
	bus_close(b);
	return rc;
}
