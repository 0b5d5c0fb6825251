"""Counting with threshold gates: weighted sums to binary, popcount, symmetric functions, many-operand addition.

Everything here is a function of a synthesis builder ``b`` (:mod:`.synth`):
``_th(b, terms, t, name)`` makes the gate ``[sum w * x >= t]`` over literals
(``lit = 2 * node + negated``), ``b.const(v)`` a constant literal and
``b.budget`` bounds the magnitude ``sum |w| + |t|`` of one gate, so that every
sum the gate makes is exact in the target dtype.

The one construction: the binary digits of a weighted sum
---------------------------------------------------------
Let ``S = C + sum_i w_i x_i`` with integer weights ``w_i > 0``, bits ``x_i``
and a constant ``C >= 0``.  Bit ``j`` of ``S`` only depends on
``S mod 2^(j+1)``, so only on ``R_j = (C mod 2^(j+1)) + sum_i (w_i mod
2^(j+1)) x_i``, whose largest value we call ``M_j``.  With the *counters*
``h_k = [R_j >= k 2^(j+1)]`` for ``k = 1 .. floor(M_j / 2^(j+1))`` (one layer)
the remainder is affine in them,

    R_j mod 2^(j+1) = R_j - 2^(j+1) sum_k h_k,

because exactly ``floor(R_j / 2^(j+1))`` counters are on.  So bit ``j`` is
the second-layer gate ``[R_j - 2^(j+1) sum_k h_k >= 2^j]``.  When
``M_j < 2^(j+1)`` there are no counters and bit ``j`` is the single gate
``[R_j >= 2^j]``.  Every gate's magnitude is at most ``2 M_j + 2^j``: the
construction is used only where that fits ``b.budget``, and each caller
shrinks its blocks until it does.  Soundness is the identity above, exact in
integers; nothing is approximate.

*Counting* ``n`` bits is the case ``w_i = 1``: bit 0 is
``[sum x - 2 (h_2 + h_4 + ...) >= 1]``, bit ``j`` reads
``[count >= k 2^(j+1)]`` gates; ``popcount`` of 64 bits is 32 + 32 + ... =
63 counters and 7 output gates in 2 layers.  A *symmetric function*
``f(count)`` is one layer of ``g_m = [count >= m]`` for each ``m`` where ``f``
changes, and ``f = f(0) + sum_m (f(m) - f(m-1)) g_m`` exactly, so the output
is the gate ``[f(0) + sum_m (f(m) - f(m-1)) g_m >= 1]`` (``atleast`` and
``maj`` are one gate).

Many-operand addition (column compression)
------------------------------------------
Operands become *columns*: column ``c`` holds the bits of weight ``2^c``.
One *round* cuts the columns into windows of ``k`` columns and each window
into groups of at most ``r`` bits per column; each group is a weighted sum
``T <= r (2^k - 1)`` whose binary digits (2 layers, above) go back into the
columns.  A round picks ``(k, r)`` within the budget that leaves the lowest
column height (fewest gates on ties); rounds repeat until every column holds
at most two bits, and the two rows go to the two-operand adder (``SYNTH
["add"]`` of :mod:`.synth`, constant depth).  Constant-1 bits are collected
into the constant ``C`` of a group, so adding constants costs no gates.
Columns at or above the result width are dropped (the result is mod
``2^width``), which the digits construction respects by never making a bit
above it.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

__all__ = ["add_many", "add_two", "columns_of", "compress", "ge_const", "popcount", "symmetric", "weighted_bits"]

Builder = Any  # compiler.synth.Builder: th(terms, t, name), const(v), budget, objective


def _zero(b: Builder) -> int:
    return b.const(False)


def _const_value(b: Builder, lit: int) -> bool | None:
    """True / False for a constant literal, None for a signal."""
    if lit == b.const(False):
        return False
    if lit == b.const(True):
        return True
    return None


def _th(b: Builder, terms: Sequence[tuple[int, int]], t: int, name: str | None = None) -> int:
    """``b.th`` with constant literals folded into the threshold and zero weights dropped."""
    zero, one = b.const(False), b.const(True)
    keep: dict[int, int] = {}
    for x, w in terms:
        if x == zero:
            continue
        if x == one:
            t -= w
            continue
        if w:
            keep[x] = keep.get(x, 0) + w
    kept = [(x, w) for x, w in keep.items() if w]
    if not kept:
        return b.const(0 >= t)
    lo = sum(w for _, w in kept if w < 0)
    hi = sum(w for _, w in kept if w > 0)
    if lo >= t:
        return one
    if hi < t:
        return zero
    if len(kept) == 1:  # between the bounds: the literal itself, or its negation
        return kept[0][0] if kept[0][1] > 0 else kept[0][0] ^ 1
    return b.th(kept, t, name)


def _mag(items: Sequence[tuple[int, int]], const: int = 0) -> int:
    return const + sum(w for _, w in items)


def digits_fit(b: Builder, smax: int) -> bool:
    """Whether the digits of a weighted sum up to ``smax`` stay within the budget (bound ``2 M + M``)."""
    return 3 * smax <= b.budget


def weighted_bits(b: Builder, items: Sequence[tuple[int, int]], const: int = 0, nbits: int | None = None,
                  name: str = "sum") -> list[int]:
    """The binary digits (LSB first, ``nbits`` of them) of ``const + sum w * x`` over ``items = (lit, w)``.

    Two layers of gates (see the module docstring); a digit that is one term of
    weight ``2^j`` is that literal, with no gate.  Weights must be positive.
    """
    items = [(x, w) for x, w in items if w]
    top = const + sum(w for _, w in items)
    if nbits is None:
        nbits = max(1, top.bit_length())
    out: list[int] = []
    for j in range(nbits):
        mod = 1 << (j + 1)
        half = 1 << j
        terms = [(x, w % mod) for x, w in items if w % mod]
        c = const % mod
        m = c + sum(w for _, w in terms)
        if m < half:
            out.append(_zero(b))
            continue
        if c == 0 and len(terms) == 1 and terms[0][1] == half:
            out.append(terms[0][0])
            continue
        if c >= half and m < mod:  # the bit is always on
            out.append(b.const(True))
            continue
        counters = [_th(b, terms, k * mod - c, f"{name}.h{j}_{k}") for k in range(1, m // mod + 1)]
        out.append(_th(b, terms + [(h, -mod) for h in counters], half - c, f"{name}[{j}]"))
    return out


def _chunks(bits: list[int], size: int) -> list[list[int]]:
    return [bits[i:i + size] for i in range(0, len(bits), size)]


def popcount(b: Builder, bits: Sequence[int], width: int | None = None, name: str = "count") -> list[int]:
    """The number of 1 bits of ``bits``, LSB first (``width`` digits, default all)."""
    cols: dict[int, list[int]] = {0: list(bits)}
    n = len(bits)
    if width is None:
        width = max(1, n.bit_length())
    return add_columns(b, cols, width, name=name)


def symmetric(b: Builder, bits: Sequence[int], f: Callable[[int], int], name: str = "sym") -> int:
    """``f(popcount(bits))`` for a 0/1 function ``f``: ``[count >= m]`` gates and one gate over them.

    One gate when ``f`` is a threshold of the count (changes once upward);
    blocks of counters (popcount, then a symmetric function of the count's
    bits) when ``n`` does not fit the budget.
    """
    bits = list(bits)
    n = len(bits)
    consts = sum(1 for x in bits if _const_value(b, x) is True)
    sig = [x for x in bits if _const_value(b, x) is None]
    n = len(sig)
    vals = [int(f(m + consts)) & 1 for m in range(n + 1)]
    changes = [(m, vals[m] - vals[m - 1]) for m in range(1, n + 1) if vals[m] != vals[m - 1]]
    if not changes:
        return b.const(bool(vals[0]))
    if 2 * n + 1 > b.budget:  # too wide for one gate: count in blocks, then compare the count
        cnt = popcount(b, sig, name=f"{name}.count")
        if len(changes) == n and all(vals[m] == (vals[0] + m) % 2 for m in range(n + 1)):
            return cnt[0] ^ vals[0]  # parity: bit 0 of the count
        if len(changes) + 2 > b.budget:
            raise ValueError(f"a symmetric function of {n} bits with {len(changes)} changes does not fit "
                             f"the weight budget {b.budget}")
        gates = [(ge_const(b, cnt, m, f"{name}.ge{m}"), d) for m, d in changes]
        return _th(b, gates, 1 - vals[0], name)
    terms = [(x, 1) for x in sig]
    if len(changes) == 1 and changes[0][1] == 1:
        return _th(b, terms, changes[0][0], name)
    if len(changes) == 1:
        return _th(b, [(x, -1) for x in sig], -(changes[0][0] - 1), name)
    gates = [(_th(b, terms, m, f"{name}.ge{m}"), d) for m, d in changes]
    return _th(b, gates, 1 - vals[0], name)


def ge_const(b: Builder, word: Sequence[int], m: int, name: str = "ge") -> int:
    """``[value(word) >= m]``: one gate when it fits the budget, else blocks combined by one gate.

    Per block ``k`` (bits ``v_k``, constant digits ``m_k``) the digit
    ``x_k = [v_k >= m_k] + [v_k > m_k]`` is 2 (greater), 1 (equal) or 0 (less),
    and ``v >= m`` iff ``[sum_k 2^k x_k >= 2^K - 1]``: the top block that is
    not equal decides, and all equal counts as ``>=``.
    """
    word = list(word)
    n = len(word)
    if m <= 0:
        return b.const(True)
    if m >= 1 << n:
        return b.const(False)
    if 2 * (1 << n) <= b.budget:
        return _th(b, [(x, 1 << i) for i, x in enumerate(word)], m, name)
    s = 1
    while 2 * (2 << s) <= b.budget and s < n:
        s += 1
    pairs = []  # per block, LSB block first: ([block >= m_k], [block > m_k])
    for k, lo in enumerate(range(0, n, s)):
        bits = word[lo:lo + s]
        mk = (m >> lo) & ((1 << len(bits)) - 1)
        terms = [(x, 1 << i) for i, x in enumerate(bits)]
        pairs.append((_th(b, terms, mk, f"{name}.b{k}ge"), _th(b, terms, mk + 1, f"{name}.b{k}gt")))
    g = 1
    while 4 << (g + 1) <= b.budget:
        g += 1
    if g < 2:
        raise ValueError(f"comparing {n} bits does not fit the weight budget {b.budget}")
    level = 0
    while len(pairs) > 1:  # super-blocks of g blocks: the same digits one level up
        nxt = []
        for k, lo in enumerate(range(0, len(pairs), g)):
            group = pairs[lo:lo + g]
            digits = [(x, 1 << i) for i, pr in enumerate(group) for x in pr]
            top = 1 << len(group)
            last = len(pairs) <= g
            nxt.append((_th(b, digits, top - 1, name if last else f"{name}.l{level}_{k}ge"),
                        b.const(False) if last else _th(b, digits, top, f"{name}.l{level}_{k}gt")))
        pairs = nxt
        level += 1
    return pairs[0][0]


# ----------------------------------------------------------------------------- column compression

def columns_of(b: Builder, operands: Sequence[tuple[Sequence[int], int]], width: int) -> tuple[dict[int, list[int]], int]:
    """Columns ``{c: [lits]}`` of ``sum 2^shift * operand`` below ``width``, and the constant part."""
    cols: dict[int, list[int]] = {}
    const = 0
    for bits, shift in operands:
        for i, x in enumerate(bits):
            c = i + shift
            if c >= width:
                break
            v = _const_value(b, x)
            if v is True:
                const += 1 << c
            elif v is None:
                cols.setdefault(c, []).append(x)
    return cols, const % (1 << width)


#: A weight costs this fraction of a gate when a compression round is chosen (fan-in is time and memory).
EDGE_COST = 0.05


def _round_plan(heights: dict[int, int], k: int, r: int, width: int) -> tuple[int, int, int]:
    """(largest height after one round with windows ``k`` and groups ``r``, gates, weights)."""
    after: dict[int, int] = {}
    gates = edges = 0
    lo = min(heights)
    hi = max(heights)
    for c0 in range(lo, hi + 1, k):
        hs = [heights.get(c, 0) for c in range(c0, c0 + k)]
        groups = max(hs)
        g = 0
        while g * r < groups:
            part = [min(max(h - g * r, 0), r) for h in hs]
            top = sum(p << i for i, p in enumerate(part))
            nb = min(top.bit_length(), width - c0)
            for j in range(nb):
                after[c0 + j] = after.get(c0 + j, 0) + 1
                m = sum((p << i) % (2 << j) for i, p in enumerate(part))
                terms = sum(p for i, p in enumerate(part) if i <= j)
                gates += m // (2 << j) + 1
                edges += (m // (2 << j) + 1) * terms + m // (2 << j)
            g += 1
    return max(after.values(), default=0), gates, edges


def compress(b: Builder, cols: dict[int, list[int]], width: int, target: int = 2,
             name: str = "sum") -> dict[int, list[int]]:
    """Columns of at most ``target`` bits with the same sum mod ``2^width``; each round 2 layers."""
    cols = {c: list(v) for c, v in cols.items() if v and c < width}
    rnd = 0
    while cols and max(len(v) for v in cols.values()) > target:
        heights = {c: len(v) for c, v in cols.items()}
        hmax = max(heights.values())
        best = None
        for k in range(1, min(24, width) + 1):
            for r in sorted({1, 2, 3, *range(4, hmax + 1, max(1, hmax // 16)), hmax}):
                if r > hmax or not digits_fit(b, r * ((1 << k) - 1)):
                    continue
                h, g, e = _round_plan(heights, k, r, width)
                if h >= hmax:
                    continue
                cost = g + e * EDGE_COST
                key = (h, cost) if b.objective != "size" else (cost / max(1, hmax - h), h)
                if best is None or key < best[0]:
                    best = (key, k, r)
        if best is None:  # a budget too small for even a full adder: refuse clearly
            raise ValueError(f"the weight budget {b.budget} is too small to add columns of {hmax} bits")
        _, k, r = best
        cols = _round(b, cols, k, r, width, f"{name}.r{rnd}")
        rnd += 1
    return cols


def _round(b: Builder, cols: dict[int, list[int]], k: int, r: int, width: int, name: str) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    one = b.const(True)
    lo, hi = min(cols), max(cols)
    for c0 in range(lo, hi + 1, k):
        window = [cols.get(c, []) for c in range(c0, c0 + k)]
        g = 0
        while any(len(v) > g * r for v in window):
            items = [(x, 1 << i) for i, v in enumerate(window) for x in v[g * r:(g + 1) * r]]
            if len(items) == 1:  # a lone bit stays where it is
                x, w = items[0]
                out.setdefault(c0 + w.bit_length() - 1, []).append(x)
            else:
                cst = sum(w for x, w in items if x == one)
                items = [(x, w) for x, w in items if x != one]
                top = cst + sum(w for _, w in items)
                nb = min(top.bit_length(), width - c0)
                for j, d in enumerate(weighted_bits(b, items, cst, nb, f"{name}.w{c0}_{g}")):
                    if d != _zero(b):
                        out.setdefault(c0 + j, []).append(d)
            g += 1
    return out


def add_two(b: Builder, x: Sequence[int], y: Sequence[int], width: int, name: str = "sum") -> list[int]:
    """``x + y mod 2^width``: synth's two-operand adder when there is one, else :func:`add_lookahead`."""
    try:
        from .synth import SYNTH  # noqa: PLC0415  (synth imports this module)
        from .words import WNode
    except ImportError:
        SYNTH = {}
    fn = SYNTH.get("add")
    if fn is not None and getattr(fn, "__module__", "") != __name__:
        zero = _zero(b)
        n = max(len(x), len(y), 1)
        xs = (list(x) + [zero] * n)[:n]
        ys = (list(y) + [zero] * n)[:n]
        return list(fn(b, WNode("add", (0, 1), width, name=name), [xs, ys]))
    return add_lookahead(b, x, y, width, name)


def add_lookahead(b: Builder, x: Sequence[int], y: Sequence[int], width: int, name: str = "sum") -> list[int]:
    """A two-operand adder in 2 layers (one block) or 4 (blocks of ``k`` bits with lookahead gates).

    Carry into bit ``i`` of a block: ``[sum_{j<i} 2^j (x_j + y_j) + cin >= 2^i]``;
    sum bit ``[x_i + y_i + c_i - 2 c_{i+1} >= 1]``.  Blocks: ``G = [block sum >=
    2^k]``, ``P = [block sum >= 2^k - 1]`` and the carry into block ``m`` is
    ``[sum_{l<m} 2^l (G_l + P_l) >= 2^m]`` (a generate digit 2, propagate 1,
    kill 0: the carry comes in iff the top non-propagating block generates).
    """
    zero = _zero(b)
    xs = [(list(x) + [zero] * width)[i] for i in range(width)]
    ys = [(list(y) + [zero] * width)[i] for i in range(width)]

    def carries(lo: int, hi: int, cin: int | None) -> list[int]:
        """c[lo+1 .. hi] of the block [lo, hi) given carry-in literal ``cin``."""
        out = []
        for i in range(lo + 1, hi + 1):
            terms = [(v, 1 << (j - lo)) for j in range(lo, i) for v in (xs[j], ys[j])]
            if cin is not None:
                terms.append((cin, 1))
            out.append(_th(b, terms, 1 << (i - lo), f"{name}.c{i}"))
        return out

    k = width
    while k > 1 and 4 << k > b.budget:
        k -= 1
    nblocks = -(-width // k)
    if nblocks == 1:
        c = [None] + carries(0, width, None)
    else:
        if 4 << nblocks > b.budget:  # too many blocks for one lookahead gate: ripple between blocks
            cin = None
            c = [None]
            for lo in range(0, width, k):
                cs = carries(lo, min(lo + k, width), cin)
                c += cs
                cin = cs[-1]
        else:
            gp = []
            for m, lo in enumerate(range(0, width, k)):
                hi = min(lo + k, width)
                terms = [(v, 1 << (j - lo)) for j in range(lo, hi) for v in (xs[j], ys[j])]
                gp.append((_th(b, terms, 1 << (hi - lo), f"{name}.G{m}"), _th(b, terms, (1 << (hi - lo)) - 1, f"{name}.P{m}")))
            cin_of = [None]
            for m in range(1, nblocks):
                terms = [(g, 1 << l_) for l_ in range(m) for g in gp[l_]]
                cin_of.append(_th(b, terms, 1 << m, f"{name}.C{m}"))
            c = [None]
            for m, lo in enumerate(range(0, width, k)):
                c += carries(lo, min(lo + k, width), cin_of[m])
    out = []
    for i in range(width):
        terms = [(xs[i], 1), (ys[i], 1)]
        if c[i] is not None:
            terms.append((c[i], 1))
        if i + 1 < len(c):
            terms.append((c[i + 1], -2))
        out.append(_th(b, terms, 1, f"{name}[{i}]"))
    return out


def add_columns(b: Builder, cols: dict[int, list[int]], width: int, const: int = 0, name: str = "sum") -> list[int]:
    """The ``width`` low bits of ``const + sum_c 2^c * (bits of column c)``."""
    one, zero = b.const(True), _zero(b)
    cols = {c: list(v) for c, v in cols.items() if c < width}
    for c in range(width):
        if const >> c & 1:
            cols.setdefault(c, []).append(one)
    cols = compress(b, cols, width, target=2, name=name)
    x = [zero] * width
    y = [zero] * width
    for c, v in cols.items():
        if v:
            x[c] = v[0]
        if len(v) > 1:
            y[c] = v[1]
    if all(v == zero for v in y):
        return x
    # the low columns where y is empty pass through without an adder
    lo = next(i for i, v in enumerate(y) if v != zero)
    return x[:lo] + add_two(b, x[lo:], y[lo:], width - lo, name)


def add_many(b: Builder, operands: Sequence[Sequence[int]], width: int, name: str = "sum") -> list[int]:
    """``sum(operands) mod 2^width`` for any number of operands (LSB-first bit lists)."""
    cols, const = columns_of(b, [(bits, 0) for bits in operands], width)
    return add_columns(b, cols, width, const, name)
