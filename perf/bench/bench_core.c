/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/: two protocol cores (core.h) wired back to back on one thread, A
 * sending one stream to B over one lane, no loss, default config (1472-byte
 * packets, ack every 4 packets, 256-record credit). Each loop pass publishes
 * a burst of 128 records of arg bytes on A and pumps packets A → B → A until
 * A has released all of them:
 *
 *   publish → A: rg_core_send (take, encode, seal) → B: rg_core_recv (open,
 *   ackr, reorder, deliver) → B: rg_core_send (ACK, CREDIT) → A: rg_core_recv
 *   (recovery, txq on_acked, tx_release) ... then rg_core_applied on B.
 *
 * op = record, both ends' protocol work together (one worker runs only one
 * end of a stream, so one end costs about half of it). Time is a counter
 * moved to the next deadline when nothing else is due (the last ACK of a
 * burst waits for ack_delay_ns_max); it never reads a clock.
 */
#include <string.h>

#include "bench.h"
#include "core.h"

#define GW_A      1
#define GW_B      2
#define STREAM    0x5100000000000001ull
#define BURST     128
#define REC_MAX   1024
#define STEPS_MAX 10000 /* clock moves per burst before we call it stuck */
#define SENDS_MAX 4096  /* packets one side may send in one pump round */

struct world {
	struct rg_core *a, *b;
	uint64_t rng_a, rng_b;
	uint64_t now;
	uint64_t from_seq; /* A: the first seq to publish (replay callback), 0 before */
	uint64_t released; /* A: records fully acked and handed back */
	uint64_t next_seq; /* B: the next byte its consumer expects: seq, offset */
	uint32_t next_off;
	uint64_t delivered;
	uint64_t drops; /* packets rg_core_recv refused */
	uint64_t holds; /* B kept a packet: cannot happen in order, and buf is reused */
	int wrong;      /* a fragment out of order, or a callback on the wrong side */
	uint8_t buf[RG_PKT_BYTES_MAX] __attribute__((aligned(64)));
};

static uint8_t payload[REC_MAX];

static uint64_t
rng_next(void *ctx)
{
	return rg_splitmix64(ctx);
}

static int
deliver(void *ctx, uint16_t peer_gw, uint64_t stream, const struct rg_rx_frag *f)
{
	struct world *w = ctx;

	w->wrong |=
	    peer_gw != GW_A || stream != STREAM || f->seq != w->next_seq || f->off != w->next_off;
	w->next_off = f->off + f->len;
	if (w->next_off == f->record_len) {
		w->next_seq++;
		w->next_off = 0;
		w->delivered++;
	}
	return 0;
}

static void
rx_hold(void *ctx, void *handle)
{
	(void)handle;
	((struct world *)ctx)->holds++;
}

static void
rx_release(void *ctx, void *handle)
{
	(void)ctx, (void)handle;
}

static void
tx_release(void *ctx, void *handle)
{
	(void)handle;
	((struct world *)ctx)->released++;
}

static int
rx_open(void *ctx, uint16_t peer_gw, uint64_t stream, uint64_t *applied)
{
	(void)ctx, (void)peer_gw, (void)stream;
	*applied = 0;
	return 0;
}

static void
replay(void *ctx, uint16_t peer_gw, uint64_t stream, uint64_t from_seq)
{
	struct world *w = ctx;

	w->wrong |= peer_gw != GW_B || stream != STREAM;
	w->from_seq = from_seq;
}

static int
make_core(struct world *w, uint16_t gw, uint16_t peer, uint64_t *rng, struct rg_core **out)
{
	const struct rg_core_cb cb = {
		.deliver = deliver,
		.rx_hold = rx_hold,
		.rx_release = rx_release,
		.tx_release = tx_release,
		.rx_open = rx_open,
		.replay = replay,
		.ctx = w,
	};
	struct rg_core_config cfg;

	rg_core_config_default(&cfg);
	cfg.incarnation = 100 * gw;
	cfg.gateway_id = gw;
	cfg.streams_max = 16;
	cfg.rng = (struct rg_rng){ .next = rng_next, .ctx = rng };
	if (rg_core_create(&cfg, &cb, out) != 0)
		return -1;
	if (rg_core_add_peer(*out, peer, 1) != 0 || rg_core_add_lane(*out, peer, 0, w->now) != 0)
		return -1;
	return 0;
}

/* Sends everything src may send now straight into dst; returns the packets moved. */
static unsigned
move(struct world *w, struct rg_core *src, struct rg_core *dst)
{
	struct rg_tx_meta meta;
	unsigned n = 0;
	size_t len;

	while (n < SENDS_MAX &&
	       (len = rg_core_send(src, w->buf, sizeof(w->buf), &meta, w->now)) > 0) {
		if (rg_core_recv(dst, w->buf, len, w->buf, w->now) != RG_DROP_NONE)
			w->drops++;
		n++;
	}
	return n;
}

/* Moves packets both ways until neither side sends, then lets the clock reach the next deadline. */
static void
step(struct world *w)
{
	uint64_t da, db, next;

	for (unsigned i = 0; i < SENDS_MAX; i++) {
		unsigned n = move(w, w->a, w->b);

		if (n + move(w, w->b, w->a) == 0)
			break;
	}
	da = rg_core_next_deadline(w->a, w->now);
	db = rg_core_next_deadline(w->b, w->now);
	next = RG_MIN(da, db);
	w->now = next != RG_NS_NEVER && next > w->now ? next : w->now + RG_NS_PER_US;
	rg_core_on_timer(w->a, w->now);
	rg_core_on_timer(w->b, w->now);
}

static int
world_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	w->now = 1000 * RG_NS_PER_S;
	w->rng_a = 11;
	w->rng_b = 22;
	if (make_core(w, GW_A, GW_B, &w->rng_a, &w->a) != 0 ||
	    make_core(w, GW_B, GW_A, &w->rng_b, &w->b) != 0)
		return -1;
	if (rg_core_tx_open(w->a, GW_B, STREAM, 0) != 0)
		return -1;
	for (unsigned i = 0; i < STEPS_MAX && w->from_seq == 0; i++)
		step(w);
	w->next_seq = w->from_seq;
	return w->from_seq != 0 ? 0 : -1;
}

static void
world_fini(struct world *w)
{
	if (w->a != NULL)
		rg_core_destroy(w->a);
	if (w->b != NULL)
		rg_core_destroy(w->b);
}

/* Publishes BURST records of len bytes and runs until A released them; 0 or -1 (stuck). */
static int
burst(struct world *w, uint64_t *seq, uint32_t len)
{
	uint64_t target = w->released + BURST;

	for (unsigned i = 0; i < BURST; i++, (*seq)++)
		if (rg_core_publish(w->a, STREAM, *seq, 3, payload, len, payload) != 0)
			return -1;
	for (unsigned i = 0; i < STEPS_MAX && w->released < target; i++)
		step(w);
	rg_core_applied(w->b, STREAM, *seq - 1);
	w->now += RG_NS_PER_US;
	return w->released == target ? 0 : -1;
}

static void
bench_exchange(struct rg_bench_state *st, const void *ctx)
{
	uint32_t len = (uint32_t)rg_bench_arg(st, 0);
	static struct world w;
	uint64_t seq;
	int ok;

	(void)ctx;
	if (world_init(&w) != 0) {
		world_fini(&w);
		rg_bench_skip_with_error(st, "the stream did not open");
		return;
	}
	seq = w.from_seq;
	while ((ok = rg_bench_keep_running(st)) && burst(&w, &seq, len) == 0)
		;
	if (ok) {
		rg_bench_skip_with_error(st, "a burst was not acked within the step bound");
		world_fini(&w);
		return;
	}
	if (w.drops != 0 || w.holds != 0 || w.wrong || w.delivered != seq - w.from_seq ||
	    rg_core_check(w.a) != 0 || rg_core_check(w.b) != 0)
		rg_bench_skip_with_error(st,
					 "a packet dropped, a record out of order or an invariant");
	world_fini(&w);
	rg_bench_set_items(st, (int64_t)(seq - w.from_seq));
	rg_bench_set_bytes(st, (int64_t)(seq - w.from_seq) * len);
	rg_bench_set_label(st, "record (both ends)");
}

void
rg_bench_core_register(void)
{
	static const int64_t sizes[] = { 64, 1024 };

	memset(payload, 0x5a, sizeof(payload));
	rg_bench_register("core/exchange", bench_exchange, NULL, sizes, (int)RG_ARRAY_SIZE(sizes));
}
