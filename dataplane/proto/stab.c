/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "stab.h"

int
rg_stab_init(struct rg_stab *t, uint32_t max, const struct rg_mem *mem)
{
	uint32_t size = 16;

	memset(t, 0, sizeof(*t));
	if (max == 0 || max > (1u << 30))
		return -EINVAL;
	while (size < 2 * max)
		size <<= 1;
	t->keys = rg_mem_alloc(mem, sizeof(t->keys[0]) * size);
	t->vals = rg_mem_alloc(mem, sizeof(t->vals[0]) * size);
	if (t->keys == NULL || t->vals == NULL) {
		rg_stab_fini(t, mem);
		return -ENOMEM;
	}
	t->mask = size - 1;
	t->max = max;
	return 0;
}

void
rg_stab_fini(struct rg_stab *t, const struct rg_mem *mem)
{
	rg_mem_free(mem, t->keys);
	rg_mem_free(mem, t->vals);
	t->keys = NULL;
	t->vals = NULL;
}

uint32_t
rg_stab_get(const struct rg_stab *t, uint64_t key)
{
	/* Bounded: the table is at most half full, so an empty slot ends the probe. */
	for (uint32_t i = (uint32_t)rg_stream_hash(key) & t->mask;; i = (i + 1) & t->mask) {
		if (t->keys[i] == key)
			return t->vals[i];
		if (t->keys[i] == 0)
			return RG_STAB_NONE;
	}
}

int
rg_stab_put(struct rg_stab *t, uint64_t key, uint32_t val)
{
	uint32_t i;

	RG_ASSERT(key != 0);
	for (i = (uint32_t)rg_stream_hash(key) & t->mask; t->keys[i] != 0; i = (i + 1) & t->mask)
		if (t->keys[i] == key)
			return -EEXIST;
	if (t->count >= t->max)
		return -ENOSPC;
	t->keys[i] = key;
	t->vals[i] = val;
	t->count++;
	return 0;
}
