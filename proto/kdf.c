/* kdf.c -- see kdf.h */
#include "proto/kdf.h"

#include <string.h>

/* BearSSL is linked statically: hidden visibility keeps PIC-default
 * compilers from reaching its symbols through a GOT */
/* the C library first, so its declarations keep default visibility */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#pragma GCC visibility push(hidden)
#include "bearssl.h"
#pragma GCC visibility pop

const char *kdf_strerror(kdf_status_t st)
{
	switch (st) {
	case KDF_OK: return "ok";
	case KDF_E_EMPTY: return "mesh UUID is empty";
	case KDF_E_TOOLONG: return "mesh UUID is too long";
	case KDF_E_BUFFER: return "output buffer too small";
	case KDF_E_PARAM: return "invalid KDF parameter";
	}
	return "unknown KDF status";
}

kdf_status_t kdf_hkdf_sha256(const uint8_t *salt, size_t salt_len,
	const uint8_t *ikm, size_t ikm_len, const uint8_t *info, size_t info_len,
	uint8_t *out, size_t out_len)
{
	br_hkdf_context hc;
	if (out_len > 255 * 32)
		return KDF_E_PARAM;
	br_hkdf_init(&hc, &br_sha256_vtable,
		salt_len > 0 ? (const void *)salt : BR_HKDF_NO_SALT, salt_len);
	br_hkdf_inject(&hc, ikm, ikm_len);
	br_hkdf_flip(&hc);
	br_hkdf_produce(&hc, info, info_len, out, out_len);
	return KDF_OK;
}

kdf_status_t kdf_pbkdf2_sha512(const uint8_t *pass, size_t pass_len,
	const uint8_t *salt, size_t salt_len, uint32_t iterations,
	uint8_t *out, size_t out_len)
{
	br_hmac_key_context kc;
	br_hmac_context hm;
	uint8_t u[64], t[64], ctr[4];
	uint32_t block = 1;

	if (iterations == 0)
		return KDF_E_PARAM;
	br_hmac_key_init(&kc, &br_sha512_vtable, pass, pass_len);
	while (out_len > 0) {
		size_t n = out_len < 64 ? out_len : 64;
		ctr[0] = (uint8_t)(block >> 24);
		ctr[1] = (uint8_t)(block >> 16);
		ctr[2] = (uint8_t)(block >> 8);
		ctr[3] = (uint8_t)block;
		/* U1 = PRF(P, S || INT(i)); T = U1 ^ U2 ^ ... ^ Uc */
		br_hmac_init(&hm, &kc, 0);
		br_hmac_update(&hm, salt, salt_len);
		br_hmac_update(&hm, ctr, 4);
		br_hmac_out(&hm, u);
		memcpy(t, u, 64);
		for (uint32_t i = 1; i < iterations; i++) {
			br_hmac_init(&hm, &kc, 0);
			br_hmac_update(&hm, u, 64);
			br_hmac_out(&hm, u);
			for (size_t j = 0; j < 64; j++)
				t[j] ^= u[j];
		}
		memcpy(out, t, n);
		out += n;
		out_len -= n;
		block++;
	}
	memset(u, 0, sizeof u);
	memset(t, 0, sizeof t);
	return KDF_OK;
}

static void hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

kdf_status_t kdf_mesh_credentials(const char *uuid, size_t uuid_len,
	const uint8_t *salt, size_t salt_len,
	char *user, size_t user_cap, char *pass, size_t pass_cap)
{
	static const char user_info[] = "dmqtt/v1/mesh-username";
	static const char pass_info[] = "dmqtt/v1/mesh-password";
	char norm[KDF_UUID_MAX];
	uint8_t u[8], p[32];
	br_hkdf_context prk, hc;
	size_t a = 0, b = uuid_len;

	if (user_cap < KDF_USER_LEN + 1 || pass_cap < KDF_PASS_LEN + 1)
		return KDF_E_BUFFER;
	while (a < b && is_space(uuid[a]))
		a++;
	while (b > a && is_space(uuid[b - 1]))
		b--;
	if (a == b)
		return KDF_E_EMPTY;
	if (b - a > sizeof norm)
		return KDF_E_TOOLONG;
	for (size_t i = a; i < b; i++) {
		char c = uuid[i];
		norm[i - a] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	br_hkdf_init(&prk, &br_sha256_vtable,
		salt_len > 0 ? (const void *)salt : BR_HKDF_NO_SALT, salt_len);
	br_hkdf_inject(&prk, norm, b - a);
	br_hkdf_flip(&prk);
	/* each label expands from its own copy of the extracted state */
	hc = prk;
	br_hkdf_produce(&hc, user_info, sizeof user_info - 1, u, sizeof u);
	hc = prk;
	br_hkdf_produce(&hc, pass_info, sizeof pass_info - 1, p, sizeof p);
	memcpy(user, "dmqtt-", 6);
	hex(u, sizeof u, user + 6);
	hex(p, sizeof p, pass);
	memset(&prk, 0, sizeof prk);
	memset(&hc, 0, sizeof hc);
	memset(p, 0, sizeof p);
	memset(norm, 0, sizeof norm);
	return KDF_OK;
}
