/* SPDX-License-Identifier: Apache-2.0 */
/* The simulator's internals, shared by sim_net.c and sim_world.c. */
#ifndef RG_SIM_IMPL_H
#define RG_SIM_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "history.h"
#include "keys.h"
#include "record.h"
#include "relay.h"
#include "sim.h"

enum sim_ev_type {
	SIM_EV_ARRIVE,    /* a packet reaches gateway gw */
	SIM_EV_WAKE,      /* gateway gw's core deadline (arg: generation) */
	SIM_EV_PRODUCE,   /* producers at gw make and publish records */
	SIM_EV_CONSUME,   /* consumers at gw apply what they have and retry refused deliveries */
	SIM_EV_CRASH,     /* some gateway loses all state */
	SIM_EV_RESTART,   /* gateway gw comes back with a newer incarnation */
	SIM_EV_PARTITION, /* a random pair of gateways is cut off */
	SIM_EV_HEAL_LINK, /* pair (gw, arg) joins again */
	SIM_EV_PHASE_END, /* the fault phase ends */
	SIM_EV_CHECK,     /* progress line, and in the healed phase: is everything applied? */
	SIM_EV_LINK,      /* link (arg & 0xff) → gw has packets due; arg >> 8: its generation */
};

struct sim_pkt {
	uint32_t refs;
	size_t len;
	uint8_t data[];
};

struct sim_ev {
	uint64_t t, n;
	enum sim_ev_type type;
	int gw;
	struct sim_pkt *pkt;
	uint64_t arg;
};

/* A directed link src → dst: a WAN emulator (sim_net.c). */
struct sim_link;

/*
 * One stream: its producer at node src and its consumer at node dst. The
 * producer sends to node up, the consumer is served by node down: without
 * relay up = dst and down = src; with it, the two gateways on the way.
 */
struct sim_stream {
	uint64_t id;
	int src, dst;
	int up, down;
	int by_ns;     /* its consumer subscribes to its namespace, not to it */
	uint16_t lane; /* of the producer's lanes to up */
	/* producer: keeps every record until applied; records are a pure function of (id, seq) */
	uint64_t head;     /* last seq made */
	uint64_t next_pub; /* next seq to hand to the core; 0 = waiting for a replay */
	uint64_t trim;     /* records <= trim were thrown away */
	double owed;       /* fractional records not made yet */
	/* consumer: one incarnation lasts until its gateway crashes */
	struct rg_history_stream h; /* the history checker's view of this incarnation */
	uint8_t c_bad;              /* a fragment of seq h.next had the wrong length or version */
	uint64_t c_applied;         /* durable: survives a crash */
	/* traffic: from the config, or from its namespace (latency scenarios) */
	int ns;                /* index in cfg.ns, -1 when none */
	int greedy;            /* always backlogged */
	double records_per_s;  /* paced producers */
	uint32_t record_bytes; /* 0: cfg.record_bytes' rule */
	uint64_t prng;         /* the paced producer's own randomness (latency scenarios) */
	/* stamped records (latency scenarios): per seq, when it was scheduled and first accepted */
	uint64_t *made_ns, *pub_ns;
	size_t made_cap;
};

struct sim_gw {
	struct sim *sim;
	int idx;
	enum sim_node_kind kind;
	int home; /* a client's gateway node */
	uint64_t inc;
	struct rg_core *core;
	struct rg_relay *relay; /* SIM_NODE_RELAY */
	int alive;
	uint64_t wake_at, wake_gen;
	uint64_t rng; /* the core's injected randomness */
	uint32_t spins;
	/* cfg.seal: the node's identity (from the seed) and its core's keyring (control/keys.h) */
	uint8_t priv[32], pub[32];
	struct rg_keyring *keys;
};

struct sim {
	struct sim_config cfg;
	struct sim_result res;
	uint64_t rng;
	uint64_t now;
	struct sim_ev *heap;
	size_t heap_n, heap_cap;
	uint64_t ev_seq;
	struct sim_link *links; /* [src * nnodes + dst], sim_net.c */
	struct sim_gw gws[SIM_NODES_MAX];
	int nnodes;
	int keys_made; /* cfg.seal: every node's identity is drawn (node_keys) */
	int edges[SIM_NODES_MAX * SIM_NODES_MAX][2]; /* the pairs joined by a hop (a < b) */
	int nedges;
	unsigned crash_turn; /* relay: crashes take the node kinds in turn */
	uint64_t bufs_live;  /* relay reassembly buffers */
	struct sim_stream *streams;
	int nstreams;
	int faults_on, producing, done;
	uint64_t heal_start_ns, heal_deadline_ns;
	uint64_t pkts_live;
	uint8_t txbuf[RG_PKT_BYTES_MAX];
	struct rg_record_ctx rec;  /* the record format (proto/record.h), seeded by the run */
	struct rg_history hist;    /* the history checker's counters, all streams */
	size_t ns_cap[SIM_NS_MAX]; /* room in res.ns_lat / res.ns_wait */
};

void sim_heap_push(struct sim *s, uint64_t t, enum sim_ev_type type, int gw, struct sim_pkt *pkt,
		   uint64_t arg);
int sim_heap_pop(struct sim *s, struct sim_ev *out);
struct sim_pkt *sim_pkt_new(const uint8_t *data, size_t len);
void sim_pkt_put(struct sim *s, struct sim_pkt *p);
uint64_t sim_rand(struct sim *s);
double sim_uniform(struct sim *s);
int sim_chance(struct sim *s, double p);

/*
 * The network (sim_net.c): one WAN emulator (drivers/wanem.h) per directed link, set from the
 * scenario. init draws each link's seed from the run's RNG and must come before any send; send
 * copies the packet onto link src → dst (faults and the bottleneck are decided there); on_link
 * handles a SIM_EV_LINK (due packets become SIM_EV_ARRIVE at gw). set_partition cuts (on = 1) or
 * joins both directions between a and b and returns whether a → b was cut before. heal ends the
 * fault phase: it adds the emulators' fault counters to res.faults, leaves delay, jitter and the
 * bottleneck only, and joins every link. fini adds the bottleneck figures to res, frees the links
 * and the packets they hold, and returns -1 if a link broke its invariants or dropped for its
 * packet limit (a loss no fault class owns), else 0.
 */
void sim_net_init(struct sim *s);
void sim_net_send(struct sim *s, int src, int dst, const uint8_t *data, size_t len);
void sim_net_on_link(struct sim *s, const struct sim_ev *ev);
int sim_net_set_partition(struct sim *s, int a, int b, int on);
void sim_net_heal(struct sim *s);
int sim_net_fini(struct sim *s);

#endif /* RG_SIM_IMPL_H */
