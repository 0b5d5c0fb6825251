"""The intermediate representations between the compiler's stages: fields, dumps, checks.

Every stage hands the next one a value of one *dialect*.  This module is the
one place that says what each dialect holds (the table below), prints it
(:func:`dump`, deterministic text for golden tests and ``--dump-ir``) and
checks it (:func:`verify`, which raises :class:`IRError` naming the stage and
the node).  The attribute keys are the constants of :mod:`.keys`.

========== ================================ =================================================================
dialect    made by                          fields
========== ================================ =================================================================
spec       ``parse`` or a front end         ``Spec``: ``inputs``, ``outputs`` (port names, tensor order),
                                            ``assignments`` (``target = expr``, each target once, acyclic)
boolean    ``lower.lower``                  ``networkx.DiGraph``.  node[OP]: OP_INPUT, OP_CONST, OP_AND,
                                            OP_OR or OP_XOR; node[NAME]: signal name or None;
                                            edge[NEG]: the reader sees the negated signal;
                                            graph[INPUTS]: input nodes in port order;
                                            graph[OUTPUTS]: (port, node, negated) triples in port order.
                                            The const node is false (a negated read is true).
mapped     ``mapping.map_threshold``        as boolean, plus nodes with node[OP] = OP_THRESHOLD:
                                            node[THRESHOLD] integer t, edge[WEIGHT] integer w, value
                                            ``[sum(w * lit) >= t]`` over the (possibly negated) fanins.
threshold  ``threshold.threshold``          ``networkx.DiGraph``.  node[KIND]: KIND_INPUT or KIND_GATE;
                                            gate: node[THRESHOLD] integer t, node[ROLE] ("and", "or",
                                            "xor", "ge3", "maj", "th", "copy", "not", "const", ...),
                                            node[NAME]; edge[WEIGHT]: nonzero integer; the gate is 1 iff
                                            ``sum(w * fanin) >= t``.  graph[INPUTS]: input nodes in port
                                            order; graph[OUTPUTS]: (port, gate) pairs, each port owning a
                                            distinct gate; graph[XORS]: :class:`XorForm` records;
                                            graph[BOOL_MAP]: (mapped node, threshold node, negated)
                                            triples, where each boolean signal's value lives.
layered    ``layering.layer``               as threshold (XOR forms chosen), plus node[LAYER]: 0 for
                                            inputs, 1..depth for gates, every edge going up at least one
                                            layer; graph[DEPTH]: the largest layer of an output gate
                                            (at least 1).
dense      ``torch_backend.plan_mlp``       ``LayerPlan`` per ``nn.Linear``: ``weight`` rows of sorted
                                            (column, value) pairs, ``bias``, ``names``, ``in_features``
                                            (the previous plan's width; the input count first),
                                            ``activation`` ("step", "relu", or None for a final combining
                                            layer), ``passthroughs``, ``values``, ``tops``.
sparse     ``sparse_backend.plan_sparse``   ``SparsePlan`` per layer: ``buckets`` of ``Bucket`` rows
                                            (``index`` and ``weight`` padded to one width per bucket,
                                            ``bias``, ``names``, ``slots`` written), ``activation``
                                            (None: the final read-out, last only), ``n_slots`` (the same
                                            in every plan), ``tops`` (one per slot).
========== ================================ =================================================================

Invariants :func:`verify` checks (each in time linear in the size of the IR,
without recursion):

* graphs: acyclic; graph[INPUTS] lists every input node once, in increasing
  node order (port order); inputs have no fanins; every gate reaches an
  output; operand counts per op (AND/OR/XOR at least 2, XOR at most
  ``XOR_MAX_ARITY``, inputs and constants none, copy/not gates one, const
  gates none); weights and thresholds are integers; output ports are unique
  and name existing nodes;
* threshold and layered: every :class:`XorForm` and BOOL_MAP entry names
  existing nodes, and an XOR's output gate reads only its rungs (ladder form)
  or its operands and kept rungs (even form);
* layered: inputs at layer 0, gates in 1..depth, every edge going up, and
  depth equal to the deepest output gate;
* dense: each plan's ``in_features`` is the previous plan's width (the input
  count for the first), columns in range and sorted, weights integers,
  biases half-integers, the last width the output count;
* sparse: one ``n_slots`` throughout, every slot index below it, bucket rows
  of one width, each layer's written slots distinct, slots read only after
  they were written (inputs are written first), the read-out last.

A stage that breaks one of these is caught by ``compile_stages(...,
verify=True)`` right after it runs, rather than by a confusing failure
several stages later.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import networkx as nx

from .keys import (
    BOOL_MAP, DEPTH, INPUTS, KIND, KIND_GATE, KIND_INPUT, LAYER, NAME, NEG, OP, OP_AND, OP_CONST, OP_INPUT, OP_OR,
    OP_THRESHOLD, OP_XOR, OUTPUTS, ROLE, THRESHOLD, WEIGHT, XOR_MAX_ARITY, XORS,
)
from .spec import Spec, names_read_once, render

if TYPE_CHECKING:
    from .compiling import Compilation

#: Every dialect, in pipeline order.  ``dense`` and ``sparse`` are the two backends' plans.
STAGES = ("spec", "boolean", "mapped", "threshold", "layered", "dense", "sparse")

Lit = tuple[int, bool]  # (threshold node, negated)


@dataclass(frozen=True)
class XorForm:
    """One XOR's gates in a threshold graph: its output gate, operands and ladder rungs.

    ``rungs[i]`` is ``[sum(operands) >= i + 1]``.  The ladder form reads
    ``out = [h1 - h2 + h3 - ... >= 1]``; the even form (``even=True``, chosen by
    layering) reads ``out = [sum(operands) - 2 * (h2 + h4 + ...) >= 1]`` and
    the odd rungs ``h1, h3, ...`` may be gone from the graph.
    """

    out: int
    out_neg: bool  # the out gate computes the negated parity
    operands: tuple[Lit, ...]
    rungs: tuple[Lit, ...]
    even: bool = False


class IRError(Exception):
    """An IR broke its contract: ``stage`` (a dialect of :data:`STAGES`), ``node`` and what is wrong.

    ``node`` is a graph node id (int), a spec signal name (str), a
    ``(layer, neuron)`` pair for plans (neuron None for a whole layer), or
    None for the IR as a whole.
    """

    def __init__(self, stage: str, node: int | str | tuple[int, int | None] | None, message: str) -> None:
        self.stage, self.node, self.message = stage, node, message
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.stage}: {_where(self.node)}{self.message}"

    def __reduce__(self):  # picklable with its three fields
        return IRError, (self.stage, self.node, self.message)


def _where(node: object) -> str:
    if node is None:
        return ""
    if isinstance(node, tuple):
        layer, neuron = node
        return f"layer {layer}: " if neuron is None else f"layer {layer} neuron {neuron}: "
    if isinstance(node, str):
        return f"signal {node!r}: "
    return f"node {node}: "


# ----------------------------------------------------------------------------- stage of an IR

def stage_of(ir: Any) -> str:
    """The dialect of ``ir``, told from its fields (``mapped`` when a threshold node is present)."""
    if isinstance(ir, Spec):
        return "spec"
    if isinstance(ir, nx.DiGraph):
        if DEPTH in ir.graph:
            return "layered"
        if XORS in ir.graph or BOOL_MAP in ir.graph:
            return "threshold"
        if any(d.get(OP) == OP_THRESHOLD for _, d in ir.nodes(data=True)):
            return "mapped"
        return "boolean"
    if isinstance(ir, (tuple, list)) and ir:
        if all(hasattr(p, "buckets") for p in ir):
            return "sparse"
        if all(hasattr(p, "in_features") for p in ir):
            return "dense"
    raise TypeError(f"not an IR of any stage: {type(ir).__name__}")


def _stage(ir: Any, stage: str | None) -> str:
    if stage is None:
        return stage_of(ir)
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {', '.join(STAGES)}; got {stage!r}")
    return stage


# ----------------------------------------------------------------------------- dumps

def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _term(c: float, name: str) -> str:
    return f"{'+' if c > 0 else '-'}{_num(abs(c))}*{name}"


def _bias(b: float) -> str:
    return f"{'+' if b >= 0 else '-'} {_num(abs(b))}"


def _lit(lit: Lit) -> str:
    return ("~" if lit[1] else "") + str(lit[0])


def dump(ir: Any, stage: str | None = None, *, inputs: Sequence[str] | None = None) -> str:
    """Deterministic text of an IR of any stage (told from the value when ``stage`` is None).

    ``inputs`` names the first dense layer's columns (default ``in0, in1, ...``).
    """
    stage = _stage(ir, stage)
    if stage == "spec":
        return render(ir)
    if stage in ("boolean", "mapped"):
        return _dump_boolean(ir)
    if stage in ("threshold", "layered"):
        return _dump_threshold(ir)
    if stage == "dense":
        return _dump_dense(ir, inputs)
    return _dump_sparse(ir)


def _dump_boolean(g: nx.DiGraph) -> str:
    """One line per node, ``id = op(fanins)  # name``; threshold nodes show weights; then the ports."""
    lines = []
    for v in sorted(g.nodes):
        d = g.nodes[v]
        if d[OP] == OP_INPUT:
            lines.append(f"{v} = input {d[NAME]}")
            continue
        edges = sorted(g.in_edges(v, data=True), key=lambda e: e[0])
        note = f"  # {d[NAME]}" if d.get(NAME) else ""
        if d[OP] == OP_THRESHOLD:
            terms = " ".join(_term(e[WEIGHT], ("~" if e[NEG] else "") + str(u)) for u, _, e in edges)
            lines.append(f"{v} = [{terms or '0'} >= {d[THRESHOLD]}]{note}")
        else:
            args = ", ".join(("~" if e[NEG] else "") + str(u) for u, _, e in edges)
            lines.append(f"{v} = {d[OP]}({args}){note}")
    for o, v, neg in g.graph[OUTPUTS]:
        lines.append(f"output {o} = {'~' if neg else ''}{v}")
    return "\n".join(lines) + "\n"


def _dump_threshold(g: nx.DiGraph, records: bool = True) -> str:
    """One line per node (``L<layer>`` first once layered), the ports, then the XOR records and BOOL_MAP.

    ``records=False`` leaves out the depth line and the records (the older
    ``dump_threshold`` text).
    """
    lines = []
    if records and DEPTH in g.graph:
        lines.append(f"depth {g.graph[DEPTH]}")
    for v in sorted(g.nodes):
        d = g.nodes[v]
        layer = f"L{d[LAYER]} " if LAYER in d else ""
        if d[KIND] == KIND_INPUT:
            lines.append(f"{layer}{v} = input {d[NAME]}")
            continue
        terms = " ".join(_term(e[WEIGHT], str(u)) for u, _, e in sorted(g.in_edges(v, data=True), key=lambda e: e[0]))
        lines.append(f"{layer}{v} = [{terms or '0'} >= {d[THRESHOLD]}]  {d[ROLE]} {d[NAME]}")
    for port, v in g.graph[OUTPUTS]:
        lines.append(f"output {port} = {v}")
    if not records:
        return "\n".join(lines) + "\n"
    for x in g.graph.get(XORS, ()):
        lines.append(f"xor {'~' if x.out_neg else ''}{x.out} {'even' if x.even else 'ladder'}: operands "
                     f"{' '.join(map(_lit, x.operands))}; rungs {' '.join(map(_lit, x.rungs))}")
    for b, t, neg in g.graph.get(BOOL_MAP, ()):
        lines.append(f"map {b} -> {'~' if neg else ''}{t}")
    return "\n".join(lines) + "\n"


def _dump_dense(plans: Sequence[Any], inputs: Sequence[str] | None) -> str:
    """Each Linear: shape and activation, then one line per neuron with its columns named."""
    lines = []
    cols = list(inputs) if inputs is not None else [f"in{j}" for j in range(plans[0].in_features if plans else 0)]
    for i, p in enumerate(plans):
        act = p.activation or "linear"
        lines.append(f"layer {i + 1}: Linear({p.in_features} -> {len(p.bias)}), {act}, "
                     f"{p.passthroughs} pass-through(s)")
        width = max((len(n) for n in p.names), default=0)
        for row, bias, name in zip(p.weight, p.bias, p.names):
            terms = " ".join(_term(c, cols[j] if j < len(cols) else f"#{j}") for j, c in row)
            lines.append(f"  {name.ljust(width)} = {act}({terms or '0'} {_bias(bias)})")
        cols = list(p.names)
    return "\n".join(lines) + "\n"


def _dump_sparse(plans: Sequence[Any]) -> str:
    """Each layer: its buckets; a neuron reads slots ``s<j>`` and writes its slot (``->``)."""
    lines = []
    for i, p in enumerate(plans):
        act = p.activation or "read-out"
        lines.append(f"layer {i + 1}: {act}, {sum(len(b.bias) for b in p.buckets)} neuron(s) in "
                     f"{len(p.buckets)} bucket(s), {p.n_slots} slot(s)")
        for b in p.buckets:
            k = len(b.index[0]) if b.index else 0
            lines.append(f"  bucket {len(b.bias)} x {k}")
            width = max((len(n) for n in b.names), default=0)
            for r, (idx, wts, bias, name) in enumerate(zip(b.index, b.weight, b.bias, b.names)):
                terms = " ".join(_term(c, f"s{j}") for j, c in zip(idx, wts) if c)
                dest = f"s{b.slots[r]} <- " if r < len(b.slots) else ""
                lines.append(f"    {dest}{name.ljust(width)} = {p.activation or 'linear'}({terms or '0'} {_bias(bias)})")
    return "\n".join(lines) + "\n"


#: File names of the dumps, in pipeline order (``NN-stage.txt``).
def _file_name(n: int, stage: str) -> str:
    return f"{n:02d}-{stage}.txt"


def dump_all(c: Compilation) -> dict[str, str]:
    """Stage name -> dump text for every stage of one compile, in pipeline order.

    ``threshold`` is the graph as the threshold stage made it.  Layering
    rewrites that graph in place (the compile keeps only the layered one), so
    it is rebuilt here from the mapped graph: ``threshold`` is a deterministic
    function of it.
    """
    from .threshold import threshold  # deferred: threshold imports this module

    plans = "dense" if c.layout == "mlp" else "sparse"
    return {
        "spec": dump(c.spec, "spec"),
        "boolean": dump(c.bool_graph, "boolean"),
        "mapped": dump(c.mapped_graph, "mapped"),
        "threshold": dump(threshold(c.mapped_graph), "threshold"),
        "layered": dump(c.threshold_graph, "layered"),
        plans: dump(c.plans, plans, inputs=c.spec.inputs),
    }


def write_dumps(c: Compilation, directory: str | Path) -> list[Path]:
    """Write :func:`dump_all` as ``01-spec.txt``, ``02-boolean.txt``, ... into ``directory`` (made if missing)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, (stage, text) in enumerate(dump_all(c).items(), 1):
        path = out / _file_name(n, stage)
        path.write_text(text, encoding="utf-8", newline="\n")
        paths.append(path)
    return paths


# ----------------------------------------------------------------------------- build

def add_to_graph(g: nx.DiGraph, nodes: Iterable[tuple[int, dict]], edges: Iterable[tuple[int, int, dict]]) -> None:
    """``g.add_nodes_from(nodes); g.add_edges_from(edges)`` where every edge's ends are nodes of ``g`` or
    of ``nodes``, written straight into networkx's adjacency dicts (the documented data structure: a
    dict of nodes' attribute dicts, and successor and predecessor dicts sharing each edge's attribute
    dict); two to four times faster than the per-edge checks of ``add_edge``.  A node already in ``g``
    gets its attributes updated; an edge already in ``g`` gets the new attribute dict."""
    node, succ, pred = g._node, g._succ, g._pred
    for v, attrs in nodes:
        if v in node:
            node[v].update(attrs)
        else:
            node[v] = attrs
            succ[v] = {}
            pred[v] = {}
    for u, v, d in edges:
        succ[u][v] = d
        pred[v][u] = d
    g.__networkx_cache__.clear()


# ----------------------------------------------------------------------------- verify

def verify(ir: Any, stage: str | None = None, *, n_inputs: int | None = None,
           n_outputs: int | None = None) -> None:
    """Check ``ir`` against the contract of ``stage``; raise :class:`IRError` at the first breach.

    ``n_inputs`` and ``n_outputs`` (the spec's port counts), when given, are
    checked against a graph's ports and against the first plan's width and
    the last one's.
    """
    stage = _stage(ir, stage)
    if stage == "spec":
        _verify_spec(ir)
    elif stage in ("boolean", "mapped", "threshold", "layered"):
        for what, want, have in (("inputs", n_inputs, INPUTS), ("outputs", n_outputs, OUTPUTS)):
            got = len(ir.graph.get(have, ()))
            if want is not None and got != want:
                raise IRError(stage, None, f"{got} {what}, but the spec has {want}")
        if stage in ("boolean", "mapped"):
            _verify_boolean(ir, stage)
        else:
            _verify_threshold(ir, stage)
    elif stage == "dense":
        _verify_dense(ir, n_inputs, n_outputs)
    else:
        _verify_sparse(ir, n_inputs, n_outputs)


def _is_int(x: object) -> bool:
    return type(x) is int or (isinstance(x, int) and not isinstance(x, bool))


def _verify_spec(spec: Spec) -> None:
    st = "spec"
    inputs = set()
    for n in spec.inputs:
        if n in inputs:
            raise IRError(st, n, "input declared twice")
        inputs.add(n)
    by_name: dict[str, Any] = {}
    for a in spec.assignments:
        if a.target in inputs:
            raise IRError(st, a.target, "an input is assigned")
        if a.target in by_name:
            raise IRError(st, a.target, "assigned twice")
        by_name[a.target] = a
    seen_out = set()
    for o in spec.outputs:
        if o in seen_out:
            raise IRError(st, o, "output declared twice")
        seen_out.add(o)
        if o not in inputs and o not in by_name:
            raise IRError(st, o, "output is never assigned")
    # Every name read is defined, and assignments do not depend on themselves (iterative DFS).
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    for a in spec.assignments:
        if a.target in state:
            continue
        state[a.target] = 1
        stack = [(a.target, iter(list(names_read_once(a.expr))))]
        while stack:
            cur, it = stack[-1]
            for nm in it:
                if nm.id in inputs:
                    continue
                if nm.id not in by_name:
                    raise IRError(st, cur, f"reads {nm.id!r}, which is neither an input nor assigned")
                s = state.get(nm.id)
                if s == 1:
                    raise IRError(st, nm.id, "depends on itself (a cycle of assignments)")
                if s is None:
                    state[nm.id] = 1
                    stack.append((nm.id, iter(list(names_read_once(by_name[nm.id].expr)))))
                    break
            else:
                state[cur] = 2
                stack.pop()


def topological_order(g: nx.DiGraph, stage: str) -> list:
    """Kahn's order of ``g``, or IRError (naming ``stage``) at a node that lies on a cycle."""
    pred, succ = g._pred, g._succ  # the adjacency dicts: networkx's views cost more per call
    indeg = {v: len(p) for v, p in pred.items()}
    ready = [v for v, d in indeg.items() if d == 0]
    order = []
    while ready:
        v = ready.pop()
        order.append(v)
        for w in succ[v]:
            indeg[w] -= 1
            if indeg[w] == 0:
                ready.append(w)
    if len(order) < g.number_of_nodes():
        # Walk backwards among the unsorted nodes until one repeats: it lies on a cycle.
        left = {v for v, d in indeg.items() if d > 0}
        v = min(left)
        seen: set = set()
        while v not in seen:
            seen.add(v)
            v = next(u for u in pred[v] if u in left)
        raise IRError(stage, v, "lies on a cycle")
    return order


def _verify_acyclic(g: nx.DiGraph, stage: str) -> None:
    """IRError at a node on a cycle, if ``g`` has one.

    The stages number their nodes as they make them, operands first, so usually every
    edge goes from a smaller node number to a larger one, and then no path can come back
    to where it began: one pass over the edges proves the graph acyclic.  Anything else
    (an edge going down, a node name that is not an integer) takes :func:`topological_order`.
    """
    try:
        if all(type(v) is int and v > max(p) for v, p in g._pred.items() if p):
            return
    except TypeError:  # node names without an order
        pass
    topological_order(g, stage)


def _verify_inputs(g: nx.DiGraph, stage: str, is_input) -> None:
    inputs = g.graph.get(INPUTS)
    if not isinstance(inputs, (tuple, list)):
        raise IRError(stage, None, "graph[INPUTS] is missing")
    prev = None
    node, pred = g._node, g._pred
    for v in inputs:
        if v not in g:
            raise IRError(stage, v, "input port is not in the graph")
        if not is_input(node[v]):
            raise IRError(stage, v, "input port is not an input node")
        if prev is not None and not prev < v:
            raise IRError(stage, v, f"inputs out of port order (node {v} after node {prev})")
        if pred[v]:
            raise IRError(stage, v, "input has fanins")
        prev = v
    listed = set(inputs)
    for v, d in node.items():
        if is_input(d) and v not in listed:
            raise IRError(stage, v, "input node is not an input port")


def _verify_reach(g: nx.DiGraph, stage: str, roots: Iterable[int], is_input) -> None:
    """Every non-input node reaches an output (reverse search from the output nodes)."""
    seen = set()
    stack = list(roots)
    pred = g._pred
    while stack:
        v = stack.pop()
        if v in seen:
            continue
        seen.add(v)
        stack.extend(pred[v])
    dead = [v for v, d in g._node.items() if v not in seen and not is_input(d)]
    if dead:
        raise IRError(stage, min(dead), "gate reaches no output")


def _verify_boolean(g: nx.DiGraph, stage: str) -> None:
    ops = (OP_INPUT, OP_CONST, OP_AND, OP_OR, OP_XOR) + ((OP_THRESHOLD,) if stage == "mapped" else ())
    pred = g._pred
    for v, d in g._node.items():
        op = d.get(OP)
        if op not in ops:
            raise IRError(stage, v, f"unknown op {op!r}")
        if NAME not in d:
            raise IRError(stage, v, "has no NAME")
        k = len(pred[v])
        if op in (OP_INPUT, OP_CONST) and k:
            raise IRError(stage, v, f"{op} node has {k} operand(s)")
        if op in (OP_AND, OP_OR) and k < 2:
            raise IRError(stage, v, f"{op} gate has {k} operand(s), needs at least 2")
        if op == OP_XOR and not 2 <= k <= XOR_MAX_ARITY:
            raise IRError(stage, v, f"xor gate has {k} operand(s), needs 2..{XOR_MAX_ARITY}")
        if op == OP_THRESHOLD:
            if not _is_int(d.get(THRESHOLD)):
                raise IRError(stage, v, f"threshold {d.get(THRESHOLD)!r} is not an integer")
        for u, e in pred[v].items():
            if not isinstance(e.get(NEG), bool):
                raise IRError(stage, v, f"edge from {u} has no boolean NEG")
            if op == OP_THRESHOLD and not _is_int(e.get(WEIGHT)):
                raise IRError(stage, v, f"weight {e.get(WEIGHT)!r} on the edge from {u} is not an integer")
    _verify_acyclic(g, stage)
    is_input = lambda d: d[OP] == OP_INPUT  # noqa: E731
    _verify_inputs(g, stage, is_input)
    ports = set()
    for o, v, neg in g.graph.get(OUTPUTS, ()):
        if o in ports:
            raise IRError(stage, v, f"output port {o!r} appears twice")
        ports.add(o)
        if v not in g:
            raise IRError(stage, v, f"output {o!r} names a node not in the graph")
        if not isinstance(neg, bool):
            raise IRError(stage, v, f"output {o!r} has no boolean negation flag")
    _verify_reach(g, stage, [v for _, v, _ in g.graph[OUTPUTS]], is_input)


#: Threshold roles with a fixed number of operands.
_ROLE_ARITY = {"copy": 1, "not": 1, "const": 0}


def _verify_threshold(g: nx.DiGraph, stage: str) -> None:
    layered = stage == "layered"
    pred = g._pred
    for v, d in g._node.items():
        kind = d.get(KIND)
        if kind not in (KIND_INPUT, KIND_GATE):
            raise IRError(stage, v, f"unknown kind {kind!r}")
        if kind == KIND_GATE:
            t = d.get(THRESHOLD)
            if not _is_int(t):
                raise IRError(stage, v, f"threshold {t!r} is not an integer")
            if not isinstance(d.get(ROLE), str):
                raise IRError(stage, v, "gate has no ROLE")
            k = len(pred[v])
            want = _ROLE_ARITY.get(d[ROLE])
            if want is not None and k != want:
                raise IRError(stage, v, f"{d[ROLE]} gate has {k} operand(s), needs {want}")
        for u, e in pred[v].items():
            w = e.get(WEIGHT)
            if type(w) is not int and not _is_int(w) or w == 0:  # the type test first: millions of edges
                raise IRError(stage, v, f"weight {w!r} on the edge from {u} is not a nonzero integer")
    _verify_acyclic(g, stage)
    is_input = lambda d: d[KIND] == KIND_INPUT  # noqa: E731
    _verify_inputs(g, stage, is_input)
    ports, owners = set(), set()
    for o, v in g.graph.get(OUTPUTS, ()):
        if o in ports:
            raise IRError(stage, v, f"output port {o!r} appears twice")
        ports.add(o)
        if v not in g:
            raise IRError(stage, v, f"output {o!r} names a node not in the graph")
        if g.nodes[v][KIND] != KIND_GATE:
            raise IRError(stage, v, f"output {o!r} is not a gate of its own")
        if v in owners:
            raise IRError(stage, v, f"output {o!r} shares its gate with another port")
        owners.add(v)
    _verify_reach(g, stage, owners, is_input)
    outs = set()
    for x in g.graph.get(XORS, ()):
        if x.out not in g:
            raise IRError(stage, x.out, "XorForm output is not in the graph")
        if x.out in outs:
            raise IRError(stage, x.out, "two XorForm records for one gate")
        outs.add(x.out)
        for s, _ in x.operands:
            if s not in g:
                raise IRError(stage, x.out, f"XorForm operand {s} is not in the graph")
        kept = [r for i, (r, _) in enumerate(x.rungs) if not x.even or i % 2 == 1]
        for r in kept:
            if r not in g:
                raise IRError(stage, x.out, f"XorForm rung {r} is not in the graph")
        allowed = set(kept) | ({s for s, _ in x.operands} if x.even else set())
        for u in g.predecessors(x.out):
            if u not in allowed:
                raise IRError(stage, x.out, f"XOR gate reads {u}, not one of its "
                                            f"{'operands or even rungs' if x.even else 'rungs'}")
    for b, t, neg in g.graph.get(BOOL_MAP, ()):
        if t not in g:
            raise IRError(stage, t, f"BOOL_MAP entry of boolean node {b} is not in the graph")
    if layered:
        _verify_layers(g, stage, owners)


def _verify_layers(g: nx.DiGraph, stage: str, owners: set) -> None:
    depth = g.graph.get(DEPTH)
    if not _is_int(depth) or depth < 1:
        raise IRError(stage, None, f"depth {depth!r} is not a positive integer")
    node = g._node
    for v, d in node.items():
        y = d.get(LAYER)
        if not _is_int(y):
            raise IRError(stage, v, f"layer {y!r} is not an integer")
        if d[KIND] == KIND_INPUT and y != 0:
            raise IRError(stage, v, f"input at layer {y}, not 0")
        if d[KIND] == KIND_GATE and not 1 <= y <= depth:
            raise IRError(stage, v, f"gate at layer {y}, outside 1..{depth}")
    for u, vs in g._succ.items():
        yu = node[u][LAYER]
        for v in vs:
            if yu >= node[v][LAYER]:
                raise IRError(stage, v, f"reads node {u} of layer {yu} from layer {node[v][LAYER]}")
    deepest = max([1] + [node[v][LAYER] for v in owners])
    if deepest != depth:
        raise IRError(stage, None, f"depth {depth}, but the deepest output gate is at layer {deepest}")


def _check_row(stage: str, where: tuple[int, int], cols: Sequence[int], vals: Sequence[float], bias: float,
               width: int) -> None:
    for j, c in zip(cols, vals):
        if not _is_int(j) or not 0 <= j < width:
            raise IRError(stage, where, f"reads column {j!r}, outside 0..{width - 1}")
        if not math.isfinite(c) or c != int(c):
            raise IRError(stage, where, f"weight {c!r} is not an integer")
    if not math.isfinite(bias) or 2 * bias != int(2 * bias):
        raise IRError(stage, where, f"bias {bias!r} is not a half-integer")


def _verify_dense(plans: Sequence[Any], n_inputs: int | None, n_outputs: int | None) -> None:
    st = "dense"
    if not plans:
        raise IRError(st, None, "no layers")
    width = n_inputs if n_inputs is not None else plans[0].in_features
    for i, p in enumerate(plans, 1):
        m = len(p.bias)
        if p.in_features != width:
            raise IRError(st, (i, None), f"in_features {p.in_features}, but the layer below has width {width}")
        if len(p.weight) != m or len(p.names) != m:
            raise IRError(st, (i, None), f"{len(p.weight)} weight rows, {m} biases and {len(p.names)} names")
        if p.activation not in ("step", "relu") and not (p.activation is None and i == len(plans)):
            raise IRError(st, (i, None), f"activation {p.activation!r} (None only in the last layer)")
        if p.tops and len(p.tops) != m:
            raise IRError(st, (i, None), f"{len(p.tops)} tops for {m} neurons")
        if not 0 <= p.passthroughs <= m:
            raise IRError(st, (i, None), f"{p.passthroughs} pass-throughs in {m} neurons")
        for n, (row, b) in enumerate(zip(p.weight, p.bias)):
            cols = [j for j, _ in row]
            if any(a >= b2 for a, b2 in zip(cols, cols[1:])):
                raise IRError(st, (i, n), "columns not sorted or repeated")
            _check_row(st, (i, n), cols, [c for _, c in row], b, p.in_features)
        for s, _, terms in p.values:
            for j, _ in terms:
                if not 0 <= j < m:
                    raise IRError(st, (i, None), f"signal {s} is read from neuron {j}, outside 0..{m - 1}")
        width = m
    if n_outputs is not None and width != n_outputs:
        raise IRError(st, (len(plans), None), f"width {width}, but there are {n_outputs} outputs")


def _verify_sparse(plans: Sequence[Any], n_inputs: int | None, n_outputs: int | None) -> None:
    st = "sparse"
    if not plans:
        raise IRError(st, None, "no layers")
    n_slots = plans[-1].n_slots
    if n_inputs is not None and n_slots < n_inputs:
        raise IRError(st, None, f"{n_slots} slots for {n_inputs} inputs")
    written = set(range(n_inputs)) if n_inputs is not None else None
    for i, p in enumerate(plans, 1):
        last = i == len(plans)
        if p.n_slots != n_slots:
            raise IRError(st, (i, None), f"n_slots {p.n_slots}, but the network has {n_slots}")
        if (p.activation is None) != last or p.activation not in ("step", "relu", None):
            raise IRError(st, (i, None), f"activation {p.activation!r} (None exactly in the last layer, the read-out)")
        if p.tops and len(p.tops) != n_slots:
            raise IRError(st, (i, None), f"{len(p.tops)} tops for {n_slots} slots")
        n = 0
        dests: set[int] = set()
        for b in p.buckets:
            m = len(b.bias)
            if len(b.index) != m or len(b.weight) != m or len(b.names) != m:
                raise IRError(st, (i, n), f"bucket of {len(b.index)} index rows, {len(b.weight)} weight rows, "
                                          f"{m} biases and {len(b.names)} names")
            if len(b.slots) != (0 if last else m):
                raise IRError(st, (i, n), f"bucket of {m} neurons writes {len(b.slots)} slots")
            k = len(b.index[0]) if m else 0
            for r, (idx, wts, bias) in enumerate(zip(b.index, b.weight, b.bias)):
                if len(idx) != k or len(wts) != k:
                    raise IRError(st, (i, n + r), f"row of {len(idx)} indices and {len(wts)} weights in a "
                                                  f"bucket of width {k}")
                _check_row(st, (i, n + r), idx, wts, bias, n_slots)
                if written is not None:
                    for j, c in zip(idx, wts):
                        if c and j not in written:
                            raise IRError(st, (i, n + r), f"reads slot {j} before any layer wrote it")
            for r, s in enumerate(b.slots):
                if not _is_int(s) or not 0 <= s < n_slots:
                    raise IRError(st, (i, n + r), f"writes slot {s!r}, outside 0..{n_slots - 1}")
                if s in dests:
                    raise IRError(st, (i, n + r), f"slot {s} is written twice in one layer")
                dests.add(s)
            n += m
        if written is not None:
            written |= dests
    if n_outputs is not None and plans[-1].neurons != n_outputs:
        raise IRError(st, (len(plans), None), f"reads out {plans[-1].neurons} values for {n_outputs} outputs")
