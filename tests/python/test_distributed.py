"""Data-parallel training of TwoLayerNet with torch.nn.parallel.DistributedDataParallel.

Two ranks on 127.0.0.1 (gloo backend) each hold half of a batch of m examples. The test checks
that PyTorch's own data-parallel engine, driving twolayer's hand-written backward, computes what
one process computes on the whole batch:

    rank r's loss  J_r = (1/(m/2)) * sum over its half of the per-example costs
    DDP all-reduces the gradients and divides by the world size 2, so every rank ends with
        (dJ_0 + dJ_1) / 2 = (1/m) * sum over all m examples = dJ of the full batch,
    the gradient of the single-process full-batch mean cost J. This holds because the two
    halves are equal in size; with unequal shards the average of the means would weight the
    examples unequally and differ from the full-batch gradient.

The ranks are separate processes launched the way torchrun launches them (MASTER_ADDR,
MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK in the environment); each writes what it computed with
torch.save into the test's tmp_path, and the parent compares it with a single-process run.
Everything is bounded: the rendezvous and collectives time out after RENDEZVOUS_TIMEOUT_S, and
the parent kills the ranks if they have not finished after TEST_TIMEOUT_S.

Run as a script, this file is one rank (the parent runs it so).
"""
import datetime
import os
import socket
import subprocess
import sys
import time

import pytest
import torch

import twolayer

WORLD_SIZE = 2
M, N0, N1, N2 = 64, 3, 5, 2   # an even m, split into two equal halves; n2 = 2: multi-label
SEED = 11
LEARNING_RATE = 0.5
STEPS = 100
TOL = 1e-12

RENDEZVOUS_TIMEOUT_S = 20
TEST_TIMEOUT_S = 45          # the whole launch, below the 60 s a test may take
LOOPBACK = "127.0.0.1"


def make_data():
    """The full batch, drawn identically in every process from a private generator."""
    gen = torch.Generator().manual_seed(SEED)
    X = torch.randn(M, N0, generator=gen, dtype=torch.float64) * 1.5
    # Labels that depend on X, so training moves the parameters a long way in 100 steps.
    Y = torch.stack([(X[:, 0] * X[:, 1] > 0), (X[:, 2] + 0.3 * torch.randn(M, generator=gen,
                                                  dtype=torch.float64) > 0)], dim=1)
    return X, Y.to(torch.float64)


def make_net():
    # init_scale 0.5 rather than the lecture's 0.01: gradients of order one, so relative
    # errors measure the arithmetic and not the cancellation around tiny weights.
    return twolayer.TwoLayerNet(N0, N1, N2, init_scale=0.5, seed=SEED, dtype=torch.float64)


class Cost(torch.nn.Module):
    """The cost as a module's forward, because DDP arms its gradient hooks only in forward()."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, X, Y):
        return self.net.loss(X, Y)   # torch.ops.twolayer.loss: the hand-written backward


PARAMS = ("W1", "b1", "W2", "b2")


# ---------------------------------------------------------------------------------------------
# One rank (this file run as a script)
# ---------------------------------------------------------------------------------------------

def run_rank(outdir):
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    rank = int(os.environ["RANK"])
    world_size = int(os.environ["WORLD_SIZE"])
    torch.set_num_threads(1)   # two ranks share the machine's cores
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                    "examples", "distributed"))
    from tcp_store import use_available_tcp_store_backend

    use_available_tcp_store_backend()   # as the example does: Debian's 2.x has no libuv
    dist.init_process_group("gloo", init_method="env://", rank=rank, world_size=world_size,
                            timeout=datetime.timedelta(seconds=RENDEZVOUS_TIMEOUT_S))
    try:
        X, Y = make_data()
        half = M // world_size
        X_r, Y_r = X[rank * half:(rank + 1) * half], Y[rank * half:(rank + 1) * half]

        net = make_net()
        ddp = DistributedDataParallel(Cost(net))
        optimizer = torch.optim.SGD(ddp.parameters(), lr=LEARNING_RATE)
        result = {"rank": rank, "losses": []}
        for step in range(STEPS):
            optimizer.zero_grad()
            J_r = ddp(X_r, Y_r)
            J_r.backward()    # the all-reduce of the gradients happens here
            if step == 0:
                result["grads"] = {p: getattr(net, p).grad.detach().clone() for p in PARAMS}
            result["losses"].append(J_r.item())
            optimizer.step()
        result["params"] = {p: getattr(net, p).detach().clone() for p in PARAMS}
        torch.save(result, os.path.join(outdir, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


# ---------------------------------------------------------------------------------------------
# The parent: launch, single-process reference, comparisons
# ---------------------------------------------------------------------------------------------

def loopback_interface():
    names = {name for _, name in socket.if_nameindex()}
    return "lo" if "lo" in names or "lo0" not in names else "lo0"   # Linux, macOS


def free_loopback_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def launch(outdir, deadline):
    """Runs WORLD_SIZE ranks to completion; returns their exit codes and outputs."""
    port = free_loopback_port()
    procs = []
    for rank in range(WORLD_SIZE):
        env = dict(os.environ, MASTER_ADDR=LOOPBACK, MASTER_PORT=str(port), RANK=str(rank),
                   WORLD_SIZE=str(WORLD_SIZE), LOCAL_RANK=str(rank),
                   LOCAL_WORLD_SIZE=str(WORLD_SIZE),
                   # gloo would otherwise pick the interface of the machine's hostname.
                   GLOO_SOCKET_IFNAME=loopback_interface(), OMP_NUM_THREADS="1")
        log = open(os.path.join(outdir, f"rank{rank}.log"), "w+")
        procs.append((subprocess.Popen([sys.executable, os.path.abspath(__file__), outdir],
                                       env=env, stdout=log, stderr=subprocess.STDOUT), log))
    codes, logs = [], []
    try:
        for proc, log in procs:
            try:
                codes.append(proc.wait(timeout=max(deadline - time.monotonic(), 0.1)))
            except subprocess.TimeoutExpired:
                codes.append(None)
    finally:
        for proc, log in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            log.seek(0)
            logs.append(log.read())
            log.close()
    return codes, logs


def run_ranks(outdir):
    deadline = time.monotonic() + TEST_TIMEOUT_S
    for attempt in range(2):
        codes, logs = launch(outdir, deadline)
        if all(code == 0 for code in codes):
            break
        # The port found free may have been taken before rank 0 bound it: one more try.
        if attempt == 0 and any("address already in use" in log.lower() for log in logs) \
                and time.monotonic() < deadline - 15:
            continue
        report = "\n".join(f"--- rank {r} (exit code {c}, None = killed at the deadline)\n{log}"
                           for r, (c, log) in enumerate(zip(codes, logs)))
        raise AssertionError(f"the ranks did not all finish cleanly:\n{report}")
    return [torch.load(os.path.join(outdir, f"rank{r}.pt")) for r in range(WORLD_SIZE)]


def single_process():
    """The same 100 steps on the full batch in one process, without torch.distributed."""
    X, Y = make_data()
    net = make_net()
    optimizer = torch.optim.SGD(net.parameters(), lr=LEARNING_RATE)
    grads, losses = None, []
    for step in range(STEPS):
        optimizer.zero_grad()
        J = net.loss(X, Y)
        J.backward()
        if step == 0:
            grads = {p: getattr(net, p).grad.detach().clone() for p in PARAMS}
        losses.append(J.item())
        optimizer.step()
    return {"grads": grads, "losses": losses,
            "params": {p: getattr(net, p).detach().clone() for p in PARAMS}}


def rel_err(a, b):
    return ((a - b).abs().max() / b.abs().max()).item()


@pytest.mark.slow   # two processes, each importing torch and rendezvousing over TCP
def test_ddp_two_ranks_match_single_process_full_batch(tmp_path):
    start = time.monotonic()
    ranks = run_ranks(str(tmp_path))
    ref = single_process()
    initial = make_net()

    for r, res in enumerate(ranks):
        assert res["rank"] == r
        for p in PARAMS:
            # All-reduced gradients after one backward == full-batch gradients.
            g, g_ref = res["grads"][p], ref["grads"][p]
            assert g.dtype == torch.float64 and g.shape == g_ref.shape, (r, p)
            err = rel_err(g, g_ref)
            assert err <= TOL, f"rank {r}: d{p} relative error {err:.3g} > {TOL}"
            # Parameters after 100 DDP steps == parameters after 100 single-process steps.
            w, w_ref = res["params"][p], ref["params"][p]
            err = rel_err(w, w_ref)
            assert err <= TOL, \
                f"rank {r}: {p} after {STEPS} steps: relative error {err:.3g} > {TOL}"
            # A comparison that passed only because nothing moved would prove nothing.
            assert rel_err(w_ref, getattr(initial, p).detach()) > 1e-2, p

    # DDP keeps the replicas identical, bit for bit.
    for p in PARAMS:
        assert torch.equal(ranks[0]["grads"][p], ranks[1]["grads"][p]), p
        assert torch.equal(ranks[0]["params"][p], ranks[1]["params"][p]), p

    # The two half-batch means average to the full-batch mean at every step; training worked.
    for step in range(STEPS):
        mean = sum(res["losses"][step] for res in ranks) / WORLD_SIZE
        assert abs(mean - ref["losses"][step]) <= TOL * abs(ref["losses"][step]), step
    assert ref["losses"][-1] < 0.8 * ref["losses"][0]

    assert time.monotonic() - start < 60


if __name__ == "__main__":
    run_rank(sys.argv[1])
