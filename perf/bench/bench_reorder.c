/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reorder/: one stream's receive window (reorder.h), 256 records wide (the
 * default credit), whole 64-byte records as single fragments. The consumer
 * (deliver) and the packet references (hold, release) are no-ops that count.
 *   in_order    each fragment is the next one: delivered at once (case 3); op = fragment
 *   out_of_order/K  groups of K: seqs n+1 … n+K-1 arrive first and are buffered
 *               (case 4), then n arrives and releases the whole group through
 *               the drain; op = fragment
 */
#include "bench.h"
#include "reorder.h"

#define WINDOW    256
#define REC_BYTES 64
#define BATCH     64

struct sink {
	uint64_t delivered, held, released, next_seq;
	int out_of_order;
};

static int
deliver(void *ctx, const struct rg_rx_frag *f)
{
	struct sink *s = ctx;

	s->out_of_order |= f->seq != s->next_seq;
	s->next_seq = f->seq + 1;
	s->delivered++;
	return 0;
}

static void
hold(void *ctx, void *handle)
{
	(void)handle;
	((struct sink *)ctx)->held++;
}

static void
release(void *ctx, void *handle)
{
	(void)handle;
	((struct sink *)ctx)->released++;
}

static uint8_t data[REC_BYTES];

static struct rg_rx_frag
frag(uint64_t seq)
{
	return (struct rg_rx_frag){
		.seq = seq,
		.data = data,
		.handle = data,
		.off = 0,
		.len = REC_BYTES,
		.record_len = REC_BYTES,
		.version = 3,
	};
}

/* Checks what the sink saw after n fragments were offered, of which buffered went through a slot. */
static int
sink_ok(const struct sink *s, const struct rg_reorder *r, const struct rg_rxpool *p, uint64_t n,
	uint64_t buffered)
{
	return !s->out_of_order && s->delivered == n && s->held == buffered &&
	       s->released == buffered && r->buffered == 0 && rg_reorder_check(r, p) == 0;
}

static void
bench_in_order(struct rg_bench_state *st, const void *ctx)
{
	struct rg_rxslot slots[WINDOW];
	struct rg_reorder r;
	struct rg_rxpool p;
	struct sink s = { .next_seq = 1 };
	const struct rg_reorder_ops ops = { deliver, hold, release, &s };
	uint64_t seq = 1;

	(void)ctx;
	if (rg_rxpool_init(&p, WINDOW, rg_mem_default()) != 0) {
		rg_bench_skip_with_error(st, "rg_rxpool_init failed");
		return;
	}
	rg_reorder_init(&r, slots, WINDOW, 1);
	while (rg_bench_keep_running_batch(st, BATCH)) {
		for (unsigned k = 0; k < BATCH; k++) {
			struct rg_rx_frag f = frag(seq++);

			rg_reorder_offer(&r, &p, &f, &ops);
		}
	}
	if (!sink_ok(&s, &r, &p, seq - 1, 0))
		rg_bench_skip_with_error(st, "fragments not delivered in order, once");
	rg_rxpool_fini(&p, rg_mem_default());
	rg_bench_set_items(st, rg_bench_iterations(st));
	rg_bench_set_label(st, "fragment");
}

static void
bench_out_of_order(struct rg_bench_state *st, const void *ctx)
{
	unsigned group = (unsigned)rg_bench_arg(st, 0);
	struct rg_rxslot slots[WINDOW];
	struct rg_reorder r;
	struct rg_rxpool p;
	struct sink s = { .next_seq = 1 };
	const struct rg_reorder_ops ops = { deliver, hold, release, &s };
	uint64_t seq = 1;

	(void)ctx;
	if (group > WINDOW || rg_rxpool_init(&p, WINDOW, rg_mem_default()) != 0) {
		rg_bench_skip_with_error(st, "rg_rxpool_init failed");
		return;
	}
	rg_reorder_init(&r, slots, WINDOW, 1);
	while (rg_bench_keep_running_batch(st, group)) {
		for (unsigned k = 1; k < group; k++) {
			struct rg_rx_frag f = frag(seq + k);

			rg_reorder_offer(&r, &p, &f, &ops);
		}
		struct rg_rx_frag f = frag(seq);

		rg_reorder_offer(&r, &p, &f, &ops);
		seq += group;
	}
	if (!sink_ok(&s, &r, &p, seq - 1, (seq - 1) / group * (group - 1)))
		rg_bench_skip_with_error(st, "fragments not delivered in order, once");
	rg_rxpool_fini(&p, rg_mem_default());
	rg_bench_set_items(st, rg_bench_iterations(st));
	rg_bench_set_label(st, "fragment");
}

void
rg_bench_reorder_register(void)
{
	static const int64_t groups[] = { 4, 32 };

	rg_bench_register("reorder/in_order", bench_in_order, NULL, NULL, 0);
	rg_bench_register("reorder/out_of_order", bench_out_of_order, NULL, groups,
			  (int)RG_ARRAY_SIZE(groups));
}
