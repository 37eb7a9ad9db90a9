/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loss recovery for one lane (RFC 9002, adapted): the packets in flight and
 * the frames each carried, acknowledgement processing, loss detection by
 * packet threshold (3) and time threshold (9/8 RTT), the probe timeout with
 * capped exponential backoff, and the RTT estimate. Pure; time passed in.
 *
 * Only ack-eliciting packets are tracked (an ACK-only packet carries nothing
 * to retransmit), in a FIFO ring ordered by packet number, so a lane that
 * only acknowledges never fills it. Each tracked packet owns a contiguous run
 * of frame references in a second FIFO ring.
 *
 * Invariants (rg_recovery_check):
 *   1. ring entries [head, tail) have strictly increasing packet numbers, all
 *      below pn_next.
 *   2. bytes_in_flight and pkts_in_flight are the sums over IN_FLIGHT entries.
 *   3. every frame reference of an IN_FLIGHT entry lies in [fref_head, fref_tail).
 *   4. a packet is resolved once: IN_FLIGHT → ACKED or IN_FLIGHT → LOST; a late
 *      ACK of a LOST packet changes nothing (its frames were already handed
 *      back), so each frame has at most one live copy in flight.
 *   5. 0 < window_bytes <= bytes_max; every IN_FLIGHT entry's delivered_bytes
 *      is <= the lane's delivered_bytes (a packet records the count when it
 *      left, and the count only grows).
 *
 * Delivery-rate sampling (draft-cheng-iccrg-delivery-rate-estimation): the
 * lane counts the bytes delivered (acked), and each packet records, when it
 * leaves, that count, when it last grew, and when the packet that opened the
 * current sampling interval was sent. When an ACK newly acks packets, the
 * newest of them (the largest recorded count) closes an interval:
 *
 *   delivered = lane delivered now − its recorded count
 *   interval  = max(its send time − its first_sent, now − its delivered_ns)
 *
 * Taking the larger of the send and ack spans keeps a burst of acks (ack
 * compression) from overstating the rate; a sample shorter than the min RTT
 * is still marked invalid. While the sender has nothing to send
 * (rg_recovery_on_app_limited) the samples are marked app-limited until the
 * bytes in flight at that moment are delivered.
 */
#ifndef RG_PROTO_RECOVERY_H
#define RG_PROTO_RECOVERY_H

#include <stdint.h>

#include "cc.h"
#include "rtt.h"
#include "wire.h"

#define RG_PKT_THRESHOLD 3

/* What a sent packet carried, so that its loss or ack can be acted on. */
struct rg_fref {
	uint64_t seq;    /* DATA: the record's seq */
	uint32_t stream; /* index of the stream in its core */
	uint32_t rec;    /* DATA: index of the record descriptor */
	uint32_t off;    /* DATA: fragment offset */
	uint32_t len;    /* DATA: fragment length */
	uint8_t type;    /* enum rg_frame_type */
	uint8_t flags;   /* RESUME: RG_RESUME_REQUEST, _REPLY or _REWIND */
	uint16_t reserved;
	uint32_t gen; /* DATA: the stream's generation when it was sent (core_impl.h inv. 5) */
};
static_assert(sizeof(struct rg_fref) == 32, "a frame reference is 32 bytes");

enum rg_sent_state {
	RG_SENT_IN_FLIGHT = 1,
	RG_SENT_ACKED,
	RG_SENT_LOST,
};

struct rg_sent {
	uint64_t pn;
	uint64_t time_ns;
	uint64_t fref_first;      /* absolute index in the fref ring */
	uint64_t delivered_bytes; /* the lane's delivered count when this packet left */
	uint64_t delivered_ns;    /* when that count last grew, as of then */
	uint64_t first_sent_ns;   /* send time of the packet that opened the interval */
	uint32_t bytes;
	uint16_t nframes;
	uint8_t state;
	uint8_t app_limited; /* sent while the lane had nothing more to send */
};

struct rg_recovery_config {
	uint32_t pkts_max;  /* in-flight packets (ring size, power of two) */
	uint32_t frefs_max; /* frame references (ring size, power of two) */
	uint64_t bytes_max; /* in-flight byte window */
	uint64_t initial_rtt_ns;
	uint64_t granularity_ns;   /* timer granularity, floor of loss delay and PTO */
	uint64_t ack_delay_ns_max; /* the peer's promised max ack delay */
	uint64_t pto_ns_max;       /* cap of the backed-off probe timeout */
};

struct rg_recovery {
	struct rg_recovery_config cfg;
	struct rg_sent *ring;
	struct rg_fref *frefs;
	uint64_t head, tail;           /* ring: absolute indices, tail - head <= pkts_max */
	uint64_t fref_head, fref_tail; /* fref ring: absolute indices */
	uint64_t pn_next;
	uint64_t largest_acked; /* valid when largest_acked_valid */
	int largest_acked_valid;
	uint64_t bytes_in_flight;
	uint32_t pkts_in_flight;
	uint32_t pto_count;
	uint64_t last_eliciting_ns; /* when the last tracked packet was sent */
	uint64_t
	    window_bytes; /* the congestion window, <= cfg.bytes_max (rg_recovery_set_window) */
	/* delivery-rate sampling, see the top of this file */
	uint64_t delivered_bytes;   /* acked bytes of tracked packets since the last reset */
	uint64_t delivered_ns;      /* when delivered_bytes last grew */
	uint64_t first_sent_ns;     /* send time of the newest packet that closed an interval */
	uint64_t app_limited_bytes; /* 0, or samples are app-limited until delivered passes it */
	struct rg_rate_sample rs;   /* what the last rg_recovery_on_ack saw */
	uint64_t loss_time_ns;      /* earliest time-threshold loss, or RG_NS_NEVER */
	struct rg_rtt rtt;
	/* Totals, for stats. */
	uint64_t acked_pkts, lost_pkts, pto_fired, spurious_acks;
	uint64_t lost_bytes;
};

/* Called once per frame of a packet when it is acked (acked = 1) or declared lost (0). */
typedef void (*rg_fref_fn)(void *ctx, const struct rg_fref *f, int acked);

/* Sizes the rings from mem; returns 0 or -ENOMEM / -EINVAL. */
int rg_recovery_init(struct rg_recovery *r, const struct rg_recovery_config *cfg,
		     const struct rg_mem *mem, uint64_t pn_start);
void rg_recovery_fini(struct rg_recovery *r, const struct rg_mem *mem);

/* Forgets everything in flight (the peer restarted) and restarts numbering at pn_start. */
void rg_recovery_reset(struct rg_recovery *r, uint64_t pn_start);

/*
 * Whether one more ack-eliciting packet of bytes with up to nframes frames
 * may leave: the ring, the frame references and the window (window_bytes,
 * itself at most bytes_max) all have room.
 */
int rg_recovery_can_send(const struct rg_recovery *r, uint32_t bytes, uint32_t nframes);

/* Sets the congestion window, clamped to [1, bytes_max]. Packets in flight stay in flight. */
void rg_recovery_set_window(struct rg_recovery *r, uint64_t window_bytes);

/*
 * The sender could send (window and pacer allow) but has nothing to: rate
 * samples are app-limited until what is in flight now is delivered.
 */
static inline void
rg_recovery_on_app_limited(struct rg_recovery *r)
{
	r->app_limited_bytes = RG_MAX(r->delivered_bytes + r->bytes_in_flight, 1);
}

/* Room for frame references in the packet being built, given the ones taken so far. */
static inline uint32_t
rg_recovery_frefs_free(const struct rg_recovery *r)
{
	return r->cfg.frefs_max - (uint32_t)(r->fref_tail - r->fref_head);
}

/* Reserves the next frame reference of the packet being built. Check frefs_free first. */
static inline struct rg_fref *
rg_recovery_fref_add(struct rg_recovery *r)
{
	return &r->frefs[r->fref_tail++ & (r->cfg.frefs_max - 1)];
}

/* Takes the next packet number; for an ACK-only packet that is all it does. */
static inline uint64_t
rg_recovery_next_pn(struct rg_recovery *r)
{
	return r->pn_next++;
}

/*
 * Tracks an ack-eliciting packet sent at now_ns, which owns the frame
 * references added since the previous call (nframes of them).
 */
void rg_recovery_on_sent(struct rg_recovery *r, uint64_t pn, uint64_t now_ns, uint32_t bytes,
			 uint32_t nframes);

/*
 * Processes an ACK frame received at now_ns: acked packets' frames go to
 * fn(.., 1), packets found lost go to fn(.., 0). Returns the number of newly
 * acked packets, and leaves the ACK's delivery-rate sample in r->rs.
 * Bounded by the ring size.
 */
uint32_t rg_recovery_on_ack(struct rg_recovery *r, const struct rg_frame *ack, uint64_t now_ns,
			    rg_fref_fn fn, void *ctx);

/* When on_timeout must run next: the loss timer or the probe timeout. RG_NS_NEVER if none. */
uint64_t rg_recovery_deadline(const struct rg_recovery *r);

/*
 * Runs the timers at now_ns. Returns 1 when the probe timeout fired (the
 * caller sends an ack-eliciting probe at once), else 0.
 */
int rg_recovery_on_timeout(struct rg_recovery *r, uint64_t now_ns, rg_fref_fn fn, void *ctx);

/* The probe timeout with the current backoff, capped at pto_ns_max. */
uint64_t rg_recovery_pto_ns(const struct rg_recovery *r);

int rg_recovery_check(const struct rg_recovery *r);

#endif /* RG_PROTO_RECOVERY_H */
