/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The deterministic simulator (DESIGN §5): the real protocol core of several
 * gateways over a simulated clock and network with faults, producers that
 * keep every record until it is applied, consumers that check every byte,
 * and a history checker. The network is the daemon's own WAN emulator
 * (drivers/wanem.h), one per directed link (sim_net.c): one fault model for
 * the simulator and the daemon. One seed reproduces a run exactly: all
 * randomness comes from one splitmix64 stream per run (each link's emulator
 * is seeded from it), and events at the same instant run in the order they
 * were scheduled.
 *
 * A run has two phases:
 *   1. fault phase (duration_s): producers publish; the links delay,
 *      jitter, lose (random and Gilbert–Elliott bursts), duplicate, reorder
 *      and corrupt packets; links partition and heal; processes crash
 *      (losing all state; a consumer falls back to what it had applied) and
 *      restart.
 *   2. healed phase: no new records, no faults but delay and jitter (and the
 *      bottleneck, which is not a fault); everything published must be
 *      applied within heal_bound_s, or it is a violation.
 *
 * Fault accounting (res.faults): the classes the links inject are the
 * emulators' counters over the fault phase, summed over links (jitter =
 * jittered, loss = drop_loss, burst_loss = drop_burst, duplication =
 * duplicated, reordering = reordered, corruption = corrupted); partition,
 * crash and consumer_stall count what the schedule did.
 *
 * Topologies. Without relay, every node is a gateway with producers and
 * consumers of its own (the bench arrangement), each pair of gateways joined
 * by `lanes` lanes. With relay (DESIGN §4.9), the gateways only relay
 * (proto/relay.h): each has a producer client and a consumer client, and
 * each stream goes
 *
 *     producer client ─LAN─▶ its gateway ═WAN═▶ the consumer's gateway ─LAN─▶ consumer client
 *
 * every node its own core, crashing and restarting alone, any hop
 * partitioned. LAN hops carry 1472-byte packets and WAN hops 8972, so
 * records are cut differently on each hop and the relays reassemble.
 */
#ifndef RG_SIM_H
#define RG_SIM_H

#include <stdint.h>
#include <stdio.h>

#include "relay.h"

#define SIM_GW_MAX      8  /* gateways (--gateways) */
#define SIM_NODES_MAX   16 /* processes: gateways and clients */
#define SIM_STREAMS_MAX 1024
#define SIM_LANES_MAX   16
#define SIM_NS_MAX      8
#define SIM_REKEY_NS    (1000 * RG_NS_PER_MS) /* --seal: a session's life before its rekey */

/* What a node is (sim.h, Topologies). */
enum sim_node_kind {
	SIM_NODE_GATEWAY,  /* a gateway with its own producers and consumers */
	SIM_NODE_RELAY,    /* a gateway that relays for its clients */
	SIM_NODE_PRODUCER, /* a producer client of gateway `home` */
	SIM_NODE_CONSUMER, /* a consumer client of gateway `home` */
	SIM_NODE_KINDS
};

/* X-macro: fault classes; each reports how many it injected. */
#define SIM_FAULTS(X)  \
	X(jitter)      \
	X(loss)        \
	X(burst_loss)  \
	X(duplication) \
	X(reordering)  \
	X(corruption)  \
	X(partition)   \
	X(crash)       \
	X(consumer_stall)

enum sim_fault {
#define SIM_X(name) SIM_FAULT_##name,
	SIM_FAULTS(SIM_X)
#undef SIM_X
	SIM_FAULT_MAX
};

/* X-macro: what the history checker counts as wrong; all must be 0. */
#define SIM_ANOMALIES(X)    \
	X(lost)             \
	X(duplicated)       \
	X(reordered)        \
	X(gaps)             \
	X(corrupt_accepted) \
	X(violations)

enum sim_anomaly {
#define SIM_X(name) SIM_ANOM_##name,
	SIM_ANOMALIES(SIM_X)
#undef SIM_X
	SIM_ANOM_MAX
};

/*
 * A namespace of a latency scenario (sim_flow_latency.c): its streams all go
 * from gateway 0 to gateway 1 on lane 0. Its records carry the simulated ns
 * at which they were scheduled to be made, so the consumer measures each
 * record's latency from its schedule, waits behind backpressure included.
 */
struct sim_ns {
	const char *name;
	int streams;
	double records_per_s;  /* per stream, paced (±50 % per produce tick); unused if greedy */
	int greedy;            /* publishes as fast as backpressure allows */
	int cls;               /* enum rg_class of its send streams */
	uint32_t record_bytes; /* >= 32: the record's stamp (record.h) carries the schedule */
	int flood;             /* left out of the "alone" run */
	/* criteria, 0 / -1 = not checked */
	double p99_ratio_max; /* p99 with the floods <= this × p99 alone */
	int p99_below;        /* index of a namespace whose p99 (same run) must exceed this one's */
};

/* A scenario: topology, traffic and fault rates. Scenarios fill it; flags override it. */
struct sim_config {
	const char *name;
	uint64_t seed;
	double duration_s;   /* fault phase */
	double heal_bound_s; /* healed phase must deliver everything within this */
	int gateways;
	int relay;            /* the relay topology (above): 3 × gateways nodes */
	int seal;             /* every core seals with the real AEAD (control/keys.c) */
	int lanes;            /* lanes between each pair of gateways */
	int streams_per_pair; /* streams from each gateway to each other one */
	double records_per_s; /* per stream, during the fault phase */
	uint32_t large_every; /* one record in this many is 64 KiB .. 1 MiB (0: never) */
	/* network: each link's rg_wanem_config in the fault phase (sim_net.c: link_config) */
	double delay_ms;
	double lan_delay_ms; /* relay: one-way delay of a client's hop (delay_ms: the WAN's) */
	double jitter_ms;
	double loss;        /* random loss probability per packet */
	double burst_enter; /* Gilbert–Elliott: P(good → bad) per packet */
	double burst_exit;  /* P(bad → good) per packet */
	double burst_loss;  /* loss probability in the bad state */
	double dup;         /* duplication probability (the copy gets its own jitter) */
	double reorder;     /* probability of an extra delay of up to reorder_ms */
	double reorder_ms;
	double corrupt;          /* probability of 1-3 flipped bits, anywhere in the payload */
	double partitions_per_s; /* mean rate of link partitions (each 0.2 .. 3 s) */
	double crashes_per_s;    /* mean rate of gateway crashes (down 0.05 .. 1 s) */
	double stall;            /* probability a consumer refuses a delivery (-EAGAIN) */
	double pace_mbit_s;      /* per-lane pacing rate; 0 = unpaced (adaptive: a cap; 0 = none) */
	int pacing;              /* enum rg_pacing: fixed or adaptive */
	/*
	 * An optional bottleneck on every link (the emulator's rate and byte
	 * queue): packets are serialized at bottleneck_mbit_s (UDP payload bytes,
	 * as the pacer counts them) behind a drop-tail buffer of queue_bytes
	 * waiting for the wire; a packet that does not fit is dropped. In the
	 * emulator's fault order random and burst loss come first, so a lost
	 * packet takes no link time.
	 */
	double bottleneck_mbit_s; /* 0 = no bottleneck */
	uint64_t queue_bytes;     /* used only with a bottleneck */
	/* traffic shape for goodput scenarios */
	int one_way;             /* only gateway 0 sends; streams go round robin over lanes */
	int greedy;              /* producers keep their stream queues full (always backlogged) */
	uint32_t record_bytes;   /* every record this size; 0 = the mixed sizes */
	uint32_t window_records; /* per-stream credit; 0 = 64 */
	/* goodput criteria, over [measure_from_s, duration_s); 0 = not checked */
	double measure_from_s;
	double goal_goodput;   /* total goodput >= this × the reference rate */
	double goal_share;     /* slowest lane >= this × the fastest */
	double goal_queue_bdp; /* max bottleneck queue while measuring <= this × BDP */
	/* latency scenarios: namespaces instead of streams_per_pair; one_way, 2 gateways, 1 lane */
	struct sim_ns ns[SIM_NS_MAX];
	int nns;
	int alone;                 /* this run leaves the flood namespaces out */
	uint32_t deliver_cap;      /* rg_core_set_rx_deliver_cap at the receiver; 0 = none */
	double goal_flood_goodput; /* the floods together >= this × the link (noisy run) */
	/* output */
	int progress; /* print a progress line each simulated second */
	int verbose;
};

struct sim_result {
	uint64_t events;
	double sim_seconds;
	double heal_seconds;
	uint64_t published; /* distinct records the producers made */
	uint64_t delivered; /* complete records handed to consumers, all incarnations */
	uint64_t checked;   /* of those, verified in order with every byte right */
	uint64_t bytes_checked;
	uint64_t anomalies[SIM_ANOM_MAX];
	uint64_t faults[SIM_FAULT_MAX];
	uint64_t packets;
	uint64_t retransmits;
	uint64_t handshakes;              /* sealed: Noise handshakes finished, all incarnations */
	uint64_t crashed[SIM_NODE_KINDS]; /* crashes by enum sim_node_kind */
	uint64_t relay_ctr[RG_RLY_CTR_MAX]; /* the relays' counters, summed over incarnations */
	char violation[256];                /* the first violation, for the report */
	/* goodput scenarios: payload bytes checked per lane of gateway 0 while measuring */
	uint64_t lane_bytes[SIM_LANES_MAX];
	double measure_s;
	/* the bottleneck, from the emulators (bytes waiting for the wire: rg_wanem_queue_bytes) */
	uint64_t link_bytes;      /* bytes gateway 0's links took onto the wire while measuring */
	uint64_t queue_max_bytes; /* deepest bottleneck queue of any link, whole run */
	uint64_t queue_max_measured; /* ... while measuring */
	uint64_t queue_drops;        /* tail drops (drop_queue_bytes), whole run */
	struct rg_lane_info
	    lanes[SIM_LANES_MAX]; /* gateway 0's lanes at the end of the fault phase */
	int nlanes;
	/*
	 * Latency scenarios, per namespace: records scheduled in [measure_from_s,
	 * duration_s) and checked, their latency (delivery − schedule) and the
	 * part of it spent waiting for publish to accept them (producer side), in
	 * ns, unsorted; sim_result_free() frees them. ns_bytes: payload bytes
	 * checked while measuring.
	 */
	uint64_t *ns_lat[SIM_NS_MAX];
	uint64_t *ns_wait[SIM_NS_MAX];
	size_t ns_n[SIM_NS_MAX];
	uint64_t ns_bytes[SIM_NS_MAX];
};

/* Scenarios (tests/sim/sim_<area>_<scenario>.c). */
void sim_replication_faults(struct sim_config *cfg);
void sim_replication_clean(struct sim_config *cfg);
void sim_replication_relay(struct sim_config *cfg);
void sim_pacing_fixed(struct sim_config *cfg);
void sim_pacing_adaptive(struct sim_config *cfg);
void sim_pacing_adaptive_lossy(struct sim_config *cfg);
void sim_pacing_share(struct sim_config *cfg);
void sim_flow_fairness(struct sim_config *cfg);
void sim_flow_priority(struct sim_config *cfg);

/*
 * A latency scenario's seed: the same seed alone (floods left out) and noisy,
 * the figures printed unless quiet, both results added through add_cb.
 * Returns 0 when both runs pass sim_verdict and every criterion holds; why
 * not, in msg.
 */
int sim_flow_pair(const struct sim_config *cfg, int quiet,
		  void (*add_cb)(void *ctx, const struct sim_result *r), void *ctx, char *msg,
		  size_t msglen);

/* The reference rate of a goodput scenario (bytes/s): the bottleneck's, else the pacing rate. */
double sim_ref_rate(const struct sim_config *cfg);
/* Goodput of lane l over the measured window (payload bytes/s). */
double sim_lane_goodput(const struct sim_result *res, int l);

/*
 * Whether the simulator can run cfg (gateways, lanes, streams and the
 * scenario's topology within the limits above). 0, or -EINVAL with why in
 * msg, naming the command-line options at fault. sim_run asserts it.
 */
int sim_config_check(const struct sim_config *cfg, char *msg, size_t msglen);

/* Runs one seed. Returns 0 when every anomaly is 0, every enabled fault fired and records were checked. */
int sim_run(const struct sim_config *cfg, struct sim_result *res);

/* Frees what a run allocated in res (latency samples). */
void sim_result_free(struct sim_result *res);

/* Whether a run's result passes (see sim_run); why not, in msg. */
int sim_verdict(const struct sim_config *cfg, const struct sim_result *res, char *msg,
		size_t msglen);

const char *sim_fault_name(enum sim_fault f);
const char *sim_anomaly_name(enum sim_anomaly a);

#endif /* RG_SIM_H */
