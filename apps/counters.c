/* SPDX-License-Identifier: Apache-2.0 */
#include "counters.h"

#include <string.h>

void
rg_counters_add(struct rg_worker_stats *sum, const struct rg_worker_stats *s)
{
	for (int i = 0; i < RG_WCTR_MAX; i++)
		sum->ctr[i] += s->ctr[i];
	for (int i = 0; i < RG_FRAME_DROP_MAX; i++)
		sum->frame_drop[i] += s->frame_drop[i];
	for (int i = 0; i < RG_CTR_MAX; i++)
		sum->core.ctr[i] += s->core.ctr[i];
	for (int i = 0; i < RG_DROP_MAX; i++)
		sum->core.drop[i] += s->core.drop[i];
	for (int i = 0; i < RG_WIRE_DROP_MAX; i++)
		sum->core.wire_drop[i] += s->core.wire_drop[i];
	for (int i = 0; i < RG_WANEM_CTR_MAX; i++)
		sum->wan.ctr[i] += s->wan.ctr[i];
	sum->busy_cycles += s->busy_cycles;
	sum->idle_cycles += s->idle_cycles;
}

/* " prefixname=v" for each nonzero v[from..n), names from name(). */
static void
put_nonzero(FILE *f, const char *prefix, const uint64_t *v, int from, int n,
	    const char *(*name)(int))
{
	for (int i = from; i < n; i++)
		if (v[i] != 0)
			fprintf(f, " %s%s=%llu", prefix, name(i), (unsigned long long)v[i]);
}

static const char *
worker_name(int i)
{
	return rg_worker_counter_name((enum rg_worker_counter)i);
}

static const char *
core_name(int i)
{
	return rg_core_counter_name((enum rg_core_counter)i);
}

static const char *
drop_name(int i)
{
	return rg_core_drop_name((enum rg_core_drop)i);
}

static const char *
wire_name(int i)
{
	return rg_wire_drop_name((enum rg_wire_drop)i);
}

static const char *
frame_name(int i)
{
	return rg_frame_drop_name((enum rg_frame_drop)i);
}

static const char *
wan_name(int i)
{
	return rg_wanem_counter_name((enum rg_wanem_counter)i);
}

void
rg_counters_print(const struct rg_worker_stats *sum, unsigned gw, FILE *f)
{
	uint64_t records =
	    sum->core.ctr[RG_CTR_published] + sum->core.ctr[RG_CTR_delivered_records];

	fprintf(f, "repgate: final counters (gateway %u):", gw);
	put_nonzero(f, "", sum->ctr, 0, RG_WCTR_MAX, worker_name);
	put_nonzero(f, "", sum->core.ctr, 0, RG_CTR_MAX, core_name);
	/* Reason 0 of each drop table is "none", not a drop. */
	put_nonzero(f, "drop_", sum->core.drop, 1, RG_DROP_MAX, drop_name);
	put_nonzero(f, "wire_", sum->core.wire_drop, 1, RG_WIRE_DROP_MAX, wire_name);
	put_nonzero(f, "frame_", sum->frame_drop, 1, RG_FRAME_DROP_MAX, frame_name);
	put_nonzero(f, "wan_", sum->wan.ctr, 0, RG_WANEM_CTR_MAX, wan_name);
	fprintf(f, " busy_cycles=%llu idle_cycles=%llu", (unsigned long long)sum->busy_cycles,
		(unsigned long long)sum->idle_cycles);
	if (records > 0)
		fprintf(f, " busy_cycles_per_record=%.0f",
			(double)sum->busy_cycles / (double)records);
	fprintf(f, "\n");
}
