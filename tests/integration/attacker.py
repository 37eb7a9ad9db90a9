#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A hostile host on a gateway's LAN (tests/integration/test_hostile.py; docs/protocol.md §5b).

Run in the LAN's network namespace (ip netns exec NS python3 attacker.py ...). It shares the
real client's IP address but sends from a UDP port of its own, and it has no key: it can read
the client's packets off the wire (an AF_PACKET socket on the namespace's side of the tap) and
send whatever it likes to the gateway's port. One run is one case:

  capture   up to --capture of the client's packets (IPv4 UDP from --src to --dst, RGP with
            src_gw = --client), within --capture-s; every case but garbage needs at least one
            (its header is the template: lane, the client's and the gateway's incarnations, the
            latest packet number; the forgeries are sealed whatever the template's type);
  send      --count packets of the case, paced at --pps (the tap's queue is 1,000 frames: a
            faster burst is dropped by the kernel and never reaches the gateway);
  listen    --listen-s for datagrams the gateway sends back to our port (it must send none);
  report    one JSON line on stdout: case, captured, sent per kind, send errors, replies,
            capture_s and send_s.

Cases (the counter each should move is the test's to know, not this tool's):

  garbage        random bytes, 32..1400 long; every other one with src_gw = the client's id,
                 so it passes the gateway's address filter and reaches the codec
  truncated      the first 0..31 bytes of captured packets
  wrong_length   captured packets whose length field says more or less than the datagram,
                 cut ones, and sealed ones too short for a tag; plus 'oversized' datagrams
                 beyond the LAN's MTU (the kernel sends IPv4 fragments)
  bad_tag        the template's header (its epoch too), a packet number just ahead, random
                 ciphertext and tag
  replay         every captured packet sent again, 4 times, verbatim
  forged_inc     the template with a higher src incarnation (a claimed restart), random body
  far_ahead      packet numbers 10^9 ahead of the latest; 'far_behind' 100,000+ behind
  init_flood     handshake INITs: a random new src incarnation and counter each, the epoch's
                 side bit right (--gateway), a random 96-byte Noise message
  resume_flood   RESUME-REQUEST-sized sealed packets under the real incarnations
  close          a sealed CLOSE under the real incarnations, and a plaintext one (good CRC32C)
  plaintext      type 1 packets with a good CRC32C and valid frames (PING, HELLO, RESUME
                 REQUEST, APPLIED, a self-consistent DATA record) under the real incarnations
"""
import argparse
import json
import random
import socket
import struct
import sys
import time

HDR = struct.Struct("<BBHHHIIQQ")  # version type length lane src_gw pn32 crc|epoch src_inc dst_inc
HDR_BYTES = 32
TAG_BYTES = 16
PKT_FRAMES, PKT_SEALED, PKT_HANDSHAKE = 1, 2, 3
HS_INIT, HS_INIT_BYTES = 1, 96  # pn32 of an INIT, and its Noise IK message (docs/protocol.md §5c)
ETH_P_ALL = 0x0003  # outgoing frames reach only ETH_P_ALL sockets (dev_queue_xmit_nit)
PN_MASK = 0xFFFFFFFF


def _crc32c_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


CRC_TABLE = _crc32c_table()


def crc32c(data, crc=0xFFFFFFFF):
    """Running CRC32C (Castagnoli, reflected); the caller XORs the final value with ~0."""
    t = CRC_TABLE
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


assert crc32c(b"123456789") ^ 0xFFFFFFFF == 0xE3069283  # docs/protocol.md §3's check value


class Hdr:
    """An RGP header's fields, read from a captured packet."""

    def __init__(self, pkt):
        (self.version, self.type, self.length, self.lane, self.src_gw, self.pn32, self.epoch,
         self.src_inc, self.dst_inc) = HDR.unpack_from(pkt)  # epoch: the CRC field, sealed

    def as_dict(self):
        return {k: getattr(self, k) for k in ("type", "lane", "src_gw", "pn32", "epoch",
                                               "src_inc", "dst_inc")}


def header(ptype, length, lane, src_gw, pn32, src_inc, dst_inc, crc=0):
    return HDR.pack(1, ptype, length, lane, src_gw, pn32 & PN_MASK, crc, src_inc, dst_inc)


def sealed(t, rng, pn32, frames_bytes, src_inc=None, dst_inc=None):
    """A sealed packet under template t's route and session: header, frames_bytes of random
    ciphertext and a random 16-byte tag; the length field right (datagram − 32), the CRC field
    the template's epoch (so the packet reaches the tag check)."""
    body = rng.randbytes(frames_bytes + TAG_BYTES)
    return header(PKT_SEALED, len(body), t.lane, t.src_gw, pn32,
                  t.src_inc if src_inc is None else src_inc,
                  t.dst_inc if dst_inc is None else dst_inc, crc=t.epoch) + body


def plaintext(t, pn32, frames, src_inc=None):
    """A type-1 packet with a good CRC32C over [0, 12) and [16, end) (docs/protocol.md §3)."""
    pkt = bytearray(header(PKT_FRAMES, len(frames), t.lane, t.src_gw, pn32,
                           t.src_inc if src_inc is None else src_inc, t.dst_inc) + frames)
    crc = crc32c(pkt[16:], crc32c(pkt[:12])) ^ 0xFFFFFFFF
    struct.pack_into("<I", pkt, 12, crc)
    return bytes(pkt)


# ---- frames (docs/protocol.md §4), valid by the codec's rules ----

def f_ping():
    return bytes([5, 0, 0, 0])


def f_hello(lanes=1):
    return struct.pack("<BBHI", 6, 0, lanes, 0)


def f_close():
    return struct.pack("<B3xI", 8, 0)


def f_resume_request(stream):
    return struct.pack("<BB6xQQQ", 7, 1, stream, 0, 0)


def f_applied(stream, upto):
    return struct.pack("<B7xQQ", 4, stream, upto)


def f_data(stream, seq, payload):
    return struct.pack("<BBHIQQII", 1, 1, len(payload), 1, stream, seq, 0, len(payload)) + payload


# ---- capture ----

def capture(iface, src, dst, dport, client, want, timeout_s):
    """Up to `want` RGP payloads the client sent (src -> dst:dport, src_gw = client), seen on
    iface within timeout_s; in the order they left."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    s.settimeout(0.05)
    src_b, dst_b = socket.inet_aton(src), socket.inet_aton(dst)
    out, deadline = [], time.monotonic() + timeout_s
    try:
        while len(out) < want and time.monotonic() < deadline:  # bounded by timeout_s
            try:
                frame = s.recv(65535)
            except socket.timeout:
                continue
            if len(frame) < 14 + 20 + 8 + HDR_BYTES or frame[12:14] != b"\x08\x00":
                continue
            ip = frame[14:]
            ihl = (ip[0] & 0x0F) * 4
            if ip[9] != 17 or ip[12:16] != src_b or ip[16:20] != dst_b:
                continue
            if struct.unpack_from(">H", ip, 6)[0] & 0x3FFF:  # a fragment
                continue
            _, udp_dport, udp_len = struct.unpack_from(">HHH", ip, ihl)
            payload = ip[ihl + 8:ihl + udp_len]
            if udp_dport != dport or len(payload) < HDR_BYTES:
                continue
            if struct.unpack_from("<H", payload, 6)[0] != client:
                continue
            out.append(bytes(payload))
    finally:
        s.close()
    return out


def template(caught):
    """The header of the latest packet past the handshake (sealed, or plaintext when the client
    is: test_hostile's --plaintext canary); None without one. A sealed one names the session's
    epoch, which the sealed forgeries then claim."""
    for pkt in reversed(caught):
        h = Hdr(pkt)
        if h.type in (PKT_FRAMES, PKT_SEALED) and h.src_inc != 0 and h.dst_inc != 0:
            return h
    return None


# ---- the cases: each a list of (kind, datagram) ----

def case_garbage(n, rng, t, caught, client, gateway):
    out = []
    for i in range(n):
        b = bytearray(rng.randbytes(rng.randint(HDR_BYTES, 1400)))
        if i % 2:
            struct.pack_into("<H", b, 6, client)
        elif struct.unpack_from("<H", b, 6)[0] == client:  # 'random' never claims the client
            struct.pack_into("<H", b, 6, client ^ 1)
        out.append(("random_as_client" if i % 2 else "random", bytes(b)))
    return out


def case_truncated(n, rng, t, caught, client, gateway):
    return [("truncated", caught[i % len(caught)][:i % HDR_BYTES]) for i in range(n)]


def case_wrong_length(n, rng, t, caught, client, gateway):
    out = []
    for i in range(n):
        pkt = bytearray(caught[i % len(caught)])
        real = len(pkt) - HDR_BYTES
        k = i % 4
        if k == 0:    # says more than there is
            struct.pack_into("<H", pkt, 2, real + 1 + rng.randint(0, 64))
        elif k == 1:  # says less
            struct.pack_into("<H", pkt, 2, rng.randint(0, real - 1))
        elif k == 2:  # the datagram cut, the length field kept
            pkt = pkt[:rng.randint(HDR_BYTES, len(pkt) - 1)]
        else:         # sealed, consistent length, but no room for a tag
            pkt = pkt[:HDR_BYTES + rng.randint(0, TAG_BYTES - 1)]
            struct.pack_into("<H", pkt, 2, len(pkt) - HDR_BYTES)
        out.append(("wrong_length", bytes(pkt)))
    for i in range(max(1, n // 20)):  # beyond the LAN's MTU: the kernel fragments them
        size = rng.randint(1500, 8900)
        out.append(("oversized", sealed(t, rng, t.pn32 + 5000 + i, size - HDR_BYTES - TAG_BYTES)))
    return out


def case_bad_tag(n, rng, t, caught, client, gateway):
    return [("bad_tag", sealed(t, rng, t.pn32 + 5000 + i, rng.randint(16, 1200)))
            for i in range(n)]


def case_replay(n, rng, t, caught, client, gateway):
    return [("replay", caught[i % len(caught)]) for i in range(n)]


def case_forged_inc(n, rng, t, caught, client, gateway):
    return [("forged_inc", sealed(t, rng, rng.getrandbits(32), rng.randint(16, 1200),
                                  src_inc=t.src_inc + 1 + i)) for i in range(n)]


def case_far_ahead(n, rng, t, caught, client, gateway):
    out = [("far_ahead", sealed(t, rng, t.pn32 + 10**9 + i, 64)) for i in range(n)]
    out += [("far_behind", sealed(t, rng, t.pn32 - 100000 - i, 64)) for i in range(n // 4)]
    return out


def case_init_flood(n, rng, t, caught, client, gateway):
    """Handshake INITs claiming the client: a random new incarnation and counter each, the
    epoch's side bit right (the client initiates: 1 when its id is below the gateway's), so
    each reaches the INIT rate limit and, within it, the Noise message's check."""
    top, side = 2**64 - 1, 1 if client < gateway else 0
    return [("init", header(PKT_HANDSHAKE, HS_INIT_BYTES, t.lane, t.src_gw, HS_INIT,
                            rng.randint(t.src_inc + 1, top), t.dst_inc,
                            crc=(rng.randint(1, 2**30) << 1) | side)
             + rng.randbytes(HS_INIT_BYTES)) for _ in range(n)]


def case_resume_flood(n, rng, t, caught, client, gateway):
    return [("resume", sealed(t, rng, t.pn32 + 5000 + i, 32)) for i in range(n)]


def case_close(n, rng, t, caught, client, gateway):
    out = [("close_sealed", sealed(t, rng, t.pn32 + 5000 + i, 8)) for i in range(n)]
    out += [("close_plaintext", plaintext(t, t.pn32 + 5000 + n + i, f_close()))
            for i in range(n // 2)]
    return out


def case_plaintext(n, rng, t, caught, client, gateway):
    out = []
    stream = (7 << 32) | 1
    for i in range(n):
        pn, k = t.pn32 + 5000 + i, i % 5
        if k == 0:
            p = plaintext(t, pn, f_ping())
        elif k == 1:  # a claimed restart
            p = plaintext(t, pn, f_hello(), src_inc=t.src_inc + 1 + i)
        elif k == 2:
            p = plaintext(t, pn, f_resume_request(stream + i))
        elif k == 3:
            p = plaintext(t, pn, f_applied(stream, 1 + i))
        else:
            p = plaintext(t, pn, f_data(stream, 1 + i, rng.randbytes(64)))
        out.append(("plaintext", p))
    return out


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def send_all(pkts, dst, pps, listen_s):
    """Sends every datagram from one UDP socket of our own, at most pps a second; the count sent
    per kind, the send errors (a full socket buffer: ENOBUFS), the datagrams the gateway sent
    back to that socket within listen_s after the last (it must send none: only a packet the
    core opened may teach it a client's port) and the seconds the sending took."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent, errors, replies, t0 = {}, 0, 0, time.monotonic()
    try:
        for i, (kind, pkt) in enumerate(pkts):  # bounded: len(pkts)
            due = t0 + i / pps
            now = time.monotonic()
            if now < due:
                time.sleep(due - now)  # pacing, not waiting for anything
            try:
                s.sendto(pkt, dst)
                sent[kind] = sent.get(kind, 0) + 1
            except OSError:
                errors += 1
        send_s = time.monotonic() - t0
        s.settimeout(0.05)
        deadline = time.monotonic() + listen_s
        while time.monotonic() < deadline:  # bounded by listen_s
            try:
                s.recv(65535)
                replies += 1
            except socket.timeout:
                pass
            except OSError:  # an ICMP error queued on the socket
                pass
    finally:
        s.close()
    return sent, errors, replies, send_s


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--case", required=True, choices=sorted(CASES))
    ap.add_argument("--count", type=int, default=1000, help="packets of the case's main kind")
    ap.add_argument("--iface", required=True, help="the LAN namespace's side of the gateway's tap")
    ap.add_argument("--src", default="10.1.0.1", help="the client's address (ours too)")
    ap.add_argument("--dst", default="10.1.0.2:7000", help="the gateway's LAN address:port")
    ap.add_argument("--client", type=int, default=10, help="the client id to claim")
    ap.add_argument("--gateway", type=int, default=1, help="the gateway's id (init_flood)")
    ap.add_argument("--capture", type=int, default=64, help="client packets to capture")
    ap.add_argument("--capture-s", type=float, default=5.0)
    ap.add_argument("--pps", type=float, default=20000.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--listen-s", type=float, default=0.3,
                    help="how long to count what the gateway sends back to our port")
    a = ap.parse_args()
    if not 1 <= a.count <= 100000:
        ap.error("--count: 1 .. 100000")
    host, port = a.dst.rsplit(":", 1)
    rng = random.Random(a.seed)
    t0 = time.monotonic()
    caught = capture(a.iface, a.src, host, int(port), a.client, a.capture, a.capture_s)
    t = template(caught)
    if t is None:
        print(json.dumps({"case": a.case, "captured": len(caught),
                          "error": "no packet of the client past its handshake"}), flush=True)
        return 3
    pkts = CASES[a.case](a.count, rng, t, caught, a.client, a.gateway)
    t_send = time.monotonic()
    sent, errors, replies, send_s = send_all(pkts, (host, int(port)), a.pps, a.listen_s)
    print(json.dumps({"case": a.case, "captured": len(caught), "template": t.as_dict(),
                      "sent": sent, "send_errors": errors, "replies": replies,
                      "capture_s": round(t_send - t0, 3),
                      "send_s": round(send_s, 3)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
