/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The simulator's clock and network: a binary heap of events ordered by
 * (time, insertion number), so one seed always replays the same history,
 * and links that are the shipped WAN emulator (drivers/wanem.h): the
 * simulator has no fault model of its own (DESIGN §5, STYLE "one fault
 * model").
 *
 * Links. Each directed pair src → dst is one struct rg_wanem driven by the
 * simulated clock, its packets struct sim_pkt handles (link_copy: a deep
 * copy, link_drop: sim_pkt_put, link_bytes: the payload). Its seed
 * is drawn from the run's RNG at init, so one seed still replays one run.
 * sim_net_send() enqueues; the link's one pending SIM_EV_LINK fires at
 * rg_wanem_next_ns() and turns what is due into SIM_EV_ARRIVE events.
 *
 *   fault phase   the scenario's delay, jitter, loss, Gilbert–Elliott
 *                 bursts, duplication, reordering, corruption (corrupt_skip
 *                 0: any bit of the UDP payload), and the bottleneck: rate
 *                 bottleneck_mbit_s through a drop-tail buffer of
 *                 queue_bytes ahead of the wire (queue_bytes_max)
 *   healed phase  sim_net_heal(): set_config to delay, jitter and the
 *                 bottleneck only; partitions off
 *
 * Invariants:
 *   1. At most one SIM_EV_LINK per link is live: ev_gen names it, and an
 *      event of an older generation is stale and does nothing. A live event
 *      fires no later than rg_wanem_next_ns() (link_schedule keeps ev_ns <=
 *      it), so no packet waits past its release time.
 *   2. Every packet, copies included, is a sim_pkt counted in pkts_live
 *      until its last reference goes. A link holds the only one until it
 *      drops the packet (link_drop) or hands it to an ARRIVE event; fini
 *      drops what the links still hold, and world_fini finds pkts_live 0.
 *   3. Fault accounting is the emulators': res.faults[] of the classes in
 *      fault_ctrs is the sum over links of their counters at the end of the
 *      fault phase; partitions, crashes and consumer stalls are the
 *      schedule's (sim_world.c).
 *   4. No link drops for queue_pkts_max (LINK_PKTS_MAX): that would be a
 *      loss no fault class owns (sim_net_fini fails the run).
 */
#include <stdlib.h>
#include <string.h>

#include "sim_impl.h"
#include "wanem.h"

#define LINK_PKTS_MAX (1u << 16) /* held per link: far above any scenario's rate × delay */
#define LINK_BURST    64         /* packets one SIM_EV_LINK delivers; more due: another event */

_Static_assert(SIM_NODES_MAX <= 256, "a SIM_EV_LINK's arg carries src in 8 bits");

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

/* One directed link: the emulator and its pending SIM_EV_LINK. */
struct sim_link {
	struct rg_wanem em;
	uint64_t seed;
	uint64_t ev_ns;  /* when the live SIM_EV_LINK fires; RG_NS_NEVER: none */
	uint64_t ev_gen; /* its generation (invariant 1) */
};

/* The emulator's counter behind each fault class it injects (invariant 3). */
static const struct {
	enum sim_fault fault;
	enum rg_wanem_counter ctr;
} fault_ctrs[] = {
	{ SIM_FAULT_jitter, RG_WANEM_CTR_jittered },
	{ SIM_FAULT_loss, RG_WANEM_CTR_drop_loss },
	{ SIM_FAULT_burst_loss, RG_WANEM_CTR_drop_burst },
	{ SIM_FAULT_duplication, RG_WANEM_CTR_duplicated },
	{ SIM_FAULT_reordering, RG_WANEM_CTR_reordered },
	{ SIM_FAULT_corruption, RG_WANEM_CTR_corrupted },
};

static struct sim_link *
link_of(struct sim *s, int src, int dst)
{
	RG_ASSERT(src != dst && src < s->nnodes && dst < s->nnodes);
	return &s->links[src * s->nnodes + dst];
}

static void *
link_copy(void *ctx, void *pkt)
{
	struct sim *s = ctx;
	struct sim_pkt *p = pkt;

	s->pkts_live++;
	return sim_pkt_new(p->data, p->len);
}

static void
link_drop(void *ctx, void *pkt)
{
	sim_pkt_put(ctx, pkt);
}

static uint8_t *
link_bytes(void *ctx, void *pkt, uint32_t *len)
{
	struct sim_pkt *p = pkt;

	(void)ctx;
	*len = (uint32_t)p->len;
	return p->data;
}

/* Whether a → b is a client's hop. */
static int
is_lan(const struct sim *s, int a, int b)
{
	return s->gws[a].kind >= SIM_NODE_PRODUCER || s->gws[b].kind >= SIM_NODE_PRODUCER;
}

static uint64_t
ms_ns(double ms)
{
	return (uint64_t)(ms * 1e6);
}

/*
 * A link's emulator settings: the fault phase's (faults = 1) or the healed
 * phase's; lan: a client's hop (its own delay, the same faults).
 */
static void
link_config(const struct sim_config *c, uint64_t seed, int faults, int lan,
	    struct rg_wanem_config *w)
{
	rg_wanem_config_default(w);
	w->seed = seed;
	w->queue_pkts_max = LINK_PKTS_MAX;
	w->delay_ns = ms_ns(lan ? c->lan_delay_ms : c->delay_ms);
	w->jitter_ns = ms_ns(c->jitter_ms);
	if (c->bottleneck_mbit_s > 0) { /* UDP payload bytes, as the pacer counts them */
		w->rate_bytes_per_s = (uint64_t)(c->bottleneck_mbit_s * 125000.0);
		w->queue_bytes_max = c->queue_bytes;
	}
	if (!faults)
		return;
	w->loss = c->loss;
	if (c->burst_enter > 0) {
		w->burst_enter = c->burst_enter;
		w->burst_exit = c->burst_exit;
		w->burst_loss = c->burst_loss;
	}
	w->dup = c->dup;
	w->reorder = c->reorder;
	w->reorder_ns = ms_ns(c->reorder_ms);
	w->corrupt = c->corrupt;
	w->corrupt_skip = 0;
}

void
sim_net_init(struct sim *s)
{
	const struct rg_wanem_ops ops = {
		.copy = link_copy, .drop = link_drop, .bytes = link_bytes, .ctx = s
	};
	int n = s->nnodes;
	char err[160];

	s->links = aligned_alloc(RG_CACHE_LINE, sizeof(s->links[0]) * (size_t)(n * n));
	RG_ASSERT(s->links != NULL);
	memset(s->links, 0, sizeof(s->links[0]) * (size_t)(n * n));
	for (int a = 0; a < n; a++)
		for (int b = 0; b < n; b++) {
			struct sim_link *l = &s->links[a * n + b];
			struct rg_wanem_config w;

			if (a == b)
				continue;
			l->seed = sim_rand(s);
			l->ev_ns = RG_NS_NEVER;
			link_config(&s->cfg, l->seed, 1, is_lan(s, a, b), &w);
			if (rg_wanem_config_check(&w, err, sizeof(err)) != 0) {
				fprintf(stderr,
					"rg-sim: the links cannot emulate this config: %s\n", err);
				abort();
			}
			RG_ASSERT(rg_wanem_init(&l->em, &w, &ops, rg_mem_default()) == 0);
		}
}

/* Keeps one live SIM_EV_LINK no later than the link's next release (invariant 1). */
static void
link_schedule(struct sim *s, int src, int dst)
{
	struct sim_link *l = link_of(s, src, dst);
	uint64_t t = rg_wanem_next_ns(&l->em);

	if (t == RG_NS_NEVER || (l->ev_ns != RG_NS_NEVER && l->ev_ns <= t))
		return;
	l->ev_ns = RG_MAX(t, s->now);
	sim_heap_push(s, l->ev_ns, SIM_EV_LINK, dst, NULL, ++l->ev_gen << 8 | (uint64_t)src);
}

void
sim_net_send(struct sim *s, int src, int dst, const uint8_t *data, size_t len)
{
	struct sim_link *l = link_of(s, src, dst);
	const struct sim_config *c = &s->cfg;
	void *p = sim_pkt_new(data, len);
	int measuring = s->faults_on && s->now >= (uint64_t)(c->measure_from_s * 1e9);

	s->pkts_live++;
	s->res.packets++;
	if (rg_wanem_enqueue(&l->em, &p, 1, s->now) == 1 && measuring) {
		/* The bottleneck's backlog this packet left: the figure goal_queue_bdp checks. */
		s->res.queue_max_measured =
		    RG_MAX(s->res.queue_max_measured, rg_wanem_queue_bytes(&l->em, s->now));
		if (src == 0)
			s->res.link_bytes += len;
	}
	link_schedule(s, src, dst);
}

void
sim_net_on_link(struct sim *s, const struct sim_ev *ev)
{
	int src = (int)(ev->arg & 0xff), dst = ev->gw;
	struct sim_link *l = link_of(s, src, dst);
	void *out[LINK_BURST];
	uint32_t n;

	if (ev->arg >> 8 != l->ev_gen)
		return; /* stale: an earlier event took its place */
	l->ev_ns = RG_NS_NEVER;
	n = rg_wanem_dequeue(&l->em, out, LINK_BURST, s->now);
	RG_DEBUG_ASSERT(n == LINK_BURST || rg_wanem_next_ns(&l->em) > s->now); /* invariant 1 */
	for (uint32_t i = 0; i < n; i++) /* bounded by LINK_BURST */
		sim_heap_push(s, s->now, SIM_EV_ARRIVE, dst, out[i], 0);
	link_schedule(s, src, dst);
}

int
sim_net_set_partition(struct sim *s, int a, int b, int on)
{
	int was = rg_wanem_partitioned(&link_of(s, a, b)->em);

	rg_wanem_set_partition(&link_of(s, a, b)->em, on);
	rg_wanem_set_partition(&link_of(s, b, a)->em, on);
	return was;
}

void
sim_net_heal(struct sim *s)
{
	int n = s->nnodes;

	for (int a = 0; a < n; a++)
		for (int b = 0; b < n; b++) {
			struct sim_link *l;
			struct rg_wanem_config w;
			struct rg_wanem_stats st;

			if (a == b)
				continue;
			l = link_of(s, a, b);
			rg_wanem_stats(&l->em, &st);
			for (size_t i = 0; i < RG_ARRAY_SIZE(fault_ctrs); i++)
				s->res.faults[fault_ctrs[i].fault] += st.ctr[fault_ctrs[i].ctr];
			link_config(&s->cfg, l->seed, 0, is_lan(s, a, b), &w);
			rg_wanem_set_config(&l->em, &w);
			rg_wanem_set_partition(&l->em, 0);
		}
}

int
sim_net_fini(struct sim *s)
{
	int n = s->nnodes, rc = 0;

	for (int a = 0; a < n; a++)
		for (int b = 0; b < n; b++) {
			struct sim_link *l;
			struct rg_wanem_stats st;

			if (a == b)
				continue;
			l = link_of(s, a, b);
			rg_wanem_stats(&l->em, &st);
			s->res.queue_drops += st.ctr[RG_WANEM_CTR_drop_queue_bytes];
			s->res.queue_max_bytes =
			    RG_MAX(s->res.queue_max_bytes, rg_wanem_queue_peak_bytes(&l->em));
			if (rg_wanem_check(&l->em) != 0 || st.ctr[RG_WANEM_CTR_drop_queue_full] > 0)
				rc = -1; /* invariant 4, or the emulator's own */
			rg_wanem_fini(&l->em, rg_mem_default());
		}
	free(s->links);
	s->links = NULL;
	return rc;
}
