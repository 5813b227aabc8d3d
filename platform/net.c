/* net.c -- see net.h */
#define _GNU_SOURCE /* accept4 */
#include "platform/net.h"
#include "platform/fmt.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static int parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	if (*s == '\0')
		return -EINVAL;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 65535)
			return -EINVAL;
	}
	if (v == 0)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

static int copy_host(char *dst, size_t cap, const char *src, size_t n)
{
	if (n == 0)
		return -EINVAL;
	if (n >= cap)
		return -ENAMETOOLONG;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

int net_split_hostport(const char *s, char *host, size_t hostcap, uint16_t *port)
{
	const char *colon;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		int r;
		if (end == NULL)
			return -EINVAL;
		if ((r = copy_host(host, hostcap, s + 1, (size_t)(end - s - 1))) != 0)
			return r;
		if (end[1] == '\0')
			return 0;
		if (end[1] != ':')
			return -EINVAL;
		return parse_port(end + 2, port);
	}
	colon = strchr(s, ':');
	if (colon != NULL && strchr(colon + 1, ':') != NULL) /* bare IPv6 */
		return copy_host(host, hostcap, s, strlen(s));
	if (colon == NULL)
		return copy_host(host, hostcap, s, strlen(s));
	{
		int r = copy_host(host, hostcap, s, (size_t)(colon - s));
		return r != 0 ? r : parse_port(colon + 1, port);
	}
}

int net_addr_literal(const char *host, uint16_t port, net_addr_t *out)
{
	memset(out, 0, sizeof *out);
	{
		struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&out->ss;
		if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
			sin->sin_family = AF_INET;
			sin->sin_port = htons(port);
			out->len = sizeof *sin;
			return 0;
		}
	}
	{
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)&out->ss;
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(port);
			out->len = sizeof *sin6;
			return 0;
		}
	}
	return -EINVAL;
}

/* Look host up in a hosts file: "addr name alias..." lines, '#' comments. */
static int hosts_lookup(const char *host, uint16_t port, const char *path,
	net_addr_t *out, int max)
{
	char line[512];
	FILE *f = fopen(path != NULL ? path : "/etc/hosts", "re");
	int n = 0;

	if (f == NULL)
		return 0;
	while (n < max && fgets(line, sizeof line, f) != NULL) {
		char *save = NULL, *addr, *name, *hash = strchr(line, '#');
		if (hash != NULL)
			*hash = '\0';
		addr = strtok_r(line, " \t\r\n", &save);
		if (addr == NULL)
			continue;
		while ((name = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
			if (strcasecmp(name, host) == 0) {
				if (net_addr_literal(addr, port, &out[n]) == 0)
					n++;
				break;
			}
		}
	}
	fclose(f);
	return n;
}

int net_resolve_local(const char *host, uint16_t port, const char *hosts_path,
	net_addr_t *out, int max)
{
	if (max <= 0)
		return 0;
	if (net_addr_literal(host, port, &out[0]) == 0)
		return 1;
	{
		int n = hosts_lookup(host, port, hosts_path, out, max);
		if (n > 0)
			return n;
	}
	if (strcasecmp(host, "localhost") == 0 ||
	    (strlen(host) > 10 && strcasecmp(host + strlen(host) - 10, ".localhost") == 0)) {
		int n = 0;
		if (net_addr_literal("127.0.0.1", port, &out[n]) == 0)
			n++;
		if (n < max && net_addr_literal("::1", port, &out[n]) == 0)
			n++;
		return n;
	}
	return 0;
}

void net_addr_format(const net_addr_t *a, char *buf, size_t cap)
{
	char ip[FMT_INET_MAX] = "?";
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)&a->ss;
		fmt_inet((const unsigned char *)&sin->sin_addr, 4, ip, sizeof ip);
		fmt_snprintf(buf, cap, "%s:%u", ip, ntohs(sin->sin_port));
	} else if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)&a->ss;
		fmt_inet(sin6->sin6_addr.s6_addr, 16, ip, sizeof ip);
		fmt_snprintf(buf, cap, "[%s]:%u", ip, ntohs(sin6->sin6_port));
	} else {
		fmt_snprintf(buf, cap, "?");
	}
}

static int nb_socket(int family, int type)
{
	int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

int net_tcp_connect(const net_addr_t *a)
{
	int one = 1, fd = nb_socket(a->ss.ss_family, SOCK_STREAM);
	if (fd < 0)
		return fd;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len) != 0 && errno != EINPROGRESS) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

int net_connect_result(int fd)
{
	int err = 0;
	socklen_t len = sizeof err;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		return -errno;
	return -err;
}

int net_udp_connect(const net_addr_t *a)
{
	int fd = nb_socket(a->ss.ss_family, SOCK_DGRAM);
	if (fd < 0)
		return fd;
	/* connect() binds an ephemeral port chosen at random by the kernel and
	 * filters datagrams from any other source */
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len) != 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

int net_tcp_listen(const net_addr_t *a, int backlog)
{
	int one = 1, fd = nb_socket(a->ss.ss_family, SOCK_STREAM);
	if (fd < 0)
		return fd;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) != 0 || listen(fd, backlog) != 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

int net_tcp_accept(int lfd)
{
	int one = 1, fd;
	do
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

int net_poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
	int r = poll(fds, n, timeout_ms);
	if (r < 0 && errno == EINTR)
		return 0;
	return r < 0 ? -errno : r;
}

long net_fd_recv(int fd, uint8_t *buf, size_t len)
{
	for (;;) {
		ssize_t r = recv(fd, buf, len, 0);
		if (r > 0)
			return (long)r;
		if (r == 0)
			return len == 0 ? 0 : IO_EOF;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return IO_ERR;
	}
}

long net_fd_send(int fd, const uint8_t *buf, size_t len)
{
	for (;;) {
		ssize_t r = send(fd, buf, len, MSG_NOSIGNAL);
		if (r >= 0)
			return (long)r;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return IO_ERR;
	}
}

static long tcp_recv(void *ctx, uint8_t *buf, size_t len)
{
	return net_fd_recv(((net_tcp_t *)ctx)->fd, buf, len);
}

static long tcp_send(void *ctx, const uint8_t *buf, size_t len)
{
	return net_fd_send(((net_tcp_t *)ctx)->fd, buf, len);
}

static void tcp_close(void *ctx)
{
	net_tcp_t *t = ctx;
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

void net_tcp_transport(net_tcp_t *t, int fd, io_transport_t *out)
{
	t->fd = fd;
	out->ctx = t;
	out->recv = tcp_recv;
	out->send = tcp_send;
	out->events = NULL;
	out->close = tcp_close;
}
