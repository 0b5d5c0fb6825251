"""No recursion anywhere: 100,000-operand chains and a 100,000-deep ``~`` at Python's default recursion limit.

The issue's cases: ``y = i0 & i1 & ... & i244`` made ``check --prove``,
``torch.save(net)`` and ``copy.deepcopy(net)`` overflow the stack, because a
``ThreshNet`` holds its spec's syntax tree; 50k ``~`` on one input too.

Sizes: compile, save/load, pickle, deepcopy, evaluate, export and draw run
on 100,000 operands (100,000 ``~``).  ``check`` runs on the 100,000-deep
``~`` and on 5,000-operand chains (its one-hot and one-cold rows make a
check of n inputs cost n^2 cells, so 100,000 inputs take minutes; the spec
and network are just as deep at 5,000).  ``prove`` runs on 245 and 5,000
operands, the 100,000-operand mixed chain and the 100,000-deep ``~`` in
test_recursion_prove.py.
"""

from __future__ import annotations

import copy
import io
from pathlib import Path
import pickle
import sys

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import threshnet
from threshnet.build import compile_and_build
from threshnet.compiler.compiling import Compilation
from threshnet.compiler.spec import AND, OR, XOR, Assign, BinOp, Name, Not, Spec, expr_equal, fold, postorder, render
from threshnet.export import draw, to_dot
from threshnet.testing import inputs_for, specs
from conftest import require_prover

torch.set_num_threads(1)

LIMIT = sys.getrecursionlimit()
N = 100_000
SYM = {AND: "&", OR: "|", XOR: "^"}


@pytest.fixture(autouse=True)
def default_recursion_limit():
    """Nothing here may raise the limit to get through."""
    assert sys.getrecursionlimit() == LIMIT <= 1000
    yield
    assert sys.getrecursionlimit() == LIMIT


def chain_text(n: int, kind: str) -> str:
    """``y = i0 OP i1 OP ... ``; ``mixed`` cycles ``& | ^`` (parsed with precedence); ``not`` is n ``~``."""
    if kind == "not":
        return "input a\noutput y\ny = " + "~" * n + "a\n"
    syms = ["&", "|", "^"] if kind == "mixed" else [SYM[kind]]
    return "y = i0" + "".join(f" {syms[k % len(syms)]} i{k + 1}" for k in range(n - 1)) + "\n"


def chain_spec(n: int, kind: str) -> Spec:
    """The same chain built directly (left-associative, depth n): no parser in the way."""
    if kind == "not":
        e = Name("a")
        for _ in range(n):
            e = Not(e)
        return Spec(("a",), ("y",), (Assign("y", e),))
    e = Name("i0")
    for k in range(1, n):
        e = BinOp(kind, e, Name(f"i{k}"))
    return Spec(tuple(f"i{k}" for k in range(n)), ("y",), (Assign("y", e),))


def reference(n: int, kind: str, rows: np.ndarray) -> np.ndarray:
    """The chain's value with numpy, independent of the spec code."""
    if kind == "not":
        return (rows[:, 0] ^ (n & 1)).astype(np.uint8)
    return {AND: np.bitwise_and, OR: np.bitwise_or, XOR: np.bitwise_xor}[kind].reduce(rows, axis=1).astype(np.uint8)


# --- the Spec value: pickle, deepcopy, equality, evaluation, the one walk ---------------------------------------


@pytest.mark.parametrize("kind", [AND, OR, XOR, "not"])
def test_spec_copies_and_evaluates(kind):
    spec = chain_spec(N, kind)
    assert copy.deepcopy(spec) is spec and copy.copy(spec) is spec  # frozen: its own deep copy
    assert copy.deepcopy(spec.assignments[0].expr) is spec.assignments[0].expr
    back = pickle.loads(pickle.dumps(spec))
    assert back == spec and back is not spec
    if kind in (XOR, "not"):  # an expression and an assignment pack as a spec does; AND and OR differ by op only
        e = spec.assignments[0].expr
        assert expr_equal(pickle.loads(pickle.dumps(e)), e)
        a = pickle.loads(pickle.dumps(spec.assignments[0]))
        assert a.target == "y" and expr_equal(a.expr, e)
    rows = np.random.default_rng(1).integers(0, 2, size=(64, spec.n_inputs), dtype=np.uint8)
    rows[0] = 1
    assert np.array_equal(threshnet.evaluate_batch(spec, rows)[:, 0], reference(N, kind, rows))
    depth = fold(spec, {n: 0 for n in spec.inputs}, const=lambda v: 0, unary=lambda d: d + 1,
                 binary=lambda op, l, r: max(l, r) + 1)["y"]
    assert depth == N if kind == "not" else depth == N - 1


def test_shared_nodes_survive_pickle_once():
    """A DAG (as netlist readers build) pickles each node once and comes back shared."""
    x = Name("a")
    for _ in range(2000):
        x = BinOp(XOR, x, x)  # 2**2000 paths, 2001 nodes
    spec = Spec(("a",), ("y",), (Assign("y", x), Assign("z", Not(x))))
    calls = []
    fold(spec, {"a": 1}, const=int, unary=lambda v: v ^ 1, binary=lambda op, l, r: calls.append(op) or l ^ r)
    assert len(calls) == 2000
    back = pickle.loads(pickle.dumps(spec))
    assert back.assignments[1].expr.operand is back.assignments[0].expr
    assert back.assignments[0].expr.left is back.assignments[0].expr.right
    assert threshnet.evaluate(back, {"a": 1}) == {"y": 0}


def test_spec_pickles_as_a_few_objects():
    """The packed table: a 100,000-node spec is a handful of pickled objects (``torch.save`` calls its
    ``persistent_id`` hook once per object), and comes back equal."""
    def objects(spec: Spec) -> tuple[int, bytes]:
        seen = []

        class Counting(pickle.Pickler):
            def persistent_id(self, obj):
                seen.append(type(obj).__name__)
                return None

        buf = io.BytesIO()
        Counting(buf, protocol=2).dump(spec)  # torch.save's protocol
        return len(seen), buf.getvalue()

    small, _ = objects(chain_spec(10, XOR))
    spec = chain_spec(N, XOR)
    big, blob = objects(spec)
    assert big == small < 100
    assert pickle.loads(blob) == spec
    # parsed text carries its word program (spec.words): packed the same way
    small, _ = objects(threshnet.parse(chain_text(10, "mixed")))
    spec = threshnet.parse(chain_text(5000, "mixed"))
    big, blob = objects(spec)
    assert big == small < 150
    back = pickle.loads(blob)
    assert back == spec and back.words == spec.words


def test_pickles_of_the_row_table_still_load():
    """``tests/pickles/spec_rows_table.pkl`` was written by threshnet 1da364c, which pickled a table of
    row tuples: a spec, a spec sharing a node, an expression and an assignment still load."""
    old = pickle.loads((Path(__file__).parent / "pickles" / "spec_rows_table.pkl").read_bytes())
    spec = threshnet.parse(old["text"], "old.bool")
    assert old["spec"] == spec and old["spec"].filename == "old.bool" and old["spec"].source == old["text"]
    for a, b in zip(spec.assignments, old["spec"].assignments):
        assert a.span == b.span and [n.span for n in postorder(a.expr)] == [n.span for n in postorder(b.expr)]
    assert expr_equal(old["expr"], spec.assignments[1].expr)
    assert old["assign"].target == "t" and expr_equal(old["assign"].expr, spec.assignments[0].expr)
    shared = old["shared"]
    assert shared.assignments[1].expr.operand is shared.assignments[0].expr
    assert shared.assignments[0].expr.left is shared.assignments[0].expr.right
    assert threshnet.evaluate(shared, {"a": 1}) == {"y": 0, "z": 1}


def test_render_and_parse_round_trip_deep():
    spec = chain_spec(N, "not")
    assert threshnet.parse(render(spec)) == spec


# --- the network: compile, deepcopy, save/load, pickle, export, draw ----------------------------------------------


@pytest.mark.parametrize("kind", [AND, OR, XOR, "not"])
def test_network_of_a_100k_chain(kind, tmp_path):
    """The mixed chain runs the same checks in test_recursion_prove.py, where its network is proved too."""
    spec = threshnet.parse(chain_text(N, kind)) if kind == "not" else chain_spec(N, kind)
    c, net = compile_and_build(spec, "step", layout="sparse")  # the stages are drawn, the network run
    exercise_network(net, spec, kind, tmp_path, c)


def exercise_network(net: torch.nn.Module, spec: Spec, kind: str, tmp_path, c: Compilation | None = None) -> None:
    """Run, deepcopy, torch.save/load, pickle (and for some kinds check, export and draw: ``c`` is then the
    compile's stages) a chain's network."""
    rows = np.random.default_rng(2).integers(0, 2, size=(32, spec.n_inputs), dtype=np.uint8)
    rows[0], rows[1] = 0, 1
    want = threshnet.evaluate_batch(spec, rows)
    if kind != "mixed":
        assert np.array_equal(want[:, 0], reference(N, kind, rows))
    x = torch.as_tensor(rows, dtype=torch.float32)

    def same(m: torch.nn.Module) -> None:
        with torch.no_grad():
            assert np.array_equal(m(x).numpy(), want)

    same(net)
    dup = copy.deepcopy(net)
    assert dup.spec is net.spec
    same(dup)
    buf = io.BytesIO()
    torch.save(net, buf)
    buf.seek(0)
    loaded = torch.load(buf, weights_only=False)
    assert loaded.spec == spec
    same(loaded)
    same(pickle.loads(pickle.dumps(net)))
    if kind == "not":
        assert threshnet.check(net, spec).ok
    if kind in (AND, "not"):
        pytest.importorskip("onnx", reason="ONNX export needs threshnet[onnx]")
        ort = pytest.importorskip("onnxruntime", reason="running the export needs onnxruntime")
        from threshnet.export import export_onnx

        export_onnx(net, tmp_path / "n.onnx")
        sess = ort.InferenceSession(str(tmp_path / "n.onnx"), providers=["CPUExecutionProvider"])
        assert np.array_equal(sess.run(None, {"x": rows.astype(np.float32)})[0], want)
        dot = to_dot(c.threshold_graph)
        assert dot.startswith("digraph threshnet {")
        assert draw(c.threshold_graph, tmp_path / "n.dot").read_text() == dot


@pytest.mark.parametrize("layout,activation,output_step", [
    ("sparse", "step", True), ("sparse", "relu", True), ("sparse", "relu", False), ("mlp", "relu", False)])
def test_check_on_5000_operand_chains(layout, activation, output_step):
    for kind in ("mixed", "not"):
        spec = threshnet.parse(chain_text(5000, kind))
        net = threshnet.compile(spec, activation, output_step=output_step, layout=layout)
        assert threshnet.check(net, spec, samples=64).ok


def test_mlp_layout_refuses_a_dense_net_too_big_for_memory(monkeypatch):
    """layout='mlp' on a huge parity would allocate tens of GB; it is refused, naming the way out."""
    import threshnet.compiler.compiling as compiling

    monkeypatch.setattr(compiling, "MLP_MAX_ENTRIES", 10_000)
    with pytest.raises(ValueError, match=r"layout 'mlp' would need about [\d,]+ dense weights.*layout 'sparse'"):
        threshnet.compile(chain_text(2000, XOR), "relu", layout="mlp")
    assert threshnet.compile(chain_text(2000, XOR), "relu", layout="auto").layout == "sparse"


def test_cli_check_prove_245(tmp_path):
    require_prover()
    from threshnet.cli import main

    path = tmp_path / "chain.bool"
    path.write_text(chain_text(245, AND))
    assert main(["check", str(path), "--prove"]) == 0


# --- properties: the flat pickle and the fold agree with the tree ---------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs(max_inputs=6, max_gates=40, max_assignments=8), st.data())
def test_pickle_and_fold_agree_with_the_tree(spec, data):
    """Pickle keeps every node, span and port; fold gives the evaluator's values; deepcopy is identity."""
    back = pickle.loads(pickle.dumps(spec))
    assert back == spec and render(back) == render(spec) and back.filename == spec.filename
    for a, b in zip(spec.assignments, back.assignments):
        assert a.span == b.span
        assert [n.span for n in postorder(a.expr)] == [n.span for n in postorder(b.expr)]
    assert copy.deepcopy([spec])[0] is spec
    rows = data.draw(inputs_for(spec, as_array=True))
    want = threshnet.evaluate_batch(spec, rows)
    assert np.array_equal(threshnet.evaluate_batch(back, rows), want)
    for r, row in enumerate(rows):
        got = fold(spec, dict(zip(spec.inputs, map(int, row))), const=int, unary=lambda v: 1 - v,
                   binary=lambda op, l, r: l & r if op == AND else l | r if op == OR else l ^ r)
        assert [got[o] for o in spec.outputs] == list(want[r])
