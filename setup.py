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
from torch.utils.cpp_extension import BuildExtension, CppExtension, include_paths

HERE = os.path.dirname(os.path.abspath(__file__))


def build_flags():
    """cmake/build_flags.txt, which CMakeLists.txt reads too: {key: [values]}."""
    settings = {}
    with open(os.path.join(HERE, "cmake", "build_flags.txt")) as f:
        for line in f:
            key, sep, values = line.partition(":")
            if sep and not line.startswith("#"):
                settings[key.strip()] = values.split()
    return settings


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


def torch_header(name):
    for folder in include_paths():
        path = os.path.join(folder, name)
        if os.path.exists(path):
            with open(path) as f:
                return f.read()
    raise RuntimeError(f"twolayer: {name} not found in torch's include paths {include_paths()}")


def cxx_standard(standards):
    """The lowest standard that torch's ATen.h accepts (it #errors below the one it needs)."""
    found = re.search(r"__cplusplus < (\d+)L", torch_header(os.path.join("ATen", "ATen.h")))
    required = int(found.group(1)) if found else 0
    cplusplus = {"17": 201703, "20": 202002}
    for standard in standards:
        if cplusplus[standard] >= required:
            return standard
    raise RuntimeError(f"twolayer: torch {torch.__version__} needs __cplusplus >= {required}, "
                       f"newer than every standard in cmake/build_flags.txt ({standards})")


def compile_and_link_args():
    flags = build_flags()
    # torch's cpp_extension passes an older -std first (c++14 on 1.13); the later flag wins.
    compile_args = [f"-std=c++{cxx_standard(flags['cxx_standards'])}"]
    compile_args += flags["optimize"] + flags["flags"] + flags["warnings"]
    compiler = os.environ.get("CXX", "c++")
    if "clang" not in os.path.basename(compiler):
        compile_args += flags["gnu_flags"]
    link_args = []
    # at::parallel_for is an inline #pragma omp region in our code when ATen runs on OpenMP.
    if re.search(r"define AT_PARALLEL_OPENMP 1", torch_header(os.path.join("ATen", "Config.h"))):
        compile_args.append("-fopenmp")
        link_args.append("-fopenmp")
    return compile_args, link_args


sources = sorted(glob.glob(os.path.join("csrc", "**", "*.cpp"), recursive=True))
compile_args, link_args = compile_and_link_args()
VERSION = read_version()
write_build_info(VERSION)

# setuptools skips an extension whose output is newer than its sources, whatever torch it was
# built against: each torch gets its own build folder, apart from the CMake build (build/cmake).
BUILD_BASE = os.path.join("build", f"python-torch{torch.__version__.replace('+', '-')}")

setup(
    version=VERSION,
    options={"build": {"build_base": BUILD_BASE}},
    package_dir={"": "python"},
    packages=["twolayer"],
    package_data={"twolayer": ["py.typed"]},
    ext_modules=[
        CppExtension(
            "twolayer._C",
            sources,
            include_dirs=[os.path.join(HERE, "include"), os.path.join(HERE, "csrc")],
            extra_compile_args=compile_args,
            extra_link_args=link_args,
        )
    ],
    cmdclass={"build_ext": BuildExtension.with_options(no_python_abi_suffix=True)},
    zip_safe=False,
)
