"""Training in low precision (the low-precision contract): fit_ in bfloat16 (and float16 on
PyTorch 2.x) against a manual loop of eager autograd in the same precision, and the planar
flower trained in bfloat16 against float32 (TwoLayerNet in low precision:
test_net_low_precision.py).

The manual loop is eager PyTorch (reference.py's network on the low-precision tensors, autograd,
W := W - lr dW in place in p): nothing of twolayer computes an expected value.
"""
import pytest
import torch

import twolayer
from helpers import OUTPUTS, make_inputs, manual_descent, rel_err, seed_for, targets_for
from reference import reference_logits, reference_cost

F32, F64, BF16, F16 = torch.float32, torch.float64, torch.bfloat16, torch.float16
TORCH_MAJOR = int(torch.__version__.split(".")[0])
LOWS = (BF16, F16) if TORCH_MAJOR >= 2 else (BF16,)
PARAMS = ("W1", "b1", "W2", "b2")


def name_of(dtype):
    return str(dtype).replace("torch.", "")


# ---------------------------------------------------------------------------------------------
# fit_ in low precision
# ---------------------------------------------------------------------------------------------

STEPS, RATE = 20, 0.5
# Both twolayer and eager round every update W - lr dW to p, so each drifts from the exact
# descent (float64 from the same rounded start) by roundings: twolayer may drift twice as far as
# eager plus 2 epsilons of p (1.6 % in bfloat16), loose for that and tight for a wrong step (a
# missing 1/m, lr, sign).
LOOSE = {BF16: 4 * torch.finfo(BF16).eps, F16: 4 * torch.finfo(F16).eps}


@pytest.mark.parametrize("low", LOWS, ids=name_of)
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("activation", ("tanh", "relu"))
def test_fit_in_low_precision_matches_a_manual_eager_loop(low, output, activation):
    seed = seed_for("low-precision-fit", output, activation)
    t = targets_for(output, make_inputs(40, 3, 6, 2, dtype=F64, seed=seed), seed)
    t = {k: v.to(low) for k, v in t.items()}
    params = [t[k].clone() for k in PARAMS]
    costs = twolayer.fit_(*params, t["X"], t["Y"], STEPS, RATE, activation, output)
    assert costs.dtype == F32 and costs.shape == (STEPS,)
    for p, k in zip(params, PARAMS):
        assert p.dtype == low, k
        assert not torch.equal(p, t[k]), f"{k} did not move"

    def loss_fn(X, Y, W1, b1, W2, b2, activation):
        # The products in p, the cost in float32 from the rounded logits, as eager autocast
        # runs it (and as the contract places the precision); autograd rounds each gradient to
        # its parameter's dtype.
        Z2 = reference_logits(X, W1, b1, W2, b2, activation)
        return reference_cost(Z2.float(), Y.float(), output)

    eager, eager_costs = manual_descent(loss_fn, t["X"], t["Y"], [t[k] for k in PARAMS],
                                        activation, STEPS, RATE)
    # The exact trajectory from the same rounded start: both sides are measured against it.
    exact_inputs = {k: v.to(F64) for k, v in t.items()}
    exact, exact_costs = manual_descent(loss_fn, exact_inputs["X"], exact_inputs["Y"],
                                        [exact_inputs[k] for k in PARAMS], activation, STEPS,
                                        RATE)
    tol = LOOSE[low]
    for p, e, x, k in zip(params, eager, exact, PARAMS):
        assert e.dtype == low
        # Relative to the largest value the parameter held: the updates were rounded at the
        # scale of its start, however small it ends (a bias that descends to near 0).
        scale = max(x.abs().max().item(), t[k].abs().max().item())
        drift = (p.double() - x).abs().max().item() / scale
        eager_drift = (e.double() - x).abs().max().item() / scale
        assert drift <= 2 * eager_drift + tol / 2, (
            f"{k}: {drift:.3g} from the exact descent, eager {low} {eager_drift:.3g}")
    exact_costs = torch.tensor(exact_costs, dtype=F64)
    eager_costs = torch.tensor(eager_costs, dtype=F64)
    assert rel_err(costs, exact_costs) <= 2 * rel_err(eager_costs, exact_costs) + tol / 2, (
        costs, eager_costs, exact_costs)
    assert costs[-1] < costs[0]


@pytest.mark.parametrize("low", LOWS, ids=name_of)
def test_fit_takes_float32_labels_of_a_low_precision_network(low):
    seed = seed_for("low-precision-fit-f32-labels")
    t = make_inputs(40, 3, 6, 1, dtype=F64, seed=seed)
    X, Y32 = t["X"].to(low), t["Y"].to(F32)
    with_f32 = [t[k].to(low) for k in PARAMS]
    with_low = [p.clone() for p in with_f32]
    costs32 = twolayer.fit_(*with_f32, X, Y32, STEPS, RATE)
    costs_low = twolayer.fit_(*with_low, X, Y32.to(low), STEPS, RATE)
    assert costs32.dtype == F32 and costs_low.dtype == F32
    for a, b in zip(with_f32, with_low):
        assert a.dtype == low
        assert rel_err(a, b) <= LOOSE[low]   # the labels differ by a rounding only


def flower_accuracy(dtype, iterations=10000, rate=1.2, seed=1):
    """The demo's training (examples/planar/planar_flower.py): the flower of seed 1, a 2-4-1 tanh
    net with weights 0.01 N(0, 1) drawn in float32, 10000 steps of 1.2, in dtype; the fraction
    of the training points predicted right (A2 > 0.5), and the costs."""
    X64, Y64 = twolayer.datasets.flower(seed)
    gen = torch.Generator().manual_seed(seed)
    W1 = (0.01 * torch.randn(4, 2, generator=gen)).to(dtype)
    W2 = (0.01 * torch.randn(1, 4, generator=gen)).to(dtype)
    b1, b2 = torch.zeros(4, dtype=dtype), torch.zeros(1, dtype=dtype)
    X, Y = X64.to(dtype), Y64.to(dtype)
    costs = twolayer.fit_(W1, b1, W2, b2, X, Y, iterations, rate)
    with torch.no_grad():
        A2 = twolayer.forward(X, W1, b1, W2, b2)
    right = ((A2.to(F64) > 0.5) == (Y64 > 0.5)).to(F64).mean().item()
    return right, costs


# Slow: 2 s on PyTorch 1.13, but some 70 s (bfloat16) on PyTorch 2.15 on 2 cores, whose CPU
# bfloat16 products are much slower on small matrices.
@pytest.mark.slow
@pytest.mark.parametrize("low", LOWS, ids=name_of)
def test_flower_trained_in_low_precision_reaches_the_float32_accuracy(low):
    acc32, _ = flower_accuracy(F32)
    acc_low, costs = flower_accuracy(low)
    # The lecture reports about 90 %; the demo requires 88 % in float32.
    assert acc32 >= 0.88, acc32
    assert costs.dtype == F32
    assert costs[-1] < 0.5 * costs[0], (costs[0].item(), costs[-1].item())
    assert abs(acc_low - acc32) <= 0.03, f"{name_of(low)} {acc_low:.2%} vs float32 {acc32:.2%}"
