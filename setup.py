"""Builds the twolayer Python package: the C++ operators (csrc/) as a torch extension.

On Debian's system Python, install into a venv that sees the system torch:
    /usr/bin/python3 -m venv --system-site-packages .venv
    .venv/bin/pip install --no-build-isolation .
"""
import glob
import os

from setuptools import setup
from torch.utils.cpp_extension import BuildExtension, CppExtension

HERE = os.path.dirname(os.path.abspath(__file__))


def relative(*parts):
    return os.path.join(*parts)


sources = sorted(glob.glob(relative("csrc", "**", "*.cpp"), recursive=True))

setup(
    name="twolayer",
    version="0.1.0",
    description="The two-layer network of the backpropagation lecture as a PyTorch operator "
    "with a hand-written backward",
    package_dir={"": "python"},
    packages=["twolayer"],
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
                                "-ffp-contract=fast", "-Wno-psabi"],
        )
    ],
    cmdclass={"build_ext": BuildExtension.with_options(no_python_abi_suffix=True)},
    python_requires=">=3.8",
    zip_safe=False,
)
