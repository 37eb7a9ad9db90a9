/* SPDX-License-Identifier: Apache-2.0 */
/*
 * librepgate's internals (repgate.h is the contract): the client's state
 * around its protocol core, shared by client.c (the API and the core's
 * callbacks) and net.c (the socket: batched receive, batched and segmented
 * send). Nothing here is exported (librepgate.map).
 *
 * Invariants (client_check):
 *   1. held_records and held_bytes are the records the core holds for us
 *      (published, not released) and their bytes plus the reassembly
 *      buffers' bytes; held_bytes <= bytes_max except for one record
 *      larger than what was free (it is taken when nothing else is held).
 *   2. A stream is in the dirty list iff it has deferred callbacks (CS_P_*).
 *   3. A send stream is `ready` (publish goes to the core) only after its
 *      replay callback ran: the app always learns where to publish from
 *      before the core takes a record of the new run.
 *   4. Receive buffers: every one is free or held (refs > 0), never both.
 */
#ifndef RG_CLIENT_IMPL_H
#define RG_CLIENT_IMPL_H

#include <netinet/in.h>
#include <stdint.h>

#include "core.h"
#include "detector.h"
#include "repgate.h"
#include "stab.h"

struct rg_keyring;

#define CL_LANES_MAX     16 /* lanes to one gateway: its worker count, at most this */
#define CL_RX_BATCH      64 /* datagrams per recvmmsg */
#define CL_RX_BATCHES    8  /* recvmmsg calls per poll: bounds one poll's work */
#define CL_TX_SLOTS      64 /* packets built before one sendmmsg */
#define CL_TX_ROUNDS     64 /* sendmmsg rounds per poll: bounds one poll's work */
#define CL_GSO_BYTES_MAX 65000
#define CL_EVENTS_MAX    64
#define CL_NS_MAX        64
#define CL_MANAGE_NS     (5 * RG_NS_PER_MS) /* gateway liveness is judged this often */
/*
 * Silence from a gateway that is normal: an idle lane hears only its PINGs,
 * every proto.ping_interval_ms (100 ms by default), while a busy one hears a
 * packet every CL_MANAGE_NS; added to the detector's mean interval so the
 * end of a burst is not taken for a death (the daemon's
 * membership.acceptable_pause_ms, 300 ms, which its profile check keeps at
 * least the ping interval, for the same reason).
 */
#define CL_IDLE_PAUSE_NS (300 * RG_NS_PER_MS)

/* One gateway of the region. */
struct cl_gw {
	uint16_t id;
	struct sockaddr_in sa;
	struct rg_detector det;
	uint64_t heard_ns; /* the newest packet time over its lanes, as a heartbeat */
	uint16_t lanes;    /* lanes added to the core */
	uint8_t ready;     /* known (incarnation and lane count), lanes added, not dead */
};

enum cl_stream_kind {
	CS_TX = 1,
	CS_RX = 2,
};

/* Deferred callbacks of a stream (cl_stream.pending): run outside the core. */
#define CS_P_REPLAY  0x01
#define CS_P_APPLIED 0x02 /* producer: the applied callback */
#define CS_P_APPLY   0x04 /* consumer: rg_core_applied, asked for inside deliver */

struct cl_stream {
	uint64_t id;
	uint8_t kind;    /* enum cl_stream_kind */
	uint8_t opened;  /* send: open in the core */
	uint8_t ready;   /* send: inv. 3 */
	uint8_t pending; /* CS_P_* */
	uint8_t dirty;
	uint8_t by_ns;    /* receive: came with a namespace subscription */
	uint8_t subbed;   /* receive: asked for at the serving gateway */
	uint8_t offered;  /* receive: the gateway offered it, the app has not asked: it waits */
	uint32_t replays; /* send: replay callbacks run (rg_client_publish_wait sees one) */
	uint64_t replay_from;
	uint64_t applied;   /* send: the consumer's, as last told; receive: what the app said */
	uint64_t delivered; /* receive: the last seq handed to deliver and taken */
	/* receive: a record that came in several fragments, put together (copied) here */
	uint8_t *asm_buf;
	uint64_t asm_seq;
	uint32_t asm_len, asm_got;
};

struct cl_ns {
	uint32_t ns;
	uint8_t subbed;
};

struct cl_rxbuf {
	uint32_t refs;
	uint32_t len;
	struct cl_rxbuf *next_free;
	uint8_t data[RG_PKT_BYTES_MAX];
};

/* A record the core holds: its bytes are the payload published. */
struct cl_txrec {
	uint32_t len;
	uint8_t data[];
};

struct cl_tx {
	uint8_t buf[CL_TX_SLOTS][RG_PKT_BYTES_MAX];
	uint32_t len[CL_TX_SLOTS];
	uint16_t gw[CL_TX_SLOTS]; /* index in rg_client.gws */
	uint32_t n;
};

struct rg_client {
	struct rg_client_config cfg;
	struct rg_client_cb cb;
	int fd;
	int gso; /* the kernel segments UDP (UDP_SEGMENT) */
	struct rg_core *core;
	struct rg_keyring *kr; /* sealed: the core's AEAD (outlives the core); NULL: plaintext */
	uint64_t rng;
	uint64_t now_ns, created_ns, manage_next_ns;
	struct cl_gw gws[RG_CLIENT_GATEWAYS_MAX];
	uint16_t ngws;
	int serving; /* index in gws, -1: none yet */
	int ever_connected, unreachable_said;
	struct rg_stab tab; /* stream id → index in streams */
	struct cl_stream *streams;
	uint32_t nstreams;
	uint32_t *dirty;
	uint32_t ndirty;
	struct cl_ns ns[CL_NS_MAX];
	uint32_t nns;
	struct rg_client_event events[CL_EVENTS_MAX];
	uint32_t ev_head, ev_tail;
	int in_core; /* inside a core call: no core call may start (deliver may apply: deferred) */
	int in_dispatch; /* inside the app's callbacks: no poll may start */
	struct cl_rxbuf *rxbufs;
	struct cl_rxbuf *rx_free;
	uint32_t nrxbufs, rx_free_n;
	struct cl_tx *tx;
	uint64_t held_records, held_bytes;
	struct rg_client_stats st;
};

/* net.c */
int cl_net_open(struct rg_client *c);
/* Reads and hands to the core what arrived; bounded by CL_RX_BATCHES batches. Returns datagrams. */
int cl_net_recv(struct rg_client *c);
/* Builds and sends what the core has; bounded by CL_TX_ROUNDS rounds. Returns datagrams. */
int cl_net_send(struct rg_client *c);
/* client.c, for net.c: one datagram from gateway index gw (the core sees it). */
void cl_on_datagram(struct rg_client *c, struct cl_rxbuf *b);
void cl_rxbuf_put(struct rg_client *c, struct cl_rxbuf *b);
struct cl_rxbuf *cl_rxbuf_get(struct rg_client *c);
/* The gateway index a source address belongs to, or -1. */
int cl_gw_of(const struct rg_client *c, const struct sockaddr_in *sa);

#endif /* RG_CLIENT_IMPL_H */
