/* SPDX-License-Identifier: Apache-2.0 */
/*
 * repgate-load: the load generator and the verifying consumer as client
 * programs (librepgate), DESIGN §4.9. The same records (dataplane/proto/
 * record.h), the same history checker (history.h), the same progress lines
 * and JSON verdict as the daemon's bench instrument (apps/loadgen.c), so the
 * integration harness and scripts/verdict.py read either.
 *
 *   repgate-load --role generator --id 10 --gateway 1@10.1.0.2:7000 [options]
 *   repgate-load --role verifier  --id 20 --gateway 2@10.2.0.2:7000 --state-file F [options]
 *
 * Generator: streams k = 0 .. streams-1, in namespace k % namespaces, id
 * (ns + 1) << 32 | (k + 1). It makes records at --rate (0: as fast as
 * backpressure allows) for --duration seconds, publishes each stream from the
 * seq its replay callback names (a record is a pure function of (stream, seq,
 * seed), so "the log" is the seqs: a replay makes the same bytes again), and
 * then waits until everything made is applied (at most --drain seconds).
 *
 * Verifier: subscribes to every stream from the applied watermark in its
 * state file (mapped, so a kill -9 keeps it), checks every record (order,
 * gaps, duplicates, bytes), makes what it checked durable in the state file,
 * then tells the gateway (rg_client_applied). It runs until SIGTERM/SIGINT,
 * or --idle-exit seconds without a record once it has checked one.
 *
 * Signals: SIGTERM/SIGINT end the run at once (verdict as it stands); SIGUSR1 ends the
 * generator's making of records (it still waits, up to --drain, for them to be applied).
 *
 * Exit status: 0 when the verdict passes; 1 when it fails; 2 when no gateway
 * answered within --connect-timeout; 64 for a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clients/common.h"
#include "hist.h"
#include "history.h"
#include "record.h"
#include "repgate.h"

#define STATE_MAGIC 0x5247434c53543031ull /* "RGCLST01" */
#define MAKE_BURST  64
#define NS_SHOWN    8
#define EX_USAGE_   64
#define EX_NO_GW    2
#define STREAMS_MAX 65536

enum role {
	ROLE_GENERATOR = 1,
	ROLE_VERIFIER
};

struct opts {
	enum role role;
	struct rg_client_config ccfg;
	uint32_t streams, namespaces, record_bytes, record_bytes_max;
	double rate, duration_s, drain_s, idle_exit_s, connect_s;
	uint64_t records_max, seed;
	uint32_t progress_ms;
	const char *state_file, *report;
};

/* The verifier's durable state: mapped from --state-file (or anonymous memory). */
struct state {
	uint64_t magic;
	uint32_t streams, reserved;
	uint64_t anomalies[RG_HISTORY_CTR_MAX]; /* over every incarnation */
	uint64_t incarnations;
	uint64_t applied[]; /* per stream */
};

struct stream {
	uint64_t id;
	uint32_t ns;
	/* generator */
	uint64_t next;    /* the next seq to publish; 0: waiting for the replay */
	uint64_t head;    /* records made */
	uint64_t applied; /* the consumer's, as the gateway says */
	uint64_t base, base_ns;
	int ready;
	/* verifier */
	struct rg_history_stream h;
	uint64_t delivered;
};

struct load {
	struct opts o;
	struct rg_client *c;
	struct stream *st;
	struct rg_record_ctx rec;
	struct rg_history hist;
	struct state *state;
	size_t state_bytes;
	uint64_t anom_base[RG_HISTORY_CTR_MAX]; /* the earlier incarnations' anomalies */
	uint8_t *buf;
	uint32_t paced;
	double per_stream;
	uint64_t t0, made, checked, checked_bytes, first_ns, last_ns, done_ns;
	uint64_t backpressure; /* generator: publishes that said -EAGAIN */
	uint64_t stopped_ns;   /* generator: when SIGUSR1 ended the making */
	uint64_t lat[RG_HIST_BUCKETS], lat_n;
	uint64_t (*ns_lat)[RG_HIST_BUCKETS];
	uint64_t *ns_lat_n;
	uint64_t progress_next_ns, last_made, last_checked, last_bytes, last_applied;
	int connected, unreachable, refused;
};

static volatile sig_atomic_t stop_signal, stop_making;

static void
on_signal(int sig)
{
	stop_signal = sig;
}

/* SIGUSR1: the generator makes no new records from now on (it still waits for them applied). */
static void
on_usr1(int sig)
{
	(void)sig;
	stop_making = 1;
}

static double
secs(uint64_t ns)
{
	return (double)ns / 1e9;
}

/* ---- options ---- */

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: repgate-load --role generator|verifier --id N "
		"--gateway ID@ADDR:PORT[,PUBKEY] [--gateway ...]\n"
		"  [--key FILE] (sealed: every --gateway then needs its ,PUBKEY; "
		"docs/clients.md)\n"
		"  [--streams N] [--namespaces N] [--record-bytes B] [--record-bytes-max B]\n"
		"  [--rate RECORDS_PER_S] [--duration S] [--records-max N] [--seed N] [--drain S]\n"
		"  [--state-file FILE] [--report FILE] [--progress-ms MS] [--idle-exit S]\n"
		"  [--connect-timeout S] [--window RECORDS] [--pkt-bytes B]\n");
}

static int
num(const char *name, const char *arg, double lo, double hi, double *out)
{
	char *end;
	double v = strtod(arg, &end);

	if (end == arg || *end != '\0' || !(v >= lo && v <= hi)) {
		fprintf(stderr, "repgate-load: --%s %s: want a number in %g..%g\n", name, arg, lo,
			hi);
		return -1;
	}
	*out = v;
	return 0;
}

static void
opts_default(struct opts *o)
{
	memset(o, 0, sizeof(*o));
	rg_client_config_default(&o->ccfg);
	o->streams = 64;
	o->namespaces = 4;
	o->record_bytes = 1024;
	o->duration_s = 30;
	o->drain_s = 60;
	o->connect_s = 5;
	o->seed = 1;
	o->progress_ms = 1000;
}

/* One option with a value; 0, or -1 after saying what is wrong. */
static int
opt_value(struct opts *o, int c, const char *name, const char *arg)
{
	double v = 0;

	switch (c) {
	case 'r':
		o->role = strcmp(arg, "generator") == 0  ? ROLE_GENERATOR
			  : strcmp(arg, "verifier") == 0 ? ROLE_VERIFIER
							 : 0;
		if (o->role == 0)
			fprintf(stderr, "repgate-load: --role %s: generator or verifier\n", arg);
		return o->role == 0 ? -1 : 0;
	case 'g': {
		/* repgate-pub's parser and errors; it adds to the config it is given */
		struct rg_cli_common cli = { .prog = "repgate-load", .cfg = o->ccfg };

		if (rg_cli_parse_gateway(&cli, arg) != 0)
			return -1;
		o->ccfg = cli.cfg;
		return 0;
	}
	case 'K': {
		struct rg_cli_common cli = { .prog = "repgate-load", .cfg = o->ccfg };

		if (rg_cli_parse_key(&cli, arg) != 0)
			return -1;
		o->ccfg = cli.cfg;
		return 0;
	}
	case 'f':
		o->state_file = arg;
		return 0;
	case 'o':
		o->report = arg;
		return 0;
	}
	if (num(name, arg, 0, 1e18, &v) != 0)
		return -1;
	switch (c) {
	case 'i':
		o->ccfg.id = (uint16_t)(v >= 1 && v <= 65534 ? v : 0);
		break;
	case 's':
		o->streams = (uint32_t)RG_MIN(v, (double)STREAMS_MAX);
		break;
	case 'n':
		o->namespaces = (uint32_t)v;
		break;
	case 'b':
		o->record_bytes = (uint32_t)RG_MIN(v, (double)RG_CLIENT_RECORD_MAX);
		break;
	case 'B':
		o->record_bytes_max = (uint32_t)RG_MIN(v, (double)RG_CLIENT_RECORD_MAX);
		break;
	case 'R':
		o->rate = v;
		break;
	case 'd':
		o->duration_s = v;
		break;
	case 'm':
		o->records_max = (uint64_t)v;
		break;
	case 'S':
		o->seed = (uint64_t)v;
		break;
	case 'D':
		o->drain_s = v;
		break;
	case 'p':
		o->progress_ms = (uint32_t)v;
		break;
	case 'I':
		o->idle_exit_s = v;
		break;
	case 'c':
		o->connect_s = v;
		break;
	case 'w':
		o->ccfg.stream_records_max = (uint32_t)v;
		break;
	case 'P':
		o->ccfg.pkt_bytes_max = (uint32_t)v;
		break;
	}
	return 0;
}

static int
parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "role", 1, 0, 'r' },
		{ "id", 1, 0, 'i' },
		{ "gateway", 1, 0, 'g' },
		{ "streams", 1, 0, 's' },
		{ "namespaces", 1, 0, 'n' },
		{ "record-bytes", 1, 0, 'b' },
		{ "record-bytes-max", 1, 0, 'B' },
		{ "rate", 1, 0, 'R' },
		{ "duration", 1, 0, 'd' },
		{ "records-max", 1, 0, 'm' },
		{ "seed", 1, 0, 'S' },
		{ "drain", 1, 0, 'D' },
		{ "state-file", 1, 0, 'f' },
		{ "report", 1, 0, 'o' },
		{ "progress-ms", 1, 0, 'p' },
		{ "idle-exit", 1, 0, 'I' },
		{ "connect-timeout", 1, 0, 'c' },
		{ "window", 1, 0, 'w' },
		{ "pkt-bytes", 1, 0, 'P' },
		{ "key", 1, 0, 'K' },
		{ "help", 0, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	int c, ix;

	opts_default(o);
	while ((c = getopt_long(argc, argv, "", lo, &ix)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		if (c == '?' || opt_value(o, c, lo[ix].name, optarg) != 0)
			return -1;
	}
	if (optind < argc || o->role == 0 || o->ccfg.id == 0 || o->ccfg.ngateways == 0) {
		fprintf(stderr,
			"repgate-load: --role, --id (1..65534) and --gateway are required\n");
		return -1;
	}
	if (rg_cli_keys_check("repgate-load", &o->ccfg) != 0)
		return -1;
	if (o->streams == 0 || o->namespaces == 0 || o->namespaces > o->streams ||
	    (o->record_bytes_max != 0 && o->record_bytes_max < o->record_bytes)) {
		fprintf(stderr, "repgate-load: want 1 <= --namespaces <= --streams, and "
				"--record-bytes-max >= --record-bytes\n");
		return -1;
	}
	o->ccfg.connect_timeout_ns = (uint64_t)(o->connect_s * 1e9);
	o->ccfg.streams_max = o->streams + 16;
	o->ccfg.records_max = RG_MAX(65536u, o->streams * 256u);
	return 0;
}

/* ---- the verifier's state file ---- */

static int
state_open(struct load *l)
{
	const char *path = l->o.state_file;
	int fd;

	l->state_bytes = sizeof(*l->state) + (size_t)l->o.streams * sizeof(uint64_t);
	if (path == NULL || path[0] == '\0') {
		l->state = calloc(1, l->state_bytes);
		return l->state == NULL ? -ENOMEM : 0;
	}
	fd = open(path, O_RDWR | O_CREAT, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)l->state_bytes) != 0) {
		fprintf(stderr, "repgate-load: --state-file %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	l->state = mmap(NULL, l->state_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (l->state == MAP_FAILED) {
		fprintf(stderr, "repgate-load: --state-file %s: mmap: %s\n", path, strerror(errno));
		l->state = NULL;
		return -errno;
	}
	if (l->state->magic != STATE_MAGIC || l->state->streams != l->o.streams) {
		memset(l->state, 0,
		       l->state_bytes); /* a new or another run's file: from the start */
		l->state->magic = STATE_MAGIC;
		l->state->streams = l->o.streams;
	}
	l->state->incarnations++;
	memcpy(l->anom_base, l->state->anomalies, sizeof(l->anom_base));
	return 0;
}

/* ---- callbacks ---- */

static int64_t
stream_k(const struct load *l, uint64_t id)
{
	uint64_t k = (id & 0xffffffffu) - 1;

	if (k >= l->o.streams || l->st[k].id != id)
		return -1;
	return (int64_t)k;
}

static void
on_replay(void *ctx, uint64_t stream, uint64_t from)
{
	struct load *l = ctx;
	int64_t k = stream_k(l, stream);
	struct stream *s;

	if (k < 0)
		return;
	s = &l->st[k];
	s->next = from;
	if (from - 1 > s->head) { /* an earlier run of ours made those: they exist */
		l->made += from - 1 - s->head;
		s->head = from - 1;
	}
	if (!s->ready) {
		s->ready = 1;
		s->base = s->head;
		s->base_ns = rg_client_now_ns() - l->t0;
	}
}

static void
on_applied(void *ctx, uint64_t stream, uint64_t applied)
{
	struct load *l = ctx;
	int64_t k = stream_k(l, stream);

	if (k >= 0 && applied > l->st[k].applied)
		l->st[k].applied = applied;
}

static void
latency(struct load *l, const struct stream *s, uint64_t stamp)
{
	uint64_t now = rg_client_now_ns();
	uint32_t b;

	if (stamp == RG_RECORD_NO_STAMP)
		return;
	b = rg_hist_bucket(now > stamp ? now - stamp : 0);
	l->lat[b]++;
	l->lat_n++;
	l->ns_lat[s->ns][b]++;
	l->ns_lat_n[s->ns]++;
}

static int
on_deliver(void *ctx, uint64_t stream, uint64_t seq, uint32_t version, const void *data,
	   uint32_t len)
{
	struct load *l = ctx;
	int64_t k = stream_k(l, stream);
	struct rg_rx_frag f = {
		.seq = seq, .data = data, .len = len, .record_len = len, .version = version
	};
	uint64_t stamp = RG_RECORD_NO_STAMP, now = rg_client_now_ns() - l->t0;
	enum rg_history_class c;
	struct stream *s;

	if (k < 0) {
		rg_history_foreign(&l->hist);
		return 0;
	}
	s = &l->st[k];
	c = rg_history_deliver(&l->hist, &s->h, &f, &stamp);
	if (c == RG_HISTORY_CHECKED) {
		l->checked++;
		l->checked_bytes += len;
		latency(l, s, stamp);
	}
	if (l->first_ns == 0)
		l->first_ns = now;
	l->last_ns = now;
	if (rg_history_completes(c) && seq > s->delivered)
		s->delivered = seq;
	return 0;
}

static void
on_event(void *ctx, const struct rg_client_event *ev)
{
	struct load *l = ctx;

	switch (ev->type) {
	case RG_CLIENT_EV_CONNECTED:
		l->connected = 1;
		fprintf(stderr, "repgate-load: gateway %u serves us\n", ev->gateway);
		break;
	case RG_CLIENT_EV_MOVED:
		fprintf(stderr, "repgate-load: gateway died: streams moved to %u\n", ev->gateway);
		break;
	case RG_CLIENT_EV_UNREACHABLE:
		l->unreachable = !l->connected;
		fprintf(stderr, "repgate-load: no gateway answers\n");
		break;
	case RG_CLIENT_EV_REFUSED:
		l->refused = 1;
		fprintf(stderr, "repgate-load: subscription %" PRIx64 " refused (status %d)\n",
			ev->key, ev->status);
		break;
	default:
		break;
	}
}

/* ---- generator ---- */

static int
making(const struct load *l, uint64_t now)
{
	return !stop_making && secs(now) < l->o.duration_s &&
	       (l->o.records_max == 0 || l->made < l->o.records_max);
}

static int
paced(const struct load *l)
{
	return l->o.rate > 0;
}

/* Publishes stream s's records up to what the rate says by now; stops at backpressure. */
static unsigned
generate_stream(struct load *l, struct stream *s, uint64_t now)
{
	uint64_t target, stamp = rg_client_now_ns();
	unsigned sent = 0;

	if (!s->ready || s->next == 0)
		return 0;
	if (!making(l, now))
		target = s->head;
	else if (!paced(l))
		target = s->next + MAKE_BURST;
	else /* the replay may have come after this step's clock read: no time has passed then */
		target = RG_MAX(s->head,
				s->base + (uint64_t)(secs(now > s->base_ns ? now - s->base_ns : 0) *
						     l->per_stream));
	/* Bounded: MAKE_BURST records a step, and only up to the target. */
	while (sent < MAKE_BURST && s->next <= target) {
		uint32_t len = rg_record_len(&l->rec, s->id, s->next);
		int rc;

		rg_record_make(&l->rec, s->id, s->next, len, stamp, l->buf);
		rc = rg_client_publish(l->c, s->id, s->next, 1, l->buf, len);
		l->backpressure += rc == -EAGAIN;
		if (rc == -EAGAIN || rc == -ENOTCONN)
			break;
		if (rc != 0) {
			fprintf(stderr, "repgate-load: publish %" PRIx64 " seq %" PRIu64 ": %s\n",
				s->id, s->next, rg_client_strerror(rc));
			break;
		}
		s->next++;
		sent++;
	}
	if (s->next - 1 > s->head) {
		l->made += s->next - 1 - s->head;
		s->head = s->next - 1;
	}
	if (paced(l) && target > s->head && making(l, now)) { /* made on time, published later */
		l->made += target - s->head;
		s->head = target;
	}
	return sent;
}

static int
all_applied(const struct load *l)
{
	for (uint32_t k = 0; k < l->o.streams; k++)
		if (l->st[k].applied < l->st[k].head)
			return 0;
	return 1;
}

static uint64_t
applied_total(const struct load *l)
{
	uint64_t n = 0;

	for (uint32_t k = 0; k < l->o.streams; k++)
		n += l->o.role == ROLE_GENERATOR ? l->st[k].applied : l->state->applied[k];
	return n;
}

/* ---- verifier ---- */

/* What was checked in order is made durable, then the gateway hears of it. */
static void
apply(struct load *l)
{
	for (uint32_t k = 0; k < l->o.streams; k++) {
		struct stream *s = &l->st[k];
		uint64_t a = s->h.next - 1;

		if (a <= l->state->applied[k] || s->h.rec.off != 0)
			continue;
		__atomic_store_n(&l->state->applied[k], a, __ATOMIC_RELEASE); /* durable first */
		rg_client_applied(l->c, s->id, RG_MIN(a, s->delivered));
	}
	for (int a = 0; a < RG_HISTORY_CTR_MAX; a++)
		l->state->anomalies[a] = l->anom_base[a] + l->hist.ctr[a];
}

/* ---- reports ---- */

static void
progress(struct load *l, uint64_t now)
{
	struct rg_client_stats cs;
	double dt;
	uint64_t applied, lag[NS_SHOWN] = { 0 };

	if (l->o.progress_ms == 0 || now < l->progress_next_ns)
		return;
	dt = l->progress_next_ns == 0 ? 1 : l->o.progress_ms / 1000.0;
	l->progress_next_ns = now + (uint64_t)l->o.progress_ms * RG_NS_PER_MS;
	applied = applied_total(l);
	rg_client_stats(l->c, &cs);
	if (l->o.role == ROLE_GENERATOR) {
		for (uint32_t k = 0; k < l->o.streams; k++)
			if (l->st[k].ns < NS_SHOWN)
				lag[l->st[k].ns] += l->st[k].head - l->st[k].applied;
		printf("[%6.1fs] generator: made %" PRIu64 " applied %" PRIu64
		       " (%.0f rec/s) rtt %.2f ms rtx %" PRIu64 " lanes up %d lag/ns",
		       secs(now), l->made, applied, (double)(applied - l->last_applied) / dt,
		       (double)cs.rtt_ns / 1e6, cs.rtx_frames, rg_client_gateway(l->c) != 0);
		for (uint32_t n = 0; n < RG_MIN(l->o.namespaces, (uint32_t)NS_SHOWN); n++)
			printf(" %" PRIu64, lag[n]);
		printf(" backpressure %" PRIu64 " held %" PRIu64 "\n", l->backpressure,
		       cs.held_records);
	} else {
		printf("[%6.1fs] consumer: checked %" PRIu64 " (%.0f rec/s, %.3f Gbit/s) applied "
		       "%" PRIu64 " rtt %.2f ms rtx %" PRIu64 " lanes up %d anomalies %" PRIu64
		       "\n",
		       secs(now), l->checked, (double)(l->checked - l->last_checked) / dt,
		       (double)(l->checked_bytes - l->last_bytes) * 8 / dt / 1e9, applied,
		       (double)cs.rtt_ns / 1e6, cs.rtx_frames, rg_client_gateway(l->c) != 0,
		       rg_history_anomalies(&l->hist));
	}
	fflush(stdout);
	l->last_applied = applied;
	l->last_checked = l->checked;
	l->last_bytes = l->checked_bytes;
}

static double
cpu_seconds(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static double
q_us(const uint64_t *h, uint64_t n, double q)
{
	return (double)rg_hist_quantile(h, n, q) / 1e3;
}

static int
verdict_generator(struct load *l, uint64_t now, char *buf, size_t len)
{
	uint64_t applied = applied_total(l);
	double span = secs(RG_MAX(l->done_ns, now));

	snprintf(buf, len,
		 "{\"role\":\"generator\",\"records_delivered\":%" PRIu64
		 ",\"records_published\":%" PRIu64 ",\"lost\":%" PRIu64
		 ",\"records_per_s\":%.0f,\"backpressure\":%" PRIu64
		 ",\"seconds\":%.3f,\"cpu_seconds\":%.3f}",
		 applied, l->made, rg_history_lost(l->made, applied),
		 (double)applied / RG_MAX(span, 1e-9), l->backpressure, span, cpu_seconds());
	return l->made == 0 || l->made > applied ? -1 : 0;
}

static int
verdict_verifier(struct load *l, char *buf, size_t len)
{
	static const enum rg_history_counter shown[] = { RG_HISTORY_CTR_duplicated,
							 RG_HISTORY_CTR_reordered,
							 RG_HISTORY_CTR_gaps,
							 RG_HISTORY_CTR_corrupt_accepted };
	double span = RG_MAX(secs(l->last_ns - l->first_ns), 1e-9);
	int n = snprintf(buf, len, "{\"role\":\"consumer\",\"records_delivered\":%" PRIu64,
			 applied_total(l));

	for (size_t a = 0; a < RG_ARRAY_SIZE(shown); a++)
		n += snprintf(buf + n, len - (size_t)n, ",\"%s\":%" PRIu64,
			      rg_history_counter_names[shown[a]], l->state->anomalies[shown[a]]);
	n += snprintf(buf + n, len - (size_t)n,
		      ",\"records_checked\":%" PRIu64 ",\"incarnations\":%" PRIu64
		      ",\"goodput_gbps\":%.3f,\"records_per_s\":%.0f,\"latency_p50_us\":%.1f,"
		      "\"latency_p99_us\":%.1f,\"latency_p999_us\":%.1f",
		      l->checked, l->state->incarnations, (double)l->checked_bytes * 8 / span / 1e9,
		      (double)l->checked / span, q_us(l->lat, l->lat_n, 0.5),
		      q_us(l->lat, l->lat_n, 0.99), q_us(l->lat, l->lat_n, 0.999));
	for (int q = 0; q < 2; q++) {
		n +=
		    snprintf(buf + n, len - (size_t)n, ",\"ns_latency_p%s_us\":[", q ? "99" : "50");
		for (uint32_t s = 0; s < RG_MIN(l->o.namespaces, 256u); s++)
			n += snprintf(buf + n, len - (size_t)n, "%s%.1f", s ? "," : "",
				      q_us(l->ns_lat[s], l->ns_lat_n[s], q ? 0.99 : 0.5));
		n += snprintf(buf + n, len - (size_t)n, "]");
	}
	snprintf(buf + n, len - (size_t)n, ",\"seconds\":%.3f,\"cpu_seconds\":%.3f}", span,
		 cpu_seconds());
	for (size_t a = 0; a < RG_ARRAY_SIZE(shown); a++)
		if (l->state->anomalies[shown[a]] != 0)
			return -1;
	return l->checked == 0 ? -1 : 0; /* a run that checked nothing proves nothing */
}

static int
verdict(struct load *l, uint64_t now)
{
	char line[16384];
	int rc = l->o.role == ROLE_GENERATOR ? verdict_generator(l, now, line, sizeof(line))
					     : verdict_verifier(l, line, sizeof(line));

	printf("%s\n", line);
	fflush(stdout);
	if (l->o.report != NULL && l->o.report[0] != '\0') {
		FILE *r = fopen(l->o.report, "w");

		if (r == NULL) {
			fprintf(stderr, "repgate-load: --report %s: %s\n", l->o.report,
				strerror(errno));
			return -1;
		}
		fprintf(r, "%s\n", line);
		fclose(r);
	}
	return rc;
}

/* ---- setup and the loop ---- */

static int
setup(struct load *l)
{
	const struct rg_client_cb cb = { .replay = on_replay,
					 .applied = on_applied,
					 .deliver = on_deliver,
					 .event = on_event,
					 .ctx = l };
	int rc;

	rg_record_init(&l->rec, l->o.seed, l->o.record_bytes, l->o.record_bytes_max);
	rg_history_init(&l->hist);
	l->st = calloc(l->o.streams, sizeof(l->st[0]));
	l->buf = malloc(RG_CLIENT_RECORD_MAX);
	l->ns_lat = calloc(l->o.namespaces, sizeof(l->ns_lat[0]));
	l->ns_lat_n = calloc(l->o.namespaces, sizeof(l->ns_lat_n[0]));
	if (l->st == NULL || l->buf == NULL || l->ns_lat == NULL || l->ns_lat_n == NULL)
		return -ENOMEM;
	if (l->o.role == ROLE_VERIFIER && (rc = state_open(l)) != 0)
		return rc;
	if (l->o.role == ROLE_GENERATOR && (l->state = calloc(1, sizeof(*l->state))) == NULL)
		return -ENOMEM;
	rc = rg_client_create(&l->o.ccfg, &cb, &l->c);
	if (rc != 0) {
		rg_cli_create_error("repgate-load", &l->o.ccfg,
				    rc); /* the key file's trouble, say */
		return rc;
	}
	for (uint32_t k = 0; k < l->o.streams; k++) {
		struct stream *s = &l->st[k];

		s->ns = k % l->o.namespaces;
		s->id = ((uint64_t)(s->ns + 1) << 32) | (k + 1);
		if (l->o.role == ROLE_GENERATOR) {
			rc = rg_client_open(l->c, s->id);
		} else {
			rg_history_stream_init(&s->h, s->id, l->state->applied[k]);
			s->delivered = l->state->applied[k];
			rc = rg_client_subscribe(l->c, s->id, l->state->applied[k]);
		}
		if (rc != 0)
			return rc;
	}
	l->paced = l->o.streams;
	if (l->o.rate > 0)
		l->per_stream = l->o.rate / l->o.streams;
	return 0;
}

/* One step of the role's work; returns 1 when the run is over. */
static int
step(struct load *l, uint64_t now)
{
	if (l->o.role == ROLE_GENERATOR) {
		for (uint32_t k = 0; k < l->o.streams; k++)
			generate_stream(l, &l->st[k], now);
		if (!making(l, now) && l->done_ns == 0 && all_applied(l))
			l->done_ns = now;
		if (stop_making && l->stopped_ns == 0)
			l->stopped_ns = now;
		return l->done_ns != 0 ||
		       secs(now) >=
			   RG_MIN(l->o.duration_s, secs(l->stopped_ns ? l->stopped_ns : now)) +
			       l->o.drain_s;
	}
	apply(l);
	return l->o.idle_exit_s > 0 && l->last_ns != 0 &&
	       secs(now - RG_MAX(l->last_ns, l->first_ns)) >= l->o.idle_exit_s;
}

int
main(int argc, char **argv)
{
	struct load l;
	int rc;

	memset(&l, 0, sizeof(l));
	if (parse(argc, argv, &l.o) != 0) {
		usage(stderr);
		return EX_USAGE_;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_usr1);
	signal(SIGPIPE, SIG_IGN);
	l.t0 = rg_client_now_ns();
	if (setup(&l) != 0)
		return 1;
	/* Bounded by the role's end (duration + drain, idle exit) or a signal. */
	while (!stop_signal) {
		uint64_t now;

		if (rg_client_run(l.c, RG_NS_PER_MS) != 0 && errno != EINTR)
			break;
		now = rg_client_now_ns() - l.t0; /* after the callbacks: none is later than now */
		if (l.unreachable) {
			fprintf(stderr, "repgate-load: no gateway answered within %.1f s: %s\n",
				l.o.connect_s, "check --gateway and the gateway's peers list");
			return EX_NO_GW;
		}
		progress(&l, now);
		if (step(&l, now))
			break;
	}
	if (l.o.role == ROLE_VERIFIER)
		apply(&l);
	rg_client_close(l.c);
	rg_client_run(l.c, 20 * RG_NS_PER_MS); /* the CLOSE leaves */
	rc = verdict(&l, rg_client_now_ns() - l.t0);
	rg_client_destroy(l.c);
	return rc == 0 ? 0 : 1;
}
