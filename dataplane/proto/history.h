/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The history checker: what a consumer got, checked against DESIGN §3's
 * order, exactly-once and integrity guarantees (1, 2, 3 and 6), one stream
 * and one consumer incarnation at a time. Pure; the verifying consumer
 * (apps/loadgen.c), the kernel-TCP baseline (perf/tcp_relay.c) and the
 * simulator feed it the fragments they were handed, in the order they were
 * handed them, and read its counters.
 *
 * A stream's state is a struct rg_history_stream (the caller keeps one per
 * stream, wherever it likes); the counters are a struct rg_history, shared by
 * as many streams as the caller wants (a consumer, a lane).
 *
 * The cases for a fragment (seq, off, len, record_len, version, data), with
 * next the seq expected and cur the bytes of it already taken, in the order
 * handled:
 *   1. seq < next, or seq == next and off < cur: it came before. If its seq
 *      is one the last gap skipped (all of it, or the start of it) and it was
 *      not seen since, it is reordered: it arrived after a later record.
 *      Otherwise it is duplicated. Neither is absorbed.
 *   2. seq > next, or off > cur: something was skipped: one gap. The checker
 *      realigns on the fragment (next = seq, cur = off) and goes on as in 3,
 *      so the rest of the history is still checked; a record entered past
 *      its offset 0 cannot be checked (it completes unchecked).
 *   3. seq == next and off == cur: expected. Its bytes are absorbed into the
 *      record's streaming check (record.h); when the record's last byte is
 *      in, the record is checked (every byte right) or corrupt_accepted (a
 *      wrong byte, a wrong length, a fragment past its end), and next moves
 *      to seq + 1.
 *   And, whatever the case: a fragment whose version is below the stream's
 *   fence (rg_history_fence) is also counted stale_accepted.
 *
 * Worked example (test_history.c, "gap then late"): next = 5; seq 8 comes:
 * one gap, the gap skipped [5, 8), next = 9 once 8 is whole. Then 6 comes:
 * reordered (first time); 6 again: duplicated; 2 comes: duplicated (before
 * the gap); 9: expected.
 *
 * Guarantees:
 *   1. Every fragment lands in exactly one of: expected (taken by its
 *      record), duplicated, reordered. A gap is counted once, at the
 *      fragment that shows it, which is then expected.
 *   2. A record is checked only if all of its bytes came in this
 *      incarnation, in order from offset 0, with one record length, and
 *      record.h's check says it is record (stream, seq, len): its header,
 *      and its CRC32C over filler and stamp (all bytes of a record shorter
 *      than 24). A wrong byte anywhere makes it corrupt_accepted (for a
 *      record of 24 bytes or more, but for CRC32C's 2^-32 chance). The
 *      checker knows a record's length only from its fragments and its
 *      header, which holds it from 20 bytes on: a caller that knows the
 *      lengths the producer made (and the versions) compares them itself.
 *   3. A record completes at most once per incarnation: next then moves past
 *      it, so any later copy of it is duplicated or reordered, never taken.
 *   4. Nothing before next, or before the current offset, is ever absorbed.
 *   5. Bounded memory, independent of the history's length: reordered and
 *      duplicated are told apart exactly for whole records among the last
 *      RG_HISTORY_LATE_SEQS seqs the last gap skipped; an earlier seq of that
 *      gap, or any part of a record the gap cut into, counts as reordered; a
 *      seq outside that gap (an earlier gap's) as duplicated.
 *   6. After rg_history_restart(s, applied), seq applied + 1 is expected:
 *      what an earlier incarnation got but did not apply comes again and is
 *      not a duplicate.
 *   7. O(1) work per fragment plus one CRC pass over its bytes: ≈ 5 ns a
 *      fragment over record.h's streaming check (bench record/history: 88
 *      ns for a 1 KiB record, 333 ns for 4 KiB in 1400-byte fragments).
 *   lost is the caller's to count (made vs applied at the end):
 *   rg_history_lost().
 *
 * Invariants (rg_history_check):
 *   1. next >= 1 (seqs start at 1).
 *   2. While a record is in progress (rec.off > 0) it is seq next.
 *   3. rec.off <= rec.len.
 *   4. gap_lo <= gap_hi <= next, or next + 1 while a record is in progress
 *      (the gap skipped the start of seq next).
 *   5. late_seen names only seqs of [gap_lo, gap_hi).
 */
#ifndef RG_PROTO_HISTORY_H
#define RG_PROTO_HISTORY_H

#include <stdint.h>

#include "common.h"
#include "record.h"
#include "reorder.h"

#define RG_HISTORY_LATE_SEQS 64 /* bits of late_seen */

/*
 * X-macro: name, 1 if it is an anomaly (a correct system keeps it at 0).
 * Fragments are counted for duplicated, reordered and stale_accepted;
 * records for checked, unchecked and corrupt_accepted; skips for gaps.
 */
#define RG_HISTORY_COUNTERS(X) \
	X(checked, 0)          \
	X(checked_bytes, 0)    \
	X(unchecked, 0)        \
	X(duplicated, 1)       \
	X(reordered, 1)        \
	X(gaps, 1)             \
	X(corrupt_accepted, 1) \
	X(stale_accepted, 1)

enum rg_history_counter {
#define RG_X(name, anomaly) RG_HISTORY_CTR_##name,
	RG_HISTORY_COUNTERS(RG_X)
#undef RG_X
	RG_HISTORY_CTR_MAX
};

extern const char *const rg_history_counter_names[RG_HISTORY_CTR_MAX];

/* The counters of the streams that share it. Plain memory: one writer. */
struct rg_history {
	uint64_t ctr[RG_HISTORY_CTR_MAX];
};

/* One stream in one consumer incarnation. */
struct rg_history_stream {
	uint64_t id;
	uint64_t next;              /* the seq expected */
	uint64_t gap_lo, gap_hi;    /* the seqs [gap_lo, gap_hi) the last gap skipped, in part */
	uint64_t late_seen;         /* bit i: the end of seq gap_hi - 1 - i came late */
	uint32_t version_min;       /* the fence: versions below it are stale */
	struct rg_record_check rec; /* seq next's check; rec.off is cur */
};

/* What a fragment was (the cases above). */
enum rg_history_class {
	RG_HISTORY_PART,       /* expected; its record is not complete yet */
	RG_HISTORY_CHECKED,    /* expected, and it completed a record that is right */
	RG_HISTORY_CORRUPT,    /* expected, and it completed a record that is wrong */
	RG_HISTORY_UNCHECKED,  /* expected, and it completed a record a gap cut into */
	RG_HISTORY_DUPLICATED, /* came before and was taken */
	RG_HISTORY_REORDERED,  /* came after a later record */
};

static inline int
rg_history_completes(enum rg_history_class c)
{
	return c == RG_HISTORY_CHECKED || c == RG_HISTORY_CORRUPT || c == RG_HISTORY_UNCHECKED;
}

void rg_history_init(struct rg_history *h);

/* Stream id's checker for a consumer that has applied every seq <= applied (0: none). */
void rg_history_stream_init(struct rg_history_stream *s, uint64_t id, uint64_t applied);

/*
 * Classifies fragment f of s's stream, counts it in h and returns its class.
 * *stamp is the record's stamp when the class is RG_HISTORY_CHECKED and the
 * record is 32 bytes or more, else RG_RECORD_NO_STAMP. f->data holds f->len
 * bytes; f->handle is not used.
 */
enum rg_history_class rg_history_deliver(struct rg_history *h, struct rg_history_stream *s,
					 const struct rg_rx_frag *f, uint64_t *stamp);

/*
 * The consumer restarted and lost what it had not applied: the new
 * incarnation expects applied + 1 and forgets the last gap. The fence stays.
 */
void rg_history_restart(struct rg_history_stream *s, uint64_t applied);

/*
 * The stream was applied up to applied elsewhere (another consumer of the
 * region took it over, then gave it back): when that is ahead of next and no
 * record is in progress, continue at applied + 1 without a gap. Returns 1 if
 * it moved, 0 if not.
 */
int rg_history_advance(struct rg_history_stream *s, uint64_t applied);

/* No version below version may be delivered from now on (DESIGN §3.3). Only raises. */
void rg_history_fence(struct rg_history_stream *s, uint32_t version);

/* A delivery for a stream that is not ours: its id got past every check. corrupt_accepted. */
static inline void
rg_history_foreign(struct rg_history *h)
{
	h->ctr[RG_HISTORY_CTR_corrupt_accepted]++;
}

/* The sum of the anomalies: 0 when the history is clean. */
uint64_t rg_history_anomalies(const struct rg_history *h);

/* Adds src's counters to dst's (lanes checked apart, reported together). */
void rg_history_merge(struct rg_history *dst, const struct rg_history *src);

/* Records a producer made that its consumer never applied: made - applied, or 0. */
static inline uint64_t
rg_history_lost(uint64_t made, uint64_t applied)
{
	return made > applied ? made - applied : 0;
}

/* 0 when s keeps the invariants above, else minus the number of the first one it breaks. */
int rg_history_check(const struct rg_history_stream *s);

#endif /* RG_PROTO_HISTORY_H */
