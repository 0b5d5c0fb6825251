"""Which truth tables are threshold functions, and with which integer weights.

A boolean function ``f`` of ``n`` inputs is a threshold function when integer
weights ``w`` and a threshold ``t`` exist with ``f(x) = [w . x >= t]`` for every
``x``.  Deciding it for one truth table (``n <= 8``, so at most 256 rows):

1. *Unateness* (cheap, exact filter).  A threshold function is monotone in
   every input: increasing where ``w_i > 0``, decreasing where ``w_i < 0``.  An
   input whose cofactors ``f|x_i=0`` and ``f|x_i=1`` are incomparable rules
   ``f`` out.  Decreasing inputs are complemented (``w_i x_i = w_i - w_i (1 - x_i)``)
   so the rest only deals with positive (monotone increasing) functions.
2. *Symmetry*.  A positive function that depends only on how many inputs are
   1 is ``[sum x >= k]``: unit weights, no solver needed.
3. *Chow order* (cheap, exact filter).  For positive threshold functions the
   inputs are totally preordered by influence: for every pair ``i, j`` either
   ``f(.., x_i=1, x_j=0, ..) >= f(.., x_i=0, x_j=1, ..)`` on every row or the
   reverse.  A pair violating both rules ``f`` out.
4. *Integer program* (HiGHS through ``highspy``, a required dependency, so the
   mapping does not depend on what else is installed):
   minimise ``sum w`` over integer ``0 <= w_i <= max_weight`` and ``t`` with
   ``w . x >= t`` on every true row and ``w . x <= t - 1`` on every false row.
   Any solution is an exact realization; the margins are integers, so the
   gate's pre-activation is at least 1/2 from the decision boundary once the
   threshold is moved by 1/2 (the threshold stage does that).

Soundness: the answer is re-checked on every row of the table before it is
returned, so a solver bug can only lose a match, never produce a wrong gate.
Results are cached per ``(n, table)``.
"""

from __future__ import annotations

import os
import sys
from functools import lru_cache

import numpy as np

__all__ = ["MAX_WEIGHT", "identify", "identify_array", "depends_on", "cofactor_masks", "solve_rows"]

#: Largest weight allowed (per input); every threshold function of at most 8 inputs fits (the largest
#: minimal weight for 8 inputs is 42), and float32 holds every sum of such weights exactly.
MAX_WEIGHT = 64


@lru_cache(maxsize=None)
def cofactor_masks(n: int) -> tuple[int, ...]:
    """``masks[j]``: the rows (of ``2**n``) where input ``j`` is 0."""
    return tuple(sum(1 << a for a in range(1 << n) if not (a >> j) & 1) for j in range(n))


def depends_on(table: int, n: int, j: int) -> bool:
    """Does the ``n``-input ``table`` change with input ``j``?"""
    m = cofactor_masks(n)[j]
    return (table & m) != ((table >> (1 << j)) & m)


@lru_cache(maxsize=None)
def _row_bits(n: int) -> np.ndarray:
    """``(2**n, n)`` matrix: row ``a`` holds the bits of ``a``."""
    a = np.arange(1 << n, dtype=np.int64)
    return ((a[:, None] >> np.arange(n, dtype=np.int64)) & 1).astype(np.int64)


def _to_int(bits: np.ndarray) -> int:
    return int.from_bytes(np.packbits(bits.astype(np.uint8), bitorder="little").tobytes(), "little")


def _to_bits(table: int, n: int) -> np.ndarray:
    raw = np.frombuffer(table.to_bytes(max(1, (1 << n) // 8), "little"), dtype=np.uint8)
    return np.unpackbits(raw, bitorder="little")[: 1 << n]


def _eval(weights: tuple[int, ...], t: int, n: int) -> int:
    """The table of ``[sum(w_j x_j) >= t]``."""
    return _to_int(_row_bits(n) @ np.array(weights, dtype=np.int64) >= t)


_CACHE: dict[tuple[int, int], tuple[tuple[int, ...], int] | None] = {}
#: Tables remembered at most (the cache is emptied when full).
CACHE_LIMIT = 1 << 20


def identify(table: int, n: int) -> tuple[tuple[int, ...], int] | None:
    """``(weights, t)`` with ``table`` = ``[sum(w_j x_j) >= t]`` (bit ``a`` is the row whose bit ``j``
    is ``x_j``), smallest total weight; or None when ``table`` is not a threshold function."""
    key = (n, table)
    if key in _CACHE:
        return _CACHE[key]
    result = _identify(table, n)
    if len(_CACHE) >= CACHE_LIMIT:  # bounded memory on very large graphs
        _CACHE.clear()
    _CACHE[key] = result
    return result


def _identify(table: int, n: int) -> tuple[tuple[int, ...], int] | None:
    full = (1 << (1 << n)) - 1
    if table == 0:
        return (0,) * n, 1
    if table == full:
        return (0,) * n, 0
    masks = cofactor_masks(n)
    flip = []
    pos = table
    for j in range(n):
        m, s = masks[j], 1 << j
        f0 = pos & m
        f1 = (pos >> s) & m
        if f0 & ~f1 == 0:
            flip.append(False)
        elif f1 & ~f0 == 0:  # decreasing in x_j: swap the cofactors (complement x_j)
            flip.append(True)
            pos = (f0 << s) | f1
        else:
            return None  # binate in input j
    real = _positive(pos, n)
    if real is None:
        return None
    weights, t = real
    # Undo the complements: w * (1 - x) = w - w * x.
    ws = tuple(-w if flip[j] else w for j, w in enumerate(weights))
    t -= sum(w for j, w in enumerate(weights) if flip[j])
    return ws, t


@lru_cache(maxsize=None)
def _count_masks(n: int) -> tuple[int, ...]:
    """``masks[c]``: the rows with exactly ``c`` ones."""
    out = [0] * (n + 1)
    for a in range(1 << n):
        out[bin(a).count("1")] |= 1 << a
    return tuple(out)


_POSITIVE: dict[tuple[int, int], tuple[tuple[int, ...], int] | None] = {}


def canonical(canon: int, n: int) -> tuple[tuple[int, ...], int] | None:
    """Weights of a positive function whose inputs are in decreasing Chow order, or None; solved once
    per table (every function equal to it up to a permutation of inputs shares the answer)."""
    key = (n, canon)
    if key not in _POSITIVE:
        real = _solve(canon, n)
        if real is not None and _eval(*real, n) != canon:  # never trust a solver blindly
            real = None
        _POSITIVE[key] = real
    return _POSITIVE[key]


def _positive(pos: int, n: int) -> tuple[tuple[int, ...], int] | None:
    """Weights of a positive (monotone increasing) function, or None."""
    # Symmetric: the value depends only on the number of ones; positive, so it is [count >= k].
    cm = _count_masks(n)
    if all(pos & c in (0, c) for c in cm):
        k = min(c for c in range(n + 1) if pos & cm[c])
        return (1,) * n, k
    masks = cofactor_masks(n)
    used = [j for j in range(n) if (pos & masks[j]) != ((pos >> (1 << j)) & masks[j])]
    # Chow order: every pair of inputs comparable.
    for x, i in enumerate(used):
        for j in used[x + 1:]:
            # rows with x_i = 1, x_j = 0, and the same rows with the two swapped (bit j set, bit i clear)
            sel = masks[j] & ~masks[i]
            fa = pos & sel
            fb = (pos >> ((1 << j) - (1 << i))) & sel
            if fa & ~fb and fb & ~fa:
                return None
    # Canonical order (by Chow parameter) so that functions equal up to a permutation share one solve.
    chow = [bin(pos & ~masks[j]).count("1") for j in range(n)]
    perm = sorted(range(n), key=lambda j: -chow[j])  # new input q is old input perm[q]
    real = canonical(_permute(pos, n, perm), n)
    if real is None:
        return None
    w, t = real
    weights = [0] * n
    for q, j in enumerate(perm):
        weights[j] = w[q]
    return tuple(weights), t


@lru_cache(maxsize=None)
def _swap_masks(n: int, i: int, j: int) -> tuple[int, int, int, int]:
    """(keep, rows i=1 j=0, rows i=0 j=1, shift) to exchange inputs ``i < j`` of an ``n``-input table."""
    a = b = 0
    for r in range(1 << n):
        bi, bj = (r >> i) & 1, (r >> j) & 1
        if bi and not bj:
            a |= 1 << r
        elif bj and not bi:
            b |= 1 << r
    return ((1 << (1 << n)) - 1) & ~(a | b), a, b, (1 << j) - (1 << i)


def _permute(table: int, n: int, perm: list[int]) -> int:
    """The table of g(y) = f(x) where y_q = x_perm[q] (a sequence of input exchanges)."""
    where = list(range(n))  # where[j]: the position input j of f holds now
    at = list(range(n))     # at[p]: the input of f at position p
    for q in range(n):
        p = where[perm[q]]
        if p != q:
            i, j = (q, p) if q < p else (p, q)
            keep, a, b, sh = _swap_masks(n, i, j)
            table = (table & keep) | ((table & a) << sh) | ((table & b) >> sh)
            x, y = at[q], at[p]
            at[q], at[p] = y, x
            where[y], where[x] = q, p
    return table


def _rows(pos: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows that constrain a positive function: its minimal true rows (clearing any set bit makes
    it false) and maximal false rows (setting any clear bit makes it true), as a 0/1 matrix, and which
    of them are true."""
    rows, true = [], []
    for a in range(1 << n):
        b = (pos >> a) & 1
        if b:
            if any((pos >> (a ^ (1 << j))) & 1 for j in range(n) if (a >> j) & 1):
                continue
        elif any(not (pos >> (a | (1 << j))) & 1 for j in range(n) if not (a >> j) & 1):
            continue
        rows.append([float((a >> j) & 1) for j in range(n)])
        true.append(bool(b))
    return np.array(rows, dtype=np.float64).reshape(-1, n), np.array(true, dtype=bool)


def _solve(pos: int, n: int) -> tuple[tuple[int, ...], int] | None:
    return solve_rows(*_rows(pos, n), max_weight=MAX_WEIGHT)


def identify_array(table: np.ndarray, max_weight: int) -> tuple[tuple[int, ...], int] | None:
    """:func:`identify` for a wide table given as a boolean array over its ``2**k`` rows (row ``a``:
    input ``j`` is bit ``j`` of ``a``), with weights up to ``max_weight``; numpy throughout, for the
    cones of up to 16 inputs of :mod:`.symmetric`.  The same steps: unateness (decreasing inputs
    complemented), then the integer program over the minimal true and maximal false rows; the answer
    is re-checked on every row."""
    k = int(table.size).bit_length() - 1
    if table.all() or not table.any():
        return None
    rows = np.arange(1 << k, dtype=np.int64)
    flips = 0
    used = []
    for j in range(k):
        t3 = table.reshape(-1, 2, 1 << j)
        f0, f1 = t3[:, 0, :], t3[:, 1, :]
        if np.array_equal(f0, f1):
            continue
        if not (f0 & ~f1).any():
            used.append(j)
        elif not (f1 & ~f0).any():
            used.append(j)
            flips |= 1 << j
        else:
            return None  # binate in input j
    pos = table[rows ^ flips]  # positive: increasing in every used input
    free = sum(1 << j for j in range(k) if j not in used)
    sel = (rows & free) == 0
    minimal = pos & sel
    maximal = ~pos & sel
    for j in used:
        b = 1 << j
        has = (rows & b) != 0
        minimal &= ~has | ~pos[rows ^ b]
        maximal &= has | pos[rows | b]
    pick = np.flatnonzero(minimal | maximal)
    bits = ((pick[:, None] >> np.array(used, dtype=np.int64)) & 1).astype(np.float64)
    real = solve_rows(bits, pos[pick], max_weight=max_weight)
    if real is None:
        return None
    w_used, t = real
    ws = [0] * k
    for j, w in zip(used, w_used):
        if (flips >> j) & 1:  # w (1 - x) = w - w x
            ws[j] = -w
            t -= w
        else:
            ws[j] = w
    allbits = (rows[:, None] >> np.arange(k, dtype=np.int64)) & 1
    if not np.array_equal(allbits @ np.array(ws, dtype=np.int64) >= t, table):
        return None  # never trust a solver blindly
    return tuple(ws), t


_HIGHS: list = []


def highs():
    """One HiGHS instance, made with stdout muted (its constructor prints a banner), reused (the caller
    clears its model first)."""
    if not _HIGHS:
        import highspy

        sys.stdout.flush()
        saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        try:
            h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(null)
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        _HIGHS.append(h)
    return _HIGHS[0]


def solve_rows(bits: np.ndarray, true_row: np.ndarray, max_weight: int) -> tuple[tuple[int, ...], int] | None:
    """Least-total integer weights ``0 <= w <= max_weight`` and ``t`` with ``bits . w >= t`` on the true
    rows and ``<= t - 1`` on the others (rows given as a 0/1 matrix); None when none exist.  The caller
    re-checks the answer."""
    n = bits.shape[1]
    a = np.hstack([bits, -np.ones((bits.shape[0], 1))])
    inf = float("inf")
    lo = np.where(true_row, 0.0, -inf)
    hi = np.where(true_row, inf, -1.0)
    x = _solve_highs(a, lo, hi, n, max_weight)
    if x is None:
        return None
    return tuple(int(round(v)) for v in x[:n]), int(round(x[n]))


def _solve_highs(a: np.ndarray, lo: np.ndarray, hi: np.ndarray, n: int, max_weight: int = MAX_WEIGHT):
    import highspy

    h = highs()
    h.clearModel()
    lp = highspy.HighsLp()
    lp.num_col_ = n + 1
    lp.num_row_ = a.shape[0]
    lp.col_cost_ = np.array([1.0] * n + [0.0])
    lp.col_lower_ = np.zeros(n + 1)
    lp.col_upper_ = np.array([float(max_weight)] * n + [float(max_weight * n + 1)])
    lp.row_lower_ = lo
    lp.row_upper_ = hi
    lp.integrality_ = [highspy.HighsVarType.kInteger] * (n + 1)
    m = lp.a_matrix_
    m.format_ = highspy.MatrixFormat.kRowwise
    m.num_col_ = n + 1
    m.num_row_ = a.shape[0]
    nz = np.nonzero(a)
    m.start_ = np.concatenate([[0], np.cumsum((a != 0).sum(1))]).astype(np.int32)
    m.index_ = nz[1].astype(np.int32)
    m.value_ = a[nz]
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return list(h.getSolution().col_value)
