"""Every CPU path and output regime, named by the library itself: every network of the
table helpers.SHAPES must take the path it says (twolayer._testing.cpu_path) and cover every
path the library has; on each, the gradients of loss and forward against autograd on the
reference network (float64 tight, float32 loose), finite differences, double backward and fit_
against a manual loop."""
import os
import re

import pytest
import torch
from torch.autograd import gradcheck, gradgradcheck

import twolayer
from twolayer import _testing
from helpers import (ACTIVATIONS, CPU_PATH_SHAPES, SHAPES, FORWARD_INPUTS, LOSS_INPUTS, TOLERANCE,
                     assert_grads_match, cpu_path_id, forward_and_grads, leaves, loss_and_grads,
                     make_inputs, make_inputs_off_kink, manual_descent, random_like, random_scalar,
                     rel_err, seed_for)
from reference import reference_forward, reference_loss

DTYPES = [torch.float64, torch.float32]


def test_the_table_takes_the_paths_it_names_and_covers_them_all():
    # Every row of the sample table, not only the one per path, so that the path a test's
    # sample takes is what the table says.
    for row in SHAPES:
        assert _testing.cpu_path(*row.shape) == row.path, row
    assert {path for path, _ in CPU_PATH_SHAPES} == set(_testing.cpu_paths())


def test_the_cpp_sample_shapes_take_the_paths_they_name():
    # tests/cpp/sample_shapes.h is the C++ tests' table: each line "{m, n0, n1, n2},  // cpu path:
    # NAME". Read here, so that the C++ table is checked against the library as this one is.
    header = os.path.join(os.path.dirname(__file__), "..", "cpp", "sample_shapes.h")
    with open(header) as f:
        rows = re.findall(r"\{(\d+), (\d+), (\d+), (\d+)\},\s*// cpu path: (\S+)", f.read())
    assert len(rows) >= 5, rows
    for *shape, path in rows:
        assert _testing.cpu_path(*map(int, shape)) == path, (shape, path)


def test_the_path_follows_the_documented_limits():
    # cpu_paths.h: <= 64 weights the small net, <= 32768 the row blocks, more the whole batch;
    # on the row paths up to 4 outputs in the row pass.
    assert _testing.cpu_path(1, 2, 4, 14) == "small_net"  # 4 (2 + 14) = 64 weights
    assert _testing.cpu_path(1, 2, 4, 15) == "row_blocks/dense_rows/outputs_by_dense_rows"  # 68
    assert _testing.cpu_path(1, 70, 4, 15) == "row_blocks/outputs_by_blas"
    assert _testing.cpu_path(1, 70, 64, 4) == "row_blocks/outputs_in_row_pass"  # 4736
    # On the row blocks, the layers by dense_rows for <= 64 inputs and >= 4 hidden units.
    assert _testing.cpu_path(1, 64, 4, 1) == "row_blocks/dense_rows/outputs_in_row_pass"
    assert _testing.cpu_path(1, 2, 16, 5) == "row_blocks/dense_rows/outputs_by_dense_rows"
    assert _testing.cpu_path(1, 65, 8, 1) == "row_blocks/outputs_in_row_pass"
    assert _testing.cpu_path(1, 32, 3, 2) == "row_blocks/outputs_in_row_pass"
    assert _testing.cpu_path(1, 32, 1000, 1) == "whole_batch/outputs_in_row_pass"  # 33000
    assert _testing.cpu_path(1, 100, 318, 3) == "row_blocks/outputs_in_row_pass"  # 32754
    assert _testing.cpu_path(1, 100, 319, 3) == "whole_batch/outputs_in_row_pass"  # 32857
    assert _testing.cpu_path(1, 100, 319, 5) == "whole_batch/outputs_by_blas"
    assert _testing.cpu_path(10 ** 6, 2, 4, 1) == "small_net"  # the batch never decides
    with pytest.raises(RuntimeError, match="sizes >= 1"):
        _testing.cpu_path(0, 2, 4, 1)


def test_hooks_are_outside_the_public_namespace():
    assert _testing.cpu_kernel_version() in ("avx2", "baseline")
    assert _testing.row_chunk_threads(1) == 1
    for hook in ("_cpu_kernel_version", "_row_chunk_threads", "cpu_path"):
        with pytest.raises((AttributeError, RuntimeError)):
            getattr(torch.ops.twolayer, hook)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("entry", CPU_PATH_SHAPES, ids=cpu_path_id)
def test_loss_gradients_match_autograd(entry, dtype):
    _, shape = entry
    for activation in ACTIVATIONS:
        seed = seed_for("paths-loss", activation, shape)
        inputs = make_inputs(*shape, dtype=dtype, seed=seed)
        g = random_scalar(seed, dtype)
        J, grads = loss_and_grads(twolayer.loss, inputs, activation, g)
        ref_J, ref = loss_and_grads(reference_loss, inputs, activation, g)
        assert rel_err(J, ref_J) <= TOLERANCE[dtype], activation
        assert_grads_match(grads, ref, TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("entry", CPU_PATH_SHAPES, ids=cpu_path_id)
def test_forward_gradients_match_autograd(entry, dtype):
    _, shape = entry
    for activation in ACTIVATIONS:
        seed = seed_for("paths-forward", activation, shape)
        inputs = make_inputs(*shape, dtype=dtype, seed=seed)
        del inputs["Y"]
        g = random_like((shape[0], shape[3]), seed, dtype)
        A2, grads = forward_and_grads(twolayer.forward, inputs, activation, g)
        ref_A2, ref = forward_and_grads(reference_forward, inputs, activation, g)
        assert rel_err(A2, ref_A2) <= TOLERANCE[dtype], activation
        assert_grads_match(grads, ref, TOLERANCE[dtype])


def differentiated(shape, names):
    """The inputs finite differences perturb: all of them on the small paths; on the rows path
    (34 200 weights in W1) all but W1, whose gradient the autograd tests above check."""
    return names if shape[1] * shape[2] < 10000 else tuple(n for n in names if n != "W1")


def double_differentiated(shape, names):
    """Double backward's finite differences cost a backward per perturbed element: X and Y
    only on the small nets, and the biases only where the weights are many."""
    if shape[1] * shape[2] >= 1000:
        return tuple(n for n in names if n in ("b1", "b2"))
    return names if shape[0] * shape[1] <= 100 else tuple(n for n in names if n not in "XY")


def checked_inputs(shape, activation, names):
    # Z1 away from relu's kink by more than the finite differences' step (1e-6), by 1e-2 where
    # few units allow it; the rows path's 900 cannot all be that far from 0.
    margin = 1e-2 if shape[1] * shape[2] < 10000 else 1e-4
    inputs = make_inputs_off_kink(*shape, min_abs_z1=margin,
                                  seed=seed_for("paths-gradcheck", activation, shape))
    return leaves(inputs, names)


# The finite-difference checks of every path are the slowest tests (about 7 of the PyPI leg's
# 17 minutes of pytest on two cores), and what they check, the hand-written formulas against
# finite differences, is twolayer's own C++ and the same on every torch: the host leg runs them.
# The PyPI leg keeps what depends on its torch: the values and gradients of every path against
# autograd above (MKL's products), and gradcheck/gradgradcheck of the operators
# (test_gradcheck.py). A fresh machine's run must fit CI's hour with that leg.
host_leg_only = pytest.mark.skipif(bool(os.environ.get("TWOLAYER_IN_PYPI_LEG")),
                                   reason="torch-independent; run on the host leg only")


@host_leg_only
@pytest.mark.parametrize("entry", CPU_PATH_SHAPES, ids=cpu_path_id)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_gradcheck(entry, activation):
    _, shape = entry
    t = checked_inputs(shape, activation, differentiated(shape, LOSS_INPUTS))
    assert gradcheck(lambda *a: twolayer.loss(*a, activation), [t[k] for k in LOSS_INPUTS],
                     raise_exception=True)
    t = checked_inputs(shape, activation, differentiated(shape, FORWARD_INPUTS))
    assert gradcheck(lambda *a: twolayer.forward(*a, activation), [t[k] for k in FORWARD_INPUTS],
                     raise_exception=True)


@host_leg_only
@pytest.mark.parametrize("entry", CPU_PATH_SHAPES, ids=cpu_path_id)
def test_double_backward(entry):
    _, shape = entry
    for activation in ("tanh", "sigmoid"):
        t = checked_inputs(shape, activation, double_differentiated(shape, LOSS_INPUTS))
        assert gradgradcheck(lambda *a: twolayer.loss(*a, activation),
                             [t[k] for k in LOSS_INPUTS], raise_exception=True)
        t = checked_inputs(shape, activation, double_differentiated(shape, FORWARD_INPUTS))
        assert gradgradcheck(lambda *a: twolayer.forward(*a, activation),
                             [t[k] for k in FORWARD_INPUTS], raise_exception=True)


@pytest.mark.parametrize("entry", CPU_PATH_SHAPES, ids=cpu_path_id)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_fit_takes_the_steps_of_the_manual_loop(entry, activation):
    _, shape = entry
    inputs = make_inputs(*shape, seed=seed_for("paths-fit", activation, shape))
    X, Y = inputs["X"], inputs["Y"]
    params = [inputs[k].clone() for k in ("W1", "b1", "W2", "b2")]
    start = [p.clone() for p in params]
    costs = twolayer.fit_(*params, X, Y, 6, 0.5, activation)
    expected, expected_costs = manual_descent(reference_loss, X, Y, start, activation, 6, 0.5)
    assert rel_err(costs, torch.tensor(expected_costs, dtype=X.dtype)) <= 1e-12
    for name, p, e in zip(("W1", "b1", "W2", "b2"), params, expected):
        assert rel_err(p, e) <= 1e-12, name


# Row passes over many rows: on the blocks schedule several blocks per chunk (256 float64 hidden
# units make 512-row blocks), whose partial products each chunk adds up; over the whole batch,
# several chunks. At 1 and 2 threads, as the slots of the sums and the owners of the block
# memory follow the thread count.
MANY_ROWS = (
    ("row_blocks/outputs_in_row_pass", (4500, 70, 256, 3)),
    ("row_blocks/outputs_by_blas", (4500, 70, 256, 7)),
    ("row_blocks/dense_rows/outputs_in_row_pass", (4500, 20, 256, 3)),
    ("row_blocks/dense_rows/outputs_by_dense_rows", (4500, 20, 256, 7)),
    ("whole_batch/outputs_in_row_pass", (4500, 100, 400, 2)),
    ("whole_batch/outputs_by_blas", (4500, 100, 400, 6)),
)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("entry", MANY_ROWS, ids=cpu_path_id)
def test_many_rows_in_blocks_and_chunks_match_autograd(entry, threads):
    path, shape = entry
    assert _testing.cpu_path(*shape) == path
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        inputs = make_inputs(*shape, dtype=torch.float64, seed=seed_for("many-rows", path, shape))
        g = random_scalar(3, torch.float64)
        J, grads = loss_and_grads(twolayer.loss, inputs, "tanh", g)
        ref_J, ref = loss_and_grads(reference_loss, inputs, "tanh", g)
        assert rel_err(J, ref_J) <= TOLERANCE[torch.float64]
        assert_grads_match(grads, ref, TOLERANCE[torch.float64])
        with torch.no_grad():
            A2 = twolayer.forward(*[inputs[k] for k in FORWARD_INPUTS], "tanh")
            ref_A2 = reference_forward(*[inputs[k] for k in FORWARD_INPUTS], "tanh")
        assert rel_err(A2, ref_A2) <= TOLERANCE[torch.float64]
        params = [inputs[k].detach().clone() for k in ("W1", "b1", "W2", "b2")]
        start = [p.clone() for p in params]
        costs = twolayer.fit_(*params, inputs["X"].detach(), inputs["Y"].detach(), 3, 0.5, "tanh")
        expected, expected_costs = manual_descent(reference_loss, inputs["X"].detach(),
                                                  inputs["Y"].detach(), start, "tanh", 3, 0.5)
        assert rel_err(costs, torch.tensor(expected_costs, dtype=torch.float64)) <= 1e-12
        for name, p, e in zip(("W1", "b1", "W2", "b2"), params, expected):
            assert rel_err(p, e) <= 1e-12, name
    finally:
        torch.set_num_threads(previous)
