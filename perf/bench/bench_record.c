/* SPDX-License-Identifier: Apache-2.0 */
/*
 * record/: the test record (record.h) of arg bytes, 64 B … 64 KiB; op = record.
 *   make      rg_record_make(): what the load generator pays per record
 *   verify    rg_record_verify(): the whole-record check (rg-tcp-relay's)
 *   stream/1  the streaming check, the record in one fragment (begin, absorb, end)
 *   stream/N  the same, the record in fragments of at most 1400 bytes (a
 *             delivery per packet, as the verifying consumer gets them)
 *   history   rg_history_deliver() of the record's fragments of at most 1400
 *             bytes (the verifying consumer's whole check, classes included)
 *   fragment  rg_record_fragment() of the record's last 1400 bytes (a
 *             checker that compares bytes; no CRC pass)
 * bytes → GB/s, so ns/byte = 1 / GB/s.
 */
#include "bench.h"
#include "common.h"
#include "history.h"
#include "record.h"

#define REC_BYTES_MAX (64 * 1024)
#define FRAG_BYTES    1400

enum what {
	MAKE,
	VERIFY,
	STREAM_ONE,
	STREAM_FRAGS,
	HISTORY,
	FRAGMENT,
};

static const int64_t sizes[] = { 64, 256, 1024, 4096, 16384, 65536 };
static const enum what whats[] = { MAKE, VERIFY, STREAM_ONE, STREAM_FRAGS, HISTORY, FRAGMENT };
static struct rg_record_ctx ctx;
static uint8_t rec[REC_BYTES_MAX] __attribute__((aligned(64)));

/* One record through the streaming check in fragments of at most max bytes; its verdict. */
static int
stream_check(uint32_t len, uint32_t max, uint64_t *stamp)
{
	struct rg_record_check c;

	rg_record_check_begin(&c, 1, 1, len);
	for (uint32_t off = 0; off < len; off += max) /* Bounded: len / max + 1 fragments */
		rg_record_check_absorb(&c, off, rec + off, RG_MIN(max, len - off));
	return rg_record_check_end(&c, stamp);
}

/* The stream's next record, delivered in fragments of at most FRAG_BYTES; its last class. */
static enum rg_history_class
history_one(struct rg_history *h, struct rg_history_stream *s, uint32_t len, uint64_t *stamp)
{
	struct rg_rx_frag f = { .seq = s->next, .record_len = len, .version = 1 };
	enum rg_history_class c = RG_HISTORY_PART;

	for (uint32_t off = 0; off < len; off += FRAG_BYTES) { /* Bounded: as above */
		f.off = off;
		f.len = RG_MIN((uint32_t)FRAG_BYTES, len - off);
		f.data = rec + off;
		c = rg_history_deliver(h, s, &f, stamp);
	}
	return c;
}

static uint64_t
run_one(enum what w, uint32_t len, struct rg_history *h, struct rg_history_stream *s)
{
	uint64_t stamp = 0;

	switch (w) {
	case MAKE:
		rg_record_make(&ctx, 1, 1, len, 5, rec);
		return rec[len - 1];
	case VERIFY:
		return (uint64_t)rg_record_verify(1, 1, rec, len, &stamp) + stamp;
	case STREAM_ONE:
		return (uint64_t)stream_check(len, len, &stamp) + stamp;
	case STREAM_FRAGS:
		return (uint64_t)stream_check(len, FRAG_BYTES, &stamp) + stamp;
	case HISTORY:
		/* Every record is seq 1's bytes under another seq: the check fails, the work is the same. */
		return (uint64_t)history_one(h, s, len, &stamp);
	default:
		rg_record_fragment(&ctx, 1, 1, len, 5, len - RG_MIN(len, FRAG_BYTES),
				   RG_MIN(len, FRAG_BYTES), rec);
		return rec[0];
	}
}

static void
bench_record(struct rg_bench_state *st, const void *arg)
{
	enum what w = *(const enum what *)arg;
	uint32_t len = (uint32_t)rg_bench_arg(st, 0);
	struct rg_history h;
	struct rg_history_stream s;
	uint64_t sink = 0;

	rg_history_init(&h);
	rg_history_stream_init(&s, 1, 0);
	rg_record_make(&ctx, 1, 1, len, 5, rec);
	while (rg_bench_keep_running(st))
		sink += run_one(w, len, &h, &s);
	rg_bench_do_not_optimize_u64(sink);
	rg_bench_set_items(st, rg_bench_iterations(st));
	rg_bench_set_bytes(st, rg_bench_iterations(st) * (int64_t)len);
	rg_bench_set_label(st, "record");
}

void
rg_bench_record_register(void)
{
	static const char *const names[] = { "record/make",     "record/verify",
					     "record/stream/1", "record/stream/1400",
					     "record/history",  "record/fragment" };

	rg_record_init(&ctx, 1, 0, 0);
	for (size_t i = 0; i < RG_ARRAY_SIZE(whats); i++)
		rg_bench_register(names[i], bench_record, &whats[i], sizes,
				  (int)RG_ARRAY_SIZE(sizes));
}
