#!/usr/bin/env python3
"""Trains the lecture's network on the planar "flower" data set and plots its decision boundary.

2 inputs, 4 tanh hidden units, 1 sigmoid output, learning rate 1.2, 10 000 iterations of
gradient descent: forward, cost, the six backward equations (twolayer's hand-written backward),
then W := W - alpha * dW, all inside TwoLayerNet.fit (torch.ops.twolayer.fit_).
planar_flower.cpp does the same on the same points.
"""
import argparse
import sys

import twolayer
from twolayer.datasets import flower  # noqa: F401  (also what benchmarks/fit_loop.py imports)

from planar_plot import HelpFormatter, accuracy, save_decision_boundary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    parser.add_argument("--iterations", type=int, default=10000, help="gradient-descent iterations")
    parser.add_argument("--learning-rate", type=float, default=1.2, help="the step size alpha")
    parser.add_argument("--hidden", type=int, default=4, help="hidden units")
    parser.add_argument("--seed", type=int, default=1,
                        help="seed of the data set and of the initial weights")
    parser.add_argument("--plot", default="planar_decision_boundary.png",
                        help="where to save the decision-boundary plot ('' for none)")
    parser.add_argument("--min-accuracy", type=float, default=0.0,
                        help="exit with status 1 if the training accuracy (%%) is lower")
    args = parser.parse_args(argv)

    X64, Y64 = flower(args.seed)
    X, Y = X64.float(), Y64.float()
    net = twolayer.TwoLayerNet(2, args.hidden, 1, seed=args.seed)
    print(f"{net} on {X.shape[0]} points, learning rate {args.learning_rate}, "
          f"{args.iterations} iterations")
    # The lecture's loop (cost, the six backward equations, W := W - alpha dW) runs in C++.
    net.fit(X, Y, args.iterations, args.learning_rate, progress=True, every=1000)

    percent = accuracy(net, X, Y)
    print(f"Training accuracy: {percent:.2f} %")
    if args.plot:
        save_decision_boundary(net, X, Y, args.plot)
        print(f"Decision boundary saved to {args.plot}")
    if percent < args.min_accuracy:
        print(f"accuracy {percent:.2f} % is below the required {args.min_accuracy} %", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
