"""Stage 2 for word programs, synthesize: word operators to threshold gates, exact in the target dtype.

A v2 spec keeps its words (:mod:`.words`); instead of lowering every operator
to AND/OR/XOR bits, :func:`synthesize` builds each operator from threshold
gates ``[sum w_i x_i >= t]`` with integer weights, by one function per
operator (the registry :data:`SYNTH`).  The result is a graph of the
``mapped`` dialect of :mod:`.ir` (every gate ``OP_THRESHOLD``, weights on the
edges, ``NEG`` always false), with ``graph[INPUTS]`` one node per input bit in
port order and ``graph[OUTPUTS]`` the output bits in port order.

The builder
-----------
:class:`Builder` hash-conses gates over *literals* ``lit = 2 * node + neg``
(``lit ^ 1`` negates; node 0 is the constant false, so ``FALSE = 0`` and
``TRUE = 1``).  ``b.th(terms, t)`` returns the literal of
``[sum w * value(lit) >= t]`` for ``terms = [(lit, w), ...]``:

* a negated literal is rewritten ``w * (1 - x) = w - w * x``, constants fold
  into ``t``, equal nodes merge, zero weights drop;
* a gate that is constant over its input box folds to ``TRUE``/``FALSE``, and
  ``[w x >= t]`` that is ``x`` or ``~x`` is that literal (no gate);
* the gate is stored with its first weight positive (``[-s >= t]`` is the
  negation of ``[s >= 1 - t]``), so a gate and its complement are one node;
* **exactness**: every gate must fit the dtype.  With ``S`` the bound on the
  gate's partial sums that ``threshnet.precision.analyze`` computes (step:
  ``|t - 1/2| + sum |w|``; ReLU: ``|t| + 2 + sum |w| * m(x)``, where
  ``m(x) = 2 min(hi + 1, -lo) - 1`` is the largest value the two neurons of a
  wide ReLU gate ``x`` pass to a reader, and 1 otherwise),
  ``S <= budget`` and ``|w| <= max_weight``: for a float with ``p``
  significant bits the budget is ``2**(p - 1)`` (step neurons have
  half-integer biases), and for ReLU networks ``2**p`` for hidden gates
  (integer biases) while every output gate (the step output layer) keeps
  ``2**(p - 1)``: :func:`synthesize` builds with ``2**p`` and rebuilds with
  ``2**(p - 1)`` throughout when an output gate exceeds it.  A gate that
  does not fit raises :class:`Unfit`;
  constructions catch it (``b.attempt``) and take a smaller block size or a
  deeper construction.

Soundness: each gate is an exact integer function of 0/1 values; the builder
only applies identities of integer arithmetic (negation, constant folding,
merging, complement), and the fit rule is the precision analysis' own bound,
so the network ``compile`` builds from the graph passes its certification in
the dtype the graph was synthesized for.  The constructions are checked
against :func:`~.words.evaluate_words` (tests simulate the builder directly,
:func:`simulate`) and proved against the bit-level reference lowering.

Derived gates: ``and_``/``or_`` (split into a tree when too wide), ``xor``
(``[sum x - 2 sum_{i even} [sum x >= i] >= 1]``, or the unit-weight ladder
under a small ``max_weight``), ``mux`` and ``and_into`` (an AND folded into
a gate operand, ``[L + M x >= t + M]``).  Constructions with a depth/size
trade-off enumerate *radix plans* (:func:`radix_plans`: groups of ``k1``
digits, groups of ``k2`` groups, ...) and :func:`shallowest` builds them
under ``b.attempt``, keeping the least deep (then smallest) plan that fits.

The registry
------------
``SYNTH[op](b, node, operand_bits) -> result bits``: ``operand_bits`` holds,
per operand, its literals LSB first; the result has exactly ``node.width``
literals.  Modules register with ``@register("op")``; a later registration
replaces an earlier one (the modules imported at the end of this one, in
order).  ``b.objective`` is ``"depth"`` (fewest layers that fit, then fewest
gates) or ``"size"`` (fewest gates); ``b.depth(lit)`` is a literal's gate
depth, for choosing constructions.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, replace
from operator import itemgetter
from typing import Callable, Iterator, Sequence

import networkx as nx
import numpy as np

from .errors import SpecError
from .keys import INPUTS, NAME, NEG, OP, OP_CONST, OP_INPUT, OP_THRESHOLD, OUTPUTS, THRESHOLD, WEIGHT
from .ir import add_to_graph
from .options import ACTIVATIONS, FLOAT_BITS, OBJECTIVES, choice
from .words import WNode, WordSpec, verify_words

__all__ = ["FALSE", "TRUE", "OBJECTIVES", "Builder", "SYNTH", "Unfit", "budget_for", "register", "simulate",
           "synthesize"]

FALSE, TRUE = 0, 1

Terms = Sequence[tuple[int, int]]


XOR_BLOCK = 64
"""The widest parity made in one depth-2 block (``k / 2`` gates of ``k`` inputs each); wider ones
are a parity of blocks, so ``n`` bits take ``O(n * XOR_BLOCK)`` edges, not ``O(n**2)``."""


class Unfit(Exception):
    """A gate whose partial sums (or weights) exceed the builder's budget."""


def budget_for(dtype: str) -> int:
    """The largest partial-sum bound a gate may have and stay exact in ``dtype``: ``2**(p - 1)``."""
    if dtype not in FLOAT_BITS:
        raise ValueError(f"cannot synthesize for dtype {dtype!r}; choose one of {', '.join(FLOAT_BITS)}")
    return 2 ** (FLOAT_BITS[dtype] - 1)


_first = itemgetter(0)


@dataclass(frozen=True)
class Gate:
    """A stored gate: ``[sum w * node >= t]`` over plain (un-negated) nodes, first weight positive."""

    terms: tuple[tuple[int, int], ...]
    t: int


class Builder:
    """Hash-consed threshold gates over literals (see the module docstring)."""

    def __init__(self, budget: int, objective: str = "depth", max_weight: int | None = None,
                 activation: str = "step") -> None:
        self.budget = int(budget)
        self.objective = choice("objective", objective, OBJECTIVES)
        self.max_weight = max_weight
        self.activation = choice("activation", activation, ACTIVATIONS)
        self.gates: list[Gate | None] = [None]  # node 0: constant false
        self.names: list[str | None] = [None]
        self.inputs: list[int] = []
        self._depth: list[int] = [0]
        self._mag: list[int] = [1]
        self._table: dict[Gate, int] = {}
        self.current: tuple[int, WNode] | None = None  # the word node being synthesized

    # -- nodes ---------------------------------------------------------------------------------
    def input(self, name: str) -> int:
        """A new input bit; its literal."""
        v = len(self.gates)
        self.gates.append(None)
        self.names.append(name)
        self._depth.append(0)
        self._mag.append(1)
        self.inputs.append(v)
        return 2 * v

    @staticmethod
    def const(v: bool) -> int:
        return TRUE if v else FALSE

    def depth(self, lit: int) -> int:
        """Threshold-gate depth of a literal (inputs and constants 0)."""
        return self._depth[lit >> 1]

    def is_gate(self, lit: int) -> bool:
        return self.gates[lit >> 1] is not None

    def gate_of(self, lit: int) -> Gate | None:
        return self.gates[lit >> 1]

    @property
    def size(self) -> int:
        """Gates built so far (dead ones included)."""
        return len(self.gates) - 1 - len(self.inputs)

    # -- the gate ------------------------------------------------------------------------------
    def normalize(self, terms: Terms, t: int) -> tuple[dict[int, int], int]:
        """``{node: weight}`` and threshold over plain nodes (constants folded, zeros dropped)."""
        ws: dict[int, int] = {}
        get = ws.get
        for lit, w in terms:
            if not w:
                continue
            w = int(w)
            if lit & 1:
                t -= w
                w = -w
            node = lit >> 1
            if node:  # node 0 is the constant false: contributes 0 (a TRUE read was moved into t above)
                ws[node] = get(node, 0) + w
        if 0 in ws.values():  # weights that cancelled
            ws = {n: w for n, w in ws.items() if w}
        return ws, int(t)

    def cost(self, ws: dict[int, int], t: int, abs_sum: int | None = None) -> float:
        """The bound ``S`` on the gate's partial sums (see the module docstring); ``abs_sum``, when
        given, is ``sum(abs(w) for w in ws.values())``."""
        if self.activation == "step":
            return abs(t - 0.5) + (sum(abs(w) for w in ws.values()) if abs_sum is None else abs_sum)
        return abs(t) + 2 + sum(abs(w) * self._mag[n] for n, w in ws.items())

    def gate_cost(self, lit: int) -> float:
        """The partial-sum bound of a literal's gate (0 for inputs and constants)."""
        g = self.gates[lit >> 1]
        return 0 if g is None else self.cost(dict(g.terms), g.t)

    def fits(self, terms: Terms, t: int) -> bool:
        ws, t = self.normalize(terms, t)
        return self._fits(ws, t)

    def _fits(self, ws: dict[int, int], t: int, abs_sum: int | None = None) -> bool:
        if self.max_weight is not None and any(abs(w) > self.max_weight for w in ws.values()):
            return False
        return self.cost(ws, t, abs_sum) <= self.budget

    def th(self, terms: Terms, t: int, name: str | None = None) -> int:
        """The literal of ``[sum w * lit >= t]``; raises :class:`Unfit` if the gate does not fit."""
        ws, t = self.normalize(terms, t)
        return self._gate(ws, self._sums(ws), t, name)

    def th_each(self, terms: Terms, ts: Sequence[int], names: Sequence[str | None]) -> list[int]:
        """``[th(terms, t, name) for t, name in zip(ts, names)]``, with ``terms`` normalized and sorted
        once (a counter's gates read one sum against many thresholds)."""
        ws, shift = self.normalize(terms, 0)  # normalize(terms, t) gives the threshold t + shift
        sums = self._sums(ws)
        return [self._gate(ws, sums, t + shift, name) for t, name in zip(ts, names)]

    @staticmethod
    def _sums(ws: dict[int, int]) -> list:
        """``[negative weights' sum, positive weights' sum, None]``; :meth:`_gate` fills the last slot
        with the sorted terms (and whether they were negated) the first time it needs them."""
        lo = hi = 0
        for w in ws.values():
            if w < 0:
                lo += w
            else:
                hi += w
        return [lo, hi, None]

    def _gate(self, ws: dict[int, int], sums: list, t: int, name: str | None) -> int:
        """:meth:`th` after normalizing: ``ws`` and ``t`` as :meth:`normalize` gives them."""
        lo, hi, keyed = sums
        if lo >= t:
            return TRUE
        if hi < t:
            return FALSE
        if len(ws) == 1:  # [w x >= t], not constant: x (w > 0) or ~x (w < 0)
            (n, w), = ws.items()
            return 2 * n if w > 0 else 2 * n + 1
        if keyed is None:  # stored gates have their first weight positive: negate all when it is not
            items = sorted(ws.items())
            keyed = sums[2] = (tuple((n, -w) for n, w in items), 1) if items[0][1] < 0 else (tuple(items), 0)
        items, neg = keyed
        if neg:
            t = 1 - t
            lo, hi = -hi, -lo  # the sums of the negated weights
        key = Gate(items, t)
        v = self._table.get(key)
        if v is not None:
            return 2 * v + neg
        t_ws = 1 - t if neg else t  # the threshold of ws itself (t is the stored, negated gate's)
        if not self._fits(ws, t_ws, hi - lo):
            big = max(abs(w) for w in ws.values())
            if self.max_weight is not None and big > self.max_weight:
                raise Unfit(f"gate of {len(ws)} inputs with a weight of {big}, above max_weight {self.max_weight}")
            raise Unfit(f"gate of {len(ws)} inputs with partial sums up to {self.cost(ws, t_ws):g} "
                        f"(budget {self.budget})")
        v = len(self.gates)
        self.gates.append(key)
        self.names.append(name)
        self._depth.append(1 + max(map(self._depth.__getitem__, ws)))
        zlo, zhi = lo - t, hi - t
        self._mag.append(2 * min(zhi + 1, -zlo) - 1 if zhi > 0 and zlo < -1 else 1)
        self._table[key] = v
        return 2 * v + neg

    # -- checkpoints ---------------------------------------------------------------------------
    def mark(self) -> int:
        return len(self.gates)

    def rollback(self, mark: int) -> None:
        """Forget every gate made since ``mark`` (inputs are never made inside an attempt)."""
        for v in range(mark, len(self.gates)):
            g = self.gates[v]
            if g is not None:
                del self._table[g]
        del self.gates[mark:], self.names[mark:], self._depth[mark:], self._mag[mark:]

    def attempt(self, build: Callable[[], object]) -> object | None:
        """``build()``, or None with every gate it made forgotten if it raised :class:`Unfit`."""
        m = self.mark()
        try:
            return build()
        except Unfit:
            self.rollback(m)
            return None

    @contextmanager
    def measure(self) -> Iterator[dict]:
        """Gates made inside the block: ``{"gates": n}`` once it ends."""
        out: dict = {}
        m = self.mark()
        yield out
        out["gates"] = len(self.gates) - m

    # -- derived gates -------------------------------------------------------------------------
    def and_(self, lits: Sequence[int], name: str | None = None) -> int:
        lits = list(lits)
        while True:
            try:
                return self.th([(l, 1) for l in lits], len(lits), name)
            except Unfit:
                k = self._unit_chunk(lits)
                lits = [self.th([(l, 1) for l in lits[i:i + k]], len(lits[i:i + k]), name)
                        for i in range(0, len(lits), k)]

    def or_(self, lits: Sequence[int], name: str | None = None) -> int:
        return self.and_([l ^ 1 for l in lits], name) ^ 1

    def _unit_chunk(self, lits: list[int]) -> int:
        """Operands per gate when a wide AND does not fit: the most that fit, at least 2."""
        if not self.fits([(l, 1) for l in lits[:2]], 2):
            raise Unfit("an AND of two operands does not fit")
        lo, hi = 2, max(2, len(lits) - 1)  # the widest that fits, by bisection (fit is monotone in k)
        while lo < hi:
            k = (lo + hi + 1) // 2
            if self.fits([(l, 1) for l in lits[:k]], k):
                lo = k
            else:
                hi = k - 1
        return lo

    def xor(self, lits: Sequence[int], name: str | None = None) -> int:
        """Parity: ``[sum x - 2 * sum_{i even} [sum x >= i] >= 1]`` (depth 2), or the ladder
        ``[h1 - h2 + h3 - ... >= 1]`` (unit weights) when weight 2 does not fit."""
        parity = 0
        count: dict[int, int] = {}
        for l in lits:
            parity ^= l & 1
            if l >> 1 == 0:
                continue
            count[l & ~1] = count.get(l & ~1, 0) ^ 1
        keep = sorted(l for l, c in count.items() if c)
        if not keep:
            return FALSE ^ parity
        if len(keep) == 1:
            return keep[0] ^ parity
        k = len(keep)
        if k > XOR_BLOCK:  # one gate per even count is k**2 / 2 edges: blocks, then the blocks' parity
            return self.xor([self.xor(keep[i:i + XOR_BLOCK], name) for i in range(0, k, XOR_BLOCK)], name) ^ parity
        unit = [(l, 1) for l in keep]
        def rungs(ms: range) -> list[int]:
            return self.th_each(unit, ms, [f"{name}.ge{i}" if name else None for i in ms])

        r = self.attempt(lambda: self.th(unit + [(g, -2) for g in rungs(range(2, k + 1, 2))], 1, name))
        if r is None:
            r = self.attempt(lambda: self.th([(g, 1 if i % 2 else -1) for i, g in enumerate(rungs(range(1, k + 1)), 1)],
                                             1, name))
        if r is None:  # too wide for one gate: halves
            h = k // 2
            r = self.xor([self.xor(keep[:h], name), self.xor(keep[h:], name)], name)
        return int(r) ^ parity

    def live(self, lits: Sequence[int]) -> list[bool]:
        """Per node: does one of ``lits`` read it (itself, or through gates)?"""
        live = [False] * len(self.gates)
        stack = [l >> 1 for l in lits]
        while stack:
            v = stack.pop()
            if live[v]:
                continue
            live[v] = True
            g = self.gates[v]
            if g is not None:
                stack.extend(map(_first, g.terms))
        return live

    def linear(self, lit: int) -> tuple[list[tuple[int, int]], int] | None:
        """A gate literal as ``(terms, t)`` with ``lit = [sum w * term >= t]``; None for inputs and constants."""
        g = self.gates[lit >> 1]
        if g is None:
            return None
        terms = [(2 * u, w) for u, w in g.terms]
        if lit & 1:  # ~[L >= t] = [-L >= 1 - t]
            return [(u, -w) for u, w in terms], 1 - g.t
        return terms, g.t

    def and_into(self, g: int, x: int, name: str | None = None) -> int:
        """``g & x`` as one gate at ``g``'s depth when ``g`` is a gate ``[L >= t]``:
        ``[L + M x >= t + M]`` with ``M = hi - t + 1`` (so ``x = 0`` makes it false); else ``[g + x >= 2]``."""
        lin = self.linear(g)
        if lin is not None:
            terms, t = lin
            m = max(sum(w for _, w in terms if w > 0) - t + 1, 1)
            r = self.attempt(lambda: self.th(terms + [(x, m)], t + m, name))
            if r is not None:
                return int(r)
        return self.and_([g, x], name)

    def mux(self, c: int, x: int, y: int, name: str | None = None) -> int:
        """``x if c else y``: ``[2 (c & x) + y - c >= 1]`` (two gates), or, with ``objective="depth"``
        when it is shallower, ``(c & x) | (~c & y)`` with each AND folded into its deeper operand's
        gate (:meth:`and_into`): one layer after the deepest operand instead of two."""
        if x == y:
            return x
        plain = lambda: self.th([(self.and_([c, x]), 2), (y, 1), (c, -1)], 1, name)  # noqa: E731
        if self.objective != "depth":
            return plain()

        def fold() -> int:
            u = self.and_into(x, c) if self.depth(x) > self.depth(c) else self.and_into(c, x)
            v = self.and_into(y, c ^ 1) if self.depth(y) > self.depth(c) else self.and_into(c ^ 1, y)
            return self.or_([u, v], name)

        m = self.mark()
        r = self.attempt(fold)
        if r is None:
            return plain()
        d_fold = self.depth(r)
        self.rollback(m)
        r2 = plain()
        if self.depth(r2) <= d_fold:
            return r2
        self.rollback(m)
        return fold()


#: op -> synthesis function ``(builder, node, operand bits) -> result bits`` (LSB first, node.width of them).
SYNTH: dict[str, Callable[[Builder, WNode, list[list[int]]], list[int]]] = {}


def register(*ops: str) -> Callable:
    """Decorator: the function synthesizes ``ops`` (a later registration replaces an earlier one)."""
    def deco(fn: Callable) -> Callable:
        for op in ops:
            SYNTH[op] = fn
        return fn
    return deco


def fit(bits: Sequence[int], width: int) -> list[int]:
    """``bits`` cut or zero-extended to ``width``."""
    bits = list(bits[:width])
    return bits + [FALSE] * (width - len(bits))


def label(b: Builder) -> str:
    """The prefix of the current word node's gate names: its spec name, else ``n<index>``."""
    if b.current is None:
        return "w"
    i, node = b.current
    return node.name or f"n{i}"


def radix_plans(n: int, qmax: int, levels: int) -> list[tuple[int, ...]]:
    """Radix tuples ``(k1 >= k2 >= ... >= kL)`` with ``L = levels`` for a hierarchy of groups over ``n``
    digits: groups of ``k1`` digits, groups of ``k2`` of those, ...; every ``k`` and the number of
    top-level groups at most ``qmax``, every level but the last below ``n``.  Fewest group gates first."""
    found: list[tuple[int, tuple[int, ...]]] = []
    stack: list[tuple[tuple[int, ...], int]] = [((), 1)]
    while stack:
        ks, prod = stack.pop()
        if len(ks) == levels:
            if -(-n // prod) <= qmax:
                blocks, size = 0, 1
                for k in ks:
                    size *= k
                    blocks += -(-n // size)
                found.append((blocks, ks))
            continue
        if prod >= n:
            continue
        for k in range(2, min(qmax, ks[-1] if ks else qmax) + 1):
            stack.append((ks + (k,), prod * k))
            if prod * k >= n:
                break
    found.sort()
    return [ks for _, ks in found]


#: Plans of one depth class tried by :func:`shallowest` (the preferred ones first), and the gates
#: (per digit) that trying them may make before the search moves on.
PLANS_PER_LEVEL = 64
WORK_PER_DIGIT = 10


def shallowest(b: Builder, n: int, build: Callable[[tuple[int, ...]], list[int]],
               floor: Callable[[int], int], qmax: int,
               prefer: Callable[[tuple[int, ...]], bool] | None = None) -> list[int] | None:
    """The result of ``build(radices)`` of least depth, then fewest gates, over :func:`radix_plans`
    of ``n`` digits; ``floor(L)`` is the least depth a plan of ``L`` levels can have (the search stops
    there), ``prefer(ks)`` marks plans likely to reach it (tried first).  At most
    :data:`PLANS_PER_LEVEL` plans per number of levels and :data:`WORK_PER_DIGIT` ``* n`` gates made
    per level are tried, so the search is deterministic and linear in ``n``.  None when no plan fits."""
    best: tuple[int, int, tuple[int, ...]] | None = None
    for L in range(0, max(1, n.bit_length()) + 1):
        if best is not None and best[0] <= floor(L):
            break
        plans = radix_plans(n, max(2, qmax), L)
        if prefer is not None:
            plans.sort(key=lambda ks: not prefer(ks))  # stable: fewest gates first within each class
        work = 0
        for ks in plans[:PLANS_PER_LEVEL]:
            if work > WORK_PER_DIGIT * n and best is not None:
                break
            m = b.mark()
            made = [0]

            def run() -> list[int]:
                try:
                    return build(ks)
                finally:
                    made[0] = b.mark() - m
            r = b.attempt(run)
            work += made[0]
            if r is None:
                continue
            key = (max([b.depth(l) for l in r] + [0]), b.mark() - m, ks)
            b.rollback(m)
            if best is None or key[:2] < best[:2]:
                best = key
            if key[0] <= floor(L):
                break
    return None if best is None else build(best[2])


def digits_fit(b: Builder, weight: Callable[[int], int]) -> int:
    """The largest ``q`` whose gate ``[sum_{t<q} 2^t (x_t + y_t) >= weight(q)]`` over inputs fits ``b``."""
    q = 1
    while q < 62:
        nxt = q + 1
        cost = 2 * ((1 << nxt) - 1) + abs(weight(nxt)) + 2
        if cost > b.budget or (b.max_weight is not None and (1 << (nxt - 1)) > b.max_weight):
            break
        q = nxt
    return q


# ----------------------------------------------------------------------------- the driver

def build_words(ws: WordSpec, b: Builder) -> list[tuple[str, int]]:
    """Synthesize every node of ``ws`` into ``b``; ``(output bit name, literal)`` in port order."""
    verify_words(ws)
    port_bits: dict[int, list[int]] = {}
    for k, p in enumerate(ws.inputs):
        port_bits[k] = [b.input(name) for name in p.bits]
    bits: list[list[int]] = []
    for i, n in enumerate(ws.nodes):
        if n.op == "input":
            out = port_bits[n.params[0]]
        else:
            fn = SYNTH.get(n.op)
            if fn is None:
                raise ValueError(f"no threshold synthesis for operator {n.op!r}")
            b.current = (i, n)
            try:
                out = fn(b, n, [bits[j] for j in n.args])
            except Unfit as e:
                raise SpecError.at(f"{n.op}: no exact threshold construction fits the target "
                                   f"({e}); use a wider dtype or a larger max_weight", n.span, ws.filename,
                                   ws.source) from None
        if len(out) != n.width:
            raise AssertionError(f"synthesis of {n.op} made {len(out)} bits for width {n.width}")
        bits.append(list(out))
    return [(name, bits[i][k]) for p, i in ws.outputs for k, name in enumerate(p.bits)]


def synthesize(ws: WordSpec, *, dtype: str = "float32", objective: str = "depth", max_weight: int | None = None,
               activation: str = "relu") -> nx.DiGraph:
    """The ``mapped`` graph of word program ``ws``, every gate exact in ``dtype`` under ``activation``."""
    if max_weight is not None and (not isinstance(max_weight, int) or max_weight < 2):
        raise ValueError(f"max_weight must be an integer of at least 2, got {max_weight!r}")
    ws = fold_counting_compares(ws)
    limit = budget_for(dtype)
    if activation == "relu":  # hidden ReLU neurons have integer biases: partial sums up to 2**p
        b = Builder(2 * limit, objective, max_weight, activation)
        outs = build_words(ws, b)
        if all(b.gate_cost(l) <= limit for _, l in outs):
            return to_graph(b, outs)
    b = Builder(limit, objective, max_weight, activation)
    return to_graph(b, build_words(ws, b))


#: fold_counting_compares folds a sum whose operands can add up to at most this (exact in every dtype,
#: bfloat16 included).
COUNT_FOLD_LIMIT = 256
_FLIP = {"ge": "le", "gt": "lt", "le": "ge", "lt": "gt"}


def fold_counting_compares(ws: WordSpec) -> WordSpec:
    """``sum >= K`` (and ``> <= <``) where ``sum`` is an ``add`` that cannot wrap: one ``th`` node.

    RTL often counts bits with ``+`` and compares the count with a constant (a 16-input
    majority is ``x[0] + ... + x[15] >= 9``).  Since the sum is exact in its width, the
    comparison is ``[sum_j sum_b 2**b * op_j[b] >= K]``, one threshold gate over the
    operands' bits, instead of a counter and a comparator.  Only sums whose operands add
    up to at most ``COUNT_FOLD_LIMIT`` are folded, so the gate is exact in every dtype.
    """
    nodes = ws.nodes
    out: list[WNode] = []
    remap: list[int] = []
    changed = False
    for n in nodes:
        folded = None
        if n.op in _FLIP and len(n.args) == 2:
            a, c = n.args
            op = n.op
            if nodes[a].op == "const":
                a, c, op = c, a, _FLIP[op]
            x = _unextended(nodes, a)
            if nodes[c].op == "const" and nodes[x].op == "add":
                widths = [nodes[_unextended(nodes, j)].width for j in nodes[x].args]
                top = sum((1 << w) - 1 for w in widths)
                if top < (1 << nodes[x].width) and top <= COUNT_FOLD_LIMIT:
                    folded = (x, op, nodes[c].params[0])
        if folded is None:
            remap.append(len(out))
            out.append(WNode(n.op, tuple(remap[j] for j in n.args), n.width, n.params, n.span, n.name))
            continue
        x, op, k = folded
        changed = True
        bits: list[int] = []
        weights: list[int] = []
        for j in nodes[x].args:
            j = _unextended(nodes, j)
            w = nodes[j].width
            for b in range(w):
                if w == 1:
                    bits.append(remap[j])
                else:
                    bits.append(len(out))
                    out.append(WNode("slice", (remap[j],), 1, (b, b), n.span))
                weights.append(1 << b)
        sign, t = {"ge": (1, k), "gt": (1, k + 1), "le": (-1, -k), "lt": (-1, -k + 1)}[op]
        remap.append(len(out))
        out.append(WNode("th", tuple(bits), 1, (tuple(sign * w for w in weights), t), n.span, n.name))
    if not changed:
        return ws
    return replace(ws, nodes=tuple(out), outputs=tuple((p, remap[i]) for p, i in ws.outputs))


def _unextended(nodes: tuple[WNode, ...], i: int) -> int:
    """The node ``i`` zero-extends (through ``zext`` and ``concat(0, x)``), or ``i`` itself."""
    while True:
        n = nodes[i]
        if n.op == "zext":
            i = n.args[0]
        elif n.op == "concat" and len(n.args) == 2 and nodes[n.args[0]].op == "const" and not nodes[n.args[0]].params[0]:
            i = n.args[1]
        else:
            return i


def to_graph(b: Builder, outputs: list[tuple[str, int]]) -> nx.DiGraph:
    """The live gates as a mapped-dialect graph: inputs first (port order), then gates in creation order."""
    live = b.live([l for _, l in outputs])
    order = list(b.inputs) + [v for v in range(len(b.gates)) if live[v] and (v == 0 or b.gates[v] is not None)]
    new_id = {v: i for i, v in enumerate(order)}
    inputs = set(b.inputs)
    nodes: list[tuple[int, dict]] = []
    edges: list[tuple[int, int, dict]] = []
    for v in order:
        gate = b.gates[v]
        if v in inputs:
            nodes.append((new_id[v], {OP: OP_INPUT, NAME: b.names[v]}))
        elif v == 0:
            nodes.append((new_id[v], {OP: OP_CONST, NAME: None}))
        else:
            nodes.append((new_id[v], {OP: OP_THRESHOLD, THRESHOLD: gate.t, NAME: b.names[v] or f"t{new_id[v]}"}))
            edges.extend((new_id[u], new_id[v], {NEG: False, WEIGHT: w}) for u, w in gate.terms)
    g = nx.DiGraph()
    add_to_graph(g, nodes, edges)
    g.graph[INPUTS] = tuple(new_id[v] for v in b.inputs)
    g.graph[OUTPUTS] = tuple((name, new_id[l >> 1], bool(l & 1)) for name, l in outputs)
    return g


# ----------------------------------------------------------------------------- test helper

def simulate(b: Builder, lits: Sequence[int], inputs: np.ndarray) -> np.ndarray:
    """Values of ``lits`` (columns) for rows of input bits ``inputs`` (one column per ``b.input``, in order).

    One gather and one integer matrix-vector product per gate (wide gates read hundreds of terms).
    """
    rows = inputs.shape[0]
    val = np.zeros((len(b.gates), rows), dtype=np.int64)
    for k, v in enumerate(b.inputs):
        val[v] = inputs[:, k]
    for v, g in enumerate(b.gates):
        if g is not None:
            if g.terms:
                src, wts = zip(*g.terms)
                val[v] = np.asarray(wts, dtype=np.int64) @ val[list(src)] >= g.t
            else:
                val[v] = 0 >= g.t
    return np.stack([val[l >> 1] ^ (l & 1) for l in lits], axis=1) if lits else np.zeros((rows, 0), np.int64)


from . import synth_basic, arith_compare, arith_add  # noqa: E402,F401  (register the constructions)
from . import arith_count, arith_mul  # noqa: E402,F401  (counting and multiplication replace the fallbacks)
