#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The end-to-end perf harness (make perf): repgate against the physical limit and against
kernel TCP, in one run on this machine (DESIGN §6).

For each point of the matrix it runs two real gateways over net_memif (A generates, B
verifies) and records goodput (Gbit/s and records/s), busy cycles per record in each
gateway's worker, creation-to-delivery latency percentiles (p50/p99/p99.9, from the
consumer's log-linear histogram) and retransmitted frames. The matrix is a "star" around
the centre point (1 KiB records, 64 streams, no loss, no delay), so that every factor the
issue names is swept without the full 4x3x3x3 product (108 runs, about 20 minutes here):
  record size 64 B, 256 B, 1 KiB, 16 KiB   at 64 streams, no loss, no delay
  streams 1, 64, 4096                       at 1 KiB, no loss, no delay
  loss 0, 0.1 %, 1 %  x  RTT 0, 10, 100 ms  at 1 KiB, 64 streams, on a provisioned link
A point with loss or delay runs on an emulated link of LINK_MBIT with fixed pacing at that
rate (the profile's `fixed` policy): its goodput is also given as a share of the link.
Baselines in the same run: (a) the raw memif rate at repgate's packet size (perf/rg-blast,
9014-byte frames); (b) a kernel-TCP relay doing the same job (perf/rg-tcp-relay: the same
records and per-stream order over loopback TCP, one connection per lane) at each record size.

Writes perf/results/e2e.md (the Markdown table), e2e.json, e2e.csv and, with gnuplot,
goodput-vs-size, goodput-vs-loss and latency-cdf as PNG and SVG.

  perf/harness.py [--seconds S] [--quick | --full] [--out DIR]
"""
import argparse
import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "build/release"
REPGATE = BIN / "apps/repgate"
BLAST = BIN / "perf/rg-blast"
TCP = BIN / "perf/rg-tcp-relay"
SOCK = "/run/repgate/perf.sock"
MEMIF = "socket-abstract=no,bsize=10240,rsize=12"
LINK_MBIT = 1000.0
# Pace a little under the link: frames carry 42 bytes of Ethernet/IPv4/UDP the pacer does not count.
PACE_SHARE = 0.98
WAN_SECONDS = 8
# Latency is measured at about half of the centre point's throughput too: at full load the
# creation-to-delivery latency is the generator's backlog, not the gateways'.
HALF_LOAD_RECORDS_S = 500000


def eal_mem():
    v = os.environ.get("RG_EAL_MEM")
    if v is None:
        v = subprocess.run([str(ROOT / "scripts/hugepages.sh")], capture_output=True,
                           text=True).stdout.strip()
    return v.split()


def say(*a):
    print(*a, flush=True)


def kill(p):
    if p is not None and p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def wait_socket(path, seconds=10):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if os.path.exists(path):
            return
        time.sleep(0.05)
    raise RuntimeError(f"no memif socket {path}")


def counters(text):
    """The 'final counters' line of a gateway's stderr, as a dict of ints and floats."""
    out = {}
    for line in text.splitlines():
        if "final counters" in line:
            for k, v in re.findall(r"(\w+)=([0-9.]+)", line):
                out[k] = float(v)
    return out


def point_sets(pt, secs):
    s = [f"load.record_bytes={pt['size']}", f"load.streams={pt['streams']}",
         f"load.namespaces={min(4, pt['streams'])}", f"load.rate_records_s={pt.get('rate', 0)}",
         f"load.duration_s={secs}", "load.progress_ms=0",
         f"proto.streams_max={max(256, 2 * pt['streams'])}"]
    if pt["streams"] > 256:
        s += ["proto.rx_window_records=256", "proto.tx_stream_records_max=256"]
    if pt["loss"] == 0 and pt["rtt_ms"] == 0:
        return s + ["wan.enabled=false"]
        # Windows sized for a long lossy link: a loss stalls a stream's delivery for 2-3 RTTs,
    # and its credit (rx_window_records) must cover that at the stream's share of the link
    # (1 Gbit/s / 64 streams x 300 ms = 600 KiB = 600 records of 1 KiB; 1024 was too tight:
    # 0.59 of the link at 1 % loss and 100 ms, 0.91 with these).
    s += ["proto.rx_window_records=4096", "proto.tx_stream_records_max=8192",
          "proto.tx_records_max=1048576", "proto.rx_frags_max=1048576"]
    return s + ["wan.enabled=true", f"wan.loss={pt['loss']}", "wan.reorder=0",
                "wan.jitter_ms=0", f"wan.delay_ms={pt['rtt_ms'] / 2}",
                f"wan.rate_mbit_s={LINK_MBIT}", f"proto.pace_mbit_s={LINK_MBIT * PACE_SHARE}",
                f"proto.initial_rtt_ms={max(1.0, pt['rtt_ms'])}"]


KEYTOOL = BIN / "apps/repgate-key"


def security_sets(pt, out, side):
    """Sealed points (the default, as deployed): a key per side, made once per run in out/keys;
    plaintext points (seal=False) say security.mode = none."""
    if not pt.get("seal", True):
        return ["security.mode=none"]
    keys = out / "keys"
    keys.mkdir(mode=0o700, exist_ok=True)
    pub = {}
    for k in ("a", "b"):
        path = keys / f"{k}.key"
        if not path.exists():
            subprocess.run([str(KEYTOOL), "keygen", str(path)], check=True, timeout=20)
        pub[k] = subprocess.run([str(KEYTOOL), "pubkey", str(path)], check=True, timeout=20,
                                capture_output=True, text=True).stdout.strip()
    other = "b" if side == "a" else "a"
    return [f"security.key={keys / (side + '.key')}", f"peers.[0].pubkey={pub[other]}"]


def run_pair(pt, secs, out):
    """One matrix point: A (generator, memif server) and B (verifying consumer)."""
    tag = f"s{pt['size']}-n{pt['streams']}-l{pt['loss']}-r{pt['rtt_ms']}-q{pt.get('rate', 0)}"
    tag += "" if pt.get("seal", True) else "-plain"
    if pt["loss"] > 0 or pt["rtt_ms"] > 0:
        secs = max(secs, WAN_SECONDS)  # a long link needs a few seconds past its ramp
    sets = point_sets(pt, secs)
    eal = eal_mem() + ["--no-pci", "--log-level=*:warning", "-l", "0,1"]
    a = b = None
    try:
        if os.path.exists(SOCK):
            os.unlink(SOCK)
        args = lambda side, role: [str(REPGATE), "--profile", str(ROOT / f"profiles/bench-{side}.conf")] + \
            sum((["--set", x] for x in sets + security_sets(pt, out, side) + [
                f"port.device=net_memif0,role={role},socket={SOCK},{MEMIF}",
                f"load.report={out / (tag + '-' + side + '.json')}",
                f"load.state_file={out / (tag + '-b.state')}"]), []) + \
            eal + [f"--file-prefix=rg-perf-{side}"]
        st = out / (tag + "-b.state")
        if st.exists():
            st.unlink()
        a = subprocess.Popen(args("a", "server"), stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        try:
            wait_socket(SOCK)
        except RuntimeError:
            kill(a)
            raise RuntimeError("A did not start: " + a.communicate()[1].strip()[-400:])
        b = subprocess.Popen(args("b", "client"), stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        _, a_err = a.communicate(timeout=secs + 120)
        kill(b)
        _, b_err = b.communicate(timeout=30)
    finally:
        kill(a)
        kill(b)
    ga = json.loads((out / (tag + "-a.json")).read_text())
    gb = json.loads((out / (tag + "-b.json")).read_text())
    ca, cb = counters(a_err), counters(b_err)
    ok = (ga.get("lost") == 0 and ga["records_published"] > 0 and
          gb["records_delivered"] == ga["records_published"] and
          all(gb[k] == 0 for k in ("duplicated", "reordered", "gaps", "corrupt_accepted")))
    res = dict(pt, ok=ok, records=ga["records_published"], goodput_gbps=gb["goodput_gbps"],
               records_per_s=gb["records_per_s"],
               cycles_per_record_a=ca.get("busy_cycles_per_record", 0),
               cycles_per_record_b=cb.get("busy_cycles_per_record", 0),
               p50_us=gb["latency_p50_us"], p99_us=gb["latency_p99_us"],
               p999_us=gb["latency_p999_us"], rtx_frames=int(ca.get("rtx_frames", 0)),
               latency_csv=str(out / (tag + "-b.json.latency.csv")),
               records_per_cpu_s=round(ga["records_published"] /
                                       max(ga.get("cpu_seconds", 0) + gb.get("cpu_seconds", 0),
                                           1e-9)))
    if pt["loss"] > 0 or pt["rtt_ms"] > 0:
        res["share_of_link"] = round(gb["goodput_gbps"] * 1000 / LINK_MBIT, 3)
    return res


def run_raw(secs, out):
    """The physical limit: rg-blast over memif at repgate's packet size (9014-byte frames)."""
    if os.path.exists(SOCK):
        os.unlink(SOCK)
    eal = eal_mem() + ["--no-pci", "--log-level=*:warning"]
    dev = lambda role: f"net_memif0,role={role},socket={SOCK},{MEMIF}"
    rx = subprocess.Popen([str(BLAST), "--rx", "--device", dev("server"), "--size", "9014",
                           "--seconds", str(secs + 3), "-l", "0", *eal,
                           "--file-prefix=rg-perf-rx"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    try:
        wait_socket(SOCK)
        subprocess.run([str(BLAST), "--tx", "--device", dev("client"), "--size", "9014",
                        "--seconds", str(secs), "-l", "1", *eal, "--file-prefix=rg-perf-tx"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=secs + 30)
        got, err = rx.communicate(timeout=secs + 30)
    finally:
        kill(rx)
    if not got.strip():
        raise RuntimeError(f"rg-blast --rx printed nothing (exit {rx.returncode}): {err[-500:]}")
    return json.loads(got.strip().splitlines()[-1])


def run_tcp(size, streams, secs, batch):
    """The kernel-TCP relay on loopback: same records, one connection per lane (one lane).
    batch: bytes per send() (65536: a batching relay; 1: one record per send(), as the
    one-task-per-message systems users run today, DESIGN §1)."""
    if not TCP.exists():
        return None
    port = "47111"
    rx = subprocess.Popen([str(TCP), "--recv", "--port", port, "--lanes", "1", "--streams",
                           str(streams), "--seconds", str(secs + 10)],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        time.sleep(0.3)
        snd = subprocess.run([str(TCP), "--send", "--host", "127.0.0.1", "--port", port,
                              "--lanes", "1", "--streams", str(streams), "--record-bytes",
                              str(size), "--seconds", str(secs), "--batch-bytes", str(batch)],
                             capture_output=True, text=True, timeout=secs + 30)
        got, _ = rx.communicate(timeout=secs + 30)
    finally:
        kill(rx)
    r = json.loads(got.strip().splitlines()[-1])
    s = json.loads(snd.stdout.strip().splitlines()[-1])
    # On loopback the sender's system time includes the receiver's kernel work: count both.
    r["cpu_seconds_both"] = r["cpu_seconds"] + s["cpu_seconds"]
    r["records_per_cpu_s_both"] = r["records"] / max(r["cpu_seconds_both"], 1e-9)
    return r


def matrix(quick, full=False):
    if full:  # every combination: 4 x 3 x 3 x 3 = 108 points
        return [dict(size=z, streams=n, loss=l, rtt_ms=r) for z in (64, 256, 1024, 16384)
                for n in (1, 64, 4096) for l in (0.0, 0.001, 0.01) for r in (0, 10, 100)]
    pts = []
    centre = dict(size=1024, streams=64, loss=0.0, rtt_ms=0)
    for size in (64, 256, 1024, 16384):
        pts.append(dict(centre, size=size))
    for size in (64, 1024, 16384):  # the same in plaintext: what sealing costs
        pts.append(dict(centre, size=size, seal=False))
    for streams in (1, 4096):
        pts.append(dict(centre, streams=streams))
    pts.append(dict(centre, rate=HALF_LOAD_RECORDS_S))
    for loss in (0.0, 0.001, 0.01):
        for rtt in (0, 10, 100):
            if loss == 0 and rtt == 0:
                continue
            pts.append(dict(centre, loss=loss, rtt_ms=rtt))
    if quick:
        pts = [p for p in pts if p["rtt_ms"] in (0, 100) and p["streams"] != 4096]
    return pts


def sealing_rows(points):
    """What sealing costs, from the centre's sizes run both ways in this one run."""
    plain = {p["size"]: p for p in points if not p.get("seal", True) and p["ok"]}
    rows = []
    for p in points:
        q = plain.get(p["size"])
        if q is None or not p.get("seal", True) or not p["ok"] or p["streams"] != 64 or \
                p["loss"] or p["rtt_ms"] or p.get("rate") or not q["goodput_gbps"]:
            continue
        ns = lambda r: 1e9 / r["records_per_cpu_s"] if r.get("records_per_cpu_s") else 0
        rows.append(f"Sealing (AES-256-GCM) at {p['size']} B records: goodput "
                    f"{p['goodput_gbps']:.3f} against {q['goodput_gbps']:.3f} Gbit/s in plaintext "
                    f"= {p['goodput_gbps'] / q['goodput_gbps']:.3f}; cycles per record A "
                    f"{p['cycles_per_record_a'] - q['cycles_per_record_a']:+.0f}, B "
                    f"{p['cycles_per_record_b'] - q['cycles_per_record_b']:+.0f}; CPU-ns per "
                    f"record (both processes) {ns(p) - ns(q):+.0f}.")
    return rows + ([""] if rows else [])


def table(raw, points, tcp):
    rows = ["| record | streams | loss | RTT ms | offered rec/s | security | goodput Gbit/s | records/s "
            "| share of link | cycles/rec A | cycles/rec B | p50 µs | p99 µs | p99.9 µs | rtx frames | "
            "records/CPU-s | /raw | /TCP batched | /TCP per-record | ok |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in points:
        centre = r["streams"] == 64 and r["loss"] == 0 and r["rtt_ms"] == 0 and \
            not r.get("rate")
        ratio = lambda t: f"{r['records_per_cpu_s'] / t['records_per_cpu_s_both']:.2f}" \
            if t and centre else ""
        vs_tcp = ratio(tcp.get(("batched", r["size"])))
        vs_msg = ratio(tcp.get(("per-record", r["size"])))
        rows.append(
            f"| {r['size']} | {r['streams']} | {r['loss'] * 100:g} % | {r['rtt_ms']} | "
            f"{r.get('rate') or 'max'} | {'aead' if r.get('seal', True) else 'none'} | "
            f"{r['goodput_gbps']:.3f} | {r['records_per_s']:.0f} | "
            f"{r.get('share_of_link', '')} | {r['cycles_per_record_a']:.0f} | "
            f"{r['cycles_per_record_b']:.0f} | {r['p50_us']:.0f} | {r['p99_us']:.0f} | "
            f"{r['p999_us']:.0f} | {r['rtx_frames']} | {r.get('records_per_cpu_s', 0)} | "
            f"{r['goodput_gbps'] / raw['gbps']:.3f} | {vs_tcp} | {vs_msg} | "
            f"{'yes' if r['ok'] else 'NO'} |")
    rows.append("")
    rows.append(f"Raw memif (bare forwarder, 9014-byte frames): {raw['gbps']:.3f} Gbit/s, "
                f"{raw['mpps']:.3f} Mpps.")
    for (mode, size), t in sorted(tcp.items()):
        rows.append(f"Kernel TCP relay ({mode}), {size} B records, 64 streams, 1 connection: "
                    f"{t['goodput_gbps']:.3f} Gbit/s, {t['records_per_s']:.0f} records/s, "
                    f"{t['records_per_cpu_s_both']:.0f} records per CPU-second (both ends), "
                    f"p99 {t.get('latency_p99_us', 0):.0f} µs.")
    rows.append("")
    rows += sealing_rows(points)
    rows.append("records/CPU-s: records divided by the CPU seconds of both processes (both "
                "gateways with their load roles; both TCP ends), the per-core comparison "
                "on the same two CPUs.")
    return "\n".join(rows) + "\n"


def plots(out, points, tcp, raw):
    if shutil.which("gnuplot") is None:
        say("perf: gnuplot not found: no plots")
        return
    size = sorted((p for p in points if p.get("seal", True) and p["streams"] == 64 and p["loss"] == 0 and
                   p["rtt_ms"] == 0 and not p.get("rate")), key=lambda p: p["size"])
    (out / "size.dat").write_text("".join(
                f"{p['size']} {p['goodput_gbps']} {tcp[('batched', p['size'])]['goodput_gbps'] if ('batched', p['size']) in tcp else 'NaN'} {raw['gbps']}\n"
        for p in size))
    loss = sorted((p for p in points if p["rtt_ms"] == 100 or (p["rtt_ms"] == 0 and p["loss"] == 0 and p["size"] == 1024 and p["streams"] == 64)),
                  key=lambda p: p["loss"])
    (out / "loss.dat").write_text("".join(
        f"{p['loss'] * 100} {p['goodput_gbps']}\n" for p in loss if p["rtt_ms"] == 100))
    cdfs = [p for p in points if p.get("seal", True) and p["streams"] == 64 and p["loss"] == 0 and p["rtt_ms"] == 0
            and Path(p["latency_csv"]).exists()]
    for term, ext in (("pngcairo size 900,600", "png"), ("svg size 900,600", "svg")):
        script = f"""
set terminal {term}
set grid
set key left top
set output '{out}/goodput-vs-size.{ext}'
set title 'Goodput vs record size (64 streams, no loss, no delay)'
set logscale x 2
set xlabel 'record size (bytes)'
set ylabel 'Gbit/s'
plot '{out}/size.dat' using 1:2 with linespoints title 'repgate', \\
          '' using 1:3 with linespoints title 'kernel TCP relay (batched)', \\
     '' using 1:4 with lines title 'raw memif (9014-byte frames)'
unset logscale x
set output '{out}/goodput-vs-loss.{ext}'
set title 'Goodput vs loss at 100 ms RTT (1 KiB records, {LINK_MBIT:g} Mbit/s link, fixed pacing)'
set xlabel 'random loss (%)'
set ylabel 'Gbit/s'
set yrange [0:*]
plot '{out}/loss.dat' using 1:2 with linespoints title 'repgate', \\
     {LINK_MBIT / 1000} with lines title 'link rate'
set autoscale y
set output '{out}/latency-cdf.{ext}'
set title 'Creation-to-delivery latency CDF (64 streams, no loss, no delay)'
set logscale x 10
set xlabel 'latency (µs)'
set ylabel 'fraction of records'
set datafile separator ','
plot {', '.join(f"'{p['latency_csv']}' using 1:2 every ::1 with lines title '{p['size']} B{', ' + str(p['rate']) + ' rec/s' if p.get('rate') else ', max'}'" for p in cdfs) or '0 notitle'}
"""
        subprocess.run(["gnuplot"], input=script, text=True, check=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=5, help="load per point (default 5)")
    ap.add_argument("--quick", action="store_true", help="a smaller matrix")
    ap.add_argument("--full", action="store_true",
                    help="the full 4x3x3x3 product (108 points) instead of the star")
    ap.add_argument("--out", default=str(ROOT / "perf/results"))
    args = ap.parse_args()
    out = Path(args.out)
    runs = out / f"run-{time.strftime('%Y%m%d-%H%M%S')}"
    runs.mkdir(parents=True, exist_ok=True)
    os.makedirs("/run/repgate", exist_ok=True)
    for exe in (REPGATE, BLAST):
        if not exe.exists():
            sys.exit(f"perf: {exe} is not built: run `make build` first")
    t0 = time.monotonic()
    say("perf: raw memif baseline ...")
    raw = run_raw(args.seconds, runs)
    say(f"perf: raw memif {raw['gbps']:.3f} Gbit/s")
    tcp = {}
    for mode, batch in (("batched", 65536), ("per-record", 1)):
        for size in (64, 256, 1024, 16384):
            r = run_tcp(size, 64, args.seconds, batch)
            if r is not None:
                tcp[(mode, size)] = r
                say(f"perf: kernel TCP relay ({mode}) {size} B: {r['goodput_gbps']:.3f} Gbit/s, "
                    f"{r['records_per_s']:.0f} records/s, "
                    f"{r['records_per_cpu_s_both']:.0f} records/CPU-s")
    points = []
    pts = [dict(p, seal=p.get("seal", True)) for p in matrix(args.quick, args.full)]
    for i, pt in enumerate(pts):
        say(f"perf: [{i + 1}/{len(pts)}] {pt} ...")
        try:
            r = run_pair(pt, args.seconds, runs)
        except (RuntimeError, subprocess.TimeoutExpired, FileNotFoundError, ValueError) as e:
            say(f"perf: point failed: {e}")
            r = dict(pt, ok=False, records=0, goodput_gbps=0, records_per_s=0,
                     cycles_per_record_a=0, cycles_per_record_b=0, p50_us=0, p99_us=0,
                     p999_us=0, rtx_frames=0, latency_csv="", records_per_cpu_s=0)
        say(f"perf:   {r['goodput_gbps']:.3f} Gbit/s, {r['records_per_s']:.0f} records/s, "
            f"p99 {r['p99_us']:.0f} µs, ok={r['ok']}")
        points.append(r)
    md = table(raw, points, tcp)
    (out / "e2e.md").write_text(md)
    (out / "e2e.json").write_text(json.dumps(
                {"seconds_per_point": args.seconds, "link_mbit": LINK_MBIT, "raw": raw,
         "tcp": {f"{m}-{s}": t for (m, s), t in tcp.items()},
         "points": points, "wall_seconds": round(time.monotonic() - t0, 1)}, indent=1) + "\n")
    with open(out / "e2e.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=[k for k in points[0] if k != "latency_csv"],
                           extrasaction="ignore")
        w.writeheader()
        w.writerows(points)
    plots(out, points, tcp, raw)
    print(md)
    say(f"perf: {len(points)} points in {time.monotonic() - t0:.0f} s; results in {out}")
    return 0 if all(p["ok"] for p in points) else 1


if __name__ == "__main__":
    sys.exit(main())
