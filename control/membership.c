/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "membership.h"

void
rg_membership_init(struct rg_membership *m)
{
	memset(m, 0, sizeof(*m));
}

int
rg_membership_find(const struct rg_membership *m, uint16_t gw)
{
	for (uint16_t i = 0; i < m->npeers; i++)
		if (m->peers[i].gw == gw)
			return i;
	return -1;
}

int
rg_membership_add(struct rg_membership *m, uint16_t gw, const char *region,
		  const struct rg_detector_config *cfg, uint64_t now_ns)
{
	struct rg_member *p;

	if (rg_membership_find(m, gw) >= 0)
		return -EEXIST;
	if (m->npeers == RG_MEMBERSHIP_PEERS_MAX)
		return -ENOSPC;
	p = &m->peers[m->npeers++];
	memset(p, 0, sizeof(*p));
	p->gw = gw;
	strncpy(p->region, region, sizeof(p->region) - 1);
	rg_detector_init(&p->det, cfg, now_ns);
	p->since_ns = now_ns;
	p->route = gw;
	return 0;
}

void
rg_membership_heard(struct rg_membership *m, uint16_t gw, uint64_t last_rx_ns)
{
	int i = rg_membership_find(m, gw);

	if (i < 0 || last_rx_ns <= m->peers[i].last_heard_ns)
		return;
	m->peers[i].last_heard_ns = last_rx_ns;
	rg_detector_heartbeat(&m->peers[i].det, last_rx_ns);
}

int
rg_membership_incarnation(struct rg_membership *m, uint16_t gw, uint64_t inc)
{
	int i = rg_membership_find(m, gw);
	int restarted;

	if (i < 0 || inc <= m->peers[i].incarnation)
		return 0;
	restarted = m->peers[i].incarnation != 0;
	m->peers[i].restarts += (uint64_t)restarted;
	m->peers[i].incarnation = inc;
	return restarted;
}

static uint16_t
route_of(const struct rg_membership *m, const struct rg_member *p)
{
	if (p->state != RG_LIVENESS_DEAD)
		return p->gw;
	for (uint16_t i = 0; i < m->npeers; i++) {
		const struct rg_member *q = &m->peers[i];

		if (q != p && q->state == RG_LIVENESS_ALIVE && strcmp(q->region, p->region) == 0)
			return q->gw;
	}
	return p->gw;
}

unsigned
rg_membership_update(struct rg_membership *m, uint64_t now_ns, struct rg_member_change *out,
		     unsigned max)
{
	enum rg_liveness before[RG_MEMBERSHIP_PEERS_MAX];
	unsigned n = 0;

	for (uint16_t i = 0; i < m->npeers; i++) {
		struct rg_member *p = &m->peers[i];

		before[i] = p->state;
		/*
		 * A peer never heard from has no rhythm to judge yet (it may
		 * start after us): only the hard bound makes it DEAD.
		 */
		if (p->last_heard_ns != 0 || now_ns >= p->det.last_ns + p->det.cfg.dead_after_ns)
			p->state = rg_detector_update(&p->det, now_ns);
	}
	/*
	 * Routes after every state moved, so a region whose two gateways change
	 * at once routes by the new states. A route moves when its gateway is
	 * DEAD and has no live substitute yet, or when its substitute died; a
	 * gateway heard again does not take its streams back (that needs the
	 * handoff drain of DESIGN §4.7), so routes never flap with liveness.
	 */
	for (uint16_t i = 0; i < m->npeers; i++) {
		struct rg_member *p = &m->peers[i];
		enum rg_liveness now = p->state;
		uint16_t route = p->route;
		int sub = rg_membership_find(m, route);
		int sub_dead = sub >= 0 && m->peers[sub].state == RG_LIVENESS_DEAD;

		if ((now == RG_LIVENESS_DEAD && route == p->gw) || (route != p->gw && sub_dead))
			p->route = route_of(m, p);
		if (now == before[i] && route == p->route)
			continue;
		if (now != before[i]) {
			p->transitions++;
			p->since_ns = now_ns;
		}
		if (n < max)
			out[n++] =
			    (struct rg_member_change){ .gw = p->gw,
						       .from = before[i],
						       .to = now,
						       .phi = rg_detector_phi(&p->det, now_ns),
						       .route_from = route,
						       .route_to = p->route };
	}
	return n;
}

uint16_t
rg_membership_route(const struct rg_membership *m, uint16_t gw)
{
	int i = rg_membership_find(m, gw);

	return i < 0 ? gw : m->peers[i].route;
}

int
rg_membership_check(const struct rg_membership *m)
{
	if (m->npeers > RG_MEMBERSHIP_PEERS_MAX)
		return -1;
	for (uint16_t i = 0; i < m->npeers; i++) {
		const struct rg_member *p = &m->peers[i];
		uint64_t t = 0;

		if (rg_detector_check(&p->det) != 0 || rg_membership_find(m, p->gw) != i)
			return -1;
		for (int a = 0; a < RG_LIVENESS_MAX; a++)
			for (int b = 0; b < RG_LIVENESS_MAX; b++)
				t += p->det.transitions[a][b];
		if (p->transitions > t)
			return -1;
	}
	return 0;
}
