/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "crc32c.h"
#include "wire.h"

static const char *const drop_names[RG_WIRE_DROP_MAX] = { [RG_WIRE_OK] = "ok",
#define RG_X(name, text) [RG_WIRE_DROP_##name] = #name,
							  RG_WIRE_DROPS(RG_X)
#undef RG_X
};

const char *
rg_wire_drop_name(enum rg_wire_drop reason)
{
	if ((unsigned)reason >= RG_WIRE_DROP_MAX)
		return "?";
	return drop_names[reason];
}

/* The fixed part of each frame, indexed by type; 0 = unknown type. */
static const uint8_t frame_fixed_bytes[256] = {
#define RG_X(name, val, size) [val] = size,
	RG_FRAME_TYPES(RG_X)
#undef RG_X
};

size_t
rg_wire_put_hdr(uint8_t *p, size_t room, const struct rg_hdr *h)
{
	struct rg_wire_hdr *w = (struct rg_wire_hdr *)p;

	if (room < RG_HDR_BYTES)
		return 0;
	w->version = RG_WIRE_VERSION;
	w->type = h->type;
	w->length = 0;
	w->lane = RG_LE16(h->lane);
	w->src_gw = RG_LE16(h->src_gw);
	w->pn32 = RG_LE32(h->pn32);
	w->crc = RG_LE32(h->epoch); /* FRAMES: rg_wire_seal writes the CRC over it */
	w->src_inc = RG_LE64(h->src_inc);
	w->dst_inc = RG_LE64(h->dst_inc);
	return RG_HDR_BYTES;
}

static uint32_t
packet_crc(const uint8_t *pkt, size_t len)
{
	uint32_t crc = rg_crc32c(RG_CRC32C_INIT, pkt, offsetof(struct rg_wire_hdr, crc));
	size_t after = offsetof(struct rg_wire_hdr, src_inc);

	crc = rg_crc32c(crc, pkt + after, len - after);
	return rg_crc32c_final(crc);
}

void
rg_wire_seal(uint8_t *pkt, size_t len)
{
	struct rg_wire_hdr *w = (struct rg_wire_hdr *)pkt;

	RG_ASSERT(len >= RG_HDR_BYTES && len <= RG_PKT_BYTES_MAX);
	w->length = RG_LE16((uint16_t)(len - RG_HDR_BYTES));
	w->crc = RG_LE32(packet_crc(pkt, len));
}

size_t
rg_wire_put_data(uint8_t *p, size_t room, uint64_t stream, uint64_t seq, uint32_t version,
		 uint32_t off, uint32_t record_len, const void *payload, uint16_t len)
{
	struct rg_wire_data *w = (struct rg_wire_data *)p;
	size_t need = sizeof(*w) + len;

	if (room < need)
		return 0;
	RG_DEBUG_ASSERT((uint64_t)off + len <= record_len);
	w->type = RG_FRAME_DATA;
	w->flags = (uint64_t)off + len == record_len ? RG_DATA_LAST : 0;
	w->len = RG_LE16(len);
	w->version = RG_LE32(version);
	w->stream = RG_LE64(stream);
	w->seq = RG_LE64(seq);
	w->off = RG_LE32(off);
	w->record_len = RG_LE32(record_len);
	if (len > 0)
		memcpy(p + sizeof(*w), payload, len);
	return need;
}

size_t
rg_wire_put_ack(uint8_t *p, size_t room, const struct rg_pn_range *ranges, unsigned n,
		uint64_t ack_delay_ns)
{
	struct rg_wire_ack *w = (struct rg_wire_ack *)p;
	struct rg_wire_ack_range *r = (struct rg_wire_ack_range *)(p + sizeof(*w));
	uint64_t delay_us = ack_delay_ns / RG_NS_PER_US;
	unsigned fit;

	RG_ASSERT(n >= 1);
	if (room < rg_wire_ack_bytes(1))
		return 0;
	fit = (unsigned)((room - sizeof(*w)) / sizeof(*r)) + 1;
	n = RG_MIN(n, RG_MIN(fit, (unsigned)RG_ACK_RANGES_MAX));
	/* Ranges wider than the u32 fields could say are cut to what fits (still correct acks). */
	w->type = RG_FRAME_ACK;
	w->nranges = (uint8_t)(n - 1);
	w->reserved = 0;
	w->ack_delay_us = RG_LE32(delay_us > UINT32_MAX ? UINT32_MAX : (uint32_t)delay_us);
	w->largest = RG_LE64(ranges[0].hi);
	w->first_range = RG_LE32((uint32_t)RG_MIN(ranges[0].hi - ranges[0].lo, UINT32_MAX));
	for (unsigned i = 1; i < n; i++) {
		uint64_t prev_lo = ranges[i - 1].hi - RG_MIN(ranges[i - 1].hi - ranges[i - 1].lo,
							     (uint64_t)UINT32_MAX);
		uint64_t gap = prev_lo - ranges[i].hi - 2;

		RG_DEBUG_ASSERT(ranges[i].hi + 2 <= prev_lo);
		if (gap > UINT32_MAX) {
			n = i;
			w->nranges = (uint8_t)(n - 1);
			break;
		}
		r[i - 1].gap = RG_LE32((uint32_t)gap);
		r[i - 1].len = RG_LE32((uint32_t)RG_MIN(ranges[i].hi - ranges[i].lo, UINT32_MAX));
	}
	return rg_wire_ack_bytes(n);
}

size_t
rg_wire_put_su(uint8_t *p, size_t room, enum rg_frame_type type, uint64_t stream, uint64_t value)
{
	struct rg_wire_stream_u64 *w = (struct rg_wire_stream_u64 *)p;

	RG_DEBUG_ASSERT(type == RG_FRAME_CREDIT || type == RG_FRAME_APPLIED);
	if (room < sizeof(*w))
		return 0;
	memset(w, 0, sizeof(*w));
	w->type = (uint8_t)type;
	w->stream = RG_LE64(stream);
	w->value = RG_LE64(value);
	return sizeof(*w);
}

size_t
rg_wire_put_ping(uint8_t *p, size_t room)
{
	if (room < sizeof(struct rg_wire_ping))
		return 0;
	memset(p, 0, sizeof(struct rg_wire_ping));
	p[0] = RG_FRAME_PING;
	return sizeof(struct rg_wire_ping);
}

size_t
rg_wire_put_hello(uint8_t *p, size_t room, uint16_t lanes, uint8_t flags)
{
	struct rg_wire_hello *w = (struct rg_wire_hello *)p;

	if (room < sizeof(*w))
		return 0;
	memset(w, 0, sizeof(*w));
	w->type = RG_FRAME_HELLO;
	w->flags = flags;
	w->lanes = RG_LE16(lanes);
	return sizeof(*w);
}

size_t
rg_wire_put_resume(uint8_t *p, size_t room, uint8_t flags, uint64_t stream, uint64_t watermark,
		   uint64_t max_seq)
{
	struct rg_wire_resume *w = (struct rg_wire_resume *)p;

	if (room < sizeof(*w))
		return 0;
	memset(w, 0, sizeof(*w));
	w->type = RG_FRAME_RESUME;
	w->flags = flags;
	w->stream = RG_LE64(stream);
	w->watermark = RG_LE64(watermark);
	w->max_seq = RG_LE64(max_seq);
	return sizeof(*w);
}

size_t
rg_wire_put_close(uint8_t *p, size_t room, uint32_t reason)
{
	struct rg_wire_close *w = (struct rg_wire_close *)p;

	if (room < sizeof(*w))
		return 0;
	memset(w, 0, sizeof(*w));
	w->type = RG_FRAME_CLOSE;
	w->reason = RG_LE32(reason);
	return sizeof(*w);
}

size_t
rg_wire_put_subscribe(uint8_t *p, size_t room, uint8_t flags, uint8_t kind, uint8_t status,
		      uint64_t key)
{
	struct rg_wire_subscribe *w = (struct rg_wire_subscribe *)p;

	if (room < sizeof(*w))
		return 0;
	memset(w, 0, sizeof(*w));
	w->type = RG_FRAME_SUBSCRIBE;
	w->flags = flags;
	w->kind = kind;
	w->status = status;
	w->key = RG_LE64(key);
	return sizeof(*w);
}

static const char *const sub_status_names[RG_SUB_STATUS_MAX] = {
#define RG_X(name, text) [RG_SUB_##name] = #name,
	RG_SUB_STATUSES(RG_X)
#undef RG_X
};

const char *
rg_sub_status_name(enum rg_sub_status s)
{
	return (unsigned)s < RG_SUB_STATUS_MAX ? sub_status_names[s] : "?";
}

/* A SUBSCRIBE is well formed (docs/protocol.md §4: SUBSCRIBE). */
static int
subscribe_ok(const struct rg_wire_subscribe *w)
{
	uint64_t key = RG_LE64(w->key);

	if (w->flags != RG_SUB_REQUEST && w->flags != RG_SUB_REPLY)
		return 0;
	if (w->kind != RG_SUB_STREAM && w->kind != RG_SUB_NAMESPACE)
		return 0;
	if (key == 0 || (w->kind == RG_SUB_NAMESPACE && (uint32_t)key != 0))
		return 0;
	return w->flags == RG_SUB_REPLY ? w->status < RG_SUB_STATUS_MAX : w->status == 0;
}

static int
decode_data(const uint8_t *p, size_t room, struct rg_frame *f)
{
	const struct rg_wire_data *w = (const struct rg_wire_data *)p;
	uint16_t len = RG_LE16(w->len);
	uint32_t off = RG_LE32(w->off), record_len = RG_LE32(w->record_len);
	int last = (w->flags & RG_DATA_LAST) != 0;

	if (room - sizeof(*w) < len)
		return -RG_WIRE_DROP_FRAME_TRUNCATED;
	if (record_len > RG_RECORD_BYTES_MAX || (uint64_t)off + len > record_len ||
	    last != ((uint64_t)off + len == record_len) || (len == 0 && record_len != 0) ||
	    (w->flags & ~RG_DATA_LAST) != 0 || w->stream == 0 || w->seq == 0)
		return -RG_WIRE_DROP_BAD_FRAME;
	f->data.stream = RG_LE64(w->stream);
	f->data.seq = RG_LE64(w->seq);
	f->data.version = RG_LE32(w->version);
	f->data.off = off;
	f->data.record_len = record_len;
	f->data.len = len;
	f->data.last = (uint8_t)last;
	f->data.payload = p + sizeof(*w);
	return (int)(sizeof(*w) + len);
}

static int
decode_ack(const uint8_t *p, size_t room, struct rg_frame *f)
{
	const struct rg_wire_ack *w = (const struct rg_wire_ack *)p;
	const struct rg_wire_ack_range *r = (const struct rg_wire_ack_range *)(p + sizeof(*w));
	unsigned extra = w->nranges;
	uint64_t largest = RG_LE64(w->largest), first = RG_LE32(w->first_range);
	uint64_t lo;

	if (extra >= RG_ACK_RANGES_MAX || w->reserved != 0)
		return -RG_WIRE_DROP_BAD_FRAME;
	if (room < rg_wire_ack_bytes(extra + 1))
		return -RG_WIRE_DROP_FRAME_TRUNCATED;
	if (first > largest)
		return -RG_WIRE_DROP_BAD_FRAME;
	lo = largest - first;
	f->ack.ranges[0].hi = largest;
	f->ack.ranges[0].lo = lo;
	for (unsigned i = 0; i < extra; i++) {
		uint64_t gap = RG_LE32(r[i].gap), len = RG_LE32(r[i].len), hi;

		if (lo < gap + 2)
			return -RG_WIRE_DROP_BAD_FRAME;
		hi = lo - gap - 2;
		if (len > hi)
			return -RG_WIRE_DROP_BAD_FRAME;
		lo = hi - len;
		f->ack.ranges[i + 1].hi = hi;
		f->ack.ranges[i + 1].lo = lo;
	}
	f->ack.nranges = (uint8_t)(extra + 1);
	f->ack.ack_delay_ns = (uint64_t)RG_LE32(w->ack_delay_us) * RG_NS_PER_US;
	return (int)rg_wire_ack_bytes(extra + 1);
}

static int
decode_fixed(const uint8_t *p, struct rg_frame *f)
{
	switch (f->type) {
	case RG_FRAME_CREDIT:
	case RG_FRAME_APPLIED: {
		const struct rg_wire_stream_u64 *w = (const struct rg_wire_stream_u64 *)p;

		/* A watermark is a seq: 2^64 - 1 is never one, and watermark + 1 would wrap to 0. */
		if (w->stream == 0 ||
		    (f->type == RG_FRAME_APPLIED && RG_LE64(w->value) == UINT64_MAX))
			return -RG_WIRE_DROP_BAD_FRAME;
		f->su.stream = RG_LE64(w->stream);
		f->su.value = RG_LE64(w->value);
		return sizeof(*w);
	}
	case RG_FRAME_PING:
		return sizeof(struct rg_wire_ping);
	case RG_FRAME_HELLO: {
		const struct rg_wire_hello *w = (const struct rg_wire_hello *)p;

		if (w->lanes == 0)
			return -RG_WIRE_DROP_BAD_FRAME;
		f->hello.lanes = RG_LE16(w->lanes);
		f->hello.flags = w->flags;
		return sizeof(*w);
	}
	case RG_FRAME_RESUME: {
		const struct rg_wire_resume *w = (const struct rg_wire_resume *)p;

		if (w->flags < RG_RESUME_REQUEST || w->flags > RG_RESUME_REWIND || w->stream == 0 ||
		    RG_LE64(w->max_seq) < RG_LE64(w->watermark) ||
		    RG_LE64(w->watermark) == UINT64_MAX)
			return -RG_WIRE_DROP_BAD_FRAME;
		f->resume.flags = w->flags;
		f->resume.stream = RG_LE64(w->stream);
		f->resume.watermark = RG_LE64(w->watermark);
		f->resume.max_seq = RG_LE64(w->max_seq);
		return sizeof(*w);
	}
	case RG_FRAME_CLOSE: {
		const struct rg_wire_close *w = (const struct rg_wire_close *)p;

		f->close.reason = RG_LE32(w->reason);
		return sizeof(*w);
	}
	case RG_FRAME_SUBSCRIBE: {
		const struct rg_wire_subscribe *w = (const struct rg_wire_subscribe *)p;

		if (!subscribe_ok(w))
			return -RG_WIRE_DROP_BAD_FRAME;
		f->sub.flags = w->flags;
		f->sub.kind = w->kind;
		f->sub.status = w->status;
		f->sub.key = RG_LE64(w->key);
		return sizeof(*w);
	}
	default:
		return -RG_WIRE_DROP_UNKNOWN_FRAME;
	}
}

int
rg_wire_frame_decode(const uint8_t *p, size_t room, struct rg_frame *f)
{
	uint8_t fixed;

	if (room == 0)
		return -RG_WIRE_DROP_FRAME_TRUNCATED;
	fixed = frame_fixed_bytes[p[0]];
	if (fixed == 0)
		return -RG_WIRE_DROP_UNKNOWN_FRAME;
	if (room < fixed)
		return -RG_WIRE_DROP_FRAME_TRUNCATED;
	f->type = (enum rg_frame_type)p[0];
	if (f->type == RG_FRAME_DATA)
		return decode_data(p, room, f);
	if (f->type == RG_FRAME_ACK)
		return decode_ack(p, room, f);
	return decode_fixed(p, f);
}

enum rg_wire_drop
rg_wire_open_hdr(const uint8_t *pkt, size_t len, struct rg_hdr *h)
{
	const struct rg_wire_hdr *w = (const struct rg_wire_hdr *)pkt;

	if (len < RG_HDR_BYTES)
		return RG_WIRE_DROP_TRUNCATED;
	if (w->version != RG_WIRE_VERSION)
		return RG_WIRE_DROP_BAD_VERSION;
	if (w->type != RG_PKT_FRAMES && w->type != RG_PKT_SEALED && w->type != RG_PKT_HANDSHAKE)
		return RG_WIRE_DROP_BAD_TYPE;
	if (len > RG_PKT_BYTES_MAX || RG_LE16(w->length) != len - RG_HDR_BYTES ||
	    (w->type == RG_PKT_SEALED && len < RG_HDR_BYTES + RG_AEAD_TAG_BYTES))
		return RG_WIRE_DROP_BAD_LENGTH;
	if (w->type == RG_PKT_HANDSHAKE &&
	    !(RG_LE32(w->pn32) == RG_HS_INIT && len == RG_HDR_BYTES + RG_WIRE_HS_INIT_BYTES) &&
	    !(RG_LE32(w->pn32) == RG_HS_RESP && len == RG_HDR_BYTES + RG_WIRE_HS_RESP_BYTES))
		return RG_WIRE_DROP_BAD_LENGTH;
	h->type = w->type;
	h->lane = RG_LE16(w->lane);
	h->src_gw = RG_LE16(w->src_gw);
	h->pn32 = RG_LE32(w->pn32);
	h->epoch = w->type == RG_PKT_FRAMES ? 0 : RG_LE32(w->crc);
	h->src_inc = RG_LE64(w->src_inc);
	h->dst_inc = RG_LE64(w->dst_inc);
	return RG_WIRE_OK;
}

enum rg_wire_drop
rg_wire_check_frames(const uint8_t *pkt, size_t len)
{
	struct rg_frame f;
	size_t off;

	if (len == RG_HDR_BYTES)
		return RG_WIRE_DROP_EMPTY;
	/* Bounded: each frame is at least 4 bytes, so at most RG_PKT_BYTES_MAX / 4 steps. */
	for (off = RG_HDR_BYTES; off < len;) {
		int n = rg_wire_frame_decode(pkt + off, len - off, &f);

		if (n < 0)
			return (enum rg_wire_drop) - n;
		off += (size_t)n;
	}
	return RG_WIRE_OK;
}

enum rg_wire_drop
rg_wire_open(const uint8_t *pkt, size_t len, struct rg_hdr *h)
{
	const struct rg_wire_hdr *w = (const struct rg_wire_hdr *)pkt;
	struct rg_hdr tmp;
	enum rg_wire_drop d;

	if (len >= RG_HDR_BYTES && w->version == RG_WIRE_VERSION && w->type != RG_PKT_FRAMES)
		return RG_WIRE_DROP_BAD_TYPE; /* sealed and handshake packets: the core's AEAD */
	d = rg_wire_open_hdr(pkt, len, &tmp);
	if (d != RG_WIRE_OK)
		return d;
	if (!RG_CANARY_IS(SKIP_CRC) && RG_LE32(w->crc) != packet_crc(pkt, len))
		return RG_WIRE_DROP_BAD_CRC;
	d = rg_wire_check_frames(pkt, len);
	if (d != RG_WIRE_OK)
		return d;
	*h = tmp;
	return RG_WIRE_OK;
}

void
rg_wire_set_sealed_length(uint8_t *pkt, size_t len)
{
	struct rg_wire_hdr *w = (struct rg_wire_hdr *)pkt;

	RG_ASSERT(len >= RG_HDR_BYTES + RG_AEAD_TAG_BYTES && len <= RG_PKT_BYTES_MAX);
	w->length = RG_LE16((uint16_t)(len - RG_HDR_BYTES));
}

int
rg_wire_frame_next(const uint8_t *pkt, size_t len, size_t *off, struct rg_frame *f)
{
	int n;

	if (*off >= len)
		return 0;
	n = rg_wire_frame_decode(pkt + *off, len - *off, f);
	RG_ASSERT(n > 0); /* contract 2: rg_wire_open() already validated every frame */
	*off += (size_t)n;
	return 1;
}
