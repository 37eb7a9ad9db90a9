/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's assembly: from a checked profile to pools, the port, the
 * rings, the workers on their lcores and the load role; and back down.
 * Slow path only.
 */
#ifndef RG_APPS_APP_H
#define RG_APPS_APP_H

#include <stdint.h>

#include "ctl.h"
#include "loadgen.h"
#include "port.h"
#include "profile.h"
#include "worker.h"

#define RG_APP_SETS_MAX 64

struct rg_app {
	/* command line */
	const char *profile_path;
	const char *sets[RG_APP_SETS_MAX];
	int nsets;
	int check_only;
	int eal_argc;
	char **eal_argv;
	/* running */
	struct rg_profile prof;
	struct rg_worker_config wcfg; /* common to every worker; index and rings differ */
	struct rg_port port; /* the WAN port (peers; clients too when there is no LAN port) */
	int port_open;
	struct rg_port lan; /* the LAN port for clients (lan.device), when there is one */
	int lan_open;
	struct rg_arp *arp[RG_WORKER_PORTS_MAX]; /* one per port, shared by its workers */
	struct rg_worker_learned *learned;       /* per peer: a client's learned address */
	/*
	 * Packets the workers build (every port), and one pool per port to receive
	 * into: a relay holds received packets until the next hop acks their
	 * records, so whatever it holds, a gateway can still send (acks, HELLOs,
	 * data) and hear the other port (the acks that let those packets go).
	 */
	struct rte_mempool *tx_pool, *rx_pool[2], *rec_pool;
	struct rte_ring *ingress[RG_WORKER_LANES_MAX], *delivery[RG_WORKER_LANES_MAX];
	struct rte_ring *applied[RG_WORKER_LANES_MAX], *dispatch[RG_WORKER_LANES_MAX];
	struct rte_ring *cmd[RG_WORKER_LANES_MAX];
	uint64_t tsc0;     /* the clock's zero, shared by the workers and the control thread */
	struct rg_ctl ctl; /* the control thread (apps/ctl.h) */
	int ctl_started;
	uint64_t peers_shown_ns;   /* the live view's peers line, once a second */
	struct rg_worker *workers; /* nworkers, cache aligned */
	uint16_t nworkers;
	unsigned lcores[RG_WORKER_LANES_MAX];
	int launched;
	struct rg_loadgen *lg;
	uint64_t run_ns;
	uint64_t watch_next_ns, down_since_ns; /* rg_app_watch_port */
	uint64_t redials;
	struct rg_metrics *metrics; /* the HTTP metrics server, or NULL (apps/metrics.h) */
};

uint16_t rg_app_gateway_id(const struct rg_app *app);
/* Checks what the profile loader cannot: the WAN emulator's settings as a whole. */
int rg_app_check_profile(const struct rg_profile *p, char *err, size_t errlen);
/* Builds everything and launches the workers. 0, or -1 after printing why. */
int rg_app_start(struct rg_app *app);
/*
 * For a port whose driver does not redial (a memif client): when its link has
 * been down a while, holds the workers off it and starts it again. Called from
 * the main loop; does something at most every 100 ms.
 */
void rg_app_watch_port(struct rg_app *app, uint64_t now_ns);
/* The live view's second line: every peer's liveness, suspicion and RTT (with the progress line). */
void rg_app_print_peers(struct rg_app *app, uint64_t now_ns, FILE *f);
/* Stops the workers, prints final counters and the verdict. Returns the exit status. */
int rg_app_stop(struct rg_app *app);
/* Frees what start built (also after a failed start). */
void rg_app_fini(struct rg_app *app);

#endif /* RG_APPS_APP_H */
