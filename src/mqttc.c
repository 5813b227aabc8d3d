/* mqttc.c -- see mqttc.h */
#include "src/mqttc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "platform/log.h"
#include "platform/random.h"
#include "platform/fmt.h"

struct mqttc {
	mqttc_config_t cfg;
	mqttc_hooks_t h;
	mqtt_session_t s;
	mqttc_state_t state;
	bool stopping;
	/* buffers */
	uint8_t *rx, *tx, *store;
	mqtt_inflight_t *slots;
	uint16_t *qos2;
	/* transport */
	int fd;
	net_tcp_t tcp;
	io_transport_t tcp_io, io;
	bool wrapped;
	/* addresses of this attempt */
	net_addr_t addrs[MQTTC_MAX_ADDRS];
	int naddrs, next_addr;
	uint64_t attempt_deadline;   /* TCP/TLS/CONNACK must finish by then */
	uint64_t wait_until;         /* MQTTC_WAIT: next attempt */
	uint64_t up_since;
	uint64_t now;                /* time of the current mqttc_process */
	unsigned failures, connects;
	bool fail_counted;
	/* why the current session closed (set from the event callback) */
	mqttc_reason_t why;
	char detail[160];
	/* remembered subscriptions */
	struct { char *filter; uint8_t qos; bool acked; uint16_t pid; } subs[MQTTC_MAX_SUBS];
	size_t nsubs;
};

const char *mqttc_reason_str(mqttc_reason_t r)
{
	switch (r) {
	case MQTTC_R_NONE: return "none";
	case MQTTC_R_RESOLVE: return "no address";
	case MQTTC_R_UNREACHABLE: return "unreachable";
	case MQTTC_R_TIMEOUT: return "timed out";
	case MQTTC_R_TLS: return "TLS failure";
	case MQTTC_R_REFUSED: return "connection refused by broker";
	case MQTTC_R_BUSY: return "broker unavailable";
	case MQTTC_R_AUTH: return "not authorised";
	case MQTTC_R_PROTOCOL: return "protocol error";
	case MQTTC_R_CLOSED: return "connection closed";
	case MQTTC_R_KEEPALIVE: return "keepalive timeout";
	}
	return "?";
}

static void on_event(void *user, const mqtt_event_t *ev);

static size_t dflt(size_t v, size_t d) { return v != 0 ? v : d; }

mqttc_t *mqttc_new(const mqttc_config_t *cfg, const mqttc_hooks_t *hooks)
{
	mqttc_t *c = calloc(1, sizeof *c);
	mqtt_config_t mc;

	if (c == NULL)
		return NULL;
	c->cfg = *cfg;
	c->h = *hooks;
	c->fd = -1;
	c->cfg.rx_max = dflt(cfg->rx_max, 1u << 20);
	c->cfg.max_publish = dflt(cfg->max_publish, (256u << 10) + 1024);
	c->cfg.tx_max = dflt(cfg->tx_max, (64u << 10) + c->cfg.max_publish);
	c->cfg.inflight = dflt(cfg->inflight, 16);
	c->cfg.store = dflt(cfg->store, c->cfg.max_publish * c->cfg.inflight);
	if (c->cfg.store < c->cfg.max_publish)
		c->cfg.store = c->cfg.max_publish;
	c->cfg.qos2_in = dflt(cfg->qos2_in, 64);
	c->cfg.connect_timeout_ms = (uint32_t)dflt(cfg->connect_timeout_ms, 10000);
	c->cfg.backoff_base_ms = (uint32_t)dflt(cfg->backoff_base_ms, 500);
	c->cfg.backoff_cap_ms = (uint32_t)dflt(cfg->backoff_cap_ms, 30000);
	c->cfg.stable_ms = (uint32_t)dflt(cfg->stable_ms, 10000);
	c->rx = malloc(c->cfg.rx_max);
	c->tx = malloc(c->cfg.tx_max);
	c->store = malloc(c->cfg.store);
	c->slots = calloc(c->cfg.inflight, sizeof *c->slots);
	c->qos2 = calloc(c->cfg.qos2_in, sizeof *c->qos2);
	if (c->rx == NULL || c->tx == NULL || c->store == NULL || c->slots == NULL || c->qos2 == NULL)
		goto fail;
	memset(&mc, 0, sizeof mc);
	mc.rx_buf = c->rx;
	mc.rx_len = c->cfg.rx_max;
	mc.tx_buf = c->tx;
	mc.tx_len = c->cfg.tx_max;
	mc.inflight = c->slots;
	mc.inflight_n = c->cfg.inflight;
	mc.store = c->store;
	mc.store_len = c->cfg.store;
	mc.qos2_ids = c->qos2;
	mc.qos2_n = c->cfg.qos2_in;
	mc.on_event = on_event;
	mc.user = c;
	/* 0: PINGRESP within keepalive/2 (the session's default); the
	 * connect deadline is ours (attempt_deadline), not the session's */
	mc.timeout_ms = 0;
	if (mqtt_init(&c->s, &mc) != MQTT_OK)
		goto fail;
	return c;
fail:
	mqttc_free(c);
	return NULL;
}

static void close_transport(mqttc_t *c)
{
	if (c->wrapped) {
		c->io.close(c->io.ctx); /* closes the TCP transport under it too */
		c->wrapped = false;
	} else if (c->fd >= 0) {
		close(c->fd);
	}
	c->fd = -1;
	c->tcp.fd = -1;
}

void mqttc_free(mqttc_t *c)
{
	if (c == NULL)
		return;
	close_transport(c);
	for (size_t i = 0; i < c->nsubs; i++)
		free(c->subs[i].filter);
	free(c->rx);
	free(c->tx);
	free(c->store);
	free(c->slots);
	free(c->qos2);
	free(c);
}

static void set_why(mqttc_t *c, mqttc_reason_t r, const char *detail)
{
	if (c->why != MQTTC_R_NONE)
		return; /* the first cause is the one that matters */
	c->why = r;
	fmt_snprintf(c->detail, sizeof c->detail, "%s", detail != NULL ? detail : mqttc_reason_str(r));
}

static void schedule(mqttc_t *c, uint64_t now)
{
	uint64_t d = c->cfg.backoff_base_ms;
	unsigned f = c->failures > 0 ? c->failures - 1 : 0;
	while (f-- > 0 && d < c->cfg.backoff_cap_ms)
		d *= 2;
	if (d > c->cfg.backoff_cap_ms)
		d = c->cfg.backoff_cap_ms;
	/* full jitter in [d/2, d] so a fleet does not reconnect in lockstep */
	d = d / 2 + random_below((uint32_t)(d / 2 + 1));
	c->wait_until = now + d;
	c->state = MQTTC_WAIT;
}

/* The connection (or attempt) is over: tell the app, plan the next one. */
static void lost(mqttc_t *c, uint64_t now)
{
	mqttc_reason_t why = c->why != MQTTC_R_NONE ? c->why : MQTTC_R_CLOSED;
	bool was_up = c->state == MQTTC_UP;

	close_transport(c);
	mqtt_reset_connection(&c->s);
	for (size_t i = 0; i < c->nsubs; i++)
		c->subs[i].pid = 0;
	if (was_up && now - c->up_since >= c->cfg.stable_ms)
		c->failures = 0;
	c->failures++;
	if (c->stopping) {
		c->state = MQTTC_IDLE;
	} else {
		schedule(c, now);
	}
	if (c->h.on_down != NULL)
		c->h.on_down(c, c->h.user, why, c->detail[0] != '\0' ? c->detail : mqttc_reason_str(why));
	c->why = MQTTC_R_NONE;
	c->detail[0] = '\0';
}

/* An address refused or failed: the attempt's reason is the latest one
 * (unlike set_why, which keeps the first cause of a lost session). */
static void addr_failed(mqttc_t *c, const net_addr_t *a, int err)
{
	char text[NET_ADDR_STRLEN];
	net_addr_format(a, text, sizeof text);
	c->why = MQTTC_R_UNREACHABLE;
	fmt_snprintf(c->detail, sizeof c->detail, "connect to %s: %s", text, strerror(-err));
}

/* Connect to the next address; when none is left the attempt is lost. */
static void try_next_addr(mqttc_t *c, uint64_t now)
{
	while (c->next_addr < c->naddrs) {
		const net_addr_t *a = &c->addrs[c->next_addr++];
		int fd = net_tcp_connect(a);
		if (fd >= 0) {
			if (log_get_level() >= LOG_DEBUG) {
				char text[NET_ADDR_STRLEN];
				net_addr_format(a, text, sizeof text);
				log_debug("mqtt", "connecting to %s", text);
			}
			c->fd = fd;
			c->state = MQTTC_TCP;
			return;
		}
		addr_failed(c, a, fd);
	}
	c->state = MQTTC_TCP; /* so lost() counts it as an attempt */
	lost(c, now);
}

static void attempt(mqttc_t *c, uint64_t now)
{
	char err[160] = "";
	c->why = MQTTC_R_NONE;
	c->detail[0] = '\0';
	c->naddrs = c->h.resolve(c->h.net_user, c->addrs, MQTTC_MAX_ADDRS, err, sizeof err);
	c->next_addr = 0;
	c->attempt_deadline = now + c->cfg.connect_timeout_ms;
	if (c->naddrs <= 0) {
		c->naddrs = 0;
		set_why(c, MQTTC_R_RESOLVE, err[0] != '\0' ? err : "no address for the broker");
		c->state = MQTTC_TCP;
		lost(c, now);
		return;
	}
	try_next_addr(c, now);
}

void mqttc_start(mqttc_t *c, uint64_t now)
{
	c->now = now;
	c->stopping = false;
	attempt(c, now);
}

void mqttc_stop(mqttc_t *c)
{
	c->stopping = true;
	if (c->state == MQTTC_UP || c->state == MQTTC_SESSION) {
		if (mqtt_disconnect(&c->s) == MQTT_OK)
			return; /* IDLE once the DISCONNECT is out */
	}
	close_transport(c);
	mqtt_reset_connection(&c->s);
	c->state = MQTTC_IDLE;
}

void mqttc_retry_now(mqttc_t *c, uint64_t now)
{
	if (c->state == MQTTC_WAIT)
		c->wait_until = now;
}

void mqttc_drop(mqttc_t *c, uint64_t now)
{
	if (c->state == MQTTC_UP || c->state == MQTTC_SESSION || c->state == MQTTC_TCP) {
		set_why(c, MQTTC_R_CLOSED, "connection dropped");
		lost(c, now);
	}
}

static void resubscribe(mqttc_t *c)
{
	for (size_t i = 0; i < c->nsubs; i++) {
		mqtt_sub_t s;
		if (c->subs[i].acked || c->subs[i].pid != 0)
			continue;
		s.filter = c->subs[i].filter;
		s.len = strlen(s.filter);
		s.qos = c->subs[i].qos;
		if (mqtt_subscribe(&c->s, &s, 1, &c->subs[i].pid) != MQTT_OK)
			c->subs[i].pid = 0; /* retried on the next process() */
	}
}

int mqttc_subscribe(mqttc_t *c, const char *filter, uint8_t qos)
{
	if (c->nsubs >= MQTTC_MAX_SUBS || mqtt_check_filter(filter, strlen(filter)) != MQTT_OK || qos > 2)
		return -1;
	c->subs[c->nsubs].filter = strdup(filter);
	if (c->subs[c->nsubs].filter == NULL)
		return -1;
	c->subs[c->nsubs].qos = qos;
	c->subs[c->nsubs].acked = false;
	c->subs[c->nsubs].pid = 0;
	c->nsubs++;
	if (c->state == MQTTC_UP)
		resubscribe(c);
	return 0;
}

static void on_event(void *user, const mqtt_event_t *ev)
{
	mqttc_t *c = user;
	char msg[160];

	switch (ev->type) {
	case MQTT_EV_CONNACK:
		if (ev->return_code != 0) {
			fmt_snprintf(msg, sizeof msg, "broker refused the connection: %s (CONNACK %u)",
				ev->return_code == 1 ? "unacceptable protocol version" :
				ev->return_code == 2 ? "client identifier rejected" :
				ev->return_code == 3 ? "server unavailable" :
				ev->return_code == 4 ? "bad user name or password" :
				ev->return_code == 5 ? "not authorised" : "unknown code",
				ev->return_code);
			set_why(c, ev->return_code >= 4 ? MQTTC_R_AUTH :
				ev->return_code == 3 ? MQTTC_R_BUSY : MQTTC_R_REFUSED, msg);
			break;
		}
		c->state = MQTTC_UP;
		c->connects++;
		c->up_since = c->now;
		if (!ev->session_present)
			for (size_t i = 0; i < c->nsubs; i++)
				c->subs[i].acked = false;
		resubscribe(c);
		if (c->h.on_up != NULL)
			c->h.on_up(c, c->h.user, ev->session_present);
		break;
	case MQTT_EV_MESSAGE:
		if (c->h.on_message != NULL)
			c->h.on_message(c, c->h.user, &ev->msg);
		break;
	case MQTT_EV_PUBLISHED:
		if (c->h.on_published != NULL)
			c->h.on_published(c, c->h.user, ev->packet_id);
		break;
	case MQTT_EV_SUBACK:
		for (size_t i = 0; i < c->nsubs; i++)
			if (c->subs[i].pid == ev->packet_id) {
				c->subs[i].pid = 0;
				c->subs[i].acked = true;
			}
		if (c->h.on_suback != NULL)
			c->h.on_suback(c, c->h.user, ev->codes, ev->count);
		break;
	case MQTT_EV_UNSUBACK:
		break;
	case MQTT_EV_OVERSIZED:
		log_warn("mqtt", "skipped an incoming message of %zu bytes: over the receive limit of %zu",
			ev->size, c->cfg.rx_max);
		break;
	case MQTT_EV_ERROR:
		fmt_snprintf(msg, sizeof msg, "protocol error from the broker: %s", mqtt_strerror(ev->status));
		set_why(c, MQTTC_R_PROTOCOL, msg);
		break;
	case MQTT_EV_TIMEOUT:
		if (c->state == MQTTC_UP)
			set_why(c, MQTTC_R_KEEPALIVE, "no answer from the broker within the keepalive deadline");
		else
			set_why(c, MQTTC_R_TIMEOUT, "no CONNACK from the broker in time");
		break;
	}
}

static void transport_up(mqttc_t *c, uint64_t now)
{
	char err[160] = "";
	net_tcp_transport(&c->tcp, c->fd, &c->tcp_io);
	c->io = c->tcp_io;
	if (c->h.wrap != NULL) {
		if (c->h.wrap(c->h.net_user, &c->tcp_io, &c->io, err, sizeof err) != 0) {
			set_why(c, MQTTC_R_TLS, err);
			lost(c, now);
			return;
		}
		c->wrapped = true;
	}
	c->state = MQTTC_SESSION;
	if (mqtt_connect(&c->s, &c->cfg.connect, now) != MQTT_OK) {
		set_why(c, MQTTC_R_PROTOCOL, "CONNECT does not fit the transmit buffer");
		lost(c, now);
	}
}

int mqttc_pollfd(mqttc_t *c, struct pollfd *p)
{
	size_t len;
	int ev;
	if (c->fd < 0 || (c->state != MQTTC_TCP && c->state != MQTTC_SESSION && c->state != MQTTC_UP))
		return 0;
	p->fd = c->fd;
	p->revents = 0;
	if (c->state == MQTTC_TCP) {
		p->events = POLLOUT;
		return 1;
	}
	mqtt_send_buf(&c->s, &len);
	if (c->io.events != NULL) {
		ev = c->io.events(c->io.ctx, len > 0);
	} else {
		size_t cap;
		ev = 0;
		if (mqtt_recv_buf(&c->s, &cap) != NULL && cap > 0)
			ev |= IO_WANT_READ;
		if (len > 0)
			ev |= IO_WANT_WRITE;
	}
	p->events = (short)(((ev & IO_WANT_READ) ? POLLIN : 0) | ((ev & IO_WANT_WRITE) ? POLLOUT : 0));
	return 1;
}

int mqttc_timeout_ms(mqttc_t *c, uint64_t now)
{
	uint64_t d = MQTT_NO_DEADLINE;
	switch (c->state) {
	case MQTTC_IDLE:
		return -1;
	case MQTTC_WAIT:
		d = c->wait_until;
		break;
	case MQTTC_TCP:
	case MQTTC_SESSION:
		d = c->attempt_deadline;
		if (mqtt_next_deadline(&c->s) < d)
			d = mqtt_next_deadline(&c->s);
		break;
	case MQTTC_UP:
		d = mqtt_next_deadline(&c->s);
		break;
	}
	if (d == MQTT_NO_DEADLINE)
		return -1;
	return d <= now ? 0 : (d - now > 600000 ? 600000 : (int)(d - now));
}

/* Move bytes both ways until the transport would block.  false: it died.
 * A plain socket is read only when poll said so (no idle recv syscalls
 * with many sessions); TLS may hold decrypted bytes, so it is always asked. */
static bool pump(mqttc_t *c, bool readable, uint64_t now)
{
	if (c->io.events != NULL)
		readable = true;
	for (int rounds = 0; rounds < 64; rounds++) {
		bool moved = false;
		size_t cap, len;
		uint8_t *rb = mqtt_recv_buf(&c->s, &cap);
		const uint8_t *sb;
		long n;
		if (readable && rb != NULL && cap > 0) {
			if (cap > MQTTC_READ_MAX)
				cap = MQTTC_READ_MAX;
			n = c->io.recv(c->io.ctx, rb, cap);
			if (n > 0) {
				mqtt_recv_ack(&c->s, (size_t)n);
				moved = true;
				/* a short read drained the socket: no EAGAIN round */
				if ((size_t)n < cap && c->io.events == NULL)
					readable = false;
			} else if (n == 0) {
				readable = c->io.events != NULL; /* drained */
			} else {
				const char *tls = c->wrapped && c->h.wrap_error != NULL ? c->h.wrap_error(c->h.net_user) : NULL;
				if (tls != NULL)
					set_why(c, MQTTC_R_TLS, tls);
				else
					set_why(c, MQTTC_R_CLOSED, n == IO_EOF ? "the broker closed the connection" :
						"connection lost");
				return false;
			}
		}
		sb = mqtt_send_buf(&c->s, &len);
		if (len > 0) {
			n = c->io.send(c->io.ctx, sb, len);
			if (n > 0) {
				mqtt_send_ack(&c->s, (size_t)n);
				moved = true;
			} else if (n < 0) {
				const char *tls = c->wrapped && c->h.wrap_error != NULL ? c->h.wrap_error(c->h.net_user) : NULL;
				set_why(c, tls != NULL ? MQTTC_R_TLS : MQTTC_R_CLOSED, tls != NULL ? tls : "connection lost");
				return false;
			}
		}
		if (mqtt_state(&c->s) == MQTT_ST_CLOSED)
			return true;
		if (!moved)
			break;
	}
	(void)now;
	return true;
}

void mqttc_process(mqttc_t *c, const struct pollfd *p, uint64_t now)
{
	c->now = now;
	switch (c->state) {
	case MQTTC_IDLE:
		return;
	case MQTTC_WAIT:
		if (now >= c->wait_until)
			attempt(c, now);
		return;
	case MQTTC_TCP:
		if (p != NULL && p->fd == c->fd && (p->revents & (POLLOUT | POLLERR | POLLHUP))) {
			int r = net_connect_result(c->fd);
			if (r == 0) {
				transport_up(c, now);
			} else {
				close(c->fd);
				c->fd = -1;
				addr_failed(c, &c->addrs[c->next_addr - 1], r);
				try_next_addr(c, now); /* the next address may still work */
			}
		} else if (now >= c->attempt_deadline) {
			set_why(c, MQTTC_R_TIMEOUT, "TCP connect timed out");
			lost(c, now);
		}
		return;
	case MQTTC_SESSION:
	case MQTTC_UP:
		break;
	}
	mqtt_tick(&c->s, now);
	if (mqtt_state(&c->s) != MQTT_ST_CLOSED &&
	    !pump(c, p != NULL && p->fd == c->fd && (p->revents & (POLLIN | POLLERR | POLLHUP)), now)) {
		lost(c, now);
		return;
	}
	if (c->state == MQTTC_UP)
		resubscribe(c); /* any subscription that did not fit earlier */
	mqtt_tick(&c->s, now);
	if (mqtt_state(&c->s) == MQTT_ST_CLOSED) {
		if (c->stopping && mqtt_last_error(&c->s) == MQTT_OK) {
			close_transport(c);
			mqtt_reset_connection(&c->s);
			c->state = MQTTC_IDLE;
			return;
		}
		if (c->why == MQTTC_R_NONE)
			set_why(c, MQTTC_R_PROTOCOL, mqtt_strerror(mqtt_last_error(&c->s)));
		lost(c, now);
		return;
	}
	if (c->state == MQTTC_SESSION && now >= c->attempt_deadline) {
		const char *tls = c->wrapped && c->h.wrap_error != NULL ? c->h.wrap_error(c->h.net_user) : NULL;
		set_why(c, MQTTC_R_TIMEOUT, tls != NULL ? tls : "no CONNACK from the broker in time");
		lost(c, now);
	}
}

mqtt_status_t mqttc_publish(mqttc_t *c, const char *topic, const void *payload,
	size_t len, uint8_t qos, bool retain, uint16_t *packet_id)
{
	mqtt_publish_t m;
	memset(&m, 0, sizeof m);
	m.topic = topic;
	m.topic_len = strlen(topic);
	m.payload = payload;
	m.payload_len = len;
	m.qos = qos;
	m.retain = retain;
	if (qos == 0 && c->state != MQTTC_UP)
		return MQTT_E_STATE;
	return mqtt_publish(&c->s, &m, packet_id);
}

mqttc_state_t mqttc_state(const mqttc_t *c) { return c->state; }
size_t mqttc_inflight(const mqttc_t *c) { return mqtt_inflight_count(&c->s); }
unsigned mqttc_failures(const mqttc_t *c) { return c->failures; }
unsigned mqttc_connects(const mqttc_t *c) { return c->connects; }

size_t mqttc_unsent(const mqttc_t *c)
{
	size_t len;
	mqtt_send_buf(&c->s, &len);
	return len;
}
