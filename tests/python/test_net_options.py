"""TwoLayerNet as PyTorch users expect a module: nn.Linear's factory keywords, reset_parameters,
the refusal of dtypes the operators cannot run, and documentation that says what to pass."""
import inspect
import pydoc

import numpy as np
import pytest
import torch

import twolayer


def test_device_and_dtype_keywords_as_nn_linear():
    net = twolayer.TwoLayerNet(2, 4, 1, seed=1, device="cpu", dtype=torch.float64)
    for p in net.parameters():
        assert p.device.type == "cpu" and p.dtype == torch.float64
    meta = twolayer.TwoLayerNet(2, 4, 1, device=torch.device("meta"))
    assert all(p.device.type == "meta" for p in meta.parameters())
    assert meta.activation_name.device.type == "meta"


def test_dtype_defaults_to_torchs_default_dtype():
    assert twolayer.TwoLayerNet(2, 4, 1).W1.dtype == torch.float32
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        assert twolayer.TwoLayerNet(2, 4, 1).W1.dtype == torch.float64
    finally:
        torch.set_default_dtype(previous)


def test_seeded_weights_do_not_depend_on_dtype():
    # Drawn in float32 whatever the dtype: the float64 net holds the float32 numbers exactly.
    f32 = twolayer.TwoLayerNet(3, 5, 2, seed=4)
    f64 = twolayer.TwoLayerNet(3, 5, 2, seed=4, dtype=torch.float64)
    assert torch.equal(f64.W1.detach(), f32.W1.detach().double())


@pytest.mark.parametrize("dtype,name", [(torch.int64, "int64"), (torch.complex64, "complex64")])
def test_dtypes_the_ops_refuse_are_refused_at_construction(dtype, name):
    # bfloat16 and float16 nets are tested in test_net_low_precision.py.
    with pytest.raises(TypeError) as error:
        twolayer.TwoLayerNet(2, 4, 1, dtype=dtype)
    assert str(error.value) == ("twolayer: TwoLayerNet dtype must be float32, float64, bfloat16 "
                                f"or float16, but got {name}")


def test_reset_parameters_draws_the_same_seeded_weights_again_and_zeroes_biases():
    X = torch.randn(20, 2)
    Y = (X[:, :1] > 0).float()
    net = twolayer.TwoLayerNet(2, 4, 1, seed=6)
    initial = {k: v.detach().clone() for k, v in net.named_parameters()}
    net.fit(X, Y, 20, 1.0)
    assert not torch.equal(net.b1.detach(), initial["b1"])
    W1 = net.W1
    net.reset_parameters()
    assert net.W1 is W1   # in place: an optimizer holding the parameters keeps working
    for name, value in net.named_parameters():
        assert torch.equal(value.detach(), initial[name]), name
    assert torch.equal(net.b1.detach(), torch.zeros(4))


def test_reset_parameters_of_an_unseeded_net_draws_new_weights():
    net = twolayer.TwoLayerNet(2, 4, 1)
    before = net.W1.detach().clone()
    net.reset_parameters()
    assert not torch.equal(net.W1.detach(), before)


def test_help_tells_a_newcomer_what_to_pass():
    text = pydoc.render_doc(twolayer.TwoLayerNet, renderer=pydoc.plaintext)
    for needed in ("n0", "n1", "n2", "tanh", "relu", "sigmoid", "leaky_relu", "init_scale",
                   "seed", "device", "dtype", "(m, n0)", "(m, n2)", "BCEWithLogitsLoss",
                   "reset_parameters", "predict", "progress", "softmax", "identity"):
        assert needed in text, needed
    signature = inspect.signature(twolayer.TwoLayerNet)
    # output comes last, by keyword only: calls that pass init_scale and the rest by position
    # keep their meaning.
    assert list(signature.parameters) == ["n0", "n1", "n2", "activation", "init_scale", "seed",
                                          "device", "dtype", "output"]
    assert signature.parameters["output"].kind is inspect.Parameter.KEYWORD_ONLY


@pytest.mark.parametrize("function", ["loss", "forward", "fit_"])
def test_the_functions_are_documented_and_typed(function):
    fn = getattr(twolayer, function)
    assert fn.__doc__ and "activation" in fn.__doc__
    hints = fn.__annotations__
    assert hints["return"] is torch.Tensor and hints["X"] is torch.Tensor
    assert "(m, n" in fn.__doc__


@pytest.mark.parametrize("method", ["__init__", "forward", "loss", "fit", "predict",
                                    "reset_parameters"])
def test_the_methods_are_documented(method):
    doc = getattr(twolayer.TwoLayerNet, method).__doc__
    assert doc and len(doc.split()) >= 8, method


def test_forward_documents_that_it_returns_probabilities():
    assert "BCEWithLogitsLoss" in twolayer.TwoLayerNet.forward.__doc__
    assert "BCEWithLogitsLoss" in twolayer.forward.__doc__


@pytest.mark.parametrize("size", [np.int64(3), np.int32(3), torch.tensor(3)])
def test_sizes_take_what_nn_linear_takes(size):
    net = twolayer.TwoLayerNet(size, size, 1)
    assert net.W1.shape == (3, 3) and type(net.W1.shape[0]) is int
    assert torch.nn.Linear(size, 1).weight.shape == (1, 3)   # the same inputs nn.Linear takes


@pytest.mark.parametrize("size,message", [
    (2.0, "twolayer: TwoLayerNet's n0 must be an integer, but got 2.0 of type float"),
    ("2", "twolayer: TwoLayerNet's n0 must be an integer, but got '2' of type str"),
    (True, "twolayer: TwoLayerNet's n0 must be an integer, but got True of type bool"),
])
def test_a_size_that_is_not_an_integer_is_refused_naming_its_type(size, message):
    with pytest.raises(TypeError) as error:
        twolayer.TwoLayerNet(size, 4, 1)
    assert str(error.value) == message


def test_a_size_below_one_is_refused_naming_it():
    with pytest.raises(ValueError) as error:
        twolayer.TwoLayerNet(2, np.int64(0), 1)
    assert str(error.value) == "twolayer: TwoLayerNet's n1 must be at least 1, but got 0"


def test_a_dtype_given_as_a_string_is_refused_naming_its_type():
    with pytest.raises(TypeError) as error:
        twolayer.TwoLayerNet(2, 4, 1, dtype="float64")
    assert str(error.value) == ("twolayer: TwoLayerNet dtype must be a torch.dtype "
                                "(torch.float32, torch.float64, torch.bfloat16 or torch.float16), "
                                "but got 'float64' of type str")
