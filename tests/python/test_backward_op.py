"""The pieces of TwoLayerFunction as operators of their own: _loss_with_cache is the lecture's
forward propagation (J and the cache A1, Z2), _loss_backward its backpropagation, which
computes exactly the gradients its mask asks for. Checked on every CPU path against the
plain-PyTorch reference, whose derivatives come from autograd."""
import itertools

import pytest
import torch
import torch.nn.functional as F

import twolayer  # noqa: F401  registers torch.ops.twolayer
from helpers import (ACTIVATIONS, FORWARD_INPUTS, TOLERANCE, assert_close_rel, make_inputs,
                     random_like, random_scalar, seed_for)
from reference import reference_forward, reference_logits, reference_loss

ops = torch.ops.twolayer

# The gradient slots of the backward operators, in their schemas' order.
LOSS_SLOTS = ("X", "W1", "b1", "W2", "b2", "Y")
FORWARD_SLOTS = ("X", "W1", "b1", "W2", "b2")

# One shape per CPU path (ops/cpu/cpu_paths.h): small net; row blocks with the output layer in
# the row pass (n2 <= 4) and by BLAS (n2 > 4); whole-batch rows (more than 32768 weights), both
# ways; row blocks with several blocks (1 MiB of Z1 per block: 700 floats, 375 rows).
PATH_SHAPES = [(37, 2, 4, 1), (45, 5, 24, 3), (30, 4, 20, 18), (30, 190, 180, 3),
               (30, 190, 180, 9), (800, 3, 700, 2), (800, 3, 700, 6)]
# Every single slot, the output layer alone, the hidden layer alone, all, none.
MASKS = [tuple(s == k for s in LOSS_SLOTS) for k in LOSS_SLOTS] + [
    tuple(s in ("W2", "b2") for s in LOSS_SLOTS),
    tuple(s in ("W1", "b1") for s in LOSS_SLOTS),
    (True,) * 6,
    (False,) * 6,
]


def _mask_id(mask):
    return "+".join(s for s, m in zip(LOSS_SLOTS, mask) if m) or "none"


def _reference_gradients(inputs, activation, grad_J):
    leaves = {k: v.detach().clone().requires_grad_() for k, v in inputs.items()}
    J = reference_loss(*(leaves[k] for k in ("X", "Y", "W1", "b1", "W2", "b2")), activation)
    J.backward(grad_J)
    return {k: leaves[k].grad for k in LOSS_SLOTS}


@pytest.mark.parametrize("shape", PATH_SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
def test_loss_with_cache_is_the_forward_propagation(shape, activation, dtype):
    inputs = make_inputs(*shape, dtype=dtype, seed=seed_for("cache", shape, activation))
    X, Y, W1, b1, W2, b2 = (inputs[k] for k in ("X", "Y", "W1", "b1", "W2", "b2"))
    J, A1, Z2 = ops._loss_with_cache(X, Y, W1, b1, W2, b2, activation)
    Z2_ref = reference_logits(X, W1, b1, W2, b2, activation)
    tol = TOLERANCE[dtype]
    assert A1.shape == (shape[0], shape[2]) and Z2.shape == (shape[0], shape[3])
    assert_close_rel(Z2, Z2_ref, tol, "Z2")
    assert_close_rel(torch.sigmoid(Z2), reference_forward(X, W1, b1, W2, b2, activation), tol, "A2")
    assert_close_rel(J, reference_loss(X, Y, W1, b1, W2, b2, activation), tol, "J")
    # A1 is the layer the logits were made from.
    assert_close_rel(F.linear(A1, W2, b2), Z2_ref, tol, "A1 W2^T + b2")


@pytest.mark.parametrize("shape", PATH_SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("mask", MASKS, ids=_mask_id)
def test_loss_backward_computes_what_the_mask_asks(shape, activation, dtype, mask):
    seed = seed_for("backward-op", shape, activation, mask)
    inputs = make_inputs(*shape, dtype=dtype, seed=seed)
    X, Y, W1, b1, W2, b2 = (inputs[k] for k in ("X", "Y", "W1", "b1", "W2", "b2"))
    grad_J = random_scalar(seed, dtype)
    _, A1, Z2 = ops._loss_with_cache(X, Y, W1, b1, W2, b2, activation)
    grads = ops._loss_backward(grad_J, X, Y, W1, W2, A1, Z2, activation, list(mask))
    ref = _reference_gradients(inputs, activation, grad_J)
    for slot, wanted, g in zip(LOSS_SLOTS, mask, grads):
        if not wanted:
            assert g is None, f"d{slot} was not asked for"
            continue
        assert g.shape == inputs[slot].shape and g.dtype == dtype, slot
        assert_close_rel(g, ref[slot], TOLERANCE[dtype], f"d{slot}")


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_backward_of_forward_computes_what_the_mask_asks(activation):
    inputs = make_inputs(30, 4, 20, 3, seed=5)
    del inputs["Y"]
    t = {k: v.clone().requires_grad_() for k, v in inputs.items()}
    grad_A2 = random_like((30, 3), 6)
    reference_forward(*(t[k] for k in FORWARD_INPUTS), activation).backward(grad_A2)
    A2, A1 = ops._forward_with_cache(*(inputs[k] for k in FORWARD_INPUTS), activation)
    for wanted in itertools.product([False, True], repeat=5):
        grads = ops._backward_of_forward(grad_A2, inputs["X"], inputs["W1"], inputs["W2"], A1, A2,
                                         activation, list(wanted))
        for slot, w, g in zip(FORWARD_SLOTS, wanted, grads):
            assert (g is None) == (not w), slot
            if w:
                assert_close_rel(g, t[slot].grad, TOLERANCE[torch.float64], f"d{slot}")


def test_autograd_grad_of_one_input_equals_the_reference():
    # torch.autograd.grad(J, [W1]) asks backward for dW1 alone.
    inputs = make_inputs(64, 10, 16, 1, seed=3)
    t = {k: v.clone().requires_grad_() for k, v in inputs.items()}
    names = ("X", "Y", "W1", "b1", "W2", "b2")
    (dW1,) = torch.autograd.grad(twolayer.loss(*(t[k] for k in names)), [t["W1"]])
    (ref,) = torch.autograd.grad(reference_loss(*(t[k] for k in names)), [t["W1"]])
    assert_close_rel(dW1, ref, TOLERANCE[torch.float64], "dW1")


def _backward_args(m=8, n0=3, n1=5, n2=2):
    inputs = make_inputs(m, n0, n1, n2, seed=1)
    X, Y, W1, b1, W2, b2 = (inputs[k] for k in ("X", "Y", "W1", "b1", "W2", "b2"))
    _, A1, Z2 = ops._loss_with_cache(X, Y, W1, b1, W2, b2, "tanh")
    return {"grad_J": torch.tensor(1.0, dtype=X.dtype), "X": X, "Y": Y, "W1": W1, "W2": W2,
            "A1": A1, "Z2": Z2}


@pytest.mark.parametrize("name, bad, message", [
    ("A1", lambda a: a["A1"][:, :-1], r"twolayer: A1 must have shape \(m, n1\) = \(8, 5\), but got \[8, 4\]"),
    ("Z2", lambda a: a["Z2"][:-1], r"twolayer: Z2 must have shape \(m, n2\) = \(8, 2\), but got \[7, 2\]"),
    ("Y", lambda a: a["Y"][:, :1], r"twolayer: Y must have shape \(m, n2\) = \(8, 2\), but got \[8, 1\]"),
    ("grad_J", lambda a: a["grad_J"].expand(3), r"twolayer: grad_J must be a scalar \(0-D\) tensor"),
    ("A1", lambda a: a["A1"].float(), r"twolayer: A1 must have the same dtype as X \(float64\), but got float32"),
    ("W2", lambda a: a["W2"][:, :-1], r"twolayer: W2 must have shape \(n2, n1\) = \(2, 5\), but got \[2, 4\]"),
])
@pytest.mark.parametrize("device", ["cpu", "meta"])
def test_loss_backward_refuses_a_cache_that_does_not_fit(name, bad, message, device):
    args = _backward_args()
    args[name] = bad(args)
    args = {k: v.to(device) for k, v in args.items()}
    order = ("grad_J", "X", "Y", "W1", "W2", "A1", "Z2")
    # Inference mode: the private operators have no kernel of their own on the Autograd keys,
    # and PyTorch 1.13 has no fallthrough for AutogradMeta.
    with torch.inference_mode(), pytest.raises(RuntimeError, match=message):
        ops._loss_backward(*(args[k] for k in order), "tanh", [True] * 6)


def test_loss_backward_on_meta_keeps_the_shapes():
    args = {k: v.to("meta") for k, v in _backward_args(m=11).items()}
    order = ("grad_J", "X", "Y", "W1", "W2", "A1", "Z2")
    with torch.inference_mode():  # as above
        grads = ops._loss_backward(*(args[k] for k in order), "tanh", [True, False, True, True, False, True])
    shapes = [None if g is None else tuple(g.shape) for g in grads]
    assert shapes == [(11, 3), None, (5,), (2, 5), None, (11, 2)]


@pytest.mark.parametrize("shape", [(64, 10, 16, 1), (64, 2, 4, 1), (64, 10, 16, 6)], ids=str)
def test_a_cache_in_use_is_never_reused_by_the_next_step(shape):
    # The CPU paths make their cache A1 and Z2 in the memory of the thread's previous cache once
    # nothing holds that any more: a graph not yet differentiated, and a tensor a saved-tensors
    # hook kept, must keep theirs.
    m, n0, n1, n2 = shape
    names = ("X", "Y", "W1", "b1", "W2", "b2")
    steps = [make_inputs(*shape, seed=s) for s in range(4)]
    leaves = [{k: v.clone().requires_grad_(k == "W1") for k, v in s.items()} for s in steps]
    kept = []

    def keep(t):
        kept.append(t)  # the saved tensor itself, which holds its memory
        return t

    with torch.autograd.graph.saved_tensors_hooks(keep, lambda t: t):
        J0 = twolayer.loss(*(leaves[0][k] for k in names))
    J1 = twolayer.loss(*(leaves[1][k] for k in names))  # while J0's graph holds its cache
    J1.backward()
    J2 = twolayer.loss(*(leaves[2][k] for k in names))  # may reuse J1's freed cache
    J0.backward()
    J2.backward()
    for i in (0, 1, 2):
        t = {k: steps[i][k].clone().requires_grad_(k == "W1") for k in names}
        reference_loss(*(t[k] for k in names)).backward()
        assert_close_rel(leaves[i]["W1"].grad, t["W1"].grad, TOLERANCE[torch.float64], f"step {i}")
    # What the hook kept of step 0's cache still holds step 0's hidden layer.
    A1 = next(t for t in kept if t.shape == (m, n1))
    X, W1, b1 = steps[0]["X"], steps[0]["W1"], steps[0]["b1"]
    assert_close_rel(A1, torch.tanh(F.linear(X, W1, b1)), TOLERANCE[torch.float64], "kept A1")
    # Y has Z2's shape too: the labels are soft, in (0, 1), and no logit equals its label.
    Z2 = next(t for t in kept if t.shape == (m, n2) and not torch.equal(t, steps[0]["Y"]))
    W2, b2 = steps[0]["W2"], steps[0]["b2"]
    assert_close_rel(Z2, F.linear(A1, W2, b2), TOLERANCE[torch.float64], "kept Z2")


def test_a_recycled_cache_is_no_larger_than_its_step_needs():
    # After a step of a larger network, a smaller one's cache A1 must not sit in the larger
    # block it could reuse: that memory would stay held, unused, as long as the graph lives.
    names = ("X", "Y", "W1", "b1", "W2", "b2")
    for m, n0, n1 in ((256, 10, 64), (64, 10, 16)):
        inputs = make_inputs(m, n0, n1, 1, seed=m)
        leaves = {k: v.clone().requires_grad_(k == "W1") for k, v in inputs.items()}
        kept = []
        with torch.autograd.graph.saved_tensors_hooks(lambda t: kept.append(t) or t,
                                                      lambda t: t):
            J = twolayer.loss(*(leaves[k] for k in names))
        A1 = next(t for t in kept if t.shape == (m, n1))
        storage = A1.untyped_storage() if hasattr(A1, "untyped_storage") else A1.storage()
        assert storage.nbytes() == m * n1 * A1.element_size(), (m, n1)
        J.backward()
        del kept, A1, storage, J


@pytest.mark.parametrize("shape", PATH_SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_a_zero_incoming_gradient_still_carries_non_finite_values(shape):
    # grad_J = 0 with an infinite input: autograd's gradients are 0 * (inf or NaN) = NaN where
    # the infinity reaches, and BLAS, told alpha = 0, would skip its product and give 0 there.
    names = ("X", "Y", "W1", "b1", "W2", "b2")
    inputs = make_inputs(*shape, seed=5)
    inputs["X"][0, 0] = float("-inf")
    results = []
    for loss in (twolayer.loss, reference_loss):
        leaves = {k: v.clone().requires_grad_() for k, v in inputs.items()}
        J = loss(*(leaves[k] for k in names), "leaky_relu")
        results.append(torch.autograd.grad(J, [leaves[k] for k in names],
                                           grad_outputs=torch.zeros((), dtype=J.dtype)))
    for name, got, want in zip(names, *results):
        assert torch.equal(torch.isfinite(got), torch.isfinite(want)), name
