"""The coarse Verilog path: Yosys' word cells as a WordSpec, against Yosys' own bit-level netlist.

Two independent readings of one file meet: ``evaluate_words`` of the coarse
WordSpec and ``evaluate_batch`` of the techmapped bit-level spec (the
reference of the existing Verilog reader).  Then the word network compiles and
``threshnet.check`` compares it with the bit-level spec.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import threshnet
from threshnet.compiler.evaluate import evaluate_batch
from threshnet.compiler.words import evaluate_words, input_values
from threshnet.frontends.rtl import CoarseUnsupported, read_rtl
from threshnet.frontends.verilog import find_yosys, read_verilog

pytestmark = pytest.mark.skipif(find_yosys() is None, reason="needs Yosys (threshnet[verilog])")

ROOT = Path(__file__).resolve().parent.parent
MIX32 = ROOT / "examples" / "mix32.v"

# Every cell type the reader knows, signed ones included.
CELLS_V = """
module cells(input [7:0] a, input [7:0] b, input [2:0] k, input s, input signed [3:0] c, input signed [3:0] d,
             output [8:0] sum, output [7:0] diff, output [11:0] prod, output [7:0] prodc, output lt, output ge,
             output eq, output ne, output slt, output sge, output [7:0] m, output [7:0] bits, output [7:0] shl,
             output [7:0] shr, output [3:0] sshr, output [3:0] sshrv, output [1:0] red, output [2:0] logic,
             output [7:0] sel, output [4:0] neg, output [5:0] sadd);
  assign sum = a + b;
  assign diff = a - b;
  assign prod = a * b[3:0];
  assign prodc = a * 8'd37;
  assign lt = a < b;
  assign ge = a >= b;
  assign eq = a == b;
  assign ne = a != b;
  assign slt = c < d;
  assign sge = c >= d;
  assign m = s ? a ^ b : {b[3:0], a[7:4]};
  assign bits = (a & b) | (~a & 8'h5a) ^ b;
  assign shl = a << k;
  assign shr = a >> k;
  assign sshr = c >>> 1;
  assign sshrv = c >>> k[1:0];
  assign red = {^a, &b[2:0]};
  assign logic = {!a, a && b, |k || s};
  assign neg = -c;
  assign sadd = c + d;
  reg [7:0] r;
  always @(*) begin
    case (k)
      3'd0: r = a;
      3'd1: r = b;
      3'd5: r = a + 8'd1;
      default: r = 8'd0;
    endcase
  end
  assign sel = r;
endmodule
"""


def _rows(n: int, samples: int = 400, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    r = rng.integers(0, 2, (samples, n), dtype=np.uint8)
    return np.vstack([r, np.zeros((1, n), np.uint8), np.ones((1, n), np.uint8)])


def _agree(spec: threshnet.Spec, rows: np.ndarray) -> None:
    ws = spec.words
    want = np.asarray(evaluate_batch(spec, rows))
    for row, ref in zip(rows, want):
        vals = evaluate_words(ws, input_values(ws, row))
        got = [(vals[p.name] >> i) & 1 for p, _ in ws.outputs for i in range(p.width)]
        assert got == [int(x) for x in ref], (row.tolist(), dict(zip(spec.outputs, got)))


@pytest.fixture(scope="module")
def cells(tmp_path_factory) -> threshnet.Spec:
    path = tmp_path_factory.mktemp("rtl") / "cells.v"
    path.write_text(CELLS_V)
    return read_rtl(path, strict=True)


def test_every_cell_agrees_with_the_bit_level_netlist(cells):
    assert cells.words is not None
    ops = {n.op for n in cells.words.nodes}
    assert {"add", "sub", "mul", "lt", "ge", "eq", "ne", "mux", "xor", "and", "or", "not", "atleast",
            "parity"} <= ops
    _agree(cells, _rows(len(cells.inputs)))


@pytest.mark.parametrize("activation", ["step", "relu"])
def test_cells_compile_through_words_and_check(cells, activation):
    net = threshnet.compile(cells, activation)
    assert threshnet.check(net, cells, samples=2000).ok


def test_mix32_word_path_is_exact_and_shallow():
    spec = read_rtl(MIX32, strict=True)
    assert spec.words is not None and {"add", "xor"} <= {n.op for n in spec.words.nodes}
    _agree(spec, _rows(len(spec.inputs), 300))
    net = threshnet.compile(spec, "step")
    assert threshnet.check(net, spec, samples=3000).ok  # against Yosys' bit-level netlist
    assert net.stats().layers <= 14  # four 32-bit adders in 3 layers each, then an xor


def test_limb_adder_merges_sums_and_carries_in():
    """``a + b + c`` with a 1-bit ``c`` that only one cell reads: one 3-operand add, the carry the adder's cin."""
    spec = read_rtl(ROOT / "examples" / "add128_limbs.v", strict=True)
    adds = [n for n in spec.words.nodes if n.op == "add"]
    assert sorted(len(n.args) for n in adds)[-3:] == [3, 3, 3]
    _agree(spec, _rows(len(spec.inputs), 200))
    net = threshnet.compile(spec, "step")
    assert threshnet.check(net, spec, samples=2000).ok
    assert net.stats().layers <= 9


@pytest.mark.slow
def test_popcount_loop_ten_times_fewer_layers_than_bit_level():
    """issue 9: RTL with 32-bit additions, >= 10x fewer layers through the coarse path than the bit-level path.

    examples/popcount64.v accumulates 64 bits in a 32-bit register (a chain of
    64 '+' cells); the word path merges the chain into one sum.
    """
    path = ROOT / "examples" / "popcount64.v"
    spec = read_rtl(path, strict=True)
    assert [len(n.args) for n in spec.words.nodes if n.op == "add"][-1] == 65
    words = threshnet.compile(spec, "step")
    # read_rtl's spec is read_verilog(path)'s with the word program attached: without it, the bit-level
    # spec, with no second Yosys run on the file
    bits = threshnet.compile(dataclasses.replace(spec, words=None), "step")
    assert bits.stats().layers >= 10 * words.stats().layers, (bits.stats().layers, words.stats().layers)
    assert threshnet.check(words, spec, samples=3000).ok


def test_unsupported_cell_keeps_the_bit_level_path(tmp_path):
    path = tmp_path / "div.v"
    path.write_text("module d(input [3:0] a, input [3:0] b, output [3:0] q);\n  assign q = a / b;\nendmodule\n")
    spec = read_rtl(path)
    assert spec.words is None and spec == read_verilog(path)
    with pytest.raises(CoarseUnsupported) as e:
        read_rtl(path, strict=True)
    assert "$div" in str(e.value) and ":2:" in str(e.value)


def test_port_ranges_not_from_zero_keep_the_bit_level_path(tmp_path):
    path = tmp_path / "r.v"
    path.write_text("module r(input [7:4] a, input [0:3] b, output [4:0] s);\n  assign s = a + b;\nendmodule\n")
    spec = read_rtl(path)
    assert spec.words is None
