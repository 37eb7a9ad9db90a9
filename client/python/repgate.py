# SPDX-License-Identifier: Apache-2.0
"""repgate: the Python binding of librepgate (client/repgate.h is the contract).

ctypes over librepgate.so, standard library only. It mirrors the C API: a Client is
single-threaded (call it from one thread at a time), fd-based (fileno(), next_deadline(),
poll()), and its callbacks are Python callables that run inside poll(), run() and
publish_wait(), as the C callbacks do. Errors are exceptions: RepgateError (an OSError whose
errno is the C code's) and one subclass per code of the contract.

The library is found through RG_LIBREPGATE (a path to librepgate.so), else in this tree's meson
build dirs (build/release, then build/debug), else by the loader (librepgate.so.0 installed).
A library built with ASan (build/debug) needs its runtime preloaded: LD_PRELOAD=$(gcc
-print-file-name=libasan.so).

    with repgate.Client(20, [(2, "10.2.0.2", 7000)], on_deliver=store) as c:
        c.subscribe(stream)
        while True:
            c.run(1.0)
"""

import ctypes
import errno as _errno
import os
import select
import time

__all__ = [
    "Client", "Gateway", "RepgateError", "Backpressure", "Resyncing", "NotActive",
    "InvalidArgument", "NoStream", "Exists", "NoSpace", "NoMemory", "Deadlock", "Timeout",
    "KeyExposed", "ClientClosed", "Event", "load", "now_ns",
    "EV_CONNECTED", "EV_MOVED", "EV_UNREACHABLE", "EV_SUBSCRIBED", "EV_REFUSED",
    "REFUSED_BUSY", "REFUSED_FULL", "REFUSED_NOT_ALLOWED", "REFUSED_UNKNOWN",
    "RECORD_MAX", "GATEWAYS_MAX", "ENOTACTIVE", "error_of", "run_all",
]

VERSION = "0.1.0"
GATEWAYS_MAX = 8
RECORD_MAX = 1 << 20
ADDR_BYTES = 64
PATH_BYTES = 256  # RG_CLIENT_PATH_BYTES: key_file, with its NUL
PUBKEY_CHARS = 44  # RG_CLIENT_PUBKEY_CHARS: a gateway's public key in base64
ENOTACTIVE = -_errno.EROFS  # RG_CLIENT_ENOTACTIVE: reserved, no call returns it yet

EV_CONNECTED, EV_MOVED, EV_UNREACHABLE, EV_SUBSCRIBED, EV_REFUSED = 1, 2, 3, 4, 5
REFUSED_BUSY, REFUSED_FULL, REFUSED_NOT_ALLOWED, REFUSED_UNKNOWN = 1, 2, 3, 4

_u16, _u32, _u64, _int = ctypes.c_uint16, ctypes.c_uint32, ctypes.c_uint64, ctypes.c_int


# ---- the C structs (repgate.h), field for field ----

class _Gateway(ctypes.Structure):
    _fields_ = [("id", _u16), ("addr", ctypes.c_char * ADDR_BYTES), ("port", _u16),
                ("pubkey", ctypes.c_char * (PUBKEY_CHARS + 1))]


class _Config(ctypes.Structure):
    _fields_ = [
        ("id", _u16),
        ("incarnation", _u64),
        ("gateways", _Gateway * GATEWAYS_MAX),
        ("ngateways", _u16),
        ("bind_addr", ctypes.c_char * ADDR_BYTES),
        ("bind_port", _u16),
        ("streams_max", _u32),
        ("stream_records_max", _u32),
        ("records_max", _u32),
        ("bytes_max", _u64),
        ("window_records", _u32),
        ("pkt_bytes_max", _u32),
        ("connect_timeout_ns", _u64),
        ("dead_after_ns", _u64),
        ("key_file", ctypes.c_char * PATH_BYTES),
    ]


class _Event(ctypes.Structure):
    _fields_ = [("type", _int), ("gateway", _u16), ("namespace_sub", _int), ("key", _u64),
                ("status", _int)]


_REPLAY = ctypes.CFUNCTYPE(None, ctypes.c_void_p, _u64, _u64)
_APPLIED = ctypes.CFUNCTYPE(None, ctypes.c_void_p, _u64, _u64)
_DELIVER = ctypes.CFUNCTYPE(_int, ctypes.c_void_p, _u64, _u64, _u32, ctypes.c_void_p, _u32)
_STREAM_APPLIED = ctypes.CFUNCTYPE(_int, ctypes.c_void_p, _u64, ctypes.POINTER(_u64))
_EVENT = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(_Event))


class _Cb(ctypes.Structure):
    _fields_ = [("replay", _REPLAY), ("applied", _APPLIED), ("deliver", _DELIVER),
                ("stream_applied", _STREAM_APPLIED), ("event", _EVENT), ("ctx", ctypes.c_void_p)]


_STATS_FIELDS = [
    "published", "published_bytes", "acked", "applied", "delivered", "delivered_bytes",
    "refused", "held_records", "held_bytes", "packets_tx", "packets_rx", "bytes_tx", "bytes_rx",
    "rtx_frames", "drops_rx", "send_errors", "gso_sends", "moves", "rtt_ns",
]


class _Stats(ctypes.Structure):
    _fields_ = [(f, _u64) for f in _STATS_FIELDS]


# ---- errors ----

class RepgateError(OSError):
    """A librepgate error: .code is the negative C code, .errno its positive errno."""

    code = 0

    def __init__(self, code, what=""):
        name = _lib.rg_client_strerror(code).decode() if _lib is not None else ""
        if name.startswith("another errno"):
            name = os.strerror(-code)
        super().__init__(-code, f"{what}: {name}" if what else name)
        self.code = code


class Backpressure(RepgateError):
    """-EAGAIN: the stream's queue, records_max or bytes_max is full: poll, then try again."""


class Resyncing(RepgateError):
    """-ENOTCONN: the stream is resyncing: wait for the replay callback (where to publish from)."""


class NotActive(RepgateError):
    """RG_CLIENT_ENOTACTIVE: the namespace is not active here (reserved)."""


class InvalidArgument(RepgateError):
    """-EINVAL: not the next seq, a record over 1 MiB, an id 0, a bad config, ..."""


class NoStream(RepgateError):
    """-ENOENT: the stream was not opened (publish) or is not received (applied)."""


class Exists(RepgateError):
    """-EEXIST: already open or subscribed."""


class NoSpace(RepgateError):
    """-ENOSPC: a table is full (streams_max, 64 namespaces)."""


class NoMemory(RepgateError):
    """-ENOMEM."""


class Deadlock(RepgateError):
    """-EDEADLK: not allowed inside this callback (poll, run, publish_wait, close, ...)."""


class Timeout(RepgateError):
    """-ETIMEDOUT: publish_wait's timeout passed while the stream was backpressured."""


class KeyExposed(RepgateError):
    """-EPERM from Client(): the key file's mode lets others than its owner read it: chmod 600."""


class ClientClosed(RepgateError):
    """The client was closed (-EBADF)."""


_BY_CODE = {
    -_errno.EAGAIN: Backpressure, -_errno.ENOTCONN: Resyncing, ENOTACTIVE: NotActive,
    -_errno.EINVAL: InvalidArgument, -_errno.ENOENT: NoStream, -_errno.EEXIST: Exists,
    -_errno.ENOSPC: NoSpace, -_errno.ENOMEM: NoMemory, -_errno.EDEADLK: Deadlock,
    -_errno.ETIMEDOUT: Timeout, -_errno.EBADF: ClientClosed, -_errno.EPERM: KeyExposed,
}


def error_of(code, what=""):
    """The exception for a negative C code (RepgateError itself for codes with no class)."""
    return _BY_CODE.get(code, RepgateError)(code, what)


def _check(rc, what):
    if rc < 0:
        raise error_of(rc, what)
    return rc


# ---- the library ----

_lib = None


def _candidates():
    env = os.environ.get("RG_LIBREPGATE")
    if env:
        return [env]
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    return [os.path.join(root, "build", b, "client", "librepgate.so") for b in ("release", "debug")
            ] + ["librepgate.so.0"]


def load(path=None):
    """Loads librepgate (see the module's doc for where it looks) once; returns the CDLL."""
    global _lib
    if _lib is not None and path is None:
        return _lib
    errors = []
    for p in [path] if path else _candidates():
        if os.sep in p and not os.path.exists(p):
            errors.append(f"{p}: not found")
            continue
        try:
            lib = ctypes.CDLL(p)
            break
        except OSError as e:
            errors.append(f"{p}: {e}")
    else:
        raise OSError(_errno.ENOENT, "librepgate not found (set RG_LIBREPGATE): " +
                      "; ".join(errors))
    P = ctypes.POINTER
    c = ctypes.c_void_p
    sigs = {
        "rg_client_config_default": (None, [P(_Config)]),
        "rg_client_create": (_int, [P(_Config), P(_Cb), P(c)]),
        "rg_client_config_check": (_int, [P(_Config), ctypes.c_char_p, ctypes.c_size_t]),
        "rg_client_destroy": (None, [c]),
        "rg_client_close": (None, [c]),
        "rg_client_fd": (_int, [c]),
        "rg_client_next_deadline_ns": (_u64, [c]),
        "rg_client_now_ns": (_u64, []),
        "rg_client_poll": (_int, [c, _u64]),
        "rg_client_run": (_int, [c, _u64]),
        "rg_client_open": (_int, [c, _u64]),
        "rg_client_publish": (_int, [c, _u64, _u64, _u32, ctypes.c_char_p, _u32]),
        "rg_client_publish_wait": (_int, [c, _u64, _u64, _u32, ctypes.c_char_p, _u32, _u64]),
        "rg_client_subscribe": (_int, [c, _u64, _u64]),
        "rg_client_subscribe_ns": (_int, [c, _u32]),
        "rg_client_applied": (_int, [c, _u64, _u64]),
        "rg_client_gateway": (_u16, [c]),
        "rg_client_stats": (None, [c, P(_Stats)]),
        "rg_client_strerror": (ctypes.c_char_p, [_int]),
    }
    for name, (res, args) in sigs.items():
        f = getattr(lib, name)
        f.restype, f.argtypes = res, args
    _lib = lib
    return lib


def now_ns():
    """The clock clients run on: CLOCK_MONOTONIC in ns (rg_client_now_ns)."""
    return load().rg_client_now_ns()


def _ns(seconds):
    return 0 if seconds is None else max(0, int(seconds * 1e9))


class Gateway(tuple):
    """A gateway of the region: (id, addr, port, pubkey). Any 3- or 4-tuple does.

    pubkey is its public key in base64 (44 characters, `repgatectl pubkey` of its
    security.key): required when the client has a key_file, "" when it has not."""

    def __new__(cls, id, addr, port, pubkey=""):
        return super().__new__(cls, (id, addr, port, pubkey))


class Event:
    """What happened (struct rg_client_event): type (EV_*), gateway, namespace, key, status."""

    __slots__ = ("type", "gateway", "namespace", "key", "status")

    def __init__(self, ev):
        self.type, self.gateway, self.key = ev.type, ev.gateway, ev.key
        self.namespace, self.status = bool(ev.namespace_sub), ev.status

    def __repr__(self):
        names = {EV_CONNECTED: "connected", EV_MOVED: "moved", EV_UNREACHABLE: "unreachable",
                 EV_SUBSCRIBED: "subscribed", EV_REFUSED: "refused"}
        return (f"Event({names.get(self.type, self.type)}, gateway={self.gateway}, "
                f"key={self.key:#x}, namespace={self.namespace}, status={self.status})")


class Client:
    """One librepgate client (producer, consumer or both). See repgate.h for the contract.

    Callbacks run inside poll(), run() and publish_wait(), on the calling thread:
      on_replay(stream, from_seq)      producer: publish stream again from from_seq
      on_applied(stream, applied)      producer: every seq <= applied is durable downstream
      on_deliver(stream, seq, version, data) -> None | False
                                       consumer: one record, in order; data is a bytes copy.
                                       Return False (or raise Backpressure) to refuse it for
                                       now: it comes again in a later poll. Only applied()
                                       may be called from it.
      on_stream_applied(stream) -> int consumer, namespace subscriptions: where a new stream
                                       starts (its durable watermark; 0: from the start)
      on_event(Event)
    An exception a callback raises is kept and raised again by the poll(), run() or
    publish_wait() that called it, after the library returned; a record whose on_deliver
    raised was not taken (it comes again).

    key_file: this client's private key file (`repgatectl keygen`, mode 0600): every packet
    is sealed (AES-256-GCM) and every gateway needs its pubkey. "": plaintext. A bad key file
    or key raises KeyExposed (mode), InvalidArgument (contents, a pubkey) or the file's
    OSError code (NoStream for -ENOENT), with the reason in the message.
    """

    def __init__(self, id, gateways, *, key_file="", incarnation=0, bind_addr="", bind_port=0,
                 streams_max=0, stream_records_max=0, records_max=0, bytes_max=0,
                 window_records=0, pkt_bytes_max=0, connect_timeout=None, dead_after=None,
                 on_replay=None, on_applied=None, on_deliver=None, on_stream_applied=None,
                 on_event=None):
        lib = load()
        self._lib = lib
        self._c = None
        self._error = None
        self._in_cb = 0  # inside a callback (close() would free the client under the library)
        self._replayed = set()  # streams whose replay callback ran (publish_wait)
        cfg = _Config()
        lib.rg_client_config_default(ctypes.byref(cfg))
        gateways = list(gateways)
        if len(gateways) > GATEWAYS_MAX:
            raise InvalidArgument(-_errno.EINVAL, f"{len(gateways)} gateways")
        cfg.id, cfg.incarnation = id, incarnation
        for i, g in enumerate(gateways):
            gid, addr, port = g[:3]
            pub = (g[3] if len(g) > 3 else "").encode()
            a = addr.encode()
            if len(a) >= ADDR_BYTES:
                raise InvalidArgument(-_errno.EINVAL, f"gateway address {addr!r}")
            if len(pub) > PUBKEY_CHARS:
                raise InvalidArgument(-_errno.EINVAL, f"gateway {gid}: pubkey {g[3]!r}")
            cfg.gateways[i].id, cfg.gateways[i].addr, cfg.gateways[i].port = gid, a, port
            cfg.gateways[i].pubkey = pub
        cfg.ngateways = len(gateways)
        kf = os.fsencode(key_file)
        if len(kf) >= PATH_BYTES:
            raise InvalidArgument(-_errno.EINVAL, f"key_file {key_file!r} (at most "
                                  f"{PATH_BYTES - 1} bytes)")
        cfg.key_file = kf
        if len(bind_addr.encode()) >= ADDR_BYTES:
            raise InvalidArgument(-_errno.EINVAL, f"bind address {bind_addr!r}")
        cfg.bind_addr, cfg.bind_port = bind_addr.encode(), bind_port
        for name, v in (("streams_max", streams_max), ("stream_records_max", stream_records_max),
                        ("records_max", records_max), ("bytes_max", bytes_max),
                        ("window_records", window_records), ("pkt_bytes_max", pkt_bytes_max),
                        ("connect_timeout_ns", _ns(connect_timeout)),
                        ("dead_after_ns", _ns(dead_after))):
            if v:
                setattr(cfg, name, v)
        self._on = dict(replay=on_replay, applied=on_applied, deliver=on_deliver,
                        stream_applied=on_stream_applied, event=on_event)
        # The ctypes function objects must outlive the C client: kept here until close().
        self._cb = _Cb(
            replay=_REPLAY(self._t_replay), applied=_APPLIED(self._t_applied),
            deliver=_DELIVER(self._t_deliver) if on_deliver else _DELIVER(),
            stream_applied=(_STREAM_APPLIED(self._t_stream_applied) if on_stream_applied
                            else _STREAM_APPLIED()),
            event=_EVENT(self._t_event), ctx=None)
        out = ctypes.c_void_p()
        rc = lib.rg_client_create(ctypes.byref(cfg), ctypes.byref(self._cb), ctypes.byref(out))
        if rc < 0:
            why = ctypes.create_string_buffer(512)
            if lib.rg_client_config_check(ctypes.byref(cfg), why, len(why)) == rc and why.value:
                raise error_of(rc, "rg_client_create: " + why.value.decode(errors="replace"))
            _check(rc, "rg_client_create")
        self._c = out

    # ---- trampolines: inside the library; they never let an exception through ----

    def _keep(self, e):
        if self._error is None:
            self._error = e

    def _t_replay(self, _ctx, stream, from_seq):
        self._in_cb += 1
        self._replayed.add(stream)
        try:
            if self._on["replay"]:
                self._on["replay"](stream, from_seq)
        except BaseException as e:  # noqa: BLE001 - raised again after the C call
            self._keep(e)
        finally:
            self._in_cb -= 1

    def _t_applied(self, _ctx, stream, applied):
        self._in_cb += 1
        try:
            if self._on["applied"]:
                self._on["applied"](stream, applied)
        except BaseException as e:  # noqa: BLE001
            self._keep(e)
        finally:
            self._in_cb -= 1

    def _t_deliver(self, _ctx, stream, seq, version, data, length):
        if self._error is not None:
            return -_errno.EAGAIN  # a callback failed in this poll: take nothing more
        self._in_cb += 1
        try:
            buf = ctypes.string_at(data, length) if length else b""
            return -_errno.EAGAIN if self._on["deliver"](stream, seq, version, buf) is False else 0
        except Backpressure:
            return -_errno.EAGAIN
        except BaseException as e:  # noqa: BLE001
            self._keep(e)
            return -_errno.EAGAIN  # not taken: it comes again
        finally:
            self._in_cb -= 1

    def _t_stream_applied(self, _ctx, stream, applied):
        self._in_cb += 1
        try:
            applied[0] = int(self._on["stream_applied"](stream))
            return 0
        except BaseException as e:  # noqa: BLE001
            self._keep(e)
            return -_errno.EPERM
        finally:
            self._in_cb -= 1

    def _t_event(self, _ctx, ev):
        self._in_cb += 1
        try:
            if self._on["event"]:
                self._on["event"](Event(ev.contents))
        except BaseException as e:  # noqa: BLE001
            self._keep(e)
        finally:
            self._in_cb -= 1

    def _handle(self):
        if self._c is None:
            raise ClientClosed(-_errno.EBADF)
        return self._c

    def _after(self, rc, what):
        """Raises what a callback raised during the call, else the call's own error."""
        e, self._error = self._error, None
        if e is not None:
            raise e
        return _check(rc, what)

    # ---- the event loop ----

    def fileno(self):
        """The socket to wait on for reading (rg_client_fd); select() takes the client itself."""
        return self._lib.rg_client_fd(self._handle())

    fd = fileno

    def next_deadline(self):
        """When poll() must run next, in now_ns() ns; None: never."""
        d = self._lib.rg_client_next_deadline_ns(self._handle())
        return None if d == (1 << 64) - 1 else d

    def timeout(self):
        """Seconds until next_deadline() (0 when due), for select() or an event loop."""
        d = self.next_deadline()
        return None if d is None else max(0, d - now_ns()) / 1e9

    def poll(self, now=None):
        """Reads, runs timers, sends, calls the callbacks; never blocks."""
        c = self._handle()
        return self._after(self._lib.rg_client_poll(c, now_ns() if now is None else now),
                           "rg_client_poll")

    def run(self, timeout):
        """Polls as events come for timeout seconds (0: once)."""
        return self._after(self._lib.rg_client_run(self._handle(), _ns(timeout)), "rg_client_run")

    # ---- producer ----

    def open(self, stream):
        return _check(self._lib.rg_client_open(self._handle(), stream), "rg_client_open")

    @staticmethod
    def _bytes(data):
        if data is None:
            return None, 0
        b = data if isinstance(data, bytes) else bytes(data)
        return b, len(b)

    def publish(self, stream, seq, version, data):
        """Hands over record seq (bytes-like; copied). Backpressure, Resyncing, InvalidArgument,
        NoStream, Deadlock (inside on_deliver), NotActive (reserved)."""
        b, n = self._bytes(data)
        return _check(self._lib.rg_client_publish(self._handle(), stream, seq, version, b, n),
                      "rg_client_publish")

    def publish_wait(self, stream, seq, version, data, timeout):
        """publish(), polling while it says Backpressure, for at most timeout seconds: Timeout.

        The polls may run on_replay for this stream; the library then tries seq again and
        says EINVAL (seq is no longer the next one): that is raised as Resyncing, since the
        replay callback has said where to publish from."""
        b, n = self._bytes(data)
        self._replayed.discard(stream)
        rc = self._lib.rg_client_publish_wait(self._handle(), stream, seq, version, b, n,
                                              _ns(timeout))
        if rc == -_errno.EINVAL and stream in self._replayed:
            rc = -_errno.ENOTCONN
        return self._after(rc, "rg_client_publish_wait")

    # ---- consumer ----

    def subscribe(self, stream, applied=0):
        return _check(self._lib.rg_client_subscribe(self._handle(), stream, applied),
                      "rg_client_subscribe")

    def subscribe_ns(self, ns):
        return _check(self._lib.rg_client_subscribe_ns(self._handle(), ns),
                      "rg_client_subscribe_ns")

    def applied(self, stream, seq):
        """Every seq <= seq of stream is durable; may be called from on_deliver."""
        return _check(self._lib.rg_client_applied(self._handle(), stream, seq),
                      "rg_client_applied")

    # ---- state ----

    def gateway(self):
        """The serving gateway's id, 0 for none yet."""
        return self._lib.rg_client_gateway(self._handle())

    def stats(self):
        """struct rg_client_stats as a dict."""
        s = _Stats()
        self._lib.rg_client_stats(self._handle(), ctypes.byref(s))
        return {f: getattr(s, f) for f in _STATS_FIELDS}

    @property
    def closed(self):
        return self._c is None

    def close(self, linger=0.02):
        """Says goodbye (rg_client_close), polls for linger seconds so it leaves, frees the
        client. Idempotent. Not from a callback (Deadlock)."""
        if self._c is None:
            return
        if self._in_cb:
            raise Deadlock(-_errno.EDEADLK, "close inside a callback")
        self._lib.rg_client_close(self._c)
        try:
            if linger > 0:
                self._lib.rg_client_run(self._c, _ns(linger))
        finally:
            self._error = None
            self._lib.rg_client_destroy(self._c)
            self._c = None
            self._cb = None
            self._on = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        if getattr(self, "_c", None) is not None:
            self._lib.rg_client_destroy(self._c)
            self._c = None


def run_all(clients, timeout):
    """Polls several clients as events come for timeout seconds (select over their sockets)."""
    end = time.monotonic() + timeout
    while True:
        for c in clients:
            c.poll()
        left = end - time.monotonic()
        if left <= 0:
            return
        waits = [t for t in (c.timeout() for c in clients) if t is not None]
        select.select(clients, [], [], min(waits + [left]))
