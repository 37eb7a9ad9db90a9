/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "ackr.h"

void
rg_ackr_reset(struct rg_ackr *a)
{
	memset(a, 0, sizeof(*a));
	a->first_unacked_ns = RG_NS_NEVER;
}

int
rg_ackr_is_dup(const struct rg_ackr *a, uint64_t pn)
{
	if (!a->valid)
		return 0;
	if (pn < a->floor || pn + RG_ACKR_WINDOW < a->r[0].hi)
		return 1;
	/* Bounded by RG_ACKR_RANGES_MAX; new packets hit r[0] first. */
	for (unsigned i = 0; i < a->n; i++) {
		if (pn > a->r[i].hi)
			return 0;
		if (pn >= a->r[i].lo)
			return 1;
	}
	return 0;
}

/* Inserts a one-number range at position i, dropping the lowest range when full. */
static void
insert_range(struct rg_ackr *a, unsigned i, uint64_t pn)
{
	if (a->n == RG_ACKR_RANGES_MAX) {
		a->floor = a->r[a->n - 1].hi + 1;
		a->n--;
		if (i > a->n) { /* the new range was below the dropped one: it is forgotten too */
			a->floor = RG_MAX(a->floor, pn + 1);
			return;
		}
	}
	memmove(&a->r[i + 1], &a->r[i], (a->n - i) * sizeof(a->r[0]));
	a->r[i].lo = a->r[i].hi = pn;
	a->n++;
}

static void
merge_down(struct rg_ackr *a, unsigned i)
{
	/* r[i] grew downward: join r[i + 1] when they now touch. */
	if (i + 1 < a->n && a->r[i + 1].hi + 1 == a->r[i].lo) {
		a->r[i].lo = a->r[i + 1].lo;
		memmove(&a->r[i + 1], &a->r[i + 2], (a->n - i - 2) * sizeof(a->r[0]));
		a->n--;
	}
}

static void
insert_pn(struct rg_ackr *a, uint64_t pn)
{
	unsigned i;

	for (i = 0; i < a->n; i++) {
		if (pn == a->r[i].hi + 1) {
			a->r[i].hi = pn;
			if (i > 0 && a->r[i - 1].lo == pn + 1) { /* fills the gap above */
				a->r[i - 1].lo = a->r[i].lo;
				memmove(&a->r[i], &a->r[i + 1], (a->n - i - 1) * sizeof(a->r[0]));
				a->n--;
			}
			return;
		}
		if (pn > a->r[i].hi)
			break;
		if (pn + 1 == a->r[i].lo) {
			a->r[i].lo = pn;
			merge_down(a, i);
			return;
		}
	}
	insert_range(a, i, pn);
}

void
rg_ackr_insert(struct rg_ackr *a, uint64_t pn, int ack_eliciting, uint64_t now_ns)
{
	int in_order;

	RG_DEBUG_ASSERT(!rg_ackr_is_dup(a, pn));
	if (!a->valid) {
		a->valid = 1;
		a->n = 1;
		a->r[0].lo = a->r[0].hi = pn;
		a->floor = 0;
		a->largest_rx_ns = now_ns;
		in_order = 1;
	} else {
		in_order = pn == a->r[0].hi + 1;
		if (pn > a->r[0].hi)
			a->largest_rx_ns = now_ns;
		insert_pn(a, pn);
	}
	if (!ack_eliciting)
		return;
	if (a->unacked_eliciting++ == 0)
		a->first_unacked_ns = now_ns;
	if (!in_order)
		a->immediate = 1;
}

uint64_t
rg_ackr_deadline(const struct rg_ackr *a, uint32_t ack_every_pkts, uint64_t ack_delay_ns_max)
{
	if (a->unacked_eliciting == 0)
		return RG_NS_NEVER;
	if (a->immediate || a->unacked_eliciting >= ack_every_pkts)
		return 0;
	return a->first_unacked_ns + ack_delay_ns_max;
}

unsigned
rg_ackr_ranges(const struct rg_ackr *a, struct rg_pn_range *out, unsigned max)
{
	unsigned n = RG_MIN(a->n, max);

	memcpy(out, a->r, n * sizeof(a->r[0]));
	return n;
}

void
rg_ackr_on_ack_sent(struct rg_ackr *a)
{
	a->unacked_eliciting = 0;
	a->immediate = 0;
	a->first_unacked_ns = RG_NS_NEVER;
}

int
rg_ackr_check(const struct rg_ackr *a)
{
	if (!a->valid)
		return a->n == 0 ? 0 : -1;
	if (a->n == 0 || a->n > RG_ACKR_RANGES_MAX)
		return -1;
	for (unsigned i = 0; i < a->n; i++) {
		if (a->r[i].lo > a->r[i].hi || a->r[i].lo < a->floor)
			return -1;
		if (i > 0 && a->r[i - 1].lo <= a->r[i].hi + 1)
			return -1;
	}
	return 0;
}
