"""Seeded random inputs, decoded from draws into shapes (empty dimensions, wrong ranks), dtypes,
devices, strided views, extreme values and activation names. Every call of loss, forward and
backward must either match the plain-PyTorch reference or raise a RuntimeError that starts with
"twolayer: " and names the argument that the spec's check order blames first.

The same kind of decoding drives the libFuzzer target (fuzz/fuzz_ops.cpp); this test is its
seeded, always-on counterpart.
"""
import math
import random

import pytest
import torch

import twolayer
from conftest import ACTIVATIONS, TOLERANCE, seed_for
from reference import reference_activation, reference_forward, reference_hidden, reference_loss

N_BLOCKS = 20
CASES_PER_BLOCK = 150  # 3000 cases in all

F32, F64 = torch.float32, torch.float64
FLOATS = (F32, F64)
NAMES = ("X", "Y", "W1", "b1", "W2", "b2")
BAD_DTYPES = (torch.int64, torch.float16, torch.bool)
BAD_ACTIVATIONS = ("", "Tanh", "tanh ", " relu", "gelu", "leaky-relu", "sigmoid\t", "tänh",
                   "relu,tanh", "x" * 300)
# Below this the float64 reference and a float32 result may differ by underflow alone.
ABS_FLOOR = {F32: 1e-30, F64: 1e-290}
# Above this a correct float32 result may overflow where the float64 reference does not.
OVERFLOW_RISK = {F32: 1e36, F64: 1e300}


# ---------------------------------------------------------------------------------------------
# Decoding draws into a case
# ---------------------------------------------------------------------------------------------

class Case:
    """Shapes, dtypes, devices, layouts and value modes of the six tensors, plus the activation."""

    def __init__(self, index):
        self.index = index
        rng = self.rng = random.Random(seed_for("random_inputs", index))
        self.gen = torch.Generator().manual_seed(rng.getrandbits(62))
        dtype = rng.choice(FLOATS)
        m = rng.choice((1, 1, 2, 3, 5, 9))
        n0 = rng.choice((1, 2, 3, 5))
        # n1 * (n0 + n2) above 64 takes the BLAS path of the CPU kernels, below it the loops;
        # n2 > 16 takes the BLAS product for dZ2 W2.
        n1 = rng.choice((1, 2, 4, 7, 24))
        n2 = rng.choice((1, 1, 2, 3, 17))
        self.shape = {"X": [m, n0], "Y": [m, n2], "W1": [n1, n0], "b1": [n1], "W2": [n2, n1],
                      "b2": [n2]}
        self.dtype = dict.fromkeys(NAMES, dtype)
        self.device = dict.fromkeys(NAMES, "cpu")
        self.layout = {k: rng.choice(("contiguous", "contiguous", "transposed", "sliced",
                                      "expanded")) for k in NAMES}
        self.values = rng.choice(("normal", "normal", "large_logits", "extreme", "nonfinite"))
        self.labels = rng.choice(("soft", "hard"))
        self.activation = rng.choice(ACTIVATIONS)
        self.fault = rng.choice((None, None, None, "rank", "dtype", "empty", "shape", "device",
                                 "activation", "two_faults"))
        for fault in (("rank", "shape") if self.fault == "two_faults" else (self.fault,)):
            self._apply(fault)
        self.requires_grad = {k for k in NAMES if rng.random() < 0.6}

    def _apply(self, fault):
        rng, shape = self.rng, self.shape
        name = rng.choice(NAMES)
        if fault == "rank":
            shape[name] = [rng.randint(1, 3) for _ in range(rng.choice((0, 1, 3)))]
        elif fault == "dtype":
            self.dtype[name] = rng.choice(BAD_DTYPES + tuple(set(FLOATS) - {self.dtype[name]}))
        elif fault == "empty":
            shape[name] = list(shape[name])
            shape[name][rng.randrange(len(shape[name]))] = 0
            if rng.random() < 0.5:  # a consistently empty layer, so only the size is wrong
                if name in ("X", "Y") and shape[name][0] == 0:
                    shape["X"][0] = shape["Y"][0] = 0
                elif name in ("W1", "b1") and shape[name][0] == 0:
                    shape["W1"][0] = shape["b1"][0] = shape["W2"][1] = 0
        elif fault == "shape":
            shape[name] = [d + rng.choice((-1, 1, 2)) if rng.random() < 0.7 else d
                           for d in shape[name]]
            shape[name] = [max(d, 1) for d in shape[name]]
        elif fault == "device":
            self.device[name] = "meta"
        elif fault == "activation":
            self.activation = rng.choice(BAD_ACTIVATIONS)

    def describe(self):
        parts = [f"{k}{self.shape[k]}:{str(self.dtype[k])[6:]}:{self.layout[k]}"
                 + (":meta" if self.device[k] == "meta" else "") for k in NAMES]
        return (f"case {self.index} ({self.values}, {self.activation!r}, fault={self.fault}, "
                f"grad={sorted(self.requires_grad)}): " + " ".join(parts))


def _float_values(case):
    """float64 values of every tensor in the shape drawn for it, empty and wrong ones included."""
    rng, gen = case.rng, case.gen

    def randn(name, scale=1.0):
        return torch.randn(case.shape[name], generator=gen, dtype=F64) * scale

    n0 = max(case.shape["W1"][-1:] or [1]) or 1
    n1 = max(case.shape["W2"][-1:] or [1]) or 1
    v = {"X": randn("X"), "W1": randn("W1", 1.5 / math.sqrt(n0)), "b1": randn("b1", 0.5),
         "W2": randn("W2", 2.0 / math.sqrt(n1)), "b2": randn("b2", 0.5)}
    u = torch.rand(case.shape["Y"], generator=gen, dtype=F64)
    v["Y"] = u if case.labels == "soft" else (u < 0.5).to(F64)
    if case.values == "large_logits":
        logit = 10.0 ** rng.uniform(1.0, 4.0)  # |Z2| up to about 1e4
        v["W2"] = v["W2"] * logit / 2.0
        v["b2"] = v["b2"] * logit
    elif case.values in ("extreme", "nonfinite"):
        if case.values == "extreme":  # in one factor of each product only, so none overflows
            name = rng.choice(("X", "W1", "b1", "W2", "b2"))
            specials = (1e30, -1e30)
        else:
            name = rng.choice(NAMES)
            specials = (math.nan, math.inf, -math.inf)
        t = v[name].reshape(-1)
        for _ in range(rng.randint(1, 3)):
            if t.numel():
                t[rng.randrange(t.numel())] = rng.choice(specials)
    return v


def _view(base, layout):
    """`base` (contiguous) seen through the given kind of strided view, same values."""
    if layout == "transposed" and base.dim() == 2:
        return base.t().contiguous().t()
    if layout == "sliced" and base.dim() >= 1:
        big = torch.zeros([2 * d + 1 for d in base.shape], dtype=base.dtype)
        view = big[tuple(slice(1, None, 2) for _ in base.shape)]
        view.copy_(base)
        return view
    if layout == "expanded" and base.dim() >= 1 and base.shape[0] >= 1:
        # Every row equal to the first one, with stride 0: the values change with the view.
        return base[:1].expand(base.shape)
    return base


def make_tensors(case):
    values = _float_values(case)
    tensors = {}
    for k in NAMES:
        dtype, device = case.dtype[k], case.device[k]
        if device == "meta":
            tensors[k] = torch.empty(case.shape[k], dtype=dtype, device="meta")
            continue
        base = values[k]
        if dtype == torch.bool:
            base = base > 0
        elif dtype == torch.int64:
            base = base.clamp(-1e6, 1e6).nan_to_num(0.0).round()
        tensors[k] = _view(base.to(dtype), case.layout[k])
        if k in case.requires_grad and dtype in FLOATS:
            tensors[k].requires_grad_()
    return tensors


# ---------------------------------------------------------------------------------------------
# What must happen: the argument to blame, or the reference values with error bounds
# ---------------------------------------------------------------------------------------------

def blame_and_prefix(t, activation, with_Y):
    """The first bad argument in the spec's check order and the start of its message, or
    (None, None) if the call is valid."""
    names = ("X", "W1", "b1", "W2", "b2") + (("Y",) if with_Y else ())
    for k in names:  # non-strided layouts come first, before anything reads a size
        if t[k].layout != torch.strided:
            return k, f"twolayer: {k} "
    X = t["X"]
    if X.dim() != 2 or X.dtype not in FLOATS or X.shape[0] < 1 or X.shape[1] < 1:
        return "X", "twolayer: X "

    def like_X(u):
        return u.dtype == X.dtype and u.device == X.device

    # Parameters of one float dtype and an X of the other: X is the odd one out, and named.
    dtypes = {t[k].dtype for k in ("W1", "b1", "W2", "b2")}
    if len(dtypes) == 1 and dtypes <= set(FLOATS) and X.dtype not in dtypes:
        return "X", "twolayer: X "

    inputs = X.shape[1]
    for W, b in (("W1", "b1"), ("W2", "b2")):
        w = t[W]
        if w.dim() != 2 or not like_X(w) or w.shape[0] < 1 or w.shape[1] != inputs:
            return W, f"twolayer: {W} "
        if not like_X(t[b]) or tuple(t[b].shape) != (w.shape[0],):
            return b, f"twolayer: {b} "
        inputs = w.shape[0]
    if with_Y and (not like_X(t["Y"]) or tuple(t["Y"].shape) != (X.shape[0], inputs)):
        return "Y", "twolayer: Y "
    if activation not in ACTIVATIONS:
        return "activation", f"twolayer: unknown activation '{activation}'"
    return None, None


def blame(t, activation, with_Y):
    """The first bad argument in the spec's check order, or None if the call is valid."""
    return blame_and_prefix(t, activation, with_Y)[0]


# Near Z1, how far an error in Z1 moves g1' (through A1), and how far it can move it anywhere
# (the Lipschitz constant of g1'); relu-like slopes jump at 0 instead.
_SLOPE_CHANGE = {
    "tanh": (lambda A1: 2 * (1 - A1 * A1), 0.77),
    "sigmoid": (lambda A1: A1 * (1 - A1), 0.1),
}
SATURATED = 40.0  # beyond this |z|, tanh and the sigmoid are 0 or +-1 in float64


def error_scales(v, activation, grad, loss, dtype):
    """Per element, a magnitude that bounds the rounding error of a correct implementation
    divided by the unit roundoff (up to a small factor): products of absolute values, with the
    error of Z1 and Z2 carried through g1, g1' and the sigmoid. float64 inputs, no autograd.

    Where the error of Z1 or Z2 (TOLERANCE times its scale) may reach past the linear regime
    (float32 with +-1e30 weights that cancel), the local slopes give way to global Lipschitz
    bounds, or to no bound (inf) across relu's kink."""
    F = torch.nn.functional
    tol = TOLERANCE[dtype]
    X, W1, b1, W2, b2 = (v[k] for k in ("X", "W1", "b1", "W2", "b2"))
    m = X.shape[0]
    Z1 = reference_hidden(X, W1, b1)
    A1 = reference_activation(Z1, activation)
    Z2 = F.linear(A1, W2, b2)
    A2 = torch.sigmoid(Z2)
    S1 = X.abs() @ W1.abs().t() + b1.abs()
    S2 = (A1.abs() + S1) @ W2.abs().t() + b2.abs()
    s2 = A2 * (1 - A2)
    far2 = tol * S2 > torch.clamp(Z2.abs() - SATURATED, min=0.1)
    slope2 = torch.where(far2, torch.full_like(s2, 0.25), s2)  # sigma' <= 1/4
    if loss:
        Y = v["Y"]
        D2 = grad.abs() * (1 + Y.abs() + slope2 * S2)
    else:
        # 1 - A2 from a rounded A2 is off by up to eps A2: near saturation that is all of it.
        D2 = grad.abs() * (s2 + slope2 * S2 + A2 * A2)
    if activation in _SLOPE_CHANGE:
        local, lipschitz = _SLOPE_CHANGE[activation]
        far1 = tol * S1 > torch.clamp(Z1.abs() - SATURATED, min=0.1)
        change = torch.where(far1, torch.full_like(A1, lipschitz), local(A1))
    else:
        change = torch.where(tol * S1 >= Z1.abs(), torch.full_like(A1, math.inf),
                             torch.zeros_like(A1))
    D1 = (D2 @ W2.abs()) * (1 + change * S1)
    k = 1.0 / m if loss else 1.0
    scales = {"X": k * D1 @ W1.abs(), "W1": k * D1.t() @ X.abs(), "b1": k * D1.sum(0),
              "W2": k * D2.t() @ (A1.abs() + S1), "b2": k * D2.sum(0)}
    if loss:
        scales["J"] = (1 + 2 * (1 + Y.abs()) * S2).sum() / m
        scales["Y"] = grad.abs() / m * S2
    else:
        scales["A2"] = A2 + slope2 * S2
    return scales


def check_close(actual, expected, scale, dtype, what):
    """Same shape and dtype; non-finite wherever the reference is (a NaN or inf may not turn into
    a clean-looking number); finite exactly where the reference is wherever the scale is finite
    and far from overflow; and within TOLERANCE times the scale (plus an underflow floor).

    Where the scale is not finite an inf or NaN input reaches the element, and ours may be NaN
    where the reference is finite: relu' masks a NaN to 0 in PyTorch, and is a factor 0 here."""
    assert actual is not None, f"{what}: missing"
    assert actual.dtype == dtype, f"{what}: dtype {actual.dtype}, expected {dtype}"
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    a = actual.detach().to(F64)
    lost = ~torch.isfinite(expected) & torch.isfinite(a)
    assert not lost.any(), (f"{what}: finite where the reference is not: "
                            f"{a[lost].tolist()[:4]} vs {expected[lost].tolist()[:4]}")
    tame = torch.isfinite(scale) & (scale < OVERFLOW_RISK[dtype])
    gained = tame & ~torch.isfinite(a) & torch.isfinite(expected)
    assert not gained.any(), (f"{what}: not finite where the reference is: "
                              f"{a[gained].tolist()[:4]} vs {expected[gained].tolist()[:4]}")
    checked = torch.isfinite(scale) & torch.isfinite(expected) & torch.isfinite(a)
    err = (a - expected).abs()[checked]
    bound = (TOLERANCE[dtype] * scale + ABS_FLOOR[dtype])[checked]
    bad = err > bound
    assert not bad.any(), (f"{what}: error {err[bad].max().item():.3g} above the bound "
                           f"{bound[bad].min().item():.3g} ({a[checked][bad].tolist()[:3]} vs "
                           f"{expected[checked][bad].tolist()[:3]})")


def _random_grad(case, shape):
    sign = case.rng.choice((-1.0, 1.0))
    return sign * (0.5 + 2.5 * torch.rand(shape, generator=case.gen, dtype=F64))


def run_op(case, t, op):
    """Calls op on t; checks the outcome against blame or the reference."""
    names = NAMES if op == "loss" else tuple(k for k in NAMES if k != "Y")
    bad, prefix = blame_and_prefix(t, case.activation, with_Y=(op == "loss"))
    args = [t[k] for k in names]
    fn = twolayer.loss if op == "loss" else twolayer.forward
    if bad is not None:
        with pytest.raises(RuntimeError) as info:
            fn(*args, case.activation)
        message = str(info.value).splitlines()[0]
        assert message.startswith(prefix), f"{op}: expected {prefix!r}..., got {message!r}"
        return

    out = fn(*args, case.activation)
    dtype = t["X"].dtype
    assert out.dtype == dtype and out.device == t["X"].device
    assert list(out.shape) == ([] if op == "loss" else [case.shape["X"][0], case.shape["W2"][0]])
    if t["X"].device.type == "meta":
        return

    v = {k: t[k].detach().to(F64) for k in names}
    leaves = {k: v[k].clone().requires_grad_() for k in names}
    ref_fn = reference_loss if op == "loss" else reference_forward
    ref = ref_fn(*(leaves[k] for k in names), case.activation)
    grad = _random_grad(case, ref.shape)
    ref_grads = dict(zip(names, torch.autograd.grad(ref, [leaves[k] for k in names], grad)))
    scales = error_scales(v, case.activation, grad, loss=(op == "loss"), dtype=dtype)
    out_name = "J" if op == "loss" else "A2"
    check_close(out, ref.detach(), scales[out_name], dtype, f"{op} {out_name}")

    wanted = [k for k in names if t[k].requires_grad]
    if not wanted:
        assert out.grad_fn is None
        return
    grads = torch.autograd.grad(out, [t[k] for k in wanted], grad.to(dtype))
    for k, g in zip(wanted, grads):
        check_close(g, ref_grads[k], scales[k], dtype, f"{op} d{k}")

    if case.values == "large_logits":
        # Finite inputs with saturated sigmoids: nothing may overflow into inf or NaN.
        assert torch.isfinite(out).all(), f"{op} {out_name} not finite"
        assert all(torch.isfinite(g).all() for g in grads), f"{op}: a gradient is not finite"


@pytest.mark.parametrize("block", range(N_BLOCKS))
def test_random_inputs_give_reference_values_or_named_errors(block):
    for index in range(block * CASES_PER_BLOCK, (block + 1) * CASES_PER_BLOCK):
        case = Case(index)
        for op in ("loss", "forward"):
            t = make_tensors(case)
            try:
                run_op(case, t, op)
            except AssertionError as e:
                raise AssertionError(f"{case.describe()}\n{op}: {e}") from None


def test_relu_keeps_a_nan_input():
    # The random cases found it: the fused CPU loop's relu (a > 0 ? a : 0) once turned a NaN of
    # X into 0, so the cost came out finite and the NaN went unnoticed.
    X = torch.tensor([[math.nan, 1.0], [0.5, -1.0]], dtype=F64)
    Y = torch.tensor([[1.0], [0.0]], dtype=F64)
    W1 = torch.tensor([[1.0, 2.0], [-1.0, 0.5], [0.3, 0.3], [2.0, -1.0]], dtype=F64)
    for dtype in FLOATS:
        args = [t.to(dtype) for t in (X, Y, W1, torch.zeros(4), torch.ones(1, 4), torch.zeros(1))]
        assert torch.isnan(twolayer.loss(*args, "relu")), dtype


def test_the_draws_cover_every_kind_of_input():
    # A decoder that stopped producing some kind of input would let the test above pass
    # vacuously; count what the cases hold.
    seen = {"blame": set(), "values": set(), "layout": set(), "dtype": set(), "path": set()}
    for index in range(N_BLOCKS * CASES_PER_BLOCK):
        case = Case(index)
        t = make_tensors(case)
        bad = blame(t, case.activation, with_Y=True)
        seen["blame"].add(bad)
        if bad is None:
            seen["values"].add(case.values)
            m, n0 = case.shape["X"]
            n1, n2 = case.shape["W1"][0], case.shape["W2"][0]
            seen["path"].add("loops" if n1 * (n0 + n2) <= 64 else "blas" if n2 <= 16 else
                             "blas with BLAS dZ2 W2")
        seen["layout"].update(case.layout.values())
        seen["dtype"].update(case.dtype.values())
    assert seen["blame"] == {None, "activation", *NAMES}
    assert seen["values"] == {"normal", "large_logits", "extreme", "nonfinite"}
    assert seen["layout"] == {"contiguous", "transposed", "sliced", "expanded"}
    assert seen["dtype"] == {F32, F64, *BAD_DTYPES}
    assert seen["path"] == {"loops", "blas", "blas with BLAS dZ2 W2"}


# ---------------------------------------------------------------------------------------------
# The rarer kinds of input: dual tensors, overlapping fit_ arguments, non-strided layouts and
# a failed allocation. Drawn from the same cases, with their own generator for what they add,
# so the cases above stay as they are.
# ---------------------------------------------------------------------------------------------

N_EXTRA = 400


def _extra_rng(index, what):
    return random.Random(seed_for("random_inputs", what, index))


def _valid_cpu_case(index):
    case = Case(index)
    t = make_tensors(case)
    if blame(t, case.activation, with_Y=True) is not None or t["X"].device.type != "cpu":
        return None, None
    return case, {k: v.detach() for k, v in t.items()}


def _primal(u):
    """make_dual takes no primal whose elements share memory (stride 0)."""
    return u.contiguous() if 0 in u.stride() else u


@pytest.mark.parametrize("block", range(4))
def test_random_dual_inputs_give_reference_tangents(block):
    import torch.autograd.forward_ad as fwAD
    checked = 0
    for index in range(block * N_EXTRA // 4, (block + 1) * N_EXTRA // 4):
        case, t = _valid_cpu_case(index)
        if case is None or case.values not in ("normal", "large_logits"):
            continue
        rng = _extra_rng(index, "dual")
        duals = [k for k in NAMES if rng.random() < 0.5] or ["W1"]
        dtype = t["X"].dtype
        gen = torch.Generator().manual_seed(index)
        T = {k: torch.randn(t[k].shape, generator=gen, dtype=F64) for k in duals}
        v = {k: t[k].to(F64) for k in NAMES}
        for op in ("loss", "forward"):
            names = NAMES if op == "loss" else tuple(k for k in NAMES if k != "Y")
            fn = twolayer.loss if op == "loss" else twolayer.forward
            ref_fn = reference_loss if op == "loss" else reference_forward
            with fwAD.dual_level():
                args = [fwAD.make_dual(_primal(t[k]), T[k].to(dtype)) if k in T else t[k]
                        for k in names]
                tangent = fwAD.unpack_dual(fn(*args, case.activation)).tangent
                ref_args = [fwAD.make_dual(_primal(v[k]), T[k]) if k in T else v[k]
                            for k in names]
                ref_tangent = fwAD.unpack_dual(ref_fn(*ref_args, case.activation)).tangent
            what = f"{case.describe()}\n{op}: duals {duals}"
            if not any(k in T for k in names):
                continue
            assert tangent is not None, f"{what}: no tangent"
            if op == "loss":
                # dJ . T, with the gradients' error bounds (forward mode sums the same products
                # in another order: twice the bound).
                scales = error_scales(v, case.activation, torch.ones((), dtype=F64), True, dtype)
                scale = sum((scales[k] * T[k].abs()).sum() for k in T)
                check_close(tangent, ref_tangent.detach(), 2 * scale, dtype, f"{what}: dJ")
            else:
                # No per-element bound is derived for A2's tangent: checked loosely.
                tol = 1e-8 if dtype == F64 else 1e-3
                size = ref_tangent.abs().max().item()
                assert torch.allclose(tangent.to(F64), ref_tangent, rtol=tol,
                                      atol=tol * (1 + size)), f"{what}: dA2"
            checked += 1
    assert checked > 0


def _overlap(case, t, rng):
    """fit_'s arguments with one parameter sharing memory with another argument, and the pair
    that the error must name; None when the shapes leave no room for the kind drawn."""
    kind = rng.choice(("X is W1", "b1 in W1", "b2 in Y", "W2 in X", "b1 in b2"))
    args = {k: t[k].clone() for k in NAMES}

    def leading(base, count):  # the first `count` elements of base's storage, from base's first
        if base.numel() < count:
            return None
        return base.as_strided((count,), (1,), base.storage_offset())

    if kind == "X is W1":
        if args["X"].shape != args["W1"].shape:
            return None
        args["X"] = args["W1"]
        return args, ("W1", "X")
    if kind == "W2 in X":
        n2, n1 = args["W2"].shape
        view = leading(args["X"], n2 * n1)
        if view is None:
            return None
        args["W2"] = view.view(n2, n1)
        return args, ("W2", "X")
    target, source, pair = {"b1 in W1": ("b1", "W1", ("W1", "b1")),
                            "b2 in Y": ("b2", "Y", ("b2", "Y")),
                            "b1 in b2": ("b2", "b1", ("b1", "b2"))}[kind]
    view = leading(args[source], args[target].numel())
    if view is None:
        return None
    args[target] = view
    return args, pair


def test_random_overlapping_fit_arguments_are_refused():
    refused = 0
    for index in range(N_EXTRA):
        case, t = _valid_cpu_case(index)
        if case is None:
            continue
        made = _overlap(case, t, _extra_rng(index, "overlap"))
        if made is None:
            continue
        args, (first, second) = made
        params = [args[k] for k in ("W1", "b1", "W2", "b2")]
        before = [p.clone() for p in params]
        with pytest.raises(RuntimeError) as info:
            twolayer.fit_(*params, args["X"], args["Y"], 2, 0.5, case.activation)
        message = str(info.value).splitlines()[0]
        expected = f"twolayer: {first} and {second} must not share memory"
        assert message.startswith(expected), f"{case.describe()}\n{expected!r} vs {message!r}"
        for p, b in zip(params, before):
            assert torch.allclose(p, b, rtol=0, atol=0, equal_nan=True), case.describe()
        refused += 1
    assert refused >= 50  # 81 of the 400 cases are valid and have room for their overlap


def test_random_non_strided_layouts_give_named_errors():
    layouts = {"sparse_coo": lambda u: u.to_sparse(),
               "sparse_csr": lambda u: u.to_sparse_csr() if u.dim() == 2 else u.to_sparse()}
    if torch.backends.mkldnn.is_available():
        layouts["mkldnn"] = lambda u: u.float().to_mkldnn()
    for index in range(N_EXTRA):
        case = Case(index)
        t = make_tensors(case)
        rng = _extra_rng(index, "layout")
        name = rng.choice(NAMES)
        if t[name].device.type != "cpu":
            continue
        layout = rng.choice(sorted(layouts))
        try:
            t[name] = layouts[layout](t[name].detach())
        except RuntimeError:
            continue  # a dtype or rank the layout does not take
        for op in ("loss", "forward", "fit_"):
            if op == "forward" and name == "Y":
                continue
            names = (("W1", "b1", "W2", "b2", "X", "Y") if op == "fit_" else
                     NAMES if op == "loss" else tuple(k for k in NAMES if k != "Y"))
            extra = (2, 0.5) if op == "fit_" else ()
            fn = getattr(twolayer, op)
            with pytest.raises(RuntimeError) as info:
                fn(*(t[k] for k in names), *extra, case.activation)
            message = str(info.value).splitlines()[0]
            # Before anything reads a size: whatever else the case has wrong.
            expected = f"twolayer: {name} must be a strided (dense) tensor, but got layout "
            assert message.startswith(expected), f"{case.describe()} {name} {layout}: {message}"


def test_random_cases_after_a_failed_allocation():
    # In a child whose address space is capped: the (200000 x 100000) hidden layer cannot be
    # allocated, and every random case after each such failure must still pass.
    import os
    import subprocess
    import sys
    here = os.path.dirname(os.path.abspath(__file__))
    code = f"""
import resource, sys
cap = 16 << 30
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
sys.path.insert(0, {here!r})
import torch, twolayer
from test_random_inputs import Case, make_tensors, run_op
huge = [torch.zeros(200000, 1), torch.zeros(200000, 1), torch.zeros(100000, 1),
        torch.zeros(100000), torch.zeros(1, 100000), torch.zeros(1)]
failures = 0
for index in range(60):
    try:
        twolayer.loss(*huge)
    except RuntimeError as error:
        assert "out of memory" in str(error), error
        failures += 1
    case = Case(index)
    for op in ("loss", "forward"):
        run_op(case, make_tensors(case), op)
print(failures)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["60"], done.stdout
