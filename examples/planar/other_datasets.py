#!/usr/bin/env python3
"""The lecture's other data sets: train the network on noisy circles, noisy moons, blobs or
gaussian quantiles (by name, or all of them) and save each decision boundary.

Each network trains on three quarters of the points and is scored on the other quarter too (a
fixed random split, held out of training). Every data set prints, and its panel shows, the
training and the held-out accuracy: a data set the network fits only by bending around single
points shows a held-out accuracy well below the training one.

    python3 examples/planar/other_datasets.py --dataset noisy_moons --plot moons.png
    python3 examples/planar/other_datasets.py --dataset all --plot other_datasets.png
"""
import argparse
import sys

import twolayer
from twolayer import datasets

from planar_plot import (HELD_OUT, HelpFormatter, accuracies_text, accuracy, draw_decision_boundary,
                         pyplot, split, units)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    parser.add_argument("--dataset", default="all", choices=datasets.NAMES + ("all",),
                        help="a data set by name, or 'all' for the four other than the flower")
    parser.add_argument("--hidden", type=int, default=4, help="hidden units")
    parser.add_argument("--activation", default="tanh", choices=twolayer.ACTIVATIONS,
                        help="activation of the hidden layer")
    parser.add_argument("--iterations", type=int, default=10000,
                        help="gradient-descent iterations per network")
    parser.add_argument("--learning-rate", type=float, default=1.2, help="the step size alpha")
    parser.add_argument("--seed", type=int, default=1,
                        help="seed of the data sets and of the initial weights")
    parser.add_argument("--held-out", type=float, default=HELD_OUT,
                        help="share of the points held out of training, to be scored on")
    parser.add_argument("--plot", default="other_datasets.png", help="where to save the figure")
    args = parser.parse_args(argv)

    names = [n for n in datasets.NAMES if n != "flower"] if args.dataset == "all" else [args.dataset]
    plt = pyplot()
    fig, axes = plt.subplots(1, len(names), figsize=(4.6 * len(names), 4.4), squeeze=False)
    for ax, name in zip(axes.flat, names):
        X64, Y64 = datasets.load(name, seed=args.seed)
        X, Y, X_test, Y_test = split(X64.float(), Y64.float(), args.held_out)
        net = twolayer.TwoLayerNet(2, args.hidden, 1, activation=args.activation, seed=args.seed)
        net.fit(X, Y, args.iterations, args.learning_rate)
        train_percent, test_percent = accuracy(net, X, Y), accuracy(net, X_test, Y_test)
        print(f"{name:>20}: training accuracy {train_percent:6.2f} % ({X.shape[0]} points), "
              f"held-out accuracy {test_percent:6.2f} % ({X_test.shape[0]} points)", flush=True)
        draw_decision_boundary(ax, net, X, Y, f"{name}, {units(args.hidden, args.activation)}\n"
                                              f"{accuracies_text(train_percent, test_percent)}",
                               legend=(ax is axes.flat[0]), X_test=X_test, Y_test=Y_test)
    fig.tight_layout()
    fig.savefig(args.plot, dpi=90)
    plt.close(fig)
    print(f"Figure saved to {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
