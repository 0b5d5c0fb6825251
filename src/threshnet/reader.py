"""Read a built network back into plain affine layers.

A network is a sequence of layers ``x' = act(W x + b)`` over a flat buffer
``x``.  In the dense layout (and any plain ``nn.Sequential`` of
``nn.Linear``, ``nn.ReLU`` and :class:`~threshnet.compiler.runtime.Step`) the
output replaces the buffer; in the sparse layout the buffer is the slot
buffer and a layer writes its neurons into the slots ``writes``, leaving the
others as they are.  ``W`` is kept in coordinate form (``row``, ``col``,
``weight``, zero weights dropped), so a 200k-gate sparse network reads in
O(edges) numpy work, with no Python loop per neuron.

Weights and biases are converted to float64, which holds every value of
every float dtype exactly; ``dtype`` says what the module stores.

``threshnet.precision`` (exactness and noise bounds) and
``ThreshNet.stats`` read networks through :func:`read_network`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .compiler.runtime import RELU, STEP, GatherLayer, Step, ToSlots


@dataclass(frozen=True, eq=False)
class AffineLayer:
    """``act(W x + b)``; ``W[row[k], col[k]] = weight[k]`` (nonzero entries, grouped by row)."""

    row: np.ndarray  # int64 (nnz,)
    col: np.ndarray  # int64 (nnz,)
    weight: np.ndarray  # float64 (nnz,)
    bias: np.ndarray  # float64 (n_out,)
    act: str | None  # "step", "relu", or None (affine output)
    n_in: int
    writes: np.ndarray | None = None  # sparse layout: the slots written; None: the output replaces x
    name: str = ""
    dtype: torch.dtype = torch.float32

    @property
    def n_out(self) -> int:
        return len(self.bias)


@dataclass(frozen=True, eq=False)
class ReadNetwork:
    """A network as affine layers over a buffer of ``width`` entries; inputs are entries ``0..n_inputs-1``."""

    width: int
    n_inputs: int
    layers: tuple[AffineLayer, ...]


def _act_of(m: nn.Module | None) -> str | None:
    return STEP if isinstance(m, Step) else RELU if isinstance(m, nn.ReLU) else None


def _linear(m: nn.Linear, act: str | None, name: str) -> AffineLayer:
    w = m.weight.detach()
    row, col = torch.nonzero(w, as_tuple=True)
    return AffineLayer(row.numpy().astype(np.int64), col.numpy().astype(np.int64),
                       w[row, col].double().numpy(), m.bias.detach().double().numpy().copy() if m.bias is not None
                       else np.zeros(m.out_features), act, m.in_features, None, name, w.dtype)


def concat(parts: list[np.ndarray], dtype) -> np.ndarray:
    """``parts`` joined end to end as ``dtype`` (an empty array of it when there are none)."""
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype)


def _gather(m: GatherLayer, name: str) -> AffineLayer:
    rows, cols, wts, biases = [], [], [], []
    offset = 0
    dtype = torch.float32
    for (n, k), idx, w, bias in zip(m.shapes, m.indices(), list(m.weights), list(m.biases), strict=True):
        dtype = w.dtype
        wd = w.detach().reshape(-1).double().numpy()
        nz = np.flatnonzero(wd)
        rows.append(nz // k + offset)
        cols.append(idx.numpy()[nz])
        wts.append(wd[nz])
        biases.append(bias.detach().reshape(-1).double().numpy())
        offset += n
    act = None if m.final else STEP if isinstance(m.act, Step) else RELU
    writes = None if m.final else m.slots.numpy().astype(np.int64)
    return AffineLayer(concat(rows, np.int64), concat(cols, np.int64), concat(wts, np.float64),
                       concat(biases, np.float64), act, m.n_slots, writes, name, dtype)


def read_network(module: nn.Module, n_inputs: int | None = None) -> ReadNetwork:
    """The affine layers of a ``ThreshNet`` (either layout) or a plain Linear/ReLU/Step ``nn.Sequential``.

    ``n_inputs`` defaults to the network's input ports (or the first layer's width).
    Raises ``ValueError`` for any other module.
    """
    layers = getattr(module, "layers", module)
    mods = list(layers) if isinstance(layers, nn.Sequential) else [layers]
    out: list[AffineLayer] = []
    width: int | None = None
    slots_inputs: int | None = None
    i = 0
    while i < len(mods):
        m = mods[i]
        name = f"layer {len(out) + 1}"
        if isinstance(m, ToSlots):
            width, slots_inputs = m.n_slots, m.n_inputs
        elif isinstance(m, nn.Linear):
            act = _act_of(mods[i + 1] if i + 1 < len(mods) else None)
            out.append(_linear(m, act, name))
            if width is None:
                width = m.in_features
            i += 2 if act else 1
            continue
        elif isinstance(m, GatherLayer):
            out.append(_gather(m, name))
        elif isinstance(m, (nn.ReLU, Step, nn.Identity)):
            raise ValueError(f"unexpected {type(m).__name__} without a Linear before it")
        else:
            raise ValueError(f"cannot analyse module {type(m).__name__}")
        i += 1
    if n_inputs is None:
        names = getattr(module, "input_names", None)
        n_inputs = len(names) if names is not None else slots_inputs if slots_inputs is not None else width or 0
    return ReadNetwork(width or 0, n_inputs, tuple(out))
