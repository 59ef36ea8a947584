"""Exports a TwoLayerNet with a dynamic batch size and compiles it into an AOTInductor package.

    python export_package.py OUT_DIR

writes OUT_DIR/twolayer_net.pt2 (the package, loaded in C++ by run_aoti_package) and
OUT_DIR/expected.txt: for each batch size that the C++ program runs, the probabilities of the
eager module on the same inputs, which the C++ program compares with its own.
Needs PyTorch 2.6 or later (torch._inductor.aoti_compile_and_package) and a C++ compiler.
"""
import os
import sys

import torch
from torch.export import Dim

import twolayer

BATCH_SIZES = (3, 11)


def inputs(m):
    """The same X in C++: linspace(-2, 2) over m * 2 values, as m rows of 2 features."""
    return torch.linspace(-2.0, 2.0, m * 2, dtype=torch.float32).reshape(m, 2)


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    net = twolayer.TwoLayerNet(2, 4, 1, seed=1, init_scale=1.0).eval()
    program = torch.export.export(net, (inputs(5),), dynamic_shapes={"X": {0: Dim("m", min=1)}})
    package = torch._inductor.aoti_compile_and_package(
        program, package_path=os.path.join(out_dir, "twolayer_net.pt2"))
    with open(os.path.join(out_dir, "expected.txt"), "w") as f, torch.no_grad():
        for m in BATCH_SIZES:
            values = net(inputs(m)).flatten().tolist()
            f.write(" ".join([str(m)] + [repr(v) for v in values]) + "\n")
    print(f"exported {package}")


if __name__ == "__main__":
    main(sys.argv[1])
