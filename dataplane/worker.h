/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A worker: one pinned polling loop per lcore around one protocol core
 * (DESIGN §4.1, §4.8). Each iteration reads the TSC once and passes it down
 * as ns; rx burst → core → tx burst (through the WAN emulator when it is on);
 * records from the producer's ingress ring are published; in-order fragments
 * go to the consumer's delivery ring; applied watermarks come back on the
 * applied ring. No locks, no allocation and no syscalls in the loop, except
 * the idle policy's sleep when there is nothing to do.
 *
 * Zero copy: a received packet's mbuf is the core's packet handle, so a
 * delivered fragment points into it and the consumer frees it; a published
 * record's mbuf is its handle until the peer acked it; TX builds each packet
 * in a fresh mbuf's data room.
 *
 * Threads and shared fields:
 *   - the worker writes everything in struct rg_worker except `stop` and
 *     reads its rings as their single consumer (ingress, applied, dispatch)
 *     or single producer (delivery);
 *   - `stop` is written by the main thread (release, W1) and read each
 *     iteration (acquire, pairs with W1);
 *   - `port_hold` is written by the main thread (release, P1) and read each
 *     iteration (acquire, pairs with P1); the worker answers in `port_held`
 *     (release, P2) after its last burst on the port, and the main thread
 *     reads it (acquire, pairs with P2) before it stops the port;
 *   - `pub` is a snapshot of the stats under a sequence lock: the worker
 *     bumps pub_seq to odd (release), copies, bumps to even (release, S1);
 *     rg_worker_stats() reads pub_seq (acquire, pairs with S1), copies, and
 *     retries if it changed.
 */
#ifndef RG_DATAPLANE_WORKER_H
#define RG_DATAPLANE_WORKER_H

#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "arp.h"
#include "core.h"
#include "frame.h"
#include "port.h"
#include "relay.h"
#include "stab.h"
#include "wanem.h"

#define RG_WORKER_BURST_MAX 512
#define RG_WORKER_PEERS_MAX 64
#define RG_WORKER_LANES_MAX 64
#define RG_WORKER_PORTS_MAX 2 /* the WAN port, and the LAN port for clients when there is one */

enum rg_idle {
	RG_IDLE_SPIN,  /* poll without pause: lowest latency, burns the core */
	RG_IDLE_PAUSE, /* rte_pause() between empty polls */
	RG_IDLE_SLEEP, /* after idle_polls empty polls, sleep up to sleep_us (or the next deadline) */
};

/*
 * A client's address as its packets show it, shared by the workers of a
 * gateway (a client's lanes spread over them): any worker that receives a
 * packet from the client's IP writes it, relaxed atomics each field, a
 * newer incarnation or the same one wins; every worker reads it to send.
 */
struct rg_worker_learned {
	uint64_t inc;
	uint16_t port; /* 0: not heard from yet */
	uint16_t reserved[3];
};

struct rg_worker_peer {
	uint16_t gw;
	uint16_t lanes;
	uint8_t client; /* a producer or consumer client (passive: learned port, no emulator) */
	uint8_t port;   /* index in rg_worker_config.ports it is reached on */
	uint8_t pinned; /* ep.mac is from the profile: no ARP for it */
	uint32_t
	    pkt_bytes; /* largest packet to it: its port's MTU less IPv4 and UDP (0: the core's) */
	uint8_t pubkey[32];                /* its identity, when the worker seals (cfg.sealed) */
	struct rg_endpoint ep;             /* a client's ep.port is its learned one (learned) */
	struct rg_worker_learned *learned; /* clients: shared by the workers (app-owned) */
};

/* One port of the worker: its queue pair (index = worker index), our address, its ARP table. */
struct rg_worker_port {
	struct rg_port *port;
	struct rg_endpoint local;
	struct rg_arp *arp;          /* shared by every worker of the port (arp.h: lock-free) */
	struct rte_mempool *rx_pool; /* what the port receives into (rx_room) */
};

/* A record published through the ingress ring: the mbuf's data starts with this header. */
struct rg_ingress_hdr {
	uint64_t stream;
	uint64_t seq;
	uint32_t version;
	uint32_t len; /* payload bytes after the header */
};

/* One in-order fragment for the consumer (a delivery ring element). */
struct rg_delivery {
	uint64_t stream;
	uint64_t seq;
	const uint8_t *data;
	struct rte_mbuf *mbuf; /* the consumer frees it when done with data */
	uint32_t off, len, record_len, version;
	uint16_t peer_gw;
	uint16_t reserved[3];
};
static_assert(sizeof(struct rg_delivery) == 56, "a delivery ring element is 56 bytes");

/* An applied watermark going back to the worker (an applied ring element). */
struct rg_applied_msg {
	uint64_t stream;
	uint64_t applied;
};

/* What the worker tells the producer; called on the worker's thread, must not block. */
struct rg_worker_hooks {
	int (*rx_open)(void *ctx, uint16_t peer_gw, uint64_t stream, uint64_t *applied);
	void (*replay)(void *ctx, uint16_t peer_gw, uint64_t stream, uint64_t from_seq);
	void (*acked)(void *ctx, uint16_t peer_gw, uint64_t stream, uint64_t acked);
	void (*applied)(void *ctx, uint16_t peer_gw, uint64_t stream, uint64_t applied);
	void *ctx;
};

/*
 * A command from the control thread (DESIGN §4.8: commands down, stats up).
 * The issuer owns the struct: it posts a pointer with rg_worker_command(),
 * the worker runs it between two iterations (within about a millisecond),
 * writes result and then done (release, C1); the issuer polls
 * rg_worker_cmd_done() (acquire, pairs with C1) with a bound, and only then
 * reads result or frees the struct.
 */
enum rg_worker_cmd_type {
	RG_WCMD_FAILOVER = 1, /* move the streams of gw to to_gw: rg_core_peer_failover() */
	RG_WCMD_WAN,          /* the emulator's settings become wan (it must be on) */
};

struct rg_worker_cmd {
	enum rg_worker_cmd_type type;
	uint16_t gw, to_gw;
	struct rg_wanem_config wan;
	int result; /* FAILOVER: streams moved or -errno; WAN: 0 or -errno */
	int done;
};

struct rg_worker_config {
	uint16_t index, workers;
	uint64_t
	    tsc0; /* the TSC at the clock's zero, shared by every worker and the control thread */
	struct rg_worker_port ports[RG_WORKER_PORTS_MAX];
	uint16_t nports;
	struct rte_mempool *pool; /* packets the worker builds */
	struct rg_core_config core;
	struct rg_relay_config relay;
	uint16_t relay_peer;    /* where producer clients' streams go */
	uint64_t asm_bytes_max; /* the relay's reassembly buffers, this worker */
	struct rg_worker_peer peers[RG_WORKER_PEERS_MAX];
	uint16_t npeers;
	uint16_t udp_src_base; /* a lane's frames leave from udp_src_base + lane */
	uint16_t burst;
	enum rg_idle idle;
	uint32_t idle_polls;
	uint32_t sleep_us;
	/*
	 * The real-time signal DPDK's net_tap takes as "packets wait" (0: no tap
	 * port). Its rx burst reads the tap only after a new one came; a burst cut
	 * short by an empty mempool marks it seen with packets left, and a tap
	 * queue that then stays full raises no more: the port never reads again.
	 * Worker 0 raises it every 10 ms (tap_kick) so that cannot last.
	 */
	int tap_kick_sig;
	int sealed;      /* security.mode = "aead": every packet sealed (control/keys.h) */
	uint8_t key[32]; /* this gateway's private key, when sealed */
	int wan_on;
	struct rg_wanem_config wan;
	struct rte_ring *ingress;   /* producer → worker: record mbufs (may be NULL) */
	struct rte_ring *delivery;  /* worker → consumer: struct rg_delivery (may be NULL) */
	struct rte_ring *applied;   /* consumer → worker: struct rg_applied_msg (may be NULL) */
	struct rte_ring **dispatch; /* per worker: packets that arrived on another worker's queue */
	struct rte_ring *cmd; /* control thread → worker: struct rg_worker_cmd * (may be NULL) */
	struct rg_worker_hooks hooks;
};

/* X-macro: the worker's own counters (the core and the emulator keep theirs). */
#define RG_WORKER_COUNTERS(X) \
	X(loops)              \
	X(busy_loops)         \
	X(idle_sleeps)        \
	X(rx_frames)          \
	X(rx_chained)         \
	X(rx_dispatched)      \
	X(rx_peer_mismatch)   \
	X(rx_arp)             \
	X(tx_frames)          \
	X(tx_full)            \
	X(tx_no_mbuf)         \
	X(tx_unresolved)      \
	X(tx_arp)             \
	X(ingress_records)    \
	X(ingress_stale)      \
	X(ingress_syncing)    \
	X(ingress_blocked)    \
	X(delivered)          \
	X(delivery_full)      \
	X(applied_msgs)       \
	X(dispatch_full)      \
	X(commands)

enum rg_worker_counter {
#define RG_X(name) RG_WCTR_##name,
	RG_WORKER_COUNTERS(RG_X)
#undef RG_X
	RG_WCTR_MAX
};

struct rg_worker_stats {
	uint64_t ctr[RG_WCTR_MAX];
	uint64_t frame_drop[RG_FRAME_DROP_MAX];
	uint64_t busy_cycles, idle_cycles;
	struct rg_core_stats core;
	struct rg_relay_stats relay;
	uint64_t relay_queued; /* records held in relayed send queues (refreshed every 100 ms) */
	uint64_t asm_bytes;    /* reassembly buffers held */
	struct rg_wanem_stats wan;
	struct rg_lane_info lanes[RG_WORKER_LANES_MAX];
	uint16_t nlanes;
	uint64_t now_ns;
};

struct rg_worker {
	struct rg_worker_config cfg;
	struct rg_core *core;
	struct rg_relay *relay;
	struct rg_keyring *keys; /* sealed: the core's AEAD (NULL in plaintext) */
	struct rg_wanem wan;
	uint64_t rng_state; /* this worker's randomness (lane packet-number starts) */
	uint64_t asm_bytes; /* reassembly buffers held (relay ops) */
	uint64_t arp_next_ns, relay_usage_next_ns;
	uint64_t tsc0, ns_mult; /* ns = (tsc - tsc0) * ns_mult >> 32 */
	uint64_t deadline_ns;
	uint64_t pub_next_ns;
	uint32_t idle;
	int stop;
	int port_hold; /* main: "keep off the port" (release, P1) */
	int port_held; /* worker: "I am off it" (release, P2) */
	/* records taken from the ingress ring that the core refused for now (-EAGAIN) */
	struct rte_mbuf *pend[RG_WORKER_BURST_MAX];
	uint16_t npend, pend_head;
	/* deliveries staged during one rx burst, flushed to the delivery ring after it */
	struct rg_delivery stage[RG_WORKER_BURST_MAX * 4];
	uint32_t nstage, stage_room;
	/* packets built and not yet given to a port or the emulator, and where each goes */
	struct rte_mbuf *txb[RG_WORKER_BURST_MAX];
	uint8_t txport[RG_WORKER_BURST_MAX];
	uint8_t txwan[RG_WORKER_BURST_MAX]; /* through the emulator */
	uint16_t ntx;
	/* per port: packets (past the emulator) that its TX queue has not taken yet */
	struct rte_mbuf *out[RG_WORKER_PORTS_MAX][2 * RG_WORKER_BURST_MAX];
	uint16_t nout[RG_WORKER_PORTS_MAX];
	struct rte_mbuf *spare[RG_WORKER_BURST_MAX]; /* allocated in bulk, not used yet */
	uint16_t nspare;
	struct rg_worker_stats st;
	uint64_t pub_seq;
	struct rg_worker_stats pub;
} __rte_cache_aligned;

/* Creates the core and the emulator. 0 or -errno with a message. Slow path. */
int rg_worker_init(struct rg_worker *w, const struct rg_worker_config *cfg, char *err,
		   size_t errlen);
/* Opens a send stream of class cls on this worker's core (before the loop runs). */
int rg_worker_tx_open(struct rg_worker *w, uint16_t peer_gw, uint64_t stream, enum rg_class cls);
/* The lcore function: runs the loop until rg_worker_stop(). arg is the worker. */
int rg_worker_main(void *arg);
void rg_worker_stop(struct rg_worker *w);
/*
 * Asks the worker to keep off the port (on = 1) or to use it again (0).
 * rg_worker_port_held() says when it has let go: only then may the main
 * thread stop and start the port.
 */
void rg_worker_port_hold(struct rg_worker *w, int on);
int rg_worker_port_held(struct rg_worker *w);
/* Posts cmd (see struct rg_worker_cmd). 0, or -ENOBUFS when the ring is full, -ENOTSUP without one. */
int rg_worker_command(struct rg_worker *w, struct rg_worker_cmd *cmd);
int rg_worker_cmd_done(const struct rg_worker_cmd *cmd);
/* The shared clock: ns since tsc0, as the workers' now_ns. */
uint64_t rg_worker_clock_ns(uint64_t tsc0);

/* A consistent copy of the worker's stats, from any thread. */
void rg_worker_stats(struct rg_worker *w, struct rg_worker_stats *out);
/* Frees everything the worker holds (after its loop returned). */
void rg_worker_fini(struct rg_worker *w);

const char *rg_worker_counter_name(enum rg_worker_counter c);

/* The worker that serves a stream: its lane modulo the workers. */
static inline uint16_t
rg_worker_of_stream(uint64_t stream, uint16_t lanes, uint16_t workers)
{
	return (uint16_t)(rg_stream_lane(stream, lanes) % workers);
}

#endif /* RG_DATAPLANE_WORKER_H */
