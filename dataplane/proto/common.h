/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small things every proto module uses: asserts, branch hints, the "never"
 * timestamp, the canary switches and the injected environment (memory and
 * randomness). libc only: this folder must build without DPDK.
 */
#ifndef RG_PROTO_COMMON_H
#define RG_PROTO_COMMON_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* A timestamp or deadline that never comes (ngtcp2's UINT64_MAX). */
#define RG_NS_NEVER  UINT64_MAX
#define RG_NS_PER_US 1000ull
#define RG_NS_PER_MS 1000000ull
#define RG_NS_PER_S  1000000000ull

#define RG_LIKELY(x)     __builtin_expect(!!(x), 1)
#define RG_UNLIKELY(x)   __builtin_expect(!!(x), 0)
#define RG_CACHE_LINE    64
#define RG_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define RG_MIN(a, b)     ((a) < (b) ? (a) : (b))
#define RG_MAX(a, b)     ((a) > (b) ? (a) : (b))

void rg_assert_fail(const char *expr, const char *file, int line) __attribute__((noreturn));

/* RG_ASSERT is cheap and always on; RG_DEBUG_ASSERT is on in debug, test and sim builds. */
#define RG_ASSERT(x)                                            \
	do {                                                    \
		if (RG_UNLIKELY(!(x)))                          \
			rg_assert_fail(#x, __FILE__, __LINE__); \
	} while (0)
#ifdef RG_DEBUG
#define RG_DEBUG_ASSERT(x) RG_ASSERT(x)
#else
#define RG_DEBUG_ASSERT(x)       \
	do {                     \
		(void)sizeof(x); \
	} while (0)
#endif

/*
 * Canaries: a build option plants exactly one deliberate bug so that a test can
 * prove the simulator's history checker catches it (TigerBeetle's practice).
 * Release builds compile with RG_CANARY undefined, i.e. RG_CANARY_NONE.
 */
#define RG_CANARY_NONE        0
#define RG_CANARY_ACCEPT_DUP  1 /* the receiver delivers a record it already delivered */
#define RG_CANARY_REORDER     2 /* the reorder window releases records past a gap */
#define RG_CANARY_SKIP_CRC    3 /* the packet integrity tag is not checked */
#define RG_CANARY_TRIM_ON_ACK 4 /* the producer trims its log on acked, not applied */
#define RG_CANARY_RELAY_EARLY_RELEASE \
	5 /* a relay lets go of a record before the next hop acks it */
#ifndef RG_CANARY
#define RG_CANARY RG_CANARY_NONE
#endif
#define RG_CANARY_IS(name) (RG_CANARY == RG_CANARY_##name)

/*
 * Memory is injected at construction and used only there: no allocation after
 * init. alloc returns zeroed memory aligned to at least RG_CACHE_LINE, or NULL.
 */
struct rg_mem {
	void *(*alloc)(void *ctx, size_t size);
	void (*free)(void *ctx, void *p);
	void *ctx;
};

/* Randomness is injected too: next() returns 64 uniformly random bits. */
struct rg_rng {
	uint64_t (*next)(void *ctx);
	void *ctx;
};

/* libc-backed defaults for tests and tools; the DPDK glue injects its own. */
const struct rg_mem *rg_mem_default(void);
void *rg_mem_alloc(const struct rg_mem *mem, size_t size);
void rg_mem_free(const struct rg_mem *mem, void *p);

/* A small, fast, seeded generator (splitmix64) for tests, sims and tools. */
static inline uint64_t
rg_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline int
rg_is_pow2(uint64_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

#endif /* RG_PROTO_COMMON_H */
