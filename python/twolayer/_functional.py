"""The operators as Python functions, with their documentation."""
import torch


def loss(X: torch.Tensor, Y: torch.Tensor, W1: torch.Tensor, b1: torch.Tensor,
         W2: torch.Tensor, b2: torch.Tensor, activation: str = "tanh",
         output: str = "sigmoid") -> torch.Tensor:
    """The cost J, a 0-dim tensor: the mean over the m examples of the output layer's cost.

    With Z2 = g1(X W1^T + b1) W2^T + b2 and A2 = g2(Z2):

    - ``output="sigmoid"`` (the lecture's; binary or multi-label): the summed cross-entropies,
      J = (1/m) * sum over examples and outputs of -[Y log A2 + (1 - Y) log(1 - A2)];
    - ``output="softmax"`` (multi-class): J = (1/m) * sum over examples of -sum_j Y_j log A2_j,
      which is ``torch.nn.functional.cross_entropy(Z2, Y)`` with probability targets;
    - ``output="identity"`` (regression): J = (1/2m) * sum (A2 - Y)^2.

    Each is computed stably from the logits Z2 (no log of 0 for saturated outputs).

    Args:
        X: inputs, shape (m, n0), float32, float64, bfloat16 or float16 (the products run in
            X's dtype; for the last two the rest runs in float32 and J is float32).
        Y: labels, shape (m, n2), X's dtype (or float32 for bfloat16 or float16 X): in [0, 1]
            for sigmoid, rows that are one-hot or probabilities for softmax, any values for
            identity (for one output:
            ``y.reshape(-1, 1)``, and ``.to(X.dtype)`` for integer or bool labels;
            ``TwoLayerNet`` takes class indices and labels of shape (m,) itself).
        W1: (n1, n0), b1: (n1,), W2: (n2, n1), b2: (n2,): the parameters, X's dtype and device.
        activation: the hidden non-linearity g1: "tanh", "relu", "sigmoid" or "leaky_relu"
            (slope 0.01).
        output: the output layer g2: "sigmoid", "softmax" or "identity".

    Differentiable in every input: ``J.backward()`` runs the lecture's six backward equations
    in C++, starting from dZ2 = A2 - Y for each output layer.
    """
    return torch.ops.twolayer.loss(X, Y, W1, b1, W2, b2, activation, output)


def forward(X: torch.Tensor, W1: torch.Tensor, b1: torch.Tensor, W2: torch.Tensor,
            b2: torch.Tensor, activation: str = "tanh", output: str = "sigmoid") -> torch.Tensor:
    """The outputs A2 = g2(g1(X W1^T + b1) W2^T + b2), shape (m, n2).

    X (m, n0), W1 (n1, n0), b1 (n1,), W2 (n2, n1), b2 (n2,), one dtype (float32, float64,
    bfloat16 or float16; A2 comes back in it); activation: "tanh", "relu", "sigmoid" or
    "leaky_relu", and output: "sigmoid" (each output a
    probability), "softmax" (along each row) or "identity" (A2 = Z2), as for ``loss``.

    Probabilities, as in the lecture, not logits: use ``loss`` on them, never
    ``BCEWithLogitsLoss`` or ``CrossEntropyLoss``, which would apply a second sigmoid or softmax
    and train badly without any error. Differentiable in every input.
    """
    return torch.ops.twolayer.forward(X, W1, b1, W2, b2, activation, output)


def fit_(W1: torch.Tensor, b1: torch.Tensor, W2: torch.Tensor, b2: torch.Tensor,
         X: torch.Tensor, Y: torch.Tensor, iterations: int, learning_rate: float,
         activation: str = "tanh", output: str = "sigmoid") -> torch.Tensor:
    """The lecture's gradient descent in C++: ``iterations`` steps of W := W - learning_rate * dW.

    Updates W1 (n1, n0), b1 (n1,), W2 (n2, n1), b2 (n2,) in place for X (m, n0) and labels
    Y (m, n2), all of one dtype (float32, float64, bfloat16 or float16; Y may be float32 for
    the last two, whose costs are float32) and device, with the hidden activation
    ``activation`` and the output layer ``output`` (as for ``loss``), and returns the cost of
    every iteration, shape (iterations,), each taken before that iteration's update.
    ``iterations`` must be >= 0. Like an optimizer step it is not differentiable: it updates leaf
    parameters in place whether or not they require grad (no ``torch.no_grad()`` is needed), and
    bumps their versions, so a graph that saved them before the update refuses to backward.
    """
    return torch.ops.twolayer.fit_(W1, b1, W2, b2, X, Y, iterations, learning_rate, activation,
                                   output)
