/* SPDX-License-Identifier: Apache-2.0 */
#include "common.h"
#include "pacer.h"

static uint64_t
cap_tokens(const struct rg_pacer *p)
{
	return p->burst_bytes * RG_NS_PER_S;
}

static void
refill(struct rg_pacer *p, uint64_t now_ns)
{
	uint64_t elapsed, full_ns;

	if (now_ns <= p->last_ns)
		return;
	elapsed = now_ns - p->last_ns;
	p->last_ns = now_ns;
	/* An empty bucket fills in burst·1e9/rate ns; capping elapsed there keeps elapsed·rate small. */
	full_ns = cap_tokens(p) / p->rate_bytes_per_s + 1;
	if (elapsed >= full_ns) {
		p->tokens = cap_tokens(p);
		return;
	}
	p->tokens = RG_MIN(p->tokens + elapsed * p->rate_bytes_per_s, cap_tokens(p));
}

void
rg_pacer_init(struct rg_pacer *p, uint64_t rate_bytes_per_s, uint64_t burst_bytes, uint64_t now_ns)
{
	p->rate_bytes_per_s = rate_bytes_per_s;
	p->burst_bytes = burst_bytes;
	p->tokens = cap_tokens(p);
	p->last_ns = now_ns;
}

void
rg_pacer_set_rate(struct rg_pacer *p, uint64_t rate_bytes_per_s, uint64_t now_ns)
{
	if (p->rate_bytes_per_s != 0)
		refill(p, now_ns);
	else
		p->last_ns = now_ns;
	p->rate_bytes_per_s = rate_bytes_per_s;
}

int
rg_pacer_ready(struct rg_pacer *p, uint64_t bytes, uint64_t now_ns)
{
	if (p->rate_bytes_per_s == 0)
		return 1;
	refill(p, now_ns);
	return p->tokens >= RG_MIN(bytes, p->burst_bytes) * RG_NS_PER_S;
}

void
rg_pacer_consume(struct rg_pacer *p, uint64_t bytes)
{
	uint64_t t = bytes * RG_NS_PER_S;

	if (p->rate_bytes_per_s == 0)
		return;
	p->tokens = p->tokens > t ? p->tokens - t : 0;
}

uint64_t
rg_pacer_next_ns(struct rg_pacer *p, uint64_t bytes, uint64_t now_ns)
{
	uint64_t need;

	if (rg_pacer_ready(p, bytes, now_ns))
		return now_ns;
	need = RG_MIN(bytes, p->burst_bytes) * RG_NS_PER_S - p->tokens;
	return now_ns + (need + p->rate_bytes_per_s - 1) / p->rate_bytes_per_s;
}
