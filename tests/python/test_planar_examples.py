"""The planar studies of examples/planar run as one command each and save their figures."""
import os
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


def test_hidden_sizes_study_saves_one_grid_with_every_size(tmp_path):
    plot = str(tmp_path / "grid.png")
    lines = _run("hidden_sizes.py", "--sizes", "1", "3", "--iterations", "300", "--plot", plot)
    assert [line.split(":")[0].strip() for line in lines[:2]] == ["1 hidden tanh unit",
                                                                  "3 hidden tanh units"]
    assert lines[-1] == f"Figure saved to {plot}" and _is_png(plot)


@pytest.mark.parametrize("name", ["noisy_moons", "all"])
def test_other_datasets_are_selectable_by_name(tmp_path, name):
    plot = str(tmp_path / "other.png")
    lines = _run("other_datasets.py", "--dataset", name, "--iterations", "300", "--plot", plot)
    expected = ["noisy_moons"] if name == "noisy_moons" else [
        "noisy_circles", "noisy_moons", "blobs", "gaussian_quantiles"]
    assert [line.split(":")[0].strip() for line in lines[:-1]] == expected
    assert _is_png(plot)


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
