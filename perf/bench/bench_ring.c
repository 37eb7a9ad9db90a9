/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rg-bench-ring: the DPDK rings between the daemon's threads (apps/app.c),
 * burst enqueue then burst dequeue of arg objects on one lcore, with the
 * flags and sizes the daemon creates them with:
 *   ring/ptr_spsc/N     the ingress ring: pointers, 4096, RING_F_SP_ENQ | RING_F_SC_DEQ
 *   ring/elem56_spsc/N  the delivery ring: struct rg_delivery (56 bytes), 16384, SP/SC
 *   ring/ptr_mpsc/N     a dispatch ring: pointers, 4096, RING_F_SC_DEQ (any worker enqueues)
 * N = 1, 8, 32 (workers.burst default), 256. op = object through the ring
 * (one enqueue and one dequeue). Both ends run on the same core, so this is
 * the ring's instruction cost with its cache lines hot, not the cross-core
 * transfer of a real producer and consumer.
 *
 * Takes the Google Benchmark flags only: the EAL runs with its own fixed
 * arguments (no hugepages, 256 MiB, no PCI, its own --file-prefix, nothing
 * left on disk).
 */
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#include "rgbench.h"
#include "worker.h"

#define OBJS_MAX 256
#define PASS_OPS 64 /* objects per loop pass at least: small bursts repeat to amortise the loop */

struct ring_kind {
	const char *name;
	rg_bench_fn fn;
	unsigned size;
	unsigned esize;
	unsigned flags;
};

static void bench_ptr(struct rg_bench_state *st, const void *ctx);
static void bench_delivery(struct rg_bench_state *st, const void *ctx);

static const struct ring_kind kinds[] = {
	{ "ring/ptr_spsc", bench_ptr, 4096, sizeof(void *), RING_F_SP_ENQ | RING_F_SC_DEQ },
	{ "ring/elem56_spsc", bench_delivery, 16384, sizeof(struct rg_delivery),
	  RING_F_SP_ENQ | RING_F_SC_DEQ },
	{ "ring/ptr_mpsc", bench_ptr, 4096, sizeof(void *), RING_F_SC_DEQ },
};

static const int64_t bursts[] = { 1, 8, 32, 256 };

static struct rte_ring *
ring_create(struct rg_bench_state *st, const struct ring_kind *k)
{
	struct rte_ring *r =
	    rte_ring_create_elem("rg_bench", k->esize, k->size, (int)rte_socket_id(), k->flags);

	if (r == NULL)
		rg_bench_skip_with_error(st, rte_strerror(rte_errno));
	return r;
}

static void
report(struct rg_bench_state *st, struct rte_ring *r, uint64_t moved, unsigned esize)
{
	if (moved != (uint64_t)rg_bench_iterations(st))
		rg_bench_skip_with_error(st, "a burst did not go through whole");
	rte_ring_free(r);
	rg_bench_set_items(st, (int64_t)moved);
	rg_bench_set_bytes(st, (int64_t)(moved * esize));
	rg_bench_set_label(st, esize == sizeof(void *) ? "pointer" : "56-byte element");
}

/* Pointer rings, through the calls the workers use (the element size is a constant there). */
static void
bench_ptr(struct rg_bench_state *st, const void *ctx)
{
	unsigned n = (unsigned)rg_bench_arg(st, 0);
	unsigned reps = n >= PASS_OPS ? 1 : PASS_OPS / n;
	static void *in[OBJS_MAX], *out[OBJS_MAX];
	struct rte_ring *r = ring_create(st, ctx);
	uint64_t moved = 0;

	if (r == NULL)
		return;
	for (unsigned i = 0; i < OBJS_MAX; i++)
		in[i] = &in[i];
	while (rg_bench_keep_running_batch(st, (int64_t)reps * n)) {
		for (unsigned i = 0; i < reps; i++) {
			unsigned e = rte_ring_enqueue_burst(r, in, n, NULL);

			moved += rte_ring_dequeue_burst(r, out, e, NULL);
		}
		rg_bench_do_not_optimize(out);
	}
	report(st, r, moved, sizeof(void *));
}

/* The delivery ring: struct rg_delivery elements, copied in and out of the ring. */
static void
bench_delivery(struct rg_bench_state *st, const void *ctx)
{
	unsigned n = (unsigned)rg_bench_arg(st, 0);
	unsigned reps = n >= PASS_OPS ? 1 : PASS_OPS / n;
	static struct rg_delivery in[OBJS_MAX], out[OBJS_MAX];
	struct rte_ring *r = ring_create(st, ctx);
	uint64_t moved = 0;

	if (r == NULL)
		return;
	for (unsigned i = 0; i < OBJS_MAX; i++)
		in[i].seq = i + 1;
	while (rg_bench_keep_running_batch(st, (int64_t)reps * n)) {
		for (unsigned i = 0; i < reps; i++) {
			unsigned e = rte_ring_enqueue_burst_elem(r, in, sizeof(in[0]), n, NULL);

			moved += rte_ring_dequeue_burst_elem(r, out, sizeof(out[0]), e, NULL);
		}
		rg_bench_do_not_optimize(out);
	}
	report(st, r, moved, sizeof(struct rg_delivery));
}

int
main(int argc, char **argv)
{
	char prefix[64], rundir[PATH_MAX];
	char *eal[] = {
		argv[0],
		"--no-huge",
		"-m",
		"256",
		"--no-pci",
		"--no-shconf",
		"--no-telemetry",
		prefix,
		"--log-level=*:error",
	};
	int rc;

	snprintf(prefix, sizeof(prefix), "--file-prefix=rg-bench-%d", (int)getpid());
	if (rte_eal_init((int)RG_ARRAY_SIZE(eal), eal) < 0) {
		fprintf(stderr, "rg-bench-ring: EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	for (size_t i = 0; i < RG_ARRAY_SIZE(kinds); i++)
		rg_bench_register(kinds[i].name, kinds[i].fn, &kinds[i], bursts,
				  (int)RG_ARRAY_SIZE(bursts));
	rc = rg_bench_main(argc, argv);
	/* --no-shconf leaves only the empty runtime directory behind: remove it too. */
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(rundir);
	return rc;
}
