#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Clients through a gateway pair against a kernel-TCP relay doing the same job (make perf).

One run, on this machine, per record size (64 B and 1 KiB):

  repgate     producer client (repgate-load --role generator, librepgate over kernel UDP)
                -> gateway A (net_tap LAN) -> net_memif WAN -> gateway B (net_tap LAN)
                -> consumer client (repgate-load --role verifier)
              the chain of tests/integration/relay.py (its Relay, Gateway and Client: the
              gateways' taps in namespaces of their own, the clients inside, every process
              stopped by pid, the namespaces and the DPDK files removed on every way out)
  TCP chain   rg-tcp-relay --send -> --forward -> --forward -> --recv over loopback TCP:
              the same path shape, a relay hop where each gateway is
  TCP direct  rg-tcp-relay --send -> --recv, for reference (one hop, no relay)

The producer runs at full rate (repgate-load --rate 0: as fast as backpressure lets it;
rg-tcp-relay --rate 0: as fast as the sockets take it) for --seconds, then the path drains.
Both carry the same records (dataplane/proto/record.h, CRC32C over each) in STREAMS streams
over NAMESPACES namespaces, one lane (one worker per gateway, one connection per TCP hop,
one thread per TCP process), and both consumers check every record with the same history
checker. The WAN emulator is off (wan.enabled=false), not on at 0 delay and 0 loss: it is a
test instrument, not part of the product's path, and even at zero delay it holds every packet
in its queue and stamps it; harness.py's 0/0 points run without it too, and loopback TCP has
no emulator either.

Per point: the consumer's records/s and Gbit/s (from its verdict: first to last record); the
client library's CPU per record (generator's and verifier's cpu_seconds from their verdicts,
each and summed); each gateway's relay cycles per record (worker busy_cycles from its final
counters over the records it relayed, ctr_records of /repgate/relay), its worker thread's and
its whole process's CPU per record (utime + stime from /proc/PID/task and /proc/PID/stat, from
the producer's start to the consumer's end), what its tap dropped and the clients
retransmitted, and what the pair costs idle; the verdict (nothing lost, duplicated,
reordered, gapped or corrupt; a failing point is reported failing, never left out). Kernel
softirq threads' CPU in each point's time is added to its chain (network work charged to no
process). Ratios in the same run: records per CPU-second of the whole chain, repgate / TCP
chain, and of the two relay hops alone.

The machine is shared: before each point the harness waits (at most --quiet-wait s) for the
other CPUs' load to settle, records what else was busy, and runs each point --repeat times,
interleaved, reporting the median run (by records per chain CPU-second) and the spread.

Writes perf/results/clients.md and clients.json; logs of each point under
perf/results/run-clients-<time>/ (ignored by git).

  perf/clients.py [--seconds S] [--repeat N] [--quick] [--quiet-wait S] [--layout split|shared]
                  [--out DIR]
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import relay  # noqa: E402  (Relay, Gateway, Client: the real chain, cleaned up)

BIN = ROOT / "build" / "release"
TCP = BIN / "perf" / "rg-tcp-relay"
SIZES = (64, 1024)
STREAMS = 64
NAMESPACES = 4
SETS = ["wan.enabled=false"]
DRAIN_S = 30  # the generator waits at most this long for everything to be applied
QUIET_CPUS = 0.3  # a point starts once the machine is this idle (busy CPUs over 1 s), or ...
QUIET_WAIT_S = 20  # ... this long has passed (--quiet-wait)
IDLE_S = 2.0  # the gateway pair's idle cost is measured this long before the producer starts
TCP_GRACE_S = 30  # past --seconds, a TCP process that has not ended is killed


def say(text):
    print(f"perf clients: {text}", flush=True)


def per(n, d):
    return n / d if d else 0.0


def ns_per(cpu_s, records):
    """CPU nanoseconds per record."""
    return round(per(cpu_s * 1e9, records), 1)


# ---- repgate: the real chain ----

class Machine:
    """What every CPU of this machine did (/proc/stat), and the kernel's softirq threads.

    busy: user + nice + system + irq + softirq, everything but idle, iowait and steal (the
    hypervisor running someone else). ksoftirqd: network work the kernel deferred to its
    softirq threads, charged to no process of ours; counted into each chain's CPU (both
    repgate's and TCP's), so that neither hides kernel work there."""

    @staticmethod
    def snapshot():
        tck = os.sysconf("SC_CLK_TCK")
        with open("/proc/stat", encoding="ascii") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
        soft = 0
        for pid in os.listdir("/proc"):
            try:
                if pid.isdigit() and open(f"/proc/{pid}/comm").read().startswith("ksoftirqd"):
                    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
                    soft += int(f[11]) + int(f[12])
            except OSError:
                continue
        return dict(busy=(v[0] + v[1] + v[2] + v[5] + v[6]) / tck, steal=v[7] / tck,
                    ksoftirqd=soft / tck)

    @staticmethod
    def since(s0):
        s1 = Machine.snapshot()
        return {k: round(s1[k] - s0[k], 2) for k in s0}


def wait_quiet(max_s):
    """Waits (at most max_s) until the rest of the machine is quiet: under QUIET_CPUS busy over
    a second. Others share this machine (builds, tests): a point measured while they run
    competes with them for the CPUs. Returns the last second's busy CPUs."""
    deadline, busy = time.monotonic() + max_s, None
    while True:
        s0 = Machine.snapshot()
        time.sleep(1.0)
        busy = Machine.since(s0)["busy"]
        if busy < QUIET_CPUS or time.monotonic() >= deadline:
            return busy


def sample(r):
    """What the chain's gateways have used and counted so far (they must be running)."""
    return {g.side: dict(cpu=g.cpu_seconds(), threads=g.threads_cpu_seconds(),
                         lan=g.lan_counters()) for g in (r.a, r.b)}


def delta(a, b):
    """b - a for every number of two dicts of the same shape."""
    if isinstance(b, dict):
        return {k: delta(a.get(k, 0) if isinstance(a, dict) else 0, v) for k, v in b.items()}
    return round(b - a, 3) if isinstance(b, float) else b - a


def repgate_point(size, secs, runs, layout):
    """Producer -> A -> B -> consumer at full rate for secs; the point's figures."""
    args = argparse.Namespace(repgate=str(BIN / "apps" / "repgate"), load=str(relay.LOAD),
                              workdir=str(runs / f"repgate-{size}"), timeout=None)
    load_args = ["--streams", STREAMS, "--namespaces", NAMESPACES, "--record-bytes", size]
    res = dict(path="repgate", size=size, streams=STREAMS, seconds_asked=secs, ok=False)
    r = relay.Relay(f"perf-clients-{size}", args, budget_s=secs + DRAIN_S + 90, sets=SETS,
                    load_args=load_args, exits=False)
    if layout == "split":  # one CPU per gateway's worker: A's on CPU 0, B's on CPU 1
        r.a.lcores = ["-l", "0,1", "--main-lcore", "1"]
    with r:
        r.start_gateways()
        r.ver.start()
        time.sleep(1.0)  # the consumer subscribes; then the pair idles, measured:
        i0 = {g.side: g.threads_cpu_seconds() for g in (r.a, r.b)}
        time.sleep(IDLE_S)
        i1 = {g.side: g.threads_cpu_seconds() for g in (r.a, r.b)}
        res["idle_cpus"] = {side: {k: round((v - i0[side].get(k, 0)) / IDLE_S, 3)
                                   for k, v in i1[side].items()} for side in "ab"}
        s0, m0 = sample(r), Machine.snapshot()
        r.gen.start("--rate", 0, "--duration", secs, "--drain", DRAIN_S)
        m = r.finish(gen_timeout=secs + DRAIN_S + 15)
        s1, machine = sample(r), Machine.since(m0)
        tele = {g.side: g.ctl("relay") for g in (r.a, r.b)}
        res.update(verdict=m, generator=r.gen.verdict(), verifier=r.ver.verdict(),
                   relay_a=tele["a"], relay_b=tele["b"], gateways=delta(s0, s1),
                   machine=machine,
                   producer_rtx_frames=max([f["rtx"] for _, f in r.gen.progress()] or [0]),
                   consumer_rtx_frames=max([f["rtx"] for _, f in r.ver.progress()] or [0]))
    res["failures"] = list(r.failures)
    res["logs"] = str(r.workdir)  # kept: the Relay was given this work dir
    if "verdict" not in res:
        return res
    gw = res["gateways"]
    counters = {g.side: g.counters() for g in (r.a, r.b)}
    cpu = dict(producer=res["generator"]["cpu_seconds"], hop1=gw["a"]["cpu"],
               hop2=gw["b"]["cpu"], consumer=res["verifier"]["cpu_seconds"],
               ksoftirqd=res["machine"]["ksoftirqd"])
    res.update(
        ok=not r.failures and res["verdict"]["verdict"] == "pass",
        records=res["verdict"]["records_checked"],
        records_per_s=res["verifier"]["records_per_s"],
        goodput_gbps=res["verifier"]["goodput_gbps"], cpu_s=cpu,
        counters_a=counters["a"], counters_b=counters["b"],
        backpressure=res["generator"]["backpressure"])
    for side in "ab":
        relayed = res[f"relay_{side}"]["ctr_records"]
        worker = sum(v for k, v in gw[side]["threads"].items() if k.startswith("rte-worker"))
        res[f"relayed_{side}"] = relayed
        res[f"cycles_per_record_{side}"] = round(per(counters[side].get("busy_cycles", 0),
                                                     relayed), 1)
        res[f"worker_cpu_ns_per_record_{side}"] = ns_per(worker, relayed)
        res[f"other_threads_cpu_ns_per_record_{side}"] = ns_per(gw[side]["cpu"] - worker,
                                                                relayed)
    return chain_figures(res)


def chain_figures(res):
    """Per-record CPU of each process and of the chain, records per chain CPU-second."""
    rec, cpu = res["records"], res["cpu_s"]
    res["cpu_ns_per_record"] = {k: ns_per(v, rec) for k, v in cpu.items()}
    total = sum(cpu.values())
    res["chain_cpu_s"] = round(total, 3)
    res["chain_cpu_ns_per_record"] = ns_per(total, rec)
    res["records_per_chain_cpu_s"] = round(per(rec, total))
    hops = cpu.get("hop1", 0) + cpu.get("hop2", 0)
    res["relay_cpu_ns_per_record"] = ns_per(hops, rec) if "hop1" in cpu else None
    res["records_per_relay_cpu_s"] = round(per(rec, hops)) if "hop1" in cpu else None
    ends = cpu["producer"] + cpu["consumer"]
    res["ends_cpu_ns_per_record"] = ns_per(ends, rec)
    # busy CPU of the machine in the point's time that was not the chain's: others' work
    res["others_cpu_s"] = round(res["machine"]["busy"] - total, 2)
    return res


# ---- the kernel-TCP relay: the same job over loopback ----

def tcp_point(size, secs, runs, hops):
    """rg-tcp-relay sender -> hops forwarders -> receiver; the point's figures."""
    res = dict(path="tcp-chain" if hops else "tcp-direct", size=size, streams=STREAMS,
               seconds_asked=secs, ok=False, failures=[])
    res["logs"] = str(runs / f"{res['path']}-{size}")
    base = 41000 + (os.getpid() % 5000) * 4
    common = ["--lanes", "1", "--streams", str(STREAMS), "--namespaces", str(NAMESPACES)]
    # started from the end of the path: the receiver, then each forwarder towards the sender
    plan = [("consumer", ["--recv", "--port", str(base)])]
    for h in range(hops, 0, -1):
        plan.append((f"hop{h}", ["--forward", "--port", str(base + h), "--to-port",
                                 str(base + h - 1)]))
    plan.append(("producer", ["--send", "--port", str(base + hops), "--record-bytes",
                              str(size), "--seconds", str(secs)]))
    procs, out = {}, {}
    logdir = Path(res["logs"])
    logdir.mkdir(parents=True, exist_ok=True)
    m0 = Machine.snapshot()
    try:
        for name, a in plan:
            err = open(logdir / f"{name}.err", "w", encoding="utf-8")
            procs[name] = subprocess.Popen([str(TCP), *a, *common], stdin=subprocess.DEVNULL,
                                           stdout=subprocess.PIPE, stderr=err, text=True,
                                           preexec_fn=relay.pair._pdeathsig)
            err.close()
        deadline = time.monotonic() + secs + TCP_GRACE_S
        for name, p in reversed(list(procs.items())):  # the producer ends first
            try:
                text, _ = p.communicate(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                res["failures"].append(f"{name} still ran {secs + TCP_GRACE_S:.0f} s on")
                continue
            (logdir / f"{name}.out").write_text(text)
            lines = [l for l in text.splitlines() if l.startswith("{")]
            out[name] = json.loads(lines[-1]) if lines else None
            if p.returncode != 0:
                msg = (logdir / f"{name}.err").read_text().strip().splitlines()[-1:]
                res["failures"].append(f"{name} exit {p.returncode}: {' '.join(msg)}")
    finally:
        for p in procs.values():  # each one we started, by its pid
            if p.poll() is None:
                p.kill()
                p.wait(10)
    res["machine"] = Machine.since(m0)
    if any(out.get(n) is None for n in procs):
        res["failures"].append("a process printed no report")
        return res
    recv, send = out["consumer"], out["producer"]
    bad = {k: recv[k] for k in ("gaps", "duplicated", "reordered", "corrupt")}
    if any(bad.values()) or recv["records"] != send["records"]:
        res["failures"].append(f"receiver checks {bad}, records sent {send['records']} "
                               f"received {recv['records']}")
    res.update(ok=not res["failures"], records=recv["records"],
               records_per_s=recv["records_per_s"], goodput_gbps=recv["goodput_gbps"],
               checks=bad, reports=out,
               cpu_s=dict({n: out[n]["cpu_seconds"] for n in ["producer"] +
                           [f"hop{h}" for h in range(1, hops + 1)] + ["consumer"]},
                          ksoftirqd=res["machine"]["ksoftirqd"]))
    return chain_figures(res)


# ---- the report ----

def fmt(v, digits=0):
    return "" if v is None else f"{v:,.{digits}f}".replace(",", " ")


def median_of(runs):
    """A point over its repeats: the run with the median records per chain CPU-second (the
    lower middle of an even count), the spread of that figure, and ok only if every run was."""
    done = [r for r in runs if r.get("records")]
    if not done:
        return dict(runs[0], runs=len(runs))
    done.sort(key=lambda r: r["records_per_chain_cpu_s"])
    p = dict(done[(len(done) - 1) // 2])
    bad = [r for r in runs if not r["ok"]]
    p.update(runs=len(runs), ok=not bad, failed_runs=len(bad),
             failures=[f"{'; '.join(r.get('failures', []))} (logs "
                       f"{r.get('logs') or 'not recorded'})" for r in bad],
             spread=[done[0]["records_per_chain_cpu_s"], done[-1]["records_per_chain_cpu_s"]])
    return p


def ratios(points):
    """Per size: repgate over the TCP chain (and the direct TCP), from this run's figures."""
    by = {(p["path"], p["size"]): p for p in points}
    out = []
    for size in SIZES:
        rg, ch, dr = (by.get((k, size)) for k in ("repgate", "tcp-chain", "tcp-direct"))
        if not (rg and ch and rg.get("records") and ch.get("records")):
            continue
        r = dict(size=size, ok=rg["ok"] and ch["ok"],
                 chain=round(per(rg["records_per_chain_cpu_s"], ch["records_per_chain_cpu_s"]),
                             4),
                 relay_hops=round(per(rg["records_per_relay_cpu_s"],
                                      ch["records_per_relay_cpu_s"]), 4),
                 ends=round(per(ch["ends_cpu_ns_per_record"], rg["ends_cpu_ns_per_record"]), 4),
                 records_per_s=round(per(rg["records_per_s"], ch["records_per_s"]), 4))
        if dr and dr.get("records"):
            r["chain_vs_direct"] = round(per(rg["records_per_chain_cpu_s"],
                                             dr["records_per_chain_cpu_s"]), 4)
        out.append(r)
    return out


LABEL = {"repgate": "repgate: producer → A → B → consumer",
         "tcp-chain": "TCP: send → forward → forward → recv",
         "tcp-direct": "TCP direct: send → recv"}


def verdict_cell(p):
    if p["ok"]:
        return "pass" if p.get("runs", 1) == 1 else f"pass ({p['runs']} of {p['runs']} runs)"
    return (f"FAIL ({p.get('failed_runs', 1)} of {p.get('runs', 1)} runs): " +
            " | ".join(p.get("failures", []))[:600])


def table_main(points):
    rows = ["| path | record | records/s | Gbit/s | producer | hop 1 | hop 2 | consumer | "
            "ksoftirqd | chain | records per chain CPU-s (min–max) | verdict |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for size in SIZES:
        for p in (q for q in points if q["size"] == size):
            c = p.get("cpu_ns_per_record", {})
            lo, hi = p.get("spread", [None, None])
            rows.append(
                f"| {LABEL[p['path']]} | {size} B | {fmt(p.get('records_per_s'))} | "
                f"{fmt(p.get('goodput_gbps'), 3)} | " +
                " | ".join(fmt(c.get(k), 1) for k in ("producer", "hop1", "hop2", "consumer",
                                                     "ksoftirqd")) +
                f" | {fmt(p.get('chain_cpu_ns_per_record'), 1)} | "
                f"{fmt(p.get('records_per_chain_cpu_s'))} ({fmt(lo)}–{fmt(hi)}) | "
                f"{verdict_cell(p)} |")
    return rows


def table_gateways(points):
    rows = ["| record | gateway | records relayed | relay busy cycles/rec | worker thread "
            "CPU-ns/rec | other threads CPU-ns/rec | process CPU-ns/rec | LAN packets from "
            "clients | ... dropped unread by the tap | LAN packets to clients | ... dropped "
            "by the client's socket | client rtx frames |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for p in points:
        if p["path"] != "repgate" or not p.get("records"):
            continue
        for side, hop in (("a", "hop1"), ("b", "hop2")):
            lan = p["gateways"][side]["lan"]
            rows.append(
                f"| {p['size']} B | {side.upper()} | {fmt(p[f'relayed_{side}'])} | "
                f"{fmt(p[f'cycles_per_record_{side}'])} | "
                f"{fmt(p[f'worker_cpu_ns_per_record_{side}'], 1)} | "
                f"{fmt(p[f'other_threads_cpu_ns_per_record_{side}'], 1)} | "
                f"{fmt(p['cpu_ns_per_record'][hop], 1)} | {fmt(lan['link']['tx_packets'])} | "
                f"{fmt(lan['link']['tx_dropped'])} | {fmt(lan['link']['rx_packets'])} | "
                f"{fmt(lan['udp'].get('RcvbufErrors'))} | "
                f"{fmt(p['producer_rtx_frames'] if side == 'a' else p['consumer_rtx_frames'])} |")
    return rows


def table_idle(points):
    rows = ["| record point | gateway | process | main thread | worker thread | other threads |",
            "|---|---|---|---|---|---|"]
    for p in points:
        for side in "ab" if p["path"] == "repgate" and p.get("idle_cpus") else "":
            t = p["idle_cpus"][side]
            main = t.get("repgate", 0)
            worker = sum(v for k, v in t.items() if k.startswith("rte-worker"))
            rest = max(0.0, sum(t.values()) - main - worker)
            rows.append(f"| {p['size']} B | {side.upper()} | {sum(t.values()):.3f} | "
                        f"{main:.3f} | {worker:.3f} | {rest:.3f} |")
    return rows


def table_ratios(rat):
    rows = ["| record | records per chain CPU-s: repgate ÷ TCP chain | ... the two relay hops "
            "alone | ... repgate ÷ TCP direct | producer + consumer: TCP CPU ÷ repgate CPU | "
            "records/s: repgate ÷ TCP chain | both points pass |",
            "|---|---|---|---|---|---|---|"]
    for r in rat:
        rows.append(f"| {r['size']} B | {r['chain']:.3f} | {r['relay_hops']:.3f} | "
                    f"{fmt(r.get('chain_vs_direct'), 3)} | {r['ends']:.3f} | "
                    f"{r['records_per_s']:.3f} | {'yes' if r['ok'] else 'NO'} |")
    return rows


def report(points, rat, meta):
    others = [p.get("others_cpu_s") for p in points if p.get("others_cpu_s") is not None]
    return "\n".join([
        "# Clients through a gateway pair, against a kernel-TCP relay doing the same job",
        "",
        f"`{meta['command']}` on {meta['cpus']} CPUs ({meta['kernel']}), {meta['when']}: "
        f"{meta['seconds']:g} s of full-rate load per point (the producer as fast as "
        f"backpressure lets it), {STREAMS} streams in {NAMESPACES} namespaces, one lane, "
        f"records of the load generator's format (CRC32C each); each point run "
        f"{meta['repeat']} time(s), the median run shown (by records per chain CPU-second). "
        f"repgate: `{' '.join('--set ' + x for x in SETS)}` (the WAN emulator out of the "
        f"path: at 0 delay and 0 loss it would still queue and stamp every packet), gateway "
        f"workers {meta['layout']} "
        f"({'one CPU each: A on 0, B on 1' if meta['layout'] == 'split' else 'both on CPU 1'})"
        f", EAL memory {meta['eal_mem']}. TCP: rg-tcp-relay over loopback, one connection "
        f"per hop, one thread per process (perf/tcp_relay.md).",
        "",
        "CPU per record (CPU-ns: user + system CPU-seconds × 10⁹ ÷ records delivered). "
        "producer and consumer: repgate-load's cpu_seconds (librepgate and the record "
        "making/checking around it; the whole process) or rg-tcp-relay's (data phase); hop 1 "
        "and hop 2: each gateway process from /proc/PID/stat, from the producer's start to "
        "the consumer's end (every thread), or each forwarder; ksoftirqd: kernel softirq "
        "threads in the point's time (network work charged to no process); chain: all of "
        "them.",
        "",
        *table_main(points),
        "",
        "Ratios, from the medians above (DESIGN §6 asks ≥ 5 for records per CPU-second "
        "against a kernel-TCP relay doing the same job):",
        "",
        *table_ratios(rat),
        "",
        "Each gateway (repgate points): relay busy cycles are the worker's busy_cycles "
        "(final counters; TSC cycles of loop iterations that did work) over the records it "
        "relayed (/repgate/relay ctr_records); worker thread and other threads are "
        "/proc/PID/task CPU; LAN packets from clients are those the kernel put on the "
        "gateway's tap, dropped unread those it dropped because the gateway had not read them "
        "yet (the tap's queue was full), packets to clients those the gateway wrote to its "
        "tap, dropped by the client's socket its namespace's UDP RcvbufErrors; client rtx "
        "frames are what the producer (A) or the consumer (B) retransmitted, from their "
        "progress lines. Busy cycles are TSC time, so on shared CPUs they also count time the "
        "worker was preempted in a busy iteration; the thread CPU columns count only time it "
        "ran.",
        "",
        *table_gateways(points),
        "",
        f"The gateway pair idle (consumer subscribed, no producer yet), CPUs used over "
        f"{IDLE_S:g} s before each repgate point: the main thread's loop (a 50 µs sleep "
        f"between turns even with no load role) and the worker's idle policy (the demo "
        f"profiles' sleep of 20 µs after 64 empty polls) cost this much with nothing to do; "
        f"a loaded point pays it too, inside its per-record figures.",
        "",
        *table_idle(points),
        "",
        f"Others on this machine: busy CPU-seconds in each point's time that were none of "
        f"the chain's: {', '.join(fmt(o, 2) for o in others)} (load average "
        f"{meta['loadavg_before']} before the run; each point waited up to "
        f"{meta['quiet_wait_s']:g} s for the machine to be under {QUIET_CPUS} busy CPUs "
        f"first; busy CPUs of others when each started: "
        f"{', '.join(fmt(p.get('others_busy_cpus_before'), 2) for p in points)}). "
        f"{meta['wall_s']:.0f} s in all.",
        "",
        "What this can and cannot show. Two CPUs carry six busy processes (producer, two "
        "relays, consumer, and the kernel's work for each hop), so no point here is at a "
        "machine's limit for one process: records/s are what the two CPUs give the whole "
        "chain, and the per-record CPU figures are the comparison that carries over to other "
        "machines. repgate's client hops are kernel UDP over DPDK's net_tap (one system call "
        "per packet in the gateway, a SIGIO per packet the tap queues, 1472-byte packets): "
        "they bound the repgate chain here, not the protocol core or the memif WAN leg "
        "(perf/results/e2e.md measures that leg alone). TCP runs on loopback with no "
        "emulated WAN, at its best; neither side has loss or delay to recover from.",
        ""])


def run_point(kind, size, secs, runs, args):
    busy = wait_quiet(args.quiet_wait)
    say(f"{kind}, {size} B records, {secs:g} s (others busy {busy:.2f} CPUs) ...")
    if kind == "repgate":
        p = repgate_point(size, secs, runs, args.layout)
    else:
        p = tcp_point(size, secs, runs, hops=2 if kind == "tcp-chain" else 0)
    p["others_busy_cpus_before"] = busy
    say(f"  {kind} {size} B: {fmt(p.get('records_per_s'))} records/s, "
        f"{fmt(p.get('goodput_gbps'), 3)} Gbit/s, "
        f"{fmt(p.get('chain_cpu_ns_per_record'), 1)} CPU-ns per record over the chain, "
        f"{verdict_cell(p)}")
    return p


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=8, help="full-rate load per point (8)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs of each point, the median shown (3)")
    ap.add_argument("--quick", action="store_true", help="3 s per point, one run each")
    ap.add_argument("--quiet-wait", type=float, default=QUIET_WAIT_S,
                    help=f"before each point, wait at most this long (s) for the machine to be "
                         f"under {QUIET_CPUS} busy CPUs ({QUIET_WAIT_S})")
    ap.add_argument("--out", default=str(ROOT / "perf" / "results"))
    ap.add_argument("--layout", choices=("split", "shared"), default="split",
                    help="gateway workers: split, one CPU each (DESIGN §6: one core per "
                         "gateway); shared, both on CPU 1 (tests/integration's layout)")
    ap.add_argument("--render", metavar="JSON",
                    help="only write clients.md again from a clients.json this wrote (its runs)")
    args = ap.parse_args()
    if args.render:
        return render(Path(args.render), Path(args.out))
    secs, repeat = (3, 1) if args.quick else (args.seconds, max(1, args.repeat))
    out = Path(args.out)
    runs = out / f"run-clients-{time.strftime('%Y%m%d-%H%M%S')}"
    runs.mkdir(parents=True, exist_ok=True)
    for exe in (BIN / "apps" / "repgate", relay.LOAD, TCP):
        if not exe.exists():
            sys.exit(f"perf clients: {exe} is not built: run `make build` first")
    if os.geteuid() != 0:
        sys.exit("perf clients: needs root (network namespaces, taps)")
    t0 = time.monotonic()
    meta = dict(command="perf/clients.py " + " ".join(sys.argv[1:]), seconds=secs,
                quiet_wait_s=args.quiet_wait,
                repeat=repeat, cpus=os.cpu_count(), layout=args.layout,
                when=time.strftime("%Y-%m-%d %H:%M"),
                loadavg_before=" ".join(open("/proc/loadavg").read().split()[:3]),
                eal_mem=" ".join(relay.pair.eal_mem()) or "hugepages", streams=STREAMS,
                namespaces=NAMESPACES, sets=SETS, kernel="Linux " + os.uname().release)
    all_runs = {}
    for rep in range(repeat):  # interleaved: each repeat visits every point once
        for size in SIZES:
            for kind in ("repgate", "tcp-chain", "tcp-direct"):
                p = run_point(kind, size, secs, runs / f"r{rep + 1}", args)
                all_runs.setdefault((kind, size), []).append(p)
    meta["wall_s"] = round(time.monotonic() - t0, 1)
    points = write(out, meta, [r for v in all_runs.values() for r in v])
    say(f"results in {out}/clients.md and clients.json, logs in {runs}")
    return 0 if all(p["ok"] for p in points) else 1


def write(out, meta, runs):
    """The medians, the ratios, clients.md and clients.json, from every run; the points."""
    by = {}
    for r in runs:
        by.setdefault((r["path"], r["size"]), []).append(r)
    points = [median_of(v) for v in by.values()]
    rat = ratios(points)
    md = report(points, rat, meta)
    (out / "clients.md").write_text(md)
    (out / "clients.json").write_text(json.dumps(dict(meta, points=points, ratios=rat,
                                                      all_runs=runs), indent=1) + "\n")
    print(md, flush=True)
    return points


def render(path, out):
    """--render: the report again from a clients.json's runs (the same figures)."""
    d = json.loads(path.read_text())
    meta = {k: v for k, v in d.items() if k not in ("points", "ratios", "all_runs")}
    points = write(out, meta, d["all_runs"])
    return 0 if all(p["ok"] for p in points) else 1


if __name__ == "__main__":
    sys.exit(main())
