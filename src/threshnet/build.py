"""The public ``compile``: run the compiler's stages, build the network, certify its dtype.

``threshnet.compiler`` turns a spec into layer plans (numbers only).  This
module, one level above it, builds the torch modules from the plans into a
:class:`~threshnet.network.ThreshNet` and decides its dtype by one rule:
``threshnet.precision.analyze`` judges the network from its own tensors, and
``compile`` returns the network in the requested dtype only when that
analysis says it is exact there (float32 included); otherwise it refuses with
the analysis' reason.

Soundness: the network is first built in float64, where every plan value
(small integers and half-integers, far below 2**53) is stored exactly, so the
analysis reads the very numbers the plans hold.  It certifies a dtype only if
each weight and bias is representable in it, so the conversion that follows
changes no value, and if every partial sum stays within the dtype's exact
integer range, so the converted network computes what the float64 one does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from .compiler.compiling import Compilation, compile_stages
from .compiler.options import INT_DTYPES, dtype_name
from .compiler.sparse_backend import build_sparse
from .compiler.spec import Spec
from .compiler.torch_backend import build_layers
from .compiler.mapping import STATS
from .compiler.gcpause import without_gc
from .inputs import as_spec
from .network import ThreshNet
from .precision import TORCH_DTYPES, analyze

#: The dtype a network is built in before its dtype is certified (exact for every plan value).
BUILD_DTYPE = torch.float64


def compile(spec: Spec | str | Path, activation: str = "relu", *, output_step: bool = True,
            layout: str = "auto", progress: bool = False, optimize: bool = True,
            dtype: torch.dtype | str = torch.float32, strict: bool = False,
            verify: bool | None = None, objective: str = "depth", max_weight: int | None = None) -> ThreshNet:
    """Compile a spec to an exact :class:`~threshnet.network.ThreshNet`.

    ``activation`` is ``"relu"`` or ``"step"``; ``output_step=False`` (relu
    only) leaves out the final step, so the network is pure ReLU.  ``layout``
    is ``"mlp"`` (dense Linear layers), ``"sparse"`` (index-gathering layers,
    for large circuits) or ``"auto"``.  ``progress=True`` shows a bar on
    stderr for compiles that take over a second.  ``dtype`` (float64, float32,
    float16 or bfloat16) is refused, with the first offending neuron, unless
    ``threshnet.precision.analyze`` certifies the network exact in it.
    ``strict=True`` makes the network reject inputs other than 0 and 1.
    ``verify=True`` checks every intermediate form (see
    ``threshnet.compiler.compiling``).  A word-level spec (v2) is synthesized
    for ``dtype``: ``objective="depth"`` (default) builds the fewest layers
    whose every gate is exact in it, ``"size"`` the fewest gates;
    ``max_weight`` caps every weight (``threshnet.compiler.synth``).
    """
    _float_dtype(dtype)
    if activation == "step" and not output_step:
        raise ValueError("output_step=False needs activation='relu' (a step network ends in a step)")
    return compile_and_build(as_spec(spec), activation, output_step=output_step, layout=layout,
                             progress=progress, optimize=optimize, verify=verify, dtype=dtype,
                             objective=objective, max_weight=max_weight, strict=strict)[1]


class NotExact(ValueError):
    """The precision analysis does not certify the network in the requested dtype."""


def compile_and_build(spec: Spec, activation: str = "relu", *, dtype: torch.dtype | str = torch.float32,
                      strict: bool = False, **options: Any) -> tuple[Compilation, ThreshNet]:
    """``compile_stages`` then :func:`build`, the one home of the retry rule: when the network is not
    exact in ``dtype`` and the mapping used wide gates (recovered adders, threshold cones), compile again
    without them (``wide=False``) before refusing."""
    name = _float_dtype(dtype)
    c = compile_stages(spec, activation, dtype=name, **options)
    try:
        return c, build(c, dtype, strict=strict)
    except NotExact:
        stats = c.mapped_graph.graph.get(STATS)
        if stats is None or not stats.wide:  # no wide gates of the mapping to leave out
            raise
    c = compile_stages(spec, activation, dtype=name, wide=False, **options)
    return c, build(c, dtype, strict=strict)


@without_gc
def build(c: Compilation, dtype: torch.dtype | str = torch.float32, *, strict: bool = False) -> ThreshNet:
    """The network of a finished compile, in ``dtype`` if the precision analysis certifies it.

    ``compile`` is ``compile_stages`` then this; a caller that also wants the
    stages (``ir.write_dumps`` for ``--dump-ir``) runs the two itself.
    """
    name = _float_dtype(dtype)
    if c.layout == "mlp":
        layers = build_layers(list(c.plans), BUILD_DTYPE)
        names = tuple(p.names for p in c.plans)
        passthroughs = sum(p.passthroughs for p in c.plans)
    else:
        layers = build_sparse(list(c.plans), len(c.spec.inputs), BUILD_DTYPE)
        names = tuple(tuple(n for b in p.buckets for n in b.names) for p in c.plans[:-1])
        passthroughs = 0
    net = ThreshNet(layers, c.spec.inputs, c.spec.outputs, names, c.activation, c.output_step, passthroughs,
                    c.spec, c.layout, strict)
    report = analyze(net)
    if not report.exact[name]:
        raise NotExact(f"the network is not exact in {name}: {report.reasons[name]}")
    return net.to(TORCH_DTYPES[name])


def _float_dtype(dtype: torch.dtype | str) -> str:
    """The canonical name of a float dtype; integer and unknown dtypes are refused."""
    name = dtype_name(dtype)
    if name in INT_DTYPES:
        raise ValueError(f"dtype {name}: torch layers compute in floats; for integer arithmetic use "
                         f"threshnet.precision.integer_program(net) (weights and biases scaled by 2)")
    return name
