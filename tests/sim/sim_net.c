/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The simulator's clock and network: a binary heap of events ordered by
 * (time, insertion number), so one seed always replays the same history,
 * and links that apply the configured faults to each packet they carry.
 */
#include <stdlib.h>
#include <string.h>

#include "sim_impl.h"

void
sim_heap_push(struct sim *s, uint64_t t, enum sim_ev_type type, int gw, struct sim_pkt *pkt,
	      uint64_t arg)
{
	struct sim_ev *h;
	size_t i;

	if (s->heap_n == s->heap_cap) {
		s->heap_cap = s->heap_cap ? 2 * s->heap_cap : 4096;
		s->heap = realloc(s->heap, s->heap_cap * sizeof(s->heap[0]));
		RG_ASSERT(s->heap != NULL);
	}
	h = s->heap;
	i = s->heap_n++;
	h[i] = (struct sim_ev){
		.t = t, .n = s->ev_seq++, .type = type, .gw = gw, .pkt = pkt, .arg = arg
	};
	while (i > 0) {
		size_t p = (i - 1) / 2;
		struct sim_ev tmp;

		if (h[p].t < h[i].t || (h[p].t == h[i].t && h[p].n < h[i].n))
			break;
		tmp = h[p];
		h[p] = h[i];
		h[i] = tmp;
		i = p;
	}
}

static int
ev_less(const struct sim_ev *a, const struct sim_ev *b)
{
	return a->t < b->t || (a->t == b->t && a->n < b->n);
}

int
sim_heap_pop(struct sim *s, struct sim_ev *out)
{
	struct sim_ev *h = s->heap;
	size_t i = 0, n;

	if (s->heap_n == 0)
		return 0;
	*out = h[0];
	n = --s->heap_n;
	h[0] = h[n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		struct sim_ev tmp;

		if (l < n && ev_less(&h[l], &h[m]))
			m = l;
		if (r < n && ev_less(&h[r], &h[m]))
			m = r;
		if (m == i)
			break;
		tmp = h[m];
		h[m] = h[i];
		h[i] = tmp;
		i = m;
	}
	return 1;
}

struct sim_pkt *
sim_pkt_new(const uint8_t *data, size_t len)
{
	struct sim_pkt *p = malloc(sizeof(*p) + len);

	RG_ASSERT(p != NULL);
	p->refs = 1;
	p->len = len;
	memcpy(p->data, data, len);
	return p;
}

void
sim_pkt_put(struct sim *s, struct sim_pkt *p)
{
	RG_ASSERT(p->refs > 0);
	if (--p->refs == 0) {
		free(p);
		s->pkts_live--;
	}
}

uint64_t
sim_rand(struct sim *s)
{
	return rg_splitmix64(&s->rng);
}

double
sim_uniform(struct sim *s)
{
	return (double)(sim_rand(s) >> 11) * (1.0 / 9007199254740992.0);
}

int
sim_chance(struct sim *s, double p)
{
	return p > 0 && sim_uniform(s) < p;
}

/* Gilbert–Elliott: the link's state moves per packet; losses happen in the bad state. */
static int
burst_lost(struct sim *s, struct sim_link *l)
{
	const struct sim_config *c = &s->cfg;

	if (c->burst_enter <= 0)
		return 0;
	if (l->bad)
		l->bad = !sim_chance(s, c->burst_exit);
	else
		l->bad = sim_chance(s, c->burst_enter);
	return l->bad && sim_chance(s, c->burst_loss);
}

static void
corrupt(struct sim *s, struct sim_pkt *p)
{
	int flips = 1 + (int)(sim_rand(s) % 3);

	for (int i = 0; i < flips; i++) {
		size_t byte = sim_rand(s) % p->len;

		p->data[byte] ^= (uint8_t)(1u << (sim_rand(s) % 8));
	}
}

/*
 * A link is a FIFO queue: jitter varies each packet's delay but a packet
 * never overtakes an earlier one on the same link (arrival >= the previous
 * arrival), as on a real path. Only the reordering and duplication faults
 * (fifo = 0) let a packet pass others.
 */
static void
deliver_later(struct sim *s, int src, int dst, struct sim_pkt *p, uint64_t base_ns,
	      uint64_t extra_ns, int fifo)
{
	const struct sim_config *c = &s->cfg;
	struct sim_link *l = &s->links[src][dst];
	uint64_t delay = (uint64_t)(c->delay_ms * 1e6) + extra_ns, at;

	if (s->faults_on && c->jitter_ms > 0) {
		uint64_t j = sim_rand(s) % (uint64_t)(c->jitter_ms * 1e6 + 1);

		delay += j;
		s->res.faults[SIM_FAULT_jitter] += j > 0;
	} else if (c->jitter_ms > 0) {
		delay += sim_rand(s) % (uint64_t)(c->jitter_ms * 1e6 + 1);
	}
	at = base_ns + delay;
	if (fifo) {
		at = RG_MAX(at, l->last_arrival_ns);
		l->last_arrival_ns = at;
	}
	sim_heap_push(s, at, SIM_EV_ARRIVE, dst, p, 0);
}

/*
 * The bottleneck: a FIFO drained at bottleneck_mbit_s. The bytes still
 * queued at now are what the link has not sent yet, (busy_until - now) ×
 * rate; a packet that would take the queue past queue_bytes is dropped.
 * Returns when the packet has left the bottleneck, or RG_NS_NEVER if dropped.
 */
static uint64_t
bottleneck(struct sim *s, int src, struct sim_link *l, size_t len)
{
	const struct sim_config *c = &s->cfg;
	double rate = c->bottleneck_mbit_s * 125000.0; /* bytes/s */
	uint64_t start = RG_MAX(l->busy_until_ns, s->now), queued;
	int measuring = s->faults_on && s->now >= (uint64_t)(c->measure_from_s * 1e9);

	if (rate <= 0)
		return s->now;
	queued = (uint64_t)((double)(start - s->now) * rate / 1e9);
	if (queued + len > c->queue_bytes) {
		s->res.queue_drops++;
		return RG_NS_NEVER;
	}
	l->busy_until_ns = start + (uint64_t)((double)len * 1e9 / rate);
	s->res.queue_max_bytes = RG_MAX(s->res.queue_max_bytes, queued + len);
	if (measuring) {
		s->res.queue_max_measured = RG_MAX(s->res.queue_max_measured, queued + len);
		if (src == 0)
			s->res.link_bytes += len;
	}
	return l->busy_until_ns;
}

void
sim_net_send(struct sim *s, int src, int dst, const uint8_t *data, size_t len)
{
	const struct sim_config *c = &s->cfg;
	struct sim_link *l = &s->links[src][dst];
	struct sim_pkt *p;
	uint64_t extra = 0, left;

	s->res.packets++;
	if (l->partitioned) {
		l->partition_drops++;
		return;
	}
	left = bottleneck(s, src, l, len);
	if (left == RG_NS_NEVER)
		return;
	if (s->faults_on) {
		if (sim_chance(s, c->loss)) {
			s->res.faults[SIM_FAULT_loss]++;
			return;
		}
		if (burst_lost(s, l)) {
			s->res.faults[SIM_FAULT_burst_loss]++;
			return;
		}
	}
	p = sim_pkt_new(data, len);
	s->pkts_live++;
	if (s->faults_on) {
		if (sim_chance(s, c->corrupt)) {
			corrupt(s, p);
			s->res.faults[SIM_FAULT_corruption]++;
		}
		if (sim_chance(s, c->reorder)) {
			extra = sim_rand(s) % (uint64_t)(c->reorder_ms * 1e6 + 1);
			s->res.faults[SIM_FAULT_reordering]++;
		}
		if (sim_chance(s, c->dup)) {
			struct sim_pkt *d = sim_pkt_new(p->data, p->len);

			s->pkts_live++;
			s->res.faults[SIM_FAULT_duplication]++;
			deliver_later(s, src, dst, d, left,
				      sim_rand(s) % (uint64_t)(c->delay_ms * 1e6 + 1), 0);
		}
	}
	deliver_later(s, src, dst, p, left, extra, extra == 0);
}
