"""TwoLayerNet's output layers (sigmoid, softmax, identity): the labels loss and fit take, what
predict and score return, TorchScript, and checkpoints that carry the output layer. Expected
values come from plain PyTorch (F.cross_entropy, F.mse_loss, torch.nn.Sequential, a hand-written
R²), never from twolayer itself."""
import re

import pytest
import torch
import torch.nn.functional as F

import twolayer
from helpers import make_inputs
from reference import reference_logits

UNKNOWN_OUTPUT = ("twolayer: unknown output layer 'softplus'; expected one of sigmoid (binary or "
                  "multi-label), softmax (multi-class), identity (regression)")


def _exactly(message):
    return "^" + re.escape(message) + "$"


def _params(net):
    return [p.detach() for p in (net.W1, net.b1, net.W2, net.b2)]


def _net(n2, output, n0=3, n1=5, seed=4, activation="tanh"):
    return twolayer.TwoLayerNet(n0, n1, n2, activation=activation, output=output, init_scale=1.0,
                                seed=seed, dtype=torch.float64)


def _X(m=12, n0=3, seed=3):
    return make_inputs(m, n0, 5, 1, seed=seed)["X"]


def _sequential(net, output_module):
    """torch.nn.Sequential with the net's weights: Linear, Tanh, Linear, then `output_module`."""
    n1, n0 = net.W1.shape
    model = torch.nn.Sequential(torch.nn.Linear(n0, n1), torch.nn.Tanh(),
                                torch.nn.Linear(n1, net.W2.shape[0]), output_module).double()
    with torch.no_grad():
        model[0].weight.copy_(net.W1)
        model[0].bias.copy_(net.b1)
        model[2].weight.copy_(net.W2)
        model[2].bias.copy_(net.b2)
    return model


def _r2(prediction, target):
    """scikit-learn's r2_score (uniform average, constant targets 1 if exact else 0), by hand."""
    prediction = prediction.reshape(target.shape[0], -1).double()
    target = target.reshape(target.shape[0], -1).double()
    residual = ((target - prediction) ** 2).sum(0)
    total = ((target - target.mean(0)) ** 2).sum(0)
    scores = [1.0 - r / t if t != 0 else (1.0 if r == 0 else 0.0)
              for r, t in zip(residual.tolist(), total.tolist())]
    return sum(scores) / len(scores)


# --- the output layer, its name and its validation ---------------------------------------------

def test_the_output_layer_defaults_to_sigmoid_and_is_listed():
    assert twolayer.OUTPUTS == ("sigmoid", "softmax", "identity")
    net = twolayer.TwoLayerNet(2, 3, 1)
    assert net.output == "sigmoid"
    assert repr(net) == "TwoLayerNet(n0=2, n1=3, n2=1, activation=tanh, output=sigmoid)"
    assert "output=softmax" in repr(_net(3, "softmax"))


@pytest.mark.parametrize("output", ["softplus", "Softmax", None, 3])
def test_an_unknown_output_layer_is_refused_before_anything_is_made(output):
    message = UNKNOWN_OUTPUT.replace("'softplus'", repr(output))
    calls = []
    original = torch.randn
    with pytest.raises(ValueError, match=_exactly(message)):
        torch.randn = lambda *a, **k: calls.append(1) or original(*a, **k)
        try:
            twolayer.TwoLayerNet(2, 3, 1, output=output)
        finally:
            torch.randn = original
    assert calls == []  # refused before the weights were drawn


def test_assigning_an_unknown_output_layer_is_refused_and_changes_nothing():
    net = _net(3, "softmax")
    with pytest.raises(ValueError, match=_exactly(UNKNOWN_OUTPUT)):
        net.output = "softplus"
    assert net.output == "softmax"
    assert bytes(net.state_dict()["output_name"].tolist()) == b"softmax"
    net.output = "identity"
    assert bytes(net.state_dict()["output_name"].tolist()) == b"identity"


def test_the_state_dict_carries_the_output_layer_after_the_activation():
    state = _net(3, "softmax", activation="relu").state_dict()
    assert list(state) == ["W1", "b1", "W2", "b2", "activation_name", "output_name"]
    assert state["output_name"].dtype == torch.uint8
    assert bytes(state["output_name"].tolist()) == b"softmax"
    assert bytes(state["activation_name"].tolist()) == b"relu"


# --- softmax -----------------------------------------------------------------------------------

def test_softmax_forward_logits_and_loss_match_plain_pytorch():
    net = _net(4, "softmax")
    X = _X()
    y = torch.tensor([0, 1, 2, 3, 3, 2, 1, 0, 0, 2, 1, 3])
    Z2 = reference_logits(X, *_params(net))
    torch.testing.assert_close(net.logits(X).detach(), Z2, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(net(X).detach(), torch.softmax(Z2, dim=1), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(net.predict_proba(X).detach(), torch.softmax(Z2, dim=1),
                               rtol=1e-12, atol=1e-12)
    expected = F.cross_entropy(Z2, y)
    # Class indices (int64, (m,)), one-hot rows of floats, and one-hot rows of integers.
    torch.testing.assert_close(net.loss(X, y).detach(), expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(net.loss(X, F.one_hot(y, 4).double()).detach(), expected,
                               rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(net.loss(X, F.one_hot(y, 4)).detach(), expected,
                               rtol=1e-12, atol=1e-12)
    # NumPy class indices and other integer types too.
    torch.testing.assert_close(net.loss(X, y.numpy()).detach(), expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(net.loss(X, y.to(torch.int32)).detach(), expected,
                               rtol=1e-12, atol=1e-12)


def test_softmax_loss_backward_matches_plain_pytorch():
    net = _net(3, "softmax")
    X = _X()
    y = torch.arange(12) % 3
    net.loss(X, y).backward()
    model = _sequential(net, torch.nn.Identity())
    F.cross_entropy(model(X), y).backward()
    for mine, theirs in ((net.W1, model[0].weight), (net.b1, model[0].bias),
                         (net.W2, model[2].weight), (net.b2, model[2].bias)):
        torch.testing.assert_close(mine.grad, theirs.grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("bad, shown", [(3, "3"), (-1, "-1"), (7, "7")])
def test_class_indices_out_of_range_are_refused_with_the_range(bad, shown):
    net = _net(3, "softmax")
    X = _X(m=4)
    y = torch.tensor([0, 1, bad, 2])
    message = ("twolayer: class indices Y must be in [0, n2) = [0, 3) for a net with 3 outputs, "
               f"but got {shown}")
    with pytest.raises(ValueError, match=_exactly(message)):
        net.loss(X, y)
    before = [p.clone() for p in _params(net)]
    with pytest.raises(ValueError, match=_exactly(message)):
        net.fit(X, y, 5, 0.1)
    assert all(torch.equal(a, b) for a, b in zip(before, _params(net)))


def test_softmax_fit_equals_sequential_trained_the_same_way():
    net = _net(3, "softmax", seed=7)
    model = _sequential(net, torch.nn.Identity())
    X = _X(m=30, seed=5)
    y = torch.arange(30) % 3
    costs = net.fit(X, y, 25, 0.5)
    expected = []
    for _ in range(25):
        model.zero_grad()
        J = F.cross_entropy(model(X), y)
        expected.append(J.item())
        J.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= 0.5 * p.grad
    torch.testing.assert_close(costs, torch.tensor(expected, dtype=torch.float64),
                               rtol=1e-10, atol=1e-12)
    for mine, theirs in ((net.W1, model[0].weight), (net.b1, model[0].bias),
                         (net.W2, model[2].weight), (net.b2, model[2].bias)):
        torch.testing.assert_close(mine.detach(), theirs.detach(), rtol=1e-10, atol=1e-12)


def test_softmax_predict_is_the_argmax_class():
    net = _net(4, "softmax")
    X = _X()
    labels = net.predict(X)
    assert labels.dtype == torch.int64 and labels.shape == (12,)
    assert torch.equal(labels, reference_logits(X, *_params(net)).argmax(dim=1))


def test_softmax_score_takes_indices_columns_and_rows():
    net = _net(3, "softmax")
    X = _X()
    predicted = reference_logits(X, *_params(net)).argmax(dim=1)
    y = predicted.clone()
    y[:4] = (y[:4] + 1) % 3  # four wrong
    expected = (predicted == y).double().mean().item()
    assert expected == pytest.approx(8 / 12)
    assert net.score(X, y) == pytest.approx(expected, abs=0)
    assert net.score(X, y.reshape(-1, 1)) == pytest.approx(expected, abs=0)
    assert net.score(X, F.one_hot(y, 3)) == pytest.approx(expected, abs=0)
    assert net.score(X, F.one_hot(y, 3).double()) == pytest.approx(expected, abs=0)
    assert net.score(X, y.double()) == pytest.approx(expected, abs=0)
    assert net.score(X, y.numpy()) == pytest.approx(expected, abs=0)


@pytest.mark.parametrize("shape", [(12, 2), (11,), (12, 3, 1), (1, 12)])
def test_softmax_score_refuses_shapes_that_would_broadcast(shape):
    net = _net(3, "softmax")
    message = ("twolayer: score needs class indices y of shape (m,) or (m, 1) = (12,) or (12, 1), "
               "or rows of shape (m, n2) = (12, 3), for a net with a softmax output, but got "
               f"{list(shape)}; other shapes would broadcast against the predictions")
    with pytest.raises(ValueError, match=_exactly(message)):
        net.score(_X(), torch.zeros(shape, dtype=torch.long))


@pytest.mark.parametrize("value, shown", [(3, "3"), (-1, "-1"), (1.5, "1.5")])
def test_softmax_score_refuses_what_names_no_class(value, shown):
    net = _net(3, "softmax")
    y = torch.zeros(12, dtype=torch.float64 if isinstance(value, float) else torch.long)
    y[5] = value
    message = ("twolayer: score needs class indices y from 0 to n2 - 1 = 2 for a net with 3 "
               f"outputs, but got {shown}")
    with pytest.raises(ValueError, match=_exactly(message)):
        net.score(_X(), y)


@pytest.mark.parametrize("output, what", [
    ("softmax", "a softmax output predicts the class of largest probability"),
    ("identity", "an identity output predicts the values A2")])
def test_a_threshold_is_refused_but_for_sigmoid(output, what):
    net = _net(2, output)
    message = f"twolayer: predict's threshold applies to a sigmoid output only; a net with {what}"
    with pytest.raises(ValueError, match=_exactly(message)):
        net.predict(_X(), 0.5)
    with pytest.raises(ValueError, match=_exactly(message)):
        net.predict(_X(), threshold=0.3)


def test_sigmoid_predict_keeps_its_threshold():
    net = _net(1, "sigmoid")
    X = _X()
    A2 = torch.sigmoid(reference_logits(X, *_params(net))).reshape(-1)
    assert torch.equal(net.predict(X), (A2 > 0.5).long())
    assert torch.equal(net.predict(X, 0.7), (A2 > 0.7).long())
    assert torch.equal(net.predict(X, threshold=None), (A2 > 0.5).long())


# --- identity ----------------------------------------------------------------------------------

def test_identity_forward_loss_and_backward_match_plain_pytorch():
    net = _net(2, "identity")
    X = _X()
    Y = make_inputs(12, 3, 5, 2, seed=9)["X"][:, :2] * 3
    Z2 = reference_logits(X, *_params(net))
    torch.testing.assert_close(net(X).detach(), Z2, rtol=1e-12, atol=1e-12)
    # J = (1/2m) sum (Z2 - Y)^2 = (n2 / 2) mse_loss, which averages over m * n2.
    model = _sequential(net, torch.nn.Identity())
    expected = 0.5 * 2 * F.mse_loss(model(X), Y)
    J = net.loss(X, Y)
    torch.testing.assert_close(J.detach(), expected.detach(), rtol=1e-12, atol=1e-12)
    J.backward()
    expected.backward()
    torch.testing.assert_close(net.W1.grad, model[0].weight.grad, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(net.b2.grad, model[2].bias.grad, rtol=1e-10, atol=1e-12)


def test_identity_takes_targets_of_shape_m_and_integer_targets_for_one_output():
    net = _net(1, "identity")
    X = _X()
    y = torch.arange(12) * 3 - 10  # integers outside [0, 1]: targets, not labels
    Z2 = reference_logits(X, *_params(net)).reshape(-1)
    expected = 0.5 * F.mse_loss(Z2, y.double())
    torch.testing.assert_close(net.loss(X, y).detach(), expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(net.loss(X, y.double()).detach(), expected, rtol=1e-12,
                               atol=1e-12)
    torch.testing.assert_close(net.loss(X, y.double().reshape(-1, 1)).detach(), expected,
                               rtol=1e-12, atol=1e-12)


def test_identity_fit_equals_sequential_trained_the_same_way():
    net = _net(1, "identity", seed=8)
    model = _sequential(net, torch.nn.Identity())
    X = _X(m=25, seed=6)
    y = torch.sin(3 * X[:, 0])
    costs = net.fit(X, y, 30, 0.1)
    for _ in range(30):
        model.zero_grad()
        J = 0.5 * F.mse_loss(model(X).reshape(-1), y)
        J.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
    assert costs[-1] < costs[0]
    for mine, theirs in ((net.W1, model[0].weight), (net.b1, model[0].bias),
                         (net.W2, model[2].weight), (net.b2, model[2].bias)):
        torch.testing.assert_close(mine.detach(), theirs.detach(), rtol=1e-10, atol=1e-12)


def test_identity_predict_returns_the_values_shaped_as_scikit_learn():
    X = _X()
    one = _net(1, "identity")
    prediction = one.predict(X)
    assert prediction.dtype == torch.float64 and prediction.shape == (12,)
    torch.testing.assert_close(prediction, reference_logits(X, *_params(one)).reshape(-1),
                               rtol=1e-12, atol=1e-12)
    two = _net(2, "identity")
    assert two.predict(X).shape == (12, 2)
    assert not two.predict(X).requires_grad


def test_identity_score_is_r2():
    X = _X(m=20, seed=2)
    net = _net(1, "identity")
    Z2 = reference_logits(X, *_params(net)).reshape(-1)
    y = Z2 + 0.3 * torch.cos(torch.arange(20, dtype=torch.float64))
    expected = _r2(Z2, y)
    assert 0 < expected < 1
    assert net.score(X, y) == pytest.approx(expected, rel=1e-12)
    assert net.score(X, y.reshape(-1, 1)) == pytest.approx(expected, rel=1e-12)
    assert net.score(X, y.float()) == pytest.approx(_r2(Z2, y.float()), rel=1e-6)
    # Exact predictions score 1; predicting worse than the mean scores below 0.
    assert net.score(X, Z2) == 1.0
    assert net.score(X, -Z2) < 0
    try:
        from sklearn.metrics import r2_score
    except ImportError:
        return
    assert net.score(X, y) == pytest.approx(r2_score(y.numpy(), Z2.numpy()), rel=1e-12)


def test_identity_score_averages_over_outputs_and_handles_constant_targets():
    X = _X(m=10, seed=4)
    net = _net(2, "identity")
    Z2 = reference_logits(X, *_params(net))
    y = Z2 + torch.linspace(-1, 1, 20, dtype=torch.float64).reshape(10, 2)
    assert net.score(X, y) == pytest.approx(_r2(Z2, y), rel=1e-12)
    constant = torch.stack([torch.full((10,), 2.0, dtype=torch.float64), y[:, 1]], dim=1)
    # The constant column is not predicted exactly: it scores 0, the other its own R².
    assert net.score(X, constant) == pytest.approx(_r2(Z2[:, 1:], y[:, 1:]) / 2, rel=1e-12)


@pytest.mark.parametrize("n2, shape, message", [
    (1, (12, 2), "twolayer: score needs targets y of shape (m,) or (m, 1) = (12,) or (12, 1) for "
                 "a net with one output, but got [12, 2]; other shapes would broadcast against "
                 "the predictions"),
    (1, (1, 12), "twolayer: score needs targets y of shape (m,) or (m, 1) = (12,) or (12, 1) for "
                 "a net with one output, but got [1, 12]; other shapes would broadcast against "
                 "the predictions"),
    (2, (12,), "twolayer: score needs targets y of shape (m, n2) = (12, 2) for a net with 2 "
               "outputs, but got [12]; other shapes would broadcast against the predictions"),
])
def test_identity_score_refuses_shapes_that_would_broadcast(n2, shape, message):
    with pytest.raises(ValueError, match=_exactly(message)):
        _net(n2, "identity").score(_X(), torch.zeros(shape))


# --- TorchScript -------------------------------------------------------------------------------

def test_a_scripted_softmax_net_keeps_its_methods():
    net = _net(3, "softmax")
    scripted = torch.jit.script(_net(3, "softmax"))
    assert scripted.output == "softmax"
    X = _X()
    y = torch.arange(12) % 3
    assert torch.equal(scripted.predict(X), net.predict(X))
    assert scripted.score(X, y) == net.score(X, y)
    assert scripted.score(X, F.one_hot(y, 3)) == net.score(X, y)
    assert torch.equal(scripted.loss(X, y), net.loss(X, y))
    assert torch.equal(scripted.predict_proba(X), net.predict_proba(X))
    assert torch.equal(scripted.logits(X), net.logits(X))
    torch.testing.assert_close(scripted(X).detach().sum(dim=1), torch.ones(12, dtype=torch.float64))
    assert torch.equal(scripted.fit(X, y, 5, 0.3), net.fit(X, y, 5, 0.3))
    with pytest.raises(Exception, match=re.escape(
            "twolayer: class indices Y must be in [0, n2) = [0, 3) for a net with 3 outputs, "
            "but got 5")):
        scripted.loss(X, torch.full((12,), 5))
    with pytest.raises(Exception, match=re.escape(
            "twolayer: predict's threshold applies to a sigmoid output only")):
        scripted.predict(X, 0.5)


def test_a_scripted_identity_net_scores_r2_and_survives_save_and_load(tmp_path):
    net = _net(1, "identity")
    X = _X()
    y = torch.cos(X[:, 1])
    path = str(tmp_path / "identity.pt")
    torch.jit.save(torch.jit.script(net), path)
    loaded = torch.jit.load(path)
    assert loaded.output == "identity"
    assert loaded.score(X, y) == pytest.approx(net.score(X, y), rel=1e-12)
    assert torch.equal(loaded.predict(X), net.predict(X))
    assert torch.equal(loaded.loss(X, y), net.loss(X, y))


# --- checkpoints -------------------------------------------------------------------------------

@pytest.mark.parametrize("form", ["state_dict", "torchscript"])
def test_a_softmax_checkpoint_loads_with_its_output_layer(tmp_path, form):
    net = _net(3, "softmax", activation="relu")
    path = str(tmp_path / "net.pt")
    if form == "state_dict":
        torch.save(net.state_dict(), path)
    else:
        torch.jit.save(torch.jit.script(net), path)
    loaded = twolayer.TwoLayerNet.load(path)
    assert loaded.output == "softmax" and loaded.activation == "relu"
    X = _X()
    assert torch.equal(loaded.predict(X), net.predict(X))
    assert torch.equal(loaded.predict_proba(X), net.predict_proba(X))


def test_a_checkpoint_without_the_output_layer_loads_as_sigmoid(tmp_path):
    net = _net(2, "sigmoid")
    state = dict(net.state_dict())
    del state["output_name"]  # as written before the output layer was saved
    path = str(tmp_path / "old.pt")
    torch.save(state, path)
    loaded = twolayer.TwoLayerNet.load(path)
    assert loaded.output == "sigmoid"
    assert bytes(loaded.state_dict()["output_name"].tolist()) == b"sigmoid"
    X = _X()
    assert torch.equal(loaded(X), net(X))
    torch.testing.assert_close(loaded(X).detach(),
                               torch.sigmoid(reference_logits(X, *_params(net))),
                               rtol=1e-12, atol=1e-12)
    # And into an existing net, strictly.
    fresh = _net(2, "sigmoid", seed=9)
    fresh.load_state_dict(state, strict=True)
    assert torch.equal(fresh(X), net(X))


def test_a_checkpoint_of_another_output_layer_is_refused_before_anything_is_copied():
    softmax = _net(3, "softmax")
    sigmoid = _net(3, "sigmoid", seed=11)
    before = [p.clone() for p in _params(sigmoid)]
    message = ("twolayer: the checkpoint's output layer is 'softmax', but this TwoLayerNet's "
               "output layer is 'sigmoid'")
    with pytest.raises(RuntimeError, match=_exactly(message)):
        sigmoid.load_state_dict(softmax.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(before, _params(sigmoid)))


def test_a_damaged_output_name_is_refused(tmp_path):
    state = dict(_net(3, "softmax").state_dict())
    state["output_name"] = torch.tensor([1, 2, 3], dtype=torch.uint8)
    path = str(tmp_path / "damaged.pt")
    torch.save(state, path)
    with pytest.raises(RuntimeError, match=_exactly(
            "twolayer: the checkpoint's output_name holds bytes that name no output layer: the "
            "checkpoint is damaged, or was saved from a net whose buffer was never written")):
        twolayer.TwoLayerNet.load(path)
    with pytest.raises(RuntimeError, match=_exactly(
            "twolayer: the checkpoint's output_name holds the bytes [1, 2, 3], which name no "
            "output layer (expected one of sigmoid, softmax, identity): the checkpoint is "
            "damaged, or was saved from a net whose buffer was never written")):
        _net(3, "softmax").load_state_dict(state)


def test_the_output_buffer_follows_the_net_to_another_dtype_and_through_reset():
    net = _net(3, "identity")
    net.float()
    net.reset_parameters()
    assert bytes(net.state_dict()["output_name"].tolist()) == b"identity"
    assert net.output_name.dtype == torch.uint8
