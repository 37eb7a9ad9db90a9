/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "app.h"
#include "keys.h"
#include "counters.h"
#include "metrics.h"
#include "placement.h"
#include "telemetry.h"

#define RING_INGRESS  4096
#define RING_DELIVERY 16384
#define RING_APPLIED  4096
#define RING_DISPATCH 4096
#define RING_CMD      64
#define UDP_SRC_BASE  40000 /* a lane's frames leave from UDP_SRC_BASE + lane: RSS entropy */

uint16_t
rg_app_gateway_id(const struct rg_app *app)
{
	return (uint16_t)app->prof.gateway.id;
}

/*
 * Incarnations are ordered (docs/protocol.md): the wall clock in µs in the high
 * bits and TSC noise in the low 12, so a restarted gateway's is larger.
 */
static uint64_t
new_incarnation(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return ((uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec) << 12 | (rte_rdtsc() & 0xfff);
}

/* A packet pool of n mbufs with room for frames of mtu bytes; NULL after saying why. */
static struct rte_mempool *
packet_pool(const char *name, const char *what, int n, int cache, unsigned mtu)
{
	unsigned room = RTE_PKTMBUF_HEADROOM + RTE_MAX(2048u, mtu + 64);
	struct rte_mempool *mp = rte_pktmbuf_pool_create(name, (unsigned)n, (unsigned)cache, 0,
							 (uint16_t)room, (int)rte_socket_id());

	if (mp == NULL)
		fprintf(stderr, "repgate: %s: a pool of %d mbufs of %u bytes: %s\n", what, n, room,
			rte_strerror(rte_errno));
	return mp;
}

static int
make_pools(struct rg_app *app)
{
	const struct rg_profile *p = &app->prof;
	int lan = p->lan.device[0] != '\0';
	unsigned mtu = (unsigned)RTE_MAX(p->port.mtu, lan ? p->lan.mtu : 0), room;
	unsigned rec_bytes = (unsigned)RTE_MAX(p->load.record_bytes, p->load.record_bytes_max), n;

	app->tx_pool =
	    packet_pool("rg_tx", "port.tx_mbufs", p->port.tx_mbufs, p->port.mbuf_cache, mtu);
	app->rx_pool[0] = packet_pool("rg_rx_wan", "port.mbufs", p->port.mbufs, p->port.mbuf_cache,
				      (unsigned)p->port.mtu);
	if (lan)
		app->rx_pool[1] = packet_pool("rg_rx_lan", "lan.mbufs", p->lan.mbufs,
					      p->port.mbuf_cache, (unsigned)p->lan.mtu);
	if (app->tx_pool == NULL || app->rx_pool[0] == NULL || (lan && app->rx_pool[1] == NULL))
		return -1;
	if (p->load.role != RG_PROFILE_ROLE_GENERATOR)
		return 0;
	room = RTE_PKTMBUF_HEADROOM + (unsigned)sizeof(struct rg_ingress_hdr) + rec_bytes;
	if (room > UINT16_MAX) {
		fprintf(
		    stderr,
		    "repgate: load.record_bytes %u: the generator keeps a record in "
		    "one mbuf, at most %u bytes\n",
		    rec_bytes,
		    (unsigned)(UINT16_MAX - RTE_PKTMBUF_HEADROOM - sizeof(struct rg_ingress_hdr)));
		return -1;
	}
	/* Enough records for every stream's window of work, within 512 MiB of buffers. */
	n = RTE_MIN(262143u, (unsigned)p->load.streams * 64 + 16383);
	n = RTE_MIN(n, (unsigned)((512u << 20) / (room + 128u)));
	app->rec_pool =
	    rte_pktmbuf_pool_create("rg_rec", n, 256, 0, (uint16_t)room, (int)rte_socket_id());
	if (app->rec_pool == NULL) {
		fprintf(stderr, "repgate: record pool of %u mbufs of %u bytes: %s\n", n, room,
			rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

static struct rte_ring *
ring(const char *what, uint16_t w, unsigned size, unsigned esize, unsigned flags)
{
	char name[RTE_RING_NAMESIZE];
	struct rte_ring *r;

	snprintf(name, sizeof(name), "rg_%s_%u", what, w);
	r = rte_ring_create_elem(name, esize, size, (int)rte_socket_id(), flags);
	if (r == NULL)
		fprintf(stderr, "repgate: ring %s: %s\n", name, rte_strerror(rte_errno));
	return r;
}

static int
make_rings(struct rg_app *app)
{
	const unsigned spsc = RING_F_SP_ENQ | RING_F_SC_DEQ;

	for (uint16_t w = 0; w < app->nworkers; w++) {
		app->ingress[w] = ring("in", w, RING_INGRESS, sizeof(void *), spsc);
		app->delivery[w] = ring("dlv", w, RING_DELIVERY, sizeof(struct rg_delivery), spsc);
		app->applied[w] = ring("app", w, RING_APPLIED, sizeof(struct rg_applied_msg), spsc);
		/* commands from the control thread and from telemetry handlers: multi-producer */
		app->cmd[w] = ring("cmd", w, RING_CMD, sizeof(void *), RING_F_SC_DEQ);
		if (app->ingress[w] == NULL || app->delivery[w] == NULL ||
		    app->applied[w] == NULL || app->cmd[w] == NULL)
			return -1;
		if (app->nworkers > 1) {
			app->dispatch[w] =
			    ring("dsp", w, RING_DISPATCH, sizeof(void *), RING_F_SC_DEQ);
			if (app->dispatch[w] == NULL)
				return -1;
		}
	}
	return 0;
}

static void
wan_config(const struct rg_profile *p, struct rg_wanem_config *w)
{
	rg_wanem_config_default(w);
	w->seed = (uint64_t)p->wan.seed;
	w->delay_ns = (uint64_t)(p->wan.delay_ms * 1e6);
	w->jitter_ns = (uint64_t)(p->wan.jitter_ms * 1e6);
	w->loss = p->wan.loss;
	w->burst_enter = p->wan.burst_enter;
	w->burst_exit = p->wan.burst_exit;
	w->burst_loss = p->wan.burst_loss;
	w->dup = p->wan.dup;
	w->reorder = p->wan.reorder;
	w->reorder_ns = (uint64_t)(p->wan.reorder_ms * 1e6);
	w->corrupt = p->wan.corrupt;
	w->corrupt_skip = RG_FRAME_HDR_BYTES; /* keep the frame routable: RGP's CRC must catch it */
	w->rate_bytes_per_s = (uint64_t)(p->wan.rate_mbit_s * 1e6 / 8);
	w->queue_pkts_max = (uint32_t)p->wan.queue_pkts;
	w->queue_bytes_max = (uint64_t)p->wan.queue_bytes;
}

int
rg_app_check_profile(const struct rg_profile *p, char *err, size_t errlen)
{
	struct rg_wanem_config w;
	char why[256] = "";

	if (!p->wan.enabled)
		return 0;
	wan_config(p, &w);
	if (rg_wanem_config_check(&w, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "%s: wan: %s", p->src.files[0], why);
		return -EINVAL;
	}
	return 0;
}

/* Our address on a port: the profile's IP and UDP port, its MAC unless the profile pins one. */
static void
local_endpoint(struct rg_endpoint *ep, uint32_t ip, int udp_port, const struct rg_port *port,
	       const uint8_t mac[6])
{
	ep->ip = ip;
	ep->port = (uint16_t)udp_port;
	memcpy(ep->mac, port->mac.addr_bytes, 6);
	if (memcmp(mac, "\0\0\0\0\0\0", 6) != 0)
		memcpy(ep->mac, mac, 6);
}

static void
worker_peers(struct rg_app *app)
{
	const struct rg_profile *p = &app->prof;
	struct rg_worker_config *c = &app->wcfg;
	/* a client's packets fit its LAN's MTU, which may carry less than the WAN's */
	uint32_t client_pkt = (uint32_t)RTE_MIN((app->lan_open ? p->lan.mtu : p->port.mtu) - 28,
						(int)c->core.pkt_bytes_max);

	for (uint32_t i = 0; i < p->npeers; i++) {
		const struct rg_profile_peer *pp = &p->peers[i];
		int client = pp->kind == RG_PROFILE_PEER_CLIENT;

		c->peers[i] = (struct rg_worker_peer){
			.gw = (uint16_t)pp->id,
			.lanes = (uint16_t)rg_profile_peer_lanes(p, i),
			.client = (uint8_t)client,
			.port = (uint8_t)(client && app->lan_open ? 1 : 0),
			.pinned = memcmp(pp->mac, "\0\0\0\0\0\0", 6) != 0,
			.ep.ip = pp->ip,
			.ep.port = (uint16_t)pp->udp_port,
			.learned = client ? &app->learned[i] : NULL,
			.pkt_bytes = client ? client_pkt : 0,
		};
		memcpy(c->peers[i].ep.mac, pp->mac, 6);
		if (client && pp->udp_port != 0) /* a fixed client port: known from the start */
			app->learned[i].port = (uint16_t)pp->udp_port;
	}
	c->npeers = (uint16_t)p->npeers;
}

/* Where producer clients' streams go: relay.peer, else the first gateway peer. */
static uint16_t
relay_peer(const struct rg_profile *p)
{
	if (p->relay.peer != 0)
		return (uint16_t)p->relay.peer;
	for (uint32_t i = 0; i < p->npeers; i++)
		if (p->peers[i].kind == RG_PROFILE_PEER_GATEWAY)
			return (uint16_t)p->peers[i].id;
	return 0;
}

/*
 * The signal DPDK's net_tap asked the kernel to raise when a tap has packets
 * (it takes a free real-time one and handles it): the one with a handler, as
 * we install none. 0 when there is no tap port, or none is found.
 */
static int
tap_rx_signal(const struct rg_app *app)
{
	int tap = strncmp(app->port.name, "net_tap", 7) == 0 ||
		  (app->lan_open && strncmp(app->lan.name, "net_tap", 7) == 0);

	for (int sig = SIGRTMIN; tap && sig <= SIGRTMAX; sig++) {
		struct sigaction sa;

		if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL &&
		    sa.sa_handler != SIG_IGN)
			return sig;
	}
	return 0;
}

static void
worker_config(struct rg_app *app)
{
	const struct rg_profile *p = &app->prof;
	struct rg_worker_config *c = &app->wcfg;

	memset(c, 0, sizeof(*c));
	c->workers = app->nworkers;
	c->tsc0 = app->tsc0;
	c->pool = app->tx_pool;
	c->tap_kick_sig = tap_rx_signal(app);
	if (c->tap_kick_sig == 0 && (strncmp(app->port.name, "net_tap", 7) == 0 ||
				     (app->lan_open && strncmp(app->lan.name, "net_tap", 7) == 0)))
		fprintf(stderr,
			"repgate: warning: net_tap's rx signal not found: a tap that filled "
			"while its mempool was empty may stop reading\n");
	rg_profile_core_config(p, &c->core);
	c->core.incarnation = new_incarnation();
	c->core.gateway_id = (uint16_t)p->gateway.id;
	worker_peers(app);
	c->ports[0] = (struct rg_worker_port){ .port = &app->port,
					       .arp = app->arp[0],
					       .rx_pool = app->rx_pool[0] };
	local_endpoint(&c->ports[0].local, p->port.ip, p->port.udp_port, &app->port, p->port.mac);
	c->nports = 1;
	if (app->lan_open) {
		c->ports[1] = (struct rg_worker_port){ .port = &app->lan,
						       .arp = app->arp[1],
						       .rx_pool = app->rx_pool[1] };
		local_endpoint(&c->ports[1].local, p->lan.ip, p->lan.udp_port, &app->lan,
			       p->lan.mac);
		c->nports = 2;
	}
	c->relay = (struct rg_relay_config){ .streams_max = (uint32_t)p->relay.streams_max,
					     .subs_max = (uint32_t)p->relay.subs_max,
					     .stage_max = 1024 };
	c->relay_peer = relay_peer(p);
	c->asm_bytes_max = (uint64_t)p->relay.asm_bytes_max;
	c->udp_src_base = UDP_SRC_BASE;
	c->burst = (uint16_t)RTE_MIN(p->workers.burst, RG_WORKER_BURST_MAX);
	c->idle = p->workers.idle == RG_PROFILE_IDLE_SPIN    ? RG_IDLE_SPIN
		  : p->workers.idle == RG_PROFILE_IDLE_PAUSE ? RG_IDLE_PAUSE
							     : RG_IDLE_SLEEP;
	c->idle_polls = (uint32_t)p->workers.idle_polls;
	c->sleep_us = (uint32_t)p->workers.sleep_us;
	c->wan_on = p->wan.enabled;
	if (c->wan_on)
		wan_config(p, &c->wan);
}

static int
make_loadgen(struct rg_app *app)
{
	const struct rg_profile *p = &app->prof;
	struct rg_loadgen_config lc = { 0 };
	char err[512] = "";
	uint16_t lanes = 1;

	if (p->load.role == RG_PROFILE_ROLE_NONE)
		return 0;
	for (uint32_t i = 0; i < p->npeers; i++)
		if (p->peers[i].id == p->load.peer)
			lanes = (uint16_t)p->peers[i].lanes;
	lc.role = p->load.role == RG_PROFILE_ROLE_GENERATOR ? RG_LOAD_GENERATOR : RG_LOAD_CONSUMER;
	lc.peer_gw = (uint16_t)p->load.peer;
	lc.peer_lanes = lanes;
	lc.workers = app->nworkers;
	lc.streams = (uint32_t)p->load.streams;
	lc.namespaces = (uint32_t)p->load.namespaces;
	lc.record_bytes = (uint32_t)p->load.record_bytes;
	lc.record_bytes_max = (uint32_t)p->load.record_bytes_max;
	lc.rate_records_s = p->load.rate_records_s;
	lc.flood_namespaces = (uint32_t)p->load.flood_namespaces;
	lc.duration_s = p->load.duration_s;
	lc.records_max = (uint64_t)p->load.records_max;
	lc.seed = (uint64_t)p->load.seed;
	lc.inflight_max = app->wcfg.core.tx_stream_records_max;
	lc.progress_ms = (uint32_t)p->load.progress_ms;
	lc.drain_s = 60;
	lc.state_file = p->load.state_file;
	lc.report = p->load.report;
	lc.pool = app->rec_pool;
	for (uint16_t w = 0; w < app->nworkers; w++) {
		lc.ingress[w] = app->ingress[w];
		lc.delivery[w] = app->delivery[w];
		lc.applied[w] = app->applied[w];
		lc.worker[w] = &app->workers[w];
	}
	if (rg_loadgen_create(&lc, &app->lg, err, sizeof(err)) != 0) {
		fprintf(stderr, "repgate: %s\n", err);
		return -1;
	}
	app->wcfg.hooks = rg_loadgen_hooks(app->lg);
	return 0;
}

static int
make_workers(struct rg_app *app)
{
	char err[512] = "";

	for (uint16_t w = 0; w < app->nworkers; w++) {
		struct rg_worker_config c = app->wcfg;

		c.index = w;
		c.ingress = app->ingress[w];
		c.delivery = app->delivery[w];
		c.applied = app->applied[w];
		c.dispatch = app->dispatch;
		c.cmd = app->cmd[w];
		if (rg_worker_init(&app->workers[w], &c, err, sizeof(err)) != 0) {
			fprintf(stderr, "repgate: %s\n", err);
			return -1;
		}
	}
	if (app->lg == NULL || app->prof.load.role != RG_PROFILE_ROLE_GENERATOR)
		return 0;
	for (uint32_t k = 0; k < (uint32_t)app->prof.load.streams; k++) {
		uint64_t id = rg_loadgen_stream_id(app->lg, k);
		const struct rg_worker_peer *peer = NULL;
		enum rg_class cls;
		uint16_t w;
		int rc;

		for (uint16_t i = 0; i < app->wcfg.npeers; i++)
			if (app->wcfg.peers[i].gw == app->prof.load.peer)
				peer = &app->wcfg.peers[i];
		w = rg_worker_of_stream(id, peer->lanes, app->nworkers);
		/* stream k is in namespace k % namespaces; the last priority_namespaces are CONTROL */
		cls = k % (uint32_t)app->prof.load.namespaces >=
			      (uint32_t)(app->prof.load.namespaces -
					 app->prof.load.priority_namespaces)
			  ? RG_CLASS_CONTROL
			  : RG_CLASS_BULK;
		rc = rg_worker_tx_open(&app->workers[w], peer->gw, id, cls);
		if (rc != 0) {
			fprintf(stderr, "repgate: stream %llx: %s (proto.streams_max?)\n",
				(unsigned long long)id, strerror(-rc));
			return -1;
		}
	}
	return 0;
}

static int
pick_lcores(struct rg_app *app)
{
	unsigned lcore, n = 0;

	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		if (n < app->nworkers)
			app->lcores[n] = lcore;
		n++;
	}
	if (n < app->nworkers) {
		fprintf(stderr,
			"repgate: workers.count = %u needs %u worker lcores besides the main "
			"one; EAL gave %u (use -l or --lcores)\n",
			app->nworkers, app->nworkers, n);
		return -1;
	}
	return 0;
}

static int
open_one_port(struct rg_app *app, struct rg_port *port, const char *device, int mtu,
	      struct rte_mempool *rx_pool, int *opened)
{
	const struct rg_profile *p = &app->prof;
	struct rg_port_config pc = { .device = device,
				     .queues = app->nworkers,
				     .rx_desc = (uint16_t)p->port.rx_desc,
				     .tx_desc = (uint16_t)p->port.tx_desc,
				     .mtu = (uint16_t)mtu,
				     .pool = rx_pool };
	char err[512] = "";

	if (rg_port_open(port, &pc, err, sizeof(err)) != 0) {
		fprintf(stderr, "repgate: %s\n", err);
		return -1;
	}
	*opened = 1;
	return 0;
}

/* The WAN port, and the LAN port for clients when the profile has one. */
static int
open_ports(struct rg_app *app)
{
	const struct rg_profile *p = &app->prof;

	if (open_one_port(app, &app->port, p->port.device, p->port.mtu, app->rx_pool[0],
			  &app->port_open) != 0)
		return -1;
	if (p->lan.device[0] == '\0')
		return 0;
	return open_one_port(app, &app->lan, p->lan.device, p->lan.mtu, app->rx_pool[1],
			     &app->lan_open);
}

static int
arp_table(struct rg_app *app, int k, uint32_t ip, const uint8_t mac[6], int prefix_len,
	  uint32_t router)
{
	const struct rg_profile *p = &app->prof;
	struct rg_arp_config cfg;
	char why[256] = "";

	rg_arp_config_default(&cfg);
	cfg.ip = ip;
	memcpy(cfg.mac, mac, 6);
	cfg.prefix_len = (uint8_t)prefix_len;
	cfg.router_ip = router;
	cfg.retry_ns = (uint64_t)p->arp.retry_ms * RG_NS_PER_MS;
	cfg.retries_max = (uint32_t)p->arp.retries;
	cfg.reachable_ns = (uint64_t)p->arp.reachable_s * RG_NS_PER_S;
	cfg.failed_hold_ns = (uint64_t)p->arp.failed_hold_ms * RG_NS_PER_MS;
	app->arp[k] = rte_zmalloc_socket("rg_arp", sizeof(*app->arp[k]), RTE_CACHE_LINE_SIZE,
					 (int)rte_socket_id());
	if (app->arp[k] == NULL || rg_arp_config_check(&cfg, why, sizeof(why)) != 0 ||
	    rg_arp_init(app->arp[k], &cfg) != 0) {
		fprintf(stderr, "repgate: ARP on %s: %s\n", k ? "lan" : "port",
			why[0] ? why : "out of memory");
		return -1;
	}
	return 0;
}

/* One ARP table per port, with every next hop the profile names on it (pinned when it has a MAC). */
static int
make_arp(struct rg_app *app)
{
	const struct rg_profile *p = &app->prof;
	uint8_t mac[6];

	app->learned = rte_zmalloc("rg_learned", sizeof(app->learned[0]) * RTE_MAX(1u, p->npeers),
				   RTE_CACHE_LINE_SIZE);
	memcpy(mac, memcmp(p->port.mac, "\0\0\0\0\0\0", 6) ? p->port.mac : app->port.mac.addr_bytes,
	       6);
	if (app->learned == NULL ||
	    arp_table(app, 0, p->port.ip, mac, p->port.prefix_len, p->port.router) != 0)
		return -1;
	if (app->lan_open) {
		memcpy(mac,
		       memcmp(p->lan.mac, "\0\0\0\0\0\0", 6) ? p->lan.mac : app->lan.mac.addr_bytes,
		       6);
		if (arp_table(app, 1, p->lan.ip, mac, p->lan.prefix_len, p->lan.router) != 0)
			return -1;
	}
	for (uint32_t i = 0; i < p->npeers; i++) {
		const struct rg_profile_peer *pp = &p->peers[i];
		int k = pp->kind == RG_PROFILE_PEER_CLIENT && app->lan_open;
		int pinned = memcmp(pp->mac, "\0\0\0\0\0\0", 6) != 0;
		int rc = rg_arp_add_dst(app->arp[k], pp->ip, pinned ? pp->mac : NULL);

		if (rc != 0) {
			fprintf(stderr, "repgate: %s: peers.[%u].ip: %s: %s\n", p->src.files[0], i,
				rc == -EHOSTUNREACH ? "off the subnet, and no router nor MAC for it"
				: rc == -EEXIST     ? "its MAC contradicts another peer's"
						    : "no ARP entry for it",
				strerror(-rc));
			return -1;
		}
	}
	return 0;
}

/* Holds every worker off the port; 0 once all let go (bounded wait: 200 ms). */
static int
hold_workers(struct rg_app *app)
{
	for (uint16_t w = 0; w < app->nworkers; w++)
		rg_worker_port_hold(&app->workers[w], 1);
	for (int ms = 0; ms < 200; ms++) {
		uint16_t held = 0;

		for (uint16_t w = 0; w < app->nworkers; w++)
			held += rg_worker_port_held(&app->workers[w]) != 0;
		if (held == app->nworkers)
			return 0;
		rte_delay_us_sleep(1000);
	}
	return -1;
}

static void
release_workers(struct rg_app *app)
{
	for (uint16_t w = 0; w < app->nworkers; w++)
		rg_worker_port_hold(&app->workers[w], 0);
}

void
rg_app_watch_port(struct rg_app *app, uint64_t now_ns)
{
	const uint64_t grace_ns = 300 * RG_NS_PER_MS; /* a started port may take this to link */

	if (!app->port.redial || now_ns < app->watch_next_ns)
		return;
	app->watch_next_ns = now_ns + 100 * RG_NS_PER_MS;
	if (rg_port_link_up(&app->port)) {
		app->down_since_ns = 0;
		return;
	}
	if (app->down_since_ns == 0)
		app->down_since_ns = now_ns;
	if (app->port.started && now_ns - app->down_since_ns < grace_ns)
		return;
	if (hold_workers(app) != 0) {
		release_workers(app);
		return;
	}
	if (app->redials++ % 10 == 0)
		printf(
		    "repgate: port %s is down: starting it again (the peer may have restarted)\n",
		    app->port.name);
	fflush(stdout);
	if (rg_port_restart(&app->port) == 0)
		release_workers(app);
	app->down_since_ns = now_ns;
}

/* The NUMA placement warning (hardware.md): workers on another node than their port. */
static void
check_placement(struct rg_app *app)
{
	int nodes[RG_WORKER_LANES_MAX], cpus[RG_WORKER_LANES_MAX];
	int port_node = app->prof.port.numa_node >= 0 ? app->prof.port.numa_node
						      : rte_eth_dev_socket_id(app->port.id);
	char buf[4096];

	for (uint16_t w = 0; w < app->nworkers; w++) {
		rte_cpuset_t set = rte_lcore_cpuset(app->lcores[w]);

		cpus[w] = -1;
		for (int c = 0; c < CPU_SETSIZE && cpus[w] < 0; c++)
			if (CPU_ISSET(c, &set))
				cpus[w] = c;
		nodes[w] = rg_placement_node_of_cpu(cpus[w]);
	}
	if (rg_placement_warnings(nodes, cpus, app->nworkers, port_node, app->port.name, buf,
				  sizeof(buf)) > 0)
		fprintf(stderr, "%s", buf);
}

/* The control thread: membership over every peer of the profile. */
static int
start_ctl(struct rg_app *app)
{
	const struct rg_profile *p = &app->prof;
	struct rg_ctl_config cc = { 0 };

	cc.period_ns = (uint64_t)p->membership.period_ms * RG_NS_PER_MS;
	cc.cmd_timeout_ns = 2 * RG_NS_PER_S;
	rg_detector_config_default(&cc.det);
	cc.det.suspect_phi = p->membership.suspect_phi;
	cc.det.dead_phi = p->membership.dead_phi;
	cc.det.min_stddev_ns = (uint64_t)p->membership.min_stddev_ms * RG_NS_PER_MS;
	cc.det.acceptable_pause_ns = (uint64_t)p->membership.acceptable_pause_ms * RG_NS_PER_MS;
	cc.det.dead_after_ns = (uint64_t)p->membership.dead_after_ms * RG_NS_PER_MS;
	cc.det.first_interval_ns = (uint64_t)p->proto.ping_interval_ms * RG_NS_PER_MS;
	cc.tsc0 = app->tsc0;
	cc.workers = app->workers;
	cc.nworkers = app->nworkers;
	for (uint32_t i = 0; i < p->npeers && cc.npeers < RG_MEMBERSHIP_PEERS_MAX; i++) {
		if (p->peers[i].kind != RG_PROFILE_PEER_GATEWAY)
			continue; /* clients fail over themselves (librepgate): not members */
		cc.peers[cc.npeers].gw = (uint16_t)p->peers[i].id;
		snprintf(cc.peers[cc.npeers].region, sizeof(cc.peers[cc.npeers].region), "%s",
			 p->peers[i].region);
		cc.npeers++;
	}
	if (rg_ctl_start(&app->ctl, &cc) != 0)
		return -1;
	app->ctl_started = 1;
	return 0;
}

/*
 * Telemetry commands and the metrics server read the app from now on: last in
 * rg_app_start, once everything they read exists.
 */
static int
start_telemetry(struct rg_app *app)
{
	const struct rg_profile *p = &app->prof;
	const struct rg_metrics_limits lim = {
		.conns_max = (unsigned)p->telemetry.metrics_conns_max,
		.conns_per_ip = (unsigned)p->telemetry.metrics_conns_per_ip,
		.timeout_s = (unsigned)p->telemetry.metrics_timeout_s,
	};

	rg_telemetry_attach(app);
	if (p->telemetry.metrics_port == 0)
		return 0;
	app->metrics =
	    rg_metrics_start(p->telemetry.metrics_addr, (uint16_t)p->telemetry.metrics_port, &lim);
	return app->metrics != NULL ? 0 : -1;
}

/* First in rg_app_fini: once it returns, no telemetry reader is inside the app. */
static void
stop_telemetry(struct rg_app *app)
{
	rg_metrics_stop(app->metrics);
	app->metrics = NULL;
	rg_telemetry_detach();
}

/* security.mode = "aead": the workers seal with this gateway's key and the peers' public keys. */
static int
security_config(struct rg_app *app)
{
	const struct rg_profile *p = &app->prof;
	struct rg_worker_config *c = &app->wcfg;
	char err[512];

	c->sealed = p->security.mode == RG_PROFILE_SECURITY_AEAD;
	if (!c->sealed)
		return 0;
	if (rg_key_load_file(p->security.key, c->key, err, sizeof(err)) != 0) {
		fprintf(stderr, "repgate: security.key: %s\n", err);
		return -1;
	}
	for (uint32_t i = 0; i < p->npeers; i++)
		if (rg_key_from_b64(p->peers[i].pubkey, c->peers[i].pubkey) != 0) {
			fprintf(stderr, "repgate: peers.[%u].pubkey: not a public key\n", i);
			return -1;
		}
	return 0;
}

int
rg_app_start(struct rg_app *app)
{
	app->tsc0 = rte_rdtsc();
	app->nworkers = (uint16_t)app->prof.workers.count;
	app->workers =
	    rte_zmalloc("rg_workers", sizeof(app->workers[0]) * app->nworkers, RTE_CACHE_LINE_SIZE);
	if (app->workers == NULL || pick_lcores(app) != 0 || make_pools(app) != 0 ||
	    open_ports(app) != 0 || make_arp(app) != 0 || make_rings(app) != 0)
		return -1;
	worker_config(app);
	if (security_config(app) != 0 || make_loadgen(app) != 0 || make_workers(app) != 0)
		return -1;
	memset(app->wcfg.key, 0, sizeof(app->wcfg.key)); /* each worker's keyring has it now */
	check_placement(app);
	printf("repgate: gateway %u (%s) up: port %s%s%s, %u worker(s), %u peer(s), load %s, WAN "
	       "emulator %s, security %s%s\n",
	       app->prof.gateway.id, app->prof.gateway.region, app->port.name,
	       app->lan_open ? ", LAN port " : "", app->lan_open ? app->lan.name : "",
	       app->nworkers, app->prof.npeers,
	       app->prof.load.role == RG_PROFILE_ROLE_GENERATOR  ? "generator"
	       : app->prof.load.role == RG_PROFILE_ROLE_CONSUMER ? "consumer"
								 : "none",
	       app->wcfg.wan_on ? "on" : "off",
	       app->wcfg.sealed ? "aead, " : "none (plaintext: trusted links only)",
	       app->wcfg.sealed ? rg_keyring_impl_name(app->workers[0].keys) : "");
	fflush(stdout);
	for (uint16_t w = 0; w < app->nworkers; w++) {
		/* A port that could not start yet (its peer is not up) waits for the main loop. */
		rg_worker_port_hold(&app->workers[w], !app->port.started);
		rte_eal_remote_launch(rg_worker_main, &app->workers[w], app->lcores[w]);
	}
	app->launched = 1;
	if (start_ctl(app) != 0)
		return -1;
	return start_telemetry(app);
}

/* Final counters: the nonzero ones, summed over workers, on stderr (apps/counters.h). */
static void
print_counters(struct rg_app *app)
{
	struct rg_worker_stats s, sum;

	memset(&sum, 0, sizeof(sum));
	for (uint16_t w = 0; w < app->nworkers; w++) {
		rg_worker_stats(&app->workers[w], &s);
		rg_counters_add(&sum, &s);
	}
	rg_counters_print(&sum, app->prof.gateway.id, stderr);
}

void
rg_app_print_peers(struct rg_app *app, uint64_t now_ns, FILE *f)
{
	struct rg_ctl_peer_view v[RG_MEMBERSHIP_PEERS_MAX];
	unsigned n;

	if (!app->ctl_started)
		return;
	n = rg_ctl_peers(&app->ctl, v, RG_MEMBERSHIP_PEERS_MAX);
	fprintf(f, "[%6.1fs] peers:", (double)now_ns / 1e9);
	for (unsigned i = 0; i < n; i++) {
		fprintf(f, " %u/%s %s phi %.1f rtt %.1f ms", v[i].gw, v[i].region,
			rg_liveness_name(v[i].state), v[i].phi < 0.05 ? 0.0 : v[i].phi,
			(double)v[i].srtt_ns / 1e6);
		if (v[i].route != v[i].gw)
			fprintf(f, " (streams on %u)", v[i].route);
		fprintf(f, i + 1 < n ? ";" : "\n");
	}
	if (n == 0)
		fprintf(f, " none\n");
	fflush(f);
}

/* The peers as the control thread last saw them, and every liveness change it counted. */
static void
print_membership(struct rg_app *app)
{
	struct rg_ctl_peer_view v[RG_MEMBERSHIP_PEERS_MAX];
	struct rg_ctl_counters c;
	unsigned n = rg_ctl_peers(&app->ctl, v, RG_MEMBERSHIP_PEERS_MAX);

	rg_ctl_counters(&app->ctl, &c);
	for (unsigned i = 0; i < n; i++)
		fprintf(stderr,
			"repgate: peer %u (region %s): %s, %llu heartbeats, %llu transitions, "
			"%llu restarts, streams on gateway %u\n",
			v[i].gw, v[i].region, rg_liveness_name(v[i].state),
			(unsigned long long)v[i].heartbeats, (unsigned long long)v[i].transitions,
			(unsigned long long)v[i].restarts, v[i].route);
	fprintf(stderr,
		"repgate: membership: %llu suspected, %llu dead, %llu recovered, %llu failovers "
		"moving %llu streams, %llu commands failed\n",
		(unsigned long long)c.transitions[RG_LIVENESS_ALIVE][RG_LIVENESS_SUSPECT],
		(unsigned long long)(c.transitions[RG_LIVENESS_ALIVE][RG_LIVENESS_DEAD] +
				     c.transitions[RG_LIVENESS_SUSPECT][RG_LIVENESS_DEAD]),
		(unsigned long long)(c.transitions[RG_LIVENESS_SUSPECT][RG_LIVENESS_ALIVE] +
				     c.transitions[RG_LIVENESS_DEAD][RG_LIVENESS_ALIVE]),
		(unsigned long long)c.failovers, (unsigned long long)c.streams_moved,
		(unsigned long long)c.cmd_failed);
}

int
rg_app_stop(struct rg_app *app)
{
	int rc = 0;

	rg_telemetry_quiesce(app); /* telemetry keeps serving, from snapshots only */
	if (app->ctl_started) {
		print_membership(app);
		rg_ctl_stop(&app->ctl);
		app->ctl_started = 0;
	}
	for (uint16_t w = 0; w < app->nworkers; w++)
		rg_worker_stop(&app->workers[w]);
	for (uint16_t w = 0; w < app->nworkers; w++)
		rte_eal_wait_lcore(app->lcores[w]);
	app->launched = 0;
	if (app->lg != NULL) {
		rg_loadgen_step(app->lg, app->run_ns); /* take what the workers delivered last */
		rc = rg_loadgen_verdict(app->lg, app->run_ns, stdout) == 0 ? 0 : 1;
	}
	print_counters(app);
	return rc;
}

static void
drain_ring_mbufs(struct rte_ring *r)
{
	void *m;

	while (r != NULL && rte_ring_dequeue(r, &m) == 0)
		rte_pktmbuf_free(m);
}

static void
drain_deliveries(struct rte_ring *r)
{
	struct rg_delivery d;

	while (r != NULL && rte_ring_dequeue_elem(r, &d, sizeof(d)) == 0)
		rte_pktmbuf_free(d.mbuf);
}

void
rg_app_fini(struct rg_app *app)
{
	stop_telemetry(app);
	if (app->launched)
		rg_app_stop(app);
	for (uint16_t w = 0; app->workers != NULL && w < app->nworkers; w++)
		if (app->workers[w].core != NULL)
			rg_worker_fini(&app->workers[w]);
	for (uint16_t w = 0; w < app->nworkers; w++) {
		drain_ring_mbufs(app->ingress[w]);
		drain_ring_mbufs(app->dispatch[w]);
		drain_deliveries(app->delivery[w]);
		rte_ring_free(app->ingress[w]);
		rte_ring_free(app->delivery[w]);
		rte_ring_free(app->applied[w]);
		rte_ring_free(app->dispatch[w]);
		rte_ring_free(app->cmd[w]);
	}
	rg_loadgen_destroy(app->lg);
	if (app->port_open)
		rg_port_close(&app->port);
	if (app->lan_open)
		rg_port_close(&app->lan);
	for (int k = 0; k < RG_WORKER_PORTS_MAX; k++)
		rte_free(app->arp[k]);
	rte_free(app->learned);
	rte_mempool_free(app->rec_pool);
	rte_mempool_free(app->tx_pool);
	rte_mempool_free(app->rx_pool[0]);
	rte_mempool_free(app->rx_pool[1]);
	rte_free(app->workers);
}
