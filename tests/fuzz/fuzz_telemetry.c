/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the parameter parsers of the /repgate/ telemetry commands
 * (apps/telemetry_params.c): /repgate/wan's "key=value,..." and
 * /repgate/streams' row count, on any string a telemetry client may send.
 *
 * The input is the parameter string (up to its first NUL, as DPDK's
 * telemetry hands it over). What must hold, or the target aborts:
 *   1. the row count is 0 (refused), the default, or 1..TOP_MAX;
 *   2. err is a NUL-terminated message when the wan parser refuses;
 *   3. a wan config the parser accepts is one a running emulator takes
 *      (rg_wanem_set_config asserts rg_wanem_config_check), and the emulator
 *      then carries packets with it without breaking its invariants
 *      (rg_wanem_check), as a worker does after /repgate/wan.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "telemetry_params.h"
#include "wanem.h"

#define TOP_DEFAULT 10 /* telemetry.c's */
#define TOP_MAX     32
#define WAN_CAP     64 /* the emulator's slots: what queue_pkts may be set to */
#define PKTS        16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct pkt {
	uint8_t bytes[64];
	int live;
};

static struct pkt pkts[PKTS];

static void
pkt_drop(void *ctx, void *p)
{
	(void)ctx;
	if (!((struct pkt *)p)->live)
		abort(); /* dropped twice, or never given */
	((struct pkt *)p)->live = 0;
}

static uint8_t *
pkt_bytes(void *ctx, void *p, uint32_t *len)
{
	(void)ctx;
	*len = sizeof(((struct pkt *)p)->bytes);
	return ((struct pkt *)p)->bytes;
}

/* Property 3: a worker's emulator under the new settings, for a few simulated seconds. */
static void
run_emulator(const struct rg_wanem_config *c)
{
	const struct rg_wanem_ops ops = { .drop = pkt_drop, .bytes = pkt_bytes };
	struct rg_wanem_config start;
	struct rg_wanem em;
	void *v[PKTS], *out[PKTS];
	uint64_t now = 1000 * RG_NS_PER_S;

	rg_wanem_config_default(&start);
	start.queue_pkts_max = WAN_CAP;
	if (rg_wanem_init(&em, &start, &ops, rg_mem_default()) != 0)
		abort();
	rg_wanem_set_config(&em, c);
	for (int round = 0; round < 4; round++) {
		uint32_t n = 0, got;

		for (int i = 0; i < PKTS; i++)
			if (!pkts[i].live) {
				pkts[i].live = 1;
				memset(pkts[i].bytes, i, sizeof(pkts[i].bytes));
				v[n++] = &pkts[i];
			}
		rg_wanem_enqueue(&em, v, n, now);
		if (rg_wanem_check(&em) != 0)
			abort();
		now += RG_NS_PER_S;
		got = rg_wanem_dequeue(&em, out, PKTS, now);
		for (uint32_t i = 0; i < got; i++)
			pkt_drop(NULL, out[i]);
		if (rg_wanem_check(&em) != 0)
			abort();
	}
	rg_wanem_fini(&em, rg_mem_default());
	for (int i = 0; i < PKTS; i++)
		if (pkts[i].live)
			abort(); /* fini must give back every packet it held */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *params = malloc(size + 1), err[256];
	struct rg_wanem_config c;
	int partition = -1, rc;
	unsigned n;

	if (params == NULL)
		return 0;
	memcpy(params, data, size);
	params[size] = '\0';

	n = rg_telemetry_top_param(params, TOP_DEFAULT, TOP_MAX);
	if (n > TOP_MAX)
		abort();

	rg_wanem_config_default(&c);
	c.queue_pkts_max = WAN_CAP;
	err[0] = '\0';
	memset(err + 1, 'x', sizeof(err) - 1);
	rc = rg_telemetry_wan_parse(params, WAN_CAP, &c, &partition, err, sizeof(err));
	if (rc != 0 && (rc != -EINVAL || err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL))
		abort();
	if (rc == 0) {
		/* on a refusal *partition, like *c, may hold a partial result: the caller drops it */
		if (partition < -1 || partition > 1)
			abort();
		if (rg_wanem_config_check(&c, NULL, 0) != 0 || c.queue_pkts_max > WAN_CAP)
			abort();
		run_emulator(&c);
	}
	free(params);
	return 0;
}
