/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "httpd.h"
#include "metrics.h"
#include "telemetry.h"

#define BUF_FIRST_BYTES (256u << 10)
#define BUF_MAX_BYTES   (64u << 20)
#define NS_MAX          256 /* namespaces with their own series; the rest only in the totals */

struct rg_metrics {
	struct rg_httpd *h;
};

/* What one render reads once: every worker's snapshot. */
struct view {
	struct rg_app *app;
	struct rg_worker_stats *st; /* nworkers */
	char gw[8];
};

static void
base(const struct view *v, struct rg_prom_labels *l)
{
	rg_prom_labels_init(l);
	rg_prom_label(l, "gateway", v->gw);
}

static void
lower(char *out, size_t len, const char *s)
{
	size_t i = 0;

	for (; s[i] != '\0' && i + 1 < len; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[i] = '\0';
}

static void
gauge1(struct rg_prom *p, const struct view *v, const char *name, const char *help, double x)
{
	struct rg_prom_labels l;

	base(v, &l);
	rg_prom_family(p, name, "gauge", help);
	rg_prom_f64(p, name, &l, x);
}

static void
counter1(struct rg_prom *p, const struct view *v, const char *name, const char *help, uint64_t x)
{
	struct rg_prom_labels l;

	base(v, &l);
	rg_prom_family(p, name, "counter", help);
	rg_prom_u64(p, name, &l, x);
}

static void
render_gateway(struct rg_prom *p, const struct view *v)
{
	struct rg_app *app = v->app;
	struct rg_loadgen_totals t;
	struct rg_prom_labels l;

	base(v, &l);
	rg_prom_label(&l, "region", app->prof.gateway.region);
	rg_prom_label(&l, "name", app->prof.gateway.name);
	rg_prom_label(&l, "role", rg_telemetry_role(app));
	rg_prom_family(p, "repgate_info", "gauge", "Always 1; the gateway's identity in labels.");
	rg_prom_u64(p, "repgate_info", &l, 1);
	gauge1(p, v, "repgate_uptime_seconds", "Seconds since the gateway started.",
	       (double)rg_telemetry_uptime_ns() / 1e9);
	gauge1(p, v, "repgate_workers", "Worker lcores.", app->nworkers);
	if (app->lg == NULL)
		return;
	rg_loadgen_totals(app->lg, &t);
	if (rg_loadgen_role(app->lg) == RG_LOAD_GENERATOR) {
		counter1(p, v, "repgate_records_published_total",
			 "Records the load generator made (verdict records_published).",
			 t.published);
		counter1(p, v, "repgate_records_acked_total",
			 "Records the peer acked: the sum of the streams' acked watermarks.",
			 t.acked);
	} else {
		counter1(p, v, "repgate_records_delivered_total",
			 "Records delivered to the consumer and checked (verdict records_checked).",
			 t.checked);
	}
	counter1(p, v, "repgate_records_applied_total",
		 "Records applied by the consumer: the sum of the streams' applied watermarks "
		 "(verdict records_delivered).",
		 t.applied);
	gauge1(p, v, "repgate_lag_records",
	       "Generator: published - applied; consumer: delivered - applied; over all streams.",
	       (double)t.lag);
}

/* One family of per-namespace values; x[n] for n < nns. */
static void
ns_family(struct rg_prom *p, const struct view *v, const char *name, const char *type,
	  const char *help, const uint64_t *x, uint32_t nns)
{
	rg_prom_family(p, name, type, help);
	for (uint32_t n = 0; n < nns; n++) {
		struct rg_prom_labels l;

		base(v, &l);
		rg_prom_label_u64(&l, "namespace", n);
		rg_prom_label(&l, "active_region", rg_telemetry_active_region(v->app));
		rg_prom_u64(p, name, &l, x[n]);
	}
}

static void
render_namespaces(struct rg_prom *p, const struct view *v)
{
	const struct rg_loadgen *lg = v->app->lg;
	uint64_t *a = calloc(4 * NS_MAX, sizeof(uint64_t)), *streams = a, *applied = a + NS_MAX;
	uint64_t *lag = a + 2 * NS_MAX, *lag_max = a + 3 * NS_MAX;
	uint32_t nns;

	if (lg == NULL || a == NULL) {
		free(a);
		return;
	}
	nns = RG_MIN(rg_loadgen_namespaces(lg), (uint32_t)NS_MAX);
	for (uint32_t k = 0; k < rg_loadgen_streams(lg); k++) {
		struct rg_loadgen_stream_view s;

		rg_loadgen_stream_view(lg, k, &s);
		if (s.ns >= nns)
			continue;
		streams[s.ns]++;
		applied[s.ns] += s.applied;
		lag[s.ns] += s.lag;
		lag_max[s.ns] = RG_MAX(lag_max[s.ns], s.lag);
	}
	ns_family(p, v, "repgate_namespace_streams", "gauge", "Streams in the namespace.", streams,
		  nns);
	ns_family(p, v, "repgate_namespace_applied_records_total", "counter",
		  "Records of the namespace applied (sum of its streams' applied watermarks).",
		  applied, nns);
	ns_family(p, v, "repgate_namespace_lag_records", "gauge",
		  "Lag of the namespace, summed over its streams.", lag, nns);
	ns_family(p, v, "repgate_namespace_lag_max_records", "gauge",
		  "The largest lag of one of its streams.", lag_max, nns);
	free(a);
}

enum peer_field {
	PF_PHI,
	PF_SILENT,
	PF_TRANSITIONS,
	PF_RESTARTS,
	PF_HEARTBEATS,
	PF_SRTT,
	PF_LANES
};

static double
peer_value(const struct rg_ctl_peer_view *pv, enum peer_field f)
{
	switch (f) {
	case PF_PHI:
		return pv->phi;
	case PF_SILENT:
		return (double)pv->silent_ns / 1e9;
	case PF_TRANSITIONS:
		return (double)pv->transitions;
	case PF_RESTARTS:
		return (double)pv->restarts;
	case PF_HEARTBEATS:
		return (double)pv->heartbeats;
	case PF_SRTT:
		return (double)pv->srtt_ns / 1e9;
	default:
		return (double)pv->lanes;
	}
}

static void
peer_family(struct rg_prom *p, const struct view *v, const struct rg_ctl_peer_view *pv, unsigned n,
	    const char *name, const char *type, const char *help, enum peer_field f)
{
	rg_prom_family(p, name, type, help);
	for (unsigned i = 0; i < n; i++) {
		struct rg_prom_labels l;

		base(v, &l);
		rg_prom_label_u64(&l, "peer", pv[i].gw);
		rg_prom_label(&l, "region", pv[i].region);
		rg_prom_f64(p, name, &l, peer_value(&pv[i], f));
	}
}

static void
render_peers(struct rg_prom *p, const struct view *v)
{
	struct rg_ctl_peer_view pv[RG_MEMBERSHIP_PEERS_MAX];
	int known;
	unsigned n = rg_telemetry_peers(v->app, pv, RG_MEMBERSHIP_PEERS_MAX, &known);

	if (known) {
		rg_prom_family(p, "repgate_peer_state", "gauge",
			       "Liveness of the peer: 0 ALIVE, 1 SUSPECT, 2 DEAD (also in label "
			       "state).");
		for (unsigned i = 0; i < n; i++) {
			struct rg_prom_labels l;

			base(v, &l);
			rg_prom_label_u64(&l, "peer", pv[i].gw);
			rg_prom_label(&l, "region", pv[i].region);
			rg_prom_label(&l, "state", rg_liveness_name(pv[i].state));
			rg_prom_u64(p, "repgate_peer_state", &l, (uint64_t)pv[i].state);
		}
		peer_family(p, v, pv, n, "repgate_peer_phi", "gauge",
			    "Suspicion of the accrual failure detector.", PF_PHI);
		peer_family(p, v, pv, n, "repgate_peer_silent_seconds", "gauge",
			    "Seconds since the last packet from the peer.", PF_SILENT);
		peer_family(p, v, pv, n, "repgate_peer_transitions_total", "counter",
			    "Liveness state changes of the peer.", PF_TRANSITIONS);
		peer_family(p, v, pv, n, "repgate_peer_restarts_total", "counter",
			    "New incarnations of the peer seen.", PF_RESTARTS);
		peer_family(p, v, pv, n, "repgate_peer_heartbeats_total", "counter",
			    "Arrivals the failure detector was fed.", PF_HEARTBEATS);
	}
	peer_family(p, v, pv, n, "repgate_peer_srtt_seconds", "gauge",
		    "The smallest smoothed RTT over the lanes to the peer (0: none yet).", PF_SRTT);
	peer_family(p, v, pv, n, "repgate_peer_lanes", "gauge", "Lanes to the peer.", PF_LANES);
}

static void
render_ctl(struct rg_prom *p, const struct view *v)
{
	struct rg_ctl_counters c;

	if (!rg_telemetry_ctl_counters(v->app, &c))
		return;
	counter1(p, v, "repgate_ctl_ticks_total", "Periods the control thread ran.", c.ticks);
	counter1(p, v, "repgate_ctl_failovers_total", "Failover commands every worker ran.",
		 c.failovers);
	counter1(p, v, "repgate_ctl_streams_moved_total", "Streams moved by failovers.",
		 c.streams_moved);
	counter1(p, v, "repgate_ctl_cmd_failed_total",
		 "Worker commands refused or not answered in time.", c.cmd_failed);
	rg_prom_family(p, "repgate_ctl_transitions_total", "counter",
		       "Liveness changes over all peers, by from and to state.");
	for (int a = 0; a < RG_LIVENESS_MAX; a++)
		for (int b = 0; b < RG_LIVENESS_MAX; b++) {
			struct rg_prom_labels l;

			if (a == b)
				continue;
			base(v, &l);
			rg_prom_label(&l, "from", rg_liveness_name(a));
			rg_prom_label(&l, "to", rg_liveness_name(b));
			rg_prom_u64(p, "repgate_ctl_transitions_total", &l, c.transitions[a][b]);
		}
}

enum lane_field {
	LF_SRTT,
	LF_MIN_RTT,
	LF_LATEST_RTT,
	LF_RTTVAR,
	LF_BYTES,
	LF_PKTS,
	LF_ACKED,
	LF_LOST,
	LF_PTO,
	LF_RTXQ,
	LF_RX_AGE
};

static double
lane_value(const struct rg_lane_info *li, uint64_t now_ns, enum lane_field f)
{
	switch (f) {
	case LF_SRTT:
		return (double)li->srtt_ns / 1e9;
	case LF_MIN_RTT:
		return (double)li->min_rtt_ns / 1e9;
	case LF_LATEST_RTT:
		return (double)li->latest_rtt_ns / 1e9;
	case LF_RTTVAR:
		return (double)li->rttvar_ns / 1e9;
	case LF_BYTES:
		return (double)li->bytes_in_flight;
	case LF_PKTS:
		return li->pkts_in_flight;
	case LF_ACKED:
		return (double)li->pkts_acked;
	case LF_LOST:
		return (double)li->pkts_lost;
	case LF_PTO:
		return (double)li->pto_fired;
	case LF_RTXQ:
		return li->rtx_queued;
	default:
		return li->last_rx_ns != 0 && now_ns > li->last_rx_ns
			   ? (double)(now_ns - li->last_rx_ns) / 1e9
			   : 0;
	}
}

static void
lane_family(struct rg_prom *p, const struct view *v, const char *name, const char *type,
	    const char *help, enum lane_field f)
{
	rg_prom_family(p, name, type, help);
	for (uint16_t w = 0; w < v->app->nworkers; w++)
		for (uint16_t i = 0; i < v->st[w].nlanes; i++) {
			const struct rg_lane_info *li = &v->st[w].lanes[i];
			struct rg_prom_labels l;

			base(v, &l);
			rg_prom_label_u64(&l, "peer", li->peer_gw);
			rg_prom_label_u64(&l, "lane", li->lane);
			rg_prom_label_u64(&l, "worker", w);
			rg_prom_f64(p, name, &l, lane_value(li, v->st[w].now_ns, f));
		}
}

static void
render_lanes(struct rg_prom *p, const struct view *v)
{
	lane_family(p, v, "repgate_lane_srtt_seconds", "gauge", "Smoothed RTT of the lane.",
		    LF_SRTT);
	lane_family(p, v, "repgate_lane_min_rtt_seconds", "gauge", "Smallest RTT seen.",
		    LF_MIN_RTT);
	lane_family(p, v, "repgate_lane_latest_rtt_seconds", "gauge", "The last RTT sample.",
		    LF_LATEST_RTT);
	lane_family(p, v, "repgate_lane_rttvar_seconds", "gauge", "RTT variation.", LF_RTTVAR);
	lane_family(p, v, "repgate_lane_bytes_in_flight", "gauge", "Bytes sent, not yet acked.",
		    LF_BYTES);
	lane_family(p, v, "repgate_lane_packets_in_flight", "gauge",
		    "Packets sent, not yet acked or lost.", LF_PKTS);
	lane_family(p, v, "repgate_lane_acked_packets_total", "counter", "Packets acked.",
		    LF_ACKED);
	lane_family(p, v, "repgate_lane_lost_packets_total", "counter",
		    "Packets declared lost (their frames were queued for retransmission).",
		    LF_LOST);
	lane_family(p, v, "repgate_lane_pto_total", "counter", "Probe timeouts that fired.",
		    LF_PTO);
	lane_family(p, v, "repgate_lane_retransmit_queued_frames", "gauge",
		    "Frames of lost packets waiting to be sent again.", LF_RTXQ);
	lane_family(p, v, "repgate_lane_last_rx_age_seconds", "gauge",
		    "Seconds since the last packet accepted on the lane (0: none yet).", LF_RX_AGE);
}

/* One family with a sample per worker: the uint64_t at byte off of its stats. */
static void
worker_family(struct rg_prom *p, const struct view *v, const char *name, const char *type,
	      const char *help, size_t off)
{
	rg_prom_family(p, name, type, help);
	for (uint16_t w = 0; w < v->app->nworkers; w++) {
		struct rg_prom_labels l;
		uint64_t x;

		memcpy(&x, (const char *)&v->st[w] + off, sizeof(x));
		base(v, &l);
		rg_prom_label_u64(&l, "worker", w);
		rg_prom_u64(p, name, &l, x);
	}
}

#define STAT_OFF(field) offsetof(struct rg_worker_stats, field)

static void
render_workers(struct rg_prom *p, const struct view *v)
{
	char name[96], help[160];

	worker_family(p, v, "repgate_worker_busy_cycles_total", "counter",
		      "TSC cycles of loop iterations that did work.", STAT_OFF(busy_cycles));
	worker_family(p, v, "repgate_worker_idle_cycles_total", "counter",
		      "TSC cycles of loop iterations that found nothing to do.",
		      STAT_OFF(idle_cycles));
	for (int i = 0; i < RG_WCTR_MAX; i++) {
		snprintf(name, sizeof(name), "repgate_worker_%s_total", rg_worker_counter_name(i));
		snprintf(help, sizeof(help), "Worker counter %s (dataplane/worker.h).",
			 rg_worker_counter_name(i));
		worker_family(p, v, name, "counter", help,
			      STAT_OFF(ctr) + (size_t)i * sizeof(uint64_t));
	}
	for (int i = 0; i < RG_CTR_MAX; i++) {
		snprintf(name, sizeof(name), "repgate_core_%s_total", rg_core_counter_name(i));
		snprintf(help, sizeof(help), "Protocol core counter %s (dataplane/proto/core.h).",
			 rg_core_counter_name(i));
		worker_family(p, v, name, "counter", help,
			      STAT_OFF(core.ctr) + (size_t)i * sizeof(uint64_t));
	}
	for (int i = 0; i < RG_WANEM_CTR_MAX; i++) {
		snprintf(name, sizeof(name), "repgate_wan_%s_total", rg_wanem_counter_name(i));
		snprintf(help, sizeof(help), "WAN emulator counter %s (drivers/wanem.h).",
			 rg_wanem_counter_name(i));
		worker_family(p, v, name, "counter", help,
			      STAT_OFF(wan.ctr) + (size_t)i * sizeof(uint64_t));
	}
}

/* One drops family: a sample per worker and reason (reason 0, "none", is not a drop). */
static void
drop_family(struct rg_prom *p, const struct view *v, const char *name, const char *help, size_t off,
	    int nreasons, const char *(*reason)(int))
{
	rg_prom_family(p, name, "counter", help);
	for (uint16_t w = 0; w < v->app->nworkers; w++)
		for (int r = 1; r < nreasons; r++) {
			struct rg_prom_labels l;
			char lr[64];
			uint64_t x;

			memcpy(&x, (const char *)&v->st[w] + off + (size_t)r * sizeof(x),
			       sizeof(x));
			lower(lr, sizeof(lr), reason(r));
			base(v, &l);
			rg_prom_label_u64(&l, "worker", w);
			rg_prom_label(&l, "reason", lr);
			rg_prom_u64(p, name, &l, x);
		}
}

static const char *
core_drop(int r)
{
	return rg_core_drop_name((enum rg_core_drop)r);
}

static const char *
wire_drop(int r)
{
	return rg_wire_drop_name((enum rg_wire_drop)r);
}

static const char *
frame_drop(int r)
{
	return rg_frame_drop_name((enum rg_frame_drop)r);
}

static void
render_drops(struct rg_prom *p, const struct view *v)
{
	drop_family(p, v, "repgate_core_drops_total",
		    "Packets the protocol core dropped after decoding, by reason.",
		    STAT_OFF(core.drop), RG_DROP_MAX, core_drop);
	drop_family(p, v, "repgate_wire_drops_total", "Packets the RGP codec rejected, by reason.",
		    STAT_OFF(core.wire_drop), RG_WIRE_DROP_MAX, wire_drop);
	drop_family(p, v, "repgate_frame_drops_total",
		    "Frames dropped before RGP (Ethernet, IPv4, UDP), by reason.",
		    STAT_OFF(frame_drop), RG_FRAME_DROP_MAX, frame_drop);
}

static void
render_wan(struct rg_prom *p, const struct view *v)
{
	struct rg_wanem_config c;
	int on = rg_telemetry_wan(v->app, &c), part = 0;

	for (uint16_t w = 0; on && w < v->app->nworkers; w++)
		part |= rg_wanem_partitioned(&v->app->workers[w].wan);
	gauge1(p, v, "repgate_wan_enabled", "1 when the WAN emulator shim is on.", on);
	if (!on)
		return;
	gauge1(p, v, "repgate_wan_partitioned", "1 while the emulated WAN is partitioned.", part);
	gauge1(p, v, "repgate_wan_delay_seconds", "Emulated one-way delay.",
	       (double)c.delay_ns / 1e9);
	gauge1(p, v, "repgate_wan_loss_ratio", "Emulated random loss probability.", c.loss);
	gauge1(p, v, "repgate_wan_rate_bytes_per_second", "Emulated link rate (0: unlimited).",
	       (double)c.rate_bytes_per_s);
}

void
rg_metrics_render(struct rg_app *app, struct rg_prom *p)
{
	struct view v = { .app = app };

	snprintf(v.gw, sizeof(v.gw), "%u", rg_app_gateway_id(app));
	v.st = malloc(sizeof(v.st[0]) * RG_MAX(app->nworkers, 1));
	if (v.st == NULL) {
		p->truncated = 1;
		return;
	}
	for (uint16_t w = 0; w < app->nworkers; w++)
		rg_worker_stats(&app->workers[w], &v.st[w]);
	render_gateway(p, &v);
	render_namespaces(p, &v);
	render_peers(p, &v);
	render_ctl(p, &v);
	render_lanes(p, &v);
	render_workers(p, &v);
	render_drops(p, &v);
	render_wan(p, &v);
	free(v.st);
}

/* The whole text, in a buffer the caller frees; NULL when the app is gone or memory is short. */
static char *
render_all(size_t *len)
{
	for (size_t cap = BUF_FIRST_BYTES; cap <= BUF_MAX_BYTES; cap *= 2) {
		char *buf = malloc(cap);
		struct rg_app *app;
		struct rg_prom p;

		if (buf == NULL)
			return NULL;
		rg_prom_init(&p, buf, cap);
		app = rg_telemetry_hold();
		if (app != NULL)
			rg_metrics_render(app, &p);
		rg_telemetry_release();
		if (app == NULL) {
			free(buf);
			return NULL;
		}
		if (!p.truncated) {
			*len = p.len;
			return buf;
		}
		free(buf);
	}
	return NULL;
}

static char *
render_cb(void *ctx, size_t *len)
{
	(void)ctx;
	return render_all(len);
}

struct rg_metrics *
rg_metrics_start(uint32_t addr, uint16_t port, const struct rg_metrics_limits *lim)
{
	struct rg_metrics *m = calloc(1, sizeof(*m));
	const struct rg_httpd_config c = {
		.addr = addr,
		.port = port,
		.path = "/metrics",
		.content_type = "text/plain; version=0.0.4; charset=utf-8",
		.conns_max = lim->conns_max,
		.conns_per_ip = lim->conns_per_ip,
		.timeout_s = lim->timeout_s,
		.render = render_cb,
	};
	struct in_addr ia = { .s_addr = htonl(addr) };
	char ip[INET_ADDRSTRLEN];

	if (m == NULL)
		return NULL;
	m->h = rg_httpd_start(&c);
	inet_ntop(AF_INET, &ia, ip, sizeof(ip));
	if (m->h == NULL) {
		fprintf(stderr,
			"repgate: metrics: cannot serve http://%s:%u/metrics (port in use? "
			"telemetry.metrics_addr/metrics_port)\n",
			ip, port);
		free(m);
		return NULL;
	}
	printf("repgate: metrics on http://%s:%u/metrics (at most %u connections, %u from one "
	       "address, %u s a request)\n",
	       ip, rg_httpd_port(m->h), lim->conns_max, lim->conns_per_ip, lim->timeout_s);
	fflush(stdout);
	return m;
}

void
rg_metrics_stop(struct rg_metrics *m)
{
	if (m == NULL)
		return;
	rg_httpd_stop(m->h);
	free(m);
}
