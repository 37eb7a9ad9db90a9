# SPDX-License-Identifier: Apache-2.0
"""repgate-pub and repgate-sub as real processes, against rg-softgw-pair (DESIGN §4.9).

    repgate-pub (id 10) ── A (soft gateway 1) ══ B (soft gateway 2) ── repgate-sub (id 20, 21)

Every case starts its own gateway pair on ports the pair picks (port 0, printed), so cases
never collide, and checks what the tools print and how they exit:

  lines          lines round trip (empty lines, a 100 KB line), byte for byte
  binary         binary round trip (empty records, a 1 MiB record), byte for byte; a record
                 that says it is larger than 1 MiB is refused with its offset
  sub_resume     repgate-sub killed with SIGKILL resumes from its state file: every line
                 exactly once across the two runs, up to what the state file stored
  pub_resume     repgate-pub killed with SIGKILL, run again on the same input: it skips what
                 was applied and the consumer sees every line once, in order
  backpressure   a SIGSTOPped repgate-sub: repgate-pub holds at most --window records and
                 stops reading its standard input; after SIGCONT everything arrives
  namespace      two producers' streams of one namespace to a --namespace consumer, each
                 in order, both in its state file; a resumed run prints nothing again
  exit_codes     unreachable gateway: 2 within the connect timeout; bad stream ids: 64; a
                 second consumer on a stream: 3 (busy); signals: 130 and 143; a torn or
                 foreign state file: 1, naming the file
  sealed         the pair with keys (--keys): a lines round trip with --key and
                 --gateway ID@ADDR:PORT,PUBKEY; a PUBKEY without --key, --key without a
                 PUBKEY, a malformed PUBKEY: 64; a key file others may read: 1, saying chmod

Waits are polls with a bound (a deadline each), never sleeps that hope; every process is
stopped by its pid on every way out (SIGCONT, SIGTERM, a bounded wait, SIGKILL), and gets
SIGKILL if this script dies (PR_SET_PDEATHSIG). Each check counts what it compared and
fails if that is nothing.
"""
import argparse
import ctypes
import os
import random
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

GW_A, GW_B, PROD, PROD2, CONS, CONS2 = 1, 2, 10, 11, 20, 21
MIB = 1 << 20
POLL_S = 0.01  # how often a bounded wait looks again


class TestError(Exception):
    pass


def _pdeathsig():
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def wait_until(cond, timeout_s, what):
    """Polls cond() until it is true or timeout_s passed (then fails, saying what)."""
    end = time.monotonic() + timeout_s
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() >= end:
            raise TestError(f"not within {timeout_s} s: {what}")
        time.sleep(POLL_S)


class Procs:
    """The processes of one case, in files under its dir; stop_all ends each by its pid."""

    def __init__(self, workdir):
        self.dir = workdir
        self.procs = []

    def start(self, name, argv, stdin=subprocess.DEVNULL):
        out = open(self.dir / f"{name}.out", "wb")
        err = open(self.dir / f"{name}.err", "wb")
        p = subprocess.Popen([str(a) for a in argv], stdin=stdin, stdout=out, stderr=err,
                             preexec_fn=_pdeathsig)
        out.close()
        err.close()
        p.name = name
        self.procs.append(p)
        return p

    def out(self, name):
        return (self.dir / f"{name}.out").read_bytes()

    def err(self, name):
        return (self.dir / f"{name}.err").read_text(errors="replace")

    def wait_exit(self, p, timeout_s):
        try:
            return p.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise TestError(f"{p.name} did not exit within {timeout_s} s; stderr:\n"
                            f"{self.err(p.name)[-2000:]}")

    def stop_all(self):
        for p in self.procs:
            if p.poll() is not None:
                continue
            for sig in (signal.SIGCONT, signal.SIGTERM):
                try:
                    os.kill(p.pid, sig)
                except ProcessLookupError:
                    pass
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGKILL)
                p.wait(timeout=5)


class Case:
    """One case: its dir, its processes, its gateway pair and the tools' command lines."""

    def __init__(self, args, name):
        self.args = args
        self.name = name
        self.dir = Path(args.workdir) / name
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        self.procs = Procs(self.dir)
        self.a_port = self.b_port = None
        self.keys = None  # sealed: {"dir": Path, GW_A: pubkey, GW_B: pubkey}

    def start_pair(self, sealed=False):
        argv = [self.args.pair, "--a-id", GW_A, "--b-id", GW_B, "--a-clients", f"{PROD},{PROD2}",
                "--b-clients", f"{CONS},{CONS2}", "--seconds", 120]
        if sealed:
            (self.dir / "keys").mkdir()
            argv += ["--keys", self.dir / "keys"]
        p = self.procs.start("pair", argv)
        line = wait_until(lambda: self._ports_line(p), 10, "rg-softgw-pair printed its ports")
        m = re.fullmatch(rb"a_port=(\d+) b_port=(\d+)(?: a_pubkey=(\S{44}) b_pubkey=(\S{44}))?\n",
                         line)
        if m is None or (m.group(3) is not None) != sealed:
            raise TestError(f"rg-softgw-pair printed {line!r}")
        self.a_port, self.b_port = int(m.group(1)), int(m.group(2))
        if sealed:
            self.keys = {"dir": self.dir / "keys", GW_A: m.group(3).decode(),
                         GW_B: m.group(4).decode()}

    def _gateway(self, gw, port):
        """The --gateway value, with the gateway's public key and our --key when sealed."""
        if self.keys is None:
            return [f"{gw}@127.0.0.1:{port}"]
        return [f"{gw}@127.0.0.1:{port},{self.keys[gw]}"]

    def _key(self, cid):
        return [] if self.keys is None else ["--key", self.keys["dir"] / f"{cid}.key"]

    def _ports_line(self, p):
        if p.poll() is not None:
            raise TestError(f"rg-softgw-pair exited {p.returncode}: {self.procs.err('pair')}")
        out = self.procs.out("pair")
        return out if out.endswith(b"\n") else None

    def pub(self, name, stream, *extra, stdin=subprocess.DEVNULL, gw_port=None, cid=PROD):
        argv = [self.args.pub, "--id", cid, "--gateway",
                *self._gateway(GW_A, gw_port or self.a_port), *self._key(cid),
                "--stream", stream, *extra]
        return self.procs.start(name, argv, stdin=stdin)

    def sub(self, name, stream, *extra, cid=CONS, gw_port=None, what="--stream"):
        argv = [self.args.sub, "--id", cid, "--gateway",
                *self._gateway(GW_B, gw_port or self.b_port), *self._key(cid),
                what, stream, *extra]
        return self.procs.start(name, argv)

    def expect_exit(self, p, code, timeout_s):
        rc = self.procs.wait_exit(p, timeout_s)
        if rc != code:
            raise TestError(f"{p.name} exited {rc}, want {code}; stderr:\n"
                            f"{self.procs.err(p.name)[-3000:]}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.procs.stop_all()
        return False


class Feeder:
    """Writes chunks to a process's stdin on a thread; release() lets the next part go."""

    def __init__(self, proc, parts, close_at_end=True):
        self.proc = proc
        self.parts = parts
        self.close_at_end = close_at_end
        self.written = 0
        self.gates = [threading.Event() for _ in parts]
        self.gates[0].set()
        self.error = None
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        try:
            for gate, part in zip(self.gates, self.parts):
                gate.wait()
                for i in range(0, len(part), 4096):  # small writes: `written` is exact
                    self.written += os.write(self.proc.stdin.fileno(), part[i:i + 4096])
            if self.close_at_end:
                self.proc.stdin.close()
        except (BrokenPipeError, OSError, ValueError) as e:
            self.error = e

    def release(self, k):
        self.gates[k].set()

    def finish(self, timeout_s):
        self.t.join(timeout_s)
        if self.t.is_alive():
            raise TestError("the feeder did not finish writing")


def lines_of(data):
    """The complete lines of data (a partial last line, cut by a kill, is left out)."""
    parts = data.split(b"\n")
    return parts[:-1]


def line(k):
    return b"line-%07d" % k


def state_watermark(path, stream):
    text = path.read_text()
    m = re.search(r"^stream 0x%016x (\d+)$" % stream, text, re.M)
    if m is None:
        raise TestError(f"the state file has no stream {stream:#x}:\n{text}")
    return int(m.group(1))


def progress(text, key):
    return [int(m.group(1)) for m in re.finditer(rf"\b{key}=(\d+)", text)]


# ---- cases ----

def case_lines(args):
    rnd = random.Random(1)
    recs = [b"", b"hello", b"", b"with spaces and \t tabs", "üñí".encode(), b"x" * 100000, b""]
    recs += [bytes(rnd.randrange(32, 127) for _ in range(rnd.randrange(0, 300)))
             for _ in range(3000)]
    data = b"".join(r + b"\n" for r in recs)
    with Case(args, "lines") as c:
        c.start_pair()
        (c.dir / "in").write_bytes(data)
        sub = c.sub("sub", "5:1", "--count", len(recs), "--progress-ms", 0)
        with open(c.dir / "in", "rb") as f:
            pub = c.pub("pub", "5:1", stdin=f)
        c.expect_exit(pub, 0, 30)
        c.expect_exit(sub, 0, 30)
        got = c.procs.out("sub")
        if got != data:
            raise TestError(f"lines: the output differs ({len(got)} bytes, want {len(data)})")
        return f"{len(recs)} lines ({len(data)} bytes, {recs.count(b'')} empty) round trip"


def binary_stream(recs):
    return b"".join(struct.pack("<I", len(r)) + r for r in recs)


def case_binary(args):
    rnd = random.Random(2)
    recs = [b"", bytes(rnd.getrandbits(8) for _ in range(MIB)), b"", b"\0\n\r"]
    recs += [rnd.randbytes(rnd.choice([0, 1, 7, 600, 1500, 4000, 70000])) for _ in range(400)]
    recs += [b""]
    data = binary_stream(recs)
    bad_at = len(data)
    bad = data + struct.pack("<I", MIB + 1) + b"x" * 16
    with Case(args, "binary") as c:
        c.start_pair()
        (c.dir / "in").write_bytes(data)
        (c.dir / "bad").write_bytes(bad)
        sub = c.sub("sub", "0x500000002", "--format", "binary", "--count", len(recs),
                    "--progress-ms", 0)
        with open(c.dir / "in", "rb") as f:
            pub = c.pub("pub", "0x500000002", "--format", "binary", stdin=f)
        c.expect_exit(pub, 0, 60)
        c.expect_exit(sub, 0, 60)
        got = c.procs.out("sub")
        if got != data:
            raise TestError(f"binary: the output differs ({len(got)} bytes, want {len(data)})")
        # the same records again, then one that says 1 MiB + 1: exit 1, naming its offset
        with open(c.dir / "bad", "rb") as f:
            pub2 = c.pub("pub2", "0x500000002", "--format", "binary", stdin=f)
        c.expect_exit(pub2, 1, 30)
        if f"byte offset {bad_at}" not in c.procs.err("pub2"):
            raise TestError(f"binary: the error does not name offset {bad_at}: "
                            f"{c.procs.err('pub2')}")
        return (f"{len(recs)} records ({len(data)} bytes, {recs.count(b'')} empty, one of "
                f"1 MiB) round trip; a 1 MiB + 1 record refused at offset {bad_at}")


def case_sub_resume(args):
    n1, n2 = 30000, 20000
    total = n1 + n2
    stream = (7 << 32) | 1
    with Case(args, "sub_resume") as c:
        c.start_pair()
        state = c.dir / "state"
        pub = c.pub("pub", "7:1", "--progress-ms", 0, stdin=subprocess.PIPE)
        feed = Feeder(pub, [b"".join(line(k) + b"\n" for k in range(1, n1 + 1)),
                            b"".join(line(k) + b"\n" for k in range(n1 + 1, total + 1))])
        sub1 = c.sub("sub1", "7:1", "--state", state, "--progress-ms", 0)
        wait_until(lambda: c.procs.out("sub1").count(b"\n") >= 5000, 30,
                   "the first repgate-sub printed 5000 lines")
        os.kill(sub1.pid, signal.SIGKILL)
        c.procs.wait_exit(sub1, 10)
        stored = state_watermark(state, stream)
        first = lines_of(c.procs.out("sub1"))
        feed.release(1)  # the rest of the input only now: the second run has work to do
        sub2 = c.sub("sub2", "7:1", "--state", state, "--count", total - stored,
                     "--progress-ms", 0)
        c.expect_exit(sub2, 0, 60)
        c.expect_exit(pub, 0, 30)
        feed.finish(10)
        second = lines_of(c.procs.out("sub2"))
        if not 0 < stored <= len(first):
            raise TestError(f"sub_resume: stored {stored}, the first run printed {len(first)}")
        if first != [line(k) for k in range(1, len(first) + 1)]:
            raise TestError("sub_resume: the first run's lines are not 1..k in order")
        if second != [line(k) for k in range(stored + 1, total + 1)]:
            raise TestError(f"sub_resume: the second run did not print exactly "
                            f"{stored + 1}..{total} (it printed {len(second)} lines)")
        seen = {}
        for ln in first[:stored] + second:
            seen[ln] = seen.get(ln, 0) + 1
        if len(seen) != total or any(v != 1 for v in seen.values()):
            raise TestError("sub_resume: not every line exactly once")
        return (f"killed after {len(first)} lines, state at {stored}; resumed and printed "
                f"{len(second)}: {total} lines exactly once ({len(first) - stored} printed "
                f"again: the at-least-once edge after the last store)")


def case_pub_resume(args):
    total, first_part = 30000, 12000
    data = b"".join(line(k) + b"\n" for k in range(1, total + 1))
    with Case(args, "pub_resume") as c:
        c.start_pair()
        (c.dir / "in").write_bytes(data)
        sub = c.sub("sub", "7:2", "--count", total, "--state", c.dir / "state",
                    "--progress-ms", 0)
        pub1 = c.pub("pub1", "7:2", "--progress-ms", 0, stdin=subprocess.PIPE)
        feed = Feeder(pub1, [data[:first_part * len(line(1) + b"\n")]], close_at_end=False)
        wait_until(lambda: c.procs.out("sub").count(b"\n") >= 5000, 30,
                   "repgate-sub printed 5000 lines of the first repgate-pub")
        os.kill(pub1.pid, signal.SIGKILL)
        c.procs.wait_exit(pub1, 10)
        feed.finish(10)
        pub1.stdin.close()
        before = c.procs.out("sub").count(b"\n")
        with open(c.dir / "in", "rb") as f:
            pub2 = c.pub("pub2", "7:2", "--progress-ms", 10000, stdin=f)
        c.expect_exit(pub2, 0, 60)
        c.expect_exit(sub, 0, 60)
        got = lines_of(c.procs.out("sub"))
        if got != [line(k) for k in range(1, total + 1)]:
            raise TestError(f"pub_resume: the consumer did not get 1..{total} once each, in "
                            f"order ({len(got)} lines)")
        m = re.search(r"done: (\d+) records, all applied \(skipped=(\d+) already applied "
                      r"before this run; published=(\d+)\)", c.procs.err("pub2"))
        if m is None:
            raise TestError(f"pub_resume: no summary from the second run: {c.procs.err('pub2')}")
        read, skipped, published = (int(x) for x in m.groups())
        # skipped: records below where a replay started (the first, or a later one naming a
        # newer applied watermark); a replay that goes back publishes some again, so more.
        if read != total or not 0 < skipped <= first_part or published < total - skipped:
            raise TestError(f"pub_resume: read {read}, skipped {skipped}, published "
                            f"{published}: want {total}, 1..{first_part}, "
                            f"at least {total} - skipped")
        return (f"the first run killed after the consumer had {before} lines; the second "
                f"skipped {skipped} applied and published {published}: {total} lines once")


def case_backpressure(args):
    total, window = 60000, 500
    data = b"".join(line(k) + b"\n" for k in range(1, total + 1))
    with Case(args, "backpressure") as c:
        c.start_pair()
        sub = c.sub("sub", "8:1", "--count", total, "--progress-ms", 0)
        pub = c.pub("pub", "8:1", "--window", window, "--progress-ms", 20,
                    stdin=subprocess.PIPE)
        feed = Feeder(pub, [data])
        wait_until(lambda: c.procs.out("sub").count(b"\n") >= 2000, 30,
                   "repgate-sub printed 2000 lines")
        os.kill(sub.pid, signal.SIGSTOP)

        def stuck():
            """The last 10 progress lines: the window full, nothing read, nothing applied."""
            err = c.procs.err("pub")
            held, read, applied = (progress(err, k)[-10:] for k in ("held", "read", "applied"))
            return (len(held) == 10 and set(held) == {window} and len(set(read)) == 1 and
                    len(set(applied)) == 1 and read[-1])
        read_at = wait_until(stuck, 30, f"repgate-pub held its window of {window}, stuck")
        written_at = feed.written
        os.kill(sub.pid, signal.SIGCONT)
        c.expect_exit(sub, 0, 90)
        c.expect_exit(pub, 0, 30)
        feed.finish(10)
        err = c.procs.err("pub")
        held = progress(err, "held")
        if not held or max(held) > window:
            raise TestError(f"backpressure: held went to {max(held, default=None)}, window "
                            f"{window}")
        # what the pipe and the reader's buffer hold past the records read: bounded
        ahead = written_at - read_at * len(line(1) + b"\n")
        if not 0 <= ahead <= (64 + 64 + 128) << 10:
            raise TestError(f"backpressure: the feeder got {ahead} bytes past what was read")
        got = lines_of(c.procs.out("sub"))
        if got != [line(k) for k in range(1, total + 1)]:
            raise TestError(f"backpressure: the consumer did not get 1..{total} in order")
        return (f"while stopped: held <= {window} over {len(held)} progress lines, stuck at "
                f"record {read_at} with the feeder {ahead} bytes ahead; then all {total} came")


def case_namespace(args):
    """Two streams of namespace 6 from two producers to one --namespace consumer, resumed."""
    n = {1: 4000, 2: 3000}
    with Case(args, "namespace") as c:
        c.start_pair()
        state = c.dir / "state"
        sub = c.sub("sub", 6, "--state", state, "--count", sum(n.values()), "--progress-ms", 0,
                    what="--namespace")
        pubs = []
        for k, cid in ((1, PROD), (2, PROD2)):
            data = b"".join(b"s%d-%07d\n" % (k, i) for i in range(1, n[k] + 1))
            (c.dir / f"in{k}").write_bytes(data)
            with open(c.dir / f"in{k}", "rb") as f:
                pubs.append(c.pub(f"pub{k}", f"6:{k}", "--progress-ms", 0, stdin=f, cid=cid))
        for p in pubs:
            c.expect_exit(p, 0, 30)
        c.expect_exit(sub, 0, 30)
        got = lines_of(c.procs.out("sub"))
        for k in n:
            mine = [ln for ln in got if ln.startswith(b"s%d-" % k)]
            if mine != [b"s%d-%07d" % (k, i) for i in range(1, n[k] + 1)]:
                raise TestError(f"namespace: stream 6:{k} not 1..{n[k]} in order")
            if state_watermark(state, (6 << 32) | k) != n[k]:
                raise TestError(f"namespace: the state of 6:{k} is not {n[k]}")
        if len(got) != sum(n.values()):
            raise TestError(f"namespace: {len(got)} lines, want {sum(n.values())}")
        again = c.sub("sub2", 6, "--state", state, "--idle-exit", "1", "--progress-ms", 0,
                      what="--namespace")
        c.expect_exit(again, 0, 15)
        if c.procs.out("sub2") != b"":
            raise TestError("namespace: a resumed run printed what was stored already")
        return (f"streams 6:1 ({n[1]}) and 6:2 ({n[2]}) through one --namespace consumer, in "
                f"order each; the state holds both; a resumed run printed nothing")


def case_exit_codes(args):
    checked = []
    with Case(args, "exit_codes") as c:
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # bound, never answers
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        try:
            for tool in ("pub", "sub"):
                t0 = time.monotonic()
                p = getattr(c, tool)(f"unreach_{tool}", "5:1", "--connect-timeout", "1",
                                     gw_port=port)
                c.expect_exit(p, 2, 10)
                dt = time.monotonic() - t0
                err = c.procs.err(f"unreach_{tool}")
                named = f"{GW_A if tool == 'pub' else GW_B}@127.0.0.1:{port}"
                if not 1.0 <= dt <= 4.0 or named not in err:
                    raise TestError(f"unreachable {tool}: exit 2 after {dt:.2f} s (want 1 to "
                                    f"4 s), naming {named}? {err}")
                checked.append(f"unreachable {tool}: 2 after {dt:.2f} s")
        finally:
            silent.close()
        for bad in ("0", "abc", "0x", "1:2:3", "0:0", "4294967296:1", "-5", "5:"):
            p = c.pub("badstream", bad, gw_port=9)
            c.expect_exit(p, 64, 10)
            if "--stream" not in c.procs.err("badstream"):
                raise TestError(f"bad stream {bad}: {c.procs.err('badstream')}")
            checked.append(f"--stream {bad}: 64")
        checked += exit_codes_live(c)
        checked += exit_codes_state(c)
    return "; ".join(checked)


def exit_codes_live(c):
    checked = []
    c.start_pair()
    sub1 = c.sub("sub_busy1", "9:1", "--progress-ms", 100)
    wait_until(lambda: "subscribed" in c.procs.err("sub_busy1"), 10, "the first consumer subscribed")
    sub2 = c.sub("sub_busy2", "9:1", cid=CONS2)
    c.expect_exit(sub2, 3, 15)
    if "busy" not in c.procs.err("sub_busy2"):
        raise TestError(f"refused: {c.procs.err('sub_busy2')}")
    checked.append("a second consumer on 9:1: 3 (busy)")
    os.kill(sub1.pid, signal.SIGINT)
    c.expect_exit(sub1, 130, 10)
    checked.append("repgate-sub SIGINT: 130")
    pub = c.pub("pub_term", "9:2", stdin=subprocess.PIPE)  # no consumer: it waits to open
    wait_until(lambda: "connected" in c.procs.err("pub_term"), 10, "repgate-pub connected")
    os.kill(pub.pid, signal.SIGTERM)
    c.expect_exit(pub, 143, 10)
    if "SIGTERM: stopped after reading 0 records" not in c.procs.err("pub_term"):
        raise TestError(f"pub SIGTERM: {c.procs.err('pub_term')}")
    pub.stdin.close()
    checked.append("repgate-pub SIGTERM: 143, saying how far it got")
    return checked


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return h


def state_text(stream, applied):
    body = f"repgate-sub state v1\nstream 0x{stream:016x} {applied}\n"
    return body + f"end 1 {fnv1a64(body.encode()):016x}\n"


def exit_codes_state(c):
    """Torn, garbage, edited and foreign state files: exit 1, naming the file and the fault."""
    checked = []
    good = state_text((9 << 32) | 3, 5)
    bad = {
        "empty": ("", "empty"),
        "garbage": ("\x7fELF\x02\x01\x01 not a state file\n", "not a repgate-sub state"),
        "cut": (good[:-10], "torn"),
        "nonewline": (good[:-1], "torn"),
        "edited": (good.replace(" 5\n", " 6\n"), "checksum"),
        "foreign": (state_text((9 << 32) | 4, 5), "does not subscribe to"),
    }
    for name, (text, why) in bad.items():
        path = c.dir / f"state_{name}"
        path.write_text(text)
        p = c.sub(f"state_{name}", "9:3", "--state", path, gw_port=9)
        c.expect_exit(p, 1, 10)
        err = c.procs.err(f"state_{name}")
        if str(path) not in err or why not in err:
            raise TestError(f"state file {name}: want {why!r} and the path in: {err}")
        checked.append(f"state file {name}: 1")
    return checked


def case_sealed(args):
    data = b"".join(line(k) + b"\n" for k in range(1, 2001))
    checked = []
    with Case(args, "sealed") as c:
        c.start_pair(sealed=True)
        (c.dir / "in").write_bytes(data)
        sub = c.sub("sub", "5:1", "--count", 2000, "--progress-ms", 0)
        with open(c.dir / "in", "rb") as f:
            pub = c.pub("pub", "5:1", stdin=f)
        c.expect_exit(pub, 0, 30)
        c.expect_exit(sub, 0, 30)
        if c.procs.out("sub") != data:
            raise TestError(f"sealed: the output differs ({len(c.procs.out('sub'))} bytes)")
        checked.append("2000 lines round trip sealed")
        key_a, key_file = c.keys[GW_A], c.keys["dir"] / f"{PROD}.key"
        gw = f"{GW_A}@127.0.0.1:{c.a_port}"
        usage = {
            "pubkey without --key": [f"{gw},{key_a}"],
            "--key without a pubkey": [gw, "--key", key_file],
            "a malformed pubkey": [f"{gw},{key_a[:-2]}", "--key", key_file],
        }
        for what, extra in usage.items():
            name = "usage_" + re.sub(r"\W+", "_", what)
            p = c.procs.start(name, [args.pub, "--id", PROD, "--stream", "5:2", "--gateway",
                                     *extra])
            c.expect_exit(p, 64, 10)
            if "--gateway" not in c.procs.err(name):
                raise TestError(f"{what}: {c.procs.err(name)}")
            checked.append(f"{what}: 64")
        open_key = c.dir / "open.key"
        shutil.copy(key_file, open_key)
        open_key.chmod(0o644)
        p = c.procs.start("open_key", [args.pub, "--id", PROD, "--stream", "5:2", "--gateway",
                                       f"{gw},{key_a}", "--key", open_key])
        c.expect_exit(p, 1, 10)
        if "chmod 600" not in c.procs.err("open_key"):
            raise TestError(f"a 0644 key file: {c.procs.err('open_key')}")
        checked.append("a 0644 key file: 1")
    return "; ".join(checked)


CASES = {
    "lines": case_lines,
    "binary": case_binary,
    "sub_resume": case_sub_resume,
    "pub_resume": case_pub_resume,
    "backpressure": case_backpressure,
    "namespace": case_namespace,
    "exit_codes": case_exit_codes,
    "sealed": case_sealed,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pub", required=True)
    ap.add_argument("--sub", required=True)
    ap.add_argument("--pair", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--timeout", type=float, default=100, help="the whole run's bound, s")
    ap.add_argument("cases", nargs="*", help="cases to run (default: all)")
    args = ap.parse_args()

    def on_alarm(signum, frame):
        raise TestError(f"the run went past its {args.timeout:.0f} s bound")
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, args.timeout)
    failed = 0
    for name in args.cases or CASES:
        t0 = time.monotonic()
        try:
            what = CASES[name](args)
            print(f"ok   {name} ({time.monotonic() - t0:.1f} s): {what}", flush=True)
        except TestError as e:
            failed += 1
            print(f"FAIL {name} ({time.monotonic() - t0:.1f} s): {e}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
