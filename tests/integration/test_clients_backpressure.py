#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration: a consumer that stops reading; backpressure reaches the producer, bounded.

The chain of test_clients_clean with small queues (each relayed send queue and receive
window 256 records, the producer's 256 a stream), 8 streams at 20k records/s. The consumer
process is stopped (SIGSTOP). Then, polling with a bound (no fixed sleep):
  - the producer's progress line says its publishes met -EAGAIN (backpressure) and what it
    made stops moving past what the hops hold;
  - meanwhile each gateway's relay buffers, read from telemetry (/repgate/relay), stay under
    their limits: queued records <= streams x stream_records_max, and <= the worker's pool;
    nothing is staged between flushes.
The consumer goes on (SIGCONT); passes when the merged verdict passes: nothing was dropped.
"""
import sys
import time

sys.dont_write_bytecode = True
import relay  # noqa: E402

STREAMS = 8
QUEUE = 256
LOAD = ["--streams", STREAMS, "--namespaces", 2, "--record-bytes", 1024, "--window", QUEUE]
SETS = [f"proto.tx_stream_records_max={QUEUE}", f"proto.rx_window_records={QUEUE}"]


def backpressure(line):
    m = relay.re.search(r"generator: made (\d+) .* backpressure (\d+) held (\d+)", line)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m and int(m.group(2)) > 0 \
        else None


def main():
    args = relay.parse_args(__doc__)
    with relay.Relay("clients_backpressure", args, budget_s=100, sets=SETS,
                     load_args=LOAD) as r:
        r.start_gateways()
        r.ver.start()
        r.gen.start("--rate", 20000, "--duration", 60)
        t_flow = r.wait_checked(0, 30)
        r.ver.signal(relay.signal.SIGSTOP)
        t_stop = time.monotonic()
        # the producer meets -EAGAIN: its queue is full because every hop's is
        t_bp, (made, bp, held) = r.gen.wait_for(backpressure, 30, "backpressure",
                                                since=t_stop)
        # sample both relays while the consumer stays stopped, until the flow stands still:
        # gateway A relays nothing more (a paced producer keeps "making" on schedule; what it
        # can hand over is what stops)
        peak = {"a": 0, "b": 0}
        limits = {}
        last, still = -1, 0
        deadline = time.monotonic() + 20
        while still < 8 and time.monotonic() < deadline:
            for g in (r.a, r.b):
                t = g.ctl("relay")
                peak[g.side] = max(peak[g.side], t["queued_records"])
                limits[g.side] = t
                r.check(t["staged_records"] == 0, f"{g.label}: records staged between flushes")
            cur = limits["a"]["ctr_records"]
            still = still + 1 if cur == last else 0
            last = cur
            time.sleep(0.25)  # a sampling period, not a wait for a condition
        r.check(still >= 8, "gateway A kept relaying while the consumer was stopped")
        p = r.gen.progress()
        held = p[-1][1].get("held", held) if p else held
        last_made = max([f["made"] for _, f in p] or [made])
        for side, t in limits.items():
            bound = STREAMS * t["stream_records_max"]
            r.check(peak[side] <= bound and peak[side] <= t["queued_records_max"],
                    f"gateway {side}: {peak[side]} records queued, above {bound}")
            r.check(peak[side] > 0, f"gateway {side}: nothing queued: the test saw nothing")
        r.measure.update(producer_backpressure=bp, made_when_full=last_made, relayed_a=last,
                         held_by_producer=held, queued_peak_a=peak["a"], queued_peak_b=peak["b"],
                         queued_bound=STREAMS * QUEUE,
                         stop_to_backpressure_s=round(t_bp - t_stop, 3))
        r.ver.signal(relay.signal.SIGCONT)
        r.gen.signal(relay.signal.SIGUSR1)
        m = r.finish(gen_timeout=60, floor=last)
        r.check(r.gen.verdict()["backpressure"] > 0, "the producer saw no backpressure")
        r.measure.update(records=m["records_published"], first_record_s=round(t_flow - r.t0, 3))


if __name__ == "__main__":
    main()
