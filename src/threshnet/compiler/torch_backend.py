"""Stage 5, torch backend: a layered threshold graph to an ``nn.Module``.

Each layer is ``nn.Linear`` then an activation.  Every signal a layer hands
on is an exact affine function of that layer's neurons, folded into the next
layer's weights:

Each threshold gate becomes one or two neurons by the rule in
``compiler.neurons`` (shared with the sparse layout): ``step(z + 0.5)``,
``relu(z + 1)``, ``1 - relu(-z)`` or ``relu(z + 1) - relu(z)``.  A
pass-through of a 0/1 signal ``s`` is ``relu(s)`` (``step(s - 0.5)`` in step
mode).

The last layer ends in the step ``(z > 0)``; with ``output_step=False`` it is
a ReLU layer followed by a final ``nn.Linear`` that combines the neurons into
exact 0.0/1.0 outputs, so the network has no step anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import networkx as nx
import torch
from torch import nn

from .keys import DEPTH, INPUTS, KIND, KIND_INPUT, LAYER, NAME, OUTPUTS
from .layering import last_read
from .neurons import Affine, LayerNeurons, combine, encode, encode_pass, gate_range
from .options import ACTIVATIONS
from .runtime import RELU, STEP, Step, empty_linear



@dataclass(frozen=True)
class LayerPlan:
    """One Linear layer: its rows, as plain Python numbers, and neuron names."""

    weight: tuple[tuple[tuple[int, float], ...], ...]  # per row: (column, value) pairs
    bias: tuple[float, ...]
    names: tuple[str, ...]
    in_features: int
    activation: str | None  # STEP, RELU, or None for the final combining layer
    passthroughs: int
    #: signals this layer hands on: (threshold node, constant, ((neuron, coefficient), ...)),
    #: i.e. value = constant + sum(coefficient * activation of neuron)
    values: tuple[tuple[int, float, tuple[tuple[int, float], ...]], ...] = ()
    tops: tuple[float, ...] = ()  # the largest value each neuron's activation takes


def plan_mlp(g: nx.DiGraph, activation: str, output_step: bool = True) -> list[LayerPlan]:
    """The dense layer plans of a layered threshold graph."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    depth = g.graph[DEPTH]
    y = {v: g.nodes[v][LAYER] for v in g.nodes}
    owned = {v for _, v in g.graph[OUTPUTS]}
    # Units per layer: ('gate', v) at its layer, ('pass', s) where s rides through.
    units: list[list[tuple[str, int]]] = [[] for _ in range(depth + 1)]
    for v in sorted(g.nodes):
        if g.nodes[v][KIND] != KIND_INPUT and y[v] < depth:
            units[y[v]].append(("gate", v))
    for s in sorted(g.nodes):
        r = last_read(g, y, depth, owned, s)
        if r is None:
            continue
        for l in range(y[s] + 1, min(r, depth)):
            units[l].append(("pass", s))
    units[depth] = [("gate" if y[v] == depth else "pass", v) for _, v in g.graph[OUTPUTS]]

    # Values of layer 0: the inputs themselves.
    where: dict[int, Affine] = {v: (0.0, {i: 1.0}) for i, v in enumerate(g.graph[INPUTS])}
    width = len(g.graph[INPUTS])
    plans: list[LayerPlan] = []
    for l in range(1, depth + 1):
        last = l == depth
        act = STEP if activation == STEP or (last and output_step) else RELU
        layer_neurons = LayerNeurons(share=not last)  # the output layer: one neuron per port
        nxt: dict[int, Affine] = {}
        n_pass = 0
        place = layer_neurons.place
        for kind, v in units[l]:
            name = g.nodes[v][NAME] or f"g{v}"
            if kind == "pass":
                n_pass += 1
                nxt[v] = place(encode_pass(where[v], act), name if last else f"pass({name})")
            else:
                nxt[v] = place(encode(combine(g, v, where), *gate_range(g, v), act), name)
        rows = layer_neurons.rows
        plans.append(LayerPlan(tuple(tuple(sorted(r.items())) for r in rows), tuple(layer_neurons.bias),
                               tuple(layer_neurons.names), width, act, n_pass,
                               tuple((v, c, tuple(sorted(t.items()))) for v, (c, t) in sorted(nxt.items())),
                               tuple(layer_neurons.tops)))
        where, width = nxt, len(rows)
    if activation == RELU and not output_step:
        rows = [where[v] for _, v in g.graph[OUTPUTS]]
        if plans and width == len(rows) and all(r == (0.0, {i: 1.0}) for i, r in enumerate(rows)):
            # The last ReLU layer already holds the outputs, in port order: no combining layer.
            plans[-1] = replace(plans[-1], names=tuple(p for p, _ in g.graph[OUTPUTS]))
            return plans
        plans.append(LayerPlan(tuple(tuple(sorted(r[1].items())) for r in rows), tuple(r[0] for r in rows),
                               tuple(p for p, _ in g.graph[OUTPUTS]), width, None, 0, (), (1.0,) * len(rows)))
    return plans


def build_layers(plans: list[LayerPlan], dtype: torch.dtype = torch.float32) -> nn.Sequential:
    mods: list[nn.Module] = []
    for p in plans:
        lin = empty_linear(p.in_features, len(p.bias), dtype)
        w = torch.zeros(len(p.bias), p.in_features, dtype=torch.float64)
        for i, row in enumerate(p.weight):
            for j, c in row:
                w[i, j] = c
        with torch.no_grad():
            lin.weight.copy_(w.to(dtype))
            lin.bias.copy_(torch.tensor(p.bias, dtype=torch.float64).to(dtype))
        mods.append(lin)
        if p.activation == STEP:
            mods.append(Step())
        elif p.activation == RELU:
            mods.append(nn.ReLU())
    return nn.Sequential(*mods)
