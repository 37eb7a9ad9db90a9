/* SPDX-License-Identifier: Apache-2.0 */
/* A lane's sessions (session.h): the cases there, in the same order. */
#include <string.h>

#include "common.h"
#include "session.h"

void
rg_ses_init(struct rg_lane_ses *ls, int second)
{
	memset(ls, 0, sizeof(*ls));
	ls->second = (uint8_t)(second != 0);
}

uint32_t
rg_ses_epoch(uint32_t counter, uint16_t initiator, uint16_t responder)
{
	RG_DEBUG_ASSERT(counter > 0 && counter < (1u << 31));
	return counter << 1 | (initiator < responder ? 1u : 0u);
}

static int
alive(const struct rg_ses *s, const struct rg_ses_config *cfg, uint64_t now_ns)
{
	return s->epoch != 0 && now_ns - s->born_ns < cfg->reject_after_ns; /* case 4 */
}

/* Case 3: the newest usable live session, or RG_SES_NONE. */
static int
sealer(const struct rg_lane_ses *ls, const struct rg_ses_config *cfg, uint64_t now_ns)
{
	int best = RG_SES_NONE;

	for (int i = 0; i < RG_SES_PER_LANE; i++) {
		const struct rg_ses *s = &ls->s[i];

		if (s->usable && alive(s, cfg, now_ns) &&
		    (best == RG_SES_NONE || s->born_ns > ls->s[best].born_ns))
			best = i;
	}
	return best;
}

int
rg_ses_seal(struct rg_lane_ses *ls, const struct rg_ses_config *cfg, uint64_t bytes,
	    uint64_t now_ns)
{
	int i = sealer(ls, cfg, now_ns);

	if (i != RG_SES_NONE)
		ls->s[i].sealed_bytes += bytes;
	return i;
}

int
rg_ses_open(const struct rg_lane_ses *ls, const struct rg_ses_config *cfg, uint32_t epoch,
	    uint64_t src_inc, uint64_t now_ns)
{
	if (epoch == 0)
		return RG_SES_NONE;
	for (int i = 0; i < RG_SES_PER_LANE; i++) {
		const struct rg_ses *s = &ls->s[i];

		if (s->epoch == epoch && s->peer_inc == src_inc && alive(s, cfg, now_ns))
			return i;
	}
	return RG_SES_NONE;
}

void
rg_ses_opened(struct rg_lane_ses *ls, int i)
{
	RG_DEBUG_ASSERT(i >= 0 && i < RG_SES_PER_LANE && ls->s[i].epoch != 0);
	ls->s[i].usable = 1;
}

uint64_t
rg_ses_init_next_ns(const struct rg_lane_ses *ls, const struct rg_ses_config *cfg, uint64_t now_ns)
{
	int i = sealer(ls, cfg, now_ns);
	uint64_t at = 0;

	if (i != RG_SES_NONE && !ls->kick) { /* case 2: a rekey, by time or by bytes */
		const struct rg_ses *s = &ls->s[i];

		if (s->sealed_bytes < cfg->rekey_after_bytes)
			at = s->born_ns + cfg->rekey_after_ns +
			     (ls->second ? (cfg->reject_after_ns - cfg->rekey_after_ns) / 2 : 0);
	}
	/* Cases 1 and 2: one INIT at a time, again after retry_ns. */
	if (ls->pending_epoch != 0)
		at = RG_MAX(at, ls->pending_ns + cfg->retry_ns);
	return at;
}

int
rg_ses_init_due(const struct rg_lane_ses *ls, const struct rg_ses_config *cfg, uint64_t now_ns)
{
	return rg_ses_init_next_ns(ls, cfg, now_ns) <= now_ns;
}

uint32_t
rg_ses_init_sent(struct rg_lane_ses *ls, uint16_t us, uint16_t peer, uint64_t now_ns)
{
	RG_ASSERT(ls->counter < (1u << 31) - 1); /* 2^31 handshakes on one lane of one process */
	ls->counter++;
	ls->pending_epoch = rg_ses_epoch(ls->counter, us, peer);
	ls->pending_ns = now_ns;
	return ls->pending_epoch;
}

int
rg_ses_init_fresh(const struct rg_lane_ses *ls, uint64_t inc, uint32_t counter)
{
	/* case 5: a replay, or an INIT older than one answered, is not */
	return inc > ls->answered_inc ||
	       (inc == ls->answered_inc && counter > ls->answered_counter);
}

int
rg_ses_accept_init(struct rg_lane_ses *ls, uint64_t inc, uint32_t counter)
{
	if (!rg_ses_init_fresh(ls, inc, counter))
		return 0;
	ls->answered_inc = inc;
	ls->answered_counter = counter;
	return 1;
}

int
rg_ses_place(const struct rg_lane_ses *ls, uint32_t epoch)
{
	int seal = RG_SES_NONE, place = RG_SES_NONE, taken;

	for (int i = 0; i < RG_SES_PER_LANE; i++) {
		const struct rg_ses *s = &ls->s[i];

		if (s->usable && (seal == RG_SES_NONE || s->born_ns > ls->s[seal].born_ns))
			seal = i;
		if (s->epoch == epoch) /* the same handshake again: its place */
			place = i;
	}
	/* Case 6: an empty place, else the oldest that is not the newest usable one. */
	for (int i = 0; i < RG_SES_PER_LANE && place == RG_SES_NONE; i++)
		if (ls->s[i].epoch == 0)
			place = i;
	taken = place != RG_SES_NONE;
	/*
	 * All taken: first an INIT the initiator has moved past (not usable, the
	 * same side, a lower counter: its RESP can no longer finish anything),
	 * so that a peer retrying INITs does not push out a session it seals with.
	 */
	for (int i = 0; i < RG_SES_PER_LANE && !taken; i++) {
		const struct rg_ses *s = &ls->s[i];

		if (!s->usable && ((s->epoch ^ epoch) & 1) == 0 && s->epoch < epoch &&
		    (place == RG_SES_NONE || s->born_ns < ls->s[place].born_ns))
			place = i;
	}
	if (place == RG_SES_NONE) {
		for (int i = 0; i < RG_SES_PER_LANE; i++)
			if (i != seal &&
			    (place == RG_SES_NONE || ls->s[i].born_ns < ls->s[place].born_ns))
				place = i;
	}
	return place;
}

int
rg_ses_add(struct rg_lane_ses *ls, uint32_t epoch, uint64_t peer_inc, int usable, uint64_t now_ns)
{
	int place = rg_ses_place(ls, epoch);

	RG_DEBUG_ASSERT(epoch != 0);
	ls->s[place] = (struct rg_ses){ .epoch = epoch,
					.usable = (uint8_t)(usable != 0),
					.peer_inc = peer_inc,
					.born_ns = now_ns };
	if (usable && ls->pending_epoch == epoch) {
		ls->pending_epoch = 0;
		ls->kick = 0;
	}
	return place;
}

void
rg_ses_drop(struct rg_lane_ses *ls, int i)
{
	RG_DEBUG_ASSERT(i >= 0 && i < RG_SES_PER_LANE);
	ls->s[i] = (struct rg_ses){ 0 };
}

void
rg_ses_kick(struct rg_lane_ses *ls)
{
	ls->kick = 1;
}

unsigned
rg_ses_peer_restarted(struct rg_lane_ses *ls, uint64_t inc)
{
	unsigned mask = 0;

	for (int i = 0; i < RG_SES_PER_LANE; i++)
		if (ls->s[i].epoch != 0 && ls->s[i].peer_inc != inc) {
			ls->s[i] = (struct rg_ses){ 0 };
			mask |= 1u << i;
		}
	return mask;
}

int
rg_ses_check(const struct rg_lane_ses *ls)
{
	for (int i = 0; i < RG_SES_PER_LANE; i++) {
		if (ls->s[i].epoch == 0 && ls->s[i].usable)
			return -1;
		for (int j = i + 1; j < RG_SES_PER_LANE; j++)
			if (ls->s[i].epoch != 0 && ls->s[i].epoch == ls->s[j].epoch)
				return -1;
	}
	return 0;
}
