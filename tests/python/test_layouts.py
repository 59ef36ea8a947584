"""Non-strided layouts (sparse COO, sparse CSR, mkldnn) are refused with twolayer's message
naming the argument and its layout, through loss, forward and fit_, with and without autograd,
before anything is computed or updated. Before: ATen's messages ("full(...) is not implemented
for sparse layout", "Could not run 'aten::addmm.out'") or, for a sparse W1 in fit_, a wrong one
("must not be an expanded tensor").
"""
import pytest
import torch

import twolayer
from helpers import FORWARD_INPUTS, LOSS_INPUTS, make_inputs

MESSAGE = r"twolayer: {name} must be a strided \(dense\) tensor, but got layout "
FIT_ARGS = ("W1", "b1", "W2", "b2", "X", "Y")


def to_layout(t, layout):
    if layout == "sparse_coo":
        return t.to_sparse()
    if layout == "sparse_csr":
        if t.dim() != 2 or not hasattr(t, "to_sparse_csr"):
            pytest.skip("CSR needs a 2-D tensor and torch >= 1.9")
        return t.to_sparse_csr()
    if layout == "mkldnn":
        if not torch.backends.mkldnn.is_available():
            pytest.skip("this torch has no mkldnn")
        return t.float().to_mkldnn() if t.dtype != torch.float32 else t.to_mkldnn()
    raise ValueError(layout)


LAYOUTS = ["sparse_coo", "sparse_csr", "mkldnn"]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", LOSS_INPUTS)
@pytest.mark.parametrize("requires_grad", [False, True])
def test_loss_refuses_layout(layout, name, requires_grad):
    t = make_inputs(7, 2, 4, 1, dtype=torch.float32)
    t[name] = to_layout(t[name], layout)
    if requires_grad:
        t["W1"] = t["W1"].requires_grad_()
    with pytest.raises(RuntimeError, match=MESSAGE.format(name=name)):
        twolayer.loss(*(t[k] for k in LOSS_INPUTS))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", FORWARD_INPUTS)
@pytest.mark.parametrize("requires_grad", [False, True])
def test_forward_refuses_layout(layout, name, requires_grad):
    t = make_inputs(7, 2, 4, 1, dtype=torch.float32)
    t[name] = to_layout(t[name], layout)
    if requires_grad:
        t["b2"] = t["b2"].requires_grad_()
    with pytest.raises(RuntimeError, match=MESSAGE.format(name=name)):
        twolayer.forward(*(t[k] for k in FORWARD_INPUTS))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", FIT_ARGS)
def test_fit_refuses_layout_and_updates_nothing(layout, name):
    t = make_inputs(7, 2, 4, 1, dtype=torch.float32)
    t[name] = to_layout(t[name], layout)
    dense = {k: v for k, v in t.items() if v.layout == torch.strided}
    before = {k: v.clone() for k, v in dense.items()}
    with pytest.raises(RuntimeError, match=MESSAGE.format(name=name)):
        twolayer.fit_(*(t[k] for k in FIT_ARGS), 3, 0.5)
    for k in dense:
        assert torch.equal(dense[k], before[k]), k


def test_fit_with_sparse_W1_names_the_layout_not_an_expansion():
    t = make_inputs(7, 2, 4, 1)
    W1 = t["W1"].to_sparse()
    with pytest.raises(RuntimeError, match=MESSAGE.format(name="W1") + "Sparse") as e:
        twolayer.fit_(W1, t["b1"], t["W2"], t["b2"], t["X"], t["Y"], 3, 0.5)
    assert "expanded" not in str(e.value)


@pytest.mark.parametrize("layout", ["sparse_coo", "sparse_csr"])
def test_dual_sparse_input_gets_the_layout_message(layout):
    import torch.autograd.forward_ad as fwAD
    t = make_inputs(7, 2, 4, 1)
    with fwAD.dual_level():
        X = fwAD.make_dual(t["X"], torch.ones_like(t["X"]))
        W1 = to_layout(t["W1"], layout)
        with pytest.raises(RuntimeError, match=MESSAGE.format(name="W1")):
            twolayer.loss(X, t["Y"], W1, t["b1"], t["W2"], t["b2"])
