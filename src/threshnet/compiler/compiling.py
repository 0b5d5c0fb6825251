"""The pipeline: parse -> lower -> threshold -> layering -> torch backend."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import torch

from .options import LAYOUTS
from .keys import DEPTH, INPUTS, KIND, KIND_INPUT, OUTPUTS
from .layering import asap_layers, depth_of, last_read, layer
from .lower import lower
from .mapping import map_threshold
from .parse import parse
from .progress import stages
from .spec import Spec
from .threshold import threshold
from .sparse_backend import SparsePlan, build_sparse, plan_sparse
from .torch_backend import LayerPlan, build_layers, plan_mlp

#: float32 holds every integer up to 2**24 exactly.
FLOAT32_EXACT = 2**24
#: layout="auto" picks the dense MLP while its weight matrices (estimated
#: from as-soon-as-possible layers, pass-throughs included) hold at most this
#: many entries, about 16 MB at fp32; beyond it, the sparse layout.
AUTO_DENSE_LIMIT = 4_000_000


@dataclass(frozen=True)
class Compilation:
    """Every intermediate form of one compile, for inspection and golden dumps."""

    spec: Spec
    bool_graph: nx.DiGraph
    mapped_graph: nx.DiGraph
    threshold_graph: nx.DiGraph
    plans: tuple[LayerPlan, ...] | tuple[SparsePlan, ...]
    layout: str = "mlp"


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


def dense_size_estimate(tg: nx.DiGraph) -> int:
    """Entries of the dense weight matrices under as-soon-as-possible layers."""
    y = asap_layers(tg)
    depth = depth_of(tg, y)
    owned = {v for _, v in tg.graph[OUTPUTS]}
    width = [0] * (depth + 2)
    width[0] = len(tg.graph[INPUTS])
    diff = [0] * (depth + 3)
    for v in tg.nodes:
        if tg.nodes[v][KIND] != KIND_INPUT:
            width[y[v]] += 1
        r = last_read(tg, y, depth, owned, v)
        if r is not None and r - 1 > y[v]:
            diff[y[v] + 1] += 1
            diff[min(r, depth + 1)] -= 1
    run = 0
    for l in range(1, depth + 1):
        run += diff[l]
        width[l] += run
    return sum(width[l] * width[l - 1] for l in range(1, depth + 1))


STAGES = ["parse", "lower", "mapping", "threshold", "layering", "backend"]


def compile_stages(spec: Spec | str | Path, activation: str = "relu", *, output_step: bool = True,
                   layout: str = "auto", progress: bool = False, optimize: bool = True) -> Compilation:
    """Run every stage and keep every intermediate form.

    ``optimize=False`` skips the threshold mapping (one gate per AND/OR).
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    with stages(STAGES, progress) as start:
        start("parse")
        spec = as_spec(spec)
        start("lower")
        bg = lower(spec)
        start("mapping")
        mg = map_threshold(bg) if optimize else bg
        start("threshold")
        tg = threshold(mg)
        if layout == "auto":
            layout = "mlp" if dense_size_estimate(tg) <= AUTO_DENSE_LIMIT else "sparse"
        start("layering")
        layer(tg, layout=layout)
        start("backend")
        if layout == "mlp":
            plans: tuple = tuple(plan_mlp(tg, activation, output_step))
            if mg is not bg:  # pass-throughs can undo the mapping's savings: keep the smaller net
                tg0 = layer(threshold(bg), layout=layout)
                plans0 = tuple(plan_mlp(tg0, activation, output_step))
                if _size(plans0) < _size(plans):
                    mg, tg, plans = bg, tg0, plans0
        else:
            plans = tuple(plan_sparse(tg, activation))
    return Compilation(spec, bg, mg, tg, plans, layout)


def _size(plans: tuple[LayerPlan, ...]) -> tuple[int, int]:
    """(neurons, layers) of dense plans."""
    return sum(len(p.bias) for p in plans), len(plans)


def compile(spec: Spec | str | Path, activation: str = "relu", *, output_step: bool = True,
            layout: str = "auto", progress: bool = False, optimize: bool = True,
            dtype: torch.dtype | str = torch.float32, strict: bool = False):
    """Compile a spec to an exact :class:`~threshnet.network.ThreshNet`.

    ``activation`` is ``"relu"`` or ``"step"``; ``output_step=False`` (relu
    only) leaves out the final step, so the network is pure ReLU.  ``layout``
    is ``"mlp"`` (dense Linear layers), ``"sparse"`` (index-gathering layers,
    for large circuits) or ``"auto"``.  ``progress=True`` shows a bar on
    stderr for compiles that take over a second.  ``dtype`` (float64, float32,
    float16 or bfloat16) is refused, with the first offending neuron, unless
    the network is exact in it.  ``strict=True`` makes the network reject
    inputs other than 0 and 1.
    """
    from ..network import ThreshNet

    if activation == "step" and not output_step:
        raise ValueError("output_step=False needs activation='relu' (a step network ends in a step)")
    c = compile_stages(spec, activation, output_step=output_step, layout=layout, progress=progress,
                       optimize=optimize)
    if c.layout == "mlp":
        _check_float32_mlp(c.plans)
        layers = build_layers(list(c.plans), torch.float32)
        names = tuple(p.names for p in c.plans)
        passthroughs = sum(p.passthroughs for p in c.plans)
    else:
        _check_float32_sparse(c.plans)
        layers = build_sparse(list(c.plans), len(c.spec.inputs), torch.float32)
        names = tuple(tuple(n for b in p.buckets for n in b.names) for p in c.plans[:-1])
        passthroughs = 0
    net = ThreshNet(layers, c.spec.inputs, c.spec.outputs, names, activation, output_step, passthroughs,
                    c.spec, c.layout, strict)
    return _to_dtype(net, dtype)


def _to_dtype(net, dtype: torch.dtype | str):
    from ..precision import FLOATS, INTS, TORCH_DTYPES, analyze

    name = str(dtype).removeprefix("torch.")
    name = {"half": "float16", "float": "float32", "double": "float64", "bf16": "bfloat16", "fp16": "float16",
            "fp32": "float32", "fp64": "float64"}.get(name, name)
    if name in INTS:
        raise ValueError(f"dtype {name}: torch layers compute in floats; for integer arithmetic use "
                         f"threshnet.precision.integer_program(net) (weights and biases scaled by 2)")
    if name not in FLOATS:
        raise ValueError(f"unknown dtype {dtype!r}; choose one of {', '.join(FLOATS)}")
    if name == "float32":
        return net
    report = analyze(net)
    if not report.exact[name]:
        raise ValueError(f"the network is not exact in {name}: {report.reasons[name]}")
    return net.to(TORCH_DTYPES[name])


def _refuse(layer: int, neuron: int, bound: float) -> None:
    if bound >= FLOAT32_EXACT:
        raise ValueError(
            f"layer {layer} neuron {neuron}: pre-activations reach {bound:g}, beyond float32's "
            f"exact integer range (2**24); refusing to approximate"
        )


def _check_float32_mlp(plans) -> None:
    """Refuse a network whose sums float32 cannot hold exactly.

    Every partial sum of a neuron is at most ``|bias| + sum(|w| * top)``,
    where ``top`` is the largest activation of each input neuron (exact,
    from the integer range of its gate).
    """
    top_in = [1.0] * plans[0].in_features
    for i, p in enumerate(plans):
        for n, (row, b) in enumerate(zip(p.weight, p.bias)):
            _refuse(i + 1, n, abs(b) + sum(abs(c) * top_in[j] for j, c in row))
        top_in = list(p.tops)


def _check_float32_sparse(plans) -> None:
    top = plans[0].tops  # the largest value each slot ever holds (the same for every layer)
    for i, p in enumerate(plans):
        n = 0
        for b in p.buckets:
            for idx, wts, bias in zip(b.index, b.weight, b.bias):
                _refuse(i + 1, n, abs(bias) + sum(abs(c) * top[j] for j, c in zip(idx, wts)))
                n += 1
