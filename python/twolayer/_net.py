"""TwoLayerNet: the parameters of the network as a torch.nn.Module."""
from typing import Callable, Optional, Union

import torch


class TwoLayerNet(torch.nn.Module):
    """W1 (n1, n0), b1 (n1), W2 (n2, n1), b2 (n2), initialised as in the lecture.

    Weights are ``init_scale * N(0, 1)`` (small, so that tanh and sigmoid start in their steep
    middle, and random, so that hidden units differ), biases zero. With ``seed`` the weights come
    from a private generator and equal those of the C++ ``twolayer::TwoLayerNet`` with that seed.
    The module is scriptable with ``torch.jit.script``.
    """

    activation: str

    def __init__(self, n0: int, n1: int, n2: int, activation: str = "tanh",
                 init_scale: float = 0.01, seed: Optional[int] = None,
                 dtype: torch.dtype = torch.float32):
        super().__init__()
        if min(n0, n1, n2) < 1:
            raise ValueError(f"twolayer: TwoLayerNet needs n0, n1, n2 >= 1, but got n0 = {n0}, "
                             f"n1 = {n1}, n2 = {n2}")
        from . import ACTIVATIONS  # the package's list, imported late to avoid a cycle
        if activation not in ACTIVATIONS:
            raise ValueError(f"twolayer: unknown activation '{activation}'; expected one of "
                             + ", ".join(ACTIVATIONS))
        self.activation = activation
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        # Drawn in float32 whatever the dtype, as the C++ module does, so both draw alike.
        W1 = torch.randn(n1, n0, generator=generator) * init_scale
        W2 = torch.randn(n2, n1, generator=generator) * init_scale
        self.W1 = torch.nn.Parameter(W1.to(dtype))
        self.b1 = torch.nn.Parameter(torch.zeros(n1, dtype=dtype))
        self.W2 = torch.nn.Parameter(W2.to(dtype))
        self.b2 = torch.nn.Parameter(torch.zeros(n2, dtype=dtype))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Probabilities A2, shape (m, n2)."""
        return torch.ops.twolayer.forward(X, self.W1, self.b1, self.W2, self.b2, self.activation)

    @torch.jit.export
    def loss(self, X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
        """The cost J for labels Y of shape (m, n2)."""
        return torch.ops.twolayer.loss(X, Y, self.W1, self.b1, self.W2, self.b2, self.activation)

    @torch.jit.ignore
    def fit(self, X: torch.Tensor, Y: torch.Tensor, iterations: int, learning_rate: float,
            progress: Union[bool, Callable[[int, float], None]] = False,
            every: int = 1000) -> torch.Tensor:
        """Gradient descent on the parameters, in C++ (torch.ops.twolayer.fit_); returns the costs.

        progress: True prints the cost every `every` iterations as the lecture does; a callable
        is called as progress(iteration, cost) instead. Between reports the loop stays in C++.
        """
        if progress is False or progress is None:
            return self._fit_steps(X, Y, iterations, learning_rate)
        if every < 1:
            raise ValueError(f"twolayer: every must be >= 1, but got {every}")
        report = progress if callable(progress) else (
            lambda i, cost: print(f"Cost after iteration {i}: {cost:.6f}", flush=True))
        costs = []
        for done in range(0, iterations, every):
            costs.append(self._fit_steps(X, Y, min(every, iterations - done), learning_rate))
            report(done, costs[-1][0].item())
        return torch.cat(costs) if costs else self._fit_steps(X, Y, 0, learning_rate)

    def _fit_steps(self, X, Y, iterations, learning_rate):
        with torch.no_grad():
            return torch.ops.twolayer.fit_(self.W1, self.b1, self.W2, self.b2, X, Y, iterations,
                                           learning_rate, self.activation)

    @torch.jit.export
    def predict(self, X: torch.Tensor) -> torch.Tensor:
        """Hard labels: 1 where A2 > 0.5, else 0, in X's dtype."""
        with torch.no_grad():
            return (self.forward(X) > 0.5).to(X.dtype)

    def extra_repr(self) -> str:
        n1, n0 = self.W1.shape
        return f"n0={n0}, n1={n1}, n2={self.W2.shape[0]}, activation={self.activation}"
