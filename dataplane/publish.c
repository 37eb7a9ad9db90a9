/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <time.h>

#include <rte_pause.h>

#include "publish.h"
#include "worker.h"

void
rg_pub_stream_init(struct rg_pub_stream *s, uint64_t id, uint64_t from, uint32_t window)
{
	s->id = id;
	s->next = from;
	__atomic_store_n(&s->acked, from - 1, __ATOMIC_RELEASE);
	s->window = window;
}

void
rg_pub_acked(struct rg_pub_stream *s, uint64_t acked)
{
	/* Acks only move forward; a late, smaller one changes nothing. */
	if (acked > __atomic_load_n(&s->acked, __ATOMIC_RELAXED))
		__atomic_store_n(&s->acked, acked, __ATOMIC_RELEASE); /* K1 */
}

int
rg_publish(struct rte_ring *ring, struct rg_pub_stream *s, struct rte_mbuf *m)
{
	const struct rg_ingress_hdr *h = rte_pktmbuf_mtod(m, const struct rg_ingress_hdr *);

	if (rte_pktmbuf_data_len(m) < sizeof(*h) || h->stream != s->id || h->seq != s->next)
		return -EINVAL;
	if (s->next > __atomic_load_n(&s->acked, __ATOMIC_ACQUIRE) + s->window) /* pairs K1 */
		return -EAGAIN;
	if (rte_ring_enqueue(ring, m) != 0)
		return -EAGAIN;
	s->next++;
	return 0;
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int
rg_publish_wait(struct rte_ring *ring, struct rg_pub_stream *s, struct rte_mbuf *m,
		uint64_t timeout_ns)
{
	const struct timespec nap = { 0, 10000 }; /* 10 µs: a worker takes a burst in that time */
	uint64_t deadline = mono_ns() + timeout_ns;
	int rc;

	/* Bounded by timeout_ns: spin a little, then nap between tries. */
	for (unsigned tries = 0;; tries++) {
		rc = rg_publish(ring, s, m);
		if (rc != -EAGAIN)
			return rc;
		if (mono_ns() >= deadline)
			return -ETIMEDOUT;
		if (tries < 64)
			rte_pause();
		else
			nanosleep(&nap, NULL);
	}
}
