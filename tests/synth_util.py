"""Helpers for the synthesis tests: word programs by hand, the builder simulated, networks run on words."""

from __future__ import annotations

import numpy as np
import torch

from threshnet.compiler.spec import Assign, Const, Spec
from threshnet.compiler.synth import Builder, budget_for, build_words, simulate
from threshnet.compiler.words import Port, WNode, WordSpec, evaluate_words, input_values


def binop(op: str, wa: int, wb: int, wout: int, name: str = "s") -> WordSpec:
    """``name = a op b`` over vector ports ``a`` and ``b``."""
    return WordSpec(inputs=(Port("a", wa, True), Port("b", wb, True)),
                    outputs=((Port(name, wout, wout > 1), 2),),
                    nodes=(WNode("input", (), wa, (0,)), WNode("input", (), wb, (1,)),
                           WNode(op, (0, 1), wout, (), name=name)))


def bits_op(op: str, n: int, params: tuple, wout: int = 1, name: str = "y") -> WordSpec:
    """``name = op(x)`` over one vector port ``x`` of ``n`` bits."""
    return WordSpec(inputs=(Port("x", n, True),), outputs=((Port(name, wout, wout > 1), 1),),
                    nodes=(WNode("input", (), n, (0,)), WNode(op, (0,), wout, params, name=name)))


def rows_for(ws: WordSpec, rows: int | None, seed: int = 0) -> np.ndarray:
    """Every input row (``rows=None``) or ``rows`` random ones, plus all-zero and all-one rows."""
    n = sum(p.width for p in ws.inputs)
    if rows is None:
        return ((np.arange(1 << n)[:, None] >> np.arange(n)) & 1).astype(np.int64)
    r = np.random.default_rng(seed).integers(0, 2, (rows, n))
    return np.vstack([r, np.zeros((1, n), np.int64), np.ones((1, n), np.int64)])


def expected(ws: WordSpec, x: np.ndarray) -> np.ndarray:
    """Output bits (port order, bit 0 first) of the word oracle, one row per input row."""
    out = []
    for row in x:
        vals = evaluate_words(ws, input_values(ws, row))
        out.append([(vals[p.name] >> i) & 1 for p, _ in ws.outputs for i in range(p.width)])
    return np.array(out, dtype=np.int64)


def sim_check(ws: WordSpec, *, dtype: str = "float32", activation: str = "step", objective: str = "depth",
              max_weight: int | None = None, rows: int | None = 300, seed: int = 0) -> Builder:
    """Synthesize ``ws`` into a builder, simulate it and assert it equals ``evaluate_words``."""
    b = Builder(budget_for(dtype), objective, max_weight, activation)
    outs = build_words(ws, b)
    x = rows_for(ws, rows, seed)
    got = simulate(b, [l for _, l in outs], x)
    want = expected(ws, x)
    bad = np.nonzero((got != want).any(axis=1))[0]
    assert not len(bad), f"row {x[bad[0]].tolist()}: got {got[bad[0]].tolist()}, want {want[bad[0]].tolist()}"
    b.outputs = outs
    return b


def dummy_spec(ws: WordSpec) -> Spec:
    """A Spec carrying ``ws`` (its bit-level assignments are placeholders: use with :func:`net_check`)."""
    ins = tuple(b for p in ws.inputs for b in p.bits)
    outs = tuple(b for p, _ in ws.outputs for b in p.bits)
    return Spec(ins, outs, tuple(Assign(o, Const(0)) for o in outs), words=ws)


def net_check(net: torch.nn.Module, ws: WordSpec, rows: int | None = 300, seed: int = 0) -> None:
    """The network's outputs equal the word oracle's on ``rows`` random input rows."""
    x = rows_for(ws, rows, seed)
    dtype = next(net.parameters()).dtype
    with torch.no_grad():
        got = net(torch.as_tensor(x, dtype=dtype)).double().numpy()
    want = expected(ws, x)
    bad = np.nonzero((got != want).any(axis=1))[0]
    assert not len(bad), f"row {x[bad[0]].tolist()}: got {got[bad[0]].tolist()}, want {want[bad[0]].tolist()}"
