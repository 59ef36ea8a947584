"""Decision-boundary plots shared by the planar examples (matplotlib, no display needed)."""
import torch

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
    """The percentage of examples whose predicted label equals Y."""
    return 100.0 * net.score(X, Y)


def units(n1, activation):
    return f"{n1} hidden {activation} unit{'' if n1 == 1 else 's'}"


def draw_decision_boundary(ax, net, X, Y, title, legend=True):
    """The regions the net assigns to each class, the points over them, a legend."""
    from matplotlib.colors import ListedColormap

    lo, hi = X.min(0).values - 1, X.max(0).values + 1
    xx, yy = torch.meshgrid(torch.linspace(lo[0], hi[0], 300), torch.linspace(lo[1], hi[1], 300),
                            indexing="xy")
    grid = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1).to(X.dtype)
    labels = net.predict(grid).reshape(xx.shape)
    ax.contourf(xx, yy, labels, levels=[-0.5, 0.5, 1.5], cmap=ListedColormap(REGION_COLOURS))
    ax.contour(xx, yy, labels, levels=[0.5], colors="#444444", linewidths=0.8)
    for label in range(2):
        rows = Y[:, 0] == label
        ax.scatter(X[rows, 0], X[rows, 1], s=14, c=POINT_COLOURS[label], edgecolors="black",
                   linewidths=0.4, label=f"class {label} (y = {label})")
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
