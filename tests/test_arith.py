"""The counting and multiplication constructions, on a simulating builder, against integer arithmetic.

Exhaustive for small widths, random rows up to 256 bits, in the budgets of
float32, float16 and bfloat16 (every gate's magnitude is checked by the
builder), and the gate/layer targets of issue 9 for the multiplier and
popcount.
"""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arith_sim import builder, inputs, used, word_rows, word_values
from threshnet.compiler.arith_count import add_many, ge_const, popcount, symmetric, weighted_bits
from threshnet.compiler.arith_mul import csd_digits, multiply
from threshnet.compiler.synth import budget_for

F32, F16, BF16 = budget_for("float32"), budget_for("float16"), budget_for("bfloat16")


def _values(widths: list[int], samples: int, seed: int) -> list[list[int]]:
    if sum(widths) <= 12:
        combos = list(itertools.product(*[range(1 << w) for w in widths]))
        return [list(c) for c in zip(*combos)]
    rng = random.Random(seed)
    cols = [[rng.getrandbits(w) for _ in range(samples)] for w in widths]
    for v, w in zip(cols, widths):  # the corners
        v[:3] = [0, (1 << w) - 1, 1 << (w - 1)]
    return cols


def _run(widths, build, expect, budget=F32, objective="depth", samples=200, seed=0, activation="step"):
    b = builder(budget, objective, activation)
    ops = [inputs(b, w) for w in widths]
    out = build(b, ops)
    vals = _values(widths, samples, seed)
    got = word_values(b, out, word_rows(vals, widths))
    want = [expect(*row) for row in zip(*vals)]
    assert got == want
    return used(b, out)


@pytest.mark.parametrize("activation", ["step", "relu"])
@pytest.mark.parametrize("budget", [F32, F16, BF16])
@pytest.mark.parametrize("n,m", [(1, 1), (1, 4), (2, 3), (3, 3), (4, 4), (5, 6), (6, 6)])
def test_multiply_exhaustive_small(n, m, budget, activation):
    for width in sorted({1, n, n + m - 1, n + m}):
        _run([n, m], lambda b, o: multiply(b, o[0], o[1], width), lambda x, y: x * y % (1 << width), budget,
             activation=activation)


@pytest.mark.parametrize("activation", ["step", "relu"])
@pytest.mark.parametrize("budget", [F32, F16, BF16])
@pytest.mark.parametrize("n", [8, 17, 33])
def test_multiply_random_wide(n, budget, activation):
    _run([n, n], lambda b, o: multiply(b, o[0], o[1], 2 * n), lambda x, y: x * y, budget, samples=120, seed=n,
         activation=activation)


@pytest.mark.slow
@pytest.mark.parametrize("n,width", [(64, 128), (128, 256)])
def test_multiply_random_up_to_256_bits(n, width):
    _run([n, n], lambda b, o: multiply(b, o[0], o[1], width), lambda x, y: x * y % (1 << width), samples=40,
         seed=n)


def test_multiplier_targets():
    """16x16 <= 10 layers, <= 1600 gates (and within float16's budget); 64x64 <= 16 layers, <= 18000 gates."""
    for budget in (F32, F16):
        gates, depth = _run([16, 16], lambda b, o: multiply(b, o[0], o[1], 32), lambda x, y: x * y, budget)
        assert depth <= 10 and gates <= 1600, (budget, gates, depth)



@pytest.mark.slow
def test_multiplier_target_64():
    b = builder(F32)
    out = multiply(b, inputs(b, 64), inputs(b, 64), 128)
    gates, depth = used(b, out)
    assert depth <= 16 and gates <= 18000, (gates, depth)


@pytest.mark.parametrize("c", [0, 1, 2, 3, 5, 7, 10, 15, 27, 255, 0xB5, 2**20 - 1])
def test_multiply_by_constant_makes_no_and_gates(c):
    width = 20

    def build(b, o):
        k = [b.const(bool(c >> i & 1)) for i in range(max(1, c.bit_length()))]
        return multiply(b, o[0], k, width)

    gates, depth = _run([12], build, lambda x: x * c % (1 << width), samples=300)
    n = max(1, c.bit_length())
    general, _ = _run([12, n], lambda b, o: multiply(b, o[0], o[1], width), lambda x, y: x * y % (1 << width),
                      samples=20)
    assert gates < general and depth <= 6  # no partial products


@given(st.integers(0, 2**40))
def test_csd_digits(c):
    d = csd_digits(c)
    assert sum(x << i for i, x in enumerate(d)) == c
    assert all(not (d[i] and d[i + 1]) for i in range(len(d) - 1))


@pytest.mark.parametrize("activation", ["step", "relu"])
@pytest.mark.parametrize("budget", [F32, BF16])
@pytest.mark.parametrize("widths", [[1, 1, 1], [2, 3, 4], [4, 4, 4], [3, 3, 3, 3], [1, 1, 1, 1, 1, 1, 1, 1]])
def test_add_many_exhaustive(widths, budget, activation):
    for width in sorted({1, max(widths), max(widths) + 2}):
        _run(widths, lambda b, o: add_many(b, o, width), lambda *v: sum(v) % (1 << width), budget,
             activation=activation)


@pytest.mark.parametrize("k,n", [(3, 32), (5, 64), (9, 100), (3, 256)])
def test_add_many_random(k, n):
    _run([n] * k, lambda b, o: add_many(b, o, n + 4), lambda *v: sum(v) % (1 << (n + 4)), samples=60, seed=k)


@pytest.mark.parametrize("activation", ["step", "relu"])
@pytest.mark.parametrize("budget", [F32, F16, BF16])
@pytest.mark.parametrize("n", [1, 2, 3, 7, 8, 16, 31, 64, 200])
def test_popcount(n, budget, activation):
    widths = [1] * n
    gates, depth = _run(widths, lambda b, o: popcount(b, [x for w in o for x in w]), lambda *v: sum(v),
                        budget, samples=300, seed=n, activation=activation)
    if budget == F32 and n == 64:
        assert depth <= 3 and gates <= 200, (gates, depth)


@settings(max_examples=30)
@given(st.integers(1, 30), st.data())
def test_symmetric_functions(n, data):
    table = data.draw(st.lists(st.integers(0, 1), min_size=n + 1, max_size=n + 1))
    budget = data.draw(st.sampled_from([F32, 40]))
    gates, _ = _run([1] * n, lambda b, o: [symmetric(b, [x for w in o for x in w], lambda c: table[c])],
                    lambda *v: table[sum(v)], budget)


@pytest.mark.parametrize("n,k", [(16, 9), (5, 2), (64, 33), (7, 1), (7, 7)])
def test_atleast_is_one_gate(n, k):
    gates, depth = _run([1] * n, lambda b, o: [symmetric(b, [x for w in o for x in w], lambda c: c >= k)],
                        lambda *v: int(sum(v) >= k), samples=300)
    assert (gates, depth) == (1, 1)


@given(st.lists(st.tuples(st.booleans(), st.integers(1, 70)), min_size=1, max_size=8), st.integers(0, 100))
def test_weighted_bits(items, const):
    b = builder(F32)
    xs = inputs(b, len(items))
    out = weighted_bits(b, [(x, w) for x, (_, w) in zip(xs, items)], const)
    rows = np.array(list(itertools.product([0, 1], repeat=len(items))))
    got = word_values(b, out, rows)
    assert got == [const + sum(r * w for r, (_, w) in zip(row, items)) for row in rows]
    assert used(b, out)[1] <= 2


@pytest.mark.parametrize("n,m,budget", [(16, 9, 40), (40, 17, 40), (40, 3, 64), (100, 51, 128)])
def test_wide_atleast_counts_in_blocks(n, m, budget):
    _run([1] * n, lambda b, o: [symmetric(b, [x for w in o for x in w], lambda c: c >= m)],
         lambda *v: int(sum(v) >= m), budget, samples=300, seed=n)


@given(st.integers(0, 2**12), st.integers(1, 12), st.sampled_from([F32, 40, 24]))
def test_ge_const(m, n, budget):
    _run([n], lambda b, o: [ge_const(b, o[0], m)], lambda v: int(v >= m), budget)
