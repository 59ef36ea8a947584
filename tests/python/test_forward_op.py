"""twolayer.forward: the outputs A2 and the five gradients against the reference."""
import functools
import math

import pytest
import torch

import twolayer
from helpers import (ACTIVATIONS, DTYPES, FORWARD_INPUTS, SAMPLES, TOLERANCE, assert_close_rel,
                     assert_grads_match, forward_and_grads, make_inputs, random_like, rel_err,
                     sample_id, seed_for)
from reference import reference_forward, reference_logits


# Every sample of helpers.SAMPLES: the edge-case networks and one per CPU path, every activation,
# output layer and dtype.
@pytest.mark.parametrize("sample", SAMPLES, ids=sample_id)
def test_forward_value_and_all_gradients_match_reference(sample):
    activation, shape, dtype = sample.activation, sample.shape, sample.dtype
    m, n0, n1, n2 = shape
    seed = seed_for("forward", activation, shape)
    inputs = sample.inputs(seed=seed)
    del inputs["Y"]
    # A random incoming gradient per output entry: exercises every (example, unit) separately.
    g = random_like((m, n2), seed, dtype)

    A2, grads = forward_and_grads(functools.partial(twolayer.forward, output=sample.output),
                                  inputs, activation, g)
    A2_ref, ref_grads = forward_and_grads(
        functools.partial(reference_forward, output=sample.output), inputs, activation, g)

    tol = TOLERANCE[dtype]
    assert A2.shape == (m, n2)
    assert_close_rel(A2, A2_ref, tol, "A2")
    assert_grads_match(grads, ref_grads, tol)


def test_default_activation_is_tanh():
    inputs = make_inputs(6, 3, 4, 2, seed=4)
    args = [inputs[k] for k in FORWARD_INPUTS]
    assert_close_rel(twolayer.forward(*args), reference_forward(*args, "tanh"),
                     TOLERANCE[torch.float64], "A2")
    assert rel_err(twolayer.forward(*args, activation="relu"), twolayer.forward(*args)) > 1e-6


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_large_logits_saturate_without_nan(activation, dtype):
    inputs = make_inputs(9, 3, 4, 3, dtype=torch.float64, seed=seed_for("sat", activation))
    inputs["W2"] = inputs["W2"] * 20.0
    inputs["b2"] = torch.tensor([900.0, -500.0, 200.0], dtype=torch.float64)
    inputs = {k: v.to(dtype) for k, v in inputs.items() if k != "Y"}
    assert reference_logits(*(inputs[k] for k in FORWARD_INPUTS), activation).abs().min() >= 50

    g = random_like((9, 3), 1, dtype)
    A2, grads = forward_and_grads(twolayer.forward, inputs, activation, g)
    A2_ref, ref_grads = forward_and_grads(reference_forward, inputs, activation, g)

    assert ((A2 >= 0) & (A2 <= 1)).all()
    assert_close_rel(A2, A2_ref, TOLERANCE[dtype], "A2")
    for name in FORWARD_INPUTS:
        assert torch.isfinite(grads[name]).all(), f"d{name} not finite"
    assert_grads_match(grads, ref_grads, TOLERANCE[dtype])


def test_probabilities_of_a_handmade_network():
    # Independent of any reference code: one hidden unit, tanh(0) = 0, so A2 = sigmoid(b2).
    X = torch.tensor([[1.0, -2.0]], dtype=torch.float64)
    W1 = torch.tensor([[2.0, 1.0]], dtype=torch.float64)  # Z1 = 2 - 2 = 0
    b1 = torch.zeros(1, dtype=torch.float64)
    W2 = torch.tensor([[5.0], [-3.0]], dtype=torch.float64)
    b2 = torch.tensor([0.0, 2.0], dtype=torch.float64)
    A2 = twolayer.forward(X, W1, b1, W2, b2)
    expected = torch.tensor([[0.5, 1.0 / (1.0 + math.exp(-2.0))]], dtype=torch.float64)
    assert_close_rel(A2, expected, 1e-12, "A2")
