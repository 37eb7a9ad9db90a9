/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "hist.h"
#include "history.h"
#include "loadgen.h"
#include "profile.h"
#include "record.h"

#define STATE_MAGIC   0x5247535441544531ull /* "RGSTATE1" */
#define MAKE_BURST    32
#define DELIVER_BURST 256
#define NS_SHOWN      8
#define HIST_BUCKETS  RG_HIST_BUCKETS

/*
 * X-macro: the history checker's anomalies (history.h) that the state file
 * keeps over every incarnation and the verdict reports, in this order, under
 * the checker's names. stale_accepted is not among them: the generator's
 * records are all version 1 and the consumer sets no fence.
 */
#define LG_ANOMALIES(X) \
	X(duplicated)   \
	X(reordered)    \
	X(gaps)         \
	X(corrupt_accepted)

enum lg_anomaly {
#define LG_X(name) LG_##name,
	LG_ANOMALIES(LG_X)
#undef LG_X
	LG_ANOM_MAX
};

static const enum rg_history_counter anomaly_ctr[LG_ANOM_MAX] = {
#define LG_X(name) RG_HISTORY_CTR_##name,
	LG_ANOMALIES(LG_X)
#undef LG_X
};

/* The consumer's durable state: mapped from cfg.state_file (or anonymous memory). */
struct lg_state {
	uint64_t magic;
	uint32_t streams;
	uint32_t reserved;
	uint64_t anomalies[LG_ANOM_MAX]; /* over every incarnation */
	uint64_t incarnations;
	uint64_t applied[]; /* per stream; A1 */
};

struct lg_stream {
	uint64_t id;
	uint16_t worker;
	uint32_t ns;
	/* written by worker hooks (H1) */
	uint64_t replay_gen, replay_from, acked, applied;
	/* generator */
	uint64_t head, next, seen_gen;
	uint64_t base, base_ns; /* the rate counts from where and when the stream first resumed */
	int ready;
	/* consumer */
	struct rg_history_stream h; /* this incarnation's check of the stream */
	uint64_t c_next;            /* h.next, published for telemetry (T1) */
	uint8_t c_dirty;
	uint16_t c_worker;
	uint64_t c_applied_sent;
	/* rx_open (a worker) says where a newly opened stream resumes (H2); the consumer follows */
	uint64_t open_gen, open_applied, c_open_seen;
} __rte_cache_aligned;

struct rg_loadgen {
	struct rg_loadgen_config cfg;
	struct lg_stream *st;
	struct lg_state *state;
	size_t state_bytes;
	int state_mapped;
	struct rg_record_ctx rec; /* the seed's filler and the record sizes */
	uint32_t *dirty;          /* consumer: streams to apply */
	uint32_t ndirty;
	uint64_t made, delivered_frags;
	uint64_t checked; /* consumer: history.ctr[checked], published for telemetry (T1) */
	/* consumer: this incarnation's counts; the anomalies go on to the state file */
	struct rg_history history;
	uint64_t anomalies_kept[LG_ANOM_MAX]; /* what of history's anomalies is in the state */
	uint64_t hist[HIST_BUCKETS];          /* consumer: creation → delivery latency, ns */
	uint64_t hist_n;
	uint64_t (*ns_hist)[HIST_BUCKETS]; /* the same per namespace */
	uint64_t *ns_hist_n;
	uint32_t paced_streams; /* generator: streams that share rate_records_s */
	double per_stream;      /* ... and the records/s each of them makes */
	double ns_per_record;   /* 1e9 / per_stream */
	uint64_t mono0;         /* mono_ns() when the load clock started */
	uint64_t first_ns, last_ns;
	uint64_t progress_next_ns;
	uint64_t last_made, last_checked, last_bytes, last_applied;
	uint64_t done_ns;
};

static int
fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

uint64_t
rg_loadgen_stream_id(const struct rg_loadgen *lg, uint32_t k)
{
	return ((uint64_t)(k % lg->cfg.namespaces + 1) << 32) | (k + 1);
}

/* The stream index of an id, or -1 when it is not one of ours. */
static int64_t
stream_index(const struct rg_loadgen *lg, uint64_t id)
{
	uint64_t k = (id & 0xffffffffu) - 1;

	if (k >= lg->cfg.streams || rg_loadgen_stream_id(lg, (uint32_t)k) != id)
		return -1;
	return (int64_t)k;
}

/*
 * The main lcore is the only writer of made, checked and the streams' head
 * and c_next; it stores them with this (T1) so that telemetry threads may
 * read them (rg_loadgen_stream_view, rg_loadgen_totals: relaxed loads, pair
 * with T1). A relaxed store is a plain mov on x86-64: nothing for the loop.
 */
static inline void
publish_u64(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED); /* T1 */
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * RG_NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* ---- worker hooks (worker lcores) ---- */

static struct lg_stream *
hook_stream(struct rg_loadgen *lg, uint64_t id)
{
	int64_t k = stream_index(lg, id);

	return k < 0 ? NULL : &lg->st[k];
}

static void
hook_replay(void *ctx, uint16_t peer_gw, uint64_t stream, uint64_t from)
{
	struct lg_stream *s = hook_stream(ctx, stream);

	(void)peer_gw;
	if (s == NULL)
		return;
	__atomic_store_n(&s->replay_from, from, __ATOMIC_RELAXED);
	__atomic_store_n(&s->replay_gen, s->replay_gen + 1, __ATOMIC_RELEASE); /* H1 */
}

static void
hook_acked(void *ctx, uint16_t peer_gw, uint64_t stream, uint64_t acked)
{
	struct lg_stream *s = hook_stream(ctx, stream);

	(void)peer_gw;
	if (s != NULL)
		__atomic_store_n(&s->acked, acked, __ATOMIC_RELEASE); /* H1 */
}

static void
hook_applied(void *ctx, uint16_t peer_gw, uint64_t stream, uint64_t applied)
{
	struct lg_stream *s = hook_stream(ctx, stream);

	(void)peer_gw;
	if (s != NULL) {
		__atomic_store_n(&s->applied, applied, __ATOMIC_RELEASE); /* H1 */
		if (applied > __atomic_load_n(&s->acked, __ATOMIC_RELAXED))
			__atomic_store_n(&s->acked, applied, __ATOMIC_RELEASE);
	}
}

static int
hook_rx_open(void *ctx, uint16_t peer_gw, uint64_t stream, uint64_t *applied)
{
	struct rg_loadgen *lg = ctx;
	int64_t k = stream_index(lg, stream);

	if (lg->cfg.role != RG_LOAD_CONSUMER || peer_gw != lg->cfg.peer_gw || k < 0)
		return -EPERM;
	*applied = __atomic_load_n(&lg->state->applied[k], __ATOMIC_ACQUIRE); /* pairs with A1 */
	/*
	 * The stream may have been applied elsewhere since this consumer started:
	 * another gateway of this region served it until it failed over here, and
	 * the applied watermarks are the region's (one state file). Before any of
	 * its deliveries (the delivery ring orders them after this), tell the
	 * consumer where the stream resumes.
	 */
	__atomic_store_n(&lg->st[k].open_applied, *applied, __ATOMIC_RELAXED);
	__atomic_store_n(&lg->st[k].open_gen, lg->st[k].open_gen + 1, __ATOMIC_RELEASE); /* H2 */
	return 0;
}

struct rg_worker_hooks
rg_loadgen_hooks(struct rg_loadgen *lg)
{
	return (struct rg_worker_hooks){ .rx_open = hook_rx_open,
					 .replay = hook_replay,
					 .acked = hook_acked,
					 .applied = hook_applied,
					 .ctx = lg };
}

/* ---- setup ---- */

static int
state_open(struct rg_loadgen *lg, char *err, size_t errlen)
{
	const struct rg_loadgen_config *c = &lg->cfg;
	int fd;

	lg->state_bytes = sizeof(*lg->state) + (size_t)c->streams * sizeof(uint64_t);
	if (c->state_file == NULL || c->state_file[0] == '\0') {
		lg->state = calloc(1, lg->state_bytes);
		if (lg->state == NULL)
			return -ENOMEM;
	} else {
		fd = open(c->state_file, O_RDWR | O_CREAT, 0644);
		if (fd < 0 || ftruncate(fd, (off_t)lg->state_bytes) != 0) {
			if (fd >= 0)
				close(fd);
			return fail(err, errlen, -errno, "load.state_file %s: %s", c->state_file,
				    strerror(errno));
		}
		lg->state = mmap(NULL, lg->state_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		close(fd);
		if (lg->state == MAP_FAILED)
			return fail(err, errlen, -errno, "load.state_file %s: mmap: %s",
				    c->state_file, strerror(errno));
		lg->state_mapped = 1;
	}
	if (lg->state->magic != STATE_MAGIC || lg->state->streams != c->streams) {
		memset(lg->state, 0, lg->state_bytes);
		lg->state->magic = STATE_MAGIC;
		lg->state->streams = c->streams;
	}
	lg->state->incarnations++;
	return 0;
}

int
rg_loadgen_create(const struct rg_loadgen_config *cfg, struct rg_loadgen **out, char *err,
		  size_t errlen)
{
	struct rg_loadgen *lg = rte_zmalloc("rg_loadgen", sizeof(*lg), RG_CACHE_LINE);
	int rc;

	*out = NULL;
	if (lg == NULL)
		return fail(err, errlen, -ENOMEM, "load generator: out of memory");
	lg->cfg = *cfg;
	rg_record_init(&lg->rec, cfg->seed, cfg->record_bytes, cfg->record_bytes_max);
	rg_history_init(&lg->history);
	lg->st = rte_zmalloc("rg_loadgen_streams", sizeof(lg->st[0]) * cfg->streams, RG_CACHE_LINE);
	lg->dirty = rte_zmalloc("rg_loadgen_dirty", sizeof(uint32_t) * cfg->streams, 0);
	lg->ns_hist =
	    rte_zmalloc("rg_loadgen_ns_hist", sizeof(lg->ns_hist[0]) * cfg->namespaces, 0);
	lg->ns_hist_n = rte_zmalloc("rg_loadgen_ns_n", sizeof(uint64_t) * cfg->namespaces, 0);
	if (lg->st == NULL || lg->dirty == NULL || lg->ns_hist == NULL || lg->ns_hist_n == NULL) {
		rg_loadgen_destroy(lg);
		return fail(err, errlen, -ENOMEM, "load generator: out of memory");
	}
	rc = state_open(lg, err, errlen);
	if (rc != 0) {
		rg_loadgen_destroy(lg);
		return rc;
	}
	for (uint32_t k = 0; k < cfg->streams; k++) {
		struct lg_stream *st = &lg->st[k];

		st->id = rg_loadgen_stream_id(lg, k);
		st->ns = k % cfg->namespaces;
		lg->paced_streams += st->ns >= cfg->flood_namespaces;
		st->worker = rg_worker_of_stream(st->id, cfg->peer_lanes, cfg->workers);
		st->next = 1;
		rg_history_stream_init(&st->h, st->id, lg->state->applied[k]);
		st->c_next = st->h.next;
		st->c_applied_sent = lg->state->applied[k];
	}
	if (lg->paced_streams > 0 && cfg->rate_records_s > 0) { /* once, not per record */
		lg->per_stream = cfg->rate_records_s / lg->paced_streams;
		lg->ns_per_record = 1e9 / lg->per_stream;
	}
	*out = lg;
	return 0;
}

void
rg_loadgen_destroy(struct rg_loadgen *lg)
{
	if (lg == NULL)
		return;
	if (lg->state_mapped)
		munmap(lg->state, lg->state_bytes);
	else
		free(lg->state);
	rte_free(lg->st);
	rte_free(lg->dirty);
	rte_free(lg->ns_hist);
	rte_free(lg->ns_hist_n);
	rte_free(lg);
}

/* ---- generator ---- */

static double
secs(uint64_t ns)
{
	return (double)ns / 1e9;
}

static int
making(const struct rg_loadgen *lg, uint64_t now_ns)
{
	return secs(now_ns) < lg->cfg.duration_s &&
	       (lg->cfg.records_max == 0 || lg->made < lg->cfg.records_max);
}

static int
paced(const struct rg_loadgen *lg, const struct lg_stream *st)
{
	return lg->cfg.rate_records_s > 0 && st->ns >= lg->cfg.flood_namespaces;
}

/*
 * A paced record's creation stamp is when its schedule says it was made, not
 * when the ring took it: time a producer waited on backpressure is latency
 * too (and a noisy neighbour's cost shows). Capped at now.
 */
static uint64_t
scheduled_stamp(const struct rg_loadgen *lg, const struct lg_stream *st, uint64_t seq,
		uint64_t now_mono)
{
	uint64_t at;

	if (!paced(lg, st) || seq <= st->base)
		return now_mono;
	at = lg->mono0 + st->base_ns + (uint64_t)((double)(seq - st->base) * lg->ns_per_record);
	return RG_MIN(at, now_mono);
}

/* The highest seq stream k should have made by now. */
static uint64_t
head_target(const struct rg_loadgen *lg, const struct lg_stream *st, uint64_t now_ns)
{
	if (!making(lg, now_ns))
		return st->head;
	if (!paced(lg, st))
		return st->next + MAKE_BURST; /* as fast as the ring and the window allow */
	return RG_MAX(st->head, st->base + (uint64_t)(secs(now_ns - st->base_ns) * lg->per_stream));
}

static struct rte_mbuf *
make_mbuf(struct rg_loadgen *lg, const struct lg_stream *st, uint64_t seq, uint64_t stamp)
{
	uint32_t len = rg_record_len(&lg->rec, st->id, seq);
	struct rte_mbuf *m = rte_pktmbuf_alloc(lg->cfg.pool);
	struct rg_ingress_hdr *h;

	if (m == NULL)
		return NULL;
	h = (struct rg_ingress_hdr *)rte_pktmbuf_append(m, (uint16_t)(sizeof(*h) + len));
	if (h == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	*h = (struct rg_ingress_hdr){ .stream = st->id, .seq = seq, .version = 1, .len = len };
	rg_record_make(&lg->rec, st->id, seq, len, stamp, (uint8_t *)(h + 1));
	return m;
}

/* Makes and enqueues a burst of stream st's records; returns how many left. */
static unsigned
generate_stream(struct rg_loadgen *lg, struct lg_stream *st, uint64_t now_ns)
{
	uint64_t gen = __atomic_load_n(&st->replay_gen, __ATOMIC_ACQUIRE); /* pairs with H1 */
	uint64_t acked = __atomic_load_n(&st->acked, __ATOMIC_ACQUIRE), target;
	struct rte_mbuf *m[MAKE_BURST];
	unsigned n = 0, sent, room;
	uint64_t stamp = 0;

	if (gen != st->seen_gen) {
		st->seen_gen = gen;
		st->next = __atomic_load_n(&st->replay_from, __ATOMIC_RELAXED);
		/* Everything before the replay point exists: an earlier incarnation of ours made it. */
		if (st->next - 1 > st->head) {
			publish_u64(&lg->made, lg->made + st->next - 1 - st->head);
			publish_u64(&st->head, st->next - 1);
		}
		if (!st->ready) {
			st->base = st->head;
			st->base_ns = now_ns;
		}
		st->ready = 1;
	}
	if (!st->ready)
		return 0;
	target = head_target(lg, st, now_ns);
	/* Make only what the ring can take now: a record made and thrown away is wasted work. */
	/* Read once: RG_MIN evaluates its arguments twice, and the worker drains the ring
	 * meanwhile (a second, larger count overran m[]). */
	room = rte_ring_free_count(lg->cfg.ingress[st->worker]);
	room = RG_MIN(room, (unsigned)MAKE_BURST);
	if (room > 0 && st->next <= target)
		stamp = mono_ns(); /* one clock read per burst */
	while (n < room && st->next + n <= target && st->next + n <= acked + lg->cfg.inflight_max) {
		m[n] =
		    make_mbuf(lg, st, st->next + n, scheduled_stamp(lg, st, st->next + n, stamp));
		if (m[n] == NULL)
			break;
		n++;
	}
	if (n == 0)
		return 0;
	sent = rte_ring_enqueue_burst(lg->cfg.ingress[st->worker], (void **)m, n, NULL);
	if (sent < n)
		rte_pktmbuf_free_bulk(m + sent, n - sent); /* made again next time: same bytes */
	st->next += sent;
	if (st->next - 1 > st->head) {
		publish_u64(&lg->made, lg->made + st->next - 1 - st->head);
		publish_u64(&st->head, st->next - 1);
	}
	if (lg->cfg.rate_records_s > 0 && target > st->head && making(lg, now_ns)) {
		/* made on time, published as the window allows */
		publish_u64(&lg->made, lg->made + target - st->head);
		publish_u64(&st->head, target);
	}
	return sent;
}

static int
all_applied(const struct rg_loadgen *lg)
{
	for (uint32_t k = 0; k < lg->cfg.streams; k++)
		if (__atomic_load_n(&lg->st[k].applied, __ATOMIC_ACQUIRE) < lg->st[k].head)
			return 0;
	return 1;
}

static enum rg_load_step
generate(struct rg_loadgen *lg, uint64_t now_ns)
{
	unsigned sent = 0;

	if (lg->mono0 == 0)
		lg->mono0 = mono_ns() - now_ns;
	/*
	 * Paced streams first, then the floods: each namespace is its own
	 * producer, and a flood must not take the ring room a paced record is
	 * due (a shared producer loop in a fixed order would starve the last
	 * streams of it).
	 */
	for (int flood = 0; flood < 2; flood++)
		for (uint32_t k = 0; k < lg->cfg.streams; k++)
			if (paced(lg, &lg->st[k]) != flood)
				sent += generate_stream(lg, &lg->st[k], now_ns);
	if (!making(lg, now_ns) && lg->done_ns == 0 && all_applied(lg))
		lg->done_ns = now_ns;
	if (lg->done_ns != 0 || secs(now_ns) >= lg->cfg.duration_s + lg->cfg.drain_s)
		return RG_LOAD_DONE;
	return sent > 0 ? RG_LOAD_BUSY : RG_LOAD_IDLE;
}

/* ---- consumer ---- */

static void
mark_dirty(struct rg_loadgen *lg, uint32_t k)
{
	if (!lg->st[k].c_dirty) {
		lg->st[k].c_dirty = 1;
		lg->dirty[lg->ndirty++] = k;
	}
}

static double
hist_quantile_us(const struct rg_loadgen *lg, double q)
{
	return (double)rg_hist_quantile(lg->hist, lg->hist_n, q) / 1e3;
}

/*
 * Adds what the history counted since the last call to the state file's
 * anomalies, which outlive this incarnation (and which the region's other
 * consumer may add to as well: hence the atomic add, only when there is
 * something to add). Called after every fragment, so a crash loses none.
 */
static void
anomalies_keep(struct rg_loadgen *lg)
{
	for (int a = 0; a < LG_ANOM_MAX; a++) {
		uint64_t n = lg->history.ctr[anomaly_ctr[a]];

		if (n != lg->anomalies_kept[a]) {
			__atomic_fetch_add(&lg->state->anomalies[a], n - lg->anomalies_kept[a],
					   __ATOMIC_RELAXED);
			lg->anomalies_kept[a] = n;
		}
	}
}

/* A worker opened stream st since its last delivery: it resumes where the region applied it. */
static void
follow_open(struct lg_stream *st)
{
	uint64_t gen = __atomic_load_n(&st->open_gen, __ATOMIC_ACQUIRE); /* pairs with H2 */
	uint64_t at;

	if (gen == st->c_open_seen)
		return;
	at = __atomic_load_n(&st->open_applied, __ATOMIC_RELAXED);
	st->c_open_seen = gen;
	if (rg_history_advance(&st->h, at))
		st->c_applied_sent = RG_MAX(st->c_applied_sent, at);
}

/* A checked record carried its creation stamp: creation → delivery latency. */
static void
latency_sample(struct rg_loadgen *lg, const struct lg_stream *st, uint64_t mono, uint64_t stamp)
{
	uint32_t b = rg_hist_bucket(mono > stamp ? mono - stamp : 0);

	lg->hist[b]++;
	lg->hist_n++;
	lg->ns_hist[st->ns][b]++;
	lg->ns_hist_n[st->ns]++;
}

static void
consume_one(struct rg_loadgen *lg, const struct rg_delivery *d, uint16_t worker, uint64_t now,
	    uint64_t mono)
{
	const struct rg_rx_frag f = { .seq = d->seq,
				      .data = d->data,
				      .off = d->off,
				      .len = d->len,
				      .record_len = d->record_len,
				      .version = d->version };
	int64_t k = stream_index(lg, d->stream);
	enum rg_history_class c;
	struct lg_stream *st;
	uint64_t stamp;

	if (k < 0) {
		rg_history_foreign(&lg->history);
		anomalies_keep(lg);
		return;
	}
	st = &lg->st[k];
	st->c_worker = worker;
	follow_open(st);
	c = rg_history_deliver(&lg->history, &st->h, &f, &stamp);
	anomalies_keep(lg);
	publish_u64(&st->c_next, st->h.next);
	if (!rg_history_completes(c))
		return;
	if (c == RG_HISTORY_CHECKED) {
		publish_u64(&lg->checked, lg->history.ctr[RG_HISTORY_CTR_checked]);
		if (stamp != RG_RECORD_NO_STAMP)
			latency_sample(lg, st, mono, stamp);
	}
	if (lg->first_ns == 0)
		lg->first_ns = now;
	lg->last_ns = now;
	mark_dirty(lg, (uint32_t)k);
}

/*
 * The region's applied watermark only grows: a consumer of another gateway of
 * the region (the state file is shared) may have applied more of the stream.
 */
static void
store_applied(struct rg_loadgen *lg, uint32_t k, uint64_t applied)
{
	uint64_t cur = __atomic_load_n(&lg->state->applied[k], __ATOMIC_RELAXED);

	/* Bounded by the other writers' progress: each failed exchange saw a larger value. */
	while (applied > cur && !__atomic_compare_exchange_n(&lg->state->applied[k], &cur, applied,
							     1, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		;
}

/* Applies every stream that moved: durable first (A1), then tell its worker. */
static void
apply(struct rg_loadgen *lg)
{
	uint32_t kept = 0;

	for (uint32_t i = 0; i < lg->ndirty; i++) {
		uint32_t k = lg->dirty[i];
		struct lg_stream *st = &lg->st[k];
		struct rg_applied_msg a = { .stream = st->id, .applied = st->c_next - 1 };

		store_applied(lg, k, a.applied); /* A1 */
		if (rte_ring_enqueue_elem(lg->cfg.applied[st->c_worker], &a, sizeof(a)) == 0) {
			st->c_applied_sent = a.applied;
			st->c_dirty = 0;
		} else {
			lg->dirty[kept++] = k; /* the worker is behind: try again next step */
		}
	}
	lg->ndirty = kept;
}

static enum rg_load_step
consume(struct rg_loadgen *lg, uint64_t now_ns)
{
	struct rg_delivery d[DELIVER_BURST];
	struct rte_mbuf *m[DELIVER_BURST];
	uint64_t before = lg->delivered_frags, mono = mono_ns();

	for (uint16_t w = 0; w < lg->cfg.workers; w++) {
		unsigned n = rte_ring_dequeue_burst_elem(lg->cfg.delivery[w], d, sizeof(d[0]),
							 DELIVER_BURST, NULL);

		for (unsigned i = 0; i < n; i++) {
			consume_one(lg, &d[i], w, now_ns, mono);
			m[i] = d[i].mbuf;
		}
		rte_pktmbuf_free_bulk(m, n);
		lg->delivered_frags += n;
	}
	apply(lg);
	return lg->delivered_frags > before ? RG_LOAD_BUSY : RG_LOAD_IDLE;
}

enum rg_load_step
rg_loadgen_step(struct rg_loadgen *lg, uint64_t now_ns)
{
	switch (lg->cfg.role) {
	case RG_LOAD_GENERATOR:
		return generate(lg, now_ns);
	case RG_LOAD_CONSUMER:
		return consume(lg, now_ns);
	default:
		return RG_LOAD_IDLE;
	}
}

/* ---- reports ---- */

static uint64_t
applied_total(const struct rg_loadgen *lg)
{
	uint64_t n = 0;

	for (uint32_t k = 0; k < lg->cfg.streams; k++)
		n += lg->cfg.role == RG_LOAD_GENERATOR
			 ? __atomic_load_n(&lg->st[k].applied, __ATOMIC_ACQUIRE)
			 : lg->state->applied[k];
	return n;
}

static void
lanes_summary(const struct rg_loadgen *lg, double *rtt_ms, uint64_t *rtx, uint64_t *peers_up)
{
	struct rg_worker_stats ws;
	double rtt = 0;
	unsigned lanes = 0;

	*rtx = 0;
	*peers_up = 0;
	for (uint16_t w = 0; w < lg->cfg.workers; w++) {
		rg_worker_stats(lg->cfg.worker[w], &ws);
		*rtx += ws.core.ctr[RG_CTR_rtx_frames];
		for (uint16_t i = 0; i < ws.nlanes; i++, lanes++) {
			rtt += (double)ws.lanes[i].srtt_ns / 1e6;
			*peers_up += ws.lanes[i].peer_inc != 0;
		}
	}
	*rtt_ms = lanes ? rtt / lanes : 0;
}

static uint64_t
checked_bytes(const struct rg_loadgen *lg)
{
	return lg->history.ctr[RG_HISTORY_CTR_checked_bytes];
}

/* The anomalies over every incarnation of the region's consumers. */
static uint64_t
state_anomalies(const struct rg_loadgen *lg)
{
	uint64_t n = 0;

	for (int a = 0; a < LG_ANOM_MAX; a++)
		n += lg->state->anomalies[a];
	return n;
}

int
rg_loadgen_progress(struct rg_loadgen *lg, uint64_t now_ns, FILE *f)
{
	double dt, rtt;
	uint64_t applied, rtx, up, lag[NS_SHOWN] = { 0 };

	if (lg->cfg.role == RG_LOAD_NONE || now_ns < lg->progress_next_ns)
		return 0;
	dt = lg->progress_next_ns == 0 ? 1 : lg->cfg.progress_ms / 1000.0;
	lg->progress_next_ns = now_ns + (uint64_t)lg->cfg.progress_ms * RG_NS_PER_MS;
	applied = applied_total(lg);
	lanes_summary(lg, &rtt, &rtx, &up);
	if (lg->cfg.role == RG_LOAD_GENERATOR) {
		for (uint32_t k = 0; k < lg->cfg.streams; k++)
			if (lg->st[k].ns < NS_SHOWN)
				lag[lg->st[k].ns] +=
				    lg->st[k].head -
				    __atomic_load_n(&lg->st[k].applied, __ATOMIC_RELAXED);
		fprintf(f,
			"[%6.1fs] generator: made %llu applied %llu (%.0f rec/s) rtt %.2f ms "
			"rtx %llu lanes up %llu lag/ns",
			secs(now_ns), (unsigned long long)lg->made, (unsigned long long)applied,
			(applied - lg->last_applied) / dt, rtt, (unsigned long long)rtx,
			(unsigned long long)up);
		for (uint32_t n = 0; n < RG_MIN(lg->cfg.namespaces, (uint32_t)NS_SHOWN); n++)
			fprintf(f, " %llu", (unsigned long long)lag[n]);
		fprintf(f, "\n");
	} else {
		fprintf(f,
			"[%6.1fs] consumer: checked %llu (%.0f rec/s, %.3f Gbit/s) applied %llu "
			"rtt %.2f ms rtx %llu lanes up %llu anomalies %llu\n",
			secs(now_ns), (unsigned long long)lg->checked,
			(lg->checked - lg->last_checked) / dt,
			(checked_bytes(lg) - lg->last_bytes) * 8 / dt / 1e9,
			(unsigned long long)applied, rtt, (unsigned long long)rtx,
			(unsigned long long)up, (unsigned long long)state_anomalies(lg));
	}
	fflush(f);
	lg->last_applied = applied;
	lg->last_checked = lg->checked;
	lg->last_bytes = checked_bytes(lg);
	return 1;
}

/* CPU time of this whole process (every thread: workers, load role), user + system. */
static double
cpu_seconds(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static int
verdict_line(struct rg_loadgen *lg, uint64_t now_ns, char *buf, size_t len)
{
	uint64_t applied = applied_total(lg);
	double span = lg->cfg.role == RG_LOAD_CONSUMER ? secs(lg->last_ns - lg->first_ns)
						       : secs(RG_MAX(lg->done_ns, now_ns));
	int n, gen = lg->cfg.role == RG_LOAD_GENERATOR;

	if (span <= 0)
		span = 1e-9;
	n = snprintf(buf, len, "{\"role\":\"%s\",\"records_delivered\":%llu",
		     gen ? "generator" : "consumer", (unsigned long long)applied);
	if (gen)
		n += snprintf(buf + n, len - (size_t)n,
			      ",\"records_published\":%llu,\"lost\":%llu,\"records_per_s\":%.0f",
			      (unsigned long long)lg->made,
			      (unsigned long long)rg_history_lost(lg->made, applied),
			      applied / span);
	for (int a = 0; a < LG_ANOM_MAX && !gen; a++)
		n += snprintf(buf + n, len - (size_t)n, ",\"%s\":%llu",
			      rg_history_counter_names[anomaly_ctr[a]],
			      (unsigned long long)lg->state->anomalies[a]);
	if (!gen)
		n += snprintf(
		    buf + n, len - (size_t)n,
		    ",\"records_checked\":%llu,\"incarnations\":%llu,\"goodput_gbps\":%.3f,"
		    "\"records_per_s\":%.0f,\"latency_p50_us\":%.1f,\"latency_p99_us\":%.1f,"
		    "\"latency_p999_us\":%.1f",
		    (unsigned long long)lg->checked, (unsigned long long)lg->state->incarnations,
		    checked_bytes(lg) * 8 / span / 1e9, lg->checked / span,
		    hist_quantile_us(lg, 0.5), hist_quantile_us(lg, 0.99),
		    hist_quantile_us(lg, 0.999));
	/* Per namespace (fairness: a noisy neighbour must not hurt the others' tail). */
	for (int q = 0; q < 2 && !gen; q++) {
		n +=
		    snprintf(buf + n, len - (size_t)n, ",\"ns_latency_p%s_us\":[", q ? "99" : "50");
		for (uint32_t s = 0; s < RG_MIN(lg->cfg.namespaces, 256u); s++)
			n += snprintf(buf + n, len - (size_t)n, "%s%.1f", s ? "," : "",
				      (double)rg_hist_quantile(lg->ns_hist[s], lg->ns_hist_n[s],
							       q ? 0.99 : 0.5) /
					  1e3);
		n += snprintf(buf + n, len - (size_t)n, "]");
	}
	snprintf(buf + n, len - (size_t)n, ",\"seconds\":%.3f,\"cpu_seconds\":%.3f}", span,
		 cpu_seconds());
	return gen ? (lg->made > applied || lg->made == 0 ? -1 : 0)
		   : (state_anomalies(lg) > 0 ? -1 : 0);
}

/* The latency CDF for plots: <report>.latency.csv, one row per non-empty bucket. */
static void
write_latency_cdf(const struct rg_loadgen *lg)
{
	char path[RG_PROFILE_PATH_BYTES + 16];
	uint64_t seen = 0;
	FILE *f;

	if (lg->cfg.role != RG_LOAD_CONSUMER || lg->hist_n == 0)
		return;
	snprintf(path, sizeof(path), "%s.latency.csv", lg->cfg.report);
	f = fopen(path, "w");
	if (f == NULL) {
		fprintf(stderr, "repgate: %s: %s\n", path, strerror(errno));
		return;
	}
	fprintf(f, "latency_us,cumulative_fraction\n");
	for (unsigned b = 0; b < HIST_BUCKETS; b++) {
		if (lg->hist[b] == 0)
			continue;
		seen += lg->hist[b];
		fprintf(f, "%.3f,%.6f\n", (double)rg_hist_floor(b) / 1e3,
			(double)seen / lg->hist_n);
	}
	fclose(f);
}

int
rg_loadgen_verdict(struct rg_loadgen *lg, uint64_t now_ns, FILE *f)
{
	char line[16384]; /* room for 256 namespaces' quantiles */
	int rc;

	if (lg->cfg.role == RG_LOAD_NONE)
		return 0;
	rc = verdict_line(lg, now_ns, line, sizeof(line));
	fprintf(f, "%s\n", line);
	fflush(f);
	if (lg->cfg.report != NULL && lg->cfg.report[0] != '\0') {
		FILE *r = fopen(lg->cfg.report, "w");

		if (r == NULL) {
			fprintf(stderr, "repgate: load.report %s: %s\n", lg->cfg.report,
				strerror(errno));
			return -1;
		}
		fprintf(r, "%s\n", line);
		fclose(r);
		write_latency_cdf(lg);
	}
	return rc;
}

/* ---- telemetry (any thread: relaxed or acquire loads of what the writers publish) ---- */

enum rg_load_role
rg_loadgen_role(const struct rg_loadgen *lg)
{
	return lg->cfg.role;
}

uint32_t
rg_loadgen_streams(const struct rg_loadgen *lg)
{
	return lg->cfg.streams;
}

uint32_t
rg_loadgen_namespaces(const struct rg_loadgen *lg)
{
	return lg->cfg.namespaces;
}

uint16_t
rg_loadgen_peer(const struct rg_loadgen *lg)
{
	return lg->cfg.peer_gw;
}

int
rg_loadgen_stream_view(const struct rg_loadgen *lg, uint32_t k, struct rg_loadgen_stream_view *out)
{
	const struct lg_stream *st;

	if (k >= lg->cfg.streams)
		return -ENOENT;
	st = &lg->st[k];
	memset(out, 0, sizeof(*out));
	out->id = st->id;
	out->ns = st->ns;
	out->worker = st->worker;
	out->peer_gw = lg->cfg.peer_gw;
	if (lg->cfg.role == RG_LOAD_GENERATOR) {
		out->published = __atomic_load_n(&st->head, __ATOMIC_RELAXED);  /* pairs with T1 */
		out->acked = __atomic_load_n(&st->acked, __ATOMIC_ACQUIRE);     /* pairs with H1 */
		out->applied = __atomic_load_n(&st->applied, __ATOMIC_ACQUIRE); /* pairs with H1 */
		out->lag = out->published > out->applied ? out->published - out->applied : 0;
	} else {
		out->delivered = __atomic_load_n(&st->c_next, __ATOMIC_RELAXED) - 1; /* T1 */
		out->applied =
		    __atomic_load_n(&lg->state->applied[k], __ATOMIC_ACQUIRE); /* pairs with A1 */
		out->lag = out->delivered > out->applied ? out->delivered - out->applied : 0;
	}
	return 0;
}

void
rg_loadgen_totals(const struct rg_loadgen *lg, struct rg_loadgen_totals *out)
{
	memset(out, 0, sizeof(*out));
	out->published = __atomic_load_n(&lg->made, __ATOMIC_RELAXED);  /* pairs with T1 */
	out->checked = __atomic_load_n(&lg->checked, __ATOMIC_RELAXED); /* pairs with T1 */
	for (uint32_t k = 0; k < lg->cfg.streams; k++) {
		struct rg_loadgen_stream_view v;

		rg_loadgen_stream_view(lg, k, &v);
		out->acked += v.acked;
		out->applied += v.applied;
		out->lag += v.lag;
	}
}
