"""The bit-parallel simulators agree with the plain evaluator, and ``check`` does not trust ``lower``.

``BitSim`` simulates the lowered boolean graph; ``SpecSim`` simulates the
spec itself and is ``check``'s oracle above ``SIM_ABOVE`` assignments.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import threshnet
from threshnet.check import SIM_ABOVE
from threshnet.compiler import lower as lower_module
from threshnet.compiler.bitsim import BitSim, pack_rows, unpack_rows
from threshnet.compiler.keys import OP, OP_AND, OP_OR
from threshnet.compiler.lower import lower
from threshnet.compiler.spec import AND, XOR, Assign, BinOp, Name, Not, Spec
from threshnet.compiler.specsim import SpecSim
from threshnet.testing import xor_specs

EXAMPLE = """
input a, b, c, d
output x, y, z, k, w
x = a ^ b ^ c ^ ~d
y = ~(a & b) | (c & ~d)
z = (a | b | c) & ~(b ^ d)
k = 1
w = ~a
"""

ALL16 = np.array([[(i >> k) & 1 for k in range(4)] for i in range(16)], dtype=np.uint8)


def test_pack_unpack_round_trip():
    rng = np.random.default_rng(0)
    for n in [1, 63, 64, 65, 200]:
        rows = rng.integers(0, 2, size=(n, 5), dtype=np.uint8)
        assert (unpack_rows(pack_rows(rows), n) == rows).all()


@pytest.mark.parametrize("sim", [lambda s: BitSim(lower(s)), SpecSim], ids=["bitsim", "specsim"])
def test_matches_evaluator_on_all_rows(sim):
    spec = threshnet.parse(EXAMPLE)
    rows = np.repeat(ALL16, 9, axis=0)  # 144 rows: more than two words
    assert (sim(spec).run(rows) == threshnet.evaluate_batch(spec, rows)).all()


@pytest.mark.parametrize("sim", [lambda s: BitSim(lower(s)), SpecSim], ids=["bitsim", "specsim"])
def test_a_wrong_gate_is_seen(sim):
    spec = threshnet.parse(EXAMPLE)
    wrong = threshnet.parse(EXAMPLE.replace("c & ~d", "c & d"))
    assert not (sim(wrong).run(ALL16) == threshnet.evaluate_batch(spec, ALL16)).all()


def _rows(data, n: int) -> np.ndarray:
    rows = data.draw(st.lists(st.lists(st.integers(0, 1), min_size=n, max_size=n), min_size=1, max_size=150))
    return np.array(rows, dtype=np.uint8).reshape(len(rows), n)


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_bitsim_matches_evaluator_on_random_specs(data):
    from threshnet.testing import specs

    spec = data.draw(specs(max_inputs=8, max_gates=30))
    rows = _rows(data, len(spec.inputs))
    assert (BitSim(lower(spec)).run(rows) == threshnet.evaluate_batch(spec, rows)).all()


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_specsim_matches_evaluator_on_random_specs(data):
    from threshnet.testing import specs

    spec = data.draw(st.one_of(specs(max_inputs=8, max_gates=40), xor_specs(max_inputs=8, max_gates=40)))
    rows = _rows(data, len(spec.inputs))
    assert (SpecSim(spec).run(rows) == threshnet.evaluate_batch(spec, rows)).all()


@settings(max_examples=15, deadline=None)
@given(st.data())
def test_specsim_matches_evaluator_in_several_chunks(data):
    """Tiny chunks, so rows cross chunk boundaries inside one run."""
    spec = data.draw(xor_specs(max_inputs=10, max_gates=60))
    sim = SpecSim(spec)
    sim.chunk_words = 1
    rows = np.random.default_rng(data.draw(st.integers(0, 99))).integers(
        0, 2, size=(300, len(spec.inputs)), dtype=np.uint8)
    assert (sim.run(rows) == threshnet.evaluate_batch(spec, rows)).all()


def test_specsim_shares_a_node_object_read_twice():
    """A Spec built in code may reuse one expression object; it is simulated once and correctly."""
    a, b = Name("a"), Name("b")
    t = BinOp(XOR, a, b)
    spec = Spec(("a", "b"), ("y",), (Assign("y", BinOp(AND, t, Not(t))),))
    sim = SpecSim(spec)
    assert sim.n_signals == 1 + 2 + 2  # const, a, b, the XOR, the AND
    assert (sim.run(ALL16[:4, :2]) == 0).all()


def test_specsim_deep_chains_need_no_recursion():
    limit = sys.getrecursionlimit()
    e = Name("a")
    for _ in range(30_000):  # far beyond the default recursion limit (1000)
        e = Not(e)
    chain = Name("x0")
    for i in range(1, 30_000):
        chain = BinOp(AND if i % 3 else XOR, chain, Name(f"x{i % 7}"))
    spec = Spec(("a", *(f"x{i}" for i in range(7))), ("n", "c"), (Assign("n", e), Assign("c", chain)))
    rows = np.random.default_rng(1).integers(0, 2, size=(100, 8), dtype=np.uint8)
    got = SpecSim(spec).run(rows)
    assert (got[:, 0] == rows[:, 0]).all()  # an even number of ~
    assert sys.getrecursionlimit() == limit


def test_specsim_refuses_bad_rows():
    sim = SpecSim(threshnet.parse(EXAMPLE))
    with pytest.raises(ValueError, match="only 0 and 1"):
        sim.run(np.full((2, 4), 2))
    with pytest.raises(ValueError, match="shape"):
        sim.run(np.zeros((2, 3)))


def _big_parity_spec() -> Spec:
    """More than SIM_ABOVE assignments: w_i = w_(i-1) ^ (x_a & x_b); the output is their parity."""
    n_in, n = 24, SIM_ABOVE + 100
    lines = [f"input {', '.join(f'x{i}' for i in range(n_in))}", "output y, z",
             "w0 = x0 & x1"]
    for i in range(1, n):
        a, b = (7 * i) % n_in, (11 * i + 3) % n_in
        lines.append(f"w{i} = w{i - 1} ^ (x{a} & x{b})")
    lines += [f"y = w{n - 1}", "z = w5 | x3"]
    spec = threshnet.parse("\n".join(lines))
    assert len(spec.assignments) > SIM_ABOVE
    return spec


def test_check_is_independent_of_lower(monkeypatch):
    """A lowering bug (one AND gate turned into OR) makes ``check`` fail on a spec above SIM_ABOVE.

    With the former oracle, ``BitSim(lower(spec))``, the wrong gate is on both sides and ``check``
    passes; the last assertion shows that.
    """
    spec = _big_parity_spec()
    real_lower = lower_module.lower

    def bad_lower(s, *args, **kwargs):
        g = real_lower(s, *args, **kwargs)
        victim = min(v for v in g.nodes if g.nodes[v][OP] == OP_AND)
        g.nodes[victim][OP] = OP_OR
        return g

    for mod in list(sys.modules.values()):  # wherever the pipeline imported `lower` from
        if getattr(mod, "__name__", "").startswith("threshnet") and getattr(mod, "lower", None) is real_lower:
            monkeypatch.setattr(mod, "lower", bad_lower)
    net = threshnet.compile(spec, layout="sparse")
    report = threshnet.check(net, spec, samples=2000)
    assert not report.ok, report
    assert "MISMATCH" in str(report)

    rows = np.random.default_rng(0).integers(0, 2, size=(2000, len(spec.inputs)), dtype=np.uint8)
    import torch

    with torch.no_grad():
        got = net(torch.as_tensor(rows, dtype=torch.float32)).numpy()
    assert (BitSim(bad_lower(spec)).run(rows) == got).all()  # the old oracle agrees with the bad net


def test_check_passes_a_good_network_above_sim_above():
    spec = _big_parity_spec()
    assert threshnet.check(threshnet.compile(spec, layout="sparse"), spec, samples=2000).ok
