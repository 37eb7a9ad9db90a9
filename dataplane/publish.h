/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The producer's side of publish (DESIGN §4.5, backpressure): records go to
 * the worker that serves their stream through its ingress ring (an mbuf whose
 * data starts with struct rg_ingress_hdr). Each stream has a window: records
 * published and not yet acked by the receiving gateway. rg_publish() refuses
 * with -EAGAIN past the window or when the ring is full, so a producer can
 * never make the worker hold more of a stream than the core's send queue
 * takes (set window to proto.tx_stream_records_max), and one stream's flood
 * cannot block the ring for the others behind a record the core refused.
 * rg_publish_wait() retries until the record is taken or timeout_ns passed.
 *
 * Threads: one producer thread per struct rg_pub_stream writes `next`; the
 * worker's acked hook calls rg_pub_acked(), a release store of `acked` (K1);
 * rg_publish() reads it with an acquire load (pairs with K1).
 */
#ifndef RG_DATAPLANE_PUBLISH_H
#define RG_DATAPLANE_PUBLISH_H

#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

struct rg_pub_stream {
	uint64_t id;
	uint64_t next;  /* the seq the next record must carry */
	uint64_t acked; /* every seq <= acked is at the receiving gateway (K1) */
	uint32_t window;
};

/* A stream that starts at seq from (after a replay: the receiver's applied + 1). */
void rg_pub_stream_init(struct rg_pub_stream *s, uint64_t id, uint64_t from, uint32_t window);
/* From the worker's acked hook (any thread). */
void rg_pub_acked(struct rg_pub_stream *s, uint64_t acked);

/*
 * Hands m (stream s, seq s->next) to ring. 0; -EAGAIN when the stream's window
 * is full or the ring is; -EINVAL when m is not the stream's next record. On
 * anything but 0 the caller still owns m.
 */
int rg_publish(struct rte_ring *ring, struct rg_pub_stream *s, struct rte_mbuf *m);
/* rg_publish, retried until it is not -EAGAIN or timeout_ns passed: then -ETIMEDOUT. */
int rg_publish_wait(struct rte_ring *ring, struct rg_pub_stream *s, struct rte_mbuf *m,
		    uint64_t timeout_ns);

#endif /* RG_DATAPLANE_PUBLISH_H */
