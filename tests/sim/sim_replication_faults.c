/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The headline scenario: three gateways replicating to each other over
 * three lanes per pair, 4 streams per direction, through every fault class
 * at once, then healed. Its default sweep (50 seeds) checks over a million
 * records; `rg-sim --seed S` replays one of them exactly.
 */
#include "sim.h"

void
sim_replication_faults(struct sim_config *c)
{
	c->name = "replication_faults";
	c->duration_s = 12;
	c->heal_bound_s = 20;
	c->gateways = 3;
	c->lanes = 3;
	c->streams_per_pair = 4;
	c->records_per_s = 160;
	c->large_every = 2000;
	c->delay_ms = 10;
	c->jitter_ms = 2;
	c->loss = 0.01;
	c->burst_enter = 0.002;
	c->burst_exit = 0.2;
	c->burst_loss = 0.5;
	c->dup = 0.01;
	c->reorder = 0.02;
	c->reorder_ms = 15;
	c->corrupt = 0.005;
	c->partitions_per_s = 0.15;
	c->crashes_per_s = 0.1;
	c->stall = 0.002;
}

/* The same topology and traffic with a perfect network: a baseline and a smoke test. */
void
sim_replication_clean(struct sim_config *c)
{
	sim_replication_faults(c);
	c->name = "replication_clean";
	c->jitter_ms = 0;
	c->loss = 0;
	c->burst_enter = 0;
	c->dup = 0;
	c->reorder = 0;
	c->corrupt = 0;
	c->partitions_per_s = 0;
	c->crashes_per_s = 0;
	c->stall = 0;
}
