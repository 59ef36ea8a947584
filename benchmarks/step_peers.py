"""The peers of the forward+backward step: each is a zero-argument callable doing one full step
(cost J and the four parameter gradients) on one problem, built outside the timed region."""
import math
import os

import numpy as np
import torch

from common import (ACTIVATION, numpy_step, reference_loss, reference_loss_for,
                    scripted_reference_loss, to_lecture_layout, twolayer_loss_for)

# torch.compile (inductor) of the eager network is a peer where the torch at hand has it (2.x).
HAS_COMPILE = int(torch.__version__.split(".")[0]) >= 2 and hasattr(torch, "compile")
ALL_PEERS = ("twolayer", "eager", "compile", "jit", "numpy", "null_op", "mm_floor")
PEERS = tuple(p for p in ALL_PEERS if p != "compile" or HAS_COMPILE)
# Two ways of issuing the floor's products; the faster one is reported as mm_floor.
FLOOR_VARIANTS = ("mm_floor_out", "mm_floor_alloc")
TIMED = PEERS[:-1] + FLOOR_VARIANTS


def load_null_op(path):
    """Loads twolayer_bench::null_loss (benchmarks/null_op.cpp, built by CMake with the
    benchmarks): a custom operator with loss's six inputs that computes nothing. Without a path
    the null_op peer is left out."""
    if not path:
        return False
    if not os.path.exists(path):
        raise FileNotFoundError(f"bench_step: no null operator library at {path}")
    torch.ops.load_library(path)
    return True


# The null operator is timed where its cost matters: at the lecture's size, whose target is
# set against it. At M and beyond it is a rounding error of every peer.
NULL_OP_SHAPES = ("S",)


def timed_peers(null_op_loaded, shape_name):
    return tuple(p for p in TIMED
                 if p != "null_op" or (null_op_loaded and shape_name in NULL_OP_SHAPES))


def _null_loss(X, Y, W1, b1, W2, b2):
    return torch.ops.twolayer_bench.null_loss(X, Y, W1, b1, W2, b2)


# float32 results of differently ordered sums over up to 8192 x 784 terms
CHECK_RTOL = 2e-3
# The same bound per dtype, for the sweep's float64 cells: float64 sums of the same lengths
# disagree by orders of magnitude less.
# bfloat16 and float16 (sweep.py --bfloat16) against eager in float32 on the same rounded
# numbers: products of 8-bit (11-bit) operands, accumulated in float32, stay within a few percent.
CHECK_RTOL_BY_DTYPE = {torch.float32: CHECK_RTOL, torch.float64: 1e-8,
                       torch.bfloat16: 5e-2, torch.float16: 5e-2}
# ...or within this factor of eager's own error in the low dtype: where ATen accumulates a
# bfloat16 product in bfloat16 (PyTorch 1.13 on a CPU without bfloat16 instructions), the sums
# over the m examples (dW1, dW2) are off by tens of percent in eager and twolayer alike.
LOW_PRECISION_EAGER_FACTOR = 1.5


def _autograd_step(loss_fn, X, Y, params):
    leaves = [p.detach().clone().requires_grad_() for p in params]

    def step():
        for p in leaves:
            p.grad = None  # what optimizer.zero_grad(set_to_none=True) does between steps
        loss_fn(X, Y, *leaves).backward()

    def result():
        for p in leaves:
            p.grad = None
        J = loss_fn(X, Y, *leaves)
        J.backward()
        return J.item(), [p.grad.clone() for p in leaves]

    return step, result


def _numpy_step(X, Y, params):
    Xc, Yc, P = to_lecture_layout(X, Y, params)

    def step():
        numpy_step(Xc, Yc, *P)

    def result():
        cost, (dW1, db1, dW2, db2) = numpy_step(Xc, Yc, *P)
        grads = [dW1, db1.reshape(-1), dW2, db2.reshape(-1)]
        return float(cost), [torch.from_numpy(np.ascontiguousarray(g)) for g in grads]

    return step, result


def _mm_floor_step(X, params, preallocated):
    """The five products of a step, on operands of the step's shapes, layouts and dtype (X's):
    forward X·W1ᵀ and A1·W2ᵀ, backward dZ2ᵀ·A1 (dW2), dZ2·W2 (dA1) and dZ1ᵀ·X (dW1)."""
    W1, _, W2, _ = (p.detach() for p in params)
    m, n0 = X.shape
    n1, n2 = W1.shape[0], W2.shape[0]
    dtype = X.dtype
    g = torch.Generator().manual_seed(1)
    A1 = torch.rand(m, n1, generator=g, dtype=dtype) * 2 - 1
    dZ2 = torch.rand(m, n2, generator=g, dtype=dtype) - 0.5
    dZ1 = torch.rand(m, n1, generator=g, dtype=dtype) - 0.5
    # The transposed views are made once: the floor is the products alone.
    W1t, W2t, dZ2t, dZ1t = W1.t(), W2.t(), dZ2.t(), dZ1.t()
    if preallocated:
        Z1, Z2 = torch.empty(m, n1, dtype=dtype), torch.empty(m, n2, dtype=dtype)
        dW2 = torch.empty(n2, n1, dtype=dtype)
        dA1, dW1 = torch.empty(m, n1, dtype=dtype), torch.empty(n1, n0, dtype=dtype)

        def step():
            torch.mm(X, W1t, out=Z1)
            torch.mm(A1, W2t, out=Z2)
            torch.mm(dZ2t, A1, out=dW2)
            torch.mm(dZ2, W2, out=dA1)
            torch.mm(dZ1t, X, out=dW1)
    else:
        def step():
            torch.mm(X, W1t)
            torch.mm(A1, W2t)
            torch.mm(dZ2t, A1)
            torch.mm(dZ2, W2)
            torch.mm(dZ1t, X)
    return step, None


def build(peer, X, Y, params, activation=ACTIVATION):
    """(step, result): step() does one step; result() returns (J, [dW1, db1, dW2, db2]) in
    the batch-first layout for the cross-check, or is None for the floor and the null operator,
    which compute no step. `activation` is the hidden one of twolayer and eager (the sweep's
    cells); compile, jit and numpy are the suite's tanh network only."""
    if peer == "twolayer":
        return _autograd_step(twolayer_loss_for(activation), X, Y, params)
    if peer == "eager":
        return _autograd_step(reference_loss_for(activation), X, Y, params)
    if activation != ACTIVATION and peer not in ("mm_floor_out", "mm_floor_alloc"):
        raise ValueError(f"peer {peer!r} has only the {ACTIVATION} network")
    if peer == "compile":
        # Compiled for this shape on the first call, which the cross-check makes before timing.
        return _autograd_step(torch.compile(reference_loss), X, Y, params)
    if peer == "jit":
        return _autograd_step(scripted_reference_loss(), X, Y, params)
    if peer == "numpy":
        return _numpy_step(X, Y, params)
    if peer == "null_op":  # times the calls only: its gradients are not the step's
        return _autograd_step(_null_loss, X, Y, params)[0], None
    if peer == "mm_floor_out":
        return _mm_floor_step(X, params, preallocated=True)
    if peer == "mm_floor_alloc":
        return _mm_floor_step(X, params, preallocated=False)
    raise ValueError(f"unknown peer {peer!r}")


def relative_error(result, reference):
    """The largest error of J and of every gradient, each relative to the largest entry of the
    reference (a gradient entry near 0 would make an entrywise relative error meaningless)."""
    (J, grads), (J_ref, grads_ref) = result, reference
    errors = [abs(J - J_ref) / max(abs(J_ref), 1e-12)]
    for g, r in zip(grads, grads_ref):
        scale = max(r.abs().max().item(), 1e-12)
        errors.append((g.to(r.dtype) - r).abs().max().item() / scale)
    # max() passes over a NaN (every comparison with it is false): a NaN is the largest error.
    return math.inf if any(math.isnan(e) for e in errors) else max(errors)
