"""Text tables of the Python suite's results (the JSON holds the same numbers and more)."""
from fit_loop import PEERS as FIT_PEERS
from step_peers import ALL_PEERS as STEP_ROWS  # the rows of any run, read on any torch

# The ratios issue 3 asks for, to read the tables against (informational: nothing fails on them).
# torch.compile's only where the run has that peer (PyTorch 2.x).
STEP_TARGETS = {
    "S": {"twolayer/eager": 0.25, "twolayer/numpy": 1.0, "twolayer/compile": 0.5},
    "M": {"twolayer/eager": 0.5, "twolayer/compile": 0.5},
    "L": {"twolayer/eager": 0.85, "twolayer/mm_floor": 1.10, "twolayer/compile": 0.5},
    "L10": {"twolayer/eager": 0.85, "twolayer/mm_floor": 1.10},
}
SAVED_BYTES_TARGET = 0.6
FIT_TARGETS = {"autograd_loop/fit_": 40.0, "numpy_loop/fit_": 10.0}  # at least this many times


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
    return "\n".join(lines)


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


def targets(results):
    """One line per target of issue 3: the measured ratio next to the asked one."""
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
    for shape, s in results["saved_bytes"].items():
        for key, what in (("ratio_all", "all"), ("ratio_excluding_inputs", "excl. inputs")):
            got = s[key]
            lines.append(f"   saved bytes {shape}, {what}: twolayer/eager {got:.2f} "
                         f"(<= {SAVED_BYTES_TARGET}) "
                         f"{'met' if got <= SAVED_BYTES_TARGET else 'NOT met'}")
    return "\n".join(lines)
