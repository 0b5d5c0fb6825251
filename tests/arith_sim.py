"""Helpers for the arithmetic constructions' tests: synth's Builder, simulated on words (numpy rows)."""

from __future__ import annotations

import numpy as np

from threshnet.compiler.synth import Builder, simulate


def builder(budget: int, objective: str = "depth", activation: str = "step") -> Builder:
    b = Builder(budget, objective, None, activation)
    b.n_in = 0
    return b


def inputs(b: Builder, n: int) -> list[int]:
    """``n`` new input bits (named ``in<k>``)."""
    out = []
    for _ in range(n):
        out.append(b.input(f"in{b.n_in}"))
        b.n_in += 1
    return out


def used(b: Builder, outs) -> tuple[int, int]:
    """(gates reachable from ``outs``, their largest depth)."""
    live = b.live(list(outs))
    gates = [n for n, on in enumerate(live) if on and b.gates[n] is not None]
    return len(gates), max((b.depth(2 * n) for n in gates), default=0)


def weights(b: Builder, outs) -> int:
    """Nonzero weights of the gates reachable from ``outs``."""
    live = b.live(list(outs))
    return sum(len(g.terms) for n, g in enumerate(b.gates) if live[n] and g is not None)


def word_rows(values: list[list[int]], widths: list[int]) -> np.ndarray:
    """Input bit rows (batch, sum widths) for per-operand integer values."""
    batch = len(values[0])
    rows = np.zeros((batch, sum(widths)), dtype=np.int64)
    k = 0
    for vs, w in zip(values, widths):
        for i in range(w):
            rows[:, k] = [(v >> i) & 1 for v in vs]
            k += 1
    return rows


def word_values(b: Builder, lits: list[int], rows: np.ndarray) -> list[int]:
    """Integer values (one per row) of a word of literals."""
    bits = simulate(b, list(lits), rows)
    out = [0] * rows.shape[0]
    for i in range(bits.shape[1]):
        for r in np.nonzero(bits[:, i])[0]:
            out[r] |= 1 << i
    return out
