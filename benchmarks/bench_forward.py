#!/usr/bin/env python3
"""Inference: the operator `forward` (the probabilities A2, what `net(X)`, a TorchScript model and
every prediction run) under torch.no_grad(), against the same network in eager PyTorch
(sigmoid(linear(g1(linear(X))))), under TorchScript, under torch.compile where the torch has it
(2.x), its two bare products, and at S a custom operator that computes nothing.

    python benchmarks/bench_forward.py [--json build/benchmarks/forward.json] [--quick]
                                       [--threads 1,2] [--no-sweep] [--null-op-library SO]

Each thread setting runs in a fresh process (machine.run_python, so that OpenBLAS takes the
count too): the six shapes of the suite at every setting, and the shape sweep's cells
(sweep.py) at 1 thread. Peers are timed by turns (common.measure_interleaved); only the ratios
of one run mean anything.
"""
import argparse
import json
import os
import statistics
import sys

import machine  # stdlib only: the thread variables must be set before torch loads OpenBLAS

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_JSON = os.path.join(os.path.dirname(HERE), "build", "benchmarks", "forward.json")
# The targets at 1 thread: the median twolayer/eager, a cell slower than eager only
# within this factor of its two products, and S against the null operator's forward.
MEDIAN_TARGET = 0.6
FLOOR_TARGET = 1.05
NULL_OP_TARGET = 1.10
CHECK_RTOL = {"float32": 2e-3, "float64": 1e-8}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", default=DEFAULT_JSON)
    p.add_argument("--quick", action="store_true", help="S and M only, short budgets, no sweep")
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    p.add_argument("--no-sweep", action="store_true")
    p.add_argument("--sweep-cells", metavar="FILTER", help="as sweep.py --cells")
    p.add_argument("--budget", type=float, help="seconds per peer and case")
    p.add_argument("--null-op-library", metavar="SO",
                   help="libtwolayer_bench_null_op.so: times its null_forward at S")
    p.add_argument("--worker", metavar="SETTING_JSON", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def peers(X, params, activation, null_op):
    """{name: zero-argument callable} for one problem, and each one's result for the check."""
    import torch
    import torch.nn.functional as F

    import common
    W1, b1, W2, b2 = params
    g = common.ACTIVATION_FUNCTIONS[activation]

    def eager_net(X, W1, b1, W2, b2):
        return torch.sigmoid(F.linear(g(F.linear(X, W1, b1)), W2, b2))

    scripted = torch.jit.script(eager_net)
    A1 = torch.empty(X.shape[0], W1.shape[0], dtype=X.dtype)
    Z2 = torch.empty(X.shape[0], W2.shape[0], dtype=X.dtype)
    fns = {
        "twolayer": lambda: torch.ops.twolayer.forward(X, W1, b1, W2, b2, activation),
        "eager": lambda: eager_net(X, W1, b1, W2, b2),
        "jit": lambda: scripted(X, W1, b1, W2, b2),
        # The two products alone, into memory made once: what no implementation can go below.
        "mm_floor": lambda: (torch.mm(X, W1.t(), out=A1), torch.mm(A1, W2.t(), out=Z2))[1],
    }
    if int(torch.__version__.split(".")[0]) >= 2 and hasattr(torch, "compile"):
        compiled = torch.compile(eager_net)
        fns["compile"] = lambda: compiled(X, W1, b1, W2, b2)
    if null_op:
        fns["null_op"] = lambda: torch.ops.twolayer_bench.null_forward(X, W1, b1, W2, b2)
    return fns


def measure(shape, activation, dtype, budget, rounds, null_op):
    import torch

    import common
    torch_dtype = getattr(torch, dtype)
    X, _, params = common.make_problem(shape, dtype=torch_dtype)
    with torch.no_grad():
        fns = peers(X, params, activation, null_op)
        reference = fns["eager"]()
        checks = {}
        for name in ("twolayer", "jit", "compile"):
            if name in fns:
                err = ((fns[name]() - reference).norm() / reference.norm()).item()
                checks[name] = err
                if err > CHECK_RTOL[dtype]:
                    sys.exit(f"bench_forward: {name} disagrees with eager at {shape} {activation} "
                             f"{dtype}: relative error {err:.2e}")
        timings = common.measure_interleaved(fns, budget, rounds)
    med = {name: t.median_us for name, t in timings.items()}
    ratios = {f"twolayer/{q}": med["twolayer"] / med[q] for q in med if q != "twolayer"}
    return {"shape": list(shape), "activation": activation, "dtype": dtype,
            "peers": {n: t.to_json() for n, t in timings.items()}, "ratios": ratios,
            "check": checks}


def run_worker(args, setting):
    import dataclasses

    import torch
    torch.set_num_threads(setting["threads"])
    import common
    import sweep
    if args.null_op_library:
        torch.ops.load_library(args.null_op_library)
    budget = common.QUICK_BUDGET if args.quick else common.FULL_BUDGET
    rounds = common.QUICK_ROUNDS if args.quick else common.FULL_ROUNDS
    if args.budget is not None:
        budget = dataclasses.replace(budget, budget_s=args.budget)
    names = common.QUICK_SHAPES if args.quick else tuple(common.SHAPES)
    setting["load_avg_1min"] = [os.getloadavg()[0]]
    setting["shapes"] = {}
    for name in names:
        print(f"[{setting['threads']} thread(s)] {name}", file=sys.stderr, flush=True)
        setting["shapes"][name] = measure(common.SHAPES[name], common.ACTIVATION, "float32",
                                          budget, rounds, bool(args.null_op_library) and name == "S")
    if setting["threads"] == 1 and not args.quick and not args.no_sweep:
        cell_budget = dataclasses.replace(budget, budget_s=min(budget.budget_s, 0.3), min_reps=5)
        setting["sweep"] = []
        for i, cell in sweep.select(sweep.all_cells(), args.sweep_cells):
            print(f"[sweep] {i}: {sweep.label(cell)}", file=sys.stderr, flush=True)
            shape = (cell.m, cell.n0, cell.n1, cell.n2)
            result = measure(shape, cell.activation, cell.dtype, cell_budget, 3, False)
            result["label"] = sweep.label(cell)
            setting["sweep"].append(result)
    setting["load_avg_1min"].append(os.getloadavg()[0])
    return setting


def shapes_table(setting):
    cols = [c for c in ("twolayer", "eager", "jit", "compile", "mm_floor", "null_op")
            if any(c in case["peers"] for case in setting["shapes"].values())]
    ratio_cols = [c for c in ("eager", "jit", "compile", "mm_floor", "null_op") if c in cols]
    lines = [f"forward under no_grad, float32 tanh, {setting['threads']} thread(s): medians (us)"
             " and twolayer's ratios",
             "| shape | " + " | ".join(cols) + " | " +
             " | ".join(f"/ {c}" for c in ratio_cols) + " |",
             "|---" * (1 + len(cols) + len(ratio_cols)) + "|"]
    for name, case in setting["shapes"].items():
        med = [f"{case['peers'][c]['median_us']:.1f}" if c in case["peers"] else "-" for c in cols]
        rat = [f"{case['ratios'][f'twolayer/{c}']:.2f}" if f"twolayer/{c}" in case["ratios"]
               else "-" for c in ratio_cols]
        lines.append(f"| {name} {tuple(case['shape'])} | " + " | ".join(med) + " | " +
                     " | ".join(rat) + " |")
    return "\n".join(lines)


def sweep_summary(cells):
    eager = [c["ratios"]["twolayer/eager"] for c in cells]
    slower = [c for c in cells if c["ratios"]["twolayer/eager"] > 1.0]
    missed = [c for c in slower if c["ratios"]["twolayer/mm_floor"] > FLOOR_TARGET]
    worst = max(cells, key=lambda c: c["ratios"]["twolayer/eager"])
    summary = {
        "cells": len(cells), "median_twolayer/eager": statistics.median(eager),
        "slower_than_eager": len(slower),
        "slower_than_eager_and_above_floor_target": len(missed),
        "worst": {"label": worst["label"], **worst["ratios"]},
        "targets": {"median_twolayer/eager": MEDIAN_TARGET, "twolayer/mm_floor": FLOOR_TARGET},
    }
    text = (f"forward sweep at 1 thread: {len(cells)} cells, median twolayer/eager "
            f"{summary['median_twolayer/eager']:.2f} (target <= {MEDIAN_TARGET}); "
            f"{len(slower)} slower than eager, {len(missed)} of them above "
            f"{FLOOR_TARGET}x their two products; worst {worst['label']}: "
            f"{worst['ratios']['twolayer/eager']:.2f} of eager, "
            f"{worst['ratios']['twolayer/mm_floor']:.2f} of its products")
    return summary, text


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.worker:
        return machine.serve_worker(args.worker, lambda setting: run_worker(args, setting))
    results = {"settings": []}
    for threads in (int(t) for t in args.threads.split(",")):
        cmd = [os.path.abspath(__file__), "--worker", machine.JSON_ARG] + \
            [a for a in (sys.argv[1:] if argv is None else argv)]
        rc, setting = machine.run_python(cmd, threads, payload={"threads": threads})
        if rc != 0:
            return rc
        print(shapes_table(setting), flush=True)
        if setting.get("sweep"):
            setting["sweep_summary"], text = sweep_summary(setting["sweep"])
            print(text, flush=True)
        results["settings"].append(setting)
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(results, f, indent=1)
    print(f"bench_forward: results in {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
