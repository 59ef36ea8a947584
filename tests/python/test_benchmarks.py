"""The benchmark suite's own logic (benchmarks/): the sweep's cells (its bfloat16 ones too), its
target rule and summary, the thread settings bench_step resolves, one tiny timed sweep of three
cells, and quick runs of the output-layer and low-precision benchmarks.

benchmarks/ is a directory of scripts, not a package: it goes on sys.path, as bench_step.py puts
itself there. Where it cannot be imported (an installed package tested without the source tree)
the tests skip. The expected values here are written out by hand, not taken from the code under
test.
"""
import itertools
import json
import os
import sys

import pytest

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "benchmarks")
if not os.path.isdir(BENCHMARKS):
    pytest.skip("no benchmarks/ next to the tests", allow_module_level=True)
sys.path.insert(0, BENCHMARKS)
try:
    import bench_step
    import sweep
except ImportError as e:  # pragma: no cover - depends on the checkout
    pytest.skip(f"benchmarks/ cannot be imported: {e}", allow_module_level=True)

ACTIVATIONS = ("tanh", "relu", "sigmoid", "leaky_relu")
N2 = (1, 4, 5, 16, 17, 32)
GRID = set(itertools.product((1000, 20000), (2, 32, 300), (4, 64, 512), N2, ACTIVATIONS,
                             ("float32", "float64")))
# The sweep's table of fixed cells (sweep.fixed_cells), spelled out.
FIXED = ([(20000, 32, 64, n2, act, "float32") for act in ACTIVATIONS for n2 in N2]
         + [(20000, 32, 64, n2, "tanh", "float64") for n2 in N2]
         + [(1000, 2, 4, 1, "tanh", "float32"), (1000, 4, 16, 1, "tanh", "float32"),
            (1000, 2, 16, 4, "tanh", "float32"), (1000, 2, 4, 20, "tanh", "float32"),
            (1000, 2, 4, 20, "sigmoid", "float32"), (20000, 32, 4, 20, "leaky_relu", "float32")])


# ---- the cells ----

def test_cells_are_deterministic_and_distinct():
    first, second = sweep.all_cells(), sweep.all_cells()
    assert [tuple(c) for c in first] == [tuple(c) for c in second]
    assert len(set(first)) == len(first)


def test_drawn_cells_are_64_distinct_grid_cells():
    drawn = [tuple(c) for c in sweep.drawn_cells()]
    assert len(drawn) == 64
    assert len(set(drawn)) == 64
    assert set(drawn) <= GRID
    # Every drawn cell is in the sweep, before the fixed ones.
    assert [tuple(c) for c in sweep.all_cells()[:64]] == drawn


def test_every_fixed_cell_is_in_the_sweep_once():
    assert len(FIXED) == 36 and len(set(FIXED)) == 36
    cells = [tuple(c) for c in sweep.all_cells()]
    for cell in FIXED:
        assert cells.count(cell) == 1, cell
    drawn = {tuple(c) for c in sweep.drawn_cells()}
    # Nothing else: the drawn cells plus the fixed ones not drawn.
    assert len(cells) == 64 + len(set(FIXED) - drawn)
    assert set(cells) == drawn | set(FIXED)


def test_bfloat16_cells_are_the_fixed_float32_ones_after_the_others():
    low = [tuple(c) for c in sweep.bfloat16_cells()]
    assert low == [c[:5] + ("bfloat16",) for c in FIXED if c[5] == "float32"]
    assert len(low) == 30
    plain = [tuple(c) for c in sweep.all_cells()]
    assert [tuple(c) for c in sweep.all_cells(bfloat16=True)] == plain + low
    assert sweep.source(sweep.bfloat16_cells()[0]) == "bfloat16"
    hits = sweep.select(sweep.all_cells(bfloat16=True), "1000 2-4-20 sigmoid bfloat16")
    assert [i for i, _ in hits] == [len(plain) + low.index((1000, 2, 4, 20, "sigmoid",
                                                            "bfloat16"))]


def test_cell_filter_by_index_and_label():
    cells = sweep.all_cells()
    assert [i for i, _ in sweep.select(cells, "3,1")] == [1, 3]
    hits = sweep.select(cells, "20000 32-64-17 sigmoid float32")
    assert [tuple(c) for _, c in hits] == [(20000, 32, 64, 17, "sigmoid", "float32")]
    with pytest.raises(SystemExit):
        sweep.select(cells, "no such cell")
    with pytest.raises(SystemExit):
        sweep.select(cells, str(len(cells)))


# ---- the target and the summary, on hand-made ratios ----

def _result(name, ratio_eager, ratio_floor):
    return {"label": name, "ratios": {"twolayer/eager": ratio_eager,
                                      "twolayer/mm_floor": ratio_floor}}


@pytest.mark.parametrize("ratio_eager, ratio_floor, met", [
    (0.7, 3.0, True),     # eager's ratio decides
    (0.8, 3.0, True),     # at the limit
    (2.0, 1.0, True),     # the floor's ratio decides
    (2.0, 1.05, True),
    (0.81, 1.06, False),  # just above both
    (1.5, 1.5, False),
])
def test_verdict(ratio_eager, ratio_floor, met):
    assert sweep.meets_target(ratio_eager, ratio_floor) is met


def test_summary_worst_decided_by_eager_ratio():
    results = [_result("a", 0.7, 2.0),   # met (eager)
               _result("b", 1.5, 1.0),   # met (floor)
               _result("c", 0.9, 1.2),   # distances 1.125 (eager), 1.143 (floor): 1.125
               _result("d", 1.2, 1.1)]   # 1.5, 1.048: 1.048
    s = sweep.summarize(results)
    assert s["cells"] == 4
    assert s["met"] == 2
    assert s["all_met"] is False
    assert s["median_twolayer/eager"] == pytest.approx((0.9 + 1.2) / 2)
    assert s["median_met"] is False
    assert s["worst"]["label"] == "c"
    assert s["worst"]["twolayer/eager"] == 0.9
    assert s["worst"]["twolayer/mm_floor"] == 1.2
    assert s["worst"]["distance"] == pytest.approx(1.125)


def test_summary_worst_decided_by_floor_ratio():
    results = [_result("e", 1.0, 1.3),   # 1.25, 1.238: 1.238
               _result("f", 3.0, 1.2),   # 3.75, 1.143: 1.143
               _result("g", 0.5, 9.0)]   # met (eager)
    s = sweep.summarize(results)
    assert s["worst"]["label"] == "e"
    assert s["worst"]["distance"] == pytest.approx(1.3 / 1.05)
    assert s["met"] == 1
    assert s["median_twolayer/eager"] == pytest.approx(1.0)


def test_summary_all_met():
    s = sweep.summarize([_result("h", 0.5, 2.0), _result("i", 0.6, 1.0),
                         _result("j", 0.9, 1.04)])
    assert s["met"] == 3 and s["all_met"] is True
    assert s["median_twolayer/eager"] == pytest.approx(0.6)
    assert s["median_met"] is True
    assert s["worst"]["label"] == "j"  # 1.125 vs 0.990: 0.990; h 0.625, i 0.75 (eager)


# ---- the thread settings ----

@pytest.mark.parametrize("cores, expected", [(1, [1, 2]), (2, [1, 2]), (4, [1, 2, 4]),
                                             (16, [1, 2, 16])])
def test_default_thread_settings(monkeypatch, cores, expected):
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    args = bench_step.parse_args([])
    settings = bench_step.resolve_settings(args.threads, {"torch": 1, "blas": 1})
    assert [s["threads"] for s in settings] == expected


def test_thread_setting_tokens(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    settings = bench_step.resolve_settings("env,nproc,default,8,3", {"torch": 3, "blas": 8})
    assert [s["threads"] for s in settings] == [None, 8, 3]
    assert "nproc" in settings[1]["label"]


# ---- a tiny timed sweep ----

def test_measure_cell_smoke():
    from common import TimingBudget
    budget = TimingBudget(budget_s=0.01, min_reps=3, max_reps=30, warmup_s=0.0, min_warmup=1)
    for cell in (sweep.Cell(1000, 2, 4, 20, "sigmoid", "float32"),
                 sweep.Cell(1000, 2, 16, 5, "leaky_relu", "float64"),
                 sweep.Cell(1000, 2, 4, 20, "sigmoid", "bfloat16")):
        result = json.loads(json.dumps(sweep.measure_cell(cell, budget, rounds=3)))
        assert result["label"] == f"1000 2-{cell.n1}-{cell.n2} {cell.activation} {cell.dtype}"
        assert result["check"]["passed"] is True
        tolerance = {"float32": 2e-3, "float64": 1e-8, "bfloat16": 5e-2}[cell.dtype]
        if cell.dtype == "bfloat16":  # or no worse than eager in bfloat16, 1.5 times its error
            tolerance = max(tolerance, 1.5 * result["check"]["eager_relative_error"])
        assert result["check"]["relative_error"] <= tolerance
        med = result["medians_us"]
        assert set(med) == {"twolayer", "eager", "mm_floor"}
        assert all(v > 0 for v in med.values())
        assert all(result["peers"][p]["reps"] >= 3 for p in med)
        assert result["ratios"]["twolayer/eager"] == pytest.approx(med["twolayer"] / med["eager"])
        assert result["ratios"]["twolayer/mm_floor"] == pytest.approx(
            med["twolayer"] / med["mm_floor"])
        assert result["met"] == (result["ratios"]["twolayer/eager"] <= 0.8
                                 or result["ratios"]["twolayer/mm_floor"] <= 1.05)


# ---- inference: bench_forward ----

def _forward_cell(label, eager, floor):
    return {"label": label, "ratios": {"twolayer/eager": eager, "twolayer/mm_floor": floor}}


def test_forward_summary_counts_the_cells_that_miss():
    import bench_forward
    cells = [_forward_cell("a", 0.5, 0.9), _forward_cell("b", 1.2, 1.04),
             _forward_cell("c", 1.1, 1.3), _forward_cell("d", 0.7, 2.0)]
    summary, text = bench_forward.sweep_summary(cells)
    assert summary["cells"] == 4
    assert summary["median_twolayer/eager"] == pytest.approx(0.9)  # of 0.5, 0.7, 1.1, 1.2
    assert summary["slower_than_eager"] == 2  # b and c
    assert summary["slower_than_eager_and_above_floor_target"] == 1  # c; b is within 1.05
    assert summary["worst"]["label"] == "b"
    assert "4 cells" in text


def test_forward_measure_smoke():
    import bench_forward
    from common import TimingBudget
    budget = TimingBudget(budget_s=0.01, min_reps=3, max_reps=30, warmup_s=0.0, min_warmup=1)
    for shape, activation, dtype in (((400, 2, 4, 1), "tanh", "float32"),
                                     ((300, 5, 20, 7), "sigmoid", "float64")):
        result = json.loads(json.dumps(bench_forward.measure(shape, activation, dtype, budget, 3,
                                                             False)))
        assert result["check"]["twolayer"] <= (2e-3 if dtype == "float32" else 1e-8)
        med = {p: t["median_us"] for p, t in result["peers"].items()}
        assert {"twolayer", "eager", "jit", "mm_floor"} <= set(med)
        assert all(v > 0 for v in med.values())
        assert result["ratios"]["twolayer/eager"] == pytest.approx(med["twolayer"] / med["eager"])


# ---- the lecture's step, cost by cost: fixed_costs ----

def test_fixed_costs_breakdown_subtracts_the_right_medians():
    import fixed_costs
    us = {"null predict S": 2.0, "predict tanh tiny": 3.0, "predict relu tiny": 2.9,
          "predict relu S": 4.0, "predict tanh S": 6.0,
          "null step S": 40.0, "step tanh tiny": 47.0, "step relu tiny": 46.0,
          "step relu S": 50.0, "step tanh S": 56.0,
          "forward kernel S": 5.0, "backward kernel S": 4.0}
    rows = dict(fixed_costs.breakdown(us))
    assert rows["predict: fixed costs beyond it (8 rows, tanh)"] == pytest.approx(1.0)
    assert rows["predict: arithmetic of 392 more rows, relu"] == pytest.approx(1.1)
    assert rows["predict: arithmetic of 392 more rows, tanh"] == pytest.approx(3.0)
    assert rows["predict: twolayer / null operator at S"] == pytest.approx(3.0)
    assert rows["step: fixed costs beyond it (8 rows, tanh)"] == pytest.approx(7.0)
    assert rows["step: twolayer / null operator at S"] == pytest.approx(1.4)
    assert rows["step: forward + backward kernels, called directly"] == pytest.approx(9.0)
    assert rows["step: the rest (autograd Function, graph, engine, accumulation)"] == \
        pytest.approx(47.0)


def test_the_output_layers_benchmark_times_every_layer_and_writes_json(tmp_path):
    import bench_outputs
    out = tmp_path / "outputs.json"
    rows = bench_outputs.main(["--quick", "--budget", "0.002", "--json", str(out)])
    assert [(r["shape"], r["output"]) for r in rows] == [
        (shape, output) for shape in ("S", "D10") for output in ("sigmoid", "softmax", "identity")]
    for r in rows:
        for kind in ("step", "forward"):
            assert r[f"{kind}_twolayer/eager"] > 0
            assert r[kind]["twolayer"]["reps"] >= 1 and r[kind]["eager"]["reps"] >= 1
    assert json.loads(out.read_text())["rows"] == rows


# ---- low precision: bench_low_precision ----

def test_the_low_precision_benchmark_times_every_mode_and_writes_json(tmp_path):
    import torch

    import bench_low_precision
    out = tmp_path / "low_precision.json"
    results = bench_low_precision.main(["--quick", "--shapes", "S", "--budget", "0.002",
                                        "--json", str(out)])
    modes = ["bfloat16", "autocast_bfloat16"]
    if int(torch.__version__.split(".")[0]) >= 2:
        modes += ["float16", "autocast_float16"]
    assert results["modes"] == modes
    assert [(r["shape"], r["mode"]) for r in results["rows"]] == [("S", m) for m in modes]
    for r in results["rows"]:
        assert r["dims"] == [400, 2, 4, 1]
        assert r["autocast"] == r["mode"].startswith("autocast_")
        for mine, eager in (("twolayer", "eager"), ("twolayer_forward", "eager_forward")):
            assert r["check"][mine] <= max(5e-2, 1.5 * r["check"][eager])
        for kind in ("step", "forward"):
            med = {p: r[kind][p]["median_us"] for p in ("twolayer", "eager", "twolayer_float32")}
            assert all(v > 0 for v in med.values())
            assert all(r[kind][p]["reps"] >= 1 for p in med)
            assert r[f"{kind}_ratios"]["twolayer/eager"] == pytest.approx(
                med["twolayer"] / med["eager"])
            assert r[f"{kind}_ratios"]["twolayer/twolayer_float32"] == pytest.approx(
                med["twolayer"] / med["twolayer_float32"])
    # One shape: each mode's medians over the shapes are that shape's ratios.
    for r in results["rows"]:
        assert results["summary"][r["mode"]]["step twolayer/eager"] == pytest.approx(
            r["step_ratios"]["twolayer/eager"])
    machine_info = results["machine"]
    assert set(machine_info) == {"cpu_model", "avx512_bf16", "amx_bf16", "products"}
    assert machine_info["products"] in ("native", "float32")
    assert all(isinstance(machine_info[f], bool) for f in ("avx512_bf16", "amx_bf16"))
    assert results["threads"] == 1 and results["torch"] == torch.__version__
    assert json.loads(out.read_text()) == json.loads(json.dumps(results))


def test_the_low_precision_benchmark_refuses_an_unknown_shape():
    import bench_low_precision
    with pytest.raises(SystemExit, match="no shape XL"):
        bench_low_precision.main(["--shapes", "S,XL", "--json", ""])
