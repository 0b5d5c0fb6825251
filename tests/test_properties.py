"""Property-based tests: every stage of the compiler against the reference evaluator.

Specs come from :mod:`threshnet.testing` (random structures rendered to text
and parsed).  The oracle is always ``threshnet.evaluate_batch``, and the
strategy's own plain evaluator judges the parser and the evaluator.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import os
import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import threshnet
from threshnet import SpecError, parse, render
from threshnet.compiler.compiling import compile_stages
from threshnet.compiler.keys import (
    BOOL_MAP, DEPTH, INPUTS, KIND, KIND_INPUT, LAYER, NEG, OP, OP_AND, OP_CONST, OP_INPUT, OP_OR, OP_XOR,
    OUTPUTS, THRESHOLD, WEIGHT,
)
from threshnet.compiler.errors import SHOWN_LINE_LIMIT
from threshnet.compiler.lower import dump_bool, lower
from threshnet.compiler.mapping import OP_THRESHOLD, map_threshold
from threshnet.compiler.runtime import GatherLayer
from threshnet.compiler.threshold import dump_threshold, gate_value, threshold
from threshnet.network import Step
from threshnet.prove import available as prover_available
from threshnet.testing import assert_equivalent, inputs_for, spec_cases, spec_texts, specs
from conftest import needs_prover

ROOT = Path(__file__).resolve().parent.parent

# A spec with no inputs compiles to Linear layers with zero input columns; torch warns on their init.
pytestmark = pytest.mark.filterwarnings("ignore:Initializing zero-element tensors is a no-op:UserWarning")

#: (activation, output_step) for every kind of network compile can build.
MODES = [("step", True), ("relu", True), ("relu", False)]
MODE_IDS = ["step", "relu", "relu-no-output-step"]


def all_rows(n: int) -> np.ndarray:
    """Every 0/1 row over n inputs, first input most significant."""
    return np.array(list(itertools.product((0, 1), repeat=n)), dtype=np.uint8).reshape(1 << n, n)


def _dead_mapped_gates(spec) -> list[int]:
    """Gates of the threshold-mapped graph that reach no output."""
    g = map_threshold(lower(spec if isinstance(spec, threshnet.Spec) else parse(spec)))
    live = set()
    for _, v, _ in g.graph[OUTPUTS]:
        live |= nx.ancestors(g, v) | {v}
    return [v for v in g.nodes if g.nodes[v][OP] != OP_INPUT and v not in live]


@functools.lru_cache(maxsize=64)
def _guard(spec) -> None:
    """Fail fast where the mapping leaves dead gates: layering then raises or never ends (see
    test_mapping_leaves_no_dead_logic).

    Once per spec (a text, or a Spec by identity; the mapping is deterministic): tests that compile one
    spec several times (test_compile_is_deterministic, test_threshold_graphs_equal_evaluator) map it here
    once.  A failure is not cached, so it raises again."""
    dead = _dead_mapped_gates(spec)
    assert not dead, f"map_threshold left dead gates {dead}; compiling would hang or raise NetworkXUnbounded"


def compile_net(spec, *args, **kwargs):
    _guard(spec)
    return threshnet.compile(spec, *args, **kwargs)


def stages(spec, *args, **kwargs):
    _guard(spec)
    return compile_stages(spec, *args, **kwargs)


# --- compiled networks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("activation", "output_step"), MODES, ids=MODE_IDS)
@given(spec=specs(), layout=st.sampled_from(["mlp", "sparse"]))
def test_network_equals_evaluator(spec, layout, activation, output_step):
    net = compile_net(spec, activation, output_step=output_step, layout=layout)
    assert net.input_names == spec.inputs and net.output_names == spec.outputs
    assert_equivalent(net, spec)


def _affine_layers(net: nn.Module) -> list[tuple[torch.Tensor, torch.Tensor, str | None]]:
    """(weights, biases, activation after them) for every Linear / GatherLayer bucket."""
    mods = list(net.layers)
    out = []
    for i, m in enumerate(mods):
        if isinstance(m, nn.Linear):
            nxt = mods[i + 1] if i + 1 < len(mods) else None
            act = "step" if isinstance(nxt, Step) else "relu" if isinstance(nxt, nn.ReLU) else None
            out.append((m.weight.detach(), m.bias.detach(), act))
        elif isinstance(m, GatherLayer):
            act = None if m.final else "step" if isinstance(m.act, Step) else "relu"
            out += [(w.detach(), b.detach(), act) for w, b in zip(m.weights, m.biases)]
    return out


@pytest.mark.parametrize(("activation", "output_step"), MODES, ids=MODE_IDS)
@given(data=st.data(), layout=st.sampled_from(["mlp", "sparse"]))
def test_outputs_exact_weights_integral_margins(data, layout, activation, output_step):
    spec = data.draw(specs(), label="spec")
    net = compile_net(spec, activation, output_step=output_step, layout=layout)
    rows = data.draw(inputs_for(spec, as_array=True), label="rows")
    with torch.no_grad():
        got = net(torch.as_tensor(rows, dtype=torch.float32))
    assert got.dtype == torch.float32 and got.shape == (len(rows), spec.n_outputs)
    assert bool(((got == 0.0) | (got == 1.0)).all())
    np.testing.assert_array_equal(got.numpy(), threshnet.evaluate_batch(spec, rows))

    layers = _affine_layers(net)
    assert layers
    has_step = False
    for w, b, act in layers:
        w64, b64 = w.double(), b.double()
        assert bool((w64 == torch.round(w64)).all()), f"non-integer weight in {w}"
        if act == "step":  # [z >= 0] with integer z is step(z + 0.5): a margin of 0.5
            has_step = True
            assert bool((b64 - 0.5 == torch.round(b64 - 0.5)).all()), f"bias before a step not half-integer: {b}"
        else:
            assert bool((b64 == torch.round(b64)).all()), f"non-integer bias before {act}: {b}"
    margin = net.stats().min_margin
    if has_step:
        assert margin is not None and margin >= 0.5
    else:
        assert margin is None
    if layout == "mlp":  # Linear, activation, ..., Linear[, Step]
        mods = list(net.layers)
        assert all(isinstance(m, (nn.Linear, nn.ReLU, Step)) for m in mods)
        acts = [type(m) for m in mods if not isinstance(m, nn.Linear)]
        hidden = Step if activation == "step" else nn.ReLU
        if output_step:
            assert acts[:-1] == [hidden] * (len(acts) - 1) and acts[-1] is Step
        else:
            # Ends in a combining Linear, or in the ReLU layer that already holds the outputs.
            assert acts == [hidden] * len(acts)
            assert isinstance(mods[-1], nn.Linear) or isinstance(mods[-2], nn.Linear)


@given(text=spec_texts(), mode=st.sampled_from(MODES), layout=st.sampled_from(["mlp", "sparse"]))
def test_compile_is_deterministic(text, mode, layout):
    activation, output_step = mode
    a = compile_net(text, activation, output_step=output_step, layout=layout)
    b = compile_net(text, activation, output_step=output_step, layout=layout)
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for k in sa:
        assert sa[k].dtype == sb[k].dtype and sa[k].shape == sb[k].shape, k
        assert sa[k].numpy().tobytes() == sb[k].numpy().tobytes(), k
    assert (a.input_names, a.output_names, a.neuron_names) == (b.input_names, b.output_names, b.neuron_names)
    ca, cb = stages(text, layout=layout), stages(text, layout=layout)
    assert dump_bool(ca.bool_graph) == dump_bool(cb.bool_graph)
    assert dump_threshold(ca.threshold_graph) == dump_threshold(cb.threshold_graph)
    assert ca.plans == cb.plans


def _network_digest() -> str:
    """A hash of the networks compiled from the examples and a fixed sample of drawn specs."""
    texts = [p.read_text() for p in sorted((ROOT / "examples").glob("*.bool"))]

    @settings(max_examples=8, derandomize=True, database=None, deadline=None)
    @given(spec_texts(max_inputs=8, max_gates=40))
    def collect(t):
        texts.append(t)

    collect()
    h = hashlib.sha256()
    for t in texts:
        for layout in ("mlp", "sparse"):
            net = compile_net(t, layout=layout)
            h.update(repr((net.input_names, net.output_names, net.neuron_names)).encode())
            for k, v in net.state_dict().items():
                h.update(k.encode() + v.numpy().tobytes())
    return f"{len(texts)} {h.hexdigest()}"


@pytest.mark.slow  # runs subprocesses under several hash seeds
def test_compile_is_deterministic_across_hash_seeds():
    """String hashing differs between processes; the networks must not."""
    code = "import sys; sys.path.insert(0, sys.argv[1]); import test_properties as t; print(t._network_digest())"
    env = dict(os.environ, PYTHONHASHSEED="12345", OMP_NUM_THREADS="1")
    res = subprocess.run([sys.executable, "-c", code, str(ROOT / "tests")], env=env, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    here = _network_digest()
    assert res.stdout.strip() == here
    assert int(here.split()[0]) > 10


@pytest.mark.parametrize("layout", ["mlp", "sparse"])
def test_zero_input_network(layout):
    net = threshnet.compile("y = 1\nz = ~1", layout=layout)
    assert net.input_names == ()
    assert net(torch.zeros(3, 0)).tolist() == [[1.0, 0.0]] * 3
    assert_equivalent(net, net.spec)


#: Found by these properties: the mapping's cover bypasses ``t`` (y is just c), leaving t's gates dead.
DEAD_LOGIC_SPEC = "y = (t | ~(b & t)) & c\nt = (d | e) & (f | g)\n"


@pytest.mark.parametrize("layout", ["mlp", "sparse"])
def test_mapping_leaves_no_dead_logic(layout):
    assert _dead_mapped_gates(DEAD_LOGIC_SPEC) == []
    net = threshnet.compile(DEAD_LOGIC_SPEC, layout=layout)  # raised networkx.NetworkXUnbounded
    assert_equivalent(net, DEAD_LOGIC_SPEC)


# --- parser, renderer, evaluator ---------------------------------------------------------------------------


@given(spec=specs())
def test_render_round_trips(spec):
    text = render(spec)
    again = parse(text)
    assert again == spec
    assert (again.inputs, again.outputs) == (spec.inputs, spec.outputs)
    assert render(again) == text


@given(case=spec_cases())
def test_parse_gives_the_drawn_spec_and_evaluate_agrees(case):
    spec = parse(case.text)
    assert spec == case.expected_spec(), case.text
    assert spec.source == case.text
    rows = all_rows(len(case.inputs)) if len(case.inputs) <= 8 else \
        np.random.default_rng(0).integers(0, 2, size=(256, len(case.inputs)), dtype=np.uint8)
    want = np.array([[case.evaluate(dict(zip(case.inputs, r)))[o] for o in case.outputs] for r in rows.tolist()],
                    dtype=np.uint8).reshape(len(rows), len(case.outputs))
    np.testing.assert_array_equal(threshnet.evaluate_batch(spec, rows), want)
    r = rows[-1].tolist()
    assert threshnet.evaluate(spec, dict(zip(spec.inputs, r))) == case.evaluate(dict(zip(case.inputs, r)))


def _check_error(err: SpecError, text: str, filename: str = "<spec>") -> None:
    assert isinstance(err.line, int) and isinstance(err.column, int)
    assert err.line >= 1 and err.column >= 1
    head = str(err).split("\n")[0]
    assert head == f"{filename}:{err.line}:{err.column}: error: {err.message}"
    lines = text.split("\n")
    assert err.line <= len(lines)
    assert err.column <= len(lines[err.line - 1]) + 1


def _parse_or_spec_error(text: str) -> SpecError | None:
    try:
        parse(text)
    except SpecError as e:
        _check_error(e, text)
        return e
    return None


JUNK = ["+", "-", "$", "é", "\x00", "\\", "{", "@", "'", '"', "∧", "\f", "\r", "\v", "\u2028", "\x85"]
TOKENS = ["a", "b", "c", "_x", "a1", "0", "1", "2", "01", "1a", "(", ")", "~", "!", "&", "|", "^", "=", " ",
          ";", ",", "#", "/", "//", "\n", "\r\n", "\t", "input", "output", "input ", "output ", "y = ", "x ="]
TEXTS = st.one_of(
    st.lists(st.sampled_from(TOKENS + JUNK[:6]), max_size=40).map("".join),
    st.text(alphabet=st.sampled_from(list("abc012()~!&|^=;,#/\n \t") + JUNK), max_size=60),
)


@settings(max_examples=150)
@given(text=TEXTS)
def test_parser_raises_only_spec_error_on_random_text(text):
    _parse_or_spec_error(text)


@settings(max_examples=150)
@given(text=TEXTS)
def test_error_shows_source_line_and_caret(text):
    err = _parse_or_spec_error(text)
    if err is None:
        return
    shown = str(err).split("\n")
    if len(shown) == 1:  # no source line to show (e.g. an empty file)
        return
    source_line = _as_shown(text.split("\n")[err.line - 1].rstrip("\r"))
    caret = shown[2][4:]
    assert set(caret.strip()) <= {"^", "~"}
    if len(source_line) <= SHOWN_LINE_LIMIT:  # longer: a window (tests/test_errors_golden.py)
        assert shown[1] == "    " + source_line
        assert caret.index("^") == err.column - 1


def _as_shown(line: str) -> str:
    """A source line as a diagnostic shows it (docs/language.md#errors): a tab as one space, unprintable as '?'."""
    return "".join(ch if ch.isprintable() else "?" for ch in line.expandtabs(1))


@pytest.mark.parametrize("text", ["a = b\fc\n", "x = 1 # \u2028 c\ny = +\n", "x = 1\ry = 1\nz = (\n",
                                  "x = 1\r\ny = +\r\n"])
def test_error_source_line_with_odd_line_breaks(text):
    """The lexer counts lines by '\\n' alone; the shown line must be that line, not splitlines()'."""
    err = _parse_or_spec_error(text)
    assert err is not None
    assert str(err).split("\n")[1] == "    " + _as_shown(text.split("\n")[err.line - 1].rstrip("\r"))


MUTATION = st.tuples(st.sampled_from(["delete", "insert", "replace"]), st.integers(0, 10**6),
                     st.sampled_from(TOKENS + JUNK))


@settings(max_examples=100)
@given(text=spec_texts(max_inputs=6, max_gates=20), mutations=st.lists(MUTATION, min_size=1, max_size=4))
def test_parser_raises_only_spec_error_on_mutated_specs(text, mutations):
    for kind, pos, s in mutations:
        i = pos % (len(text) + 1)
        if kind == "delete":
            text = text[:i] + text[i + 1:]
        elif kind == "insert":
            text = text[:i] + s + text[i:]
        else:
            text = text[:i] + s + text[i + 1:]
    _parse_or_spec_error(text)


# --- the stages on their own ----------------------------------------------------------------------------


def eval_bool_graph(g: nx.DiGraph, rows: np.ndarray) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Outputs of a boolean-gate graph (lowered or mapped) on ``rows``, and every node's value."""
    val: dict[int, np.ndarray] = {}
    for i, v in enumerate(g.graph[INPUTS]):
        val[v] = rows[:, i].astype(bool)
    for v in nx.topological_sort(g):
        op = g.nodes[v][OP]
        if op == OP_INPUT:
            assert v in val
            continue
        if op == OP_CONST:
            assert g.in_degree(v) == 0
            val[v] = np.zeros(len(rows), dtype=bool)
            continue
        edges = list(g.in_edges(v, data=True))
        ins = [val[u] ^ e[NEG] for u, _, e in edges]
        if op == OP_THRESHOLD:  # the mapping stage's gates: [sum(w * literal) >= t]
            total = np.zeros(len(rows), dtype=np.int64)
            for x, (_, _, e) in zip(ins, edges):
                assert isinstance(e[WEIGHT], int)
                total += e[WEIGHT] * x
            val[v] = total >= g.nodes[v][THRESHOLD]
            continue
        assert len(ins) >= 2, f"{op} gate {v} with {len(ins)} operands"
        if op == OP_AND:
            val[v] = np.logical_and.reduce(ins)
        elif op == OP_OR:
            val[v] = np.logical_or.reduce(ins)
        else:
            assert op == OP_XOR
            val[v] = np.logical_xor.reduce(ins)
    out = [val[v] ^ neg for _, v, neg in g.graph[OUTPUTS]]
    return np.stack(out, axis=1).astype(np.uint8).reshape(len(rows), -1), val


def eval_threshold_graph(g: nx.DiGraph, rows: np.ndarray) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Outputs of a threshold graph on ``rows``, and every node's value (numpy, independent)."""
    val: dict[int, np.ndarray] = {}
    for i, v in enumerate(g.graph[INPUTS]):
        val[v] = rows[:, i].astype(np.int64)
    for v in nx.topological_sort(g):
        if g.nodes[v][KIND] == KIND_INPUT:
            assert v in val
            continue
        t = g.nodes[v][THRESHOLD]
        total = np.zeros(len(rows), dtype=np.int64)
        for u, _, e in g.in_edges(v, data=True):
            assert isinstance(e[WEIGHT], int) and e[WEIGHT] != 0
            total += e[WEIGHT] * val[u]
        assert isinstance(t, int)
        val[v] = (total >= t).astype(np.int64)
    out = [val[v] for _, v in g.graph[OUTPUTS]]
    return np.stack(out, axis=1).astype(np.uint8).reshape(len(rows), -1), val


def gate_value_outputs(g: nx.DiGraph, row: list[int]) -> list[int]:
    """One row through the threshold graph with ``threshold.gate_value``."""
    values = dict(zip(g.graph[INPUTS], row))
    for v in nx.topological_sort(g):
        if g.nodes[v][KIND] != KIND_INPUT:
            values[v] = gate_value(g, v, values)
    return [values[v] for _, v in g.graph[OUTPUTS]]


def _rows_for(spec) -> np.ndarray:
    return all_rows(spec.n_inputs)  # specs() has at most 12 inputs: 4096 rows


@given(spec=specs())
def test_bool_graphs_equal_evaluator(spec):
    """The lowered graph and the threshold-mapped graph, each on every input."""
    c = stages(spec, layout="mlp")
    rows = _rows_for(spec)
    want = threshnet.evaluate_batch(spec, rows)
    for stage, g in (("lower", c.bool_graph), ("mapping", map_threshold(c.bool_graph)),
                     ("compile's mapped graph", c.mapped_graph)):
        got, _ = eval_bool_graph(g, rows)
        np.testing.assert_array_equal(got, want, err_msg=stage)
        assert [o for o, _, _ in g.graph[OUTPUTS]] == list(spec.outputs)
        assert [g.nodes[v]["name"] for v in g.graph[INPUTS]] == list(spec.inputs)
        # Dead logic is dropped: every gate reaches an output.
        live = set()
        for _, v, _ in g.graph[OUTPUTS]:
            live |= nx.ancestors(g, v) | {v}
        assert all(v in live for v in g.nodes if g.nodes[v][OP] != OP_INPUT), stage


@given(data=st.data())
def test_threshold_graphs_equal_evaluator(data):
    spec = data.draw(specs(), label="spec")
    rows = _rows_for(spec)
    want = threshnet.evaluate_batch(spec, rows)
    for layout in ("mlp", "sparse"):
        c = stages(spec, layout=layout)
        _, mapped_val = eval_bool_graph(c.mapped_graph, rows)
        for stage, g, source in (("threshold(lowered)", threshold(c.bool_graph), c.bool_graph),
                                 ("threshold(mapped)", threshold(c.mapped_graph), c.mapped_graph),
                                 (f"layered-{layout}", c.threshold_graph, c.mapped_graph)):
            got, val = eval_threshold_graph(g, rows)
            np.testing.assert_array_equal(got, want, err_msg=stage)
            assert [o for o, _ in g.graph[OUTPUTS]] == list(spec.outputs)
            owned = [v for _, v in g.graph[OUTPUTS]]
            assert len(set(owned)) == len(owned), "each output port owns its gate"
            assert all(g.nodes[v][KIND] != KIND_INPUT for v in owned)
            # The boolean-to-threshold map: where each boolean node's value lives.
            src_val = mapped_val if source is c.mapped_graph else eval_bool_graph(source, rows)[1]
            for bv, tv, neg in g.graph.get(BOOL_MAP, ()):
                if tv in val:
                    np.testing.assert_array_equal(val[tv] ^ neg, src_val[bv].astype(np.int64),
                                                  err_msg=f"{stage}: BOOL_MAP {bv} -> {tv}")
        for row in data.draw(inputs_for(spec, max_rows=8), label="rows"):
            assert gate_value_outputs(c.threshold_graph, row) == \
                [threshnet.evaluate(spec, dict(zip(spec.inputs, row)))[o] for o in spec.outputs]


@given(spec=specs(), layout=st.sampled_from(["mlp", "sparse"]))
def test_layering_is_a_valid_schedule(spec, layout):
    g = stages(spec, layout=layout).threshold_graph
    depth = g.graph[DEPTH]
    assert depth >= 1
    for v in g.nodes:
        layer = g.nodes[v][LAYER]
        if g.nodes[v][KIND] == KIND_INPUT:
            assert layer == 0
        else:
            assert 1 <= layer <= depth
    for u, v in g.edges:
        assert g.nodes[u][LAYER] < g.nodes[v][LAYER]
    assert max(g.nodes[v][LAYER] for _, v in g.graph[OUTPUTS]) == depth


# --- threshnet.testing itself ----------------------------------------------------------------------------


def test_assert_equivalent_reports_counterexample():
    good = threshnet.compile("s = a ^ b\nc = a & b")
    assert assert_equivalent(good, "s = a ^ b\nc = a & b").ok
    with pytest.raises(AssertionError) as info:
        assert_equivalent(good, "s = a | b\nc = a & b")
    msg = str(info.value)
    assert "MISMATCH after 4 inputs (all)" in msg
    assert "input:    a=1 b=1" in msg and "expected: s=1 c=1" in msg and "got:      s=0 c=1" in msg
    report = assert_equivalent(good, good.spec, method="random", samples=50)
    assert not report.exhaustive and report.tried == 50 + 2 + 2 * 2
    with pytest.raises(ValueError, match="method"):
        assert_equivalent(good, good.spec, method="magic")


@needs_prover
def test_assert_equivalent_proves():
    good = threshnet.compile("s = a ^ b\nc = a & b")
    proof = assert_equivalent(good, good.spec, method="prove")
    assert proof.proved and proof.solver.startswith("cadical")
    with pytest.raises(AssertionError) as info:
        assert_equivalent(good, "s = a | b\nc = a & b", method="prove")
    msg = str(info.value)
    assert "REFUTED" in msg and "input:    a=1 b=1" in msg and "got:      s=0 c=1" in msg


def test_assert_equivalent_samples_wide_specs():
    text = "y = " + " ^ ".join(f"x{i}" for i in range(24))
    net = threshnet.compile(text)
    report = assert_equivalent(net, text, samples=500)  # beyond 20 inputs: proved, else sampled
    assert report.proved if prover_available() else not report.exhaustive
    report = assert_equivalent(net, text, method="random", samples=500)
    assert not report.exhaustive and report.tried >= 500
    with pytest.raises(ValueError, match="at most 20"):
        assert_equivalent(net, text, method="exhaustive")
    wrong = threshnet.compile("y = " + " ^ ".join(f"x{i}" for i in range(23)) + " | x23")
    with pytest.raises(AssertionError, match="sampled"):
        assert_equivalent(wrong, text, method="random", samples=500)
    with pytest.raises(AssertionError, match="REFUTED" if prover_available() else "sampled"):
        assert_equivalent(wrong, text)


@given(spec=specs(max_inputs=5, max_gates=10), data=st.data())
def test_inputs_for_shapes(spec, data):
    rows = data.draw(inputs_for(spec, max_rows=5))
    assert 1 <= len(rows) <= 5 and all(len(r) == spec.n_inputs and set(r) <= {0, 1} for r in rows)
    arr = data.draw(inputs_for(render(spec), min_rows=0, max_rows=3, as_array=True))
    assert arr.dtype == np.uint8 and arr.ndim == 2 and arr.shape[1] == spec.n_inputs and len(arr) <= 3


@settings(max_examples=60)
@given(case=spec_cases(max_inputs=5, max_gates=30, max_assignments=8))
def test_strategy_covers_the_language(case):
    """The strategy's promises: outputs exist, no input is assigned, no loops (the parse succeeds)."""
    assert case.outputs
    targets = [t for t, _ in case.assignments]
    assert len(set(targets)) == len(targets) and not set(targets) & set(case.inputs)
    parse(case.text)


def test_strategy_reaches_every_feature():
    """Over a fixed sample, every operator, constant, port style and sharing pattern shows up."""
    seen: set[str] = set()

    @settings(max_examples=80, derandomize=True, database=None)
    @given(case=spec_cases())
    def collect(case):
        text = case.text
        for sym, tag in (("&", "and"), ("^", "xor"), ("|", "or"), ("~", "tilde"), ("!", "bang"), (";", "semi")):
            if sym in text:
                seen.add(tag)
        lines = [l.strip() for l in text.replace(";", "\n").split("\n")]
        seen.add("declared-in" if any(l.startswith("input ") for l in lines) else "inferred-in")
        seen.add("declared-out" if any(l.startswith("output ") for l in lines) else "inferred-out")
        spec = parse(text)
        if any(isinstance(n, threshnet.compiler.spec.Const) for a in spec.assignments
               for n in threshnet.compiler.spec.postorder(a.expr)):
            seen.add("const")
        reads: dict[str, int] = {}
        for a in spec.assignments:
            for n in {n.id for n in threshnet.compiler.spec.names_read(a.expr)}:
                reads[n] = reads.get(n, 0) + 1
        targets = [a.target for a in spec.assignments]
        if any(reads.get(t, 0) >= 2 for t in targets):
            seen.add("shared")
        order = {t: i for i, t in enumerate(targets)}
        if any(order.get(n.id, -1) > i for i, a in enumerate(spec.assignments)
               for n in threshnet.compiler.spec.names_read(a.expr)):
            seen.add("out-of-order")

    collect()
    want = {"and", "xor", "or", "tilde", "bang", "semi", "declared-in", "inferred-in", "declared-out",
            "inferred-out", "const", "shared", "out-of-order"}
    assert want <= seen, want - seen
