/* Unit tests for platform/ (files, addresses, randomness, processes) and
 * the CLI helpers in src/cli.c. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "platform/clock.h"
#include "platform/file.h"
#include "platform/net.h"
#include "platform/proc.h"
#include "platform/random.h"
#include "src/cli.h"

static char tmpdir[64];

static const char *tmp_path(const char *name)
{
	static char p[128];
	if (tmpdir[0] == '\0') {
		strcpy(tmpdir, "/tmp/dmqtt-unit.XXXXXX");
		CHECK(mkdtemp(tmpdir) != NULL);
	}
	snprintf(p, sizeof p, "%s/%s", tmpdir, name);
	return p;
}

static void file_atomic_write_and_read(void)
{
	char path[128], *buf = NULL;
	size_t len = 0;
	struct stat st;
	snprintf(path, sizeof path, "%s", tmp_path("secret"));
	CHECK_INT(file_write_atomic(path, "abc", 3, 0600, (uid_t)-1, (gid_t)-1), 0);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	CHECK_INT(file_read(path, 100, &buf, &len), 0);
	CHECK_MEM(buf, len, "abc", 3);
	CHECK_INT(buf[3], 0);
	free(buf);
	CHECK(file_same(path, "abc", 3, 0600));
	CHECK(!file_same(path, "abd", 3, 0600));
	CHECK(!file_same(path, "abc", 3, 0644));
	/* replace: new content, mode changes with it */
	CHECK_INT(file_write_atomic(path, "hello", 5, 0640, (uid_t)-1, (gid_t)-1), 0);
	CHECK(file_same(path, "hello", 5, 0640));
	unlink(path);
}

static void file_failed_write_keeps_original(void)
{
	char path[128];
	snprintf(path, sizeof path, "%s", tmp_path("keep"));
	CHECK_INT(file_write_atomic(path, "old", 3, 0644, (uid_t)-1, (gid_t)-1), 0);
	/* a folder in the way of the temporary name's rename target fails late */
	CHECK(file_write_atomic("/nonexistent-dir/x", "new", 3, 0644, (uid_t)-1, (gid_t)-1) < 0);
	CHECK(file_same(path, "old", 3, 0644));
	unlink(path);
}

static void file_read_caps_size(void)
{
	char path[128], *buf = NULL;
	size_t len = 0;
	snprintf(path, sizeof path, "%s", tmp_path("big"));
	CHECK_INT(file_write_atomic(path, "0123456789", 10, 0644, (uid_t)-1, (gid_t)-1), 0);
	CHECK_INT(file_read(path, 9, &buf, &len), -EFBIG);
	CHECK_INT(file_read(path, 10, &buf, &len), 0);
	free(buf);
	CHECK_INT(file_read(tmp_path("missing"), 10, &buf, &len), -ENOENT);
	CHECK_INT(file_read("/", 10, &buf, &len), -EISDIR);
	unlink(path);
}

static void file_read_proc_file(void)
{
	char *buf = NULL;
	size_t len = 0;
	/* /proc files report size 0: the reader must grow its buffer */
	CHECK_INT(file_read("/proc/self/status", 1 << 20, &buf, &len), 0);
	CHECK(len > 0);
	CHECK(strstr(buf, "Pid:") != NULL);
	free(buf);
}

static void net_split(void)
{
	char host[64];
	uint16_t port = 1;
	CHECK_INT(net_split_hostport("broker.local:8883", host, sizeof host, &port), 0);
	CHECK_STR(host, "broker.local");
	CHECK_INT(port, 8883);
	port = 7;
	CHECK_INT(net_split_hostport("broker", host, sizeof host, &port), 0);
	CHECK_STR(host, "broker");
	CHECK_INT(port, 7);
	CHECK_INT(net_split_hostport("[::1]:1883", host, sizeof host, &port), 0);
	CHECK_STR(host, "::1");
	CHECK_INT(port, 1883);
	CHECK_INT(net_split_hostport("fe80::1", host, sizeof host, &port), 0);
	CHECK_STR(host, "fe80::1");
	CHECK_INT(net_split_hostport("h:0", host, sizeof host, &port), -EINVAL);
	CHECK_INT(net_split_hostport("h:65536", host, sizeof host, &port), -EINVAL);
	CHECK_INT(net_split_hostport("h:", host, sizeof host, &port), -EINVAL);
	CHECK_INT(net_split_hostport("h:12a", host, sizeof host, &port), -EINVAL);
	CHECK_INT(net_split_hostport(":1883", host, sizeof host, &port), -EINVAL);
	CHECK_INT(net_split_hostport("[::1", host, sizeof host, &port), -EINVAL);
	CHECK_INT(net_split_hostport("abcdefgh:1", host, 4, &port), -ENAMETOOLONG);
}

static void net_literals_and_hosts(void)
{
	net_addr_t a[4];
	char text[NET_ADDR_STRLEN], hosts[128];
	FILE *f;
	CHECK_INT(net_addr_literal("127.0.0.1", 1883, &a[0]), 0);
	net_addr_format(&a[0], text, sizeof text);
	CHECK_STR(text, "127.0.0.1:1883");
	CHECK_INT(net_addr_literal("::1", 8883, &a[0]), 0);
	net_addr_format(&a[0], text, sizeof text);
	CHECK_STR(text, "[::1]:8883");
	CHECK_INT(net_addr_literal("1.2.3", 1, &a[0]), -EINVAL);
	CHECK_INT(net_addr_literal("name", 1, &a[0]), -EINVAL);

	snprintf(hosts, sizeof hosts, "%s", tmp_path("hosts"));
	f = fopen(hosts, "w");
	CHECK(f != NULL);
	fputs("# comment\n10.0.0.7 men.mesh men # trailing\n\n  fd00::7\tmen6\n", f);
	fclose(f);
	CHECK_INT(net_resolve_local("MEN", 1883, hosts, a, 4), 1);
	net_addr_format(&a[0], text, sizeof text);
	CHECK_STR(text, "10.0.0.7:1883");
	CHECK_INT(net_resolve_local("men6", 1, hosts, a, 4), 1);
	CHECK_INT(a[0].ss.ss_family, AF_INET6);
	CHECK_INT(net_resolve_local("other.example", 1, hosts, a, 4), 0);
	CHECK_INT(net_resolve_local("localhost", 5, hosts, a, 4), 2);
	CHECK_INT(net_resolve_local("192.0.2.1", 5, hosts, a, 4), 1);
	unlink(hosts);
}

static void net_loopback_tcp(void)
{
	net_addr_t a;
	struct sockaddr_in sin;
	socklen_t sl = sizeof sin;
	struct pollfd pfd;
	int lfd, cfd, sfd;
	uint8_t buf[8];
	io_transport_t io;
	net_tcp_t tcp;

	CHECK_INT(net_addr_literal("127.0.0.1", 0, &a), 0);
	/* port 0 is not valid for net_split_hostport but fine for listen */
	lfd = net_tcp_listen(&a, 4);
	CHECK(lfd >= 0);
	CHECK_INT(getsockname(lfd, (struct sockaddr *)&sin, &sl), 0);
	CHECK_INT(net_addr_literal("127.0.0.1", ntohs(sin.sin_port), &a), 0);
	cfd = net_tcp_connect(&a);
	CHECK(cfd >= 0);
	pfd.fd = cfd;
	pfd.events = POLLOUT;
	CHECK_INT(net_poll(&pfd, 1, 2000), 1);
	CHECK_INT(net_connect_result(cfd), 0);
	pfd.fd = lfd;
	pfd.events = POLLIN;
	CHECK_INT(net_poll(&pfd, 1, 2000), 1);
	sfd = accept(lfd, NULL, NULL);
	CHECK(sfd >= 0);
	net_tcp_transport(&tcp, cfd, &io);
	CHECK_INT(io.recv(io.ctx, buf, sizeof buf), 0); /* nothing yet: would block */
	CHECK_INT(io.send(io.ctx, (const uint8_t *)"ping", 4), 4);
	CHECK_INT(read(sfd, buf, 4), 4);
	CHECK_MEM(buf, 4, "ping", 4);
	close(sfd);
	pfd.fd = cfd;
	pfd.events = POLLIN;
	CHECK_INT(net_poll(&pfd, 1, 2000), 1);
	CHECK_INT(io.recv(io.ctx, buf, sizeof buf), IO_EOF);
	io.close(io.ctx);
	CHECK_INT(tcp.fd, -1);
	close(lfd);
}

static void net_refused(void)
{
	net_addr_t a;
	struct pollfd pfd;
	int lfd, fd;
	struct sockaddr_in sin;
	socklen_t sl = sizeof sin;
	/* find a port nobody listens on: bind, read it back, close */
	CHECK_INT(net_addr_literal("127.0.0.1", 0, &a), 0);
	lfd = net_tcp_listen(&a, 1);
	CHECK(lfd >= 0);
	CHECK_INT(getsockname(lfd, (struct sockaddr *)&sin, &sl), 0);
	close(lfd);
	CHECK_INT(net_addr_literal("127.0.0.1", ntohs(sin.sin_port), &a), 0);
	fd = net_tcp_connect(&a);
	if (fd < 0) {
		CHECK_INT(fd, -ECONNREFUSED);
		return;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	CHECK_INT(net_poll(&pfd, 1, 2000), 1);
	CHECK_INT(net_connect_result(fd), -ECONNREFUSED);
	close(fd);
}

static void random_works(void)
{
	uint8_t a[32], b[32];
	uint32_t hist[4] = { 0 };
	CHECK_INT(random_bytes(a, sizeof a), 0);
	CHECK_INT(random_bytes(b, sizeof b), 0);
	CHECK(memcmp(a, b, sizeof a) != 0);
	for (int i = 0; i < 4000; i++) {
		uint32_t v = random_below(4);
		CHECK(v < 4);
		hist[v]++;
	}
	for (int i = 0; i < 4; i++)
		CHECK(hist[i] > 800 && hist[i] < 1200);
}

static void clock_moves_forward(void)
{
	uint64_t t0 = clock_mono_ms(), t1;
	clock_sleep_ms(20);
	t1 = clock_mono_ms();
	CHECK(t1 >= t0 + 19);
	CHECK(clock_wall_s() > 1700000000);
}

static void proc_spawn_captures_output(void)
{
	char *argv[] = { "echo", "hello", NULL };
	char buf[64];
	int fd = -1, status = 0;
	size_t n = 0;
	pid_t pid = proc_spawn(argv, &fd), got;
	CHECK(pid > 0);
	CHECK(fd >= 0);
	for (int i = 0; i < 200 && n < 6; i++) {
		ssize_t r = read(fd, buf + n, sizeof buf - n);
		if (r > 0)
			n += (size_t)r;
		else
			clock_sleep_ms(10);
	}
	close(fd);
	CHECK_MEM(buf, n, "hello\n", 6);
	while ((got = proc_reap(&status)) == 0)
		clock_sleep_ms(5);
	CHECK_INT(got, pid);
	CHECK_INT(proc_exit_code(status), 0);
}

static void proc_spawn_missing_program(void)
{
	char *argv[] = { "/nonexistent/program", NULL };
	CHECK_INT(proc_spawn(argv, NULL), -ENOENT);
}

static void proc_signal_pipe(void)
{
	int fd = proc_signals_init();
	CHECK(fd >= 0);
	CHECK_INT(proc_signal_next(fd), 0);
	raise(SIGHUP);
	CHECK_INT(proc_signal_next(fd), SIGHUP);
	signal(SIGHUP, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	close(fd);
}

struct seen { int n; int ids[8]; const char *args[8]; };
static int record(void *ctx, int id, const char *arg)
{
	struct seen *s = ctx;
	if (s->n < 8) {
		s->ids[s->n] = id;
		s->args[s->n] = arg;
		s->n++;
	}
	return id == 99 ? 42 : 0;
}

static void proc_user_ids_passwd(void)
{
	static const char pw[] =
		"root:x:0:0:root:/root:/bin/sh\n"
		"mosq:x:7:8::/:/bin/false\n"
		"mosquitto:x:101:102:mosquitto,,,:/var/lib/mosquitto:/usr/sbin/nologin\n"
		"bad:x:1x:2:::\n"
		"big:x:4294967296:1:::\n"
		"short:x:5\n"
		"last:x:4294967295:65534:::"; /* no final newline */
	char path[128];
	uid_t u = 0;
	gid_t g = 0;

	snprintf(path, sizeof path, "%s", tmp_path("passwd"));
	CHECK_INT(file_write_atomic(path, pw, sizeof pw - 1, 0644, (uid_t)-1, (gid_t)-1), 0);
	CHECK_INT(proc_user_ids(path, "mosquitto", &u, &g), 0);
	CHECK_INT(u, 101);
	CHECK_INT(g, 102);
	CHECK_INT(proc_user_ids(path, "mosq", &u, &g), 0); /* a prefix of another */
	CHECK_INT(u, 7);
	CHECK_INT(g, 8);
	CHECK_INT(proc_user_ids(path, "root", &u, &g), 0);
	CHECK_INT(u, 0);
	CHECK_INT(proc_user_ids(path, "last", &u, &g), 0);
	CHECK_INT(u, (uid_t)4294967295u);
	CHECK_INT(g, 65534);
	CHECK_INT(proc_user_ids(path, "bad", &u, &g), -ENOENT);
	CHECK_INT(proc_user_ids(path, "big", &u, &g), -ENOENT);
	CHECK_INT(proc_user_ids(path, "short", &u, &g), -ENOENT);
	CHECK_INT(proc_user_ids(path, "mosquit", &u, &g), -ENOENT);
	CHECK_INT(proc_user_ids(path, "", &u, &g), -ENOENT);
	CHECK_INT(proc_user_ids(path, "x", &u, &g), -ENOENT);
	unlink(path);
	CHECK_INT(proc_user_ids(path, "root", &u, &g), -ENOENT); /* the file is gone */
}

static void cli_parses_anywhere(void)
{
	static const struct cli_opt o[] = {
		{ "count", 'C', CLI_ARG, 1 }, { "verbose", 'v', CLI_NOARG, 2 },
		{ "retain", 'r', CLI_NOARG, 3 }, { "stop", 0, CLI_NOARG, 99 },
	};
	char *argv[] = { "sub", "pos1", "-C", "5", "--verbose", "-vr", "--count=7",
		"-C9", "--", "-x", NULL };
	char *pos[4];
	struct seen s = { 0 };
	int npos = 0;
	CHECK_INT(cli_parse(10, argv, o, 4, record, &s, pos, 4, &npos), 0);
	CHECK_INT(npos, 2);
	CHECK_STR(pos[0], "pos1");
	CHECK_STR(pos[1], "-x");
	CHECK_INT(s.n, 6);
	CHECK_INT(s.ids[0], 1);
	CHECK_STR(s.args[0], "5");
	CHECK_INT(s.ids[2], 2);
	CHECK_INT(s.ids[3], 3);
	CHECK_STR(s.args[4], "7");
	CHECK_STR(s.args[5], "9");
}

static void cli_errors(void)
{
	static const struct cli_opt o[] = { { "count", 'C', CLI_ARG, 1 }, { "stop", 0, CLI_NOARG, 99 } };
	char *a1[] = { "sub", "--bogus", NULL };
	char *a2[] = { "sub", "-C", NULL };
	char *a3[] = { "sub", "a", "b", NULL };
	char *a4[] = { "sub", "--stop", NULL };
	char *a5[] = { "sub", "--stop=1", NULL };
	char *pos[1];
	struct seen s = { 0 };
	int npos;
	int saved = dup(2), nul = open("/dev/null", O_WRONLY);
	/* the messages themselves are checked by test/integration/cli.sh */
	fflush(stderr);
	dup2(nul, 2);
	close(nul);
	CHECK_INT(cli_parse(2, a1, o, 2, record, &s, pos, 1, &npos), EXIT_USAGE);
	CHECK_INT(cli_parse(2, a2, o, 2, record, &s, pos, 1, &npos), EXIT_USAGE);
	CHECK_INT(cli_parse(3, a3, o, 2, record, &s, pos, 1, &npos), EXIT_USAGE);
	CHECK_INT(cli_parse(2, a4, o, 2, record, &s, pos, 1, &npos), 42);
	CHECK_INT(cli_parse(2, a5, o, 2, record, &s, pos, 1, &npos), EXIT_USAGE);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
}

static void cli_safe_escapes(void)
{
	char buf[96], big[200];
	CHECK_STR(cli_safe("ok", buf, sizeof buf), "ok");
	CHECK_STR(cli_safe("a\xff\x01", buf, sizeof buf), "a\\xff\\x01");
	CHECK_STR(cli_safe("caf\xc3\xa9", buf, sizeof buf), "caf\xc3\xa9");
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	cli_safe(big, buf, sizeof buf);
	CHECK(strlen(buf) <= 64);
	CHECK(strcmp(buf + strlen(buf) - 3, "...") == 0);
}

static void cli_numbers(void)
{
	long v = 0;
	CHECK_INT(cli_long("42", 0, 100, &v), 0);
	CHECK_INT(v, 42);
	CHECK_INT(cli_long("101", 0, 100, &v), -1);
	CHECK_INT(cli_long("4x", 0, 100, &v), -1);
	CHECK_INT(cli_long("", 0, 100, &v), -1);
	CHECK_INT(cli_long(" 4", 0, 100, &v), -1);
	CHECK_INT(cli_long("99999999999999999999", 0, 100, &v), -1);
}

UNIT_SUITE(platform,
	UNIT_CASE(file_atomic_write_and_read), UNIT_CASE(file_failed_write_keeps_original),
	UNIT_CASE(file_read_caps_size), UNIT_CASE(file_read_proc_file),
	UNIT_CASE(net_split), UNIT_CASE(net_literals_and_hosts), UNIT_CASE(net_loopback_tcp),
	UNIT_CASE(net_refused), UNIT_CASE(random_works), UNIT_CASE(clock_moves_forward),
	UNIT_CASE(proc_spawn_captures_output), UNIT_CASE(proc_spawn_missing_program),
	UNIT_CASE(proc_signal_pipe), UNIT_CASE(proc_user_ids_passwd),
	UNIT_CASE(cli_parses_anywhere), UNIT_CASE(cli_errors),
	UNIT_CASE(cli_safe_escapes), UNIT_CASE(cli_numbers))
