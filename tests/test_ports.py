"""Word ports (threshnet.compiler.ports): the grouping rule, word-valued evaluation, and the network's
``encode``/``decode``/``run``, on hand-written netlists and on EPFL circuits whose ports carry ``[i]``.

Reads only repository files (``benchmarks/circuits``) and text written here.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import threshnet
from threshnet.compiler.ports import Ports, WordPort, group_ports, parse_number, ports_from_names, ports_of
from threshnet.compiler.words import Port, WNode, WordSpec, evaluate_words
from threshnet.frontends import read_text

ROOT = Path(__file__).resolve().parent.parent
EPFL = ROOT / "benchmarks" / "circuits" / "epfl"


def adder_blif(n: int) -> str:
    """An ``n``-bit ripple adder: inputs ``a[n], b[n], cin``, output ``s[n+1]`` (BLIF, bit names ``x[i]``)."""
    lines = [".model add", ".inputs " + " ".join([f"a[{i}]" for i in range(n)] + [f"b[{i}]" for i in range(n)]
                                                 + ["cin"]),
             ".outputs " + " ".join(f"s[{i}]" for i in range(n + 1))]
    carry = "cin"
    for i in range(n):
        out_c = f"s[{n}]" if i == n - 1 else f"c{i + 1}"
        lines += [f".names a[{i}] b[{i}] {carry} s[{i}]", "100 1", "010 1", "001 1", "111 1",
                  f".names a[{i}] b[{i}] {carry} {out_c}", "11- 1", "1-1 1", "-11 1"]
        carry = out_c
    return "\n".join(lines + [".end", ""])


ADD4 = read_text(adder_blif(4), "blif", "add4.blif")


# -- the rule -----------------------------------------------------------------------------------------
def shape(ports: tuple[WordPort, ...]) -> list[str]:
    return [str(p) for p in ports]


def test_grouping_rule():
    assert shape(group_ports(["a[0]", "a[1]", "a[2]", "cin", "b[0]"])) == ["a[3]", "cin", "b[1]"]
    # out of order, a gap, split runs, leading zeros, a scalar of the same name: all stay bits
    assert shape(group_ports(["a[1]", "a[0]"])) == ["a[1]", "a[0]"]
    assert shape(group_ports(["a[0]", "a[2]"])) == ["a[0]", "a[2]"]
    assert shape(group_ports(["a[0]", "x", "a[1]"])) == ["a[0]", "x", "a[1]"]
    assert shape(group_ports(["a[00]", "a[1]"])) == ["a[00]", "a[1]"]
    assert shape(group_ports(["a", "a[0]", "a[1]"])) == ["a", "a[0]", "a[1]"]
    assert shape(group_ports(["m[0][0]", "m[0][1]"])) == ["m[0][0]", "m[0][1]"]  # no brackets in a base
    assert [p.vector for p in group_ports(["a[0]", "a[1]"])] == [True]
    p = group_ports(["x", "a[0]", "a[1]"])[1]
    assert (p.start, p.width, p.bits, list(p.columns)) == (1, 2, ("a[0]", "a[1]"), [1, 2])
    assert group_ports([]) == ()


@given(st.lists(st.sampled_from(["a[0]", "a[1]", "a[2]", "b[0]", "b[1]", "a", "c", "b[2]", "x[01]"]),
                unique=True))
def test_ports_cover_every_bit_once_in_order(names):
    ports = group_ports(names)
    assert [b for p in ports for b in p.bits] == names
    assert [c for p in ports for c in p.columns] == list(range(len(names)))
    bases = [p.name for p in ports]
    assert len(set(bases)) == len(bases) or not any(p.vector for p in ports)


def test_parse_number():
    assert [parse_number(t) for t in ("42", "0x2A", "0b101010", "007", "0X2a")] == [42, 42, 42, 7, 42]
    assert [parse_number(t) for t in ("", "-1", "0x", "0b2", "1.0", "4 2", "0o7")] == [None] * 7


def test_words_of_a_v2_spec_match_the_names():
    """``spec.words`` declares the ports; they agree with what the names give."""
    ws = WordSpec(inputs=(Port("a", 4, True), Port("b", 4, True), Port("cin")),
                  outputs=((Port("s", 5, True), 5),),
                  nodes=(WNode("input", (), 4, (0,)), WNode("input", (), 4, (1,)), WNode("input", (), 1, (2,)),
                         WNode("add", (0, 1), 5), WNode("zext", (2,), 5), WNode("add", (3, 4), 5)))
    # the last add is 6 bits wide in the language; mod 2**5 here never drops a bit (15 + 15 + 1 < 32)
    spec = dataclasses.replace(ADD4, words=ws)
    assert ports_of(spec) == ports_of(ADD4) == ports_from_names(ADD4.inputs, ADD4.outputs)
    for a, b, c in [(0, 0, 0), (15, 15, 1), (9, 6, 1), (7, 8, 0)]:
        assert threshnet.evaluate(spec, {"a": a, "b": b, "cin": c}) == evaluate_words(ws, {"a": a, "b": b, "cin": c})
    bad = dataclasses.replace(ws, inputs=(Port("a", 4, True), Port("cin"), Port("b", 4, True)))
    with pytest.raises(ValueError, match="differ from the spec's"):
        ports_of(dataclasses.replace(ADD4, words=bad))


# -- evaluate --------------------------------------------------------------------------------------
def test_evaluate_words_exhaustive_adder():
    for a, b, c in itertools.product(range(16), range(16), range(2)):
        assert threshnet.evaluate(ADD4, {"a": a, "b": b, "cin": c}) == {"s": a + b + c}


def test_evaluate_bits_unchanged_and_mixing():
    bits = {f"a[{i}]": 1 for i in range(4)} | {f"b[{i}]": 0 for i in range(4)} | {"cin": 1}
    assert threshnet.evaluate(ADD4, bits) == {"s[0]": 0, "s[1]": 0, "s[2]": 0, "s[3]": 0, "s[4]": 1}
    assert threshnet.evaluate(ADD4, bits, words=True) == {"s": 16}
    mixed = {f"a[{i}]": 1 for i in range(4)} | {"b": 3, "cin": 0}
    assert threshnet.evaluate(ADD4, mixed) == {"s": 18}  # a vector named whole: words
    assert threshnet.evaluate(ADD4, {"a": 1, **{f"b[{i}]": 0 for i in range(4)}, "cin": 0}) == {"s": 1}
    assert threshnet.evaluate(ADD4, mixed, words=False)["s[4]"] == 1
    # v1 specs: bits and words are one thing
    half = threshnet.parse("c1 = a0 & b0; c0 = a0 ^ b0")
    assert threshnet.evaluate(half, {"a0": 1, "b0": 1}) == threshnet.evaluate(half, {"a0": 1, "b0": 1}, words=True)


@pytest.mark.parametrize("values, message", [
    ({"a": 16, "b": 0, "cin": 0}, r"input a = 16 does not fit in 4 bits \(0\.\.15\)"),
    ({"a": -1, "b": 0, "cin": 0}, "input a = -1 is negative; words are unsigned"),
    ({"a": 1, "b": 0, "cin": 2}, r"input cin = 2 does not fit in 1 bit \(0\.\.1\)"),
    ({"a": 1, "b": 0, "cin": 0, "d": 1}, r"unknown input 'd'; inputs are a\[4\], b\[4\], cin"),
    ({"a": 1, "cin": 0}, r"missing input value\(s\): b$"),
    ({"a": 1, "b[0]": 1, "cin": 0}, r"missing input value\(s\): b\[1\], b\[2\], b\[3\]"),
    ({"a": 1, "a[2]": 1, "b": 0, "cin": 0}, r"input a is given both whole and by its bit a\[2\]"),
    ({"a": 1.5, "b": 0, "cin": 0}, "input a = 1.5 is not an integer"),
    ({"a": "3", "b": 0, "cin": 0}, "input a = '3' is not an integer"),
])
def test_evaluate_refuses(values, message):
    with pytest.raises(ValueError, match=message):
        threshnet.evaluate(ADD4, values)


def test_evaluate_accepts_integer_likes():
    want = {"s": 12}
    assert threshnet.evaluate(ADD4, {"a": np.int64(5), "b": torch.tensor(6), "cin": True}) == want
    assert threshnet.evaluate(ADD4, {"a": 5.0, "b": np.uint8(6), "cin": 1}) == want


def test_evaluate_batch_words():
    a = np.arange(16).repeat(32)
    b = np.tile(np.arange(16).repeat(2), 16)
    c = np.tile([0, 1], 256)
    got = threshnet.evaluate_batch(ADD4, {"a": a, "b": b, "cin": c})
    assert set(got) == {"s"} and got["s"].dtype == np.int64
    assert (got["s"] == a + b + c).all()
    # broadcasting, lists, tensors, a 2-d batch
    got = threshnet.evaluate_batch(ADD4, {"a": [[1, 2], [3, 4]], "b": torch.tensor(10), "cin": 1})
    assert got["s"].tolist() == [[12, 13], [14, 15]]
    with pytest.raises(ValueError, match="does not fit in 4 bits"):
        threshnet.evaluate_batch(ADD4, {"a": [1, 16], "b": 0, "cin": 0})
    with pytest.raises(ValueError, match="do not broadcast"):
        threshnet.evaluate_batch(ADD4, {"a": [1, 2], "b": [1, 2, 3], "cin": 0})


# -- the EPFL multiplier: 64 x 64 bits, 128-bit product, names a[i], b[i], f[i] -----------------------
@pytest.fixture(scope="module")
def multiplier():
    return threshnet.read(EPFL / "multiplier.aig")


def test_multiplier_words(multiplier):
    p = ports_of(multiplier)
    assert shape(p.inputs) == ["a[64]", "b[64]"] and shape(p.outputs) == ["f[128]"]
    top = (1 << 64) - 1
    for a, b in [(0, 0), (top, top), (200, 100), (0xDEADBEEFCAFEF00D, 0x0123456789ABCDEF)]:
        assert threshnet.evaluate(multiplier, {"a": a, "b": b}) == {"f": a * b}
    got = threshnet.evaluate_batch(multiplier, {"a": [3, top, 1 << 63], "b": [5, top, 3]})
    assert got["f"].dtype == object and got["f"].tolist() == [15, top * top, 3 << 63]


# -- the network -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def add4_net():
    return threshnet.compile(ADD4)


def test_net_encode_decode_run(add4_net):
    net = add4_net
    assert shape(net.ports.inputs) == ["a[4]", "b[4]", "cin"]
    x = net.encode(a=9, b=6, cin=1)
    assert x.shape == (9,) and x.dtype == net.dtype
    assert x.tolist() == [1, 0, 0, 1, 0, 1, 1, 0, 1]
    assert net.decode(net(x)) == {"s": 16}
    assert net.run(a=9, b=6, cin=1) == {"s": 16}
    assert net.run({"a[0]": 1, "a[1]": 0, "a[2]": 0, "a[3]": 0}, b=2, cin=0) == {"s": 3}
    # a batch: lists, arrays and tensors broadcast; results are int64 tensors
    a = torch.arange(16).repeat_interleave(32)
    b = torch.arange(16).repeat_interleave(2).repeat(16)
    c = torch.tensor([0, 1]).repeat(256)
    out = net.run(a=a, b=b, cin=c)
    assert out["s"].dtype == torch.int64 and torch.equal(out["s"], a + b + c)
    assert net.run(a=[1, 2], b=3, cin=0)["s"].tolist() == [4, 5]
    assert net.encode(a=[[1], [2]], b=0, cin=0).shape == (2, 1, 9)


def test_net_word_errors(add4_net):
    net = add4_net
    with pytest.raises(ValueError, match="does not fit in 4 bits"):
        net.encode(a=16, b=0, cin=0)
    with pytest.raises(ValueError, match="unknown input 'z'"):
        net.run(a=1, b=1, cin=0, z=1)
    with pytest.raises(ValueError, match="given twice"):
        net.encode({"a": 1}, a=1, b=0, cin=0)
    with pytest.raises(ValueError, match=r"output s\[1\] is 0.5, not 0 or 1"):
        net.decode(torch.tensor([1.0, 0.5, 0, 0, 0]))
    with pytest.raises(ValueError, match=r"output s\[0\] is 2.0, not 0 or 1"):
        net.decode(torch.tensor([[2.0, 0, 0, 0, 0]]))


def test_loaded_net_keeps_the_ports(add4_net, tmp_path):
    add4_net.save(tmp_path / "add4.pt2")
    net = threshnet.load(tmp_path / "add4.pt2")
    assert net.spec is None and net.ports == add4_net.ports
    assert net.run(a=15, b=15, cin=1) == {"s": 31}


def test_netlist_with_bit_names(add4_net):
    """ctrl (EPFL): vectors opcode[5], op_ext[2] and several vector and scalar outputs."""
    spec = threshnet.read(EPFL / "ctrl.blif")
    net = threshnet.compile(spec)
    p = net.ports
    assert shape(p.inputs) == ["opcode[5]", "op_ext[2]"]
    assert "sel_reg_dst[2]" in shape(p.outputs) and "sign" in shape(p.outputs)
    ops = np.arange(32).repeat(4)
    ext = np.tile(np.arange(4), 32)
    got = net.run(opcode=ops, op_ext=ext)
    want = threshnet.evaluate_batch(spec, {"opcode": ops, "op_ext": ext})
    assert set(got) == set(want) == {q.name for q in p.outputs}
    for k in want:
        assert got[k].tolist() == want[k].tolist()
    assert threshnet.evaluate(spec, {"opcode": 5, "op_ext": 2}) == {k: int(v[5 * 4 + 2]) for k, v in want.items()}


def test_ports_value_is_frozen():
    p = ports_from_names(("a[0]",), ("y",))
    assert isinstance(p, Ports)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.inputs = ()  # type: ignore[misc]


@given(st.lists(st.tuples(st.integers(1, 70), st.booleans()), min_size=1, max_size=5), st.data())
def test_encode_decode_round_trip(layout, data):
    """Random ports (vectors up to 70 bits, scalars): decode(encode(words)) == words, one row and batched."""
    names: list[str] = []
    for i, (w, vec) in enumerate(layout):
        names += [f"p{i}[{j}]" for j in range(w)] if vec else [f"p{i}"]
    ports = ports_from_names(names, names)
    widths = {p.name: p.width for p in ports.inputs}
    assert list(widths) == [f"p{i}" for i in range(len(layout))]
    values = {k: data.draw(st.integers(0, (1 << w) - 1)) for k, w in widths.items()}
    row = ports.encode(values)
    assert ports.decode(row) == values
    batch = {k: [v, 0, (1 << widths[k]) - 1] for k, v in values.items()}
    got = ports.decode_batch(ports.encode_batch(batch))
    assert {k: [int(x) for x in v.tolist()] for k, v in got.items()} == batch


# -- v2 examples: words in, words out, the word IR as the oracle ------------------------------------------
V2_EXAMPLES = ["adder8", "comparator8", "alu4", "popcount16", "majority17", "mult4"]


@pytest.mark.parametrize("name", V2_EXAMPLES)
def test_v2_example_words(name):
    """``evaluate`` (bits, read as words) and the network's ``run`` agree with ``evaluate_words`` on random words."""
    spec = threshnet.read(ROOT / "examples" / f"{name}.bool")
    assert spec.words is not None
    ports = ports_of(spec)
    assert [str(p) for p in ports.inputs] == [str(p) for p in group_ports(spec.inputs)]
    rng = np.random.default_rng(sum(map(ord, name)))
    batch = {p.name: rng.integers(0, 1 << p.width, 64).tolist() + [0, (1 << p.width) - 1] for p in ports.inputs}
    want = [evaluate_words(spec.words, {k: v[i] for k, v in batch.items()}) for i in range(66)]
    assert [threshnet.evaluate(spec, {k: v[i] for k, v in batch.items()}) for i in range(66)] == want
    got = threshnet.compile(spec).run(batch)
    assert [{k: int(v[i]) for k, v in got.items()} for i in range(66)] == want


# -- random v2 specs: the network in words equals the word IR ------------------------------------------------
EXPRS = ["a + b", "a - b", "a & b", "a ^ c", "a | b", "~a", "a == b", "a < b", "c ? a : b", "{a, c}",
         "(a * b)[1:0]", "a >> 1", "b << 1", "maj(a[0], b[0], c)", "popcount(a)", "min(a, b)", "max(a, b)",
         "xor(b)", "atleast(2, a, c)"]


@st.composite
def v2_specs(draw) -> str:
    wa, wb = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    picks = draw(st.lists(st.sampled_from(EXPRS), min_size=1, max_size=4, unique=True))
    outs = [f"o{i}" for i in range(len(picks))]
    # no output line: the outputs are inferred, each as wide as its expression
    return f"input a[{wa}], b[{wb}], c\n" + "".join(f"{o} = {e}\n" for o, e in zip(outs, picks))


@settings(max_examples=12)
@given(v2_specs(), st.data())
def test_random_v2_spec_net_runs_in_words(text, data):
    spec = threshnet.parse(text)
    net = threshnet.compile(spec)
    ports = ports_of(spec)
    values = {p.name: data.draw(st.lists(st.integers(0, (1 << p.width) - 1), min_size=1, max_size=8))
              for p in ports.inputs}
    n = min(map(len, values.values()))
    values = {k: v[:n] for k, v in values.items()}
    got = net.run(values)
    for i in range(n):
        want = evaluate_words(spec.words, {k: v[i] for k, v in values.items()})
        assert {k: int(v[i]) for k, v in got.items()} == want, text


def test_100k_bit_word():
    """A 100,000-bit vector encodes and decodes in time linear in its width."""
    names = [f"x[{i}]" for i in range(100_000)]
    ports = ports_from_names(names, names)
    assert [str(p) for p in ports.inputs] == ["x[100000]"]
    v = (1 << 100_000) - 12345
    row = ports.encode({"x": v})
    assert row[:3] == [1, 1, 1] and row[3] == 0 and ports.decode(row) == {"x": v}
