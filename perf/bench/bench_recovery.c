/* SPDX-License-Identifier: Apache-2.0 */
/*
 * recovery/: loss recovery of one lane (recovery.h), as the sender runs it.
 *   sent_acked/B  B packets sent (next_pn, one DATA frame reference each,
 *                 on_sent), then one ACK of all of them (on_ack: RTT sample,
 *                 frames handed back, retire); B = 4 is an ACK per
 *                 ack_every_pkts, 32 an ACK per rx burst; op = packet
 *   loss          32 packets sent, an ACK of 8 ranges missing 1 in 4 of them:
 *                 the 8 holes are declared lost by the packet threshold in the
 *                 same on_ack; op = packet (a quarter of them lost)
 * The clock moves 1 µs per packet sent; the ACK comes 50 µs after the last.
 */
#include "bench.h"
#include "recovery.h"

#define BURST_MAX  32
#define PKT_BYTES  1472
#define SEND_NS    1000
#define ACK_LAG_NS (50 * RG_NS_PER_US)

struct counts {
	uint64_t acked, lost;
};

static void
on_fref(void *ctx, const struct rg_fref *f, int acked)
{
	struct counts *c = ctx;

	(void)f;
	if (acked)
		c->acked++;
	else
		c->lost++;
}

static int
setup(struct rg_recovery *r)
{
	const struct rg_recovery_config cfg = {
		.pkts_max = 8192,
		.frefs_max = 65536,
		.bytes_max = 8u << 20,
		.initial_rtt_ns = 100 * RG_NS_PER_MS,
		.granularity_ns = 100 * RG_NS_PER_US,
		.ack_delay_ns_max = 200 * RG_NS_PER_US,
		.pto_ns_max = RG_NS_PER_S,
	};

	return rg_recovery_init(r, &cfg, rg_mem_default(), 1000);
}

/* Sends n packets of one DATA frame each at *now; returns the first one's number. */
static uint64_t
send_burst(struct rg_recovery *r, unsigned n, uint64_t *seq, uint64_t *now)
{
	uint64_t first = r->pn_next;

	for (unsigned i = 0; i < n; i++) {
		uint64_t pn = rg_recovery_next_pn(r);
		struct rg_fref *f = rg_recovery_fref_add(r);

		*f = (struct rg_fref){ .type = RG_FRAME_DATA, .seq = (*seq)++, .len = 1400 };
		rg_recovery_on_sent(r, pn, *now, PKT_BYTES, 1);
		*now += SEND_NS;
	}
	return first;
}

static void
bench_sent_acked(struct rg_bench_state *st, const void *ctx)
{
	unsigned burst = (unsigned)rg_bench_arg(st, 0);
	struct rg_recovery r;
	struct counts c = { 0, 0 };
	struct rg_frame ack = { .type = RG_FRAME_ACK };
	uint64_t seq = 1, now = 1000 * RG_NS_PER_S;

	(void)ctx;
	if (setup(&r) != 0) {
		rg_bench_skip_with_error(st, "rg_recovery_init failed");
		return;
	}
	while (rg_bench_keep_running_batch(st, burst)) {
		uint64_t first = send_burst(&r, burst, &seq, &now);

		ack.ack.nranges = 1;
		ack.ack.ranges[0] = (struct rg_pn_range){ .lo = first, .hi = first + burst - 1 };
		ack.ack.ack_delay_ns = 0;
		rg_recovery_on_ack(&r, &ack, now + ACK_LAG_NS, on_fref, &c);
	}
	if (c.acked != (uint64_t)rg_bench_iterations(st) || c.lost != 0 ||
	    rg_recovery_check(&r) != 0)
		rg_bench_skip_with_error(st, "packets not acked, or an invariant broken");
	rg_recovery_fini(&r, rg_mem_default());
	rg_bench_set_items(st, rg_bench_iterations(st));
	rg_bench_set_label(st, "packet");
}

static void
bench_loss(struct rg_bench_state *st, const void *ctx)
{
	struct rg_recovery r;
	struct counts c = { 0, 0 };
	struct rg_frame ack = { .type = RG_FRAME_ACK };
	uint64_t seq = 1, now = 1000 * RG_NS_PER_S;

	(void)ctx;
	if (setup(&r) != 0) {
		rg_bench_skip_with_error(st, "rg_recovery_init failed");
		return;
	}
	while (rg_bench_keep_running_batch(st, BURST_MAX)) {
		uint64_t first = send_burst(&r, BURST_MAX, &seq, &now);

		/* Packets first + 4k are missing: ranges [4k+1, 4k+3], newest first. */
		ack.ack.nranges = BURST_MAX / 4;
		for (unsigned k = 0; k < BURST_MAX / 4; k++) {
			uint64_t lo = first + 4 * (BURST_MAX / 4 - 1 - k) + 1;

			ack.ack.ranges[k] = (struct rg_pn_range){ .lo = lo, .hi = lo + 2 };
		}
		ack.ack.ack_delay_ns = 0;
		rg_recovery_on_ack(&r, &ack, now + ACK_LAG_NS, on_fref, &c);
	}
	if (c.lost * 4 != (uint64_t)rg_bench_iterations(st) || c.acked != 3 * c.lost ||
	    rg_recovery_check(&r) != 0)
		rg_bench_skip_with_error(st, "not exactly 1 in 4 packets declared lost");
	rg_recovery_fini(&r, rg_mem_default());
	rg_bench_set_items(st, rg_bench_iterations(st));
	rg_bench_set_label(st, "packet");
}

void
rg_bench_recovery_register(void)
{
	static const int64_t bursts[] = { 4, 32 };

	rg_bench_register("recovery/sent_acked", bench_sent_acked, NULL, bursts,
			  (int)RG_ARRAY_SIZE(bursts));
	rg_bench_register("recovery/loss", bench_loss, NULL, NULL, 0);
}
