#!/usr/bin/env python3
"""The lecture's hidden-layer study: train the network with 1, 2, 3, 4, 5, 20 and 50 hidden units
on a planar data set and save the decision boundaries in one grid figure.

Each network trains on three quarters of the points; the other quarter (a fixed random split,
the same for every size) is held out. Every size prints, and its panel shows, both accuracies:
training (the points it was fitted to) and held-out (points it has never seen). A network that
fits the noise of its training points scores better on them than on the held-out ones: that gap,
not the training accuracy, is what the study is about.

    python3 examples/planar/hidden_sizes.py --plot hidden_sizes.png
    python3 examples/planar/hidden_sizes.py --dataset noisy_moons --plot moons_hidden.png
"""
import argparse
import math
import sys

import twolayer
from twolayer import datasets

from planar_plot import (HELD_OUT, HelpFormatter, accuracies_text, accuracy, draw_decision_boundary,
                         pyplot, split, units)

SIZES = (1, 2, 3, 4, 5, 20, 50)


def train(X, Y, n1, activation, iterations, learning_rate, seed):
    net = twolayer.TwoLayerNet(2, n1, 1, activation=activation, seed=seed)
    net.fit(X, Y, iterations, learning_rate)
    return net


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    parser.add_argument("--dataset", default="flower", choices=datasets.NAMES,
                        help="the planar data set to train on")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES),
                        help="hidden-layer sizes to compare, the lecture's by default")
    parser.add_argument("--activation", default="tanh", choices=twolayer.ACTIVATIONS,
                        help="activation of the hidden layer")
    parser.add_argument("--iterations", type=int, default=5000,
                        help="gradient-descent iterations per network")
    parser.add_argument("--learning-rate", type=float, default=1.2, help="the step size alpha")
    parser.add_argument("--seed", type=int, default=1,
                        help="seed of the data set and of the initial weights")
    parser.add_argument("--held-out", type=float, default=HELD_OUT,
                        help="share of the points held out of training, to be scored on")
    parser.add_argument("--plot", default="hidden_sizes.png", help="where to save the figure")
    args = parser.parse_args(argv)

    X64, Y64 = datasets.load(args.dataset, seed=args.seed)
    X, Y, X_test, Y_test = split(X64.float(), Y64.float(), args.held_out)
    print(f"{args.dataset}: {X.shape[0]} training points, {X_test.shape[0]} held out", flush=True)
    columns = min(4, len(args.sizes))
    rows = math.ceil(len(args.sizes) / columns)
    plt = pyplot()
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.9 * rows), squeeze=False)
    for k, n1 in enumerate(args.sizes):
        net = train(X, Y, n1, args.activation, args.iterations, args.learning_rate, args.seed)
        train_percent, test_percent = accuracy(net, X, Y), accuracy(net, X_test, Y_test)
        print(f"{units(n1, args.activation):>24}: training accuracy {train_percent:6.2f} %, "
              f"held-out accuracy {test_percent:6.2f} %", flush=True)
        draw_decision_boundary(axes.flat[k], net, X, Y,
                               f"{units(n1, args.activation)}\n"
                               f"{accuracies_text(train_percent, test_percent)}",
                               legend=(k == 0), X_test=X_test, Y_test=Y_test)
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
