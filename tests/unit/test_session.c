/* SPDX-License-Identifier: Apache-2.0 */
/* session.c: a lane's sessions, each case of session.h, then two sides rekeying for an hour. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common.h"
#include "session.h"

#define S  RG_NS_PER_S
#define GA 1
#define GB 2

static const struct rg_ses_config CFG = {
	.rekey_after_ns = 120 * S,
	.rekey_after_bytes = 1000000,
	.reject_after_ns = 180 * S,
	.retry_ns = 1 * S,
};

static void
test_session_epochs(void **state)
{
	(void)state;
	/* The low bit: 1 when the smaller gateway id initiated. */
	assert_int_equal(rg_ses_epoch(1, GA, GB), 3);
	assert_int_equal(rg_ses_epoch(1, GB, GA), 2);
	assert_int_equal(rg_ses_epoch(5, GA, GB), 11);
	assert_int_not_equal(rg_ses_epoch(7, GA, GB), rg_ses_epoch(7, GB, GA));
}

/* Cases 1 and 3: nothing seals before a handshake; ours seals once finished. */
static void
test_session_first_handshake_initiator(void **state)
{
	struct rg_lane_ses ls;
	uint32_t e;
	int i;

	(void)state;
	rg_ses_init(&ls, 0);
	assert_int_equal(rg_ses_seal(&ls, &CFG, 100, 0), RG_SES_NONE);
	assert_true(rg_ses_init_due(&ls, &CFG, 0));
	e = rg_ses_init_sent(&ls, GA, GB, 0);
	assert_int_equal(e, rg_ses_epoch(1, GA, GB));
	assert_int_equal(ls.counter, 1);
	/* Pending: not again until retry_ns, then a new INIT with the next counter. */
	assert_false(rg_ses_init_due(&ls, &CFG, S / 2));
	assert_true(rg_ses_init_due(&ls, &CFG, S));
	e = rg_ses_init_sent(&ls, GA, GB, S);
	assert_int_equal(e, rg_ses_epoch(2, GA, GB));
	i = rg_ses_add(&ls, e, 77, 1, S + 1000);
	assert_int_equal(ls.pending_epoch, 0);
	assert_int_equal(rg_ses_seal(&ls, &CFG, 100, S + 2000), i);
	assert_int_equal(rg_ses_open(&ls, &CFG, e, 77, S + 2000), i);
	assert_int_equal(rg_ses_open(&ls, &CFG, e, 78, S + 2000), RG_SES_NONE); /* other inc */
	assert_int_equal(rg_ses_open(&ls, &CFG, e + 2, 77, S + 2000), RG_SES_NONE);
	assert_int_equal(rg_ses_open(&ls, &CFG, 0, 77, S + 2000), RG_SES_NONE);
	assert_false(rg_ses_init_due(&ls, &CFG, S + 2000));
	assert_int_equal(rg_ses_check(&ls), 0);
}

/* Case 3, the responder: a session it answered opens at once, seals only once it opened. */
static void
test_session_responder_waits_for_a_packet(void **state)
{
	struct rg_lane_ses ls;
	uint32_t e = rg_ses_epoch(1, GA, GB);
	int i;

	(void)state;
	rg_ses_init(&ls, 0);
	assert_true(rg_ses_accept_init(&ls, 10, 1));
	i = rg_ses_add(&ls, e, 10, 0, 0);
	assert_int_equal(rg_ses_seal(&ls, &CFG, 1, 1), RG_SES_NONE);
	assert_int_equal(rg_ses_open(&ls, &CFG, e, 10, 1), i);
	rg_ses_opened(&ls, i);
	assert_int_equal(rg_ses_seal(&ls, &CFG, 1, 2), i);
	assert_int_equal(rg_ses_check(&ls), 0);
}

/* Case 2: by age and by bytes the next INIT is due, and the old session seals meanwhile. */
static void
test_session_rekey_by_time_and_bytes(void **state)
{
	struct rg_lane_ses ls;
	uint32_t e;
	int i, j;

	(void)state;
	rg_ses_init(&ls, 0);
	e = rg_ses_init_sent(&ls, GA, GB, 0);
	i = rg_ses_add(&ls, e, 5, 1, 0);
	assert_false(rg_ses_init_due(&ls, &CFG, 119 * S));
	assert_true(rg_ses_init_due(&ls, &CFG, 120 * S));
	assert_int_equal(rg_ses_seal(&ls, &CFG, 1, 150 * S), i); /* still seals: no pause */
	e = rg_ses_init_sent(&ls, GA, GB, 150 * S);
	j = rg_ses_add(&ls, e, 5, 1, 150 * S + 1);
	assert_int_not_equal(i, j);
	assert_int_equal(rg_ses_seal(&ls, &CFG, 1, 150 * S + 2), j); /* the newest seals */
	assert_int_equal(rg_ses_open(&ls, &CFG, ls.s[i].epoch, 5, 150 * S + 2), i); /* in flight */
	/* Case 4: the old one neither opens nor seals past reject_after_ns. */
	assert_int_equal(rg_ses_open(&ls, &CFG, ls.s[i].epoch, 5, 180 * S), RG_SES_NONE);
	/* By bytes: a million sealed makes the next one due at once. */
	assert_false(rg_ses_init_due(&ls, &CFG, 151 * S));
	assert_int_equal(rg_ses_seal(&ls, &CFG, 999998, 151 * S), j);
	assert_false(rg_ses_init_due(&ls, &CFG, 151 * S));
	assert_int_equal(rg_ses_seal(&ls, &CFG, 1, 151 * S), j);
	assert_true(rg_ses_init_due(&ls, &CFG, 151 * S));
	/* Past reject_after_ns with no new handshake: nothing seals (case 1 again). */
	assert_int_equal(rg_ses_seal(&ls, &CFG, 1, 150 * S + 1 + 180 * S), RG_SES_NONE);
	assert_int_equal(rg_ses_check(&ls), 0);
}

/* Case 5: replays and older INITs are not answered; a newer incarnation is. */
static void
test_session_init_replay(void **state)
{
	struct rg_lane_ses ls;

	(void)state;
	rg_ses_init(&ls, 0);
	assert_true(rg_ses_accept_init(&ls, 10, 1));
	assert_false(rg_ses_accept_init(&ls, 10, 1)); /* replayed */
	assert_true(rg_ses_accept_init(&ls, 10, 3));
	assert_false(rg_ses_accept_init(&ls, 10, 2));  /* older, arriving late */
	assert_false(rg_ses_accept_init(&ls, 9, 100)); /* an older incarnation's */
	assert_true(rg_ses_accept_init(&ls, 11, 1));   /* the peer restarted: from 1 again */
}

/* Case 6: three places; the fourth session takes the oldest place that does not seal. */
static void
test_session_places(void **state)
{
	struct rg_lane_ses ls;
	int p[4];

	(void)state;
	rg_ses_init(&ls, 0);
	p[0] = rg_ses_add(&ls, 3, 1, 1, 10); /* usable, oldest */
	p[1] = rg_ses_add(&ls, 5, 1, 0, 20);
	p[2] = rg_ses_add(&ls, 7, 1, 0, 30);
	assert_int_equal(p[0] + p[1] + p[2], 0 + 1 + 2);
	/* 9 supersedes the unanswered 5 and 7 (the same side): the older, p[1], goes. */
	p[3] = rg_ses_add(&ls, 9, 1, 0, 40);
	assert_int_equal(p[3], p[1]);
	assert_int_equal(rg_ses_seal(&ls, &CFG, 1, 41), p[0]);
	/* The same epoch again (a RESP for a retried INIT's epoch) keeps its place. */
	assert_int_equal(rg_ses_add(&ls, 7, 1, 1, 50), p[2]);
	assert_int_equal(rg_ses_seal(&ls, &CFG, 1, 51), p[2]);
	/* Now p[2] seals; 11 supersedes the unanswered 9 (p[3]), not the older p[0]. */
	assert_int_equal(rg_ses_add(&ls, 11, 1, 0, 60), p[3]);
	/* An INIT of the other side (10) supersedes nothing: the oldest non-sealer, p[0]. */
	assert_int_equal(rg_ses_add(&ls, 10, 1, 0, 70), p[0]);
	assert_int_equal(rg_ses_check(&ls), 0);
}

/*
 * Case 6, a peer retrying INITs (it heard nothing back for a while): each
 * retry supersedes the last unanswered one, whose place goes first; the
 * session the peer still seals with (3) stays, though it is not the newest.
 */
static void
test_session_places_retried_inits(void **state)
{
	struct rg_lane_ses ls;
	int p3, p2, p5;

	(void)state;
	rg_ses_init(&ls, 1);
	p3 = rg_ses_add(&ls, 3, 1, 1, 10); /* the peer's, confirmed: it seals with it */
	p2 = rg_ses_add(&ls, 2, 1, 1, 20); /* ours, newer: we seal with it */
	p5 = rg_ses_add(&ls, 5, 1, 0, 30); /* the peer's retry, unanswered yet */
	assert_int_equal(rg_ses_add(&ls, 7, 1, 0, 40), p5);
	assert_int_equal(rg_ses_add(&ls, 9, 1, 0, 50), p5);
	assert_int_equal(rg_ses_open(&ls, &CFG, 3, 1, 51), p3);
	assert_int_equal(rg_ses_open(&ls, &CFG, 9, 1, 51), p5);
	assert_int_equal(rg_ses_seal(&ls, &CFG, 1, 51), p2);
	/* Our own next one (a RESP: usable, the other side bit) takes the oldest non-sealer. */
	assert_int_equal(rg_ses_add(&ls, 4, 1, 1, 60), p3);
	assert_int_equal(rg_ses_check(&ls), 0);
}

/* Case 7: a restart forgets the sessions of other incarnations, and says which. */
static void
test_session_peer_restart(void **state)
{
	struct rg_lane_ses ls;
	int a, b, c;
	unsigned mask;

	(void)state;
	rg_ses_init(&ls, 0);
	a = rg_ses_add(&ls, 3, 100, 1, 1);
	b = rg_ses_add(&ls, 5, 200, 0, 2); /* the new process's INIT, answered */
	c = rg_ses_add(&ls, 7, 100, 1, 3);
	mask = rg_ses_peer_restarted(&ls, 200);
	assert_int_equal(mask, (1u << a) | (1u << c));
	assert_int_equal(rg_ses_seal(&ls, &CFG, 1, 4), RG_SES_NONE); /* b not usable yet */
	assert_int_equal(rg_ses_open(&ls, &CFG, 5, 200, 4), b);
	assert_int_equal(rg_ses_open(&ls, &CFG, 3, 100, 4), RG_SES_NONE);
	assert_int_equal(rg_ses_peer_restarted(&ls, 200), 0);
	assert_int_equal(rg_ses_check(&ls), 0);
}

/*
 * Two sides of one lane for an hour of 1 ms steps, A sealing 1500 bytes a step (so rekeying
 * by bytes every 667 steps), B answering; one RESP in five is lost (A retries after 1 s). Once the first handshake finished, A always has a session to seal with
 * (no pause) and B always opens what A seals; both hold: counted.
 */
static void
test_session_two_sides_rekey_without_pause(void **state)
{
	struct rg_lane_ses a, b;
	uint64_t sealed = 0, opened = 0, lost = 0, handshakes = 0;
	int started = 0;

	(void)state;
	rg_ses_init(&a, 0);
	rg_ses_init(&b, 1);
	for (uint64_t step = 0; step < 3600u * 1000u; step++) {
		uint64_t now = step * (S / 1000);
		int i;

		if (rg_ses_init_due(&a, &CFG, now)) {
			uint32_t e = rg_ses_init_sent(&a, GA, GB, now);

			/* B reads it, answers; the RESP arrives 1 step later unless lost. */
			assert_true(rg_ses_accept_init(&b, 1, a.counter));
			rg_ses_add(&b, e, 1, 0, now);
			if (a.counter % 5 == 0) {
				lost++;
			} else {
				rg_ses_add(&a, e, 2, 1, now + S / 1000);
				handshakes++;
			}
		}
		i = rg_ses_seal(&a, &CFG, 1500, now);
		if (i == RG_SES_NONE) {
			assert_false(started); /* a pause after the first handshake: the bug */
			continue;
		}
		started = 1;
		sealed++;
		{
			int j = rg_ses_open(&b, &CFG, a.s[i].epoch, 1, now);

			assert_int_not_equal(j, RG_SES_NONE);
			rg_ses_opened(&b, j);
			opened++;
		}
		assert_int_equal(rg_ses_check(&a), 0);
		assert_int_equal(rg_ses_check(&b), 0);
	}
	assert_true(sealed > 3599u * 1000u);
	assert_int_equal(sealed, opened);
	print_message("handshakes %lu lost %lu sealed %lu\n", (unsigned long)handshakes,
		      (unsigned long)lost, (unsigned long)sealed);
	assert_true(handshakes > 3500); /* by bytes every 667 steps, a lost RESP 1000 more */
	assert_true(lost > 900);
}

/* One side's INIT at now: the other answers, and the RESP is back at once. */
static void
handshake(struct rg_lane_ses *from, uint16_t us, struct rg_lane_ses *to, uint16_t them,
	  uint64_t from_inc, uint64_t to_inc, uint64_t now)
{
	uint32_t e = rg_ses_init_sent(from, us, them, now);

	assert_true(rg_ses_accept_init(to, from_inc, from->counter));
	rg_ses_add(to, e, from_inc, 0, now);
	rg_ses_add(from, e, to_inc, 1, now);
}

/* Each side seals one packet to the other at now; the other opens it. */
static void
seal_open(struct rg_lane_ses *from, struct rg_lane_ses *to, uint64_t from_inc, uint64_t now)
{
	int i = rg_ses_seal(from, &CFG, 0, now), j;

	assert_int_not_equal(i, RG_SES_NONE);
	j = rg_ses_open(to, &CFG, from->s[i].epoch, from_inc, now);
	assert_int_not_equal(j, RG_SES_NONE);
	rg_ses_opened(to, j);
}

/*
 * Case 2's second side: both sides may start a handshake, and for an hour
 * of rekeys by time they cross INITs only at the very first one (both see
 * no session at once); after that the first side always rekeys first.
 */
static void
test_session_both_sides_do_not_cross(void **state)
{
	struct rg_lane_ses a, b;
	uint64_t from_a = 0, from_b = 0, crossed = 0;

	(void)state;
	rg_ses_init(&a, 0); /* GA < GB */
	rg_ses_init(&b, 1);
	assert_int_equal(rg_ses_init_next_ns(&b, &CFG, 0), 0); /* no session: at once */
	for (uint64_t step = 0; step < 3600; step++) {
		uint64_t now = step * S;
		int da = rg_ses_init_due(&a, &CFG, now), db = rg_ses_init_due(&b, &CFG, now);

		crossed += da && db;
		if (da) {
			handshake(&a, GA, &b, GB, 1, 2, now);
			from_a++;
		}
		if (db) {
			handshake(&b, GB, &a, GA, 2, 1, now);
			from_b++;
		}
		seal_open(&a, &b, 1, now);
		seal_open(&b, &a, 2, now);
		assert_int_equal(rg_ses_check(&a), 0);
		assert_int_equal(rg_ses_check(&b), 0);
	}
	print_message("INITs from a %lu from b %lu crossed %lu\n", (unsigned long)from_a,
		      (unsigned long)from_b, (unsigned long)crossed);
	assert_int_equal(crossed, 1);
	assert_int_equal(from_b, 1);
	assert_true(from_a >= 3600 / 120); /* every rekey_after_ns */
	/* The second side alone rekeys halfway between rekey_after_ns and reject_after_ns. */
	rg_ses_init(&b, 1);
	rg_ses_add(&b, rg_ses_init_sent(&b, GB, GA, 0), 1, 1, 0);
	assert_int_equal(rg_ses_init_next_ns(&b, &CFG, 0), 150 * S);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session_epochs),
		cmocka_unit_test(test_session_first_handshake_initiator),
		cmocka_unit_test(test_session_responder_waits_for_a_packet),
		cmocka_unit_test(test_session_rekey_by_time_and_bytes),
		cmocka_unit_test(test_session_init_replay),
		cmocka_unit_test(test_session_places),
		cmocka_unit_test(test_session_places_retried_inits),
		cmocka_unit_test(test_session_peer_restart),
		cmocka_unit_test(test_session_two_sides_rekey_without_pause),
		cmocka_unit_test(test_session_both_sides_do_not_cross),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
