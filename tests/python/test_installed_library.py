"""The installed package as C++ and the process see it: one libtwolayer.so with its headers and
CMake package, built against by a C++ application that then maps that same file; a library that
calls no Python API (the abi3 wheel); one OpenMP runtime beside torch's, with twolayer's own row
loops on two threads giving the same bits run after run."""
import os
import re
import shutil
import subprocess
import sys

import pytest
import torch

import twolayer
from twolayer import _testing
from conftest import make_inputs

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def _mapped(pattern):
    """Distinct files mapped into this process whose name matches pattern."""
    with open("/proc/self/maps") as f:
        paths = {line.split(None, 5)[5].strip() for line in f if len(line.split(None, 5)) == 6}
    return sorted(os.path.realpath(p) for p in paths if re.search(pattern, os.path.basename(p)))


def test_the_package_ships_the_library_headers_and_cmake_package():
    package = os.path.dirname(twolayer.__file__)
    assert twolayer.library_path == os.path.join(package, "lib", "libtwolayer.so")
    assert os.path.isfile(twolayer.library_path)
    for header in ("twolayer.h", "ops.h", "net.h", "version.h", "export.h"):
        assert os.path.isfile(os.path.join(package, "include", "twolayer", header)), header
    config = os.path.join(twolayer.cmake_prefix_path, "TwoLayer")
    for name in ("TwoLayerConfig.cmake", "TwoLayerConfigVersion.cmake", "TwoLayerTargets.cmake"):
        assert os.path.isfile(os.path.join(config, name)), name
    # One compiled file: no second build of the sources (the old Python extension _C).
    compiled = [os.path.relpath(os.path.join(d, f), package) for d, _, files in os.walk(package)
                for f in files if ".so" in f or f.endswith(".pyd")]
    assert compiled == [os.path.join("lib", "libtwolayer.so")], compiled


def test_the_process_maps_one_twolayer_library():
    assert _mapped(r"twolayer") == [os.path.realpath(twolayer.library_path)]
    assert torch.ops.twolayer._library() == [twolayer.library_path, twolayer.__version__]


@pytest.mark.skipif(shutil.which("nm") is None, reason="needs binutils' nm")
def test_the_library_calls_no_python_api():
    # What makes the wheel abi3 (py_limited_api) for every Python: not a single CPython symbol.
    out = subprocess.run(["nm", "-D", "--undefined-only", twolayer.library_path],
                         capture_output=True, text=True, check=True).stdout
    python_symbols = [line.split()[-1] for line in out.splitlines()
                      if re.match(r"_?Py|_Py", line.split()[-1])]
    assert not python_symbols, python_symbols
    assert "U " in out   # nm did read the symbol table


def test_one_openmp_runtime_and_it_is_torchs():
    runtimes = _mapped(r"^lib(g|i|iomp5|)omp")
    assert len(runtimes) == 1, f"more than one OpenMP runtime in the process: {runtimes}"
    torch_lib = os.path.join(os.path.dirname(torch.__file__), "lib")
    own = [f for f in os.listdir(torch_lib) if re.match(r"lib(g|i)omp", f)] \
        if os.path.isdir(torch_lib) else []
    if own:   # a pip torch ships its runtime: that one must be the one mapped
        assert os.path.dirname(runtimes[0]) == os.path.realpath(torch_lib), runtimes


def test_row_loops_on_two_threads_repeat_bit_for_bit():
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        rows = 4096
        assert _testing.row_chunk_threads(rows) == 2
        results = []
        for _ in range(3):
            t = make_inputs(rows, 16, 64, 1, seed=5, dtype=torch.float32)
            W1 = t["W1"].clone().requires_grad_()
            J = twolayer.loss(t["X"], t["Y"], W1, t["b1"], t["W2"], t["b2"])
            J.backward()
            results.append((J.detach(), W1.grad))
        for J, dW1 in results[1:]:
            assert torch.equal(J, results[0][0]) and torch.equal(dW1, results[0][1])
    finally:
        torch.set_num_threads(threads)


@pytest.mark.slow   # compiles and links a LibTorch program
def test_a_cpp_app_builds_against_the_installed_package_and_maps_its_library(tmp_path):
    # As the README tells C++ users of the wheel: both prefixes from Python, find_package(TwoLayer).
    prefix = f"{torch.utils.cmake_prefix_path};{twolayer.cmake_prefix_path}"
    build = tmp_path / "build"
    for args in (["-S", os.path.join(REPO, "examples", "downstream"), "-B", str(build),
                  "-DCMAKE_BUILD_TYPE=Release", f"-DCMAKE_PREFIX_PATH={prefix}"],
                 ["--build", str(build), "--target", "run_scripted_model",
                  "-j", str(os.cpu_count() or 2)]):
        done = subprocess.run(["cmake", *args], capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    subprocess.run([sys.executable, os.path.join(HERE, "save_scripted_models.py"),
                    str(tmp_path / "models")], check=True, capture_output=True, timeout=300)
    done = subprocess.run([str(build / "run_scripted_model"), str(tmp_path / "models" /
                                                                  "loss_module.pt")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    mapped = re.findall(r"^mapped: (.*)$", done.stdout, re.M)
    assert mapped == [os.path.realpath(twolayer.library_path)], done.stdout
