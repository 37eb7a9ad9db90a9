/* SPDX-License-Identifier: Apache-2.0 */
/*
 * WAN emulator shim: every fault with literal timestamps and fixed seeds.
 * Packets are the tests' own structs (struct tpkt), allocated one by one so
 * that ASan sees any use after the emulator freed or handed one back; every
 * test ends with no packet alive (tenv_fini) and rg_wanem_check() runs after
 * every enqueue. Statistical tests assert both a wide band around the
 * configured rate and the exact count the fixed seed gives (the run is
 * deterministic: a change in the exact count means the RNG draws changed).
 *
 * RG_WANEM_BENCH=1 ./test_wanem prints the enqueue + dequeue cost per packet
 * (wanem.h quotes it) and skips the tests.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "wanem.h"

#define TPKT_MAGIC 0x57414e45u
#define BURST      32

struct tpkt {
	uint32_t magic;
	uint32_t id;
	uint32_t len;
	uint8_t is_copy;
	uint8_t data[];
};

struct tctx {
	uint32_t live;  /* allocated and not freed */
	uint32_t drops; /* ops->drop calls */
	uint32_t copies;
	int copy_fail; /* ops->copy returns NULL */
};

static uint8_t
pattern(uint32_t id, uint32_t i)
{
	return (uint8_t)(id * 7u + i * 13u + 1u);
}

static struct tpkt *
tpkt_new(struct tctx *c, uint32_t id, uint32_t len)
{
	struct tpkt *p = malloc(sizeof(*p) + len);

	assert_non_null(p);
	p->magic = TPKT_MAGIC;
	p->id = id;
	p->len = len;
	p->is_copy = 0;
	for (uint32_t i = 0; i < len; i++)
		p->data[i] = pattern(id, i);
	c->live++;
	return p;
}

static void
tpkt_free(struct tctx *c, struct tpkt *p)
{
	assert_int_equal(p->magic, TPKT_MAGIC);
	assert_true(c->live > 0);
	p->magic = 0;
	free(p);
	c->live--;
}

static void *
t_copy(void *ctx, void *pkt)
{
	struct tctx *c = ctx;
	struct tpkt *p = pkt, *d;

	assert_int_equal(p->magic, TPKT_MAGIC);
	if (c->copy_fail)
		return NULL;
	d = tpkt_new(c, p->id, p->len);
	memcpy(d->data, p->data, p->len);
	d->is_copy = 1;
	c->copies++;
	return d;
}

static void
t_drop(void *ctx, void *pkt)
{
	struct tctx *c = ctx;

	c->drops++;
	tpkt_free(c, pkt);
}

static uint8_t *
t_bytes(void *ctx, void *pkt, uint32_t *len)
{
	struct tpkt *p = pkt;

	(void)ctx;
	assert_int_equal(p->magic, TPKT_MAGIC);
	*len = p->len;
	return p->data;
}

struct tenv {
	struct rg_wanem em;
	struct tctx ctx;
	struct rg_wanem_ops ops;
};

static void
tenv_init(struct tenv *e, const struct rg_wanem_config *cfg)
{
	memset(&e->ctx, 0, sizeof(e->ctx));
	e->ops = (struct rg_wanem_ops){
		.copy = t_copy, .drop = t_drop, .bytes = t_bytes, .ctx = &e->ctx
	};
	assert_int_equal(rg_wanem_init(&e->em, cfg, &e->ops, rg_mem_default()), 0);
	assert_int_equal(rg_wanem_check(&e->em), 0);
}

/* Frees what is held through fini; no packet may be left alive. */
static void
tenv_fini(struct tenv *e)
{
	assert_int_equal(rg_wanem_check(&e->em), 0);
	rg_wanem_fini(&e->em, rg_mem_default());
	assert_int_equal(rg_wanem_held(&e->em), 0);
	assert_int_equal(e->ctx.live, 0);
}

static uint64_t
ctr(const struct tenv *e, enum rg_wanem_counter c)
{
	struct rg_wanem_stats s;

	rg_wanem_stats(&e->em, &s);
	return s.ctr[c];
}

/* Offers n (<= 256) packets with ids first.. of len bytes at now_ns; returns the accepted count. */
static uint32_t
offer(struct tenv *e, uint32_t first, uint32_t n, uint32_t len, uint64_t now_ns)
{
	void *pkts[256];
	uint32_t acc;

	assert_true(n <= 256);
	for (uint32_t i = 0; i < n; i++)
		pkts[i] = tpkt_new(&e->ctx, first + i, len);
	acc = rg_wanem_enqueue(&e->em, pkts, n, now_ns);
	assert_true(acc <= n);
	assert_int_equal(rg_wanem_check(&e->em), 0);
	return acc;
}

/* What left, and when (the now_ns of the dequeue that returned it). */
struct rec {
	uint64_t t;
	uint32_t id;
	uint8_t copy;
};

/* Dequeues everything due at now_ns into out[*n..], frees it; returns how many left now. */
static uint32_t
drain_at(struct tenv *e, uint64_t now_ns, struct rec *out, uint32_t *n, uint32_t out_max)
{
	void *pkts[BURST];
	uint32_t got, total = 0;

	do {
		got = rg_wanem_dequeue(&e->em, pkts, BURST, now_ns);
		for (uint32_t i = 0; i < got; i++) {
			struct tpkt *p = pkts[i];

			if (out != NULL) {
				assert_true(*n < out_max);
				out[(*n)++] =
				    (struct rec){ .t = now_ns, .id = p->id, .copy = p->is_copy };
			}
			tpkt_free(&e->ctx, p);
		}
		total += got;
	} while (got == BURST);
	return total;
}

/* Steps time to each next_ns until nothing is held: out gets exact release times. */
static uint32_t
drain_all(struct tenv *e, struct rec *out, uint32_t *n, uint32_t out_max)
{
	uint32_t total = 0, steps = 0, bound = rg_wanem_held(&e->em);

	while (rg_wanem_held(&e->em) > 0) {
		uint64_t t = rg_wanem_next_ns(&e->em);

		assert_true(t != RG_NS_NEVER);
		assert_true(steps++ < bound); /* each step releases one packet at least */
		if (t > 0)
			assert_int_equal(drain_at(e, t - 1, out, n, out_max), 0);
		total += drain_at(e, t, out, n, out_max);
	}
	assert_int_equal(rg_wanem_next_ns(&e->em), RG_NS_NEVER);
	return total;
}

static struct rg_wanem_config
cfg_default(void)
{
	struct rg_wanem_config c;

	rg_wanem_config_default(&c);
	return c;
}

static void
test_wanem_config_check_rejects_bad_fields(void **state)
{
#define Q .queue_pkts_max = 4096
	const struct {
		const char *field;
		struct rg_wanem_config c;
	} cases[] = {
		{ "loss", { Q, .loss = -0.1 } },
		{ "loss", { Q, .loss = 1.5 } },
		{ "dup", { Q, .dup = NAN } },
		{ "corrupt", { Q, .corrupt = 2 } },
		{ "burst_exit", { Q, .burst_enter = 0.1, .burst_loss = 1 } },
		{ "burst_enter", { Q, .burst_loss = 0.5 } },
		{ "burst_loss", { Q, .burst_enter = 0.1, .burst_exit = 0.5 } },
		{ "reorder_ns", { Q, .reorder = 0.1 } },
		{ "queue_pkts_max", { .queue_pkts_max = 0 } },
		{ "queue_pkts_max", { .queue_pkts_max = RG_WANEM_QUEUE_PKTS_MAX + 1 } },
		{ "delay_ns", { Q, .delay_ns = RG_WANEM_TIME_NS_MAX + 1 } },
		{ "rate_bytes_per_s", { Q, .rate_bytes_per_s = RG_WANEM_RATE_MAX + 1 } },
		{ "queue_bytes_max", { Q, .queue_bytes_max = 1500 } }, /* no rate: nothing waits */
		{ "queue_bytes_max",
		  { Q, .rate_bytes_per_s = 1, .queue_bytes_max = RG_WANEM_QUEUE_BYTES_MAX + 1 } },
	};
	/* The limits themselves, a full Gilbert-Elliott set, and burst_exit alone are fine. */
	const struct rg_wanem_config ok[] = {
		{ Q },
		{ .queue_pkts_max = RG_WANEM_QUEUE_PKTS_MAX,
		  .loss = 1,
		  .burst_exit = 0.3,
		  .delay_ns = RG_WANEM_TIME_NS_MAX,
		  .rate_bytes_per_s = RG_WANEM_RATE_MAX,
		  .queue_bytes_max = RG_WANEM_QUEUE_BYTES_MAX },
		{ Q, .burst_enter = 0.01, .burst_exit = 1, .burst_loss = 1 },
	};
#undef Q
	struct rg_wanem_config def;
	unsigned checked = 0;
	char err[160];

	(void)state;
	for (unsigned i = 0; i < RG_ARRAY_SIZE(cases); i++) {
		err[0] = 0;
		assert_int_equal(rg_wanem_config_check(&cases[i].c, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, cases[i].field));
		assert_int_equal(rg_wanem_config_check(&cases[i].c, NULL, 0), -EINVAL);
		checked++;
	}
	for (unsigned i = 0; i < RG_ARRAY_SIZE(ok); i++) {
		assert_int_equal(rg_wanem_config_check(&ok[i], err, sizeof(err)), 0);
		checked++;
	}
	assert_int_equal(checked, 17);
	def = cfg_default(); /* the default is the first accepted config: a pass-through */
	assert_memory_equal(&ok[0], &def, sizeof(def));
}

static void *
null_alloc(void *ctx, size_t size)
{
	(void)ctx, (void)size;
	return NULL;
}

static void
test_wanem_init_rejects_bad_args(void **state)
{
	struct rg_wanem_config c = cfg_default();
	struct rg_wanem_ops ops = { .copy = t_copy, .drop = t_drop, .bytes = t_bytes, .ctx = NULL };
	struct rg_mem no_mem = *rg_mem_default();
	struct rg_wanem em;

	(void)state;
	no_mem.alloc = null_alloc;
	assert_int_equal(rg_wanem_init(&em, &c, &ops, &no_mem), -ENOMEM);
	rg_wanem_fini(&em, &no_mem);
	ops.drop = NULL;
	assert_int_equal(rg_wanem_init(&em, &c, &ops, rg_mem_default()), -EINVAL);
	ops.drop = t_drop, ops.bytes = NULL;
	assert_int_equal(rg_wanem_init(&em, &c, &ops, rg_mem_default()), -EINVAL);
	ops.bytes = t_bytes;
	c.loss = 2;
	assert_int_equal(rg_wanem_init(&em, &c, &ops, rg_mem_default()), -EINVAL);
	assert_int_equal(rg_wanem_held(&em), 0);
	rg_wanem_fini(&em, rg_mem_default());
	c.loss = 0, ops.copy = NULL; /* no copy op: allowed, duplication just fails */
	assert_int_equal(rg_wanem_init(&em, &c, &ops, rg_mem_default()), 0);
	assert_int_equal(rg_wanem_partitioned(&em), 0);
	assert_int_equal(rg_wanem_next_ns(&em), RG_NS_NEVER);
	rg_wanem_fini(&em, rg_mem_default());
}

static void
test_wanem_passthrough_keeps_order_and_bytes(void **state)
{
	struct rg_wanem_config c = cfg_default();
	struct tenv e;
	void *in[100], *out[128];
	uint32_t got, checked = 0;
	uint64_t bytes = 0;

	(void)state;
	tenv_init(&e, &c);
	for (uint32_t i = 0; i < 100; i++) {
		in[i] = tpkt_new(&e.ctx, i, 20 + i);
		bytes += 20 + i;
	}
	assert_int_equal(rg_wanem_enqueue(&e.em, in, 100, 1000), 100);
	assert_int_equal(rg_wanem_held(&e.em), 100);
	assert_int_equal(rg_wanem_next_ns(&e.em), 1000);
	assert_int_equal(rg_wanem_dequeue(&e.em, out, 128, 999), 0);
	got = rg_wanem_dequeue(&e.em, out, 128, 1000);
	assert_int_equal(got, 100);
	for (uint32_t i = 0; i < got; i++) {
		struct tpkt *p = out[i];

		assert_ptr_equal(out[i], in[i]); /* the same handles, in order */
		assert_int_equal(p->id, i);
		for (uint32_t b = 0; b < p->len; b++)
			assert_int_equal(p->data[b], pattern(i, b));
		tpkt_free(&e.ctx, p);
		checked++;
	}
	assert_int_equal(checked, 100);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_in_pkts), 100);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_out_pkts), 100);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_in_bytes), bytes);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_out_bytes), bytes);
	for (int k = RG_WANEM_CTR_drop_loss; k < RG_WANEM_CTR_MAX; k++)
		assert_int_equal(ctr(&e, k), 0);
	assert_int_equal(e.em.rng, c.seed); /* no randomness drawn when every fault is off */
	assert_int_equal(rg_wanem_next_ns(&e.em), RG_NS_NEVER);
	tenv_fini(&e);
}

static void
test_wanem_delay_exact_release_times(void **state)
{
	struct rg_wanem_config c = cfg_default();
	const uint64_t d = 50 * RG_NS_PER_MS;
	struct rec r[8];
	uint32_t n = 0;
	struct tenv e;

	(void)state;
	c.delay_ns = d;
	tenv_init(&e, &c);
	assert_int_equal(offer(&e, 0, 3, 64, 1), 3);
	assert_int_equal(offer(&e, 3, 2, 64, 5), 2);
	assert_int_equal(rg_wanem_next_ns(&e.em), 1 + d);
	assert_int_equal(drain_at(&e, d, r, &n, 8), 0);
	assert_int_equal(drain_at(&e, d + 1, r, &n, 8), 3);
	assert_int_equal(rg_wanem_next_ns(&e.em), 5 + d);
	assert_int_equal(drain_at(&e, d + 4, r, &n, 8), 0);
	assert_int_equal(drain_at(&e, d + 5, r, &n, 8), 2);
	assert_int_equal(n, 5);
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(r[i].id, i);
		assert_int_equal(r[i].t, (i < 3 ? 1 : 5) + d);
	}
	assert_int_equal(ctr(&e, RG_WANEM_CTR_jittered), 0);
	tenv_fini(&e);
}

static void
test_wanem_jitter_bounded_and_fifo(void **state)
{
	enum {
		N = 2000
	};
	const uint64_t d = 10 * RG_NS_PER_MS, j = 2 * RG_NS_PER_MS, gap = 500 * RG_NS_PER_US;
	struct rg_wanem_config c = cfg_default();
	static struct rec r[N];
	uint32_t n = 0, checked = 0, held_back = 0, above_half = 0;
	struct tenv e;

	(void)state;
	c.delay_ns = d, c.jitter_ns = j, c.seed = 11;
	tenv_init(&e, &c);
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(offer(&e, i, 1, 64, 1000 + i * gap), 1);
	assert_int_equal(drain_all(&e, r, &n, N), N);
	assert_int_equal(n, N);
	for (uint32_t i = 0; i < N; i++) {
		uint64_t sent = 1000 + i * gap;

		assert_int_equal(r[i].id, i); /* FIFO: enqueue order */
		/* Held back behind the one before it or not, never outside [d, d + j]: the one
		 * before was sent earlier, so its release is within this packet's bound too. */
		assert_true(r[i].t >= sent + d && r[i].t <= sent + d + j);
		if (i > 0) {
			assert_true(r[i].t >= r[i - 1].t);
			held_back += r[i].t == r[i - 1].t;
		}
		above_half += r[i].t > sent + d + j / 2;
		checked++;
	}
	assert_int_equal(checked, N);
	assert_true(held_back > N / 10 && held_back < N / 2); /* a 2 ms jitter at 500 µs gaps */
	assert_true(above_half > N / 4);                      /* the jitter spans its range */
	assert_true(ctr(&e, RG_WANEM_CTR_jittered) >= N - 2);
	tenv_fini(&e);
	/* Both ends of [0, jitter_ns] are drawn: with 1 ns, about half the packets get 1. */
	c = cfg_default();
	c.jitter_ns = 1, c.seed = 12;
	tenv_init(&e, &c);
	for (uint32_t i = 0; i < 100; i++) {
		assert_int_equal(offer(&e, i, 1, 64, 10 * i), 1);
		assert_int_equal(drain_at(&e, 10 * i + 1, NULL, NULL, 0), 1);
	}
	assert_true(ctr(&e, RG_WANEM_CTR_jittered) > 25 && ctr(&e, RG_WANEM_CTR_jittered) < 75);
	tenv_fini(&e);
}

/* Offers total packets in bursts at t = 1, 2, ... and frees everything each step. */
static uint32_t
run_stream(struct tenv *e, uint32_t total, uint32_t len, struct rec *out, uint32_t *n,
	   uint32_t out_max)
{
	uint32_t acc = 0;

	for (uint32_t i = 0; i < total; i += BURST) {
		uint64_t t = 1 + i / BURST;

		acc += offer(e, i, RG_MIN(BURST, total - i), len, t);
		drain_at(e, t, out, n, out_max);
	}
	return acc;
}

static void
test_wanem_loss_rate_matches_config(void **state)
{
	enum {
		N = 100000
	};
	struct rg_wanem_config c = cfg_default();
	static struct rec r[N];
	uint32_t n = 0, acc, lost;
	struct tenv e;

	(void)state;
	c.loss = 0.01, c.seed = 42;
	tenv_init(&e, &c);
	acc = run_stream(&e, N, 64, r, &n, N);
	lost = N - acc;
	assert_int_equal(n, acc);
	for (uint32_t i = 1; i < n; i++)
		assert_true(r[i].id > r[i - 1].id); /* loss alone never reorders */
	/* 1000 expected, σ ≈ 31.5: ±6σ, and the exact count seed 42 gives. */
	assert_true(lost > 810 && lost < 1190);
	assert_int_equal(lost, 1022);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_drop_loss), lost);
	assert_int_equal(e.ctx.drops, lost);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_in_pkts), N);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_drop_burst) + ctr(&e, RG_WANEM_CTR_drop_queue_full),
			 0);
	tenv_fini(&e);
}

static void
test_wanem_burst_loss_comes_in_bursts(void **state)
{
	enum {
		N = 100000
	};
	struct rg_wanem_config c = cfg_default();
	static struct rec r[N];
	uint32_t n = 0, runs = 0, lost = 0, prev = UINT32_MAX, longest = 0;
	struct tenv e;
	double mean;

	(void)state;
	/* Bad periods last 1 / 0.25 = 4 packets on average; in them every packet is lost. */
	c.burst_enter = 0.01, c.burst_exit = 0.25, c.burst_loss = 1, c.seed = 5;
	tenv_init(&e, &c);
	run_stream(&e, N, 64, r, &n, N);
	for (uint32_t i = 0; i <= n; i++) { /* gaps between delivered ids are the loss runs */
		uint32_t id = i < n ? r[i].id : N, gap = id - (prev + 1);

		if (gap > 0) {
			runs++;
			lost += gap;
			longest = RG_MAX(longest, gap);
		}
		prev = id;
	}
	assert_int_equal(lost, ctr(&e, RG_WANEM_CTR_drop_burst));
	/* A bad period is followed by a good packet, so each one is exactly one run. */
	assert_int_equal(runs, ctr(&e, RG_WANEM_CTR_burst_entered));
	mean = (double)lost / runs;
	assert_true(mean > 3.5 && mean < 4.5);
	assert_true(longest >= 10);
	/* Stationary P(bad) = 0.01 / 0.26 ≈ 3.85 %. */
	assert_true(lost > 3000 && lost < 4700);
	assert_int_equal(lost, 3944);
	assert_int_equal(runs, 972);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_drop_loss), 0);
	tenv_fini(&e);
}

static void
test_wanem_dup_makes_distinct_copies(void **state)
{
	enum {
		N = 10000
	};
	struct rg_wanem_config c = cfg_default();
	uint32_t pairs = 0, singles = 0;
	struct tenv e;

	(void)state;
	c.dup = 0.1, c.seed = 3;
	tenv_init(&e, &c);
	for (uint32_t i = 0; i < N; i++) {
		void *out[4];
		struct tpkt *a, *b;
		uint32_t got;

		assert_int_equal(offer(&e, i, 1, 48, 10 + i), 1);
		got = rg_wanem_dequeue(&e.em, out, 4, 10 + i); /* no delay: both leave at once */
		assert_true(got == 1 || got == 2);
		a = out[0];
		assert_int_equal(a->id, i);
		assert_false(a->is_copy); /* the original first: equal times keep enqueue order */
		if (got == 2) {
			b = out[1];
			assert_ptr_not_equal(a, b);
			assert_true(b->is_copy);
			assert_int_equal(b->id, i);
			assert_memory_equal(a->data, b->data, 48);
			tpkt_free(&e.ctx, b);
			pairs++;
		} else {
			singles++;
		}
		tpkt_free(&e.ctx, a);
	}
	assert_int_equal(pairs + singles, N);
	assert_int_equal(pairs, ctr(&e, RG_WANEM_CTR_duplicated));
	assert_int_equal(pairs, e.ctx.copies);
	assert_true(pairs > 850 && pairs < 1150); /* 1000 expected, σ = 30 */
	assert_int_equal(pairs, 986);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_out_pkts), N + pairs);
	/* No copy made (the op fails) or no room for it: counted, the original still goes. */
	c.dup = 1;
	rg_wanem_set_config(&e.em, &c);
	e.ctx.copy_fail = 1;
	assert_int_equal(offer(&e, N, 3, 48, 20000), 3);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_dup_failed), 3);
	assert_int_equal(drain_at(&e, 20000, NULL, NULL, 0), 3);
	e.ctx.copy_fail = 0;
	c.queue_pkts_max = 1;
	rg_wanem_set_config(&e.em, &c);
	assert_int_equal(offer(&e, N, 1, 48, 20001), 1);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_dup_failed), 4);
	assert_int_equal(rg_wanem_held(&e.em), 1);
	tenv_fini(&e);
}

/* Copies keep FIFO under jitter: each comes right after its original, nothing overtakes. */
static void
test_wanem_dup_copies_keep_fifo(void **state)
{
	enum {
		N = 2000
	};
	struct rg_wanem_config c = cfg_default();
	static struct rec r[2 * N];
	uint32_t n = 0, copies = 0;
	struct tenv e;

	(void)state;
	c.delay_ns = 10 * RG_NS_PER_MS, c.jitter_ns = 2 * RG_NS_PER_MS, c.dup = 0.2, c.seed = 21;
	tenv_init(&e, &c);
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(offer(&e, i, 1, 64, 1000 + i * 500 * RG_NS_PER_US), 1);
	drain_all(&e, r, &n, 2 * N);
	assert_int_equal(n, N + ctr(&e, RG_WANEM_CTR_duplicated));
	for (uint32_t i = 0; i < n; i++) {
		if (i > 0) {
			assert_true(r[i].t >= r[i - 1].t);
			assert_true(r[i].id >= r[i - 1].id); /* no copy or original overtakes */
		}
		if (r[i].copy) {
			assert_true(i > 0 && r[i - 1].id == r[i].id && !r[i - 1].copy);
			copies++;
		}
	}
	assert_true(copies > N / 10 && copies < N / 3); /* 400 expected */
	tenv_fini(&e);
}

static void
test_wanem_reorder_reorders_some(void **state)
{
	enum {
		N = 2000
	};
	const uint64_t gap = 10 * RG_NS_PER_US;
	struct rg_wanem_config c = cfg_default();
	static struct rec r[N];
	uint32_t n = 0, late = 0, max_id = 0;
	struct tenv e;

	(void)state;
	c.delay_ns = RG_NS_PER_MS, c.reorder = 0.05, c.reorder_ns = RG_NS_PER_MS, c.seed = 9;
	tenv_init(&e, &c);
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(offer(&e, i, 1, 64, i * gap), 1);
	assert_int_equal(drain_all(&e, r, &n, N), N);
	for (uint32_t i = 0; i < n; i++) {
		if (i > 0 && r[i].id < max_id)
			late++; /* left after a packet enqueued after it */
		max_id = RG_MAX(max_id, r[i].id);
	}
	assert_true(late > 0);
	assert_true(late <= ctr(&e, RG_WANEM_CTR_reordered));
	assert_true(ctr(&e, RG_WANEM_CTR_reordered) > 60 && ctr(&e, RG_WANEM_CTR_reordered) < 140);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_reordered), 103);
	assert_int_equal(late, 102);
	tenv_fini(&e);
}

/* Bits that differ between p and its pattern; all must lie at or past skip. */
static uint32_t
flipped_bits(const struct tpkt *p, uint32_t skip)
{
	uint32_t bits = 0;

	for (uint32_t b = 0; b < p->len; b++) {
		uint8_t x = p->data[b] ^ pattern(p->id, b);

		if (x != 0)
			assert_true(b >= skip);
		bits += (uint32_t)__builtin_popcount(x);
	}
	return bits;
}

static void
test_wanem_corrupt_flips_bits_past_skip(void **state)
{
	enum {
		N = 1000,
		SKIP = 42
	};
	struct rg_wanem_config c = cfg_default();
	uint32_t hist[4] = { 0 }, checked = 0;
	struct tenv e;
	void *out[BURST];

	(void)state;
	c.corrupt = 1, c.corrupt_skip = SKIP, c.seed = 17;
	tenv_init(&e, &c);
	for (uint32_t i = 0; i < N; i += BURST) {
		uint32_t k = RG_MIN(BURST, N - i), got;

		assert_int_equal(offer(&e, i, k, 100, i), k);
		got = rg_wanem_dequeue(&e.em, out, BURST, i);
		assert_int_equal(got, k);
		for (uint32_t j = 0; j < got; j++) {
			uint32_t bits = flipped_bits(out[j], SKIP);

			assert_true(bits >= 1 && bits <= 3);
			hist[bits]++;
			checked++;
			tpkt_free(&e.ctx, out[j]);
		}
	}
	assert_int_equal(checked, N);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_corrupted), N);
	assert_true(hist[1] > 200 && hist[2] > 200 && hist[3] > 200);
	/* One byte past the headers: 1..3 flips among 8 bits, each a distinct bit. */
	memset(hist, 0, sizeof(hist));
	for (uint32_t i = 0; i < 300; i++) {
		uint32_t bits;

		assert_int_equal(offer(&e, i, 1, SKIP + 1, N), 1);
		assert_int_equal(rg_wanem_dequeue(&e.em, out, BURST, N), 1);
		bits = flipped_bits(out[0], SKIP);
		assert_true(bits <= 3);
		hist[bits]++;
		tpkt_free(&e.ctx, out[0]);
	}
	assert_int_equal(hist[0], 0);
	assert_true(hist[1] > 50 && hist[2] > 50 && hist[3] > 50);
	assert_int_equal(hist[1] + hist[2] + hist[3], 300);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_corrupted), N + 300);
	/* Nothing past the headers to flip: untouched and not counted. */
	assert_int_equal(offer(&e, N, 1, SKIP, N), 1);
	assert_int_equal(rg_wanem_dequeue(&e.em, out, BURST, N), 1);
	assert_int_equal(flipped_bits(out[0], SKIP), 0);
	tpkt_free(&e.ctx, out[0]);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_corrupted), N + 300);
	tenv_fini(&e);
}

static void
test_wanem_rate_spaces_packets(void **state)
{
	struct rg_wanem_config c = cfg_default();
	const uint64_t d = 10 * RG_NS_PER_MS, ms = RG_NS_PER_MS;
	struct rec r[8];
	uint32_t n = 0;
	struct tenv e;

	(void)state;
	/* 1,000,000 B/s: a 1000-byte packet takes 1 ms on the wire, then 10 ms of delay. */
	c.rate_bytes_per_s = 1000000, c.delay_ns = d;
	tenv_init(&e, &c);
	assert_int_equal(offer(&e, 0, 5, 1000, 0), 5);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_rate_delayed), 4);
	assert_int_equal(drain_all(&e, r, &n, 8), 5);
	for (uint32_t i = 0; i < 5; i++) {
		assert_int_equal(r[i].id, i);
		assert_int_equal(r[i].t, (i + 1) * ms + d);
	}
	/* The wire went idle at 5 ms: a packet at 100 ms does not wait. */
	n = 0;
	assert_int_equal(offer(&e, 5, 1, 1000, 100 * ms), 1);
	assert_int_equal(rg_wanem_next_ns(&e.em), 101 * ms + d);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_rate_delayed), 4);
	assert_int_equal(drain_all(&e, r, &n, 8), 1);
	/* 3 B/s: 1 byte takes 333,333,333.3 ns; the remainder is carried, so 3 bytes take 1 s. */
	c.rate_bytes_per_s = 3, c.delay_ns = 0;
	rg_wanem_set_config(&e.em, &c);
	n = 0;
	assert_int_equal(offer(&e, 6, 3, 1, RG_NS_PER_S), 3);
	assert_int_equal(drain_all(&e, r, &n, 8), 3);
	assert_int_equal(r[0].t, RG_NS_PER_S + 333333333);
	assert_int_equal(r[1].t, RG_NS_PER_S + 666666666);
	assert_int_equal(r[2].t, 2 * RG_NS_PER_S);
	tenv_fini(&e);
}

static void
test_wanem_partition_drops_while_on(void **state)
{
	struct rg_wanem_config c = cfg_default();
	struct rec r[16];
	uint32_t n = 0;
	struct tenv e;

	(void)state;
	c.delay_ns = RG_NS_PER_MS;
	tenv_init(&e, &c);
	assert_int_equal(offer(&e, 0, 5, 64, 0), 5);
	rg_wanem_set_partition(&e.em, 1);
	assert_int_equal(rg_wanem_partitioned(&e.em), 1);
	assert_int_equal(offer(&e, 5, 7, 64, 10), 0);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_drop_partition), 7);
	assert_int_equal(e.ctx.drops, 7);
	/* Already on the wire: they still arrive. */
	assert_int_equal(drain_at(&e, RG_NS_PER_MS, r, &n, 16), 5);
	rg_wanem_set_partition(&e.em, 0);
	assert_int_equal(rg_wanem_partitioned(&e.em), 0);
	assert_int_equal(offer(&e, 12, 3, 64, 2 * RG_NS_PER_MS), 3);
	assert_int_equal(drain_at(&e, 3 * RG_NS_PER_MS, r, &n, 16), 3);
	assert_int_equal(n, 8);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(r[i].id, i < 5 ? i : 12 + i - 5);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_drop_partition), 7);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_in_pkts), 15);
	tenv_fini(&e);
}

static void
test_wanem_queue_full_drops(void **state)
{
	struct rg_wanem_config c = cfg_default();
	struct rec r[16];
	uint32_t n = 0;
	struct tenv e;

	(void)state;
	c.delay_ns = RG_NS_PER_MS, c.queue_pkts_max = 8;
	tenv_init(&e, &c);
	assert_int_equal(offer(&e, 0, 10, 64, 0), 8);
	assert_int_equal(rg_wanem_held(&e.em), 8);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_drop_queue_full), 2);
	assert_int_equal(e.ctx.drops, 2);
	assert_int_equal(offer(&e, 10, 1, 64, 1), 0);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_drop_queue_full), 3);
	assert_int_equal(drain_at(&e, RG_NS_PER_MS, r, &n, 16), 8);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(r[i].id, i); /* the first 8 were kept, the rest dropped */
	assert_int_equal(offer(&e, 11, 8, 64, 2), 8);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_drop_queue_full), 3);
	tenv_fini(&e);
}

/*
 * The byte-limited bottleneck, one step per row at literal times: 1,000,000 B/s (1 byte per µs),
 * 10 ms of delay, a 2500-byte drop-tail buffer ahead of the wire. backlog is what
 * rg_wanem_queue_bytes() reads after the step; held shows that the packet count is another
 * thing (most held packets are in propagation delay, past the wire).
 */
static void
test_wanem_queue_bytes_drop_tail(void **state)
{
	const uint64_t us = RG_NS_PER_US, ms = RG_NS_PER_MS;
	const struct {
		uint64_t t;
		uint32_t len; /* 0: only read the backlog at t */
		uint32_t accepted;
		uint64_t backlog; /* bytes, after the step */
		uint32_t held;
	} steps[] = {
		{ 0, 1000, 1, 1000, 1 },         /* the wire frees at 1 ms */
		{ 0, 1000, 1, 2000, 2 },         /* 2 ms */
		{ 0, 1000, 0, 2000, 2 },         /* 3000 > 2500: dropped, takes no wire time */
		{ 0, 500, 1, 2500, 3 },          /* exactly full fits: 2.5 ms */
		{ 0, 1, 0, 2500, 3 },            /* one byte past: dropped */
		{ 1 * ms, 1000, 1, 2500, 4 },    /* 1500 left, + 1000: 3.5 ms */
		{ 2500 * us, 0, 0, 1000, 4 },    /* draining at 1 byte/µs */
		{ 3500 * us, 2501, 0, 0, 4 },    /* idle wire, but larger than the buffer */
		{ 3500 * us, 2500, 1, 2500, 5 }, /* 6 ms */
		{ 6 * ms, 0, 0, 0, 5 },          /* idle; all five still in delay */
	};
	struct rg_wanem_config c = cfg_default();
	struct rec r[8];
	uint32_t n = 0, drops = 0;
	struct tenv e;

	(void)state;
	c.rate_bytes_per_s = 1000000, c.delay_ns = 10 * ms, c.queue_bytes_max = 2500;
	tenv_init(&e, &c);
	for (uint32_t i = 0; i < RG_ARRAY_SIZE(steps); i++) {
		if (steps[i].len > 0) {
			assert_int_equal(offer(&e, i, 1, steps[i].len, steps[i].t),
					 steps[i].accepted);
			drops += !steps[i].accepted;
		}
		assert_int_equal(rg_wanem_queue_bytes(&e.em, steps[i].t), steps[i].backlog);
		assert_int_equal(rg_wanem_held(&e.em), steps[i].held);
		assert_int_equal(ctr(&e, RG_WANEM_CTR_drop_queue_bytes), drops);
	}
	assert_int_equal(drops, 3);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_drop_queue_full), 0);
	assert_int_equal(rg_wanem_queue_peak_bytes(&e.em), 2500);
	/* The survivors leave serialized back to back, then delayed: ids 0, 1, 3, 5, 8. */
	assert_int_equal(drain_all(&e, r, &n, 8), 5);
	{
		const uint32_t id[] = { 0, 1, 3, 5, 8 };
		const uint64_t at[] = { 1 * ms, 2 * ms, 2500 * us, 3500 * us, 6 * ms };

		for (uint32_t i = 0; i < 5; i++) {
			assert_int_equal(r[i].id, id[i]);
			assert_int_equal(r[i].t, at[i] + c.delay_ns);
		}
	}
	tenv_fini(&e);
}

/* The backlog counts the carried remainder, a copy takes no wire time, and set_config's rules. */
static void
test_wanem_queue_bytes_remainder_dup_and_set_config(void **state)
{
	struct rg_wanem_config c = cfg_default();
	struct tenv e;

	(void)state;
	/* 3 B/s: one byte frees the wire at 333,333,333 ns, remainder 1 byte·ns: at 0 the backlog
	 * is (333,333,333 × 3 + 1) / 1e9 = 1 byte, not 0.999999999 rounded down to 0. */
	c.rate_bytes_per_s = 3, c.queue_bytes_max = 2;
	tenv_init(&e, &c);
	assert_int_equal(offer(&e, 0, 1, 1, 0), 1);
	assert_int_equal(e.em.wire_free_ns, 333333333);
	assert_int_equal(rg_wanem_queue_bytes(&e.em, 0), 1);
	assert_int_equal(rg_wanem_queue_bytes(&e.em, 333333333), 0); /* idle at wire_free_ns */
	assert_int_equal(offer(&e, 1, 1, 1, 0), 1);
	assert_int_equal(rg_wanem_queue_bytes(&e.em, 0), 2);
	assert_int_equal(offer(&e, 2, 1, 1, 0), 0);
	assert_int_equal(drain_all(&e, NULL, NULL, 0), 2);
	/* A copy is made past the bottleneck: dup = 1 doubles what is held, not the backlog. */
	c.rate_bytes_per_s = 1000000, c.queue_bytes_max = 3000, c.dup = 1,
	c.delay_ns = RG_NS_PER_MS;
	rg_wanem_set_config(&e.em, &c);
	assert_int_equal(offer(&e, 10, 3, 1000, RG_NS_PER_S), 3);
	assert_int_equal(rg_wanem_held(&e.em), 6);
	assert_int_equal(rg_wanem_queue_bytes(&e.em, RG_NS_PER_S), 3000);
	/* A lowered limit keeps the backlog above it; new packets wait until it fits. */
	c.dup = 0, c.queue_bytes_max = 1500;
	rg_wanem_set_config(&e.em, &c);
	assert_int_equal(offer(&e, 13, 1, 500, RG_NS_PER_S), 0);
	assert_int_equal(offer(&e, 14, 1, 500, RG_NS_PER_S + 2 * RG_NS_PER_MS), 1); /* 1000 left */
	assert_int_equal(rg_wanem_queue_bytes(&e.em, RG_NS_PER_S + 2 * RG_NS_PER_MS), 1500);
	/* No limit (0): nothing is dropped for bytes; the peak is kept across set_config. */
	c.queue_bytes_max = 0;
	rg_wanem_set_config(&e.em, &c);
	assert_int_equal(offer(&e, 15, 10, 1000, RG_NS_PER_S + 2 * RG_NS_PER_MS), 10);
	assert_int_equal(rg_wanem_queue_bytes(&e.em, RG_NS_PER_S + 2 * RG_NS_PER_MS), 11500);
	assert_int_equal(rg_wanem_queue_peak_bytes(&e.em), 11500);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_drop_queue_bytes), 2);
	/* Step 4's order: a full heap is drop_queue_full, a lost packet drop_loss, before bytes. */
	c.queue_bytes_max = 1000, c.queue_pkts_max = rg_wanem_held(&e.em);
	rg_wanem_set_config(&e.em, &c);
	assert_int_equal(offer(&e, 30, 1, 64, RG_NS_PER_S + 2 * RG_NS_PER_MS), 0);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_drop_queue_full), 1);
	c.queue_pkts_max = 4096, c.loss = 1;
	rg_wanem_set_config(&e.em, &c);
	assert_int_equal(offer(&e, 31, 1, 64, RG_NS_PER_S + 2 * RG_NS_PER_MS), 0);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_drop_loss), 1);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_drop_queue_bytes), 2);
	tenv_fini(&e);
}

static void
test_wanem_set_config_at_run_time(void **state)
{
	struct rg_wanem_config c = cfg_default();
	const uint64_t ms = RG_NS_PER_MS;
	struct rec r[16];
	uint32_t n = 0;
	uint64_t rng;
	struct tenv e;

	(void)state;
	c.queue_pkts_max = 16, c.seed = 1;
	tenv_init(&e, &c);
	assert_int_equal(offer(&e, 0, 2, 64, 0), 2);
	c.delay_ns = 5 * ms;
	rg_wanem_set_config(&e.em, &c);
	assert_int_equal(rg_wanem_held(&e.em), 2); /* the queue is kept */
	assert_int_equal(offer(&e, 2, 2, 64, 1 * ms), 2);
	assert_int_equal(drain_at(&e, 1 * ms, r, &n, 16), 2); /* the old ones, on time */
	assert_int_equal(rg_wanem_next_ns(&e.em), 6 * ms);
	/* Back to no delay: a new packet does not overtake the ones on the wire (FIFO). */
	c.delay_ns = 0;
	rg_wanem_set_config(&e.em, &c);
	assert_int_equal(offer(&e, 4, 1, 64, 2 * ms), 1);
	assert_int_equal(drain_at(&e, 5 * ms, r, &n, 16), 0);
	assert_int_equal(drain_at(&e, 6 * ms, r, &n, 16), 3);
	assert_int_equal(n, 5);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(r[i].id, i);
	/* Counters are kept; the RNG is kept for the same seed, restarted for a new one. */
	assert_int_equal(ctr(&e, RG_WANEM_CTR_in_pkts), 5);
	c.loss = 0.5;
	rg_wanem_set_config(&e.em, &c);
	offer(&e, 5, 8, 64, 7 * ms);
	rng = e.em.rng;
	assert_int_not_equal(rng, 1);
	rg_wanem_set_config(&e.em, &c);
	assert_int_equal(e.em.rng, rng);
	c.seed = 99;
	rg_wanem_set_config(&e.em, &c);
	assert_int_equal(e.em.rng, 99);
	/* queue_pkts_max: shrinking takes effect for new packets, growing stops at init's size. */
	drain_at(&e, 7 * ms, NULL, NULL, 0);
	c.loss = 0, c.queue_pkts_max = 2;
	rg_wanem_set_config(&e.em, &c);
	assert_int_equal(offer(&e, 20, 3, 64, 8 * ms), 2);
	c.queue_pkts_max = 1000;
	rg_wanem_set_config(&e.em, &c);
	assert_int_equal(e.em.held_max, 16);
	assert_int_equal(offer(&e, 30, 20, 64, 9 * ms), 14);
	assert_int_equal(rg_wanem_held(&e.em), 16);
	tenv_fini(&e);
}

/* Every fault at once; returns a hash of what left, when, and its bytes. */
static uint64_t
chaos_run(uint64_t seed, struct rg_wanem_stats *st)
{
	struct rg_wanem_config c = cfg_default();
	uint64_t h = 1469598103934665603ull;
	struct tenv e;
	void *out[BURST];

	c.seed = seed, c.delay_ns = 2 * RG_NS_PER_MS, c.jitter_ns = 500 * RG_NS_PER_US;
	c.loss = 0.02, c.burst_enter = 0.005, c.burst_exit = 0.3, c.burst_loss = 0.8;
	c.dup = 0.02, c.reorder = 0.03, c.reorder_ns = RG_NS_PER_MS, c.corrupt = 0.02;
	c.corrupt_skip = 8, c.rate_bytes_per_s = 100000000, c.queue_pkts_max = 512;
	c.queue_bytes_max = 16384; /* offered at ~3 × the rate: both queue limits bite */
	tenv_init(&e, &c);
	for (uint32_t i = 0; i < 300; i++) { /* 300 bursts of 32, one every 20 µs */
		uint64_t t = i * 20 * RG_NS_PER_US;
		uint32_t got;

		offer(&e, i * BURST, BURST, 200 + i % 7, t);
		while ((got = rg_wanem_dequeue(&e.em, out, BURST, t)) > 0) {
			for (uint32_t j = 0; j < got; j++) {
				struct tpkt *p = out[j];

				h = (h ^ (p->id * 2u + p->is_copy)) * 1099511628211ull;
				h = (h ^ t) * 1099511628211ull;
				for (uint32_t b = 0; b < p->len; b++)
					h = (h ^ p->data[b]) * 1099511628211ull;
				tpkt_free(&e.ctx, p);
			}
		}
	}
	rg_wanem_stats(&e.em, st);
	tenv_fini(&e);
	return h;
}

static void
test_wanem_same_seed_same_outcome(void **state)
{
	struct rg_wanem_stats a, b, other;
	uint64_t ha, hb, ho;
	uint32_t nonzero = 0;

	(void)state;
	ha = chaos_run(7, &a);
	hb = chaos_run(7, &b);
	ho = chaos_run(8, &other);
	assert_int_equal(ha, hb);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_not_equal(ha, ho);
	assert_true(memcmp(&a, &other, sizeof(a)) != 0);
	/* The run exercised every fault, else the comparison proves little. */
	for (int k = RG_WANEM_CTR_drop_loss; k < RG_WANEM_CTR_MAX; k++)
		nonzero += a.ctr[k] > 0 || k == RG_WANEM_CTR_drop_partition ||
			   k == RG_WANEM_CTR_dup_failed;
	assert_int_equal(nonzero, RG_WANEM_CTR_MAX - RG_WANEM_CTR_drop_loss);
}

static void
test_wanem_fault_order_as_documented(void **state)
{
	struct rg_wanem_config c = cfg_default();
	struct tpkt *a, *b;
	struct tenv e;
	void *out[4];

	(void)state;
	/* 1 before 2: a partitioned packet is a partition drop, even with loss = 1. */
	c.loss = 1, c.queue_pkts_max = 2;
	tenv_init(&e, &c);
	rg_wanem_set_partition(&e.em, 1);
	assert_int_equal(offer(&e, 0, 1, 64, 1), 0);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_drop_partition), 1);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_drop_loss), 0);
	rg_wanem_set_partition(&e.em, 0);
	/* 2 before 3, and the Gilbert-Elliott link steps for a packet lost at 2 as well. */
	c.burst_enter = 1, c.burst_exit = 1e-12, c.burst_loss = 1;
	rg_wanem_set_config(&e.em, &c);
	assert_int_equal(offer(&e, 1, 1, 64, 2), 0);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_drop_loss), 1);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_drop_burst), 0);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_burst_entered), 1);
	c.loss = 0;
	rg_wanem_set_config(&e.em, &c);
	assert_int_equal(offer(&e, 2, 1, 64, 3), 0);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_drop_burst), 1);
	/* Turning the burst model off forgets the bad state: back on, the link starts good. */
	c.burst_enter = 0, c.burst_exit = 0, c.burst_loss = 0;
	rg_wanem_set_config(&e.em, &c);
	c.burst_enter = 1e-12, c.burst_exit = 1e-12, c.burst_loss = 1;
	rg_wanem_set_config(&e.em, &c);
	assert_int_equal(offer(&e, 3, 1, 64, 4), 1);
	/* 3 before 4: with the queue full, a lost packet is still counted as lost. */
	assert_int_equal(offer(&e, 4, 1, 64, 5), 1);
	c.loss = 1;
	rg_wanem_set_config(&e.em, &c);
	assert_int_equal(offer(&e, 5, 1, 64, 6), 0);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_drop_loss), 2);
	assert_int_equal(ctr(&e, RG_WANEM_CTR_drop_queue_full), 0);
	assert_int_equal(drain_at(&e, 6, NULL, NULL, 0), 2);
	/* 5 before 6: the copy carries the original's flipped bits. */
	c = cfg_default();
	c.corrupt = 1, c.dup = 1;
	rg_wanem_set_config(&e.em, &c);
	assert_int_equal(offer(&e, 6, 1, 64, 7), 1);
	assert_int_equal(rg_wanem_dequeue(&e.em, out, 4, 7), 2);
	a = out[0], b = out[1];
	assert_true(flipped_bits(a, 0) >= 1);
	assert_true(b->is_copy);
	assert_memory_equal(a->data, b->data, 64);
	tpkt_free(&e.ctx, a);
	tpkt_free(&e.ctx, b);
	tenv_fini(&e);
}

static void
test_wanem_fini_drops_held(void **state)
{
	struct rg_wanem_config c = cfg_default();
	uint64_t held;
	struct tenv e;

	(void)state;
	c.delay_ns = RG_NS_PER_S, c.dup = 0.5, c.seed = 4;
	tenv_init(&e, &c);
	assert_int_equal(offer(&e, 0, 50, 64, 0), 50);
	held = rg_wanem_held(&e.em);
	assert_int_equal(held, 50 + ctr(&e, RG_WANEM_CTR_duplicated));
	assert_true(held > 50);
	assert_int_equal(e.ctx.live, held);
	rg_wanem_fini(&e.em, rg_mem_default());
	assert_int_equal(e.ctx.drops, held);
	assert_int_equal(e.ctx.live, 0);
	assert_int_equal(rg_wanem_held(&e.em), 0);
}

static void
test_wanem_dequeue_bounded_by_max(void **state)
{
	struct rg_wanem_config c = cfg_default();
	struct tenv e;
	void *out[8];
	uint32_t next = 0;

	(void)state;
	tenv_init(&e, &c);
	assert_int_equal(offer(&e, 0, 20, 64, 3), 20);
	for (uint32_t round = 0; round < 3; round++) {
		uint32_t got = rg_wanem_dequeue(&e.em, out, 7, 3);

		assert_int_equal(got, round < 2 ? 7 : 6);
		for (uint32_t j = 0; j < got; j++) {
			assert_int_equal(((struct tpkt *)out[j])->id, next++);
			tpkt_free(&e.ctx, out[j]);
		}
	}
	assert_int_equal(next, 20);
	assert_int_equal(rg_wanem_dequeue(&e.em, out, 7, 3), 0);
	assert_int_equal(rg_wanem_dequeue(&e.em, out, 0, 3), 0);
	tenv_fini(&e);
}

static void
test_wanem_counter_names(void **state)
{
	uint32_t checked = 0;

	(void)state;
	assert_string_equal(rg_wanem_counter_name(RG_WANEM_CTR_in_pkts), "in_pkts");
	assert_string_equal(rg_wanem_counter_name(RG_WANEM_CTR_jittered), "jittered");
	assert_string_equal(rg_wanem_counter_name(RG_WANEM_CTR_MAX), "?");
	for (int i = 0; i < RG_WANEM_CTR_MAX; i++) {
		assert_non_null(rg_wanem_counter_name(i));
		for (int k = 0; k < i; k++)
			assert_string_not_equal(rg_wanem_counter_name(i), rg_wanem_counter_name(k));
		checked++;
	}
	assert_int_equal(checked, 16);
}

static void
test_wanem_check_detects_corruption(void **state)
{
	struct rg_wanem_config c = cfg_default();
	struct rg_wanem_slot s;
	struct tenv e;

	(void)state;
	c.delay_ns = 10;
	tenv_init(&e, &c);
	for (uint32_t i = 0; i < 5; i++)
		offer(&e, i, 1, 64, 100 + i);
	assert_int_equal(rg_wanem_check(&e.em), 0);
	s = e.em.heap[0];
	e.em.heap[0] = e.em.heap[1];
	e.em.heap[1] = s;
	assert_int_equal(rg_wanem_check(&e.em), -1);
	e.em.heap[1] = e.em.heap[0];
	e.em.heap[0] = s;
	assert_int_equal(rg_wanem_check(&e.em), 0);
	e.em.stats.ctr[RG_WANEM_CTR_out_pkts]++;
	assert_int_equal(rg_wanem_check(&e.em), -1);
	e.em.stats.ctr[RG_WANEM_CTR_out_pkts]--;
	tenv_fini(&e);
}

/* ---- RG_WANEM_BENCH=1: ns per packet for enqueue + dequeue ---- */

struct bpool {
	void **free;
	uint32_t n;
};

static void *
b_copy(void *ctx, void *pkt)
{
	struct bpool *b = ctx;

	(void)pkt;
	return b->n > 0 ? b->free[--b->n] : NULL;
}

static void
b_drop(void *ctx, void *pkt)
{
	struct bpool *b = ctx;

	b->free[b->n++] = pkt;
}

static uint8_t *
b_bytes(void *ctx, void *pkt, uint32_t *len)
{
	(void)ctx;
	*len = 64;
	return pkt;
}

static double
bench(const char *name, const struct rg_wanem_config *c)
{
	enum {
		POOL = 1 << 18,
		PKTS = 1 << 20
	};
	static uint8_t mem[POOL][64];
	static void *freel[POOL];
	struct bpool b = { .free = freel, .n = POOL };
	struct rg_wanem_ops ops = { .copy = b_copy, .drop = b_drop, .bytes = b_bytes, .ctx = &b };
	struct rg_wanem em;
	struct timespec t0, t1;
	void *pk[BURST], *out[2 * BURST];
	uint64_t now = 0, held_sum = 0;
	double ns;

	for (uint32_t i = 0; i < POOL; i++)
		freel[i] = mem[i];
	RG_ASSERT(rg_wanem_init(&em, c, &ops, rg_mem_default()) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint32_t i = 0; i < PKTS; i += BURST, now += BURST * RG_NS_PER_US) {
		uint32_t got;

		for (uint32_t j = 0; j < BURST; j++)
			pk[j] = b.free[--b.n];
		rg_wanem_enqueue(&em, pk, BURST, now);
		while ((got = rg_wanem_dequeue(&em, out, 2 * BURST, now + RG_NS_PER_US)) > 0)
			for (uint32_t j = 0; j < got; j++)
				b.free[b.n++] = out[j];
		held_sum += rg_wanem_held(&em);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / PKTS;
	printf("wanem bench %-12s %6.1f ns/packet (enqueue + dequeue), %llu held on average\n",
	       name, ns, (unsigned long long)(held_sum / (PKTS / BURST)));
	rg_wanem_fini(&em, rg_mem_default());
	return ns;
}

static void
bench_all(void)
{
	struct rg_wanem_config c = cfg_default();

	c.queue_pkts_max = 1 << 17;
	bench("passthrough", &c);
	c.delay_ns = 50 * RG_NS_PER_MS, c.jitter_ns = RG_NS_PER_MS, c.seed = 1;
	bench("delay+jitter", &c);
	c.loss = 0.01, c.burst_enter = 0.001, c.burst_exit = 0.3, c.burst_loss = 0.5;
	c.dup = 0.01, c.reorder = 0.01, c.reorder_ns = RG_NS_PER_MS, c.corrupt = 0.01;
	c.corrupt_skip = 42, c.rate_bytes_per_s = 125000000; /* 1 Gbit/s, above the offered load */
	bench("all-faults", &c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wanem_config_check_rejects_bad_fields),
		cmocka_unit_test(test_wanem_init_rejects_bad_args),
		cmocka_unit_test(test_wanem_passthrough_keeps_order_and_bytes),
		cmocka_unit_test(test_wanem_delay_exact_release_times),
		cmocka_unit_test(test_wanem_jitter_bounded_and_fifo),
		cmocka_unit_test(test_wanem_loss_rate_matches_config),
		cmocka_unit_test(test_wanem_burst_loss_comes_in_bursts),
		cmocka_unit_test(test_wanem_dup_makes_distinct_copies),
		cmocka_unit_test(test_wanem_dup_copies_keep_fifo),
		cmocka_unit_test(test_wanem_reorder_reorders_some),
		cmocka_unit_test(test_wanem_corrupt_flips_bits_past_skip),
		cmocka_unit_test(test_wanem_rate_spaces_packets),
		cmocka_unit_test(test_wanem_partition_drops_while_on),
		cmocka_unit_test(test_wanem_queue_full_drops),
		cmocka_unit_test(test_wanem_queue_bytes_drop_tail),
		cmocka_unit_test(test_wanem_queue_bytes_remainder_dup_and_set_config),
		cmocka_unit_test(test_wanem_set_config_at_run_time),
		cmocka_unit_test(test_wanem_same_seed_same_outcome),
		cmocka_unit_test(test_wanem_fault_order_as_documented),
		cmocka_unit_test(test_wanem_fini_drops_held),
		cmocka_unit_test(test_wanem_dequeue_bounded_by_max),
		cmocka_unit_test(test_wanem_counter_names),
		cmocka_unit_test(test_wanem_check_detects_corruption),
	};

	if (getenv("RG_WANEM_BENCH") != NULL) {
		bench_all();
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
