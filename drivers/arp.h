/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ARP for one port (RFC 826, DESIGN §4.1 drivers/): answers who-has for the
 * gateway's own IPv4 address and keeps a small table of next hops (peers,
 * clients, the router) resolved, with timeouts and counted failures. MACs
 * pinned in the profile still work: a pinned entry is never asked for and
 * never expires.
 *
 * Pure, like frame.c and wanem.c: no DPDK, no clock reads (time comes in as
 * now_ns), no allocation at all (the caller owns struct rg_arp), no threads,
 * no randomness. Frames come in and go out as byte buffers.
 *
 * The table is fixed at setup. The next hops are known from the profile, so
 * rg_arp_add() is called before the workers start and never after: no entry
 * is inserted at run time (RFC 826 would add the sender of a request for us;
 * we do not: a LAN host that is not a next hop needs no entry, and the table
 * can neither fill up nor change shape while workers read it). An ARP from a
 * host without an entry is answered if it asks for us, and otherwise only
 * counted (untracked).
 *
 * State machine of a dynamic entry ("learn": an ARP, reply or request, from
 * the entry's ip; a pinned entry is STATIC and never changes):
 *
 *   add, no MAC
 *       │
 *       ▼               retries_max requests unanswered
 *   INCOMPLETE ─────────────────────────────────────────────▶ FAILED
 *       │    ▲                                                 │  │ ▲
 *       │    └─────────────── failed_hold_ns passed ───────────┘  │ │
 *       │ learn                                             learn │ │
 *       ▼                                                         │ │
 *   REACHABLE ◀───────────────────────────────────────────────────┘ │
 *     │   ▲                                                         │
 *     │   │ learn             retries_max refreshes unanswered      │
 *     │   │                                                         │
 *     ▼   │    ┌────────────────────────────────────────────────────┘
 *    STALE ────┘
 *
 *   REACHABLE ──▶ STALE (the ▼): reachable_ns passed; STALE is still used, and
 *   refreshed every retry_ns. REACHABLE ──▶ REACHABLE: learn (confirmed again).
 *
 *   from        to          when                                          by
 *   ----------  ----------  --------------------------------------------  -------------------
 *   (setup)     INCOMPLETE  rg_arp_add without a MAC                      rg_arp_add
 *   (setup)     STATIC      rg_arp_add with a MAC                         rg_arp_add
 *   INCOMPLETE  INCOMPLETE  a request is due: first, or retry_ns after    step (resolve, poll)
 *                           the last, and fewer than retries_max asked
 *   INCOMPLETE  FAILED      retries_max asked, the last retry_ns ago      step (resolve, poll)
 *   INCOMPLETE  REACHABLE   an ARP (reply or request) from its ip         learn (rg_arp_input)
 *   REACHABLE   REACHABLE   an ARP from its ip (confirmed again)          learn (rg_arp_input)
 *   REACHABLE   STALE       reachable_ns since the last confirmation      step (resolve, poll)
 *   STALE       STALE       a refresh is due (as INCOMPLETE's requests)   step (resolve, poll)
 *   STALE       FAILED      retries_max refreshes asked, none answered    step (resolve, poll)
 *   STALE       REACHABLE   an ARP from its ip                            learn (rg_arp_input)
 *   FAILED      INCOMPLETE  failed_hold_ns since it failed                step (resolve, poll)
 *   FAILED      REACHABLE   an ARP from its ip                            learn (rg_arp_input)
 *   STATIC      -           never changes (an ARP with another MAC is     learn: static_mismatch
 *                           counted, the pin kept)
 *
 * Timers are lazy: an entry moves when someone resolves it (rg_arp_resolve,
 * rg_arp_resolve_dst) or polls the table (rg_arp_poll); nothing happens in
 * between. Example, defaults (retry 1 s, 3 tries, hold 5 s), first resolve at
 * t = 10 s, nobody answers, the caller resolves every millisecond:
 *   10 s request 1, 11 s request 2, 12 s request 3, 13 s FAILED (timeouts 1),
 *   18 s INCOMPLETE and request 1 again, ...
 * A refresh starts the same way at the first resolve after reachable_ns; the
 * entry stays usable (STALE) until its third refresh goes unanswered.
 *
 * Requests are always broadcast, refreshes too (Linux unicasts its probes
 * first): for a handful of next hops one broadcast per 30 s each is nothing,
 * and a host that changed its MAC is found on the first refresh.
 *
 * Sharing between worker threads, without locks. One table serves every
 * worker of a port: a reply may land on any worker's queue (non-IP frames go
 * to queue 0), and every worker sends to the next hops. At run time an entry
 * has three mutable fields, each a uint64_t read and written on its own with
 * relaxed __atomic builtins:
 *
 *   word          MAC (bits 0..47, mac[0] in bits 40..47), state (48..55) and
 *                 tries (56..63: requests asked in this round) in one word, so
 *                 a reader never sees a torn MAC nor a MAC of another state.
 *                 W1: learn swaps in (MAC, REACHABLE, 0) unconditionally
 *                     (__atomic_exchange_n, relaxed): a reply is the truth now.
 *                 W2: step's transitions compare-and-swap it (relaxed) from
 *                     the word they read: if a learn (W1) or another step
 *                     changed it since, the swap fails and the decision,
 *                     made on old facts, is dropped. So a learn always wins
 *                     over a timer decision taken before it.
 *                 R1: everyone loads it (relaxed) first.
 *   confirmed_ns  when it was last learned. W3: learn stores it (relaxed)
 *                 before W1; R2: step loads it after R1. Relaxed, so a reader
 *                 may pair a new word with the old time: the entry then goes
 *                 STALE early and asks one refresh too many.
 *   asked_ns      when the last request was asked (in FAILED: when it
 *                 failed). W4: step claims a due request or failure by
 *                 compare-and-swap (relaxed) from the value it read, then
 *                 does W2. Of the callers that saw the same asked_ns one
 *                 wins W4; of those, W2 lets only the one that saw the
 *                 current tries through. So at most one request leaves per
 *                 retry_ns and tries counts exactly the requests asked. W4
 *                 is a compare-and-swap, not a store, for weakly ordered
 *                 CPUs (arm64): a caller that sees W2's new tries before
 *                 W4's new time cannot claim again, as its swap from the
 *                 old time fails (one location's values are seen in one
 *                 order by every thread).
 *
 * Why relaxed is enough: no field publishes other data (the MAC travels in
 * the word itself), and every mix of old and new values a reader can see
 * costs at most one request too many or too early, never a wrong MAC:
 *   - a learn and a step race: the learn wins (W2 fails), or the step's
 *     REACHABLE → STALE lands on an identical REACHABLE word a learn just
 *     rewrote (the one ABA): one needless refresh.
 *   - two learns race (two replies on two workers): last writer wins; both
 *     are answers from the host, and an ARP reply is idempotent.
 *   - a stale asked_ns in FAILED (the last request's time, seen before the
 *     failing caller's W4): the entry leaves FAILED early: one request early.
 * Callers' now_ns need not agree: workers read the clock at different times,
 * so a stored time may be later than a caller's now; elapsed time is then 0
 * (an entry looks fresh, a request not yet due), never a wrapped huge value.
 * Counters are relaxed atomic adds on their own cache line, exact once the
 * writers stop; a reader (rg_arp_stats) may see one counter of a pair bumped
 * before the other.
 *
 * Threads. Setup, one thread, before the workers start: rg_arp_init,
 * rg_arp_add, rg_arp_add_dst (launching the workers publishes the table to
 * them). Any thread at run time, concurrently: everything else except
 * rg_arp_check, which wants a quiescent table (tests, or after the workers
 * stopped): with writers running it may see a pair of fields or counters
 * mid-update.
 *
 * Invariants (rg_arp_check, on a quiescent table):
 *   1. The config passes rg_arp_config_check; n <= RG_ARP_ENTRIES_MAX; the
 *      slots from n on are all zero.
 *   2. Entry ips are distinct, neither 0 nor ours; a dynamic entry's ip is
 *      on-link (an off-link host cannot answer ARP; only a pin may be).
 *   3. An entry is STATIC exactly when it was pinned at setup (pinned = 1);
 *      nothing at run time writes a STATIC word (learn skips pins, step never
 *      moves STATIC).
 *   4. A usable entry (REACHABLE, STALE, STATIC) has a unicast, non-zero MAC
 *      and INCOMPLETE and FAILED have MAC 0; REACHABLE and STALE have been
 *      confirmed (confirmed_ns != RG_NS_NEVER).
 *   5. tries <= retries_max, and tries == 0 in REACHABLE, FAILED and STATIC.
 *   6. Counters: rx == requests_rx + replies_rx + the malformed_* counters;
 *      replies_tx <= requests_rx; retried <= timeouts; a FAILED entry asked
 *      retries_max times first, so timeouts * retries_max <= requests_due.
 *
 * Cost: the lookup is a linear scan of the entries (at most 64 of 32 bytes,
 * usually a handful), and a usable entry costs two relaxed loads and no
 * store, so the shared table stays in every worker's cache in the Shared
 * state; stores happen on state changes, requests and failed lookups only.
 * rg_arp_input is dominated by its locked read-modify-writes (three counters
 * and the word's exchange): fine for ARP's rate, not for a per-packet path.
 * Release build (gcc 12 -O3), one core of a 2-vCPU "Intel Xeon Processor"
 * VM shared with other builds, 16 entries, median of 6 runs:
 *   rg_arp_resolve, a REACHABLE entry, the 16th in the table ....... ≈ 16 ns
 *   rg_arp_resolve, a REACHABLE entry, the 1st in the table ........ ≈ 8 ns
 *   rg_arp_input, a request for us (reply built, sender learnt) .... ≈ 76 ns
 * Reproduce with: RG_ARP_BENCH=1 build/release/tests/unit/test_arp
 */
#ifndef RG_DRIVERS_ARP_H
#define RG_DRIVERS_ARP_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

#define RG_ARP_ENTRIES_MAX 64
#define RG_ARP_TRIES_MAX   255                     /* retries_max fits the word's 8 tries bits */
#define RG_ARP_TIME_NS_MAX (3600ull * RG_NS_PER_S) /* every config time: at most one hour */

#define RG_ARP_ETHERTYPE  0x0806
#define RG_ARP_OP_REQUEST 1
#define RG_ARP_OP_REPLY   2

/*
 * An ARP packet for Ethernet and IPv4 (RFC 826), 28 bytes after the 14-byte
 * Ethernet header; every field big-endian (network order), unaligned:
 *
 *  0       1       2       3       4       5       6       7
 * +-------+-------+-------+-------+-------+-------+-------+-------+
 * |   htype = 1   | ptype = 0x0800|hlen =6|plen =4|  op: 1 or 2   |
 * +-------+-------+-------+-------+-------+-------+-------+-------+
 * |        sender hardware address (sha)          |  sender IPv4  :
 * +-------+-------+-------+-------+-------+-------+-------+-------+
 * :  (spa)        |        target hardware address (tha)          |
 * +-------+-------+-------+-------+-------+-------+-------+-------+
 * |      target IPv4 (tpa)        |
 * +-------+-------+-------+-------+
 *
 * A request asks who has tpa (tha is zero); the reply swaps the two sides.
 */
struct rg_arp_pkt {
	uint16_t htype; /* 1: Ethernet */
	uint16_t ptype; /* 0x0800: IPv4 */
	uint8_t hlen;   /* 6 */
	uint8_t plen;   /* 4 */
	uint16_t op;
	uint8_t sha[6];
	uint32_t spa;
	uint8_t tha[6];
	uint32_t tpa;
} __attribute__((packed));
static_assert(sizeof(struct rg_arp_pkt) == 28, "an Ethernet/IPv4 ARP packet is 28 bytes");

/* The whole frame: Ethernet header (dst, src, EtherType 0x0806) then the ARP packet. */
struct rg_arp_frame {
	uint8_t dst[6];
	uint8_t src[6];
	uint16_t ethertype;
	struct rg_arp_pkt arp;
} __attribute__((packed));
static_assert(sizeof(struct rg_arp_frame) == 42, "Ethernet + ARP is 42 bytes");

/* What rg_arp_input needs at least; Ethernet padding after it is ignored. */
#define RG_ARP_MIN_BYTES ((size_t)sizeof(struct rg_arp_frame))
/*
 * What the builders write: the 42 bytes zero-padded to Ethernet's 60-byte
 * minimum (the FCS is the NIC's). Physical NICs pad runts themselves, but
 * virtual ports (memif, ring, some af_packet paths) send what they are given.
 */
#define RG_ARP_FRAME_BYTES ((size_t)60)

/* X-macro: entry states, in the word's state byte. */
#define RG_ARP_STATES(X)                                                             \
	X(INCOMPLETE) /* never resolved or again after FAILED: requests, not used */ \
	X(REACHABLE)  /* confirmed less than reachable_ns ago: used */               \
	X(STALE)      /* used, and refreshed every retry_ns until confirmed */       \
	X(FAILED)     /* unanswered: not used, not asked for until failed_hold_ns */ \
	X(STATIC)     /* pinned at setup: used, never asked for, never changes */

enum rg_arp_state {
#define RG_X(name) RG_ARP_##name,
	RG_ARP_STATES(RG_X)
#undef RG_X
	RG_ARP_STATE_MAX
};

struct rg_arp_config {
	uint32_t ip;             /* our IPv4 address, host byte order */
	uint8_t mac[6];          /* our MAC */
	uint8_t prefix_len;      /* on-link subnet of ip (0..32); 0 = everything is on-link */
	uint32_t router_ip;      /* next hop for off-link destinations; 0 = none (unreachable) */
	uint64_t reachable_ns;   /* a resolved entry is trusted this long, then refreshed */
	uint64_t retry_ns;       /* between requests for an unresolved or stale entry */
	uint32_t retries_max;    /* requests in a round before the entry is FAILED (1..255) */
	uint64_t failed_hold_ns; /* a FAILED entry is asked for again after this */
};

/*
 * X-macro: everything ARP does, counted (relaxed atomics; see "Sharing" above).
 * The malformed_* counters stay the list's last run (rg_arp_stats_malformed).
 */
#define RG_ARP_COUNTERS(X)                                                                      \
	X(rx)                /* frames given to rg_arp_input */                                 \
	X(requests_rx)       /* well-formed requests among them */                              \
	X(replies_rx)        /* well-formed replies among them */                               \
	X(replies_tx)        /* replies rg_arp_input wrote (a request for our ip) */            \
	X(requests_tx)       /* requests rg_arp_build_request wrote */                          \
	X(announces_tx)      /* gratuitous ARPs rg_arp_build_announce wrote */                  \
	X(requests_due)      /* resolve or poll told the caller to send a request */            \
	X(resolved)          /* INCOMPLETE or FAILED -> REACHABLE */                            \
	X(refreshed)         /* REACHABLE or STALE -> REACHABLE */                              \
	X(mac_changed)       /* a learn replaced a different known MAC */                       \
	X(went_stale)        /* REACHABLE -> STALE */                                           \
	X(timeouts)          /* INCOMPLETE or STALE -> FAILED: a failure */                     \
	X(retried)           /* FAILED -> INCOMPLETE */                                         \
	X(lookup_unresolved) /* resolve found the entry but returned 0 */                       \
	X(no_entry)          /* resolve of an ip that has no entry */                           \
	X(no_route)          /* resolve_dst: off-link, no router and no pin */                  \
	X(untracked)         /* a well-formed ARP from a host without an entry (not learned) */ \
	X(not_for_us)        /* an ARP for another ip, or to another MAC (no reply) */          \
	X(conflicts)         /* an ARP from another MAC claiming our ip (not learned) */        \
	X(static_mismatch)   /* an ARP from a pinned ip with another MAC (pin kept) */          \
	X(out_short)         /* a frame not built: cap < RG_ARP_FRAME_BYTES */                  \
	X(malformed_short)   /* shorter than Ethernet + ARP (42 bytes) */                       \
	X(malformed_not_arp) /* EtherType is not 0x0806 (VLAN tags are not ours to strip) */    \
	X(malformed_htype)   /* hardware type is not Ethernet (1) */                            \
	X(malformed_ptype)   /* protocol type is not IPv4 (0x0800) */                           \
	X(malformed_hlen)    /* hardware address length is not 6 */                             \
	X(malformed_plen)    /* protocol address length is not 4 */                             \
	X(malformed_op)      /* opcode is neither request (1) nor reply (2) */                  \
	X(malformed_sender)  /* sender MAC is zero, multicast or broadcast */

enum rg_arp_counter {
#define RG_X(name) RG_ARP_CTR_##name,
	RG_ARP_COUNTERS(RG_X)
#undef RG_X
	RG_ARP_CTR_MAX
};

struct rg_arp_stats {
	uint64_t ctr[RG_ARP_CTR_MAX];
};

/* One next hop, 32 bytes. ip and pinned are written at setup only; the rest as described above. */
struct rg_arp_entry {
	uint32_t ip;    /* host byte order; 0 = a free slot */
	uint8_t pinned; /* 1: STATIC, word is the pin for ever */
	uint8_t reserved[3];
	uint64_t word;         /* MAC | state << 48 | tries << 56; W1, W2, R1 */
	uint64_t confirmed_ns; /* the last learn; RG_NS_NEVER: never; W3, R2 */
	uint64_t asked_ns;     /* the last request asked; in FAILED: when it failed; W4 */
};

/*
 * A port's ARP. Read-only after setup but for the entries' mutable fields and
 * the counters; the counters sit on their own cache lines so that failed
 * lookups counting there do not evict the entries from the readers' caches.
 */
struct rg_arp {
	struct rg_arp_config cfg;
	uint32_t mask; /* of the on-link subnet, from cfg.prefix_len */
	unsigned n;    /* entries in use, [0, n) */
	_Alignas(RG_CACHE_LINE) struct rg_arp_entry e[RG_ARP_ENTRIES_MAX];
	_Alignas(RG_CACHE_LINE) uint64_t ctr[RG_ARP_CTR_MAX];
};

/* A telemetry view of one entry. */
struct rg_arp_entry_info {
	uint32_t ip;
	uint8_t mac[6]; /* all zero unless usable */
	enum rg_arp_state state;
	const char *state_name;
	uint32_t tries;        /* requests asked in this round */
	uint64_t confirmed_ns; /* the last learn; RG_NS_NEVER: never (STATIC: never needed) */
	uint64_t age_ns;   /* now_ns - confirmed_ns (0 if now_ns is earlier); RG_NS_NEVER: never */
	uint64_t asked_ns; /* the last request asked (FAILED: when it failed); 0: none yet */
};

/*
 * Defaults: ip, mac and router 0 (the caller sets them), prefix_len 0,
 * reachable 30 s (Linux's base_reachable_time), retry 1 s (RFC 1122 2.3.2.1:
 * at most one request per second per destination; Linux's retrans_time),
 * 3 tries (Linux's mcast_solicit), failed hold 5 s. So a host that does not
 * answer costs 3 broadcasts per 8 s, and one that goes away is unused about
 * 3 s after its entry went stale.
 */
void rg_arp_config_default(struct rg_arp_config *cfg);
/*
 * 0 when cfg is usable; else -EINVAL and a message naming the field in err
 * (if err != NULL): ip neither 0 nor 255.255.255.255 nor multicast; mac
 * unicast and non-zero; prefix_len <= 32; router_ip 0 or on-link and not ip;
 * reachable_ns and retry_ns in [1, RG_ARP_TIME_NS_MAX], failed_hold_ns in
 * [0, RG_ARP_TIME_NS_MAX]; retries_max in [1, RG_ARP_TRIES_MAX].
 */
int rg_arp_config_check(const struct rg_arp_config *cfg, char *err, size_t errlen);

/* An empty table with every counter 0. 0, or -EINVAL if cfg fails the check (a zeroed table). */
int rg_arp_init(struct rg_arp *a, const struct rg_arp_config *cfg);

/*
 * Setup only: a next hop to keep resolved. static_mac != NULL pins it (STATIC:
 * never expires, never asked for). Adding an ip twice is not an error, so a
 * caller may add the router and every peer without sorting them out: the
 * second add merges into the first (returns 0): a pin wins over a dynamic
 * entry (the profile's MAC is authoritative), a dynamic add of a pinned ip
 * changes nothing, the same pin again changes nothing.
 * Returns 0; -EEXIST (the ip is pinned to another MAC: the profile
 * contradicts itself; nothing changed); -ENOSPC (RG_ARP_ENTRIES_MAX in use);
 * -EINVAL (ip 0, ours, 255.255.255.255 or multicast; a dynamic ip off-link;
 * static_mac zero or multicast). On failure nothing is changed.
 */
int rg_arp_add(struct rg_arp *a, uint32_t ip, const uint8_t *static_mac);
/*
 * Setup only: what to add for a destination (a peer, a client): with a MAC,
 * dst itself pinned (on-link or not: a profile's MAC is the next hop's MAC
 * towards dst, so a pinned dst needs no route); without, its next hop
 * (rg_arp_next_hop). Returns what rg_arp_add returns, or -EHOSTUNREACH (no
 * MAC, off-link and no router).
 */
int rg_arp_add_dst(struct rg_arp *a, uint32_t dst_ip, const uint8_t *static_mac);

/* The next hop for dst: dst itself when on-link, else the router (0 if none or dst is 0). */
uint32_t rg_arp_next_hop(const struct rg_arp *a, uint32_t dst_ip);

/*
 * For TX to next hop ip at now_ns: 1 and mac when the entry is usable
 * (REACHABLE, STALE or STATIC: a stale entry is still used while it is
 * refreshed); 0 and mac untouched when not (counted lookup_unresolved), or
 * when ip has no entry (counted no_entry). Moves the entry's timers (see the
 * table). *request (may be NULL: then no request is claimed) is set to 1 when
 * the caller must now send a request for ip (rg_arp_build_request), else 0;
 * at most one caller per retry_ns is told so, over every thread.
 * Work: the scan plus at most 4 steps of the machine (each a transition or a
 * lost race); no store when the entry is usable and nothing is due.
 */
int rg_arp_resolve(struct rg_arp *a, uint32_t ip, uint64_t now_ns, uint8_t mac[6], int *request);
/*
 * For TX to a destination: resolves dst's own entry if it has one (a pin, or
 * an on-link host), else its next hop's. *request_ip (may be NULL) is set to
 * the ip to ask for (rg_arp_build_request) or 0. Returns as rg_arp_resolve;
 * 0 and no_route when dst is off-link without a router or a pin.
 */
int rg_arp_resolve_dst(struct rg_arp *a, uint32_t dst_ip, uint64_t now_ns, uint8_t mac[6],
		       uint32_t *request_ip);
/*
 * Runs every entry's timers at now_ns, so next hops are resolved before the
 * first packet and kept fresh without traffic: writes the ips that need a
 * request now to ips[0..max) and returns their count (entries past max wait
 * for the next poll, their requests unclaimed). Meant for one thread every
 * few ms (the control thread, or worker 0). Work: every entry once.
 */
unsigned rg_arp_poll(struct rg_arp *a, uint64_t now_ns, uint32_t *ips, unsigned max);

/*
 * An ARP frame (Ethernet header included) of len bytes received at now_ns.
 * Validates it (EtherType, length, htype, ptype, hlen, plen, opcode, a unicast
 * sender MAC: each failure counted as its malformed_* and nothing else done);
 * drops one sent to another MAC (not broadcast, not ours: not_for_us) and one
 * claiming our ip (conflicts; our own looped back: not_for_us). Else, RFC 826
 * merge: the sender's entry, if it has one, learns the sender MAC (replies and
 * requests both teach; STATIC is kept). Then, when it is a request for our ip,
 * writes the reply (Ethernet dst = the requester's MAC, opcode 2, the two
 * sides swapped) into out and returns RG_ARP_FRAME_BYTES; 0 otherwise (and
 * out_short when cap < RG_ARP_FRAME_BYTES). Never reads past frame + len.
 */
size_t rg_arp_input(struct rg_arp *a, const uint8_t *frame, size_t len, uint64_t now_ns,
		    uint8_t *out, size_t cap);

/* A broadcast who-has target_ip from us: RG_ARP_FRAME_BYTES, or 0 if cap is short (out_short). */
size_t rg_arp_build_request(struct rg_arp *a, uint32_t target_ip, uint8_t *out, size_t cap);
/*
 * A gratuitous ARP announcing our ip (RFC 5227 announcement: a broadcast
 * request with sender and target ip both ours, tha zero), sent once when the
 * port comes up so that hosts with an entry for us learn our MAC.
 * RG_ARP_FRAME_BYTES, or 0 if cap is short (out_short).
 */
size_t rg_arp_build_announce(struct rg_arp *a, uint8_t *out, size_t cap);

/* Whether a frame is ARP (at least an Ethernet header, EtherType 0x0806): the rx dispatch. */
int rg_arp_is_arp(const uint8_t *frame, size_t len);

void rg_arp_stats(const struct rg_arp *a, struct rg_arp_stats *out);
/* The sum of the malformed_* counters. */
uint64_t rg_arp_stats_malformed(const struct rg_arp_stats *s);
const char *rg_arp_counter_name(enum rg_arp_counter c);
const char *rg_arp_state_name(enum rg_arp_state s);

/* Entries in use: indices [0, rg_arp_entries()) for rg_arp_entry_info. */
unsigned rg_arp_entries(const struct rg_arp *a);
/* Entry idx as of now_ns (its state as last moved: timers are lazy). 0, or -ENOENT. */
int rg_arp_entry_info(const struct rg_arp *a, unsigned idx, uint64_t now_ns,
		      struct rg_arp_entry_info *out);

/* 0 when invariants 1-6 hold, else -1. O(n²) over entries: tests, on a quiescent table. */
int rg_arp_check(const struct rg_arp *a);

#endif /* RG_DRIVERS_ARP_H */
