#!/usr/bin/env python3
"""Interleaved A/B runs of two plexus-bench binaries (before and after a change).

Runs `A --benchmark_filter=REGEX --benchmark_format=json`, then the same for B,
ROUNDS times in turn, so that the machine's drift over minutes hits both sides
alike, and prints every round and the median per side for items/s and for the
counters named with --counter. Each invocation's figure is the median over the
benchmark's own repetitions.

Usage: bench/ab.py --a OLD/plexus-bench --b NEW/plexus-bench --filter REGEX
                   [--rounds 3] [--counter work_p99_ms ...]
"""

import argparse
import json
import statistics
import subprocess
import sys


def run(path, regex):
    """Returns {benchmark name: {field: value}} for one invocation: the median
    over the benchmark's repetitions of each numeric field."""
    cmd = [path, "--benchmark_filter=" + regex, "--benchmark_format=json"]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise RuntimeError("%s exited with status %d" % (path, proc.returncode))
    repetitions = {}
    for b in json.loads(proc.stdout)["benchmarks"]:
        if b.get("run_type") == "aggregate":
            continue
        repetitions.setdefault(b["name"], []).append(b)
    out = {}
    for name, reps in repetitions.items():
        fields = {k for r in reps for k, v in r.items() if isinstance(v, (int, float))}
        out[name] = {k: statistics.median([r[k] for r in reps if k in r]) for k in fields}
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--a", required=True, help="plexus-bench before the change")
    parser.add_argument("--b", required=True, help="plexus-bench after the change")
    parser.add_argument("--filter", required=True, help="--benchmark_filter regex")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--counter", action="append", default=[],
                        help="a counter to report besides items_per_second")
    args = parser.parse_args()

    fields = ["items_per_second"] + args.counter
    rounds = {"A": [], "B": []}
    for i in range(args.rounds):
        for side, path in (("A", args.a), ("B", args.b)):
            rounds[side].append(run(path, args.filter))
            print("round %d %s done" % (i + 1, side), file=sys.stderr)

    names = sorted({n for side in rounds.values() for r in side for n in r})
    for name in names:
        for field in fields:
            values = {s: [r[name][field] for r in rounds[s] if name in r and field in r[name]]
                      for s in rounds}
            if not values["A"] and not values["B"]:
                continue
            print("%s %s" % (name, field))
            for side in ("A", "B"):
                vals = values[side]
                shown = ", ".join("{:,.1f}".format(v) for v in vals)
                median = statistics.median(vals) if vals else float("nan")
                print("  %s: %s  (median {:,.1f})".format(median) % (side, shown))
            if values["A"] and values["B"]:
                ratio = statistics.median(values["B"]) / statistics.median(values["A"])
                print("  B/A median: %.3f" % ratio)
    return 0


if __name__ == "__main__":
    sys.exit(main())
