"""The source distribution is complete: a wheel built from it alone installs and runs the ops.

One test does it all (it compiles the extension once more, a few minutes on two cores):
`python -m build --sdist`, every header of include/ and csrc/ in it, a wheel built from the
unpacked sdist, that wheel installed into a fresh venv, and the operators run from there
against the reference network (reference.py, plain torch).
"""
import glob
import os
import re
import subprocess
import sys
import tarfile
import textwrap
import zipfile

import pytest
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def _run(args, cwd, timeout, env=None):
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                            env=env)
    assert result.returncode == 0, (f"{' '.join(args)} exited with {result.returncode}:\n"
                                    f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result.stdout


def _headers():
    found = []
    for top in ("include", "csrc"):
        for dirpath, _, files in os.walk(os.path.join(ROOT, top)):
            found += [os.path.relpath(os.path.join(dirpath, f), ROOT)
                      for f in files if f.endswith(".h")]
    return sorted(found)


# It compiles the extension once more (minutes on 2 cores): once per test command is enough, so
# the PyTorch 2.x and PyPI legs of scripts/test.sh, which run the same files again, leave it out.
@pytest.mark.slow
@pytest.mark.skipif(bool(os.environ.get("TWOLAYER_IN_TORCH2_ROOT")
                         or os.environ.get("TWOLAYER_IN_PYPI_LEG")),
                    reason="run once, on the host leg of scripts/test.sh")
def test_a_wheel_built_from_the_sdist_runs_the_ops(tmp_path):
    try:
        import build  # noqa: F401  (Debian: python3-build)
    except ImportError:
        pytest.fail("the sdist test needs `python -m build` (pip install build, or Debian's "
                    "python3-build)")
    dist = tmp_path / "dist"
    # --skip-dependency-check: the build uses the torch at hand, whose own pins (forky's sympy
    # refuses forky's mpmath) are the distribution's business, not the sdist's.
    no_isolation = ["--no-isolation", "--skip-dependency-check"]
    _run([sys.executable, "-m", "build", "--sdist", *no_isolation, "--outdir", str(dist)],
         cwd=ROOT, timeout=300)
    (sdist,) = glob.glob(str(dist / "twolayer-*.tar.gz"))
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
        top = names[0].split("/")[0]
        members = {n[len(top) + 1:] for n in names}
        assert len(_headers()) >= 20
        missing = [h for h in _headers() if h not in members]
        assert not missing, f"the sdist lacks {missing}"
        for needed in ("pyproject.toml", "setup.py", "version.txt", "LICENSE", "README.md",
                       "python/twolayer/py.typed", "python/twolayer/datasets.py"):
            assert needed in members, needed
        tar.extractall(tmp_path / "unpacked")
    source = tmp_path / "unpacked" / top

    env = dict(os.environ, MAX_JOBS=str(os.cpu_count() or 2))
    _run([sys.executable, "-m", "build", "--wheel", *no_isolation, "--outdir", str(dist)],
         cwd=str(source), timeout=900, env=env)
    (wheel,) = glob.glob(str(dist / "twolayer-*.whl"))
    # One wheel for every Python 3.8 on: the library calls no Python API.
    assert re.search(r"-cp38-abi3-linux_\w+\.whl$", wheel), wheel
    with zipfile.ZipFile(wheel) as whl:
        (metadata,) = [n for n in whl.namelist() if n.endswith(".dist-info/METADATA")]
        text = whl.read(metadata).decode()
        shipped = set(whl.namelist())
    for needed in ("twolayer/lib/libtwolayer.so", "twolayer/include/twolayer/twolayer.h",
                   "twolayer/lib/cmake/TwoLayer/TwoLayerConfig.cmake",
                   "twolayer/lib/cmake/TwoLayer/TwoLayerConfigVersion.cmake"):
        assert needed in shipped, (needed, sorted(shipped))
    assert re.search(r"^Requires-Dist: torch ?\(?>=1\.13", text, re.M), text
    assert "License: BSD-3-Clause" in text

    # A fresh venv that sees this torch but not the package under test. --system-site-packages
    # shows the base interpreter's packages only, not those of the venv running this test (where
    # PyPI's torch lives): a .pth file adds torch's own folder.
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], cwd=str(tmp_path),
         timeout=120)
    python = str(venv / "bin" / "python")
    site = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                cwd=str(tmp_path), timeout=60).strip()
    with open(os.path.join(site, "twolayer_test_torch.pth"), "w") as f:
        f.write(os.path.dirname(os.path.dirname(torch.__file__)) + "\n")
    # --ignore-installed: the package under test, seen through the .pth, is not this one.
    _run([python, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--ignore-installed",
          "--disable-pip-version-check", wheel], cwd=str(tmp_path), timeout=300)
    # reference.py from beside this file; twolayer itself must still come from the venv.
    check = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {HERE!r})
        import torch
        import twolayer
        from reference import reference_forward, reference_loss
        assert twolayer.__file__.startswith(sys.prefix), twolayer.__file__
        gen = torch.Generator().manual_seed(0)
        X = torch.randn(7, 3, generator=gen, dtype=torch.float64)
        Y = (torch.rand(7, 2, generator=gen) > 0.5).double()
        W1 = torch.randn(5, 3, generator=gen, dtype=torch.float64, requires_grad=True)
        b1 = torch.randn(5, generator=gen, dtype=torch.float64)
        W2 = torch.randn(2, 5, generator=gen, dtype=torch.float64)
        b2 = torch.randn(2, generator=gen, dtype=torch.float64)
        expected = reference_loss(X, Y, W1, b1, W2, b2, "tanh")
        J = twolayer.loss(X, Y, W1, b1, W2, b2)
        assert torch.allclose(J, expected, rtol=1e-12), (J, expected)
        J.backward()
        (dW1,) = torch.autograd.grad(expected, W1)
        assert torch.allclose(W1.grad, dW1, rtol=1e-10)
        assert torch.allclose(twolayer.forward(X, W1, b1, W2, b2),
                              reference_forward(X, W1, b1, W2, b2, "tanh"), rtol=1e-12)
        print("ops ok", twolayer.__version__)
    """)
    out = _run([python, "-c", check], cwd=str(tmp_path), timeout=120)
    assert out.startswith("ops ok ")
