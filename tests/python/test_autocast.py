"""Under torch.autocast, loss and forward run in float32 on the low-precision tensors autocast
hands them; outside it, half types are refused as before.

The reference is the float32 computation of the same inputs, and autograd through explicit
casts for the gradients that reach the low-precision producer.
"""
import warnings

import pytest
import torch

import twolayer
from helpers import make_input_tuple

LOW = (torch.bfloat16, torch.float16)


def producer_and_params(seed=0):
    """An nn.Linear that makes X (low precision under autocast) and float32 network parameters."""
    torch.manual_seed(seed)
    linear = torch.nn.Linear(3, 2)
    inputs = torch.randn(9, 3)
    X, Y, W1, b1, W2, b2 = make_input_tuple(9, 2, 4, 1, dtype=torch.float32, seed=seed)
    return linear, inputs, Y, [p.requires_grad_(True) for p in (W1, b1, W2, b2)]


def cpu_autocast(low):
    """torch.autocast("cpu", dtype=low), or a skip where this torch's CPU autocast lacks low
    (1.13 has bfloat16 only, and warns that it disables itself)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return torch.autocast("cpu", dtype=low)
        except (UserWarning, RuntimeError) as error:
            pytest.skip(f"CPU autocast of torch {torch.__version__} has no {low}: {error}")


@pytest.mark.parametrize("low", LOW, ids=str)
@pytest.mark.parametrize("op", ("loss", "forward"))
def test_autocast_runs_in_float32(low, op):
    linear, inputs, Y, params = producer_and_params()
    with cpu_autocast(low):
        X = linear(inputs)
        if X.dtype != low:
            pytest.skip(f"autocast on this torch does not run nn.Linear in {low} on the CPU")
        out = twolayer.loss(X, Y, *params) if op == "loss" else twolayer.forward(X, *params)
    assert out.dtype == torch.float32
    out.sum().backward()
    grad_linear = linear.weight.grad.clone()
    grads = [p.grad.clone() for p in params]

    # The reference: the same low-precision X, cast to float32 by hand, outside autocast.
    linear.weight.grad = None
    for p in params:
        p.grad = None
    with cpu_autocast(low):
        X_low = linear(inputs)
    X32 = X_low.float()
    expected = twolayer.loss(X32, Y, *params) if op == "loss" else twolayer.forward(X32, *params)
    torch.testing.assert_close(out.detach(), expected.detach(), rtol=0, atol=0)
    expected.sum().backward()
    # The gradient reaches the producer through the cast back to its own dtype.
    torch.testing.assert_close(grad_linear, linear.weight.grad, rtol=0, atol=0)
    for g, p in zip(grads, params):
        torch.testing.assert_close(g, p.grad, rtol=0, atol=0)


def test_autocast_gradient_reaches_producer_in_its_dtype():
    linear, inputs, Y, params = producer_and_params()
    seen = []
    with torch.autocast("cpu", dtype=torch.bfloat16):
        X = linear(inputs)
        if X.dtype != torch.bfloat16:
            pytest.skip("autocast on this torch does not run nn.Linear in bfloat16 on the CPU")
        X.register_hook(lambda g: seen.append(g.dtype))
        twolayer.loss(X, Y, *params).backward()
    assert seen == [torch.bfloat16]


def test_autocast_leaves_float64_alone():
    X, Y, W1, b1, W2, b2 = make_input_tuple(5, 2, 4, 1, dtype=torch.float64)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        J = twolayer.loss(X, Y, W1, b1, W2, b2)
    assert J.dtype == torch.float64
    torch.testing.assert_close(J, twolayer.loss(X, Y, W1, b1, W2, b2), rtol=0, atol=0)


@pytest.mark.parametrize("low", LOW, ids=str)
def test_half_refused_outside_autocast(low):
    X, Y, W1, b1, W2, b2 = (t.to(low) for t in make_input_tuple(5, 2, 4, 1))
    name = {torch.bfloat16: "bfloat16", torch.float16: "float16"}[low]
    with pytest.raises(RuntimeError, match=f"^twolayer: X must be float32 or float64, but got {name}"):
        twolayer.loss(X, Y, W1, b1, W2, b2)
    with pytest.raises(RuntimeError, match=f"^twolayer: X must be float32 or float64, but got {name}"):
        twolayer.forward(X, W1, b1, W2, b2)
