#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration: real client processes through two real gateways, a clean run.

A producer client (repgate-load, librepgate over kernel UDP) in region A's LAN namespace
publishes 16 streams in 4 namespaces of 1 KiB records at 20k records/s for 6 s to gateway A
(net_tap LAN); A relays them over net_memif through the demo's emulated WAN (30 ms one way,
0.5 % loss) to gateway B, which delivers them to a verifying consumer client in region B's
LAN namespace. Passes when the merged verdict passes (nothing lost, duplicated, reordered,
gapped or corrupt; everything published applied) with at least FLOOR records.
"""
import sys

sys.dont_write_bytecode = True
import relay  # noqa: E402

FLOOR = 80000
LOAD = ["--streams", 16, "--namespaces", 4, "--record-bytes", 1024]


def main():
    args = relay.parse_args(__doc__)
    with relay.Relay("clients_clean", args, budget_s=100, load_args=LOAD) as r:
        r.start_gateways()
        r.ver.start()
        r.gen.start("--rate", 20000, "--duration", 6)
        t_flow = r.wait_checked(0, 30)
        r.measure["first_record_s"] = round(t_flow - r.t0, 3)
        m = r.finish(gen_timeout=80, floor=FLOOR)
        r.check(m["incarnations"] == 1, f"verifier incarnations {m['incarnations']}")
        a, b = r.a.ctl("relay"), r.b.ctl("relay")
        r.check(a["ctr_records"] >= FLOOR and b["ctr_records"] >= FLOOR,
                f"relayed records A {a['ctr_records']} B {b['ctr_records']}")
        r.check(a["ctr_rewinds"] == 0 and b["ctr_rewinds"] == 0, "no rewind in a clean run")
        r.measure.update(records=m["records_published"], relay_a=a["ctr_records"],
                         relay_b=b["ctr_records"], goodput_gbps=m["goodput_gbps"])


if __name__ == "__main__":
    main()
