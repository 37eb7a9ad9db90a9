/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "common.h"
#include "detector.h"

void
rg_detector_config_default(struct rg_detector_config *cfg)
{
	cfg->suspect_phi = 5;
	cfg->dead_phi = 12;
	cfg->first_interval_ns = 100 * RG_NS_PER_MS;
	cfg->min_stddev_ns = 10 * RG_NS_PER_MS;
	cfg->acceptable_pause_ns = 0;
	cfg->dead_after_ns = 10 * RG_NS_PER_S;
}

int
rg_detector_config_check(const struct rg_detector_config *cfg)
{
	if (!(cfg->suspect_phi > 0) || !(cfg->dead_phi > cfg->suspect_phi) ||
	    cfg->first_interval_ns == 0 || cfg->min_stddev_ns == 0 || cfg->dead_after_ns == 0)
		return -EINVAL;
	return 0;
}

void
rg_detector_init(struct rg_detector *d, const struct rg_detector_config *cfg, uint64_t now_ns)
{
	memset(d, 0, sizeof(*d));
	d->cfg = *cfg;
	d->last_ns = now_ns;
	d->state = RG_LIVENESS_ALIVE;
}

static void
set_state(struct rg_detector *d, enum rg_liveness s)
{
	if (s != d->state) {
		d->transitions[d->state][s]++;
		d->state = s;
	}
}

void
rg_detector_heartbeat(struct rg_detector *d, uint64_t now_ns)
{
	uint64_t iv = now_ns > d->last_ns ? now_ns - d->last_ns : 0;

	d->heartbeats++;
	if (d->heartbeats > 1 || d->n > 0) { /* the first one only starts the clock */
		if (d->n == RG_DETECTOR_WINDOW) {
			double old = (double)d->intervals[d->next];

			d->sum -= old;
			d->sumsq -= old * old;
		} else {
			d->n++;
		}
		d->intervals[d->next] = iv;
		d->next = (d->next + 1) % RG_DETECTOR_WINDOW;
		d->sum += (double)iv;
		d->sumsq += (double)iv * (double)iv;
	}
	d->last_ns = RG_MAX(d->last_ns, now_ns);
	set_state(d, RG_LIVENESS_ALIVE);
}

double
rg_detector_phi(const struct rg_detector *d, uint64_t now_ns)
{
	double mean, var, sd, delta, y, e;

	if (now_ns <= d->last_ns)
		return 0;
	if (d->n == 0) {
		mean = (double)d->cfg.first_interval_ns;
		var = mean * mean / 16; /* a guess until intervals are measured: sd = mean / 4 */
	} else {
		mean = d->sum / d->n;
		var = d->sumsq / d->n - mean * mean;
	}
	mean += (double)d->cfg.acceptable_pause_ns;
	sd = RG_MAX(sqrt(RG_MAX(var, 0.0)), (double)d->cfg.min_stddev_ns);
	delta = (double)(now_ns - d->last_ns);
	y = (delta - mean) / sd;
	/* Logistic approximation of the normal CDF (error < 1e-4); computed from the tail side. */
	e = exp(-y * (1.5976 + 0.070566 * y * y));
	if (delta > mean)
		return -log10(e / (1.0 + e));
	return -log10(1.0 - 1.0 / (1.0 + e));
}

enum rg_liveness
rg_detector_update(struct rg_detector *d, uint64_t now_ns)
{
	double phi = rg_detector_phi(d, now_ns);

	if (now_ns >= d->last_ns + d->cfg.dead_after_ns || phi >= d->cfg.dead_phi)
		set_state(d, RG_LIVENESS_DEAD);
	else if (phi >= d->cfg.suspect_phi && d->state == RG_LIVENESS_ALIVE)
		set_state(d, RG_LIVENESS_SUSPECT);
	return d->state;
}

const char *
rg_liveness_name(enum rg_liveness s)
{
	static const char *const names[RG_LIVENESS_MAX] = { "ALIVE", "SUSPECT", "DEAD" };

	return (unsigned)s < RG_LIVENESS_MAX ? names[s] : "?";
}

int
rg_detector_check(const struct rg_detector *d)
{
	double sum = 0, sumsq = 0;

	if (d->n > RG_DETECTOR_WINDOW || (unsigned)d->state >= RG_LIVENESS_MAX)
		return -1;
	for (uint32_t i = 0; i < d->n; i++) {
		sum += (double)d->intervals[i];
		sumsq += (double)d->intervals[i] * (double)d->intervals[i];
	}
	for (int s = 0; s < RG_LIVENESS_MAX; s++)
		if (d->transitions[s][s] != 0)
			return -1;
	/* The running sums drift by rounding only. */
	return fabs(sum - d->sum) <= 1e-6 * (1 + sum) &&
		       fabs(sumsq - d->sumsq) <= 1e-6 * (1 + sumsq)
		   ? 0
		   : -1;
}
