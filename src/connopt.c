/* connopt.c -- see connopt.h */
#include "src/connopt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "platform/clock.h"
#include "platform/log.h"
#include "platform/proc.h"
#include "src/resolv.h"
#include "src/tlsconf.h"
#include "platform/fmt.h"

enum {
	O_HOST = CONNOPT_FIRST_ID, O_PORT, O_ID, O_KEEPALIVE, O_USER, O_PASS, O_PERSIST,
	O_WILL_TOPIC, O_WILL_PAYLOAD, O_WILL_QOS, O_WILL_RETAIN, O_CAFILE, O_CERT,
	O_KEY, O_TLS_NAME, O_CONNECT_TIMEOUT, O_DEBUG, O_LOG_LEVEL
};

const struct cli_opt connopt_table[] = {
	{ "host", 'h', CLI_ARG, O_HOST }, { "port", 'p', CLI_ARG, O_PORT },
	{ "id", 'i', CLI_ARG, O_ID }, { "keepalive", 'k', CLI_ARG, O_KEEPALIVE },
	{ "username", 'u', CLI_ARG, O_USER }, { "pw", 'P', CLI_ARG, O_PASS },
	{ "disable-clean-session", 'c', CLI_NOARG, O_PERSIST },
	{ "will-topic", 0, CLI_ARG, O_WILL_TOPIC }, { "will-payload", 0, CLI_ARG, O_WILL_PAYLOAD },
	{ "will-qos", 0, CLI_ARG, O_WILL_QOS }, { "will-retain", 0, CLI_NOARG, O_WILL_RETAIN },
	{ "cafile", 0, CLI_ARG, O_CAFILE }, { "cert", 0, CLI_ARG, O_CERT },
	{ "key", 0, CLI_ARG, O_KEY }, { "tls-server-name", 0, CLI_ARG, O_TLS_NAME },
	{ "connect-timeout", 0, CLI_ARG, O_CONNECT_TIMEOUT },
	{ "debug", 'd', CLI_NOARG, O_DEBUG }, { "log-level", 0, CLI_ARG, O_LOG_LEVEL },
};
const size_t connopt_count = sizeof connopt_table / sizeof connopt_table[0];

const char connopt_usage[] =
	"connection:\n"
	"  -h, --host HOST          broker host (default localhost; DMQTT_BROKER=host:port)\n"
	"  -p, --port PORT          broker port (default 1883, 8883 with --cafile)\n"
	"  -i, --id ID              client id (default dmqtt-CMD-PID)\n"
	"  -k, --keepalive SEC      keepalive interval (default 60, 0 = off)\n"
	"  -u, --username USER      user name\n"
	"  -P, --pw PASSWORD        password\n"
	"  -c, --disable-clean-session  persistent session (needs -i)\n"
	"  --will-topic T --will-payload P --will-qos Q --will-retain\n"
	"  --cafile FILE            use TLS 1.2, trusting the CAs in FILE\n"
	"  --cert FILE --key FILE   client certificate and key for mutual TLS\n"
	"  --tls-server-name NAME   name to verify in the certificate (when -h is an IP)\n"
	"  --connect-timeout MS     TCP+TLS+CONNACK deadline (default 10000)\n"
	"  -d, --debug              log at debug level (--log-level LEVEL)\n";

void connopt_init(connopt_t *o, const char *cmd)
{
	const char *b = getenv("DMQTT_BROKER");
	static char host[256];
	memset(o, 0, sizeof *o);
	o->host = "localhost";
	o->port = 1883;
	o->keepalive = 60;
	o->connect_timeout_ms = 10000;
	fmt_snprintf(o->id_buf, sizeof o->id_buf, "dmqtt-%s-%ld", cmd, (long)getpid());
	o->client_id = o->id_buf;
	if (b != NULL && *b != '\0') {
		uint16_t port = o->port;
		if (net_split_hostport(b, host, sizeof host, &port) == 0) {
			o->host = host;
			if (port != o->port) {
				o->port = port;
				o->port_set = true;
			}
		} else {
			log_warn(cmd, "ignoring DMQTT_BROKER: not host[:port]");
		}
	}
}

int connopt_apply(connopt_t *o, const char *cmd, int id, const char *arg)
{
	long v;
	switch (id) {
	case O_HOST: o->host = arg; return 0;
	case O_PORT:
		if (cli_long(arg, 1, 65535, &v) != 0)
			return cli_usage_error(cmd, "-p needs a port number 1-65535");
		o->port = (uint16_t)v;
		o->port_set = true;
		return 0;
	case O_ID:
		if (strlen(arg) > 23 * 4)
			return cli_usage_error(cmd, "client id longer than 92 bytes");
		o->client_id = arg;
		return 0;
	case O_KEEPALIVE:
		if (cli_long(arg, 0, 65535, &o->keepalive) != 0)
			return cli_usage_error(cmd, "-k needs seconds 0-65535");
		return 0;
	case O_USER: o->username = arg; return 0;
	case O_PASS: o->password = arg; return 0;
	case O_PERSIST: o->persistent = true; return 0;
	case O_WILL_TOPIC: o->will_topic = arg; return 0;
	case O_WILL_PAYLOAD: o->will_payload = arg; return 0;
	case O_WILL_QOS:
		if (cli_long(arg, 0, 2, &o->will_qos) != 0)
			return cli_usage_error(cmd, "--will-qos needs 0, 1 or 2");
		return 0;
	case O_WILL_RETAIN: o->will_retain = true; return 0;
	case O_CAFILE: o->cafile = arg; return 0;
	case O_CERT: o->cert = arg; return 0;
	case O_KEY: o->key = arg; return 0;
	case O_TLS_NAME: o->tls_server_name = arg; return 0;
	case O_CONNECT_TIMEOUT:
		if (cli_long(arg, 100, 600000, &o->connect_timeout_ms) != 0)
			return cli_usage_error(cmd, "--connect-timeout needs milliseconds 100-600000");
		return 0;
	case O_DEBUG: log_set_level(LOG_DEBUG); return 0;
	case O_LOG_LEVEL:
		if (log_parse_level(arg) < 0)
			return cli_usage_error(cmd, "--log-level needs error, warn, info or debug");
		log_set_level((enum log_level)log_parse_level(arg));
		return 0;
	}
	return cli_usage_error(cmd, "internal: unknown option id %d", id);
}

static int resolve(void *user, net_addr_t *out, int max, char *err, size_t errcap)
{
	connopt_t *o = user;
	resolv_conf_t rc;
	resolv_t *r;
	const resolv_target_t *t;
	int n = net_resolve_local(o->host, o->port, NULL, out, max);
	if (n > 0)
		return n;
	/* a name: our resolver, waiting at most its total deadline (a tool
	 * has nothing else to do meanwhile) */
	if (resolv_conf_default(&rc, err, errcap) != 0)
		return 0;
	r = resolv_start(&rc, RESOLV_ADDR, o->host, o->port, clock_mono_ms());
	if (r == NULL) {
		fmt_snprintf(err, errcap, "out of memory");
		return 0;
	}
	if (resolv_wait(r) == RESOLV_OK && resolv_targets(r, &t) > 0) {
		n = t[0].naddrs < max ? t[0].naddrs : max;
		memcpy(out, t[0].addrs, sizeof out[0] * (size_t)n);
	} else {
		fmt_snprintf(err, errcap, "cannot resolve '%s': %s%s%s", o->host,
			resolv_strerror(resolv_status(r)), resolv_detail(r)[0] != '\0' ? " -- " : "",
			resolv_detail(r));
		n = 0;
	}
	resolv_free(r);
	return n;
}

static int wrap(void *user, const io_transport_t *tcp, io_transport_t *out, char *err, size_t errcap)
{
	connopt_t *o = user;
	return tlsconf_wrap(o->tls, tcp, out, err, errcap);
}

static const char *wrap_error(void *user)
{
	connopt_t *o = user;
	return tlsconf_wrap_error(o->tls);
}

int connopt_finish(connopt_t *o, const char *cmd, mqttc_config_t *cfg, mqttc_hooks_t *hooks)
{
	mqtt_connect_t *c = &cfg->connect;
	if (o->persistent && o->client_id == o->id_buf)
		return cli_usage_error(cmd, "-c (persistent session) needs a fixed client id (-i)");
	if (o->password != NULL && o->username == NULL)
		return cli_usage_error(cmd, "-P needs -u");
	if ((o->will_payload != NULL || o->will_retain || o->will_qos != 0) && o->will_topic == NULL)
		return cli_usage_error(cmd, "--will-payload/--will-qos/--will-retain need --will-topic");
	if (o->will_topic != NULL && mqtt_check_topic(o->will_topic, strlen(o->will_topic)) != MQTT_OK)
		return cli_usage_error(cmd, "--will-topic is not a valid topic name");
	if ((o->cert == NULL) != (o->key == NULL))
		return cli_usage_error(cmd, "--cert and --key go together");
	if ((o->cert != NULL || o->tls_server_name != NULL) && o->cafile == NULL)
		return cli_usage_error(cmd, "--cert, --key and --tls-server-name need --cafile (TLS)");
	if (o->cafile != NULL) {
		tlsconf_opts_t t;
		char err[300];
		int code = EXIT_CONFIG;
		memset(&t, 0, sizeof t);
		t.cafile = o->cafile;
		t.cert = o->cert;
		t.key = o->key;
		t.server_name = o->tls_server_name;
		if (!o->port_set)
			o->port = 8883; /* --cafile means TLS; -p 8883 alone does not */
		o->tls = tlsconf_new(&t, o->host, err, sizeof err, &code);
		if (o->tls == NULL) {
			fmt_fprintf(stderr, "dmqtt %s: %s\n", cmd, err);
			return code;
		}
	}
	memset(c, 0, sizeof *c);
	c->client_id = o->client_id;
	c->client_id_len = strlen(o->client_id);
	if (o->username != NULL) {
		c->username = o->username;
		c->username_len = strlen(o->username);
	}
	if (o->password != NULL) {
		c->password = (const uint8_t *)o->password;
		c->password_len = strlen(o->password);
	}
	if (o->will_topic != NULL) {
		c->will_topic = o->will_topic;
		c->will_topic_len = strlen(o->will_topic);
		c->will_payload = (const uint8_t *)(o->will_payload != NULL ? o->will_payload : "");
		c->will_payload_len = o->will_payload != NULL ? strlen(o->will_payload) : 0;
		c->will_qos = (uint8_t)o->will_qos;
		c->will_retain = o->will_retain;
	}
	c->clean_session = !o->persistent;
	c->keepalive_s = (uint16_t)o->keepalive;
	cfg->connect_timeout_ms = (uint32_t)o->connect_timeout_ms;
	memset(hooks, 0, sizeof *hooks);
	hooks->resolve = resolve;
	if (o->tls != NULL) {
		hooks->wrap = wrap;
		hooks->wrap_error = wrap_error;
	}
	hooks->net_user = o;
	return 0;
}

void connopt_free(connopt_t *o)
{
	if (o->tls != NULL) /* a plain connection runs no TLS code at all */
		tlsconf_free(o->tls);
	o->tls = NULL;
}

int connopt_failure_code(const connopt_t *o, mqttc_reason_t why)
{
	if (why == MQTTC_R_TLS && o != NULL && o->tls != NULL)
		return tlsconf_exit_code(o->tls);
	return connopt_exit_code(why);
}

int connopt_exit_code(mqttc_reason_t why)
{
	switch (why) {
	case MQTTC_R_AUTH:
	case MQTTC_R_TLS:
		return EXIT_NOPERM;
	case MQTTC_R_BUSY:
		return EXIT_UNAVAILABLE;
	case MQTTC_R_PROTOCOL:
	case MQTTC_R_REFUSED:
		return EXIT_PROTOCOL;
	default:
		return EXIT_UNAVAILABLE;
	}
}

void connopt_poll_once(mqttc_t *c, int extra_fd, short extra_events, int sigfd,
	int cap_ms, short *extra_revents, int *sig)
{
	struct pollfd p[3];
	int n = 0, ci = -1, ei = -1, si = -1, t;
	uint64_t now = clock_mono_ms();

	if (mqttc_pollfd(c, &p[n]))
		ci = n++;
	if (extra_fd >= 0 && extra_events != 0) {
		p[n].fd = extra_fd;
		p[n].events = extra_events;
		p[n].revents = 0;
		ei = n++;
	}
	if (sigfd >= 0) {
		p[n].fd = sigfd;
		p[n].events = POLLIN;
		p[n].revents = 0;
		si = n++;
	}
	t = mqttc_timeout_ms(c, now);
	if (cap_ms >= 0 && (t < 0 || t > cap_ms))
		t = cap_ms;
	fflush(stdout); /* about to wait: let the reader see what we have */
	net_poll(p, (nfds_t)n, t);
	now = clock_mono_ms();
	*extra_revents = ei >= 0 ? p[ei].revents : 0;
	*sig = si >= 0 && (p[si].revents & POLLIN) ? proc_signal_next(sigfd) : 0;
	mqttc_process(c, ci >= 0 ? &p[ci] : NULL, now);
}
