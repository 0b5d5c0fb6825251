"""The runtime modules of a compiled network: ``Step`` and the sparse layout's layers.

The compiler builds networks out of these, and ``threshnet.network``,
``threshnet.precision`` and the prover read them back; this module imports
nothing else of threshnet, so every layer above the compiler can use it.

* :class:`Step` is the Heaviside step ``(x > 0)``.  Every step neuron's
  pre-activation is a half-integer, at least 0.5 from 0.
* :class:`ToSlots` and :class:`GatherLayer` form the sparse layout (see
  ``compiler.sparse_backend``): a slot buffer of shape ``(slots, batch)``
  that each layer reads by index and writes into.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from .sparse_backend import SparsePlan

STEP, RELU = "step", "relu"


class Step(nn.Module):
    """Heaviside step ``(x > 0)`` in the input's dtype."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x > 0).to(x.dtype)


def empty_linear(in_features: int, out_features: int, dtype: torch.dtype) -> nn.Linear:
    """An uninitialised ``nn.Linear`` (its weights are set right after).

    Built on the meta device, then given fresh CPU parameters: ``nn.utils.skip_init`` does the same
    through ``to_empty``, which imports sympy (half a second per process) for shape reasoning.
    """
    with warnings.catch_warnings():  # a spec with no inputs gives a zero-width Linear
        warnings.filterwarnings("ignore", "Initializing zero-element tensors", UserWarning)
        lin = nn.Linear(in_features, out_features, device="meta", dtype=dtype)
    lin.weight = nn.Parameter(torch.empty(out_features, in_features, dtype=dtype))
    lin.bias = nn.Parameter(torch.empty(out_features, dtype=dtype))
    return lin


class ToSlots(nn.Module):
    """``(batch, n_inputs)`` to the slot buffer ``(n_slots, batch)``, inputs in the first rows."""

    def __init__(self, n_inputs: int, n_slots: int) -> None:
        super().__init__()
        self.n_inputs, self.n_slots = n_inputs, n_slots

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pad = x.new_zeros(self.n_slots - self.n_inputs, x.shape[0])
        return torch.cat([x.t(), pad], 0)


#: The activation modules of gather layers, one of each, shared: they hold no tensors and no state.
_ACTS: dict[str | None, nn.Module] = {STEP: Step(), RELU: nn.ReLU(), None: nn.Identity()}


class GatherLayer(nn.Module):
    """Per bucket: ``act(sum(w * slots[idx]) + b)``, written into its slots in place.

    The final layer (``final``) returns the ``(batch, n_outputs)`` read-out instead.

    Tensors, bucket ``i``: buffer ``idx{i}`` (the ``m * k`` slots read, neuron by neuron),
    parameters ``w{i}`` ``(m, k, 1)`` and ``b{i}`` ``(m, 1)``; buffer ``slots`` (the slot of
    each neuron, all buckets in order) unless final.  A deep network has one such layer per
    level, 10^4 or more of them, so a layer is one module: its activation ``act`` (a shared
    ``Step``, ``ReLU`` or ``Identity``) is a plain attribute, not a submodule, and its tensors
    go straight into the module's tables (``register_*`` look each name up first, which
    costs more than making the tensor).
    """

    def __init__(self, plan: SparsePlan, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        buffers, weights, biases, shapes = self._buffers, {}, {}, []
        for i, b in enumerate(plan.buckets):
            m, k = len(b.bias), len(b.index[0])
            buffers[f"idx{i}"] = torch.tensor(b.index, dtype=torch.long).reshape(-1)
            weights[f"w{i}"] = nn.Parameter(torch.tensor(b.weight, dtype=torch.float64).to(dtype).reshape(m, k, 1))
            biases[f"b{i}"] = nn.Parameter(torch.tensor(b.bias, dtype=torch.float64).to(dtype).reshape(m, 1))
            shapes.append((m, k))
        self._parameters.update(weights)
        self._parameters.update(biases)
        final = plan.activation is None
        if not final:
            buffers["slots"] = torch.tensor([s for b in plan.buckets for s in b.slots], dtype=torch.long)
        # Plain values straight into the instance dict: nn.Module.__setattr__ first checks each against its
        # parameters, buffers and submodules.
        self.__dict__.update(shapes=shapes, final=final, names=tuple(n for b in plan.buckets for n in b.names),
                             n_slots=plan.n_slots, act=_ACTS[plan.activation])

    @property
    def weights(self) -> list[nn.Parameter]:
        """Each bucket's weight ``(m, k, 1)``."""
        return [self._parameters[f"w{i}"] for i in range(len(self.shapes))]

    @property
    def biases(self) -> list[nn.Parameter]:
        """Each bucket's bias ``(m, 1)``."""
        return [self._parameters[f"b{i}"] for i in range(len(self.shapes))]

    def extra_repr(self) -> str:
        act = "final" if self.final else type(self.act).__name__
        return f"{act}, buckets (neurons, inputs)={self.shapes}, slots={self.n_slots}"

    def bucket(self, i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(index (m, k), weight (m, k), bias (m,)) of bucket ``i``."""
        m, k = self.shapes[i]
        return getattr(self, f"idx{i}").reshape(m, k), getattr(self, f"w{i}").reshape(m, k), \
            getattr(self, f"b{i}").reshape(m)

    def indices(self) -> list[torch.Tensor]:
        """Each bucket's flat index buffer (``m * k`` slots, neuron by neuron)."""
        return [getattr(self, f"idx{i}") for i in range(len(self.shapes))]

    def forward(self, state: torch.Tensor) -> torch.Tensor:
        parts = []
        batch = state.shape[1]
        for i, (m, k) in enumerate(self.shapes):
            x = state.index_select(0, getattr(self, f"idx{i}")).reshape(m, k, batch)
            # One batched (1 x k) @ (k x batch) per neuron: sums of small integers, exact in any order.
            z = torch.baddbmm(getattr(self, f"b{i}").reshape(m, 1, 1), getattr(self, f"w{i}").reshape(m, 1, k), x)
            parts.append(self.act(z.reshape(m, batch)))
        new = torch.cat(parts, 0) if len(parts) > 1 else parts[0]
        if self.final:
            return new.t()
        return state.index_copy(0, self.slots, new) if torch.is_grad_enabled() or _exporting() \
            else state.index_copy_(0, self.slots, new)


def _exporting() -> bool:
    compiler = getattr(torch, "compiler", None)
    return bool(compiler is not None and compiler.is_compiling())
