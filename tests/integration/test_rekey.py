#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration: sealed sessions rekeyed many times under a full flow, without a pause.

As test_clean (64 streams of 1 KiB records at 100k records/s for 6 s over a clean network),
with both gateways' sessions replaced by a new Noise IK handshake every second by time
(security.rekey_after_s = 1, reject_after_s = 3) and every 64 MiB sealed by bytes
(rekey_after_mib = 64: about every 0.7 s at this rate), so each lane rekeys several times
while records flow (docs/protocol.md §5c, session cases 2 and 3). Passes when the merged
verdict passes (nothing lost, duplicated or reordered), at least 80 % of what RATE gives over
the seconds records flowed were published (Pair.flow_floor: a rekey that paused the flow
would cost that), and the two gateways finished at least REKEYS_MIN handshakes between them
with no packet dropped for want of a session (NO_KEY) or a handshake that did not check.
"""
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import pair  # noqa: E402

RATE = 100000
DURATION_S = 6
REKEY = ["security.rekey_after_s=1", "security.reject_after_s=3", "security.rekey_after_mib=64"]
REKEYS_MIN = 4  # about 5 s of flow, a rekey a second at the least: measured here 10


def main():
    args = pair.parse_args(__doc__)
    with pair.Pair("rekey", args, sets=["wan.enabled=false"] + REKEY, budget_s=60) as p:
        p.start_a([f"load.rate_records_s={RATE}", f"load.duration_s={DURATION_S}"])
        p.start_b()
        t_flow = p.flowing()
        p.wait_a_done(DURATION_S + 30)
        floor = p.flow_floor(RATE, DURATION_S, t_flow)
        m = p.finish(floor=floor)
        ca, cb = p.a.counters(), p.b.counters()
        p.check(ca and cb, "a gateway printed no final counters")
        done = ca.get("hs_done", 0) + cb.get("hs_done", 0)
        bad = {f"{side} {k}": c.get(k, 0) for side, c in (("A", ca), ("B", cb))
               for k in ("drop_NO_KEY", "drop_BAD_HANDSHAKE")}
        p.say(f"handshakes finished: A {ca.get('hs_done', 0)}, B {cb.get('hs_done', 0)}; "
              f"INITs sent A {ca.get('hs_init_tx', 0)}, B {cb.get('hs_init_tx', 0)}; {bad}")
        p.check(done >= REKEYS_MIN, f"{done} handshakes finished, want >= {REKEYS_MIN}")
        p.check(not any(bad.values()), f"drops for want of a session or a bad handshake: {bad}")
        p.measure.update(records=m["records_published"], floor=floor, handshakes=done,
                         consumer_records_per_s=m["records_per_s"],
                         goodput_gbps=m["goodput_gbps"])


if __name__ == "__main__":
    main()
