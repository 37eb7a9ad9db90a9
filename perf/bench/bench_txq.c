/* SPDX-License-Identifier: Apache-2.0 */
/*
 * txq/: send queues and credit accounting (txq.h), one stream, as the core
 * drives them: a burst of 32 records published (rg_txq_push), cut into DATA
 * fragments while the credit allows (rg_txq_sendable + rg_txq_take, packets
 * of 1440 frame bytes as with a 1500-byte MTU), then every fragment acked in
 * order (rg_txq_on_acked: release, pop, acked_seq); the credit is acked_seq +
 * 256, the default window. arg = record bytes (64: many records a packet;
 * 4096: three fragments a record). op = record.
 */
#include "bench.h"
#include "txq.h"

#define BURST        32
#define WINDOW       256
#define RECORD_MAX   4096
#define FRAG_MAX     (BURST * 4)
#define PKT_ROOM     1440 /* 1472 - the RGP header */
#define DATA_HDR     32
#define STREAM_QUEUE 1024

struct frag {
	uint64_t seq;
	uint32_t rec, off, len;
};

static uint8_t payload[RECORD_MAX];

static void
on_release(void *ctx, void *handle)
{
	(void)handle;
	(*(uint64_t *)ctx)++;
}

static void
bench_txq(struct rg_bench_state *st, const void *ctx)
{
	uint32_t len = (uint32_t)rg_bench_arg(st, 0);
	struct frag frags[FRAG_MAX];
	struct rg_txpool pool;
	struct rg_txq q;
	uint64_t seq = 1, released = 0;
	uint32_t left = PKT_ROOM;

	(void)ctx;
	if (rg_txpool_init(&pool, 65536, rg_mem_default()) != 0) {
		rg_bench_skip_with_error(st, "rg_txpool_init failed");
		return;
	}
	rg_txq_init(&q, STREAM_QUEUE, 1);
	while (rg_bench_keep_running_batch(st, BURST)) {
		unsigned n = 0;

		for (unsigned i = 0; i < BURST; i++, seq++)
			if (rg_txq_push(&pool, &q, seq, 3, payload, len, payload) != 0)
				break;
		while (n < FRAG_MAX && rg_txq_sendable(&pool, &q, q.acked_seq + WINDOW)) {
			struct frag *f = &frags[n++];

			if (left <= DATA_HDR)
				left = PKT_ROOM;
			rg_txq_take(&pool, &q, left - DATA_HDR, &f->rec, &f->off, &f->len);
			f->seq = pool.recs[f->rec].seq;
			left -= DATA_HDR + f->len;
		}
		for (unsigned i = 0; i < n; i++)
			rg_txq_on_acked(&pool, &q, frags[i].rec, frags[i].seq, frags[i].off,
					frags[i].len, on_release, &released);
	}
	if (released != seq - 1 || q.count != 0 || rg_txq_check(&pool, &q) != 0)
		rg_bench_skip_with_error(st, "records not all released, or an invariant broken");
	rg_txpool_fini(&pool, rg_mem_default());
	rg_bench_set_items(st, (int64_t)released);
	rg_bench_set_label(st, "record");
}

void
rg_bench_txq_register(void)
{
	static const int64_t sizes[] = { 64, 4096 };

	rg_bench_register("txq/push_take_ack", bench_txq, NULL, sizes, (int)RG_ARRAY_SIZE(sizes));
}
