"""The PyTorch 2.x operator contracts: opcheck, torch.compile with dynamic shapes, torch.export
with a dynamic batch, and torch.func. Skipped, with the reason, on a PyTorch without them (1.13).

The references are PyTorch's own: opcheck's checks, eager execution of the same code, and the
plain-autograd network of reference.py.
"""
import os
import tempfile

import pytest
import torch

import twolayer
from helpers import (ACTIVATIONS, CPU_PATH_SHAPES, LOSS_INPUTS, make_input_tuple, sample_id,
                     samples)
from reference import reference_loss

# A compile cache of this run's own: inductor and AOTAutograd key their caches on the traced
# graph, which names only twolayer's public operators, so a cache written with another build of
# twolayer would replay the private operators that build called (scripts/test.sh sets one too).
os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", tempfile.mkdtemp(prefix="twolayer-inductor-"))

TORCH_MAJOR = int(torch.__version__.split(".")[0])
needs_opcheck = pytest.mark.skipif(not hasattr(torch.library, "opcheck"),
                                   reason=f"torch {torch.__version__} has no torch.library.opcheck")
needs_compile = pytest.mark.skipif(TORCH_MAJOR < 2 or not hasattr(torch, "compile"),
                                   reason=f"torch {torch.__version__} has no torch.compile")
needs_export = pytest.mark.skipif(not hasattr(torch, "export"),
                                  reason=f"torch {torch.__version__} has no torch.export")
needs_func = pytest.mark.skipif(not hasattr(torch, "func"),
                                reason=f"torch {torch.__version__} has no torch.func")

LOSS_ARGS = LOSS_INPUTS
# Which inputs require grad: none, the parameters (training), everything but Y, and X alone.
GRAD_PATTERNS = {
    "none": (),
    "parameters": ("W1", "b1", "W2", "b2"),
    "all-but-Y": ("X", "W1", "b1", "W2", "b2"),
    "X": ("X",),
}


# The samples of helpers.SAMPLES that opcheck runs on: one output and three (opcheck runs each
# operator many times, so two small networks, every activation, output layer and dtype).
OPCHECK_SAMPLES = samples(shapes=("lecture", "3_outputs"))


def sample_inputs(sample, pattern, seed=0):
    tensors = sample.inputs(seed=seed)
    for name in GRAD_PATTERNS[pattern]:
        tensors[name].requires_grad_(True)
    return tensors, sample.activation, sample.output


# Every gradient pattern with the lecture's sigmoid; the other output layers with the
# parameters' gradients (the patterns differ in what the autograd Function asks of the kernels,
# which is the same code for every output layer).
CASES = [(sample, pattern) for sample in OPCHECK_SAMPLES for pattern in GRAD_PATTERNS
         if sample.output == "sigmoid" or pattern == "parameters"]


def case_id(case):
    sample, pattern = case
    return f"{sample.id}-{pattern}"


@needs_opcheck
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_opcheck_loss_and_forward(case):
    t, activation, output = sample_inputs(*case)
    loss_args = (t["X"], t["Y"], t["W1"], t["b1"], t["W2"], t["b2"], activation, output)
    forward_args = (t["X"], t["W1"], t["b1"], t["W2"], t["b2"], activation, output)
    for op, args in ((torch.ops.twolayer.loss.default, loss_args),
                     (torch.ops.twolayer.forward.default, forward_args)):
        results = torch.library.opcheck(op, args)
        assert results and all(v == "SUCCESS" for v in results.values()), (op, results)


@needs_opcheck
@pytest.mark.parametrize("sample", OPCHECK_SAMPLES, ids=sample_id)
def test_opcheck_fit(sample):
    t, activation, output = sample_inputs(sample, "none")
    args = (t["W1"], t["b1"], t["W2"], t["b2"], t["X"], t["Y"], 3, 0.5, activation, output)
    results = torch.library.opcheck(torch.ops.twolayer.fit_.default, args)
    assert results and all(v == "SUCCESS" for v in results.values()), results


# One network per CPU path and output regime (the per_path rows of helpers.SHAPES, checked
# against the library's own answer in test_cpu_paths.py), with a smooth and a kinked activation.
@needs_opcheck
@pytest.mark.parametrize("sample", samples(per_path=True, activations=("tanh", "relu")),
                         ids=sample_id)
def test_opcheck_forward_and_backward_pieces(sample):
    # The private operators the autograd Functions call: forward propagation with its cache and
    # backpropagation, with every gradient and with some left out (undefined outputs).
    ops = torch.ops.twolayer
    dtype, activation = sample.dtype, sample.activation
    X, Y, W1, b1, W2, b2 = make_input_tuple(*sample.shape, dtype=dtype, seed=3)
    _, A1, Z2 = ops._loss_with_cache(X, Y, W1, b1, W2, b2, activation)
    A2, A1_of_forward = ops._forward_with_cache(X, W1, b1, W2, b2, activation)
    grad_J = torch.tensor(0.7, dtype=dtype)
    grad_A2 = torch.linspace(-1, 1, A2.numel(), dtype=dtype).reshape(A2.shape)
    cases = [(ops._loss_with_cache.default, (X, Y, W1, b1, W2, b2, activation)),
             (ops._forward_with_cache.default, (X, W1, b1, W2, b2, activation)),
             (ops._logits.default, (X, W1, b1, W2, b2, activation))]
    for mask in ([True] * 6, [False, True, True, True, True, False], [False, False, False, True, True, True]):
        cases.append((ops._loss_backward.default, (grad_J, X, Y, W1, W2, A1, Z2, activation, mask)))
    for mask in ([True] * 5, [False, True, False, True, False]):
        cases.append((ops._backward_of_forward.default,
                      (grad_A2, X, W1, W2, A1_of_forward, A2, activation, mask)))
    for op, args in cases:
        results = torch.library.opcheck(op, args)
        assert results and all(v == "SUCCESS" for v in results.values()), (op, args[-1], results)


@needs_opcheck
@pytest.mark.parametrize("shape", [s for p, s in CPU_PATH_SHAPES if p != "small_net"], ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("pattern", ("parameters", "all-but-Y"))
def test_opcheck_loss_on_the_row_passes(shape, pattern):
    tensors = dict(zip(LOSS_ARGS, make_input_tuple(*shape, dtype=torch.float32, seed=4)))
    for name in GRAD_PATTERNS[pattern]:
        tensors[name].requires_grad_(True)
    args = tuple(tensors[k] for k in LOSS_ARGS) + ("tanh",)
    results = torch.library.opcheck(torch.ops.twolayer.loss.default, args)
    assert results and all(v == "SUCCESS" for v in results.values()), results


def training_step(X, Y, W1, b1, W2, b2):
    J = twolayer.loss(X, Y, W1, b1, W2, b2)
    A2 = twolayer.forward(X, W1, b1, W2, b2)
    return J, A2


def step_gradients(step, X, Y, params):
    J, A2 = step(X, Y, *params)
    # Both outputs feed the gradients, so both backwards are compared.
    grads = torch.autograd.grad(J + 0.25 * (A2 * A2).sum(), params)
    return J.detach(), A2.detach(), grads


@needs_compile
def test_compile_dynamic_one_frame_and_eager_gradients():
    from torch._dynamo.testing import CompileCounterWithBackend

    torch._dynamo.reset()
    counter = CompileCounterWithBackend("inductor")
    compiled = torch.compile(training_step, backend=counter, fullgraph=True, dynamic=True)
    for m in (5, 8, 13, 32):
        X, Y, W1, b1, W2, b2 = make_input_tuple(m, 3, 6, 2, dtype=torch.float64, seed=m)
        params = [p.requires_grad_(True) for p in (W1, b1, W2, b2)]
        J, A2, grads = step_gradients(compiled, X, Y, params)
        J_ref, A2_ref, grads_ref = step_gradients(training_step, X, Y, params)
        torch.testing.assert_close(J, J_ref, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(A2, A2_ref, rtol=1e-10, atol=1e-12)
        for g, g_ref in zip(grads, grads_ref):
            torch.testing.assert_close(g, g_ref, rtol=1e-10, atol=1e-12)
    assert counter.frame_count == 1, f"{counter.frame_count} frames compiled for 4 batch sizes"


@needs_export
@pytest.mark.parametrize("activation", ("tanh", "relu"))
def test_export_dynamic_batch(activation):
    from torch.export import Dim

    net = twolayer.TwoLayerNet(3, 5, 2, activation=activation, seed=3, init_scale=0.5)
    example = torch.randn(4, 3)
    program = torch.export.export(net, (example,), dynamic_shapes={"X": {0: Dim("m", min=1)}})
    exported = program.module()
    for m in (1, 8, 13):
        X = torch.randn(m, 3, generator=torch.Generator().manual_seed(m))
        torch.testing.assert_close(exported(X), net(X), rtol=1e-6, atol=1e-7)


@needs_func
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_func_grad_of_loss_equals_autograd(activation):
    X, Y, W1, b1, W2, b2 = make_input_tuple(6, 2, 4, 3, dtype=torch.float64)

    def cost(W1, b1, W2, b2):
        return twolayer.loss(X, Y, W1, b1, W2, b2, activation)

    grads = torch.func.grad(cost, argnums=(0, 1, 2, 3))(W1, b1, W2, b2)
    leaves = [p.clone().requires_grad_(True) for p in (W1, b1, W2, b2)]
    expected = torch.autograd.grad(reference_loss(X, Y, *leaves, activation), leaves)
    for g, e in zip(grads, expected):
        torch.testing.assert_close(g, e, rtol=1e-10, atol=1e-12)


@needs_func
def test_func_vmap_of_forward_equals_loop():
    X, _, W1, b1, W2, b2 = make_input_tuple(6, 2, 4, 3, dtype=torch.float64)
    batch = torch.stack([X, 2 * X, -X])
    got = torch.func.vmap(lambda x: twolayer.forward(x, W1, b1, W2, b2))(batch)
    expected = torch.stack([twolayer.forward(x, W1, b1, W2, b2) for x in batch])
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)
