/*
 * kdf.h -- key derivation for the mesh secrets and mosquitto's password
 * file.  Pure: BearSSL's HKDF and HMAC, caller buffers, no globals.
 *
 * Mesh credentials (documented with test vectors in README.md):
 *
 *   uuid' = the mesh UUID with surrounding ASCII whitespace removed and
 *           ASCII letters lowercased
 *   PRK   = HKDF-Extract(SHA-256, salt = mesh_secret_salt or none, IKM = uuid')
 *   user  = "dmqtt-" || hex(HKDF-Expand(PRK, "dmqtt/v1/mesh-username", 8))
 *   pass  = hex(HKDF-Expand(PRK, "dmqtt/v1/mesh-password", 32))
 *
 * (an absent or empty salt is HKDF's default: HashLen zero bytes)
 */
#ifndef DMQTT_KDF_H
#define DMQTT_KDF_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
	KDF_OK = 0,
	KDF_E_EMPTY,     /* the UUID is empty after trimming */
	KDF_E_TOOLONG,   /* the UUID is longer than KDF_UUID_MAX */
	KDF_E_BUFFER,    /* an output buffer is too small */
	KDF_E_PARAM      /* iterations 0, or an output length out of range */
} kdf_status_t;

#define KDF_UUID_MAX 128
#define KDF_USER_LEN 22   /* "dmqtt-" + 16 hex digits */
#define KDF_PASS_LEN 64   /* 64 hex digits */

const char *kdf_strerror(kdf_status_t st);

/* HKDF-SHA256 (RFC 5869): out_len <= 255*32.  salt may be NULL/0 for none. */
kdf_status_t kdf_hkdf_sha256(const uint8_t *salt, size_t salt_len,
	const uint8_t *ikm, size_t ikm_len, const uint8_t *info, size_t info_len,
	uint8_t *out, size_t out_len);

/* PBKDF2-HMAC-SHA512 (RFC 8018), iterations >= 1, any out_len. */
kdf_status_t kdf_pbkdf2_sha512(const uint8_t *pass, size_t pass_len,
	const uint8_t *salt, size_t salt_len, uint32_t iterations,
	uint8_t *out, size_t out_len);

/*
 * The mesh username and password from the mesh UUID (see above).  user
 * receives KDF_USER_LEN + 1 bytes, pass KDF_PASS_LEN + 1 (NUL-terminated).
 */
kdf_status_t kdf_mesh_credentials(const char *uuid, size_t uuid_len,
	const uint8_t *salt, size_t salt_len,
	char *user, size_t user_cap, char *pass, size_t pass_cap);

#endif
