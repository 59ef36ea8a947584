"""Training in low precision (the low-precision contract): fit_ in bfloat16 (and float16 on
PyTorch 2.x) against a manual loop of eager autograd in the same precision, the planar flower
trained in bfloat16 against float32, and TwoLayerNet(dtype=torch.bfloat16) end to end.

The manual loop is eager PyTorch (reference.py's network on the low-precision tensors, autograd,
W := W - lr dW in place in p): nothing of twolayer computes an expected value.
"""
import contextlib
import io

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


def eager_loss(X, Y, W1, b1, W2, b2, activation, output):
    """reference.py's network in whatever dtype it gets, the cost included; the squared error by
    hand (mse_loss has no CPU bfloat16 kernel on PyTorch 1.13)."""
    Z2 = reference_logits(X, W1, b1, W2, b2, activation)
    if output == "identity":
        return ((Z2 - Y) ** 2).sum() / (2 * Z2.shape[0])
    return reference_cost(Z2, Y, output)


# ---------------------------------------------------------------------------------------------
# 5. fit_ in low precision
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


# ---------------------------------------------------------------------------------------------
# 6. TwoLayerNet(dtype=low)
# ---------------------------------------------------------------------------------------------

def quadrants(m=200, seed=3):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(m, 2, generator=gen)
    y = (X[:, 0] * X[:, 1] > 0).to(torch.int64)
    return X, y


@pytest.mark.parametrize("low", LOWS, ids=name_of)
def test_net_of_low_precision_computes_in_it(low):
    net = twolayer.TwoLayerNet(2, 4, 1, seed=1, init_scale=1.0, dtype=low)
    for name in PARAMS:
        assert getattr(net, name).dtype == low, name
    X, y = quadrants()
    Xl = X.to(low)
    A2 = net(Xl)
    assert A2.dtype == low and A2.shape == (200, 1)
    # the operator on the net's own parameters, and the eager network, agree
    expected = torch.sigmoid(reference_logits(Xl.double(), net.W1.double(), net.b1.double(),
                                              net.W2.double(), net.b2.double(), "tanh"))
    assert rel_err(A2, expected) <= 4 * torch.finfo(low).eps
    J = net.loss(Xl, y)
    assert J.dtype == F32 and J.shape == ()
    J.backward()
    for name in PARAMS:
        assert getattr(net, name).grad.dtype == low, name
    labels = net.predict(Xl)
    assert labels.dtype == torch.int64 and labels.shape == (200,)
    assert torch.equal(labels, (A2[:, 0] > 0.5).to(torch.int64))


@pytest.mark.parametrize("low", LOWS, ids=name_of)
@pytest.mark.parametrize("progress", (False, True))
def test_net_of_low_precision_fits(low, progress):
    X, y = quadrants()
    net = twolayer.TwoLayerNet(2, 4, 1, seed=1, init_scale=1.0, dtype=low)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        costs = net.fit(X.to(low), y, 2000, 1.2, progress=progress, every=500)
    assert costs.dtype == F32 and costs.shape == (2000,)
    assert costs[-1] < 0.6 * costs[0]
    for name in PARAMS:
        assert getattr(net, name).dtype == low, name
    if progress:
        text = out.getvalue()
        assert "Cost after iteration 0" in text and "Cost after iteration 1500" in text, text
    else:
        assert out.getvalue() == ""
    assert net.score(X.to(low), y) > 0.8


@pytest.mark.parametrize("low", LOWS, ids=name_of)
def test_net_of_low_precision_round_trips_through_a_state_dict(low, tmp_path):
    X, y = quadrants()
    net = twolayer.TwoLayerNet(2, 4, 1, seed=1, init_scale=1.0, dtype=low)
    net.fit(X.to(low), y, 50, 1.2)
    path = tmp_path / "net.pt"
    torch.save(net.state_dict(), path)
    loaded = twolayer.TwoLayerNet.load(path)
    other = twolayer.TwoLayerNet(2, 4, 1, seed=2, dtype=low)
    other.load_state_dict(torch.load(path))
    for copy in (loaded, other):
        for name in PARAMS:
            got, want = getattr(copy, name), getattr(net, name)
            assert got.dtype == low, name
            assert torch.equal(got.detach(), want.detach()), name
        assert torch.equal(copy(X.to(low)), net(X.to(low)))


@pytest.mark.parametrize("low", LOWS, ids=name_of)
def test_scripted_net_of_low_precision(low, tmp_path):
    X, y = quadrants()
    net = twolayer.TwoLayerNet(2, 4, 1, seed=1, init_scale=1.0, dtype=low)
    scripted = torch.jit.script(net)
    Xl = X.to(low)
    A2 = scripted(Xl)
    assert A2.dtype == low
    assert torch.equal(A2, net(Xl))
    Y = y.to(low).unsqueeze(1)
    J = scripted.loss(Xl, Y)
    assert J.dtype == F32
    assert torch.equal(J, net.loss(Xl, Y))
    assert torch.equal(scripted.predict(Xl, None), net.predict(Xl))
    path = str(tmp_path / "net.ts")
    scripted.save(path)
    assert torch.equal(torch.jit.load(path)(Xl), A2)
