/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "recovery.h"

#define PTO_BACKOFF_MAX 16 /* 2^16 is far past any pto_ns_max; keeps the shift defined */

static struct rg_sent *
at(const struct rg_recovery *r, uint64_t i)
{
	return &r->ring[i & (r->cfg.pkts_max - 1)];
}

int
rg_recovery_init(struct rg_recovery *r, const struct rg_recovery_config *cfg,
		 const struct rg_mem *mem, uint64_t pn_start)
{
	memset(r, 0, sizeof(*r));
	if (!rg_is_pow2(cfg->pkts_max) || !rg_is_pow2(cfg->frefs_max) || cfg->bytes_max == 0 ||
	    cfg->initial_rtt_ns == 0 || cfg->pto_ns_max == 0)
		return -EINVAL;
	r->cfg = *cfg;
	r->ring = rg_mem_alloc(mem, sizeof(r->ring[0]) * cfg->pkts_max);
	r->frefs = rg_mem_alloc(mem, sizeof(r->frefs[0]) * cfg->frefs_max);
	if (r->ring == NULL || r->frefs == NULL) {
		rg_recovery_fini(r, mem);
		return -ENOMEM;
	}
	rg_recovery_reset(r, pn_start);
	return 0;
}

void
rg_recovery_fini(struct rg_recovery *r, const struct rg_mem *mem)
{
	rg_mem_free(mem, r->ring);
	rg_mem_free(mem, r->frefs);
	r->ring = NULL;
	r->frefs = NULL;
}

void
rg_recovery_reset(struct rg_recovery *r, uint64_t pn_start)
{
	r->head = r->tail = 0;
	r->fref_head = r->fref_tail = 0;
	r->pn_next = pn_start;
	r->largest_acked = 0;
	r->largest_acked_valid = 0;
	r->bytes_in_flight = 0;
	r->pkts_in_flight = 0;
	r->pto_count = 0;
	r->last_eliciting_ns = 0;
	r->loss_time_ns = RG_NS_NEVER;
	r->window_bytes = r->cfg.bytes_max;
	r->delivered_bytes = 0;
	r->delivered_ns = 0;
	r->first_sent_ns = 0;
	r->app_limited_bytes = 0;
	memset(&r->rs, 0, sizeof(r->rs));
	rg_rtt_init(&r->rtt, r->cfg.initial_rtt_ns);
}

int
rg_recovery_can_send(const struct rg_recovery *r, uint32_t bytes, uint32_t nframes)
{
	return r->tail - r->head < r->cfg.pkts_max &&
	       r->bytes_in_flight + bytes <= r->window_bytes &&
	       rg_recovery_frefs_free(r) >= nframes;
}

void
rg_recovery_set_window(struct rg_recovery *r, uint64_t window_bytes)
{
	r->window_bytes = RG_MIN(RG_MAX(window_bytes, 1), r->cfg.bytes_max);
}

void
rg_recovery_on_sent(struct rg_recovery *r, uint64_t pn, uint64_t now_ns, uint32_t bytes,
		    uint32_t nframes)
{
	struct rg_sent *s;

	RG_ASSERT(r->tail - r->head < r->cfg.pkts_max);
	RG_DEBUG_ASSERT(r->tail == r->head || at(r, r->tail - 1)->pn < pn);
	if (r->pkts_in_flight == 0) /* a fresh start: the interval opens now */
		r->first_sent_ns = r->delivered_ns = now_ns;
	s = at(r, r->tail++);
	s->pn = pn;
	s->delivered_bytes = r->delivered_bytes;
	s->delivered_ns = r->delivered_ns;
	s->first_sent_ns = r->first_sent_ns;
	s->app_limited = r->app_limited_bytes != 0;
	s->time_ns = now_ns;
	s->fref_first = r->fref_tail - nframes;
	s->bytes = bytes;
	s->nframes = (uint16_t)nframes;
	s->state = RG_SENT_IN_FLIGHT;
	r->bytes_in_flight += bytes;
	r->pkts_in_flight++;
	r->last_eliciting_ns = now_ns;
}

static void
resolve(struct rg_recovery *r, struct rg_sent *s, int acked, rg_fref_fn fn, void *ctx)
{
	for (uint32_t i = 0; i < s->nframes; i++)
		fn(ctx, &r->frefs[(s->fref_first + i) & (r->cfg.frefs_max - 1)], acked);
	s->state = acked ? RG_SENT_ACKED : RG_SENT_LOST;
	r->bytes_in_flight -= s->bytes;
	r->pkts_in_flight--;
	if (acked) {
		r->acked_pkts++;
	} else {
		r->lost_pkts++;
		r->lost_bytes += s->bytes;
	}
}

/* An acked packet feeds the lane's delivered count and, when it is the newest yet, the sample. */
static void
rate_on_acked(struct rg_recovery *r, const struct rg_sent *s, uint64_t now_ns)
{
	struct rg_rate_sample *rs = &r->rs;

	r->delivered_bytes += s->bytes;
	r->delivered_ns = now_ns;
	rs->newly_acked_bytes += s->bytes;
	if (rs->valid && s->delivered_bytes < rs->prior_delivered_bytes)
		return;
	rs->valid = 1; /* provisionally: rate_finish decides */
	rs->prior_delivered_bytes = s->delivered_bytes;
	rs->app_limited = s->app_limited;
	/* send span = s->time_ns - s->first_sent_ns, ack span = now - s->delivered_ns */
	rs->interval_ns = RG_MAX(s->time_ns - s->first_sent_ns, now_ns - s->delivered_ns);
	r->first_sent_ns = s->time_ns;
}

static void
rate_finish(struct rg_recovery *r)
{
	struct rg_rate_sample *rs = &r->rs;

	rs->lane_delivered_bytes = r->delivered_bytes;
	if (r->app_limited_bytes != 0 && r->delivered_bytes > r->app_limited_bytes)
		r->app_limited_bytes = 0;
	if (!rs->valid)
		return;
	rs->delivered_bytes = r->delivered_bytes - rs->prior_delivered_bytes;
	/* Shorter than the min RTT: acks came compressed; the rate would be overstated. */
	if (rs->interval_ns == 0 || r->rtt.min_ns == RG_NS_NEVER || rs->interval_ns < r->rtt.min_ns)
		rs->valid = 0;
}

/* Retires resolved packets at the head, freeing their frame references (FIFO order). */
static void
retire(struct rg_recovery *r)
{
	while (r->head < r->tail && at(r, r->head)->state != RG_SENT_IN_FLIGHT) {
		struct rg_sent *s = at(r, r->head++);

		r->fref_head = s->fref_first + s->nframes;
	}
	if (r->head == r->tail)
		r->fref_head = r->fref_tail;
}

/* First ring index whose pn >= pn (binary search; the ring is sorted by pn). */
static uint64_t
lower_bound(const struct rg_recovery *r, uint64_t pn)
{
	uint64_t lo = r->head, hi = r->tail;

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (at(r, mid)->pn < pn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void
detect_lost(struct rg_recovery *r, uint64_t now_ns, rg_fref_fn fn, void *ctx)
{
	uint64_t delay = rg_rtt_loss_delay_ns(&r->rtt, r->cfg.granularity_ns);

	r->loss_time_ns = RG_NS_NEVER;
	if (!r->largest_acked_valid)
		return;
	/* Bounded by the ring: only packets older than the largest acked are looked at. */
	for (uint64_t i = r->head; i < r->tail; i++) {
		struct rg_sent *s = at(r, i);

		if (s->pn > r->largest_acked)
			break;
		if (s->state != RG_SENT_IN_FLIGHT)
			continue;
		/* time + delay <= now: no "now - delay" that would clamp to 0 early in a run */
		if (s->time_ns + delay <= now_ns || r->largest_acked >= s->pn + RG_PKT_THRESHOLD)
			resolve(r, s, 0, fn, ctx);
		else
			r->loss_time_ns = RG_MIN(r->loss_time_ns, s->time_ns + delay);
	}
}

uint32_t
rg_recovery_on_ack(struct rg_recovery *r, const struct rg_frame *ack, uint64_t now_ns,
		   rg_fref_fn fn, void *ctx)
{
	uint64_t largest = ack->ack.ranges[0].hi;
	uint32_t newly = 0;
	int largest_newly = 0, clipped = 0;
	uint64_t largest_sent_ns = 0;

	memset(&r->rs, 0, sizeof(r->rs));
	if (r->pn_next == 0)
		return 0;
	/*
	 * Numbers never sent (>= pn_next) are ignored, not the frame: the peer
	 * may have accepted a forged packet number, and every ACK it sends after
	 * that names it as largest; dropping whole frames would stall the lane
	 * for good. The ranges are cut at pn_next - 1, and the frame gives no
	 * RTT sample (its ack delay belongs to the number never sent). The
	 * caller counts it (ack_unsent).
	 */
	if (largest >= r->pn_next) {
		unsigned k = 0;

		while (k < ack->ack.nranges && ack->ack.ranges[k].lo >= r->pn_next)
			k++; /* bounded by nranges */
		if (k == ack->ack.nranges)
			return 0; /* nothing real in it: no state moves */
		largest = RG_MIN(ack->ack.ranges[k].hi, r->pn_next - 1);
		clipped = 1;
	}
	for (unsigned k = 0; k < ack->ack.nranges; k++) {
		uint64_t lo = ack->ack.ranges[k].lo, hi = RG_MIN(ack->ack.ranges[k].hi, largest);

		if (lo > hi)
			continue; /* wholly above what was sent */
		for (uint64_t i = lower_bound(r, lo); i < r->tail && at(r, i)->pn <= hi; i++) {
			struct rg_sent *s = at(r, i);

			if (s->state == RG_SENT_LOST)
				r->spurious_acks++;
			if (s->state != RG_SENT_IN_FLIGHT)
				continue;
			if (s->pn == largest) {
				largest_newly = 1;
				largest_sent_ns = s->time_ns;
			}
			rate_on_acked(r, s, now_ns);
			resolve(r, s, 1, fn, ctx);
			newly++;
		}
	}
	if (!r->largest_acked_valid || largest > r->largest_acked) {
		r->largest_acked = largest;
		r->largest_acked_valid = 1;
	}
	if (largest_newly && !clipped && now_ns >= largest_sent_ns) {
		rg_rtt_sample(&r->rtt, now_ns - largest_sent_ns, ack->ack.ack_delay_ns,
			      r->cfg.ack_delay_ns_max);
		r->rs.rtt_ns = RG_MAX(r->rtt.latest_ns, 1);
	}
	rate_finish(r);
	if (newly > 0)
		r->pto_count = 0;
	detect_lost(r, now_ns, fn, ctx);
	retire(r);
	return newly;
}

uint64_t
rg_recovery_pto_ns(const struct rg_recovery *r)
{
	uint64_t pto = rg_rtt_pto_ns(&r->rtt, r->cfg.granularity_ns, r->cfg.ack_delay_ns_max);
	uint32_t shift = RG_MIN(r->pto_count, PTO_BACKOFF_MAX);

	if (pto > (r->cfg.pto_ns_max >> shift))
		return r->cfg.pto_ns_max;
	return RG_MIN(pto << shift, r->cfg.pto_ns_max);
}

uint64_t
rg_recovery_deadline(const struct rg_recovery *r)
{
	if (r->loss_time_ns != RG_NS_NEVER)
		return r->loss_time_ns;
	if (r->pkts_in_flight == 0)
		return RG_NS_NEVER;
	return r->last_eliciting_ns + rg_recovery_pto_ns(r);
}

int
rg_recovery_on_timeout(struct rg_recovery *r, uint64_t now_ns, rg_fref_fn fn, void *ctx)
{
	uint64_t deadline = rg_recovery_deadline(r);

	if (deadline > now_ns)
		return 0;
	if (r->loss_time_ns != RG_NS_NEVER) {
		detect_lost(r, now_ns, fn, ctx);
		retire(r);
		return 0;
	}
	r->pto_count++;
	r->pto_fired++;
	/* The probe is sent now; restarting the clock here keeps the backoff spacing. */
	r->last_eliciting_ns = now_ns;
	return 1;
}

int
rg_recovery_check(const struct rg_recovery *r)
{
	uint64_t bytes = 0;
	uint32_t pkts = 0;

	if (r->tail - r->head > r->cfg.pkts_max || r->fref_tail - r->fref_head > r->cfg.frefs_max)
		return -1;
	if (r->window_bytes == 0 || r->window_bytes > r->cfg.bytes_max)
		return -1;
	for (uint64_t i = r->head; i < r->tail; i++) {
		const struct rg_sent *s = at(r, i);

		if (s->pn >= r->pn_next || (i > r->head && at(r, i - 1)->pn >= s->pn))
			return -1;
		if (s->state != RG_SENT_IN_FLIGHT)
			continue;
		if (s->delivered_bytes > r->delivered_bytes)
			return -1;
		bytes += s->bytes;
		pkts++;
		if (s->fref_first < r->fref_head || s->fref_first + s->nframes > r->fref_tail)
			return -1;
	}
	return bytes == r->bytes_in_flight && pkts == r->pkts_in_flight ? 0 : -1;
}
