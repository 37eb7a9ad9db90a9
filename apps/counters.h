/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gateway's final counters line (printed on stderr when it stops): every
 * named counter of struct rg_worker_stats, summed over the workers, the
 * nonzero ones only. Pure (formats into a FILE), so a unit test reads the line
 * back (tests/unit/test_counters.c).
 *
 *   repgate: final counters (gateway 1): rx_pkts=10 ... drop_unknown_peer=2
 *       wire_bad_crc=1 frame_not_ipv4=3 wan_drop_loss=5 busy_cycles=... idle_cycles=...
 *
 * Prefixes: worker and core counters have none; drop_ are the protocol core's
 * drops after decoding (enum rg_core_drop), wire_ the RGP codec's (enum
 * rg_wire_drop), frame_ those before RGP (Ethernet, ARP, IPv4, UDP: enum
 * rg_frame_drop), wan_ the WAN emulator's counters.
 */
#ifndef RG_APPS_COUNTERS_H
#define RG_APPS_COUNTERS_H

#include <stdio.h>

#include "worker.h"

/* sum += s, counter by counter (the lane table and gauges are left alone). */
void rg_counters_add(struct rg_worker_stats *sum, const struct rg_worker_stats *s);
/* The line for gateway gw, with its newline. */
void rg_counters_print(const struct rg_worker_stats *sum, unsigned gw, FILE *f);

#endif /* RG_APPS_COUNTERS_H */
