"""Multiplication with threshold gates: partial products, column compression, a constant-depth final adder.

``a * b mod 2^width``: each partial product ``a_i b_j`` (column ``i + j``) is
the gate ``[a_i + b_j >= 2]`` (layer 1; no gate when either bit is a
constant), the columns are compressed by threshold counters
(:func:`.arith_count.compress`: each round turns a window of ``k`` columns
into the binary digits of its weighted sum, 2 layers) until at most two bits
remain per column, and the two rows go to the two-operand adder.  For a 16x16
multiplier under float32 one round suffices (windows of 4+ columns, sums
``<= 16 (2^k - 1)``), so the depth is 1 + 2 + the adder's.  Partial products
of columns at or above ``width`` are never made.

Multiplication by a constant ``c`` makes no AND gates: ``a * c`` is the sum of
shifted copies of ``a``, one per nonzero digit of ``c`` in the canonical
signed-digit form (``c = sum d_i 2^i``, ``d_i`` in ``{-1, 0, 1}``, no two
adjacent nonzero), where a ``-1`` digit adds ``~(a << i) + 1`` (two's
complement within ``width`` bits: the complemented bits are literals
negated for free, the ones and the ``+1`` join the constant of the column
sum).  Soundness: ``-(a 2^i) = (2^w - 1 - a 2^i) + 1 mod 2^w`` and the column
sum is exact (see :mod:`.arith_count`).
"""

from __future__ import annotations

from typing import Sequence

from .arith_count import _const_value, add_columns, columns_of
from .synth import Builder, fit, label, register
from .words import WNode

__all__ = ["csd_digits", "multiply", "synth_mul"]


def csd_digits(c: int) -> list[int]:
    """The canonical signed digits of ``c >= 0``, LSB first (``c == sum d_i 2^i``)."""
    out = []
    while c:
        if c & 1:
            d = 2 - (c & 3)  # 1 when c = 1 mod 4, -1 when c = 3 mod 4
            out.append(d)
            c -= d
        else:
            out.append(0)
        c >>= 1
    return out


def _constant(b: Builder, bits: Sequence[int]) -> int | None:
    v = 0
    for i, x in enumerate(bits):
        cv = _const_value(b, x)
        if cv is None:
            return None
        v |= int(cv) << i
    return v


def multiply(b: Builder, x: Sequence[int], y: Sequence[int], width: int, name: str = "mul") -> list[int]:
    """The ``width`` low bits of ``x * y`` (LSB-first literal lists)."""
    x, y = list(x), list(y)
    cx, cy = _constant(b, x), _constant(b, y)
    if cx is not None and cy is None:
        x, y, cx, cy = y, x, cy, cx
    one = b.const(True)
    operands: list[tuple[list[int], int]] = []
    const = 0
    if cy is not None:  # shifted additions, signed digits
        digits = csd_digits(cy)
        if sum(1 for d in digits if d) >= bin(cy).count("1"):
            digits = [cy >> i & 1 for i in range(cy.bit_length())]
        for i, d in enumerate(digits):
            if d == 1 and i < width:
                operands.append((x, i))
            elif d == -1 and i < width:
                row = [one] * i + [v ^ 1 for v in x] + [one] * max(0, width - i - len(x))
                operands.append((row[:width], 0))
                const += 1
    else:
        for j, yb in enumerate(y):
            if j >= width:
                break
            row = [b.th([(xi, 1), (yb, 1)], 2, f"{name}.pp{i}_{j}") for i, xi in enumerate(x[:width - j])]
            operands.append((row, j))
    cols, c0 = columns_of(b, operands, width)
    return add_columns(b, cols, width, (c0 + const) % (1 << width), name)


@register("mul")
def synth_mul(b: Builder, node: WNode, args: list[list[int]]) -> list[int]:
    """``a * b mod 2^width``: partial products, counters, one adder (constants: shifted additions)."""
    return fit(multiply(b, args[0], args[1], node.width, label(b)), node.width)
