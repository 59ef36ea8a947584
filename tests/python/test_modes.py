"""Grad modes (no_grad, inference_mode, nothing requiring grad) and meta tensors."""
import pytest
import torch

import twolayer
from helpers import FORWARD_INPUTS, LOSS_INPUTS, TOLERANCE, assert_close_rel, make_inputs
from reference import reference_forward, reference_loss

OPS = {
    "loss": (twolayer.loss, reference_loss, LOSS_INPUTS),
    "forward": (twolayer.forward, reference_forward, FORWARD_INPUTS),
}
SHAPE = (6, 3, 5, 2)


def _args(names, requires_grad, dtype=torch.float64, device="cpu"):
    inputs = make_inputs(*SHAPE, dtype=dtype, seed=41)
    return [inputs[k].to(device).requires_grad_(requires_grad) for k in names]


def _expected_shape(op):
    return () if op == "loss" else (SHAPE[0], SHAPE[3])


@pytest.mark.parametrize("op", list(OPS))
def test_graph_is_recorded_when_an_input_requires_grad(op):
    # The counterpart of the tests below: without it, "no grad_fn" could mean "never a grad_fn".
    fn, _, names = OPS[op]
    out = fn(*_args(names, True))
    assert out.requires_grad and out.grad_fn is not None


@pytest.mark.parametrize("op", list(OPS))
def test_no_grad_fn_when_no_input_requires_grad(op):
    fn, ref, names = OPS[op]
    args = _args(names, False)
    out = fn(*args)
    assert out.grad_fn is None and not out.requires_grad
    assert_close_rel(out, ref(*args), TOLERANCE[torch.float64], op)


@pytest.mark.parametrize("op", list(OPS))
def test_no_grad(op):
    fn, ref, names = OPS[op]
    args = _args(names, True)
    with torch.no_grad():
        out = fn(*args)
    assert out.grad_fn is None and not out.requires_grad
    assert torch.equal(out, fn(*args).detach())
    assert_close_rel(out, ref(*args).detach(), TOLERANCE[torch.float64], op)
    with pytest.raises(RuntimeError):
        out.sum().backward()


@pytest.mark.parametrize("op", list(OPS))
def test_inference_mode(op):
    fn, ref, names = OPS[op]
    args = _args(names, True)
    with torch.inference_mode():
        out = fn(*args)
        # Inputs created inside inference mode (inference tensors) work as well.
        out_inference_inputs = fn(*(a.detach().clone() for a in args))
    for o in (out, out_inference_inputs):
        assert o.grad_fn is None and not o.requires_grad
        assert o.is_inference()
        assert torch.equal(o, fn(*args).detach())
    assert_close_rel(out, ref(*args).detach(), TOLERANCE[torch.float64], op)


@pytest.mark.parametrize("op", list(OPS))
def test_enable_grad_inside_no_grad_records_again(op):
    fn, _, names = OPS[op]
    args = _args(names, True)
    with torch.no_grad():
        with torch.enable_grad():
            out = fn(*args)
    assert out.grad_fn is not None


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("op", list(OPS))
def test_meta_output_shape_and_dtype(op, dtype):
    fn, _, names = OPS[op]
    out = fn(*_args(names, False, dtype, "meta"))
    assert out.device.type == "meta"
    assert out.dtype == dtype
    assert out.shape == _expected_shape(op)
    assert out.grad_fn is None


@pytest.mark.parametrize("n2", [1, 4])
def test_meta_shapes_follow_the_inputs(n2):
    # Shapes of the meta outputs come from X and W2 (m = 11 and n2), not from anything fixed.
    X = torch.empty(11, 3, device="meta")
    W1, b1 = torch.empty(7, 3, device="meta"), torch.empty(7, device="meta")
    W2, b2 = torch.empty(n2, 7, device="meta"), torch.empty(n2, device="meta")
    Y = torch.empty(11, n2, device="meta")
    assert twolayer.forward(X, W1, b1, W2, b2).shape == (11, n2)
    assert twolayer.loss(X, Y, W1, b1, W2, b2, "relu").shape == ()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("op", list(OPS))
def test_meta_backward_gives_gradients_of_the_input_shapes(op, dtype):
    fn, _, names = OPS[op]
    args = _args(names, True, dtype, "meta")
    out = fn(*args)
    assert out.grad_fn is not None and out.device.type == "meta"
    out.backward(torch.ones(_expected_shape(op), dtype=dtype, device="meta"))
    for name, a in zip(names, args):
        assert a.grad is not None, name
        assert a.grad.device.type == "meta", name
        assert a.grad.shape == a.shape and a.grad.dtype == dtype, name


@pytest.mark.parametrize("op", list(OPS))
def test_meta_backward_with_some_inputs_requiring_grad(op):
    fn, _, names = OPS[op]
    args = _args(names, False, torch.float32, "meta")
    wanted = {"W1", "b2"}
    for name, a in zip(names, args):
        a.requires_grad_(name in wanted)
    grads = torch.autograd.grad(fn(*args).sum(), [a for n, a in zip(names, args) if n in wanted])
    for g, a in zip(grads, [a for n, a in zip(names, args) if n in wanted]):
        assert g.shape == a.shape and g.device.type == "meta"


@pytest.mark.parametrize("op", list(OPS))
def test_meta_double_backward_shapes(op):
    fn, _, names = OPS[op]
    args = _args(names, True, torch.float64, "meta")
    first = torch.autograd.grad(fn(*args).sum(), args, create_graph=True)
    second = torch.autograd.grad(sum(g.sum() for g in first), args, allow_unused=True)
    for s, a in zip(second, args):
        if s is not None:
            assert s.shape == a.shape and s.device.type == "meta"


@pytest.mark.parametrize("op", list(OPS))
def test_meta_under_no_grad(op):
    fn, _, names = OPS[op]
    with torch.no_grad():
        out = fn(*_args(names, True, torch.float32, "meta"))
    assert out.grad_fn is None and out.shape == _expected_shape(op)
