"""Builds the twolayer Python package: the C++ operators (csrc/) as a torch extension.

The metadata is in pyproject.toml, the version in version.txt. On Debian's system Python,
install into a venv that sees the system torch:
    /usr/bin/python3 -m venv --system-site-packages .venv
    .venv/bin/pip install --no-build-isolation .
"""
import glob
import os
import re

import torch
from setuptools import setup
from torch.utils.cpp_extension import BuildExtension, CppExtension

HERE = os.path.dirname(os.path.abspath(__file__))


def relative(*parts):
    return os.path.join(*parts)


def read_version():
    """version.txt, checked against include/twolayer/version.h, which C++ callers read."""
    with open(os.path.join(HERE, "version.txt")) as f:
        version = f.read().strip()
    with open(os.path.join(HERE, "include", "twolayer", "version.h")) as f:
        header = dict(re.findall(r"#define TWOLAYER_VERSION_(MAJOR|MINOR|PATCH) (\d+)", f.read()))
    from_header = f"{header.get('MAJOR')}.{header.get('MINOR')}.{header.get('PATCH')}"
    if from_header != version:
        raise SystemExit(f"twolayer: include/twolayer/version.h says {from_header} but "
                         f"version.txt says {version}: update the header")
    return version


def write_build_info(version):
    # The extension links against this exact torch: the package refuses to load under another
    # (see __init__.py) instead of failing with an undefined symbol.
    path = os.path.join(HERE, "python", "twolayer", "_build_info.py")
    text = ("# Written by setup.py when the package is built.\n"
            f"version = {version!r}\n"
            f"torch_version = {torch.__version__!r}\n")
    with open(path, "w") as f:
        f.write(text)


VERSION = read_version()
write_build_info(VERSION)
sources = sorted(glob.glob(relative("csrc", "**", "*.cpp"), recursive=True))

setup(
    version=VERSION,
    package_dir={"": "python"},
    packages=["twolayer"],
    package_data={"twolayer": ["py.typed"]},
    ext_modules=[
        CppExtension(
            "twolayer._C",
            sources,
            include_dirs=[os.path.join(HERE, "include"), os.path.join(HERE, "csrc")],
            # torch 1.13's cpp_extension passes -std=c++14 first; the later flag wins.
            # -ffp-contract=fast as in the CMake build (GNU dialect): both builds then fuse the
            # same multiply-adds and agree bit for bit (tests/cpp/test_checkpoint.cpp checks).
            # -Wno-psabi: see CMakeLists.txt (32-byte vectors never cross an ABI boundary).
            extra_compile_args=["-std=c++17", "-O3", "-fno-trapping-math", "-fno-math-errno",
                                "-ffp-contract=fast", "-Wno-psabi"] + ["-g0"],
            # A release build: Python's own CFLAGS carry -g, which made the extension ~20x larger.
            extra_link_args=["-Wl,--strip-debug"],
        )
    ],
    cmdclass={"build_ext": BuildExtension.with_options(no_python_abi_suffix=True)},
    zip_safe=False,
)
