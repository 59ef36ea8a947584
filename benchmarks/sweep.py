#!/usr/bin/env python3
"""The shape sweep: twolayer's step against eager autograd and the five-product floor
on ~100 cells (m, n0-n1-n2, activation, dtype), at 1 thread. The suite's four shapes say little
about the networks people actually run; 64 cells drawn at a fixed seed from a grid, plus the
a table of fixed cells, show where twolayer falls short and by how much.

    python benchmarks/sweep.py [--json build/benchmarks/sweep.json] [--budget 0.3]
                               [--cells FILTER] [--list] [--bfloat16]

--bfloat16 adds the fixed float32 cells again in bfloat16 (checked against eager in float32 on
the same rounded numbers, within 5e-2 or 1.5 times eager-in-bfloat16's own error, and summarised
apart from the others).

FILTER: comma-separated cell indices (as --list numbers them) or substrings of a cell's label,
e.g. --cells "20000 32-64-17 sigmoid float32" or --cells 3,17,"relu float64".
"""
import argparse
import collections
import dataclasses
import datetime
import itertools
import json
import os
import random
import statistics
import sys

import machine  # stdlib only: the thread variables must be set before torch loads OpenBLAS

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_JSON = os.path.join(ROOT, "build", "benchmarks", "sweep.json")
THREADS = 1

# ---- the cells ----

Cell = collections.namedtuple("Cell", "m n0 n1 n2 activation dtype")


def label(cell):
    return f"{cell.m} {cell.n0}-{cell.n1}-{cell.n2} {cell.activation} {cell.dtype}"


GRID = {
    "m": (1000, 20000),
    "n0": (2, 32, 300),
    "n1": (4, 64, 512),
    "n2": (1, 4, 5, 16, 17, 32),
    "activation": ("tanh", "relu", "sigmoid", "leaky_relu"),
    "dtype": ("float32", "float64"),
}
SEED = 13
DRAWN = 64
# n2 of the fixed table: 1, the widths SIMD lanes divide (4, 16, 32) and the ones they don't.
FIXED_N2 = (1, 4, 5, 16, 17, 32)


def grid():
    return [Cell(*values) for values in itertools.product(*GRID.values())]


def drawn_cells():
    """DRAWN cells of the grid, without repetition, the same ones on every run."""
    return random.Random(SEED).sample(grid(), DRAWN)


def fixed_cells():
    """The fixed cells: a mid-size net at every activation and output width (float64 for
    tanh too), the lecture-sized nets where a step's fixed costs dominate, and one wide output
    behind a narrow hidden layer."""
    cells = [Cell(20000, 32, 64, n2, act, "float32")
             for act in GRID["activation"] for n2 in FIXED_N2]
    cells += [Cell(20000, 32, 64, n2, "tanh", "float64") for n2 in FIXED_N2]
    cells += [Cell(1000, n0, n1, n2, "tanh", "float32")
              for n0, n1, n2 in ((2, 4, 1), (4, 16, 1), (2, 16, 4), (2, 4, 20))]
    cells += [Cell(1000, 2, 4, 20, "sigmoid", "float32"),
              Cell(20000, 32, 4, 20, "leaky_relu", "float32")]
    return cells


def bfloat16_cells():
    """The fixed float32 cells again in bfloat16 (--bfloat16): the same networks, so that each
    bfloat16 cell has a float32 twin in the sweep. A dtype of their own rather than a value of
    the grid's dtype axis, which would change the drawn cells of every earlier run."""
    return [cell._replace(dtype="bfloat16") for cell in fixed_cells() if cell.dtype == "float32"]


def all_cells(bfloat16=False):
    """The drawn cells, then the fixed ones not drawn already, then (bfloat16) the bfloat16
    cells: the indices --cells takes."""
    cells = drawn_cells()
    for cell in fixed_cells():
        if cell not in cells:
            cells.append(cell)
    if bfloat16:
        cells += bfloat16_cells()
    return cells


def source(cell, drawn=None, fixed=None):
    drawn = set(drawn_cells()) if drawn is None else drawn
    fixed = set(fixed_cells()) if fixed is None else fixed
    if cell.dtype == "bfloat16":
        return "bfloat16"
    return "+".join(name for name, cells in (("drawn", drawn), ("fixed", fixed)) if cell in cells)


def select(cells, spec):
    """[(index, cell)] of the cells that `spec` names (None: all), in the sweep's order."""
    if not spec:
        return list(enumerate(cells))
    chosen = set()
    for token in (t.strip() for t in spec.split(",")):
        if not token:
            continue
        if token.isdigit():
            if int(token) >= len(cells):
                raise SystemExit(f"sweep: no cell {token}; there are {len(cells)} (see --list)")
            chosen.add(int(token))
        else:
            hits = {i for i, c in enumerate(cells) if token in label(c)}
            if not hits:
                raise SystemExit(f"sweep: no cell's label contains {token!r} (see --list)")
            chosen |= hits
    return [(i, cells[i]) for i in sorted(chosen)]


# ---- the target and the summary ----

EAGER_TARGET = 0.8    # twolayer/eager at most this, or
FLOOR_TARGET = 1.05   # twolayer/mm_floor at most this: a cell meets the target
MEDIAN_TARGET = 0.6   # the median of twolayer/eager over all cells


def meets_target(ratio_eager, ratio_floor):
    return ratio_eager <= EAGER_TARGET or ratio_floor <= FLOOR_TARGET


def distance(ratio_eager, ratio_floor):
    """How far a cell is from the target: the nearer of its two ratios, each as a multiple of
    its limit (<= 1: met)."""
    return min(ratio_eager / EAGER_TARGET, ratio_floor / FLOOR_TARGET)


def summarize(results):
    """The worst cell, the median of twolayer/eager and the count meeting the target, from the
    per-cell results (each with "label" and its "ratios")."""
    def ratios(r):
        return r["ratios"]["twolayer/eager"], r["ratios"]["twolayer/mm_floor"]

    worst = max(results, key=lambda r: distance(*ratios(r)))
    median = statistics.median(ratios(r)[0] for r in results)
    met = sum(meets_target(*ratios(r)) for r in results)
    return {
        "cells": len(results),
        "met": met,
        "all_met": met == len(results),
        "median_twolayer/eager": median,
        "median_met": median <= MEDIAN_TARGET,
        "worst": {"label": worst["label"], "twolayer/eager": ratios(worst)[0],
                  "twolayer/mm_floor": ratios(worst)[1], "distance": distance(*ratios(worst))},
        "targets": {"twolayer/eager": EAGER_TARGET, "twolayer/mm_floor": FLOOR_TARGET,
                    "median twolayer/eager": MEDIAN_TARGET},
    }


# ---- timing one cell ----

# The preallocated variant: at these sizes it is the faster of step_peers' two, or within the
# noise of the other, and a fourth peer per cell would cost a quarter more time.
FLOOR_VARIANT = "mm_floor_out"
ROUNDS = 3
DEFAULT_BUDGET_S = 0.3


def budget(budget_s=DEFAULT_BUDGET_S):
    """Per peer per cell: budget_s of timed calls, at least 3 (a 0.7 s float64 cell gets a
    median of 3, one per round); a warm-up of one call or 50 ms, since the cross-check has
    already run twolayer's and eager's step once."""
    from common import TimingBudget
    return TimingBudget(budget_s=budget_s, min_reps=3, max_reps=5000, warmup_s=0.05,
                        min_warmup=1)


class CheckFailed(Exception):
    pass


def measure_cell(cell, timing_budget, rounds=ROUNDS):
    """Cross-checks twolayer against eager autograd on the cell's problem, then times twolayer,
    eager and the floor by turns. Returns a JSON-able dict; raises CheckFailed on disagreement."""
    import torch

    import common
    import step_peers

    dtype = getattr(torch, cell.dtype)
    shape = (cell.m, cell.n0, cell.n1, cell.n2)
    low = dtype in (torch.bfloat16, torch.float16)
    # A low-precision cell's problem is drawn in float32 and rounded, as a net's weights are.
    X, Y, params = common.make_problem(shape, dtype=torch.float32 if low else dtype)
    X, Y, params = X.to(dtype), Y.to(dtype), [p.to(dtype) for p in params]
    eager, eager_result = step_peers.build("eager", X, Y, params, cell.activation)
    twolayer, twolayer_result = step_peers.build("twolayer", X, Y, params, cell.activation)
    check = {}
    if low:
        # Checked against eager in float32 on the same rounded numbers: eager in bfloat16 rounds
        # its activations, cost and sums to 8 bits and is no reference. Within the dtype's
        # tolerance, or no worse than eager in bfloat16 is (step_peers.LOW_PRECISION_EAGER_FACTOR):
        # where ATen sums a product's m terms in bfloat16 (1.13), dW1 and dW2 are off in both.
        reference = step_peers.build("eager", X.float(), Y.float(), [p.float() for p in params],
                                     cell.activation)[1]()
        err = step_peers.relative_error(twolayer_result(), reference)
        check["eager_relative_error"] = step_peers.relative_error(eager_result(), reference)
        tol = max(step_peers.CHECK_RTOL_BY_DTYPE[dtype],
                  step_peers.LOW_PRECISION_EAGER_FACTOR * check["eager_relative_error"])
    else:
        err = step_peers.relative_error(twolayer_result(), eager_result())
        tol = step_peers.CHECK_RTOL_BY_DTYPE[dtype]
    if not err <= tol:
        raise CheckFailed(f"twolayer disagrees with eager autograd at {label(cell)}: "
                          f"relative error {err:.2e} > {tol:g}")
    del eager_result, twolayer_result
    floor, _ = step_peers.build(FLOOR_VARIANT, X, Y, params)
    timings = common.measure_interleaved(
        {"twolayer": twolayer, "eager": eager, "mm_floor": floor}, timing_budget, rounds)
    med = {peer: t.median_us for peer, t in timings.items()}
    ratio_eager = med["twolayer"] / med["eager"]
    ratio_floor = med["twolayer"] / med["mm_floor"]
    return {
        "label": label(cell),
        "cell": cell._asdict(),
        "check": {"relative_error": err, "tolerance": tol, "passed": True, **check},
        "peers": {peer: t.to_json() for peer, t in timings.items()},
        "medians_us": med,
        "ratios": {"twolayer/eager": ratio_eager, "twolayer/mm_floor": ratio_floor},
        "met": meets_target(ratio_eager, ratio_floor),
        "distance": distance(ratio_eager, ratio_floor),
    }


# ---- the script ----

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="\n".join(__doc__.splitlines()[-2:]))
    p.add_argument("--json", default=DEFAULT_JSON, help="where to write the results (JSON)")
    p.add_argument("--budget", type=float, default=DEFAULT_BUDGET_S,
                   help=f"seconds of timed calls per peer per cell (default {DEFAULT_BUDGET_S})")
    p.add_argument("--cells", metavar="FILTER", help="a subset of the cells (see above)")
    p.add_argument("--list", action="store_true", help="print the cells and exit")
    p.add_argument("--bfloat16", action="store_true",
                   help="add the fixed float32 cells again in bfloat16 (summarised apart)")
    # bench_step.py runs the sweep after printing the machine itself.
    p.add_argument("--in-suite", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def progress(message):
    print(f"   ... {message}", file=sys.stderr, flush=True)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    cells = all_cells(args.bfloat16)
    chosen = select(cells, args.cells)
    if args.list:
        drawn, fixed = set(drawn_cells()), set(fixed_cells())
        for i, cell in chosen:
            print(f"{i:4d}  {label(cell):<34} {source(cell, drawn, fixed)}")
        extra = len(bfloat16_cells()) if args.bfloat16 else 0
        print(f"{len(chosen)} of {len(cells)} cells: {DRAWN} drawn with seed {SEED} from the "
              f"grid of {len(grid())}, and the {len(cells) - DRAWN - extra} of the {len(fixed)} "
              "fixed ones not drawn" + (f", and {extra} bfloat16 ones" if extra else ""))
        return 0
    if not machine.threads_fixed_at(THREADS):
        # OpenBLAS takes its thread count from the environment when it loads, so only a fresh
        # process can run at 1 thread.
        return machine.run_python([os.path.abspath(__file__)] + argv, THREADS)[0]

    import torch
    torch.set_num_threads(THREADS)  # before any work, as torch requires
    import report

    torch.mm(torch.ones(2, 2), torch.ones(2, 2))  # loads the BLAS so its threads can be read
    info = machine.machine_info()
    info["blas"] = machine.blas_runtime()
    if not args.in_suite:
        print(report.machine(info, machine.default_threads()), flush=True)
    timing_budget = budget(args.budget)
    load_start = os.getloadavg()[0]
    results = []
    for k, (i, cell) in enumerate(chosen):
        progress(f"sweep [{k + 1}/{len(chosen)}] cell {i}: {label(cell)}")
        try:
            result = measure_cell(cell, timing_budget)
        except CheckFailed as e:
            sys.exit(f"sweep: {e}")
        results.append({"index": i, "source": source(cell), **result})
    sweep = {
        "suite": "twolayer sweep.py", "format": 1,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": [os.path.relpath(os.path.abspath(__file__), ROOT)] + argv,
        "machine": None if args.in_suite else info,  # in the suite's JSON already
        "threads": {"torch": torch.get_num_threads(),
                    "blas": info["blas"].get("openblas_threads"),
                    "env": {var: os.environ.get(var) for var in machine.THREAD_ENV_VARS}},
        "load_avg_1min": [load_start, os.getloadavg()[0]],
        "budget": dataclasses.asdict(timing_budget), "rounds": ROUNDS,
        "floor_variant": FLOOR_VARIANT,
        "grid": GRID, "seed": SEED, "drawn": DRAWN,
        "cells": results,
        # The bfloat16 cells apart: the targets and the median are the float32/float64 sweep's.
        "summary": summarize([r for r in results if r["cell"]["dtype"] != "bfloat16"] or results),
    }
    low = [r for r in results if r["cell"]["dtype"] == "bfloat16"]
    if low and len(low) < len(results):
        sweep["summary_bfloat16"] = summarize(low)
    print(report.sweep(sweep), flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(sweep, f, indent=1)
    if not args.in_suite:
        print(f"\nsweep results: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
