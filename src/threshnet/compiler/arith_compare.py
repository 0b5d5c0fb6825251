"""Comparison, min and max in threshold gates: one gate when the weights fit, else blocks combined by one gate.

With ``D = x - y = sum 2^i (x_i - y_i)``: ``x > y`` is one gate
``[sum 2^i (x_i - y_i) >= 1]`` and ``x < y`` is ``[sum 2^i (y_i - x_i) >= 1]``;
``<=`` and ``>=`` are their negations (free: a negated literal).  The weights
fit the dtype while ``2^(n+1) <= 2^(p-1)`` (22 bits in float32, 6 in bfloat16).
Worked example, 4 bits: ``x > y`` is ``[8x3 + 4x2 + 2x1 + x0 - 8y3 - 4y2 - 2y1 - y0 >= 1]``.

Wider words split into blocks: block ``j``'s ``gt_j = [D_j >= 1]`` and
``lt_j = [-D_j >= 1]`` give a digit ``gt_j - lt_j`` in {-1, 0, 1} with the
sign of ``D_j``; the sign of ``D`` is the sign of the most significant
nonzero digit, which is the sign of ``sum 2^j (gt_j - lt_j)``: one more gate.
Blocks of blocks repeat this (radices as for the adder); the depth is the
number of levels plus one.  Equality is "no digit is nonzero":
``x == y`` is ``[sum_j (gt_j + lt_j) <= 0]`` over the top-level digits (so
``lt`` and ``eq`` of 64-bit words share their block gates: 8 gates, depth 2
in float32), and for one-gate comparisons ``[gt + lt <= 0]``.

``min``/``max`` are the comparison and a mux per bit.
"""

from __future__ import annotations

from typing import Sequence

from .synth import FALSE, Builder, fit, label, register, shallowest, digits_fit
from .words import WNode

__all__ = ["sign", "compare_bits"]

Digit = list[tuple[int, int]]


def _scaled(digs: Sequence[Digit], s: int = 1) -> list[tuple[int, int]]:
    return [(l, s * (w << t)) for t, d in enumerate(digs) for l, w in d]


def _signs(b: Builder, digits: list[Digit], radices: tuple[int, ...], name: str) -> tuple[int, int, list[Digit]]:
    levels = digits
    for lv, k in enumerate(radices, 1):
        new = []
        for j in range(0, len(levels), k):
            terms = _scaled(levels[j:j + k])
            pos = b.th(terms, 1, f"{name}.gt{lv}[{j // k}]")
            neg = b.th([(l, -w) for l, w in terms], 1, f"{name}.lt{lv}[{j // k}]")
            new.append([(pos, 1), (neg, -1)])
        levels = new
    terms = _scaled(levels)
    return b.th(terms, 1, f"{name}.gt"), b.th([(l, -w) for l, w in terms], 1, f"{name}.lt"), levels


def sign(b: Builder, xs: Sequence[int], ys: Sequence[int], name: str) -> tuple[int, int, int]:
    """``(x > y, x < y, x == y)`` literals of two LSB-first words."""
    n = max(len(xs), len(ys))
    xs, ys = fit(xs, n), fit(ys, n)
    while n and xs[n - 1] == ys[n - 1]:  # equal high bits (e.g. zero-extension) do not matter
        n -= 1
    if n == 0:
        return FALSE, FALSE, FALSE ^ 1
    digits = [[(x, 1), (y, -1)] for x, y in zip(xs[:n], ys[:n])]

    def build(ks: tuple[int, ...]) -> list[int]:
        gt, lt, top = _signs(b, digits, ks, name)
        if ks:
            eq = b.th([(l, -1) for d in top for l, _ in d], 0, f"{name}.eq")
        else:
            eq = b.th([(gt, -1), (lt, -1)], 0, f"{name}.eq")
        return [gt, lt, eq]

    r = shallowest(b, n, build, lambda L: L + 1, digits_fit(b, lambda q: 1) + 1)
    if r is not None:
        return r[0], r[1], r[2]
    return _ripple_sign(b, digits, name)


def _ripple_sign(b: Builder, digits: list[Digit], name: str) -> tuple[int, int, int]:
    """The fallback for tiny weight caps (unit weights only): per-bit ``g_i = [d_i >= 1]`` and
    ``l_i = [-d_i >= 1]``, then from bit 0 up ``gt = g_i | (~l_i & gt)``, ``lt = l_i | (~g_i & lt)``
    (a higher bit decides when it differs)."""
    g = [b.th(d, 1, f"{name}.gt0[{i}]") for i, d in enumerate(digits)]
    l = [b.th([(x, -w) for x, w in d], 1, f"{name}.lt0[{i}]") for i, d in enumerate(digits)]
    gt = lt = FALSE
    for i, (gi, li) in enumerate(zip(g, l)):
        gt, lt = (b.or_([gi, b.and_([li ^ 1, gt])], f"{name}.gt[{i}]"),
                  b.or_([li, b.and_([gi ^ 1, lt])], f"{name}.lt[{i}]"))
    return gt, lt, b.and_([x ^ 1 for x in g + l], f"{name}.eq")


def compare_bits(b: Builder, op: str, xs: Sequence[int], ys: Sequence[int], name: str) -> int:
    """The literal of ``x op y`` for op in lt le gt ge eq ne."""
    gt, lt, eq = _lazy(b, op, xs, ys, name)
    return {"gt": gt, "lt": lt, "le": gt ^ 1, "ge": lt ^ 1, "eq": eq, "ne": eq ^ 1}[op]


def _lazy(b: Builder, op: str, xs, ys, name):
    return sign(b, xs, ys, name)


@register("lt", "le", "gt", "ge", "eq", "ne")
def synth_compare(b: Builder, node: WNode, args: list[list[int]]) -> list[int]:
    return [compare_bits(b, node.op, args[0], args[1], label(b))]


@register("min", "max")
def synth_minmax(b: Builder, node: WNode, args: list[list[int]]) -> list[int]:
    """``min = x if x < y else y``; ``max = y if x < y else x``."""
    x, y = args
    w = max(len(x), len(y))
    x, y = fit(x, w), fit(y, w)
    name = label(b)
    lt = compare_bits(b, "lt", x, y, f"{name}.cmp")
    if node.op == "min":
        bits = [b.mux(lt, xi, yi, f"{name}[{i}]") for i, (xi, yi) in enumerate(zip(x, y))]
    else:
        bits = [b.mux(lt, yi, xi, f"{name}[{i}]") for i, (xi, yi) in enumerate(zip(x, y))]
    return fit(bits, node.width)
