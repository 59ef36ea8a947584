#!/usr/bin/env python3
"""The Python benchmark suite of twolayer: the forward+backward step against eager
autograd, TorchScript, the lecture's NumPy code and the bare matrix products; the bytes saved for
backward; and gradient descent with fit_ against Python loops; then how each peer scales with
threads, and (not with --quick) the shape sweep (sweep.py). Every thread setting runs
in its own process, because OpenBLAS fixes its thread count when it is loaded.

    python benchmarks/bench_step.py [--quick] [--json build/benchmarks/results.json]
                                    [--threads 1,2,nproc] [--shapes S,M,L,L10,B1M,R200K]
                                    [--no-sweep | --sweep-cells FILTER] [--sweep-bfloat16]
"""
import argparse
import dataclasses
import datetime
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_JSON = os.path.join(ROOT, "build", "benchmarks", "results.json")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true",
                   help="smoke run: S and M only, a few repetitions, 1 000 fit iterations")
    p.add_argument("--json", default=DEFAULT_JSON, help="where to write the results (JSON)")
    p.add_argument("--threads", default="1,2,nproc",
                   help="comma-separated thread counts, one process each (repeats dropped); "
                        "'nproc' is os.cpu_count(), 'default' is what torch picks by itself, "
                        "'env' leaves the thread variables as they are")
    p.add_argument("--shapes", help="comma-separated subset of S, M, L, L10, B1M, R200K")
    p.add_argument("--budget", type=float,
                   help="seconds of timed repetitions per case (default 1, or 0.05 with --quick)")
    p.add_argument("--null-op-library", metavar="SO",
                   help="libtwolayer_bench_null_op.so (benchmarks/null_op.cpp): times a custom "
                        "operator that computes nothing too, the floor of the S target")
    p.add_argument("--no-sweep", action="store_true",
                   help="skip the shape sweep (sweep.py) that a full run ends with")
    p.add_argument("--sweep-cells", metavar="FILTER",
                   help="only these cells of the sweep (sweep.py --cells)")
    p.add_argument("--sweep-bfloat16", action="store_true",
                   help="add the sweep's bfloat16 cells (sweep.py --bfloat16)")
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

def _threads(n):
    return f"{n} thread{'s' if n != 1 else ''}"


def resolve_settings(spec, defaults):
    """The thread settings of --threads, in its order, each count once (the first token that
    gives it names it): with the default 1,2,nproc a 2-core machine runs 1 and 2 threads."""
    settings, seen = [], set()
    for token in spec.split(","):
        token = token.strip()
        if token == "env":
            setting = {"label": "inherited environment", "threads": None}
        elif token == "default":
            n = defaults["torch"]
            setting = {"label": f"default ({_threads(n)})", "threads": n}
        elif token == "nproc":
            n = os.cpu_count() or 1
            setting = {"label": f"nproc ({_threads(n)})", "threads": n}
        else:
            n = int(token)
            setting = {"label": _threads(n), "threads": n}
        if setting["threads"] not in seen:
            seen.add(setting["threads"])
            settings.append(setting)
    return settings


def scaling(settings):
    """Each shape's and peer's median at each thread count, and the speed-up t(1)/t(N) for
    every N > 1 (where the run has 1 thread). JSON keys are the counts as strings."""
    counted = [s for s in settings if s["threads"] is not None]
    counts = sorted({s["threads"] for s in counted})
    shapes = {}
    for setting in counted:
        for name, case in setting["step"].items():
            for peer, t in case["peers"].items():
                entry = shapes.setdefault(name, {}).setdefault(peer, {"median_us": {}})
                entry["median_us"][str(setting["threads"])] = t["median_us"]
    for peers in shapes.values():
        for entry in peers.values():
            med = entry["median_us"]
            entry["speedup"] = {str(n): med["1"] / med[str(n)] for n in counts
                                if n != 1 and "1" in med and str(n) in med}
    return {"threads": counts, "shapes": shapes,
            "left_out": [s["label"] for s in settings if s["threads"] is None]}


def main(argv=None):
    args = parse_args(argv)
    sys.path.insert(0, HERE)
    import machine  # stdlib only: safe before the thread variables are set
    if args.worker:
        return machine.serve_worker(args.worker, lambda setting: run_worker(args, setting))

    import common
    import report
    import saved_bytes
    import sweep

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
        cmd = [os.path.abspath(__file__), "--worker", machine.JSON_ARG]
        cmd += ["--quick"] if args.quick else []
        cmd += ["--shapes", ",".join(shapes)]
        cmd += ["--budget", str(args.budget)] if args.budget is not None else []
        cmd += ["--null-op-library", args.null_op_library] if args.null_op_library else []
        rc, done = machine.run_python(cmd, setting["threads"], payload=setting)
        if rc:
            sys.exit(f"bench_step: the run at {setting['label']} failed")
        results["settings"].append(done)

    results["scaling"] = scaling(results["settings"])
    print(report.scaling(results["scaling"]), flush=True)

    failed = None
    if not args.quick and not args.no_sweep:
        progress(f"the shape sweep, {sweep.THREADS} thread")
        cmd = [os.path.join(HERE, "sweep.py"), "--json", machine.JSON_ARG, "--in-suite"]
        cmd += ["--cells", args.sweep_cells] if args.sweep_cells else []
        cmd += ["--bfloat16"] if args.sweep_bfloat16 else []
        rc, results["sweep"] = machine.run_python(cmd, sweep.THREADS)
        if rc:
            failed = "bench_step: the shape sweep failed (its message above says why)"

    print(report.targets(results), flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(results, f, indent=1)
    print(f"\nresults: {args.json}")
    if failed:
        sys.exit(failed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
