#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration: hostile packets at a gateway's LAN port while a sealed flow goes through it.

The chain of relay.py (producer P -> gateway A -> WAN -> gateway B -> consumer C, every hop
sealed with keys made for this test) carries 8 streams at 5k records/s. Meanwhile an attacker
(tests/integration/attacker.py) in A's LAN namespace, on the producer's own IP address but
from a UDP port of its own and with no key, reads the producer's packets off the tap and
sends A's port 10.1.0.2:7000 one case after another, each a bounded count of packets:

   1 garbage       random bytes (half of them claiming client 10's id)
   2 truncated     shorter than the RGP header
   3 wrong_length  the length field not the datagram's; datagrams beyond the LAN MTU
   4 bad_tag       a valid-looking sealed header (the real session's epoch), random ciphertext
                   and tag
   5 replay        captured packets of the producer, sent again verbatim
   6 forged_inc    the producer with a higher incarnation (a claimed restart): no session of
                   that incarnation opens it (NO_KEY)
   7 far_ahead     packet numbers 10^9 ahead (and 100,000 behind)
   8 init_flood    handshake INITs with random new incarnations: past RG_HS_PER_S rate-limited,
                   within it the Noise message fails (BAD_HANDSHAKE), none answered;
     resume_flood  RESUME-sized sealed packets under the real incarnations
   9 close         a forged CLOSE, sealed (random tag) and plaintext (good CRC32C)
  10 plaintext     type 1 packets with a good CRC32C and valid frames, claiming the producer

After each case: gateway A still runs and answers telemetry (/repgate/status), the flow goes
on (the consumer checks more records), A sent nothing back to the attacker's port (it learned
no forgery as the client's address), and the counter the case names moved by at least what
the case expects (less the frames the tap dropped before A read them), read from A's
Prometheus metrics (docs/operations.md: drops by reason are
exported there, per worker) with a bounded poll; the cases that claim a restart or a CLOSE
also check that A took none (peer_restarts, close_rx unchanged). At the end the merged verdict
of the whole flow must be clean (nothing lost, duplicated, reordered or gapped; records
checked > 0). Prints a table: case, packets sent, counter, expected, moved by.

--plaintext is a canary, not registered: the same cases against gateways with security.mode =
"none", where the CRC is all a forgery needs; the run must fail (the sealed forgeries are
MODE_MISMATCH, not BAD_TAG; a plaintext HELLO with a higher incarnation is taken as a restart).
"""
import json
import subprocess
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True
import relay  # noqa: E402
import test_metrics  # noqa: E402  (free_port, scrape: one parser of /metrics)

LOAD = ["--streams", 8, "--namespaces", 2, "--record-bytes", 1024]
RATE, N = 5000, 2000
ATTACKER = Path(__file__).resolve().parent / "attacker.py"
HS_PER_S = 100  # RG_HS_PER_S: the INITs a peer may have checked a second (100 banked at start)

# case number, attacker case, main count, [(counter(s) summed, kinds whose sent count it must
# reach, extra)], counters that must not move. A counter is "family.name": core.<drop reason>,
# wire.<codec drop>, frame.<drop before RGP>, worker.<worker counter>, ctr.<core counter>.
# extra: "x2" (each datagram makes at least 2 IPv4 fragments) or "bucket" (all but what the
# INIT bucket lets through: 100 banked, 100/s).
CASES = [
    (1, "garbage", N, [(["worker.rx_peer_mismatch"], ["random"], None),
                       (["wire.*"], ["random_as_client"], None)], []),
    (2, "truncated", N, [(["frame.bad_length"], ["truncated"], None)], []),
    (3, "wrong_length", N, [(["wire.bad_length"], ["wrong_length"], None),
                            (["frame.ip_fragment"], ["oversized"], "x2")], []),
    (4, "bad_tag", N, [(["core.bad_tag"], ["bad_tag"], None)], []),
    (5, "replay", N, [(["core.dup_packet", "core.old_init"], ["replay"], None)], []),
    (6, "forged_inc", N, [(["core.no_key"], ["forged_inc"], None)], ["ctr.peer_restarts"]),
    (7, "far_ahead", N, [(["core.pn_ahead"], ["far_ahead"], None),
                         (["core.dup_packet"], ["far_behind"], None)], []),
    (8, "init_flood", 3000, [(["core.bad_handshake", "core.key_limited"], ["init"], None),
                             (["core.key_limited"], ["init"], "bucket")],
     ["ctr.peer_restarts", "ctr.hs_init_rx"]),
    (8, "resume_flood", N, [(["core.bad_tag"], ["resume"], None)], []),
    (9, "close", N, [(["core.bad_tag"], ["close_sealed"], None),
                     (["core.mode_mismatch"], ["close_plaintext"], None)], ["ctr.close_rx"]),
    (10, "plaintext", N, [(["core.mode_mismatch"], ["plaintext"], None)],
     ["ctr.peer_restarts"]),
]


def counters(port):
    """A's counters from its /metrics, summed over workers: {"core.bad_tag": n, ...}."""
    s = test_metrics.scrape(port)
    out = {}
    for fam, key in (("repgate_core_drops_total", "core"), ("repgate_wire_drops_total", "wire"),
                     ("repgate_frame_drops_total", "frame")):
        for labels, v in s.get(fam, []):
            k = f"{key}.{labels['reason']}"
            out[k] = out.get(k, 0) + int(v)
    for name, samples in s.items():
        for prefix, key in (("repgate_worker_", "worker"), ("repgate_core_", "ctr")):
            if name.startswith(prefix) and name.endswith("_total") and "drops" not in name:
                k = f"{key}.{name[len(prefix):-len('_total')]}"
                out[k] = sum(int(v) for _, v in samples)
    return out


def value(c, names):
    """The sum of the named counters; "wire.*" is every codec drop reason."""
    total = 0
    for n in names:
        if n.endswith(".*"):
            total += sum(v for k, v in c.items() if k.startswith(n[:-1]))
        else:
            total += c.get(n, 0)
    return total


def expected(rule, sent, report):
    names, kinds, extra = rule
    n = sum(sent.get(k, 0) for k in kinds)
    if extra == "x2":
        return 2 * n
    if extra == "bucket":  # the first INITs are checked (100 banked), then 100/s
        return max(0, n - HS_PER_S - int(HS_PER_S * (report["send_s"] + 1.0)))
    return n


def attack(r, case, count, seed):
    """Runs attacker.py for one case in A's LAN namespace; its JSON report."""
    cmd = ["ip", "netns", "exec", r.a.netns, sys.executable, str(ATTACKER), "--case", case,
           "--count", str(count), "--iface", r.a.iface, "--src", r.a.client_ip,
           "--dst", f"{r.a.ip}:7000", "--client", str(r.a.client_id),
           "--gateway", str(r.a.id), "--seed", str(seed)]
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=60)
    if p.returncode != 0:
        raise relay.TestError(f"attacker {case}: status {p.returncode}: "
                              f"{(p.stdout + p.stderr).strip()[-400:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def run_case(r, port, spec, seed, rows, checks):
    num, case, count, rules, still = spec
    before, drops0 = counters(port), r.a.lan_counters()["link"]["tx_dropped"]
    checked0 = r.checked()
    rep = attack(r, case, count, seed)
    sent = rep["sent"]
    r.say(f"case {num} {case}: {json.dumps(rep, separators=(',', ':'))}")
    # frames the tap dropped (A busy, its queue of 1,000 full) never reached A: the attacker's
    # or the client's, they are not asked of A's counters (the sending is over: final now)
    tap_drops = r.a.lan_counters()["link"]["tx_dropped"] - drops0
    want = [max(0, expected(rule, sent, rep) - tap_drops) for rule in rules]
    # the workers publish their counters now and then: poll, bounded, until all reached
    deadline = time.monotonic() + 10
    while True:
        now = counters(port)
        moved = [value(now, rule[0]) - value(before, rule[0]) for rule in rules]
        if all(m >= w for m, w in zip(moved, want)) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    for rule, w, m in zip(rules, want, moved):
        kinds = "+".join(rule[1])
        cname = "+".join(rule[0])
        rows.append((f"{num} {case}", kinds, sum(sent.get(k, 0) for k in rule[1]), cname, w, m))
        checks.append(r.check(w > 0 and m >= w,
                              f"case {num} {case}: {cname} moved by {m}, want >= {w} "
                              f"({kinds} sent {sum(sent.get(k, 0) for k in rule[1])}, "
                              f"tap drops {tap_drops}, send errors {rep['send_errors']})"))
    for name in still:
        d = now.get(name, 0) - before.get(name, 0)
        rows.append((f"{num} {case}", "-", 0, name, 0, d))
        checks.append(r.check(d == 0, f"case {num} {case}: {name} moved by {d}, want 0"))
    checks.append(r.check(rep["replies"] == 0, f"case {num} {case}: A sent the attacker's "
                          f"port {rep['replies']} datagrams (learned it as the client's)"))
    checks.append(r.check(r.a.running(), f"case {num} {case}: gateway A exited"))
    st = r.a.ctl("status")
    checks.append(r.check(st.get("gateway") == 1, f"case {num} {case}: A's status {st}"))
    r.wait_checked(checked0, 20)  # the real flow goes on after the case
    checks.append(True)


def table(rows):
    head = ("case", "kind", "sent", "counter", "expected", "moved by")
    cells = [head] + [tuple(str(x) if i != 4 else (f">= {x}" if x else "= 0")
                            for i, x in enumerate(row)) for row in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    return "\n".join("  ".join(c[i].ljust(widths[i]) if i in (0, 1, 3) else c[i].rjust(widths[i])
                               for i in range(len(head))) for c in cells)


def main():
    args = relay.parse_args(__doc__)
    if args.plaintext:  # a canary, not in the suite: the checks must catch what then gets in
        print("test_hostile --plaintext: a canary; security.mode = none, so it must FAIL "
              "(no BAD_TAG, forged restarts taken)", flush=True)
    port = test_metrics.free_port()
    with relay.Relay("hostile", args, budget_s=120, load_args=LOAD) as r:
        r.a.sets.append(f"telemetry.metrics_port={port}")
        r.start_gateways()
        r.ver.start()
        r.gen.start("--rate", RATE, "--duration", 100)
        r.wait_checked(0, 30)
        rows, checks = [], []
        for i, spec in enumerate(CASES):
            run_case(r, port, spec, seed=1000 + i, rows=rows, checks=checks)
        with r.out_lock:
            print(table(rows), flush=True)
        r.gen.signal(relay.signal.SIGUSR1)
        m = r.finish(gen_timeout=60, floor=RATE * 5)
        checks.append(m["verdict"] == "pass")
        r.measure.update(records=m["records_published"], checks=len(checks),
                         cases=len({row[0] for row in rows}))
        r.check(len(checks) >= len(CASES) * 4 and all(checks),
                f"{len(checks)} checks, {checks.count(False)} failed")


if __name__ == "__main__":
    main()
