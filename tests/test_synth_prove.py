"""Each construction is proved equal to the plain bit-level lowering (``bitblast``) by ``threshnet.prove``.

The spec text goes through the v2 language: ``spec.words`` is synthesized
into threshold gates, ``spec``'s assignments are the reference ripple/array
logic, and the SAT proof covers every input: arithmetic, comparison, min/max,
mux, bitwise and shifts of two ``w``-bit words, and the counting operators of
one ``w``-bit word.  Fast: widths 1..3 in both activations.  Slow: every width 1..16 in step networks (ReLU proofs of wide
gates need the prover's binary encodings and take minutes, so ReLU is
covered by the fast widths and by the random checks of tests/test_synth.py),
proved node by node (``method="nodes"``: the wide comparisons behind min/max
take seconds as one miter, and ``"auto"`` spends 3 s on that miter before it
falls back to nodes; the fast widths prove with the default method).
"""

from __future__ import annotations

import pytest

import threshnet
from conftest import require_prover

require_prover()

OPS = {
    "add": ("s[{w1}]", "s = a + b"),
    "sub": ("s[{w}]", "s = (a - b)[{hi}:0]"),
    "lt": ("r", "r = a < b"), "le": ("r", "r = a <= b"), "gt": ("r", "r = a > b"), "ge": ("r", "r = a >= b"),
    "eq": ("r", "r = a == b"), "ne": ("r", "r = a != b"),
    "min": ("s[{w}]", "s = min(a, b)"), "max": ("s[{w}]", "s = max(a, b)"),
    "mux": ("s[{w}]", "s = a[0] ? b : a"),
    "bitwise": ("s[{w}]", "s = (a & b) ^ (a | ~b)"),
    "shifts": ("s[{w}]", "s = ((a << 2) ^ (b >> 1))[{hi}:0]"),
}
#: Counting operators over one word ``a``.
COUNTS = {
    "popcount": ("n[{wn}]", "n = popcount(a)"),
    "maj": ("y", "y = maj(a)"),
    "atleast": ("y", "y = atleast(3, a)"),
    "parity": ("y", "y = xor(a)"),
}


def spec_text(op: str, w: int) -> str:
    out, body = {**OPS, **COUNTS}[op]
    ports = "a" if op in COUNTS else "a, b"
    inputs = ", ".join(f"{p}[{w}]" for p in ports.split(", "))
    return f"input {inputs}\noutput {out.format(w=w, w1=w + 1, wn=w.bit_length())}\n{body.format(hi=w - 1)}\n"


def _prove(op: str, w: int, activation: str, dtype: str = "float32", objective: str = "depth",
           method: str = "auto") -> None:
    spec = threshnet.parse(spec_text(op, w))
    assert spec.words is not None
    net = threshnet.compile(spec, activation, dtype=dtype, objective=objective)
    # prove reads float64 values (it refuses bfloat16 numbers that fill the mantissa); compile certified
    # that the network computes the same in its dtype, so the float64 copy is the same function.
    report = threshnet.prove(net.double(), spec, timeout=120, method=method)
    assert report.status == "proved", (op, w, activation, report)


@pytest.mark.parametrize("op", sorted(OPS) + sorted(COUNTS))
@pytest.mark.parametrize("activation", ["step", "relu"])
def test_small_widths_proved(op, activation):
    for w in (1, 2, 3):
        _prove(op, w, activation)


@pytest.mark.parametrize("op", ["add", "sub", "lt", "eq", "max"])
def test_bfloat16_and_size_proved(op):
    _prove(op, 10, "step", dtype="bfloat16")
    _prove(op, 6, "step", objective="size")


@pytest.mark.slow
@pytest.mark.parametrize("op", sorted(OPS) + sorted(COUNTS))
def test_every_width_to_16_proved(op):
    for w in range(1, 17):
        _prove(op, w, "step", method="nodes")
