/* SPDX-License-Identifier: Apache-2.0 */
#include <numa.h>
#include <stdio.h>

#include "placement.h"

int
rg_placement_node_of_cpu(int cpu)
{
	if (cpu < 0 || numa_available() < 0)
		return -1;
	return numa_node_of_cpu(cpu);
}

unsigned
rg_placement_warnings(const int *worker_nodes, const int *worker_cpus, unsigned n, int port_node,
		      const char *port, char *buf, size_t len)
{
	unsigned warnings = 0;
	size_t used = 0;

	if (len > 0)
		buf[0] = '\0';
	if (port_node < 0)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		int w;

		if (worker_nodes[i] < 0 || worker_nodes[i] == port_node)
			continue;
		warnings++;
		if (used >= len)
			continue;
		w = snprintf(
		    buf + used, len - used,
		    "warning: worker %u runs on CPU %d, NUMA node %d, but port %s is on node "
		    "%d: every packet crosses the interconnect; give the workers CPUs of "
		    "node %d (EAL -l/--lcores)\n",
		    i, worker_cpus[i], worker_nodes[i], port, port_node, port_node);
		used += w > 0 ? (size_t)w : 0;
	}
	return warnings;
}
