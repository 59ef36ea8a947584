"""Only some inputs require grad: those get the right gradient, the others stay None."""
import pytest
import torch

import twolayer
from helpers import (FORWARD_INPUTS, LOSS_INPUTS, TOLERANCE, assert_close_rel, assert_grads_match,
                     forward_and_grads, loss_and_grads, make_inputs, random_like, random_scalar,
                     seed_for)
from reference import reference_forward, reference_loss

# Each input alone, and subsets that skip parts of the backward pass (only the output layer;
# only the hidden layer; the labels only, which needs no backpropagation at all).
LOSS_SUBSETS = [(k,) for k in LOSS_INPUTS] + [("W2", "b2"), ("W1", "b1"), ("X", "Y"),
                                              ("X", "W2"), ("Y", "b1", "b2")]
FORWARD_SUBSETS = [(k,) for k in FORWARD_INPUTS] + [("W2", "b2"), ("W1", "b1"), ("X", "b2")]


# (m, n0, n1, n2) for each CPU path, as each skips work of its own for what is not required:
# the small-net kernel, the fused row pass (n2 <= 4), its forward half with BLAS products for the
# output layer's backward (n2 = 6), and BLAS for the whole output layer (n2 = 17).
LOSS_SHAPES = [(6, 3, 4, 2), (40, 5, 37, 2), (30, 4, 20, 6), (30, 4, 20, 17)]


@pytest.mark.parametrize("shape", LOSS_SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("subset", LOSS_SUBSETS, ids="+".join)
def test_loss_partial_requires_grad(subset, dtype, activation, shape):
    seed = seed_for("partial-loss", subset)
    inputs = make_inputs(*shape, dtype=dtype, seed=seed)
    g = random_scalar(seed, dtype)

    J, grads = loss_and_grads(twolayer.loss, inputs, activation, g, requires_grad=subset)
    J_ref, ref_grads = loss_and_grads(reference_loss, inputs, activation, g, requires_grad=subset)

    assert_close_rel(J, J_ref, TOLERANCE[dtype], "J")
    for name in LOSS_INPUTS:
        assert (grads[name] is None) == (name not in subset), name
    assert_grads_match(grads, ref_grads, TOLERANCE[dtype])


@pytest.mark.parametrize("activation", ["tanh", "leaky_relu"])
@pytest.mark.parametrize("subset", FORWARD_SUBSETS, ids="+".join)
def test_forward_partial_requires_grad(subset, activation):
    seed = seed_for("partial-forward", subset)
    inputs = make_inputs(6, 3, 4, 2, seed=seed)
    del inputs["Y"]
    g = random_like((6, 2), seed)

    A2, grads = forward_and_grads(twolayer.forward, inputs, activation, g, requires_grad=subset)
    A2_ref, ref_grads = forward_and_grads(reference_forward, inputs, activation, g,
                                          requires_grad=subset)

    assert_close_rel(A2, A2_ref, TOLERANCE[torch.float64], "A2")
    for name in FORWARD_INPUTS:
        assert (grads[name] is None) == (name not in subset), name
    assert_grads_match(grads, ref_grads, TOLERANCE[torch.float64])


def test_only_w2_requires_grad_output_is_differentiable():
    inputs = make_inputs(5, 2, 3, 1, seed=2)
    inputs["W2"].requires_grad_(True)
    J = twolayer.loss(*(inputs[k] for k in LOSS_INPUTS))
    assert J.requires_grad and J.grad_fn is not None
    (dW2,) = torch.autograd.grad(J, [inputs["W2"]])
    assert dW2.shape == inputs["W2"].shape
