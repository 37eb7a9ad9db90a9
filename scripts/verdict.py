#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Merge a generator's and a consumer's JSON verdicts into one (make demo, integration tests).

    scripts/verdict.py [--floor N] A.json B.json

A.json is region A's report (role "generator": records_published, records_delivered, lost),
B.json region B's (role "consumer": records_delivered, duplicated, reordered, gaps,
corrupt_accepted, records_checked, incarnations, goodput_gbps, records_per_s). Prints one
JSON line, then a short table. The run passes only if lost, duplicated, reordered, gaps and
corrupt_accepted are all 0, the consumer's records_delivered equals the generator's
records_published, and records_published > 0 (and >= N with --floor N).

Exit status: 0 pass, 1 fail, 2 an input is missing or is not such a verdict (says which).
tests/integration/pair.py imports merge() and summary() so both judge the same way.
"""
import argparse
import json
import sys

GENERATOR_KEYS = ("records_published", "records_delivered", "lost")
CONSUMER_KEYS = ("records_delivered", "duplicated", "reordered", "gaps", "corrupt_accepted",
                 "records_checked", "incarnations", "goodput_gbps", "records_per_s")
ANOMALIES = ("lost", "duplicated", "reordered", "gaps", "corrupt_accepted")


class BadInput(Exception):
    """An input that is missing, unreadable or not the verdict it should be."""


def parse(text, what, role):
    """The verdict object of role in text (its last non-empty line); BadInput says what is wrong."""
    lines = [l for l in text.splitlines() if l.strip()]
    if not lines:
        raise BadInput(f"{what}: empty")
    try:
        v = json.loads(lines[-1])
    except json.JSONDecodeError as e:
        raise BadInput(f"{what}: bad JSON: {e}") from None
    if not isinstance(v, dict):
        raise BadInput(f"{what}: not a JSON object")
    if v.get("role") != role:
        raise BadInput(f"{what}: role is {v.get('role')!r}, expected {role!r}")
    keys = GENERATOR_KEYS if role == "generator" else CONSUMER_KEYS
    missing = [k for k in keys if not isinstance(v.get(k), (int, float))]
    if missing:
        raise BadInput(f"{what}: missing or non-numeric: {', '.join(missing)}")
    return v


def load(path, role):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise BadInput(f"{path}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise BadInput(f"{path}: not UTF-8 text") from None
    return parse(text, path, role)


def merge(gen, con, floor=0):
    """One verdict from the generator's and the consumer's; "failures" says why it fails."""
    m = {
        "verdict": "fail",
        "records_published": gen["records_published"],
        "records_delivered": con["records_delivered"],
        "lost": gen["lost"],
    }
    for k in ("duplicated", "reordered", "gaps", "corrupt_accepted", "goodput_gbps",
              "records_per_s", "records_checked", "incarnations"):
        m[k] = con[k]
    m["generator_applied"] = gen["records_delivered"]
    m["generator_records_per_s"] = gen.get("records_per_s")
    m["seconds"] = con.get("seconds")
    if floor:
        m["floor"] = floor
    why = [f"{k}={m[k]}" for k in ANOMALIES if m[k] != 0]
    if m["records_delivered"] != m["records_published"]:
        why.append(f"records_delivered {m['records_delivered']} != records_published "
                   f"{m['records_published']}")
    if m["records_published"] <= 0:
        why.append("nothing published: the run checked nothing")
    elif m["records_published"] < floor:
        why.append(f"records_published {m['records_published']} < floor {floor}")
    m["failures"] = why
    if not why:
        m["verdict"] = "pass"
    return m


def summary(m):
    """A few aligned lines for people."""
    rows = [
        ("verdict", m["verdict"].upper()),
        ("records published / delivered",
         f"{m['records_published']} / {m['records_delivered']}"
         + (f"  (floor {m['floor']})" if m.get("floor") else "")),
        ("lost / duplicated / reordered",
         f"{m['lost']} / {m['duplicated']} / {m['reordered']}"),
        ("gaps / corrupt accepted", f"{m['gaps']} / {m['corrupt_accepted']}"),
        ("records checked (last incarnation)",
         f"{m['records_checked']}  (consumer incarnations {m['incarnations']})"),
        ("goodput", f"{m['goodput_gbps']:.3f} Gbit/s, {m['records_per_s']:.0f} records/s"),
    ]
    if m["failures"]:
        rows.append(("why", "; ".join(m["failures"])))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k:<{width}}  {v}" for k, v in rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Merge the generator's and the consumer's verdicts.")
    ap.add_argument("--floor", type=int, default=0,
                    help="fail unless at least N records were published")
    ap.add_argument("generator", metavar="A.json")
    ap.add_argument("consumer", metavar="B.json")
    args = ap.parse_args(argv)
    bad = []
    gen = con = None
    for path, role in ((args.generator, "generator"), (args.consumer, "consumer")):
        try:
            v = load(path, role)
        except BadInput as e:
            bad.append(str(e))
            continue
        if role == "generator":
            gen = v
        else:
            con = v
    if bad:
        for b in bad:
            print(f"verdict.py: {b}", file=sys.stderr)
        return 2
    m = merge(gen, con, args.floor)
    print(json.dumps(m, separators=(",", ":")))
    print(summary(m))
    return 0 if m["verdict"] == "pass" else 1


if __name__ == "__main__":
    sys.exit(main())
