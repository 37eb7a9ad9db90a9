/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Receive reorder windows: every case of reorder.h, checked by a consumer that
 * reassembles each record and asserts each byte arrives once, in order.
 * rg_reorder_check() after every step.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "reorder.h"

#define NSEQ      16   /* records a test may use, from its first seq */
#define REC_BYTES 2048 /* the largest record in these tests */
#define PKTS      1024 /* packet handles */
#define WINDOW    8

/* The bytes of record seq: a pattern that differs per seq and offset. */
static uint8_t
src_byte(uint64_t seq, uint32_t off)
{
	return (uint8_t)(seq * 131 + off * 7 + (off >> 8));
}

static uint8_t src[NSEQ][REC_BYTES];

struct consumer {
	uint64_t base;       /* first seq of the test */
	uint64_t expect_seq; /* the next delivery must be this seq ... */
	uint32_t expect_off; /* ... at this offset */
	uint8_t got[NSEQ][REC_BYTES];
	uint32_t got_len[NSEQ];
	unsigned records; /* completed records */
	unsigned deliveries;
	int block; /* deliver returns -EAGAIN while set */
	unsigned holds[PKTS], releases[PKTS];
	char pkt[PKTS]; /* handles are &pkt[i] */
	struct rg_rx_frag last;
};

static int
c_deliver(void *ctx, const struct rg_rx_frag *f)
{
	struct consumer *c = ctx;
	uint64_t k = f->seq - c->base;

	if (c->block)
		return -EAGAIN;
	if (f->seq != c->expect_seq || f->off != c->expect_off)
		fail_msg("delivered seq %llu off %u, want seq %llu off %u",
			 (unsigned long long)f->seq, f->off, (unsigned long long)c->expect_seq,
			 c->expect_off);
	assert_true(k < NSEQ);
	assert_true((uint64_t)f->off + f->len <= f->record_len);
	assert_true(f->record_len <= REC_BYTES);
	if (f->len > 0)
		memcpy(&c->got[k][f->off], f->data, f->len);
	c->got_len[k] = f->off + f->len;
	c->expect_off += f->len;
	c->deliveries++;
	c->last = *f;
	if (c->expect_off == f->record_len) {
		c->expect_seq++;
		c->expect_off = 0;
		c->records++;
	}
	return 0;
}

static unsigned
pkt_index(struct consumer *c, void *handle)
{
	ptrdiff_t i = (char *)handle - c->pkt;

	assert_true(i >= 0 && i < PKTS);
	return (unsigned)i;
}

static void
c_hold(void *ctx, void *handle)
{
	struct consumer *c = ctx;

	c->holds[pkt_index(c, handle)]++;
}

static void
c_release(void *ctx, void *handle)
{
	struct consumer *c = ctx;
	unsigned i = pkt_index(c, handle);

	c->releases[i]++;
	assert_true(c->releases[i] <= c->holds[i]);
}

struct fixture {
	struct rg_reorder r;
	struct rg_rxslot slots[WINDOW];
	struct rg_rxpool pool;
	struct consumer c;
	struct rg_reorder_ops ops;
	unsigned next_pkt;
};

static void
fx_init(struct fixture *x, uint64_t first_seq, uint32_t pool_cap)
{
	memset(x, 0, sizeof(*x));
	for (unsigned k = 0; k < NSEQ; k++)
		for (uint32_t o = 0; o < REC_BYTES; o++)
			src[k][o] = src_byte(first_seq + k, o);
	assert_int_equal(rg_rxpool_init(&x->pool, pool_cap, rg_mem_default()), 0);
	rg_reorder_init(&x->r, x->slots, WINDOW, first_seq);
	x->c.base = first_seq;
	x->c.expect_seq = first_seq;
	x->ops = (struct rg_reorder_ops){
		.deliver = c_deliver, .hold = c_hold, .release = c_release, .ctx = &x->c
	};
	assert_int_equal(rg_reorder_check(&x->r, &x->pool), 0);
}

/* Every packet held was released. */
static void
assert_balanced(const struct fixture *x)
{
	unsigned checked = 0;

	for (unsigned i = 0; i < x->next_pkt; i++) {
		assert_int_equal(x->c.holds[i], x->c.releases[i]);
		checked++;
	}
	assert_int_equal(checked, x->next_pkt);
	assert_true(checked > 0);
}

static void
fx_fini(struct fixture *x)
{
	rg_reorder_clear(&x->r, &x->pool, &x->ops);
	assert_int_equal(x->r.buffered, 0);
	assert_balanced(x);
	assert_int_equal(x->pool.nfree, x->pool.cap);
	rg_rxpool_fini(&x->pool, rg_mem_default());
}

/* Offers [off, off + len) of record seq (record_len bytes), in a packet of its own. */
static enum rg_reorder_result
offer(struct fixture *x, uint64_t seq, uint32_t off, uint32_t len, uint32_t record_len)
{
	struct rg_rx_frag f;
	enum rg_reorder_result res;
	uint64_t k = seq - x->c.base;

	assert_true(x->next_pkt < PKTS);
	f = (struct rg_rx_frag){ .seq = seq,
				 .data = k < NSEQ ? &src[k][off] : src[0],
				 .handle = &x->c.pkt[x->next_pkt++],
				 .off = off,
				 .len = len,
				 .record_len = record_len,
				 .version = 3 };
	res = rg_reorder_offer(&x->r, &x->pool, &f, &x->ops);
	assert_int_equal(rg_reorder_check(&x->r, &x->pool), 0);
	return res;
}

static enum rg_reorder_result
offer_whole(struct fixture *x, uint64_t seq, uint32_t len)
{
	return offer(x, seq, 0, len, len);
}

/* Records [first, first + n) reached the consumer, whole and exact. */
static void
assert_records(const struct fixture *x, uint64_t first, unsigned n, uint32_t len)
{
	unsigned checked = 0;

	for (uint64_t s = first; s < first + n; s++) {
		uint64_t k = s - x->c.base;

		assert_int_equal(x->c.got_len[k], len);
		assert_memory_equal(x->c.got[k], src[k], len);
		checked++;
	}
	assert_int_equal(checked, n);
	assert_true(checked > 0);
}

static void
test_reorder_in_order_delivery(void **state)
{
	struct fixture x;

	(void)state;
	fx_init(&x, 1, 16);
	assert_int_equal(rg_reorder_max_seq(&x.r), 8);
	for (uint64_t s = 1; s <= 5; s++)
		assert_int_equal(offer_whole(&x, s, 100), RG_REORDER_DELIVERED);
	assert_int_equal(x.r.next_seq, 6);
	assert_int_equal(x.r.deliver_off, 0);
	assert_int_equal(x.r.buffered, 0);
	assert_int_equal(x.c.records, 5);
	assert_int_equal(x.c.last.version, 3);
	assert_records(&x, 1, 5, 100);
	assert_int_equal(rg_reorder_max_seq(&x.r), 13);
	/* Delivered in place: nothing was held. */
	assert_int_equal(x.next_pkt, 5);
	for (unsigned i = 0; i < x.next_pkt; i++)
		assert_int_equal(x.c.holds[i], 0);
	fx_fini(&x);
}

static void
test_reorder_out_of_order_released_in_order(void **state)
{
	struct fixture x;

	(void)state;
	fx_init(&x, 1, 16);
	assert_int_equal(offer_whole(&x, 3, 50), RG_REORDER_BUFFERED);
	assert_int_equal(offer_whole(&x, 2, 60), RG_REORDER_BUFFERED);
	assert_int_equal(offer_whole(&x, 5, 70), RG_REORDER_BUFFERED);
	assert_int_equal(x.r.buffered, 3);
	assert_int_equal(x.c.deliveries, 0);
	assert_int_equal(x.c.holds[0] + x.c.holds[1] + x.c.holds[2], 3);
	assert_int_equal(offer_whole(&x, 1, 40), RG_REORDER_DELIVERED);
	/* 1, then buffered 2 and 3; 5 waits for 4. */
	assert_int_equal(x.c.records, 3);
	assert_int_equal(x.r.next_seq, 4);
	assert_int_equal(x.r.buffered, 1);
	assert_int_equal(x.c.releases[0], 1);
	assert_int_equal(x.c.releases[1], 1);
	assert_int_equal(x.c.releases[2], 0);
	assert_int_equal(offer_whole(&x, 4, 80), RG_REORDER_DELIVERED);
	assert_int_equal(x.r.next_seq, 6);
	assert_int_equal(x.r.buffered, 0);
	assert_int_equal(x.c.records, 5);
	assert_records(&x, 1, 1, 40);
	assert_records(&x, 2, 1, 60);
	assert_records(&x, 5, 1, 70);
	assert_balanced(&x);
	fx_fini(&x);
}

static void
test_reorder_dup_below_next_seq(void **state)
{
	struct fixture x;

	(void)state;
	fx_init(&x, 1, 16);
	for (uint64_t s = 1; s <= 3; s++)
		offer_whole(&x, s, 10);
	assert_int_equal(offer_whole(&x, 2, 10), RG_REORDER_DUP);
	assert_int_equal(offer(&x, 1, 5, 5, 10), RG_REORDER_DUP);
	assert_int_equal(x.c.deliveries, 3);
	assert_int_equal(x.r.buffered, 0);
	fx_fini(&x);
}

static void
test_reorder_dup_bytes_already_delivered(void **state)
{
	struct fixture x;

	(void)state;
	fx_init(&x, 1, 16);
	assert_int_equal(offer(&x, 1, 0, 50, 100), RG_REORDER_DELIVERED);
	assert_int_equal(x.r.deliver_off, 50);
	assert_int_equal(offer(&x, 1, 0, 50, 100), RG_REORDER_DUP);
	assert_int_equal(offer(&x, 1, 10, 30, 100), RG_REORDER_DUP);
	assert_int_equal(offer(&x, 1, 49, 1, 100), RG_REORDER_DUP);
	assert_int_equal(x.c.deliveries, 1);
	/* Overlapping: only the new bytes [50, 60) go out. */
	assert_int_equal(offer(&x, 1, 0, 60, 100), RG_REORDER_DELIVERED);
	assert_int_equal(x.c.deliveries, 2);
	assert_int_equal(x.c.last.off, 50);
	assert_int_equal(x.c.last.len, 10);
	assert_ptr_equal(x.c.last.data, &src[0][50]);
	assert_int_equal(offer(&x, 1, 40, 60, 100), RG_REORDER_DELIVERED);
	assert_int_equal(x.c.last.off, 60);
	assert_int_equal(x.c.last.len, 40);
	assert_int_equal(x.r.next_seq, 2);
	assert_records(&x, 1, 1, 100);
	fx_fini(&x);
}

static void
test_reorder_dup_covered_by_buffered_fragment(void **state)
{
	struct fixture x;

	(void)state;
	fx_init(&x, 1, 16);
	assert_int_equal(offer(&x, 3, 0, 100, 200), RG_REORDER_BUFFERED);
	assert_int_equal(offer(&x, 3, 10, 20, 200), RG_REORDER_DUP); /* inside it */
	assert_int_equal(offer(&x, 3, 0, 50, 200), RG_REORDER_DUP);  /* same start, shorter */
	assert_int_equal(offer(&x, 3, 0, 100, 200), RG_REORDER_DUP); /* the same */
	assert_int_equal(offer(&x, 3, 50, 50, 200), RG_REORDER_DUP); /* its tail */
	assert_int_equal(x.r.buffered, 1);
	/* Not covered: buffered too. */
	assert_int_equal(offer(&x, 3, 50, 100, 200), RG_REORDER_BUFFERED);
	assert_int_equal(offer(&x, 3, 0, 150, 200), RG_REORDER_BUFFERED);
	assert_int_equal(x.r.buffered, 3);
	/* A DUP is not held. */
	for (unsigned i = 1; i <= 4; i++)
		assert_int_equal(x.c.holds[i], 0);
	offer_whole(&x, 1, 5);
	offer_whole(&x, 2, 5);
	assert_int_equal(x.r.next_seq, 3);
	assert_int_equal(x.r.deliver_off, 150);
	assert_int_equal(offer(&x, 3, 150, 50, 200), RG_REORDER_DELIVERED);
	assert_int_equal(x.r.next_seq, 4);
	assert_records(&x, 3, 1, 200);
	assert_int_equal(x.r.buffered, 0);
	assert_balanced(&x);
	fx_fini(&x);
}

static void
test_reorder_beyond_window(void **state)
{
	struct fixture x;

	(void)state;
	fx_init(&x, 1, 16);
	assert_int_equal(offer_whole(&x, 9, 10), RG_REORDER_BEYOND);
	assert_int_equal(offer_whole(&x, 1000, 10), RG_REORDER_BEYOND);
	assert_int_equal(offer_whole(&x, 8, 10), RG_REORDER_BUFFERED);
	assert_int_equal(x.c.holds[0] + x.c.holds[1], 0);
	assert_int_equal(offer_whole(&x, 1, 10), RG_REORDER_DELIVERED);
	assert_int_equal(offer_whole(&x, 9, 10), RG_REORDER_BUFFERED); /* the window moved */
	assert_int_equal(offer_whole(&x, 10, 10), RG_REORDER_BEYOND);
	fx_fini(&x);
}

static void
test_reorder_pool_exhausted_no_buffer(void **state)
{
	struct fixture x;

	(void)state;
	fx_init(&x, 1, 2);
	assert_int_equal(offer_whole(&x, 3, 10), RG_REORDER_BUFFERED);
	assert_int_equal(offer_whole(&x, 4, 10), RG_REORDER_BUFFERED);
	assert_int_equal(x.pool.nfree, 0);
	assert_int_equal(offer_whole(&x, 5, 10), RG_REORDER_NO_BUFFER);
	assert_int_equal(x.c.holds[2], 0);
	assert_int_equal(x.r.buffered, 2);
	/* In order needs no buffer. */
	assert_int_equal(offer_whole(&x, 1, 10), RG_REORDER_DELIVERED);
	assert_int_equal(offer_whole(&x, 2, 10), RG_REORDER_DELIVERED);
	assert_int_equal(x.r.next_seq, 5);
	assert_int_equal(x.pool.nfree, 2);
	assert_int_equal(offer_whole(&x, 6, 10), RG_REORDER_BUFFERED);
	fx_fini(&x);
}

/* The pool's reserve (rg_core_set_rx_frags_room): buffering stops there; in order still flows. */
static void
test_reorder_reserve_stops_buffering(void **state)
{
	struct fixture x;

	(void)state;
	fx_init(&x, 1, 4);
	x.pool.reserve = 3; /* one descriptor may be taken */
	assert_int_equal(offer_whole(&x, 3, 10), RG_REORDER_BUFFERED);
	assert_int_equal(offer_whole(&x, 4, 10), RG_REORDER_NO_BUFFER);
	assert_int_equal(x.c.holds[4], 0); /* refused: its packet is not held */
	assert_int_equal(offer_whole(&x, 1, 10), RG_REORDER_DELIVERED);
	assert_int_equal(offer_whole(&x, 2, 10), RG_REORDER_DELIVERED); /* and 3 after it */
	assert_int_equal(x.r.next_seq, 4);
	assert_int_equal(x.pool.nfree, 4);
	x.pool.reserve = 0;
	assert_int_equal(offer_whole(&x, 5, 10), RG_REORDER_BUFFERED);
	assert_int_equal(rg_reorder_check(&x.r, &x.pool), 0);
	fx_fini(&x);
}

static void
test_reorder_multi_fragment_records_out_of_order(void **state)
{
	struct fixture x;

	(void)state;
	fx_init(&x, 1, 16);
	/* Record 1: [0,100) [100,150); record 2: [0,100) [100,200) [200,300). */
	assert_int_equal(offer(&x, 2, 200, 100, 300), RG_REORDER_BUFFERED);
	assert_int_equal(offer(&x, 2, 0, 100, 300), RG_REORDER_BUFFERED);
	assert_int_equal(offer(&x, 1, 100, 50, 150), RG_REORDER_BUFFERED);
	assert_int_equal(offer(&x, 2, 100, 100, 300), RG_REORDER_BUFFERED);
	assert_int_equal(x.r.buffered, 4);
	assert_int_equal(x.c.deliveries, 0);
	assert_int_equal(offer(&x, 1, 0, 100, 150), RG_REORDER_DELIVERED);
	assert_int_equal(x.c.deliveries, 5);
	assert_int_equal(x.r.next_seq, 3);
	assert_int_equal(x.r.buffered, 0);
	assert_records(&x, 1, 1, 150);
	assert_records(&x, 2, 1, 300);
	assert_balanced(&x);
	fx_fini(&x);
}

/* Fragments in order B, A, C: A releases B, then C completes the record in place. */
static void
test_reorder_in_place_completion_clears_slot(void **state)
{
	struct fixture x;

	(void)state;
	fx_init(&x, 5, 16);
	assert_int_equal(offer(&x, 5, 100, 100, 300), RG_REORDER_BUFFERED);
	assert_int_equal(offer(&x, 5, 0, 100, 300), RG_REORDER_DELIVERED);
	assert_int_equal(x.r.deliver_off, 200);
	assert_int_equal(offer(&x, 5, 200, 100, 300), RG_REORDER_DELIVERED);
	assert_int_equal(x.r.next_seq, 6);
	assert_int_equal(x.slots[5 % WINDOW].seq, 0);
	/* The slot is free for seq 5 + W, out of order. */
	assert_int_equal(offer_whole(&x, 5 + WINDOW, 10), RG_REORDER_BUFFERED);
	assert_records(&x, 5, 1, 300);
	fx_fini(&x);
}

/* A buffered tail and then the whole record in order: the tail is released at once. */
static void
test_reorder_in_place_completion_frees_leftovers(void **state)
{
	struct fixture x;

	(void)state;
	fx_init(&x, 1, 16);
	assert_int_equal(offer(&x, 1, 500, 500, 1000), RG_REORDER_BUFFERED);
	assert_int_equal(x.c.holds[0], 1);
	assert_int_equal(offer_whole(&x, 1, 1000), RG_REORDER_DELIVERED);
	assert_int_equal(x.c.deliveries, 1);
	assert_int_equal(x.c.releases[0], 1);
	assert_int_equal(x.r.buffered, 0);
	assert_int_equal(x.pool.nfree, 16);
	assert_int_equal(offer_whole(&x, 1 + WINDOW, 10), RG_REORDER_BUFFERED);
	assert_records(&x, 1, 1, 1000);
	fx_fini(&x);
}

static void
test_reorder_overlapping_cuts_each_byte_once(void **state)
{
	static const uint32_t cuts[][2] = {
		{ 0, 300 },   { 200, 300 }, { 450, 250 }, { 100, 800 },
		{ 850, 150 }, { 0, 1000 },  { 990, 10 },  { 300, 1 },
	};
	struct fixture x;
	uint64_t rng = 5;
	unsigned trials = 0;

	(void)state;
	/* Every order of the fragments above; the consumer asserts order and offsets. */
	for (unsigned t = 0; t < 200; t++) {
		unsigned order[RG_ARRAY_SIZE(cuts)];

		fx_init(&x, 1, 64);
		for (unsigned i = 0; i < RG_ARRAY_SIZE(cuts); i++)
			order[i] = i;
		for (unsigned i = RG_ARRAY_SIZE(cuts) - 1; i > 0; i--) {
			unsigned j = (unsigned)(rg_splitmix64(&rng) % (i + 1)), tmp = order[i];

			order[i] = order[j];
			order[j] = tmp;
		}
		for (unsigned i = 0; i < RG_ARRAY_SIZE(cuts); i++)
			offer(&x, 1, cuts[order[i]][0], cuts[order[i]][1], 1000);
		assert_int_equal(x.r.next_seq, 2);
		assert_int_equal(x.c.records, 1);
		assert_records(&x, 1, 1, 1000);
		assert_int_equal(x.r.buffered, 0);
		fx_fini(&x);
		trials++;
	}
	assert_int_equal(trials, 200);
}

/* Random fragmentations of several records, overlaid (original and retransmission), shuffled. */
static void
test_reorder_random_fragments_reassemble(void **state)
{
	struct frag {
		uint64_t seq;
		uint32_t off, len, record_len;
	};
	static struct frag frags[512];
	struct fixture x;
	uint64_t rng = 77;
	unsigned trials = 0, offered = 0;

	(void)state;
	for (unsigned t = 0; t < 100; t++) {
		const uint64_t first = t % 2 ? 1 : 0x0FFE; /* also across a slot wrap */
		unsigned n = 0;

		fx_init(&x, first, 256);
		for (uint64_t s = first; s < first + WINDOW; s++) {
			uint32_t rlen = (uint32_t)(rg_splitmix64(&rng) % 1500);

			for (unsigned cut = 0; cut < 2; cut++) {
				uint32_t off = 0;

				do {
					uint32_t len = 1 + (uint32_t)(rg_splitmix64(&rng) % 400);

					len = RG_MIN(len, rlen - off);
					frags[n++] = (struct frag){ s, off, len, rlen };
					off += len;
				} while (off < rlen);
			}
		}
		for (unsigned i = n - 1; i > 0; i--) {
			unsigned j = (unsigned)(rg_splitmix64(&rng) % (i + 1));
			struct frag tmp = frags[i];

			frags[i] = frags[j];
			frags[j] = tmp;
		}
		for (unsigned i = 0; i < n; i++) {
			enum rg_reorder_result res = offer(&x, frags[i].seq, frags[i].off,
							   frags[i].len, frags[i].record_len);

			assert_true(res == RG_REORDER_DELIVERED || res == RG_REORDER_BUFFERED ||
				    res == RG_REORDER_DUP);
			offered++;
		}
		assert_int_equal(x.r.next_seq, first + WINDOW);
		assert_int_equal(x.c.records, WINDOW);
		for (uint64_t s = first; s < first + WINDOW; s++)
			assert_records(&x, s, 1, x.c.got_len[s - first]);
		assert_int_equal(x.r.buffered, 0);
		fx_fini(&x);
		trials++;
	}
	assert_int_equal(trials, 100);
	assert_true(offered > 1000);
}

static void
test_reorder_consumer_blocked_then_drain(void **state)
{
	struct fixture x;

	(void)state;
	fx_init(&x, 1, 16);
	x.c.block = 1;
	assert_int_equal(offer_whole(&x, 1, 10), RG_REORDER_BUFFERED);
	assert_int_equal(x.r.blocked, 1);
	assert_int_equal(x.r.next_seq, 1);
	assert_int_equal(x.c.holds[0], 1);
	assert_int_equal(offer_whole(&x, 2, 10), RG_REORDER_BUFFERED);
	/* The same record again while blocked: a duplicate of the buffered one. */
	assert_int_equal(offer_whole(&x, 1, 10), RG_REORDER_DUP);
	/* Still no room. */
	assert_int_equal(rg_reorder_drain(&x.r, &x.pool, &x.ops), 0);
	assert_int_equal(x.r.blocked, 1);
	assert_int_equal(rg_reorder_check(&x.r, &x.pool), 0);
	/* Room again. */
	x.c.block = 0;
	/* While blocked, even an in-order fragment waits behind the buffered ones. */
	assert_int_equal(offer(&x, 3, 0, 5, 10), RG_REORDER_BUFFERED);
	/* 1, 2, and the first half of 3, which became contiguous. */
	assert_int_equal(rg_reorder_drain(&x.r, &x.pool, &x.ops), 3);
	assert_int_equal(rg_reorder_check(&x.r, &x.pool), 0);
	assert_int_equal(x.r.blocked, 0);
	assert_int_equal(x.r.next_seq, 3);
	assert_int_equal(x.r.deliver_off, 5);
	assert_int_equal(rg_reorder_drain(&x.r, &x.pool, &x.ops), 0);
	assert_int_equal(offer(&x, 3, 5, 5, 10), RG_REORDER_DELIVERED);
	assert_int_equal(x.r.next_seq, 4);
	assert_records(&x, 1, 3, 10);
	assert_int_equal(x.r.buffered, 0);
	assert_balanced(&x);
	fx_fini(&x);
}

static void
test_reorder_blocked_mid_record(void **state)
{
	struct fixture x;

	(void)state;
	fx_init(&x, 1, 16);
	assert_int_equal(offer(&x, 1, 0, 40, 100), RG_REORDER_DELIVERED);
	x.c.block = 1;
	assert_int_equal(offer(&x, 1, 40, 30, 100), RG_REORDER_BUFFERED);
	assert_int_equal(offer(&x, 1, 70, 30, 100), RG_REORDER_BUFFERED);
	x.c.block = 0;
	assert_int_equal(rg_reorder_drain(&x.r, &x.pool, &x.ops), 2);
	assert_int_equal(rg_reorder_check(&x.r, &x.pool), 0);
	assert_int_equal(x.r.next_seq, 2);
	assert_records(&x, 1, 1, 100);
	fx_fini(&x);
}

static void
test_reorder_clear_releases_held(void **state)
{
	struct fixture x;
	unsigned held = 0, released = 0;

	(void)state;
	fx_init(&x, 1, 16);
	assert_int_equal(offer(&x, 1, 0, 30, 100), RG_REORDER_DELIVERED);
	assert_int_equal(offer(&x, 1, 60, 40, 100), RG_REORDER_BUFFERED);
	assert_int_equal(offer_whole(&x, 3, 10), RG_REORDER_BUFFERED);
	assert_int_equal(offer(&x, 4, 0, 5, 10), RG_REORDER_BUFFERED);
	assert_int_equal(offer(&x, 4, 5, 5, 10), RG_REORDER_BUFFERED);
	assert_int_equal(x.r.buffered, 4);
	rg_reorder_clear(&x.r, &x.pool, &x.ops);
	assert_int_equal(rg_reorder_check(&x.r, &x.pool), 0);
	for (unsigned i = 0; i < x.next_pkt; i++) {
		held += x.c.holds[i];
		released += x.c.releases[i];
	}
	assert_int_equal(held, 4);
	assert_int_equal(released, 4);
	assert_int_equal(x.r.buffered, 0);
	assert_int_equal(x.pool.nfree, 16);
	for (unsigned k = 0; k < WINDOW; k++)
		assert_int_equal(x.slots[k].seq, 0);
	/* next_seq and deliver_off stay: a replay from byte 0 gives only the rest. */
	assert_int_equal(x.r.next_seq, 1);
	assert_int_equal(x.r.deliver_off, 30);
	assert_int_equal(offer_whole(&x, 1, 100), RG_REORDER_DELIVERED);
	assert_int_equal(x.c.last.off, 30);
	assert_int_equal(x.c.last.len, 70);
	assert_records(&x, 1, 1, 100);
	fx_fini(&x);
}

static void
test_reorder_slot_wraparound_worked_example(void **state)
{
	struct fixture x;

	(void)state;
	/* reorder.h: W = 8, next_seq = 0x0FFE: 0x1003 → slot 3, 0x0FFF → slot 7, 0x1006 beyond. */
	fx_init(&x, 0x0FFE, 16);
	assert_int_equal(rg_reorder_max_seq(&x.r), 0x1005);
	assert_int_equal(offer_whole(&x, 0x1003, 20), RG_REORDER_BUFFERED);
	assert_int_equal(x.slots[3].seq, 0x1003);
	assert_int_equal(offer_whole(&x, 0x0FFF, 20), RG_REORDER_BUFFERED);
	assert_int_equal(x.slots[7].seq, 0x0FFF);
	assert_int_equal(offer_whole(&x, 0x1006, 20), RG_REORDER_BEYOND);
	assert_int_equal(offer_whole(&x, 0x1005, 20), RG_REORDER_BUFFERED);
	assert_int_equal(x.slots[5].seq, 0x1005);
	assert_int_equal(offer_whole(&x, 0x0FFE, 20), RG_REORDER_DELIVERED);
	assert_int_equal(x.r.next_seq, 0x1000);
	assert_int_equal(x.slots[7].seq, 0);
	assert_int_equal(offer_whole(&x, 0x1001, 20), RG_REORDER_BUFFERED);
	assert_int_equal(offer_whole(&x, 0x1002, 20), RG_REORDER_BUFFERED);
	assert_int_equal(offer_whole(&x, 0x1000, 20), RG_REORDER_DELIVERED);
	assert_int_equal(x.r.next_seq, 0x1004);
	/* The window is 0x1004..0x100B now. */
	assert_int_equal(offer_whole(&x, 0x100C, 20), RG_REORDER_BEYOND);
	assert_int_equal(offer_whole(&x, 0x100B, 20), RG_REORDER_BUFFERED);
	assert_int_equal(x.slots[3].seq, 0x100B); /* slot 3 again, a lap later */
	assert_int_equal(offer_whole(&x, 0x1004, 20), RG_REORDER_DELIVERED);
	assert_int_equal(x.r.next_seq, 0x1006);
	assert_int_equal(x.c.records, 8);
	assert_records(&x, 0x0FFE, 8, 20);
	fx_fini(&x);
}

static void
test_reorder_zero_length_records(void **state)
{
	struct fixture x;

	(void)state;
	fx_init(&x, 1, 16);
	assert_int_equal(offer_whole(&x, 1, 0), RG_REORDER_DELIVERED);
	assert_int_equal(x.r.next_seq, 2);
	assert_int_equal(x.c.last.len, 0);
	assert_int_equal(x.c.last.record_len, 0);
	assert_int_equal(offer_whole(&x, 1, 0), RG_REORDER_DUP);
	assert_int_equal(offer_whole(&x, 3, 0), RG_REORDER_BUFFERED);
	assert_int_equal(offer_whole(&x, 3, 0), RG_REORDER_DUP);
	assert_int_equal(offer_whole(&x, 4, 0), RG_REORDER_BUFFERED);
	assert_int_equal(offer_whole(&x, 2, 10), RG_REORDER_DELIVERED);
	assert_int_equal(x.r.next_seq, 5);
	assert_int_equal(x.c.records, 4);
	assert_int_equal(x.c.deliveries, 4);
	assert_int_equal(x.r.buffered, 0);
	assert_balanced(&x);
	fx_fini(&x);
}

/*
 * A zero-length record for a seq whose first bytes were already delivered (a
 * peer that changed the record, or a forged frame): nothing reaches the consumer.
 */
static void
test_reorder_empty_record_after_partial_delivery_is_dup(void **state)
{
	struct fixture x;

	(void)state;
	fx_init(&x, 1, 16);
	assert_int_equal(offer(&x, 1, 0, 50, 100), RG_REORDER_DELIVERED);
	assert_int_equal(offer(&x, 1, 0, 0, 0), RG_REORDER_DUP);
	assert_int_equal(x.c.deliveries, 1);
	assert_int_equal(x.r.next_seq, 1);
	assert_int_equal(x.r.deliver_off, 50);
	assert_int_equal(offer(&x, 1, 50, 50, 100), RG_REORDER_DELIVERED);
	assert_records(&x, 1, 1, 100);
	fx_fini(&x);
}

static void
test_reorder_mismatched_record_len(void **state)
{
	struct fixture x;

	(void)state;
	fx_init(&x, 1, 16);
	assert_int_equal(offer(&x, 3, 0, 10, 100), RG_REORDER_BUFFERED);
	assert_int_equal(offer(&x, 3, 10, 10, 200), RG_REORDER_MISMATCH);
	assert_int_equal(x.r.buffered, 1);
	assert_int_equal(x.c.holds[1], 0);
	fx_fini(&x);
}

/*
 * A fragment whose record_len differs from the bytes of its record already
 * delivered, or buffered, is refused (case 2a): the consumer sees one length
 * per record. fuzz_core found the in-order path taking it
 * (tests/fuzz/corpus/core/crash_reorder_record_len_changes_mid_record).
 */
static void
test_reorder_record_len_change_refused(void **state)
{
	struct fixture x;

	(void)state;
	fx_init(&x, 1, 16);
	assert_int_equal(offer(&x, 1, 0, 50, 100), RG_REORDER_DELIVERED);
	assert_int_equal(offer(&x, 1, 50, 50, 200), RG_REORDER_MISMATCH); /* delivered: 100 */
	assert_int_equal(x.c.deliveries, 1);
	assert_int_equal(offer(&x, 1, 50, 50, 100), RG_REORDER_DELIVERED);
	assert_int_equal(offer(&x, 2, 50, 50, 100), RG_REORDER_BUFFERED);
	assert_int_equal(offer(&x, 2, 0, 50, 80), RG_REORDER_MISMATCH); /* buffered: 100 */
	assert_int_equal(x.c.deliveries, 2);
	assert_int_equal(offer(&x, 2, 0, 50, 100), RG_REORDER_DELIVERED);
	assert_records(&x, 1, 2, 100);
	fx_fini(&x);
}

static void
test_reorder_check_detects_corruption(void **state)
{
	struct fixture x;

	(void)state;
	fx_init(&x, 1, 16);
	offer_whole(&x, 3, 10);
	x.r.buffered = 2;
	assert_int_equal(rg_reorder_check(&x.r, &x.pool), -1);
	x.r.buffered = 1;
	x.slots[3].seq = 11; /* seq 11 does not belong in slot 3 */
	assert_int_equal(rg_reorder_check(&x.r, &x.pool), -1);
	x.slots[3].seq = 3;
	assert_int_equal(rg_reorder_check(&x.r, &x.pool), 0);
	fx_fini(&x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reorder_in_order_delivery),
		cmocka_unit_test(test_reorder_out_of_order_released_in_order),
		cmocka_unit_test(test_reorder_dup_below_next_seq),
		cmocka_unit_test(test_reorder_dup_bytes_already_delivered),
		cmocka_unit_test(test_reorder_dup_covered_by_buffered_fragment),
		cmocka_unit_test(test_reorder_beyond_window),
		cmocka_unit_test(test_reorder_pool_exhausted_no_buffer),
		cmocka_unit_test(test_reorder_reserve_stops_buffering),
		cmocka_unit_test(test_reorder_multi_fragment_records_out_of_order),
		cmocka_unit_test(test_reorder_in_place_completion_clears_slot),
		cmocka_unit_test(test_reorder_in_place_completion_frees_leftovers),
		cmocka_unit_test(test_reorder_overlapping_cuts_each_byte_once),
		cmocka_unit_test(test_reorder_random_fragments_reassemble),
		cmocka_unit_test(test_reorder_consumer_blocked_then_drain),
		cmocka_unit_test(test_reorder_blocked_mid_record),
		cmocka_unit_test(test_reorder_clear_releases_held),
		cmocka_unit_test(test_reorder_slot_wraparound_worked_example),
		cmocka_unit_test(test_reorder_zero_length_records),
		cmocka_unit_test(test_reorder_empty_record_after_partial_delivery_is_dup),
		cmocka_unit_test(test_reorder_mismatched_record_len),
		cmocka_unit_test(test_reorder_record_len_change_refused),
		cmocka_unit_test(test_reorder_check_detects_corruption),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
