/*
 * broker.c -- `dmqtt broker`: runs on the MEN as the container's first
 * process.  Loads user-config.json, derives the mesh credentials, writes
 * mosquitto's files (src/mosqconf.c), registers the broker's DNS host and
 * SRV records with the VeeaHub Networking service (again whenever that
 * service restarts), and supervises mosquitto: signals forwarded, every
 * child reaped, restarts with backoff, its exit status passed on.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platform/clock.h"
#include "platform/log.h"
#include "platform/net.h"
#include "platform/proc.h"
#include "platform/random.h"
#include "proto/kdf.h"
#include "src/bus.h"
#include "src/cli.h"
#include "src/commands.h"
#include "src/config.h"
#include "src/mosqconf.h"
#include "src/veeahub.h"
#include "platform/fmt.h"

enum { O_CONFIG = 1, O_DIR, O_MOSQ, O_NORUN, O_CHECK, O_LISTEN, O_USER, O_LOG, O_HELP };

static const struct cli_opt broker_opts[] = {
	{ "config", 0, CLI_ARG, O_CONFIG }, { "mosquitto-dir", 0, CLI_ARG, O_DIR },
	{ "mosquitto", 0, CLI_ARG, O_MOSQ }, { "no-run", 0, CLI_NOARG, O_NORUN },
	{ "check", 0, CLI_NOARG, O_CHECK }, { "listen-address", 0, CLI_ARG, O_LISTEN },
	{ "mosquitto-user", 0, CLI_ARG, O_USER }, { "log-level", 0, CLI_ARG, O_LOG },
	{ "help", 0, CLI_NOARG, O_HELP },
};

struct broker_args {
	const char *config, *dir, *mosq, *listen, *user;
	bool norun, check;
};

static int on_opt(void *ctx, int id, const char *arg)
{
	struct broker_args *a = ctx;
	switch (id) {
	case O_CONFIG: a->config = arg; return 0;
	case O_DIR: a->dir = arg; return 0;
	case O_MOSQ: a->mosq = arg; return 0;
	case O_NORUN: a->norun = true; return 0;
	case O_CHECK: a->check = true; return 0;
	case O_LISTEN: a->listen = arg; return 0;
	case O_USER: a->user = arg; return 0;
	case O_LOG:
		if (log_parse_level(arg) < 0)
			return cli_usage_error("broker", "--log-level needs error, warn, info or debug");
		log_set_level((enum log_level)log_parse_level(arg));
		return 0;
	case O_HELP:
		fmt_printf("usage: dmqtt broker [--config FILE] [--mosquitto-dir DIR] [--mosquitto PATH]\n"
			"                    [--listen-address IP] [--mosquitto-user USER] [--no-run | --check]\n"
			"  the MEN's mesh broker: writes mosquitto's files into DIR (default\n"
			"  /etc/mosquitto), registers %s and its SRV\n"
			"  record over D-Bus, runs and supervises mosquitto.\n"
			"  --no-run   stop after writing the files and registering\n"
			"  --check    validate the configuration and D-Bus reachability, write nothing\n",
			VH_BROKER_HOST);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ state */

struct reg {
	uint32_t pending;      /* serial of the call in flight, 0: none */
	bool done;
	char token[128];
};

struct broker {
	struct broker_args a;
	dmqtt_config_t cfg;
	char serial[64];
	char user[KDF_USER_LEN + 1], pass[KDF_PASS_LEN + 1];
	int sigfd;
	bool stopping;
	int stop_signal;
	uint64_t kill_at;      /* stopping: SIGKILL mosquitto if still there, 0: done */
	/* D-Bus registration */
	bus_t *bus;
	uint64_t bus_retry_at;
	unsigned bus_failures;
	char mesh_ip[64];
	uint32_t ip_pending;
	struct reg host, srv;
	uint64_t reg_retry_at;
	unsigned reg_failures;
	bool watching;
	/* mosquitto */
	pid_t child;
	uint64_t child_started, restart_at;
	unsigned restarts;
	int last_status;
	bool have_status;
	unsigned unreg_pending;
};

static struct broker *B; /* the one broker of this process, for callbacks */

/* set-up steps return this when SIGTERM/SIGINT came while they waited */
#define STOPPED (-1)

/* How long mosquitto may take to stop (it saves its database) before it is
 * killed: under the 10 s a container runtime waits before killing us. */
#define STOP_GRACE_MS 8000

static uint64_t backoff_ms(unsigned failures)
{
	uint64_t d = 1000;
	while (failures-- > 1 && d < 30000)
		d *= 2;
	if (d > 30000)
		d = 30000;
	return d / 2 + random_below((uint32_t)(d / 2 + 1));
}

/* ------------------------------------------------------------ registration */

static void reg_failed(struct broker *b, const char *what, const char *why, uint64_t now)
{
	b->reg_failures++;
	b->reg_retry_at = now + backoff_ms(b->reg_failures);
	if (b->reg_failures <= 3 || b->reg_failures % 10 == 0)
		log_warn("broker", "%s: %s; retrying in %llu ms", what, why,
			(unsigned long long)(b->reg_retry_at - now));
}

static void on_register(void *user, const dbus_msg_t *m, const char *err)
{
	struct reg *r = user;
	struct broker *b = B;
	const char *what = r == &b->host ? "RegisterDnsHost" : "RegisterDnsSRV";
	uint64_t now = clock_mono_ms();
	int32_t status = -1;
	char why[300];

	r->pending = 0;
	if (m == NULL) {
		reg_failed(b, what, err, now);
		return;
	}
	if (m->type == DBUS_ERROR) {
		const char *t = dbus_msg_error_text(m);
		fmt_snprintf(why, sizeof why, "%s%s%s", m->error_name, t != NULL ? ": " : "", t != NULL ? t : "");
		reg_failed(b, what, why, now);
		return;
	}
	if (vh_register_result(m, &status, r->token, sizeof r->token) != 0) {
		fmt_snprintf(why, sizeof why, "unexpected reply signature '%s'", m->signature);
		reg_failed(b, what, why, now);
		return;
	}
	if (status != 0) {
		fmt_snprintf(why, sizeof why, "status %d", status);
		r->token[0] = '\0';
		reg_failed(b, what, why, now);
		return;
	}
	r->done = true;
	b->reg_failures = 0;
	if (r == &b->host)
		log_info("broker", "registered DNS host %s -> %s", VH_BROKER_HOST, b->mesh_ip);
	else
		log_info("broker", "registered DNS SRV _%s._tcp.%s -> %s:%u", VH_SRV_SERVICE,
			VH_SRV_DOMAIN, VH_BROKER_HOST, b->cfg.mesh_port);
}

static void on_mesh_ip(void *user, const dbus_msg_t *m, const char *err)
{
	struct broker *b = user;
	uint64_t now = clock_mono_ms();
	dbus_iter_t it;
	dbus_value_t v;
	b->ip_pending = 0;
	if (m == NULL || m->type == DBUS_ERROR) {
		reg_failed(b, "GetMeshIPAddress", m == NULL ? err : m->error_name, now);
		return;
	}
	dbus_iter_init(&it, m);
	if (strcmp(m->signature, "s") != 0 || dbus_iter_get(&it, &v) != DBUS_OK || v.len == 0 ||
	    v.len >= sizeof b->mesh_ip) {
		reg_failed(b, "GetMeshIPAddress", "not an address string", now);
		return;
	}
	memcpy(b->mesh_ip, v.s, v.len + 1);
}

static void on_owner_changed(void *user, const dbus_msg_t *m)
{
	struct broker *b = user;
	dbus_iter_t it;
	dbus_value_t name, old, neu;
	if (m->member == NULL || strcmp(m->member, "NameOwnerChanged") != 0)
		return;
	dbus_iter_init(&it, m);
	if (dbus_iter_get(&it, &name) != DBUS_OK || dbus_iter_get(&it, &old) != DBUS_OK ||
	    dbus_iter_get(&it, &neu) != DBUS_OK || strcmp(name.s, VH_NET) != 0)
		return;
	if (neu.len == 0) {
		log_warn("broker", "%s left the bus: the DNS records are gone with it", VH_NET);
	} else {
		log_info("broker", "%s (re)started: registering the DNS records again", VH_NET);
		b->reg_failures = 0;
		b->reg_retry_at = 0;
	}
	/* whatever it knew is gone: register again when it is back */
	b->host.done = b->srv.done = false;
	b->host.token[0] = b->srv.token[0] = '\0';
	if (b->cfg.mesh_broker_ip == NULL)
		b->mesh_ip[0] = '\0';
}

static void registration_step(struct broker *b, uint64_t now)
{
	char err[300];
	if (b->stopping)
		return;
	if (b->bus != NULL && bus_state(b->bus) == BUS_DEAD) {
		log_warn("broker", "system bus: %s", bus_error(b->bus));
		bus_close(b->bus);
		b->bus = NULL;
		b->watching = false;
		b->host.pending = b->srv.pending = b->ip_pending = 0;
		b->host.done = b->srv.done = false;
		b->bus_failures++;
		b->bus_retry_at = now + backoff_ms(b->bus_failures);
	}
	if (b->bus == NULL) {
		if (now < b->bus_retry_at)
			return;
		b->bus = bus_open(bus_system_address(), now, err, sizeof err);
		if (b->bus == NULL) {
			b->bus_failures++;
			b->bus_retry_at = now + backoff_ms(b->bus_failures);
			if (b->bus_failures <= 3 || b->bus_failures % 10 == 0)
				log_warn("broker", "system bus: %s", err);
			return;
		}
	}
	if (!b->watching) {
		bus_watch_name(b->bus, VH_NET, on_owner_changed, b, now);
		b->watching = true;
	}
	if (bus_state(b->bus) != BUS_READY || now < b->reg_retry_at)
		return;
	b->bus_failures = 0;
	if (b->mesh_ip[0] == '\0') {
		if (b->ip_pending == 0)
			b->ip_pending = bus_call_text(b->bus, VH_NET, VH_NET_PATH, VH_NET, "GetMeshIPAddress",
				NULL, 0, NULL, 10000, now, on_mesh_ip, b, err, sizeof err);
		return;
	}
	if (!b->host.done && b->host.pending == 0)
		b->host.pending = vh_register_host(b->bus, b->mesh_ip, now, on_register, &b->host, err, sizeof err);
	if (!b->srv.done && b->srv.pending == 0)
		b->srv.pending = vh_register_srv(b->bus, b->cfg.mesh_port, now, on_register, &b->srv, err, sizeof err);
}

static void on_unregister(void *user, const dbus_msg_t *m, const char *err)
{
	struct broker *b = user;
	if (b->unreg_pending > 0)
		b->unreg_pending--;
	if (m == NULL)
		log_warn("broker", "Unregister: %s", err);
	else if (m->type == DBUS_ERROR)
		log_warn("broker", "Unregister: %s", m->error_name);
}

/* Unregister both records, waiting at most 2 s for the answers. */
static void unregister_all(struct broker *b)
{
	char err[300];
	uint64_t now = clock_mono_ms(), until = now + 2000;
	if (b->bus == NULL || bus_state(b->bus) != BUS_READY)
		return;
	if (b->host.token[0] != '\0' && vh_unregister(b->bus, b->host.token, now, on_unregister, b, err, sizeof err) != 0)
		b->unreg_pending++;
	if (b->srv.token[0] != '\0' && vh_unregister(b->bus, b->srv.token, now, on_unregister, b, err, sizeof err) != 0)
		b->unreg_pending++;
	while (b->unreg_pending > 0 && (now = clock_mono_ms()) < until && bus_state(b->bus) != BUS_DEAD) {
		struct pollfd p;
		int have = bus_pollfd(b->bus, &p);
		if (have)
			net_poll(&p, 1, (int)(until - now));
		bus_process(b->bus, have ? &p : NULL, clock_mono_ms());
	}
	if (b->unreg_pending == 0)
		log_info("broker", "DNS records unregistered");
}

/* ------------------------------------------------------------ mosquitto */

static void start_mosquitto(struct broker *b, uint64_t now)
{
	char conf[4096];
	char *argv[] = { (char *)b->a.mosq, "-c", conf, NULL };
	pid_t pid;
	fmt_snprintf(conf, sizeof conf, "%s/mosquitto.conf", b->a.dir);
	pid = proc_spawn(argv, NULL);
	if (pid < 0) {
		b->restarts++;
		b->restart_at = now + backoff_ms(b->restarts);
		log_error("broker", "cannot start %s: %s", b->a.mosq, strerror((int)-pid));
		return;
	}
	b->child = pid;
	b->child_started = now;
	log_info("broker", "mosquitto started (pid %ld)", (long)pid);
}

static void reap_children(struct broker *b, uint64_t now)
{
	int status;
	pid_t pid;
	while ((pid = proc_reap(&status)) > 0) {
		if (pid != b->child)
			continue; /* as PID 1 we also collect orphans */
		b->child = 0;
		b->last_status = proc_exit_code(status);
		b->have_status = true;
		if (b->stopping) {
			log_info("broker", "mosquitto exited with status %d", b->last_status);
			continue;
		}
		if (now - b->child_started > 60000)
			b->restarts = 0; /* it ran fine for a while */
		b->restarts++;
		b->restart_at = now + backoff_ms(b->restarts);
		log_warn("broker", "mosquitto exited with status %d; restarting in %llu ms",
			b->last_status, (unsigned long long)(b->restart_at - now));
	}
}

/* ------------------------------------------------------------ set-up */

static int load_config(struct broker *b)
{
	const char *path = config_path(b->a.config);
	unsigned waits = 0;
	for (;;) {
		config_diag_t d;
		config_status_t st;
		config_diag_init(&d);
		st = config_load(path, &b->cfg, &d);
		if (st == CONFIG_ERR_IO && d.sys_errno == ENOENT && !b->a.check) {
			/* the hub may mount it after we start: wait, as the template did */
			config_diag_free(&d);
			config_free(&b->cfg);
			if (waits++ % 10 == 0)
				log_warn("broker", "no configuration at %s yet; checking again every 30 s", path);
			for (int i = 0; i < 300; i++) {
				int sig = proc_signal_next(b->sigfd);
				if (sig == SIGTERM || sig == SIGINT)
					return STOPPED;
				clock_sleep_ms(100);
			}
			continue;
		}
		if (st == CONFIG_OK || st == CONFIG_ERR_INVALID)
			st = config_check(&b->cfg, CONFIG_ROLE_BROKER, &d);
		for (size_t i = 0; i < d.n; i++)
			log_msg(d.msgs[i].sev == CONFIG_SEV_ERROR ? LOG_ERROR : LOG_WARN, "config", "%s",
				d.msgs[i].text);
		config_diag_free(&d);
		if (st == CONFIG_ERR_NOMEM) {
			/* the messages may be lost with the memory: say it here, and
			 * as no configuration error (a restart may well succeed) */
			log_error("broker", "cannot load %s: %s", path, config_strerror(st));
			return EXIT_UNAVAILABLE;
		}
		if (st == CONFIG_ERR_IO)
			return EXIT_NOINPUT;
		if (st != CONFIG_OK)
			return EXIT_CONFIG;
		if (b->cfg.state[CONFIG_KEY_LOG_LEVEL] == CONFIG_SET && getenv("DMQTT_LOG_LEVEL") == NULL)
			log_set_level((enum log_level)b->cfg.log_level);
		return 0;
	}
}

static int identity(struct broker *b)
{
	char uuid[KDF_UUID_MAX + 1], err[300];
	bus_t *bus = NULL;
	unsigned tries = 0;
	for (;;) {
		if (vh_serial(&bus, b->serial, sizeof b->serial, 3000, err, sizeof err) == 0 &&
		    vh_mesh_uuid(&bus, uuid, sizeof uuid, 3000, err, sizeof err) == 0)
			break;
		if (b->a.check) {
			log_error("broker", "VeeaHub Info service: %s", err);
			bus_close(bus);
			return EXIT_UNAVAILABLE;
		}
		if (tries++ % 10 == 0)
			log_warn("broker", "waiting for the VeeaHub services: %s", err);
		for (int i = 0; i < 30; i++) {
			int sig = proc_signal_next(b->sigfd);
			if (sig == SIGTERM || sig == SIGINT) {
				bus_close(bus);
				return STOPPED;
			}
			clock_sleep_ms(100);
		}
	}
	bus_close(bus);
	if (kdf_mesh_credentials(uuid, strlen(uuid), (const uint8_t *)b->cfg.mesh_secret_salt,
		b->cfg.mesh_secret_salt != NULL ? strlen(b->cfg.mesh_secret_salt) : 0,
		b->user, sizeof b->user, b->pass, sizeof b->pass) != KDF_OK) {
		log_error("broker", "the mesh UUID from D-Bus is empty or too long");
		return EXIT_CONFIG;
	}
	memset(uuid, 0, sizeof uuid);
	return 0;
}

static int write_files(struct broker *b)
{
	mosq_params_t p;
	char err[4200];
	int changed = 0, r;
	struct stat st;

	memset(&p, 0, sizeof p);
	p.dir = b->a.dir;
	p.serial = b->serial;
	p.mesh_user = b->user;
	p.mesh_pass = b->pass;
	p.listen_addr = b->a.listen;
	p.cfg = &b->cfg;
	p.uid = (uid_t)-1;
	p.gid = (gid_t)-1;
	if (geteuid() == 0) {
		/* mosquitto started as root drops to this user before it reads
		 * the password file, ACL and CA: they belong to that user, 0600 */
		const char *name = b->a.user != NULL ? b->a.user : "mosquitto";
		r = proc_user_ids("/etc/passwd", name, &p.uid, &p.gid);
		if (r < 0) {
			log_error("broker", "no user '%s' to run mosquitto as (--mosquitto-user): /etc/passwd: %s",
				name, r == -ENOENT ? "no such user" : strerror(-r));
			return EXIT_CONFIG;
		}
		p.run_as = name;
	}
	if (stat(b->a.dir, &st) != 0 && mkdir(b->a.dir, 0755) != 0) {
		log_error("broker", "cannot create %s: %s", b->a.dir, strerror(errno));
		return EXIT_CANTCREAT;
	}
	r = mosq_write_all(&p, &changed, err, sizeof err);
	if (r != 0) {
		log_error("broker", "%s", err);
		return EXIT_CANTCREAT;
	}
	log_info("broker", "mosquitto files in %s: %d written, the rest unchanged", b->a.dir, changed);
	return 0;
}

int cmd_broker(int argc, char **argv)
{
	static struct broker b;
	char *pos[1];
	int npos, r;

	memset(&b, 0, sizeof b);
	B = &b;
	b.a.dir = "/etc/mosquitto";
	b.a.mosq = "mosquitto";
	r = cli_parse(argc, argv, broker_opts, sizeof broker_opts / sizeof broker_opts[0], on_opt, &b.a,
		pos, 0, &npos);
	if (r != 0)
		return r < 0 ? EXIT_OK : r;
	if (b.a.norun && b.a.check)
		return cli_usage_error("broker", "--no-run and --check exclude each other");
	if (b.a.listen != NULL) {
		net_addr_t tmp;
		if (net_addr_literal(b.a.listen, 1, &tmp) != 0)
			return cli_usage_error("broker", "--listen-address needs an IP address");
	}
	b.sigfd = proc_signals_init();
	if (b.sigfd < 0) {
		/* as PID 1 without it: no reaping, no clean stop; do not start */
		log_error("broker", "cannot set up signal handling: %s", strerror(-b.sigfd));
		return EXIT_UNAVAILABLE;
	}
	if ((r = load_config(&b)) != 0)
		goto out;
	if (b.cfg.mesh_broker_ip != NULL)
		fmt_snprintf(b.mesh_ip, sizeof b.mesh_ip, "%s", b.cfg.mesh_broker_ip);
	if ((r = identity(&b)) != 0)
		goto out;
	if (b.a.check) {
		/* the Networking service must answer too */
		char err[300];
		bus_t *bus = bus_open(bus_system_address(), clock_mono_ms(), err, sizeof err);
		uint8_t buf[1024];
		dbus_msg_t m;
		memset(&m, 0, sizeof m);
		if (bus == NULL || bus_call_wait(bus, VH_NET, VH_NET_PATH, VH_NET, "GetMeshIPAddress", NULL,
			0, NULL, 3000, buf, sizeof buf, &m, err, sizeof err) != 0 || m.type == DBUS_ERROR) {
			log_error("broker", "VeeaHub Networking service: %s",
				bus == NULL || m.type != DBUS_ERROR ? err : m.error_name);
			bus_close(bus);
			r = EXIT_UNAVAILABLE;
			goto out;
		}
		bus_close(bus);
		fmt_printf("ok: configuration valid, VeeaHub services answer (serial %s)\n", b.serial);
		r = EXIT_OK;
		goto out;
	}
	if ((r = write_files(&b)) != 0)
		goto out;
	if (!b.a.norun)
		start_mosquitto(&b, clock_mono_ms());
	for (;;) {
		struct pollfd p[2];
		int np = 0, bi = -1, sig, timeout = 1000, t;
		uint64_t now = clock_mono_ms();

		registration_step(&b, now);
		if (b.a.norun && b.host.done && b.srv.done) {
			log_info("broker", "--no-run: files written and records registered");
			r = EXIT_OK;
			break;
		}
		if (b.stopping && b.child == 0)
			break;
		p[np].fd = b.sigfd;
		p[np++].events = POLLIN;
		if (b.bus != NULL && bus_pollfd(b.bus, &p[np]))
			bi = np++;
		if (b.bus != NULL && (t = bus_timeout_ms(b.bus, now)) >= 0 && t < timeout)
			timeout = t;
		if (b.reg_retry_at > now && (int)(b.reg_retry_at - now) < timeout)
			timeout = (int)(b.reg_retry_at - now);
		if (b.stopping && b.child > 0 && b.kill_at != 0) {
			if (now >= b.kill_at) {
				/* seen with mosquitto 2.0.11 spinning in a stuck TLS
				 * bridge: it never acts on SIGTERM (docs/faults.md) */
				log_warn("broker", "mosquitto (pid %ld) did not stop within %d s; killing it",
					(long)b.child, STOP_GRACE_MS / 1000);
				kill(b.child, SIGKILL);
				b.kill_at = 0;
			} else if ((int)(b.kill_at - now) < timeout) {
				timeout = (int)(b.kill_at - now);
			}
		}
		if (!b.stopping && !b.a.norun && b.child == 0) {
			if (now >= b.restart_at)
				start_mosquitto(&b, now);
			else if ((int)(b.restart_at - now) < timeout)
				timeout = (int)(b.restart_at - now);
		}
		for (int i = 0; i < np; i++)
			p[i].revents = 0;
		net_poll(p, (nfds_t)np, timeout);
		now = clock_mono_ms();
		if (b.bus != NULL)
			bus_process(b.bus, bi >= 0 ? &p[bi] : NULL, now);
		while ((sig = proc_signal_next(b.sigfd)) != 0) {
			if (sig == SIGCHLD) {
				reap_children(&b, now);
			} else if (sig == SIGHUP) {
				if (b.child > 0)
					kill(b.child, SIGHUP); /* mosquitto reloads */
			} else if (!b.stopping) {
				log_info("broker", "stopping (signal %d)", sig);
				b.stopping = true;
				b.stop_signal = sig;
				unregister_all(&b);
				if (b.child > 0) {
					kill(b.child, sig);
					b.kill_at = clock_mono_ms() + STOP_GRACE_MS;
				}
				if (b.a.norun) {
					r = 128 + sig;
					goto out;
				}
			}
		}
	}
	if (!b.a.norun)
		r = b.have_status ? b.last_status : EXIT_OK;
	/* mosquitto ends with 0 on SIGTERM/SIGINT; pass that on */
out:
	if (r == STOPPED)
		r = EXIT_OK; /* asked to stop while waiting: a clean exit */
	bus_close(b.bus);
	config_free(&b.cfg);
	memset(b.pass, 0, sizeof b.pass);
	return r;
}
