# SPDX-License-Identifier: Apache-2.0
"""Tests of the Python binding: producer -> A -> B -> consumer through a gateway pair.

The pair: RG_TEST_GW_A=id@addr:port and RG_TEST_GW_B=id@addr:port when set (real daemons,
with RG_TEST_CLIENTS_A / RG_TEST_CLIENTS_B the client ids their profiles list: 10,11,12,13 and
20,21,22,23 when unset), else rg-softgw-pair (RG_SOFTGW_PAIR, or this tree's build/debug one)
started here on ports it picks and stopped at the end. Sealed gateways are named
id@addr:port,PUBKEY (both, or neither), with RG_TEST_KEYS=DIR holding each of those clients'
private keys as DIR/ID.key: every client of the pair then seals. Every wait is bounded; every
test counts its checks and fails when it checked nothing. Standard library only:

    RG_LIBREPGATE=build/release/client/librepgate.so python3 client/python/test_repgate.py
"""

import errno
import ctypes
import itertools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import repgate  # noqa: E402

VERSION = 9
# (gateway A, gateway B, ids of A's clients, ids of B's clients, the clients' keys: a directory
# of ID.key, None when the pair is plaintext)
PAIR = None
PAIR_PROC = None
PAIR_ERROR = None
CHECKS = 0
_next_ids = [itertools.count(), itertools.count()]
_run = int(time.time() * 1000) & 0xFFFF
_runs = itertools.count(1)


def rec_len(seq):
    if seq % 97 == 0:
        return 0
    if seq % 50 == 0:
        return 4000 + seq % 3000
    return seq * 7 % 600


def rec_data(stream, seq):
    base = (stream * 31 + seq * 131) & 0xFF
    return bytes((base + i * 7) & 0xFF for i in range(rec_len(seq)))


def stream_ids(ns, n):
    """n stream ids of namespace ns that no earlier run used (shard = run << 8 | k)."""
    run = ((_run << 8) + next(_runs)) & 0xFFFFFF
    return [ns << 32 | run << 8 | k for k in range(1, n + 1)]


def parse_gateway(s):
    """id@addr:port, or id@addr:port,PUBKEY (a base64 key has no ',')."""
    where, _, pub = s.partition(",")
    gid, rest = where.split("@")
    addr, port = rest.rsplit(":", 1)
    if pub and len(pub) != repgate.PUBKEY_CHARS:
        raise ValueError(f"{s!r}: a pubkey of {len(pub)} characters")
    return repgate.Gateway(int(gid), addr, int(port), pub)


def external_pair(ids_a, ids_b):
    """Gateways already running (RG_TEST_GW_A/B): sealed when both have a PUBKEY, and then
    RG_TEST_KEYS must hold a key file for every client id of the pair."""
    a = parse_gateway(os.environ["RG_TEST_GW_A"])
    b = parse_gateway(os.environ["RG_TEST_GW_B"])
    keys = os.environ.get("RG_TEST_KEYS") or None
    if bool(a[3]) != bool(b[3]) or bool(a[3]) != (keys is not None):
        raise RuntimeError("RG_TEST_GW_A/B and RG_TEST_KEYS: sealed is both gateways' PUBKEY "
                           "and RG_TEST_KEYS, plaintext none of them")
    for cid in (ids_a + ids_b) if keys else []:
        if not os.path.exists(os.path.join(keys, f"{cid}.key")):
            raise RuntimeError(f"RG_TEST_KEYS: no {cid}.key in {keys}")
    return a, b, ids_a, ids_b, keys


def key_file(pair, cid):
    """Client cid's private key file in pair, "" when the pair is plaintext."""
    return os.path.join(pair[4], f"{cid}.key") if pair[4] else ""


def start_pair(keys=None):
    """The pair (see the module's doc); sealed with keys (a directory: rg-softgw-pair --keys
    writes each client's private key to keys/ID.key and prints the gateways' public keys)."""
    ids_a = [int(x) for x in os.environ.get("RG_TEST_CLIENTS_A", "10,11,12,13").split(",")]
    ids_b = [int(x) for x in os.environ.get("RG_TEST_CLIENTS_B", "20,21,22,23").split(",")]
    if keys is not None and (os.environ.get("RG_TEST_GW_A") or os.environ.get("RG_TEST_GW_B")):
        raise unittest.SkipTest("RG_TEST_GW_A/B name gateways of their own keys: no sealed pair")
    if os.environ.get("RG_TEST_GW_A") or os.environ.get("RG_TEST_GW_B"):
        return external_pair(ids_a, ids_b), None
    if os.environ.get("RG_TEST_KEYS"):
        raise RuntimeError("RG_TEST_KEYS goes with RG_TEST_GW_A/B (their clients' keys)")
    here = os.path.dirname(os.path.abspath(__file__))
    exe = os.environ.get("RG_SOFTGW_PAIR") or os.path.join(
        here, "..", "..", "build", "debug", "tests", "lib", "rg-softgw-pair")
    if not os.path.exists(exe):
        raise unittest.SkipTest(f"no gateway pair: set RG_TEST_GW_A/B or RG_SOFTGW_PAIR ({exe})")
    proc = subprocess.Popen(
        [exe, "--a-id", "1", "--b-id", "2", "--a-clients", ",".join(map(str, ids_a)),
         "--b-clients", ",".join(map(str, ids_b)), "--seconds", "150"] +
        (["--keys", keys] if keys is not None else []),
        stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()  # bounded: the pair prints it at once, or dies
        ports = dict(kv.split("=", 1) for kv in line.split())  # a base64 key ends in '='
        a = repgate.Gateway(1, "127.0.0.1", int(ports["a_port"]), ports.get("a_pubkey", ""))
        b = repgate.Gateway(2, "127.0.0.1", int(ports["b_port"]), ports.get("b_pubkey", ""))
        if keys is not None and not (a[3] and b[3]):
            raise KeyError("a_pubkey")
    except (ValueError, KeyError):
        stop_pair(proc)
        raise RuntimeError(f"rg-softgw-pair said {line!r}")
    return (a, b, ids_a, ids_b, keys), proc


def stop_pair(proc):
    if proc is None:
        return
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def setUpModule():
    global PAIR, PAIR_PROC
    PAIR, PAIR_PROC = start_pair()


def tearDownModule():
    stop_pair(PAIR_PROC)


def client_id(side):
    ids = PAIR[2 + side]
    return ids[next(_next_ids[side]) % len(ids)]


def pump(clients, cond, timeout, step=None):
    """Polls clients (select over their sockets) until cond() holds; False after timeout s."""
    end = time.monotonic() + timeout
    while not cond():  # bounded by timeout
        if time.monotonic() >= end:
            return False
        if step is not None:
            step()
        repgate.run_all(clients, 0.002)
    return True


class Consumer:
    """Checks every record (order, version, bytes) and applies it at once, from inside. With
    no cid, the next client of the pair's B, with its key file when the pair is sealed."""

    def __init__(self, test, gw, cid=None, **kw):
        self.test = test
        self.next, self.got, self.events = {}, {}, []
        self.block = False
        self.refused = 0
        if cid is None:
            cid = client_id(1)
            kw.setdefault("key_file", key_file(PAIR, cid))
        self.c = repgate.Client(cid, [gw], on_deliver=self.deliver,
                                on_event=self.events.append, **kw)
        test.addCleanup(self.c.close)

    def deliver(self, stream, seq, version, data):
        if self.block:
            self.refused += 1
            return False
        want = self.next.get(stream, 1)
        self.test.check(seq == want, f"stream {stream:#x}: seq {seq}, want {want}")
        self.test.check(version == VERSION, f"seq {seq}: version {version}")
        self.test.check(data == rec_data(stream, seq), f"seq {seq}: not the bytes published")
        self.next[stream] = seq + 1
        self.got[stream] = self.got.get(stream, 0) + 1
        self.c.applied(stream, seq)


class Producer:
    """Follows replays; with no cid, the next client of the pair's A (sealed as Consumer)."""

    def __init__(self, test, gw, cid=None, **kw):
        self.test = test
        self.from_, self.applied, self.events = {}, {}, []
        self.cursor = {}
        self.backpressured = 0
        if cid is None:
            cid = client_id(0)
            kw.setdefault("key_file", key_file(PAIR, cid))
        self.c = repgate.Client(cid, [gw], on_replay=self.replay,
                                on_applied=self.on_applied, on_event=self.events.append, **kw)
        test.addCleanup(self.c.close)

    def replay(self, stream, from_seq):
        self.from_[stream] = from_seq
        self.cursor[stream] = from_seq  # publish from there (the C contract: before any publish)

    def on_applied(self, stream, applied):
        self.test.check(applied >= self.applied.get(stream, 0), "applied went back")
        self.applied[stream] = applied

    def publish_some(self, stream, upto):
        """Publishes what it may (until Backpressure or Resyncing), at most up to upto."""
        while stream in self.cursor and self.cursor[stream] <= upto:  # bounded by upto
            seq = self.cursor[stream]
            try:
                self.c.publish(stream, seq, VERSION, rec_data(stream, seq))
            except repgate.Backpressure:
                self.backpressured += 1
                return
            except repgate.Resyncing:
                return
            self.cursor[stream] = seq + 1


class BindingTest(unittest.TestCase):
    def setUp(self):
        self.checks = 0
        self.skipping = False

    def tearDown(self):
        if sys.exc_info() == (None, None, None) and self.checks == 0 and not self.skipping:
            raise AssertionError("nothing was checked")

    def skip(self, why):
        """Skips this test: tearDown then asks for no checks."""
        self.skipping = True
        raise unittest.SkipTest(why)

    def check(self, cond, msg):
        global CHECKS
        self.checks += 1
        CHECKS += 1
        if not cond:
            raise AssertionError(msg)

    def test_round_trip_through_gateway_pair(self):
        n = 2000
        a, b = PAIR[0], PAIR[1]
        (stream,) = stream_ids(5, 1)
        co = Consumer(self, b)
        co.c.subscribe(stream, 0)
        p = Producer(self, a)
        p.c.open(stream)
        both = [p.c, co.c]
        t0 = time.monotonic()
        self.check(pump(both, lambda: stream in p.from_, 10), "no replay")
        self.check(p.from_[stream] == 1, f"the first replay from {p.from_[stream]}")
        self.check(p.c.gateway() == a[0], f"serving gateway {p.c.gateway()}")
        self.check(pump(both, lambda: p.applied.get(stream, 0) >= n, 40,
                        lambda: p.publish_some(stream, n)),
                   f"applied {p.applied.get(stream)} of {n}")
        took = time.monotonic() - t0
        self.check(co.got.get(stream) == n and co.next[stream] == n + 1,
                   f"consumer took {co.got.get(stream)}")
        ps, cs = p.c.stats(), co.c.stats()
        self.check(ps["published"] == n and ps["applied"] == n, f"producer stats {ps}")
        self.check(cs["delivered"] == n, f"consumer stats {cs}")
        self.check(pump(both, lambda: p.c.stats()["held_records"] == 0, 5), "records still held")
        self.check(any(e.type == repgate.EV_CONNECTED and e.gateway == a[0] for e in p.events),
                   f"producer events {p.events}")
        self.check(any(e.type == repgate.EV_SUBSCRIBED and e.key == stream for e in co.events),
                   f"consumer events {co.events}")
        print(f"# python round trip: {n} records, {cs['delivered_bytes']} bytes in {took:.3f} s",
              file=sys.stderr)

    def test_backpressure_from_a_slow_consumer(self):
        a, b = PAIR[0], PAIR[1]
        (stream,) = stream_ids(5, 1)
        co = Consumer(self, b)
        co.block = True
        co.c.subscribe(stream, 0)
        p = Producer(self, a)
        p.c.open(stream)
        both = [p.c, co.c]
        self.check(pump(both, lambda: stream in p.from_, 10), "no replay")
        # 1 s of a producer that publishes all it may while the consumer refuses everything
        end = time.monotonic() + 1.0
        pump(both, lambda: time.monotonic() >= end, 2, lambda: p.publish_some(stream, 10**6))
        stopped = p.cursor[stream] - 1
        self.check(p.backpressured > 100, f"Backpressure {p.backpressured} times")
        self.check(co.refused > 0, "the consumer never refused")
        self.check(0 < stopped <= 3 * (1024 + 256), f"the producer stopped at {stopped}")
        with self.assertRaises(repgate.Timeout) as cm:
            p.c.publish_wait(stream, stopped + 1, VERSION, rec_data(stream, stopped + 1), 0.05)
        self.check(cm.exception.errno == errno.ETIMEDOUT, f"{cm.exception!r}")
        with self.assertRaises(repgate.Backpressure) as cm:
            p.c.publish(stream, stopped + 1, VERSION, rec_data(stream, stopped + 1))
        self.check(cm.exception.errno == errno.EAGAIN and isinstance(cm.exception, OSError),
                   f"{cm.exception!r}")
        print(f"# python slow consumer: the producer stopped at {stopped} records; "
              f"Backpressure {p.backpressured} times", file=sys.stderr)
        co.block = False
        upto = stopped + 300
        self.check(pump(both, lambda: p.applied.get(stream, 0) >= upto, 40,
                        lambda: p.publish_some(stream, upto)),
                   f"applied {p.applied.get(stream)} of {upto}")
        self.check(co.got.get(stream) == upto, f"consumer took {co.got.get(stream)} of {upto}")

    def test_callback_exceptions_come_out_of_poll(self):
        a, b = PAIR[0], PAIR[1]
        (stream,) = stream_ids(5, 1)
        co = Consumer(self, b)
        boom = {"left": 1}
        plain = co.deliver

        def deliver(stream_, seq, version, data):
            if boom["left"] and seq == 5:
                boom["left"] -= 1
                raise KeyError("a consumer bug")
            return plain(stream_, seq, version, data)

        co.c._on["deliver"] = deliver
        co.c.subscribe(stream, 0)
        p = Producer(self, a)
        p.c.open(stream)
        raised = []

        def step():
            p.publish_some(stream, 20)
            try:
                co.c.poll()
            except KeyError as e:
                raised.append(e)

        self.check(pump([p.c], lambda: p.applied.get(stream, 0) >= 20, 20, step),
                   f"applied {p.applied.get(stream)} of 20")
        self.check(len(raised) == 1, f"raised {raised}")
        self.check(co.got[stream] == 20 and co.next[stream] == 21,
                   "the record whose callback raised was not delivered again")

    def test_error_mapping(self):
        for code, cls, err in [
            (-errno.EAGAIN, repgate.Backpressure, errno.EAGAIN),
            (-errno.ENOTCONN, repgate.Resyncing, errno.ENOTCONN),
            (repgate.ENOTACTIVE, repgate.NotActive, errno.EROFS),
            (-errno.EINVAL, repgate.InvalidArgument, errno.EINVAL),
            (-errno.ENOENT, repgate.NoStream, errno.ENOENT),
            (-errno.EEXIST, repgate.Exists, errno.EEXIST),
            (-errno.ENOSPC, repgate.NoSpace, errno.ENOSPC),
            (-errno.ENOMEM, repgate.NoMemory, errno.ENOMEM),
            (-errno.EDEADLK, repgate.Deadlock, errno.EDEADLK),
            (-errno.ETIMEDOUT, repgate.Timeout, errno.ETIMEDOUT),
        ]:
            e = repgate.error_of(code)
            self.check(type(e) is cls and e.errno == err and e.code == code, f"{code}: {e!r}")
        self.check("ENOTACTIVE" in str(repgate.error_of(repgate.ENOTACTIVE)), "ENOTACTIVE name")
        other = repgate.error_of(-errno.EADDRINUSE)
        self.check(type(other) is repgate.RepgateError and "in use" in str(other), repr(other))

        # Configs the library refuses.
        gw = (1, "127.0.0.1", 9)
        for kw in [dict(id=0, gateways=[gw]), dict(id=7, gateways=[]),
                   dict(id=7, gateways=[(1, "10.0.0.300", 9)]),
                   dict(id=7, gateways=[(1, "1" * 64, 9)]),
                   dict(id=7, gateways=[(7, "127.0.0.1", 9)]),
                   dict(id=7, gateways=[gw] * 9),
                   dict(id=7, gateways=[gw], window_records=100)]:
            with self.assertRaises(repgate.InvalidArgument):
                repgate.Client(**kw)
            self.check(True, "")
        busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(busy.close)
        busy.bind(("127.0.0.1", 0))
        busy_port = busy.getsockname()[1]
        with self.assertRaises(repgate.RepgateError) as cm:
            repgate.Client(7, [gw], bind_addr="127.0.0.1", bind_port=busy_port)
        self.check(cm.exception.errno == errno.EADDRINUSE, repr(cm.exception))

        # The defaults as repgate.h documents them: the struct layout matches the C one.
        cfg = repgate._Config()
        repgate.load().rg_client_config_default(repgate.ctypes.byref(cfg))
        self.check((cfg.streams_max, cfg.stream_records_max, cfg.records_max, cfg.bytes_max,
                    cfg.window_records, cfg.pkt_bytes_max, cfg.connect_timeout_ns,
                    cfg.dead_after_ns) == (1024, 1024, 65536, 64 << 20, 256, 1472, 5 * 10**9,
                                           1500 * 10**6), "defaults")
        # 1296 and 114: sizeof in C (x86-64), with key_file and the gateways' pubkey
        self.check(repgate.ctypes.sizeof(repgate._Config) == 1296 and
                   repgate.ctypes.sizeof(repgate._Gateway) == 114 and
                   repgate.ctypes.sizeof(repgate._Stats) == 152, "struct sizes")

        # A client whose gateway never answers (busy reads nothing).
        events = []
        with repgate.Client(7, [(1, "127.0.0.1", busy_port)], connect_timeout=0.2,
                            on_event=events.append) as lone:
            s, s2 = stream_ids(5, 2)
            for f, exc in [(lambda: lone.open(0), repgate.InvalidArgument),
                           (lambda: lone.open(s), None),
                           (lambda: lone.open(s), repgate.Exists),
                           (lambda: lone.publish(s, 1, VERSION, b"x"), repgate.Resyncing),
                           (lambda: lone.publish(s2, 1, VERSION, b""), repgate.NoStream),
                           (lambda: lone.publish(s, 1, VERSION, bytes(repgate.RECORD_MAX + 1)),
                            repgate.InvalidArgument),
                           (lambda: lone.subscribe(s, 0), repgate.Exists),
                           (lambda: lone.subscribe(0), repgate.InvalidArgument),
                           (lambda: lone.subscribe(s2, (1 << 64) - 1), repgate.InvalidArgument),
                           (lambda: lone.subscribe_ns(0), repgate.InvalidArgument),
                           (lambda: lone.applied(s2, 1), repgate.NoStream),
                           (lambda: lone.subscribe(s2), None),
                           (lambda: lone.applied(s2, 1), repgate.InvalidArgument)]:
                if exc is None:
                    self.check(f() == 0, "a call that should work")
                else:
                    with self.assertRaises(exc):
                        f()
                    self.check(True, "")
            self.check(lone.gateway() == 0 and lone.fileno() >= 0, "gateway, fd")
            self.check(pump([lone], lambda: any(e.type == repgate.EV_UNREACHABLE
                                                for e in events), 3), f"events {events}")
        self.check(lone.closed, "closed")
        with self.assertRaises(repgate.ClientClosed):
            lone.publish(s, 1, VERSION, b"")
        lone.close()  # again: nothing

        # Re-entry: the library says Deadlock, the binding raises it out of poll.
        (s3,) = stream_ids(5, 1)
        co = Consumer(self, PAIR[1])
        co.c.subscribe(s3, 0)
        p = Producer(self, PAIR[0])
        p.c.open(s3)
        seen = []

        def deliver(stream, seq, version, data):
            try:
                co.c.poll()
            except repgate.Deadlock as e:
                seen.append(e)
            return None

        co.c._on["deliver"] = deliver
        self.check(pump([p.c, co.c], lambda: seen, 10, lambda: p.publish_some(s3, 3)),
                   "no record came")
        self.check(seen[0].errno == errno.EDEADLK, repr(seen[0]))

    def test_struct_layout_matches_repgate_h(self):
        """ctypes' offsets are the C ones: the defaults land in their fields, and key_file and
        every gateway's pubkey reach the library (rg_client_config_check names them)."""
        lib = repgate.load()
        cfg = repgate._Config()
        lib.rg_client_config_default(ctypes.byref(cfg))
        want = dict(streams_max=1024, stream_records_max=1024, records_max=65536,
                    bytes_max=64 << 20, window_records=256, pkt_bytes_max=1472,
                    connect_timeout_ns=5 * 10**9, dead_after_ns=1500 * 10**6)
        for f, v in want.items():
            self.check(getattr(cfg, f) == v, f"{f} = {getattr(cfg, f)}, want {v}")
        self.check(cfg.key_file == b"" and cfg.id == 0 and cfg.ngateways == 0, "zeroed")
        cfg.id, cfg.ngateways = 7, repgate.GATEWAYS_MAX
        for i in range(repgate.GATEWAYS_MAX):
            g = cfg.gateways[i]
            g.id, g.addr, g.port = 100 + i, b"127.0.0.1", 9000 + i
        why = ctypes.create_string_buffer(512)
        rc = lib.rg_client_config_check(ctypes.byref(cfg), why, len(why))
        self.check(rc == 0, f"a plaintext config of 8 gateways: {rc} {why.value!r}")
        cfg.gateways[repgate.GATEWAYS_MAX - 1].pubkey = b"x" * repgate.PUBKEY_CHARS
        rc = lib.rg_client_config_check(ctypes.byref(cfg), why, len(why))
        self.check(rc == -errno.EINVAL and b"gateway 107 has a pubkey" in why.value,
                   f"the last gateway's pubkey: {rc} {why.value!r}")
        cfg.key_file = b"/nonexistent/" + b"k" * (repgate.PATH_BYTES - 20)
        cfg.bind_port = 1
        rc = lib.rg_client_config_check(ctypes.byref(cfg), why, len(why))
        self.check(rc == -errno.EINVAL and b"gateway 100 has no pubkey" in why.value,
                   f"key_file set: {rc} {why.value!r}")
        for i in range(repgate.GATEWAYS_MAX):
            cfg.gateways[i].pubkey = b"A" * 43 + b"="
        rc = lib.rg_client_config_check(ctypes.byref(cfg), why, len(why))
        self.check(rc == -errno.ENOENT and cfg.key_file in why.value,
                   f"the key file is read: {rc} {why.value!r}")

    def test_sealed_round_trip(self):
        """Through the pair when it is sealed (RG_TEST_GW_A/B with PUBKEY and RG_TEST_KEYS),
        else through a sealed pair of its own (rg-softgw-pair --keys). A plaintext client of a
        sealed gateway is dropped there (MODE_MISMATCH) and finds it unreachable; a key file
        others may read and a pubkey without key_file are refused, saying why."""
        n = 500
        if PAIR[4]:
            pair = PAIR
            take = client_id
        elif PAIR_PROC is None:
            self.skip("RG_TEST_GW_A/B name plaintext gateways (no PUBKEY, no RG_TEST_KEYS)")
        else:
            keys = tempfile.mkdtemp(prefix="rg-py-keys-")
            self.addCleanup(shutil.rmtree, keys, True)
            pair, proc = start_pair(keys)
            self.addCleanup(stop_pair, proc)
            own = [iter(pair[2]), iter(pair[3])]
            take = lambda side: next(own[side])  # noqa: E731
        a, b = pair[0], pair[1]
        self.check(len(a[3]) == repgate.PUBKEY_CHARS and len(b[3]) == repgate.PUBKEY_CHARS,
                   f"the pair's pubkeys {a[3]!r} {b[3]!r}")

        (stream,) = stream_ids(5, 1)
        cid = take(1)
        co = Consumer(self, b, cid=cid, key_file=key_file(pair, cid))
        co.c.subscribe(stream, 0)
        pid = take(0)
        p = Producer(self, a, cid=pid, key_file=key_file(pair, pid))
        p.c.open(stream)
        self.check(pump([p.c, co.c], lambda: p.applied.get(stream, 0) >= n, 30,
                        lambda: p.publish_some(stream, n)),
                   f"applied {p.applied.get(stream)} of {n}; {p.c.stats()}")
        self.check(co.got.get(stream) == n, f"consumer took {co.got.get(stream)}")
        self.check(co.c.stats()["drops_rx"] == 0, f"drops {co.c.stats()}")

        # A client of the pair in plaintext (its gateway without pubkey): A drops what it sends.
        events = []
        with repgate.Client(take(0), [a[:3]], connect_timeout=0.3,
                            on_event=events.append) as plain:
            self.check(pump([plain], lambda: any(e.type == repgate.EV_UNREACHABLE
                                                 for e in events), 5),
                       f"a plaintext client of a sealed gateway: events {events}")
            self.check(plain.gateway() == 0 and plain.stats()["packets_rx"] == 0,
                       f"a plaintext client of a sealed gateway was answered: {plain.stats()}")

        exposed = os.path.join(tempfile.mkdtemp(prefix="rg-py-open-"), "open.key")
        self.addCleanup(shutil.rmtree, os.path.dirname(exposed), True)
        shutil.copy(key_file(pair, pid), exposed)
        os.chmod(exposed, 0o644)
        with self.assertRaises(repgate.KeyExposed) as e:
            repgate.Client(pid, [a], key_file=exposed)
        self.check("chmod" in str(e.exception), str(e.exception))
        with self.assertRaises(repgate.InvalidArgument) as e:
            repgate.Client(pid, [a])
        self.check("key_file is not set" in str(e.exception), str(e.exception))

def main():
    prog = unittest.main(module=__name__, exit=False, verbosity=2)
    res = prog.result
    print(f"repgate python tests: {CHECKS} checks")
    if not res.wasSuccessful():
        sys.exit(1)
    if CHECKS == 0:
        skipped = len(res.skipped)
        print("repgate python tests: nothing was checked" + (" (skipped)" if skipped else ""))
        sys.exit(77 if skipped else 1)
    sys.exit(0)


if __name__ == "__main__":
    main()
