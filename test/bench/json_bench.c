/*
 * json_bench.c -- proto/json against cJSON on the same 10 MB document, in
 * one process, best of N runs each; then user-config.json loaded end to
 * end (read, tokenize, validate) 1,000 times, median.
 *
 *   json_bench [CONFIG_4K_PATH]
 *
 * Prints a markdown table.  Exit 1 when proto/json is not faster than
 * cJSON or the config median is above 50 us; 2 on a setup failure.
 * Built and run by test/bench/json.sh (cc -O2, native).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "proto/json.h"
#include "src/config.h"

#define DOC_BYTES (10u * 1000u * 1000u)
#define RUNS 7
#define CONFIG_RUNS 1000
#define CONFIG_LIMIT_US 50.0

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift64*: the same document on every run */
static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint32_t rnd(uint32_t n)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545f4914f6cdd1du) >> 33) % n;
}

struct buf {
	char *p;
	size_t n, cap;
};

static void put(struct buf *b, const char *s)
{
	size_t k = strlen(s);
	if (b->n + k + 1 > b->cap) {
		b->cap = (b->n + k + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL)
			exit(2);
	}
	memcpy(b->p + b->n, s, k + 1);
	b->n += k;
}

static void putf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	put(b, tmp);
}

static const char *const words[] = {
	"mesh", "node", "broker", "uptime", "eth0", "wlan0", "status", "Up", "Down",
	"VeeaHub", "C25DTADSR00000001134", "telemetry", "interface", "gateway",
	"caf\xc3\xa9", "na\xc3\xafve", "\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x93\xa1",
	"Z\xc3\xbcrich", "\xd0\xbc\xd0\xb5\xd1\x88",
};
#define NWORDS (sizeof words / sizeof words[0])

/* a string value: words, sometimes with escapes */
static void gen_string(struct buf *b)
{
	int n = 1 + (int)rnd(6);
	put(b, "\"");
	for (int i = 0; i < n; i++) {
		if (i > 0)
			put(b, rnd(8) == 0 ? "\\n" : " ");
		put(b, words[rnd(NWORDS)]);
		switch (rnd(24)) {
		case 0: put(b, "\\\"quoted\\\""); break;
		case 1: put(b, "\\u00e9t\\u00e9"); break;
		case 2: put(b, "\\ud83d\\ude00"); break;
		case 3: put(b, "C:\\\\path\\/x"); break;
		case 4: put(b, "\\t"); break;
		default: break;
		}
	}
	put(b, "\"");
}

static void gen_number(struct buf *b)
{
	switch (rnd(5)) {
	case 0: putf(b, "%u", rnd(100)); break;
	case 1: putf(b, "%u", rnd(2000000000)); break;
	case 2: putf(b, "-%u.%02u", rnd(1000), rnd(100)); break;
	case 3: putf(b, "%u.%ue%d", rnd(10), rnd(1000), (int)rnd(20) - 10); break;
	default: putf(b, "%u.%u", rnd(100000), rnd(1000)); break;
	}
}

static void gen_value(struct buf *b, int depth);

static void gen_object(struct buf *b, int depth)
{
	static const char *const keys[] = {
		"sn", "cmd", "data", "rc", "id", "interface_status", "ifname",
		"rx_bytes", "tx_bytes", "addresses", "meta", "t\\u00e4g", "name",
		"values", "enabled", "parent",
	};
	int n = 2 + (int)rnd(7);
	put(b, "{");
	for (int i = 0; i < n; i++) {
		putf(b, "%s\"%s\":%s", i ? "," : "", keys[rnd(sizeof keys / sizeof keys[0])],
			rnd(3) == 0 ? " " : "");
		gen_value(b, depth + 1);
	}
	put(b, "}");
}

static void gen_value(struct buf *b, int depth)
{
	uint32_t r = rnd(depth < 4 ? 12 : 8);
	if (r < 3)
		gen_string(b);
	else if (r < 6)
		gen_number(b);
	else if (r == 6)
		put(b, rnd(2) ? "true" : "false");
	else if (r == 7)
		put(b, "null");
	else if (r < 10)
		gen_object(b, depth);
	else {
		int n = (int)rnd(6);
		put(b, "[");
		for (int i = 0; i < n; i++) {
			if (i > 0)
				put(b, ", ");
			gen_value(b, depth + 1);
		}
		put(b, "]");
	}
}

/* an array of records, pretty-printed lines, ~DOC_BYTES */
static void gen_doc(struct buf *b)
{
	put(b, "[\n");
	for (int i = 0; b->n < DOC_BYTES - 4096; i++) {
		if (i > 0)
			put(b, ",\n");
		put(b, "  ");
		gen_object(b, 1);
	}
	put(b, "\n]\n");
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* a ~4 KB user-config.json: the template's keys, a real CA (or, with
 * with_ca 0, more commands in its place), and ours */
static int write_config(const char *path, int with_ca)
{
	static const char ca_b64[] =
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
	FILE *f = fopen(path, "w");
	long size;
	if (f == NULL)
		return -1;
	fprintf(f, "{\n"
		"    \"mqtt_cloud_broker_hostname\": \"mqtt.cloud.example.com\",\n"
		"    \"mqtt_cloud_broker_port\": \"8883\",\n"
		"    \"mqtt_cloud_broker_username\": \"men-C25DTADSR00000001134\",\n"
		"    \"mqtt_cloud_broker_password\": \"correct horse battery staple\",\n"
		"%s%s%s"
		"    \"mqtt_mesh_broker_port\": \"1883\",\n"
		"    \"mesh_secret_salt\": \"site-42\",\n"
		"    \"telemetry_interval_s\": \"10\",\n"
		"    \"telemetry_interfaces\": [\"eth0\", \"eth1\", \"wlan0\", \"wlan1\", \"mesh0\", \"br0\"],\n"
		"    \"log_level\": \"info\",\n"
		"    \"mesh_broker_ip\": \"10.10.0.1\",\n"
		"    \"bridge_topics\": [\"req/# in 1\", \"rsp/# out 1\", \"data/# out 0\", \"status/# out 1\",\n"
		"        \"app/+/events out 1 mesh/ site42/\"],\n"
		"    \"allowed_commands\": {\n",
		with_ca ? "    \"mqtt_cloud_broker_ca_cert_b64\": \"" : "",
		with_ca ? ca_b64 : "", with_ca ? "\",\n" : "");
	for (int i = 0, n = with_ca ? 30 : 40; i < n; i++)
		fprintf(f, "        \"app-%02d\": [\"/usr/local/bin/app-tool\", \"--action\", \"status-%02d\", \"--json\"]%s\n",
			i, i, i < n - 1 ? "," : "");
	fprintf(f, "    }\n}\n");
	size = ftell(f);
	fclose(f);
	return (int)size;
}

int main(int argc, char **argv)
{
	struct buf b = { NULL, 0, 0 };
	json_parser_t p;
	json_tok_t *toks;
	uint32_t ntok;
	double best_ours = 1e9, best_count = 1e9, best_cjson = 1e9, best_cjson_all = 1e9;
	double mb, t[CONFIG_RUNS], median, ca_median = 0;
	const char *cfgpath = argc > 1 ? argv[1] : "build/bench/config-4k.json";
	int cfgsize, fail = 0;

	gen_doc(&b);
	mb = (double)b.n / 1e6;
	if (json_parse(&p, b.p, b.n, NULL, 0) != JSON_OK) {
		fprintf(stderr, "generated document does not parse at %zu\n", p.err_offset);
		free(b.p);
		return 2;
	}
	ntok = p.ntok;
	toks = malloc((size_t)ntok * sizeof *toks);
	if (toks == NULL) {
		free(b.p);
		return 2;
	}
	{
		cJSON *j = cJSON_ParseWithLength(b.p, b.n);
		if (j == NULL) {
			fprintf(stderr, "cJSON does not parse the generated document\n");
			free(toks);
			free(b.p);
			return 2;
		}
		cJSON_Delete(j);
	}
	for (int r = 0; r < RUNS; r++) {
		double t0, t1;
		cJSON *j;

		t0 = now_s();
		if (json_parse(&p, b.p, b.n, toks, ntok) != JSON_OK || p.ntok != ntok)
			return 2;
		t1 = now_s();
		if (t1 - t0 < best_ours)
			best_ours = t1 - t0;

		t0 = now_s();
		if (json_parse(&p, b.p, b.n, NULL, 0) != JSON_OK)
			return 2;
		t1 = now_s();
		if (t1 - t0 < best_count)
			best_count = t1 - t0;

		t0 = now_s();
		j = cJSON_ParseWithLength(b.p, b.n);
		t1 = now_s();
		if (j == NULL)
			return 2;
		if (t1 - t0 < best_cjson)
			best_cjson = t1 - t0;
		cJSON_Delete(j);
		t1 = now_s() - t0;
		if (t1 < best_cjson_all)
			best_cjson_all = t1;
	}
	printf("Document: %.2f MB, %u tokens (objects, arrays, keys, strings with escapes "
		"and UTF-8, numbers, literals); best of %d runs, cc -O2, x86_64.\n\n",
		mb, ntok, RUNS);
	printf("| parser | best time | MB/s | Mtokens/s |\n|---|---:|---:|---:|\n");
	printf("| proto/json (tokens into an array) | %.2f ms | %.0f | %.1f |\n",
		best_ours * 1e3, mb / best_ours, ntok / best_ours / 1e6);
	printf("| proto/json (validate and count only) | %.2f ms | %.0f | %.1f |\n",
		best_count * 1e3, mb / best_count, ntok / best_count / 1e6);
	printf("| cJSON %s cJSON_ParseWithLength | %.2f ms | %.0f | %.1f |\n",
		cJSON_Version(), best_cjson * 1e3, mb / best_cjson, ntok / best_cjson / 1e6);
	printf("| cJSON parse + cJSON_Delete | %.2f ms | %.0f | %.1f |\n",
		best_cjson_all * 1e3, mb / best_cjson_all, ntok / best_cjson_all / 1e6);
	printf("\nproto/json is %.1fx faster than cJSON's parse (%.1fx parse + delete).\n",
		best_cjson / best_ours, best_cjson_all / best_ours);
	if (best_ours >= best_cjson) {
		printf("FAIL: proto/json is not faster than cJSON\n");
		fail = 1;
	}
	free(toks);
	free(b.p);

	/* user-config.json end to end: read, tokenize, validate (broker role);
	 * then the same without the CA, to show what its check costs */
	for (int with_ca = 1; with_ca >= 0; with_ca--) {
		char path[512];
		snprintf(path, sizeof path, "%s%s", cfgpath, with_ca ? "" : ".noca");
		cfgsize = write_config(path, with_ca);
		if (cfgsize < 0) {
			fprintf(stderr, "cannot write %s\n", path);
			return 2;
		}
		for (int r = 0; r < CONFIG_RUNS; r++) {
			dmqtt_config_t cfg;
			config_diag_t d;
			double t0 = now_s();
			config_diag_init(&d);
			if (config_load(path, &cfg, &d) == CONFIG_OK)
				config_check(&cfg, with_ca ? CONFIG_ROLE_BROKER : CONFIG_ROLE_NODE, &d);
			if (d.nerrors != 0) {
				config_diag_print(&d, stderr);
				return 2;
			}
			config_free(&cfg);
			config_diag_free(&d);
			t[r] = now_s() - t0;
		}
		qsort(t, CONFIG_RUNS, sizeof t[0], cmp_double);
		median = (t[CONFIG_RUNS / 2 - 1] + t[CONFIG_RUNS / 2]) / 2 * 1e6;
		if (with_ca)
			printf("\n| config load, end to end (read, tokenize, validate, role check) | bytes | median of %d | fastest | 99th pct |\n"
				"|---|---:|---:|---:|---:|\n", CONFIG_RUNS);
		printf("| %s | %d | %.1f us | %.1f us | %.1f us |\n",
			with_ca ? "broker config with its CA (the target)" :
			"the same without the CA key (node role)",
			cfgsize, median, t[0] * 1e6, t[CONFIG_RUNS * 99 / 100] * 1e6);
		if (with_ca)
			ca_median = median;
	}
	if (ca_median > CONFIG_LIMIT_US) {
		printf("\nFAIL: config load median %.1f us is above %.0f us\n", ca_median, CONFIG_LIMIT_US);
		fail = 1;
	} else {
		printf("\nconfig load median %.1f us <= %.0f us: ok\n", ca_median, CONFIG_LIMIT_US);
	}
	return fail;
}
