"""twolayer.datasets: the lecture's planar data sets, importable from the installed package."""
import math

import pytest
import torch

from twolayer import datasets

OTHERS = ("noisy_circles", "noisy_moons", "blobs", "gaussian_quantiles")


def test_the_names():
    assert datasets.NAMES == ("flower",) + OTHERS


def test_the_flower_is_the_lectures_rose_curve():
    # Written out here from the lecture's load_planar_dataset, drawn in the C++ demo's order.
    gen = torch.Generator().manual_seed(3)
    X, Y = datasets.flower(seed=3)
    assert X.shape == (400, 2) and Y.shape == (400, 1) and X.dtype == torch.float64
    for label in range(2):
        t = torch.linspace(3.12 * label, 3.12 * (label + 1), 200, dtype=torch.float64) \
            + 0.2 * torch.randn(200, generator=gen, dtype=torch.float64)
        r = 4 * torch.sin(4 * t) + 0.2 * torch.randn(200, generator=gen, dtype=torch.float64)
        rows = slice(200 * label, 200 * (label + 1))
        assert torch.equal(X[rows, 0], r * torch.sin(t))
        assert torch.equal(X[rows, 1], r * torch.cos(t))
        assert torch.equal(Y[rows], torch.full((200, 1), float(label), dtype=torch.float64))


@pytest.mark.parametrize("name", datasets.NAMES)
def test_every_set_is_planar_binary_seeded_and_leaves_the_global_rng(name):
    torch.manual_seed(0)
    expected_next = torch.rand(1)
    torch.manual_seed(0)
    X, Y = datasets.load(name, seed=2)
    assert torch.equal(torch.rand(1), expected_next)
    assert X.dim() == 2 and X.shape[1] == 2 and Y.shape == (X.shape[0], 1)
    assert X.dtype == Y.dtype == torch.float64 and torch.isfinite(X).all()
    assert set(Y.unique().tolist()) == {0.0, 1.0}
    assert 0.3 < Y.mean().item() < 0.7
    again, _ = datasets.load(name, seed=2)
    other, _ = datasets.load(name, seed=3)
    assert torch.equal(again, X) and not torch.equal(other, X)


def test_circles_have_the_lecture_radii():
    X, Y = datasets.noisy_circles(seed=0, noise=0.0)
    radius = X.norm(dim=1)
    assert torch.allclose(radius[Y[:, 0] == 0], torch.tensor(1.0, dtype=torch.float64))
    assert torch.allclose(radius[Y[:, 0] == 1], torch.tensor(0.5, dtype=torch.float64))


def test_moons_without_noise_lie_on_two_half_circles():
    X, Y = datasets.noisy_moons(seed=0, noise=0.0)
    upper, lower = X[Y[:, 0] == 0], X[Y[:, 0] == 1]
    assert torch.allclose(upper.norm(dim=1), torch.ones(len(upper), dtype=torch.float64))
    centre = torch.tensor([1.0, 0.5], dtype=torch.float64)
    assert torch.allclose((lower - centre).norm(dim=1), torch.ones(len(lower), dtype=torch.float64))


def test_gaussian_quantiles_split_at_the_median_distance():
    X, Y = datasets.gaussian_quantiles(seed=0)
    distance = X.pow(2).sum(1)
    assert distance[Y[:, 0] == 1].min() > distance[Y[:, 0] == 0].max()
    assert Y.sum().item() == 100
    assert abs(X.var().item() - 0.5) < 0.15 * 0.5 * math.sqrt(2)


def test_an_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError) as error:
        datasets.load("spirals")
    assert str(error.value) == ("twolayer: unknown data set 'spirals'; expected one of flower, "
                                "noisy_circles, noisy_moons, blobs, gaussian_quantiles")
