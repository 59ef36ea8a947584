"""twolayer.loss: the cost and all six gradients against the plain-PyTorch reference."""
import functools

import pytest
import torch

import twolayer
from helpers import (ACTIVATIONS, DTYPES, LOSS_INPUTS, SAMPLES, TOLERANCE, assert_close_rel,
                     assert_grads_match, loss_and_grads, make_inputs, random_scalar, rel_err,
                     sample_id, seed_for)
from reference import reference_logits, reference_loss


# Every sample of helpers.SAMPLES (the edge-case networks and one per CPU path, every activation,
# output layer and dtype), with soft and with hard labels (for sigmoid; the other layers' targets
# come from helpers.targets_for).
@pytest.mark.parametrize("labels", ["soft", "hard"])
@pytest.mark.parametrize("sample", SAMPLES, ids=sample_id)
def test_loss_value_and_all_gradients_match_reference(sample, labels):
    activation, shape, dtype = sample.activation, sample.shape, sample.dtype
    seed = seed_for(activation, shape, labels)
    inputs = sample.inputs(labels, seed=seed, labels=labels)
    g = random_scalar(seed, dtype)

    J, grads = loss_and_grads(functools.partial(twolayer.loss, output=sample.output), inputs,
                              activation, g)
    J_ref, ref_grads = loss_and_grads(functools.partial(reference_loss, output=sample.output),
                                      inputs, activation, g)

    tol = TOLERANCE[dtype]
    assert J.shape == torch.Size([])
    assert_close_rel(J, J_ref, tol, "J")
    assert_grads_match(grads, ref_grads, tol)


def test_default_activation_is_tanh():
    inputs = make_inputs(6, 3, 4, 2, seed=3)
    args = [inputs[k] for k in LOSS_INPUTS]
    J_default = twolayer.loss(*args)
    assert_close_rel(J_default, reference_loss(*args, "tanh"), TOLERANCE[torch.float64], "J")
    for activation in ACTIVATIONS[1:]:
        # The activation argument must matter, otherwise the check above proves little.
        assert rel_err(twolayer.loss(*args, activation=activation), J_default) > 1e-6


def _large_logit_inputs(dtype, labels, seed):
    inputs = make_inputs(9, 3, 4, 3, dtype=torch.float64, seed=seed, labels=labels)
    # Large output biases of both signs and large output weights: |Z2| from about 50 to 1e3,
    # where 1 - sigmoid(Z2) rounds to 0 (and sigmoid(Z2) underflows in float32), so that a naive
    # log(A2) or log(1 - A2) is infinite.
    inputs["W2"] = inputs["W2"] * 20.0
    inputs["b2"] = torch.tensor([900.0, -500.0, 200.0], dtype=torch.float64)
    return {k: v.to(dtype) for k, v in inputs.items()}


@pytest.mark.parametrize("labels", ["soft", "hard"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_large_logits_give_a_finite_stable_cost(activation, dtype, labels):
    seed = seed_for("large", activation, labels)
    inputs = _large_logit_inputs(dtype, labels, seed)
    Z2 = reference_logits(*(inputs[k] for k in ("X", "W1", "b1", "W2", "b2")), activation)
    assert Z2.abs().min() >= 50 and Z2.abs().max() <= 1.1e3, "the inputs miss the intended range"

    g = random_scalar(seed, dtype)
    J, grads = loss_and_grads(twolayer.loss, inputs, activation, g)
    J_ref, ref_grads = loss_and_grads(reference_loss, inputs, activation, g)

    assert torch.isfinite(J)
    # The cost of a confidently wrong example is about |Z2|: J must be large, not inf or 0.
    assert J_ref > 10
    tol = TOLERANCE[dtype]
    assert_close_rel(J, J_ref, tol, "J")
    for name in LOSS_INPUTS:
        assert torch.isfinite(grads[name]).all(), f"d{name} not finite"
    assert_grads_match(grads, ref_grads, tol)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_perfect_confident_predictions_cost_almost_nothing(dtype):
    # The other end of the stable cost: Y equal to the (saturated) prediction gives J ~ exp(-|Z2|),
    # which must not come out as a rounding-error-sized negative number or NaN.
    inputs = _large_logit_inputs(torch.float64, "hard", seed=5)
    Z2 = reference_logits(*(inputs[k] for k in ("X", "W1", "b1", "W2", "b2")))
    inputs["Y"] = (Z2 > 0).to(torch.float64)
    inputs = {k: v.to(dtype) for k, v in inputs.items()}
    J = twolayer.loss(*(inputs[k] for k in LOSS_INPUTS))
    assert torch.isfinite(J)
    assert 0 <= J.item() < 1e-20


def test_float32_and_float64_agree():
    # The same network in both precisions: float32 must not silently compute something else.
    inputs64 = make_inputs(16, 4, 6, 2, seed=11)
    inputs32 = {k: v.float() for k, v in inputs64.items()}
    J64 = twolayer.loss(*(inputs64[k] for k in LOSS_INPUTS))
    J32 = twolayer.loss(*(inputs32[k] for k in LOSS_INPUTS))
    assert J32.dtype == torch.float32 and J64.dtype == torch.float64
    assert abs(J32.double().item() - J64.item()) <= 1e-5 * abs(J64.item())


@pytest.mark.parametrize("n2", [1, 3])
def test_cost_of_an_undecided_network_is_n2_log2(n2):
    # Independent of any reference code: Z2 = 0 gives A2 = 1/2, so every example and output
    # unit costs log 2 whatever Y is, and J = n2 log 2 (the 1/m cancels the sum over examples).
    inputs = make_inputs(5, 3, 4, n2, seed=1)
    inputs["W2"] = torch.zeros_like(inputs["W2"])
    inputs["b2"] = torch.zeros_like(inputs["b2"])
    J = twolayer.loss(*(inputs[k] for k in LOSS_INPUTS))
    assert abs(J.item() - n2 * 0.6931471805599453) <= 1e-14


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_kink_at_exactly_zero_follows_pytorch(activation):
    # Hidden units 0 and 2 get Z1 = 0 exactly (zero weights and bias). There the derivative is a
    # convention; it must be PyTorch's (relu: 0, leaky_relu: the slope), as in the reference.
    inputs = make_inputs(6, 3, 4, 2, seed=9)
    for unit in (0, 2):
        inputs["W1"][unit] = 0.0
        inputs["b1"][unit] = 0.0
    g = random_scalar(9)
    J, grads = loss_and_grads(twolayer.loss, inputs, activation, g)
    J_ref, ref_grads = loss_and_grads(reference_loss, inputs, activation, g)
    assert_close_rel(J, J_ref, TOLERANCE[torch.float64], "J")
    assert_grads_match(grads, ref_grads, TOLERANCE[torch.float64])
    if activation == "leaky_relu":
        assert ref_grads["W1"][0].abs().max() > 0  # the case is not vacuous
