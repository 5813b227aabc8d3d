/*
 * nodetable.h -- what the cloud side knows about every node, built from the
 * messages it sees (DESIGN.md, "Wire contract").  Pure: no I/O, no
 * allocation, time passed in (monotonic ms); the caller provides the
 * storage, so the table is bounded.
 *
 * Topics understood:
 *   status/<sn>                      "online" / "offline" (retained); an
 *                                    empty payload forgets the status
 *   status/men/<men sn>              the MEN bridge's mosquitto notification:
 *                                    "1" connected, "0" disconnected
 *   data/<sn>/interface/<ifname>     {"interface_status":"Up"|"Down"}
 *   rsp/<sn>, rsp/all/<sn>           reply objects; nodetype and uptime
 *                                    replies are remembered
 *   req/...                          counted only
 *
 * A node's state (nodetable_state):
 *   offline  its status is "offline", or the bridge of its mesh is down;
 *   stale    its latest telemetry (or, without telemetry, its latest live
 *            message) is older than three telemetry intervals; the interval
 *            is learnt per node from the spacing of data/ messages on one
 *            interface (NT_DEFAULT_INTERVAL_MS until then);
 *   online   otherwise.
 * Mesh membership is not on the wire, so it is inferred: a MEN's own node
 * belongs to its mesh; with a single MEN known every node does; when a
 * bridge goes down, the nodes of unknown mesh that were not offline are
 * assumed to be behind it, and a live (non-retained) message from a node
 * whose bridge is down proves it is not, so the guess is undone.
 *
 * Lookups hash the serial (FNV-1a, open addressing over a power-of-two
 * slot array of at least twice the capacity): O(1) per message.  Nodes are
 * never removed; once the table is full, messages about new serials are
 * counted in `dropped`.
 */
#ifndef DMQTT_NODETABLE_H
#define DMQTT_NODETABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NT_SERIAL_MAX 32        /* [A-Za-z0-9._-], 1..32 bytes */
#define NT_IFACES 8             /* interfaces kept per node */
#define NT_IFNAME_MAX 15
#define NT_MESHES 64            /* MENs kept */
#define NT_TYPE_MAX 7
#define NT_UPTIME_MAX 63
#define NT_DEFAULT_INTERVAL_MS 10000u
#define NT_NODE_JSON_MAX 1536   /* nodetable_node_json never needs more */

typedef enum { NT_REQ, NT_RSP, NT_DATA, NT_STATUS, NT_OTHER, NT_CLASSES } nt_class_t;
typedef enum { NT_ONLINE, NT_STALE, NT_OFFLINE } nt_state_t;
enum { NT_UNKNOWN = 0, NT_UP = 1, NT_DOWN = 2 };   /* status, bridge, interface */

typedef struct {
	char name[NT_IFNAME_MAX + 1];
	uint8_t up;          /* NT_UP, NT_DOWN, NT_UNKNOWN (another value) */
	uint64_t at;         /* when it was reported (0: never) */
} nt_iface_t;

typedef struct {
	char sn[NT_SERIAL_MAX + 1];
	char type[NT_TYPE_MAX + 1];       /* from a nodetype reply, "" unknown */
	char uptime[NT_UPTIME_MAX + 1];   /* from an uptime reply, "" unknown */
	uint8_t status;                   /* NT_UP online, NT_DOWN offline */
	uint8_t nif;
	uint8_t mesh;                     /* index + 1 into meshes, 0 unknown */
	uint64_t first_seen, last_seen;   /* any message (retained included) */
	uint64_t last_live;               /* last non-retained message */
	uint64_t last_data;               /* last telemetry */
	uint32_t interval_ms;             /* learnt telemetry interval, 0 unknown */
	uint32_t msgs;
	nt_iface_t ifs[NT_IFACES];
} nt_node_t;

typedef struct {
	char sn[NT_SERIAL_MAX + 1];
	uint8_t bridge;                   /* NT_UP, NT_DOWN */
	uint64_t since;
} nt_mesh_t;

typedef struct {
	nt_node_t *nodes;                 /* nodes[0..n) in order of arrival */
	size_t cap, n;
	uint32_t *slots;                  /* 0 empty, else node index + 1 */
	size_t nslots;
	nt_mesh_t meshes[NT_MESHES];
	size_t nmesh;
	uint64_t msgs[NT_CLASSES];        /* messages per topic class */
	uint64_t dropped;                 /* new serials refused: table full */
	uint64_t ignored;                 /* malformed topic or payload */
} nodetable_t;

/* Slots to allocate for cap nodes (a power of two >= 2 * cap). */
size_t nodetable_slots_for(size_t cap);

/* Initialise over caller storage: nodes[cap], slots[nslots] (nslots from
 * nodetable_slots_for(cap)).  -1 when nslots is not a power of two or is
 * smaller than 2 * cap, else 0. */
int nodetable_init(nodetable_t *t, nt_node_t *nodes, size_t cap, uint32_t *slots,
	size_t nslots);

/* Account for one message; returns its class.  retained: the broker's
 * stored copy rather than a live message. */
nt_class_t nodetable_update(nodetable_t *t, const char *topic, size_t topic_len,
	const uint8_t *payload, size_t len, bool retained, uint64_t now);

/* The node with serial sn[0..len), or NULL. */
const nt_node_t *nodetable_find(const nodetable_t *t, const char *sn, size_t len);

/* The node's mesh (explicit or the single known one), or NULL. */
const nt_mesh_t *nodetable_mesh_of(const nodetable_t *t, const nt_node_t *n);

/* State at time now; *why (may be NULL) gets "", "status", "bridge" or
 * "telemetry". */
nt_state_t nodetable_state(const nodetable_t *t, const nt_node_t *n, uint64_t now,
	const char **why);
const char *nodetable_state_name(nt_state_t s);
const char *nodetable_class_name(nt_class_t c);

/* Telemetry interval in use for n (learnt or the default). */
uint32_t nodetable_interval(const nt_node_t *n);

/*
 * The node as one JSON object (ages in ms before now, null when unknown):
 *   {"sn":..,"state":"online","why":"","status":"online"|"offline"|null,
 *    "type":"MN"|null,"uptime":..|null,"mesh":sn|null,"bridge":"up"|"down"|null,
 *    "seen_ms":N,"data_ms":N|null,"interval_ms":N,
 *    "ifaces":[{"name":"eth0","status":"Up","age_ms":N},...]}
 * Returns the length, or 0 when cap (>= NT_NODE_JSON_MAX suffices) is short.
 */
size_t nodetable_node_json(const nodetable_t *t, const nt_node_t *n, uint64_t now,
	char *out, size_t cap);

/* Counts of nodes per state at time now (out[NT_ONLINE] ...). */
void nodetable_count(const nodetable_t *t, uint64_t now, size_t out[3]);

#endif
