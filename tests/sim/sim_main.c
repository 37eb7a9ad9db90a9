/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rg-sim: runs the deterministic simulator over one seed or a sweep and ends
 * with one JSON line. Exit 0 when every seed passes (sim.h: sim_verdict).
 *
 *   rg-sim --seed 7                 one seed, exactly reproducible
 *   rg-sim --seeds 50               the default sweep (seeds 1..50)
 *   rg-sim --demo                   one seed with a progress line per simulated second
 *   rg-sim --expect lost            pass only if the run FAILS with lost > 0 (canaries)
 *   rg-sim --scenario adaptive      a pacing scenario: prints goodput per lane and the
 *                                   bottleneck queue, fails when a criterion is missed
 *   rg-sim --scenario fairness      a latency scenario: each seed alone and with floods,
 *                                   prints p99 latency per namespace, fails on a criterion
 *
 * A failed seed prints a repro line: this program, every option it was given
 * (as given, --seeds left out) and --seed of that seed, so the line runs
 * exactly that seed again. A bad command line exits 64 (EX_USAGE) before any
 * run, with what is wrong: each value against its range, then the whole
 * configuration against the simulator's limits (sim_config_check).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

#define EX_USAGE_   64   /* a bad command line (sysexits.h EX_USAGE), as the CLIs exit */
#define REPRO_BYTES 2048 /* the options of a repro line */

struct totals {
	uint64_t seeds, failed, events, published, delivered, checked, bytes, packets, rtx,
	    handshakes;
	double sim_seconds, heal_max;
	uint64_t anomalies[SIM_ANOM_MAX];
	uint64_t faults[SIM_FAULT_MAX];
	uint64_t crashed[SIM_NODE_KINDS];
	uint64_t relay[RG_RLY_CTR_MAX];
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: rg-sim [--scenario "
		"faults|clean|relay|fixed|adaptive|adaptive_lossy|share|fairness|priority]\n"
		"              [--seed S] [--seeds N] [--duration SEC]\n"
		"              [--loss P] [--burst P] [--dup P] [--reorder P] [--corrupt P]\n"
		"              [--jitter MS] [--delay MS] [--partitions PER_S] [--crashes PER_S]\n"
		"              [--stall P] [--rate REC_PER_S] [--streams N] [--gateways N] "
		"[--lanes N]\n"
		"              [--pace MBIT_S_PER_LANE] [--pacing fixed|adaptive]\n"
		"              [--bottleneck MBIT_S] [--queue BYTES] [--flood-streams N]\n"
		"              [--seal] [--demo] [--progress] [--expect ANOMALY] [--quiet]\n"
		"  --seal: every core seals its packets with the real AEAD (AES-256-GCM)\n");
}

static int
parse_double(const char *arg, const char *name, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno != 0 || *end != '\0' || end == arg || v < lo || v > hi) {
		fprintf(stderr, "rg-sim: --%s %s: expected a number in [%g, %g]\n", name, arg, lo,
			hi);
		return -1;
	}
	*out = v;
	return 0;
}

static void
add(struct totals *t, const struct sim_result *r)
{
	t->seeds++;
	t->events += r->events;
	t->published += r->published;
	t->delivered += r->delivered;
	t->checked += r->checked;
	t->bytes += r->bytes_checked;
	t->packets += r->packets;
	t->rtx += r->retransmits;
	t->handshakes += r->handshakes;
	t->sim_seconds += r->sim_seconds;
	if (r->heal_seconds > t->heal_max)
		t->heal_max = r->heal_seconds;
	for (int i = 0; i < SIM_ANOM_MAX; i++)
		t->anomalies[i] += r->anomalies[i];
	for (int i = 0; i < SIM_FAULT_MAX; i++)
		t->faults[i] += r->faults[i];
	for (int i = 0; i < SIM_NODE_KINDS; i++)
		t->crashed[i] += r->crashed[i];
	for (int i = 0; i < RG_RLY_CTR_MAX; i++)
		t->relay[i] += r->relay_ctr[i];
}

static void
print_json(const struct totals *t, double wall, int pass)
{
	printf("{\"seeds\":%llu,\"failed_seeds\":%llu,\"events\":%llu,\"sim_seconds\":%.1f,"
	       "\"wall_seconds\":%.1f,\"records_published\":%llu,\"records_delivered\":%llu,"
	       "\"records_checked\":%llu,\"bytes_checked\":%llu,\"packets\":%llu,"
	       "\"retransmitted_frames\":%llu,\"handshakes\":%llu,\"max_heal_seconds\":%.3f",
	       (unsigned long long)t->seeds, (unsigned long long)t->failed,
	       (unsigned long long)t->events, t->sim_seconds, wall,
	       (unsigned long long)t->published, (unsigned long long)t->delivered,
	       (unsigned long long)t->checked, (unsigned long long)t->bytes,
	       (unsigned long long)t->packets, (unsigned long long)t->rtx,
	       (unsigned long long)t->handshakes, t->heal_max);
	for (int i = 0; i < SIM_ANOM_MAX; i++)
		printf(",\"%s\":%llu", sim_anomaly_name(i), (unsigned long long)t->anomalies[i]);
	printf(",\"faults\":{");
	for (int i = 0; i < SIM_FAULT_MAX; i++)
		printf("%s\"%s\":%llu", i ? "," : "", sim_fault_name(i),
		       (unsigned long long)t->faults[i]);
	printf("},\"crashed\":{\"gateway\":%llu,\"producer\":%llu,\"consumer\":%llu",
	       (unsigned long long)(t->crashed[SIM_NODE_GATEWAY] + t->crashed[SIM_NODE_RELAY]),
	       (unsigned long long)t->crashed[SIM_NODE_PRODUCER],
	       (unsigned long long)t->crashed[SIM_NODE_CONSUMER]);
	printf("},\"relay\":{");
	for (int i = 0; i < RG_RLY_CTR_MAX; i++)
		printf("%s\"%s\":%llu", i ? "," : "", rg_relay_counter_name(i),
		       (unsigned long long)t->relay[i]);
	printf("},\"verdict\":\"%s\"}\n", pass ? "pass" : "fail");
}

/* Scenarios by their --scenario name. */
static const struct {
	const char *name;
	void (*fill)(struct sim_config *c);
} scenarios[] = {
	{ "faults", sim_replication_faults }, { "clean", sim_replication_clean },
	{ "relay", sim_replication_relay },   { "fixed", sim_pacing_fixed },
	{ "adaptive", sim_pacing_adaptive },  { "adaptive_lossy", sim_pacing_adaptive_lossy },
	{ "share", sim_pacing_share },        { "fairness", sim_flow_fairness },
	{ "priority", sim_flow_priority },
};

static int
scenario_index(const char *name)
{
	for (size_t i = 0; i < RG_ARRAY_SIZE(scenarios); i++)
		if (strcmp(name, scenarios[i].name) == 0)
			return (int)i;
	return -1;
}

/* A goodput scenario's figures: per lane, the link, the queue, the controller's view. */
static void
print_goodput(const struct sim_config *c, const struct sim_result *r)
{
	double ref = sim_ref_rate(c), total = 0, lo = -1, hi = 0;
	double bdp = ref * 2 * c->delay_ms / 1e3;

	if (c->goal_goodput <= 0 && c->goal_share <= 0 && c->goal_queue_bdp <= 0)
		return;
	for (int l = 0; l < c->lanes && l < SIM_LANES_MAX; l++) {
		double g = sim_lane_goodput(r, l);
		const struct rg_lane_info *li = l < r->nlanes ? &r->lanes[l] : NULL;

		total += g;
		lo = lo < 0 ? g : RG_MIN(lo, g);
		hi = RG_MAX(hi, g);
		printf("  lane %d: goodput %.3f MB/s (%.1f %% of %.3f MB/s)", l, g / 1e6,
		       100 * g / ref, ref / 1e6);
		if (li != NULL)
			printf(", cc %s, pacing %.3f MB/s, btl_bw %.3f MB/s, cwnd %llu B, "
			       "min_rtt %.1f ms, lost %llu pkts",
			       rg_cc_state_name(li->cc_state), li->pacing_rate_bytes_per_s / 1e6,
			       li->btl_bw_bytes_per_s / 1e6, (unsigned long long)li->cwnd_bytes,
			       li->min_rtt_ns / 1e6, (unsigned long long)li->pkts_lost);
		printf("\n");
	}
	printf("  goodput total %.3f MB/s = %.1f %% of the link; lane share (min/max) %.3f; "
	       "link busy %.1f %%\n",
	       total / 1e6, 100 * total / ref, hi > 0 ? lo / hi : 0,
	       r->measure_s > 0 ? 100 * r->link_bytes / r->measure_s / ref : 0);
	printf("  bottleneck queue max %llu B = %.2f BDP while measuring, %llu B = %.2f BDP over "
	       "the run (BDP %.0f B, queue %llu B); tail drops %llu\n",
	       (unsigned long long)r->queue_max_measured, r->queue_max_measured / bdp,
	       (unsigned long long)r->queue_max_bytes, r->queue_max_bytes / bdp, bdp,
	       (unsigned long long)c->queue_bytes, (unsigned long long)r->queue_drops);
}

static int
anomaly_index(const char *name)
{
	for (int i = 0; i < SIM_ANOM_MAX; i++)
		if (strcmp(name, sim_anomaly_name(i)) == 0)
			return i;
	return -1;
}

static double
wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

enum {
	OPT_SEED = 256,
	OPT_SEEDS,
	OPT_DURATION,
	OPT_LOSS,
	OPT_BURST,
	OPT_DUP,
	OPT_REORDER,
	OPT_CORRUPT,
	OPT_JITTER,
	OPT_DELAY,
	OPT_PARTITIONS,
	OPT_CRASHES,
	OPT_STALL,
	OPT_RATE,
	OPT_STREAMS,
	OPT_GATEWAYS,
	OPT_LANES,
	OPT_DEMO,
	OPT_PROGRESS,
	OPT_EXPECT,
	OPT_QUIET,
	OPT_SCENARIO,
	OPT_HELP,
	OPT_PACE,
	OPT_PACING,
	OPT_BOTTLENECK,
	OPT_QUEUE,
	OPT_SEAL,
	OPT_FLOOD_STREAMS,
};

static const struct option options[] = {
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "seeds", required_argument, NULL, OPT_SEEDS },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "loss", required_argument, NULL, OPT_LOSS },
	{ "burst", required_argument, NULL, OPT_BURST },
	{ "dup", required_argument, NULL, OPT_DUP },
	{ "reorder", required_argument, NULL, OPT_REORDER },
	{ "corrupt", required_argument, NULL, OPT_CORRUPT },
	{ "jitter", required_argument, NULL, OPT_JITTER },
	{ "delay", required_argument, NULL, OPT_DELAY },
	{ "partitions", required_argument, NULL, OPT_PARTITIONS },
	{ "crashes", required_argument, NULL, OPT_CRASHES },
	{ "stall", required_argument, NULL, OPT_STALL },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "streams", required_argument, NULL, OPT_STREAMS },
	{ "gateways", required_argument, NULL, OPT_GATEWAYS },
	{ "lanes", required_argument, NULL, OPT_LANES },
	{ "demo", no_argument, NULL, OPT_DEMO },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "expect", required_argument, NULL, OPT_EXPECT },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "scenario", required_argument, NULL, OPT_SCENARIO },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "pace", required_argument, NULL, OPT_PACE },
	{ "pacing", required_argument, NULL, OPT_PACING },
	{ "bottleneck", required_argument, NULL, OPT_BOTTLENECK },
	{ "queue", required_argument, NULL, OPT_QUEUE },
	{ "seal", no_argument, NULL, OPT_SEAL },
	{ "flood-streams", required_argument, NULL, OPT_FLOOD_STREAMS },
	{ NULL, 0, NULL, 0 },
};

static int
apply_option(struct sim_config *c, int opt, const char *arg, double *seeds, double *seed)
{
	double v;

	switch (opt) {
	case OPT_SEED:
		return parse_double(arg, "seed", 0, 1e15, seed);
	case OPT_SEEDS:
		return parse_double(arg, "seeds", 1, 1e6, seeds);
	case OPT_DURATION:
		return parse_double(arg, "duration", 0.1, 3600, &c->duration_s);
	case OPT_LOSS:
		return parse_double(arg, "loss", 0, 0.5, &c->loss);
	case OPT_BURST:
		return parse_double(arg, "burst", 0, 0.5, &c->burst_enter);
	case OPT_DUP:
		return parse_double(arg, "dup", 0, 0.5, &c->dup);
	case OPT_REORDER:
		return parse_double(arg, "reorder", 0, 1, &c->reorder);
	case OPT_CORRUPT:
		return parse_double(arg, "corrupt", 0, 0.5, &c->corrupt);
	case OPT_JITTER:
		return parse_double(arg, "jitter", 0, 1000, &c->jitter_ms);
	case OPT_DELAY:
		return parse_double(arg, "delay", 0, 1000, &c->delay_ms);
	case OPT_PARTITIONS:
		return parse_double(arg, "partitions", 0, 10, &c->partitions_per_s);
	case OPT_CRASHES:
		return parse_double(arg, "crashes", 0, 10, &c->crashes_per_s);
	case OPT_STALL:
		return parse_double(arg, "stall", 0, 0.5, &c->stall);
	case OPT_PACE:
		return parse_double(arg, "pace", 0, 1e6, &c->pace_mbit_s);
	case OPT_PACING:
		if (strcmp(arg, "fixed") != 0 && strcmp(arg, "adaptive") != 0) {
			fprintf(stderr, "rg-sim: --pacing: 'fixed' or 'adaptive'\n");
			return -1;
		}
		c->pacing = strcmp(arg, "adaptive") == 0 ? RG_PACING_ADAPTIVE : RG_PACING_FIXED;
		return 0;
	case OPT_BOTTLENECK:
		return parse_double(arg, "bottleneck", 0, 1e5, &c->bottleneck_mbit_s);
	case OPT_QUEUE:
		if (parse_double(arg, "queue", 1500, 1e10, &v) != 0)
			return -1;
		c->queue_bytes = (uint64_t)v;
		return 0;
	case OPT_FLOOD_STREAMS:
		/* Latency scenarios: streams in each flood namespace (the scheduler is per stream). */
		if (parse_double(arg, "flood-streams", 1, 256, &v) != 0)
			return -1;
		for (int n = 0; n < c->nns; n++)
			if (c->ns[n].flood)
				c->ns[n].streams = (int)v;
		return 0;
	case OPT_RATE:
		return parse_double(arg, "rate", 1, 1e6, &c->records_per_s);
	case OPT_STREAMS:
		if (parse_double(arg, "streams", 1, 64, &v) != 0)
			return -1;
		c->streams_per_pair = (int)v;
		return 0;
	case OPT_GATEWAYS:
		if (parse_double(arg, "gateways", 2, SIM_GW_MAX, &v) != 0)
			return -1;
		c->gateways = (int)v;
		return 0;
	case OPT_LANES:
		if (parse_double(arg, "lanes", 1, 16, &v) != 0)
			return -1;
		c->lanes = (int)v;
		return 0;
	}
	return -1;
}

struct cli {
	struct sim_config cfg;
	double seeds, seed;
	const char *expect;
	int quiet, demo, expect_idx;
	char repro[REPRO_BYTES]; /* " --opt value" for every option given but --seed(s) */
	size_t repro_len;
};

/* Appends s to the repro options, single-quoted for a shell unless it is plain. */
static void
repro_word(struct cli *o, const char *s)
{
	int plain = *s != '\0' && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					    "0123456789_+-.,:=/") == strlen(s);
	size_t room = sizeof(o->repro) - o->repro_len;
	int n;

	if (plain || strchr(s, '\'') != NULL) /* an option value never holds a quote */
		n = snprintf(o->repro + o->repro_len, room, " %s", s);
	else
		n = snprintf(o->repro + o->repro_len, room, " '%s'", s);
	if (n > 0 && (size_t)n < room)
		o->repro_len += (size_t)n;
}

/* Notes option opt (and its argument) for the repro line. */
static void
repro_option(struct cli *o, int opt, const char *arg)
{
	char name[40];

	if (opt == OPT_SEED || opt == OPT_SEEDS)
		return; /* the repro line says --seed itself */
	for (const struct option *x = options; x->name != NULL; x++)
		if (x->val == opt) {
			snprintf(name, sizeof(name), "--%s", x->name);
			repro_word(o, name);
			if (x->has_arg != no_argument && arg != NULL)
				repro_word(o, arg);
			return;
		}
}

static void
print_repro(const char *argv0, const struct cli *o, uint64_t seed)
{
	printf("  repro: %s%s --seed %llu\n", argv0, o->repro, (unsigned long long)seed);
}

/* Parses argv into cli. Returns -1 to go on, else the exit status. */
static int
parse_cli(int argc, char **argv, struct cli *o)
{
	char why[256];
	int opt, sc = 0;

	/* The scenario comes first so that flags override it, whatever their order. */
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--scenario") == 0 && scenario_index(argv[i + 1]) >= 0)
			sc = scenario_index(argv[i + 1]);
	scenarios[sc].fill(&o->cfg);
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		repro_option(o, opt, optarg);
		switch (opt) {
		case OPT_DEMO:
			o->demo = o->cfg.progress = 1;
			break;
		case OPT_SEAL:
			o->cfg.seal = 1;
			break;
		case OPT_PROGRESS:
			o->cfg.progress = 1;
			break;
		case OPT_QUIET:
			o->quiet = 1;
			break;
		case OPT_EXPECT:
			o->expect = optarg;
			break;
		case OPT_SCENARIO:
			if (scenario_index(optarg) < 0) {
				fprintf(
				    stderr,
				    "rg-sim: --scenario: faults, clean, relay, fixed, adaptive, "
				    "adaptive_lossy, share, fairness or priority\n");
				return EX_USAGE_;
			}
			break;
		case OPT_HELP:
			usage(stdout);
			return 0;
		case '?':
			usage(stderr);
			return EX_USAGE_;
		default:
			if (apply_option(&o->cfg, opt, optarg, &o->seeds, &o->seed) != 0)
				return EX_USAGE_;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "rg-sim: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return EX_USAGE_;
	}
	if (o->expect != NULL && (o->expect_idx = anomaly_index(o->expect)) < 0) {
		fprintf(stderr, "rg-sim: --expect %s: not an anomaly name\n", o->expect);
		return EX_USAGE_;
	}
	if (sim_config_check(&o->cfg, why, sizeof(why)) != 0) {
		fprintf(stderr, "rg-sim: %s\n", why);
		usage(stderr);
		return EX_USAGE_;
	}
	return -1;
}

static void
add_cb(void *ctx, const struct sim_result *r)
{
	add(ctx, r);
}

/* A latency scenario's seed (sim_flow_latency.c): two runs, one verdict. */
static void
flow_seed(struct cli *o, const char *argv0, struct totals *t)
{
	char msg[512];

	int rc = sim_flow_pair(&o->cfg, o->quiet, add_cb, t, msg, sizeof(msg));

	t->seeds--; /* two runs, one seed */
	if (rc == 0) {
		if (!o->quiet)
			printf("seed %llu ok\n", (unsigned long long)o->cfg.seed);
		return;
	}
	t->failed++;
	printf("seed %llu FAILED: %s\n", (unsigned long long)o->cfg.seed, msg);
	print_repro(argv0, o, o->cfg.seed);
}

static void
sweep(struct cli *o, const char *argv0, struct totals *t)
{
	struct sim_config *cfg = &o->cfg;

	for (uint64_t i = 0; i < (uint64_t)o->seeds; i++) {
		struct sim_result r;
		char msg[512];

		cfg->seed = (uint64_t)o->seed + i;
		if (cfg->nns > 0) {
			flow_seed(o, argv0, t);
			fflush(stdout);
			continue;
		}
		sim_run(cfg, &r);
		add(t, &r);
		if (!o->quiet)
			print_goodput(cfg, &r);
		if (sim_verdict(cfg, &r, msg, sizeof(msg)) != 0) {
			t->failed++;
			if (o->expect == NULL || !o->quiet) {
				printf("seed %llu FAILED: %s\n", (unsigned long long)cfg->seed,
				       msg);
				print_repro(argv0, o, cfg->seed);
			}
		} else if (!o->quiet && (o->seeds > 1 || o->demo)) {
			printf("seed %llu ok: %llu records checked, %llu events, %.1f s simulated, "
			       "healed in %.2f s\n",
			       (unsigned long long)cfg->seed, (unsigned long long)r.checked,
			       (unsigned long long)r.events, r.sim_seconds, r.heal_seconds);
		}
		fflush(stdout);
	}
}

static void
print_verdict(const struct totals *t)
{
	printf("verdict: %s — %llu records published, %llu delivered, %llu checked; lost %llu, "
	       "duplicated %llu, reordered %llu, gaps %llu, corrupt accepted %llu\n",
	       t->failed == 0 ? "PASS" : "FAIL", (unsigned long long)t->published,
	       (unsigned long long)t->delivered, (unsigned long long)t->checked,
	       (unsigned long long)t->anomalies[SIM_ANOM_lost],
	       (unsigned long long)t->anomalies[SIM_ANOM_duplicated],
	       (unsigned long long)t->anomalies[SIM_ANOM_reordered],
	       (unsigned long long)t->anomalies[SIM_ANOM_gaps],
	       (unsigned long long)t->anomalies[SIM_ANOM_corrupt_accepted]);
}

int
main(int argc, char **argv)
{
	struct cli o = { .seeds = 1, .seed = 1, .expect_idx = -1 };
	struct totals t = { 0 };
	double t0;
	int rc = parse_cli(argc, argv, &o);

	if (rc >= 0)
		return rc;
	if (o.demo)
		printf("repgate simulator: %d gateways, %d lanes per pair, %d streams, %.0f s of "
		       "faults (loss, bursts, duplication, reordering, corruption, partitions, "
		       "crashes), then healed\n",
		       o.cfg.gateways, o.cfg.lanes,
		       o.cfg.gateways * (o.cfg.gateways - 1) * o.cfg.streams_per_pair,
		       o.cfg.duration_s);
	t0 = wall_now();
	sweep(&o, argv[0], &t);
	print_json(&t, wall_now() - t0, t.failed == 0);
	if (o.expect != NULL) {
		/* A canary run: it must have failed, with the named anomaly. */
		int caught = t.failed > 0 && t.anomalies[o.expect_idx] > 0;

		printf("canary %s: %s (%s = %llu)\n", o.expect, caught ? "caught" : "NOT CAUGHT",
		       o.expect, (unsigned long long)t.anomalies[o.expect_idx]);
		return caught ? 0 : 1;
	}
	if (o.demo)
		print_verdict(&t);
	return t.failed == 0 ? 0 : 1;
}
