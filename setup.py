"""Builds the twolayer Python package around the C++ library.

The package ships one library, libtwolayer.so, built by CMake (CMakeLists.txt) against the
installed torch, with its public headers and its CMake package: Python loads that file
(torch.ops.load_library) and C++ applications link the same file through
find_package(TwoLayer) with ``twolayer.cmake_prefix_path``. The metadata is in pyproject.toml,
the version in version.txt. On Debian's system Python, install into a venv that sees the
system torch:
    /usr/bin/python3 -m venv --system-site-packages .venv
    .venv/bin/pip install --no-build-isolation .
"""
import os
import re
import shutil
import subprocess

import torch
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))


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
    # The library links against this exact torch: the package refuses to load under another
    # (see __init__.py) instead of failing with an undefined symbol.
    path = os.path.join(HERE, "python", "twolayer", "_build_info.py")
    text = ("# Written by setup.py when the package is built.\n"
            f"version = {version!r}\n"
            f"torch_version = {torch.__version__!r}\n")
    with open(path, "w") as f:
        f.write(text)


VERSION = read_version()
write_build_info(VERSION)

# Each torch gets its own build folder (the library is compiled against one torch's headers and
# ABI), apart from the CMake build of scripts/test.sh (build/cmake).
BUILD_BASE = os.path.join("build", f"python-torch{torch.__version__.replace('+', '-')}")


def torch_from_python():
    """The running torch for cmake/TwoLayerTorchFromPython.cmake, which CMake uses instead of
    find_package(Torch): a CUDA LibTorch's CMake files demand the CUDA toolkit."""
    from torch.utils.cpp_extension import include_paths, library_paths

    abi = int(getattr(torch._C, "_GLIBCXX_USE_CXX11_ABI", True))
    # include_paths() names folders that some builds lack (TH, THC on Debian's 1.13).
    includes = [d for d in include_paths() if os.path.isdir(d)]
    return "|".join([torch.__version__.split("+")[0], ",".join(includes),
                     ",".join(library_paths()), str(abi)])


class CMakeLibrary(Extension):
    """libtwolayer.so, built by CMake. It calls no Python API at all (it is loaded as a plain
    shared library), so it is within the limited API of every Python: the wheel is abi3."""

    def __init__(self, name):
        super().__init__(name, sources=[], py_limited_api=True)


class BuildWithCMake(build_ext):
    """Configures, builds and installs CMakeLists.txt into the package folder: lib/ (the library
    and lib/cmake/TwoLayer, the CMake package) and include/ (the public headers)."""

    def get_ext_filename(self, fullname):
        return fullname.split(".")[-1] + ".so"

    def run(self):
        cmake = shutil.which("cmake")
        if cmake is None:
            raise SystemExit("twolayer: building the package needs CMake 3.18 or later on PATH "
                             "(apt-get install cmake, or pip install cmake), and none was found")
        for ext in self.extensions:
            library = self.get_ext_fullpath(ext.name)        # <package>/lib/libtwolayer.so
            prefix = os.path.dirname(os.path.dirname(library))
            tree = os.path.join(HERE, BUILD_BASE, "cmake")
            jobs = os.environ.get("MAX_JOBS") or str(os.cpu_count() or 1)
            subprocess.check_call([
                cmake, "-S", HERE, "-B", tree, "-DCMAKE_BUILD_TYPE=Release",
                f"-DTWOLAYER_TORCH_FROM_PYTHON={torch_from_python()}",
                "-DTWOLAYER_PYTHON_PACKAGE=ON", "-DTWOLAYER_BUILD_TESTS=OFF",
                "-DTWOLAYER_BUILD_EXAMPLES=OFF", "-DCMAKE_INSTALL_LIBDIR=lib",
                "-DCMAKE_INSTALL_INCLUDEDIR=include"])
            subprocess.check_call([cmake, "--build", tree, "-j", jobs])
            subprocess.check_call([cmake, "--install", tree, "--prefix", prefix])
            if not os.path.isfile(library):
                raise SystemExit(f"twolayer: CMake installed no {library}")


setup(
    version=VERSION,
    options={"build": {"build_base": BUILD_BASE},
             "bdist_wheel": {"py_limited_api": "cp38"}},
    package_dir={"": "python"},
    packages=["twolayer"],
    package_data={"twolayer": ["py.typed"]},
    ext_modules=[CMakeLibrary("twolayer.lib.libtwolayer")],
    cmdclass={"build_ext": BuildWithCMake},
    zip_safe=False,
)
