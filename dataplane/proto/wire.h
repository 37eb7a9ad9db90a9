/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RGP v1 wire codec: the packet header, the frames, and the validation that
 * turns every malformed input into a distinct drop reason. Pure functions over
 * byte buffers; docs/protocol.md has the same layouts with the invariants.
 *
 * Byte order is little-endian for every multi-byte field: every gateway host
 * we target (x86-64, arm64) is little-endian, so a field is one load with no
 * swap. Frames are not aligned inside a packet; all access goes through the
 * packed structs below (the compiler emits unaligned-safe loads).
 *
 * Contract of the decoder:
 *   1. rg_wire_open() validates the WHOLE packet (header, tag, and every frame)
 *      before the caller acts on any frame, so a malformed frame in the middle
 *      never leaves half a packet applied.
 *   2. After rg_wire_open() returned RG_DROP_NONE, rg_wire_frame_next() cannot
 *      fail: it walks the same frames again and decodes them.
 *   3. Nothing here reads beyond [pkt, pkt + len), whatever the bytes say.
 */
#ifndef RG_PROTO_WIRE_H
#define RG_PROTO_WIRE_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "common.h"

#define RG_WIRE_VERSION     1
#define RG_RECORD_BYTES_MAX (1u << 20) /* 1 MiB: the largest record payload */
#define RG_ACK_RANGES_MAX   32         /* ranges in one ACK frame, the first included */
#define RG_PKT_BYTES_MAX    9000       /* largest RGP packet (UDP payload) we build or take */

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define RG_LE16(x) ((uint16_t)(x))
#define RG_LE32(x) ((uint32_t)(x))
#define RG_LE64(x) ((uint64_t)(x))
#else
#define RG_LE16(x) __builtin_bswap16(x)
#define RG_LE32(x) __builtin_bswap32(x)
#define RG_LE64(x) __builtin_bswap64(x)
#endif

/*
 * Little-endian fields at any (unaligned) address of a byte buffer, for
 * formats that are not the packed structs below: the test record (record.h)
 * and rg-tcp-relay's framing.
 */
static inline uint32_t
rg_wire_get_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return RG_LE32(v);
}

static inline uint64_t
rg_wire_get_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return RG_LE64(v);
}

static inline void
rg_wire_put_le32(uint8_t *p, uint32_t v)
{
	v = RG_LE32(v);
	memcpy(p, &v, 4);
}

static inline void
rg_wire_put_le64(uint8_t *p, uint64_t v)
{
	v = RG_LE64(v);
	memcpy(p, &v, 8);
}

/* Packet types (the header's type byte). */
enum rg_pkt_type {
	RG_PKT_FRAMES = 1, /* a CRC32C-tagged packet of frames */
	RG_PKT_SEALED =
	    2, /* AEAD-sealed: the frames encrypted, RG_AEAD_TAG_BYTES of tag after them */
	RG_PKT_HANDSHAKE = 3, /* a Noise IK message: pn32 says which (enum rg_hs_kind) */
};

/* A HANDSHAKE packet's message (its header's pn32) and its length after the header. */
enum rg_hs_kind {
	RG_HS_INIT = 1,
	RG_HS_RESP = 2,
};
#define RG_WIRE_HS_INIT_BYTES 96
#define RG_WIRE_HS_RESP_BYTES 56

/* X-macro: frame type, wire value, fixed size in bytes (DATA adds its payload). */
#define RG_FRAME_TYPES(X) \
	X(DATA, 1, 32)    \
	X(ACK, 2, 20)     \
	X(CREDIT, 3, 24)  \
	X(APPLIED, 4, 24) \
	X(PING, 5, 4)     \
	X(HELLO, 6, 8)    \
	X(RESUME, 7, 32)  \
	X(CLOSE, 8, 8)    \
	X(SUBSCRIBE, 9, 16)

enum rg_frame_type {
#define RG_X(name, val, size) RG_FRAME_##name = val,
	RG_FRAME_TYPES(RG_X)
#undef RG_X
};

#define RG_AEAD_TAG_BYTES   16
#define RG_AEAD_NONCE_BYTES 12

/* X-macro: why the codec rejected a packet. Each has its own counter. */
#define RG_WIRE_DROPS(X)                                                  \
	X(TRUNCATED, "shorter than the RGP header")                       \
	X(BAD_VERSION, "unknown protocol version")                        \
	X(BAD_TYPE, "unknown packet type")                                \
	X(BAD_LENGTH, "header length disagrees with the datagram length") \
	X(BAD_CRC, "integrity tag mismatch")                              \
	X(FRAME_TRUNCATED, "a frame overruns the end of the packet")      \
	X(UNKNOWN_FRAME, "unknown frame type")                            \
	X(BAD_FRAME, "a frame field is out of range")                     \
	X(EMPTY, "a packet with no frames")

enum rg_wire_drop {
	RG_WIRE_OK = 0,
#define RG_X(name, text) RG_WIRE_DROP_##name,
	RG_WIRE_DROPS(RG_X)
#undef RG_X
	RG_WIRE_DROP_MAX
};

const char *rg_wire_drop_name(enum rg_wire_drop reason);

/*
 * Packet header, 32 bytes:
 *
 *  0       1       2       3       4       5       6       7
 * +-------+-------+-------+-------+-------+-------+-------+-------+
 * |version| type  |    length     |     lane      |  src gateway  |
 * +-------+-------+-------+-------+-------+-------+-------+-------+
 * |   packet number (low 32 bits) |        CRC32C tag             |
 * +-------+-------+-------+-------+-------+-------+-------+-------+
 * |                     src incarnation                           |
 * +---------------------------------------------------------------+
 * |            dst incarnation (0 = not known yet)                |
 * +---------------------------------------------------------------+
 *
 * length counts the frame bytes after the header. The tag is CRC32C over
 * bytes [0, 12) and [16, 32 + length): everything but the tag itself.
 */
struct rg_wire_hdr {
	uint8_t version;
	uint8_t type;
	uint16_t length;
	uint16_t lane;
	uint16_t src_gw;
	uint32_t pn32;
	uint32_t crc;
	uint64_t src_inc;
	uint64_t dst_inc;
} __attribute__((packed));
static_assert(sizeof(struct rg_wire_hdr) == 32, "RGP header is 32 bytes");
#define RG_HDR_BYTES ((size_t)sizeof(struct rg_wire_hdr))

/*
 * The fields a port's RX path routes by, read from an RGP packet before it
 * is validated (the core validates it): who sent it, on which lane, from
 * which incarnation. 0, or -1 when len is shorter than a header.
 */
static inline int
rg_wire_peek_route(const uint8_t *pkt, size_t len, uint16_t *src_gw, uint16_t *lane,
		   uint64_t *src_inc)
{
	const struct rg_wire_hdr *w = (const struct rg_wire_hdr *)pkt;

	if (len < sizeof(*w))
		return -1;
	*src_gw = RG_LE16(w->src_gw);
	*lane = RG_LE16(w->lane);
	*src_inc = RG_LE64(w->src_inc);
	return 0;
}

/* The decoded header; pn is still the truncated 32-bit value (see rg_pn_decode). */
struct rg_hdr {
	uint8_t type;
	uint16_t lane;
	uint16_t src_gw;
	uint32_t pn32;
	uint32_t epoch; /* SEALED and HANDSHAKE: the session (the CRC field); FRAMES: 0 */
	uint64_t src_inc;
	uint64_t dst_inc;
};

/*
 * DATA, 32 bytes + payload:
 *
 * +-------+-------+---------------+-------------------------------+
 * | type  | flags |  payload len  |       failover version        |
 * +-------+-------+---------------+-------------------------------+
 * |                          stream id                            |
 * +---------------------------------------------------------------+
 * |                             seq                               |
 * +-------------------------------+-------------------------------+
 * |       fragment offset         |        record length          |
 * +-------------------------------+-------------------------------+
 * |  payload ...                                                  |
 *
 * Invariants: offset + len <= record length <= 1 MiB; the LAST flag is set
 * exactly when offset + len == record length; seq >= 1; stream != 0;
 * len == 0 only for an empty record.
 */
#define RG_DATA_LAST 0x01
struct rg_wire_data {
	uint8_t type;
	uint8_t flags;
	uint16_t len;
	uint32_t version;
	uint64_t stream;
	uint64_t seq;
	uint32_t off;
	uint32_t record_len;
} __attribute__((packed));
static_assert(sizeof(struct rg_wire_data) == 32, "DATA frame header is 32 bytes");

/*
 * ACK, 20 bytes + 8 per extra range (RFC 9000 §19.3 ranges, fixed width):
 *
 * +-------+-------+---------------+-------------------------------+
 * | type  |nranges|   reserved    |       ack delay (µs)          |
 * +-------+-------+---------------+-------------------------------+
 * |                     largest acknowledged                      |
 * +-------------------------------+-------------------------------+
 * |         first range           |            gap 1              |
 * +-------------------------------+-------------------------------+
 * |            len 1              |   gap 2, len 2, ...           |
 * +-------------------------------+-------------------------------+
 *
 * The first range acks [largest - first_range, largest]. Each extra range i
 * acks [hi_i - len_i, hi_i] with hi_i = lo_(i-1) - gap_i - 2, so ranges are
 * disjoint, descending and separated by at least one missing packet.
 * nranges counts the extra ranges (< RG_ACK_RANGES_MAX).
 */
struct rg_wire_ack {
	uint8_t type;
	uint8_t nranges;
	uint16_t reserved;
	uint32_t ack_delay_us;
	uint64_t largest;
	uint32_t first_range;
} __attribute__((packed));
static_assert(sizeof(struct rg_wire_ack) == 20, "ACK frame header is 20 bytes");

struct rg_wire_ack_range {
	uint32_t gap;
	uint32_t len;
} __attribute__((packed));
static_assert(sizeof(struct rg_wire_ack_range) == 8, "ACK range is 8 bytes");

/* CREDIT and APPLIED, 24 bytes: type, 7 reserved bytes, stream, value. */
struct rg_wire_stream_u64 {
	uint8_t type;
	uint8_t reserved[7];
	uint64_t stream;
	uint64_t value;
} __attribute__((packed));
static_assert(sizeof(struct rg_wire_stream_u64) == 24, "CREDIT/APPLIED frames are 24 bytes");

/* PING, 4 bytes: type and 3 reserved bytes. Ack-eliciting, carries nothing. */
struct rg_wire_ping {
	uint8_t type;
	uint8_t reserved[3];
} __attribute__((packed));
static_assert(sizeof(struct rg_wire_ping) == 4, "PING frame is 4 bytes");

/*
 * HELLO, 8 bytes: announces the sender's incarnation (in the header) and its
 * lane count. ASK: the sender does not know our lane count yet; answer with a
 * HELLO (a client learns how many lanes its gateway serves it on this way).
 */
#define RG_HELLO_ASK 0x01
struct rg_wire_hello {
	uint8_t type;
	uint8_t flags;
	uint16_t lanes;
	uint32_t reserved;
} __attribute__((packed));
static_assert(sizeof(struct rg_wire_hello) == 8, "HELLO frame is 8 bytes");

/*
 * RESUME, 32 bytes. REQUEST (sender → receiver): "where does stream S
 * resume?". REPLY (receiver → sender): the applied watermark and the first
 * credit. A REQUEST carries zero watermark and max_seq. REWIND (receiver →
 * sender, on an open stream): "start over at watermark + 1", with the new
 * credit: a relay whose next hop asked for records it no longer has passes
 * the request upstream (docs/protocol.md §Relay).
 */
#define RG_RESUME_REQUEST 1
#define RG_RESUME_REPLY   2
#define RG_RESUME_REWIND  3
struct rg_wire_resume {
	uint8_t type;
	uint8_t flags;
	uint8_t reserved[6];
	uint64_t stream;
	uint64_t watermark;
	uint64_t max_seq;
} __attribute__((packed));
static_assert(sizeof(struct rg_wire_resume) == 32, "RESUME frame is 32 bytes");

/* CLOSE, 8 bytes: the sender is shutting down cleanly. */
struct rg_wire_close {
	uint8_t type;
	uint8_t reserved[3];
	uint32_t reason;
} __attribute__((packed));
static_assert(sizeof(struct rg_wire_close) == 8, "CLOSE frame is 8 bytes");

/*
 * SUBSCRIBE, 16 bytes: a consumer asks its gateway for a stream or for every
 * stream of a namespace (REQUEST, status 0); the gateway answers (REPLY)
 * with RG_SUB_OK or the reason it refuses. The key is the stream id, or the
 * namespace in the high 32 bits (the low 32 bits zero) for NAMESPACE.
 *
 *  0      1      2      3      4                             8
 *  +------+------+------+------+-----------------------------+
 *  | type |flags | kind |status|        reserved = 0         |
 *  +------+------+------+------+-----------------------------+
 *  |                       key (stream or ns << 32)          |
 *  +---------------------------------------------------------+
 */
#define RG_SUB_REQUEST 1
#define RG_SUB_REPLY   2

enum rg_sub_kind {
	RG_SUB_STREAM = 1,
	RG_SUB_NAMESPACE = 2,
};

/* X-macro: a SUBSCRIBE reply's status, and what it means to the consumer. */
#define RG_SUB_STATUSES(X)                                              \
	X(OK, "subscribed")                                             \
	X(BUSY, "another consumer holds the stream")                    \
	X(FULL, "the gateway's subscription table is full")             \
	X(NOT_ALLOWED, "this client may not subscribe at this gateway") \
	X(UNKNOWN, "the gateway knows no such stream or namespace")

enum rg_sub_status {
#define RG_X(name, text) RG_SUB_##name,
	RG_SUB_STATUSES(RG_X)
#undef RG_X
	RG_SUB_STATUS_MAX
};

const char *rg_sub_status_name(enum rg_sub_status s);

struct rg_wire_subscribe {
	uint8_t type;
	uint8_t flags;
	uint8_t kind;
	uint8_t status;
	uint32_t reserved;
	uint64_t key;
} __attribute__((packed));
static_assert(sizeof(struct rg_wire_subscribe) == 16, "SUBSCRIBE frame is 16 bytes");

/* An acknowledged range [lo, hi], both inclusive. */
struct rg_pn_range {
	uint64_t lo;
	uint64_t hi;
};

/* A decoded frame. Pointers point into the packet. */
struct rg_frame {
	enum rg_frame_type type;
	union {
		struct {
			uint64_t stream;
			uint64_t seq;
			uint32_t version;
			uint32_t off;
			uint32_t record_len;
			uint16_t len;
			uint8_t last;
			const uint8_t *payload;
		} data;
		struct {
			uint64_t ack_delay_ns;
			uint8_t nranges; /* ranges[0] is the first range */
			struct rg_pn_range ranges[RG_ACK_RANGES_MAX];
		} ack;
		struct {
			uint64_t stream;
			uint64_t value; /* CREDIT: max seq; APPLIED: applied watermark */
		} su;
		struct {
			uint16_t lanes;
			uint8_t flags;
		} hello;
		struct {
			uint8_t flags;
			uint64_t stream;
			uint64_t watermark;
			uint64_t max_seq;
		} resume;
		struct {
			uint32_t reason;
		} close;
		struct {
			uint8_t flags;
			uint8_t kind;
			uint8_t status;
			uint64_t key;
		} sub;
	};
};

/* ---- encoding: each returns the bytes written, or 0 when it does not fit in room ---- */

/* Writes the header; length and tag are filled in by rg_wire_seal(). */
size_t rg_wire_put_hdr(uint8_t *p, size_t room, const struct rg_hdr *h);
/* Sets the header's length to len - RG_HDR_BYTES and computes the tag over the packet. */
void rg_wire_seal(uint8_t *pkt, size_t len);

size_t rg_wire_put_data(uint8_t *p, size_t room, uint64_t stream, uint64_t seq, uint32_t version,
			uint32_t off, uint32_t record_len, const void *payload, uint16_t len);
/* Encodes ranges[0..n) (descending, disjoint); writes as many as fit, at least one. */
size_t rg_wire_put_ack(uint8_t *p, size_t room, const struct rg_pn_range *ranges, unsigned n,
		       uint64_t ack_delay_ns);
size_t rg_wire_put_su(uint8_t *p, size_t room, enum rg_frame_type type, uint64_t stream,
		      uint64_t value);
size_t rg_wire_put_ping(uint8_t *p, size_t room);
size_t rg_wire_put_hello(uint8_t *p, size_t room, uint16_t lanes, uint8_t flags);
size_t rg_wire_put_resume(uint8_t *p, size_t room, uint8_t flags, uint64_t stream,
			  uint64_t watermark, uint64_t max_seq);
size_t rg_wire_put_close(uint8_t *p, size_t room, uint32_t reason);
size_t rg_wire_put_subscribe(uint8_t *p, size_t room, uint8_t flags, uint8_t kind, uint8_t status,
			     uint64_t key);

/* Size of an ACK frame carrying n ranges (n >= 1). */
static inline size_t
rg_wire_ack_bytes(unsigned n)
{
	return sizeof(struct rg_wire_ack) + (size_t)(n - 1) * sizeof(struct rg_wire_ack_range);
}

/* ---- decoding ---- */

/*
 * Validates a received packet of len bytes and decodes its header into *h.
 * Returns RG_WIRE_OK or the reason to drop it; on a drop *h is undefined.
 */
enum rg_wire_drop rg_wire_open(const uint8_t *pkt, size_t len, struct rg_hdr *h);

/*
 * The sealed path (docs/protocol.md §3a), in three steps so that nothing is
 * read from the frames before the tag checks: rg_wire_open_hdr() checks the
 * version, the type (FRAMES or SEALED), the length (a SEALED packet has room
 * for its tag) and decodes the header; the caller opens the AEAD; then
 * rg_wire_check_frames() validates the frames of the plaintext, len being
 * the datagram length less the tag. After it accepted them, the contract of
 * rg_wire_frame_next() holds as for rg_wire_open().
 */
enum rg_wire_drop rg_wire_open_hdr(const uint8_t *pkt, size_t len, struct rg_hdr *h);
enum rg_wire_drop rg_wire_check_frames(const uint8_t *pkt, size_t len);
/* A sealed packet's header: length = len - RG_HDR_BYTES (tag included); the CRC field keeps
 * the epoch rg_wire_put_hdr wrote. */
void rg_wire_set_sealed_length(uint8_t *pkt, size_t len);

/*
 * Decodes the frame at *off in a packet that rg_wire_open() accepted and
 * advances *off. Returns 1 when a frame was decoded, 0 at the end.
 */
int rg_wire_frame_next(const uint8_t *pkt, size_t len, size_t *off, struct rg_frame *f);

/*
 * Decodes one frame from [p, p + room). Returns the frame's size, or
 * -reason (a negative enum rg_wire_drop) when it is malformed.
 */
int rg_wire_frame_decode(const uint8_t *p, size_t room, struct rg_frame *f);

/*
 * Packet number reconstruction (RFC 9000 appendix A.3), see docs/protocol.md:
 * the wire carries the low 32 bits; the receiver picks the 64-bit value
 * closest to largest + 1. largest_valid == 0 means nothing was received yet
 * on this lane, and the value is taken as is: senders start below 2^31
 * (rg_core_config_check), so the first packet that gets through is below
 * 2^32 unless 2^31 packets before it were all lost.
 */
static inline uint64_t
rg_pn_decode(uint32_t pn32, uint64_t largest, int largest_valid)
{
	const uint64_t win = 1ull << 32, half = win / 2, mask = win - 1;
	uint64_t expected, candidate;

	if (!largest_valid)
		return pn32;
	expected = largest + 1;
	candidate = (expected & ~mask) | pn32;
	if (candidate + half <= expected && candidate < UINT64_MAX - win)
		return candidate + win;
	if (candidate > expected + half && candidate >= win)
		return candidate - win;
	return candidate;
}

#endif /* RG_PROTO_WIRE_H */
