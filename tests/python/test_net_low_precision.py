"""TwoLayerNet in bfloat16 and float16: made with the float32 draws rounded to its dtype; forward,
predict_proba and logits in its dtype, loss and fit's costs in float32, gradients in its dtype
(docs/low_precision.md); labels converted to float32; predict, score, the progress display, and
checkpoints (state dict, TorchScript, TwoLayerNet.load) that keep the dtype. The operators' own
low-precision results are tested with the operators; these are the module's.

float16 on the CPU needs PyTorch 2.0 (1.x has no float16 matrix products there): on 1.x a
float16 net is made, but its first computation is refused, which the last tests check.
"""
import contextlib
import io

import numpy as np
import pytest
import torch

import twolayer
from helpers import rel_err
from reference import reference_logits

TORCH2 = int(torch.__version__.split(".")[0]) >= 2
F32 = torch.float32
LOWS = (torch.bfloat16, torch.float16) if TORCH2 else (torch.bfloat16,)
PARAMS = ("W1", "b1", "W2", "b2")


def name_of(dtype):
    return str(dtype).replace("torch.", "")
LOW = [torch.bfloat16,
       pytest.param(torch.float16, marks=pytest.mark.skipif(
           not TORCH2, reason="float16 products on the CPU need PyTorch 2.0"))]


def _separable(m=200, seed=3):
    """X (m, 2) float32 and 0/1 labels y (m,) int64: the sign of the first feature."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(m, 2, generator=g)
    return X, (X[:, 0] > 0).long()


def _twins(dtype, **options):
    """A low-precision net and a float32 net with the same (rounded) weights."""
    low = twolayer.TwoLayerNet(2, 4, 1, seed=1, init_scale=1.0, dtype=dtype, **options)
    f32 = twolayer.TwoLayerNet(2, 4, 1, seed=1, init_scale=1.0, **options)
    f32.load_state_dict({k: v.float() if v.is_floating_point() else v
                         for k, v in low.state_dict().items()})
    return low, f32


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_made_from_the_float32_draws_rounded_to_its_dtype(dtype):
    # Construction computes nothing: float16 too on every torch.
    low = twolayer.TwoLayerNet(3, 5, 2, seed=7, dtype=dtype)
    f32 = twolayer.TwoLayerNet(3, 5, 2, seed=7)
    for name, p in low.named_parameters():
        assert p.dtype == dtype, name
        assert p.requires_grad, name
    assert torch.equal(low.W1.detach(), f32.W1.detach().to(dtype))
    assert torch.equal(low.W2.detach(), f32.W2.detach().to(dtype))
    assert torch.equal(low.b1.detach(), torch.zeros(5, dtype=dtype))
    assert low.activation_name.dtype == torch.uint8
    # to() converts both ways, like any module.
    assert low.float().W1.dtype == torch.float32
    assert twolayer.TwoLayerNet(2, 4, 1).to(dtype).W1.dtype == dtype


@pytest.mark.parametrize("dtype", LOW)
@pytest.mark.parametrize("output", ["sigmoid", "softmax", "identity"])
def test_forward_in_its_dtype_loss_in_float32_gradients_in_its_dtype(dtype, output):
    low = twolayer.TwoLayerNet(2, 4, 3, seed=1, init_scale=1.0, dtype=dtype, output=output)
    f32 = twolayer.TwoLayerNet(2, 4, 3, seed=1, init_scale=1.0, output=output)
    f32.load_state_dict({k: v.float() if v.is_floating_point() else v
                         for k, v in low.state_dict().items()})
    X, y = _separable()
    Y = torch.nn.functional.one_hot(y, 3).float()
    Xl = X.to(dtype)

    for method in (low, low.forward, low.predict_proba, low.logits):
        out = method(Xl)
        assert out.dtype == dtype and out.shape == (200, 3)
    torch.testing.assert_close(low(Xl).float(), f32(Xl.float()), rtol=0, atol=3e-2)

    J = low.loss(Xl, Y)          # float32 Y: taken as it is
    J_low_Y = low.loss(Xl, Y.to(dtype))
    assert J.dtype == torch.float32 and J.dim() == 0
    assert J.item() == J_low_Y.item()   # one-hot rows are exact in every dtype
    J32 = f32.loss(Xl.float(), Y)
    assert J.item() == pytest.approx(J32.item(), rel=2e-2)
    J.backward()
    J32.backward()
    for name, p in low.named_parameters():
        assert p.grad.dtype == dtype, name
        ref = getattr(f32, name).grad
        assert (p.grad.float() - ref).abs().max() <= 5e-2 * ref.abs().max() + 1e-3, name


@pytest.mark.parametrize("dtype", LOW)
def test_labels_are_converted_to_float32(dtype):
    low, _ = _twins(dtype)
    X, y = _separable()
    Xl = X.to(dtype)
    J = low.loss(Xl, y)                                   # int64 labels of shape (m,)
    assert J.dtype == torch.float32
    assert low.loss(Xl, y.float()).item() == J.item()     # float32 (m,)
    assert low.loss(Xl, y.numpy()).item() == J.item()     # a NumPy array of ints
    assert low.loss(Xl, y.numpy().astype(np.float64)).item() == J.item()
    assert low.loss(X.numpy(), y).item() == J.item()      # X as NumPy: made the net's dtype
    # Soft labels keep their digits: 0.3 is not a bfloat16 number, and the cost sees 0.3.
    soft = torch.full((200, 1), 0.3)
    torch.testing.assert_close(low.loss(Xl, soft.numpy()), low.loss(Xl, soft))


@pytest.mark.parametrize("dtype", LOW)
def test_fit_returns_float32_costs_trains_in_its_dtype_and_predicts(dtype):
    net = twolayer.TwoLayerNet(2, 4, 1, seed=2, init_scale=1.0, dtype=dtype)
    X, y = _separable()
    Xl = X.to(dtype)
    costs = net.fit(Xl, y, 300, 1.0)
    assert costs.dtype == torch.float32 and costs.shape == (300,)
    assert costs[-1] < 0.5 * costs[0]
    for name, p in net.named_parameters():
        assert p.dtype == dtype, name
    labels = net.predict(Xl)
    assert labels.dtype == torch.int64 and labels.shape == (200,)
    assert net.score(Xl, y) > 0.9
    assert isinstance(net.score(Xl, y), float)


@pytest.mark.parametrize("dtype", LOW)
def test_fit_with_progress_reports_float32_costs(dtype, capsys):
    net = twolayer.TwoLayerNet(2, 4, 1, seed=2, init_scale=1.0, dtype=dtype)
    X, y = _separable()
    seen = []
    costs = net.fit(X.to(dtype), y, 250, 1.0, progress=lambda i, c: seen.append((i, c)), every=100)
    assert [i for i, _ in seen] == [0, 100, 200, 249]
    assert all(isinstance(c, float) for _, c in seen)
    assert seen[-1][1] == costs[-1].item()
    net.fit(X.to(dtype), y, 200, 1.0, progress=True, every=100)   # the lecture's lines
    out = capsys.readouterr().out
    assert "Cost after iteration 100:" in out and "Final cost after 200 iterations:" in out


def test_identity_regression_predicts_its_dtype_and_scores_r2():
    net = twolayer.TwoLayerNet(2, 8, 1, seed=5, init_scale=0.5, dtype=torch.bfloat16,
                               output="identity")
    X, _ = _separable()
    target = (2 * X[:, 0] - X[:, 1]).numpy()     # float64 targets, converted to float32
    net.fit(X.bfloat16(), target, 500, 0.1)
    assert net.predict(X.bfloat16()).dtype == torch.bfloat16
    assert net.score(X.bfloat16(), target) > 0.9


@pytest.mark.parametrize("dtype", LOW)
def test_checkpoints_keep_the_dtype_and_the_values(dtype, tmp_path):
    net = twolayer.TwoLayerNet(2, 4, 1, seed=4, init_scale=1.0, dtype=dtype, activation="relu")
    X, y = _separable()
    net.fit(X.to(dtype), y, 20, 1.0)
    expected = net(X.to(dtype))

    state = tmp_path / "state.pt"
    torch.save(net.state_dict(), state)
    scripted = tmp_path / "scripted.pt"
    torch.jit.script(net).save(str(scripted))
    for path in (state, scripted):
        loaded = twolayer.TwoLayerNet.load(path)
        assert loaded.activation == "relu"
        for name, p in loaded.named_parameters():
            assert p.dtype == dtype, (path.name, name)
            assert torch.equal(p, getattr(net, name)), (path.name, name)
        assert torch.equal(loaded(X.to(dtype)), expected)

    # load_state_dict into a net of the same dtype; a float32 net takes the values converted.
    same = twolayer.TwoLayerNet(2, 4, 1, seed=9, dtype=dtype, activation="relu")
    same.load_state_dict(torch.load(io.BytesIO(state.read_bytes())))
    assert torch.equal(same.W1, net.W1)
    f32 = twolayer.TwoLayerNet(2, 4, 1, seed=9, activation="relu")
    f32.load_state_dict(net.state_dict())
    assert f32.W1.dtype == torch.float32 and torch.equal(f32.W1, net.W1.float())


@pytest.mark.parametrize("dtype", LOW)
def test_a_scripted_low_precision_net_computes_like_the_module(dtype):
    net, _ = _twins(dtype)
    X, y = _separable()
    scripted = torch.jit.script(net)
    Xl = X.to(dtype)
    assert torch.equal(scripted(Xl), net(Xl))
    assert scripted.loss(Xl, y).dtype == torch.float32
    assert scripted.loss(Xl, y).item() == net.loss(Xl, y).item()
    assert torch.equal(scripted.predict(Xl, None), net.predict(Xl))


@pytest.mark.skipif(TORCH2, reason="PyTorch 2.x has float16 products on the CPU")
def test_a_float16_net_is_made_on_1x_but_its_cpu_calls_are_refused():
    net = twolayer.TwoLayerNet(2, 4, 1, seed=1, dtype=torch.float16)
    X, y = _separable()
    for call in (lambda: net(X.half()), lambda: net.loss(X.half(), y),
                 lambda: net.fit(X.half(), y, 3, 1.0)):
        with pytest.raises(RuntimeError) as error:
            call()
        message = str(error.value)
        major, minor = torch.__version__.split(".")[:2]
        assert "float16" in message and "bfloat16" in message
        assert f"PyTorch {major}.{minor}" in message
    # What it holds can still go where it computes.
    assert net.to(torch.bfloat16)(X.bfloat16()).dtype == torch.bfloat16


# ---------------------------------------------------------------------------------------------
# The module end to end against the eager network, in every low dtype the PyTorch has
# ---------------------------------------------------------------------------------------------

def quadrants(m=200, seed=3):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(m, 2, generator=gen)
    y = (X[:, 0] * X[:, 1] > 0).to(torch.int64)
    return X, y


@pytest.mark.parametrize("low", LOWS, ids=name_of)
def test_net_of_low_precision_computes_in_it(low):
    net = twolayer.TwoLayerNet(2, 4, 1, seed=1, init_scale=1.0, dtype=low)
    for name in PARAMS:
        assert getattr(net, name).dtype == low, name
    X, y = quadrants()
    Xl = X.to(low)
    A2 = net(Xl)
    assert A2.dtype == low and A2.shape == (200, 1)
    # the operator on the net's own parameters, and the eager network, agree
    expected = torch.sigmoid(reference_logits(Xl.double(), net.W1.double(), net.b1.double(),
                                              net.W2.double(), net.b2.double(), "tanh"))
    assert rel_err(A2, expected) <= 4 * torch.finfo(low).eps
    J = net.loss(Xl, y)
    assert J.dtype == F32 and J.shape == ()
    J.backward()
    for name in PARAMS:
        assert getattr(net, name).grad.dtype == low, name
    labels = net.predict(Xl)
    assert labels.dtype == torch.int64 and labels.shape == (200,)
    assert torch.equal(labels, (A2[:, 0] > 0.5).to(torch.int64))


@pytest.mark.parametrize("low", LOWS, ids=name_of)
@pytest.mark.parametrize("progress", (False, True))
def test_net_of_low_precision_fits(low, progress):
    X, y = quadrants()
    net = twolayer.TwoLayerNet(2, 4, 1, seed=1, init_scale=1.0, dtype=low)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        costs = net.fit(X.to(low), y, 2000, 1.2, progress=progress, every=500)
    assert costs.dtype == F32 and costs.shape == (2000,)
    assert costs[-1] < 0.6 * costs[0]
    for name in PARAMS:
        assert getattr(net, name).dtype == low, name
    if progress:
        text = out.getvalue()
        assert "Cost after iteration 0" in text and "Cost after iteration 1500" in text, text
    else:
        assert out.getvalue() == ""
    assert net.score(X.to(low), y) > 0.8


@pytest.mark.parametrize("low", LOWS, ids=name_of)
def test_net_of_low_precision_round_trips_through_a_state_dict(low, tmp_path):
    X, y = quadrants()
    net = twolayer.TwoLayerNet(2, 4, 1, seed=1, init_scale=1.0, dtype=low)
    net.fit(X.to(low), y, 50, 1.2)
    path = tmp_path / "net.pt"
    torch.save(net.state_dict(), path)
    loaded = twolayer.TwoLayerNet.load(path)
    other = twolayer.TwoLayerNet(2, 4, 1, seed=2, dtype=low)
    other.load_state_dict(torch.load(path))
    for copy in (loaded, other):
        for name in PARAMS:
            got, want = getattr(copy, name), getattr(net, name)
            assert got.dtype == low, name
            assert torch.equal(got.detach(), want.detach()), name
        assert torch.equal(copy(X.to(low)), net(X.to(low)))


@pytest.mark.parametrize("low", LOWS, ids=name_of)
def test_scripted_net_of_low_precision(low, tmp_path):
    X, y = quadrants()
    net = twolayer.TwoLayerNet(2, 4, 1, seed=1, init_scale=1.0, dtype=low)
    scripted = torch.jit.script(net)
    Xl = X.to(low)
    A2 = scripted(Xl)
    assert A2.dtype == low
    assert torch.equal(A2, net(Xl))
    Y = y.to(low).unsqueeze(1)
    J = scripted.loss(Xl, Y)
    assert J.dtype == F32
    assert torch.equal(J, net.loss(Xl, Y))
    assert torch.equal(scripted.predict(Xl, None), net.predict(Xl))
    path = str(tmp_path / "net.ts")
    scripted.save(path)
    assert torch.equal(torch.jit.load(path)(Xl), A2)
