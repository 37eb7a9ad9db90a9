/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The relay's rules (relay.h), as callbacks of its core and the flush that
 * acts on what they decided. Every callback here runs inside a core call and
 * only reads the core (rg_core_tx_room, rg_core_stream_info); every change to
 * the core happens in rg_relay_flush.
 */
#include <errno.h>
#include <string.h>

#include "relay.h"
#include "stab.h"

/* Pending actions of a stream (rg_relay_stream.pending), done by flush in this order. */
#define RLY_P_OPEN_DOWN  0x01 /* rg_core_tx_open to down */
#define RLY_P_ACCEPT_UP  0x02 /* rg_core_rx_accept at down_applied */
#define RLY_P_REWIND_UP  0x04 /* rg_core_rx_rewind at rewind_from */
#define RLY_P_APPLIED_UP 0x08 /* rg_core_applied at applied_up */

enum rly_rx_state {
	RLY_RX_NONE = 0, /* the upstream has not asked yet */
	RLY_RX_WAITING,  /* it asked; the answer waits for the downstream (rule 1) */
	RLY_RX_OPEN,
};

struct rg_relay_stream {
	uint64_t id;
	uint16_t up, down; /* peer ids; 0 = not known yet */
	uint8_t pending;   /* RLY_P_* */
	uint8_t rx_state;  /* enum rly_rx_state */
	uint8_t dirty;     /* in the dirty list */
	uint8_t opened;    /* the send stream to down exists in the core */
	uint8_t regressed; /* the next hop wants records applied before (rule 5): held */
	uint32_t staged;   /* records of this stream in the stage */
	uint64_t down_applied;
	uint64_t rewind_from;
	uint64_t applied_up;
	/* a record that arrives in several fragments, put together here (inv. 3) */
	uint8_t *asm_buf;
	void *asm_handle;
	uint64_t asm_seq;
	uint32_t asm_len, asm_got, asm_version;
};

struct rly_staged {
	uint64_t seq;
	const uint8_t *payload;
	void *handle; /* a packet, or a tagged reassembly buffer */
	uint32_t stream, len, version;
};

struct rly_sub {
	uint64_t key;
	uint16_t client;
	uint8_t kind;
};

struct rly_peer {
	uint16_t gw;
	uint8_t kind;
};

struct rg_relay {
	struct rg_relay_config cfg;
	struct rg_relay_ops ops;
	struct rg_core_cb local;
	struct rg_mem mem;
	struct rg_core *core;
	struct rg_stab tab;
	struct rg_relay_stream *st;
	uint32_t nst;
	struct rly_staged *stage;
	uint32_t nstage, staged_total;
	uint32_t *dirty;
	uint32_t ndirty;
	struct rly_sub *subs;
	uint32_t nsubs;
	struct rly_peer *peers;
	uint16_t npeers;
	uint32_t assembling;
	uint64_t asm_bytes;
	uint64_t ctr[RG_RLY_CTR_MAX];
};

#define RCTR(r, name) ((r)->ctr[RG_RLY_CTR_##name])

static const char *const counter_names[RG_RLY_CTR_MAX] = {
#define RG_X(name) [RG_RLY_CTR_##name] = #name,
	RG_RELAY_COUNTERS(RG_X)
#undef RG_X
};

const char *
rg_relay_counter_name(enum rg_relay_counter c)
{
	return (unsigned)c < RG_RLY_CTR_MAX ? counter_names[c] : "?";
}

/* Reassembly buffers travel as tagged handles: the low bit says "not a packet". */
static void *
buf_tag(void *h)
{
	return (void *)((uintptr_t)h | 1u);
}

static int
is_buf(const void *h)
{
	return ((uintptr_t)h & 1u) != 0;
}

static void *
buf_untag(void *h)
{
	return (void *)((uintptr_t)h & ~(uintptr_t)1u);
}

static void
release_handle(struct rg_relay *r, void *h)
{
	if (is_buf(h))
		r->ops.buf_free(r->ops.ctx, buf_untag(h));
	else
		r->ops.pkt_release(r->ops.ctx, h);
}

static const struct rly_peer *
peer_of(const struct rg_relay *r, uint16_t gw)
{
	for (uint16_t i = 0; i < r->npeers; i++) /* bounded by peers_max, a handful */
		if (r->peers[i].gw == gw)
			return &r->peers[i];
	return NULL;
}

static struct rg_relay_stream *
find(struct rg_relay *r, uint64_t id)
{
	uint32_t i = rg_stab_get(&r->tab, id);

	return i == RG_STAB_NONE ? NULL : &r->st[i];
}

static uint32_t
index_of(const struct rg_relay *r, const struct rg_relay_stream *s)
{
	return (uint32_t)(s - r->st);
}

static void
mark(struct rg_relay *r, struct rg_relay_stream *s, uint8_t action)
{
	s->pending |= action;
	if (!s->dirty) {
		s->dirty = 1;
		r->dirty[r->ndirty++] =
		    index_of(r, s); /* inv. 2: at most once, so <= streams_max */
	}
}

/* The consumer client subscribed to stream id (by stream, else by namespace), or 0. */
static uint16_t
subscriber(const struct rg_relay *r, uint64_t id)
{
	uint16_t by_ns = 0;

	for (uint32_t i = 0; i < r->nsubs; i++) { /* bounded by subs_max */
		const struct rly_sub *u = &r->subs[i];

		if (u->kind == RG_SUB_STREAM && u->key == id)
			return u->client;
		if (u->kind == RG_SUB_NAMESPACE && u->key == (id & ~0xffffffffull))
			by_ns = u->client;
	}
	return by_ns;
}

/* ---- callbacks (inside a core call: the core is read, never changed) ---- */

static struct rg_relay_stream *
new_stream(struct rg_relay *r, uint64_t id, uint16_t up)
{
	const struct rly_peer *p = peer_of(r, up);
	struct rg_relay_stream *s;
	uint16_t down;

	if (p == NULL)
		return NULL;
	down = p->kind == RG_RELAY_CLIENT ? r->ops.route(r->ops.ctx, up, id) : subscriber(r, id);
	if (p->kind == RG_RELAY_CLIENT && down == 0) {
		RCTR(r, no_route)++;
		return NULL;
	}
	if (r->nst >= r->cfg.streams_max || rg_stab_put(&r->tab, id, r->nst) != 0) {
		RCTR(r, table_full)++;
		return NULL;
	}
	s = &r->st[r->nst++];
	memset(s, 0, sizeof(*s));
	s->id = id;
	s->up = up;
	s->down = down;
	if (down != 0)
		mark(r, s, RLY_P_OPEN_DOWN);
	return s;
}

/* Rule 1: the upstream asks where S resumes. */
static int
cb_rx_open(void *ctx, uint16_t peer_gw, uint64_t stream, uint64_t *applied)
{
	struct rg_relay *r = ctx;
	const struct rly_peer *p = peer_of(r, peer_gw);
	struct rg_relay_stream *s = find(r, stream);

	if (s == NULL && p != NULL && p->kind == RG_RELAY_GATEWAY && r->local.rx_open != NULL &&
	    r->local.rx_open(r->local.ctx, peer_gw, stream, applied) == 0)
		return 0; /* a local consumer's stream */
	if (s == NULL && (s = new_stream(r, stream, peer_gw)) == NULL)
		return -EPERM;
	s->up = peer_gw;
	if (s->opened && rg_core_tx_room(r->core, stream) >= 0) {
		*applied = s->down_applied;
		s->rx_state = RLY_RX_OPEN;
		s->pending &= (uint8_t)~RLY_P_ACCEPT_UP;
		return 0;
	}
	if (s->rx_state != RLY_RX_WAITING)
		RCTR(r, waits)++;
	s->rx_state = RLY_RX_WAITING;
	return -EINPROGRESS;
}

/* Rule 3: room downstream for one more record of s (the stage and the core's pool counted). */
static int
room_for_record(struct rg_relay *r, const struct rg_relay_stream *s)
{
	int room = rg_core_tx_room(r->core, s->id);

	if (room < 0 || (uint32_t)room <= s->staged ||
	    rg_core_tx_pool_free(r->core) <= r->staged_total) {
		RCTR(r, down_busy)++;
		return 0;
	}
	if (r->nstage + r->assembling >= r->cfg.stage_max) {
		RCTR(r, stage_full)++;
		return 0;
	}
	return 1;
}

static void
stage(struct rg_relay *r, struct rg_relay_stream *s, uint64_t seq, uint32_t version,
      const uint8_t *payload, uint32_t len, void *handle)
{
	RG_ASSERT(r->nstage < r->cfg.stage_max);
	r->stage[r->nstage++] = (struct rly_staged){ .seq = seq,
						     .payload = payload,
						     .handle = handle,
						     .stream = index_of(r, s),
						     .len = len,
						     .version = version };
	s->staged++;
}

static void
asm_drop(struct rg_relay *r, struct rg_relay_stream *s)
{
	if (s->asm_buf == NULL)
		return;
	r->ops.buf_free(r->ops.ctx, s->asm_handle);
	r->assembling--;
	r->staged_total--;
	r->asm_bytes -= s->asm_len;
	s->asm_buf = NULL;
	s->asm_handle = NULL;
}

/* A fragment of a record that came in several: copied into its buffer (rule 2). */
static int
deliver_piece(struct rg_relay *r, struct rg_relay_stream *s, const struct rg_rx_frag *f)
{
	if (f->off == 0) {
		s->asm_buf = r->ops.buf_alloc(r->ops.ctx, f->record_len, &s->asm_handle);
		if (s->asm_buf == NULL) {
			RCTR(r, no_buffer)++;
			return -EAGAIN;
		}
		RG_ASSERT(!is_buf(s->asm_handle)); /* buffer handles must be even: see buf_tag */
		s->asm_seq = f->seq;
		s->asm_len = f->record_len;
		s->asm_got = 0;
		s->asm_version = f->version;
		r->assembling++;
		r->staged_total++; /* its room was counted at its first fragment (room_for_record) */
		r->asm_bytes += f->record_len;
	}
	/* The core delivers each stream's bytes once, in order: this is the next piece. */
	RG_ASSERT(s->asm_buf != NULL && f->seq == s->asm_seq && f->off == s->asm_got);
	memcpy(s->asm_buf + f->off, f->data, f->len);
	s->asm_got += f->len;
	if (s->asm_got < s->asm_len)
		return 0;
	r->assembling--;
	r->asm_bytes -= s->asm_len;
	stage(r, s, s->asm_seq, s->asm_version, s->asm_buf, s->asm_len, buf_tag(s->asm_handle));
	RCTR(r, reassembled)++;
	s->asm_buf = NULL;
	s->asm_handle = NULL;
	return 0;
}

static int
cb_deliver(void *ctx, uint16_t peer_gw, uint64_t stream, const struct rg_rx_frag *f)
{
	struct rg_relay *r = ctx;
	struct rg_relay_stream *s = find(r, stream);

	if (s == NULL)
		return r->local.deliver != NULL ? r->local.deliver(r->local.ctx, peer_gw, stream, f)
						: -EAGAIN;
	if ((s->pending & RLY_P_REWIND_UP) || s->regressed)
		return -EAGAIN; /* the window starts over at flush, or the next hop cannot be served */
	if (f->off == 0 && !room_for_record(r, s))
		return -EAGAIN;
	if (f->off == 0 && f->len == f->record_len) { /* the whole record: zero copy */
		r->ops.pkt_hold(r->ops.ctx, f->handle);
		stage(r, s, f->seq, f->version, f->data, f->len, f->handle);
		r->staged_total++;
		RCTR(r, zero_copy)++;
		return 0;
	}
	return deliver_piece(r, s, f);
}

/* The downstream send stream opened (or started over) at from: rules 1 and 5. */
static void
cb_replay(void *ctx, uint16_t peer_gw, uint64_t stream, uint64_t from)
{
	struct rg_relay *r = ctx;
	struct rg_relay_stream *s = find(r, stream);
	struct rg_stream_info rx;

	if (s == NULL) {
		if (r->local.replay != NULL)
			r->local.replay(r->local.ctx, peer_gw, stream, from);
		return;
	}
	s->down = peer_gw; /* a failover may have moved it */
	s->down_applied = from - 1;
	if (s->rx_state == RLY_RX_WAITING) {
		mark(r, s, RLY_P_ACCEPT_UP);
		return;
	}
	if (s->rx_state != RLY_RX_OPEN || rg_core_stream_info(r->core, stream, 0, &rx) != 0)
		return;
	s->regressed = from <= rx.applied; /* trimmed upstream: nothing can serve it */
	if (s->regressed) {
		RCTR(r, regressed)++;
		return;
	}
	/* What this relay takes next is rx.next_seq; a record half reassembled stays if it is from. */
	if (s->staged == 0 && rx.next_seq == from && (s->asm_buf == NULL || s->asm_seq == from))
		return;
	s->rewind_from = from;
	mark(r, s, RLY_P_REWIND_UP);
}

static void
cb_applied(void *ctx, uint16_t peer_gw, uint64_t stream, uint64_t applied)
{
	struct rg_relay *r = ctx;
	struct rg_relay_stream *s = find(r, stream);

	if (s == NULL) {
		if (r->local.applied != NULL)
			r->local.applied(r->local.ctx, peer_gw, stream, applied);
		return;
	}
	if (applied > s->down_applied)
		s->down_applied = applied;
	if (applied > s->applied_up) {
		s->applied_up = applied;
		mark(r, s, RLY_P_APPLIED_UP);
	}
}

static void
cb_acked(void *ctx, uint16_t peer_gw, uint64_t stream, uint64_t acked)
{
	struct rg_relay *r = ctx;

	if (find(r, stream) == NULL && r->local.acked != NULL)
		r->local.acked(r->local.ctx, peer_gw, stream, acked);
}

static void
cb_tx_release(void *ctx, void *handle)
{
	release_handle(ctx, handle);
}

static void
cb_rx_hold(void *ctx, void *handle)
{
	struct rg_relay *r = ctx;

	r->ops.pkt_hold(r->ops.ctx, handle);
}

static void
cb_rx_release(void *ctx, void *handle)
{
	struct rg_relay *r = ctx;

	r->ops.pkt_release(r->ops.ctx, handle);
}

static void
cb_peer_event(void *ctx, uint16_t peer_gw, enum rg_peer_event ev, uint64_t inc)
{
	struct rg_relay *r = ctx;

	if (r->local.peer_event != NULL)
		r->local.peer_event(r->local.ctx, peer_gw, ev, inc);
}

/* Whether a stream is bound to a consumer other than client (one consumer per stream). */
static int
held_by_other(const struct rg_relay *r, uint8_t kind, uint64_t key, uint16_t client)
{
	for (uint32_t i = 0; i < r->nsubs; i++) /* bounded by subs_max */
		if (r->subs[i].kind == kind && r->subs[i].key == key && r->subs[i].client != client)
			return 1;
	for (uint32_t i = 0; i < r->nst; i++) { /* bounded by streams_max; subscribing is rare */
		const struct rg_relay_stream *s = &r->st[i];
		uint64_t k = kind == RG_SUB_STREAM ? s->id : s->id & ~0xffffffffull;

		if (k == key && s->down != 0 && s->down != client && s->up != 0 &&
		    peer_of(r, s->up)->kind == RG_RELAY_GATEWAY)
			return 1;
	}
	return 0;
}

/* A consumer client asks for a stream or a namespace: the streams waiting for it go to it. */
static int
cb_subscribe(void *ctx, uint16_t peer_gw, uint8_t kind, uint64_t key)
{
	struct rg_relay *r = ctx;
	const struct rly_peer *p = peer_of(r, peer_gw);
	uint32_t i;

	if (p == NULL || p->kind != RG_RELAY_CLIENT) {
		RCTR(r, subs_refused)++;
		return RG_SUB_NOT_ALLOWED;
	}
	if (held_by_other(r, kind, key, peer_gw)) {
		RCTR(r, subs_refused)++;
		return RG_SUB_BUSY;
	}
	for (i = 0; i < r->nsubs; i++)
		if (r->subs[i].kind == kind && r->subs[i].key == key)
			break;
	if (i == r->nsubs) { /* not asked before (a request comes again until answered) */
		if (r->nsubs >= r->cfg.subs_max) {
			RCTR(r, subs_refused)++;
			return RG_SUB_FULL;
		}
		r->subs[r->nsubs++] =
		    (struct rly_sub){ .key = key, .client = peer_gw, .kind = kind };
		RCTR(r, subs)++;
	}
	for (uint32_t k = 0; k < r->nst; k++) { /* streams that waited for a consumer */
		struct rg_relay_stream *s = &r->st[k];

		if (s->down == 0 && subscriber(r, s->id) == peer_gw) {
			s->down = peer_gw;
			mark(r, s, RLY_P_OPEN_DOWN);
		}
	}
	return RG_SUB_OK;
}

void
rg_relay_core_cb(struct rg_relay *r, struct rg_core_cb *cb)
{
	*cb = (struct rg_core_cb){ .deliver = cb_deliver,
				   .rx_hold = cb_rx_hold,
				   .rx_release = cb_rx_release,
				   .tx_release = cb_tx_release,
				   .rx_open = cb_rx_open,
				   .replay = cb_replay,
				   .acked = cb_acked,
				   .applied = cb_applied,
				   .peer_event = cb_peer_event,
				   .subscribe = cb_subscribe,
				   .ctx = r };
}

/* ---- flush: the core is changed only here ---- */

static void
open_down(struct rg_relay *r, struct rg_relay_stream *s)
{
	int lane = rg_core_lane_pick(r->core, s->down, s->id);
	int rc = lane < 0 ? lane : rg_core_tx_open(r->core, s->down, s->id, (uint16_t)lane);

	if (rc == 0 || rc == -EEXIST) {
		rg_core_tx_set_relay(r->core, s->id);
		s->opened = 1;
		RCTR(r, opens) += rc == 0;
	} else {
		RCTR(r, open_failed)++; /* the upstream keeps waiting; counted for the operator */
	}
}

/* Drops what is staged for s and what it was reassembling (a rewind starts over before them). */
static void
unstage(struct rg_relay *r, struct rg_relay_stream *s)
{
	uint32_t kept = 0, idx = index_of(r, s);

	for (uint32_t i = 0; i < r->nstage; i++) { /* bounded by stage_max */
		if (r->stage[i].stream == idx) {
			release_handle(r, r->stage[i].handle);
			r->staged_total--;
		} else {
			r->stage[kept++] = r->stage[i];
		}
	}
	r->nstage = kept;
	s->staged = 0;
	asm_drop(r, s);
}

static void
act(struct rg_relay *r, struct rg_relay_stream *s)
{
	uint8_t p = s->pending;

	s->pending = 0;
	s->dirty = 0;
	if (p & RLY_P_OPEN_DOWN)
		open_down(r, s);
	if ((p & RLY_P_ACCEPT_UP) && s->rx_state == RLY_RX_WAITING) {
		int rc = rg_core_rx_accept(r->core, s->id, s->down_applied);

		/* -EALREADY: the upstream asked again meanwhile and was answered then */
		s->rx_state = rc == 0 || rc == -EALREADY ? RLY_RX_OPEN : RLY_RX_NONE;
		RCTR(r, accepts) += rc == 0;
	}
	if (p & RLY_P_REWIND_UP) {
		unstage(r, s);
		if (rg_core_rx_rewind(r->core, s->id, s->rewind_from) == 0)
			RCTR(r, rewinds)++;
	}
	if (p & RLY_P_APPLIED_UP) {
		rg_core_applied(r->core, s->id, s->applied_up);
		RCTR(r, applied_up)++;
	}
}

/* A record the core would not take: let it go and start the stream over where the next hop is. */
static void
publish_failed(struct rg_relay *r, struct rg_relay_stream *s, void *handle)
{
	struct rg_stream_info tx;

	RCTR(r, publish_failed)++;
	release_handle(r, handle);
	if (rg_core_stream_info(r->core, s->id, 1, &tx) == 0 && tx.open &&
	    !(s->pending & RLY_P_REWIND_UP)) {
		s->rewind_from = tx.next_seq;
		mark(r, s, RLY_P_REWIND_UP);
	}
}

static void
publish_stage(struct rg_relay *r)
{
	for (uint32_t i = 0; i < r->nstage; i++) { /* bounded by stage_max */
		const struct rly_staged *x = &r->stage[i];
		struct rg_relay_stream *s = &r->st[x->stream];
		int rc = s->pending & RLY_P_REWIND_UP
			     ? -ECANCELED
			     : rg_core_publish(r->core, s->id, x->seq, x->version, x->payload,
					       x->len, x->handle);

		s->staged--;
		r->staged_total--;
		if (rc != 0) {
			publish_failed(r, s, x->handle);
			continue;
		}
		RCTR(r, records)++;
		RCTR(r, bytes) += x->len;
	}
	r->nstage = 0;
}

void
rg_relay_flush(struct rg_relay *r, uint64_t now_ns)
{
	(void)now_ns;
	/* A failed publish marks its stream for a rewind: publish first, then act. */
	publish_stage(r);
	/* Bounded: each stream is in the list once; acting adds none (mark from callbacks only). */
	for (uint32_t i = 0; i < r->ndirty; i++)
		act(r, &r->st[r->dirty[i]]);
	r->ndirty = 0;
}

/* ---- setup ---- */

int
rg_relay_create(const struct rg_relay_config *cfg, const struct rg_relay_ops *ops,
		const struct rg_core_cb *local, const struct rg_mem *mem, struct rg_relay **out)
{
	struct rg_relay *r;

	*out = NULL;
	if (cfg->streams_max == 0 || cfg->stage_max == 0 || cfg->peers_max == 0 ||
	    ops->route == NULL || ops->buf_alloc == NULL || ops->buf_free == NULL ||
	    ops->pkt_hold == NULL || ops->pkt_release == NULL)
		return -EINVAL;
	r = rg_mem_alloc(mem, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	r->cfg = *cfg;
	r->ops = *ops;
	r->mem = *mem;
	if (local != NULL)
		r->local = *local;
	r->st = rg_mem_alloc(mem, sizeof(r->st[0]) * cfg->streams_max);
	r->stage = rg_mem_alloc(mem, sizeof(r->stage[0]) * cfg->stage_max);
	r->dirty = rg_mem_alloc(mem, sizeof(r->dirty[0]) * cfg->streams_max);
	r->subs = rg_mem_alloc(mem, sizeof(r->subs[0]) * RG_MAX(cfg->subs_max, 1u));
	r->peers = rg_mem_alloc(mem, sizeof(r->peers[0]) * cfg->peers_max);
	if (r->st == NULL || r->stage == NULL || r->dirty == NULL || r->subs == NULL ||
	    r->peers == NULL || rg_stab_init(&r->tab, cfg->streams_max, mem) != 0) {
		rg_relay_destroy(r);
		return -ENOMEM;
	}
	*out = r;
	return 0;
}

void
rg_relay_destroy(struct rg_relay *r)
{
	const struct rg_mem *mem;

	if (r == NULL)
		return;
	mem = &r->mem;
	for (uint32_t i = 0; r->stage != NULL && i < r->nstage; i++)
		release_handle(r, r->stage[i].handle);
	for (uint32_t i = 0; r->st != NULL && i < r->nst; i++)
		if (r->st[i].asm_buf != NULL)
			r->ops.buf_free(r->ops.ctx, r->st[i].asm_handle);
	rg_stab_fini(&r->tab, mem);
	rg_mem_free(mem, r->st);
	rg_mem_free(mem, r->stage);
	rg_mem_free(mem, r->dirty);
	rg_mem_free(mem, r->subs);
	rg_mem_free(mem, r->peers);
	rg_mem_free(mem, r);
}

void
rg_relay_attach(struct rg_relay *r, struct rg_core *c)
{
	r->core = c;
}

int
rg_relay_add_peer(struct rg_relay *r, uint16_t gw, enum rg_relay_peer_kind kind)
{
	if (kind != RG_RELAY_CLIENT && kind != RG_RELAY_GATEWAY)
		return -EINVAL;
	if (peer_of(r, gw) != NULL)
		return -EEXIST;
	if (r->npeers >= r->cfg.peers_max)
		return -ENOSPC;
	r->peers[r->npeers++] = (struct rly_peer){ .gw = gw, .kind = (uint8_t)kind };
	return 0;
}

void
rg_relay_stats(const struct rg_relay *r, struct rg_relay_stats *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->ctr, r->ctr, sizeof(out->ctr));
	out->streams = r->nst;
	out->subs = r->nsubs;
	out->staged = r->nstage;
	out->assembling = r->assembling;
	out->asm_bytes = r->asm_bytes;
}

int
rg_relay_check(const struct rg_relay *r)
{
	uint32_t staged = 0, assembling = 0, dirty = 0;

	if (r->nstage > r->cfg.stage_max || r->ndirty > r->nst)
		return -1;
	for (uint32_t i = 0; i < r->nst; i++) {
		const struct rg_relay_stream *s = &r->st[i];
		uint32_t n = 0;

		for (uint32_t k = 0; k < r->nstage; k++)
			n += r->stage[k].stream == i;
		if (n != s->staged || (s->pending != 0) != (s->dirty != 0))
			return -1; /* inv. 1, 2 */
		if (s->asm_buf != NULL && s->asm_got >= s->asm_len)
			return -1; /* inv. 3 */
		staged += n;
		assembling += s->asm_buf != NULL;
		dirty += s->dirty;
	}
	if (staged + assembling != r->staged_total || assembling != r->assembling ||
	    dirty != r->ndirty)
		return -1;
	for (uint32_t i = 0; i < r->nsubs; i++) {
		const struct rly_peer *p = peer_of(r, r->subs[i].client);

		if (p == NULL || p->kind != RG_RELAY_CLIENT)
			return -1; /* inv. 4 */
	}
	return 0;
}
