"""Arithmetic recovery (:mod:`threshnet.compiler.recover`): ripple adders in netlists become carry-lookahead adders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import threshnet
from threshnet.compiler import compiling
from threshnet.compiler.ir import verify
from threshnet.compiler.keys import RECOVERED
from threshnet.compiler.lower import lower
from threshnet.compiler.mapping import STATS
from threshnet.compiler.recover import Recovered, recover_adders
from threshnet.frontends import read, read_text
from threshnet.frontends.writers import write_text
from threshnet.testing import assert_equivalent

from test_properties import all_rows, eval_bool_graph

ROOT = Path(__file__).resolve().parent.parent
EPFL_ADDER = ROOT / "benchmarks" / "circuits" / "epfl" / "adder.aig"
#: Layers of the 128-bit EPFL adder (step activation): 52 without recovery, a carry-lookahead adder with it.
EPFL_ADDER_LAYERS = 3


def ripple_text(n: int, *, cin: bool = True, flip: bool = True, tap: int | None = None) -> str:
    """An ``n``-bit ripple adder in the v1 language.  ``flip``: every other bit hands on the negated carry
    (its reader uses XNOR and the negated literal); ``tap``: the carry into bit ``tap`` is also an output."""
    ins = [f"a{i}" for i in range(n)] + [f"b{i}" for i in range(n)] + (["ci"] if cin else [])
    outs = [f"s{i}" for i in range(n)] + ["co"] + (["tap"] if tap is not None else [])
    lines = [f"input {', '.join(ins)}", f"output {', '.join(outs)}"]
    c, neg = ("ci", False) if cin else (None, False)  # the carry into bit i is c, or ~c when neg
    for i in range(n):
        a, b = f"a{i}", f"b{i}"
        if c is None:  # a half adder
            lines.append(f"s{i} = {a} ^ {b}")
            lines.append(f"k{i} = {a} & {b}")
            c, neg = f"k{i}", False
            continue
        s = f"{a} ^ {b} ^ {c}"
        lines.append(f"s{i} = ~({s})" if neg else f"s{i} = {s}")
        cl = f"~{c}" if neg else c
        if flip and i % 2:  # hand on the negated carry: ~maj = maj of the negated operands
            lines.append(f"k{i} = ~{a} & ~{b} | (~{a} | ~{b}) & ~{cl}".replace("~~", ""))
            c, neg = f"k{i}", True
        else:
            lines.append(f"k{i} = {a} & {b} | ({a} ^ {b}) & {cl}")
            c, neg = f"k{i}", False
        if tap is not None and i + 1 == tap:
            lines.append(f"tap = {'~' if neg else ''}{c} & a{n - 1}")
    lines.append(f"co = ~{c}" if neg else f"co = {c}")
    return "\n".join(lines) + "\n"


def _layers(spec, activation: str = "step", **kw) -> int:
    return threshnet.compile(spec, activation, **kw).stats().layers


def test_ripple_adder4_example_exhaustive():
    spec = read(ROOT / "examples" / "ripple_adder4.bool")
    g = recover_adders(lower(spec))
    assert g.graph[RECOVERED] == Recovered(adders=1, adder_bits=4, sums=0)
    for activation in ("step", "relu"):
        net = threshnet.compile(spec, activation)
        assert_equivalent(net, spec, method="exhaustive")
        assert net.stats().layers == 2  # carries in one layer, sums in the next (4 layers without recovery)


@pytest.mark.parametrize("fmt", ["bool", "aag", "blif"])
@pytest.mark.parametrize("cin", [True, False])
def test_generated_ripple_adder8_exhaustive(fmt, cin):
    spec = threshnet.parse(ripple_text(8, cin=cin))
    if fmt != "bool":
        spec = read_text(write_text(spec, fmt), fmt)
    g = recover_adders(lower(spec))
    assert g.graph[RECOVERED] == Recovered(adders=1, adder_bits=8)
    verify(g, "mapped", n_inputs=len(spec.inputs), n_outputs=len(spec.outputs))
    rows = all_rows(len(spec.inputs))
    assert (eval_bool_graph(g, rows)[0] == eval_bool_graph(lower(spec), rows)[0]).all()
    net = threshnet.compile(spec, "step")
    assert_equivalent(net, spec, method="exhaustive")
    assert net.stats().layers <= 3


def test_carry_read_elsewhere():
    spec = threshnet.parse(ripple_text(8, tap=4))
    g = recover_adders(lower(spec))
    assert g.graph[RECOVERED].adders == 1
    rows = all_rows(len(spec.inputs))
    assert (eval_bool_graph(g, rows)[0] == eval_bool_graph(lower(spec), rows)[0]).all()
    for activation in ("step", "relu"):
        net = threshnet.compile(spec, activation)
        assert_equivalent(net, spec, method="exhaustive")
        assert net.stats().layers <= 3  # the tapped carry comes from the construction, not the old chain


def test_operand_from_own_sum_is_refused():
    """An operand that depends on the chain's own sum would close a cycle: that chain stays as it is."""
    text = ripple_text(6, flip=False).replace("s5 = a5 ^ b5 ^ k4", "s5 = a5 ^ b5 ^ k4\nq = s1 & b5")
    text = text.replace("k5 = a5 & b5 | (a5 ^ b5) & k4", "k5 = q & b5 | (q ^ b5) & k4").replace(
        "s5 = a5 ^ b5 ^ k4", "s5 = q ^ b5 ^ k4")
    spec = threshnet.parse(text)
    g = recover_adders(lower(spec), min_bits=4)
    rows = all_rows(len(spec.inputs))
    assert (eval_bool_graph(g, rows)[0] == eval_bool_graph(lower(spec), rows)[0]).all()
    assert_equivalent(threshnet.compile(spec, "step"), spec, method="exhaustive")


def test_small_dtype_stays_exact():
    spec = threshnet.parse(ripple_text(16, cin=False))
    for dtype in ("bfloat16", "float16"):
        net = threshnet.compile(spec, "step", dtype=dtype)
        assert_equivalent(net, spec, method="random", samples=2000)


def test_epfl_adder_layers_and_agreement(monkeypatch):
    spec = read(EPFL_ADDER)
    bg = lower(spec)
    g = recover_adders(bg)
    rec = g.graph[RECOVERED]
    assert rec.adders == 1 and rec.adder_bits == 128
    rows = np.random.default_rng(1).integers(0, 2, (500, len(spec.inputs))).astype(np.uint8)
    assert (eval_bool_graph(g, rows)[0] == eval_bool_graph(bg, rows)[0]).all()
    c = compiling.compile_stages(spec, "step", layout="sparse")
    assert c.mapped_graph.graph[STATS].adders == 1
    assert "adder" in str(c.mapped_graph.graph[STATS])
    net = threshnet.compile(spec, "step", layout="sparse")
    assert net.stats().layers == EPFL_ADDER_LAYERS
    assert_equivalent(net, spec, method="random", samples=500)
    # without recovery the mapper covers the chain bit by bit
    monkeypatch.setattr(compiling, "recover_adders", lambda g, **kw: g)
    assert _layers(spec, layout="sparse") > 40


def test_nothing_to_recover_returns_the_graph():
    spec = threshnet.parse("input a, b, c\noutput x, y\nx = a ^ b ^ c\ny = a & b | a & c | b & c\n")
    g = lower(spec)
    assert recover_adders(g) is g


def array_multiplier_text(n: int) -> str:
    """An ``n`` x ``n`` array multiplier: each row adds a partial-product row to the running sum with a
    ripple of half and full adders (rows linked by sums and carries: a carry-save array)."""
    ins = [f"a{i}" for i in range(n)] + [f"b{i}" for i in range(n)]
    outs = [f"p{i}" for i in range(2 * n)]
    lines = [f"input {', '.join(ins)}", f"output {', '.join(outs)}"]
    for i in range(n):
        for j in range(n):
            lines.append(f"pp{i}_{j} = a{j} & b{i}")
    acc = [f"pp0_{j}" for j in range(n)] + ["0"]  # running sum, LSB first; its LSB is a product bit
    lines.append("p0 = pp0_0")
    k = 0
    for i in range(1, n):
        hi = acc[1:]  # n bits
        row, c = [], None
        for j in range(n):
            x, y = hi[j], f"pp{i}_{j}"
            s, cn = f"t{k}", f"u{k}"
            k += 1
            if x == "0":
                ops = [y] + ([c] if c else [])
            else:
                ops = [x, y] + ([c] if c else [])
            if len(ops) == 1:
                lines.append(f"{s} = {ops[0]}")
                c = None
            elif len(ops) == 2:
                lines.append(f"{s} = {ops[0]} ^ {ops[1]}; {cn} = {ops[0]} & {ops[1]}")
                c = cn
            else:
                a, b, cc = ops
                lines.append(f"{s} = {a} ^ {b} ^ {cc}; {cn} = {a} & {b} | ({a} ^ {b}) & {cc}")
                c = cn
            row.append(s)
        acc = row + [c or "0"]
        lines.append(f"p{i} = {acc[0]}")
    for j in range(1, n + 1):
        lines.append(f"p{n - 1 + j} = {acc[j] if acc[j] != '0' else 'a0 & ~a0'}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("n", [4, 5])
def test_array_multiplier_is_one_sum(n):
    spec = threshnet.parse(array_multiplier_text(n))
    rows = all_rows(len(spec.inputs))
    out = eval_bool_graph(lower(spec), rows)[0]
    g = recover_adders(lower(spec), arrays=True)
    assert g.graph[RECOVERED].sums == 1
    verify(g, "mapped", n_inputs=len(spec.inputs), n_outputs=len(spec.outputs))
    assert (eval_bool_graph(g, rows)[0] == out).all()
    net = threshnet.compile(spec, "step")
    assert_equivalent(net, spec, method="exhaustive")


def test_c6288_is_one_sum_array(monkeypatch):
    spec = read(ROOT / "benchmarks" / "circuits" / "iscas85" / "bench" / "c6288.bench")
    bg = lower(spec)
    g = recover_adders(bg, arrays=True)
    assert g.graph[RECOVERED] == Recovered(adders=0, adder_bits=240, sums=1)
    rows = np.random.default_rng(2).integers(0, 2, (2000, len(spec.inputs))).astype(np.uint8)
    assert (eval_bool_graph(g, rows)[0] == eval_bool_graph(bg, rows)[0]).all()
    assert recover_adders(bg) is bg  # compile leaves arrays alone (recover_adders' docstring)


@pytest.mark.skipif(not __import__("importlib").import_module("threshnet.prove").available(),
                    reason="threshnet.prove needs python-sat and pindakaas (pip install 'threshnet[prove]')")
def test_c6288_as_compiled_is_provable():
    """Why arrays are off in compile: without them c6288 proves node by node in about a second."""
    spec = read(ROOT / "benchmarks" / "circuits" / "iscas85" / "bench" / "c6288.bench")
    net = threshnet.compile(spec, "step", layout="sparse")
    assert threshnet.prove(net, spec, method="nodes", timeout=120).proved


def random_ripple_text(n: int, rng: np.random.Generator) -> str:
    """A ripple adder of ``n`` full adders in mixed styles: majority written three ways, operands
    complemented (the adder then adds ``~a``), carries handed on negated, sums written as XNOR."""
    ins = [f"a{i}" for i in range(n)] + [f"b{i}" for i in range(n)] + ["ci"]
    outs = [f"s{i}" for i in range(n)] + ["co"]
    lines = [f"input {', '.join(ins)}", f"output {', '.join(outs)}"]
    c = "ci"
    for i in range(n):
        a = f"~a{i}" if rng.integers(2) else f"a{i}"
        b = f"b{i}"
        style = int(rng.integers(3))
        maj = [f"{a} & {b} | {a} & {c} | {b} & {c}", f"{a} & {b} | ({a} ^ {b}) & {c}",
               f"{a} & {b} | ({a} | {b}) & {c}"][style]
        lines.append(f"s{i} = ~({a} ^ {b} ^ ~{c})" if rng.integers(2) else f"s{i} = {a} ^ {b} ^ {c}")
        if rng.integers(2):  # the next bit reads the complement, written as its own signal
            lines.append(f"m{i} = ~({maj})")
            c = f"~m{i}"
        else:
            lines.append(f"m{i} = {maj}")
            c = f"m{i}"
    lines.append(f"co = {c}")
    return "\n".join(lines).replace("~~", "") + "\n"


@pytest.mark.parametrize("seed", range(12))
def test_random_ripple_styles(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 7))
    spec = threshnet.parse(random_ripple_text(n, rng))
    bg = lower(spec)
    g = recover_adders(bg)
    assert g is not bg and g.graph[RECOVERED].adder_bits == n
    verify(g, "mapped", n_inputs=len(spec.inputs), n_outputs=len(spec.outputs))
    rows = all_rows(len(spec.inputs))
    assert (eval_bool_graph(g, rows)[0] == eval_bool_graph(bg, rows)[0]).all()
