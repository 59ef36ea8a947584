"""The tensors of a TwoLayerNet checkpoint file, whichever of its three forms it has.

- ``torch.save(net.state_dict(), path)`` in Python: a pickled dict of tensors;
- ``torch::save(net, path)`` in C++ and ``torch.jit.save(torch.jit.script(net), path)``: a
  TorchScript archive, whose parameters and buffers are the state dict.

The C++ module reads the same three (csrc/net_load.cpp), with the same messages.
"""
import os
import zipfile
from typing import Dict

import torch

PARAMETERS = ("W1", "b1", "W2", "b2")


def _is_torchscript_archive(path) -> bool:
    # torch.jit.save and torch::save leave constants.pkl in their zip archive; torch.save's
    # state dict is a zip without it (or, in the legacy format, no zip at all).
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(name.endswith("/constants.pkl") for name in archive.namelist())


def _read(path) -> Dict[str, torch.Tensor]:
    if _is_torchscript_archive(path):
        return dict(torch.jit.load(path, map_location="cpu").state_dict())
    # weights_only: a checkpoint is data; unpickling arbitrary objects would run their code.
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        raise RuntimeError(f"twolayer: {path} holds a {type(state).__name__}, not the state dict "
                           "of a TwoLayerNet")
    for key, value in state.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise RuntimeError(f"twolayer: {path} is not a checkpoint of a TwoLayerNet: it holds "
                               f"{type(key).__name__} {key!r}, which is not a named tensor")
    return state


def read_tensors(path) -> Dict[str, torch.Tensor]:
    """The checkpoint's tensors by name, on the CPU, checked to be a TwoLayerNet's: W1, b1, W2,
    b2 and perhaps activation_name and output_name, W1 and W2 2-D (the sizes the net is made
    with)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"twolayer: no checkpoint file {path}")
    try:
        tensors = _read(path)
    except RuntimeError as error:
        if str(error).startswith("twolayer: "):
            raise
        raise RuntimeError(f"twolayer: cannot read {path} as a TwoLayerNet checkpoint (a "
                           "torch::save archive, a TorchScript file or a state dict saved with "
                           f"torch.save): {error}") from error
    except Exception as error:  # the unpickler's many kinds: EOFError, UnpicklingError, ...
        raise RuntimeError(f"twolayer: cannot read {path} as a TwoLayerNet checkpoint (a "
                           "torch::save archive, a TorchScript file or a state dict saved with "
                           f"torch.save): {type(error).__name__}: {error}") from error
    for name in PARAMETERS:
        if name not in tensors:
            raise RuntimeError(f"twolayer: {path} is not a checkpoint of a TwoLayerNet: it has "
                               f"no {name}")
    from ._net import ACTIVATION_BUFFER, OUTPUT_BUFFER
    for name in sorted(tensors):
        if name not in PARAMETERS and name not in (ACTIVATION_BUFFER, OUTPUT_BUFFER):
            raise RuntimeError(f"twolayer: {path} is not a checkpoint of a TwoLayerNet: it holds "
                               f"{name}, which a TwoLayerNet has not")
    for name in ("W1", "W2"):
        if tensors[name].dim() != 2:
            raise RuntimeError(f"twolayer: the checkpoint's {name} must be 2-D, but has shape "
                               f"{list(tensors[name].shape)}")
    return tensors
