"""Nothing lost: TwoLayerNet checkpoints in Python.

- torch.save / torch.load of the state dict, of the whole module, and torch.jit.save /
  torch.jit.load of the scripted module all give the parameters back bit for bit (bit patterns
  compared, so even -0.0 versus 0.0 would show);
- training resumed from a checkpoint ends exactly where uninterrupted training ends (fit_, and
  a manual loop whose optimizer has state);
- a truncated file or a file that is not a checkpoint raises an exception, never crashes the
  process (the loads run in a child process so that a crash is reported, not fatal to pytest);
- the helpers of the cross-language chain (save_checkpoints.py, check_cpp_checkpoint.py) write
  what they claim and reject a mismatch. The C++ side is tests/cpp/test_checkpoint.cpp.
"""
import io
import json
import os
import subprocess
import sys
import textwrap
import warnings
import zipfile

import pytest
import torch

import twolayer

import check_cpp_checkpoint
import save_checkpoints
from save_checkpoints import PARAMS, bitwise_equal, read_values, write_values

HERE = os.path.dirname(os.path.abspath(__file__))
DTYPES = (torch.float32, torch.float64)


def training_data(dtype, seed=0, m=40):
    X, Y = save_checkpoints.training_data()
    gen = torch.Generator().manual_seed(seed)
    perm = torch.randperm(X.shape[0], generator=gen)[:m]
    return X[perm].to(dtype), Y[perm].to(dtype)


def trained_net(dtype, activation="tanh", seed=3, steps=30):
    """A net whose parameters are nothing like their initial values (biases non-zero)."""
    X, Y = training_data(dtype, seed)
    net = twolayer.TwoLayerNet(2, 4, 1, activation=activation, seed=seed, dtype=dtype)
    net.fit(X, Y, steps, 0.5)
    assert all(getattr(net, p).abs().min() > 0 for p in ("b1", "b2"))
    return net


def params(module):
    return {name: t.detach().clone() for name, t in module.named_parameters()}


def assert_same_params(actual, expected):
    assert sorted(actual) == sorted(expected) == sorted(PARAMS)
    for p in PARAMS:
        assert bitwise_equal(actual[p].detach(), expected[p].detach()), \
            f"{p}:\n{actual[p]}\n{expected[p]}"


# ---------------------------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_state_dict_round_trip_is_bitwise(tmp_path, dtype):
    net = trained_net(dtype)
    path = tmp_path / "state.pt"
    torch.save(net.state_dict(), path)

    state = torch.load(path)
    # The names C++ (net.h) registers, in its order: the parameters, then the activation and
    # the output layer.
    assert list(state) == list(PARAMS) + ["activation_name", "output_name"]
    loaded = twolayer.TwoLayerNet(2, 4, 1, seed=99, dtype=dtype)
    assert not bitwise_equal(loaded.W1.detach(), net.W1.detach())   # the load must do the work
    loaded.load_state_dict(state)
    assert_same_params(params(loaded), params(net))
    X, _ = training_data(dtype)
    assert bitwise_equal(loaded(X).detach(), net(X).detach())


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_whole_module_torch_save_round_trip(tmp_path, activation):
    net = trained_net(torch.float64, activation)
    path = tmp_path / "module.pt"
    torch.save(net, path)
    # A whole pickled module is code, not only weights: PyTorch 2.6 and later refuse it under
    # their default weights_only=True, so this load asks for the full unpickler.
    loaded = torch.load(path, weights_only=False)
    assert isinstance(loaded, twolayer.TwoLayerNet)
    assert loaded.activation == activation
    assert_same_params(params(loaded), params(net))


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("activation", ["tanh", "leaky_relu"])
def test_scripted_module_jit_save_round_trip(tmp_path, dtype, activation):
    net = trained_net(dtype, activation)
    path = tmp_path / "scripted.pt"
    torch.jit.save(torch.jit.script(net), str(path))
    loaded = torch.jit.load(str(path))

    assert_same_params(params(loaded), params(net))
    assert loaded.activation == activation
    X, Y = training_data(dtype, seed=1)
    assert bitwise_equal(loaded(X).detach(), net(X).detach())
    assert bitwise_equal(loaded.loss(X, Y).detach(), net.loss(X, Y).detach())
    # The loaded module still trains: its loss runs the hand-written backward.
    loaded.loss(X, Y).backward()
    net.loss(X, Y).backward()
    for p in PARAMS:
        assert bitwise_equal(getattr(loaded, p).grad, getattr(net, p).grad), p


# ---------------------------------------------------------------------------------------------
# Resumed training
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("how", ["state_dict", "jit"])
def test_resumed_fit_matches_uninterrupted(tmp_path, dtype, how):
    X, Y = training_data(dtype)
    uninterrupted = twolayer.TwoLayerNet(2, 4, 1, seed=4, dtype=dtype)
    uninterrupted.fit(X, Y, 100, 1.2)

    first = twolayer.TwoLayerNet(2, 4, 1, seed=4, dtype=dtype)
    first.fit(X, Y, 50, 1.2)
    path = str(tmp_path / "half.pt")
    if how == "state_dict":
        torch.save(first.state_dict(), path)
        state = torch.load(path)
    else:
        torch.jit.save(torch.jit.script(first), path)
        state = dict(torch.jit.load(path).named_parameters())
    del first
    resumed = twolayer.TwoLayerNet(2, 4, 1, seed=77, dtype=dtype)
    resumed.load_state_dict(state)
    resumed.fit(X, Y, 50, 1.2)
    assert_same_params(params(resumed), params(uninterrupted))


def _train_sgd(net, optimizer, X, Y, steps):
    for _ in range(steps):
        optimizer.zero_grad()
        net.loss(X, Y).backward()    # the hand-written backward
        optimizer.step()


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_resumed_sgd_with_momentum_matches_uninterrupted(tmp_path, dtype):
    X, Y = training_data(dtype, seed=5)

    def new(seed):
        net = twolayer.TwoLayerNet(2, 4, 1, seed=seed, dtype=dtype)
        return net, torch.optim.SGD(net.parameters(), lr=0.3, momentum=0.9)

    net, opt = new(5)
    _train_sgd(net, opt, X, Y, 100)
    expected = params(net)

    net, opt = new(5)
    _train_sgd(net, opt, X, Y, 50)
    path = tmp_path / "checkpoint.pt"
    torch.save({"model": net.state_dict(), "optimizer": opt.state_dict(), "step": 50}, path)
    del net, opt

    checkpoint = torch.load(path)
    resumed, resumed_opt = new(66)
    resumed.load_state_dict(checkpoint["model"])
    resumed_opt.load_state_dict(checkpoint["optimizer"])
    assert checkpoint["step"] == 50
    _train_sgd(resumed, resumed_opt, X, Y, 50)
    assert_same_params(params(resumed), expected)

    # Without the optimizer's state the momentum restarts from zero and the run differs: the
    # comparison above is sharp enough to see a lost piece of state.
    forgetful, fresh_opt = new(66)
    forgetful.load_state_dict(checkpoint["model"])
    _train_sgd(forgetful, fresh_opt, X, Y, 50)
    assert not bitwise_equal(forgetful.W1.detach(), expected["W1"])


# ---------------------------------------------------------------------------------------------
# Damaged and foreign files
# ---------------------------------------------------------------------------------------------

# Runs in a child process: a crash there (a signal) is a test failure with a clear report, where
# in pytest's own process it would end the whole run.
_LOAD_CHILD = textwrap.dedent("""
    import json, sys, warnings
    import torch
    import twolayer
    warnings.simplefilter("ignore")
    outcomes = []
    for loader, path in json.loads(sys.argv[1]):
        try:
            if loader == "torch.load":
                torch.load(path)
            elif loader == "torch.load(weights_only=False)":
                torch.load(path, weights_only=False)
            elif loader == "torch.jit.load":
                torch.jit.load(path)
            else:
                twolayer.TwoLayerNet(2, 4, 1, dtype=torch.float64).load_state_dict(torch.load(path))
            outcomes.append(["ok", ""])
        except BaseException as e:
            outcomes.append([type(e).__module__ + "." + type(e).__qualname__, str(e)[:300]])
    print(json.dumps(outcomes))
""")

LOADERS = ("torch.load", "torch.jit.load", "load_state_dict")


def load_outcomes(jobs):
    """[(exception type name or 'ok', message)] of each (loader, path), in one child process."""
    proc = subprocess.run([sys.executable, "-c", _LOAD_CHILD, json.dumps(jobs)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (f"loading crashed the process (exit code {proc.returncode}):"
                                  f"\n{proc.stderr[-3000:]}")
    return [tuple(o) for o in json.loads(proc.stdout.strip().splitlines()[-1])]


def truncations(path, outdir):
    data = open(path, "rb").read()
    n = len(data)
    cuts = sorted({0, 1, 4, 30, 64, 100, n // 4, n // 2, n - 100, n - 22, n - 1,
                   *range(97, n, 97)})
    files = []
    for cut in cuts:
        f = os.path.join(outdir, f"{os.path.basename(path)}.cut{cut}")
        with open(f, "wb") as out:
            out.write(data[:cut])
        files.append(f)
    return files


@pytest.mark.parametrize("saver", ["state_dict", "jit"])
def test_truncated_checkpoint_raises(tmp_path, saver):
    net = trained_net(torch.float64)
    path = str(tmp_path / "full.pt")
    if saver == "state_dict":
        torch.save(net.state_dict(), path)
        loaders = ("torch.load", "load_state_dict")
    else:
        torch.jit.save(torch.jit.script(net), path)
        # A TorchScript archive is code as well as weights: torch.load reads it only with
        # weights_only=False (the default is True from PyTorch 2.6 on).
        loaders = ("torch.jit.load", "torch.load(weights_only=False)")
    files = truncations(path, str(tmp_path))
    jobs = [(loader, f) for loader in loaders for f in [path] + files]
    for (loader, f), (kind, message) in zip(jobs, load_outcomes(jobs)):
        size = os.path.getsize(f)
        what = f"{loader}({os.path.basename(f)}, {size} bytes): {kind}: {message}"
        if f == path:
            # The intact file loads: the failures below are the cuts', not the loader's.
            assert kind == "ok", what
            continue
        # "PytorchStreamReader failed reading zip archive: ..."
        expected = {"builtins.RuntimeError"}
        if loader != "torch.jit.load":
            if size < 4:
                # Too short for the zip signature "PK\x03\x04", so torch.load falls back to
                # the legacy pickle format: an empty file runs out of input, and "P" is
                # pickle's persistent-id opcode.
                expected = {"_pickle.UnpicklingError" if size else "builtins.EOFError"}
            else:
                # torch.load reads through a Python file object; when the reader's search for
                # the zip directory seeks before the start of the file (files of more than
                # 4 KiB cut near their end), Python's seek fails with EINVAL first.
                expected.add("builtins.OSError")
        assert kind in expected, what
        # PyTorch 2.x's torch.load says nothing more than EOFError for an empty file.
        assert message or (size == 0 and kind == "builtins.EOFError"), \
            f"{what}: an exception without a message"


def _not_checkpoints(outdir):
    noise = bytes((i * 1103515245 + 12345) >> 16 & 0xFF for i in range(4096))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", b"not a pickle")
    files = {
        "text": b"W1 = [[0.1, 0.2]]\nthis is not a checkpoint\n",
        "noise": noise,
        "zip_of_something_else": buf.getvalue(),
    }
    paths = {}
    for name, data in files.items():
        paths[name] = os.path.join(outdir, name)
        with open(paths[name], "wb") as f:
            f.write(data)
    return paths


def test_file_that_is_not_a_checkpoint_raises(tmp_path):
    paths = _not_checkpoints(str(tmp_path))
    by_torch_load = {"text": "_pickle.UnpicklingError", "noise": "_pickle.UnpicklingError",
                     "zip_of_something_else": "builtins.RuntimeError"}
    expected = {"torch.load": by_torch_load, "load_state_dict": by_torch_load,
                "torch.jit.load": {name: "builtins.RuntimeError" for name in paths}}
    jobs = [(loader, paths[name]) for loader in LOADERS for name in paths]
    for (loader, path), (kind, message) in zip(jobs, load_outcomes(jobs)):
        name = os.path.basename(path)
        assert kind == expected[loader][name], f"{loader}({name}): {kind}: {message}"
        assert message, f"{loader}({name}): an exception without a message"


def test_checkpoint_of_another_network_is_refused_by_load_state_dict(tmp_path):
    # A valid file, but of another shape or another module: load_state_dict must refuse it
    # and name the offending parameter, not load it into the wrong shapes.
    other = twolayer.TwoLayerNet(3, 5, 2, dtype=torch.float64).state_dict()
    linear = torch.nn.Linear(2, 4).state_dict()
    net = twolayer.TwoLayerNet(2, 4, 1, dtype=torch.float64)
    before = params(net)
    with pytest.raises(RuntimeError, match=r"^twolayer: the checkpoint's W1 has shape \[5, 3\], "
                                           r"but this TwoLayerNet's W1 has shape \[4, 2\]$"):
        net.load_state_dict(other)
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "W1"'):
        net.load_state_dict(linear)
    assert_same_params(params(net), before)


# ---------------------------------------------------------------------------------------------
# The cross-language helpers (the C++ half runs under ctest: tests/cpp/test_checkpoint.cpp)
# ---------------------------------------------------------------------------------------------

def test_save_checkpoints_writes_what_its_text_says(tmp_path):
    subprocess.run([sys.executable, os.path.join(HERE, "save_checkpoints.py"), str(tmp_path)],
                   check=True, timeout=120, capture_output=True)
    expected = read_values(tmp_path / "python_expected.txt")
    state = torch.load(tmp_path / "python_state_dict.pt")
    assert bytes(state.pop("activation_name").tolist()) == b"tanh"
    assert bytes(state.pop("output_name").tolist()) == b"sigmoid"
    assert_same_params(state, {p: expected[p] for p in PARAMS})
    assert_same_params(params(torch.jit.load(str(tmp_path / "python_scripted_net.pt"))),
                       {p: expected[p] for p in PARAMS})
    # The resumed target is 50 steps further on, not a copy of the checkpoint.
    assert not bitwise_equal(expected["W1_after_resume"], expected["W1"])


def test_hex_text_is_exact(tmp_path):
    values = {"a": torch.tensor([0.1, -0.0, 1e-310, 2.0 ** 60, -1 / 3], dtype=torch.float64),
              "b": torch.tensor([[0.1, -2.5e-38]], dtype=torch.float32),
              "s": torch.tensor(1.2, dtype=torch.float64)}
    write_values(tmp_path / "v.txt", values, "a header\nof two lines")
    back = read_values(tmp_path / "v.txt")
    assert sorted(back) == sorted(values)
    for name in values:
        assert bitwise_equal(back[name], values[name]), name


def _fake_cpp_outputs(outdir, tamper=None):
    """What the C++ test writes, made here: a TorchScript archive with W1..b2 and the text."""
    X, Y = save_checkpoints.training_data()
    net = twolayer.TwoLayerNet(2, 4, 1, seed=9, dtype=torch.float64)
    net.fit(X, Y, 50, 1.2)
    torch.jit.save(torch.jit.script(net), os.path.join(outdir, "cpp_net.pt"))
    values = params(net)
    values.update(X=X, Y=Y, learning_rate=torch.tensor(1.2, dtype=torch.float64),
                  half_steps=torch.tensor(50.0, dtype=torch.float64))
    net.fit(X, Y, 50, 1.2)
    values.update({p + "_after_resume": t for p, t in params(net).items()})
    if tamper == "b2":  # a loaded parameter: must match bit for bit
        values[tamper] = values[tamper].clone()
        values[tamper].view(-1)[0] = torch.nextafter(values[tamper].view(-1)[0],
                                                     torch.tensor(1.0, dtype=torch.float64))
    elif tamper:  # resumed training: must match to float64 rounding, across two compilations
        values[tamper] = values[tamper].clone()
        values[tamper].view(-1)[0] *= 1 + 1e-9
    write_values(os.path.join(outdir, "cpp_expected.txt"), values)


@pytest.mark.parametrize("tamper", [None, "b2", "W1_after_resume"])
def test_check_cpp_checkpoint_accepts_a_match_and_rejects_a_mismatch(tmp_path, tamper):
    _fake_cpp_outputs(str(tmp_path), tamper)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        failures = check_cpp_checkpoint.check(str(tmp_path))
    if tamper is None:
        assert failures == []
    else:
        assert failures and all(tamper.split("_")[0] in f for f in failures), failures


def test_check_cpp_checkpoint_reports_missing_files(tmp_path):
    failures = check_cpp_checkpoint.check(str(tmp_path))
    assert len(failures) == 1 and "is missing" in failures[0]
