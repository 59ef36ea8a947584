#!/usr/bin/env python3
"""The Python benchmark suite of twolayer (issue 3): the forward+backward step against eager
autograd, TorchScript, the lecture's NumPy code and the bare matrix products; the bytes saved for
backward; and gradient descent with fit_ against Python loops. Every thread setting runs in its
own process, because OpenBLAS fixes its thread count when it is loaded.

    python benchmarks/bench_step.py [--quick] [--json build/benchmarks/results.json]
                                    [--threads default,2] [--shapes S,M,L,L10]
"""
import argparse
import dataclasses
import datetime
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_JSON = os.path.join(ROOT, "build", "benchmarks", "results.json")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true",
                   help="smoke run: S and M only, a few repetitions, 1 000 fit iterations")
    p.add_argument("--json", default=DEFAULT_JSON, help="where to write the results (JSON)")
    p.add_argument("--threads", default="default,2",
                   help="comma-separated thread counts, one process each; 'default' is what torch "
                        "picks by itself, 'env' leaves the thread variables as they are")
    p.add_argument("--shapes", help="comma-separated subset of S, M, L, L10")
    p.add_argument("--budget", type=float,
                   help="seconds of timed repetitions per case (default 1, or 0.05 with --quick)")
    p.add_argument("--null-op-library", metavar="SO",
                   help="libtwolayer_bench_null_op.so (benchmarks/null_op.cpp): times a custom "
                        "operator that computes nothing too, the floor of the S target")
    p.add_argument("--worker", metavar="SETTING_JSON", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def selected_shapes(args):
    from common import QUICK_SHAPES, SHAPES
    names = args.shapes.split(",") if args.shapes else (QUICK_SHAPES if args.quick else SHAPES)
    unknown = [n for n in names if n not in SHAPES]
    if unknown:
        sys.exit(f"bench_step: unknown shape(s) {', '.join(unknown)}; choose from "
                 f"{', '.join(SHAPES)}")
    return {n: SHAPES[n] for n in names}


def progress(message):
    print(f"   ... {message}", file=sys.stderr, flush=True)


# ---- one thread setting, in its own process ----

def run_worker(args, setting):
    import torch
    if setting["threads"] is not None:
        torch.set_num_threads(setting["threads"])  # before any work, as torch requires
    import common
    import fit_loop
    import report
    import step_peers
    from machine import THREAD_ENV_VARS, blas_runtime

    torch.mm(torch.ones(2, 2), torch.ones(2, 2))  # loads the BLAS so its threads can be read
    # Other processes inflate every median of a run: keep the evidence next to the numbers.
    setting["load_avg_1min"] = [os.getloadavg()[0]]
    setting.update(torch_threads=torch.get_num_threads(),
                   interop_threads=torch.get_num_interop_threads(),
                   blas_threads=blas_runtime().get("openblas_threads"),
                   env={var: os.environ.get(var) for var in THREAD_ENV_VARS})
    budget = common.QUICK_BUDGET if args.quick else common.FULL_BUDGET
    rounds = common.QUICK_ROUNDS if args.quick else common.FULL_ROUNDS
    null_op_loaded = step_peers.load_null_op(args.null_op_library)
    if args.budget is not None:
        budget = dataclasses.replace(budget, budget_s=args.budget)

    setting["step"] = {}
    for name, shape in selected_shapes(args).items():
        X, Y, params = common.make_problem(shape)
        case = {"shape": list(shape), "peers": {}, "check": {}}
        reference = step_peers.build("eager", X, Y, params)[1]()
        timed = step_peers.timed_peers(null_op_loaded, name)
        steps = {}
        for peer in timed:
            step, result = step_peers.build(peer, X, Y, params)
            if result is not None:
                # A fast wrong answer is no result: every peer must agree with autograd first.
                err = step_peers.relative_error(result(), reference)
                case["check"][peer] = err
                if err > step_peers.CHECK_RTOL:
                    sys.exit(f"bench_step: {peer} disagrees with eager autograd at {name}: "
                             f"relative error {err:.2e}")
            steps[peer] = step
            del result
        progress(f"[{setting['label']}] {name}: {', '.join(steps)} by turns, {rounds} rounds")
        timings = common.measure_interleaved(steps, budget, rounds)
        case["peers"] = {peer: timings[peer].to_json() for peer in timed}
        del steps
        floors = {v: case["peers"].pop(v) for v in step_peers.FLOOR_VARIANTS}
        variant = min(floors, key=lambda v: floors[v]["median_us"])
        case["peers"]["mm_floor"] = floors[variant]
        case["mm_floor_variant"] = {"mm_floor_out": "out=", "mm_floor_alloc": "alloc"}[variant]
        case["mm_floor_variants"] = floors
        med = {p: t["median_us"] for p, t in case["peers"].items()}
        case["ratios"] = {f"{p}/{q}": med[p] / med[q]
                          for p in med for q in ("eager", "compile", "mm_floor", "numpy", "null_op")
                          if p != q and q in med}
        setting["step"][name] = case
        del X, Y, params

    if args.quick:
        setting["fit"] = fit_loop.measure_all(iterations=1000, loop_chunk=100, loop_chunks=3,
                                              op_repeats=1, progress=progress)
    else:
        setting["fit"] = fit_loop.measure_all(iterations=10000, loop_chunk=1000, loop_chunks=5,
                                              op_repeats=3, progress=progress)
    setting["load_avg_1min"].append(os.getloadavg()[0])
    print(report.step(setting), flush=True)
    print(report.fit(setting), flush=True)
    return setting


# ---- the driver ----

def resolve_settings(spec, defaults):
    settings, seen = [], set()
    for token in spec.split(","):
        token = token.strip()
        if token == "env":
            setting = {"label": "inherited environment", "threads": None}
        elif token == "default":
            n = defaults["torch"]
            setting = {"label": f"default ({n} thread{'s' if n != 1 else ''})", "threads": n}
        else:
            n = int(token)
            setting = {"label": f"{n} thread{'s' if n != 1 else ''}", "threads": n}
        if setting["threads"] not in seen:
            seen.add(setting["threads"])
            settings.append(setting)
    return settings


def main(argv=None):
    args = parse_args(argv)
    sys.path.insert(0, HERE)
    if args.worker:
        with open(args.worker) as f:
            setting = json.load(f)
        setting = run_worker(args, setting)
        with open(args.worker, "w") as f:
            json.dump(setting, f)
        return 0

    import common
    import machine
    import report
    import saved_bytes

    shapes = selected_shapes(args)
    defaults = machine.default_threads()
    info = machine.machine_info()
    info["blas"] = machine.blas_runtime()
    print(report.machine(info, defaults), flush=True)

    saved = {name: saved_bytes.compare(*common.make_problem(shape))
             for name, shape in shapes.items()}
    print(report.saved_bytes(saved), flush=True)

    results = {
        "suite": "twolayer bench_step.py", "format": 1, "quick": args.quick,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": [os.path.relpath(__file__, ROOT)] + (argv if argv is not None else sys.argv[1:]),
        "machine": info, "default_threads": defaults,
        "shapes": {n: list(s) for n, s in shapes.items()},
        "saved_bytes": saved, "settings": [],
    }
    for setting in resolve_settings(args.threads, defaults):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(setting, f)
        try:
            cmd = [sys.executable, os.path.abspath(__file__), "--worker", f.name]
            cmd += ["--quick"] if args.quick else []
            cmd += ["--shapes", ",".join(shapes)]
            cmd += ["--budget", str(args.budget)] if args.budget is not None else []
            cmd += ["--null-op-library", args.null_op_library] if args.null_op_library else []
            if subprocess.run(cmd, env=machine.thread_env(setting["threads"])).returncode:
                sys.exit(f"bench_step: the run at {setting['label']} failed")
            with open(f.name) as done:
                results["settings"].append(json.load(done))
        finally:
            os.unlink(f.name)

    print(report.targets(results), flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(results, f, indent=1)
    print(f"\nresults: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
