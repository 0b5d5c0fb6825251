"""Netlist front ends: BLIF, AIGER (.aag/.aig), ISCAS .bench and PLA to a Spec.

Reads only the circuits copied into ``benchmarks/circuits`` (see its README.md).
"""

from __future__ import annotations

import itertools
import random
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from threshnet.compiler.errors import SpecError
from threshnet.compiler.evaluate import evaluate_batch
from threshnet.compiler.spec import AND, XOR, BinOp, Name, Not, Spec, expr_equal, names_read
from threshnet.frontends import FORMATS, format_of, read, read_text

CIRCUITS = Path(__file__).resolve().parent.parent / "benchmarks" / "circuits"
NETLIST_EXTS = {".blif", ".aag", ".aig", ".bench", ".pla", ".bool"}
ALL_FILES = sorted(p for p in CIRCUITS.rglob("*") if p.suffix.lower() in NETLIST_EXTS)


def rel(p: Path) -> str:
    return p.relative_to(CIRCUITS).as_posix()


# -- helpers --------------------------------------------------------------------------------------
def all_rows(n: int) -> np.ndarray:
    if n == 0:
        return np.zeros((1, 0), dtype=np.uint8)
    return np.array(list(itertools.product((0, 1), repeat=n)), dtype=np.uint8).reshape(-1, n)


def assert_table(spec: Spec, inputs, outputs, fn) -> None:
    """Ports as given, and every row of the truth table equal to ``fn(*row)``."""
    assert spec.inputs == tuple(inputs)
    assert spec.outputs == tuple(outputs)
    rows = all_rows(len(inputs))
    got = evaluate_batch(spec, rows)
    for r, o in zip(rows, got):
        want = tuple(int(v) for v in fn(*(int(x) for x in r)))
        assert tuple(int(v) for v in o) == want, f"inputs {tuple(r)}"


def check_well_formed(spec: Spec) -> None:
    """One assignment per signal, none to an input, every read defined, no cycles."""
    targets = [a.target for a in spec.assignments]
    assert len(set(targets)) == len(targets), "duplicate assignment"
    inputs = set(spec.inputs)
    assert len(inputs) == len(spec.inputs), "duplicate input"
    assert len(set(spec.outputs)) == len(spec.outputs), "duplicate output"
    assert not inputs & set(targets), "assignment to an input"
    target_set = set(targets)
    defined = inputs | target_set
    deps = {}
    for a in spec.assignments:
        reads = {n.id for n in names_read(a.expr)}
        assert reads <= defined, f"{a.target} reads undefined {reads - defined}"
        deps[a.target] = reads & target_set
    for o in spec.outputs:
        assert o in defined
    # Kahn's algorithm: every assignment can be ordered.
    users: dict[str, list[str]] = {t: [] for t in targets}
    indeg = {t: len(d) for t, d in deps.items()}
    for t, d in deps.items():
        for x in d:
            users[x].append(t)
    ready = [t for t, k in indeg.items() if k == 0]
    seen = 0
    while ready:
        t = ready.pop()
        seen += 1
        for u in users[t]:
            indeg[u] -= 1
            if indeg[u] == 0:
                ready.append(u)
    assert seen == len(targets), "cycle in the spec"


def bits_to_int(bits) -> int:
    return sum(int(b) << i for i, b in enumerate(bits))


def int_to_bits(v: int, n: int) -> list[int]:
    return [(v >> i) & 1 for i in range(n)]


def message(fmt: str, text, filename: str | None = None, **kw) -> str:
    with pytest.raises(SpecError) as info:
        read_text(text, fmt, filename or f"t.{fmt}", **kw)
    return str(info.value)


# -- every benchmark file ---------------------------------------------------------------------------
def test_benchmark_folder_is_complete():
    by_ext: dict[str, int] = {}
    for p in ALL_FILES:
        by_ext[p.suffix] = by_ext.get(p.suffix, 0) + 1
    assert by_ext == {".aig": 11, ".blif": 32, ".bench": 7, ".pla": 9}
    for lic in ("epfl/LICENSE", "iscas85/LICENSE.ispras", "lgsynth91/LICENSE.ispras", "README.md"):
        assert (CIRCUITS / lic).is_file()
    # Nothing else that looks like a netlist is left unread (Verilog is another front end's job).
    other = {p.suffix for p in CIRCUITS.rglob("*.*") if p.is_file()} - NETLIST_EXTS
    assert other <= {".v", ".ispras", ".readme", ".md"}


@pytest.mark.parametrize("path", ALL_FILES, ids=rel)
def test_every_file_reads(path: Path):
    spec = read(str(path))
    assert spec.filename == str(path)
    assert spec.n_inputs > 0 and spec.n_outputs > 0
    if path.suffix == ".aig":
        assert spec.source is None
    else:
        assert isinstance(spec.source, str) and spec.source
    check_well_formed(spec)


# PIs and POs from the README's reference tables.
PORT_COUNTS = {
    "adder": (256, 129), "bar": (135, 128), "max": (512, 130), "multiplier": (128, 128), "sin": (24, 25),
    "square": (64, 128), "arbiter": (256, 129), "ctrl": (7, 26), "dec": (8, 256), "i2c": (147, 142),
    "int2float": (11, 7), "c17": (5, 2), "c432": (36, 7), "c499": (41, 32), "c880": (60, 26),
    "c1355": (41, 32), "c1908": (33, 25), "c6288": (32, 32), "9symml": (9, 1), "alu2": (10, 6),
    "b1": (3, 4), "cm138a": (6, 8), "cm42a": (4, 10), "comp": (32, 3), "cordic": (23, 2),
    "count": (35, 16), "decod": (5, 16), "f51m": (8, 8), "majority": (5, 1), "my_adder": (33, 17),
    "parity": (16, 1), "z4ml": (7, 4), "5xp1": (7, 10), "9sym": (9, 1), "con1": (7, 2),
    "misex1": (8, 7), "rd53": (5, 3), "rd73": (7, 3), "squar5": (5, 8), "xor5": (5, 1),
}


@pytest.mark.parametrize("path", ALL_FILES, ids=rel)
def test_port_counts_match_reference_table(path: Path):
    name = path.stem.lower()
    if name == "cps":
        want = (24, 109)  # from the file's .i/.o
    else:
        want = PORT_COUNTS[name]
    spec = read(path)
    assert (spec.n_inputs, spec.n_outputs) == want


# -- formats of one circuit agree ----------------------------------------------------------------
EPFL = ["adder", "arbiter", "bar", "ctrl", "dec", "i2c", "int2float", "max", "multiplier", "sin", "square"]
ISCAS = ["17", "432", "499", "880", "1355", "1908", "6288"]
PAIRS = (
    [(f"epfl/{c}.blif", f"epfl/{c}.aig") for c in EPFL]
    + [(f"iscas85/bench/c{c}.bench", f"iscas85/blif/C{c}.blif") for c in ISCAS]
    + [("lgsynth91/blif/9symml.blif", "lgsynth91/pla/9sym.pla")]
)
BIG = {"multiplier", "square", "arbiter"}


@pytest.mark.parametrize("a,b", PAIRS, ids=lambda p: p)
def test_formats_compute_the_same_function(a: str, b: str):
    sa, sb = read(CIRCUITS / a), read(CIRCUITS / b)
    assert sa.n_inputs == sb.n_inputs and sa.n_outputs == sb.n_outputs
    n = sa.n_inputs
    n_random = 500 if Path(a).stem in BIG else 3000
    rng = np.random.default_rng(sum(map(ord, a)))
    rows = np.vstack([
        np.zeros((1, n), np.uint8),
        np.ones((1, n), np.uint8),
        rng.integers(0, 2, (n_random, n), dtype=np.uint8),
        # sparse and dense rows reach carries and priority logic that uniform rows miss
        (rng.random((n_random // 4, n)) < 0.1).astype(np.uint8),
        (rng.random((n_random // 4, n)) < 0.9).astype(np.uint8),
    ])
    if n <= 12:
        rows = all_rows(n)
    ya, yb = evaluate_batch(sa, rows), evaluate_batch(sb, rows)
    bad = np.nonzero((ya != yb).any(axis=1))[0]
    assert bad.size == 0, f"{bad.size} rows differ, first: {rows[bad[0]].tolist()}"


# -- independent functional oracles ----------------------------------------------------------------
def _words(spec: Spec, rows: np.ndarray, groups: list[list[str]]) -> list[list[int]]:
    idx = {n: i for i, n in enumerate(spec.inputs)}
    return [[bits_to_int(r[[idx[x] for x in g]]) for g in groups] for r in rows]


@pytest.mark.parametrize("fmt", ["blif", "aig"])
def test_epfl_arithmetic_oracles(fmt: str):
    rng = np.random.default_rng(7)
    adder = read(CIRCUITS / f"epfl/adder.{fmt}")
    rows = rng.integers(0, 2, (200, 256), dtype=np.uint8)
    out = evaluate_batch(adder, rows)
    for r, o in zip(rows, out):
        a, b = bits_to_int(r[:128]), bits_to_int(r[128:])
        assert bits_to_int(o) == a + b
    mult = read(CIRCUITS / f"epfl/multiplier.{fmt}")
    rows = rng.integers(0, 2, (100, 128), dtype=np.uint8)
    out = evaluate_batch(mult, rows)
    for r, o in zip(rows, out):
        assert bits_to_int(o) == bits_to_int(r[:64]) * bits_to_int(r[64:])
    square = read(CIRCUITS / f"epfl/square.{fmt}")
    rows = rng.integers(0, 2, (100, 64), dtype=np.uint8)
    for r, o in zip(rows, evaluate_batch(square, rows)):
        assert bits_to_int(o) == bits_to_int(r) ** 2


def test_epfl_names_follow_the_blif():
    spec = read(CIRCUITS / "epfl/adder.blif")
    assert spec.inputs[:2] == ("a[0]", "a[1]") and spec.inputs[128] == "b[0]"
    assert spec.outputs[-2:] == ("f[127]", "cOut")


@pytest.mark.parametrize("fmt", ["bench", "blif"])
def test_c6288_is_a_16x16_multiplier(fmt: str):
    spec = read(CIRCUITS / ("iscas85/bench/c6288.bench" if fmt == "bench" else "iscas85/blif/C6288.blif"))
    rng = np.random.default_rng(3)
    rows = rng.integers(0, 2, (300, 32), dtype=np.uint8)
    for r, o in zip(rows, evaluate_batch(spec, rows)):
        p = bits_to_int(r[:16]) * bits_to_int(r[16:])
        bits = int_to_bits(p, 32)
        bits[30], bits[31] = bits[31], bits[30]  # the file lists product bit 31 before bit 30
        assert o.tolist() == bits


def test_lgsynth_pla_oracles():
    rows5, rows7, rows9 = all_rows(5), all_rows(7), all_rows(9)
    out = evaluate_batch(read(CIRCUITS / "lgsynth91/pla/xor5.pla"), rows5)
    assert (out[:, 0] == rows5.sum(1) % 2).all()
    for name, rows in (("9sym.pla", rows9),):
        out = evaluate_batch(read(CIRCUITS / "lgsynth91/pla" / name), rows)
        assert (out[:, 0] == ((rows.sum(1) >= 3) & (rows.sum(1) <= 6))).all()
    out = evaluate_batch(read(CIRCUITS / "lgsynth91/blif/9symml.blif"), rows9)
    assert (out[:, 0] == ((rows9.sum(1) >= 3) & (rows9.sum(1) <= 6))).all()
    # rd53 / rd73: the population count; the files list its bits in the order (4, 1, 2) / (2, 1, 4)
    for name, rows, weights in (("rd53.pla", rows5, (4, 1, 2)), ("rd73.pla", rows7, (2, 1, 4))):
        out = evaluate_batch(read(CIRCUITS / "lgsynth91/pla" / name), rows)
        assert ((out * np.array(weights)).sum(1) == rows.sum(1)).all()
    # squar5: bits 9..2 of the square of the 5-bit input, most significant first
    out = evaluate_batch(read(CIRCUITS / "lgsynth91/pla/squar5.pla"), rows5)
    for r, o in zip(rows5, out):
        x = int("".join(map(str, r)), 2)
        assert int("".join(map(str, o)), 2) == (x * x) >> 2


def test_epfl_decoder_is_one_hot():
    out = evaluate_batch(read(CIRCUITS / "epfl/dec.aig"), all_rows(8))
    assert (out.sum(1) == 1).all()
    assert len({int(np.argmax(o)) for o in out}) == 256


def test_wrapped_pla_rows_cps():
    spec = read(CIRCUITS / "lgsynth91/pla/cps.pla")
    text = (CIRCUITS / "lgsynth91/pla/cps.pla").read_text()
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith(".")]
    assert len(lines) % 2 == 0  # every row spans two lines
    first_in, first_out = lines[0].split()[0], lines[0].split()[1] + lines[1].strip()
    assert len(first_in) == 24 and len(first_out) == 109
    # The first row's input cube turns output 0 on (row 0 has a 1 in column 0).
    cube = [0 if c == "0" else 1 for c in first_in]
    row = np.array([cube], dtype=np.uint8)
    assert evaluate_batch(spec, row)[0, 0] == 1


def test_multiplier_reads_fast():
    for ext in ("blif", "aig"):
        t = time.perf_counter()
        read(CIRCUITS / f"epfl/multiplier.{ext}")
        assert time.perf_counter() - t < 5.0, ext


# -- BLIF corners ---------------------------------------------------------------------------------
def test_blif_multirow_covers_dont_cares_and_off_covers():
    text = """\
# b1-like, covers out of topological order
.model corners
.inputs a b \\
  c
.outputs p q r one zero zero2 nand
.names a b c p
01- 1
10- 1
1-1 1
-11 1
0-0 1
-00 1
.names t c q   # cover for 0: q = ~(t | c)
1- 0
-1 0
.names a b t
11 1
.names a b \\
 c r
1-- 0
-11 0
.names one
 1
.names zero
.names zero2
0
.names a b nand
11 0
"""
    spec = read_text(text, "blif", "c.blif")

    def f(a, b, c):
        p = (not a and b) or (a and not b) or (a and c) or (b and c) or (not a and not c) or (not b and not c)
        t = a and b
        q = not (t or c)
        r = not (a or (b and c))
        return (p, q, r, 1, 0, 0, not (a and b))

    assert_table(spec, "abc", ["p", "q", "r", "one", "zero", "zero2", "nand"], f)
    check_well_formed(spec)
    by = {a.target: a.expr for a in spec.assignments}
    # left-associative chains: row 3 of .names a b c r is ~(a | (b & c))
    assert expr_equal(by["t"], BinOp(AND, Name("a"), Name("b")))


def test_blif_wide_cover_is_a_left_chain():
    spec = read_text(".model w\n.inputs a b c d\n.outputs y\n.names a b c d y\n1101 1\n", "blif")
    (assign,) = spec.assignments
    a, b, c, d = (Name(x) for x in "abcd")
    assert expr_equal(assign.expr, BinOp(AND, BinOp(AND, BinOp(AND, a, b), Not(c)), d))


def test_blif_ports_over_several_lines_names_kept_wire_and_no_end():
    text = """\
.model m
.inputs 1GAT(0)
.inputs a[0] \\
    a[1]
.outputs y[0]
.outputs a[1] 1GAT(0)
.names a[0] 1GAT(0) y[0]
10 1
"""
    spec = read_text(text, "blif")
    assert_table(spec, ["1GAT(0)", "a[0]", "a[1]"], ["y[0]", "a[1]", "1GAT(0)"],
                 lambda g, a0, a1: (a0 and not g, a1, g))


def test_blif_subckt_flattening():
    text = """\
.model top
.inputs a b c
.outputs s co fa_0/s1
.names a b fa_0/s1
11 1
.subckt fa x=a y=b ci=c s=s co=co
.end

.model fa
.inputs x y ci
.outputs s co
.subckt ha a=x b=y s=s1 c=c1
.subckt ha a=s1 b=ci s=s c=c2
.names c1 c2 co
1- 1
-1 1
.end

.model ha
.inputs a b
.outputs s c
.names a b t
11 1
.names t c
1 1
.names a b s
10 1
01 1
.end
"""
    spec = read_text(text, "blif")
    assert_table(spec, "abc", ["s", "co", "fa_0/s1"],
                 lambda a, b, c: ((a + b + c) % 2, (a + b + c) >= 2, a and b))
    targets = {a.target for a in spec.assignments}
    assert targets == {"fa_0/s1", "s", "co", "fa_0/s1'", "fa_0/c1", "fa_0/c2", "fa_0/ha_0/t", "fa_0/ha_1/t"}
    check_well_formed(spec)


def test_blif_conn_exdc_and_ignored_directives():
    text = """\
.model m
.inputs a b
.outputs y z
.input_arrival a 1.0 1.0
.names a b y
11 1
.conn y z
.exdc
.names a b y
00 1
.end
"""
    spec = read_text(text, "blif")
    assert_table(spec, "ab", "yz", lambda a, b: (a and b, a and b))


def test_blif_latches_cut():
    text = ".model seq\n.inputs d en\n.outputs q\n.latch n q re clk 0\n.names d en q n\n1-- 1\n-01 1\n"
    spec = read_text(text, "blif", cut_latches=True)
    assert_table(spec, ["d", "en", "q"], ["q", "q$next"],
                 lambda d, en, q: (q, d or (not en and q)))


# -- AIGER corners --------------------------------------------------------------------------------
AAG = """\
aag 7 3 0 6 4
2
4
6
8
9
0
1
3
4
8 2 5
12 10 6
10 4 3
14 12 7
i0 x
i2 n4
o0 and_xy
o4 x2
o5 y
c
anything goes here
i9 not a symbol
"""


def test_aag_symbols_defaults_constants_and_unordered_ands():
    spec = read_text(AAG, "aag", "t.aag")
    # input 1 is unnamed -> i1; the symbol 'n4' forces AND 4 to n4_1; o4 is named x2
    assert spec.inputs == ("x", "i1", "n4")
    assert spec.outputs == ("and_xy", "o1", "o2", "o3", "x2", "y")
    targets = {a.target for a in spec.assignments}
    assert {"n4_1", "n5", "n6", "n7"} <= targets

    def f(x, y, z):
        n4 = x and not y
        n5 = y and not x
        n6 = n5 and z
        return (n4, not n4, 0, 1, not x, y)

    assert_table(spec, ["x", "i1", "n4"], spec.outputs, f)
    check_well_formed(spec)


def test_aag_output_named_like_its_input_is_that_input():
    spec = read_text("aag 1 1 0 1 0\n2\n2\ni0 a\no0 a\n", "aag")
    assert spec.inputs == ("a",) and spec.outputs == ("a",) and spec.assignments == ()
    assert_table(spec, "a", "a", lambda a: (a,))


def test_aiger_19_header_with_zero_extras():
    spec = read_text("aag 3 2 0 1 1 0 0 0 0\n2\n4\n7\n6 2 4\n", "aag")
    assert_table(spec, ["i0", "i1"], ["o0"], lambda a, b: (not (a and b),))


def test_aiger_latches_cut():
    text = "aag 3 1 1 1 1\n2\n4 7 1\n4\n6 4 2\ni0 en\nl0 state\n"
    spec = read_text(text, "aag", cut_latches=True)
    assert_table(spec, ["en", "state"], ["o0", "state$next"], lambda en, s: (s, not (en and s)))
    binary = b"aig 3 1 1 1 1\n7\n4\n" + bytes([6 - 4, 4 - 2]) + b"i0 en\nl0 state\n"
    assert read_text(binary, "aig", cut_latches=True) == spec


# -- bench corners ----------------------------------------------------------------------------------
def test_bench_gates_case_and_wires():
    text = """\
# every gate type
INPUT(a)
input(b)
INPUT(c)

OUTPUT(par)
OUTPUT(a)
OUTPUT(xn)
Output(na)
OUTPUT(no)
OUTPUT(bu)
OUTPUT(bf)
OUTPUT(nt)
OUTPUT(an)
OUTPUT(o)
OUTPUT(single)
par = xor(a, b, c)      # parity, not "exactly one"
xn  = XNOR(a, b, c)
na  = NAND(a, b, c)
no  = Nor(a, b)
bu  = BUF(nt)
bf  = BUFF(b)
nt  = NOT(c)
an  = AND(a, b, c)
o   = OR(a,b,c)
single = and(a)
"""
    spec = read_text(text, "bench")
    assert_table(
        spec, "abc", ["par", "a", "xn", "na", "no", "bu", "bf", "nt", "an", "o", "single"],
        lambda a, b, c: ((a + b + c) % 2, a, 1 - (a + b + c) % 2, not (a and b and c), not (a or b),
                         not c, b, not c, a and b and c, a or b or c, a),
    )
    by = {x.target: x.expr for x in spec.assignments}
    a, b, c = (Name(x) for x in "abc")
    assert expr_equal(by["par"], BinOp(XOR, BinOp(XOR, a, b), c))


def test_bench_dff_cut():
    text = "INPUT(d)\nOUTPUT(q2)\nq1 = DFF(d)\nq2 = DFF(x)\nx = NOT(q1)\n"
    spec = read_text(text, "bench", cut_latches=True)
    assert_table(spec, ["d", "q1", "q2"], ["q2", "q1$next", "q2$next"],
                 lambda d, q1, q2: (q2, d, not q1))


def test_latch_next_name_is_made_unique():
    text = "INPUT(d)\nOUTPUT(q$next)\nq = DFF(d)\nq$next = NOT(d)\n"
    spec = read_text(text, "bench", cut_latches=True)
    assert spec.outputs == ("q$next", "q$next$1")


# -- PLA corners --------------------------------------------------------------------------------------
PLA = """\
# output characters 1 0 - ~
.i 3
.o 3
.ilb a b c
.ob x y z
.type {type}
.p 3
1-0 1~-
-11 01~
000 ~-1
.e
"""


@pytest.mark.parametrize("ptype", ["f", "fd", "fr", "fdr", None])
def test_pla_types_on_set(ptype):
    text = PLA.format(type=ptype) if ptype else PLA.replace(".type {type}\n", "")
    spec = read_text(text, "pla")
    assert_table(spec, "abc", "xyz",
                 lambda a, b, c: (a and not c, b and c, not a and not b and not c))


def test_pla_type_r_is_the_complement_of_the_off_set():
    spec = read_text(PLA.format(type="r"), "pla")
    assert_table(spec, "abc", "xyz", lambda a, b, c: (not (b and c), 1, 1))


def test_pla_wrapped_rows_default_names_no_end():
    text = ".i 4\n.o 2\n01\n-1 1\n0\n1--- 01\n"
    spec = read_text(text, "pla")
    assert_table(spec, ["i0", "i1", "i2", "i3"], ["o0", "o1"],
                 lambda a, b, c, d: (not a and b and d, a))


def test_pla_no_rows_is_constant_zero_and_default_names_avoid_ilb():
    spec = read_text(".i 1\n.o 2\n.ilb o0\n", "pla")
    assert_table(spec, ["o0"], ["o0_1", "o1"], lambda x: (0, 0))


# -- spec language through the same entry point ---------------------------------------------------------
def test_bool_format_uses_the_spec_parser():
    spec = read_text("input a, b\noutput y\ny = a ^ b\n", "bool", "x.bool")
    assert_table(spec, "ab", "y", lambda a, b: (a ^ b,))


def test_format_from_extension():
    assert format_of("x/y.BLIF") == "blif" and format_of("a.aig") == "aig"
    assert set(FORMATS) == {"blif", "aag", "aig", "bench", "pla", "bool", "verilog"}
    assert format_of("top.v") == "verilog" and format_of("top.SV") == "verilog"


# -- no recursion, big inputs --------------------------------------------------------------------------
def test_deep_chain_out_of_order_and_wide_gate():
    n = 60_000
    lines = [".model deep", ".inputs x", f".outputs s{n}"]
    for i in range(n, 0, -1):  # readers before their drivers: the DFS goes 60k deep
        lines += [f".names s{i - 1} s{i}", "0 1"]
    lines += [".names x s0", "1 1"]
    spec = read_text("\n".join(lines) + "\n", "blif")
    assert evaluate_batch(spec, [[0], [1]])[:, 0].tolist() == [0, 1]  # n even: x
    k = 20_000
    ins = [f"g{i}" for i in range(k)]
    text = "".join(f"INPUT({g})\n" for g in ins) + "OUTPUT(y)\ny = XOR(" + ", ".join(ins) + ")\n"
    spec = read_text(text, "bench")
    rows = np.zeros((2, k), np.uint8)
    rows[1, 5] = 1
    assert evaluate_batch(spec, rows)[:, 0].tolist() == [0, 1]


def test_long_loop_message_is_shortened():
    n = 5000
    text = "INPUT(a)\nOUTPUT(s0)\n" + "".join(f"s{i} = NOT(s{(i + 1) % n})\n" for i in range(n))
    msg = message("bench", text)
    assert msg == (
        "t.bench:3: error: combinational loop through 5000 signals: "
        "s0 -> s1 -> s2 -> s3 -> s4 -> s5 -> s6 -> s7 -> s8 -> s9 -> ... -> s0"
    )


# -- golden error messages ----------------------------------------------------------------------------
GOLDEN = [
    # undefined signal
    ("blif", ".model t\n.inputs a b\n.outputs y\n.names a c y\n11 1\n",
     "t.blif:4: error: undefined signal 'c' (not an input and never driven)"),
    ("bench", "INPUT(a)\nOUTPUT(y)\ny = AND(a, b)\n",
     "t.bench:3: error: undefined signal 'b' (not an input and never driven)"),
    ("aag", "aag 3 2 0 1 1\n2\n4\n6\n6 2 7\n",
     "t.aag:5: error: combinational loop: n3 -> n3"),
    ("aag", "aag 4 2 0 1 1\n2\n4\n6\n6 2 8\n",
     "t.aag:5: error: literal 8 uses variable 4, which is never defined"),
    ("blif", ".model t\n.inputs a\n.outputs y z\n.names a y\n1 1\n",
     "t.blif:3:12: error: output 'z' is never driven\n    .outputs y z\n               ^"),
    ("bench", "INPUT(a)\nOUTPUT(z)\n", "t.bench:2:8: error: output 'z' is never driven\n    OUTPUT(z)\n           ^"),
    # wrong width
    ("blif", ".model t\n.inputs a b\n.outputs y\n.names a b y\n111 1\n",
     "t.blif:5:1: error: cover row has 3 input characters; expected 2 (one per input of .names)\n"
     "    111 1\n    ^~~"),
    ("pla", ".i 3\n.o 2\n0-1 10\n01- 101\n",
     "t.pla:4: error: cover row has 6 characters; expected 5 (.i 3 + .o 2)"),
    ("pla", ".i 3\n.o 2\n0-1 10\n01- 1\n110 01\n",
     "t.pla:4: error: incomplete cover row: 4 characters, expected 5 (.i 3 + .o 2)"),
    ("pla", ".i 3\n.o 2\n01 11\n",
     "t.pla:3:1: error: input part of the cover row has 2 characters; expected 3 (.i 3)\n    01 11\n    ^~"),
    ("pla", ".i 3\n.o 2\n0-1 10\n01-",
     "t.pla:4: error: incomplete cover row: 3 characters, expected 5 (.i 3 + .o 2)"),
    # combinational loops, naming the signals
    ("blif", ".model t\n.inputs a\n.outputs y\n.names a z y\n11 1\n.names y w\n0 1\n.names w z\n1 1\n",
     "t.blif:4: error: combinational loop: y -> z -> w -> y"),  # 'y -> z': y reads z
    ("bench", "INPUT(a)\nOUTPUT(y)\nz = NOT(y)\ny = AND(a, z)\n",
     "t.bench:3: error: combinational loop: z -> y -> z"),
    ("aag", "aag 4 2 0 1 2\n2\n4\n6\n6 2 8\n8 6 4\n", "t.aag:5: error: combinational loop: n3 -> n4 -> n3"),
    # driven twice
    ("blif", ".model t\n.inputs a b\n.outputs y\n.names a b y\n11 1\n.names a y\n1 1\n",
     "t.blif:6:10: error: signal 'y' is driven twice (first driven on line 4)\n    .names a y\n             ^"),
    ("blif", ".model t\n.inputs a b\n.outputs y\n.names a b\n1 1\n.names a y\n1 1\n",
     "t.blif:4:10: error: signal 'b' is driven twice (it is an input on line 2)\n    .names a b\n             ^"),
    ("bench", "INPUT(a)\nOUTPUT(y)\ny = NOT(a)\ny = BUFF(a)\n",
     "t.bench:4:1: error: signal 'y' is driven twice (first driven on line 3)\n    y = BUFF(a)\n    ^"),
    ("aag", "aag 3 2 0 1 1\n2\n4\n6\n4 2 4\n",
     "t.aag:5: error: variable 2 (literal 4) is defined twice (first on line 3)"),
    ("pla", ".i 1\n.o 1\n.ilb a\n.ob a\n1 1\n",
     "t.pla:4: error: signal 'a' is driven twice (it is an input on line 3)"),
    # sequential circuits
    ("blif", ".model t\n.inputs a\n.outputs y\n.latch a y 0\n.latch y q\n.latch q r re clk 1\n",
     "t.blif:4: error: sequential circuit: 3 latches; use --cut-latches to compile one clock step"),
    ("bench", "INPUT(a)\nOUTPUT(y)\ny = DFF(a)\n",
     "t.bench:3: error: sequential circuit: 1 latch; use --cut-latches to compile one clock step"),
    ("aag", "aag 3 2 1 1 0\n2\n4\n6 2\n6\n",
     "t.aag:4: error: sequential circuit: 1 latch; use --cut-latches to compile one clock step"),
    # malformed lines
    ("blif", ".model t\n.inputs a\n.outputs y\n.names a y\n1x 1\n",
     "t.blif:5:1: error: cover row has 2 input characters; expected 1 (one per input of .names)\n    1x 1\n    ^~"),
    ("blif", ".model t\n.inputs a b\n.outputs y\n.names a b y\n1x 1\n",
     "t.blif:5:2: error: invalid character 'x' in cover row; expected 0, 1 or -\n    1x 1\n     ^"),
    ("blif", ".model t\n.inputs a b\n.outputs y\n.names a b y\n11 1\n00 0\n",
     "t.blif:6:4: error: cover mixes rows for output 1 (line 5) and output 0; all rows of one .names must "
     "have the same output value\n    00 0\n       ^"),
    ("blif", ".model t\n.inputs a\n.outputs y\n11 1\n",
     "t.blif:4:1: error: cover row outside a .names cover\n    11 1\n    ^~"),
    ("blif", ".model t\n.inputs a\n.outputs y\n.gate and2 A=a B=a O=y\n",
     "t.blif:4:1: error: library gates (.gate) are not supported; write the logic as .names covers\n"
     "    .gate and2 A=a B=a O=y\n    ^~~~~"),
    ("blif", ".model t\n.inputs a\n.outputs y\n.frob\n",
     "t.blif:4:1: error: unknown BLIF directive '.frob'\n    .frob\n    ^~~~~"),
    ("blif", ".model t\n.inputs a\n.outputs y\n.subckt sub q=a y=y\n.end\n.model sub\n.inputs q\n.outputs y\n"
             ".subckt t a=q y=y\n.end\n",
     "t.blif:9:9: error: recursive .subckt: t -> sub -> t\n    .subckt t a=q y=y\n            ^"),
    ("blif", ".model t\n.inputs a\n.outputs y\n.subckt sub y=y\n.end\n.model sub\n.inputs q\n.outputs y\n"
             ".names q y\n1 1\n.end\n",
     "t.blif:4: error: input 'q' of model 'sub' is not connected"),
    ("blif", ".model t\n.inputs a\n.outputs y\n.subckt sub q=a r=a y=y\n.end\n.model sub\n.inputs q\n"
             ".outputs y\n.names q y\n1 1\n.end\n",
     "t.blif:4:17: error: model 'sub' has no port 'r'\n    .subckt sub q=a r=a y=y\n                    ^~~"),
    ("bench", "INPUT(a)\nOUTPUT(y)\ny := AND(a)\n",
     "t.bench:3:1: error: malformed line: expected 'INPUT(name)', 'OUTPUT(name)' or 'name = GATE(input, ...)'\n"
     "    y := AND(a)\n    ^~~~~~~~~~~"),
    ("bench", "INPUT(a)\nOUTPUT(y)\ny = MUX(a, a)\n",
     "t.bench:3:5: error: unknown gate type 'MUX'; known gates: AND, NAND, OR, NOR, XOR, XNOR, NOT, BUF, BUFF, DFF\n"
     "    y = MUX(a, a)\n        ^~~"),
    ("bench", "INPUT(a)\nOUTPUT(y)\ny = NOT(a, a)\n",
     "t.bench:3:1: error: NOT takes exactly one input, got 2\n    y = NOT(a, a)\n    ^"),
    ("bench", "INPUT(a)\nINPUT(a)\n", "t.bench:2:7: error: input 'a' is declared twice (first on line 1)\n"
                                    "    INPUT(a)\n          ^"),
    ("pla", ".i 3\n.o 2\n0x1 10\n",
     "t.pla:3: error: invalid character 'x' in the input part of a cover row; expected 0, 1 or -"),
    ("pla", ".i 3\n.o 2\n001 1x\n",
     "t.pla:3: error: invalid character 'x' in the output part of a cover row; expected 1, 0, - or ~"),
    ("pla", ".i 3\n.o 2\n.ilb a b\n0-1 10\n", "t.pla:3: error: .ilb names 2 inputs, but .i is 3"),
    ("pla", ".i 3\n.o 2\n.type q\n", "t.pla:3: error: unknown PLA type 'q'; expected one of f, fd, fr, fdr, r"),
    ("pla", "0-1 10\n", "t.pla:1: error: cover row before the .i and .o declarations"),
    ("aag", "aag 3 2 0 1 1\n2\n4\n6\n6 2\n", "t.aag:5: error: malformed AND line: expected '<lhs> <rhs0> <rhs1>'"),
    ("aag", "aag 3 2 0 1 1\n2\n4\n", "t.aag:3: error: unexpected end of file: the header promises 1 output line, "
                                  "found 0"),
    ("aag", "aag 3 2 0 1\n", "t.aag:1: error: malformed AIGER header: expected 'aag M I L O A'"),
    ("aag", "aag 3 2 0 1 1\n2\n4\n6\n6 2 x\n",
     "t.aag:5: error: malformed AND line: 'x' is not a literal (a non-negative integer)"),
    ("aag", "aag 3 2 0 1 1\n2\n4\n6\n6 2 4\ni0 a\ni1 a\n", "t.aag:7: error: name 'a' is used for both input 0 "
                                                       "and input 1"),
    ("aag", "aag 3 2 0 1 1\n2\n4\n6\n6 2 4\ni2 a\n", "t.aag:6: error: symbol for input 2, but the file has 2 inputs"),
    ("aag", "aag 3 2 0 1 1\n2\n4\n6\n6 2 4\nx0 a\n",
     "t.aag:6: error: malformed symbol table line: expected 'i<k> <name>', 'l<k> <name>', 'o<k> <name>' or 'c'"),
    ("aag", "aag 3 2 0 1 1\n2\n4\n6\n6 2 4\ni0 a\no0 a\n",
     "t.aag:7: error: output 0 is named 'a' like input 0, but it is a different signal"),
    ("aag", "aag 3 2 0 1 1\n2\n4\n9\n6 2 4\n",
     "t.aag:4: error: literal 9 is out of range: the header says M = 3 (literals up to 7)"),
    ("aag", "aag 3 2 0 1 1 1\n2\n4\n6\n6 2 4\n",
     "t.aag:1: error: unsupported AIGER 1.9 header: B = 1 (bad-state properties); only inputs, latches, "
     "outputs and AND gates can be read"),
    ("aag", "aag 3 2 0 1 1 0 0 2\n2\n4\n6\n6 2 4\n",
     "t.aag:1: error: unsupported AIGER 1.9 header: J = 2 (justice properties); only inputs, latches, "
     "outputs and AND gates can be read"),
    # binary AIGER
    ("aig", b"aig 3 2 0 1 1\n6\n\x02",
     "t.aig:3: error: truncated binary AIGER: the file ends inside AND gate 0 of 1 (byte 17)"),
    ("aig", b"aig 3 2 0 1 1\n6\n\x02\x82",
     "t.aig:3: error: truncated binary AIGER: the file ends inside AND gate 0 of 1 (byte 18)"),
    ("aig", b"aig 4 2 0 1 2\n6\n\x02\x02",
     "t.aig:3: error: truncated binary AIGER: the file ends inside AND gate 1 of 2 (byte 18)"),
    ("aig", b"aig 3 2 0 1 1\n",
     "t.aig:1: error: unexpected end of file: the header promises 1 output line, found 0"),
    ("aig", b"aig 3 2 0 1 1\n6\n\x07\x00",
     "t.aig:3: error: invalid AND gate 0 (literal 6) at byte 16: deltas 7, 0 give inputs -1, -1; "
     "binary AIGER needs 6 > rhs0 >= rhs1 >= 0"),
    ("aig", b"aig 4 2 0 1 1\n6\n\x02\x02",
     "t.aig:1: error: invalid binary AIGER header: M = 4 but I + L + A = 3"),
    ("aig", b"aig 3 2 0 1 1\n6\n\x02\x02i0 a\nq\n", "t.aig:4: error: malformed symbol table line: expected "
                                                  "'i<k> <name>', 'l<k> <name>', 'o<k> <name>' or 'c'"),
    ("aig", b"AIG 3 2 0 1 1\n", "t.aig:1: error: not an AIGER file: the header must start with 'aag' or 'aig'"),
]


@pytest.mark.parametrize("fmt,text,want", GOLDEN, ids=[f"{g[0]}-{i}" for i, g in enumerate(GOLDEN)])
def test_golden_errors(fmt, text, want):
    assert message(fmt, text) == want


def test_file_level_errors(tmp_path):
    with pytest.raises(SpecError) as info:
        read(tmp_path / "circuit.vhd")
    assert str(info.value) == (
        f"{tmp_path / 'circuit.vhd'}: error: unknown netlist format (extension '.vhd'); "
        "known formats: .blif, .aag, .aig, .bench, .pla, .bool, .v, .sv"
    )
    with pytest.raises(SpecError) as info:
        read(str(tmp_path / "missing.blif"))
    assert str(info.value) == f"{tmp_path / 'missing.blif'}: error: cannot read file: No such file or directory"
    with pytest.raises(SpecError) as info:
        read_text("x", "vhdl", "f.vhd")
    assert str(info.value) == (
        "f.vhd: error: unknown netlist format 'vhdl'; known formats: .blif, .aag, .aig, .bench, .pla, .bool, .v, .sv"
    )
    with pytest.raises(SpecError) as info:
        read_text("INPUT(a)\nOUTPUT(a)\n", "bench", "t.bench", top="m")
    assert str(info.value) == "t.bench: error: a top module can only be chosen for Verilog input, not .bench"


def test_read_with_explicit_format_and_sniffed_aiger(tmp_path):
    p = tmp_path / "inverter.txt"
    p.write_text("aag 1 1 0 1 0\n2\n3\n")
    spec = read(p, format="aag")
    assert spec.filename == str(p) and spec.source == p.read_text()
    assert_table(spec, ["i0"], ["o0"], lambda a: (not a,))
    q = tmp_path / "inverter.aig"  # ASCII content under the binary extension
    q.write_text(p.read_text())
    assert read(q) == spec


def test_mutated_files_raise_only_spec_errors():
    rng = random.Random(1234)
    samples = [(p.suffix[1:], p.read_bytes()) for p in (
        CIRCUITS / "lgsynth91/blif/b1.blif", CIRCUITS / "iscas85/bench/c17.bench",
        CIRCUITS / "lgsynth91/pla/con1.pla", CIRCUITS / "epfl/int2float.aig",
    )] + [("aag", AAG.encode())]
    junk = b"01-~ \n\\#.()=,:aig\x80\xff"
    for _ in range(600):
        fmt, data = rng.choice(samples)
        data = bytearray(data)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(data) + 1)
            if rng.random() < 0.5:
                del data[i:i + rng.randint(1, 4)]
            else:
                data[i:i] = bytes(rng.choice(junk) for _ in range(rng.randint(1, 3)))
        for cut in (False, True):
            try:
                spec = read_text(bytes(data), fmt, "m." + fmt, cut_latches=cut)
            except SpecError as e:
                assert str(e).startswith("m." + fmt + ":")
            else:
                check_well_formed(spec)


def test_binary_truncated_everywhere_never_crashes():
    data = (CIRCUITS / "epfl/int2float.aig").read_bytes()
    end_of_ands = data.index(b"i0 ")
    for cut in range(0, end_of_ands, 7):
        with pytest.raises(SpecError) as info:
            read_text(data[:cut], "aig", "int2float.aig")
        assert str(info.value).startswith("int2float.aig:")


# -- property: ASCII and binary AIGER read to the same function ------------------------------------------
def _varint(x: int) -> bytes:
    out = bytearray()
    while x >= 0x80:
        out.append((x & 0x7F) | 0x80)
        x >>= 7
    out.append(x)
    return bytes(out)


@st.composite
def aigs(draw):
    n_in = draw(st.integers(0, 5))
    n_and = draw(st.integers(0, 8))
    ands = []
    for i in range(n_and):
        lhs = 2 * (n_in + i + 1)
        a = draw(st.integers(0, lhs - 1))
        b = draw(st.integers(0, lhs - 1))
        ands.append((lhs, max(a, b), min(a, b)))
    max_lit = 2 * (n_in + n_and) + 1
    outs = draw(st.lists(st.integers(0, max_lit), min_size=1, max_size=4))
    pool = ["a", "b", "n3", "i1", "o0", "x[0]", "1GAT(0)", "n5_1", "größe"]
    in_names = draw(st.lists(st.sampled_from(pool), max_size=n_in, unique=True))
    out_names = draw(st.lists(st.sampled_from(["y", "z", "o1", "n2", "w w"]), max_size=len(outs), unique=True))
    order = draw(st.permutations(range(n_and)))
    return n_in, ands, outs, in_names, out_names, order


def _simulate(n_in, ands, outs, row):
    val = {0: 0}
    for i in range(n_in):
        val[i + 1] = row[i]
    for lhs, a, b in ands:
        val[lhs >> 1] = (val[a >> 1] ^ (a & 1)) & (val[b >> 1] ^ (b & 1))
    return [val[o >> 1] ^ (o & 1) for o in outs]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(aigs())
def test_aag_and_aig_agree(aig):
    n_in, ands, outs, in_names, out_names, order = aig
    m = n_in + len(ands)
    symbols = "".join(f"i{k} {nm}\n" for k, nm in enumerate(in_names))
    symbols += "".join(f"o{k} {nm}\n" for k, nm in enumerate(out_names))
    ascii_text = (
        f"aag {m} {n_in} 0 {len(outs)} {len(ands)}\n"
        + "".join(f"{2 * (i + 1)}\n" for i in range(n_in))
        + "".join(f"{o}\n" for o in outs)
        + "".join(f"{ands[i][0]} {ands[i][1]} {ands[i][2]}\n" for i in order)
        + symbols
        + "c\nrandom aig\n"
    )
    binary = (
        f"aig {m} {n_in} 0 {len(outs)} {len(ands)}\n".encode()
        + "".join(f"{o}\n" for o in outs).encode()
        + b"".join(_varint(lhs - a) + _varint(a - b) for lhs, a, b in ands)
        + symbols.encode()
        + b"c\n\x00\xff binary comment\n"
    )
    sa = read_text(ascii_text, "aag", "r.aag")
    sb = read_text(binary, "aig", "r.aig")
    assert sa.inputs == sb.inputs and sa.outputs == sb.outputs
    assert sa.source == ascii_text and sb.source is None
    check_well_formed(sa)
    check_well_formed(sb)
    rows = all_rows(n_in)
    ya, yb = evaluate_batch(sa, rows), evaluate_batch(sb, rows)
    assert (ya == yb).all()
    for r, y in zip(rows, ya):
        assert y.tolist() == _simulate(n_in, ands, outs, r.tolist())
