"""Exports: ONNX (optional extra ``threshnet[onnx]``) and Graphviz drawings.

ONNX in every dtype
-------------------
The graph is written node by node from the network's own layers
(``onnx.helper``; no tracing), so the graph input ``x``, every weight and
every intermediate tensor share one element type: float64 (DOUBLE), float32
(FLOAT) or float16 (FLOAT16).  A dense layer is a ``Gemm``; the step is
``Greater`` then ``Cast``; a sparse layer gathers its slots (``Gather``),
takes one batched product per neuron (``MatMul``, ``Add``) and writes its
slots back (``ScatterND``).  These compute the same sums as torch, exactly:
every partial sum of a network that ``compile`` accepted in that dtype is
an integer (or half integer) within the dtype's exact range, so no order of
summation can round it.  ``ONNX_DTYPES`` lists the dtypes that export
offers; bfloat16 is refused before anything is written: the
ONNX checker rejects the sparse graph (ConstantOfShape has no bfloat16
output) and onnxruntime has no CPU kernel for a bfloat16 Gemm.
``tests/test_onnx.py`` runs every offered dtype through
``onnx.checker.check_model(full_check=True)`` and onnxruntime.

Drawings
--------
:func:`to_dot` walks the layered graph's nodes and edges in sorted order with
plain loops (no recursion), so any network within ``DRAW_LIMIT`` gates draws.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import networkx as nx
import numpy as np
import torch
from torch import nn

from .compiler.keys import DEPTH, INPUTS, KIND, KIND_INPUT, LAYER, NAME, OUTPUTS, ROLE, THRESHOLD, WEIGHT
from .compiler.runtime import GatherLayer, Step, ToSlots
from .network import ThreshNet

#: Largest threshold graph (gates) that `draw` renders; beyond it the picture is unreadable.
DRAW_LIMIT = 1500
ONNX_OPSET = 18
#: The ONNX IR version written: 10, the newest that every onnxruntime threshnet allows (>= 1.18) loads.
ONNX_IR_VERSION = 10
#: dtypes of a network that export_onnx writes (see the module docstring for bfloat16).
ONNX_DTYPES = {torch.float64: "float64", torch.float32: "float32", torch.float16: "float16"}


def onnx_dtype(net: ThreshNet) -> torch.dtype:
    """The single dtype of ``net``'s parameters, or a ValueError when ONNX export cannot carry it."""
    dtypes = {q.dtype for q in net.parameters() if q.dtype.is_floating_point}
    if len(dtypes) > 1:
        names = ", ".join(sorted(str(d).removeprefix("torch.") for d in dtypes))
        raise ValueError(f"cannot export to ONNX: the network mixes dtypes ({names}); convert it to one")
    dtype = dtypes.pop() if dtypes else torch.float32
    if dtype not in ONNX_DTYPES:
        raise ValueError(f"cannot export a {str(dtype).removeprefix('torch.')} network to ONNX: onnxruntime has no "
                         f"CPU kernels for it and the ONNX checker rejects parts of the graph; export in one of "
                         f"{', '.join(ONNX_DTYPES.values())}")
    return dtype


def export_onnx(net: ThreshNet, path: str | Path) -> None:
    """Write ``net`` as an ONNX model with a dynamic batch dimension.

    The graph input is ``x`` (batch, n_inputs) and the output ``y``
    (batch, n_outputs), both in the network's dtype (float64, float32 or
    float16; anything else is a ValueError before a file is written); port
    names are in the model's metadata (``threshnet.input_names`` /
    ``threshnet.output_names``, JSON lists).
    """
    try:
        import onnx
    except ImportError:
        raise RuntimeError("ONNX export needs the optional extra: pip install 'threshnet[onnx]'") from None
    dtype = onnx_dtype(net)
    model = _OnnxGraph(onnx, dtype).model(net.layers, len(net.input_names), len(net.output_names))
    meta = {"threshnet.input_names": json.dumps(list(net.input_names)),
            "threshnet.output_names": json.dumps(list(net.output_names)),
            "threshnet.activation": net.activation,
            "threshnet.layout": net.layout,
            "threshnet.dtype": ONNX_DTYPES[dtype]}
    for k, v in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.save(model, str(path))


class _OnnxGraph:
    """The ONNX graph of a network's layers, node by node (see the module docstring)."""

    def __init__(self, onnx, dtype: torch.dtype) -> None:
        self.h = onnx.helper
        self.dtype = dtype
        self.elem = {torch.float64: onnx.TensorProto.DOUBLE, torch.float32: onnx.TensorProto.FLOAT,
                     torch.float16: onnx.TensorProto.FLOAT16}[dtype]
        self.nodes: list = []
        self.inits: list = []
        self.count = 0
        self.zero: str | None = None  # one scalar 0 initializer, shared by every step

    def name(self, stem: str) -> str:
        self.count += 1
        return f"{stem}_{self.count}"

    def const(self, stem: str, value) -> str:
        from onnx import numpy_helper

        n = self.name(stem)
        self.inits.append(numpy_helper.from_array(value, n))
        return n

    def param(self, stem: str, t: torch.Tensor):
        return self.const(stem, t.detach().to(self.dtype).cpu().numpy())

    def op(self, kind: str, inputs: list[str], **attrs) -> str:
        out = self.name(kind.lower())
        self.nodes.append(self.h.make_node(kind, inputs, [out], name=out, **attrs))
        return out

    def activation(self, mod: nn.Module, z: str) -> str:
        if isinstance(mod, Step):  # (z > 0) in the network's dtype
            if self.zero is None:
                self.zero = self.param("zero", torch.zeros(()))
            return self.op("Cast", [self.op("Greater", [z, self.zero])], to=self.elem)
        if isinstance(mod, nn.ReLU):
            return self.op("Relu", [z])
        if isinstance(mod, nn.Identity):
            return z
        raise ValueError(f"cannot export a {type(mod).__name__} layer to ONNX")

    def model(self, layers: nn.Sequential, n_in: int, n_out: int):
        i64 = np.int64
        cur = "x"
        for mod in layers:
            if isinstance(mod, nn.Linear):  # x @ W.T + b
                ins = [cur, self.param("weight", mod.weight)]
                if mod.bias is not None:
                    ins.append(self.param("bias", mod.bias))
                cur = self.op("Gemm", ins, transB=1)
            elif isinstance(mod, ToSlots):  # (n_slots, batch): x.T, then zero rows
                cur = self.op("Transpose", [cur], perm=[1, 0])
                pad = mod.n_slots - mod.n_inputs
                if pad:
                    batch = self.op("Slice", [self.op("Shape", [cur]), self.const("one", np.array([1], i64)),
                                              self.const("two", np.array([2], i64))])
                    shape = self.op("Concat", [self.const("pad", np.array([pad], i64)), batch], axis=0)
                    zeros = self.op("ConstantOfShape", [shape],
                                    value=self.h.make_tensor("zero", self.elem, [1], [0]))
                    cur = self.op("Concat", [cur, zeros], axis=0)
            elif isinstance(mod, GatherLayer):
                parts = []
                for i, (m, k) in enumerate(mod.shapes):  # act(W (m,1,k) @ slots[idx] (m,k,batch) + b)
                    idx, w, b = mod.bucket(i)
                    x = self.op("Gather", [cur, self.const("index", idx.reshape(-1).numpy().astype(i64))], axis=0)
                    x = self.op("Reshape", [x, self.const("shape", np.array([m, k, -1], i64))])
                    z = self.op("MatMul", [self.param("weight", w.reshape(m, 1, k)), x])
                    z = self.op("Add", [z, self.param("bias", b.reshape(m, 1, 1))])
                    z = self.op("Reshape", [z, self.const("shape", np.array([m, -1], i64))])
                    parts.append(self.activation(mod.act, z))
                new = self.op("Concat", parts, axis=0) if len(parts) > 1 else parts[0]
                if mod.final:
                    cur = self.op("Transpose", [new], perm=[1, 0])
                else:
                    slots = self.const("slots", mod.slots.numpy().astype(i64).reshape(-1, 1))
                    cur = self.op("ScatterND", [cur, slots, new])
            else:
                cur = self.activation(mod, cur)
        if self.nodes and list(self.nodes[-1].output) == [cur]:  # the last node writes y
            self.nodes[-1].output[0] = "y"
        else:
            self.nodes.append(self.h.make_node("Identity", [cur], ["y"], name="y"))
        h = self.h
        graph = h.make_graph(self.nodes, "threshnet", [h.make_tensor_value_info("x", self.elem, ["batch", n_in])],
                             [h.make_tensor_value_info("y", self.elem, ["batch", n_out])], self.inits)
        return h.make_model(graph, opset_imports=[h.make_opsetid("", ONNX_OPSET)], producer_name="threshnet",
                            ir_version=ONNX_IR_VERSION)


def to_dot(g: nx.DiGraph) -> str:
    """DOT text of a layered threshold graph: one cluster per layer, labelled neurons."""
    if g.number_of_nodes() - len(g.graph[INPUTS]) > DRAW_LIMIT:
        raise ValueError(
            f"the network has {g.number_of_nodes() - len(g.graph[INPUTS])} gates; drawing is limited to "
            f"{DRAW_LIMIT} (a larger picture is unreadable)")
    port = {v: p for p, v in g.graph[OUTPUTS]}
    by_layer: dict[int, list[int]] = {}
    for v in sorted(g.nodes):
        by_layer.setdefault(g.nodes[v].get(LAYER, 0), []).append(v)

    def q(*parts: str) -> str:  # a DOT string, parts on separate lines
        esc = [p.replace("\\", "\\\\").replace('"', '\\"') for p in parts]
        return '"' + "\\n".join(esc) + '"'

    lines = ["digraph threshnet {", "  rankdir=LR;", "  node [shape=box, fontname=Helvetica, fontsize=10];"]
    for l in sorted(by_layer):
        lines.append(f"  subgraph cluster_{l} {{")
        lines.append(f"    label={q('inputs' if l == 0 else f'layer {l}')}; style=rounded; color=gray;")
        for v in by_layer[l]:
            d = g.nodes[v]
            if d[KIND] == KIND_INPUT:
                lines.append(f"    n{v} [label={q(d[NAME])}, shape=ellipse];")
                continue
            label = q(d[NAME] or f"g{v}", f"{d[ROLE]}  >= {d[THRESHOLD]}")
            extra = ", peripheries=2" if v in port else ""
            lines.append(f"    n{v} [label={label}{extra}];")
        lines.append("  }")
    for u, v, e in sorted(g.edges(data=True)):
        w = e[WEIGHT]
        lines.append(f"  n{u} -> n{v} [label={q(('+' if w > 0 else '') + str(w))}"
                     f"{', style=dashed' if w < 0 else ''}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def graphviz_dot() -> str | None:
    """Graphviz's ``dot``: ``$THRESHNET_DOT`` when set (empty: none), else ``dot`` on the PATH."""
    exe = os.environ.get("THRESHNET_DOT")
    if exe is None:
        return shutil.which("dot")
    return exe or None


def draw(g: nx.DiGraph, path: str | Path) -> Path:
    """Write ``path`` (.dot, .svg, .png or .pdf).  Without Graphviz, writes DOT next to it."""
    path = Path(path)
    dot = to_dot(g)
    fmt = path.suffix.lstrip(".").lower()
    if fmt in ("dot", "gv", ""):
        path.write_text(dot)
        return path
    exe = graphviz_dot()
    if exe is None:
        fallback = path.with_suffix(".dot")
        fallback.write_text(dot)
        return fallback
    subprocess.run([exe, f"-T{fmt}", "-o", str(path)], input=dot, text=True, check=True, capture_output=True)
    return path


__all__ = ["export_onnx", "onnx_dtype", "ONNX_DTYPES", "to_dot", "draw", "DRAW_LIMIT", "DEPTH"]
