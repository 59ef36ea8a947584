"""twolayer's own row loops run on several threads (without timing anything): with 2 intra-op
threads and a batch of two chunks they run on 2 distinct threads, with 1 on one.
The thread count is set in a child process, since it is a process-wide setting."""
import subprocess
import sys
import textwrap

import pytest
import torch

import twolayer  # noqa: F401  (registers the operators)

CHILD = textwrap.dedent("""
    import sys, torch, twolayer
    torch.set_num_threads(int(sys.argv[1]))
    print(torch.ops.twolayer_testing.row_chunk_threads(int(sys.argv[2])))
""")


def threads_used(threads, rows):
    out = subprocess.run([sys.executable, "-c", CHILD, str(threads), str(rows)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return int(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif("OpenMP" not in torch.__config__.parallel_info(),
                    reason="ATen does not run on OpenMP here")
def test_row_chunks_run_on_two_threads():
    # 2 048 rows per chunk (row_chunks.h): 100 000 rows make as many chunks as threads.
    assert threads_used(2, 100_000) == 2
    assert threads_used(1, 100_000) == 1
    # One chunk's worth of rows stays on the calling thread.
    assert threads_used(2, 1000) == 1


def test_bad_rows_refused():
    with pytest.raises(RuntimeError, match="^twolayer: rows must be >= 1, but got 0"):
        torch.ops.twolayer_testing.row_chunk_threads(0)
