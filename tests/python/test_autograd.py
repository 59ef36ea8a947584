"""Autograd semantics of the operators: accumulation, retain_graph, in-place modification of
saved tensors, broadcast incoming gradients."""
import pytest
import torch

import twolayer
from helpers import (FORWARD_INPUTS, LOSS_INPUTS, TOLERANCE, assert_close_rel, assert_grads_match,
                     leaves, loss_and_grads, make_inputs)
from reference import reference_forward, reference_loss


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


# The cost's gradients are computed with it, in the forward, and backward hands them over.
# These pin down what that hand-over must never change.

def test_incoming_gradient_other_than_one_scales_every_gradient():
    inputs = make_inputs(9, 2, 4, 1, seed=8)
    for grad_J in (torch.tensor(3.0, dtype=torch.float64), torch.tensor(-0.5, dtype=torch.float64),
                   torch.tensor(0.0, dtype=torch.float64)):
        ours = loss_and_grads(twolayer.loss, inputs, "tanh", grad_J)[1]
        ref = loss_and_grads(reference_loss, inputs, "tanh", grad_J)[1]
        if grad_J.item() == 0.0:
            assert all(torch.equal(ours[k], torch.zeros_like(ref[k])) for k in LOSS_INPUTS)
        else:
            assert_grads_match(ours, ref, TOLERANCE[torch.float64])


def test_a_retained_graph_gives_the_same_gradient_again():
    # With retain_graph the cache serves a second backward: changing what the first returned
    # must not change the second answer.
    inputs = make_inputs(9, 2, 4, 1, seed=9)
    t = leaves(inputs, LOSS_INPUTS)
    J = twolayer.loss(*(t[k] for k in LOSS_INPUTS))
    (g1,) = torch.autograd.grad(J, [t["W2"]], retain_graph=True)
    expected = g1.clone()
    g1.zero_()
    (g2,) = torch.autograd.grad(J, [t["W2"]], retain_graph=True)
    assert torch.equal(g2, expected)
    J.backward()
    assert torch.equal(t["W2"].grad, expected)


@pytest.mark.parametrize("shape", [(512, 3, 64, 2), (37, 2, 4, 1), (300, 5, 20, 17)],
                         ids=["rows", "small_net", "blas_outputs"])
def test_backward_keeps_the_inputs_and_the_lectures_cache(shape):
    # The memory kept for backward: the inputs (referenced anyway) and the lecture's cache,
    # A1 (m x n1) and Z2 (m x n2), nothing else: not Z1, no gradient computed ahead.
    m, n0, n1, n2 = shape
    inputs = make_inputs(m, n0, n1, n2, dtype=torch.float32, seed=10)
    t = leaves(inputs, ("W1", "b1", "W2", "b2"))
    input_ptrs = {v.data_ptr() for v in t.values()}
    extra = []

    def pack(tensor):
        if tensor.data_ptr() not in input_ptrs:
            extra.append(tuple(tensor.shape))
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        J = twolayer.loss(*(t[k] for k in LOSS_INPUTS))
    assert sorted(extra) == sorted([(m, n1), (m, n2)])
    J.backward()
    ref = loss_and_grads(reference_loss, inputs, "tanh", torch.tensor(1.0), ("W1", "b1", "W2", "b2"))[1]
    for k in ("W1", "b1", "W2", "b2"):
        assert_close_rel(t[k].grad, ref[k], TOLERANCE[torch.float32], f"d{k}")
