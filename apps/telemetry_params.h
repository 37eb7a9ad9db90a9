/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The parameters of the /repgate/ telemetry commands (telemetry.c), parsed by
 * pure functions: no DPDK, no app state, no globals, so the unit and fuzz
 * tests (tests/fuzz/fuzz_telemetry.c) call them as the handlers do.
 */
#ifndef RG_APPS_TELEMETRY_PARAMS_H
#define RG_APPS_TELEMETRY_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "wanem.h"

/*
 * /repgate/wan's "key=value,key=value" (keys as in the profile's wan group,
 * plus partition=on|off) applied to *c, which must hold the current
 * settings; queue_pkts may not exceed wan_cap (what the emulator holds,
 * fixed at start). *partition becomes 1 or 0 when given, else is left as it
 * is. 0, or -EINVAL with a message in err (*c and *partition may be partly
 * changed then: parse into copies).
 */
int rg_telemetry_wan_parse(const char *params, uint32_t wan_cap, struct rg_wanem_config *c,
			   int *partition, char *err, size_t errlen);

/* /repgate/streams' row count: "N" or "top=N", 1..max; def when empty or NULL; 0 when bad. */
unsigned rg_telemetry_top_param(const char *params, unsigned def, unsigned max);

#endif /* RG_APPS_TELEMETRY_PARAMS_H */
