"""Every example in examples/ against an independent, arithmetic reference.

The references below never look at the spec text: adders add integers,
muxes index a list, seg7 reads a glyph table, and so on.  Each example is
checked exhaustively (all 2**n input rows) with both ``threshnet.evaluate``
and ``threshnet.evaluate_batch``, and its port order is pinned.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import pytest

import threshnet

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

Bits = Mapping[str, int]


def _num(bits: Bits, *names: str) -> int:
    """The unsigned number spelled by ``names``, MSB first."""
    v = 0
    for n in names:
        v = 2 * v + bits[n]
    return v


def _bits(value: int, width: int) -> list[int]:
    """``value`` as ``width`` bits, MSB first."""
    return [(value >> i) & 1 for i in range(width - 1, -1, -1)]


# --- references ----------------------------------------------------------------

def ref_half_adder(x: Bits) -> list[int]:
    return _bits(x["a0"] + x["b0"], 2)  # c1, c0


def ref_full_adder(x: Bits) -> list[int]:
    return _bits(x["a"] + x["b"] + x["cin"], 2)  # cout, s


def ref_ripple_adder4(x: Bits) -> list[int]:
    a = _num(x, "a3", "a2", "a1", "a0")
    b = _num(x, "b3", "b2", "b1", "b0")
    total = a + b + x["cin"]
    return [(total >> i) & 1 for i in range(4)] + [total >> 4]  # s0..s3, cout


def ref_mux2(x: Bits) -> list[int]:
    return [[x["d0"], x["d1"]][x["s"]]]


def ref_mux4(x: Bits) -> list[int]:
    return [[x["d0"], x["d1"], x["d2"], x["d3"]][_num(x, "s1", "s0")]]


def ref_majority3(x: Bits) -> list[int]:
    return [int(x["a"] + x["b"] + x["c"] >= 2)]


def ref_majority5(x: Bits) -> list[int]:
    return [int(sum(x[n] for n in "abcde") >= 3)]


def ref_parity8(x: Bits) -> list[int]:
    return [sum(x[f"x{i}"] for i in range(8)) % 2]


def ref_comparator2(x: Bits) -> list[int]:
    a, b = _num(x, "a1", "a0"), _num(x, "b1", "b0")
    return [int(a > b), int(a == b)]


# Lit segments of the standard hex glyphs 0 1 2 3 4 5 6 7 8 9 A b C d E F.
SEG7_GLYPHS = [
    "abcdef", "bc", "abdeg", "abcdg", "bcfg", "acdfg", "acdefg", "abc",
    "abcdefg", "abcdfg", "abcefg", "cdefg", "adef", "bcdeg", "adefg", "aefg",
]


def ref_seg7(x: Bits) -> list[int]:
    lit = SEG7_GLYPHS[_num(x, "d3", "d2", "d1", "d0")]
    return [int(s in lit) for s in "abcdefg"]


def ref_mult2x2(x: Bits) -> list[int]:
    return _bits(_num(x, "a1", "a0") * _num(x, "b1", "b0"), 4)  # p3..p0


def _word(x: Bits, name: str, width: int) -> int:
    """The v2 vector ``name[width]`` (bits ``name[0]`` .. LSB first) as a number."""
    return sum(x[f"{name}[{i}]"] << i for i in range(width))


def _lsb(value: int, width: int) -> list[int]:
    """``value`` as ``width`` bits, LSB first (a v2 vector port)."""
    return [(value >> i) & 1 for i in range(width)]


def _vec(name: str, width: int) -> tuple[str, ...]:
    return tuple(f"{name}[{i}]" for i in range(width))


def ref_adder8(x: Bits) -> list[int]:
    return _lsb(_word(x, "a", 8) + _word(x, "b", 8), 9)


def ref_comparator8(x: Bits) -> list[int]:
    a, b = _word(x, "a", 8), _word(x, "b", 8)
    return [int(a < b), int(a == b), int(a > b)]


def ref_alu4(x: Bits) -> list[int]:
    a, b, op = _word(x, "a", 4), _word(x, "b", 4), _word(x, "op", 2)
    if op == 0:
        r = a + b
    elif op == 1:
        r = (a - b) % 32  # the 5-bit difference: bit 4 is the borrow
    else:
        r = (a & b) if op == 2 else (a ^ b)
    y = r % 16
    return _lsb(y, 4) + [r >> 4 if op < 2 else 0, int(y == 0)]


def ref_popcount16(x: Bits) -> list[int]:
    return _lsb(bin(_word(x, "x", 16)).count("1"), 5)


def ref_majority17(x: Bits) -> list[int]:
    return [int(bin(_word(x, "x", 17)).count("1") >= 9)]


def ref_mult4(x: Bits) -> list[int]:
    return _lsb(_word(x, "a", 4) * _word(x, "b", 4), 8)


# file name -> (inputs, outputs, reference returning outputs in port order)
REFERENCES: dict[str, tuple[tuple[str, ...], tuple[str, ...], Callable[[Bits], list[int]]]] = {
    "half_adder.bool": (("a0", "b0"), ("c1", "c0"), ref_half_adder),
    "full_adder.bool": (("a", "b", "cin"), ("cout", "s"), ref_full_adder),
    "ripple_adder4.bool": (
        ("a0", "a1", "a2", "a3", "b0", "b1", "b2", "b3", "cin"),
        ("s0", "s1", "s2", "s3", "cout"),
        ref_ripple_adder4,
    ),
    "mux2.bool": (("s", "d0", "d1"), ("y",), ref_mux2),
    "mux4.bool": (("s1", "s0", "d0", "d1", "d2", "d3"), ("y",), ref_mux4),
    "majority3.bool": (("a", "b", "c"), ("maj",), ref_majority3),
    "majority5.bool": (("a", "b", "c", "d", "e"), ("maj",), ref_majority5),
    "parity8.bool": (tuple(f"x{i}" for i in range(8)), ("p",), ref_parity8),
    "comparator2.bool": (("a1", "a0", "b1", "b0"), ("gt", "eq"), ref_comparator2),
    "seg7.bool": (("d3", "d2", "d1", "d0"), tuple("abcdefg"), ref_seg7),
    "mult2x2.bool": (("a1", "a0", "b1", "b0"), ("p3", "p2", "p1", "p0"), ref_mult2x2),
    # v2 examples: vector ports are their bits, LSB first
    "adder8.bool": (_vec("a", 8) + _vec("b", 8), _vec("s", 9), ref_adder8),
    "comparator8.bool": (_vec("a", 8) + _vec("b", 8), ("lt", "eq", "gt"), ref_comparator8),
    "alu4.bool": (_vec("a", 4) + _vec("b", 4) + _vec("op", 2), _vec("y", 4) + ("c", "zero"), ref_alu4),
    "popcount16.bool": (_vec("x", 16), _vec("n", 5), ref_popcount16),
    "majority17.bool": (_vec("x", 17), ("y",), ref_majority17),
    "mult4.bool": (_vec("a", 4) + _vec("b", 4), _vec("p", 8), ref_mult4),
}


# --- checking ------------------------------------------------------------------

def _all_rows(n: int) -> np.ndarray:
    return np.array(list(itertools.product((0, 1), repeat=n)), dtype=np.uint8)


def check_against_reference(spec: threshnet.Spec, reference: Callable[[Bits], list[int]]) -> None:
    """Exhaustively compare ``spec`` with ``reference``; raise AssertionError on a mismatch."""
    rows = _all_rows(len(spec.inputs))
    expected = np.array(
        [reference(dict(zip(spec.inputs, map(int, row)))) for row in rows], dtype=np.uint8
    )
    assert expected.shape == (len(rows), len(spec.outputs))

    got = threshnet.evaluate_batch(spec, rows)
    assert got.shape == expected.shape
    bad = np.flatnonzero((got != expected).any(axis=1))
    assert bad.size == 0, (
        f"evaluate_batch: {bad.size} wrong row(s); first: inputs "
        f"{dict(zip(spec.inputs, rows[bad[0]].tolist()))} gave "
        f"{dict(zip(spec.outputs, got[bad[0]].tolist()))}, expected "
        f"{dict(zip(spec.outputs, expected[bad[0]].tolist()))}"
    )

    step = max(1, len(rows) // 4096)  # evaluate() row by row on at most 4096 evenly spread rows
    for row, want in zip(rows[::step], expected[::step]):
        inputs = dict(zip(spec.inputs, map(int, row)))
        out = threshnet.evaluate(spec, inputs)
        assert list(out) == list(spec.outputs)
        assert [out[o] for o in spec.outputs] == want.tolist(), f"evaluate: inputs {inputs} gave {out}"


def _load(name: str) -> threshnet.Spec:
    path = EXAMPLES / name
    return threshnet.parse(path.read_text(encoding="utf-8"), str(path))


# --- tests ---------------------------------------------------------------------

def test_every_example_has_a_reference() -> None:
    files = sorted(p.name for p in EXAMPLES.glob("*.bool"))
    assert files, f"no examples found in {EXAMPLES}"
    missing = sorted(set(files) - set(REFERENCES))
    assert not missing, f"examples without a reference in {__file__}: {missing}"
    stale = sorted(set(REFERENCES) - set(files))
    assert not stale, f"references for missing examples: {stale}"


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_example_port_order(name: str) -> None:
    inputs, outputs, _ = REFERENCES[name]
    spec = _load(name)
    assert spec.inputs == inputs
    assert spec.outputs == outputs


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_example_truth_table(name: str) -> None:
    _, _, reference = REFERENCES[name]
    check_against_reference(_load(name), reference)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_example_opens_with_comment(name: str) -> None:
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    assert text.startswith("#"), f"{name} should open with a '#' comment block"


def test_half_adder_matches_notebook() -> None:
    # The notebook computes a0 + b0 = c1 c0 with c1 = a0 & b0 and c0 = a0 ^ b0.
    spec = _load("half_adder.bool")
    assert spec == threshnet.parse("c1 = a0 & b0\nc0 = a0 ^ b0\n")


def test_checker_catches_wrong_specs() -> None:
    # The harness itself must be able to fail: a wrong gate, swapped outputs
    # and a wrong seg7 glyph are all caught.
    with pytest.raises(AssertionError):
        check_against_reference(threshnet.parse("c1 = a0 & b0\nc0 = a0 | b0\n"), ref_half_adder)
    with pytest.raises(AssertionError):
        check_against_reference(threshnet.parse("c0 = a0 ^ b0\nc1 = a0 & b0\n"), ref_half_adder)
    seg7 = (EXAMPLES / "seg7.bool").read_text(encoding="utf-8")
    wrong = seg7.replace("h2 & l3 | h3 & l1)", "h2 & l3)")  # 'd' would light segment a
    assert wrong != seg7
    with pytest.raises(AssertionError):
        check_against_reference(threshnet.parse(wrong), ref_seg7)
