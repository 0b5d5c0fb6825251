"""The compiled network: an ``nn.Module`` with named ports and neurons."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .compiler.spec import Spec
from .compiler.torch_backend import RELU, STEP, Step

FORMAT = "threshnet-network/1"


@dataclass(frozen=True)
class NetStats:
    """Sizes of a compiled network, read off its tensors."""

    layers: int
    neurons: tuple[int, ...]  # neurons per Linear layer, last = outputs
    passthroughs: int
    parameters: int
    nonzero_weights: int
    max_abs_weight: float
    max_abs_bias: float
    min_margin: float | None  # smallest |pre-activation| of any step neuron; None without steps
    activation: str

    @property
    def hidden_neurons(self) -> int:
        return sum(self.neurons[:-1])

    def bytes(self, bits: int) -> int:
        return self.parameters * bits // 8

    def __str__(self) -> str:
        margin = "n/a (no step)" if self.min_margin is None else f"{self.min_margin:g}"
        rows = [
            ("activation", self.activation),
            ("layers", f"{self.layers}  (neurons per layer: {' -> '.join(map(str, self.neurons))})"),
            ("hidden neurons", str(self.hidden_neurons)),
            ("pass-through neurons", str(self.passthroughs)),
            ("parameters", f"{self.parameters}  ({self.nonzero_weights} nonzero weights)"),
            ("bytes", f"fp32 {self.bytes(32)}, fp16 {self.bytes(16)}, int8 {self.bytes(8)}"),
            ("max |weight|", f"{self.max_abs_weight:g}  (max |bias| {self.max_abs_bias:g})"),
            ("min margin", margin),
        ]
        w = max(len(k) for k, _ in rows)
        return "\n".join(f"{k.ljust(w)}  {v}" for k, v in rows)


class ThreshNet(nn.Module):
    """A compiled network.  ``net(x)`` maps ``(..., n_inputs)`` 0/1 to ``(..., n_outputs)`` 0/1.

    ``layers`` is a plain ``nn.Sequential`` of ``nn.Linear``, ``nn.ReLU`` and
    :class:`Step` modules; ``neuron_names[i]`` names the rows of the i-th Linear.
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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 0 or x.shape[-1] != len(self.input_names):
            raise ValueError(
                f"expected input of shape (..., {len(self.input_names)}) for inputs "
                f"({', '.join(self.input_names)}), got {tuple(x.shape)}"
            )
        return self.layers(x)

    def linears(self) -> list[nn.Linear]:
        return [m for m in self.layers if isinstance(m, nn.Linear)]

    def stats(self) -> NetStats:
        lins = self.linears()
        mods = list(self.layers)
        params = sum(p.numel() for p in self.parameters())
        weights = [m.weight.detach() for m in lins]
        biases = [m.bias.detach() for m in lins]
        margin: float | None = None
        for i, m in enumerate(mods):
            if isinstance(m, Step):
                b = mods[i - 1].bias.detach().double()
                frac = b - torch.floor(b)
                d = torch.minimum(frac, 1 - frac)
                layer_margin = float(d.min()) if d.numel() else math.inf
                margin = layer_margin if margin is None else min(margin, layer_margin)
        return NetStats(
            layers=len(lins),
            neurons=tuple(m.out_features for m in lins),
            passthroughs=self.passthroughs,
            parameters=params,
            nonzero_weights=int(sum(int((w != 0).sum()) for w in weights)),
            max_abs_weight=max((float(w.abs().max()) for w in weights if w.numel()), default=0.0),
            max_abs_bias=max((float(b.abs().max()) for b in biases if b.numel()), default=0.0),
            min_margin=margin,
            activation=self.activation if self.output_step or self.activation == STEP else "relu (no output step)",
        )

    def extra_repr(self) -> str:
        return f"inputs={list(self.input_names)}, outputs={list(self.output_names)}"

    def metadata(self) -> dict:
        return {
            "format": FORMAT,
            "input_names": list(self.input_names),
            "output_names": list(self.output_names),
            "neuron_names": [list(n) for n in self.neuron_names],
            "activation": self.activation,
            "output_step": self.output_step,
            "passthroughs": self.passthroughs,
            "layers": [type(m).__name__ for m in self.layers],
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
    meta = json.loads(extra["threshnet.json"])
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: not a threshnet network file")
    state = ep.state_dict
    mods: list[nn.Module] = []
    for i, kind in enumerate(meta["layers"]):
        if kind == "Linear":
            w, b = state[f"layers.{i}.weight"], state[f"layers.{i}.bias"]
            lin = nn.Linear(w.shape[1], w.shape[0], dtype=w.dtype)
            with torch.no_grad():
                lin.weight.copy_(w)
                lin.bias.copy_(b)
            mods.append(lin)
        elif kind == "ReLU":
            mods.append(nn.ReLU())
        elif kind == "Step":
            mods.append(Step())
        else:
            raise ValueError(f"{path}: unknown layer kind {kind!r}")
    return ThreshNet(
        nn.Sequential(*mods), tuple(meta["input_names"]), tuple(meta["output_names"]),
        tuple(tuple(n) for n in meta["neuron_names"]), meta["activation"], meta["output_step"],
        meta.get("passthroughs", 0), None,
    )


__all__ = ["NetStats", "ThreshNet", "Step", "load", "RELU", "STEP"]
