"""TorchScript: scripted functions and modules calling torch.ops.twolayer give exactly what eager
calls give, also after torch.jit.save / torch.jit.load."""
import re

import pytest
import torch

import twolayer
from helpers import (ACTIVATIONS, LOSS_INPUTS, SAMPLES, forward_and_grads, loss_and_grads,
                     make_inputs, random_like, random_scalar, sample_id, targets_for)


def loss_fn(X: torch.Tensor, Y: torch.Tensor, W1: torch.Tensor, b1: torch.Tensor,
            W2: torch.Tensor, b2: torch.Tensor, activation: str,
            output: str = "sigmoid") -> torch.Tensor:
    return torch.ops.twolayer.loss(X, Y, W1, b1, W2, b2, activation, output)


def forward_fn(X: torch.Tensor, W1: torch.Tensor, b1: torch.Tensor, W2: torch.Tensor,
               b2: torch.Tensor, activation: str, output: str = "sigmoid") -> torch.Tensor:
    return torch.ops.twolayer.forward(X, W1, b1, W2, b2, activation, output)


def loss_default_fn(X: torch.Tensor, Y: torch.Tensor, W1: torch.Tensor, b1: torch.Tensor,
                    W2: torch.Tensor, b2: torch.Tensor) -> torch.Tensor:
    # No activation argument: the schema's default ("tanh") must apply in TorchScript too.
    return torch.ops.twolayer.loss(X, Y, W1, b1, W2, b2)


class Network(torch.nn.Module):
    """Both operators in one module; the activation is an attribute, as TwoLayerNet keeps it."""

    activation: str

    def __init__(self, activation: str):
        super().__init__()
        self.activation = activation

    def forward(self, X: torch.Tensor, Y: torch.Tensor, W1: torch.Tensor, b1: torch.Tensor,
                W2: torch.Tensor, b2: torch.Tensor) -> torch.Tensor:
        return torch.ops.twolayer.loss(X, Y, W1, b1, W2, b2, self.activation)

    @torch.jit.export
    def probabilities(self, X: torch.Tensor, W1: torch.Tensor, b1: torch.Tensor,
                      W2: torch.Tensor, b2: torch.Tensor) -> torch.Tensor:
        return torch.ops.twolayer.forward(X, W1, b1, W2, b2, self.activation)


def _assert_identical(result, expected):
    (out, grads), (out_e, grads_e) = result, expected
    # The same kernels run in both cases: bitwise equality, not a tolerance.
    assert torch.equal(out, out_e)
    for k in grads_e:
        assert (grads[k] is None) == (grads_e[k] is None), k
        if grads_e[k] is not None:
            assert torch.equal(grads[k], grads_e[k]), f"d{k}"


def _loss_case(activation, dtype=torch.float64, shape=(7, 3, 5, 2)):
    inputs = make_inputs(*shape, dtype=dtype, seed=31)
    return inputs, random_scalar(31, dtype)


def _forward_case(activation, dtype=torch.float64, shape=(7, 3, 5, 2)):
    inputs = make_inputs(*shape, dtype=dtype, seed=32)
    del inputs["Y"]
    return inputs, random_like((shape[0], shape[3]), 32, dtype)


# Every sample of helpers.SAMPLES: whatever CPU path the eager call takes, the scripted call
# takes the same one.
@pytest.mark.parametrize("sample", SAMPLES, ids=sample_id)
def test_scripted_functions_match_eager(sample):
    activation, dtype = sample.activation, sample.dtype
    scripted_loss = torch.jit.script(loss_fn)
    scripted_forward = torch.jit.script(forward_fn)
    assert "twolayer::loss" in str(scripted_loss.graph)
    assert "twolayer::forward" in str(scripted_forward.graph)

    out = sample.output
    inputs, g = _loss_case(activation, dtype, sample.shape)
    inputs = targets_for(out, inputs, 31)
    _assert_identical(loss_and_grads(lambda *a: scripted_loss(*a, out), inputs, activation, g),
                      loss_and_grads(lambda *a: twolayer.loss(*a, output=out), inputs,
                                     activation, g))
    inputs, g = _forward_case(activation, dtype, sample.shape)
    _assert_identical(
        forward_and_grads(lambda *a: scripted_forward(*a, out), inputs, activation, g),
        forward_and_grads(lambda *a: twolayer.forward(*a, output=out), inputs, activation, g))


def test_scripted_default_activation_is_tanh():
    scripted = torch.jit.script(loss_default_fn)
    inputs, g = _loss_case("tanh")
    _assert_identical(loss_and_grads(lambda *a: scripted(*a[:6]), inputs, "tanh", g),
                      loss_and_grads(twolayer.loss, inputs, "tanh", g))


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_scripted_module_matches_eager_and_survives_save_load(activation, tmp_path):
    scripted = torch.jit.script(Network(activation))
    path = tmp_path / f"network_{activation}.pt"
    torch.jit.save(scripted, str(path))
    loaded = torch.jit.load(str(path))

    inputs, g = _loss_case(activation)
    expected = loss_and_grads(twolayer.loss, inputs, activation, g)
    for module in (scripted, loaded):
        _assert_identical(loss_and_grads(lambda *a: module(*a[:6]), inputs, activation, g),
                          expected)

    inputs, g = _forward_case(activation)
    expected = forward_and_grads(twolayer.forward, inputs, activation, g)
    for module in (scripted, loaded):
        _assert_identical(
            forward_and_grads(lambda *a: module.probabilities(*a[:5]), inputs, activation, g),
            expected)


def test_saved_function_loads_back(tmp_path):
    scripted = torch.jit.script(loss_fn)
    path = tmp_path / "loss_fn.pt"
    torch.jit.save(scripted, str(path))
    loaded = torch.jit.load(str(path))
    inputs, g = _loss_case("sigmoid")
    # A function's defaults do not survive torch.jit.save: the output layer is passed.
    _assert_identical(loss_and_grads(lambda *a: loaded(*a, "sigmoid"), inputs, "sigmoid", g),
                      loss_and_grads(twolayer.loss, inputs, "sigmoid", g))


def test_errors_surface_through_torchscript():
    scripted = torch.jit.script(loss_fn)
    inputs = make_inputs(5, 2, 4, 1, seed=33)
    args = [inputs[k] for k in LOSS_INPUTS]
    with pytest.raises(RuntimeError, match=re.escape(
            "twolayer: unknown activation 'foo'; expected one of tanh, relu, sigmoid, leaky_relu")):
        scripted(*args, "foo")
    args[2] = args[2][:, :1]
    with pytest.raises(RuntimeError, match=re.escape(
            "twolayer: W1 has shape [4, 1] (n1, n0), which takes n0 = 1 features, but X has "
            "n0 = 2 features: X must have 1 features, or W1 shape (4, 2)")):
        scripted(*args, "tanh")


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_scripted_twolayer_net_matches_eager(activation, tmp_path):
    net = twolayer.TwoLayerNet(3, 5, 2, activation=activation, init_scale=0.5, seed=3,
                               dtype=torch.float64)
    scripted = torch.jit.script(net)
    path = tmp_path / "net.pt"
    torch.jit.save(scripted, str(path))
    loaded = torch.jit.load(str(path))
    inputs = make_inputs(7, 3, 5, 2, seed=34)
    X, Y = inputs["X"], inputs["Y"]

    J_eager = net.loss(X, Y)
    J_eager.backward()
    eager_grads = {k: p.grad.clone() for k, p in net.named_parameters()}
    for module in (scripted, loaded):
        assert torch.equal(module(X), net(X))
        assert torch.equal(module.forward(X), net.forward(X))
        assert torch.equal(module.predict(X), net.predict(X))
        assert module.predict(X).dtype == torch.int64
        module.zero_grad()
        J = module.loss(X, Y)
        assert torch.equal(J, J_eager)
        J.backward()
        for k, p in module.named_parameters():
            assert torch.equal(p.grad, eager_grads[k]), f"d{k}"
    # The loaded copy carries the parameters and the activation with it.
    assert [k for k, _ in loaded.named_parameters()] == ["W1", "b1", "W2", "b2"]
    for k, p in net.named_parameters():
        assert torch.equal(dict(loaded.named_parameters())[k], p)


def test_operator_schemas_match_the_spec():
    # TorchScript and C++ callers bind to these signatures (argument names and the default).
    schema = str(torch.ops.twolayer.forward.default._schema)
    assert schema.startswith("twolayer::forward(Tensor X, Tensor W1, Tensor b1, Tensor W2, "
                             "Tensor b2, str activation=\"tanh\", str output=\"sigmoid\") "
                             "-> Tensor")
    schema = str(torch.ops.twolayer.loss.default._schema)
    assert schema.startswith("twolayer::loss(Tensor X, Tensor Y, Tensor W1, Tensor b1, "
                             "Tensor W2, Tensor b2, str activation=\"tanh\", "
                             "str output=\"sigmoid\") -> Tensor")
