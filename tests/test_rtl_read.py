"""Reaching the word-level Verilog path: ``threshnet.read(..., words=)`` and the CLI's ``--rtl``/``--gates``.

The same Verilog adder and multiplier read both ways must compile to networks
that are each exhaustively equal to Yosys' bit-level netlist and agree with
each other row by row, the word path in fewer layers.  A design with a cell
the word reader does not know falls back to gates by default and is refused,
located, under ``words=True`` / ``--rtl``.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch

import threshnet
from threshnet.cli import main
from threshnet.compiler.errors import SpecError
from threshnet.frontends import read_text
from threshnet.frontends.rtl import CoarseUnsupported
from threshnet.frontends.verilog import find_yosys

pytestmark = pytest.mark.skipif(find_yosys() is None, reason="needs Yosys (threshnet[verilog])")

ARITH_V = """module arith(input [5:0] a, input [5:0] b, output [6:0] s, output [11:0] p);
  assign s = a + b;
  assign p = a * b;
endmodule
"""

DIV_V = """module d(input [2:0] a, input [2:0] b, output [2:0] q);
  assign q = a / b;
endmodule
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _rows(n: int) -> torch.Tensor:
    return torch.tensor(list(itertools.product((0.0, 1.0), repeat=n)))


def test_adder_and_multiplier_both_ways(tmp_path):
    path = _write(tmp_path, "arith.v", ARITH_V)
    words = threshnet.read(path)  # default: the word path
    gates = threshnet.read(path, words=False)
    assert words.words is not None and gates.words is None
    assert words == gates  # the same bit-level spec; words only change how it compiles
    wnet = threshnet.compile(words, "step")
    gnet = threshnet.compile(gates, "step")
    assert threshnet.check(wnet, gates, exhaustive=True).ok
    assert threshnet.check(gnet, gates, exhaustive=True).ok
    rows = _rows(len(gates.inputs))
    with torch.no_grad():
        assert torch.equal(wnet(rows), gnet(rows))
    assert wnet.stats().layers < gnet.stats().layers
    assert threshnet.read(path, words=True).words is not None


def test_read_text_takes_the_word_path_too():
    spec = read_text(ARITH_V, "verilog", "arith.v")
    assert spec.words is not None and spec.filename == "arith.v"
    assert read_text(ARITH_V, "verilog", "arith.v", words=False).words is None


def test_unsupported_cell_falls_back_or_is_refused(tmp_path):
    path = _write(tmp_path, "div.v", DIV_V)
    spec = threshnet.read(path)
    assert spec.words is None  # $div: the gate-level path
    assert threshnet.check(threshnet.compile(spec), spec).ok
    with pytest.raises(CoarseUnsupported) as info:
        threshnet.read(path, words=True)
    assert str(info.value).startswith(f"{path}:2: error: no word-level reading")
    with pytest.raises(CoarseUnsupported) as info:
        read_text(DIV_V, "verilog", "mine.v", words=True)
    assert str(info.value).startswith("mine.v:2: error: no word-level reading")


def test_words_option_is_for_verilog_only(tmp_path):
    path = _write(tmp_path, "x.bool", "y = a & b\n")
    assert threshnet.read(path, words=False).outputs == ("y",)
    with pytest.raises(SpecError, match=r"x\.bool: error: the word-level \(RTL\) reading is only for Verilog"):
        threshnet.read(path, words=True)


def test_cli_rtl_and_gates_flags(tmp_path, capsys):
    arith = str(_write(tmp_path, "arith.v", ARITH_V.replace("[5:0]", "[3:0]")))
    div = str(_write(tmp_path, "div.v", DIV_V))

    def layers(*args: str) -> int:
        assert main(["compile", "-q", *args]) == 0
        out = capsys.readouterr().out
        line = next(ln for ln in out.splitlines() if ln.startswith("layers "))
        return int(line.split()[1])

    assert layers(arith) < layers("--gates", arith)
    assert main(["check", "-q", "--rtl", arith]) == 0
    assert main(["check", "-q", "--gates", div]) == 0
    assert main(["check", "-q", div]) == 0  # falls back to gates
    capsys.readouterr()
    assert main(["check", "-q", "--rtl", div]) == 2
    assert f"{div}:2: error: no word-level reading" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["compile", "--rtl", "--gates", arith])


def test_gate_netlist_keeps_the_gate_path(tmp_path):
    """Every operator a one-bit gate: words would compile the same network, so the default skips them."""
    path = _write(tmp_path, "g.v", "module g(input a, input b, input c, output y);\n"
                                   "  assign y = (a & b) | ~c;\nendmodule\n")
    assert threshnet.read(path).words is None
    forced = threshnet.read(path, words=True)
    assert forced.words is not None
    assert threshnet.check(threshnet.compile(forced), forced, exhaustive=True).ok
