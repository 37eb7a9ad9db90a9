/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <math.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_mempool.h>
#include <rte_telemetry.h>

#include "app.h"
#include "telemetry.h"
#include "telemetry_params.h"

#define TOP_DEFAULT 10
#define TOP_MAX     32 /* rows of /repgate/streams: its reply must fit DPDK's 16 KiB */
#define ROWS_MAX    64 /* rows of the other tables, for the same reason */

/*
 * The handlers' shared state. `lock` guards every field and is held by a
 * handler for its whole run, so detach waits for the running ones.
 */
static struct {
	pthread_mutex_t lock;
	struct rg_app *app;
	uint64_t t0_ns;
	int ctl_ok; /* the control thread runs: rg_ctl_* may be called */
	int stopping;
	struct rg_ctl_peer_view last[RG_MEMBERSHIP_PEERS_MAX]; /* its view at quiesce */
	unsigned nlast;
	int have_last;
	struct rg_ctl_counters last_ctr;
	struct rg_wanem_config wan; /* the emulator's settings as last sent */
	int wan_on;
	uint32_t wan_cap; /* the packets the emulator can hold: queue_pkts at start */
	/* the previous /repgate/lanes and /repgate/workers reads, for rates */
	uint64_t lane_acked[RG_WORKER_LANES_MAX][RG_WORKER_LANES_MAX];
	uint64_t lane_t_ns[RG_WORKER_LANES_MAX];
	uint64_t tx_bytes[RG_WORKER_LANES_MAX], rx_bytes[RG_WORKER_LANES_MAX];
	uint64_t bytes_t_ns[RG_WORKER_LANES_MAX];
	struct rg_worker_stats st; /* one worker's, read per handler (big: not on the stack) */
} tel = { .lock = PTHREAD_MUTEX_INITIALIZER };

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * RG_NS_PER_S + (uint64_t)ts.tv_nsec;
}

void
rg_telemetry_attach(struct rg_app *app)
{
	pthread_mutex_lock(&tel.lock);
	tel.app = app;
	tel.t0_ns = mono_ns();
	tel.wan_on = app->wcfg.wan_on;
	tel.wan = app->wcfg.wan;
	tel.wan_cap = app->wcfg.wan.queue_pkts_max;
	tel.ctl_ok = app->ctl_started;
	tel.stopping = 0;
	tel.have_last = 0;
	memset(tel.lane_t_ns, 0, sizeof(tel.lane_t_ns));
	memset(tel.bytes_t_ns, 0, sizeof(tel.bytes_t_ns));
	pthread_mutex_unlock(&tel.lock);
}

void
rg_telemetry_quiesce(struct rg_app *app)
{
	pthread_mutex_lock(&tel.lock);
	if (tel.app == app && tel.ctl_ok) {
		tel.nlast = rg_ctl_peers(&app->ctl, tel.last, RG_MEMBERSHIP_PEERS_MAX);
		rg_ctl_counters(&app->ctl, &tel.last_ctr);
		tel.have_last = 1;
	}
	tel.ctl_ok = 0;
	tel.stopping = 1;
	pthread_mutex_unlock(&tel.lock);
}

void
rg_telemetry_detach(void)
{
	pthread_mutex_lock(&tel.lock);
	tel.app = NULL;
	pthread_mutex_unlock(&tel.lock);
}

struct rg_app *
rg_telemetry_hold(void)
{
	pthread_mutex_lock(&tel.lock);
	return tel.app;
}

void
rg_telemetry_release(void)
{
	pthread_mutex_unlock(&tel.lock);
}

uint64_t
rg_telemetry_uptime_ns(void)
{
	return tel.app != NULL ? mono_ns() - tel.t0_ns : 0;
}

const char *
rg_telemetry_role(const struct rg_app *app)
{
	switch (app->prof.load.role) {
	case RG_PROFILE_ROLE_GENERATOR:
		return "generator";
	case RG_PROFILE_ROLE_CONSUMER:
		return "consumer";
	default:
		return "none";
	}
}

const char *
rg_telemetry_active_region(const struct rg_app *app)
{
	const struct rg_profile *p = &app->prof;

	if (p->load.role == RG_PROFILE_ROLE_GENERATOR)
		return p->gateway.region;
	for (uint32_t i = 0; i < p->npeers; i++)
		if (p->load.role == RG_PROFILE_ROLE_CONSUMER && p->peers[i].id == p->load.peer)
			return p->peers[i].region;
	return "";
}

unsigned
rg_telemetry_peers(struct rg_app *app, struct rg_ctl_peer_view *out, unsigned max, int *known)
{
	unsigned n = 0;

	*known = tel.ctl_ok || tel.have_last;
	if (tel.ctl_ok)
		return rg_ctl_peers(&app->ctl, out, max);
	if (tel.have_last) {
		n = RG_MIN(max, tel.nlast);
		memcpy(out, tel.last, sizeof(out[0]) * n);
		return n;
	}
	for (uint32_t i = 0; i < app->prof.npeers && n < max; i++, n++) {
		memset(&out[n], 0, sizeof(out[n]));
		out[n].gw = (uint16_t)app->prof.peers[i].id;
		out[n].route = out[n].gw;
		snprintf(out[n].region, sizeof(out[n].region), "%s", app->prof.peers[i].region);
	}
	for (uint16_t w = 0; w < app->nworkers; w++) {
		rg_worker_stats(&app->workers[w], &tel.st);
		for (uint16_t l = 0; l < tel.st.nlanes; l++)
			for (unsigned k = 0; k < n; k++) {
				const struct rg_lane_info *li = &tel.st.lanes[l];

				if (out[k].gw != li->peer_gw)
					continue;
				out[k].lanes++;
				out[k].incarnation = RG_MAX(out[k].incarnation, li->peer_inc);
				if (li->srtt_ns != 0 &&
				    (out[k].srtt_ns == 0 || li->srtt_ns < out[k].srtt_ns))
					out[k].srtt_ns = li->srtt_ns;
			}
	}
	return n;
}

int
rg_telemetry_ctl_counters(struct rg_app *app, struct rg_ctl_counters *out)
{
	if (tel.ctl_ok)
		rg_ctl_counters(&app->ctl, out);
	else if (tel.have_last)
		*out = tel.last_ctr;
	return tel.ctl_ok || tel.have_last;
}

int
rg_telemetry_wan(struct rg_app *app, struct rg_wanem_config *out)
{
	(void)app;
	*out = tel.wan;
	return tel.wan_on;
}

/* ---- /repgate/wan set ---- */

int
rg_telemetry_wan_set(struct rg_app *app, const char *params, char *err, size_t errlen)
{
	struct rg_wanem_config c = tel.wan;
	struct rg_worker_cmd cmd = { .type = RG_WCMD_WAN };
	int partition = -1, rc;

	if (!tel.wan_on) {
		snprintf(err, errlen, "the WAN emulator is off (profile: wan.enabled = false)");
		return -ENOTSUP;
	}
	rc = rg_telemetry_wan_parse(params, tel.wan_cap, &c, &partition, err, errlen);
	if (rc != 0)
		return rc;
	if (tel.stopping) {
		snprintf(err, errlen, "the gateway is stopping: its workers take no command");
		return -ESRCH;
	}
	if (memcmp(&c, &tel.wan, sizeof(c)) != 0) {
		if (!tel.ctl_ok) {
			snprintf(err, errlen, "the control thread is not running");
			return -ESRCH;
		}
		cmd.wan = c;
		rc = rg_ctl_broadcast(&app->ctl, &cmd);
		if (rc < 0) {
			snprintf(err, errlen, "workers did not all take it: %s (some may have)",
				 strerror(-rc));
			return rc;
		}
		tel.wan = c;
	}
	for (uint16_t w = 0; partition >= 0 && w < app->nworkers; w++)
		rg_wanem_set_partition(&app->workers[w].wan, partition);
	return 0;
}

/* ---- the DPDK telemetry handlers ---- */

static void
add_f(struct rte_tel_data *d, const char *name, double v)
{
	char s[32];

	snprintf(s, sizeof(s), "%.6g", v);
	rte_tel_data_add_dict_string(d, name, s);
}

static void
add_u(struct rte_tel_data *d, const char *name, uint64_t v)
{
	rte_tel_data_add_dict_u64(d, name, v);
}

/* A row: a dict container under key in d (NULL when out of memory). */
static struct rte_tel_data *
row(struct rte_tel_data *d, const char *key)
{
	struct rte_tel_data *r = rte_tel_data_alloc();

	if (r == NULL)
		return NULL;
	rte_tel_data_start_dict(r);
	if (rte_tel_data_add_dict_container(d, key, r, 0) != 0) {
		rte_tel_data_free(r);
		return NULL;
	}
	return r;
}

static int
not_running(struct rte_tel_data *d)
{
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "error", "not running");
	return 0;
}

static void
status_peers(struct rg_app *app, struct rte_tel_data *d)
{
	struct rg_ctl_peer_view v[RG_MEMBERSHIP_PEERS_MAX];
	unsigned n, by[RG_LIVENESS_MAX] = { 0 }, up = 0;
	int known;

	n = rg_telemetry_peers(app, v, RG_MEMBERSHIP_PEERS_MAX, &known);
	for (unsigned i = 0; i < n; i++) {
		by[v[i].state < RG_LIVENESS_MAX ? v[i].state : 0]++;
		up += v[i].incarnation != 0;
	}
	add_u(d, "peers", n);
	add_u(d, "peers_heard", up);
	if (known) {
		add_u(d, "peers_alive", by[RG_LIVENESS_ALIVE]);
		add_u(d, "peers_suspect", by[RG_LIVENESS_SUSPECT]);
		add_u(d, "peers_dead", by[RG_LIVENESS_DEAD]);
	}
	rte_tel_data_add_dict_string(d, "membership", known ? "running" : "off");
}

static int
cmd_status(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rg_app *app = rg_telemetry_hold();
	struct rg_loadgen_totals t = { 0 };

	(void)cmd;
	(void)params;
	if (app == NULL) {
		rg_telemetry_release();
		return not_running(d);
	}
	rte_tel_data_start_dict(d);
	add_u(d, "gateway", app->prof.gateway.id);
	rte_tel_data_add_dict_string(d, "region", app->prof.gateway.region);
	rte_tel_data_add_dict_string(d, "name", app->prof.gateway.name);
	rte_tel_data_add_dict_string(d, "role", rg_telemetry_role(app));
	add_f(d, "uptime_s", (double)rg_telemetry_uptime_ns() / 1e9);
	add_u(d, "workers", app->nworkers);
	status_peers(app, d);
	/* Free packet buffers: a receive pool near 0 is what a relay or a window holds. */
	add_u(d, "mbufs_tx_free", rte_mempool_avail_count(app->tx_pool));
	add_u(d, "mbufs_rx_wan_free", rte_mempool_avail_count(app->rx_pool[0]));
	if (app->rx_pool[1] != NULL)
		add_u(d, "mbufs_rx_lan_free", rte_mempool_avail_count(app->rx_pool[1]));
	if (app->lg != NULL) {
		rg_loadgen_totals(app->lg, &t);
		add_u(d, "streams", rg_loadgen_streams(app->lg));
		add_u(d, "namespaces", rg_loadgen_namespaces(app->lg));
		if (rg_loadgen_role(app->lg) == RG_LOAD_GENERATOR) {
			add_u(d, "records_published", t.published);
			add_u(d, "records_acked", t.acked);
		} else {
			add_u(d, "records_delivered", t.checked);
		}
		add_u(d, "records_applied", t.applied);
		add_u(d, "lag_records", t.lag);
	}
	rte_tel_data_add_dict_string(d, "wan", tel.wan_on ? "on" : "off");
	rg_telemetry_release();
	return 0;
}

static int
cmd_peers(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rg_ctl_peer_view v[RG_MEMBERSHIP_PEERS_MAX];
	struct rg_app *app = rg_telemetry_hold();
	unsigned n;
	int known;

	(void)cmd;
	(void)params;
	if (app == NULL) {
		rg_telemetry_release();
		return not_running(d);
	}
	rte_tel_data_start_dict(d);
	n = rg_telemetry_peers(app, v, RG_MEMBERSHIP_PEERS_MAX, &known);
	for (unsigned i = 0; i < n; i++) {
		struct rte_tel_data *r;
		char key[16];

		snprintf(key, sizeof(key), "gw%u", v[i].gw);
		r = row(d, key);
		if (r == NULL)
			break;
		add_u(r, "gw", v[i].gw);
		rte_tel_data_add_dict_string(r, "region", v[i].region);
		rte_tel_data_add_dict_string(r, "state",
					     known ? rg_liveness_name(v[i].state) : "unknown");
		add_f(r, "phi", known ? v[i].phi : 0);
		add_u(r, "silent_ms", v[i].silent_ns / RG_NS_PER_MS);
		add_u(r, "state_for_ms", v[i].state_for_ns / RG_NS_PER_MS);
		add_u(r, "incarnation", v[i].incarnation);
		add_u(r, "restarts", v[i].restarts);
		add_u(r, "transitions", v[i].transitions);
		add_u(r, "heartbeats", v[i].heartbeats);
		add_u(r, "route", v[i].route);
		add_u(r, "lanes", v[i].lanes);
		add_u(r, "srtt_us", v[i].srtt_ns / 1000);
	}
	rg_telemetry_release();
	return 0;
}

static void
lane_row(struct rte_tel_data *r, uint16_t w, const struct rg_lane_info *li, uint64_t now_ns,
	 double acked_pps)
{
	add_u(r, "peer", li->peer_gw);
	add_u(r, "lane", li->lane);
	add_u(r, "worker", w);
	add_u(r, "srtt_us", li->srtt_ns / 1000);
	add_u(r, "min_rtt_us", li->min_rtt_ns / 1000);
	add_u(r, "latest_rtt_us", li->latest_rtt_ns / 1000);
	add_u(r, "rttvar_us", li->rttvar_ns / 1000);
	add_u(r, "bytes_in_flight", li->bytes_in_flight);
	add_u(r, "pkts_in_flight", li->pkts_in_flight);
	add_u(r, "pkts_acked", li->pkts_acked);
	add_u(r, "pkts_lost", li->pkts_lost);
	add_u(r, "pto_fired", li->pto_fired);
	add_u(r, "rtx_queued", li->rtx_queued);
	add_u(r, "last_rx_ms_ago",
	      li->last_rx_ns != 0 && now_ns > li->last_rx_ns ? (now_ns - li->last_rx_ns) / 1000000
							     : 0);
	add_f(r, "acked_pps", acked_pps);
}

static int
cmd_lanes(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rg_app *app = rg_telemetry_hold();
	unsigned rows = 0;

	(void)cmd;
	(void)params;
	if (app == NULL) {
		rg_telemetry_release();
		return not_running(d);
	}
	rte_tel_data_start_dict(d);
	for (uint16_t w = 0; w < app->nworkers && rows < ROWS_MAX; w++) {
		uint64_t now = mono_ns(), dt = tel.lane_t_ns[w] ? now - tel.lane_t_ns[w] : 0;

		rg_worker_stats(&app->workers[w], &tel.st);
		for (uint16_t l = 0; l < tel.st.nlanes && rows < ROWS_MAX; l++, rows++) {
			const struct rg_lane_info *li = &tel.st.lanes[l];
			uint64_t prev = tel.lane_acked[w][l];
			struct rte_tel_data *r;
			char key[24];

			snprintf(key, sizeof(key), "w%u_p%u_l%u", w, li->peer_gw, li->lane);
			r = row(d, key);
			if (r == NULL)
				break;
			lane_row(r, w, li, tel.st.now_ns,
				 dt && li->pkts_acked >= prev
				     ? (double)(li->pkts_acked - prev) * 1e9 / (double)dt
				     : 0);
			tel.lane_acked[w][l] = li->pkts_acked;
		}
		tel.lane_t_ns[w] = now;
	}
	rg_telemetry_release();
	return 0;
}

/* The top-n streams by lag into idx (n <= TOP_MAX); returns how many. O(streams × n). */
static unsigned
top_streams(const struct rg_loadgen *lg, unsigned n, uint32_t *idx)
{
	uint64_t lag[TOP_MAX];
	unsigned have = 0;

	for (uint32_t k = 0; k < rg_loadgen_streams(lg); k++) {
		struct rg_loadgen_stream_view v;
		unsigned at;

		rg_loadgen_stream_view(lg, k, &v);
		if (have == n && v.lag <= lag[n - 1])
			continue;
		at = have < n ? have++ : n - 1;
		while (at > 0 && lag[at - 1] < v.lag) { /* ties keep stream order */
			lag[at] = lag[at - 1];
			idx[at] = idx[at - 1];
			at--;
		}
		lag[at] = v.lag;
		idx[at] = k;
	}
	return have;
}

static int
cmd_streams(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rg_app *app = rg_telemetry_hold();
	uint32_t idx[TOP_MAX];
	unsigned n;

	(void)cmd;
	if (app == NULL || app->lg == NULL) {
		rg_telemetry_release();
		return not_running(d);
	}
	n = rg_telemetry_top_param(params, TOP_DEFAULT, TOP_MAX);
	if (n == 0) {
		char why[64];

		rg_telemetry_release();
		snprintf(why, sizeof(why), "the parameter is how many streams to show: 1..%d",
			 TOP_MAX);
		rte_tel_data_start_dict(d);
		rte_tel_data_add_dict_string(d, "error", why);
		return 0;
	}
	rte_tel_data_start_dict(d);
	n = top_streams(app->lg, n, idx);
	add_u(d, "streams", rg_loadgen_streams(app->lg));
	add_u(d, "shown", n);
	for (unsigned i = 0; i < n; i++) {
		struct rg_loadgen_stream_view v;
		struct rte_tel_data *r;
		char key[24], id[24];

		rg_loadgen_stream_view(app->lg, idx[i], &v);
		snprintf(key, sizeof(key), "top%02u", i + 1);
		snprintf(id, sizeof(id), "0x%" PRIx64, v.id);
		r = row(d, key);
		if (r == NULL)
			break;
		rte_tel_data_add_dict_string(r, "id", id);
		add_u(r, "namespace", v.ns);
		add_u(r, "peer", v.peer_gw);
		add_u(r, "worker", v.worker);
		if (rg_loadgen_role(app->lg) == RG_LOAD_GENERATOR) {
			add_u(r, "published", v.published);
			add_u(r, "acked", v.acked);
		} else {
			add_u(r, "delivered", v.delivered);
		}
		add_u(r, "applied", v.applied);
		add_u(r, "lag", v.lag);
	}
	rg_telemetry_release();
	return 0;
}

static void
ns_rows(struct rg_app *app, struct rte_tel_data *d)
{
	uint64_t streams[ROWS_MAX] = { 0 }, recs[ROWS_MAX] = { 0 }, applied[ROWS_MAX] = { 0 };
	uint64_t lag[ROWS_MAX] = { 0 }, lag_max[ROWS_MAX] = { 0 };
	uint32_t nns = RG_MIN(rg_loadgen_namespaces(app->lg), (uint32_t)ROWS_MAX);
	int gen = rg_loadgen_role(app->lg) == RG_LOAD_GENERATOR;

	for (uint32_t k = 0; k < rg_loadgen_streams(app->lg); k++) {
		struct rg_loadgen_stream_view v;

		rg_loadgen_stream_view(app->lg, k, &v);
		if (v.ns >= nns)
			continue;
		streams[v.ns]++;
		recs[v.ns] += gen ? v.published : v.delivered;
		applied[v.ns] += v.applied;
		lag[v.ns] += v.lag;
		lag_max[v.ns] = RG_MAX(lag_max[v.ns], v.lag);
	}
	for (uint32_t n = 0; n < nns; n++) {
		struct rte_tel_data *r;
		char key[16];

		snprintf(key, sizeof(key), "ns%u", n);
		r = row(d, key);
		if (r == NULL)
			break;
		add_u(r, "namespace", n);
		add_u(r, "streams", streams[n]);
		add_u(r, gen ? "published" : "delivered", recs[n]);
		add_u(r, "applied", applied[n]);
		add_u(r, "lag_sum", lag[n]);
		add_u(r, "lag_max", lag_max[n]);
		rte_tel_data_add_dict_string(r, "active_region", rg_telemetry_active_region(app));
		add_u(r, "version", 1); /* the load generator publishes every record at version 1 */
	}
}

static int
cmd_namespaces(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rg_app *app = rg_telemetry_hold();

	(void)cmd;
	(void)params;
	if (app == NULL || app->lg == NULL) {
		rg_telemetry_release();
		return not_running(d);
	}
	rte_tel_data_start_dict(d);
	ns_rows(app, d);
	rg_telemetry_release();
	return 0;
}

static void
worker_row(struct rte_tel_data *r, uint16_t w, unsigned lcore, const struct rg_worker_stats *s)
{
	uint64_t now = mono_ns(), dt = tel.bytes_t_ns[w] ? now - tel.bytes_t_ns[w] : 0;
	uint64_t tx = s->core.ctr[RG_CTR_tx_bytes], rx = s->core.ctr[RG_CTR_rx_bytes];
	uint64_t all = s->busy_cycles + s->idle_cycles;

	add_u(r, "worker", w);
	add_u(r, "lcore", lcore);
	add_u(r, "busy_cycles", s->busy_cycles);
	add_u(r, "idle_cycles", s->idle_cycles);
	add_f(r, "busy_pct", all ? 100.0 * (double)s->busy_cycles / (double)all : 0);
	add_u(r, "lanes", s->nlanes);
	for (int i = 0; i < RG_WCTR_MAX; i++)
		add_u(r, rg_worker_counter_name(i), s->ctr[i]);
	add_u(r, "published", s->core.ctr[RG_CTR_published]);
	add_u(r, "delivered_records", s->core.ctr[RG_CTR_delivered_records]);
	add_u(r, "rtx_frames", s->core.ctr[RG_CTR_rtx_frames]);
	add_u(r, "pkts_lost", s->core.ctr[RG_CTR_pkts_lost]);
	add_u(r, "tx_bytes", tx);
	add_u(r, "rx_bytes", rx);
	add_f(r, "tx_mbit_s",
	      dt && tx >= tel.tx_bytes[w] ? (double)(tx - tel.tx_bytes[w]) * 8e3 / (double)dt : 0);
	add_f(r, "rx_mbit_s",
	      dt && rx >= tel.rx_bytes[w] ? (double)(rx - tel.rx_bytes[w]) * 8e3 / (double)dt : 0);
	tel.tx_bytes[w] = tx;
	tel.rx_bytes[w] = rx;
	tel.bytes_t_ns[w] = now;
}

static int
cmd_workers(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rg_app *app = rg_telemetry_hold();

	(void)cmd;
	(void)params;
	if (app == NULL) {
		rg_telemetry_release();
		return not_running(d);
	}
	rte_tel_data_start_dict(d);
	for (uint16_t w = 0; w < app->nworkers && w < ROWS_MAX; w++) {
		struct rte_tel_data *r;
		char key[16];

		snprintf(key, sizeof(key), "w%u", w);
		r = row(d, key);
		if (r == NULL)
			break;
		rg_worker_stats(&app->workers[w], &tel.st);
		worker_row(r, w, app->lcores[w], &tel.st);
	}
	rg_telemetry_release();
	return 0;
}

static void
wan_dict(struct rg_app *app, struct rte_tel_data *d)
{
	const struct rg_wanem_config *c = &tel.wan;
	uint64_t ctr[RG_WANEM_CTR_MAX] = { 0 };
	int partitioned = 0;

	rte_tel_data_add_dict_string(d, "enabled", tel.wan_on ? "true" : "false");
	for (uint16_t w = 0; w < app->nworkers; w++) {
		rg_worker_stats(&app->workers[w], &tel.st);
		for (int i = 0; i < RG_WANEM_CTR_MAX; i++)
			ctr[i] += tel.st.wan.ctr[i];
		partitioned |= tel.wan_on && rg_wanem_partitioned(&app->workers[w].wan);
	}
	rte_tel_data_add_dict_string(d, "partition", partitioned ? "on" : "off");
	add_f(d, "delay_ms", (double)c->delay_ns / 1e6);
	add_f(d, "jitter_ms", (double)c->jitter_ns / 1e6);
	add_f(d, "loss", c->loss);
	add_f(d, "burst_enter", c->burst_enter);
	add_f(d, "burst_exit", c->burst_exit);
	add_f(d, "burst_loss", c->burst_loss);
	add_f(d, "dup", c->dup);
	add_f(d, "reorder", c->reorder);
	add_f(d, "reorder_ms", (double)c->reorder_ns / 1e6);
	add_f(d, "corrupt", c->corrupt);
	add_f(d, "rate_mbit_s", (double)c->rate_bytes_per_s * 8 / 1e6);
	add_u(d, "queue_pkts", c->queue_pkts_max);
	add_u(d, "queue_bytes", c->queue_bytes_max);
	add_u(d, "seed", c->seed);
	for (int i = 0; i < RG_WANEM_CTR_MAX; i++) {
		char key[48];

		snprintf(key, sizeof(key), "ctr_%s", rg_wanem_counter_name(i));
		add_u(d, key, ctr[i]);
	}
}

static int
cmd_wan(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rg_app *app = rg_telemetry_hold();
	char err[256] = "";
	int rc = 0;

	(void)cmd;
	if (app == NULL) {
		rg_telemetry_release();
		return not_running(d);
	}
	rte_tel_data_start_dict(d);
	if (params != NULL && *params != '\0') {
		rc = rg_telemetry_wan_set(app, params, err, sizeof(err));
		rte_tel_data_add_dict_string(d, "set", rc == 0 ? "ok" : "refused");
		if (rc != 0)
			rte_tel_data_add_dict_string(d, "error", err);
	}
	wan_dict(app, d);
	rg_telemetry_release();
	return 0;
}

/*
 * The relay's buffers against their limits, summed over the workers
 * (DESIGN §3.5: every hop bounded): records held in relayed send queues
 * (at most proto.tx_records_max a worker, proto.tx_stream_records_max a
 * stream), records staged (0 between the workers' flushes), reassembly
 * bytes (at most relay.asm_bytes_max a worker), and the relay's counters.
 */
static void
relay_dict(struct rg_app *app, struct rte_tel_data *d)
{
	uint64_t queued = 0, staged = 0, assembling = 0, asm_bytes = 0, streams = 0, subs = 0;
	uint64_t ctr[RG_RLY_CTR_MAX] = { 0 };

	for (uint16_t w = 0; w < app->nworkers; w++) {
		rg_worker_stats(&app->workers[w], &tel.st);
		queued += tel.st.relay_queued;
		staged += tel.st.relay.staged;
		assembling += tel.st.relay.assembling;
		asm_bytes += tel.st.asm_bytes;
		streams += tel.st.relay.streams;
		subs += tel.st.relay.subs;
		for (int i = 0; i < RG_RLY_CTR_MAX; i++)
			ctr[i] += tel.st.relay.ctr[i];
	}
	add_u(d, "workers", app->nworkers);
	add_u(d, "streams", streams);
	add_u(d, "subscriptions", subs);
	add_u(d, "queued_records", queued);
	add_u(d, "queued_records_max", (uint64_t)app->nworkers * app->wcfg.core.tx_records_max);
	add_u(d, "stream_records_max", app->wcfg.core.tx_stream_records_max);
	add_u(d, "window_records", app->wcfg.core.rx_window_records);
	add_u(d, "staged_records", staged);
	add_u(d, "assembling_records", assembling);
	add_u(d, "asm_bytes", asm_bytes);
	add_u(d, "asm_bytes_max", (uint64_t)app->nworkers * app->wcfg.asm_bytes_max);
	for (int i = 0; i < RG_RLY_CTR_MAX; i++) {
		char key[48];

		snprintf(key, sizeof(key), "ctr_%s", rg_relay_counter_name(i));
		add_u(d, key, ctr[i]);
	}
}

static int
cmd_relay(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rg_app *app = rg_telemetry_hold();

	(void)cmd;
	(void)params;
	if (app == NULL) {
		rg_telemetry_release();
		return not_running(d);
	}
	rte_tel_data_start_dict(d);
	relay_dict(app, d);
	rg_telemetry_release();
	return 0;
}

/* ---- parameters: checked for every command before its handler runs ---- */

#define PARAMS_BYTES_MAX 256

/*
 * Parameters are printable ASCII, space to ~ (0x20..0x7e) but for '"' and
 * '\', at most PARAMS_BYTES_MAX bytes; a command that takes none refuses any.
 * A handler names a bad key in its error, and DPDK copies reply strings into
 * its JSON byte for byte: a parameter with a byte above 0x7e got a reply that
 * was not JSON (dpdk-telemetry.py and repgatectl failed on it). 0, or -EINVAL
 * with why (which quotes none of the bytes).
 */
static int
params_check(const char *params, int takes, char *why, size_t len)
{
	size_t n = params != NULL ? strnlen(params, PARAMS_BYTES_MAX + 1) : 0;

	if (n == 0)
		return 0;
	if (!takes) {
		snprintf(why, len, "this command takes no parameters");
		return -EINVAL;
	}
	if (n > PARAMS_BYTES_MAX) {
		snprintf(why, len, "parameters longer than %d bytes", PARAMS_BYTES_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)params[i];

		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
			snprintf(why, len,
				 "byte 0x%02x at offset %zu: parameters are printable ASCII (no "
				 "quote or backslash)",
				 c, i);
			return -EINVAL;
		}
	}
	return 0;
}

static const struct {
	const char *cmd;
	telemetry_cb fn;
	int takes_params;
	const char *help;
} cmds[] = {
	{ "/repgate/status", cmd_status, 0,
	  "Gateway, region, role, uptime, workers, peers, records. No parameters" },
	{ "/repgate/peers", cmd_peers, 0,
	  "Per peer: liveness state, phi, silence, incarnation, route, srtt. No "
	  "parameters" },
	{ "/repgate/lanes", cmd_lanes, 0,
	  "Per lane: RTTs, bytes and packets in flight, acked, lost, PTOs, rate. No "
	  "parameters" },
	{ "/repgate/streams", cmd_streams, 1,
	  "The streams with the largest lag. Parameter: how many (default 10, at most "
	  "32)" },
	{ "/repgate/namespaces", cmd_namespaces, 0,
	  "Per namespace: streams, records, lag, active region, version. No parameters" },
	{ "/repgate/workers", cmd_workers, 0,
	  "Per worker: cycles, loops, frames, counters, rates. No parameters" },
	{ "/repgate/wan", cmd_wan, 1,
	  "The WAN emulator. Parameters (optional) change it: delay_ms=50,loss=0.01,..." },
	{ "/repgate/relay", cmd_relay, 0,
	  "The relay: streams, subscriptions, buffers held against their limits, counters. "
	  "No parameters" },
};

/* Every command comes here: its parameters are checked, then its handler runs. */
static int
dispatch(const char *cmd, const char *params, struct rte_tel_data *d)
{
	char why[128];

	for (size_t i = 0; i < RG_ARRAY_SIZE(cmds); i++) {
		if (strcmp(cmd, cmds[i].cmd) != 0)
			continue;
		if (params_check(params, cmds[i].takes_params, why, sizeof(why)) == 0)
			return cmds[i].fn(cmd, params, d);
		rte_tel_data_start_dict(d);
		rte_tel_data_add_dict_string(d, "error", why);
		return 0;
	}
	return -EINVAL; /* unreachable: only the commands of cmds[] come here */
}

int
rg_telemetry_register(void)
{
	for (size_t i = 0; i < RG_ARRAY_SIZE(cmds); i++) {
		int rc = rte_telemetry_register_cmd(cmds[i].cmd, dispatch, cmds[i].help);

		if (rc != 0)
			return rc;
	}
	return 0;
}
