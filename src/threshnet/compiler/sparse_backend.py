"""Stage 5, sparse layout: threshold layers that read their operands by index.

A dense ``nn.Linear`` per layer cannot hold a circuit of 100k gates: the
pass-through columns alone would need hundreds of GB.  Here the network
keeps a *slot buffer* of shape ``(slots, batch)``: one row per live neuron.
A layer gathers its operands' rows with ``index_select`` (ONNX ``Gather``),
multiplies by a weight vector, sums, applies the activation and writes its
new neurons into free slots (``index_copy_``).  A slot is freed once no later
layer reads it, so there are no pass-through neurons, memory follows the
widest live cut rather than the gate count, and weights are stored as index
and value tensors, O(edges).

Neurons are the same as in the dense layout (one rule, ``compiler.neurons``): a
signal is an affine function of one or two neurons, folded into its
readers' weights.  Gates with similar fan-in share a bucket, padded to the
next power of two, so padding at most doubles the storage.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import networkx as nx
import torch
from torch import nn

from .keys import DEPTH, INPUTS, KIND, KIND_INPUT, LAYER, NAME, OUTPUTS
from .layering import last_read
from .runtime import GatherLayer, RELU, STEP, ToSlots
from .neurons import Affine, LayerNeurons, combine, encode, gate_range
from .options import ACTIVATIONS


@dataclass(frozen=True)
class Bucket:
    """Neurons ``act(sum(weight * slot[index]) + bias)``, fan-in padded to one width.

    ``slots`` are where the neurons are written (empty for the final read-out).
    """

    index: tuple[tuple[int, ...], ...]
    weight: tuple[tuple[float, ...], ...]
    bias: tuple[float, ...]
    names: tuple[str, ...]
    slots: tuple[int, ...] = ()


@dataclass(frozen=True)
class SparsePlan:
    """One layer of buckets; ``activation`` None is the final read-out of the outputs."""

    buckets: tuple[Bucket, ...]
    activation: str | None
    n_slots: int
    tops: tuple[float, ...] = ()  # largest activation of each slot after this layer

    @property
    def neurons(self) -> int:
        return sum(len(b.bias) for b in self.buckets)


def _width(n: int) -> int:
    w = 1
    while w < n:
        w *= 2
    return w


def _bucketed(rows: list[tuple[dict[int, float], float, str, int]]) -> tuple[Bucket, ...]:
    """Group rows ``(terms, bias, name, slot)`` by padded fan-in."""
    groups: dict[int, list[tuple[dict[int, float], float, str, int]]] = {}
    for row in rows:
        groups.setdefault(_width(len(row[0])), []).append(row)
    out = []
    for width in sorted(groups):
        idx, wts, bias, names, slots = [], [], [], [], []
        for terms, b, name, slot in groups[width]:
            items = sorted(terms.items())
            pad = width - len(items)
            idx.append(tuple(j for j, _ in items) + (0,) * pad)
            wts.append(tuple(c for _, c in items) + (0.0,) * pad)
            bias.append(b)
            names.append(name)
            slots.append(slot)
        out.append(Bucket(tuple(idx), tuple(wts), tuple(bias), tuple(names), tuple(slots)))
    return tuple(out)


def plan_sparse(g: nx.DiGraph, activation: str) -> list[SparsePlan]:
    """Layer plans for a layered threshold graph; the last plan reads out the outputs."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    depth = g.graph[DEPTH]
    node = g._node  # networkx's node attribute dicts (its views cost more per call)
    y = {v: d[LAYER] for v, d in node.items()}
    owned = {v for _, v in g.graph[OUTPUTS]}
    by_layer: list[list[int]] = [[] for _ in range(depth + 1)]
    for v in sorted(node):
        if node[v][KIND] != KIND_INPUT:
            by_layer[y[v]].append(v)
    last = {v: last_read(g, y, depth, owned, v) or 0 for v in g.nodes}
    # Each signal is an affine map of slots; a slot lives while a live signal uses it.
    where: dict[int, Affine] = {v: (0.0, {i: 1.0}) for i, v in enumerate(g.graph[INPUTS])}
    users: dict[int, int] = {i: 1 for i in range(len(g.graph[INPUTS]))}
    dies: list[list[int]] = [[] for _ in range(depth + 2)]
    for v in g.graph[INPUTS]:
        dies[min(last[v], depth + 1)].append(v)
    free: list[int] = []  # a min-heap of free slots
    n_slots = len(g.graph[INPUTS])
    top: dict[int, float] = {i: 1.0 for i in range(n_slots)}
    plans: list[SparsePlan] = []
    for l in range(1, depth + 1):
        layer_neurons = LayerNeurons()
        new_values: dict[int, Affine] = {}  # in terms of row numbers
        for v in by_layer[l]:
            name = node[v][NAME] or f"g{v}"
            new_values[v] = layer_neurons.place(encode(combine(g, v, where), *gate_range(g, v), activation), name)
        rows = [(t, b, n, -1) for t, b, n in zip(layer_neurons.rows, layer_neurons.bias, layer_neurons.names)]
        tops = layer_neurons.tops
        # Free the slots of signals last read here, then place the new neurons.
        for s in dies[l]:
            for j in where.pop(s)[1]:
                users[j] -= 1
                if users[j] == 0:
                    heapq.heappush(free, j)
        slot_of: list[int] = []
        for _ in rows:
            if free:
                slot_of.append(heapq.heappop(free))
            else:
                slot_of.append(n_slots)
                n_slots += 1
        rows = [(t, b, n, slot_of[r]) for r, (t, b, n, _) in enumerate(rows)]
        for r, slot in enumerate(slot_of):
            users[slot] = 0
            top[slot] = max(top.get(slot, 0.0), tops[r])  # slots are reused: keep the largest
        for v, (c, t) in new_values.items():
            where[v] = (c, {slot_of[r]: k for r, k in t.items()})
            for j in where[v][1]:
                users[j] += 1
            dies[min(last[v], depth + 1)].append(v)
        for r, slot in enumerate(slot_of):  # a neuron no signal kept (cannot happen) frees at once
            if users[slot] == 0:
                heapq.heappush(free, slot)
        plans.append(SparsePlan(_bucketed(rows), STEP if activation == STEP else RELU, n_slots))
    tops_all = tuple(top.get(i, 1.0) for i in range(n_slots))  # the largest value each slot ever holds
    plans = [SparsePlan(p.buckets, p.activation, n_slots, tops_all) for p in plans]
    outs = [(sorted(where[v][1].items()), where[v][0], port) for port, v in g.graph[OUTPUTS]]
    k = max(1, max(len(t) for t, _, _ in outs))
    final = Bucket(
        tuple(tuple(j for j, _ in t) + (0,) * (k - len(t)) for t, _, _ in outs),
        tuple(tuple(c for _, c in t) + (0.0,) * (k - len(t)) for t, _, _ in outs),
        tuple(c for _, c, _ in outs),
        tuple(p for _, _, p in outs),
    )
    plans.append(SparsePlan((final,), None, n_slots, (1.0,) * n_slots))
    return plans


def empty_plan(shapes: list[tuple[int, int]], activation: str | None, n_slots: int,
               names: list[str]) -> SparsePlan:
    """A zero-filled plan of the given shapes, to load a saved state dict into."""
    it = iter(names)
    buckets = []
    for m, k in shapes:
        slots = tuple(range(m)) if activation is not None else ()
        buckets.append(Bucket(((0,) * k,) * m, ((0.0,) * k,) * m, (0.0,) * m, tuple(next(it) for _ in range(m)),
                              slots))
    return SparsePlan(tuple(buckets), activation, n_slots)


def build_sparse(plans: list[SparsePlan], n_inputs: int, dtype: torch.dtype = torch.float32) -> nn.Sequential:
    return nn.Sequential(ToSlots(n_inputs, plans[-1].n_slots), *[GatherLayer(p, dtype) for p in plans])
