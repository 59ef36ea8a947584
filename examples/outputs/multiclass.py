#!/usr/bin/env python3
"""Multi-class classification with a softmax output layer, beside torch.nn.Sequential.

Trains twolayer.TwoLayerNet(output="softmax") on scikit-learn's handwritten digits (8x8 images,
10 classes) when scikit-learn is installed, else on a generated spiral of 3 classes, with
TwoLayerNet.fit (full-batch gradient descent in C++). torch.nn.Sequential(Linear, Tanh, Linear)
starts from the same weights and takes the same steps on F.cross_entropy in an eager loop.
Both are scored on a fixed held-out split, and the confusion matrix of the held-out
predictions is saved as a figure.

    python3 examples/outputs/multiclass.py
    python3 examples/outputs/multiclass.py --dataset spiral --plot spiral_confusion.png

The two columns agree to rounding: the hand-written backward of the softmax layer starts from
dZ2 = A2 - Y, which is autograd's gradient of the cross-entropy.
"""
import argparse
import math
import sys

import torch
import torch.nn.functional as F

import twolayer
from side_by_side import sequential_like, split, train_sequential  # beside this script


def spiral(points_per_class=300, classes=3, seed=0):
    """The classic spiral: `classes` arms of noisy points around the origin, labels 0..K-1."""
    generator = torch.Generator().manual_seed(seed)
    X, y = [], []
    for k in range(classes):
        r = torch.linspace(0.0, 1.0, points_per_class, dtype=torch.float64)
        t = (torch.linspace(k * 4.0, (k + 1) * 4.0, points_per_class, dtype=torch.float64)
             + 0.2 * torch.randn(points_per_class, generator=generator, dtype=torch.float64))
        X.append(torch.stack([r * torch.sin(t), r * torch.cos(t)], dim=1))
        y.append(torch.full((points_per_class,), k, dtype=torch.long))
    return torch.cat(X), torch.cat(y)


def digits():
    """scikit-learn's digits: 1797 images of 8x8 pixels in 0..16, scaled to [0, 1]."""
    from sklearn.datasets import load_digits
    data = load_digits()
    return (torch.tensor(data.data, dtype=torch.float64) / 16.0,
            torch.tensor(data.target, dtype=torch.long))


def have_sklearn():
    try:
        import sklearn  # noqa: F401
    except ImportError:
        return False
    return True


def confusion(predicted, y, classes):
    matrix = torch.zeros(classes, classes, dtype=torch.long)
    matrix.index_put_((y, predicted), torch.ones_like(y), accumulate=True)
    return matrix


def plot_confusion(matrix, title, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    classes = matrix.shape[0]
    size = max(3.5, 1.0 + 0.55 * classes)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(matrix.numpy(), cmap="Blues")
    for i in range(classes):
        for j in range(classes):
            count = int(matrix[i, j])
            ax.text(j, i, str(count), ha="center", va="center", fontsize=8,
                    color="white" if count > matrix.max() / 2 else "black")
    ax.set_xticks(range(classes))
    ax.set_yticks(range(classes))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=type("Formatter", (
                                         argparse.ArgumentDefaultsHelpFormatter,
                                         argparse.RawDescriptionHelpFormatter), {}))
    parser.add_argument("--dataset", choices=("auto", "digits", "spiral"), default="auto",
                        help="auto: digits when scikit-learn is installed, else spiral")
    parser.add_argument("--hidden", type=int, default=None,
                        help="hidden units (default: 32 for digits, 50 for spiral)")
    parser.add_argument("--iterations", type=int, default=None,
                        help="gradient-descent steps (default: 2000 for digits, 3000 for spiral)")
    parser.add_argument("--learning-rate", type=float, default=None,
                        help="step size (default: 0.5 for digits, 1.0 for spiral)")
    parser.add_argument("--held-out", type=float, default=0.25,
                        help="fraction of the examples held out for testing")
    parser.add_argument("--seed", type=int, default=1, help="seeds the split and the weights")
    parser.add_argument("--plot", default="multiclass_confusion.png",
                        help="where to save the held-out confusion matrix")
    args = parser.parse_args(argv)

    dataset = args.dataset
    if dataset == "auto":
        dataset = "digits" if have_sklearn() else "spiral"
    defaults = {"digits": (32, 2000, 0.5), "spiral": (50, 3000, 1.0)}[dataset]
    n1 = args.hidden if args.hidden is not None else defaults[0]
    iterations = args.iterations if args.iterations is not None else defaults[1]
    learning_rate = args.learning_rate if args.learning_rate is not None else defaults[2]

    X, y = digits() if dataset == "digits" else spiral(seed=args.seed)
    classes = int(y.max()) + 1
    X_train, y_train, X_test, y_test = split(X, y, args.held_out, args.seed)
    print(f"{dataset}: {X_train.shape[0]} training and {X_test.shape[0]} held-out examples, "
          f"{X.shape[1]} features, {classes} classes; {n1} hidden tanh units, {iterations} "
          f"iterations, learning rate {learning_rate}")

    # Weights of scale 1/sqrt(fan-in), so that both data sets start in tanh's steep middle.
    net = twolayer.TwoLayerNet(X.shape[1], n1, classes, output="softmax",
                               init_scale=1.0 / math.sqrt(X.shape[1]), seed=args.seed,
                               dtype=torch.float64)
    model = sequential_like(net)  # the same starting weights
    net.fit(X_train, y_train, iterations, learning_rate)  # class indices, made one-hot by fit
    train_sequential(model, lambda model: F.cross_entropy(model(X_train), y_train),
                     iterations, learning_rate)

    with torch.no_grad():
        rows = [("twolayer", net.score(X_train, y_train), net.score(X_test, y_test))]
        rows.append(("nn.Sequential",
                     (model(X_train).argmax(1) == y_train).double().mean().item(),
                     (model(X_test).argmax(1) == y_test).double().mean().item()))
    for name, train, test in rows:
        print(f"{name:<14} train accuracy {train:.4f}  held-out accuracy {test:.4f}")

    matrix = confusion(net.predict(X_test), y_test, classes)
    plot_confusion(matrix, f"{dataset}, held out: accuracy {rows[0][2]:.3f}", args.plot)
    print(f"Figure saved to {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
