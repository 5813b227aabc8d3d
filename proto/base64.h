/*
 * base64.h -- strict RFC 4648 base64 (standard alphabet, '=' padding).
 *
 * Pure: no I/O, no allocation, no global state; caller-owned buffers.
 *
 * Decoding is strict, so every byte string has exactly one accepted
 * encoding (apart from line breaks):
 *   - only A-Z a-z 0-9 + / and '=' as padding;
 *   - the input is whole 4-character groups; a short final group must be
 *     padded ("QQ==", "QUI="), padding appears only at the very end, and
 *     the unused low bits of the last data character must be zero;
 *   - line breaks: any run of CR and LF bytes is accepted *between* groups
 *     (so `base64 -w 0` output, `base64`'s 76-column lines, PEM-style
 *     64-column lines, CRLF, and a trailing newline are all fine).  A CR or
 *     LF inside a group, and every other byte (space, tab, ...) anywhere,
 *     is an error;
 *   - an empty input (or only line breaks) decodes to zero bytes.
 * Used for mqtt_cloud_broker_ca_cert_b64 (decode) and mosquitto's $7$
 * password file (encode).
 */
#ifndef DMQTT_BASE64_H
#define DMQTT_BASE64_H

#include <stddef.h>
#include <stdint.h>

typedef enum b64_status {
	B64_OK = 0,
	B64_ERR_CHAR,    /* a byte outside the alphabet (and not a line break) */
	B64_ERR_BREAK,   /* CR or LF inside a 4-character group */
	B64_ERR_PAD,     /* padding missing, misplaced, or followed by data */
	B64_ERR_BITS,    /* non-zero unused bits before the padding */
	B64_ERR_NOSPACE  /* caller's output buffer too small */
} b64_status_t;

/* Static English text for a status (never NULL). */
const char *b64_strerror(b64_status_t st);

/*
 * Characters b64_encode produces for n input bytes (4 * ceil(n / 3)),
 * without the terminating NUL; SIZE_MAX if that does not fit a size_t.
 */
size_t b64_encoded_len(size_t n);

/* Upper bound of the bytes b64_decode produces from n input characters. */
size_t b64_decoded_maxlen(size_t n);

/*
 * Encode in[0..n) into out as one line (no line breaks) followed by a NUL.
 * outsz must be at least b64_encoded_len(n) + 1, else B64_ERR_NOSPACE and
 * out is untouched.  *outlen (may be NULL) receives the length without the
 * NUL.  in may be NULL when n is 0.
 */
b64_status_t b64_encode(const uint8_t *in, size_t n, char *out, size_t outsz,
	size_t *outlen);

/*
 * Decode in[0..n) into out[0..outsz).  *outlen (may be NULL) receives the
 * number of bytes written.  On an error, *err_off (may be NULL) receives
 * the offset in `in` of the first offending character (n when the input
 * ends where padding or more data is needed), and out holds garbage.
 * B64_ERR_NOSPACE is reported at the group that does not fit; a buffer of
 * b64_decoded_maxlen(n) bytes always suffices.  out may equal in (decoding
 * in place), as the output never overtakes the input; other overlaps are
 * not allowed.  in may be NULL when n is 0.
 */
b64_status_t b64_decode(const char *in, size_t n, uint8_t *out, size_t outsz,
	size_t *outlen, size_t *err_off);

#endif
