"""TwoLayerNet's prediction API: predict_proba, logits, predict (int64 labels, a threshold) and
score (accuracy, refusing labels that would broadcast), eager and scripted. Expected values come
from the plain-PyTorch reference (reference.py) or from nets whose outputs are set by hand."""
import math
import re

import numpy as np
import pytest
import torch

import twolayer
from helpers import make_inputs
from reference import reference_forward, reference_logits


def _params(net):
    return [p.detach() for p in (net.W1, net.b1, net.W2, net.b2)]


def _net_with_outputs(b2, n0=2, dtype=torch.float64):
    """A net whose output probabilities are sigmoid(b2) for every example: W2 = 0."""
    net = twolayer.TwoLayerNet(n0, 3, len(b2), seed=0, dtype=dtype)
    with torch.no_grad():
        net.W2.zero_()
        net.b2.copy_(torch.tensor(b2, dtype=dtype))
    return net


def _exactly(message):
    return "^" + re.escape(message) + "$"


@pytest.mark.parametrize("activation", twolayer.ACTIVATIONS)
def test_predict_proba_and_logits_match_the_reference(activation):
    net = twolayer.TwoLayerNet(3, 5, 2, activation=activation, init_scale=1.0, seed=4,
                               dtype=torch.float64)
    with torch.no_grad():
        net.b1.normal_(generator=torch.Generator().manual_seed(1))
    X = make_inputs(9, 3, 5, 2, seed=3)["X"]
    expected_Z2 = reference_logits(X, *_params(net), activation)
    torch.testing.assert_close(net.logits(X).detach(), expected_Z2, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(net.predict_proba(X).detach(),
                               reference_forward(X, *_params(net), activation),
                               rtol=1e-12, atol=1e-12)


def test_logits_stay_exact_where_the_probabilities_saturate():
    # Logits of about +-40: in float32, sigmoid rounds them to 1 (and 4e-18), so logit(A2) is
    # inf (or far off), while the net's own Z2 keeps them to float32 rounding.
    net = twolayer.TwoLayerNet(2, 4, 1, init_scale=1.0, seed=5, dtype=torch.float32)
    X = torch.tensor([[1.0, 2.0], [-1.0, -2.0]])
    with torch.no_grad():
        net.W1.copy_(torch.tensor([[1.0, 1.0]] * 4))
        net.b1.zero_()
        net.W2.fill_(10.0 / 0.995)  # tanh(3) ~ 0.995: Z2 ~ +-40
        net.b2.zero_()
    expected = reference_logits(X.double(), *(p.double() for p in _params(net)))
    assert expected.abs().min() > 35  # the case is the one described
    A2 = net.predict_proba(X).detach()
    assert A2[0, 0] == 1.0  # saturated: torch.logit(A2) cannot recover Z2 from it
    assert torch.isinf(torch.logit(A2[0]))
    torch.testing.assert_close(net.logits(X).detach().double(), expected, rtol=1e-6, atol=0)


def test_logits_are_differentiable_in_the_parameters():
    net = twolayer.TwoLayerNet(3, 4, 2, activation="relu", init_scale=1.0, seed=6,
                               dtype=torch.float64)
    X = make_inputs(7, 3, 4, 2, seed=8)["X"]
    weights = torch.randn(7, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    (net.logits(X) * weights).sum().backward()
    leaves = [p.clone().requires_grad_(True) for p in _params(net)]
    (reference_logits(X, *leaves, "relu") * weights).sum().backward()
    for p, leaf in zip((net.W1, net.b1, net.W2, net.b2), leaves):
        torch.testing.assert_close(p.grad, leaf.grad, rtol=1e-12, atol=1e-12)


def test_predict_gives_int64_labels_of_shape_m_for_one_output():
    net = twolayer.TwoLayerNet(2, 4, 1, init_scale=1.0, seed=7, dtype=torch.float64)
    X = make_inputs(40, 2, 4, 1, seed=9)["X"]
    expected = (reference_forward(X, *_params(net)) > 0.5).long().reshape(-1)
    assert 0 < expected.sum() < 40  # both labels occur
    predicted = net.predict(X)
    assert predicted.dtype == torch.int64 and predicted.shape == (40,)
    assert torch.equal(predicted, expected)
    # The trap this shape closes: labels of shape (m,) compare element by element.
    assert (predicted == expected).float().mean().item() == 1.0


def test_predict_gives_one_column_per_output_for_several_outputs():
    net = _net_with_outputs([1e-3, 0.0, -1e-3])  # probabilities just above, at, below 1/2
    X = make_inputs(4, 2, 3, 3, seed=0)["X"]
    assert torch.equal(net.predict(X), torch.tensor([[1, 0, 0]] * 4))


def test_predict_thresholds_the_probabilities_at_the_given_threshold():
    net = _net_with_outputs([1.0])  # every probability is sigmoid(1)
    p = 1.0 / (1.0 + math.exp(-1.0))  # 0.731...
    X = make_inputs(5, 2, 3, 1, seed=0)["X"]
    assert torch.equal(net.predict(X), torch.ones(5, dtype=torch.long))
    assert torch.equal(net.predict(X, threshold=p - 1e-6), torch.ones(5, dtype=torch.long))
    assert torch.equal(net.predict(X, threshold=p + 1e-6), torch.zeros(5, dtype=torch.long))
    assert torch.equal(net.predict(X, 0.0), torch.ones(5, dtype=torch.long))
    assert torch.equal(net.predict(X, 1.0), torch.zeros(5, dtype=torch.long))


@pytest.mark.parametrize("threshold, shown", [(1.5, "1.5"), (-0.25, "-0.25"),
                                              (float("nan"), "nan")])
def test_a_threshold_outside_zero_one_is_refused(threshold, shown):
    net = _net_with_outputs([1.0])
    X = make_inputs(5, 2, 3, 1, seed=0)["X"]
    with pytest.raises(ValueError, match=_exactly(
            f"twolayer: predict's threshold must be in [0, 1], but got {shown}")):
        net.predict(X, threshold)


def _single_output_case():
    """A net predicting 1 for every example, and labels with 3 ones in 5: accuracy 3/5."""
    net = _net_with_outputs([2.0])
    X = make_inputs(5, 2, 3, 1, seed=0)["X"]
    return net, X, [1, 0, 1, 1, 0]


@pytest.mark.parametrize("form", ["list", "int64 (m,)", "int64 (m, 1)", "bool (m,)",
                                  "float32 (m, 1)", "float64 (m,)", "numpy int (m,)",
                                  "numpy float (m, 1)"])
def test_score_is_the_accuracy_for_labels_of_shape_m_or_m_1(form):
    net, X, labels = _single_output_case()
    y = {"list": labels,
         "int64 (m,)": torch.tensor(labels),
         "int64 (m, 1)": torch.tensor(labels).reshape(-1, 1),
         "bool (m,)": torch.tensor(labels).bool(),
         "float32 (m, 1)": torch.tensor(labels, dtype=torch.float32).reshape(-1, 1),
         "float64 (m,)": torch.tensor(labels, dtype=torch.float64),
         "numpy int (m,)": np.array(labels),
         "numpy float (m, 1)": np.array(labels, dtype=np.float64).reshape(-1, 1)}[form]
    score = net.score(X, y)
    assert isinstance(score, float)
    assert score == 3 / 5


def test_score_counts_a_row_right_when_all_its_labels_are():
    net = _net_with_outputs([2.0, -2.0])  # predicts (1, 0) for every example
    X = make_inputs(4, 2, 3, 2, seed=0)["X"]
    y = torch.tensor([[1, 0], [1, 1], [0, 0], [1, 0]])
    assert net.score(X, y) == 2 / 4


@pytest.mark.parametrize("shape", [(5, 5), (1,), (1, 1), (5, 2), (6,), (4, 1), (5, 1, 1), ()])
def test_score_refuses_labels_that_would_broadcast_for_one_output(shape):
    net, X, _ = _single_output_case()
    message = ("twolayer: score needs labels y of shape (m,) or (m, 1) = (5,) or (5, 1) for a net "
               f"with one output, but got {list(shape)}; other shapes would broadcast against "
               "the predictions")
    with pytest.raises(ValueError, match=_exactly(message)):
        net.score(X, torch.zeros(shape))


@pytest.mark.parametrize("shape", [(4,), (4, 1), (4, 3), (1, 2), (2, 4)])
def test_score_refuses_labels_that_would_broadcast_for_several_outputs(shape):
    net = _net_with_outputs([2.0, -2.0])
    X = make_inputs(4, 2, 3, 2, seed=0)["X"]
    message = ("twolayer: score needs labels y of shape (m, n2) = (4, 2) for a net with 2 "
               f"outputs, but got {list(shape)}; other shapes would broadcast against the "
               "predictions")
    with pytest.raises(ValueError, match=_exactly(message)):
        net.score(X, torch.zeros(shape))


@pytest.mark.parametrize("y, shown", [(torch.tensor([0, 1, 2, 1, 0]), "2"),
                                      (torch.tensor([0.0, 0.5, 1.0, 1.0, 0.0]), "0.5"),
                                      (torch.tensor([0.0, 1.0, -1.0, 1.0, 0.0]), "-1.0")])
def test_score_refuses_labels_other_than_zero_and_one(y, shown):
    net, X, _ = _single_output_case()
    with pytest.raises(ValueError, match=_exactly(
            f"twolayer: score needs labels y of 0 or 1, but got {shown}")):
        net.score(X, y)


# ---------------------------------------------------------------------------------------------
# Labels of shape (m,) and integer labels for loss and fit
# ---------------------------------------------------------------------------------------------

def _labels_case(dtype=torch.float64):
    inputs = make_inputs(12, 2, 4, 1, seed=21, labels="hard", dtype=dtype)
    return inputs["X"], inputs["Y"]  # Y (m, 1) of 0.0 and 1.0


@pytest.mark.parametrize("form", ["float (m,)", "int64 (m,)", "bool (m,)", "int32 (m, 1)",
                                  "list", "numpy int"])
def test_loss_takes_zero_one_labels_of_shape_m_and_integer_labels(form):
    X, Y = _labels_case()
    flat = Y.reshape(-1)
    y = {"float (m,)": flat, "int64 (m,)": flat.long(), "bool (m,)": flat.bool(),
         "int32 (m, 1)": Y.int(), "list": flat.long().tolist(),
         "numpy int": flat.long().numpy()}[form]
    net = twolayer.TwoLayerNet(2, 4, 1, init_scale=1.0, seed=3, dtype=torch.float64)
    expected = twolayer.loss(X, Y, *_params(net), "tanh")  # the operator, on (m, 1) floats
    assert torch.equal(net.loss(X, y).detach(), expected)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_fit_takes_zero_one_labels_of_shape_m(dtype):
    X, Y = _labels_case(dtype)
    nets = [twolayer.TwoLayerNet(2, 4, 1, init_scale=0.5, seed=3, dtype=dtype) for _ in range(2)]
    costs = nets[0].fit(X, Y.reshape(-1).long(), 20, 0.5)
    expected = twolayer.fit_(*(p.detach() for p in (nets[1].W1, nets[1].b1, nets[1].W2,
                                                     nets[1].b2)), X, Y, 20, 0.5)
    assert torch.equal(costs, expected)
    for a, b in zip(_params(nets[0]), _params(nets[1])):
        assert torch.equal(a, b)


@pytest.mark.parametrize("bad, shown", [(2, "2"), (-1, "-1")])
def test_integer_labels_other_than_zero_and_one_are_refused(bad, shown):
    X, Y = _labels_case()
    y = Y.reshape(-1).long()
    y[3] = bad
    net = twolayer.TwoLayerNet(2, 4, 1, seed=3, dtype=torch.float64)
    before = [p.clone() for p in _params(net)]
    message = f"twolayer: integer labels Y must be 0 or 1, but got {shown}"
    with pytest.raises(ValueError, match=_exactly(message)):
        net.loss(X, y)
    with pytest.raises(ValueError, match=_exactly(message)):
        net.fit(X, y, 5, 0.5)
    for p, old in zip(_params(net), before):
        assert torch.equal(p, old)  # nothing trained on the refused labels


def test_labels_of_another_length_are_reported_as_given():
    # (m + 1,) is not reshaped to (m + 1, 1): the operator names the shape the user passed.
    X, Y = _labels_case()
    net = twolayer.TwoLayerNet(2, 4, 1, seed=3, dtype=torch.float64)
    with pytest.raises(RuntimeError, match=_exactly(
            "twolayer: Y must have shape (m, n2) = (12, 1) to match X with m = 12 examples and W2 "
            "with n2 = 1 output units, but got [13]")):
        net.loss(X, torch.zeros(13, dtype=torch.float64))


def test_labels_of_shape_m_for_several_outputs_are_refused_by_the_operator():
    X = make_inputs(5, 2, 4, 2, seed=1)["X"]
    net = twolayer.TwoLayerNet(2, 4, 2, seed=3, dtype=torch.float64)
    with pytest.raises(RuntimeError, match=_exactly(
            "twolayer: Y must have shape (m, n2) = (5, 2) to match X with m = 5 examples and W2 "
            "with n2 = 2 output units, but got [5]")):
        net.loss(X, torch.zeros(5, dtype=torch.long))


# ---------------------------------------------------------------------------------------------
# TorchScript
# ---------------------------------------------------------------------------------------------

def test_a_scripted_net_saved_and_loaded_keeps_the_prediction_api(tmp_path):
    net = twolayer.TwoLayerNet(3, 5, 1, activation="leaky_relu", init_scale=1.0, seed=11,
                               dtype=torch.float64)
    path = str(tmp_path / "net.pt")
    torch.jit.save(torch.jit.script(net), path)
    loaded = torch.jit.load(path)
    X = make_inputs(30, 3, 5, 1, seed=12)["X"]
    A2 = reference_forward(X, *_params(net), "leaky_relu")
    y = (A2 > 0.5).long().reshape(-1)
    y[:4] = 1 - y[:4]  # four of thirty wrong
    assert torch.equal(loaded.predict_proba(X), net.predict_proba(X))
    torch.testing.assert_close(loaded.logits(X).detach(),
                               reference_logits(X, *_params(net), "leaky_relu"),
                               rtol=1e-12, atol=1e-12)
    assert torch.equal(loaded.predict(X), net.predict(X))
    assert loaded.predict(X).shape == (30,) and loaded.predict(X).dtype == torch.int64
    assert torch.equal(loaded.predict(X, 0.4), (A2 > 0.4).long().reshape(-1))
    assert loaded.score(X, y) == 26 / 30
    assert torch.equal(loaded.loss(X, y), net.loss(X, y))
    # The refusals run in the compiled code too, with the same words.
    with pytest.raises((RuntimeError, torch.jit.Error), match=re.escape(
            "twolayer: score needs labels y of shape (m,) or (m, 1) = (30,) or (30, 1) for a net "
            "with one output, but got [30, 30]; other shapes would broadcast against the "
            "predictions")):
        loaded.score(X, torch.zeros(30, 30))
    with pytest.raises((RuntimeError, torch.jit.Error), match=re.escape(
            "twolayer: predict's threshold must be in [0, 1], but got 1.5\n")):
        loaded.predict(X, 1.5)
