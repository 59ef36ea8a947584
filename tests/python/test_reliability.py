"""Edge cases that must fail cleanly or give autograd's answer: two copies of the library in
one process, forward-mode AD, a failed allocation in the BLAS path's workspace, inference
tensors and overlapping arguments in fit_, iteration counts whose costs cannot be allocated, NaN
and inf as autograd treats them, and TWOLAYER_CPU_KERNEL values. Cases that could abort run in a
child process whose exit status is checked. Expected values come from the reference network
(reference.py, plain PyTorch autograd)."""
import glob
import os
import re
import subprocess
import sys
import textwrap

import pytest
import torch
import torch.autograd.forward_ad as fwAD

import twolayer
from conftest import ACTIVATIONS, CPU_PATH_SHAPES, LOSS_INPUTS, TOLERANCE, make_inputs
from reference import reference_forward, reference_loss

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# (m, n0, n1, n2) for each CPU path and output regime, by the name the library gives it (the
# first of conftest.CPU_PATH_SHAPES's shapes of each path).
PATH_SHAPES = {}
for _path, _shape in CPU_PATH_SHAPES:
    PATH_SHAPES.setdefault(_path, _shape)


def run_child(*parts, env=None, timeout=300):
    """Runs the code parts (each dedented) in a fresh interpreter that can import conftest and
    reference; returns the CompletedProcess."""
    prelude = f"import sys\nsys.path.insert(0, {HERE!r})\n"
    code = prelude + "".join(textwrap.dedent(p) for p in parts)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=timeout)


def assert_child_ok(done, expected_stdout="ok"):
    assert done.returncode == 0, f"exit status {done.returncode}\n{done.stderr}"
    assert done.stdout.strip().splitlines()[-1:] == [expected_stdout], done.stdout + done.stderr


# ---------------------------------------------------------------------------------------------
# 1. Two copies of the operators in one process
# ---------------------------------------------------------------------------------------------

def cmake_library():
    """The CMake tree's libtwolayer.so (scripts/test.sh builds it before pytest runs, in
    TWOLAYER_BUILD_DIR/cmake), or None."""
    build = os.environ.get("TWOLAYER_BUILD_DIR") or os.path.join(REPO, "build")
    found = sorted(glob.glob(os.path.join(build, "cmake", "libtwolayer.so*")))
    return found[0] if found else None


# The PyPI leg's C++ tree builds no library of its own: it links the package's
# (TWOLAYER_PREBUILT_PACKAGE), so there is no second build to load there. The refusal is
# twolayer's own C++ and the loader's, the same on every torch: the host leg runs these two with
# its CMake build, and test_the_package_after_another_copy_refuses_to_import loads a second file
# on every leg.
NO_CMAKE_LIBRARY = ("the CMake tree's libtwolayer.so is not built (scripts/test.sh builds it; "
                    "the PyPI leg links the package's instead)")

# The child's check that the operators work: values and gradients against the reference.
USE_OPS = """
import torch
from conftest import make_inputs
from reference import reference_loss, reference_forward
t = make_inputs(7, 2, 4, 1, seed=3)
W1 = t["W1"].clone().requires_grad_()
J = torch.ops.twolayer.loss(t["X"], t["Y"], W1, t["b1"], t["W2"], t["b2"], "tanh")
J.backward()
ref_W1 = t["W1"].clone().requires_grad_()
ref = reference_loss(t["X"], t["Y"], ref_W1, t["b1"], t["W2"], t["b2"], "tanh")
ref.backward()
assert torch.allclose(J, ref, rtol=1e-10, atol=0), (J, ref)
assert torch.allclose(W1.grad, ref_W1.grad, rtol=1e-10, atol=1e-14), (W1.grad, ref_W1.grad)
A2 = torch.ops.twolayer.forward(t["X"], t["W1"], t["b1"], t["W2"], t["b2"], "relu")
assert torch.allclose(A2, reference_forward(t["X"], t["W1"], t["b1"], t["W2"], t["b2"], "relu"))
costs = torch.ops.twolayer.fit_(t["W1"], t["b1"], t["W2"], t["b2"], t["X"], t["Y"], 3, 0.5, "tanh")
assert costs.shape == (3,)
assert torch.ops.twolayer_testing.cpu_kernel_version() in ("avx2", "baseline")
print("ok")
"""


def assert_no_override_warning(done):
    # A second copy that registered its kernels would override the first's, with this warning.
    assert "Overriding a previously registered kernel" not in done.stderr, done.stderr


def test_import_twice_in_one_process():
    done = run_child("""
    import importlib, sys
    import twolayer
    del sys.modules["twolayer"], sys.modules["twolayer._net"]
    import twolayer  # runs the package's module again, loading the extension a second time
    """, USE_OPS)
    assert_child_ok(done)
    assert_no_override_warning(done)


def test_load_library_of_the_same_file_twice():
    done = run_child("""
    import torch, twolayer
    torch.ops.load_library(twolayer.library_path)
    torch.ops.load_library(twolayer.library_path)
    """, USE_OPS)
    assert_child_ok(done)
    assert_no_override_warning(done)


def assert_refused(text, first, second):
    """The refusal names both files and both versions, the serving copy first."""
    assert "two copies of the library are loaded in one process" in text, text
    assert f"{first} (version {twolayer.__version__}) serves the operators" in text, text
    assert f"{second} (version {twolayer.__version__}), loaded after it, was refused" in text, text


def test_a_second_copy_after_the_package_is_refused_without_an_abort(tmp_path):
    # Another file with the same registrations, as a CMake install elsewhere would be.
    copy = tmp_path / "libtwolayer_copy.so"
    copy.write_bytes(open(twolayer.library_path, "rb").read())
    done = run_child(f"""
    import torch, twolayer
    torch.ops.load_library({str(copy)!r})
    assert torch.ops.twolayer._library()[0] == twolayer.library_path
    """, USE_OPS)
    # Before: SIGABRT, "Only a single TORCH_LIBRARY can be used to register the namespace".
    assert_child_ok(done)
    assert_no_override_warning(done)
    assert_refused(done.stderr, twolayer.library_path, copy)


def test_the_package_after_another_copy_refuses_to_import(tmp_path):
    copy = tmp_path / "libtwolayer_copy.so"
    copy.write_bytes(open(twolayer.library_path, "rb").read())
    done = run_child(f"""
    import torch
    torch.ops.load_library({str(copy)!r})
    try:
        import twolayer
    except ImportError as error:
        print(error)
    else:
        print("imported")
    """)
    assert done.returncode == 0, done.stderr
    assert "imported" not in done.stdout
    assert "another copy of the library serves this process" in done.stdout, done.stdout
    assert f"{copy} (version {twolayer.__version__})" in done.stdout, done.stdout
    assert f"{twolayer.library_path} (version {twolayer.__version__}) was refused" in done.stdout


def test_cmake_library_after_the_package_is_refused_and_overrides_no_kernel():
    library = cmake_library()
    if library is None:
        pytest.skip(NO_CMAKE_LIBRARY)
    done = run_child(f"import torch, twolayer\ntorch.ops.load_library({library!r})\n", USE_OPS)
    assert_child_ok(done)
    assert_no_override_warning(done)
    assert "was refused" in done.stderr and os.path.realpath(library) in done.stderr, done.stderr


def test_package_after_the_cmake_library_refuses_to_import():
    library = cmake_library()
    if library is None:
        pytest.skip(NO_CMAKE_LIBRARY)
    done = run_child(f"""
    import torch
    torch.ops.load_library({library!r})
    try:
        import twolayer
    except ImportError as error:
        print(error)
    """)
    assert done.returncode == 0, done.stderr
    # The loader names the file it mapped: the CMake tree's libtwolayer.so is a symbolic link.
    serving = re.search(r"serves this process: (\S+) \(version ", done.stdout)
    assert serving and os.path.realpath(serving.group(1)) == os.path.realpath(library), done.stdout
    assert f"{twolayer.library_path} (version {twolayer.__version__}) was refused" in done.stdout


# ---------------------------------------------------------------------------------------------
# 2. Forward-mode AD
# ---------------------------------------------------------------------------------------------

def tangents_of(inputs, names, seed):
    gen = torch.Generator().manual_seed(seed)
    return {k: torch.randn(inputs[k].shape, generator=gen, dtype=inputs[k].dtype) for k in names}


def dual_value_and_tangent(fn, inputs, order, tangents, requires_grad=()):
    with fwAD.dual_level():
        args = []
        for k in order:
            x = inputs[k].clone().requires_grad_(k in requires_grad)
            args.append(fwAD.make_dual(x, tangents[k]) if k in tangents else x)
        out = fwAD.unpack_dual(fn(*args))
        return out.primal.detach(), out.tangent


@pytest.mark.parametrize("path", list(PATH_SHAPES))
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("duals", [("W1",), ("X", "Y", "W1", "b1", "W2", "b2")])
def test_forward_ad_loss_tangent(path, activation, duals):
    inputs = make_inputs(*PATH_SHAPES[path], seed=11)
    tangents = tangents_of(inputs, duals, seed=12)
    J, dJ = dual_value_and_tangent(lambda *a: twolayer.loss(*a, activation), inputs,
                                   LOSS_INPUTS, tangents)
    ref_J, ref_dJ = dual_value_and_tangent(lambda *a: reference_loss(*a, activation), inputs,
                                           LOSS_INPUTS, tangents)
    # Before: the tangent was None, silently.
    assert dJ is not None
    assert torch.allclose(J, ref_J, rtol=1e-10, atol=0)
    assert torch.allclose(dJ, ref_dJ, rtol=1e-9, atol=1e-12), (dJ, ref_dJ)


@pytest.mark.parametrize("duals", [("b2",), ("X", "Y", "W1", "b1", "W2", "b2")])
def test_forward_ad_tangent_where_logits_are_exactly_zero(duals):
    # Small integers make Z1 and Z2 exactly 0 in places: the kinks of max(-Z2, 0) and |Z2|,
    # had the cost been differentiated through them, put the tangent off there.
    gen = torch.Generator().manual_seed(5)
    inputs = {k: torch.randint(-2, 3, shape, generator=gen).double()
              for k, shape in (("X", (3, 6)), ("W1", (1, 3)), ("b1", (1,)), ("W2", (17, 1)),
                               ("b2", (17,)))}
    inputs["X"] = inputs["X"].t()
    inputs["Y"] = torch.randint(0, 2, (6, 17), generator=gen).double()
    tangents = tangents_of(inputs, duals, seed=6)
    A2 = reference_forward(*(inputs[k] for k in ("X", "W1", "b1", "W2", "b2")), "relu")
    assert (A2 == 0.5).any(), "the case must reach Z2 = 0 (A2 = 0.5)"
    _, dJ = dual_value_and_tangent(lambda *a: twolayer.loss(*a, "relu"), inputs, LOSS_INPUTS,
                                   tangents)
    _, ref_dJ = dual_value_and_tangent(lambda *a: reference_loss(*a, "relu"), inputs,
                                       LOSS_INPUTS, tangents)
    assert torch.allclose(dJ, ref_dJ, rtol=1e-9, atol=1e-12), (dJ, ref_dJ)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_forward_ad_forward_tangent(activation):
    inputs = make_inputs(*PATH_SHAPES["row_blocks/outputs_in_row_pass"], seed=13)
    order = ("X", "W1", "b1", "W2", "b2")
    tangents = tangents_of(inputs, ("X", "b1", "W2"), seed=14)
    A2, dA2 = dual_value_and_tangent(lambda *a: twolayer.forward(*a, activation), inputs, order,
                                     tangents)
    ref_A2, ref_dA2 = dual_value_and_tangent(lambda *a: reference_forward(*a, activation),
                                             inputs, order, tangents)
    assert dA2 is not None
    assert torch.allclose(A2, ref_A2, rtol=1e-10, atol=1e-15)
    assert torch.allclose(dA2, ref_dA2, rtol=1e-9, atol=1e-12)


def test_forward_ad_with_requires_grad_gives_tangent_and_gradient():
    inputs = make_inputs(*PATH_SHAPES["small_net"], seed=15)
    tangents = tangents_of(inputs, ("W1",), seed=16)
    with fwAD.dual_level():
        W1 = inputs["W1"].clone().requires_grad_()
        J = twolayer.loss(inputs["X"], inputs["Y"], fwAD.make_dual(W1, tangents["W1"]),
                          inputs["b1"], inputs["W2"], inputs["b2"], "tanh")
        tangent = fwAD.unpack_dual(J).tangent
        (grad,) = torch.autograd.grad(J, W1)
    ref_W1 = inputs["W1"].clone().requires_grad_()
    ref = reference_loss(inputs["X"], inputs["Y"], ref_W1, inputs["b1"], inputs["W2"],
                         inputs["b2"], "tanh")
    (ref_grad,) = torch.autograd.grad(ref, ref_W1)
    # Before: "jvp is not implemented for the c++ API of custom Function".
    assert torch.allclose(tangent, (ref_grad * tangents["W1"]).sum(), rtol=1e-9)
    assert torch.allclose(grad, ref_grad, rtol=1e-10, atol=1e-14)


def functional_transforms():
    try:
        from torch.func import jacfwd, jvp  # PyTorch 2.x
    except ImportError:
        try:
            from functorch import jacfwd, jvp  # PyTorch 1.13
        except ImportError:
            pytest.skip("neither torch.func nor functorch is available")
    return jvp, jacfwd


def test_functorch_jvp_of_loss():
    jvp, _ = functional_transforms()
    inputs = make_inputs(*PATH_SHAPES["small_net"], seed=17)
    T = tangents_of(inputs, ("W1",), seed=18)["W1"]

    def with_W1(fn):
        return lambda W1: fn(inputs["X"], inputs["Y"], W1, inputs["b1"], inputs["W2"],
                             inputs["b2"], "relu")

    J, dJ = jvp(with_W1(twolayer.loss), (inputs["W1"],), (T,))
    ref_J, ref_dJ = jvp(with_W1(reference_loss), (inputs["W1"],), (T,))
    assert torch.allclose(J, ref_J, rtol=1e-10)
    # Before: 0.0.
    assert torch.allclose(dJ, ref_dJ, rtol=1e-9, atol=1e-12), (dJ, ref_dJ)


def test_functorch_jacfwd_of_forward():
    _, jacfwd = functional_transforms()
    inputs = make_inputs(*PATH_SHAPES["small_net"], seed=19)

    def with_W1(fn):
        return lambda W1: fn(inputs["X"], W1, inputs["b1"], inputs["W2"], inputs["b2"], "tanh")

    jac = jacfwd(with_W1(twolayer.forward))(inputs["W1"])
    ref = jacfwd(with_W1(reference_forward))(inputs["W1"])
    assert jac.shape == ref.shape
    # Before: all zeros.
    assert ref.abs().max() > 0
    assert torch.allclose(jac, ref, rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# 3. A failed allocation of the BLAS path's per-thread workspace
# ---------------------------------------------------------------------------------------------

def test_failed_workspace_allocation_leaves_the_thread_usable():
    # The child's address space is capped, so that the (200000 x 100000) workspace cannot be
    # allocated whatever the machine's overcommit policy.
    done = run_child("""
    import resource
    cap = 16 << 30
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    import torch, twolayer
    from conftest import make_inputs
    from reference import reference_loss
    def loss(t):
        return twolayer.loss(t["X"], t["Y"], t["W1"], t["b1"], t["W2"], t["b2"], "tanh")
    first = make_inputs(1000, 8, 64, 1, dtype=torch.float32, seed=1)
    loss(first)
    X = torch.zeros(200000, 1)
    Y = torch.zeros(200000, 1)
    W1, b1 = torch.zeros(100000, 1), torch.zeros(100000)
    W2, b2 = torch.zeros(1, 100000), torch.zeros(1)
    try:
        twolayer.loss(X, Y, W1, b1, W2, b2, "tanh")
    except RuntimeError as error:
        assert "out of memory" in str(error), error
        print("out of memory")
    else:
        raise AssertionError("the (200000 x 100000) workspace was allocated")
    t = make_inputs(100, 8, 64, 1, dtype=torch.float32, seed=2)
    J = loss(t)
    assert torch.allclose(J, reference_loss(*(t[k] for k in ("X", "Y", "W1", "b1", "W2", "b2")), "tanh"), rtol=1e-4), J
    W1 = t["W1"].clone().requires_grad_()
    twolayer.loss(t["X"], t["Y"], W1, t["b1"], t["W2"], t["b2"], "tanh").backward()
    assert torch.isfinite(W1.grad).all()
    print("ok")
    """)
    # Before: the third call failed with "The tensor has a non-zero number of elements, but its
    # data is not allocated yet".
    assert_child_ok(done)
    assert "out of memory" in done.stdout


# ---------------------------------------------------------------------------------------------
# 7. Inference-tensor parameters, 9. overlapping arguments, 10. iteration counts
# ---------------------------------------------------------------------------------------------

def fit_args(shape, seed=0, dtype=torch.float64):
    t = make_inputs(*shape, seed=seed, dtype=dtype)
    return [t["W1"], t["b1"], t["W2"], t["b2"], t["X"], t["Y"]]


@pytest.mark.parametrize("path", ["small_net", "row_blocks/outputs_in_row_pass"])
def test_fit_refuses_inference_parameters_when_X_and_Y_are_inference_tensors_too(path):
    with torch.inference_mode():
        args = [a.clone() for a in fit_args(PATH_SHAPES[path])]
    before = [a.clone() for a in args]
    with pytest.raises(RuntimeError) as e:
        twolayer.fit_(*args, 3, 0.5)
    assert ("twolayer: W1 is an inference tensor, which fit_ cannot update outside "
            "torch.inference_mode()") in str(e.value)
    for a, b in zip(args, before):
        assert torch.equal(a, b)
    # Inside inference mode the same update is allowed.
    with torch.inference_mode():
        costs = twolayer.fit_(*args, 3, 0.5)
    assert costs.shape == (3,) and not torch.equal(args[0], before[0])


def overlapping(case, shape):
    """fit_'s (W1, b1, W2, b2, X, Y) with one overlap, and the pair the error must name."""
    m, n0, n1, n2 = shape
    if case in ("X is W1", "X views W1"):
        W1, b1, W2, b2, _, Y = fit_args((n1, n0, n1, n2), seed=5)  # X needs W1's shape
        X = W1 if case == "X is W1" else W1[:, :]
        return [W1, b1, W2, b2, X, Y], ("W1", "X")
    W1, b1, W2, b2, X, Y = fit_args(shape, seed=5)
    if case == "b1 inside W1":
        return [W1, W1.view(-1)[:n1], W2, b2, X, Y], ("W1", "b1")
    if case == "b2 in Y":
        return [W1, b1, W2, Y.view(-1)[:n2], X, Y], ("b2", "Y")
    if case == "W2 shares X's last element":
        buffer = torch.cat([X.reshape(-1), W2.reshape(-1)])
        start = m * n0 - 1
        return [W1, b1, buffer[start:start + n2 * n1].view(n2, n1), b2,
                buffer[:m * n0].view(m, n0), Y], ("W2", "X")
    if case == "interleaved columns, one shared":
        # Not dense, so ATen's overlap test gives up: compared element by element.
        W1, b1, W2, b2, _, Y = fit_args((n1, n0, n1, n2), seed=5)
        buffer = torch.cat([W1, W1], dim=1)
        return [buffer[:, :n0], b1, W2, b2, buffer[:, n0 - 1:2 * n0 - 1], Y], ("W1", "X")
    raise ValueError(case)


OVERLAPS = ["X is W1", "X views W1", "b1 inside W1", "b2 in Y", "W2 shares X's last element",
            "interleaved columns, one shared"]


@pytest.mark.parametrize("path", ["small_net", "row_blocks/outputs_in_row_pass"])
@pytest.mark.parametrize("case", OVERLAPS)
def test_fit_refuses_overlapping_arguments(path, case):
    args, (first, second) = overlapping(case, PATH_SHAPES[path])
    snapshot = [a.clone() for a in args]
    with pytest.raises(RuntimeError) as e:
        twolayer.fit_(*args, 10, 1.2)
    # Before: accepted, with results that depended on the path.
    assert (f"twolayer: {first} and {second} must not share memory (fit_ updates {first} in "
            f"place), but they overlap; pass a copy (e.g. {second}.clone())") in str(e.value)
    for a, b in zip(args, snapshot):
        assert torch.equal(a, b)


def test_fit_accepts_disjoint_views_of_one_buffer():
    W1, b1, W2, b2, X, Y = fit_args(PATH_SHAPES["small_net"], seed=6)
    flat = torch.cat([W1.reshape(-1), b1, W2.reshape(-1), b2])
    views = torch.split(flat, [W1.numel(), b1.numel(), W2.numel(), b2.numel()])
    params = [views[0].view_as(W1), views[1], views[2].view_as(W2), views[3]]
    separate = [p.clone() for p in (W1, b1, W2, b2)]
    costs = twolayer.fit_(*params, X, Y, 5, 0.5)
    expected = twolayer.fit_(*separate, X, Y, 5, 0.5)
    assert torch.equal(costs, expected)
    for p, q in zip(params, separate):
        assert torch.equal(p, q)


def test_fit_accepts_interleaved_columns_that_share_no_element():
    m, n0, n1, n2 = PATH_SHAPES["small_net"]
    W1, b1, W2, b2, X, Y = fit_args((n1, n0, n1, n2), seed=7)
    buffer = torch.cat([W1, X], dim=1)  # W1's and X's rows alternate in one storage
    W1_view, X_view = buffer[:, :n0], buffer[:, n0:]
    costs = twolayer.fit_(W1_view, b1.clone(), W2.clone(), b2.clone(), X_view, Y, 3, 0.5)
    W1_separate = W1.clone()
    expected = twolayer.fit_(W1_separate, b1.clone(), W2.clone(), b2.clone(), X, Y, 3, 0.5)
    # A strided W1 takes the general loop rather than the small-net one: equal to rounding.
    assert torch.allclose(costs, expected, rtol=1e-12, atol=0)
    assert torch.allclose(W1_view, W1_separate, rtol=1e-12, atol=1e-15)
    assert torch.equal(X_view, X)  # read, never written


@pytest.mark.parametrize("device", ["cpu", "meta"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_fit_refuses_iterations_whose_costs_overflow(device, dtype):
    args = [a.to(device) for a in fit_args(PATH_SHAPES["small_net"], dtype=dtype)]
    snapshot = [a.clone() for a in args]
    itemsize = torch.empty((), dtype=dtype).element_size()
    with pytest.raises(RuntimeError) as e:
        twolayer.fit_(*args, 2 ** 63 - 1, 0.5)
    name = {torch.float32: "float32", torch.float64: "float64"}[dtype]
    # Before: "Storage size calculation overflowed".
    assert (f"twolayer: iterations must be at most {(2 ** 63 - 1) // itemsize} (the returned "
            f"costs, one {name} per iteration, must fit in memory), but got {2 ** 63 - 1}"
            in str(e.value))
    if device == "cpu":
        for a, b in zip(args, snapshot):
            assert torch.equal(a, b)


def test_fit_refuses_iterations_whose_costs_cannot_be_allocated():
    args = fit_args(PATH_SHAPES["row_blocks/outputs_in_row_pass"])
    snapshot = [a.clone() for a in args]
    with pytest.raises(RuntimeError) as e:
        twolayer.fit_(*args, 2 ** 59, 0.5)
    assert (f"twolayer: iterations = {2 ** 59} needs a cost tensor of {2 ** 59} values, which "
            "cannot be allocated") in str(e.value)
    for a, b in zip(args, snapshot):
        assert torch.equal(a, b)


# ---------------------------------------------------------------------------------------------
# 11. NaN and inf as autograd has them
# ---------------------------------------------------------------------------------------------

def grads_of(loss_fn, t, activation, create_graph=False):
    leaves = {k: v.clone().requires_grad_(k != "Y") for k, v in t.items()}
    J = loss_fn(*(leaves[k] for k in LOSS_INPUTS), activation)
    names = [k for k in LOSS_INPUTS if k != "Y"]
    grads = torch.autograd.grad(J, [leaves[k] for k in names], create_graph=create_graph)
    return dict(zip(names, (g.detach() for g in grads)))


def nan_label_inputs(shape, dtype):
    t = make_inputs(*shape, seed=21, dtype=dtype)
    t["b1"][0] = -1e3   # hidden unit 0 is off for every example
    t["Y"][3, 0] = float("nan")  # one example's dZ2 is NaN
    return t


@pytest.mark.parametrize("path", list(PATH_SHAPES))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("create_graph", [False, True], ids=["fused", "aten-reference"])
def test_relu_masks_a_nan_out_of_units_that_are_off(path, dtype, create_graph):
    t = nan_label_inputs(PATH_SHAPES[path], dtype)
    ours = grads_of(twolayer.loss, t, "relu", create_graph)
    ref = grads_of(reference_loss, t, "relu")
    # The unit that is off: no NaN reaches its gradients in autograd.
    assert torch.equal(ref["b1"][0], torch.zeros((), dtype=dtype))
    for k in ("W1", "b1", "X", "W2", "b2"):
        assert torch.equal(torch.isnan(ours[k]), torch.isnan(ref[k])), (k, ours[k], ref[k])
        assert torch.allclose(ours[k], ref[k], rtol=TOLERANCE[dtype] * 10, atol=1e-6,
                              equal_nan=True), k


def test_relu_forward_backward_masks_a_nan():
    t = nan_label_inputs(PATH_SHAPES["row_blocks/outputs_in_row_pass"], torch.float64)
    grad_A2 = torch.ones(t["X"].shape[0], t["W2"].shape[0], dtype=torch.float64)
    grad_A2[3, 0] = float("nan")
    results = []
    for fn in (twolayer.forward, reference_forward):
        leaves = {k: t[k].clone().requires_grad_() for k in ("X", "W1", "b1", "W2", "b2")}
        fn(*leaves.values(), "relu").backward(grad_A2)
        results.append(leaves["b1"].grad)
    ours, ref = results
    assert ref[0] == 0
    assert torch.allclose(ours, ref, rtol=1e-10, equal_nan=True), (ours, ref)


@pytest.mark.parametrize("path", list(PATH_SHAPES))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_cost_of_an_infinite_logit_with_label_zero_is_inf(path, dtype):
    t = make_inputs(*PATH_SHAPES[path], seed=22, dtype=dtype)
    t["b2"][0] = float("inf")
    t["Y"][:, 0] = 0
    args = [t[k] for k in LOSS_INPUTS]
    ref = reference_loss(*args, "tanh")
    assert ref == float("inf")  # binary_cross_entropy_with_logits
    # Before: NaN.
    assert twolayer.loss(*args, "tanh") == float("inf")
    # The ATen reference cost, which forward-mode AD runs.
    with fwAD.dual_level():
        dual = fwAD.make_dual(t["W1"], torch.zeros_like(t["W1"]))
        J = twolayer.loss(t["X"], t["Y"], dual, t["b1"], t["W2"], t["b2"], "tanh")
        assert fwAD.unpack_dual(J).primal == float("inf")
    costs = twolayer.fit_(*(t[k].clone() for k in ("W1", "b1", "W2", "b2")), t["X"], t["Y"], 1,
                          0.5, "tanh")
    assert costs[0] == float("inf")


# ---------------------------------------------------------------------------------------------
# 12. TWOLAYER_CPU_KERNEL
# ---------------------------------------------------------------------------------------------

def test_unknown_cpu_kernel_value_is_refused_with_the_valid_ones():
    env = dict(os.environ, TWOLAYER_CPU_KERNEL="avx512")
    done = run_child("""
    import torch, twolayer  # loading the library must not abort or refuse
    from conftest import make_inputs
    t = make_inputs(9, 2, 4, 1)
    for attempt in range(2):  # refused at every use, not only the first
        try:
            twolayer.loss(t["X"], t["Y"], t["W1"], t["b1"], t["W2"], t["b2"])
        except RuntimeError as e:
            print(str(e).splitlines()[0])
        else:
            raise AssertionError("TWOLAYER_CPU_KERNEL=avx512 was accepted")
    print("ok")
    """, env=env)
    assert_child_ok(done)
    expected = ("twolayer: TWOLAYER_CPU_KERNEL must be one of baseline, avx2 (or unset for the "
                "CPU's best), but got 'avx512'")
    assert done.stdout.count(expected) == 2, done.stdout


@pytest.mark.parametrize("value", ["baseline", "avx2", ""])
def test_known_cpu_kernel_values(value):
    env = dict(os.environ, TWOLAYER_CPU_KERNEL=value)
    done = run_child("""
    import torch, twolayer
    from conftest import make_inputs
    from reference import reference_loss
    t = make_inputs(9, 2, 4, 1)
    args = [t[k] for k in ("X", "Y", "W1", "b1", "W2", "b2")]
    try:
        J = twolayer.loss(*args)
    except RuntimeError as e:
        print(str(e).splitlines()[0])
    else:
        assert torch.allclose(J, reference_loss(*args)), J
        print(torch.ops.twolayer_testing.cpu_kernel_version())
    """, env=env)
    assert done.returncode == 0, done.stderr
    out = done.stdout.strip()
    if value == "baseline":
        assert out == "baseline"
    elif value == "avx2":
        assert out == "avx2" or out.startswith("twolayer: TWOLAYER_CPU_KERNEL=avx2, but this CPU"), out
    else:
        assert out in ("avx2", "baseline")
