"""Precision: in which dtypes is a network exact?  Decided from its tensors, one rule for all.

``analyze`` is the single exactness rule: ``compile`` (for the requested
dtype), ``stats``, ``threshnet.precision`` and ``export`` all ask it.

For every neuron ``act(sum_j w_j x_j + b)`` it computes, by interval
arithmetic from the 0/1 input box:

* ``S = |b| + sum_j |w_j| * max|x_j|``, which bounds the magnitude of every
  partial sum of the pre-activation in *any* summation order and grouping
  (every intermediate of a summation tree is the sum of a subset of the
  terms ``w_j x_j`` and ``b``; addmm/baddbmm may add the bias first or last);
* ``f``, the fraction bits of the neuron's grid: every term ``w_j x_j`` and
  the bias is a multiple of ``2**-f`` (threshnet: ``f = 0`` for ReLU neurons,
  integer biases; ``f = 1`` for step neurons, biases ``k + 0.5``).

A float format with ``p`` significant bits represents every multiple of
``2**-f`` up to ``2**(p - f)`` in magnitude; so when ``S <= 2**(p - f)`` and
every weight and bias is representable, every product and every partial sum
is representable, each correctly rounded operation returns its exact result,
and the network computes exactly the real-arithmetic function.  Integers:
weights and biases scaled by 2 (``integer_program``) need ``2 * S`` and the
scaled weights within the type.

The interval of each pre-activation is tightened for the two neurons of a
wide ReLU gate: a pair ``a = relu(u + 1)``, ``b = relu(u)`` (equal rows,
biases differing by 1, found in the tensors) is read as
``w * a + c * b = w * (a - b) + (w + c) * b`` with ``a - b = clip(u + 1, 0, 1)``
in ``[0, 1]``.  Without it the interval of a gate's value ``a - b`` is
``[-hi, hi + 1]`` instead of ``[0, 1]`` and the bounds compound layer after
layer (the 10**7 of a relu majority).  ``S`` itself is never tightened: a
partial sum may hold ``w * a`` without ``c * b``.

All arithmetic of the analysis is float64 on values that are integers once
scaled by ``2**f``; it is exact while bounds stay below ``2**52`` grid units
(``GUARD``), and a neuron beyond that is refused in every dtype.

The same pass propagates, per neuron, how far its value can move per unit of
L-infinity input noise (``noise_radius``).

``integer_program`` exports the scaled integer tensors and
``integer_forward`` runs them with numpy int64, exact by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .compiler.options import DTYPES, FLOAT_BITS, INT_MAX
from .compiler.runtime import RELU, STEP
from ._boundsweep import GUARD, MAX_FRACTION_BITS, sweep  # noqa: F401 (GUARD: part of this module's rule)
from .reader import AffineLayer, concat as cat, read_network

#: Significant bits of each float format, and the range of each integer one.
FLOATS = FLOAT_BITS
INTS = INT_MAX
TORCH_DTYPES = {"float64": torch.float64, "float32": torch.float32, "float16": torch.float16,
                "bfloat16": torch.bfloat16}


@dataclass(frozen=True)
class PrecisionReport:
    """Per-dtype verdicts with the first offending neuron where a dtype fails."""

    exact: dict[str, bool]
    reasons: dict[str, str]
    max_partial_sum: float  # the largest bound S over all neurons
    max_abs_weight: float
    max_abs_bias: float
    ranges: tuple[tuple[np.ndarray, np.ndarray], ...]  # per layer: pre-activation lo, hi
    noise_radius: float = 0.0  # L-infinity input noise strictly below this leaves the outputs exact
    sums: tuple[np.ndarray, ...] = ()  # per layer: the bound S on each neuron's partial sums

    @property
    def exact_dtypes(self) -> tuple[str, ...]:
        return tuple(d for d in DTYPES if self.exact[d])

    def __str__(self) -> str:
        lines = [f"exact in: {', '.join(self.exact_dtypes) or 'none'}"]
        for d in DTYPES:
            if not self.exact[d]:
                lines.append(f"not {d}: {self.reasons[d]}")
        return "\n".join(lines)


def fraction_bits(a: np.ndarray) -> np.ndarray:
    """Per value, the smallest ``k`` with ``a * 2**k`` an integer; ``MAX_FRACTION_BITS + 1`` if none."""
    k = np.zeros(a.shape, np.int64)
    with np.errstate(invalid="ignore", over="ignore"):
        todo = ~np.isfinite(a) | (a != np.round(a))
        for i in range(1, MAX_FRACTION_BITS + 1):
            if not todo.any():
                break
            k[todo] = i
            scaled = a[todo] * 2.0**i  # exact: a power of two
            todo[todo] = ~np.isfinite(scaled) | (scaled != np.round(scaled))
    k[todo] = MAX_FRACTION_BITS + 1
    return k


def _segsum(values: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(rows, weights=values, minlength=n) if len(rows) else np.zeros(n)


def _segmax(values: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=values.dtype)
    np.maximum.at(out, rows, values)
    return out


def _pairs(row: np.ndarray, col: np.ndarray, weight: np.ndarray, bias: np.ndarray, group: np.ndarray,
           keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Neuron pairs ``(a, b)`` of one layer (``group``: each neuron's layer, -1 for none) with equal rows
    and ``bias[a] == bias[b] + 1``.

    Then ``relu(a) - relu(b) = clip(u + 1, 0, 1)`` for ``u`` the pre-activation of ``b``:
    the two neurons of a wide ReLU gate.  Candidates come from row hashes and
    are confirmed by comparing the rows entry by entry.
    """
    n = len(bias)
    r, c, w = row, col, weight
    h1 = _segsum(w * keys[0][c], r, n)
    h2 = _segsum(w * keys[1][c], r, n)
    nnz = np.bincount(r, minlength=n) if len(r) else np.zeros(n, np.int64)
    order = np.lexsort((bias, nnz, h2, h1, group))
    i, j = order[:-1], order[1:]  # j: the next neuron in (layer, hash, bias) order
    cand = ((group[i] == group[j]) & (group[i] >= 0) & (h1[i] == h1[j]) & (h2[i] == h2[j]) & (nnz[i] == nnz[j])
            & (bias[j] == bias[i] + 1))
    b, a = i[cand], j[cand]
    if not len(a):
        return a, b
    starts = np.zeros(n, np.int64)
    starts[1:] = np.cumsum(nnz)[:-1]
    k = nnz[a]
    total = int(k.sum())
    off = np.arange(total) - np.repeat(np.cumsum(k) - k, k)
    ea, eb = np.repeat(starts[a], k) + off, np.repeat(starts[b], k) + off
    bad = (c[ea] != c[eb]) | (w[ea] != w[eb])
    ok = np.bincount(np.repeat(np.arange(len(a)), k), weights=bad, minlength=len(a)) == 0
    a, b = a[ok], b[ok]
    used = np.zeros(n, bool)  # a neuron in two pairs (equal rows, biases b, b+1, b+2): keep the first
    keep = np.ones(len(a), bool)
    for t in np.nonzero(np.isin(a, b) | np.isin(b, a))[0]:
        if used[a[t]] or used[b[t]]:
            keep[t] = False
        else:
            used[a[t]] = used[b[t]] = True
    return a[keep], b[keep]


def _first(mask: np.ndarray) -> int:
    """The first True index, or len(mask)."""
    return int(np.argmax(mask)) if mask.any() else len(mask)


def analyze(module: nn.Module, n_inputs: int | None = None, *, compiled: bool | None = None) -> PrecisionReport:
    """Interval bounds, dtype verdicts and the noise radius of a network with 0/1 inputs.

    The rule and why it is sound: docs/proofs-and-precision.md.  What a neuron's
    own weights decide is computed for the whole network at once; the bounds
    that flow from layer to layer are one sweep over the neurons
    (:mod:`threshnet._boundsweep`; ``compiled`` chooses how it runs, by default by size).
    """
    net = read_network(module, n_inputs)
    layers = net.layers
    L = len(layers)
    n_out = np.array([layer.n_out for layer in layers], np.int64)
    noff = np.zeros(L + 1, np.int64)
    np.cumsum(n_out, out=noff[1:])
    N = int(noff[-1])
    lid = np.repeat(np.arange(L), n_out)  # each neuron's layer
    r = cat([layer.row + noff[li] for li, layer in enumerate(layers)], np.int64)
    c = cat([layer.col for layer in layers], np.int64)
    w = cat([layer.weight for layer in layers], np.float64)
    bias = cat([layer.bias for layer in layers], np.float64)
    slot = cat([layer.writes if layer.writes is not None else np.arange(layer.n_out) for layer in layers], np.int64)
    act = np.array([1 if layer.act == STEP else 2 if layer.act == RELU else 0 for layer in layers], np.int64)
    width = max(net.width, int(n_out.max(initial=0)), max((layer.n_in for layer in layers), default=0))
    rowptr = np.zeros(N + 1, np.int64)
    np.cumsum(np.bincount(r, minlength=N), out=rowptr[1:])

    with np.errstate(invalid="ignore", over="ignore"):
        fw, fb = fraction_bits(w), fraction_bits(bias)
        finite = np.isfinite(bias) & (_segsum((~np.isfinite(w)).astype(float), r, N) == 0)
        relu = act[lid] == 2
        keys = np.random.default_rng(12345).random((2, max(width, 1))) + 1.0  # row hashes
        a, b = _pairs(r, c, w, bias, np.where(relu, lid, -1), keys)
    pair_b = np.full(N, -1, np.int64)
    pair_b[a] = b

    n_in = min(net.n_inputs, net.width)
    lo_v, hi_v, gain = np.zeros(width), np.zeros(width), np.zeros(width)
    hi_v[:n_in] = gain[:n_in] = 1.0  # gain: how far an entry moves per unit of L-infinity input noise
    s, lo, hi, f, fin, g, big, out_gain = sweep(noff, act, width, rowptr, c, w, fw, bias, fb, finite, slot, pair_b,
                                           lo_v, hi_v, np.zeros(width, np.int64), gain, compiled=compiled)
    cuts = noff[1:-1]
    ranges = tuple(zip(np.split(lo, cuts), np.split(hi, cuts))) if L else ()
    sums = tuple(np.split(s, cuts)) if L else ()

    # Every check, in the order that decides which reason a dtype reports for its first failing neuron.
    ok_f = (f <= MAX_FRACTION_BITS) & finite  # dyadic
    ok = ok_f & ~big
    base = [(~ok_f, lambda v: f"a weight or bias is not a dyadic rational m/2**k (k <= {MAX_FRACTION_BITS})"),
            (ok_f & big, lambda v: f"partial sums reach {s[v]:g}, beyond the range the analysis decides exactly")]
    checks: dict[str, list] = {d: list(base) for d in DTYPES}
    with np.errstate(invalid="ignore", over="ignore"):
        k_max = np.maximum(_segmax(fw, lid[r], L), _segmax(fb, lid, L))
        m_max = np.maximum(_segmax(np.abs(w), lid[r], L), _segmax(np.abs(bias), lid, L)) * np.exp2(k_max.astype(float))
    for d, p in FLOATS.items():
        limit = np.exp2(p - f.astype(float))  # exact range on the grid of 2**-f
        checks[d].append((ok & (s > limit), lambda v, d=d, limit=limit: f"partial sums reach {s[v]:g}, beyond {d}'s "
                                                                          f"exact range ({limit[v]:g})"))
        if d in TORCH_DTYPES and d != "float64":
            # Integers and half-integers m / 2**k (k <= 1) with |m| < 2**p are floats of p bits in every dtype
            # here (far inside each exponent range): a layer of only those needs no conversion.
            need = ~((k_max <= 1) & (m_max < 2.0 ** p))
            if need.any():
                tdt = TORCH_DTYPES[d]
                bad_w = torch.from_numpy(w).to(tdt).double().numpy() != w
                bad_b = torch.from_numpy(bias).to(tdt).double().numpy() != bias
                bad = ((_segsum(bad_w.astype(float), r, N) > 0) | bad_b) & need[lid]
                checks[d].append((ok & bad, lambda v, d=d: f"weight or bias not representable in {d}"))
    row_w = _segmax(np.abs(w), r, N)
    off_grid = (f > 1) | (_segmax(fw, r, N) > 0)
    over = np.maximum(2 * s, 2 * row_w)
    for d, limit in INTS.items():
        checks[d].append((ok & off_grid, lambda v: "values are not integers once scaled by 2"))
        checks[d].append((ok & ~off_grid & (over > limit),
                          lambda v, d=d, limit=limit: f"scaled values reach {over[v]:g}, beyond {d} ({limit})"))
    step = act[lid] == 1
    frac = bias - np.floor(bias)
    on_grid = (fin == 0) & (frac != 0) & np.isfinite(bias)
    with np.errstate(invalid="ignore"):
        margin = np.maximum.reduce([np.where(on_grid, np.minimum(frac, 1 - frac), 0.0),
                                    np.where(lo > 0, lo, 0.0), np.where(hi < 0, -hi, 0.0)])
    for d in DTYPES:
        checks[d].append((step & ~(margin > 0),
                          lambda v: f"a step pre-activation is not kept away from 0 (bias {bias[v]:g} is not a "
                                    f"half-integer over integer inputs)"))
    exact = {d: True for d in DTYPES}
    reasons: dict[str, str] = {}
    for d in DTYPES:
        firsts = [(_first(mask), k) for k, (mask, _) in enumerate(checks[d])]
        v, k = min(firsts)
        if v < N:
            exact[d] = False
            reasons[d] = f"{layers[lid[v]].name} neuron {v - noff[lid[v]]}: {checks[d][k][1](v)}"
    moved = step & (g > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        radius = float(np.min(margin[moved] / g[moved])) if moved.any() else np.inf
    if out_gain > 0:
        radius = 0.0
    with np.errstate(invalid="ignore"):
        max_s = float(np.nanmax(s, initial=0.0))
        max_w = float(np.nanmax(np.abs(w), initial=0.0))
        max_b = float(np.nanmax(np.abs(bias), initial=0.0))
    return PrecisionReport(exact, reasons, max_s, max_w, max_b, ranges, radius, sums)


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
    layers = read_network(module).layers
    if any(l.writes is not None for l in layers):
        raise ValueError("integer export is for the dense (mlp) layout; compile with layout='mlp'")
    out = []
    doubled = False  # are this layer's inputs already doubled?
    for layer in layers:
        w = np.zeros((layer.n_out, layer.n_in), dtype=np.int64)
        scaled = layer.weight if doubled else 2 * layer.weight
        bad = scaled != np.round(scaled)
        if bad.any():
            k = int(np.argmax(bad))
            raise ValueError(f"{layer.name} neuron {layer.row[k]}: weight {layer.weight[k]:g} is not an integer")
        w[layer.row, layer.col] = scaled.astype(np.int64)
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

    Computed by :func:`analyze` (per-neuron propagation; see docs/proofs-and-precision.md).
    """
    return analyze(module).noise_radius


# --- low-bit integer weights ------------------------------------------------------------------
#
# Each layer's weights and biases are stored as signed integers ``q`` with one power-of-two scale
# per layer: ``weight = q_w * 2**-e`` and ``bias = (q_b + h/2) * 2**-e`` with ``h`` 0 or 1.  ``e`` is
# the fewest fraction bits that make every weight an integer; ``h = 1`` (a "half" layer) when every
# bias is then an odd multiple of 1/2, as for threshnet's step neurons (biases ``k + 0.5``): the
# integer ``k`` is stored and the half is put back on loading, so a step layer with weights and
# biases in {-1, -0.5, 0, 0.5, 1} fits two bits.  Every value is reconstructed exactly (a product of
# an integer and a power of two, computed in float64 and then cast to a dtype that held it before),
# so the loaded network has the original's tensors bit for bit.

#: Widths the packed export writes, and the file's format marker.
PACKED_BITS = (8, 4, 2)
PACKED_FORMAT = "threshnet-packed/1"


@dataclass(frozen=True, eq=False)
class IntLayer:
    """One layer's integers: ``weight = q_weight * 2**-exp``, ``bias = (q_bias + half/2) * 2**-exp``."""

    name: str
    q_weight: np.ndarray  # int64 (out, in)
    q_bias: np.ndarray  # int64 (out,)
    exp: int
    half: bool

    @property
    def bits(self) -> int:
        """The smallest two's-complement width that holds every integer of the layer."""
        return max(signed_bits(self.q_weight), signed_bits(self.q_bias))


def signed_bits(q: np.ndarray) -> int:
    """The smallest two's-complement width ``b`` with ``-2**(b-1) <= q <= 2**(b-1) - 1`` (at least 1)."""
    if not q.size:
        return 1
    hi, lo = int(q.max()), int(q.min())
    return max(1, hi.bit_length() + 1 if hi > 0 else 1, (-lo - 1).bit_length() + 1 if lo < 0 else 1)


def _int_layer(name: str, w: np.ndarray, bias: np.ndarray) -> IntLayer:
    """``w`` (dense or the nonzero entries) and ``bias`` as integers with one scale; ValueError if not dyadic."""
    fw, fb = fraction_bits(w), fraction_bits(bias)
    if (fw > MAX_FRACTION_BITS).any() or (fb > MAX_FRACTION_BITS).any():
        raise ValueError(f"{name}: a weight or bias is not a dyadic rational m/2**k (k <= {MAX_FRACTION_BITS})")
    e = int(fw.max()) if fw.size else 0
    scaled = bias * 2.0**e
    half = bool(bias.size) and bool(np.all(scaled - np.floor(scaled) == 0.5))
    if half:
        qb = np.floor(scaled)
    else:
        e = max(e, int(fb.max()) if fb.size else 0)
        qb = bias * 2.0**e
    qw = w * 2.0**e
    if max(float(np.abs(qw).max(initial=0)), float(np.abs(qb).max(initial=0))) >= 2.0**62:
        raise ValueError(f"{name}: values too large for 64-bit integers")
    return IntLayer(name, qw.astype(np.int64), qb.astype(np.int64), e, half)


def integer_bits(module: nn.Module) -> int | None:
    """The smallest signed integer width that holds every weight and bias exactly (per-layer scale).

    Either layout; ``None`` when some weight or bias is not a dyadic rational.
    """
    return layers_integer_bits(read_network(module).layers)


def layers_integer_bits(layers: tuple[AffineLayer, ...]) -> int | None:
    """:func:`integer_bits` of layers already read (``ThreshNet.stats`` reads them once)."""
    try:
        return max((_int_layer(l.name, l.weight, l.bias).bits for l in layers), default=1)
    except ValueError:
        return None


def int_layers(module: nn.Module) -> list[IntLayer]:
    """Every Linear layer of a dense network (mlp layout, or a plain Sequential) as integers and a scale."""
    out = []
    for layer in read_network(module).layers:
        if layer.writes is not None:
            raise ValueError("packed integer export is for the dense (mlp) layout; compile with layout='mlp'")
        w = np.zeros((layer.n_out, layer.n_in))
        w[layer.row, layer.col] = layer.weight
        out.append(_int_layer(layer.name, w, layer.bias))
    return out


def pack_bits(q: np.ndarray, bits: int) -> torch.Tensor:
    """Signed integers in ``bits``-bit two's complement, ``8 // bits`` to a byte (the first in the low bits).

    ``bits == 8`` gives an int8 tensor; 4 and 2 give uint8 tensors of ``ceil(len * bits / 8)`` bytes.
    """
    q = np.asarray(q, np.int64).reshape(-1)
    if signed_bits(q) > bits:
        raise ValueError(f"values need {signed_bits(q)} bits, more than {bits}")
    if bits == 8:
        return torch.from_numpy(q.astype(np.int8))
    per = 8 // bits
    u = (q & ((1 << bits) - 1)).astype(np.uint8)
    u = np.concatenate([u, np.zeros((-len(u)) % per, np.uint8)]).reshape(-1, per)
    shifts = (np.arange(per) * bits).astype(np.uint8)
    return torch.from_numpy(np.bitwise_or.reduce(u << shifts, axis=1).astype(np.uint8))


def unpack_bits(t: torch.Tensor, bits: int, n: int) -> np.ndarray:
    """The first ``n`` signed integers packed by :func:`pack_bits` (int64)."""
    a = t.numpy()
    if bits == 8:
        return a.astype(np.int64)[:n]
    per = 8 // bits
    u = ((a[:, None].astype(np.int64) >> (np.arange(per) * bits)) & ((1 << bits) - 1)).reshape(-1)[:n]
    return np.where(u >= 1 << (bits - 1), u - (1 << bits), u)


def save_packed(net: nn.Module, path: object, bits: int = 8) -> None:
    """Write ``net`` (mlp layout) as packed ``bits``-bit integer tensors with a scale per layer.

    The file is a ``torch.save`` dict that ``torch.load(path, weights_only=True)``
    reads: ``{"format": "threshnet-packed/1", "metadata": JSON text, "bits": b,
    "layers": [{"exp": e, "half": h, "shape": [out, in]}, ...], "weight": [uint8/int8 tensors],
    "bias": [...]}``; ``weight = q * 2**-e`` and ``bias = (q + h/2) * 2**-e``.
    Refuses (``ValueError``) a width that some weight or bias does not fit, naming it.
    """
    import json

    if bits not in PACKED_BITS:
        raise ValueError(f"bits must be one of {', '.join(map(str, PACKED_BITS))}; got {bits!r}")
    layers = int_layers(net)
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    for layer in layers:
        for what, q in (("weight", layer.q_weight), ("bias", layer.q_bias)):
            bad = (q < lo) | (q > hi)
            if bad.any():
                ix = tuple(int(i) for i in np.argwhere(bad)[0])
                v = float(q[ix]) * 2.0**-layer.exp + (0.5 * 2.0**-layer.exp if what == "bias" and layer.half else 0)
                where = f"[{ix[0]}, {ix[1]}]" if len(ix) == 2 else f"[{ix[0]}]"
                scale = f"2**-{layer.exp}" if layer.exp else "1"
                raise ValueError(f"int{bits} cannot hold {layer.name} {what}{where} = {v:g}{_label(net, layers, layer, ix)}: "
                                 f"stored as the integer {int(q[ix])} (scale {scale}), which needs "
                                 f"{signed_bits(np.array([q[ix]]))} bits; int{bits} holds {lo}..{hi}; "
                                 f"this network needs int{max(l.bits for l in layers)}")
    meta = net.metadata() if hasattr(net, "metadata") else None
    if meta is None:
        raise ValueError("save_packed writes a compiled ThreshNet (it keeps the names and layer kinds)")
    torch.save({
        "format": PACKED_FORMAT,
        "metadata": json.dumps(meta, separators=(",", ":")),
        "bits": bits,
        "layers": [{"exp": l.exp, "half": l.half, "shape": list(l.q_weight.shape)} for l in layers],
        "weight": [pack_bits(l.q_weight, bits) for l in layers],
        "bias": [pack_bits(l.q_bias, bits) for l in layers],
    }, path)


def _label(net: nn.Module, layers: list[IntLayer], layer: IntLayer, ix: tuple[int, ...]) -> str:
    """`` (neuron 'c0', input 'a0')`` for a ThreshNet's entry ``ix`` of ``layer``; empty otherwise."""
    names = getattr(net, "neuron_names", None)
    k = layers.index(layer)
    if names is None or k >= len(names) or ix[0] >= len(names[k]):
        return ""
    cols = list(net.input_names) if k == 0 else list(names[k - 1])
    col = f", input '{cols[ix[1]]}'" if len(ix) == 2 and ix[1] < len(cols) else ""
    return f" (neuron '{names[k][ix[0]]}'{col})"


def load_packed(path: object) -> nn.Module:
    """The network written by :func:`save_packed`, with exactly the original tensors (a ThreshNet)."""
    import json

    from .network import _check_metadata, _network, _unpack

    obj = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(obj, dict) or obj.get("format") != PACKED_FORMAT:
        raise ValueError(f"{path}: not a packed threshnet network (format {PACKED_FORMAT!r})")
    meta = _check_metadata(json.loads(obj["metadata"]))
    bits = int(obj["bits"])
    if bits not in PACKED_BITS:
        raise ValueError(f"{path}: unknown width {bits}")
    weights, biases = [], []
    for spec, tw, tb in zip(obj["layers"], obj["weight"], obj["bias"]):
        n_out, n_in = (int(v) for v in spec["shape"])
        scale = 2.0 ** -int(spec["exp"])
        weights.append(unpack_bits(tw, bits, n_out * n_in).astype(np.float64) * scale)
        biases.append((unpack_bits(tb, bits, n_out).astype(np.float64) + (0.5 if spec["half"] else 0.0)) * scale)
    cat = lambda parts: torch.from_numpy(np.concatenate(parts) if parts else np.zeros(0))  # noqa: E731
    empty = torch.zeros(0, dtype=torch.int64)
    layers = _unpack(meta, {"weight": cat(weights), "bias": cat(biases), "index": empty, "count": empty,
                            "slot": empty})
    return _network(meta, layers)
