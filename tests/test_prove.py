"""threshnet.prove: formal equivalence of networks and specs, with SAT (python-sat, CaDiCaL)."""

from __future__ import annotations

import importlib
import itertools
import random
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from conftest import notebook_adder, require_prover  # noqa: E402  (notebook_adder: examples/notebook_adder.py)

require_prover()

import threshnet  # noqa: E402
from threshnet import Step  # noqa: E402
from threshnet.compiler.spec import AND, OR, XOR, Assign, BinOp, Expr, Name, Not, Spec  # noqa: E402
from threshnet.prove import ProofReport, prove  # noqa: E402

# The module, even once ``threshnet.prove`` names the function (as ``threshnet.check`` does).
P = importlib.import_module("threshnet.prove")

torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(ROOT.joinpath("examples").glob("*.bool"))
ISCAS = ROOT / "benchmarks" / "circuits" / "iscas85" / "bench"
MODES = [("step", True), ("relu", True), ("relu", False)]
HALF_ADDER = "c1 = a0 & b0; c0 = a0 ^ b0"


def confirm(module: nn.Module, spec, report: ProofReport) -> None:
    """The counterexample is real: the module and the evaluator differ there."""
    spec = threshnet.parse(spec) if isinstance(spec, str) else spec
    assert report.status == "refuted" and not report.proved
    x = torch.tensor([[float(report.counterexample[k]) for k in spec.inputs]], dtype=torch.float64)
    with torch.no_grad():
        out = __import__("copy").deepcopy(module).double()(x)[0].tolist()
    want = threshnet.evaluate(spec, report.counterexample)
    assert report.expected == want
    assert report.got == dict(zip(spec.outputs, out))
    assert any(out[j] != want[o] for j, o in enumerate(spec.outputs))


# --- the examples --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
@pytest.mark.parametrize("activation,output_step", MODES)
@pytest.mark.parametrize("method", ["monolithic", "nodes"])
def test_examples_proved(path, activation, output_step, method):
    net = threshnet.compile(path.read_text(), activation, output_step=output_step)
    report = prove(net, net.spec, method=method)
    assert report.proved, str(report)
    assert report.status == "proved" and report.counterexample is None
    assert report.method == method and report.solver == P.SOLVER
    assert report.variables > 0 and report.clauses > 0
    # exact in float32, names match; wide ReLU gates of word arithmetic are encoded in binary (a note, not a doubt)
    assert not [n for n in report.notes if not n.startswith("binary ReLU encoding")]


def test_report_text():
    net = threshnet.compile(HALF_ADDER, "step")
    report = prove(net, HALF_ADDER, method="monolithic")
    text = str(report)
    assert text.startswith("proved equivalent in ")
    assert f"({P.SOLVER}, {report.variables} vars, {report.clauses} clauses, monolithic)" in text
    assert bool(report) is True


# --- refutations ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["monolithic", "nodes", "auto"])
@pytest.mark.parametrize("simulate", [False, True])
def test_notebook_adder_refuted(method, simulate):
    m = notebook_adder()
    report = prove(m, HALF_ADDER, method=method, simulate=simulate)
    assert report.status == "refuted"
    assert report.counterexample == {"a0": 1, "b0": 1}
    assert report.expected == {"c1": 1, "c0": 0}
    assert report.got == {"c1": 1.0, "c0": 1.0}
    confirm(m, HALF_ADDER, report)
    text = str(report)
    assert "REFUTED" in text and "a0=1 b0=1" in text and "c1=1 c0=0" in text and "c1=1 c0=1" in text
    if not simulate:
        assert report.method == method if method != "auto" else report.method == "monolithic"
        assert report.sat_calls >= 1


@pytest.mark.parametrize("activation,output_step", MODES)
@pytest.mark.parametrize("method", ["monolithic", "nodes"])
def test_perturbed_weight_refuted(activation, output_step, method):
    spec = threshnet.parse((ROOT / "examples" / "ripple_adder4.bool").read_text())
    net = threshnet.compile(spec, activation, output_step=output_step)
    lin = [m for m in net.layers if isinstance(m, nn.Linear)][1]
    nz = torch.nonzero(lin.weight)
    i, j = nz[len(nz) // 2].tolist()
    with torch.no_grad():
        lin.weight[i, j] += 1.0
    assert not threshnet.check(net, spec).ok  # this perturbation does change the function
    report = prove(net, spec, method=method, simulate=False)
    confirm(net, spec, report)


def test_non_boolean_output_refuted():
    """A final Linear whose output is 0.5 somewhere is not 0 or 1: refuted with got = 0.5."""
    lin = nn.Linear(2, 1)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[0.5, 0.5]]))
        lin.bias.zero_()
    report = prove(nn.Sequential(lin), "y = a & b", simulate=False)
    confirm(nn.Sequential(lin), "y = a & b", report)
    assert 0.5 in report.got.values()


def test_final_relu_and_functional_forms():
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = nn.Sequential(nn.Sequential(nn.Linear(2, 1)), nn.Identity())

        def forward(self, x):
            z = F.relu(self.body(x))
            return torch.relu(z)

    m = Net()
    with torch.no_grad():
        m.body[0][0].weight.fill_(1.0)
        m.body[0][0].bias.fill_(-1.0)
    assert prove(m, "y = a & b").proved  # relu(a + b - 1) is AND

    class Cmp(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.l = nn.Linear(2, 1)

        def forward(self, x):
            z = self.l(x)
            return z.gt(0).to(z.dtype)

    c = Cmp()
    with torch.no_grad():
        c.l.weight.fill_(2.0)
        c.l.bias.fill_(-1.0)
    assert prove(c, "y = a | b").proved
    assert prove(c, "y = a ^ b", simulate=False).counterexample == {"a": 1, "b": 1}


# --- exactness -----------------------------------------------------------------------------------


def test_inexact_weight_refused():
    net = threshnet.compile(HALF_ADDER, "step")
    with torch.no_grad():
        net.layers[0].weight[1, 0] = 0.1
    with pytest.raises(ValueError, match=r"layer 'layers\.0' \(nn\.Linear\) weight: row 1, column 0: "
                                         r"value 0\.1000000015 \(torch\.float32\) is not an exact dyadic"):
        prove(net, HALF_ADDER)
    net64 = threshnet.compile(HALF_ADDER, "step").double()
    with torch.no_grad():
        net64.layers[2].bias[0] = 0.1
    with pytest.raises(ValueError, match=r"layer 'layers\.2' \(nn\.Linear\) bias: row 0: value 0\.1 "
                                         r"\(torch\.float64\).*2\*\*-30"):
        prove(net64, HALF_ADDER)


@pytest.mark.parametrize("method", ["monolithic", "nodes"])
def test_quarter_weights_rescaled(method):
    spec = (ROOT / "examples" / "full_adder.bool").read_text()
    step = threshnet.compile(spec, "step")
    with torch.no_grad():
        for p in step.parameters():
            p.mul_(0.25)  # step(z / 4) = step(z)
    assert prove(step, spec, method=method).proved
    relu = threshnet.compile(spec, "relu", output_step=False)
    lins = [m for m in relu.layers if isinstance(m, nn.Linear)]
    with torch.no_grad():  # relu(z / 4) * 4 = relu(z): scale one layer down and its reader up
        lins[0].weight.mul_(0.25)
        lins[0].bias.mul_(0.25)
        lins[1].weight.mul_(4.0)
    assert prove(relu, spec, method=method).proved


def test_float32_rounding_noted():
    """The proof is about exact arithmetic; a module whose float32 sums round gets a note."""
    lin = nn.Linear(2, 1)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[2.0**24, 1.0]]))
        lin.bias.fill_(-(2.0**24))
    net = nn.Sequential(lin, Step())  # [2^24 a + b - 2^24 > 0] = a & b, exactly
    report = prove(net, "y = a & b")
    assert report.proved
    assert any("may round partial sums" in n and "'0' row 0" in n for n in report.notes), report.notes
    assert prove(net.double(), "y = a & b").notes == ()


def test_unsupported_module_refused():
    class Sig(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.l = nn.Linear(2, 1)

        def forward(self, x):
            return torch.sigmoid(self.l(x))

    m = Sig()
    with torch.no_grad():
        m.l.weight.fill_(1.0)
        m.l.bias.fill_(-1.0)
    with pytest.raises(ValueError, match="unsupported operation"):
        prove(m, "y = a & b")
    with pytest.raises(ValueError, match="module reads 2 inputs, spec has 3"):
        prove(threshnet.compile(HALF_ADDER), "c1 = a0 & b0; c0 = a0 ^ z")


def _nest(depth: int, wrap, leaf: Expr) -> Expr:
    """``wrap(wrap(...wrap(leaf)))``, ``depth`` deep, built without recursion."""
    for _ in range(depth):
        leaf = wrap(leaf)
    return leaf


def test_deep_spec():
    """A spec nested 50,000 deep is encoded without recursion."""
    # The specs are built as trees, each equal to what parse gives for the text in its comment: parsing
    # text this deep took most of this test's time and is tested on its own (tests/test_scale.py::
    # test_nested_nots_50k_deep, test_nested_parentheses_50k_deep, test_nested_mixed_operators_50k_deep).
    lin = nn.Linear(1, 1)
    with torch.no_grad():
        lin.weight.fill_(1.0)
        lin.bias.zero_()
    deep = Spec(("a",), ("y",), (Assign("y", _nest(50_000, Not, Name("a"))),))  # y = ~~ ... ~a
    assert prove(nn.Sequential(lin), deep).proved
    lin2 = nn.Linear(2, 1)
    with torch.no_grad():
        lin2.weight.copy_(torch.tensor([[1.0, 0.0]]))
        lin2.bias.zero_()
    # y = (a & (a & ... (a & b)...)) | a, 20,000 ANDs deep: = a
    deep_or = Spec(("a", "b"), ("y",), (Assign("y", BinOp(OR, _nest(20_000, lambda e: BinOp(AND, Name("a"), e),
                                                                     Name("b")), Name("a"))),))
    assert prove(nn.Sequential(lin2), deep_or, method="monolithic").proved
    # y = (b ^ (b ^ ... (b ^ a)...)), 20,001 XORs deep: = a ^ b
    deep_xor = Spec(("a", "b"), ("y",), (Assign("y", _nest(20_001, lambda e: BinOp(XOR, Name("b"), e), Name("a"))),))
    assert prove(nn.Sequential(lin2), deep_xor, simulate=False).counterexample["b"] == 1


def test_bad_method():
    with pytest.raises(ValueError, match="method must be one of"):
        prove(threshnet.compile(HALF_ADDER), HALF_ADDER, method="fast")


# --- the encoding itself -------------------------------------------------------------------------


def test_threshold_literal_is_exact():
    """Every assignment of the fanins forces the threshold literal to its true value."""
    rng = random.Random(7)
    for _ in range(60):
        p = P._Problem(P.SOLVER, 1, None)
        try:
            n = rng.randint(1, 5)
            xs = [p.new_var() for _ in range(n)]
            for x in xs:
                p.sim[x] = np.zeros(1, dtype=bool)
            big = rng.random() < 0.4
            coefs = {x: rng.choice([-1, 1]) * rng.randint(1, 200 if big else 4) for x in xs}
            t = rng.randint(-sum(abs(c) for c in coefs.values()), sum(abs(c) for c in coefs.values()))
            lit = p.threshold(coefs, t)
            for bits in itertools.product([0, 1], repeat=n):
                truth = sum(c * b for c, b in zip(coefs.values(), bits)) >= t
                assume = [x if b else -x for x, b in zip(xs, bits)]
                assert p.solve(assume + [lit]) is truth
                assert p.solve(assume + [-lit]) is (not truth)
        finally:
            p.close()


def _truth_table_spec(module: nn.Module, n: int) -> str:
    names = [f"x{i}" for i in range(n)]
    rows = list(itertools.product([0, 1], repeat=n))
    with torch.no_grad():
        y = module(torch.tensor(rows, dtype=torch.float64))
    lines = [f"input {', '.join(names)}", f"output {', '.join(f'y{j}' for j in range(y.shape[1]))}"]
    for j in range(y.shape[1]):
        terms = ["(" + " & ".join(nm if b else "~" + nm for nm, b in zip(names, row)) + ")"
                 for r, row in enumerate(rows) if y[r, j] == 1]
        lines.append(f"y{j} = " + (" | ".join(terms) if terms else "0"))
    return "\n".join(lines)


def _random_net(rng: random.Random, n: int, m: int, big: bool) -> nn.Sequential:
    layers: list[nn.Module] = []
    w = n
    for _ in range(rng.randint(1, 3)):
        h = rng.randint(1, 4)
        lin = nn.Linear(w, h).double()
        scale = 40 if big else 3
        with torch.no_grad():
            lin.weight.copy_(torch.tensor([[rng.randint(-scale, scale) / rng.choice([1, 1, 2, 4]) for _ in range(w)]
                                           for _ in range(h)]))
            lin.bias.copy_(torch.tensor([rng.randint(-scale, scale) / rng.choice([1, 2, 4]) for _ in range(h)]))
        layers += [lin, rng.choice([nn.ReLU(), Step(), nn.ReLU()])]
        w = h
    lin = nn.Linear(w, m).double()
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[rng.randint(-3, 3) / rng.choice([1, 2]) for _ in range(w)] for _ in range(m)]))
        lin.bias.copy_(torch.tensor([rng.randint(-3, 3) / rng.choice([1, 2, 4]) for _ in range(m)]))
    layers.append(lin)
    layers.append(rng.choice([Step(), nn.ReLU(), nn.Identity()]))
    return nn.Sequential(*layers)


def test_random_networks_agree_with_exhaustive_check(monkeypatch):
    """Random small networks (unary and binary ReLU encodings, any final layer) against check()."""
    rng = random.Random(1)
    verdicts = set()
    for it in range(120):
        monkeypatch.setattr(importlib.import_module("threshnet.prove.encode"), "UNARY_LIMIT", rng.choice([64, 2, 0]))
        n, m = rng.randint(1, 4), rng.randint(1, 2)
        net = _random_net(rng, n, m, big=rng.random() < 0.5)
        text = _truth_table_spec(net, n)
        if rng.random() < 0.3:  # an unrelated spec instead of the net's own truth table
            names = [f"x{i}" for i in range(n)]
            text = "\n".join([f"input {', '.join(names)}", f"output {', '.join(f'y{j}' for j in range(m))}"]
                             + [f"y{j} = " + " ^ ".join(rng.sample(names, rng.randint(1, n))) for j in range(m)])
        truth = threshnet.check(net, text).ok
        for method in ("monolithic", "nodes"):
            report = prove(net, text, method=method, simulate=False)
            assert report.proved == truth, (it, method, str(report), text, net)
            if not truth:
                confirm(net, text, report)
            verdicts.add(report.status)
    assert verdicts == {"proved", "refuted"}


# --- property: compiled networks are proved ------------------------------------------------------


try:
    from threshnet.testing import specs as _specs

    SPECS = _specs(max_inputs=6, max_gates=20, max_assignments=8)
except ImportError:  # pragma: no cover - a tree without threshnet.testing
    _names = ["a", "b", "c", "d", "e"]

    def _expr(depth: int) -> st.SearchStrategy[str]:
        leaf = st.sampled_from(_names + ["0", "1"])
        if depth == 0:
            return leaf
        sub = _expr(depth - 1)
        return st.one_of(leaf, sub.map(lambda e: f"~({e})"),
                         st.tuples(sub, st.sampled_from("&|^"), sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})"))

    SPECS = st.lists(_expr(3), min_size=1, max_size=3).map(
        lambda es: threshnet.parse("input a, b, c, d, e\n" + "\n".join(f"y{i} = {e}" for i, e in enumerate(es))))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=SPECS, mode=st.sampled_from(MODES), method=st.sampled_from(["monolithic", "nodes"]))
def test_compiled_specs_are_proved(spec, mode, method):
    activation, output_step = mode
    net = threshnet.compile(spec, activation, output_step=output_step)
    report = prove(net, spec, method=method)
    assert report.proved, str(report)


# --- ISCAS-85 ------------------------------------------------------------------------------------


def _read():
    try:
        from threshnet.frontends import read
    except ImportError:  # pragma: no cover
        pytest.skip("threshnet.frontends (the .bench reader) is not available")
    return read


@pytest.mark.parametrize("circuit", ["c432", "c499", "c880", "c1355", "c1908"])
@pytest.mark.parametrize("activation", ["step", "relu"])
def test_iscas_proved(circuit, activation):
    spec = _read()(ISCAS / f"{circuit}.bench")
    net = threshnet.compile(spec, activation)
    report = prove(net, spec, timeout=60)  # the budget: a minute each
    assert report.proved, str(report)


def test_iscas_sparse_layout_proved():
    spec = _read()(ISCAS / "c499.bench")
    net = threshnet.compile(spec, "relu", layout="sparse")
    assert net.layout == "sparse"
    assert prove(net, spec, method="nodes").proved


def test_c6288_node_by_node_and_timeout(monkeypatch):
    """The 16x16 multiplier: hopeless as one miter, seconds node by node; "auto" falls back to nodes."""
    spec = _read()(ISCAS / "c6288.bench")
    net = threshnet.compile(spec, "step")
    report = prove(net, spec, method="monolithic", timeout=1.0)
    assert report.status == "timeout" and not report.proved
    assert str(report).startswith("timeout after ")
    # auto's monolithic budget cut to a second (from 3): the slow proofs elsewhere ask for "nodes" at once,
    # so this is where auto's fallback is tested.
    monkeypatch.setattr(importlib.import_module("threshnet.prove.driver"), "AUTO_MONOLITHIC_SECONDS", 1.0)
    report = prove(net, spec, timeout=120)
    assert report.proved, str(report)
    assert report.method == "nodes" and report.merged > 500  # most of its ~965 gates
    assert any(n.startswith("monolithic miter gave up after ") for n in report.notes), report.notes


@pytest.mark.parametrize("activation", ["step", "relu"])
def test_rare_signal_merged_on_a_cut_without_sat(activation):
    """An AND of 12 parities is 1 on one input in 4,096, so its signature is all zeros, like FALSE's and
    like every long prefix of the spec's AND chain.  It is merged with the spec's output on the cut of
    the 12 parities: the expansion reaches that common cut (the variables reached from one side are
    expanded first), and a constant signature never costs a SAT call."""
    text = "y = " + " & ".join(f"(x{2 * i} ^ x{2 * i + 1})" for i in range(12)) + "\n"
    report = prove(threshnet.compile(text, activation), text, method="nodes")
    assert report.proved and report.sat_calls == 0 and report.merged == 13, str(report)
    wrong = threshnet.compile(text.replace("(x22 ^ x23)", "(x22 | x23)"), activation)
    report = prove(wrong, text, method="nodes", simulate=False)
    assert report.status == "refuted" and report.counterexample is not None


def test_local_equal_passes_marks_through_expanded_variables():
    """b = (s ^ t) ^ t is s.  Expanding b reaches u = i1 & i2 again through t after u was expanded
    from s's side; u's reads must then count as reached from both sides, or the common cut
    {i1, i2, i3} is never tried (found by review: the first version returned None here)."""
    import numpy as np

    from threshnet.prove.encode import _Problem

    p = _Problem("cadical195", 8, None)
    rows = np.arange(8)
    i1, i2, i3 = (p.new_var() for _ in range(3))
    for j, v in enumerate((i1, i2, i3)):
        p.free.add(v)
        p.sim[v] = ((rows >> j) & 1).astype(bool)
    u = p.and_(i1, i2)
    s = p.and_(u, i3)
    t = p.xor_(u, i1)
    b = p.xor_(p.xor_(s, t), t)
    try:
        assert b != s and p.local_equal(s, b) is True
        assert p.local_equal(s, p.xor_(s, t)) is False  # differ on a cut of free inputs
    finally:
        p.close()


@pytest.mark.parametrize("n_inputs,run_elements", [(3, 7), (17, 40), (1001, 1 << 20)])
def test_patterns_are_one_stream(monkeypatch, n_inputs, run_elements):
    """The simulation rows, drawn in slices, are the rows of one draw (the documented outputs depend on them)."""
    from threshnet.compiler.spec import Spec
    from threshnet.prove import driver

    monkeypatch.setattr(driver, "RUN_ELEMENTS", run_elements)
    spec = Spec(tuple(f"x{i}" for i in range(n_inputs)), (), ())
    want = np.random.default_rng(0).integers(0, 2, size=(999, n_inputs)).astype(np.uint8)
    want[0], want[1] = 0, 1
    got = driver._patterns(spec, 999)
    assert got.dtype == np.uint8 and np.array_equal(got, want)


@settings(max_examples=300, deadline=None)
@given(st.integers(-40, 40), st.dictionaries(st.integers(1, 6), st.integers(-12, 12), max_size=5),
       st.sampled_from([1, 2, 4, 6]), st.integers(-80, 80), st.integers(0, 80), st.integers(0, 400))
def test_reduced_bounds_in_integers_equal_the_fraction_form(const, coefs, den, lo, width, mag):
    """The encoder's integer path for a row's bounds (numerators over ``den``) gives the values its
    Fraction path gives: the same reduced form, bounds and partial-sum size."""
    from fractions import Fraction

    from threshnet.prove.encode import _Network

    want = _Network._reduced(const, dict(coefs), den, Fraction(lo, den), Fraction(lo + width, den), Fraction(mag, den))
    got = _Network._reduced_scaled(const, dict(coefs), den, lo, lo + width, mag)
    assert got == want
    assert all(type(b) is int or b.denominator > 1 for b in got[1:3])
