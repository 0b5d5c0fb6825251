"""The pipeline: parse -> lower -> threshold -> layering -> torch backend."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import torch

from .layering import layer
from .lower import lower
from .parse import parse
from .spec import Spec
from .threshold import threshold
from .torch_backend import LayerPlan, build_layers, plan_mlp

#: float32 holds every integer up to 2**24 exactly.
FLOAT32_EXACT = 2**24


@dataclass(frozen=True)
class Compilation:
    """Every intermediate form of one compile, for inspection and golden dumps."""

    spec: Spec
    bool_graph: nx.DiGraph
    threshold_graph: nx.DiGraph
    plans: tuple[LayerPlan, ...]


def as_spec(spec: Spec | str | Path) -> Spec:
    """Accept a Spec, spec text, or a path to a spec or netlist file."""
    if isinstance(spec, Spec):
        return spec
    if isinstance(spec, Path):
        from ..frontends import read

        return read(spec)
    if isinstance(spec, str):
        return parse(spec)
    raise TypeError(f"expected a Spec, spec text or a Path, got {type(spec).__name__}")


def compile_stages(spec: Spec | str | Path, activation: str = "relu", *, output_step: bool = True) -> Compilation:
    spec = as_spec(spec)
    bg = lower(spec)
    tg = threshold(bg)
    layer(tg)
    plans = tuple(plan_mlp(tg, activation, output_step))
    return Compilation(spec, bg, tg, plans)


def compile(spec: Spec | str | Path, activation: str = "relu", *, output_step: bool = True):
    """Compile a spec to an exact :class:`~threshnet.network.ThreshNet`.

    ``activation`` is ``"relu"`` or ``"step"``; ``output_step=False`` (relu
    only) leaves out the final step, so the network is pure ReLU.
    """
    from ..network import ThreshNet

    if activation == "step" and not output_step:
        raise ValueError("output_step=False needs activation='relu' (a step network ends in a step)")
    c = compile_stages(spec, activation, output_step=output_step)
    _check_float32(c.plans)
    layers = build_layers(list(c.plans), torch.float32)
    return ThreshNet(
        layers,
        c.spec.inputs,
        c.spec.outputs,
        tuple(p.names for p in c.plans),
        activation,
        output_step,
        sum(p.passthroughs for p in c.plans),
        c.spec,
    )


def _check_float32(plans: tuple[LayerPlan, ...]) -> None:
    """Refuse a network whose sums float32 cannot hold exactly."""
    hi_in = [1.0] * plans[0].in_features
    for i, p in enumerate(plans):
        out = []
        for row, b in zip(p.weight, p.bias):
            bound = abs(b) + sum(abs(c) * hi_in[j] for j, c in row)
            if bound >= FLOAT32_EXACT:
                raise ValueError(
                    f"layer {i + 1} neuron {len(out)}: pre-activations reach {bound:g}, beyond float32's "
                    f"exact integer range (2**24); refusing to approximate"
                )
            out.append(1.0 if p.activation == "step" else bound)
        hi_in = out
