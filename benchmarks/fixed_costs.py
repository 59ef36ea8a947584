#!/usr/bin/env python3
"""The lecture's step and prediction at S, cost by cost: what the operator adds to a custom
operator that computes nothing (benchmarks/null_op.cpp), split into the pieces one can time from
Python, at one thread.

    python benchmarks/fixed_costs.py --null-op-library SO [--json FILE] [--quick]

- arithmetic: the same call at S (400 rows) less the call at 8 rows, for tanh and for relu (the
  difference between the two is the hidden layer's tanh);
- fixed costs: the call at 8 rows less the null operator's (checks, the result's allocation,
  the dispatch to the CPU kernel, and for the step the autograd Function);
- the step's pieces: the forward kernel with its cache (`_loss_with_cache`) and the backward
  kernel (`_loss_backward`) called directly, each one dispatch with no autograd; the rest of the
  step is autograd's: the Function, its graph, the engine and the gradients' accumulation.
Peers are timed by turns (common.measure_interleaved); only the differences within one run mean
anything.
"""
import argparse
import json
import os
import sys

import machine  # stdlib only: the thread variables must be set before torch loads OpenBLAS

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_JSON = os.path.join(os.path.dirname(HERE), "build", "benchmarks", "fixed_costs.json")
TINY = (8, 2, 4, 1)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--null-op-library", metavar="SO", required=True,
                   help="libtwolayer_bench_null_op.so (benchmarks/null_op.cpp)")
    p.add_argument("--json", default=DEFAULT_JSON)
    p.add_argument("--quick", action="store_true", help="short budgets")
    p.add_argument("--worker", metavar="SETTING_JSON", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def peers():
    """{name: zero-argument callable}: each piece at S and at TINY rows."""
    import torch

    import common
    ops, null = torch.ops.twolayer, torch.ops.twolayer_bench
    fns = {}
    for label, shape in (("S", common.SHAPES["S"]), ("tiny", TINY)):
        X, Y, params = common.make_problem(shape)
        leaves = [p.clone().requires_grad_() for p in params]
        W1, b1, W2, b2 = params
        grad_J = torch.ones(())
        mask = [False, False, True, True, True, True]
        J, A1, Z2 = ops._loss_with_cache(X, Y, W1, b1, W2, b2, "tanh")

        def predict(X=X, activation="tanh"):
            with torch.no_grad():
                return ops.forward(X, W1, b1, W2, b2, activation)

        def step(X=X, Y=Y, leaves=leaves, activation="tanh"):
            ops.loss(X, Y, *leaves, activation).backward()

        fns[f"predict tanh {label}"] = predict
        fns[f"predict relu {label}"] = lambda predict=predict: predict(activation="relu")
        fns[f"step tanh {label}"] = step
        fns[f"step relu {label}"] = lambda step=step: step(activation="relu")
        fns[f"forward kernel {label}"] = (
            lambda X=X, Y=Y: ops._loss_with_cache(X, Y, W1, b1, W2, b2, "tanh"))
        fns[f"backward kernel {label}"] = (
            lambda X=X, Y=Y, A1=A1, Z2=Z2, grad_J=grad_J:
            ops._loss_backward(grad_J, X, Y, W1, W2, A1, Z2, "tanh", mask))
        if label == "S":
            def null_predict(X=X):
                with torch.no_grad():
                    return null.null_forward(X, W1, b1, W2, b2)

            fns["null predict S"] = null_predict
            fns["null step S"] = lambda X=X, Y=Y, leaves=leaves: null.null_loss(X, Y, *leaves).backward()
    return fns


def worker(setting):
    import torch

    import common
    torch.ops.load_library(setting["null_op_library"])
    budget = common.QUICK_BUDGET if setting["quick"] else common.FULL_BUDGET
    rounds = common.QUICK_ROUNDS if setting["quick"] else common.FULL_ROUNDS
    timings = common.measure_interleaved(peers(), budget, rounds)
    return {name: t.median_us for name, t in timings.items()}


def breakdown(us):
    """The table's rows: (what, microseconds) derived from the medians."""
    rows = []
    for kind in ("predict", "step"):
        null = us[f"null {kind} S"]
        rows.append((f"{kind}: null operator", null))
        rows.append((f"{kind}: fixed costs beyond it (8 rows, tanh)", us[f"{kind} tanh tiny"] - null))
        rows.append((f"{kind}: arithmetic of 392 more rows, relu",
                     us[f"{kind} relu S"] - us[f"{kind} relu tiny"]))
        rows.append((f"{kind}: arithmetic of 392 more rows, tanh",
                     us[f"{kind} tanh S"] - us[f"{kind} tanh tiny"]))
        rows.append((f"{kind}: twolayer at S, tanh", us[f"{kind} tanh S"]))
        rows.append((f"{kind}: twolayer / null operator at S",
                     us[f"{kind} tanh S"] / null))
    kernels = us["forward kernel S"] + us["backward kernel S"]
    rows.append(("step: forward + backward kernels, called directly", kernels))
    rows.append(("step: the rest (autograd Function, graph, engine, accumulation)",
                 us["step tanh S"] - kernels))
    rows.append(("step: null operator's forward + backward", us["null step S"]))
    return rows


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        return machine.serve_worker(args.worker, worker)
    setting = {"null_op_library": os.path.abspath(args.null_op_library), "quick": args.quick}
    rc, us = machine.run_python([os.path.abspath(__file__), "--null-op-library",
                                 setting["null_op_library"], "--worker", machine.JSON_ARG],
                                1, setting)
    if rc != 0 or us is None:
        print(f"fixed_costs: the worker failed (exit status {rc})", file=sys.stderr)
        return 1
    rows = breakdown(us)
    print("The lecture's step and prediction at S (400, 2, 4, 1), float32, 1 thread: medians (us)")
    print("| what | us (or ratio) |\n|---|---|")
    for what, value in rows:
        print(f"| {what} | {value:.2f} |")
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump({"suite": "twolayer fixed_costs.py", "machine": machine.machine_info(),
                   "medians_us": us, "rows": rows}, f, indent=1)
    print(f"fixed_costs: results in {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
