"""A simulating synthesis builder for the arithmetic constructions' tests (numpy, batch of rows).

It keeps the builder contract of :mod:`threshnet.compiler.synth` that the
constructions use (``th``, ``const``, ``budget``, ``objective``), checks every
gate's magnitude against the budget, and evaluates literals on many rows.
"""

from __future__ import annotations

import numpy as np


class SimBuilder:
    """Literals ``2 * node + negated``; node 0 is the constant false."""

    def __init__(self, budget: int = 2**23, objective: str = "depth") -> None:
        self.budget, self.objective = budget, objective
        self.nodes: list[tuple] = [("const",)]
        self.depths: list[int] = [0]
        self.cache: dict = {}
        self.n_inputs = 0
        self.max_mag = 0

    def const(self, v: bool) -> int:
        return 1 if v else 0

    def input(self) -> int:
        self.nodes.append(("in", self.n_inputs))
        self.depths.append(0)
        self.n_inputs += 1
        return 2 * (len(self.nodes) - 1)

    def inputs(self, n: int) -> list[int]:
        return [self.input() for _ in range(n)]

    def th(self, terms, t: int, name: str | None = None) -> int:
        terms = tuple(sorted((int(x), int(w)) for x, w in terms))
        assert all(isinstance(w, int) and w for _, w in terms) and isinstance(t, int)
        mag = sum(abs(w) for _, w in terms) + abs(t)
        assert mag <= self.budget, f"gate {name} has magnitude {mag} > budget {self.budget}"
        self.max_mag = max(self.max_mag, mag)
        key = (terms, t)
        if key in self.cache:
            return self.cache[key]
        self.nodes.append(("th", terms, t))
        self.depths.append(1 + max((self.depths[x >> 1] for x, _ in terms), default=0))
        lit = 2 * (len(self.nodes) - 1)
        self.cache[key] = lit
        return lit

    def depth(self, lit: int) -> int:
        return self.depths[lit >> 1]

    @property
    def gates(self) -> int:
        return sum(1 for n in self.nodes if n[0] == "th")

    def used(self, outs) -> tuple[int, int]:
        """(gates reachable from ``outs``, their depth)."""
        seen, stack = set(), [x >> 1 for x in outs]
        while stack:
            n = stack.pop()
            if n in seen:
                continue
            seen.add(n)
            if self.nodes[n][0] == "th":
                stack.extend(x >> 1 for x, _ in self.nodes[n][1])
        gates = [n for n in seen if self.nodes[n][0] == "th"]
        return len(gates), max((self.depths[n] for n in gates), default=0)

    def run(self, rows: np.ndarray) -> np.ndarray:
        """Node values (n_nodes, batch) for input bits ``rows`` (batch, n_inputs)."""
        rows = np.asarray(rows, dtype=np.int64)
        vals = np.zeros((len(self.nodes), rows.shape[0]), dtype=np.int64)
        for i, n in enumerate(self.nodes):
            if n[0] == "in":
                vals[i] = rows[:, n[1]]
            elif n[0] == "th":
                s = np.zeros(rows.shape[0], dtype=np.int64)
                for x, w in n[1]:
                    v = vals[x >> 1]
                    s += w * (v ^ (x & 1))
                vals[i] = s >= n[2]
        return vals

    @staticmethod
    def lit(vals: np.ndarray, lit: int) -> np.ndarray:
        return vals[lit >> 1] ^ (lit & 1)


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


def word_of(vals: np.ndarray, lits: list[int]) -> list[int]:
    """Integer values (one per row) of a word of literals."""
    out = [0] * vals.shape[1]
    for i, x in enumerate(lits):
        col = SimBuilder.lit(vals, x)
        for r in np.nonzero(col)[0]:
            out[r] |= 1 << i
    return out
