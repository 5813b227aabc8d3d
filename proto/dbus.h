/*
 * dbus.h -- the D-Bus wire protocol core: SASL EXTERNAL client, message
 * framing, marshalling (binary and busctl-style text arguments), full
 * validation of received messages, a value iterator and a printer that
 * writes a body in busctl's text form.  docs/dbus.md describes the contract
 * in prose, with the limits and the text format.
 *
 * Pure: no I/O, no allocation, no global state, no stdio.  Every buffer is
 * the caller's; parsed strings point into the caller's message buffer and
 * live as long as it does.  Received messages may use either byte order;
 * built messages are always little endian ('l').  Multi-byte fields are read
 * and written byte by byte, so no buffer needs any alignment.
 *
 * Typical client sequence (the driver in src/ does the I/O):
 *   dbus_sasl_start -> send; recv -> dbus_sasl_input until DBUS_OK -> send
 *   its output ("BEGIN\r\n") plus a Hello call (dbus_msg_call_text to
 *   org.freedesktop.DBus); then for each received
 *   chunk: dbus_frame until DBUS_OK, dbus_msg_parse, match reply_serial,
 *   dbus_print_body or walk the body with dbus_iter_*.
 */
#ifndef DMQTT_DBUS_H
#define DMQTT_DBUS_H

#include <stddef.h>
#include <stdint.h>

/* Limits of the D-Bus specification, all enforced on receive and send. */
#define DBUS_MAX_MSG       (128u * 1024 * 1024) /* whole message */
#define DBUS_MAX_ARRAY     (64u * 1024 * 1024)  /* one array's data */
#define DBUS_MAX_SIG       255u                 /* one signature */
#define DBUS_MAX_NAME      255u                 /* bus/interface/member/error name */
#define DBUS_MAX_SIG_DEPTH 32u  /* array codes, and struct/dict nesting, per signature */
#define DBUS_MAX_DEPTH     64u  /* containers incl. variants, per value */

/* SASL: longest server line accepted (incl. CRLF); output buffer sizes. */
#define DBUS_SASL_LINE_MAX  512u
#define DBUS_SASL_START_MAX 40u  /* "\0AUTH EXTERNAL <hex>\r\n" for any uid */
#define DBUS_SASL_BEGIN_MAX 8u   /* "BEGIN\r\n" */

/* Message types and header flags. */
enum {
	DBUS_METHOD_CALL = 1,
	DBUS_METHOD_RETURN = 2,
	DBUS_ERROR = 3,
	DBUS_SIGNAL = 4
};
enum {
	DBUS_FLAG_NO_REPLY = 0x1,       /* NO_REPLY_EXPECTED */
	DBUS_FLAG_NO_AUTO_START = 0x2,
	DBUS_FLAG_INTERACTIVE = 0x4     /* ALLOW_INTERACTIVE_AUTHORIZATION */
};

/* A match rule for NameOwnerChanged of one bus name (a string literal). */
#define DBUS_MATCH_OWNER_CHANGED(name) \
	"type='signal',sender='org.freedesktop.DBus'," \
	"path='/org/freedesktop/DBus',interface='org.freedesktop.DBus'," \
	"member='NameOwnerChanged',arg0='" name "'"

typedef enum dbus_status {
	DBUS_OK = 0,
	DBUS_NEED_MORE,        /* incomplete input: read more, call again */
	DBUS_E_SPACE,          /* the caller's output buffer is too small */
	DBUS_E_TOO_BIG,        /* message over 128 MiB or over the caller's buffer */
	DBUS_E_HEADER,         /* bad byte-order mark, protocol version or type 0 */
	DBUS_E_SERIAL,         /* serial (or reply serial) is 0 */
	DBUS_E_FIELD,          /* header field: code 0, duplicate, or wrong type */
	DBUS_E_MISSING,        /* a header field the message type needs is absent */
	DBUS_E_BOUNDS,         /* a value runs past its container, or the body
	                          length disagrees with the signature */
	DBUS_E_PADDING,        /* an alignment padding byte is not zero */
	DBUS_E_BOOL,           /* a boolean other than 0 or 1 */
	DBUS_E_STRING,         /* string not NUL-terminated, or interior NUL */
	DBUS_E_UTF8,           /* string is not valid UTF-8 */
	DBUS_E_PATH,           /* invalid object path */
	DBUS_E_SIG,            /* invalid signature */
	DBUS_E_DEPTH,          /* nesting deeper than the limits above */
	DBUS_E_NAME,           /* invalid bus, interface, member or error name */
	DBUS_E_ARRAY,          /* array over 64 MiB, or elements overrun it */
	DBUS_E_FD,             /* unix fd index not below the UNIX_FDS field */
	DBUS_E_TYPE,           /* iterator used on a value of another kind */
	DBUS_E_ARG,            /* text argument does not parse or is out of range */
	DBUS_E_ARGC,           /* too few or too many text arguments */
	DBUS_E_SASL_REJECTED,  /* server answered REJECTED */
	DBUS_E_SASL_ERROR,     /* server answered ERROR */
	DBUS_E_SASL_PROTO,     /* unexpected or malformed server line */
	DBUS_E_SASL_LINE,      /* server line longer than DBUS_SASL_LINE_MAX */
	DBUS_E_STATE           /* call not valid in the current state */
} dbus_status_t;

/* Static text for a status; never NULL. */
const char *dbus_strerror(dbus_status_t st);

/* ---- SASL EXTERNAL client ------------------------------------------- */

typedef struct dbus_sasl {
	uint8_t state;   /* private */
	char guid[33];   /* the server's GUID (32 hex digits) once DBUS_OK */
} dbus_sasl_t;

/*
 * Start authentication as uid: writes the initial NUL byte and
 * "AUTH EXTERNAL <hex of the decimal uid>\r\n" into out and returns its
 * length, or 0 when cap < DBUS_SASL_START_MAX.  Resets s.
 */
size_t dbus_sasl_start(dbus_sasl_t *s, uint32_t uid, uint8_t *out, size_t cap);

/*
 * Feed the bytes received so far, in[0..n) (the caller keeps unconsumed
 * bytes and appends new ones).  Looks at the first complete CRLF line:
 *   DBUS_NEED_MORE   no complete line yet; *used = 0
 *   DBUS_OK          "OK <guid>": s->guid is set, out holds "BEGIN\r\n"
 *                    (*outlen bytes, cap >= DBUS_SASL_BEGIN_MAX), *used is
 *                    the length through the OK line: in[*used..n) are
 *                    already D-Bus messages and belong to the message layer
 *   DBUS_E_SASL_REJECTED / _ERROR / _PROTO   the server refused, or sent
 *                    something else; DBUS_E_SASL_LINE: no CRLF within
 *                    DBUS_SASL_LINE_MAX bytes.  All errors are final.
 *   DBUS_E_STATE     not started, or already finished
 */
dbus_status_t dbus_sasl_input(dbus_sasl_t *s, const uint8_t *in, size_t n,
	size_t *used, uint8_t *out, size_t cap, size_t *outlen);

/* ---- framing and parsing -------------------------------------------- */

/*
 * A message's header.  dbus_msg_parse fills it from a received message;
 * dbus_w_begin reads it to build one (msg, len, body_off, body_len and
 * endian are ignored there; NULL strings and 0 numbers mean "absent").
 * Strings are NUL-terminated; after parsing they point into the message.
 */
typedef struct dbus_msg {
	uint8_t type, flags;
	char endian;                  /* 'l' or 'B' */
	uint32_t serial;
	uint32_t reply_serial;        /* 0: absent */
	uint32_t unix_fds;            /* 0: absent */
	const char *path, *interface, *member, *error_name;
	const char *destination, *sender;
	const char *signature;        /* body signature; parse gives "" if absent */
	const uint8_t *msg;           /* the message (parse) */
	uint32_t len;                 /* its total length */
	uint32_t body_off, body_len;  /* body position within msg */
} dbus_msg_t;

/*
 * Framing: given the first `have` bytes of a stream position, decide:
 *   DBUS_NEED_MORE   incomplete; *need = bytes needed (16 until the fixed
 *                    header is in, then the whole message length)
 *   DBUS_OK          a whole message of *need bytes is at buf[0]
 *   DBUS_E_HEADER    bad byte-order mark or protocol version
 *   DBUS_E_ARRAY / DBUS_E_TOO_BIG   header field array over 64 MiB, or the
 *                    message over 128 MiB or over cap (the caller's buffer)
 * Errors are final for the connection (the stream cannot be resynced).
 */
dbus_status_t dbus_frame(const uint8_t *buf, size_t have, size_t cap,
	size_t *need);

/*
 * Parse and fully validate the message at buf (len bytes available; the
 * message's own length, which may be shorter, goes to m->len): fixed header,
 * header fields with their types and required fields per message type, and
 * the whole body against its signature with every limit of the spec.  On
 * DBUS_OK the iterator and printer below cannot meet invalid data.
 * Unknown message types (> 4) parse with no required fields (the spec says
 * to ignore them); unknown header fields are validated and skipped.
 */
dbus_status_t dbus_msg_parse(dbus_msg_t *m, const uint8_t *buf, size_t len);

/* 1 when m is a METHOD_RETURN or ERROR answering the call with `serial`. */
int dbus_msg_is_reply(const dbus_msg_t *m, uint32_t serial);

/* The first body argument if it is a string (an ERROR's message), else "". */
const char *dbus_msg_error_text(const dbus_msg_t *m);

/* ---- reading values ------------------------------------------------- */

/* A basic value.  Integers: u holds the value (signed types sign-extended,
 * two's complement); 'b' is 0 or 1; 'd' holds the IEEE-754 bits
 * (dbus_value_double converts).  s, o, g: s/len point into the message. */
typedef struct dbus_value {
	char type;
	uint64_t u;
	const char *s;
	uint32_t len;
} dbus_value_t;

double dbus_value_double(const dbus_value_t *v);

/* Iterator over one level of a parsed message's body.  Plain struct,
 * no teardown; copy it freely (a copy walks independently). */
typedef struct dbus_iter {
	const uint8_t *msg;
	uint32_t pos, end;      /* next value; end of this level's bytes */
	const char *sig, *sig_end;
	uint8_t be, array;      /* big endian; array level (sig repeats) */
	uint8_t depth;
	uint32_t nfds;
} dbus_iter_t;

/* Start at the body's first value.  m must have parsed OK: the iterator
 * relies on that (it checks bounds, not the contents, again). */
void dbus_iter_init(dbus_iter_t *it, const dbus_msg_t *m);

/* Type code of the next value ('y' ... 'h', 'a', '(', '{', 'v'), 0 at end. */
char dbus_iter_type(const dbus_iter_t *it);

/* Signature of the next value (one complete type): its length, *sig set. */
size_t dbus_iter_sig(const dbus_iter_t *it, const char **sig);

/* Read the next value, which must be basic, and step past it. */
dbus_status_t dbus_iter_get(dbus_iter_t *it, dbus_value_t *v);

/*
 * Enter the next value, which must be an array, struct, dict entry or
 * variant: *sub walks its contents (a variant's one value, an array's
 * elements, a struct's fields) and `it` steps past the whole container at
 * once, so there is nothing to close.  sub may be NULL to just skip.
 */
dbus_status_t dbus_iter_enter(dbus_iter_t *it, dbus_iter_t *sub);

/* Step past the next value of any type. */
dbus_status_t dbus_iter_skip(dbus_iter_t *it);

/*
 * Print the body as `busctl call` does without --verbose: the signature,
 * then each value after a space -- integers in decimal, booleans
 * true/false, doubles like printf "%g", strings/paths/signatures in double
 * quotes with C escapes (octal for other bytes < 0x20 or >= 0x7f), arrays
 * as their element count then the elements, variants as their signature
 * then the value, structs and dict entries flattened.  An empty body
 * prints "".  m must have parsed OK.  out is NUL-terminated (unless cap is
 * 0); DBUS_E_SPACE when cap was too small (out then holds a truncated
 * prefix).  *len (may be NULL) = strlen(out).
 */
dbus_status_t dbus_print_body(const dbus_msg_t *m, char *out, size_t cap,
	size_t *len);

/* Format a double like printf("%g") (6 significant digits, exactly
 * rounded); out needs 16 bytes.  Returns the length written (no NUL). */
size_t dbus_fmt_double(uint64_t bits, char out[16]);

/* ---- building messages ---------------------------------------------- */

/*
 * A writer over a caller buffer holding one message from offset 0.
 * Errors are sticky: after the first failure every call does nothing and
 * dbus_w_status / dbus_w_end return that status.  Alignment is relative to
 * the buffer start, which is the message start.
 */
typedef struct dbus_writer {
	uint8_t *buf;
	uint32_t cap, len;
	dbus_status_t st;
	uint32_t body;      /* offset of the body once begun */
} dbus_writer_t;

void dbus_w_init(dbus_writer_t *w, uint8_t *buf, size_t cap);
dbus_status_t dbus_w_status(const dbus_writer_t *w);

/*
 * Write the fixed header and header fields of h (type, flags, serial,
 * and the non-NULL / non-zero fields); the body follows.  Checks serial,
 * names, path and signature and the fields h's type requires.
 */
dbus_status_t dbus_w_begin(dbus_writer_t *w, const dbus_msg_t *h);

/* Patch the body length; *len = the message length.  No checking of the
 * body against the signature is done here (dbus_msg_parse would). */
dbus_status_t dbus_w_end(dbus_writer_t *w, size_t *len);

/* Low level: each aligns first (to its own size).  n/q use u16;
 * b/i/u/h use u32 (booleans as 0/1); x/t use u64, d its IEEE bits
 * (dbus_double_bits). */
void dbus_put_u8(dbus_writer_t *w, uint8_t v);
void dbus_put_u16(dbus_writer_t *w, uint16_t v);
void dbus_put_u32(dbus_writer_t *w, uint32_t v);
void dbus_put_u64(dbus_writer_t *w, uint64_t v);
uint64_t dbus_double_bits(double d);

/* type 's', 'o' or 'g'; s is NUL-terminated.  Validated (UTF-8, object
 * path, signature) before it is written. */
void dbus_put_string(dbus_writer_t *w, char type, const char *s);

/* Arrays: open with the element's first type code, write the elements,
 * close with the mark open returned; the length is back-patched. */
uint32_t dbus_open_array(dbus_writer_t *w, char elem);
void dbus_close_array(dbus_writer_t *w, uint32_t mark);

/* Structs and dict entries: align to 8, then write the fields; no close.
 * Variants: writes the contained signature (one complete type); then
 * write the one value; no close. */
void dbus_open_struct(dbus_writer_t *w);
void dbus_open_variant(dbus_writer_t *w, const char *sig);

/*
 * One call message: h's header (h->signature, NULL or "" for none, is also
 * the signature of the arguments), then argv[0..argc) as busctl-style text
 * arguments: one argv entry per basic value; an array takes its element
 * count then the elements; a variant takes its signature then the value;
 * structs and dict entries are flattened: `ssissss a b 1 c d e f`,
 * `as 2 x y`, `a{sv} 1 key s val`.  Numbers as busctl parses them
 * (decimal, 0x/0o/0b or leading-0 octal, optional sign), booleans
 * 1/yes/y/true/t/on and 0/no/n/false/f/off (any case), doubles in decimal
 * or inf/nan.  All of argv must be used.  *len = the message length.  On
 * failure *argi (may be NULL) is the index of the offending argument (argc
 * when arguments ran out; 0 when the header was at fault).
 */
dbus_status_t dbus_msg_call_text(uint8_t *buf, size_t cap,
	const dbus_msg_t *h, int argc, char *const argv[], size_t *len,
	int *argi);

/* Validity checks used above, for callers that want them early. */
dbus_status_t dbus_check_sig(const char *sig, size_t len);   /* any number of complete types */
dbus_status_t dbus_check_path(const char *p, size_t len);
/* kind 'b' bus name, 'i' interface or error name, 'm' member; 'o' object
 * path, as dbus_check_path (DBUS_E_PATH rather than DBUS_E_NAME) */
dbus_status_t dbus_check_name(char kind, const char *s, size_t len);

#endif
