/* SPDX-License-Identifier: Apache-2.0 */
/* The telemetry commands' parameter parsers (telemetry_params.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "telemetry_params.h"

/* One "key=value" into c; 0 or -EINVAL with a message. */
static int
wan_key(struct rg_wanem_config *c, uint32_t wan_cap, int *partition, const char *k, const char *v,
	char *err, size_t errlen)
{
	static const struct {
		const char *key;
		size_t off;
		int kind; /* 0 probability/double, 1 ms → ns, 2 Mbit/s → bytes/s, 3 u32, 4 u64 */
	} keys[] = {
		{ "delay_ms", offsetof(struct rg_wanem_config, delay_ns), 1 },
		{ "jitter_ms", offsetof(struct rg_wanem_config, jitter_ns), 1 },
		{ "reorder_ms", offsetof(struct rg_wanem_config, reorder_ns), 1 },
		{ "loss", offsetof(struct rg_wanem_config, loss), 0 },
		{ "burst_enter", offsetof(struct rg_wanem_config, burst_enter), 0 },
		{ "burst_exit", offsetof(struct rg_wanem_config, burst_exit), 0 },
		{ "burst_loss", offsetof(struct rg_wanem_config, burst_loss), 0 },
		{ "dup", offsetof(struct rg_wanem_config, dup), 0 },
		{ "reorder", offsetof(struct rg_wanem_config, reorder), 0 },
		{ "corrupt", offsetof(struct rg_wanem_config, corrupt), 0 },
		{ "rate_mbit_s", offsetof(struct rg_wanem_config, rate_bytes_per_s), 2 },
		{ "queue_pkts", offsetof(struct rg_wanem_config, queue_pkts_max), 3 },
		{ "queue_bytes", offsetof(struct rg_wanem_config, queue_bytes_max), 4 },
		{ "seed", offsetof(struct rg_wanem_config, seed), 4 },
	};
	const double time_ms_max = (double)RG_WANEM_TIME_NS_MAX / 1e6;
	const double rate_mbit_max = (double)RG_WANEM_RATE_MAX * 8 / 1e6;
	char *end;
	double d;

	if (strcmp(k, "partition") == 0) {
		*partition = strcmp(v, "on") == 0 || strcmp(v, "1") == 0    ? 1
			     : strcmp(v, "off") == 0 || strcmp(v, "0") == 0 ? 0
									    : -2;
		if (*partition == -2)
			snprintf(err, errlen, "partition=%s: on or off", v);
		return *partition == -2 ? -EINVAL : 0;
	}
	for (size_t i = 0; i < RG_ARRAY_SIZE(keys); i++) {
		uint8_t *f = (uint8_t *)c + keys[i].off;
		unsigned long long u;

		if (strcmp(k, keys[i].key) != 0)
			continue;
		errno = 0;
		if (keys[i].kind >= 3) { /* integers: exact, no trip through a double */
			u = strtoull(v, &end, 10);
			if (end == v || *end != '\0' || errno != 0 || v[0] == '-') {
				snprintf(err, errlen, "%s=%s: not a whole number >= 0", k, v);
				return -EINVAL;
			}
			if (keys[i].kind == 4) {
				*(uint64_t *)(void *)f = u;
				return 0;
			}
			if (u == 0 || u > wan_cap) {
				snprintf(
				    err, errlen,
				    "%s=%s: 1..%u (the emulator holds what wan.queue_pkts gave it "
				    "at start)",
				    k, v, wan_cap);
				return -EINVAL;
			}
			*(uint32_t *)(void *)f = (uint32_t)u;
			return 0;
		}
		d = strtod(v, &end);
		if (end == v || *end != '\0' || errno != 0 || !isfinite(d) || !(d >= 0)) {
			snprintf(err, errlen, "%s=%s: not a finite number >= 0", k, v);
			return -EINVAL;
		}
		if ((keys[i].kind == 1 && d > time_ms_max) ||
		    (keys[i].kind == 2 && d > rate_mbit_max)) {
			snprintf(err, errlen, "%s=%s: at most %g", k, v,
				 keys[i].kind == 1 ? time_ms_max : rate_mbit_max);
			return -EINVAL;
		}
		if (keys[i].kind == 0)
			*(double *)(void *)f =
			    d; /* probabilities: rg_wanem_config_check has the range */
		else if (keys[i].kind == 1)
			*(uint64_t *)(void *)f = (uint64_t)(d * 1e6);
		else
			*(uint64_t *)(void *)f = (uint64_t)(d * 1e6 / 8);
		return 0;
	}
	snprintf(err, errlen,
		 "%s: unknown (delay_ms jitter_ms loss burst_enter burst_exit burst_loss dup "
		 "reorder reorder_ms corrupt rate_mbit_s queue_pkts queue_bytes seed partition)",
		 k);
	return -EINVAL;
}

int
rg_telemetry_wan_parse(const char *params, uint32_t wan_cap, struct rg_wanem_config *c,
		       int *partition, char *err, size_t errlen)
{
	char buf[512], *save = NULL;
	int rc = 0;

	if (strlen(params) >= sizeof(buf)) {
		snprintf(err, errlen, "parameters too long");
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", params);
	for (char *kv = strtok_r(buf, ", ", &save); kv != NULL && rc == 0;
	     kv = strtok_r(NULL, ", ", &save)) {
		char *eq = strchr(kv, '=');

		if (eq == NULL) {
			snprintf(err, errlen, "%s: expected key=value", kv);
			return -EINVAL;
		}
		*eq = '\0';
		rc = wan_key(c, wan_cap, partition, kv, eq + 1, err, errlen);
	}
	if (rc == 0 && rg_wanem_config_check(c, err, errlen) != 0)
		rc = -EINVAL;
	return rc;
}

unsigned
rg_telemetry_top_param(const char *params, unsigned def, unsigned max)
{
	const char *p;
	char *end;
	long n;

	if (params == NULL || *params == '\0')
		return def;
	p = strncmp(params, "top=", 4) == 0 ? params + 4 : params;
	errno = 0;
	n = strtol(p, &end, 10);
	if (end == p || *end != '\0' || errno != 0 || n < 1 || n > (long)max)
		return 0;
	return (unsigned)n;
}
