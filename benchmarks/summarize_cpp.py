#!/usr/bin/env python3
"""Ratios of the C++ benchmark: reads twolayer_bench_step's JSON output (one file per thread
setting), prints a table of medians and ratios per shape, and writes them as JSON.

    python benchmarks/summarize_cpp.py "1 thread=build/benchmarks/cpp_threads1.json" \
        "2 threads=build/benchmarks/cpp_threads2.json" --json build/benchmarks/cpp_results.json
"""
import argparse
import json
import os
import sys

PEERS = ("twolayer", "eager", "null_op", "mm_floor")
FLOOR_VARIANTS = {"mm_floor_out": "out", "mm_floor_alloc": "alloc"}
TO_US = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}


def _shape(run_name):
    """(m, n0, n1, n2) from a name such as twolayer/m:400/n0:2/n1:4/n2:1/real_time."""
    args = dict(part.split(":", 1) for part in run_name.split("/")[1:] if ":" in part)
    return [int(args[k]) for k in ("m", "n0", "n1", "n2")]


def medians(report):
    """{shape: {peer: µs}} from the median aggregates, or from the single runs when the
    benchmark ran without repetitions."""
    runs = report["benchmarks"]
    have_aggregates = any(r.get("aggregate_name") == "median" for r in runs)
    out = {}
    for r in runs:
        if have_aggregates and r.get("aggregate_name") != "median":
            continue
        if not have_aggregates and r.get("run_type") != "iteration":
            continue
        peer = r["run_name"].split("/")[0]
        out.setdefault(r.get("label", "?"), {})[peer] = {
            "median_us": r["real_time"] * TO_US[r["time_unit"]],
            "repetitions": r.get("repetitions", 1), "iterations": r["iterations"],
            "shape": _shape(r["run_name"]),
        }
    return out


def summarize(label, report):
    cases = {}
    # By size, as the Python tables: with random interleaving the JSON comes in any order.
    by_size = sorted(medians(report).items(),
                     key=lambda item: next(iter(item[1].values()))["shape"])
    for shape, peers in by_size:
        floors = {v: peers.pop(v) for v in FLOOR_VARIANTS if v in peers}
        if floors:
            best = min(floors, key=lambda v: floors[v]["median_us"])
            peers["mm_floor"] = dict(floors[best], variant=FLOOR_VARIANTS[best])
        med = {p: t["median_us"] for p, t in peers.items()}
        ratios = {f"{p}/{q}": med[p] / med[q] for p in med for q in med if p != q}
        shape_dims = next(iter(peers.values()))["shape"]
        cases[shape] = {"shape": shape_dims, "peers": peers, "ratios": ratios}
    ctx = report.get("context", {})
    return {"label": label, "torch_intra_op_threads": ctx.get("torch_intra_op_threads"),
            "openblas_threads": ctx.get("OPENBLAS_NUM_THREADS"), "step": cases,
            "context": {k: ctx.get(k) for k in ("date", "host_name", "num_cpus", "mhz_per_cpu",
                                                 "load_avg", "torch_version",
                                                 "library_build_type")}}


def _load(setting):
    load = setting["context"].get("load_avg")
    return f"; load average {load[0]:.1f} at the start" if load else ""


def table(setting):
    lines = [f"== C++ (Google Benchmark), forward + backward step, float32, tanh -- "
             f"{setting['label']}: torch intra-op threads {setting['torch_intra_op_threads']}, "
             f"OPENBLAS_NUM_THREADS {setting['openblas_threads']}{_load(setting)}",
             "   median real time per step in µs; ratios of medians",
             f"   {'shape':<6}{'(m, n0, n1, n2)':<22}{'twolayer':>11}{'eager':>11}{'null op':>11}"
             f"{'mm_floor':>11}{'':8}{'tl/eager':>9}{'tl/floor':>9}{'eager/floor':>12}"
             f"{'tl/null op':>11}"]
    for name, case in setting["step"].items():
        p, r = case["peers"], case["ratios"]
        shape = "(" + ", ".join(str(d) for d in case["shape"]) + ")"
        cells = "".join(f"{p[k]['median_us']:11.1f}" if k in p else f"{'-':>11}" for k in PEERS)
        variant = f"({p['mm_floor']['variant']})" if "mm_floor" in p else ""
        ratio = "".join(f"{r[k]:{w}.2f}" if k in r else f"{'-':>{w}}" for k, w in
                        (("twolayer/eager", 9), ("twolayer/mm_floor", 9), ("eager/mm_floor", 12),
                         ("twolayer/null_op", 11)))
        lines.append(f"   {name:<6}{shape:<22}{cells}{variant:>8}{ratio}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", metavar="LABEL=PATH",
                        help="a thread setting's label and twolayer_bench_step's JSON for it")
    parser.add_argument("--json", help="where to write the summary")
    args = parser.parse_args(argv)
    settings = []
    for run in args.runs:
        label, sep, path = run.partition("=")
        if not sep:
            label, path = os.path.basename(run), run
        with open(path) as f:
            settings.append(summarize(label, json.load(f)))
    for setting in settings:
        print(table(setting))
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump({"suite": "twolayer bench_step.cpp", "format": 1, "settings": settings,
                       "sources": args.runs}, f, indent=1)
        print(f"\nresults: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
