"""The threshold mapping stage on its own: exact on every input row, given threshold gates kept."""

from __future__ import annotations

import itertools
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import threshnet
from threshnet.compiler.ir import verify
from threshnet.compiler.keys import (
    INPUTS, NAME, NEG, OP, OP_AND, OP_CONST, OP_INPUT, OP_OR, OP_THRESHOLD, OP_XOR, OUTPUTS, THRESHOLD, WEIGHT,
)
from threshnet.compiler.mapping import MAX_RUNGS, map_threshold
from threshnet.frontends import read, read_text, verilog

from test_properties import eval_bool_graph
from conftest import require_prover


def evaluate(g: nx.DiGraph, rows: np.ndarray) -> np.ndarray:
    """Outputs of a boolean or mapped graph on 0/1 ``rows`` (one column per input port)."""
    return eval_bool_graph(g, rows)[0]


def all_rows(n: int) -> np.ndarray:
    return np.array(list(itertools.product((0, 1), repeat=n)), dtype=np.uint8).reshape(1 << n, n)


def threshold_nodes(g: nx.DiGraph) -> dict[int, tuple[tuple[tuple[int, bool, int], ...], int]]:
    """node -> (sorted (fanin, neg, weight) triples, threshold) of every OP_THRESHOLD node."""
    return {v: (tuple(sorted((u, e[NEG], e[WEIGHT]) for u, _, e in g.in_edges(v, data=True))), d[THRESHOLD])
            for v, d in g.nodes(data=True) if d[OP] == OP_THRESHOLD}


def build(n_inputs: int, gates: list[tuple], outputs: list[tuple[int, bool]]) -> nx.DiGraph:
    """A graph from ``(op, [(fanin, neg, weight)], threshold)`` gates numbered after the inputs."""
    g = nx.DiGraph()
    for i in range(n_inputs):
        g.add_node(i, **{OP: OP_INPUT, NAME: f"x{i}"})
    for j, (op, fanins, t) in enumerate(gates):
        v = n_inputs + j
        g.add_node(v, **{OP: op, NAME: None, **({THRESHOLD: t} if op == OP_THRESHOLD else {})})
        for u, neg, w in fanins:
            g.add_edge(u, v, **{NEG: neg, **({WEIGHT: w} if op == OP_THRESHOLD else {})})
    g.graph[INPUTS] = tuple(range(n_inputs))
    g.graph[OUTPUTS] = tuple((f"y{k}", v, neg) for k, (v, neg) in enumerate(outputs))
    return g


def assert_mapped_exact(g: nx.DiGraph) -> nx.DiGraph:
    m = map_threshold(g)
    verify(m, "mapped")
    rows = all_rows(len(g.graph[INPUTS]))
    assert (evaluate(m, rows) == evaluate(g, rows)).all()
    return m


def test_given_threshold_gates_with_large_weights():
    # 5: [300 x0 + 500 x1 - 200 ~x2 >= 301], small fanin: its cut table comes from the weights.
    # 6: AND(5, ~x3).  7: [1000 (x0 + x1 + x2 + x3 + x4 + x5) - 1 x6 >= 3000], too wide for a cut: kept.
    g = build(7, [
        (OP_THRESHOLD, [(0, False, 300), (1, False, 500), (2, True, -200)], 301),
        (OP_AND, [(7, False, 0), (3, True, 0)], None),
        (OP_THRESHOLD, [(i, False, 1000) for i in range(6)] + [(6, False, -1)], 3000),
        (OP_OR, [(8, False, 0), (9, True, 0)], None),
    ], [(8, False), (9, True), (10, False)])
    m = assert_mapped_exact(g)
    wide = threshold_nodes(g)[9]
    assert threshold_nodes(m)[9] == wide  # the wide given gate is untouched


@st.composite
def mixed_graphs(draw):
    """Random graphs of AND/OR/XOR gates and threshold gates with weights up to +-1000."""
    n = draw(st.integers(2, 7))
    gates = []
    for j in range(draw(st.integers(1, 12))):
        avail = n + j
        op = draw(st.sampled_from([OP_AND, OP_OR, OP_XOR, OP_THRESHOLD, OP_THRESHOLD]))
        k = draw(st.integers(1 if op == OP_THRESHOLD else 2, min(avail, 8 if op != OP_XOR else 4)))
        fanins = draw(st.lists(st.integers(0, avail - 1), min_size=k, max_size=k, unique=True))
        trip = [(u, draw(st.booleans()), draw(st.integers(-1000, 1000).filter(bool))) for u in fanins]
        t = draw(st.integers(-2000, 2000)) if op == OP_THRESHOLD else None
        gates.append((op, trip, t))
    total = n + len(gates)
    # Every gate is read by a later gate or an output, so nothing is dead.
    read = {u for _, f, _ in gates for u, _, _ in f}
    outs = [(v, draw(st.booleans())) for v in range(n, total) if v not in read]
    return build(n, gates, outs)


@settings(max_examples=60)
@given(mixed_graphs())
def test_mapping_keeps_the_function_of_mixed_graphs(g):
    assert_mapped_exact(g)


def test_plain_majority_and_full_adder():
    # carry = ab | ac | bc as gates becomes one threshold gate
    g = build(3, [
        (OP_AND, [(0, False, 0), (1, False, 0)], None),
        (OP_AND, [(0, False, 0), (2, False, 0)], None),
        (OP_AND, [(1, False, 0), (2, False, 0)], None),
        (OP_OR, [(3, False, 0), (4, False, 0), (5, False, 0)], None),
    ], [(6, False)])
    m = assert_mapped_exact(g)
    assert sum(1 for v in m.nodes if m.nodes[v][OP] != OP_INPUT) == 1


# --- large-support functions: symmetric cones become one gate or a counter layer ---------------------

CIRCUITS = Path(__file__).resolve().parent.parent / "benchmarks" / "circuits"


def adder_tree_majority(n: int) -> threshnet.Spec:
    """``[x0 + ... + x(n-1) > n/2]`` written as gates: a ripple count of the inputs and a comparison."""
    width = n.bit_length()
    lines = [f"input {', '.join(f'x{i}' for i in range(n))}", "output y"]
    count = ["0"] * width  # the running count, bit 0 first
    for i in range(n):
        carry = f"x{i}"
        nxt = []
        for b in range(width):
            lines.append(f"s{i}_{b} = {count[b]} ^ {carry}")
            lines.append(f"c{i}_{b} = {count[b]} & {carry}")
            nxt.append(f"s{i}_{b}")
            carry = f"c{i}_{b}"
        count = nxt
    # y = count >= k, compared bit by bit from the top: ge_b = count[b..] >= k[b..]
    k = n // 2 + 1
    ge = "1"
    for b in range(width):
        kb = (k >> b) & 1
        lines.append(f"ge{b} = " + (f"{count[b]} & {ge}" if kb else f"{count[b]} | {ge}"))
        ge = f"ge{b}"
    lines.append(f"y = {ge}")
    return threshnet.parse("\n".join(lines) + "\n")


def checked_step_stats(spec, **kw):
    """The stats of ``spec``'s sparse step network, after checking it against ``spec`` (exhaustive at
    these sizes)."""
    net = threshnet.compile(spec, "step", layout="sparse", **kw)
    assert threshnet.check(net, spec).ok
    return net.stats()


def test_majority_written_as_gates_is_one_neuron():
    stats = checked_step_stats(adder_tree_majority(13))  # exhaustive: 13 inputs
    assert sum(stats.neurons) == 1 and stats.layers == 1


def test_9symml_is_a_counter_layer():
    """LGSynth91 9symml: 1 iff 3 to 6 of the 9 inputs are 1: rungs [c >= 3], [c >= 7], then h3 - h7."""
    stats = checked_step_stats(read(CIRCUITS / "lgsynth91" / "blif" / "9symml.blif"))
    assert sum(stats.neurons) == 3 and stats.layers == 2


def ripple_comparator(n: int) -> threshnet.Spec:
    """``lt = a < b`` for n-bit words, as gates: from the LSB, lt_i = ~a_i & b_i | ~(a_i ^ b_i) & lt_(i-1)."""
    names = ", ".join(f"a{i}, b{i}" for i in range(n))
    lines = [f"input {names}", "output lt", "l0 = ~a0 & b0"]
    for i in range(1, n):
        lines.append(f"l{i} = ~a{i} & b{i} | ~(a{i} ^ b{i}) & l{i - 1}")
    lines.append(f"lt = l{n - 1}")
    return threshnet.parse("\n".join(lines) + "\n")


def test_gate_level_comparator_is_one_neuron():
    """16 inputs, beyond any 6-leaf cut: the cone is unate and one gate [sum 2^i (b_i - a_i) >= 1]."""
    spec = ripple_comparator(8)
    stats = checked_step_stats(spec)  # exhaustive: 16 inputs
    assert sum(stats.neurons) == 1 and stats.layers == 1
    # bfloat16 cannot hold weights up to 128: the mapper keeps the cone within the dtype instead of refusing
    assert checked_step_stats(spec, dtype="bfloat16").layers > 1


def test_wide_gates_that_do_not_fit_are_left_out_not_refused(monkeypatch):
    """When the mapping's wide gates make the network inexact in the dtype, compile maps again without
    them (build.compile_and_build) instead of refusing; compile_stages + build alone refuses."""
    from threshnet.build import NotExact, build
    from threshnet.compiler import compiling

    monkeypatch.setattr(compiling, "cone_limit", lambda dtype, activation="step": 1 << 30)
    spec = ripple_comparator(8)
    with pytest.raises(NotExact, match="not exact in bfloat16"):
        build(compiling.compile_stages(spec, "relu", dtype="bfloat16"), "bfloat16")
    net = threshnet.compile(spec, "relu", dtype="bfloat16")
    assert net.stats().layers > 1 and threshnet.check(net, spec).ok


def test_threshold_cones_are_sound_on_random_unate_functions():
    """Random AND/OR trees over 7..9 literals (unate, mostly not threshold): whatever the cone search
    offers, the compiled network equals the spec on every input."""
    rng = np.random.default_rng(5)
    for _ in range(12):
        n = int(rng.integers(7, 10))
        terms = [f"{'~' if rng.random() < 0.3 else ''}x{j}" for j in range(n)]
        while len(terms) > 1:
            i = int(rng.integers(0, len(terms) - 1))
            op = "&" if rng.random() < 0.5 else "|"
            terms[i:i + 2] = [f"({terms[i]} {op} {terms[i + 1]})"]
        spec = threshnet.parse(f"input {', '.join(f'x{j}' for j in range(n))}\ny = {terms[0]}\n")
        assert threshnet.check(threshnet.compile(spec, "step", layout="sparse"), spec).ok


@pytest.mark.skipif(verilog.find_yosys() is None, reason="no Yosys: pip install 'threshnet[verilog]'")
def test_majority_16_from_verilog_is_one_neuron():
    src = ("module maj16(input [15:0] x, output y);\n  wire [4:0] s = "
           + " + ".join(f"x[{i}]" for i in range(16)) + ";\n  assign y = s >= 9;\nendmodule\n")
    spec = read_text(src, "verilog")
    assert len(spec.assignments) > 100  # the gate translator's netlist, not one gate
    stats = checked_step_stats(spec)  # exhaustive: 16 inputs
    assert sum(stats.neurons) == 1 and stats.layers == 1


@settings(max_examples=30)
@given(st.integers(7, 10), st.data())
def test_random_symmetric_functions_as_gates(n, data):
    """Any symmetric function of n inputs, some read complemented, written as a sum-of-counts circuit."""
    pattern = data.draw(st.lists(st.integers(0, 1), min_size=n + 1, max_size=n + 1))
    negated = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    spec = threshnet.parse(symmetric_spec(pattern, negated))
    net = threshnet.compile(spec, "step", layout="sparse")
    assert threshnet.check(net, spec).ok
    changes = sum(pattern[c] != pattern[c - 1] for c in range(1, n + 1))
    if 1 <= changes <= MAX_RUNGS:  # one gate, or a counter layer of `changes` rungs and an output gate
        assert sum(net.stats().neurons) <= (1 if changes == 1 else changes + 1)


def symmetric_spec(pattern: list[int], negated: list[bool]) -> str:
    n = len(negated)
    width = n.bit_length()
    lines = [f"input {', '.join(f'x{i}' for i in range(n))}", "output y"]
    count = ["0"] * width
    for i in range(n):
        carry = f"~x{i}" if negated[i] else f"x{i}"
        nxt = []
        for b in range(width):
            lines.append(f"s{i}_{b} = {count[b]} ^ {carry}")
            lines.append(f"c{i}_{b} = {count[b]} & {carry}")
            nxt.append(f"s{i}_{b}")
            carry = f"c{i}_{b}"
        count = nxt
    terms = []
    for c, v in enumerate(pattern):  # y = OR over counts c with pattern[c] of [count == c]
        if v:
            terms.append("(" + " & ".join(count[b] if (c >> b) & 1 else f"~{count[b]}" for b in range(width)) + ")")
    lines.append("y = " + (" | ".join(terms) if terms else "0"))
    return "\n".join(lines) + "\n"


@pytest.mark.skipif(verilog.find_yosys() is None, reason="no Yosys: pip install 'threshnet[verilog]'")
def test_abc_preoptimized_start_is_equivalent_and_kept_only_when_smaller():
    from threshnet.preopt import best_start, preoptimize

    spec = read(CIRCUITS / "iscas85" / "bench" / "c432.bench")
    opt = preoptimize(spec)
    assert opt is not None and opt.inputs == spec.inputs and opt.outputs == spec.outputs
    net = threshnet.compile(opt, "step", layout="sparse")
    assert threshnet.check(net, spec).ok
    best, used = best_start(spec)
    plain = threshnet.compile(spec, "step", layout="sparse")
    assert sum(best.stats().neurons) <= sum(plain.stats().neurons)
    assert used in ("abc", "none") and threshnet.check(best, spec).ok


@pytest.mark.slow
@pytest.mark.parametrize("name", ["c432", "c499", "c880", "c1355", "c1908"])
def test_mapped_iscas_is_proved(name):
    """The mapped network of each small ISCAS-85 circuit is proved equal to the netlist (SAT)."""
    require_prover()
    pytest.importorskip("pindakaas")
    from threshnet.prove import prove

    spec = read(CIRCUITS / "iscas85" / "bench" / f"{name}.bench")
    net = threshnet.compile(spec, "step", layout="sparse")
    report = prove(net, spec, method="nodes", timeout=300)
    assert report.proved, str(report)


# --- threshold identification ------------------------------------------------------------------------

def table_of(weights, t, n):
    return sum(1 << a for a in range(1 << n) if sum(w for j, w in enumerate(weights) if (a >> j) & 1) >= t)


def test_identify_agrees_with_the_exhaustive_table_up_to_4_inputs():
    from threshnet.compiler.lp_threshold import identify
    from threshnet.compiler.mapping import threshold_functions

    for n in (1, 2, 3):
        known = threshold_functions(n)
        for table in range(1 << (1 << n)):
            real = identify(table, n)
            assert (real is not None) == (table in known)
            if real is not None:
                assert table_of(*real, n) == table


@settings(max_examples=60)
@given(st.integers(4, 7).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.integers(-20, 20), min_size=n, max_size=n), st.integers(-40, 40))))
def test_identify_finds_every_threshold_function(case):
    """Every [w.x >= t] is recognized, with weights that give back exactly its table."""
    from threshnet.compiler.lp_threshold import identify

    n, weights, t = case
    table = table_of(weights, t, n)
    real = identify(table, n)
    assert real is not None
    assert table_of(*real, n) == table


@settings(max_examples=60)
@given(st.integers(5, 6).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, (1 << (1 << n)) - 1))))
def test_identify_is_sound_on_any_table(case):
    from threshnet.compiler.lp_threshold import identify

    n, table = case
    real = identify(table, n)
    if real is not None:
        assert table_of(*real, n) == table


def mapped_depth(m: nx.DiGraph) -> int:
    """Threshold layers of a mapped graph (an XOR counts two)."""
    d: dict[int, int] = {}
    for v in nx.topological_sort(m):
        op = m.nodes[v][OP]
        base = max((d[u] for u in m.predecessors(v)), default=0)
        d[v] = 0 if op in (OP_INPUT, OP_CONST) else base + (2 if op == OP_XOR else 1)
    return max((d[v] for _, v, _ in m.graph[OUTPUTS]), default=0)


def test_objectives():
    spec = read(CIRCUITS / "iscas85" / "bench" / "c880.bench")
    from threshnet.compiler.lower import lower

    g = lower(spec)
    deep = map_threshold(g, objective="size")
    shallow = map_threshold(g, objective="depth")
    assert mapped_depth(shallow) <= mapped_depth(deep) <= mapped_depth(g)
    for m in (deep, shallow):
        verify(m, "mapped")
        rows = np.random.default_rng(0).integers(0, 2, (4000, len(spec.inputs))).astype(np.uint8)
        assert (evaluate(m, rows) == evaluate(g, rows)).all()
    with pytest.raises(ValueError, match="objective"):
        map_threshold(g, objective="fast")
