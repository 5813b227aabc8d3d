/*
 * mqtt_peak -- a command's own peak memory and CPU time, exactly.
 *
 *   mqtt_peak CMD [ARG]...
 *
 * Runs CMD (stdin, stdout and stderr inherited) and, when it exits, prints
 * one line to stderr:
 *
 *   peak_kb=N anon_kb=N file_kb=N cpu_s=N.NNN exit=N
 *
 * peak_kb is VmHWM of CMD's own address space, read from /proc/PID/status
 * at the moment it exits (a PTRACE_EVENT_EXIT stop: its memory is still
 * there); anon_kb and file_kb are RssAnon and RssFile at that moment.  cpu_s
 * is user + system time from wait4().
 *
 * Why not /usr/bin/time -f %M: ru_maxrss of a child also covers the
 * process image it had *before* execve (the kernel folds the old mm's
 * high-water mark in at exec), so GNU time reports its own forked copy,
 * ~420-500 KiB here, for any program smaller than that (a static
 * `int main(void){return 0;}` shows 444 KiB).  And on 6.x kernels the
 * counter behind ru_maxrss is read without summing per-CPU deltas, up to
 * ~100 KiB low for small processes.  VmHWM in /proc is summed.
 *
 * With MQTT_PEAK_SMAPS set, the resident size of each mapping at exit
 * (from /proc/PID/smaps) goes to stderr first.
 *
 * The tracer asks only for the exit event: no system call is stopped, and
 * signals are passed on unchanged.  Exit status: CMD's (128 + signal if
 * it was killed), 2 on a usage or tracing error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* "start-end path Rss kB" per mapping of /proc/PID/smaps, to stderr */
static void dump_smaps(pid_t pid)
{
	char path[64], line[512], map[320] = "";
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/smaps", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		char range[64], name[256] = "";
		long kb;
		if (sscanf(line, "%63s %*s %*s %*s %*s %255s", range, name) >= 1 &&
		    strchr(range, '-') != NULL && strchr(line, ':') != NULL &&
		    strncmp(line, "Rss:", 4) != 0 && line[0] != ' ' &&
		    strspn(range, "0123456789abcdef-") == strlen(range))
			snprintf(map, sizeof map, "%s %s", range, name);
		else if (sscanf(line, "Rss: %ld kB", &kb) == 1)
			fprintf(stderr, "  %-60s %5ld kB\n", map, kb);
	}
	fclose(f);
}

static long status_kb(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	return p != NULL ? strtol(p + strlen(key), NULL, 10) : -1;
}

int main(int argc, char **argv)
{
	char path[64], buf[4096];
	long peak = -1, anon = -1, file = -1;
	struct rusage ru;
	int st, fds[2];
	char go;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: mqtt_peak CMD [ARG]...\n");
		return 2;
	}
	if (pipe(fds) != 0)
		return 2;
	pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) { /* wait until the tracer is attached, then exec */
		close(fds[1]);
		if (read(fds[0], &go, 1) != 1)
			_exit(127);
		close(fds[0]);
		execvp(argv[1], argv + 1);
		fprintf(stderr, "mqtt_peak: %s: %s\n", argv[1], strerror(errno));
		_exit(127);
	}
	close(fds[0]);
	if (ptrace(PTRACE_SEIZE, pid, NULL, (void *)(long)PTRACE_O_TRACEEXIT) != 0) {
		fprintf(stderr, "mqtt_peak: ptrace: %s\n", strerror(errno));
		kill(pid, SIGKILL);
		return 2;
	}
	if (write(fds[1], "g", 1) != 1)
		return 2;
	close(fds[1]);
	for (;;) {
		if (wait4(pid, &st, 0, &ru) < 0) {
			if (errno == EINTR)
				continue;
			return 2;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st))
			break;
		if (!WIFSTOPPED(st))
			continue;
		if (st >> 8 == (SIGTRAP | (PTRACE_EVENT_EXIT << 8))) {
			FILE *f;
			size_t n;
			if (getenv("MQTT_PEAK_SMAPS") != NULL)
				dump_smaps(pid);
			snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
			if ((f = fopen(path, "r")) != NULL) {
				n = fread(buf, 1, sizeof buf - 1, f);
				buf[n] = '\0';
				fclose(f);
				peak = status_kb(buf, "VmHWM:");
				anon = status_kb(buf, "RssAnon:");
				file = status_kb(buf, "RssFile:");
			}
			ptrace(PTRACE_CONT, pid, NULL, NULL);
		} else if (st >> 16 == PTRACE_EVENT_STOP) {
			ptrace(PTRACE_CONT, pid, NULL, NULL); /* group-stop */
		} else {
			/* a signal for CMD: deliver it */
			ptrace(PTRACE_CONT, pid, NULL, (void *)(long)WSTOPSIG(st));
		}
	}
	fprintf(stderr, "peak_kb=%ld anon_kb=%ld file_kb=%ld cpu_s=%.3f exit=%d\n", peak, anon, file,
		(double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		(double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
		WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
