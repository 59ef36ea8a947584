"""Describes the machine and the thread settings a run used, so that a table can be read later."""
import ctypes
import json
import os
import platform
import subprocess
import sys
import tempfile

# OpenBLAS reads these when it is loaded (torch and numpy share Debian's libopenblas), so a
# thread count can only be chosen for a fresh process.
THREAD_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def thread_env(threads):
    """The environment of a child process that runs at `threads` threads (None: as inherited)."""
    env = dict(os.environ)
    if threads is not None:
        for var in THREAD_ENV_VARS:
            env[var] = str(threads)
    return env


def threads_fixed_at(threads):
    """Whether this process started with every thread variable at `threads`: only then has its
    OpenBLAS the count (it reads them once, when it loads)."""
    return all(os.environ.get(var) == str(threads) for var in THREAD_ENV_VARS)


JSON_ARG = "{json}"


def run_python(argv, threads, payload=None):
    """Runs this Python on argv in a fresh process at `threads` threads (None: as inherited),
    the one way to choose OpenBLAS's count. An argument JSON_ARG in argv becomes the path of a
    temporary file holding `payload` (JSON) on the way in and what the child wrote there on the
    way out. Returns (exit status, the file's JSON or None); the child's output passes through."""
    path = None
    if JSON_ARG in argv:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            if payload is not None:
                json.dump(payload, f)
        path = f.name
        argv = [path if a == JSON_ARG else a for a in argv]
    try:
        rc = subprocess.run([sys.executable] + list(argv), env=thread_env(threads)).returncode
        data = None
        if path is not None and rc == 0:
            with open(path) as f:
                data = json.load(f)
        return rc, data
    finally:
        if path is not None:
            os.unlink(path)


def serve_worker(path, work):
    """The child's side of run_python: reads the payload at `path`, writes back what
    work(payload) returns."""
    with open(path) as f:
        payload = json.load(f)
    result = work(payload)
    with open(path, "w") as f:
        json.dump(result, f)
    return 0


def default_threads(python=sys.executable):
    """What torch and the BLAS pick by themselves, asked of a process without thread variables
    (the current one may have been started with some)."""
    env = {k: v for k, v in os.environ.items() if k not in THREAD_ENV_VARS}
    code = ("import json, torch, sys; sys.path.insert(0, %r); import machine; "
            "torch.mm(torch.ones(2, 2), torch.ones(2, 2)); "
            "print(json.dumps({'torch': torch.get_num_threads(), "
            "'blas': machine.blas_runtime().get('openblas_threads')}))"
            % os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([python, "-c", code], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _loaded_libraries(words):
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "/" in line}
    except OSError:
        return []
    return sorted(p for p in paths if any(w in os.path.basename(p).lower() for w in words))


def blas_runtime():
    """The BLAS actually loaded in this process (torch's build says only 'generic' on Debian,
    where libblas.so.3 is whatever the alternatives system points at) and its thread count."""
    info = {"libraries": _loaded_libraries(("blas", "lapack", "mkl", "gomp", "omp"))}
    for path in info["libraries"]:
        if "openblas" not in os.path.basename(path):
            continue
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_get_config.restype = ctypes.c_char_p
            info["openblas_config"] = lib.openblas_get_config().decode()
            info["openblas_threads"] = lib.openblas_get_num_threads()
        except (OSError, AttributeError):
            pass
        break
    return info


def _cpuinfo():
    model, cores = None, set()
    physical = core = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key == "model name" and model is None:
                    model = value
                elif key == "physical id":
                    physical = value
                elif key == "core id":
                    core = value
                elif not key and physical is not None:
                    cores.add((physical, core))
                    physical = core = None
    except OSError:
        pass
    if physical is not None:
        cores.add((physical, core))
    return model or platform.processor() or "unknown", len(cores) or None


# The instructions that give a CPU bfloat16 arithmetic of its own (AVX-512 BF16's dot products,
# AMX's tiles). Without them ATen's bfloat16 products convert to float32 and back in software,
# and run slower than float32 (docs/low_precision.md).
BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags():
    """The flags of the first processor in /proc/cpuinfo, as a set (empty where there is none)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "flags":
                    return set(value.split())
    except OSError:
        pass
    return set()


def bf16_support():
    """The CPU's model and, for each of BF16_FLAGS, whether /proc/cpuinfo lists it."""
    flags = cpu_flags()
    return {"cpu_model": _cpuinfo()[0], **{flag: flag in flags for flag in BF16_FLAGS}}


def _git_revision(root):
    try:
        rev = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--", "csrc", "include", "python",
                                "setup.py", "CMakeLists.txt"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def machine_info():
    import numpy
    import torch
    model, physical_cores = _cpuinfo()
    config = torch.__config__.show()
    build = {}
    for line in config.splitlines():
        if "Build settings:" in line:
            for item in line.split("Build settings:")[1].split(","):
                key, _, value = item.strip().partition("=")
                if key in ("BLAS_INFO", "LAPACK_INFO", "USE_OPENMP", "USE_MKLDNN", "TORCH_VERSION"):
                    build[key] = value
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return {
        "cpu_model": model,
        "logical_cores": os.cpu_count(),
        "physical_cores": physical_cores,
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "torch_build": build,
        "torch_config": config,
        "parallel_info": torch.__config__.parallel_info(),
        "twolayer_revision": _git_revision(root),
    }
