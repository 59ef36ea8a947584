#!/usr/bin/env python3
"""The lecture's hidden-layer study: train the network with 1, 2, 3, 4, 5, 20 and 50 hidden units
on a planar data set and save the decision boundaries in one grid figure, each panel with its
training accuracy.

    python3 examples/planar/hidden_sizes.py --plot hidden_sizes.png
    python3 examples/planar/hidden_sizes.py --dataset noisy_moons --plot moons_hidden.png

On the flower, 1 and 2 units draw little more than a line (about 70 %); from 3 units on the
petals are separated (about 93 %), and 20 or 50 units add small islands around the noisy points
near the centre rather than accuracy.
"""
import argparse
import math
import sys

import twolayer
from twolayer import datasets

from planar_plot import accuracy, draw_decision_boundary, pyplot, units

SIZES = (1, 2, 3, 4, 5, 20, 50)


def train(X, Y, n1, activation, iterations, learning_rate, seed):
    net = twolayer.TwoLayerNet(2, n1, 1, activation=activation, seed=seed)
    net.fit(X, Y, iterations, learning_rate)
    return net


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="flower", choices=datasets.NAMES)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES),
                        help="hidden-layer sizes to compare (default: the lecture's)")
    parser.add_argument("--activation", default="tanh", choices=twolayer.ACTIVATIONS)
    parser.add_argument("--iterations", type=int, default=5000)
    parser.add_argument("--learning-rate", type=float, default=1.2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--plot", default="hidden_sizes.png", help="where to save the figure")
    args = parser.parse_args(argv)

    X64, Y64 = datasets.load(args.dataset, seed=args.seed)
    X, Y = X64.float(), Y64.float()
    columns = min(4, len(args.sizes))
    rows = math.ceil(len(args.sizes) / columns)
    plt = pyplot()
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.9 * rows), squeeze=False)
    for k, n1 in enumerate(args.sizes):
        net = train(X, Y, n1, args.activation, args.iterations, args.learning_rate, args.seed)
        percent = accuracy(net, X, Y)
        print(f"{units(n1, args.activation):>24}: accuracy {percent:6.2f} %", flush=True)
        draw_decision_boundary(axes.flat[k], net, X, Y,
                               f"{units(n1, args.activation)}\naccuracy {percent:.1f} %",
                               legend=(k == 0))
    for ax in axes.flat[len(args.sizes):]:
        ax.axis("off")
    fig.suptitle(f"{args.dataset}: hidden-layer sizes, {args.iterations} iterations, "
                 f"learning rate {args.learning_rate}")
    fig.tight_layout()
    fig.savefig(args.plot, dpi=90)
    plt.close(fig)
    print(f"Figure saved to {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
