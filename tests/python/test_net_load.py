"""TwoLayerNet.load: a runnable net, with its sizes, dtype and activation, from a state dict saved
with torch.save and from a TorchScript file of the net, made here; from C++'s torch::save archive
in check_cpp_checkpoint.py (run by ctest after the C++ side writes it). Anything else is refused
with a message that says what is wrong, and loading draws nothing from the global generator."""
import collections
import re
import zipfile

import pytest
import torch

import twolayer
from helpers import make_inputs

PARAMS = ("W1", "b1", "W2", "b2")


def _exactly(message):
    return "^" + re.escape(message) + "$"


def _trained(activation="relu", dtype=torch.float64, sizes=(3, 5, 2)):
    n0, n1, n2 = sizes
    net = twolayer.TwoLayerNet(n0, n1, n2, activation=activation, init_scale=0.5, seed=17,
                               dtype=dtype)
    inputs = make_inputs(20, n0, n1, n2, seed=18, labels="hard", dtype=dtype)
    net.fit(inputs["X"], inputs["Y"], 25, 0.5)  # non-zero biases, no init values left
    return net, inputs["X"], inputs["Y"]


SAVERS = {
    "state dict": lambda net, path: torch.save(net.state_dict(), path),
    "plain dict": lambda net, path: torch.save(dict(net.state_dict()), path),
    "scripted": lambda net, path: torch.jit.save(torch.jit.script(net), path),
    "traced": lambda net, path: torch.jit.save(
        torch.jit.trace(net, torch.zeros(2, net.W1.shape[1], dtype=net.W1.dtype)), path),
}


@pytest.mark.parametrize("saver", list(SAVERS))
@pytest.mark.parametrize("activation, dtype", [("relu", torch.float64), ("tanh", torch.float32),
                                               ("leaky_relu", torch.float32),
                                               ("sigmoid", torch.float64)])
def test_load_returns_the_saved_net(tmp_path, saver, activation, dtype):
    net, X, Y = _trained(activation, dtype)
    path = tmp_path / "net.pt"
    SAVERS[saver](net, str(path))
    loaded = twolayer.TwoLayerNet.load(path)
    assert type(loaded) is twolayer.TwoLayerNet
    assert loaded.activation == activation
    assert (loaded.W1.shape, loaded.W2.shape) == ((5, 3), (2, 5))
    for name in PARAMS:
        p = getattr(loaded, name)
        assert p.dtype == dtype and p.device.type == "cpu" and p.requires_grad, name
        assert torch.equal(p.detach(), getattr(net, name).detach()), name
    assert torch.equal(loaded.predict_proba(X), net.predict_proba(X))
    # Runnable: it trains on as the original does.
    assert torch.equal(loaded.fit(X, Y, 5, 0.5), net.fit(X, Y, 5, 0.5))
    assert loaded.seed is None


def test_load_takes_a_path_as_a_string_and_a_device(tmp_path):
    net, X, _ = _trained()
    path = str(tmp_path / "net.pt")
    torch.save(net.state_dict(), path)
    loaded = twolayer.TwoLayerNet.load(path, device="cpu")
    assert torch.equal(loaded(X), net(X))


def test_a_checkpoint_without_the_activation_loads_as_tanh(tmp_path):
    # Written before checkpoints carried the activation, when every net was tanh.
    net, X, _ = _trained("tanh")
    path = tmp_path / "old.pt"
    torch.save({name: getattr(net, name).detach() for name in PARAMS}, path)
    loaded = twolayer.TwoLayerNet.load(path)
    assert loaded.activation == "tanh"
    assert torch.equal(loaded(X), net(X))


def test_load_draws_nothing_from_the_global_generator(tmp_path):
    net, _, _ = _trained()
    path = tmp_path / "net.pt"
    torch.save(net.state_dict(), path)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    twolayer.TwoLayerNet.load(path)
    assert torch.equal(torch.rand(3), expected)


def _state(**changes):
    net, _, _ = _trained(sizes=(2, 4, 1))
    state = collections.OrderedDict((k, v.detach().clone()) for k, v in net.state_dict().items())
    for key, value in changes.items():
        if value is None:
            del state[key]
        else:
            state[key] = value
    return state


@pytest.mark.parametrize("case, message", [
    ("no W2", "twolayer: {path} is not a checkpoint of a TwoLayerNet: it has no W2"),
    ("linear", "twolayer: {path} is not a checkpoint of a TwoLayerNet: it has no W1"),
    ("extra", "twolayer: {path} is not a checkpoint of a TwoLayerNet: it holds W3, which a "
              "TwoLayerNet has not"),
    ("W1 1-D", "twolayer: the checkpoint's W1 must be 2-D, but has shape [8]"),
    ("b1 short", "twolayer: the checkpoint's b1 has shape [3], but its W1 and W2 make a "
                 "TwoLayerNet(n0=2, n1=4, n2=1), whose b1 has shape [4]"),
    ("W2 columns", "twolayer: the checkpoint's W2 has shape [1, 3], but its W1 and W2 make a "
                   "TwoLayerNet(n0=2, n1=4, n2=1), whose W2 has shape [1, 4]"),
    ("damaged activation", "twolayer: the checkpoint's activation_name holds bytes that name no "
                           "activation: the checkpoint is damaged, or was saved from a net whose "
                           "buffer was never written"),
    ("a list", "twolayer: {path} holds a list, not the state dict of a TwoLayerNet"),
    ("int32", "twolayer: TwoLayerNet dtype must be float32, float64, bfloat16 or float16, but "
              "got int32"),
])
def test_a_file_that_is_no_twolayer_checkpoint_is_refused(tmp_path, case, message):
    path = tmp_path / "bad.pt"
    content = {
        "no W2": lambda: _state(W2=None),
        "linear": lambda: torch.nn.Linear(2, 3).state_dict(),
        "extra": lambda: _state(W3=torch.zeros(2)),
        "W1 1-D": lambda: _state(W1=torch.zeros(8, dtype=torch.float64)),
        "b1 short": lambda: _state(b1=torch.zeros(3, dtype=torch.float64)),
        "W2 columns": lambda: _state(W2=torch.zeros(1, 3, dtype=torch.float64)),
        "damaged activation": lambda: _state(activation_name=torch.tensor([1, 2, 3],
                                                                          dtype=torch.uint8)),
        "a list": lambda: [torch.zeros(2)],
        "int32": lambda: {k: v.int() if v.is_floating_point() else v
                          for k, v in _state().items()},
    }[case]()
    torch.save(content, path)
    with pytest.raises(RuntimeError if case != "int32" else TypeError,
                       match=_exactly(message.format(path=path))):
        twolayer.TwoLayerNet.load(path)


def test_files_that_are_no_checkpoint_at_all_are_refused(tmp_path):
    net, _, _ = _trained()
    good = tmp_path / "good.pt"
    torch.save(net.state_dict(), good)
    text = tmp_path / "text.pt"
    text.write_text("W1 = [[0.1, 0.2]]\n")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:200])
    empty_zip = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty_zip, "w"):
        pass
    whole_module = tmp_path / "module.pt"
    torch.save(torch.nn.Linear(2, 2), whole_module)  # a pickled object, not data
    for path in (text, truncated, empty_zip, whole_module):
        prefix = (f"twolayer: cannot read {path} as a TwoLayerNet checkpoint (a torch::save "
                  "archive, a TorchScript file or a state dict saved with torch.save): ")
        with pytest.raises(RuntimeError, match="^" + re.escape(prefix) + ".+"):
            twolayer.TwoLayerNet.load(path)
    missing = tmp_path / "missing.pt"
    with pytest.raises(FileNotFoundError, match=_exactly(f"twolayer: no checkpoint file {missing}")):
        twolayer.TwoLayerNet.load(missing)
