#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration: region B has two gateways; one is killed with -9 mid-stream (DESIGN §4.6).

Three processes: A (region A, the generator, gateway 1) and B1, B2 (region B, gateways 2
and 3, both verifying consumers). They meet on a Linux bridge in a network namespace of the
test's own, each over net_af_packet on a veth from a namespace of its own (memif is point to
point). B1 and B2 share one consumer state file: the region's durable applied watermarks, as
a replica region's store would be. A's 64 streams start on B1. The demo's WAN shim stays on
(30 ms one way, 0.5 % loss, reordering).

2 s after B1 has checked its first records it gets SIGKILL. A's control thread must see B1
go DEAD (accrual detector), move every stream to B2, and B2 must continue each one from the
region's applied watermark + 1. Passes when A's and B2's merged verdict passes (every record
published is applied, none lost, duplicated or out of order over both consumers, whose
anomaly counts live in the shared state), A logged the DEAD transition and the failover of
all 64 streams, and B2 checked records. Measures kill → DEAD and kill → B2 checking.
"""
import os
import re
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import pair  # noqa: E402

RATE = 20000
DURATION_S = 10
KILL_AT_S = 2.0
STREAMS = 64
FLOOR = 150000
AF = "qpairs=1,blocksz=4096,framesz=2048,framecnt=1024"
MACS = {"a": "02:00:00:00:00:01", "b": "02:00:00:00:00:02", "b2": "02:00:00:00:00:03"}
DEAD_RE = re.compile(r"^repgate: peer 2 \(region B\): (ALIVE|SUSPECT) -> DEAD")
MOVED_RE = re.compile(r"^repgate: failover 2 -> 3: (\d+) streams moved")


def sh(*cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


class Netns:
    """A namespace holding a bridge, and one namespace per gateway holding its veth; all removed
    on exit, whatever happens.

    Each gateway has a namespace of its own because DPDK 22.11's af_packet PMD joins a
    PACKET_FANOUT group with the id (getpid() ^ ifindex) & 0xffff, and fanout ids are per
    namespace: two gateways in one namespace whose pids and ifindexes happen to collide get
    EINVAL for the second, whose probe then fails. With fresh pids on a fresh machine that
    collision came up on every CI run."""

    def __init__(self, name):
        self.name = name
        self.sides = {side: f"{name}{side}" for side in MACS}

    def __enter__(self):
        sh("ip", "netns", "add", self.name)
        try:
            for ns in [self.name, *self.sides.values()]:
                if ns != self.name:
                    sh("ip", "netns", "add", ns)
                sh("ip", "netns", "exec", ns, "sysctl", "-qw",
                   "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
                sh("ip", "-n", ns, "link", "set", "lo", "up")
            br = ["ip", "-n", self.name]
            sh(*br, "link", "add", "br0", "type", "bridge")
            sh(*br, "link", "set", "br0", "up")
            for side, mac in MACS.items():
                gw = ["ip", "-n", self.sides[side]]
                sh(*br, "link", "add", f"v{side}", "type", "veth", "peer", "name", f"v{side}br")
                sh(*br, "link", "set", f"v{side}", "netns", self.sides[side])
                sh(*gw, "link", "set", f"v{side}", "address", mac, "mtu", "1500")
                sh(*br, "link", "set", f"v{side}br", "master", "br0")
                sh(*br, "link", "set", f"v{side}br", "up")
                sh(*gw, "link", "set", f"v{side}", "up")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        for ns in [*self.sides.values(), self.name]:
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)

    def wrap(self, side):
        """The command prefix that runs a process in SIDE's namespace."""
        return ["ip", "netns", "exec", self.sides[side]]


def first(side, rx, err=True):
    for t, text in side.snapshot(err=err):
        m = rx.match(text)
        if m:
            return t, m
    return None, None


def main():
    args = pair.parse_args(__doc__)
    if os.geteuid() != 0 or shutil.which("ip") is None:
        print("failover: skipped: needs root and iproute2 (a network namespace, a bridge, veths)")
        sys.exit(77)  # meson: skipped
    ns = f"rgfo{os.getpid()}"
    with Netns(ns) as net, pair.Pair("failover", args, budget_s=110) as p:
        common = ["port.mtu=1500", "port.mbufs=16383", "load.streams=%d" % STREAMS,
                  "proto.ping_interval_ms=50", "membership.acceptable_pause_ms=150"]
        p.a = pair.Side(p, "a", "A", device=f"net_af_packet0,iface=va,{AF}", wrap=net.wrap("a"))
        p.b = pair.Side(p, "b", "B1", device=f"net_af_packet0,iface=vb,{AF}", wrap=net.wrap("b"))
        b2 = pair.Side(p, "b2", "B2", role="consumer", device=f"net_af_packet0,iface=vb2,{AF}",
                       wrap=net.wrap("b2"))
        p.sides = [p.a, p.b, b2]
        p.peer_names.update(a=["b", "b2"], b2=["a"])  # A's peers.[1] is B2 (below)
        p.sets = common
        b2.sets = ["gateway.id=3", "port.ip=10.0.0.3", f"port.mac={MACS['b2']}"]
        p.b.start()
        p.b.wait_for(pair.is_up, 20, "'up' line")
        b2.start()
        b2.wait_for(pair.is_up, 20, "'up' line")
        p.a.start([f"load.rate_records_s={RATE}", f"load.duration_s={DURATION_S}",
                   "peers.[1].id=3", "peers.[1].region=B", "peers.[1].ip=10.0.0.3",
                   f"peers.[1].mac={MACS['b2']}", "peers.[1].lanes=1"])
        t_flow = p.flowing()
        p.sleep_until(t_flow + KILL_AT_S)
        t_kill = time.monotonic()
        b1_checked = max([f["checked"] for _, f in p.b.progress()] or [0])
        p.b.kill9()
        t_b2, _ = b2.wait_for(pair.checked_above(0), 30, "records checked on B2 after the kill")
        p.wait_a_done(DURATION_S + 60)
        # A's verdict with B2's: the shared state holds both consumers' applied watermarks
        # and anomaly counts, so B2's report speaks for the region.
        rc = b2.stop()
        p.measure["b2_exit_status"] = rc
        m = pair.verdict.merge(p.a.verdict(), b2.verdict(), FLOOR)
        p.say("verdict " + str(m))
        print(pair.verdict.summary(m), flush=True)
        p.check(m["verdict"] == "pass", "merged verdict: " + "; ".join(m["failures"]))
        p.check(m["records_checked"] > 0, "B2 checked nothing")
        p.check(b1_checked > 0, "B1 checked nothing before the kill")
        p.check(m["incarnations"] == 2, f"consumer incarnations {m['incarnations']}, "
                                        "expected 2 (B1 and B2 on one state file)")
        t_dead, _ = first(p.a, DEAD_RE)
        t_moved, mv = first(p.a, MOVED_RE)
        p.check(t_dead is not None, "A never logged gateway 2 going DEAD")
        p.check(mv is not None and int(mv.group(1)) == STREAMS,
                f"A moved {mv.group(1) if mv else 0} streams to gateway 3, expected {STREAMS}")
        early = [x for t, x in p.a.snapshot(err=True)
                 if t < t_kill and re.match(r"^repgate: peer \d+ .*-> DEAD", x)]
        p.check(not early, f"a peer went DEAD before the kill: {early}")
        p.measure.update(
            records=m["records_published"], floor=FLOOR, b1_checked_before_kill=b1_checked,
            b2_checked=m["records_checked"],
            kill_to_dead_s=round(t_dead - t_kill, 3) if t_dead else None,
            kill_to_failover_s=round(t_moved - t_kill, 3) if t_moved else None,
            kill_to_b2_checking_s=round(t_b2 - t_kill, 3),
            streams_moved=int(mv.group(1)) if mv else 0)
        p.say(f"failover: B1 killed → DEAD {p.measure['kill_to_dead_s']} s, streams moved "
              f"{p.measure['kill_to_failover_s']} s, B2 checking {t_b2 - t_kill:.3f} s")


if __name__ == "__main__":
    main()
