"""Gradient descent with twolayer.loss learns a toy problem, and takes exactly the steps that
plain PyTorch autograd takes on the same network."""
import pytest
import torch

import twolayer
from helpers import ACTIVATIONS, LOSS_INPUTS, manual_descent, rel_err
from reference import reference_loss


def _separable_problem(m=64, seed=51):
    # Two Gaussian blobs either side of the line x0 + x1 = 0, with a margin.
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(m, 2, generator=gen, dtype=torch.float64)
    side = X.sum(1, keepdim=True)
    X = X + 0.5 * torch.sign(side)
    Y = (side > 0).to(torch.float64)
    return X, Y


def _initial_params(n1=4, seed=52):
    net = twolayer.TwoLayerNet(2, n1, 1, init_scale=0.5, seed=seed, dtype=torch.float64)
    return [p.detach().clone() for p in net.parameters()]


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_gradient_descent_lowers_the_cost_and_separates(activation):
    X, Y = _separable_problem()
    params, costs = manual_descent(twolayer.loss, X, Y, _initial_params(), activation, steps=300,
                             lr=1.0)
    assert costs[0] > 0.6  # about log 2: small initial weights predict 1/2 everywhere
    assert costs[-1] < 0.25 * costs[0]
    # Not monotonic in general, but mostly downhill at this step size.
    assert sum(b < a for a, b in zip(costs, costs[1:])) > 0.9 * (len(costs) - 1)
    A2 = twolayer.forward(X, *params, activation)
    accuracy = ((A2 > 0.5).to(X.dtype) == Y).double().mean().item()
    assert accuracy >= 0.95


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_twenty_steps_equal_the_reference_steps(activation):
    X, Y = _separable_problem(m=32, seed=53)
    start = _initial_params(n1=5, seed=54)
    ours, costs = manual_descent(twolayer.loss, X, Y, start, activation, steps=20, lr=0.5)
    ref, ref_costs = manual_descent(reference_loss, X, Y, start, activation, steps=20, lr=0.5)
    for name, p, r in zip(LOSS_INPUTS[2:], ours, ref):
        assert rel_err(p, r) <= 1e-12, name
    # The steps must have moved the parameters, else the comparison above is empty.
    for name, p, s in zip(LOSS_INPUTS[2:], ours, start):
        assert rel_err(p, s) > 1e-3, name
    assert max(abs(a - b) for a, b in zip(costs, ref_costs)) <= 1e-12


def test_training_through_the_module_with_an_optimizer():
    X, Y = _separable_problem(seed=55)
    net = twolayer.TwoLayerNet(2, 4, 1, init_scale=0.5, seed=56, dtype=torch.float64)
    opt = torch.optim.SGD(net.parameters(), lr=1.0)
    first = None
    for _ in range(200):
        opt.zero_grad()
        J = net.loss(X, Y)
        first = J.item() if first is None else first
        J.backward()
        opt.step()
    assert net.loss(X, Y).item() < 0.25 * first
    assert net.score(X, Y) >= 0.95
