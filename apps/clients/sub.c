/* SPDX-License-Identifier: Apache-2.0 */
/*
 * repgate-sub: prints the records of a stream, or of every stream of a
 * namespace, to standard output in order (DESIGN §4.9), like the console
 * consumer of a log system, and resumes from a state file.
 *
 * The order of things, every round (sub_round):
 *   1. rg_client_poll delivers records; deliver appends each to the output
 *      buffer (and says -EAGAIN when it is full: the record comes again, the
 *      stream's credit stops meanwhile, which slows the producer).
 *   2. The buffer is written to standard output, all of it (flush_out).
 *   3. Only then the new watermarks are stored in --state (atomically), and
 *      only then rg_client_applied tells the gateway (store_and_apply).
 * So the state never covers a record that was not written out: a killed
 * repgate-sub resumes right after the last record it stored, and prints again
 * at most what it wrote after that (at least once, never a gap).
 *
 * Invariants (per stream):
 *   1. told <= durable <= flushed <= delivered: what the gateway was told is
 *      stored, what is stored was written, what was written was delivered.
 *   2. The output buffer holds exactly the records (flushed, delivered] of
 *      every stream, in delivery order, each with a mark at its end.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "state.h"

#define PROG            "repgate-sub"
#define OUT_BYTES       (4u << 20) /* the output buffer: at least the largest record and more */
#define MARKS_MAX       16384u     /* records in the output buffer at most */
#define CLOSE_LINGER_NS (50 * RG_CLI_NS_PER_MS)

struct sub_opts {
	struct rg_cli_common com;
	uint64_t stream; /* --stream, or 0 */
	uint32_t ns;     /* --namespace, or 0 */
	const char *state_path;
	uint64_t count;   /* 0: no limit */
	uint64_t idle_ns; /* 0: never */
};

struct sub_stream {
	uint64_t id;
	uint64_t delivered, flushed, durable, told; /* seqs: invariant 1 */
};

struct mark {
	size_t end; /* the record's last byte + 1 in the output buffer */
	uint32_t idx;
	uint64_t seq;
};

struct sub {
	struct sub_opts o;
	struct rg_client *cl;
	struct sub_stream streams[RG_CLI_STATE_STREAMS_MAX];
	uint32_t n, last_idx;
	uint8_t *out;
	size_t out_len;
	struct mark *marks;
	uint32_t nmarks;
	int out_full; /* deliver said -EAGAIN for room: poll again at once after the flush */
	uint64_t received, printed, printed_bytes, last_record_ns;
	int connected, closing, sock_warned;
	int exit_code; /* -1 while running */
	struct rg_cli_state st;
	char err[RG_CLI_STATE_ERR_BYTES];
	struct rg_cli_tick tick;
};

static const char usage_text[] =
    "Usage: " PROG " --id N --gateway ID@ADDR:PORT[,PUBKEY] [--gateway ...]\n"
    "         (--stream S | --namespace NS) [--key FILE] [--state FILE]\n"
    "         [--format lines|binary] [--count N] [--idle-exit SECONDS]\n"
    "         [--connect-timeout SECONDS] [--progress-ms MS]\n"
    "\n"
    "Prints the records of stream S (or of every stream of namespace NS) to standard\n"
    "output, in order, through the first gateway that answers.\n"
    "\n"
    "  --id N               this client's id (1..65535), as the gateway lists it\n"
    "  --gateway ID@A:P[,K] a gateway: its id, IPv4 address and UDP port (up to 8);\n"
    "                       with --key, K is its public key (base64, 44 characters:\n"
    "                       `repgatectl pubkey` of its security.key), required\n"
    "  --key FILE           this client's private key (`repgatectl keygen`, mode 0600):\n"
    "                       every packet is sealed (AES-256-GCM), for gateways with\n"
    "                       security.mode = \"aead\" that list this client's public key;\n"
    "                       without it the client is plaintext (security.mode = \"none\")\n"
    "  --stream S           decimal, 0x-hex, or NS:K (namespace NS, shard K); not 0\n"
    "  --namespace NS       every stream of namespace NS (1..4294967295)\n"
    "  --state FILE         where it stands: read at start (missing: from seq 1),\n"
    "                       stored after every flush; a torn or foreign file is refused\n"
    "  --format F           lines (default): the payload and a newline (a payload\n"
    "                       with newlines prints as several lines); binary: a 4-byte\n"
    "                       little-endian length, then the payload (what\n"
    "                       repgate-pub --format binary reads)\n"
    "  --count N            exit 0 after N records\n"
    "  --idle-exit S        exit 0 after S seconds without a record\n"
    "  --connect-timeout S  no gateway answered within S seconds: exit 2 (default 5)\n"
    "  --progress-ms MS     a progress line on stderr every MS ms (default 1000; 0 off)\n"
    "\n"
    "Each round it writes the records it got to standard output, flushes, and only\n"
    "then stores the new watermarks in --state and tells the gateway they are applied.\n"
    "Killed, it resumes after the last record it stored; records printed after that\n"
    "store and before the kill are printed again by the next run (at least once: the\n"
    "output is not transactional with the state file). Without --state nothing is kept.\n"
    "\n"
    "Keep the state file: a run says it stands where the file says (0 without one), and\n"
    "the gateways never go back below what was applied. A consumer whose state went\n"
    "back (the file removed, or no --state on a second run) receives nothing of that\n"
    "stream from the gateway it applied it at (docs/clients.md).\n"
    "\n"
    "Exit: 0 --count or --idle-exit reached; 1 an error (standard output, the state\n"
    "file); 2 no gateway answered; 3 the gateway refused the subscription (busy,\n"
    "full, not allowed, unknown); 64 a bad command line; 130 SIGINT, 143 SIGTERM\n"
    "(after writing and storing what it got).\n";

static void
fail(struct sub *s, int code, const char *fmt, ...)
{
	va_list ap;

	if (s->exit_code >= 0)
		return;
	s->exit_code = code;
	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- streams ---- */

static struct sub_stream *
find(struct sub *s, uint64_t id)
{
	if (s->n > 0 && s->streams[s->last_idx].id == id)
		return &s->streams[s->last_idx];
	for (uint32_t i = 0; i < s->n; i++) /* bounded by RG_CLI_STATE_STREAMS_MAX */
		if (s->streams[i].id == id) {
			s->last_idx = i;
			return &s->streams[i];
		}
	return NULL;
}

static struct sub_stream *
add(struct sub *s, uint64_t id, uint64_t applied)
{
	struct sub_stream *x;

	if (s->n >= RG_CLI_STATE_STREAMS_MAX)
		return NULL;
	x = &s->streams[s->n++];
	*x = (struct sub_stream){
		.id = id, .delivered = applied, .flushed = applied, .durable = applied, .told = 0
	};
	return x;
}

/* ---- the client's callbacks ---- */

static int
on_deliver(void *ctx, uint64_t stream, uint64_t seq, uint32_t version, const void *data,
	   uint32_t len)
{
	struct sub *s = ctx;
	struct sub_stream *x = find(s, stream);
	size_t need = (size_t)len + (s->o.com.format == RG_CLI_LINES ? 1 : 4);
	uint8_t *p = s->out + s->out_len;
	char id[48];

	(void)version;
	if (s->closing || s->exit_code >= 0 || (s->o.count > 0 && s->received >= s->o.count))
		return -EAGAIN; /* not taken: comes again to the next run */
	if (x == NULL || seq != x->delivered + 1) {
		rg_cli_stream_str(stream, id, sizeof(id));
		fail(s, RG_CLI_EXIT_ERROR, "stream %s: got seq %" PRIu64 ", want %" PRIu64, id, seq,
		     x == NULL ? 1 : x->delivered + 1);
		return -EAGAIN;
	}
	if (s->out_len + need > OUT_BYTES || s->nmarks >= MARKS_MAX) {
		s->out_full = 1;
		return -EAGAIN; /* the buffer is written out first: it comes again */
	}
	if (s->o.com.format == RG_CLI_BINARY) {
		p[0] = (uint8_t)len, p[1] = (uint8_t)(len >> 8);
		p[2] = (uint8_t)(len >> 16), p[3] = (uint8_t)(len >> 24);
		p += 4;
	}
	if (len > 0)
		memcpy(p, data, len);
	if (s->o.com.format == RG_CLI_LINES)
		p[len] = '\n';
	s->out_len += need;
	s->marks[s->nmarks++] =
	    (struct mark){ .end = s->out_len, .idx = (uint32_t)(x - s->streams), .seq = seq };
	x->delivered = seq;
	s->received++;
	s->last_record_ns = rg_client_now_ns();
	return 0;
}

/* A stream of the namespace, the first time: where it stands (the state file's, or 0). */
static int
on_stream_applied(void *ctx, uint64_t stream, uint64_t *applied)
{
	struct sub *s = ctx;
	struct sub_stream *x = find(s, stream);
	char id[48];

	if (x == NULL && (x = add(s, stream, 0)) == NULL) {
		rg_cli_stream_str(stream, id, sizeof(id));
		fprintf(stderr, PROG ": warning: stream %s refused: already %u streams\n", id,
			RG_CLI_STATE_STREAMS_MAX);
		return -ENOSPC;
	}
	*applied = x->durable;
	return 0;
}

static void
on_refused(struct sub *s, const struct rg_client_event *ev)
{
	char id[48];

	if (ev->namespace_sub)
		snprintf(id, sizeof(id), "%" PRIu32, (uint32_t)(ev->key >> 32));
	else
		rg_cli_stream_str(ev->key, id, sizeof(id));
	fail(s, RG_CLI_EXIT_REFUSED, "gateway %u refused the subscription to %s %s: %s",
	     ev->gateway, ev->namespace_sub ? "namespace" : "stream", id,
	     rg_cli_refusal_str(ev->status));
}

static void
on_event(void *ctx, const struct rg_client_event *ev)
{
	struct sub *s = ctx;
	int say = s->o.com.progress_ns != 0;
	char msg[1024];

	if (s->closing)
		return;
	switch (ev->type) {
	case RG_CLIENT_EV_CONNECTED:
	case RG_CLIENT_EV_MOVED:
		s->connected = 1;
		if (say)
			fprintf(stderr, PROG ": %s gateway %u\n",
				ev->type == RG_CLIENT_EV_MOVED ? "moved to" : "connected to",
				ev->gateway);
		break;
	case RG_CLIENT_EV_UNREACHABLE:
		rg_cli_unreachable_str(&s->o.com.cfg, msg, sizeof(msg));
		if (!s->connected)
			fail(s, RG_CLI_EXIT_UNREACHABLE, "%s", msg);
		else
			fprintf(stderr, PROG ": every gateway is silent now; still trying\n");
		break;
	case RG_CLIENT_EV_SUBSCRIBED:
		if (say)
			fprintf(stderr, PROG ": subscribed at gateway %u\n", ev->gateway);
		break;
	case RG_CLIENT_EV_REFUSED:
		on_refused(s, ev);
		break;
	}
}

/* ---- output, state, applied ---- */

/* Writes the output buffer; the records written whole move to flushed (inv. 1, 2). */
static int
flush_out(struct sub *s)
{
	size_t written = 0;
	int rc;

	if (s->out_len == 0)
		return 0;
	rc = rg_cli_write_all(STDOUT_FILENO, s->out, s->out_len, &written);
	for (uint32_t i = 0; i < s->nmarks && s->marks[i].end <= written; i++) {
		s->streams[s->marks[i].idx].flushed = s->marks[i].seq;
		s->printed++;
	}
	s->printed_bytes += written;
	s->out_len = 0; /* on an error the rest is dropped: it was never stored, so never lost */
	s->nmarks = 0;
	if (rc == -EPIPE)
		fail(s, RG_CLI_EXIT_ERROR, "standard output: the reader went away (EPIPE)");
	else if (rc != 0 && rc != -EINTR)
		fail(s, RG_CLI_EXIT_ERROR, "writing standard output: %s", strerror(-rc));
	return rc;
}

/* The state file, then the gateway: only what was written (inv. 1). */
static void
store_and_apply(struct sub *s)
{
	uint32_t changed = 0;
	int rc;

	for (uint32_t i = 0; i < s->n; i++) /* bounded by RG_CLI_STATE_STREAMS_MAX */
		changed += s->streams[i].flushed > s->streams[i].durable;
	if (changed == 0)
		return;
	if (s->o.state_path != NULL) {
		s->st.n = 0;
		for (uint32_t i = 0; i < s->n; i++)
			if (s->streams[i].flushed > 0)
				s->st.e[s->st.n++] =
				    (struct rg_cli_state_entry){ .stream = s->streams[i].id,
								 .applied = s->streams[i].flushed };
		if ((rc = rg_cli_state_store(s->o.state_path, &s->st, s->err, sizeof(s->err))) !=
		    0) {
			fail(s, RG_CLI_EXIT_ERROR,
			     "storing the state file %s: %s (what was printed since the last store "
			     "will print again)",
			     s->o.state_path, s->err);
			return;
		}
	}
	for (uint32_t i = 0; i < s->n; i++) {
		struct sub_stream *x = &s->streams[i];

		x->durable = x->flushed;
		if (x->durable > x->told && (rc = rg_client_applied(s->cl, x->id, x->durable)) == 0)
			x->told = x->durable;
	}
}

static uint64_t
applied_sum(const struct sub *s)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < s->n; i++)
		sum += s->streams[i].durable;
	return sum;
}

static void
progress(struct sub *s, uint64_t now_ns)
{
	double rate, bps;

	if (!rg_cli_tick_due(&s->tick, now_ns, s->printed, s->printed_bytes, &rate, &bps))
		return;
	fprintf(stderr,
		PROG ": received=%" PRIu64 " printed=%" PRIu64 " applied=%" PRIu64 " bytes=%" PRIu64
		     " rate=%.0f/s %.2fMB/s streams=%u gateway=%u\n",
		s->received, s->printed, applied_sum(s), s->printed_bytes, rate, bps / 1e6, s->n,
		rg_client_gateway(s->cl));
}

/* ---- the loop ---- */

static void
run(struct sub *s)
{
	/* Bounded per round (one wait of at most RG_CLI_WAIT_NS_MAX, one flush); the run ends at
	 * --count, --idle-exit, an error, a refusal, a timeout or a signal. */
	while (s->exit_code < 0 && rg_cli_stop_signal == 0) {
		uint64_t now;
		int ready, rc;

		rc = rg_cli_wait(s->cl, -1, s->out_full ? 0 : RG_CLI_WAIT_NS_MAX, &ready);
		if (rc != 0 && !s->sock_warned) {
			fprintf(stderr, PROG ": warning: the client's socket said %s; going on\n",
				strerror(-rc));
			s->sock_warned = 1;
		}
		s->out_full = 0;
		flush_out(s);
		store_and_apply(s); /* what was written whole, even when the write failed after */
		now = rg_client_now_ns();
		if (s->exit_code < 0 && s->o.count > 0 && s->printed >= s->o.count)
			s->exit_code = RG_CLI_EXIT_OK;
		if (s->exit_code < 0 && s->o.idle_ns > 0 && now - s->last_record_ns >= s->o.idle_ns)
			s->exit_code = RG_CLI_EXIT_OK;
		progress(s, now);
	}
}

/* ---- options and main ---- */

static int
own_option(struct sub_opts *o, int code, const char *arg)
{
	struct rg_cli_common *c = &o->com;
	uint64_t v = 0;
	int rc;

	switch (code) {
	case RG_CLI_OPT_FIRST_OWN:
		return rg_cli_parse_stream(c, "--stream", arg, &o->stream);
	case RG_CLI_OPT_FIRST_OWN + 1:
		rc = rg_cli_parse_u64(c, "--namespace", arg, 1, UINT32_MAX, &v);
		o->ns = (uint32_t)v;
		return rc;
	case RG_CLI_OPT_FIRST_OWN + 2:
		o->state_path = arg;
		return 0;
	case RG_CLI_OPT_FIRST_OWN + 3:
		return rg_cli_parse_u64(c, "--count", arg, 1, UINT64_MAX - 1, &o->count);
	case RG_CLI_OPT_FIRST_OWN + 4:
		return rg_cli_parse_seconds(c, "--idle-exit", arg, &o->idle_ns);
	default:
		fprintf(stderr, "Try '" PROG " --help'.\n");
		return -EINVAL;
	}
}

static int
check_options(const struct sub_opts *o)
{
	if (rg_cli_common_check(&o->com) != 0)
		return -EINVAL;
	if ((o->stream == 0) == (o->ns == 0)) {
		fprintf(stderr, PROG ": give one of --stream S and --namespace NS\n");
		return -EINVAL;
	}
	if (o->state_path != NULL && o->state_path[0] == '\0') {
		fprintf(stderr, PROG ": --state: an empty path\n");
		return -EINVAL;
	}
	return 0;
}

/* 0, 1 for --help (said), or -EINVAL (said). */
static int
parse_options(struct sub_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "id", 1, NULL, RG_CLI_OPT_ID },
		{ "gateway", 1, NULL, RG_CLI_OPT_GATEWAY },
		{ "key", 1, NULL, RG_CLI_OPT_KEY },
		{ "format", 1, NULL, RG_CLI_OPT_FORMAT },
		{ "connect-timeout", 1, NULL, RG_CLI_OPT_CONNECT_TIMEOUT },
		{ "progress-ms", 1, NULL, RG_CLI_OPT_PROGRESS_MS },
		{ "stream", 1, NULL, RG_CLI_OPT_FIRST_OWN },
		{ "namespace", 1, NULL, RG_CLI_OPT_FIRST_OWN + 1 },
		{ "state", 1, NULL, RG_CLI_OPT_FIRST_OWN + 2 },
		{ "count", 1, NULL, RG_CLI_OPT_FIRST_OWN + 3 },
		{ "idle-exit", 1, NULL, RG_CLI_OPT_FIRST_OWN + 4 },
		{ "help", 0, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int code, rc;

	rg_cli_common_init(&o->com, PROG);
	/* Bounded by argc. */
	while ((code = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (code == 'h') {
			fputs(usage_text, stdout);
			return 1;
		}
		if (code == '?') {
			fprintf(stderr, "Try '" PROG " --help'.\n");
			return -EINVAL;
		}
		rc = rg_cli_common_option(&o->com, code, optarg);
		if (rc == 0)
			rc = own_option(o, code, optarg);
		if (rc < 0)
			return rc;
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return check_options(o);
}

/* Reads --state and checks it belongs to this subscription; the streams start from it. */
static int
load_state(struct sub *s)
{
	const struct sub_opts *o = &s->o;
	char id[48];

	if (o->state_path == NULL)
		return 0;
	if (rg_cli_state_load(o->state_path, &s->st, s->err, sizeof(s->err)) != 0) {
		fprintf(stderr,
			PROG ": state file %s: %s; refusing to guess where to resume (move it away "
			     "to start from the beginning)\n",
			o->state_path, s->err);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < s->st.n; i++) {
		const struct rg_cli_state_entry *e = &s->st.e[i];

		if (o->stream != 0 ? e->stream != o->stream
				   : (uint32_t)(e->stream >> 32) != o->ns) {
			rg_cli_stream_str(e->stream, id, sizeof(id));
			fprintf(stderr,
				PROG ": state file %s holds stream %s, which this run does not "
				     "subscribe to: another subscription's state?\n",
				o->state_path, id);
			return -EINVAL;
		}
		add(s, e->stream, e->applied);
	}
	/* Stored at once, so a path that cannot be written fails now, before anything prints. */
	if (rg_cli_state_store(o->state_path, &s->st, s->err, sizeof(s->err)) != 0) {
		fprintf(stderr, PROG ": state file %s: %s\n", o->state_path, s->err);
		return -EIO;
	}
	return 0;
}

static int
setup(struct sub *s)
{
	const struct rg_client_cb cb = { .deliver = on_deliver,
					 .stream_applied = on_stream_applied,
					 .event = on_event,
					 .ctx = s };
	int rc;

	s->exit_code = -1;
	s->out = malloc(OUT_BYTES);
	s->marks = calloc(MARKS_MAX, sizeof(s->marks[0]));
	if (s->out == NULL || s->marks == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		return -ENOMEM;
	}
	if (load_state(s) != 0)
		return -EINVAL;
	if (s->o.stream != 0 && find(s, s->o.stream) == NULL)
		add(s, s->o.stream, 0);
	rc = rg_client_create(&s->o.com.cfg, &cb, &s->cl);
	if (rc != 0) {
		rg_cli_create_error(PROG, &s->o.com.cfg, rc); /* the key file's trouble, say */
		return rc;
	}
	if (s->o.stream != 0)
		rc = rg_client_subscribe(s->cl, s->o.stream, find(s, s->o.stream)->durable);
	else
		rc = rg_client_subscribe_ns(s->cl, s->o.ns);
	if (rc != 0)
		fprintf(stderr, PROG ": cannot start the client: %s\n", rg_client_strerror(rc));
	s->last_record_ns = rg_client_now_ns();
	rg_cli_tick_init(&s->tick, s->o.com.progress_ns, s->last_record_ns);
	return rc;
}

static void
teardown(struct sub *s)
{
	s->closing = 1;
	if (s->cl != NULL) {
		rg_client_close(s->cl);
		rg_client_run(s->cl, CLOSE_LINGER_NS); /* bounded: lets the CLOSE leave */
		rg_client_destroy(s->cl);
	}
	free(s->out);
	free(s->marks);
}

static void
say_end(const struct sub *s)
{
	if (rg_cli_stop_signal != 0 && (s->exit_code < 0 || s->exit_code == RG_CLI_EXIT_OK))
		fprintf(stderr,
			PROG ": %s: printed %" PRIu64 " records; applied (and stored) %" PRIu64
			     " over %u streams\n",
			rg_cli_signal_name(), s->printed, applied_sum(s), s->n);
	else if (s->exit_code == RG_CLI_EXIT_OK && s->o.com.progress_ns != 0)
		fprintf(stderr, PROG ": done: printed %" PRIu64 " records; applied %" PRIu64 "\n",
			s->printed, applied_sum(s));
}

int
main(int argc, char **argv)
{
	static struct sub s;
	int rc = parse_options(&s.o, argc, argv);

	if (rc != 0)
		return rc > 0 ? RG_CLI_EXIT_OK : RG_CLI_EXIT_USAGE;
	if (rg_cli_signals_init() != 0) {
		fprintf(stderr, PROG ": cannot set up signals: %s\n", strerror(errno));
		return RG_CLI_EXIT_ERROR;
	}
	if (setup(&s) != 0) {
		teardown(&s);
		return RG_CLI_EXIT_ERROR;
	}
	run(&s);
	say_end(&s);
	if (s.exit_code < 0)
		s.exit_code = rg_cli_signal_exit();
	teardown(&s);
	return s.exit_code;
}
