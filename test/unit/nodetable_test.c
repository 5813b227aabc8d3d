/* nodetable_test.c -- src/nodetable.c: the cloud side's node table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/json.h"
#include "src/nodetable.h"
#include "unit.h"

#define SN1 "C25DTADSR00000001134"
#define SN2 "C25DTADSR00000001135"
#define MEN "C25DTADSR00000000777"

struct tt {
	nodetable_t t;
	nt_node_t *nodes;
	uint32_t *slots;
};

static void tt_new(struct tt *x, size_t cap)
{
	size_t ns = nodetable_slots_for(cap);
	x->nodes = malloc(cap * sizeof *x->nodes);
	x->slots = malloc(ns * sizeof *x->slots);
	if (x->nodes == NULL || x->slots == NULL)
		unit_fail(__FILE__, __LINE__, "out of memory");
	CHECK_INT(nodetable_init(&x->t, x->nodes, cap, x->slots, ns), 0);
}

static void tt_free(struct tt *x)
{
	free(x->nodes);
	free(x->slots);
}

static nt_class_t msg(struct tt *x, const char *topic, const char *payload, bool retained,
	uint64_t now)
{
	return nodetable_update(&x->t, topic, strlen(topic), (const uint8_t *)payload,
		strlen(payload), retained, now);
}

static const nt_node_t *find(struct tt *x, const char *sn)
{
	return nodetable_find(&x->t, sn, strlen(sn));
}

static nt_state_t state(struct tt *x, const char *sn, uint64_t now, const char **why)
{
	const nt_node_t *n = find(x, sn);
	if (n == NULL)
		unit_fail(__FILE__, __LINE__, "no node %s", sn);
	return nodetable_state(&x->t, n, now, why);
}

static void nt_init_rules(void)
{
	nodetable_t t;
	nt_node_t nodes[4];
	uint32_t slots[16];
	CHECK_INT(nodetable_slots_for(4), 16);
	CHECK_INT(nodetable_slots_for(20000), 65536);
	CHECK_INT(nodetable_init(&t, nodes, 4, slots, 16), 0);
	CHECK_INT(nodetable_init(&t, nodes, 4, slots, 12), -1);  /* not a power of two */
	CHECK_INT(nodetable_init(&t, nodes, 4, slots, 4), -1);   /* under 2 * cap */
}

static void nt_status(void)
{
	struct tt x;
	const char *why;
	tt_new(&x, 16);
	CHECK_INT(msg(&x, "status/" SN1, "online", true, 1000), NT_STATUS);
	CHECK(find(&x, SN1) != NULL);
	CHECK_INT(find(&x, SN1)->status, NT_UP);
	CHECK_INT(state(&x, SN1, 1000, &why), NT_ONLINE);
	CHECK_STR(why, "");
	msg(&x, "status/" SN1, "offline", false, 2000);
	CHECK_INT(state(&x, SN1, 2000, &why), NT_OFFLINE);
	CHECK_STR(why, "status");
	msg(&x, "status/" SN1, "", true, 3000);      /* retained status cleared */
	CHECK_INT(find(&x, SN1)->status, NT_UNKNOWN);
	msg(&x, "status/" SN1, "maybe", false, 3000);
	CHECK_INT(x.t.ignored, 1);
	CHECK_INT(x.t.msgs[NT_STATUS], 4);
	tt_free(&x);
}

static void nt_telemetry_and_stale(void)
{
	struct tt x;
	const nt_node_t *n;
	const char *why;
	tt_new(&x, 16);
	msg(&x, "status/" SN1, "online", true, 1000);
	CHECK_INT(msg(&x, "data/" SN1 "/interface/eth0", "{\"interface_status\":\"Up\"}", false, 1000),
		NT_DATA);
	msg(&x, "data/" SN1 "/interface/wlan0", "{\"interface_status\":\"Down\"}", false, 1000);
	n = find(&x, SN1);
	CHECK_INT(n->nif, 2);
	CHECK_STR(n->ifs[0].name, "eth0");
	CHECK_INT(n->ifs[0].up, NT_UP);
	CHECK_INT(n->ifs[1].up, NT_DOWN);
	CHECK_INT(nodetable_interval(n), NT_DEFAULT_INTERVAL_MS);
	/* the interval is learnt from the spacing on one interface */
	msg(&x, "data/" SN1 "/interface/eth0", "{\"interface_status\":\"Up\"}", false, 3000);
	CHECK_INT(n->interval_ms, 2000);
	msg(&x, "data/" SN1 "/interface/eth0", "{\"interface_status\":\"Down\"}", false, 5000);
	CHECK_INT(n->interval_ms, 2000);
	CHECK_INT(n->ifs[0].up, NT_DOWN);
	/* stale after three intervals without telemetry */
	CHECK_INT(state(&x, SN1, 5000 + 6000, &why), NT_ONLINE);
	CHECK_INT(state(&x, SN1, 5000 + 6001, &why), NT_STALE);
	CHECK_STR(why, "telemetry");
	/* a longer gap raises the interval slowly, a shorter one lowers it fast */
	msg(&x, "data/" SN1 "/interface/eth0", "{\"interface_status\":\"Up\"}", false, 15000);
	CHECK_INT(n->interval_ms, (7 * 2000 + 10000) / 8);
	msg(&x, "data/" SN1 "/interface/eth0", "{\"interface_status\":\"Up\"}", false, 16000);
	CHECK_INT(n->interval_ms, (3000 + 1000) / 2);
	/* unknown states and bad payloads */
	msg(&x, "data/" SN1 "/interface/eth1", "{\"interface_status\":\"Dormant\"}", false, 16000);
	CHECK_INT(n->ifs[2].up, NT_UNKNOWN);
	msg(&x, "data/" SN1 "/interface/eth2", "not json", false, 16000);
	msg(&x, "data/" SN1 "/interface/eth2", "{\"status\":\"Up\"}", false, 16000);
	CHECK_INT(n->nif, 3);
	CHECK_INT(x.t.ignored, 2);
	/* other data/ topics count, but are not interfaces */
	msg(&x, "data/" SN1 "/cpu", "42", false, 16000);
	msg(&x, "data/" SN1 "/interface/eth0/extra", "{\"interface_status\":\"Up\"}", false, 16000);
	CHECK_INT(n->nif, 3);
	CHECK_INT(x.t.msgs[NT_DATA], 11);
	tt_free(&x);
}

static void nt_interfaces_bounded(void)
{
	struct tt x;
	char topic[64];
	tt_new(&x, 4);
	for (int i = 0; i < NT_IFACES + 3; i++) {
		snprintf(topic, sizeof topic, "data/%s/interface/if%d", SN1, i);
		msg(&x, topic, "{\"interface_status\":\"Up\"}", false, 1000);
	}
	CHECK_INT(find(&x, SN1)->nif, NT_IFACES);
	msg(&x, "data/" SN1 "/interface/abcdefghijklmnop", "{\"interface_status\":\"Up\"}", false, 1);
	CHECK_INT(x.t.ignored, 3 + 1);
	tt_free(&x);
}

static void nt_never_stale_without_data(void)
{
	struct tt x;
	tt_new(&x, 4);
	/* a node known only from its retained status stays online */
	msg(&x, "status/" SN1, "online", true, 1000);
	CHECK_INT(state(&x, SN1, 10000000, NULL), NT_ONLINE);
	/* a node seen only through a live reply, without status, goes stale */
	msg(&x, "rsp/" SN2, "{\"sn\":\"" SN2 "\",\"cmd\":\"ping\",\"data\":\"pong\",\"rc\":0}", false, 1000);
	CHECK_INT(state(&x, SN2, 1000 + 30000, NULL), NT_ONLINE);
	CHECK_INT(state(&x, SN2, 1000 + 30001, NULL), NT_STALE);
	/* retained data is not fresh telemetry */
	msg(&x, "data/" SN1 "/interface/eth0", "{\"interface_status\":\"Up\"}", true, 5000);
	CHECK_INT(find(&x, SN1)->last_data, 0);
	tt_free(&x);
}

static void nt_replies(void)
{
	struct tt x;
	const nt_node_t *n;
	tt_new(&x, 4);
	CHECK_INT(msg(&x, "rsp/all/" SN1, "{\"sn\":\"" SN1 "\",\"cmd\":\"nodetype\",\"data\":\"MN\",\"rc\":0,\"id\":\"a\"}",
		false, 10), NT_RSP);
	n = find(&x, SN1);
	CHECK(n != NULL);
	CHECK_STR(n->type, "MN");
	msg(&x, "rsp/" SN1, "{\"sn\":\"" SN1 "\",\"cmd\":\"uptime\",\"data\":"
		"\"up 3 days, 01:02:03, load average: 0.10, 0.20, 0.30\",\"rc\":0}", false, 20);
	CHECK_STR(n->uptime, "up 3 days, 01:02:03, load average: 0.10, 0.20, 0.30");
	/* failures and odd data leave what we know */
	msg(&x, "rsp/" SN1, "{\"sn\":\"x\",\"cmd\":\"nodetype\",\"data\":\"oops\",\"rc\":1}", false, 30);
	msg(&x, "rsp/" SN1, "{\"cmd\":\"nodetype\",\"data\":\"a\\nb\",\"rc\":0}", false, 30);
	msg(&x, "rsp/" SN1, "{\"cmd\":\"nodetype\",\"data\":\"TOOLONGTYPE\",\"rc\":0}", false, 30);
	CHECK_STR(n->type, "MN");
	msg(&x, "rsp/" SN1, "garbage", false, 40);
	msg(&x, "rsp/" SN1, "{\"cmd\":\"uptime\",\"data\":\"x\"}", false, 40);   /* no rc */
	CHECK_INT(x.t.ignored, 2);
	CHECK_INT(n->msgs, 7);
	CHECK_INT(n->last_live, 40);
	/* more levels are not replies of a node */
	msg(&x, "rsp/" SN1 "/x", "{}", false, 50);
	msg(&x, "rsp/all", "{}", false, 50);
	CHECK_INT(x.t.ignored, 4);
	CHECK(find(&x, "all") == NULL);   /* rsp/all alone names no node */
	tt_free(&x);
}

static void nt_bad_serials(void)
{
	struct tt x;
	tt_new(&x, 4);
	msg(&x, "status/", "online", false, 1);
	msg(&x, "status/ABC+", "online", false, 1);
	msg(&x, "status/ABC\"D", "online", false, 1);
	msg(&x, "status/" "123456789012345678901234567890123", "online", false, 1);  /* 33 */
	msg(&x, "status", "online", false, 1);
	msg(&x, "status/" SN1 "/x", "online", false, 1);
	msg(&x, "data/" SN1, "{}", false, 1);
	CHECK_INT(x.t.n, 0);
	CHECK_INT(x.t.ignored, 7);
	msg(&x, "status/" "12345678901234567890123456789012", "online", false, 1);   /* 32 */
	CHECK_INT(x.t.n, 1);
	CHECK(nodetable_find(&x.t, "a/b", 3) == NULL);
	tt_free(&x);
}

static void nt_classes(void)
{
	struct tt x;
	tt_new(&x, 4);
	CHECK_INT(msg(&x, "req/all", "{\"cmd\":\"uptime\"}", false, 1), NT_REQ);
	CHECK_INT(msg(&x, "req/" SN1, "{}", false, 1), NT_REQ);
	CHECK_INT(msg(&x, "other/thing", "x", false, 1), NT_OTHER);
	CHECK_INT(msg(&x, "", "x", false, 1), NT_OTHER);
	CHECK_INT(msg(&x, "statusx/" SN1, "online", false, 1), NT_OTHER);
	CHECK_INT(x.t.msgs[NT_REQ], 2);
	CHECK_INT(x.t.msgs[NT_OTHER], 3);
	CHECK_INT(x.t.n, 0);       /* requests say nothing about nodes */
	CHECK_STR(nodetable_class_name(NT_STATUS), "status");
	CHECK_STR(nodetable_state_name(NT_STALE), "stale");
	tt_free(&x);
}

static void nt_bridge_single_mesh(void)
{
	struct tt x;
	const char *why;
	const nt_mesh_t *m;
	tt_new(&x, 8);
	msg(&x, "status/" SN1, "online", true, 100);
	msg(&x, "status/" MEN, "online", true, 100);
	CHECK_INT(msg(&x, "status/men/" MEN, "1", true, 100), NT_STATUS);
	CHECK_INT(x.t.nmesh, 1);
	m = nodetable_mesh_of(&x.t, find(&x, SN1));
	CHECK(m != NULL);
	CHECK_STR(m->sn, MEN);
	CHECK_INT(state(&x, SN1, 200, NULL), NT_ONLINE);
	/* the bridge drops: the whole mesh is offline, status notwithstanding */
	msg(&x, "status/men/" MEN, "0", false, 300);
	CHECK_INT(state(&x, SN1, 300, &why), NT_OFFLINE);
	CHECK_STR(why, "bridge");
	CHECK_INT(state(&x, MEN, 300, &why), NT_OFFLINE);
	/* nodes that appear later (retained status) are in the same mesh */
	msg(&x, "status/" SN2, "online", true, 400);
	CHECK_INT(state(&x, SN2, 400, NULL), NT_OFFLINE);
	/* back */
	msg(&x, "status/men/" MEN, "1", false, 500);
	CHECK_INT(state(&x, SN1, 500, NULL), NT_ONLINE);
	CHECK_INT(x.t.meshes[0].since, 500);
	/* bad notifications */
	msg(&x, "status/men/" MEN, "up", false, 600);
	msg(&x, "status/men/" MEN "/x", "1", false, 600);
	msg(&x, "status/men/", "1", false, 600);
	CHECK_INT(x.t.ignored, 3);
	CHECK_INT(x.t.meshes[0].bridge, NT_UP);
	tt_free(&x);
}

static void nt_bridge_two_meshes(void)
{
	struct tt x;
	const char *why;
	tt_new(&x, 8);
	msg(&x, "status/men/MENA", "1", true, 10);
	msg(&x, "status/men/MENB", "1", true, 10);
	msg(&x, "status/MENA", "online", true, 10);   /* MENA's own node */
	msg(&x, "status/A1", "online", true, 10);
	msg(&x, "status/B1", "online", true, 10);
	CHECK(nodetable_mesh_of(&x.t, find(&x, "MENA")) == &x.t.meshes[0]);
	CHECK(nodetable_mesh_of(&x.t, find(&x, "A1")) == NULL);   /* unknown: two meshes */
	/* MENA's bridge drops: nodes of unknown mesh are assumed behind it */
	msg(&x, "status/men/MENA", "0", false, 20);
	CHECK_INT(state(&x, "A1", 20, &why), NT_OFFLINE);
	CHECK_STR(why, "bridge");
	CHECK_INT(state(&x, "B1", 20, NULL), NT_OFFLINE);
	CHECK_INT(state(&x, "MENA", 20, NULL), NT_OFFLINE);
	/* B1 talks while MENA's bridge is down: it is not behind MENA */
	msg(&x, "data/B1/interface/eth0", "{\"interface_status\":\"Up\"}", false, 30);
	CHECK_INT(state(&x, "B1", 30, NULL), NT_ONLINE);
	CHECK(nodetable_mesh_of(&x.t, find(&x, "B1")) == NULL);
	/* a retained message proves nothing */
	msg(&x, "status/A1", "online", true, 40);
	CHECK_INT(state(&x, "A1", 40, NULL), NT_OFFLINE);
	/* MENB drops: B1, proved not behind MENA, is now assumed behind MENB */
	msg(&x, "status/men/MENB", "0", false, 50);
	CHECK_INT(state(&x, "B1", 50, NULL), NT_OFFLINE);
	CHECK(nodetable_mesh_of(&x.t, find(&x, "B1")) == &x.t.meshes[1]);
	CHECK_INT(state(&x, "A1", 50, NULL), NT_OFFLINE);
	CHECK(nodetable_mesh_of(&x.t, find(&x, "A1")) == &x.t.meshes[0]);
	/* MENA comes back: its nodes are online, MENB's are not */
	msg(&x, "status/men/MENA", "1", false, 60);
	CHECK_INT(state(&x, "A1", 60, NULL), NT_ONLINE);
	CHECK_INT(state(&x, "B1", 60, NULL), NT_OFFLINE);
	tt_free(&x);
}

static void nt_men_created_after_node(void)
{
	struct tt x;
	tt_new(&x, 8);
	msg(&x, "status/MENA", "online", true, 10);
	msg(&x, "status/men/MENB", "1", true, 10);
	msg(&x, "status/men/MENA", "1", true, 10);
	CHECK(nodetable_mesh_of(&x.t, find(&x, "MENA")) == &x.t.meshes[1]);
	tt_free(&x);
}

static void nt_full(void)
{
	struct tt x;
	tt_new(&x, 2);
	msg(&x, "status/A", "online", false, 1);
	msg(&x, "status/B", "online", false, 1);
	msg(&x, "status/C", "online", false, 1);
	msg(&x, "status/A", "offline", false, 2);
	CHECK_INT(x.t.n, 2);
	CHECK_INT(x.t.dropped, 1);
	CHECK(find(&x, "C") == NULL);
	CHECK_INT(find(&x, "A")->status, NT_DOWN);
	tt_free(&x);
}

static void nt_many_nodes(void)
{
	struct tt x;
	char topic[64];
	size_t cnt[3];
	tt_new(&x, 20000);
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < 10000; i++) {
			snprintf(topic, sizeof topic, "data/C25DTADSR%010d/interface/eth0", i);
			msg(&x, topic, "{\"interface_status\":\"Up\"}", false, 1000 + (uint64_t)round * 2000);
		}
	CHECK_INT(x.t.n, 10000);
	for (int i = 0; i < 10000; i += 999) {
		const nt_node_t *n;
		snprintf(topic, sizeof topic, "C25DTADSR%010d", i);
		n = find(&x, topic);
		CHECK(n != NULL);
		CHECK_STR(n->sn, topic);
		CHECK_INT(n->interval_ms, 2000);
	}
	nodetable_count(&x.t, 5000, cnt);
	CHECK_INT(cnt[NT_ONLINE], 10000);
	nodetable_count(&x.t, 5000 + 6001, cnt);
	CHECK_INT(cnt[NT_STALE], 10000);
	tt_free(&x);
}

static void nt_json(void)
{
	struct tt x;
	char out[NT_NODE_JSON_MAX];
	json_parser_t p;
	json_tok_t tok[64];
	uint32_t v;
	size_t n;
	tt_new(&x, 4);
	msg(&x, "status/" SN1, "online", true, 1000);
	msg(&x, "data/" SN1 "/interface/eth0", "{\"interface_status\":\"Up\"}", false, 1000);
	msg(&x, "data/" SN1 "/interface/we\"ird\\", "{\"interface_status\":\"Down\"}", false, 1500);
	msg(&x, "rsp/all/" SN1, "{\"cmd\":\"nodetype\",\"data\":\"MEN\",\"rc\":0}", false, 1500);
	n = nodetable_node_json(&x.t, find(&x, SN1), 2000, out, sizeof out);
	CHECK(n > 0);
	CHECK_INT(json_parse(&p, out, n, tok, 64), JSON_OK);
	CHECK_INT(json_find_key(out, tok, 0, "sn", &v), JSON_OK);
	CHECK(json_streq(out, &tok[v], SN1));
	CHECK_INT(json_find_key(out, tok, 0, "state", &v), JSON_OK);
	CHECK(json_streq(out, &tok[v], "online"));
	CHECK_INT(json_find_key(out, tok, 0, "type", &v), JSON_OK);
	CHECK(json_streq(out, &tok[v], "MEN"));
	CHECK_INT(json_find_key(out, tok, 0, "uptime", &v), JSON_OK);
	CHECK_INT(tok[v].type, JSON_NULL);
	CHECK_INT(json_find_key(out, tok, 0, "mesh", &v), JSON_OK);
	CHECK_INT(tok[v].type, JSON_NULL);
	CHECK_INT(json_find_key(out, tok, 0, "seen_ms", &v), JSON_OK);
	CHECK_INT(tok[v].type, JSON_NUMBER);
	CHECK_MEM(out + tok[v].start, tok[v].end - tok[v].start, "500", 3);
	CHECK_INT(json_find_key(out, tok, 0, "ifaces", &v), JSON_OK);
	CHECK_INT(tok[v].size, 2);
	CHECK(strstr(out, "\"name\":\"we\\\"ird\\\\\"") != NULL);
	CHECK(strstr(out, "\"age_ms\":1000") != NULL);
	/* too small a buffer: 0, never a cut object */
	CHECK_INT(nodetable_node_json(&x.t, find(&x, SN1), 2000, out, n - 1), 0);
	CHECK_INT(nodetable_node_json(&x.t, find(&x, SN1), 2000, out, n), n);
	tt_free(&x);
}

/* The biggest node there can be still fits NT_NODE_JSON_MAX. */
static void nt_json_max(void)
{
	struct tt x;
	char topic[96], out[NT_NODE_JSON_MAX], pl[128];
	const char *sn = "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ";
	tt_new(&x, 4);
	snprintf(topic, sizeof topic, "status/men/%s", sn);
	msg(&x, topic, "0", false, 1);
	for (int i = 0; i < NT_IFACES; i++) {
		snprintf(topic, sizeof topic, "data/%s/interface/\"\"\"\"\"\"\"\"\"\"\"\"\"\"%d", sn, i);
		msg(&x, topic, "{\"interface_status\":\"Up\"}", false, 1);
	}
	snprintf(pl, sizeof pl, "{\"cmd\":\"uptime\",\"data\":\"%063d\",\"rc\":0}", 7);
	snprintf(topic, sizeof topic, "rsp/%s", sn);
	msg(&x, topic, pl, false, 1);
	msg(&x, topic, "{\"cmd\":\"nodetype\",\"data\":\"ABCDEFG\",\"rc\":0}", false, 1);
	CHECK_INT(find(&x, sn)->nif, NT_IFACES);
	CHECK(find(&x, sn)->uptime[0] != '\0');
	CHECK(nodetable_node_json(&x.t, find(&x, sn), UINT64_MAX, out, sizeof out) > 0);
	tt_free(&x);
}

UNIT_SUITE(nodetable,
	UNIT_CASE(nt_init_rules), UNIT_CASE(nt_status), UNIT_CASE(nt_telemetry_and_stale),
	UNIT_CASE(nt_interfaces_bounded), UNIT_CASE(nt_never_stale_without_data),
	UNIT_CASE(nt_replies), UNIT_CASE(nt_bad_serials), UNIT_CASE(nt_classes),
	UNIT_CASE(nt_bridge_single_mesh), UNIT_CASE(nt_bridge_two_meshes),
	UNIT_CASE(nt_men_created_after_node), UNIT_CASE(nt_full), UNIT_CASE(nt_many_nodes),
	UNIT_CASE(nt_json), UNIT_CASE(nt_json_max))
