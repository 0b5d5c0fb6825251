"""The driver: parse -> lower (or synthesize) -> mapping -> threshold -> layering -> backend.

A spec that keeps a word program (``spec.words``, the v2 language) with word
operators is not lowered bit by bit: ``synth.synthesize`` builds its
threshold gates directly (a ``mapped`` graph), sized for the target
``dtype`` and the ``objective`` (``"depth"`` or ``"size"``).

:func:`compile_stages` runs the stages in order and keeps every intermediate
form in a :class:`Compilation`.  With verification on (``verify=True``, or
the environment variable ``THRESHNET_VERIFY`` set to anything but ``""`` or
``"0"``) each stage's result is checked by :func:`threshnet.compiler.ir.verify`
before the next stage reads it, so a broken graph fails with an
:class:`~threshnet.compiler.ir.IRError` naming the stage that made it.

Building a ``torch`` network from the plans, and choosing its dtype, is
``threshnet.build.compile``: this package imports nothing above it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

import networkx as nx

from .gcpause import without_gc
from .ir import verify as verify_ir
from .keys import INPUTS, KIND, KIND_INPUT, OUTPUTS
from .layering import asap_layers, depth_of, last_read, layer
from .lower import lower
from .mapping import map_threshold
from .options import ACTIVATIONS, FLOAT_BITS, LAYOUTS, OBJECTIVES, choice, dtype_name
from .parse import parse
from .recover import recover_adders
from .progress import stages
from .sparse_backend import SparsePlan, plan_sparse
from .spec import Spec
from .synth import budget_for, synthesize
from .words import is_bit_logic
from .threshold import threshold
from .torch_backend import LayerPlan, plan_mlp

#: layout="auto" picks the dense MLP while its weight matrices (estimated
#: from as-soon-as-possible layers, pass-throughs included) hold at most this
#: many entries, about 16 MB at fp32; beyond it, the sparse layout.
AUTO_DENSE_LIMIT = 4_000_000
#: layout="mlp" refuses a network whose dense weight matrices would hold more than this many
#: entries (2 GiB at float64): the sparse layout holds the same network in memory proportional to it.
MLP_MAX_ENTRIES = 1 << 28
#: The environment variable that turns verification on when ``verify`` is None.
VERIFY_ENV = "THRESHNET_VERIFY"

STAGES = ["parse", "lower", "mapping", "threshold", "layering", "backend"]


@dataclass(frozen=True)
class Compilation:
    """Every intermediate form of one compile, for inspection and golden dumps.

    ``threshold_graph`` is the layered graph (layering rewrites the threshold
    stage's graph in place); ``ir.dump_all`` rebuilds the unlayered one.
    """

    spec: Spec
    bool_graph: nx.DiGraph
    mapped_graph: nx.DiGraph
    threshold_graph: nx.DiGraph
    plans: tuple[LayerPlan, ...] | tuple[SparsePlan, ...]
    layout: str = "mlp"
    activation: str = "relu"
    output_step: bool = True


def verify_requested(verify: bool | None) -> bool:
    """``verify`` itself, or when None whether ``THRESHNET_VERIFY`` is set to something other than 0."""
    if verify is not None:
        return bool(verify)
    return os.environ.get(VERIFY_ENV, "") not in ("", "0")


def _checker(on: bool) -> Callable[..., Any]:
    """``check(ir, stage, **ports)``: verifies ``ir`` when ``on``, and returns it."""
    def check(ir: Any, stage: str, **ports: int) -> Any:
        if on:
            verify_ir(ir, stage, **ports)
        return ir

    return check


def as_spec_text(spec: Spec | str) -> Spec:
    """A Spec, or spec text parsed; files are read above the compiler (``threshnet.build.as_spec``)."""
    if isinstance(spec, Spec):
        return spec
    if isinstance(spec, str):
        return parse(spec)
    raise TypeError(f"expected a Spec or spec text, got {type(spec).__name__} "
                    f"(read files with threshnet.read or threshnet.build.as_spec)")


@without_gc
def compile_stages(spec: Spec | str, activation: str = "relu", *, output_step: bool = True,
                   layout: str = "auto", progress: bool = False, optimize: bool = True,
                   verify: bool | None = None, dtype: str = "float32", objective: str = "depth",
                   max_weight: int | None = None, wide: bool = True) -> Compilation:
    """Run every stage and keep every intermediate form.

    ``optimize=False`` skips the threshold mapping (one gate per AND/OR).
    ``wide=False`` keeps the mapping but leaves out its wide gates (adder
    recovery and threshold cones): ``threshnet.compile`` retries that way when
    their weights make the network inexact in the dtype.
    ``verify`` checks each stage's IR (see the module docstring).  Before the
    mapping, ripple adders of bit-level specs are rebuilt as carry-lookahead
    adders exact in ``dtype`` (:mod:`.recover`).  ``dtype``,
    ``objective`` and ``max_weight`` steer the synthesis of word programs
    (``threshnet.compiler.synth``); ``objective`` also steers the threshold
    mapping of bit-level specs (``mapping.map_threshold``).
    """
    choice("layout", layout, LAYOUTS)
    choice("activation", activation, ACTIVATIONS)
    choice("objective", objective, OBJECTIVES)
    dtype = dtype_name(dtype)
    check = _checker(verify_requested(verify))
    with stages(STAGES, progress) as start:
        start("parse")
        spec = check(as_spec_text(spec), "spec")
        ports = {"n_inputs": len(spec.inputs), "n_outputs": len(spec.outputs)}
        start("lower")
        words = spec.words is not None and not is_bit_logic(spec.words)
        if words:
            bg = check(synthesize(spec.words, dtype=dtype if dtype in FLOAT_BITS else "float32",
                                  objective=objective, max_weight=max_weight, activation=activation),
                       "mapped", **ports)
        else:
            bg = check(lower(spec), "boolean", **ports)
        start("mapping")
        rg = bg  # the graph the mapper covers: ripple adders rebuilt as carry-lookahead (recover)
        if optimize and not words and wide:
            rg = recover_adders(bg, dtype=dtype, objective=objective, activation=activation)
            if rg is not bg:
                check(rg, "mapped", **ports)
        limit = cone_limit(dtype, activation) if wide else None
        mg = check(map_threshold(rg, objective=objective, threshold_limit=limit), "mapped", **ports) \
            if optimize and not words else bg
        start("threshold")
        tg = check(threshold(mg), "threshold", **ports)
        if layout == "auto":
            layout = "mlp" if dense_size_estimate(tg) <= AUTO_DENSE_LIMIT else "sparse"
        elif layout == "mlp" and (entries := dense_size_estimate(tg)) > MLP_MAX_ENTRIES:
            raise ValueError(f"layout 'mlp' would need about {entries:,} dense weights "
                             f"({entries * 8 / 2**30:,.1f} GiB at float64); use layout 'sparse' or 'auto'")
        start("layering")
        tg = check(layer(tg, layout=layout), "layered", **ports)
        start("backend")
        if layout == "sparse":
            plans: tuple = check(tuple(plan_sparse(tg, activation)), "sparse", **ports)
        else:
            plans = check(tuple(plan_mlp(tg, activation, output_step)), "dense", **ports)
            if mg is not bg:  # pass-throughs can undo the mapping's savings: keep the smaller net
                tg0 = check(layer(check(threshold(rg), "threshold", **ports), layout=layout), "layered", **ports)
                plans0 = check(tuple(plan_mlp(tg0, activation, output_step)), "dense", **ports)
                if _size(plans0) < _size(plans):
                    mg, tg, plans = rg, tg0, plans0
    return Compilation(spec, bg, mg, tg, plans, layout, activation, output_step)


def _size(plans: tuple[LayerPlan, ...]) -> tuple[int, int]:
    """(neurons, layers) of dense plans."""
    return sum(len(p.bias) for p in plans), len(plans)


def cone_limit(dtype: str, activation: str = "step") -> int | None:
    """The partial-sum bound of the mapper's wide threshold cones: with step neurons a quarter of the
    dtype's budget.  None (no cones) with ReLU: there a wide gate is two neurons and each reader sums
    its weight times the gate's whole pre-activation range, so a cone's large weights would cost the
    network its exactness in the small dtypes (ISCAS c6288: bfloat16) for a few neurons."""
    if activation != "step":
        return None
    return budget_for(dtype if dtype in FLOAT_BITS else "float32") // 4


def dense_size_estimate(tg: nx.DiGraph) -> int:
    """Entries of the dense weight matrices under as-soon-as-possible layers."""
    y = asap_layers(tg)
    depth = depth_of(tg, y)
    owned = {v for _, v in tg.graph[OUTPUTS]}
    width = [0] * (depth + 2)
    width[0] = len(tg.graph[INPUTS])
    diff = [0] * (depth + 3)
    for v in tg.nodes:
        if tg.nodes[v][KIND] != KIND_INPUT:
            width[y[v]] += 1
        r = last_read(tg, y, depth, owned, v)
        if r is not None and r - 1 > y[v]:
            diff[y[v] + 1] += 1
            diff[min(r, depth + 1)] -= 1
    run = 0
    for l in range(1, depth + 1):
        run += diff[l]
        width[l] += run
    return sum(width[l] * width[l - 1] for l in range(1, depth + 1))
