"""Writers take v2 specs: BLIF, AIGER and ``.bool`` read back to the same bit-level ports and function.

``.bool`` declares vector ports as vectors (``input a[4]``) and assigns their bits one by one
(``s[0] = ...``), text that the v2 parser reads back; BLIF and AIGER carry the bit names
``a[3]`` as they are.  Reads only text written here.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import threshnet
from threshnet.compiler.evaluate import evaluate_batch
from threshnet.compiler.ports import ports_of
from threshnet.compiler.spec import Assign, BinOp, Name, Spec, XOR
from threshnet.frontends import read_renaming, read_text, rename_for, write_text

from test_ports import adder_blif

FORMATS = ["bool", "blif", "aag", "aig"]

ADD4_V2 = """\
input a[4], b[4], cin
output s[5]
s = (a + b + cin)[4:0]
"""

MIXED_V2 = """\
input x[3], y
output eq, m[3], t
eq = x == {y, y, y}
m = y ? x : ~x
t = maj(x[0], x[1], x[2])
"""


def rows(n: int) -> np.ndarray:
    return np.array(list(itertools.product((0, 1), repeat=n)), np.uint8).reshape(-1, n)


def back(spec: Spec, fmt: str) -> Spec:
    data = write_text(spec, fmt)
    got = read_text(data, fmt, f"out.{fmt}")
    assert got.inputs == spec.inputs and got.outputs == spec.outputs
    return got


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("text", [ADD4_V2, MIXED_V2], ids=["add4", "mixed"])
def test_v2_spec_round_trips(text, fmt):
    spec = threshnet.parse(text, "v2.bool")
    got = back(spec, fmt)
    r = rows(spec.n_inputs)
    assert (evaluate_batch(spec, r) == evaluate_batch(got, r)).all()
    assert ports_of(got) == ports_of(spec)


def test_bool_text_declares_vectors_and_assigns_bits():
    spec = threshnet.parse(ADD4_V2, "add4.bool")
    text = write_text(spec, "bool")
    assert text.startswith("input a[4], b[4], cin\noutput s[5]\n")
    assert not any(k.startswith(("a[", "b[", "s[")) for k in rename_for(spec, "bool"))  # port bits kept
    for i in range(5):
        assert f"\ns[{i}] = " in text
    again = threshnet.parse(text, "again.bool")
    assert again.words is not None
    assert threshnet.evaluate(again, {"a": 9, "b": 15, "cin": 1}) == {"s": 25}


def test_netlist_with_bit_names_writes_v2_bool():
    spec = read_text(adder_blif(3), "blif", "add3.blif")
    text = write_text(spec, "bool")
    assert text.startswith("input a[3], b[3], cin\noutput s[4]\n")
    got = threshnet.parse(text)
    assert got.inputs == spec.inputs and got.outputs == spec.outputs
    for a, b, c in itertools.product(range(8), range(8), range(2)):
        assert threshnet.evaluate(got, {"a": a, "b": b, "cin": c}) == {"s": a + b + c}


def test_bool_renames_a_signal_named_like_a_vector():
    """An inner signal ``a`` next to the vector ``a[2]`` is renamed (v2 would read ``a`` as the vector)."""
    spec = Spec(("a[0]", "a[1]"), ("y",),
                (Assign("a", BinOp(XOR, Name("a[0]"), Name("a[1]"))), Assign("y", Name("a"))))
    assert rename_for(spec, "bool") == {"a": "a_1"}
    text = write_text(spec, "bool")
    assert "input a[2]\n" in text and "a_1 = a[0] ^ a[1]\n" in text
    assert read_renaming(text) == {"a_1": "a"}
    got = threshnet.parse(text)
    assert (evaluate_batch(got, rows(2)) == evaluate_batch(spec, rows(2))).all()


def test_bool_falls_back_to_bits_when_a_vector_cannot_be_declared():
    """The same name a vector on both sides: ports are written bit by bit, renamed as in v1."""
    spec = Spec(("a[0]", "a[1]"), ("a[0]", "a[1]", "y"), (Assign("y", BinOp(XOR, Name("a[0]"), Name("a[1]"))),))
    text = write_text(spec, "bool")
    assert "input a_0_, a_1_\noutput a_0_, a_1_, y\n" in text
    got = threshnet.parse(text)
    assert (evaluate_batch(got, rows(2)) == evaluate_batch(spec, rows(2))).all()


# -- random v2 specs -------------------------------------------------------------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from test_ports import v2_specs  # noqa: E402

@settings(max_examples=30)
@given(v2_specs(), st.sampled_from(FORMATS))
def test_random_v2_specs_round_trip(text, fmt):
    spec = threshnet.parse(text, "r.bool")
    got = back(spec, fmt)
    r = rows(spec.n_inputs)
    assert (evaluate_batch(spec, r) == evaluate_batch(got, r)).all(), text
    assert ports_of(got) == ports_of(spec)


@settings(max_examples=25)
@given(st.data(), st.sampled_from(FORMATS))
def test_testing_v2_specs_round_trip(data, fmt):
    """threshnet.testing's v2 specs (functions, bit-by-bit outputs, every operator) through every writer."""
    from threshnet.testing import fuzz_rows, v2_spec_texts

    text = data.draw(v2_spec_texts())
    spec = threshnet.parse(text, "r.bool")
    got = back(spec, fmt)
    r = fuzz_rows(spec.n_inputs)
    assert (evaluate_batch(spec, r) == evaluate_batch(got, r)).all(), text
    assert ports_of(got) == ports_of(spec)


@settings(max_examples=40)
@given(st.data())
def test_word_programs_pickle_whole(data):
    """A pickled spec keeps its word program node for node: ops, operands, widths, params, spans and names
    (the packed table of ``WordSpec.__reduce__``)."""
    import pickle

    from threshnet.testing import v2_spec_texts

    text = data.draw(st.one_of(v2_spec_texts(), v2_specs()))
    spec = threshnet.parse(text, "r.bool")
    back_spec = pickle.loads(pickle.dumps(spec))
    ws, got = spec.words, back_spec.words
    assert got == ws and got.filename == ws.filename and got.source == ws.source
    assert [(n.span, n.name) for n in got.nodes] == [(n.span, n.name) for n in ws.nodes]
    assert [type(x) for n in got.nodes for x in n.params] == [type(x) for n in ws.nodes for x in n.params]
