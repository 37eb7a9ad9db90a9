/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RTT estimation, as RFC 9002 §5: latest, smoothed (7/8 EWMA), variance
 * (3/4 EWMA of the deviation) and minimum. Pure; all values in ns.
 */
#ifndef RG_PROTO_RTT_H
#define RG_PROTO_RTT_H

#include <stdint.h>

struct rg_rtt {
	uint64_t latest_ns;
	uint64_t smoothed_ns;
	uint64_t var_ns;
	uint64_t min_ns;
	uint64_t samples;
};

/* Before the first sample: smoothed = initial, var = initial / 2 (RFC 9002 §6.2.2). */
void rg_rtt_init(struct rg_rtt *r, uint64_t initial_ns);

/*
 * Takes one sample: the time from sending the largest newly acked packet to
 * its ACK. The peer's ack delay (capped at ack_delay_ns_max) is subtracted
 * unless that would take the sample below min_ns.
 */
void rg_rtt_sample(struct rg_rtt *r, uint64_t sample_ns, uint64_t ack_delay_ns,
		   uint64_t ack_delay_ns_max);

/* The probe timeout before backoff: smoothed + max(4 * var, granularity) + max ack delay. */
uint64_t rg_rtt_pto_ns(const struct rg_rtt *r, uint64_t granularity_ns, uint64_t ack_delay_ns_max);

/* How long after a later packet was acked an older one counts as lost: 9/8 · max(smoothed, latest). */
uint64_t rg_rtt_loss_delay_ns(const struct rg_rtt *r, uint64_t granularity_ns);

#endif /* RG_PROTO_RTT_H */
