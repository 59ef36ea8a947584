"""The two ways the CPU runs a bfloat16 network's products: ATen's bfloat16 kernels ("native",
where the CPU has bfloat16 instructions) and float32 GEMM on the same bfloat16 numbers
("float32", where ATen's would be emulated). Each is forced in a child process with
TWOLAYER_LOW_PRECISION_PRODUCTS; both must be as accurate as eager autograd in bfloat16,
against float64 on the same (rounded) inputs, on the row paths where the products run."""
import json
import os
import subprocess
import sys

import pytest
import torch

import twolayer
import twolayer._testing
from helpers import LOSS_INPUTS, loss_and_grads, make_inputs, rel_err
from reference import reference_loss

HERE = os.path.dirname(os.path.abspath(__file__))
BF16 = torch.bfloat16

# Row paths with the output layer in the pass and by the products, and several row blocks.
SHAPES = [(300, 20, 48, 3), (200, 7, 40, 9), (2100, 3, 24, 1)]
# Smooth ones: at relu's kink a Z1 within a rounding of 0 takes either side, in eager too.
ACTIVATIONS = ["tanh", "sigmoid"]

CHILD = r"""
import json, sys, torch, twolayer, twolayer._testing
sys.path.insert(0, sys.argv[1])
from helpers import LOSS_INPUTS, loss_and_grads, make_inputs
out = {"products": twolayer._testing.low_precision_products(torch.bfloat16), "cases": []}
for shape in json.loads(sys.argv[2]):
    for activation in json.loads(sys.argv[3]):
        inputs = {k: v.to(torch.bfloat16) for k, v in make_inputs(*shape, seed=sum(shape)).items()}
        J, grads = loss_and_grads(twolayer.loss, inputs, activation, torch.tensor(1.0))
        out["cases"].append({"J": J.item(), "J_dtype": str(J.dtype),
                             "grads": {k: grads[k].float().tolist() for k in LOSS_INPUTS},
                             "dtypes": {k: str(grads[k].dtype) for k in LOSS_INPUTS}})
json.dump(out, sys.stdout)
"""


def run_child(products):
    env = dict(os.environ, TWOLAYER_LOW_PRECISION_PRODUCTS=products)
    done = subprocess.run([sys.executable, "-c", CHILD, HERE, json.dumps(SHAPES),
                           json.dumps(ACTIVATIONS)],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return None


def test_the_cpu_decides_which_products_run():
    flags = cpu_flags()
    if flags is None or "avx2" not in flags:
        pytest.skip("not an x86-64 Linux machine: the choice is ATen's")
    # PyTorch 1.13's bfloat16 GEMM sums in bfloat16: never chosen there.
    native = (bool(flags & {"avx512_bf16", "amx_bf16"}) and "avx512f" in flags
              and int(torch.__version__.split(".")[0]) >= 2)
    expected = "native" if native else "float32"
    assert twolayer._testing.low_precision_products(BF16) == expected, sorted(flags)


def test_a_bad_choice_is_refused_by_name():
    code = ("import torch, twolayer\n"
            "x = torch.zeros(300, 20, dtype=torch.bfloat16)\n"
            "w = torch.zeros(48, 20, dtype=torch.bfloat16)\n"
            "twolayer.forward(x, w, torch.zeros(48, dtype=torch.bfloat16),\n"
            "                 torch.zeros(1, 48, dtype=torch.bfloat16),\n"
            "                 torch.zeros(1, dtype=torch.bfloat16))\n")
    env = dict(os.environ, TWOLAYER_LOW_PRECISION_PRODUCTS="fast")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0
    assert ("twolayer: TWOLAYER_LOW_PRECISION_PRODUCTS must be one of native, float32 (or unset "
            "for the CPU's best), but got 'fast'") in done.stderr, done.stderr


@pytest.mark.parametrize("products", ["native", "float32"])
def test_both_products_are_as_accurate_as_eager_bfloat16(products):
    results = run_child(products)
    assert results["products"] == products
    cases = iter(results["cases"])
    for shape in SHAPES:
        for activation in ACTIVATIONS:
            case = next(cases)
            what = f"{products} {shape} {activation}"
            assert case["J_dtype"] == "torch.float32", what
            assert set(case["dtypes"].values()) == {"torch.bfloat16"}, what
            rounded = {k: v.to(BF16) for k, v in make_inputs(*shape, seed=sum(shape)).items()}
            exact = {k: v.to(torch.float64) for k, v in rounded.items()}
            ref_J, ref = loss_and_grads(reference_loss, exact, activation,
                                        torch.tensor(1.0, dtype=torch.float64))
            eager_J, eager = loss_and_grads(reference_loss, rounded, activation,
                                            torch.tensor(1.0, dtype=BF16))
            # Twice eager's error, plus a floor of a few bfloat16 roundings (2^-8 each) for
            # values where eager happens to round luckily.
            floor = 3 * 2.0 ** -8
            J_err = rel_err(torch.tensor(case["J"]), ref_J)
            assert J_err <= 2 * rel_err(eager_J, ref_J) + floor, f"{what} J {J_err:.3g}"
            for k in LOSS_INPUTS:
                err = rel_err(torch.tensor(case["grads"][k]), ref[k])
                bound = 2 * rel_err(eager[k], ref[k]) + floor
                assert err <= bound, f"{what} d{k}: {err:.3g} > {bound:.3g}"
