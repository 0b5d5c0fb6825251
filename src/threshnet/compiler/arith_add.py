"""Addition and subtraction in threshold gates: ripple (smallest) and hierarchical carry-lookahead (shallowest).

Carries as one threshold gate.  For ``x + y + cin`` the carry into bit ``i``
is ``c_i = [sum_{m<i} 2^m (x_m + y_m) + cin >= 2^i]`` (the low ``i`` bits of
the sum overflow), and the sum bit is ``s_i = [x_i + y_i + c_i - 2 c_{i+1} >= 1]``
because ``x_i + y_i + c_i = s_i + 2 c_{i+1}``.  So with every ``c_i`` in one
layer the adder has depth 2 and ``2n`` gates, as long as the weights ``2^i``
fit the dtype (``3 * 2^n <= 2^(p-1)``: 21 bits in float32).

Wider words use *digits*.  A group of positions ``[lo, hi)`` has generate
``G = [V >= 2^q]`` and propagate-or-generate ``P = [V >= 2^q - 1]`` where
``V = sum 2^(m-lo) (x_m + y_m)`` over its ``q`` positions; its digit
``G + P`` in {0, 1, 2} behaves exactly like a position's ``x_m + y_m`` in the
carry chain (2: the group carries out, 1: it passes a carry in on, 0: it
kills it).  The group that starts at bit 0 (carry-in included) has no carry
in: its digit is ``2 G``.  A prefix ``[0, i)`` split into consecutive groups
with digits ``d_0 .. d_(q-1)`` (least significant first) carries into ``i``
iff ``sum 2^t d_t >= 2^q`` (the same carry formula over the digits; the sum
is below ``2^(q+1)`` since the lowest digit is at most 3 and the others at most 2).

Radices ``(k1, ..., kL)`` build groups of ``k1`` bits, groups of ``k2`` of
those, and so on; every carry reads at most ``sum(k - 1)`` digits plus the
top-level groups before it, so a carry is one gate at depth ``L + 1`` and the
sum bits are at depth ``L + 2``.  ``objective="depth"`` takes the smallest
``L`` (then the fewest group gates) whose gates all fit the builder's budget;
``"size"`` takes the ripple adder (carry ``[x + y + c >= 2]``, two gates per
bit).  Worked example, 4 bits (``L = 0``):
``c_4 = [8 x_3 + 8 y_3 + 4 x_2 + 4 y_2 + 2 x_1 + 2 y_1 + x_0 + y_0 >= 16]``.

Subtraction is ``x + ~y + 1`` in the result's width.  More than two operands
add pairwise in a balanced tree (the counter-based multi-operand adder lives
with the counting constructions).
"""

from __future__ import annotations

from typing import Sequence

from .synth import FALSE, TRUE, Builder, Unfit, fit, label, register, shallowest, digits_fit
from .words import WNode

__all__ = ["add_bits", "add_ripple", "add_lookahead"]


def _digits(xs: Sequence[int], ys: Sequence[int], cin: int) -> list[list[tuple[int, int]]]:
    ds = [[(x, 1), (y, 1)] for x, y in zip(xs, ys)]
    if ds:
        ds[0].append((cin, 1))
    return ds


def _scaled(digs: Sequence[Sequence[tuple[int, int]]]) -> list[tuple[int, int]]:
    return [(l, w << t) for t, d in enumerate(digs) for l, w in d]


def _sum_bit(b: Builder, x: int, y: int, c: int, c_next: int, name: str) -> int:
    r = b.attempt(lambda: b.th([(x, 1), (y, 1), (c, 1), (c_next, -2)], 1, name))
    return r if r is not None else b.xor([x, y, c], name)


def add_ripple(b: Builder, xs: Sequence[int], ys: Sequence[int], cin: int, name: str) -> list[int]:
    """``len(xs) + 1`` bits of ``xs + ys + cin``: carries ``[x + y + c >= 2]``, two gates per bit."""
    c = cin
    out = []
    for i, (x, y) in enumerate(zip(xs, ys)):
        c_next = b.th([(x, 1), (y, 1), (c, 1)], 2, f"{name}.c[{i + 1}]")
        out.append(_sum_bit(b, x, y, c, c_next, f"{name}[{i}]"))
        c = c_next
    return out + [c]


def add_lookahead(b: Builder, xs: Sequence[int], ys: Sequence[int], cin: int, radices: tuple[int, ...],
                  name: str) -> list[int]:
    """``len(xs) + 1`` bits of ``xs + ys + cin`` by group digits of ``radices`` (module docstring)."""
    n = len(xs)
    levels = [_digits(xs, ys, cin)]
    sizes = [1]
    for lv, k in enumerate(radices, 1):
        prev, new = levels[-1], []
        for j in range(0, len(prev), k):
            kids = prev[j:j + k]
            terms, q = _scaled(kids), len(kids)
            g = b.th(terms, 1 << q, f"{name}.G{lv}[{j // k}]")
            if j == 0:
                new.append([(g, 2)])
            else:
                new.append([(g, 1), (b.th(terms, (1 << q) - 1, f"{name}.P{lv}[{j // k}]"), 1)])
        levels.append(new)
        sizes.append(sizes[-1] * k)
    carries = [cin]
    for i in range(1, n + 1):
        carries.append(_carry(b, levels, sizes, carries, i, f"{name}.c[{i}]"))
    return [_sum_bit(b, xs[i], ys[i], carries[i], carries[i + 1], f"{name}[{i}]") for i in range(n)] + [carries[n]]


def _prefix(levels: list, sizes: list[int], start: int, i: int, top: int) -> list:
    """Digits of positions ``[start, i)`` (``start`` a multiple of ``sizes[top]``), least significant first."""
    digs: list = []
    pos = start
    for lv in range(top, -1, -1):
        size = sizes[lv]
        cnt = (i - pos) // size
        digs.extend(levels[lv][pos // size:pos // size + cnt])
        pos += cnt * size
    return digs


def _carry(b: Builder, levels: list, sizes: list[int], carries: list[int], i: int, name: str) -> int:
    """The carry into ``i``: one gate over the digits of ``[0, i)``, or, when that does not fit, over
    the carry into the start of ``i - 1``'s group at some level (as the lowest digit, ``2 c``) and the
    digits from there."""
    top = len(levels) - 1
    r = b.attempt(lambda: b.th(_scaled(_prefix(levels, sizes, 0, i, top)), 1 << len(_prefix(levels, sizes, 0, i, top)),
                               name))
    if r is not None:
        return r
    for lv in range(top, 0, -1):
        start = (i - 1) // sizes[lv] * sizes[lv]
        if start == 0:
            continue
        digs = [[(carries[start], 2)]] + _prefix(levels, sizes, start, i, lv - 1)
        r = b.attempt(lambda: b.th(_scaled(digs), 1 << len(digs), name))
        if r is not None:
            return r
    raise Unfit(f"no carry into bit {i} fits")


def _top(n: int, ks: tuple[int, ...]) -> int:
    size = 1
    for k in ks:
        size *= k
    return -(-n // size)


def add_bits(b: Builder, xs: Sequence[int], ys: Sequence[int], cin: int, width: int, name: str) -> list[int]:
    """``width`` bits of ``xs + ys + cin`` (LSB-first literals), by the builder's objective."""
    xs, ys = fit(xs, width), fit(ys, width)
    n = width
    while n and xs[n - 1] == FALSE and ys[n - 1] == FALSE:
        n -= 1
    if n == 0:
        return fit([cin], width)
    xs, ys = xs[:n], ys[:n]
    if b.objective == "depth":
        q = digits_fit(b, lambda q: 1 << q)
        r = shallowest(b, n, lambda ks: add_lookahead(b, xs, ys, cin, ks, name), lambda L: L + 2, q + 1,
                       prefer=lambda ks: sum(k - 1 for k in ks) + _top(n, ks) - 1 <= q)
        if r is not None:
            return fit(r, width)
    return fit(add_ripple(b, xs, ys, cin, name), width)


@register("add")
def synth_add(b: Builder, node: WNode, args: list[list[int]]) -> list[int]:
    """Sum of two or more words: pairwise, in a balanced tree."""
    words = [list(a) for a in args]
    name = label(b)
    while len(words) > 1:
        nxt = [add_bits(b, words[i], words[i + 1], FALSE, node.width, name) for i in range(0, len(words) - 1, 2)]
        if len(words) % 2:
            nxt.append(words[-1])
        words = nxt
    return fit(words[0], node.width)


@register("sub")
def synth_sub(b: Builder, node: WNode, args: list[list[int]]) -> list[int]:
    """``x - y`` mod ``2**width`` = ``x + ~y + 1``."""
    x, y = args
    return add_bits(b, x, [l ^ 1 for l in fit(y, node.width)], TRUE, node.width, label(b))


__all__ += ["synth_add", "synth_sub", "Unfit"]
