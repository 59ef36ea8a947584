"""Check, from Python, the checkpoint that C++ wrote with torch::save(net, path).

Usage: check_cpp_checkpoint.py OUTDIR

Reads OUTDIR/cpp_net.pt and OUTDIR/cpp_expected.txt, both written by the C++ test
CheckpointCrossLanguage.WritesCheckpointForPython (tests/cpp/test_checkpoint.cpp), and checks
that
  - torch.jit.load and torch.load both read the file, and its parameters are exactly W1, b1, W2,
    b2 with the values (bit for bit) that C++ wrote alongside in hexadecimal text;
  - they load into a twolayer.TwoLayerNet with load_state_dict(strict=True), and
    twolayer.TwoLayerNet.load(path) makes a net of the file, with its sizes, dtype, activation
    and parameters;
  - training resumed in Python from the C++ checkpoint ends, bit for bit, where C++'s
    uninterrupted training ended (the same fit_ kernel behind both languages).
Exits with status 1 and a message per failure. Run by ctest after the C++ test.
"""
import os
import sys
import warnings

import torch

import twolayer

from save_checkpoints import PARAMS, bitwise_equal, read_values


def check(outdir):
    failures = []

    def expect(condition, message):
        if not condition:
            failures.append(message)
        return condition

    path = os.path.join(outdir, "cpp_net.pt")
    expected_path = os.path.join(outdir, "cpp_expected.txt")
    for p in (path, expected_path):
        if not os.path.isfile(p):
            return [f"{p} is missing: run the C++ test CheckpointCrossLanguage.* with "
                    f"TWOLAYER_CHECKPOINT_DIR={outdir} first"]
    expected = read_values(expected_path)

    loaded = {}
    loaded["torch.jit.load"] = dict(torch.jit.load(path).named_parameters())
    with warnings.catch_warnings():
        # torch.load says it is dispatching a TorchScript archive to torch.jit.load. An archive
        # is code as well as weights, which weights_only=True (2.6's default) refuses.
        warnings.simplefilter("ignore")
        module = torch.load(path, weights_only=False)
    loaded["torch.load"] = dict(module.named_parameters())

    for how, params in loaded.items():
        if not expect(sorted(params) == sorted(PARAMS),
                      f"{how}: parameters {sorted(params)}, expected {sorted(PARAMS)}"):
            continue
        for p in PARAMS:
            expect(bitwise_equal(params[p].detach(), expected[p]),
                   f"{how}: {p} differs from the values C++ saved:\n{params[p]}\n{expected[p]}")
    if failures:
        return failures

    params = loaded["torch.jit.load"]
    n1, n0 = params["W1"].shape
    n2 = params["W2"].shape[0]
    net = twolayer.TwoLayerNet(n0, n1, n2, seed=0, dtype=params["W1"].dtype)
    net.load_state_dict({p: t.detach() for p, t in params.items()}, strict=True)
    for p in PARAMS:
        expect(bitwise_equal(getattr(net, p).detach(), expected[p]),
               f"TwoLayerNet.load_state_dict: {p} differs from the checkpoint")

    loaded = twolayer.TwoLayerNet.load(path)
    expect(loaded.activation == "tanh",
           f"TwoLayerNet.load: activation {loaded.activation!r}, expected 'tanh'")
    for p in PARAMS:
        expect(bitwise_equal(getattr(loaded, p).detach(), expected[p]),
               f"TwoLayerNet.load: {p} differs from the values C++ saved")
    expect(torch.equal(loaded(expected["X"]), net(expected["X"])),
           "TwoLayerNet.load: the loaded net computes other probabilities")

    net.fit(expected["X"], expected["Y"], int(expected["half_steps"].item()),
            expected["learning_rate"].item())
    # The package and the C++ library are two compilations, free to fuse different multiply-adds
    # (FMA) in the vectorised kernels: across them, training agrees to float64 rounding.
    for p in PARAMS:
        resumed, uninterrupted = getattr(net, p).detach(), expected[p + "_after_resume"]
        expect(torch.allclose(resumed, uninterrupted, rtol=1e-12, atol=1e-12),
               f"{p}: training resumed in Python from the C++ checkpoint differs from C++'s "
               f"uninterrupted training (max |diff| "
               f"{(resumed - uninterrupted).abs().max().item():.3g})")
    return failures


def main(argv):
    if len(argv) != 2:
        sys.exit(f"usage: {argv[0]} OUTDIR")
    failures = check(argv[1])
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    if failures:
        return 1
    print(f"the C++ checkpoint in {argv[1]} loads in Python, bit for bit, and training resumes "
          "from it exactly")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
