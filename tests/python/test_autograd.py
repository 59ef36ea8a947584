"""Autograd semantics of the operators: accumulation, retain_graph, in-place modification of
saved tensors, broadcast incoming gradients."""
import pytest
import torch

import twolayer
from conftest import (FORWARD_INPUTS, LOSS_INPUTS, TOLERANCE, assert_close_rel, leaves,
                      make_inputs, reference_forward)


def test_gradients_accumulate_over_two_backward_calls():
    # Like any autograd op: a second backward adds to .grad rather than replacing it.
    inputs = make_inputs(5, 2, 3, 1, seed=3)
    t = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
    args = [t[k] for k in LOSS_INPUTS]
    twolayer.loss(*args).backward()
    first = {k: t[k].grad.clone() for k in LOSS_INPUTS}
    twolayer.loss(*args).backward()
    for k in LOSS_INPUTS:
        assert_close_rel(t[k].grad, 2 * first[k], 1e-15, f"d{k}")


def test_retain_graph_allows_a_second_backward_through_the_same_graph():
    inputs = make_inputs(5, 2, 3, 2, seed=4)
    t = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
    J = twolayer.loss(*(t[k] for k in LOSS_INPUTS))
    (g1,) = torch.autograd.grad(J, [t["W1"]], retain_graph=True)
    (g2,) = torch.autograd.grad(J, [t["W1"]])
    assert torch.equal(g1, g2)


@pytest.mark.parametrize("name", ["X", "W1", "W2"])
def test_in_place_change_of_a_saved_input_is_detected(name):
    # backward reads X, W1 and W2 from the forward pass: changing one in between must raise,
    # not silently give the gradient of another network.
    inputs = make_inputs(5, 3, 4, 2, seed=5)
    t = leaves(inputs, LOSS_INPUTS)
    J = twolayer.loss(*(t[k] for k in LOSS_INPUTS))
    with torch.no_grad():
        t[name].mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        J.backward()


def test_in_place_change_of_the_output_is_detected():
    # forward's backward uses A2 itself; A2 modified in place must not be used silently.
    inputs = make_inputs(5, 3, 4, 2, seed=6)
    t = leaves(inputs, FORWARD_INPUTS)
    A2 = twolayer.forward(*(t[k] for k in FORWARD_INPUTS))
    A2.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        A2.sum().backward()


@pytest.mark.parametrize("reduce", ["sum", "mean", "column"])
def test_forward_with_broadcast_incoming_gradient(reduce):
    # sum() and mean() hand backward an expanded (stride 0) gradient; a column pick a sparse one.
    inputs = make_inputs(6, 3, 4, 2, seed=7)
    ours, ref = leaves(inputs, FORWARD_INPUTS), leaves(inputs, FORWARD_INPUTS)
    reducer = {"sum": torch.sum, "mean": torch.mean, "column": lambda A: A[:, 1].sum()}[reduce]
    reducer(twolayer.forward(*(ours[k] for k in FORWARD_INPUTS), "sigmoid")).backward()
    reducer(reference_forward(*(ref[k] for k in FORWARD_INPUTS), "sigmoid")).backward()
    for k in FORWARD_INPUTS:
        assert_close_rel(ours[k].grad, ref[k].grad, TOLERANCE[torch.float64], f"d{k}")
