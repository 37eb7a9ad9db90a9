/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The replication protocol core of one worker: its lanes to peer gateways,
 * its send streams and receive streams. Sans-I/O (DESIGN §4.2), in the style
 * of ngtcp2: the caller feeds packets in with rg_core_recv(), takes packets
 * out with rg_core_send(), asks rg_core_next_deadline() when to come back
 * and calls rg_core_on_timer() then. Time is always passed in (ns);
 * memory and randomness are injected at rg_core_create(); memory is taken
 * only during setup (create, add_peer, add_lane), randomness is drawn only
 * for a lane's first packet number. Callbacks never re-enter the core.
 *
 * A stream's life on the sending side:
 *
 *   rg_core_tx_open() ──▶ SYNCING ──RESUME reply──▶ OPEN ──peer restarted──▶ SYNCING
 *                         (publish: -ENOTCONN) │    (publish: 0 / -EAGAIN / -EINVAL)
 *                                              ├─▶ replay(from = applied + 1)
 *                                              └── REWIND(from) ──▶ OPEN, replay(from)
 *
 * SYNCING → OPEN is core.c:on_resume_reply(); OPEN → SYNCING is
 * peer_restarted(); a REWIND (on_rewind) restarts an open stream's queue at
 * the seq the receiver names. In SYNCING the core sends RESUME requests
 * until the receiver answers with the consumer's applied watermark; the
 * producer then publishes again from the seq the replay callback names,
 * which it still has because it trims only what is applied (DESIGN §3.2).
 *
 * On the receiving side a stream is created when its first RESUME request
 * arrives; the rx_open callback says where its consumer stands (applied
 * watermark) or that it will say so later (-EINPROGRESS, then
 * rg_core_rx_accept), and from then on records are released in seq order.
 *
 * Peers are gateways or clients (DESIGN §2): both are a 16-bit id with lanes.
 * A passive peer (a client, at a gateway) gets nothing until it has spoken.
 * A client subscribes to streams at its gateway (rg_core_subscribe: SUBSCRIBE
 * frames); the gateway's subscribe callback decides. A relay (relay.h) joins
 * a receive stream and a send stream of one id on one core.
 */
#ifndef RG_PROTO_CORE_H
#define RG_PROTO_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "cc.h"
#include "common.h"
#include "reorder.h"
#include "session.h"
#include "wire.h"

struct rg_core;

/*
 * The AEAD and the handshake the caller injects (DESIGN §4.2, §4.12;
 * docs/protocol.md §3a, §5c), like the RNG; control/keys.c gives both. All
 * NULL: plaintext mode (security.mode = "none"), CRC32C tags. The core
 * never sees a key: it names key slots and lanes, and the caller keeps what
 * is in them. Session place i (session.h) of the core's lane index li has
 * the key slots RG_AEAD_TX_SLOT(li, i) (seal) and RG_AEAD_RX_SLOT(li, i)
 * (open): RG_AEAD_SLOTS(lanes_max) in all.
 *
 * hs_initiate: writes the INIT (RG_HS_INIT_BYTES) of a handshake on lane li
 *   to peer_gw, the packet's header (RG_HDR_BYTES) as the Noise prologue.
 * hs_read_init: checks an INIT said to come from peer_gw on lane li (its
 *   header the prologue): 0, or -EBADMSG / -EACCES (another identity).
 * hs_answer: the RESP (RG_HS_RESP_BYTES) to the INIT just read, carrying
 *   our incarnation; the session's keys go into tx_slot and rx_slot.
 * hs_finish: reads the RESP to lane li's INIT: the peer's incarnation in
 *   *peer_inc, the keys in tx_slot and rx_slot; 0 or -errno (then nothing
 *   changed: a forged RESP leaves the INIT pending).
 * forget: slot's key replaced by one nobody has.
 * seal: encrypts buf[0..len) in place and writes the tag; aad (the header)
 *   is authenticated too. Cannot fail.
 * open: decrypts buf[0..len) in place; 0 when the tag checks, else -EBADMSG
 *   (buf is then garbage; the packet is dropped).
 * The nonce is (lane, full packet number), never reused under one key: a
 * key is one handshake's, one direction's, and a lane's numbers restart
 * only with a new incarnation, whose sessions are new handshakes.
 */
#define RG_HS_INIT_BYTES         96  /* Noise IK's first message, empty payload */
#define RG_HS_RESP_BYTES         56  /* its second, an 8-byte incarnation */
#define RG_HS_PER_S              100 /* INITs and RESPs checked per second per peer, at most */
#define RG_AEAD_TX_SLOT(li, i)   ((uint32_t)(((li)*RG_SES_PER_LANE + (i)) * 2))
#define RG_AEAD_RX_SLOT(li, i)   (RG_AEAD_TX_SLOT(li, i) + 1)
#define RG_AEAD_SLOTS(lanes_max) ((uint32_t)(lanes_max)*RG_SES_PER_LANE * 2)
struct rg_aead {
	int (*hs_initiate)(void *ctx, uint32_t li, uint16_t peer_gw, const uint8_t *prologue,
			   uint8_t *out);
	int (*hs_read_init)(void *ctx, uint32_t li, uint16_t peer_gw, const uint8_t *prologue,
			    const uint8_t *msg);
	int (*hs_answer)(void *ctx, uint32_t li, uint32_t tx_slot, uint32_t rx_slot,
			 uint64_t our_inc, uint8_t *out);
	int (*hs_finish)(void *ctx, uint32_t li, uint16_t peer_gw, uint32_t tx_slot,
			 uint32_t rx_slot, const uint8_t *msg, uint64_t *peer_inc);
	void (*forget)(void *ctx, uint32_t slot);
	void (*seal)(void *ctx, uint32_t slot, const uint8_t nonce[RG_AEAD_NONCE_BYTES],
		     const uint8_t *aad, size_t aad_len, uint8_t *buf, size_t len,
		     uint8_t tag[RG_AEAD_TAG_BYTES]);
	int (*open)(void *ctx, uint32_t slot, const uint8_t nonce[RG_AEAD_NONCE_BYTES],
		    const uint8_t *aad, size_t aad_len, uint8_t *buf, size_t len,
		    const uint8_t tag[RG_AEAD_TAG_BYTES]);
	void *ctx;
};

struct rg_core_config {
	uint64_t incarnation; /* this gateway's, ordered: see docs/protocol.md §Incarnations */
	uint16_t gateway_id;
	uint16_t peers_max;
	uint16_t lanes_max;             /* lanes served by this core, over all peers */
	uint32_t streams_max;           /* send and receive streams together */
	uint32_t tx_records_max;        /* record descriptors over all send streams */
	uint32_t tx_stream_records_max; /* one send stream's queue: publish -EAGAIN past it */
	uint32_t rx_window_records;     /* reorder window = credit per stream (power of two) */
	uint32_t rx_frags_max;          /* buffered out-of-order fragments over all streams */
	uint32_t pkt_bytes_max;         /* largest packet built (UDP payload bytes) */
	uint32_t inflight_pkts_max;     /* per lane (power of two) */
	uint32_t inflight_frames_max;   /* per lane (power of two) */
	uint64_t inflight_bytes_max;    /* per lane */
	uint32_t ack_every_pkts;        /* ack after this many ack-eliciting packets ... */
	uint64_t ack_delay_ns_max;      /* ... or this long after the first of them */
	uint64_t initial_rtt_ns;
	uint64_t granularity_ns;
	uint64_t pto_ns_max;
	uint64_t
	    pace_rate_bytes_per_s; /* per lane; fixed: 0 = unpaced; adaptive: a cap, 0 = none */
	uint64_t pace_burst_bytes;
	enum rg_pacing pacing;      /* fixed (default) or adaptive (BBR-like): cc.h */
	uint64_t hello_interval_ns; /* HELLO while a peer's incarnation is unknown */
	uint64_t ping_interval_ns;  /* PING on an idle lane (heartbeat) */
	uint64_t pn_start_max;      /* lanes start numbering at random below this (<= 2^31) */
	uint32_t subs_max;          /* subscriptions this core may ask for (a client's) */
	struct rg_mem mem;
	struct rg_rng rng;
	struct rg_aead aead;      /* zeroed: plaintext */
	struct rg_ses_config ses; /* sealing: rekey and retry times (session.h) */
};

/* Peer events reported through the peer_event callback. */
enum rg_peer_event {
	RG_PEER_FIRST_CONTACT = 1, /* learned the peer's incarnation */
	RG_PEER_RESTARTED,         /* a newer incarnation: its streams resync */
	RG_PEER_CLOSED,            /* the peer said CLOSE */
	RG_PEER_MODE_MISMATCH, /* it sends sealed packets and we are plaintext, or the reverse */
};

struct rg_core_cb {
	/*
	 * A fragment of a record, in order (see reorder.h). f->data is valid
	 * during the call only: a consumer that keeps it takes its own
	 * reference on f->handle. Returns 0, or -EAGAIN when it has no room now
	 * (the core keeps the fragment; call rg_core_drain() when there is room).
	 */
	int (*deliver)(void *ctx, uint16_t peer_gw, uint64_t stream, const struct rg_rx_frag *f);
	void (*rx_hold)(void *ctx, void *pkt_handle);
	void (*rx_release)(void *ctx, void *pkt_handle);
	/* A published record is no longer needed by the core (fully acked or dropped on resync). */
	void (*tx_release)(void *ctx, void *rec_handle);
	/*
	 * A peer asks to resume stream: returns 0 and the consumer's applied
	 * watermark (0 for a new stream); -EINPROGRESS when the answer comes
	 * later (the stream waits, the request is acked; call
	 * rg_core_rx_accept); or another -errno to refuse the stream (the
	 * packet is not acked, so the request comes again).
	 */
	int (*rx_open)(void *ctx, uint16_t peer_gw, uint64_t stream, uint64_t *applied);
	/*
	 * Publish stream again from from_seq: the core forgot everything after
	 * from_seq - 1. from_seq is always above the applied watermark the
	 * applied callback said last (when the receiver turns out to have applied
	 * more than a replay asked for, a new replay past it follows).
	 */
	void (*replay)(void *ctx, uint16_t peer_gw, uint64_t stream, uint64_t from_seq);
	/* The receiving gateway has every seq <= acked (it may still lose them if it crashes). */
	void (*acked)(void *ctx, uint16_t peer_gw, uint64_t stream, uint64_t acked);
	/* The consumer made every seq <= applied durable: the producer may trim them. */
	void (*applied)(void *ctx, uint16_t peer_gw, uint64_t stream, uint64_t applied);
	void (*peer_event)(void *ctx, uint16_t peer_gw, enum rg_peer_event ev, uint64_t inc);
	/*
	 * Gateway side, may be NULL (every request refused NOT_ALLOWED): peer
	 * asks for a stream or a namespace (enum rg_sub_kind; key as in wire.h).
	 * Returns an enum rg_sub_status; the core sends it back. A client asks
	 * again until it has an answer, so this must be idempotent.
	 */
	int (*subscribe)(void *ctx, uint16_t peer_gw, uint8_t kind, uint64_t key);
	/* Client side, may be NULL: the gateway answered a subscription (status). */
	void (*sub_reply)(void *ctx, uint16_t peer_gw, uint8_t kind, uint64_t key, uint8_t status);
	void *ctx;
};

/*
 * Priority classes of send streams (DESIGN §4.5): a lane fills each packet
 * with the CONTROL class's data first (failover, metadata), round robin over
 * its streams, and BULK (backfill, the default) with the room left.
 * Retransmissions and control frames go before both.
 */
enum rg_class {
	RG_CLASS_BULK = 0,
	RG_CLASS_CONTROL,
	RG_CLASSES
};

/* Where a packet from rg_core_send() goes. */
struct rg_tx_meta {
	uint16_t peer_gw;
	uint16_t lane;
};

/* X-macro: per-core counters (core_impl.h bumps them; rg_core_stats() reads them). */
#define RG_CORE_COUNTERS(X)  \
	X(rx_pkts)           \
	X(rx_bytes)          \
	X(tx_pkts)           \
	X(tx_bytes)          \
	X(tx_ack_only)       \
	X(tx_probes)         \
	X(tx_hello)          \
	X(tx_pings)          \
	X(tx_data_frames)    \
	X(tx_data_bytes)     \
	X(rtx_frames)        \
	X(rtx_bytes)         \
	X(pkts_lost)         \
	X(pto_fired)         \
	X(ack_unsent)        \
	X(rx_data_frames)    \
	X(rx_dup_frags)      \
	X(rx_buffered)       \
	X(rx_beyond_window)  \
	X(rx_no_buffer)      \
	X(rx_mismatch)       \
	X(rx_unknown_stream) \
	X(rx_wrong_peer)     \
	X(delivered_frags)   \
	X(delivered_bytes)   \
	X(delivered_records) \
	X(deliver_blocked)   \
	X(deliver_capped)    \
	X(published)         \
	X(tx_released)       \
	X(peer_restarts)     \
	X(resume_req_tx)     \
	X(resume_reply_tx)   \
	X(resume_refused)    \
	X(rx_resynced)       \
	X(credit_tx)         \
	X(applied_tx)        \
	X(close_rx)          \
	X(failovers)         \
	X(streams_moved)     \
	X(failover_unserved) \
	X(rx_waiting)        \
	X(rx_accepted)       \
	X(rewind_tx)         \
	X(rewind_rx)         \
	X(sub_req_tx)        \
	X(sub_req_rx)        \
	X(sub_reply_tx)      \
	X(sub_reply_rx)      \
	X(sub_reply_dropped) \
	X(sub_refused)       \
	X(hello_rx)          \
	X(tx_skipped)        \
	X(applied_beyond)    \
	X(rewind_beyond)     \
	X(resume_beyond)     \
	X(hs_init_tx)        \
	X(hs_init_rx)        \
	X(hs_resp_tx)        \
	X(hs_done)           \
	X(hs_fail)

enum rg_core_counter {
#define RG_X(name) RG_CTR_##name,
	RG_CORE_COUNTERS(RG_X)
#undef RG_X
	RG_CTR_MAX
};

/* X-macro: why the core dropped a packet that the codec accepted. */
#define RG_CORE_DROPS(X)                                                              \
	X(UNKNOWN_PEER, "the source gateway is not a peer")                           \
	X(UNKNOWN_LANE, "a lane this core does not serve")                            \
	X(STALE_SRC, "from an older incarnation of the peer")                         \
	X(WRONG_DST, "addressed to another incarnation of this gateway")              \
	X(NO_HANDSHAKE, "frames that need the peer to know us, before it does")       \
	X(MODE_MISMATCH, "sealed while we are plaintext, or plaintext while we seal") \
	X(KEY_LIMITED, "a handshake INIT or RESP past the peer's rate (RG_HS_PER_S)") \
	X(NO_KEY, "no session of this lane opens it (epoch, incarnation)")            \
	X(BAD_HANDSHAKE, "an INIT or RESP that does not check, or not for this lane") \
	X(OLD_INIT, "an INIT replayed, or older than one answered")                   \
	X(BAD_TAG, "the AEAD tag does not check: forged, corrupt or another key")     \
	X(DUP_PACKET, "a packet number already received")                             \
	X(PN_AHEAD, "a packet number further ahead than the peer could have sent")    \
	X(REFUSED, "a frame could not be taken (window, buffer, stream); not acked")

enum rg_core_drop {
	RG_DROP_NONE = 0,
#define RG_X(name, text) RG_DROP_##name,
	RG_CORE_DROPS(RG_X)
#undef RG_X
	RG_DROP_MAX
};

struct rg_core_stats {
	uint64_t ctr[RG_CTR_MAX];
	uint64_t wire_drop[RG_WIRE_DROP_MAX];
	uint64_t drop[RG_DROP_MAX];
};

const char *rg_core_counter_name(enum rg_core_counter c);
const char *rg_core_drop_name(enum rg_core_drop d);

/* Fills cfg with the defaults documented in docs/protocol.md. */
void rg_core_config_default(struct rg_core_config *cfg);
/* 0 when cfg is usable; else -EINVAL and a message naming the field in err. */
int rg_core_config_check(const struct rg_core_config *cfg, char *err, size_t errlen);

/*
 * Allocates the core; rg_core_add_peer() and rg_core_add_lane() allocate the
 * rest at setup. Nothing allocates after that. Returns 0, -EINVAL or -ENOMEM.
 */
int rg_core_create(const struct rg_core_config *cfg, const struct rg_core_cb *cb,
		   struct rg_core **out);
/* Releases every handle the core holds (tx records, rx packets), then frees it. */
void rg_core_destroy(struct rg_core *c);

/* Declares a peer gateway and how many lanes it has with us. 0, -EEXIST, -ENOSPC, -EINVAL. */
int rg_core_add_peer(struct rg_core *c, uint16_t peer_gw, uint16_t lanes_total);
/*
 * A passive peer (a client, at a gateway): its lanes send nothing, not even
 * HELLO, until it has spoken (its incarnation is known). 0 or -ENOENT.
 */
int rg_core_peer_set_passive(struct rg_core *c, uint16_t peer_gw, int passive);
/*
 * The largest packet to peer_gw (its link's MTU less IPv4 and UDP headers:
 * a client's LAN may carry less than the WAN); pkt_bytes_max until set.
 * Before its lanes are added. 0, -ENOENT, -EBUSY (it has lanes), -EINVAL
 * (256 .. RG_PKT_BYTES_MAX, within inflight_bytes_max and the pacing burst).
 */
int rg_core_peer_set_pkt_bytes(struct rg_core *c, uint16_t peer_gw, uint32_t bytes);
/* The lane count peer_gw's HELLO announced (0 until one arrived; again 0 after it restarted). */
uint16_t rg_core_peer_lanes(const struct rg_core *c, uint16_t peer_gw);
/* peer_gw's incarnation as this core knows it (0: not yet). */
uint64_t rg_core_peer_inc(const struct rg_core *c, uint16_t peer_gw);
/*
 * A lane id to peer_gw that this core serves, picked by the stream's hash
 * among them (so a relay sends a stream on a lane of its own core). The
 * lane id, or -ENOENT when this core serves none.
 */
int rg_core_lane_pick(const struct rg_core *c, uint16_t peer_gw, uint64_t stream);
/* Serves lane lane_id with peer_gw on this core. 0, -ENOENT, -EEXIST, -ENOSPC, -EINVAL. */
int rg_core_add_lane(struct rg_core *c, uint16_t peer_gw, uint16_t lane_id, uint64_t now_ns);

/*
 * Starts sending stream to peer_gw on lane_id (rg_stream_lane() picks it).
 * The stream is SYNCING until the replay callback names its first seq.
 * 0, -EEXIST (already open), -ENOENT (no such peer or lane), -ENOSPC (streams_max).
 */
int rg_core_tx_open(struct rg_core *c, uint16_t peer_gw, uint64_t stream, uint16_t lane_id);

/* Sets a send stream's class (before it has data queued). 0, -ENOENT, -EINVAL, -EBUSY. */
int rg_core_tx_set_class(struct rg_core *c, uint64_t stream, enum rg_class cls);
/* Marks a send stream as fed by a relay (relay.h): counted as relay buffers. 0 or -ENOENT. */
int rg_core_tx_set_relay(struct rg_core *c, uint64_t stream);
/*
 * Records a send stream's queue takes now (its own limit; the shared pool is
 * rg_core_tx_pool_free): >= 0; -ENOTCONN while SYNCING; -ENOENT. Reads
 * only: callbacks may call it (a relay's deliver does).
 */
int rg_core_tx_room(const struct rg_core *c, uint64_t stream);
/* Record descriptors free in the pool every send stream shares. Reads only. */
uint32_t rg_core_tx_pool_free(const struct rg_core *c);
/* Records queued in relayed send streams (relay buffers), over the core. O(streams): slow path. */
uint64_t rg_core_relay_queued(const struct rg_core *c);

/*
 * A receive stream whose rx_open said -EINPROGRESS: its consumer stands at
 * applied; the RESUME reply goes out. 0; -ENOENT (no such stream); -EALREADY
 * (not waiting: nothing changed); -EINVAL (applied == UINT64_MAX).
 */
int rg_core_rx_accept(struct rg_core *c, uint64_t stream, uint64_t applied);
/*
 * A receive stream starts over at from (a relay's next hop asked for records
 * this hop no longer has, DESIGN §4.9): its window is emptied and restarts at
 * from, and a REWIND tells the sender to send from there (it replays from
 * from). from must be above the stream's applied watermark (the sender may
 * have trimmed up to it). 0; -ENOENT; -EINVAL (from <= applied); -EAGAIN
 * (the stream is waiting for rg_core_rx_accept).
 */
int rg_core_rx_rewind(struct rg_core *c, uint64_t stream, uint64_t from);

/*
 * Client side: asks peer_gw for a stream (kind RG_SUB_STREAM, key = the
 * stream id) or a namespace (RG_SUB_NAMESPACE, key = ns << 32). The request
 * goes at once and every hello_interval_ns until the gateway answers
 * (sub_reply callback); again after the gateway restarts, and to the new
 * gateway after rg_core_peer_failover. Asking again for the same key re-arms
 * it. 0; -ENOENT (no such peer); -EINVAL (bad kind or key); -ENOSPC
 * (subs_max).
 */
int rg_core_subscribe(struct rg_core *c, uint16_t peer_gw, uint8_t kind, uint64_t key,
		      uint64_t now_ns);

/*
 * Queues one record. The payload is not copied: it must stay valid and
 * unchanged until tx_release(handle). Returns 0; -EAGAIN when the stream's
 * queue or the core's pool is full (backpressure: try again later);
 * -ENOTCONN while the stream is SYNCING (drop the record: the replay
 * callback names the seq to publish from, and it is asked for again then);
 * -EINVAL when seq is not the next one or len > 1 MiB; -ENOENT for a stream
 * not opened.
 */
int rg_core_publish(struct rg_core *c, uint64_t stream, uint64_t seq, uint32_t version,
		    const void *payload, uint32_t len, void *handle);

/*
 * from_gw is DEAD (the control thread's failure detector says so): every
 * send stream bound to it moves to to_gw, on the lane with the same id (or
 * the one rg_stream_lane() picks among to_gw's when to_gw has fewer), and
 * resumes there (SYNCING: RESUME, then replay from the receiver's applied +
 * 1), so nothing is lost, duplicated or reordered as long as both gateways
 * read the same applied watermarks (the consumer's durable state). Receive
 * streams and subscriptions follow to to_gw too, so the substitute's RESUME
 * for a stream is taken (the window keeps where it was). What was in flight
 * to from_gw is forgotten; its packet numbering continues. A stream whose
 * lane to_gw has but this core does not serve stays bound to from_gw
 * (counted in failover_unserved). Returns the streams moved, or -ENOENT
 * (either peer unknown, or the same).
 */
int rg_core_peer_failover(struct rg_core *c, uint16_t from_gw, uint16_t to_gw, uint64_t now_ns);

/* The consumer made every seq <= applied of a receive stream durable. 0 or -ENOENT. */
int rg_core_applied(struct rg_core *c, uint64_t stream, uint64_t applied);

/*
 * Takes one received packet. The packet stays the caller's; fragments the
 * core keeps are held with rx_hold(handle). A sealed packet is decrypted in
 * place (the held fragments point into the plaintext). Returns RG_DROP_NONE when the
 * packet was accepted, else the reason it was dropped: a value below
 * RG_WIRE_DROP_MAX is an enum rg_wire_drop, others are enum rg_core_drop
 * plus RG_WIRE_DROP_MAX. Every drop is counted in the stats.
 */
int rg_core_recv(struct rg_core *c, uint8_t *pkt, size_t len, void *handle, uint64_t now_ns);

/* 1 when this core seals its packets (cfg.aead given), 0 in plaintext. */
int rg_core_sealing(const struct rg_core *c);

/*
 * Writes at most one packet of up to cap bytes into buf and says where it
 * goes. Returns its length, or 0 when nothing may leave now (see
 * rg_core_next_deadline()). Call until it returns 0.
 */
size_t rg_core_send(struct rg_core *c, uint8_t *buf, size_t cap, struct rg_tx_meta *meta,
		    uint64_t now_ns);

/* When rg_core_on_timer() or rg_core_send() must run next; RG_NS_NEVER if nothing waits. */
uint64_t rg_core_next_deadline(struct rg_core *c, uint64_t now_ns);
void rg_core_on_timer(struct rg_core *c, uint64_t now_ns);

/*
 * A receive stream's share of the consumer's delivery ring: records past
 * applied + records wait in the stream's reorder window, not in the ring
 * (so one busy stream cannot fill a FIFO every stream shares). The worker
 * sets it from the ring's free space; UINT32_MAX (the default) is no cap.
 * The consumer must advance applied while it holds records or fewer
 * delivered-but-unapplied records of a stream, or the stream stops there.
 */
void rg_core_set_rx_deliver_cap(struct rg_core *c, uint32_t records);
/*
 * At most room more fragments may be buffered in the reorder windows from
 * now (UINT32_MAX: up to rx_frags_max); one that would need more is refused
 * and not acked, so its sender sends it again. A buffered fragment holds its
 * packet: the worker sets room from the free buffers of its receive pools,
 * so that what the windows hold can never take the buffer the missing
 * fragment they wait for needs (a gateway that buffered every receive mbuf
 * out of order could not receive the retransmission, and stalled for good).
 */
void rg_core_set_rx_frags_room(struct rg_core *c, uint32_t room);
/* Receive streams opened so far. */
uint32_t rg_core_rx_streams(const struct rg_core *c);

/* Retries deliveries the consumer refused (-EAGAIN); returns fragments delivered. */
uint32_t rg_core_drain(struct rg_core *c);

/* Sends CLOSE on every lane with its next packets (clean shutdown). */
void rg_core_close(struct rg_core *c);

void rg_core_stats(const struct rg_core *c, struct rg_core_stats *out);

/* One lane's view, for telemetry and the simulator. */
struct rg_lane_info {
	uint16_t peer_gw;
	uint16_t lane;
	uint64_t peer_inc;
	uint64_t srtt_ns, rttvar_ns, min_rtt_ns, latest_rtt_ns;
	uint64_t bytes_in_flight;
	uint32_t pkts_in_flight;
	uint64_t pkts_acked, pkts_lost, pto_fired;
	uint32_t rtx_queued;
	uint64_t last_rx_ns; /* the last packet accepted from the peer on this lane (0: none) */
	uint64_t pacing_rate_bytes_per_s; /* what the pacer runs at now; 0 = unpaced */
	uint64_t cwnd_bytes;              /* the lane's byte window */
	uint64_t btl_bw_bytes_per_s;      /* adaptive: the bandwidth estimate; fixed: the rate */
	uint64_t delivered_bytes;         /* acked bytes since the lane (re)started */
	enum rg_cc_state cc_state;        /* rg_cc_state_name() names it */
};
int rg_core_lane_info(const struct rg_core *c, uint16_t idx, struct rg_lane_info *out);
uint16_t rg_core_lanes(const struct rg_core *c);

/* One stream's watermarks (for telemetry and tests); -ENOENT if unknown. */
struct rg_stream_info {
	uint16_t peer_gw;
	uint8_t tx;   /* 1 send stream, 0 receive stream */
	uint8_t open; /* send: OPEN (1) or SYNCING (0); receive: 0 while it waits (rx_accept) */
	uint64_t next_seq; /* send: the next seq to publish; receive: the next to deliver */
	uint64_t acked;    /* send: every seq <= acked is acked */
	uint64_t applied;  /* send: the peer's applied watermark; receive: the consumer's */
	uint64_t credit;   /* send: highest seq granted; receive: highest seq granted */
	uint32_t queued;   /* send: records queued; receive: fragments buffered */
};
int rg_core_stream_info(const struct rg_core *c, uint64_t stream, int tx,
			struct rg_stream_info *out);

/* Checks every invariant of every lane and stream: 0 or -1 (tests and the simulator). */
int rg_core_check(const struct rg_core *c);

#endif /* RG_PROTO_CORE_H */
