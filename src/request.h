/*
 * request.h -- the node's request and reply payloads (DESIGN.md, "Wire
 * contract").  Pure: no I/O, no allocation; fuzzed by fuzz/request.c.
 *
 * A request is a JSON object {"cmd":"<command>"[,"id":<string or number>]}
 * of at most REQ_MAX bytes.  A reply is
 *   {"sn":"<serial>","cmd":"<command>","data":"<output>","rc":<int>[,"id":<id>]}
 * with the id echoed byte for byte as it appeared in the request.
 */
#ifndef DMQTT_REQUEST_H
#define DMQTT_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#define REQ_MAX 4096         /* larger requests are refused (rc 2) */
#define REQ_CMD_MAX 64       /* longest command name */
#define REQ_ID_MAX 128       /* longest id, as raw JSON text */

enum {
	RC_OK = 0,
	RC_BAD_REQUEST = 2,
	RC_TIMEOUT = 124,
	RC_UNKNOWN = 127
};

typedef struct {
	char cmd[REQ_CMD_MAX + 1];   /* "" when absent or unusable */
	char id[REQ_ID_MAX + 1];     /* raw JSON text of "id", "" when absent */
	char error[160];             /* why the request is bad, "" when fine */
} request_t;

/* Parse a request payload.  Returns 0 when r->cmd holds a command to run;
 * otherwise RC_BAD_REQUEST with r->error set (r->cmd and r->id hold what
 * could be recovered, so the reply still names them). */
int request_parse(const uint8_t *payload, size_t len, request_t *r);

/*
 * Write the reply object into out (cap bytes).  data/data_len is the
 * command's output (any bytes: invalid UTF-8 is replaced by U+FFFD, control
 * characters are escaped).  Returns the length, or 0 when cap is too small.
 * A reply to a REQ_MAX request with 4 KiB of output fits in REPLY_MAX.
 */
#define REPLY_MAX (6 * 4096 + 2 * REQ_CMD_MAX * 6 + REQ_ID_MAX + 256)
size_t reply_build(char *out, size_t cap, const char *serial, const request_t *r,
	const char *data, size_t data_len, int rc);

/* JSON-escape s into out (no quotes); returns the length or 0 if it does
 * not fit.  Shared by every JSON writer of the program. */
size_t json_escape(char *out, size_t cap, const char *s, size_t n);

#endif
