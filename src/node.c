/* node.c -- see node.h */
#include "src/node.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "platform/clock.h"
#include "platform/log.h"
#include "platform/net.h"
#include "platform/proc.h"
#include "platform/random.h"
#include "proto/kdf.h"
#include "src/builtin.h"
#include "src/bus.h"
#include "src/cli.h"
#include "src/commands.h"
#include "src/mqttc.h"
#include "src/node_config.h"
#include "src/request.h"
#include "src/resolv.h"
#include "src/veeahub.h"
#include "platform/fmt.h"

#define SRV_NAME "_dmqtt._tcp." VH_SRV_DOMAIN
#define MAX_JOBS 4
#define JOB_TIMEOUT_MS 5000
#define JOB_OUT_MAX 4096
#define SERIAL_MAX 64

struct job {
	pid_t pid;            /* 0: free */
	int fd;               /* output pipe, -1 once at EOF */
	uint64_t deadline;
	bool killed, exited;
	int status;
	size_t len;
	bool truncated;
	char out[JOB_OUT_MAX + 1];
	request_t req;
	char topic[96];
};

struct fleet;

struct node {
	struct fleet *f;
	char serial[SERIAL_MAX];
	char client_id[SERIAL_MAX + 8];
	char t_req[SERIAL_MAX + 8], t_rsp[SERIAL_MAX + 8], t_rsp_all[SERIAL_MAX + 16];
	char t_status[SERIAL_MAX + 16];
	mqttc_t *c;
	builtin_env_t env;
	uint64_t next_telemetry;
	bool ever_up, offline_sent, offline_acked;
	uint16_t offline_id;
	struct job jobs[MAX_JOBS];
	unsigned long requests, replies;
};

struct fleet {
	node_settings_t set;
	char user[KDF_USER_LEN + 1], pass[KDF_PASS_LEN + 1];
	char node_type[16];
	struct node *nodes;
	size_t n;
	int sigfd;
	bool stopping;
	uint64_t stop_deadline;
	/* broker discovery, shared by every node of the fleet */
	bool static_broker;
	char bhost[256];
	uint16_t bport;
	resolv_conf_t rc;
	resolv_t *lookup;
	net_addr_t addrs[MQTTC_MAX_ADDRS];
	int naddrs;
	uint64_t addrs_expiry, next_lookup;
	char lookup_err[300];
	unsigned lookup_failures;
	/* interfaces */
	char ifnames[NODE_MAX_IFACES][IFACE_NAME_MAX];
	int ifstate[NODE_MAX_IFACES];
	size_t nif;
	uint64_t next_ifcheck;
	builtin_env_t env;
};

/* ------------------------------------------------------------ discovery */

static void lookup_start(struct fleet *f, uint64_t now)
{
	if (f->lookup != NULL || now < f->next_lookup)
		return;
	f->next_lookup = now + 1000;
	if (f->static_broker)
		f->lookup = resolv_start(&f->rc, RESOLV_ADDR, f->bhost, f->bport, now);
	else
		f->lookup = resolv_start(&f->rc, RESOLV_SRV, SRV_NAME, 0, now);
	if (f->lookup == NULL) {
		fmt_snprintf(f->lookup_err, sizeof f->lookup_err, "out of memory for a DNS lookup");
		/* counted and logged as lookup_done() does a failed lookup: the
		 * node would otherwise retry forever with the reason at debug */
		if (f->lookup_failures++ % 10 == 0)
			log_warn("node", "broker discovery failed: %s", f->lookup_err);
	}
}

static void lookup_done(struct fleet *f, uint64_t now)
{
	resolv_status_t st = resolv_status(f->lookup);
	const resolv_target_t *t;
	int n = resolv_targets(f->lookup, &t);
	uint32_t ttl = resolv_ttl(f->lookup);

	f->naddrs = 0;
	for (int i = 0; i < n && f->naddrs < MQTTC_MAX_ADDRS; i++)
		for (int k = 0; k < t[i].naddrs && f->naddrs < MQTTC_MAX_ADDRS; k++)
			f->addrs[f->naddrs++] = t[i].addrs[k];
	if (st == RESOLV_OK && f->naddrs > 0) {
		char a[NET_ADDR_STRLEN];
		net_addr_format(&f->addrs[0], a, sizeof a);
		if (f->lookup_failures > 0 || log_get_level() >= LOG_DEBUG)
			log_info("node", "broker found: %s (%s%s)", a,
				f->static_broker ? f->bhost : "SRV " SRV_NAME,
				f->lookup_failures > 0 ? ", after failed lookups" : "");
		f->lookup_failures = 0;
		/* cache for the TTL, at least 1 s, at most 5 min */
		f->addrs_expiry = now + (ttl < 1 ? 1000 : ttl > 300 ? 300000 : (uint64_t)ttl * 1000);
		for (size_t i = 0; i < f->n; i++)
			mqttc_retry_now(f->nodes[i].c, now);
	} else {
		const char *d = resolv_detail(f->lookup);
		fmt_snprintf(f->lookup_err, sizeof f->lookup_err, "%s %s: %s%s%s",
			f->static_broker ? "broker" : "SRV", f->static_broker ? f->bhost : SRV_NAME,
			st == RESOLV_OK ? "no address for any target" : resolv_strerror(st),
			d[0] != '\0' ? " -- " : "", d);
		/* log the first failure and then every 10th, not every retry */
		if (f->lookup_failures++ % 10 == 0)
			log_warn("node", "broker discovery failed: %s", f->lookup_err);
		f->naddrs = 0;
	}
	resolv_free(f->lookup);
	f->lookup = NULL;
}

static int resolve_hook(void *user, net_addr_t *out, int max, char *err, size_t errcap)
{
	struct fleet *f = user;
	uint64_t now = clock_mono_ms();
	if (f->naddrs > 0 && now < f->addrs_expiry) {
		int n = f->naddrs < max ? f->naddrs : max;
		memcpy(out, f->addrs, sizeof out[0] * (size_t)n);
		return n;
	}
	f->naddrs = 0;
	lookup_start(f, now);
	if (f->lookup != NULL && resolv_status(f->lookup) != RESOLV_PENDING) {
		lookup_done(f, now); /* answered at once: a literal or the hosts file */
		if (f->naddrs > 0) {
			int n = f->naddrs < max ? f->naddrs : max;
			memcpy(out, f->addrs, sizeof out[0] * (size_t)n);
			return n;
		}
	}
	fmt_snprintf(err, errcap, "%s", f->lookup_err[0] != '\0' ? f->lookup_err :
		"looking up the broker (DNS SRV " SRV_NAME ")");
	return 0;
}

/* ------------------------------------------------------------ replies */

static void send_reply(struct node *nd, const char *topic, const request_t *r,
	const char *data, size_t len, int rc)
{
	static char buf[REPLY_MAX];
	size_t n = reply_build(buf, sizeof buf, nd->serial, r, data, len, rc);
	mqtt_status_t st;
	if (n == 0) {
		log_warn("node", "reply to '%s' does not fit %d bytes: dropped", r->cmd, REPLY_MAX);
		return;
	}
	st = mqttc_publish(nd->c, topic, buf, n, 1, false, NULL);
	if (st != MQTT_OK)
		log_warn("node", "%s: reply to '%s' not sent: %s", nd->serial, r->cmd, mqtt_strerror(st));
	else
		nd->replies++;
}

static const node_settings_t *settings(const struct node *nd) { return &nd->f->set; }

static void start_job(struct node *nd, const char *topic, const request_t *r, char *const *argv)
{
	struct job *j = NULL;
	int fd = -1;
	pid_t pid;
	for (int i = 0; i < MAX_JOBS; i++)
		if (nd->jobs[i].pid == 0) {
			j = &nd->jobs[i];
			break;
		}
	if (j == NULL) {
		static const char busy[] = "busy: too many commands running, try again";
		send_reply(nd, topic, r, busy, sizeof busy - 1, 75);
		return;
	}
	pid = proc_spawn(argv, &fd);
	if (pid < 0) {
		char msg[200];
		int n = fmt_snprintf(msg, sizeof msg, "cannot run %s: %s", argv[0], strerror((int)-pid));
		send_reply(nd, topic, r, msg, (size_t)n, 126);
		return;
	}
	memset(j, 0, sizeof *j);
	j->pid = pid;
	j->fd = fd;
	j->deadline = clock_mono_ms() + JOB_TIMEOUT_MS;
	j->req = *r;
	fmt_snprintf(j->topic, sizeof j->topic, "%s", topic);
	log_info("node", "%s: running '%s' (%s, pid %ld)", nd->serial, r->cmd, argv[0], (long)pid);
}

static void handle_request(struct node *nd, const char *topic, const uint8_t *payload, size_t len)
{
	request_t r;
	static char out[JOB_OUT_MAX + 1];
	int rc;

	nd->requests++;
	if (request_parse(payload, len, &r) != 0) {
		log_info("node", "%s: bad request: %s", nd->serial, r.error);
		send_reply(nd, topic, &r, r.error, strlen(r.error), RC_BAD_REQUEST);
		return;
	}
	rc = builtin_run(&nd->env, r.cmd, out, sizeof out);
	if (rc >= 0) {
		send_reply(nd, topic, &r, out, strlen(out), rc);
		return;
	}
	for (size_t i = 0; i < settings(nd)->ncmds; i++)
		if (strcmp(settings(nd)->cmds[i].name, r.cmd) == 0) {
			start_job(nd, topic, &r, settings(nd)->cmds[i].argv);
			return;
		}
	{
		int n = fmt_snprintf(out, sizeof out, "unknown command: %s", r.cmd);
		send_reply(nd, topic, &r, out, (size_t)n, RC_UNKNOWN);
	}
}

/* Collect a job's output; reply once it exited and its pipe is drained. */
static void job_poll(struct node *nd, struct job *j, uint64_t now)
{
	while (j->fd >= 0) {
		char tmp[1024];
		ssize_t n = read(j->fd, tmp, sizeof tmp);
		if (n > 0) {
			size_t take = (size_t)n;
			if (j->len + take > JOB_OUT_MAX) {
				take = JOB_OUT_MAX - j->len;
				j->truncated = true;
			}
			memcpy(j->out + j->len, tmp, take);
			j->len += take;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		close(j->fd);
		j->fd = -1;
	}
	if (!j->exited && !j->killed && now >= j->deadline) {
		kill(j->pid, SIGKILL);
		j->killed = true;
		log_warn("node", "%s: '%s' ran over %d ms: killed", nd->serial, j->req.cmd, JOB_TIMEOUT_MS);
	}
	if (j->exited && (j->fd < 0 || j->killed)) {
		int rc = j->killed ? RC_TIMEOUT : proc_exit_code(j->status);
		if (j->fd >= 0) {
			close(j->fd);
			j->fd = -1;
		}
		while (j->len > 0 && j->out[j->len - 1] == '\n')
			j->len--;
		send_reply(nd, j->topic, &j->req, j->out, j->len, rc);
		if (j->truncated)
			log_info("node", "%s: output of '%s' cut at %d bytes", nd->serial, j->req.cmd, JOB_OUT_MAX);
		j->pid = 0;
	}
}

/* ------------------------------------------------------------ MQTT events */

static void publish_telemetry(struct node *nd, size_t i)
{
	struct fleet *f = nd->f;
	char topic[SERIAL_MAX + 48], payload[48];
	int n;
	if (f->ifstate[i] < 0)
		return;
	fmt_snprintf(topic, sizeof topic, "data/%s/interface/%s", nd->serial, f->ifnames[i]);
	n = fmt_snprintf(payload, sizeof payload, "{\"interface_status\":\"%s\"}",
		f->ifstate[i] > 0 ? "Up" : "Down");
	mqttc_publish(nd->c, topic, payload, (size_t)n, 0, false, NULL);
}

static void on_up(mqttc_t *c, void *user, bool session_present)
{
	struct node *nd = user;
	mqtt_status_t st;
	(void)session_present;
	log_info("node", "%s: connected to the broker%s", nd->serial,
		nd->ever_up ? " again" : "");
	nd->ever_up = true;
	st = mqttc_publish(c, nd->t_status, "online", 6, 1, true, NULL);
	if (st != MQTT_OK)
		log_warn("node", "%s: status not published: %s", nd->serial, mqtt_strerror(st));
	/* telemetry right away, then every interval */
	nd->next_telemetry = 0;
}

static void on_down(mqttc_t *c, void *user, mqttc_reason_t why, const char *detail)
{
	struct node *nd = user;
	struct fleet *f = nd->f;
	(void)c;
	if (f->stopping)
		return;
	if (why == MQTTC_R_UNREACHABLE || why == MQTTC_R_TIMEOUT ||
	    (why == MQTTC_R_CLOSED && !nd->ever_up))
		f->addrs_expiry = 0; /* the service may have moved: look it up again */
	if (why == MQTTC_R_AUTH)
		log_warn("node", "%s: the broker refused our credentials (%s); the mesh may have "
			"been re-enrolled; retrying with backoff", nd->serial, detail);
	else if (why == MQTTC_R_RESOLVE)
		log_debug("node", "%s: %s", nd->serial, detail);
	else if (f->n <= 4 || why != MQTTC_R_RESOLVE)
		log_warn("node", "%s: %s; reconnecting with backoff (attempt %u)", nd->serial,
			detail, mqttc_failures(c));
}

static void on_message(mqttc_t *c, void *user, const mqtt_publish_t *m)
{
	struct node *nd = user;
	const char *reply;
	(void)c;
	if (m->topic_len == 7 && memcmp(m->topic, "req/all", 7) == 0)
		reply = nd->t_rsp_all;
	else if (m->topic_len == strlen(nd->t_req) && memcmp(m->topic, nd->t_req, m->topic_len) == 0)
		reply = nd->t_rsp;
	else
		return;
	handle_request(nd, reply, m->payload, m->payload_len);
}

static void on_published(mqttc_t *c, void *user, uint16_t id)
{
	struct node *nd = user;
	(void)c;
	if (nd->offline_sent && id == nd->offline_id)
		nd->offline_acked = true;
}

/* ------------------------------------------------------------ set-up */

static int build_node(struct fleet *f, struct node *nd, const char *serial, uint16_t keepalive)
{
	mqttc_config_t cfg;
	mqttc_hooks_t h;
	nd->f = f;
	fmt_snprintf(nd->serial, sizeof nd->serial, "%s", serial);
	fmt_snprintf(nd->client_id, sizeof nd->client_id, "mesh-%s", serial);
	fmt_snprintf(nd->t_req, sizeof nd->t_req, "req/%s", serial);
	fmt_snprintf(nd->t_rsp, sizeof nd->t_rsp, "rsp/%s", serial);
	fmt_snprintf(nd->t_rsp_all, sizeof nd->t_rsp_all, "rsp/all/%s", serial);
	fmt_snprintf(nd->t_status, sizeof nd->t_status, "status/%s", serial);
	builtin_env_init(&nd->env, nd->serial, f->node_type);
	memset(&cfg, 0, sizeof cfg);
	cfg.connect.client_id = nd->client_id;
	cfg.connect.client_id_len = strlen(nd->client_id);
	cfg.connect.username = f->user;
	cfg.connect.username_len = strlen(f->user);
	cfg.connect.password = (const uint8_t *)f->pass;
	cfg.connect.password_len = strlen(f->pass);
	cfg.connect.will_topic = nd->t_status;
	cfg.connect.will_topic_len = strlen(nd->t_status);
	cfg.connect.will_payload = (const uint8_t *)"offline";
	cfg.connect.will_payload_len = 7;
	cfg.connect.will_qos = 1;
	cfg.connect.will_retain = true;
	cfg.connect.clean_session = false;
	cfg.connect.keepalive_s = keepalive;
	/* requests are at most 4 KiB: up to 64 KiB is received so it can be
	 * refused with a reply (rc 2); beyond that the session skips it */
	cfg.rx_max = 64u << 10;
	cfg.max_publish = REPLY_MAX + 256;
	cfg.tx_max = 2 * (REPLY_MAX + 256);
	cfg.inflight = 8;
	cfg.qos2_in = 8;
	cfg.backoff_base_ms = 500;
	cfg.backoff_cap_ms = 30000;
	memset(&h, 0, sizeof h);
	h.on_up = on_up;
	h.on_down = on_down;
	h.on_message = on_message;
	h.on_published = on_published;
	h.resolve = resolve_hook;
	h.user = nd;
	h.net_user = f;
	nd->c = mqttc_new(&cfg, &h);
	if (nd->c == NULL)
		return -1;
	if (mqttc_subscribe(nd->c, "req/all", 1) != 0 || mqttc_subscribe(nd->c, nd->t_req, 1) != 0)
		return -1;
	for (int i = 0; i < MAX_JOBS; i++)
		nd->jobs[i].fd = -1;
	return 0;
}

static void check_interfaces(struct fleet *f, uint64_t now)
{
	if (now < f->next_ifcheck)
		return;
	f->next_ifcheck = now + 1000;
	if (f->set.nifaces == 0) {
		/* default: every interface but lo, rescanned as they come and go */
		char names[NODE_MAX_IFACES][IFACE_NAME_MAX];
		size_t n;
		memset(names, 0, sizeof names); /* compared whole below */
		n = iface_list(f->env.sys_net, names, NODE_MAX_IFACES);
		if (n != f->nif || memcmp(names, f->ifnames, n * IFACE_NAME_MAX) != 0) {
			memcpy(f->ifnames, names, sizeof names);
			for (size_t i = 0; i < NODE_MAX_IFACES; i++)
				f->ifstate[i] = -2; /* unknown: reported on first read */
			f->nif = n;
		}
	}
	for (size_t i = 0; i < f->nif; i++) {
		int st = iface_up(f->env.sys_net, f->ifnames[i]);
		if (st != f->ifstate[i] && f->ifstate[i] != -2 && st >= 0) {
			f->ifstate[i] = st;
			for (size_t k = 0; k < f->n; k++)
				if (mqttc_state(f->nodes[k].c) == MQTTC_UP)
					publish_telemetry(&f->nodes[k], i);
			log_info("node", "interface %s is %s", f->ifnames[i], st ? "up" : "down");
		} else {
			f->ifstate[i] = st;
		}
	}
}

static void telemetry(struct fleet *f, struct node *nd, uint64_t now)
{
	if (mqttc_state(nd->c) != MQTTC_UP || now < nd->next_telemetry)
		return;
	for (size_t i = 0; i < f->nif; i++)
		publish_telemetry(nd, i);
	nd->next_telemetry = now + (uint64_t)f->set.telemetry_interval_s * 1000;
}

/* Reap exited children and hand each to its job. */
static void reap(struct fleet *f)
{
	int status;
	pid_t pid;
	while ((pid = proc_reap(&status)) > 0)
		for (size_t i = 0; i < f->n; i++)
			for (int k = 0; k < MAX_JOBS; k++)
				if (f->nodes[i].jobs[k].pid == pid) {
					f->nodes[i].jobs[k].exited = true;
					f->nodes[i].jobs[k].status = status;
				}
}

/* ------------------------------------------------------------ command */

enum { O_BROKER = 1, O_CONFIG, O_FLEET, O_PREFIX, O_KEEPALIVE, O_DNS, O_LOG, O_HELP };

static const struct cli_opt node_opts[] = {
	{ "broker", 0, CLI_ARG, O_BROKER }, { "config", 0, CLI_ARG, O_CONFIG },
	{ "fleet", 0, CLI_ARG, O_FLEET }, { "serial-prefix", 0, CLI_ARG, O_PREFIX },
	{ "keepalive", 'k', CLI_ARG, O_KEEPALIVE }, { "server", 0, CLI_ARG, O_DNS },
	{ "log-level", 0, CLI_ARG, O_LOG }, { "help", 0, CLI_NOARG, O_HELP },
};

struct node_args {
	const char *broker, *config, *prefix, *dns;
	long fleet, keepalive;
};

static int on_opt(void *ctx, int id, const char *arg)
{
	struct node_args *a = ctx;
	switch (id) {
	case O_BROKER: a->broker = arg; return 0;
	case O_CONFIG: a->config = arg; return 0;
	case O_FLEET:
		if (cli_long(arg, 1, 100000, &a->fleet) != 0)
			return cli_usage_error("node", "--fleet needs a count 1-100000");
		return 0;
	case O_PREFIX: a->prefix = arg; return 0;
	case O_KEEPALIVE:
		if (cli_long(arg, 5, 65535, &a->keepalive) != 0)
			return cli_usage_error("node", "--keepalive needs seconds 5-65535");
		return 0;
	case O_DNS: a->dns = arg; return 0;
	case O_LOG:
		if (log_parse_level(arg) < 0)
			return cli_usage_error("node", "--log-level needs error, warn, info or debug");
		log_set_level((enum log_level)log_parse_level(arg));
		return 0;
	case O_HELP:
		fmt_printf("usage: dmqtt node [--config FILE] [--broker HOST[:PORT]] [--server DNS[:PORT]]\n"
			"                  [--keepalive SEC] [--fleet N --serial-prefix P]\n"
			"  the hub agent: finds the mesh broker (DNS SRV %s unless\n"
			"  --broker or DMQTT_BROKER), answers req/all and req/<serial>, publishes\n"
			"  telemetry and status.  Serial and mesh UUID come from the VeeaHub D-Bus\n"
			"  services (DMQTT_SERIAL, DMQTT_MESH_UUID override them).\n", SRV_NAME);
		return -1;
	}
	return 0;
}

/* Read serial, node type and mesh UUID, retrying while the bus or the
 * services are not there yet (a hub may start us before them). */
static int hub_identity(struct fleet *f, char *serial, size_t cap, bool need_serial)
{
	char uuid[KDF_UUID_MAX + 1], err[300];
	bus_t *bus = NULL;
	unsigned tries = 0;
	kdf_status_t ks;

	for (;;) {
		int ok = (!need_serial || vh_serial(&bus, serial, cap, 3000, err, sizeof err) == 0) &&
			vh_mesh_uuid(&bus, uuid, sizeof uuid, 3000, err, sizeof err) == 0;
		int sig = proc_signal_next(f->sigfd);
		if (ok)
			break;
		if (sig == SIGTERM || sig == SIGINT) {
			bus_close(bus);
			return -1;
		}
		if (tries++ % 10 == 0)
			log_warn("node", "waiting for the VeeaHub services: %s", err);
		clock_sleep_ms(tries < 5 ? 500 : 3000);
	}
	if (vh_info(&bus, "NodeType", f->node_type, sizeof f->node_type, 3000, err, sizeof err) != 0)
		fmt_snprintf(f->node_type, sizeof f->node_type, "%s",
			getenv("DMQTT_NODE_TYPE") != NULL ? getenv("DMQTT_NODE_TYPE") : "unknown");
	bus_close(bus);
	ks = kdf_mesh_credentials(uuid, strlen(uuid), f->set.salt, f->set.salt_len,
		f->user, sizeof f->user, f->pass, sizeof f->pass);
	memset(uuid, 0, sizeof uuid);
	if (ks != KDF_OK) {
		log_error("node", "cannot derive the mesh credentials: %s", kdf_strerror(ks));
		return -2;
	}
	return 0;
}

int cmd_node(int argc, char **argv)
{
	struct node_args a = { NULL, NULL, "C25DTADSR", NULL, 0, 60 };
	struct fleet f;
	node_config_t ncfg;
	char *pos[1], serial[SERIAL_MAX], err[300];
	struct pollfd *pfd;
	struct node **owner;
	int npos, r;

	r = cli_parse(argc, argv, node_opts, sizeof node_opts / sizeof node_opts[0], on_opt, &a, pos, 0, &npos);
	if (r != 0)
		return r < 0 ? EXIT_OK : r;
	memset(&f, 0, sizeof f);
	r = node_config_load(a.config, &ncfg, &f.set, true);
	if (r != 0)
		return r;
	f.sigfd = proc_signals_init();
	if (f.sigfd < 0) {
		/* without it SIGTERM would kill us before the offline status and
		 * no job would ever be reaped: do not run half-blind */
		log_error("node", "cannot set up signal handling: %s", strerror(-f.sigfd));
		node_config_free(&ncfg);
		return EXIT_UNAVAILABLE;
	}
	r = resolv_conf_default(&f.rc, err, sizeof err);
	if (r != 0) {
		log_error("node", "%s", err);
		node_config_free(&ncfg);
		/* out of descriptors or memory is no configuration error: a
		 * supervisor should restart us, not wait for a new config */
		return r == -EMFILE || r == -ENFILE || r == -ENOMEM ? EXIT_UNAVAILABLE : EXIT_CONFIG;
	}
	if (a.dns != NULL && resolv_conf_server(&f.rc, a.dns) != 0)
		return cli_usage_error("node", "--server needs IP[:PORT][,IP[:PORT]...]");
	if (a.broker == NULL)
		a.broker = getenv("DMQTT_BROKER");
	if (a.broker != NULL && *a.broker != '\0') {
		f.bport = f.set.mesh_port;
		if (net_split_hostport(a.broker, f.bhost, sizeof f.bhost, &f.bport) != 0)
			return cli_usage_error("node", "--broker needs HOST[:PORT]");
		f.static_broker = true;
	}
	r = hub_identity(&f, serial, sizeof serial, a.fleet == 0);
	if (r != 0) {
		node_config_free(&ncfg);
		return r == -1 ? EXIT_OK : EXIT_CONFIG;
	}
	if (a.fleet > 0) {
		struct rlimit rl;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max; /* a socket per simulated node */
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	f.n = a.fleet > 0 ? (size_t)a.fleet : 1;
	f.nodes = calloc(f.n, sizeof *f.nodes);
	pfd = calloc(f.n + 2 + f.n * MAX_JOBS, sizeof *pfd);
	owner = calloc(f.n + 2 + f.n * MAX_JOBS, sizeof(struct node *));
	if (f.nodes == NULL || pfd == NULL || owner == NULL) {
		log_error("node", "out of memory for %zu nodes", f.n);
		free(f.nodes);
		free(pfd);
		free(owner);
		node_config_free(&ncfg);
		return EXIT_UNAVAILABLE;
	}
	builtin_env_init(&f.env, "", f.node_type);
	if (f.set.nifaces > 0) {
		for (size_t i = 0; i < f.set.nifaces; i++)
			fmt_snprintf(f.ifnames[i], IFACE_NAME_MAX, "%s", f.set.ifaces[i]);
		f.nif = f.set.nifaces;
	}
	for (size_t i = 0; i < NODE_MAX_IFACES; i++)
		f.ifstate[i] = -2;
	for (size_t i = 0; i < f.n; i++) {
		char sn[SERIAL_MAX];
		if (a.fleet > 0) {
			size_t plen = strlen(a.prefix);
			int width = plen < 19 ? (int)(20 - plen) : 1;
			fmt_snprintf(sn, sizeof sn, "%s%0*zu", a.prefix, width, i + 1);
		} else {
			fmt_snprintf(sn, sizeof sn, "%s", serial);
		}
		if (build_node(&f, &f.nodes[i], sn, (uint16_t)a.keepalive) != 0) {
			log_error("node", "out of memory for node %zu", i);
			for (size_t k = 0; k <= i; k++)
				mqttc_free(f.nodes[k].c);
			free(f.nodes);
			free(pfd);
			free(owner);
			node_config_free(&ncfg);
			return EXIT_UNAVAILABLE;
		}
	}
	log_info("node", "%s%s: %zu node%s, broker %s%s, telemetry every %u s",
		a.fleet > 0 ? "fleet " : "", a.fleet > 0 ? a.prefix : f.nodes[0].serial, f.n,
		f.n == 1 ? "" : "s", f.static_broker ? f.bhost : "by DNS SRV ",
		f.static_broker ? "" : SRV_NAME, f.set.telemetry_interval_s);
	{
		uint64_t now = clock_mono_ms();
		check_interfaces(&f, now);
		for (size_t i = 0; i < f.n; i++) {
			/* spread a fleet's telemetry over the interval */
			f.nodes[i].next_telemetry = f.n > 1 ? now + random_below(f.set.telemetry_interval_s * 1000) : 0;
			mqttc_start(f.nodes[i].c, now);
		}
	}
	for (;;) {
		size_t np = 0, lookup_idx = SIZE_MAX;
		uint64_t now = clock_mono_ms();
		int timeout = (int)(f.next_ifcheck > now ? f.next_ifcheck - now : 0), sig;
		bool all_idle = true;

		pfd[np].fd = f.sigfd;
		pfd[np].events = POLLIN;
		owner[np++] = NULL;
		if (f.lookup != NULL && resolv_pollfd(f.lookup, &pfd[np])) {
			owner[np] = NULL;
			lookup_idx = np++;
		}
		if (f.lookup != NULL) {
			int t = resolv_timeout_ms(f.lookup, now);
			if (t >= 0 && t < timeout)
				timeout = t;
		}
		for (size_t i = 0; i < f.n; i++) {
			struct node *nd = &f.nodes[i];
			int t = mqttc_timeout_ms(nd->c, now);
			if (mqttc_state(nd->c) != MQTTC_IDLE)
				all_idle = false;
			if (t >= 0 && t < timeout)
				timeout = t;
			if (mqttc_state(nd->c) == MQTTC_UP && nd->next_telemetry > now &&
			    (int)(nd->next_telemetry - now) < timeout)
				timeout = (int)(nd->next_telemetry - now);
			if (mqttc_pollfd(nd->c, &pfd[np]))
				owner[np++] = nd;
			for (int k = 0; k < MAX_JOBS; k++) {
				struct job *j = &nd->jobs[k];
				if (j->pid == 0)
					continue;
				if (j->fd >= 0) {
					pfd[np].fd = j->fd;
					pfd[np].events = POLLIN;
					owner[np++] = NULL;
				}
				if (!j->killed && j->deadline <= now)
					timeout = 0;
				else if (!j->killed && (int)(j->deadline - now) < timeout)
					timeout = (int)(j->deadline - now);
			}
		}
		if (f.stopping) {
			if (all_idle || now >= f.stop_deadline)
				break;
			if ((int)(f.stop_deadline - now) < timeout)
				timeout = (int)(f.stop_deadline - now);
		}
		for (size_t i = 0; i < np; i++)
			pfd[i].revents = 0;
		net_poll(pfd, (nfds_t)np, timeout < 0 ? 1000 : timeout);
		now = clock_mono_ms();
		while ((sig = proc_signal_next(f.sigfd)) != 0) {
			if (sig == SIGCHLD) {
				reap(&f);
			} else if ((sig == SIGTERM || sig == SIGINT) && !f.stopping) {
				log_info("node", "stopping: publishing offline status, then disconnecting");
				f.stopping = true;
				f.stop_deadline = now + 3000;
				for (size_t i = 0; i < f.n; i++) {
					struct node *nd = &f.nodes[i];
					if (mqttc_state(nd->c) == MQTTC_UP &&
					    mqttc_publish(nd->c, nd->t_status, "offline", 7, 1, true,
						    &nd->offline_id) == MQTT_OK)
						nd->offline_sent = true;
					else
						mqttc_stop(nd->c);
				}
			}
		}
		if (f.lookup != NULL) {
			resolv_process(f.lookup, lookup_idx != SIZE_MAX ? &pfd[lookup_idx] : NULL, now);
			if (resolv_status(f.lookup) != RESOLV_PENDING)
				lookup_done(&f, now);
		}
		if (!f.stopping)
			check_interfaces(&f, now);
		{
			size_t k = 1 + (lookup_idx != SIZE_MAX);
			for (size_t i = 0; i < f.n; i++) {
				struct node *nd = &f.nodes[i];
				const struct pollfd *mine = NULL;
				for (; k < np && owner[k] == NULL; k++)
					;
				if (k < np && owner[k] == nd)
					mine = &pfd[k++];
				mqttc_process(nd->c, mine, now);
				for (int j = 0; j < MAX_JOBS; j++)
					if (nd->jobs[j].pid != 0)
						job_poll(nd, &nd->jobs[j], now);
				if (!f.stopping)
					telemetry(&f, nd, now);
				else if (nd->offline_sent && (nd->offline_acked || mqttc_state(nd->c) != MQTTC_UP) &&
					 mqttc_state(nd->c) != MQTTC_IDLE && mqttc_unsent(nd->c) == 0)
					mqttc_stop(nd->c);
				/* replies queued above go out now, not at the next wake-up */
				if (mqttc_unsent(nd->c) > 0)
					mqttc_process(nd->c, NULL, now);
			}
		}
	}
	for (size_t i = 0; i < f.n; i++) {
		for (int k = 0; k < MAX_JOBS; k++)
			if (f.nodes[i].jobs[k].pid != 0)
				kill(f.nodes[i].jobs[k].pid, SIGKILL);
		mqttc_free(f.nodes[i].c);
	}
	resolv_free(f.lookup);
	free(f.nodes);
	free(pfd);
	free(owner);
	node_config_free(&ncfg);
	memset(f.pass, 0, sizeof f.pass);
	log_info("node", "stopped");
	return EXIT_OK;
}
