/* SPDX-License-Identifier: Apache-2.0 */
/* The test record (record.h): making it, any fragment of it, and checking it. */
#include <errno.h>
#include <string.h>

#include "crc32c.h"
#include "record.h"
#include "wire.h"

#define FILLER_STEP 131 /* record seq's filler starts at (seq * 131) % 4096 */

void
rg_record_init(struct rg_record_ctx *ctx, uint64_t seed, uint32_t bytes_min, uint32_t bytes_max)
{
	uint64_t s = seed;

	ctx->seed = seed;
	ctx->bytes_min = bytes_min;
	ctx->bytes_max = bytes_max;
	for (size_t i = 0; i < RG_RECORD_FILLER_BYTES; i++)
		ctx->filler[i] = (uint8_t)rg_splitmix64(&s);
}

uint32_t
rg_record_len(const struct rg_record_ctx *ctx, uint64_t id, uint64_t seq)
{
	uint64_t h = id * 0x9e3779b97f4a7c15ull ^ seq ^ ctx->seed;

	if (ctx->bytes_max <= ctx->bytes_min)
		return ctx->bytes_min;
	return ctx->bytes_min +
	       (uint32_t)(rg_splitmix64(&h) % (ctx->bytes_max - ctx->bytes_min + 1));
}

/* The header's first 24 bytes with crc 0: {stream, seq, len, 0}. */
static void
header_put(uint8_t hdr[RG_RECORD_HDR_BYTES], uint64_t id, uint64_t seq, uint32_t len)
{
	rg_wire_put_le64(hdr, id);
	rg_wire_put_le64(hdr + 8, seq);
	rg_wire_put_le32(hdr + 16, len);
	rg_wire_put_le32(hdr + RG_RECORD_CRC_OFF, 0);
}

/*
 * Copies n filler bytes of record seq starting at filler position pos (byte
 * 24 + pos of the record) to out. Bounded: n / 4096 + 2 copies.
 *
 * The empty asm hides k's bound (4096) from the compiler: knowing it, GCC
 * inlines the copy as rep movsq, which made rg_record_make() twice as slow
 * as libc's memcpy here (203 against 96 ns for a 1 KiB record).
 */
static void
filler_copy(const struct rg_record_ctx *ctx, uint64_t seq, uint32_t pos, uint32_t n, uint8_t *out)
{
	uint32_t at = (uint32_t)((seq * FILLER_STEP + pos) % RG_RECORD_FILLER_BYTES);

	while (n > 0) {
		uint32_t k = RG_MIN(n, RG_RECORD_FILLER_BYTES - at);

		__asm__("" : "+r"(k));
		memcpy(out, ctx->filler + at, k);
		out += k;
		n -= k;
		at = 0;
	}
}

void
rg_record_make(const struct rg_record_ctx *ctx, uint64_t id, uint64_t seq, uint32_t len,
	       uint64_t stamp, uint8_t *out)
{
	uint8_t hdr[RG_RECORD_HDR_BYTES];
	uint32_t crc;

	RG_ASSERT(len <= RG_RECORD_BYTES_MAX);
	header_put(hdr, id, seq, len);
	if (len < RG_RECORD_HDR_BYTES) {
		memcpy(out, hdr, len);
		return;
	}
	memcpy(out, hdr, RG_RECORD_HDR_BYTES);
	filler_copy(ctx, seq, 0, len - RG_RECORD_HDR_BYTES, out + RG_RECORD_HDR_BYTES);
	if (len >= RG_RECORD_STAMPED_MIN)
		rg_wire_put_le64(out + RG_RECORD_STAMP_OFF, stamp);
	crc = rg_crc32c(RG_CRC32C_INIT, out, RG_RECORD_CRC_OFF);
	crc = rg_crc32c(crc, out + RG_RECORD_HDR_BYTES, len - RG_RECORD_HDR_BYTES);
	rg_wire_put_le32(out + RG_RECORD_CRC_OFF, rg_crc32c_final(crc));
}

/*
 * The crc of a record of len >= 24 bytes whose first 32 bytes (or len, if
 * fewer) are head, made without the record: a CRC over head, then over the
 * filler in place. Bounded: len / 4096 + 2 CRC calls.
 */
static uint32_t
crc_of(const struct rg_record_ctx *ctx, uint64_t seq, uint32_t len, const uint8_t *head)
{
	uint32_t head_end = RG_MIN(len, (uint32_t)RG_RECORD_STAMPED_MIN);
	uint32_t crc = rg_crc32c(RG_CRC32C_INIT, head, RG_RECORD_CRC_OFF);
	uint32_t pos = head_end - RG_RECORD_HDR_BYTES, n = len - head_end;
	uint32_t at = (uint32_t)((seq * FILLER_STEP + pos) % RG_RECORD_FILLER_BYTES);

	crc = rg_crc32c(crc, head + RG_RECORD_HDR_BYTES, head_end - RG_RECORD_HDR_BYTES);
	while (n > 0) {
		uint32_t k = RG_MIN(n, RG_RECORD_FILLER_BYTES - at);

		crc = rg_crc32c(crc, ctx->filler + at, k);
		n -= k;
		at = 0;
	}
	return rg_crc32c_final(crc);
}

void
rg_record_fragment(const struct rg_record_ctx *ctx, uint64_t id, uint64_t seq, uint32_t len,
		   uint64_t stamp, uint32_t off, uint32_t n, uint8_t *out)
{
	uint8_t head[RG_RECORD_STAMPED_MIN];
	uint32_t head_end = RG_MIN(len, (uint32_t)RG_RECORD_STAMPED_MIN), end = off + n;

	RG_ASSERT(len <= RG_RECORD_BYTES_MAX && off <= len && n <= len - off);
	/* The first 32 bytes (fewer in a short record) are made whole; the rest is filler. */
	header_put(head, id, seq, len);
	if (len >= RG_RECORD_HDR_BYTES)
		filler_copy(ctx, seq, 0, head_end - RG_RECORD_HDR_BYTES,
			    head + RG_RECORD_HDR_BYTES);
	if (len >= RG_RECORD_STAMPED_MIN)
		rg_wire_put_le64(head + RG_RECORD_STAMP_OFF, stamp);
	/* Only a fragment that holds a byte of the crc field pays for the CRC pass. */
	if (len >= RG_RECORD_HDR_BYTES && off < RG_RECORD_HDR_BYTES && end > RG_RECORD_CRC_OFF)
		rg_wire_put_le32(head + RG_RECORD_CRC_OFF, crc_of(ctx, seq, len, head));
	if (off < head_end) {
		uint32_t k = RG_MIN(end, head_end) - off;

		memcpy(out, head + off, k);
		out += k;
		off += k;
	}
	if (off < end)
		filler_copy(ctx, seq, off - RG_RECORD_HDR_BYTES, end - off, out);
}

/*
 * The verdict on a record of len bytes whose first 32 bytes (fewer in a short
 * record) are head and whose bytes but the crc field have CRC crc (finalized).
 */
static int
verdict(uint64_t id, uint64_t seq, uint32_t len, const uint8_t *head, uint32_t crc, uint64_t *stamp)
{
	uint8_t want[RG_RECORD_HDR_BYTES];

	header_put(want, id, seq, len);
	if (len < RG_RECORD_HDR_BYTES) {
		if (memcmp(want, head, len) != 0)
			return -EBADMSG;
		*stamp = RG_RECORD_NO_STAMP;
		return 0;
	}
	if (memcmp(want, head, RG_RECORD_CRC_OFF) != 0 ||
	    rg_wire_get_le32(head + RG_RECORD_CRC_OFF) != crc)
		return -EBADMSG;
	*stamp = len >= RG_RECORD_STAMPED_MIN ? rg_wire_get_le64(head + RG_RECORD_STAMP_OFF)
					      : RG_RECORD_NO_STAMP;
	return 0;
}

int
rg_record_verify(uint64_t id, uint64_t seq, const uint8_t *rec, uint32_t len, uint64_t *stamp)
{
	uint32_t crc = 0;

	if (len >= RG_RECORD_HDR_BYTES) {
		crc = rg_crc32c(RG_CRC32C_INIT, rec, RG_RECORD_CRC_OFF);
		crc = rg_crc32c_final(
		    rg_crc32c(crc, rec + RG_RECORD_HDR_BYTES, len - RG_RECORD_HDR_BYTES));
	}
	return verdict(id, seq, len, rec, crc, stamp);
}

/* ---- the streaming check ---- */

void
rg_record_check_begin(struct rg_record_check *c, uint64_t id, uint64_t seq, uint32_t len)
{
	memset(c, 0, sizeof(*c));
	c->id = id;
	c->seq = seq;
	c->len = len;
	c->crc = RG_CRC32C_INIT;
}

void
rg_record_check_absorb(struct rg_record_check *c, uint32_t off, const uint8_t *data, uint32_t n)
{
	uint32_t end = off + n;

	if (off != c->off || n > c->len - c->off) {
		c->spoiled = 1;
		return;
	}
	/* Bounded: at most 32 bytes of header and stamp are kept. */
	for (uint32_t o = off; o < RG_MIN(end, (uint32_t)RG_RECORD_STAMPED_MIN); o++)
		c->hdr[o] = data[o - off];
	if (off < RG_RECORD_CRC_OFF)
		c->crc = rg_crc32c(c->crc, data, RG_MIN(end, (uint32_t)RG_RECORD_CRC_OFF) - off);
	if (end > RG_RECORD_HDR_BYTES) {
		uint32_t from = RG_MAX(off, (uint32_t)RG_RECORD_HDR_BYTES);

		c->crc = rg_crc32c(c->crc, data + (from - off), end - from);
	}
	c->off = end;
}

void
rg_record_check_skip(struct rg_record_check *c, uint32_t to)
{
	if (to <= c->off)
		return;
	c->skipped = 1;
	c->off = RG_MIN(to, c->len);
}

int
rg_record_check_end(const struct rg_record_check *c, uint64_t *stamp)
{
	if (c->spoiled)
		return -EBADMSG;
	if (c->skipped || c->off < c->len)
		return -ENODATA;
	return verdict(c->id, c->seq, c->len, c->hdr, rg_crc32c_final(c->crc), stamp);
}
