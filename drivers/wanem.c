/* SPDX-License-Identifier: Apache-2.0 */
/* WAN emulator shim: the design, the fault order and the invariants are in wanem.h. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "wanem.h"

_Static_assert(sizeof(struct rg_wanem_slot) == 32, "two slots per cache line");
_Static_assert(offsetof(struct rg_wanem, partition) % RG_CACHE_LINE == 0,
	       "the partition flag sits alone on its cache line");

static const char *const counter_names[RG_WANEM_CTR_MAX] = {
#define RG_X(name) [RG_WANEM_CTR_##name] = #name,
	RG_WANEM_COUNTERS(RG_X)
#undef RG_X
};

const char *
rg_wanem_counter_name(enum rg_wanem_counter c)
{
	return (unsigned)c < RG_WANEM_CTR_MAX ? counter_names[c] : "?";
}

/* ---- configuration (slow path) ---- */

void
rg_wanem_config_default(struct rg_wanem_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->queue_pkts_max = 4096;
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

/* Written so that NaN fails too. */
static int
is_prob(double p)
{
	return p >= 0.0 && p <= 1.0;
}

int
rg_wanem_config_check(const struct rg_wanem_config *cfg, char *err, size_t errlen)
{
	const struct {
		const char *name;
		double p;
	} probs[] = {
		{ "loss", cfg->loss },
		{ "burst_enter", cfg->burst_enter },
		{ "burst_exit", cfg->burst_exit },
		{ "burst_loss", cfg->burst_loss },
		{ "dup", cfg->dup },
		{ "reorder", cfg->reorder },
		{ "corrupt", cfg->corrupt },
	};
	int burst_on = cfg->burst_enter > 0 || cfg->burst_loss > 0;

	for (size_t i = 0; i < RG_ARRAY_SIZE(probs); i++)
		if (!is_prob(probs[i].p))
			return fail(err, errlen, "%s: %g is not a probability in [0, 1]",
				    probs[i].name, probs[i].p);
	/* A bad state that is never entered, never left, or loses nothing is a mistake. */
	if (burst_on && (cfg->burst_enter <= 0 || cfg->burst_exit <= 0 || cfg->burst_loss <= 0))
		return fail(err, errlen,
			    "burst_enter, burst_exit, burst_loss: all > 0 or burst_enter = "
			    "burst_loss = 0 (got %g, %g, %g)",
			    cfg->burst_enter, cfg->burst_exit, cfg->burst_loss);
	if (cfg->delay_ns > RG_WANEM_TIME_NS_MAX || cfg->jitter_ns > RG_WANEM_TIME_NS_MAX ||
	    cfg->reorder_ns > RG_WANEM_TIME_NS_MAX)
		return fail(err, errlen, "delay_ns, jitter_ns, reorder_ns: at most %llu ns",
			    (unsigned long long)RG_WANEM_TIME_NS_MAX);
	if (cfg->reorder > 0 && cfg->reorder_ns == 0)
		return fail(err, errlen, "reorder_ns: must be > 0 when reorder is %g",
			    cfg->reorder);
	if (cfg->queue_pkts_max == 0 || cfg->queue_pkts_max > RG_WANEM_QUEUE_PKTS_MAX)
		return fail(err, errlen, "queue_pkts_max: %u not in [1, %u]", cfg->queue_pkts_max,
			    RG_WANEM_QUEUE_PKTS_MAX);
	if (cfg->rate_bytes_per_s > RG_WANEM_RATE_MAX)
		return fail(err, errlen, "rate_bytes_per_s: %llu above %llu",
			    (unsigned long long)cfg->rate_bytes_per_s,
			    (unsigned long long)RG_WANEM_RATE_MAX);
	if (cfg->queue_bytes_max > RG_WANEM_QUEUE_BYTES_MAX)
		return fail(err, errlen, "queue_bytes_max: %llu above %llu",
			    (unsigned long long)cfg->queue_bytes_max,
			    (unsigned long long)RG_WANEM_QUEUE_BYTES_MAX);
	/* Without a rate nothing waits for the wire: a byte limit there is a mistake. */
	if (cfg->queue_bytes_max > 0 && cfg->rate_bytes_per_s == 0)
		return fail(err, errlen, "queue_bytes_max: %llu needs rate_bytes_per_s > 0",
			    (unsigned long long)cfg->queue_bytes_max);
	return 0;
}

int
rg_wanem_init(struct rg_wanem *em, const struct rg_wanem_config *cfg,
	      const struct rg_wanem_ops *ops, const struct rg_mem *mem)
{
	memset(em, 0, sizeof(*em));
	if (rg_wanem_config_check(cfg, NULL, 0) != 0 || ops == NULL || ops->drop == NULL ||
	    ops->bytes == NULL)
		return -EINVAL;
	em->heap = rg_mem_alloc(mem, sizeof(em->heap[0]) * cfg->queue_pkts_max);
	if (em->heap == NULL)
		return -ENOMEM;
	em->cfg = *cfg;
	em->ops = *ops;
	em->cap = cfg->queue_pkts_max;
	em->held_max = cfg->queue_pkts_max;
	em->rng = cfg->seed;
	return 0;
}

void
rg_wanem_fini(struct rg_wanem *em, const struct rg_mem *mem)
{
	for (uint32_t i = 0; i < em->held; i++) /* bounded by held <= cap */
		em->ops.drop(em->ops.ctx, em->heap[i].pkt);
	em->held = 0;
	rg_mem_free(mem, em->heap);
	em->heap = NULL;
}

void
rg_wanem_set_config(struct rg_wanem *em, const struct rg_wanem_config *cfg)
{
	RG_ASSERT(rg_wanem_config_check(cfg, NULL, 0) == 0);
	if (cfg->seed != em->cfg.seed)
		em->rng = cfg->seed;
	if (cfg->rate_bytes_per_s != em->cfg.rate_bytes_per_s)
		em->wire_frac = 0;
	if (cfg->burst_enter <= 0)
		em->ge_bad = 0;
	em->cfg = *cfg;
	em->held_max = RG_MIN(cfg->queue_pkts_max, em->cap);
}

void
rg_wanem_set_partition(struct rg_wanem *em, int on)
{
	__atomic_store_n(&em->partition, on != 0, __ATOMIC_RELAXED); /* P0 */
}

int
rg_wanem_partitioned(const struct rg_wanem *em)
{
	return __atomic_load_n(&em->partition, __ATOMIC_RELAXED); /* P1, pairs with P0 */
}

void
rg_wanem_stats(const struct rg_wanem *em, struct rg_wanem_stats *out)
{
	*out = em->stats;
}

/* ---- the holding heap, keyed by (release_ns, seq) ---- */

static int
slot_before(const struct rg_wanem_slot *a, const struct rg_wanem_slot *b)
{
	return a->release_ns < b->release_ns || (a->release_ns == b->release_ns && a->seq < b->seq);
}

static void
heap_push(struct rg_wanem *em, uint64_t release_ns, void *pkt, uint32_t len)
{
	struct rg_wanem_slot *h = em->heap, s = {
		.release_ns = release_ns, .seq = em->seq++, .pkt = pkt, .len = len
	};
	uint32_t i = em->held++;

	RG_DEBUG_ASSERT(em->held <= em->held_max);
	while (i > 0) { /* bounded by the heap's depth, log2(cap) */
		uint32_t p = (i - 1) / 2;

		if (!slot_before(&s, &h[p]))
			break;
		h[i] = h[p];
		i = p;
	}
	h[i] = s;
}

/* Removes the root; the caller has read it. */
static void
heap_pop(struct rg_wanem *em)
{
	struct rg_wanem_slot *h = em->heap, last;
	uint32_t n = --em->held, i = 0;

	if (n == 0)
		return;
	last = h[n];
	for (;;) { /* bounded by the heap's depth, log2(cap) */
		uint32_t l = 2 * i + 1, m;

		if (l >= n)
			break;
		m = l + 1 < n && slot_before(&h[l + 1], &h[l]) ? l + 1 : l;
		if (!slot_before(&h[m], &last))
			break;
		h[i] = h[m];
		i = m;
	}
	h[i] = last;
}

/* ---- fault decisions (fast path) ---- */

static uint64_t
draw(struct rg_wanem *em)
{
	return rg_splitmix64(&em->rng);
}

/* Uniform in [0, x]; x <= RG_WANEM_TIME_NS_MAX, so the modulo bias is below 2^-22. */
static uint64_t
draw_upto(struct rg_wanem *em, uint64_t x)
{
	return x == 0 ? 0 : draw(em) % (x + 1);
}

/* 1 with probability p; p <= 0 draws nothing, so faults that are off cost no randomness. */
static int
chance(struct rg_wanem *em, double p)
{
	return p > 0 && (double)(draw(em) >> 11) * 0x1p-53 < p;
}

/* Steps the Gilbert–Elliott link state once; returns 1 if this packet is lost in it. */
static int
burst_lost(struct rg_wanem *em)
{
	const struct rg_wanem_config *c = &em->cfg;

	if (c->burst_enter <= 0)
		return 0;
	if (em->ge_bad) {
		em->ge_bad = !chance(em, c->burst_exit);
	} else if (chance(em, c->burst_enter)) {
		em->ge_bad = 1;
		em->stats.ctr[RG_WANEM_CTR_burst_entered]++;
	}
	return em->ge_bad && chance(em, c->burst_loss);
}

uint64_t
rg_wanem_queue_bytes(const struct rg_wanem *em, uint64_t now_ns)
{
	uint64_t rate = em->cfg.rate_bytes_per_s;
	unsigned __int128 bns; /* byte·ns: < 2^64 · 2^40 */

	if (rate == 0 || em->wire_free_ns <= now_ns)
		return 0;
	bns = (unsigned __int128)(em->wire_free_ns - now_ns) * rate + em->wire_frac;
	if (bns >> 64 == 0) /* the usual case: a 64-bit division */
		return (uint64_t)bns / RG_NS_PER_S;
	bns /= RG_NS_PER_S;
	return bns >> 64 == 0 ? (uint64_t)bns : UINT64_MAX;
}

/* Step 4's byte limit: 1 if len more bytes would take the backlog past queue_bytes_max. */
static int
over_queue_bytes(const struct rg_wanem *em, uint32_t len, uint64_t now_ns)
{
	uint64_t max = em->cfg.queue_bytes_max;

	return max > 0 && (len > max || rg_wanem_queue_bytes(em, now_ns) > max - len);
}

/* Steps 2-4 of the fault order: the drop reason, or RG_WANEM_CTR_MAX to keep the packet. */
static enum rg_wanem_counter
drop_reason(struct rg_wanem *em, uint32_t len, uint64_t now_ns)
{
	int lost = chance(em, em->cfg.loss);
	int burst = burst_lost(em); /* the link steps for every packet that reaches it */

	if (lost)
		return RG_WANEM_CTR_drop_loss;
	if (burst)
		return RG_WANEM_CTR_drop_burst;
	if (em->held >= em->held_max)
		return RG_WANEM_CTR_drop_queue_full;
	if (over_queue_bytes(em, len, now_ns))
		return RG_WANEM_CTR_drop_queue_bytes;
	return RG_WANEM_CTR_MAX;
}

/* 1..3 flips at distinct bits of data[skip, len); nothing if there is no such byte. */
static void
corrupt(struct rg_wanem *em, uint8_t *data, uint32_t len)
{
	uint32_t skip = em->cfg.corrupt_skip, flips, done = 0;
	uint64_t nbits, pos[3];

	if (data == NULL || len <= skip)
		return;
	nbits = (uint64_t)(len - skip) * 8;
	flips = 1 + (uint32_t)(draw(em) % 3);
	/* At least 8 bits to choose from: a repeat is rare, 8 tries bound the loop. */
	for (uint32_t tries = 0; done < flips && tries < 8; tries++) {
		uint64_t p = draw(em) % nbits;

		if ((done > 0 && pos[0] == p) || (done > 1 && pos[1] == p))
			continue;
		pos[done++] = p;
		data[skip + p / 8] ^= (uint8_t)(1u << (p % 8));
	}
	em->stats.ctr[RG_WANEM_CTR_corrupted]++;
}

/* Step 6: a copy, if one can be made and held next to its original. */
static void *
duplicate(struct rg_wanem *em, void *pkt)
{
	void *copy = NULL;

	if (em->held + 2 <= em->held_max && em->ops.copy != NULL)
		copy = em->ops.copy(em->ops.ctx, pkt);
	em->stats.ctr[copy != NULL ? RG_WANEM_CTR_duplicated : RG_WANEM_CTR_dup_failed]++;
	return copy;
}

/* When the wire has serialized len bytes handed to it at now_ns (exact: the remainder is kept). */
static uint64_t
wire_depart(struct rg_wanem *em, uint32_t len, uint64_t now_ns)
{
	uint64_t rate = em->cfg.rate_bytes_per_s, t;

	if (rate == 0)
		return now_ns;
	if (em->wire_free_ns > now_ns) {
		em->stats.ctr[RG_WANEM_CTR_rate_delayed]++;
	} else {
		em->wire_free_ns = now_ns;
		em->wire_frac = 0;
	}
	t = (uint64_t)len * RG_NS_PER_S + em->wire_frac; /* < 2^32 · 1e9 + 1e12 < 2^64 */
	em->wire_free_ns += t / rate;
	em->wire_frac = t % rate;
	return em->wire_free_ns;
}

/* Step 8 after the wire: delay and jitter; a FIFO packet never overtakes the one before. */
static uint64_t
release_at(struct rg_wanem *em, uint64_t depart_ns, uint64_t extra_ns, int fifo)
{
	uint64_t j = draw_upto(em, em->cfg.jitter_ns),
		 t = depart_ns + em->cfg.delay_ns + j + extra_ns;

	em->stats.ctr[RG_WANEM_CTR_jittered] += j > 0;
	if (!fifo)
		return t;
	t = RG_MAX(t, em->fifo_last_ns);
	em->fifo_last_ns = t;
	return t;
}

/* Steps 5-8 for a packet that will be held; the caller checked there is room for it. */
static void
admit(struct rg_wanem *em, void *pkt, uint8_t *data, uint32_t len, uint64_t now_ns)
{
	const struct rg_wanem_config *c = &em->cfg;
	uint64_t extra_ns = 0, depart_ns;
	void *copy = NULL;
	int fifo = 1;

	if (chance(em, c->corrupt))
		corrupt(em, data, len);
	if (chance(em, c->dup))
		copy = duplicate(em, pkt);
	if (chance(em, c->reorder)) {
		fifo = 0;
		extra_ns = draw_upto(em, c->reorder_ns);
		em->stats.ctr[RG_WANEM_CTR_reordered]++;
	}
	depart_ns = wire_depart(em, len, now_ns);
	if (c->rate_bytes_per_s > 0)
		em->queue_peak_bytes =
		    RG_MAX(em->queue_peak_bytes, rg_wanem_queue_bytes(em, now_ns));
	heap_push(em, release_at(em, depart_ns, extra_ns, fifo), pkt, len);
	if (copy != NULL)
		heap_push(em, release_at(em, depart_ns, 0, 1), copy, len); /* step 8, in FIFO */
}

uint32_t
rg_wanem_enqueue(struct rg_wanem *em, void **pkts, uint32_t n, uint64_t now_ns)
{
	int cut = rg_wanem_partitioned(em); /* once per burst: a burst is all cut or not */
	uint64_t bytes = 0;
	uint32_t accepted = 0;

	for (uint32_t i = 0; i < n; i++) { /* bounded by n */
		enum rg_wanem_counter why;
		uint32_t len = 0;
		uint8_t *data = em->ops.bytes(em->ops.ctx, pkts[i], &len);

		bytes += len;
		why = cut ? RG_WANEM_CTR_drop_partition : drop_reason(em, len, now_ns);
		if (why != RG_WANEM_CTR_MAX) {
			em->stats.ctr[why]++;
			em->ops.drop(em->ops.ctx, pkts[i]);
			continue;
		}
		admit(em, pkts[i], data, len, now_ns);
		accepted++;
	}
	em->stats.ctr[RG_WANEM_CTR_in_pkts] += n;
	em->stats.ctr[RG_WANEM_CTR_in_bytes] += bytes;
	return accepted;
}

uint32_t
rg_wanem_dequeue(struct rg_wanem *em, void **out, uint32_t max, uint64_t now_ns)
{
	uint64_t bytes = 0;
	uint32_t n = 0;

	while (n < max && em->held > 0 && em->heap[0].release_ns <= now_ns) { /* bounded by max */
		out[n++] = em->heap[0].pkt;
		bytes += em->heap[0].len;
		heap_pop(em);
	}
	em->stats.ctr[RG_WANEM_CTR_out_pkts] += n;
	em->stats.ctr[RG_WANEM_CTR_out_bytes] += bytes;
	return n;
}

int
rg_wanem_check(const struct rg_wanem *em)
{
	const uint64_t *c = em->stats.ctr;
	uint64_t gone;

	if (em->held > em->cap || em->held_max > em->cap)
		return -1;
	for (uint32_t i = 1; i < em->held; i++) /* bounded by held */
		if (slot_before(&em->heap[i], &em->heap[(i - 1) / 2]))
			return -1;
	gone = c[RG_WANEM_CTR_out_pkts] + c[RG_WANEM_CTR_drop_loss] + c[RG_WANEM_CTR_drop_burst] +
	       c[RG_WANEM_CTR_drop_partition] + c[RG_WANEM_CTR_drop_queue_full] +
	       c[RG_WANEM_CTR_drop_queue_bytes];
	if (c[RG_WANEM_CTR_in_pkts] + c[RG_WANEM_CTR_duplicated] != gone + em->held)
		return -1;
	if (em->cfg.rate_bytes_per_s > 0 && em->wire_frac >= em->cfg.rate_bytes_per_s)
		return -1;
	return 0;
}
