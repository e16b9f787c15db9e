#!/usr/bin/env python3
"""Compare Plexus (plexus-bench, Google Benchmark) against the Erlang/OTP
reference benchmarks in bench/erlang/.

Usage:
    bench/compare.py [--plexus-bench PATH] [--filter REGEX] [--erlang-only]

Runs `plexus-bench --benchmark_filter=REGEX --benchmark_format=json` and
`bench/erlang/run.sh REGEX`, then prints items/s for both, the ratio
Plexus/Erlang, the target ratio and whether it is met, plus the measured
bytes_per_process.

Aggregation: the Erlang side reports the best (highest items/s) of 3 runs
and the largest bytes_per_process of those runs. For Plexus the same rule is
applied to the entries Google Benchmark reports (best items/s, largest
bytes_per_process).

BM_NodeDownStorm has no ratio target: both sides' storm times (fastest run)
and worst ping latencies during the storm and before it (largest over the
runs) are printed below the table. So has BM_ZenNodeDownCalm (Plexus's zen
monitor against Erlang's plain monitors): the time until every Down arrived
(fastest run) and the guild's work latency, p99 and worst (largest over the
runs); its target is a p99 under 10 ms for Plexus. For the other remote benchmarks, the
bytes node a wrote per item and the items per write call (Plexus, best run)
are printed too. BM_TcpLoopbackPingPong (Plexus side only) is the bare
loopback TCP round trip of two blocking threads; BM_RemotePingPong on both
sides, and its target, are printed as fractions of it.
"""

import argparse
import json
import os
import subprocess
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ERLANG_RUNNER = os.path.join(REPO_ROOT, "bench", "erlang", "run.sh")
DEFAULT_PLEXUS_BENCH = os.path.join("build", "release", "bench", "plexus-bench")

# Targets, keyed by benchmark name (the part before the first '/').
#   min_ratio:                   Plexus items/s must be >= min_ratio * Erlang's
#   max_plexus_bytes_per_process: optional memory ceiling for Plexus
# A target without min_ratio is reported only.
TARGETS = {
    "BM_Spawn": {"min_ratio": 5.0, "max_plexus_bytes_per_process": 512},
    "BM_PingPong": {"min_ratio": 2.0},
    "BM_FanIn": {"min_ratio": 3.0},
    "BM_MonitorDown": {"min_ratio": 3.0},
    "BM_LinkExit": {"min_ratio": 3.0},
    "BM_RemoteSend": {"min_ratio": 3.0},
    "BM_RemotePingPong": {"min_ratio": 2.0},
    "BM_RemoteSpawn": {"min_ratio": 2.0},
    "BM_TcpLoopbackPingPong": {},
    "BM_NodeDownStorm": {},
    "BM_ZenNodeDownCalm": {},
}

# Extra per-run values and how runs are combined: "best" takes the value of
# the run with the highest items/s, "max" the largest over the runs.
EXTRAS = {
    "storm_ms": "best",
    "worst_ping_us": "max",
    "quiet_ping_us": "max",
    "bytes_per_item": "best",
    "items_per_write": "best",
    "all_downs_s": "best",
    "work_p99_ms": "max",
    "work_max_ms": "max",
}


def base_name(entry):
    """Benchmark name without '/...' suffixes or aggregate suffixes."""
    name = entry.get("run_name") or entry.get("name", "")
    name = name.split("/", 1)[0]
    agg = entry.get("aggregate_name")
    if agg and name.endswith("_" + agg):
        name = name[: -len(agg) - 1]
    return name


def run_plexus(path, regex):
    """Returns {name: {"items_per_second": x, "bytes_per_process": y|None}}."""
    cmd = [path, "--benchmark_filter=" + regex, "--benchmark_format=json"]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise RuntimeError("%s exited with status %d" % (path, proc.returncode))
    data = json.loads(proc.stdout)

    groups = {}
    for entry in data.get("benchmarks", []):
        groups.setdefault(base_name(entry), []).append(entry)

    results = {}
    for name, entries in groups.items():
        runs = [e for e in entries if e.get("run_type", "iteration") != "aggregate"]
        if not runs:
            # Only aggregates were reported: prefer max, then median, then mean.
            by_agg = {e.get("aggregate_name"): e for e in entries}
            pick = next((by_agg[a] for a in ("max", "median", "mean") if a in by_agg),
                        entries[0])
            runs = [pick]
        rates = [e["items_per_second"] for e in runs if "items_per_second" in e]
        mems = [e["bytes_per_process"] for e in runs if "bytes_per_process" in e]
        results[name] = {
            "items_per_second": max(rates) if rates else None,
            "bytes_per_process": max(mems) if mems else None,
        }
        rated = [e for e in runs if "items_per_second" in e]
        best = max(rated, key=lambda e: e["items_per_second"]) if rated else None
        for key, rule in EXTRAS.items():
            values = [e[key] for e in runs if key in e]
            if not values:
                continue
            if rule == "max":
                results[name][key] = max(values)
            elif best is not None and key in best:
                results[name][key] = best[key]
    return results


def run_erlang(regex):
    """Returns {name: {...}} from the JSON lines printed by run.sh."""
    proc = subprocess.run([ERLANG_RUNNER, regex], stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise RuntimeError("%s exited with status %d" % (ERLANG_RUNNER, proc.returncode))
    results = {}
    for line in proc.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            obj = json.loads(line)
            results[obj["name"]] = obj
    return results


def fmt_rate(x):
    return "-" if x is None else "{:,.0f}".format(x)


def fmt_bytes(x):
    return "-" if x is None else "{:,.1f}".format(x)


def evaluate(name, plexus, erlang):
    """Returns (ratio, target_text, verdict)."""
    target = TARGETS.get(name)
    p_rate = plexus.get("items_per_second") if plexus else None
    e_rate = erlang.get("items_per_second") if erlang else None
    ratio = p_rate / e_rate if p_rate and e_rate else None
    if target is None:
        return ratio, "-", "-"
    if "min_ratio" not in target:
        return ratio, "report only", "-"
    text = ">= {:g}x".format(target["min_ratio"])
    max_mem = target.get("max_plexus_bytes_per_process")
    if max_mem is not None:
        text += ", <= {} B/proc".format(max_mem)
    if ratio is None:
        return ratio, text, "n/a"
    ok = ratio >= target["min_ratio"]
    if max_mem is not None:
        mem = plexus.get("bytes_per_process")
        ok = ok and mem is not None and mem <= max_mem
    return ratio, text, "pass" if ok else "MISS"


def print_table(plexus, erlang):
    names = [n for n in TARGETS if n in plexus or n in erlang]
    names += sorted(n for n in set(plexus) | set(erlang) if n not in TARGETS)

    header = ["benchmark", "Plexus items/s", "Erlang items/s", "ratio", "target",
              "result", "Plexus B/proc", "Erlang B/proc"]
    rows = []
    misses = 0
    for name in names:
        p = plexus.get(name, {})
        e = erlang.get(name, {})
        ratio, target, verdict = evaluate(name, p, e)
        misses += verdict == "MISS"
        rows.append([
            name,
            fmt_rate(p.get("items_per_second")),
            fmt_rate(e.get("items_per_second")),
            "-" if ratio is None else "{:.2f}x".format(ratio),
            target,
            verdict,
            fmt_bytes(p.get("bytes_per_process")),
            fmt_bytes(e.get("bytes_per_process")),
        ])

    print_rows(header, rows, left=(0, 4, 5))
    print()
    print("ratio = Plexus items/s / Erlang items/s. Erlang: best of 3 runs "
          "(bytes_per_process: largest of 3); Plexus: best reported run "
          "(bytes_per_process: largest).")
    print_storm(plexus, erlang)
    print_calm(plexus, erlang)
    print_transport(plexus)
    print_floor(plexus, erlang)
    return misses


def print_rows(header, rows, left=(0,)):
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    def line(cells):
        return "  ".join(c.ljust(w) if i in left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths)))
    print(line(header))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


def fmt_num(x, digits=1):
    return "-" if x is None else "{:,.{}f}".format(x, digits)


def print_sides(plexus, erlang, name, title, labels, header, cells, footnote):
    """A table of `name` with a row per side that ran it; cells(result) gives
    the row's columns after the side's label."""
    rows = [[label] + cells(results[name])
            for label, results in zip(labels, (plexus, erlang)) if results.get(name)]
    if not rows:
        return
    print()
    print(title)
    print_rows(["side"] + header, rows)
    print(footnote)


def print_storm(plexus, erlang):
    """BM_NodeDownStorm: storm time and ping latency of both sides."""
    print_sides(
        plexus, erlang, "BM_NodeDownStorm", "BM_NodeDownStorm (report only):",
        ("Plexus", "Erlang"),
        ["storm ms", "Downs/s", "worst ping us (storm)", "worst ping us (before)"],
        lambda r: [fmt_num(r.get("storm_ms")), fmt_rate(r.get("items_per_second")),
                   fmt_num(r.get("worst_ping_us"), 0), fmt_num(r.get("quiet_ping_us"), 0)],
        "storm ms: from the kill of node b until node a has every Down, fastest run. "
        "Ping: latency of a local ping every 1 ms on node a (due time to pong), "
        "largest over the runs.")


def print_calm(plexus, erlang):
    """BM_ZenNodeDownCalm: the guild's work latency while the Downs arrive."""
    print_sides(
        plexus, erlang, "BM_ZenNodeDownCalm",
        "BM_ZenNodeDownCalm (target: Plexus work p99 < 10 ms):",
        ("Plexus (zen monitor)", "Erlang (plain monitors)"),
        ["all Downs s", "work p99 ms", "work max ms"],
        lambda r: [fmt_num(r.get("all_downs_s"), 2), fmt_num(r.get("work_p99_ms"), 2),
                   fmt_num(r.get("work_max_ms"), 2)],
        "all Downs s: from the kill of node b until the guild has every Down, fastest run "
        "(Plexus: at the configured 200,000 Downs/s). Work: latency of a request every 1 ms "
        "to the guild, largest over the runs.")


def print_transport(plexus):
    """Bytes and write calls of node a's side of the connection (Plexus)."""
    rows = []
    for name in TARGETS:
        r = plexus.get(name)
        if not r or r.get("bytes_per_item") is None:
            continue
        rows.append([name, fmt_num(r.get("bytes_per_item")), fmt_num(r.get("items_per_write"))])
    if not rows:
        return
    print()
    print("Plexus transport, node a's side (best run):")
    print_rows(["benchmark", "bytes/item", "items/write"], rows)


def print_floor(plexus, erlang):
    """BM_RemotePingPong against the bare loopback TCP round trip."""
    floor = plexus.get("BM_TcpLoopbackPingPong", {}).get("items_per_second")
    ours = plexus.get("BM_RemotePingPong", {}).get("items_per_second")
    theirs = erlang.get("BM_RemotePingPong", {}).get("items_per_second")
    if not floor:
        return
    print()
    print("Loopback TCP floor (BM_TcpLoopbackPingPong: two threads, blocking read/write, "
          "no runtime): {} round trips/s.".format(fmt_rate(floor)))
    if ours:
        print("  BM_RemotePingPong, Plexus: {} = {:.0%} of the floor.".format(
            fmt_rate(ours), ours / floor))
    if theirs:
        needed = TARGETS["BM_RemotePingPong"]["min_ratio"] * theirs
        print("  BM_RemotePingPong, Erlang: {} = {:.0%} of the floor; its target "
              "({:g}x Erlang) is {} = {:.0%} of the floor.".format(
                  fmt_rate(theirs), theirs / floor,
                  TARGETS["BM_RemotePingPong"]["min_ratio"], fmt_rate(needed), needed / floor))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--plexus-bench", default=DEFAULT_PLEXUS_BENCH,
                    help="path to plexus-bench (default: %(default)s)")
    ap.add_argument("--filter", default=".",
                    help="benchmark name regex for both sides (default: all)")
    ap.add_argument("--erlang-only", action="store_true",
                    help="only run the Erlang benchmarks")
    ap.add_argument("--fail-on-miss", action="store_true",
                    help="exit with status 1 if any target is missed")
    args = ap.parse_args()

    plexus = {}
    if not args.erlang_only:
        if not os.path.isabs(args.plexus_bench) and not os.path.exists(args.plexus_bench):
            args.plexus_bench = os.path.join(REPO_ROOT, args.plexus_bench)
        if os.path.isfile(args.plexus_bench) and os.access(args.plexus_bench, os.X_OK):
            print("Running %s ..." % args.plexus_bench, file=sys.stderr, flush=True)
            plexus = run_plexus(args.plexus_bench, args.filter)
        else:
            print("NOTE: plexus-bench not found at '%s'; showing Erlang numbers only "
                  "(build it or pass --plexus-bench PATH)." % args.plexus_bench, flush=True)

    print("Running bench/erlang/run.sh ...", file=sys.stderr, flush=True)
    erlang = run_erlang(args.filter)

    misses = print_table(plexus, erlang)
    if args.fail_on_miss and misses:
        sys.exit(1)


if __name__ == "__main__":
    main()
