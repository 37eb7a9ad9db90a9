#!/usr/bin/env python3
"""Prints Google Benchmark JSON files (perf/results/micro-*.json) as one Markdown table.

Usage: micro_table.py FILE.json...

One row per benchmark: the median of its repetitions when the run has aggregates
(--benchmark_repetitions), else its single run. Columns:
  op     what one operation is (the benchmark's label: record, packet, buffer...)
  ns/op  1e9 / items_per_second, i.e. CPU time per item (the time per iteration
         when a benchmark reports no items)
  ops/s  items_per_second
  GB/s   bytes_per_second / 1e9, for benchmarks that report bytes
  cv     spread of ops/s over the repetitions (coefficient of variation)
A failed benchmark shows its error. Exits 1 when a file is missing or not JSON,
or a benchmark failed.
"""
import json
import sys

NS_PER_UNIT = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def si(x):
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= div:
            return f"{x / div:.3g}{suffix}"
    return f"{x:.3g}"


def num(x):
    """3 significant digits below 100, whole numbers above: 0.558, 13.2, 1380."""
    return f"{x:.3g}" if x < 100 else f"{x:.0f}"


def ns_per_op(b):
    if b.get("items_per_second"):
        return 1e9 / b["items_per_second"]
    return b["cpu_time"] * NS_PER_UNIT[b.get("time_unit", "ns")]


def rows(doc):
    """(run_name, entry, cv or None) per benchmark, in file order."""
    order, single, median, cv = [], {}, {}, {}
    for b in doc.get("benchmarks", []):
        name = b.get("run_name", b["name"])
        if name not in order:
            order.append(name)
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                median[name] = b
            elif b.get("aggregate_name") == "cv":
                cv[name] = b.get("items_per_second", b.get("cpu_time"))
        elif name not in single or b.get("error_occurred"):
            single[name] = b  # the first repetition, or the one that failed
    for name in order:
        b = single.get(name)
        if b is None or (name in median and not b.get("error_occurred")):
            b = median[name]
        yield name, b, cv.get(name)


def main(paths):
    failed = False
    ctx = None
    lines = ["| benchmark | op | ns/op | ops/s | GB/s | cv |", "|---|---|--:|--:|--:|--:|"]
    for path in paths:
        try:
            with open(path) as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            print(f"micro_table: {path}: {e}", file=sys.stderr)
            failed = True
            continue
        ctx = ctx or doc.get("context", {})
        for name, b, cv in rows(doc):
            if b.get("error_occurred"):
                lines.append(f"| {name} | ERROR: {b.get('error_message', '?')} | | | | |")
                failed = True
                continue
            gbs = f"{b['bytes_per_second'] / 1e9:.2f}" if b.get("bytes_per_second") else ""
            ops = si(b["items_per_second"]) if b.get("items_per_second") else ""
            spread = f"{cv * 100:.1f} %" if cv is not None else ""
            lines.append(f"| {name} | {b.get('label', '')} | {num(ns_per_op(b))} | {ops} | {gbs} "
                         f"| {spread} |")
    if ctx:
        print(f"{ctx.get('date', '?')}, host {ctx.get('host_name', '?')}: "
              f"{ctx.get('num_cpus', '?')} CPUs at {ctx.get('mhz_per_cpu', '?')} MHz, "
              f"load {', '.join(f'{x:.2f}' for x in ctx.get('load_avg', []))}; "
              f"Google Benchmark library built as {ctx.get('library_build_type', '?')}\n")
    print("\n".join(lines))
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
