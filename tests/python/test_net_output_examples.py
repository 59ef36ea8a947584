"""The output-layer studies of examples/outputs run as one command each: they print the
training and held-out scores of twolayer beside torch.nn.Sequential trained the same way, the
scores are good, the two agree, and the figure is saved. Short runs (a flag), to stay quick."""
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUTPUTS = os.path.join(ROOT, "examples", "outputs")

pytest.importorskip("matplotlib")


def _run(script, *args):
    result = subprocess.run([sys.executable, os.path.join(OUTPUTS, script), *args],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.splitlines()


def _scores(lines, metric):
    """{name: (train, held-out)} from lines like 'twolayer  train R2 0.97  held-out R2 0.96'."""
    pattern = re.compile(rf"^(\S+)\s+train {metric} (\S+)\s+held-out {metric} (\S+)$")
    found = {}
    for line in lines:
        match = pattern.match(line)
        if match:
            found[match.group(1)] = (float(match.group(2)), float(match.group(3)))
    assert sorted(found) == ["nn.Sequential", "twolayer"], lines
    return found


def _is_png(path):
    with open(path, "rb") as f:
        return f.read(8) == b"\x89PNG\r\n\x1a\n"


def _check(found, at_least):
    ours, theirs = found["twolayer"], found["nn.Sequential"]
    assert ours[0] > at_least and ours[1] > at_least, found
    # The same start and the same steps: the same scores, to the printed digits (+-1 in the last).
    assert abs(ours[0] - theirs[0]) <= 1e-4 and abs(ours[1] - theirs[1]) <= 1e-4, found


def test_the_spiral_study_classifies_three_classes_like_sequential(tmp_path):
    plot = str(tmp_path / "confusion.png")
    lines = _run("multiclass.py", "--dataset", "spiral", "--iterations", "300", "--plot", plot)
    assert lines[0].startswith("spiral: 675 training and 225 held-out examples, 2 features, "
                               "3 classes")
    _check(_scores(lines, "accuracy"), 0.9)
    assert lines[-1] == f"Figure saved to {plot}" and _is_png(plot)


def test_the_digits_study_classifies_ten_digits_like_sequential(tmp_path):
    pytest.importorskip("sklearn")
    plot = str(tmp_path / "digits.png")
    lines = _run("multiclass.py", "--dataset", "digits", "--iterations", "1500", "--plot", plot)
    assert "10 classes" in lines[0]
    _check(_scores(lines, "accuracy"), 0.9)
    assert _is_png(plot)


def test_the_regression_study_fits_the_curve_like_sequential(tmp_path):
    plot = str(tmp_path / "fit.png")
    lines = _run("regression.py", "--iterations", "500", "--plot", plot)
    assert lines[0].startswith("sin(2x) + 0.1 noise: 150 training and 50 held-out points")
    _check(_scores(lines, "R2"), 0.8)
    assert lines[-1] == f"Figure saved to {plot}" and _is_png(plot)


@pytest.mark.parametrize("script", ["multiclass.py", "regression.py"])
def test_the_studies_show_their_defaults(script):
    text = "\n".join(_run(script, "--help"))
    flat = " ".join(text.split())  # argparse wraps the help to the terminal's width
    assert "(default: 0.25)" in flat and "(default: 1)" in flat
    # The description keeps its line breaks (the command lines in it).
    assert f"\n    python3 examples/outputs/{script}\n" in text
