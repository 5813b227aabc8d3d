/* bus.c -- see bus.h */
#include "src/bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "platform/clock.h"
#include "platform/fmt.h"
#include "platform/log.h"
#include "platform/net.h"

#define BUS_MAX_CALLS 32
#define BUS_RX_MAX (4u << 20)   /* a larger message ends the connection */
#define BUS_TX_MAX (1u << 20)   /* a larger call is refused */
#define BUS_MAX_WATCH 4
#define BUS_DRIVER "org.freedesktop.DBus"
#define BUS_DRIVER_PATH "/org/freedesktop/DBus"

struct call {
	uint32_t serial;        /* 0: free */
	uint64_t deadline;
	bus_reply_fn fn;
	void *user;
};

/*
 * tx is the one buffer of bytes to send.  bus_open puts the SASL AUTH
 * line, BEGIN and Hello in it at once; until the server's OK only the AUTH
 * line (hold bytes) may go out, then everything.  Calls made meanwhile
 * queue behind Hello (pipelined, as sd-bus does: the daemon handles Hello
 * first), so nothing else orders them.  A call is marshalled straight
 * into tx and, once authenticated, sent at once: one send per call.
 * Hello is an ordinary entry of the call table, whose 10 s deadline is
 * the whole connection's (SASL included).
 */
struct bus {
	bus_state_t state;
	int fd;
	int authed;             /* SASL done */
	uint32_t serial;
	size_t hold;            /* before SASL is done: tx bytes that may go */
	uint8_t *rx, *tx;       /* received, not yet framed; to send */
	size_t rxcap, rxlen, txcap, txlen;
	dbus_sasl_t sasl;
	struct call calls[BUS_MAX_CALLS];
	struct { bus_signal_fn fn; void *user; } watch[BUS_MAX_WATCH];
	int nwatch;
	char err[200];
};

const char *bus_system_address(void)
{
	const char *a = getenv("DBUS_SYSTEM_BUS_ADDRESS");
	return a != NULL && *a != '\0' ? a : "unix:path=/var/run/dbus/system_bus_socket";
}

/* Forget call i, then tell its owner (who may start another call). */
static void finish(bus_t *b, int i, const dbus_msg_t *m, const char *err)
{
	struct call c = b->calls[i];
	b->calls[i].serial = 0;
	c.fn(c.user, m, err);
}

/* The connection is over: why = what, then detail. */
static void die(bus_t *b, const char *what, const char *detail)
{
	if (b->state == BUS_DEAD)
		return;
	fmt_snprintf(b->err, sizeof b->err, "%s%s", what, detail);
	b->state = BUS_DEAD;
	close(b->fd);
	b->fd = -1;
	for (int i = 0; i < BUS_MAX_CALLS; i++)
		if (b->calls[i].serial != 0)
			finish(b, i, NULL, b->err);
}

/* Room for n more bytes after the first len of *buf; NULL: no memory. */
static uint8_t *grow(uint8_t **buf, size_t *cap, size_t len, size_t n)
{
	size_t nc = *cap != 0 ? *cap : 4096;
	while (nc - len < n)
		nc *= 2;
	if (nc != *cap) {
		uint8_t *nb = realloc(*buf, nc);
		if (nb == NULL)
			return NULL;
		*buf = nb;
		*cap = nc;
	}
	return *buf + len;
}

/* Send what may go now; < 0 (IO_ERR) when the connection failed: the
 * caller decides when to die -- not inside bus_call_text, whose caller
 * must not see a callback run before it returns. */
static int flush(bus_t *b)
{
	for (;;) {
		size_t n = b->authed ? b->txlen : b->hold;
		long w;
		if (n == 0)
			return 0;
		w = net_fd_send(b->fd, b->tx, n);
		if (w <= 0)
			return (int)w;
		memmove(b->tx, b->tx + w, b->txlen - (size_t)w);
		b->txlen -= (size_t)w;
		if (!b->authed)
			b->hold -= (size_t)w;
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Connect one "unix:path=..." or "unix:abstract=..." entry. */
static int connect_one(const char *e, size_t n, char *err, size_t errcap)
{
	struct sockaddr_un sa;
	const char *kv = e + 5, *end = e + n, *why = "unsupported transport";
	size_t vlen = 0;
	int abstract = -1, fd;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (n < 5 || memcmp(e, "unix:", 5) != 0)
		goto bad;
	while (kv < end) {
		const char *comma = memchr(kv, ',', (size_t)(end - kv));
		const char *stop = comma != NULL ? comma : end;
		const char *eq = memchr(kv, '=', (size_t)(stop - kv));
		size_t klen = eq != NULL ? (size_t)(eq - kv) : 0;
		if ((klen == 4 && memcmp(kv, "path", 4) == 0) ||
		    (klen == 8 && memcmp(kv, "abstract", 8) == 0)) {
			/* the value, %xx escapes decoded, after the abstract NUL */
			abstract = klen == 8;
			vlen = (size_t)abstract;
			for (const char *s = eq + 1; s < stop; s++) {
				int c = (unsigned char)*s, hi, lo;
				why = "bad escape";
				if (c == '%') {
					if (stop - s < 3 || (hi = hexval(s[1])) < 0 || (lo = hexval(s[2])) < 0)
						goto bad;
					c = hi << 4 | lo;
					s += 2;
				}
				why = "socket path too long";
				if (vlen + 1 >= sizeof sa.sun_path)
					goto bad;
				sa.sun_path[vlen++] = (char)c;
			}
		}
		kv = stop + (comma != NULL);
	}
	why = "no path= or abstract=";
	if (abstract < 0)
		goto bad;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* a path's length counts its NUL, an abstract name's does not */
	if (connect(fd, (struct sockaddr *)&sa,
		(socklen_t)(offsetof(struct sockaddr_un, sun_path) + vlen + !abstract)) != 0 &&
	    errno != EINPROGRESS) {
		int e2 = errno;
		fmt_snprintf(err, errcap, "cannot connect to the bus at %s%s: %s",
			abstract ? "@" : "", sa.sun_path + abstract, strerror(e2));
		close(fd);
		return -e2;
	}
	return fd;
bad:
	fmt_snprintf(err, errcap, "bus address '%.*s': %s", (int)n, e, why);
	return -EINVAL;
}

static void on_hello(void *user, const dbus_msg_t *m, const char *err)
{
	bus_t *b = user;

	/* no answer in time (or the connection died already: no-op) */
	(void)err;
	if (m == NULL)
		die(b, "no answer from the bus while connecting", "");
	else if (m->type == DBUS_ERROR)
		die(b, "the bus refused Hello: ", m->error_name);
	else
		b->state = BUS_READY;   /* (its answer, our unique name, is not used) */
}

bus_t *bus_open(const char *address, uint64_t now, char *err, size_t errcap)
{
	bus_t *b;
	const char *p = address;
	int fd = -ENOENT;
	uint8_t *t;

	fmt_snprintf(err, errcap, "empty bus address");
	while (*p != '\0') {
		const char *semi = strchr(p, ';');
		size_t len = semi != NULL ? (size_t)(semi - p) : strlen(p);
		if (len > 0 && (fd = connect_one(p, len, err, errcap)) >= 0)
			break;
		p += len + (semi != NULL);
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
	/* AUTH, BEGIN and Hello: only AUTH goes out before the server's OK */
	t = grow(&b->tx, &b->txcap, 0, DBUS_SASL_START_MAX + 7);
	if (t != NULL) {
		b->hold = dbus_sasl_start(&b->sasl, (uint32_t)geteuid(), t, DBUS_SASL_START_MAX);
		memcpy(t + b->hold, "BEGIN\r\n", 7);
		b->txlen = b->hold + 7;
	}
	/* the whole connection (SASL and Hello) has Hello's 10 s */
	if (t == NULL || bus_call_text(b, BUS_DRIVER, BUS_DRIVER_PATH, BUS_DRIVER, "Hello", NULL,
		0, NULL, 10000, now, on_hello, b, err, errcap) == 0) {
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
	die(b, "bus connection closed", "");
	free(b->rx);
	free(b->tx);
	free(b);
}

bus_state_t bus_state(const bus_t *b) { return b->state; }
const char *bus_error(const bus_t *b) { return b->err; }

uint32_t bus_call_text(bus_t *b, const char *dest, const char *path,
	const char *iface, const char *member, const char *sig, int argc,
	char *const argv[], uint32_t timeout_ms, uint64_t now,
	bus_reply_fn fn, void *user, char *err, size_t errcap)
{
	dbus_msg_t h;
	dbus_status_t st = DBUS_E_SPACE;
	size_t cap, len = 0;
	int argi = 0, i;

	if (b->state == BUS_DEAD) {
		fmt_snprintf(err, errcap, "%s", b->err[0] != '\0' ? b->err : "bus connection is closed");
		return 0;
	}
	memset(&h, 0, sizeof h);
	h.type = DBUS_METHOD_CALL;
	if (++b->serial == 0)
		b->serial = 1;
	h.serial = b->serial;
	h.destination = dest;
	h.path = path;
	h.interface = iface;
	h.member = member;
	h.signature = sig != NULL && *sig != '\0' ? sig : NULL;
	/* marshal in place, after what is queued; room grows to 1 MiB */
	for (cap = 4096; st == DBUS_E_SPACE && cap <= BUS_TX_MAX; cap *= 4) {
		uint8_t *p = grow(&b->tx, &b->txcap, b->txlen, cap);
		if (p == NULL) {
			fmt_snprintf(err, errcap, "out of memory");
			return 0;
		}
		st = dbus_msg_call_text(p, cap, &h, argc, argv, &len, &argi);
	}
	if (st != DBUS_OK) {
		if ((st == DBUS_E_ARG || st == DBUS_E_ARGC) && argi < argc)
			fmt_snprintf(err, errcap, "%s at '%s'", dbus_strerror(st), argv[argi]);
		else
			fmt_snprintf(err, errcap, "%s", dbus_strerror(st));
		return 0;
	}
	for (i = 0; i < BUS_MAX_CALLS && b->calls[i].serial != 0; i++)
		;
	if (i == BUS_MAX_CALLS) {
		fmt_snprintf(err, errcap, "too many calls in flight");
		return 0;
	}
	b->calls[i].serial = h.serial;
	b->calls[i].deadline = now + timeout_ms;
	b->calls[i].fn = fn;
	b->calls[i].user = user;
	b->txlen += len;
	/* straight out, which saves a poll round; a failure shows in bus_process */
	if (b->authed)
		flush(b);
	return h.serial;
}

/* AddMatch's answer: only a refusal is logged (without an answer the
 * connection went away, or the daemon was slow: the bus state tells) */
static void ignore_reply(void *user, const dbus_msg_t *m, const char *err)
{
	(void)user;
	(void)err;
	if (m != NULL && m->type == DBUS_ERROR)
		log_warn("dbus", "AddMatch refused: %s", m->error_name);
}

void bus_watch_name(bus_t *b, const char *name, bus_signal_fn fn, void *user, uint64_t now)
{
	char rule[512], err[64];
	char *argv[1] = { rule };
	if (b->nwatch < BUS_MAX_WATCH) {
		b->watch[b->nwatch].fn = fn;
		b->watch[b->nwatch].user = user;
		b->nwatch++;
	}
	fmt_snprintf(rule, sizeof rule, DBUS_MATCH_OWNER_CHANGED("%s"), name);
	bus_call_text(b, BUS_DRIVER, BUS_DRIVER_PATH, BUS_DRIVER, "AddMatch", "s", 1, argv,
		10000, now, ignore_reply, NULL, err, sizeof err);
}

int bus_pollfd(bus_t *b, struct pollfd *p)
{
	if (b->state == BUS_DEAD)
		return 0;
	p->fd = b->fd;
	p->events = (short)(POLLIN | ((b->authed ? b->txlen : b->hold) > 0 ? POLLOUT : 0));
	p->revents = 0;
	return 1;
}

int bus_timeout_ms(bus_t *b, uint64_t now)
{
	uint64_t d = UINT64_MAX;
	if (b->state == BUS_DEAD)
		return -1;
	for (int i = 0; i < BUS_MAX_CALLS; i++)
		if (b->calls[i].serial != 0 && b->calls[i].deadline < d)
			d = b->calls[i].deadline;
	if (d == UINT64_MAX)
		return -1;
	return d <= now ? 0 : (d - now > 600000 ? 600000 : (int)(d - now));
}

/* Everything complete in rx: the SASL answer first, then messages. */
static void handle_rx(bus_t *b)
{
	size_t used = 0, need = 0;
	dbus_status_t st;
	dbus_msg_t m;

	if (!b->authed) {
		uint8_t out[DBUS_SASL_BEGIN_MAX];   /* "BEGIN": already queued */
		size_t outlen;
		st = dbus_sasl_input(&b->sasl, b->rx, b->rxlen, &used, out, sizeof out, &outlen);
		if (st == DBUS_NEED_MORE)
			return;
		if (st != DBUS_OK) {
			die(b, "bus authentication failed: ", dbus_strerror(st));
			return;
		}
		b->authed = 1;
	}
	while ((st = dbus_frame(b->rx + used, b->rxlen - used, BUS_RX_MAX, &need)) == DBUS_OK) {
		st = dbus_msg_parse(&m, b->rx + used, need);
		if (st != DBUS_OK)
			log_warn("dbus", "dropped a malformed message from the bus: %s", dbus_strerror(st));
		else if (m.type == DBUS_SIGNAL)
			for (int i = 0; i < b->nwatch; i++)
				b->watch[i].fn(b->watch[i].user, &m);
		else if (m.type == DBUS_METHOD_RETURN || m.type == DBUS_ERROR)
			for (int i = 0; i < BUS_MAX_CALLS; i++)
				if (b->calls[i].serial == m.reply_serial) {
					finish(b, i, &m, NULL);
					break;
				}
		/* replies nobody waits for (timed out) and calls to us: dropped */
		if (b->state == BUS_DEAD)
			return;
		used += need;
	}
	if (st != DBUS_NEED_MORE) {
		die(b, "bad message from the bus: ", dbus_strerror(st));
		return;
	}
	memmove(b->rx, b->rx + used, b->rxlen - used);
	b->rxlen -= used;
}

void bus_process(bus_t *b, const struct pollfd *p, uint64_t now)
{
	if (b->state == BUS_DEAD)
		return;
	if (p != NULL && p->fd == b->fd && p->revents != 0) {
		long n = flush(b);
		/* read what arrived: one read when it leaves room to spare */
		while (n >= 0) {
			size_t room;
			if (grow(&b->rx, &b->rxcap, b->rxlen, 4096) == NULL) {
				die(b, "out of memory", "");
				return;
			}
			room = b->rxcap - b->rxlen;
			n = net_fd_recv(b->fd, b->rx + b->rxlen, room);
			if (n <= 0)
				break;
			b->rxlen += (size_t)n;
			handle_rx(b);
			if (b->state == BUS_DEAD)
				return;
			if ((size_t)n < room)
				break;
		}
		/* answers may have queued more output (and SASL's OK freed it) */
		if (n >= 0)
			n = flush(b);
		if (n < 0) {
			die(b, n == IO_EOF ? "the bus closed the connection" : "bus connection lost", "");
			return;
		}
	}
	for (int i = 0; i < BUS_MAX_CALLS; i++)
		if (b->calls[i].serial != 0 && now >= b->calls[i].deadline)
			finish(b, i, NULL, "no reply in time");
}

struct waiter {
	int done, rc;
	uint8_t *buf;
	size_t cap;
	dbus_msg_t *reply;
	char *err;
	size_t errcap;
};

static void wait_reply(void *user, const dbus_msg_t *m, const char *err)
{
	struct waiter *w = user;
	w->done = 1;
	if (m == NULL) {
		fmt_snprintf(w->err, w->errcap, "%s", err);
	} else if (m->len > w->cap) {
		fmt_snprintf(w->err, w->errcap, "reply of %u bytes is too large", m->len);
	} else {
		/* the same bytes parse the same, pointing into buf now */
		memcpy(w->buf, m->msg, m->len);
		dbus_msg_parse(w->reply, w->buf, m->len);
		w->rc = 0;
	}
}

int bus_call_wait(bus_t *b, const char *dest, const char *path, const char *iface,
	const char *member, const char *sig, int argc, char *const argv[],
	uint32_t timeout_ms, uint8_t *buf, size_t cap, dbus_msg_t *reply,
	char *err, size_t errcap)
{
	struct waiter w;

	memset(reply, 0, sizeof *reply);
	w = (struct waiter){ 0, -1, buf, cap, reply, err, errcap };
	if (bus_call_text(b, dest, path, iface, member, sig, argc, argv, timeout_ms,
		clock_mono_ms(), wait_reply, &w, err, errcap) == 0)
		return b->state == BUS_DEAD ? -1 : -2; /* -2: the call did not marshal */
	/* the callback runs exactly once: reply, timeout or a dead bus */
	while (!w.done) {
		struct pollfd p;
		int have = bus_pollfd(b, &p);
		/* have is 1: a dead bus has failed our call already */
		net_poll(&p, (nfds_t)have, bus_timeout_ms(b, clock_mono_ms()));
		bus_process(b, have ? &p : NULL, clock_mono_ms());
	}
	return w.rc;
}
