/* nodetable.c -- see nodetable.h */
#include "src/nodetable.h"

#include <string.h>

#include "proto/json.h"
#include "src/request.h"

/* mesh unknown, and not behind the single known MEN either (it talked
 * while that bridge was down) */
#define MESH_NONE 255u
#define INTERVAL_MIN 100u
#define INTERVAL_MAX 3600000u

size_t nodetable_slots_for(size_t cap)
{
	size_t n = 16;
	while (n < 2 * cap)
		n *= 2;
	return n;
}

int nodetable_init(nodetable_t *t, nt_node_t *nodes, size_t cap, uint32_t *slots,
	size_t nslots)
{
	if (nslots == 0 || (nslots & (nslots - 1)) != 0 || nslots < 2 * cap || cap >= UINT32_MAX)
		return -1;
	memset(t, 0, sizeof *t);
	t->nodes = nodes;
	t->cap = cap;
	t->slots = slots;
	t->nslots = nslots;
	memset(slots, 0, nslots * sizeof *slots);
	return 0;
}

static bool serial_ok(const char *s, size_t n)
{
	if (n == 0 || n > NT_SERIAL_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static uint32_t hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

/* The slot holding serial s, or the empty slot where it would go. */
static uint32_t *slot_of(const nodetable_t *t, const char *s, size_t n)
{
	size_t mask = t->nslots - 1, i = hash(s, n) & mask;
	for (;;) {
		uint32_t v = t->slots[i];
		if (v == 0)
			return &t->slots[i];
		if (strlen(t->nodes[v - 1].sn) == n && memcmp(t->nodes[v - 1].sn, s, n) == 0)
			return &t->slots[i];
		i = (i + 1) & mask;
	}
}

const nt_node_t *nodetable_find(const nodetable_t *t, const char *sn, size_t len)
{
	uint32_t v;
	if (!serial_ok(sn, len))
		return NULL;
	v = *slot_of(t, sn, len);
	return v == 0 ? NULL : &t->nodes[v - 1];
}

static int mesh_index(const nodetable_t *t, const char *sn, size_t n)
{
	for (size_t i = 0; i < t->nmesh; i++)
		if (strlen(t->meshes[i].sn) == n && memcmp(t->meshes[i].sn, sn, n) == 0)
			return (int)i;
	return -1;
}

static nt_node_t *get_node(nodetable_t *t, const char *sn, size_t n, uint64_t now)
{
	uint32_t *slot = slot_of(t, sn, n);
	nt_node_t *nd;
	int m;
	if (*slot != 0)
		return &t->nodes[*slot - 1];
	if (t->n >= t->cap) {
		t->dropped++;
		return NULL;
	}
	nd = &t->nodes[t->n++];
	memset(nd, 0, sizeof *nd);
	memcpy(nd->sn, sn, n);
	nd->first_seen = now;
	*slot = (uint32_t)t->n;
	m = mesh_index(t, sn, n);
	if (m >= 0)
		nd->mesh = (uint8_t)(m + 1); /* a MEN's own node */
	return nd;
}

const nt_mesh_t *nodetable_mesh_of(const nodetable_t *t, const nt_node_t *n)
{
	if (n->mesh == MESH_NONE)
		return NULL;
	if (n->mesh != 0)
		return &t->meshes[n->mesh - 1];
	return t->nmesh == 1 ? &t->meshes[0] : NULL;
}

/* The topic level starting at *pos (then *pos moves past its '/', or to
 * len + 1 after the last level); false when no level is left. */
static bool level(const char *topic, size_t len, size_t *pos, const char **s, size_t *n)
{
	size_t i = *pos;
	if (i > len)
		return false;
	*s = topic + i;
	while (i < len && topic[i] != '/')
		i++;
	*n = i - *pos;
	*pos = i + 1;
	return true;
}

static void on_status(nodetable_t *t, nt_node_t *nd, const uint8_t *pl, size_t len)
{
	if (len == 6 && memcmp(pl, "online", 6) == 0)
		nd->status = NT_UP;
	else if (len == 7 && memcmp(pl, "offline", 7) == 0)
		nd->status = NT_DOWN;
	else if (len == 0)
		nd->status = NT_UNKNOWN; /* retained status cleared */
	else
		t->ignored++;
}

static void on_bridge(nodetable_t *t, const char *sn, size_t n, const uint8_t *pl,
	size_t len, uint64_t now)
{
	int m = mesh_index(t, sn, n);
	nt_mesh_t *mesh;
	uint8_t st;
	if (len == 1 && pl[0] == '1')
		st = NT_UP;
	else if (len == 1 && pl[0] == '0')
		st = NT_DOWN;
	else {
		t->ignored++;
		return;
	}
	if (m < 0) {
		const nt_node_t *own;
		if (t->nmesh >= NT_MESHES) {
			t->ignored++;
			return;
		}
		m = (int)t->nmesh++;
		memset(&t->meshes[m], 0, sizeof t->meshes[m]);
		memcpy(t->meshes[m].sn, sn, n);
		own = nodetable_find(t, sn, n);
		if (own != NULL)
			t->nodes[own - t->nodes].mesh = (uint8_t)(m + 1);
	}
	mesh = &t->meshes[m];
	if (mesh->bridge != st)
		mesh->since = now;
	mesh->bridge = st;
	if (st == NT_DOWN && t->nodes != NULL) {
		/* the nodes of unknown mesh that were up are assumed behind it */
		for (size_t i = 0; i < t->n; i++)
			if ((t->nodes[i].mesh == 0 || t->nodes[i].mesh == MESH_NONE) &&
			    t->nodes[i].status != NT_DOWN)
				t->nodes[i].mesh = (uint8_t)(m + 1);
	}
}

static void on_telemetry(nodetable_t *t, nt_node_t *nd, const char *ifn, size_t ifl,
	const uint8_t *pl, size_t len, bool retained, uint64_t now)
{
	json_parser_t jp;
	json_tok_t tok[8];
	uint32_t v;
	nt_iface_t *f = NULL;
	uint8_t up = NT_UNKNOWN;

	if (ifl == 0 || ifl > NT_IFNAME_MAX) {
		t->ignored++;
		return;
	}
	for (size_t i = 0; i < ifl; i++)
		if ((unsigned char)ifn[i] < 0x21 || (unsigned char)ifn[i] > 0x7e) {
			t->ignored++;
			return;
		}
	if (json_parse(&jp, (const char *)pl, len, tok, 8) != JSON_OK ||
	    json_find_key((const char *)pl, tok, 0, "interface_status", &v) != JSON_OK ||
	    tok[v].type != JSON_STRING) {
		t->ignored++;
		return;
	}
	if (json_streq((const char *)pl, &tok[v], "Up"))
		up = NT_UP;
	else if (json_streq((const char *)pl, &tok[v], "Down"))
		up = NT_DOWN;
	for (size_t i = 0; i < nd->nif; i++)
		if (strlen(nd->ifs[i].name) == ifl && memcmp(nd->ifs[i].name, ifn, ifl) == 0)
			f = &nd->ifs[i];
	if (f == NULL) {
		if (nd->nif >= NT_IFACES) {
			t->ignored++;
			return;
		}
		f = &nd->ifs[nd->nif++];
		memset(f, 0, sizeof *f);
		memcpy(f->name, ifn, ifl);
	}
	if (!retained && f->at != 0 && now > f->at) {
		/* learn the interval: follow a shorter spacing quickly, a longer
		 * one (a lost message, a slower node) slowly */
		uint64_t s = now - f->at;
		if (s >= INTERVAL_MIN) {
			if (s > INTERVAL_MAX)
				s = INTERVAL_MAX;
			if (nd->interval_ms == 0)
				nd->interval_ms = (uint32_t)s;
			else if (s < nd->interval_ms)
				nd->interval_ms = (uint32_t)((nd->interval_ms + s) / 2);
			else
				nd->interval_ms = (uint32_t)((7u * (uint64_t)nd->interval_ms + s) / 8);
		}
	}
	f->up = up;
	f->at = now;
	if (!retained)
		nd->last_data = now;
}

/* Remember nodetype and uptime answers (printable ASCII only). */
static void keep_text(const char *js, const json_tok_t *t, char *dst, size_t cap)
{
	char buf[NT_UPTIME_MAX + 1];
	size_t n;
	if (t->type != JSON_STRING || json_unescape(js, t, buf, sizeof buf, &n) != JSON_OK ||
	    n >= cap)
		return;
	for (size_t i = 0; i < n; i++)
		if (buf[i] < 0x20 || buf[i] > 0x7e)
			return;
	memcpy(dst, buf, n + 1);
}

static void on_reply(nodetable_t *t, nt_node_t *nd, const uint8_t *pl, size_t len)
{
	const char *js = (const char *)pl;
	json_parser_t jp;
	json_tok_t tok[24];
	uint32_t c, r, d;
	int64_t rc;
	if (json_parse(&jp, js, len, tok, 24) != JSON_OK || tok[0].type != JSON_OBJECT ||
	    json_find_key(js, tok, 0, "cmd", &c) != JSON_OK ||
	    json_find_key(js, tok, 0, "rc", &r) != JSON_OK ||
	    json_find_key(js, tok, 0, "data", &d) != JSON_OK ||
	    tok[r].type != JSON_NUMBER || json_get_int(js, &tok[r], -1000, 1000, &rc) != JSON_OK) {
		t->ignored++;
		return;
	}
	if (rc != 0)
		return;
	if (json_streq(js, &tok[c], "nodetype"))
		keep_text(js, &tok[d], nd->type, sizeof nd->type);
	else if (json_streq(js, &tok[c], "uptime"))
		keep_text(js, &tok[d], nd->uptime, sizeof nd->uptime);
}

nt_class_t nodetable_update(nodetable_t *t, const char *topic, size_t topic_len,
	const uint8_t *payload, size_t len, bool retained, uint64_t now)
{
	const char *a, *b, *c = NULL;
	size_t an, bn, cn = 0, pos = 0, tl = topic_len;
	nt_class_t cls;
	nt_node_t *nd;

	level(topic, tl, &pos, &a, &an);
	if (an == 6 && memcmp(a, "status", 6) == 0)
		cls = NT_STATUS;
	else if (an == 4 && memcmp(a, "data", 4) == 0)
		cls = NT_DATA;
	else if (an == 3 && memcmp(a, "rsp", 3) == 0)
		cls = NT_RSP;
	else if (an == 3 && memcmp(a, "req", 3) == 0)
		cls = NT_REQ;
	else
		cls = NT_OTHER;
	t->msgs[cls]++;
	if (cls == NT_REQ || cls == NT_OTHER)
		return cls;
	if (!level(topic, tl, &pos, &b, &bn)) {
		t->ignored++;
		return cls;
	}
	if (cls == NT_STATUS && bn == 3 && memcmp(b, "men", 3) == 0 && pos <= tl) {
		/* status/men/<men sn> */
		level(topic, tl, &pos, &c, &cn);
		if (pos <= tl || !serial_ok(c, cn))
			t->ignored++;
		else
			on_bridge(t, c, cn, payload, len, now);
		return cls;
	}
	if (cls == NT_RSP && bn == 3 && memcmp(b, "all", 3) == 0) {
		if (pos > tl) {
			t->ignored++;              /* rsp/all without a serial */
			return cls;
		}
		level(topic, tl, &pos, &b, &bn);   /* rsp/all/<sn> */
	}
	if (cls == NT_DATA) {
		const char *kind;
		size_t kn;
		/* data/<sn>/interface/<ifname>; other data/<sn>/... only counts */
		if (!level(topic, tl, &pos, &kind, &kn)) {
			t->ignored++;
			return cls;
		}
		if (!(kn == 9 && memcmp(kind, "interface", 9) == 0 &&
		      level(topic, tl, &pos, &c, &cn) && pos > tl))
			c = NULL;
	} else if (pos <= tl) {
		t->ignored++;  /* status/<sn>/more, rsp/<sn>/more */
		return cls;
	}
	if (!serial_ok(b, bn)) {
		t->ignored++;
		return cls;
	}
	nd = get_node(t, b, bn, now);
	if (nd == NULL)
		return cls;
	nd->msgs++;
	nd->last_seen = now;
	if (!retained) {
		/* alive while the bridge it was thought to be behind is down:
		 * it is not behind that bridge */
		const nt_mesh_t *m = nodetable_mesh_of(t, nd);
		nd->last_live = now;
		if (m != NULL && m->bridge == NT_DOWN && strcmp(m->sn, nd->sn) != 0)
			nd->mesh = MESH_NONE;
	}
	if (cls == NT_STATUS)
		on_status(t, nd, payload, len);
	else if (cls == NT_RSP)
		on_reply(t, nd, payload, len);
	else if (c != NULL)
		on_telemetry(t, nd, c, cn, payload, len, retained, now);
	return cls;
}

uint32_t nodetable_interval(const nt_node_t *n)
{
	return n->interval_ms != 0 ? n->interval_ms : NT_DEFAULT_INTERVAL_MS;
}

nt_state_t nodetable_state(const nodetable_t *t, const nt_node_t *n, uint64_t now,
	const char **why)
{
	const nt_mesh_t *m = nodetable_mesh_of(t, n);
	uint64_t ref = n->last_data != 0 ? n->last_data : n->last_live;
	const char *w = "";
	nt_state_t s = NT_ONLINE;

	if (n->status == NT_DOWN) {
		s = NT_OFFLINE;
		w = "status";
	} else if (m != NULL && m->bridge == NT_DOWN) {
		s = NT_OFFLINE;
		w = "bridge";
	} else if (ref == 0 ? n->status != NT_UP :
		   now > ref && now - ref > 3u * (uint64_t)nodetable_interval(n)) {
		s = NT_STALE;
		w = "telemetry";
	}
	if (why != NULL)
		*why = w;
	return s;
}

const char *nodetable_state_name(nt_state_t s)
{
	return s == NT_ONLINE ? "online" : s == NT_STALE ? "stale" : "offline";
}

const char *nodetable_class_name(nt_class_t c)
{
	static const char *const names[NT_CLASSES] = { "req", "rsp", "data", "status", "other" };
	return (unsigned)c < NT_CLASSES ? names[c] : "?";
}

void nodetable_count(const nodetable_t *t, uint64_t now, size_t out[3])
{
	out[0] = out[1] = out[2] = 0;
	for (size_t i = 0; i < t->n; i++)
		out[nodetable_state(t, &t->nodes[i], now, NULL)]++;
}

/* ------------------------------------------------------------------ JSON */

typedef struct {
	char *out;
	size_t cap, len;
	bool ok;
} wr_t;

static void w_raw(wr_t *w, const char *s)
{
	size_t n = strlen(s);
	if (!w->ok || w->len + n > w->cap) {
		w->ok = false;
		return;
	}
	memcpy(w->out + w->len, s, n);
	w->len += n;
}

static void w_str(wr_t *w, const char *s)
{
	size_t n = strlen(s), e;
	w_raw(w, "\"");
	if (!w->ok)
		return;
	e = json_escape(w->out + w->len, w->cap - w->len, s, n);
	if (e == 0 && n > 0)
		w->ok = false;
	w->len += e;
	w_raw(w, "\"");
}

static void w_num(wr_t *w, uint64_t v)
{
	char b[24];
	size_t i = sizeof b - 1;
	b[i] = '\0';
	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	w_raw(w, b + i);
}

static void w_age(wr_t *w, uint64_t at, uint64_t now)
{
	if (at == 0)
		w_raw(w, "null");
	else
		w_num(w, now > at ? now - at : 0);
}

size_t nodetable_node_json(const nodetable_t *t, const nt_node_t *n, uint64_t now,
	char *out, size_t cap)
{
	wr_t w = { out, cap, 0, true };
	const nt_mesh_t *m = nodetable_mesh_of(t, n);
	const char *why;
	nt_state_t s = nodetable_state(t, n, now, &why);

	w_raw(&w, "{\"sn\":");
	w_str(&w, n->sn);
	w_raw(&w, ",\"state\":\"");
	w_raw(&w, nodetable_state_name(s));
	w_raw(&w, "\",\"why\":\"");
	w_raw(&w, why);
	w_raw(&w, "\",\"status\":");
	w_raw(&w, n->status == NT_UP ? "\"online\"" : n->status == NT_DOWN ? "\"offline\"" : "null");
	w_raw(&w, ",\"type\":");
	if (n->type[0] != '\0')
		w_str(&w, n->type);
	else
		w_raw(&w, "null");
	w_raw(&w, ",\"uptime\":");
	if (n->uptime[0] != '\0')
		w_str(&w, n->uptime);
	else
		w_raw(&w, "null");
	w_raw(&w, ",\"mesh\":");
	if (m != NULL) {
		w_str(&w, m->sn);
		w_raw(&w, ",\"bridge\":");
		w_raw(&w, m->bridge == NT_UP ? "\"up\"" : "\"down\"");
	} else {
		w_raw(&w, "null,\"bridge\":null");
	}
	w_raw(&w, ",\"seen_ms\":");
	w_age(&w, n->last_seen, now);
	w_raw(&w, ",\"data_ms\":");
	w_age(&w, n->last_data, now);
	w_raw(&w, ",\"interval_ms\":");
	w_num(&w, nodetable_interval(n));
	w_raw(&w, ",\"ifaces\":[");
	for (size_t i = 0; i < n->nif; i++) {
		const nt_iface_t *f = &n->ifs[i];
		w_raw(&w, i > 0 ? ",{\"name\":" : "{\"name\":");
		w_str(&w, f->name);
		w_raw(&w, f->up == NT_UP ? ",\"status\":\"Up\"" : f->up == NT_DOWN ?
			",\"status\":\"Down\"" : ",\"status\":null");
		w_raw(&w, ",\"age_ms\":");
		w_age(&w, f->at, now);
		w_raw(&w, "}");
	}
	w_raw(&w, "]}");
	return w.ok ? w.len : 0;
}
