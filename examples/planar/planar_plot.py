"""What the planar examples share: decision-boundary plots (matplotlib, no display needed), the
fixed split into training and held-out points, and the help formatter of their command lines."""
import argparse

import torch

# The share of each data set the studies hold out, and the seed of the split. The split is the
# same whatever --seed says (that one draws the data and the initial weights), so that runs with
# different settings are scored on the same held-out points.
HELD_OUT = 0.25
SPLIT_SEED = 2024


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """--help prints the script's whole docstring as written and every option's default."""


def split(X, Y, held_out=HELD_OUT, seed=SPLIT_SEED):
    """(X_train, Y_train, X_test, Y_test): a fixed random held_out share of the examples, kept
    out of training, on which a network that has learnt the shape rather than the noise scores
    about as well as on its training set."""
    if not 0.0 <= held_out < 1.0:
        raise ValueError(f"held_out must be in [0, 1), got {held_out}")
    order = torch.randperm(X.shape[0], generator=torch.Generator().manual_seed(seed))
    n_test = int(round(held_out * X.shape[0]))
    test, train = order[:n_test], order[n_test:]
    return X[train], Y[train], X[test], Y[test]

# Pale regions behind strong points: each class keeps one hue, and the points stand out from
# the region they lie in whether they are classified right or wrong.
REGION_COLOURS = ("#f6cfcf", "#cfdcf6")
POINT_COLOURS = ("#c62828", "#1f4fa0")


def pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def accuracy(net, X, Y):
    """The percentage of examples whose predicted label equals Y (nan for no examples)."""
    if X.shape[0] == 0:
        return float("nan")
    return 100.0 * net.score(X, Y)


def accuracies_text(train_percent, test_percent):
    """The two accuracies as the studies print and plot them, labelled."""
    return f"training {train_percent:.1f} %, held-out {test_percent:.1f} %"


def units(n1, activation):
    return f"{n1} hidden {activation} unit{'' if n1 == 1 else 's'}"


def draw_decision_boundary(ax, net, X, Y, title, legend=True, X_test=None, Y_test=None):
    """The regions the net assigns to each class, the training points over them (filled), the
    held-out points X_test, Y_test if given (hollow), a legend."""
    from matplotlib.colors import ListedColormap

    X_all = X if X_test is None else torch.cat([X, X_test])
    lo, hi = X_all.min(0).values - 1, X_all.max(0).values + 1
    xx, yy = torch.meshgrid(torch.linspace(lo[0], hi[0], 300), torch.linspace(lo[1], hi[1], 300),
                            indexing="xy")
    grid = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1).to(X.dtype)
    labels = net.predict(grid).reshape(xx.shape)
    ax.contourf(xx, yy, labels, levels=[-0.5, 0.5, 1.5], cmap=ListedColormap(REGION_COLOURS))
    ax.contour(xx, yy, labels, levels=[0.5], colors="#444444", linewidths=0.8)
    for label in range(2):
        rows = Y[:, 0] == label
        ax.scatter(X[rows, 0], X[rows, 1], s=14, c=POINT_COLOURS[label], edgecolors="black",
                   linewidths=0.4, label=f"class {label} (y = {label})"
                   + (", training" if X_test is not None else ""))
        if X_test is not None:
            rows = Y_test[:, 0] == label
            ax.scatter(X_test[rows, 0], X_test[rows, 1], s=22, facecolors="white",
                       edgecolors=POINT_COLOURS[label], linewidths=1.2,
                       label=f"class {label}, held-out")
    ax.set_title(title)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if legend:
        ax.legend(loc="upper right", fontsize="small", framealpha=0.9)


def save_decision_boundary(net, X, Y, path):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 5))
    n1 = net.W1.shape[0]
    draw_decision_boundary(ax, net, X, Y, f"Decision boundary, {units(n1, net.activation)}: "
                           f"accuracy {accuracy(net, X, Y):.1f} %")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
