"""The training loop of TwoLayerNet.fit with progress: reports between runs of the C++ loop.

Between two reports the iterations run inside torch.ops.twolayer.fit_, so a report costs one
operator call. The live display sizes its runs to about REFRESH_SECONDS of work each, which keeps
that cost far below a percent of the training time (benchmarks/fit_loop.py measures it).
"""
import math
import sys
import time
from typing import Callable, List, Optional, TextIO

import torch

# How much training a live display update may lag behind: often enough to look live.
REFRESH_SECONDS = 0.1

Steps = Callable[[int], torch.Tensor]   # steps(n) runs n iterations and returns their costs


def fit_with_callback(steps: Steps, iterations: int, every: int,
                      report: Callable[[int, float], None]) -> torch.Tensor:
    """report(i, cost of iteration i) for i = 0, every, 2 * every, ... and the last iteration."""
    costs: List[torch.Tensor] = []
    for done in range(0, iterations, every):
        costs.append(steps(min(every, iterations - done)))
        report(done, costs[-1][0].item())
    last = iterations - 1
    if last % every != 0:
        report(last, costs[-1][-1].item())
    return torch.cat(costs)


def _rate_and_eta(done: int, iterations: int, elapsed: float) -> str:
    if done == 0 or elapsed <= 0:
        return ""
    rate = done / elapsed
    return f"  ({rate:,.0f} it/s, {(iterations - done) / rate:.1f} s left)"


def fit_with_lines(steps: Steps, iterations: int, every: int, final_cost: Callable[[], float],
                   stream: TextIO) -> torch.Tensor:
    """The lecture's "Cost after iteration i" every `every` iterations, then the final cost.

    The lines of several reports may come from one run of the C++ loop (every cost is in the
    returned tensor), so that fast iterations are not cut into many short runs: a run covers
    as many multiples of `every` as take about REFRESH_SECONDS.
    """
    start = time.perf_counter()
    costs: List[torch.Tensor] = []
    done, reports = 0, 1
    while done < iterations:
        n = min(reports * every, iterations - done)
        t0 = time.perf_counter()
        costs.append(steps(n))
        seconds = time.perf_counter() - t0
        rate_and_eta = _rate_and_eta(done + n, iterations, time.perf_counter() - start)
        for i in range(done, done + n, every):
            # The first line has no rate yet: one run cannot tell a start-up from a rate.
            print(f"Cost after iteration {i}: {costs[-1][i - done].item():.6f}"
                  f"{rate_and_eta if i else ''}", file=stream, flush=True)
        done += n
        per_report = seconds / max(1, n // every)
        reports = max(1, min(10 * reports, int(REFRESH_SECONDS / max(per_report, 1e-9))))
    elapsed = time.perf_counter() - start
    print(f"Final cost after {iterations} iterations: {final_cost():.6f}  "
          f"({iterations / max(elapsed, 1e-9):,.0f} it/s, {elapsed:.1f} s)", file=stream,
          flush=True)
    return torch.cat(costs)


def fit_with_bar(steps: Steps, iterations: int, final_cost: Callable[[], float],
                 stream: TextIO) -> torch.Tensor:
    """A tqdm bar: iteration, current cost, it/s and time left, then the final cost."""
    from tqdm import tqdm

    costs: List[torch.Tensor] = []
    done, chunk = 0, 1
    with tqdm(total=iterations, unit="it", desc="fit", file=stream, dynamic_ncols=True) as bar:
        while done < iterations:
            n = min(chunk, iterations - done)
            t0 = time.perf_counter()
            costs.append(steps(n))
            seconds = time.perf_counter() - t0
            done += n
            bar.set_postfix_str(f"cost {costs[-1][-1].item():.6f}", refresh=False)
            bar.update(n)
            # The next run takes about REFRESH_SECONDS, growing at most tenfold at a time so that
            # one slow first iteration cannot make the rest arrive in one lump.
            per_iteration = seconds / n
            target = REFRESH_SECONDS / per_iteration if per_iteration > 0 else 10 * n
            chunk = max(1, min(10 * n, int(math.ceil(target))))
        bar.set_postfix_str(f"final cost {final_cost():.6f}", refresh=True)
    return torch.cat(costs)


def _tqdm_available() -> bool:
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return True


def fit_with_progress(steps: Steps, iterations: int, every: int, progress,
                      final_cost: Callable[[], float],
                      stream: Optional[TextIO] = None) -> torch.Tensor:
    """Dispatches TwoLayerNet.fit's `progress` argument (see its docstring)."""
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ValueError(f"twolayer: every must be an int >= 1, but got {every!r}")
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations <= 0:
        # The operator refuses a negative count (or a non-integer) with the message that every
        # other form of fit gives.
        return steps(iterations)
    if callable(progress):
        return fit_with_callback(steps, iterations, every, progress)
    stream = sys.stdout if stream is None else stream
    live = hasattr(stream, "isatty") and stream.isatty()
    if live and _tqdm_available():
        return fit_with_bar(steps, iterations, final_cost, stream)
    return fit_with_lines(steps, iterations, every, final_cost, stream)
