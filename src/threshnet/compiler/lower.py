"""Stage 2, lower: spec AST to a networkx graph of boolean gates.

Common subexpressions are shared (structural hashing), constants folded,
NOTs become negated edges, trees of one operator become one n-ary gate, and
logic that reaches no output is dropped.  Everything is iterative and works
on flat lists until the final graph is built.
"""

from __future__ import annotations

import networkx as nx

from .ir import add_to_graph, dump
from .keys import INPUTS, NAME, NEG, OP, OP_AND, OP_CONST, OP_INPUT, OP_OR, OP_XOR, OUTPUTS, XOR_MAX_ARITY
from .spec import AND, OR, XOR, Spec, fold

FALSE, TRUE = 0, 1  # literals of the constant node 0


class _Builder:
    """Hash-consed gates over literals ``2 * node + negated``."""

    def __init__(self) -> None:
        self.ops: list[str] = [OP_CONST]
        self.fanins: list[tuple[int, ...]] = [()]
        self.table: dict[tuple, int] = {}

    def new(self, op: str, fanins: tuple[int, ...]) -> int:
        key = (op, fanins)
        node = self.table.get(key)
        if node is None:
            node = len(self.ops)
            self.ops.append(op)
            self.fanins.append(fanins)
            if op != OP_INPUT:
                self.table[key] = node
        return 2 * node

    def gate(self, op: str, lits: list[int]) -> int:
        """An n-ary gate, simplified; returns a literal."""
        if op == OP_XOR:
            parity = 0
            count: dict[int, int] = {}
            for l in lits:
                parity ^= l & 1
                base = l & ~1
                if base == FALSE:
                    continue
                count[base] = count.get(base, 0) ^ 1
            keep = sorted(b for b, c in count.items() if c)
            if not keep:
                return FALSE ^ parity
            while len(keep) > XOR_MAX_ARITY:  # a balanced tree of bounded parities
                keep = [self.new(OP_XOR, tuple(keep[i:i + XOR_MAX_ARITY])) if len(keep[i:i + XOR_MAX_ARITY]) > 1
                        else keep[i] for i in range(0, len(keep), XOR_MAX_ARITY)]
            if len(keep) == 1:
                return keep[0] ^ parity
            return self.new(OP_XOR, tuple(keep)) ^ parity
        absorbing, neutral = (FALSE, TRUE) if op == OP_AND else (TRUE, FALSE)
        seen: set[int] = set()
        for l in lits:
            if l == absorbing or l ^ 1 in seen:
                return absorbing
            if l != neutral:
                seen.add(l)
        if not seen:
            return neutral
        if len(seen) == 1:
            return next(iter(seen))
        return self.new(op, tuple(sorted(seen)))


def lower(spec: Spec) -> nx.DiGraph:
    """Lower a spec to a boolean-gate graph (see :mod:`threshnet.compiler.ir`)."""
    b = _Builder()
    env: dict[str, int] = {}
    for name in spec.inputs:
        env[name] = b.new(OP_INPUT, (len(b.ops),))
    names: dict[int, list[str]] = {}
    gate_op = {AND: OP_AND, OR: OP_OR, XOR: OP_XOR}
    env = fold(spec, env, const=lambda v: TRUE if v else FALSE, unary=lambda l: l ^ 1,
               binary=lambda op, l, r: b.gate(gate_op[op], [l, r]),
               on_assign=lambda a, lit: names.setdefault(lit, []).append(a.target))
    outputs = [(o, env[o]) for o in spec.outputs]
    return _flatten(b, spec, outputs, names)


def _flatten(b: _Builder, spec: Spec, outputs: list[tuple[str, int]], names: dict[int, list[str]]) -> nx.DiGraph:
    """Merge single-reader same-operator children into n-ary gates, then build the graph."""
    n = len(b.ops)
    fanout = [0] * n
    reader = [-1] * n
    for v in range(n):
        for l in b.fanins[v] if b.ops[v] != OP_INPUT else ():
            fanout[l >> 1] += 1
            reader[l >> 1] = v
    for _, l in outputs:
        fanout[l >> 1] += 1
        reader[l >> 1] = -2

    def absorbed(u: int, lit_neg: int) -> bool:
        r = reader[u]
        return fanout[u] == 1 and r >= 0 and not lit_neg and b.ops[r] == b.ops[u]

    # Is node u merged into its one reader?  (AND/OR/XOR only; XOR children
    # arrive un-negated because lowering floats XOR negations to the root.)
    merged = [False] * n
    for v in range(n):
        if b.ops[v] in (OP_AND, OP_OR, OP_XOR):
            for l in b.fanins[v]:
                u = l >> 1
                if b.ops[u] == b.ops[v] and absorbed(u, l & 1):
                    merged[u] = True

    # Rebuild in topological (creation) order with n-ary simplification.
    nb = _Builder()
    remap = [FALSE] * n
    for v in range(1, n):
        op = b.ops[v]
        if op == OP_INPUT:
            remap[v] = nb.new(OP_INPUT, (len(nb.ops),))
            continue
        if merged[v]:
            continue
        leaves: list[int] = []
        stack = list(reversed(b.fanins[v]))
        while stack:
            l = stack.pop()
            u = l >> 1
            if merged[u] and not (l & 1):
                stack.extend(reversed(b.fanins[u]))
            else:
                leaves.append(remap[u] ^ (l & 1))
        remap[v] = nb.gate(op, leaves)

    def newlit(l: int) -> int:
        return remap[l >> 1] ^ (l & 1)

    new_names: dict[int, list[str]] = {}
    for l, ns in names.items():
        if not merged[l >> 1]:
            new_names.setdefault(newlit(l), []).extend(ns)
    return _to_graph(nb, spec, [(o, newlit(l)) for o, l in outputs], new_names)


def _to_graph(b: _Builder, spec: Spec, outputs: list[tuple[str, int]], names: dict[int, list[str]]) -> nx.DiGraph:
    n = len(b.ops)
    live = [False] * n
    stack = [l >> 1 for _, l in outputs]
    while stack:
        v = stack.pop()
        if live[v]:
            continue
        live[v] = True
        if b.ops[v] != OP_INPUT:
            stack.extend(l >> 1 for l in b.fanins[v])
    input_nodes = [v for v in range(n) if b.ops[v] == OP_INPUT]
    # Number inputs first (port order), then live gates in topological order.
    order = input_nodes + [v for v in range(n) if live[v] and b.ops[v] != OP_INPUT]
    new_id = {v: i for i, v in enumerate(order)}
    label: dict[int, str] = {}
    for l, ns in names.items():  # a positive name beats a negated one
        v = l >> 1
        if v in new_id and b.ops[v] != OP_INPUT:
            tag = ns[0] if not (l & 1) else "~" + ns[0]
            if v not in label or (label[v].startswith("~") and not tag.startswith("~")):
                label[v] = tag
    gates = order[len(input_nodes):]
    g = nx.DiGraph()
    add_to_graph(g, [(new_id[i], {OP: OP_INPUT, NAME: name}) for i, name in zip(input_nodes, spec.inputs)]
                 + [(new_id[v], {OP: b.ops[v], NAME: label.get(v)}) for v in gates],
                 [(new_id[l >> 1], new_id[v], {NEG: bool(l & 1)}) for v in gates for l in b.fanins[v]])
    g.graph[INPUTS] = tuple(new_id[i] for i in input_nodes)
    g.graph[OUTPUTS] = tuple((o, new_id[l >> 1], bool(l & 1)) for o, l in outputs)
    return g


def dump_bool(g: nx.DiGraph) -> str:
    """``ir.dump(g, "boolean")``, kept under its old name (docs/api.md uses it)."""
    return dump(g, "boolean")
