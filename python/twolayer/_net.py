"""TwoLayerNet: the parameters of the network as a torch.nn.Module."""
import operator
from typing import Callable, Optional, Union

import torch

from . import _checkpoint, _inputs, _progress

# The activation travels in the state dict as this buffer, its name in ASCII bytes, so that a
# relu checkpoint cannot load silently into a tanh net (C++: the same buffer, net.cpp).
ACTIVATION_BUFFER = "activation_name"
PARAMETERS = ("W1", "b1", "W2", "b2")


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


def _fit_steps(net, X: torch.Tensor, Y: torch.Tensor, iterations: int,
               learning_rate: float) -> torch.Tensor:
    # A function rather than a method: a scripted net keeps fit (ignored by the compiler, so it
    # runs in Python) but has no uncompiled helper methods.
    with torch.no_grad():
        return torch.ops.twolayer.fit_(net.W1, net.b1, net.W2, net.b2, X, Y, iterations,
                                       learning_rate, net.activation)


class TwoLayerNet(torch.nn.Module):
    r"""The lecture's two-layer network: n0 inputs, n1 hidden units, n2 sigmoid outputs.

    A1 = g1(X W1^T + b1), A2 = sigmoid(A1 W2^T + b2), trained on the cross-entropy cost J.
    The computation runs in the C++ operators ``torch.ops.twolayer.*`` with the lecture's
    hand-written backward.

    Args:
        n0: input features (the columns of X).
        n1: hidden units.
        n2: output units (the columns of Y); 1 for binary classification.
        activation: the hidden non-linearity g1: ``"tanh"`` (the lecture's), ``"relu"``,
            ``"sigmoid"`` or ``"leaky_relu"`` (slope 0.01).
        init_scale: the weights are ``init_scale * N(0, 1)``, the biases zero (the lecture's
            initialisation: random, so that hidden units differ; small, so that tanh and
            sigmoid start in their steep middle).
        seed: draw the weights from a private generator with this seed (the same weights as
            the C++ ``twolayer::TwoLayerNet`` with that seed); None uses the global one.
        device, dtype: as for ``torch.nn.Linear``; dtype float32 or float64 (default:
            ``torch.get_default_dtype()``).

    Shapes: X (m, n0) -> forward -> A2 (m, n2); labels Y (m, n2) in [0, 1] with X's dtype.
    Parameters: W1 (n1, n0), b1 (n1,), W2 (n2, n1), b2 (n2,). The state dict also carries the
    activation (buffer ``activation_name``), and loading a checkpoint of another activation
    or other shapes is refused before anything is copied.

    ``forward`` returns probabilities, not logits: train with ``loss`` or ``fit`` (or
    ``torch.nn.BCELoss``), never with ``BCEWithLogitsLoss``. The module works with
    ``torch.jit.script`` and ``torch.jit.trace``.

    Example::

        >>> net = twolayer.TwoLayerNet(2, 4, 1, seed=1)
        >>> costs = net.fit(X, Y, iterations=10000, learning_rate=1.2, progress=True)
        >>> accuracy = net.score(X, Y)  # labels of shape (m,) or (m, 1)
    """

    activation: str

    def __init__(self, n0: int, n1: int, n2: int, activation: str = "tanh",
                 init_scale: float = 0.01, seed: Optional[int] = None,
                 device: Optional[Union[torch.device, str]] = None,
                 dtype: Optional[torch.dtype] = None) -> None:
        """W1 (n1, n0), b1 (n1,), W2 (n2, n1), b2 (n2,) for X (m, n0) and Y (m, n2).

        activation: "tanh", "relu", "sigmoid" or "leaky_relu". The weights start as
        ``init_scale * N(0, 1)`` (seeded by ``seed``, if given), the biases at zero, as in the
        lecture. device and dtype (float32 or float64) as for ``torch.nn.Linear``.
        """
        super().__init__()
        n0, n1, n2 = (_size(name, value) for name, value in (("n0", n0), ("n1", n1), ("n2", n2)))
        dtype = torch.get_default_dtype() if dtype is None else dtype
        if not isinstance(dtype, torch.dtype):
            raise TypeError("twolayer: TwoLayerNet dtype must be a torch.dtype (torch.float32 or "
                            f"torch.float64), but got {dtype!r} of type {type(dtype).__name__}")
        if dtype not in (torch.float32, torch.float64):
            raise TypeError("twolayer: TwoLayerNet dtype must be float32 or float64, but got "
                            + str(dtype).replace("torch.", ""))
        self.init_scale = float(init_scale)
        self.seed = seed
        factory = {"device": device, "dtype": dtype}
        self.W1 = torch.nn.Parameter(torch.empty(n1, n0, **factory))
        self.b1 = torch.nn.Parameter(torch.empty(n1, **factory))
        self.W2 = torch.nn.Parameter(torch.empty(n2, n1, **factory))
        self.b2 = torch.nn.Parameter(torch.empty(n2, **factory))
        self.register_buffer(ACTIVATION_BUFFER, torch.empty(0, dtype=torch.uint8, device=device))
        self.activation = activation  # validated, and written into the buffer (__setattr__)
        self.reset_parameters()

    # The activation is one value seen in two places: the attribute the operators read and the
    # buffer that checkpoints carry. Every way to change either goes through here, so the two
    # cannot drift apart: assigning ``activation`` validates it and rewrites the buffer, and
    # whatever replaces the buffer's memory (``to_empty``, which leaves it uninitialised; ``to``,
    # ``cuda``, ``share_memory``) writes it again after.
    def __setattr__(self, name, value):
        if name == "activation":
            value = _valid_activation(value)
        super().__setattr__(name, value)
        if name == "activation" and ACTIVATION_BUFFER in self._buffers:
            self._write_activation_buffer()

    @torch.jit.ignore
    def _write_activation_buffer(self) -> None:
        old = self._buffers[ACTIVATION_BUFFER]
        # On the meta device there is nothing to write; the buffer is written when the net
        # gets real memory (_apply, reset_parameters).
        self._buffers[ACTIVATION_BUFFER] = _activation_bytes(self.activation).to(old.device)

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
        """The probabilities A2 = sigmoid(Z2), shape (m, n2), for X of shape (m, n0).

        Probabilities, as in the lecture, not logits: never pass them to
        ``BCEWithLogitsLoss`` (it would apply a second sigmoid and train badly in silence).
        """
        if not torch.jit.is_scripting():
            X = _inputs.as_input(X, self.W1)
        return torch.ops.twolayer.forward(X, self.W1, self.b1, self.W2, self.b2, self.activation)

    # The methods below call the operators rather than self.forward: torch.jit.trace defines
    # forward itself, and a compiled method that called it would define it a second time. In
    # Python they also take NumPy arrays and lists (converted to the net's dtype and device); a
    # scripted net takes tensors.

    @torch.jit.export
    def predict_proba(self, X: torch.Tensor) -> torch.Tensor:
        """The probabilities A2, shape (m, n2): ``forward`` under scikit-learn's name."""
        if not torch.jit.is_scripting():
            X = _inputs.as_input(X, self.W1)
        return torch.ops.twolayer.forward(X, self.W1, self.b1, self.W2, self.b2, self.activation)

    @torch.jit.export
    def logits(self, X: torch.Tensor) -> torch.Tensor:
        """The logits Z2, shape (m, n2), with A2 = sigmoid(Z2): for ``BCEWithLogitsLoss`` (with
        ``pos_weight``, say) or calibration. Computed by the network, so exact where A2 rounds
        to 0 or 1 (``torch.logit(A2)`` is infinite there). Differentiable.
        """
        if not torch.jit.is_scripting():
            X = _inputs.as_input(X, self.W1)
        return torch.ops.twolayer._logits(X, self.W1, self.b1, self.W2, self.b2, self.activation)

    @torch.jit.export
    def loss(self, X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
        """The cost J (0-dim) for X (m, n0) and labels Y (m, n2) in [0, 1] of X's dtype.

        ``loss(X, Y).backward()`` fills the parameters' ``.grad`` through the hand-written
        backward, for any ``torch.optim`` optimizer. For one output, 0/1 labels of shape (m,)
        are taken too; integer or bool labels (which must be 0 or 1) are converted to the net's
        dtype.
        """
        if not torch.jit.is_scripting():
            X = _inputs.as_input(X, self.W1)
            Y = _inputs.as_labels(Y, self.W1)
        Y = _inputs.labels_for_cost(X, Y, self.W2.size(0), self.W1.dtype)
        return torch.ops.twolayer.loss(X, Y, self.W1, self.b1, self.W2, self.b2, self.activation)

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
        iteration's update, as ``twolayer.fit_``.
        """
        iterations = _inputs.iterations(iterations)
        X = _inputs.as_input(X, self.W1)
        Y = _inputs.labels_for_cost(X, _inputs.as_labels(Y, self.W1), self.W2.size(0),
                                    self.W1.dtype)
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
    def predict(self, X: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
        """Labels (int64): 1 where A2 > threshold, else 0.

        Shape (m,) for one output, so that ``(net.predict(X) == y).float().mean()`` is the
        accuracy for labels y of shape (m,); (m, n2) for several outputs (multi-label: each
        output is thresholded on its own). ``threshold`` is in [0, 1].
        """
        if not torch.jit.is_scripting():
            X = _inputs.as_input(X, self.W1)
        _inputs.check_threshold(threshold)
        with torch.no_grad():
            A2 = torch.ops.twolayer.forward(X, self.W1, self.b1, self.W2, self.b2,
                                            self.activation)
        # Sigmoid outputs are independent yes/no answers, each thresholded on its own.
        labels = (A2 > threshold).to(torch.long)
        if labels.size(1) == 1:
            return labels.reshape(-1)
        return labels

    @torch.jit.export
    def score(self, X: torch.Tensor, y: torch.Tensor) -> float:
        """The accuracy of ``predict(X)`` against 0/1 labels y, a float in [0, 1].

        y has shape (m,) or (m, 1) for one output, (m, n2) for several, where a row counts as
        right when all its n2 labels are (scikit-learn's ``accuracy_score``). Other shapes are
        refused: they would broadcast against the predictions and give a meaningless number.
        """
        if not torch.jit.is_scripting():
            X = _inputs.as_input(X, self.W1)
            y = _inputs.as_labels(y, self.W1, "y")
        return _inputs.accuracy(self.predict(X, 0.5), y, self.W2.size(0))

    @classmethod
    def load(cls, path, device: Optional[Union[torch.device, str]] = None) -> "TwoLayerNet":
        """A net read from a checkpoint file, with the sizes, dtype, activation and parameters
        it holds, on ``device`` (default: the CPU).

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
        net = cls(n0, n1, n2, activation=activation, seed=0, device=device,
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
        # Checkpoints written before the activation was saved hold the parameters only.
        if key in missing_keys:
            missing_keys.remove(key)

    def extra_repr(self) -> str:
        n1, n0 = self.W1.shape
        return f"n0={n0}, n1={n1}, n2={self.W2.shape[0]}, activation={self.activation}"
