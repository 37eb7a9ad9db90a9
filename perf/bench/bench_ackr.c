/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ackr/: the receiver's packet-number ranges (ackr.h). Every insert is what
 * rg_core_recv() does per packet: rg_ackr_is_dup() then rg_ackr_insert().
 *   insert_in_order   consecutive numbers: r[0] grows; op = packet
 *   insert_gaps       1 in 8 never arrives: the ackr sits at RG_ACKR_RANGES_MAX
 *                     ranges and forgets the lowest on each new one (its worst
 *                     case, a 63-range memmove); op = packet
 *   insert_reordered  1 in 8 arrives 4 packets late and fills its gap (merge);
 *                     op = packet
 *   build_ack/N       rg_ackr_ranges() of N ranges out of 64 + rg_wire_put_ack()
 *                     + rg_ackr_on_ack_sent(): N = 4 is the ACK riding on a data
 *                     packet (RG_ACK_RANGES_DATA), 32 an ACK-only packet; op = ACK
 */
#include "ackr.h"
#include "bench.h"
#include "wire.h"

#define BATCH 64 /* inserts per loop pass: ack-eliciting packets between two ACKs sent */

enum pattern {
	IN_ORDER,
	GAPS,
	REORDERED,
};

/* The i-th number of a pattern, in arrival order; lost numbers are skipped. */
static uint64_t
arrival(enum pattern p, uint64_t i)
{
	uint64_t block = i / 8, k = i % 8;

	switch (p) {
	case GAPS: /* 7 of each 8 arrive: k = 0..6 of a block of 8 numbers */
		return (i / 7) * 8 + i % 7;
	case REORDERED: /* 0 1 2 4 5 6 7 3: number 3 of each block comes last */
		return block * 8 + (k < 3 ? k : k == 7 ? 3 : k + 1);
	default:
		return i;
	}
}

static void
bench_insert(struct rg_bench_state *st, const void *ctx)
{
	enum pattern p = *(const enum pattern *)ctx;
	struct rg_ackr a;
	uint64_t i = 0, now = 1000 * RG_NS_PER_S, dups = 0;

	rg_ackr_reset(&a);
	/* Warm up to the steady state: 64 ranges for GAPS. */
	for (; i < 8 * RG_ACKR_RANGES_MAX * 2; i++)
		rg_ackr_insert(&a, arrival(p, i), 1, now);
	while (rg_bench_keep_running_batch(st, BATCH)) {
		for (unsigned k = 0; k < BATCH; k++, i++) {
			uint64_t pn = arrival(p, i);

			if (rg_ackr_is_dup(&a, pn))
				dups++;
			else
				rg_ackr_insert(&a, pn, 1, now);
			now += 100;
		}
		rg_ackr_on_ack_sent(&a);
	}
	if (dups != 0 || rg_ackr_check(&a) != 0)
		rg_bench_skip_with_error(st, "the ackr saw a duplicate or broke an invariant");
	rg_bench_do_not_optimize(&a);
	rg_bench_set_items(st, rg_bench_iterations(st));
	rg_bench_set_label(st, "packet");
}

static void
bench_build_ack(struct rg_bench_state *st, const void *ctx)
{
	unsigned want = (unsigned)rg_bench_arg(st, 0);
	struct rg_pn_range out[RG_ACKR_RANGES_MAX];
	uint8_t frame[512] __attribute__((aligned(64)));
	struct rg_ackr a;
	uint64_t now = 1000 * RG_NS_PER_S, bytes = 0;

	(void)ctx;
	rg_ackr_reset(&a);
	for (uint64_t i = 0; i < 8 * RG_ACKR_RANGES_MAX * 2; i++)
		rg_ackr_insert(&a, arrival(GAPS, i), 1, now);
	if (a.n != RG_ACKR_RANGES_MAX) {
		rg_bench_skip_with_error(st, "the ackr does not hold 64 ranges");
		return;
	}
	while (rg_bench_keep_running(st)) {
		unsigned n = rg_ackr_ranges(&a, out, want);

		bytes += rg_wire_put_ack(frame, sizeof(frame), out, n, 25 * RG_NS_PER_US);
		rg_ackr_on_ack_sent(&a);
		rg_bench_do_not_optimize(frame);
	}
	if (bytes != (uint64_t)rg_bench_iterations(st) * rg_wire_ack_bytes(want))
		rg_bench_skip_with_error(st, "ACK frames of the wrong size");
	rg_bench_set_items(st, rg_bench_iterations(st));
	rg_bench_set_label(st, "ACK");
}

void
rg_bench_ackr_register(void)
{
	static const enum pattern in_order = IN_ORDER, gaps = GAPS, reordered = REORDERED;
	static const int64_t ranges[] = { 1, 4, 32 };

	rg_bench_register("ackr/insert_in_order", bench_insert, &in_order, NULL, 0);
	rg_bench_register("ackr/insert_gaps", bench_insert, &gaps, NULL, 0);
	rg_bench_register("ackr/insert_reordered", bench_insert, &reordered, NULL, 0);
	rg_bench_register("ackr/build_ack", bench_build_ack, NULL, ranges,
			  (int)RG_ARRAY_SIZE(ranges));
}
