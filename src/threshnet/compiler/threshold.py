"""Stage 3, threshold lowering: boolean gates to integer threshold gates.

A threshold gate is ``[sum(w_i * x_i) >= t]`` with integer ``w`` and ``t``.

* NOT never costs a gate: a reader of ``~x`` uses weight ``-w`` and
  threshold ``t - w``, since ``w * (1 - x) = w - w * x``.
* AND and OR of k literals are one gate each: ``[sum >= k]`` and ``[sum >= 1]``.
* XOR of k operands starts in the "ladder" form: ``h_i = [sum >= i]`` for
  i = 1..k and ``out = [h_1 - h_2 + h_3 - ... >= 1]``.  For k = 2 the ladder is
  OR, AND, then ``[or - and >= 1]``.  Layering may switch an XOR to the
  "even" form, ``out = [sum - 2 * (h_2 + h_4 + ...) >= 1]``, which drops the odd
  rungs but reads the operands one layer later (see ``layering``).
* A node the mapping stage made ``OP_THRESHOLD`` (e.g. a majority) is one
  gate with its weights.
* Gates are hash-consed up to negation, so ``a | b`` and ``~a & ~b`` share
  one gate, and a majority shares with an XOR's "at least two" rung.
  Sharing can cancel terms (``g + (1 - g)``), leaving a gate no output
  reads; such gates are dropped at the end, with their records.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable

import networkx as nx

from .ir import Lit, XorForm, _dump_threshold, add_to_graph
from .keys import (
    BOOL_MAP, INPUTS, KIND, KIND_GATE, KIND_INPUT, NAME, NEG, OP, OP_AND, OP_CONST, OP_INPUT, OP_OR, OP_THRESHOLD,
    OP_XOR, OUTPUTS, ROLE, THRESHOLD, WEIGHT, XORS,
)

__all__ = ["XorForm", "dump_threshold", "gate_value", "linear", "set_fanins", "threshold"]


class _Builder:
    def __init__(self) -> None:
        self.g = nx.DiGraph()
        self.table: dict[tuple, int] = {}

    def input(self, name: str) -> int:
        v = self.g.number_of_nodes()
        self.g.add_node(v, **{KIND: KIND_INPUT, NAME: name})
        return v

    def gate(self, terms: Iterable[tuple[Lit, int]], const: int, role: str, name: str | None,
             share: bool = True) -> Lit:
        """The gate ``[sum(c * value(lit)) + const >= 0]``, shared when possible."""
        weights, threshold = linear(terms, const)
        return self.gate_of(tuple(sorted(weights.items())), threshold, role, name, share)

    def gate_of(self, items: tuple[tuple[int, int], ...], threshold: int, role: str, name: str | None,
                share: bool = True) -> Lit:
        """The gate ``[sum(w * s) >= threshold]`` over ``items``, (signal, weight) pairs sorted by signal."""
        key = (items, threshold)
        neg = False
        if share and items and items[0][1] < 0:  # canonical form: first weight positive
            key = (tuple((s, -w) for s, w in items), 1 - threshold)
            neg = True
        if share and key in self.table:
            return self.table[key], neg
        v = self.g.number_of_nodes()
        add_to_graph(self.g, [(v, {KIND: KIND_GATE, THRESHOLD: key[1], ROLE: role, NAME: name})],
                     [(s, v, {WEIGHT: w}) for s, w in key[0]])
        if share:
            self.table[key] = v
        return v, neg


def linear(terms: Iterable[tuple[Lit, int]], const: int) -> tuple[dict[int, int], int]:
    """Weights and threshold of ``[sum(c * lit) + const >= 0]`` over plain signals."""
    weights: dict[int, int] = {}
    for (s, neg), c in terms:
        if neg:  # c * (1 - x) = c - c * x
            const += c
            c = -c
        weights[s] = weights.get(s, 0) + c
    return {s: w for s, w in weights.items() if w}, -const


def set_fanins(g: nx.DiGraph, v: int, terms: Iterable[tuple[Lit, int]], const: int, negate: bool) -> None:
    """Rewire gate ``v`` in place to ``[sum(c * lit) + const >= 0]``, negated if asked."""
    weights, threshold = linear(terms, const)
    if negate:
        weights = {s: -w for s, w in weights.items()}
        threshold = 1 - threshold
    g.remove_edges_from(list(g.in_edges(v)))
    add_to_graph(g, (), [(s, v, {WEIGHT: w}) for s, w in sorted(weights.items())])
    g.nodes[v][THRESHOLD] = threshold


def threshold(bg: nx.DiGraph) -> nx.DiGraph:
    """Lower a boolean-gate graph to a threshold-gate graph (see :mod:`threshnet.compiler.ir`)."""
    b = _Builder()
    tl: dict[int, Lit] = {}
    inputs = [b.input(bg.nodes[v][NAME]) for v in bg.graph[INPUTS]]
    for v, t in zip(bg.graph[INPUTS], inputs):
        tl[v] = (t, False)
    xors: list[XorForm] = []
    xor_outs: set[int] = set()
    for v in sorted(bg.nodes):
        d = bg.nodes[v]
        op = d[OP]
        if op in (OP_INPUT, OP_CONST):
            continue
        name = d[NAME] if d[NAME] and not d[NAME].startswith("~") else None
        base = name or f"{op}{v}"
        fanins = bg._pred[v]  # networkx's adjacency dict (its edge views cost more per call)
        lits = [(tl[u][0], tl[u][1] ^ e[NEG]) for u, e in fanins.items()]
        k = len(lits)
        if op == OP_THRESHOLD:
            ws = [e[WEIGHT] for e in fanins.values()]
            t = d[THRESHOLD]
            role = ("and" if t == k else "or" if t == 1 else "maj" if 2 * t == k + 1 else "th") \
                if all(w == 1 for w in ws) else "th"
            tl[v] = b.gate(zip(lits, ws), -t, role, name or f"{role}{v}")
        elif op == OP_AND:
            tl[v] = b.gate(((l, 1) for l in lits), -k, "and", base)
        elif op == OP_OR:
            tl[v] = b.gate(((l, 1) for l in lits), -1, "or", base)
        else:
            assert op == OP_XOR
            rungs = []
            weights, t0 = linear(((l, 1) for l in lits), 0)  # rung i is [sum >= i]: one form, t0 + i
            items = tuple(sorted(weights.items()))
            for i in range(1, k + 1):
                role = "or" if i == 1 else "and" if i == k else f"ge{i}"
                rungs.append(b.gate_of(items, t0 + i, role, f"{base}.{role}"))
            out = b.gate(((r, 1 if i % 2 == 0 else -1) for i, r in enumerate(rungs)), -1, "xor", base)
            tl[v] = out
            if out[0] not in xor_outs:  # two XORs of the same operands share one gate: one record
                xor_outs.add(out[0])
                xors.append(XorForm(out[0], out[1], tuple(lits), tuple(rungs)))
    g = b.g
    # Output ports.  A port owns one gate, whose value it carries to the last layer.
    owned: set[int] = set()
    refs: dict[int, int] = {}
    for _, v, _ in bg.graph[OUTPUTS]:
        if bg.nodes[v][OP] != OP_CONST:
            refs[tl[v][0]] = refs.get(tl[v][0], 0) + 1
    outputs: list[tuple[str, int]] = []
    flipped: set[int] = set()
    for port, v, neg in bg.graph[OUTPUTS]:
        if bg.nodes[v][OP] == OP_CONST:
            s, _ = b.gate((), 0 if neg else -1, "const", port, share=False)
            owned.add(s)
            outputs.append((port, s))
            continue
        s, sneg = tl[v]
        sneg ^= neg
        if g.nodes[s][KIND] == KIND_GATE and s not in owned:
            if not sneg:
                owned.add(s)
                outputs.append((port, s))
                continue
            if g.out_degree(s) == 0 and refs[s] == 1:
                set_fanins(g, s, (((u, False), e[WEIGHT]) for u, _, e in g.in_edges(s, data=True)),
                           -g.nodes[s][THRESHOLD], negate=True)
                flipped.add(s)
                owned.add(s)
                outputs.append((port, s))
                continue
        role = "not" if sneg else "copy"
        c, _ = b.gate([((s, sneg), 1)], -1, role, port, share=False)
        owned.add(c)
        outputs.append((port, c))
    for port, s in outputs:  # a gate that is an output port takes the port's name
        g.nodes[s][NAME] = port
    dead = _unread(g, [s for _, s in outputs])
    g.remove_nodes_from(dead)
    g.graph[INPUTS] = tuple(inputs)
    g.graph[OUTPUTS] = tuple(outputs)
    # A record is kept only while every gate it names lives: when sharing cancels an
    # operand out of the rungs (``g ^ ~g'``), that XOR keeps its ladder form for good.
    g.graph[XORS] = tuple(replace(x, out_neg=x.out_neg ^ (x.out in flipped)) for x in xors
                          if x.out not in dead and not any(s in dead for s, _ in x.operands + x.rungs))
    g.graph[BOOL_MAP] = tuple((v, s, neg ^ (s in flipped)) for v, (s, neg) in sorted(tl.items()) if s not in dead)
    return g


def _unread(g: nx.DiGraph, roots: list[int]) -> set[int]:
    """Gates from which no output is reachable.

    Sharing makes them: in ``a & g & ~g'`` where ``g'`` shares ``g``'s gate
    negated, the two terms cancel, and ``g`` may be left with no reader.
    """
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        v = stack.pop()
        if v not in seen:
            seen.add(v)
            stack.extend(g.predecessors(v))
    return {v for v in g.nodes if v not in seen and g.nodes[v][KIND] == KIND_GATE}


def gate_value(g: nx.DiGraph, v: int, values: dict[int, int]) -> int:
    """Evaluate gate ``v`` given its fanins' 0/1 values."""
    total = sum(e[WEIGHT] * values[u] for u, _, e in g.in_edges(v, data=True))
    return int(total >= g.nodes[v][THRESHOLD])


def dump_threshold(g: nx.DiGraph) -> str:
    """Nodes and ports of a threshold or layered graph (``ir.dump`` without the records), for docs/api.md."""
    return _dump_threshold(g, records=False)
