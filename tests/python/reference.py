"""The independent oracle of the Python tests: the two-layer network in stock PyTorch operators.

F.linear, the stock activations and PyTorch's losses (binary_cross_entropy_with_logits,
cross_entropy, a squared error) compute Z1, Z2, A2 and J,
and PyTorch's own autograd supplies every derivative the tests compare against (gradients,
double backward, forward-mode tangents). Nothing in here calls twolayer, so a fault in the
package cannot move both sides of a comparison. The C++ counterpart is
tests/cpp/reference_network.h.
"""
import torch
import torch.nn.functional as F

# g1 of the lecture, by the activation names of the spec.
_G1 = {
    "tanh": torch.tanh,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "leaky_relu": lambda Z: F.leaky_relu(Z, 0.01),
}


def reference_activation(Z1, activation):
    """A1 = g1(Z1)."""
    return _G1[activation](Z1)


def reference_hidden(X, W1, b1):
    """Z1 = X W1^T + b1: to keep relu-like activations off their kink in finite differences."""
    return F.linear(X, W1, b1)


def reference_logits(X, W1, b1, W2, b2, activation="tanh"):
    A1 = reference_activation(reference_hidden(X, W1, b1), activation)
    return F.linear(A1, W2, b2)


# A2 = g2(Z2) of each output layer.
_G2 = {
    "sigmoid": torch.sigmoid,
    "softmax": lambda Z2: torch.softmax(Z2, dim=1),
    "identity": lambda Z2: Z2,
}


def reference_forward(X, W1, b1, W2, b2, activation="tanh", output="sigmoid"):
    return _G2[output](reference_logits(X, W1, b1, W2, b2, activation))


def reference_cost(Z2, Y, output="sigmoid"):
    """J from the logits: the mean over examples of the cost summed over the outputs."""
    m = Z2.shape[0]
    if output == "sigmoid":
        return F.binary_cross_entropy_with_logits(Z2, Y, reduction="sum") / m
    if output == "softmax":
        return F.cross_entropy(Z2, Y, reduction="sum") / m  # probability targets
    if output == "identity":
        return F.mse_loss(Z2, Y, reduction="sum") / (2 * m)
    raise ValueError(output)


def reference_loss(X, Y, W1, b1, W2, b2, activation="tanh", output="sigmoid"):
    return reference_cost(reference_logits(X, W1, b1, W2, b2, activation), Y, output)
