"""The lecture's two-layer network as PyTorch operators with a hand-written backward.

Importing the package loads the C++ library, which registers ``torch.ops.twolayer.loss``,
``torch.ops.twolayer.forward`` and ``torch.ops.twolayer.fit_``. Shapes are batch-first, like
``torch.nn.Linear``: X (m, n0), Y (m, n2), W1 (n1, n0), b1 (n1), W2 (n2, n1), b2 (n2).

- ``twolayer.TwoLayerNet``: the parameters as a ``torch.nn.Module`` (``forward``, ``loss``,
  ``fit``, ``predict_proba``, ``logits``, ``predict``, ``score``, ``reset_parameters``, and
  ``TwoLayerNet.load(path)`` for checkpoint files).
- ``twolayer.loss``, ``twolayer.forward``, ``twolayer.fit_``: the operators as functions.
- ``twolayer.datasets``: the lecture's planar data sets (the flower and four others).

The output layer is an argument of every operator and of ``TwoLayerNet`` (``output=``, one of
``twolayer.OUTPUTS``): ``"sigmoid"`` (the default, binary or multi-label), ``"softmax"``
(multi-class) or ``"identity"`` (regression). ``forward`` returns A2 = g2(Z2), probabilities for
sigmoid and softmax, not logits: never pass them to ``BCEWithLogitsLoss`` or
``CrossEntropyLoss`` (use ``loss``, which is stable, or ``TwoLayerNet.logits``).
"""
import torch

from . import _library
from ._library import cmake_prefix_path, library_path
from ._version_check import check_torch_version

__all__ = ["ACTIVATIONS", "OUTPUTS", "TwoLayerNet", "__version__", "cmake_prefix_path", "datasets",
           "fit_", "forward", "library_path", "loss"]

ACTIVATIONS = ("tanh", "relu", "sigmoid", "leaky_relu")
# The output layers, each with its cost: binary/multi-label, multi-class, regression.
OUTPUTS = ("sigmoid", "softmax", "identity")

__version__, _built_with_torch = check_torch_version(torch.__version__)


# The library registers the operators in its static initialisers: loading it is all it takes.
_library.load(__version__)

from . import datasets  # noqa: E402  (twolayer.datasets.flower() after `import twolayer`)
from ._functional import fit_, forward, loss  # noqa: E402  (the operators must exist first)
from ._net import TwoLayerNet  # noqa: E402
