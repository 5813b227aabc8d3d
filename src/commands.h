/*
 * commands.h -- every subcommand's entry point.  Each takes the argv that
 * starts at its own name and returns an exit code (cli.h).
 */
#ifndef DMQTT_COMMANDS_H
#define DMQTT_COMMANDS_H

int cmd_version(int argc, char **argv);
int cmd_pub(int argc, char **argv);
int cmd_sub(int argc, char **argv);
int cmd_srv(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_dbus(int argc, char **argv);
int cmd_hub(int argc, char **argv);
int cmd_secret(int argc, char **argv);
int cmd_tls(int argc, char **argv);
int cmd_broker(int argc, char **argv);
int cmd_cloud(int argc, char **argv);

/* Text of "dmqtt version" for other messages: "dmqtt 0.1.0 (triple)". */
const char *dmqtt_version_short(void);

#endif
