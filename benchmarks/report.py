"""Text tables of the Python suite's results (the JSON holds the same numbers and more)."""
from common import SHAPE_LEGEND
from fit_loop import PEERS as FIT_PEERS
from step_peers import ALL_PEERS as STEP_ROWS  # the rows of any run, read on any torch

# The project's target ratios, to read the tables against (informational: nothing fails on them).
# torch.compile's only where the run has that peer (PyTorch 2.x).
STEP_TARGETS = {
    "S": {"twolayer/eager": 0.25, "twolayer/numpy": 1.0, "twolayer/compile": 0.5},
    "M": {"twolayer/eager": 0.5, "twolayer/compile": 0.5},
    # At L the step is two large products: within 1.05x of them is the goal.
    "L": {"twolayer/eager": 0.85, "twolayer/mm_floor": 1.05, "twolayer/compile": 0.5},
    "L10": {"twolayer/eager": 0.85, "twolayer/mm_floor": 1.10},
}
SAVED_BYTES_TARGET = 0.6
FIT_TARGETS = {"autograd_loop/fit_": 40.0, "numpy_loop/fit_": 10.0}  # at least this many times
# twolayer's own speed-up t(1 thread)/t(2 threads) at least this, where a step's
# work is many rows of elementwise arithmetic that two threads can share.
SCALING_TARGETS = {2: {"B1M": 1.8, "R200K": 1.8}}


def _mib(n):
    return f"{n / 2**20:9.3f} MiB" if n >= 2**20 else f"{n / 2**10:9.2f} KiB"


def _ratio(x):
    return f"{x:8.2f}" if x is not None else f"{'-':>8}"


def machine(info, defaults):
    lines = ["== Machine",
             f"   {info['cpu_model']}; {info['logical_cores']} logical cores, "
             f"{info['physical_cores']} physical, {info['usable_cores']} usable",
             f"   torch {info['torch']} (BLAS_INFO={info['torch_build'].get('BLAS_INFO')}), "
             f"numpy {info['numpy']}, Python {info['python']}, twolayer {info['twolayer_revision']}",
             f"   untouched defaults: torch intra-op threads {defaults['torch']}, "
             f"OpenBLAS threads {defaults['blas']}"]
    blas = info.get("blas", {})
    if blas.get("openblas_config"):
        lines.append(f"   {blas['openblas_config']}")
    return "\n".join(lines)


def setting_title(setting):
    start, end = setting["load_avg_1min"]
    return (f"{setting['label']}: torch intra-op threads {setting['torch_threads']}, "
            f"OpenBLAS threads {setting['blas_threads']}; load average {start:.1f} at the start, "
            f"{end:.1f} at the end")


def saved_bytes(saved):
    lines = ["== Bytes saved for backward (saved_tensors_hooks; unique storages; same at any "
             "thread count)",
             f"   {'shape':<6}{'twolayer all':>16}{'eager all':>16}{'ratio':>8}"
             f"{'twolayer excl. inputs':>24}{'eager excl. inputs':>20}{'ratio':>8}"]
    for name, s in saved.items():
        tl, ea = s["twolayer"], s["eager"]
        lines.append(f"   {name:<6}{_mib(tl['all_bytes']):>16}{_mib(ea['all_bytes']):>16}"
                     f"{_ratio(s['ratio_all'])}{_mib(tl['excluding_inputs_bytes']):>24}"
                     f"{_mib(ea['excluding_inputs_bytes']):>20}{_ratio(s['ratio_excluding_inputs'])}")
    lines.append("   excl. inputs: without the storages of X, Y, W1, b1, W2, b2, which the caller "
                 "holds anyway")
    return "\n".join(lines)


def step(setting):
    with_compile = any("compile" in case["peers"] for case in setting["step"].values())
    lines = [f"== Forward + backward step (J and dW1, db1, dW2, db2), float32, tanh -- "
             f"{setting_title(setting)}",
             "   median µs per step; IQR as % of the median; ratios: this row's median / that "
             "peer's median",
             f"   {'shape':<6}{'(m, n0, n1, n2)':<22}{'peer':<18}{'median µs':>12}{'IQR':>7}"
             f"{'reps':>7}{'/eager':>8}{'/floor':>8}{'/numpy':>8}"
             + (f"{'/compile':>9}" if with_compile else "")]
    for name, case in setting["step"].items():
        shape = "(" + ", ".join(str(d) for d in case["shape"]) + ")"
        for i, peer in enumerate(p for p in STEP_ROWS if p in case["peers"]):
            t = case["peers"][peer]
            label = peer if peer != "mm_floor" else f"mm_floor ({case['mm_floor_variant']})"
            r = case["ratios"]
            lines.append(
                f"   {name if i == 0 else '':<6}{shape if i == 0 else '':<22}{label:<18}"
                f"{t['median_us']:12.1f}{t['iqr_percent']:6.1f}%{t['reps']:7d}"
                f"{_ratio(r.get(f'{peer}/eager'))}{_ratio(r.get(f'{peer}/mm_floor'))}"
                f"{_ratio(r.get(f'{peer}/numpy'))}"
                + (f" {_ratio(r.get(f'{peer}/compile'))}" if with_compile else ""))
    lines.append(_legend(setting["step"]))
    return "\n".join(lines)


def _legend(shapes):
    return "   shapes: " + "; ".join(f"{name} {SHAPE_LEGEND[name]}" for name in shapes
                                      if name in SHAPE_LEGEND)


def fit(setting):
    f = setting["fit"]
    m, n0, n1, n2 = f["shape"]
    lines = [f"== Gradient descent, planar flower data ({m} points), {n0}-{n1}-{n2} tanh, "
             f"learning rate {f['learning_rate']}, {f['iterations']} iterations -- "
             f"{setting_title(setting)}",
             f"   {'peer':<40}{'seconds':>10}{'measured':>24}{'/fit_':>8}"]
    if not f["fit_available"]:
        lines.append("   fit_: not available")
    for name, title in FIT_PEERS.items():
        p = f["peers"].get(name)
        if p is None:
            continue
        how = (f"{p['measured_iterations']} it., scaled" if p["scaled"]
               else f"median of {p['runs']} runs" if p["runs"] > 1 else "1 run")
        ratio = f["ratios"].get(f"{name}/fit_", 1.0 if name == "fit_" else None)
        lines.append(f"   {title:<40}{p['seconds']:10.3f}{how:>24}{_ratio(ratio)}")
    lines.append("   scaled: median seconds of a chunk of a long run, times the iterations "
                 "per chunk it takes to make the full count")
    return "\n".join(lines)


def scaling(scaling):
    """Each shape's and peer's median at every thread count, and t(1 thread)/t(N threads)."""
    counts = scaling["threads"]
    faster = [n for n in counts if n != 1] if 1 in counts else []
    lines = ["== Scaling: median µs per step at each thread count; xN = t(1 thread) / "
             "t(N threads), the speed-up (> 1: faster with N)",
             f"   {'shape':<6}{'peer':<16}" + "".join(f"{f'{n} thr. µs':>13}" for n in counts)
             + "".join(f"{f'x{n}':>8}" for n in faster)]
    for name, peers in scaling["shapes"].items():
        for i, (peer, s) in enumerate(peers.items()):
            med = [s["median_us"].get(str(n)) for n in counts]
            lines.append(f"   {name if i == 0 else '':<6}{peer:<16}"
                         + "".join(f"{m:13.1f}" if m is not None else f"{'-':>13}" for m in med)
                         + "".join(_ratio(s["speedup"].get(str(n))) for n in faster))
    if not faster and len(counts) > 1:
        lines.append("   (no speed-ups: the run had no 1-thread setting)")
    if scaling.get("left_out"):
        lines.append("   left out (no thread count of their own): "
                     + ", ".join(scaling["left_out"]))
    lines.append(_legend(scaling["shapes"]))
    return "\n".join(lines)


def sweep(sweep):
    """One line per cell, the farthest from the target first, then the summary."""
    summary = sweep["summary"]
    t = summary["targets"]
    lines = [f"== Shape sweep, 1 thread: twolayer against eager autograd and the "
             f"five-product floor ({sweep['floor_variant']}); load average "
             f"{sweep['load_avg_1min'][0]:.1f} at the start, {sweep['load_avg_1min'][1]:.1f} "
             f"at the end",
             f"   a cell meets the target if twolayer/eager <= {t['twolayer/eager']} or "
             f"twolayer/floor <= {t['twolayer/mm_floor']}; sorted the farthest from it first "
             "(distance: the smaller of the two ratios over its limit)",
             f"   {'#':>4} {'m':>6} {'n0-n1-n2':<12}{'activation':<11}{'dtype':<9}"
             f"{'twolayer µs':>12}{'eager µs':>12}{'floor µs':>12}{'/eager':>8}{'/floor':>8}"
             f"{'dist.':>7}  verdict"]
    for r in sorted(sweep["cells"], key=lambda r: -r["distance"]):
        c, med, ratio = r["cell"], r["medians_us"], r["ratios"]
        net = f"{c['n0']}-{c['n1']}-{c['n2']}"
        lines.append(
            f"   {r['index']:>4} {c['m']:>6} {net:<12}"
            f"{c['activation']:<11}{c['dtype']:<9}{med['twolayer']:12.1f}{med['eager']:12.1f}"
            f"{med['mm_floor']:12.1f}{_ratio(ratio['twolayer/eager'])}"
            f"{_ratio(ratio['twolayer/mm_floor'])}{r['distance']:7.2f}  "
            f"{'met' if r['met'] else 'NOT met'}")
    low = sweep.get("summary_bfloat16")
    if low:
        lines.append("   float32 and float64 cells:")
    lines += ["   " + line for line in sweep_summary(summary)]
    if low:
        lines.append("   bfloat16 cells:")
        lines += ["   " + line for line in sweep_summary(low)]
    return "\n".join(lines)


def sweep_summary(summary):
    t, w = summary["targets"], summary["worst"]
    return [f"cells meeting the target: {summary['met']} of {summary['cells']} "
            f"{'(all: met)' if summary['all_met'] else '(not all: NOT met)'}",
            f"median twolayer/eager {summary['median_twolayer/eager']:.2f} "
            f"(<= {t['median twolayer/eager']}) {'met' if summary['median_met'] else 'NOT met'}",
            f"worst cell: {w['label']}, twolayer/eager {w['twolayer/eager']:.2f}, "
            f"twolayer/floor {w['twolayer/mm_floor']:.2f} (distance {w['distance']:.2f})"]


def targets(results):
    """One line per target: the measured ratio next to the target."""
    lines = ["== The targets against this run (ratios of medians; informational)"]
    for setting in results["settings"]:
        found = []
        for shape, wanted in STEP_TARGETS.items():
            case = setting["step"].get(shape)
            if case is None:
                continue
            for key, limit in wanted.items():
                got = case["ratios"].get(key)
                if got is None:
                    continue
                found.append(f"{shape} {key} {got:.2f} (<= {limit}) "
                             f"{'met' if got <= limit else 'NOT met'}")
        floor = setting["step"].get("S", {}).get("ratios", {}).get("null_op/eager")
        if floor is not None:
            found.append(f"S null_op/eager {floor:.2f} (a custom operator that computes "
                         "nothing: the floor of S; informational)")
        for key, least in FIT_TARGETS.items():
            got = setting["fit"]["ratios"].get(key)
            if got is not None:
                found.append(f"fit {key} {got:.1f} (>= {least:g}) "
                             f"{'met' if got >= least else 'NOT met'}")
        lines.append(f"   {setting['label']}:")
        lines += [f"      {line}" for line in found]
    for n, wanted in SCALING_TARGETS.items():
        for shape, least in wanted.items():
            got = (results.get("scaling", {}).get("shapes", {}).get(shape, {})
                   .get("twolayer", {}).get("speedup", {}).get(str(n)))
            if got is not None:
                lines.append(f"   {shape} twolayer speed-up t(1)/t({n} threads) {got:.2f} "
                             f"(>= {least}) {'met' if got >= least else 'NOT met'}")
    if results.get("sweep"):
        lines += [f"   sweep: {line}" for line in sweep_summary(results["sweep"]["summary"])]
    for shape, s in results["saved_bytes"].items():
        for key, what in (("ratio_all", "all"), ("ratio_excluding_inputs", "excl. inputs")):
            got = s[key]
            lines.append(f"   saved bytes {shape}, {what}: twolayer/eager {got:.2f} "
                         f"(<= {SAVED_BYTES_TARGET}) "
                         f"{'met' if got <= SAVED_BYTES_TARGET else 'NOT met'}")
    return "\n".join(lines)
