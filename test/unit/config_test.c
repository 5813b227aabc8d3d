/* Unit tests of src/config: every rule of docs/config.md, from memory. */
#include "unit.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "platform/log.h"
#include "proto/base64.h"
#include "src/config.h"

/*
 * A small EC (P-256) CA made once with
 *   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
 *     -subj "/CN=dmqtt unit test CA" -days 36500 -keyout /dev/null -out ca.pem
 * (valid 2026-11-29 to 2126-11-05; its key was thrown away).
 */
static const char test_ca_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBkjCCATegAwIBAgIUbFSr0qgTh5FLjdnZX/Ir24TrTIcwCgYIKoZIzj0EAwIw\n"
	"HTEbMBkGA1UEAwwSZG1xdHQgdW5pdCB0ZXN0IENBMCAXDTI2MTEyOTA5MzYwM1oY\n"
	"DzIxMjYxMTA1MDkzNjAzWjAdMRswGQYDVQQDDBJkbXF0dCB1bml0IHRlc3QgQ0Ew\n"
	"WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQjjn3ZscY242zr3Ln4iu8xTnSlajiR\n"
	"RW+3zwEKC2nC/BWiWvrQzbf2GV+q3aVRo6ZWHRAPDpgdC1H1f+/Cybw/o1MwUTAd\n"
	"BgNVHQ4EFgQUv7gL9YlBH9qs7mJ+aNbSQ1LjYqkwHwYDVR0jBBgwFoAUv7gL9YlB\n"
	"H9qs7mJ+aNbSQ1LjYqkwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBG\n"
	"AiEA0DsA9OIJp2gx0qpD7Cq+wjj31NQ6CWJcgBWm2/K4Y/gCIQDDipI6z4oyiXnb\n"
	"o2rXzDeTWCqlXcIuhq6yBn/hqi5FgQ==\n"
	"-----END CERTIFICATE-----\n";

/* `base64 -w 0 ca.pem` of the above */
static const char test_ca_b64[] =
	"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJrakNDQVRlZ0F3SUJBZ0lVYkZTcjBxZ1RoNUZM"
	"amRuWlgvSXIyNFRyVEljd0NnWUlLb1pJemowRUF3SXcKSFRFYk1Ca0dBMVVFQXd3U1pHMXhkSFFnZFc1"
	"cGRDQjBaWE4wSUVOQk1DQVhEVEkyTVRFeU9UQTVNell3TTFvWQpEekl4TWpZeE1UQTFNRGt6TmpBeldq"
	"QWRNUnN3R1FZRFZRUUREQkprYlhGMGRDQjFibWwwSUhSbGMzUWdRMEV3CldUQVRCZ2NxaGtqT1BRSUJC"
	"Z2dxaGtqT1BRTUJCd05DQUFRampuM1pzY1kyNDJ6cjNMbjRpdTh4VG5TbGFqaVIKUlcrM3p3RUtDMm5D"
	"L0JXaVd2clF6YmYyR1YrcTNhVlJvNlpXSFJBUERwZ2RDMUgxZisvQ3lidy9vMU13VVRBZApCZ05WSFE0"
	"RUZnUVV2N2dMOVlsQkg5cXM3bUorYU5iU1ExTGpZcWt3SHdZRFZSMGpCQmd3Rm9BVXY3Z0w5WWxCCkg5"
	"cXM3bUorYU5iU1ExTGpZcWt3RHdZRFZSMFRBUUgvQkFVd0F3RUIvekFLQmdncWhrak9QUVFEQWdOSkFE"
	"QkcKQWlFQTBEc0E5T0lKcDJneDBxcEQ3Q3Erd2pqMzFOUTZDV0pjZ0JXbTIvSzRZL2dDSVFERGlwSTZ6"
	"NG95aVhuYgpvMnJYekRlVFdDcWxYY0l1aHE2eUJuL2hxaTVGZ1E9PQotLS0tLUVORCBDRVJUSUZJQ0FU"
	"RS0tLS0tCg==";

/* `openssl x509 -noout -fingerprint -sha256` of the CA */
static const uint8_t test_ca_sha256[32] = {
	0xE9, 0x4A, 0x83, 0x31, 0x31, 0xC4, 0xF6, 0xED, 0x32, 0x37, 0x9A, 0x7B,
	0x2E, 0x5D, 0x95, 0x22, 0x9C, 0x1D, 0xFD, 0xD1, 0x85, 0xC2, 0x1F, 0x7E,
	0x0B, 0x97, 0x63, 0xCC, 0x17, 0x0E, 0x47, 0xF0,
};

static char docbuf[64 * 1024];

/* printf into a static document buffer */
static const char *doc(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *doc(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(docbuf, sizeof docbuf, fmt, ap);
	va_end(ap);
	return docbuf;
}

/* base64 of a C string, in a static buffer */
static const char *b64(const char *s)
{
	static char out[8192];
	size_t n;
	if (b64_encode((const uint8_t *)s, strlen(s), out, sizeof out, &n) != B64_OK)
		return "";
	return out;
}

static dmqtt_config_t cfg;
static config_diag_t diag;

/* parse js (and check a role when role >= 0); fresh cfg and diag each time */
static config_status_t parse_role(const char *js, int role)
{
	config_status_t st;
	config_free(&cfg);
	config_diag_free(&diag);
	config_diag_init(&diag);
	st = config_parse(js, strlen(js), "t.json", &cfg, &diag);
	if (role >= 0 && (st == CONFIG_OK || st == CONFIG_ERR_INVALID))
		st = config_check(&cfg, (config_role_t)role, &diag);
	return st;
}

static config_status_t parse(const char *js)
{
	return parse_role(js, -1);
}

/* the first message about key (exactly) whose text holds `sub`, or NULL */
static const config_msg_t *msg(const char *key, const char *sub)
{
	for (size_t i = 0; i < diag.n; i++)
		if ((key == NULL || strcmp(diag.msgs[i].key, key) == 0) &&
		    strstr(diag.msgs[i].text, sub) != NULL)
			return &diag.msgs[i];
	return NULL;
}

static void dump_diag(void)
{
	for (size_t i = 0; i < diag.n; i++)
		fprintf(stderr, "    [%s] %s\n", diag.msgs[i].key, diag.msgs[i].text);
}

#define CHECK_MSG(key, sub) do { if (msg((key), (sub)) == NULL) { dump_diag(); \
	unit_fail(__FILE__, __LINE__, "no message for %s containing \"%s\"", \
	(key) ? (key) : "(any)", (sub)); } } while (0)

#define CHECK_ST(got, want) do { config_status_t s_ = (got); if (s_ != (want)) { \
	dump_diag(); CHECK_INT(s_, want); } } while (0)

/* --------------------------------------------------------------- cases */

static void cfg_veea_strings(void)
{
	/* the template's shape: every value a string, ports included */
	const char *js = doc("{\n"
		"  \"mqtt_cloud_broker_hostname\": \"mqtt.example.com\",\n"
		"  \"mqtt_cloud_broker_port\": \"8884\",\n"
		"  \"mqtt_cloud_broker_username\": \"men-C25DTADSR00000001134\",\n"
		"  \"mqtt_cloud_broker_password\": \"s3cr3t pass\",\n"
		"  \"mqtt_cloud_broker_ca_cert_b64\": \"%s\",\n"
		"  \"mqtt_mesh_broker_port\": \"1884\",\n"
		"  \"mesh_secret_salt\": \"salty\",\n"
		"  \"telemetry_interval_s\": \"30\",\n"
		"  \"telemetry_interfaces\": [\"eth0\", \"wlan0\"],\n"
		"  \"allowed_commands\": {\"df\": [\"/bin/df\", \"-h\"], \"reboot-app\": [\"/usr/bin/app\"]},\n"
		"  \"bridge_topics\": [\"req/# in 1\", \"topic  data/#  out  0 \", \"x/+/y both 2 mesh/ cloud/\"],\n"
		"  \"log_level\": \"debug\",\n"
		"  \"mesh_broker_ip\": \"10.0.0.1\"\n"
		"}\n", test_ca_b64);

	CHECK_ST(parse_role(js, CONFIG_ROLE_BROKER), CONFIG_OK);
	CHECK_INT(diag.n, 0);
	CHECK_STR(cfg.source, "t.json");
	CHECK_STR(cfg.cloud_host, "mqtt.example.com");
	CHECK_INT(cfg.cloud_port, 8884);
	CHECK_STR(cfg.cloud_username, "men-C25DTADSR00000001134");
	CHECK_STR(cfg.cloud_password, "s3cr3t pass");
	CHECK_MEM(cfg.cloud_ca_pem, cfg.cloud_ca_pem_len, test_ca_pem, sizeof test_ca_pem - 1);
	CHECK_INT(cfg.cloud_ca_pem[cfg.cloud_ca_pem_len], 0);
	CHECK_INT(cfg.cloud_ca_ncerts, 1);
	CHECK_MEM(cfg.cloud_ca_certs[0].sha256, 32, test_ca_sha256, 32);
	CHECK(cfg.cloud_ca_certs[0].is_ca);
	CHECK_INT(cfg.mesh_port, 1884);
	CHECK_STR(cfg.mesh_secret_salt, "salty");
	CHECK_INT(cfg.telemetry_interval_s, 30);
	CHECK(!cfg.telemetry_all);
	CHECK_INT(cfg.ntelemetry_interfaces, 2);
	CHECK_STR(cfg.telemetry_interfaces[0], "eth0");
	CHECK_STR(cfg.telemetry_interfaces[1], "wlan0");
	CHECK_INT(cfg.ncommands, 2);
	CHECK_STR(cfg.commands[0].name, "df");
	CHECK_INT(cfg.commands[0].argc, 2);
	CHECK_STR(cfg.commands[0].argv[0], "/bin/df");
	CHECK_STR(cfg.commands[0].argv[1], "-h");
	CHECK(cfg.commands[0].argv[2] == NULL);
	CHECK_STR(cfg.commands[1].name, "reboot-app");
	CHECK_INT(cfg.nbridge_topics, 3);
	CHECK_STR(cfg.bridge_topics[0], "req/# in 1");
	CHECK_STR(cfg.bridge_topics[1], "data/# out 0");
	CHECK_STR(cfg.bridge_topics[2], "x/+/y both 2 mesh/ cloud/");
	CHECK_INT(cfg.log_level, LOG_DEBUG);
	CHECK_STR(cfg.mesh_broker_ip, "10.0.0.1");
	for (int k = 0; k < CONFIG_NKEYS; k++)
		CHECK_INT(cfg.state[k], CONFIG_SET);
}

static void cfg_numbers_for_ports(void)
{
	CHECK_ST(parse("{\"mqtt_cloud_broker_port\": 8883, \"mqtt_mesh_broker_port\": 1,"
		" \"telemetry_interval_s\": 86400}"), CONFIG_OK);
	CHECK_INT(cfg.cloud_port, 8883);
	CHECK_INT(cfg.mesh_port, 1);
	CHECK_INT(cfg.telemetry_interval_s, 86400);
	CHECK_ST(parse("{\"mqtt_mesh_broker_port\": 65535}"), CONFIG_OK);
	CHECK_INT(cfg.mesh_port, 65535);
	CHECK_ST(parse("{\"mqtt_mesh_broker_port\": \"65535\"}"), CONFIG_OK);
	CHECK_INT(cfg.mesh_port, 65535);
}

static void cfg_defaults(void)
{
	CHECK_ST(parse_role("{}", CONFIG_ROLE_NODE), CONFIG_OK);
	CHECK_INT(diag.n, 0);
	CHECK(cfg.cloud_host == NULL && cfg.cloud_password == NULL && cfg.cloud_ca_pem == NULL);
	CHECK_INT(cfg.cloud_port, 8883);
	CHECK_INT(cfg.mesh_port, 1883);
	CHECK_INT(cfg.telemetry_interval_s, 10);
	CHECK(cfg.telemetry_all);
	CHECK_INT(cfg.ncommands, 0);
	CHECK_INT(cfg.nbridge_topics, 4);
	CHECK_STR(cfg.bridge_topics[0], "req/# in 1");
	CHECK_STR(cfg.bridge_topics[1], "rsp/# out 1");
	CHECK_STR(cfg.bridge_topics[2], "data/# out 0");
	CHECK_STR(cfg.bridge_topics[3], "status/+ out 1");
	CHECK_INT(cfg.log_level, LOG_INFO);
	CHECK(cfg.mesh_broker_ip == NULL && cfg.mesh_secret_salt == NULL);
	for (int k = 0; k < CONFIG_NKEYS; k++)
		CHECK_INT(cfg.state[k], CONFIG_ABSENT);
	/* the cloud side needs nothing from the file either */
	CHECK_ST(parse_role("{}", CONFIG_ROLE_CLOUD), CONFIG_OK);
	/* whitespace around the object is fine */
	CHECK_ST(parse_role(" \r\n\t{ }\n\n", CONFIG_ROLE_NODE), CONFIG_OK);
}

static void cfg_ports_out_of_range(void)
{
	static const struct { const char *val, *found; } bad[] = {
		{ "0", "found 0" }, { "65536", "found 65536" }, { "-1", "found -1" },
		{ "\"0\"", "found \"0\"" }, { "\"70000\"", "found \"70000\"" },
		{ "1.5", "found 1.5" }, { "1e3", "found 1e3" }, { "\"abc\"", "found \"abc\"" },
		{ "\" 1883\"", "found \" 1883\"" }, { "\"+1883\"", "found \"+1883\"" },
		{ "\"01883\"", "found \"01883\"" }, { "99999999999999999999999", "found 9999" },
		{ "\"1883\\n\"", "found \"1883\\n\"" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK_ST(parse(doc("{\"mqtt_cloud_broker_port\": %s}", bad[i].val)), CONFIG_ERR_INVALID);
		CHECK_INT(diag.nerrors, 1);
		CHECK_MSG("mqtt_cloud_broker_port", "expected a port number (1-65535), ");
		CHECK_MSG("mqtt_cloud_broker_port", bad[i].found);
		CHECK_INT(cfg.state[CONFIG_KEY_CLOUD_PORT], CONFIG_INVALID);
		CHECK_INT(cfg.cloud_port, 8883);
		/* the position is the value's */
		CHECK_INT(diag.msgs[0].line, 1);
		CHECK_INT(diag.msgs[0].col, 28);
	}
}

/* every key given a value of a type it cannot take */
static void cfg_wrong_types(void)
{
	static const struct { const char *key, *val, *want; } bad[] = {
		{ "mqtt_cloud_broker_hostname", "42", "expected a host name (string), found a number" },
		{ "mqtt_cloud_broker_port", "[]", "expected a port number (1-65535) as a number or string, found an array" },
		{ "mqtt_cloud_broker_port", "true", "found a boolean (true)" },
		{ "mqtt_cloud_broker_username", "{}", "expected a string, found an object" },
		{ "mqtt_cloud_broker_password", "null", "expected a string, found null" },
		{ "mqtt_cloud_broker_ca_cert_b64", "[\"x\"]", "found an array" },
		{ "mqtt_mesh_broker_port", "[1883]", "mqtt_mesh_broker_port: expected a port number (1-65535) as a number or string, found an array" },
		{ "mesh_secret_salt", "12", "expected a string, found a number" },
		{ "telemetry_interval_s", "false", "expected a number of seconds (1-86400) as a number or string, found a boolean (false)" },
		{ "telemetry_interfaces", "\"eth0\"", "expected an array of interface names, found a string" },
		{ "allowed_commands", "[]", "expected an object (command name -> argv array), found an array" },
		{ "bridge_topics", "\"req/# in 1\"", "expected an array of mosquitto topic lines, found a string" },
		{ "log_level", "3", "found a number" },
		{ "mesh_broker_ip", "{\"a\":1}", "found an object" },
	};
	char all[4096];
	size_t o = 0;
	int seen[CONFIG_NKEYS] = { 0 };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK_ST(parse(doc("{\"%s\": %s}", bad[i].key, bad[i].val)), CONFIG_ERR_INVALID);
		CHECK_INT(diag.nerrors, 1);
		CHECK_MSG(bad[i].key, bad[i].want);
		CHECK_MSG(bad[i].key, "t.json:1:");
	}
	/* all at once: one error per key, in document order */
	o += (size_t)snprintf(all + o, sizeof all - o, "{");
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int k;
		for (k = 0; k < CONFIG_NKEYS; k++)
			if (strcmp(config_key_name((config_key_t)k), bad[i].key) == 0)
				break;
		if (seen[k]++)
			continue;
		o += (size_t)snprintf(all + o, sizeof all - o, "%s\n\"%s\": %s",
			o > 1 ? "," : "", bad[i].key, bad[i].val);
	}
	snprintf(all + o, sizeof all - o, "\n}");
	CHECK_ST(parse_role(all, CONFIG_ROLE_BROKER), CONFIG_ERR_INVALID);
	CHECK_INT(diag.nerrors, CONFIG_NKEYS); /* and no "missing" on top */
	for (int k = 0; k < CONFIG_NKEYS; k++) {
		CHECK_STR(diag.msgs[k].key, config_key_name((config_key_t)k));
		CHECK_INT(diag.msgs[k].line, (size_t)k + 2);
		CHECK_INT(cfg.state[k], CONFIG_INVALID);
	}
}

static void cfg_missing_required_together(void)
{
	static const char *const need[] = {
		"mqtt_cloud_broker_hostname", "mqtt_cloud_broker_username",
		"mqtt_cloud_broker_password", "mqtt_cloud_broker_ca_cert_b64",
	};
	CHECK_ST(parse_role("{}", CONFIG_ROLE_BROKER), CONFIG_ERR_INVALID);
	CHECK_INT(diag.nerrors, 4);
	for (size_t i = 0; i < 4; i++) {
		CHECK_MSG(need[i], "missing: the broker role needs it");
		CHECK_INT(diag.msgs[i].line, 0); /* no position: "t.json: key: ..." */
		CHECK_MSG(need[i], "t.json: ");
	}
	/* blank template fields count as not set: reported as empty */
	CHECK_ST(parse_role("{\"mqtt_cloud_broker_hostname\": \"\", \"mqtt_cloud_broker_username\": \"u\","
		" \"mqtt_cloud_broker_port\": \"\"}", CONFIG_ROLE_BROKER), CONFIG_ERR_INVALID);
	CHECK_INT(diag.nerrors, 3);
	CHECK_MSG("mqtt_cloud_broker_hostname", "empty: the broker role needs a value");
	CHECK_MSG("mqtt_cloud_broker_password", "missing");
	CHECK_MSG("mqtt_cloud_broker_ca_cert_b64", "missing");
	CHECK_INT(cfg.state[CONFIG_KEY_CLOUD_PORT], CONFIG_EMPTY);
	CHECK_INT(cfg.cloud_port, 8883);
	/* the same file is fine for a node */
	CHECK_ST(parse_role("{\"mqtt_cloud_broker_hostname\": \"\", \"mqtt_cloud_broker_username\": \"u\","
		" \"mqtt_cloud_broker_port\": \"\"}", CONFIG_ROLE_NODE), CONFIG_OK);
}

static void cfg_unknown_key_warns(void)
{
	CHECK_ST(parse_role("{\"mqtt_mesh_broker_prot\": 1883,\n \"colour\": \"blue\"}",
		CONFIG_ROLE_NODE), CONFIG_OK);
	CHECK_INT(diag.nerrors, 0);
	CHECK_INT(diag.nwarnings, 2);
	CHECK_INT(diag.msgs[0].sev, CONFIG_SEV_WARNING);
	CHECK_STR(diag.msgs[0].text, "t.json:1:2: warning: mqtt_mesh_broker_prot: unknown key, "
		"ignored (did you mean mqtt_mesh_broker_port?)");
	CHECK_STR(diag.msgs[1].text, "t.json:2:2: warning: colour: unknown key, ignored");
	CHECK_INT(cfg.mesh_port, 1883);
	/* a key with control characters is shown escaped */
	CHECK_ST(parse("{\"a\\nb\\u0000\": 1}"), CONFIG_OK);
	CHECK_MSG("a\\x0ab\\x00", "unknown key");
}

static void cfg_duplicate_keys(void)
{
	CHECK_ST(parse("{\"mqtt_mesh_broker_port\": 1,\n\"mqtt_mesh_broker_port\": 2}"),
		CONFIG_ERR_INVALID);
	CHECK_INT(diag.nerrors, 1);
	CHECK_STR(diag.msgs[0].text, "t.json:2:1: mqtt_mesh_broker_port: duplicated key (first at line 1)");
	CHECK_INT(cfg.state[CONFIG_KEY_MESH_PORT], CONFIG_INVALID);
	CHECK_INT(cfg.mesh_port, 1883); /* neither value is used */
	/* compared unescaped */
	CHECK_ST(parse("{\"log_level\": \"info\", \"log_l\\u0065vel\": \"debug\"}"), CONFIG_ERR_INVALID);
	CHECK_MSG("log_level", "duplicated key");
	/* unknown keys too; three times gives two errors */
	CHECK_ST(parse("{\"x\": 1, \"x\": 2, \"x\": 3}"), CONFIG_ERR_INVALID);
	CHECK_INT(diag.nerrors, 2);
	CHECK_INT(diag.nwarnings, 1);
	/* a duplicated required key is not also "missing" */
	CHECK_ST(parse_role(doc("{\"mqtt_cloud_broker_hostname\": \"a\", \"mqtt_cloud_broker_hostname\": \"b\","
		"\"mqtt_cloud_broker_username\": \"u\", \"mqtt_cloud_broker_password\": \"p\","
		"\"mqtt_cloud_broker_ca_cert_b64\": \"%s\"}", test_ca_b64), CONFIG_ROLE_BROKER),
		CONFIG_ERR_INVALID);
	CHECK_INT(diag.nerrors, 1);
}

static void cfg_ca_forms(void)
{
	char wrapped[4096];
	size_t o = 0, n = strlen(test_ca_b64);

	/* base64's 76-column lines, CRLF, a trailing newline: all decode */
	for (size_t i = 0; i < n; i += 76) {
		size_t k = n - i < 76 ? n - i : 76;
		memcpy(wrapped + o, test_ca_b64 + i, k);
		o += k;
		memcpy(wrapped + o, i % 152 ? "\\r\\n" : "\\n", i % 152 ? 4 : 2);
		o += i % 152 ? 4 : 2;
	}
	wrapped[o] = '\0';
	CHECK_ST(parse(doc("{\"mqtt_cloud_broker_ca_cert_b64\": \"%s\"}", wrapped)), CONFIG_OK);
	CHECK_INT(cfg.cloud_ca_ncerts, 1);
	CHECK_MEM(cfg.cloud_ca_pem, cfg.cloud_ca_pem_len, test_ca_pem, sizeof test_ca_pem - 1);
	/* two certificates (a bundle), and text around them */
	{
		char two[4096];
		snprintf(two, sizeof two, "my CA\r\n%s\nits copy\n%s", test_ca_pem, test_ca_pem);
		/* no newline after the last END line */
		two[strlen(two) - 1] = '\0';
		CHECK_ST(parse(doc("{\"mqtt_cloud_broker_ca_cert_b64\": \"%s\"}", b64(two))), CONFIG_OK);
		CHECK_INT(cfg.cloud_ca_ncerts, 2);
		CHECK_MEM(cfg.cloud_ca_certs[1].sha256, 32, test_ca_sha256, 32);
	}
}

static void cfg_ca_errors(void)
{
	char junk[1024];

	CHECK_ST(parse("{\"mqtt_cloud_broker_ca_cert_b64\": \"not base64!\"}"), CONFIG_ERR_INVALID);
	CHECK_MSG("mqtt_cloud_broker_ca_cert_b64", "is not valid base64: ");
	CHECK_MSG("mqtt_cloud_broker_ca_cert_b64", "at character 4");
	CHECK_INT(cfg.state[CONFIG_KEY_CLOUD_CA], CONFIG_INVALID);
	CHECK(cfg.cloud_ca_pem == NULL);
	CHECK_ST(parse("{\"mqtt_cloud_broker_ca_cert_b64\": \"QUJD\\nRA\"}"), CONFIG_ERR_INVALID);
	CHECK_MSG("mqtt_cloud_broker_ca_cert_b64", "base64");
	CHECK_ST(parse("{\"mqtt_cloud_broker_ca_cert_b64\": \"QUJD RA==\"}"), CONFIG_ERR_INVALID);
	CHECK_MSG("mqtt_cloud_broker_ca_cert_b64", "base64");
	/* the PEM itself pasted in */
	CHECK_ST(parse("{\"mqtt_cloud_broker_ca_cert_b64\": \"-----BEGIN CERTIFICATE-----\\nMIIB\"}"),
		CONFIG_ERR_INVALID);
	CHECK_MSG("mqtt_cloud_broker_ca_cert_b64", "holds PEM text, not its base64");
	/* base64 of something that is not PEM at all */
	CHECK_ST(parse(doc("{\"mqtt_cloud_broker_ca_cert_b64\": \"%s\"}", b64("hello, world\n"))),
		CONFIG_ERR_INVALID);
	CHECK_MSG("mqtt_cloud_broker_ca_cert_b64", "decodes to 13 bytes without a PEM CERTIFICATE block");
	/* DER */
	CHECK_ST(parse("{\"mqtt_cloud_broker_ca_cert_b64\": \"MIIBkjCCATeg\"}"), CONFIG_ERR_INVALID);
	CHECK_MSG("mqtt_cloud_broker_ca_cert_b64", "looks like DER");
	/* a CERTIFICATE block that is not X.509 */
	CHECK_ST(parse(doc("{\"mqtt_cloud_broker_ca_cert_b64\": \"%s\"}",
		b64("-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n"))),
		CONFIG_ERR_INVALID);
	CHECK_MSG("mqtt_cloud_broker_ca_cert_b64", "certificate 1 (PEM block 1) is not a valid X.509 certificate");
	/* a good one followed by a truncated one */
	snprintf(junk, sizeof junk, "%s-----BEGIN CERTIFICATE-----\nMIIBkjCCATegAwIBAgIUbFSr\n"
		"-----END CERTIFICATE-----\n", test_ca_pem);
	CHECK_ST(parse(doc("{\"mqtt_cloud_broker_ca_cert_b64\": \"%s\"}", b64(junk))), CONFIG_ERR_INVALID);
	CHECK_MSG("mqtt_cloud_broker_ca_cert_b64", "certificate 2 (PEM block 2)");
	/* no END line */
	CHECK_ST(parse(doc("{\"mqtt_cloud_broker_ca_cert_b64\": \"%s\"}",
		b64("-----BEGIN CERTIFICATE-----\nMIIBkjCCATeg\n"))), CONFIG_ERR_INVALID);
	CHECK_MSG("mqtt_cloud_broker_ca_cert_b64", "has no END line");
	/* bad base64 inside the PEM block */
	CHECK_ST(parse(doc("{\"mqtt_cloud_broker_ca_cert_b64\": \"%s\"}",
		b64("-----BEGIN CERTIFICATE-----\nMI*Bk\n-----END CERTIFICATE-----\n"))), CONFIG_ERR_INVALID);
	CHECK_MSG("mqtt_cloud_broker_ca_cert_b64", "malformed");
	/* a private key does not belong here */
	snprintf(junk, sizeof junk, "%s-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
		test_ca_pem);
	CHECK_ST(parse(doc("{\"mqtt_cloud_broker_ca_cert_b64\": \"%s\"}", b64(junk))), CONFIG_ERR_INVALID);
	CHECK_MSG("mqtt_cloud_broker_ca_cert_b64", "PEM block 2 is a private key");
	/* other blocks are ignored with a warning */
	snprintf(junk, sizeof junk, "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n%s",
		test_ca_pem);
	CHECK_ST(parse(doc("{\"mqtt_cloud_broker_ca_cert_b64\": \"%s\"}", b64(junk))), CONFIG_OK);
	CHECK_INT(diag.nwarnings, 1);
	CHECK_MSG("mqtt_cloud_broker_ca_cert_b64", "PEM block 1 (X509 CRL) is not a certificate; ignored");
	CHECK_INT(cfg.cloud_ca_ncerts, 1);
	/* CRLF line ends (a CA file from Windows) */
	{
		char crlf[4096];
		size_t o = 0;
		for (const char *p = test_ca_pem; *p != '\0' && o + 2 < sizeof crlf; p++) {
			if (*p == '\n')
				crlf[o++] = '\r';
			crlf[o++] = *p;
		}
		crlf[o] = '\0';
		CHECK_ST(parse(doc("{\"mqtt_cloud_broker_ca_cert_b64\": \"%s\"}", b64(crlf))), CONFIG_OK);
		CHECK_INT(cfg.cloud_ca_ncerts, 1);
	}
	/* a BEGIN line closed by another label's END */
	CHECK_ST(parse(doc("{\"mqtt_cloud_broker_ca_cert_b64\": \"%s\"}",
		b64("-----BEGIN CERTIFICATE-----\nMIIB\n-----END X509 CRL-----\n"))), CONFIG_ERR_INVALID);
	CHECK_MSG("mqtt_cloud_broker_ca_cert_b64", "PEM block 1 (CERTIFICATE, line 1) has no END line with the same label");
	/* only a CRL: no certificate at all */
	CHECK_ST(parse(doc("{\"mqtt_cloud_broker_ca_cert_b64\": \"%s\"}",
		b64("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"))), CONFIG_ERR_INVALID);
	CHECK_MSG("mqtt_cloud_broker_ca_cert_b64", "without a PEM CERTIFICATE block");
}

static void cfg_bridge_topics(void)
{
	static const struct { const char *line, *norm; } good[] = {
		{ "# both 0", "# both 0" },
		{ "topic # both 0", "# both 0" },
		{ "  a/b   in   2  ", "a/b in 2" },
		{ "+/x/# out 1", "+/x/# out 1" },
		{ "\\\"\\\" out 1 local/ remote/", "\"\" out 1 local/ remote/" },
		{ "x in 0 \\\"\\\" remote/", "x in 0 \"\" remote/" },
		{ "topic a out 0 l/ r/", "a out 0 l/ r/" },
		{ "caf\\u00e9/# out 1", "caf\xc3\xa9/# out 1" },
	};
	static const struct { const char *line, *why; } bad[] = {
		{ "req/# in 1\\nlistener 1884", "control character (\\x0a) at byte 11" },
		{ "req/# in 1\\r", "control character" },
		{ "req/#\\tin 1", "control character" },
		{ "req/# in", "found 2 fields" },
		{ "req/#", "found 1 field" },
		{ "req/# in 1 local/", "found 4 fields" },
		{ "a b c d e f g h", "found 8 fields" },
		{ "req/# up 1", "direction must be in, out or both" },
		{ "req/# in 3", "QoS must be 0, 1 or 2" },
		{ "req/# in -1", "QoS" },
		{ "a/#/b in 1", "'#' must be the last level" },
		{ "a# in 1", "'#' must be the last level" },
		{ "a/b+ in 1", "'+' must be a whole level" },
		{ "\\\"\\\" out 1", "an empty pattern" },
		{ "\\\"\\\" out 1 \\\"\\\" \\\"\\\"", "an empty pattern" },
		{ "a out 1 l/# r/", "prefixes may not contain" },
		{ "", "empty topic line" },
		{ "   ", "found 0 fields" },
	};

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		CHECK_ST(parse(doc("{\"bridge_topics\": [\"%s\"]}", good[i].line)), CONFIG_OK);
		CHECK_INT(cfg.nbridge_topics, 1);
		CHECK_STR(cfg.bridge_topics[0], good[i].norm);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK_ST(parse(doc("{\"bridge_topics\": [\"rsp/# out 1\", \"%s\"]}", bad[i].line)),
			CONFIG_ERR_INVALID);
		CHECK_INT(diag.nerrors, 1);
		CHECK_MSG("bridge_topics[1]", bad[i].why);
		CHECK_INT(cfg.nbridge_topics, 4); /* back to the defaults */
	}
	CHECK_ST(parse("{\"bridge_topics\": []}"), CONFIG_ERR_INVALID);
	CHECK_MSG("bridge_topics", "is empty");
	CHECK_ST(parse("{\"bridge_topics\": [\"a in 1\", 7, null]}"), CONFIG_ERR_INVALID);
	CHECK_INT(diag.nerrors, 2);
	CHECK_MSG("bridge_topics[1]", "expected a topic line (string), found a number");
	CHECK_MSG("bridge_topics[2]", "found null");
}

static void cfg_allowed_commands(void)
{
	CHECK_ST(parse("{\"allowed_commands\": {}}"), CONFIG_OK);
	CHECK_INT(cfg.ncommands, 0);
	CHECK_INT(cfg.state[CONFIG_KEY_ALLOWED_COMMANDS], CONFIG_SET);
	CHECK_ST(parse("{\"allowed_commands\": {\"df\": [\"/bin/df\", \"\", \"-h\"]}}"), CONFIG_OK);
	CHECK_INT(cfg.commands[0].argc, 3);
	CHECK_STR(cfg.commands[0].argv[1], "");

	CHECK_ST(parse("{\"allowed_commands\": {\"ls\": [\"ls\", \"-l\"]}}"), CONFIG_ERR_INVALID);
	CHECK_MSG("allowed_commands.ls[0]", "argv[0] must be the program's absolute path, found \"ls\"");
	CHECK_ST(parse("{\"allowed_commands\": {\"ls\": [\"./ls\"]}}"), CONFIG_ERR_INVALID);
	CHECK_MSG("allowed_commands.ls[0]", "absolute path");
	CHECK_ST(parse("{\"allowed_commands\": {\"ls\": [\"/bin/\"]}}"), CONFIG_ERR_INVALID);
	CHECK_MSG("allowed_commands.ls[0]", "absolute path");
	CHECK_ST(parse("{\"allowed_commands\": {\"ls\": [\"\"]}}"), CONFIG_ERR_INVALID);
	CHECK_MSG("allowed_commands.ls[0]", "absolute path");
	CHECK_ST(parse("{\"allowed_commands\": {\"ls\": []}}"), CONFIG_ERR_INVALID);
	CHECK_MSG("allowed_commands.ls", "argv is empty");
	CHECK_ST(parse("{\"allowed_commands\": {\"ls\": \"/bin/ls -l\"}}"), CONFIG_ERR_INVALID);
	CHECK_MSG("allowed_commands.ls", "expected an argv array of strings, found a string");
	CHECK_ST(parse("{\"allowed_commands\": {\"ls\": [\"/bin/ls\", 1, [\"-l\"]]}}"), CONFIG_ERR_INVALID);
	CHECK_INT(diag.nerrors, 2);
	CHECK_MSG("allowed_commands.ls[1]", "expected a string, found a number");
	CHECK_MSG("allowed_commands.ls[2]", "expected a string, found an array");
	CHECK_ST(parse("{\"allowed_commands\": {\"ls\": [\"/bin/ls\", \"a\\u0000b\"]}}"), CONFIG_ERR_INVALID);
	CHECK_MSG("allowed_commands.ls[1]", "NUL");
	for (size_t i = 0; config_builtin_commands[i] != NULL; i++) {
		CHECK_ST(parse(doc("{\"allowed_commands\": {\"%s\": [\"/bin/true\"]}}",
			config_builtin_commands[i])), CONFIG_ERR_INVALID);
		CHECK_MSG(NULL, "is a built-in command and cannot be replaced");
	}
	CHECK_ST(parse("{\"allowed_commands\": {\"ping\": [\"/bin/ping\", \"-c1\", \"x\"]}}"), CONFIG_ERR_INVALID);
	CHECK_MSG("allowed_commands.ping", "'ping' is a built-in command");
	CHECK_ST(parse("{\"allowed_commands\": {\"a b\": [\"/bin/true\"], \"\": [\"/bin/true\"]}}"),
		CONFIG_ERR_INVALID);
	CHECK_INT(diag.nerrors, 2);
	CHECK_MSG("allowed_commands.a b", "a command name is 1 to 64 letters");
	CHECK_MSG("allowed_commands.", "a command name");
	CHECK_ST(parse("{\"allowed_commands\": {\"x\": [\"/bin/a\"],\n \"x\": [\"/bin/b\"]}}"), CONFIG_ERR_INVALID);
	CHECK_MSG("allowed_commands.x", "duplicated command (first at line 1)");
	CHECK_INT(cfg.ncommands, 0);
	/* several errors in one object are all reported */
	CHECK_ST(parse("{\"allowed_commands\": {\"ok\": [\"/bin/ok\"], \"uptime\": [\"/bin/u\"],"
		" \"rel\": [\"bin\"], \"none\": []}}"), CONFIG_ERR_INVALID);
	CHECK_INT(diag.nerrors, 3);
}

static void cfg_telemetry(void)
{
	CHECK_ST(parse("{\"telemetry_interval_s\": 0}"), CONFIG_ERR_INVALID);
	CHECK_MSG("telemetry_interval_s", "expected a number of seconds (1-86400), found 0");
	CHECK_INT(cfg.telemetry_interval_s, 10);
	CHECK_ST(parse("{\"telemetry_interval_s\": \"0\"}"), CONFIG_ERR_INVALID);
	CHECK_ST(parse("{\"telemetry_interval_s\": 86401}"), CONFIG_ERR_INVALID);
	CHECK_ST(parse("{\"telemetry_interval_s\": 2.5}"), CONFIG_ERR_INVALID);
	CHECK_ST(parse("{\"telemetry_interval_s\": \"\"}"), CONFIG_OK);
	CHECK_INT(cfg.telemetry_interval_s, 10);
	CHECK_ST(parse("{\"telemetry_interval_s\": \"1\"}"), CONFIG_OK);
	CHECK_INT(cfg.telemetry_interval_s, 1);

	CHECK_ST(parse("{\"telemetry_interfaces\": []}"), CONFIG_OK);
	CHECK(!cfg.telemetry_all);
	CHECK_INT(cfg.ntelemetry_interfaces, 0);
	CHECK_ST(parse("{\"telemetry_interfaces\": [\"lo\", \"eth0.100\", \"wlan-ap_1\", \"lo\"]}"), CONFIG_OK);
	CHECK_INT(diag.nwarnings, 1);
	CHECK_MSG("telemetry_interfaces[3]", "listed twice");
	CHECK_INT(cfg.ntelemetry_interfaces, 3);
	CHECK_ST(parse("{\"telemetry_interfaces\": [\"averyveryverylong0\", \"a/b\", \"\", \"..\", 3, \"eth0:1\"]}"),
		CONFIG_ERR_INVALID);
	CHECK_INT(diag.nerrors, 6);
	CHECK_MSG("telemetry_interfaces[0]", "longer than 15");
	CHECK_MSG("telemetry_interfaces[1]", "contains '/'");
	CHECK_MSG("telemetry_interfaces[2]", "empty interface name");
	CHECK_MSG("telemetry_interfaces[3]", "not an interface name");
	CHECK_MSG("telemetry_interfaces[4]", "found a number");
	CHECK_MSG("telemetry_interfaces[5]", "':'");
	CHECK(cfg.telemetry_all);
}

static void cfg_hostname(void)
{
	static const char *const good[] = {
		"mqtt.example.com", "broker", "broker.", "10.1.2.3", "::1", "2001:db8::8883",
		"a-b.c_d.e1", "xn--bcher-kva.example",
	};
	static const struct { const char *h, *why; } bad[] = {
		{ "mqtt example.com", "contains a space" },
		{ "mqtt.example.com:8883", "the port goes in mqtt_cloud_broker_port" },
		{ "mqtts://mqtt.example.com", "is a URL" },
		{ "-a.example.com", "begins or ends with '-'" },
		{ "a-.example.com", "begins or ends with '-'" },
		{ "a..b", "empty label" },
		{ ".", "1 to 253" },
		{ "1.2.3.456", "neither a valid IPv4 address nor a DNS name" },
		{ "b\\u00fccher.de", "non-ASCII" },
		{ "a\\tb", "control character" },
		{ "a@b", "only letters, digits" },
		{ "[::1]", "without brackets" },
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		CHECK_ST(parse(doc("{\"mqtt_cloud_broker_hostname\": \"%s\"}", good[i])), CONFIG_OK);
		CHECK_STR(cfg.cloud_host, good[i]);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK_ST(parse(doc("{\"mqtt_cloud_broker_hostname\": \"%s\"}", bad[i].h)), CONFIG_ERR_INVALID);
		CHECK_MSG("mqtt_cloud_broker_hostname", bad[i].why);
		CHECK(cfg.cloud_host == NULL);
	}
	{
		char longname[400];
		memset(longname, 'a', 300);
		longname[300] = '\0';
		CHECK_ST(parse(doc("{\"mqtt_cloud_broker_hostname\": \"%s\"}", longname)), CONFIG_ERR_INVALID);
		CHECK_MSG("mqtt_cloud_broker_hostname", "...\" is not a valid DNS name");
		longname[64] = '\0';
		CHECK_ST(parse(doc("{\"mqtt_cloud_broker_hostname\": \"%s.com\"}", longname)), CONFIG_ERR_INVALID);
		CHECK_MSG("mqtt_cloud_broker_hostname", "over 63");
	}
}

static void cfg_login(void)
{
	CHECK_ST(parse("{\"mqtt_cloud_broker_username\": \"u\\u0001\", "
		"\"mqtt_cloud_broker_password\": \"hunter2\\n\"}"), CONFIG_ERR_INVALID);
	CHECK_INT(diag.nerrors, 2);
	CHECK_MSG("mqtt_cloud_broker_username", "contains a control character at byte 2");
	CHECK_MSG("mqtt_cloud_broker_password", "contains a control character at byte 8");
	CHECK(msg(NULL, "hunter2") == NULL); /* never echoed */
	CHECK_ST(parse("{\"mqtt_cloud_broker_password\": \"a\\u0085b\"}"), CONFIG_ERR_INVALID);
	CHECK_ST(parse("{\"mqtt_cloud_broker_password\": \"a\\u007f\"}"), CONFIG_ERR_INVALID);
	CHECK_ST(parse("{\"mqtt_cloud_broker_password\": \"a\\u0000b\"}"), CONFIG_ERR_INVALID);
	CHECK_MSG("mqtt_cloud_broker_password", "NUL");
	CHECK_ST(parse("{\"mqtt_cloud_broker_password\": \"pass \", \"mqtt_cloud_broker_username\": "
		"\"\\u00fcser \\\"q\\\"\"}"), CONFIG_OK);
	CHECK_INT(diag.nwarnings, 1);
	CHECK_MSG("mqtt_cloud_broker_password", "ends with a space");
	CHECK_STR(cfg.cloud_password, "pass ");
	CHECK_STR(cfg.cloud_username, "\xc3\xbcser \"q\"");
	CHECK_ST(parse("{\"mqtt_cloud_broker_password\": \" pass\"}"), CONFIG_ERR_INVALID);
	CHECK_MSG("mqtt_cloud_broker_password", "begins with a space, which mosquitto.conf cannot carry");
	CHECK_ST(parse("{\"mesh_secret_salt\": \"s\\u00e4lt\"}"), CONFIG_OK);
	CHECK_STR(cfg.mesh_secret_salt, "s\xc3\xa4lt");
	CHECK_ST(parse("{\"mesh_secret_salt\": \"\"}"), CONFIG_OK);
	CHECK(cfg.mesh_secret_salt == NULL);
	CHECK_INT(cfg.state[CONFIG_KEY_MESH_SECRET_SALT], CONFIG_EMPTY);
}

static void cfg_log_level_and_ip(void)
{
	static const struct { const char *v; int lvl; } lv[] = {
		{ "error", LOG_ERROR }, { "warn", LOG_WARN }, { "info", LOG_INFO },
		{ "debug", LOG_DEBUG }, { "DEBUG", LOG_DEBUG }, { "warning", LOG_WARN },
	};
	for (size_t i = 0; i < sizeof lv / sizeof lv[0]; i++) {
		CHECK_ST(parse(doc("{\"log_level\": \"%s\"}", lv[i].v)), CONFIG_OK);
		CHECK_INT(cfg.log_level, lv[i].lvl);
	}
	CHECK_ST(parse("{\"log_level\": \"verbose\"}"), CONFIG_ERR_INVALID);
	CHECK_MSG("log_level", "expected error, warn, info or debug, found \"verbose\"");

	CHECK_ST(parse("{\"mesh_broker_ip\": \"fd00::1\"}"), CONFIG_OK);
	CHECK_STR(cfg.mesh_broker_ip, "fd00::1");
	CHECK_ST(parse("{\"mesh_broker_ip\": \"192.168.1.10\"}"), CONFIG_OK);
	CHECK_ST(parse("{\"mesh_broker_ip\": \"\"}"), CONFIG_OK);
	CHECK(cfg.mesh_broker_ip == NULL);
	CHECK_ST(parse("{\"mesh_broker_ip\": \"broker.local\"}"), CONFIG_ERR_INVALID);
	CHECK_MSG("mesh_broker_ip", "is not an IPv4 or IPv6 address");
	CHECK_ST(parse("{\"mesh_broker_ip\": \"0.0.0.0\"}"), CONFIG_ERR_INVALID);
	CHECK_MSG("mesh_broker_ip", "unspecified");
	CHECK_ST(parse("{\"mesh_broker_ip\": \"::\"}"), CONFIG_ERR_INVALID);
	CHECK_ST(parse("{\"mesh_broker_ip\": \"239.1.1.1\"}"), CONFIG_ERR_INVALID);
	CHECK_ST(parse("{\"mesh_broker_ip\": \"ff02::1\"}"), CONFIG_ERR_INVALID);
	CHECK_MSG("mesh_broker_ip", "multicast");
	CHECK_ST(parse("{\"mesh_broker_ip\": \"10.0.0.1 \"}"), CONFIG_ERR_INVALID);
}

static void cfg_syntax_errors(void)
{
	/* truncated after "b": */
	CHECK_ST(parse("{\n  \"a\": 1,\n  \"b\": "), CONFIG_ERR_SYNTAX);
	CHECK_INT(diag.n, 1);
	CHECK_INT(diag.msgs[0].kind, CONFIG_ERR_SYNTAX);
	CHECK_STR(diag.msgs[0].text, "t.json:3:8: unexpected end of input");
	CHECK_INT(diag.msgs[0].line, 3);
	CHECK_INT(diag.msgs[0].col, 8);
	/* the defaults remain */
	CHECK_INT(cfg.mesh_port, 1883);
	/* a trailing comma on line 2, column counted in code points */
	CHECK_ST(parse("{\"log_level\": \"d\xc3\xa9\",\n \"x\": 1,}"), CONFIG_ERR_SYNTAX);
	CHECK_STR(diag.msgs[0].text, "t.json:2:9: trailing comma");
	/* BOM */
	CHECK_ST(parse("\xef\xbb\xbf{}"), CONFIG_ERR_SYNTAX);
	CHECK_MSG(NULL, "t.json:1:1: byte order mark");
	CHECK_MSG(NULL, "without a BOM");
	/* empty file, whitespace only */
	CHECK_ST(parse(""), CONFIG_ERR_SYNTAX);
	CHECK_MSG(NULL, "t.json:1:1: empty document");
	CHECK_ST(parse("\n\n  "), CONFIG_ERR_SYNTAX);
	CHECK_MSG(NULL, "t.json:3:3: empty document");
	/* single quotes, comments */
	CHECK_ST(parse("{'a': 1}"), CONFIG_ERR_SYNTAX);
	CHECK_ST(parse("{\"a\": 1} // note"), CONFIG_ERR_SYNTAX);
	CHECK_ST(parse("{\"a\": 1}\n{}"), CONFIG_ERR_SYNTAX);
	CHECK_MSG(NULL, "t.json:2:1: ");
	/* valid JSON, but not an object */
	CHECK_ST(parse("[]"), CONFIG_ERR_INVALID);
	CHECK_MSG(NULL, "must be a JSON object ({...}), found an array");
	CHECK_ST(parse_role("\"x\"", CONFIG_ROLE_BROKER), CONFIG_ERR_INVALID);
	CHECK_INT(diag.nerrors, 5); /* ... and then every required key is missing */
	/* the size cap holds for buffers too */
	{
		char *big = malloc(CONFIG_MAX_SIZE + 2);
		config_status_t st;
		CHECK(big != NULL);
		memset(big, ' ', CONFIG_MAX_SIZE + 1);
		big[0] = '{';
		big[CONFIG_MAX_SIZE] = '}';
		config_free(&cfg);
		config_diag_free(&diag);
		CHECK_INT(config_parse(big, CONFIG_MAX_SIZE + 1, "big", &cfg, &diag), CONFIG_ERR_IO);
		CHECK_INT(diag.sys_errno, EFBIG);
		CHECK_MSG(NULL, "big: 1048577 bytes, larger than the 1 MiB limit");
		config_free(&cfg);
		config_diag_free(&diag);
		big[CONFIG_MAX_SIZE - 1] = '}';
		st = config_parse(big, CONFIG_MAX_SIZE, "big", &cfg, &diag);
		free(big);
		CHECK_INT(st, CONFIG_OK);
	}
}

static void cfg_print_masks_secrets(void)
{
	char *out = NULL;
	size_t n = 0;
	FILE *f;

	CHECK_ST(parse(doc("{\"mqtt_cloud_broker_password\": \"hunter2\", \"mesh_secret_salt\": \"pepper\","
		" \"mqtt_cloud_broker_username\": \"a\\\"b\", \"mqtt_cloud_broker_ca_cert_b64\": \"%s\","
		" \"allowed_commands\": {\"df\": [\"/bin/df\", \"-h\"]}}", test_ca_b64)), CONFIG_OK);
	f = open_memstream(&out, &n);
	CHECK(f != NULL);
	config_print(&cfg, f, false);
	fclose(f);
	CHECK(strstr(out, "hunter2") == NULL);
	CHECK(strstr(out, "pepper") == NULL);
	CHECK(strstr(out, "mqtt_cloud_broker_password = ********\n") != NULL);
	CHECK(strstr(out, "mesh_secret_salt = ********\n") != NULL);
	CHECK(strstr(out, "mqtt_cloud_broker_username = \"a\\\"b\"\n") != NULL);
	CHECK(strstr(out, "mqtt_cloud_broker_port = 8883 (default)\n") != NULL);
	CHECK(strstr(out, "1 certificate, 607 bytes of PEM") != NULL);
	CHECK(strstr(out, "CA, sha256 E9:4A:83:31:") != NULL);
	CHECK(strstr(out, "  df = [\"/bin/df\", \"-h\"]\n") != NULL);
	CHECK(strstr(out, "  topic req/# in 1\n") != NULL);
	free(out);
	out = NULL;
	f = open_memstream(&out, &n);
	CHECK(f != NULL);
	config_print(&cfg, f, true);
	fclose(f);
	CHECK(strstr(out, "mqtt_cloud_broker_password = \"hunter2\"\n") != NULL);
	CHECK(strstr(out, "mesh_secret_salt = \"pepper\"\n") != NULL);
	free(out);
	/* unset secrets say so, and are not masked as if they were set */
	CHECK_ST(parse("{}"), CONFIG_OK);
	out = NULL;
	f = open_memstream(&out, &n);
	CHECK(f != NULL);
	config_print(&cfg, f, false);
	fclose(f);
	CHECK(strstr(out, "mqtt_cloud_broker_password = (not set)\n") != NULL);
	free(out);
}

static void cfg_path_precedence(void)
{
	unsetenv("DMQTT_CONFIG");
	CHECK_STR(config_path(NULL), CONFIG_DEFAULT_PATH);
	CHECK_STR(config_path(""), CONFIG_DEFAULT_PATH);
	setenv("DMQTT_CONFIG", "/env.json", 1);
	CHECK_STR(config_path(NULL), "/env.json");
	CHECK_STR(config_path("/flag.json"), "/flag.json");
	setenv("DMQTT_CONFIG", "", 1);
	CHECK_STR(config_path(NULL), CONFIG_DEFAULT_PATH);
	unsetenv("DMQTT_CONFIG");
	CHECK_STR(CONFIG_DEFAULT_PATH, "/usr/local/config/defaults/user-config.json");
}

static void cfg_load_files(void)
{
	char path[512], tmp[] = "/tmp/dmqtt-config-test.XXXXXX";
	int fd;
	FILE *f;

	snprintf(path, sizeof path, "%s/config/valid-veea.json", unit_data_dir());
	config_free(&cfg);
	config_diag_free(&diag);
	CHECK_ST(config_load(path, &cfg, &diag), CONFIG_OK);
	CHECK_ST(config_check(&cfg, CONFIG_ROLE_BROKER, &diag), CONFIG_OK);
	CHECK_STR(cfg.source, path);
	CHECK_INT(cfg.cloud_ca_ncerts, 1);
	CHECK_MEM(cfg.cloud_ca_certs[0].sha256, 32, test_ca_sha256, 32);

	snprintf(path, sizeof path, "%s/config/all-wrong.json", unit_data_dir());
	config_free(&cfg);
	config_diag_free(&diag);
	CHECK_ST(config_load(path, &cfg, &diag), CONFIG_ERR_INVALID);
	CHECK(diag.nerrors >= CONFIG_NKEYS);

	config_free(&cfg);
	config_diag_free(&diag);
	CHECK_ST(config_load("/nonexistent/dmqtt/user-config.json", &cfg, &diag), CONFIG_ERR_IO);
	CHECK_INT(diag.sys_errno, ENOENT);
	CHECK_MSG(NULL, "/nonexistent/dmqtt/user-config.json: cannot read: ");
	CHECK_INT(cfg.mesh_port, 1883); /* defaults: the node runs on them */

	config_free(&cfg);
	config_diag_free(&diag);
	CHECK_ST(config_load("/", &cfg, &diag), CONFIG_ERR_IO);
	CHECK_INT(diag.sys_errno, EISDIR);

	fd = mkstemp(tmp);
	CHECK(fd >= 0);
	f = fdopen(fd, "w");
	CHECK(f != NULL);
	fputc('{', f);
	for (size_t i = 0; i < CONFIG_MAX_SIZE; i++)
		fputc(' ', f);
	fputc('}', f);
	fclose(f);
	config_free(&cfg);
	config_diag_free(&diag);
	CHECK_ST(config_load(tmp, &cfg, &diag), CONFIG_ERR_IO);
	unlink(tmp);
	CHECK_INT(diag.sys_errno, EFBIG);
	CHECK_MSG(NULL, ": 1048578 bytes, larger than the 1 MiB limit");
}

static void cfg_message_cap(void)
{
	static char big[32 * 1024];
	size_t o = 0;
	o += (size_t)snprintf(big, sizeof big, "{");
	for (int i = 0; i < 300; i++)
		o += (size_t)snprintf(big + o, sizeof big - o, "%s\"k%d\": %d", i ? "," : "", i, i);
	snprintf(big + o, sizeof big - o, "}");
	CHECK_ST(parse(big), CONFIG_OK);
	CHECK_INT(diag.nwarnings, 300);
	CHECK_INT(diag.n, CONFIG_MAX_MSGS);
	CHECK_INT(diag.dropped, 300 - CONFIG_MAX_MSGS);
	/* and they accumulate across parse and check */
	CHECK_ST(parse_role(big, CONFIG_ROLE_BROKER), CONFIG_ERR_INVALID);
	CHECK_INT(diag.nerrors, 4);
	CHECK_INT(diag.dropped, 300 - CONFIG_MAX_MSGS + 4);
}

static void cfg_free_twice(void)
{
	dmqtt_config_t c;
	config_init(&c);
	config_free(&c);
	config_free(&c);
	CHECK_INT(c.mesh_port, 1883);
	CHECK_STR(config_key_name(CONFIG_KEY_MESH_BROKER_IP), "mesh_broker_ip");
	CHECK(config_key_name(CONFIG_NKEYS) == NULL);
	CHECK_INT(config_parse_role("broker"), CONFIG_ROLE_BROKER);
	CHECK_INT(config_parse_role("Broker"), -1);
	CHECK_STR(config_role_name(CONFIG_ROLE_CLOUD), "cloud");
	/* last case: release the shared state so leak checkers stay quiet */
	config_free(&cfg);
	config_diag_free(&diag);
}

UNIT_SUITE(config,
	UNIT_CASE(cfg_veea_strings), UNIT_CASE(cfg_numbers_for_ports), UNIT_CASE(cfg_defaults),
	UNIT_CASE(cfg_ports_out_of_range), UNIT_CASE(cfg_wrong_types),
	UNIT_CASE(cfg_missing_required_together), UNIT_CASE(cfg_unknown_key_warns),
	UNIT_CASE(cfg_duplicate_keys), UNIT_CASE(cfg_ca_forms), UNIT_CASE(cfg_ca_errors),
	UNIT_CASE(cfg_bridge_topics), UNIT_CASE(cfg_allowed_commands), UNIT_CASE(cfg_telemetry),
	UNIT_CASE(cfg_hostname), UNIT_CASE(cfg_login), UNIT_CASE(cfg_log_level_and_ip),
	UNIT_CASE(cfg_syntax_errors), UNIT_CASE(cfg_print_masks_secrets),
	UNIT_CASE(cfg_path_precedence), UNIT_CASE(cfg_load_files), UNIT_CASE(cfg_message_cap),
	UNIT_CASE(cfg_free_twice))
