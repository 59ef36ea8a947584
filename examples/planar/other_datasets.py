#!/usr/bin/env python3
"""The lecture's other data sets: train the network on noisy circles, noisy moons, blobs or
gaussian quantiles (by name, or all of them) and save each decision boundary with its accuracy.

    python3 examples/planar/other_datasets.py --dataset noisy_moons --plot moons.png
    python3 examples/planar/other_datasets.py --dataset all --plot other_datasets.png
"""
import argparse
import sys

import twolayer
from twolayer import datasets

from planar_plot import accuracy, draw_decision_boundary, pyplot, units


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="all", choices=datasets.NAMES + ("all",),
                        help="a data set by name, or 'all' for the four other than the flower")
    parser.add_argument("--hidden", type=int, default=4)
    parser.add_argument("--activation", default="tanh", choices=twolayer.ACTIVATIONS)
    parser.add_argument("--iterations", type=int, default=10000)
    parser.add_argument("--learning-rate", type=float, default=1.2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--plot", default="other_datasets.png", help="where to save the figure")
    args = parser.parse_args(argv)

    names = [n for n in datasets.NAMES if n != "flower"] if args.dataset == "all" else [args.dataset]
    plt = pyplot()
    fig, axes = plt.subplots(1, len(names), figsize=(4.6 * len(names), 4.4), squeeze=False)
    for ax, name in zip(axes.flat, names):
        X64, Y64 = datasets.load(name, seed=args.seed)
        X, Y = X64.float(), Y64.float()
        net = twolayer.TwoLayerNet(2, args.hidden, 1, activation=args.activation, seed=args.seed)
        net.fit(X, Y, args.iterations, args.learning_rate)
        percent = accuracy(net, X, Y)
        print(f"{name:>20}: accuracy {percent:6.2f} %", flush=True)
        draw_decision_boundary(ax, net, X, Y, f"{name}, {units(args.hidden, args.activation)}\n"
                                              f"accuracy {percent:.1f} %", legend=(ax is axes.flat[0]))
    fig.tight_layout()
    fig.savefig(args.plot, dpi=90)
    plt.close(fig)
    print(f"Figure saved to {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
