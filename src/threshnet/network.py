"""The compiled network: an ``nn.Module`` with named ports and neurons."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .compiler.runtime import RELU, STEP, GatherLayer, Step, ToSlots, empty_linear
from .compiler.sparse_backend import empty_plan
from .compiler.spec import Spec

FORMAT = "threshnet-network/1"
MLP, SPARSE = "mlp", "sparse"


@dataclass(frozen=True)
class NetStats:
    """Sizes of a compiled network, read off its tensors."""

    layout: str
    layers: int
    neurons: tuple[int, ...]  # neurons per layer; the last entry is the output layer
    passthroughs: int
    parameters: int
    nonzero_weights: int
    max_abs_weight: float
    max_abs_bias: float
    min_margin: float | None  # smallest |pre-activation| of any step neuron; None without steps
    activation: str
    exact_dtypes: tuple[str, ...] = ()  # dtypes in which the network is exact (see threshnet.precision)
    noise_radius: float = 0.0  # L-infinity input noise below which outputs stay exact

    @property
    def hidden_neurons(self) -> int:
        return sum(self.neurons[:-1])

    def bytes(self, bits: int) -> int:
        return self.parameters * bits // 8

    def __str__(self) -> str:
        margin = "n/a (no step)" if self.min_margin is None else f"{self.min_margin:g}"
        per_layer = " -> ".join(map(str, self.neurons))
        if len(self.neurons) > 16:
            per_layer = f"max {max(self.neurons)}, total {sum(self.neurons)}"
        rows = [
            ("layout", self.layout),
            ("activation", self.activation),
            ("layers", f"{self.layers}  (neurons per layer: {per_layer})"),
            ("hidden neurons", str(self.hidden_neurons)),
            ("pass-through neurons", str(self.passthroughs)),
            ("parameters", f"{self.parameters}  ({self.nonzero_weights} nonzero weights)"),
            ("bytes", f"fp32 {self.bytes(32)}, fp16 {self.bytes(16)}, int8 {self.bytes(8)}"),
            ("max |weight|", f"{self.max_abs_weight:g}  (max |bias| {self.max_abs_bias:g})"),
            ("min margin", margin),
            ("exact in", ", ".join(self.exact_dtypes) or "none"),
            ("noise radius", f"{self.noise_radius:.4g} (L-inf input noise below this leaves outputs exact)"),
        ]
        w = max(len(k) for k, _ in rows)
        return "\n".join(f"{k.ljust(w)}  {v}" for k, v in rows)


class ThreshNet(nn.Module):
    """A compiled network.  ``net(x)`` maps ``(..., n_inputs)`` 0/1 to ``(..., n_outputs)`` 0/1.

    Layout ``mlp``: ``layers`` is a plain ``nn.Sequential`` of ``nn.Linear``,
    ``nn.ReLU`` and :class:`Step`.  Layout ``sparse``: a sequence of
    ``GatherLayer``s that read and write a slot buffer by index.

    Inputs other than 0/1 are not rejected unless ``strict``: the network then
    computes its threshold gates on the real values (inputs within
    ``stats().noise_radius`` of 0/1 still give the exact answer).  ``neuron_names[i]``
    names the neurons of layer i.
    """

    def __init__(
        self,
        layers: nn.Sequential,
        input_names: tuple[str, ...],
        output_names: tuple[str, ...],
        neuron_names: tuple[tuple[str, ...], ...],
        activation: str,
        output_step: bool,
        passthroughs: int = 0,
        spec: Spec | None = None,
        layout: str = MLP,
        strict: bool = False,
    ) -> None:
        super().__init__()
        self.layers = layers
        self.input_names = tuple(input_names)
        self.output_names = tuple(output_names)
        self.neuron_names = tuple(tuple(n) for n in neuron_names)
        self.activation = activation
        self.output_step = output_step
        self.passthroughs = passthroughs
        self.spec = spec
        self.layout = layout
        self.strict = strict

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = len(self.input_names)
        if x.dim() == 0 or x.shape[-1] != n:
            raise ValueError(
                f"expected input of shape (..., {n}) for inputs ({', '.join(self.input_names)}), "
                f"got {tuple(x.shape)}"
            )
        if self.strict and not bool(((x == 0) | (x == 1)).all()):
            bad = x[(x != 0) & (x != 1)].flatten()[0].item()
            raise ValueError(f"strict network: inputs must be exactly 0 or 1, got {bad!r}")
        lead = x.shape[:-1]
        return self.layers(x.reshape(math.prod(lead), n)).reshape(*lead, len(self.output_names))

    def linears(self) -> list[nn.Linear]:
        return [m for m in self.layers if isinstance(m, nn.Linear)]

    def stats(self) -> NetStats:
        """Sizes, exact dtypes and noise radius, read off the tensors (one pass of ``precision.analyze``)."""
        import numpy as np

        from .precision import analyze
        from .reader import read_network

        layers = read_network(self).layers
        margin: float | None = None
        for layer in layers:
            if layer.act == STEP and layer.n_out:
                frac = layer.bias - np.floor(layer.bias)
                d = float(np.minimum(frac, 1 - frac).min())
                margin = d if margin is None else min(margin, d)
        neurons = [layer.n_out for layer in layers]
        if self.layout == SPARSE:  # the last GatherLayer only reads the outputs off the buffer
            neurons = neurons[:-1]
        report = analyze(self)
        return NetStats(
            layout=self.layout,
            layers=len(neurons),
            neurons=tuple(neurons),
            passthroughs=self.passthroughs,
            parameters=sum(p.numel() for p in self.parameters()),
            nonzero_weights=sum(len(layer.weight) for layer in layers),
            max_abs_weight=report.max_abs_weight,
            max_abs_bias=report.max_abs_bias,
            min_margin=margin,
            activation=self.activation if self.output_step or self.activation == STEP else "relu (no output step)",
            exact_dtypes=report.exact_dtypes,
            noise_radius=report.noise_radius,
        )

    def extra_repr(self) -> str:
        return f"inputs={list(self.input_names)}, outputs={list(self.output_names)}, layout={self.layout}"

    def metadata(self) -> dict:
        layers = []
        for m in self.layers:
            if isinstance(m, GatherLayer):
                act = None if m.final else STEP if isinstance(m.act, Step) else RELU
                layers.append({"kind": "GatherLayer", "shapes": m.shapes, "activation": act,
                               "n_slots": m.n_slots})
            elif isinstance(m, ToSlots):
                layers.append({"kind": "ToSlots", "n_inputs": m.n_inputs, "n_slots": m.n_slots})
            else:
                layers.append({"kind": type(m).__name__})
        return {
            "format": FORMAT,
            "layout": self.layout,
            "input_names": list(self.input_names),
            "output_names": list(self.output_names),
            "neuron_names": [list(n) for n in self.neuron_names],
            "activation": self.activation,
            "output_step": self.output_step,
            "passthroughs": self.passthroughs,
            "layers": layers,
            "spec": self.spec.source if self.spec is not None and self.spec.source is not None else None,
        }

    def save(self, path: str | Path) -> None:
        """Save as a ``torch.export`` program (loads with torch alone; see docs/cli.md)."""
        net = _Plain(self.layers).eval()
        example = torch.zeros(2, len(self.input_names))
        batch = torch.export.Dim("batch", min=1)
        ep = torch.export.export(net, (example,), dynamic_shapes=({0: batch},))
        torch.export.save(ep, str(path), extra_files={"threshnet.json": json.dumps(self.metadata())})


class _Plain(nn.Module):
    """The bare layers, so the saved program needs nothing from threshnet."""

    def __init__(self, layers: nn.Sequential) -> None:
        super().__init__()
        self.layers = layers

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


def load(path: str | Path) -> ThreshNet:
    """Load a network saved by :meth:`ThreshNet.save`."""
    extra = {"threshnet.json": ""}
    ep = torch.export.load(str(path), extra_files=extra)
    meta = json.loads(extra["threshnet.json"] or "{}")
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: not a threshnet network file")
    state = {k.removeprefix("layers."): v for k, v in ep.state_dict.items()}
    state.update({k.removeprefix("layers."): v for k, v in getattr(ep, "constants", {}).items()
                  if isinstance(v, torch.Tensor)})
    mods: list[nn.Module] = []
    names = iter(meta["neuron_names"])
    for i, layer in enumerate(meta["layers"]):
        kind = layer["kind"]
        if kind == "Linear":
            w = state[f"{i}.weight"]
            mods.append(empty_linear(w.shape[1], w.shape[0], w.dtype))
        elif kind == "ReLU":
            mods.append(nn.ReLU())
        elif kind == "Step":
            mods.append(Step())
        elif kind == "GatherLayer":
            shapes = [tuple(s) for s in layer["shapes"]]
            layer_names = next(names) if layer["activation"] is not None else list(meta["output_names"])
            mods.append(GatherLayer(empty_plan(shapes, layer["activation"], layer["n_slots"], layer_names)))
        elif kind == "ToSlots":
            mods.append(ToSlots(layer["n_inputs"], layer["n_slots"]))
        else:
            raise ValueError(f"{path}: unknown layer kind {kind!r}")
    seq = nn.Sequential(*mods)
    missing = set(seq.state_dict()) - set(state)
    if missing:
        raise ValueError(f"{path}: saved program lacks tensors {sorted(missing)[:3]}")
    seq.load_state_dict({k: state[k] for k in seq.state_dict()})
    return ThreshNet(
        seq, tuple(meta["input_names"]), tuple(meta["output_names"]),
        tuple(tuple(n) for n in meta["neuron_names"]), meta["activation"], meta["output_step"],
        meta.get("passthroughs", 0), None, meta.get("layout", MLP),
    )


__all__ = ["NetStats", "ThreshNet", "Step", "load", "RELU", "STEP", "MLP", "SPARSE"]
