#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration: two workers per gateway, four lanes, on this machine's two CPUs.

Each side runs a main lcore and two worker lcores mapped onto the two CPUs (--lcores), one
memif queue pair per worker; streams spread over the four lanes by hash and lanes over the
workers by number. The WAN emulator is on (lossy, reordering) so both workers retransmit.
Passes when the merged verdict passes (every record of every one of the 64 streams
delivered exactly once, in order) and at least FLOOR records went through. The demo's 64
stream ids hash onto the four lanes as 17/16/12/19 streams (rg_stream_lane), so lanes 0
and 2 (worker 0) and 1 and 3 (worker 1) all carry streams: both workers of each side
must work for the verdict to pass.
"""
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import pair  # noqa: E402

RATE = 100000
DURATION_S = 6
FLOOR = 300000
SETS = ["workers.count=2", "peers.[0].lanes=4", "wan.loss=0.005", "wan.reorder=0.01",
        "wan.delay_ms=5"]
LCORES = {"a": ["--lcores", "0@0,1@1,2@0"], "b": ["--lcores", "0@1,1@0,2@1"]}


def main():
    args = pair.parse_args(__doc__)
    with pair.Pair("multi_worker", args, sets=SETS, budget_s=90, lcores=LCORES) as p:
        p.start_a([f"load.rate_records_s={RATE}", f"load.duration_s={DURATION_S}"])
        p.start_b()
        p.flowing()
        p.wait_a_done(DURATION_S + 40)
        m = p.finish(floor=FLOOR)
        p.measure.update(records=m["records_published"], floor=FLOOR,
                         consumer_records_per_s=m["records_per_s"],
                         goodput_gbps=m["goodput_gbps"])


if __name__ == "__main__":
    main()
