"""Non-contiguous inputs (column-major, transposed views, strided slices, expanded) give the
same values and gradients as contiguous ones."""
import pytest
import torch

import twolayer
from helpers import (FORWARD_INPUTS, LOSS_INPUTS, TOLERANCE, assert_close_rel, make_inputs,
                     random_like, random_scalar)
from reference import reference_forward, reference_loss

SHAPE = (6, 3, 5, 2)  # no dimension of size 1, so every transpose really is non-contiguous


def column_major(v):
    """A leaf that is itself non-contiguous; 1-D tensors fall back to a strided slice."""
    if v.dim() == 1:
        return strided_slice(v)
    leaf = v.t().contiguous().t().detach().requires_grad_(True)
    return leaf, leaf, lambda: leaf.grad


def transposed_view(v):
    """The transpose of a contiguous leaf (as W1 would be when stored as W1^T)."""
    if v.dim() == 1:
        return strided_slice(v)
    leaf = v.t().contiguous().detach().requires_grad_(True)
    return leaf, leaf.t(), lambda: leaf.grad.t()


def strided_slice(v):
    """Every other column (2-D) or element (1-D) of a wider leaf: stride 2 in the last dim."""
    wide = torch.full(v.shape[:-1] + (2 * v.shape[-1],), float("nan"), dtype=v.dtype)
    # NaN in the skipped entries: if a kernel reads them, the results show it.
    wide[..., ::2] = v
    leaf = wide.detach().requires_grad_(True)

    def grad():
        assert (leaf.grad[..., 1::2] == 0).all(), "gradient leaked into entries not used"
        return leaf.grad[..., ::2]
    return leaf, leaf[..., ::2], grad


def row_slice(v):
    """Every third row of a taller leaf: a stride larger than the row length."""
    tall = torch.full((3 * v.shape[0],) + v.shape[1:], float("nan"), dtype=v.dtype)
    tall[::3] = v
    leaf = tall.detach().requires_grad_(True)
    return leaf, leaf[::3], lambda: leaf.grad[::3]


LAYOUTS = {"column_major": column_major, "transposed_view": transposed_view,
           "strided_slice": strided_slice, "row_slice": row_slice}


def _run(fn, names, inputs, layout, grad_out):
    made = {k: LAYOUTS[layout](inputs[k]) for k in names}
    args = [made[k][1] for k in names]
    for k, a in zip(names, args):
        if not (a.dim() == 1 and layout in ("column_major", "transposed_view")):
            assert not a.is_contiguous(), f"{k} should be non-contiguous for this test"
        assert torch.equal(a, inputs[k])
    out = fn(*args)
    out.backward(grad_out)
    return out.detach(), {k: made[k][2]() for k in names}


def _run_contiguous(fn, names, inputs, grad_out):
    t = {k: inputs[k].clone().requires_grad_(True) for k in names}
    out = fn(*(t[k] for k in names))
    out.backward(grad_out)
    return out.detach(), {k: t[k].grad for k in names}


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("op", ["loss", "forward"])
def test_non_contiguous_inputs_match_contiguous(op, layout, dtype):
    inputs = make_inputs(*SHAPE, dtype=dtype, seed=21)
    if op == "loss":
        names, ours, ref = LOSS_INPUTS, twolayer.loss, reference_loss
        grad_out = random_scalar(21, dtype)
    else:
        names, ours, ref = FORWARD_INPUTS, twolayer.forward, reference_forward
        grad_out = random_like((SHAPE[0], SHAPE[3]), 21, dtype)

    out, grads = _run(ours, names, inputs, layout, grad_out)
    out_c, grads_c = _run_contiguous(ours, names, inputs, grad_out)
    out_ref, grads_ref = _run_contiguous(ref, names, inputs, grad_out)

    # Against the contiguous call only rounding (another BLAS loop order) may differ.
    tight = 1e-13 if dtype == torch.float64 else 1e-5
    assert_close_rel(out, out_c, tight, "output")
    assert_close_rel(out, out_ref, TOLERANCE[dtype], "output vs reference")
    for k in names:
        assert_close_rel(grads[k], grads_c[k], tight, f"d{k}")
        assert_close_rel(grads[k], grads_ref[k], TOLERANCE[dtype], f"d{k} vs reference")


def test_w1_as_transposed_view_of_w1t_alone():
    # The typical case: a weight stored as (n0, n1) and passed transposed, the rest contiguous.
    inputs = make_inputs(*SHAPE, seed=22)
    W1t = inputs["W1"].t().contiguous().requires_grad_(True)
    args = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
    J = twolayer.loss(args["X"], args["Y"], W1t.t(), args["b1"], args["W2"], args["b2"])
    J.backward()
    J_ref, grads_ref = _run_contiguous(reference_loss, LOSS_INPUTS, inputs, torch.tensor(1.0,
                                       dtype=torch.float64))
    assert_close_rel(J.detach(), J_ref, 1e-10, "J")
    assert_close_rel(W1t.grad, grads_ref["W1"].t(), 1e-10, "dW1^T")
    for k in ("X", "Y", "b1", "W2", "b2"):
        assert_close_rel(args[k].grad, grads_ref[k], 1e-10, f"d{k}")


@pytest.mark.parametrize("op", ["loss", "forward"])
def test_expanded_inputs_with_zero_strides(op):
    # Broadcast views (stride 0): a shared bias value, a label shared by all examples.
    inputs = make_inputs(*SHAPE, seed=23)
    n1, n2 = SHAPE[2], SHAPE[3]
    b1_one = torch.tensor([0.3], dtype=torch.float64, requires_grad=True)
    Y_row = inputs["Y"][:1].clone().requires_grad_(True)
    X = inputs["X"].clone().requires_grad_(True)
    W1, W2, b2 = (inputs[k].clone().requires_grad_(True) for k in ("W1", "W2", "b2"))
    b1_full = b1_one.detach().expand(n1).clone().requires_grad_(True)
    Y_full = Y_row.detach().expand(SHAPE[0], n2).clone().requires_grad_(True)

    if op == "loss":
        out = twolayer.loss(X, Y_row.expand(SHAPE[0], n2), W1, b1_one.expand(n1), W2, b2)
        out_ref = reference_loss(X.detach(), Y_full, W1.detach(), b1_full, W2.detach(),
                                 b2.detach())
        out.backward()
        out_ref.backward()
        # The gradient of a broadcast input is the sum over the broadcast dimension.
        assert_close_rel(Y_row.grad, Y_full.grad.sum(0, keepdim=True), 1e-10, "dY")
    else:
        out = twolayer.forward(X, W1, b1_one.expand(n1), W2, b2)
        out_ref = reference_forward(X.detach(), W1.detach(), b1_full, W2.detach(), b2.detach())
        g = random_like(out.shape, 23)
        out.backward(g)
        out_ref.backward(g)
    assert_close_rel(out.detach(), out_ref.detach(), 1e-10, "output")
    assert_close_rel(b1_one.grad, b1_full.grad.sum().reshape(1), 1e-10, "db1")
