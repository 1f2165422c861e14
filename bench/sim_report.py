#!/usr/bin/env python3
"""Markdown tables (and the attack plot's data) from bench/sim.sh's result folders.

    bench/sim_report.py [RESULTS_DIR]      (default build/sim-results)

Prints the scale, churn and attack tables of docs/results/sim.md to stdout; writes
RESULTS_DIR/attacks.dat and RESULTS_DIR/attacks.gp and, if gnuplot is installed, attacks.png
(success against the adversaries' share, one line per attack and defence)."""
import json
import math
import os
import shutil
import subprocess
import sys

RTT_MEDIAN_MS = 100  # the scenarios' network.rtt_median_ms: latency in round trips
root = sys.argv[1] if len(sys.argv) > 1 else "build/sim-results"


def load(path):
    try:
        with open(os.path.join(path, "summary.json")) as f:
            s = json.load(f)
        with open(os.path.join(path, "run.json")) as f:
            r = json.load(f)
        return s, r
    except FileNotFoundError:
        return None, None


def pct(x):
    return f"{100 * x:.1f} %"


def scale():
    print("| N | success | exact k | hops p50 / p99 / mean | log2 N | messages mean / p99 | latency p50 / p90 / p99 (ms) | p50 in RTTs "
          "| table entries | table bytes/node | RSS bytes/node | events | events/s | wall (build + run) | peak RSS |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n in ("1e3", "1e4", "1e5", "1e6"):
        s, r = load(os.path.join(root, "scale", n))
        if not s:
            continue
        print(f"| {s['nodes']:,} | {pct(s['success_rate'])} | {pct(s['exact_k_rate'])} "
              f"| {s['hops_p50']:.0f} / {s['hops_p99']:.0f} / {s['hops_mean']:.2f} | {s['log2_n']:.1f} "
              f"| {s['messages_per_lookup']:.1f} / {s['messages_p99']:.0f} "
              f"| {s['latency_ms_p50']:.0f} / {s['latency_ms_p90']:.0f} / {s['latency_ms_p99']:.0f} "
              f"| {s['latency_ms_p50'] / RTT_MEDIAN_MS:.1f} "
              f"| {s['table_entries_mean']:.0f} | {s['table_bytes_per_node']:,.0f} | {r['peak_rss_bytes_per_node']:,.0f} "
              f"| {s['events']:,} | {r['events_per_second'] / 1e6:.2f} M "
              f"| {r['wall_seconds']:.0f} s ({r['build_seconds']:.0f} + {r['run_seconds']:.0f}) "
              f"| {r['peak_rss_bytes'] / 2**30:.2f} GiB |")


def churn():
    print("| median session | success | exact k | latency p50 / p90 / p99 (ms) | messages | timeouts | bandwidth B/s/node "
          "| table live | leaves / returns | wall |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for m in ("1h", "10min", "1min"):
        s, r = load(os.path.join(root, "churn", m))
        if not s:
            continue
        print(f"| {m} | {pct(s['success_rate'])} | {pct(s['exact_k_rate'])} "
              f"| {s['latency_ms_p50']:.0f} / {s['latency_ms_p90']:.0f} / {s['latency_ms_p99']:.0f} "
              f"| {s['messages_per_lookup']:.1f} | {s['timeouts_per_lookup']:.1f} "
              f"| {s['bandwidth_bytes_per_node_s']:.0f} | {pct(s['table_live_fraction'])} "
              f"| {s['leaves']:,} / {s['returns']:,} | {r['wall_seconds']:.0f} s |")


def attacks():
    base = os.path.join(root, "attacks")
    if not os.path.isdir(base):
        return
    fractions = ["0.05", "0.1", "0.2", "0.3"]
    series = []
    for kind in sorted(os.listdir(base)):
        kdir = os.path.join(base, kind)
        if not os.path.isdir(kdir):
            continue
        defences = sorted({d for f in fractions if os.path.isdir(os.path.join(kdir, f))
                           for d in os.listdir(os.path.join(kdir, f))})
        print(f"\n**{kind}** (success; messages per lookup; adversaries' share of honest tables)\n")
        print("| adversaries | " + " | ".join(defences) + " |")
        print("|---|" + "---|" * len(defences))
        for f in fractions:
            cells = []
            for d in defences:
                s, _ = load(os.path.join(kdir, f, d))
                cells.append("" if not s else f"{pct(s['success_rate'])}; {s['messages_per_lookup']:.0f}; "
                             f"{pct(s['table_adversary_fraction'])}")
            print(f"| {100 * float(f):.0f} % | " + " | ".join(cells) + " |")
        for d in defences:
            pts = []
            for f in fractions:
                s, _ = load(os.path.join(kdir, f, d))
                if s:
                    pts.append((float(f), s["success_rate"]))
            if pts:
                series.append((f"{kind} {d}", pts))
    with open(os.path.join(root, "attacks.dat"), "w") as out:
        for name, pts in series:
            out.write(f"# {name}\n")
            for f, v in pts:
                out.write(f"{100 * f:g} {100 * v:.2f}\n")
            out.write("\n\n")
    plots = ", ".join(f"'attacks.dat' index {i} using 1:2 with linespoints title '{name}'"
                      for i, (name, _) in enumerate(series))
    with open(os.path.join(root, "attacks.gp"), "w") as out:
        out.write("set terminal pngcairo size 1100,700 font 'sans,10'\nset output 'attacks.png'\n"
                  "set xlabel 'adversaries (% of nodes)'\nset ylabel 'lookups that found the closest honest node (%)'\n"
                  "set key outside right\nset grid\nset yrange [0:105]\nset xrange [0:35]\n"
                  "set label 'S/Kademlia: 99 % at 20 %, d = 8' at 20,99 point pt 7\n"
                  f"plot {plots}\n")
    if series and shutil.which("gnuplot"):
        subprocess.run(["gnuplot", "attacks.gp"], cwd=root, check=False)


print("### Scale\n")
scale()
print("\n### Churn\n")
churn()
print("\n### Attacks")
attacks()
