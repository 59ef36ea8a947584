"""The activation of a TwoLayerNet is one value: what the operators compute with and what its
checkpoints record (the buffer ``activation_name``) never differ, however the module was made
(constructed, on the meta device and moved with to_empty, skip_init, deep-copied, moved between
dtypes) and however the activation is changed."""
import copy
import io

import pytest
import torch

import twolayer

from reference import reference_loss


def _saved_activation(net):
    return bytes(net.state_dict()["activation_name"].tolist()).decode("ascii")


def _trained(net, seed=0):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(64, net.W1.shape[1], generator=gen)
    Y = (X[:, :1] > 0).to(X.dtype).expand(-1, net.W2.shape[0]).contiguous()
    net.fit(X, Y, 50, 0.5)
    return X, Y


def _round_trip(net, into):
    buffer = io.BytesIO()
    torch.save(net.state_dict(), buffer)
    buffer.seek(0)
    into.load_state_dict(torch.load(buffer))
    return into


def _made_on_meta():
    net = twolayer.TwoLayerNet(2, 4, 1, activation="relu", seed=3, device="meta")
    net.to_empty(device="cpu")
    net.reset_parameters()
    return net


MAKERS = {
    "constructed": lambda: twolayer.TwoLayerNet(2, 4, 1, activation="relu", seed=3),
    "meta, to_empty, reset_parameters": _made_on_meta,
    "meta, to_empty only": lambda: twolayer.TwoLayerNet(
        2, 4, 1, activation="relu", device="meta").to_empty(device="cpu"),
    "torch.nn.utils.skip_init": lambda: torch.nn.utils.skip_init(
        twolayer.TwoLayerNet, 2, 4, 1, activation="relu"),
    "deepcopy": lambda: copy.deepcopy(twolayer.TwoLayerNet(2, 4, 1, activation="relu", seed=3)),
    "to float64 and back": lambda: twolayer.TwoLayerNet(
        2, 4, 1, activation="relu", seed=3).double().float(),
}


@pytest.mark.parametrize("how", list(MAKERS))
def test_every_way_of_making_a_net_gives_a_checkpoint_that_reloads(how):
    net = MAKERS[how]()
    if how not in ("meta, to_empty only", "torch.nn.utils.skip_init"):
        _trained(net)  # (the other two hold uninitialised memory, as nn.Linear's would)
    assert _saved_activation(net) == "relu"
    same_kind = _round_trip(net, twolayer.TwoLayerNet(2, 4, 1, activation="relu", seed=9))
    for name in ("W1", "b1", "W2", "b2"):
        # Bit for bit: uninitialised memory may hold NaNs.
        mine, loaded = getattr(net, name).detach(), getattr(same_kind, name).detach()
        assert torch.equal(loaded.view(torch.int32), mine.view(torch.int32)), name
    with pytest.raises(RuntimeError, match="the checkpoint's activation is 'relu'"):
        _round_trip(net, twolayer.TwoLayerNet(2, 4, 1, activation="tanh"))


def test_assigning_the_activation_keeps_the_checkpoint_in_step():
    net = twolayer.TwoLayerNet(2, 4, 1, activation="tanh", seed=1)
    net.activation = "relu"
    X, Y = _trained(net)
    assert _saved_activation(net) == "relu"
    # What the net computes is what its checkpoint says: a relu net reloads it and computes the
    # same cost; a tanh net refuses it (before, it took it silently and computed another cost).
    relu = _round_trip(net, twolayer.TwoLayerNet(2, 4, 1, activation="relu"))
    expected = reference_loss(X, Y, net.W1, net.b1, net.W2, net.b2, "relu")
    assert torch.allclose(relu.loss(X, Y), expected, rtol=1e-5)
    assert torch.allclose(net.loss(X, Y), expected, rtol=1e-5)
    with pytest.raises(RuntimeError, match="the checkpoint's activation is 'relu', but this "
                                           "TwoLayerNet's activation is 'tanh'"):
        _round_trip(net, twolayer.TwoLayerNet(2, 4, 1, activation="tanh"))


@pytest.mark.parametrize("bad", ["gelu", "Tanh", "", None, 3])
def test_an_unknown_activation_is_refused_when_assigned_and_nothing_changes(bad):
    net = twolayer.TwoLayerNet(2, 4, 1, activation="sigmoid", seed=1)
    with pytest.raises(ValueError) as error:
        net.activation = bad
    assert str(error.value) == (f"twolayer: unknown activation {bad!r}; expected one of tanh, "
                                "relu, sigmoid, leaky_relu")
    assert net.activation == "sigmoid" and _saved_activation(net) == "sigmoid"


def test_a_scripted_net_keeps_the_activation_it_was_scripted_with():
    net = twolayer.TwoLayerNet(2, 4, 1, activation="tanh", seed=1)
    net.activation = "leaky_relu"
    scripted = torch.jit.script(net)
    X = torch.randn(8, 2)
    assert torch.equal(scripted(X), net(X))
    assert bytes(scripted.activation_name.tolist()) == b"leaky_relu"


def test_a_checkpoint_with_a_garbled_activation_is_refused_naming_the_bytes():
    state = twolayer.TwoLayerNet(2, 4, 1, seed=0).state_dict()
    state["activation_name"] = torch.tensor([48, 200, 104, 67], dtype=torch.uint8)
    net = twolayer.TwoLayerNet(2, 4, 1, seed=1)
    with pytest.raises(RuntimeError) as error:
        net.load_state_dict(state)
    assert str(error.value) == (
        "twolayer: the checkpoint's activation_name holds the bytes [48, 200, 104, 67], which "
        "name no activation (expected one of tanh, relu, sigmoid, leaky_relu): the checkpoint "
        "is damaged, or was saved from a net whose buffer was never written")
