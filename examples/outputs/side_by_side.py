"""What the output-layer studies share: a fixed held-out split, and torch.nn.Sequential started
from a TwoLayerNet's weights and trained by the same full-batch gradient descent with autograd,
to stand beside it."""
import torch


def split(X, y, held_out, seed):
    """A fixed shuffled split: the first `held_out` fraction of a seeded permutation is held
    out. Returns X_train, y_train, X_test, y_test."""
    order = torch.randperm(X.shape[0], generator=torch.Generator().manual_seed(seed))
    n_test = int(round(held_out * X.shape[0]))
    train, test = order[n_test:], order[:n_test]
    return X[train], y[train], X[test], y[test]


def sequential_like(net):
    """torch.nn.Sequential(Linear, Tanh, Linear) with the net's (untrained) weights."""
    n1, n0 = net.W1.shape
    model = torch.nn.Sequential(torch.nn.Linear(n0, n1), torch.nn.Tanh(),
                                torch.nn.Linear(n1, net.W2.shape[0])).to(net.W1.dtype)
    with torch.no_grad():
        for layer, (W, b) in ((model[0], (net.W1, net.b1)), (model[2], (net.W2, net.b2))):
            layer.weight.copy_(W)
            layer.bias.copy_(b)
    return model


def train_sequential(model, cost, iterations, learning_rate):
    """W := W - learning_rate * dW for `iterations` steps, dW from autograd of cost(model)."""
    for _ in range(iterations):
        model.zero_grad()
        cost(model).backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= learning_rate * p.grad
    return model
