#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration: a WAN partition in both directions, then healed.

The demo's WAN (30 ms one-way, 0.5 % loss, some reordering); A publishes at 100k records/s
for 10 s. 2 s after B has checked its first records, both gateways get SIGUSR1 (their WAN
directions drop everything they send); 3 s later SIGUSR2 heals them. Passes when the
merged verdict passes, both emulators dropped packets for the partition, B's checked count
stood still during the partition, and moved again after the heal (the time it took is
printed as resume_after_heal_s).
"""
import signal
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import pair  # noqa: E402

RATE = 100000
DURATION_S = 10
PARTITION_AT_S = 2.0
PARTITION_S = 3.0
SETTLE_S = 0.5  # packets already in the emulated WAN (30 ms) land after the cut
FLOOR = 500000


def checked_at(series, t):
    """B's checked count at the last progress line at or before t."""
    v = 0
    for when, n in series:
        if when > t:
            break
        v = n
    return v


def main():
    args = pair.parse_args(__doc__)
    with pair.Pair("partition", args, budget_s=100) as p:
        p.start_a([f"load.rate_records_s={RATE}", f"load.duration_s={DURATION_S}"])
        p.start_b()
        t_flow = p.flowing()
        p.sleep_until(t_flow + PARTITION_AT_S)
        t_cut = time.monotonic()
        p.a.signal(signal.SIGUSR1)
        p.b.signal(signal.SIGUSR1)
        p.b.wait_for(lambda x: x == "repgate: WAN partitioned", 5, "'WAN partitioned'")
        p.sleep_until(t_cut + PARTITION_S)
        t_heal = time.monotonic()
        p.a.signal(signal.SIGUSR2)
        p.b.signal(signal.SIGUSR2)
        before = checked_at(pair.rate_series(p.b, "checked"), t_heal)
        t_resume, f = p.b.wait_for(pair.checked_above(before), 20, "records checked after the heal",
                                   since=t_heal)
        p.wait_a_done(DURATION_S + 60)
        m = p.finish(floor=FLOOR)

        series = pair.rate_series(p.b, "checked")
        at_cut = checked_at(series, t_cut)
        settled = checked_at(series, t_cut + SETTLE_S)
        stalled = checked_at(series, t_heal) - settled
        p.check(stalled == 0, f"B checked {stalled} records while partitioned "
                              f"({t_cut + SETTLE_S - p.t0:.2f}..{t_heal - p.t0:.2f} s)")
        # The last moment B's count moved before the heal: the stall began there.
        last_move = t_cut
        for (t0, n0), (t1, n1) in zip(series, series[1:]):
            if t_cut <= t1 <= t_heal and n1 > n0:
                last_move = t1
        for side in (p.a, p.b):
            n = side.counters().get("wan_drop_partition", 0)
            p.measure[f"{side.label.lower()}_wan_drop_partition"] = n
            p.check(n > 0, f"{side.label}'s WAN dropped nothing for the partition")
        p.measure.update(
            records=m["records_published"], floor=FLOOR,
            checked_before_cut=at_cut, checked_after_cut=settled - at_cut,
            stalled_s=round(t_heal - last_move, 2),
            resume_after_heal_s=round(t_resume - t_heal, 3),
            checked_in_first_progress_after_heal=f["checked"] - before,
            consumer_records_per_s=m["records_per_s"], goodput_gbps=m["goodput_gbps"])


if __name__ == "__main__":
    main()
