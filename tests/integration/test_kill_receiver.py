#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration: the receiving gateway is killed with -9 mid-stream and restarted.

The demo's WAN (30 ms one-way, 0.5 % loss, some reordering); A publishes at 100k records/s
for 10 s. 2 s after B has checked its first records, B gets SIGKILL; 1 s later B starts
again with the same state file (its applied watermarks, mmapped). The gateways run the
resume handshake and A replays from B's applied watermarks. Passes when the merged verdict
passes (no loss, no duplicate, nothing out of order across the two incarnations) and B
counts 2 incarnations. Prints the recovery times from B's restart: to its 'up' line, to
its first records checked, and to A's applied count moving again.
"""
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import pair  # noqa: E402

RATE = 100000
DURATION_S = 10
KILL_AT_S = 2.0
DOWN_S = 1.0
FLOOR = 500000


def main():
    args = pair.parse_args(__doc__)
    with pair.Pair("kill_receiver", args, budget_s=100) as p:
        p.start_a([f"load.rate_records_s={RATE}", f"load.duration_s={DURATION_S}"])
        p.start_b()
        t_flow = p.flowing()
        p.sleep_until(t_flow + KILL_AT_S)
        t_kill = time.monotonic()
        p.b.kill9()
        p.sleep_until(t_kill + DOWN_S)
        a_applied = max([f["applied"] for _, f in p.a.progress()] or [0])
        b1_checked = max([f["checked"] for _, f in p.b.progress(inc=1)] or [0])
        t_restart = time.monotonic()
        p.b.start()
        t_up, _ = p.b.wait_for(pair.is_up, 20, "'up' line")
        t_b, _ = p.b.wait_for(pair.checked_above(0), 20, "records checked after the restart")
        t_a, _ = p.a.wait_for(pair.applied_above(a_applied), 20, "A's applied count moving",
                              since=t_restart)
        p.wait_a_done(DURATION_S + 60)
        m = p.finish(floor=FLOOR)
        p.check(m["incarnations"] == 2, f"consumer incarnations {m['incarnations']}, expected 2")
        p.measure.update(
            records=m["records_published"], floor=FLOOR,
            b1_checked_before_kill=b1_checked, b2_checked=m["records_checked"],
            a_applied_before_restart=a_applied,
            restart_to_up_s=round(t_up - t_restart, 3),
            recovery_s=round(t_b - t_restart, 3),
            recovery_a_applied_s=round(t_a - t_restart, 3),
            kill_to_recovery_s=round(t_b - t_kill, 3),
            consumer_records_per_s=m["records_per_s"], goodput_gbps=m["goodput_gbps"])
        p.say(f"recovery: B restarted → up {t_up - t_restart:.3f} s, first records checked "
              f"{t_b - t_restart:.3f} s, A's applied moving {t_a - t_restart:.3f} s")


if __name__ == "__main__":
    main()
