/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rg-sim: runs the deterministic simulator over one seed or a sweep and ends
 * with one JSON line. Exit 0 when every seed passes (sim.h: sim_verdict).
 *
 *   rg-sim --seed 7                 one seed, exactly reproducible
 *   rg-sim --seeds 50               the default sweep (seeds 1..50)
 *   rg-sim --demo                   one seed with a progress line per simulated second
 *   rg-sim --expect lost            pass only if the run FAILS with lost > 0 (canaries)
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

struct totals {
	uint64_t seeds, failed, events, published, delivered, checked, bytes, packets, rtx;
	double sim_seconds, heal_max;
	uint64_t anomalies[SIM_ANOM_MAX];
	uint64_t faults[SIM_FAULT_MAX];
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: rg-sim [--scenario faults|clean] [--seed S] [--seeds N] [--duration SEC]\n"
		"              [--loss P] [--burst P] [--dup P] [--reorder P] [--corrupt P]\n"
		"              [--jitter MS] [--delay MS] [--partitions PER_S] [--crashes PER_S]\n"
		"              [--stall P] [--rate REC_PER_S] [--streams N] [--gateways N] "
		"[--lanes N]\n"
		"              [--pace MBIT_S_PER_LANE]\n"
		"              [--demo] [--progress] [--expect ANOMALY] [--quiet]\n");
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
	t->sim_seconds += r->sim_seconds;
	if (r->heal_seconds > t->heal_max)
		t->heal_max = r->heal_seconds;
	for (int i = 0; i < SIM_ANOM_MAX; i++)
		t->anomalies[i] += r->anomalies[i];
	for (int i = 0; i < SIM_FAULT_MAX; i++)
		t->faults[i] += r->faults[i];
}

static void
print_json(const struct totals *t, double wall, int pass)
{
	printf("{\"seeds\":%llu,\"failed_seeds\":%llu,\"events\":%llu,\"sim_seconds\":%.1f,"
	       "\"wall_seconds\":%.1f,\"records_published\":%llu,\"records_delivered\":%llu,"
	       "\"records_checked\":%llu,\"bytes_checked\":%llu,\"packets\":%llu,"
	       "\"retransmitted_frames\":%llu,\"max_heal_seconds\":%.3f",
	       (unsigned long long)t->seeds, (unsigned long long)t->failed,
	       (unsigned long long)t->events, t->sim_seconds, wall,
	       (unsigned long long)t->published, (unsigned long long)t->delivered,
	       (unsigned long long)t->checked, (unsigned long long)t->bytes,
	       (unsigned long long)t->packets, (unsigned long long)t->rtx, t->heal_max);
	for (int i = 0; i < SIM_ANOM_MAX; i++)
		printf(",\"%s\":%llu", sim_anomaly_name(i), (unsigned long long)t->anomalies[i]);
	printf(",\"faults\":{");
	for (int i = 0; i < SIM_FAULT_MAX; i++)
		printf("%s\"%s\":%llu", i ? "," : "", sim_fault_name(i),
		       (unsigned long long)t->faults[i]);
	printf("},\"verdict\":\"%s\"}\n", pass ? "pass" : "fail");
}

static void
print_repro(const char *argv0, const struct sim_config *c)
{
	printf("  repro: %s --scenario %s --seed %llu --duration %g --loss %g --burst %g --dup %g "
	       "--reorder %g --corrupt %g --jitter %g --partitions %g --crashes %g --stall %g "
	       "--pace %g\n",
	       argv0, strcmp(c->name, "replication_clean") == 0 ? "clean" : "faults",
	       (unsigned long long)c->seed, c->duration_s, c->loss, c->burst_enter, c->dup,
	       c->reorder, c->corrupt, c->jitter_ms, c->partitions_per_s, c->crashes_per_s,
	       c->stall, c->pace_mbit_s);
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
};

/* Parses argv into cli. Returns -1 to go on, else the exit status. */
static int
parse_cli(int argc, char **argv, struct cli *o)
{
	int opt, clean = 0;

	/* The scenario comes first so that flags override it, whatever their order. */
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--scenario") == 0)
			clean = strcmp(argv[i + 1], "clean") == 0;
	if (clean)
		sim_replication_clean(&o->cfg);
	else
		sim_replication_faults(&o->cfg);
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case OPT_DEMO:
			o->demo = o->cfg.progress = 1;
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
			if (strcmp(optarg, "clean") != 0 && strcmp(optarg, "faults") != 0) {
				fprintf(stderr, "rg-sim: --scenario: 'faults' or 'clean'\n");
				return 2;
			}
			break;
		case OPT_HELP:
			usage(stdout);
			return 0;
		case '?':
			usage(stderr);
			return 2;
		default:
			if (apply_option(&o->cfg, opt, optarg, &o->seeds, &o->seed) != 0)
				return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "rg-sim: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (o->expect != NULL && (o->expect_idx = anomaly_index(o->expect)) < 0) {
		fprintf(stderr, "rg-sim: --expect %s: not an anomaly name\n", o->expect);
		return 2;
	}
	return -1;
}

static void
sweep(struct cli *o, const char *argv0, struct totals *t)
{
	struct sim_config *cfg = &o->cfg;

	for (uint64_t i = 0; i < (uint64_t)o->seeds; i++) {
		struct sim_result r;
		char msg[512];

		cfg->seed = (uint64_t)o->seed + i;
		sim_run(cfg, &r);
		add(t, &r);
		if (sim_verdict(cfg, &r, msg, sizeof(msg)) != 0) {
			t->failed++;
			if (o->expect == NULL || !o->quiet) {
				printf("seed %llu FAILED: %s\n", (unsigned long long)cfg->seed,
				       msg);
				print_repro(argv0, cfg);
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
