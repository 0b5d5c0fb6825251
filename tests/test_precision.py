"""Precision claims: each claimed dtype is run and checked; refusals name the neuron."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import threshnet
from threshnet.check import _rows_exhaustive
from threshnet.precision import DTYPES, TORCH_DTYPES, analyze, integer_forward, integer_program, noise_radius

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.bool"))
CONFIGS = [("step", True, "mlp"), ("relu", True, "mlp"), ("relu", False, "mlp"), ("step", True, "sparse"),
           ("relu", True, "sparse")]
WIDE_AND = "y = " + " & ".join(f"x{i}" for i in range(300))


@functools.lru_cache(maxsize=None)
def example_net(path: Path, activation: str, output_step: bool, layout: str) -> threshnet.ThreshNet:
    """An example compiled in the default dtype (float32), once for the two tests below: the mlp networks
    of test_every_claimed_float_dtype_is_exact are the ones test_integer_export_is_exact exports.  Neither
    test changes a network (analyze, check and integer_program only read it)."""
    return threshnet.compile(threshnet.parse(path.read_text(), str(path)), activation, output_step=output_step,
                             layout=layout)


@pytest.mark.parametrize("activation,output_step,layout", CONFIGS)
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_claimed_float_dtype_is_exact(path, activation, output_step, layout):
    spec = threshnet.parse(path.read_text(), str(path))
    net = example_net(path, activation, output_step, layout)
    claimed = analyze(net).exact_dtypes
    assert "float32" in claimed and "float64" in claimed
    assert net.stats().exact_dtypes == claimed
    for name in claimed:
        if name not in TORCH_DTYPES:
            continue
        low = net if name == "float32" else \
            threshnet.compile(spec, activation, output_step=output_step, layout=layout, dtype=name)
        assert next(low.parameters()).dtype == TORCH_DTYPES[name]
        report = threshnet.check(low, spec)  # runs on the CPU in that dtype
        assert report.ok, f"{name}: {report}"


@pytest.mark.parametrize("activation,output_step", [("step", True), ("relu", True), ("relu", False)])
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_integer_export_is_exact(path, activation, output_step):
    spec = threshnet.parse(path.read_text(), str(path))
    net = example_net(path, activation, output_step, "mlp")
    program = integer_program(net)
    for layer in program:
        assert layer.weight.dtype == np.int64 and layer.bias.dtype == np.int64
    rows = _rows_exhaustive(len(spec.inputs), 0, 1 << len(spec.inputs))
    assert (integer_forward(program, rows) == threshnet.evaluate_batch(spec, rows)).all()
    report = analyze(net)
    for name in ("int8", "int16", "int32"):
        if report.exact[name]:
            limit = {"int8": 127, "int16": 2**15 - 1, "int32": 2**31 - 1}[name]
            for layer in program:
                assert np.abs(layer.weight).max(initial=0) <= limit and np.abs(layer.bias).max(initial=0) <= limit


def test_wide_and_refuses_bfloat16_with_the_neuron():
    report = analyze(threshnet.compile(WIDE_AND))
    assert report.exact["float16"] and not report.exact["bfloat16"] and not report.exact["int8"]
    with pytest.raises(ValueError, match=r"not exact in bfloat16: layer 1 neuron 0: partial sums reach 599\.5"):
        threshnet.compile(WIDE_AND, dtype="bfloat16")
    net = threshnet.compile(WIDE_AND, dtype=torch.float16)
    assert threshnet.check(net, WIDE_AND, samples=200).ok


def test_int_dtype_in_compile_points_to_integer_export():
    with pytest.raises(ValueError, match="integer_program"):
        threshnet.compile("y = a & b", dtype="int8")


def test_notebook_addernn_is_exact_in_nothing():
    m = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2), threshnet.Step())
    with torch.no_grad():
        m[0].weight.copy_(torch.tensor([[1.0, 1], [1, 1], [1, 1]]))
        m[0].bias.copy_(torch.tensor([-1.5, -0.5, -1.5]))
        m[2].weight.copy_(torch.tensor([[1.0, 0, 0], [0, 1, -2]]))
        m[2].bias.copy_(torch.tensor([0.0, 0]))
    report = analyze(m, n_inputs=2)
    assert report.exact_dtypes == ()
    assert "not kept away from 0" in report.reasons["float32"]


def test_noise_within_radius_keeps_outputs_exact():
    spec = threshnet.parse((ROOT / "examples" / "ripple_adder4.bool").read_text())
    for activation in ("step", "relu"):
        net = threshnet.compile(spec, activation)
        r = noise_radius(net)
        assert r > 0 and net.stats().noise_radius == r
        x = torch.from_numpy(_rows_exhaustive(9, 0, 512)).float()
        clean = net(x)
        g = torch.Generator().manual_seed(0)
        for _ in range(5):  # the radius is the bare layers' (ThreshNet itself rounds its inputs first)
            noise = (torch.rand(x.shape, generator=g) * 2 - 1) * r * 0.999
            assert torch.equal(net.layers(x + noise), clean)
        # Well beyond the radius the answer changes somewhere.
        corner = torch.sign(torch.rand(x.shape, generator=g) - 0.5) * 0.49
        assert not torch.equal(net.layers(x + corner), clean)
        assert torch.equal(net(x + corner), clean)


def test_pure_relu_has_zero_noise_radius():
    assert noise_radius(threshnet.compile("y = a & b", output_step=False)) == 0.0


def test_strict_rejects_non_binary_inputs():
    net = threshnet.compile("y = a & b", strict=True)
    assert net(torch.tensor([[1.0, 1.0]])).tolist() == [[1.0]]
    with pytest.raises(ValueError, match="exactly 0 or 1, got 0.5"):
        net(torch.tensor([[0.5, 1.0]]))
    loose = threshnet.compile("y = a & b")
    assert loose(torch.tensor([[0.9, 1.0]])).tolist() == [[1.0]]  # within the noise radius


def test_all_dtypes_named():
    assert set(DTYPES) == {"float64", "float32", "float16", "bfloat16", "int8", "int16", "int32"}


# --- one exactness rule: analyze, checked by running every certified dtype ----------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from threshnet.precision import INTS  # noqa: E402
from threshnet.reader import read_network  # noqa: E402
from threshnet.testing import specs  # noqa: E402


def _all_rows(n: int) -> np.ndarray:
    return _rows_exhaustive(n, 0, 1 << n).reshape(1 << n, n)


def _integer_trace(program, x: np.ndarray) -> int:
    """The largest |value| any integer layer's pre-activation takes on rows ``x``."""
    h, top = np.asarray(x, dtype=np.int64), 0
    for layer in program:
        z = h @ layer.weight.T + layer.bias
        top = max(top, int(np.abs(z).max(initial=0)))
        h = (z > 0).astype(np.int64) if layer.act == "step" else np.maximum(z, 0) if layer.act == "relu" else z
    return top


def _assert_bounds_hold(net, report, rows: np.ndarray) -> None:
    """Every neuron's interval holds its pre-activation, and its bound S its largest partial sum, on every row."""
    read = read_network(net)
    buf = np.zeros((len(rows), read.width))
    buf[:, :read.n_inputs] = rows
    for layer, (lo, hi), s in zip(read.layers, report.ranges, report.sums):
        terms = np.zeros((len(rows), layer.n_out, 2))  # per row and neuron: sums of the positive, negative terms
        t = buf[:, layer.col] * layer.weight
        for k, part in enumerate((np.maximum(t, 0), np.minimum(t, 0))):
            for i in range(len(rows)):
                terms[i, :, k] = np.bincount(layer.row, part[i], layer.n_out)
        terms[:, :, 0] += np.maximum(layer.bias, 0)
        terms[:, :, 1] += np.minimum(layer.bias, 0)
        worst = np.maximum(terms[:, :, 0], -terms[:, :, 1])  # the largest partial sum in any order
        assert (worst <= s).all(), f"{layer.name}: a partial sum beyond its bound"
        z = terms.sum(axis=2)
        assert (lo <= z).all() and (z <= hi).all(), f"{layer.name}: a pre-activation outside its interval"
        z = (z > 0).astype(float) if layer.act == "step" else np.maximum(z, 0) if layer.act == "relu" else z
        if layer.writes is None:
            buf = z
        else:
            buf[:, layer.writes] = z


@settings(max_examples=60, deadline=None)
@given(spec=specs(max_inputs=8, max_gates=40), layout=st.sampled_from(["mlp", "sparse"]),
       mode=st.sampled_from([("step", True), ("relu", True), ("relu", False)]))
def test_certified_dtypes_are_exact_on_every_row(spec, layout, mode):
    activation, output_step = mode
    if layout == "sparse" and not output_step:
        output_step = True
    net = threshnet.compile(spec, activation, output_step=output_step, layout=layout, dtype="float64")
    rows = _all_rows(len(spec.inputs))
    want = threshnet.evaluate_batch(spec, rows)
    x = torch.from_numpy(rows).double()
    assert (net(x).detach().numpy() == want).all()
    report = analyze(net)
    assert net.stats().exact_dtypes == report.exact_dtypes
    assert {"float64", "float32"} <= set(report.exact_dtypes)
    _assert_bounds_hold(net, report, rows)
    for name in report.exact_dtypes:
        if name in TORCH_DTYPES:
            low = threshnet.compile(spec, activation, output_step=output_step, layout=layout, dtype=name)
            assert (low(x.to(TORCH_DTYPES[name])).double().detach().numpy() == want).all(), name
        elif layout == "mlp":
            program = integer_program(net)
            assert (integer_forward(program, rows) == want).all()
            assert _integer_trace(program, rows) <= INTS[name]


def _majority_chain(width: int, depth: int) -> str:
    """``depth`` layers of ``width`` signals, each the majority of three signals of the layer before."""
    lines = [f"input {', '.join(f'x{i}' for i in range(width))}"]
    prev = [f"x{i}" for i in range(width)]
    for d in range(depth):
        cur = [f"m{d}_{j}" for j in range(width)]
        for j in range(width):
            a, b, c = prev[j], prev[(j + 1) % width], prev[(j + 3) % width]
            lines.append(f"{cur[j]} = {a} & {b} | {a} & {c} | {b} & {c}")
        prev = cur
    lines.append(f"output {', '.join(prev)}")
    return "\n".join(lines) + "\n"


def _naive_bound(module) -> float:
    """Plain interval arithmetic (no pairing of a gate's two ReLU neurons): the old, compounding bound."""
    net = read_network(module)
    lo, hi = np.zeros(net.width), np.zeros(net.width)
    hi[:net.n_inputs] = 1
    worst = 0.0
    for layer in net.layers:
        n, r, c, w = layer.n_out, layer.row, layer.col, layer.weight
        s = np.abs(layer.bias) + np.bincount(r, np.abs(w) * np.maximum(np.abs(lo[c]), np.abs(hi[c])), n)
        zlo = layer.bias + np.bincount(r, np.minimum(w * lo[c], w * hi[c]), n)
        zhi = layer.bias + np.bincount(r, np.maximum(w * lo[c], w * hi[c]), n)
        worst = max(worst, float(s.max(initial=0)))
        if layer.act == "step":
            zlo, zhi = np.zeros(n), np.ones(n)
        elif layer.act == "relu":
            zlo, zhi = np.maximum(zlo, 0), np.maximum(zhi, 0)
        if layer.writes is None:
            lo, hi = zlo, zhi
        else:
            lo[layer.writes], hi[layer.writes] = zlo, zhi
    return worst


@pytest.mark.parametrize("layout", ["mlp", "sparse"])
def test_majority_chain_gets_one_answer_from_compile_and_stats(layout):
    """The relu voter case: plain intervals pass 2**23, the real sums stay tiny; one rule decides."""
    text = _majority_chain(8, 16)
    net = threshnet.compile(text, "relu", layout=layout)
    assert _naive_bound(net) > 2**23  # what stats() used to report (float64 only)
    report = analyze(net)
    assert report.max_partial_sum <= 16
    assert net.stats().exact_dtypes == report.exact_dtypes == DTYPES
    rows = _all_rows(8)
    want = threshnet.evaluate_batch(threshnet.parse(text), rows)
    for name in TORCH_DTYPES:
        # compile certifies it too (net is the float32 compile)
        low = net if name == "float32" else threshnet.compile(text, "relu", layout=layout, dtype=name)
        assert (low(torch.from_numpy(rows).to(TORCH_DTYPES[name])).double().detach().numpy() == want).all(), name


def test_grid_decides_the_bound_half_integers_get_half_the_range():
    """ReLU neurons on the integer grid may reach 2**p; a half-integer bias halves that."""
    def one(weight: float, bias: float, act: nn.Module) -> nn.Sequential:
        m = nn.Sequential(nn.Linear(1, 1, dtype=torch.float64), act)
        with torch.no_grad():
            m[0].weight.fill_(weight)
            m[0].bias.fill_(bias)
        return m

    relu = analyze(one(2.0**24 - 1, 1.0, nn.ReLU()), n_inputs=1)  # partial sums up to 2**24
    assert relu.exact["float32"] and relu.max_partial_sum == 2**24
    step = analyze(one(2.0**23, 0.5, threshnet.Step()), n_inputs=1)  # 2**23 + 0.5 needs 25 bits
    assert not step.exact["float32"] and step.exact["float64"]
    assert "beyond float32's exact range (8.38861e+06)" in step.reasons["float32"]
    assert float(torch.tensor(2.0**23 + 0.5, dtype=torch.float32)) != 2.0**23 + 0.5
    edge = analyze(one(2.0**23 - 1, -0.5, threshnet.Step()), n_inputs=1)
    assert edge.exact["float32"]
    quarter = analyze(one(0.5, 0.25, nn.ReLU()), n_inputs=1)  # dyadic grid 2**-2: ints refuse
    assert quarter.exact["float16"] and not quarter.exact["int32"]


def test_c6288_relu_sums_and_noise_radius():
    net = threshnet.compile(ROOT / "benchmarks/circuits/iscas85/bench/c6288.bench", "relu", layout="mlp")
    report = analyze(net)
    # The mapper's threshold gates on cuts of 5-6 leaves carry weights up to ~9 (before: 4-leaf cuts,
    # weights <= 4, sums <= 18, int8 exact too); plain intervals: 163829.
    assert report.max_partial_sum <= 128
    assert set(report.exact_dtypes) >= set(DTYPES) - {"int8"}
    assert report.noise_radius > 1e-18  # per-layer norms: 4.7e-46
    spec = threshnet.read(ROOT / "benchmarks/circuits/iscas85/bench/c6288.bench")
    rows = np.random.default_rng(3).integers(0, 2, size=(300, 32)).astype(np.uint8)
    low = net.to(torch.bfloat16)
    assert (low(torch.from_numpy(rows).to(torch.bfloat16)).double().detach().numpy()
            == threshnet.evaluate_batch(spec, rows)).all()


@pytest.mark.parametrize("activation", ["step", "relu"])
@pytest.mark.parametrize("text", [(ROOT / "examples" / "mult2x2.bool").read_text(),
                                  (ROOT / "examples" / "parity8.bool").read_text(), _majority_chain(6, 8)],
                         ids=["mult2x2", "parity8", "majority-chain"])
def test_noise_radius_is_sound(text, activation):
    net = threshnet.compile(text, activation, layout="mlp", dtype="float64")
    r = analyze(net).noise_radius
    assert 0 < r < 1
    n = len(net.input_names)
    x = torch.from_numpy(_all_rows(n)).double()
    clean = net(x)
    g = torch.Generator().manual_seed(1)
    for _ in range(20):  # corners of the noise box, where linear bounds are worst, and points inside
        corner = torch.sign(torch.rand(x.shape, generator=g, dtype=torch.float64) - 0.5) * 0.99 * r
        inside = (torch.rand(x.shape, generator=g, dtype=torch.float64) * 2 - 1) * 0.99 * r
        assert torch.equal(net(x + corner), clean) and torch.equal(net(x + inside), clean)


@pytest.mark.parametrize("layout", ["mlp", "sparse"])
@pytest.mark.parametrize("mode", [("step", True), ("relu", True), ("relu", False)])
def test_reader_layers_reproduce_the_network(layout, mode):
    activation, output_step = mode
    text = (ROOT / "examples" / "ripple_adder4.bool").read_text()
    net = threshnet.compile(text, activation, output_step=output_step, layout=layout)
    read = read_network(net)
    assert read.n_inputs == 9 and len(read.layers) == sum(1 for _ in read.layers)
    x = _all_rows(9).astype(np.float64)
    buf = np.zeros((len(x), read.width))
    buf[:, :9] = x
    for layer in read.layers:
        w = np.zeros((layer.n_out, layer.n_in))
        np.add.at(w, (layer.row, layer.col), layer.weight)
        z = buf @ w.T + layer.bias
        z = (z > 0).astype(float) if layer.act == "step" else np.maximum(z, 0) if layer.act == "relu" else z
        if layer.writes is None:
            buf = z
        else:
            buf[:, layer.writes] = z
    assert (buf == net(torch.from_numpy(x).float()).detach().numpy()).all()


def test_reader_reads_plain_sequentials_and_refuses_others():
    m = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1), threshnet.Step())
    read = read_network(m)
    assert [l.act for l in read.layers] == ["relu", "step"] and read.width == read.n_inputs == 3
    with pytest.raises(ValueError, match="cannot analyse module Tanh"):
        read_network(nn.Sequential(nn.Linear(2, 2), nn.Tanh()))
    with pytest.raises(ValueError, match="ReLU without a Linear"):
        read_network(nn.Sequential(nn.ReLU()))


@pytest.mark.parametrize("value", [255.0, 256.0, 257.0, 127.5, 128.5, 2047.0, 2049.0, 1023.5, 1024.5, 0.25, 0.75,
                                   1 + 2.0**-8, 3 * 2.0**-20, 2.0**-25])
def test_no_dtype_that_rounds_a_weight_or_bias_is_certified(value):
    """Integers and half-integers are judged without converting in torch (the rule in analyze); every
    value that a dtype would round still makes that dtype uncertified, for weights and biases alike."""
    for where in ("weight", "bias"):
        lin = nn.Linear(1, 1)
        with torch.no_grad():
            lin.weight.fill_(value if where == "weight" else 1.0)
            lin.bias.fill_(value if where == "bias" else 0.5)
        report = analyze(nn.Sequential(lin, threshnet.Step()))
        for d in ("float32", "float16", "bfloat16"):
            if torch.tensor(value, dtype=torch.float64).to(TORCH_DTYPES[d]).item() != value:
                assert not report.exact[d], (where, value, d)
    small = nn.Linear(2, 1)
    with torch.no_grad():
        small.weight.copy_(torch.tensor([[1.0, -2.0]]))
        small.bias.fill_(0.5)
    assert all(analyze(nn.Sequential(small, threshnet.Step())).exact[d] for d in ("float32", "float16", "bfloat16"))


def _same_report(a, b) -> None:
    same = lambda x, y: np.array_equal(x, y, equal_nan=True)  # noqa: E731 (an infinite weight makes NaN bounds)
    assert a.exact == b.exact and a.reasons == b.reasons
    assert same([a.max_partial_sum, a.max_abs_weight, a.max_abs_bias, a.noise_radius],
                [b.max_partial_sum, b.max_abs_weight, b.max_abs_bias, b.noise_radius])
    assert len(a.ranges) == len(b.ranges) == len(a.sums) == len(b.sums)
    for (lo1, hi1), (lo2, hi2), s1, s2 in zip(a.ranges, b.ranges, a.sums, b.sums):
        assert same(lo1, lo2) and same(hi1, hi2) and same(s1, s2)


def _random_sequential(rng: np.random.Generator) -> nn.Sequential:
    """Small integer, dyadic, huge, infinite and paired (equal rows, biases one apart) weights."""
    sizes = [int(rng.integers(1, 6)) for _ in range(int(rng.integers(2, 6)))]
    mods: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        lin = nn.Linear(sizes[i], sizes[i + 1]).double()
        w = rng.integers(-3, 4, (sizes[i + 1], sizes[i])).astype(float) * rng.choice([1.0, 0.125, 2.0**40])
        b = rng.integers(-3, 4, sizes[i + 1]).astype(float) + rng.choice([0.0, 0.5, 0.25])
        if rng.random() < 0.1:
            w.flat[0] = np.inf
        if len(b) >= 2 and rng.random() < 0.5:
            w[1], b[1] = w[0], b[0] + 1
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w))
            lin.bias.copy_(torch.from_numpy(b))
        mods.append(lin)
        if i < len(sizes) - 2 or rng.random() < 0.5:
            mods.append(threshnet.Step() if rng.random() < 0.4 else nn.ReLU())
    return nn.Sequential(*mods)


def test_sweep_compiled_and_interpreted_agree():
    """analyze's layer-to-layer sweep runs interpreted for small networks and compiled by numba for large
    ones (threshnet._boundsweep): the same function, so the same report, bit for bit."""
    nets = [threshnet.compile(_majority_chain(6, 8), "relu", layout=layout, output_step=o, dtype="float64")
            for layout in ("mlp", "sparse") for o in (True, False)]
    nets += [threshnet.compile(ROOT / "benchmarks/circuits/iscas85/bench/c6288.bench", "relu", layout="sparse"),
             threshnet.compile("y = " + " ^ ".join(f"(a{i} | ~b{i})" for i in range(300)), "step", layout="sparse")]
    rng = np.random.default_rng(7)
    nets += [_random_sequential(rng) for _ in range(60)]
    for net in nets:
        _same_report(analyze(net, compiled=False), analyze(net, compiled=True))
