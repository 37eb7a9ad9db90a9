/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the RGP v1 decoder (wire.h) on arbitrary bytes.
 *
 * Each input is decoded twice: as it is (every header check, the tag), and
 * sealed (version, type, length and tag made valid by rg_wire_seal), so the
 * fuzzer reaches the frame parser without having to forge a CRC32C. What
 * must hold (wire.h's contract), or the target aborts:
 *   1. nothing reads outside [pkt, pkt + len) (ASan: the copy is exactly len
 *      bytes on the heap);
 *   2. after rg_wire_open() accepted a packet, rg_wire_frame_next() walks
 *      frames that tile [RG_HDR_BYTES, len) exactly, each decoding to a frame
 *      that satisfies the invariants in wire.h;
 *   3. a frame re-encoded with the rg_wire_put_*() writers decodes to the
 *      same frame (the writers and the decoder agree on the layout).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t scratch[RG_PKT_BYTES_MAX];

static void
check_same(const struct rg_frame *a, const struct rg_frame *b)
{
	if (a->type != b->type)
		abort();
	switch (a->type) {
	case RG_FRAME_DATA:
		if (a->data.stream != b->data.stream || a->data.seq != b->data.seq ||
		    a->data.version != b->data.version || a->data.off != b->data.off ||
		    a->data.record_len != b->data.record_len || a->data.len != b->data.len ||
		    a->data.last != b->data.last ||
		    memcmp(a->data.payload, b->data.payload, a->data.len) != 0)
			abort();
		break;
	case RG_FRAME_ACK:
		if (a->ack.nranges != b->ack.nranges ||
		    a->ack.ack_delay_ns != b->ack.ack_delay_ns ||
		    memcmp(a->ack.ranges, b->ack.ranges,
			   a->ack.nranges * sizeof(a->ack.ranges[0])) != 0)
			abort();
		break;
	case RG_FRAME_CREDIT:
	case RG_FRAME_APPLIED:
		if (a->su.stream != b->su.stream || a->su.value != b->su.value)
			abort();
		break;
	case RG_FRAME_HELLO:
		if (a->hello.lanes != b->hello.lanes || a->hello.flags != b->hello.flags)
			abort();
		break;
	case RG_FRAME_RESUME:
		if (a->resume.flags != b->resume.flags || a->resume.stream != b->resume.stream ||
		    a->resume.watermark != b->resume.watermark ||
		    a->resume.max_seq != b->resume.max_seq)
			abort();
		break;
	case RG_FRAME_CLOSE:
		if (a->close.reason != b->close.reason)
			abort();
		break;
	case RG_FRAME_SUBSCRIBE:
		if (a->sub.flags != b->sub.flags || a->sub.kind != b->sub.kind ||
		    a->sub.status != b->sub.status || a->sub.key != b->sub.key)
			abort();
		break;
	case RG_FRAME_PING:
		break;
	default:
		abort();
	}
}

/* Invariant 3: encode f again with the writers and decode that. */
static void
roundtrip(const struct rg_frame *f)
{
	struct rg_frame g;
	size_t n = 0;
	int m;

	switch (f->type) {
	case RG_FRAME_DATA:
		n = rg_wire_put_data(scratch, sizeof(scratch), f->data.stream, f->data.seq,
				     f->data.version, f->data.off, f->data.record_len,
				     f->data.payload, f->data.len);
		break;
	case RG_FRAME_ACK:
		/* the decoder reads an ack delay in µs: a whole number of µs survives */
		n = rg_wire_put_ack(scratch, sizeof(scratch), f->ack.ranges, f->ack.nranges,
				    f->ack.ack_delay_ns);
		break;
	case RG_FRAME_CREDIT:
	case RG_FRAME_APPLIED:
		n = rg_wire_put_su(scratch, sizeof(scratch), f->type, f->su.stream, f->su.value);
		break;
	case RG_FRAME_PING:
		n = rg_wire_put_ping(scratch, sizeof(scratch));
		break;
	case RG_FRAME_HELLO:
		n = rg_wire_put_hello(scratch, sizeof(scratch), f->hello.lanes, f->hello.flags);
		break;
	case RG_FRAME_RESUME:
		n = rg_wire_put_resume(scratch, sizeof(scratch), f->resume.flags, f->resume.stream,
				       f->resume.watermark, f->resume.max_seq);
		break;
	case RG_FRAME_CLOSE:
		n = rg_wire_put_close(scratch, sizeof(scratch), f->close.reason);
		break;
	case RG_FRAME_SUBSCRIBE:
		n = rg_wire_put_subscribe(scratch, sizeof(scratch), f->sub.flags, f->sub.kind,
					  f->sub.status, f->sub.key);
		break;
	}
	if (n == 0)
		abort(); /* every decoded frame fits a packet-sized buffer */
	m = rg_wire_frame_decode(scratch, n, &g);
	if (m < 0 || (size_t)m != n)
		abort();
	check_same(f, &g);
}

/* Invariants 2 and 3 on a packet rg_wire_open() accepted. */
static void
walk(const uint8_t *pkt, size_t len)
{
	struct rg_frame f;
	size_t off = RG_HDR_BYTES, prev;
	unsigned frames = 0;

	for (;;) {
		prev = off;
		if (!rg_wire_frame_next(pkt, len, &off, &f))
			break;
		if (off <= prev || off > len)
			abort();
		if (f.type == RG_FRAME_DATA &&
		    ((uint64_t)f.data.off + f.data.len > f.data.record_len ||
		     f.data.record_len > RG_RECORD_BYTES_MAX || f.data.stream == 0 ||
		     f.data.seq == 0 || f.data.payload + f.data.len > pkt + len))
			abort();
		if (f.type == RG_FRAME_ACK) {
			if (f.ack.nranges < 1 || f.ack.nranges > RG_ACK_RANGES_MAX)
				abort();
			for (unsigned i = 0; i < f.ack.nranges; i++)
				if (f.ack.ranges[i].lo > f.ack.ranges[i].hi ||
				    (i > 0 && f.ack.ranges[i].hi + 1 >= f.ack.ranges[i - 1].lo))
					abort();
		}
		roundtrip(&f);
		frames++;
	}
	if (off != len || frames == 0)
		abort();
}

static void
open_and_walk(const uint8_t *pkt, size_t len)
{
	struct rg_hdr h;
	uint16_t gw, lane;
	uint64_t inc;

	(void)rg_wire_peek_route(pkt, len, &gw, &lane, &inc);
	if (rg_wire_open(pkt, len, &h) == RG_WIRE_OK) {
		if (h.type != RG_PKT_FRAMES || lane != h.lane || gw != h.src_gw || inc != h.src_inc)
			abort();
		walk(pkt, len);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *pkt = malloc(size > 0 ? size : 1);

	if (pkt == NULL)
		return 0;
	memcpy(pkt, data, size);
	open_and_walk(pkt, size); /* as it came */
	if (size >= RG_HDR_BYTES && size <= RG_PKT_BYTES_MAX) {
		pkt[0] = RG_WIRE_VERSION;
		pkt[1] = RG_PKT_FRAMES;
		rg_wire_seal(pkt, size);
		open_and_walk(pkt, size); /* with a valid header and tag */
	}
	free(pkt);
	return 0;
}
