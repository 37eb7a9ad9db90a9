/* SPDX-License-Identifier: Apache-2.0 */
/* The history checker (history.h): one stream's deliveries, classified and counted. */
#include <errno.h>
#include <string.h>

#include "history.h"

const char *const rg_history_counter_names[RG_HISTORY_CTR_MAX] = {
#define RG_X(name, anomaly) #name,
	RG_HISTORY_COUNTERS(RG_X)
#undef RG_X
};

static const uint8_t counter_is_anomaly[RG_HISTORY_CTR_MAX] = {
#define RG_X(name, anomaly) anomaly,
	RG_HISTORY_COUNTERS(RG_X)
#undef RG_X
};

void
rg_history_init(struct rg_history *h)
{
	memset(h, 0, sizeof(*h));
}

void
rg_history_stream_init(struct rg_history_stream *s, uint64_t id, uint64_t applied)
{
	memset(s, 0, sizeof(*s));
	s->id = id;
	rg_history_restart(s, applied);
}

void
rg_history_restart(struct rg_history_stream *s, uint64_t applied)
{
	s->next = applied + 1;
	s->gap_lo = s->gap_hi = 0;
	s->late_seen = 0;
	rg_record_check_begin(&s->rec, s->id, s->next, 0);
}

int
rg_history_advance(struct rg_history_stream *s, uint64_t applied)
{
	if (applied + 1 <= s->next || s->rec.off > 0)
		return 0;
	s->next = applied + 1;
	return 1;
}

void
rg_history_fence(struct rg_history_stream *s, uint32_t version)
{
	s->version_min = RG_MAX(s->version_min, version);
}

/* Case 1: seq < next, or an earlier part of the current record. */
static enum rg_history_class
came_before(struct rg_history_stream *s, const struct rg_rx_frag *f)
{
	uint64_t i;

	if (f->seq < s->gap_lo || f->seq >= s->gap_hi)
		return RG_HISTORY_DUPLICATED;
	i = s->gap_hi - 1 - f->seq;
	if (i >= RG_HISTORY_LATE_SEQS)
		return RG_HISTORY_REORDERED; /* too far back to remember: guarantee 5 */
	if ((s->late_seen >> i) & 1)
		return RG_HISTORY_DUPLICATED;
	/* Its last bytes came: a copy of it from now on is a duplicate. */
	if ((uint64_t)f->off + f->len >= f->record_len)
		s->late_seen |= 1ull << i;
	return RG_HISTORY_REORDERED;
}

/*
 * Case 2: something was skipped; realign on f so that the rest is still
 * checked. The gap's seqs: [next, seq) when whole records were skipped, and
 * seq as well when f is not its record's first fragment (its start was).
 */
static void
realign(struct rg_history *h, struct rg_history_stream *s, const struct rg_rx_frag *f)
{
	h->ctr[RG_HISTORY_CTR_gaps]++;
	s->gap_lo = f->seq > s->next ? s->next : f->seq;
	s->gap_hi = f->seq + (f->off > 0);
	s->late_seen = 0;
	if (f->seq > s->next) {
		s->next = f->seq;
		s->rec.off = 0;
	}
	if (s->rec.off == 0)
		rg_record_check_begin(&s->rec, s->id, f->seq, f->record_len);
	else if (f->record_len != s->rec.len)
		rg_record_check_spoil(&s->rec);
	rg_record_check_skip(&s->rec, f->off);
}

/* The current record's last byte is in: its verdict, and next moves past it. */
static enum rg_history_class
complete(struct rg_history *h, struct rg_history_stream *s, uint64_t *stamp)
{
	int rc = rg_record_check_end(&s->rec, stamp);

	s->next = s->rec.seq + 1;
	s->rec.off = 0;
	if (rc == 0) {
		h->ctr[RG_HISTORY_CTR_checked]++;
		h->ctr[RG_HISTORY_CTR_checked_bytes] += s->rec.len;
		return RG_HISTORY_CHECKED;
	}
	if (rc == -EBADMSG) {
		h->ctr[RG_HISTORY_CTR_corrupt_accepted]++;
		return RG_HISTORY_CORRUPT;
	}
	h->ctr[RG_HISTORY_CTR_unchecked]++;
	return RG_HISTORY_UNCHECKED;
}

enum rg_history_class
rg_history_deliver(struct rg_history *h, struct rg_history_stream *s, const struct rg_rx_frag *f,
		   uint64_t *stamp)
{
	*stamp = RG_RECORD_NO_STAMP;
	if (f->version < s->version_min)
		h->ctr[RG_HISTORY_CTR_stale_accepted]++;
	if (f->seq < s->next || (f->seq == s->next && f->off < s->rec.off)) {
		enum rg_history_class c = came_before(s, f);

		h->ctr[c == RG_HISTORY_REORDERED ? RG_HISTORY_CTR_reordered
						 : RG_HISTORY_CTR_duplicated]++;
		return c;
	}
	if (f->seq > s->next || f->off > s->rec.off)
		realign(h, s, f);
	else if (s->rec.off == 0)
		rg_record_check_begin(&s->rec, s->id, f->seq, f->record_len);
	else if (f->record_len != s->rec.len)
		rg_record_check_spoil(&s->rec);
	rg_record_check_absorb(&s->rec, f->off, f->data, f->len);
	if (!rg_record_check_done(&s->rec))
		return RG_HISTORY_PART;
	return complete(h, s, stamp);
}

uint64_t
rg_history_anomalies(const struct rg_history *h)
{
	uint64_t n = 0;

	for (int i = 0; i < RG_HISTORY_CTR_MAX; i++)
		n += counter_is_anomaly[i] ? h->ctr[i] : 0;
	return n;
}

void
rg_history_merge(struct rg_history *dst, const struct rg_history *src)
{
	for (int i = 0; i < RG_HISTORY_CTR_MAX; i++)
		dst->ctr[i] += src->ctr[i];
}

int
rg_history_check(const struct rg_history_stream *s)
{
	uint64_t span = s->gap_hi - s->gap_lo;
	int in_progress = s->rec.off > 0;

	if (s->next < 1)
		return -1;
	if (in_progress && s->rec.seq != s->next)
		return -2;
	if (s->rec.off > s->rec.len)
		return -3;
	if (s->gap_lo > s->gap_hi || s->gap_hi > s->next + in_progress)
		return -4;
	if (span < RG_HISTORY_LATE_SEQS && (s->late_seen >> span) != 0)
		return -5;
	return 0;
}
