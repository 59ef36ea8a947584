"""The package's version, and the refusal to load under a torch other than the build's."""
from typing import Tuple


def check_torch_version(running: str) -> Tuple[str, str]:
    """Returns (twolayer's version, the torch version it was built with).

    The extension is compiled against one torch's C++ ABI: under another it would fail with an
    undefined symbol or, worse, load and misbehave. Raises ImportError naming both versions.
    """
    try:
        from ._build_info import torch_version, version
    except ImportError as error:
        raise ImportError("twolayer: the package has no build information (_build_info.py); "
                          "install it with `pip install --no-build-isolation .`") from error
    if running != torch_version:
        raise ImportError(
            f"twolayer {version} was built with torch {torch_version}, but torch {running} is "
            f"installed: rebuild twolayer against this torch (`pip install --no-build-isolation "
            f"--force-reinstall .` from its source) or install torch {torch_version}")
    return version, torch_version
