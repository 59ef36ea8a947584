"""TwoLayerNet: the parameters of the network as a torch.nn.Module."""
import operator
from typing import Callable, Optional, Union

import torch

from . import _checkpoint, _inputs, _progress

# The activation travels in the state dict as this buffer, its name in ASCII bytes, so that a
# relu checkpoint cannot load silently into a tanh net (C++: the same buffer, net.cpp).
ACTIVATION_BUFFER = "activation_name"
# The output layer travels the same way, in the buffer output_name; checkpoints written before it
# existed hold no such buffer and load as sigmoid, the only output layer there was.
OUTPUT_BUFFER = "output_name"
PARAMETERS = ("W1", "b1", "W2", "b2")
# The dtypes of a net, the operators' (docs/low_precision.md): float32 and float64 compute in
# their own precision; bfloat16 and float16 run the six products in that dtype and the rest in
# float32, and their costs come back float32.
DTYPES = (torch.float32, torch.float64, torch.bfloat16, torch.float16)


def _activation_bytes(name: str) -> torch.Tensor:
    return torch.tensor(list(name.encode("ascii")), dtype=torch.uint8)


def _activation_from_bytes(t: torch.Tensor) -> str:
    return bytes(t.detach().cpu().to(torch.uint8).tolist()).decode("ascii", errors="replace")


def _size(name: str, value) -> int:
    # What torch.nn.Linear takes for a size: Python and NumPy integers, integer 0-dim tensors;
    # bools are integers to Python but never a size anyone meant.
    try:
        if isinstance(value, bool):
            raise TypeError
        size = operator.index(value)
    except TypeError:
        raise TypeError(f"twolayer: TwoLayerNet's {name} must be an integer, but got {value!r} "
                        f"of type {type(value).__name__}") from None
    if size < 1:
        raise ValueError(f"twolayer: TwoLayerNet's {name} must be at least 1, but got {size}")
    return size


def _valid_activation(name) -> str:
    from . import ACTIVATIONS  # the package's list, imported late to avoid a cycle
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"twolayer: unknown activation {name!r}; expected one of "
                         + ", ".join(ACTIVATIONS))
    return name


def _valid_output(name) -> str:
    from . import OUTPUTS
    if not isinstance(name, str) or name not in OUTPUTS:
        raise ValueError(f"twolayer: unknown output layer {name!r}; expected one of sigmoid "
                         "(binary or multi-label), softmax (multi-class), identity (regression)")
    return name


def _fit_steps(net, X: torch.Tensor, Y: torch.Tensor, iterations: int,
               learning_rate: float) -> torch.Tensor:
    # A function rather than a method: a scripted net keeps fit (ignored by the compiler, so it
    # runs in Python) but has no uncompiled helper methods.
    with torch.no_grad():
        return torch.ops.twolayer.fit_(net.W1, net.b1, net.W2, net.b2, X, Y, iterations,
                                       learning_rate, net.activation, net.output)


class TwoLayerNet(torch.nn.Module):
    r"""The lecture's two-layer network: n0 inputs, n1 hidden units, n2 outputs.

    A1 = g1(X W1^T + b1), Z2 = A1 W2^T + b2, A2 = g2(Z2) with the output layer g2 and its cost J:
    sigmoid and binary cross-entropy (binary or multi-label classification, the lecture's),
    softmax and categorical cross-entropy (multi-class), identity and half the mean squared
    error (regression). Each makes the lecture's dZ2 = A2 - Y.
    The computation runs in the C++ operators ``torch.ops.twolayer.*`` with the lecture's
    hand-written backward.

    Args:
        n0: input features (the columns of X).
        n1: hidden units.
        n2: output units (the columns of Y); 1 for binary classification.
        activation: the hidden non-linearity g1: ``"tanh"`` (the lecture's), ``"relu"``,
            ``"sigmoid"`` or ``"leaky_relu"`` (slope 0.01).
        output: the output layer g2: ``"sigmoid"`` (the lecture's), ``"softmax"`` or
            ``"identity"``.
        init_scale: the weights are ``init_scale * N(0, 1)``, the biases zero (the lecture's
            initialisation: random, so that hidden units differ; small, so that tanh and
            sigmoid start in their steep middle).
        seed: draw the weights from a private generator with this seed (the same weights as
            the C++ ``twolayer::TwoLayerNet`` with that seed); None uses the global one.
        device, dtype: as for ``torch.nn.Linear``; dtype float32, float64, bfloat16 or
            float16 (default: ``torch.get_default_dtype()``). A bfloat16 or float16 net runs
            its six matrix products in that dtype and everything else in float32: ``forward``
            and ``predict_proba`` return its dtype, ``loss`` and ``fit``'s costs float32
            (docs/low_precision.md). float16 on the CPU needs PyTorch 2.0 or later: on 1.x
            such a net is made (to be moved to CUDA, say), but its first computation on the
            CPU is refused with a message that says to use bfloat16 or float32.

    Shapes: X (m, n0) -> forward -> A2 (m, n2); labels Y (m, n2) with X's dtype (or float32
    for a bfloat16 or float16 net, which keeps soft labels' digits): in [0, 1] for sigmoid,
    rows of probabilities (one-hot) for softmax, any values for identity. ``loss`` and ``fit``
    also take 0/1 labels of shape (m,) for one sigmoid output, targets of shape (m,) for one
    identity output and int64 class indices of shape (m,) for softmax.
    Parameters: W1 (n1, n0), b1 (n1,), W2 (n2, n1), b2 (n2,). The state dict also carries the
    activation and the output layer (buffers ``activation_name`` and ``output_name``), and
    loading a checkpoint of another activation, output layer or other shapes is refused before
    anything is copied.

    ``forward`` returns A2 (probabilities for sigmoid and softmax), not logits: train with
    ``loss`` or ``fit``, never with ``BCEWithLogitsLoss`` or ``CrossEntropyLoss`` on it (take
    ``logits`` for those). The module works with ``torch.jit.script`` and ``torch.jit.trace``.

    Example::

        >>> net = twolayer.TwoLayerNet(2, 4, 1, seed=1)
        >>> costs = net.fit(X, Y, iterations=10000, learning_rate=1.2, progress=True)
        >>> accuracy = net.score(X, Y)  # labels of shape (m,) or (m, 1)
    """

    activation: str
    output: str

    def __init__(self, n0: int, n1: int, n2: int, activation: str = "tanh",
                 init_scale: float = 0.01, seed: Optional[int] = None,
                 device: Optional[Union[torch.device, str]] = None,
                 dtype: Optional[torch.dtype] = None, *, output: str = "sigmoid") -> None:
        """W1 (n1, n0), b1 (n1,), W2 (n2, n1), b2 (n2,) for X (m, n0) and Y (m, n2).

        activation: "tanh", "relu", "sigmoid" or "leaky_relu"; output: "sigmoid", "softmax" or
        "identity". The weights start as
        ``init_scale * N(0, 1)`` (seeded by ``seed``, if given), the biases at zero, as in the
        lecture. device and dtype (float32, float64, bfloat16 or float16) as for
        ``torch.nn.Linear``; the weights are drawn in float32 and rounded to the dtype.
        """
        super().__init__()
        # The names first: a wrong one is refused before anything is allocated or drawn.
        _valid_activation(activation)
        _valid_output(output)
        n0, n1, n2 = (_size(name, value) for name, value in (("n0", n0), ("n1", n1), ("n2", n2)))
        dtype = torch.get_default_dtype() if dtype is None else dtype
        if not isinstance(dtype, torch.dtype):
            raise TypeError("twolayer: TwoLayerNet dtype must be a torch.dtype (torch.float32, "
                            "torch.float64, torch.bfloat16 or torch.float16), but got "
                            f"{dtype!r} of type {type(dtype).__name__}")
        # float16 is taken on every torch, as torch.nn.Linear takes it: on PyTorch 1.x the CPU
        # has no float16 matrix products and the operators refuse such a net's first call there
        # (their message says to use bfloat16 or float32), but the net can still be built,
        # saved, loaded and moved to CUDA or to another dtype.
        if dtype not in DTYPES:
            raise TypeError("twolayer: TwoLayerNet dtype must be float32, float64, bfloat16 or "
                            "float16, but got " + str(dtype).replace("torch.", ""))
        self.init_scale = float(init_scale)
        self.seed = seed
        factory = {"device": device, "dtype": dtype}
        self.W1 = torch.nn.Parameter(torch.empty(n1, n0, **factory))
        self.b1 = torch.nn.Parameter(torch.empty(n1, **factory))
        self.W2 = torch.nn.Parameter(torch.empty(n2, n1, **factory))
        self.b2 = torch.nn.Parameter(torch.empty(n2, **factory))
        self.register_buffer(ACTIVATION_BUFFER, torch.empty(0, dtype=torch.uint8, device=device))
        self.register_buffer(OUTPUT_BUFFER, torch.empty(0, dtype=torch.uint8, device=device))
        # Validated, and written into their buffers (__setattr__).
        self.activation = activation
        self.output = output
        self.reset_parameters()

    # The activation is one value seen in two places: the attribute the operators read and the
    # buffer that checkpoints carry (the output layer too, with its buffer). Every way to change
    # either goes through here, so the two cannot drift apart: assigning ``activation`` (or
    # ``output``) validates it and rewrites the buffers, and
    # whatever replaces the buffer's memory (``to_empty``, which leaves it uninitialised; ``to``,
    # ``cuda``, ``share_memory``) writes it again after.
    def __setattr__(self, name, value):
        if name == "activation":
            value = _valid_activation(value)
        elif name == "output":
            value = _valid_output(value)
        super().__setattr__(name, value)
        if name in ("activation", "output") and OUTPUT_BUFFER in self._buffers \
                and hasattr(self, "output"):
            self._write_activation_buffer()

    @torch.jit.ignore
    def _write_activation_buffer(self) -> None:
        # Both names: the activation's and the output layer's.
        # On the meta device there is nothing to write; the buffer is written when the net
        # gets real memory (_apply, reset_parameters).
        for buffer, name in ((ACTIVATION_BUFFER, self.activation), (OUTPUT_BUFFER, self.output)):
            old = self._buffers[buffer]
            self._buffers[buffer] = _activation_bytes(name).to(old.device)

    @torch.jit.ignore
    def _apply(self, fn, *args, **kwargs):
        module = super()._apply(fn, *args, **kwargs)
        self._write_activation_buffer()
        return module

    @torch.jit.ignore
    def reset_parameters(self) -> None:
        """Draws new weights in place (the same ones again for a seeded net), zeroes the biases.

        Drawn in float32 on the CPU whatever the dtype and device, as the C++ module does, so
        that both languages and all devices start from the same numbers for the same seed.
        """
        generator = torch.Generator().manual_seed(self.seed) if self.seed is not None else None
        self._write_activation_buffer()
        with torch.no_grad():
            for W in (self.W1, self.W2):
                W.copy_(torch.randn(W.shape, generator=generator) * self.init_scale)
            self.b1.zero_()
            self.b2.zero_()

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """The outputs A2 = g2(Z2), shape (m, n2), for X of shape (m, n0): probabilities for
        sigmoid (each output on its own) and softmax (each row sums to 1), Z2 itself for identity.

        Probabilities, as in the lecture, not logits: never pass them to
        ``BCEWithLogitsLoss`` or ``CrossEntropyLoss`` (they would apply a second sigmoid or
        softmax and train badly in silence).
        """
        if not torch.jit.is_scripting():
            X = _inputs.as_input(X, self.W1)
        return torch.ops.twolayer.forward(X, self.W1, self.b1, self.W2, self.b2, self.activation,
                                          self.output)

    # The methods below call the operators rather than self.forward: torch.jit.trace defines
    # forward itself, and a compiled method that called it would define it a second time. In
    # Python they also take NumPy arrays and lists (converted to the net's dtype and device); a
    # scripted net takes tensors.

    @torch.jit.export
    def predict_proba(self, X: torch.Tensor) -> torch.Tensor:
        """The outputs A2, shape (m, n2): ``forward`` under scikit-learn's name (for identity,
        the predicted values)."""
        if not torch.jit.is_scripting():
            X = _inputs.as_input(X, self.W1)
        return torch.ops.twolayer.forward(X, self.W1, self.b1, self.W2, self.b2, self.activation,
                                          self.output)

    @torch.jit.export
    def logits(self, X: torch.Tensor) -> torch.Tensor:
        """The logits Z2, shape (m, n2), with A2 = g2(Z2): for ``BCEWithLogitsLoss`` (with
        ``pos_weight``, say), ``CrossEntropyLoss`` (with class weights) or calibration.
        Computed by the network, so exact where A2 rounds to 0 or 1 (``torch.logit(A2)`` is
        infinite there). Differentiable.
        """
        if not torch.jit.is_scripting():
            X = _inputs.as_input(X, self.W1)
        return torch.ops.twolayer._logits(X, self.W1, self.b1, self.W2, self.b2, self.activation)

    @torch.jit.export
    def loss(self, X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
        """The cost J (0-dim) for X (m, n0) and labels Y (m, n2) of X's dtype (float32 too for
        a bfloat16 or float16 net). J has the net's dtype, but float32 for bfloat16 and float16
        nets, whose cost is computed in float32.

        Y: for sigmoid, labels in [0, 1] (for one output, 0/1 labels of shape (m,) too); for
        softmax, rows of probabilities (one-hot rows) or int64 class indices of shape (m,), each
        from 0 to n2 - 1, made one-hot here; for identity, the targets (for one output, shape
        (m,) too). Integer or bool labels are converted to the net's dtype (for sigmoid and
        softmax rows they must be 0 or 1); for a bfloat16 or float16 net they become float32.

        ``loss(X, Y).backward()`` fills the parameters' ``.grad`` through the hand-written
        backward, for any ``torch.optim`` optimizer.
        """
        if not torch.jit.is_scripting():
            X = _inputs.as_input(X, self.W1)
            Y = _inputs.as_labels(Y, self.W1)
        Y = _inputs.labels_for_cost(X, Y, self.W2.size(0), _inputs.label_dtype(self.W1.dtype),
                                    self.output)
        return torch.ops.twolayer.loss(X, Y, self.W1, self.b1, self.W2, self.b2, self.activation,
                                       self.output)

    @torch.jit.ignore
    def fit(self, X: torch.Tensor, Y: torch.Tensor, iterations: int, learning_rate: float,
            progress: Union[bool, Callable[[int, float], None]] = False,
            every: int = 1000) -> torch.Tensor:
        """Full-batch gradient descent on the parameters, in place, in C++; returns the costs.

        Args:
            X, Y: as for ``loss``.
            iterations: the number of steps W := W - learning_rate * dW (>= 0); an integral
                float such as ``1e4`` is taken too.
            learning_rate: the step size (the lecture uses 1.2 on the flower data).
            progress: False: silent. True: a live tqdm bar (iteration, cost, it/s, time left)
                when tqdm is installed and stdout is a terminal, else the lecture's line
                "Cost after iteration i" every `every` iterations; both end with the final
                cost. A callable: called as progress(i, cost of iteration i) for
                i = 0, every, 2 * every, ... and the last iteration.
            every: iterations between the lines or the callable's calls.

        Returns the cost of every iteration, shape (iterations,), each taken before that
        iteration's update, as ``twolayer.fit_``: float32 for a bfloat16 or float16 net (whose
        parameters are updated in their own dtype), else the net's dtype.
        """
        iterations = _inputs.iterations(iterations)
        X = _inputs.as_input(X, self.W1)
        Y = _inputs.labels_for_cost(X, _inputs.as_labels(Y, self.W1), self.W2.size(0),
                                    _inputs.label_dtype(self.W1.dtype), self.output)
        # A parametrized weight (torch.nn.utils.parametrize) is recomputed from its original at
        # every access: fit_ would update a temporary and report falling costs while the net
        # stays as it was. (named_parameters, not _parameters: a scripted net runs this too.)
        own = {name for name, _ in self.named_parameters(recurse=False)}
        for name in PARAMETERS:
            if name not in own:
                raise RuntimeError(
                    f"twolayer: fit cannot train {name}: it is not a parameter of this net but "
                    "computed from others (a parametrization, torch.nn.utils.parametrize), and "
                    "fit updates in place; train with loss(X, Y).backward() and a torch.optim "
                    "optimizer, which update what it is computed from")
        if progress is False or progress is None:
            return _fit_steps(self, X, Y, iterations, learning_rate)

        def final_cost() -> float:
            with torch.no_grad():
                return self.loss(X, Y).item()

        return _progress.fit_with_progress(
            lambda n: _fit_steps(self, X, Y, n, learning_rate), iterations, every, progress,
            final_cost)

    @torch.jit.export
    def predict(self, X: torch.Tensor, threshold: Optional[float] = None) -> torch.Tensor:
        """The predictions for X, by output layer:

        - sigmoid: int64 labels, 1 where A2 > threshold (0.5 when None), else 0. Shape (m,) for
          one output, so that ``(net.predict(X) == y).float().mean()`` is the accuracy for
          labels y of shape (m,); (m, n2) for several outputs (multi-label: each output is
          thresholded on its own). ``threshold`` is in [0, 1].
        - softmax: the int64 class of largest probability (argmax of A2), shape (m,).
        - identity: the predicted values A2 (the net's dtype), shape (m,) for one output, as
          scikit-learn's regressors return for one target, and (m, n2) for several.

        A threshold is taken for sigmoid only: for the others it would change nothing.
        """
        if not torch.jit.is_scripting():
            X = _inputs.as_input(X, self.W1)
        if self.output == "sigmoid" and threshold is not None:
            _inputs.check_threshold(threshold)  # before the forward pass, as in C++
        with torch.no_grad():
            A2 = torch.ops.twolayer.forward(X, self.W1, self.b1, self.W2, self.b2,
                                            self.activation, self.output)
        return _inputs.predictions(A2, self.output, threshold)

    @torch.jit.export
    def score(self, X: torch.Tensor, y: torch.Tensor) -> float:
        """How well ``predict(X)`` matches y, a float: accuracy for sigmoid and softmax, R² for
        identity.

        - sigmoid: the accuracy against 0/1 labels y of shape (m,) or (m, 1) for one output,
          (m, n2) for several, where a row counts as right when all its n2 labels are
          (scikit-learn's ``accuracy_score``).
        - softmax: the accuracy against class indices y of shape (m,) or (m, 1), or rows of
          shape (m, n2) (one-hot or probabilities) whose largest entry names the class.
        - identity: the coefficient of determination R² against targets y of shape (m,) or
          (m, 1) for one output, (m, n2) for several, averaged over the outputs
          (scikit-learn's ``r2_score``): 1 for exact predictions, 0 for the targets' mean.

        Other shapes are refused: they would broadcast against the predictions and give a
        meaningless number.
        """
        if not torch.jit.is_scripting():
            X = _inputs.as_input(X, self.W1)
            y = _inputs.as_labels(y, self.W1, "y")
        n2 = self.W2.size(0)
        if self.output == "identity":
            with torch.no_grad():
                A2 = torch.ops.twolayer.forward(X, self.W1, self.b1, self.W2, self.b2,
                                                self.activation, self.output)
            return _inputs.r2_score(A2, y)
        if self.output == "softmax":
            return _inputs.class_accuracy(self.predict(X, None), y, n2)
        return _inputs.accuracy(self.predict(X, None), y, n2)

    @classmethod
    def load(cls, path, device: Optional[Union[torch.device, str]] = None) -> "TwoLayerNet":
        """A net read from a checkpoint file, with the sizes, dtype, activation, output layer and
        parameters it holds, on ``device`` (default: the CPU). A checkpoint written before the
        output layer was saved loads as sigmoid, the only one there was.

        Reads the three files a TwoLayerNet is saved as: ``torch.save(net.state_dict(), path)``,
        C++'s ``torch::save(net, path)`` and ``torch.jit.save(torch.jit.script(net), path)``.
        A file that is none of these is refused with a RuntimeError.
        """
        tensors = _checkpoint.read_tensors(path)
        activation = "tanh"  # checkpoints older than the saved activation: tanh was all there was
        if ACTIVATION_BUFFER in tensors:
            activation = _activation_from_bytes(tensors[ACTIVATION_BUFFER])
            from . import ACTIVATIONS
            if activation not in ACTIVATIONS:
                raise RuntimeError(
                    f"twolayer: the checkpoint's {ACTIVATION_BUFFER} holds bytes that name no "
                    "activation: the checkpoint is damaged, or was saved from a net whose "
                    "buffer was never written")
        output = "sigmoid"  # checkpoints older than the saved output layer: sigmoid was all
        if OUTPUT_BUFFER in tensors:
            output = _activation_from_bytes(tensors[OUTPUT_BUFFER])
            from . import OUTPUTS
            if output not in OUTPUTS:
                raise RuntimeError(
                    f"twolayer: the checkpoint's {OUTPUT_BUFFER} holds bytes that name no "
                    "output layer: the checkpoint is damaged, or was saved from a net whose "
                    "buffer was never written")
        n1, n0 = tensors["W1"].shape
        n2 = tensors["W2"].shape[0]
        for name in PARAMETERS:
            wanted = {"W1": (n1, n0), "b1": (n1,), "W2": (n2, n1), "b2": (n2,)}[name]
            if tuple(tensors[name].shape) != wanted:
                raise RuntimeError(
                    f"twolayer: the checkpoint's {name} has shape {list(tensors[name].shape)}, "
                    f"but its W1 and W2 make a TwoLayerNet(n0={n0}, n1={n1}, n2={n2}), whose "
                    f"{name} has shape {list(wanted)}")
        # Seeded, so that making the net draws nothing from the caller's global generator; the
        # checkpoint's values replace the draws, and the seed is dropped so that
        # reset_parameters later draws as for any unseeded net (as C++'s load does).
        net = cls(n0, n1, n2, activation=activation, output=output, seed=0, device=device,
                  dtype=tensors["W1"].dtype)
        net.seed = None
        net.load_state_dict(tensors, strict=True)
        return net

    @torch.jit.ignore
    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        # Everything is checked before the first copy: a refused load leaves the net as it was
        # (torch's own load copies the matching tensors and reports the others at the end).
        key = prefix + ACTIVATION_BUFFER
        if key in state_dict:
            saved = _activation_from_bytes(state_dict[key])
            from . import ACTIVATIONS
            if saved not in ACTIVATIONS:
                raise RuntimeError(
                    f"twolayer: the checkpoint's {ACTIVATION_BUFFER} holds the bytes "
                    f"{state_dict[key].tolist()}, which name no activation (expected one of "
                    + ", ".join(ACTIVATIONS) + "): the checkpoint is damaged, or was saved from "
                    "a net whose buffer was never written")
            if saved != self.activation:
                raise RuntimeError(f"twolayer: the checkpoint's activation is '{saved}', but this "
                                   f"TwoLayerNet's activation is '{self.activation}'")
        output_key = prefix + OUTPUT_BUFFER
        if output_key in state_dict:
            saved = _activation_from_bytes(state_dict[output_key])
            from . import OUTPUTS
            if saved not in OUTPUTS:
                raise RuntimeError(
                    f"twolayer: the checkpoint's {OUTPUT_BUFFER} holds the bytes "
                    f"{state_dict[output_key].tolist()}, which name no output layer (expected one "
                    "of " + ", ".join(OUTPUTS) + "): the checkpoint is damaged, or was saved from "
                    "a net whose buffer was never written")
            if saved != self.output:
                raise RuntimeError(f"twolayer: the checkpoint's output layer is '{saved}', but "
                                   f"this TwoLayerNet's output layer is '{self.output}'")
        for name in PARAMETERS:
            if prefix + name in state_dict:
                saved_shape = tuple(state_dict[prefix + name].shape)
                mine = tuple(getattr(self, name).shape)
                if saved_shape != mine:
                    raise RuntimeError(f"twolayer: the checkpoint's {name} has shape "
                                       f"{list(saved_shape)}, but this TwoLayerNet's {name} has "
                                       f"shape {list(mine)}")
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)
        # Checkpoints written before the activation (or the output layer) was saved hold the
        # parameters only.
        for name in (key, output_key):
            if name in missing_keys:
                missing_keys.remove(name)

    def extra_repr(self) -> str:
        n1, n0 = self.W1.shape
        return (f"n0={n0}, n1={n1}, n2={self.W2.shape[0]}, activation={self.activation}, "
                f"output={self.output}")
