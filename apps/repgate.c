/* SPDX-License-Identifier: Apache-2.0 */
/*
 * repgate — the gateway daemon.
 *
 *   repgate --profile FILE [--set key=value]... [EAL args...]
 *   repgate --check-profile FILE [--set key=value]...
 *
 * Loads and checks the profile (every error as FILE:LINE and a non-zero exit
 * before anything starts), starts DPDK, opens the port, runs one worker per
 * worker lcore and, on the main lcore, the built-in load generator or
 * verifying consumer the profile asks for. SIGINT/SIGTERM stop it cleanly:
 * workers say CLOSE and drain, the port stops, final counters and the
 * verdict are printed. SIGUSR1 partitions the emulated WAN, SIGUSR2 heals it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "app.h"
#include "loadgen.h"
#include "profile.h"
#include "telemetry.h"
#include "worker.h"

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t partition_request; /* 1 partition, 2 heal, 0 nothing pending */

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		partition_request = 1;
	else if (sig == SIGUSR2)
		partition_request = 2;
	else
		stop_requested = 1;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: repgate --profile FILE [--set key=value]... [EAL args...]\n"
		   "       repgate --check-profile FILE [--set key=value]...\n");
}

/*
 * Our options come first; the first argument that is not ours starts the EAL's.
 * 0, 1 after --help (printed), or -1 after printing why not.
 */
static int
parse_args(int argc, char **argv, struct rg_app *app)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if ((strcmp(a, "--profile") == 0 || strcmp(a, "--check-profile") == 0) &&
		    i + 1 < argc) {
			app->profile_path = argv[++i];
			app->check_only = strcmp(a, "--check-profile") == 0;
		} else if (strcmp(a, "--set") == 0 && i + 1 < argc) {
			if (app->nsets == RG_APP_SETS_MAX) {
				fprintf(stderr, "repgate: too many --set (at most %d)\n",
					RG_APP_SETS_MAX);
				return -1;
			}
			app->sets[app->nsets++] = argv[++i];
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 1;
		} else if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else {
			break;
		}
	}
	app->eal_argc = argc - i;
	app->eal_argv = argv + i;
	if (app->profile_path == NULL) {
		usage(stderr);
		return -1;
	}
	return 0;
}

static int
load_profile(struct rg_app *app)
{
	char err[512] = "";

	if (rg_profile_load(app->profile_path, &app->prof, err, sizeof(err)) != 0)
		goto bad;
	for (int i = 0; i < app->nsets; i++)
		if (rg_profile_set(&app->prof, app->sets[i], err, sizeof(err)) != 0)
			goto bad;
	if (rg_profile_validate(&app->prof, err, sizeof(err)) != 0 ||
	    rg_app_check_profile(&app->prof, err, sizeof(err)) != 0)
		goto bad;
	return 0;
bad:
	fprintf(stderr, "repgate: %s\n", err);
	return -1;
}

/* argv for rte_eal_init: ours, plus a per-gateway file prefix unless one was given. */
static int
eal_init(struct rg_app *app, const char *argv0)
{
	static char prefix[64];
	char *argv[128];
	int argc = 0, have_prefix = 0, rc;

	if (app->eal_argc > (int)RG_ARRAY_SIZE(argv) - 4) {
		fprintf(stderr, "repgate: too many EAL arguments\n");
		return -1;
	}
	argv[argc++] = (char *)argv0;
	for (int i = 0; i < app->eal_argc; i++) {
		have_prefix |= strncmp(app->eal_argv[i], "--file-prefix", 13) == 0;
		argv[argc++] = app->eal_argv[i];
	}
	if (!have_prefix) {
		snprintf(prefix, sizeof(prefix), "--file-prefix=rg-gw%u", rg_app_gateway_id(app));
		argv[argc++] = prefix;
	}
	argv[argc] = NULL;
	rc = rte_eal_init(argc, argv);
	if (rc < 0) {
		fprintf(stderr, "repgate: EAL init failed: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * RG_NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void
apply_partition_request(struct rg_app *app)
{
	int req = partition_request;

	if (req == 0)
		return;
	partition_request = 0;
	for (uint16_t w = 0; w < app->nworkers; w++)
		if (app->wcfg.wan_on)
			rg_wanem_set_partition(&app->workers[w].wan, req == 1);
	printf("repgate: WAN %s\n", req == 1 ? "partitioned" : "healed");
	fflush(stdout);
}

/* The main lcore's loop: the load role, progress lines, signals. */
static void
main_loop(struct rg_app *app)
{
	uint64_t t0 = mono_ns();

	while (!stop_requested) {
		uint64_t now = mono_ns() - t0;
		enum rg_load_step s = RG_LOAD_IDLE;

		apply_partition_request(app);
		rg_app_watch_port(app, now);
		if (app->lg != NULL) {
			s = rg_loadgen_step(app->lg, now);
			if (rg_loadgen_progress(app->lg, now, stdout) &&
			    (now / RG_NS_PER_S) != (app->peers_shown_ns / RG_NS_PER_S)) {
				rg_app_print_peers(app, now, stdout); /* about once a second */
				app->peers_shown_ns = now;
			}
		}
		if (s == RG_LOAD_DONE)
			break;
		if (s == RG_LOAD_IDLE) {
			/*
			 * Share the CPUs politely: 50 µs between turns of a load role; 10 ms
			 * without one (a relay: only signals and the port watch to serve, and a
			 * signal ends the sleep), which took 0.16 CPU of an idle gateway.
			 */
			struct timespec ts = { 0, app->lg != NULL ? 50 * 1000 : 10 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
	}
	app->run_ns = mono_ns() - t0;
}

/* telemetry.linger_s: once the load finished, telemetry serves the final figures a while. */
static void
linger(struct rg_app *app)
{
	double s = app->prof.telemetry.linger_s;
	uint64_t end = mono_ns() + (uint64_t)(s * 1e9);

	if (s <= 0 || stop_requested)
		return;
	printf("repgate: load finished: telemetry serves until SIGTERM, at most %.0f s more\n", s);
	fflush(stdout);
	while (!stop_requested && mono_ns() < end) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
}

int
main(int argc, char **argv)
{
	struct rg_app *app = calloc(1, sizeof(*app));
	int rc = 1, args;

	if (app == NULL)
		return 1;
	args = parse_args(argc, argv, app);
	if (args != 0 || load_profile(app) != 0) {
		rc = args == 1 ? 0 : 1;
		goto out;
	}
	if (app->check_only) {
		rg_profile_dump(&app->prof, stdout);
		printf("# %s: ok\n", app->profile_path);
		rc = 0;
		goto out;
	}
	if (eal_init(app, argv[0]) != 0)
		goto out;
	if (rg_telemetry_register() != 0)
		fprintf(stderr, "repgate: warning: the /repgate/ telemetry commands could not be "
				"registered\n");
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_signal);
	signal(SIGUSR2, on_signal);
	if (rg_app_start(app) == 0) {
		main_loop(app);
		rc = rg_app_stop(app);
		linger(app);
	}
	rg_app_fini(app);
	rte_eal_cleanup();
out:
	free(app); /* every exit: ASan's leak check fails a run that forgets it */
	return rc;
}
