/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pacer/: the lane's token bucket (pacer.h) at 10 Gbit/s with a 64 KiB burst
 * and 1472-byte packets; op = packet sent.
 *   ready_consume  the clock moves one packet time per packet: every
 *                  rg_pacer_ready() says yes (refill with its division), then
 *                  rg_pacer_consume()
 *   blocked        the clock moves half a packet time per poll: every other
 *                  poll finds the bucket short and asks rg_pacer_next_ns(), as
 *                  the worker does to know how long it may sleep
 */
#include "bench.h"
#include "common.h"
#include "pacer.h"

#define RATE_BYTES_PER_S 1250000000ull /* 10 Gbit/s */
#define BURST_BYTES      65536
#define PKT_BYTES        1472
#define BATCH            64

/* One packet time at RATE_BYTES_PER_S: 1177.6 ns. */
#define PKT_NS (PKT_BYTES * RG_NS_PER_S / RATE_BYTES_PER_S)

static void
bench_ready_consume(struct rg_bench_state *st, const void *ctx)
{
	struct rg_pacer p;
	uint64_t now = 1000 * RG_NS_PER_S, sent = 0;

	(void)ctx;
	rg_pacer_init(&p, RATE_BYTES_PER_S, BURST_BYTES, now);
	while (rg_bench_keep_running_batch(st, BATCH)) {
		for (unsigned k = 0; k < BATCH; k++) {
			now += PKT_NS + 1;
			if (rg_pacer_ready(&p, PKT_BYTES, now)) {
				rg_pacer_consume(&p, PKT_BYTES);
				sent++;
			}
		}
	}
	if (sent != (uint64_t)rg_bench_iterations(st))
		rg_bench_skip_with_error(st, "the pacer held a packet back");
	rg_bench_set_items(st, (int64_t)sent);
	rg_bench_set_label(st, "packet");
}

static void
bench_blocked(struct rg_bench_state *st, const void *ctx)
{
	struct rg_pacer p;
	uint64_t now = 1000 * RG_NS_PER_S, sent = 0, waits = 0;

	(void)ctx;
	rg_pacer_init(&p, RATE_BYTES_PER_S, BURST_BYTES, now);
	while (rg_bench_keep_running_batch(st, BATCH)) {
		for (unsigned k = 0; k < 2 * BATCH; k++) {
			now += PKT_NS / 2;
			if (rg_pacer_ready(&p, PKT_BYTES, now)) {
				rg_pacer_consume(&p, PKT_BYTES);
				sent++;
			} else {
				waits += rg_pacer_next_ns(&p, PKT_BYTES, now) - now;
			}
		}
	}
	rg_bench_do_not_optimize_u64(waits);
	if (sent < (uint64_t)rg_bench_iterations(st) * 9 / 10)
		rg_bench_skip_with_error(st, "the pacer sent far less than its rate");
	rg_bench_set_items(st, (int64_t)sent);
	rg_bench_set_label(st, "packet");
}

void
rg_bench_pacer_register(void)
{
	rg_bench_register("pacer/ready_consume", bench_ready_consume, NULL, NULL, 0);
	rg_bench_register("pacer/blocked", bench_blocked, NULL, NULL, 0);
}
