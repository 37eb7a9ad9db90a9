# SPDX-License-Identifier: Apache-2.0
"""The integration harness: two real repgate gateways over net_memif (DESIGN §5).

A Pair is region A (the load generator, memif server, profiles/bench-a.conf) and region B
(the verifying consumer, memif client, profiles/bench-b.conf), each a real `repgate` process
with its own EAL file prefix, the pair with its own memif socket, and everything else (logs,
JSON reports, B's state file) under the test's work dir, so tests never collide. A Side
reads its process's stdout and stderr on threads, timestamps every line with the monotonic
clock, and keeps them for the test to query (wait_for, progress, counters, verdict).

Every test runs as

    with Pair("name", args) as pair:
        ...

and leaves nothing behind on any path: the context manager stops both gateways (SIGTERM,
a bounded wait, SIGKILL), removes the socket and the DPDK runtime and hugepage files of its
own prefixes (never anyone else's). The gateways also get SIGKILL if the harness dies
(PR_SET_PDEATHSIG), and a per-test alarm bounds the whole run.

EAL memory args come from env RG_EAL_MEM when it is set (the Makefile exports what
scripts/hugepages.sh printed, possibly ""), else "--no-huge -m 1024"; --no-pci and -l 0,1
are always added. Judging is scripts/verdict.py's merge(), the same as make demo's.
"""
import argparse
import ctypes
import glob
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import verdict  # noqa: E402  (scripts/verdict.py: the same merge as make demo)

import keys  # noqa: E402  (tests/integration/keys.py: identity keys per test)

PROFILE = {"a": ROOT / "profiles" / "bench-a.conf", "b": ROOT / "profiles" / "bench-b.conf"}
MEMIF_ARGS = "socket-abstract=no,bsize=10240,rsize=12"

GEN_RE = re.compile(r"^\[\s*([\d.]+)s\] generator: made (\d+) applied (\d+) \((\d+) rec/s\) "
                    r"rtt ([\d.]+) ms rtx (\d+) lanes up (\d+)")
CON_RE = re.compile(r"^\[\s*([\d.]+)s\] consumer: checked (\d+) \((\d+) rec/s, ([\d.]+) "
                    r"Gbit/s\) applied (\d+) rtt ([\d.]+) ms rtx (\d+) lanes up (\d+) "
                    r"anomalies (\d+)")
COUNTERS_RE = re.compile(r"^repgate: final counters \(gateway (\d+)\):(.*)$")


class TestError(Exception):
    """The test cannot go on (a gateway did not start, a bound ran out)."""


def parse_args(description):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--repgate", default=str(ROOT / "build" / "release" / "apps" / "repgate"),
                    help="the daemon (meson passes repgate_exe)")
    ap.add_argument("--workdir", default=None,
                    help="logs, reports and state go here (wiped first); default: a temp dir "
                         "removed on success")
    ap.add_argument("--timeout", type=float, default=None,
                    help="bound on the whole test, seconds (default: the test's own)")
    ap.add_argument("--plaintext", action="store_true",
                    help='security.mode = "none" on both gateways (default: sealed, with keys '
                         'made for the test)')
    return ap.parse_args()


def eal_mem():
    mem = os.environ.get("RG_EAL_MEM")
    return shlex.split(mem) if mem is not None else ["--no-huge", "-m", "1024"]


def _pdeathsig():
    """In the child: SIGKILL it when the harness dies, so no gateway outlives a killed test."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _remove_dpdk_files(prefix):
    """The runtime dir and hugepage files of one EAL prefix (its process must be gone)."""
    dirs = ["/var/run/dpdk", "/run/dpdk", "/tmp/dpdk"]
    if os.environ.get("XDG_RUNTIME_DIR"):
        dirs.append(os.path.join(os.environ["XDG_RUNTIME_DIR"], "dpdk"))
    for d in dirs:
        shutil.rmtree(os.path.join(d, prefix), ignore_errors=True)
    try:
        with open("/proc/mounts", encoding="utf-8") as f:
            mounts = [l.split()[1] for l in f if l.split()[2:3] == ["hugetlbfs"]]
    except OSError:
        mounts = ["/dev/hugepages"]
    for m in mounts:
        for p in glob.glob(os.path.join(glob.escape(m), glob.escape(prefix) + "map_*")):
            try:
                os.unlink(p)
            except OSError:
                pass


class Side:
    """One gateway process: one incarnation at a time, each start() makes the next."""

    def __init__(self, pair, name, label, role=None, profile=None, device=None, wrap=()):
        self.pair = pair
        self.name = name  # "a", "b" (or "b2"...)
        self.label = label  # "A" or "B": the prefix of its echoed lines
        self.role = role or ("generator" if name == "a" else "consumer")
        self.profile = profile or PROFILE["a" if self.role == "generator" else "b"]
        self.device = device  # None: the pair's memif (A the server, B the client)
        self.wrap = list(wrap)  # a command prefix, e.g. ip netns exec NS
        self.prefix = f"rg-it-{pair.name}-{os.getpid()}-{name}"
        self.proc = None
        self.incarnation = 0
        self.sets = []
        self.lines = []  # (monotonic time, incarnation, text) of stdout
        self.err = []  # same, of stderr
        self.started_at = None
        self.lock = threading.Lock()
        self.threads = []
        self._last_echo = 0.0

    # ---- paths ----
    def report(self, inc=None):
        return self.pair.workdir / f"{self.name}{inc or self.incarnation}.json"

    def log(self, stream, inc=None):
        return self.pair.workdir / f"{self.name}{inc or self.incarnation}.{stream}"

    # ---- process ----
    def start(self, sets=None):
        """Starts the next incarnation with the pair's overrides plus sets."""
        if self.running():
            raise TestError(f"{self.label} is already running")
        if sets is not None:
            self.sets = list(sets)
        self.incarnation += 1
        role = "server" if self.role == "generator" else "client"
        args = [*self.wrap, self.pair.repgate, "--profile", str(self.profile)]
        device = self.device or f"net_memif0,role={role},socket={self.pair.socket},{MEMIF_ARGS}"
        overrides = [
            f"port.device={device}",
            f"load.report={self.report()}",
            "load.progress_ms=100",
        ]
        if self.role == "consumer":
            overrides.append(f"load.state_file={self.pair.state_file}")
        overrides += self.pair.security_sets(self.name)
        for s in overrides + self.pair.sets + self.sets:
            args += ["--set", s]
        args += [*self.pair.lcores.get(self.name, ["-l", "0,1"]), *eal_mem(), "--no-pci",
                 "--log-level=*:warning",
                 f"--file-prefix={self.prefix}"]
        if self.role == "generator" and self.device is None:
            try:  # the memif server does not remove a stale socket itself
                os.unlink(self.pair.socket)
            except FileNotFoundError:
                pass
        self.pair.say(f"{self.label}{self.incarnation}: {' '.join(map(str, args))}")
        out = open(self.log("out"), "w", encoding="utf-8")
        err = open(self.log("err"), "w", encoding="utf-8")
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, errors="replace",
                                     preexec_fn=_pdeathsig)
        inc = self.incarnation
        self.threads = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self.lines, out, inc),
                             daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, self.err, err, inc),
                             daemon=True),
        ]
        for t in self.threads:
            t.start()
        return self

    def _read(self, pipe, into, logf, inc):
        with logf:
            for text in pipe:
                now = time.monotonic()
                text = text.rstrip("\n")
                logf.write(f"{now - self.pair.t0:9.3f} {text}\n")
                logf.flush()
                with self.lock:
                    into.append((now, inc, text))
                if into is self.lines:
                    self._echo(now, inc, text)

    def _echo(self, now, inc, text):
        """Non-progress lines always; progress lines about once a second."""
        if GEN_RE.match(text) or CON_RE.match(text):
            if now - self._last_echo < 0.95:
                return
            self._last_echo = now
        self.pair.say(f"{self.label}{inc} | {text}")

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        if self.running():
            self.proc.send_signal(sig)
            self.pair.say(f"{self.label}{self.incarnation}: sent {signal.Signals(sig).name}")

    def wait(self, timeout):
        """Waits for the process to exit; its status, or None if it is still running."""
        if self.proc is None:
            return None
        try:
            rc = self.proc.wait(timeout=max(0.0, timeout))
        except subprocess.TimeoutExpired:
            return None
        for t in self.threads:
            t.join(timeout=5)
        return rc

    def kill9(self):
        """kill -9, reaped; then its DPDK files go, as a crashed host's would on reboot."""
        if self.running():
            self.proc.kill()
            self.pair.say(f"{self.label}{self.incarnation}: sent SIGKILL")
        rc = self.wait(10)
        _remove_dpdk_files(self.prefix)
        return rc

    def stop(self, timeout=15.0):
        """SIGTERM, up to timeout seconds, then SIGKILL. Returns the exit status."""
        if self.proc is None:
            return None
        if self.running():
            self.proc.terminate()
            rc = self.wait(timeout)
            if rc is not None:
                return rc
            self.pair.say(f"{self.label}{self.incarnation}: no exit {timeout:.0f} s after "
                          f"SIGTERM: SIGKILL")
            self.proc.kill()
        return self.wait(10)

    # ---- what it printed ----
    def snapshot(self, err=False, inc=None):
        with self.lock:
            src = self.err if err else self.lines
            return [(t, x) for t, i, x in src if inc is None or i == inc]

    def wait_for(self, pred, timeout, what, since=None):
        """The first (time, value) after since where pred(line) is truthy; TestError after
        timeout seconds or if the process exits first."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            with self.lock:
                new = self.lines[seen:]
                seen = len(self.lines)
            for t, inc, text in new:
                if inc != self.incarnation or (since is not None and t < since):
                    continue
                v = pred(text)
                if v:
                    return t, v
            if not self.running() and all(not th.is_alive() for th in self.threads):
                raise TestError(f"{self.label}{self.incarnation} exited (status "
                                f"{self.proc.returncode}) before {what}: see "
                                f"{self.log('err')}: {self.tail_err()}")
            if time.monotonic() > deadline:
                raise TestError(f"{self.label}{self.incarnation}: no {what} within "
                                f"{timeout:.0f} s")
            time.sleep(0.02)

    def tail_err(self, n=3):
        return " / ".join(x for _, x in self.snapshot(err=True)[-n:])

    def progress(self, inc=None):
        """[(time, fields)] of this side's progress lines (all incarnations unless inc)."""
        gen = self.role == "generator"
        rx = GEN_RE if gen else CON_RE
        out = []
        for t, text in self.snapshot(inc=inc):
            m = rx.match(text)
            if m:
                out.append((t, parse_progress("a" if gen else "b", m)))
        return out

    def counters(self, inc=None):
        """The final counters this incarnation printed on stderr, {} if none."""
        inc = inc or self.incarnation
        for _, text in reversed(self.snapshot(err=True, inc=inc)):
            m = COUNTERS_RE.match(text)
            if m:
                return {k: int(v) for k, v in (kv.split("=", 1) for kv in m.group(2).split())}
        return {}

    def verdict(self, inc=None):
        """This incarnation's JSON verdict (its report file), or TestError."""
        inc = inc or self.incarnation
        try:
            return verdict.load(str(self.report(inc)), self.role)
        except verdict.BadInput as e:
            raise TestError(f"{self.label}{inc} verdict: {e}") from None


def parse_progress(name, m):
    g = m.groups()
    if name == "a":
        return {"t": float(g[0]), "made": int(g[1]), "applied": int(g[2]),
                "rate": int(g[3]), "rtt_ms": float(g[4]), "rtx": int(g[5]), "up": int(g[6])}
    return {"t": float(g[0]), "checked": int(g[1]), "rate": int(g[2]), "gbps": float(g[3]),
            "applied": int(g[4]), "rtt_ms": float(g[5]), "rtx": int(g[6]), "up": int(g[7]),
            "anomalies": int(g[8])}


def checked_above(n):
    """A wait_for predicate: a consumer progress line with checked > n (returns its fields)."""
    def pred(text):
        m = CON_RE.match(text)
        return parse_progress("b", m) if m and int(m.group(2)) > n else None
    return pred


def applied_above(n):
    """A wait_for predicate: a generator progress line with applied > n."""
    def pred(text):
        m = GEN_RE.match(text)
        return parse_progress("a", m) if m and int(m.group(3)) > n else None
    return pred


def is_up(text):
    return text.startswith("repgate: gateway ") and " up: " in text


class Pair:
    """Region A and region B of one test, and its checks."""

    def __init__(self, name, args, sets=(), budget_s=120.0, lcores=None):
        self.name = name
        # EAL lcores per side ("a", "b"): default -l 0,1 (a main lcore and one worker).
        self.lcores = lcores or {}
        self.args = args
        self.repgate = args.repgate
        self.sets = list(sets)  # overrides for both sides
        self.budget_s = args.timeout or budget_s
        self.failures = []
        self.measure = {}
        self.out_lock = threading.Lock()
        self.t0 = time.monotonic()
        if args.workdir:
            self.workdir = Path(args.workdir).resolve()
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir.mkdir(parents=True)
            self.own_workdir = False
        else:
            self.workdir = Path(tempfile.mkdtemp(prefix=f"rg-it-{name}-"))
            self.own_workdir = True
        # A short dir of its own for the socket: sun_path holds 107 bytes.
        self.sockdir = Path(tempfile.mkdtemp(prefix="rg-it-"))
        self.socket = self.sockdir / "memif.sock"
        self.state_file = self.workdir / "b.state"
        self.a = Side(self, "a", "A")
        self.b = Side(self, "b", "B")
        self.sides = [self.a, self.b]
        self.plaintext = getattr(args, "plaintext", False)
        self.keys = keys.Keys(self.repgate, self.workdir)
        # peers.[i] of each side's profile, by key name; a test with more peers adds to it
        self.peer_names = {"a": ["b"], "b": ["a"]}

    def security_sets(self, side):
        """--set values for side's security: its key and its peers' public keys."""
        if self.plaintext:
            return ["security.mode=none"]
        return self.keys.gateway_sets(side, self.peer_names.get(side, []))

    def say(self, text):
        line = f"[{time.monotonic() - self.t0:7.2f}] {text}\n"
        with self.out_lock:  # the reader threads echo too: keep lines whole
            sys.stdout.write(line)
            sys.stdout.flush()

    def check(self, ok, what):
        """Records a failed check (the test goes on, so one run shows every failure)."""
        if not ok:
            self.failures.append(what)
            self.say(f"CHECK FAILED: {what}")
        return ok

    # ---- the usual steps ----
    def start_a(self, sets=()):
        """Starts A and waits for its memif socket (B, the client, needs it to start)."""
        self.a.start(sets)
        deadline = time.monotonic() + 20
        while not self.socket.exists():
            if not self.a.running():
                raise TestError(f"A exited (status {self.a.proc.returncode}) before making "
                                f"{self.socket}: {self.a.tail_err()}")
            if time.monotonic() > deadline:
                raise TestError(f"A made no {self.socket} within 20 s")
            time.sleep(0.02)
        return self.a

    def start_b(self, sets=()):
        """Starts B and waits for its 'up' line (blaming A if A is what went away)."""
        self.b.start(sets)
        try:
            self.b.wait_for(is_up, 20, "'up' line")
        except TestError as e:
            if self.a.proc is not None and not self.a.running():
                raise TestError(f"A{self.a.incarnation} exited (status {self.a.proc.returncode}):"
                                f" {self.a.tail_err()}; then {e}") from None
            raise
        return self.b

    def flowing(self, timeout=20):
        """Waits until B has checked records; returns that moment (the scenario's t0)."""
        t, _ = self.b.wait_for(checked_above(0), timeout, "records checked")
        return t

    def flow_floor(self, rate, duration_s, t_flow, share=0.8, min_window_s=1.5):
        """The records A must have published when its generator ran duration_s at rate and
        records flowed from t_flow: share of what that window holds. A's clock starts at its
        'up' line, before B is up, so a slow start of B (a busy machine) shortens the window
        instead of failing the floor. A window under min_window_s is a failure of its own."""
        t_up, _ = self.a.wait_for(is_up, 0, "'up' line")
        window = duration_s - (t_flow - t_up)
        self.measure["flow_window_s"] = round(window, 3)
        if window < min_window_s:
            raise TestError(f"records flowed {t_flow - t_up:.2f} s after A was up: only "
                            f"{window:.2f} s of its {duration_s} s carried records "
                            f"(at least {min_window_s} s needed)")
        return int(share * rate * window)

    def sleep_until(self, t):
        while time.monotonic() < t:
            time.sleep(min(0.05, t - time.monotonic()))

    def wait_a_done(self, timeout):
        """A ends by itself (duration, then until all it made is applied)."""
        rc = self.a.wait(timeout)
        if rc is None:
            raise TestError(f"A{self.a.incarnation} still running {timeout:.0f} s later")
        self.measure["a_exit_status"] = rc
        return rc

    def finish(self, floor=0):
        """Stops B, merges A's and B's verdicts and checks them; returns the merged verdict."""
        rc = self.b.stop()
        self.measure["b_exit_status"] = rc
        m = verdict.merge(self.a.verdict(), self.b.verdict(), floor)
        self.say(f"verdict {json.dumps(m, separators=(',', ':'))}")
        with self.out_lock:
            print(verdict.summary(m), flush=True)
        self.check(m["verdict"] == "pass", "merged verdict: " + "; ".join(m["failures"]))
        self.check(m["records_checked"] > 0, "the consumer checked nothing")
        self.verdict = m
        return m

    # ---- lifetime ----
    def __enter__(self):
        def on_alarm(signum, frame):
            raise TestError(f"the test ran past its {self.budget_s:.0f} s bound")

        def on_term(signum, frame):
            raise SystemExit(128 + signum)

        signal.signal(signal.SIGALRM, on_alarm)
        signal.signal(signal.SIGTERM, on_term)
        signal.signal(signal.SIGINT, on_term)
        signal.setitimer(signal.ITIMER_REAL, self.budget_s)
        self.say(f"integration {self.name}: work dir {self.workdir}, socket {self.socket}, "
                 f"EAL memory {' '.join(eal_mem()) or '(hugepages)'}")
        return self

    def __exit__(self, etype, exc, tb):
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # let the cleanup finish
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if etype is not None:
            self.failures.append(f"{etype.__name__}: {exc}")
            self.say(f"ERROR: {etype.__name__}: {exc}")
        for side in self.sides:
            try:
                if side.running():
                    side.stop(10)
            finally:
                _remove_dpdk_files(side.prefix)
        shutil.rmtree(self.sockdir, ignore_errors=True)
        self.report()
        if self.own_workdir and not self.failures:
            shutil.rmtree(self.workdir, ignore_errors=True)
        elif self.failures:
            self.say(f"logs kept in {self.workdir}")
        sys.exit(1 if self.failures else 0)

    def report(self):
        ms = dict(self.measure)
        for side in self.sides:
            for inc in range(1, side.incarnation + 1):
                c = side.counters(inc)
                if c:
                    self.say(f"{side.label}{inc} final counters: "
                             + " ".join(f"{k}={v}" for k, v in c.items()
                                        if not k.startswith(("loops", "busy_", "idle_"))))
        self.say(f"measurements {json.dumps(ms, separators=(',', ':'))}")
        if self.failures:
            self.say(f"integration {self.name}: FAIL ({len(self.failures)}): "
                     + " | ".join(self.failures))
        else:
            self.say(f"integration {self.name}: PASS")


def counter_sum(sides, name):
    return sum(s.counters().get(name, 0) for s in sides)


def rate_series(side, key, inc=None):
    """[(time, value)] of one progress field."""
    return [(t, f[key]) for t, f in side.progress(inc)]
