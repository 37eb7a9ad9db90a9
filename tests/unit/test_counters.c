/* SPDX-License-Identifier: Apache-2.0 */
/* The final counters line (apps/counters.c): every kind of counter is summed and named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "counters.h"

/* The line for sum, in a buffer the caller frees. */
static char *
line_of(const struct rg_worker_stats *sum)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	rg_counters_print(sum, 7, f);
	fclose(f);
	return buf;
}

static void
assert_has(const char *line, const char *want)
{
	if (strstr(line, want) == NULL)
		fail_msg("'%s' not in: %s", want, line);
}

/* Two workers' stats: each table's entries add up and carry their prefix. */
static void
test_counters_every_table_summed_and_named(void **state)
{
	struct rg_worker_stats a, b, sum;
	char want[128], *line;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&sum, 0, sizeof(sum));
	a.ctr[RG_WCTR_MAX - 1] = 1;
	a.core.ctr[RG_CTR_rx_pkts] = 2;
	a.core.drop[RG_DROP_UNKNOWN_PEER] = 3;
	a.core.wire_drop[RG_WIRE_DROP_BAD_CRC] = 4;
	a.frame_drop[1] = 5;
	b.frame_drop[1] = 6;
	b.frame_drop[RG_FRAME_DROP_MAX - 1] = 7;
	a.wan.ctr[0] = 8;
	a.busy_cycles = 100;
	b.idle_cycles = 200;
	rg_counters_add(&sum, &a);
	rg_counters_add(&sum, &b);
	line = line_of(&sum);
	assert_has(line, "repgate: final counters (gateway 7):");
	snprintf(want, sizeof(want), " %s=1", rg_worker_counter_name(RG_WCTR_MAX - 1));
	assert_has(line, want);
	snprintf(want, sizeof(want), " %s=2", rg_core_counter_name(RG_CTR_rx_pkts));
	assert_has(line, want);
	snprintf(want, sizeof(want), " drop_%s=3", rg_core_drop_name(RG_DROP_UNKNOWN_PEER));
	assert_has(line, want);
	snprintf(want, sizeof(want), " wire_%s=4", rg_wire_drop_name(RG_WIRE_DROP_BAD_CRC));
	assert_has(line, want);
	snprintf(want, sizeof(want), " frame_%s=11", rg_frame_drop_name(1));
	assert_has(line, want);
	snprintf(want, sizeof(want), " frame_%s=7", rg_frame_drop_name(RG_FRAME_DROP_MAX - 1));
	assert_has(line, want);
	snprintf(want, sizeof(want), " wan_%s=8", rg_wanem_counter_name(0));
	assert_has(line, want);
	assert_has(line, " busy_cycles=100 idle_cycles=200");
	assert_int_equal(line[strlen(line) - 1], '\n');
	free(line);
}

/* Zeros are left out, and so is reason 0 ("none") of every drop table. */
static void
test_counters_zero_left_out(void **state)
{
	struct rg_worker_stats sum;
	char *line;

	(void)state;
	memset(&sum, 0, sizeof(sum));
	sum.frame_drop[0] = 9;
	sum.core.wire_drop[0] = 9;
	sum.core.drop[0] = 9;
	line = line_of(&sum);
	assert_string_equal(line,
			    "repgate: final counters (gateway 7): busy_cycles=0 idle_cycles=0\n");
	free(line);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counters_every_table_summed_and_named),
		cmocka_unit_test(test_counters_zero_left_out),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
