#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration: a noisy namespace must not starve the others (DESIGN §4.5, backpressure).

A third run repeats the noisy one with namespace 3 in priority class CONTROL
(load.priority_namespaces = 1): its p99 must stay within the same bound.

Two runs of the same pair on the same machine, one after the other, compared as a ratio:

  alone  3 namespaces (48 streams) publish at RATE records/s in all;
  noisy  the same 3 namespaces at the same rate, plus namespace 0 (16 more streams)
         publishing as fast as backpressure allows (load.flood_namespaces = 1).

The consumer reports p99 creation → delivery latency per namespace; a paced record's
creation time is its schedule's, so time spent waiting behind the flood on the producer's
side counts. Passes when every low-rate namespace's p99 in the noisy run is within 2× of the
worst low-rate p99 of the alone run (plus 1 ms of timer noise), both runs' verdicts pass, the
flood really flooded (it moved several times the low-rate records) and every low-rate
namespace delivered records.
"""
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import pair  # noqa: E402

RATE = 20000
DURATION_S = 5
FLOOR = 50000
SLACK_US = 1000.0
# A provisioned 1 Gbit/s link with 5 ms one-way delay and no faults; lanes paced just under it.
LINK = ["wan.rate_mbit_s=1000", "wan.delay_ms=5", "wan.jitter_ms=0", "wan.loss=0",
        "wan.reorder=0", "proto.pace_mbit_s=950"]


def run(args, name, sets):
    with_noise = "load.flood_namespaces=1" in sets
    p = pair.Pair(name, args, sets=[*LINK, f"load.rate_records_s={RATE}",
                                    f"load.duration_s={DURATION_S}", *sets], budget_s=50)
    try:
        with p:
            p.start_a()
            p.start_b()
            p.flowing()
            p.wait_a_done(DURATION_S + 30)
            m = p.finish(floor=FLOOR)
            con = p.b.verdict()
            result = {"verdict": m["verdict"], "published": m["records_published"],
                      "p99": con.get("ns_latency_p99_us", []),
                      "p50": con.get("ns_latency_p50_us", []), "noisy": with_noise}
    except SystemExit as e:  # Pair ends the process; keep going to compare
        if e.code:
            raise
    return result


def main():
    args = pair.parse_args(__doc__)
    base = args.workdir
    if base:
        args.workdir = base + "/alone"
    alone = run(args, "fairness_alone", ["load.streams=48", "load.namespaces=3"])
    if base:
        args.workdir = base + "/noisy"
    noisy = run(args, "fairness_noisy", ["load.streams=64", "load.namespaces=4",
                                        "load.flood_namespaces=1"])
    failures = []
    low_alone = alone["p99"]
    low_noisy = noisy["p99"][1:]
    if len(low_alone) != 3 or len(low_noisy) != 3:
        failures.append(f"expected 3 low-rate namespaces per run: {low_alone} / {low_noisy}")
    else:
        bound = 2 * max(low_alone) + SLACK_US
        for i, v in enumerate(low_noisy):
            if v <= 0:
                failures.append(f"namespace {i + 1} delivered nothing in the noisy run")
            elif v > bound:
                failures.append(f"namespace {i + 1} p99 {v:.0f} us > 2 x alone "
                                f"({max(low_alone):.0f} us) + {SLACK_US:.0f} us")
    if base:
        args.workdir = base + "/priority"
    prio = run(args, "fairness_priority", ["load.streams=64", "load.namespaces=4",
                                          "load.flood_namespaces=1",
                                          "load.priority_namespaces=1"])
    # Namespace 3's streams are class CONTROL: the lane sends their data before anything
    # of the flood's (and of namespaces 1, 2).
    if len(prio["p99"]) == 4 and low_alone:
        if not 0 < prio["p99"][3] <= 2 * max(low_alone) + SLACK_US:
            failures.append(f"CONTROL namespace 3 p99 {prio['p99'][3]:.0f} us beside the flood, "
                            f"alone {max(low_alone):.0f} us")
    else:
        failures.append(f"priority run: per-namespace p99 missing: {prio['p99']}")
    print(f"priority: with namespace 3 in class CONTROL, p99 per namespace {prio['p99']} us")
    flood = noisy["published"] - alone["published"]
    if flood < 2 * alone["published"]:
        failures.append(f"the flood made only {flood} records (alone run: "
                        f"{alone['published']}): it did not flood")
    print(f"fairness: low-rate p99 alone {low_alone} us; with a flooding namespace "
          f"{low_noisy} us (flood namespace p99 {noisy['p99'][:1]} us); records alone "
          f"{alone['published']}, noisy {noisy['published']}; ratio worst "
          f"{max(low_noisy) / max(low_alone):.2f}" if low_alone and low_noisy else "")
    if failures:
        print("integration fairness: FAIL: " + " | ".join(failures))
        sys.exit(1)
    print("integration fairness: PASS")


if __name__ == "__main__":
    main()
