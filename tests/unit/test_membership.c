/* SPDX-License-Identifier: Apache-2.0 */
/* Membership: detectors per peer and the routes of streams, driven with literal times (ns). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common.h"
#include "membership.h"

#define MS RG_NS_PER_MS

/* Region "B" has gateways 2 and 3; region "C" has gateway 4. */
static void
setup(struct rg_membership *m, struct rg_detector_config *c)
{
	rg_detector_config_default(c);
	c->min_stddev_ns = 5 * MS;
	c->acceptable_pause_ns = 50 * MS;
	c->dead_after_ns = 2000 * MS;
	rg_membership_init(m);
	assert_int_equal(rg_membership_add(m, 2, "B", c, 0), 0);
	assert_int_equal(rg_membership_add(m, 3, "B", c, 0), 0);
	assert_int_equal(rg_membership_add(m, 4, "C", c, 0), 0);
	assert_int_equal(rg_membership_add(m, 4, "C", c, 0), -EEXIST);
}

/* Every peer but those in `silent` heard every 10 ms from `from` to `to`; returns changes. */
static unsigned
run(struct rg_membership *m, uint64_t from, uint64_t to, const uint16_t *silent, unsigned nsilent,
    struct rg_member_change *log, unsigned max)
{
	struct rg_member_change ch[8];
	unsigned n = 0;

	for (uint64_t t = from; t <= to; t += 10 * MS) {
		for (uint16_t i = 0; i < m->npeers; i++) {
			int quiet = 0;

			for (unsigned k = 0; k < nsilent; k++)
				quiet |= m->peers[i].gw == silent[k];
			if (!quiet)
				rg_membership_heard(m, m->peers[i].gw, t);
		}
		for (unsigned k = 0, c = rg_membership_update(m, t, ch, 8); k < c; k++)
			if (n < max)
				log[n++] = ch[k];
		assert_int_equal(rg_membership_check(m), 0);
	}
	return n;
}

static void
test_membership_steady_peers_change_nothing(void **state)
{
	struct rg_membership m;
	struct rg_detector_config c;
	struct rg_member_change log[16];

	(void)state;
	setup(&m, &c);
	assert_int_equal(run(&m, 10 * MS, 5000 * MS, NULL, 0, log, 16), 0);
	for (uint16_t i = 0; i < m.npeers; i++) {
		assert_int_equal(m.peers[i].state, RG_LIVENESS_ALIVE);
		assert_int_equal(rg_membership_route(&m, m.peers[i].gw), m.peers[i].gw);
		assert_true(m.peers[i].det.heartbeats >= 499);
	}
}

static void
test_membership_dead_gateway_routes_to_its_region(void **state)
{
	struct rg_membership m;
	struct rg_detector_config c;
	struct rg_member_change log[16];
	const uint16_t two = 2;
	unsigned n, dead_at = 0;

	(void)state;
	setup(&m, &c);
	run(&m, 10 * MS, 2000 * MS, NULL, 0, log, 16);
	n = run(&m, 2010 * MS, 3000 * MS, &two, 1, log, 16);
	/* ALIVE → SUSPECT, then → DEAD with the route moving to 3 (region B), never to 4. */
	assert_int_equal(n, 2);
	assert_int_equal(log[0].gw, 2);
	assert_int_equal(log[0].from, RG_LIVENESS_ALIVE);
	assert_int_equal(log[0].to, RG_LIVENESS_SUSPECT);
	assert_int_equal(log[0].route_to, 2);
	assert_int_equal(log[1].to, RG_LIVENESS_DEAD);
	assert_int_equal(log[1].route_from, 2);
	assert_int_equal(log[1].route_to, 3);
	assert_true(log[1].phi >= c.dead_phi);
	assert_int_equal(rg_membership_route(&m, 2), 3);
	assert_int_equal(rg_membership_route(&m, 3), 3);
	assert_int_equal(rg_membership_route(&m, 4), 4);
	assert_int_equal(rg_membership_route(&m, 9), 9); /* unknown: itself */
	/* DEAD within mean + pause + a few deviations of silence: well under half a second. */
	for (uint16_t i = 0; i < m.npeers; i++)
		if (m.peers[i].gw == 2)
			dead_at = (unsigned)((m.peers[i].since_ns - 2000 * MS) / MS);
	assert_true(dead_at > 50 && dead_at < 500);
	/* Heard again: ALIVE, but its streams stay on 3 (moving back needs a drain). */
	n = run(&m, 3010 * MS, 3100 * MS, NULL, 0, log, 16);
	assert_int_equal(n, 1);
	assert_int_equal(log[0].from, RG_LIVENESS_DEAD);
	assert_int_equal(log[0].to, RG_LIVENESS_ALIVE);
	assert_int_equal(log[0].route_to, 3);
	assert_int_equal(rg_membership_route(&m, 2), 3);
}

static void
test_membership_substitute_dies_routes_back(void **state)
{
	struct rg_membership m;
	struct rg_detector_config c;
	struct rg_member_change log[16];
	const uint16_t two = 2, three = 3;
	unsigned n;

	(void)state;
	setup(&m, &c);
	run(&m, 10 * MS, 1000 * MS, NULL, 0, log, 16);
	run(&m, 1010 * MS, 2000 * MS, &two, 1, log, 16);
	assert_int_equal(rg_membership_route(&m, 2), 3);
	/* 2 comes back; then 3 dies: 2's streams (on 3) go back to 2, and 3's go to 2. */
	run(&m, 2010 * MS, 4000 * MS, NULL, 0, log, 16);
	n = run(&m, 4010 * MS, 5000 * MS, &three, 1, log, 16);
	assert_true(n >= 2);
	assert_int_equal(rg_membership_route(&m, 2), 2);
	assert_int_equal(rg_membership_route(&m, 3), 2);
}

static void
test_membership_whole_region_dead_keeps_routes(void **state)
{
	struct rg_membership m;
	struct rg_detector_config c;
	struct rg_member_change log[16];
	const uint16_t both[2] = { 2, 3 };

	(void)state;
	setup(&m, &c);
	run(&m, 10 * MS, 1000 * MS, NULL, 0, log, 16);
	run(&m, 1010 * MS, 2000 * MS, both, 2, log, 16);
	/* No live gateway in B: streams wait where they are (and resume when one returns). */
	assert_int_equal(rg_membership_route(&m, 2), 2);
	assert_int_equal(rg_membership_route(&m, 3), 3);
}

static void
test_membership_never_heard_waits_for_the_hard_bound(void **state)
{
	struct rg_membership m;
	struct rg_detector_config c;
	struct rg_member_change log[16];
	const uint16_t four = 4;

	(void)state;
	setup(&m, &c);
	/* 4 starts later than us: no suspicion before dead_after (2 s) without any packet. */
	assert_int_equal(run(&m, 10 * MS, 1990 * MS, &four, 1, log, 16), 0);
	assert_int_equal(run(&m, 2000 * MS, 2000 * MS, &four, 1, log, 16), 1);
	assert_int_equal(log[0].to, RG_LIVENESS_DEAD);
}

static void
test_membership_incarnations_count_restarts(void **state)
{
	struct rg_membership m;
	struct rg_detector_config c;

	(void)state;
	setup(&m, &c);
	assert_int_equal(rg_membership_incarnation(&m, 2, 100), 0); /* first contact */
	assert_int_equal(rg_membership_incarnation(&m, 2, 100), 0);
	assert_int_equal(rg_membership_incarnation(&m, 2, 50), 0); /* older: ignored */
	assert_int_equal(rg_membership_incarnation(&m, 2, 200), 1);
	assert_int_equal(rg_membership_incarnation(&m, 9, 300), 0); /* unknown peer */
	assert_int_equal(m.peers[0].restarts, 1);
	assert_int_equal(m.peers[0].incarnation, 200);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_membership_steady_peers_change_nothing),
		cmocka_unit_test(test_membership_dead_gateway_routes_to_its_region),
		cmocka_unit_test(test_membership_substitute_dies_routes_back),
		cmocka_unit_test(test_membership_whole_region_dead_keeps_routes),
		cmocka_unit_test(test_membership_never_heard_waits_for_the_hard_bound),
		cmocka_unit_test(test_membership_incarnations_count_restarts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
