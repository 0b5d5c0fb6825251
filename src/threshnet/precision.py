"""Precision: in which dtypes is a network exact?  Decided from its tensors.

Interval arithmetic from the 0/1 input box gives, for every neuron, a bound
``S = |bias| + sum(|w_j| * max|x_j|)`` on every partial sum of its
pre-activation, whatever the summation order.  All values in a threshnet
network lie on the half-integer grid (integer weights, integer or
half-integer biases, 0/1 or integer activations), so a float format with
``p`` significant bits is exact when every weight and bias is representable
and ``2 * S <= 2**p``; the steps then keep their 0.5 margins.  Integer
arithmetic uses weights and biases scaled by 2 (so every bias is an integer)
and must hold ``2 * S`` and every scaled weight.

``integer_program`` exports those scaled integer tensors and
``integer_forward`` runs them with numpy int64, exact by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import torch
from torch import nn

from .compiler.options import DTYPES, FLOAT_BITS, INT_MAX
from .compiler.runtime import GatherLayer, Step, ToSlots

#: Significant bits of each float format, and the range of each integer one.
FLOATS = FLOAT_BITS
INTS = INT_MAX
TORCH_DTYPES = {"float64": torch.float64, "float32": torch.float32, "float16": torch.float16,
                "bfloat16": torch.bfloat16}


@dataclass(frozen=True)
class Affine:
    """``act(W x + b)`` over a flat vector; rows as (columns, weights)."""

    cols: list[np.ndarray]
    weights: list[np.ndarray]
    bias: np.ndarray
    act: str | None  # "step", "relu" or None
    writes: np.ndarray | None = None  # slots written (sparse layout); None: the output replaces x
    name: str = ""
    n_in: int = 0


@dataclass(frozen=True)
class PrecisionReport:
    """Per-dtype verdicts with the first offending neuron where a dtype fails."""

    exact: dict[str, bool]
    reasons: dict[str, str]
    max_partial_sum: float  # the largest bound S over all neurons
    max_abs_weight: float
    max_abs_bias: float
    ranges: tuple[tuple[np.ndarray, np.ndarray], ...]  # per layer: pre-activation lo, hi

    @property
    def exact_dtypes(self) -> tuple[str, ...]:
        return tuple(d for d in DTYPES if self.exact[d])

    def __str__(self) -> str:
        lines = [f"exact in: {', '.join(self.exact_dtypes) or 'none'}"]
        for d in DTYPES:
            if not self.exact[d]:
                lines.append(f"not {d}: {self.reasons[d]}")
        return "\n".join(lines)


def affine_layers(module: nn.Module) -> tuple[int, list[Affine]]:
    """(buffer width, layers) of a ThreshNet (either layout) or a plain Linear/ReLU/Step Sequential."""
    layers = getattr(module, "layers", module)
    mods = list(layers) if isinstance(layers, nn.Sequential) else [layers]
    out: list[Affine] = []
    width = None
    i = 0
    while i < len(mods):
        m = mods[i]
        if isinstance(m, ToSlots):
            width = m.n_slots
        elif isinstance(m, nn.Linear):
            nxt = mods[i + 1] if i + 1 < len(mods) else None
            act = "step" if isinstance(nxt, Step) else "relu" if isinstance(nxt, nn.ReLU) else None
            w = m.weight.detach().double().numpy()
            cols = [np.nonzero(row)[0] for row in w]
            out.append(Affine(cols, [w[r, c] for r, c in enumerate(cols)], m.bias.detach().double().numpy(), act,
                              name=f"layer {len(out) + 1}", n_in=m.in_features))
            if width is None:
                width = m.in_features
            i += 2 if act else 1
            continue
        elif isinstance(m, GatherLayer):
            act = None if m.final else "step" if isinstance(m.act, Step) else "relu"
            cols, wts, bias = [], [], []
            for b in range(len(m.shapes)):
                idx, w, bb = (t.detach() for t in m.bucket(b))
                idx, w = idx.numpy(), w.double().numpy()
                for r in range(len(bb)):
                    keep = w[r] != 0
                    cols.append(idx[r][keep])
                    wts.append(w[r][keep])
                bias.extend(bb.double().tolist())
            writes = None if m.final else m.slots.numpy()
            out.append(Affine(cols, wts, np.array(bias), act, writes, name=f"layer {len(out) + 1}", n_in=m.n_slots))
        elif isinstance(m, (nn.ReLU, Step, nn.Identity)):
            raise ValueError(f"unexpected {type(m).__name__} without a Linear before it")
        else:
            raise ValueError(f"cannot analyse module {type(m).__name__}")
        i += 1
    return width or 0, out


def analyze(module: nn.Module, n_inputs: int | None = None) -> PrecisionReport:
    """Interval bounds and dtype verdicts for a network with 0/1 inputs."""
    width, layers = affine_layers(module)
    n_inputs = n_inputs if n_inputs is not None else len(getattr(module, "input_names", ())) or width
    top = np.zeros(width)
    top[:n_inputs] = 1.0  # largest |value| of each buffer entry
    lo_v = np.zeros(width)
    hi_v = top.copy()
    integral = np.ones(width, dtype=bool)  # does the entry only take integer values?
    exact = {d: True for d in DTYPES}
    reasons: dict[str, str] = {}
    max_s = max_w = max_b = 0.0
    ranges = []

    def fail(d: str, why: str) -> None:
        if exact[d]:
            exact[d], reasons[d] = False, why

    for layer in layers:
        n = len(layer.bias)
        lo = np.empty(n)
        hi = np.empty(n)
        for r in range(n):
            c, w, b = layer.cols[r], layer.weights[r], float(layer.bias[r])
            s = abs(b) + float(np.sum(np.abs(w) * np.maximum(np.abs(lo_v[c]), np.abs(hi_v[c]))))
            lo[r] = b + float(np.sum(np.minimum(w * lo_v[c], w * hi_v[c])))
            hi[r] = b + float(np.sum(np.maximum(w * lo_v[c], w * hi_v[c])))
            where = f"{layer.name} neuron {r}"
            for v in list(w) + [b]:
                if Fraction(v).denominator > 2:
                    for d in DTYPES:
                        fail(d, f"{where}: value {v!r} is not on the half-integer grid")
            for d, p in FLOATS.items():
                if 2 * s > 2**p:
                    fail(d, f"{where}: partial sums reach {s:g}, beyond {d}'s exact range ({2 ** (p - 1)})")
                elif d in TORCH_DTYPES:
                    for v in list(w) + [b]:
                        if float(torch.tensor(v, dtype=TORCH_DTYPES[d]).double()) != v:
                            fail(d, f"{where}: weight or bias {v!r} is not representable in {d}")
                            break
            for d, limit in INTS.items():
                wmax = float(np.max(np.abs(w))) * 2 if len(w) else 0.0
                if 2 * s > limit or wmax > limit:
                    fail(d, f"{where}: scaled values reach {max(2 * s, wmax):g}, beyond {d} ({limit})")
            max_s, max_b = max(max_s, s), max(max_b, abs(b))
            max_w = max(max_w, float(np.max(np.abs(w))) if len(w) else 0.0)
            if layer.act == "step":
                on_grid = bool(np.all(integral[c])) and np.all(w == np.round(w))
                half = on_grid and (b % 1) == 0.5
                if not half and lo[r] <= 0 <= hi[r]:
                    for d in DTYPES:
                        fail(d, f"{where}: a step pre-activation is not kept away from 0 "
                                f"(bias {b:g} is not a half-integer over integer inputs)")
        ranges.append((lo, hi))
        if layer.act == "step":
            new_lo, new_hi, new_int = np.zeros(n), np.ones(n), np.ones(n, dtype=bool)
        else:
            new_int = np.array([bool(np.all(integral[c])) and bool(np.all(w == np.round(w))) and b % 1 == 0
                                for c, w, b in zip(layer.cols, layer.weights, layer.bias)], dtype=bool)
            new_lo, new_hi = (np.maximum(lo, 0), np.maximum(hi, 0)) if layer.act == "relu" else (lo, hi)
        if layer.writes is None:
            lo_v, hi_v, integral = new_lo, new_hi, new_int
        else:  # later readers of a rewritten slot see the new neuron
            lo_v, hi_v, integral = lo_v.copy(), hi_v.copy(), integral.copy()
            lo_v[layer.writes], hi_v[layer.writes], integral[layer.writes] = new_lo, new_hi, new_int
    return PrecisionReport(exact, reasons, max_s, max_w, max_b, tuple(ranges))


@dataclass(frozen=True)
class IntegerLayer:
    """``act(W @ x + b)`` in integers: ``W`` scaled by ``w_scale``, ``b`` by 2."""

    weight: np.ndarray  # (out, in) int64
    bias: np.ndarray  # (out,) int64
    act: str | None
    halve_output: bool  # True for the last layer of a pure-ReLU net (its values are doubled)


def integer_program(module: nn.Module) -> list[IntegerLayer]:
    """Dense integer weights and biases, scaled by 2 (mlp layout or plain Sequentials).

    A step layer's outputs are 0/1; a ReLU layer's outputs are kept doubled,
    so a layer reading 0/1 values has its weights doubled and one reading
    doubled values keeps them.
    """
    _, layers = affine_layers(module)
    if any(l.writes is not None for l in layers):
        raise ValueError("integer export is for the dense (mlp) layout; compile with layout='mlp'")
    out = []
    doubled = False  # are this layer's inputs already doubled?
    for layer in layers:
        w = np.zeros((len(layer.bias), layer.n_in), dtype=np.int64)
        for r, (c, v) in enumerate(zip(layer.cols, layer.weights)):
            scaled = v if doubled else 2 * v
            if not np.all(scaled == np.round(scaled)):
                raise ValueError(f"{layer.name} neuron {r}: weights {v} are not integers")
            w[r, c] = scaled.astype(np.int64)
        b2 = 2 * layer.bias
        if not np.all(b2 == np.round(b2)):
            raise ValueError(f"{layer.name}: biases are not half-integers")
        last = layer is layers[-1]
        out.append(IntegerLayer(w, b2.astype(np.int64), layer.act, last and layer.act != "step"))
        doubled = layer.act == "relu"
    return out


def integer_forward(program: list[IntegerLayer], x: np.ndarray) -> np.ndarray:
    """Run an integer program on 0/1 rows ``(batch, n_inputs)``; returns 0/1 int64."""
    h = np.asarray(x, dtype=np.int64)
    for layer in program:
        z = h @ layer.weight.T + layer.bias
        if layer.act == "step":
            h = (z > 0).astype(np.int64)
        elif layer.act == "relu":
            h = np.maximum(z, 0)
        else:
            h = z
        if layer.halve_output:
            if np.any(h % 2):
                raise ArithmeticError("last layer produced an odd doubled value")
            h = h // 2
    return h


def noise_radius(module: nn.Module) -> float:
    """Largest L-infinity input noise ``r`` such that any noise strictly below ``r`` keeps the outputs exact.

    Noise reaches the first step layer scaled by at most the product of the
    layers' infinity norms (max absolute row sum; ReLU is 1-Lipschitz); a step
    with margin m absorbs anything below m.  After that layer every value is
    an exact 0/1 again.  A network with no step at all has radius 0: its
    outputs move with its inputs.
    """
    _, layers = affine_layers(module)
    gain = 1.0
    report = analyze(module)
    for layer, (lo, hi) in zip(layers, report.ranges):
        norm = max((float(np.sum(np.abs(w))) for w in layer.weights), default=0.0)
        # Sparse layers also read older values (inputs too) straight from the buffer.
        gain = gain * norm if layer.writes is None else max(gain, 1.0) * max(norm, 1.0)
        if layer.act == "step":
            # On the half-integer grid every step pre-activation is at least 0.5 from 0.
            margins = [min(b % 1, 1 - b % 1) if b % 1 else min(abs(l), abs(h))
                       for b, l, h in zip(layer.bias, lo, hi)]
            margin = min(margins, default=0.5)
            return margin / gain if gain else float("inf")
    return 0.0
