#!/usr/bin/env python3
"""Draws the tour's results as a roofline chart.

    python3 tools/roofline.py build/release/pact_tour.json [out.png]

x: arithmetic intensity (flops per byte of compulsory memory traffic, from the tour's
per-call `flops` and `bytes`); y: achieved GFLOP/s. The roofs are the machine's measured
ceilings from the same run: min(FMA peak, DRAM bandwidth x intensity), for 1 and 2 threads.
A kernel under the sloped part is bandwidth-bound, under the flat part compute-bound; its
distance to the roof is what is left to gain. Needs matplotlib (Debian: python3-matplotlib).
"""
import json
import sys


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    src = argv[1]
    dst = argv[2] if len(argv) > 2 else src.rsplit(".", 1)[0] + "_roofline.png"
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("roofline.py: matplotlib is missing (apt-get install python3-matplotlib); no chart written")
        return 1
    with open(src) as f:
        data = json.load(f)
    peaks, bws = data["fma_peak_gflops"], data["dram_read_gbps"]
    results = [r for r in data["results"] if r.get("bytes", 0) > 0 and r.get("flops", 0) > 0]

    fig, ax = plt.subplots(figsize=(10, 6.5))
    ai_min = min([0.1] + [r["flops"] / r["bytes"] for r in results]) / 2
    ai_max = max([200.0] + [r["flops"] / r["bytes"] for r in results]) * 2
    for t, style in ((0, "-"), (1, "--")):
        xs = [ai_min * (ai_max / ai_min) ** (i / 200) for i in range(201)]
        ys = [min(peaks[t], bws[t] * x) for x in xs]
        ax.plot(xs, ys, style, color="black", linewidth=1.2,
                label=f"roof, {t + 1} thread{'s' if t else ''}: {peaks[t]:.0f} GFLOP/s, {bws[t]:.1f} GB/s")

    # Integer kernels have a higher compute roof (e.g. 4x the f32 FMA peak with VNNI).
    for scale in sorted({r.get("ceiling_scale", 1) for r in results} - {1}):
        xs = [ai_min * (ai_max / ai_min) ** (i / 200) for i in range(201)]
        ax.plot(xs, [min(peaks[0] * scale, bws[0] * x) for x in xs], ":", color="grey", linewidth=1.2,
                label=f"int8 roof, 1 thread: {peaks[0] * scale:.0f} GOP/s ({scale:g}x f32)")
    kernels = sorted({r["kernel"] for r in results})
    markers = "o^sDvP*Xh<>"
    impls = sorted({r["impl"] for r in results}, key=lambda s: (not s.startswith("pact"), s))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for r in results:
        ai = r["flops"] / r["bytes"]
        k = kernels.index(r["kernel"])
        i = impls.index(r["impl"])
        ax.scatter(ai, r["gflops"], marker=markers[k % len(markers)], color=colors[i % len(colors)],
                   s=70 if r["impl"].startswith("pact") else 35, edgecolors="black" if r["threads"] > 1 else "none",
                   zorder=3)
        if r["impl"].startswith("pact"):
            ax.annotate(f'{r["kernel"]} {r["shape"]} t{r["threads"]}', (ai, r["gflops"]), fontsize=7,
                        xytext=(4, 3), textcoords="offset points")
    # Legend entries: one per kernel (marker) and per implementation (colour).
    for k, name in enumerate(kernels):
        ax.scatter([], [], marker=markers[k % len(markers)], color="grey", label=f"kernel: {name}")
    for i, name in enumerate(impls):
        ax.scatter([], [], marker="o", color=colors[i % len(colors)], label=f"impl: {name}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (flop per byte of compulsory traffic)")
    ax.set_ylabel("GFLOP/s (int8 kernels: GOP/s)")
    ax.set_title(f'pact roofline on {data.get("cpu", "?")} ({data.get("arch", "?")})', fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(dst, dpi=120)
    print(f"roofline chart written to {dst}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
