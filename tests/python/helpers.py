"""Shared helpers of the Python tests: random inputs, running an implementation with backward,
error measures.

The reference network that the tests compare against is a module of its own, reference.py.
Test files import these helpers with ``from helpers import ...``: a plain module, so that a
child interpreter started by a test (or a script) can import it too, and so that conftest.py
holds only what pytest itself reads.
"""
import zlib

import torch

from reference import reference_hidden


# Spelled out here rather than taken from twolayer.ACTIVATIONS, so that a test can catch a
# package that drops or renames one.
ACTIVATIONS = ("tanh", "relu", "sigmoid", "leaky_relu")

LOSS_INPUTS = ("X", "Y", "W1", "b1", "W2", "b2")
FORWARD_INPUTS = ("X", "W1", "b1", "W2", "b2")

# Output layers of the table below: every test that draws from SAMPLES runs on each. A new output
# layer is one more entry here (and its targets in targets_for).
OUTPUTS = ("sigmoid", "softmax", "identity")

DTYPES = (torch.float64, torch.float32)


def dtype_name(dtype):
    return str(dtype).replace("torch.", "")


class Shape:
    """One row of SHAPES: a network (m, n0, n1, n2), the CPU path the library takes for it
    (twolayer._testing.cpu_path; test_cpu_paths.py checks every row), and why it is here.

    per_path marks the one network per CPU path and output regime (CPU_PATH_SHAPES)."""

    def __init__(self, name, shape, path, why, per_path=False):
        self.name, self.shape, self.path, self.why, self.per_path = name, shape, path, why, per_path

    def __repr__(self):
        return f"Shape({self.name!r}, {self.shape}, {self.path!r})"


# The sample networks of the tests, in one table. Edge cases first: the operators must give the
# reference's values on them whatever path they take. Then one network per CPU path and output
# regime (csrc/ops/cpu/cpu_paths.h): the small net twice (one output, and 8 in its one pass); the
# whole-batch rows path needs more than 32768 weights, so its batch is small, for the finite
# differences.
SHAPES = (
    Shape("lecture", (5, 2, 4, 1), "small_net",
          "the assignment's 2-4-1 on a few examples; the valid case the error tests break"),
    Shape("one_example", (1, 2, 4, 1), "small_net", "m = 1: the 1/m and the batch sums degenerate"),
    Shape("one_example_3_outputs", (1, 3, 2, 3), "small_net", "m = 1 with several outputs"),
    Shape("3_outputs", (7, 3, 5, 3), "small_net", "several outputs, odd sizes"),
    Shape("batch", (64, 10, 16, 1), "row_blocks/dense_rows/outputs_in_row_pass",
          "a batch large enough for the sums over examples to matter"),
    Shape("one_hidden_unit", (33, 5, 1, 3), "small_net", "n1 = 1"),
    Shape("narrow_hidden_layer", (37, 20, 3, 2), "row_blocks/outputs_in_row_pass",
          "fewer hidden units than a vector has lanes, on the row passes: rows taken as flat runs"),
    Shape("narrow_dense_rows", (41, 12, 5, 2), "row_blocks/dense_rows/outputs_in_row_pass",
          "5 hidden units by dense_rows, fewer than a float vector's lanes: g1 over the tile"),
    Shape("narrow_dense_rows_9_outputs", (23, 3, 6, 9), "row_blocks/dense_rows/outputs_by_dense_rows",
          "6 hidden units and 9 logits by dense_rows"),
    Shape("small_net", (13, 2, 4, 1), "small_net", "the small net, one output", per_path=True),
    Shape("small_net_8_outputs", (9, 2, 4, 8), "small_net", "the small net, 8 outputs",
          per_path=True),
    Shape("row_blocks_outputs_in_row_pass", (70, 66, 9, 3), "row_blocks/outputs_in_row_pass",
          "Z1 by BLAS (more than 64 inputs), up to 4 outputs computed in the row pass",
          per_path=True),
    Shape("row_blocks_outputs_by_blas", (50, 65, 11, 6), "row_blocks/outputs_by_blas",
          "Z1 by BLAS, more than 4 outputs: the output layer by BLAS", per_path=True),
    Shape("row_blocks_dense_rows_outputs_in_row_pass", (70, 6, 9, 3),
          "row_blocks/dense_rows/outputs_in_row_pass",
          "few inputs: the hidden layer in the row kernel, product included; outputs in the pass",
          per_path=True),
    Shape("row_blocks_dense_rows_outputs_by_dense_rows", (50, 3, 11, 6),
          "row_blocks/dense_rows/outputs_by_dense_rows",
          "the hidden layer in the row kernel, the output layer by BLAS", per_path=True),
    Shape("whole_batch_outputs_in_row_pass", (5, 190, 180, 3), "whole_batch/outputs_in_row_pass",
          "more than 32768 weights", per_path=True),
    Shape("whole_batch_outputs_by_blas", (5, 190, 180, 9), "whole_batch/outputs_by_blas",
          "more than 32768 weights and more than 4 outputs", per_path=True),
)
SHAPE = {row.name: row.shape for row in SHAPES}

# One network per CPU path and output regime, as (path, (m, n0, n1, n2)).
CPU_PATH_SHAPES = tuple((row.path, row.shape) for row in SHAPES if row.per_path)


class Sample:
    """One sample input of the table: a network of SHAPES, a hidden activation, an output layer
    and a dtype. inputs() draws its tensors (make_inputs, seeded from the sample itself)."""

    def __init__(self, row, activation, output, dtype):
        self.row, self.activation, self.output, self.dtype = row, activation, output, dtype
        self.shape, self.path = row.shape, row.path

    @property
    def id(self):
        return "-".join([self.row.name, "x".join(map(str, self.shape)), self.activation,
                         self.output, dtype_name(self.dtype)])

    def __repr__(self):
        return self.id

    def inputs(self, *salt, **kwargs):
        """make_inputs for this sample, with targets for its output layer (targets_for); salt
        (e.g. the test's name) varies the seed."""
        kwargs.setdefault("seed", seed_for(self.shape, self.activation, self.output, *salt))
        return targets_for(self.output, make_inputs(*self.shape, dtype=self.dtype, **kwargs),
                           kwargs["seed"])


# shapes x activations x outputs x dtypes.
SAMPLES = tuple(Sample(row, activation, output, dtype)
                for row in SHAPES for activation in ACTIVATIONS
                for output in OUTPUTS for dtype in DTYPES)


def samples(shapes=None, activations=None, outputs=None, dtypes=None, per_path=None):
    """The SAMPLES whose network is named in shapes (or is per_path), activation in activations,
    and so on; None keeps all. For pytest.mark.parametrize(..., ids=sample_id)."""
    return [s for s in SAMPLES
            if (shapes is None or s.row.name in shapes)
            and (per_path is None or s.row.per_path == per_path)
            and (activations is None or s.activation in activations)
            and (outputs is None or s.output in outputs)
            and (dtypes is None or s.dtype in dtypes)]


def targets_for(output, inputs, seed, distributions=True):
    """Y as each output layer's users give it: make_inputs' labels in [0, 1) (or 0/1) for
    sigmoid, rows that are probability distributions for softmax (or any positive rows when not
    `distributions`), any real numbers for identity."""
    if output == "sigmoid":
        return inputs
    Y = inputs["Y"]
    gen = torch.Generator().manual_seed(seed)
    if output == "softmax":
        Y = torch.rand(Y.shape, generator=gen, dtype=torch.float64) + 0.05
        if distributions:
            Y = Y / Y.sum(1, keepdim=True)
    elif output == "identity":
        Y = torch.randn(Y.shape, generator=gen, dtype=torch.float64) * 2
    else:
        raise ValueError(output)
    return {**inputs, "Y": Y.to(inputs["X"].dtype)}


def sample_id(sample):
    return sample.id


def cpu_path_id(entry):
    """A pytest id for a CPU_PATH_SHAPES entry (or a bare shape)."""
    if isinstance(entry[0], str):
        return entry[0] + "-" + "x".join(map(str, entry[1]))
    return "x".join(map(str, entry))


# Relative error bounds of the spec, per dtype.
TOLERANCE = {torch.float64: 1e-10, torch.float32: 1e-4}

# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------

def make_inputs(m, n0, n1, n2, dtype=torch.float64, seed=0, labels="soft", weight_scale=1.0,
                bias_scale=0.5):
    """Random X, Y, W1, b1, W2, b2 from a seeded private generator (the global RNG is untouched).

    labels: "soft" for Y uniform in [0, 1), "hard" for Y in {0, 1}.
    The default scales keep Z1 and Z2 of order one, where every activation is non-trivial.
    """
    gen = torch.Generator().manual_seed(seed)

    def randn(*shape, scale=1.0):
        return (torch.randn(*shape, generator=gen, dtype=torch.float64) * scale).to(dtype)

    X = randn(m, n0)
    W1 = randn(n1, n0, scale=weight_scale / n0 ** 0.5)
    b1 = randn(n1, scale=bias_scale)
    W2 = randn(n2, n1, scale=weight_scale / n1 ** 0.5 * 2.0)
    b2 = randn(n2, scale=bias_scale)
    if labels == "soft":
        Y = torch.rand(m, n2, generator=gen, dtype=torch.float64).to(dtype)
    elif labels == "hard":
        Y = (torch.rand(m, n2, generator=gen, dtype=torch.float64) < 0.5).to(dtype)
    else:
        raise ValueError(labels)
    return {"X": X, "Y": Y, "W1": W1, "b1": b1, "W2": W2, "b2": b2}


def make_input_tuple(*args, **kwargs):
    """make_inputs as the tuple (X, Y, W1, b1, W2, b2), in loss's argument order."""
    inputs = make_inputs(*args, **kwargs)
    return tuple(inputs[name] for name in LOSS_INPUTS)


def make_inputs_off_kink(m, n0, n1, n2, min_abs_z1=1e-2, **kwargs):
    """make_inputs whose Z1 stays away from 0, for finite differences across relu's kink.

    Deterministic: tries seeds in order from the given one.
    """
    seed = kwargs.pop("seed", 0)
    for s in range(seed, seed + 1000):
        inputs = make_inputs(m, n0, n1, n2, seed=s, **kwargs)
        Z1 = reference_hidden(inputs["X"], inputs["W1"], inputs["b1"])
        if Z1.abs().min().item() > min_abs_z1:
            return inputs
    raise AssertionError("no seed gives |Z1| > %g" % min_abs_z1)


def seed_for(*parts):
    """A reproducible seed per test case (Python's own hash() of a str changes from run to run)."""
    return zlib.crc32(repr(parts).encode())


def random_scalar(seed, dtype=torch.float64):
    """A random incoming gradient away from 1 (and from 0), so a dropped factor shows."""
    gen = torch.Generator().manual_seed(10_000 + seed)
    magnitude = 0.5 + 2.5 * torch.rand((), generator=gen, dtype=torch.float64)
    sign = 1.0 if torch.rand((), generator=gen).item() < 0.5 else -1.0
    return (sign * magnitude).to(dtype)


def random_like(shape, seed, dtype=torch.float64):
    gen = torch.Generator().manual_seed(20_000 + seed)
    return torch.randn(*shape, generator=gen, dtype=torch.float64).to(dtype)


def leaves(inputs, requires_grad):
    """Fresh leaf copies of the inputs; only those named in requires_grad require a gradient."""
    return {k: v.detach().clone().requires_grad_(k in requires_grad) for k, v in inputs.items()}


# ---------------------------------------------------------------------------------------------
# Running a loss / forward implementation with backward
# ---------------------------------------------------------------------------------------------

def loss_and_grads(loss_fn, inputs, activation, grad_J, requires_grad=LOSS_INPUTS):
    """J and the gradients {name: grad or None} after J.backward(grad_J)."""
    t = leaves(inputs, requires_grad)
    J = loss_fn(t["X"], t["Y"], t["W1"], t["b1"], t["W2"], t["b2"], activation)
    if requires_grad:
        J.backward(grad_J)
    return J.detach(), {k: t[k].grad for k in LOSS_INPUTS}


def forward_and_grads(forward_fn, inputs, activation, grad_A2, requires_grad=FORWARD_INPUTS):
    """A2 and the gradients {name: grad or None} after A2.backward(grad_A2)."""
    t = leaves(inputs, requires_grad)
    A2 = forward_fn(t["X"], t["W1"], t["b1"], t["W2"], t["b2"], activation)
    if requires_grad:
        A2.backward(grad_A2)
    return A2.detach(), {k: t[k].grad for k in FORWARD_INPUTS}


# ---------------------------------------------------------------------------------------------
# Comparisons
# ---------------------------------------------------------------------------------------------

TINY = 1e-300


def rel_err(a, b):
    """max|a - b| / max(max|b|, tiny): b is the reference."""
    a = torch.as_tensor(a).detach().to(torch.float64)
    b = torch.as_tensor(b).detach().to(torch.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    if a.numel() == 0:
        return 0.0
    return ((a - b).abs().max() / max(b.abs().max().item(), TINY)).item()


def assert_close_rel(actual, expected, tol, what=""):
    assert actual is not None, f"{what}: missing (None)"
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype} != {expected.dtype}"
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    assert torch.isfinite(actual).all(), f"{what}: not finite"
    err = rel_err(actual, expected)
    assert err <= tol, f"{what}: relative error {err:.3g} > {tol:.1g}"


def assert_grads_match(grads, ref_grads, tol):
    assert grads.keys() == ref_grads.keys()
    for name in grads:
        if ref_grads[name] is None:
            assert grads[name] is None, f"d{name} should be None"
        else:
            assert_close_rel(grads[name], ref_grads[name], tol, f"d{name}")


def manual_descent(loss_fn, X, Y, params, activation, steps, lr):
    """The lecture's loop by hand: J, autograd gradients, W := W - lr dW. Returns the final
    parameters and the cost of every step (as floats, taken before that step's update)."""
    params = [p.clone().requires_grad_(True) for p in params]
    costs = []
    for _ in range(steps):
        J = loss_fn(X, Y, *params, activation)
        costs.append(J.item())
        grads = torch.autograd.grad(J, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p -= lr * g
    return [p.detach() for p in params], costs
