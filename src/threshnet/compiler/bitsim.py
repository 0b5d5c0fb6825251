"""Bit-parallel simulation of the boolean-gate graph: 64 input rows per machine word.

Gates are grouped by (level, operator, fan-in) and each group is one numpy
gather and reduction over ``uint64`` words, so Python overhead is paid per
group, not per gate.  Used by ``check`` on large circuits and tested against
the plain evaluator.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from .keys import INPUTS, NEG, OP, OP_AND, OP_CONST, OP_INPUT, OP_OR, OP_XOR, OUTPUTS

#: Words simulated at a time (4096 rows): keeps the working set in cache.
CHUNK_WORDS = 64
_ALL = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
_REDUCE = {OP_AND: np.bitwise_and, OP_OR: np.bitwise_or, OP_XOR: np.bitwise_xor}


@dataclass(frozen=True)
class _Group:
    op: str
    out: np.ndarray  # (m,) node rows written
    src: np.ndarray  # (m, k) node rows read
    neg: np.ndarray  # (m, k, 1) uint64 masks: all ones where the edge is negated


class BitSim:
    """A compiled simulator of one boolean-gate graph."""

    def __init__(self, g: nx.DiGraph) -> None:
        nodes = sorted(g.nodes)
        self.row = {v: i for i, v in enumerate(nodes)}
        self.n_nodes = len(nodes)
        self.inputs = np.array([self.row[v] for v in g.graph[INPUTS]], dtype=np.int64)
        self.const_rows = np.array([self.row[v] for v in nodes if g.nodes[v][OP] == OP_CONST], dtype=np.int64)
        level: dict[int, int] = {}
        groups: dict[tuple, list[tuple[int, list[int], list[bool]]]] = {}
        for v in nx.topological_sort(g):
            op = g.nodes[v][OP]
            if op in (OP_INPUT, OP_CONST):
                level[v] = 0
                continue
            ins = sorted(g.in_edges(v, data=True))
            level[v] = 1 + max(level[u] for u, _, _ in ins)
            groups.setdefault((level[v], op, len(ins)), []).append(
                (self.row[v], [self.row[u] for u, _, _ in ins], [bool(e[NEG]) for _, _, e in ins]))
        self.groups: list[_Group] = []
        for (lvl, op, k), members in sorted(groups.items(), key=lambda kv: kv[0]):
            out = np.array([m[0] for m in members], dtype=np.int64)
            src = np.array([m[1] for m in members], dtype=np.int64).reshape(len(members), k)
            neg = np.where(np.array([m[2] for m in members], dtype=bool).reshape(len(members), k, 1), _ALL,
                           np.uint64(0))
            self.groups.append(_Group(op, out, src, neg))
        self.outputs = [(self.row[v], bool(neg)) for _, v, neg in g.graph[OUTPUTS]]

    def run_words(self, words: np.ndarray) -> np.ndarray:
        """``(n_inputs, n_words)`` uint64 to ``(n_outputs, n_words)`` uint64."""
        if words.shape[1] > CHUNK_WORDS:
            return np.concatenate([self._run(words[:, i:i + CHUNK_WORDS])
                                   for i in range(0, words.shape[1], CHUNK_WORDS)], axis=1)
        return self._run(words)

    def _run(self, words: np.ndarray) -> np.ndarray:
        n_words = words.shape[1]
        val = np.zeros((self.n_nodes, n_words), dtype=np.uint64)
        val[self.inputs] = words
        for grp in self.groups:
            x = val[grp.src]  # (m, k, w)
            x ^= grp.neg
            val[grp.out] = _REDUCE[grp.op].reduce(x, axis=1)
        out = np.empty((len(self.outputs), n_words), dtype=np.uint64)
        for i, (r, neg) in enumerate(self.outputs):
            out[i] = val[r] ^ _ALL if neg else val[r]
        return out

    def run(self, rows: np.ndarray) -> np.ndarray:
        """``(n_rows, n_inputs)`` 0/1 to ``(n_rows, n_outputs)`` uint8."""
        rows = np.asarray(rows, dtype=np.uint8)
        n = rows.shape[0]
        words = pack_rows(rows)
        return unpack_rows(self.run_words(words), n)


def pack_rows(rows: np.ndarray) -> np.ndarray:
    """``(n_rows, n_cols)`` 0/1 to ``(n_cols, ceil(n_rows / 64))`` uint64; row r is bit r % 64."""
    n, cols = rows.shape
    n_words = max(1, (n + 63) // 64)
    padded = np.zeros((n_words * 64, cols), dtype=np.uint8)
    padded[:n] = rows
    bits = np.packbits(padded.T.reshape(cols, n_words, 64), axis=2, bitorder="little")  # (cols, w, 8)
    flat = np.ascontiguousarray(bits.reshape(cols, n_words * 8))
    return flat.view("<u8").reshape(cols, n_words).astype(np.uint64)


def unpack_rows(words: np.ndarray, n: int) -> np.ndarray:
    cols, n_words = words.shape
    b = np.ascontiguousarray(words.astype("<u8")).view(np.uint8).reshape(cols, n_words * 8)
    bits = np.unpackbits(b, axis=1, bitorder="little")[:, :n]
    return bits.T.copy()
