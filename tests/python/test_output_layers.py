"""The output layers softmax and identity beside sigmoid, through the operators themselves.

On every CPU path (conftest.CPU_PATH_SHAPES) and activation: the cost, the probabilities and
every gradient against the reference network in stock PyTorch (F.cross_entropy with probability
targets, a squared error), float64 tight and float32 loose; finite differences and double
backward; fit_ against a manual loop; forward-mode AD; Meta shapes; targets that are not
distributions; the names refused; and TorchScript files saved before the output argument
existed, which must keep their meaning."""
import functools
import os

import pytest
import torch
from torch.autograd import gradcheck, gradgradcheck

import twolayer  # noqa: F401  (registers torch.ops.twolayer)
from helpers import (ACTIVATIONS, CPU_PATH_SHAPES, TOLERANCE, assert_close_rel,
                      assert_grads_match, cpu_path_id, forward_and_grads, loss_and_grads,
                      make_inputs, make_inputs_off_kink, manual_descent, random_like,
                      random_scalar, seed_for, targets_for)
from reference import reference_cost, reference_forward, reference_logits, reference_loss

ops = torch.ops.twolayer
OUTPUTS = ("sigmoid", "softmax", "identity")
NEW_OUTPUTS = ("softmax", "identity")
DTYPES = [torch.float64, torch.float32]
FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def twolayer_loss(output):
    return lambda X, Y, W1, b1, W2, b2, act: ops.loss(X, Y, W1, b1, W2, b2, act, output)


def twolayer_forward(output):
    return lambda X, W1, b1, W2, b2, act: ops.forward(X, W1, b1, W2, b2, act, output=output)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("entry", CPU_PATH_SHAPES, ids=cpu_path_id)
@pytest.mark.parametrize("output", OUTPUTS)
def test_loss_and_its_gradients_match_autograd(output, entry, dtype):
    _, shape = entry
    for activation in ACTIVATIONS:
        seed = seed_for("outputs-loss", output, activation, shape)
        inputs = targets_for(output, make_inputs(*shape, dtype=dtype, seed=seed), seed)
        g = random_scalar(seed, dtype)
        J, grads = loss_and_grads(twolayer_loss(output), inputs, activation, g)
        ref_J, ref = loss_and_grads(functools.partial(reference_loss, output=output), inputs,
                                    activation, g)
        assert_close_rel(J, ref_J, TOLERANCE[dtype], f"J {output} {activation}")
        assert_grads_match(grads, ref, TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("entry", CPU_PATH_SHAPES, ids=cpu_path_id)
@pytest.mark.parametrize("output", OUTPUTS)
def test_forward_and_its_gradients_match_autograd(output, entry, dtype):
    _, shape = entry
    m, _, _, n2 = shape
    for activation in ACTIVATIONS:
        seed = seed_for("outputs-forward", output, activation, shape)
        inputs = make_inputs(*shape, dtype=dtype, seed=seed)
        grad_A2 = random_like((m, n2), seed, dtype)
        A2, grads = forward_and_grads(twolayer_forward(output), inputs, activation, grad_A2)
        ref_A2, ref = forward_and_grads(functools.partial(reference_forward, output=output),
                                        inputs, activation, grad_A2)
        assert_close_rel(A2, ref_A2, TOLERANCE[dtype], f"A2 {output} {activation}")
        assert_grads_match(grads, ref, TOLERANCE[dtype])
        with torch.no_grad():  # the kernels' own inference path, which keeps no cache
            inference = ops.forward(inputs["X"], inputs["W1"], inputs["b1"], inputs["W2"],
                                    inputs["b2"], activation, output)
        assert_close_rel(inference, ref_A2, TOLERANCE[dtype], f"no_grad A2 {output}")


@pytest.mark.parametrize("entry", CPU_PATH_SHAPES, ids=cpu_path_id)
def test_softmax_rows_sum_to_one_and_identity_is_the_logits(entry):
    _, shape = entry
    t = make_inputs(*shape, seed=5)
    args = (t["X"], t["W1"], t["b1"], t["W2"], t["b2"], "tanh")
    A2 = ops.forward(*args, output="softmax")
    assert torch.allclose(A2.sum(1), torch.ones(shape[0], dtype=A2.dtype), rtol=0, atol=1e-12)
    assert torch.allclose(ops.forward(*args, output="identity"), reference_logits(*args),
                          rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("entry", CPU_PATH_SHAPES, ids=cpu_path_id)
def test_softmax_gradients_hold_for_targets_that_are_not_distributions(entry):
    # dZ2 = A2 - Y only when each row of Y sums to 1; for other rows the kernels must still
    # give the true gradient, A2 * sum(Y) - Y.
    _, shape = entry
    seed = seed_for("softmax-any-Y", shape)
    inputs = targets_for("softmax", make_inputs(*shape, seed=seed), seed, distributions=False)
    assert (inputs["Y"].sum(1) - 1).abs().min() > 1e-3
    g = random_scalar(seed)
    J, grads = loss_and_grads(twolayer_loss("softmax"), inputs, "relu", g)
    ref_J, ref = loss_and_grads(functools.partial(reference_loss, output="softmax"), inputs,
                                "relu", g)
    assert_close_rel(J, ref_J, 1e-10, "J")
    assert_grads_match(grads, ref, 1e-10)


def test_softmax_cost_is_cross_entropy_of_class_indices():
    # One-hot rows of Y: J is F.cross_entropy of the class indices, the multi-class cost users
    # know.
    t = make_inputs(40, 5, 8, 4, seed=2)
    classes = torch.randint(0, 4, (40,), generator=torch.Generator().manual_seed(0))
    Y = torch.nn.functional.one_hot(classes, 4).double()
    J = ops.loss(t["X"], Y, t["W1"], t["b1"], t["W2"], t["b2"], "tanh", "softmax")
    Z2 = reference_logits(t["X"], t["W1"], t["b1"], t["W2"], t["b2"], "tanh")
    assert torch.allclose(J, torch.nn.functional.cross_entropy(Z2, classes), rtol=1e-12)


@pytest.mark.parametrize("output", NEW_OUTPUTS)
# The small net and the row passes with either output regime (the whole-batch schedule runs the
# same kernels, and has too many weights for finite differences).
@pytest.mark.parametrize("shape", [(5, 3, 4, 3), (6, 4, 20, 3), (6, 4, 20, 5)],
                         ids=lambda s: "x".join(map(str, s)))
def test_finite_differences_and_double_backward(output, shape):
    for activation in ("tanh", "relu"):
        seed = seed_for("outputs-gradcheck", output, activation, shape)
        t = targets_for(output, make_inputs_off_kink(*shape, seed=seed), seed)
        args = tuple(t[k].clone().requires_grad_(True)
                     for k in ("X", "Y", "W1", "b1", "W2", "b2"))
        loss = lambda *a: ops.loss(*a, activation, output)  # noqa: E731
        assert gradcheck(loss, args)
        assert gradgradcheck(loss, args)
        forward_args = (args[0],) + args[2:]
        forward = lambda *a: ops.forward(*a, activation, output)  # noqa: E731
        assert gradcheck(forward, forward_args)
        assert gradgradcheck(forward, forward_args)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("entry", CPU_PATH_SHAPES, ids=cpu_path_id)
@pytest.mark.parametrize("output", NEW_OUTPUTS)
def test_fit_matches_a_manual_loop(output, entry, dtype):
    _, shape = entry
    seed = seed_for("outputs-fit", output, shape)
    t = targets_for(output, make_inputs(*shape, dtype=dtype, seed=seed), seed)
    params = [t[k].clone() for k in ("W1", "b1", "W2", "b2")]
    costs = ops.fit_(*params, t["X"], t["Y"], 4, 0.1, "tanh", output)
    ref_params, ref_costs = manual_descent(functools.partial(reference_loss, output=output),
                                           t["X"], t["Y"],
                                           [t[k] for k in ("W1", "b1", "W2", "b2")], "tanh", 4,
                                           0.1)
    tol = 100 * TOLERANCE[dtype]
    assert_close_rel(costs, torch.tensor(ref_costs, dtype=dtype), tol, "costs")
    for p, r, name in zip(params, ref_params, ("W1", "b1", "W2", "b2")):
        assert_close_rel(p, r, tol, name)


@pytest.mark.parametrize("output", NEW_OUTPUTS)
def test_forward_mode_tangents_match_autograd(output):
    fwAD = torch.autograd.forward_ad
    seed = seed_for("outputs-jvp", output)
    t = targets_for(output, make_inputs(9, 3, 6, 4, seed=seed), seed)
    names = ("X", "Y", "W1", "b1", "W2", "b2")
    tangents = {k: random_like(t[k].shape, seed + i) for i, k in enumerate(names)}
    with fwAD.dual_level():
        duals = [fwAD.make_dual(t[k], tangents[k]) for k in names]
        J_tangent = fwAD.unpack_dual(ops.loss(*duals, "tanh", output)).tangent
        forward_duals = [duals[0]] + duals[2:]
        A2_tangent = fwAD.unpack_dual(ops.forward(*forward_duals, "tanh", output)).tangent
    # The same directional derivatives from the reference through reverse mode.
    leaves = [t[k].clone().requires_grad_(True) for k in names]
    grads = torch.autograd.grad(reference_loss(*leaves, "tanh", output), leaves)
    expected_J = sum((g * tangents[k]).sum() for g, k in zip(grads, names))
    assert_close_rel(J_tangent, expected_J, 1e-10, "J tangent")
    _, expected_A2 = torch.autograd.functional.jvp(
        lambda *a: reference_forward(*a, "tanh", output),
        tuple(t[k] for k in ("X", "W1", "b1", "W2", "b2")),
        tuple(tangents[k] for k in ("X", "W1", "b1", "W2", "b2")))
    assert_close_rel(A2_tangent, expected_A2, 1e-10, "A2 tangent")


@pytest.mark.parametrize("output", NEW_OUTPUTS)
def test_meta_tensors_get_the_shapes(output):
    t = {k: v.to("meta") for k, v in make_inputs(6, 3, 5, 4).items()}
    J = ops.loss(t["X"], t["Y"], t["W1"], t["b1"], t["W2"], t["b2"], "tanh", output)
    A2 = ops.forward(t["X"], t["W1"], t["b1"], t["W2"], t["b2"], "tanh", output)
    assert (J.device.type, J.shape, A2.shape) == ("meta", torch.Size([]), torch.Size([6, 4]))


@pytest.mark.parametrize("output", NEW_OUTPUTS)
def test_autocast_runs_the_output_layer_too(output):
    seed = seed_for("outputs-autocast", output)
    t = targets_for(output, make_inputs(30, 4, 16, 3, dtype=torch.float32, seed=seed), seed)
    args = (t["X"], t["Y"], t["W1"], t["b1"], t["W2"], t["b2"], "tanh")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        J = ops.loss(*args, output)
    # The products run in bfloat16 (8 bits), the output layer and the cost in float32.
    assert J.dtype == torch.float32
    assert_close_rel(J, reference_loss(*args, output), 3e-2, "J under autocast")


def test_unknown_output_layers_are_refused_with_the_valid_names():
    t = make_inputs(5, 2, 4, 1)
    args = (t["X"], t["Y"], t["W1"], t["b1"], t["W2"], t["b2"], "tanh")
    message = ("twolayer: unknown output layer 'logistic'; expected one of sigmoid (binary or "
               "multi-label), softmax (multi-class), identity (regression)")
    for call in (lambda: ops.loss(*args, "logistic"),
                 lambda: ops.forward(t["X"], t["W1"], t["b1"], t["W2"], t["b2"], "tanh",
                                     "logistic"),
                 lambda: ops.fit_(t["W1"].clone(), t["b1"].clone(), t["W2"].clone(),
                                  t["b2"].clone(), t["X"], t["Y"], 1, 0.1, "tanh", "logistic")):
        with pytest.raises(RuntimeError) as error:
            call()
        assert message in str(error.value)


def test_a_refused_fit_leaves_the_parameters_alone():
    t = make_inputs(5, 2, 4, 1)
    params = [t[k].clone() for k in ("W1", "b1", "W2", "b2")]
    with pytest.raises(RuntimeError, match="unknown output layer"):
        ops.fit_(*params, t["X"], t["Y"], 3, 0.1, "tanh", "softmax ")
    for p, k in zip(params, ("W1", "b1", "W2", "b2")):
        assert torch.equal(p, t[k])


def test_scripted_models_saved_before_the_output_argument_keep_their_meaning():
    # Saved by the version before output layers existed: their calls name no output, so they
    # are sigmoid networks.
    model = torch.jit.load(os.path.join(FIXTURES, "ops_before_output_layers.pt"))
    t = make_inputs(11, 3, 5, 2, seed=8)
    args = (t["X"], t["Y"], t["W1"], t["b1"], t["W2"], t["b2"])
    J, A2, costs, *params = model(*args)
    assert_close_rel(J, reference_loss(*args, "relu"), 1e-12, "J")
    assert_close_rel(A2, reference_forward(t["X"], *args[2:], "relu"), 1e-12, "A2")
    ref_params, ref_costs = manual_descent(reference_loss, t["X"], t["Y"], list(args[2:]), "relu",
                                           3, 0.5)
    assert_close_rel(costs, torch.tensor(ref_costs, dtype=torch.float64), 1e-10, "costs")
    for p, r in zip(params, ref_params):
        assert_close_rel(p, r, 1e-10, "parameters")


def test_a_scripted_net_saved_before_the_output_argument_is_a_sigmoid_net():
    net = torch.jit.load(os.path.join(FIXTURES, "net_before_output_layers.pt"))
    p = dict(net.named_parameters())
    X = make_inputs(12, 3, 5, 2, seed=9)["X"]
    expected = reference_forward(X, p["W1"], p["b1"], p["W2"], p["b2"], "leaky_relu")
    assert_close_rel(net(X), expected.detach(), 1e-12, "A2")


needs_opcheck = pytest.mark.skipif(not hasattr(torch.library, "opcheck"),
                                   reason=f"torch {torch.__version__} has no torch.library.opcheck")
needs_func = pytest.mark.skipif(not hasattr(torch, "func"),
                                reason=f"torch {torch.__version__} has no torch.func")


@needs_opcheck
@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("entry", CPU_PATH_SHAPES[:4], ids=cpu_path_id)
@pytest.mark.parametrize("output", NEW_OUTPUTS)
def test_opcheck(output, entry, dtype):
    _, shape = entry
    seed = seed_for("outputs-opcheck", output, shape)
    t = targets_for(output, make_inputs(*shape, dtype=dtype, seed=seed), seed)
    for name in ("X", "W1", "b1", "W2", "b2"):
        t[name].requires_grad_(True)
    loss_args = (t["X"], t["Y"], t["W1"], t["b1"], t["W2"], t["b2"], "tanh", output)
    forward_args = (t["X"], t["W1"], t["b1"], t["W2"], t["b2"], "relu", output)
    fit_args = tuple(t[k].detach().clone() for k in ("W1", "b1", "W2", "b2")) + (
        t["X"].detach(), t["Y"], 2, 0.3, "tanh", output)
    for op, args in ((ops.loss.default, loss_args), (ops.forward.default, forward_args),
                     (ops.fit_.default, fit_args)):
        results = torch.library.opcheck(op, args)
        assert results and all(v == "SUCCESS" for v in results.values()), (op, results)


@needs_func
@pytest.mark.parametrize("output", NEW_OUTPUTS)
def test_func_grad_equals_autograd(output):
    seed = seed_for("outputs-func", output)
    t = targets_for(output, make_inputs(6, 2, 4, 3, seed=seed), seed)
    X, Y = t["X"], t["Y"]

    def cost(W1, b1, W2, b2):
        return ops.loss(X, Y, W1, b1, W2, b2, "tanh", output)

    params = [t[k] for k in ("W1", "b1", "W2", "b2")]
    grads = torch.func.grad(cost, argnums=(0, 1, 2, 3))(*params)
    leaves = [p.clone().requires_grad_(True) for p in params]
    expected = torch.autograd.grad(reference_loss(X, Y, *leaves, "tanh", output), leaves)
    for g, e in zip(grads, expected):
        torch.testing.assert_close(g, e, rtol=1e-10, atol=1e-12)
