/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A log-linear latency histogram (HDR-style), shared by the verifying consumer
 * and the kernel-TCP baseline so their percentiles compare directly. Values
 * below 16 get a bucket each; above, each power of two [2^m, 2^(m+1)) is cut
 * into 16 equal buckets (each ≤ 6.25 % wide): bucket (m - 3) * 16 + the 4 bits
 * below the top one. Example: v = 1000 ns (m = 9, bits below the top 1111) →
 * bucket 111, which holds [992, 1024). Percentiles report a bucket's floor.
 */
#ifndef RG_APPS_HIST_H
#define RG_APPS_HIST_H

#include <stdint.h>

#define RG_HIST_SUB     16
#define RG_HIST_BUCKETS (64 * RG_HIST_SUB)

static inline uint32_t
rg_hist_bucket(uint64_t v)
{
	uint32_t msb;

	if (v < RG_HIST_SUB)
		return (uint32_t)v;
	msb = 63u - (uint32_t)__builtin_clzll(v);
	return (msb - 3) * RG_HIST_SUB + (uint32_t)((v >> (msb - 4)) & (RG_HIST_SUB - 1));
}

/* The smallest value of bucket b (the inverse of rg_hist_bucket()). */
static inline uint64_t
rg_hist_floor(uint32_t b)
{
	uint32_t e = b / RG_HIST_SUB, sub = b % RG_HIST_SUB;

	if (e == 0)
		return b;
	return (uint64_t)(RG_HIST_SUB + sub) << (e - 1);
}

/* The q-quantile of n counted values, in the unit of the values; 0 when there are none. */
static inline uint64_t
rg_hist_quantile(const uint64_t *hist, uint64_t n, double q)
{
	uint64_t want = (uint64_t)(q * (double)n), seen = 0;

	for (uint32_t b = 0; b < RG_HIST_BUCKETS; b++) {
		seen += hist[b];
		if (seen > want)
			return rg_hist_floor(b);
	}
	return 0;
}

#endif /* RG_APPS_HIST_H */
