"""Regressions for defects found by the post-merge review (each test failed before its fix)."""

from __future__ import annotations

import itertools

import pytest
import torch

import threshnet
from threshnet.compiler.parse import parse
from threshnet.compiler.words import evaluate_words


def _exhaustive(text: str, net: threshnet.ThreshNet) -> None:
    ws = parse(text, "t.bool").words
    names = [p.name for p in ws.inputs]
    rows = list(itertools.product(*[range(2 ** p.width) for p in ws.inputs]))
    got = net.run({n: [r[i] for r in rows] for i, n in enumerate(names)})
    for k in got:
        want = [evaluate_words(ws, dict(zip(names, r)))[k] for r in rows]
        assert got[k].tolist() == want


@pytest.mark.parametrize("text", [
    "input a[3]\noutput o[2]\no = popcount(a)\n",
    "input a[5]\noutput o[3]\no = popcount(a)\n",
    "input a[3], b[3]\noutput o[6]\no = a * b\n",
])
@pytest.mark.parametrize("max_weight", [2, 3])
def test_counting_fits_small_max_weight(text: str, max_weight: int) -> None:
    """Column compression was refused under max_weight 2 and 3 (its weight bound was 2 * smax)."""
    net = threshnet.compile(text, layout="mlp", max_weight=max_weight)
    _exhaustive(text, net)
    assert max(l.weight.abs().max().item() for l in net.linears()) <= max_weight


def test_max_weight_refusal_names_the_weight() -> None:
    """A user gate above max_weight was refused as over the dtype budget ("partial sums up to 14 (budget ...)")."""
    from threshnet.compiler.errors import SpecError
    text = "input a, b\noutput o\no = th(4*a + b >= 2)\n"
    with pytest.raises(SpecError, match="a weight of 4, above max_weight 3"):
        threshnet.compile(text, max_weight=3)


def test_eval_assignments_after_options(tmp_path, capsys) -> None:
    """'threshnet eval SPEC --net N a=1' and 'eval SPEC --bits a=1' were usage errors (unrecognized arguments)."""
    from threshnet.cli import main
    spec = tmp_path / "inc.bool"
    spec.write_text("input a[2], b[2]\noutput s[3]\ns = a + b\n")
    net = tmp_path / "inc.pt2"
    assert main(["compile", "-q", str(spec), "-o", str(net)]) == 0
    capsys.readouterr()
    assert main(["eval", str(spec), "--net", str(net), "a=2", "b=1"]) == 0
    assert capsys.readouterr().out == "s=3\n"
    assert main(["eval", str(spec), "--words", "a[0]=1", "a[1]=0", "b=3"]) == 0
    assert capsys.readouterr().out == "s=4\n"
    with pytest.raises(SystemExit) as e:
        main(["eval", str(spec), "--net", str(net), "a=2", "--bogus"])
    assert e.value.code == 2


def test_wide_parity_is_not_quadratic() -> None:
    """xor(a) over n bits made n/2 gates of n inputs each (n**2/2 edges): a[65536] was killed at 23 GB."""
    from threshnet.compiler.synth import Builder, budget_for
    b = Builder(budget_for("float32"))
    xs = [b.input(f"x{i}") for i in range(4096)]
    out = b.xor(xs)
    edges = sum(len(g.terms) for g in b.gates if g is not None)
    assert edges < 64 * 4096
    import numpy as np
    from threshnet.compiler.synth import simulate
    rows = np.random.default_rng(1).integers(0, 2, size=(64, 4096))
    rows[0] = 0
    rows[1] = 1
    got = simulate(b, [out], rows)[:, 0]
    assert got.tolist() == (rows.sum(axis=1) % 2).tolist()
