"""Exports: ONNX (optional extra ``threshnet[onnx]``) and Graphviz drawings.

ONNX in every dtype
-------------------
The model is traced from the network's own layers with an example input in
the network's own dtype, so the graph input ``x``, every weight and every
intermediate tensor share one element type: float64 (DOUBLE), float32
(FLOAT) or float16 (FLOAT16).  The operators torch exports for these layers
(Gemm, Relu, comparisons and casts for the step, gathers and batched
products for the sparse layout) compute the same sums as torch, exactly:
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

import io
import json
import logging
import os
import shutil
import subprocess
import warnings
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import networkx as nx
import torch

from .compiler.keys import DEPTH, INPUTS, KIND, KIND_INPUT, LAYER, NAME, OUTPUTS, ROLE, THRESHOLD, WEIGHT
from .network import ThreshNet

#: Largest threshold graph (gates) that `draw` renders; beyond it the picture is unreadable.
DRAW_LIMIT = 1500
ONNX_OPSET = 18
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
    layers = net.layers.eval()
    example = torch.zeros(2, len(net.input_names), dtype=dtype)
    batch = torch.export.Dim("batch", min=1)
    quiet = io.StringIO()
    loggers = [logging.getLogger(n) for n in ("torch.onnx", "torch._dynamo", "torch.export", "onnxscript")]
    levels = [lg.level for lg in loggers]
    try:
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        with warnings.catch_warnings(), redirect_stdout(quiet), redirect_stderr(quiet):
            warnings.simplefilter("ignore")
            prog = torch.onnx.export(layers, (example,), input_names=["x"], output_names=["y"],
                                     dynamo=True, dynamic_shapes=({0: batch},), opset_version=ONNX_OPSET,
                                     verbose=False)
    finally:
        for lg, lv in zip(loggers, levels):
            lg.setLevel(lv)
    model = prog.model_proto
    meta = {"threshnet.input_names": json.dumps(list(net.input_names)),
            "threshnet.output_names": json.dumps(list(net.output_names)),
            "threshnet.activation": net.activation,
            "threshnet.layout": net.layout,
            "threshnet.dtype": ONNX_DTYPES[dtype]}
    for k, v in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.save(model, str(path))


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
