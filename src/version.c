/* version.c -- `dmqtt version` */
#include "src/cli.h"
#include "src/commands.h"

#include <stdio.h>

#include "build.h" /* generated: DMQTT_VERSION, _TRIPLE, _BEARSSL_VERSION, _BUILD_ID */
#include "platform/fmt.h"

static int no_opt(void *ctx, int id, const char *arg)
{
	(void)ctx;
	(void)id;
	(void)arg;
	return 0;
}

int cmd_version(int argc, char **argv)
{
	char *pos[1];
	int npos, r = cli_parse(argc, argv, NULL, 0, no_opt, NULL, pos, 0, &npos);
	if (r != 0)
		return r;
	fmt_printf("dmqtt %s\ntarget: %s\nbearssl: %s\nbuild: %s\n", DMQTT_VERSION,
		DMQTT_TRIPLE, DMQTT_BEARSSL_VERSION, DMQTT_BUILD_ID);
	return fflush(stdout) == 0 ? EXIT_OK : 74;
}

const char *dmqtt_version_short(void)
{
	return "dmqtt " DMQTT_VERSION " (" DMQTT_TRIPLE ")";
}
