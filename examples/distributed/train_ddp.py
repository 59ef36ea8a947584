#!/usr/bin/env python3
"""Data-parallel training of TwoLayerNet on the planar "flower" data with torch.distributed.

Each process (rank) holds a shard of the 400 points; PyTorch's DistributedDataParallel
all-reduces the gradients of twolayer's hand-written backward after every backward(), so all
ranks take the same gradient-descent steps as one process on the whole batch would.

Launch with torchrun (one process per rank, on one machine or many):

    torchrun --nproc_per_node=2 examples/distributed/train_ddp.py

or let this script start N local processes itself (no torchrun needed):

    python examples/distributed/train_ddp.py --nproc 2

Like torchrun's children, each rank reads RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT and
LOCAL_RANK from the environment; without them it runs as a world of one. The gloo backend
(CPU tensors) is used; on many machines set MASTER_ADDR to rank 0's address and, if needed,
GLOO_SOCKET_IFNAME to the network interface to use.
"""
import argparse
import datetime
import os
import socket
import subprocess
import sys
import time

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

import twolayer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "planar"))
from planar_flower import flower  # noqa: E402  (the same points as the single-process demo)
sys.path.insert(0, HERE)
from tcp_store import use_available_tcp_store_backend  # noqa: E402


class Cost(torch.nn.Module):
    """The network's cost as forward(): DDP synchronises the gradients of what forward() uses.

    `weight` rescales this rank's mean cost so that the average over ranks that DDP takes is
    the full-batch mean even when the shards differ in size: with shard sizes m_r summing to m,
    (1/R) * sum_r (R * m_r / m) * J_r = (1/m) * sum over all examples.
    """

    def __init__(self, net, weight):
        super().__init__()
        self.net = net
        self.weight = weight

    def forward(self, X, Y):
        return self.net.loss(X, Y) * self.weight


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nproc", type=int, default=0,
                        help="start this many local ranks (instead of torchrun); 0: do not")
    parser.add_argument("--iterations", type=int, default=10000)
    parser.add_argument("--learning-rate", type=float, default=1.2)
    parser.add_argument("--hidden", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--every", type=int, default=1000, help="print the cost this often")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds to wait for the other ranks at start-up and collectives")
    return parser.parse_args(argv)


def free_port(host):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def self_launch(args, argv):
    """Starts args.nproc ranks of this script on 127.0.0.1, as torchrun would, and waits."""
    host = "127.0.0.1"
    port = free_port(host)
    procs = []
    for rank in range(args.nproc):
        env = dict(os.environ, MASTER_ADDR=host, MASTER_PORT=str(port), RANK=str(rank),
                   WORLD_SIZE=str(args.nproc), LOCAL_RANK=str(rank),
                   LOCAL_WORLD_SIZE=str(args.nproc))
        env.setdefault("GLOO_SOCKET_IFNAME", "lo" if sys.platform.startswith("linux") else "lo0")
        env.setdefault("OMP_NUM_THREADS", "1")
        # The children see RANK in their environment, so they train rather than launch.
        procs.append(subprocess.Popen([sys.executable, os.path.abspath(__file__), *argv],
                                      env=env))
    codes = [p.wait() for p in procs]
    if any(codes):
        print(f"ranks exited with {codes}", file=sys.stderr)
    return max(codes, key=abs)


def train(args):
    rank = int(os.environ.get("RANK", 0))
    world_size = int(os.environ.get("WORLD_SIZE", 1))
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29500")
    # Each rank has its own process; ranks on one machine share its cores.
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(os.environ.get(
        "LOCAL_WORLD_SIZE", world_size))))
    use_available_tcp_store_backend()
    dist.init_process_group("gloo", init_method="env://", rank=rank, world_size=world_size,
                            timeout=datetime.timedelta(seconds=args.timeout))
    try:
        dtype = getattr(torch, args.dtype)
        X_all, Y_all = flower(args.seed)
        X_all, Y_all = X_all.to(dtype), Y_all.to(dtype)
        m = X_all.shape[0]
        # Every world_size-th point: each shard has both classes (the data is sorted by class).
        X, Y = X_all[rank::world_size], Y_all[rank::world_size]

        # Same seed on every rank; DDP also broadcasts rank 0's parameters at construction.
        net = twolayer.TwoLayerNet(2, args.hidden, 1, seed=args.seed, dtype=dtype)
        model = DistributedDataParallel(Cost(net, world_size * X.shape[0] / m))
        optimizer = torch.optim.SGD(model.parameters(), lr=args.learning_rate)
        if rank == 0:
            print(f"{net} on {m} points in {world_size} shards (rank {rank}, local rank "
                  f"{local_rank}: {X.shape[0]} points), learning rate {args.learning_rate}, "
                  f"{args.iterations} iterations", flush=True)
        start = time.perf_counter()
        for i in range(args.iterations):
            optimizer.zero_grad()
            J = model(X, Y)
            J.backward()            # the six equations here, then DDP's all-reduce
            if i % args.every == 0:
                # The full-batch cost: the sum over ranks of (m_r / m) J_r.
                cost = J.detach() / world_size
                dist.all_reduce(cost)
                if rank == 0:
                    print(f"Cost after iteration {i}: {cost.item():.6f}", flush=True)
            optimizer.step()
        if rank == 0:
            accuracy = 100.0 * net.score(X_all, Y_all)
            print(f"Training accuracy: {accuracy:.2f} % "
                  f"({time.perf_counter() - start:.1f} s)", flush=True)
    finally:
        dist.destroy_process_group()
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.nproc > 0 and "RANK" not in os.environ:
        return self_launch(args, argv)
    return train(args)


if __name__ == "__main__":
    sys.exit(main())
