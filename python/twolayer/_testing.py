"""Hooks for twolayer's tests and benchmarks (private: no stable API). The C++ library defines
them as the operators ``torch.ops.twolayer_testing.*``, apart from the network's operators in
``torch.ops.twolayer``.

- ``cpu_path(m, n0, n1, n2)``: which CPU path, and for the row paths which output regime, a
  call with these sizes takes: one of ``cpu_paths()``, ``"small_net"``,
  ``"row_blocks/outputs_in_row_pass"``, ``"row_blocks/outputs_by_blas"``,
  ``"row_blocks/dense_rows/outputs_in_row_pass"``,
  ``"row_blocks/dense_rows/outputs_by_dense_rows"`` (the hidden layer in the row kernel, its
  product included, instead of Z1 by BLAS), ``"whole_batch/outputs_in_row_pass"`` or
  ``"whole_batch/outputs_by_blas"`` (csrc/ops/cpu/cpu_paths.h), for float32 and float64. bfloat16 and float16 networks take one
  path whatever their sizes (csrc/ops/cpu/low_precision_path.h).
- ``low_precision_products(dtype)``: ``"native"`` or ``"float32"``, how that path runs the
  products of a bfloat16 or float16 network on this CPU (``TWOLAYER_LOW_PRECISION_PRODUCTS``
  forces one).
- ``cpu_kernel_version()``: ``"avx2"`` or ``"baseline"``, the compilation of the vector kernels
  this process runs (``TWOLAYER_CPU_KERNEL`` forces one).
- ``row_chunk_threads(rows)``: how many distinct threads run the row chunks of that many rows.
"""
import torch

import twolayer  # noqa: F401  loads the library, which defines the hooks


def cpu_path(m, n0, n1, n2):
    return torch.ops.twolayer_testing.cpu_path(m, n0, n1, n2)


def cpu_paths():
    return list(torch.ops.twolayer_testing.cpu_paths())


def cpu_kernel_version():
    return torch.ops.twolayer_testing.cpu_kernel_version()


def low_precision_products(dtype):
    return torch.ops.twolayer_testing.low_precision_products(dtype)


def row_chunk_threads(rows):
    return torch.ops.twolayer_testing.row_chunk_threads(rows)
