"""Full-batch gradient descent on the lecture's planar problem (2-4-1, tanh, learning rate 1.2):
the in-C++ loop twolayer::fit_ against the Python loops a user would otherwise write."""
import os
import statistics
import sys
import time

import torch

from common import (lecture_init, numpy_step, reference_loss, to_lecture_layout,
                    twolayer_loss)

HIDDEN = 4
LEARNING_RATE = 1.2
SEED = 1

PEERS = {
    "fit_": "(a) torch.ops.twolayer.fit_",
    "autograd_loop": "(b) Python loop, eager autograd",
    "twolayer_loop": "(c) Python loop, twolayer.loss",
    "numpy_loop": "(d) Python loop, NumPy six equations",
}


def flower_data():
    """The demo's data, from the demo itself, so the two never drift apart."""
    planar = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "examples", "planar")
    sys.path.insert(0, planar)
    try:
        from planar_flower import flower
    finally:
        sys.path.remove(planar)
    X, Y = flower(SEED)
    return X.float(), Y.float()


def have_fit_op():
    return hasattr(torch.ops.twolayer, "fit_")


def _fit_op(X, Y, init, iterations, repeats):
    seconds, final_cost = [], None
    for _ in range(repeats):
        W1, b1, W2, b2 = (p.clone() for p in init)
        with torch.no_grad():
            t0 = time.perf_counter()
            costs = torch.ops.twolayer.fit_(W1, b1, W2, b2, X, Y, iterations, LEARNING_RATE,
                                            "tanh")
            seconds.append(time.perf_counter() - t0)
        final_cost = costs[-1].item()
    return statistics.median(seconds), final_cost


def _torch_loop(loss_fn, X, Y, init):
    params = [p.clone().requires_grad_() for p in init]

    def run(iterations):
        for _ in range(iterations):
            for p in params:
                p.grad = None
            loss_fn(X, Y, *params).backward()
            with torch.no_grad():
                for p in params:
                    p -= LEARNING_RATE * p.grad

    return run


def _numpy_loop(X, Y, init):
    Xc, Yc, P = to_lecture_layout(X, Y, init)

    def run(iterations):
        W1, b1, W2, b2 = P
        for _ in range(iterations):
            _, (dW1, db1, dW2, db2) = numpy_step(Xc, Yc, W1, b1, W2, b2)
            # update_parameters, as the lecture writes it
            W1 = W1 - LEARNING_RATE * dW1
            b1 = b1 - LEARNING_RATE * db1
            W2 = W2 - LEARNING_RATE * dW2
            b2 = b2 - LEARNING_RATE * db2
        P[:] = [W1, b1, W2, b2]

    return run


def _chunked(run, chunk, chunks):
    """Median seconds of one chunk of iterations; a loop's cost per iteration does not depend on
    how far training has gone, so chunks of one long run stand for the whole run."""
    run(max(1, chunk // 10))  # warmup
    times = []
    for _ in range(chunks):
        t0 = time.perf_counter()
        run(chunk)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure_all(iterations, loop_chunk, loop_chunks, op_repeats, progress=print):
    """Seconds per `iterations` iterations for every peer. The Python loops run loop_chunks
    chunks of loop_chunk iterations and are scaled to `iterations`; fit_ runs all of them."""
    X, Y = flower_data()
    init = lecture_init(X.shape[1], HIDDEN, Y.shape[1], seed=SEED)
    results = {}
    if have_fit_op():
        progress("fit: fit_")
        seconds, final_cost = _fit_op(X, Y, init, iterations, op_repeats)
        results["fit_"] = {"seconds": seconds, "measured_iterations": iterations,
                           "runs": op_repeats, "scaled": False, "final_cost": final_cost}
    loops = {
        "autograd_loop": _torch_loop(reference_loss, X, Y, init),
        "twolayer_loop": _torch_loop(twolayer_loss, X, Y, init),
        "numpy_loop": _numpy_loop(X, Y, init),
    }
    for name, run in loops.items():
        progress(f"fit: {name}")
        per_chunk = _chunked(run, loop_chunk, loop_chunks)
        results[name] = {"seconds": per_chunk * iterations / loop_chunk,
                         "measured_iterations": loop_chunk * loop_chunks, "runs": loop_chunks,
                         "scaled": loop_chunk != iterations}
    ratios = {}
    if "fit_" in results:
        for name in loops:
            ratios[f"{name}/fit_"] = results[name]["seconds"] / results["fit_"]["seconds"]
    return {"iterations": iterations, "learning_rate": LEARNING_RATE,
            "shape": [X.shape[0], X.shape[1], HIDDEN, Y.shape[1]],
            "fit_available": have_fit_op(), "peers": results, "ratios": ratios}
