#!/usr/bin/env python3
"""Regression with an identity output layer, beside torch.nn.Sequential.

Fits twolayer.TwoLayerNet(output="identity") to a noisy 1-D curve, y = sin(2x) + noise on
[-3, 3], with TwoLayerNet.fit (full-batch gradient descent on J = (1/2m) sum (A2 - y)^2, in
C++). torch.nn.Sequential(Linear, Tanh, Linear) starts from the same weights and takes the same
steps on 0.5 * F.mse_loss in an eager loop. Both are scored with R² on a fixed held-out split,
and the fitted curves are saved as a figure.

    python3 examples/outputs/regression.py
    python3 examples/outputs/regression.py --noise 0.3 --plot noisy_fit.png

The two columns agree to rounding: the hand-written backward of the identity layer starts from
dZ2 = A2 - Y, autograd's gradient of half the squared error.
"""
import argparse
import sys

import torch
import torch.nn.functional as F

import twolayer
from side_by_side import sequential_like, split, train_sequential  # beside this script


def noisy_curve(m, noise, seed):
    """m points x uniform on [-3, 3] (sorted), y = sin(2x) + noise * N(0, 1), both (m,)."""
    generator = torch.Generator().manual_seed(seed)
    x = (torch.rand(m, generator=generator, dtype=torch.float64) * 6.0 - 3.0).sort().values
    y = torch.sin(2.0 * x) + noise * torch.randn(m, generator=generator, dtype=torch.float64)
    return x, y


def r2(prediction, y):
    """The coefficient of determination: 1 - sum of squared residuals / sum of squares about
    the mean (1 for a perfect fit, 0 for predicting the mean)."""
    prediction, y = prediction.reshape(-1), y.reshape(-1)
    return (1.0 - ((y - prediction) ** 2).sum() / ((y - y.mean()) ** 2).sum()).item()


def plot_fit(x_train, y_train, x_test, y_test, net, model, title, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    grid = torch.linspace(-3.2, 3.2, 400, dtype=torch.float64)
    with torch.no_grad():
        ours = net.predict(grid.reshape(-1, 1))
        theirs = model(grid.reshape(-1, 1)).reshape(-1)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.scatter(x_train, y_train, s=10, c="#9e9e9e", label="training points")
    ax.scatter(x_test, y_test, s=16, c="#c62828", marker="x", label="held-out points")
    ax.plot(grid, torch.sin(2.0 * grid), c="black", lw=0.8, ls=":", label="sin(2x)")
    ax.plot(grid, ours, c="#1f4fa0", lw=2.0, label="twolayer, identity output")
    ax.plot(grid, theirs, c="#f9a825", lw=1.0, ls="--", label="nn.Sequential")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=type("Formatter", (
                                         argparse.ArgumentDefaultsHelpFormatter,
                                         argparse.RawDescriptionHelpFormatter), {}))
    parser.add_argument("--examples", type=int, default=200, help="points on the curve")
    parser.add_argument("--noise", type=float, default=0.1, help="standard deviation of the noise")
    parser.add_argument("--hidden", type=int, default=10, help="hidden tanh units")
    parser.add_argument("--iterations", type=int, default=20000, help="gradient-descent steps")
    parser.add_argument("--learning-rate", type=float, default=0.3, help="step size")
    parser.add_argument("--held-out", type=float, default=0.25,
                        help="fraction of the points held out for testing")
    parser.add_argument("--seed", type=int, default=1, help="seeds the data, split and weights")
    parser.add_argument("--plot", default="regression_fit.png",
                        help="where to save the fitted curves")
    args = parser.parse_args(argv)

    x, y = noisy_curve(args.examples, args.noise, args.seed)
    X = x.reshape(-1, 1)
    X_train, y_train, X_test, y_test = split(X, y, args.held_out, args.seed + 1)
    print(f"sin(2x) + {args.noise} noise: {X_train.shape[0]} training and {X_test.shape[0]} "
          f"held-out points; {args.hidden} hidden tanh units, {args.iterations} iterations, "
          f"learning rate {args.learning_rate}")

    net = twolayer.TwoLayerNet(1, args.hidden, 1, output="identity", init_scale=1.0,
                               seed=args.seed, dtype=torch.float64)
    model = sequential_like(net)  # the same starting weights
    net.fit(X_train, y_train, args.iterations, args.learning_rate)  # targets of shape (m,)
    train_sequential(model,
                     lambda model: 0.5 * F.mse_loss(model(X_train).reshape(-1), y_train),
                     args.iterations, args.learning_rate)

    with torch.no_grad():
        rows = [("twolayer", net.score(X_train, y_train), net.score(X_test, y_test)),
                ("nn.Sequential", r2(model(X_train), y_train), r2(model(X_test), y_test))]
    for name, train, test in rows:
        print(f"{name:<14} train R2 {train:.4f}  held-out R2 {test:.4f}")

    plot_fit(X_train.reshape(-1), y_train, X_test.reshape(-1), y_test, net, model,
             f"sin(2x) + noise, held out: R² {rows[0][2]:.3f}", args.plot)
    print(f"Figure saved to {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
