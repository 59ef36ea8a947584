"""fit_: the lecture's gradient descent inside C++ must take exactly the steps of loss() +
backward() + a manual update, on both CPU paths (direct loops for small networks, BLAS above)."""
import pytest
import torch

import twolayer
from helpers import ACTIVATIONS, make_inputs, manual_descent, rel_err
from reference import reference_loss

# (m, n0, n1, n2): the lecture's 2-4-1 and a multi-output small net take the direct loops; the
# others are large enough for the rows path (n1 * (n0 + n2) > 64), with few, some and many
# outputs (dW2 in the row pass; by BLAS after dZ1 has overwritten A1 in place; BLAS throughout).
SHAPES = [(40, 2, 4, 1), (33, 5, 1, 3), (64, 10, 16, 1), (40, 3, 20, 6), (50, 6, 12, 20)]


def _params(inputs):
    return [inputs[k].clone() for k in ("W1", "b1", "W2", "b2")]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_fit_takes_the_steps_of_the_manual_loop(shape, activation):
    inputs = make_inputs(*shape, seed=hash(shape) % 1000)
    X, Y = inputs["X"], inputs["Y"]
    params = _params(inputs)
    start = [p.clone() for p in params]
    costs = twolayer.fit_(*params, X, Y, 25, 0.3, activation)
    # Against plain PyTorch autograd, so the check does not lean on twolayer's own backward.
    expected, expected_costs = manual_descent(reference_loss, X, Y, start, activation, 25, 0.3)
    expected_costs = torch.tensor(expected_costs, dtype=X.dtype)
    assert costs.shape == (25,) and costs.dtype == X.dtype
    assert rel_err(costs, expected_costs) <= 1e-12
    for name, p, e, s in zip(("W1", "b1", "W2", "b2"), params, expected, start):
        assert rel_err(p, e) <= 1e-12, name
        assert not torch.equal(p, s) or name.startswith("b"), name + " did not move"


def test_fit_float32_close_to_the_float64_run():
    inputs = make_inputs(40, 2, 4, 1, seed=3)
    p64 = _params(inputs)
    p32 = [p.float() for p in p64]
    c64 = twolayer.fit_(*p64, inputs["X"], inputs["Y"], 50, 1.2)
    c32 = twolayer.fit_(*p32, inputs["X"].float(), inputs["Y"].float(), 50, 1.2)
    assert c32.dtype == torch.float32
    assert rel_err(c32, c64.float()) <= 1e-4
    for a, b in zip(p32, p64):
        assert rel_err(a, b.float()) <= 1e-4


def test_zero_iterations_change_nothing():
    inputs = make_inputs(10, 3, 4, 1)
    params = _params(inputs)
    before = [p.clone() for p in params]
    costs = twolayer.fit_(*params, inputs["X"], inputs["Y"], 0, 1.0)
    assert costs.shape == (0,)
    assert all(torch.equal(a, b) for a, b in zip(params, before))


@pytest.mark.parametrize("iterations, lr, message", [
    (-1, 0.1, "twolayer: iterations must be >= 0, but got -1"),
    (3, float("nan"), "twolayer: learning_rate must be finite, but got nan"),
])
def test_bad_loop_arguments(iterations, lr, message):
    inputs = make_inputs(10, 3, 4, 1)
    params = _params(inputs)
    before = [p.clone() for p in params]
    with pytest.raises(RuntimeError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        twolayer.fit_(*params, inputs["X"], inputs["Y"], iterations, lr)
    assert all(torch.equal(a, b) for a, b in zip(params, before))


def test_bad_shapes_are_refused_before_any_update():
    inputs = make_inputs(10, 3, 4, 1)
    params = _params(inputs)
    before = [p.clone() for p in params]
    with pytest.raises(RuntimeError, match=r"^twolayer: Y must have shape \(m, n2\) = \(10, 1\)"):
        twolayer.fit_(*params, inputs["X"], inputs["Y"][:, 0], 5, 0.1)
    assert all(torch.equal(a, b) for a, b in zip(params, before))


def test_fit_on_parameters_invalidates_graphs_that_saved_them():
    # An optimizer step: allowed on leaves that require grad, but a graph built before it must
    # not silently backpropagate through the old values.
    inputs = make_inputs(10, 3, 4, 1)
    params = [p.requires_grad_() for p in _params(inputs)]
    J = reference_loss(inputs["X"], inputs["Y"], *params)
    twolayer.fit_(*params, inputs["X"], inputs["Y"], 1, 0.1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        J.backward()


def test_fit_on_meta_gives_the_costs_shape():
    inputs = {k: v.to("meta") for k, v in make_inputs(10, 3, 4, 1).items()}
    costs = twolayer.fit_(*_params(inputs), inputs["X"], inputs["Y"], 7, 0.1)
    assert costs.shape == (7,) and costs.device.type == "meta"


def test_net_fit_reports_progress_and_matches_the_functional_op():
    inputs = make_inputs(40, 2, 4, 1, seed=11, dtype=torch.float32)
    X, Y = inputs["X"], inputs["Y"]
    net = twolayer.TwoLayerNet(2, 4, 1, seed=5, init_scale=0.5)
    params = [p.detach().clone() for p in net.parameters()]
    reports = []
    costs = net.fit(X, Y, 25, 0.5, progress=lambda i, c: reports.append((i, c)), every=10)
    expected_costs = twolayer.fit_(*params, X, Y, 25, 0.5)
    assert torch.equal(costs, expected_costs)
    assert [i for i, _ in reports] == [0, 10, 20, 24]   # and the last iteration
    assert [c for _, c in reports] == [costs[i].item() for i in (0, 10, 20, 24)]
    for p, e in zip(net.parameters(), params):
        assert torch.equal(p.detach(), e)


def test_net_fit_prints_the_lecture_lines(capsys):
    inputs = make_inputs(20, 2, 4, 1, seed=12, dtype=torch.float32)
    net = twolayer.TwoLayerNet(2, 4, 1, seed=5)
    costs = net.fit(inputs["X"], inputs["Y"], 3, 0.5, progress=True, every=2)
    lines = capsys.readouterr().out.splitlines()
    # Then the rate and the time left, and the final cost (tests/python/test_progress.py).
    assert [line.split("  (")[0] for line in lines[:2]] == [
        f"Cost after iteration 0: {costs[0].item():.6f}",
        f"Cost after iteration 2: {costs[2].item():.6f}"]
    assert len(lines) == 3 and lines[2].startswith("Final cost after 3 iterations: ")


def test_fit_refuses_a_parametrized_weight_and_changes_nothing():
    # fit would update the parametrization's output, a temporary, and report falling costs.
    from torch.nn.utils import parametrize

    class Scaled(torch.nn.Module):
        def forward(self, W):
            return 2 * W

    net = twolayer.TwoLayerNet(2, 4, 1, seed=1)
    parametrize.register_parametrization(net, "W1", Scaled())
    before = {k: v.detach().clone() for k, v in net.state_dict().items()}
    X = torch.randn(32, 2)
    Y = (X[:, :1] > 0).float()
    with pytest.raises(RuntimeError) as error:
        net.fit(X, Y, 10, 0.5)
    assert str(error.value) == (
        "twolayer: fit cannot train W1: it is not a parameter of this net but computed from "
        "others (a parametrization, torch.nn.utils.parametrize), and fit updates in place; "
        "train with loss(X, Y).backward() and a torch.optim optimizer, which update what it is "
        "computed from")
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k]), k
    # The way the message names trains the original.
    optimizer = torch.optim.SGD(net.parameters(), lr=0.5)
    net.loss(X, Y).backward()
    optimizer.step()
    assert not torch.equal(net.parametrizations.W1.original, before["parametrizations.W1.original"])


def test_fit_op_refuses_a_computed_tensor_but_takes_a_view():
    base = torch.randn(4, 2, requires_grad=True)
    b1, W2, b2 = torch.zeros(4), torch.randn(1, 4), torch.zeros(1)
    X = torch.randn(32, 2)
    Y = (X[:, :1] > 0).float()
    computed = base * 2
    with pytest.raises(RuntimeError) as error:
        twolayer.fit_(computed, b1, W2, b2, X, Y, 5, 0.5)
    assert "twolayer: fit_ cannot update W1: it is computed from other tensors (grad_fn " \
           "MulBackward0), and an update in place would not reach them" in str(error.value)
    # A view of a leaf shares its memory: the update reaches the leaf.
    leaf = torch.randn(4, 2, requires_grad=True)
    before = leaf.detach().clone()
    view = leaf[:, :]
    with torch.no_grad():
        twolayer.fit_(view, b1, W2, b2, X, Y, 5, 0.5)
    assert not torch.equal(leaf.detach(), before)
