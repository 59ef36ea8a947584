"""A network small enough to work by hand, in the lecture's own notation, checked exactly.

Every other test compares twolayer against another program (the stock-PyTorch reference and its
autograd). This one compares it against numbers worked out on paper, so that a mistake shared by
both programs (a transposed layout, a missing 1/m) would still show.

The network: m = 2 examples, n0 = 2 features, n1 = 2 hidden units, n2 = 1 output. As in the
lecture, examples are COLUMNS: X is (n0, m), x(1) = (1, -1) and x(2) = (0, 2). The hidden
activation is relu, so that Z1, A1 and Z2 are exact binary fractions (tanh of a rational is never
one); only the sigmoid A2 and the cost J need exp and log. No Z1 sits on relu's kink at 0. The
same network with the lecture's own tanh, in closed form, is at the end of the file.

    X  = [[ 1, 0],         Y  = [[1, 0]]
          [-1, 2]]
    W1 = [[0.5, -0.5],     b1 = [[0  ],       W2 = [[1, -0.5]]    b2 = [[0.5]]
          [1,    0.5]]           [0.5]]

Forward propagation (the lecture's four equations):

    Z1 = W1 X + b1 = [[1, -1 ], [1, 1.5]]    column i is W1 x(i) + b1
    A1 = relu(Z1)  = [[1,  0 ], [1, 1.5]]
    Z2 = W2 A1 + b2 = [[1, -0.25]]            1 - 0.5 + 0.5 and 0 - 0.75 + 0.5
    A2 = σ(Z2)      = [[σ(1), σ(-0.25)]]     = [[0.7310585786, 0.4378234991]]
    J  = -(1/m) Σ y log a + (1 - y) log(1 - a)
       = (log(1 + e^-1) + log(1 + e^-0.25)) / 2                     = 0.4446005537

Backpropagation (the lecture's six equations), with d1 = σ(1) - 1 and d2 = σ(-0.25), the two
entries of dZ2:

    dZ2 = A2 - Y                    = [[d1, d2]]               = [[-0.2689414214, 0.4378234991]]
    dW2 = (1/m) dZ2 A1ᵀ             = [[d1/2, (d1 + 1.5 d2)/2]]
    db2 = (1/m) Σ_columns dZ2        = [[(d1 + d2)/2]]
    dZ1 = W2ᵀ dZ2 ∗ g1'(Z1)          = [[d1, 0], [-d1/2, -d2/2]]   (relu' = [[1, 0], [1, 1]])
    dW1 = (1/m) dZ1 Xᵀ              = [[d1/2, -d1/2], [-d1/4, d1/4 - d2/2]]
    db1 = (1/m) Σ_columns dZ1        = [[d1/2], [-(d1 + d2)/4]]

The table below holds these in plain Python floats (no torch): lists of rows, in the lecture's
layout. twolayer takes examples as rows, so X, Y, Z, A and dZ go in and come out transposed; the
weights and their gradients are the same matrices; the biases are vectors.
"""
import math

import pytest
import torch

import twolayer  # noqa: F401  registers torch.ops.twolayer


def _sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


_d1 = _sigmoid(1.0) - 1.0
_d2 = _sigmoid(-0.25)

# The worked example, in the lecture's layout (columns are examples). Everything from Z1 on is
# written from the derivation in the docstring, not computed from the inputs.
BY_HAND = {
    "X": [[1.0, 0.0], [-1.0, 2.0]],
    "Y": [[1.0, 0.0]],
    "W1": [[0.5, -0.5], [1.0, 0.5]],
    "b1": [[0.0], [0.5]],
    "W2": [[1.0, -0.5]],
    "b2": [[0.5]],
    "Z1": [[1.0, -1.0], [1.0, 1.5]],
    "A1": [[1.0, 0.0], [1.0, 1.5]],
    "Z2": [[1.0, -0.25]],
    "A2": [[_sigmoid(1.0), _sigmoid(-0.25)]],
    "J": (math.log1p(math.exp(-1.0)) + math.log1p(math.exp(-0.25))) / 2,
    "dZ2": [[_d1, _d2]],
    "dW2": [[_d1 / 2, (_d1 + 1.5 * _d2) / 2]],
    "db2": [[(_d1 + _d2) / 2]],
    "dZ1": [[_d1, 0.0], [-_d1 / 2, -_d2 / 2]],
    "dW1": [[_d1 / 2, -_d1 / 2], [-_d1 / 4, _d1 / 4 - _d2 / 2]],
    "db1": [[_d1 / 2], [-(_d1 + _d2) / 4]],
}
M = 2  # examples

# A few ulps: the operators and the table round differently (exp(-z) vs expm1, sums in another
# order), but nothing here loses digits to cancellation.
RTOL = 4e-16
ATOL = 1e-16


def _lecture(name):
    """A table entry as a float64 tensor, in the lecture's layout."""
    return torch.tensor(BY_HAND[name], dtype=torch.float64)


def _as_rows(name):
    """A data-shaped entry (X, Y, Z, A, dZ) in twolayer's layout: examples as rows."""
    return _lecture(name).T.contiguous()


def _as_vector(name):
    """A bias (or its gradient) as twolayer's vector."""
    return _lecture(name).reshape(-1)


def _inputs(requires_grad=False):
    X, Y = _as_rows("X"), _as_rows("Y")
    params = [_lecture("W1"), _as_vector("b1"), _lecture("W2"), _as_vector("b2")]
    return X, Y, [p.requires_grad_(requires_grad) for p in params]


def _assert_equal(actual, expected, what):
    expected = torch.as_tensor(expected, dtype=torch.float64)
    assert actual.dtype == torch.float64, what
    assert actual.shape == expected.shape, f"{what}: shape {tuple(actual.shape)}"
    torch.testing.assert_close(actual.detach(), expected, rtol=RTOL, atol=ATOL,
                               msg=lambda m: f"{what}: {m}")


# ------------------------------------------------------------------------------------------
# The table itself: its hand-written entries satisfy the lecture's equations, evaluated here in
# plain Python (lists of rows, no torch), so a slip of the pen in the table fails on its own.
# ------------------------------------------------------------------------------------------

def _matmul(A, B):
    return [[sum(A[i][k] * B[k][j] for k in range(len(B))) for j in range(len(B[0]))]
            for i in range(len(A))]


def _T(A):
    return [list(col) for col in zip(*A)]


def _plus_column(A, b):
    return [[a + b[i][0] for a in row] for i, row in enumerate(A)]


def _elementwise(f, *As):
    return [[f(*xs) for xs in zip(*rows)] for rows in zip(*As)]


def _row_sums_over_m(A):
    return [[sum(row) / M] for row in A]


def _close(A, B):
    return all(math.isclose(a, b, rel_tol=RTOL, abs_tol=ATOL)
               for ra, rb in zip(A, B) for a, b in zip(ra, rb))


def test_the_table_follows_the_lectures_equations():
    t = BY_HAND
    assert t["Z1"] == _plus_column(_matmul(t["W1"], t["X"]), t["b1"])  # exact: binary fractions
    assert t["A1"] == _elementwise(lambda z: max(z, 0.0), t["Z1"])
    assert t["Z2"] == _plus_column(_matmul(t["W2"], t["A1"]), t["b2"])
    assert _close(t["A2"], _elementwise(_sigmoid, t["Z2"]))
    cost = -sum(y * math.log(a) + (1 - y) * math.log(1 - a)
                for y, a in zip(t["Y"][0], t["A2"][0])) / M
    assert math.isclose(t["J"], cost, rel_tol=1e-15)
    assert _close(t["dZ2"], _elementwise(lambda a, y: a - y, t["A2"], t["Y"]))
    assert _close(t["dW2"], [[x / M for x in row] for row in _matmul(t["dZ2"], _T(t["A1"]))])
    assert _close(t["db2"], _row_sums_over_m(t["dZ2"]))
    relu_prime = _elementwise(lambda z: 1.0 if z > 0 else 0.0, t["Z1"])
    W2T_dZ2 = _matmul(_T(t["W2"]), t["dZ2"])
    assert _close(t["dZ1"], _elementwise(lambda g, d: g * d, W2T_dZ2, relu_prime))
    assert _close(t["dW1"], [[x / M for x in row] for row in _matmul(t["dZ1"], _T(t["X"]))])
    assert _close(t["db1"], _row_sums_over_m(t["dZ1"]))


# ------------------------------------------------------------------------------------------
# twolayer against the table
# ------------------------------------------------------------------------------------------

def test_loss_is_the_hand_computed_cost():
    X, Y, params = _inputs()
    _assert_equal(torch.ops.twolayer.loss(X, Y, *params, "relu"), BY_HAND["J"], "J")


def test_forward_is_the_hand_computed_A2():
    X, _, params = _inputs()
    _assert_equal(torch.ops.twolayer.forward(X, *params, "relu"), _as_rows("A2"), "A2")


def test_the_forward_cache_is_the_hand_computed_A1_and_Z2():
    X, Y, params = _inputs()
    J, A1, Z2 = torch.ops.twolayer._loss_with_cache(X, Y, *params, "relu")
    _assert_equal(J, BY_HAND["J"], "J")
    _assert_equal(A1, _as_rows("A1"), "A1")
    _assert_equal(Z2, _as_rows("Z2"), "Z2")


def test_loss_backward_gives_the_hand_computed_gradients():
    X, Y, params = _inputs(requires_grad=True)
    torch.ops.twolayer.loss(X, Y, *params, "relu").backward()
    W1, b1, W2, b2 = params
    _assert_equal(W1.grad, _lecture("dW1"), "dW1")
    _assert_equal(b1.grad, _as_vector("db1"), "db1")
    _assert_equal(W2.grad, _lecture("dW2"), "dW2")
    _assert_equal(b2.grad, _as_vector("db2"), "db2")


def test_the_backward_operator_gives_the_hand_computed_gradients():
    # The backpropagation operator on its own, fed the hand-computed cache: dX = dZ1ᵀ W1 / m and
    # dY = -Z2ᵀ / m come with the six (the cost's derivatives in the inputs and the labels).
    X, Y, (W1, b1, W2, b2) = _inputs()
    grads = torch.ops.twolayer._loss_backward(torch.tensor(1.0, dtype=torch.float64), X, Y, W1, W2,
                                              _as_rows("A1"), _as_rows("Z2"), "relu", [True] * 6)
    dX, dW1, db1, dW2, db2, dY = grads
    _assert_equal(dW1, _lecture("dW1"), "dW1")
    _assert_equal(db1, _as_vector("db1"), "db1")
    _assert_equal(dW2, _lecture("dW2"), "dW2")
    _assert_equal(db2, _as_vector("db2"), "db2")
    _assert_equal(dX, (_lecture("W1").T @ _lecture("dZ1")).T / M, "dX")
    _assert_equal(dY, -_as_rows("Z2") / M, "dY")


@pytest.mark.parametrize("scale", [2.0, -0.5])
def test_the_incoming_gradient_scales_every_hand_computed_gradient(scale):
    X, Y, params = _inputs(requires_grad=True)
    J = torch.ops.twolayer.loss(X, Y, *params, "relu")
    J.backward(torch.tensor(scale, dtype=torch.float64))
    for p, name in zip(params, ("dW1", "db1", "dW2", "db2")):
        _assert_equal(p.grad, scale * _lecture(name).reshape(p.shape), name)


def test_forward_backward_gives_the_hand_computed_gradients():
    # Through forward (A2) instead of the cost: d(sum A2)/dZ2 = A2 (1 - A2), not A2 - Y, so the
    # gradients of the sum of A2 are the table's with dZ2 replaced; checked on dW2 and db2, the two
    # that need only dZ2 and A1.
    X, _, params = _inputs(requires_grad=True)
    torch.ops.twolayer.forward(X, *params, "relu").sum().backward()
    a = BY_HAND["A2"][0]
    dZ2 = [a[0] * (1 - a[0]), a[1] * (1 - a[1])]
    A1 = BY_HAND["A1"]
    _assert_equal(params[2].grad, [[(dZ2[0] * A1[0][0] + dZ2[1] * A1[0][1]),
                                    (dZ2[0] * A1[1][0] + dZ2[1] * A1[1][1])]], "dW2 of sum(A2)")
    _assert_equal(params[3].grad, [dZ2[0] + dZ2[1]], "db2 of sum(A2)")


# ------------------------------------------------------------------------------------------
# The same network with the lecture's own activation, tanh. tanh(1) and tanh(1.5) are not
# binary fractions, so the table is written in t = tanh(1) and u = tanh(1.5), with g1'(Z1) as
# the lecture writes it, 1 - A1². With Z1 as above:
#
#   A1  = [[t, -t], [t, u]]
#   Z2  = W2 A1 + b2 = [[t/2 + 1/2, -t - u/2 + 1/2]],  A2 = σ(Z2),  e1 = A2₁ - 1, e2 = A2₂
#   dZ2 = [[e1, e2]]
#   dW2 = (1/m) dZ2 A1ᵀ = [[(e1 t - e2 t)/2, (e1 t + e2 u)/2]],  db2 = [[(e1 + e2)/2]]
#   dZ1 = W2ᵀ dZ2 ∗ (1 - A1²) = [[e1 (1 - t²), e2 (1 - t²)], [-e1 (1 - t²)/2, -e2 (1 - u²)/2]]
#   dW1 = (1/m) dZ1 Xᵀ, X = [[1, 0], [-1, 2]]:
#       [[dZ1₁₁/2, (-dZ1₁₁ + 2 dZ1₁₂)/2], [dZ1₂₁/2, (-dZ1₂₁ + 2 dZ1₂₂)/2]]
#   db1 = [[(dZ1₁₁ + dZ1₁₂)/2], [(dZ1₂₁ + dZ1₂₂)/2]]
# ------------------------------------------------------------------------------------------

_t, _u = math.tanh(1.0), math.tanh(1.5)
_z2 = (_t / 2 + 0.5, -_t - _u / 2 + 0.5)
_e1, _e2 = _sigmoid(_z2[0]) - 1.0, _sigmoid(_z2[1])
_dZ1 = [[_e1 * (1 - _t * _t), _e2 * (1 - _t * _t)],
        [-_e1 * (1 - _t * _t) / 2, -_e2 * (1 - _u * _u) / 2]]
BY_HAND_TANH = {
    "A1": [[_t, -_t], [_t, _u]],
    "Z2": [list(_z2)],
    "A2": [[_sigmoid(_z2[0]), _sigmoid(_z2[1])]],
    # -log σ(z) = log(1 + e^-z) for y = 1; -log(1 - σ(z)) = log(1 + e^z) for y = 0.
    "J": (math.log1p(math.exp(-_z2[0])) + math.log1p(math.exp(_z2[1]))) / 2,
    "dZ2": [[_e1, _e2]],
    "dW2": [[(_e1 * _t - _e2 * _t) / 2, (_e1 * _t + _e2 * _u) / 2]],
    "db2": [[(_e1 + _e2) / 2]],
    "dZ1": _dZ1,
    "dW1": [[_dZ1[0][0] / 2, (-_dZ1[0][0] + 2 * _dZ1[0][1]) / 2],
            [_dZ1[1][0] / 2, (-_dZ1[1][0] + 2 * _dZ1[1][1]) / 2]],
    "db1": [[(_dZ1[0][0] + _dZ1[0][1]) / 2], [(_dZ1[1][0] + _dZ1[1][1]) / 2]],
}
# tanh and exp of the C library and of ATen may differ in the last bit, and it carries through.
RTOL_TANH = 1e-15


def test_the_tanh_table_follows_the_lectures_equations():
    t, h = BY_HAND, BY_HAND_TANH

    def close(A, B):
        return all(math.isclose(a, b, rel_tol=RTOL_TANH, abs_tol=ATOL)
                   for ra, rb in zip(A, B) for a, b in zip(ra, rb))

    assert close(h["A1"], _elementwise(math.tanh, t["Z1"]))
    assert close(h["Z2"], _plus_column(_matmul(t["W2"], h["A1"]), t["b2"]))
    assert close(h["A2"], _elementwise(_sigmoid, h["Z2"]))
    cost = -sum(y * math.log(a) + (1 - y) * math.log(1 - a)
                for y, a in zip(t["Y"][0], h["A2"][0])) / M
    assert math.isclose(h["J"], cost, rel_tol=1e-14)
    assert close(h["dZ2"], _elementwise(lambda a, y: a - y, h["A2"], t["Y"]))
    assert close(h["dW2"], [[x / M for x in row] for row in _matmul(h["dZ2"], _T(h["A1"]))])
    assert close(h["db2"], _row_sums_over_m(h["dZ2"]))
    tanh_prime = _elementwise(lambda a: 1 - a * a, h["A1"])  # the lecture's 1 - A1²
    W2T_dZ2 = _matmul(_T(t["W2"]), h["dZ2"])
    assert close(h["dZ1"], _elementwise(lambda g, d: g * d, W2T_dZ2, tanh_prime))
    assert close(h["dW1"], [[x / M for x in row] for row in _matmul(h["dZ1"], _T(t["X"]))])
    assert close(h["db1"], _row_sums_over_m(h["dZ1"]))


def test_tanh_operators_give_the_hand_computed_values():
    h = BY_HAND_TANH

    def equal(actual, expected, what):
        expected = torch.as_tensor(expected, dtype=torch.float64)
        assert actual.shape == expected.shape, what
        torch.testing.assert_close(actual.detach(), expected, rtol=RTOL_TANH, atol=ATOL,
                                   msg=lambda m: f"{what}: {m}")

    rows = lambda name: torch.tensor(h[name], dtype=torch.float64).T  # noqa: E731
    X, Y, params = _inputs(requires_grad=True)
    J, A1, Z2 = torch.ops.twolayer._loss_with_cache(X, Y, *params, "tanh")
    equal(A1, rows("A1"), "A1")
    equal(Z2, rows("Z2"), "Z2")
    equal(torch.ops.twolayer.forward(X, *params, "tanh"), rows("A2"), "A2")
    J = torch.ops.twolayer.loss(X, Y, *params, "tanh")
    equal(J, h["J"], "J")
    J.backward()
    W1, b1, W2, b2 = params
    equal(W1.grad, h["dW1"], "dW1")
    equal(b1.grad, [row[0] for row in h["db1"]], "db1")
    equal(W2.grad, h["dW2"], "dW2")
    equal(b2.grad, [row[0] for row in h["db2"]], "db2")
