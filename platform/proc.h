/*
 * proc.h -- child processes and signals.
 *
 * Signals are turned into bytes on a self-pipe so a poll loop sees them like
 * any other input (no work is done inside a handler).
 */
#ifndef DMQTT_PROC_H
#define DMQTT_PROC_H

#include <sys/types.h>

/*
 * Start argv[0] (a path, or a name looked up in PATH) with argv, no shell.
 * stdin is /dev/null.  If out_fd is not NULL, stdout and stderr go to a
 * non-blocking pipe whose read end is stored there; otherwise they are
 * inherited.  The child gets default signal dispositions and mask.
 * Returns the pid, or -errno (including exec failures, reported back from
 * the child through a close-on-exec pipe).
 */
pid_t proc_spawn(char *const argv[], int *out_fd);

/*
 * Route SIGTERM, SIGINT, SIGHUP and SIGCHLD to a self-pipe and ignore
 * SIGPIPE.  Returns the pipe's non-blocking read end (poll it), or -errno.
 */
int proc_signals_init(void);
/* Next pending signal number from the self-pipe, 0 when none. */
int proc_signal_next(int fd);

/* Reap one exited child without blocking: its pid (status in *status), 0
 * when none has exited, -ECHILD when there are no children. */
pid_t proc_reap(int *status);

/* Exit status in the shell's convention: code, or 128 + signal. */
int proc_exit_code(int status);

/*
 * The user and group ids of user name in the passwd file at path
 * (normally "/etc/passwd": name:password:uid:gid:...; what getpwnam reads
 * from files, without the C library's NSS/nscd machinery).  Returns 0,
 * -ENOENT when no line names the user (or a line's ids are not numbers),
 * or the -errno of reading the file.
 */
int proc_user_ids(const char *path, const char *name, uid_t *uid, gid_t *gid);

#endif
