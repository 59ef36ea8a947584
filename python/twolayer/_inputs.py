"""What TwoLayerNet's methods take from users, turned into what the operators take.

Data as users hold it (NumPy arrays, lists, labels of shape (m,), integer labels) is converted
here; tensors of the wrong dtype are not, so that precision is never lost in silence (the
operators' message says how to convert). The label helpers are compiled into a scripted net
(they are plain functions that TorchScript compiles), and the C++ module does the same in
csrc/net_labels.cpp, with the same messages.
"""
import numbers
import operator
from typing import Optional

import torch

INT64_MAX = 2 ** 63 - 1


@torch.jit.unused
def as_input(X, like: torch.Tensor) -> torch.Tensor:
    """X as a tensor: an array-like (NumPy array, nested lists) becomes one of `like`'s dtype
    and device; a tensor is returned as it is, for the operator to check."""
    if isinstance(X, torch.Tensor):
        return X
    return _converted("X", X, like, keep_integers=False)


@torch.jit.unused
def as_labels(Y, like: torch.Tensor, name: str = "Y") -> torch.Tensor:
    """Labels as a tensor: floating array-likes get label_dtype(`like`'s dtype); integer and
    bool ones keep theirs, so that labels_for_cost can check that they are 0 or 1. On `like`'s
    device."""
    if isinstance(Y, torch.Tensor):
        return Y
    return _converted(name, Y, like, keep_integers=True, dtype=label_dtype(like.dtype))


def label_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype labels are converted to for a net of `dtype`: its own, but float32 for bfloat16
    and float16, which the operators take as Y of such a net (soft labels and regression
    targets keep their digits; 0/1 labels are exact in either)."""
    if dtype == torch.bfloat16 or dtype == torch.float16:
        return torch.float32
    return dtype


@torch.jit.unused
def _converted(name: str, value, like: torch.Tensor, keep_integers: bool,
               dtype: Optional[torch.dtype] = None) -> torch.Tensor:
    try:
        tensor = torch.as_tensor(value)
    except (TypeError, ValueError, RuntimeError) as error:
        # The converter's own words (ragged lists, strings, ...) stay in the chained error.
        raise TypeError(f"twolayer: {name} must be a tensor or an array-like of numbers (a NumPy "
                        f"array, nested lists), but got {type(value).__name__}") from error
    # Complex numbers stay as they are, for the operator to refuse.
    if not tensor.is_complex() and (tensor.is_floating_point() or not keep_integers):
        tensor = tensor.to(like.dtype if dtype is None else dtype)
    return tensor.to(like.device)


def labels_for_cost(X: torch.Tensor, Y: torch.Tensor, n2: int, dtype: torch.dtype,
                    output: str = "sigmoid") -> torch.Tensor:
    """Y for the cost of a net with n2 outputs and the output layer `output`.

    - labels of shape (m,) for one output become (m, 1) (0/1 labels for sigmoid, targets for
      identity);
    - for softmax, integer class indices of shape (m,) become one-hot rows of `dtype`, after a
      check that each is in [0, n2);
    - integer or bool labels become `dtype`; for sigmoid and softmax they must be 0 or 1 (for
      identity they are targets like any other).

    `dtype` is the labels' dtype: the net's, or float32 for a bfloat16 or float16 net
    (label_dtype).

    Anything else goes on unchanged, for the operator to check and report as the user gave it.
    """
    integral = not Y.is_floating_point() and not Y.is_complex()
    if (output == "softmax" and integral and Y.dtype != torch.bool and Y.dim() == 1
            and X.dim() >= 1 and Y.size(0) == X.size(0)):
        bad = Y[(Y < 0) | (Y >= n2)]
        if bad.numel() > 0:
            raise ValueError("twolayer: class indices Y must be in [0, n2) = [0, " + str(n2)
                             + ") for a net with " + str(n2) + " outputs, but got "
                             + str(int(bad[0])))
        return torch.nn.functional.one_hot(Y.to(torch.long), n2).to(dtype)
    if Y.dim() == 1 and n2 == 1 and X.dim() >= 1 and Y.size(0) == X.size(0):
        Y = Y.unsqueeze(1)
    if integral:
        if Y.dtype != torch.bool and output != "identity":
            bad = Y[(Y != 0) & (Y != 1)]
            if bad.numel() > 0:
                raise ValueError("twolayer: integer labels Y must be 0 or 1, but got "
                                 + str(int(bad[0])))
        Y = Y.to(dtype)
    return Y


def check_threshold(threshold: float) -> None:
    # Outside [0, 1] (or NaN) every probability would get the same label.
    if not (threshold >= 0.0 and threshold <= 1.0):
        raise ValueError("twolayer: predict's threshold must be in [0, 1], but got "
                         + str(threshold))


def predictions(A2: torch.Tensor, output: str, threshold: Optional[float]) -> torch.Tensor:
    """What predict returns for the outputs A2 (m, n2) of the output layer `output`.

    sigmoid: int64 labels, 1 where A2 > threshold (0.5 by default), shape (m,) for one output
    and (m, n2) for several (multi-label); softmax: the int64 class of largest probability,
    shape (m,); identity: A2 itself, shape (m,) for one output (as scikit-learn's regressors
    return for one target) and (m, n2) for several. A threshold is refused but for sigmoid: it
    would change nothing, and a caller who passes one expects it to.
    """
    if output == "sigmoid":
        t = 0.5
        if threshold is not None:
            t = threshold
        check_threshold(t)
        # Sigmoid outputs are independent yes/no answers, each thresholded on its own.
        labels = (A2 > t).to(torch.long)
        if labels.size(1) == 1:
            return labels.reshape(-1)
        return labels
    if threshold is not None:
        what = "a softmax output predicts the class of largest probability"
        if output == "identity":
            what = "an identity output predicts the values A2"
        raise ValueError("twolayer: predict's threshold applies to a sigmoid output only; a net "
                         "with " + what)
    if output == "softmax":
        return A2.argmax(dim=1)
    if A2.size(1) == 1:
        return A2.reshape(-1)
    return A2


def accuracy(predicted: torch.Tensor, y: torch.Tensor, n2: int) -> float:
    """The fraction of rows of `predicted` ((m,) or (m, n2), int64) that the 0/1 labels y match
    entirely (scikit-learn's accuracy_score, multi-label included). Shapes that would broadcast
    are refused: (m,) against (m, 1) compares every prediction with every label."""
    m = predicted.size(0)
    if n2 == 1:
        if not ((y.dim() == 1 and y.size(0) == m)
                or (y.dim() == 2 and y.size(0) == m and y.size(1) == 1)):
            raise ValueError("twolayer: score needs labels y of shape (m,) or (m, 1) = ("
                             + str(m) + ",) or (" + str(m) + ", 1) for a net with one output, "
                             "but got " + str(list(y.shape))
                             + "; other shapes would broadcast against the predictions")
    elif not (y.dim() == 2 and y.size(0) == m and y.size(1) == n2):
        raise ValueError("twolayer: score needs labels y of shape (m, n2) = (" + str(m) + ", "
                         + str(n2) + ") for a net with " + str(n2) + " outputs, but got "
                         + str(list(y.shape))
                         + "; other shapes would broadcast against the predictions")
    labels = y.to(predicted.device).reshape(predicted.shape)
    bad = labels[(labels != 0) & (labels != 1)]
    if bad.numel() > 0:
        value = str(float(bad[0])) if bad.is_floating_point() else str(int(bad[0]))
        raise ValueError("twolayer: score needs labels y of 0 or 1, but got " + value)
    right = predicted == labels.to(torch.long)
    if right.dim() == 2:
        right = right.all(dim=1)
    return float(right.to(torch.float64).mean())


def class_accuracy(predicted: torch.Tensor, y: torch.Tensor, n2: int) -> float:
    """The fraction of the classes `predicted` (int64, (m,)) equal to y: class indices of shape
    (m,) or (m, 1), integers from 0 to n2 - 1 (floats with such values too), or rows of shape
    (m, n2), one-hot or probabilities, whose largest entry names the class."""
    m = predicted.size(0)
    if y.dim() == 2 and y.size(0) == m and y.size(1) == n2 and n2 > 1:
        classes = y.to(predicted.device).argmax(dim=1)
    elif (y.dim() == 1 and y.size(0) == m) or (y.dim() == 2 and y.size(0) == m
                                                and y.size(1) == 1):
        classes = y.to(predicted.device).reshape(-1)
        bad = classes[(classes < 0) | (classes >= n2) | (classes != torch.floor(classes))]
        if bad.numel() > 0:
            value = str(float(bad[0])) if bad.is_floating_point() else str(int(bad[0]))
            raise ValueError("twolayer: score needs class indices y from 0 to n2 - 1 = "
                             + str(n2 - 1) + " for a net with " + str(n2)
                             + " outputs, but got " + value)
        classes = classes.to(torch.long)
    else:
        raise ValueError("twolayer: score needs class indices y of shape (m,) or (m, 1) = ("
                         + str(m) + ",) or (" + str(m) + ", 1), or rows of shape (m, n2) = ("
                         + str(m) + ", " + str(n2) + "), for a net with a softmax output, "
                         "but got " + str(list(y.shape))
                         + "; other shapes would broadcast against the predictions")
    return float((predicted == classes).to(torch.float64).mean())


def r2_score(A2: torch.Tensor, y: torch.Tensor) -> float:
    """The coefficient of determination R² of the predictions A2 (m, n2) for the targets y,
    averaged uniformly over the outputs (scikit-learn's r2_score): 1 - SS_res / SS_tot per output,
    where an output with constant targets scores 1 if predicted exactly, else 0. NaN for fewer
    than two examples, as scikit-learn. y has shape (m,) or (m, 1) for one output, (m, n2) for
    several."""
    m = A2.size(0)
    n2 = A2.size(1)
    if n2 == 1:
        if not ((y.dim() == 1 and y.size(0) == m)
                or (y.dim() == 2 and y.size(0) == m and y.size(1) == 1)):
            raise ValueError("twolayer: score needs targets y of shape (m,) or (m, 1) = ("
                             + str(m) + ",) or (" + str(m) + ", 1) for a net with one output, "
                             "but got " + str(list(y.shape))
                             + "; other shapes would broadcast against the predictions")
    elif not (y.dim() == 2 and y.size(0) == m and y.size(1) == n2):
        raise ValueError("twolayer: score needs targets y of shape (m, n2) = (" + str(m) + ", "
                         + str(n2) + ") for a net with " + str(n2) + " outputs, but got "
                         + str(list(y.shape))
                         + "; other shapes would broadcast against the predictions")
    if m < 2:
        return float("nan")
    predicted = A2.detach().to(torch.float64)
    targets = y.to(predicted.device).to(torch.float64).reshape(predicted.shape)
    residual = ((targets - predicted) ** 2).sum(dim=0)
    total = ((targets - targets.mean(dim=0)) ** 2).sum(dim=0)
    ones = torch.ones_like(total)
    scores = torch.where(total != 0, 1.0 - residual / torch.where(total != 0, total, ones),
                         torch.where(residual == 0, ones, torch.zeros_like(total)))
    return float(scores.mean())


def iterations(value) -> int:
    """fit's step count as an int: integers of any kind, and floats with a whole value (1e4),
    as people write step counts; not bools, fractions or what does not fit an int64."""
    if isinstance(value, bool):
        raise TypeError(f"twolayer: fit's iterations must be an integer, but got {value!r} of "
                        "type bool")
    try:
        count = operator.index(value)
    except TypeError:
        if not isinstance(value, numbers.Real):
            raise TypeError(f"twolayer: fit's iterations must be an integer, but got {value!r} "
                            f"of type {type(value).__name__}") from None
        number = float(value)
        if not number.is_integer():
            raise ValueError(f"twolayer: fit's iterations must be a whole number, but got "
                             f"{value!r}") from None
        count = int(number)
    # Negative counts are left to the operator, whose message every form of fit shares.
    if count > INT64_MAX:
        raise ValueError(f"twolayer: fit's iterations must be at most {INT64_MAX}, but got "
                         f"{value!r}")
    return count
