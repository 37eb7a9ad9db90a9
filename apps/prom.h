/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Prometheus text exposition format (version 0.0.4), written into a
 * caller's buffer: pure (no I/O, no allocation, no clock), so a unit test
 * checks it byte for byte (tests/unit/test_prom.c).
 *
 *   # HELP repgate_lane_srtt_seconds Smoothed RTT of a lane.
 *   # TYPE repgate_lane_srtt_seconds gauge
 *   repgate_lane_srtt_seconds{gateway="1",peer="2",lane="0",worker="0"} 0.030125
 *
 * Rules it keeps: a family's HELP and TYPE come once, before its samples
 * (rg_prom_family); label values escape backslash, double quote and newline,
 * HELP text backslash and newline, and both are valid UTF-8 (a byte that is
 * not becomes U+FFFD; a value clipped to fit is cut between characters, at
 * most 255 bytes); counters print as exact integers, gauges
 * as %.9g. When the buffer is full, the line that does not fit is left out
 * whole, `truncated` is set and every later write is a no-op: the caller
 * retries with a larger buffer (the text is never cut mid-line).
 */
#ifndef RG_APPS_PROM_H
#define RG_APPS_PROM_H

#include <stddef.h>
#include <stdint.h>

#define RG_PROM_LABELS_BYTES 512

struct rg_prom {
	char *buf;
	size_t cap, len; /* buf[len] is always '\0' (cap >= 1) */
	int truncated;
};

/* Preformatted label pairs: `k1="v1",k2="v2"` (without the braces). */
struct rg_prom_labels {
	char s[RG_PROM_LABELS_BYTES];
	size_t len;
	int truncated;
};

void rg_prom_init(struct rg_prom *p, char *buf, size_t cap);
/* HELP and TYPE lines of one family; type is "counter", "gauge" or "untyped". */
void rg_prom_family(struct rg_prom *p, const char *name, const char *type, const char *help);
/* One sample; labels may be NULL (no braces). */
void rg_prom_u64(struct rg_prom *p, const char *name, const struct rg_prom_labels *l, uint64_t v);
void rg_prom_f64(struct rg_prom *p, const char *name, const struct rg_prom_labels *l, double v);

void rg_prom_labels_init(struct rg_prom_labels *l);
void rg_prom_label(struct rg_prom_labels *l, const char *key, const char *value);
void rg_prom_label_u64(struct rg_prom_labels *l, const char *key, uint64_t value);

#endif /* RG_APPS_PROM_H */
