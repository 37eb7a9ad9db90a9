/* SPDX-License-Identifier: Apache-2.0 */
#include "common.h"
#include "rtt.h"

void
rg_rtt_init(struct rg_rtt *r, uint64_t initial_ns)
{
	r->latest_ns = 0;
	r->smoothed_ns = initial_ns;
	r->var_ns = initial_ns / 2;
	r->min_ns = RG_NS_NEVER;
	r->samples = 0;
}

void
rg_rtt_sample(struct rg_rtt *r, uint64_t sample_ns, uint64_t ack_delay_ns,
	      uint64_t ack_delay_ns_max)
{
	uint64_t adjusted = sample_ns, dev;

	r->latest_ns = sample_ns;
	if (sample_ns < r->min_ns)
		r->min_ns = sample_ns;
	ack_delay_ns = RG_MIN(ack_delay_ns, ack_delay_ns_max);
	if (sample_ns >= r->min_ns + ack_delay_ns)
		adjusted = sample_ns - ack_delay_ns;
	if (r->samples++ == 0) {
		r->smoothed_ns = adjusted;
		r->var_ns = adjusted / 2;
		return;
	}
	dev = r->smoothed_ns > adjusted ? r->smoothed_ns - adjusted : adjusted - r->smoothed_ns;
	r->var_ns = (3 * r->var_ns + dev) / 4;
	r->smoothed_ns = (7 * r->smoothed_ns + adjusted) / 8;
}

uint64_t
rg_rtt_pto_ns(const struct rg_rtt *r, uint64_t granularity_ns, uint64_t ack_delay_ns_max)
{
	return r->smoothed_ns + RG_MAX(4 * r->var_ns, granularity_ns) + ack_delay_ns_max;
}

uint64_t
rg_rtt_loss_delay_ns(const struct rg_rtt *r, uint64_t granularity_ns)
{
	uint64_t base = RG_MAX(r->smoothed_ns, r->latest_ns);

	return RG_MAX(base + base / 8, granularity_ns);
}
