"""Finite differences (gradcheck, gradgradcheck), and second derivatives against the reference."""
import pytest
import torch
from torch.autograd import gradcheck, gradgradcheck

import twolayer
from helpers import (ACTIVATIONS, FORWARD_INPUTS, LOSS_INPUTS, TOLERANCE, assert_close_rel, leaves,
                     make_inputs_off_kink, random_like, random_scalar, seed_for)
from reference import reference_forward, reference_loss

# Small, so the O(numel^2) finite differences stay fast; n2 = 2 so that the output units couple.
SHAPE = (4, 3, 5, 2)


def _inputs(activation, names):
    # Z1 is kept well away from 0: finite differences across relu's kink would be wrong
    # (for every activation, so that all four see the same inputs).
    inputs = make_inputs_off_kink(*SHAPE, seed=seed_for("gradcheck", activation))
    return tuple(leaves(inputs, names)[k] for k in names)


def _loss(activation):
    return lambda X, Y, W1, b1, W2, b2: twolayer.loss(X, Y, W1, b1, W2, b2, activation)


def _forward(activation):
    return lambda X, W1, b1, W2, b2: twolayer.forward(X, W1, b1, W2, b2, activation)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_gradcheck_loss(activation):
    # Y requires grad too: the cost is differentiable in the labels (dJ/dY = -Z2/m).
    assert gradcheck(_loss(activation), _inputs(activation, LOSS_INPUTS), raise_exception=True)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_gradcheck_forward(activation):
    assert gradcheck(_forward(activation), _inputs(activation, FORWARD_INPUTS),
                     raise_exception=True)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_gradgradcheck_loss(activation):
    assert gradgradcheck(_loss(activation), _inputs(activation, LOSS_INPUTS),
                         raise_exception=True)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_gradgradcheck_forward(activation):
    assert gradgradcheck(_forward(activation), _inputs(activation, FORWARD_INPUTS),
                         raise_exception=True)


def _second_order(fn, names, inputs, grad_out, directions):
    """Gradient of <directions, d fn . grad_out> w.r.t. every input (a Hessian-vector product)."""
    t = leaves(inputs, names)
    args = [t[k] for k in names]
    out = fn(*args)
    first = torch.autograd.grad(out, args, grad_out, create_graph=True)
    inner = sum((d * f).sum() for d, f in zip(directions, first))
    second = torch.autograd.grad(inner, args, allow_unused=True)
    # An input the first derivatives do not depend on has a zero second derivative.
    return [torch.zeros_like(a) if s is None else s for a, s in zip(args, second)]


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("op", ["loss", "forward"])
def test_second_derivatives_match_reference(op, activation):
    # gradgradcheck proves consistency with finite differences; this pins the values to PyTorch's
    # own double backward of the same network, at a tight tolerance.
    names = LOSS_INPUTS if op == "loss" else FORWARD_INPUTS
    seed = seed_for("hvp", op, activation)
    inputs = make_inputs_off_kink(*SHAPE, seed=seed)
    directions = [random_like(inputs[k].shape, seed + i) for i, k in enumerate(names)]
    m, _, _, n2 = SHAPE
    grad_out = random_scalar(seed) if op == "loss" else random_like((m, n2), seed + 99)

    if op == "loss":
        ours = lambda *a: twolayer.loss(*a, activation)  # noqa: E731
        ref = lambda *a: reference_loss(*a, activation)  # noqa: E731
    else:
        ours = lambda *a: twolayer.forward(*a, activation)  # noqa: E731
        ref = lambda *a: reference_forward(*a, activation)  # noqa: E731
    second = _second_order(ours, names, inputs, grad_out, directions)
    second_ref = _second_order(ref, names, inputs, grad_out, directions)
    for name, s, s_ref in zip(names, second, second_ref):
        assert_close_rel(s, s_ref, TOLERANCE[torch.float64], f"second derivative w.r.t. {name}")
