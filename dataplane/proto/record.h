/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The test record: what the load generator makes, what the verifying
 * consumer and the kernel-TCP baseline check, and what the simulator can
 * check. Pure (libc only): a record's bytes are a function of (stream, seq,
 * length, stamp) and of a run's seed, so a producer keeps no payloads (a
 * replay makes the same bytes again) and a consumer checks a record with one
 * CRC, or compares any fragment with the bytes it should hold.
 *
 * Layout of a record of len >= 32 bytes, every field little-endian:
 *
 *    0        8        16       20       24       32                  len
 *    +--------+--------+--------+--------+--------+-------------------+
 *    | stream | seq    | len    | crc    | stamp  | filler ...        |
 *    | u64    | u64    | u32    | u32    | u64    |                   |
 *    +--------+--------+--------+--------+--------+-------------------+
 *     \______ the header: RG_RECORD_HDR_BYTES ___/
 *
 *   - byte o >= 24 is filler[(seq * 131 + o - 24) % 4096], where filler is
 *     4096 bytes, byte i the low byte of the (i + 1)-th rg_splitmix64() of
 *     the seed; for a record of 32 bytes or more the stamp (the caller's
 *     creation or schedule time, ns) overwrites bytes 24..32;
 *   - crc is CRC32C of every byte but its own four: [0, 20) then [24, len);
 *   - a record of 24..31 bytes has the header and filler, no stamp; one
 *     shorter than 24 bytes is the first len bytes of the header with crc 0
 *     (an empty record has no bytes): it has no CRC, so checking it means
 *     comparing all of its bytes.
 *
 * Worked example (test_record.c pins it): seed 1, stream 0x100000001, seq 1,
 * so the filler starts at filler[131] = 96 70 40 95 d6 d2 13 ec f2 ea ...
 *   len 40, stamp 0x0102030405060708:
 *     01 00 00 00 01 00 00 00  01 00 00 00 00 00 00 00   stream, seq
 *     28 00 00 00 be 30 cd 6f  08 07 06 05 04 03 02 01   len, crc 0x6fcd30be, stamp
 *     f2 ea b3 23 15 8d e4 bd                            filler[139, 147)
 *   len 28: the header (len 1c, crc 0x6de71918), then filler[131, 135) =
 *     96 70 40 95, no stamp;
 *   len 16: 01 00 00 00 01 00 00 00  01 00 00 00 00 00 00 00, no crc.
 *
 * Cost (perf/bench/bench_record.c, `rg-bench --benchmark_filter=^record/`,
 * this 2.3 GHz VM with SSE4.2 CRC32C; medians of 5):
 *   rg_record_make()      ≈ 20 ns + 0.07 ns/byte (25 ns at 64 B, 99 ns at
 *                         1 KiB, 290 ns at 4 KiB): a copy and a CRC pass; the
 *                         same as the load generator's own make before it
 *   rg_record_verify()    ≈ 10 ns + 0.05 ns/byte (53 ns at 1 KiB, 210 ns at
 *                         4 KiB): one CRC pass, no copy
 *   the streaming check   as verify with the record in one fragment; ≈ 0.09
 *                         ns/byte in 1400-byte fragments (371 ns at 4 KiB:
 *                         CRC32C's 3-way path wants long buffers)
 *   rg_record_fragment()  a copy (23 ns for 1400 bytes of filler), plus a
 *                         CRC pass over the whole record when the fragment
 *                         holds a byte of the crc field (it must know it)
 *
 * Contract: nothing here allocates. rg_record_make() and rg_record_fragment()
 * assert their lengths (a bad one is the caller's bug); the checks take any
 * input, since they face corrupted data, and never read past what they are
 * given.
 */
#ifndef RG_PROTO_RECORD_H
#define RG_PROTO_RECORD_H

#include <stdint.h>

#include "common.h"

#define RG_RECORD_HDR_BYTES    24 /* {stream, seq, len, crc} */
#define RG_RECORD_CRC_OFF      20
#define RG_RECORD_STAMP_OFF    24
#define RG_RECORD_STAMPED_MIN  32 /* records this long or longer carry their stamp */
#define RG_RECORD_FILLER_BYTES 4096
#define RG_RECORD_NO_STAMP     UINT64_MAX /* what a record shorter than 32 bytes carries */

/* A run's record format: its seed's filler and its size range. Read-only after init. */
struct rg_record_ctx {
	uint64_t seed;
	uint32_t bytes_min, bytes_max; /* bytes_max <= bytes_min: every record is bytes_min */
	uint8_t filler[RG_RECORD_FILLER_BYTES];
};

void rg_record_init(struct rg_record_ctx *ctx, uint64_t seed, uint32_t bytes_min,
		    uint32_t bytes_max);

/* Record (id, seq)'s length: bytes_min, or drawn in [bytes_min, bytes_max] from (id, seq, seed). */
uint32_t rg_record_len(const struct rg_record_ctx *ctx, uint64_t id, uint64_t seq);

/* Writes record (id, seq) of len bytes, stamped with stamp when len >= 32, to out[0, len). */
void rg_record_make(const struct rg_record_ctx *ctx, uint64_t id, uint64_t seq, uint32_t len,
		    uint64_t stamp, uint8_t *out);

/*
 * Writes bytes [off, off + n) of that record to out[0, n) without making the
 * rest: what a fragment must hold, for a checker that compares bytes. Equal
 * to the same slice of rg_record_make()'s output. off + n <= len.
 */
void rg_record_fragment(const struct rg_record_ctx *ctx, uint64_t id, uint64_t seq, uint32_t len,
			uint64_t stamp, uint32_t off, uint32_t n, uint8_t *out);

/*
 * Checks a whole record: 0 when rec[0, len) is record (id, seq) of len bytes
 * (header and crc; a record shorter than 24 bytes byte for byte), with
 * *stamp set to its stamp (RG_RECORD_NO_STAMP when len < 32); -EBADMSG when
 * it is not (*stamp untouched). Needs no seed: the crc speaks for the filler.
 */
int rg_record_verify(uint64_t id, uint64_t seq, const uint8_t *rec, uint32_t len, uint64_t *stamp);

/*
 * The streaming check: the same verdict as rg_record_verify() from the
 * record's fragments, absorbed in order, with no copy of the record.
 *   begin(id, seq, len) ... absorb(off, data, n) ... end(&stamp)
 * A fragment that does not start where the last one ended, or that runs past
 * len, spoils the record (the rest of it cannot be placed): end() says
 * -EBADMSG. skip() records that [off, to) will never come (a gap): end() says
 * -ENODATA, neither right nor wrong.
 */
struct rg_record_check {
	uint64_t id, seq;
	uint32_t len;    /* the record's length, from begin() */
	uint32_t off;    /* bytes [0, off) were absorbed or skipped */
	uint32_t crc;    /* CRC32C (not finalized) of the absorbed bytes of [0, 20) and [24, off) */
	uint8_t spoiled; /* a fragment out of place or out of bounds, or spoil() */
	uint8_t skipped; /* some bytes never came */
	uint8_t hdr[RG_RECORD_STAMPED_MIN]; /* bytes [0, 32) as absorbed: header and stamp */
};

void rg_record_check_begin(struct rg_record_check *c, uint64_t id, uint64_t seq, uint32_t len);
void rg_record_check_absorb(struct rg_record_check *c, uint32_t off, const uint8_t *data,
			    uint32_t n);
void rg_record_check_skip(struct rg_record_check *c, uint32_t to);

/* The caller saw the record's metadata disagree (a fragment's record length): it is wrong. */
static inline void
rg_record_check_spoil(struct rg_record_check *c)
{
	c->spoiled = 1;
}

/* Every byte was absorbed or skipped, or the record is spoiled: end() has the verdict. */
static inline int
rg_record_check_done(const struct rg_record_check *c)
{
	return c->off >= c->len || c->spoiled;
}

/*
 * The verdict: 0 when every byte came and the record is right (*stamp as
 * rg_record_verify()); -EBADMSG when it is wrong, or spoiled; -ENODATA when
 * bytes were skipped or have not come yet (nothing is known). Only 0 sets
 * *stamp.
 */
int rg_record_check_end(const struct rg_record_check *c, uint64_t *stamp);

#endif /* RG_PROTO_RECORD_H */
