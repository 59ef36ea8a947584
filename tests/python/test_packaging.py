"""The installed package: one version everywhere, its metadata, the build torch's guard, and a
release-built extension."""
import os
import re
import subprocess
import sys
import textwrap

import torch

import twolayer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _version_txt():
    with open(os.path.join(ROOT, "version.txt")) as f:
        return f.read().strip()


def test_one_version_reaches_python_metadata_and_the_header():
    from importlib.metadata import version

    expected = _version_txt()
    assert re.fullmatch(r"\d+\.\d+\.\d+", expected)
    assert twolayer.__version__ == expected
    assert version("twolayer") == expected
    with open(os.path.join(ROOT, "include", "twolayer", "version.h")) as f:
        header = dict(re.findall(r"#define TWOLAYER_VERSION_(MAJOR|MINOR|PATCH) (\d+)", f.read()))
    assert f"{header['MAJOR']}.{header['MINOR']}.{header['PATCH']}" == expected
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        assert "version.txt" in f.read()   # CMake's project(VERSION) comes from the same file


def test_metadata_declares_torch_license_and_python():
    from importlib.metadata import metadata, requires

    meta = metadata("twolayer")
    assert any(re.fullmatch(r"torch ?\(?>=1\.13\.0a0\)?", r) for r in requires("twolayer")), \
        requires("twolayer")
    assert meta["License"] == "BSD-3-Clause"
    assert meta["Requires-Python"] == ">=3.8"
    assert "backpropagation" in meta["Summary"]
    assert "License :: OSI Approved :: BSD License" in meta.get_all("Classifier")


def test_the_package_is_typed():
    assert os.path.isfile(os.path.join(os.path.dirname(twolayer.__file__), "py.typed"))


def test_the_build_torch_is_recorded():
    assert twolayer._built_with_torch == torch.__version__


def test_another_torch_is_refused_with_both_versions():
    # A child process: the refusal must come before the library is loaded into it.
    code = textwrap.dedent("""
        import torch
        built = torch.__version__
        torch.__version__ = "9.8.7"
        try:
            import twolayer
        except ImportError as error:
            print(error)
            raise SystemExit(0 if built in str(error) else 3)
        raise SystemExit(4)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    message = result.stdout.strip()
    assert message == (
        f"twolayer {twolayer.__version__} was built with torch {torch.__version__}, but torch "
        f"9.8.7 is installed: rebuild twolayer against this torch (`pip install "
        f"--no-build-isolation --force-reinstall .` from its source) or install torch "
        f"{torch.__version__}")


def test_the_extension_is_a_release_build_without_debug_information():
    path = twolayer.library_path
    size = os.path.getsize(path)
    assert size < 5 * 2 ** 20, f"{path}: {size / 2 ** 20:.1f} MiB"
    with open(path, "rb") as f:
        data = f.read()
    assert b".debug_info" not in data, f"{path} carries DWARF debug information"
