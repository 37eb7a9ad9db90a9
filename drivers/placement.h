/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NUMA placement (hardware.md): a worker should sit on the node of the port it
 * polls, or every packet and every mbuf crosses the interconnect. repgate
 * checks this at start-up and warns; it does not refuse to run.
 */
#ifndef RG_DRIVERS_PLACEMENT_H
#define RG_DRIVERS_PLACEMENT_H

#include <stddef.h>

/* The NUMA node of a CPU (libnuma), or -1 when the system does not say. */
int rg_placement_node_of_cpu(int cpu);

/*
 * Writes one warning line into buf for each worker whose node (worker_nodes[i],
 * -1 = unknown) differs from port_node (-1 = unknown: no warning). Returns the
 * number of warnings. Pure: the daemon passes what libnuma and DPDK said.
 */
unsigned rg_placement_warnings(const int *worker_nodes, const int *worker_cpus, unsigned n,
			       int port_node, const char *port, char *buf, size_t len);

#endif /* RG_DRIVERS_PLACEMENT_H */
