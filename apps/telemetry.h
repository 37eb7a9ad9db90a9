/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Telemetry (DESIGN §4.9): DPDK telemetry commands under /repgate/, served by
 * DPDK's telemetry thread on /var/run/dpdk/<file-prefix>/dpdk_telemetry.v2, so
 * `dpdk-telemetry.py -f <file-prefix>` and `repgatectl` (apps/repgatectl) read
 * them. docs/operations.md lists every command and field.
 *
 *   /repgate/status       gateway, region, role, uptime, workers, peers, records
 *   /repgate/peers        per peer: liveness, phi, silence, incarnation, route, srtt
 *   /repgate/lanes        per lane: RTTs, in flight, acked, lost, PTOs, rates
 *   /repgate/streams,N    the N streams with the largest lag (default 10, at most 32)
 *   /repgate/namespaces   per namespace: streams, records, lag, active region, version
 *   /repgate/workers      per worker: cycles, loops, frames, every worker counter
 *   /repgate/wan[,k=v,..] the WAN emulator's settings; with parameters, changes them
 *
 * Threads. Handlers run on DPDK's telemetry threads (one per client) and on
 * the metrics server's thread (apps/metrics.c). They read only what is safe
 * from any thread: rg_worker_stats() (sequence-locked snapshots), the
 * rg_ctl_* copies, the load role's published watermarks, and the app's
 * fields written before rg_telemetry_attach() and not after. A mutex (`lock`
 * in telemetry.c) orders readers against rg_telemetry_detach(): after detach
 * returns no handler is inside the app, so the app may be freed. DPDK 22.11
 * cannot unregister a command: a handler that runs after detach answers
 * {"error": "not running"}. No worker ever takes the lock.
 */
#ifndef RG_APPS_TELEMETRY_H
#define RG_APPS_TELEMETRY_H

#include <stddef.h>
#include <stdint.h>

#include "ctl.h"
#include "wanem.h"

struct rg_app;

/* Registers the /repgate/ commands (once per process, after rte_eal_init). 0 or -errno. */
int rg_telemetry_register(void);
/* The app the handlers read from now on (at the end of rg_app_start). */
void rg_telemetry_attach(struct rg_app *app);
/*
 * First in rg_app_stop: the workers and the control thread are about to stop.
 * Handlers keep answering from snapshots (the last membership view is kept)
 * and refuse commands from now on.
 */
void rg_telemetry_quiesce(struct rg_app *app);
/* No handler reads the app after this returns (before the app's state is freed). */
void rg_telemetry_detach(void);

/* For readers of the app (the metrics server): the app or NULL; always pair with release. */
struct rg_app *rg_telemetry_hold(void);
void rg_telemetry_release(void);

/* Helpers for holders. */
uint64_t rg_telemetry_uptime_ns(void);
const char *rg_telemetry_role(const struct rg_app *app);
/* The region whose generator writes the namespaces (the active region), "" if none. */
const char *rg_telemetry_active_region(const struct rg_app *app);
/* The peers: the control thread's view if it runs, else the profile's (state "unknown"). */
unsigned rg_telemetry_peers(struct rg_app *app, struct rg_ctl_peer_view *out, unsigned max,
			    int *known);
/* The control thread's counters: 1, or 0 when it does not run (out untouched). */
int rg_telemetry_ctl_counters(struct rg_app *app, struct rg_ctl_counters *out);
/* The emulator's settings as last set (profile, then /repgate/wan); 0 if it is off. */
int rg_telemetry_wan(struct rg_app *app, struct rg_wanem_config *out);
/*
 * Applies "key=value,key=value" (keys as in the profile's wan group, plus
 * partition=on|off) to the current settings and sends them to every worker
 * through the control thread. 0, or -errno with a message in err; on error
 * nothing changed (unless a worker refused after others took it: err says so).
 */
int rg_telemetry_wan_set(struct rg_app *app, const char *params, char *err, size_t errlen);

#endif /* RG_APPS_TELEMETRY_H */
