/* bus.c -- see bus.h */
#include "src/bus.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "platform/clock.h"
#include "platform/log.h"
#include "platform/net.h"
#include "platform/fmt.h"

#define BUS_MAX_CALLS 32
#define BUS_RX_MAX (4u << 20)   /* larger messages end the connection */
#define BUS_MAX_WATCH 4

struct call {
	uint32_t serial;        /* 0: free */
	uint64_t deadline;
	bus_reply_fn fn;
	void *user;
};

struct bus {
	bus_state_t state;
	int fd;
	char err[200];
	char unique[256];
	dbus_sasl_t sasl;
	int phase;              /* 0 connect, 1 sasl, 2 hello, 3 ready */
	uint32_t serial;
	uint32_t hello_serial;
	uint64_t connect_deadline;
	/* rx */
	uint8_t *rx;
	size_t rxcap, rxlen;
	/* tx: bytes on the wire side (SASL lines, messages after BEGIN) and
	 * messages queued until Hello is answered */
	uint8_t *tx;
	size_t txcap, txlen;
	uint8_t *q;
	size_t qcap, qlen;
	struct call calls[BUS_MAX_CALLS];
	struct { bus_signal_fn fn; void *user; } watch[BUS_MAX_WATCH];
	int nwatch;
};

const char *bus_system_address(void)
{
	const char *a = getenv("DBUS_SYSTEM_BUS_ADDRESS");
	return a != NULL && *a != '\0' ? a : "unix:path=/var/run/dbus/system_bus_socket";
}

static void die(bus_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail_calls(bus_t *b, const char *why)
{
	for (int i = 0; i < BUS_MAX_CALLS; i++) {
		struct call c = b->calls[i];
		if (c.serial == 0)
			continue;
		b->calls[i].serial = 0;
		c.fn(c.user, NULL, why);
	}
}

static void die(bus_t *b, const char *fmt, ...)
{
	va_list ap;
	if (b->state == BUS_DEAD)
		return;
	va_start(ap, fmt);
	fmt_vsnprintf(b->err, sizeof b->err, fmt, ap);
	va_end(ap);
	b->state = BUS_DEAD;
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
	fail_calls(b, b->err);
}

static int append(uint8_t **buf, size_t *cap, size_t *len, const void *p, size_t n)
{
	if (*len + n > *cap) {
		size_t nc = *cap == 0 ? 4096 : *cap;
		uint8_t *nb;
		while (nc < *len + n)
			nc *= 2;
		nb = realloc(*buf, nc);
		if (nb == NULL)
			return -1;
		*buf = nb;
		*cap = nc;
	}
	memcpy(*buf + *len, p, n);
	*len += n;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode %xx escapes of a D-Bus address value. */
static int unescape(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= n || (hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

/* Connect one "unix:path=..." or "unix:abstract=..." entry. */
static int connect_one(const char *e, size_t n, char *err, size_t errcap)
{
	struct sockaddr_un sa;
	const char *kv, *end = e + n;
	char val[sizeof sa.sun_path + 1];
	int abstract = -1, fd;
	socklen_t len;

	if (n < 5 || memcmp(e, "unix:", 5) != 0) {
		fmt_snprintf(err, errcap, "unsupported bus address transport in '%.*s'", (int)n, e);
		return -EINVAL;
	}
	for (kv = e + 5; kv < end;) {
		const char *comma = memchr(kv, ',', (size_t)(end - kv));
		const char *stop = comma != NULL ? comma : end;
		const char *eq = memchr(kv, '=', (size_t)(stop - kv));
		if (eq != NULL) {
			size_t klen = (size_t)(eq - kv);
			if ((klen == 4 && memcmp(kv, "path", 4) == 0) ||
			    (klen == 8 && memcmp(kv, "abstract", 8) == 0)) {
				if (unescape(eq + 1, (size_t)(stop - eq - 1), val, sizeof val) != 0) {
					fmt_snprintf(err, errcap, "bad escape or too long a path in bus address");
					return -EINVAL;
				}
				abstract = klen == 8;
			}
		}
		kv = stop + (comma != NULL ? 1 : 0);
	}
	if (abstract < 0) {
		fmt_snprintf(err, errcap, "bus address '%.*s' has no path= or abstract=", (int)n, e);
		return -EINVAL;
	}
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(val) + (size_t)abstract >= sizeof sa.sun_path) {
		fmt_snprintf(err, errcap, "bus socket path too long");
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path + abstract, val, strlen(val));
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)abstract + strlen(val) +
		(abstract ? 0 : 1));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, len) != 0 && errno != EINPROGRESS) {
		int e2 = errno;
		fmt_snprintf(err, errcap, "cannot connect to the bus at %s%s: %s",
			abstract ? "@" : "", val, strerror(e2));
		close(fd);
		return -e2;
	}
	return fd;
}

bus_t *bus_open(const char *address, uint64_t now, char *err, size_t errcap)
{
	bus_t *b;
	const char *p = address;
	int fd = -ENOENT;
	uint8_t start[DBUS_SASL_START_MAX];
	size_t n;

	fmt_snprintf(err, errcap, "empty bus address");
	while (*p != '\0') {
		const char *semi = strchr(p, ';');
		size_t len = semi != NULL ? (size_t)(semi - p) : strlen(p);
		if (len > 0) {
			fd = connect_one(p, len, err, errcap);
			if (fd >= 0)
				break;
		}
		p += len + (semi != NULL ? 1 : 0);
	}
	if (fd < 0)
		return NULL;
	b = calloc(1, sizeof *b);
	if (b == NULL) {
		close(fd);
		fmt_snprintf(err, errcap, "out of memory");
		return NULL;
	}
	b->fd = fd;
	b->state = BUS_CONNECTING;
	b->phase = 1;
	b->connect_deadline = now + 10000;
	n = dbus_sasl_start(&b->sasl, (uint32_t)geteuid(), start, sizeof start);
	if (n == 0 || append(&b->tx, &b->txcap, &b->txlen, start, n) != 0) {
		bus_close(b);
		fmt_snprintf(err, errcap, "out of memory");
		return NULL;
	}
	return b;
}

void bus_close(bus_t *b)
{
	if (b == NULL)
		return;
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
	b->state = BUS_DEAD;
	fail_calls(b, "bus connection closed");
	free(b->rx);
	free(b->tx);
	free(b->q);
	free(b);
}

bus_state_t bus_state(const bus_t *b) { return b->state; }
const char *bus_error(const bus_t *b) { return b->err; }
const char *bus_unique_name(const bus_t *b) { return b->unique; }

static uint32_t next_serial(bus_t *b)
{
	if (++b->serial == 0)
		b->serial = 1;
	return b->serial;
}

/* Queue a whole message: straight out when ready, else after Hello. */
static int queue_msg(bus_t *b, const uint8_t *m, size_t n)
{
	if (b->phase == 3) {
		/* nothing ahead of it: try the socket now and save a poll round */
		if (b->txlen == 0 && b->fd >= 0) {
			long w = net_fd_send(b->fd, m, n);
			if (w > 0) {
				m += w;
				n -= (size_t)w;
			}
			if (n == 0)
				return 0;
		}
		return append(&b->tx, &b->txcap, &b->txlen, m, n);
	}
	return append(&b->q, &b->qcap, &b->qlen, m, n);
}

static int add_call(bus_t *b, uint32_t serial, uint64_t deadline, bus_reply_fn fn, void *user)
{
	for (int i = 0; i < BUS_MAX_CALLS; i++)
		if (b->calls[i].serial == 0) {
			b->calls[i].serial = serial;
			b->calls[i].deadline = deadline;
			b->calls[i].fn = fn;
			b->calls[i].user = user;
			return 0;
		}
	return -1;
}

uint32_t bus_call_text(bus_t *b, const char *dest, const char *path,
	const char *iface, const char *member, const char *sig, int argc,
	char *const argv[], uint32_t timeout_ms, uint64_t now,
	bus_reply_fn fn, void *user, char *err, size_t errcap)
{
	dbus_msg_t h;
	uint8_t *buf;
	size_t cap = 4096, len = 0;
	dbus_status_t st;
	int argi = 0;

	if (b->state == BUS_DEAD) {
		fmt_snprintf(err, errcap, "%s", b->err[0] != '\0' ? b->err : "bus connection is closed");
		return 0;
	}
	memset(&h, 0, sizeof h);
	h.type = DBUS_METHOD_CALL;
	h.serial = next_serial(b);
	h.destination = dest;
	h.path = path;
	h.interface = iface;
	h.member = member;
	h.signature = sig != NULL && *sig != '\0' ? sig : NULL;
	for (;;) {
		buf = malloc(cap);
		if (buf == NULL) {
			fmt_snprintf(err, errcap, "out of memory");
			return 0;
		}
		st = dbus_msg_call_text(buf, cap, &h, argc, argv, &len, &argi);
		if (st != DBUS_E_SPACE || cap >= (1u << 20))
			break;
		free(buf);
		cap *= 4;
	}
	if (st != DBUS_OK) {
		if (st == DBUS_E_ARG || st == DBUS_E_ARGC)
			fmt_snprintf(err, errcap, "%s %s%s%s", dbus_strerror(st),
				argi < argc ? "at '" : "", argi < argc ? argv[argi] : "",
				argi < argc ? "'" : "");
		else
			fmt_snprintf(err, errcap, "%s", dbus_strerror(st));
		free(buf);
		return 0;
	}
	if (add_call(b, h.serial, now + timeout_ms, fn, user) != 0 || queue_msg(b, buf, len) != 0) {
		fmt_snprintf(err, errcap, "too many calls in flight");
		free(buf);
		return 0;
	}
	free(buf);
	return h.serial;
}

static void ignore_reply(void *user, const dbus_msg_t *m, const char *err)
{
	(void)user;
	if (m == NULL)
		log_debug("dbus", "AddMatch: %s", err);
	else if (m->type == DBUS_ERROR)
		log_warn("dbus", "AddMatch refused: %s", m->error_name);
}

void bus_watch_name(bus_t *b, const char *name, bus_signal_fn fn, void *user, uint64_t now)
{
	char rule[512];
	uint8_t buf[1024];
	size_t len;
	uint32_t serial;
	if (b->nwatch < BUS_MAX_WATCH) {
		b->watch[b->nwatch].fn = fn;
		b->watch[b->nwatch].user = user;
		b->nwatch++;
	}
	fmt_snprintf(rule, sizeof rule, "type='signal',sender='org.freedesktop.DBus',"
		"path='/org/freedesktop/DBus',interface='org.freedesktop.DBus',"
		"member='NameOwnerChanged',arg0='%s'", name);
	serial = next_serial(b);
	if (dbus_msg_add_match(buf, sizeof buf, serial, rule, &len) == DBUS_OK &&
	    add_call(b, serial, now + 10000, ignore_reply, NULL) == 0)
		queue_msg(b, buf, len);
}

int bus_pollfd(bus_t *b, struct pollfd *p)
{
	if (b->state == BUS_DEAD || b->fd < 0)
		return 0;
	p->fd = b->fd;
	p->events = (short)(POLLIN | (b->txlen > 0 ? POLLOUT : 0));
	p->revents = 0;
	return 1;
}

int bus_timeout_ms(bus_t *b, uint64_t now)
{
	uint64_t d = UINT64_MAX;
	if (b->state == BUS_DEAD)
		return -1;
	if (b->state == BUS_CONNECTING)
		d = b->connect_deadline;
	for (int i = 0; i < BUS_MAX_CALLS; i++)
		if (b->calls[i].serial != 0 && b->calls[i].deadline < d)
			d = b->calls[i].deadline;
	if (d == UINT64_MAX)
		return -1;
	return d <= now ? 0 : (d - now > 600000 ? 600000 : (int)(d - now));
}

static void dispatch(bus_t *b, const dbus_msg_t *m)
{
	if (m->type == DBUS_METHOD_RETURN || m->type == DBUS_ERROR) {
		if (m->reply_serial == b->hello_serial && b->phase == 2) {
			if (m->type == DBUS_ERROR) {
				die(b, "the bus refused Hello: %s", m->error_name);
				return;
			}
			{
				dbus_iter_t it;
				dbus_value_t v;
				dbus_iter_init(&it, m);
				if (dbus_iter_get(&it, &v) == DBUS_OK && v.type == 's')
					fmt_snprintf(b->unique, sizeof b->unique, "%s", v.s);
			}
			b->phase = 3;
			b->state = BUS_READY;
			if (b->qlen > 0) {
				append(&b->tx, &b->txcap, &b->txlen, b->q, b->qlen);
				b->qlen = 0;
			}
			return;
		}
		for (int i = 0; i < BUS_MAX_CALLS; i++)
			if (b->calls[i].serial != 0 && b->calls[i].serial == m->reply_serial) {
				struct call c = b->calls[i];
				b->calls[i].serial = 0;
				c.fn(c.user, m, NULL);
				return;
			}
		return; /* a reply nobody waits for (timed out): dropped */
	}
	if (m->type == DBUS_SIGNAL)
		for (int i = 0; i < b->nwatch; i++)
			b->watch[i].fn(b->watch[i].user, m);
	/* method calls to us are not expected: ignored */
}

static void handle_rx(bus_t *b)
{
	for (;;) {
		if (b->phase == 1) {
			uint8_t out[DBUS_SASL_BEGIN_MAX], hello[256];
			size_t used = 0, outlen = 0, hlen;
			dbus_status_t st = dbus_sasl_input(&b->sasl, b->rx, b->rxlen, &used, out,
				sizeof out, &outlen);
			if (st == DBUS_NEED_MORE)
				return;
			if (st != DBUS_OK) {
				die(b, "bus authentication failed: %s", dbus_strerror(st));
				return;
			}
			memmove(b->rx, b->rx + used, b->rxlen - used);
			b->rxlen -= used;
			b->hello_serial = next_serial(b);
			if (dbus_msg_hello(hello, sizeof hello, b->hello_serial, &hlen) != DBUS_OK ||
			    append(&b->tx, &b->txcap, &b->txlen, out, outlen) != 0 ||
			    append(&b->tx, &b->txcap, &b->txlen, hello, hlen) != 0) {
				die(b, "out of memory");
				return;
			}
			b->phase = 2;
			continue;
		}
		{
			size_t need = 0;
			dbus_msg_t m;
			dbus_status_t st = dbus_frame(b->rx, b->rxlen, BUS_RX_MAX, &need);
			if (st == DBUS_NEED_MORE)
				return;
			if (st != DBUS_OK) {
				die(b, "bad message from the bus: %s", dbus_strerror(st));
				return;
			}
			st = dbus_msg_parse(&m, b->rx, need);
			if (st == DBUS_OK)
				dispatch(b, &m);
			else
				log_warn("dbus", "dropped a malformed message from the bus: %s", dbus_strerror(st));
			if (b->state == BUS_DEAD)
				return;
			memmove(b->rx, b->rx + need, b->rxlen - need);
			b->rxlen -= need;
		}
	}
}

void bus_process(bus_t *b, const struct pollfd *p, uint64_t now)
{
	if (b->state == BUS_DEAD)
		return;
	if (p != NULL && p->fd == b->fd && p->revents != 0) {
		/* write what is queued */
		while (b->txlen > 0) {
			long n = net_fd_send(b->fd, b->tx, b->txlen);
			if (n < 0) {
				die(b, "bus connection lost while sending");
				return;
			}
			if (n == 0)
				break;
			memmove(b->tx, b->tx + n, b->txlen - (size_t)n);
			b->txlen -= (size_t)n;
		}
		/* read what arrived */
		for (;;) {
			long n;
			if (b->rxcap - b->rxlen < 4096) {
				size_t nc = b->rxcap == 0 ? 8192 : b->rxcap * 2;
				uint8_t *nb;
				if (nc > BUS_RX_MAX + 8192) {
					die(b, "message from the bus over %u bytes", BUS_RX_MAX);
					return;
				}
				nb = realloc(b->rx, nc);
				if (nb == NULL) {
					die(b, "out of memory");
					return;
				}
				b->rx = nb;
				b->rxcap = nc;
			}
			n = net_fd_recv(b->fd, b->rx + b->rxlen, b->rxcap - b->rxlen);
			if (n == 0)
				break;
			if (n < 0) {
				die(b, n == IO_EOF ? "the bus closed the connection" : "bus connection lost");
				return;
			}
			b->rxlen += (size_t)n;
			handle_rx(b);
			if (b->state == BUS_DEAD)
				return;
			if ((size_t)n < 4096)
				break; /* a short read drained the socket: no EAGAIN round */
		}
		/* answers may have queued more output */
		while (b->txlen > 0) {
			long n = net_fd_send(b->fd, b->tx, b->txlen);
			if (n <= 0) {
				if (n < 0)
					die(b, "bus connection lost while sending");
				break;
			}
			memmove(b->tx, b->tx + n, b->txlen - (size_t)n);
			b->txlen -= (size_t)n;
		}
	}
	if (b->state == BUS_CONNECTING && now >= b->connect_deadline) {
		die(b, "no answer from the bus while connecting");
		return;
	}
	for (int i = 0; i < BUS_MAX_CALLS; i++)
		if (b->calls[i].serial != 0 && now >= b->calls[i].deadline) {
			struct call c = b->calls[i];
			b->calls[i].serial = 0;
			c.fn(c.user, NULL, "no reply in time");
		}
}

struct waiter {
	bool done;
	int rc;
	uint8_t *buf;
	size_t cap;
	dbus_msg_t *reply;
	char *err;
	size_t errcap;
};

static void wait_reply(void *user, const dbus_msg_t *m, const char *err)
{
	struct waiter *w = user;
	w->done = true;
	if (m == NULL) {
		fmt_snprintf(w->err, w->errcap, "%s", err);
		w->rc = -1;
		return;
	}
	if (m->len > w->cap) {
		fmt_snprintf(w->err, w->errcap, "reply of %u bytes is too large", m->len);
		w->rc = -1;
		return;
	}
	memcpy(w->buf, m->msg, m->len);
	if (dbus_msg_parse(w->reply, w->buf, m->len) != DBUS_OK) {
		fmt_snprintf(w->err, w->errcap, "reply does not parse");
		w->rc = -1;
		return;
	}
	w->rc = 0;
}

int bus_call_wait(bus_t *b, const char *dest, const char *path, const char *iface,
	const char *member, const char *sig, int argc, char *const argv[],
	uint32_t timeout_ms, uint8_t *buf, size_t cap, dbus_msg_t *reply,
	char *err, size_t errcap)
{
	struct waiter w;
	uint64_t now = clock_mono_ms();
	memset(reply, 0, sizeof *reply);
	w.done = false;
	w.rc = -1;
	w.buf = buf;
	w.cap = cap;
	w.reply = reply;
	w.err = err;
	w.errcap = errcap;
	if (bus_call_text(b, dest, path, iface, member, sig, argc, argv, timeout_ms, now,
		wait_reply, &w, err, errcap) == 0)
		return bus_state(b) == BUS_DEAD ? -1 : -2; /* -2: the call did not marshal */
	while (!w.done) {
		struct pollfd p;
		int have = bus_pollfd(b, &p), t;
		now = clock_mono_ms();
		t = bus_timeout_ms(b, now);
		if (have)
			net_poll(&p, 1, t);
		else if (t > 0)
			clock_sleep_ms((uint32_t)t);
		bus_process(b, have ? &p : NULL, clock_mono_ms());
		if (bus_state(b) == BUS_DEAD && !w.done) {
			fmt_snprintf(err, errcap, "%s", bus_error(b));
			return -1;
		}
	}
	return w.rc;
}
