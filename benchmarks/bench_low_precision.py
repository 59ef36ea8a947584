#!/usr/bin/env python3
"""Low precision: twolayer's training step and inference in bfloat16 (and float16 on PyTorch 2.x),
as low-precision tensors and under torch.autocast, against eager PyTorch in the same precision
and against twolayer's own float32.

For each shape and mode, three peers take turns (common.measure_interleaved): twolayer in the
mode, eager PyTorch in the same mode (F.linear, tanh, F.linear, binary_cross_entropy_with_logits
in the low-precision dtype, or the same float32 network under the same autocast), and twolayer in
float32 with no autocast. The step is the cost and backward(); inference is forward under
no_grad. The modes:

- bfloat16, float16: X, W1, b1, W2, b2 (and eager's Y) in that dtype; twolayer takes Y in
  float32, as its contract allows;
- autocast_bfloat16, autocast_float16: float32 tensors under torch.autocast("cpu", dtype).

float16 runs on PyTorch 2.0 or later only (1.x has no float16 products on the CPU). Before
anything is timed, twolayer's cost, gradients and A2 in the mode are checked against its float32
ones. Whether the CPU has bfloat16 instructions (avx512_bf16, amx_bf16 in /proc/cpuinfo) decides
much: without them ATen emulates bfloat16 products, slower than float32 (docs/low_precision.md).

    python benchmarks/bench_low_precision.py [--quick] [--shapes S,M] [--threads 1]
                                             [--budget SECONDS] [--json PATH]
"""
import argparse
import contextlib
import dataclasses
import json
import os
import statistics
import sys

import torch
import torch.nn.functional as F

import twolayer._testing

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import machine  # noqa: E402
import step_peers  # noqa: E402

DEFAULT_JSON = os.path.join("build", "benchmarks", "low_precision.json")
TORCH2 = int(torch.__version__.split(".")[0]) >= 2
# (mode, dtype, autocast): float16 where the CPU has its products (PyTorch 2.x).
ALL_MODES = (("bfloat16", torch.bfloat16, False), ("autocast_bfloat16", torch.bfloat16, True),
             ("float16", torch.float16, False), ("autocast_float16", torch.float16, True))
MODES = tuple(m for m in ALL_MODES if m[1] != torch.float16 or TORCH2)
PEERS = ("twolayer", "eager", "twolayer_float32")
# twolayer in low precision against its own float32: the cost, each gradient (relative to its
# largest entry) and A2, each within CHECK_RTOL or within CHECK_EAGER_FACTOR times eager's error
# in the same mode. The second bound is for the products: where ATen accumulates a bfloat16
# product in bfloat16 (PyTorch 1.13 on a CPU without bfloat16 instructions does), dW1 and dW2,
# sums over the m examples, are off by tens of percent in eager and twolayer alike
# (docs/low_precision.md); twolayer must be no worse than eager there.
CHECK_RTOL = step_peers.CHECK_RTOL_BY_DTYPE[torch.bfloat16]
CHECK_EAGER_FACTOR = step_peers.LOW_PRECISION_EAGER_FACTOR


def _autocast(dtype, on):
    """The autocast of a mode: torch.autocast("cpu", dtype), or nothing at all (a disabled
    autocast would still cost its entry and exit in every timed call)."""
    if on:
        return torch.autocast("cpu", dtype=dtype)
    return contextlib.nullcontext()


def _eager_forward(X, W1, b1, W2, b2):
    return torch.sigmoid(F.linear(torch.tanh(F.linear(X, W1, b1)), W2, b2))


def peers(shape, dtype, autocast):
    """{"step": {peer: fn}, "forward": {peer: fn}} for one shape and mode, after the check."""
    X, Y, params = common.make_problem(shape)
    # The mode's tensors: low-precision ones, or float32 ones that autocast casts.
    Xm, Ym, pm = ((X, Y, params) if autocast
                  else (X.to(dtype), Y.to(dtype), [p.to(dtype) for p in params]))

    def in_mode(loss_fn):
        def loss(X_, Y_, *ps):
            with _autocast(dtype, autocast):
                return loss_fn(X_, Y_, *ps)
        return loss

    # twolayer takes Y in float32 for a low-precision network; eager's Y is the mode's.
    twolayer_step, twolayer_result = step_peers._autograd_step(
        in_mode(common.twolayer_loss), Xm, Y, pm)
    eager_step, eager_result = step_peers._autograd_step(in_mode(common.reference_loss), Xm, Ym, pm)
    f32_step, f32_result = step_peers._autograd_step(common.twolayer_loss, X, Y, params)

    def forward_in(fn, X_, ps, on):
        def forward():
            with torch.no_grad(), _autocast(dtype, on):
                return fn(X_, *ps)
        return forward

    forwards = {"twolayer": forward_in(torch.ops.twolayer.forward, Xm, pm, autocast),
                "eager": forward_in(_eager_forward, Xm, pm, autocast),
                "twolayer_float32": forward_in(torch.ops.twolayer.forward, X, params, False)}

    reference = f32_result()
    check = {"twolayer": step_peers.relative_error(twolayer_result(), reference),
             "eager": step_peers.relative_error(eager_result(), reference)}
    A2_ref = forwards["twolayer_float32"]()
    for peer in ("twolayer", "eager"):
        A2 = forwards[peer]().float()
        check[f"{peer}_forward"] = ((A2 - A2_ref).abs().max() / A2_ref.abs().max()).item()
    for mine, eager in (("twolayer", "eager"), ("twolayer_forward", "eager_forward")):
        bound = max(CHECK_RTOL, CHECK_EAGER_FACTOR * check[eager])
        if not check[mine] <= bound:
            raise SystemExit(f"bench_low_precision: {mine} in {dtype} (autocast {autocast}) "
                             f"disagrees with its float32 at {shape}: relative error "
                             f"{check[mine]:.2e} > {bound:.2e} (eager's {check[eager]:.2e})")
    return ({"step": {"twolayer": twolayer_step, "eager": eager_step,
                      "twolayer_float32": f32_step},
             "forward": forwards}, check)


def ratios(timings):
    """twolayer's median over eager's and over its own float32's, from {peer: Timing JSON}."""
    med = {peer: t["median_us"] for peer, t in timings.items()}
    return {"twolayer/eager": med["twolayer"] / med["eager"],
            "twolayer/twolayer_float32": med["twolayer"] / med["twolayer_float32"]}


def measure(names, modes, budget, rounds):
    rows = []
    for name in names:
        for mode, dtype, autocast in modes:
            print(f"[{torch.get_num_threads()} thread(s)] {name} {mode}", file=sys.stderr,
                  flush=True)
            fns, check = peers(common.SHAPES[name], dtype, autocast)
            row = {"shape": name, "dims": list(common.SHAPES[name]), "mode": mode,
                   "dtype": str(dtype).replace("torch.", ""), "autocast": autocast,
                   "check": check}
            for kind, kind_fns in fns.items():
                timings = common.measure_interleaved(kind_fns, budget, rounds)
                row[kind] = {peer: t.to_json() for peer, t in timings.items()}
                row[f"{kind}_ratios"] = ratios(row[kind])
            rows.append(row)
    return rows


def summary(rows):
    """Per mode, the median over the shapes of each of twolayer's ratios, step and forward."""
    result = {}
    for mode in dict.fromkeys(r["mode"] for r in rows):
        mine = [r for r in rows if r["mode"] == mode]
        result[mode] = {f"{kind} {key}": statistics.median(r[f"{kind}_ratios"][key] for r in mine)
                        for kind in ("step", "forward")
                        for key in ("twolayer/eager", "twolayer/twolayer_float32")}
    return result


def header(info, threads, blas_threads):
    flags = ", ".join(f"{flag} {'yes' if info[flag] else 'no'}" for flag in machine.BF16_FLAGS)
    return (f"Low precision: {info['cpu_model']} ({flags}); twolayer's bfloat16 products: "
            f"{info['products']}; {threads} torch thread(s), OpenBLAS threads {blas_threads}; "
            f"torch {torch.__version__}; tanh, sigmoid output")


def table(rows):
    lines = ["| shape | mode | step twolayer | step eager | step float32 | step / eager | "
             "step / float32 | forward twolayer | forward / eager | forward / float32 |",
             "|---" * 10 + "|"]
    for r in rows:
        s, f = r["step"], r["forward"]
        lines.append(
            f"| {r['shape']} {tuple(r['dims'])} | {r['mode']} | "
            f"{_us(s['twolayer'])} | {_us(s['eager'])} | {_us(s['twolayer_float32'])} | "
            f"{r['step_ratios']['twolayer/eager']:.2f} | "
            f"{r['step_ratios']['twolayer/twolayer_float32']:.2f} | "
            f"{_us(f['twolayer'])} | {r['forward_ratios']['twolayer/eager']:.2f} | "
            f"{r['forward_ratios']['twolayer/twolayer_float32']:.2f} |")
    lines.append("medians (µs); float32: twolayer's own float32 step or forward, no autocast; "
                 "below 1 is faster")
    for mode, medians in summary(rows).items():
        lines.append(f"median over the shapes, {mode}: " + "; ".join(
            f"{key} {value:.2f}" for key, value in medians.items()))
    return "\n".join(lines)


def _us(timing):
    us = timing["median_us"]
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.1f} µs"


def parse_args(argv):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help=f"shapes {', '.join(common.QUICK_SHAPES)} only, few repetitions")
    p.add_argument("--shapes", help="comma-separated names of common.SHAPES: "
                   + ", ".join(common.SHAPES))
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    p.add_argument("--budget", type=float, help="seconds per peer and case")
    p.add_argument("--json", default=DEFAULT_JSON, help="where to write the results")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    names = common.QUICK_SHAPES if args.quick else tuple(common.SHAPES)
    if args.shapes:
        names = tuple(n.strip() for n in args.shapes.split(",") if n.strip())
        unknown = [n for n in names if n not in common.SHAPES]
        if unknown:
            raise SystemExit(f"bench_low_precision: no shape {', '.join(unknown)}; the shapes "
                             "are " + ", ".join(common.SHAPES))
    torch.set_num_threads(args.threads)
    budget = common.QUICK_BUDGET if args.quick else common.FULL_BUDGET
    if args.budget is not None:
        budget = dataclasses.replace(budget, budget_s=args.budget)
    rounds = common.QUICK_ROUNDS if args.quick else common.FULL_ROUNDS
    # "native" (ATen's bfloat16 kernels) or "float32" (float32 GEMM on the bfloat16 numbers):
    # how twolayer runs the products here (csrc/ops/cpu/low_precision_path.h).
    info = dict(machine.bf16_support(),
                products=twolayer._testing.low_precision_products(torch.bfloat16))
    load_start = os.getloadavg()[0]
    rows = measure(names, MODES, budget, rounds)
    load = [load_start, os.getloadavg()[0]]
    # One process: torch's threads are set here, OpenBLAS's only by the environment it started
    # with (OPENBLAS_NUM_THREADS; machine.py says why).
    blas_threads = machine.blas_runtime().get("openblas_threads")
    print(header(info, args.threads, blas_threads) + f"; load average {load[0]:.1f} at the "
          f"start, {load[1]:.1f} at the end")
    if not TORCH2:
        print(f"float16: not run (torch {torch.__version__} has no float16 products on the CPU)")
    print(table(rows), flush=True)
    results = {"torch": torch.__version__, "threads": args.threads,
               "blas_threads": blas_threads,
               "machine": info, "modes": [m[0] for m in MODES], "load_avg_1min": load,
               "rows": rows, "summary": summary(rows)}
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return results


if __name__ == "__main__":
    main()
