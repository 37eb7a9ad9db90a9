/* SPDX-License-Identifier: Apache-2.0 */
/*
 * codec/: the RGP v1 codec (wire.h) on DATA frames, arg = record payload bytes.
 *   encode_data  one DATA frame (header + payload copy), frames laid end to end
 *                as in a packet; op = frame
 *   encode_pkt   a 9000-byte packet filled with records and sealed (CRC32C tag);
 *                op = record
 *   decode_pkt   rg_wire_open() (validation and tag) + rg_wire_frame_next() over
 *                every frame of that packet; op = packet
 *   decode_rec   the same run, op = record (8 records of 1 KiB or 93 of 64 B per packet)
 */
#include <string.h>

#include "bench.h"
#include "wire.h"

#define PKT_BYTES     RG_PKT_BYTES_MAX
#define STREAM        0x5100000000000001ull
#define VERSION       3
#define ENCODE_BATCH  8 /* DATA frames per loop pass: 8 of 1 KiB fit in one 9000-byte packet */
#define PAYLOAD_BYTES 1024

static const int64_t payload_sizes[] = { 64, 1024 };

/* One packet and one record's payload, cache-line aligned like an mbuf's data. */
static uint8_t pkt[PKT_BYTES] __attribute__((aligned(64)));
static uint8_t payload[PAYLOAD_BYTES] __attribute__((aligned(64)));

static void
fill_payload(void)
{
	uint64_t s = 7;

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)rg_splitmix64(&s);
}

/* Builds and seals a packet of as many records of rec_bytes as fit; returns its length. */
static size_t
build_pkt(uint8_t *p, uint16_t rec_bytes, uint64_t seq0, uint32_t pn32, unsigned *nrec)
{
	const struct rg_hdr h = {
		.type = RG_PKT_FRAMES,
		.lane = 0,
		.src_gw = 1,
		.pn32 = pn32,
		.src_inc = 100,
		.dst_inc = 200,
	};
	size_t len = rg_wire_put_hdr(p, PKT_BYTES, &h), n;
	unsigned k = 0;

	while ((n = rg_wire_put_data(p + len, PKT_BYTES - len, STREAM, seq0 + k, VERSION, 0,
				     rec_bytes, payload, rec_bytes)) > 0) {
		len += n;
		k++;
	}
	rg_wire_seal(p, len);
	*nrec = k;
	return len;
}

static void
bench_encode_data(struct rg_bench_state *st, const void *ctx)
{
	uint16_t len = (uint16_t)rg_bench_arg(st, 0);
	uint64_t seq = 1;

	(void)ctx;
	while (rg_bench_keep_running_batch(st, ENCODE_BATCH)) {
		size_t off = RG_HDR_BYTES;

		for (unsigned i = 0; i < ENCODE_BATCH; i++)
			off += rg_wire_put_data(pkt + off, PKT_BYTES - off, STREAM, seq++, VERSION,
						0, len, payload, len);
		rg_bench_do_not_optimize(pkt);
	}
	rg_bench_set_items(st, rg_bench_iterations(st));
	rg_bench_set_bytes(st, rg_bench_iterations(st) * len);
	rg_bench_set_label(st, "frame");
}

static void
bench_encode_pkt(struct rg_bench_state *st, const void *ctx)
{
	uint16_t len = (uint16_t)rg_bench_arg(st, 0);
	uint64_t seq = 1, records = 0, bytes = 0;
	uint32_t pn = 1;

	(void)ctx;
	while (rg_bench_keep_running(st)) {
		unsigned n;

		bytes += build_pkt(pkt, len, seq, pn++, &n);
		seq += n;
		records += n;
		rg_bench_do_not_optimize(pkt);
	}
	rg_bench_set_items(st, (int64_t)records);
	rg_bench_set_bytes(st, (int64_t)bytes);
	rg_bench_set_label(st, "record");
}

/* ctx: 1 counts records, 0 packets. */
static void
bench_decode(struct rg_bench_state *st, const void *ctx)
{
	int per_record = *(const int *)ctx;
	unsigned nrec, got = 0;
	size_t len = build_pkt(pkt, (uint16_t)rg_bench_arg(st, 0), 1, 1, &nrec);
	struct rg_hdr h;
	struct rg_frame f;
	size_t off = RG_HDR_BYTES;

	if (rg_wire_open(pkt, len, &h) != RG_WIRE_OK) {
		rg_bench_skip_with_error(st, "the packet does not validate");
		return;
	}
	while (rg_wire_frame_next(pkt, len, &off, &f))
		got += f.type == RG_FRAME_DATA;
	if (got != nrec) {
		rg_bench_skip_with_error(st, "decoded a different number of records");
		return;
	}
	while (rg_bench_keep_running(st)) {
		uint64_t sum = 0;

		off = RG_HDR_BYTES;
		if (rg_wire_open(pkt, len, &h) != RG_WIRE_OK)
			break; /* cannot happen: checked above, the bytes do not change */
		while (rg_wire_frame_next(pkt, len, &off, &f))
			sum += f.data.seq + f.data.len + (uintptr_t)f.data.payload;
		rg_bench_do_not_optimize_u64(sum);
	}
	rg_bench_set_items(st, rg_bench_iterations(st) * (per_record ? nrec : 1));
	rg_bench_set_bytes(st, rg_bench_iterations(st) * (int64_t)len);
	rg_bench_set_label(st, per_record ? "record" : "packet");
}

void
rg_bench_codec_register(void)
{
	static const int per_pkt = 0, per_rec = 1;
	const int n = (int)RG_ARRAY_SIZE(payload_sizes);

	fill_payload();
	rg_bench_register("codec/encode_data", bench_encode_data, NULL, payload_sizes, n);
	rg_bench_register("codec/encode_pkt", bench_encode_pkt, NULL, payload_sizes, n);
	rg_bench_register("codec/decode_pkt", bench_decode, &per_pkt, payload_sizes, n);
	rg_bench_register("codec/decode_rec", bench_decode, &per_rec, payload_sizes, n);
}
