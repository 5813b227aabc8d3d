/* random.h -- cryptographic randomness from the kernel (getrandom). */
#ifndef DMQTT_RANDOM_H
#define DMQTT_RANDOM_H

#include <stddef.h>
#include <stdint.h>

/* Fill buf with n random bytes.  Returns 0, or -errno when the kernel has
 * no getrandom (pre-3.17) and /dev/urandom cannot be read either. */
int random_bytes(void *buf, size_t n);

/* A uniformly distributed value in [0, bound) (bound > 0); aborts the
 * process if no randomness can be had, which no supported kernel does. */
uint32_t random_below(uint32_t bound);

#endif
