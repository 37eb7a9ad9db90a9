/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stream table: 64-bit stream id → index, open addressing with linear
 * probing, sized at init to twice the streams it may hold (load <= 1/2, so a
 * probe visits 1.5 slots on average) and never resized. Entries are never
 * removed: a core keeps a stream's state for its lifetime (bounded by
 * streams_max), which keeps probing free of tombstones.
 */
#ifndef RG_PROTO_STAB_H
#define RG_PROTO_STAB_H

#include <stdint.h>

#include "common.h"

#define RG_STAB_NONE UINT32_MAX

struct rg_stab {
	uint64_t *keys; /* 0: empty (stream id 0 is invalid on the wire) */
	uint32_t *vals;
	uint32_t mask;
	uint32_t count;
	uint32_t max;
};

int rg_stab_init(struct rg_stab *t, uint32_t max, const struct rg_mem *mem);
void rg_stab_fini(struct rg_stab *t, const struct rg_mem *mem);

/* The index stored for key, or RG_STAB_NONE. */
uint32_t rg_stab_get(const struct rg_stab *t, uint64_t key);
/* Stores key → val; -EEXIST if key is there, -ENOSPC when max keys are stored. */
int rg_stab_put(struct rg_stab *t, uint64_t key, uint32_t val);

/* A well-mixed hash of a stream id (also picks a stream's lane). */
static inline uint64_t
rg_stream_hash(uint64_t id)
{
	uint64_t s = id;

	return rg_splitmix64(&s);
}

/* The lane (0 .. lanes - 1) that carries stream id between two gateways. */
static inline uint16_t
rg_stream_lane(uint64_t id, uint16_t lanes)
{
	return (uint16_t)(rg_stream_hash(id) % lanes);
}

#endif /* RG_PROTO_STAB_H */
