/* KDF tests: RFC 5869 and independently computed (Python hashlib/hmac)
 * vectors; the mesh credential vectors are the ones in README.md. */
#include "unit.h"
#include "proto/kdf.h"

#include <stdio.h>

static void unhex(const char *h, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(h + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

static void kdf_hkdf_rfc5869_case1(void)
{
	uint8_t ikm[22], salt[13], info[10], okm[42], want[42];
	memset(ikm, 0x0b, sizeof ikm);
	for (int i = 0; i < 13; i++)
		salt[i] = (uint8_t)i;
	for (int i = 0; i < 10; i++)
		info[i] = (uint8_t)(0xf0 + i);
	unhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
		"34007208d5b887185865", want, sizeof want);
	CHECK_INT(kdf_hkdf_sha256(salt, sizeof salt, ikm, sizeof ikm, info, sizeof info,
		okm, sizeof okm), KDF_OK);
	CHECK_MEM(okm, sizeof okm, want, sizeof want);
}

static void kdf_hkdf_rfc5869_case3_no_salt(void)
{
	uint8_t ikm[22], okm[42], want[42];
	memset(ikm, 0x0b, sizeof ikm);
	unhex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
		"9d201395faa4b61a96c8", want, sizeof want);
	CHECK_INT(kdf_hkdf_sha256(NULL, 0, ikm, sizeof ikm, NULL, 0, okm, sizeof okm), KDF_OK);
	CHECK_MEM(okm, sizeof okm, want, sizeof want);
	CHECK_INT(kdf_hkdf_sha256(NULL, 0, ikm, 1, NULL, 0, okm, 255 * 32 + 1), KDF_E_PARAM);
}

static void kdf_pbkdf2_vectors(void)
{
	uint8_t out[100], want[100], salt12[12];
	unhex("867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e1c8cf252"
		"c02d470a285a0501bad999bfe943c08f050235d7d68b1da55e63f73b60a57fce", want, 64);
	CHECK_INT(kdf_pbkdf2_sha512((const uint8_t *)"password", 8, (const uint8_t *)"salt", 4,
		1, out, 64), KDF_OK);
	CHECK_MEM(out, 64, want, 64);
	/* mosquitto's parameters: 12-byte salt, 101 iterations, 64 bytes */
	for (int i = 0; i < 12; i++)
		salt12[i] = (uint8_t)i;
	unhex("a28d20c974d562d5f039557dea69d85f75add93530333dfaab1dff870f462f4c"
		"2f94adb30edcd3f8445d6551cd59a8370bb13175525ee00f2370be1a829416ff", want, 64);
	CHECK_INT(kdf_pbkdf2_sha512((const uint8_t *)"mesh-pass", 9, salt12, 12, 101, out, 64), KDF_OK);
	CHECK_MEM(out, 64, want, 64);
	/* more than one block, last one partial */
	unhex("848f74be9002da07c6be2cb85f72ea25a0c8798dda876789960a627e3f48207d"
		"83529adc66b081e6a7fd4629530e5c6aa885eebac582e639d3a58be5bff852f3"
		"89a12f3a2cb020e451db9300b1b434238d71af4982f4ce735a0687791d8bd976"
		"6443be2c", want, 100);
	CHECK_INT(kdf_pbkdf2_sha512((const uint8_t *)"p", 1, (const uint8_t *)"s", 1, 2, out, 100), KDF_OK);
	CHECK_MEM(out, 100, want, 100);
	CHECK_INT(kdf_pbkdf2_sha512((const uint8_t *)"p", 1, (const uint8_t *)"s", 1, 0, out, 1), KDF_E_PARAM);
}

static void kdf_mesh_vectors(void)
{
	static const struct { const char *uuid, *salt, *user, *pass; } v[] = {
		{ "6f1d2c3e-8a4b-4c5d-9e6f-7a8b9c0d1e2f", "", "dmqtt-646d6d2ef7f487f6",
		  "2a31bc1690d994184001094359d05a9f12545882273076255d0351d512d4f733" },
		{ "  6F1D2C3E-8A4B-4C5D-9E6F-7A8B9C0D1E2F\n", "", "dmqtt-646d6d2ef7f487f6",
		  "2a31bc1690d994184001094359d05a9f12545882273076255d0351d512d4f733" },
		{ "6f1d2c3e-8a4b-4c5d-9e6f-7a8b9c0d1e2f", "veea-demo-salt", "dmqtt-8d25b69e5ab1d211",
		  "22be70ebbebc3769a0871081cafb0e56db8d744759c0ede88362a03264724892" },
	};
	char user[KDF_USER_LEN + 1], pass[KDF_PASS_LEN + 1];
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		CHECK_INT(kdf_mesh_credentials(v[i].uuid, strlen(v[i].uuid),
			(const uint8_t *)v[i].salt, strlen(v[i].salt),
			user, sizeof user, pass, sizeof pass), KDF_OK);
		CHECK_STR(user, v[i].user);
		CHECK_STR(pass, v[i].pass);
	}
}

static void kdf_mesh_errors(void)
{
	char user[KDF_USER_LEN + 1], pass[KDF_PASS_LEN + 1], big[KDF_UUID_MAX + 2];
	CHECK_INT(kdf_mesh_credentials(" \t\n", 3, NULL, 0, user, sizeof user, pass, sizeof pass),
		KDF_E_EMPTY);
	memset(big, 'a', sizeof big);
	CHECK_INT(kdf_mesh_credentials(big, sizeof big, NULL, 0, user, sizeof user, pass, sizeof pass),
		KDF_E_TOOLONG);
	CHECK_INT(kdf_mesh_credentials("x", 1, NULL, 0, user, KDF_USER_LEN, pass, sizeof pass),
		KDF_E_BUFFER);
	CHECK_STR(kdf_strerror(KDF_E_EMPTY), "mesh UUID is empty");
}

UNIT_SUITE(kdf, UNIT_CASE(kdf_hkdf_rfc5869_case1), UNIT_CASE(kdf_hkdf_rfc5869_case3_no_salt),
	UNIT_CASE(kdf_pbkdf2_vectors), UNIT_CASE(kdf_mesh_vectors), UNIT_CASE(kdf_mesh_errors))
