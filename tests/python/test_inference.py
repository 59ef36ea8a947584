"""Inference: the operator `forward` on the CPU runs the fused passes of the loss, ending in the
probabilities A2 = sigmoid(Z2) instead of the cost. Under no_grad / inference_mode it keeps
nothing and returns A2 in memory of its own; with gradients it goes through
TwoLayerProbabilitiesFunction as before. Values against the reference network (reference.py), on
every CPU path and output-width regime, both compilations of the vector kernels, both dtypes
and every activation."""
import json
import os
import subprocess
import sys

import pytest
import torch

import twolayer
from helpers import ACTIVATIONS, FORWARD_INPUTS, TOLERANCE, assert_close_rel, make_inputs, rel_err
from reference import reference_forward

HERE = os.path.dirname(os.path.abspath(__file__))

# (m, n0, n1, n2), one or more per CPU path (csrc/ops/cpu/cpu_paths.h) and output regime:
# small net (<= 64 weights) with one and with 8 outputs, and tails of examples; row blocks with
# the output layer in the row pass (n2 <= 4) and by BLAS (n2 > 4), with several blocks of rows;
# the whole-batch rows path (> 32768 weights) with both output regimes; and batches of more than
# 2048 rows, which the row loops split into a chunk per thread.
SHAPES = [(400, 2, 4, 1), (13, 2, 4, 1), (7, 3, 5, 2), (9, 2, 4, 8), (37, 1, 1, 1),
          (70, 6, 9, 3), (201, 5, 13, 3), (50, 3, 11, 6), (131, 4, 20, 17), (900, 3, 700, 2),
          (900, 3, 700, 6), (40, 190, 180, 3), (40, 190, 180, 9), (4100, 2, 4, 1),
          (4100, 3, 20, 2), (4100, 3, 20, 7), (4100, 190, 180, 2), (4100, 190, 180, 5)]
DTYPES = [torch.float64, torch.float32]


def shape_id(shape):
    return "x".join(map(str, shape))


def forward_args(shape, dtype):
    inputs = make_inputs(*shape, dtype=dtype, seed=sum(shape))
    return [inputs[k] for k in FORWARD_INPUTS]


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_probabilities_without_grad_match_reference(shape, dtype):
    args = forward_args(shape, dtype)
    for activation in ACTIVATIONS:
        with torch.no_grad():
            A2 = twolayer.forward(*args, activation)
        assert A2.shape == (shape[0], shape[3]) and A2.dtype == dtype
        assert_close_rel(A2, reference_forward(*args, activation), TOLERANCE[dtype],
                         f"A2 {activation}")


@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_inference_and_training_forward_agree_bit_for_bit(shape):
    # The same passes with and without the cache: no_grad, inference_mode and the graph-building
    # call (TwoLayerProbabilitiesFunction) give the same bits, call after call.
    for dtype in DTYPES:
        args = forward_args(shape, dtype)
        for activation in ACTIVATIONS:
            with torch.no_grad():
                plain = twolayer.forward(*args, activation)
                again = twolayer.forward(*args, activation)
            with torch.inference_mode():
                inference = twolayer.forward(*args, activation)
            leaves = [a.clone().requires_grad_() for a in args]
            trained = twolayer.forward(*leaves, activation)
            assert trained.grad_fn is not None
            what = f"{shape} {dtype} {activation}"
            assert torch.equal(plain, again), what
            assert torch.equal(plain, inference), what
            assert torch.equal(plain, trained.detach()), what


@pytest.mark.parametrize("shape", [(400, 2, 4, 1), (201, 5, 13, 3), (131, 4, 20, 17),
                                   (40, 190, 180, 9)], ids=shape_id)
def test_no_grad_result_is_its_own_memory_and_keeps_no_graph(shape):
    args = forward_args(shape, torch.float32)
    with torch.no_grad():
        A2 = twolayer.forward(*args)
    assert A2.grad_fn is None and not A2.requires_grad
    assert A2.is_contiguous() and A2.storage_offset() == 0
    storage = A2.untyped_storage() if hasattr(A2, "untyped_storage") else A2.storage()
    nbytes = storage.nbytes() if hasattr(storage, "nbytes") else storage.size() * 4
    assert nbytes == shape[0] * shape[3] * 4
    # A second call does not write over the first one's result.
    first = A2.clone()
    with torch.no_grad():
        twolayer.forward(*[a * 2 for a in args])
    assert torch.equal(A2, first)


def test_the_cpu_has_a_kernel_of_its_own():
    has_kernel = getattr(torch._C, "_dispatch_has_kernel_for_dispatch_key", None)
    if has_kernel is None:
        pytest.skip("this torch cannot say which dispatch keys have kernels")
    assert has_kernel("twolayer::forward", "CPU")
    assert has_kernel("twolayer::_forward_with_cache", "CPU")


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_strided_inputs(dtype):
    args = forward_args((70, 6, 9, 3), dtype)
    X, W1, b1, W2, b2 = args
    Xt = X.t().contiguous().t()  # column-major X
    W1s = torch.cat([W1, W1], 1)[:, ::2]  # a strided W1 equal to W1's values only by value
    W1s.copy_(W1)
    with torch.no_grad():
        for activation in ACTIVATIONS:
            got = twolayer.forward(Xt, W1s, b1, W2, b2, activation)
            assert_close_rel(got, reference_forward(*args, activation), TOLERANCE[dtype], "A2")


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("shape", [(13, 2, 4, 1), (70, 6, 9, 3), (50, 3, 11, 6),
                                   (40, 190, 180, 3), (40, 190, 180, 9)], ids=shape_id)
def test_nonfinite_inputs_reach_the_probabilities_as_in_eager(shape, dtype):
    args = forward_args(shape, dtype)
    X = args[0].clone()
    X[1, 0] = float("nan")
    X[2, 0] = float("inf")
    big = [X] + [a * 100 for a in args[1:]]  # saturated logits too
    for activation in ACTIVATIONS:
        with torch.no_grad():
            got = twolayer.forward(*big, activation)
        expected = reference_forward(*big, activation)
        assert torch.equal(torch.isnan(got), torch.isnan(expected)), activation
        finite = ~torch.isnan(expected)
        assert ((got[finite] >= 0) & (got[finite] <= 1)).all()
        assert rel_err(got[finite], expected[finite]) <= TOLERANCE[dtype], activation


def test_scripted_net_predicts_what_the_module_does():
    net = twolayer.TwoLayerNet(5, 13, 3, seed=3)
    X = torch.randn(300, 5, generator=torch.Generator().manual_seed(0))
    scripted = torch.jit.script(net)
    with torch.no_grad():
        assert torch.equal(scripted(X), net(X))
        assert_close_rel(net(X), reference_forward(X, net.W1, net.b1, net.W2, net.b2),
                         TOLERANCE[torch.float32], "A2")


CHILD = r"""
import json, sys, torch, twolayer
sys.path.insert(0, sys.argv[1])
from helpers import FORWARD_INPUTS, make_inputs
out = {"version": torch.ops.twolayer_testing.cpu_kernel_version(), "cases": []}
with torch.no_grad():
    for shape in json.loads(sys.argv[2]):
        for dtype in (torch.float32, torch.float64):
            for activation in json.loads(sys.argv[3]):
                inputs = make_inputs(*shape, dtype=dtype, seed=sum(shape))
                A2 = twolayer.forward(*[inputs[k] for k in FORWARD_INPUTS], activation)
                out["cases"].append(A2.tolist())
json.dump(out, sys.stdout)
"""


def test_baseline_kernels_give_the_probabilities():
    env = dict(os.environ, TWOLAYER_CPU_KERNEL="baseline")
    shapes = [s for s in SHAPES if s[0] < 1000]
    done = subprocess.run([sys.executable, "-c", CHILD, HERE, json.dumps(shapes),
                           json.dumps(ACTIVATIONS)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["version"] == "baseline"
    cases = iter(result["cases"])
    for shape in shapes:
        for dtype in (torch.float32, torch.float64):
            args = forward_args(shape, dtype)
            for activation in ACTIVATIONS:
                got = torch.tensor(next(cases), dtype=torch.float64)
                expected = reference_forward(*args, activation).to(torch.float64)
                assert rel_err(got, expected) <= TOLERANCE[dtype], f"{shape} {dtype} {activation}"
