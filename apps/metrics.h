/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prometheus metrics over HTTP (DESIGN §4.9): GET /metrics on
 * telemetry.metrics_addr:telemetry.metrics_port, the text exposition format
 * (apps/prom.h), served by apps/httpd.c on a thread of its own, with its
 * connection limits and request deadline. Every name starts with repgate_ and
 * every sample carries gateway="<id>"; docs/operations.md lists them all.
 *
 * The server's thread reads the app through rg_telemetry_hold() (the same
 * guard as the DPDK telemetry commands), so it only reads snapshots; it never
 * touches a worker. Rendering allocates (on the server's thread: slow path).
 */
#ifndef RG_APPS_METRICS_H
#define RG_APPS_METRICS_H

#include <stdint.h>

#include "prom.h"

struct rg_app;
struct rg_metrics;

/* The HTTP server's limits (apps/httpd.h; the telemetry.metrics_* knobs). */
struct rg_metrics_limits {
	unsigned conns_max, conns_per_ip, timeout_s;
};

/* Starts the server on addr (IPv4, host order) and port. NULL after printing why. */
struct rg_metrics *rg_metrics_start(uint32_t addr, uint16_t port,
				    const struct rg_metrics_limits *lim);
/* Stops it and waits for its thread (safe with NULL). */
void rg_metrics_stop(struct rg_metrics *m);

/* Writes every metric of app into p (the caller holds the telemetry guard). */
void rg_metrics_render(struct rg_app *app, struct rg_prom *p);

#endif /* RG_APPS_METRICS_H */
