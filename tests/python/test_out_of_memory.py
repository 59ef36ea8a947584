"""Out of memory is a RuntimeError that names what could not be allocated and how many bytes
(not a bare MemoryError: std::bad_alloc), for the cost with and without gradients and for fit_,
and the parameters stay as they were. The hidden layer asked for is 512 TiB (2^24 rows x 2^23
hidden units in float32), more than any address space holds; the inputs take 192 MiB."""
import pytest
import torch

import twolayer

ROWS, HIDDEN = 1 << 24, 1 << 23
BYTES = ROWS * HIDDEN * 4


@pytest.fixture(scope="module")
def huge():
    return dict(X=torch.zeros(ROWS, 1), Y=torch.zeros(ROWS, 1), W1=torch.full((HIDDEN, 1), 0.5),
                b1=torch.zeros(HIDDEN), W2=torch.full((1, HIDDEN), 0.25), b2=torch.zeros(1))


def _loss(h, **grad):
    W1 = h["W1"].clone().requires_grad_(bool(grad))
    return twolayer.loss(h["X"], h["Y"], W1, h["b1"], h["W2"], h["b2"])


def test_a_cost_without_gradients_names_the_workspace_and_its_size(huge):
    with torch.no_grad(), pytest.raises(RuntimeError) as error:
        _loss(huge)
    assert "twolayer: out of memory: the CPU kernel's row-pass workspace (blocks of A1, dZ1, dZ2) needs " \
           f"{BYTES} bytes" in str(error.value)


def test_a_cost_with_gradients_names_the_cache_and_its_size(huge):
    with pytest.raises(RuntimeError) as error:
        _loss(huge, grad=True)
    assert f"out of memory: the cache of forward propagation for backpropagation (A1, m x n1) " \
           f"needs {BYTES} bytes" in str(error.value)


def test_fit_refuses_and_leaves_the_parameters_as_they_were(huge):
    params = [huge[k].clone() for k in ("W1", "b1", "W2", "b2")]
    with pytest.raises(RuntimeError) as error:
        twolayer.fit_(*params, huge["X"], huge["Y"], 3, 0.5)
    assert f"{BYTES} bytes" in str(error.value)
    for p, k in zip(params, ("W1", "b1", "W2", "b2")):
        assert torch.equal(p, huge[k]), k
