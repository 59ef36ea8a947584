"""The output layers side by side: sigmoid, softmax and identity, training and inference.

For each shape and output layer, twolayer's training step (loss + backward) against the same
network and cost in eager PyTorch with autograd (binary_cross_entropy_with_logits, cross_entropy
with probability targets, half the squared error), and its inference (forward under no_grad)
against eager's sigmoid / softmax / identity of the logits, by turns in one run. The targets are
those of sigmoid: a step and a forward no slower than eager's. Each peer's results are checked
against eager's before anything is timed.
"""
import argparse
import dataclasses
import json
import os
import statistics
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

OUTPUTS = ("sigmoid", "softmax", "identity")
# The suite's S and M, and a 10-class net the size of scikit-learn's digits.
SHAPES = {"S": common.SHAPES["S"], "M": common.SHAPES["M"], "D10": (1797, 64, 32, 10),
          "M10": (4096, 64, 256, 10)}
QUICK_SHAPES = ("S", "D10")
DEFAULT_JSON = os.path.join("build", "benchmarks", "outputs.json")


def targets(output, Y):
    """Y as each output layer's users give it: 0/1 labels, one-hot rows, real values."""
    if output == "softmax":
        return F.one_hot(torch.arange(Y.shape[0]) % Y.shape[1], Y.shape[1]).to(Y.dtype)
    if output == "identity":
        return Y * 2 - 1
    return Y


def eager_logits(X, W1, b1, W2, b2):
    return F.linear(torch.tanh(F.linear(X, W1, b1)), W2, b2)


def eager_cost(output, Z2, Y):
    m = Z2.shape[0]
    if output == "sigmoid":
        return F.binary_cross_entropy_with_logits(Z2, Y, reduction="sum") / m
    if output == "softmax":
        return F.cross_entropy(Z2, Y, reduction="sum") / m
    return F.mse_loss(Z2, Y, reduction="sum") / (2 * m)


EAGER_OUTPUT = {"sigmoid": torch.sigmoid, "softmax": lambda Z: torch.softmax(Z, 1),
                "identity": lambda Z: Z}


def peers(shape, output):
    X, Y, params = common.make_problem(shape)
    Y = targets(output, Y)
    leaves = [p.clone().requires_grad_(True) for p in params]

    def step_twolayer():
        torch.ops.twolayer.loss(X, Y, *leaves, "tanh", output).backward()

    def step_eager():
        eager_cost(output, eager_logits(X, *leaves), Y).backward()

    def forward_twolayer():
        with torch.no_grad():
            return torch.ops.twolayer.forward(X, *params, "tanh", output)

    def forward_eager():
        with torch.no_grad():
            return EAGER_OUTPUT[output](eager_logits(X, *params))

    # The peers agree before they are timed.
    J = torch.ops.twolayer.loss(X, Y, *params, "tanh", output)
    torch.testing.assert_close(J, eager_cost(output, eager_logits(X, *params), Y),
                               rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(forward_twolayer(), forward_eager(), rtol=1e-4, atol=1e-6)
    return {"step": {"twolayer": step_twolayer, "eager": step_eager},
            "forward": {"twolayer": forward_twolayer, "eager": forward_eager}}


def measure(names, budget, rounds):
    rows = []
    for name in names:
        for output in OUTPUTS:
            print(f"[{torch.get_num_threads()} thread(s)] {name} {output}", file=sys.stderr,
                  flush=True)
            row = {"shape": name, "dims": list(SHAPES[name]), "output": output}
            for kind, fns in peers(SHAPES[name], output).items():
                timings = common.measure_interleaved(fns, budget, rounds)
                row[kind] = {peer: t.to_json() for peer, t in timings.items()}
                row[f"{kind}_twolayer/eager"] = (timings["twolayer"].median_us
                                                 / timings["eager"].median_us)
            rows.append(row)
    return rows


def table(rows):
    lines = [f"{'shape':<6} {'(m, n0, n1, n2)':<22} {'output':<9} "
             f"{'step us':>9} {'step/eager':>11} {'forward us':>11} {'forward/eager':>14}"]
    for r in rows:
        lines.append(f"{r['shape']:<6} {str(tuple(r['dims'])):<22} {r['output']:<9} "
                     f"{r['step']['twolayer']['median_us']:>9.1f} "
                     f"{r['step_twolayer/eager']:>11.2f} "
                     f"{r['forward']['twolayer']['median_us']:>11.1f} "
                     f"{r['forward_twolayer/eager']:>14.2f}")
    by_output = {o: [r for r in rows if r["output"] == o] for o in OUTPUTS}
    lines.append("medians of twolayer/eager by output layer: " + "; ".join(
        f"{o} step {statistics.median(r['step_twolayer/eager'] for r in rs):.2f}, "
        f"forward {statistics.median(r['forward_twolayer/eager'] for r in rs):.2f}"
        for o, rs in by_output.items()))
    return "\n".join(lines)


def parse_args(argv):
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=type("Formatter", (argparse.RawDescriptionHelpFormatter,
                                           argparse.ArgumentDefaultsHelpFormatter), {}))
    p.add_argument("--quick", action="store_true",
                   help=f"shapes {', '.join(QUICK_SHAPES)} only, few repetitions")
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    p.add_argument("--budget", type=float, help="seconds per peer and case")
    p.add_argument("--json", default=DEFAULT_JSON, help="where to write the results")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    budget = common.QUICK_BUDGET if args.quick else common.FULL_BUDGET
    if args.budget is not None:
        budget = dataclasses.replace(budget, budget_s=args.budget)
    rounds = common.QUICK_ROUNDS if args.quick else common.FULL_ROUNDS
    names = QUICK_SHAPES if args.quick else tuple(SHAPES)
    rows = measure(names, budget, rounds)
    print(f"Output layers, tanh hidden layer, float32, {args.threads} thread(s), "
          f"torch {torch.__version__}: twolayer against eager autograd (step) and eager "
          "no_grad (forward); below 1 is faster")
    print(table(rows))
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump({"torch": torch.__version__, "threads": args.threads, "rows": rows}, f,
                      indent=1)
    return rows


if __name__ == "__main__":
    main()
