"""Large-support functions: cones that are symmetric in their inputs, found by exhaustive simulation.

A majority of 16 inputs written as gates (an adder tree and a comparison,
or a sorting network) is hundreds of AND/OR/XOR gates, and no cut of a few
leaves sees its function.  But the function of the whole cone is
``[x_1 + ... + x_16 >= 9]``: one threshold gate.

For every node whose *structural support* (the primary inputs its cone
reads) has between ``min_support`` and ``max_support`` inputs, the cone is
simulated on all ``2**s`` rows of its support (numpy, one boolean per row;
nodes with the same support share one simulation).  That is the node's
exact truth table, so what follows is a proof, not a guess:

* polarity: input ``j`` is read like input 0 when exchanging ``x_0`` and
  ``x_j`` leaves the table unchanged, complemented (``w (1 - x)``) when
  exchanging ``x_0`` and ``~x_j`` does; when neither does, the node is not
  symmetric;
* symmetric: the value depends only on ``c``, the number of inputs equal to
  their polarity; then ``f = F(c)`` for a pattern ``F`` over ``0..s``.

A symmetric node is returned as ``(support, negated, pattern)``.  With one
change of value in ``F`` it is one threshold gate ``[c >= k]`` (or its
complement); with changes at ``k_1 < k_2 < ...`` it is a *counter layer*:
rungs ``h_j = [c >= k_j]`` and ``[h_1 - h_2 + h_3 - ... >= 1]`` (LGSynth91's
9symml, "3 to 6 ones", is two rungs and one output gate).

Threshold cones.  With ``threshold_limit``, a node that is not symmetric is
tried as one threshold gate of its whole support (an 8-bit comparison
``a < b`` is ``[sum 2^i (b_i - a_i) >= 1]``, 16 inputs, where a cut of 6
leaves sees only pieces): every input must be unate (its cofactors
comparable; a decreasing input is complemented), and an integer program
over the minimal true and maximal false rows (HiGHS, as in
:mod:`.lp_threshold`) finds weights of least total.  The gate is kept only
when it reproduces the node's table on every row (so the answer is exact,
whatever the solver did) and its partial-sum bound ``|t - 1/2| + sum |w|``
is at most ``threshold_limit``.  At most ``MAX_SOLVES`` programs per graph
(cached by table) keep the pass bounded.

Work is bounded: supports above ``max_support`` are never simulated, and the
simulation stops after a budget of row-evaluations proportional to the
graph, so the pass stays linear.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .lp_threshold import identify_array

__all__ = ["MAX_SOLVES", "Symmetric", "ThresholdCone", "find_symmetric"]

#: Integer programs solved at most per graph when looking for threshold cones.
MAX_SOLVES = 256

_IN, _CONST, _AND, _OR, _XOR, _TH = range(6)


@dataclass(frozen=True)
class Symmetric:
    """Node value = ``pattern[c]``, ``c`` = number of support inputs ``x`` with ``x != negated``."""

    support: tuple[int, ...]   # input node indices, increasing
    negated: tuple[bool, ...]  # read complemented
    pattern: tuple[int, ...]   # value for c = 0..len(support)

    @property
    def changes(self) -> tuple[int, ...]:
        """The counts ``c`` where the value differs from the value at ``c - 1``."""
        return tuple(c for c in range(1, len(self.pattern)) if self.pattern[c] != self.pattern[c - 1])


@dataclass(frozen=True)
class ThresholdCone:
    """Node value = ``[sum w_j x_j >= t]`` over its support (``weights`` aligned with ``support``)."""

    support: tuple[int, ...]
    weights: tuple[int, ...]
    t: int


def find_symmetric(op: list[int], fin: list[tuple[int, ...]], neg: list[tuple[bool, ...]],
                   weights: dict[int, tuple[int, ...]], thresholds: dict[int, int], *,
                   min_support: int = 7, max_support: int = 16, budget: int | None = None,
                   threshold_limit: int | None = None) -> dict[int, Symmetric | ThresholdCone]:
    """Nodes (indices into the compact records, topologically numbered) that are symmetric functions of
    their support, with ``min_support <= |support| <= max_support``; with ``threshold_limit``, also the
    nodes that are one threshold gate of their support within that partial-sum bound."""
    n = len(op)
    input_pos: dict[int, int] = {}
    sup: list = [0] * n  # bitset over input positions, or None when too wide
    for i in range(n):
        o = op[i]
        if o == _IN:
            input_pos[i] = len(input_pos)
            sup[i] = 1 << input_pos[i]
            continue
        s = 0
        for u in fin[i]:
            su = sup[u]
            if su is None:
                s = None
                break
            s |= su
        if s is not None and s.bit_count() > max_support:
            s = None
        sup[i] = s
    groups: dict[int, list[int]] = {}
    for i in range(n):
        s = sup[i]
        if op[i] not in (_IN, _CONST) and s is not None and s.bit_count() >= min_support:
            groups.setdefault(s, []).append(i)
    if budget is None:
        budget = (n << 12) + (1 << 26)  # row-evaluations: linear in the graph
    inputs = [i for i in range(n) if op[i] == _IN]
    found: dict[int, Symmetric | ThresholdCone] = {}
    solved: dict[bytes, tuple[tuple[int, ...], int] | None] = {}
    tested: dict = {}  # truth table bytes -> _symmetric's answer (a table's length is 2^k: k is in the key)
    for s in sorted(groups, key=lambda s: (s.bit_count(), s)):
        k = s.bit_count()
        members = groups[s]
        # The cone of the members: every node whose support lies inside s, reached backwards.
        cone = set()
        stack = list(members)
        while stack:
            v = stack.pop()
            if v in cone:
                continue
            cone.add(v)
            stack.extend(fin[v])
        cost = len(cone) << k
        if cost > budget:
            continue
        budget -= cost
        support = []  # the set bits of s, lowest first (not a scan of every input: that is quadratic)
        rest = s
        while rest:
            low = rest & -rest
            support.append(inputs[low.bit_length() - 1])
            rest ^= low
        rows = np.arange(1 << k, dtype=np.int64)
        val: dict[int, np.ndarray] = {}
        for j, x in enumerate(support):
            val[x] = ((rows >> j) & 1).astype(bool)
        for v in sorted(cone):
            o = op[v]
            if o == _IN:
                continue
            if o == _CONST:
                val[v] = np.zeros(1 << k, dtype=bool)
                continue
            ins = [val[u] ^ ng for u, ng in zip(fin[v], neg[v])]
            if o == _AND:
                val[v] = np.logical_and.reduce(ins)
            elif o == _OR:
                val[v] = np.logical_or.reduce(ins)
            elif o == _XOR:
                val[v] = np.logical_xor.reduce(ins)
            else:
                total = np.zeros(1 << k, dtype=np.int64)
                for x, w in zip(ins, weights[v]):
                    total += w * x
                val[v] = total >= thresholds[v]
        counts = np.zeros(1 << k, dtype=np.int64)
        for j in range(k):
            counts += (rows >> j) & 1
        for v in members:
            table = val[v].tobytes()  # the same function of k inputs recurs (a chain of XOR8s): test it once
            sym = tested.get(table, tested)
            if sym is tested:
                sym = tested[table] = _symmetric(val[v], k, counts, rows)
            if sym is not None:
                negated, pattern = sym
                found[v] = Symmetric(tuple(support), negated, pattern)
            elif threshold_limit is not None:
                key = np.packbits(val[v]).tobytes()
                if key not in solved:
                    if len(solved) >= MAX_SOLVES:
                        continue
                    real = identify_array(val[v], threshold_limit)
                    if real is not None and abs(real[1] - 0.5) + sum(map(abs, real[0])) > threshold_limit:
                        real = None
                    solved[key] = real
                real = solved[key]
                if real is not None:
                    found[v] = ThresholdCone(tuple(support), *real)
    return found


def _symmetric(table: np.ndarray, k: int, counts: np.ndarray, rows: np.ndarray):
    """(negated, pattern) when ``table`` is symmetric in its ``k`` inputs up to complementing some."""
    # Polarity of each input relative to input 0: f is unchanged when x_0 and x_j are exchanged
    # (same polarity) or when x_0 and ~x_j are (opposite).  A symmetric function passes one test.
    negated = [False] * k
    for j in range(1, k):
        mask = 1 | (1 << j)
        differ = ((rows ^ (rows >> j)) & 1).astype(bool)
        if np.array_equal(table[np.where(differ, rows ^ mask, rows)], table):
            continue
        if np.array_equal(table[np.where(differ, rows, rows ^ mask)], table):
            negated[j] = True
        else:
            return None
    flip = sum(1 << j for j in range(k) if negated[j])
    c = counts[rows ^ flip] if flip else counts
    ones = np.bincount(c, weights=table.astype(np.float64), minlength=k + 1)
    total = np.bincount(c, minlength=k + 1)
    if not np.all((ones == 0) | (ones == total)):
        return None
    pattern = tuple(int(o > 0) for o in ones)
    if len(set(pattern)) < 2:
        return None
    return tuple(negated), pattern
