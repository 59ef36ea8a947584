"""The two compilations of the vectorised CPU kernels: the one this machine runs (AVX2+FMA where
the CPU has them) and the baseline x86-64 one, forced with TWOLAYER_CPU_KERNEL=baseline in a
child process. Both must agree with autograd on the small-net kernel (the lecture's 2-4-1 with
its sizes compiled in, and other small shapes), on the row kernels of larger networks, and in
fit_; with tails of examples and of hidden units that fill no whole vector."""
import json
import os
import subprocess
import sys

import pytest
import torch

import twolayer
from helpers import ACTIVATIONS, LOSS_INPUTS, TOLERANCE, loss_and_grads, make_inputs, rel_err
from reference import reference_loss

HERE = os.path.dirname(os.path.abspath(__file__))

# (m, n0, n1, n2): 2-4-1 (specialised), small shapes with tails, and rows-path shapes whose n1
# is no multiple of a vector (8 floats, 4 doubles): with n2 <= 4 (the fused row pass) and n2 = 6
# and 17 (BLAS for the output layer), and with more rows than one block of the row kernels (64)
# and a logit count (m n2) that is no multiple of a vector; the whole-batch rows path (more than
# 32768 weights), and row blocks with several blocks (1 MiB of Z1 per block).
SHAPES = [(400, 2, 4, 1), (13, 2, 4, 1), (7, 3, 5, 2), (37, 1, 1, 1), (70, 6, 9, 3),
          (45, 5, 37, 1), (50, 3, 11, 6), (33, 4, 20, 17), (201, 5, 13, 3), (150, 3, 11, 5),
          (131, 4, 20, 17), (40, 190, 180, 3), (40, 190, 180, 9), (900, 3, 700, 2),
          (900, 3, 700, 6)]

CHILD = r"""
import json, sys, torch, twolayer
sys.path.insert(0, sys.argv[1])
from helpers import LOSS_INPUTS, loss_and_grads, make_inputs
out = {"version": torch.ops.twolayer_testing.cpu_kernel_version(), "cases": []}
for shape in json.loads(sys.argv[2]):
    for dtype in (torch.float32, torch.float64):
        for activation in json.loads(sys.argv[3]):
            inputs = make_inputs(*shape, dtype=dtype, seed=sum(shape))
            J, grads = loss_and_grads(twolayer.loss, inputs, activation, torch.tensor(1.0, dtype=dtype))
            out["cases"].append({"J": J.item(), "grads": {k: grads[k].tolist() for k in LOSS_INPUTS}})
json.dump(out, sys.stdout)
"""


def test_version_is_one_of_the_two():
    assert torch.ops.twolayer_testing.cpu_kernel_version() in ("avx2", "baseline")


@pytest.fixture(scope="module")
def baseline_results():
    env = dict(os.environ, TWOLAYER_CPU_KERNEL="baseline")
    done = subprocess.run([sys.executable, "-c", CHILD, HERE, json.dumps(SHAPES),
                           json.dumps(ACTIVATIONS)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_baseline_kernels_agree_with_autograd(baseline_results):
    assert baseline_results["version"] == "baseline"
    cases = iter(baseline_results["cases"])
    for shape in SHAPES:
        for dtype in (torch.float32, torch.float64):
            for activation in ACTIVATIONS:
                case = next(cases)
                inputs = make_inputs(*shape, dtype=dtype, seed=sum(shape))
                ref_J, ref = loss_and_grads(reference_loss, inputs, activation,
                                            torch.tensor(1.0, dtype=dtype))
                what = f"{shape} {dtype} {activation}"
                assert rel_err(torch.tensor(case["J"], dtype=torch.float64), ref_J) <= TOLERANCE[dtype], what
                for k in LOSS_INPUTS:
                    got = torch.tensor(case["grads"][k], dtype=torch.float64)
                    assert rel_err(got, ref[k]) <= TOLERANCE[dtype], f"{what} d{k}"


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_running_kernels_agree_with_autograd(shape, dtype):
    for activation in ACTIVATIONS:
        inputs = make_inputs(*shape, dtype=dtype, seed=sum(shape))
        J, grads = loss_and_grads(twolayer.loss, inputs, activation, torch.tensor(1.0, dtype=dtype))
        ref_J, ref = loss_and_grads(reference_loss, inputs, activation, torch.tensor(1.0, dtype=dtype))
        assert rel_err(J, ref_J) <= TOLERANCE[dtype]
        for k in LOSS_INPUTS:
            assert rel_err(grads[k], ref[k]) <= TOLERANCE[dtype], f"{activation} d{k}"
