"""The spec side of the miter: a Tseitin encoding of the spec's AST.

Each input is a fresh variable; each ``a & b``, ``a | b``, ``a ^ b`` a
hash-consed gate variable ``g`` with the clauses of ``g <-> a op b`` (OR as
``~(~a & ~b)``, NOT as a negated literal, constants as the literal of the
constant-true variable).  The clauses are definitional: for every input
there is exactly one assignment of the gate variables that satisfies them,
the one with each gate's true value, so adding them keeps the models of the
formula in one-to-one correspondence with the inputs (see :mod:`.encode`).

Parity trees are re-associated
------------------------------
``i0 ^ i1 ^ ... ^ i99999`` parses as a left-deep chain whose inner signals
are prefix parities; a network computes the same parity as a balanced tree
of small parities, so node-by-node sweeping (:mod:`.driver`) would find
almost no equal signals and leave one huge XOR miter.  So a tree of XORs
whose inner nodes have one reader each is collected into one list of leaf
literals (NOT on such a node flips a parity bit), leaves that occur twice
cancel, and the parity is encoded over the leaves sorted by variable, in
groups of ``XOR_GROUP`` and then groups of those.  XOR is associative and
commutative, so this is the same function: the re-association is sound
whatever grouping is chosen; the grouping only decides which signals exist
for sweeping to match.  A parity read by two readers (or by an AND/OR, or
an output) is encoded once and becomes a leaf literal for its readers, so
each leaf is handled once and the work stays linear.

The walk is :func:`threshnet.compiler.spec.fold_expr` in
:func:`~threshnet.compiler.spec.assignment_order`, the same postorder walk
the evaluator and the lowering use, so it is iterative (100,000-deep
expressions are fine) and shared subexpressions are encoded once.
"""

from __future__ import annotations

from typing import Union

import numpy as np

from ..compiler.spec import AND, OR, XOR, BinOp, Const, Expr, Name, Not, Spec, assignment_order, children, fold_expr
from .encode import FALSE, TRUE, _Problem

#: Leaves per parity group; a network's XOR gates are of about this arity.
XOR_GROUP = 8


class _Parity:
    """A parity not yet encoded: leaf literals (duplicates cancel) and a negation flag."""

    __slots__ = ("leaves", "neg", "lit")

    def __init__(self, leaves: list[int], neg: bool) -> None:
        self.leaves, self.neg, self.lit = leaves, neg, None


Value = Union[int, _Parity]


def encode_spec(p: _Problem, spec: Spec, pats: np.ndarray) -> tuple[list[int], list[int], list[int]]:
    """Encode ``spec`` into ``p``: input variables, output literals, and the gate variables in creation order.

    ``pats`` (patterns x inputs, 0/1) are the simulation values of the inputs;
    each gate's simulation value is computed as it is made.
    """
    inputs: list[int] = []
    env: dict[str, Value] = {}
    for i, name in enumerate(spec.inputs):
        v = p.new_var()
        inputs.append(v)
        p.free.add(v)
        env[name] = v
        p.sim[v] = pats[:, i].astype(bool)
    gates: list[int] = []
    readers = _readers(spec)

    def made(g: int, top: int) -> int:
        if p.top > top:
            gates.append(abs(g))
        return g

    def lit(v: Value) -> int:
        """The literal of ``v``, encoding a pending parity (groups of XOR_GROUP, leaves by variable)."""
        if isinstance(v, int):
            return v
        if v.lit is None:
            count: dict[int, int] = {}
            neg = v.neg
            for l in v.leaves:
                if l in (TRUE, FALSE):
                    neg ^= l == TRUE
                    continue
                neg ^= l < 0
                count[abs(l)] = count.get(abs(l), 0) ^ 1
            level = sorted(x for x, c in count.items() if c)
            while len(level) > 1:
                nxt = []
                for i in range(0, len(level), XOR_GROUP):
                    acc = level[i]
                    for x in level[i + 1:i + XOR_GROUP]:
                        top = p.top
                        acc = made(p.xor_(acc, x), top)
                    nxt.append(acc)
                level = nxt
            out = level[0] if level else FALSE
            v.lit = -out if neg else out
            v.leaves = []
        return v.lit

    def pending(node: Expr, v: Value) -> Value:
        """``v`` as a parity its one reader may extend in place, or a literal when it has other readers."""
        if isinstance(v, _Parity) and v.lit is None and readers.get(id(node), 0) == 1:
            return v
        return lit(v)

    def leaf(node: Const | Name) -> Value:
        return env[node.id] if isinstance(node, Name) else (TRUE if node.value else FALSE)

    def unary(node: Not, v: Value) -> Value:
        v = pending(node.operand, v)
        if isinstance(v, _Parity):
            v.neg = not v.neg
            return v
        return -v

    def binary(node: BinOp, l: Value, r: Value) -> Value:
        l, r = pending(node.left, l), pending(node.right, r)
        if node.op == XOR:
            if isinstance(l, _Parity) and isinstance(r, _Parity):
                big, small = (l, r) if len(l.leaves) >= len(r.leaves) else (r, l)
                big.leaves.extend(small.leaves)
                big.neg ^= small.neg
                return big
            if isinstance(l, _Parity):
                l.leaves.append(r)
                return l
            if isinstance(r, _Parity):
                r.leaves.append(l)
                return r
            return _Parity([l, r], False)
        l, r = lit(l), lit(r)
        top = p.top
        return made(p.and_(l, r) if node.op == AND else p.or_(l, r), top)

    memo: dict[int, Value] = {}
    for a in assignment_order(spec):
        v = fold_expr(a.expr, leaf, unary, binary, memo)
        env[a.target] = pending(a.expr, v)
    return inputs, [lit(env[o]) for o in spec.outputs], gates


def _readers(spec: Spec) -> dict[int, int]:
    """Readers of each expression node (by id): parent nodes, plus name reads and outputs of assignment roots.

    Only the count 1 matters: such a node's pending parity may be extended by its reader.
    """
    count: dict[int, int] = {}
    seen: set[int] = set()
    name_reads: dict[str, int] = {o: 1 for o in spec.outputs}
    for a in spec.assignments:
        stack = [a.expr]
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, Name):
                name_reads[node.id] = name_reads.get(node.id, 0) + 1
            for c in children(node):
                count[id(c)] = count.get(id(c), 0) + 1
                stack.append(c)
    for a in spec.assignments:  # an assignment's value is read through its name
        count[id(a.expr)] = count.get(id(a.expr), 0) + name_reads.get(a.target, 0)
    return count
