#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration: kill -9 of one of the four processes mid-stream, then a restart.

    --which producer | gateway_a | gateway_b | consumer

The chain of test_clients_clean (producer client → gateway A → emulated WAN → gateway B →
consumer client), 16 streams of 1 KiB records at 20k records/s. 2 s after the consumer
checked its first records the chosen process gets SIGKILL; 1 s later it starts again:
  - the producer with the same streams: the replay from the consumer's applied + 1 makes
    the same bytes again (a record is a pure function of stream, seq and seed);
  - a gateway: a new process and incarnation, a new tap (moved into its LAN namespace again),
    which every peer and client resyncs with; the WAN memif reconnects;
  - the consumer from its state file: what it checked but had not applied comes again.
Passes when the merged verdict passes (0 lost, duplicated, reordered, gapped; every published
record applied; exactly one consumer incarnation but when the consumer was the one killed).
Prints the recovery time: from the restart to the consumer checking new records.
"""
import sys
import time

sys.dont_write_bytecode = True
import relay  # noqa: E402

RATE = 20000
LOAD = ["--streams", 16, "--namespaces", 4, "--record-bytes", 1024]
KILL_AT_S = 2.0
DOWN_S = 1.0


def main():
    ap_which = [a for a in sys.argv[1:] if a.startswith("--which=")]
    which = ap_which[0].split("=", 1)[1] if ap_which else "producer"
    sys.argv = [a for a in sys.argv if not a.startswith("--which=")]
    args = relay.parse_args(__doc__)
    with relay.Relay(f"clients_kill_{which}", args, budget_s=130, load_args=LOAD) as r:
        victim = {"producer": r.gen, "gateway_a": r.a, "gateway_b": r.b,
                  "consumer": r.ver}[which]
        r.start_gateways()
        r.ver.start()
        r.gen.start("--rate", RATE, "--duration", 30)
        t_flow = r.wait_checked(0, 30)
        while time.monotonic() < t_flow + KILL_AT_S:
            time.sleep(0.02)
        t_kill = time.monotonic()
        victim.kill9()
        while time.monotonic() < t_kill + DOWN_S:
            time.sleep(0.02)
        before = r.checked()
        t_restart = time.monotonic()
        if victim is r.gen:
            r.gen.start("--rate", RATE, "--duration", 5)
        elif victim is r.ver:
            r.ver.start()
        else:
            victim.start()
        # recovery: the consumer checks records past what it had (a new consumer: any)
        t_back = r.wait_checked(0 if victim is r.ver else before, 40, since=t_restart)
        r.measure.update(victim=which, restart_to_records_s=round(t_back - t_restart, 3),
                         kill_to_records_s=round(t_back - t_kill, 3), checked_before=before)
        r.say(f"recovery: {which} killed, restarted after {DOWN_S:.0f} s; the consumer checks "
              f"new records {t_back - t_restart:.3f} s after the restart")
        if victim is not r.gen:
            r.gen.signal(relay.signal.SIGUSR1)  # no new records from now; it still drains
        m = r.finish(gen_timeout=90, floor=20000)
        want = 2 if victim is r.ver else 1
        r.check(m["incarnations"] == want, f"consumer incarnations {m['incarnations']}, want {want}")
        r.measure.update(records=m["records_published"])


if __name__ == "__main__":
    main()
