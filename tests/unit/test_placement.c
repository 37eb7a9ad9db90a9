/* SPDX-License-Identifier: Apache-2.0 */
/* The NUMA placement warning: when it must and must not appear. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "placement.h"

static void
test_placement_warns_for_each_worker_on_another_node(void **state)
{
	const int nodes[] = { 0, 1, 1, 0 }, cpus[] = { 2, 20, 21, 3 };
	char buf[1024];

	(void)state;
	assert_int_equal(rg_placement_warnings(nodes, cpus, 4, 0, "0000:3b:00.0", buf, sizeof(buf)),
			 2);
	assert_non_null(strstr(buf,
			       "worker 1 runs on CPU 20, NUMA node 1, but port 0000:3b:00.0 is "
			       "on node 0"));
	assert_non_null(strstr(buf, "worker 2 runs on CPU 21"));
	assert_null(strstr(buf, "worker 0 "));
	assert_null(strstr(buf, "worker 3 "));
}

static void
test_placement_silent_when_placed_or_unknown(void **state)
{
	const int same[] = { 1, 1 }, unknown[] = { -1, -1 }, cpus[] = { 4, 5 };
	char buf[256];

	(void)state;
	assert_int_equal(rg_placement_warnings(same, cpus, 2, 1, "p", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(rg_placement_warnings(unknown, cpus, 2, 1, "p", buf, sizeof(buf)), 0);
	/* A virtual device has no node: nothing to compare with. */
	assert_int_equal(rg_placement_warnings(same, cpus, 2, -1, "net_memif0", buf, sizeof(buf)),
			 0);
}

static void
test_placement_counts_past_a_full_buffer(void **state)
{
	const int nodes[] = { 1, 1, 1 }, cpus[] = { 1, 2, 3 };
	char buf[8];

	(void)state;
	assert_int_equal(rg_placement_warnings(nodes, cpus, 3, 0, "p", buf, sizeof(buf)), 3);
	assert_int_equal(strlen(buf), 7);
}

static void
test_placement_node_of_cpu_this_machine(void **state)
{
	(void)state;
	/* CPU 0 exists everywhere; its node is 0 or more when libnuma works, -1 when it does not. */
	assert_true(rg_placement_node_of_cpu(0) >= -1);
	assert_int_equal(rg_placement_node_of_cpu(-1), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_placement_warns_for_each_worker_on_another_node),
		cmocka_unit_test(test_placement_silent_when_placed_or_unknown),
		cmocka_unit_test(test_placement_counts_past_a_full_buffer),
		cmocka_unit_test(test_placement_node_of_cpu_this_machine),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
