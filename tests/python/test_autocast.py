"""Under torch.autocast, loss and forward cast X, W1, b1, W2, b2 to the autocast dtype and Y to
float32, then run as on tensors of that dtype (the low-precision contract): J in float32, A2 in
the autocast dtype. Outside autocast, bfloat16 tensors are taken on every PyTorch and float16 on
2.x; PyTorch 1.13 refuses float16 (it has no CPU float16 matrix products).

The reference is the same operator called outside autocast on tensors cast by hand, and
autograd through those explicit casts for the gradients that reach float32 parameters and the
low-precision producer. test_low_precision.py checks the numbers against eager PyTorch.
"""
import warnings

import pytest
import torch

import twolayer
from helpers import make_input_tuple

TORCH_MINOR = ".".join(torch.__version__.split(".")[:2])

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
def test_autocast_runs_in_the_autocast_dtype(low, op):
    linear, inputs, Y, params = producer_and_params()
    with cpu_autocast(low):
        X = linear(inputs)
        if X.dtype != low:
            pytest.skip(f"autocast on this torch does not run nn.Linear in {low} on the CPU")
        out = twolayer.loss(X, Y, *params) if op == "loss" else twolayer.forward(X, *params)
    assert out.dtype == (torch.float32 if op == "loss" else low)
    out.float().sum().backward()
    grad_linear = linear.weight.grad.clone()
    grads = [p.grad.clone() for p in params]
    assert all(g.dtype == torch.float32 for g in grads)

    # The reference: the same low-precision X, the parameters cast to it by hand and Y to
    # float32, outside autocast.
    linear.weight.grad = None
    for p in params:
        p.grad = None
    with cpu_autocast(low):
        X_low = linear(inputs)
    cast = [p.to(low) for p in params]
    expected = (twolayer.loss(X_low, Y.float(), *cast) if op == "loss"
                else twolayer.forward(X_low, *cast))
    torch.testing.assert_close(out.detach(), expected.detach(), rtol=0, atol=0)
    expected.float().sum().backward()
    # The gradient reaches the producer in its own dtype and the parameters through the casts.
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
def test_half_outside_autocast(low):
    X, Y, W1, b1, W2, b2 = (t.to(low) for t in make_input_tuple(5, 2, 4, 1))
    if low == torch.float16 and int(torch.__version__.split(".")[0]) < 2:
        # No CPU float16 products before PyTorch 2.0: refused, with what to use instead.
        for call in (lambda: twolayer.loss(X, Y, W1, b1, W2, b2),
                     lambda: twolayer.forward(X, W1, b1, W2, b2)):
            with pytest.raises(RuntimeError) as error:
                call()
            for word in ("float16", TORCH_MINOR, "bfloat16", "float32"):
                assert word in str(error.value), (word, str(error.value))
        return
    assert twolayer.loss(X, Y, W1, b1, W2, b2).dtype == torch.float32
    assert twolayer.forward(X, W1, b1, W2, b2).dtype == low
