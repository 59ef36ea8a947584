"""Write the Python checkpoints that the C++ CheckpointCrossLanguage tests load.

Usage: save_checkpoints.py OUTDIR

  OUTDIR/python_state_dict.pt     torch.save(dict(net.state_dict())) of a float64
                                  TwoLayerNet(2, 4, 1) after HALF steps of fit (C++ reads it
                                  with torch::pickle_load; a plain dict, see main())
  OUTDIR/python_state_dict_ordered.pt
                                  torch.save(net.state_dict()) of the same net: the
                                  OrderedDict, for TwoLayerNet::load
  OUTDIR/python_scripted_net.pt   torch.jit.save(torch.jit.script(net)) of the same net
                                  (C++ reads it with torch::load(net, path))
  OUTDIR/python_bfloat16_state_dict.pt, OUTDIR/python_bfloat16_scripted_net.pt
                                  the same two forms of a bfloat16 TwoLayerNet(2, 4, 1) after
                                  HALF steps (C++'s TwoLayerNet::load makes bfloat16 nets of
                                  both, with the same parameters)
  OUTDIR/python_expected.txt      what C++ must find, in hexadecimal floating point: the
                                  parameters after HALF steps, the training data, and the
                                  parameters after 2 * HALF uninterrupted steps (for the test
                                  that resumes the training in C++)

The expected values are plain text rather than another torch file so that a fault of the
serialization under test cannot hide in the reference too. Hexadecimal floats are exact.

Run by ctest as the setup fixture of the cross-language checkpoint tests; the helpers
write_values / read_values are shared with check_cpp_checkpoint.py and test_checkpoints.py.
"""
import os
import sys

import torch

import twolayer

N0, N1, N2 = 2, 4, 1
SEED = 5
M = 40
HALF = 50
LEARNING_RATE = 1.2
PARAMS = ("W1", "b1", "W2", "b2")


# ---------------------------------------------------------------------------------------------
# The text format: one tensor per line, "name dtype dim0,dim1 v0 v1 ..." with float.hex() values
# ---------------------------------------------------------------------------------------------

def write_values(path, values, header=""):
    with open(path, "w") as f:
        for line in header.splitlines():
            f.write(f"# {line}\n")
        for name, tensor in values.items():
            t = tensor.detach().cpu().contiguous()
            dtype = {torch.float64: "float64", torch.float32: "float32"}[t.dtype]
            shape = ",".join(str(d) for d in t.shape) or "scalar"
            numbers = " ".join(float(v).hex() for v in t.reshape(-1).tolist())
            f.write(f"{name} {dtype} {shape} {numbers}\n")


def read_values(path):
    values = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, dtype, shape, *numbers = line.split()
            dtype = {"float64": torch.float64, "float32": torch.float32}[dtype]
            shape = [] if shape == "scalar" else [int(d) for d in shape.split(",")]
            t = torch.tensor([float.fromhex(v) for v in numbers], dtype=torch.float64)
            values[name] = t.to(dtype).reshape(shape)
    return values


def bits(t):
    """The tensor's bit patterns, so that -0.0 != 0.0 and a NaN equals itself."""
    t = t.detach().contiguous()
    return t.view({torch.float64: torch.int64, torch.float32: torch.int32}[t.dtype])


def bitwise_equal(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and torch.equal(bits(a), bits(b))


def training_data():
    """Two noisy classes: training moves every parameter, biases included."""
    gen = torch.Generator().manual_seed(SEED)
    X = torch.randn(M, N0, generator=gen, dtype=torch.float64) * 2.0
    Y = ((X[:, :1] ** 2 - X[:, 1:] > 0.5) ^ (torch.rand(M, 1, generator=gen) < 0.1)).double()
    return X, Y


def main(argv):
    if len(argv) != 2:
        sys.exit(f"usage: {argv[0]} OUTDIR")
    outdir = argv[1]
    os.makedirs(outdir, exist_ok=True)
    # What C++ wrote last time must not stand in for what it writes this time.
    for stale in ("cpp_net.pt", "cpp_expected.txt"):
        if os.path.exists(os.path.join(outdir, stale)):
            os.remove(os.path.join(outdir, stale))

    X, Y = training_data()
    net = twolayer.TwoLayerNet(N0, N1, N2, seed=SEED, dtype=torch.float64)
    net.fit(X, Y, HALF, LEARNING_RATE)
    # A plain dict: LibTorch 1.13's torch::pickle_load cannot rebuild the OrderedDict that
    # state_dict() returns (its _metadata attribute ends in an internal assert).
    torch.save(dict(net.state_dict()), os.path.join(outdir, "python_state_dict.pt"))
    # The OrderedDict itself, as users save it: C++'s TwoLayerNet::load reads it or says why not.
    torch.save(net.state_dict(), os.path.join(outdir, "python_state_dict_ordered.pt"))
    torch.jit.save(torch.jit.script(net), os.path.join(outdir, "python_scripted_net.pt"))
    low = twolayer.TwoLayerNet(N0, N1, N2, seed=SEED, dtype=torch.bfloat16)
    low.fit(X.bfloat16(), Y.float(), HALF, LEARNING_RATE)
    torch.save(dict(low.state_dict()), os.path.join(outdir, "python_bfloat16_state_dict.pt"))
    torch.jit.save(torch.jit.script(low), os.path.join(outdir, "python_bfloat16_scripted_net.pt"))
    expected = {p: getattr(net, p).detach().clone() for p in PARAMS}   # fit_ works in place
    expected["X"], expected["Y"] = X, Y
    expected["learning_rate"] = torch.tensor(LEARNING_RATE, dtype=torch.float64)
    expected["half_steps"] = torch.tensor(float(HALF), dtype=torch.float64)

    net.fit(X, Y, HALF, LEARNING_RATE)   # uninterrupted: the same net, HALF more steps
    for p in PARAMS:
        expected[p + "_after_resume"] = getattr(net, p).detach().clone()
    header = (f"written by tests/python/save_checkpoints.py: TwoLayerNet({N0}, {N1}, {N2}, "
              f"seed={SEED}, float64), fit {HALF} steps then {HALF} more, learning rate "
              f"{LEARNING_RATE.hex()}")
    write_values(os.path.join(outdir, "python_expected.txt"), expected, header)
    print(f"wrote python_state_dict.pt, python_state_dict_ordered.pt, python_scripted_net.pt, "
          f"python_bfloat16_state_dict.pt, python_bfloat16_scripted_net.pt, python_expected.txt "
          f"to {outdir}")


if __name__ == "__main__":
    main(sys.argv)
