"""Threshold synthesis of word programs: every construction equals the word oracle (``evaluate_words``).

The builder is simulated directly (numpy, exhaustive for small widths and
random rows up to 256 bits, in both activations' budgets and several dtypes);
whole compiles run the torch network against the oracle; the structural
targets (layers and gates) of issue 9 are pinned.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import threshnet
from threshnet.compiler.synth import FALSE, TRUE, Builder, Unfit, budget_for, synthesize
from threshnet.compiler.words import Port, WNode, WordSpec

from synth_util import binop, bits_op, dummy_spec, net_check, sim_check

BINOPS = ["add", "sub", "lt", "le", "gt", "ge", "eq", "ne", "min", "max", "and", "or", "xor", "mul"]
CMP = ("lt", "le", "gt", "ge", "eq", "ne")


def _wout(op: str, wa: int, wb: int) -> int:
    if op in CMP:
        return 1
    if op == "add":
        return max(wa, wb) + 1
    if op == "mul":
        return wa + wb
    return max(wa, wb)


def _ws(op: str, wa: int, wb: int) -> WordSpec:
    if op in ("and", "or", "xor"):
        wb = wa
    return binop(op, wa, wb, _wout(op, wa, wb))


# ----------------------------------------------------------------------------- the builder

def test_builder_folds_and_shares():
    b = Builder(budget_for("float32"))
    x, y = b.input("x"), b.input("y")
    assert b.th([(x, 1)], 1) == x and b.th([(x, -1)], 0) == x ^ 1
    assert b.th([(x, 1), (y, 1)], 0) == TRUE and b.th([(x, 1), (y, 1)], 3) == FALSE
    assert b.th([(x, 1), (TRUE, 1)], 2) == x  # a constant moves into the threshold
    g = b.and_([x, y])
    assert b.or_([x ^ 1, y ^ 1]) == g ^ 1  # a gate and its complement are one node
    assert b.th([(x, 1), (x, 1), (y, 1)], 3) == b.th([(x, 2), (y, 1)], 3)
    assert b.xor([x, x]) == FALSE and b.xor([x, x ^ 1]) == TRUE and b.xor([x, FALSE]) == x
    assert b.size == 2  # the AND and the 3-input merge
    assert b.depth(g) == 1 and b.depth(x) == 0


def test_builder_refuses_a_gate_over_budget_and_rolls_back():
    b = Builder(budget_for("bfloat16"))  # partial sums up to 128
    xs = [b.input(f"x{i}") for i in range(8)]
    with pytest.raises(Unfit):
        b.th([(x, 1 << i) for i, x in enumerate(xs)], 1)
    m = b.mark()
    assert b.attempt(lambda: [b.and_(xs[:2]), b.th([(x, 1 << i) for i, x in enumerate(xs)], 1)]) is None
    assert b.mark() == m and b.size == 0
    b2 = Builder(budget_for("float32"), max_weight=4)
    ys = [b2.input(f"y{i}") for i in range(3)]
    with pytest.raises(Unfit):
        b2.th([(ys[0], 5), (ys[1], 1)], 1)


def test_refusal_names_the_partial_sums_of_the_gate_as_written():
    """A gate whose first weight is negative is stored negated (threshold 1 - t); the refusal's figure is
    the cost of the gate as asked for, |t| + 2 + sum |w| = 3 + 2 + 8 under ReLU, not the stored one's 14."""
    b = Builder(10, activation="relu")
    x, y = b.input("x"), b.input("y")
    with pytest.raises(Unfit, match=r"partial sums up to 13 \(budget 10\)"):
        b.th([(x, -4), (y, -4)], -3)


def test_relu_budget_counts_wide_gates_twice():
    """A reader of a wide ReLU gate sees its two neurons' values (up to about twice its range)."""
    made = {}
    for act in ("step", "relu"):
        b = Builder(256, activation=act)
        xs = [b.input(f"x{i}") for i in range(6)]
        g = b.th([(x, 1 << i) for i, x in enumerate(xs)], 32, "wide")  # z in -32..31: two ReLU neurons
        b.th([(g, 4), (xs[0], 1)], 1)
        made[act] = (b, g, xs)
    b, g, xs = made["relu"]
    with pytest.raises(Unfit):
        b.th([(g, 8), (xs[1], 1)], 1)  # 8 * 63 > 256
    b, g, xs = made["step"]
    b.th([(g, 8), (xs[1], 1)], 1)  # a step neuron passes 0 or 1


# ----------------------------------------------------------------------------- constructions

@pytest.mark.parametrize("op", BINOPS)
@pytest.mark.parametrize("objective", ["depth", "size"])
def test_small_widths_exhaustive(op, objective):
    for wa in range(1, 5):
        for wb in range(1, 5):
            sim_check(_ws(op, wa, wb), objective=objective, rows=None)


@pytest.mark.parametrize("op", ["add", "sub", "lt", "gt", "eq", "ne", "le", "ge", "min", "max"])
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("activation", ["step", "relu"])
def test_wide_words_random(op, dtype, activation):
    for n in (7, 23, 64, 256):
        sim_check(_ws(op, n, n), dtype=dtype, activation=activation, rows=60, seed=n)


@pytest.mark.parametrize("objective", ["depth", "size"])
def test_mixed_widths_and_truncation(objective):
    for wa, wb, w in ((3, 9, 4), (9, 3, 12), (16, 16, 16), (16, 16, 5)):
        for op in ("add", "sub", "mul"):
            sim_check(binop(op, wa, wb, w), objective=objective, rows=200)


def test_max_weight_caps_every_weight():
    for cap in (2, 8, 64):
        for op in ("add", "sub", "lt", "eq"):
            b = sim_check(_ws(op, 24, 24), max_weight=cap, rows=80)
            assert all(abs(w) <= cap for g in b.gates if g is not None for _, w in g.terms)


@pytest.mark.parametrize("op,params,n,wout", [
    ("atleast", (2,), 5, 1), ("atleast", (9,), 16, 1), ("atleast", (0,), 3, 1), ("atleast", (4,), 3, 1),
    ("parity", (), 9, 1), ("popcount", (), 11, 4), ("popcount", (), 5, 2), ("th", None, 6, 1)])
def test_counting_ops(op, params, n, wout):
    if op == "th":
        ws = WordSpec(inputs=tuple(Port(f"x{i}") for i in range(n)), outputs=((Port("y"), n),),
                      nodes=tuple(WNode("input", (), 1, (i,)) for i in range(n))
                      + (WNode("th", tuple(range(n)), 1, ((3, -2, 5, 1, -1, 2), 4), name="y"),))
    else:
        ws = bits_op(op, n, params, wout)
    for dtype in ("float32", "bfloat16"):
        sim_check(ws, dtype=dtype, rows=None if n <= 12 else 3000)


def test_wiring_ops_cost_nothing():
    ws = WordSpec(inputs=(Port("a", 8, True), Port("c")),
                  outputs=((Port("y", 8, True), 8), (Port("z", 12, True), 9)),
                  nodes=(WNode("input", (), 8, (0,)), WNode("input", (), 1, (1,)),
                         WNode("slice", (0,), 4, (6, 3)), WNode("not", (2,), 4), WNode("const", (), 3, (5,)),
                         WNode("concat", (3, 4, 1), 8), WNode("shl", (5,), 8, (2,)), WNode("shr", (6,), 8, (1,)),
                         WNode("mux", (1, 7, 0), 8, (), name="y"), WNode("zext", (7,), 12, (), name="z")))
    b = sim_check(ws, rows=None)
    # Only the mux makes gates: two per bit where the selected word's bit is a signal (bits 5, 6),
    # one where it is a constant or the condition itself (the other six).
    assert b.size == 10


_OPS2 = ["add", "sub", "lt", "le", "gt", "ge", "eq", "ne", "min", "max", "and", "or", "xor", "mul"]


@st.composite
def programs(draw) -> WordSpec:
    """Random word programs: a few inputs, operators over earlier nodes, resized by zext/slice."""
    n_in = draw(st.integers(1, 3))
    widths = [draw(st.integers(1, 6)) for _ in range(n_in)]
    nodes = [WNode("input", (), w, (i,)) for i, w in enumerate(widths)]
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(_OPS2 + ["not", "mux", "shl", "shr", "popcount", "atleast", "parity", "const"]))
        if op == "const":  # a constant operand for the next operator
            w = draw(st.integers(1, 6))
            nodes.append(WNode("const", (), w, (draw(st.integers(0, (1 << w) - 1)),)))
            op = draw(st.sampled_from(_OPS2))
        pick = lambda: draw(st.integers(0, len(nodes) - 1))  # noqa: E731
        a = len(nodes) - 1 if nodes[-1].op == "const" and draw(st.booleans()) else pick()
        wa = nodes[a].width
        if op in ("not", "shl", "shr"):
            k = draw(st.integers(0, 3))
            nodes.append(WNode(op, (a,), wa, () if op == "not" else (k,)))
        elif op in ("popcount", "atleast", "parity"):
            c = pick()
            bits = wa + nodes[c].width
            params = (draw(st.integers(0, bits + 1)),) if op == "atleast" else ()
            nodes.append(WNode(op, (a, c), max(1, bits.bit_length()) if op == "popcount" else 1, params))
        elif op == "mux":
            c = draw(st.sampled_from([i for i, n in enumerate(nodes) if n.width == 1] or [None]))
            if c is None:
                c = len(nodes)
                nodes.append(WNode("slice", (a,), 1, (0, 0)))
            y = pick()
            w = max(wa, nodes[y].width)
            xs = [a, y]
            for j, s in enumerate(xs):
                if nodes[s].width != w:
                    nodes.append(WNode("zext", (s,), w))
                    xs[j] = len(nodes) - 1
            nodes.append(WNode("mux", (c, xs[0], xs[1]), w))
        else:
            c = pick()
            wb = nodes[c].width
            if op in ("and", "or", "xor") and wa != wb:
                w = max(wa, wb)
                for s in (a, c):
                    if nodes[s].width != w:
                        nodes.append(WNode("zext", (s,), w))
                a, c = (a if nodes[a].width == w else len(nodes) - (2 if nodes[c].width != w else 1),
                        c if nodes[c].width == w else len(nodes) - 1)
            w = 1 if op in CMP else draw(st.integers(1, 8))
            nodes.append(WNode(op, (a, c), w if op not in ("and", "or", "xor") else nodes[a].width))
    outs = ((Port("o", nodes[-1].width, True), len(nodes) - 1),)
    return WordSpec(tuple(Port(f"i{k}", w, True) for k, w in enumerate(widths)), outs, tuple(nodes))


@settings(max_examples=60)
@given(programs(), st.sampled_from(["float32", "bfloat16"]), st.sampled_from(["step", "relu"]),
       st.sampled_from(["depth", "size"]))
def test_random_programs_match_the_oracle(ws, dtype, activation, objective):
    sim_check(ws, dtype=dtype, activation=activation, objective=objective, rows=None if sum(
        p.width for p in ws.inputs) <= 10 else 200)


# ----------------------------------------------------------------------------- whole compiles

def _stats(ws: WordSpec, dtype: str = "float32", activation: str = "step", objective: str = "depth"):
    net = threshnet.compile(dummy_spec(ws), activation, dtype=dtype, objective=objective, layout="mlp")
    s = net.stats()
    return net, s.layers, sum(s.neurons) - s.passthroughs


@pytest.mark.parametrize("activation", ["step", "relu"])
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_networks_equal_the_oracle(activation, dtype):
    for ws in (_ws("add", 32, 32), _ws("sub", 20, 20), _ws("lt", 40, 40), _ws("max", 12, 12)):
        net, _, _ = _stats(ws, dtype, activation)
        net_check(net, ws, rows=200)


def test_issue_targets():
    """Issue 9's table, step activation, float32 (bfloat16 where named)."""
    _, layers, gates = _stats(_ws("add", 32, 32))
    assert layers <= 4 and gates <= 165
    _, layers, gates = _stats(_ws("add", 128, 128))
    assert layers <= 4 and gates <= 645
    lteq = WordSpec(inputs=(Port("a", 64, True), Port("b", 64, True)), outputs=((Port("lt"), 2), (Port("eq"), 3)),
                    nodes=(WNode("input", (), 64, (0,)), WNode("input", (), 64, (1,)),
                           WNode("lt", (0, 1), 1, (), name="lt"), WNode("eq", (0, 1), 1, (), name="eq")))
    _, layers, gates = _stats(lteq)
    assert layers <= 2 and gates <= 24
    for ws in (bits_op("atleast", 16, (9,)), bits_op("atleast", 5, (2,)), binop("gt", 4, 4, 1)):
        assert _stats(ws)[1:] == (1, 1)
    net, layers, _ = _stats(_ws("add", 32, 32), "bfloat16")
    assert layers <= 8
    net_check(net, _ws("add", 32, 32), rows=100)


def test_size_objective_is_smaller_and_deeper():
    _, ld, gd = _stats(_ws("add", 16, 16), objective="depth")
    _, ls, gs = _stats(_ws("add", 16, 16), objective="size")
    assert gs <= gd and ls > ld


def test_synthesize_validates_options():
    with pytest.raises(ValueError, match="objective"):
        synthesize(_ws("add", 4, 4), objective="fast")
    with pytest.raises(ValueError, match="max_weight"):
        synthesize(_ws("add", 4, 4), max_weight=1)
    with pytest.raises(ValueError, match="dtype"):
        synthesize(_ws("add", 4, 4), dtype="int8")


def test_a_gate_that_cannot_fit_is_a_located_error():
    text = "input x[3]\noutput y\ny = th(100000000*x[0] + x[1] + x[2] >= 2)\n"
    with pytest.raises(threshnet.SpecError) as e:
        threshnet.compile(threshnet.parse(text))
    assert str(e.value).startswith("<spec>:3:5: error: th: no exact threshold construction fits the target")
    assert "    y = th(100000000*x[0]" in str(e.value)
    net = threshnet.compile(threshnet.parse(text), dtype="float64")
    assert threshnet.check(net, net.spec).ok


@pytest.mark.parametrize("activation", ["step", "relu"])
def test_parsed_specs_compile_and_check(activation):
    for text in ("input a[12], b[12]\noutput s[13], lt, m[12]\ns = a + b\nlt = a < b\nm = max(a, b)\n",
                 "input a[6], b[6], c\noutput d[6], e\nd = (c ? a - b : b - a)[5:0]\ne = a != b\n"):
        spec = threshnet.parse(text)
        for dtype in ("float32", "bfloat16"):
            net = threshnet.compile(spec, activation, dtype=dtype)
            assert threshnet.check(net, spec).ok


@pytest.mark.parametrize("activation", ["step", "relu"])
def test_256_bit_networks_on_random_values(activation):
    for ws in (_ws("add", 256, 256), _ws("lt", 256, 256)):
        net = threshnet.compile(dummy_spec(ws), activation, layout="sparse")
        net_check(net, ws, rows=40)


@pytest.mark.parametrize("activation", ["step", "relu"])
def test_counts_too_wide_for_one_gate(activation):
    """bfloat16 holds no gate over 130 bits: atleast counts first, parity splits."""
    for ws in (bits_op("atleast", 200, (100,)), bits_op("atleast", 130, (129,)), bits_op("parity", 300, ())):
        sim_check(ws, dtype="bfloat16", activation=activation, rows=100)


def test_compare_with_own_complement_under_weight_cap_two():
    """``a < ~a`` doubles every digit's weight; with max_weight=2 only the unit-weight ripple fits."""
    ws = WordSpec(inputs=(Port("a", 5, True),), outputs=((Port("y"), 2),),
                  nodes=(WNode("input", (), 5, (0,)), WNode("not", (0,), 5), WNode("lt", (0, 1), 1, (), name="y")))
    for cap in (2, 3, None):
        sim_check(ws, max_weight=cap, rows=None)


@pytest.mark.parametrize("text", [
    "input a[3], b[3]\noutput y\ny = a + b < 7\n",
    "input a[3], b[3]\noutput y\ny = 5 <= a + b\n",
])
def test_a_count_compared_with_a_constant_is_one_gate(text):
    """`sum >= K` over an add that cannot wrap folds into one threshold gate (exhaustively checked)."""
    net = threshnet.compile(text, "step")
    assert net.stats().neurons == (1,)
    assert threshnet.check(net, net.spec).ok
