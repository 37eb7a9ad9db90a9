/* SPDX-License-Identifier: Apache-2.0 */
/* ARP for one port: the state machine, the sharing rules and the invariants are in arp.h. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "arp.h"

_Static_assert(sizeof(struct rg_arp_entry) == 32, "two entries per cache line");
_Static_assert(offsetof(struct rg_arp, ctr) % RG_CACHE_LINE == 0,
	       "the counters do not share a cache line with the entries");
_Static_assert(RG_ARP_STATE_MAX <= 256, "a state fits the word's state byte");
_Static_assert(RG_ARP_CTR_malformed_sender == RG_ARP_CTR_MAX - 1 &&
		   RG_ARP_CTR_malformed_short < RG_ARP_CTR_malformed_sender,
	       "the malformed_* counters are the list's last run (rg_arp_stats_malformed)");

static const char *const counter_names[RG_ARP_CTR_MAX] = {
#define RG_X(name) [RG_ARP_CTR_##name] = #name,
	RG_ARP_COUNTERS(RG_X)
#undef RG_X
};

static const char *const state_names[RG_ARP_STATE_MAX] = {
#define RG_X(name) [RG_ARP_##name] = #name,
	RG_ARP_STATES(RG_X)
#undef RG_X
};

static const uint8_t mac_broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t mac_zero[6];

const char *
rg_arp_counter_name(enum rg_arp_counter c)
{
	return (unsigned)c < RG_ARP_CTR_MAX ? counter_names[c] : "?";
}

const char *
rg_arp_state_name(enum rg_arp_state s)
{
	return (unsigned)s < RG_ARP_STATE_MAX ? state_names[s] : "?";
}

/* ---- small helpers: byte order, the entry word, addresses, counters ---- */

static uint16_t
be16(uint16_t x)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return __builtin_bswap16(x);
#else
	return x;
#endif
}

static uint32_t
be32(uint32_t x)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return __builtin_bswap32(x);
#else
	return x;
#endif
}

#define WORD_MAC_MASK  0x0000ffffffffffffull
#define WORD_STATE_BIT 48
#define WORD_TRIES_BIT 56
#define WORD_TRY_ONE   (1ull << WORD_TRIES_BIT)

static uint64_t
word_make(uint64_t mac_bits, enum rg_arp_state s, unsigned tries)
{
	return mac_bits | (uint64_t)s << WORD_STATE_BIT | (uint64_t)tries << WORD_TRIES_BIT;
}

static enum rg_arp_state
word_state(uint64_t w)
{
	return (enum rg_arp_state)(w >> WORD_STATE_BIT & 0xff);
}

static unsigned
word_tries(uint64_t w)
{
	return (unsigned)(w >> WORD_TRIES_BIT);
}

static uint64_t
mac_bits(const uint8_t mac[6])
{
	uint64_t b = 0;

	for (int i = 0; i < 6; i++)
		b = b << 8 | mac[i];
	return b;
}

static void
bits_mac(uint64_t w, uint8_t mac[6])
{
	for (int i = 5; i >= 0; i--, w >>= 8)
		mac[i] = (uint8_t)w;
}

static int
state_usable(enum rg_arp_state s)
{
	return s == RG_ARP_REACHABLE || s == RG_ARP_STALE || s == RG_ARP_STATIC;
}

/* Unicast and not zero: what a host's MAC (ours, a sender's, a pin) must be. */
static int
mac_unicast(const uint8_t mac[6])
{
	return (mac[0] & 1) == 0 && memcmp(mac, mac_zero, 6) != 0;
}

/* 0, 255.255.255.255 and multicast (224/4) are no host's address. */
static int
ip_host(uint32_t ip)
{
	return ip != 0 && ip != UINT32_MAX && ip >> 28 != 0xe;
}

/* The on-link mask; prefix_len above 32 (a config that fails the check) is taken as 32. */
static uint32_t
prefix_mask(unsigned prefix_len)
{
	return prefix_len == 0 ? 0 : UINT32_MAX << (32 - RG_MIN(prefix_len, 32u));
}

static int
on_link(const struct rg_arp *a, uint32_t ip)
{
	return ((ip ^ a->cfg.ip) & a->mask) == 0;
}

/* Time from then to now, 0 when another caller's now was later than ours (see "Sharing"). */
static uint64_t
elapsed(uint64_t now_ns, uint64_t then_ns)
{
	return now_ns > then_ns ? now_ns - then_ns : 0;
}

static void
count(struct rg_arp *a, enum rg_arp_counter c)
{
	__atomic_fetch_add(&a->ctr[c], 1, __ATOMIC_RELAXED);
}

static uint64_t
load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* Relaxed compare-and-swap; on failure *expected is the current value. */
static int
cas(uint64_t *p, uint64_t *expected, uint64_t desired)
{
	return __atomic_compare_exchange_n(p, expected, desired, 0, __ATOMIC_RELAXED,
					   __ATOMIC_RELAXED);
}

static struct rg_arp_entry *
find(const struct rg_arp *a, uint32_t ip)
{
	for (unsigned i = 0; i < a->n; i++) /* Bounded: n <= RG_ARP_ENTRIES_MAX */
		if (a->e[i].ip == ip)
			return (struct rg_arp_entry *)&a->e[i];
	return NULL;
}

/* ---- configuration and setup (slow path, one thread) ---- */

void
rg_arp_config_default(struct rg_arp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->reachable_ns = 30 * RG_NS_PER_S;
	cfg->retry_ns = RG_NS_PER_S;
	cfg->retries_max = 3;
	cfg->failed_hold_ns = 5 * RG_NS_PER_S;
}

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int
time_ok(uint64_t t_ns, uint64_t min_ns)
{
	return t_ns >= min_ns && t_ns <= RG_ARP_TIME_NS_MAX;
}

int
rg_arp_config_check(const struct rg_arp_config *cfg, char *err, size_t errlen)
{
	uint32_t mask = prefix_mask(cfg->prefix_len);

	if (!ip_host(cfg->ip))
		return fail(err, errlen, "ip: %#x is not a host address", cfg->ip);
	if (!mac_unicast(cfg->mac))
		return fail(err, errlen, "mac: must be unicast and not zero");
	if (cfg->prefix_len > 32)
		return fail(err, errlen, "prefix_len: %u above 32", cfg->prefix_len);
	if (cfg->router_ip != 0 && (!ip_host(cfg->router_ip) || cfg->router_ip == cfg->ip ||
				    ((cfg->router_ip ^ cfg->ip) & mask) != 0))
		return fail(err, errlen,
			    "router_ip: %#x must be 0 or an on-link host that is not ip",
			    cfg->router_ip);
	if (!time_ok(cfg->reachable_ns, 1) || !time_ok(cfg->retry_ns, 1) ||
	    !time_ok(cfg->failed_hold_ns, 0))
		return fail(err, errlen,
			    "reachable_ns, retry_ns: in [1, %llu]; failed_hold_ns: in [0, %llu]",
			    (unsigned long long)RG_ARP_TIME_NS_MAX,
			    (unsigned long long)RG_ARP_TIME_NS_MAX);
	if (cfg->retries_max < 1 || cfg->retries_max > RG_ARP_TRIES_MAX)
		return fail(err, errlen, "retries_max: %u not in [1, %u]", cfg->retries_max,
			    RG_ARP_TRIES_MAX);
	return 0;
}

int
rg_arp_init(struct rg_arp *a, const struct rg_arp_config *cfg)
{
	memset(a, 0, sizeof(*a));
	if (rg_arp_config_check(cfg, NULL, 0) != 0)
		return -EINVAL;
	a->cfg = *cfg;
	a->mask = prefix_mask(cfg->prefix_len);
	return 0;
}

/* A second add of an existing entry (rg_arp_add's merge rule). */
static int
add_again(struct rg_arp_entry *e, const uint8_t *static_mac)
{
	uint64_t pin;

	if (static_mac == NULL)
		return 0;
	pin = word_make(mac_bits(static_mac), RG_ARP_STATIC, 0);
	if (e->pinned)
		return e->word == pin ? 0 : -EEXIST;
	e->pinned = 1;
	e->word = pin;
	return 0;
}

int
rg_arp_add(struct rg_arp *a, uint32_t ip, const uint8_t *static_mac)
{
	struct rg_arp_entry *e;

	if (!ip_host(ip) || ip == a->cfg.ip)
		return -EINVAL;
	if (static_mac != NULL && !mac_unicast(static_mac))
		return -EINVAL;
	e = find(a, ip);
	if (e != NULL)
		return add_again(e, static_mac);
	if (static_mac == NULL && !on_link(a, ip))
		return -EINVAL;
	if (a->n == RG_ARP_ENTRIES_MAX)
		return -ENOSPC;
	e = &a->e[a->n];
	e->ip = ip;
	e->confirmed_ns = RG_NS_NEVER;
	e->asked_ns = 0;
	e->word = word_make(0, RG_ARP_INCOMPLETE, 0);
	if (static_mac != NULL)
		add_again(e, static_mac);
	a->n++;
	return 0;
}

int
rg_arp_add_dst(struct rg_arp *a, uint32_t dst_ip, const uint8_t *static_mac)
{
	uint32_t hop;

	if (static_mac != NULL)
		return rg_arp_add(a, dst_ip, static_mac);
	if (!ip_host(dst_ip))
		return -EINVAL;
	hop = rg_arp_next_hop(a, dst_ip);
	return hop == 0 ? -EHOSTUNREACH : rg_arp_add(a, hop, NULL);
}

uint32_t
rg_arp_next_hop(const struct rg_arp *a, uint32_t dst_ip)
{
	if (dst_ip == 0)
		return 0;
	return on_link(a, dst_ip) ? dst_ip : a->cfg.router_ip;
}

/* ---- the timers: one entry's machine at now_ns (any thread) ---- */

/* What one pass over the word decided. */
enum pass {
	PASS_UNUSABLE = 0,
	PASS_USABLE = 1,
	PASS_AGAIN, /* a transition landed, or a race was lost: look at the new word */
};

/* Passes over one entry per call: REACHABLE → STALE → a request (or FAILED) is two. */
#define STEP_PASSES_MAX 4

static enum pass
pass_reachable(struct rg_arp *a, struct rg_arp_entry *e, uint64_t now_ns, uint64_t *w)
{
	uint64_t next;

	if (elapsed(now_ns, load(&e->confirmed_ns)) < a->cfg.reachable_ns) /* R2 */
		return PASS_USABLE;
	next = word_make(*w & WORD_MAC_MASK, RG_ARP_STALE, 0);
	if (cas(&e->word, w, next)) { /* W2 */
		*w = next;
		count(a, RG_ARP_CTR_went_stale);
	}
	return PASS_AGAIN;
}

/*
 * INCOMPLETE or STALE: is a request due (the round's first, or retry_ns after
 * the last), or the round's failure (retries_max asked, the last retry_ns
 * ago)? Claims it with W4 then W2 (arp.h, "Sharing"). A caller that passes no
 * request takes part in failures only.
 */
static enum pass
pass_asking(struct rg_arp *a, struct rg_arp_entry *e, uint64_t now_ns, uint64_t *w, int *request)
{
	enum pass usable = word_state(*w) == RG_ARP_STALE ? PASS_USABLE : PASS_UNUSABLE;
	unsigned tries = word_tries(*w);
	uint64_t asked = load(&e->asked_ns), next;
	int give_up = tries >= a->cfg.retries_max;

	if (tries > 0 && elapsed(now_ns, asked) < a->cfg.retry_ns)
		return usable;
	if (request == NULL && !give_up)
		return usable;
	if (!cas(&e->asked_ns, &asked, now_ns)) /* W4: another caller took this one */
		return usable;
	next = give_up ? word_make(0, RG_ARP_FAILED, 0) : *w + WORD_TRY_ONE;
	if (!cas(&e->word, w, next)) /* W2: learnt or claimed meanwhile */
		return PASS_AGAIN;
	*w = next;
	if (give_up) {
		count(a, RG_ARP_CTR_timeouts);
		return PASS_UNUSABLE;
	}
	*request = 1;
	count(a, RG_ARP_CTR_requests_due);
	return usable;
}

static enum pass
pass_failed(struct rg_arp *a, struct rg_arp_entry *e, uint64_t now_ns, uint64_t *w)
{
	uint64_t next = word_make(0, RG_ARP_INCOMPLETE, 0);

	if (elapsed(now_ns, load(&e->asked_ns)) < a->cfg.failed_hold_ns)
		return PASS_UNUSABLE;
	if (cas(&e->word, w, next)) { /* W2 */
		*w = next;
		count(a, RG_ARP_CTR_retried);
	}
	return PASS_AGAIN;
}

/* Moves e's timers at now_ns; 1 and mac when it is usable. *request as in rg_arp_resolve. */
static int
step(struct rg_arp *a, struct rg_arp_entry *e, uint64_t now_ns, uint8_t mac[6], int *request)
{
	uint64_t w = load(&e->word); /* R1 */
	enum pass r = PASS_AGAIN;

	/* Bounded: STEP_PASSES_MAX; past it (races lost every time) the last word read decides. */
	for (unsigned i = 0; i < STEP_PASSES_MAX && r == PASS_AGAIN; i++) {
		switch (word_state(w)) {
		case RG_ARP_REACHABLE:
			r = pass_reachable(a, e, now_ns, &w);
			break;
		case RG_ARP_INCOMPLETE:
		case RG_ARP_STALE:
			r = pass_asking(a, e, now_ns, &w, request);
			break;
		case RG_ARP_FAILED:
			r = pass_failed(a, e, now_ns, &w);
			break;
		default: /* a pin; any other byte is a corrupt table: never send to its MAC */
			RG_ASSERT(word_state(w) == RG_ARP_STATIC);
			r = PASS_USABLE;
			break;
		}
	}
	if (r == PASS_AGAIN)
		r = state_usable(word_state(w)) ? PASS_USABLE : PASS_UNUSABLE;
	if (r == PASS_USABLE)
		bits_mac(w, mac);
	return r == PASS_USABLE;
}

static int
resolve_entry(struct rg_arp *a, struct rg_arp_entry *e, uint64_t now_ns, uint8_t mac[6],
	      int *request)
{
	if (request != NULL)
		*request = 0;
	if (e == NULL) {
		count(a, RG_ARP_CTR_no_entry);
		return 0;
	}
	if (step(a, e, now_ns, mac, request))
		return 1;
	count(a, RG_ARP_CTR_lookup_unresolved);
	return 0;
}

int
rg_arp_resolve(struct rg_arp *a, uint32_t ip, uint64_t now_ns, uint8_t mac[6], int *request)
{
	return resolve_entry(a, find(a, ip), now_ns, mac, request);
}

int
rg_arp_resolve_dst(struct rg_arp *a, uint32_t dst_ip, uint64_t now_ns, uint8_t mac[6],
		   uint32_t *request_ip)
{
	struct rg_arp_entry *e = find(a, dst_ip);
	int req = 0, ok;

	if (request_ip != NULL)
		*request_ip = 0;
	if (e == NULL) {
		uint32_t hop = rg_arp_next_hop(a, dst_ip);

		if (hop == 0) {
			count(a, RG_ARP_CTR_no_route);
			return 0;
		}
		e = find(a, hop);
	}
	ok = resolve_entry(a, e, now_ns, mac, request_ip != NULL ? &req : NULL);
	if (req)
		*request_ip = e->ip;
	return ok;
}

unsigned
rg_arp_poll(struct rg_arp *a, uint64_t now_ns, uint32_t *ips, unsigned max)
{
	unsigned k = 0;

	for (unsigned i = 0; i < a->n; i++) { /* Bounded: n <= RG_ARP_ENTRIES_MAX */
		uint8_t mac[6];
		int req = 0;

		step(a, &a->e[i], now_ns, mac, k < max ? &req : NULL);
		if (req)
			ips[k++] = a->e[i].ip;
	}
	return k;
}

/* ---- frames: parse, learn, build (any thread) ---- */

int
rg_arp_is_arp(const uint8_t *frame, size_t len)
{
	return len >= 14 && frame[12] == (RG_ARP_ETHERTYPE >> 8) &&
	       frame[13] == (RG_ARP_ETHERTYPE & 0xff);
}

/* Copies the frame's first 42 bytes into f; RG_ARP_CTR_MAX when well-formed, else the reason. */
static enum rg_arp_counter
parse(const uint8_t *frame, size_t len, struct rg_arp_frame *f)
{
	uint16_t op;

	if (len >= 14 && !rg_arp_is_arp(frame, len))
		return RG_ARP_CTR_malformed_not_arp;
	if (len < RG_ARP_MIN_BYTES)
		return RG_ARP_CTR_malformed_short;
	memcpy(f, frame, sizeof(*f));
	op = be16(f->arp.op);
	if (be16(f->arp.htype) != 1)
		return RG_ARP_CTR_malformed_htype;
	if (be16(f->arp.ptype) != 0x0800)
		return RG_ARP_CTR_malformed_ptype;
	if (f->arp.hlen != 6)
		return RG_ARP_CTR_malformed_hlen;
	if (f->arp.plen != 4)
		return RG_ARP_CTR_malformed_plen;
	if (op != RG_ARP_OP_REQUEST && op != RG_ARP_OP_REPLY)
		return RG_ARP_CTR_malformed_op;
	if (!mac_unicast(f->arp.sha))
		return RG_ARP_CTR_malformed_sender;
	return RG_ARP_CTR_MAX;
}

/* RFC 826 merge into an existing entry: it is REACHABLE with mac as of now_ns (a pin is kept). */
static void
learn(struct rg_arp *a, struct rg_arp_entry *e, const uint8_t mac[6], uint64_t now_ns)
{
	uint64_t bits = mac_bits(mac), old;
	enum rg_arp_state was;

	if (e->pinned) {
		if ((e->word & WORD_MAC_MASK) != bits)
			count(a, RG_ARP_CTR_static_mismatch);
		return;
	}
	__atomic_store_n(&e->confirmed_ns, now_ns, __ATOMIC_RELAXED);             /* W3 */
	old = __atomic_exchange_n(&e->word, word_make(bits, RG_ARP_REACHABLE, 0), /* W1 */
				  __ATOMIC_RELAXED);
	was = word_state(old);
	if (was == RG_ARP_INCOMPLETE || was == RG_ARP_FAILED) {
		count(a, RG_ARP_CTR_resolved);
		return;
	}
	count(a, RG_ARP_CTR_refreshed);
	if ((old & WORD_MAC_MASK) != bits)
		count(a, RG_ARP_CTR_mac_changed);
}

/* A 60-byte frame from us: Ethernet to eth_dst, ARP op with target (tha, tpa). */
static size_t
build(struct rg_arp *a, uint16_t op, const uint8_t *eth_dst, const uint8_t *tha, uint32_t tpa,
      uint8_t *out, size_t cap, enum rg_arp_counter c)
{
	struct rg_arp_frame f;

	if (out == NULL || cap < RG_ARP_FRAME_BYTES) {
		count(a, RG_ARP_CTR_out_short);
		return 0;
	}
	memcpy(f.dst, eth_dst, 6);
	memcpy(f.src, a->cfg.mac, 6);
	f.ethertype = be16(RG_ARP_ETHERTYPE);
	f.arp.htype = be16(1);
	f.arp.ptype = be16(0x0800);
	f.arp.hlen = 6;
	f.arp.plen = 4;
	f.arp.op = be16(op);
	memcpy(f.arp.sha, a->cfg.mac, 6);
	f.arp.spa = be32(a->cfg.ip);
	memcpy(f.arp.tha, tha, 6);
	f.arp.tpa = be32(tpa);
	memcpy(out, &f, sizeof(f));
	memset(out + sizeof(f), 0, RG_ARP_FRAME_BYTES - sizeof(f));
	count(a, c);
	return RG_ARP_FRAME_BYTES;
}

size_t
rg_arp_input(struct rg_arp *a, const uint8_t *frame, size_t len, uint64_t now_ns, uint8_t *out,
	     size_t cap)
{
	struct rg_arp_frame f;
	enum rg_arp_counter bad = parse(frame, len, &f);
	uint32_t spa, tpa;
	uint16_t op;

	count(a, RG_ARP_CTR_rx);
	if (bad != RG_ARP_CTR_MAX) {
		count(a, bad);
		return 0;
	}
	op = be16(f.arp.op);
	spa = be32(f.arp.spa);
	tpa = be32(f.arp.tpa);
	count(a, op == RG_ARP_OP_REQUEST ? RG_ARP_CTR_requests_rx : RG_ARP_CTR_replies_rx);
	if (memcmp(f.dst, mac_broadcast, 6) != 0 && memcmp(f.dst, a->cfg.mac, 6) != 0) {
		count(a, RG_ARP_CTR_not_for_us); /* a promiscuous port's view of another host */
		return 0;
	}
	if (spa == a->cfg.ip) {
		count(a, memcmp(f.arp.sha, a->cfg.mac, 6) != 0 ? RG_ARP_CTR_conflicts
							       : RG_ARP_CTR_not_for_us);
		return 0;
	}
	if (spa != 0) { /* 0: an RFC 5227 probe, nothing to learn */
		struct rg_arp_entry *e = find(a, spa);

		if (e != NULL)
			learn(a, e, f.arp.sha, now_ns);
		else
			count(a, RG_ARP_CTR_untracked);
	}
	if (tpa != a->cfg.ip) {
		count(a, RG_ARP_CTR_not_for_us);
		return 0;
	}
	if (op != RG_ARP_OP_REQUEST)
		return 0; /* a reply to us: learnt above */
	return build(a, RG_ARP_OP_REPLY, f.arp.sha, f.arp.sha, spa, out, cap,
		     RG_ARP_CTR_replies_tx);
}

size_t
rg_arp_build_request(struct rg_arp *a, uint32_t target_ip, uint8_t *out, size_t cap)
{
	return build(a, RG_ARP_OP_REQUEST, mac_broadcast, mac_zero, target_ip, out, cap,
		     RG_ARP_CTR_requests_tx);
}

size_t
rg_arp_build_announce(struct rg_arp *a, uint8_t *out, size_t cap)
{
	return build(a, RG_ARP_OP_REQUEST, mac_broadcast, mac_zero, a->cfg.ip, out, cap,
		     RG_ARP_CTR_announces_tx);
}

/* ---- views: stats, entries, invariants ---- */

void
rg_arp_stats(const struct rg_arp *a, struct rg_arp_stats *out)
{
	for (unsigned c = 0; c < RG_ARP_CTR_MAX; c++) /* Bounded: the counter list */
		out->ctr[c] = load(&a->ctr[c]);
}

uint64_t
rg_arp_stats_malformed(const struct rg_arp_stats *s)
{
	uint64_t sum = 0;

	for (unsigned c = RG_ARP_CTR_malformed_short; c <= RG_ARP_CTR_malformed_sender; c++)
		sum += s->ctr[c];
	return sum;
}

unsigned
rg_arp_entries(const struct rg_arp *a)
{
	return a->n;
}

int
rg_arp_entry_info(const struct rg_arp *a, unsigned idx, uint64_t now_ns,
		  struct rg_arp_entry_info *out)
{
	const struct rg_arp_entry *e;
	uint64_t w;

	if (idx >= a->n)
		return -ENOENT;
	e = &a->e[idx];
	w = load(&e->word);
	memset(out, 0, sizeof(*out));
	out->ip = e->ip;
	bits_mac(w, out->mac);
	out->state = word_state(w);
	out->state_name = rg_arp_state_name(out->state);
	out->tries = word_tries(w);
	out->confirmed_ns = load(&e->confirmed_ns);
	out->age_ns =
	    out->confirmed_ns == RG_NS_NEVER ? RG_NS_NEVER : elapsed(now_ns, out->confirmed_ns);
	out->asked_ns = load(&e->asked_ns);
	return 0;
}

/* Invariants 2-5 for entry i. */
static int
entry_ok(const struct rg_arp *a, unsigned i)
{
	const struct rg_arp_entry *e = &a->e[i];
	uint64_t w = load(&e->word);
	enum rg_arp_state s = word_state(w);
	unsigned tries = word_tries(w);
	uint8_t mac[6];

	if (!ip_host(e->ip) || e->ip == a->cfg.ip || (!e->pinned && !on_link(a, e->ip)))
		return 0;
	for (unsigned j = 0; j < i; j++) /* Bounded: n <= RG_ARP_ENTRIES_MAX */
		if (a->e[j].ip == e->ip)
			return 0;
	if (s >= RG_ARP_STATE_MAX || e->pinned > 1 || e->pinned != (s == RG_ARP_STATIC))
		return 0;
	bits_mac(w, mac);
	if (state_usable(s) ? !mac_unicast(mac) : (w & WORD_MAC_MASK) != 0)
		return 0;
	if ((s == RG_ARP_REACHABLE || s == RG_ARP_STALE) && load(&e->confirmed_ns) == RG_NS_NEVER)
		return 0;
	if (tries > a->cfg.retries_max)
		return 0;
	return tries == 0 || s == RG_ARP_INCOMPLETE || s == RG_ARP_STALE;
}

/* Invariant 6. */
static int
counters_ok(const struct rg_arp *a)
{
	struct rg_arp_stats s;
	const uint64_t *c = s.ctr;

	rg_arp_stats(a, &s);
	return c[RG_ARP_CTR_rx] == c[RG_ARP_CTR_requests_rx] + c[RG_ARP_CTR_replies_rx] +
				       rg_arp_stats_malformed(&s) &&
	       c[RG_ARP_CTR_replies_tx] <= c[RG_ARP_CTR_requests_rx] &&
	       c[RG_ARP_CTR_retried] <= c[RG_ARP_CTR_timeouts] &&
	       c[RG_ARP_CTR_timeouts] * a->cfg.retries_max <= c[RG_ARP_CTR_requests_due];
}

int
rg_arp_check(const struct rg_arp *a)
{
	static const struct rg_arp_entry zero;

	if (rg_arp_config_check(&a->cfg, NULL, 0) != 0 || a->n > RG_ARP_ENTRIES_MAX ||
	    a->mask != prefix_mask(a->cfg.prefix_len))
		return -1;
	for (unsigned i = a->n; i < RG_ARP_ENTRIES_MAX; i++) /* Bounded: the table */
		if (memcmp(&a->e[i], &zero, sizeof(zero)) != 0)
			return -1;
	for (unsigned i = 0; i < a->n; i++) /* Bounded: n <= RG_ARP_ENTRIES_MAX */
		if (!entry_ok(a, i))
			return -1;
	return counters_ok(a) ? 0 : -1;
}
