"""Stage 2b, threshold mapping: cover the boolean graph with threshold gates.

A threshold gate computes far more than an AND: ``[a + b + c >= 2]``
(majority) is one gate, where an And-Inverter Graph needs four.  This stage
enumerates the small cuts of every node (sets of at most ``CUT_SIZE``
leaves whose values determine the node), computes each cut's truth table,
and looks it up in a table of every threshold function of that many
inputs.  A cut whose function is a parity becomes one k-input XOR.  Each
node then picks the cheapest realization by *area flow* (gates per use)
whose depth is no greater than the unmapped one, so the network never gets
deeper.  The chosen cover becomes a boolean graph whose nodes may also be
``OP_THRESHOLD`` (weights on edges, threshold on the node).

With the full adder's carry as ``[a + b + c >= 2]`` and its sum as the XOR
of a, b, c, whose "at least two" rung is that same gate, a ripple adder
costs two gates per bit.
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import networkx as nx
import numpy as np

from .keys import (
    INPUTS, NAME, NEG, OP, OP_AND, OP_CONST, OP_INPUT, OP_OR, OP_THRESHOLD, OP_XOR, OUTPUTS, THRESHOLD, WEIGHT,
)

__all__ = ["OP_THRESHOLD", "map_threshold", "threshold_functions"]
#: Leaves per cut; every threshold function of up to 4 inputs has weights within +-4.
CUT_SIZE = 4
#: Cuts kept per node (smallest first).
CUTS_PER_NODE = 8
MAX_WEIGHT = 4
#: Above this many gates the mapping is skipped (plain lowering, linear time).
MAP_LIMIT = 150_000


@lru_cache(maxsize=None)
def threshold_functions(n: int) -> dict[int, tuple[tuple[int, ...], int]]:
    """Every threshold function of ``n`` inputs: truth table -> (weights, threshold).

    Bit ``a`` of a truth table is the value on the assignment whose bit ``j``
    is input ``j``.  Among realizations, the one with the least total
    absolute weight (then the smallest threshold) is kept.
    """
    rng = np.arange(-MAX_WEIGHT, MAX_WEIGHT + 1)
    ws = np.array(list(itertools.product(rng, repeat=n)), dtype=np.int64).reshape(-1, n)
    assign = np.array([[(a >> j) & 1 for j in range(n)] for a in range(1 << n)], dtype=np.int64)
    sums = ws @ assign.T  # (W, 2^n)
    table: dict[int, tuple[tuple[int, ...], int]] = {}
    cost = np.abs(ws).sum(1)
    order = np.lexsort((np.abs(ws).max(1), cost))
    pow2 = (1 << np.arange(1 << n, dtype=np.int64))
    for i in order:
        s = sums[i]
        for t in range(int(s.min()), int(s.max()) + 2):
            key = int(((s >= t).astype(np.int64) * pow2).sum())
            if key not in table:
                table[key] = (tuple(int(w) for w in ws[i]), t)
    return table


@lru_cache(maxsize=None)
def _parity(n: int) -> int:
    return sum(1 << a for a in range(1 << n) if bin(a).count("1") % 2)


@lru_cache(maxsize=1 << 16)
def _expand(table: int, positions: tuple[int, ...], n: int) -> int:
    """Re-express a truth table over leaves at ``positions`` of an ``n``-leaf cut."""
    out = 0
    for a in range(1 << n):
        idx = 0
        for j, p in enumerate(positions):
            idx |= ((a >> p) & 1) << j
        out |= ((table >> idx) & 1) << a
    return out


def _threshold_table(tables: list[int], weights: list[int], t: int, n: int) -> int:
    """Truth table over ``n`` leaves of ``[sum(w_i * f_i) >= t]``, each ``f_i`` given by its table."""
    out = 0
    for a in range(1 << n):
        if sum(w for f, w in zip(tables, weights) if (f >> a) & 1) >= t:
            out |= 1 << a
    return out


def _xor_cost(k: int) -> int:
    return k // 2 + 1  # the even form: rungs [sum >= 2], [sum >= 4], ..., then the output


def map_threshold(g: nx.DiGraph) -> nx.DiGraph:
    """A cover of ``g`` by threshold gates and XORs, never deeper than ``g``."""
    gates = sum(1 for v in g.nodes if g.nodes[v][OP] not in (OP_INPUT, OP_CONST))
    if gates > MAP_LIMIT or gates == 0:
        return g
    order = sorted(g.nodes)
    fanins = {v: [(u, bool(e[NEG])) for u, _, e in sorted(g.in_edges(v, data=True))] for v in order}
    fanout = {v: g.out_degree(v) for v in order}
    op = {v: g.nodes[v][OP] for v in order}
    # Threshold nodes already in the input (word-level synthesis) keep their weights, in fanin order.
    weights = {v: [int(e[WEIGHT]) for _, _, e in sorted(g.in_edges(v, data=True))]
               for v in order if op[v] == OP_THRESHOLD}
    cuts: dict[int, list[tuple[tuple[int, ...], int]]] = {}
    depth0: dict[int, int] = {}  # depth of the plain lowering, in threshold gates
    best: dict[int, tuple] = {}  # v -> (area flow, depth, kind, leaves, data)
    for v in order:
        o = op[v]
        if o in (OP_INPUT, OP_CONST):
            cuts[v] = [((v,), 0b10)]
            depth0[v] = 0
            best[v] = (0.0, 0, "leaf", (), None)
            continue
        fi = fanins[v]
        k = len(fi)
        depth0[v] = (2 if o == OP_XOR else 1) + max((depth0[u] for u, _ in fi), default=0)
        # Native realization: the gate itself over its fanins.
        d_native = (2 if o == OP_XOR else 1) + max((best[u][1] for u, _ in fi), default=0)
        af_native = (_xor_cost(k) if o == OP_XOR else 1) + sum(best[u][0] / max(1, fanout[u]) for u, _ in fi)
        choice = (af_native, d_native, "native", tuple(u for u, _ in fi), None)
        found: dict[tuple[int, ...], int] = {}
        if k <= CUT_SIZE:
            for combo in itertools.product(*(cuts[u] for u, _ in fi)):
                leaves = tuple(sorted(set().union(*(c[0] for c in combo))))
                if not leaves or len(leaves) > CUT_SIZE or leaves in found:
                    continue
                n = len(leaves)
                full = (1 << (1 << n)) - 1
                acc = full if o == OP_AND else 0
                tables = []
                for (cl, ct), (_, neg) in zip(combo, fi):
                    t = _expand(ct, tuple(leaves.index(x) for x in cl), n)
                    if neg:
                        t ^= full
                    tables.append(t)
                    acc = acc & t if o == OP_AND else acc | t if o == OP_OR else acc ^ t
                if o == OP_THRESHOLD:
                    acc = _threshold_table(tables, weights[v], g.nodes[v][THRESHOLD], n)
                found[leaves] = acc
        for leaves, table in found.items():
            n = len(leaves)
            d_in = max(best[l][1] for l in leaves)
            flow = sum(best[l][0] / max(1, fanout[l]) for l in leaves)
            real = threshold_functions(n).get(table)
            if real is not None:
                cand = (1 + flow, 1 + d_in, "threshold", leaves, real)
            elif n >= 2 and table in (_parity(n), _parity(n) ^ ((1 << (1 << n)) - 1)):
                cand = (_xor_cost(n) + flow, 2 + d_in, "xor", leaves, table != _parity(n))
            else:
                continue
            if cand[1] <= depth0[v] and (cand[0], cand[1]) < (choice[0], choice[1]):
                choice = cand
        best[v] = choice
        ranked = sorted(found.items(), key=lambda kv: (len(kv[0]), kv[0]))[:CUTS_PER_NODE - 1]
        cuts[v] = [((v,), 0b10)] + ranked
    return _cover(g, order, op, fanins, best)


def _cover(g: nx.DiGraph, order: list[int], op: dict, fanins: dict, best: dict) -> nx.DiGraph:
    required: set[int] = set(g.graph[INPUTS])
    stack = [v for _, v, _ in g.graph[OUTPUTS]]
    while stack:
        v = stack.pop()
        if v in required:
            continue
        required.add(v)
        _, _, kind, leaves, data = best[v]
        if kind == "threshold":  # a leaf with weight 0 is not read
            stack.extend(l for l, w in zip(leaves, data[0]) if w)
        else:
            stack.extend(leaves)
    m = nx.DiGraph()
    inverted: dict[int, bool] = {}  # the node realizes the complement of the original signal
    for v in order:
        if v not in required:
            continue
        attrs = dict(g.nodes[v])
        _, _, kind, leaves, data = best[v]
        inverted[v] = False
        if kind in ("leaf", "native"):
            m.add_node(v, **attrs)
            for u, neg in fanins.get(v, []) if kind == "native" else []:
                m.add_edge(u, v, **{NEG: neg ^ inverted[u]})
                if op[v] == OP_THRESHOLD:  # a given threshold gate keeps its weights
                    m.edges[u, v][WEIGHT] = g.edges[u, v][WEIGHT]
        elif kind == "threshold":
            weights, t = data
            attrs.update({OP: OP_THRESHOLD, THRESHOLD: t})
            m.add_node(v, **attrs)
            for l, w in zip(leaves, weights):
                if w:
                    m.add_edge(l, v, **{NEG: inverted[l], WEIGHT: w})
        else:  # parity of the leaves, possibly complemented
            attrs[OP] = OP_XOR
            m.add_node(v, **attrs)
            for l in leaves:
                m.add_edge(l, v, **{NEG: inverted[l]})
            inverted[v] = bool(data)
    m.graph[INPUTS] = g.graph[INPUTS]
    m.graph[OUTPUTS] = tuple((p, v, neg ^ inverted[v]) for p, v, neg in g.graph[OUTPUTS])
    return m
