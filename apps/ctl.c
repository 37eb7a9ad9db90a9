/* SPDX-License-Identifier: Apache-2.0 */
/* STUB (branch tel only, DROP ON MERGE): enough of apps/ctl.h to build and test telemetry. No
 * thread, no detector: every peer stays ALIVE. The real one is the other engineer's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

int
rg_ctl_start(struct rg_ctl *ctl, const struct rg_ctl_config *cfg)
{
	uint64_t now = rg_worker_clock_ns(cfg->tsc0);

	memset(ctl, 0, sizeof(*ctl));
	ctl->cfg = *cfg;
	pthread_mutex_init(&ctl->lock, NULL);
	rg_membership_init(&ctl->mem);
	for (uint16_t i = 0; i < cfg->npeers; i++)
		rg_membership_add(&ctl->mem, cfg->peers[i].gw, cfg->peers[i].region, &cfg->det,
				  now);
	ctl->started = 1;
	return 0;
}

void
rg_ctl_stop(struct rg_ctl *ctl)
{
	ctl->started = 0;
}

unsigned
rg_ctl_peers(struct rg_ctl *ctl, struct rg_ctl_peer_view *out, unsigned max)
{
	unsigned n = 0;

	pthread_mutex_lock(&ctl->lock);
	for (uint16_t i = 0; i < ctl->mem.npeers && n < max; i++, n++) {
		memset(&out[n], 0, sizeof(out[n]));
		out[n].gw = ctl->mem.peers[i].gw;
		memcpy(out[n].region, ctl->mem.peers[i].region, sizeof(out[n].region));
		out[n].state = RG_LIVENESS_ALIVE;
		out[n].route = out[n].gw;
	}
	pthread_mutex_unlock(&ctl->lock);
	return n;
}

void
rg_ctl_counters(struct rg_ctl *ctl, struct rg_ctl_counters *out)
{
	pthread_mutex_lock(&ctl->lock);
	*out = ctl->ctr;
	pthread_mutex_unlock(&ctl->lock);
}

int
rg_ctl_broadcast(struct rg_ctl *ctl, const struct rg_worker_cmd *tmpl)
{
	static struct rg_worker_cmd cmds[RG_WORKER_LANES_MAX];
	struct timespec ts = { 0, 100 * 1000 };
	int sum = 0;

	for (uint16_t w = 0; w < ctl->cfg.nworkers; w++) {
		int rc;

		cmds[w] = *tmpl;
		rc = rg_worker_command(&ctl->cfg.workers[w], &cmds[w]);
		if (rc != 0)
			return rc;
		for (int i = 0; i < 20000 && !rg_worker_cmd_done(&cmds[w]); i++)
			nanosleep(&ts, NULL);
		if (!rg_worker_cmd_done(&cmds[w]))
			return -ETIMEDOUT;
		if (cmds[w].result < 0)
			return cmds[w].result;
		sum += cmds[w].result;
	}
	return sum;
}
