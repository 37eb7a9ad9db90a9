/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_lcore.h>
#include <rte_malloc.h>

#include "ctl.h"

static void
log_change(const struct rg_ctl *ctl, const struct rg_member_change *ch, uint64_t now)
{
	int i = rg_membership_find(&ctl->mem, ch->gw);
	const struct rg_member *p = &ctl->mem.peers[i];
	uint64_t silent =
	    now > p->last_heard_ns && p->last_heard_ns != 0 ? now - p->last_heard_ns : 0;

	if (ctl->cfg.quiet)
		return;
	if (ch->from != ch->to)
		fprintf(stderr,
			"repgate: peer %u (region %s): %s -> %s (phi %.1f, silent %.0f ms)\n",
			ch->gw, p->region, rg_liveness_name(ch->from), rg_liveness_name(ch->to),
			ch->phi, (double)silent / 1e6);
	if (ch->route_from != ch->route_to)
		fprintf(stderr, "repgate: peer %u: its streams go to gateway %u (were on %u)\n",
			ch->gw, ch->route_to, ch->route_from);
}

int
rg_ctl_broadcast(struct rg_ctl *ctl, const struct rg_worker_cmd *tmpl)
{
	uint16_t n = ctl->cfg.nworkers;
	struct rg_worker_cmd *cmds = calloc(n, sizeof(*cmds));
	uint64_t deadline;
	int sum = 0, err = 0, waiting = 0;
	struct timespec ts = { 0, 100 * 1000 };

	if (cmds == NULL)
		return -ENOMEM;
	for (uint16_t w = 0; w < n; w++) {
		cmds[w] = *tmpl;
		if ((err = rg_worker_command(&ctl->cfg.workers[w], &cmds[w])) != 0)
			break;
		waiting = w + 1;
	}
	/* Bounded by cmd_timeout_ns; the workers answer within a millisecond when they run. */
	deadline = rg_worker_clock_ns(ctl->cfg.tsc0) + ctl->cfg.cmd_timeout_ns;
	for (int w = 0; w < waiting; w++) {
		while (!rg_worker_cmd_done(&cmds[w]) &&
		       rg_worker_clock_ns(ctl->cfg.tsc0) < deadline)
			nanosleep(&ts, NULL);
		if (!rg_worker_cmd_done(&cmds[w])) {
			/* Still queued or running: the worker owns the memory now. */
			fprintf(stderr, "repgate: worker %d did not answer a command in %.0f ms\n",
				w, (double)ctl->cfg.cmd_timeout_ns / 1e6);
			return -ETIMEDOUT;
		}
		if (cmds[w].result < 0 && err == 0)
			err = cmds[w].result;
		else if (cmds[w].result > 0)
			sum += cmds[w].result;
	}
	free(cmds);
	return err != 0 ? err : sum;
}

static int
alive(const struct rg_ctl *ctl, uint16_t gw)
{
	int i = rg_membership_find(&ctl->mem, gw);

	return i >= 0 && ctl->mem.peers[i].state == RG_LIVENESS_ALIVE;
}

static int
dead(const struct rg_ctl *ctl, uint16_t gw)
{
	int i = rg_membership_find(&ctl->mem, gw);

	return i >= 0 && ctl->mem.peers[i].state == RG_LIVENESS_DEAD;
}

/*
 * Makes where the streams are (placed) follow where membership routes them.
 * A move goes only from a DEAD gateway to an ALIVE one: streams never leave
 * a live receiver (that needs the handoff drain of DESIGN §4.7) and never go
 * to one that is not there. A move that failed (a worker busy, say) is tried
 * again next period; the workers' cores move every stream on the gateway,
 * whoever it was bound to, so every peer placed there follows.
 */
static void
reconcile(struct rg_ctl *ctl)
{
	for (uint16_t i = 0; i < ctl->mem.npeers; i++) {
		struct rg_worker_cmd cmd = { .type = RG_WCMD_FAILOVER };
		uint16_t from = ctl->placed[i], to = ctl->mem.peers[i].route;
		int rc;

		if (from == to || !dead(ctl, from) || !alive(ctl, to))
			continue;
		cmd.gw = from;
		cmd.to_gw = to;
		rc = rg_ctl_broadcast(ctl, &cmd);
		pthread_mutex_lock(&ctl->lock);
		if (rc >= 0) {
			ctl->ctr.failovers++;
			ctl->ctr.streams_moved += (uint64_t)rc;
			for (uint16_t j = 0; j < ctl->mem.npeers; j++)
				if (ctl->placed[j] == from)
					ctl->placed[j] = to;
		} else {
			ctl->ctr.cmd_failed++;
		}
		pthread_mutex_unlock(&ctl->lock);
		if (!ctl->cfg.quiet)
			fprintf(stderr, "repgate: failover %u -> %u: %d streams moved%s\n", from,
				to, rc < 0 ? 0 : rc,
				rc < 0 ? " (a worker refused: trying again)" : "");
	}
}

/* One period: stats up, detectors, transitions, commands down. */
static void
tick(struct rg_ctl *ctl)
{
	struct rg_member_change ch[RG_MEMBERSHIP_PEERS_MAX * 2];
	uint64_t heard[RG_MEMBERSHIP_PEERS_MAX] = { 0 }, inc[RG_MEMBERSHIP_PEERS_MAX] = { 0 };
	uint64_t now;
	unsigned n;
	int restarted[RG_MEMBERSHIP_PEERS_MAX] = { 0 };

	/* The newest packet from each peer over every worker and lane: one heartbeat a period. */
	for (uint16_t w = 0; w < ctl->cfg.nworkers; w++) {
		struct rg_worker_stats *st = ctl->scratch;

		rg_worker_stats(&ctl->cfg.workers[w], st);
		for (uint16_t l = 0; l < st->nlanes; l++) {
			const struct rg_lane_info *li = &st->lanes[l];
			int i = rg_membership_find(&ctl->mem, li->peer_gw);

			if (i < 0)
				continue;
			heard[i] = RG_MAX(heard[i], li->last_rx_ns);
			inc[i] = RG_MAX(inc[i], li->peer_inc);
		}
	}
	pthread_mutex_lock(&ctl->lock);
	for (uint16_t i = 0; i < ctl->mem.npeers; i++) {
		uint16_t gw = ctl->mem.peers[i].gw;

		if (heard[i] != 0)
			rg_membership_heard(&ctl->mem, gw, heard[i]);
		restarted[i] = rg_membership_incarnation(&ctl->mem, gw, inc[i]);
	}
	now = rg_worker_clock_ns(ctl->cfg.tsc0);
	n = rg_membership_update(&ctl->mem, now, ch, RG_ARRAY_SIZE(ch));
	ctl->ctr.ticks++;
	ctl->ctr.now_ns = now;
	for (unsigned k = 0; k < n; k++)
		if (ch[k].from != ch[k].to)
			ctl->ctr.transitions[ch[k].from][ch[k].to]++;
	for (uint16_t i = 0; i < ctl->mem.npeers; i++)
		ctl->ctr.restarts_seen += (uint64_t)restarted[i];
	pthread_mutex_unlock(&ctl->lock);

	for (uint16_t i = 0; i < ctl->mem.npeers; i++)
		if (restarted[i] && !ctl->cfg.quiet)
			fprintf(stderr,
				"repgate: peer %u restarted (incarnation %#" PRIx64
				"): its streams resume from the applied watermarks\n",
				ctl->mem.peers[i].gw, ctl->mem.peers[i].incarnation);
	for (unsigned k = 0; k < n; k++)
		log_change(ctl, &ch[k], now);
	reconcile(ctl);
}

static void *
ctl_main(void *arg)
{
	struct rg_ctl *ctl = arg;
	struct timespec ts = { (time_t)(ctl->cfg.period_ns / RG_NS_PER_S),
			       (long)(ctl->cfg.period_ns % RG_NS_PER_S) };

	while (!__atomic_load_n(&ctl->stop, __ATOMIC_ACQUIRE)) { /* pairs with T1 */
		tick(ctl);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

int
rg_ctl_start(struct rg_ctl *ctl, const struct rg_ctl_config *cfg)
{
	uint64_t now = rg_worker_clock_ns(cfg->tsc0);
	int rc;

	memset(ctl, 0, sizeof(*ctl));
	ctl->cfg = *cfg;
	pthread_mutex_init(&ctl->lock, NULL);
	rg_membership_init(&ctl->mem);
	if (rg_detector_config_check(&cfg->det) != 0) {
		fprintf(stderr, "repgate: membership: the failure detector's settings make no "
				"sense (dead_phi must exceed suspect_phi; times > 0)\n");
		return -EINVAL;
	}
	for (uint16_t i = 0; i < cfg->npeers; i++)
		if ((rc = rg_membership_add(&ctl->mem, cfg->peers[i].gw, cfg->peers[i].region,
					    &cfg->det, now)) != 0) {
			fprintf(stderr, "repgate: membership: peer %u: %s\n", cfg->peers[i].gw,
				strerror(-rc));
			return rc;
		}
	for (uint16_t i = 0; i < ctl->mem.npeers; i++)
		ctl->placed[i] = ctl->mem.peers[i].gw;
	ctl->scratch = malloc(sizeof(*ctl->scratch));
	if (ctl->scratch == NULL)
		return -ENOMEM;
	rc = rte_ctrl_thread_create(&ctl->tid, "rg-ctl", NULL, ctl_main, ctl);
	if (rc != 0) {
		fprintf(stderr, "repgate: control thread: %s\n", strerror(rc));
		free(ctl->scratch);
		ctl->scratch = NULL;
		return -rc;
	}
	ctl->started = 1;
	return 0;
}

void
rg_ctl_stop(struct rg_ctl *ctl)
{
	if (ctl->started) {
		__atomic_store_n(&ctl->stop, 1, __ATOMIC_RELEASE); /* T1 */
		pthread_join(ctl->tid, NULL);
		ctl->started = 0;
	}
	free(ctl->scratch);
	ctl->scratch = NULL;
}

unsigned
rg_ctl_peers(struct rg_ctl *ctl, struct rg_ctl_peer_view *out, unsigned max)
{
	unsigned n = 0;
	uint64_t now = rg_worker_clock_ns(ctl->cfg.tsc0);

	pthread_mutex_lock(&ctl->lock);
	for (uint16_t i = 0; i < ctl->mem.npeers && n < max; i++) {
		const struct rg_member *p = &ctl->mem.peers[i];
		struct rg_ctl_peer_view *v = &out[n++];

		memset(v, 0, sizeof(*v));
		v->gw = p->gw;
		memcpy(v->region, p->region, sizeof(v->region));
		v->state = p->state;
		v->phi = rg_detector_phi(&p->det, now);
		v->silent_ns =
		    p->last_heard_ns != 0 && now > p->last_heard_ns ? now - p->last_heard_ns : 0;
		v->incarnation = p->incarnation;
		v->restarts = p->restarts;
		v->transitions = p->transitions;
		v->heartbeats = p->det.heartbeats;
		v->state_for_ns = now > p->since_ns ? now - p->since_ns : 0;
		v->route = p->route;
	}
	pthread_mutex_unlock(&ctl->lock);
	/* Lanes and RTT from the workers' snapshots (consistent per worker). */
	for (uint16_t w = 0; w < ctl->cfg.nworkers; w++) {
		struct rg_worker_stats *st = malloc(sizeof(*st));

		if (st == NULL)
			break;
		rg_worker_stats(&ctl->cfg.workers[w], st);
		for (uint16_t l = 0; l < st->nlanes; l++)
			for (unsigned k = 0; k < n; k++)
				if (out[k].gw == st->lanes[l].peer_gw) {
					uint64_t rtt = st->lanes[l].srtt_ns;

					out[k].lanes++;
					if (rtt != 0 &&
					    (out[k].srtt_ns == 0 || rtt < out[k].srtt_ns))
						out[k].srtt_ns = rtt;
				}
		free(st);
	}
	return n;
}

void
rg_ctl_counters(struct rg_ctl *ctl, struct rg_ctl_counters *out)
{
	pthread_mutex_lock(&ctl->lock);
	*out = ctl->ctr;
	pthread_mutex_unlock(&ctl->lock);
}
