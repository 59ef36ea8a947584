"""The activation is part of a TwoLayerNet checkpoint, so that a net loaded from it computes
what the saved net computed, and a refused load changes nothing, so that a caller who catches
the error still holds a usable net."""
import pytest
import torch

import twolayer


def _params(net):
    return {k: v.detach().clone() for k, v in net.named_parameters()}


def _assert_unchanged(net, before):
    for k, v in net.named_parameters():
        assert torch.equal(v.detach(), before[k]), k


def test_the_state_dict_carries_the_activation_as_ascii():
    state = twolayer.TwoLayerNet(2, 4, 1, activation="leaky_relu", seed=0).state_dict()
    assert list(state) == ["W1", "b1", "W2", "b2", "activation_name", "output_name"]
    assert state["activation_name"].dtype == torch.uint8
    assert bytes(state["activation_name"].tolist()) == b"leaky_relu"


@pytest.mark.parametrize("saved,mine", [("relu", "tanh"), ("tanh", "sigmoid"),
                                        ("leaky_relu", "relu")])
def test_a_checkpoint_of_another_activation_is_refused_and_nothing_changes(saved, mine):
    state = twolayer.TwoLayerNet(2, 4, 1, activation=saved, seed=0).state_dict()
    net = twolayer.TwoLayerNet(2, 4, 1, activation=mine, seed=1)
    before = _params(net)
    with pytest.raises(RuntimeError) as error:
        net.load_state_dict(state)
    assert str(error.value) == (f"twolayer: the checkpoint's activation is '{saved}', but this "
                                f"TwoLayerNet's activation is '{mine}'")
    _assert_unchanged(net, before)
    assert net.activation == mine


def test_a_checkpoint_of_another_shape_is_refused_before_anything_is_copied():
    # W1 and b1 fit, W2 does not: torch's own load would copy W1 and b1 and then complain.
    state = twolayer.TwoLayerNet(2, 4, 1, seed=0).state_dict()
    net = twolayer.TwoLayerNet(2, 4, 3, seed=1)
    before = _params(net)
    with pytest.raises(RuntimeError) as error:
        net.load_state_dict(state, strict=False)
    assert str(error.value) == ("twolayer: the checkpoint's W2 has shape [1, 4], but this "
                                "TwoLayerNet's W2 has shape [3, 4]")
    _assert_unchanged(net, before)


def test_a_checkpoint_with_the_parameters_only_still_loads():
    # What version 0.1.0 wrote, and what C++ hands over through named_parameters().
    source = twolayer.TwoLayerNet(2, 4, 1, activation="relu", seed=0)
    params = {k: v.detach() for k, v in source.named_parameters()}
    net = twolayer.TwoLayerNet(2, 4, 1, activation="relu", seed=1)
    assert net.load_state_dict(params, strict=True).missing_keys == []
    _assert_unchanged(net, params)


def test_the_activation_survives_whole_module_and_scripted_saves(tmp_path):
    net = twolayer.TwoLayerNet(2, 4, 1, activation="sigmoid", seed=0)
    torch.jit.save(torch.jit.script(net), str(tmp_path / "s.pt"))
    loaded = torch.jit.load(str(tmp_path / "s.pt"))
    assert bytes(loaded.activation_name.tolist()) == b"sigmoid"
    with pytest.raises(RuntimeError, match="activation is 'sigmoid', but this TwoLayerNet's "
                                           "activation is 'tanh'"):
        twolayer.TwoLayerNet(2, 4, 1).load_state_dict(loaded.state_dict())


def test_dtype_conversion_leaves_the_activation_alone():
    net = twolayer.TwoLayerNet(2, 4, 1, activation="relu", seed=0).double()
    assert net.W1.dtype == torch.float64 and net.activation_name.dtype == torch.uint8
    twolayer.TwoLayerNet(2, 4, 1, activation="relu", dtype=torch.float64).load_state_dict(
        net.state_dict())

