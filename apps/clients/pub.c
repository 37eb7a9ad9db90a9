/* SPDX-License-Identifier: Apache-2.0 */
/*
 * repgate-pub: publishes the records of standard input to one stream through
 * a gateway of this region (DESIGN §4.9), like the console producer of a log
 * system. Record k of standard input is seq k.
 *
 * Standard input is the log: the consumer's applied watermark decides where
 * a run starts (the replay callback), so a run that was stopped is resumed by
 * running it again on the same input; records below are read and skipped.
 * Every record published stays in memory until the applied callback covers
 * it, so any hop may ask for it again (a replay); what is held is bounded by
 * --window records and --bytes-max bytes, and while that is full nothing more
 * is read from standard input: backpressure reaches the writer of the pipe.
 *
 * Invariants (pub_check, in debug builds after every round):
 *   1. Held records are the seqs [base, read] (none when read < base): slot
 *      seq % window of the ring, their bytes summed in held_bytes; at most
 *      window of them, and held_bytes <= bytes_max unless one record alone.
 *   2. Every seq below base is applied downstream (or, before the first
 *      replay, was never read). A replay asking for a seq below base that
 *      was read is fatal: the consumer's state went back.
 *   3. Once a replay came, base <= next_pub; records [next_pub, read] wait to
 *      be published, [base, next_pub) were handed to the library. So a
 *      record is let go only when it is applied and was handed over
 *      (trim_applied: a replay may name a seq below applied).
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

#define PROG              "repgate-pub"
#define WINDOW_DEFAULT    65536u
#define WINDOW_MAX        (1u << 22)
#define BYTES_MAX_DEFAULT (64ull << 20)
#define OPEN_TIMEOUT_NS   (30 * RG_CLI_NS_PER_S)
#define ROUND_RECORDS_MAX 4096u /* records read or published per round: the client polls between */
#define CLOSE_LINGER_NS   (50 * RG_CLI_NS_PER_MS)

struct pub_opts {
	struct rg_cli_common com;
	uint64_t stream;
	uint32_t window; /* records held at most */
	uint64_t bytes_max;
	uint64_t open_timeout_ns;
	uint32_t version; /* the failover version of every record */
};

struct held {
	uint8_t *data;
	uint32_t len;
};

struct pub {
	struct pub_opts o;
	struct rg_client *cl;
	struct rg_cli_input in;
	struct held *ring;
	uint64_t base, read, next_pub, applied;
	uint64_t held_bytes, skipped;
	unsigned replays;
	int connected, closing, sock_warned;
	uint64_t connected_ns;
	uint16_t gateway;
	int exit_code; /* -1 while running */
	struct rg_cli_tick tick;
};

static const char usage_text[] =
    "Usage: " PROG " --id N --gateway ID@ADDR:PORT[,PUBKEY] [--gateway ...]\n"
    "         --stream S [--key FILE] [--format lines|binary] [--window RECORDS]\n"
    "         [--bytes-max BYTES]\n"
    "         [--connect-timeout SECONDS] [--open-timeout SECONDS] [--progress-ms MS]\n"
    "         [--version V]\n"
    "\n"
    "Publishes standard input to stream S through the first gateway that answers\n"
    "(the gateways of this region, in order; it fails over to the next).\n"
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
    "  --format F           lines (default): one record per line, the newline not\n"
    "                       included (a last line without one is a record too);\n"
    "                       binary: each record a 4-byte little-endian length, then\n"
    "                       that many bytes. A record is at most 1 MiB.\n"
    "  --window RECORDS     records kept until applied (default 65536): when full,\n"
    "                       standard input is not read until the consumer applies\n"
    "  --bytes-max BYTES    bytes kept until applied (default 64 MiB; one larger\n"
    "                       record is taken when nothing else is kept)\n"
    "  --connect-timeout S  no gateway answered within S seconds: exit 2 (default 5)\n"
    "  --open-timeout S     the gateway did not open the stream within S seconds of\n"
    "                       connecting: exit 1 (default 30). A gateway opens a stream\n"
    "                       once its path to a consumer is open, so this bounds the\n"
    "                       wait for a consumer to subscribe at the far gateway.\n"
    "  --progress-ms MS     a progress line on stderr every MS ms (default 1000; 0 off)\n"
    "  --version V          the failover version of the records (default 1)\n"
    "\n"
    "Record k of standard input is seq k. A run starts where the consumer's applied\n"
    "watermark says: records below it are read and skipped, so a stopped run is\n"
    "resumed by running it again on the same input. Records stay in memory until\n"
    "applied, so any hop may ask for them again.\n"
    "\n"
    "Exit: 0 standard input ended and every record is applied; 1 an error (standard\n"
    "input, a malformed record, the stream never opened, a replay below what was\n"
    "applied: the consumer's state went back); 2 no gateway answered; 64 a bad\n"
    "command line; 130 SIGINT, 143 SIGTERM (it says how far it got).\n";

static void
usage_hint(void)
{
	fprintf(stderr, "Try '" PROG " --help'.\n");
}

/* A fatal error: said once, the loop ends with code. */
static void
fail(struct pub *p, int code, const char *fmt, ...)
{
	va_list ap;

	if (p->exit_code >= 0)
		return;
	p->exit_code = code;
	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- the held records (invariant 1) ---- */

static uint64_t
held_count(const struct pub *p)
{
	return p->read >= p->base ? p->read - p->base + 1 : 0;
}

static struct held *
slot(struct pub *p, uint64_t seq)
{
	return &p->ring[seq % p->o.window];
}

/* Lets go of the held records below upto (exclusive); base moves there. Bounded by window. */
static void
trim_below(struct pub *p, uint64_t upto)
{
	uint64_t end = upto <= p->read + 1 ? upto : p->read + 1;

	for (uint64_t s = p->base; s < end; s++) {
		struct held *h = slot(p, s);

		p->held_bytes -= h->len;
		free(h->data);
		*h = (struct held){ 0 };
	}
	if (upto > p->base)
		p->base = upto;
}

/*
 * Lets go of what is applied, but never of a record not handed to the library
 * yet (inv. 3): a replay may name a seq below what is applied, when the
 * gateway's watermark was older than the consumer's (it answered a resume
 * before the newest applied reached it). Those records are published again
 * and dropped downstream as duplicates: the library takes seqs only in order.
 */
static void
trim_applied(struct pub *p)
{
	uint64_t upto = p->applied + 1;

	if (p->replays > 0 && upto > p->next_pub)
		upto = p->next_pub;
	trim_below(p, upto);
}

static void
pub_check(const struct pub *p)
{
#ifdef RG_DEBUG
	uint64_t bytes = 0;

	for (uint64_t s = p->base; s <= p->read; s++)
		bytes += p->ring[s % p->o.window].len;
	if (bytes != p->held_bytes || held_count(p) > p->o.window ||
	    (p->replays > 0 && p->next_pub < p->base)) {
		fprintf(stderr, PROG ": internal error: held records out of step\n");
		abort();
	}
#else
	(void)p;
#endif
}

/* ---- the client's callbacks ---- */

static void
on_replay(void *ctx, uint64_t stream, uint64_t from)
{
	struct pub *p = ctx;
	char s[48];

	(void)stream;
	if (p->closing)
		return;
	if (from < p->base && from <= p->read) { /* inv. 2: read, applied and let go */
		rg_cli_stream_str(p->o.stream, s, sizeof(s));
		fail(p, RG_CLI_EXIT_ERROR,
		     "the gateway asks for stream %s again from seq %" PRIu64
		     ", but every record below %" PRIu64
		     " was applied downstream and is no longer kept here: the consumer's state "
		     "went back (was its state removed or restored from an older copy?). Stopping: "
		     "publish this stream from a log that still has those records.",
		     s, from, p->base);
		return;
	}
	if (from < p->base)
		p->base = from; /* not read yet: standard input still has them (none is held) */
	{
		/* Read records this replay passes over were applied downstream: skipped too. */
		uint64_t unhanded = p->replays > 0 ? p->next_pub : p->base;
		uint64_t upto = from <= p->read + 1 ? from : p->read + 1;

		if (upto > unhanded)
			p->skipped += upto - unhanded;
	}
	if (from > p->read + 1)
		trim_below(p, from); /* past what was read (a resumed run): skip to there */
	p->next_pub = from;
	p->replays++;
}

static void
on_applied(void *ctx, uint64_t stream, uint64_t applied)
{
	struct pub *p = ctx;

	(void)stream;
	if (p->closing || applied <= p->applied)
		return;
	p->applied = applied;
	trim_applied(p);
}

static void
on_event(void *ctx, const struct rg_client_event *ev)
{
	struct pub *p = ctx;
	char msg[1024];

	if (p->closing)
		return;
	switch (ev->type) {
	case RG_CLIENT_EV_CONNECTED:
	case RG_CLIENT_EV_MOVED:
		if (!p->connected)
			p->connected_ns = rg_client_now_ns();
		p->connected = 1;
		p->gateway = ev->gateway;
		if (p->o.com.progress_ns != 0)
			fprintf(stderr, PROG ": %s gateway %u\n",
				ev->type == RG_CLIENT_EV_MOVED ? "moved to" : "connected to",
				ev->gateway);
		break;
	case RG_CLIENT_EV_UNREACHABLE:
		rg_cli_unreachable_str(&p->o.com.cfg, msg, sizeof(msg));
		if (!p->connected)
			fail(p, RG_CLI_EXIT_UNREACHABLE, "%s", msg);
		else
			fprintf(stderr, PROG ": every gateway is silent now; still trying\n");
		break;
	default:
		break;
	}
}

/* ---- reading and publishing ---- */

/* What read_records stopped at. */
enum read_stop {
	READ_MORE = 1, /* its budget: more records wait in the input buffer */
	READ_NEED,     /* the input buffer has no whole record: read standard input */
	READ_FULL,     /* the window is full: standard input waits (backpressure) */
	READ_END,      /* standard input ended, or an error (said) */
};

/* Takes a record of standard input into the window. */
static int
hold(struct pub *p, uint64_t seq, const uint8_t *data, uint32_t len)
{
	struct held *h = slot(p, seq);

	h->data = malloc(len > 0 ? len : 1);
	if (h->data == NULL) {
		fail(p, RG_CLI_EXIT_ERROR, "out of memory for record %" PRIu64, seq);
		return -ENOMEM;
	}
	memcpy(h->data, data, len);
	h->len = len;
	p->held_bytes += len;
	return 0;
}

/* Takes records from standard input while the window has room. */
static enum read_stop
read_records(struct pub *p)
{
	for (unsigned n = 0; n < ROUND_RECORDS_MAX; n++) { /* bounded: a round's records */
		const uint8_t *data;
		uint32_t len;
		int rc = rg_cli_input_peek(&p->in, &data, &len);
		uint64_t seq = p->read + 1;

		if (rc < 0)
			fail(p, RG_CLI_EXIT_ERROR, "standard input: %s", p->in.err);
		if (rc < 0 || (rc == 0 && p->in.eof))
			return READ_END;
		if (rc == 0)
			return READ_NEED;
		if (seq >= p->base) {
			if (held_count(p) >= p->o.window ||
			    (held_count(p) > 0 && p->held_bytes + len > p->o.bytes_max))
				return READ_FULL;
			if (hold(p, seq, data, len) != 0)
				return READ_END;
		} else {
			p->skipped++; /* applied downstream before this run */
		}
		rg_cli_input_take(&p->in);
		p->read = seq;
	}
	return READ_MORE;
}

/* Hands held records to the library in order; 1 when it would take more now. */
static int
publish_records(struct pub *p)
{
	char s[48];

	for (unsigned n = 0; n < ROUND_RECORDS_MAX; n++) { /* bounded: a round's records */
		const struct held *h;
		int rc;

		if (p->replays == 0 || p->next_pub > p->read)
			return 0;
		h = slot(p, p->next_pub);
		rc = rg_client_publish(p->cl, p->o.stream, p->next_pub, p->o.version, h->data,
				       h->len);
		if (rc == -EAGAIN || rc == -ENOTCONN)
			return 0; /* backpressure, or a replay is coming: poll */
		if (rc != 0) {
			rg_cli_stream_str(p->o.stream, s, sizeof(s));
			fail(p, RG_CLI_EXIT_ERROR, "publishing seq %" PRIu64 " of stream %s: %s",
			     p->next_pub, s, rg_client_strerror(rc));
			return 0;
		}
		p->next_pub++;
	}
	return 1;
}

static int
finished(struct pub *p)
{
	const uint8_t *data;
	uint32_t len;

	return p->replays > 0 && p->in.eof && rg_cli_input_peek(&p->in, &data, &len) == 0 &&
	       p->applied >= p->read;
}

static void
progress(struct pub *p, uint64_t now_ns)
{
	struct rg_client_stats st;
	double rate, bps;

	rg_client_stats(p->cl, &st);
	if (!rg_cli_tick_due(&p->tick, now_ns, st.published, st.published_bytes, &rate, &bps))
		return;
	fprintf(stderr,
		PROG ": read=%" PRIu64 " published=%" PRIu64 " applied=%" PRIu64 " held=%" PRIu64
		     " held_bytes=%" PRIu64 " rate=%.0f/s %.2fMB/s gateway=%u\n",
		p->read, p->replays > 0 ? p->next_pub - 1 : 0, p->applied, held_count(p),
		p->held_bytes, rate, bps / 1e6, rg_client_gateway(p->cl));
}

static void
check_open_timeout(struct pub *p, uint64_t now_ns)
{
	char s[48];

	if (p->replays > 0 || !p->connected || now_ns - p->connected_ns < p->o.open_timeout_ns)
		return;
	rg_cli_stream_str(p->o.stream, s, sizeof(s));
	fail(p, RG_CLI_EXIT_ERROR,
	     "gateway %u did not open stream %s within %.1f s (--open-timeout): a gateway opens "
	     "a stream once its path to a consumer is open; is a consumer subscribed at the far "
	     "gateway, and does this gateway route the stream?",
	     p->gateway, s, (double)p->o.open_timeout_ns / 1e9);
}

/* The loop: read, publish, wait, poll; until done, an error or a stop signal. */
static void
run(struct pub *p)
{
	/* Bounded per round (ROUND_RECORDS_MAX records, one wait of at most RG_CLI_WAIT_NS_MAX);
	 * the run ends at EOF with everything applied, an error, a timeout or a signal. */
	while (p->exit_code < 0 && rg_cli_stop_signal == 0) {
		enum read_stop in = p->replays > 0 ? read_records(p) : READ_FULL;
		int more_out = publish_records(p), ready = 0, rc;
		uint64_t now = rg_client_now_ns();

		trim_applied(p); /* what a stale replay had published again */
		pub_check(p);
		if (p->exit_code >= 0)
			break;
		if (finished(p)) {
			p->exit_code = RG_CLI_EXIT_OK;
			break;
		}
		check_open_timeout(p, now);
		progress(p, now);
		rc = rg_cli_wait(p->cl, in == READ_NEED ? p->in.fd : -1,
				 in == READ_MORE || more_out ? 0 : RG_CLI_WAIT_NS_MAX, &ready);
		if (rc != 0 && !p->sock_warned) {
			fprintf(stderr, PROG ": warning: the client's socket said %s; going on\n",
				strerror(-rc));
			p->sock_warned = 1;
		}
		if (ready && (rc = rg_cli_input_read(&p->in)) != 0)
			fail(p, RG_CLI_EXIT_ERROR, "reading standard input: %s", strerror(-rc));
	}
}

/* ---- options and main ---- */

static int
own_option(struct pub_opts *o, int code, const char *arg)
{
	struct rg_cli_common *c = &o->com;
	uint64_t v = 0;
	int rc;

	switch (code) {
	case RG_CLI_OPT_FIRST_OWN: /* --stream */
		return rg_cli_parse_stream(c, "--stream", arg, &o->stream);
	case RG_CLI_OPT_FIRST_OWN + 1:
		rc = rg_cli_parse_u64(c, "--window", arg, 1, WINDOW_MAX, &v);
		o->window = (uint32_t)v;
		return rc;
	case RG_CLI_OPT_FIRST_OWN + 2:
		return rg_cli_parse_u64(c, "--bytes-max", arg, 1, 1ull << 40, &o->bytes_max);
	case RG_CLI_OPT_FIRST_OWN + 3:
		return rg_cli_parse_seconds(c, "--open-timeout", arg, &o->open_timeout_ns);
	case RG_CLI_OPT_FIRST_OWN + 4:
		rc = rg_cli_parse_u64(c, "--version", arg, 0, UINT32_MAX, &v);
		o->version = (uint32_t)v;
		return rc;
	default:
		usage_hint();
		return -EINVAL;
	}
}

/* 0, 1 for --help (said), or -EINVAL (said). */
static int
parse_options(struct pub_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "id", 1, NULL, RG_CLI_OPT_ID },
		{ "gateway", 1, NULL, RG_CLI_OPT_GATEWAY },
		{ "key", 1, NULL, RG_CLI_OPT_KEY },
		{ "format", 1, NULL, RG_CLI_OPT_FORMAT },
		{ "connect-timeout", 1, NULL, RG_CLI_OPT_CONNECT_TIMEOUT },
		{ "progress-ms", 1, NULL, RG_CLI_OPT_PROGRESS_MS },
		{ "stream", 1, NULL, RG_CLI_OPT_FIRST_OWN },
		{ "window", 1, NULL, RG_CLI_OPT_FIRST_OWN + 1 },
		{ "bytes-max", 1, NULL, RG_CLI_OPT_FIRST_OWN + 2 },
		{ "open-timeout", 1, NULL, RG_CLI_OPT_FIRST_OWN + 3 },
		{ "version", 1, NULL, RG_CLI_OPT_FIRST_OWN + 4 },
		{ "help", 0, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int code, rc;

	rg_cli_common_init(&o->com, PROG);
	o->window = WINDOW_DEFAULT;
	o->bytes_max = BYTES_MAX_DEFAULT;
	o->open_timeout_ns = OPEN_TIMEOUT_NS;
	o->version = 1;
	/* Bounded by argc. */
	while ((code = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (code == 'h') {
			fputs(usage_text, stdout);
			return 1;
		}
		if (code == '?') {
			usage_hint();
			return -EINVAL;
		}
		rc = rg_cli_common_option(&o->com, code, optarg);
		if (rc == 0)
			rc = own_option(o, code, optarg);
		if (rc < 0)
			return rc;
	}
	if (optind < argc) {
		fprintf(stderr,
			PROG ": unexpected argument '%s' (records come on standard input)\n",
			argv[optind]);
		return -EINVAL;
	}
	if (rg_cli_common_check(&o->com) != 0)
		return -EINVAL;
	if (o->stream == 0) {
		fprintf(stderr, PROG ": --stream S is required\n");
		return -EINVAL;
	}
	return 0;
}

static int
setup(struct pub *p)
{
	const struct rg_client_cb cb = {
		.replay = on_replay, .applied = on_applied, .event = on_event, .ctx = p
	};
	struct rg_client_config cfg = p->o.com.cfg;
	int rc;

	p->base = 1;
	p->exit_code = -1;
	p->ring = calloc(p->o.window, sizeof(p->ring[0]));
	if (p->ring == NULL || rg_cli_input_init(&p->in, STDIN_FILENO, p->o.com.format) != 0) {
		fprintf(stderr, PROG ": out of memory for a window of %u records\n", p->o.window);
		return -ENOMEM;
	}
	cfg.bytes_max = p->o.bytes_max; /* the library holds a subset of ours: until acked */
	rc = rg_client_create(&cfg, &cb, &p->cl);
	if (rc != 0)
		rg_cli_create_error(PROG, &cfg, rc); /* the key file's trouble, say */
	else if ((rc = rg_client_open(p->cl, p->o.stream)) != 0)
		fprintf(stderr, PROG ": cannot start the client: %s\n", rg_client_strerror(rc));
	rg_cli_tick_init(&p->tick, p->o.com.progress_ns, rg_client_now_ns());
	return rc;
}

static void
teardown(struct pub *p)
{
	p->closing = 1;
	if (p->cl != NULL) {
		rg_client_close(p->cl);
		rg_client_run(p->cl, CLOSE_LINGER_NS); /* bounded: lets the CLOSE leave */
		rg_client_destroy(p->cl);
	}
	if (p->ring != NULL)
		trim_below(p, p->read + 1);
	free(p->ring);
	rg_cli_input_fini(&p->in);
}

static void
say_end(const struct pub *p)
{
	uint64_t published = p->replays > 0 ? p->next_pub - 1 : 0;
	struct rg_client_stats st = { 0 };

	if (p->cl != NULL)
		rg_client_stats(p->cl, &st);

	if (rg_cli_stop_signal != 0 && p->exit_code < 0)
		fprintf(stderr,
			PROG ": %s: stopped after reading %" PRIu64
			     " records; published up to %" PRIu64 ", applied up to %" PRIu64
			     " (%" PRIu64
			     " not applied yet: run again on the same input to publish them)\n",
			rg_cli_signal_name(), p->read, published, p->applied, held_count(p));
	else if (p->exit_code == RG_CLI_EXIT_OK && p->o.com.progress_ns != 0)
		fprintf(stderr,
			PROG ": done: %" PRIu64 " records, all applied (skipped=%" PRIu64
			     " already applied before this run; published=%" PRIu64 ")\n",
			p->read, p->skipped, st.published);
	if (p->exit_code == RG_CLI_EXIT_OK && p->applied > p->read)
		fprintf(stderr,
			PROG ": note: the stream's consumer applied up to %" PRIu64
			     ", past the %" PRIu64 " records of this input\n",
			p->applied, p->read);
}

int
main(int argc, char **argv)
{
	static struct pub p;
	int rc = parse_options(&p.o, argc, argv);

	if (rc != 0)
		return rc > 0 ? RG_CLI_EXIT_OK : RG_CLI_EXIT_USAGE;
	if (rg_cli_signals_init() != 0) {
		fprintf(stderr, PROG ": cannot set up signals: %s\n", strerror(errno));
		return RG_CLI_EXIT_ERROR;
	}
	if (setup(&p) != 0) {
		teardown(&p);
		return RG_CLI_EXIT_ERROR;
	}
	run(&p);
	say_end(&p);
	if (p.exit_code < 0)
		p.exit_code = rg_cli_signal_exit();
	teardown(&p);
	return p.exit_code;
}
