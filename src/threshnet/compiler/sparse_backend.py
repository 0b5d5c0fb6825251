"""Stage 5, sparse layout: threshold layers that read their operands by index.

A dense ``nn.Linear`` per layer cannot hold a circuit of 100k gates: the
pass-through columns alone would need hundreds of GB.  Here each layer keeps
a *live buffer*: the activations of every signal still needed later.  A
layer gathers its operands from the buffer with ``index_select`` (ONNX
``Gather``), multiplies by a weight vector and sums, then appends its new
neurons and drops the signals nobody reads again.  So there are no
pass-through neurons, memory follows the widest live cut, and weights are
stored as index and value tensors, O(edges).

Neurons are the same as in the dense layout (see ``torch_backend``): a
signal is an affine function of one or two neurons, folded into its
readers' weights.  Gates with similar fan-in share a bucket, padded to the
next power of two, so padding at most doubles the storage.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import torch
from torch import nn

from .keys import DEPTH, INPUTS, KIND, KIND_INPUT, LAYER, NAME, OUTPUTS
from .layering import last_read
from .torch_backend import ACTIVATIONS, RELU, STEP, Affine, Step, _bounds, _combine


@dataclass(frozen=True)
class Bucket:
    """Neurons ``act(sum(weight * buffer[index]) + bias)`` with fan-in padded to ``width``."""

    index: tuple[tuple[int, ...], ...]
    weight: tuple[tuple[float, ...], ...]
    bias: tuple[float, ...]
    names: tuple[str, ...]


@dataclass(frozen=True)
class SparsePlan:
    """One layer: ``keep`` buffer columns survive, then the buckets' neurons follow."""

    keep: tuple[int, ...]
    buckets: tuple[Bucket, ...]
    activation: str | None
    in_width: int

    @property
    def neurons(self) -> int:
        return sum(len(b.bias) for b in self.buckets)


def _bucketed(rows: list[tuple[dict[int, float], float, str]]) -> tuple[Bucket, ...]:
    groups: dict[int, list[tuple[dict[int, float], float, str]]] = {}
    for row in rows:
        width = 1
        while width < len(row[0]):
            width *= 2
        groups.setdefault(width, []).append(row)
    out = []
    for width in sorted(groups):
        idx, wts, bias, names = [], [], [], []
        for terms, b, name in groups[width]:
            items = sorted(terms.items())
            pad = width - len(items)
            idx.append(tuple(j for j, _ in items) + (0,) * pad)
            wts.append(tuple(c for _, c in items) + (0.0,) * pad)
            bias.append(b)
            names.append(name)
        out.append(Bucket(tuple(idx), tuple(wts), tuple(bias), tuple(names)))
    return tuple(out)


def plan_sparse(g: nx.DiGraph, activation: str) -> list[SparsePlan]:
    """Layer plans for a layered threshold graph; the last plan combines the outputs."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    depth = g.graph[DEPTH]
    y = {v: g.nodes[v][LAYER] for v in g.nodes}
    owned = {v for _, v in g.graph[OUTPUTS]}
    by_layer: list[list[int]] = [[] for _ in range(depth + 1)]
    for v in sorted(g.nodes):
        if g.nodes[v][KIND] != KIND_INPUT:
            by_layer[y[v]].append(v)
    last = {v: last_read(g, y, depth, owned, v) or 0 for v in g.nodes}
    # The buffer: signal -> its value as an affine map of buffer columns.
    where: dict[int, Affine] = {v: (0.0, {i: 1.0}) for i, v in enumerate(g.graph[INPUTS])}
    width = len(g.graph[INPUTS])
    plans: list[SparsePlan] = []
    for l in range(1, depth + 1):
        # Columns still needed after this layer keep their order at the front.
        keep_cols = sorted({j for s, (_, t) in where.items() if last[s] > l for j in t})
        col = {j: i for i, j in enumerate(keep_cols)}
        rows: list[tuple[dict[int, float], float, str]] = []
        new_values: dict[int, tuple[float, dict[int, float]]] = {}  # in terms of new-row numbers
        seen: dict[tuple, int] = {}

        def neuron(aff: Affine, shift: float, name: str) -> int:
            key = (tuple(sorted((j, c) for j, c in aff[1].items() if c)), aff[0] + shift)
            if key in seen:
                return seen[key]
            rows.append(({j: c for j, c in aff[1].items() if c}, aff[0] + shift, name))
            seen[key] = len(rows) - 1
            return len(rows) - 1

        for v in by_layer[l]:
            name = g.nodes[v][NAME] or f"g{v}"
            z = _combine(g, v, where)
            if activation == STEP:
                new_values[v] = (0.0, {neuron(z, 0.5, name): 1.0})
                continue
            lo, hi = _bounds(g, v)
            if hi <= 0:
                new_values[v] = (0.0, {neuron(z, 1.0, name): 1.0})
            elif lo >= -1:
                new_values[v] = (1.0, {neuron((-z[0], {j: -c for j, c in z[1].items()}), 0.0, name): -1.0})
            else:
                new_values[v] = (0.0, {neuron(z, 1.0, f"{name}[z+1]"): 1.0, neuron(z, 0.0, f"{name}[z]"): -1.0})
        buckets = _bucketed(rows)
        # Row r of `rows` lands at buffer column len(keep) + its position in bucket order.
        order = [r for b in _bucket_members(rows) for r in b]
        pos = {r: len(keep_cols) + i for i, r in enumerate(order)}
        nxt: dict[int, Affine] = {}
        for s, (c, t) in where.items():
            if last[s] > l:
                nxt[s] = (c, {col[j]: k for j, k in t.items()})
        for v, (c, t) in new_values.items():
            nxt[v] = (c, {pos[r]: k for r, k in t.items()})
        plans.append(SparsePlan(tuple(keep_cols), buckets, STEP if activation == STEP else RELU, width))
        where = nxt
        width = len(keep_cols) + len(rows)
    outs = [(sorted(where[v][1].items()), where[v][0], port) for port, v in g.graph[OUTPUTS]]
    k = max(1, max(len(t) for t, _, _ in outs))
    final = Bucket(
        tuple(tuple(j for j, _ in t) + (0,) * (k - len(t)) for t, _, _ in outs),
        tuple(tuple(c for _, c in t) + (0.0,) * (k - len(t)) for t, _, _ in outs),
        tuple(c for _, c, _ in outs),
        tuple(p for _, _, p in outs),
    )
    plans.append(SparsePlan((), (final,), None, width))
    return plans


def _bucket_members(rows: list[tuple[dict[int, float], float, str]]) -> list[list[int]]:
    """Row numbers per bucket, in the order :func:`_bucketed` lays them out."""
    groups: dict[int, list[int]] = {}
    for r, (terms, _, _) in enumerate(rows):
        width = 1
        while width < len(terms):
            width *= 2
        groups.setdefault(width, []).append(r)
    return [groups[w] for w in sorted(groups)]


class GatherLayer(nn.Module):
    """``[buffer[:, keep], act(sum(w * buffer[:, idx]) + b) per bucket]``."""

    def __init__(self, plan: SparsePlan, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.register_buffer("keep", torch.tensor(plan.keep, dtype=torch.long))
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        self.shapes: list[tuple[int, int]] = []
        for i, b in enumerate(plan.buckets):
            m, k = len(b.bias), len(b.index[0]) if b.index else 1
            self.register_buffer(f"idx{i}", torch.tensor(b.index, dtype=torch.long).reshape(-1))
            self.weights.append(nn.Parameter(torch.tensor(b.weight, dtype=torch.float64).to(dtype).reshape(m, k)))
            self.biases.append(nn.Parameter(torch.tensor(b.bias, dtype=torch.float64).to(dtype)))
            self.shapes.append((m, k))
        self.names = tuple(n for b in plan.buckets for n in b.names)
        self.act: nn.Module = Step() if plan.activation == STEP else nn.ReLU() if plan.activation == RELU \
            else nn.Identity()
        self.final = plan.activation is None
        self.in_width = plan.in_width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = [] if self.final else [x.index_select(1, self.keep)]
        for i, (m, k) in enumerate(self.shapes):
            idx = getattr(self, f"idx{i}")
            z = (x.index_select(1, idx).reshape(x.shape[0], m, k) * self.weights[i]).sum(-1) + self.biases[i]
            parts.append(self.act(z))
        return torch.cat(parts, 1) if len(parts) > 1 else parts[0]


def empty_plan(keep: int, shapes: list[tuple[int, int]], activation: str | None, in_width: int,
               names: list[str]) -> SparsePlan:
    """A zero-filled plan of the given shapes, to load a saved state dict into."""
    it = iter(names)
    buckets = tuple(Bucket(((0,) * k,) * m, ((0.0,) * k,) * m, (0.0,) * m, tuple(next(it) for _ in range(m)))
                    for m, k in shapes)
    return SparsePlan(tuple(range(keep)), buckets, activation, in_width)


def build_sparse(plans: list[SparsePlan], dtype: torch.dtype = torch.float32) -> nn.Sequential:
    return nn.Sequential(*[GatherLayer(p, dtype) for p in plans])
