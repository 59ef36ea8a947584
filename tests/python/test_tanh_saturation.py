"""float32 tanh where it saturates: g1' = 1 - A1^2 is a relative matter there (A1 sits a few
ulps below 1), so the gradient that flows through a saturated hidden unit is compared with a
float64 reference by its relative error, against the error autograd itself makes in float32 on
the same inputs. Before, the fused kernels' tanh was exactly 1 from |Z1| = 7.905 on, and the
gradient through units between 7.905 and 8.66 was 0 where autograd's is 3e-6 to 7e-7.

Every row of X is 1 and hidden unit j has the weight z_j (b1 = 0), so Z1 = z_j in every row and
dW1_j = dZ2 W2_j g1'(z_j), the same dZ2 for all units: dW1_j's relative error is g1'(z_j)'s."""
import pytest
import torch

import twolayer

from reference import reference_loss

Z = torch.linspace(-9.5, 9.5, 4096, dtype=torch.float64)
# Units per call, which send the calls to each CPU path: the small net (n1 (n0 + n2) <= 64
# weights), the row blocks and the whole-batch row pass (more than 32768 weights).
UNITS = {"small net": 32, "row blocks": 4096, "rows": 4096 * 5}


def _dW1(z, dtype, impl, m=64):
    n1 = z.numel()
    X = torch.ones(m, 1, dtype=dtype)
    W1 = z.to(dtype).reshape(n1, 1).clone().requires_grad_()
    b1 = torch.zeros(n1, dtype=dtype)
    W2 = torch.full((1, n1), 1.0 / n1, dtype=dtype)
    b2 = torch.zeros(1, dtype=dtype)
    Y = torch.full((m, 1), 0.25, dtype=dtype)
    impl(X, Y, W1, b1, W2, b2, "tanh").backward()
    return W1.grad.reshape(-1).double()


def _over_grid(units, dtype, impl):
    # The grid in calls of `units` hidden units each (repeated to fill the wide ones).
    repeats = max(1, units // Z.numel())
    grid = Z.repeat(repeats)
    return torch.cat([_dW1(grid[i:i + units], dtype, impl)
                      for i in range(0, grid.numel(), units)])[:Z.numel()]


@pytest.mark.parametrize("path", list(UNITS))
def test_the_gradient_through_saturated_tanh_units_is_as_accurate_as_autograds(path):
    units = UNITS[path]
    exact = _over_grid(units, torch.float64, reference_loss)
    ours = _over_grid(units, torch.float32, twolayer.loss)
    autograd = _over_grid(units, torch.float32, reference_loss)
    ours_err = (ours - exact).abs() / exact.abs()
    autograd_err = (autograd - exact).abs() / exact.abs()
    for lo, hi in [(0.5, 2.0), (2.0, 4.0), (4.0, 6.0), (6.0, 7.9), (7.9, 8.66), (8.66, 9.0)]:
        band = (Z.abs() >= lo) & (Z.abs() < hi)
        # Nothing flushed to 0 where float32's tanh is still below 1 (|z| < 9.01).
        assert (ours[band] != 0).all(), f"{path}: zero gradient for |z| in [{lo}, {hi})"
        assert ours_err[band].median() <= 2 * autograd_err[band].median() + 1e-6, \
            (path, lo, hi, ours_err[band].median().item(), autograd_err[band].median().item())
