/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

#include "port.h"

static int
fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc < 0 ? rc : -EINVAL;
}

/* Finds the port the device string names, probing the device if it is not there yet. */
static int
find_or_probe(struct rg_port *p, const char *device, char *err, size_t errlen)
{
	size_t n = strcspn(device, ",");
	int rc;

	if (n == 0 || n >= sizeof(p->name))
		return fail(err, errlen, -EINVAL, "port.device '%s': no device name", device);
	memcpy(p->name, device, n);
	p->name[n] = '\0';
	if (rte_eth_dev_get_port_by_name(p->name, &p->id) == 0)
		return 0;
	rc = rte_dev_probe(device);
	if (rc != 0)
		return fail(err, errlen, rc, "port.device '%s': probe failed: %s", device,
			    rte_strerror(-rc));
	p->probed = 1;
	if (rte_eth_dev_get_port_by_name(p->name, &p->id) != 0)
		return fail(err, errlen, -ENODEV, "port.device '%s': no ethdev named '%s'", device,
			    p->name);
	return 0;
}

static int
configure(struct rg_port *p, const struct rg_port_config *cfg, char *err, size_t errlen)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	int rc;

	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_info_get(p->id, &info);
	if (rc != 0)
		return fail(err, errlen, rc, "%s: no device info: %s", p->name, rte_strerror(-rc));
	p->device = info.device;
	if (cfg->queues > info.max_rx_queues || cfg->queues > info.max_tx_queues)
		return fail(err, errlen, -EINVAL,
			    "%s: %u workers need %u queue pairs; it has %u/%u", p->name,
			    cfg->queues, cfg->queues, info.max_rx_queues, info.max_tx_queues);
	if (cfg->queues > 1 && (info.flow_type_rss_offloads & RTE_ETH_RSS_UDP)) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads & RTE_ETH_RSS_UDP;
		p->rss = 1;
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
		p->tx_ip_csum = 1;
	}
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) {
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
		p->rx_ip_csum = 1;
	}
	rc = rte_eth_dev_configure(p->id, cfg->queues, cfg->queues, &conf);
	if (rc != 0)
		return fail(err, errlen, rc, "%s: configure failed: %s", p->name,
			    rte_strerror(-rc));
	rc = rte_eth_dev_set_mtu(p->id, cfg->mtu);
	if (rc != 0 && rc != -ENOTSUP)
		return fail(err, errlen, rc, "%s: MTU %u refused: %s", p->name, cfg->mtu,
			    rte_strerror(-rc));
	return 0;
}

static int
setup_queues(struct rg_port *p, const struct rg_port_config *cfg, char *err, size_t errlen)
{
	int socket = rte_eth_dev_socket_id(p->id);
	uint16_t rxd = cfg->rx_desc, txd = cfg->tx_desc;
	int rc;

	rc = rte_eth_dev_adjust_nb_rx_tx_desc(p->id, &rxd, &txd);
	if (rc != 0)
		return fail(err, errlen, rc, "%s: descriptor counts: %s", p->name,
			    rte_strerror(-rc));
	for (uint16_t q = 0; q < cfg->queues; q++) {
		rc = rte_eth_rx_queue_setup(p->id, q, rxd, socket < 0 ? 0 : (unsigned)socket, NULL,
					    cfg->pool);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(p->id, q, txd,
						    socket < 0 ? 0 : (unsigned)socket, NULL);
		if (rc != 0)
			return fail(err, errlen, rc, "%s: queue %u setup: %s", p->name, q,
				    rte_strerror(-rc));
	}
	return 0;
}

int
rg_port_open(struct rg_port *p, const struct rg_port_config *cfg, char *err, size_t errlen)
{
	int rc;

	memset(p, 0, sizeof(*p));
	p->queues = cfg->queues;
	if ((rc = find_or_probe(p, cfg->device, err, errlen)) != 0 ||
	    (rc = configure(p, cfg, err, errlen)) != 0 ||
	    (rc = setup_queues(p, cfg, err, errlen)) != 0)
		return rc;
	/*
	 * DPDK 22.11's memif client connects only in dev_start and never again: if
	 * its server is not there yet, or goes away, the port must be started
	 * again (rg_port_restart, from the daemon's main loop).
	 */
	p->redial = strncmp(p->name, "net_memif", 9) == 0 && strstr(cfg->device, "role=client");
	rc = rte_eth_dev_start(p->id);
	if (rc != 0 && !p->redial)
		return fail(err, errlen, rc, "%s: start failed: %s", p->name, rte_strerror(-rc));
	p->started = rc == 0;
	rte_eth_macaddr_get(p->id, &p->mac);
	/* Frames carry the peer's configured MAC; a vdev may not have learned it. */
	rte_eth_promiscuous_enable(p->id);
	return 0;
}

int
rg_port_restart(struct rg_port *p)
{
	if (p->started)
		rte_eth_dev_stop(p->id);
	p->started = rte_eth_dev_start(p->id) == 0;
	return p->started ? 0 : -EAGAIN;
}

int
rg_port_link_up(const struct rg_port *p)
{
	struct rte_eth_link link;

	return p->started && rte_eth_link_get_nowait(p->id, &link) == 0 && link.link_status;
}

void
rg_port_close(struct rg_port *p)
{
	if (p->started) {
		rte_eth_dev_stop(p->id);
		p->started = 0;
	}
	if (p->name[0] != '\0' && rte_eth_dev_is_valid_port(p->id)) {
		rte_eth_dev_close(p->id);
		if (p->probed && p->device != NULL)
			rte_dev_remove(p->device);
	}
	p->name[0] = '\0';
}
