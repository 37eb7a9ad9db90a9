/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the relay (dataplane/proto/relay.h) over four real cores:
 *
 *   P (producer client) ── A (gateway, relay) ── B (gateway, relay) ── C (consumer client)
 *
 * Each step the packets sent in the previous one arrive (a 1 ms hop), every
 * core's timers run and each sends what it can; after every core call the
 * gateways flush their relays, as the worker does. P keeps its log until it
 * is applied and replays from where its core says; C checks every byte in
 * order and keeps a durable applied watermark that survives its restarts.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core.h"
#include "relay.h"

#define NODES     4
#define P         0
#define A         1
#define B         2
#define C         3
#define STEP_NS   RG_NS_PER_MS
#define STEPS_MAX 20000
#define QUEUE_MAX 4096
#define SEQ_MAX   4000
#define STREAMS   4
#define NS1       (7ull << 32)
#define NS2       (9ull << 32)

static const uint16_t node_id[NODES] = { 10, 1, 2, 20 };
static const uint64_t stream_ids[STREAMS] = { NS1 | 1, NS1 | 2, NS1 | 3, NS2 | 4 };

struct pkt {
	uint32_t refs;
	size_t len;
	uint8_t data[RG_PKT_BYTES_MAX];
};

struct queue {
	struct pkt *v[QUEUE_MAX];
	unsigned n;
};

struct world;
/* A link filter: returns 1 to drop a packet from node src to node dst. */
typedef int (*drop_fn)(struct world *w, int src, int dst, const uint8_t *pkt, size_t len);

/* P's log of stream k, and C's view of it. */
struct stream_state {
	/* producer */
	uint64_t next_pub; /* 0: waiting for the replay callback */
	uint64_t head;     /* records made so far */
	uint64_t trim;     /* records <= trim were applied end to end: gone from the log */
	unsigned replays;
	/* consumer */
	uint64_t c_next;
	uint32_t c_off;
	uint64_t c_applied; /* durable */
	uint64_t delivered; /* records delivered to C over its incarnations */
	unsigned dups;      /* records C got twice in one incarnation (must stay 0) */
};

struct world {
	struct rg_core *core[NODES];
	struct rg_relay *relay[NODES]; /* A and B */
	uint64_t inc[NODES];
	uint64_t rng[NODES];
	uint64_t now;
	struct queue out[NODES][NODES], in[NODES][NODES];
	struct stream_state st[STREAMS];
	int c_block; /* C's consumer refuses deliveries */
	int c_no_apply;
	drop_fn drop;
	unsigned dropped;
	unsigned live_pkts;
	unsigned live_bufs;
	unsigned sub_replies;
	uint8_t sub_status;
	uint64_t max_relay_queued[NODES];
};

static uint8_t pattern[4096 + 6000];

/* ---- records: a pure function of (stream, seq) ---- */

static uint32_t
rec_len(int k, uint64_t seq)
{
	uint64_t h = seq * 0x9e3779b97f4a7c15ull ^ (uint64_t)k;

	if (seq % 17 == 0)
		return 0;
	return seq % 5 == 0 ? 2000 + (uint32_t)(rg_splitmix64(&h) % 4000) /* several fragments */
			    : 1 + (uint32_t)(rg_splitmix64(&h) % 700);
}

static const uint8_t *
rec_data(int k, uint64_t seq)
{
	return pattern + (seq * 131 + (uint64_t)k * 977) % 4096;
}

static int
stream_k(uint64_t id)
{
	for (int k = 0; k < STREAMS; k++)
		if (stream_ids[k] == id)
			return k;
	fail_msg("unknown stream %llx", (unsigned long long)id);
	return -1;
}

static int
node_of(uint16_t id)
{
	for (int i = 0; i < NODES; i++)
		if (node_id[i] == id)
			return i;
	fail_msg("unknown node %u", id);
	return -1;
}

/* ---- packets ---- */

static struct pkt *
pkt_new(struct world *w, const uint8_t *data, size_t len)
{
	struct pkt *p = malloc(sizeof(*p));

	assert_non_null(p);
	p->refs = 1;
	p->len = len;
	memcpy(p->data, data, len);
	w->live_pkts++;
	return p;
}

static void
pkt_put(struct world *w, struct pkt *p)
{
	assert_true(p->refs > 0);
	if (--p->refs == 0) {
		memset(p->data, 0xdd, p->len); /* a core reading a released packet sees garbage */
		free(p);
		w->live_pkts--;
	}
}

static void
hold(void *ctx, void *h)
{
	(void)ctx;
	((struct pkt *)h)->refs++;
}

static void
release(void *ctx, void *h)
{
	pkt_put(ctx, h);
}

/* ---- the relay's ops (A and B) ---- */

static uint16_t
route(void *ctx, uint16_t client, uint64_t stream)
{
	(void)ctx, (void)stream;
	assert_int_equal(client, node_id[P]);
	return node_id[B];
}

static uint8_t *
buf_alloc(void *ctx, uint32_t len, void **handle)
{
	struct world *w = ctx;
	uint8_t *b = malloc(len + 1);

	assert_non_null(b);
	w->live_bufs++;
	*handle = b;
	return b;
}

static void
buf_free(void *ctx, void *handle)
{
	struct world *w = ctx;

	w->live_bufs--;
	free(handle);
}

/* ---- P: the producer client ---- */

static void
p_tx_release(void *ctx, void *handle)
{
	(void)ctx, (void)handle; /* payloads point into the pattern: nothing to free */
}

static void
p_replay(void *ctx, uint16_t gw, uint64_t stream, uint64_t from)
{
	struct stream_state *s = &((struct world *)ctx)->st[stream_k(stream)];

	assert_int_equal(gw, node_id[A]);
	if (from <= s->trim)
		fail_msg("replay from %llu: the log is trimmed to %llu", (unsigned long long)from,
			 (unsigned long long)s->trim);
	assert_true(from <= s->head + 1);
	s->next_pub = from;
	s->replays++;
}

static void
p_applied(void *ctx, uint16_t gw, uint64_t stream, uint64_t applied)
{
	struct stream_state *s = &((struct world *)ctx)->st[stream_k(stream)];

	assert_int_equal(gw, node_id[A]);
	assert_true(applied <= s->head);
	if (applied > s->trim)
		s->trim = applied;
}

static int
never_rx_open(void *ctx, uint16_t gw, uint64_t stream, uint64_t *applied)
{
	(void)ctx, (void)gw, (void)stream, (void)applied;
	return -EPERM;
}

static int
never_deliver(void *ctx, uint16_t gw, uint64_t stream, const struct rg_rx_frag *f)
{
	(void)ctx, (void)gw, (void)stream, (void)f;
	fail_msg("delivered at a producer");
	return 0;
}

static void
never_replay(void *ctx, uint16_t gw, uint64_t stream, uint64_t from)
{
	(void)ctx, (void)gw, (void)stream, (void)from;
	fail_msg("a consumer was asked to replay");
}

/* ---- C: the consumer client ---- */

static int
c_deliver(void *ctx, uint16_t gw, uint64_t stream, const struct rg_rx_frag *f)
{
	struct world *w = ctx;
	int k = stream_k(stream);
	struct stream_state *s = &w->st[k];

	assert_int_equal(gw, node_id[B]);
	if (w->c_block)
		return -EAGAIN;
	if (f->seq != s->c_next || f->off != s->c_off) {
		if (f->seq < s->c_next)
			s->dups++;
		fail_msg("stream %d: got seq %llu off %u, want %llu off %u", k,
			 (unsigned long long)f->seq, f->off, (unsigned long long)s->c_next,
			 s->c_off);
	}
	assert_int_equal(f->record_len, rec_len(k, f->seq));
	assert_int_equal(f->version, 5);
	if (f->len > 0)
		assert_memory_equal(f->data, rec_data(k, f->seq) + f->off, f->len);
	s->c_off += f->len;
	if (s->c_off == f->record_len) {
		s->c_next++;
		s->c_off = 0;
		s->delivered++;
	}
	return 0;
}

static int
c_rx_open(void *ctx, uint16_t gw, uint64_t stream, uint64_t *applied)
{
	struct world *w = ctx;

	assert_int_equal(gw, node_id[B]);
	*applied = w->st[stream_k(stream)].c_applied;
	return 0;
}

static void
c_sub_reply(void *ctx, uint16_t gw, uint8_t kind, uint64_t key, uint8_t status)
{
	struct world *w = ctx;

	(void)kind, (void)key;
	assert_int_equal(gw, node_id[B]);
	w->sub_replies++;
	w->sub_status = status;
}

static void
never_tx_release(void *ctx, void *h)
{
	(void)ctx, (void)h;
	fail_msg("a consumer released a send record");
}

/* ---- nodes ---- */

static uint64_t
rng_next(void *ctx)
{
	return rg_splitmix64(ctx);
}

static void
config(struct world *w, int n, struct rg_core_config *cfg)
{
	rg_core_config_default(cfg);
	cfg->incarnation = w->inc[n];
	cfg->gateway_id = node_id[n];
	cfg->streams_max = 16;
	cfg->rx_window_records = 64;
	cfg->tx_stream_records_max = 128;
	cfg->tx_records_max = 1024;
	cfg->ack_delay_ns_max = RG_NS_PER_MS;
	cfg->initial_rtt_ns = 10 * RG_NS_PER_MS;
	cfg->granularity_ns = RG_NS_PER_MS;
	cfg->rng = (struct rg_rng){ .next = rng_next, .ctx = &w->rng[n] };
}

static void
add_peer(struct world *w, int n, int peer, int passive)
{
	assert_int_equal(rg_core_add_peer(w->core[n], node_id[peer], 1), 0);
	assert_int_equal(rg_core_add_lane(w->core[n], node_id[peer], 0, w->now), 0);
	if (passive)
		assert_int_equal(rg_core_peer_set_passive(w->core[n], node_id[peer], 1), 0);
}

static void
start_client(struct world *w, int n)
{
	struct rg_core_config cfg;
	struct rg_core_cb cb = { .rx_hold = hold, .rx_release = release, .ctx = w };

	if (n == P) {
		cb.deliver = never_deliver;
		cb.tx_release = p_tx_release;
		cb.rx_open = never_rx_open;
		cb.replay = p_replay;
		cb.applied = p_applied;
	} else {
		cb.deliver = c_deliver;
		cb.tx_release = never_tx_release;
		cb.rx_open = c_rx_open;
		cb.replay = never_replay;
		cb.sub_reply = c_sub_reply;
	}
	config(w, n, &cfg);
	assert_int_equal(rg_core_create(&cfg, &cb, &w->core[n]), 0);
	add_peer(w, n, n == P ? A : B, 0);
}

static void
start_gateway(struct world *w, int n)
{
	const struct rg_relay_config rc = {
		.streams_max = 8, .subs_max = 8, .stage_max = 256, .peers_max = 4
	};
	const struct rg_relay_ops ops = { .route = route,
					  .buf_alloc = buf_alloc,
					  .buf_free = buf_free,
					  .pkt_hold = hold,
					  .pkt_release = release,
					  .ctx = w };
	struct rg_core_config cfg;
	struct rg_core_cb cb;
	int client = n == A ? P : C, gw = n == A ? B : A;

	assert_int_equal(rg_relay_create(&rc, &ops, NULL, rg_mem_default(), &w->relay[n]), 0);
	rg_relay_core_cb(w->relay[n], &cb);
	config(w, n, &cfg);
	assert_int_equal(rg_core_create(&cfg, &cb, &w->core[n]), 0);
	rg_relay_attach(w->relay[n], w->core[n]);
	add_peer(w, n, client, 1);
	add_peer(w, n, gw, 0);
	assert_int_equal(rg_relay_add_peer(w->relay[n], node_id[client], RG_RELAY_CLIENT), 0);
	assert_int_equal(rg_relay_add_peer(w->relay[n], node_id[gw], RG_RELAY_GATEWAY), 0);
	assert_int_equal(rg_relay_add_peer(w->relay[n], node_id[gw], RG_RELAY_GATEWAY), -EEXIST);
}

static void
start(struct world *w, int n)
{
	w->inc[n] += 1000;
	if (n == A || n == B)
		start_gateway(w, n);
	else
		start_client(w, n);
	if (n == C)
		for (int k = 0; k < STREAMS; k++)
			w->st[k].c_next = w->st[k].c_applied + 1, w->st[k].c_off = 0;
	if (n == P)
		for (int k = 0; k < STREAMS; k++)
			w->st[k].next_pub = 0;
}

static void
stop(struct world *w, int n)
{
	rg_core_destroy(w->core[n]);
	rg_relay_destroy(w->relay[n]);
	w->core[n] = NULL;
	w->relay[n] = NULL;
}

/* ---- the clock and the links ---- */

static void
flush_relay(struct world *w, int n)
{
	if (w->relay[n] == NULL)
		return;
	rg_relay_flush(w->relay[n], w->now);
	assert_int_equal(rg_relay_check(w->relay[n]), 0);
	w->max_relay_queued[n] = RG_MAX(w->max_relay_queued[n], rg_core_relay_queued(w->core[n]));
}

static void
send_all(struct world *w, int n)
{
	uint8_t buf[RG_PKT_BYTES_MAX];
	struct rg_tx_meta meta;
	size_t len;

	if (w->core[n] == NULL)
		return;
	flush_relay(w, n);
	while ((len = rg_core_send(w->core[n], buf, sizeof(buf), &meta, w->now)) > 0) {
		int dst = node_of(meta.peer_gw);
		struct queue *q = &w->out[n][dst];

		assert_true(q->n < QUEUE_MAX);
		if (w->drop != NULL && w->drop(w, n, dst, buf, len)) {
			w->dropped++;
			continue;
		}
		q->v[q->n++] = pkt_new(w, buf, len);
	}
	assert_int_equal(rg_core_check(w->core[n]), 0);
}

static void
deliver_in(struct world *w, int src, int dst)
{
	struct queue *q = &w->in[src][dst];

	for (unsigned i = 0; i < q->n; i++) {
		if (w->core[dst] != NULL) {
			rg_core_recv(w->core[dst], q->v[i]->data, q->v[i]->len, q->v[i], w->now);
			flush_relay(w, dst);
		}
		pkt_put(w, q->v[i]);
	}
	q->n = 0;
}

static void
produce(struct world *w)
{
	for (int k = 0; k < STREAMS && w->core[P] != NULL; k++) {
		struct stream_state *s = &w->st[k];

		/* Bounded: at most the records made and not yet taken. */
		while (s->next_pub != 0 && s->next_pub <= s->head) {
			int rc = rg_core_publish(w->core[P], stream_ids[k], s->next_pub, 5,
						 rec_data(k, s->next_pub), rec_len(k, s->next_pub),
						 NULL);

			if (rc == -EAGAIN || rc == -ENOTCONN)
				break;
			assert_int_equal(rc, 0);
			s->next_pub++;
		}
	}
}

static void
consume(struct world *w)
{
	if (w->core[C] == NULL)
		return;
	rg_core_drain(w->core[C]);
	for (int k = 0; k < STREAMS && !w->c_no_apply; k++) {
		struct stream_state *s = &w->st[k];

		if (s->c_next - 1 > s->c_applied) {
			s->c_applied = s->c_next - 1; /* durable from here on */
			rg_core_applied(w->core[C], stream_ids[k], s->c_applied);
		}
	}
}

static void
step(struct world *w)
{
	for (int a = 0; a < NODES; a++)
		for (int b = 0; b < NODES; b++) {
			w->in[a][b] = w->out[a][b];
			w->out[a][b].n = 0;
		}
	for (int a = 0; a < NODES; a++)
		for (int b = 0; b < NODES; b++)
			deliver_in(w, a, b);
	produce(w);
	consume(w);
	for (int n = 0; n < NODES; n++) {
		if (w->core[n] == NULL)
			continue;
		rg_core_drain(w->core[n]);
		flush_relay(w, n);
		rg_core_on_timer(w->core[n], w->now);
		flush_relay(w, n);
		send_all(w, n);
	}
	w->now += STEP_NS;
}

#define RUN_UNTIL(w, cond)                                                                    \
	do {                                                                                  \
		unsigned steps_ = 0;                                                          \
		while (!(cond)) {                                                             \
			if (steps_++ >= STEPS_MAX)                                            \
				fail_msg("no progress after %u steps: %s", STEPS_MAX, #cond); \
			step(w);                                                              \
		}                                                                             \
	} while (0)

static void
run_steps(struct world *w, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		step(w);
}

static void
world_init(struct world *w)
{
	uint64_t seed = 5;

	memset(w, 0, sizeof(*w));
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)rg_splitmix64(&seed);
	w->now = 1000 * RG_NS_PER_S;
	for (int n = 0; n < NODES; n++) {
		w->rng[n] = 100 + (uint64_t)n;
		start(w, n);
	}
	for (int k = 0; k < STREAMS; k++)
		w->st[k].c_next = 1;
}

static void
world_fini(struct world *w)
{
	for (int a = 0; a < NODES; a++)
		for (int b = 0; b < NODES; b++) {
			for (unsigned i = 0; i < w->out[a][b].n; i++)
				pkt_put(w, w->out[a][b].v[i]);
			w->out[a][b].n = 0;
		}
	for (int n = 0; n < NODES; n++)
		stop(w, n);
	assert_int_equal(w->live_pkts, 0);
	assert_int_equal(w->live_bufs, 0);
}

static void
make(struct world *w, int k, uint64_t upto)
{
	if (w->st[k].head < upto)
		w->st[k].head = upto;
}

static int
all_applied(const struct world *w, int k)
{
	return w->st[k].c_applied == w->st[k].head && w->st[k].trim == w->st[k].head;
}

static struct rg_relay_stats
relay_stats(const struct world *w, int n)
{
	struct rg_relay_stats s;

	rg_relay_stats(w->relay[n], &s);
	return s;
}

static struct rg_core_stats
core_stats(const struct world *w, int n)
{
	struct rg_core_stats s;

	rg_core_stats(w->core[n], &s);
	return s;
}

/* ---- tests ---- */

static void
test_relay_end_to_end_in_order(void **state)
{
	struct world w;
	struct rg_relay_stats a, b;

	(void)state;
	world_init(&w);
	assert_int_equal(
	    rg_core_subscribe(w.core[C], node_id[B], RG_SUB_STREAM, stream_ids[0], w.now), 0);
	assert_int_equal(rg_core_tx_open(w.core[P], node_id[A], stream_ids[0], 0), 0);
	make(&w, 0, 500);
	RUN_UNTIL(&w, all_applied(&w, 0));
	assert_int_equal(w.st[0].delivered, 500);
	assert_int_equal(w.st[0].replays, 1);
	assert_int_equal(w.sub_replies, 1);
	assert_int_equal(w.sub_status, RG_SUB_OK);
	a = relay_stats(&w, A);
	b = relay_stats(&w, B);
	assert_int_equal(a.ctr[RG_RLY_CTR_records], 500);
	assert_int_equal(b.ctr[RG_RLY_CTR_records], 500);
	assert_true(a.ctr[RG_RLY_CTR_zero_copy] > 0 && a.ctr[RG_RLY_CTR_reassembled] > 0);
	assert_int_equal(a.ctr[RG_RLY_CTR_zero_copy] + a.ctr[RG_RLY_CTR_reassembled], 500);
	assert_int_equal(a.ctr[RG_RLY_CTR_rewinds] + b.ctr[RG_RLY_CTR_rewinds], 0);
	assert_int_equal(a.assembling + b.assembling, 0);
	/* Nothing was refused on the way: every RESUME waited for its answer instead. */
	for (int n = 0; n < NODES; n++)
		assert_int_equal(core_stats(&w, n).ctr[RG_CTR_resume_refused], 0);
	world_fini(&w);
}

/* P's stream waits (SYNCING, publish -ENOTCONN) until a consumer subscribes at B. */
static void
test_relay_stream_waits_for_its_consumer(void **state)
{
	struct world w;

	(void)state;
	world_init(&w);
	for (int k = 0; k < STREAMS; k++) {
		assert_int_equal(rg_core_tx_open(w.core[P], node_id[A], stream_ids[k], 0), 0);
		make(&w, k, 50);
	}
	run_steps(&w, 500);
	for (int k = 0; k < STREAMS; k++)
		assert_int_equal(w.st[k].replays, 0);
	assert_int_equal(
	    rg_core_publish(w.core[P], stream_ids[0], 1, 5, rec_data(0, 1), rec_len(0, 1), NULL),
	    -ENOTCONN);
	assert_true(relay_stats(&w, B).ctr[RG_RLY_CTR_waits] >= 1);
	/* A namespace subscription: its three streams flow, the fourth (another ns) still waits. */
	assert_int_equal(rg_core_subscribe(w.core[C], node_id[B], RG_SUB_NAMESPACE, NS1, w.now), 0);
	RUN_UNTIL(&w, all_applied(&w, 0) && all_applied(&w, 1) && all_applied(&w, 2));
	run_steps(&w, 200);
	assert_int_equal(w.st[3].replays, 0);
	assert_int_equal(w.st[3].delivered, 0);
	/* The fourth stream, subscribed by itself, flows too. */
	assert_int_equal(
	    rg_core_subscribe(w.core[C], node_id[B], RG_SUB_STREAM, stream_ids[3], w.now), 0);
	RUN_UNTIL(&w, all_applied(&w, 3));
	for (int k = 0; k < STREAMS; k++)
		assert_int_equal(w.st[k].delivered, 50);
	for (int n = 0; n < NODES; n++)
		assert_int_equal(core_stats(&w, n).ctr[RG_CTR_resume_refused], 0);
	world_fini(&w);
}

/* A consumer that stops reading: the producer sees -EAGAIN, every hop's buffers stay bounded. */
static void
test_relay_slow_consumer_backpressure(void **state)
{
	struct world w;
	int rc = 0;

	(void)state;
	world_init(&w);
	assert_int_equal(
	    rg_core_subscribe(w.core[C], node_id[B], RG_SUB_STREAM, stream_ids[0], w.now), 0);
	assert_int_equal(rg_core_tx_open(w.core[P], node_id[A], stream_ids[0], 0), 0);
	RUN_UNTIL(&w, w.st[0].replays == 1);
	w.c_block = 1;
	make(&w, 0, SEQ_MAX);
	run_steps(&w, 3000);
	/* P could not hand over everything: its queue filled (backpressure reached the producer). */
	assert_true(w.st[0].next_pub < SEQ_MAX);
	rc = rg_core_publish(w.core[P], stream_ids[0], w.st[0].next_pub, 5,
			     rec_data(0, w.st[0].next_pub), rec_len(0, w.st[0].next_pub), NULL);
	assert_int_equal(rc, -EAGAIN);
	/* Each relay held at most one send queue and one window of the stream. */
	assert_true(w.max_relay_queued[A] <= 128 && w.max_relay_queued[B] <= 128);
	assert_true(relay_stats(&w, A).ctr[RG_RLY_CTR_down_busy] > 0);
	assert_true(relay_stats(&w, B).ctr[RG_RLY_CTR_down_busy] > 0);
	assert_true(w.st[0].next_pub - 1 <= 128 * 3 + 64 * 3); /* queues and windows of 3 hops */
	w.c_block = 0;
	RUN_UNTIL(&w, all_applied(&w, 0));
	assert_int_equal(w.st[0].delivered, SEQ_MAX);
	world_fini(&w);
}

/* Drops the first 5 A → B packets that carry DATA of seq % 3 == 0. */
static int
drop_wan_data(struct world *w, int src, int dst, const uint8_t *pkt, size_t len)
{
	struct rg_hdr h;
	struct rg_frame f;
	size_t off = RG_HDR_BYTES;

	if (src != A || dst != B || w->dropped >= 5 || rg_wire_open(pkt, len, &h) != RG_WIRE_OK)
		return 0;
	while (rg_wire_frame_next(pkt, len, &off, &f))
		if (f.type == RG_FRAME_DATA && f.data.seq % 3 == 0)
			return 1;
	return 0;
}

/* A loss on the WAN is repaired from the relay that kept the record, not from the producer. */
static void
test_relay_wan_loss_repaired_from_relay(void **state)
{
	struct world w;

	(void)state;
	world_init(&w);
	w.drop = drop_wan_data;
	assert_int_equal(
	    rg_core_subscribe(w.core[C], node_id[B], RG_SUB_STREAM, stream_ids[0], w.now), 0);
	assert_int_equal(rg_core_tx_open(w.core[P], node_id[A], stream_ids[0], 0), 0);
	make(&w, 0, 300);
	RUN_UNTIL(&w, all_applied(&w, 0));
	assert_int_equal(w.dropped, 5);
	assert_true(core_stats(&w, A).ctr[RG_CTR_rtx_frames] >= 5);
	assert_int_equal(core_stats(&w, P).ctr[RG_CTR_rtx_frames], 0);
	assert_int_equal(w.st[0].replays, 1);
	world_fini(&w);
}

/* Each of the four processes restarts mid-stream: nothing lost, nothing twice, in order. */
static void
restart_mid_stream(int n)
{
	struct world w;
	uint64_t before;

	world_init(&w);
	for (int k = 0; k < 2; k++) {
		assert_int_equal(
		    rg_core_subscribe(w.core[C], node_id[B], RG_SUB_STREAM, stream_ids[k], w.now),
		    0);
		assert_int_equal(rg_core_tx_open(w.core[P], node_id[A], stream_ids[k], 0), 0);
		make(&w, k, 600);
	}
	w.c_no_apply = n == C; /* C restarts with records delivered but not applied */
	RUN_UNTIL(&w, w.st[0].delivered >= 200 && w.st[1].delivered >= 200);
	before = w.st[0].delivered + w.st[1].delivered;
	stop(&w, n);
	run_steps(&w, 50);
	start(&w, n);
	if (n == P) /* a new producer process: its app reopens its streams (the log is kept) */
		for (int k = 0; k < 2; k++)
			assert_int_equal(rg_core_tx_open(w.core[P], node_id[A], stream_ids[k], 0),
					 0);
	if (n == C) /* a new consumer process subscribes again, from its durable state */
		for (int k = 0; k < 2; k++)
			assert_int_equal(rg_core_subscribe(w.core[C], node_id[B], RG_SUB_STREAM,
							   stream_ids[k], w.now),
					 0);
	w.c_no_apply = 0;
	for (int k = 0; k < 2; k++)
		make(&w, k, 1200);
	RUN_UNTIL(&w, all_applied(&w, 0) && all_applied(&w, 1));
	for (int k = 0; k < 2; k++) {
		assert_int_equal(w.st[k].dups, 0);
		assert_int_equal(w.st[k].c_applied, 1200);
		/* C saw each record once per incarnation: again only what it had not applied */
		if (n != C)
			assert_int_equal(w.st[k].delivered, 1200);
	}
	/*
	 * Who had to pass a replay upstream: after B restarts, A (its queue was dropped); after
	 * C restarts with nothing applied, B and then A, back to the producer's log.
	 */
	if (n == B || n == C)
		assert_int_equal(relay_stats(&w, A).ctr[RG_RLY_CTR_rewinds], 2);
	assert_int_equal(relay_stats(&w, B).ctr[RG_RLY_CTR_rewinds], n == C ? 2 : 0);
	if (n == P || n == A)
		assert_int_equal(relay_stats(&w, A).ctr[RG_RLY_CTR_rewinds], 0);
	assert_int_equal(w.st[0].replays, 2);
	if (n == C)
		assert_true(w.st[0].delivered + w.st[1].delivered >= 2400 &&
			    w.st[0].delivered + w.st[1].delivered <= 2400 + before);
	world_fini(&w);
}

static void
test_relay_producer_restarts(void **state)
{
	(void)state;
	restart_mid_stream(P);
}

static void
test_relay_origin_gateway_restarts(void **state)
{
	(void)state;
	restart_mid_stream(A);
}

/* B restarts: A's send queue is dropped, so A rewinds P to what C applied (rule 5). */
static void
test_relay_replica_gateway_restarts(void **state)
{
	(void)state;
	restart_mid_stream(B);
}

static void
test_relay_consumer_restarts(void **state)
{
	(void)state;
	restart_mid_stream(C);
}

/*
 * A consumer whose durable state went back (its state lost): it asks for records applied
 * before, which the producer trimmed. Nothing can serve them: B holds the stream (counted
 * regressed), drops nothing and spins on nothing; the consumer back with its real state
 * resumes it.
 */
static void
test_relay_consumer_state_went_back(void **state)
{
	struct world w;
	uint64_t failed;

	(void)state;
	world_init(&w);
	assert_int_equal(
	    rg_core_subscribe(w.core[C], node_id[B], RG_SUB_STREAM, stream_ids[0], w.now), 0);
	assert_int_equal(rg_core_tx_open(w.core[P], node_id[A], stream_ids[0], 0), 0);
	make(&w, 0, 200);
	RUN_UNTIL(&w, all_applied(&w, 0));
	stop(&w, C);
	w.st[0].c_applied = 0; /* the state file is gone */
	start(&w, C);
	assert_int_equal(
	    rg_core_subscribe(w.core[C], node_id[B], RG_SUB_STREAM, stream_ids[0], w.now), 0);
	make(&w, 0, 300);
	RUN_UNTIL(&w, relay_stats(&w, B).ctr[RG_RLY_CTR_regressed] >= 1);
	failed = relay_stats(&w, B).ctr[RG_RLY_CTR_publish_failed];
	run_steps(&w, 1000);
	assert_int_equal(relay_stats(&w, B).ctr[RG_RLY_CTR_publish_failed], failed);
	assert_int_equal(w.st[0].delivered, 200); /* nothing from the wrong place */
	assert_int_equal(w.st[0].trim, 200);      /* and the producer still holds the rest */
	/* the consumer comes back with its real state: the stream resumes after 200 */
	stop(&w, C);
	w.st[0].c_applied = 200;
	start(&w, C);
	assert_int_equal(
	    rg_core_subscribe(w.core[C], node_id[B], RG_SUB_STREAM, stream_ids[0], w.now), 0);
	RUN_UNTIL(&w, all_applied(&w, 0));
	assert_int_equal(w.st[0].delivered, 300);
	assert_int_equal(w.st[0].dups, 0);
	world_fini(&w);
}

/* The relay refuses what is not its to take: a subscription from a gateway, a full table. */
static void
test_relay_subscription_rules(void **state)
{
	struct world w;
	struct rg_core_cb cb;

	(void)state;
	world_init(&w);
	rg_relay_core_cb(w.relay[B], &cb);
	/* called as B's core would: A is a gateway, not a consumer */
	assert_int_equal(cb.subscribe(cb.ctx, node_id[A], RG_SUB_STREAM, 5), RG_SUB_NOT_ALLOWED);
	assert_int_equal(cb.subscribe(cb.ctx, node_id[C], RG_SUB_STREAM, 5), RG_SUB_OK);
	assert_int_equal(cb.subscribe(cb.ctx, node_id[C], RG_SUB_STREAM, 5), RG_SUB_OK);
	/* One consumer per stream: another client asking for it is told BUSY. */
	assert_int_equal(rg_relay_add_peer(w.relay[B], 21, RG_RELAY_CLIENT), 0);
	assert_int_equal(cb.subscribe(cb.ctx, 21, RG_SUB_STREAM, 5), RG_SUB_BUSY);
	assert_int_equal(rg_relay_add_peer(w.relay[B], 22, 9), -EINVAL);
	for (uint64_t k = 6; k < 6 + 7; k++)
		assert_int_equal(cb.subscribe(cb.ctx, node_id[C], RG_SUB_STREAM, k), RG_SUB_OK);
	assert_int_equal(cb.subscribe(cb.ctx, node_id[C], RG_SUB_STREAM, 99), RG_SUB_FULL);
	assert_int_equal(relay_stats(&w, B).subs, 8);
	assert_int_equal(relay_stats(&w, B).ctr[RG_RLY_CTR_subs_refused], 3);
	assert_int_equal(rg_relay_check(w.relay[B]), 0);
	assert_string_equal(rg_relay_counter_name(RG_RLY_CTR_rewinds), "rewinds");
	assert_string_equal(rg_relay_counter_name(RG_RLY_CTR_MAX), "?");
	world_fini(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relay_end_to_end_in_order),
		cmocka_unit_test(test_relay_stream_waits_for_its_consumer),
		cmocka_unit_test(test_relay_slow_consumer_backpressure),
		cmocka_unit_test(test_relay_wan_loss_repaired_from_relay),
		cmocka_unit_test(test_relay_producer_restarts),
		cmocka_unit_test(test_relay_origin_gateway_restarts),
		cmocka_unit_test(test_relay_replica_gateway_restarts),
		cmocka_unit_test(test_relay_consumer_restarts),
		cmocka_unit_test(test_relay_consumer_state_went_back),
		cmocka_unit_test(test_relay_subscription_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
