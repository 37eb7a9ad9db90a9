/* SPDX-License-Identifier: Apache-2.0 */
/* Stream table (id → index) and the stream → lane hash. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "stab.h"

static void
test_stab_put_get(void **state)
{
	struct rg_stab t;

	(void)state;
	assert_int_equal(rg_stab_init(&t, 4, rg_mem_default()), 0);
	assert_int_equal(t.mask + 1, 16); /* at least 16 slots and >= 2 * max */
	assert_int_equal(rg_stab_get(&t, 7), RG_STAB_NONE);
	assert_int_equal(rg_stab_put(&t, 7, 70), 0);
	assert_int_equal(rg_stab_put(&t, 0xffffffffffffffffull, 0), 0);
	assert_int_equal(rg_stab_get(&t, 7), 70);
	assert_int_equal(rg_stab_get(&t, 0xffffffffffffffffull), 0);
	assert_int_equal(rg_stab_get(&t, 8), RG_STAB_NONE);
	assert_int_equal(t.count, 2);
	rg_stab_fini(&t, rg_mem_default());
	assert_null(t.keys);
	assert_null(t.vals);
}

static void
test_stab_put_existing_is_eexist(void **state)
{
	struct rg_stab t;

	(void)state;
	assert_int_equal(rg_stab_init(&t, 4, rg_mem_default()), 0);
	assert_int_equal(rg_stab_put(&t, 7, 70), 0);
	assert_int_equal(rg_stab_put(&t, 7, 71), -EEXIST);
	assert_int_equal(rg_stab_get(&t, 7), 70); /* unchanged */
	assert_int_equal(t.count, 1);
	rg_stab_fini(&t, rg_mem_default());
}

static void
test_stab_put_full_is_enospc(void **state)
{
	struct rg_stab t;

	(void)state;
	assert_int_equal(rg_stab_init(&t, 4, rg_mem_default()), 0);
	for (uint64_t k = 1; k <= 4; k++)
		assert_int_equal(rg_stab_put(&t, k * 1000, (uint32_t)k), 0);
	assert_int_equal(rg_stab_put(&t, 5000, 5), -ENOSPC);
	assert_int_equal(rg_stab_get(&t, 5000), RG_STAB_NONE);
	/* A key already there is still EEXIST when full. */
	assert_int_equal(rg_stab_put(&t, 2000, 9), -EEXIST);
	assert_int_equal(t.count, 4);
	for (uint64_t k = 1; k <= 4; k++)
		assert_int_equal(rg_stab_get(&t, k * 1000), k);
	rg_stab_fini(&t, rg_mem_default());
}

static void
test_stab_init_rejects_bad_sizes(void **state)
{
	struct rg_stab t;

	(void)state;
	assert_int_equal(rg_stab_init(&t, 0, rg_mem_default()), -EINVAL);
	assert_int_equal(rg_stab_init(&t, (1u << 30) + 1, rg_mem_default()), -EINVAL);
	rg_stab_fini(&t, rg_mem_default()); /* harmless after a failed init */
}

static void
test_stab_many_keys(void **state)
{
	const uint32_t max = 5000;
	struct rg_stab t;
	uint64_t rng = 7;
	uint32_t checked = 0, absent = 0;
	static uint64_t keys[5000];

	(void)state;
	assert_int_equal(rg_stab_init(&t, max, rg_mem_default()), 0);
	assert_int_equal(t.mask + 1, 16384); /* the power of two >= 2 * 5000 */
	/* Half sequential ids (clustered), half random ones. */
	for (uint32_t i = 0; i < max; i++) {
		keys[i] = i % 2 ? i + 1 : (rg_splitmix64(&rng) | 1ull << 63);
		assert_int_equal(rg_stab_put(&t, keys[i], i), 0);
	}
	assert_int_equal(t.count, max);
	for (uint32_t i = 0; i < max; i++) {
		assert_int_equal(rg_stab_get(&t, keys[i]), i);
		checked++;
	}
	assert_int_equal(checked, max);
	/* Absent keys: the odd small ids (the present ones are the even ids 2..5000). */
	for (uint64_t k = 1; k < 2 * (uint64_t)max; k += 2) {
		assert_int_equal(rg_stab_get(&t, k), RG_STAB_NONE);
		absent++;
	}
	assert_int_equal(absent, max);
	assert_int_equal(rg_stab_put(&t, 1ull << 41, 0), -ENOSPC);
	rg_stab_fini(&t, rg_mem_default());
}

static void
test_stab_stream_hash_is_splitmix64(void **state)
{
	(void)state;
	/* splitmix64's first outputs for seeds 0 and 1. */
	assert_int_equal(rg_stream_hash(0), 0xe220a8397b1dcdafull);
	assert_int_equal(rg_stream_hash(1), 0x910a2dec89025cc1ull);
	assert_int_equal(rg_stream_lane(7, 4), 3);
	assert_int_equal(rg_stream_lane(1, 3), 2);
}

static void
test_stab_stream_lane_in_range_and_spread(void **state)
{
	uint32_t checked = 0;

	(void)state;
	for (uint16_t lanes = 1; lanes <= 16; lanes++) {
		uint32_t per_lane[16] = { 0 };

		for (uint64_t id = 1; id <= 4000; id++) {
			uint16_t lane = rg_stream_lane(id, lanes);

			assert_true(lane < lanes);
			assert_int_equal(lane, rg_stream_lane(id, lanes)); /* stable */
			per_lane[lane]++;
			checked++;
		}
		/* 4000 ids over at most 16 lanes: each gets about 4000 / lanes, at least half of it. */
		for (uint16_t k = 0; k < lanes; k++)
			assert_true(per_lane[k] >= 4000 / lanes / 2);
	}
	assert_int_equal(checked, 16 * 4000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stab_put_get),
		cmocka_unit_test(test_stab_put_existing_is_eexist),
		cmocka_unit_test(test_stab_put_full_is_enospc),
		cmocka_unit_test(test_stab_init_rejects_bad_sizes),
		cmocka_unit_test(test_stab_many_keys),
		cmocka_unit_test(test_stab_stream_hash_is_splitmix64),
		cmocka_unit_test(test_stab_stream_lane_in_range_and_spread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
