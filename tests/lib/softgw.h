/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A gateway in software, for tests of librepgate without DPDK: the real
 * protocol core and the real relay (dataplane/proto/relay.h) over one kernel
 * UDP socket on loopback, polled by the test. Its peers are the gateways and
 * clients the test declares; a client's address is learned from its first
 * datagram, as the daemon does. Not a product: one core, no ARP, no
 * telemetry.
 */
#ifndef RG_TESTS_SOFTGW_H
#define RG_TESTS_SOFTGW_H

#include <netinet/in.h>
#include <stdint.h>

#include "core.h"
#include "relay.h"

#define SOFTGW_PEERS_MAX 8

struct softgw_peer {
	uint16_t id;
	int client;
	struct sockaddr_in sa; /* a client's: learned */
	int known;
};

struct softgw {
	uint16_t id;
	int fd;
	uint16_t port;
	struct rg_core *core;
	struct rg_relay *relay;
	struct softgw_peer peers[SOFTGW_PEERS_MAX];
	int npeers;
	uint16_t route; /* where producer streams go */
	uint64_t rng;
	unsigned live_pkts, live_bufs;
	uint64_t rx, tx, drops;
	int drop_rx; /* while set, every datagram that arrives is dropped (a partition) */
};

/* A gateway with id on 127.0.0.1:port (0: any; see ->port). 0 or -errno. */
int softgw_start(struct softgw *g, uint16_t id, uint16_t port, uint64_t incarnation);
/* Peers, before the first poll: a gateway at 127.0.0.1:port, or a client (address learned). */
int softgw_add_gateway(struct softgw *g, uint16_t id, uint16_t port);
int softgw_add_client(struct softgw *g, uint16_t id);
/* Receives, runs timers, flushes the relay, sends: one round. */
void softgw_poll(struct softgw *g, uint64_t now_ns);
void softgw_stop(struct softgw *g);

#endif /* RG_TESTS_SOFTGW_H */
