/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "common.h"

void
rg_assert_fail(const char *expr, const char *file, int line)
{
	fprintf(stderr, "repgate: assertion failed: %s (%s:%d)\n", expr, file, line);
	abort();
}

static void *
libc_alloc(void *ctx, size_t size)
{
	size_t rounded = (size + RG_CACHE_LINE - 1) & ~(size_t)(RG_CACHE_LINE - 1);
	void *p;

	(void)ctx;
	p = aligned_alloc(RG_CACHE_LINE, rounded == 0 ? RG_CACHE_LINE : rounded);
	if (p != NULL)
		memset(p, 0, rounded);
	return p;
}

static void
libc_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}

static const struct rg_mem libc_mem = { .alloc = libc_alloc, .free = libc_free, .ctx = NULL };

const struct rg_mem *
rg_mem_default(void)
{
	return &libc_mem;
}

void *
rg_mem_alloc(const struct rg_mem *mem, size_t size)
{
	return mem->alloc(mem->ctx, size);
}

void
rg_mem_free(const struct rg_mem *mem, void *p)
{
	if (p != NULL)
		mem->free(mem->ctx, p);
}
