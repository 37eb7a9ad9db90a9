/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RGP v1 codec: round trips of the header and every frame, every malformed
 * case with its own drop reason, the encoders' room checks, and packet number
 * reconstruction around the 2^32 wrap.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "crc32c.h"
#include "wire.h"

#define BUF_BYTES (RG_PKT_BYTES_MAX + 64)

static const struct rg_hdr test_hdr = {
	.type = RG_PKT_FRAMES,
	.lane = 3,
	.src_gw = 0x0207,
	.pn32 = 0x01020304u,
	.src_inc = 0x1111222233334444ull,
	.dst_inc = 0x5555666677778888ull,
};

/* Starts a packet with test_hdr; returns the header length. */
static size_t
put_test_hdr(uint8_t *buf)
{
	size_t n = rg_wire_put_hdr(buf, BUF_BYTES, &test_hdr);

	assert_int_equal(n, RG_HDR_BYTES);
	return n;
}

/* Seals buf[0, len) and opens it again; returns the verdict. */
static enum rg_wire_drop
seal_and_open(uint8_t *buf, size_t len)
{
	struct rg_hdr h;

	rg_wire_seal(buf, len);
	return rg_wire_open(buf, len, &h);
}

/* Decodes the one frame at p, asserting it takes exactly size bytes. */
static void
decode_one(const uint8_t *p, size_t size, struct rg_frame *f)
{
	int n;

	memset(f, 0xa5, sizeof(*f));
	n = rg_wire_frame_decode(p, size, f);
	assert_int_equal(n, (int)size);
}

/* ---- header ---- */

static void
test_wire_hdr_round_trip(void **state)
{
	uint8_t buf[BUF_BYTES];
	size_t len = put_test_hdr(buf);
	const struct rg_wire_hdr *w = (const struct rg_wire_hdr *)buf;
	struct rg_hdr h;

	(void)state;
	len += rg_wire_put_ping(buf + len, sizeof(buf) - len);
	rg_wire_seal(buf, len);
	assert_int_equal(w->version, RG_WIRE_VERSION);
	assert_int_equal(RG_LE16(w->length), len - RG_HDR_BYTES);
	assert_int_equal(len, 36);
	memset(&h, 0, sizeof(h));
	assert_int_equal(rg_wire_open(buf, len, &h), RG_WIRE_OK);
	assert_int_equal(h.type, RG_PKT_FRAMES);
	assert_int_equal(h.lane, 3);
	assert_int_equal(h.src_gw, 0x0207);
	assert_int_equal(h.pn32, 0x01020304u);
	assert_int_equal(h.src_inc, 0x1111222233334444ull);
	assert_int_equal(h.dst_inc, 0x5555666677778888ull);
	/* The tag covers everything but itself: CRC32C of [0,12) and [16, len). */
	{
		uint32_t crc = rg_crc32c(RG_CRC32C_INIT, buf, 12);

		crc = rg_crc32c_final(rg_crc32c(crc, buf + 16, len - 16));
		assert_int_equal(RG_LE32(w->crc), crc);
	}
}

static void
test_wire_hdr_put_no_room(void **state)
{
	uint8_t buf[BUF_BYTES];

	(void)state;
	assert_int_equal(rg_wire_put_hdr(buf, RG_HDR_BYTES - 1, &test_hdr), 0);
	assert_int_equal(rg_wire_put_hdr(buf, RG_HDR_BYTES, &test_hdr), RG_HDR_BYTES);
}

/* ---- frame round trips ---- */

static void
test_wire_data_round_trip_last_fragment(void **state)
{
	uint8_t buf[256], payload[100];
	struct rg_frame f;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i ^ 0x3c);
	n = rg_wire_put_data(buf, sizeof(buf), 0x0102030405060708ull, 77, 9, 400, 500, payload,
			     100);
	assert_int_equal(n, 132);
	assert_int_equal(buf[1], RG_DATA_LAST);
	decode_one(buf, n, &f);
	assert_int_equal(f.type, RG_FRAME_DATA);
	assert_int_equal(f.data.stream, 0x0102030405060708ull);
	assert_int_equal(f.data.seq, 77);
	assert_int_equal(f.data.version, 9);
	assert_int_equal(f.data.off, 400);
	assert_int_equal(f.data.record_len, 500);
	assert_int_equal(f.data.len, 100);
	assert_int_equal(f.data.last, 1);
	assert_ptr_equal(f.data.payload, buf + 32);
	assert_memory_equal(f.data.payload, payload, 100);
}

static void
test_wire_data_round_trip_middle_fragment(void **state)
{
	uint8_t buf[256], payload[64];
	struct rg_frame f;
	size_t n;

	(void)state;
	memset(payload, 0x77, sizeof(payload));
	n = rg_wire_put_data(buf, sizeof(buf), 5, 1, 0, 64, 1000, payload, 64);
	assert_int_equal(n, 96);
	assert_int_equal(buf[1], 0);
	decode_one(buf, n, &f);
	assert_int_equal(f.data.off, 64);
	assert_int_equal(f.data.len, 64);
	assert_int_equal(f.data.record_len, 1000);
	assert_int_equal(f.data.last, 0);
}

static void
test_wire_data_round_trip_empty_record(void **state)
{
	uint8_t buf[64];
	struct rg_frame f;
	size_t n;

	(void)state;
	n = rg_wire_put_data(buf, sizeof(buf), 5, 3, 1, 0, 0, NULL, 0);
	assert_int_equal(n, 32);
	assert_int_equal(buf[1], RG_DATA_LAST);
	decode_one(buf, n, &f);
	assert_int_equal(f.data.len, 0);
	assert_int_equal(f.data.record_len, 0);
	assert_int_equal(f.data.last, 1);
	assert_int_equal(f.data.seq, 3);
}

static void
test_wire_data_put_no_room(void **state)
{
	uint8_t buf[256], payload[100] = { 0 };

	(void)state;
	assert_int_equal(rg_wire_put_data(buf, 131, 5, 1, 0, 0, 100, payload, 100), 0);
	assert_int_equal(rg_wire_put_data(buf, 132, 5, 1, 0, 0, 100, payload, 100), 132);
	assert_int_equal(rg_wire_put_data(buf, 31, 5, 1, 0, 0, 0, NULL, 0), 0);
}

static void
test_wire_ack_round_trip_one_range(void **state)
{
	const struct rg_pn_range r = { .lo = 1000, .hi = 1010 };
	uint8_t buf[64];
	struct rg_frame f;
	size_t n;

	(void)state;
	n = rg_wire_put_ack(buf, sizeof(buf), &r, 1, 123456);
	assert_int_equal(n, 20);
	assert_int_equal(n, rg_wire_ack_bytes(1));
	decode_one(buf, n, &f);
	assert_int_equal(f.type, RG_FRAME_ACK);
	assert_int_equal(f.ack.nranges, 1);
	assert_int_equal(f.ack.ranges[0].lo, 1000);
	assert_int_equal(f.ack.ranges[0].hi, 1010);
	/* Carried in µs: 123456 ns → 123 µs → 123000 ns. */
	assert_int_equal(f.ack.ack_delay_ns, 123000);
}

static void
test_wire_ack_round_trip_many_ranges(void **state)
{
	struct rg_pn_range r[RG_ACK_RANGES_MAX];
	uint8_t buf[512];
	struct rg_frame f;
	uint64_t hi = 1000000;
	size_t n;
	unsigned checked = 0;

	(void)state;
	/* Ranges of width k, separated by gaps of k + 1 missing numbers. */
	for (unsigned k = 0; k < RG_ACK_RANGES_MAX; k++) {
		r[k].hi = hi;
		r[k].lo = hi - k;
		hi = r[k].lo - (k + 1) - 1;
	}
	n = rg_wire_put_ack(buf, sizeof(buf), r, RG_ACK_RANGES_MAX, 0);
	assert_int_equal(n, rg_wire_ack_bytes(RG_ACK_RANGES_MAX));
	assert_int_equal(n, 20 + 8 * 31);
	decode_one(buf, n, &f);
	assert_int_equal(f.ack.nranges, RG_ACK_RANGES_MAX);
	for (unsigned k = 0; k < RG_ACK_RANGES_MAX; k++) {
		assert_int_equal(f.ack.ranges[k].lo, r[k].lo);
		assert_int_equal(f.ack.ranges[k].hi, r[k].hi);
		checked++;
	}
	assert_int_equal(checked, RG_ACK_RANGES_MAX);
	assert_int_equal(f.ack.ack_delay_ns, 0);
}

static void
test_wire_ack_put_caps_ranges_at_max(void **state)
{
	struct rg_pn_range r[40];
	uint8_t buf[512];
	struct rg_frame f;
	size_t n;

	(void)state;
	for (unsigned k = 0; k < 40; k++)
		r[k].lo = r[k].hi = 10000 - 2 * (uint64_t)k; /* 10000, 9998, ... single numbers */
	n = rg_wire_put_ack(buf, sizeof(buf), r, 40, 0);
	assert_int_equal(n, rg_wire_ack_bytes(RG_ACK_RANGES_MAX));
	decode_one(buf, n, &f);
	assert_int_equal(f.ack.nranges, RG_ACK_RANGES_MAX);
	assert_int_equal(f.ack.ranges[31].lo, 10000 - 62);
	assert_int_equal(f.ack.ranges[31].hi, 10000 - 62);
}

static void
test_wire_ack_put_room_limits_ranges(void **state)
{
	const struct rg_pn_range r[5] = {
		{ 100, 110 }, { 80, 90 }, { 60, 70 }, { 40, 50 }, { 20, 30 },
	};
	uint8_t buf[128];
	struct rg_frame f;

	(void)state;
	assert_int_equal(rg_wire_put_ack(buf, 19, r, 5, 0), 0);
	/* Room for the header and 2 extra ranges (20 + 16 + 7): 3 ranges written. */
	assert_int_equal(rg_wire_put_ack(buf, 43, r, 5, 0), rg_wire_ack_bytes(3));
	decode_one(buf, rg_wire_ack_bytes(3), &f);
	assert_int_equal(f.ack.nranges, 3);
	assert_int_equal(f.ack.ranges[2].lo, 60);
	assert_int_equal(f.ack.ranges[2].hi, 70);
	/* Exactly 20 bytes: the first range only. */
	assert_int_equal(rg_wire_put_ack(buf, 20, r, 5, 0), 20);
	decode_one(buf, 20, &f);
	assert_int_equal(f.ack.nranges, 1);
	assert_int_equal(f.ack.ranges[0].lo, 100);
	assert_int_equal(f.ack.ranges[0].hi, 110);
}

static void
test_wire_ack_put_gap_beyond_u32_cuts_ranges(void **state)
{
	const uint64_t big = 1ull << 40;
	const struct rg_pn_range r[3] = {
		{ big + 100, big + 200 },
		{ big + 10, big + 20 },
		{ 5, 10 }, /* gap from big + 10 down to 10: more than 2^32 */
	};
	uint8_t buf[128];
	struct rg_frame f;
	size_t n;

	(void)state;
	n = rg_wire_put_ack(buf, sizeof(buf), r, 3, 0);
	assert_int_equal(n, rg_wire_ack_bytes(2));
	decode_one(buf, n, &f);
	assert_int_equal(f.ack.nranges, 2);
	assert_int_equal(f.ack.ranges[0].lo, big + 100);
	assert_int_equal(f.ack.ranges[0].hi, big + 200);
	assert_int_equal(f.ack.ranges[1].lo, big + 10);
	assert_int_equal(f.ack.ranges[1].hi, big + 20);

	/* The gap right after the first range is too wide: one range only. */
	n = rg_wire_put_ack(buf, sizeof(buf), &r[1], 2, 0);
	assert_int_equal(n, rg_wire_ack_bytes(1));
	decode_one(buf, n, &f);
	assert_int_equal(f.ack.nranges, 1);
	assert_int_equal(f.ack.ranges[0].hi, big + 20);
}

static void
test_wire_ack_put_range_wider_than_u32_is_cut(void **state)
{
	const uint64_t hi = 10 + (1ull << 33);
	const struct rg_pn_range r[2] = { { 10, hi }, { 0, 5 } };
	uint8_t buf[128];
	struct rg_frame f;
	size_t n;

	(void)state;
	n = rg_wire_put_ack(buf, sizeof(buf), r, 2, 0);
	/* The first range keeps its top 2^32 numbers; the next is then too far below. */
	assert_int_equal(n, rg_wire_ack_bytes(1));
	decode_one(buf, n, &f);
	assert_int_equal(f.ack.nranges, 1);
	assert_int_equal(f.ack.ranges[0].hi, hi);
	assert_int_equal(f.ack.ranges[0].lo, hi - UINT32_MAX);
}

static void
test_wire_ack_put_delay_saturates(void **state)
{
	const struct rg_pn_range r = { 1, 2 };
	uint8_t buf[64];
	struct rg_frame f;

	(void)state;
	assert_int_equal(rg_wire_put_ack(buf, sizeof(buf), &r, 1, UINT64_MAX), 20);
	decode_one(buf, 20, &f);
	assert_int_equal(f.ack.ack_delay_ns, (uint64_t)UINT32_MAX * RG_NS_PER_US);
}

static void
test_wire_credit_applied_round_trip(void **state)
{
	uint8_t buf[64];
	struct rg_frame f;

	(void)state;
	assert_int_equal(rg_wire_put_su(buf, sizeof(buf), RG_FRAME_CREDIT, 42, 0xdeadbeef12ull),
			 24);
	decode_one(buf, 24, &f);
	assert_int_equal(f.type, RG_FRAME_CREDIT);
	assert_int_equal(f.su.stream, 42);
	assert_int_equal(f.su.value, 0xdeadbeef12ull);

	assert_int_equal(rg_wire_put_su(buf, sizeof(buf), RG_FRAME_APPLIED, 43, 17), 24);
	decode_one(buf, 24, &f);
	assert_int_equal(f.type, RG_FRAME_APPLIED);
	assert_int_equal(f.su.stream, 43);
	assert_int_equal(f.su.value, 17);

	assert_int_equal(rg_wire_put_su(buf, 23, RG_FRAME_APPLIED, 43, 17), 0);
}

static void
test_wire_ping_hello_close_round_trip(void **state)
{
	uint8_t buf[64];
	struct rg_frame f;

	(void)state;
	assert_int_equal(rg_wire_put_ping(buf, sizeof(buf)), 4);
	decode_one(buf, 4, &f);
	assert_int_equal(f.type, RG_FRAME_PING);

	assert_int_equal(rg_wire_put_hello(buf, sizeof(buf), 12, 0), 8);
	decode_one(buf, 8, &f);
	assert_int_equal(f.type, RG_FRAME_HELLO);
	assert_int_equal(f.hello.lanes, 12);

	assert_int_equal(rg_wire_put_close(buf, sizeof(buf), 0xabcd1234u), 8);
	decode_one(buf, 8, &f);
	assert_int_equal(f.type, RG_FRAME_CLOSE);
	assert_int_equal(f.close.reason, 0xabcd1234u);

	assert_int_equal(rg_wire_put_ping(buf, 3), 0);
	assert_int_equal(rg_wire_put_hello(buf, 7, 1, 0), 0);
	assert_int_equal(rg_wire_put_close(buf, 7, 0), 0);
}

static void
test_wire_resume_round_trip(void **state)
{
	uint8_t buf[64];
	struct rg_frame f;

	(void)state;
	assert_int_equal(rg_wire_put_resume(buf, sizeof(buf), RG_RESUME_REQUEST, 99, 0, 0), 32);
	decode_one(buf, 32, &f);
	assert_int_equal(f.type, RG_FRAME_RESUME);
	assert_int_equal(f.resume.flags, RG_RESUME_REQUEST);
	assert_int_equal(f.resume.stream, 99);
	assert_int_equal(f.resume.watermark, 0);
	assert_int_equal(f.resume.max_seq, 0);

	assert_int_equal(rg_wire_put_resume(buf, sizeof(buf), RG_RESUME_REPLY, 99, 1234, 1490), 32);
	decode_one(buf, 32, &f);
	assert_int_equal(f.resume.flags, RG_RESUME_REPLY);
	assert_int_equal(f.resume.stream, 99);
	assert_int_equal(f.resume.watermark, 1234);
	assert_int_equal(f.resume.max_seq, 1490);

	assert_int_equal(rg_wire_put_resume(buf, sizeof(buf), RG_RESUME_REWIND, 99, 40, 296), 32);
	decode_one(buf, 32, &f);
	assert_int_equal(f.resume.flags, RG_RESUME_REWIND);
	assert_int_equal(f.resume.watermark, 40);
	assert_int_equal(f.resume.max_seq, 296);

	assert_int_equal(rg_wire_put_resume(buf, 31, RG_RESUME_REPLY, 99, 1, 2), 0);
}

static void
test_wire_subscribe_round_trip(void **state)
{
	uint8_t buf[64];
	struct rg_frame f;

	(void)state;
	assert_int_equal(rg_wire_put_subscribe(buf, sizeof(buf), RG_SUB_REQUEST, RG_SUB_NAMESPACE,
					       0, 7ull << 32),
			 16);
	decode_one(buf, 16, &f);
	assert_int_equal(f.type, RG_FRAME_SUBSCRIBE);
	assert_int_equal(f.sub.flags, RG_SUB_REQUEST);
	assert_int_equal(f.sub.kind, RG_SUB_NAMESPACE);
	assert_int_equal(f.sub.status, RG_SUB_OK);
	assert_int_equal(f.sub.key, 7ull << 32);

	assert_int_equal(rg_wire_put_subscribe(buf, sizeof(buf), RG_SUB_REPLY, RG_SUB_STREAM,
					       RG_SUB_BUSY, 0x1234),
			 16);
	decode_one(buf, 16, &f);
	assert_int_equal(f.sub.flags, RG_SUB_REPLY);
	assert_int_equal(f.sub.kind, RG_SUB_STREAM);
	assert_int_equal(f.sub.status, RG_SUB_BUSY);
	assert_int_equal(f.sub.key, 0x1234);
	assert_string_equal(rg_sub_status_name(RG_SUB_BUSY), "BUSY");
	assert_string_equal(rg_sub_status_name(RG_SUB_STATUS_MAX), "?");

	assert_int_equal(rg_wire_put_subscribe(buf, 15, RG_SUB_REQUEST, RG_SUB_STREAM, 0, 0x1234),
			 0);
}

static void
test_wire_hello_ask_flag_round_trip(void **state)
{
	uint8_t buf[16];
	struct rg_frame f;

	(void)state;
	assert_int_equal(rg_wire_put_hello(buf, sizeof(buf), 3, RG_HELLO_ASK), 8);
	decode_one(buf, 8, &f);
	assert_int_equal(f.hello.lanes, 3);
	assert_int_equal(f.hello.flags, RG_HELLO_ASK);
}

/* ---- whole packets ---- */

static void
test_wire_open_several_frames(void **state)
{
	const struct rg_pn_range ranges[2] = { { 50, 60 }, { 10, 20 } };
	uint8_t buf[BUF_BYTES], payload[300];
	struct rg_frame f;
	struct rg_hdr h;
	size_t len, off = RG_HDR_BYTES;
	int types[16], nf = 0;

	(void)state;
	memset(payload, 0xee, sizeof(payload));
	len = put_test_hdr(buf);
	len += rg_wire_put_ack(buf + len, sizeof(buf) - len, ranges, 2, 5000);
	len += rg_wire_put_hello(buf + len, sizeof(buf) - len, 4, 0);
	len += rg_wire_put_data(buf + len, sizeof(buf) - len, 7, 1, 2, 0, 300, payload, 300);
	len += rg_wire_put_su(buf + len, sizeof(buf) - len, RG_FRAME_CREDIT, 7, 256);
	len += rg_wire_put_su(buf + len, sizeof(buf) - len, RG_FRAME_APPLIED, 7, 1);
	len += rg_wire_put_resume(buf + len, sizeof(buf) - len, RG_RESUME_REPLY, 7, 0, 256);
	len += rg_wire_put_ping(buf + len, sizeof(buf) - len);
	len += rg_wire_put_close(buf + len, sizeof(buf) - len, 3);
	assert_int_equal(len, 32 + 28 + 8 + 332 + 24 + 24 + 32 + 4 + 8);
	rg_wire_seal(buf, len);
	assert_int_equal(rg_wire_open(buf, len, &h), RG_WIRE_OK);
	while (rg_wire_frame_next(buf, len, &off, &f)) {
		assert_true(nf < 16);
		types[nf++] = f.type;
		if (f.type == RG_FRAME_DATA) {
			assert_int_equal(f.data.len, 300);
			assert_memory_equal(f.data.payload, payload, 300);
		}
		if (f.type == RG_FRAME_ACK) {
			assert_int_equal(f.ack.nranges, 2);
			assert_int_equal(f.ack.ranges[1].lo, 10);
			assert_int_equal(f.ack.ranges[1].hi, 20);
		}
	}
	assert_int_equal(off, len);
	assert_int_equal(nf, 8);
	assert_int_equal(types[0], RG_FRAME_ACK);
	assert_int_equal(types[1], RG_FRAME_HELLO);
	assert_int_equal(types[2], RG_FRAME_DATA);
	assert_int_equal(types[3], RG_FRAME_CREDIT);
	assert_int_equal(types[4], RG_FRAME_APPLIED);
	assert_int_equal(types[5], RG_FRAME_RESUME);
	assert_int_equal(types[6], RG_FRAME_PING);
	assert_int_equal(types[7], RG_FRAME_CLOSE);
	/* At the end, frame_next keeps saying so. */
	assert_int_equal(rg_wire_frame_next(buf, len, &off, &f), 0);
}

static void
test_wire_open_largest_packet(void **state)
{
	static uint8_t buf[BUF_BYTES], payload[RG_PKT_BYTES_MAX];
	const uint16_t plen = RG_PKT_BYTES_MAX - 32 - 32;
	struct rg_hdr h;
	size_t len = put_test_hdr(buf);

	(void)state;
	len += rg_wire_put_data(buf + len, sizeof(buf) - len, 1, 1, 0, 0, plen, payload, plen);
	assert_int_equal(len, RG_PKT_BYTES_MAX);
	rg_wire_seal(buf, len);
	assert_int_equal(rg_wire_open(buf, len, &h), RG_WIRE_OK);
}

/* ---- malformed packets: each builder returns the datagram length ---- */

static size_t
build_ping_pkt(uint8_t *buf)
{
	size_t len = put_test_hdr(buf);

	len += rg_wire_put_ping(buf + len, BUF_BYTES - len);
	rg_wire_seal(buf, len);
	return len;
}

static size_t
mal_truncated_31(uint8_t *buf)
{
	build_ping_pkt(buf);
	return RG_HDR_BYTES - 1;
}

static size_t
mal_truncated_0(uint8_t *buf)
{
	(void)buf;
	return 0;
}

static size_t
mal_bad_version(uint8_t *buf)
{
	size_t len = build_ping_pkt(buf);

	buf[0] = RG_WIRE_VERSION + 1;
	return len;
}

static size_t
mal_bad_version_zero(uint8_t *buf)
{
	size_t len = build_ping_pkt(buf);

	buf[0] = 0;
	return len;
}

static size_t
mal_bad_type(uint8_t *buf)
{
	size_t len = build_ping_pkt(buf);

	buf[1] = RG_PKT_FRAMES + 1;
	return len;
}

static size_t
mal_bad_length_datagram_longer(uint8_t *buf)
{
	size_t len = build_ping_pkt(buf);

	memset(buf + len, 0, 4);
	return len + 4; /* trailing bytes the header does not count */
}

static size_t
mal_bad_length_datagram_shorter(uint8_t *buf)
{
	size_t len = build_ping_pkt(buf);

	return len - 1;
}

static size_t
mal_bad_length_header_field(uint8_t *buf)
{
	size_t len = build_ping_pkt(buf);
	struct rg_wire_hdr *w = (struct rg_wire_hdr *)buf;

	w->length = RG_LE16(RG_LE16(w->length) + 1);
	return len;
}

static size_t
mal_bad_length_jumbo(uint8_t *buf)
{
	struct rg_wire_hdr *w = (struct rg_wire_hdr *)buf;
	const size_t len = RG_PKT_BYTES_MAX + 1;

	memset(buf, 0, len);
	put_test_hdr(buf);
	buf[RG_HDR_BYTES] = RG_FRAME_PING; /* then PINGs' zero padding: frame type 0 */
	/* The length field agrees with the datagram: only the size is wrong. */
	w->length = RG_LE16((uint16_t)(len - RG_HDR_BYTES));
	return len;
}

static size_t
mal_bad_crc_payload_bit(uint8_t *buf)
{
	size_t len = build_ping_pkt(buf);

	buf[RG_HDR_BYTES + 1] ^= 0x10;
	return len;
}

static size_t
mal_bad_crc_header_bit(uint8_t *buf)
{
	size_t len = build_ping_pkt(buf);

	buf[offsetof(struct rg_wire_hdr, dst_inc) + 7] ^= 0x80;
	return len;
}

static size_t
mal_bad_crc_tag_bit(uint8_t *buf)
{
	size_t len = build_ping_pkt(buf);

	buf[offsetof(struct rg_wire_hdr, crc)] ^= 0x01;
	return len;
}

static size_t
mal_empty(uint8_t *buf)
{
	size_t len = put_test_hdr(buf);

	rg_wire_seal(buf, len);
	return len;
}

/* A DATA frame header written field by field (valid unless the caller changes it). */
static struct rg_wire_data *
raw_data(uint8_t *p, uint16_t len, uint32_t off, uint32_t record_len)
{
	struct rg_wire_data *w = (struct rg_wire_data *)p;

	memset(w, 0, sizeof(*w));
	w->type = RG_FRAME_DATA;
	w->flags = (uint64_t)off + len == record_len ? RG_DATA_LAST : 0;
	w->len = RG_LE16(len);
	w->version = RG_LE32(1);
	w->stream = RG_LE64(9);
	w->seq = RG_LE64(4);
	w->off = RG_LE32(off);
	w->record_len = RG_LE32(record_len);
	return w;
}

static size_t
mal_data_payload_overruns(uint8_t *buf)
{
	size_t len = put_test_hdr(buf);

	raw_data(buf + len, 100, 0, 100);
	len += 32 + 50; /* only 50 of its 100 payload bytes */
	rg_wire_seal(buf, len);
	return len;
}

static size_t
mal_data_header_cut(uint8_t *buf)
{
	size_t len = put_test_hdr(buf);

	raw_data(buf + len, 0, 0, 0);
	len += 31;
	rg_wire_seal(buf, len);
	return len;
}

static size_t
mal_ack_ranges_overrun(uint8_t *buf)
{
	size_t len = put_test_hdr(buf);
	struct rg_wire_ack *w = (struct rg_wire_ack *)(buf + len);
	struct rg_wire_ack_range *r = (struct rg_wire_ack_range *)(w + 1);

	memset(w, 0, sizeof(*w) + sizeof(*r));
	w->type = RG_FRAME_ACK;
	w->nranges = 3; /* three extra ranges announced, one present */
	w->largest = RG_LE64(1000);
	w->first_range = RG_LE32(10);
	r->gap = RG_LE32(1);
	r->len = RG_LE32(1);
	len += sizeof(*w) + sizeof(*r);
	rg_wire_seal(buf, len);
	return len;
}

static size_t
mal_fixed_frame_cut(uint8_t *buf)
{
	size_t len = put_test_hdr(buf);

	len += rg_wire_put_ping(buf + len, BUF_BYTES - len);
	rg_wire_put_su(buf + len, BUF_BYTES - len, RG_FRAME_CREDIT, 7, 8);
	len += 10; /* 10 of the CREDIT frame's 24 bytes */
	rg_wire_seal(buf, len);
	return len;
}

static size_t
mal_resume_cut(uint8_t *buf)
{
	size_t len = put_test_hdr(buf);

	rg_wire_put_resume(buf + len, BUF_BYTES - len, RG_RESUME_REPLY, 7, 1, 2);
	len += 31;
	rg_wire_seal(buf, len);
	return len;
}

static size_t
mal_unknown_frame(uint8_t *buf, uint8_t type)
{
	size_t len = put_test_hdr(buf);

	len += rg_wire_put_ping(buf + len, BUF_BYTES - len);
	memset(buf + len, 0, 8);
	buf[len] = type;
	len += 8;
	rg_wire_seal(buf, len);
	return len;
}

static size_t
mal_unknown_frame_0(uint8_t *buf)
{
	return mal_unknown_frame(buf, 0);
}

static size_t
mal_unknown_frame_200(uint8_t *buf)
{
	return mal_unknown_frame(buf, 200);
}

static size_t
mal_unknown_frame_10(uint8_t *buf)
{
	return mal_unknown_frame(buf, 10);
}

/* A SUBSCRIBE frame with the given fields, written raw so any of them may be wrong. */
static size_t
mal_sub(uint8_t *buf, uint8_t flags, uint8_t kind, uint8_t status, uint64_t key)
{
	size_t len = put_test_hdr(buf);
	struct rg_wire_subscribe *w = (struct rg_wire_subscribe *)(buf + len);

	memset(w, 0, sizeof(*w));
	w->type = RG_FRAME_SUBSCRIBE;
	w->flags = flags;
	w->kind = kind;
	w->status = status;
	w->key = RG_LE64(key);
	len += sizeof(*w);
	rg_wire_seal(buf, len);
	return len;
}

static size_t
mal_sub_flags_zero(uint8_t *buf)
{
	return mal_sub(buf, 0, RG_SUB_STREAM, 0, 7);
}

static size_t
mal_sub_kind_three(uint8_t *buf)
{
	return mal_sub(buf, RG_SUB_REQUEST, 3, 0, 7);
}

static size_t
mal_sub_key_zero(uint8_t *buf)
{
	return mal_sub(buf, RG_SUB_REQUEST, RG_SUB_STREAM, 0, 0);
}

static size_t
mal_sub_ns_low_bits(uint8_t *buf)
{
	return mal_sub(buf, RG_SUB_REQUEST, RG_SUB_NAMESPACE, 0, (5ull << 32) | 1);
}

static size_t
mal_sub_request_status(uint8_t *buf)
{
	return mal_sub(buf, RG_SUB_REQUEST, RG_SUB_STREAM, RG_SUB_BUSY, 7);
}

static size_t
mal_sub_reply_status_unknown(uint8_t *buf)
{
	return mal_sub(buf, RG_SUB_REPLY, RG_SUB_STREAM, RG_SUB_STATUS_MAX, 7);
}

static size_t
mal_sub_cut(uint8_t *buf)
{
	size_t len = mal_sub(buf, RG_SUB_REQUEST, RG_SUB_STREAM, 0, 7) - 1;

	rg_wire_seal(buf, len);
	return len;
}

/* DATA frames with one field out of range (payload present, so only that field is wrong). */
enum data_fault {
	DF_OFF_PAST_RECORD,
	DF_LAST_SET_EARLY,
	DF_LAST_MISSING,
	DF_RECORD_TOO_BIG,
	DF_STREAM_ZERO,
	DF_SEQ_ZERO,
	DF_UNKNOWN_FLAG,
	DF_EMPTY_FRAGMENT,
};

static size_t
mal_data(uint8_t *buf, enum data_fault fault)
{
	size_t len = put_test_hdr(buf);
	struct rg_wire_data *w = raw_data(buf + len, 16, 0, 64);

	switch (fault) {
	case DF_OFF_PAST_RECORD:
		w->off = RG_LE32(60); /* 60 + 16 > 64 */
		break;
	case DF_LAST_SET_EARLY:
		w->flags = RG_DATA_LAST; /* 0 + 16 != 64 */
		break;
	case DF_LAST_MISSING:
		w->off = RG_LE32(48); /* 48 + 16 == 64, flag left clear */
		w->flags = 0;
		break;
	case DF_RECORD_TOO_BIG:
		w->record_len = RG_LE32(RG_RECORD_BYTES_MAX + 1);
		break;
	case DF_STREAM_ZERO:
		w->stream = 0;
		break;
	case DF_SEQ_ZERO:
		w->seq = 0;
		break;
	case DF_UNKNOWN_FLAG:
		w->flags = 0x02;
		break;
	case DF_EMPTY_FRAGMENT:
		w->len = 0; /* len 0 is for empty records only */
		break;
	}
	memset(buf + len + 32, 0xab, 16);
	len += 32 + (fault == DF_EMPTY_FRAGMENT ? 0 : 16);
	rg_wire_seal(buf, len);
	return len;
}

static size_t
mal_data_off_past_record(uint8_t *buf)
{
	return mal_data(buf, DF_OFF_PAST_RECORD);
}

static size_t
mal_data_last_set_early(uint8_t *buf)
{
	return mal_data(buf, DF_LAST_SET_EARLY);
}

static size_t
mal_data_last_missing(uint8_t *buf)
{
	return mal_data(buf, DF_LAST_MISSING);
}

static size_t
mal_data_record_too_big(uint8_t *buf)
{
	return mal_data(buf, DF_RECORD_TOO_BIG);
}

static size_t
mal_data_stream_zero(uint8_t *buf)
{
	return mal_data(buf, DF_STREAM_ZERO);
}

static size_t
mal_data_seq_zero(uint8_t *buf)
{
	return mal_data(buf, DF_SEQ_ZERO);
}

static size_t
mal_data_unknown_flag(uint8_t *buf)
{
	return mal_data(buf, DF_UNKNOWN_FLAG);
}

static size_t
mal_data_empty_fragment(uint8_t *buf)
{
	return mal_data(buf, DF_EMPTY_FRAGMENT);
}

/* An ACK with the given fields and one extra range (gap, rlen) when nranges >= 1. */
static size_t
mal_ack(uint8_t *buf, uint8_t nranges, uint64_t largest, uint32_t first, uint32_t gap,
	uint32_t rlen, uint16_t reserved)
{
	size_t len = put_test_hdr(buf);
	struct rg_wire_ack *w = (struct rg_wire_ack *)(buf + len);
	struct rg_wire_ack_range *r = (struct rg_wire_ack_range *)(w + 1);

	memset(w, 0, sizeof(*w) + 40 * sizeof(*r));
	w->type = RG_FRAME_ACK;
	w->nranges = nranges;
	w->reserved = reserved;
	w->largest = RG_LE64(largest);
	w->first_range = RG_LE32(first);
	for (unsigned i = 0; i < nranges; i++) {
		r[i].gap = RG_LE32(gap);
		r[i].len = RG_LE32(rlen);
	}
	len += rg_wire_ack_bytes(nranges + 1u);
	rg_wire_seal(buf, len);
	return len;
}

static size_t
mal_ack_first_above_largest(uint8_t *buf)
{
	return mal_ack(buf, 0, 10, 11, 0, 0, 0);
}

static size_t
mal_ack_gap_underflow(uint8_t *buf)
{
	/* First range [90, 100]; gap 89 needs lo >= 91. */
	return mal_ack(buf, 1, 100, 10, 89, 0, 0);
}

static size_t
mal_ack_len_underflow(uint8_t *buf)
{
	/* First range [90, 100]; gap 0 → hi 88; len 89 would go below 0. */
	return mal_ack(buf, 1, 100, 10, 0, 89, 0);
}

static size_t
mal_ack_too_many_ranges(uint8_t *buf)
{
	return mal_ack(buf, RG_ACK_RANGES_MAX, 1000000, 0, 0, 0, 0);
}

static size_t
mal_ack_reserved_set(uint8_t *buf)
{
	return mal_ack(buf, 0, 100, 1, 0, 0, 1);
}

static size_t
mal_resume(uint8_t *buf, uint8_t flags, uint64_t stream, uint64_t watermark, uint64_t max_seq)
{
	size_t len = put_test_hdr(buf);
	struct rg_wire_resume *w = (struct rg_wire_resume *)(buf + len);

	memset(w, 0, sizeof(*w));
	w->type = RG_FRAME_RESUME;
	w->flags = flags;
	w->stream = RG_LE64(stream);
	w->watermark = RG_LE64(watermark);
	w->max_seq = RG_LE64(max_seq);
	len += sizeof(*w);
	rg_wire_seal(buf, len);
	return len;
}

static size_t
mal_resume_flags_zero(uint8_t *buf)
{
	return mal_resume(buf, 0, 7, 0, 0);
}

static size_t
mal_resume_flags_four(uint8_t *buf)
{
	return mal_resume(buf, RG_RESUME_REWIND + 1, 7, 0, 0);
}

static size_t
mal_resume_stream_zero(uint8_t *buf)
{
	return mal_resume(buf, RG_RESUME_REPLY, 0, 1, 2);
}

static size_t
mal_resume_max_below_watermark(uint8_t *buf)
{
	return mal_resume(buf, RG_RESUME_REPLY, 7, 10, 9);
}

/* A watermark of 2^64 - 1: the sender would replay from watermark + 1 = 0 (fuzz_core found it). */
static size_t
mal_resume_watermark_max(uint8_t *buf)
{
	return mal_resume(buf, RG_RESUME_REPLY, 7, UINT64_MAX, UINT64_MAX);
}

static size_t
mal_applied_max(uint8_t *buf)
{
	size_t len = put_test_hdr(buf);

	len += rg_wire_put_su(buf + len, BUF_BYTES - len, RG_FRAME_APPLIED, 7, UINT64_MAX);
	rg_wire_seal(buf, len);
	return len;
}

static size_t
mal_hello_lanes_zero(uint8_t *buf)
{
	size_t len = put_test_hdr(buf);

	len += rg_wire_put_hello(buf + len, BUF_BYTES - len, 0, 0);
	rg_wire_seal(buf, len);
	return len;
}

static size_t
mal_credit_stream_zero(uint8_t *buf)
{
	size_t len = put_test_hdr(buf);

	len += rg_wire_put_su(buf + len, BUF_BYTES - len, RG_FRAME_CREDIT, 0, 5);
	rg_wire_seal(buf, len);
	return len;
}

static size_t
mal_bad_frame_after_good_ones(uint8_t *buf)
{
	uint8_t payload[8] = { 0 };
	size_t len = put_test_hdr(buf);

	len += rg_wire_put_ping(buf + len, BUF_BYTES - len);
	len += rg_wire_put_data(buf + len, BUF_BYTES - len, 3, 1, 0, 0, 8, payload, 8);
	len += rg_wire_put_hello(buf + len, BUF_BYTES - len, 0, 0); /* the third frame is bad */
	rg_wire_seal(buf, len);
	return len;
}

struct malformed {
	const char *name;
	size_t (*build)(uint8_t *buf);
	enum rg_wire_drop want;
};

static const struct malformed malformed[] = {
	{ "len 31", mal_truncated_31, RG_WIRE_DROP_TRUNCATED },
	{ "len 0", mal_truncated_0, RG_WIRE_DROP_TRUNCATED },
	{ "version 2", mal_bad_version, RG_WIRE_DROP_BAD_VERSION },
	{ "version 0", mal_bad_version_zero, RG_WIRE_DROP_BAD_VERSION },
	{ "type 2", mal_bad_type, RG_WIRE_DROP_BAD_TYPE },
	{ "datagram longer than header says", mal_bad_length_datagram_longer,
	  RG_WIRE_DROP_BAD_LENGTH },
	{ "datagram shorter than header says", mal_bad_length_datagram_shorter,
	  RG_WIRE_DROP_BAD_LENGTH },
	{ "length field off by one", mal_bad_length_header_field, RG_WIRE_DROP_BAD_LENGTH },
	{ "len > RG_PKT_BYTES_MAX", mal_bad_length_jumbo, RG_WIRE_DROP_BAD_LENGTH },
	{ "payload bit flipped", mal_bad_crc_payload_bit, RG_WIRE_DROP_BAD_CRC },
	{ "header bit flipped", mal_bad_crc_header_bit, RG_WIRE_DROP_BAD_CRC },
	{ "tag bit flipped", mal_bad_crc_tag_bit, RG_WIRE_DROP_BAD_CRC },
	{ "DATA payload overruns", mal_data_payload_overruns, RG_WIRE_DROP_FRAME_TRUNCATED },
	{ "DATA header cut", mal_data_header_cut, RG_WIRE_DROP_FRAME_TRUNCATED },
	{ "ACK ranges overrun", mal_ack_ranges_overrun, RG_WIRE_DROP_FRAME_TRUNCATED },
	{ "CREDIT cut short", mal_fixed_frame_cut, RG_WIRE_DROP_FRAME_TRUNCATED },
	{ "RESUME cut short", mal_resume_cut, RG_WIRE_DROP_FRAME_TRUNCATED },
	{ "frame type 0", mal_unknown_frame_0, RG_WIRE_DROP_UNKNOWN_FRAME },
	{ "frame type 200", mal_unknown_frame_200, RG_WIRE_DROP_UNKNOWN_FRAME },
	{ "frame type 10", mal_unknown_frame_10, RG_WIRE_DROP_UNKNOWN_FRAME },
	{ "SUBSCRIBE flags 0", mal_sub_flags_zero, RG_WIRE_DROP_BAD_FRAME },
	{ "SUBSCRIBE kind 3", mal_sub_kind_three, RG_WIRE_DROP_BAD_FRAME },
	{ "SUBSCRIBE key 0", mal_sub_key_zero, RG_WIRE_DROP_BAD_FRAME },
	{ "SUBSCRIBE namespace with low bits", mal_sub_ns_low_bits, RG_WIRE_DROP_BAD_FRAME },
	{ "SUBSCRIBE request with a status", mal_sub_request_status, RG_WIRE_DROP_BAD_FRAME },
	{ "SUBSCRIBE reply with an unknown status", mal_sub_reply_status_unknown,
	  RG_WIRE_DROP_BAD_FRAME },
	{ "SUBSCRIBE cut short", mal_sub_cut, RG_WIRE_DROP_FRAME_TRUNCATED },
	{ "DATA off + len > record_len", mal_data_off_past_record, RG_WIRE_DROP_BAD_FRAME },
	{ "DATA LAST set early", mal_data_last_set_early, RG_WIRE_DROP_BAD_FRAME },
	{ "DATA LAST missing", mal_data_last_missing, RG_WIRE_DROP_BAD_FRAME },
	{ "DATA record_len > 1 MiB", mal_data_record_too_big, RG_WIRE_DROP_BAD_FRAME },
	{ "DATA stream 0", mal_data_stream_zero, RG_WIRE_DROP_BAD_FRAME },
	{ "DATA seq 0", mal_data_seq_zero, RG_WIRE_DROP_BAD_FRAME },
	{ "DATA unknown flag", mal_data_unknown_flag, RG_WIRE_DROP_BAD_FRAME },
	{ "DATA empty fragment of a record", mal_data_empty_fragment, RG_WIRE_DROP_BAD_FRAME },
	{ "ACK first_range > largest", mal_ack_first_above_largest, RG_WIRE_DROP_BAD_FRAME },
	{ "ACK gap underflow", mal_ack_gap_underflow, RG_WIRE_DROP_BAD_FRAME },
	{ "ACK range len underflow", mal_ack_len_underflow, RG_WIRE_DROP_BAD_FRAME },
	{ "ACK nranges >= RG_ACK_RANGES_MAX", mal_ack_too_many_ranges, RG_WIRE_DROP_BAD_FRAME },
	{ "ACK reserved set", mal_ack_reserved_set, RG_WIRE_DROP_BAD_FRAME },
	{ "RESUME flags 0", mal_resume_flags_zero, RG_WIRE_DROP_BAD_FRAME },
	{ "RESUME flags 4", mal_resume_flags_four, RG_WIRE_DROP_BAD_FRAME },
	{ "RESUME stream 0", mal_resume_stream_zero, RG_WIRE_DROP_BAD_FRAME },
	{ "RESUME max_seq < watermark", mal_resume_max_below_watermark, RG_WIRE_DROP_BAD_FRAME },
	{ "HELLO lanes 0", mal_hello_lanes_zero, RG_WIRE_DROP_BAD_FRAME },
	{ "CREDIT stream 0", mal_credit_stream_zero, RG_WIRE_DROP_BAD_FRAME },
	{ "APPLIED 2^64 - 1", mal_applied_max, RG_WIRE_DROP_BAD_FRAME },
	{ "RESUME watermark 2^64 - 1", mal_resume_watermark_max, RG_WIRE_DROP_BAD_FRAME },
	{ "bad frame after good ones", mal_bad_frame_after_good_ones, RG_WIRE_DROP_BAD_FRAME },
	{ "header only", mal_empty, RG_WIRE_DROP_EMPTY },
};

static void
test_wire_open_malformed_distinct_reasons(void **state)
{
	static uint8_t buf[BUF_BYTES];
	unsigned seen[RG_WIRE_DROP_MAX] = { 0 };
	size_t checked = 0;

	(void)state;
	for (size_t i = 0; i < RG_ARRAY_SIZE(malformed); i++) {
		const struct malformed *m = &malformed[i];
		struct rg_hdr h;
		size_t len;
		enum rg_wire_drop got;

		memset(buf, 0, sizeof(buf));
		len = m->build(buf);
		got = rg_wire_open(buf, len, &h);
		if (got != m->want)
			fail_msg("%s: got %s, want %s", m->name, rg_wire_drop_name(got),
				 rg_wire_drop_name(m->want));
		seen[got]++;
		checked++;
	}
	assert_int_equal(checked, RG_ARRAY_SIZE(malformed));
	/* Every drop reason is reachable, each by at least one case. */
	for (int r = RG_WIRE_DROP_TRUNCATED; r < RG_WIRE_DROP_MAX; r++)
		if (seen[r] == 0)
			fail_msg("no case for %s", rg_wire_drop_name((enum rg_wire_drop)r));
	assert_int_equal(seen[RG_WIRE_OK], 0);
}

/* The frame-level cases really are only wrong in that frame: fixing the field makes them valid. */
static void
test_wire_open_malformed_controls_are_valid(void **state)
{
	static uint8_t buf[BUF_BYTES];
	struct rg_hdr h;
	size_t len;

	(void)state;
	len = mal_ack(buf, 1, 100, 10, 0, 88, 0); /* [90,100], [0,88] */
	assert_int_equal(rg_wire_open(buf, len, &h), RG_WIRE_OK);
	len = mal_ack(buf, RG_ACK_RANGES_MAX - 1, 1000000, 0, 0, 0, 0);
	assert_int_equal(rg_wire_open(buf, len, &h), RG_WIRE_OK);
	len = mal_resume(buf, RG_RESUME_REPLY, 7, 10, 10);
	assert_int_equal(rg_wire_open(buf, len, &h), RG_WIRE_OK);
	len = mal_sub(buf, RG_SUB_REPLY, RG_SUB_NAMESPACE, RG_SUB_UNKNOWN, 9ull << 32);
	assert_int_equal(rg_wire_open(buf, len, &h), RG_WIRE_OK);
	len = mal_ack(buf, 0, 10, 10, 0, 0, 0); /* first_range == largest: acks [0, 10] */
	assert_int_equal(rg_wire_open(buf, len, &h), RG_WIRE_OK);
	len = put_test_hdr(buf);
	raw_data(buf + len, 16, 48, 64);
	len += 48;
	assert_int_equal(seal_and_open(buf, len), RG_WIRE_OK);
	len = put_test_hdr(buf);
	raw_data(buf + len, 16, 0, RG_RECORD_BYTES_MAX);
	len += 48;
	assert_int_equal(seal_and_open(buf, len), RG_WIRE_OK);
}

static void
test_wire_frame_decode_empty_room(void **state)
{
	uint8_t b = RG_FRAME_PING;
	struct rg_frame f;

	(void)state;
	assert_int_equal(rg_wire_frame_decode(&b, 0, &f), -RG_WIRE_DROP_FRAME_TRUNCATED);
	assert_int_equal(rg_wire_frame_decode(&b, 1, &f), -RG_WIRE_DROP_FRAME_TRUNCATED);
}

static void
test_wire_drop_names(void **state)
{
	(void)state;
	assert_string_equal(rg_wire_drop_name(RG_WIRE_OK), "ok");
	assert_string_equal(rg_wire_drop_name(RG_WIRE_DROP_TRUNCATED), "TRUNCATED");
	assert_string_equal(rg_wire_drop_name(RG_WIRE_DROP_BAD_CRC), "BAD_CRC");
	assert_string_equal(rg_wire_drop_name(RG_WIRE_DROP_EMPTY), "EMPTY");
	assert_string_equal(rg_wire_drop_name(RG_WIRE_DROP_MAX), "?");
}

/* ---- packet number reconstruction ---- */

struct pn_case {
	uint32_t pn32;
	uint64_t largest;
	int valid;
	uint64_t want;
};

static const struct pn_case pn_cases[] = {
	/* Nothing received yet: the wire value as is. */
	{ 0x00000005u, 0, 0, 0x5 },
	{ 0xFFFFFFF0u, 0x123456789ull, 0, 0xFFFFFFF0u },
	/* In order, no wrap. */
	{ 0x00000011u, 0x10, 1, 0x11 },
	{ 0x00000010u, 0x10, 1, 0x10 },
	/* Forward across the 2^32 wrap. */
	{ 0x00000005u, 0xFFFFFFF0ull, 1, 0x100000005ull },
	{ 0x00000000u, 0xFFFFFFFFull, 1, 0x100000000ull },
	/* Backward across it: a straggler from before the wrap. */
	{ 0xFFFFFFF0u, 0x100000005ull, 1, 0xFFFFFFF0ull },
	{ 0xFFFFFFFFu, 0x100000000ull, 1, 0xFFFFFFFFull },
	/* The RFC 9000 A.3 example (largest 0xa82f30ea, truncated 0x9b32) at 32 bits. */
	{ 0xa82f9b32u, 0xa82f30eaull, 1, 0xa82f9b32ull },
	{ 0x00009b32u, 0x1a82f30eaull, 1, 0x200009b32ull },
	/* Half a window around expected = largest + 1. */
	{ 0x80000000u, 0x0ull, 1, 0x80000000ull },
	{ 0x80000002u, 0x0ull, 1, 0x80000002ull }, /* no candidate below 0 */
	{ 0x80000000u, 0x100000000ull, 1, 0x180000000ull },
	{ 0x80000001u, 0x100000000ull, 1, 0x180000001ull }, /* exactly expected + half: kept */
	{ 0x80000002u, 0x100000000ull, 1, 0x080000002ull }, /* past it: the window below */
	{ 0x00000000u, 0x17FFFFFFFull, 1, 0x200000000ull }, /* exactly expected - half: above */
	{ 0x00000001u, 0x17FFFFFFFull, 1, 0x100000001ull },
	/* High in the 64-bit space. */
	{ 0x00000002u, 0x7FFFFFFFFFFFFFFEull, 1, 0x8000000000000002ull },
	{ 0x00000001u, 0x12FFFFFFFFull, 1, 0x1300000001ull },
};

static void
test_wire_pn_decode_table(void **state)
{
	size_t checked = 0;

	(void)state;
	for (size_t i = 0; i < RG_ARRAY_SIZE(pn_cases); i++) {
		const struct pn_case *c = &pn_cases[i];
		uint64_t got = rg_pn_decode(c->pn32, c->largest, c->valid);

		if (got != c->want)
			fail_msg("case %zu: pn32 0x%x largest 0x%llx: got 0x%llx want 0x%llx", i,
				 c->pn32, (unsigned long long)c->largest, (unsigned long long)got,
				 (unsigned long long)c->want);
		checked++;
	}
	assert_int_equal(checked, RG_ARRAY_SIZE(pn_cases));
}

/* Every number within half a window of largest + 1 decodes to itself. */
static void
test_wire_pn_decode_round_trip_near_wrap(void **state)
{
	const uint64_t largest = 0x2FFFFFFF0ull;
	size_t checked = 0;

	(void)state;
	for (int64_t d = -1000; d <= 1000; d++) {
		uint64_t pn = largest + 1 + (uint64_t)d;

		assert_int_equal(rg_pn_decode((uint32_t)pn, largest, 1), pn);
		checked++;
	}
	assert_int_equal(checked, 2001);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire_hdr_round_trip),
		cmocka_unit_test(test_wire_hdr_put_no_room),
		cmocka_unit_test(test_wire_data_round_trip_last_fragment),
		cmocka_unit_test(test_wire_data_round_trip_middle_fragment),
		cmocka_unit_test(test_wire_data_round_trip_empty_record),
		cmocka_unit_test(test_wire_data_put_no_room),
		cmocka_unit_test(test_wire_ack_round_trip_one_range),
		cmocka_unit_test(test_wire_ack_round_trip_many_ranges),
		cmocka_unit_test(test_wire_ack_put_caps_ranges_at_max),
		cmocka_unit_test(test_wire_ack_put_room_limits_ranges),
		cmocka_unit_test(test_wire_ack_put_gap_beyond_u32_cuts_ranges),
		cmocka_unit_test(test_wire_ack_put_range_wider_than_u32_is_cut),
		cmocka_unit_test(test_wire_ack_put_delay_saturates),
		cmocka_unit_test(test_wire_credit_applied_round_trip),
		cmocka_unit_test(test_wire_ping_hello_close_round_trip),
		cmocka_unit_test(test_wire_resume_round_trip),
		cmocka_unit_test(test_wire_subscribe_round_trip),
		cmocka_unit_test(test_wire_hello_ask_flag_round_trip),
		cmocka_unit_test(test_wire_open_several_frames),
		cmocka_unit_test(test_wire_open_largest_packet),
		cmocka_unit_test(test_wire_open_malformed_distinct_reasons),
		cmocka_unit_test(test_wire_open_malformed_controls_are_valid),
		cmocka_unit_test(test_wire_frame_decode_empty_room),
		cmocka_unit_test(test_wire_drop_names),
		cmocka_unit_test(test_wire_pn_decode_table),
		cmocka_unit_test(test_wire_pn_decode_round_trip_near_wrap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
