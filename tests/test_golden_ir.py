"""Golden dumps of every intermediate form for a few small examples.

For each example there are four files in ``tests/golden/ir``:
``NAME.bool.txt`` (``dump_bool`` of the lowered graph), ``NAME.mapped.txt``
(the threshold-mapped boolean graph, weights shown), ``NAME.threshold.txt``
(``dump_threshold`` after layering, so it shows layers) and
``NAME.plans.txt`` (every dense layer's neurons, for each activation mode).
Regenerate with ``THRESHNET_REGEN_GOLDEN=1`` after a deliberate change, and
review the diff: it shows exactly what the compiler now does differently.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from threshnet.compiler.compiling import compile_stages
from threshnet.compiler.keys import INPUTS, NAME, NEG, OP, OUTPUTS, THRESHOLD, WEIGHT
from threshnet.compiler.lower import dump_bool
from threshnet.compiler.mapping import OP_THRESHOLD
from threshnet.compiler.threshold import dump_threshold

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "ir"
REGEN = os.environ.get("THRESHNET_REGEN_GOLDEN") == "1"
EXAMPLES = ["half_adder", "full_adder", "mux4"]
MODES = [("relu", True), ("step", True), ("relu", False)]


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def dump_mapped(g) -> str:
    """Like ``dump_bool``, but threshold nodes show their weights and threshold."""
    lines = []
    for v in sorted(g.nodes):
        d = g.nodes[v]
        note = f"  # {d[NAME]}" if d.get(NAME) else ""
        if v in g.graph[INPUTS]:
            lines.append(f"{v} = input {d[NAME]}")
            continue
        edges = sorted(g.in_edges(v, data=True))
        if d[OP] == OP_THRESHOLD:
            terms = " ".join(f"{'+' if e[WEIGHT] > 0 else '-'}{abs(e[WEIGHT])}*{'~' if e[NEG] else ''}{u}"
                             for u, _, e in edges)
            lines.append(f"{v} = [{terms} >= {d[THRESHOLD]}]{note}")
        else:
            args = ", ".join(("~" if e[NEG] else "") + str(u) for u, _, e in edges)
            lines.append(f"{v} = {d[OP]}({args}){note}")
    for o, v, neg in g.graph[OUTPUTS]:
        lines.append(f"output {o} = {'~' if neg else ''}{v}")
    return "\n".join(lines) + "\n"


def dump_plans(plans, input_names) -> str:
    """Each Linear: its shape and activation, then one line per neuron, columns named."""
    lines = []
    cols = list(input_names)
    for i, p in enumerate(plans):
        act = p.activation or "linear"
        lines.append(f"layer {i + 1}: Linear({p.in_features} -> {len(p.bias)}), {act}, "
                     f"{p.passthroughs} pass-through(s)")
        assert p.in_features == len(cols)
        width = max(len(n) for n in p.names)
        for row, bias, name in zip(p.weight, p.bias, p.names):
            terms = " ".join(f"{'+' if c > 0 else '-'}{_num(abs(c))}*{cols[j]}" for j, c in row)
            lines.append(f"  {name.ljust(width)} = {act}({terms or '0'} {'+' if bias >= 0 else '-'} "
                         f"{_num(abs(bias))})")
        cols = list(p.names)
    return "\n".join(lines) + "\n"


def _dumps(name: str) -> dict[str, str]:
    text = (ROOT / "examples" / f"{name}.bool").read_text()
    c = compile_stages(text, layout="mlp")
    plans = []
    for activation, output_step in MODES:
        m = compile_stages(text, activation, output_step=output_step, layout="mlp")
        assert dump_threshold(m.threshold_graph) == dump_threshold(c.threshold_graph)
        plans.append(f"## activation={activation} output_step={output_step}\n"
                     + dump_plans(m.plans, m.spec.inputs))
    return {
        "bool": dump_bool(c.bool_graph),
        "mapped": dump_mapped(c.mapped_graph),
        "threshold": dump_threshold(c.threshold_graph),
        "plans": "\n".join(plans),
    }


@pytest.mark.parametrize("name", EXAMPLES)
def test_ir_golden(name):
    for stage, got in _dumps(name).items():
        path = GOLDEN / f"{name}.{stage}.txt"
        if REGEN:
            path.write_text(got, encoding="utf-8", newline="\n")
        assert path.exists(), f"missing {path}; run with THRESHNET_REGEN_GOLDEN=1"
        assert got == path.read_text(encoding="utf-8"), f"{path.name} changed (THRESHNET_REGEN_GOLDEN=1 rewrites it)"


def test_no_stray_golden_files():
    expected = {f"{n}.{s}.txt" for n in EXAMPLES for s in ("bool", "mapped", "threshold", "plans")}
    assert {p.name for p in GOLDEN.glob("*.txt")} == expected
