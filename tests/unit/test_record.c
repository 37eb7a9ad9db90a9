/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The test record (record.h): pinned bytes and CRCs (the vectors were made by
 * apps/loadgen.c's record_make() before it moved here, so the format cannot
 * drift), lengths, any fragment's bytes, corruption anywhere, and the
 * streaming check against the whole-record check for every way of cutting a
 * record (exhaustive while that is small, then bounded).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "crc32c.h"
#include "record.h"
#include "wire.h"

#define STAMP       0x0102030405060708ull
#define EXHAUST_MAX 14  /* records up to this long: every composition (2^13 cuts) */
#define CUT3_MAX    48  /* records up to this long: every cut into 1, 2 or 3 fragments */
#define RANDOM_CUTS 200 /* larger records: this many seeded random cuts */

static uint8_t rec[RG_RECORD_BYTES_MAX + 8]; /* 8: a guard after the longest record */
static uint8_t frag[RG_RECORD_BYTES_MAX];
static struct rg_record_ctx ctx;

/* Records whose bytes or CRC are pinned; bytes: the whole record, else its last 8 bytes. */
static const struct vector {
	uint64_t seed, id, seq;
	uint32_t len;
	uint64_t stamp;
	uint32_t crc;      /* the crc field (0: a record shorter than 24 bytes) */
	uint32_t crc_all;  /* CRC32C of every byte of the record, crc field included */
	const char *bytes; /* hex */
	int whole;         /* bytes is the whole record, not its last 8 bytes */
} vectors[] = {
	{ 1, 0x100000001ull, 1, 40, STAMP, 0x6fcd30be, 0x85384937,
	  "01000000010000000100000000000000" /* stream, seq */
	  "28000000be30cd6f0807060504030201" /* len, crc, stamp */
	  "f2eab323158de4bd",                /* filler */
	  1 },
	{ 1, 0x100000001ull, 1, 32, STAMP, 0x405279de, 0xe81e147e, "0807060504030201", 0 },
	{ 1, 0x100000001ull, 1, 28, STAMP, 0x6de71918, 0xa75341ce,
	  "01000000010000000100000000000000"
	  "1c0000001819e76d96704095",
	  1 },
	{ 1, 0x100000001ull, 1, 24, STAMP, 0x57dbaa96, 0x48674bc7,
	  "01000000010000000100000000000000"
	  "1800000096aadb57",
	  1 },
	{ 1, 0x100000001ull, 1, 16, STAMP, 0, 0xc8313e03, "01000000010000000100000000000000", 1 },
	{ 1, 0x100000001ull, 1, 0, STAMP, 0, 0, "", 1 },
	{ 42, 0x300000007ull, 77, 5000, 123456789, 0x5664b498, 0x6168c2e5, "fd39608cfee7b4d5", 0 },
	{ 42, 0x300000007ull, 0xffffffffffffull, 9000, 987654321, 0x32ac7dbe, 0x7c2f9936,
	  "59348fd9240f13b8", 0 },
	{ 7, 0x200000002ull, 31, RG_RECORD_BYTES_MAX, 5, 0x4bbca0bf, 0xe273771c, "4fce09143ee4733e",
	  0 },
};

static size_t
unhex(const char *s, uint8_t *out)
{
	size_t n = 0;

	for (; s[0] != '\0' && s[1] != '\0'; s += 2) {
		unsigned v;

		assert_int_equal(sscanf(s, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
	}
	return n;
}

static uint32_t
crc_field(const uint8_t *r)
{
	return (uint32_t)r[20] | (uint32_t)r[21] << 8 | (uint32_t)r[22] << 16 |
	       (uint32_t)r[23] << 24;
}

static void
test_record_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < RG_ARRAY_SIZE(vectors); i++) {
		const struct vector *v = &vectors[i];
		uint8_t want[64];
		size_t n = unhex(v->bytes, want);
		uint64_t stamp = 0;

		rg_record_init(&ctx, v->seed, 24, 24);
		memset(rec, 0xee, v->len + 8);
		rg_record_make(&ctx, v->id, v->seq, v->len, v->stamp, rec);
		assert_int_equal(rec[v->len], 0xee); /* nothing past len */
		assert_int_equal(n, v->whole ? v->len : 8);
		assert_memory_equal(rec + (v->whole ? 0 : v->len - 8), want, n);
		if (v->len >= RG_RECORD_HDR_BYTES)
			assert_int_equal(crc_field(rec), v->crc);
		if (v->len > 0)
			assert_int_equal(rg_crc32c_of(rec, v->len), v->crc_all);
		assert_int_equal(rg_record_verify(v->id, v->seq, rec, v->len, &stamp), 0);
		assert_true(stamp == (v->len >= 32 ? v->stamp : RG_RECORD_NO_STAMP));
	}
}

static void
test_record_filler_from_seed(void **state)
{
	uint64_t s = 1;

	(void)state;
	rg_record_init(&ctx, 1, 0, 0);
	for (size_t i = 0; i < RG_RECORD_FILLER_BYTES; i++)
		assert_int_equal(ctx.filler[i], (uint8_t)rg_splitmix64(&s));
	assert_int_equal(ctx.filler[131], 0x96); /* where seq 1's filler starts (record.h) */
}

static void
test_record_len_fixed_or_drawn(void **state)
{
	static const struct {
		uint64_t id, seq;
		uint32_t want;
	} drawn[] = {
		{ 0x100000001ull, 1, 2084 }, { 0x100000001ull, 2, 6268 },
		{ 0x100000001ull, 3, 5057 }, { 0x200000002ull, 1, 7423 },
		{ 0x200000002ull, 2, 3602 }, { 0x200000002ull, 3, 2299 },
	};

	(void)state;
	rg_record_init(&ctx, 42, 24, 9000);
	for (size_t i = 0; i < RG_ARRAY_SIZE(drawn); i++)
		assert_int_equal(rg_record_len(&ctx, drawn[i].id, drawn[i].seq), drawn[i].want);
	for (uint64_t seq = 1; seq < 1000; seq++) {
		uint32_t len = rg_record_len(&ctx, 0x300000003ull, seq);

		assert_true(len >= 24 && len <= 9000);
	}
	rg_record_init(&ctx, 42, 512, 0); /* bytes_max 0: fixed */
	assert_int_equal(rg_record_len(&ctx, 0x100000001ull, 7), 512);
	rg_record_init(&ctx, 42, 512, 512);
	assert_int_equal(rg_record_len(&ctx, 0x100000001ull, 7), 512);
	rg_record_init(&ctx, 42, 0, 1); /* drawn from {0, 1}: both come */
	{
		int seen[2] = { 0, 0 };

		for (uint64_t seq = 1; seq < 64; seq++)
			seen[rg_record_len(&ctx, 0x100000001ull, seq)]++;
		assert_true(seen[0] > 0 && seen[1] > 0);
	}
}

/* Every fragment [off, off + n) of a record equals the same slice of the whole record. */
static void
test_record_fragment_matches_make(void **state)
{
	static const uint32_t lens[] = { 0, 1, 16, 20, 21, 23, 24, 25, 31, 32, 33, 40, 100 };
	static const uint32_t big[] = { 4095, 4096, 4097, 9000, 70000 };

	(void)state;
	rg_record_init(&ctx, 3, 0, 0);
	for (size_t i = 0; i < RG_ARRAY_SIZE(lens); i++) {
		uint32_t len = lens[i];

		rg_record_make(&ctx, 0x100000002ull, 9, len, STAMP, rec);
		for (uint32_t off = 0; off <= len; off++)
			for (uint32_t n = 0; n <= len - off; n++) {
				rg_record_fragment(&ctx, 0x100000002ull, 9, len, STAMP, off, n,
						   frag);
				assert_memory_equal(frag, rec + off, n);
			}
	}
	for (size_t i = 0; i < RG_ARRAY_SIZE(big); i++) {
		uint32_t len = big[i];
		static const uint32_t offs[] = { 0, 19, 22, 24, 31, 32, 4095, 4096, 4120 };

		rg_record_make(&ctx, 0x100000002ull, 0xabcdef, len, STAMP, rec);
		for (size_t j = 0; j < RG_ARRAY_SIZE(offs); j++) {
			uint32_t off = RG_MIN(offs[j], len), n = RG_MIN(5000u, len - off);

			rg_record_fragment(&ctx, 0x100000002ull, 0xabcdef, len, STAMP, off, n,
					   frag);
			assert_memory_equal(frag, rec + off, n);
		}
	}
}

/* A wrong byte anywhere fails the check: header, crc, stamp, filler; short records too. */
static void
test_record_verify_corrupt_byte(void **state)
{
	static const struct {
		uint32_t len, at;
		const char *what;
	} cases[] = {
		{ 40, 0, "stream" },        { 40, 7, "stream" },
		{ 40, 8, "seq" },           { 40, 15, "seq" },
		{ 40, 16, "len" },          { 40, 20, "crc" },
		{ 40, 23, "crc" },          { 40, 24, "stamp" },
		{ 40, 31, "stamp" },        { 40, 32, "filler" },
		{ 40, 39, "filler" },       { 28, 24, "filler (no stamp)" },
		{ 28, 27, "filler" },       { 24, 21, "crc" },
		{ 23, 0, "short: stream" }, { 23, 16, "short: len" },
		{ 23, 21, "short: crc 0" }, { 16, 15, "short: seq" },
		{ 1, 0, "one byte" },       { 9000, 8999, "filler" },
		{ 9000, 4500, "filler" },
	};

	(void)state;
	rg_record_init(&ctx, 5, 0, 0);
	for (size_t i = 0; i < RG_ARRAY_SIZE(cases); i++) {
		uint64_t stamp = 77;

		rg_record_make(&ctx, 0x100000001ull, 3, cases[i].len, STAMP, rec);
		assert_int_equal(rg_record_verify(0x100000001ull, 3, rec, cases[i].len, &stamp), 0);
		rec[cases[i].at] ^= 0x10;
		stamp = 77;
		if (rg_record_verify(0x100000001ull, 3, rec, cases[i].len, &stamp) != -EBADMSG)
			fail_msg("case %zu (%s, len %u byte %u) passed", i, cases[i].what,
				 cases[i].len, cases[i].at);
		assert_int_equal(stamp, 77); /* untouched */
	}
	/* The right bytes for another (stream, seq, len) are wrong too. */
	rg_record_make(&ctx, 0x100000001ull, 3, 40, STAMP, rec);
	assert_int_equal(rg_record_verify(0x100000002ull, 3, rec, 40, &(uint64_t){ 0 }), -EBADMSG);
	assert_int_equal(rg_record_verify(0x100000001ull, 4, rec, 40, &(uint64_t){ 0 }), -EBADMSG);
	assert_int_equal(rg_record_verify(0x100000001ull, 3, rec, 39, &(uint64_t){ 0 }), -EBADMSG);
}

/* The streaming check of rec[0, len) cut at the offsets in cuts[0, ncuts) (ascending). */
static int
stream_verdict(uint64_t seq, uint32_t len, const uint32_t *cuts, unsigned ncuts, uint64_t *stamp)
{
	struct rg_record_check c;
	uint32_t from = 0;

	rg_record_check_begin(&c, 0x100000001ull, seq, len);
	for (unsigned i = 0; i <= ncuts; i++) {
		uint32_t to = i < ncuts ? cuts[i] : len;

		assert_false(rg_record_check_done(&c) && to > from);
		rg_record_check_absorb(&c, from, rec + from, to - from);
		from = to;
	}
	assert_true(rg_record_check_done(&c));
	return rg_record_check_end(&c, stamp);
}

/* Both checks on one cut: the same verdict and stamp. */
static void
agree(uint64_t seq, uint32_t len, const uint32_t *cuts, unsigned ncuts)
{
	uint64_t s1 = 1, s2 = 2;
	int full = rg_record_verify(0x100000001ull, seq, rec, len, &s1);
	int streamed = stream_verdict(seq, len, cuts, ncuts, &s2);

	if (full != streamed || (full == 0 && s1 != s2))
		fail_msg("len %u, %u cuts (first %u): full %d streamed %d", len, ncuts,
			 ncuts ? cuts[0] : 0, full, streamed);
}

/* Every composition of a short record (bit i of mask: a cut after byte i + 1). */
static void
agree_exhaustive(uint64_t seq, uint32_t len)
{
	uint32_t cuts[EXHAUST_MAX];

	for (uint32_t mask = 0; mask < (len > 1 ? 1u << (len - 1) : 1u); mask++) {
		unsigned n = 0;

		for (uint32_t b = 0; b + 1 < len; b++)
			if ((mask >> b) & 1)
				cuts[n++] = b + 1;
		agree(seq, len, cuts, n);
	}
}

/* Every cut into 1, 2 or 3 fragments, empty ones included. */
static void
agree_cut3(uint64_t seq, uint32_t len)
{
	for (uint32_t a = 0; a <= len; a++)
		for (uint32_t b = a; b <= len; b++)
			agree(seq, len, (const uint32_t[]){ a, b }, 2);
}

static void
agree_random(uint64_t seq, uint32_t len, uint64_t *rng)
{
	uint32_t cuts[16];

	for (int r = 0; r < RANDOM_CUTS; r++) {
		unsigned n = (unsigned)(rg_splitmix64(rng) % 16);
		uint32_t at = 0;

		for (unsigned i = 0; i < n; i++) {
			at += (uint32_t)(rg_splitmix64(rng) % (len / 8 + 2));
			cuts[i] = RG_MIN(at, len);
		}
		agree(seq, len, cuts, n);
	}
}

/* Right and corrupted records (a byte flipped in each region), every way of cutting them. */
static void
test_record_stream_agrees_with_full(void **state)
{
	static const uint32_t flips[] = { UINT32_MAX, 0, 9, 17, 21, 25, 33, 47 };
	static const uint32_t big[] = { 100, 1000, 4096, 9000 };
	uint64_t rng = 99;

	(void)state;
	rg_record_init(&ctx, 11, 0, 0);
	for (uint32_t len = 0; len <= CUT3_MAX; len++)
		for (size_t f = 0; f < RG_ARRAY_SIZE(flips); f++) {
			if (flips[f] != UINT32_MAX && flips[f] >= len)
				continue;
			rg_record_make(&ctx, 0x100000001ull, len + 1, len, STAMP, rec);
			if (flips[f] != UINT32_MAX)
				rec[flips[f]] ^= 0x01;
			if (len <= EXHAUST_MAX)
				agree_exhaustive(len + 1, len);
			agree_cut3(len + 1, len);
		}
	for (size_t i = 0; i < RG_ARRAY_SIZE(big); i++)
		for (size_t f = 0; f < RG_ARRAY_SIZE(flips); f++) {
			rg_record_make(&ctx, 0x100000001ull, 5, big[i], STAMP, rec);
			if (flips[f] != UINT32_MAX)
				rec[big[i] - 1 - flips[f]] ^= 0x80;
			agree_random(5, big[i], &rng);
		}
}

/* Out of place, past the end, skipped, or not all there: never a pass. */
static void
test_record_check_misuse(void **state)
{
	struct rg_record_check c;
	uint64_t stamp = 7;

	(void)state;
	rg_record_init(&ctx, 1, 0, 0);
	rg_record_make(&ctx, 0x100000001ull, 2, 64, STAMP, rec);

	rg_record_check_begin(&c, 0x100000001ull, 2, 64);
	rg_record_check_absorb(&c, 0, rec, 30);
	assert_false(rg_record_check_done(&c));
	assert_int_equal(rg_record_check_end(&c, &stamp), -ENODATA); /* not all there yet */
	rg_record_check_absorb(&c, 31, rec + 31, 33);                /* not where 30 ended */
	assert_true(rg_record_check_done(&c));
	assert_int_equal(rg_record_check_end(&c, &stamp), -EBADMSG);

	rg_record_check_begin(&c, 0x100000001ull, 2, 64);
	rg_record_check_absorb(&c, 0, rec, 65); /* past the end */
	assert_int_equal(rg_record_check_end(&c, &stamp), -EBADMSG);

	rg_record_check_begin(&c, 0x100000001ull, 2, 64);
	rg_record_check_skip(&c, 10);
	rg_record_check_absorb(&c, 10, rec + 10, 54);
	assert_true(rg_record_check_done(&c));
	assert_int_equal(rg_record_check_end(&c, &stamp), -ENODATA); /* a gap: neither */

	rg_record_check_begin(&c, 0x100000001ull, 2, 64);
	rg_record_check_absorb(&c, 0, rec, 64);
	rg_record_check_spoil(&c);
	assert_int_equal(rg_record_check_end(&c, &stamp), -EBADMSG);
	assert_int_equal(stamp, 7);

	rg_record_check_begin(&c, 0x100000001ull, 2, 0); /* an empty record is done at once */
	assert_true(rg_record_check_done(&c));
	assert_int_equal(rg_record_check_end(&c, &stamp), 0);
	assert_true(stamp == RG_RECORD_NO_STAMP);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_vectors),
		cmocka_unit_test(test_record_filler_from_seed),
		cmocka_unit_test(test_record_len_fixed_or_drawn),
		cmocka_unit_test(test_record_fragment_matches_make),
		cmocka_unit_test(test_record_verify_corrupt_byte),
		cmocka_unit_test(test_record_stream_agrees_with_full),
		cmocka_unit_test(test_record_check_misuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
