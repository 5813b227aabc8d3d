/* clock.h -- time sources.  Cores never read clocks: callers pass these in. */
#ifndef DMQTT_CLOCK_H
#define DMQTT_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Milliseconds on a monotonic clock (CLOCK_MONOTONIC); never goes back. */
uint64_t clock_mono_ms(void);

/* Seconds since the Unix epoch on the wall clock (for certificate dates,
 * log stamps and payloads). */
int64_t clock_wall_s(void);

/* t (Unix seconds) as "2026-11-29T09:10:25Z" into buf (at least 21 bytes). */
void clock_iso8601(int64_t t, char *buf, size_t cap);

/* Sleep for ms milliseconds (restarted after signals until it elapses). */
void clock_sleep_ms(uint32_t ms);

#endif
