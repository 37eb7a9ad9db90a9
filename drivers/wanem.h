/* SPDX-License-Identifier: Apache-2.0 */
/*
 * WAN emulator shim (DESIGN §4.1 drivers/): sits in one port's TX path, one
 * emulator per direction, and makes the link behave like a long, lossy WAN.
 * It is off unless the profile turns it on (the glue inserts it only then).
 * The simulator's links are this emulator too (tests/sim/sim_net.c, one per
 * directed link, driven by the simulated clock): one fault model for both.
 *
 * It is pure, like the protocol core: no DPDK, no clock reads, no allocation
 * after init, no threads. Time comes in as now_ns; randomness comes from a
 * splitmix64 state seeded from the config, so one seed replays one run
 * exactly. Packets are opaque handles touched only through rg_wanem_ops, so
 * the DPDK glue passes rte_mbuf pointers and the tests pass their own structs.
 *
 * Design. rg_wanem_enqueue() takes ownership of a burst and decides every
 * fault at once, per packet, in this order:
 *
 *   1. partition    the switch is on: dropped (the flag is read once per burst)
 *   2. random loss  with probability loss
 *   3. burst loss   Gilbert–Elliott: the link state steps once per packet
 *                   that reaches the link (every packet not cut by a
 *                   partition, lost at step 2 or not), good→bad with
 *                   P(burst_enter), bad→good with P(burst_exit); in the bad
 *                   state a packet is lost with P(burst_loss). A bad period
 *                   lasts 1/burst_exit packets on average.
 *   4. queue full   held == queue_pkts_max: dropped (drop_queue_full); else,
 *                   with a rate and queue_bytes_max, the bottleneck's drop-tail
 *                   buffer: if the bytes handed to the wire and not yet
 *                   serialized (the backlog, rg_wanem_queue_bytes) plus this
 *                   packet's would exceed queue_bytes_max, it is dropped
 *                   (drop_queue_bytes) and takes no wire time
 *   5. corruption   1..3 distinct bit flips past the first corrupt_skip bytes
 *   6. duplication  a deep copy (of the corrupted bytes, if step 5 hit),
 *                   held as its own packet: it needs a free slot too
 *   7. reordering   an extra delay, uniform in [0, reorder_ns], outside FIFO
 *   8. release time serialization on the "wire" at rate_bytes_per_s
 *                   (depart = max(now, wire_free) + len / rate, exact: the
 *                   remainder is carried), then + delay_ns + uniform jitter
 *                   in [0, jitter_ns]; a FIFO packet is released no earlier
 *                   than the FIFO packet before it. A copy departs with its
 *                   original (it is made past the bottleneck, so it takes no
 *                   wire time) and gets its own jitter, but keeps FIFO: it
 *                   comes no earlier than its original (unless that one was
 *                   reordered) and never overtakes what follows it, so
 *                   duplication duplicates and does not also reorder.
 *
 * The packets that survive wait in a binary min-heap keyed by (release_ns,
 * enqueue sequence number): equal times leave in enqueue order. Dequeue pops
 * those due at now_ns, earliest first. Probabilities of 0 draw no random
 * number, so a pass-through config (rg_wanem_config_default) costs no RNG
 * work and releases everything at the enqueue time, in order, unchanged.
 *
 * The backlog. Packets wait for the wire in arrival order, so the bytes not
 * yet serialized at now_ns are (wire_free_ns − now_ns) × rate_bytes_per_s,
 * plus the carried remainder: ((wire_free_ns − now_ns) · rate + wire_frac) /
 * 1e9, rounded down (0 once the wire is idle). That is the queue a real
 * bottleneck router holds, in bytes; held counts something else (every
 * packet still in the emulator, most of them in propagation delay). Worked
 * example, 1,000,000 B/s, three 1000-byte packets offered at t = 0: the wire
 * frees at 1, 2 and 3 ms, and the backlog after each is 1000, 2000 and 3000
 * bytes; at t = 2.5 ms it is 500 (the third packet's second half). With
 * queue_bytes_max = 2500 the third packet would make it 3000: it is dropped,
 * and the wire is idle from 2 ms on.
 *
 * Invariants (rg_wanem_check):
 *   1. held <= heap capacity (queue_pkts_max at init); held <= the current
 *      queue_pkts_max except after set_config shrank it, until it drains.
 *   2. The heap is ordered: no slot is due before its parent.
 *   3. Conservation: in_pkts + duplicated
 *        == out_pkts + drop_loss + drop_burst + drop_partition + drop_queue_full
 *           + drop_queue_bytes + held.
 *   4. FIFO packets (neither reordered nor copies) are released in enqueue
 *      order: their release times never decrease (fifo_last_ns only grows),
 *      also across set_config (a shorter delay does not let packets overtake).
 *   5. wire_free_ns never decreases; wire_frac < rate_bytes_per_s.
 *   6. With queue_bytes_max > 0, an accepted packet never leaves a backlog
 *      above it (so queue_peak_bytes <= queue_bytes_max as long as set_config
 *      neither lowered the limit nor raised the rate: the backlog is read at
 *      the current rate). Tested, like 4, by the unit tests.
 *
 * Threads. Everything but the partition switch belongs to the worker that
 * owns the port's TX queue (it also calls set_config and reads the stats).
 * The partition flag may be flipped and read by any thread (control thread).
 *
 * Cost, enqueue + dequeue per packet: 1M 64-byte packets in bursts of 32, one
 * packet per µs of emulated time, dequeue(t + 1 µs) after each burst, packets
 * recycled through a free list (no malloc); gcc 12 -O2, one core of a 2-vCPU
 * "Intel Xeon Processor" VM, median of 3 runs (RG_DEBUG on or off: same):
 *   pass-through config ........................................ ≈ 17 ns
 *   delay 50 ms + jitter 1 ms (≈ 50k held) ..................... ≈ 130 ns
 *   + loss, burst, dup, reorder, corrupt 1 % each, 1 Gbit/s rate  ≈ 147 ns
 * The held case is the heap's sift-down through 50k slots (1.6 MB, cache
 * misses). If that ever matters: FIFO packets are released in enqueue order
 * (invariant 4), so a ring for them plus a small heap for reordered packets and
 * copies would make it O(1). Reproduce with (one command line, from the repo root):
 *   gcc -std=c11 -D_GNU_SOURCE -O2 -Idataplane/proto -Idrivers drivers/wanem.c
 *       dataplane/proto/common.c tests/unit/test_wanem.c -lcmocka -lm -o /tmp/wanem_bench
 *   RG_WANEM_BENCH=1 /tmp/wanem_bench
 */
#ifndef RG_DRIVERS_WANEM_H
#define RG_DRIVERS_WANEM_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

/* Limits rg_wanem_config_check() enforces, so release times cannot overflow. */
#define RG_WANEM_QUEUE_PKTS_MAX  (1u << 24)              /* 16M slots of 32 bytes: 512 MiB */
#define RG_WANEM_TIME_NS_MAX     (3600ull * RG_NS_PER_S) /* delay, jitter, reorder: one hour */
#define RG_WANEM_RATE_MAX        1000000000000ull        /* bytes/s: 8 Tbit/s */
#define RG_WANEM_QUEUE_BYTES_MAX (1ull << 36)            /* 64 GiB of bottleneck buffer */

/* How the emulator touches a packet; it never dereferences a handle itself. */
struct rg_wanem_ops {
	/* A deep copy with its own bytes; NULL if none can be made (counted dup_failed). May be NULL. */
	void *(*copy)(void *ctx, void *pkt);
	/* Frees a packet the emulator dropped (or still held at fini). */
	void (*drop)(void *ctx, void *pkt);
	/* The packet's writable, contiguous bytes and their count (*len); also its length for the
	 * rate and byte counters. May return NULL (then the packet is never corrupted). */
	uint8_t *(*bytes)(void *ctx, void *pkt, uint32_t *len);
	void *ctx;
};

/* One direction. All zero but queue_pkts_max is a pass-through (rg_wanem_config_default). */
struct rg_wanem_config {
	uint64_t seed;
	uint64_t delay_ns;  /* fixed one-way delay */
	uint64_t jitter_ns; /* + uniform [0, jitter_ns] per packet; FIFO order is kept */
	double loss;        /* random loss probability */
	double burst_enter; /* Gilbert–Elliott: P(good→bad) per packet */
	double burst_exit;  /* P(bad→good) per packet */
	double burst_loss;  /* loss probability in the bad state */
	double dup;         /* duplication probability (the copy gets its own jitter, in FIFO) */
	double reorder;     /* P(extra delay in [0, reorder_ns], leaving FIFO order) */
	uint64_t reorder_ns;
	double corrupt;            /* P(1..3 bit flips past the first corrupt_skip bytes) */
	uint32_t corrupt_skip;     /* bytes never flipped: Ethernet/IP/UDP headers, say */
	uint32_t queue_pkts_max;   /* packets held at once; beyond it: drop_queue_full */
	uint64_t rate_bytes_per_s; /* 0 = unlimited; else serialization before the delay */
	uint64_t queue_bytes_max;  /* backlog ahead of the wire; beyond it: drop_queue_bytes.
				    * 0 = no limit; > 0 needs a rate (else nothing waits) */
};

/* X-macro: everything the emulator does, counted. */
#define RG_WANEM_COUNTERS(X)                                                        \
	X(in_pkts)          /* packets offered to enqueue */                        \
	X(in_bytes)         /* their bytes */                                       \
	X(out_pkts)         /* packets dequeued (copies included) */                \
	X(out_bytes)        /* their bytes */                                       \
	X(drop_loss)        /* random loss */                                       \
	X(drop_burst)       /* Gilbert-Elliott loss in the bad state */             \
	X(drop_partition)   /* offered while partitioned */                         \
	X(drop_queue_full)  /* offered while queue_pkts_max were held */            \
	X(drop_queue_bytes) /* would have taken the backlog past queue_bytes_max */ \
	X(burst_entered)    /* good->bad transitions of the Gilbert-Elliott link */ \
	X(duplicated)       /* copies held */                                       \
	X(dup_failed)       /* picked for duplication but no copy made or held */   \
	X(reordered)        /* packets that left FIFO order with extra delay */     \
	X(corrupted)        /* packets with bits flipped */                         \
	X(rate_delayed)     /* packets that found the wire busy (queued behind) */  \
	X(jittered)         /* packets (and copies) given a non-zero jitter */

enum rg_wanem_counter {
#define RG_X(name) RG_WANEM_CTR_##name,
	RG_WANEM_COUNTERS(RG_X)
#undef RG_X
	RG_WANEM_CTR_MAX
};

struct rg_wanem_stats {
	uint64_t ctr[RG_WANEM_CTR_MAX];
};

/* A held packet: 32 bytes, two per cache line. */
struct rg_wanem_slot {
	uint64_t release_ns;
	uint64_t seq; /* enqueue order: ties on release_ns leave in it */
	void *pkt;
	uint32_t len;
	uint32_t reserved;
};

/* Worker-owned, except `partition`, alone on the last cache line. */
struct rg_wanem {
	struct rg_wanem_config cfg;
	struct rg_wanem_ops ops;
	struct rg_wanem_slot *heap;
	uint32_t cap;      /* heap slots, queue_pkts_max at init */
	uint32_t held_max; /* min(cfg.queue_pkts_max, cap) */
	uint32_t held;
	uint8_t ge_bad; /* Gilbert–Elliott link state: 1 = bad */
	uint8_t reserved[3];
	uint64_t rng;              /* splitmix64 state */
	uint64_t seq;              /* next enqueue sequence number */
	uint64_t wire_free_ns;     /* when the wire finishes the last packet handed to it */
	uint64_t wire_frac;        /* remainder of that, in byte·ns, < rate_bytes_per_s */
	uint64_t fifo_last_ns;     /* release time of the last FIFO packet */
	uint64_t queue_peak_bytes; /* the largest backlog an accepted packet left, since init */
	struct rg_wanem_stats stats;
	/*
	 * Partition switch, 1 = on. Written by any thread (rg_wanem_set_partition, the control
	 * thread in practice) with a RELAXED store (P0), read by the worker once per enqueue burst
	 * and by anyone through rg_wanem_partitioned() with a RELAXED load (P1 pairs with P0). No
	 * other data is published through it, so no ordering is needed: the worker acts on the
	 * new value from its next burst on. Alone on its cache line so that flipping it does not
	 * invalidate the worker's hot state.
	 */
	_Alignas(RG_CACHE_LINE) int partition;
};

/* A pass-through: no fault, no delay, unlimited rate, no byte limit, 4096 packets held. */
void rg_wanem_config_default(struct rg_wanem_config *cfg);
/* 0 when cfg is usable; else -EINVAL and a message naming the field in err (if err != NULL). */
int rg_wanem_config_check(const struct rg_wanem_config *cfg, char *err, size_t errlen);

/*
 * Allocates the heap (cfg->queue_pkts_max slots) once; ops are copied. The partition is off.
 * Returns 0, -EINVAL (cfg fails rg_wanem_config_check, or ops lacks drop or bytes) or
 * -ENOMEM. On failure nothing is held and rg_wanem_fini() is safe.
 */
int rg_wanem_init(struct rg_wanem *em, const struct rg_wanem_config *cfg,
		  const struct rg_wanem_ops *ops, const struct rg_mem *mem);
/* Drops every held packet through ops->drop (not counted as faults) and frees the heap. */
void rg_wanem_fini(struct rg_wanem *em, const struct rg_mem *mem);

/*
 * Runtime change, by the owning worker; cfg must pass rg_wanem_config_check (asserted). Keeps
 * the held packets, the counters, the wire and FIFO times and the Gilbert–Elliott state;
 * restarts the RNG from the new seed only if the seed changed. queue_pkts_max above the
 * capacity allocated at init is clamped to it (no allocation after init). A new rate restarts
 * the wire's byte·ns remainder; packets already held keep their release times. A new
 * queue_bytes_max applies from the next packet on: a backlog above a lowered limit is kept and
 * drains (new packets are dropped until it fits). queue_peak_bytes is kept.
 */
void rg_wanem_set_config(struct rg_wanem *em, const struct rg_wanem_config *cfg);

/* Any thread. While on, every packet offered is dropped (drop_partition); held ones still leave. */
void rg_wanem_set_partition(struct rg_wanem *em, int on);
int rg_wanem_partitioned(const struct rg_wanem *em);

/*
 * Takes ownership of pkts[0..n): returns how many were accepted into the queue; the others
 * were dropped (counted by reason) and freed through ops->drop. Copies are not in the count.
 * Work: O(n log held), at most two heap pushes per packet.
 */
uint32_t rg_wanem_enqueue(struct rg_wanem *em, void **pkts, uint32_t n, uint64_t now_ns);
/*
 * Moves the packets due at now_ns (release_ns <= now_ns), earliest first, into out[0..max) and
 * gives their ownership to the caller. Returns their count. Work: O(max log held).
 */
uint32_t rg_wanem_dequeue(struct rg_wanem *em, void **out, uint32_t max, uint64_t now_ns);

/* The earliest release time held, or RG_NS_NEVER when nothing is held. */
static inline uint64_t
rg_wanem_next_ns(const struct rg_wanem *em)
{
	return em->held > 0 ? em->heap[0].release_ns : RG_NS_NEVER;
}

static inline uint32_t
rg_wanem_held(const struct rg_wanem *em)
{
	return em->held;
}

/*
 * The bottleneck's backlog at now_ns (see "The backlog" above): bytes handed to the wire and not
 * yet serialized, rounded down; 0 without a rate or once the wire is idle. O(1). The owning
 * worker only, like everything but the partition.
 */
uint64_t rg_wanem_queue_bytes(const struct rg_wanem *em, uint64_t now_ns);

/* The largest backlog an accepted packet left behind it (its own bytes included), since init. */
static inline uint64_t
rg_wanem_queue_peak_bytes(const struct rg_wanem *em)
{
	return em->queue_peak_bytes;
}

void rg_wanem_stats(const struct rg_wanem *em, struct rg_wanem_stats *out);
const char *rg_wanem_counter_name(enum rg_wanem_counter c);

/* 0 when invariants 1, 2, 3 and 5 hold, else -1. O(held): tests and the simulator. */
int rg_wanem_check(const struct rg_wanem *em);

#endif /* RG_DRIVERS_WANEM_H */
