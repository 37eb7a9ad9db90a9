# SPDX-License-Identifier: Apache-2.0
"""The relay harness: real client processes through two real gateways (DESIGN §4.9, §5).

    producer (repgate-load --role generator, client 10)          netns <A-LAN>, 10.1.0.1
        │ kernel UDP over net_tap
    gateway A (repgate, profiles/demo-a.conf)                    lan 10.1.0.2, memif server
        │ net_memif through the WAN emulator
    gateway B (repgate, profiles/demo-b.conf)                    memif client, lan 10.2.0.2
        │ kernel UDP over net_tap
    consumer (repgate-load --role verifier, client 20)           netns <B-LAN>, 10.2.0.1

Each gateway's LAN is a net_tap port whose kernel side the harness moves into a network
namespace of the test's own (so the clients' traffic never touches the host's interfaces),
where it gets the client side's address; a restarted gateway makes a new tap, moved again.
Clients run in their LAN's namespace (ip netns exec). Every process is real, with its own
EAL prefix (gateways) and its own log; a Relay stops them all by pid on every way out
(SIGTERM, a bounded wait, SIGKILL), deletes its namespaces and the DPDK files of its prefixes.
Judging is scripts/verdict.py's merge() of the generator's and the verifier's JSON reports,
the same as make demo's.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pair  # noqa: E402  (eal_mem, TestError, GEN_RE, CON_RE, verdict, the DPDK file cleanup)
from pair import TestError  # noqa: F401  (re-exported for the tests)

ROOT = pair.ROOT
LOAD = ROOT / "build" / "release" / "apps" / "load" / "repgate-load"
REPGATECTL = ROOT / "apps" / "repgatectl"
LAN = {"a": ("10.1.0.1", "10.1.0.2", 10, 1), "b": ("10.2.0.1", "10.2.0.2", 20, 2)}
MEMIF_ARGS = "socket-abstract=no,bsize=10240,rsize=12"


def parse_args(description):
    ap = pair.argparse.ArgumentParser(description=description)
    ap.add_argument("--repgate", default=str(ROOT / "build" / "release" / "apps" / "repgate"))
    ap.add_argument("--load", default=str(LOAD), help="repgate-load (meson passes it)")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--timeout", type=float, default=None)
    ap.add_argument("--plaintext", action="store_true",
                    help='security.mode = "none" everywhere (default: sealed, keys per test)')
    return ap.parse_args()


def sh(*args, check=True):
    """Runs a short command (ip ...); its output, or TestError with what it said."""
    r = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=20)
    if check and r.returncode != 0:
        raise TestError(f"{' '.join(map(str, args))}: {r.stderr.strip() or r.returncode}")
    return r.stdout


class Proc:
    """One process, one incarnation at a time; its stdout and stderr kept, timestamped."""

    def __init__(self, relay, name, label):
        self.relay, self.name, self.label = relay, name, label
        self.proc = None
        self.incarnation = 0
        self.lines, self.err = [], []
        self.lock = threading.Lock()
        self.threads = []

    def log(self, stream, inc=None):
        return self.relay.workdir / f"{self.name}{inc or self.incarnation}.{stream}"

    def spawn(self, args):
        if self.running():
            raise TestError(f"{self.label} is already running")
        self.incarnation += 1
        inc = self.incarnation
        self.relay.say(f"{self.label}{inc}: {' '.join(map(str, args))}")
        out = open(self.log("out"), "w", encoding="utf-8")
        err = open(self.log("err"), "w", encoding="utf-8")
        self.proc = subprocess.Popen(list(map(str, args)), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     errors="replace", preexec_fn=pair._pdeathsig)
        self.threads = [threading.Thread(target=self._read, args=(p, into, f, inc), daemon=True)
                        for p, into, f in ((self.proc.stdout, self.lines, out),
                                           (self.proc.stderr, self.err, err))]
        for t in self.threads:
            t.start()
        return self

    def _read(self, pipe, into, logf, inc):
        last_echo = 0.0
        with logf:
            for text in pipe:
                now = time.monotonic()
                text = text.rstrip("\n")
                logf.write(f"{now - self.relay.t0:9.3f} {text}\n")
                logf.flush()
                with self.lock:
                    into.append((now, inc, text))
                progress = pair.GEN_RE.match(text) or pair.CON_RE.match(text)
                if into is self.lines and (not progress or now - last_echo >= 0.95):
                    last_echo = now if progress else last_echo
                    self.relay.say(f"{self.label}{inc} | {text}")

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def cpu_seconds(self):
        """User + system CPU time of the running process, all its threads (/proc/PID/stat),
        to the kernel's tick (1/CLK_TCK s); None when it is not running. Read it before the
        process exits: afterwards nothing is left to read."""
        if not self.running():
            return None
        try:
            with open(f"/proc/{self.proc.pid}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        # fields[0] is field 3 (state): utime and stime are fields 14 and 15
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def threads_cpu_seconds(self):
        """cpu_seconds() per thread name (threads of one name added up), e.g. DPDK's
        rte-worker-N apart from the control threads; {} when the process is not running."""
        out = {}
        if not self.running():
            return out
        task = Path(f"/proc/{self.proc.pid}/task")
        try:
            tids = os.listdir(task)
        except OSError:
            return out
        for tid in tids:
            try:
                name = (task / tid / "comm").read_text().strip()
                fields = (task / tid / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # the thread ended meanwhile
            out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / \
                os.sysconf("SC_CLK_TCK")
        return out

    def wait(self, timeout):
        if self.proc is None:
            return None
        try:
            rc = self.proc.wait(timeout=max(0.0, timeout))
        except subprocess.TimeoutExpired:
            return None
        for t in self.threads:
            t.join(timeout=5)
        return rc

    def signal(self, sig):
        if self.running():
            self.proc.send_signal(sig)
            self.relay.say(f"{self.label}{self.incarnation}: sent {signal.Signals(sig).name}")

    def kill9(self):
        self.signal(signal.SIGKILL)
        return self.wait(10)

    def stop(self, timeout=15.0):
        if self.proc is None:
            return None
        if self.running():
            self.proc.terminate()
            rc = self.wait(timeout)
            if rc is not None:
                return rc
            self.relay.say(f"{self.label}{self.incarnation}: no exit after SIGTERM: SIGKILL")
            self.proc.kill()
        return self.wait(10)

    def snapshot(self, err=False, inc=None):
        with self.lock:
            return [(t, x) for t, i, x in (self.err if err else self.lines)
                    if inc is None or i == inc]

    def wait_for(self, pred, timeout, what, since=None):
        """The first (time, value) of this incarnation with pred(line) truthy, after since."""
        deadline, seen = time.monotonic() + timeout, 0
        while True:
            with self.lock:
                new, seen = self.lines[seen:], len(self.lines)
            for t, inc, text in new:
                if inc == self.incarnation and (since is None or t >= since):
                    v = pred(text)
                    if v:
                        return t, v
            if not self.running() and all(not th.is_alive() for th in self.threads):
                raise TestError(f"{self.label}{self.incarnation} exited (status "
                                f"{self.proc.returncode}) before {what}: "
                                f"{' / '.join(x for _, x in self.snapshot(err=True)[-3:])}")
            if time.monotonic() > deadline:
                raise TestError(f"{self.label}{self.incarnation}: no {what} within {timeout:.0f} s")
            time.sleep(0.02)


class Gateway(Proc):
    """A repgate relay: its WAN over the relay's memif, its LAN a tap moved into a namespace."""

    def __init__(self, relay, side):
        super().__init__(relay, f"gw{side}", f"G{side.upper()}")
        self.side = side
        self.prefix = f"rg-it-{relay.name}-{os.getpid()}-{side}"
        # each LAN its own namespace, or one for both (a process that is a client of both)
        self.netns = f"rgt{os.getpid() % 100000}{'c' if relay.shared_ns else side}"
        self.iface = f"rgt{os.getpid() % 100000}{side}"
        self.client_ip, self.ip, self.client_id, self.id = LAN[side]
        self.sets = []
        self.extra_peers = []  # key names of peers.[2..] a test adds (security_sets)
        self.lcores = ["-l", "0,1"]  # EAL lcores: a main lcore and one worker

    def telemetry_socket(self):
        for d in ("/var/run/dpdk", "/run/dpdk"):
            p = Path(d) / self.prefix / "dpdk_telemetry.v2"
            if p.exists():
                return p
        return None

    def start(self, sets=()):
        role = "server" if self.side == "a" else "client"
        args = [self.relay.repgate, "--profile", ROOT / "profiles" / f"demo-{self.side}.conf",
                "--set", f"port.device=net_memif0,role={role},socket={self.relay.socket},"
                         f"{MEMIF_ARGS}",
                "--set", f"lan.device=net_tap0,iface={self.iface}"]
        for s in self.relay.security_sets(self) + self.relay.sets + self.sets + list(sets):
            args += ["--set", s]
        args += [*self.lcores, *pair.eal_mem(), "--no-pci", "--log-level=*:warning",
                 f"--file-prefix={self.prefix}"]
        if self.side == "a":
            try:
                os.unlink(self.relay.socket)
            except FileNotFoundError:
                pass
        self.spawn(args)
        self.wait_for(pair.is_up, 20, "'up' line")
        self._lan_up()
        return self

    def _lan_up(self):
        """Moves the new tap's kernel side into the LAN namespace and gives it the client's IP."""
        deadline = time.monotonic() + 10
        while sh("ip", "link", "show", self.iface, check=False) == "":
            if time.monotonic() > deadline:
                raise TestError(f"{self.label}: no tap {self.iface} within 10 s")
            time.sleep(0.02)
        sh("ip", "link", "set", self.iface, "netns", self.netns)
        sh("ip", "-n", self.netns, "addr", "add", f"{self.client_ip}/24", "dev", self.iface)
        sh("ip", "-n", self.netns, "link", "set", self.iface, "up")

    def lan_counters(self):
        """The kernel's side of this gateway's LAN: its tap's link counters (tx: towards the
        gateway, tx_dropped what the gateway did not read in time; rx: from it) and the
        namespace's UDP counters (RcvbufErrors: datagrams a client's socket had no room for;
        with shared_ns, the one namespace both LANs share)."""
        link = json.loads(sh("ip", "-n", self.netns, "-j", "-s", "link", "show", self.iface))
        snmp = sh("ip", "netns", "exec", self.netns, "cat", "/proc/net/snmp").splitlines()
        udp = [l.split()[1:] for l in snmp if l.startswith("Udp:")]
        return {"link": {f"{d}_{k}": v for d in ("rx", "tx")
                         for k, v in link[0]["stats64"][d].items()},
                "udp": dict(zip(udp[0], map(int, udp[1]))) if len(udp) == 2 else {}}

    def kill9(self):
        rc = super().kill9()
        pair._remove_dpdk_files(self.prefix)  # as a crashed host's go at reboot
        return rc

    def counters(self, inc=None):
        inc = inc or self.incarnation
        for _, text in reversed(self.snapshot(err=True, inc=inc)):
            m = pair.COUNTERS_RE.match(text)
            if m:
                return {k: int(v) for k, v in (kv.split("=", 1) for kv in m.group(2).split())}
        return {}

    def ctl(self, command):
        """repgatectl COMMAND --json against this gateway: the reply, or TestError."""
        r = subprocess.run([sys.executable, str(REPGATECTL), "--prefix", self.prefix, "--json",
                            command], capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            raise TestError(f"repgatectl {command} on {self.label}: {r.stderr.strip()}")
        return json.loads(r.stdout)


class Client(Proc):
    """repgate-load in a LAN namespace: the generator at A, the verifier at B."""

    def __init__(self, relay, gw, role):
        super().__init__(relay, "gen" if role == "generator" else "ver",
                         "P" if role == "generator" else "C")
        self.gw, self.role = gw, role

    def report(self, inc=None):
        return self.relay.workdir / f"{self.name}{inc or self.incarnation}.json"

    def start(self, *extra, client_id=None):
        cid = client_id or self.gw.client_id
        args = ["ip", "netns", "exec", self.gw.netns, self.relay.load, "--role", self.role,
                "--id", cid, *self.relay.client_security(cid, self.gw), "--progress-ms", "250",
                "--report", self.report(self.incarnation + 1), *self.relay.load_args, *extra]
        if self.role == "verifier":
            args += ["--state-file", self.relay.workdir / "verifier.state"]
        return self.spawn(args)

    def progress(self, inc=None):
        rx = pair.GEN_RE if self.role == "generator" else pair.CON_RE
        return [(t, pair.parse_progress("a" if self.role == "generator" else "b", m))
                for t, text in self.snapshot(inc=inc) if (m := rx.match(text))]

    def verdict(self, inc=None):
        inc = inc or self.incarnation
        try:
            return pair.verdict.load(str(self.report(inc)),
                                     "generator" if self.role == "generator" else "consumer")
        except pair.verdict.BadInput as e:
            raise TestError(f"{self.label}{inc} verdict: {e}") from None


class Relay:
    """The whole chain of one test, and its checks; a context manager that cleans up."""

    def __init__(self, name, args, budget_s=120.0, sets=(), load_args=(), shared_ns=False,
                 exits=True):
        """exits: at the end of the with block, exit the program with the test's status (a
        test); False: return to the caller, the failures left in .failures (a caller that runs
        several chains, as perf/clients.py does)."""
        self.name, self.args, self.exits = name, args, exits
        self.shared_ns = shared_ns
        self.repgate, self.load = args.repgate, args.load
        self.budget_s = args.timeout or budget_s
        self.sets, self.load_args = list(sets), list(map(str, load_args))
        self.failures, self.measure = [], {}
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
        self.sockdir = Path(tempfile.mkdtemp(prefix="rg-it-"))
        self.socket = self.sockdir / "memif.sock"
        self.plaintext = getattr(args, "plaintext", False)
        self.keys = pair.keys.Keys(self.repgate, self.workdir)
        self.a, self.b = Gateway(self, "a"), Gateway(self, "b")
        self.gen, self.ver = Client(self, self.a, "generator"), Client(self, self.b, "verifier")
        self.procs = [self.gen, self.ver, self.a, self.b]

    def say(self, text):
        with self.out_lock:
            sys.stdout.write(f"[{time.monotonic() - self.t0:7.2f}] {text}\n")
            sys.stdout.flush()

    def check(self, ok, what):
        if not ok:
            self.failures.append(what)
            self.say(f"CHECK FAILED: {what}")
        return ok

    def security_sets(self, gw):
        """--set values for gateway gw: its key; peers.[0] the other gateway, [1] its client
        (profiles/demo-*.conf); gw.extra_peers names any peers a test adds after those."""
        if self.plaintext:
            return ["security.mode=none"]
        other = "b" if gw.side == "a" else "a"
        return self.keys.gateway_sets(gw.side, [other, f"client{gw.client_id}",
                                                *gw.extra_peers])

    def client_security(self, client_id, gw):
        """A client's --key and --gateway arguments (the gateway's public key with it)."""
        if self.plaintext:
            return ["--gateway", f"{gw.id}@{gw.ip}:7000"]
        return ["--key", str(self.keys.path(f"client{client_id}")),
                "--gateway", f"{gw.id}@{gw.ip}:7000,{self.keys.pub(gw.side)}"]

    def start_gateways(self):
        self.a.start()
        self.b.start()

    def wait_checked(self, n, timeout, since=None):
        """Waits until the verifier's progress says checked > n; returns that moment."""
        t, _ = self.ver.wait_for(pair.checked_above(n), timeout, f"more than {n} checked",
                                 since=since)
        return t

    def checked(self):
        return max([f["checked"] for _, f in self.ver.progress()] or [0])

    def finish(self, gen_timeout, floor=0, idle_s=3.0):
        """The generator ends by itself; the verifier once idle; then the merged verdict."""
        rc = self.gen.wait(gen_timeout)
        if rc is None:
            raise TestError(f"the generator still runs {gen_timeout:.0f} s later")
        self.measure["generator_exit"] = rc
        # the verifier has everything once it checked all the generator applied; then stop it
        gv = self.gen.verdict()
        deadline = time.monotonic() + 30
        while self.checked_total() < gv["records_delivered"] and time.monotonic() < deadline:
            time.sleep(0.05)
        self.ver.signal(signal.SIGTERM)
        self.measure["verifier_exit"] = self.ver.wait(15)
        m = pair.verdict.merge(gv, self.ver.verdict(), floor)
        self.say(f"verdict {json.dumps(m, separators=(',', ':'))}")
        with self.out_lock:
            print(pair.verdict.summary(m), flush=True)
        self.check(m["verdict"] == "pass", "merged verdict: " + "; ".join(m["failures"]))
        self.check(m["records_checked"] > 0, "the verifier checked nothing")
        self.verdict = m
        return m

    def checked_total(self):
        """Records applied by the verifier so far (its last progress line)."""
        p = self.ver.progress(inc=self.ver.incarnation)
        return p[-1][1]["applied"] if p else 0

    def __enter__(self):
        def on_alarm(signum, frame):
            raise TestError(f"the test ran past its {self.budget_s:.0f} s bound")

        def on_term(signum, frame):
            raise SystemExit(128 + signum)

        if os.geteuid() != 0:
            print(f"integration {self.name}: SKIP: needs root (network namespaces, taps)")
            sys.exit(77)
        if not Path(self.load).exists():
            raise SystemExit(f"{self.load}: not built")
        self.saved_handlers = {sig: signal.getsignal(sig)
                               for sig in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT)}
        signal.signal(signal.SIGALRM, on_alarm)
        signal.signal(signal.SIGTERM, on_term)
        signal.signal(signal.SIGINT, on_term)
        signal.setitimer(signal.ITIMER_REAL, self.budget_s)
        for ns in sorted({g.netns for g in (self.a, self.b)}):
            sh("ip", "netns", "del", ns, check=False)
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        self.say(f"integration {self.name}: work dir {self.workdir}, namespaces "
                 f"{self.a.netns} {self.b.netns}, EAL memory {' '.join(pair.eal_mem()) or '(hugepages)'}")
        return self

    def __exit__(self, etype, exc, tb):
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if etype is not None and etype is not SystemExit:
            self.failures.append(f"{etype.__name__}: {exc}")
            self.say(f"ERROR: {etype.__name__}: {exc}")
        for p in self.procs:
            try:
                if p.running():
                    p.stop(10)
            finally:
                if isinstance(p, Gateway):
                    pair._remove_dpdk_files(p.prefix)
        for ns in sorted({g.netns for g in (self.a, self.b)}):
            sh("ip", "netns", "del", ns, check=False)
        shutil.rmtree(self.sockdir, ignore_errors=True)
        for g in (self.a, self.b):
            for inc in range(1, g.incarnation + 1):
                c = g.counters(inc)
                if c:
                    self.say(f"{g.label}{inc} final counters: " + " ".join(
                        f"{k}={v}" for k, v in c.items()
                        if not k.startswith(("loops", "busy_", "idle_"))))
        self.say(f"measurements {json.dumps(self.measure, separators=(',', ':'))}")
        if self.failures:
            self.say(f"integration {self.name}: FAIL ({len(self.failures)}): "
                     + " | ".join(self.failures))
            self.say(f"logs kept in {self.workdir}")
        else:
            self.say(f"integration {self.name}: PASS")
            if self.own_workdir:
                shutil.rmtree(self.workdir, ignore_errors=True)
        if self.exits:
            sys.exit(1 if self.failures else 0)
        for sig, handler in self.saved_handlers.items():
            signal.signal(sig, handler)
        # an error is a failure of this chain, told in .failures; a signal's exit goes on
        return etype is not None and issubclass(etype, Exception)
