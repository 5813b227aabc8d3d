/*
 * fmt.h -- printf-style formatting through a caller's sink, without the
 * C library's printf.
 *
 * Why: musl's printf family carries a long double formatter.  On aarch64
 * long double is IEEE binary128, done in software, so any printf call links
 * ~20 KiB of quad-precision arithmetic into a binary whose budget is
 * 300 KiB.  The program needs only the plain conversions below, so it
 * formats with this module and never links printf.
 *
 * It sits in platform/ because it stands in for a piece of the C library;
 * the formatting itself is pure (no I/O, no allocation, no global state)
 * and writes through a caller's sink; fmt_fprintf and fmt_printf are the
 * stdio ends.
 *
 * Supported, with the C meanings:
 *   flags      '-' (left-justify), '0' (zero padding for numbers)
 *   width      digits or '*'
 *   precision  '.digits' or '.*' (for s: at most that many bytes, which
 *              need not be NUL-terminated; for d i u x X: minimum digits;
 *              for f: digits after the point, at most 9, default 6)
 *   length     hh h l ll z j t
 *   conversion d i u x X o c s p f %
 * %f is exact for |value| < 1e15 (rounded half away from zero at the last
 * digit) and prints "inf", "-inf" or "nan" as printf does; larger values
 * are printed as an approximate integer part.  An unsupported conversion
 * is copied to the output as it appears in the format.  The compiler's
 * format checking applies through the attributes, so such a format never
 * compiles in the first place.
 */
#ifndef DMQTT_FMT_H
#define DMQTT_FMT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#if defined(__GNUC__) || defined(__clang__)
#define FMT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define FMT_PRINTF(f, a)
#endif

/* Receives the output in pieces, in order. */
typedef void (*fmt_sink_fn)(void *ctx, const char *s, size_t n);

/*
 * Formats into sink; returns the number of bytes passed to it (saturated
 * at INT_MAX).
 */
int fmt_vformat(fmt_sink_fn sink, void *ctx, const char *f, va_list ap)
	FMT_PRINTF(3, 0);

/*
 * snprintf's contract: writes at most cap - 1 bytes and a NUL when cap > 0;
 * returns the length the whole output has, so a result >= cap means it
 * was truncated.  buf may be NULL when cap is 0 (a size query).
 */
int fmt_vsnprintf(char *buf, size_t cap, const char *f, va_list ap)
	FMT_PRINTF(3, 0);
int fmt_snprintf(char *buf, size_t cap, const char *f, ...) FMT_PRINTF(3, 4);

/*
 * fprintf and printf: output through the stream's buffer (fwrite), so it
 * interleaves with fputs/fwrite on the same stream; the byte count, or -1
 * when the stream has an error.
 */
int fmt_vfprintf(FILE *f, const char *fmt, va_list ap) FMT_PRINTF(2, 0);
int fmt_fprintf(FILE *f, const char *fmt, ...) FMT_PRINTF(2, 3);
int fmt_printf(const char *fmt, ...) FMT_PRINTF(1, 2);

/*
 * The text form of an IPv4 (len 4) or IPv6 (len 16) address, as
 * inet_ntop writes it: dotted quad; for IPv6 lowercase hex groups without
 * leading zeros, the first longest run of two or more zero groups as "::"
 * (RFC 5952), and ::ffff:a.b.c.d for IPv4-mapped addresses.  cap of
 * FMT_INET_MAX always suffices.  Returns the length, or 0 (buf[0] = NUL
 * when cap > 0) for another len or a buffer too small.
 */
#define FMT_INET_MAX 46
size_t fmt_inet(const unsigned char *addr, size_t len, char *buf, size_t cap);

#endif
