#!/usr/bin/env python3
"""Writes the hand-made seeds of the core target (tests/fuzz/corpus/core/) as programs in
fuzz_core.c's step language, and, with --raw DIR, seeds whose RAW steps carry real packets
(those fuzz_core dumps with RG_FUZZ_CORE_DUMP=DIR). Usage: gen_core_seeds.py OUT [--raw DIR]."""
import os
import struct
import sys

RAW, BUILT, PUMP, TIME, PUBLISH, CONTROL, MODE = range(7)
US, MS, MS100 = range(3)


def pump(*fates):
    out = [PUMP, len(fates)]
    for what, pos, xor in fates:
        out += [what, pos & 0xff, pos >> 8, xor]
    return out


def time(unit, n):
    return [TIME, unit, n - 1]


def publish(x_side, prod, lens):
    """len(lens) records (their lengths follow from their seqs: fuzz_core.c's rec_len)."""
    return [PUBLISH, (1 if x_side else 0) | prod << 1, len(lens)]


def control(sub, cons=0, *extra):
    return [CONTROL, sub, cons] + list(extra)


def mode(block=0, open_mode=0, sub_status=0):
    return [MODE, block | open_mode << 1 | sub_status << 3]


def built(who, incs, frames):
    """who: 0/1 A on lane 0/1, 2 client 3; incs 0: the right incarnations. frames: bytes."""
    return [BUILT, who, incs, len(frames) - 1] + [b for f in frames for b in f]


def raw(pkt):
    return [RAW, len(pkt) & 0xff, len(pkt) >> 8] + list(pkt)


def handshake():
    return pump() + time(MS, 1) + pump() + time(MS, 1) + pump() + pump()


# frames for built(): the type byte is (t - 1) % 9, so type t is written as t - 1
PING = [4]
HELLO_ASK = [5, 0, 1]                 # lanes a % 4 + 1 = 1, flags ASK
SUB_STREAM = [8, 0, 3]                # REQUEST, STREAM, known stream 3 (STREAM_C0)
SUB_NS = [8, 4, 5]                    # REQUEST, NAMESPACE, known key 5 (a namespace)
RESUME_REQ_A0 = [6, 0, 0, 0]          # REQUEST of STREAM_A0 (watermark read, unused)
CLOSE = [7, 1, 0, 0, 0]
APPLIED_X0 = [3, 2, 5]                # APPLIED of STREAM_X0 = 5
CREDIT_X0 = [2, 2, 40]


def data(stream, seq, n):             # DATA, one whole record of n bytes (version 1)
    return [0, stream, seq, 0, n & 0xff, n >> 8, 0, 0]


def ack(back=0, n=1):                 # ACK of X's largest sent pn - back, n ranges of 1
    return [1, n - 1, back, 0, 0, 0] + [0, 0] * n


SEEDS = {
    "handshake": handshake(),
    "a_publishes": handshake() + publish(0, 0, [10, 200, 3]) + pump() + time(MS, 2) + pump()
    + control(0) + pump() + time(MS, 5) + pump(),
    "x_publishes": handshake() + publish(1, 0, [50, 100, 150, 255]) + pump() + time(MS, 1)
    + pump() + pump() + time(MS, 1) + pump(),
    "both_lanes": handshake() + publish(0, 0, [30] * 7) + publish(0, 1, [90] * 7) + pump()
    + time(MS, 1) + pump() + control(0, 1) + pump() + time(MS, 1) + pump(),
    "lossy": handshake() + publish(0, 0, [255, 255, 255]) + pump((0, 0, 0), (1, 0, 0))
    + time(MS100, 3) + pump((2, 40, 7), (4, 0, 0), (0, 0, 0)) + time(MS100, 5) + pump()
    + pump() + control(0),
    "mutated_hdr": handshake() + publish(0, 0, [20, 20]) + pump((3, 6, 1), (3, 24, 3))
    + time(MS100, 4) + pump(),
    "blocked": handshake() + mode(block=1) + publish(0, 0, [100] * 7) + pump() + time(MS, 1)
    + pump() + mode() + control(5) + control(0) + pump(),
    "frags_room": handshake() + control(4, 0, 0, 1) + publish(0, 0, [250] * 7)
    + pump((0, 0, 0)) + time(MS100, 3) + pump() + control(4, 0, 0xff) + pump(),
    "deliver_cap": handshake() + control(3, 0, 0, 2) + publish(0, 0, [10] * 7) + pump()
    + time(MS, 1) + pump() + control(0) + pump(),
    "deferred_open": mode(open_mode=1) + handshake() + control(1) + pump() + time(MS, 1)
    + pump() + publish(0, 0, [5, 5]) + pump(),
    "refused_open": mode(open_mode=2) + handshake() + time(MS100, 2) + pump() + mode()
    + time(MS100, 2) + pump() + pump(),
    "rewind": handshake() + publish(0, 0, [40] * 5) + pump() + pump() + control(0)
    + control(2, 0, 1) + pump() + time(MS, 1) + pump() + publish(0, 0, [40] * 3) + pump(),
    "failover": handshake() + publish(1, 0, [60] * 4) + pump() + control(7) + pump()
    + time(MS100, 2) + pump() + control(7 | 0x10) + pump(),
    "close": handshake() + publish(0, 0, [10]) + pump() + control(8) + pump() + time(MS, 1)
    + pump(),
    "subscribe": handshake() + control(9, 0, 3) + pump() + time(MS, 1) + pump(),
    "tx_open": handshake() + control(6, 0, 1) + pump() + time(MS, 1) + pump()
    + publish(1, 1, [70, 70]) + pump(),
    "pto": handshake() + publish(0, 0, [100] * 3) + pump((0, 0, 0), (0, 0, 0), (0, 0, 0))
    + time(MS100, 10) + pump() + time(MS100, 30) + pump() + time(MS100, 100) + pump(),
    "idle_pings": handshake() + time(MS100, 5) + pump() + time(MS100, 50) + pump()
    + time(MS100, 255) + pump(),
    "client_hello": built(2, 0, [PING, HELLO_ASK]) + pump() + built(2, 0, [SUB_STREAM])
    + pump() + built(2, 0, [SUB_NS, PING]) + pump(),
    "client_data": built(2, 0, [HELLO_ASK]) + pump() + built(2, 0, [[6, 0, 3, 0]]) + pump()
    + built(2, 0, [data(3, 1, 100)]) + pump() + built(2, 0, [ack(0)]) + pump(),
    "a_made_up": handshake() + built(0, 0, [RESUME_REQ_A0, PING]) + pump()
    + built(0, 0, [data(0, 1, 64), data(0, 2, 64)]) + pump() + built(0, 0, [CLOSE]),
    "acks_applied": handshake() + publish(1, 0, [10] * 5) + pump((0, 0, 0)) + pump((0, 0, 0))
    + built(0, 0, [ack(0, 2), CREDIT_X0, APPLIED_X0]) + pump() + time(MS, 10) + pump(),
    "stale_inc": handshake() + built(0, 1, [HELLO_ASK]) + pump() + built(0, 2, [PING])
    + pump() + time(MS100, 3) + pump(),
}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, prog in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes(prog))
    if len(sys.argv) > 3 and sys.argv[2] == "--raw":
        pkts = sorted(os.listdir(sys.argv[3]))
        for i in range(0, min(len(pkts), 40), 8):
            prog = []
            for name in pkts[i:i + 8]:
                prog += raw(open(os.path.join(sys.argv[3], name), "rb").read())
                prog += pump()
            with open(os.path.join(out, "raw_%02d" % (i // 8)), "wb") as f:
                f.write(bytes(prog))


if __name__ == "__main__":
    main()
