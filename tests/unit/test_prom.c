/* SPDX-License-Identifier: Apache-2.0 */
/* The Prometheus text formatter (apps/prom.c): exact bytes, escaping, a full buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "prom.h"

static void
test_prom_family_and_samples_exact(void **state)
{
	struct rg_prom_labels l;
	struct rg_prom p;
	char buf[512];

	(void)state;
	rg_prom_init(&p, buf, sizeof(buf));
	rg_prom_family(&p, "repgate_lane_srtt_seconds", "gauge", "Smoothed RTT of a lane.");
	rg_prom_labels_init(&l);
	rg_prom_label_u64(&l, "gateway", 1);
	rg_prom_label(&l, "peer", "2");
	rg_prom_f64(&p, "repgate_lane_srtt_seconds", &l, 0.030125);
	rg_prom_family(&p, "repgate_uptime_seconds", "gauge", "Seconds since start.");
	rg_prom_f64(&p, "repgate_uptime_seconds", NULL, 12.5);
	assert_string_equal(buf, "# HELP repgate_lane_srtt_seconds Smoothed RTT of a lane.\n"
				 "# TYPE repgate_lane_srtt_seconds gauge\n"
				 "repgate_lane_srtt_seconds{gateway=\"1\",peer=\"2\"} 0.030125\n"
				 "# HELP repgate_uptime_seconds Seconds since start.\n"
				 "# TYPE repgate_uptime_seconds gauge\n"
				 "repgate_uptime_seconds 12.5\n");
	assert_int_equal(p.len, strlen(buf));
	assert_false(p.truncated);
}

/* A counter past 2^53 prints exactly (a double would round it). */
static void
test_prom_counter_exact_integer(void **state)
{
	struct rg_prom p;
	char buf[128];

	(void)state;
	rg_prom_init(&p, buf, sizeof(buf));
	rg_prom_u64(&p, "repgate_x_total", NULL, UINT64_MAX);
	assert_string_equal(buf, "repgate_x_total 18446744073709551615\n");
}

static void
test_prom_escapes_label_values_and_help(void **state)
{
	struct rg_prom_labels l;
	struct rg_prom p;
	char buf[256];

	(void)state;
	rg_prom_init(&p, buf, sizeof(buf));
	rg_prom_family(&p, "m", "counter", "a \\ b\nc \"q\"");
	rg_prom_labels_init(&l);
	rg_prom_label(&l, "region", "a\"b\\c\nd");
	rg_prom_u64(&p, "m", &l, 3);
	assert_string_equal(buf, "# HELP m a \\\\ b\\nc \"q\"\n"
				 "# TYPE m counter\n"
				 "m{region=\"a\\\"b\\\\c\\nd\"} 3\n");
}

/*
 * Text that is not UTF-8 becomes U+FFFD byte by byte, valid sequences pass
 * whole. Cases: a stray continuation byte, 0xff, an overlong '/', a
 * surrogate, a sequence cut short by the end, then é (2 bytes), € (3), 😀 (4).
 */
static void
test_prom_label_values_are_utf8(void **state)
{
	struct rg_prom_labels l;

	(void)state;
	rg_prom_labels_init(&l);
	rg_prom_label(&l, "name",
		      "a\x80"
		      "b\xff"
		      "c\xc0\xaf"
		      "d\xed\xa0\x80"
		      "e\xc3\xa9\xe2\x82\xac"
		      "\xf0\x9f\x98\x80"
		      "\xe2\x82");
	assert_string_equal(l.s, "name=\"a\xef\xbf\xbd"
				 "b\xef\xbf\xbd"
				 "c\xef\xbf\xbd\xef\xbf\xbd"
				 "d\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
				 "e\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xef\xbf\xbd\xef\xbf\xbd\"");
}

/* A value clipped to fit ends between characters, never inside one or an escape. */
static void
test_prom_clipped_value_whole_characters(void **state)
{
	struct rg_prom_labels l;
	char big[400];
	size_t n;

	(void)state;
	for (size_t i = 0; i + 2 < sizeof(big); i += 2)
		memcpy(big + i, i == 0 ? "\"\"" : "\xc3\xa9", 2); /* "" then é... */
	big[sizeof(big) - 1] = '\0';
	big[sizeof(big) - 2] = 'x';
	rg_prom_labels_init(&l);
	rg_prom_label(&l, "a", big);
	n = strlen(l.s);
	assert_true(n > 200);
	assert_int_equal(l.s[n - 1], '"'); /* the closing quote */
	/* the last character before it is a whole é: ...\xc3\xa9" */
	assert_int_equal((unsigned char)l.s[n - 3], 0xc3);
	assert_int_equal((unsigned char)l.s[n - 2], 0xa9);
	assert_memory_equal(l.s, "a=\"\\\"\\\"", 7); /* a="\"\" */
}

static void
test_prom_special_values(void **state)
{
	struct rg_prom p;
	char buf[128];

	(void)state;
	rg_prom_init(&p, buf, sizeof(buf));
	rg_prom_f64(&p, "a", NULL, 1.0 / 0.0);
	rg_prom_f64(&p, "b", NULL, 0.0 / 0.0);
	rg_prom_f64(&p, "c", NULL, 1e-7);
	assert_string_equal(buf, "a +Inf\nb NaN\nc 1e-07\n");
}

/* A line that does not fit is left out whole and every later write is refused. */
static void
test_prom_full_buffer_keeps_whole_lines(void **state)
{
	struct rg_prom p;
	char buf[24];

	(void)state;
	rg_prom_init(&p, buf, sizeof(buf));
	rg_prom_u64(&p, "abc", NULL, 1);           /* 6 bytes */
	rg_prom_u64(&p, "defghijklmnop", NULL, 2); /* 16 bytes: 22 in all, fits with the NUL */
	rg_prom_u64(&p, "q", NULL, 3);             /* 4 more: does not fit */
	rg_prom_u64(&p, "r", NULL, 4);
	assert_true(p.truncated);
	assert_string_equal(buf, "abc 1\ndefghijklmnop 2\n");
	assert_int_equal(p.len, 22);
}

static void
test_prom_labels_overflow_is_flagged(void **state)
{
	struct rg_prom_labels l;
	char big[300];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	rg_prom_labels_init(&l);
	rg_prom_label(&l, "a", big); /* value clipped to 255 bytes, fits */
	assert_false(l.truncated);
	rg_prom_label(&l, "b", big);
	assert_true(l.truncated);
	assert_int_equal(l.len, strlen(l.s));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prom_family_and_samples_exact),
		cmocka_unit_test(test_prom_counter_exact_integer),
		cmocka_unit_test(test_prom_escapes_label_values_and_help),
		cmocka_unit_test(test_prom_label_values_are_utf8),
		cmocka_unit_test(test_prom_clipped_value_whole_characters),
		cmocka_unit_test(test_prom_special_values),
		cmocka_unit_test(test_prom_full_buffer_keeps_whole_lines),
		cmocka_unit_test(test_prom_labels_overflow_is_flagged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
