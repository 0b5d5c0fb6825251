"""Stage 4, layering: a layer for every threshold gate, fewest pass-throughs.

In a strict MLP a gate in layer ``l`` reads only layer ``l - 1``, so a signal
made in layer ``y`` and last read in layer ``R`` rides ``R - y - 1``
pass-through neurons; an output port's gate is carried to the last layer
(as if read in layer ``depth + 1``).  With the depth fixed to the critical
path, choosing layers that minimise the total is a linear program whose
constraints are all differences, so its optimum is integral: HiGHS solves it
(interior point, then crossover to an optimal vertex: :func:`optimal_layers`).
Above ``EXACT_LIMIT`` gates we fall back to as-soon-as-possible layers.

Layering also picks each XOR's threshold form, since which one needs fewer
neurons depends on the layers (see ``threshold``).
"""

from __future__ import annotations

from dataclasses import replace

import networkx as nx
import numpy as np

from .keys import DEPTH, INPUTS, KIND, KIND_INPUT, LAYER, OUTPUTS, WEIGHT, XORS
from .ir import XorForm, topological_order
from .threshold import set_fanins

#: Largest graph (gates) for which layering is solved exactly.
EXACT_LIMIT = 20_000
#: Rounds of "switch XOR forms, then re-layer".
XOR_ROUNDS = 4



def asap_layers(g: nx.DiGraph) -> dict[int, int]:
    """Longest path from the inputs: inputs 0, a gate 1 + its deepest fanin."""
    pred, node = g._pred, g._node  # networkx's adjacency dicts (its views cost more per call)
    y: dict[int, int] = {}
    for v in topological_order(g, "threshold"):
        y[v] = 0 if node[v][KIND] == KIND_INPUT else 1 + max((y[u] for u in pred[v]), default=0)
    return y


def depth_of(g: nx.DiGraph, y: dict[int, int]) -> int:
    return max([1] + [y[v] for _, v in g.graph[OUTPUTS]])


def _owned(g: nx.DiGraph) -> set[int]:
    return {v for _, v in g.graph[OUTPUTS]}


def last_read(g: nx.DiGraph, y: dict[int, int], depth: int, owned: set[int], s: int) -> int | None:
    """The layer of the last reader of ``s`` (``depth + 1`` for an output)."""
    r = max((y[t] for t in g._succ[s]), default=None)
    if s in owned:
        r = depth + 1
    return r


def passthroughs(g: nx.DiGraph, y: dict[int, int], depth: int) -> int:
    """Total pass-through neurons the layering ``y`` needs."""
    owned = _owned(g)
    total = 0
    for s in g.nodes:
        r = last_read(g, y, depth, owned, s)
        if r is not None:
            total += max(0, r - y[s] - 1)
    return total


def optimal_layers(g: nx.DiGraph, depth: int) -> dict[int, int]:
    """Layers minimising pass-throughs for the given depth (exact: a linear program solved by HiGHS).

    Columns are the gates' layers ``y_v`` (bounds ``1..depth``), then one ``M_s`` per signal that is
    read or is an output (``M_s >= depth + 1`` for an output); rows are ``y_v - y_u >= 1`` for each
    edge between gates and ``M_s - y_r >= 0`` for each reader ``r`` of ``s``; the cost is
    ``sum_s (M_s - y_s)``.  Every row is a difference of two columns, so the matrix is totally
    unimodular and an optimal vertex (interior point, then crossover) is integral; it is rounded and every row is
    re-checked in integers.
    """
    import highspy

    from .lp_threshold import highs

    nodes = g.nodes
    pred, succ = g._pred, g._succ
    owned = _owned(g)
    gates = [v for v in nodes if nodes[v][KIND] != KIND_INPUT]
    if not gates:
        return {v: 0 for v in nodes}
    col = {v: q for q, v in enumerate(gates)}
    n_y = len(gates)
    cost = [0.0] * n_y
    lower = [1.0] * n_y
    rows_a: list[int] = []  # row r: column rows_a[r] minus column rows_b[r] >= rows_lo[r]
    rows_b: list[int] = []
    rows_lo: list[float] = []
    for v in gates:
        for u in pred[v]:
            if u in col:
                rows_a.append(col[v])
                rows_b.append(col[u])
                rows_lo.append(1.0)
    n_m = 0
    for s in nodes:
        readers = succ[s]
        if not readers and s not in owned:
            continue
        m = n_y + n_m
        n_m += 1
        cost.append(1.0)
        lower.append(float(depth + 1) if s in owned else 0.0)
        if s in col:
            cost[col[s]] -= 1.0
        for r in readers:
            rows_a.append(m)
            rows_b.append(col[r])
            rows_lo.append(0.0)
    n_cols, n_rows = n_y + n_m, len(rows_a)
    h = highs()
    h.clearModel()
    saved = {k: h.getOptionValue(k) for k in ("solver", "run_crossover")}
    saved = {k: v[1] if isinstance(v, tuple) else v for k, v in saved.items()}  # (status, value) before 1.8
    h.setOptionValue("solver", "ipm")  # interior point, then crossover to an optimal vertex
    h.setOptionValue("run_crossover", "on")
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_cols, n_rows
    lp.col_cost_ = np.array(cost)
    lp.col_lower_ = np.array(lower)
    lp.col_upper_ = np.concatenate([np.full(n_y, float(depth)), np.full(n_m, highspy.kHighsInf)])
    lp.row_lower_ = np.array(rows_lo)
    lp.row_upper_ = np.full(n_rows, highspy.kHighsInf)
    a = lp.a_matrix_
    a.format_ = highspy.MatrixFormat.kRowwise
    a.num_col_, a.num_row_ = n_cols, n_rows
    a.start_ = np.arange(0, 2 * n_rows + 1, 2, dtype=np.int32)
    a.index_ = np.column_stack([rows_a, rows_b]).astype(np.int32).reshape(-1) if n_rows else np.zeros(0, np.int32)
    a.value_ = np.tile([1.0, -1.0], n_rows)
    try:
        h.passModel(lp)
        h.run()
        status = h.getModelStatus()
    finally:  # the instance is shared with the threshold identification's integer programs
        for k, v in saved.items():
            h.setOptionValue(k, v)
    if status != highspy.HighsModelStatus.kOptimal:  # a depth below the critical path is the caller's bug
        raise RuntimeError(f"layering: HiGHS gave {h.modelStatusToString(status)} for depth {depth}")
    x = np.rint(np.asarray(h.getSolution().col_value)).astype(np.int64)
    if n_rows and not bool((x[rows_a] - x[rows_b] >= np.array(rows_lo, dtype=np.int64)).all()) \
            or not bool((x[:n_y] >= 1).all() and (x[:n_y] <= depth).all()):
        raise RuntimeError("layering: the rounded optimum breaks a constraint")
    y = {v: 0 for v in nodes}
    for v, l in zip(gates, x[:n_y].tolist()):
        y[v] = l
    return y


def _best_layers(g: nx.DiGraph, depth: int) -> dict[int, int]:
    gates = g.number_of_nodes() - len(g.graph[INPUTS])
    if gates > EXACT_LIMIT:
        return asap_layers(g)
    return optimal_layers(g, depth)


def _switch_xors(g: nx.DiGraph, y: dict[int, int], depth: int, free_passthroughs: bool = False) -> bool:
    """Move each XOR to the even form where that saves neurons under ``y``.

    With ``free_passthroughs`` (the sparse layout) only the gate count matters.
    """
    owned = _owned(g)
    changed = False
    forms: list[XorForm] = []
    # The last layer reading each signal.  A switch replaces an operand's
    # readers ``gone`` (all below the XOR's output) by the output itself, so
    # the new last read is ``max(top, y_out)``: one pass, no rescans.
    top: dict[int, int] = {}
    if not free_passthroughs:
        for s in g.nodes:
            r = last_read(g, y, depth, owned, s)
            if r is not None:
                top[s] = r
    for x in g.graph[XORS]:
        if x.even or x.out not in g:
            forms.append(x)
            continue
        y_out = y[x.out]
        removable = [r for i, (r, _) in enumerate(x.rungs)
                     if i % 2 == 0 and g.out_degree(r) == 1 and r not in owned]
        delta = 0
        for r in removable:
            delta -= 1 + max(0, y_out - y[r] - 1)
        for s, _ in x.operands if not free_passthroughs else ():
            before = top[s]
            after = max(before, y_out)
            delta += max(0, after - y[s] - 1) - max(0, before - y[s] - 1)
        if delta >= 0:
            forms.append(x)
            continue
        terms = [(lit, 1) for lit in x.operands]
        terms += [(lit, -2) for i, lit in enumerate(x.rungs) if i % 2 == 1]
        set_fanins(g, x.out, terms, -1, negate=x.out_neg)
        g.remove_nodes_from(removable)
        for s, _ in x.operands if not free_passthroughs else ():
            top[s] = max(top[s], y_out)
        forms.append(replace(x, even=True))
        changed = True
    g.graph[XORS] = tuple(forms)
    return changed


def layer(g: nx.DiGraph, *, layout: str = "mlp", choose_xor_forms: bool = True) -> nx.DiGraph:
    """Set ``LAYER`` on every node and ``DEPTH`` on the graph, in place.

    ``layout="sparse"`` has no pass-throughs: layers are as soon as possible
    and every XOR whose odd rungs can go takes the even form.
    """
    y = asap_layers(g)
    depth = depth_of(g, y)
    if layout == "sparse":
        if choose_xor_forms and _switch_xors(g, y, depth, free_passthroughs=True):
            y = asap_layers(g)
    else:
        y = _best_layers(g, depth)
    for _ in range(XOR_ROUNDS if choose_xor_forms and layout != "sparse" else 0):
        if not _switch_xors(g, y, depth):
            break
        y = _best_layers(g, depth)
    for v, l in y.items():
        g.nodes[v][LAYER] = l
    g.graph[DEPTH] = depth
    return g
