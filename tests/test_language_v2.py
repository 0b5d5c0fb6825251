"""The v2 spec language: v1 compatibility, the six v2 examples, and word/bit agreement.

Two independent oracles meet here: ``evaluate_words`` (integer semantics of the
word program, compiler/words.py) and ``evaluate`` of the bit-level spec that
``bitblast`` builds (plain AND/OR/XOR/NOT).  A v1 spec must parse to exactly
what the v1 parser (a frozen copy in tests/v1ref) returns.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings

import threshnet
from threshnet.compiler.evaluate import evaluate_batch
from threshnet.compiler.words import evaluate_words, input_values, verify_words
from threshnet.testing import spec_texts

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent / "v1ref"))
from v1_parse import parse as parse_v1  # noqa: E402

V1_FILES = sorted(ROOT.glob("tests/regressions/*.bool")) + [
    p for p in sorted(ROOT.glob("examples/*.bool"))
    if p.stem not in ("adder8", "comparator8", "alu4", "popcount16", "majority17", "mult4")]
V2_EXAMPLES = ("adder8", "comparator8", "alu4", "popcount16", "majority17", "mult4")


def word_rows(spec: threshnet.Spec, rows: np.ndarray) -> np.ndarray:
    """Output bits of ``spec.words`` for bit rows, by the word oracle."""
    ws = spec.words
    out = []
    for row in rows:
        want = evaluate_words(ws, input_values(ws, row))
        out.append([(want[p.name] >> i) & 1 for p, _ in ws.outputs for i in range(p.width)])
    return np.array(out, dtype=np.uint8).reshape(len(rows), -1)


def some_rows(n: int, samples: int = 200, seed: int = 0) -> np.ndarray:
    if n <= 10:
        return np.array([[(r >> i) & 1 for i in range(n)] for r in range(1 << n)], dtype=np.uint8).reshape(1 << n, n)
    return np.random.default_rng(seed).integers(0, 2, size=(samples, n), dtype=np.uint8)


def assert_words_match_bits(spec: threshnet.Spec, samples: int = 200) -> None:
    verify_words(spec.words)
    rows = some_rows(len(spec.inputs), samples)
    assert (evaluate_batch(spec, rows) == word_rows(spec, rows)).all()


# ----------------------------------------------------------------------------- v1 compatibility

@pytest.mark.parametrize("path", V1_FILES, ids=lambda p: p.name)
def test_v1_files_parse_as_before(path):
    text = path.read_text()
    new, old = threshnet.parse(text, path.name), parse_v1(text, path.name)
    assert new == old
    assert [a.target for a in new.assignments] == [a.target for a in old.assignments]
    assert new.words is not None
    assert_words_match_bits(new)


@settings(max_examples=60)
@given(spec_texts(max_inputs=6, max_gates=30, max_assignments=8))
def test_v1_random_texts_parse_as_before(text):
    old = parse_v1(text)
    new = threshnet.parse(text)
    assert new == old
    if new.words is not None:
        assert_words_match_bits(new, samples=64)


@pytest.mark.parametrize("text", ["y = a & b & c", "end = a; maj = end & b", "min = a | b; def = ~min",
                                  "y = a & 1", "y = !a", "y = a ^ b | c & ~d"])
def test_v1_names_that_v2_uses(text):
    assert threshnet.parse(text) == parse_v1(text)


# ----------------------------------------------------------------------------- the v2 examples

@pytest.mark.parametrize("name", V2_EXAMPLES)
def test_example_words_match_bits(name):
    spec = threshnet.parse((ROOT / "examples" / f"{name}.bool").read_text(), f"{name}.bool")
    assert_words_match_bits(spec, samples=300)


@pytest.mark.parametrize("layout", ["mlp", "sparse"])
@pytest.mark.parametrize("name", V2_EXAMPLES)
def test_example_compiles_and_checks(name, layout):
    spec = threshnet.parse((ROOT / "examples" / f"{name}.bool").read_text(), f"{name}.bool")
    net = threshnet.compile(spec, layout=layout)
    report = threshnet.check(net, spec, samples=2000)
    assert report.ok, report


def test_example_ports_and_values():
    spec = threshnet.parse((ROOT / "examples" / "adder8.bool").read_text())
    assert spec.inputs == tuple(f"a[{i}]" for i in range(8)) + tuple(f"b[{i}]" for i in range(8))
    assert spec.outputs == tuple(f"s[{i}]" for i in range(9))
    assert evaluate_words(spec.words, {"a": 200, "b": 100}) == {"s": 300}
    bits = {f"a[{i}]": (200 >> i) & 1 for i in range(8)} | {f"b[{i}]": (100 >> i) & 1 for i in range(8)}
    out = threshnet.evaluate(spec, bits)
    assert sum(out[f"s[{i}]"] << i for i in range(9)) == 300


# ----------------------------------------------------------------------------- operators, one by one

def value(text: str, **inputs: int) -> dict[str, int]:
    """Outputs by both oracles (they must agree)."""
    spec = threshnet.parse(text)
    ws = spec.words
    words = evaluate_words(ws, inputs)
    bits = {}
    for p in ws.inputs:
        for i, b in enumerate(p.bits):
            bits[b] = (inputs[p.name] >> i) & 1
    out = threshnet.evaluate(spec, bits)
    for p, _ in ws.outputs:
        assert sum(out[b] << i for i, b in enumerate(p.bits)) == words[p.name], (text, p.name)
    return words


CASES = [
    # (text, inputs, expected outputs)
    ("input a[4], b[4]\ny = a + b", dict(a=9, b=8), dict(y=17)),
    ("input a[4], b[4]\ny = a - b", dict(a=3, b=5), dict(y=(3 - 5) % 32)),
    ("input a[4], b[4]\ny = a * b", dict(a=15, b=13), dict(y=195)),
    ("input a[4]\ny = a << 2", dict(a=13), dict(y=52)),
    ("input a[4]\ny = a >> 2", dict(a=13), dict(y=3)),
    ("input a[4]\ny = a >> 7", dict(a=13), dict(y=0)),
    ("input a[4], b[3]\nlt = a < b; le = a <= b; gt = a > b; ge = a >= b; eq = a == b; ne = a != b",
     dict(a=5, b=5), dict(lt=0, le=1, gt=0, ge=1, eq=1, ne=0)),
    ("input a[4], b[3]\nlt = a < b; le = a <= b; gt = a > b; ge = a >= b; eq = a == b; ne = a != b",
     dict(a=9, b=7), dict(lt=0, le=0, gt=1, ge=1, eq=0, ne=1)),
    ("input a[4], b[2]\nx = a & b; o = a | b; e = a ^ b; n = ~a", dict(a=0b1011, b=0b10),
     dict(x=0b10, o=0b1011, e=0b1001, n=0b0100)),
    ("input c, a[4], b[2]\ny = c ? a : b", dict(c=0, a=9, b=3), dict(y=3)),
    ("input c, a[4], b[2]\ny = c ? a : b", dict(c=1, a=9, b=3), dict(y=9)),
    ("input a[8]\noutput h[4], l, y[5]\nh = a[7:4]; l = a[0]; y = {l, h}", dict(a=0b10110001), dict(h=0b1011, l=1, y=0b11011)),
    ("input a[4], b[4]\ny = (a + b)[4]", dict(a=9, b=8), dict(y=1)),
    ("input x[5]\nm = maj(x); p = popcount(x); k = atleast(2, x); n = and(x); o = or(x); q = xor(x)",
     dict(x=0b10110), dict(m=1, p=3, k=1, n=0, o=1, q=1)),
    ("input a, b, c\nm = maj(a, b, c); k = atleast(3, a, b, c)", dict(a=1, b=0, c=1), dict(m=1, k=0)),
    ("input a[4], b[3]\nlo = min(a, b); hi = max(a, b)", dict(a=9, b=6), dict(lo=6, hi=9)),
    ("input a, b, c\ny = th(2*a + b - c >= 2)", dict(a=1, b=0, c=1), dict(y=0)),
    ("input a, b, c\ny = th(2*a + b - c >= 2)", dict(a=1, b=1, c=1), dict(y=1)),
    ("input a, b, c\ny = th(a + b + c > 1)", dict(a=1, b=1, c=0), dict(y=1)),
    ("input a, b\ny = th(3 - a - b >= 2)", dict(a=1, b=0), dict(y=1)),
    ("y = 42 + 0x2A + 0b101010", {}, dict(y=126)),
    ("input a[4], b[4], op\ny = op ? a - b : a + b", dict(a=2, b=3, op=1), dict(y=31)),
    ("input a[3]\noutput s[3]\ns[0] = a[1]\ns[2:1] = {a[0], a[2]}", dict(a=0b011), dict(s=0b101)),
    ("input a[3]\noutput s[3]\ns[1] = s[0] ^ a[1]\ns[0] = a[0]\ns[2] = s[1] & a[2]", dict(a=0b111),
     dict(s=0b001)),
    ("input a[4]\noutput y[8]\ny = a", dict(a=9), dict(y=9)),
]


@pytest.mark.parametrize("text, inputs, want", CASES)
def test_operator(text, inputs, want):
    got = value(text, **inputs)
    assert {k: got[k] for k in want} == want


def test_functions():
    text = """
def fa(a, b, c) -> s, co
    s = a ^ b ^ c
    co = maj(a, b, c)
end
def add2(x[2], y[2]) -> z[3]
    z[0], c0 = fa(x[0], y[0], 0)
    z[1], z[2] = fa(x[1], y[1], c0)
end
input p[2], q[2]
output r[3], t
r = add2(p, q)
t = add2(q, p) == r
"""
    for p in range(4):
        for q in range(4):
            assert value(text, p=p, q=q) == {"r": p + q, "t": 1}


def test_ports_inferred_and_vector_outputs():
    spec = threshnet.parse("input a[2], b[2]\ns = a + b")
    assert spec.outputs == ("s[0]", "s[1]", "s[2]")
    spec = threshnet.parse("y = x & 1")
    assert spec.inputs == ("x",) and spec.outputs == ("y",)
    spec = threshnet.parse("input a[1]\ny = a == 1")
    assert spec.inputs == ("a[0]",) and spec.outputs == ("y",)


def test_parse_is_deterministic():
    text = (ROOT / "examples" / "alu4.bool").read_text()
    a, b = threshnet.parse(text), threshnet.parse(text)
    assert a == b
    from threshnet.compiler.words import dump_words
    assert dump_words(a.words) == dump_words(b.words)


@pytest.mark.parametrize("path", V1_FILES, ids=lambda p: p.name)
def test_v1_words_are_bit_logic_and_bitblast_back(path):
    from threshnet.compiler.bitblast import bitblast
    from threshnet.compiler.words import is_bit_logic
    spec = threshnet.parse(path.read_text())
    assert is_bit_logic(spec.words)
    again = bitblast(spec.words)
    assert again.inputs == spec.inputs and again.outputs == spec.outputs
    rows = some_rows(len(spec.inputs), 200)
    assert (evaluate_batch(again, rows) == evaluate_batch(spec, rows)).all()


def test_v1_render_unchanged_and_v2_render_is_v2():
    spec = threshnet.parse("c1 = a0 & b0; c0 = a0 ^ b0")
    assert threshnet.render(spec) == "input a0, b0\noutput c1, c0\nc1 = a0 & b0\nc0 = a0 ^ b0\n"
    spec = threshnet.parse("input a, b\noutput y\ny = a")
    assert threshnet.render(spec) == "input a, b\noutput y\ny = a\n"
    spec = threshnet.parse((ROOT / "examples" / "adder8.bool").read_text())
    assert threshnet.render(spec) == "input a[8], b[8]\noutput s[9]\ns = a + b\n"


# ----------------------------------------------------------------------------- word program goldens

GOLDEN_WORDS = Path(__file__).resolve().parent / "golden" / "words"


@pytest.mark.parametrize("name", V2_EXAMPLES)
def test_example_word_program_golden(name):
    """``dump_words`` of each v2 example is pinned (regenerate with THRESHNET_REGEN_GOLDEN=1 and review)."""
    import os

    from threshnet.compiler.words import dump_words
    spec = threshnet.parse((ROOT / "examples" / f"{name}.bool").read_text(), f"{name}.bool")
    got = dump_words(spec.words)
    path = GOLDEN_WORDS / f"{name}.txt"
    if os.environ.get("THRESHNET_REGEN_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(got)
    assert got == path.read_text()
