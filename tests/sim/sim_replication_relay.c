/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The relay scenario (DESIGN §4.9): two regions, each a gateway that relays
 * for a producer client and a consumer client, every stream
 *
 *     producer client ─LAN─▶ gateway A ═WAN═▶ gateway B ─LAN─▶ consumer client
 *
 * in both directions, through the headline scenario's faults on every hop
 * (LAN hops 0.5 ms one way, the WAN 10 ms), with crashes taking the kinds in
 * turn — a gateway, a producer, a consumer — and partitions on any hop.
 * Each node is its own core; the gateways run proto/relay.c, the code the
 * daemon's workers run. The relay_early_release canary (a relay that lets go
 * of a record once sent, not once the next hop acked it) must lose records
 * here.
 */
#include "sim.h"

void
sim_replication_relay(struct sim_config *c)
{
	sim_replication_faults(c);
	c->name = "replication_relay";
	c->relay = 1;
	c->gateways = 2;
	c->lanes = 2;
	c->streams_per_pair = 6;
	c->lan_delay_ms = 0.5;
	c->crashes_per_s = 0.4; /* about five a run: each kind at least once */
	c->partitions_per_s = 0.3;
}
