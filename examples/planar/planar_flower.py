#!/usr/bin/env python3
"""Trains the lecture's network on the planar "flower" data set and plots its decision boundary.

2 inputs, 4 tanh hidden units, 1 sigmoid output, learning rate 1.2, 10 000 iterations of
gradient descent: forward, cost, the six backward equations (twolayer's hand-written backward),
then W := W - alpha * dW, all inside TwoLayerNet.fit (torch.ops.twolayer.fit_).
planar_flower.cpp does the same on the same points.
"""
import argparse
import sys

import torch

import twolayer


def flower(seed, points_per_class=200, petal_length=4.0):
    """The two petal-shaped classes, drawn exactly as examples/planar/planar_data.h draws them."""
    generator = torch.Generator().manual_seed(seed)
    xs, ys = [], []
    for label in range(2):
        t = (torch.linspace(3.12 * label, 3.12 * (label + 1), points_per_class, dtype=torch.float64)
             + 0.2 * torch.randn(points_per_class, generator=generator, dtype=torch.float64))
        r = (petal_length * torch.sin(4 * t)
             + 0.2 * torch.randn(points_per_class, generator=generator, dtype=torch.float64))
        xs.append(torch.stack([r * torch.sin(t), r * torch.cos(t)], dim=1))
        ys.append(torch.full((points_per_class, 1), float(label), dtype=torch.float64))
    return torch.cat(xs), torch.cat(ys)


def plot_decision_boundary(net, X, Y, path):
    import matplotlib
    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    lo, hi = X.min(0).values - 1, X.max(0).values + 1
    xx, yy = torch.meshgrid(torch.linspace(lo[0], hi[0], 300), torch.linspace(lo[1], hi[1], 300),
                            indexing="xy")
    grid = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1).to(X.dtype)
    labels = net.predict(grid).reshape(xx.shape)
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.contourf(xx, yy, labels, cmap=plt.cm.Spectral, alpha=0.8)
    ax.scatter(X[:, 0], X[:, 1], c=Y[:, 0], cmap=plt.cm.Spectral, s=12, edgecolors="k", linewidths=0.3)
    ax.set_title(f"Decision boundary, {net.W1.shape[0]} hidden {net.activation} units")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=10000)
    parser.add_argument("--learning-rate", type=float, default=1.2)
    parser.add_argument("--hidden", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
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

    accuracy = 100.0 * (net.predict(X) == Y).double().mean().item()
    print(f"Training accuracy: {accuracy:.2f} %")
    if args.plot:
        plot_decision_boundary(net, X, Y, args.plot)
        print(f"Decision boundary saved to {args.plot}")
    if accuracy < args.min_accuracy:
        print(f"accuracy {accuracy:.2f} % is below the required {args.min_accuracy} %", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
