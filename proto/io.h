/*
 * io.h -- the transport seam between protocol sessions and byte streams.
 *
 * A session core never does I/O itself: its driver (in src/) moves bytes
 * between the session's buffers and an io_transport_t.  Plain TCP
 * (platform/tcp) and TLS (proto/tls over a TCP transport) implement the same
 * struct, so a session cannot tell them apart.
 *
 * Contract for both calls (non-blocking):
 *   > 0   that many bytes were moved (send may move fewer than asked: the
 *         caller keeps the rest and retries when io_events() says writable)
 *   0     nothing can move now (would block); retry after poll
 *   < 0   a negative IO_E* status; the transport is dead, call close
 * recv returns IO_EOF when the peer closed the stream cleanly.
 */
#ifndef DMQTT_IO_H
#define DMQTT_IO_H

#include <stddef.h>
#include <stdint.h>

enum {
	IO_EOF = -1,      /* peer closed the connection */
	IO_ERR = -2,      /* transport error (reset, unreachable, ...) */
	IO_ETLS = -3,     /* TLS failure; the TLS context knows the detail */
	IO_ETIMEOUT = -4  /* the driver's deadline passed */
};

/* Poll interest a transport asks for (TLS may need to write to read). */
enum { IO_WANT_READ = 1, IO_WANT_WRITE = 2 };

typedef struct io_transport {
	void *ctx;
	long (*recv)(void *ctx, uint8_t *buf, size_t len);
	long (*send)(void *ctx, const uint8_t *buf, size_t len);
	/* poll interest given whether the caller has data to send; may be NULL
	 * (then: IO_WANT_READ, plus IO_WANT_WRITE when have_output) */
	int (*events)(void *ctx, int have_output);
	void (*close)(void *ctx);
} io_transport_t;

#endif
