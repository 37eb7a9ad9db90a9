#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration: the sending gateway (and its generator) is killed with -9 mid-stream.

The demo's WAN (30 ms one-way, 0.5 % loss, some reordering); A publishes at 100k records/s.
2 s after B has checked its first records, A gets SIGKILL; 1 s later A starts again (the
memif server: its stale socket is removed first) for 6 s more. B keeps running and tells
the new A, in the resume handshake, where each stream must replay from; the new A makes
those records again (same bytes) and then new ones, and prints the generator's verdict.
Passes when the merged verdict (the restarted A's and B's) passes. Prints the recovery
times from A's restart: to its 'up' line, to B checking records again, and to the new A
seeing records applied.
"""
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import pair  # noqa: E402

RATE = 100000
DURATION_S = 30  # the first A is killed long before
RESTART_DURATION_S = 6
KILL_AT_S = 2.0
DOWN_S = 1.0
FLOOR = 500000


def main():
    args = pair.parse_args(__doc__)
    with pair.Pair("kill_sender", args, budget_s=100) as p:
        p.start_a([f"load.rate_records_s={RATE}", f"load.duration_s={DURATION_S}"])
        p.start_b()
        t_flow = p.flowing()
        p.sleep_until(t_flow + KILL_AT_S)
        t_kill = time.monotonic()
        p.a.kill9()
        p.sleep_until(t_kill + DOWN_S)
        b_checked = max([f["checked"] for _, f in p.b.progress()] or [0])
        a1_made = max([f["made"] for _, f in p.a.progress(inc=1)] or [0])
        t_restart = time.monotonic()
        p.start_a([f"load.rate_records_s={RATE}", f"load.duration_s={RESTART_DURATION_S}"])
        t_up, _ = p.a.wait_for(pair.is_up, 20, "'up' line")
        try:
            t_b, _ = p.b.wait_for(pair.checked_above(b_checked), 20,
                                  "B checking records after A's restart", since=t_restart)
        except pair.TestError as e:
            # Say what each side saw: is the new A's lane up (did the link come back)?
            a_last = (p.a.progress(inc=p.a.incarnation) or [(0, {})])[-1][1]
            b_last = (p.b.progress() or [(0, {})])[-1][1]
            raise pair.TestError(f"{e}; the new A's last progress: made {a_last.get('made')} "
                                 f"lanes up {a_last.get('up')}; B's: checked "
                                 f"{b_last.get('checked')} lanes up {b_last.get('up')}") from None
        t_a, _ = p.a.wait_for(pair.applied_above(0), 20, "the new A seeing records applied")
        p.wait_a_done(RESTART_DURATION_S + 60)
        m = p.finish(floor=FLOOR)
        p.check(m["incarnations"] == 1, f"consumer incarnations {m['incarnations']}, expected 1")
        p.measure.update(
            records=m["records_published"], floor=FLOOR, a1_made_before_kill=a1_made,
            b_checked_before_restart=b_checked,
            restart_to_up_s=round(t_up - t_restart, 3),
            recovery_s=round(t_b - t_restart, 3),
            recovery_a_applied_s=round(t_a - t_restart, 3),
            kill_to_recovery_s=round(t_b - t_kill, 3),
            consumer_records_per_s=m["records_per_s"], goodput_gbps=m["goodput_gbps"])
        p.say(f"recovery: A restarted → up {t_up - t_restart:.3f} s, B checking again "
              f"{t_b - t_restart:.3f} s, new A sees applied {t_a - t_restart:.3f} s")


if __name__ == "__main__":
    main()
