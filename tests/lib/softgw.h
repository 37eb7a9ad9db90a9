/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A gateway in software, for tests of librepgate without DPDK: the real
 * protocol core and the real relay (dataplane/proto/relay.h) over one kernel
 * UDP socket on loopback, polled by the test. Its peers are the gateways and
 * clients the test declares; a client's address is learned from its first
 * datagram, as the daemon does. Not a product: one core, no ARP, no
 * telemetry.
 *
 * Sealed (softgw_start_sealed): the core seals with a keyring of the
 * gateway's private key and the public keys of its peers
 * (softgw_peer_key), as a daemon with security.mode = "aead" does; a peer
 * without a key gets nothing through (NO_KEY), a wrong key BAD_TAG
 * (softgw_drops says how many).
 */
#ifndef RG_TESTS_SOFTGW_H
#define RG_TESTS_SOFTGW_H

#include <netinet/in.h>
#include <stdint.h>

#include "core.h"
#include "keys.h"
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
	int drop_rx;           /* while set, every datagram that arrives is dropped (a partition) */
	struct rg_keyring *kr; /* sealed: the core's AEAD; NULL: plaintext */
};

/* A gateway with id on 127.0.0.1:port (0: any; see ->port). 0 or -errno. */
int softgw_start(struct softgw *g, uint16_t id, uint16_t port, uint64_t incarnation);
/* The same, sealed with private key priv (NULL: plaintext, softgw_start). 0 or -errno. */
int softgw_start_sealed(struct softgw *g, uint16_t id, uint16_t port, uint64_t incarnation,
			const uint8_t priv[RG_KEY_BYTES]);
/* A peer's public key (a sealed gateway), before the peer's first packet. 0 or -errno. */
int softgw_peer_key(struct softgw *g, uint16_t id, const uint8_t pub[RG_KEY_BYTES]);
/* Packets the core dropped for reason d (RG_DROP_BAD_TAG, RG_DROP_MODE_MISMATCH, ...). */
uint64_t softgw_drops(const struct softgw *g, enum rg_core_drop d);
/* Peers, before the first poll: a gateway at 127.0.0.1:port, or a client (address learned). */
int softgw_add_gateway(struct softgw *g, uint16_t id, uint16_t port);
int softgw_add_client(struct softgw *g, uint16_t id);
/* Receives, runs timers, flushes the relay, sends: one round. */
void softgw_poll(struct softgw *g, uint64_t now_ns);
void softgw_stop(struct softgw *g);

#endif /* RG_TESTS_SOFTGW_H */
