"""Counting with threshold gates: weighted sums to binary, popcount, symmetric functions, many-operand addition.

Everything here is a function of a synthesis builder ``b`` (:mod:`.synth`):
``b.th(terms, t, name)`` makes the gate ``[sum w * x >= t]`` over literals
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

from functools import lru_cache
from typing import Callable, Sequence

from .arith_add import add_bits
from .synth import FALSE, TRUE, Builder, Unfit, fit, label, register
from .words import WNode

__all__ = ["add_many", "add_two", "columns_of", "compress", "ge_const", "popcount", "symmetric", "weighted_bits"]


def _zero(b: Builder) -> int:
    return FALSE


def _const_value(b: Builder, lit: int) -> bool | None:
    """True / False for a constant literal, None for a signal."""
    if lit == FALSE:
        return False
    if lit == TRUE:
        return True
    return None


def _mag(items: Sequence[tuple[int, int]], const: int = 0) -> int:
    return const + sum(w for _, w in items)


def digits_fit(b: Builder, smax: int) -> bool:
    """Whether the digits of a weighted sum up to ``smax`` likely fit the builder (step bound ``2 M + 2^j``).

    Every weight ``weighted_bits`` makes is at most the largest power of two ``<= smax``: a
    term keeps ``w mod 2^(j+1) <= w`` (a power of two here) and a counter of digit ``j``
    (weight ``-2^(j+1)``) exists only when ``2^(j+1) <= smax``.  ``b.th`` checks every gate.
    """
    if b.max_weight is not None and smax >= 1 and 1 << (smax.bit_length() - 1) > b.max_weight:
        return False
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
        ks = range(1, m // mod + 1)
        counters = b.th_each(terms, [k * mod - c for k in ks], [f"{name}.h{j}_{k}" for k in ks])
        out.append(b.th(terms + [(h, -mod) for h in counters], half - c, f"{name}[{j}]"))
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
    terms = [(x, 1) for x in sig]

    def one_layer() -> int:
        if len(changes) == 1 and changes[0][1] == 1:
            return b.th(terms, changes[0][0], name)
        if len(changes) == 1:
            return b.th([(x, -1) for x in sig], -(changes[0][0] - 1), name)
        ges = b.th_each(terms, [m for m, _ in changes], [f"{name}.ge{m}" for m, _ in changes])
        gates = [(g, d) for g, (_, d) in zip(ges, changes)]
        return b.th(gates, 1 - vals[0], name)

    r = b.attempt(one_layer)
    if r is not None:
        return int(r)
    # too wide for one gate: count in blocks, then compare the count
    cnt = popcount(b, sig, name=f"{name}.count")
    if len(changes) == n and all(vals[m] == (vals[0] + m) % 2 for m in range(n + 1)):
        return cnt[0] ^ vals[0]  # parity: bit 0 of the count
    gates = [(ge_const(b, cnt, m, f"{name}.ge{m}"), d) for m, d in changes]
    return b.th(gates, 1 - vals[0], name)


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
    r = b.attempt(lambda: b.th([(x, 1 << i) for i, x in enumerate(word)], m, name))
    if r is not None:
        return int(r)
    s = 1
    while 2 * (2 << s) <= b.budget and s < n:
        s += 1
    pairs = []  # per block, LSB block first: ([block >= m_k], [block > m_k])
    for k, lo in enumerate(range(0, n, s)):
        bits = word[lo:lo + s]
        mk = (m >> lo) & ((1 << len(bits)) - 1)
        terms = [(x, 1 << i) for i, x in enumerate(bits)]
        pairs.append((b.th(terms, mk, f"{name}.b{k}ge"), b.th(terms, mk + 1, f"{name}.b{k}gt")))
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
            nxt.append((b.th(digits, top - 1, name if last else f"{name}.l{level}_{k}ge"),
                        b.const(False) if last else b.th(digits, top, f"{name}.l{level}_{k}gt")))
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
            nb, gg, ee = _group_cost(tuple(min(max(h - g * r, 0), r) for h in hs), width - c0)
            for j in range(nb):
                after[c0 + j] = after.get(c0 + j, 0) + 1
            gates += gg
            edges += ee
            g += 1
    return max(after.values(), default=0), gates, edges


@lru_cache(maxsize=1 << 16)
def _group_cost(part: tuple[int, ...], room: int) -> tuple[int, int, int]:
    """(output bits, gates, weights) of one group: ``part[i]`` bits of weight ``2^i``, at most ``room`` output
    bits.  Output bit ``j`` reads the bits of weight up to ``2^j`` (the rest are multiples of ``2^(j+1)``):
    ``m`` is their largest sum mod ``2^(j+1)``, and the bit is one gate per wrap of that sum, plus one."""
    top = sum(p << i for i, p in enumerate(part))
    nb = min(top.bit_length(), room)
    gates = edges = 0
    for j in range(nb):
        low = part[:j + 1]
        m = sum((p << i) % (2 << j) for i, p in enumerate(low))
        terms = sum(low)
        gates += m // (2 << j) + 1
        edges += (m // (2 << j) + 1) * terms + m // (2 << j)
    return nb, gates, edges


def compress(b: Builder, cols: dict[int, list[int]], width: int, target: int = 2,
             name: str = "sum") -> dict[int, list[int]]:
    """Columns of at most ``target`` bits with the same sum mod ``2^width``; each round 2 layers.

    Each round takes the best plan ``(k, r)`` (lowest resulting height, then
    fewest gates and weights; ``objective="size"``: fewest gates per unit of
    height removed) whose gates all fit the builder; raises :class:`Unfit`
    when none does.
    """
    cols = {c: list(v) for c, v in cols.items() if v and c < width}
    rnd = 0
    while cols and max(len(v) for v in cols.values()) > target:
        heights = {c: len(v) for c, v in cols.items()}
        hmax = max(heights.values())
        plans = []
        for k in range(1, min(24, width) + 1):
            for r in sorted({1, 2, 3, *range(4, hmax + 1, max(1, hmax // 16)), hmax}):
                if r > hmax or not digits_fit(b, r * ((1 << k) - 1)):
                    continue
                h, g, e = _round_plan(heights, k, r, width)
                if h >= hmax:
                    continue
                cost = g + e * EDGE_COST
                plans.append(((h, cost), k, r))
        plans.sort()
        done = None
        failed = None  # the smallest window sum that did not fit: larger ones will not either
        for _, k, r in plans:
            smax = r * ((1 << k) - 1)
            if failed is not None and smax >= failed:
                continue
            done = b.attempt(lambda: _round(b, cols, k, r, width, f"{name}.r{rnd}"))
            if done is not None:
                break
            failed = smax if failed is None else min(failed, smax)
        if done is None:
            raise Unfit(f"no compression of columns of {hmax} bits fits the budget {b.budget}")
        cols = done
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
    """``x + y mod 2^width`` by the two-operand adder of :mod:`.arith_add` (lookahead or ripple by objective)."""
    return add_bits(b, list(x), list(y), FALSE, width, name)


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


# ----------------------------------------------------------------------------- registry

@register("popcount")
def synth_popcount(b: Builder, node: WNode, args: list[list[int]]) -> list[int]:
    """The count of 1 bits over every operand: one column compressed to its binary digits."""
    return fit(popcount(b, [x for a in args for x in a], node.width, label(b)), node.width)


@register("add")
def synth_add(b: Builder, node: WNode, args: list[list[int]]) -> list[int]:
    """Two operands: the two-operand adder; more: column compression by counters, then one adder."""
    if len(args) == 2:
        from .arith_add import synth_add as add2  # noqa: PLC0415
        return add2(b, node, args)
    ones = [i for i, a in enumerate(args) if all(x == FALSE for x in a[1:])]
    if len(args) == 3 and ones:  # x + y + carry-in: the carry is the adder's lowest digit
        x, y = [a for i, a in enumerate(args) if i != ones[0]]
        cin = args[ones[0]][0] if args[ones[0]] else FALSE
        return fit(add_bits(b, list(x), list(y), cin, node.width, label(b)), node.width)
    return fit(add_many(b, args, node.width, label(b)), node.width)
