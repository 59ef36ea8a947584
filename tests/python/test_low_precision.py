"""bfloat16 and float16 networks in the operators (the low-precision contract): the dtypes of
every result and gradient, accuracy on every CPU path, autocast, double backward, and the
PyTorch 2.x contracts (opcheck, torch.compile).

The yardstick of accuracy: against a float64 reference computed from the same rounded inputs
(reference.py, float64 autograd), twolayer in low precision must err at most twice as much as
eager PyTorch does in the same precision (F.linear -> g1 -> F.linear -> the stock cost, with
autograd for the gradients), plus a floor of one unit roundoff (see `within_eager`). Neither
side of a comparison is computed by twolayer.

float16 on the CPU needs PyTorch 2.0 or later; on 1.13 it must be refused with a message that
names float16 and the PyTorch version. bfloat16 runs on every PyTorch.
"""
import os
import re
import tempfile

import pytest
import torch

import twolayer
from helpers import (CPU_PATH_SHAPES, FORWARD_INPUTS, LOSS_INPUTS, OUTPUTS,
                     make_inputs, random_like, random_scalar, rel_err, sample_id, samples,
                     seed_for, targets_for)
from reference import reference_cost, reference_forward, reference_logits, reference_loss

os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", tempfile.mkdtemp(prefix="twolayer-inductor-"))

ops = torch.ops.twolayer
F32, F64, BF16, F16 = torch.float32, torch.float64, torch.bfloat16, torch.float16
TORCH_MAJOR = int(torch.__version__.split(".")[0])
TORCH_MINOR = ".".join(torch.__version__.split(".")[:2])   # "1.13", as a message would print it
# CPU float16 matrix products exist from PyTorch 2.0 on.
HAS_CPU_FLOAT16 = TORCH_MAJOR >= 2
LOWS = (BF16, F16) if HAS_CPU_FLOAT16 else (BF16,)
PARAMS = ("W1", "b1", "W2", "b2")

needs_opcheck = pytest.mark.skipif(not hasattr(torch.library, "opcheck"),
                                   reason=f"torch {torch.__version__} has no torch.library.opcheck")
needs_compile = pytest.mark.skipif(TORCH_MAJOR < 2 or not hasattr(torch, "compile"),
                                   reason=f"torch {torch.__version__} has no torch.compile")
needs_float16 = pytest.mark.skipif(not HAS_CPU_FLOAT16,
                                   reason=f"torch {torch.__version__} has no CPU float16 products")
needs_no_float16 = pytest.mark.skipif(HAS_CPU_FLOAT16,
                                      reason=f"torch {torch.__version__} has CPU float16 products")


def name_of(dtype):
    return str(dtype).replace("torch.", "")


def unit_roundoff(dtype):
    """Half the distance from 1 to the next number: the relative error of one rounding to dtype."""
    return torch.finfo(dtype).eps / 2


# ---------------------------------------------------------------------------------------------
# The eager network in the same precision (the yardstick) and running it with backward
# ---------------------------------------------------------------------------------------------

def eager_cost(Z2, Y, output):
    """reference.py's costs, in whatever dtype Z2 has; the squared error by hand, because
    mse_loss has no CPU bfloat16 kernel on PyTorch 1.13 (the same formula: half the mean over
    examples of the summed squares)."""
    if output == "identity":
        return ((Z2 - Y) ** 2).sum() / (2 * Z2.shape[0])
    return reference_cost(Z2, Y, output)


def eager_loss(X, Y, W1, b1, W2, b2, activation, output):
    return eager_cost(reference_logits(X, W1, b1, W2, b2, activation), Y, output)


def twolayer_loss(X, Y, W1, b1, W2, b2, activation, output):
    return twolayer.loss(X, Y, W1, b1, W2, b2, activation, output)


def twolayer_forward(X, W1, b1, W2, b2, activation, output):
    return twolayer.forward(X, W1, b1, W2, b2, activation, output)


def run(fn, tensors, names, grad_out, activation, output, requires_grad=None):
    """fn on fresh leaves of tensors[names] and its backward with grad_out (cast to the result's
    dtype: a value exactly representable in every dtype used, see exact_in); returns the result
    and {name: gradient}."""
    requires_grad = names if requires_grad is None else requires_grad
    leaves = {k: tensors[k].detach().clone().requires_grad_(k in requires_grad) for k in names}
    out = fn(*(leaves[k] for k in names), activation, output)
    out.backward(grad_out.to(out.dtype))
    return out.detach(), {k: leaves[k].grad for k in names}


def exact_in(t, low):
    """t rounded to low and held in float64: a value every dtype holds exactly."""
    return t.to(low).to(F64)


def within_eager(what, ours, eager, ref, low, factor=2.0, floor_units=2.0):
    """twolayer's error against the float64 reference is at most `factor` times eager's plus a
    floor of `floor_units` unit roundoffs of low (relative to the largest reference value).

    The floor: a result in low precision, or computed from products whose outputs are rounded to
    low (Z1, A1, Z2 are, by the contract), carries about one rounding of its largest entries;
    where eager's error happens to cancel (a scalar J, a sum that rounds luckily) twice eager's
    error could be below that, though twolayer is right.
    """
    assert ours is not None, f"{what}: no gradient"
    assert torch.isfinite(ours.to(F64)).all(), f"{what}: not finite"
    e_ours, e_eager = rel_err(ours, ref), rel_err(eager, ref)
    bound = factor * e_eager + floor_units * unit_roundoff(low)
    assert e_ours <= bound, (f"{what}: twolayer's relative error {e_ours:.3g} against float64 > "
                             f"{factor} x eager {name_of(low)}'s {e_eager:.3g} + "
                             f"{floor_units} x {unit_roundoff(low):.3g}")


# ---------------------------------------------------------------------------------------------
# The dtypes of the results and the gradients
# ---------------------------------------------------------------------------------------------

def low_inputs(low, shape=(7, 3, 5, 3), output="sigmoid", y_dtype=None, seed=0):
    t = targets_for(output, make_inputs(*shape, dtype=F64, seed=seed), seed)
    t = {k: v.to(low) for k, v in t.items()}
    if y_dtype is not None:
        t["Y"] = targets_for(output, make_inputs(*shape, dtype=F64, seed=seed),
                             seed)["Y"].to(y_dtype)
    return t


@pytest.mark.parametrize("low", LOWS, ids=name_of)
@pytest.mark.parametrize("y_dtype", ("p", "float32"))
@pytest.mark.parametrize("output", OUTPUTS)
def test_loss_dtypes(low, y_dtype, output):
    Yd = low if y_dtype == "p" else F32
    t = low_inputs(low, output=output, y_dtype=Yd)
    J, grads = run(twolayer_loss, t, LOSS_INPUTS, torch.tensor(1.0), "tanh", output)
    assert J.dtype == F32 and J.shape == torch.Size([])
    assert torch.isfinite(J)
    for name in LOSS_INPUTS:
        assert grads[name] is not None, name
        assert grads[name].dtype == t[name].dtype, (name, grads[name].dtype, t[name].dtype)
        assert grads[name].shape == t[name].shape, name
        assert torch.isfinite(grads[name]).all(), name
    assert grads["Y"].dtype == Yd


@pytest.mark.parametrize("low", LOWS, ids=name_of)
@pytest.mark.parametrize("output", OUTPUTS)
def test_forward_and_logits_dtypes(low, output):
    t = low_inputs(low, output=output)
    grad_A2 = random_like((7, 3), 1)
    A2, grads = run(twolayer_forward, t, FORWARD_INPUTS, grad_A2, "relu", output)
    assert A2.dtype == low and A2.shape == (7, 3)
    for name in FORWARD_INPUTS:
        assert grads[name].dtype == low, name
        assert grads[name].shape == t[name].shape, name
    Z2 = ops._logits(t["X"], t["W1"], t["b1"], t["W2"], t["b2"], "relu")
    assert Z2.dtype == low and Z2.shape == (7, 3)


@pytest.mark.parametrize("low", LOWS, ids=name_of)
def test_meta_tensors_give_the_contract_dtypes(low):
    t = {k: v.to("meta") for k, v in low_inputs(low).items()}
    J = ops.loss(t["X"], t["Y"], t["W1"], t["b1"], t["W2"], t["b2"], "tanh", "sigmoid")
    A2 = ops.forward(t["X"], t["W1"], t["b1"], t["W2"], t["b2"], "tanh", "sigmoid")
    assert (J.device.type, J.dtype, J.shape) == ("meta", F32, torch.Size([]))
    assert (A2.device.type, A2.dtype, A2.shape) == ("meta", low, torch.Size([7, 3]))
    t["Y"] = t["Y"].to(F32)
    J = ops.loss(t["X"], t["Y"], t["W1"], t["b1"], t["W2"], t["b2"], "tanh", "sigmoid")
    assert J.dtype == F32


@pytest.mark.parametrize("low", LOWS, ids=name_of)
def test_fit_returns_float32_costs_and_keeps_the_parameters_in_p(low):
    t = low_inputs(low, shape=(20, 2, 4, 1))
    params = [t[k].clone() for k in PARAMS]
    costs = ops.fit_(*params, t["X"], t["Y"], 5, 0.5, "tanh", "sigmoid")
    assert costs.dtype == F32 and costs.shape == (5,)
    for p, k in zip(params, PARAMS):
        assert p.dtype == low, k
        assert not torch.equal(p, t[k]), f"{k} was not updated"


@pytest.mark.parametrize("low", LOWS, ids=name_of)
@pytest.mark.parametrize("odd", ("W1", "b1", "W2", "b2"))
def test_a_parameter_of_another_dtype_than_a_low_precision_X_is_refused(low, odd):
    t = low_inputs(low)
    t[odd] = t[odd].to(F32)
    with pytest.raises(RuntimeError, match=odd):
        twolayer.loss(t["X"], t["Y"], t["W1"], t["b1"], t["W2"], t["b2"])
    with pytest.raises(RuntimeError, match=odd):
        twolayer.forward(t["X"], t["W1"], t["b1"], t["W2"], t["b2"])


@pytest.mark.parametrize("low", LOWS, ids=name_of)
def test_Y_of_low_precision_X_must_be_p_or_float32(low):
    t = low_inputs(low)
    for bad in (F64,) + tuple(d for d in LOWS if d != low):
        with pytest.raises(RuntimeError, match="Y") as error:
            twolayer.loss(t["X"], t["Y"].to(bad), t["W1"], t["b1"], t["W2"], t["b2"])
        # the dtype that came, as a word ("float16" must not match inside "bfloat16")
        assert re.search(rf"\b{name_of(bad)}\b", str(error.value)), str(error.value)


@pytest.mark.parametrize("low", LOWS, ids=name_of)
def test_low_precision_Y_of_a_float32_network_is_refused(low):
    # float32 Y is allowed for a low-precision network only, not the other way round.
    t = low_inputs(F32)
    with pytest.raises(RuntimeError, match="Y"):
        twolayer.loss(t["X"], t["Y"].to(low), t["W1"], t["b1"], t["W2"], t["b2"])


@needs_no_float16
def test_float16_is_refused_before_pytorch_2_with_what_to_use():
    t = low_inputs(F16)
    calls = {
        "loss": lambda: twolayer.loss(t["X"], t["Y"], t["W1"], t["b1"], t["W2"], t["b2"]),
        "forward": lambda: twolayer.forward(t["X"], t["W1"], t["b1"], t["W2"], t["b2"]),
        "fit_": lambda: twolayer.fit_(t["W1"].clone(), t["b1"].clone(), t["W2"].clone(),
                                      t["b2"].clone(), t["X"], t["Y"], 2, 0.1),
    }
    for what, call in calls.items():
        with pytest.raises(RuntimeError) as error:
            call()
        message = str(error.value)
        for word in ("float16", TORCH_MINOR, "bfloat16", "float32"):
            assert word in message, f"{what}: {word!r} not in {message!r}"


# ---------------------------------------------------------------------------------------------
# Accuracy on every CPU path, activation and output layer
# ---------------------------------------------------------------------------------------------

ACCURACY_SAMPLES = samples(per_path=True, dtypes=(F64,))


def grad_of_J(seed, low):
    return exact_in(random_scalar(seed), low)


@pytest.mark.parametrize("low", LOWS, ids=name_of)
@pytest.mark.parametrize("sample", ACCURACY_SAMPLES, ids=sample_id)
def test_loss_and_gradients_as_accurate_as_eager(sample, low):
    t64 = sample.inputs("low-precision-loss")
    t = {k: v.to(low) for k, v in t64.items()}
    ref_in = {k: v.to(F64) for k, v in t.items()}   # the same rounded numbers, in float64
    act, out = sample.activation, sample.output
    g = grad_of_J(seed_for(sample.id, "J"), low)
    J, grads = run(twolayer_loss, t, LOSS_INPUTS, g, act, out)
    J_eager, grads_eager = run(eager_loss, t, LOSS_INPUTS, g, act, out)
    J_ref, grads_ref = run(reference_loss, ref_in, LOSS_INPUTS, g, act, out)
    assert J.dtype == F32
    within_eager("J", J, J_eager, J_ref, low)
    for name in LOSS_INPUTS:
        assert grads[name].dtype == low, name
        within_eager(f"d{name}", grads[name], grads_eager[name], grads_ref[name], low)


@pytest.mark.parametrize("low", LOWS, ids=name_of)
@pytest.mark.parametrize("sample", ACCURACY_SAMPLES, ids=sample_id)
def test_forward_and_gradients_as_accurate_as_eager(sample, low):
    t64 = sample.inputs("low-precision-forward")
    t = {k: v.to(low) for k, v in t64.items()}
    ref_in = {k: v.to(F64) for k, v in t.items()}
    act, out = sample.activation, sample.output
    m, n2 = sample.shape[0], sample.shape[3]
    g = exact_in(random_like((m, n2), seed_for(sample.id, "A2")), low)
    A2, grads = run(twolayer_forward, t, FORWARD_INPUTS, g, act, out)
    A2_eager, grads_eager = run(reference_forward, t, FORWARD_INPUTS, g, act, out)
    A2_ref, grads_ref = run(reference_forward, ref_in, FORWARD_INPUTS, g, act, out)
    assert A2.dtype == low
    within_eager("A2", A2, A2_eager, A2_ref, low)
    for name in FORWARD_INPUTS:
        assert grads[name].dtype == low, name
        within_eager(f"d{name}", grads[name], grads_eager[name], grads_ref[name], low)


@pytest.mark.parametrize("low", LOWS, ids=name_of)
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("path_shape", CPU_PATH_SHAPES, ids=lambda e: e[0])
def test_float32_Y_keeps_its_digits(path_shape, output, low):
    # Y float32 with a low-precision network: compared with a reference that uses the float32
    # Y itself. Eager (which needs Y in p) is measured on Y rounded to p against the reference of
    # the rounded Y: the error of the network alone.
    seed = seed_for("float32-Y", path_shape, output)
    t64 = targets_for(output, make_inputs(*path_shape[1], dtype=F64, seed=seed), seed)
    t = {k: v.to(low) for k, v in t64.items()}
    t["Y"] = t64["Y"].to(F32)
    g = grad_of_J(seed, low)
    J, grads = run(twolayer_loss, t, LOSS_INPUTS, g, "tanh", output)
    J_ref, grads_ref = run(reference_loss, {k: v.to(F64) for k, v in t.items()}, LOSS_INPUTS, g,
                           "tanh", output)
    t_low = {**t, "Y": t["Y"].to(low)}
    J_eager, grads_eager = run(eager_loss, t_low, LOSS_INPUTS, g, "tanh", output)
    J_eref, grads_eref = run(reference_loss, {k: v.to(F64) for k, v in t_low.items()},
                             LOSS_INPUTS, g, "tanh", output)
    assert J.dtype == F32 and grads["Y"].dtype == F32
    bound = 2 * rel_err(J_eager, J_eref) + unit_roundoff(low)
    assert rel_err(J, J_ref) <= bound, ("J", rel_err(J, J_ref), bound)
    for name in LOSS_INPUTS:
        bound = 2 * rel_err(grads_eager[name], grads_eref[name]) + unit_roundoff(low)
        assert rel_err(grads[name], grads_ref[name]) <= bound, (name, rel_err(grads[name],
                                                                              grads_ref[name]))


# ---------------------------------------------------------------------------------------------
# 2, 3. Autocast: accuracy, and the products really run in the autocast dtype
# ---------------------------------------------------------------------------------------------

def autocast_lows():
    """The CPU autocast dtypes of this torch: bfloat16 everywhere, float16 from 2.x on."""
    return LOWS


def autocast(low):
    return torch.autocast("cpu", dtype=low)


def run_autocast(fn, tensors, names, grad_out, activation, output, low):
    with autocast(low):
        return run(fn, tensors, names, grad_out, activation, output)


def autocast_reference_inputs(t32, low):
    """What autocast hands the operators: X, W1, b1, W2, b2 rounded to low, Y in float32; in
    float64 for the reference (the gradient through a cast is the identity)."""
    return {k: (v if k == "Y" else v.to(low)).to(F64) for k, v in t32.items()}


@pytest.mark.parametrize("low", autocast_lows(), ids=name_of)
@pytest.mark.parametrize("sample", ACCURACY_SAMPLES, ids=sample_id)
def test_autocast_loss_and_gradients_as_accurate_as_eager_autocast(sample, low):
    t32 = {k: v.to(F32) for k, v in sample.inputs("low-precision-autocast").items()}
    act, out = sample.activation, sample.output
    g = grad_of_J(seed_for(sample.id, "autocast"), low)
    J, grads = run_autocast(twolayer_loss, t32, LOSS_INPUTS, g, act, out, low)
    J_eager, grads_eager = run_autocast(reference_loss, t32, LOSS_INPUTS, g, act, out, low)
    J_ref, grads_ref = run(reference_loss, autocast_reference_inputs(t32, low), LOSS_INPUTS, g,
                           act, out)
    assert J.dtype == F32
    within_eager("J", J, J_eager, J_ref, low)
    for name in LOSS_INPUTS:
        assert grads[name].dtype == F32, name   # float32 leaves get float32 gradients
        within_eager(f"d{name}", grads[name], grads_eager[name], grads_ref[name], low)


def autocast_case(seed=11, n2=1):
    # The batch row of helpers.SHAPES: 64 examples, so that X alone has 640 numbers that
    # bfloat16 rounds.
    return {k: v.to(F32) for k, v in make_inputs(64, 10, 16, n2, dtype=F64, seed=seed).items()}


# What float32 rounding can move on this network, with room: twolayer's float32 J is within
# ~3e-8 of float64 here and its gradients within ~3e-7 (the test checks it stays 10 times under
# these). bfloat16 products move J by ~1e-4 to 1e-3 and the gradients by ~3e-3; float16 (11
# bits) moves J by 2e-6 to 8e-5 (the mean over 64 examples averages the roundings) and the
# gradients by ~2e-4.
FLOAT32_NOISE_J = 1e-6
FLOAT32_NOISE = 2e-5


@pytest.mark.parametrize("low", autocast_lows(), ids=name_of)
def test_autocast_products_run_in_the_autocast_dtype(low):
    t = autocast_case()
    g = torch.tensor(1.0)
    J32, grads32 = run(twolayer_loss, t, LOSS_INPUTS, g, "tanh", "sigmoid")
    J, grads = run_autocast(twolayer_loss, t, LOSS_INPUTS, g, "tanh", "sigmoid", low)
    J_eager, grads_eager = run_autocast(reference_loss, t, LOSS_INPUTS, g, "tanh", "sigmoid", low)
    J64, grads64 = run(reference_loss, {k: v.to(F64) for k, v in t.items()}, LOSS_INPUTS,
                       g.to(F64), "tanh", "sigmoid")
    # the thresholds are well above what float32 itself gets wrong here
    assert rel_err(J32, J64) < FLOAT32_NOISE_J / 10
    assert all(rel_err(grads32[k], grads64[k]) < FLOAT32_NOISE / 10 for k in LOSS_INPUTS)
    assert J.dtype == F32
    assert rel_err(J, J32) > FLOAT32_NOISE_J, (
        f"J under autocast {rel_err(J, J32):.3g} from float32's: not computed in {low}")
    for name in LOSS_INPUTS:
        assert rel_err(grads[name], grads32[name]) > FLOAT32_NOISE, name
    eps = torch.finfo(low).eps
    assert rel_err(J, J_eager) <= eps, f"J {rel_err(J, J_eager):.3g} from eager autocast's"
    for name in LOSS_INPUTS:
        assert grads[name].dtype == F32, name
        assert rel_err(grads[name], grads_eager[name]) <= 2 * eps, name


@pytest.mark.parametrize("low", autocast_lows(), ids=name_of)
@pytest.mark.parametrize("output", OUTPUTS)
def test_autocast_forward_returns_the_autocast_dtype(low, output):
    t = targets_for(output, autocast_case(12, n2=3), 12)   # 3 outputs: softmax is not 1
    with autocast(low):
        A2 = twolayer.forward(t["X"], t["W1"], t["b1"], t["W2"], t["b2"], "tanh", output)
        A2_eager = reference_forward(t["X"], t["W1"], t["b1"], t["W2"], t["b2"], "tanh", output)
        Z2 = ops._logits(t["X"], t["W1"], t["b1"], t["W2"], t["b2"], "tanh")
    assert A2.dtype == low
    assert Z2.dtype in (low, F32)   # _logits is not public: autocast may or may not reach it
    A2_32 = twolayer.forward(t["X"], t["W1"], t["b1"], t["W2"], t["b2"], "tanh", output)
    assert rel_err(A2, A2_32) > FLOAT32_NOISE
    assert rel_err(A2, A2_eager.to(low)) <= 2 * torch.finfo(low).eps


@pytest.mark.parametrize("low", autocast_lows(), ids=name_of)
def test_autocast_leaves_float64_in_float64(low):
    t = make_inputs(9, 3, 5, 2, dtype=F64, seed=13)
    g = torch.tensor(0.75, dtype=F64)
    J, grads = run_autocast(twolayer_loss, t, LOSS_INPUTS, g, "tanh", "sigmoid", low)
    J_out, grads_out = run(twolayer_loss, t, LOSS_INPUTS, g, "tanh", "sigmoid")
    assert J.dtype == F64
    torch.testing.assert_close(J, J_out, rtol=0, atol=0)
    for name in LOSS_INPUTS:
        assert grads[name].dtype == F64
        torch.testing.assert_close(grads[name], grads_out[name], rtol=0, atol=0)
    with autocast(low):
        A2 = twolayer.forward(t["X"], t["W1"], t["b1"], t["W2"], t["b2"])
    assert A2.dtype == F64
    torch.testing.assert_close(A2, twolayer.forward(t["X"], t["W1"], t["b1"], t["W2"], t["b2"]),
                               rtol=0, atol=0)
    # and the float64 reference agrees: autocast did not round anything
    assert rel_err(J, reference_loss(*(t[k] for k in LOSS_INPUTS))) < 1e-10


# ---------------------------------------------------------------------------------------------
# Double backward
# ---------------------------------------------------------------------------------------------

DOUBLE_BACKWARD_SAMPLES = samples(shapes=("lecture", "3_outputs", "batch"), dtypes=(F64,))


def double_backward(loss_fn, t, activation, output, weights):
    """The gradients of J (create_graph=True) and the gradients of sum_i <weights_i, grad_i>."""
    leaves = {k: v.detach().clone().requires_grad_(True) for k, v in t.items()}
    wrt = [leaves[k] for k in LOSS_INPUTS]
    J = loss_fn(*wrt, activation, output)
    first = torch.autograd.grad(J, wrt, create_graph=True)
    s = sum((g.to(F64) * w).sum() for g, w in zip(first, weights))
    second = torch.autograd.grad(s, wrt, allow_unused=True)
    return [g.detach() for g in first], second


@pytest.mark.parametrize("low", LOWS, ids=name_of)
@pytest.mark.parametrize("sample", DOUBLE_BACKWARD_SAMPLES, ids=sample_id)
def test_double_backward_as_accurate_as_eager(sample, low):
    t = {k: v.to(low) for k, v in sample.inputs("low-precision-double").items()}
    ref_in = {k: v.to(F64) for k, v in t.items()}
    weights = [exact_in(random_like(t[k].shape, seed_for(sample.id, k)), low)
               for k in LOSS_INPUTS]
    act, out = sample.activation, sample.output
    first, second = double_backward(twolayer_loss, t, act, out, weights)
    first_e, second_e = double_backward(eager_loss, t, act, out, weights)
    first_r, second_r = double_backward(reference_loss, ref_in, act, out, weights)
    for name, g, g_e, g_r in zip(LOSS_INPUTS, first, first_e, first_r):
        assert g.dtype == low, name
        within_eager(f"d{name}", g, g_e, g_r, low)
    for name, g, g_e, g_r in zip(LOSS_INPUTS, second, second_e, second_r):
        if g_r is None or not g_r.abs().max() > 0:
            assert g is None or not g.abs().max() > 0, f"second-order d{name} should be 0"
            continue
        assert g is not None, f"second-order d{name} missing"
        assert g.dtype == t[name].dtype, name
        # Loosely, as the contract promises no more: a second derivative sums products of first
        # derivatives that are each rounded to p (A1, Z2, dZ2, dZ1 by the contract), of either
        # sign, so its relative error can reach several roundings where eager's cancels by
        # luck. 16 unit roundoffs (6 % in bfloat16) still fail a wrong term, which is O(1).
        within_eager(f"second-order d{name}", g, g_e if g_e is not None else torch.zeros_like(g_r),
                     g_r, low, factor=2.0, floor_units=16.0)


# ---------------------------------------------------------------------------------------------
# PyTorch 2.x: opcheck and torch.compile in low precision
# ---------------------------------------------------------------------------------------------

# Two small networks, every output layer, a smooth and a kinked activation: the dtype handling
# is the same code for the others (test_torch2.py runs opcheck on all of them in float32/64).
OPCHECK_SAMPLES = samples(shapes=("lecture", "3_outputs"), activations=("tanh", "relu"),
                          dtypes=(F64,))
GRAD_PATTERNS = {"none": (), "parameters": PARAMS, "all": LOSS_INPUTS}


def assert_opcheck(op, args):
    results = torch.library.opcheck(op, args)
    assert results and all(v == "SUCCESS" for v in results.values()), (op, results)


@needs_opcheck
@pytest.mark.parametrize("pattern", GRAD_PATTERNS)
@pytest.mark.parametrize("low", LOWS, ids=name_of)
@pytest.mark.parametrize("sample", OPCHECK_SAMPLES, ids=sample_id)
def test_opcheck_loss_and_forward_in_low_precision(sample, low, pattern):
    t = {k: v.to(low) for k, v in sample.inputs("low-precision-opcheck").items()}
    for name in GRAD_PATTERNS[pattern]:
        t[name].requires_grad_(True)
    act, out = sample.activation, sample.output
    assert_opcheck(ops.loss.default, tuple(t[k] for k in LOSS_INPUTS) + (act, out))
    assert_opcheck(ops.forward.default, tuple(t[k] for k in FORWARD_INPUTS) + (act, out))
    if pattern == "none":
        t["Y"] = t["Y"].to(F32)   # float32 labels of a low-precision network
        assert_opcheck(ops.loss.default, tuple(t[k] for k in LOSS_INPUTS) + (act, out))
        params = [t[k].clone() for k in PARAMS]
        assert_opcheck(ops.fit_.default, (*params, t["X"], t["Y"], 3, 0.5, act, out))


@needs_opcheck
@pytest.mark.parametrize("low", LOWS, ids=name_of)
@pytest.mark.parametrize("sample", samples(per_path=True, activations=("tanh", "relu"),
                                           outputs=("sigmoid",), dtypes=(F64,)), ids=sample_id)
def test_opcheck_private_operators_in_low_precision(sample, low):
    t = {k: v.to(low) for k, v in sample.inputs("low-precision-private").items()}
    X, Y, W1, b1, W2, b2 = (t[k] for k in LOSS_INPUTS)
    act = sample.activation
    J, A1, Z2 = ops._loss_with_cache(X, Y, W1, b1, W2, b2, act)
    assert J.dtype == F32 and A1.dtype == low and Z2.dtype == low   # the cache is kept in p
    A2, A1_f = ops._forward_with_cache(X, W1, b1, W2, b2, act)
    assert A2.dtype == low and A1_f.dtype == low
    grad_J = torch.tensor(0.75, dtype=F32)   # J's own dtype
    grad_A2 = torch.linspace(-1, 1, A2.numel()).reshape(A2.shape).to(low)
    cases = [(ops._loss_with_cache.default, (X, Y, W1, b1, W2, b2, act)),
             (ops._loss_with_cache.default, (X, Y.to(F32), W1, b1, W2, b2, act)),
             (ops._forward_with_cache.default, (X, W1, b1, W2, b2, act)),
             (ops._logits.default, (X, W1, b1, W2, b2, act))]
    for mask in ([True] * 6, [False, True, True, True, True, False]):
        cases.append((ops._loss_backward.default, (grad_J, X, Y, W1, W2, A1, Z2, act, mask)))
    for mask in ([True] * 5, [False, True, False, True, False]):
        cases.append((ops._backward_of_forward.default,
                      (grad_A2, X, W1, W2, A1_f, A2, act, mask)))
    for op, args in cases:
        assert_opcheck(op, args)


def compiled_step(X, Y, W1, b1, W2, b2):
    J = twolayer.loss(X, Y, W1, b1, W2, b2, "tanh", "sigmoid")
    A2 = twolayer.forward(X, W1, b1, W2, b2, "tanh", "sigmoid")
    return J, A2


@needs_compile
@pytest.mark.parametrize("low", LOWS, ids=name_of)
def test_compiled_loss_and_backward_give_the_eager_operator_result(low):
    torch._dynamo.reset()
    compiled = torch.compile(compiled_step, fullgraph=True)
    t = low_inputs(low, shape=(13, 3, 6, 2), seed=21)
    results = []
    for step in (compiled, compiled_step):
        leaves = [t[k].clone().requires_grad_(k != "Y") for k in LOSS_INPUTS]
        J, A2 = step(*leaves)
        grads = torch.autograd.grad(J + (A2.float() ** 2).sum() * 0.25,
                                    [leaves[0]] + leaves[2:])
        results.append((J.detach(), A2.detach(), grads))
    (J, A2, grads), (J_e, A2_e, grads_e) = results
    assert J.dtype == F32 and A2.dtype == low
    # The operators are opaque to the compiler: the same kernels run, the same numbers come.
    torch.testing.assert_close(J, J_e, rtol=0, atol=0)
    torch.testing.assert_close(A2, A2_e, rtol=0, atol=0)
    for g, g_e in zip(grads, grads_e):
        assert g.dtype == low
        torch.testing.assert_close(g, g_e, rtol=0, atol=0)
