/*
 * net.h -- addresses, non-blocking sockets, poll, and the plain TCP
 * transport (an io_transport_t, see proto/io.h).
 *
 * Errors are -errno.  Nothing here blocks except net_poll.
 */
#ifndef DMQTT_NET_H
#define DMQTT_NET_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "proto/io.h"

typedef struct net_addr {
	struct sockaddr_storage ss;
	socklen_t len;
} net_addr_t;

/* Longest text form of an address with port: "[v6%scope]:65535". */
#define NET_ADDR_STRLEN 72

/*
 * Split "host", "host:port", "[v6]:port" or a bare IPv6 literal into host and
 * port.  *port is left unchanged when the text has none.  Returns 0, or
 * -EINVAL (bad syntax or port outside 1..65535), -ENAMETOOLONG.
 */
int net_split_hostport(const char *s, char *host, size_t hostcap, uint16_t *port);

/* Parse an IPv4 or IPv6 literal (no brackets) with a port.  0 or -EINVAL. */
int net_addr_literal(const char *host, uint16_t port, net_addr_t *out);

/*
 * Resolve host without DNS: IP literals, "localhost", then the hosts file
 * (hosts_path, NULL for /etc/hosts) as the system resolver would.  Fills up
 * to max addresses; returns how many (0: not known locally, ask DNS).
 */
int net_resolve_local(const char *host, uint16_t port, const char *hosts_path,
	net_addr_t *out, int max);

/* "1.2.3.4:1883" or "[::1]:1883" into buf. */
void net_addr_format(const net_addr_t *a, char *buf, size_t cap);

/* Start a non-blocking TCP connect.  Returns the fd (the connect may still be
 * in progress: wait for POLLOUT, then net_connect_result), or -errno. */
int net_tcp_connect(const net_addr_t *a);
/* After POLLOUT on a connecting fd: 0 connected, or -errno (e.g. refused). */
int net_connect_result(int fd);

/* A non-blocking UDP socket of the family of a, bound to a random port chosen
 * by the kernel and connected to a (so only its datagrams are received). */
int net_udp_connect(const net_addr_t *a);

/* A listening non-blocking TCP socket on a (SO_REUSEADDR). */
int net_tcp_listen(const net_addr_t *a, int backlog);

/* Accept one connection: a non-blocking, close-on-exec socket with
 * TCP_NODELAY, or -errno (-EAGAIN when none is waiting). */
int net_tcp_accept(int lfd);

/* poll() that returns 0 on EINTR (a signal woke us: caller re-checks). */
int net_poll(struct pollfd *fds, nfds_t n, int timeout_ms);

/* The plain TCP transport: wraps a connected non-blocking fd. */
typedef struct net_tcp {
	int fd;
} net_tcp_t;
void net_tcp_transport(net_tcp_t *t, int fd, io_transport_t *out);

/* recv/send on a non-blocking fd with the io.h contract. */
long net_fd_recv(int fd, uint8_t *buf, size_t len);
long net_fd_send(int fd, const uint8_t *buf, size_t len);

#endif
