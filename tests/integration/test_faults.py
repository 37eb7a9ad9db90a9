#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration: a lossy, bursty, duplicating, reordering, corrupting WAN.

Both directions of the emulated WAN drop 2 % of packets at random, enter a Gilbert-Elliott
bad state (half its packets lost) now and then, duplicate 1 %, delay 2 % by 5 ms extra,
flip bits in 0.5 %, on 10 ms one-way. A publishes at 100k records/s for 6 s. Passes when
the merged verdict passes AND every fault class was injected (the emulator's counters) AND
the gateways reacted (retransmissions, CRC failures caught, duplicate packets dropped): a
run in which no fault happened proves nothing and fails.
"""
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import pair  # noqa: E402

RATE = 100000
DURATION_S = 6
# Of RATE over the seconds records flowed (Pair.flow_floor); lossy, so below clean's 0.8.
FLOOR_SHARE = 0.6
WAN = ["wan.enabled=true", "wan.delay_ms=10", "wan.jitter_ms=0.2", "wan.loss=0.02",
       "wan.burst_enter=0.002", "wan.burst_exit=0.2", "wan.burst_loss=0.5", "wan.dup=0.01",
       "wan.reorder=0.02", "wan.reorder_ms=5", "wan.corrupt=0.005"]
# (counter, who must show it): summed over both gateways' final counters.
INJECTED = ["wan_drop_loss", "wan_drop_burst", "wan_duplicated", "wan_reordered",
            "wan_corrupted"]
REACTED = ["rtx_frames", "pkts_lost", "wire_BAD_CRC", "drop_DUP_PACKET"]


def main():
    args = pair.parse_args(__doc__)
    with pair.Pair("faults", args, sets=WAN, budget_s=90) as p:
        p.start_a([f"load.rate_records_s={RATE}", f"load.duration_s={DURATION_S}",
                   "wan.seed=11"])
        p.start_b(["wan.seed=12"])
        t_flow = p.flowing()
        p.wait_a_done(DURATION_S + 60)
        floor = p.flow_floor(RATE, DURATION_S, t_flow, share=FLOOR_SHARE)
        m = p.finish(floor=floor)
        sides = (p.a, p.b)
        # a corrupted packet fails its AEAD tag when sealed, its CRC in plaintext
        reacted = [("drop_BAD_TAG" if c == "wire_BAD_CRC" and not p.plaintext else c)
                   for c in REACTED]
        for c in INJECTED + reacted:
            n = pair.counter_sum(sides, c)
            p.measure[c] = n
            p.check(n > 0, f"{c} is 0: that fault was not {'injected' if c in INJECTED else 'seen'}")
        p.check(p.a.counters().get("rtx_frames", 0) > 0, "the generator retransmitted nothing")
        p.measure.update(records=m["records_published"], floor=floor,
                         consumer_records_per_s=m["records_per_s"],
                         goodput_gbps=m["goodput_gbps"])


if __name__ == "__main__":
    main()
