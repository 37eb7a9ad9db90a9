#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration: telemetry and operations (docs/operations.md) on a running pair.

A publishes 64 streams at 20k records/s for 5 s to B through the WAN emulator (on, but
clean: 1 ms delay, no loss). Each side serves Prometheus metrics on its own port, and A
lingers after its verdict (telemetry.linger_s) so its final figures can be scraped. Checks:

  - during the run: /metrics parses, every sample's family has HELP and TYPE, the key
    families are there (records, lanes, peers, workers, core counters, drops, namespaces);
  - repgatectl status, peers, lanes, streams --top 5, namespaces, workers and wan work against
    the running gateway, and dpdk-telemetry.py reads /repgate/status;
  - `repgatectl wan loss=0.01` on A: /repgate/wan then shows it, and A's emulator drop_loss
    counter moves (bounded poll);
  - repgatectl names the socket path when no gateway runs under a prefix;
  - parameters that are not printable ASCII (to /repgate/wan, streams, status) get a JSON
    error; A's name holds a quote and a backslash, escaped in /metrics and in the JSON;
  - promtool check metrics passes on A's whole /metrics (when promtool is installed);
  - after A's verdict (and before B stops): A's published/applied totals and B's
    delivered/applied totals scraped from /metrics equal the final JSON verdicts exactly;
  - the merged verdict passes, and the test checked something.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import pair  # noqa: E402

RATE = 20000
NAME = 'gw "a" \\ b'  # a quote and a backslash: escaped in /metrics and telemetry JSON
DURATION_S = 8
REPGATECTL = pair.ROOT / "apps" / "repgatectl"
SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
NEEDED = ["repgate_info", "repgate_records_applied_total", "repgate_lane_srtt_seconds",
          "repgate_lane_bytes_in_flight", "repgate_peer_srtt_seconds",
          "repgate_worker_busy_cycles_total", "repgate_core_rtx_frames_total",
          "repgate_core_drops_total", "repgate_namespace_lag_records",
          "repgate_wan_drop_loss_total"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port):
    """{name: [(labels, value)]} and the families with HELP and TYPE; ValueError if malformed."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    samples, typed, helped = {}, set(), set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
        elif line.startswith("# HELP "):
            helped.add(line.split()[2])
        elif line:
            m = SAMPLE_RE.match(line)
            if not m:
                raise ValueError(f"not a sample: {line!r}")
            if m.group(1) not in typed or m.group(1) not in helped:
                raise ValueError(f"{m.group(1)}: a sample before its HELP and TYPE")
            labels = dict(LABEL_RE.findall(m.group(3) or ""))
            samples.setdefault(m.group(1), []).append((labels, float(m.group(4))))
    return samples


def total(samples, name):
    return sum(v for _, v in samples.get(name, []))


def poll(what, fn, timeout):
    """fn() until it returns something truthy; TestError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            v = fn()
        except (OSError, ValueError):
            v = None
        if v:
            return v
        if time.monotonic() > deadline:
            raise pair.TestError(f"no {what} within {timeout:.0f} s")
        time.sleep(0.1)


def ctl(p, side, *args):
    r = subprocess.run([sys.executable, str(REPGATECTL), "--prefix", side.prefix, *args],
                       capture_output=True, text=True, timeout=30)
    p.say(f"repgatectl {' '.join(args)} ({side.label}): status {r.returncode}\n"
          + (r.stdout + r.stderr).rstrip())
    return r


def check_ctl(p, checks):
    a = p.a
    r = ctl(p, a, "status")
    checks.append(p.check(r.returncode == 0 and re.search(r"^gateway\s+1$", r.stdout, re.M),
                          "repgatectl status names gateway 1"))
    r = ctl(p, a, "peers")
    checks.append(p.check(r.returncode == 0 and re.search(r"^\s*2\s+B\s", r.stdout, re.M),
                          "repgatectl peers lists peer 2 of region B"))
    r = ctl(p, a, "lanes")
    checks.append(p.check(r.returncode == 0 and "srtt_us" in r.stdout
                          and len(r.stdout.splitlines()) >= 2, "repgatectl lanes shows a lane"))
    r = ctl(p, a, "streams", "--top", "5")
    checks.append(p.check(r.returncode == 0 and "5 of 64 streams" in r.stdout
                          and len(r.stdout.splitlines()) == 7, "repgatectl streams --top 5"))
    for bad in ("0", "33"):
        r = ctl(p, a, "streams", "--top", bad)
        checks.append(p.check(r.returncode == 1 and "how many streams" in r.stderr,
                              f"repgatectl streams --top {bad} is refused: {r.stderr!r}"))
    r = ctl(p, a, "namespaces")
    checks.append(p.check(r.returncode == 0 and len(r.stdout.splitlines()) == 5,
                          "repgatectl namespaces: 4 namespaces"))
    r = ctl(p, a, "workers")
    checks.append(p.check(r.returncode == 0 and "busy_%" in r.stdout, "repgatectl workers"))
    r = ctl(p, a, "--json", "status")
    checks.append(p.check(r.returncode == 0 and json.loads(r.stdout)["region"] == "A"
                          and json.loads(r.stdout)["name"] == NAME,
                          "repgatectl --json status (and the name with its quote)"))
    r = subprocess.run([sys.executable, str(REPGATECTL), "--prefix", "rg-no-such-gateway",
                        "status"], capture_output=True, text=True, timeout=30)
    checks.append(p.check(r.returncode == 2 and "rg-no-such-gateway/dpdk_telemetry.v2"
                          in r.stderr and "not running" in r.stderr,
                          f"repgatectl names the missing socket: {r.stderr.strip()}"))
    tool = "/usr/bin/dpdk-telemetry.py"
    if os.path.exists(tool):
        r = subprocess.run([sys.executable, tool, "-f", a.prefix], input="/repgate/status\n",
                           capture_output=True, text=True, timeout=30)
        checks.append(p.check(r.returncode == 0 and '"gateway": 1' in r.stdout,
                              f"dpdk-telemetry.py reads /repgate/status: {r.stdout[-300:]}"))


def raw_query(side, cmd):
    """One telemetry command as bytes, its reply as bytes (repgatectl would refuse to send it)."""
    path = None
    for d in ("/var/run/dpdk", os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"), "dpdk")):
        if os.path.exists(os.path.join(d, side.prefix, "dpdk_telemetry.v2")):
            path = os.path.join(d, side.prefix, "dpdk_telemetry.v2")
    if path is None:
        raise pair.TestError(f"no telemetry socket for {side.prefix}")
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.settimeout(10)
        s.connect(path)
        info = json.loads(s.recv(1024).decode())
        s.send(cmd)
        return s.recv(int(info.get("max_output_len", 16384)))


def check_params(p, checks):
    """Parameters that are not printable ASCII get a JSON error, whatever the command."""
    for cmd in (b"/repgate/wan,d\xc3\xa9lai_ms=1", b"/repgate/wan,\xff=1", b"/repgate/wan,loss=\x80",
                b"/repgate/streams,\xe2\x82", b"/repgate/status,\xff", b"/repgate/status,x",
                b"/repgate/wan," + b"a" * 300, b'/repgate/wan,"=1'):
        try:
            raw = raw_query(p.a, cmd)
            reply = json.loads(raw.decode("utf-8"))
            err = next(iter(reply.values())).get("error", "")
        except (OSError, ValueError, AttributeError, StopIteration) as e:
            raw, err = repr(e).encode(), ""
        checks.append(p.check(err != "", f"{cmd[:40]!r}: a JSON error: {raw[:200]!r}"))
    r = ctl(p, p.a, "--json", "status")
    checks.append(p.check(r.returncode == 0, "the gateway still answers after them"))


def check_promtool(p, port, checks):
    """Prometheus's own parser and linter take the whole of /metrics (when promtool is here)."""
    if shutil.which("promtool") is None:
        p.say("promtool not found: /metrics not linted")
        return
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read()
    r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       timeout=30)
    checks.append(p.check(r.returncode == 0, "promtool check metrics passes on A's /metrics: "
                          + (r.stdout + r.stderr).decode(errors="replace")[-500:]))


def wan_json(p):
    return json.loads(ctl(p, p.a, "--json", "wan").stdout)


def check_wan(p, checks):
    before = wan_json(p)["ctr_drop_loss"]
    r = ctl(p, p.a, "wan", "loss=0.01")
    checks.append(p.check(r.returncode == 0 and "set: ok" in r.stdout, "repgatectl wan loss=0.01"))
    w = wan_json(p)
    checks.append(p.check(w["loss"] == "0.01", f"/repgate/wan shows loss 0.01: {w['loss']}"))
    after = poll("emulator drop_loss moving", lambda: (wan_json(p)["ctr_drop_loss"] > before
                                                       and wan_json(p)["ctr_drop_loss"]), 10)
    p.measure["wan_drop_loss_after_set"] = after - before
    checks.append(p.check(after > before, "the emulator's drop_loss counter moved"))
    r = ctl(p, p.a, "wan", "loss=2")
    checks.append(p.check(r.returncode == 1 and "loss" in r.stderr,
                          "a bad wan setting is refused with the reason"))
    for bad in ("delay_ms=inf", "rate_mbit_s=1e300", "queue_pkts=99999999999", "nosuch=1"):
        r = ctl(p, p.a, "wan", bad)
        checks.append(p.check(r.returncode == 1 and bad.split("=")[0] in r.stderr,
                              f"repgatectl wan {bad} is refused, naming the key: {r.stderr!r}"))


def check_scrape(p, port, checks):
    s = poll("records applied in A's /metrics",
             lambda: (lambda s: s if total(s, "repgate_records_applied_total") > 0 else None)(
                 scrape(port)), 20)
    missing = [n for n in NEEDED if n not in s]
    checks.append(p.check(not missing, f"A's /metrics has every key family (missing {missing})"))
    info = s.get("repgate_info", [({}, 0)])[0][0]
    checks.append(p.check(info.get("gateway") == "1" and info.get("role") == "generator"
                          and info.get("name") == NAME.replace("\\", "\\\\").replace('"', '\\"'),
                          f"repgate_info labels (name escaped): {info}"))
    lanes = s.get("repgate_lane_srtt_seconds", [])
    checks.append(p.check(lanes and all({"peer", "lane", "worker"} <= set(l) for l, _ in lanes),
                          "lane series carry peer, lane and worker labels"))


def check_final(p, pa, pb, checks):
    """After A's verdict, before B stops: the scraped totals are the verdicts' figures."""
    va = p.a.verdict()
    sa, sb = scrape(pa), scrape(pb)
    pub, app_a = total(sa, "repgate_records_published_total"), \
        total(sa, "repgate_records_applied_total")
    checks.append(p.check(pub == va["records_published"] and pub > 0,
                          f"A published: metrics {pub:.0f}, verdict {va['records_published']}"))
    checks.append(p.check(app_a == va["records_delivered"],
                          f"A applied: metrics {app_a:.0f}, verdict {va['records_delivered']}"))
    dlv_b, app_b = total(sb, "repgate_records_delivered_total"), \
        total(sb, "repgate_records_applied_total")
    rc = p.b.stop()
    p.measure["b_exit_status"] = rc
    vb = p.b.verdict()
    checks.append(p.check(dlv_b == vb["records_checked"],
                          f"B delivered: metrics {dlv_b:.0f}, verdict {vb['records_checked']}"))
    checks.append(p.check(app_b == vb["records_delivered"],
                          f"B applied: metrics {app_b:.0f}, verdict {vb['records_delivered']}"))
    p.measure.update(published=va["records_published"], a_applied=app_a, b_delivered=dlv_b)


def main():
    args = pair.parse_args(__doc__)
    pa, pb = free_port(), free_port()
    sets = ["wan.enabled=true", "wan.delay_ms=1", "wan.jitter_ms=0", "wan.loss=0",
            "wan.reorder=0", "telemetry.linger_s=60"]
    checks = []
    with pair.Pair("metrics", args, sets=sets, budget_s=100) as p:
        p.start_a([f"load.rate_records_s={RATE}", f"load.duration_s={DURATION_S}",
                   f"telemetry.metrics_port={pa}", f"gateway.name={NAME}"])
        p.start_b([f"telemetry.metrics_port={pb}"])
        p.flowing()
        check_wan(p, checks)  # first: it needs traffic, which stops DURATION_S after the start
        check_scrape(p, pa, checks)
        check_ctl(p, checks)
        check_params(p, checks)
        check_promtool(p, pa, checks)
        p.a.wait_for(lambda t: t.startswith('{"role":"generator"'), DURATION_S + 40,
                     "the generator's verdict")
        p.a.wait_for(lambda t: "telemetry serves until SIGTERM" in t, 10, "the linger line")
        check_final(p, pa, pb, checks)
        rc = p.a.stop()
        p.measure["a_exit_status"] = rc
        checks.append(p.check(rc == 0, f"A exits 0 on SIGTERM while lingering: {rc}"))
        p.finish()
        p.measure["checks"] = len(checks)
        p.check(len(checks) >= 20 and all(checks), f"checked {len(checks)} things")


if __name__ == "__main__":
    main()
