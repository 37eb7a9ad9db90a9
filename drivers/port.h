/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Port setup (DESIGN §4.1 drivers/): any ethdev named by a device string —
 * a PCI address, or a virtual device such as net_memif, net_af_packet,
 * net_af_xdp, net_ring or net_tap with its arguments — with one rx/tx queue
 * pair per worker, RSS over UDP ports where the port offers it (a lane's UDP
 * source port then picks its queue), IPv4 checksum offload where offered,
 * and the MTU from the profile. Slow path only.
 */
#ifndef RG_DRIVERS_PORT_H
#define RG_DRIVERS_PORT_H

#include <stddef.h>
#include <stdint.h>

#include <rte_dev.h>
#include <rte_ether.h>
#include <rte_mempool.h>

struct rg_port_config {
	const char *device; /* "0000:3b:00.0", "net_memif0,role=server,socket=/run/x.sock", ... */
	uint16_t queues;    /* rx/tx queue pairs, one per worker */
	uint16_t rx_desc, tx_desc;
	uint16_t mtu;
	struct rte_mempool *pool; /* rx mbufs */
};

struct rg_port {
	uint16_t id;
	uint16_t queues;
	int rss;        /* RSS over UDP ports is on */
	int tx_ip_csum; /* the NIC fills the IPv4 header checksum */
	int rx_ip_csum; /* the NIC checks it (we skip the check) */
	int started;
	int probed; /* we probed the device, so we remove it at close */
	int redial; /* the driver does not reconnect by itself (a memif client) */
	struct rte_ether_addr mac;
	struct rte_device *device; /* what rte_dev_remove() takes when we probed it */
	char name[64];
};

/* Probes (if needed), configures and starts the port. 0 or -errno, with a message in err. */
int rg_port_open(struct rg_port *p, const struct rg_port_config *cfg, char *err, size_t errlen);
/*
 * Stops (if started) and starts the port again: for drivers that do not
 * redial by themselves. No worker may touch the port meanwhile. 0 when it
 * started; its link may come up a little later.
 */
int rg_port_restart(struct rg_port *p);
/* Whether the link is up now (never blocks). */
int rg_port_link_up(const struct rg_port *p);
/* Stops and closes it; safe on a port that failed to open. */
void rg_port_close(struct rg_port *p);

#endif /* RG_DRIVERS_PORT_H */
