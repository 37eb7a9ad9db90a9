/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Peer membership (DESIGN §4.6): one accrual failure detector per peer
 * gateway, fed with the times the workers last heard from it, and the rule
 * that routes streams away from a DEAD gateway to a live one of its region.
 *
 * Pure, like the detector: the control thread passes now_ns in, reads what
 * changed, and turns it into worker commands and log lines; the unit tests
 * drive it the same way.
 *
 * Heartbeats. The workers do not report every packet: each publishes, per
 * lane, the time it last accepted a packet from the peer (rg_lane_info
 * .last_rx_ns). rg_membership_heard() takes the newest of them; when it moved
 * since the last call it counts as one heartbeat at that time. So under load
 * a heartbeat arrives every control period, and on an idle lane every PING
 * interval: the detector learns whichever rhythm the peer keeps.
 *
 * Routing. Streams are bound to a gateway; rg_membership_route(gw) is where
 * they go now: gw itself unless it is DEAD, else the first ALIVE gateway of
 * the same region (by position in the profile), else gw (nowhere better).
 * A route moves only when its gateway is DEAD (and has no live substitute
 * yet) or its substitute died; a gateway heard again does not take its
 * streams back (that needs the handoff drain of DESIGN §4.7). So streams
 * never flap with SUSPECT or with a peer that comes and goes.
 *
 * Invariants (rg_membership_check): every peer's detector holds its own
 * invariants; peer ids are distinct; the changes reported here are no more
 * than the detector's own transitions (a DEAD peer heard again between two
 * updates and silent again is one change for the detector pair, none here).
 */
#ifndef RG_CONTROL_MEMBERSHIP_H
#define RG_CONTROL_MEMBERSHIP_H

#include <stdint.h>

#include "detector.h"

#define RG_MEMBERSHIP_PEERS_MAX    16
#define RG_MEMBERSHIP_REGION_BYTES 32

struct rg_member {
	uint16_t gw;
	char region[RG_MEMBERSHIP_REGION_BYTES];
	struct rg_detector det;
	uint64_t last_heard_ns; /* the newest packet time seen from it (0: never) */
	uint64_t incarnation;   /* as the workers reported it (0: unknown) */
	uint64_t restarts;      /* new incarnations seen */
	enum rg_liveness state; /* as last reported by rg_membership_update() */
	uint64_t transitions;   /* state changes reported, all kinds */
	uint64_t since_ns;      /* when it entered its current state */
	uint16_t route;         /* where streams bound to it go now (gw when it is not DEAD) */
};

struct rg_membership {
	struct rg_member peers[RG_MEMBERSHIP_PEERS_MAX];
	uint16_t npeers;
};

/* One state change, as rg_membership_update() reports it. */
struct rg_member_change {
	uint16_t gw;
	enum rg_liveness from, to;
	double phi;
	uint16_t route_from, route_to; /* equal when the route did not move */
};

void rg_membership_init(struct rg_membership *m);
/* Adds a peer, ALIVE as of now_ns. 0, -EEXIST, -ENOSPC. */
int rg_membership_add(struct rg_membership *m, uint16_t gw, const char *region,
		      const struct rg_detector_config *cfg, uint64_t now_ns);
/* The peer's index, or -1. */
int rg_membership_find(const struct rg_membership *m, uint16_t gw);

/*
 * The newest packet time from gw that the workers report: a heartbeat when it
 * moved. Times are on the same clock as now_ns.
 */
void rg_membership_heard(struct rg_membership *m, uint16_t gw, uint64_t last_rx_ns);
/* The incarnation the workers learned for gw; counts a restart when it grows. 1 if it did. */
int rg_membership_incarnation(struct rg_membership *m, uint16_t gw, uint64_t inc);

/*
 * Evaluates every detector at now_ns and recomputes the routes. Writes at
 * most max changes (state or route) to out; returns how many.
 */
unsigned rg_membership_update(struct rg_membership *m, uint64_t now_ns,
			      struct rg_member_change *out, unsigned max);

/* Where streams bound to gw go now (see the header comment); gw if unknown. */
uint16_t rg_membership_route(const struct rg_membership *m, uint16_t gw);

int rg_membership_check(const struct rg_membership *m);

#endif /* RG_CONTROL_MEMBERSHIP_H */
