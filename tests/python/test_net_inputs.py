"""What TwoLayerNet's methods take: NumPy arrays and lists (converted to the net's dtype and
device), tensors of the net's dtype only (a float64 X into a float32 net is refused, naming X and
the fix), and fit's iteration count, checked by twolayer itself."""
import re

import numpy as np
import pytest
import torch

import twolayer
from helpers import make_inputs

X_TO_FLOAT32 = ("twolayer: X is float64, but the parameters W1, b1, W2, b2 are float32: convert X "
                "with X.float(), or build the net with dtype=torch.float64")


def _exactly(message):
    return "^" + re.escape(message) + "$"


def _data():
    inputs = make_inputs(10, 2, 4, 1, seed=13, labels="hard", dtype=torch.float64)
    return inputs["X"], inputs["Y"]


def _net(dtype=torch.float32):
    return twolayer.TwoLayerNet(2, 4, 1, init_scale=1.0, seed=14, dtype=dtype)


@pytest.mark.parametrize("form", ["numpy float64", "numpy float32", "list of lists"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_every_method_takes_array_likes_converted_to_the_nets_dtype(form, dtype):
    X64, Y64 = _data()
    X = {"numpy float64": X64.numpy(), "numpy float32": X64.float().numpy(),
         "list of lists": X64.tolist()}[form]
    Y = {"numpy float64": Y64.numpy(), "numpy float32": Y64.float().numpy(),
         "list of lists": Y64.tolist()}[form]
    # What the same data gives as tensors of the net's dtype, converted by hand.
    X_t = torch.as_tensor(X).to(dtype)
    Y_t = torch.as_tensor(Y).to(dtype)
    net, reference = _net(dtype), _net(dtype)
    assert torch.equal(net(X), reference(X_t))
    assert net(X).dtype == dtype
    assert torch.equal(net.predict_proba(X), reference.predict_proba(X_t))
    assert torch.equal(net.logits(X), reference.logits(X_t))
    assert torch.equal(net.predict(X), reference.predict(X_t))
    assert net.score(X, Y) == reference.score(X_t, Y_t)
    assert torch.equal(net.loss(X, Y), reference.loss(X_t, Y_t))
    assert torch.equal(net.fit(X, Y, 5, 0.5), reference.fit(X_t, Y_t, 5, 0.5))
    assert torch.equal(net.W1, reference.W1)


def test_a_tensor_of_the_other_dtype_is_refused_naming_x_and_the_fix():
    # A tensor is the user's choice of precision: it is never converted in silence.
    X, Y = _data()
    net = _net(torch.float32)
    for call in (lambda: net(X), lambda: net.predict_proba(X), lambda: net.logits(X),
                 lambda: net.predict(X), lambda: net.loss(X, Y.float()),
                 lambda: net.fit(X, Y.float(), 3, 0.5), lambda: net.score(X, Y)):
        with pytest.raises(RuntimeError, match=_exactly(X_TO_FLOAT32)):
            call()


def test_something_that_is_not_numbers_is_refused_naming_the_argument():
    net = _net()
    with pytest.raises(TypeError, match=_exactly(
            "twolayer: X must be a tensor or an array-like of numbers (a NumPy array, nested "
            "lists), but got list")):
        net.predict([["a", "b"]])
    with pytest.raises(TypeError, match=_exactly(
            "twolayer: Y must be a tensor or an array-like of numbers (a NumPy array, nested "
            "lists), but got str")):
        net.loss(np.zeros((3, 2)), "labels")


@pytest.mark.parametrize("count", [1e2, 100.0, np.float64(100), np.float32(100), np.int64(100),
                                   torch.tensor(100)])
def test_fit_takes_integral_counts_of_any_kind(count):
    X, Y = _data()
    expected = _net(torch.float64).fit(X, Y, 100, 0.5)
    costs = _net(torch.float64).fit(X, Y, count, 0.5)
    assert costs.shape == (100,)
    assert torch.equal(costs, expected)


@pytest.mark.parametrize("count, error, message", [
    (1.5, ValueError, "twolayer: fit's iterations must be a whole number, but got 1.5"),
    (float("nan"), ValueError, "twolayer: fit's iterations must be a whole number, but got nan"),
    (float("inf"), ValueError, "twolayer: fit's iterations must be a whole number, but got inf"),
    (1e30, ValueError,
     "twolayer: fit's iterations must be at most 9223372036854775807, but got 1e+30"),
    (2 ** 63, ValueError,
     "twolayer: fit's iterations must be at most 9223372036854775807, but got "
     "9223372036854775808"),
    (True, TypeError, "twolayer: fit's iterations must be an integer, but got True of type bool"),
    ("100", TypeError, "twolayer: fit's iterations must be an integer, but got '100' of type str"),
    (None, TypeError, "twolayer: fit's iterations must be an integer, but got None of type "
                      "NoneType"),
])
def test_fit_refuses_counts_that_are_not_whole_numbers(count, error, message):
    X, Y = _data()
    net = _net(torch.float64)
    before = [p.detach().clone() for p in net.parameters()]
    with pytest.raises(error, match=_exactly(message)):
        net.fit(X, Y, count, 0.5)
    for p, old in zip(net.parameters(), before):
        assert torch.equal(p.detach(), old)


def test_a_negative_count_gets_the_operators_message_as_every_form_of_fit():
    X, Y = _data()
    W = [p.detach().clone() for p in _net(torch.float64).parameters()]
    with pytest.raises(RuntimeError) as from_operator:
        twolayer.fit_(*W, X, Y, -3, 0.5)
    with pytest.raises(RuntimeError, match=_exactly(str(from_operator.value))):
        _net(torch.float64).fit(X, Y, -3.0, 0.5)
