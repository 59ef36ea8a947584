"""What every benchmark of the suite shares: the shapes, the timing rule, the problem data, and
the two reference implementations of the network (PyTorch eager and the lecture's NumPy code)."""
import gc
import math
import statistics
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F

import twolayer  # noqa: F401  registers torch.ops.twolayer

# (m, n0, n1, n2): examples, inputs, hidden units, outputs. S is the lecture's planar problem.
SHAPES = {
    "S": (400, 2, 4, 1),
    "M": (4096, 64, 256, 1),
    "L": (8192, 784, 1024, 1),
    "L10": (8192, 784, 1024, 10),
    # The scaling shapes: a million examples through the lecture's tiny net, where the
    # elementwise work and the passes over memory dominate, and a mid-size net of 200 000.
    "B1M": (1_000_000, 2, 4, 1),
    "R200K": (200_000, 16, 32, 1),
}
QUICK_SHAPES = ("S", "M")
# What a shape's name stands for, for the tables' legend.
SHAPE_LEGEND = {
    "S": "the lecture's planar problem",
    "M": "a medium net",
    "L": "an MNIST-sized net",
    "L10": "L with 10 outputs",
    "B1M": "a big batch (1M rows) through a small net",
    "R200K": "200K rows through a mid-size net",
}

ACTIVATION = "tanh"


@dataclass
class Timing:
    median_us: float
    q1_us: float
    q3_us: float
    min_us: float
    reps: int

    @property
    def iqr_percent(self):
        return 100.0 * (self.q3_us - self.q1_us) / self.median_us if self.median_us else 0.0

    def to_json(self):
        return {**asdict(self), "iqr_percent": self.iqr_percent}


@dataclass
class TimingBudget:
    """How long one case may run: repetitions until budget_s has passed, but at least min_reps
    (so a 0.3 s step still gets a median of several) and at most max_reps."""
    budget_s: float
    min_reps: int
    max_reps: int
    warmup_s: float
    min_warmup: int


FULL_BUDGET = TimingBudget(budget_s=1.0, min_reps=7, max_reps=20000, warmup_s=0.2, min_warmup=3)
QUICK_BUDGET = TimingBudget(budget_s=0.05, min_reps=3, max_reps=2000, warmup_s=0.01, min_warmup=3)
# Rounds of measure_interleaved: with FULL_BUDGET's 7 repetitions of a long step, one per round.
FULL_ROUNDS = 7
QUICK_ROUNDS = 3


def _warm_up(fn, budget):
    """Pays for first-touch allocations, the allocator's caches and TorchScript's profiling runs
    (the scripted graph is only optimised after a few calls); returns seconds per call."""
    start = time.perf_counter()
    done = 0
    while done < budget.min_warmup or time.perf_counter() - start < budget.warmup_s:
        fn()
        done += 1
    return (time.perf_counter() - start) / done


def _timed_calls(fn, budget_s, min_reps, max_reps):
    samples = []
    start = time.perf_counter()
    while len(samples) < max_reps and (
            len(samples) < min_reps or time.perf_counter() - start < budget_s):
        t0 = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - t0)
    return samples


def _timing(samples_ns):
    us = [s / 1e3 for s in samples_ns]
    q1, _, q3 = statistics.quantiles(us, n=4) if len(us) > 1 else (us[0], None, us[0])
    return Timing(statistics.median(us), q1, q3, min(us), len(us))


class _NoGC:
    """A collection inside one timed call would be charged to that peer alone."""

    def __enter__(self):
        gc.collect()
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc):
        if self.was_enabled:
            gc.enable()


# A call this short runs once untimed when its turn comes, to find its caches as it left them.
REWARM_BELOW_S = 0.01


def measure_interleaved(fns, budget, rounds):
    """Times several peers call by call, by turns: `rounds` rounds, each giving every peer an
    equal share of its budget, in an order that rotates from round to round. The machine is
    shared: a change in its background load during the run then falls on every peer alike
    rather than on whichever was being timed, and the ratios of the medians hold better. Each
    peer's calls are summarised with quantiles, which a descheduled call or a page-fault storm
    cannot drag the way they drag a mean."""
    seconds_per_call = {name: _warm_up(fn, budget) for name, fn in fns.items()}
    samples = {name: [] for name in fns}
    names = list(fns)
    with _NoGC():
        for r in range(rounds):
            for name in names[r % len(names):] + names[:r % len(names)]:
                fn = fns[name]
                if seconds_per_call[name] < REWARM_BELOW_S:
                    fn()
                samples[name] += _timed_calls(fn, budget.budget_s / rounds,
                                              math.ceil(budget.min_reps / rounds),
                                              math.ceil(budget.max_reps / rounds))
    return {name: _timing(s) for name, s in samples.items()}


def make_problem(shape, seed=0, dtype=torch.float32):
    """Random data and parameters for one shape. The weights are scaled by 1/sqrt(fan-in) so that
    tanh is neither saturated nor linear, as in a network being trained."""
    m, n0, n1, n2 = shape
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(m, n0, generator=g, dtype=dtype)
    Y = torch.randint(0, 2, (m, n2), generator=g).to(dtype)
    W1 = torch.randn(n1, n0, generator=g, dtype=dtype) / math.sqrt(n0)
    b1 = 0.1 * torch.randn(n1, generator=g, dtype=dtype)
    W2 = torch.randn(n2, n1, generator=g, dtype=dtype) / math.sqrt(n1)
    b2 = 0.1 * torch.randn(n2, generator=g, dtype=dtype)
    return X, Y, [W1, b1, W2, b2]


def lecture_init(n0, n1, n2, seed=1):
    """The lecture's initialisation (W = 0.01 N(0, 1), b = 0), drawn as twolayer.TwoLayerNet does."""
    g = torch.Generator().manual_seed(seed)
    W1 = 0.01 * torch.randn(n1, n0, generator=g)
    W2 = 0.01 * torch.randn(n2, n1, generator=g)
    return [W1, torch.zeros(n1), W2, torch.zeros(n2)]


# ---- the network in plain PyTorch: what autograd differentiates ----

def reference_loss(X, Y, W1, b1, W2, b2):
    m = X.shape[0]
    A1 = torch.tanh(F.linear(X, W1, b1))
    Z2 = F.linear(A1, W2, b2)
    return F.binary_cross_entropy_with_logits(Z2, Y, reduction="sum") / m


# The hidden activations twolayer offers, as PyTorch ops. leaky_relu's negative slope is
# F.leaky_relu's default 0.01, which is twolayer's too (kLeakyReluSlope in csrc/math/activation.h).
ACTIVATION_FUNCTIONS = {
    "tanh": torch.tanh,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "leaky_relu": F.leaky_relu,
}


def reference_loss_for(activation):
    """reference_loss with another hidden activation: what autograd differentiates in the sweep."""
    if activation == ACTIVATION:
        return reference_loss
    g = ACTIVATION_FUNCTIONS[activation]

    def loss(X, Y, W1, b1, W2, b2):
        m = X.shape[0]
        A1 = g(F.linear(X, W1, b1))
        Z2 = F.linear(A1, W2, b2)
        return F.binary_cross_entropy_with_logits(Z2, Y, reduction="sum") / m

    return loss


_scripted_reference = None


def scripted_reference_loss():
    global _scripted_reference
    if _scripted_reference is None:
        _scripted_reference = torch.jit.script(reference_loss)
    return _scripted_reference


def twolayer_loss(X, Y, W1, b1, W2, b2):
    return torch.ops.twolayer.loss(X, Y, W1, b1, W2, b2, ACTIVATION)


def twolayer_loss_for(activation):
    if activation == ACTIVATION:
        return twolayer_loss

    def loss(X, Y, W1, b1, W2, b2):
        return torch.ops.twolayer.loss(X, Y, W1, b1, W2, b2, activation)

    return loss


# ---- the lecture's NumPy code: examples as columns, X (n0, m), Y (n2, m), b (n, 1) ----

def to_lecture_layout(X, Y, params):
    """Copies the batch-first tensors into the lecture's column layout, as contiguous arrays the
    way the lecture's own data arrive."""
    W1, b1, W2, b2 = (p.detach().numpy() for p in params)
    return (np.ascontiguousarray(X.numpy().T), np.ascontiguousarray(Y.numpy().T),
            [W1.copy(), b1.reshape(-1, 1).copy(), W2.copy(), b2.reshape(-1, 1).copy()])


def numpy_step(X, Y, W1, b1, W2, b2):
    """Forward propagation, compute_cost and backward propagation as the lecture writes them."""
    m = X.shape[1]
    Z1 = np.dot(W1, X) + b1
    A1 = np.tanh(Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = 1 / (1 + np.exp(-Z2))
    logprobs = np.multiply(np.log(A2), Y) + np.multiply(np.log(1 - A2), 1 - Y)
    cost = -np.sum(logprobs) / m
    dZ2 = A2 - Y
    dW2 = np.dot(dZ2, A1.T) / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dZ1 = np.dot(W2.T, dZ2) * (1 - np.power(A1, 2))
    dW1 = np.dot(dZ1, X.T) / m
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    return cost, [dW1, db1, dW2, db2]
