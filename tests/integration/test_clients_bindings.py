#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration: the Go and Python bindings' own tests, through a real gateway pair.

Two real repgate gateways (profiles/demo-a.conf, demo-b.conf: the WAN over net_memif through
the emulator), whose LAN taps both sit in one network namespace of the test's own, so one
process can be a producer at A (10.1.0.2) and a consumer at B (10.2.0.2). Each profile lists
the extra client ids the bindings' tests use (A: 10..13, B: 20..23), and the core's default
queues (the bindings' backpressure checks bound what each hop holds). Sealed like every
integration test: each of the eight client ids has its key (keys.py), each gateway lists their
public keys, and the suites get the keys as RG_TEST_KEYS=DIR (DIR/ID.key, mode 0600) and each
gateway as ID@ADDR:7000,PUBKEY. Then, in that namespace:
  - the Go binding's `go test` (client/go: round trip, sealed, backpressure, a namespace,
    errors), told the gateways by RG_TEST_GW_A / RG_TEST_GW_B, against the release
    librepgate.a;
  - the Python binding's test_repgate.py (ctypes over librepgate.so) the same way.
Passes when both pass (each counts what it checked and fails if it checked nothing) and, sealed,
the gateways' final counters say every client sealed with a key they know (no BAD_TAG, NO_KEY)
and A dropped the suites' deliberately plaintext clients (MODE_MISMATCH). A missing `go` skips
its half with a message (scripts/deps.sh installs golang-go).
"""
import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True
import relay  # noqa: E402

ROOT = relay.ROOT
BUILD = ROOT / "build" / "release"


def client_sets(first, ip):
    """Clients first+1 .. first+3 (first is in the profile already) at ip, learned ports."""
    sets = []
    for k, cid in enumerate(range(first + 1, first + 4)):
        i = 2 + k
        sets += [f"peers.[{i}].id={cid}", f"peers.[{i}].kind=client", f"peers.[{i}].ip={ip}",
                 f"peers.[{i}].udp_port=0"]
    return sets


def suite_keys(r, ids):
    """A directory of each client's private key as ID.key (mode 0600), for RG_TEST_KEYS."""
    d = r.workdir / "suite-keys"
    d.mkdir(mode=0o700, exist_ok=True)
    for cid in ids:
        path = d / f"{cid}.key"
        path.unlink(missing_ok=True)
        shutil.copyfile(r.keys.path(f"client{cid}"), path)
        path.chmod(0o600)
    return d


def run(r, what, args, env, timeout):
    """A test suite in the clients' namespace; its output echoed; True when it passed."""
    cmd = ["ip", "netns", "exec", r.a.netns, "env", *[f"{k}={v}" for k, v in env.items()], *args]
    r.say(f"{what}: {' '.join(map(str, cmd))}")
    p = subprocess.run(list(map(str, cmd)), stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=timeout)
    for line in (p.stdout + p.stderr).splitlines()[-40:]:
        r.say(f"{what} | {line}")
    r.measure[f"{what}_exit"] = p.returncode
    return p.returncode


def main():
    args = relay.parse_args(__doc__)
    # the bindings' backpressure bounds assume the core's default queues at every hop: a send
    # queue of 1024 records and a window of 256 (what their software gateways run)
    sets = ["proto.tx_stream_records_max=1024", "proto.rx_window_records=256"]
    with relay.Relay("clients_bindings", args, budget_s=280, shared_ns=True, sets=sets) as r:
        r.a.sets = client_sets(10, "10.1.0.1")
        r.b.sets = client_sets(20, "10.2.0.1")
        # peers.[2..4]: the extra clients' public keys (peers.[1], 10 and 20, is the profile's)
        r.a.extra_peers = [f"client{cid}" for cid in (11, 12, 13)]
        r.b.extra_peers = [f"client{cid}" for cid in (21, 22, 23)]
        r.start_gateways()
        env = {"RG_TEST_GW_A": f"1@{r.a.ip}:7000", "RG_TEST_GW_B": f"2@{r.b.ip}:7000",
               "RG_TEST_CLIENTS_A": "10,11,12,13", "RG_TEST_CLIENTS_B": "20,21,22,23",
               "PYTHONDONTWRITEBYTECODE": "1"}
        if not r.plaintext:
            env["RG_TEST_GW_A"] += f",{r.keys.pub('a')}"
            env["RG_TEST_GW_B"] += f",{r.keys.pub('b')}"
            env["RG_TEST_KEYS"] = suite_keys(r, [*range(10, 14), *range(20, 24)])
        py = run(r, "python", [sys.executable, ROOT / "client/python/test_repgate.py"],
                 dict(env, RG_LIBREPGATE=BUILD / "client" / "librepgate.so.0"), 120)
        r.check(py == 0, f"the Python binding's tests against real gateways: exit {py}")
        if shutil.which("go") is None:
            r.say("go: skipped: no go on PATH (scripts/deps.sh installs golang-go)")
        else:
            run_go(r, env)
        if not r.plaintext:
            check_drops(r)


def static_libs():
    """What librepgate.a needs linked after it, from the build's own librepgate.pc
    (Libs.private: -lIPSec_MB where meson found it, -lm), and libcrypto."""
    pc = BUILD / "meson-private" / "librepgate.pc"
    for line in pc.read_text().splitlines():
        if line.startswith("Libs.private:"):
            return "-lcrypto " + line.split(":", 1)[1].strip()
    raise relay.TestError(f"{pc}: no Libs.private line")


def run_go(r, env):
    """The Go binding's go test in the clients' namespace, against the release librepgate.a."""
    gowork = r.workdir / "go"
    gowork.mkdir(exist_ok=True)
    genv = dict(env, GOPATH=BUILD / "gopath", GOCACHE=BUILD / "gocache", GOTMPDIR=gowork,
                GOTOOLCHAIN="local", GOPROXY="off", GOSUMDB="off", GOFLAGS="-mod=readonly",
                GO111MODULE="on", CGO_ENABLED="1", HOME=gowork,
                CGO_CFLAGS=f"-I{ROOT / 'client'}",
                CGO_LDFLAGS=f"{BUILD / 'client' / 'librepgate.a'} {static_libs()}",
                PATH=os.environ.get("PATH", "/usr/bin:/bin"))
    go = run(r, "go", ["sh", "-c", f"cd {ROOT / 'client/go'} && go test "
                       "-tags=repgate_flags -count=1 -timeout 150s -v ."], genv, 200)
    r.check(go == 0, f"the Go binding's tests against real gateways: exit {go}")


def check_drops(r):
    """The gateways' final counters after a sealed run: each client of the suites sealed with a
    key its gateway lists; each suite's plaintext client of A was dropped there."""
    for g in (r.a, r.b):
        g.stop()
        c = g.counters()
        for reason in ("BAD_TAG", "NO_KEY", "UNKNOWN_PEER"):
            n = c.get(f"drop_{reason}", 0)
            r.check(n == 0, f"{g.label}: drop_{reason}={n} (a client's key its gateway lacks?)")
        r.measure[f"{g.side}_drop_mode_mismatch"] = c.get("drop_MODE_MISMATCH", 0)
    n = r.measure["a_drop_mode_mismatch"]
    r.check(n > 0, f"A: drop_MODE_MISMATCH={n}: the suites' plaintext clients were not dropped")


if __name__ == "__main__":
    main()
