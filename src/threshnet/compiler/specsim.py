"""Bit-parallel simulation of a ``Spec`` itself: the oracle of ``check`` on large circuits.

What it computes.  Every signal of the spec (input, assigned name, and every
``&``/``|``/``^``/``~`` node of every expression tree) is a row of ``uint64``
words; bit ``r % 64`` of word ``r // 64`` is the signal's value on input row
``r``.  Bitwise AND, OR, XOR and NOT on words are the boolean operators on 64
rows at once, so the simulator computes exactly what the reference evaluator
(``compiler.evaluate``) computes, row by row.

Why it is independent of the compiler.  It reads only the ``Spec``: the
assignments (in dependency order, ``spec.assignment_order``) and their
expression trees.  It never calls ``lower`` or reads any graph that the
compiler builds, so a bug in lowering, mapping or layering cannot appear on
both sides of ``check``.  Its only simplifications are ones whose soundness
is immediate: a ``~`` becomes a negation flag on the operand it reads (the
word is XORed with all ones when read), and two nodes with the same operator
and the same (signal, negation) operands are one signal (structural sharing;
commutative operands are sorted).  Nothing else is folded.

Speed.  Nodes are grouped by (level, operator) where a node's level is one
more than its deepest operand; each group is one numpy gather, XOR with the
negation masks and one bitwise reduction, so Python overhead is paid per
group.  A signal's row in the value table is reused once the last group
that reads it has gathered it (every group copies its operands before it
writes), so the table holds only live signals; rows are processed in chunks
whose size keeps that table near ``TABLE_BYTES``.  Everything is iterative: 100,000-deep ``~`` chains and
100,000-operand expressions are fine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .bitsim import pack_rows, unpack_rows  # the word packing only; bitsim's simulator is not used
from .spec import AND, OR, XOR, BinOp, Const, Name, Not, Spec, assignment_order

#: Target size of the (signals x words) value table per chunk of rows.
TABLE_BYTES = 32 << 20
#: Most words (64 rows each) simulated in one chunk.
MAX_CHUNK_WORDS = 1024
_ALL = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
_ZERO = np.uint64(0)
_REDUCE = {AND: np.bitwise_and, OR: np.bitwise_or, XOR: np.bitwise_xor}

#: A literal: (signal row, negated).  Row 0 is the constant 0.
Lit = tuple[int, bool]


@dataclass(frozen=True)
class _Group:
    op: str
    out: np.ndarray  # (m,) rows written
    src: np.ndarray  # (m, 2) rows read
    neg: np.ndarray  # (m, 2, 1) uint64: all ones where the operand is negated


class SpecSim:
    """A simulator of one spec, built once and run on any number of rows."""

    def __init__(self, spec: Spec) -> None:
        self.n_inputs = len(spec.inputs)
        # Row 0: constant 0; rows 1..n: the inputs, in port order.
        env: dict[str, Lit] = {name: (i + 1, False) for i, name in enumerate(spec.inputs)}
        n_rows = 1 + self.n_inputs
        level = [0] * n_rows
        table: dict[tuple, int] = {}
        members: dict[tuple[int, str], list[tuple[int, int, int, bool, bool]]] = {}
        for a in assignment_order(spec):
            # Iterative postorder over the tree; `memo` shares a node object read twice.
            memo: dict[int, Lit] = {}
            stack: list[tuple[object, bool]] = [(a.expr, False)]
            vals: list[Lit] = []
            while stack:
                node, expanded = stack.pop()
                if not expanded:
                    hit = memo.get(id(node))
                    if hit is not None:
                        vals.append(hit)
                        continue
                    if isinstance(node, Const):
                        lit: Lit = (0, bool(node.value))
                    elif isinstance(node, Name):
                        lit = env[node.id]
                    elif isinstance(node, Not):
                        stack.append((node, True))
                        stack.append((node.operand, False))
                        continue
                    elif isinstance(node, BinOp):
                        stack.append((node, True))
                        stack.append((node.right, False))
                        stack.append((node.left, False))
                        continue
                    else:
                        raise TypeError(f"not an expression node: {node!r}")
                elif isinstance(node, Not):
                    row, neg = vals.pop()
                    lit = (row, not neg)
                else:
                    assert isinstance(node, BinOp)
                    r = vals.pop()
                    l = vals.pop()
                    key = (node.op, *sorted((l, r)))
                    row = table.get(key)
                    if row is None:
                        row = n_rows
                        n_rows += 1
                        table[key] = row
                        lv = 1 + max(level[l[0]], level[r[0]])
                        level.append(lv)
                        members.setdefault((lv, node.op), []).append((row, l[0], r[0], l[1], r[1]))
                    lit = (row, False)
                memo[id(node)] = lit
                vals.append(lit)
            env[a.target] = vals.pop()
        self.n_signals = n_rows
        outputs = tuple(env[o] for o in spec.outputs)
        ordered = sorted(members.items(), key=lambda kv: (kv[0][0], kv[0][1]))
        # Slots: a signal's row is reused once the last group reading it has gathered its operands
        # (every group copies its operands before writing), so the table holds only live signals.
        last_use: dict[int, int] = {}
        for gi, (_, ms) in enumerate(ordered):
            for m in ms:
                last_use[m[1]] = gi
                last_use[m[2]] = gi
        for r, _ in outputs:
            last_use[r] = len(ordered)  # outputs live to the end
        fixed = 1 + self.n_inputs  # the constant and the inputs keep their rows
        slot = list(range(fixed)) + [-1] * (n_rows - fixed)
        free: list[int] = []
        n_slots = fixed
        self.groups: list[_Group] = []
        for gi, ((_, op), ms) in enumerate(ordered):
            src = np.array([(slot[m[1]], slot[m[2]]) for m in ms], dtype=np.int64).reshape(len(ms), 2)
            for m in ms:
                for r in (m[1], m[2]):
                    if r >= fixed and last_use.get(r) == gi and slot[r] >= 0:
                        free.append(slot[r])
                        slot[r] = -2 - slot[r]  # freed (kept distinct from "not yet placed")
            out = []
            for m in ms:
                if free:
                    slot[m[0]] = free.pop()
                else:
                    slot[m[0]] = n_slots
                    n_slots += 1
                out.append(slot[m[0]])
                if m[0] not in last_use:  # read by nobody: its row is free again after this group
                    free.append(slot[m[0]])
            neg = np.array([m[3:] for m in ms], dtype=bool).reshape(len(ms), 2, 1)
            self.groups.append(_Group(op, np.array(out, dtype=np.int64), src, np.where(neg, _ALL, _ZERO)))
        self.outputs: tuple[Lit, ...] = tuple((slot[r], neg) for r, neg in outputs)
        self.n_slots = n_slots
        self.chunk_words = int(max(1, min(MAX_CHUNK_WORDS, TABLE_BYTES // (8 * n_slots))))

    def run_words(self, words: np.ndarray) -> np.ndarray:
        """``(n_inputs, n_words)`` uint64 to ``(n_outputs, n_words)`` uint64."""
        words = np.asarray(words, dtype=np.uint64)
        if words.ndim != 2 or words.shape[0] != self.n_inputs:
            raise ValueError(f"words must have shape ({self.n_inputs}, n_words), got {words.shape}")
        c = self.chunk_words
        return np.concatenate([self._run(words[:, i:i + c]) for i in range(0, max(1, words.shape[1]), c)], axis=1)

    def _run(self, words: np.ndarray) -> np.ndarray:
        n_words = words.shape[1]
        val = np.empty((self.n_slots, n_words), dtype=np.uint64)
        val[0] = _ZERO
        val[1:1 + self.n_inputs] = words
        for grp in self.groups:
            x = val[grp.src]  # (m, 2, w)
            x ^= grp.neg
            val[grp.out] = _REDUCE[grp.op](x[:, 0], x[:, 1])
        out = np.empty((len(self.outputs), n_words), dtype=np.uint64)
        for i, (r, neg) in enumerate(self.outputs):
            out[i] = val[r] ^ _ALL if neg else val[r]
        return out

    def run(self, rows: np.ndarray) -> np.ndarray:
        """``(n_rows, n_inputs)`` 0/1 to ``(n_rows, n_outputs)`` uint8, like ``evaluate_batch``."""
        rows = np.asarray(rows)
        if rows.ndim != 2 or rows.shape[1] != self.n_inputs:
            raise ValueError(f"rows must have shape (n, {self.n_inputs}), got {rows.shape}")
        if rows.size and ((rows != 0) & (rows != 1)).any():
            raise ValueError("rows must hold only 0 and 1")
        n = rows.shape[0]
        if n == 0:
            return np.zeros((0, len(self.outputs)), dtype=np.uint8)
        return unpack_rows(self.run_words(pack_rows(rows.astype(np.uint8))), n)
