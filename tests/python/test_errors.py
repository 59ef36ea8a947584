"""Invalid inputs raise RuntimeError with the exact messages of the API spec, in the spec's check
order, on CPU and meta, with or without requires_grad, and leave the inputs untouched."""
import re

import pytest
import torch

import twolayer
from helpers import SHAPE, make_inputs

# The valid network the cases below break: the "lecture" row of helpers.SHAPES, m = 5, n0 = 2,
# n1 = 4, n2 = 1, as in the spec's example messages (which the cases quote word for word).
_m, _n0, _n1, _n2 = SHAPE["lecture"]
BASE_SHAPES = {"X": (_m, _n0), "Y": (_m, _n2), "W1": (_n1, _n0), "b1": (_n1,), "W2": (_n2, _n1),
               "b2": (_n2,)}
assert SHAPE["lecture"] == (5, 2, 4, 1), "the messages below are written for this network"
F32, F64 = torch.float32, torch.float64


class Case:
    """Overrides of BASE_SHAPES: name -> shape, or name -> dict(shape=, dtype=, device=)."""

    def __init__(self, id, message, activation="tanh", dtype=F32, loss_only=False, cpu_only=False,
                 **overrides):
        self.id, self.message, self.activation, self.dtype = id, message, activation, dtype
        self.loss_only, self.cpu_only, self.overrides = loss_only, cpu_only, overrides

    def tensors(self, device):
        out = {}
        for name, shape in BASE_SHAPES.items():
            spec = self.overrides.get(name, shape)
            if not isinstance(spec, dict):
                spec = {"shape": spec}
            dtype = spec.get("dtype", self.dtype)
            dev = spec.get("device", device)
            size = spec.get("shape", shape)
            if dtype.is_floating_point:
                t = torch.rand(size, dtype=dtype)
            else:
                t = torch.zeros(size, dtype=dtype)
            out[name] = t.to(dev)
        return out


def _rank(name, dims, shape):
    listed = ", ".join(map(str, shape))
    return (f"twolayer: {name} must be a 2-D tensor of shape {dims}, but got a {len(shape)}-D "
            f"tensor of shape [{listed}]")


def _same_dtype(name, x_dtype, got):
    return f"twolayer: {name} must have the same dtype as X ({x_dtype}), but got {got}"


def _same_device(name, x_device, got):
    return f"twolayer: {name} must be on the same device as X ({x_device}), but got {got}"


def _w1_columns(W1, n0=2):
    """X and W1 disagree on n0: both sides are named, as the module's user may have either wrong."""
    rows, cols = W1
    return (f"twolayer: W1 has shape [{rows}, {cols}] (n1, n0), which takes n0 = {cols} features, "
            f"but X has n0 = {n0} features: X must have {cols} features, or W1 shape "
            f"({rows}, {n0})")


def _w2_columns(W2, n1=4):
    rows, cols = W2
    return (f"twolayer: W2 has shape [{rows}, {cols}] (n2, n1), which takes n1 = {cols} hidden "
            f"units, but W1 has n1 = {n1} hidden units: W1 must have {cols} hidden units, or W2 "
            f"shape ({rows}, {n1})")


B1_SHAPE = "twolayer: b1 must have shape (n1) = (4) to match W1 with n1 = 4 hidden units, but got "
B2_SHAPE = "twolayer: b2 must have shape (n2) = (1) to match W2 with n2 = 1 output units, but got "
Y_SHAPE = ("twolayer: Y must have shape (m, n2) = (5, 1) to match X with m = 5 examples and W2 "
           "with n2 = 1 output units, but got ")
Y3_SHAPE = ("twolayer: Y must have shape (m, n2) = (5, 3) to match X with m = 5 examples and W2 "
            "with n2 = 3 output units, but got ")
# The commonest label mistakes are told how to mend.
FLAT_Y = "; for one output pass Y.unsqueeze(1)"
INTEGER_Y = "; convert the labels with Y.to(X.dtype)"
# X of the other float dtype than parameters that agree with each other: X is named, with the fix.
X_TO_FLOAT32 = ("twolayer: X is float64, but the parameters W1, b1, W2, b2 are float32: convert X "
                "with X.float(), or build the net with dtype=torch.float64")
X_TO_FLOAT64 = ("twolayer: X is float32, but the parameters W1, b1, W2, b2 are float64: convert X "
                "with X.double(), or build the net with dtype=torch.float32")
X_DTYPE = "twolayer: X must be float32, float64, bfloat16 or float16, but got "
UNKNOWN = "twolayer: unknown activation '{}'; expected one of tanh, relu, sigmoid, leaky_relu"

CASES = [
    # ranks
    Case("X-3d", _rank("X", "(m, n0)", (2, 3, 4)), X=(2, 3, 4)),
    Case("X-1d", _rank("X", "(m, n0)", (5,)), X=(5,)),
    Case("X-0d", _rank("X", "(m, n0)", ()), X=()),
    Case("W1-3d", _rank("W1", "(n1, n0)", (4, 2, 1)), W1=(4, 2, 1)),
    Case("W1-1d", _rank("W1", "(n1, n0)", (8,)), W1=(8,)),
    Case("W2-1d", _rank("W2", "(n2, n1)", (4,)), W2=(4,)),
    Case("W2-3d", _rank("W2", "(n2, n1)", (1, 4, 1)), W2=(1, 4, 1)),
    # dtype of X (bfloat16 and float16 networks are valid: test_low_precision.py)
    *[Case(f"X-{name}", X_DTYPE + name,
           X={"dtype": dtype})
      for name, dtype in [("int64", torch.int64), ("int32", torch.int32), ("int16", torch.int16),
                          ("int8", torch.int8), ("uint8", torch.uint8), ("bool", torch.bool)]],
    # the other tensors must have X's dtype, whichever of the two float types X has
    *[Case(f"{name}-float64-vs-float32",
           _same_dtype(name, "float32", "float64") + (INTEGER_Y if name == "Y" else ""),
           loss_only=(name == "Y"), **{name: {"dtype": F64}})
      for name in ("W1", "b1", "W2", "b2", "Y")],
    *[Case(f"{name}-float32-vs-float64",
           _same_dtype(name, "float64", "float32") + (INTEGER_Y if name == "Y" else ""),
           dtype=F64, loss_only=(name == "Y"), **{name: {"dtype": F32}})
      for name in ("W1", "b1", "W2", "b2", "Y")],
    # X alone differs from parameters that agree: X is the one named, with both fixes.
    Case("X-float64-vs-float32-parameters", X_TO_FLOAT32, X={"dtype": F64}),
    Case("X-and-Y-float64-vs-float32-parameters", X_TO_FLOAT32, X={"dtype": F64},
         Y={"dtype": F64}),
    Case("X-float32-vs-float64-parameters", X_TO_FLOAT64, dtype=F64, X={"dtype": F32}),
    # Parameters that disagree among themselves: the odd parameter is named, not X.
    Case("W1-float32-vs-float64-X-and-parameters", _same_dtype("W1", "float64", "float32"),
         dtype=F64, W1={"dtype": F32}, Y={"dtype": F64}),
    Case("W1-int64", _same_dtype("W1", "float32", "int64"), W1={"dtype": torch.int64}),
    Case("b2-float16", _same_dtype("b2", "float32", "float16"), b2={"dtype": torch.float16}),
    Case("Y-int64", _same_dtype("Y", "float32", "int64") + INTEGER_Y, loss_only=True,
         Y={"dtype": torch.int64}),
    Case("Y-bool", _same_dtype("Y", "float32", "bool") + INTEGER_Y, loss_only=True,
         Y={"dtype": torch.bool}),
    # devices: meta next to cpu, in both directions
    *[Case(f"{name}-on-meta", _same_device(name, "cpu", "meta"), cpu_only=True,
           loss_only=(name == "Y"), **{name: {"device": "meta"}})
      for name in ("W1", "b1", "W2", "b2", "Y")],
    Case("X-on-meta", _same_device("W1", "meta", "cpu"), cpu_only=True, X={"device": "meta"}),
    # empty dimensions
    Case("m=0", "twolayer: X must hold at least one example (m >= 1), but got shape [0, 2]",
         X=(0, 2), Y=(0, 1)),
    Case("n0=0", "twolayer: X must have at least one feature (n0 >= 1), but got shape [5, 0]",
         X=(5, 0), W1=(4, 0)),
    Case("n1=0",
         "twolayer: W1 must have at least one hidden unit (n1 >= 1), but got shape [0, 2]",
         W1=(0, 2), b1=(0,), W2=(1, 0)),
    Case("n2=0",
         "twolayer: W2 must have at least one output unit (n2 >= 1), but got shape [0, 4]",
         W2=(0, 4), b2=(0,), Y=(5, 0)),
    # shape mismatches
    Case("W1-n0-mismatch", _w1_columns((4, 3)), W1=(4, 3)),
    # n1 and n2 are read from the first dimension of W1 and W2, so a transposed weight is
    # reported against its own first dimension.
    Case("W1-transposed", _w1_columns((2, 4)), W1=(2, 4)),
    Case("b1-short", B1_SHAPE + "[3]", b1=(3,)),
    Case("b1-long", B1_SHAPE + "[5]", b1=(5,)),
    Case("b1-2d", B1_SHAPE + "[4, 1]", b1=(4, 1)),
    Case("b1-0d", B1_SHAPE + "[]", b1=()),
    Case("W2-n1-mismatch", _w2_columns((1, 3)), W2=(1, 3)),
    Case("W2-transposed", _w2_columns((4, 1)), W2=(4, 1)),
    Case("b2-long", B2_SHAPE + "[2]", b2=(2,)),
    Case("b2-2d", B2_SHAPE + "[1, 1]", b2=(1, 1)),
    Case("b2-0d", B2_SHAPE + "[]", b2=()),
    Case("Y-1d", Y_SHAPE + "[5]" + FLAT_Y, loss_only=True, Y=(5,)),
    Case("Y-n2+1", Y_SHAPE + "[5, 2]", loss_only=True, Y=(5, 2)),
    Case("Y-wrong-m", Y_SHAPE + "[4, 1]", loss_only=True, Y=(4, 1)),
    Case("Y-broadcastable", Y_SHAPE + "[1, 1]", loss_only=True, Y=(1, 1)),
    Case("Y-transposed", Y_SHAPE + "[1, 5]", loss_only=True, Y=(1, 5)),
    Case("Y-3d", Y_SHAPE + "[5, 1, 1]", loss_only=True, Y=(5, 1, 1)),
    Case("Y-n2=3-got-1", Y3_SHAPE + "[5, 1]", loss_only=True, W2=(3, 4), b2=(3,), Y=(5, 1)),
    Case("Y-n2=3-got-4", Y3_SHAPE + "[5, 4]", loss_only=True, W2=(3, 4), b2=(3,), Y=(5, 4)),
    Case("Y-n2=3-got-(m,)", Y3_SHAPE + "[5]", loss_only=True, W2=(3, 4), b2=(3,), Y=(5,)),
    # activation
    *[Case(f"activation-{a!r}", UNKNOWN.format(a), activation=a)
      for a in ("foo", "Tanh", "", "relu ", "leaky-relu", "softmax")],
    # check order (spec): X (rank, dtype, m, n0), W1 (rank, dtype, device, n1, shape), b1,
    # W2 (rank, dtype, device, n2, shape), b2, Y (dtype, device, shape), activation
    Case("order-X-rank-before-dtype", _rank("X", "(m, n0)", (5,)),
         X={"shape": (5,), "dtype": torch.int64}),
    Case("order-X-dtype-before-m", X_DTYPE + "int32",
         X={"shape": (0, 2), "dtype": torch.int32}),
    Case("order-m-before-n0",
         "twolayer: X must hold at least one example (m >= 1), but got shape [0, 0]", X=(0, 0)),
    Case("order-X-before-W1", X_DTYPE + "int64",
         X={"dtype": torch.int64}, W1=(3,)),
    Case("order-X-dtype-before-W1-rank", X_TO_FLOAT32, X={"dtype": F64}, W1=(3,)),
    Case("order-W1-rank-before-dtype", _rank("W1", "(n1, n0)", (4,)),
         W1={"shape": (4,), "dtype": F64}),
    Case("order-W1-dtype-before-shape", _same_dtype("W1", "float32", "float64"),
         W1={"shape": (4, 3), "dtype": F64}),
    Case("order-W1-dtype-before-device", _same_dtype("W1", "float32", "float64"), cpu_only=True,
         W1={"dtype": F64, "device": "meta"}),
    Case("order-W1-device-before-shape", _same_device("W1", "cpu", "meta"), cpu_only=True,
         W1={"shape": (4, 3), "device": "meta"}),
    Case("order-n1-before-W1-shape",
         "twolayer: W1 must have at least one hidden unit (n1 >= 1), but got shape [0, 3]",
         W1=(0, 3)),
    Case("order-W1-before-b1", _w1_columns((4, 3)), W1=(4, 3), b1=(7,)),
    Case("order-b1-dtype-before-shape", _same_dtype("b1", "float32", "float64"),
         b1={"shape": (3,), "dtype": F64}),
    Case("order-b1-before-W2", B1_SHAPE + "[3]", b1=(3,), W2=(4,)),
    Case("order-W2-dtype-before-n2", _same_dtype("W2", "float32", "float64"),
         W2={"shape": (0, 4), "dtype": F64}),
    Case("order-n2-before-W2-shape",
         "twolayer: W2 must have at least one output unit (n2 >= 1), but got shape [0, 3]",
         W2=(0, 3)),
    Case("order-W2-before-b2", _w2_columns((1, 3)), W2=(1, 3), b2=(2,)),
    Case("order-b2-before-Y", B2_SHAPE + "[2]", loss_only=True, b2=(2,), Y=(5,)),
    Case("order-Y-dtype-before-shape", _same_dtype("Y", "float32", "float64") + INTEGER_Y,
         loss_only=True,
         Y={"shape": (5,), "dtype": F64}),
    Case("order-Y-device-before-shape", _same_device("Y", "cpu", "meta"), loss_only=True,
         cpu_only=True, Y={"shape": (5,), "device": "meta"}),
    Case("order-Y-before-activation", Y_SHAPE + "[5]" + FLAT_Y, loss_only=True, activation="foo",
         Y=(5,)),
    Case("order-shapes-before-activation", _w1_columns((4, 3)), activation="foo", W1=(4, 3)),
]

PARAMS = [pytest.param(case, op, device, id=f"{op}-{device}-{case.id}")
          for case in CASES
          for op in ("loss", "forward") if not (op == "forward" and case.loss_only)
          for device in ("cpu", "meta") if not (device == "meta" and case.cpu_only)]


def _call(op, t, activation):
    if op == "loss":
        return twolayer.loss(t["X"], t["Y"], t["W1"], t["b1"], t["W2"], t["b2"], activation)
    return twolayer.forward(t["X"], t["W1"], t["b1"], t["W2"], t["b2"], activation)


def _exactly(message):
    return "^" + re.escape(message) + "$"


@pytest.mark.parametrize("requires_grad", [False, True], ids=["plain", "requires_grad"])
@pytest.mark.parametrize("case, op, device", PARAMS)
def test_invalid_inputs_raise_the_spec_message(case, op, device, requires_grad):
    t = case.tensors(device)
    if requires_grad:
        # Through the autograd Function rather than the plain kernel: the same checks must run.
        for v in t.values():
            if v.is_floating_point():
                v.requires_grad_(True)
    before = {k: (v.detach().clone(), v.requires_grad) for k, v in t.items()}

    with pytest.raises(RuntimeError, match=_exactly(case.message)):
        _call(op, t, case.activation)

    # A failed call must leave its inputs as they were: same values, no gradient, same flags.
    for k, v in t.items():
        old, old_requires_grad = before[k]
        assert v.shape == old.shape and v.dtype == old.dtype and v.device == old.device, k
        assert v.requires_grad == old_requires_grad, k
        assert v.grad is None, k
        if v.device.type != "meta":
            assert torch.equal(v, old), f"{k} was modified"


def test_base_network_of_the_cases_is_valid():
    # Otherwise the cases above could fail for some reason other than the one they name.
    for device in ("cpu", "meta"):
        t = Case("valid", "").tensors(device)
        assert _call("loss", t, "tanh").shape == ()
        assert _call("forward", t, "tanh").shape == (5, 1)


def test_a_failed_call_leaves_the_library_usable():
    inputs = make_inputs(*SHAPE["lecture"], seed=8)
    args = [inputs[k] for k in ("X", "Y", "W1", "b1", "W2", "b2")]
    J_before = twolayer.loss(*args)
    with pytest.raises(RuntimeError):
        twolayer.loss(*args, activation="nope")
    with pytest.raises(RuntimeError):
        twolayer.loss(args[0], args[1], args[2][:, :1], *args[3:])
    assert torch.equal(twolayer.loss(*args), J_before)


def test_activation_must_be_a_string():
    inputs = make_inputs(*SHAPE["lecture"], seed=9)
    with pytest.raises((RuntimeError, TypeError)):
        twolayer.forward(*(inputs[k] for k in ("X", "W1", "b1", "W2", "b2")), 1)
