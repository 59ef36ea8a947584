"""TwoLayerNet under TorchScript: a scripted net fits as the eager one (the same costs and
parameters, so a model served from C++ is the one trained in Python) and torch.jit.trace works."""
import torch

import twolayer
from conftest import make_inputs


def _data(m=30, seed=3):
    inputs = make_inputs(m, 2, 4, 1, seed=seed, labels="hard", dtype=torch.float32)
    return inputs["X"], inputs["Y"]


def test_a_scripted_net_fits_exactly_as_the_eager_one():
    X, Y = _data()
    eager = twolayer.TwoLayerNet(2, 4, 1, seed=2, init_scale=0.5)
    scripted = torch.jit.script(twolayer.TwoLayerNet(2, 4, 1, seed=2, init_scale=0.5))
    expected = eager.fit(X, Y, 10, 1.2)
    costs = scripted.fit(X, Y, 10, 1.2)
    assert torch.equal(costs, expected)
    for name, p in eager.named_parameters():
        assert torch.equal(getattr(scripted, name).detach(), p.detach()), name
    reports = []
    scripted.fit(X, Y, 5, 1.2, progress=lambda i, c: reports.append(i), every=2)
    assert reports == [0, 2, 4]


def test_tracing_works_and_the_traced_module_equals_the_eager_one_at_another_batch_size():
    X, _ = _data(m=8)
    net = twolayer.TwoLayerNet(2, 4, 1, seed=2, init_scale=1.0)
    traced = torch.jit.trace(net, X)
    X_other, Y_other = _data(m=13, seed=4)
    assert torch.equal(traced(X_other), net(X_other))
    assert torch.equal(traced.predict(X_other), net.predict(X_other))
    assert torch.equal(traced.loss(X_other, Y_other), net.loss(X_other, Y_other))
    # The traced forward still runs the operator, whose backward reaches the parameters.
    traced(X_other).sum().backward()
    assert traced.W1.grad is not None and traced.W1.grad.abs().sum() > 0


def test_a_traced_net_survives_save_and_load(tmp_path):
    X, _ = _data(m=8)
    net = twolayer.TwoLayerNet(2, 4, 1, activation="relu", seed=2, init_scale=1.0)
    path = str(tmp_path / "traced.pt")
    torch.jit.save(torch.jit.trace(net, X), path)
    loaded = torch.jit.load(path)
    X_other, _ = _data(m=11, seed=6)
    assert torch.equal(loaded(X_other), net(X_other))
