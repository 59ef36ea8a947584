"""Write the TorchScript files that the C++ ScriptedModel tests load.

Usage: save_scripted_models.py OUTDIR

  OUTDIR/loss_module.pt  a scripted module whose forward calls torch.ops.twolayer.loss (tanh)
  OUTDIR/net.pt          torch.jit.script(twolayer.TwoLayerNet(2, 4, 1, seed=7))
  OUTDIR/expected.pt     a scripted module whose buffers are the inputs and the values and
                         gradients of the reference network (reference.py: plain PyTorch,
                         never twolayer), which the C++ side compares against

Run by ctest as the setup fixture of the cross-language tests.
"""
import os
import sys

import torch

import twolayer  # noqa: F401  (loads the library that registers torch.ops.twolayer)
from reference import reference_forward, reference_loss  # beside this script, on sys.path


class LossModule(torch.nn.Module):
    def forward(self, X: torch.Tensor, Y: torch.Tensor, W1: torch.Tensor, b1: torch.Tensor,
                W2: torch.Tensor, b2: torch.Tensor) -> torch.Tensor:
        return torch.ops.twolayer.loss(X, Y, W1, b1, W2, b2, "tanh")


class Tensors(torch.nn.Module):
    """Named tensors as buffers: a TorchScript file that C++ reads with torch::jit::load."""

    def __init__(self, tensors):
        super().__init__()
        for name, tensor in tensors.items():
            self.register_buffer(name, tensor.detach().clone())

    def forward(self) -> int:
        return 0


def main(argv):
    if len(argv) != 2:
        sys.exit(f"usage: {argv[0]} OUTDIR")
    outdir = argv[1]
    os.makedirs(outdir, exist_ok=True)

    gen = torch.Generator().manual_seed(2023)
    m, n0, n1, n2 = 6, 3, 5, 2
    d = torch.float64
    inputs = {
        "X": torch.randn(m, n0, generator=gen, dtype=d),
        "Y": torch.rand(m, n2, generator=gen, dtype=d),
        "W1": torch.randn(n1, n0, generator=gen, dtype=d) * 0.8,
        "b1": torch.randn(n1, generator=gen, dtype=d) * 0.5,
        "W2": torch.randn(n2, n1, generator=gen, dtype=d) * 0.8,
        "b2": torch.randn(n2, generator=gen, dtype=d) * 0.5,
    }
    g = torch.tensor(1.7, dtype=d)  # a non-unit incoming gradient
    leaves = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
    J = reference_loss(*leaves.values(), "tanh")
    J.backward(g)
    expected = dict(inputs)
    expected["g"] = g
    expected["J"] = J.detach()
    for name, leaf in leaves.items():
        expected["d" + name] = leaf.grad

    net = twolayer.TwoLayerNet(2, 4, 1, seed=7)
    net_X = torch.randn(5, 2, generator=gen)
    net_Y = (torch.rand(5, 1, generator=gen) > 0.5).float()
    with torch.no_grad():
        W1, b1, W2, b2 = net.W1, net.b1, net.W2, net.b2
        expected["net_X"] = net_X
        expected["net_Y"] = net_Y
        expected["net_A2"] = reference_forward(net_X, W1, b1, W2, b2, "tanh")
        expected["net_J"] = reference_loss(net_X, net_Y, W1, b1, W2, b2, "tanh")

    torch.jit.save(torch.jit.script(LossModule()), os.path.join(outdir, "loss_module.pt"))
    torch.jit.save(torch.jit.script(net), os.path.join(outdir, "net.pt"))
    torch.jit.save(torch.jit.script(Tensors(expected)), os.path.join(outdir, "expected.pt"))
    print(f"wrote loss_module.pt, net.pt, expected.pt to {outdir}")


if __name__ == "__main__":
    main(sys.argv)
