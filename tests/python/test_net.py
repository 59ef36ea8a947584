"""twolayer.TwoLayerNet: parameters, initialisation contract, methods, options, validation."""
import pytest
import torch

import twolayer
from helpers import ACTIVATIONS, TOLERANCE, assert_close_rel, make_inputs
from reference import reference_forward, reference_loss


def test_package_lists_the_four_activations():
    assert twolayer.ACTIVATIONS == ACTIVATIONS


def test_parameters_names_shapes_and_dtype():
    net = twolayer.TwoLayerNet(3, 5, 2, seed=0)
    assert isinstance(net, torch.nn.Module)
    params = dict(net.named_parameters())
    assert list(params) == ["W1", "b1", "W2", "b2"]
    assert params["W1"].shape == (5, 3)
    assert params["b1"].shape == (5,)
    assert params["W2"].shape == (2, 5)
    assert params["b2"].shape == (2,)
    for p in params.values():
        assert p.dtype == torch.float32 and p.requires_grad and p.is_leaf
    # The activation travels with the parameters (tests/python/test_net_state.py).
    assert list(net.state_dict()) == ["W1", "b1", "W2", "b2", "activation_name", "output_name"]


def test_biases_start_at_zero():
    net = twolayer.TwoLayerNet(4, 6, 3, seed=1)
    assert torch.equal(net.b1, torch.zeros(6))
    assert torch.equal(net.b2, torch.zeros(3))


@pytest.mark.parametrize("init_scale", [0.01, 0.5])
def test_weights_have_std_init_scale(init_scale):
    # 40 000 and 20 000 draws: the sample std is within a few percent of init_scale.
    net = twolayer.TwoLayerNet(200, 200, 100, init_scale=init_scale, seed=2)
    for W in (net.W1, net.W2):
        std = W.detach().double().std().item()
        assert abs(std - init_scale) < 0.05 * init_scale
        assert abs(W.detach().double().mean().item()) < 0.05 * init_scale


def test_same_seed_same_weights_different_seed_different_weights():
    a = twolayer.TwoLayerNet(3, 5, 2, seed=7)
    b = twolayer.TwoLayerNet(3, 5, 2, seed=7)
    c = twolayer.TwoLayerNet(3, 5, 2, seed=8)
    assert torch.equal(a.W1, b.W1) and torch.equal(a.W2, b.W2)
    assert not torch.equal(a.W1, c.W1) and not torch.equal(a.W2, c.W2)


def test_seeded_init_does_not_touch_the_global_rng():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    twolayer.TwoLayerNet(3, 5, 2, seed=7)
    assert torch.equal(torch.rand(3), expected)


def test_unseeded_nets_differ():
    a = twolayer.TwoLayerNet(3, 5, 2)
    b = twolayer.TwoLayerNet(3, 5, 2)
    assert not torch.equal(a.W1, b.W1)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
# Seed 0 (a falsy value that must still count as a seed) and one beyond 32 bits.
@pytest.mark.parametrize("seed, init_scale", [(0, 0.01), (7, 1.0), (2 ** 40 + 3, 0.3)])
def test_seeded_init_follows_the_documented_contract(seed, init_scale, dtype):
    # The spec: init_scale * randn from torch.Generator().manual_seed(seed), W1 first, then W2
    # from the same generator, drawn in float32 and then cast (the C++ module draws alike).
    gen = torch.Generator().manual_seed(seed)
    W1 = (init_scale * torch.randn(5, 3, generator=gen)).to(dtype)
    W2 = (init_scale * torch.randn(2, 5, generator=gen)).to(dtype)
    net = twolayer.TwoLayerNet(3, 5, 2, init_scale=init_scale, seed=seed, dtype=dtype)
    assert torch.equal(net.W1.detach(), W1)
    assert torch.equal(net.W2.detach(), W2)


def test_float64_option():
    net = twolayer.TwoLayerNet(3, 5, 2, seed=4, dtype=torch.float64)
    for p in net.parameters():
        assert p.dtype == torch.float64
    X = make_inputs(4, 3, 5, 2, seed=4)["X"]
    assert net(X).dtype == torch.float64


def _copy_params(net):
    return [p.detach().clone() for p in (net.W1, net.b1, net.W2, net.b2)]


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_forward_loss_predict_match_the_functional_ops(activation):
    net = twolayer.TwoLayerNet(3, 5, 2, activation=activation, init_scale=0.8, seed=5,
                               dtype=torch.float64)
    with torch.no_grad():
        # Non-zero biases, so that a method that ignores one would show.
        net.b1.copy_(torch.linspace(-0.5, 0.5, 5, dtype=torch.float64))
        net.b2.copy_(torch.tensor([0.2, -0.3], dtype=torch.float64))
    inputs = make_inputs(9, 3, 5, 2, seed=5)
    X, Y = inputs["X"], inputs["Y"]
    W1, b1, W2, b2 = _copy_params(net)

    A2 = net(X)
    assert torch.equal(A2.detach(), twolayer.forward(X, W1, b1, W2, b2, activation))
    assert torch.equal(net.loss(X, Y).detach(), twolayer.loss(X, Y, W1, b1, W2, b2, activation))
    assert_close_rel(A2.detach(), reference_forward(X, W1, b1, W2, b2, activation),
                     TOLERANCE[torch.float64], "A2")

    predicted = net.predict(X)
    assert predicted.dtype == torch.int64 and predicted.shape == (9, 2)
    assert predicted.grad_fn is None
    assert torch.equal(predicted, (A2.detach() > 0.5).long())
    assert set(predicted.unique().tolist()) <= {0, 1}


def test_predict_thresholds_at_one_half():
    # Hand-made logits: b2 alone decides, since W2 = 0. sigmoid(0) = 0.5 exactly is not > 0.5.
    net = twolayer.TwoLayerNet(2, 3, 3, seed=0, dtype=torch.float64)
    with torch.no_grad():
        net.W2.zero_()
        net.b2.copy_(torch.tensor([1e-3, 0.0, -1e-3], dtype=torch.float64))
    X = make_inputs(4, 2, 3, 3, seed=0)["X"]
    expected = torch.tensor([[1, 0, 0]] * 4)
    assert torch.equal(net.predict(X), expected)


def test_loss_gradients_of_the_parameters_match_reference():
    net = twolayer.TwoLayerNet(3, 5, 2, activation="sigmoid", init_scale=0.7, seed=6,
                               dtype=torch.float64)
    inputs = make_inputs(8, 3, 5, 2, seed=6)
    X, Y = inputs["X"], inputs["Y"]
    net.loss(X, Y).backward()
    ref_params = [p.requires_grad_(True) for p in _copy_params(net)]
    reference_loss(X, Y, *ref_params, "sigmoid").backward()
    for p, r, name in zip(net.parameters(), ref_params, ["W1", "b1", "W2", "b2"]):
        assert_close_rel(p.grad, r.grad, TOLERANCE[torch.float64], f"d{name}")


def test_activation_attribute_and_repr():
    net = twolayer.TwoLayerNet(3, 5, 2, activation="leaky_relu")
    assert net.activation == "leaky_relu"
    assert "leaky_relu" in repr(net)


@pytest.mark.parametrize("activation", ["foo", "Tanh", "", "softmax"])
def test_bad_activation_raises_value_error(activation):
    with pytest.raises(ValueError, match="activation"):
        twolayer.TwoLayerNet(3, 5, 2, activation=activation)


@pytest.mark.parametrize("sizes", [(0, 5, 2), (3, 0, 2), (3, 5, 0), (-1, 5, 2), (3, 5, -4)])
def test_bad_sizes_raise_value_error(sizes):
    with pytest.raises(ValueError):
        twolayer.TwoLayerNet(*sizes)
