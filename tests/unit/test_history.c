/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The history checker (history.h): a table of delivery histories, each step
 * with the class it must get and each history with the counters it must end
 * with; then a seeded random history (loss, duplication, reordering,
 * corruption, restarts) under the invariants and guarantees 1-3.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "history.h"

#define ID        0x100000001ull
#define STEPS_MAX 12
#define REC_BYTES 4096
#define C(name)   RG_HISTORY_CTR_##name

enum op {
	END = 0,
	DLV,     /* deliver a fragment */
	RESTART, /* seq: applied */
	ADVANCE, /* seq: applied; rc: what it returns */
	FENCE,   /* seq: the version */
};

struct step {
	enum op op;
	uint64_t seq;
	uint32_t off, len, record_len;
	uint32_t flip; /* 1 + the byte of the record to corrupt; 0: none */
	uint32_t version;
	enum rg_history_class want;
	int rc;
};

/* A whole record, a fragment, a whole record with byte at corrupted, one of version v. */
#define WHOLE(q, l, w)                                                              \
	{                                                                           \
		.op = DLV, .seq = (q), .len = (l), .record_len = (l), .version = 1, \
		.want = RG_HISTORY_##w                                              \
	}
#define FRAG(q, o, l, rl, w)                                                                     \
	{                                                                                        \
		.op = DLV, .seq = (q), .off = (o), .len = (l), .record_len = (rl), .version = 1, \
		.want = RG_HISTORY_##w                                                           \
	}
#define BAD(q, o, l, rl, at, w)                                                    \
	{                                                                          \
		.op = DLV, .seq = (q), .off = (o), .len = (l), .record_len = (rl), \
		.flip = (at) + 1, .version = 1, .want = RG_HISTORY_##w             \
	}
#define VERS(q, l, v, w)                                                              \
	{                                                                             \
		.op = DLV, .seq = (q), .len = (l), .record_len = (l), .version = (v), \
		.want = RG_HISTORY_##w                                                \
	}
#define OP(o, a, r)                              \
	{                                        \
		.op = (o), .seq = (a), .rc = (r) \
	}

static const struct hcase {
	const char *name;
	uint64_t applied; /* where the incarnation starts */
	struct step steps[STEPS_MAX];
	uint64_t ctr[RG_HISTORY_CTR_MAX];
	uint64_t next;
} cases[] = {
	{ "in order",
	  0,
	  { WHOLE(1, 100, CHECKED), WHOLE(2, 100, CHECKED), WHOLE(3, 40, CHECKED) },
	  { [C(checked)] = 3, [C(checked_bytes)] = 240 },
	  4 },
	{ "fragments of a record",
	  0,
	  { FRAG(1, 0, 10, 100, PART), FRAG(1, 10, 20, 100, PART), FRAG(1, 30, 70, 100, CHECKED) },
	  { [C(checked)] = 1, [C(checked_bytes)] = 100 },
	  2 },
	{ "fragments cut in the header, crc and stamp",
	  0,
	  { FRAG(1, 0, 5, 40, PART), FRAG(1, 5, 17, 40, PART), FRAG(1, 22, 5, 40, PART),
	    FRAG(1, 27, 0, 40, PART), FRAG(1, 27, 13, 40, CHECKED) },
	  { [C(checked)] = 1, [C(checked_bytes)] = 40 },
	  2 },
	{ "empty records",
	  0,
	  { WHOLE(1, 0, CHECKED), WHOLE(2, 0, CHECKED), WHOLE(2, 0, DUPLICATED) },
	  { [C(checked)] = 2, [C(duplicated)] = 1 },
	  3 },
	{ "records shorter than 24 and 32 bytes",
	  0,
	  { WHOLE(1, 16, CHECKED), FRAG(2, 0, 10, 23, PART), FRAG(2, 10, 13, 23, CHECKED),
	    WHOLE(3, 1, CHECKED), WHOLE(4, 24, CHECKED), FRAG(5, 0, 22, 31, PART),
	    FRAG(5, 22, 9, 31, CHECKED), WHOLE(6, 32, CHECKED) },
	  { [C(checked)] = 6, [C(checked_bytes)] = 16 + 23 + 1 + 24 + 31 + 32 },
	  7 },
	{ "a corrupted byte in the header, crc, stamp or filler",
	  0,
	  { BAD(1, 0, 40, 40, 0, CORRUPT), BAD(2, 0, 40, 40, 9, CORRUPT),
	    BAD(3, 0, 40, 40, 17, CORRUPT), BAD(4, 0, 40, 40, 21, CORRUPT),
	    BAD(5, 0, 40, 40, 26, CORRUPT), BAD(6, 0, 40, 40, 35, CORRUPT),
	    BAD(7, 0, 16, 16, 3, CORRUPT), BAD(8, 0, 28, 28, 25, CORRUPT),
	    BAD(9, 0, 23, 23, 22, CORRUPT), WHOLE(10, 40, CHECKED) },
	  { [C(corrupt_accepted)] = 9, [C(checked)] = 1, [C(checked_bytes)] = 40 },
	  11 },
	{ "a corrupted byte in a later fragment",
	  0,
	  { FRAG(1, 0, 20, 100, PART), BAD(1, 20, 80, 100, 50, CORRUPT), WHOLE(2, 100, CHECKED) },
	  { [C(corrupt_accepted)] = 1, [C(checked)] = 1, [C(checked_bytes)] = 100 },
	  3 },
	{ "the record length changes inside a record",
	  0,
	  { FRAG(1, 0, 20, 100, PART), FRAG(1, 20, 80, 120, CORRUPT),
	    FRAG(1, 100, 20, 120, DUPLICATED) },
	  { [C(corrupt_accepted)] = 1, [C(duplicated)] = 1 },
	  2 },
	{ "a fragment past its record's end",
	  0,
	  { FRAG(1, 0, 20, 40, PART), FRAG(1, 20, 30, 40, CORRUPT), WHOLE(2, 40, CHECKED) },
	  { [C(corrupt_accepted)] = 1, [C(checked)] = 1, [C(checked_bytes)] = 40 },
	  3 },
	{ "true duplicates",
	  0,
	  { WHOLE(1, 50, CHECKED), WHOLE(2, 50, CHECKED), WHOLE(2, 50, DUPLICATED),
	    WHOLE(1, 50, DUPLICATED), FRAG(2, 10, 10, 50, DUPLICATED) },
	  { [C(checked)] = 2, [C(checked_bytes)] = 100, [C(duplicated)] = 3 },
	  3 },
	{ "a fragment before the current offset",
	  0,
	  { FRAG(1, 0, 50, 100, PART), FRAG(1, 0, 50, 100, DUPLICATED),
	    FRAG(1, 10, 20, 100, DUPLICATED), FRAG(1, 50, 50, 100, CHECKED) },
	  { [C(checked)] = 1, [C(checked_bytes)] = 100, [C(duplicated)] = 2 },
	  2 },
	{ "a gap: records skipped, the next one still checked",
	  0,
	  { WHOLE(1, 50, CHECKED), WHOLE(4, 50, CHECKED), WHOLE(5, 50, CHECKED) },
	  { [C(checked)] = 3, [C(checked_bytes)] = 150, [C(gaps)] = 1 },
	  6 },
	{ "a gap, then late arrivals (reordered) and true duplicates",
	  0,
	  { WHOLE(1, 50, CHECKED), WHOLE(5, 50, CHECKED), WHOLE(3, 50, REORDERED),
	    WHOLE(2, 50, REORDERED), WHOLE(3, 50, DUPLICATED), WHOLE(1, 50, DUPLICATED),
	    WHOLE(4, 50, REORDERED), WHOLE(5, 50, DUPLICATED), WHOLE(6, 50, CHECKED) },
	  { [C(checked)] = 3,
	    [C(checked_bytes)] = 150,
	    [C(gaps)] = 1,
	    [C(reordered)] = 3,
	    [C(duplicated)] = 3 },
	  7 },
	{ "the worked example of history.h",
	  4,
	  { WHOLE(8, 64, CHECKED), WHOLE(6, 64, REORDERED), WHOLE(6, 64, DUPLICATED),
	    WHOLE(2, 64, DUPLICATED), WHOLE(9, 64, CHECKED) },
	  { [C(checked)] = 2,
	    [C(checked_bytes)] = 128,
	    [C(gaps)] = 1,
	    [C(reordered)] = 1,
	    [C(duplicated)] = 2 },
	  10 },
	{ "a late record in fragments",
	  0,
	  { WHOLE(1, 100, CHECKED), WHOLE(4, 100, CHECKED), FRAG(2, 0, 50, 100, REORDERED),
	    FRAG(2, 50, 50, 100, REORDERED), WHOLE(2, 100, DUPLICATED),
	    FRAG(3, 0, 50, 100, REORDERED) },
	  { [C(checked)] = 2,
	    [C(checked_bytes)] = 200,
	    [C(gaps)] = 1,
	    [C(reordered)] = 3,
	    [C(duplicated)] = 1 },
	  5 },
	{ "a gap inside a record: unchecked, its missing part late",
	  0,
	  { FRAG(1, 0, 10, 100, PART), FRAG(1, 30, 70, 100, UNCHECKED),
	    FRAG(1, 10, 20, 100, REORDERED), WHOLE(2, 100, CHECKED) },
	  { [C(checked)] = 1,
	    [C(checked_bytes)] = 100,
	    [C(gaps)] = 1,
	    [C(unchecked)] = 1,
	    [C(reordered)] = 1 },
	  3 },
	{ "a gap into the middle of a later record",
	  0,
	  { WHOLE(1, 100, CHECKED), FRAG(3, 40, 30, 100, PART), FRAG(3, 0, 40, 100, REORDERED),
	    FRAG(3, 70, 30, 100, UNCHECKED), WHOLE(2, 100, REORDERED), WHOLE(4, 100, CHECKED) },
	  { [C(checked)] = 2,
	    [C(checked_bytes)] = 200,
	    [C(gaps)] = 1,
	    [C(unchecked)] = 1,
	    [C(reordered)] = 2 },
	  5 },
	{ "a gap that lost a record's tail",
	  0,
	  { FRAG(1, 0, 50, 100, PART), WHOLE(2, 100, CHECKED), FRAG(1, 50, 50, 100, REORDERED) },
	  { [C(checked)] = 1, [C(checked_bytes)] = 100, [C(gaps)] = 1, [C(reordered)] = 1 },
	  3 },
	{ "late arrivals beyond the window count as reordered",
	  0,
	  { WHOLE(1, 8, CHECKED), WHOLE(100, 8, CHECKED), WHOLE(2, 8, REORDERED),
	    WHOLE(2, 8, REORDERED), WHOLE(99, 8, REORDERED), WHOLE(99, 8, DUPLICATED),
	    WHOLE(36, 8, REORDERED), WHOLE(36, 8, DUPLICATED), WHOLE(35, 8, REORDERED),
	    WHOLE(35, 8, REORDERED) },
	  { [C(checked)] = 2,
	    [C(checked_bytes)] = 16,
	    [C(gaps)] = 1,
	    [C(reordered)] = 6,
	    [C(duplicated)] = 2 },
	  101 },
	{ "a later gap replaces the earlier one",
	  0,
	  { WHOLE(1, 8, CHECKED), WHOLE(3, 8, CHECKED), WHOLE(5, 8, CHECKED),
	    WHOLE(2, 8, DUPLICATED), WHOLE(4, 8, REORDERED) },
	  { [C(checked)] = 3,
	    [C(checked_bytes)] = 24,
	    [C(gaps)] = 2,
	    [C(reordered)] = 1,
	    [C(duplicated)] = 1 },
	  6 },
	{ "a restart: what was not applied comes again, not a duplicate",
	  0,
	  { WHOLE(1, 40, CHECKED), WHOLE(2, 40, CHECKED), WHOLE(3, 40, CHECKED), OP(RESTART, 1, 0),
	    WHOLE(2, 40, CHECKED), WHOLE(3, 40, CHECKED), WHOLE(2, 40, DUPLICATED) },
	  { [C(checked)] = 5, [C(checked_bytes)] = 200, [C(duplicated)] = 1 },
	  4 },
	{ "a restart in mid-record and after a gap",
	  0,
	  { WHOLE(1, 40, CHECKED), WHOLE(3, 40, CHECKED), FRAG(4, 0, 10, 40, PART),
	    OP(RESTART, 3, 0), WHOLE(2, 40, DUPLICATED), FRAG(4, 0, 40, 40, CHECKED) },
	  { [C(checked)] = 3, [C(checked_bytes)] = 120, [C(gaps)] = 1, [C(duplicated)] = 1 },
	  5 },
	{ "advance: applied elsewhere, no gap; never back, never in mid-record",
	  0,
	  { WHOLE(1, 40, CHECKED), OP(ADVANCE, 5, 1), WHOLE(6, 40, CHECKED), OP(ADVANCE, 3, 0),
	    FRAG(7, 0, 10, 40, PART), OP(ADVANCE, 10, 0), FRAG(7, 10, 30, 40, CHECKED),
	    WHOLE(5, 40, DUPLICATED) },
	  { [C(checked)] = 3, [C(checked_bytes)] = 120, [C(duplicated)] = 1 },
	  8 },
	{ "a fence: versions below it are stale, and it never lowers",
	  0,
	  { VERS(1, 40, 1, CHECKED), OP(FENCE, 2, 0), VERS(2, 40, 1, CHECKED),
	    VERS(3, 40, 2, CHECKED), OP(FENCE, 1, 0), VERS(4, 40, 1, CHECKED),
	    VERS(4, 40, 1, DUPLICATED), VERS(5, 40, 3, CHECKED) },
	  { [C(checked)] = 5,
	    [C(checked_bytes)] = 200,
	    [C(stale_accepted)] = 3,
	    [C(duplicated)] = 1 },
	  6 },
	{ "an incarnation that starts from an applied watermark",
	  10,
	  { WHOLE(11, 40, CHECKED), WHOLE(10, 40, DUPLICATED), WHOLE(12, 40, CHECKED) },
	  { [C(checked)] = 2, [C(checked_bytes)] = 80, [C(duplicated)] = 1 },
	  13 },
};

static uint8_t rec[REC_BYTES];
static struct rg_record_ctx ctx;

static uint64_t
stamp_of(uint64_t seq)
{
	return seq * 1000 + 7;
}

static enum rg_history_class
deliver(struct rg_history *h, struct rg_history_stream *s, const struct step *st, uint64_t *stamp)
{
	struct rg_rx_frag f = { .seq = st->seq,
				.data = rec + st->off,
				.off = st->off,
				.len = st->len,
				.record_len = st->record_len,
				.version = st->version };

	memset(rec, 0, sizeof(rec));
	rg_record_make(&ctx, ID, st->seq, st->record_len, stamp_of(st->seq), rec);
	if (st->flip != 0)
		rec[st->flip - 1] ^= 0x04;
	return rg_history_deliver(h, s, &f, stamp);
}

static void
run_case(const struct hcase *c)
{
	struct rg_history h;
	struct rg_history_stream s;

	rg_history_init(&h);
	rg_history_stream_init(&s, ID, c->applied);
	for (int i = 0; i < STEPS_MAX && c->steps[i].op != END; i++) {
		const struct step *st = &c->steps[i];
		uint64_t stamp = 0;
		int rc = 0;

		if (st->op == DLV) {
			enum rg_history_class got = deliver(&h, &s, st, &stamp);

			if (got != st->want)
				fail_msg("%s: step %d (seq %llu off %u): class %d, want %d",
					 c->name, i, (unsigned long long)st->seq, st->off, got,
					 st->want);
			if (got == RG_HISTORY_CHECKED && st->record_len >= RG_RECORD_STAMPED_MIN)
				assert_true(stamp == stamp_of(st->seq));
			else
				assert_true(stamp == RG_RECORD_NO_STAMP);
		} else if (st->op == RESTART) {
			rg_history_restart(&s, st->seq);
		} else if (st->op == ADVANCE) {
			rc = rg_history_advance(&s, st->seq);
		} else {
			rg_history_fence(&s, (uint32_t)st->seq);
		}
		if (rc != st->rc)
			fail_msg("%s: step %d: rc %d, want %d", c->name, i, rc, st->rc);
		if (rg_history_check(&s) != 0)
			fail_msg("%s: step %d: invariant %d", c->name, i, -rg_history_check(&s));
	}
	for (int k = 0; k < RG_HISTORY_CTR_MAX; k++)
		if (h.ctr[k] != c->ctr[k])
			fail_msg("%s: %s %llu, want %llu", c->name, rg_history_counter_names[k],
				 (unsigned long long)h.ctr[k], (unsigned long long)c->ctr[k]);
	if (s.next != c->next)
		fail_msg("%s: next %llu, want %llu", c->name, (unsigned long long)s.next,
			 (unsigned long long)c->next);
}

static void
test_history_cases(void **state)
{
	(void)state;
	rg_record_init(&ctx, 1, 0, 0);
	for (size_t i = 0; i < RG_ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
}

static void
test_history_counters_names_anomalies_merge(void **state)
{
	struct rg_history a, b;

	(void)state;
	assert_string_equal(rg_history_counter_names[RG_HISTORY_CTR_checked], "checked");
	assert_string_equal(rg_history_counter_names[RG_HISTORY_CTR_corrupt_accepted],
			    "corrupt_accepted");
	rg_history_init(&a);
	rg_history_init(&b);
	a.ctr[C(checked)] = 10;
	a.ctr[C(checked_bytes)] = 1000;
	a.ctr[C(unchecked)] = 1;
	assert_int_equal(rg_history_anomalies(&a), 0); /* none of those is an anomaly */
	b.ctr[C(duplicated)] = 1;
	b.ctr[C(reordered)] = 2;
	b.ctr[C(gaps)] = 4;
	b.ctr[C(corrupt_accepted)] = 8;
	b.ctr[C(stale_accepted)] = 16;
	rg_history_foreign(&b);
	assert_int_equal(rg_history_anomalies(&b), 32);
	rg_history_merge(&a, &b);
	assert_int_equal(a.ctr[C(checked)], 10);
	assert_int_equal(a.ctr[C(corrupt_accepted)], 9);
	assert_int_equal(rg_history_anomalies(&a), 32);
	assert_int_equal(rg_history_lost(10, 7), 3);
	assert_int_equal(rg_history_lost(7, 10), 0);
}

static void
test_history_check_catches_broken_state(void **state)
{
	struct rg_history_stream s;

	(void)state;
	rg_history_stream_init(&s, ID, 0);
	assert_int_equal(rg_history_check(&s), 0);
	s.next = 0;
	assert_int_equal(rg_history_check(&s), -1);
	rg_history_stream_init(&s, ID, 4);
	rg_record_check_begin(&s.rec, ID, 9, 100);
	s.rec.off = 10;
	assert_int_equal(rg_history_check(&s), -2);
	s.rec.seq = 5;
	s.rec.off = 101;
	assert_int_equal(rg_history_check(&s), -3);
	s.rec.off = 0;
	s.gap_lo = 3;
	s.gap_hi = 6;
	assert_int_equal(rg_history_check(&s), -4);
	s.gap_hi = 4;
	s.late_seen = 2; /* seq 2: outside [3, 4) */
	assert_int_equal(rg_history_check(&s), -5);
}

/*
 * A seeded random history: the producer's records cut into fragments, each
 * dropped, duplicated, held back or corrupted with some chance, and the
 * consumer restarting now and then. After every step the invariants hold;
 * a record is never checked twice in one incarnation (guarantee 3); every
 * fragment lands in one class (guarantee 1); a corrupted record is never
 * checked (guarantee 2).
 */
#define RAND_STEPS 20000
#define RAND_SEQS  400
#define HELD_MAX   8

struct rand_frag {
	uint64_t seq;
	uint32_t off, len, rlen;
	int bad;
};

/* What the random history knows of each seq: checked in this incarnation, made corrupt. */
struct rand_world {
	uint8_t checked[RAND_SEQS + 2];
	uint8_t bad[RAND_SEQS + 2];
	uint64_t classes[RG_HISTORY_REORDERED + 1];
	uint64_t frags;
};

static void
rand_deliver(struct rg_history *h, struct rg_history_stream *s, const struct rand_frag *rf,
	     struct rand_world *w)
{
	struct rg_rx_frag f = { .seq = rf->seq,
				.data = rec + rf->off,
				.off = rf->off,
				.len = rf->len,
				.record_len = rf->rlen,
				.version = 1 };
	enum rg_history_class c;
	uint64_t stamp;

	rg_record_make(&ctx, ID, rf->seq, rf->rlen, stamp_of(rf->seq), rec);
	if (rf->bad)
		rec[rf->off] ^= 0x01;
	c = rg_history_deliver(h, s, &f, &stamp);
	w->classes[c]++;
	w->frags++;
	if (c == RG_HISTORY_CHECKED) {
		assert_false(w->checked[rf->seq]); /* guarantee 3 */
		assert_false(w->bad[rf->seq]);     /* guarantee 2 */
		w->checked[rf->seq] = 1;
	}
	assert_int_equal(rg_history_check(s), 0);
}

/* The producer's next fragment of seq from off: up to 64 bytes, 2 % of them corrupted. */
static struct rand_frag
rand_make(uint64_t seq, uint32_t off, uint64_t *rng)
{
	uint64_t r = rg_splitmix64(rng);
	uint32_t rlen = (uint32_t)((seq * 37) % 300);
	struct rand_frag f = { seq, off, rlen == 0 ? 0 : RG_MIN(rlen - off, 1 + r % 64), rlen, 0 };

	f.bad = (r >> 32) % 50 == 0 && f.len > 0;
	return f;
}

static void
test_history_random(void **state)
{
	static struct rand_world w;
	struct rand_frag held[HELD_MAX];
	uint64_t rng = 2024, seq = 1, sum = 0;
	uint32_t off = 0, nheld = 0;
	struct rg_history h;
	struct rg_history_stream s;

	(void)state;
	rg_record_init(&ctx, 9, 0, 0);
	rg_history_init(&h);
	rg_history_stream_init(&s, ID, 0);
	/* Bounded: RAND_STEPS steps. */
	for (int step = 0; step < RAND_STEPS && seq <= RAND_SEQS; step++) {
		uint32_t r = (uint32_t)(rg_splitmix64(&rng) % 100);
		struct rand_frag f = rand_make(seq, off, &rng);

		w.bad[seq] |= (uint8_t)f.bad;
		if (r < 90 || nheld == HELD_MAX) { /* in order: 3 % lost, 5 % doubled */
			if (r >= 3)
				rand_deliver(&h, &s, &f, &w);
			if (r >= 85)
				rand_deliver(&h, &s, &f, &w);
		} else {
			held[nheld++] = f; /* held back: comes after later fragments */
		}
		if (nheld > 0 && r % 7 == 0)
			rand_deliver(&h, &s, &held[--nheld], &w);
		off += f.len;
		if (off >= f.rlen) {
			seq++;
			off = 0;
		}
		if (r == 99 && step % 2 == 0) { /* the consumer restarts; the producer replays */
			uint64_t back = rg_splitmix64(&rng) % 3;
			uint64_t applied = s.next - 1 > back ? s.next - 1 - back : 0;

			rg_history_restart(&s, applied);
			memset(w.checked, 0, sizeof(w.checked));
			memset(w.bad + applied + 1, 0,
			       sizeof(w.bad) - applied - 1); /* made again */
			seq = applied + 1;
			off = 0;
		}
	}
	for (int c = 0; c <= RG_HISTORY_REORDERED; c++) {
		if (w.classes[c] == 0)
			fail_msg("class %d never happened: the random history is too tame", c);
		sum += w.classes[c];
	}
	/* Guarantee 1: every fragment got one class, and the counters say the same. */
	assert_int_equal(sum, w.frags);
	assert_int_equal(w.classes[RG_HISTORY_DUPLICATED], h.ctr[C(duplicated)]);
	assert_int_equal(w.classes[RG_HISTORY_REORDERED], h.ctr[C(reordered)]);
	assert_int_equal(w.classes[RG_HISTORY_CORRUPT], h.ctr[C(corrupt_accepted)]);
	assert_int_equal(w.classes[RG_HISTORY_CHECKED], h.ctr[C(checked)]);
	assert_int_equal(w.classes[RG_HISTORY_UNCHECKED], h.ctr[C(unchecked)]);
	assert_true(h.ctr[C(gaps)] > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_history_cases),
		cmocka_unit_test(test_history_counters_names_anomalies_merge),
		cmocka_unit_test(test_history_check_catches_broken_state),
		cmocka_unit_test(test_history_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
