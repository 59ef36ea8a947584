"""The planar studies of examples/planar run as one command each, print and plot their training
and held-out accuracies, labelled, and save their figures; --help shows all."""
import ast
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLANAR = os.path.join(ROOT, "examples", "planar")

pytest.importorskip("matplotlib")


def _run(script, *args):
    result = subprocess.run([sys.executable, os.path.join(PLANAR, script), *args],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.splitlines()


def _is_png(path):
    with open(path, "rb") as f:
        return f.read(8) == b"\x89PNG\r\n\x1a\n"


# "NAME: training accuracy 93.33 %..., held-out accuracy 90.00 %...": the two numbers labelled.
ACCURACIES = re.compile(r"^\s*(.+?): training accuracy\s+([\d.]+) %.*, "
                        r"held-out accuracy\s+([\d.]+) %")


def _accuracies(lines):
    """{name: (training %, held-out %)} from a study's output."""
    found = [ACCURACIES.match(line) for line in lines]
    return {m.group(1): (float(m.group(2)), float(m.group(3))) for m in found if m}


def _is_a_share_of(percent, n):
    """percent is k/n of 100 for a whole k (as printed, to 2 decimals)."""
    return abs(percent * n / 100 - round(percent * n / 100)) < 0.01 * n / 100 + 1e-9


def test_hidden_sizes_study_saves_one_grid_with_every_size(tmp_path):
    plot = str(tmp_path / "grid.png")
    lines = _run("hidden_sizes.py", "--sizes", "1", "3", "--iterations", "300", "--plot", plot)
    # The flower's 400 points, a quarter held out.
    assert lines[0] == "flower: 300 training points, 100 held out"
    scores = _accuracies(lines)
    assert list(scores) == ["1 hidden tanh unit", "3 hidden tanh units"]
    for name, (train, held_out) in scores.items():
        assert _is_a_share_of(train, 300) and _is_a_share_of(held_out, 100), (name, train, held_out)
        # Better than chance on points it never saw, but not better than on those it was fitted
        # to by more than the noise of 100 points.
        assert 50 < held_out <= train + 10, (name, train, held_out)
    assert lines[-1] == f"Figure saved to {plot}" and _is_png(plot)


def test_held_out_zero_trains_on_every_point(tmp_path):
    # The default split is checked below (150 training points, 50 held out, of 200).
    lines = _run("other_datasets.py", "--dataset", "noisy_moons", "--iterations", "50",
                 "--held-out", "0", "--plot", str(tmp_path / "b.png"))
    assert "(200 points)" in lines[0], lines[0]
    assert "held-out accuracy    nan % (0 points)" in lines[0], lines[0]


@pytest.mark.parametrize("name", ["noisy_moons", "all"])
def test_other_datasets_are_selectable_by_name(tmp_path, name):
    plot = str(tmp_path / "other.png")
    lines = _run("other_datasets.py", "--dataset", name, "--iterations", "300", "--plot", plot)
    expected = ["noisy_moons"] if name == "noisy_moons" else [
        "noisy_circles", "noisy_moons", "blobs", "gaussian_quantiles"]
    scores = _accuracies(lines)
    assert list(scores) == expected and len(lines) == len(expected) + 1
    # A quarter of each data set's 200 points held out, by a fixed split.
    assert all("(150 points)" in line and "(50 points)" in line for line in lines[:-1]), lines
    for dataset, (train, held_out) in scores.items():
        assert _is_a_share_of(train, 150), (dataset, train)
        assert _is_a_share_of(held_out, 50), (dataset, held_out)
        assert 0 <= held_out <= 100
    # The moons are learnt in 300 iterations, and the learning carries over to unseen points.
    assert scores["noisy_moons"][1] >= 70, scores
    assert _is_png(plot)


@pytest.mark.parametrize("script", ["hidden_sizes.py", "other_datasets.py"])
def test_help_shows_the_whole_description_and_every_default(script):
    result = subprocess.run([sys.executable, os.path.join(PLANAR, script), "--help"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    with open(os.path.join(PLANAR, script)) as f:
        doc = ast.get_docstring(ast.parse(f.read()), clean=False)
    # Every line of the docstring, as written (not re-wrapped, not cut after the first line).
    for line in doc.strip().splitlines():
        assert line.rstrip() in result.stdout, line
    # Every option but --help says its default.
    options = re.findall(r"^  (--[\w-]+)", result.stdout, re.M)
    assert "--held-out" in options and "--plot" in options, options
    # (Python 3.10 renamed the section "optional arguments" to "options".)
    options_section = re.split(r"^(?:options|optional arguments):", result.stdout, flags=re.M)[-1]
    text = re.sub(r"\s+", " ", options_section)
    for option, following in zip(options, options[1:] + [None]):
        section = text[text.index(option + " "):text.index(following + " ") if following else None]
        assert "(default: " in section, (option, section)


def test_the_plot_names_one_unit_in_the_singular():
    sys.path.insert(0, PLANAR)
    try:
        from planar_plot import units
    finally:
        sys.path.remove(PLANAR)
    assert units(1, "tanh") == "1 hidden tanh unit"
    assert units(4, "relu") == "4 hidden relu units"


def test_an_unknown_data_set_is_refused_by_argparse(tmp_path):
    result = subprocess.run([sys.executable, os.path.join(PLANAR, "other_datasets.py"),
                             "--dataset", "spirals"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "invalid choice: 'spirals'" in result.stderr


def test_the_split_is_fixed_disjoint_and_whole():
    import torch
    sys.path.insert(0, PLANAR)
    try:
        from planar_plot import split
    finally:
        sys.path.remove(PLANAR)
    X = torch.arange(40.0).reshape(20, 2)
    Y = torch.arange(20.0).reshape(20, 1)
    X_train, Y_train, X_test, Y_test = split(X, Y)
    # The same points held out every time (it does not draw from the global generator).
    torch.manual_seed(123)
    again = split(X, Y)
    assert all(torch.equal(a, b) for a, b in zip((X_train, Y_train, X_test, Y_test), again))
    assert len(Y_test) == 5 and len(Y_train) == 15
    # Rows stay whole (X with its Y), and every example is in exactly one part.
    assert torch.equal(X_test[:, 0], 2 * Y_test[:, 0])
    assert torch.equal(X_train[:, 0], 2 * Y_train[:, 0])
    assert sorted(torch.cat([Y_train, Y_test])[:, 0].tolist()) == list(range(20))
