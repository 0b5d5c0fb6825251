"""The bit-parallel simulator agrees with the plain evaluator."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import threshnet
from threshnet.compiler.bitsim import BitSim, pack_rows, unpack_rows
from threshnet.compiler.lower import lower

EXAMPLE = """
input a, b, c, d
output x, y, z, k, w
x = a ^ b ^ c ^ ~d
y = ~(a & b) | (c & ~d)
z = (a | b | c) & ~(b ^ d)
k = 1
w = ~a
"""


def test_pack_unpack_round_trip():
    rng = np.random.default_rng(0)
    for n in [1, 63, 64, 65, 200]:
        rows = rng.integers(0, 2, size=(n, 5), dtype=np.uint8)
        assert (unpack_rows(pack_rows(rows), n) == rows).all()


def test_matches_evaluator_on_all_rows():
    spec = threshnet.parse(EXAMPLE)
    rows = np.array([[(i >> k) & 1 for k in range(4)] for i in range(16)], dtype=np.uint8)
    rows = np.repeat(rows, 9, axis=0)  # 144 rows: more than two words
    assert (BitSim(lower(spec)).run(rows) == threshnet.evaluate_batch(spec, rows)).all()


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_matches_evaluator_on_random_specs(data):
    from threshnet.testing import specs

    spec = data.draw(specs(max_inputs=8, max_gates=30))
    rows = data.draw(st.lists(st.lists(st.integers(0, 1), min_size=len(spec.inputs),
                                       max_size=len(spec.inputs)), min_size=1, max_size=150))
    rows = np.array(rows, dtype=np.uint8).reshape(len(rows), len(spec.inputs))
    assert (BitSim(lower(spec)).run(rows) == threshnet.evaluate_batch(spec, rows)).all()


def test_a_wrong_gate_is_seen():
    spec = threshnet.parse(EXAMPLE)
    wrong = threshnet.parse(EXAMPLE.replace("c & ~d", "c & d"))
    rows = np.array([[(i >> k) & 1 for k in range(4)] for i in range(16)], dtype=np.uint8)
    assert not (BitSim(lower(wrong)).run(rows) == threshnet.evaluate_batch(spec, rows)).all()
