/* config.c -- see config.h; the rules are in docs/config.md */
#include "src/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bearssl.h"
#include "platform/file.h"
#include "platform/log.h"
#include "proto/base64.h"
#include "proto/pem.h"
#include "proto/json.h"
#include "platform/fmt.h"

const char *const config_builtin_commands[] = {
	"uptime", "hostname", "serial", "version", "date", "loadavg",
	"meminfo", "interfaces", "nodetype", "ping", NULL
};

const char *const config_default_bridge_topics[] = {
	"req/# in 1", "rsp/# out 1", "data/# out 0", "status/+ out 1", NULL
};
#define NDEFAULT_TOPICS 4

static const char *const key_names[CONFIG_NKEYS] = {
	"mqtt_cloud_broker_hostname",
	"mqtt_cloud_broker_port",
	"mqtt_cloud_broker_username",
	"mqtt_cloud_broker_password",
	"mqtt_cloud_broker_ca_cert_b64",
	"mqtt_mesh_broker_port",
	"mesh_secret_salt",
	"telemetry_interval_s",
	"telemetry_interfaces",
	"allowed_commands",
	"bridge_topics",
	"log_level",
	"mesh_broker_ip",
};

/* see config.h */
const char *config_key_name(config_key_t key)
{
	return (unsigned)key < CONFIG_NKEYS ? key_names[key] : NULL;
}

/* see config.h */
const char *config_strerror(config_status_t st)
{
	switch (st) {
	case CONFIG_OK: return "ok";
	case CONFIG_ERR_IO: return "cannot read the configuration file";
	case CONFIG_ERR_SYNTAX: return "the configuration file is not valid JSON";
	case CONFIG_ERR_INVALID: return "invalid configuration";
	case CONFIG_ERR_NOMEM: return "out of memory";
	}
	return "unknown configuration status";
}

static const char *const role_names[] = { "node", "broker", "cloud" };

/* see config.h */
const char *config_role_name(config_role_t role)
{
	return (unsigned)role < 3 ? role_names[role] : "?";
}

/* see config.h */
int config_parse_role(const char *s)
{
	for (int i = 0; i < 3; i++)
		if (strcmp(s, role_names[i]) == 0)
			return i;
	return -1;
}

/* ------------------------------------------------------------ helpers */

/* memset that the compiler may not drop: secrets leave no copy behind */
static void wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;
	while (n-- > 0)
		*v++ = 0;
}

static void free_secret(char *s)
{
	if (s != NULL) {
		wipe(s, strlen(s));
		free(s);
	}
}

static char *dup_mem(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d != NULL) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/*
 * Copy s[0..n) into out[0..cap) for a message: at most 60 characters
 * (longer text ends in "..."), control characters (C0, DEL, C1) and a
 * NUL shown as \xNN / \u00NN.  s is valid UTF-8 (it came out of JSON).
 * cap >= 16.
 */
static const char *disp(char *out, size_t cap, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0, shown = 0;

	while (i < n) {
		unsigned char ch = p[i];
		size_t k = 1;
		if (ch >= 0xf0)
			k = 4;
		else if (ch >= 0xe0)
			k = 3;
		else if (ch >= 0xc0)
			k = 2;
		if (k > n - i)
			k = n - i;
		if (shown == 60 || o + 7 + 4 > cap) {
			memcpy(out + o, "...", 4);
			return out;
		}
		if (ch < 0x20 || ch == 0x7f) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		} else if (ch == 0xc2 && k == 2 && p[i + 1] < 0xa0) {
			memcpy(out + o, "\\u00", 4);
			out[o + 4] = hex[p[i + 1] >> 4];
			out[o + 5] = hex[p[i + 1] & 15];
			o += 6;
		} else {
			memcpy(out + o, p + i, k);
			o += k;
		}
		i += k;
		shown++;
	}
	out[o] = '\0';
	return out;
}

/* "an array", "a string", ... for "found ..." */
static const char *a_type(int type)
{
	switch (type) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_NUMBER: return "a number";
	case JSON_TRUE: return "a boolean (true)";
	case JSON_FALSE: return "a boolean (false)";
	case JSON_NULL: return "null";
	default: return "something else";
	}
}

/* ---------------------------------------------------------- diagnostics */

/* see config.h */
void config_diag_init(config_diag_t *d)
{
	memset(d, 0, sizeof *d);
}

/* see config.h */
void config_diag_free(config_diag_t *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->msgs[i].key);
		free(d->msgs[i].text);
	}
	free(d->msgs);
	config_diag_init(d);
}

/* see config.h */
void config_diag_print(const config_diag_t *d, FILE *f)
{
	for (size_t i = 0; i < d->n; i++)
		fmt_fprintf(f, "%s\n", d->msgs[i].text);
	if (d->dropped > 0)
		fmt_fprintf(f, "... and %zu more problem%s not shown\n", d->dropped,
			d->dropped == 1 ? "" : "s");
	if (d->nomem)
		fmt_fprintf(f, "(some messages were lost: out of memory)\n");
}

/* Store one message.  line 0: no position.  key NULL or "": none. */
static void vadd(config_diag_t *d, const char *name, config_sev_t sev,
	config_status_t kind, size_t line, size_t col, const char *key,
	const char *fmt, va_list ap) __attribute__((format(printf, 8, 0)));
static void vadd(config_diag_t *d, const char *name, config_sev_t sev,
	config_status_t kind, size_t line, size_t col, const char *key,
	const char *fmt, va_list ap)
{
	char text[768];
	int n;
	config_msg_t *m;

	if (sev == CONFIG_SEV_ERROR)
		d->nerrors++;
	else
		d->nwarnings++;
	if (d->n >= CONFIG_MAX_MSGS) {
		d->dropped++;
		return;
	}
	if (key == NULL)
		key = "";
	if (line > 0)
		n = fmt_snprintf(text, sizeof text, "%s:%zu:%zu: %s%s%s", name, line, col,
			sev == CONFIG_SEV_WARNING ? "warning: " : "", key, key[0] ? ": " : "");
	else
		n = fmt_snprintf(text, sizeof text, "%s: %s%s%s", name,
			sev == CONFIG_SEV_WARNING ? "warning: " : "", key, key[0] ? ": " : "");
	if (n < 0)
		n = 0;
	if ((size_t)n < sizeof text)
		fmt_vsnprintf(text + n, sizeof text - (size_t)n, fmt, ap);
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		config_msg_t *nm = realloc(d->msgs, cap * sizeof *nm);
		if (nm == NULL) {
			d->nomem = true;
			return;
		}
		d->msgs = nm;
		d->cap = cap;
	}
	m = &d->msgs[d->n];
	m->sev = sev;
	m->kind = kind;
	m->line = line;
	m->col = line > 0 ? col : 0;
	m->key = dup_mem(key, strlen(key));
	m->text = dup_mem(text, strlen(text));
	if (m->key == NULL || m->text == NULL) {
		free(m->key);
		free(m->text);
		d->nomem = true;
		return;
	}
	d->n++;
}

static void add(config_diag_t *d, const char *name, config_sev_t sev,
	config_status_t kind, size_t line, size_t col, const char *key,
	const char *fmt, ...) __attribute__((format(printf, 8, 9)));
static void add(config_diag_t *d, const char *name, config_sev_t sev,
	config_status_t kind, size_t line, size_t col, const char *key,
	const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vadd(d, name, sev, kind, line, col, key, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------- context */

struct ctx {
	const char *js;
	size_t len;
	const json_tok_t *toks;
	const char *name;
	dmqtt_config_t *cfg;
	config_diag_t *d;
	bool nomem;
	/* position cache: messages come mostly in document order */
	size_t pos_off, pos_line, pos_col;
};

/* Line and column of token t (a string: its opening quote), as
 * json_position computes them, resumed from the last answer. */
static void tok_pos(struct ctx *c, uint32_t t, size_t *line, size_t *col)
{
	size_t off = c->toks[t].start, i;
	const unsigned char *s = (const unsigned char *)c->js;

	if (c->toks[t].type == JSON_STRING && off > 0)
		off--;
	if (off < c->pos_off) {
		c->pos_off = 0;
		c->pos_line = 1;
		c->pos_col = 1;
	}
	for (i = c->pos_off; i < off; i++) {
		if (s[i] == '\n') {
			c->pos_line++;
			c->pos_col = 1;
		} else if ((s[i] & 0xc0) != 0x80) {
			c->pos_col++;
		}
	}
	c->pos_off = off;
	*line = c->pos_line;
	*col = c->pos_col;
}

static void at(struct ctx *c, config_sev_t sev, uint32_t t, const char *key,
	const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void at(struct ctx *c, config_sev_t sev, uint32_t t, const char *key,
	const char *fmt, ...)
{
	size_t line = 0, col = 0;
	va_list ap;

	/* positions are computed only for messages that are kept */
	if (c->d->n < CONFIG_MAX_MSGS)
		tok_pos(c, t, &line, &col);
	va_start(ap, fmt);
	vadd(c->d, c->name, sev, CONFIG_ERR_INVALID, line, col, key, fmt, ap);
	va_end(ap);
}

/* The line of token t for "first at line N"; 0 when the message that
 * would show it is past CONFIG_MAX_MSGS (a rescan per dropped duplicate
 * would make a file of 100,000 repeats quadratic). */
static size_t line_of(struct ctx *c, uint32_t t)
{
	size_t line = 0, col;
	if (c->d->n < CONFIG_MAX_MSGS)
		tok_pos(c, t, &line, &col);
	return line;
}

#define ERR(c, t, key, ...) at((c), CONFIG_SEV_ERROR, (t), (key), __VA_ARGS__)
#define WARN(c, t, key, ...) at((c), CONFIG_SEV_WARNING, (t), (key), __VA_ARGS__)

static void type_error(struct ctx *c, uint32_t v, const char *key, const char *expect)
{
	ERR(c, v, key, "expected %s, found %s", expect, a_type(c->toks[v].type));
}

/* The token's text as written in the file, for "found ..." (strings in
 * quotes, still escaped). */
static const char *raw_disp(struct ctx *c, uint32_t v, char *buf, size_t cap)
{
	const json_tok_t *t = &c->toks[v];
	if (t->type == JSON_STRING) {
		buf[0] = '"';
		disp(buf + 1, cap - 2, c->js + t->start, t->end - t->start);
		strcat(buf, "\"");
		return buf;
	}
	return disp(buf, cap, c->js + t->start, t->end - t->start);
}

#define NOIDX SIZE_MAX

/* "key" or "key[idx]" into buf: element keys are only built for messages */
static const char *ekey(char *buf, size_t cap, const char *key, size_t idx)
{
	if (idx == NOIDX)
		fmt_snprintf(buf, cap, "%s", key);
	else
		fmt_snprintf(buf, cap, "%s[%zu]", key, idx);
	return buf;
}

/*
 * String value of token v (the key's value, or element idx of it when
 * idx != NOIDX), unescaped into a fresh heap buffer.
 * 1: *out (NUL-terminated, *outlen bytes); 0: the empty string "";
 * -1: an error was reported (wrong type, a NUL inside, no memory).
 */
static int get_str(struct ctx *c, uint32_t v, const char *key, size_t idx,
	const char *expect, char **out, size_t *outlen)
{
	const json_tok_t *t = &c->toks[v];
	size_t raw, n = 0;
	json_status_t st;
	char *buf, kbuf[256];

	if (t->type != JSON_STRING) {
		type_error(c, v, ekey(kbuf, sizeof kbuf, key, idx), expect);
		return -1;
	}
	raw = t->end - t->start;
	if (raw == 0)
		return 0;
	buf = malloc(raw + 1);
	if (buf == NULL) {
		c->nomem = true;
		return -1;
	}
	st = json_unescape(c->js, t, buf, raw + 1, &n);
	if (st != JSON_OK) {
		wipe(buf, raw + 1);
		free(buf);
		if (st == JSON_ERR_NUL)
			ERR(c, v, ekey(kbuf, sizeof kbuf, key, idx), "contains a NUL character (\\u0000)");
		else
			ERR(c, v, ekey(kbuf, sizeof kbuf, key, idx), "cannot be read: %s", json_strerror(st));
		return -1;
	}
	*out = buf;
	*outlen = n;
	return 1;
}

/*
 * Integer of token v in [min, max], from a number or a string ("1883").
 * 1: *out; 0: the empty string; -1: error reported.  what: "a port number
 * (1-65535)".
 */
static int get_int(struct ctx *c, uint32_t v, const char *key, int64_t min,
	int64_t max, const char *what, int64_t *out)
{
	const json_tok_t *t = &c->toks[v];
	char raw[96];

	if (t->type == JSON_STRING && t->end == t->start)
		return 0;
	switch (json_get_int(c->js, t, min, max, out)) {
	case JSON_OK:
		return 1;
	case JSON_ERR_TYPE:
		ERR(c, v, key, "expected %s as a number or string, found %s", what,
			a_type(t->type));
		return -1;
	default:
		ERR(c, v, key, "expected %s, found %s", what, raw_disp(c, v, raw, sizeof raw));
		return -1;
	}
}

/* ------------------------------------------------ objects and their keys */

struct member {
	const char *s;   /* unescaped key (in the document or the arena) */
	size_t n;
	uint32_t k, v;   /* key and value tokens */
	uint32_t first;  /* index of this key's first occurrence (itself if none) */
	bool repeated;   /* a later key repeats this one */
	bool has_nul;    /* the key holds \u0000: never a known name */
};

static uint32_t fnv1a(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static bool same_key(const struct member *a, const struct member *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->s[i] != b->s[i])
			return false;
	return true;
}

/*
 * The members of object `obj` with unescaped keys, and for each the index
 * of its first occurrence (duplicates found with a hash table: O(n)).
 * *arena (free it) holds the unescaped escaped keys.  0, or -1 on no memory.
 */
static int members(struct ctx *c, uint32_t obj, struct member **out, size_t *count,
	char **arena)
{
	const json_tok_t *toks = c->toks;
	size_t n = toks[obj].size, i = 0, asz = 0, apos = 0, hsz = 1;
	struct member *m;
	uint32_t *tab, k, v;
	json_iter_t it;

	*out = NULL;
	*arena = NULL;
	*count = 0;
	if (n == 0)
		return 0;
	m = calloc(n, sizeof *m);
	it = json_iter(toks, obj);
	while (m != NULL && i < n && json_iter_next(&it, toks, &k, &v)) {
		m[i].k = k;
		m[i].v = v;
		if (toks[k].flags & JSON_F_ESCAPED)
			asz += toks[k].end - toks[k].start + 1;
		i++;
	}
	while (hsz < 2 * n)
		hsz *= 2;
	tab = calloc(hsz, sizeof *tab);
	if (asz > 0)
		*arena = malloc(asz);
	if (m == NULL || tab == NULL || (asz > 0 && *arena == NULL)) {
		free(m);
		free(tab);
		free(*arena);
		*arena = NULL;
		c->nomem = true;
		return -1;
	}
	n = i;
	for (i = 0; i < n; i++) {
		const json_tok_t *t = &toks[m[i].k];
		uint32_t h;
		if (t->flags & JSON_F_ESCAPED) {
			size_t len = 0;
			json_status_t st = json_unescape(c->js, t, *arena + apos, asz - apos, &len);
			m[i].s = *arena + apos;
			m[i].n = len;
			m[i].has_nul = st == JSON_ERR_NUL;
			apos += len + 1;
		} else {
			m[i].s = c->js + t->start;
			m[i].n = t->end - t->start;
		}
		m[i].first = (uint32_t)i;
		h = fnv1a(m[i].s, m[i].n) & (uint32_t)(hsz - 1);
		for (;;) {
			uint32_t j = tab[h];
			if (j == 0) {
				tab[h] = (uint32_t)i + 1;
				break;
			}
			j--;
			if (same_key(&m[j], &m[i])) {
				m[i].first = j;
				m[j].repeated = true;
				break;
			}
			h = (h + 1) & (uint32_t)(hsz - 1);
		}
	}
	free(tab);
	*out = m;
	*count = n;
	return 0;
}

/* Levenshtein distance of a and b, both at most 64 bytes (else 99). */
static size_t distance(const char *a, size_t an, const char *b, size_t bn)
{
	size_t row[65], i, j;

	if (an > 64 || bn > 64)
		return 99;
	for (j = 0; j <= bn; j++)
		row[j] = j;
	for (i = 1; i <= an; i++) {
		size_t diag = row[0], best;
		row[0] = i;
		for (j = 1; j <= bn; j++) {
			size_t up = row[j];
			size_t ca = (unsigned char)a[i - 1], cb = (unsigned char)b[j - 1];
			if (ca >= 'A' && ca <= 'Z')
				ca += 'a' - 'A';
			if (cb >= 'A' && cb <= 'Z')
				cb += 'a' - 'A';
			best = diag + (ca != cb);
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			if (up + 1 < best)
				best = up + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[bn];
}

/* The known key closest to an unknown one, if it is a likely typo. */
static const char *suggest(const char *s, size_t n)
{
	size_t best = 4, d;
	const char *which = NULL;

	for (int k = 0; k < CONFIG_NKEYS; k++) {
		d = distance(s, n, key_names[k], strlen(key_names[k]));
		if (d < best) {
			best = d;
			which = key_names[k];
		}
	}
	return which;
}

/* ------------------------------------------------------ value checkers */

static bool has_ctrl(const char *s, size_t n, size_t *where)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f ||
		    (p[i] == 0xc2 && i + 1 < n && p[i + 1] < 0xa0)) {
			*where = i;
			return true;
		}
	}
	return false;
}

static bool is_ip(const char *s, int *family)
{
	unsigned char a[16];
	if (inet_pton(AF_INET, s, a) == 1) {
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, a) == 1) {
		*family = AF_INET6;
		return true;
	}
	return false;
}

/* NULL when s is a DNS name or an IP literal, else why not. */
static const char *bad_hostname(const char *s, size_t n)
{
	size_t label = 0, i, where;
	bool digits_only = true;
	int fam;

	if (has_ctrl(s, n, &where))
		return "contains a control character";
	if (memchr(s, ' ', n) != NULL || memchr(s, '\t', n) != NULL)
		return "contains a space";
	if (is_ip(s, &fam))
		return NULL;
	if (s[0] == '[')
		return "is not a host name or IP address (an IPv6 address goes without brackets)";
	if (strstr(s, "://") != NULL)
		return "is a URL: give the host name only (the port goes in mqtt_cloud_broker_port)";
	if (memchr(s, ':', n) != NULL)
		return "is not a host name or IP address (the port goes in mqtt_cloud_broker_port)";
	if (s[n - 1] == '.')
		n--; /* a fully qualified name's root dot */
	if (n == 0 || n > 253)
		return "is not a valid DNS name (1 to 253 characters)";
	for (i = 0; i <= n; i++) {
		unsigned char ch = i < n ? (unsigned char)s[i] : '.';
		if (ch == '.') {
			if (label == 0 || label > 63)
				return "is not a valid DNS name (empty label or a label over 63 characters)";
			if (s[i - 1] == '-' || s[i - label] == '-')
				return "is not a valid DNS name (a label begins or ends with '-')";
			if (i == n && digits_only)
				return "is neither a valid IPv4 address nor a DNS name";
			label = 0;
			digits_only = true;
			continue;
		}
		if (ch >= 0x80)
			return "contains non-ASCII characters (use the xn-- form of an international name)";
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return "is not a valid DNS name (only letters, digits, '-', '_' and '.')";
		if (ch < '0' || ch > '9')
			digits_only = false;
		label++;
	}
	return NULL;
}

/* NULL when s can be a Linux interface name (dev_valid_name), else why not. */
static const char *bad_ifname(const char *s, size_t n)
{
	size_t where;
	if (n > 15)
		return "is longer than 15 characters";
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return "is not an interface name";
	if (has_ctrl(s, n, &where))
		return "contains a control character";
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == ':' || s[i] == ' ')
			return "contains '/', ':' or a space";
	return NULL;
}

static bool is_bridge_prefix_ok(const char *p)
{
	return strchr(p, '+') == NULL && strchr(p, '#') == NULL;
}

/* NULL when f is a valid MQTT subscription filter, else why not. */
static const char *bad_filter(const char *f)
{
	size_t n = strlen(f);
	for (size_t i = 0; i < n; i++) {
		if (f[i] == '#' && (i + 1 != n || (i > 0 && f[i - 1] != '/')))
			return "'#' must be the last level on its own";
		if (f[i] == '+' && ((i > 0 && f[i - 1] != '/') ||
		    (i + 1 < n && f[i + 1] != '/')))
			return "'+' must be a whole level";
	}
	return NULL;
}

/*
 * Check one bridge topic line and write its normalised form
 * ("PATTERN DIR QOS[ LOCAL REMOTE]", single spaces, no "topic" keyword)
 * into out (cap >= n + 1).  NULL when valid, else why not (in why[]).
 */
static const char *bad_topic_line(const char *s, size_t n, char *out,
	char *why, size_t whycap)
{
	char *f[7];
	size_t nf = 0, i, where;
	char *tmp, *p;
	const char *r;

	if (has_ctrl(s, n, &where)) {
		fmt_snprintf(why, whycap, "contains a control character (\\x%02x) at byte %zu: "
			"topic lines are written into mosquitto.conf",
			(unsigned char)s[where], where + 1);
		return why;
	}
	tmp = out;
	if (tmp != s)
		memcpy(tmp, s, n + 1);
	for (p = tmp; *p != '\0';) {
		while (*p == ' ')
			*p++ = '\0';
		if (*p == '\0')
			break;
		if (nf < 7)
			f[nf] = p;
		nf++;
		while (*p != '\0' && *p != ' ')
			p++;
	}
	if (nf > 0 && (nf == 4 || nf == 6) && strcmp(f[0], "topic") == 0) {
		for (i = 1; i < nf; i++)
			f[i - 1] = f[i];
		nf--;
	}
	if (nf != 3 && nf != 5) {
		fmt_snprintf(why, whycap, "expected \"PATTERN in|out|both QOS [LOCAL_PREFIX REMOTE_PREFIX]\", "
			"found %zu field%s", nf, nf == 1 ? "" : "s");
		return why;
	}
	if (strcmp(f[1], "in") != 0 && strcmp(f[1], "out") != 0 && strcmp(f[1], "both") != 0) {
		fmt_snprintf(why, whycap, "direction must be in, out or both");
		return why;
	}
	if (strcmp(f[2], "0") != 0 && strcmp(f[2], "1") != 0 && strcmp(f[2], "2") != 0) {
		fmt_snprintf(why, whycap, "QoS must be 0, 1 or 2");
		return why;
	}
	if (strcmp(f[0], "\"\"") == 0) {
		if (nf != 5 || (strcmp(f[3], "\"\"") == 0 && strcmp(f[4], "\"\"") == 0)) {
			fmt_snprintf(why, whycap, "an empty pattern (\"\") needs a local or remote prefix");
			return why;
		}
	} else if ((r = bad_filter(f[0])) != NULL) {
		fmt_snprintf(why, whycap, "pattern: %s", r);
		return why;
	}
	if (nf == 5 && (!is_bridge_prefix_ok(f[3]) || !is_bridge_prefix_ok(f[4]))) {
		fmt_snprintf(why, whycap, "prefixes may not contain '+' or '#'");
		return why;
	}
	/* join in place: fields are in order and never longer than before */
	p = out;
	for (i = 0; i < nf; i++) {
		size_t k = strlen(f[i]);
		if (i > 0)
			*p++ = ' ';
		memmove(p, f[i], k);
		p += k;
	}
	*p = '\0';
	return NULL;
}

/* ------------------------------------------------------- the keys */

static void do_host(struct ctx *c, uint32_t v, const char *key)
{
	char *s = NULL;
	size_t n = 0;
	const char *why;
	char shown[96];
	int r = get_str(c, v, key, NOIDX, "a host name (string)", &s, &n);

	if (r <= 0) {
		c->cfg->state[CONFIG_KEY_CLOUD_HOST] = r == 0 ? CONFIG_EMPTY : CONFIG_INVALID;
		return;
	}
	if ((why = bad_hostname(s, n)) != NULL) {
		ERR(c, v, key, "\"%s\" %s", disp(shown, sizeof shown, s, n), why);
		free(s);
		c->cfg->state[CONFIG_KEY_CLOUD_HOST] = CONFIG_INVALID;
		return;
	}
	c->cfg->cloud_host = s;
	c->cfg->state[CONFIG_KEY_CLOUD_HOST] = CONFIG_SET;
}

static void do_port(struct ctx *c, uint32_t v, const char *key, config_key_t k, uint16_t *port)
{
	int64_t x = 0;
	int r = get_int(c, v, key, 1, 65535, "a port number (1-65535)", &x);

	if (r <= 0) {
		c->cfg->state[k] = r == 0 ? CONFIG_EMPTY : CONFIG_INVALID;
		return;
	}
	*port = (uint16_t)x;
	c->cfg->state[k] = CONFIG_SET;
}

/* username and password: non-empty, no control characters; the password
 * is never echoed */
static void do_login(struct ctx *c, uint32_t v, const char *key, config_key_t k, char **dst)
{
	bool secret = k == CONFIG_KEY_CLOUD_PASSWORD;
	char *s = NULL;
	size_t n = 0, where;
	int r = get_str(c, v, key, NOIDX, "a string", &s, &n);

	if (r <= 0) {
		c->cfg->state[k] = r == 0 ? CONFIG_EMPTY : CONFIG_INVALID;
		return;
	}
	if (has_ctrl(s, n, &where)) {
		ERR(c, v, key, "contains a control character at byte %zu", where + 1);
		if (secret)
			wipe(s, n);
		free(s);
		c->cfg->state[k] = CONFIG_INVALID;
		return;
	}
	if (s[0] == ' ') {
		/* mosquitto.conf drops the leading blanks of a value */
		ERR(c, v, key, "begins with a space, which mosquitto.conf cannot carry "
			"(the bridge would log in without it)");
		if (secret)
			wipe(s, n);
		free(s);
		c->cfg->state[k] = CONFIG_INVALID;
		return;
	}
	if (s[n - 1] == ' ')
		WARN(c, v, key, "ends with a space (a copy-and-paste slip?)");
	*dst = s;
	c->cfg->state[k] = CONFIG_SET;
}

/* A few words for the X.509 decoder's error codes a bad paste produces. */
static const char *x509_why(int err)
{
	switch (err) {
	case BR_ERR_X509_TRUNCATED:
	case BR_ERR_X509_INNER_TRUNC: return "truncated";
	case BR_ERR_X509_UNSUPPORTED: return "unsupported algorithm";
	case BR_ERR_X509_BAD_TIME: return "bad validity dates";
	case BR_ERR_X509_BAD_DN: return "bad name";
	case BR_ERR_X509_LIMIT_EXCEEDED: return "too large";
	default: return "malformed DER";
	}
}

/*
 * The decoded CA must be PEM with at least one CERTIFICATE block, each of
 * which decodes as X.509 (BearSSL's decoder).  The armour is read with
 * proto/pem's pem_armour_next, which accepts a subset of what BearSSL's
 * PEM decoder does and yields the same bytes (fuzz/pem_armour.c holds it
 * to that), at a few instructions per character instead of BearSSL's
 * ~1,400: the difference between a 4 KB config loading in ~40 us or
 * ~125 us.  Fills certs.  true when fine (errors reported).
 */
static bool check_pem(struct ctx *c, uint32_t v, const char *key, const uint8_t *pem,
	size_t len, config_cert_t **certs, size_t *ncerts)
{
	const char *text = (const char *)pem;
	size_t pos = 0, block = 0, cap = 0;
	bool ok = true;
	pem_armour_t a;
	int r;

	*certs = NULL;
	*ncerts = 0;
	while ((r = pem_armour_next(text, len, &pos, &a)) == 1) {
		char name[64];
		bool is_cert;

		block++;
		disp(name, sizeof name, a.label, a.label_len);
		is_cert = (a.label_len == 11 && memcmp(a.label, "CERTIFICATE", 11) == 0) ||
			(a.label_len == 16 && memcmp(a.label, "X509 CERTIFICATE", 16) == 0);
		if (!is_cert) {
			if (a.label_len >= 11 &&
			    memcmp(a.label + a.label_len - 11, "PRIVATE KEY", 11) == 0) {
				ERR(c, v, key, "PEM block %zu is a private key (%s): only the "
					"CA certificate belongs here", block, name);
				ok = false;
			} else {
				WARN(c, v, key, "PEM block %zu (%s) is not a certificate; ignored",
					block, name);
			}
			continue;
		}

		size_t dcap = a.body_len / 4 * 3 + 3, dlen = 0;
		uint8_t *der = malloc(dcap);
		br_x509_decoder_context x509;
		br_sha256_context sha;
		int err;

		if (der == NULL) {
			c->nomem = true;
			return false;
		}
		if (pem_armour_decode(&a, der, dcap, &dlen) != 0) {
			free(der);
			ERR(c, v, key, "PEM block %zu is malformed (bad base64 inside it)", block);
			return false;
		}
		br_x509_decoder_init(&x509, NULL, NULL);
		br_x509_decoder_push(&x509, der, dlen);
		err = br_x509_decoder_last_error(&x509);
		br_sha256_init(&sha);
		br_sha256_update(&sha, der, dlen);
		free(der);
		if (err != 0) {
			ERR(c, v, key, "certificate %zu (PEM block %zu) is not a valid "
				"X.509 certificate: %s (BearSSL error %d)", *ncerts + 1, block,
				x509_why(err), err);
			ok = false;
		}
		if (*ncerts == cap) {
			size_t ncap = cap ? cap * 2 : 2;
			config_cert_t *nc = realloc(*certs, ncap * sizeof *nc);
			if (nc == NULL) {
				c->nomem = true;
				return false;
			}
			*certs = nc;
			cap = ncap;
		}
		br_sha256_out(&sha, (*certs)[*ncerts].sha256);
		(*certs)[*ncerts].is_ca = err == 0 && br_x509_decoder_isCA(&x509);
		(*ncerts)++;
	}
	if (r < 0) {
		char name[64];
		disp(name, sizeof name, a.label, a.label_len);
		if (a.label_len > 0)
			ERR(c, v, key, "PEM block %zu (%s, line %zu) has no END line with "
				"the same label", block + 1, name, a.line);
		else
			ERR(c, v, key, "PEM line %zu is malformed: a line starting with "
				"dashes that is not a BEGIN line", a.line);
		return false;
	}
	if (*ncerts == 0 && ok) {
		ERR(c, v, key, "decodes to %zu bytes without a PEM CERTIFICATE block%s", len,
			len > 0 && pem[0] == 0x30 ? " (it looks like DER: give the base64 of the PEM "
			"file instead)" : " (expected the base64 of a PEM file: base64 -w 0 ca.pem)");
		return false;
	}
	return ok;
}

static void do_ca(struct ctx *c, uint32_t v, const char *key)
{
	dmqtt_config_t *cfg = c->cfg;
	char *s = NULL;
	uint8_t *pem;
	size_t n = 0, plen = 0, off = 0, ncerts = 0;
	config_cert_t *certs = NULL;
	b64_status_t bst;
	int r = get_str(c, v, key, NOIDX, "a string (the base64 of the CA's PEM file)", &s, &n);

	if (r <= 0) {
		cfg->state[CONFIG_KEY_CLOUD_CA] = r == 0 ? CONFIG_EMPTY : CONFIG_INVALID;
		return;
	}
	cfg->state[CONFIG_KEY_CLOUD_CA] = CONFIG_INVALID;
	if (strncmp(s, "-----BEGIN", 10) == 0) {
		ERR(c, v, key, "holds PEM text, not its base64: encode the file with "
			"base64 -w 0 ca.pem");
		free(s);
		return;
	}
	pem = malloc(b64_decoded_maxlen(n) + 1);
	if (pem == NULL) {
		free(s);
		c->nomem = true;
		return;
	}
	bst = b64_decode(s, n, pem, b64_decoded_maxlen(n), &plen, &off);
	free(s);
	if (bst != B64_OK) {
		ERR(c, v, key, "is not valid base64: %s at character %zu", b64_strerror(bst), off + 1);
		free(pem);
		return;
	}
	pem[plen] = '\0';
	if (!check_pem(c, v, key, pem, plen, &certs, &ncerts)) {
		free(certs);
		free(pem);
		return;
	}
	cfg->cloud_ca_pem = (char *)pem;
	cfg->cloud_ca_pem_len = plen;
	cfg->cloud_ca_certs = certs;
	cfg->cloud_ca_ncerts = ncerts;
	cfg->state[CONFIG_KEY_CLOUD_CA] = CONFIG_SET;
}

static void do_salt(struct ctx *c, uint32_t v, const char *key)
{
	char *s = NULL;
	size_t n = 0;
	int r = get_str(c, v, key, NOIDX, "a string", &s, &n);

	if (r <= 0) {
		c->cfg->state[CONFIG_KEY_MESH_SECRET_SALT] = r == 0 ? CONFIG_EMPTY : CONFIG_INVALID;
		return;
	}
	c->cfg->mesh_secret_salt = s;
	c->cfg->state[CONFIG_KEY_MESH_SECRET_SALT] = CONFIG_SET;
}

static void do_interval(struct ctx *c, uint32_t v, const char *key)
{
	int64_t x = 0;
	int r = get_int(c, v, key, 1, CONFIG_MAX_TELEMETRY_S,
		"a number of seconds (1-86400)", &x);

	if (r <= 0) {
		c->cfg->state[CONFIG_KEY_TELEMETRY_INTERVAL] = r == 0 ? CONFIG_EMPTY : CONFIG_INVALID;
		return;
	}
	c->cfg->telemetry_interval_s = (uint32_t)x;
	c->cfg->state[CONFIG_KEY_TELEMETRY_INTERVAL] = CONFIG_SET;
}

static void do_interfaces(struct ctx *c, uint32_t v, const char *key)
{
	dmqtt_config_t *cfg = c->cfg;
	const json_tok_t *toks = c->toks;
	size_t n = toks[v].size, got = 0, idx;
	char **names;
	bool bad = false;
	json_iter_t it;
	uint32_t k, e;

	if (toks[v].type != JSON_ARRAY) {
		type_error(c, v, key, "an array of interface names");
		cfg->state[CONFIG_KEY_TELEMETRY_INTERFACES] = CONFIG_INVALID;
		return;
	}
	if (n > CONFIG_MAX_INTERFACES) {
		ERR(c, v, key, "%zu interfaces; at most %d", n, CONFIG_MAX_INTERFACES);
		cfg->state[CONFIG_KEY_TELEMETRY_INTERFACES] = CONFIG_INVALID;
		return;
	}
	names = calloc(n + 1, sizeof *names);
	if (names == NULL) {
		c->nomem = true;
		return;
	}
	it = json_iter(toks, v);
	for (idx = 0; json_iter_next(&it, toks, &k, &e); idx++) {
		char kb[64], shown[96];
		char *s = NULL;
		size_t len = 0;
		const char *why;
		int r = get_str(c, e, key, idx, "an interface name (string)", &s, &len);

		if (r < 0) {
			bad = true;
			continue;
		}
		if (r == 0) {
			ERR(c, e, ekey(kb, sizeof kb, key, idx), "empty interface name");
			bad = true;
			continue;
		}
		if ((why = bad_ifname(s, len)) != NULL) {
			ERR(c, e, ekey(kb, sizeof kb, key, idx), "\"%s\" %s", disp(shown, sizeof shown, s, len), why);
			free(s);
			bad = true;
			continue;
		}
		for (size_t j = 0; j < got; j++) {
			if (strcmp(names[j], s) == 0) {
				WARN(c, e, ekey(kb, sizeof kb, key, idx), "\"%s\" is listed twice", s);
				free(s);
				s = NULL;
				break;
			}
		}
		if (s != NULL)
			names[got++] = s;
	}
	if (bad) {
		for (size_t j = 0; j < got; j++)
			free(names[j]);
		free(names);
		cfg->state[CONFIG_KEY_TELEMETRY_INTERFACES] = CONFIG_INVALID;
		return;
	}
	cfg->telemetry_interfaces = names;
	cfg->ntelemetry_interfaces = got;
	cfg->telemetry_all = false;
	cfg->state[CONFIG_KEY_TELEMETRY_INTERFACES] = CONFIG_SET;
}

static void free_command(config_command_t *cmd)
{
	free(cmd->name);
	if (cmd->argv != NULL)
		for (size_t i = 0; i < cmd->argc; i++)
			free(cmd->argv[i]);
	free(cmd->argv);
	memset(cmd, 0, sizeof *cmd);
}

static bool is_builtin(const char *s, size_t n)
{
	for (size_t i = 0; config_builtin_commands[i] != NULL; i++)
		if (strlen(config_builtin_commands[i]) == n &&
		    memcmp(config_builtin_commands[i], s, n) == 0)
			return true;
	return false;
}

static bool good_command_name(const char *s, size_t n)
{
	if (n == 0 || n > CONFIG_MAX_COMMAND_NAME)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.'))
			return false;
	}
	return true;
}

/* One allowed_commands entry; true and *out filled when valid. */
static bool one_command(struct ctx *c, const struct member *m, const char *ckey,
	config_command_t *out)
{
	const json_tok_t *toks = c->toks;
	uint32_t v = m->v, k, e;
	size_t idx;
	bool ok = true;
	json_iter_t it;

	if (toks[v].type != JSON_ARRAY) {
		type_error(c, v, ckey, "an argv array of strings");
		return false;
	}
	if (toks[v].size == 0) {
		ERR(c, v, ckey, "argv is empty: give at least the program's absolute path");
		return false;
	}
	out->name = dup_mem(m->s, m->n);
	out->argv = calloc((size_t)toks[v].size + 1, sizeof *out->argv);
	if (out->name == NULL || out->argv == NULL) {
		c->nomem = true;
		free_command(out);
		return false;
	}
	it = json_iter(toks, v);
	for (idx = 0; json_iter_next(&it, toks, &k, &e); idx++) {
		char kb[192], shown[96];
		char *s = NULL;
		size_t len = 0;
		int r = get_str(c, e, ckey, idx, "a string", &s, &len);

		if (r < 0) {
			ok = false;
		} else if (idx == 0 && (r == 0 || s[0] != '/' || s[len - 1] == '/')) {
			ERR(c, e, ekey(kb, sizeof kb, ckey, idx),
				"argv[0] must be the program's absolute path, found \"%s\"",
				r == 0 ? "" : disp(shown, sizeof shown, s, len));
			ok = false;
		} else if (ok) {
			out->argv[out->argc++] = r == 0 ? dup_mem("", 0) : s;
			s = NULL;
			if (out->argv[out->argc - 1] == NULL) {
				c->nomem = true;
				ok = false;
			}
		}
		free(s);
	}
	if (!ok)
		free_command(out);
	return ok;
}

static void do_commands(struct ctx *c, uint32_t v, const char *key)
{
	dmqtt_config_t *cfg = c->cfg;
	struct member *m = NULL;
	char *arena = NULL;
	size_t n = 0, got = 0;
	bool bad = false;
	config_command_t *cmds;

	if (c->toks[v].type != JSON_OBJECT) {
		type_error(c, v, key, "an object (command name -> argv array)");
		cfg->state[CONFIG_KEY_ALLOWED_COMMANDS] = CONFIG_INVALID;
		return;
	}
	if (members(c, v, &m, &n, &arena) != 0)
		return;
	cmds = calloc(n + 1, sizeof *cmds);
	if (cmds == NULL) {
		c->nomem = true;
		free(m);
		free(arena);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char ckey[160], shown[96];
		bool good = !m[i].has_nul && good_command_name(m[i].s, m[i].n);
		size_t kl = strlen(key);
		/* "allowed_commands.NAME" (a good name needs no escaping) */
		if (good) {
			memcpy(shown, m[i].s, m[i].n);
			shown[m[i].n] = '\0';
		} else {
			disp(shown, sizeof shown, m[i].s, m[i].n);
		}
		memcpy(ckey, key, kl);
		ckey[kl] = '.';
		memcpy(ckey + kl + 1, shown, strlen(shown) + 1);
		if (m[i].first != i) {
			ERR(c, m[i].k, ckey, "duplicated command (first at line %zu)",
				line_of(c, m[m[i].first].k));
			bad = true;
			continue;
		}
		if (!good) {
			ERR(c, m[i].k, ckey, "a command name is 1 to %d letters, digits, '-', '_' "
				"or '.'", CONFIG_MAX_COMMAND_NAME);
			bad = true;
			continue;
		}
		if (is_builtin(m[i].s, m[i].n)) {
			ERR(c, m[i].k, ckey, "'%s' is a built-in command and cannot be replaced; "
				"choose another name", shown);
			bad = true;
			continue;
		}
		if (one_command(c, &m[i], ckey, &cmds[got]))
			got++;
		else
			bad = true;
	}
	free(m);
	free(arena);
	if (bad) {
		for (size_t i = 0; i < got; i++)
			free_command(&cmds[i]);
		free(cmds);
		cfg->state[CONFIG_KEY_ALLOWED_COMMANDS] = CONFIG_INVALID;
		return;
	}
	cfg->commands = cmds;
	cfg->ncommands = got;
	cfg->state[CONFIG_KEY_ALLOWED_COMMANDS] = CONFIG_SET;
}

static void do_topics(struct ctx *c, uint32_t v, const char *key)
{
	dmqtt_config_t *cfg = c->cfg;
	const json_tok_t *toks = c->toks;
	size_t n = toks[v].size, got = 0, idx = 0;
	char **lines;
	bool bad = false;
	json_iter_t it;
	uint32_t k, e;

	if (toks[v].type != JSON_ARRAY) {
		type_error(c, v, key, "an array of mosquitto topic lines");
		cfg->state[CONFIG_KEY_BRIDGE_TOPICS] = CONFIG_INVALID;
		return;
	}
	if (n == 0) {
		ERR(c, v, key, "is empty: the bridge needs at least one topic line "
			"(leave the key out for the defaults)");
		cfg->state[CONFIG_KEY_BRIDGE_TOPICS] = CONFIG_INVALID;
		return;
	}
	lines = calloc(n + 1, sizeof *lines);
	if (lines == NULL) {
		c->nomem = true;
		return;
	}
	it = json_iter(toks, v);
	for (idx = 0; json_iter_next(&it, toks, &k, &e); idx++) {
		char kb[64], why[160];
		char *s = NULL;
		size_t len = 0;
		int r = get_str(c, e, key, idx, "a topic line (string)", &s, &len);

		if (r < 0) {
			bad = true;
			continue;
		}
		if (r == 0) {
			ERR(c, e, ekey(kb, sizeof kb, key, idx), "empty topic line");
			bad = true;
			continue;
		}
		/* s is normalised in place (never grows) */
		if (bad_topic_line(s, len, s, why, sizeof why) != NULL) {
			ERR(c, e, ekey(kb, sizeof kb, key, idx), "%s", why);
			free(s);
			bad = true;
			continue;
		}
		lines[got++] = s;
	}
	if (bad) {
		for (size_t j = 0; j < got; j++)
			free(lines[j]);
		free(lines);
		cfg->state[CONFIG_KEY_BRIDGE_TOPICS] = CONFIG_INVALID;
		return;
	}
	cfg->own_topics_ = lines;
	cfg->bridge_topics = (const char *const *)lines;
	cfg->nbridge_topics = got;
	cfg->state[CONFIG_KEY_BRIDGE_TOPICS] = CONFIG_SET;
}

static void do_log_level(struct ctx *c, uint32_t v, const char *key)
{
	char *s = NULL, shown[96];
	size_t n = 0;
	int r = get_str(c, v, key, NOIDX, "a string (error, warn, info or debug)", &s, &n), lvl;

	if (r <= 0) {
		c->cfg->state[CONFIG_KEY_LOG_LEVEL] = r == 0 ? CONFIG_EMPTY : CONFIG_INVALID;
		return;
	}
	lvl = log_parse_level(s);
	if (lvl < 0) {
		ERR(c, v, key, "expected error, warn, info or debug, found \"%s\"",
			disp(shown, sizeof shown, s, n));
		c->cfg->state[CONFIG_KEY_LOG_LEVEL] = CONFIG_INVALID;
	} else {
		c->cfg->log_level = lvl;
		c->cfg->state[CONFIG_KEY_LOG_LEVEL] = CONFIG_SET;
	}
	free(s);
}

static void do_mesh_ip(struct ctx *c, uint32_t v, const char *key)
{
	char *s = NULL, shown[96];
	size_t n = 0;
	unsigned char a[16];
	int r = get_str(c, v, key, NOIDX, "a string (an IPv4 or IPv6 address)", &s, &n);
	const char *why = NULL;

	if (r <= 0) {
		c->cfg->state[CONFIG_KEY_MESH_BROKER_IP] = r == 0 ? CONFIG_EMPTY : CONFIG_INVALID;
		return;
	}
	if (inet_pton(AF_INET, s, a) == 1) {
		if (a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] == 0)
			why = "is the unspecified address, which nodes cannot connect to";
		else if (a[0] >= 224)
			why = "is a multicast or reserved address";
	} else if (inet_pton(AF_INET6, s, a) == 1) {
		static const unsigned char zero[16];
		if (memcmp(a, zero, 16) == 0)
			why = "is the unspecified address, which nodes cannot connect to";
		else if (a[0] == 0xff)
			why = "is a multicast address";
	} else {
		why = "is not an IPv4 or IPv6 address";
	}
	if (why != NULL) {
		ERR(c, v, key, "\"%s\" %s", disp(shown, sizeof shown, s, n), why);
		free(s);
		c->cfg->state[CONFIG_KEY_MESH_BROKER_IP] = CONFIG_INVALID;
		return;
	}
	c->cfg->mesh_broker_ip = s;
	c->cfg->state[CONFIG_KEY_MESH_BROKER_IP] = CONFIG_SET;
}

static void do_key(struct ctx *c, config_key_t k, uint32_t v)
{
	const char *key = key_names[k];
	dmqtt_config_t *cfg = c->cfg;

	switch (k) {
	case CONFIG_KEY_CLOUD_HOST: do_host(c, v, key); break;
	case CONFIG_KEY_CLOUD_PORT: do_port(c, v, key, k, &cfg->cloud_port); break;
	case CONFIG_KEY_CLOUD_USERNAME: do_login(c, v, key, k, &cfg->cloud_username); break;
	case CONFIG_KEY_CLOUD_PASSWORD: do_login(c, v, key, k, &cfg->cloud_password); break;
	case CONFIG_KEY_CLOUD_CA: do_ca(c, v, key); break;
	case CONFIG_KEY_MESH_PORT: do_port(c, v, key, k, &cfg->mesh_port); break;
	case CONFIG_KEY_MESH_SECRET_SALT: do_salt(c, v, key); break;
	case CONFIG_KEY_TELEMETRY_INTERVAL: do_interval(c, v, key); break;
	case CONFIG_KEY_TELEMETRY_INTERFACES: do_interfaces(c, v, key); break;
	case CONFIG_KEY_ALLOWED_COMMANDS: do_commands(c, v, key); break;
	case CONFIG_KEY_BRIDGE_TOPICS: do_topics(c, v, key); break;
	case CONFIG_KEY_LOG_LEVEL: do_log_level(c, v, key); break;
	case CONFIG_KEY_MESH_BROKER_IP: do_mesh_ip(c, v, key); break;
	case CONFIG_NKEYS: break;
	}
}

/* ------------------------------------------------------------- public */

/* see config.h */
void config_init(dmqtt_config_t *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->cloud_port = CONFIG_DEFAULT_CLOUD_PORT;
	cfg->mesh_port = CONFIG_DEFAULT_MESH_PORT;
	cfg->telemetry_interval_s = CONFIG_DEFAULT_TELEMETRY_S;
	cfg->telemetry_all = true;
	cfg->bridge_topics = config_default_bridge_topics;
	cfg->nbridge_topics = NDEFAULT_TOPICS;
	cfg->log_level = LOG_INFO;
}

/* see config.h */
void config_free(dmqtt_config_t *cfg)
{
	free(cfg->source);
	free(cfg->cloud_host);
	free(cfg->cloud_username);
	free_secret(cfg->cloud_password);
	free(cfg->cloud_ca_pem);
	free(cfg->cloud_ca_certs);
	free_secret(cfg->mesh_secret_salt);
	if (cfg->telemetry_interfaces != NULL)
		for (size_t i = 0; i < cfg->ntelemetry_interfaces; i++)
			free(cfg->telemetry_interfaces[i]);
	free(cfg->telemetry_interfaces);
	if (cfg->commands != NULL)
		for (size_t i = 0; i < cfg->ncommands; i++)
			free_command(&cfg->commands[i]);
	free(cfg->commands);
	if (cfg->own_topics_ != NULL)
		for (size_t i = 0; i < cfg->nbridge_topics; i++)
			free(cfg->own_topics_[i]);
	free(cfg->own_topics_);
	free(cfg->mesh_broker_ip);
	config_init(cfg);
}

/* Free what a failed parse built and keep only the defaults (and name). */
static void reset_keep_source(dmqtt_config_t *cfg)
{
	char *src = cfg->source;
	cfg->source = NULL;
	config_free(cfg);
	cfg->source = src;
}

/* see config.h */
config_status_t config_parse(const char *buf, size_t len, const char *name,
	dmqtt_config_t *out, config_diag_t *diag)
{
	struct ctx c;
	json_parser_t p;
	json_status_t jst;
	json_tok_t *toks;
	struct member *m = NULL;
	char *arena = NULL;
	size_t n = 0, before = diag->nerrors;

	if (name == NULL)
		name = "user-config.json";
	config_init(out);
	out->source = dup_mem(name, strlen(name));
	if (out->source == NULL)
		return CONFIG_ERR_NOMEM;
	if (len > CONFIG_MAX_SIZE) {
		diag->sys_errno = EFBIG;
		add(diag, name, CONFIG_SEV_ERROR, CONFIG_ERR_IO, 0, 0, NULL,
			"%zu bytes, larger than the 1 MiB limit for a configuration file", len);
		return CONFIG_ERR_IO;
	}
	jst = json_parse(&p, buf, len, NULL, 0);
	if (jst != JSON_OK) {
		add(diag, name, CONFIG_SEV_ERROR, CONFIG_ERR_SYNTAX, p.err_line, p.err_col, NULL,
			"%s%s", json_strerror(jst),
			jst == JSON_ERR_BOM ? " (save the file as UTF-8 without a BOM)" :
			jst == JSON_ERR_EMPTY ? " (an empty configuration is {})" : "");
		return CONFIG_ERR_SYNTAX;
	}
	toks = malloc((size_t)p.ntok * sizeof *toks);
	if (toks == NULL)
		return CONFIG_ERR_NOMEM;
	if (json_parse(&p, buf, len, toks, p.ntok) != JSON_OK) {
		free(toks); /* cannot happen: counting said it parses */
		return CONFIG_ERR_NOMEM;
	}
	memset(&c, 0, sizeof c);
	c.js = buf;
	c.len = len;
	c.toks = toks;
	c.name = name;
	c.cfg = out;
	c.d = diag;
	c.pos_line = 1;
	c.pos_col = 1;

	if (toks[0].type != JSON_OBJECT) {
		ERR(&c, 0, NULL, "the configuration must be a JSON object ({...}), found %s",
			a_type(toks[0].type));
		free(toks);
		return CONFIG_ERR_INVALID;
	}
	if (members(&c, 0, &m, &n, &arena) != 0) {
		free(toks);
		reset_keep_source(out);
		return CONFIG_ERR_NOMEM;
	}
	/* one pass in document order, so messages come in file order */
	for (size_t i = 0; i < n; i++) {
		char shown[96];
		int known = -1;
		if (!m[i].has_nul)
			for (int k = 0; k < CONFIG_NKEYS; k++)
				if (strlen(key_names[k]) == m[i].n &&
				    memcmp(key_names[k], m[i].s, m[i].n) == 0) {
					known = k;
					break;
				}
		disp(shown, sizeof shown, m[i].s, m[i].n);
		if (m[i].first != i) {
			ERR(&c, m[i].k, shown, "duplicated key (first at line %zu)",
				line_of(&c, m[m[i].first].k));
			continue;
		}
		if (known < 0) {
			/* (the suggestion only for a warning that is kept) */
			const char *sug = diag->n < CONFIG_MAX_MSGS ? suggest(m[i].s, m[i].n) : NULL;
			WARN(&c, m[i].k, shown, "unknown key, ignored%s%s%s",
				sug ? " (did you mean " : "", sug ? sug : "", sug ? "?)" : "");
			continue;
		}
		if (m[i].repeated) {
			/* neither value is used; the repeat is reported where it is */
			out->state[known] = CONFIG_INVALID;
			continue;
		}
		do_key(&c, (config_key_t)known, m[i].v);
	}
	free(m);
	free(arena);
	free(toks);
	if (c.nomem || diag->nomem) {
		reset_keep_source(out);
		return CONFIG_ERR_NOMEM;
	}
	return diag->nerrors > before ? CONFIG_ERR_INVALID : CONFIG_OK;
}

/* see config.h */
config_status_t config_load(const char *path, dmqtt_config_t *out,
	config_diag_t *diag)
{
	char *buf = NULL;
	size_t len = 0;
	config_status_t st;
	int r = file_read(path, CONFIG_MAX_SIZE, &buf, &len);

	if (r != 0) {
		struct stat sb;
		config_init(out);
		out->source = dup_mem(path, strlen(path));
		diag->sys_errno = -r;
		if (r == -EFBIG && stat(path, &sb) == 0)
			add(diag, path, CONFIG_SEV_ERROR, CONFIG_ERR_IO, 0, 0, NULL,
				"%lld bytes, larger than the 1 MiB limit for a configuration file",
				(long long)sb.st_size);
		else if (r == -EFBIG)
			add(diag, path, CONFIG_SEV_ERROR, CONFIG_ERR_IO, 0, 0, NULL,
				"larger than the 1 MiB limit for a configuration file");
		else
			add(diag, path, CONFIG_SEV_ERROR, CONFIG_ERR_IO, 0, 0, NULL,
				"cannot read: %s", strerror(-r));
		return r == -ENOMEM ? CONFIG_ERR_NOMEM : CONFIG_ERR_IO;
	}
	st = config_parse(buf, len, path, out, diag);
	wipe(buf, len);
	free(buf);
	return st;
}

/* see config.h */
const char *config_path(const char *flag)
{
	const char *env;
	if (flag != NULL && flag[0] != '\0')
		return flag;
	env = getenv("DMQTT_CONFIG");
	if (env != NULL && env[0] != '\0')
		return env;
	return CONFIG_DEFAULT_PATH;
}

/* see config.h */
config_status_t config_check(const dmqtt_config_t *cfg, config_role_t role,
	config_diag_t *diag)
{
	static const config_key_t broker_needs[] = {
		CONFIG_KEY_CLOUD_HOST, CONFIG_KEY_CLOUD_USERNAME,
		CONFIG_KEY_CLOUD_PASSWORD, CONFIG_KEY_CLOUD_CA,
	};
	const char *name = cfg->source != NULL ? cfg->source : "user-config.json";

	if (role == CONFIG_ROLE_BROKER) {
		for (size_t i = 0; i < sizeof broker_needs / sizeof broker_needs[0]; i++) {
			config_key_t k = broker_needs[i];
			if (cfg->state[k] == CONFIG_ABSENT)
				add(diag, name, CONFIG_SEV_ERROR, CONFIG_ERR_INVALID, 0, 0,
					key_names[k], "missing: the broker role needs it");
			else if (cfg->state[k] == CONFIG_EMPTY)
				add(diag, name, CONFIG_SEV_ERROR, CONFIG_ERR_INVALID, 0, 0,
					key_names[k], "empty: the broker role needs a value");
		}
	}
	if (diag->nomem)
		return CONFIG_ERR_NOMEM;
	return diag->nerrors > 0 ? CONFIG_ERR_INVALID : CONFIG_OK;
}

/* ---------------------------------------------------------------- print */

/* s as a JSON string literal */
static void put_json_str(FILE *f, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			fputc('\\', f);
			fputc(*p, f);
		} else if (*p < 0x20 || *p == 0x7f) {
			fmt_fprintf(f, "\\u00%c%c", hex[*p >> 4], hex[*p & 15]);
		} else {
			fputc(*p, f);
		}
	}
	fputc('"', f);
}

static const char *dflt(const dmqtt_config_t *cfg, config_key_t k)
{
	return cfg->state[k] == CONFIG_SET ? "" : " (default)";
}

static void put_str_key(FILE *f, const dmqtt_config_t *cfg, config_key_t k,
	const char *val, bool secret, bool show)
{
	fmt_fprintf(f, "%s = ", key_names[k]);
	if (val == NULL)
		fputs(cfg->state[k] == CONFIG_EMPTY ? "(empty: not set)" : "(not set)", f);
	else if (secret && !show)
		fputs("********", f);
	else
		put_json_str(f, val);
	fputc('\n', f);
}

/* see config.h */
void config_print(const dmqtt_config_t *cfg, FILE *f, bool show_secrets)
{
	static const char *const levels[] = { "error", "warn", "info", "debug" };

	put_str_key(f, cfg, CONFIG_KEY_CLOUD_HOST, cfg->cloud_host, false, false);
	fmt_fprintf(f, "%s = %u%s\n", key_names[CONFIG_KEY_CLOUD_PORT], cfg->cloud_port,
		dflt(cfg, CONFIG_KEY_CLOUD_PORT));
	put_str_key(f, cfg, CONFIG_KEY_CLOUD_USERNAME, cfg->cloud_username, false, false);
	put_str_key(f, cfg, CONFIG_KEY_CLOUD_PASSWORD, cfg->cloud_password, true, show_secrets);
	fmt_fprintf(f, "%s = ", key_names[CONFIG_KEY_CLOUD_CA]);
	if (cfg->cloud_ca_pem == NULL) {
		fputs("(not set)\n", f);
	} else {
		fmt_fprintf(f, "%zu certificate%s, %zu bytes of PEM\n", cfg->cloud_ca_ncerts,
			cfg->cloud_ca_ncerts == 1 ? "" : "s", cfg->cloud_ca_pem_len);
		for (size_t i = 0; i < cfg->cloud_ca_ncerts; i++) {
			fmt_fprintf(f, "  certificate %zu: %s, sha256 ", i + 1,
				cfg->cloud_ca_certs[i].is_ca ? "CA" : "not a CA");
			for (int b = 0; b < 32; b++)
				fmt_fprintf(f, "%02X%s", cfg->cloud_ca_certs[i].sha256[b], b < 31 ? ":" : "\n");
		}
	}
	fmt_fprintf(f, "%s = %u%s\n", key_names[CONFIG_KEY_MESH_PORT], cfg->mesh_port,
		dflt(cfg, CONFIG_KEY_MESH_PORT));
	put_str_key(f, cfg, CONFIG_KEY_MESH_SECRET_SALT, cfg->mesh_secret_salt, true, show_secrets);
	fmt_fprintf(f, "%s = %u%s\n", key_names[CONFIG_KEY_TELEMETRY_INTERVAL],
		(unsigned)cfg->telemetry_interval_s, dflt(cfg, CONFIG_KEY_TELEMETRY_INTERVAL));
	fmt_fprintf(f, "%s = ", key_names[CONFIG_KEY_TELEMETRY_INTERFACES]);
	if (cfg->telemetry_all) {
		fputs("every interface but lo (default)\n", f);
	} else if (cfg->ntelemetry_interfaces == 0) {
		fputs("[] (no interface telemetry)\n", f);
	} else {
		fputc('[', f);
		for (size_t i = 0; i < cfg->ntelemetry_interfaces; i++) {
			if (i > 0)
				fputs(", ", f);
			put_json_str(f, cfg->telemetry_interfaces[i]);
		}
		fputs("]\n", f);
	}
	fmt_fprintf(f, "%s = %zu command%s%s\n", key_names[CONFIG_KEY_ALLOWED_COMMANDS],
		cfg->ncommands, cfg->ncommands == 1 ? "" : "s",
		cfg->ncommands == 0 ? " (built-ins only)" : "");
	for (size_t i = 0; i < cfg->ncommands; i++) {
		fmt_fprintf(f, "  %s = [", cfg->commands[i].name);
		for (size_t a = 0; a < cfg->commands[i].argc; a++) {
			if (a > 0)
				fputs(", ", f);
			put_json_str(f, cfg->commands[i].argv[a]);
		}
		fputs("]\n", f);
	}
	fmt_fprintf(f, "%s = %zu line%s%s\n", key_names[CONFIG_KEY_BRIDGE_TOPICS],
		cfg->nbridge_topics, cfg->nbridge_topics == 1 ? "" : "s",
		dflt(cfg, CONFIG_KEY_BRIDGE_TOPICS));
	for (size_t i = 0; i < cfg->nbridge_topics; i++)
		fmt_fprintf(f, "  topic %s\n", cfg->bridge_topics[i]);
	fmt_fprintf(f, "%s = %s%s\n", key_names[CONFIG_KEY_LOG_LEVEL],
		(unsigned)cfg->log_level < 4 ? levels[cfg->log_level] : "?",
		dflt(cfg, CONFIG_KEY_LOG_LEVEL));
	fmt_fprintf(f, "%s = ", key_names[CONFIG_KEY_MESH_BROKER_IP]);
	if (cfg->mesh_broker_ip == NULL)
		fputs("(not set: the broker asks GetMeshIPAddress)\n", f);
	else
		fmt_fprintf(f, "%s\n", cfg->mesh_broker_ip);
}
