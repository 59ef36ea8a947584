"""The planar data sets of the lecture's assignment, as float64 tensors X (m, 2), Y (m, 1).

``flower`` is the main one: two classes drawn as the petals of a rose curve, which no straight
line separates. The others are the assignment's "other data sets", written here in torch (no
scikit-learn needed) after scikit-learn's generators of the same names and with the
assignment's settings. Every generator draws from a private generator seeded with ``seed``, so
the same seed gives the same points and the global random state is untouched.

    >>> X, Y = twolayer.datasets.load("noisy_moons", seed=3)
"""
import math
from typing import Callable, Dict, Tuple

import torch

__all__ = ["NAMES", "blobs", "flower", "gaussian_quantiles", "load", "noisy_circles",
           "noisy_moons"]

Dataset = Tuple[torch.Tensor, torch.Tensor]
F64 = torch.float64


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _labels(counts) -> torch.Tensor:
    return torch.cat([torch.full((n, 1), float(label), dtype=F64)
                      for label, n in enumerate(counts)])


def flower(seed: int = 1, points_per_class: int = 200, petal_length: float = 4.0) -> Dataset:
    """The lecture's flower: 2 x points_per_class points on the petals of r = a sin(4t).

    The same points, from the same seed, as examples/planar/planar_data.h draws in C++.
    """
    generator = _generator(seed)
    xs, ys = [], []
    for label in range(2):
        t = (torch.linspace(3.12 * label, 3.12 * (label + 1), points_per_class, dtype=F64)
             + 0.2 * torch.randn(points_per_class, generator=generator, dtype=F64))
        r = (petal_length * torch.sin(4 * t)
             + 0.2 * torch.randn(points_per_class, generator=generator, dtype=F64))
        xs.append(torch.stack([r * torch.sin(t), r * torch.cos(t)], dim=1))
        ys.append(torch.full((points_per_class, 1), float(label), dtype=F64))
    return torch.cat(xs), torch.cat(ys)


def noisy_circles(seed: int = 1, m: int = 200, factor: float = 0.5,
                  noise: float = 0.3) -> Dataset:
    """Two concentric circles (radius 1: class 0, radius `factor`: class 1) plus Gaussian noise."""
    generator = _generator(seed)
    outer, inner = m - m // 2, m // 2
    circles = []
    for n, radius in ((outer, 1.0), (inner, factor)):
        angle = torch.linspace(0, 2 * math.pi, n + 1, dtype=F64)[:-1]
        circles.append(radius * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1))
    X = torch.cat(circles) + noise * torch.randn(m, 2, generator=generator, dtype=F64)
    return X, _labels((outer, inner))


def noisy_moons(seed: int = 1, m: int = 200, noise: float = 0.2) -> Dataset:
    """Two interleaving half circles plus Gaussian noise."""
    generator = _generator(seed)
    upper, lower = m - m // 2, m // 2
    a = torch.linspace(0, math.pi, upper, dtype=F64)
    b = torch.linspace(0, math.pi, lower, dtype=F64)
    X = torch.cat([torch.stack([torch.cos(a), torch.sin(a)], dim=1),
                   torch.stack([1 - torch.cos(b), 0.5 - torch.sin(b)], dim=1)])
    X = X + noise * torch.randn(m, 2, generator=generator, dtype=F64)
    return X, _labels((upper, lower))


def blobs(seed: int = 1, m: int = 200, centers: int = 6, spread: float = 1.0) -> Dataset:
    """`centers` Gaussian blobs with centres uniform in [-10, 10]^2; blob k has label k mod 2
    (the assignment's two classes from six blobs)."""
    generator = _generator(seed)
    middle = torch.rand(centers, 2, generator=generator, dtype=F64) * 20 - 10
    blob = torch.arange(m) % centers
    X = middle[blob] + spread * torch.randn(m, 2, generator=generator, dtype=F64)
    Y = (blob % 2).to(F64).reshape(m, 1)
    return X, Y


def gaussian_quantiles(seed: int = 1, m: int = 200, variance: float = 0.5) -> Dataset:
    """An isotropic Gaussian cut by the median of the distance to its centre: the inner half is
    class 0, the outer half class 1."""
    generator = _generator(seed)
    X = math.sqrt(variance) * torch.randn(m, 2, generator=generator, dtype=F64)
    distance = X.pow(2).sum(1)
    rank = torch.empty(m, dtype=torch.long)
    rank[torch.argsort(distance)] = torch.arange(m)
    Y = (rank >= m // 2).to(F64).reshape(m, 1)
    return X, Y


GENERATORS: Dict[str, Callable[..., Dataset]] = {
    "flower": flower,
    "noisy_circles": noisy_circles,
    "noisy_moons": noisy_moons,
    "blobs": blobs,
    "gaussian_quantiles": gaussian_quantiles,
}
NAMES = tuple(GENERATORS)


def load(name: str, seed: int = 1) -> Dataset:
    """The data set called `name` (one of NAMES), drawn from `seed`: X (m, 2), Y (m, 1)."""
    if name not in GENERATORS:
        raise ValueError(f"twolayer: unknown data set '{name}'; expected one of "
                         + ", ".join(NAMES))
    return GENERATORS[name](seed=seed)
