/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pacing token bucket, one per lane. Tokens are kept in byte·ns (bytes scaled
 * by 1e9) so that refills at any rate lose no fractions. A packet may leave
 * when the bucket holds its size; the bucket holds at most burst_bytes.
 * rate_bytes_per_s == 0 means unpaced (always ready).
 */
#ifndef RG_PROTO_PACER_H
#define RG_PROTO_PACER_H

#include <stdint.h>

struct rg_pacer {
	uint64_t rate_bytes_per_s;
	uint64_t burst_bytes;
	uint64_t tokens; /* byte·ns, <= burst_bytes * 1e9 */
	uint64_t last_ns;
};

/* Starts full: a lane may send one burst at once. */
void rg_pacer_init(struct rg_pacer *p, uint64_t rate_bytes_per_s, uint64_t burst_bytes,
		   uint64_t now_ns);
/* Changes the rate, keeping the tokens earned so far. */
void rg_pacer_set_rate(struct rg_pacer *p, uint64_t rate_bytes_per_s, uint64_t now_ns);
/* Returns 1 when bytes may leave at now_ns (after refilling). */
int rg_pacer_ready(struct rg_pacer *p, uint64_t bytes, uint64_t now_ns);
/* Takes bytes out; call after a packet left. The bucket does not go below empty. */
void rg_pacer_consume(struct rg_pacer *p, uint64_t bytes);
/* When bytes may leave, at the earliest (now_ns when ready). */
uint64_t rg_pacer_next_ns(struct rg_pacer *p, uint64_t bytes, uint64_t now_ns);

#endif /* RG_PROTO_PACER_H */
