"""Layering: ``optimal_layers`` against an independent oracle (every feasible layering of small graphs)."""

from __future__ import annotations

import itertools

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from threshnet.compiler.keys import INPUTS, KIND, KIND_GATE, KIND_INPUT, OUTPUTS
from threshnet.compiler.layering import asap_layers, depth_of, optimal_layers, passthroughs


@st.composite
def dags(draw) -> nx.DiGraph:
    """Inputs 0..k-1, then gates reading 1-3 earlier nodes; the gates no gate reads, and a few others, are outputs."""
    k = draw(st.integers(1, 3))
    n = draw(st.integers(1, 7))
    g = nx.DiGraph()
    for v in range(k):
        g.add_node(v, **{KIND: KIND_INPUT})
    for v in range(k, k + n):
        g.add_node(v, **{KIND: KIND_GATE})
        for u in draw(st.sets(st.integers(0, v - 1), min_size=1, max_size=3)):
            g.add_edge(u, v)
    # every gate reaches an output (as after every stage): each gate no gate reads is one
    outs = draw(st.sets(st.integers(0, k + n - 1), max_size=3))
    outs |= {v for v in range(k, k + n) if not g.out_degree(v)}
    g.graph[INPUTS] = tuple(range(k))
    g.graph[OUTPUTS] = tuple((f"o{q}", v) for q, v in enumerate(sorted(outs)))
    return g


def least_passthroughs(g: nx.DiGraph, depth: int) -> int:
    """The oracle: every layering with gates in 1..depth above their fanins, the fewest pass-throughs."""
    gates = [v for v in g.nodes if g.nodes[v][KIND] != KIND_INPUT]
    asap = asap_layers(g)
    alap = {}
    for v in reversed(gates):  # gates are numbered in topological order
        alap[v] = min([depth] + [alap[s] - 1 for s in g.successors(v)])
    best = None
    for ys in itertools.product(*(range(asap[v], alap[v] + 1) for v in gates)):
        y = {v: 0 for v in g.nodes} | dict(zip(gates, ys))
        if all(y[v] > y[u] for u, v in g.edges):
            p = passthroughs(g, y, depth)
            best = p if best is None else min(best, p)
    return best


@settings(max_examples=200, deadline=None)
@given(dags(), st.integers(0, 2))
def test_optimal_layers_are_feasible_and_fewest(g, extra):
    """At the critical path's depth, and at up to two layers more (an output then rides pass-throughs)."""
    depth = depth_of(g, asap_layers(g)) + extra
    y = optimal_layers(g, depth)
    assert set(y) == set(g.nodes)
    assert all(y[v] == 0 for v in g.graph[INPUTS])
    assert all(1 <= y[v] <= depth for v in g.nodes if g.nodes[v][KIND] != KIND_INPUT)
    assert all(y[v] > y[u] for u, v in g.edges)
    assert passthroughs(g, y, depth) == least_passthroughs(g, depth)
