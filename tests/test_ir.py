"""``ir.verify`` catches each broken invariant, naming the stage and the node; real IRs pass.

Each test corrupts a real IR (compiled from a small example) in one way and
asserts the :class:`IRError`'s stage, node and message.  The properties at
the end compile random specs with verification on in both layouts.
"""

from __future__ import annotations

import pickle
from dataclasses import replace
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from threshnet.compiler import compiling
from threshnet.compiler.compiling import compile_stages, verify_requested
from threshnet.compiler.ir import IRError, XorForm, dump, dump_all, stage_of, verify
from threshnet.compiler.keys import BOOL_MAP, DEPTH, INPUTS, LAYER, NEG, OP, OP_AND, OUTPUTS, THRESHOLD, WEIGHT, XORS
from threshnet.compiler.spec import AND, Assign, BinOp, Name, Spec
from threshnet.compiler.threshold import threshold
from threshnet.testing import specs

ROOT = Path(__file__).resolve().parent.parent
FULL_ADDER = (ROOT / "examples" / "full_adder.bool").read_text(encoding="utf-8")
HALF_ADDER = "c1 = a0 & b0\nc0 = a0 ^ b0\n"


def fails(ir, stage: str, node, message: str, **ports) -> IRError:
    with pytest.raises(IRError) as info:
        verify(ir, stage, **ports)
    e = info.value
    assert (e.stage, e.node) == (stage, node), str(e)
    assert message in e.message, str(e)
    return e


@pytest.fixture
def fa():
    """The full adder compiled (dense): mapped graph 5 = xor(0, 1, 2), 7 = maj; layered XOR 6 over rungs 3 4 5."""
    return compile_stages(FULL_ADDER, layout="mlp", verify=True)


@pytest.fixture
def fa_threshold(fa):
    return threshold(fa.mapped_graph)  # unlayered: out 6 = [h3 - h4 + h5 >= 1]


# ------------------------------------------------------------------ IRError


def test_irerror_fields_and_text():
    e = IRError("threshold", 12, "XorForm rung 8 is not in the graph")
    assert (e.stage, e.node, e.message) == ("threshold", 12, "XorForm rung 8 is not in the graph")
    assert str(e) == "threshold: node 12: XorForm rung 8 is not in the graph"
    assert str(IRError("dense", (2, None), "x")) == "dense: layer 2: x"
    assert str(IRError("sparse", (2, 5), "x")) == "sparse: layer 2 neuron 5: x"
    assert str(IRError("spec", "t", "x")) == "spec: signal 't': x"
    assert str(IRError("layered", None, "x")) == "layered: x"
    again = pickle.loads(pickle.dumps(e))
    assert (again.stage, again.node, again.message) == (e.stage, e.node, e.message)


# ------------------------------------------------------------------ spec


def _spec(*assigns: tuple[str, object], inputs=("x",), outputs=("a",)) -> Spec:
    return Spec(tuple(inputs), tuple(outputs), tuple(Assign(t, e) for t, e in assigns))


def test_spec_cycle():
    s = _spec(("a", BinOp(AND, Name("b"), Name("x"))), ("b", Name("a")))
    fails(s, "spec", "a", "depends on itself")


def test_spec_undefined_name():
    fails(_spec(("a", Name("nope"))), "spec", "a", "neither an input nor assigned")


def test_spec_assigned_twice_and_input_assigned():
    fails(_spec(("a", Name("x")), ("a", Name("x"))), "spec", "a", "assigned twice")
    fails(_spec(("x", Name("x"))), "spec", "x", "an input is assigned")


def test_spec_output_never_assigned():
    fails(_spec(("a", Name("x")), outputs=("a", "b")), "spec", "b", "never assigned")


def test_spec_ok(fa):
    verify(fa.spec, "spec")


# ------------------------------------------------------------------ boolean and mapped graphs


def test_boolean_cycle(fa):
    g = fa.bool_graph.copy()
    g.add_edge(7, 3, **{NEG: False})  # or(4, 6) feeds xor 3, which feeds 6 and 5...
    fails(g, "boolean", 3, "lies on a cycle")


def test_boolean_inputs_out_of_port_order(fa):
    g = fa.bool_graph.copy()
    g.graph[INPUTS] = (1, 0, 2)
    fails(g, "boolean", 0, "out of port order")


def test_boolean_input_not_a_port(fa):
    g = fa.bool_graph.copy()
    g.graph[INPUTS] = (0, 1)
    fails(g, "boolean", 2, "not an input port")


def test_boolean_gate_reaching_no_output(fa):
    g = fa.bool_graph.copy()
    g.add_node(99, **{OP: OP_AND, "name": None})
    g.add_edge(0, 99, **{NEG: False})
    g.add_edge(1, 99, **{NEG: True})
    fails(g, "boolean", 99, "reaches no output")


def test_boolean_operand_counts(fa):
    g = fa.bool_graph.copy()
    g.remove_edge(0, 4)  # and(0, 1) -> and(1)
    fails(g, "boolean", 4, "and gate has 1 operand(s)")
    g = fa.bool_graph.copy()
    for i in range(8):
        g.add_node(100 + i, **{OP: "input", "name": f"extra{i}"})
        g.add_edge(100 + i, 3, **{NEG: False})
    g.graph[INPUTS] = tuple(g.graph[INPUTS]) + tuple(range(100, 108))
    fails(g, "boolean", 3, "xor gate has 10 operand(s)")
    g = fa.bool_graph.copy()
    g.add_edge(3, 0, **{NEG: False})
    fails(g, "boolean", 0, "input node has 1 operand(s)")


def test_boolean_output_names_missing_node(fa):
    g = fa.bool_graph.copy()
    g.graph[OUTPUTS] = tuple(g.graph[OUTPUTS]) + (("z", 42, False),)
    fails(g, "boolean", 42, "not in the graph")


def test_boolean_has_no_threshold_nodes(fa):
    fails(fa.mapped_graph, "boolean", 7, "unknown op 'threshold'")


def test_mapped_integer_weights_and_thresholds(fa):
    g = fa.mapped_graph.copy()
    g.nodes[7][THRESHOLD] = 2.0
    fails(g, "mapped", 7, "threshold 2.0 is not an integer")
    g = fa.mapped_graph.copy()
    g.edges[0, 7][WEIGHT] = 1.5
    fails(g, "mapped", 7, "weight 1.5 on the edge from 0 is not an integer")


def test_boolean_and_mapped_ok(fa):
    verify(fa.bool_graph, "boolean")
    verify(fa.mapped_graph, "mapped")


# ------------------------------------------------------------------ threshold graphs


def test_threshold_xorform_rung_missing(fa_threshold):
    g = fa_threshold
    g.remove_node(5)
    e = fails(g, "threshold", 6, "XorForm rung 5 is not in the graph")
    assert str(e) == "threshold: node 6: XorForm rung 5 is not in the graph"


def test_threshold_xorform_operand_and_out_missing(fa_threshold):
    g = fa_threshold
    x = g.graph[XORS][0]
    g.graph[XORS] = (replace(x, operands=x.operands + ((42, False),)),)
    fails(g, "threshold", 6, "XorForm operand 42 is not in the graph")
    g.graph[XORS] = (XorForm(77, False, x.operands, x.rungs),)
    fails(g, "threshold", 77, "XorForm output is not in the graph")
    g.graph[XORS] = (x, x)
    fails(g, "threshold", 6, "two XorForm records for one gate")


def test_threshold_xor_gate_reads_a_stranger(fa_threshold):
    g = fa_threshold
    g.add_edge(0, 6, **{WEIGHT: 1})
    fails(g, "threshold", 6, "XOR gate reads 0, not one of its rungs")


def test_threshold_bool_map_points_at_missing_node(fa_threshold):
    g = fa_threshold
    g.graph[BOOL_MAP] = tuple(g.graph[BOOL_MAP]) + ((99, 42, False),)
    fails(g, "threshold", 42, "BOOL_MAP entry of boolean node 99")


def test_threshold_non_integer_weight_and_threshold(fa_threshold):
    g = fa_threshold
    g.edges[3, 6][WEIGHT] = 1.0
    fails(g, "threshold", 6, "weight 1.0 on the edge from 3 is not a nonzero integer")
    g.edges[3, 6][WEIGHT] = 0
    fails(g, "threshold", 6, "weight 0 on the edge from 3")
    g.edges[3, 6][WEIGHT] = 1
    g.nodes[4][THRESHOLD] = 1.5
    fails(g, "threshold", 4, "threshold 1.5 is not an integer")


def test_threshold_ports_own_distinct_gates(fa_threshold):
    g = fa_threshold
    g.graph[OUTPUTS] = (("cout", 4), ("s", 4))
    fails(g, "threshold", 4, "shares its gate with another port")
    g.graph[OUTPUTS] = (("cout", 0), ("s", 6))
    fails(g, "threshold", 0, "not a gate of its own")


def test_threshold_cycle_and_dead_gate(fa_threshold):
    g = fa_threshold.copy()
    g.add_edge(6, 3, **{WEIGHT: 1})
    fails(g, "threshold", 3, "lies on a cycle")
    g = fa_threshold.copy()
    g.graph[OUTPUTS] = (("s", 6),)  # the carry gate 4 is still read by the XOR
    verify(g, "threshold")
    g.add_node(50, kind="gate", threshold=1, role="or", name="dead")
    g.add_edge(0, 50, **{WEIGHT: 1})
    fails(g, "threshold", 50, "reaches no output")


def test_threshold_copy_gate_arity():
    c = compile_stages("y = a & b\nz = ~y\nw = y", layout="mlp")
    g = c.threshold_graph
    copies = [v for v, d in g.nodes(data=True) if d.get("role") in ("copy", "not")]
    assert copies, dump(g)
    v = copies[0]
    g.add_edge(0, v, **{WEIGHT: 1})
    fails(g, "layered", v, "gate has 2 operand(s), needs 1")


# ------------------------------------------------------------------ layered graphs


def test_layered_input_at_layer_0(fa):
    g = fa.threshold_graph
    g.nodes[1][LAYER] = 1
    fails(g, "layered", 1, "input at layer 1, not 0")


def test_layered_edges_go_up(fa):
    g = fa.threshold_graph
    g.nodes[6][LAYER] = 1
    fails(g, "layered", 6, "reads node 3 of layer 1 from layer 1")


def test_layered_gate_beyond_depth(fa):
    g = fa.threshold_graph
    g.nodes[6][LAYER] = 3
    fails(g, "layered", 6, "gate at layer 3, outside 1..2")


def test_layered_depth_consistent(fa):
    g = fa.threshold_graph
    g.graph[DEPTH] = 3
    fails(g, "layered", None, "depth 3, but the deepest output gate is at layer 2")
    g.graph[DEPTH] = 0
    fails(g, "layered", None, "depth 0 is not a positive integer")


def test_layered_needs_layers(fa_threshold):
    fails(fa_threshold, "layered", None, "depth None")


def test_layered_even_form_record(fa):
    c = compile_stages(FULL_ADDER, layout="sparse")
    g = c.threshold_graph
    (x,) = g.graph[XORS]
    assert x.even
    verify(g, "layered")
    odd = x.rungs[1][0]  # the kept rung h2
    g.remove_node(odd)
    e = pytest.raises(IRError, verify, g, "layered").value
    assert e.stage == "layered"


# ------------------------------------------------------------------ dense plans


def test_dense_width_chain(fa):
    plans = list(fa.plans)
    plans[1] = replace(plans[1], in_features=plans[1].in_features + 1)
    fails(plans, "dense", (2, None), "in_features 4, but the layer below has width 3")


def test_dense_first_and_last_width(fa):
    fails(fa.plans, "dense", (1, None), "in_features 3, but the layer below has width 4", n_inputs=4)
    fails(fa.plans, "dense", (2, None), "width 2, but there are 3 outputs", n_inputs=3, n_outputs=3)
    verify(fa.plans, "dense", n_inputs=3, n_outputs=2)


def test_dense_integer_weights_half_integer_biases(fa):
    plans = list(fa.plans)
    rows = list(plans[0].weight)
    rows[1] = ((0, 0.5),) + rows[1][1:]
    plans[0] = replace(plans[0], weight=tuple(rows))
    fails(plans, "dense", (1, 1), "weight 0.5 is not an integer")
    plans = list(fa.plans)
    plans[1] = replace(plans[1], bias=(0.25,) + plans[1].bias[1:])
    fails(plans, "dense", (2, 0), "bias 0.25 is not a half-integer")


def test_dense_column_range_and_order(fa):
    plans = list(fa.plans)
    rows = list(plans[0].weight)
    rows[0] = rows[0] + ((7, 1.0),)
    plans[0] = replace(plans[0], weight=tuple(rows))
    fails(plans, "dense", (1, 0), "reads column 7, outside 0..2")
    rows[0] = tuple(reversed(fa.plans[0].weight[0]))
    plans[0] = replace(plans[0], weight=tuple(rows))
    fails(plans, "dense", (1, 0), "columns not sorted")


def test_dense_shapes_and_activation(fa):
    plans = list(fa.plans)
    plans[0] = replace(plans[0], names=plans[0].names[:-1])
    fails(plans, "dense", (1, None), "3 weight rows, 3 biases and 2 names")
    plans = list(fa.plans)
    plans[0] = replace(plans[0], activation=None)
    fails(plans, "dense", (1, None), "activation None")


# ------------------------------------------------------------------ sparse plans


@pytest.fixture
def ha_sparse():
    c = compile_stages(HALF_ADDER, layout="sparse", verify=True)
    return list(c.plans)  # layer 1 writes s2 from s0, s1; layer 2 writes s0, s1; read-out


def _bucket(plans, layer: int, **changes):
    p = plans[layer - 1]
    plans[layer - 1] = replace(p, buckets=(replace(p.buckets[0], **changes),) + p.buckets[1:])
    return plans


def test_sparse_slot_index_in_range(ha_sparse):
    _bucket(ha_sparse, 1, index=((0, 3),))
    fails(ha_sparse, "sparse", (1, 0), "reads column 3, outside 0..2")


def test_sparse_reads_only_written_slots(ha_sparse):
    _bucket(ha_sparse, 1, index=((0, 2),))
    fails(ha_sparse, "sparse", (1, 0), "reads slot 2 before any layer wrote it", n_inputs=2)
    verify(ha_sparse, "sparse")  # without the input count the order is not known


def test_sparse_bucket_shapes(ha_sparse):
    p = ha_sparse[1]
    b = p.buckets[0]
    _bucket(ha_sparse, 2, index=(b.index[0], b.index[1][:2]), weight=(b.weight[0], b.weight[1][:2]))
    fails(ha_sparse, "sparse", (2, 1), "row of 2 indices and 2 weights in a bucket of width 4")


def test_sparse_bucket_lengths(ha_sparse):
    _bucket(ha_sparse, 2, names=("only",))
    fails(ha_sparse, "sparse", (2, 0), "2 index rows, 2 weight rows, 2 biases and 1 names")


def test_sparse_slots(ha_sparse):
    plans = list(ha_sparse)
    _bucket(plans, 2, slots=(0, 0))
    fails(plans, "sparse", (2, 1), "slot 0 is written twice")
    plans = list(ha_sparse)
    _bucket(plans, 2, slots=(0, 9))
    fails(plans, "sparse", (2, 1), "writes slot 9, outside 0..2")
    plans = list(ha_sparse)
    _bucket(plans, 2, slots=(0,))
    fails(plans, "sparse", (2, 0), "bucket of 2 neurons writes 1 slots")


def test_sparse_n_slots_and_readout(ha_sparse):
    plans = list(ha_sparse)
    plans[0] = replace(plans[0], n_slots=4)
    fails(plans, "sparse", (1, None), "n_slots 4, but the network has 3")
    fails(ha_sparse[:-1], "sparse", (2, None), "None exactly in the last layer")
    fails(ha_sparse, "sparse", (3, None), "reads out 2 values for 3 outputs", n_outputs=3)
    fails(ha_sparse, "sparse", None, "3 slots for 4 inputs", n_inputs=4)


# ------------------------------------------------------------------ stage_of, scale


def test_stage_of(fa):
    assert stage_of(fa.spec) == "spec"
    assert stage_of(fa.bool_graph) == "boolean"
    assert stage_of(fa.mapped_graph) == "mapped"
    assert stage_of(threshold(fa.mapped_graph)) == "threshold"
    assert stage_of(fa.threshold_graph) == "layered"
    assert stage_of(fa.plans) == "dense"
    assert stage_of(compile_stages(FULL_ADDER, layout="sparse").plans) == "sparse"
    with pytest.raises(TypeError):
        stage_of(42)
    with pytest.raises(ValueError, match="stage must be one of"):
        verify(fa.spec, "nonsense")


def test_deep_graph_without_recursion():
    """A 60,000-gate chain verifies and dumps at the default recursion limit; a cycle at its end is found."""
    n = 60_000
    g = nx.DiGraph()
    g.add_node(0, op="input", name="a")
    g.add_node(1, op="input", name="b")
    prev = 0
    for v in range(2, n):
        g.add_node(v, op=OP_AND, name=None)
        g.add_edge(prev, v, neg=False)
        g.add_edge(1, v, neg=v % 2 == 0)
        prev = v
    g.graph[INPUTS] = (0, 1)
    g.graph[OUTPUTS] = (("y", n - 1, False),)
    verify(g, "boolean")
    assert dump(g).count("\n") == n + 1
    g.add_edge(n - 1, 2, neg=False)
    fails(g, "boolean", 2, "lies on a cycle")


@given(st.integers(3, 40), st.randoms(use_true_random=False), st.sampled_from(["in order", "shuffled", "strings"]))
def test_cycle_found_whatever_the_node_numbering(n, rng, names):
    """Acyclicity is proved by a pass over the edges when they all go to larger node numbers, else by
    Kahn's order: a DAG numbered any way passes, and an edge closing a path is a cycle."""
    from threshnet.compiler.ir import _verify_acyclic

    label = list(range(n))
    if names != "in order":
        rng.shuffle(label)  # some edges go down
    if names == "strings":
        label = [f"n{k}" for k in label]
    g = nx.DiGraph()
    g.add_nodes_from(label)
    for v in range(1, n):  # a DAG in the order 0..n-1, with a path 0 -> 1 -> ... -> n-1
        g.add_edge(label[v - 1], label[v])
        for u in rng.sample(range(v), min(v, 2)):
            g.add_edge(label[u], label[v])
    _verify_acyclic(g, "boolean")
    a, b = sorted(rng.sample(range(n), 2))
    g.add_edge(label[b], label[a])  # closes the path a -> ... -> b
    with pytest.raises(IRError, match="lies on a cycle"):
        _verify_acyclic(g, "boolean")


# ------------------------------------------------------------------ the driver


def _broken_threshold(mg):
    g = threshold(mg)
    g.graph[BOOL_MAP] = tuple(g.graph[BOOL_MAP]) + ((0, 999, False),)
    return g


def test_driver_fails_at_the_stage_that_broke(monkeypatch):
    monkeypatch.setattr(compiling, "threshold", _broken_threshold)
    with pytest.raises(IRError) as info:
        compile_stages(FULL_ADDER, layout="mlp", verify=True)
    assert (info.value.stage, info.value.node) == ("threshold", 999)
    compile_stages(FULL_ADDER, layout="mlp", verify=False)  # the bad record is never read later


def test_driver_verify_environment(monkeypatch):
    monkeypatch.setattr(compiling, "threshold", _broken_threshold)
    for value, on in (("1", True), ("yes", True), ("0", False), ("", False)):
        monkeypatch.setenv("THRESHNET_VERIFY", value)
        assert verify_requested(None) is on
        if on:
            with pytest.raises(IRError):
                compile_stages(HALF_ADDER)
        else:
            compile_stages(HALF_ADDER)
    monkeypatch.delenv("THRESHNET_VERIFY")
    assert verify_requested(None) is False
    assert verify_requested(True) is True
    monkeypatch.setenv("THRESHNET_VERIFY", "1")
    assert verify_requested(False) is False


def test_suite_verifies():
    """tests/conftest.py turns verification on for the whole suite."""
    assert verify_requested(None)


# ------------------------------------------------------------------ properties


def _all_stages_verify(spec) -> None:
    for layout in ("mlp", "sparse"):
        for activation, output_step in (("relu", True), ("step", True), ("relu", False)):
            if layout == "sparse" and not output_step:
                continue
            c = compile_stages(spec, activation, output_step=output_step, layout=layout, verify=True)
            texts = dump_all(c)
            assert list(texts)[:5] == ["spec", "boolean", "mapped", "threshold", "layered"]
            verify(threshold(c.mapped_graph), "threshold")
    compile_stages(spec, layout="mlp", optimize=False, verify=True)


@given(specs())
def test_random_specs_verify_at_every_stage(spec):
    _all_stages_verify(spec)


@st.composite
def xor_heavy_specs(draw) -> str:
    """Small specs of shared, reconvergent XORs (the kind that once broke layering)."""
    n_in = draw(st.integers(2, 4))
    sigs = [f"x{i}" for i in range(n_in)]
    lines = []
    for g in range(draw(st.integers(1, 12))):
        k = draw(st.integers(2, 3))
        ops = [draw(st.sampled_from(sigs)) for _ in range(k)]
        sym = [draw(st.sampled_from(["^", "^", "^", "|", "&"])) for _ in range(k - 1)]
        expr = ops[0] + "".join(f" {s} {o}" for s, o in zip(sym, ops[1:]))
        lines.append(f"g{g} = {expr}")
        sigs.append(f"g{g}")
    return "\n".join(lines) + "\n"


@given(xor_heavy_specs())
def test_xor_heavy_specs_verify_at_every_stage(text):
    _all_stages_verify(text)


def test_graph_ports_match_the_spec(fa):
    verify(fa.bool_graph, "boolean", n_inputs=3, n_outputs=2)
    fails(fa.bool_graph, "boolean", None, "3 inputs, but the spec has 4", n_inputs=4)
    fails(fa.threshold_graph, "layered", None, "2 outputs, but the spec has 1", n_outputs=1)


def test_threshold_drops_gates_whose_readers_cancelled():
    """``and(x0, g, ~g)`` with both literals on one shared gate cancels it; the gate must not linger."""
    text = "t0 = x0 & (x1 & x0 & ((x1 ^ ~x1) & (~x1 | ~x0)))\nt1 = x0\nt2 = x1 & (x0 & ~x1 & (x0 & x1))\n"
    c = compile_stages(text, "step", layout="mlp", optimize=False, verify=True)
    g = threshold(c.bool_graph)
    verify(g, "threshold")
    assert all(g.out_degree(v) or v in {s for _, s in g.graph[OUTPUTS]} for v in g.nodes if v not in g.graph[INPUTS])
