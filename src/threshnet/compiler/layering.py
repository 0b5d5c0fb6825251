"""Stage 4, layering: a layer for every threshold gate, fewest pass-throughs.

In a strict MLP a gate in layer ``l`` reads only layer ``l - 1``, so a signal
made in layer ``y`` and last read in layer ``R`` rides ``R - y - 1``
pass-through neurons; an output port's gate is carried to the last layer
(as if read in layer ``depth + 1``).  With the depth fixed to the critical
path, choosing layers that minimise the total is a linear program whose
constraints are all differences, so its optimum is integral.  We solve its
dual, a min-cost flow, with networkx's network simplex, and read the layers
back as shortest-path potentials.  Above ``EXACT_LIMIT`` gates we fall back
to as-soon-as-possible layers.

Layering also picks each XOR's threshold form, since which one needs fewer
neurons depends on the layers (see ``threshold``).
"""

from __future__ import annotations

from dataclasses import replace

import networkx as nx

from .keys import DEPTH, INPUTS, KIND, KIND_INPUT, LAYER, OUTPUTS, WEIGHT, XORS
from .ir import XorForm
from .threshold import set_fanins

#: Largest graph (gates) for which layering is solved exactly.
EXACT_LIMIT = 20_000
#: Rounds of "switch XOR forms, then re-layer".
XOR_ROUNDS = 4

_ROOT = -1


def asap_layers(g: nx.DiGraph) -> dict[int, int]:
    """Longest path from the inputs: inputs 0, a gate 1 + its deepest fanin."""
    y: dict[int, int] = {}
    for v in nx.topological_sort(g):
        if g.nodes[v][KIND] == KIND_INPUT:
            y[v] = 0
        else:
            y[v] = 1 + max((y[u] for u in g.predecessors(v)), default=0)
    return y


def depth_of(g: nx.DiGraph, y: dict[int, int]) -> int:
    return max([1] + [y[v] for _, v in g.graph[OUTPUTS]])


def _owned(g: nx.DiGraph) -> set[int]:
    return {v for _, v in g.graph[OUTPUTS]}


def last_read(g: nx.DiGraph, y: dict[int, int], depth: int, owned: set[int], s: int) -> int | None:
    """The layer of the last reader of ``s`` (``depth + 1`` for an output)."""
    r = max((y[t] for t in g.successors(s)), default=None)
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
    """Layers minimising pass-throughs for the given depth (exact, via min-cost flow)."""
    owned = _owned(g)

    def node(v: int) -> int:
        return _ROOT if g.nodes[v][KIND] == KIND_INPUT else v

    # Constraints y[j] - y[i] >= d, kept as arcs i -> j with the largest d.
    d: dict[tuple, int] = {}

    def arc(i, j, dist: int) -> None:
        if d.get((i, j), dist - 1) < dist:
            d[(i, j)] = dist

    demand: dict[object, int] = {_ROOT: 0}
    for v in g.nodes:
        if g.nodes[v][KIND] == KIND_INPUT:
            continue
        demand.setdefault(v, 0)
        arc(_ROOT, v, 1)
        arc(v, _ROOT, -depth)
        for u in g.predecessors(v):
            arc(node(u), v, 1)
    for s in g.nodes:
        readers = list(g.successors(s))
        if not readers and s not in owned:
            continue
        m = ("M", s)  # M >= every reader's layer; cost M - y[s]
        demand[m] = 1
        demand[node(s)] = demand.get(node(s), 0) - 1
        for r in readers:
            arc(r, m, 0)
        if s in owned:
            arc(_ROOT, m, depth + 1)
    flow_net = nx.DiGraph()
    for n, dem in demand.items():
        flow_net.add_node(n, demand=dem)
    for (i, j), dist in d.items():
        flow_net.add_edge(i, j, weight=-dist)
    _, flow = nx.network_simplex(flow_net)
    # Potentials: every constraint holds, and those carrying flow are tight.
    res = nx.DiGraph()
    res.add_nodes_from(flow_net.nodes)

    def res_arc(i, j, w: int) -> None:
        if not res.has_edge(i, j) or res[i][j]["w"] > w:
            res.add_edge(i, j, w=w)

    for (i, j), dist in d.items():
        res_arc(i, j, -dist)
        if flow[i][j] > 0:
            res_arc(j, i, dist)
    dist_from_root = nx.single_source_bellman_ford_path_length(res, _ROOT, weight="w")
    y = {}
    for v in g.nodes:
        y[v] = 0 if g.nodes[v][KIND] == KIND_INPUT else -dist_from_root[v]
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
