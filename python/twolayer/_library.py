"""The C++ library, libtwolayer.so: the one file that Python loads and that C++ applications
built against this package (find_package(TwoLayer) with ``cmake_prefix_path``) link."""
import os

import torch

_HERE = os.path.dirname(os.path.abspath(__file__))

library_path = os.path.join(_HERE, "lib", "libtwolayer.so")
# For CMAKE_PREFIX_PATH, beside torch.utils.cmake_prefix_path: lib/cmake/TwoLayer.
cmake_prefix_path = os.path.join(_HERE, "lib", "cmake")


def load(version):
    """Loads the library, which registers the operators, and checks that it is the copy that
    serves them: a copy loaded before it (a CMake install's, another version's) keeps them, and
    this package would then run that copy's code under its own name."""
    if not os.path.isfile(library_path):
        raise ImportError(
            f"twolayer: the compiled library {library_path} is missing; install the package "
            "with `pip install --no-build-isolation .`")
    torch.ops.load_library(library_path)
    try:
        serving_path, serving_version = torch.ops.twolayer._library()
    except (AttributeError, RuntimeError):
        serving_path, serving_version = "(a build of twolayer too old to name its file)", "unknown"
    if os.path.realpath(serving_path) != os.path.realpath(library_path):
        raise ImportError(
            f"twolayer: another copy of the library serves this process: {serving_path} (version "
            f"{serving_version}); this package's {library_path} (version {version}) was refused, "
            "because two builds of the operators cannot share a process. Load one copy: import "
            "twolayer before loading any other, or build the C++ code against this package "
            "(CMAKE_PREFIX_PATH with twolayer.cmake_prefix_path)")
