"""The compiled network: an ``nn.Module`` with named ports and neurons, and its file format.

Inputs.  ``ThreshNet.forward`` accepts a bool, integer or floating tensor of
shape ``(..., n_inputs)`` and reads input ``x`` as the bit ``x > 0.5`` (a
threshold neuron per input, ahead of the first layer).  The layers then see
exact 0/1 values, so both layouts and both activations compute the same
function on *every* real input: the compiled function of the rounded input.
(The bare ``net.layers``, the saved program and the ONNX export read the raw
values; they are exact within ``stats().noise_radius`` of 0/1 and behave
differently between layouts beyond it.)  ``strict=True`` refuses anything
that is not exactly 0 or 1, NaN and infinities included.

Files (``save``/``load``).  A network file is a ``torch.save`` zip archive of
one dict of plain values and a fixed number of flat tensors, whatever the
network's size (see :func:`_pack`)::

    {"format": "threshnet-network/2", "metadata": {...}, "tensors": {...}}

so ``torch.load(path, weights_only=True)`` reads it without threshnet, and
saving and loading cost time and memory proportional to the tensors.  The
sparse layout's padding (index 0, weight 0 at the end of a row) is not
stored; every kept entry is, bit for bit, so ``load(save(net))`` has the
original's tensors exactly.  Files of the first format, a ``torch.export``
program with ``threshnet.json`` inside (``save(..., program=True)`` still
writes them), load too.
"""

from __future__ import annotations

import json
import math
import pickle
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

from .compiler.ports import Ports, ports_from_names, ports_of
from .compiler.runtime import RELU, STEP, GatherLayer, Step, ToSlots, empty_linear
from .compiler.sparse_backend import Bucket, SparsePlan, empty_plan
from .compiler.spec import Spec

FORMAT = "threshnet-network/2"
PROGRAM_FORMAT = "threshnet-network/1"  # a torch.export program with threshnet.json inside
MLP, SPARSE = "mlp", "sparse"
_DTYPES = {str(d).removeprefix("torch."): d for d in (torch.float64, torch.float32, torch.float16, torch.bfloat16)}


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
    int_bits: int | None = None  # smallest signed integer width of every weight and bias (scale per layer)

    @property
    def hidden_neurons(self) -> int:
        return sum(self.neurons[:-1])

    def bytes(self, bits: int) -> int:
        """Bytes of the parameters at ``bits`` per value (packed, rounded up)."""
        return -(-self.parameters * bits // 8)

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
            ("bytes", f"fp32 {self.bytes(32)}, fp16 {self.bytes(16)}, int8 {self.bytes(8)}, "
                      f"int4 {self.bytes(4)}, int2 {self.bytes(2)}"),
            ("integer width", "n/a (weights not dyadic)" if self.int_bits is None else
             f"int{self.int_bits}  (smallest that holds every weight and bias, one power-of-two scale per layer)"),
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

    ``x`` may be a bool, integer or floating tensor; each input is read as the
    bit ``x > 0.5`` (so any real input gives the exact answer for its rounding,
    the same in every layout), and ``strict=True`` refuses anything but exact
    0/1 instead.  ``neuron_names[i]`` names the neurons of layer i.
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

    @property
    def dtype(self) -> torch.dtype:
        """The dtype of the weights (the dtype the network computes and answers in)."""
        p = next(self.parameters(), None)
        return torch.float32 if p is None else p.dtype

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = len(self.input_names)
        if not isinstance(x, torch.Tensor):
            raise TypeError(
                f"expected a torch.Tensor of shape (..., {n}) holding 0/1, got {type(x).__name__}; "
                "convert it with torch.as_tensor(x)"
            )
        if not (x.dtype == torch.bool or x.dtype.is_floating_point or _is_integer(x.dtype)):
            raise TypeError(f"expected a bool, integer or floating tensor, got dtype {x.dtype}")
        if x.dim() == 0 or x.shape[-1] != n:
            raise ValueError(
                f"expected input of shape (..., {n}) for inputs ({', '.join(self.input_names)}), "
                f"got {tuple(x.shape)}"
            )
        if x.dtype.is_floating_point and x.dtype.itemsize == 1:
            x = x.float()  # float8: exact in float32, which has the comparisons float8 lacks
        if x.dtype == torch.bool:
            bits = x
        else:
            if self.strict:
                bad = x[(x != 0) & (x != 1)]
                if bad.numel():
                    raise ValueError(f"strict network: inputs must be exactly 0 or 1, got {bad[0].item()!r}")
            bits = x > 0.5
        lead = x.shape[:-1]
        out = self.layers(bits.to(self.dtype).reshape(math.prod(lead), n))
        return out.reshape(*lead, len(self.output_names))

    # -- words (threshnet.compiler.ports) ------------------------------------------------------
    @property
    def ports(self) -> Ports:
        """The word ports: the spec's declared ones (v2), else grouped from the names ``x[i]``."""
        spec = self.spec
        if spec is not None and tuple(spec.inputs) == self.input_names and tuple(spec.outputs) == self.output_names:
            return ports_of(spec)
        return ports_from_names(self.input_names, self.output_names)

    def encode(self, values: Mapping[str, Any] | None = None, /, **words: Any) -> torch.Tensor:
        """The input tensor for words and/or bits: ``net.encode(a=200, b=100)`` has shape ``(n_inputs,)``.

        Lists, arrays or tensors of values give a batch ``(*batch, n_inputs)``
        (values broadcast together: ``net.encode(a=[1, 2, 3], b=5)``).  Keys as
        in :func:`threshnet.evaluate`; ``values`` takes names that are not
        Python identifiers (``{"a[3]": 1}``).  The tensor has the net's dtype
        and device.
        """
        given = _merge(values, words)
        ports = self.ports
        p = next(self.parameters(), None)
        device = p.device if p is not None else None
        if any(_is_batch(v) for v in given.values()):
            rows = ports.encode_batch(given)
            return torch.as_tensor(rows, dtype=self.dtype, device=device)
        return torch.tensor(ports.encode(given), dtype=self.dtype, device=device)

    def decode(self, y: Any) -> dict[str, Any]:
        """Output words from ``net(x)``: ints for one row ``(n_outputs,)``; for a batch ``(*batch, n_outputs)``
        int64 tensors of shape ``batch`` (words over 63 bits: nested lists of Python ints).

        Every bit must be exactly 0 or 1, else ``ValueError`` naming the output bit.
        """
        t = y.detach().cpu() if isinstance(y, torch.Tensor) else torch.as_tensor(y)
        ports = self.ports
        if t.dim() == 1:
            return ports.decode(t.tolist())
        out = ports.decode_batch(t.double().numpy())
        return {k: torch.from_numpy(v) if v.dtype != object else v.tolist() for k, v in out.items()}

    def run(self, values: Mapping[str, Any] | None = None, /, **words: Any) -> dict[str, Any]:
        """``decode(net(encode(...)))`` without gradients: ``net.run(a=200, b=100)`` -> ``{"s": 300}``."""
        x = self.encode(values, **words)
        with torch.no_grad():
            return self.decode(self(x))

    def linears(self) -> list[nn.Linear]:
        return [m for m in self.layers if isinstance(m, nn.Linear)]

    def stats(self) -> NetStats:
        """Sizes, exact dtypes and noise radius, read off the tensors (one pass of ``precision.analyze``)."""
        import numpy as np

        from .precision import analyze, layers_integer_bits
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
            int_bits=layers_integer_bits(layers),
        )

    def extra_repr(self) -> str:
        return f"inputs={list(self.input_names)}, outputs={list(self.output_names)}, layout={self.layout}"

    def metadata(self) -> dict:
        """Everything but the tensors, as JSON-able values (the file's ``metadata``)."""
        return {
            "format": FORMAT,
            "layout": self.layout,
            "dtype": str(self.dtype).removeprefix("torch."),
            "input_names": list(self.input_names),
            "output_names": list(self.output_names),
            "neuron_names": [list(n) for n in self.neuron_names],
            "activation": self.activation,
            "output_step": self.output_step,
            "passthroughs": self.passthroughs,
            "layers": [_describe(m) for m in self.layers],
            "spec": self.spec.source if self.spec is not None and self.spec.source is not None else None,
        }

    def save(self, path: str | Path, *, program: bool = False) -> None:
        """Write the network to ``path`` (see docs/api.md, "Network files").

        The file is a ``torch.save`` archive that ``torch.load(path,
        weights_only=True)`` reads without threshnet.  ``program=True``
        writes a ``torch.export`` program instead, runnable with
        ``torch.export.load(path).module()``; tracing takes time in
        proportion to layers times buckets, so it suits small networks.
        Raises ``OSError`` when the file cannot be written.
        """
        if program:
            self._save_program(path)
            return
        meta = self.metadata()
        tensors = _pack(list(self.layers))
        with open(path, "wb") as f:
            torch.save({"format": FORMAT, "metadata": json.dumps(meta, separators=(",", ":")), "tensors": tensors}, f)

    def _save_program(self, path: str | Path) -> None:
        meta = self.metadata()
        meta["format"] = PROGRAM_FORMAT
        meta["layers"] = [_describe_program(m) for m in self.layers]
        net = _Plain(self.layers).eval()
        example = torch.zeros(2, len(self.input_names), dtype=self.dtype)
        batch = torch.export.Dim("batch", min=1)
        ep = torch.export.export(net, (example,), dynamic_shapes=({0: batch},))
        with open(path, "wb") as f:
            torch.export.save(ep, f, extra_files={"threshnet.json": json.dumps(meta)})


def _merge(values: Mapping[str, Any] | None, words: Mapping[str, Any]) -> dict[str, Any]:
    given = dict(values or {})
    twice = [k for k in words if k in given]
    if twice:
        raise ValueError(f"input {twice[0]} is given twice (in the mapping and as a keyword)")
    given.update(words)
    return given


def _is_batch(v: Any) -> bool:
    """A list, tuple, array or tensor with at least one dimension (else one value)."""
    if isinstance(v, (list, tuple)):
        return True
    return getattr(v, "ndim", 0) > 0


def _is_integer(dtype: torch.dtype) -> bool:
    """A plain integer dtype (``int8`` ... ``uint64``; not bool, not quantized)."""
    return str(dtype).removeprefix("torch.").startswith(("int", "uint"))


class _Plain(nn.Module):
    """The bare layers, so the saved program needs nothing from threshnet."""

    def __init__(self, layers: nn.Sequential) -> None:
        super().__init__()
        self.layers = layers

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


# --- the file format --------------------------------------------------------------------------


def _gather_act(m: GatherLayer) -> str | None:
    return None if m.final else STEP if isinstance(m.act, Step) else RELU


def _describe(m: nn.Module) -> dict:
    """One entry of ``metadata["layers"]``: the layer's kind and sizes; its numbers are in the tensors."""
    if isinstance(m, nn.Linear):
        return {"kind": "Linear", "in_features": m.in_features, "out_features": m.out_features}
    if isinstance(m, GatherLayer):
        return {"kind": "GatherLayer", "shapes": [list(s) for s in m.shapes], "activation": _gather_act(m),
                "n_slots": m.n_slots}
    if isinstance(m, ToSlots):
        return {"kind": "ToSlots", "n_inputs": m.n_inputs, "n_slots": m.n_slots}
    if isinstance(m, (nn.ReLU, Step)):
        return {"kind": type(m).__name__}
    raise ValueError(f"cannot save a layer of type {type(m).__name__}: threshnet files hold compiled networks")


def _describe_program(m: nn.Module) -> dict:
    """The first format's layer entry (a torch.export program holds the tensors)."""
    if isinstance(m, GatherLayer):
        return {"kind": "GatherLayer", "shapes": [list(s) for s in m.shapes], "activation": _gather_act(m),
                "n_slots": m.n_slots}
    if isinstance(m, ToSlots):
        return {"kind": "ToSlots", "n_inputs": m.n_inputs, "n_slots": m.n_slots}
    return {"kind": type(m).__name__}


def _narrow(t: torch.Tensor) -> torch.Tensor:
    """A tensor of non-negative integers in the smallest of uint8, int16, int32, int64 that holds it."""
    top = int(t.max()) if t.numel() else 0
    for d in (torch.uint8, torch.int16, torch.int32):
        if top <= torch.iinfo(d).max:
            return t.to(d)
    return t.to(torch.int64)


def _pack(mods: list[nn.Module]) -> dict[str, torch.Tensor]:
    """The network's numbers as five flat tensors, layer after layer.

    ``weight``/``bias``: each Linear's weight (row-major) and bias; each
    gather bucket's kept entries (row-major) and bias.  ``index``: the slot
    read by each kept entry.  ``count``: per gather neuron, how many entries
    of its row are kept; the rest of the row is padding (slot 0, weight 0),
    which is therefore left out.  ``slot``: per gather neuron, the slot it
    writes (none for the final read-out).
    """
    weight, bias, index, count, slot = [], [], [], [], []
    for m in mods:
        _describe(m)  # refuses unknown layers
        if isinstance(m, nn.Linear):
            weight.append(m.weight.detach().reshape(-1))
            bias.append(m.bias.detach())
        elif isinstance(m, GatherLayer):
            for i in range(len(m.shapes)):
                idx, w, b = (t.detach() for t in m.bucket(i))
                k = idx.shape[1]
                pad = (w == 0) & (idx == 0)
                c = k - pad.flip(1).to(torch.int64).cumprod(1).sum(1)  # drop the trailing padding only
                keep = torch.arange(k) < c[:, None]
                weight.append(w[keep])
                index.append(idx[keep])
                count.append(c)
                bias.append(b)
            if not m.final:
                slot.append(m.slots)

    def cat(ts: list[torch.Tensor], dtype: torch.dtype) -> torch.Tensor:
        return torch.cat([t.reshape(-1).to(dtype) for t in ts]) if ts else torch.zeros(0, dtype=dtype)

    dtype = next((t.dtype for t in weight + bias), torch.float32)
    return {
        "weight": cat(weight, dtype).contiguous(),
        "bias": cat(bias, dtype).contiguous(),
        "index": _narrow(cat(index, torch.int64)),
        "count": _narrow(cat(count, torch.int64)),
        "slot": _narrow(cat(slot, torch.int64)),
    }


class _Cursor:
    """Reads consecutive slices of one flat tensor; running short is a damaged file."""

    def __init__(self, name: str, t: torch.Tensor) -> None:
        self.name, self.t, self.at = name, t.reshape(-1), 0

    def take(self, n: int) -> torch.Tensor:
        if n < 0 or self.at + n > self.t.numel():
            raise ValueError(f"tensor '{self.name}' holds {self.t.numel()} entries, the layers need more")
        self.at += n
        return self.t[self.at - n:self.at]

    def done(self) -> None:
        if self.at != self.t.numel():
            raise ValueError(f"tensor '{self.name}' holds {self.t.numel()} entries, the layers use {self.at}")


def _unpack(meta: dict, tensors: dict) -> nn.Sequential:
    """The layers described by ``meta["layers"]``, filled from the five flat tensors."""
    dtype = _DTYPES[meta["dtype"]]
    for key in ("weight", "bias", "index", "count", "slot"):
        if not isinstance(tensors.get(key), torch.Tensor):
            raise ValueError(f"tensor '{key}' is missing")
    weight, bias = _Cursor("weight", tensors["weight"]), _Cursor("bias", tensors["bias"])
    index, count = _Cursor("index", tensors["index"].long()), _Cursor("count", tensors["count"].long())
    slot = _Cursor("slot", tensors["slot"].long())
    names = iter(meta["neuron_names"])
    mods: list[nn.Module] = []
    for n, layer in enumerate(meta["layers"]):
        kind = layer.get("kind") if isinstance(layer, dict) else None
        if kind == "Linear":
            n_in, n_out = int(layer["in_features"]), int(layer["out_features"])
            lin = empty_linear(n_in, n_out, dtype)
            with torch.no_grad():
                lin.weight.copy_(weight.take(n_in * n_out).reshape(n_out, n_in))
                lin.bias.copy_(bias.take(n_out))
            mods.append(lin)
        elif kind == "ReLU":
            mods.append(nn.ReLU())
        elif kind == "Step":
            mods.append(Step())
        elif kind == "ToSlots":
            mods.append(ToSlots(int(layer["n_inputs"]), int(layer["n_slots"])))
        elif kind == "GatherLayer":
            act, n_slots = layer["activation"], int(layer["n_slots"])
            if act not in (STEP, RELU, None):
                raise ValueError(f"layer {n}: unknown activation {act!r}")
            layer_names = list(next(names)) if act is not None else list(meta["output_names"])
            shapes = [(int(m), int(k)) for m, k in layer["shapes"]]
            if sum(m for m, _ in shapes) != len(layer_names):
                raise ValueError(f"layer {n}: {sum(m for m, _ in shapes)} neurons but {len(layer_names)} names")
            buckets, at = [], 0
            for m, k in shapes:
                c = count.take(m)
                if m and (int(c.min()) < 0 or int(c.max()) > k):
                    raise ValueError(f"layer {n}: a row keeps more entries than its width {k}")
                kept = int(c.sum())
                keep = torch.arange(k) < c[:, None]
                idx = torch.zeros(m, k, dtype=torch.long)
                idx[keep] = index.take(kept)
                w = torch.zeros(m, k, dtype=torch.float64)
                w[keep] = weight.take(kept).double()
                if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= n_slots):
                    raise ValueError(f"layer {n}: a slot index is outside 0..{n_slots - 1}")
                slots = tuple(slot.take(m).tolist()) if act is not None else ()
                if slots and (min(slots) < 0 or max(slots) >= n_slots):
                    raise ValueError(f"layer {n}: a written slot is outside 0..{n_slots - 1}")
                buckets.append(Bucket(tuple(map(tuple, idx.tolist())), tuple(map(tuple, w.tolist())),
                                      tuple(bias.take(m).double().tolist()), tuple(layer_names[at:at + m]), slots))
                at += m
            mods.append(GatherLayer(SparsePlan(tuple(buckets), act, n_slots), dtype))
        else:
            raise ValueError(f"layer {n}: unknown layer kind {kind!r}")
    for cursor in (weight, bias, index, count, slot):
        cursor.done()
    return nn.Sequential(*mods)


def _check_metadata(meta: object) -> dict:
    """``meta`` if it has every field with the right type; ``ValueError`` naming the first that does not."""
    if not isinstance(meta, dict):
        raise ValueError(f"metadata is a {type(meta).__name__}, not a dict")

    def strings(v: object) -> bool:
        return isinstance(v, list) and all(isinstance(s, str) for s in v)

    checks = {
        "layout": lambda v: v in (MLP, SPARSE),
        "input_names": strings,
        "output_names": strings,
        "neuron_names": lambda v: isinstance(v, list) and all(strings(n) for n in v),
        "activation": lambda v: v in (RELU, STEP),
        "output_step": lambda v: isinstance(v, bool),
        "passthroughs": lambda v: isinstance(v, int),
        "layers": lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v),
    }
    if meta.get("format") == FORMAT:
        checks["dtype"] = lambda v: v in _DTYPES
    for key, ok in checks.items():
        if key not in meta:
            raise ValueError(f"metadata lacks the field '{key}'")
        if not ok(meta[key]):
            raise ValueError(f"metadata field '{key}' has a bad value {str(meta[key])[:60]!r}")
    return meta


def _network(meta: dict, layers: nn.Sequential) -> ThreshNet:
    return ThreshNet(
        layers, tuple(meta["input_names"]), tuple(meta["output_names"]),
        tuple(tuple(n) for n in meta["neuron_names"]), meta["activation"], meta["output_step"],
        meta["passthroughs"], None, meta["layout"],
    )


def _format_error(path: str, found: object, expected: str = FORMAT) -> ValueError:
    if isinstance(found, str) and found.startswith("threshnet-network/"):
        return ValueError(f"{path}: written in format {found!r}, which this threshnet cannot read "
                          f"(it reads {PROGRAM_FORMAT!r} and {FORMAT!r}); upgrade threshnet")
    return ValueError(f"{path}: not a threshnet network file (format marker {found!r}, expected {expected!r})")


def _summary(e: BaseException) -> str:
    """The first sentence of an exception from torch, without terminal escapes."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(e)).strip()
    first = re.split(r"(?<=[^.])\.\s", text.splitlines()[0] if text else "")[0].rstrip(".")
    return first or type(e).__name__


def load(path: str | Path) -> ThreshNet:
    """Load a network saved by :meth:`ThreshNet.save` (either format).

    Raises ``OSError`` when the file cannot be read and ``ValueError``, whose
    message starts with the path, for anything that is not an intact
    threshnet network file (empty, truncated, not a zip archive, a damaged
    member, bad metadata, a wrong format marker, inconsistent tensors).
    """
    p = str(path)
    with open(p, "rb") as f:  # OSError: missing, unreadable, a directory
        empty = not f.read(1)
    if empty:
        raise ValueError(f"{p}: empty file, not a threshnet network")
    try:
        with zipfile.ZipFile(p) as z:
            members = z.namelist()
            damaged = z.testzip()
            meta_member = next((m for m in members if m.endswith("/extra/threshnet.json")), None)
            meta_bytes = z.read(meta_member) if meta_member else None
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError) as e:
        raise ValueError(f"{p}: not a threshnet network file: not a readable zip archive "
                         f"(truncated, or another kind of file): {e}") from None
    if damaged is not None:
        raise ValueError(f"{p}: damaged file: member {damaged!r} fails its checksum")
    if meta_bytes is not None:
        return _load_program(p, meta_bytes)
    if not any(m.endswith("/data.pkl") for m in members):
        raise ValueError(f"{p}: not a threshnet network file: a zip archive without a network in it")
    try:
        obj = torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:  # weights_only refuses anything but tensors and plain values
        raise ValueError(f"{p}: not a threshnet network file: it holds Python objects other than tensors "
                         "and plain values") from None
    except Exception as e:  # torch raises many types here (RuntimeError, EOFError, ...)
        raise ValueError(f"{p}: not a threshnet network file: torch cannot read it ({_summary(e)})") from None
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise _format_error(p, obj.get("format") if isinstance(obj, dict) else None)
    text = obj.get("metadata")
    if not isinstance(text, str):
        raise ValueError(f"{p}: damaged network file: the metadata is not JSON text")
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{p}: bad metadata: not valid JSON (line {e.lineno} column {e.colno}: {e.msg})") from None
    try:
        meta = _check_metadata(meta)
        if meta.get("format") != FORMAT:
            raise ValueError(f"metadata format {meta.get('format')!r} differs from the file's {FORMAT!r}")
        tensors = obj.get("tensors")
        if not isinstance(tensors, dict):
            raise ValueError("no tensors")
        layers = _unpack(meta, tensors)
    except (ValueError, KeyError, TypeError, IndexError, RuntimeError, StopIteration) as e:
        what = str(e) if isinstance(e, ValueError) else f"{type(e).__name__}: {e}"
        raise ValueError(f"{p}: damaged network file: {what}") from None
    return _network(meta, layers)


_OLD_GATHER_KEY = re.compile(r"^(\d+)\.(weights|biases)\.(\d+)$")


def _load_program(p: str, meta_bytes: bytes) -> ThreshNet:
    """A file of the first format: a ``torch.export`` program with ``threshnet.json``."""
    try:
        meta = json.loads(meta_bytes.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError(f"{p}: bad metadata: threshnet.json is not UTF-8") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{p}: bad metadata: threshnet.json is not valid JSON "
                         f"(line {e.lineno} column {e.colno}: {e.msg})") from None
    if not isinstance(meta, dict) or meta.get("format") != PROGRAM_FORMAT:
        raise _format_error(p, meta.get("format") if isinstance(meta, dict) else None, PROGRAM_FORMAT)
    try:
        meta.setdefault("passthroughs", 0)
        meta.setdefault("layout", MLP)
        _check_metadata(meta)
    except ValueError as e:
        raise ValueError(f"{p}: bad metadata: {e}") from None
    try:
        ep = torch.export.load(p)
    except Exception as e:  # torch's deserialiser raises many types
        raise ValueError(f"{p}: damaged network file: torch cannot read the program ({_summary(e)})") from None
    state = {k.removeprefix("layers."): v for k, v in ep.state_dict.items()}
    state.update({k.removeprefix("layers."): v for k, v in getattr(ep, "constants", {}).items()
                  if isinstance(v, torch.Tensor)})
    # Gather layers before 2026-12 kept bucket i's weight and bias in lists: "3.weights.0" is now "3.w0".
    state = {_OLD_GATHER_KEY.sub(lambda m: f"{m[1]}.{m[2][0]}{m[3]}", k): v for k, v in state.items()}
    try:
        mods: list[nn.Module] = []
        names = iter(meta["neuron_names"])
        for i, layer in enumerate(meta["layers"]):
            kind = layer.get("kind")
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
                raise ValueError(f"unknown layer kind {kind!r}")
        seq = nn.Sequential(*mods)
        missing = set(seq.state_dict()) - set(state)
        if missing:
            raise ValueError(f"the program lacks tensors {sorted(missing)[:3]}")
        seq.load_state_dict({k: state[k] for k in seq.state_dict()})
    except (ValueError, KeyError, TypeError, IndexError, RuntimeError, StopIteration) as e:
        what = str(e) if isinstance(e, ValueError) else f"{type(e).__name__}: {e}"
        raise ValueError(f"{p}: damaged network file: {what}") from None
    return _network(meta, seq)


__all__ = ["NetStats", "ThreshNet", "Step", "load", "RELU", "STEP", "MLP", "SPARSE", "FORMAT"]
