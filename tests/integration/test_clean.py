#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration: a clean network (WAN emulator off) at a fixed rate.

A publishes 64 streams of 1 KiB records at 100k records/s for 6 s (its clock starts before
B is up, so about 5 s of that carries records); B checks every one. Passes when the merged
verdict passes and at least 80 % of what RATE gives over the seconds records flowed were
published (Pair.flow_floor).
"""
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import pair  # noqa: E402

RATE = 100000
DURATION_S = 6
# Measured here: ~5.4 s of the 6 carry records (B is up ~0.5 s after A), 540k records; on a
# busy machine B has come up 2.4 s after A, so the floor follows the window (Pair.flow_floor).


def main():
    args = pair.parse_args(__doc__)
    with pair.Pair("clean", args, sets=["wan.enabled=false"], budget_s=60) as p:
        p.start_a([f"load.rate_records_s={RATE}", f"load.duration_s={DURATION_S}"])
        p.start_b()
        t_flow = p.flowing()
        p.measure["b_first_record_after_a_start_s"] = round(t_flow - p.a.started_at, 3)
        p.wait_a_done(DURATION_S + 30)
        floor = p.flow_floor(RATE, DURATION_S, t_flow)
        m = p.finish(floor=floor)
        p.measure.update(records=m["records_published"], floor=floor,
                         consumer_records_per_s=m["records_per_s"],
                         goodput_gbps=m["goodput_gbps"],
                         generator_records_per_s=m["generator_records_per_s"])


if __name__ == "__main__":
    main()
