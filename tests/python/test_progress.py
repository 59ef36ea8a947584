"""TwoLayerNet.fit's progress: the same refusal of a negative count in every form, before
anything runs; the last iteration reported, a live tqdm bar on a terminal, plain lines
elsewhere, the final cost at the end, and the same costs and parameters as a silent fit."""
import io
import re

import pytest
import torch

import twolayer
from twolayer import _progress  # noqa: E402
from conftest import make_inputs
from reference import reference_loss


def _setup(m=40, seed=11):
    inputs = make_inputs(m, 2, 4, 1, seed=seed, dtype=torch.float32)
    return inputs["X"], inputs["Y"]


def _net():
    return twolayer.TwoLayerNet(2, 4, 1, seed=5, init_scale=0.5)


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def _message(call):
    with pytest.raises(Exception) as error:
        call()
    return type(error.value), str(error.value).splitlines()[0]


def test_negative_iterations_are_refused_alike_in_every_form(capsys):
    X, Y = _setup()
    net = _net()
    before = [p.detach().clone() for p in net.parameters()]
    calls = []
    params = [p.detach().clone() for p in net.parameters()]
    expected = _message(lambda: twolayer.fit_(*params, X, Y, -5, 1.2))
    assert expected[1].startswith("twolayer: ")
    assert _message(lambda: net.fit(X, Y, -5, 1.2)) == expected
    assert _message(lambda: net.fit(X, Y, -5, 1.2, progress=True)) == expected
    assert _message(lambda: net.fit(X, Y, -5, 1.2, progress=lambda i, c: calls.append(i))) \
        == expected
    assert calls == [] and capsys.readouterr().out == ""
    for p, b in zip(net.parameters(), before):
        assert torch.equal(p.detach(), b)


def test_the_callable_gets_every_report_and_the_last_iteration():
    X, Y = _setup()
    net = _net()
    params = [p.detach().clone() for p in net.parameters()]
    reports = []
    costs = net.fit(X, Y, 25, 0.5, progress=lambda i, c: reports.append((i, c)), every=10)
    assert torch.equal(costs, twolayer.fit_(*params, X, Y, 25, 0.5))
    assert [i for i, _ in reports] == [0, 10, 20, 24]
    assert [c for _, c in reports] == [costs[i].item() for i in (0, 10, 20, 24)]
    reports.clear()
    net.fit(X, Y, 21, 0.5, progress=lambda i, c: reports.append(i), every=10)
    assert reports == [0, 10, 20]   # the last iteration is reported once


def test_plain_lines_when_stdout_is_not_a_terminal(capsys):
    X, Y = _setup(m=20, seed=12)
    net = _net()
    costs = net.fit(X, Y, 5, 0.5, progress=True, every=2)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    assert lines[0] == f"Cost after iteration 0: {costs[0].item():.6f}"
    for line, i in zip(lines[1:3], (2, 4)):
        assert re.fullmatch(rf"Cost after iteration {i}: {costs[i].item():.6f}  "
                            r"\([\d,]+ it/s, \d+\.\d s left\)", line), line
    final = reference_loss(X, Y, *[p.detach() for p in net.parameters()]).item()
    assert re.fullmatch(rf"Final cost after 5 iterations: {final:.6f}  \([\d,]+ it/s, "
                        r"\d+\.\d s\)", lines[3]), lines[3]


def test_a_live_bar_on_a_terminal(monkeypatch):
    pytest.importorskip("tqdm")
    X, Y = _setup()
    net = _net()
    params = [p.detach().clone() for p in net.parameters()]
    terminal = FakeTerminal()
    monkeypatch.setattr("sys.stdout", terminal)
    costs = net.fit(X, Y, 3000, 0.5, progress=True)
    monkeypatch.undo()
    assert torch.equal(costs, twolayer.fit_(*params, X, Y, 3000, 0.5))
    out = terminal.getvalue()
    assert "3000/3000" in out and "it/s" in out and "cost " in out
    final = reference_loss(X, Y, *[p.detach() for p in net.parameters()]).item()
    assert f"final cost {final:.6f}" in out
    assert "Cost after iteration" not in out


def test_plain_lines_on_a_terminal_without_tqdm(monkeypatch):
    X, Y = _setup()
    net = _net()
    terminal = FakeTerminal()
    monkeypatch.setattr(_progress, "_tqdm_available", lambda: False)
    monkeypatch.setattr("sys.stdout", terminal)
    net.fit(X, Y, 30, 0.5, progress=True, every=10)
    monkeypatch.undo()
    lines = terminal.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "Cost after iteration 0", "Cost after iteration 10", "Cost after iteration 20",
        "Final cost after 30 iterations"]


def test_the_bar_runs_every_iteration_exactly_once():
    pytest.importorskip("tqdm")
    X, Y = _setup()
    net, twin = _net(), _net()
    sizes = []
    with torch.no_grad():
        params = list(net.parameters())
        costs = _progress.fit_with_bar(
            lambda n: sizes.append(n) or twolayer.fit_(*params, X, Y, n, 0.5), 777,
            lambda: 0.0, io.StringIO())
    assert sum(sizes) == 777 and sizes[0] == 1 and len(sizes) > 1
    assert torch.equal(costs, twin.fit(X, Y, 777, 0.5))


@pytest.mark.parametrize("every", [0, -1, 1.5, True])
def test_a_bad_every_is_refused(every):
    X, Y = _setup()
    with pytest.raises(ValueError, match=r"^twolayer: every must be an int >= 1, but got "):
        _net().fit(X, Y, 10, 0.5, progress=True, every=every)
