"""Both cores: with 2 threads the CPU kernels split the examples into chunks. The results must
still match the reference and be identical, bit for bit, from run to run."""
import pytest
import torch

import twolayer
from helpers import (ACTIVATIONS, LOSS_INPUTS, assert_close_rel, assert_grads_match,
                     loss_and_grads, make_inputs)
from reference import reference_loss

# Enough rows for several chunks: a small network (direct loops); row blocks with the output
# layer in the row pass and by BLAS, with several blocks per chunk (1 MiB of Z1 per block);
# whole-batch rows (more than 32768 weights).
SHAPES = [(9000, 2, 4, 1), (6000, 12, 24, 3), (6000, 7, 300, 6), (5000, 190, 180, 3)]


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_chunked_loss_and_gradients_match_reference_and_repeat(two_threads, shape, activation):
    inputs = make_inputs(*shape, seed=7)
    g = torch.tensor(1.3, dtype=torch.float64)
    J, grads = loss_and_grads(twolayer.loss, inputs, activation, g)
    J_ref, ref_grads = loss_and_grads(reference_loss, inputs, activation, g)
    assert_close_rel(J, J_ref, 1e-10, "J")
    assert_grads_match(grads, ref_grads, 1e-10)
    J_again, grads_again = loss_and_grads(twolayer.loss, inputs, activation, g)
    assert torch.equal(J, J_again)
    for name in LOSS_INPUTS:
        assert torch.equal(grads[name], grads_again[name]), name


@pytest.mark.parametrize("shape", [(9000, 2, 4, 1), (6000, 7, 40, 3), (6000, 7, 40, 6)], ids=str)
def test_fit_repeats_bit_for_bit_with_two_threads(two_threads, shape):
    inputs = make_inputs(*shape, seed=8, dtype=torch.float32)
    runs = []
    for _ in range(2):
        params = [inputs[k].clone() for k in ("W1", "b1", "W2", "b2")]
        costs = twolayer.fit_(*params, inputs["X"], inputs["Y"], 5, 0.5)
        runs.append((costs, params))
    assert torch.equal(runs[0][0], runs[1][0])
    assert all(torch.equal(a, b) for a, b in zip(runs[0][1], runs[1][1]))
