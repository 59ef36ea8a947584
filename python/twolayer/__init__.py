"""The lecture's two-layer network as PyTorch operators with a hand-written backward.

Importing the package loads the C++ library, which registers ``torch.ops.twolayer.loss`` and
``torch.ops.twolayer.forward``. Shapes are batch-first, like ``torch.nn.Linear``:
X (m, n0), Y (m, n2), W1 (n1, n0), b1 (n1), W2 (n2, n1), b2 (n2).
"""
import glob
import os

import torch

from ._net import TwoLayerNet

__all__ = ["ACTIVATIONS", "TwoLayerNet", "fit_", "forward", "library_path", "loss"]

ACTIVATIONS = ("tanh", "relu", "sigmoid", "leaky_relu")


def _find_library():
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = sorted(glob.glob(os.path.join(here, "_C*.so")) + glob.glob(os.path.join(here, "_C*.pyd")))
    if not candidates:
        raise ImportError(
            f"twolayer: the compiled operators (_C*.so) are missing from {here}; "
            "install the package with `pip install --no-build-isolation .`"
        )
    return candidates[0]


library_path = _find_library()
# The library registers the operators in its static initialisers: loading it is all it takes.
torch.ops.load_library(library_path)


def loss(X, Y, W1, b1, W2, b2, activation: str = "tanh"):
    """The cost J = (1/m) * sum of the cross-entropies of every example and output unit."""
    return torch.ops.twolayer.loss(X, Y, W1, b1, W2, b2, activation)


def forward(X, W1, b1, W2, b2, activation: str = "tanh"):
    """The probabilities A2 = sigmoid(g1(X W1^T + b1) W2^T + b2), shape (m, n2)."""
    return torch.ops.twolayer.forward(X, W1, b1, W2, b2, activation)


def fit_(W1, b1, W2, b2, X, Y, iterations: int, learning_rate: float, activation: str = "tanh"):
    """The lecture's gradient descent in C++: `iterations` steps of W := W - learning_rate * dW.

    Updates W1, b1, W2, b2 in place and returns the cost of every iteration (taken before that
    iteration's update). Like an optimizer step it is not differentiable.
    """
    return torch.ops.twolayer.fit_(W1, b1, W2, b2, X, Y, iterations, learning_rate, activation)
