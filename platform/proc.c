/* proc.c -- see proc.h */
#define _GNU_SOURCE
#include "platform/proc.h"
#include "platform/file.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int sig_wfd = -1;

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	if (sig_wfd >= 0)
		(void)!write(sig_wfd, &b, 1);
	errno = saved;
}

int proc_signals_init(void)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };
	struct sigaction sa;
	int p[2];

	/* first: a peer closing a socket must never kill us, even when the
	 * pipe cannot be made (the caller reports that and exits) */
	signal(SIGPIPE, SIG_IGN);
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0)
		return -errno;
	sig_wfd = p[1];
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);
	return p[0];
}

int proc_signal_next(int fd)
{
	unsigned char b;
	ssize_t r;
	do
		r = read(fd, &b, 1);
	while (r < 0 && errno == EINTR);
	return r == 1 ? b : 0;
}

pid_t proc_spawn(char *const argv[], int *out_fd)
{
	int ep[2], op[2] = { -1, -1 }, err = 0;
	pid_t pid;
	ssize_t r;

	if (pipe2(ep, O_CLOEXEC) != 0)
		return -errno;
	if (out_fd != NULL && pipe2(op, O_CLOEXEC) != 0) {
		err = -errno;
		close(ep[0]);
		close(ep[1]);
		return err;
	}
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(ep[0]);
		close(ep[1]);
		if (op[0] >= 0) {
			close(op[0]);
			close(op[1]);
		}
		return err;
	}
	if (pid == 0) {
		sigset_t none;
		int nul = open("/dev/null", O_RDONLY);
		static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGPIPE };
		for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
			signal(sigs[i], SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (nul >= 0) {
			dup2(nul, 0);
			if (nul > 2)
				close(nul);
		} else {
			close(0);
		}
		if (op[1] >= 0) {
			dup2(op[1], 1);
			dup2(op[1], 2);
		}
		execvp(argv[0], argv);
		err = errno;
		(void)!write(ep[1], &err, sizeof err);
		_exit(127);
	}
	close(ep[1]);
	if (op[1] >= 0)
		close(op[1]);
	do
		r = read(ep[0], &err, sizeof err);
	while (r < 0 && errno == EINTR);
	close(ep[0]);
	if (r == (ssize_t)sizeof err) { /* exec failed: collect the child */
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		if (op[0] >= 0)
			close(op[0]);
		return -err;
	}
	if (out_fd != NULL) {
		fcntl(op[0], F_SETFL, fcntl(op[0], F_GETFL) | O_NONBLOCK);
		*out_fd = op[0];
	}
	return pid;
}

pid_t proc_reap(int *status)
{
	pid_t p;
	do
		p = waitpid(-1, status, WNOHANG);
	while (p < 0 && errno == EINTR);
	return p < 0 ? -errno : p;
}

int proc_exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

/* the decimal field at *p, which must end at ':'; advances past it */
static int id_field(const char **p, const char *end, unsigned long *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (s == end || *s == ':')
		return -1;
	for (; s < end && *s != ':'; s++) {
		if (*s < '0' || *s > '9' || v > 0xffffffffu)
			return -1; /* v stays below 2^36: no overflow */
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (s == end || v > 0xffffffffu)
		return -1;
	*p = s + 1;
	*out = (unsigned long)v;
	return 0;
}

/* see proc.h */
int proc_user_ids(const char *path, const char *name, uid_t *uid, gid_t *gid)
{
	size_t nlen = strlen(name), len;
	char *buf;
	int r = file_read(path, 1u << 20, &buf, &len);

	if (r < 0)
		return r;
	r = -ENOENT;
	for (const char *line = buf, *end = buf + len; line < end;) {
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		const char *le = eol != NULL ? eol : end, *p;
		unsigned long u, g;

		if (nlen > 0 && (size_t)(le - line) > nlen && memcmp(line, name, nlen) == 0 &&
		    line[nlen] == ':') {
			p = memchr(line + nlen + 1, ':', (size_t)(le - (line + nlen + 1)));
			if (p != NULL) {
				p++;
				if (id_field(&p, le, &u) == 0 && id_field(&p, le, &g) == 0) {
					*uid = (uid_t)u;
					*gid = (gid_t)g;
					r = 0;
				}
			}
			break;
		}
		line = le + 1;
	}
	free(buf);
	return r;
}
