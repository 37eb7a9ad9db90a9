/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: rg_core_recv() with state. The input is a program of steps
 * run against core X (gateway 2), which has two peers: gateway 1, a real
 * core A that X replicates with both ways, and client 3 (passive), which
 * exists only in packets the input makes up. Steps (one opcode byte each,
 * then its arguments; a short input ends the program):
 *
 *   RAW      u16 length, bytes: handed to X as they are;
 *   BUILT    a packet written with the project's own encoder (wire.h) from
 *            fuzzed header fields and frames, then sealed with the real
 *            CRC32C, so the fuzzer gets past the tag and the codec and into
 *            the core's state machines; acks are aimed at what X really sent;
 *   PUMP     one exchange between A and X: every packet either sends is
 *            delivered, dropped, duplicated or has one byte changed and is
 *            sealed again (a byte per packet decides);
 *   TIME     the clock moves (a byte, in µs, ms or 100 ms units); the timers
 *            that are due run;
 *   PUBLISH  A or X publishes records of fuzzed sizes (fragmented);
 *   CONTROL  one of X's other entry points: applied, rx_accept, rx_rewind,
 *            the delivery cap and fragment room, drain, tx_open, failover,
 *            close, subscribe;
 *   MODE     how X's consumer answers (deliver -EAGAIN, rx_open
 *            -EINPROGRESS or refuse, the subscribe status).
 *
 * After every step rg_core_check() runs on both cores, and every packet a
 * core builds must pass rg_wire_open(); either failing aborts. Received
 * packets are heap copies of exactly their length, freed when the core
 * releases its last hold, so ASan sees any read past a packet or after its
 * release; at the end both cores are destroyed and every packet and every
 * published record must have been given back exactly once.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "wire.h"
#ifdef RG_FUZZ_SEALED
#include "keys.h"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define GW_A            1
#define GW_X            2
#define GW_C            3 /* a client of X's: only made-up packets come from it */
#define INC_A           100
#define INC_X           200
#define INC_C           300
#define LANES_A         2
#define STEPS_MAX       512
#define RECS_MAX        4096 /* records a core may publish in one run */
#define PUMP_MAX        64   /* packets one side sends per PUMP */
#define PAYLOAD         8192
#define CONS_MAX        32   /* X's consumer: streams it tracks */
#define BUILT_BYTES_MAX 1200 /* a BUILT packet: what the cores' pkt_bytes_max allows */
#define T0_NS           (1000 * RG_NS_PER_S)
#define STREAM_A0       0x0000000700000001ull /* A → X, lane 0 */
#define STREAM_A1       0x0000000700000002ull /* A → X, lane 1 */
#define STREAM_X0       0x0000000900000001ull /* X → A */
#define STREAM_C0       0x0000000b00000001ull /* what client 3 may ask for */

enum op {
	OP_RAW,
	OP_BUILT,
	OP_PUMP,
	OP_TIME,
	OP_PUBLISH,
	OP_CONTROL,
	OP_MODE,
	OP_MAX
};

/* ---- the input ---- */

struct in {
	const uint8_t *p;
	size_t n;
};

static uint8_t
u8(struct in *in)
{
	uint8_t v = 0;

	if (in->n > 0) {
		v = *in->p++;
		in->n--;
	}
	return v;
}

static uint16_t
u16(struct in *in)
{
	return (uint16_t)(u8(in) | (uint16_t)u8(in) << 8);
}

static uint32_t
u32(struct in *in)
{
	return u16(in) | (uint32_t)u16(in) << 16;
}

static uint64_t
u64(struct in *in)
{
	return u32(in) | (uint64_t)u32(in) << 32;
}

/* ---- packets: refcounted heap copies, exactly len bytes ---- */

struct pkt {
	unsigned refs;
	size_t len;
	uint8_t *data;
};

static unsigned live_pkts;

static struct pkt *
pkt_new(const uint8_t *data, size_t len)
{
	struct pkt *p = malloc(sizeof(*p));

	if (p == NULL)
		abort();
	p->refs = 1;
	p->len = len;
	p->data = malloc(len > 0 ? len : 1);
	if (p->data == NULL)
		abort();
	if (len > 0)
		memcpy(p->data, data, len);
	live_pkts++;
	return p;
}

static void
pkt_put(struct pkt *p)
{
	if (p->refs == 0)
		abort();
	if (--p->refs == 0) {
		free(p->data);
		free(p);
		live_pkts--;
	}
}

static void
cb_rx_hold(void *ctx, void *handle)
{
	(void)ctx;
	if (((struct pkt *)handle)->refs == 0)
		abort();
	((struct pkt *)handle)->refs++;
}

static void
cb_rx_release(void *ctx, void *handle)
{
	(void)ctx;
	pkt_put(handle);
}

/* ---- a side: one core, its producer and its consumer ---- */

/*
 * A consumer of one receive stream. Fragments must come in order: each
 * continues the last (exp_seq, exp_off, the record's length kept), or starts
 * a record (off 0) where the core was told to start over: opened + 1 (the
 * watermark rx_open or rx_accept said last) or rewind_from.
 */
struct cons {
	uint64_t stream;
	uint64_t delivered; /* every record <= delivered arrived whole */
	uint64_t applied;   /* durable: what rx_open answers (may pass delivered: CONTROL 10) */
	uint64_t opened;    /* what rx_open or rx_accept said last: a window starts past it */
	uint64_t exp_seq;   /* the next fragment: this seq ... */
	uint32_t exp_off;   /* ... at this offset ... */
	uint32_t rec_len;   /* ... of a record this long (when exp_off > 0) */
	uint64_t rewind_from;
};

struct prod {
	uint64_t stream;
	uint64_t next;    /* 0 while SYNCING (no replay said where to start) */
	uint64_t acked;   /* what the acked callback said last (since the last replay) */
	uint64_t applied; /* what the applied callback said last */
};

struct side {
	struct rg_core *c;
	struct rg_keyring *keys; /* RG_FUZZ_SEALED (fuzz_core_sealed): its AEAD */
	uint16_t gw;
	uint64_t rng;
	char recs[RECS_MAX]; /* 1: published, held by the core */
	unsigned nrecs;
	struct prod prod[4];
	unsigned nprod;
	struct cons cons[CONS_MAX];
	unsigned ncons;
	/* what its consumer answers */
	int block;
	int open_mode; /* 0 answer, 1 -EINPROGRESS, 2 refuse */
	uint8_t sub_status;
	/* the largest packet number it sent to each peer (0: A or X, 1: C) on each lane */
	uint64_t sent_pn[2][LANES_A];
};

static struct side A, X;
static uint64_t now;
static uint32_t made_up_pn[4]; /* BUILT packets' numbers, per sender kind */
static uint8_t payload[PAYLOAD];
static uint8_t buf[RG_PKT_BYTES_MAX];

static struct cons *
cons_get(struct side *s, uint64_t stream)
{
	for (unsigned i = 0; i < s->ncons; i++)
		if (s->cons[i].stream == stream)
			return &s->cons[i];
	if (s->ncons == CONS_MAX)
		return NULL;
	s->cons[s->ncons] = (struct cons){ .stream = stream, .exp_seq = 1 };
	return &s->cons[s->ncons++];
}

static struct prod *
prod_get(struct side *s, uint64_t stream)
{
	for (unsigned i = 0; i < s->nprod; i++)
		if (s->prod[i].stream == stream)
			return &s->prod[i];
	return NULL;
}

static int
cb_deliver(void *ctx, uint16_t peer_gw, uint64_t stream, const struct rg_rx_frag *f)
{
	struct side *s = ctx;
	struct cons *c;
	uint8_t sum = 0;

	(void)peer_gw;
	if (s->block)
		return -EAGAIN;
	if ((uint64_t)f->off + f->len > f->record_len || f->record_len > RG_RECORD_BYTES_MAX ||
	    f->seq == 0 || (f->len > 0 && f->data == NULL))
		abort();
	for (uint32_t i = 0; i < f->len; i++)
		sum += f->data[i];         /* ASan: the bytes are inside a live packet */
	__asm__ volatile("" : : "r"(sum)); /* keep the reads */
	c = cons_get(s, stream);
	if (c == NULL)
		return 0;
	if (!(f->seq == c->exp_seq && f->off == c->exp_off &&
	      (f->off == 0 || f->record_len == c->rec_len)) &&
	    !(f->off == 0 && (f->seq == c->opened + 1 || f->seq == c->rewind_from))) {
		fprintf(stderr,
			"fuzz_core: gw %u stream %#llx: delivered seq %llu off %u len %u of %u, "
			"expected seq %llu off %u (opened at %llu, rewind %llu)\n",
			s->gw, (unsigned long long)stream, (unsigned long long)f->seq, f->off,
			f->len, f->record_len, (unsigned long long)c->exp_seq, c->exp_off,
			(unsigned long long)c->opened, (unsigned long long)c->rewind_from);
		abort();
	}
	c->exp_seq = f->seq;
	c->exp_off = f->off + f->len;
	c->rec_len = f->record_len;
	if (c->exp_off == f->record_len) {
		c->delivered = f->seq;
		c->exp_seq++;
		c->exp_off = 0;
	}
	return 0;
}

static void
cb_tx_release(void *ctx, void *handle)
{
	struct side *s = ctx;
	char *r = handle;

	if (r < s->recs || r >= s->recs + RECS_MAX || *r != 1)
		abort(); /* not a record of this side, or released twice */
	*r = 0;
}

static int
cb_rx_open(void *ctx, uint16_t peer_gw, uint64_t stream, uint64_t *applied)
{
	struct side *s = ctx;
	struct cons *c = cons_get(s, stream);

	(void)peer_gw;
	if (c == NULL || s->open_mode == 2)
		return -EPERM;
	if (s->open_mode == 1)
		return -EINPROGRESS;
	*applied = c->opened = c->applied;
	return 0;
}

static void
cb_replay(void *ctx, uint16_t peer_gw, uint64_t stream, uint64_t from_seq)
{
	struct prod *p = prod_get(ctx, stream);

	(void)peer_gw;
	if (p == NULL || from_seq == 0) {
		/* a replay of a stream this side never opened, or from seq 0 (seqs start at 1) */
		fprintf(stderr, "fuzz_core: gw %u stream %#llx: replay from %llu%s\n",
			((struct side *)ctx)->gw, (unsigned long long)stream,
			(unsigned long long)from_seq, p == NULL ? " of a stream never opened" : "");
		abort();
	}
	if (from_seq <= p->applied) {
		/* core.h: from_seq is always above what the applied callback said last */
		fprintf(stderr, "fuzz_core: gw %u stream %#llx: replay from %llu, applied %llu\n",
			((struct side *)ctx)->gw, (unsigned long long)stream,
			(unsigned long long)from_seq, (unsigned long long)p->applied);
		abort();
	}
	p->next = from_seq;
	p->acked = from_seq - 1; /* the core starts over from there */
}

/* Every seq <= acked is acked: only what was published, and it only grows between replays. */
static void
cb_acked(void *ctx, uint16_t peer_gw, uint64_t stream, uint64_t acked)
{
	struct prod *p = prod_get(ctx, stream);

	(void)peer_gw;
	if (p == NULL || acked <= p->acked || acked >= p->next) {
		fprintf(
		    stderr,
		    "fuzz_core: gw %u stream %#llx: acked %llu, before %llu, published < %llu\n",
		    ((struct side *)ctx)->gw, (unsigned long long)stream, (unsigned long long)acked,
		    p == NULL ? 0ull : (unsigned long long)p->acked,
		    p == NULL ? 0ull : (unsigned long long)p->next);
		abort();
	}
	p->acked = acked;
}

static void
cb_applied(void *ctx, uint16_t peer_gw, uint64_t stream, uint64_t applied)
{
	struct prod *p = prod_get(ctx, stream);

	(void)peer_gw;
	if (p == NULL)
		abort();
	p->applied = applied;
}

static void
cb_sub_reply(void *ctx, uint16_t peer_gw, uint8_t kind, uint64_t key, uint8_t status)
{
	(void)ctx, (void)peer_gw, (void)key;
	if ((kind != RG_SUB_STREAM && kind != RG_SUB_NAMESPACE) || status >= RG_SUB_STATUS_MAX)
		abort();
}

static void
cb_peer_event(void *ctx, uint16_t peer_gw, enum rg_peer_event ev, uint64_t inc)
{
	(void)ctx, (void)peer_gw, (void)inc;
	if (ev < RG_PEER_FIRST_CONTACT || ev > RG_PEER_MODE_MISMATCH)
		abort();
}

static int
cb_subscribe(void *ctx, uint16_t peer_gw, uint8_t kind, uint64_t key)
{
	(void)peer_gw;
	if ((kind != RG_SUB_STREAM && kind != RG_SUB_NAMESPACE) || key == 0)
		abort(); /* the codec lets no other through */
	return ((struct side *)ctx)->sub_status % RG_SUB_STATUS_MAX;
}

static uint64_t
rng_next(void *ctx)
{
	return rg_splitmix64(ctx);
}

/*
 * fuzz_core_sealed: both cores seal with the real AEAD (control/keys.c) under
 * fixed identities (gateway g's private key is 32 bytes of g), so what they
 * pump to each other opens, and what the input makes up must get past
 * open_sealed: plaintext (MODE_MISMATCH), a made-up tag (BAD_TAG), or the
 * checks before it (replay window, far ahead, incarnations, key rate).
 */
static void
seal(struct side *s, struct rg_core_config *cfg)
{
#ifdef RG_FUZZ_SEALED
	static uint8_t priv[4][RG_KEY_BYTES], pub[4][RG_KEY_BYTES];
	static int made;

	if (!made) {
		for (int g = 1; g <= 3; g++) {
			memset(priv[g], g, RG_KEY_BYTES);
			if (rg_key_public(priv[g], pub[g]) != 0)
				abort();
		}
		made = 1;
	}
	if (rg_keyring_create(priv[s->gw], cfg->peers_max, cfg->lanes_max, &s->keys) != 0)
		abort();
	for (uint16_t g = 1; g <= 3; g++)
		if (g != s->gw && rg_keyring_add_peer(s->keys, g, pub[g]) != 0)
			abort();
	cfg->aead = rg_keyring_aead(s->keys);
#else
	(void)s, (void)cfg;
#endif
}

static void
side_init(struct side *s, uint16_t gw, uint64_t inc, uint64_t seed)
{
	struct rg_core_config cfg;
	const struct rg_core_cb cb = {
		.deliver = cb_deliver,
		.rx_hold = cb_rx_hold,
		.rx_release = cb_rx_release,
		.tx_release = cb_tx_release,
		.rx_open = cb_rx_open,
		.replay = cb_replay,
		.acked = cb_acked,
		.applied = cb_applied,
		.peer_event = cb_peer_event,
		.sub_reply = cb_sub_reply,
		.subscribe = cb_subscribe,
		.ctx = s,
	};

	memset(s, 0, sizeof(*s));
	s->gw = gw;
	s->rng = seed;
	rg_core_config_default(&cfg);
	cfg.incarnation = inc;
	cfg.gateway_id = gw;
	/* Small limits, so that windows, pools and queues fill within a short input. */
	cfg.streams_max = 16;
	cfg.tx_records_max = 64;
	cfg.tx_stream_records_max = 32;
	cfg.rx_window_records = 16;
	cfg.rx_frags_max = 64;
	cfg.pkt_bytes_max = 1200;
	cfg.inflight_pkts_max = 32;
	cfg.inflight_frames_max = 64;
	cfg.subs_max = 4;
	cfg.rng = (struct rg_rng){ .next = rng_next, .ctx = &s->rng };
	cfg.mem = *rg_mem_default();
	seal(s, &cfg);
	if (rg_core_create(&cfg, &cb, &s->c) != 0)
		abort();
}

static void
check(void)
{
	if (rg_core_check(A.c) != 0 || rg_core_check(X.c) != 0)
		abort();
}

static void
world_init(void)
{
	now = T0_NS;
	live_pkts = 0;
	/* A made-up packet numbers itself past A's: A starts below 2^31, so start above. */
	for (int i = 0; i < 4; i++)
		made_up_pn[i] = 1u << 31;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 1);
	side_init(&A, GW_A, INC_A, 11);
	side_init(&X, GW_X, INC_X, 22);
	if (rg_core_add_peer(A.c, GW_X, LANES_A) != 0 ||
	    rg_core_add_peer(X.c, GW_A, LANES_A) != 0 || rg_core_add_peer(X.c, GW_C, 1) != 0 ||
	    rg_core_peer_set_passive(X.c, GW_C, 1) != 0)
		abort();
	for (uint16_t l = 0; l < LANES_A; l++)
		if (rg_core_add_lane(A.c, GW_X, l, now) != 0 ||
		    rg_core_add_lane(X.c, GW_A, l, now) != 0)
			abort();
	if (rg_core_add_lane(X.c, GW_C, 0, now) != 0)
		abort();
	A.prod[A.nprod++] = (struct prod){ .stream = STREAM_A0 };
	A.prod[A.nprod++] = (struct prod){ .stream = STREAM_A1 };
	X.prod[X.nprod++] = (struct prod){ .stream = STREAM_X0 };
	if (rg_core_tx_open(A.c, GW_X, STREAM_A0, 0) != 0 ||
	    rg_core_tx_open(A.c, GW_X, STREAM_A1, 1) != 0 ||
	    rg_core_tx_open(X.c, GW_A, STREAM_X0, 0) != 0)
		abort();
	check();
}

static void
world_fini(void)
{
	rg_core_destroy(A.c);
	rg_core_destroy(X.c);
#ifdef RG_FUZZ_SEALED
	rg_keyring_destroy(A.keys);
	rg_keyring_destroy(X.keys);
#endif
	if (live_pkts != 0)
		abort(); /* a packet a core held and never released */
	for (unsigned i = 0; i < RECS_MAX; i++)
		if (A.recs[i] != 0 || X.recs[i] != 0)
			abort(); /* a record a core never gave back */
}

/* ---- steps ---- */

static int
recv_into(struct side *s, const uint8_t *data, size_t len)
{
	struct pkt *p = pkt_new(data, len);
	int rc = rg_core_recv(s->c, p->data, p->len, p, now);

	if (rc < 0 || rc >= RG_WIRE_DROP_MAX + RG_DROP_MAX)
		abort();
	pkt_put(p);
	return rc;
}

static void
step_raw(struct in *in)
{
	size_t len = u16(in) % (RG_PKT_BYTES_MAX + 64);

	len = len < in->n ? len : in->n;
	recv_into(&X, in->p, len);
	in->p += len;
	in->n -= len;
}

static uint64_t
pick_stream(struct in *in)
{
	static const uint64_t known[] = { STREAM_A0, STREAM_A1,     STREAM_X0,
					  STREAM_C0, STREAM_A0 + 1, 0x0000000b00000000ull };
	uint8_t b = u8(in);

	if (b < 0xf0)
		return known[b % RG_ARRAY_SIZE(known)];
	return u64(in); /* any, 0 included (the codec's business) */
}

/* A seq near the interesting ones: small, or any 64-bit value. */
static uint64_t
pick_seq(struct in *in)
{
	uint8_t b = u8(in);

	return b < 0xf8 ? b : u64(in);
}

/* An ACK of what X sent to peer pi (0: A, 1: C) on lane: near its largest, or anywhere. */
static size_t
put_ack(struct in *in, uint8_t *p, size_t room, unsigned pi, uint16_t lane)
{
	struct rg_pn_range r[RG_ACK_RANGES_MAX];
	unsigned n = 1 + u8(in) % 4;
	uint64_t hi = X.sent_pn[pi][lane % LANES_A] - (u8(in) % 4);
	uint64_t delay = (uint64_t)u16(in) * RG_NS_PER_US;

	if (u8(in) >= 0xf0)
		hi = u64(in);
	for (unsigned i = 0; i < n; i++) {
		uint64_t w = u8(in) % 8, gap = 2 + u8(in) % 4;

		if (hi < w) {
			n = i;
			break;
		}
		r[i].hi = hi;
		r[i].lo = hi - w;
		if (r[i].lo < gap) {
			n = i + 1;
			break;
		}
		hi = r[i].lo - gap; /* at least one packet missing between ranges */
	}
	if (n == 0)
		return 0;
	return rg_wire_put_ack(p, room, r, n, delay);
}

static size_t
put_data(struct in *in, uint8_t *p, size_t room)
{
	uint64_t stream = pick_stream(in), seq = pick_seq(in);
	uint32_t version = u8(in) < 0xf0 ? 1 : u32(in);
	uint16_t len = u16(in) % 1400;
	uint32_t off = u8(in) < 0x80 ? 0 : u16(in);
	uint32_t record_len = off + len + (u8(in) < 0x80 ? 0 : u16(in) % 4096);

	if (stream == 0 || seq == 0)
		return 0; /* the encoder writes only what is well formed */
	return rg_wire_put_data(p, room, stream, seq, version, off, record_len, payload, len);
}

static size_t
put_frame(struct in *in, uint8_t *p, size_t room, unsigned pi, uint16_t lane)
{
	uint64_t stream, a, b;
	uint8_t t = u8(in) % 9 + 1;

	switch (t) {
	case RG_FRAME_DATA:
		return put_data(in, p, room);
	case RG_FRAME_ACK:
		return put_ack(in, p, room, pi, lane);
	case RG_FRAME_CREDIT:
	case RG_FRAME_APPLIED:
		stream = pick_stream(in);
		return stream == 0 ? 0 : rg_wire_put_su(p, room, t, stream, pick_seq(in));
	case RG_FRAME_PING:
		return rg_wire_put_ping(p, room);
	case RG_FRAME_HELLO:
		a = u8(in);
		return rg_wire_put_hello(p, room, (uint16_t)(a % 4 + 1), u8(in) & RG_HELLO_ASK);
	case RG_FRAME_RESUME:
		a = u8(in) % 3 + 1;
		stream = pick_stream(in);
		b = pick_seq(in);
		if (stream == 0)
			return 0;
		return rg_wire_put_resume(p, room, (uint8_t)a, stream, a == 1 ? 0 : b,
					  a == 1 ? 0 : b + pick_seq(in));
	case RG_FRAME_CLOSE:
		return rg_wire_put_close(p, room, u32(in));
	case RG_FRAME_SUBSCRIBE:
		a = u8(in);
		stream = (a & 4) ? (pick_stream(in) & ~0xffffffffull) : pick_stream(in);
		if (stream == 0)
			return 0;
		return rg_wire_put_subscribe(p, room, (a & 1) ? RG_SUB_REPLY : RG_SUB_REQUEST,
					     (a & 4) ? RG_SUB_NAMESPACE : RG_SUB_STREAM,
					     (a & 1) ? (uint8_t)(u8(in) % RG_SUB_STATUS_MAX) : 0,
					     stream);
	}
	return 0;
}

static void
step_built(struct in *in)
{
	uint8_t who = u8(in), incs = u8(in);
	struct rg_hdr h = { .type = RG_PKT_FRAMES };
	unsigned nframes = 1 + u8(in) % 6, pi;
	size_t len;

	pi = who % 4; /* 0, 1: A (lanes 0, 1); 2: client 3; 3: any id and lane */
	h.src_gw = pi < 2 ? GW_A : pi == 2 ? GW_C : u16(in);
	h.lane = pi < 2 ? pi : pi == 2 ? 0 : u16(in);
	h.src_inc = (incs & 3) == 0   ? (pi == 2 ? INC_C : INC_A)
		    : (incs & 3) == 1 ? (pi == 2 ? INC_C : INC_A) + 1
		    : (incs & 3) == 2 ? 0
				      : u64(in);
	h.dst_inc = (incs & 12) == 0 ? INC_X : (incs & 12) == 4 ? 0 : u64(in);
	h.pn32 = (who & 0x80) ? u32(in) : made_up_pn[pi]++;
	len = rg_wire_put_hdr(buf, sizeof(buf), &h);
	for (unsigned i = 0; i < nframes && in->n > 0; i++)
		len += put_frame(in, buf + len, BUILT_BYTES_MAX - len, pi == 2, h.lane);
	if (len == RG_HDR_BYTES)
		len += rg_wire_put_ping(buf + len, sizeof(buf) - len);
	rg_wire_seal(buf, len);
	recv_into(&X, buf, len);
}

/*
 * With RG_FUZZ_CORE_DUMP=DIR in the environment, every packet either core
 * builds is written to DIR/pkt-N: the seeds of the wire target (and RAW
 * steps) are real packets made this way (tests/fuzz/README.md).
 */
static void
dump(const uint8_t *p, size_t len)
{
	static const char *dir;
	static int looked;
	static unsigned n;
	char path[512];
	FILE *f;

	if (!looked) {
		dir = getenv("RG_FUZZ_CORE_DUMP");
		looked = 1;
	}
	if (dir == NULL)
		return;
	snprintf(path, sizeof(path), "%s/pkt-%04u", dir, n++);
	f = fopen(path, "w");
	if (f == NULL || fwrite(p, 1, len, f) != len || fclose(f) != 0)
		abort();
}

/*
 * Plaintext: the whole packet checks; sealed: its header (the frames are
 * ciphertext), a sealed packet or a handshake's INIT or RESP.
 */
static enum rg_wire_drop
h_open(const uint8_t *p, size_t len, struct rg_hdr *h)
{
#ifdef RG_FUZZ_SEALED
	enum rg_wire_drop d = rg_wire_open_hdr(p, len, h);

	return d == RG_WIRE_OK && h->type == RG_PKT_FRAMES ? RG_WIRE_DROP_BAD_TYPE : d;
#else
	return rg_wire_open(p, len, h);
#endif
}

/* A packet a core built: it must be well formed and go to a peer the core has. */
static void
check_sent(struct side *s, const uint8_t *p, size_t len, const struct rg_tx_meta *m)
{
	struct rg_hdr h;

	if (len > sizeof(buf) || h_open(p, len, &h) != RG_WIRE_OK || h.src_gw != s->gw ||
	    h.lane != m->lane)
		abort();
	if (s == &X && m->peer_gw != GW_A && m->peer_gw != GW_C)
		abort();
	if (s == &A && m->peer_gw != GW_X)
		abort();
	dump(p, len);
	if (m->lane < LANES_A && h.pn32 > s->sent_pn[m->peer_gw == GW_C][m->lane])
		s->sent_pn[m->peer_gw == GW_C][m->lane] = h.pn32;
}

/*
 * What happens to the i-th packet of a PUMP: PUMP reads up to FATES_MAX of
 * these (4 bytes each: fate, position, xor) before it sends anything, so the
 * layout of an input does not depend on how many packets the cores send.
 * Packets past the last fate are delivered.
 */
#define FATES_MAX 8

struct fate {
	uint8_t
	    what; /* % 8: 0 lost, 1 duplicated, 2 a frame byte, 3 a header byte; else delivered */
	uint16_t pos;
	uint8_t xor ;
};

/*
 * A changed packet's tag made right again: the CRC32C in plaintext; sealed,
 * nothing (the CRC field is the epoch, and only the cores hold the keys):
 * the change must fail the tag, or the Noise message's check.
 */
static void
reseal(uint8_t *p, size_t len)
{
#ifdef RG_FUZZ_SEALED
	(void)p, (void)len;
#else
	rg_wire_seal(p, len);
#endif
}

static void
carry(const struct fate *f, struct side *to, uint8_t *p, size_t len)
{
	switch (f->what % 8) {
	case 0:
		return;
	case 1:
		recv_into(to, p, len);
		break;
	case 2: /* one byte changed past the header, then sealed: the frames are fuzzed */
		if (len > RG_HDR_BYTES) {
			p[RG_HDR_BYTES + f->pos % (len - RG_HDR_BYTES)] ^= (uint8_t)(f->xor | 1);
			reseal(p, len);
		}
		break;
	case 3: /* one header byte changed (not the version or the tag), then sealed */
		p[f->pos % RG_HDR_BYTES] ^= (uint8_t)(f->xor | 1);
		p[0] = RG_WIRE_VERSION;
		reseal(p, len);
		break;
	default:
		break;
	}
	recv_into(to, p, len);
}

static void
step_pump(struct in *in)
{
	static const struct fate deliver = { .what = 4 };
	struct fate fates[FATES_MAX];
	unsigned nfates = u8(in) % (FATES_MAX + 1), k = 0;
	struct rg_tx_meta m;
	size_t len;

	for (unsigned i = 0; i < nfates; i++) {
		fates[i].what = u8(in);
		fates[i].pos = u16(in);
		fates[i].xor = u8(in);
	}
	for (int i = 0; i < PUMP_MAX && (len = rg_core_send(A.c, buf, sizeof(buf), &m, now)); i++) {
		check_sent(&A, buf, len, &m);
		carry(k < nfates ? &fates[k] : &deliver, &X, buf, len);
		k++;
	}
	for (int i = 0; i < PUMP_MAX && (len = rg_core_send(X.c, buf, sizeof(buf), &m, now)); i++) {
		check_sent(&X, buf, len, &m);
		if (m.peer_gw == GW_A)
			carry(k < nfates ? &fates[k] : &deliver, &A, buf, len);
		k++;
	}
	/* A's consumer applies what it has: acks and APPLIED then flow back to X. */
	for (unsigned i = 0; i < A.ncons; i++)
		if (A.cons[i].delivered > A.cons[i].applied) {
			A.cons[i].applied = A.cons[i].delivered;
			rg_core_applied(A.c, A.cons[i].stream, A.cons[i].applied);
		}
}

static void
step_time(struct in *in)
{
	static const uint64_t unit[] = { RG_NS_PER_US, RG_NS_PER_MS, 100 * RG_NS_PER_MS };
	uint8_t b = u8(in);

	now += (uint64_t)(u8(in) + 1) * unit[b % 3];
	if (rg_core_next_deadline(A.c, now) <= now)
		rg_core_on_timer(A.c, now);
	if (rg_core_next_deadline(X.c, now) <= now)
		rg_core_on_timer(X.c, now);
}

/* Record seq of stream: one in 16 empty, half under 200 bytes, the rest up to 8 KiB. */
static uint32_t
rec_len(uint64_t stream, uint64_t seq)
{
	uint64_t h = (stream ^ seq * 0x9e3779b97f4a7c15ull) * 0xff51afd7ed558ccdull;

	h ^= h >> 29;
	if (h % 16 == 0)
		return 0;
	return (uint32_t)(h >> 8) % ((h & 16) ? 200 : PAYLOAD - 64);
}

static void
publish(struct in *in, struct side *s, struct prod *p)
{
	unsigned n = u8(in) % 8;

	for (unsigned i = 0; i < n && p->next != 0 && s->nrecs < RECS_MAX; i++) {
		/*
		 * A record is the same each time it is published (a replay sends what the
		 * producer's log holds): its bytes and length follow from its seq.
		 */
		uint32_t len = rec_len(p->stream, p->next);
		char *h = &s->recs[s->nrecs];
		int rc;

		*h = 1;
		rc = rg_core_publish(s->c, p->stream, p->next, 1, payload + p->next % 64, len, h);
		if (rc != 0) {
			*h = 0;
			if (rc != -EAGAIN && rc != -ENOTCONN)
				abort(); /* the harness publishes only the next seq */
			return;
		}
		s->nrecs++;
		p->next++;
	}
}

static void
step_publish(struct in *in)
{
	uint8_t b = u8(in);
	struct side *s = (b & 1) ? &X : &A;

	publish(in, s, &s->prod[(b >> 1) % s->nprod]);
}

static void
step_control(struct in *in)
{
	uint8_t b = u8(in), ci = u8(in); /* read even when unused: a fixed layout */
	struct cons *c = X.ncons > 0 ? &X.cons[ci % X.ncons] : NULL;

	switch (b % 11) {
	case 0: /* the consumer made what it has durable */
		if (c != NULL && c->delivered > c->applied) {
			c->applied = c->delivered;
			rg_core_applied(X.c, c->stream, c->applied);
		}
		break;
	case 1:
		if (c != NULL && rg_core_rx_accept(X.c, c->stream, c->applied) == 0)
			c->opened = c->applied;
		break;
	case 2:
		if (c != NULL) {
			uint64_t from = c->applied + 1 + u8(in) % 4;

			if (rg_core_rx_rewind(X.c, c->stream, from) == 0)
				c->rewind_from = from;
		}
		break;
	case 3:
		rg_core_set_rx_deliver_cap(X.c, u8(in) < 0x80 ? u8(in) % 8 : UINT32_MAX);
		break;
	case 4:
		rg_core_set_rx_frags_room(X.c, u8(in) < 0x80 ? u8(in) % 8 : UINT32_MAX);
		break;
	case 5:
		rg_core_drain(X.c);
		break;
	case 6:
		if (X.nprod < RG_ARRAY_SIZE(X.prod)) {
			uint64_t stream = STREAM_X0 + X.nprod;

			if (rg_core_tx_open(X.c, GW_A, stream, u8(in) % LANES_A) == 0)
				X.prod[X.nprod++] = (struct prod){ .stream = stream };
		}
		break;
	case 7:
		rg_core_peer_failover(X.c, (b & 0x10) ? GW_C : GW_A, (b & 0x10) ? GW_A : GW_C, now);
		break;
	case 8:
		rg_core_close(X.c);
		break;
	case 9:
		rg_core_subscribe(X.c, GW_A, RG_SUB_STREAM, pick_stream(in) | 1, now);
		break;
	case 10: /* the consumer applied more through another gateway: the next resync sees it */
		if (c != NULL)
			c->applied = RG_MAX(c->applied, c->delivered) + u8(in) % 4;
		break;
	}
}

static void
step_mode(struct in *in)
{
	uint8_t b = u8(in);

	X.block = b & 1;
	X.open_mode = (b >> 1) % 3;
	X.sub_status = (uint8_t)(b >> 3);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };

	world_init();
	for (int step = 0; step < STEPS_MAX && in.n > 0; step++) {
		switch (u8(&in) % OP_MAX) {
		case OP_RAW:
			step_raw(&in);
			break;
		case OP_BUILT:
			step_built(&in);
			break;
		case OP_PUMP:
			step_pump(&in);
			break;
		case OP_TIME:
			step_time(&in);
			break;
		case OP_PUBLISH:
			step_publish(&in);
			break;
		case OP_CONTROL:
			step_control(&in);
			break;
		case OP_MODE:
			step_mode(&in);
			break;
		}
		check();
	}
	world_fini();
	return 0;
}
