/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rg-tcp-relay: the kernel-TCP baseline of the perf suite (DESIGN §1 and §6:
 * "≥ 5× the records/s per core of a kernel-TCP relay doing the same job").
 * It moves the load generator's records (apps/loadgen.c), in the same streams
 * and namespaces and with the same ordering rule, over loopback TCP sockets,
 * one connection per lane, and checks them as the verifying consumer does
 * (dataplane/proto/history.h).
 * Plain C11 + POSIX: no DPDK. perf/tcp_relay.md says how to run it.
 *
 *   rg-tcp-relay --recv --port P --lanes N --streams S [--seconds T]
 *   rg-tcp-relay --send --host H --port P --lanes N --streams S --record-bytes B
 *                [--record-bytes-max M] [--rate R] --seconds T
 *   rg-tcp-relay --forward --port P --to-port Q [--to-host H] --lanes N --streams S
 *
 * A forwarder is a relay hop between them: sender -> forward -> ... -> receiver,
 * the path shape of producer -> gateway -> gateway -> consumer. Each process
 * prints one JSON line at the end (see print_recv(), print_send(), print_fwd()).
 *
 * Invariants:
 *  1. A record is dataplane/proto/record.h's, as the load generator's are
 *     (same seed, same bytes): a 24-byte header {stream u64, seq u64, len
 *     u32, crc u32}, then the filler; crc is CRC32C over every byte but its
 *     own four. A record of at least 32 bytes carries its creation time
 *     (CLOCK_MONOTONIC ns) at [24, 32), under the CRC. Records are at least
 *     24 bytes here: the receiver learns a record's stream and seq from its
 *     own header.
 *  2. Stream k has id ((k % namespaces + 1) << 32) | (k + 1) and travels only
 *     on lane k % N, in seq order from 1; a lane's streams take turns
 *     (round-robin, one record each).
 *  3. A lane (one TCP connection; in a forwarder, the connection in and the
 *     one out) belongs to one thread in each process, and the per-stream state
 *     lives in its lane: threads share nothing but read-only setup until they
 *     are joined.
 *  4. Every wait is bounded: connect (CONNECT_TIMEOUT_MS), accept
 *     (ACCEPT_TIMEOUT_MS), the hello (HELLO_TIMEOUT_MS), and the data phase
 *     (--seconds, then DRAIN_GRACE_S to flush or to see every lane close).
 *  5. A forwarder passes on whole frames only, in the order they came, and
 *     never changes a byte: what it sends on a lane is a prefix of what it
 *     took, cut at a frame boundary. So the receiver's checks judge the whole
 *     path. It reads a lane only while it has room (RECV_BYTES): a slow next
 *     hop stops its reads, and TCP's window carries that back to the sender.
 *
 * Wire, per connection, little-endian: a 32-byte hello (struct hello) from the
 * sender, then frames [u32 record length][record bytes], then the end mark
 * [u32 0][u64 records sent on this lane], then the sender closes. The end mark
 * lets the receiver count a lost tail as a gap and fail a lane cut short.
 * The sender batches frames up to --batch-bytes (64 KiB) per send(), with
 * TCP_NODELAY on; --batch-bytes 1 sends one record per send(), as a relay that
 * forwards each message on its own would.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "hist.h"
#include "history.h"
#include "record.h"
#include "wire.h"

#define FRAME_HDR_BYTES    4
#define END_FRAME_BYTES    12            /* the end mark: [u32 0][u64 records the lane carried] */
#define BATCH_BYTES        (64u * 1024)  /* by default a send() carries up to about this much */
#define RECV_BYTES         (256u * 1024) /* a recv() asks for at least this much */
#define LANES_MAX          64
#define STREAMS_MAX        (1u << 20)
#define SECONDS_MAX        86400.0
#define HELLO_MAGIC        0x31544752u /* "RGT1" */
#define CONNECT_TIMEOUT_MS 10000       /* the sender retries a refused connect this long */
#define CONNECT_RETRY_MS   100
#define ACCEPT_TIMEOUT_MS  30000
#define HELLO_TIMEOUT_MS   5000
#define DRAIN_GRACE_S      10.0 /* after --seconds: to flush (sender), to see the closes (receiver) */
#define POLL_MS            100
#define RATE_SLEEP_NS_MAX  1000000ull /* a rate-limited sender naps at most this long */
#define HIST_BUCKETS       RG_HIST_BUCKETS

/*
 * X-macro: what the receiver reports as wrong, in this order: its JSON key and
 * the history checker's counter (history.h) behind it.
 */
#define RX_ANOMALIES(X)           \
	X(gaps, gaps)             \
	X(duplicated, duplicated) \
	X(reordered, reordered)   \
	X(corrupt, corrupt_accepted)

static const struct {
	const char *key;
	enum rg_history_counter ctr;
} rx_anomalies[] = {
#define RX_X(key, ctr) { #key, RG_HISTORY_CTR_##ctr },
	RX_ANOMALIES(RX_X)
#undef RX_X
};

enum role {
	ROLE_NONE,
	ROLE_SEND,
	ROLE_RECV,
	ROLE_FORWARD,
};

struct opts {
	enum role role;
	int send;            /* role == ROLE_SEND: the lanes make records */
	const char *host;    /* --send: where to connect; --recv, --forward: the bind address */
	const char *to_host; /* --forward: the next hop */
	uint32_t port, to_port, lanes, threads, streams, namespaces;
	uint32_t record_bytes, record_bytes_max;
	uint32_t batch_bytes;  /* a send() carries up to about this much */
	double rate_records_s; /* total over all streams; 0: as fast as possible */
	double seconds;
	uint64_t seed;
};

/* The connection preamble, sent once by the sender; every field little-endian u32. */
struct hello {
	uint32_t magic, lane, lanes, streams, namespaces, seconds_ms, record_bytes,
	    record_bytes_max;
};

struct lane_stream {
	uint64_t id;
	uint64_t next;              /* sender: the next seq to make */
	struct rg_history_stream h; /* receiver: the stream's check; h.next is the seq expected */
};

/* One connection. Owned by one thread (invariant 3); cache-aligned so lanes share no line. */
struct lane {
	int fd;
	uint32_t idx, nstreams; /* carries streams idx, idx + lanes, idx + 2 * lanes, ... */
	struct lane_stream *st; /* st[j] is stream idx + j * lanes */
	uint8_t *buf;           /* frames not yet sent (sender) or not yet parsed (receiver) */
	size_t head, tail, cap;
	int open, failed;
	int ended;               /* the end mark was queued (sender) or taken (receiver) */
	uint64_t records, bytes; /* sender: made */
	/* sender */
	uint32_t rr;
	double rate_records_s;
	/* receiver */
	struct rg_history history; /* records checked, their bytes, what was wrong */
	uint64_t first_ns, last_ns;
	uint64_t *hist; /* HIST_BUCKETS latency counts (ns, log-linear) */
	/* forwarder: fd takes frames in, out_fd passes them on; buf[head, ready) is whole
	 * frames not yet sent, buf[ready, tail) the start of the next frame (invariant 5) */
	int out_fd, in_eof, out_done;
	size_t ready;
	uint64_t recv_calls, send_calls;
} __attribute__((aligned(RG_CACHE_LINE)));

struct relay {
	struct opts o;
	struct rg_record_ctx rec; /* sender: the seed's filler and the record sizes */
	struct lane *lanes;
	uint64_t t0_ns, end_ns, deadline_ns;
};

struct worker {
	pthread_t tid;
	struct relay *r;
	uint32_t first, step; /* its lanes: first, first + step, ... */
	int rc;
};

/* ---- small things ---- */

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * RG_NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* The whole process, every thread: user + system. */
static double
cpu_seconds(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void
sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / RG_NS_PER_S),
			       .tv_nsec = (long)(ns % RG_NS_PER_S) };

	nanosleep(&ts, NULL);
}

/* ---- records (invariants 1 and 2) ---- */

static uint64_t
stream_id(const struct opts *o, uint32_t k)
{
	return ((uint64_t)(k % o->namespaces + 1) << 32) | (k + 1);
}

/* The stream index of an id, or -1 when it is not one of ours. */
static int64_t
stream_index(const struct opts *o, uint64_t id)
{
	uint64_t k = (id & 0xffffffffu) - 1;

	if (k >= o->streams || stream_id(o, (uint32_t)k) != id)
		return -1;
	return (int64_t)k;
}

/* ---- latency: apps/hist.h, the estimator the verifying consumer uses too ---- */

/* ---- arguments ---- */

struct opt_spec {
	const char *name;
	char kind; /* 'u': uint32_t, 'U': uint64_t, 'f': double, 's': string */
	size_t off;
	double lo, hi;
};

static const struct opt_spec opt_specs[] = {
	{ "--host", 's', offsetof(struct opts, host), 0, 0 },
	{ "--port", 'u', offsetof(struct opts, port), 1, 65535 },
	{ "--to-host", 's', offsetof(struct opts, to_host), 0, 0 },
	{ "--to-port", 'u', offsetof(struct opts, to_port), 1, 65535 },
	{ "--lanes", 'u', offsetof(struct opts, lanes), 1, LANES_MAX },
	{ "--threads", 'u', offsetof(struct opts, threads), 1, LANES_MAX },
	{ "--streams", 'u', offsetof(struct opts, streams), 1, STREAMS_MAX },
	{ "--namespaces", 'u', offsetof(struct opts, namespaces), 1, STREAMS_MAX },
	{ "--record-bytes", 'u', offsetof(struct opts, record_bytes), RG_RECORD_HDR_BYTES,
	  RG_RECORD_BYTES_MAX },
	{ "--record-bytes-max", 'u', offsetof(struct opts, record_bytes_max), RG_RECORD_HDR_BYTES,
	  RG_RECORD_BYTES_MAX },
	{ "--batch-bytes", 'u', offsetof(struct opts, batch_bytes), 1, RG_RECORD_BYTES_MAX },
	{ "--rate", 'f', offsetof(struct opts, rate_records_s), 0, 1e12 },
	{ "--seconds", 'f', offsetof(struct opts, seconds), 1e-3, SECONDS_MAX },
	{ "--seed", 'U', offsetof(struct opts, seed), 0, (double)UINT64_MAX },
};

static void
usage(void)
{
	fprintf(
	    stderr,
	    "usage: rg-tcp-relay --recv --port P --lanes N --streams S [--seconds T]\n"
	    "                    [--host BIND_ADDR] [--namespaces NS] [--threads T]\n"
	    "       rg-tcp-relay --send --port P --lanes N --streams S --record-bytes B\n"
	    "                    --seconds T [--host H] [--record-bytes-max M] [--rate R]\n"
	    "                    [--namespaces NS] [--threads T] [--seed X] [--batch-bytes 65536]\n"
	    "       rg-tcp-relay --forward --port P --to-port Q --lanes N --streams S\n"
	    "                    [--host BIND_ADDR] [--to-host H] [--namespaces NS] [--threads T]\n"
	    "  lanes 1..%d (one TCP connection each), streams lanes..%u, record bytes 24..%u,\n"
	    "  rate in records/s over all streams (0: as fast as possible), host 127.0.0.1\n",
	    LANES_MAX, STREAMS_MAX, RG_RECORD_BYTES_MAX);
}

/* Parses one option's value into o; 0 or -1 with a message. */
static int
parse_value(struct opts *o, const struct opt_spec *s, const char *v)
{
	char *end = NULL, *field = (char *)o + s->off;
	unsigned long long u = 0;
	double d = 0;

	errno = 0;
	if (s->kind == 's') {
		memcpy(field, &v, sizeof(v));
		return 0;
	}
	if (s->kind == 'f')
		d = strtod(v, &end);
	else
		u = strtoull(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || (s->kind != 'f' && strchr(v, '-') != NULL) ||
	    !isfinite(d) || (s->kind == 'u' && (u < s->lo || u > s->hi)) ||
	    (s->kind == 'f' && (d < s->lo || d > s->hi))) {
		fprintf(stderr, "rg-tcp-relay: %s '%s': expected a %s in [%.*f, %.0f]\n", s->name,
			v, s->kind == 'f' ? "number" : "whole number", s->kind == 'f' ? 3 : 0,
			s->lo, s->hi);
		return -1;
	}
	if (s->kind == 'u')
		*(uint32_t *)field = (uint32_t)u;
	else if (s->kind == 'U')
		*(uint64_t *)field = u;
	else
		*(double *)field = d;
	return 0;
}

static const struct opt_spec *
opt_find(const char *name)
{
	for (size_t i = 0; i < RG_ARRAY_SIZE(opt_specs); i++)
		if (strcmp(opt_specs[i].name, name) == 0)
			return &opt_specs[i];
	return NULL;
}

/* Checks what the options mean together and fills the defaults; 0 or -1 with a message. */
static int
opts_check(struct opts *o)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	const char *why = NULL;

	if (o->role == ROLE_NONE)
		why = "say --send, --recv or --forward";
	else if ((o->role == ROLE_FORWARD) != (o->to_port != 0))
		why = "--to-port goes with --forward, and --forward needs it";
	else if (o->port == 0 || o->lanes == 0 || o->streams == 0)
		why = "--port, --lanes and --streams are required";
	else if (o->streams < o->lanes)
		why = "--streams must be at least --lanes (every lane carries a stream)";
	else if (o->send && (o->record_bytes == 0 || o->seconds <= 0))
		why = "--send needs --record-bytes and --seconds";
	else if (o->record_bytes_max != 0 && o->record_bytes_max < o->record_bytes)
		why = "--record-bytes-max must be at least --record-bytes";
	else if (o->namespaces > o->streams)
		why = "--namespaces must be at most --streams";
	else if (o->threads > o->lanes)
		why = "--threads must be at most --lanes (a lane belongs to one thread)";
	if (why != NULL) {
		fprintf(stderr, "rg-tcp-relay: %s\n", why);
		return -1;
	}
	if (o->record_bytes_max == 0)
		o->record_bytes_max = o->record_bytes;
	if (o->namespaces == 0)
		o->namespaces = RG_MIN(4u, o->streams);
	if (o->threads == 0)
		o->threads = (uint32_t)RG_MIN((long)o->lanes, RG_MAX(cpus, 1L));
	return 0;
}

static int
opts_parse(int argc, char **argv, struct opts *o)
{
	static const char *const roles[] = {
		[ROLE_SEND] = "--send", [ROLE_RECV] = "--recv", [ROLE_FORWARD] = "--forward"
	};

	*o = (struct opts){
		.host = "127.0.0.1", .to_host = "127.0.0.1", .seed = 1, .batch_bytes = BATCH_BYTES
	};
	for (int i = 1; i < argc; i++) {
		const struct opt_spec *s = opt_find(argv[i]);
		enum role role = ROLE_NONE;

		for (size_t k = ROLE_SEND; k < RG_ARRAY_SIZE(roles); k++)
			if (strcmp(argv[i], roles[k]) == 0)
				role = (enum role)k;
		if (role != ROLE_NONE) {
			o->role = role;
			o->send = role == ROLE_SEND;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage();
			exit(0);
		} else if (s == NULL || i + 1 >= argc) {
			fprintf(stderr, "rg-tcp-relay: %s '%s'\n",
				s == NULL ? "unknown option" : "no value after", argv[i]);
			return -1;
		} else if (parse_value(o, s, argv[++i]) != 0) {
			return -1;
		}
	}
	return opts_check(o);
}

/* ---- lanes ---- */

static void
lanes_destroy(struct relay *r)
{
	for (uint32_t i = 0; r->lanes != NULL && i < r->o.lanes; i++) {
		struct lane *l = &r->lanes[i];

		if (l->fd >= 0)
			close(l->fd);
		if (l->out_fd >= 0)
			close(l->out_fd);
		free(l->st);
		free(l->buf);
		free(l->hist);
	}
	free(r->lanes);
	r->lanes = NULL;
}

/* Makes the lanes and their streams (invariant 2); 0 or -ENOMEM. fds start closed (-1). */
static int
lanes_create(struct relay *r)
{
	const struct opts *o = &r->o;
	size_t cap = (o->send ? o->batch_bytes : RECV_BYTES) + FRAME_HDR_BYTES +
		     o->record_bytes_max + END_FRAME_BYTES;

	r->lanes = aligned_alloc(RG_CACHE_LINE, o->lanes * sizeof(r->lanes[0]));
	if (r->lanes == NULL)
		return -ENOMEM;
	memset(r->lanes, 0, o->lanes * sizeof(r->lanes[0]));
	for (uint32_t i = 0; i < o->lanes; i++) {
		struct lane *l = &r->lanes[i];

		l->fd = -1;
		l->out_fd = -1;
		l->idx = i;
		l->nstreams = o->streams / o->lanes + (i < o->streams % o->lanes);
		l->rate_records_s = o->rate_records_s * l->nstreams / o->streams;
		l->cap = cap;
		l->st = calloc(l->nstreams, sizeof(l->st[0]));
		l->buf = malloc(cap);
		l->hist = o->role != ROLE_RECV ? NULL : calloc(HIST_BUCKETS, sizeof(l->hist[0]));
		rg_history_init(&l->history);
		if (l->st == NULL || l->buf == NULL || (o->role == ROLE_RECV && l->hist == NULL))
			return -ENOMEM;
		for (uint32_t j = 0; j < l->nstreams; j++) {
			l->st[j].id = stream_id(o, i + j * o->lanes);
			l->st[j].next = 1;
			rg_history_stream_init(&l->st[j].h, l->st[j].id, 0);
		}
	}
	return 0;
}

static void
hello_encode(const struct hello *h, uint8_t out[sizeof(struct hello)])
{
	const uint32_t *f = &h->magic;

	for (size_t i = 0; i < sizeof(*h) / 4; i++)
		rg_wire_put_le32(out + 4 * i, f[i]);
}

static void
hello_decode(const uint8_t in[sizeof(struct hello)], struct hello *h)
{
	uint32_t *f = &h->magic;

	for (size_t i = 0; i < sizeof(*h) / 4; i++)
		f[i] = rg_wire_get_le32(in + 4 * i);
}

static void
socket_tune(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Runs fn over the lanes in o.threads threads (lane i on thread i % threads); 0 if all did. */
static int
workers_run(struct relay *r, void *(*fn)(void *))
{
	struct worker w[LANES_MAX];
	uint32_t started = 0;
	int rc = 0;

	for (uint32_t t = 0; t < r->o.threads; t++) {
		int err;

		w[t] = (struct worker){ .r = r, .first = t, .step = r->o.threads };
		err = pthread_create(&w[t].tid, NULL, fn, &w[t]);
		if (err != 0) {
			fprintf(stderr, "rg-tcp-relay: pthread_create: %s\n", strerror(err));
			rc = -1;
			break;
		}
		started++;
	}
	for (uint32_t t = 0; t < started; t++) {
		pthread_join(w[t].tid, NULL);
		rc |= w[t].rc;
	}
	return rc;
}

/* ---- sender ---- */

/* How many records lane l should have made by now_ns (invariant 4: bounded by the rate). */
static uint64_t
lane_due(const struct relay *r, const struct lane *l, uint64_t now_ns)
{
	if (l->rate_records_s <= 0)
		return UINT64_MAX;
	return (uint64_t)((double)(now_ns - r->t0_ns) / 1e9 * l->rate_records_s);
}

/* Tops lane l's unsent bytes up to --batch-bytes with its streams' next records, round-robin. */
static void
lane_fill(const struct relay *r, struct lane *l, uint64_t now_ns)
{
	uint64_t due = lane_due(r, l, now_ns);

	if (l->head > 0) {
		memmove(l->buf, l->buf + l->head, l->tail - l->head);
		l->tail -= l->head;
		l->head = 0;
	}
	while (l->tail < r->o.batch_bytes && l->records < due) {
		struct lane_stream *s = &l->st[l->rr];
		uint32_t len = rg_record_len(&r->rec, s->id, s->next);

		rg_wire_put_le32(l->buf + l->tail, len);
		rg_record_make(&r->rec, s->id, s->next, len, now_ns,
			       l->buf + l->tail + FRAME_HDR_BYTES);
		l->tail += FRAME_HDR_BYTES + len;
		l->records++;
		l->bytes += len;
		s->next++;
		if (++l->rr == l->nstreams)
			l->rr = 0;
	}
}

/* After the last record: the end mark, so the receiver can tell a finished lane from a cut one. */
static void
lane_end_queue(struct lane *l)
{
	rg_wire_put_le32(l->buf + l->tail, 0);
	rg_wire_put_le64(l->buf + l->tail + FRAME_HDR_BYTES, l->records);
	l->tail += END_FRAME_BYTES;
	l->ended = 1;
}

/* One send() of what lane l has: 1 if it took bytes, 0 if the socket is full, -1 on failure. */
static int
lane_send(struct lane *l)
{
	ssize_t n = send(l->fd, l->buf + l->head, l->tail - l->head, MSG_NOSIGNAL);

	if (n > 0) {
		l->head += (size_t)n;
		if (l->head == l->tail)
			l->head = l->tail = 0;
		return 1;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	fprintf(stderr, "rg-tcp-relay: lane %u: send: %s\n", l->idx,
		n == 0 ? "sent nothing" : strerror(errno));
	l->failed = 1;
	return -1;
}

/* How long until lane l's next record is due (rate-limited lanes only). */
static uint64_t
lane_next_due_ns(const struct relay *r, const struct lane *l, uint64_t now_ns)
{
	uint64_t due_ns = r->t0_ns + (uint64_t)((double)(l->records + 1) / l->rate_records_s * 1e9);

	return due_ns > now_ns ? due_ns - now_ns : 0;
}

/* Nothing moved: waits until a full socket has room, or (rate) the next record is due. */
static void
send_wait(const struct relay *r, const struct worker *w, uint64_t now_ns, int making)
{
	struct pollfd p[LANES_MAX];
	uint64_t wait_ns = making ? RATE_SLEEP_NS_MAX : POLL_MS * RG_NS_PER_MS;
	nfds_t n = 0;

	for (uint32_t i = w->first; i < r->o.lanes; i += w->step) {
		const struct lane *l = &r->lanes[i];

		if (l->tail > l->head)
			p[n++] = (struct pollfd){ .fd = l->fd, .events = POLLOUT };
		else if (making && l->rate_records_s > 0)
			wait_ns = RG_MIN(wait_ns, lane_next_due_ns(r, l, now_ns));
	}
	if (n > 0) {
		struct timespec ts = { .tv_sec = (time_t)(wait_ns / RG_NS_PER_S),
				       .tv_nsec = (long)(wait_ns % RG_NS_PER_S) };

		ppoll(p, n, &ts, NULL);
	} else if (wait_ns > 0) {
		sleep_ns(wait_ns);
	}
}

/* One sender thread: makes and sends its lanes' records until --seconds, then flushes. */
static void *
send_thread(void *arg)
{
	struct worker *w = arg;
	struct relay *r = w->r;

	for (;;) {
		uint64_t now = now_ns();
		int making = now < r->end_ns, busy = 0, moved = 0;

		if (now >= r->deadline_ns) {
			fprintf(stderr,
				"rg-tcp-relay: could not flush within %.0f s: receiver stalled\n",
				DRAIN_GRACE_S);
			w->rc = -1;
			break;
		}
		for (uint32_t i = w->first; i < r->o.lanes; i += w->step) {
			struct lane *l = &r->lanes[i];
			int rc;

			if (making)
				lane_fill(r, l, now);
			else if (!l->ended)
				lane_end_queue(l);
			rc = l->tail > l->head ? lane_send(l) : 0;
			if (rc < 0) {
				w->rc = -1;
				break;
			}
			moved += rc;
			busy += l->tail > l->head;
		}
		if (w->rc != 0 || (!making && busy == 0))
			break;
		if (!moved)
			send_wait(r, w, now, making);
	}
	for (uint32_t i = w->first; i < r->o.lanes; i += w->step)
		shutdown(r->lanes[i].fd, SHUT_WR);
	return NULL;
}

/* ---- receiver ---- */

/*
 * Checks one whole record of lane l (invariants 1 and 2) and counts it as
 * good or wrong. Its stream and seq come from its own header: a stream that
 * is not this lane's is corrupt; a wrong seq fails the record's check or
 * shows as a gap, a duplicate or a reordering.
 */
static void
record_check(const struct relay *r, struct lane *l, const uint8_t *rec, uint32_t len,
	     uint64_t now_ns)
{
	const struct rg_rx_frag f = {
		.seq = rg_wire_get_le64(rec + 8), .data = rec, .len = len, .record_len = len
	};
	int64_t k = stream_index(&r->o, rg_wire_get_le64(rec));
	uint64_t stamp;

	if (k < 0 || (uint32_t)k % r->o.lanes != l->idx) {
		rg_history_foreign(&l->history);
		return;
	}
	if (rg_history_deliver(&l->history, &l->st[(uint32_t)k / r->o.lanes].h, &f, &stamp) !=
	    RG_HISTORY_CHECKED)
		return;
	if (stamp != RG_RECORD_NO_STAMP)
		l->hist[rg_hist_bucket(now_ns > stamp ? now_ns - stamp : 0)]++;
	if (l->first_ns == 0)
		l->first_ns = now_ns;
	l->last_ns = now_ns;
}

/*
 * The end mark: the sender made count records on lane l, one per stream in
 * turn from st[0], so st[j] ended at seq count / nstreams + (j < count %
 * nstreams). A stream that stopped short lost its tail: one more gap.
 */
static void
lane_end_take(struct lane *l, uint64_t count)
{
	for (uint32_t j = 0; j < l->nstreams; j++) {
		uint64_t last = count / l->nstreams + (j < count % l->nstreams);

		if (l->st[j].h.next - 1 < last)
			l->history.ctr[RG_HISTORY_CTR_gaps]++;
	}
	l->ended = 1;
}

/* Checks every whole frame lane l has; 0, or -1 when a frame length is impossible. */
static int
frames_consume(const struct relay *r, struct lane *l, uint64_t now_ns)
{
	while (l->tail - l->head >= FRAME_HDR_BYTES) {
		uint32_t len = rg_wire_get_le32(l->buf + l->head);

		if (len == 0 && !l->ended) {
			if (l->tail - l->head < END_FRAME_BYTES)
				break;
			lane_end_take(l, rg_wire_get_le64(l->buf + l->head + FRAME_HDR_BYTES));
			l->head += END_FRAME_BYTES;
			continue;
		}
		if (l->ended || len < r->o.record_bytes || len > r->o.record_bytes_max) {
			fprintf(stderr,
				"rg-tcp-relay: lane %u: %s frame of %u bytes (records are %u..%u): "
				"the byte stream is out of step\n",
				l->idx, l->ended ? "after the end mark, a" : "a", len,
				r->o.record_bytes, r->o.record_bytes_max);
			l->history.ctr[RG_HISTORY_CTR_corrupt_accepted]++;
			return -1;
		}
		if (l->tail - l->head < FRAME_HDR_BYTES + (size_t)len)
			break;
		record_check(r, l, l->buf + l->head + FRAME_HDR_BYTES, len, now_ns);
		l->head += FRAME_HDR_BYTES + len;
	}
	/* What is left is less than one frame: keep it at the front, so a whole frame fits. */
	memmove(l->buf, l->buf + l->head, l->tail - l->head);
	l->tail -= l->head;
	l->head = 0;
	return 0;
}

static void
lane_close(struct lane *l, int failed)
{
	close(l->fd);
	l->fd = -1;
	l->open = 0;
	l->failed |= failed;
}

/* One recv() on lane l: 1 if something happened (bytes, a close), 0 if nothing was there. */
static int
lane_recv(const struct relay *r, struct lane *l)
{
	ssize_t n = recv(l->fd, l->buf + l->tail, l->cap - l->tail, 0);

	if (n > 0) {
		l->tail += (size_t)n;
		/* One clock read per recv(): every record in it arrived by now. */
		if (frames_consume(r, l, now_ns()) != 0)
			lane_close(l, 1);
		return 1;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	if (n < 0)
		fprintf(stderr, "rg-tcp-relay: lane %u: recv: %s\n", l->idx, strerror(errno));
	else if (l->tail > 0) {
		fprintf(stderr, "rg-tcp-relay: lane %u: closed inside a frame (%zu bytes left)\n",
			l->idx, l->tail);
		l->history.ctr[RG_HISTORY_CTR_corrupt_accepted]++;
	} else if (!l->ended) {
		fprintf(stderr, "rg-tcp-relay: lane %u: closed without its end mark\n", l->idx);
	}
	lane_close(l, n < 0 || !l->ended);
	return 1;
}

/* Nothing moved: waits (at most POLL_MS) until one of the thread's open lanes has bytes. */
static void
recv_wait(const struct relay *r, const struct worker *w)
{
	struct pollfd p[LANES_MAX];
	nfds_t n = 0;

	for (uint32_t i = w->first; i < r->o.lanes; i += w->step)
		if (r->lanes[i].open)
			p[n++] = (struct pollfd){ .fd = r->lanes[i].fd, .events = POLLIN };
	poll(p, n, POLL_MS);
}

/* One receiver thread: reads and checks its lanes until they all closed, or the deadline. */
static void *
recv_thread(void *arg)
{
	struct worker *w = arg;
	struct relay *r = w->r;

	for (;;) {
		int open = 0, moved = 0;

		if (now_ns() >= r->deadline_ns) {
			fprintf(stderr, "rg-tcp-relay: lanes still open %.0f s after --seconds\n",
				DRAIN_GRACE_S);
			w->rc = -1;
			break;
		}
		for (uint32_t i = w->first; i < r->o.lanes; i += w->step) {
			struct lane *l = &r->lanes[i];

			if (l->open)
				moved += lane_recv(r, l);
			open += l->open;
			w->rc |= l->failed ? -1 : 0;
		}
		if (open == 0)
			break;
		if (!moved)
			recv_wait(r, w);
	}
	return NULL;
}

/* Takes the sender's hello for a lane not seen yet; 0 or -1 with a message. */
static int
hello_take(struct relay *r, const struct hello *h, const int *fds)
{
	struct opts *o = &r->o;
	const char *why = NULL;

	if (h->magic != HELLO_MAGIC)
		why = "not an rg-tcp-relay sender";
	else if (h->lanes != o->lanes || h->streams != o->streams || h->namespaces != o->namespaces)
		why = "the sender's --lanes, --streams or --namespaces differ from ours";
	else if (h->lane >= o->lanes || fds[h->lane] >= 0)
		why = "a lane number out of range or seen twice";
	else if (h->record_bytes < RG_RECORD_HDR_BYTES || h->record_bytes_max < h->record_bytes ||
		 h->record_bytes_max > RG_RECORD_BYTES_MAX ||
		 (o->record_bytes != 0 && (h->record_bytes != o->record_bytes ||
					   h->record_bytes_max != o->record_bytes_max)))
		why = "record sizes out of range or not the same on every lane";
	if (why != NULL) {
		fprintf(stderr, "rg-tcp-relay: bad hello (lanes %u streams %u namespaces %u): %s\n",
			h->lanes, h->streams, h->namespaces, why);
		return -1;
	}
	o->record_bytes = h->record_bytes;
	o->record_bytes_max = h->record_bytes_max;
	if (o->seconds <= 0)
		o->seconds = h->seconds_ms / 1e3;
	return 0;
}

/* Reads a new connection's hello within HELLO_TIMEOUT_MS; 0 or -1 with a message. */
static int
hello_read(int fd, struct hello *h)
{
	struct timeval tv = { .tv_sec = HELLO_TIMEOUT_MS / 1000 };
	uint8_t b[sizeof(*h)];
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv(fd, b, sizeof(b), MSG_WAITALL);
	if (n != (ssize_t)sizeof(b)) {
		fprintf(stderr, "rg-tcp-relay: no hello from a new connection within %d s: %s\n",
			HELLO_TIMEOUT_MS / 1000, n < 0 ? strerror(errno) : "closed early");
		return -1;
	}
	hello_decode(b, h);
	return 0;
}

/* Accepts o.lanes connections within ACCEPT_TIMEOUT_MS into fds[lane]; 0 or -1. */
static int
accept_lanes(struct relay *r, int lfd, int *fds)
{
	uint64_t deadline = now_ns() + ACCEPT_TIMEOUT_MS * RG_NS_PER_MS;

	for (uint32_t got = 0; got < r->o.lanes; got++) {
		struct pollfd p = { .fd = lfd, .events = POLLIN };
		uint64_t now = now_ns();
		struct hello h;
		int fd;

		if (now >= deadline ||
		    poll(&p, 1, (int)((deadline - now) / RG_NS_PER_MS) + 1) <= 0) {
			fprintf(stderr,
				"rg-tcp-relay: accepted %u of %u connections in %d s "
				"(is the sender running with --lanes %u?)\n",
				got, r->o.lanes, ACCEPT_TIMEOUT_MS / 1000, r->o.lanes);
			return -1;
		}
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "rg-tcp-relay: accept: %s\n", strerror(errno));
			return -1;
		}
		if (hello_read(fd, &h) != 0 || hello_take(r, &h, fds) != 0) {
			close(fd);
			return -1;
		}
		fds[h.lane] = fd;
	}
	return 0;
}

/* Resolves host and port for TCP; 0 or -1 with a message. */
static int
resolve(const char *host, uint32_t port_num, struct sockaddr_storage *sa, socklen_t *salen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai = NULL;
	char port[16];
	int rc;

	snprintf(port, sizeof(port), "%u", port_num);
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc != 0) {
		fprintf(stderr, "rg-tcp-relay: host %s: %s\n", host, gai_strerror(rc));
		return -1;
	}
	memcpy(sa, ai->ai_addr, ai->ai_addrlen);
	*salen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* A listening socket on --host:--port; the fd, or -1 with a message. */
static int
listen_open(const struct opts *o)
{
	struct sockaddr_storage sa;
	socklen_t salen;
	int one = 1, fd;

	if (resolve(o->host, o->port, &sa, &salen) != 0)
		return -1;
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&sa, salen) != 0 || listen(fd, LANES_MAX) != 0) {
		fprintf(stderr, "rg-tcp-relay: listen on %s:%u: %s\n", o->host, o->port,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* What the receiver's lanes counted, added up after the threads are joined. */
struct rx_total {
	uint64_t records, bytes, timed, first_ns, last_ns;
	struct rg_history history;
	uint64_t hist[HIST_BUCKETS];
};

static void
rx_merge(const struct relay *r, struct rx_total *t)
{
	memset(t, 0, sizeof(*t));
	t->first_ns = UINT64_MAX;
	for (uint32_t i = 0; i < r->o.lanes; i++) {
		const struct lane *l = &r->lanes[i];

		rg_history_merge(&t->history, &l->history);
		if (l->history.ctr[RG_HISTORY_CTR_checked] > 0)
			t->first_ns = RG_MIN(t->first_ns, l->first_ns);
		t->last_ns = RG_MAX(t->last_ns, l->last_ns);
		for (uint32_t b = 0; b < HIST_BUCKETS; b++) {
			t->hist[b] += l->hist[b];
			t->timed += l->hist[b];
		}
	}
	t->records = t->history.ctr[RG_HISTORY_CTR_checked];
	t->bytes = t->history.ctr[RG_HISTORY_CTR_checked_bytes];
}

/*
 * Prints the receiver's JSON line; returns the anomalies counted. seconds spans
 * the first to the last record checked, so the rates are those of the busy time
 * (0 when every record came in one recv()).
 */
static uint64_t
print_recv(const struct relay *r, double cpu_s)
{
	static struct rx_total t; /* 8 KiB of histogram: kept off the stack */
	uint64_t bad = 0;
	double span;

	rx_merge(r, &t);
	span = t.last_ns > t.first_ns ? (double)(t.last_ns - t.first_ns) / 1e9 : 0;
	printf("{\"role\":\"tcp-recv\",\"lanes\":%u,\"streams\":%u,\"records\":%llu,\"bytes\":%llu,"
	       "\"seconds\":%.3f,\"records_per_s\":%.0f,\"goodput_gbps\":%.3f,\"cpu_seconds\":%.3f,"
	       "\"records_per_cpu_s\":%.0f,\"latency_p50_us\":%.1f,\"latency_p99_us\":%.1f,"
	       "\"latency_p999_us\":%.1f",
	       r->o.lanes, r->o.streams, (unsigned long long)t.records, (unsigned long long)t.bytes,
	       span, span > 0 ? t.records / span : 0, span > 0 ? t.bytes * 8 / span / 1e9 : 0,
	       cpu_s, cpu_s > 0 ? t.records / cpu_s : 0,
	       rg_hist_quantile(t.hist, t.timed, 0.5) / 1e3,
	       rg_hist_quantile(t.hist, t.timed, 0.99) / 1e3,
	       rg_hist_quantile(t.hist, t.timed, 0.999) / 1e3);
	for (size_t a = 0; a < RG_ARRAY_SIZE(rx_anomalies); a++) {
		uint64_t n = t.history.ctr[rx_anomalies[a].ctr];

		printf(",\"%s\":%llu", rx_anomalies[a].key, (unsigned long long)n);
		bad += n;
	}
	printf("}\n");
	fflush(stdout);
	return bad;
}

/*
 * Listens, accepts the sender's o.lanes connections with their hellos, makes
 * the lanes and gives each its connection, open and non-blocking (the receiver
 * and the forwarder); 0, or -1 with a message and every fd closed.
 */
static int
lanes_accept(struct relay *r)
{
	int fds[LANES_MAX], lfd = listen_open(&r->o), rc;

	if (lfd < 0)
		return -1;
	memset(fds, 0xff, sizeof(fds));
	rc = accept_lanes(r, lfd, fds);
	close(lfd);
	if (rc == 0 && lanes_create(r) != 0) {
		fprintf(stderr, "rg-tcp-relay: out of memory\n");
		rc = -1;
	}
	for (uint32_t i = 0; i < r->o.lanes; i++) {
		if (rc != 0 || r->lanes == NULL) {
			if (fds[i] >= 0)
				close(fds[i]);
			continue;
		}
		r->lanes[i].fd = fds[i];
		r->lanes[i].open = 1;
		socket_tune(fds[i]);
		fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
	}
	return rc;
}

/* The data phase starts now: its clock, its end (--seconds) and its deadline; the CPU so far. */
static double
phase_start(struct relay *r)
{
	double cpu0 = cpu_seconds();

	r->t0_ns = now_ns();
	r->end_ns = r->t0_ns + (uint64_t)(r->o.seconds * 1e9);
	r->deadline_ns = r->end_ns + (uint64_t)(DRAIN_GRACE_S * 1e9);
	return cpu0;
}

/* The receiver: 0 only when every lane closed cleanly, nothing was wrong and records came. */
static int
run_recv(struct relay *r)
{
	double cpu0;
	int rc;

	if (lanes_accept(r) != 0)
		return 1;
	cpu0 = phase_start(r);
	rc = workers_run(r, recv_thread);
	if (print_recv(r, cpu_seconds() - cpu0) > 0 || rc != 0)
		return 1;
	for (uint32_t i = 0; i < r->o.lanes; i++)
		if (r->lanes[i].history.ctr[RG_HISTORY_CTR_checked] > 0)
			return 0;
	return 1;
}

/* ---- sender setup ---- */

/* One non-blocking connect that waits until deadline_ns: the fd, or -errno. */
static int
connect_once(const struct sockaddr_storage *sa, socklen_t salen, uint64_t deadline_ns)
{
	int fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), err = 0;
	socklen_t errlen = sizeof(err);
	uint64_t now = now_ns();

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)sa, salen) != 0) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int ms = now < deadline_ns ? (int)((deadline_ns - now) / RG_NS_PER_MS) + 1 : 0;

		if (errno != EINPROGRESS)
			err = errno;
		else if (poll(&p, 1, ms) <= 0)
			err = ETIMEDOUT;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) != 0)
			err = errno;
	}
	if (err != 0) {
		close(fd);
		return -err;
	}
	return fd;
}

/*
 * Connects lane l to host:port (retrying a refusal for CONNECT_TIMEOUT_MS) and
 * says hello with our options (a forwarder's are its sender's, from the hello
 * it took); the connected fd, or -1 with a message.
 */
static int
lane_connect(const struct relay *r, const struct lane *l, const char *host, uint32_t port,
	     const struct sockaddr_storage *sa, socklen_t salen)
{
	const struct opts *o = &r->o;
	uint64_t deadline = now_ns() + CONNECT_TIMEOUT_MS * RG_NS_PER_MS;
	struct hello h = { HELLO_MAGIC,     l->idx,
			   o->lanes,        o->streams,
			   o->namespaces,   (uint32_t)(o->seconds * 1e3),
			   o->record_bytes, o->record_bytes_max };
	uint8_t b[sizeof(h)];
	int fd;

	while ((fd = connect_once(sa, salen, deadline)) == -ECONNREFUSED && now_ns() < deadline)
		sleep_ns(CONNECT_RETRY_MS * RG_NS_PER_MS);
	if (fd < 0) {
		fprintf(stderr, "rg-tcp-relay: lane %u: connect to %s:%u: %s%s\n", l->idx, host,
			port, strerror(-fd),
			fd == -ECONNREFUSED ? " (is the next hop listening?)" : "");
		return -1;
	}
	socket_tune(fd);
	hello_encode(&h, b);
	/* A fresh connection's send buffer always takes 32 bytes: no wait needed. */
	if (send(fd, b, sizeof(b), MSG_NOSIGNAL) != (ssize_t)sizeof(b)) {
		fprintf(stderr, "rg-tcp-relay: lane %u: hello: %s\n", l->idx, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void
print_send(const struct relay *r, double seconds, double cpu_s)
{
	uint64_t records = 0, bytes = 0;

	for (uint32_t i = 0; i < r->o.lanes; i++) {
		records += r->lanes[i].records;
		bytes += r->lanes[i].bytes;
	}
	printf("{\"role\":\"tcp-send\",\"records\":%llu,\"bytes\":%llu,\"seconds\":%.3f,"
	       "\"records_per_s\":%.0f,\"cpu_seconds\":%.3f,\"records_per_cpu_s\":%.0f}\n",
	       (unsigned long long)records, (unsigned long long)bytes, seconds,
	       seconds > 0 ? records / seconds : 0, cpu_s, cpu_s > 0 ? records / cpu_s : 0);
	fflush(stdout);
}

/* The sender: 0 when every record it made was handed to the kernel and the lanes closed. */
static int
run_send(struct relay *r)
{
	struct sockaddr_storage sa;
	socklen_t salen;
	double cpu0;
	int rc;

	rg_record_init(&r->rec, r->o.seed, r->o.record_bytes, r->o.record_bytes_max);
	if (lanes_create(r) != 0) {
		fprintf(stderr, "rg-tcp-relay: out of memory\n");
		return 1;
	}
	if (resolve(r->o.host, r->o.port, &sa, &salen) != 0)
		return 1;
	for (uint32_t i = 0; i < r->o.lanes; i++) {
		r->lanes[i].fd = lane_connect(r, &r->lanes[i], r->o.host, r->o.port, &sa, salen);
		if (r->lanes[i].fd < 0)
			return 1;
	}
	cpu0 = phase_start(r);
	rc = workers_run(r, send_thread);
	print_send(r, (double)(now_ns() - r->t0_ns) / 1e9, cpu_seconds() - cpu0);
	return rc == 0 && r->lanes[0].records > 0 ? 0 : 1;
}

/* ---- forwarder: a relay hop (invariant 5) ---- */

/*
 * Moves the whole frames at the front of buf[ready, tail) into buf[head,
 * ready), counting them; 0, or -1 when a frame length is impossible (the bytes
 * from there on are dropped: the lane ends there, without its end mark).
 */
static int
fwd_scan(const struct relay *r, struct lane *l)
{
	/* Bounded: each turn takes a whole frame (at least 4 bytes) or stops. */
	while (l->tail - l->ready >= FRAME_HDR_BYTES) {
		uint32_t len = rg_wire_get_le32(l->buf + l->ready);
		size_t whole = len == 0 ? END_FRAME_BYTES : FRAME_HDR_BYTES + (size_t)len;

		if (l->ended ||
		    (len != 0 && (len < r->o.record_bytes || len > r->o.record_bytes_max))) {
			fprintf(stderr,
				"rg-tcp-relay: lane %u: %s frame of %u bytes (records are %u..%u): "
				"the byte stream is out of step\n",
				l->idx, l->ended ? "after the end mark, a" : "a", len,
				r->o.record_bytes, r->o.record_bytes_max);
			l->tail = l->ready;
			return -1;
		}
		if (l->tail - l->ready < whole)
			break;
		if (len == 0) {
			l->ended = 1;
		} else {
			l->records++;
			l->bytes += len;
		}
		l->ready += whole;
	}
	return 0;
}

/* Stops taking from lane l's sender: what is whole still goes on, then the lane ends. */
static void
fwd_in_end(struct lane *l, int failed)
{
	l->in_eof = 1;
	l->failed |= failed;
	l->tail = l->ready; /* a cut frame's start never goes on */
}

/* One recv() on lane l if it has room: 1 if something happened (bytes, a close), else 0. */
static int
fwd_recv(const struct relay *r, struct lane *l)
{
	ssize_t n;

	if (l->in_eof)
		return 0;
	/* Keep room for a big read: move what is left to the front once half the buffer is past. */
	if (l->head > 0 && l->cap - l->tail < l->cap / 2) {
		memmove(l->buf, l->buf + l->head, l->tail - l->head);
		l->ready -= l->head;
		l->tail -= l->head;
		l->head = 0;
	}
	if (l->tail == l->cap)
		return 0; /* full of whole frames: the next hop must take some first */
	n = recv(l->fd, l->buf + l->tail, l->cap - l->tail, 0);
	if (n > 0) {
		l->recv_calls++;
		l->tail += (size_t)n;
		if (fwd_scan(r, l) != 0)
			fwd_in_end(l, 1);
		return 1;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	if (n < 0)
		fprintf(stderr, "rg-tcp-relay: lane %u: recv: %s\n", l->idx, strerror(errno));
	else if (l->tail > l->ready)
		fprintf(stderr, "rg-tcp-relay: lane %u: closed inside a frame (%zu bytes left)\n",
			l->idx, l->tail - l->ready);
	else if (!l->ended)
		fprintf(stderr, "rg-tcp-relay: lane %u: closed without its end mark\n", l->idx);
	fwd_in_end(l, n < 0 || !l->ended || l->tail > l->ready);
	return 1;
}

/* One send() of lane l's whole frames, all of them: 1 if it took bytes, else 0 (-1: failed). */
static int
fwd_send(struct lane *l)
{
	ssize_t n;

	if (l->ready == l->head)
		return 0;
	n = send(l->out_fd, l->buf + l->head, l->ready - l->head, MSG_NOSIGNAL);
	if (n > 0) {
		l->send_calls++;
		l->head += (size_t)n;
		if (l->head == l->tail)
			l->head = l->ready = l->tail = 0;
		return 1;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	fprintf(stderr, "rg-tcp-relay: lane %u: send onward: %s\n", l->idx,
		n == 0 ? "sent nothing" : strerror(errno));
	return -1;
}

/* Nothing moved: waits (at most POLL_MS) for bytes in, or room out where frames wait. */
static void
fwd_wait(const struct relay *r, const struct worker *w)
{
	struct pollfd p[2 * LANES_MAX];
	nfds_t n = 0;

	for (uint32_t i = w->first; i < r->o.lanes; i += w->step) {
		const struct lane *l = &r->lanes[i];

		if (!l->open)
			continue;
		if (!l->in_eof && l->tail < l->cap)
			p[n++] = (struct pollfd){ .fd = l->fd, .events = POLLIN };
		if (l->ready > l->head)
			p[n++] = (struct pollfd){ .fd = l->out_fd, .events = POLLOUT };
	}
	poll(p, n, POLL_MS);
}

/* One forwarder thread: takes its lanes' frames and passes them on until every lane ended. */
static void *
fwd_thread(void *arg)
{
	struct worker *w = arg;
	struct relay *r = w->r;

	for (;;) {
		int open = 0, moved = 0;

		if (now_ns() >= r->deadline_ns) {
			fprintf(stderr, "rg-tcp-relay: lanes still open %.0f s after --seconds\n",
				DRAIN_GRACE_S);
			w->rc = -1;
			break;
		}
		for (uint32_t i = w->first; i < r->o.lanes; i += w->step) {
			struct lane *l = &r->lanes[i];
			int sent;

			if (!l->open)
				continue;
			moved += fwd_recv(r, l);
			sent = fwd_send(l);
			if (sent < 0)
				l->failed = 1;
			moved += sent > 0;
			if (sent < 0 || (l->in_eof && l->ready == l->head)) {
				shutdown(l->out_fd, SHUT_WR); /* the next hop sees the lane end */
				l->open = 0;
			}
			open += l->open;
			w->rc |= l->failed ? -1 : 0;
		}
		if (open == 0)
			break;
		if (!moved)
			fwd_wait(r, w);
	}
	return NULL;
}

static void
print_fwd(const struct relay *r, double seconds, double cpu_s)
{
	uint64_t records = 0, bytes = 0, recvs = 0, sends = 0;

	for (uint32_t i = 0; i < r->o.lanes; i++) {
		records += r->lanes[i].records;
		bytes += r->lanes[i].bytes;
		recvs += r->lanes[i].recv_calls;
		sends += r->lanes[i].send_calls;
	}
	printf("{\"role\":\"tcp-forward\",\"lanes\":%u,\"records\":%llu,\"bytes\":%llu,"
	       "\"seconds\":%.3f,\"records_per_s\":%.0f,\"cpu_seconds\":%.3f,"
	       "\"records_per_cpu_s\":%.0f,\"recv_calls\":%llu,\"send_calls\":%llu}\n",
	       r->o.lanes, (unsigned long long)records, (unsigned long long)bytes, seconds,
	       seconds > 0 ? records / seconds : 0, cpu_s, cpu_s > 0 ? records / cpu_s : 0,
	       (unsigned long long)recvs, (unsigned long long)sends);
	fflush(stdout);
}

/*
 * The forwarder: accepts the sender's lanes, connects each onward (saying the
 * sender's hello), and passes frames on until every lane ended; 0 when every
 * lane came with its end mark and all of it went on.
 */
static int
run_forward(struct relay *r)
{
	struct sockaddr_storage sa;
	socklen_t salen;
	double cpu0;
	int rc;

	if (lanes_accept(r) != 0 || resolve(r->o.to_host, r->o.to_port, &sa, &salen) != 0)
		return 1;
	for (uint32_t i = 0; i < r->o.lanes; i++) {
		struct lane *l = &r->lanes[i];

		l->out_fd = lane_connect(r, l, r->o.to_host, r->o.to_port, &sa, salen);
		if (l->out_fd < 0)
			return 1;
		fcntl(l->out_fd, F_SETFL, fcntl(l->out_fd, F_GETFL) | O_NONBLOCK);
	}
	cpu0 = phase_start(r);
	rc = workers_run(r, fwd_thread);
	print_fwd(r, (double)(now_ns() - r->t0_ns) / 1e9, cpu_seconds() - cpu0);
	for (uint32_t i = 0; i < r->o.lanes; i++)
		rc |= r->lanes[i].failed || !r->lanes[i].ended ? -1 : 0;
	return rc == 0 && r->lanes[0].records > 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct relay r = { .lanes = NULL };
	int rc;

	if (opts_parse(argc, argv, &r.o) != 0) {
		usage();
		return 2;
	}
	rc = r.o.role == ROLE_SEND   ? run_send(&r)
	     : r.o.role == ROLE_RECV ? run_recv(&r)
				     : run_forward(&r);
	lanes_destroy(&r);
	return rc;
}
