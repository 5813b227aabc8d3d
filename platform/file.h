/*
 * file.h -- whole-file reads with a size cap, and atomic writes.
 *
 * Errors are returned as -errno; nothing is printed here.
 */
#ifndef DMQTT_FILE_H
#define DMQTT_FILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Read all of path into a fresh malloc'd buffer (NUL-terminated; *len
 * excludes the NUL).  Files larger than max bytes give -EFBIG without
 * reading them whole.  The caller frees *out.
 */
int file_read(const char *path, size_t max, char **out, size_t *len);

/*
 * Replace path with data atomically: write a temporary file in the same
 * folder with the given mode, fsync it, rename it over path, fsync the
 * folder.  On any failure path is untouched and the temporary file is
 * removed.  If uid/gid are not -1 the file is chowned before the rename.
 */
int file_write_atomic(const char *path, const void *data, size_t len,
	mode_t mode, uid_t uid, gid_t gid);

/* 1 when path exists with exactly these contents and this mode, else 0. */
int file_same(const char *path, const void *data, size_t len, mode_t mode);

#endif
