/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The producer's publish: the per-stream window, a full ring, the bounded wait.
 * Rings work on plain memory without the EAL; an mbuf here is a plain struct
 * with its data room after it (only mtod and data_len are used).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "publish.h"
#include "worker.h"

#define STREAM 0x100000001ull
#define MS     1000000ull

struct fake {
	struct rte_mbuf m;
	uint8_t room[64];
};

static struct rte_ring *
ring_of(unsigned count)
{
	ssize_t sz = rte_ring_get_memsize(count);
	struct rte_ring *r = aligned_alloc(64, (size_t)((sz + 63) / 64 * 64));

	assert_non_null(r);
	assert_int_equal(rte_ring_init(r, "t", count, RING_F_SP_ENQ | RING_F_SC_DEQ), 0);
	return r;
}

static struct rte_mbuf *
record(struct fake *f, uint64_t stream, uint64_t seq)
{
	struct rg_ingress_hdr h = { .stream = stream, .seq = seq, .version = 1, .len = 0 };

	memset(f, 0, sizeof(*f));
	f->m.buf_addr = f->room;
	f->m.data_off = 0;
	f->m.data_len = sizeof(h);
	memcpy(f->room, &h, sizeof(h));
	return &f->m;
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
test_publish_window_and_ring(void **state)
{
	struct rte_ring *r = ring_of(8); /* holds 7 */
	struct rg_pub_stream s;
	struct fake f[16];
	void *out;
	unsigned taken = 0;

	(void)state;
	rg_pub_stream_init(&s, STREAM, 1, 4);
	for (uint64_t seq = 1; seq <= 4; seq++)
		assert_int_equal(rg_publish(r, &s, record(&f[seq], STREAM, seq)), 0);
	/* The window: 4 unacked. */
	assert_int_equal(rg_publish(r, &s, record(&f[5], STREAM, 5)), -EAGAIN);
	assert_int_equal(s.next, 5);
	/* Not the next record, or another stream's: refused, whatever the window. */
	assert_int_equal(rg_publish(r, &s, record(&f[6], STREAM, 6)), -EINVAL);
	assert_int_equal(rg_publish(r, &s, record(&f[6], STREAM + 1, 5)), -EINVAL);
	rg_pub_acked(&s, 2);
	rg_pub_acked(&s, 1); /* late and smaller: no effect */
	assert_int_equal(rg_publish(r, &s, record(&f[5], STREAM, 5)), 0);
	assert_int_equal(rg_publish(r, &s, record(&f[6], STREAM, 6)), 0);
	assert_int_equal(rg_publish(r, &s, record(&f[7], STREAM, 7)), -EAGAIN);
	/* The ring: 6 of 7 used; acks open the window, the ring then refuses at 7 + 1. */
	rg_pub_acked(&s, 100);
	assert_int_equal(rg_publish(r, &s, record(&f[7], STREAM, 7)), 0);
	assert_int_equal(rg_publish(r, &s, record(&f[8], STREAM, 8)), -EAGAIN);
	while (rte_ring_dequeue(r, &out) == 0) {
		const struct rg_ingress_hdr *h = rte_pktmbuf_mtod((struct rte_mbuf *)out, void *);

		assert_int_equal(h->seq, ++taken); /* in order, each once */
	}
	assert_int_equal(taken, 7);
	free(r);
}

static void
test_publish_wait_times_out(void **state)
{
	struct rte_ring *r = ring_of(8);
	struct rg_pub_stream s;
	struct fake f;
	uint64_t t0, dt;

	(void)state;
	rg_pub_stream_init(&s, STREAM, 10, 0); /* a window of 0: nothing may go */
	t0 = mono_ns();
	assert_int_equal(rg_publish_wait(r, &s, record(&f, STREAM, 10), 20 * MS), -ETIMEDOUT);
	dt = mono_ns() - t0;
	assert_true(dt >= 20 * MS);
	assert_true(dt < 2000 * MS); /* bounded: a loaded machine may be late, not forever */
	assert_int_equal(rte_ring_count(r), 0);
	assert_int_equal(rg_publish_wait(r, &s, record(&f, STREAM, 11), 20 * MS), -EINVAL);
	free(r);
}

struct acker {
	struct rg_pub_stream *s;
	int go;
};

static void *
ack_when_asked(void *arg)
{
	struct acker *a = arg;

	/* Bounded: the main thread sets go right before it starts waiting. */
	while (!__atomic_load_n(&a->go, __ATOMIC_ACQUIRE))
		;
	rg_pub_acked(a->s, 10);
	return NULL;
}

static void
test_publish_wait_succeeds_when_acked(void **state)
{
	struct rte_ring *r = ring_of(8);
	struct rg_pub_stream s;
	struct acker a = { &s, 0 };
	struct fake f;
	pthread_t t;

	(void)state;
	rg_pub_stream_init(&s, STREAM, 10, 0);
	assert_int_equal(pthread_create(&t, NULL, ack_when_asked, &a), 0);
	__atomic_store_n(&a.go, 1, __ATOMIC_RELEASE);
	assert_int_equal(rg_publish_wait(r, &s, record(&f, STREAM, 10), 5000 * MS), 0);
	pthread_join(t, NULL);
	assert_int_equal(rte_ring_count(r), 1);
	assert_int_equal(s.next, 11);
	free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_publish_window_and_ring),
		cmocka_unit_test(test_publish_wait_times_out),
		cmocka_unit_test(test_publish_wait_succeeds_when_acked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
