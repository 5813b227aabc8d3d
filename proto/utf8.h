/*
 * utf8.h -- UTF-8 validation shared by the JSON, MQTT and D-Bus cores.
 *
 * Pure: no I/O, no allocation, no global state.
 */
#ifndef DMQTT_UTF8_H
#define DMQTT_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Length in bytes of the well-formed UTF-8 sequence that starts at s[0],
 * or 0 when s[0..n) does not start with one.  Well-formed means RFC 3629:
 * shortest form only (no overlongs), no UTF-16 surrogates (U+D800..U+DFFF),
 * nothing above U+10FFFF.  If cp is not NULL it receives the code point.
 * n == 0 returns 0.
 */
size_t utf8_decode(const uint8_t *s, size_t n, uint32_t *cp);

/* 1 when all n bytes are well-formed UTF-8 (n == 0 is valid), else 0. */
int utf8_valid(const uint8_t *s, size_t n);

/*
 * Encode code point cp (<= U+10FFFF, not a surrogate) into out, which must
 * hold 4 bytes.  Returns the number of bytes written, or 0 for an invalid cp.
 */
size_t utf8_encode(uint32_t cp, uint8_t out[4]);

#endif
