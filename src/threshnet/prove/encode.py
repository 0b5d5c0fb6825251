"""The SAT problem: threshold literals, pseudo-Boolean constraints, and the module's encoding.

Forms
-----
Every value is an integer linear form over Boolean SAT variables, divided by
a positive integer: ``(const, {var: coef}, den)`` stands for
``(const + sum(coef * var)) / den``.  Inputs are variables.  A Linear row
combines forms exactly: each row is scaled by the common denominator of its
terms (weights are dyadic, see :mod:`.reader`), so every pre-activation is
an integer linear form ``z'`` over 0/1 variables.  The proof is about the
exact real-valued function; :class:`_Network` notes whether the module's own
dtype computes every partial sum exactly (it does for compiled networks).

Threshold literals
------------------
A step neuron ``[z' >= t]`` is a variable ``T`` with
``T <-> sum(c_i v_i) >= t``: plain clauses for OR and AND shapes, otherwise
two conditional pseudo-Boolean constraints (``T -> sum >= t`` and
``~T -> sum(c_i ~v_i) >= total - t + 1``, i.e. ``sum <= t - 1``) encoded by
pindakaas through python-sat.  Literals are normalised (gcd, sign, trivial
bounds, single variable) and hash-consed, so identical neurons share one
variable.

ReLU
----
A ReLU neuron ``r = max(0, z)`` with integer bounds ``lo' < 0 < hi'`` of
``z'`` (interval arithmetic from the 0/1 input box, intersected with the
form's own range) is

* ``r' = [z' >= 1] + [z' >= 2] + ... + [z' >= hi']`` (unary) when
  ``hi' <= UNARY_LIMIT``.  Exact, since ``z' <= hi'``.  With hash-consing, a
  compiled pair ``relu(z+1) - relu(z)`` cancels symbolically to the single
  literal ``[z >= 0]``, so a compiled ReLU network becomes the same threshold
  circuit as its step twin.
* otherwise binary bits ``r' = sum 2**k b_k`` and an indicator ``a`` with
  ``r' >= z'``, ``r' <= z' - lo'(1 - a)``, ``r' <= hi' a`` (exact: ``a = 1``
  forces ``r' = z' >= 0``, ``a = 0`` forces ``r' = 0 >= z'``).

Why a model is an input
-----------------------
Every constraint is *definitional*: for each 0/1 input there is exactly one
value of every encoded signal that satisfies the clauses (the PB encodings'
auxiliaries exist by their correctness, and each gate, threshold literal and
ReLU value above is forced by its operands).  So the models of the formula
are exactly the inputs, each with the true values of all signals, and a
query "can this literal be true?" is a question about the inputs alone.
"""

from __future__ import annotations

import heapq
import math
import time
from fractions import Fraction
from typing import Callable, Iterable, Sequence

import numpy as np

from .reader import _Act, _Affine

#: ReLU neurons with at most this many positive values are encoded in unary.
UNARY_LIMIT = 64
#: Pseudo-Boolean constraints whose weights sum to more than this use the adder encoding.
PB_TOTALIZER_LIMIT = 256

TRUE, FALSE = 1, -1  # variable 1 is the constant true
#: local_equal: largest cut evaluated exhaustively, and expansion steps per check.
LOCAL_CUT = 12
LOCAL_STEPS = 64


class _Timeout(Exception):
    pass


Form = tuple[int, dict[int, int], int]  # (const, {var: coef}, den): value = (const + sum coef*var) / den


def _lit_form(l: int) -> Form:
    if l == TRUE:
        return (1, {}, 1)
    if l == FALSE:
        return (0, {}, 1)
    return (0, {l: 1}, 1) if l > 0 else (1, {-l: -1}, 1)


def _form_lit(f: Form) -> int | None:
    """The literal a form is exactly, if any."""
    c, coefs, den = f
    if den != 1:
        return None
    if not coefs:
        return TRUE if c == 1 else FALSE if c == 0 else None
    if len(coefs) == 1:
        (v, a), = coefs.items()
        if c == 0 and a == 1:
            return v
        if c == 1 and a == -1:
            return -v
    return None


def _reads(d: tuple) -> Iterable[int]:
    """The literals a definition of :attr:`_Problem.defs` reads."""
    if d[0] in ("and", "xor"):
        return (d[1], d[2])
    if d[0] == "or":
        return d[1]
    return [x for x, _ in d[1]]


class _Problem:
    """One incremental CaDiCaL instance, with hash-consed gates and simulation values."""

    def __init__(self, solver: str, n_patterns: int, deadline: float | None) -> None:
        from pysat.solvers import Solver

        self.solver_name = solver
        self.solver = Solver(name=solver)
        self.top = 1
        self.n_clauses = 0
        self.deadline = deadline
        self.buf: list[list[int]] = []
        self.add([TRUE])
        self.P = n_patterns
        self.sim: dict[int, np.ndarray] = {TRUE: np.ones(n_patterns, dtype=bool)}
        self.tcache: dict[tuple, int] = {}
        self.gcache: dict[tuple, int] = {}
        self.on_new_threshold: Callable[[int], int] | None = None
        self.sat_calls = 0
        self.local_proofs = 0
        # var -> its definition, for local_equal: ("and", a, b) / ("xor", a, b) over literals,
        # ("or", lits), ("th", items, t) with items (var, coef); vars without one are free.
        self.defs: dict[int, tuple] = {}
        self.free: set[int] = set()  # input variables: every assignment of them is an input
        self.unencoded: dict[int, tuple] = {}  # threshold literals whose clauses wait (see threshold)

    # -- plumbing
    def close(self) -> None:
        self.solver.delete()

    def new_var(self) -> int:
        self.top += 1
        return self.top

    def add(self, clause: list[int]) -> None:
        self.buf.append(clause)
        self.n_clauses += 1
        if len(self.buf) >= 4096:
            self.flush()

    def flush(self) -> None:
        if self.buf:
            self.solver.append_formula(self.buf)
            self.buf = []

    def tick(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise _Timeout

    def lsim(self, l: int) -> np.ndarray:
        s = self.sim[abs(l)]
        return s if l > 0 else ~s

    def form_sim(self, f: Form) -> np.ndarray:
        c, coefs, _ = f
        acc = np.full(self.P, c, dtype=np.int64)
        for v, a in coefs.items():
            acc += a * self.sim[v]
        return acc

    def solve(self, assumptions: Sequence[int], conflicts: int | None = None) -> bool | None:
        """SAT? ``None`` when the conflict budget ran out; raises _Timeout past the deadline."""
        self.flush()
        self.sat_calls += 1
        if conflicts is not None:
            self.solver.conf_budget(conflicts)
            return self.solver.solve_limited(assumptions=list(assumptions))
        if self.deadline is None:
            return self.solver.solve(assumptions=list(assumptions))
        budget = 2000
        while True:
            self.tick()
            t0 = time.monotonic()
            self.solver.conf_budget(budget)
            r = self.solver.solve_limited(assumptions=list(assumptions))
            if r is not None:
                return r
            spent = max(time.monotonic() - t0, 1e-3)
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise _Timeout
            # aim for slices of about half a second, never past the deadline by much
            budget = int(max(500, min(budget * 4, budget / spent * min(0.5, left))))

    # -- local proofs of equivalence (sweeping without a SAT call)
    def local_equal(self, a: int, b: int, max_cut: int = LOCAL_CUT, max_steps: int = LOCAL_STEPS) -> bool | None:
        """True when literals ``a`` and ``b`` are proved equal on a small cut, False when proved different, else None.

        The frontier starts as ``{|a|, |b|}``; at each step one frontier variable with a
        definition is *expanded*: replaced by the variables its definition reads (those
        already expanded stay expanded).  So ``a`` and ``b`` stay functions of the
        frontier's variables, through the expanded ones.  Whenever the frontier has at most
        ``max_cut`` variables, both are evaluated on all ``2**k`` assignments of it, the
        frontier variables taken as free and the expanded ones computed from them (in
        variable order: a definition only reads older variables); if they agree on all of
        them they agree on every input (the assignments that occur are a subset).
        Disagreement proves nothing, as frontier variables may be dependent, so the
        expansion goes on.  A frontier is tried only when each of its variables is reached
        from both literals (a common cut), where equal functions usually show; to reach
        one, variables reached from one side only are expanded first, the newest first.
        A disagreement on a cut made only of free input variables (``self.free``: any
        assignment of them is a real input) proves the literals different.
        """
        if a == b:
            return True
        va, vb = abs(a), abs(b)
        # frontier variable -> which of a (1) and b (2) reach it; tried only when it is a common cut
        frontier: dict[int, int] = {}
        for v, m in ((va, 1), (vb, 2)):
            if v != TRUE:
                frontier[v] = frontier.get(v, 0) | m
        need = (va != TRUE) | ((vb != TRUE) << 1)
        shared = sum(1 for m in frontier.values() if m == need)
        inner: dict[int, int] = {}  # expanded variable -> which literals reach it
        one_side = [-v for v, m in frontier.items() if m != need]  # max-heaps of variables to expand
        both = [-v for v, m in frontier.items() if m == need]
        heapq.heapify(one_side)
        heapq.heapify(both)
        defs = self.defs
        for _ in range(max_steps):
            if len(frontier) <= max_cut and shared == len(frontier):
                if self._agree(a, b, sorted(frontier), sorted(inner)):
                    self.local_proofs += 1
                    return True
                if all(v in self.free for v in frontier):
                    return False  # a cut of free inputs: the disagreement happens on a real input
            v = 0
            for heap, side in ((one_side, True), (both, False)):
                while heap:
                    x = -heapq.heappop(heap)
                    m = frontier.get(x)
                    if m is not None and x in defs and (m != need) == side:
                        v = x
                        break
                if v:
                    break
            if not v:
                return None
            m = frontier.pop(v)
            shared -= m == need
            inner[v] = m
            # v's reads join the frontier with v's marks; a read expanded before passes new marks on
            # to what it reads, so a variable reached from both sides is seen as shared.
            stack = [(x, m) for x in _reads(defs[v])]
            while stack:
                x, mx = stack.pop()
                x = abs(x)
                if x == TRUE:
                    continue
                if x in inner:
                    if inner[x] | mx != inner[x]:
                        inner[x] |= mx
                        stack.extend((y, inner[x]) for y in _reads(defs[x]))
                    continue
                old = frontier.get(x, 0)
                new = old | mx
                if new != old:
                    frontier[x] = new
                    heapq.heappush(both if new == need else one_side, -x)
                    shared += (new == need) - (old == need)
        return None

    def _agree(self, a: int, b: int, cut: list[int], inner: list[int]) -> bool:
        """``a == b`` on every assignment of ``cut``, the ``inner`` variables (ascending) computed from it."""
        k = len(cut)
        idx = np.arange(1 << k, dtype=np.int64)
        val: dict[int, np.ndarray] = {TRUE: np.ones(1 << k, dtype=bool)}
        for j, v in enumerate(cut):
            val[v] = ((idx >> j) & 1).astype(bool)

        def lit(x: int) -> np.ndarray:
            return val[x] if x > 0 else ~val[-x]

        for v in inner:  # oldest first: definitions read older variables
            d = self.defs[v]
            if d[0] == "and":
                val[v] = lit(d[1]) & lit(d[2])
            elif d[0] == "xor":
                val[v] = lit(d[1]) ^ lit(d[2])
            elif d[0] == "or":
                acc = np.zeros(1 << k, dtype=bool)
                for x in d[1]:
                    acc |= lit(x)
                val[v] = acc
            else:
                acc = np.zeros(1 << k, dtype=np.int64)
                for x, c in d[1]:
                    acc += c * val[x]
                val[v] = acc >= d[2]
        return bool(np.array_equal(lit(a), lit(b)))

    # -- Boolean gates (spec side and miters)
    def and_(self, a: int, b: int) -> int:
        if a == FALSE or b == FALSE or a == -b:
            return FALSE
        if a == TRUE or a == b:
            return b
        if b == TRUE:
            return a
        key = ("and", min(a, b), max(a, b))
        g = self.gcache.get(key)
        if g is None:
            g = self.new_var()
            self.add([-g, a])
            self.add([-g, b])
            self.add([g, -a, -b])
            self.sim[g] = self.lsim(a) & self.lsim(b)
            self.defs[g] = ("and", a, b)
            self.gcache[key] = g
        return g

    def or_(self, a: int, b: int) -> int:
        return -self.and_(-a, -b)

    def xor_(self, a: int, b: int) -> int:
        if a == FALSE:
            return b
        if b == FALSE:
            return a
        if a == TRUE:
            return -b
        if b == TRUE:
            return -a
        if a == b:
            return FALSE
        if a == -b:
            return TRUE
        neg = (a < 0) != (b < 0)
        a, b = abs(a), abs(b)
        key = ("xor", min(a, b), max(a, b))
        g = self.gcache.get(key)
        if g is None:
            g = self.new_var()
            self.add([-g, a, b])
            self.add([-g, -a, -b])
            self.add([g, -a, b])
            self.add([g, a, -b])
            self.sim[g] = self.sim[a] ^ self.sim[b]
            self.defs[g] = ("xor", a, b)
            self.gcache[key] = g
        return -g if neg else g

    def or_many(self, lits: Iterable[int]) -> int:
        lits = [l for l in lits if l != FALSE]
        if TRUE in lits:
            return TRUE
        if not lits:
            return FALSE
        if len(lits) == 1:
            return lits[0]
        g = self.new_var()
        self.add([-g] + lits)
        for l in lits:
            self.add([g, -l])
        self.defs[g] = ("or", tuple(lits))
        return g

    # -- threshold literals
    def threshold(self, coefs: dict[int, int], t: int, sweep: bool = True) -> int:
        """A literal equal to ``[sum(coefs[v] * v) >= t]`` (``v`` positive variables)."""
        items = sorted((v, a) for v, a in coefs.items() if a)
        lo = sum(a for _, a in items if a < 0)
        hi = sum(a for _, a in items if a > 0)
        if t <= lo:
            return TRUE
        if t > hi:
            return FALSE
        g = 0
        for _, a in items:
            g = math.gcd(g, a)
        if g > 1:
            items = [(v, a // g) for v, a in items]
            t = -((-t) // g)  # ceil
        neg = items[0][1] < 0
        if neg:  # [sum >= t] = not [-sum >= 1 - t]
            items = [(v, -a) for v, a in items]
            t = 1 - t
        if len(items) == 1:  # [v >= 1] after normalisation
            lit = items[0][0]
            return -lit if neg else lit
        key = (tuple(items), t)
        lit = self.tcache.get(key)
        if lit is None:
            self.tick()
            lit = self.new_var()
            self.defs[lit] = ("th", tuple(items), t)
            acc = np.zeros(self.P, dtype=np.int64)
            for v, a in items:
                acc += a * self.sim[v]
            self.sim[lit] = acc >= t
            if sweep and self.on_new_threshold is not None:
                # Clauses wait until needed: a literal merged on a small cut is replaced by its
                # equal everywhere and never read, so it needs none.
                self.unencoded[lit] = (items, t)
                new = self.on_new_threshold(lit)
                if new == lit:
                    self.ensure_encoded(lit)
                self.unencoded.pop(lit, None)
                lit = new
            else:
                self._encode_threshold(lit, items, t)
            self.tcache[key] = lit
        return -lit if neg else lit

    def ensure_encoded(self, lit: int) -> None:
        """Add the clauses of threshold literal ``lit`` if :meth:`threshold` held them back."""
        pending = self.unencoded.pop(abs(lit), None)
        if pending is not None:
            self._encode_threshold(abs(lit), *pending)

    def _encode_threshold(self, out: int, items: list[tuple[int, int]], t: int) -> None:
        """Clauses for ``out <-> sum(a * v) >= t``, with 0 < t <= max."""
        lits, weights = [], []
        for v, a in items:
            if a > 0:
                lits.append(v)
                weights.append(a)
            else:  # a*v = a + |a|*(not v)
                lits.append(-v)
                weights.append(-a)
                t -= a
        total = sum(weights)
        if all(w >= t for w in weights):  # any one literal suffices: OR
            self.add([-out] + lits)
            for l in lits:
                self.add([out, -l])
            return
        if all(total - w < t for w in weights):  # every literal is needed: AND
            self.add([out] + [-l for l in lits])
            for l in lits:
                self.add([-out, l])
            return
        self._pb(lits, weights, t, out)
        self._pb([-l for l in lits], weights, total - t + 1, -out)

    def pb_geq(self, coefs: dict[int, int], t: int) -> None:
        """The plain constraint ``sum(coefs[v] * v) >= t``."""
        lits, weights = [], []
        for v, a in coefs.items():
            if a > 0:
                lits.append(v)
                weights.append(a)
            elif a < 0:
                lits.append(-v)
                weights.append(-a)
                t -= a
        if t <= 0:
            return
        if t > sum(weights):
            self.add([FALSE])
            return
        self._pb(lits, weights, t, None)

    def _pb(self, lits: list[int], weights: list[int], bound: int, cond: int | None) -> None:
        """``cond -> sum(w * l) >= bound`` through pindakaas, with variables renumbered locally."""
        from pysat.pb import EncType, PBEnc

        n = len(lits)
        local = list(range(1, n + 1))
        glob = {i + 1: l for i, l in enumerate(lits)}
        conds = None
        if cond is not None:
            glob[n + 1] = cond
            conds = [n + 1]
        top = n + 1
        # Small weights: pindakaas's default (a totalizer, which propagates well).  Large ones
        # (e.g. binary ReLU bits): the adder encoding, whose size does not grow with the weights.
        enc = EncType.best if sum(weights) <= PB_TOTALIZER_LIMIT else EncType.adder
        cnf = PBEnc.atleast(lits=local, weights=weights, bound=bound, top_id=top, conditionals=conds, encoding=enc)
        for cl in cnf.clauses:
            out = []
            for x in cl:
                v = abs(x)
                g = glob.get(v)
                if g is None:
                    g = glob[v] = self.new_var()
                out.append(g if x > 0 else -g)
            self.add(out)


class _Network:
    """The module's computation encoded into a :class:`_Problem`."""

    def __init__(self, prob: _Problem, ops: list[object], inputs: list[int]) -> None:
        self.p = prob
        self.ops = ops
        self.inputs = inputs
        self.exact_note: str | None = None
        self.binary_relus = 0

    def encode(self) -> list[Form]:
        p = self.p
        # (form, lo, hi) per value; lo/hi are exact bounds of the value
        vec: list[tuple[Form, Fraction, Fraction]] = [((0, {v: 1}, 1), 0, 1) for v in self.inputs]
        worst: tuple[float, str] | None = None
        for op in self.ops:
            p.tick()
            if isinstance(op, _Affine):
                if op.in_width is not None and op.in_width != len(vec):
                    raise ValueError(f"layer {op.name!r} reads {op.in_width} values but receives {len(vec)}")
                new = []
                for j, (row, b) in enumerate(zip(op.rows, op.bias)):
                    if not b and len(row) == 1 and row[0][1] == 1:  # a pass-through: the value itself
                        new.append(vec[row[0][0]])
                        continue
                    f, lo, hi, need = self._combine(row, b, vec)
                    new.append((f, lo, hi))
                    # exactness of the module's own float arithmetic: |partial sums| * den < 2**precision
                    ratio = need / 2.0 ** op.precision
                    if worst is None or ratio > worst[0]:
                        worst = (ratio, f"layer {op.name!r} row {j}")
                vec = new
            else:
                assert isinstance(op, _Act)
                if op.only is None:
                    vec = [self._act(op, *e) for e in vec]
                else:
                    vec = list(vec)
                    for i in op.only:
                        vec[i] = self._act(op, *vec[i])
        if worst is not None and worst[0] > 1:
            self.exact_note = (f"the module's own dtype may round partial sums ({worst[1]} needs "
                               f"{math.log2(worst[0]):.1f} more mantissa bits); the proof is about "
                               f"exact arithmetic")
        return [f for f, _, _ in vec]

    def _combine(self, row: list[tuple[int, Fraction]], b: Fraction,
                 vec: list[tuple[Form, Fraction, Fraction]]) -> tuple[Form, Fraction, Fraction, float]:
        if all(w.denominator == 1 and vec[i][0][2] == 1 for i, w in row):
            return self._combine_int(row, b, vec)
        den = b.denominator
        for i, w in row:
            den = math.lcm(den, w.denominator * vec[i][0][2])
        const = b.numerator * (den // b.denominator)
        coefs: dict[int, int] = {}
        lo = hi = b
        mag = abs(b)
        for i, w in row:
            (c, cs, d), vlo, vhi = vec[i]
            k = w.numerator * (den // (w.denominator * d))
            const += k * c
            for v, a in cs.items():
                coefs[v] = coefs.get(v, 0) + k * a
            if w > 0:
                lo += w * vlo
                hi += w * vhi
            else:
                lo += w * vhi
                hi += w * vlo
            mag += abs(w) * max(abs(vlo), abs(vhi))
        return self._reduced(const, coefs, den, lo, hi, mag)

    @staticmethod
    def _lowest_terms(const: int, coefs: dict[int, int], den: int) -> tuple[int, dict[int, int], int]:
        """``const`` and the nonzero ``coefs`` divided by ``g``, their gcd with ``den``; and ``g``."""
        coefs = {v: a for v, a in coefs.items() if a}
        g = math.gcd(den, const)
        for a in coefs.values():
            g = math.gcd(g, a)
        if g > 1:
            const //= g
            coefs = {v: a // g for v, a in coefs.items()}
        return const, coefs, g

    @staticmethod
    def _reduced(const: int, coefs: dict[int, int], den: int, lo: Fraction, hi: Fraction,
                 mag: Fraction) -> tuple[Form, Fraction, Fraction, float]:
        """The form ``(const + sum coefs) / den`` in lowest terms, its bounds tightened by its own
        range, and ``mag * den`` (the largest partial sum, in units of the new denominator)."""
        const, coefs, g = _Network._lowest_terms(const, coefs, den)
        den //= g
        flo = Fraction(const + sum(a for a in coefs.values() if a < 0), den)
        fhi = Fraction(const + sum(a for a in coefs.values() if a > 0), den)
        return (const, coefs, den), max(lo, flo), min(hi, fhi), float(mag * den)

    @staticmethod
    def _combine_int(row: list[tuple[int, Fraction]], b: Fraction,
                     vec: list[tuple[Form, Fraction, Fraction]]) -> tuple[Form, Fraction, Fraction, float]:
        """:meth:`_combine` when the weights and every operand form are integers: the common
        denominator is the bias's (2 for the half-integer biases of compiled step neurons), and the
        sums are of Python ints, one Fraction operation per row instead of several per term."""
        den = b.denominator
        const, coefs = b.numerator, {}
        slo = shi = smag = 0
        for i, w in row:
            (c, cs, _), vlo, vhi = vec[i]
            k = w.numerator
            kd = k * den
            const += kd * c
            for v, a in cs.items():
                coefs[v] = coefs.get(v, 0) + kd * a
            if k > 0:
                slo += k * vlo
                shi += k * vhi
            else:
                slo += k * vhi
                shi += k * vlo
            smag += abs(k) * max(abs(vlo), abs(vhi))
        if den == 1:  # all ints: no Fraction at all
            coefs = {v: a for v, a in coefs.items() if a}
            lo, hi, mag = b.numerator + slo, b.numerator + shi, abs(b.numerator) + smag
            flo = const + sum(a for a in coefs.values() if a < 0)
            fhi = const + sum(a for a in coefs.values() if a > 0)
            return (const, coefs, 1), max(lo, flo), min(hi, fhi), float(mag)
        if type(slo) is int and type(shi) is int and type(smag) is int:  # integer operand bounds (step layers)
            bn = b.numerator
            return _Network._reduced_scaled(const, coefs, den, bn + den * slo, bn + den * shi, abs(bn) + den * smag)
        return _Network._reduced(const, coefs, den, b + slo, b + shi, abs(b) + smag)

    @staticmethod
    def _reduced_scaled(const: int, coefs: dict[int, int], den: int, lo: int, hi: int,
                        mag: int) -> tuple[Form, Fraction | int, Fraction | int, float]:
        """:meth:`_reduced` with the bounds and ``mag`` given as integer numerators over ``den``: the same
        values, with a Fraction made only for a bound that is not a whole number."""
        const, coefs, g = _Network._lowest_terms(const, coefs, den)
        # the form's own range over den: (const + negatives) / (den / g) = g * (const + negatives) / den
        lo = max(lo, g * (const + sum(a for a in coefs.values() if a < 0)))
        hi = min(hi, g * (const + sum(a for a in coefs.values() if a > 0)))
        return ((const, coefs, den // g), lo // den if lo % den == 0 else Fraction(lo, den),
                hi // den if hi % den == 0 else Fraction(hi, den), mag / g)

    def _act(self, op: _Act, f: Form, lo: Fraction, hi: Fraction) -> tuple[Form, Fraction, Fraction]:
        p = self.p
        c, coefs, den = f
        if op.kind == "step":
            # [z > thr] with z = (c + sum)/den  <=>  sum >= floor(thr*den - c) + 1 (strict) or ceil(...)
            x = op.thr * den - c
            t = math.floor(x) + 1 if op.strict else math.ceil(x)
            lit = p.threshold(coefs, t)
            lf = _lit_form(lit)
            return lf, 1 if lit == TRUE else 0, 0 if lit == FALSE else 1
        # relu
        if hi <= 0:
            return (0, {}, 1), 0, 0
        if lo >= 0:
            return f, lo, hi
        zlo = math.ceil(lo * den)   # integer bounds of z' = c + sum(coefs * v) = den * z
        hi_i = math.floor(hi * den)
        if hi_i <= UNARY_LIMIT:
            const, acc = 0, {}
            for t in range(1, hi_i + 1):
                lit = p.threshold(coefs, t - c)
                lc, lcs, _ = _lit_form(lit)
                const += lc
                for v, a in lcs.items():
                    acc[v] = acc.get(v, 0) + a
            acc = {v: a for v, a in acc.items() if a}
            return (const, acc, den), Fraction(0), hi
        # binary: r' = sum 2^k b_k, indicator a
        self.binary_relus += 1
        m = hi_i.bit_length()
        bits = [p.new_var() for _ in range(m)]
        a = p.new_var()
        z_sim = p.form_sim(f)
        r_sim = np.maximum(z_sim, 0)
        for k, bv in enumerate(bits):
            p.sim[bv] = ((r_sim >> k) & 1).astype(bool)
        p.sim[a] = z_sim > 0
        r = {bv: 1 << k for k, bv in enumerate(bits)}
        # r' - z' >= 0
        e = dict(r)
        for v, w in coefs.items():
            e[v] = e.get(v, 0) - w
        p.pb_geq(e, c)
        # z' - r' + lo'*a >= lo'
        e = dict(coefs)
        for v, w in r.items():
            e[v] = e.get(v, 0) - w
        e[a] = e.get(a, 0) + zlo
        p.pb_geq(e, zlo - c)
        # hi'*a - r' >= 0
        e = {v: -w for v, w in r.items()}
        e[a] = hi_i
        p.pb_geq(e, 0)
        return (0, r, den), Fraction(0), hi

