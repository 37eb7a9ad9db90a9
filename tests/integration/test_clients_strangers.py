#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration: a client not in the profile, and garbage from a client's address.

While the chain of test_clients_clean carries records (8 streams, 20k records/s):
  1. a client with id 11, which gateway A's profile does not list, starts a producer from
     A's LAN: every packet of it is dropped and counted (rx_peer_mismatch), and it says
     "no gateway answered" and exits 2 within its connect timeout;
  2. from the real client's address, 2000 datagrams of random bytes and 2000 that look like
     RGP from client 10 (a valid header, the wrong tag) go to A's port: all dropped and
     counted (rx_peer_mismatch, wire_BAD_CRC), none learned as the client's address.
Passes when the counters show them and the merged verdict of the real flow passes.
"""
import os
import struct
import sys
import time

sys.dont_write_bytecode = True
import relay  # noqa: E402

LOAD = ["--streams", 8, "--namespaces", 2, "--record-bytes", 1024]
GARBAGE = 2000

# Paced at PPS datagrams a second, as attacker.py paces: unpaced, a burst of 4000 overflows the
# kernel's backlog on the veth or the tap's queue while the two CPUs are busy with the real
# flow, and a datagram the kernel dropped never reaches the gateway to be counted.
PPS = 20000
SENDER = r"""
import os, socket, struct, sys, time
dst = (sys.argv[1], int(sys.argv[2])); n = int(sys.argv[3]); pps = int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
t0 = time.monotonic()
for i in range(n):
    wait = t0 + 2 * i / pps - time.monotonic()
    if wait > 0:
        time.sleep(wait)  # pacing, not waiting for anything
    s.sendto(os.urandom(64 + i % 200), dst)                      # random bytes
    hdr = struct.pack("<BBHHHIIQQ", 1, 1, 8, 0, 10, i, 0xdeadbeef, 1 << 60, 0)
    s.sendto(hdr + b"\x05\x00\x00\x00" * 2, dst)                 # RGP-looking, wrong tag
print("sent", 2 * n)
"""


def main():
    args = relay.parse_args(__doc__)
    with relay.Relay("clients_strangers", args, budget_s=100, load_args=LOAD) as r:
        r.start_gateways()
        r.ver.start()
        r.gen.start("--rate", 20000, "--duration", 60)
        r.wait_checked(0, 30)
        stranger = relay.Client(r, r.a, "generator")
        stranger.name, stranger.label = "stranger", "X"
        t0 = time.monotonic()
        stranger.start("--connect-timeout", 2, "--duration", 5, client_id=11)
        rc = stranger.wait(15)
        r.check(rc == 2, f"the stranger exited {rc}, want 2 (no gateway answers)")
        r.measure["stranger_exit_s"] = round(time.monotonic() - t0, 3)
        out = relay.sh("ip", "netns", "exec", r.a.netns, sys.executable, "-c", SENDER,
                       r.a.ip, "7000", str(GARBAGE), str(PPS))
        r.check(out.strip() == f"sent {2 * GARBAGE}", f"the garbage sender said {out!r}")
        before = r.checked()
        r.wait_checked(before, 20)  # the real flow goes on after the garbage
        r.gen.signal(relay.signal.SIGUSR1)
        m = r.finish(gen_timeout=60, floor=20000)
        r.a.stop()
        c = r.a.counters()
        r.check(c.get("rx_peer_mismatch", 0) >= GARBAGE,
                f"rx_peer_mismatch {c.get('rx_peer_mismatch', 0)} < {GARBAGE} (stranger + random)")
        r.check(c.get("wire_BAD_CRC", 0) >= GARBAGE,
                f"wire_BAD_CRC {c.get('wire_BAD_CRC', 0)} < {GARBAGE} (RGP-looking garbage)")
        r.measure.update(records=m["records_published"],
                         rx_peer_mismatch=c.get("rx_peer_mismatch", 0),
                         wire_bad_crc=c.get("wire_BAD_CRC", 0))


if __name__ == "__main__":
    main()
