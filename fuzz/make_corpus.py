#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_ops (fuzz/corpus/): one small file per kind of case, so that
fuzzing starts from every operator, activation, dtype, layout, value mode, grad mode and fault
instead of having to discover them.

Each file is encoded the way fuzz/decode.h decodes it with FuzzedDataProvider: integers are taken
from the end of the data (one byte each here, as every range is below 256, reduced modulo the
range's size), strings from the front. Values are left out, so the target's fixed pseudo-random
sequence supplies them. Run it again after changing decode.h:  python3 fuzz/make_corpus.py
FUZZ_OPS_DESCRIBE=1 build/asan/fuzz_ops fuzz/corpus/* prints how each file decodes.
"""
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))

OPS = ["loss", "forward", "fit"]
M, N0, N1, N2 = [1, 2, 3, 5, 9, 1, 4], [1, 2, 3, 5, 190], [1, 2, 4, 7, 24, 180], [1, 2, 3, 17, 5]
LAYOUTS = ["contiguous", "contiguous", "transposed", "sliced", "expanded", "overlapping"]
ACTIVATIONS = ["tanh", "relu", "sigmoid", "leaky_relu"]
VALUES = ["normal", "normal", "large_logits", "extreme", "nonfinite", "raw"]
GRAD_MODES = ["grad", "grad", "no_grad", "inference", "create_graph", "dual"]
GRAD_SCALES = [1.0, -0.75, 2.5, 0.0]
ITERATIONS = [1, 1, 2, 3, 0, -1]
LEARNING_RATES = ["0.5", "1.2", "0", "-0.3", "1e30", "nan", "inf"]
FAULT_COUNTS = [0, 0, 0, 1, 1, 2]
INPUTS = ["X", "Y", "W1", "b1", "W2", "b2"]
FAULT_KINDS = ["rank", "dtype", "empty", "shape", "meta", "undefined", "activation", "sparse"]
# fit_'s overlapping arguments, as decode.h reads its byte (anything else decodes to none).
ALIASES = {False: 1, "X=W1": 0, "b1 in W1": 14, "b2 in Y": 15}
BAD_DTYPES = ["int64", "float16", "bool", "bfloat16", "int32", "float32", "float64"]


class Encoder:
    """The inverse of FuzzedDataProvider for one-byte integers and short strings."""

    def __init__(self):
        self.front = bytearray()  # consumed from the front: strings
        self.back = bytearray()   # consumed from the end, in order of consumption

    def index(self, table, value):
        self.back.append(table.index(value))

    def byte(self, value):
        self.back.append(value & 0xFF)

    def string(self, text):
        # ConsumeRandomLengthString: a backslash followed by another character ends the string.
        self.front += text.encode().replace(b"\\", b"\\\\") + b"\\e"

    def data(self):
        return bytes(self.front) + bytes(reversed(self.back))


def encode(op="loss", dtype="float32", shape=(5, 2, 4, 1), requires_grad="X Y W1 b1 W2 b2",
           layouts=None, activation="tanh", values="normal", grad_mode="grad", grad_scale=1.0,
           iterations=1, learning_rate="0.5", alias=False, faults=()):
    """alias: False or a key of ALIASES."""
    e = Encoder()
    e.index(OPS, op)
    e.byte(1 if dtype == "float32" else 0)
    for table, size in zip((M, N0, N1, N2), shape):
        e.index(table, size)
    e.byte(sum(1 << INPUTS.index(k) for k in requires_grad.split()))
    for k in INPUTS:
        e.index(LAYOUTS, (layouts or {}).get(k, "contiguous"))
    e.index(ACTIVATIONS, activation if activation in ACTIVATIONS else "tanh")
    e.index(VALUES, values)
    e.index(GRAD_MODES, grad_mode)
    e.index(GRAD_SCALES, grad_scale)
    e.index(ITERATIONS, iterations)
    e.index(LEARNING_RATES, learning_rate)
    e.byte(ALIASES[alias])
    e.index(FAULT_COUNTS, len(faults))
    for fault in faults:
        kind, target = fault[0], fault[1]
        e.byte(INPUTS.index(target))
        e.byte(FAULT_KINDS.index(kind))
        if kind == "rank":
            dims = fault[2]
            e.index([0, 1, 3, 4], len(dims))
            for d in dims:
                e.byte(d)
        elif kind == "dtype":
            e.index(BAD_DTYPES, fault[2])
        elif kind == "empty":
            rank = 1 if target in ("b1", "b2") else 2
            if rank > 1:  # a range of one value takes no byte
                e.byte(fault[2])
        elif kind == "shape":
            rank = 1 if target in ("b1", "b2") else 2
            for delta in fault[2][:rank]:
                e.byte(delta + 1)  # InRange(-1, 2)
        elif kind == "activation":
            e.string(fault[2])
    return e.data()


# One shape per CPU path and output regime (csrc/ops/cpu/cpu_paths.h): the small net, the row
# blocks with the outputs in the row pass (BLAS) and by BLAS (WIDE, and 5 outputs), the
# whole-batch rows path (> 32768 weights) in both regimes.
SMALL, BLAS, WIDE = (5, 2, 4, 1), (9, 3, 24, 2), (4, 5, 7, 17)
WIDE5, ROWS, ROWS_WIDE = (9, 3, 24, 5), (3, 190, 180, 2), (2, 190, 180, 5)


def cases():
    for op in OPS:
        for activation in ACTIVATIONS:
            for dtype in ("float32", "float64"):
                yield f"{op}-{activation}-{dtype}", encode(op, dtype, SMALL, activation=activation)
        yield f"{op}-blas", encode(op, "float64", BLAS, activation="relu")
        yield f"{op}-wide-output", encode(op, "float32", WIDE, activation="sigmoid")
        yield f"{op}-five-outputs", encode(op, "float64", WIDE5, activation="leaky_relu")
        yield f"{op}-rows", encode(op, "float32", ROWS, activation="tanh")
        yield f"{op}-rows-wide-output", encode(op, "float64", ROWS_WIDE, activation="relu")
    yield "loss-m1-n1", encode("loss", "float64", (1, 1, 1, 1))
    yield "loss-views", encode("loss", "float64", SMALL, layouts={
        "X": "transposed", "Y": "sliced", "W1": "expanded", "b1": "sliced", "W2": "overlapping",
        "b2": "expanded"})
    yield "forward-views", encode("forward", "float32", BLAS, layouts={
        "X": "sliced", "W1": "transposed", "W2": "sliced"})
    yield "fit-views", encode("fit", "float64", SMALL, layouts={"X": "transposed", "Y": "sliced"})
    for values in ("large_logits", "extreme", "nonfinite", "raw"):
        for op in ("loss", "forward", "fit"):
            yield f"{op}-{values}", encode(op, "float32", SMALL, values=values)
    for mode in ("no_grad", "inference", "create_graph"):
        yield f"loss-{mode}", encode("loss", "float64", SMALL, grad_mode=mode, grad_scale=-0.75)
        yield f"forward-{mode}", encode("forward", "float64", BLAS, grad_mode=mode)
    yield "loss-partial-grad", encode("loss", "float64", SMALL, requires_grad="W2 b2")
    yield "forward-no-grad-inputs", encode("forward", "float64", SMALL, requires_grad="")
    yield "fit-iterations-3", encode("fit", "float64", SMALL, iterations=3, learning_rate="1.2")
    yield "fit-iterations-0", encode("fit", "float32", SMALL, iterations=0)
    yield "fit-iterations-negative", encode("fit", "float32", SMALL, iterations=-1)
    yield "fit-lr-nan", encode("fit", "float32", SMALL, learning_rate="nan")
    yield "fit-alias", encode("fit", "float64", (4, 2, 4, 1), alias="X=W1")
    yield "fit-alias-b1-in-W1", encode("fit", "float32", SMALL, alias="b1 in W1")
    yield "fit-alias-b2-in-Y", encode("fit", "float64", BLAS, alias="b2 in Y")
    yield "loss-dual", encode("loss", "float64", SMALL, grad_mode="dual", requires_grad="W1 Y")
    yield "loss-dual-blas", encode("loss", "float32", BLAS, grad_mode="dual")
    yield "forward-dual", encode("forward", "float64", BLAS, grad_mode="dual",
                                 requires_grad="X b1 W2")
    yield "W1-sparse", encode(faults=[("sparse", "W1")])
    yield "X-sparse-fit", encode("fit", faults=[("sparse", "X")])
    yield "X-rank3", encode(faults=[("rank", "X", [2, 3, 1])])
    yield "W2-rank1", encode("forward", faults=[("rank", "W2", [3])])
    yield "X-int64", encode(faults=[("dtype", "X", "int64")])
    yield "b1-float16", encode("forward", faults=[("dtype", "b1", "float16")])
    yield "Y-bool", encode(faults=[("dtype", "Y", "bool")])
    yield "W1-float64", encode("fit", faults=[("dtype", "W1", "float64")])
    yield "X-m0", encode(faults=[("empty", "X", 0)])
    yield "W1-n1-0", encode("forward", faults=[("empty", "W1", 0)])
    yield "b2-empty", encode(faults=[("empty", "b2", 0)])
    yield "W2-shape", encode(faults=[("shape", "W2", [0, 1])])
    yield "Y-shape", encode("fit", faults=[("shape", "Y", [2, 0])])
    yield "W1-meta", encode(faults=[("meta", "W1")])
    yield "X-meta", encode("forward", faults=[("meta", "X")])
    yield "Y-undefined-fit", encode("fit", faults=[("undefined", "Y")])
    yield "Y-undefined-loss", encode("loss", faults=[("undefined", "Y")])
    yield "b1-undefined", encode("forward", faults=[("undefined", "b1")])
    yield "activation-unknown", encode(faults=[("activation", "X", "Tanh")])
    yield "activation-empty", encode("forward", faults=[("activation", "X", "")])
    yield "two-faults", encode(faults=[("shape", "b1", [1]), ("dtype", "W2", "int32")])


def main():
    out = os.path.join(HERE, "corpus")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    count = 0
    for name, data in cases():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        count += 1
    print(f"wrote {count} files to {out}")


if __name__ == "__main__":
    main()
