/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rg-prom-sample: prints an exposition written by apps/prom.c whose label
 * values and HELP texts hold everything the format must escape or replace
 * (quotes, backslashes, newlines, bytes that are not UTF-8, a value clipped
 * mid-character), for check-promtool.sh to hand to `promtool check metrics`.
 */
#include <stdio.h>
#include <string.h>

#include "prom.h"

int
main(void)
{
	static const char *const hostile[] = {
		"plain",
		"quote \" backslash \\ newline \n end",
		"not utf-8: \x80 \xff \xc0\xaf \xed\xa0\x80 \xe2\x82",
		"utf-8: \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		"tab\tand\rcontrol\x01",
	};
	static char buf[64 << 10];
	struct rg_prom_labels l;
	struct rg_prom p;
	char big[600];

	for (size_t i = 0; i + 2 < sizeof(big); i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	big[sizeof(big) - 1] = '\0';
	rg_prom_init(&p, buf, sizeof(buf));
	rg_prom_family(&p, "repgate_info", "gauge", "Help with \\ and \n and \xff in it.");
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		rg_prom_labels_init(&l);
		rg_prom_label_u64(&l, "gateway", 1);
		rg_prom_label(&l, "name", hostile[i]);
		rg_prom_label_u64(&l, "case", i);
		rg_prom_u64(&p, "repgate_info", &l, 1);
	}
	rg_prom_labels_init(&l);
	rg_prom_label(&l, "name", big); /* clipped to 255 bytes: between two é */
	rg_prom_u64(&p, "repgate_info", &l, 1);
	rg_prom_family(&p, "repgate_x_total", "counter", "A counter.");
	rg_prom_u64(&p, "repgate_x_total", NULL, 18446744073709551615ull);
	rg_prom_family(&p, "repgate_y_seconds", "gauge", "A gauge.");
	rg_prom_f64(&p, "repgate_y_seconds", NULL, 0.0 / 0.0);
	if (p.truncated)
		return 1;
	fputs(buf, stdout);
	return 0;
}
