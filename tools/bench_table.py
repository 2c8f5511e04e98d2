#!/usr/bin/env python3
"""Turn a Google Benchmark JSON from bench_gemm into the Markdown table in docs/gemm.md.

usage: tools/bench_table.py results.json [peak_gflops_1t peak_gflops_2t]
Rows: shape/threads; columns: median GFLOP/s of each implementation; last columns: pact's
best (plain or packed / fixed) and its ratio to the best peer measured in the same run.
"""
import json
import sys
from collections import defaultdict


def main():
    data = json.load(open(sys.argv[1]))
    peaks = [float(x) for x in sys.argv[2:4]] if len(sys.argv) >= 4 else None
    table = defaultdict(dict)
    impls = []
    for b in data["benchmarks"]:
        if b.get("aggregate_name", "median") != "median" or "error_occurred" in b:
            continue
        name = b["run_name"] if "run_name" in b else b["name"]
        parts = name.split("/")  # gemm/<impl>/<dtype>/<shape>/threads:<T>/real_time
        impl, shape, threads = parts[1], parts[3], parts[4].split(":")[1]
        table[(shape, int(threads))][impl] = b["GFLOPS"]
        if impl not in impls:
            impls.append(impl)
    ours = [i for i in impls if i.startswith("pact")]
    peers = [i for i in impls if not i.startswith("pact")]
    cols = ours + peers
    print("| shape | threads | " + " | ".join(cols) + " | best pact / best peer |")
    print("|---|---:|" + "---:|" * len(cols) + "---:|")

    def key(item):
        (shape, threads) = item
        m, n, k = (int(x) for x in shape.split("x"))
        return (threads, m != n or n != k, m * n * k)

    for (shape, threads) in sorted(table, key=key):
        row = table[(shape, threads)]
        cells = []
        for c in cols:
            v = row.get(c)
            cells.append(f"{v:.1f}" if v is not None else "—")
        best_pact = max((row[c] for c in ours if c in row), default=0)
        best_peer_name = max((c for c in peers if c in row), key=lambda c: row[c], default=None)
        ratio = f"{best_pact / row[best_peer_name]:.2f}x ({best_peer_name})" if best_peer_name else "—"
        if peaks:
            ratio += f", {100 * best_pact / peaks[threads - 1]:.0f}% of peak"
        print(f"| {shape} | {threads} | " + " | ".join(cells) + f" | {ratio} |")


if __name__ == "__main__":
    main()
