"""Word operators that are wiring or single gates, and simple fallbacks for counting and multiplying.

Wiring costs no gate: ``const`` (TRUE/FALSE literals), ``zext`` (FALSE
padding), ``slice``, ``concat``, ``shl``/``shr`` (moved literals) and ``not``
(negated literals; a reader absorbs ``w * (1 - x) = w - w x``).  Bitwise
``and``/``or`` are one gate per bit (``[x + y >= 2]``, ``[x + y >= 1]``),
``xor`` the parity form of :meth:`Builder.xor`.  ``mux`` per bit is
``[2 (c & x) + y - c >= 1]`` (when ``c = 1`` the sum is ``2x + y - 1``, at
least 1 iff ``x``; when ``c = 0`` it is ``y``).  ``atleast``/``maj`` and ``th``
are one gate ``[sum x >= k]``; ``parity`` is the parity form.

``popcount`` (when the count fits one layer): rungs ``h_m = [sum x >= m]``
for ``m = 1..n`` in one layer, and bit ``k`` of the count is
``[sum_m (bit_k(m) - bit_k(m - 1)) h_m >= 1]``: the rungs that are 1 are
``h_1..h_c``, so the sum telescopes to ``bit_k(c)``.  Otherwise, and for
``mul`` (partial products ``x_i & y_j``), words are added in a balanced tree
of adders.
"""

from __future__ import annotations

from .arith_add import add_bits
from .synth import FALSE, TRUE, Builder, fit, label, register
from .words import WNode


@register("const")
def synth_const(b: Builder, node: WNode, args: list[list[int]]) -> list[int]:
    v = node.params[0]
    return [TRUE if (v >> i) & 1 else FALSE for i in range(node.width)]


@register("zext")
def synth_zext(b: Builder, node: WNode, args: list[list[int]]) -> list[int]:
    return fit(args[0], node.width)


@register("slice")
def synth_slice(b: Builder, node: WNode, args: list[list[int]]) -> list[int]:
    hi, lo = node.params
    return list(args[0][lo:hi + 1])


@register("concat")
def synth_concat(b: Builder, node: WNode, args: list[list[int]]) -> list[int]:
    out: list[int] = []
    for a in reversed(args):  # the first operand is the most significant
        out.extend(a)
    return out


@register("not")
def synth_not(b: Builder, node: WNode, args: list[list[int]]) -> list[int]:
    return [l ^ 1 for l in args[0]]


@register("shl")
def synth_shl(b: Builder, node: WNode, args: list[list[int]]) -> list[int]:
    return fit([FALSE] * node.params[0] + list(args[0]), node.width)


@register("shr")
def synth_shr(b: Builder, node: WNode, args: list[list[int]]) -> list[int]:
    return fit(list(args[0][node.params[0]:]), node.width)


@register("and", "or", "xor")
def synth_bitwise(b: Builder, node: WNode, args: list[list[int]]) -> list[int]:
    name = label(b)
    f = {"and": b.and_, "or": b.or_, "xor": b.xor}[node.op]
    return [f([a[i] for a in args], f"{name}[{i}]" if node.width > 1 else name) for i in range(node.width)]


@register("mux")
def synth_mux(b: Builder, node: WNode, args: list[list[int]]) -> list[int]:
    (c,), x, y = args
    x, y = fit(x, node.width), fit(y, node.width)
    name = label(b)
    return [b.mux(c, xi, yi, f"{name}[{i}]" if node.width > 1 else name) for i, (xi, yi) in enumerate(zip(x, y))]


def _bits(args: list[list[int]]) -> list[int]:
    return [l for a in args for l in a]


@register("atleast")
def synth_atleast(b: Builder, node: WNode, args: list[list[int]]) -> list[int]:
    bits = _bits(args)
    k = node.params[0]
    r = b.attempt(lambda: b.th([(l, 1) for l in bits], k, label(b)))
    if r is not None:
        return [r]
    if k == 1:  # OR / AND of all the bits: a tree of the widest gates that fit
        return [b.or_(bits, label(b))]
    if k == len(bits):
        return [b.and_(bits, label(b))]
    from .arith_compare import compare_bits  # a count too wide for one gate: count, then compare
    count = popcount_bits(b, bits, max(1, len(bits).bit_length()))
    kk = [TRUE if (k >> i) & 1 else FALSE for i in range(max(1, k.bit_length()))]
    return [compare_bits(b, "ge", count, kk, label(b))]


@register("parity")
def synth_parity(b: Builder, node: WNode, args: list[list[int]]) -> list[int]:
    return [b.xor(_bits(args), label(b))]


@register("th")
def synth_th(b: Builder, node: WNode, args: list[list[int]]) -> list[int]:
    weights, t = node.params
    return [b.th([(a[0], w) for a, w in zip(args, weights)], t, label(b))]


def add_tree(b: Builder, words: list[list[int]], width: int, name: str) -> list[int]:
    """``width`` bits of the sum of ``words``, added pairwise in a balanced tree."""
    words = [fit(w, width) for w in words if any(l != FALSE for l in w)]
    if not words:
        return [FALSE] * width
    while len(words) > 1:
        nxt = [add_bits(b, words[i], words[i + 1], FALSE, width, name) for i in range(0, len(words) - 1, 2)]
        if len(words) % 2:
            nxt.append(words[-1])
        words = nxt
    return fit(words[0], width)


def popcount_bits(b: Builder, bits: list[int], width: int) -> list[int]:
    """``width`` bits of the number of true literals in ``bits``."""
    bits = [l for l in bits if l != FALSE]
    ones = sum(1 for l in bits if l == TRUE)
    bits = [l for l in bits if l != TRUE]
    name = label(b)
    n = len(bits)

    def layer() -> list[int]:
        unit = [(l, 1) for l in bits]
        rungs = b.th_each(unit, range(1, n + 1), [f"{name}.ge{m}" for m in range(1, n + 1)])
        out = []
        for k in range(width):
            terms = [(h, ((m + ones) >> k & 1) - ((m - 1 + ones) >> k & 1)) for m, h in zip(range(1, n + 1), rungs)]
            out.append(b.th(terms, 1 - (ones >> k & 1), f"{name}[{k}]"))
        return out

    r = b.attempt(layer) if n else None
    if r is not None:
        return r
    words = [[l] for l in bits] + [[TRUE if (ones >> i) & 1 else FALSE for i in range(ones.bit_length())]]
    return add_tree(b, words, width, name)


@register("popcount")
def synth_popcount(b: Builder, node: WNode, args: list[list[int]]) -> list[int]:
    return popcount_bits(b, _bits(args), node.width)


@register("mul")
def synth_mul(b: Builder, node: WNode, args: list[list[int]]) -> list[int]:
    """Partial products ``x_i & y_j`` shifted and added in a balanced tree."""
    x, y = (fit(a, node.width) for a in args)
    name = label(b)
    rows = []
    for i, yi in enumerate(y):
        if yi == FALSE:
            continue
        rows.append([FALSE] * i + [b.and_([xj, yi], f"{name}.pp[{i},{j}]") for j, xj in enumerate(x[:node.width - i])])
    return add_tree(b, rows, node.width, name)
