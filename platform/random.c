/* random.c -- see random.h */
#define _GNU_SOURCE
#include "platform/random.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static int urandom(unsigned char *p, size_t n)
{
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int e = r < 0 ? errno : EIO;
			close(fd);
			return -e;
		}
		p += r;
		n -= (size_t)r;
	}
	close(fd);
	return 0;
}

int random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;
	while (n > 0) {
		/* the raw syscall: musl's wrapper needs 1.1.20, and the
		 * kernel call is what matters in a scratch container */
		long r = syscall(SYS_getrandom, p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == ENOSYS)
			return urandom(p, n);
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

uint32_t random_below(uint32_t bound)
{
	uint32_t x, limit = UINT32_MAX - UINT32_MAX % bound;
	do {
		if (random_bytes(&x, sizeof x) != 0)
			abort();
	} while (x >= limit); /* reject the biased tail */
	return x % bound;
}
