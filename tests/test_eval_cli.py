"""``threshnet eval`` and ``threshnet table`` with words: numbers in (decimal, 0x, 0b), numbers out,
``--bits`` for bit columns, ``--net`` to run a saved network.  Error messages are golden files in
tests/test_cli_errors.py (``eval_word_*``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import threshnet
from threshnet.cli import main

from test_ports import adder_blif

ROOT = Path(__file__).resolve().parent.parent
I2F = str(ROOT / "benchmarks" / "circuits" / "epfl" / "int2float.aig")


def cli(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def add2(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("evalcli")
    p = d / "add2.blif"
    p.write_text(adder_blif(2))
    return p


def test_eval_words(add2, capsys):
    for args in (["a=3", "b=2", "cin=1"], ["a=0x3", "b=0b10", "cin=1"], ["cin=1", "b=2", "a=03"]):
        assert cli(["eval", str(add2), *args], capsys) == (0, "s=6\n", "")
    code, out, _ = cli(["eval", str(add2), "a=3", "b=2", "cin=1", "--bits"], capsys)
    assert (code, out) == (0, "s[0]=0 s[1]=1 s[2]=1\n")
    # a vector given bit by bit answers in bits, as before words existed
    code, out, _ = cli(["eval", str(add2), "a[0]=1", "a[1]=1", "b[0]=0", "b[1]=1", "cin=1"], capsys)
    assert (code, out) == (0, "s[0]=0 s[1]=1 s[2]=1\n")
    assert cli(["eval", I2F, "B=1000"], capsys) == (0, "M=8 E=7\n", "")


def test_eval_half_adder_unchanged(capsys):
    assert cli(["eval", str(ROOT / "examples" / "half_adder.bool"), "a0=1", "b0=1"], capsys) == (0, "c1=1 c0=0\n", "")


def test_eval_with_net(add2, tmp_path, capsys):
    good = tmp_path / "good.pt2"
    threshnet.compile(threshnet.read(add2)).save(good)
    assert cli(["eval", str(add2), "a=3", "b=3", "cin=1", "--net", str(good)], capsys) == (0, "s=7\n", "")
    code, out, _ = cli(["eval", str(add2), "a=3", "b=3", "cin=1", "--net", str(good), "--bits"], capsys)
    assert (code, out) == (0, "s[0]=1 s[1]=1 s[2]=1\n")
    wrong = tmp_path / "wrong.blif"  # bit 0 of the sum inverted
    wrong.write_text(adder_blif(2).replace(".names a[0] b[0] cin s[0]\n100 1", ".names a[0] b[0] cin s[0]\n000 1"))
    bad = tmp_path / "wrong.pt2"
    threshnet.compile(threshnet.read(wrong)).save(bad)
    code, out, err = cli(["eval", str(add2), "a=1", "b=0", "cin=0", "--net", str(bad)], capsys)
    assert (code, out, err) == (1, "s=0\n", "threshnet: mismatch: the spec gives s=1\n")


def test_table_words_and_bits(add2, capsys):
    code, out, _ = cli(["table", "-q", str(add2)], capsys)
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["a", "b", "cin", "|", "s", "|", "net.s"]
    assert lines[1].split() == ["0", "0", "0", "|", "0", "|", "0", "ok"]
    assert lines[2].split() == ["0", "0", "1", "|", "1", "|", "1", "ok"]
    assert lines[-2].split() == ["3", "3", "1", "|", "7", "|", "7", "ok"]
    assert lines[-1] == "32 rows, 0 mismatches - all correct"
    rows = [ln.split() for ln in lines[1:-1]]
    assert [(int(r[0]), int(r[1]), int(r[2])) for r in rows] == [(a, b, c) for a in range(4) for b in range(4)
                                                                 for c in range(2)]
    assert all(int(r[4]) == int(r[0]) + int(r[1]) + int(r[2]) for r in rows)
    code, out, _ = cli(["table", "-q", str(add2), "--bits"], capsys)
    assert code == 0 and out.splitlines()[0].split()[:3] == ["a[0]", "a[1]", "b[0]"]
    assert "net.s[2]" in out.splitlines()[0]


def test_eval_words_flag(tmp_path, capsys):
    """Scalar inputs, a vector output: bits by default (as before), words with --words."""
    f = tmp_path / "cnt.bool"
    f.write_text("input x, y, z\noutput n[2]\nn = popcount({x, y, z})\n")
    assert cli(["eval", str(f), "x=1", "y=0", "z=1"], capsys) == (0, "n[0]=0 n[1]=1\n", "")
    assert cli(["eval", str(f), "x=1", "y=0", "z=1", "--words"], capsys) == (0, "n=2\n", "")
    spec = threshnet.read(f)
    assert threshnet.evaluate(spec, {"x": 1, "y": 1, "z": 1}) == {"n[0]": 1, "n[1]": 1}
    assert threshnet.evaluate(spec, {"x": 1, "y": 1, "z": 1}, words=True) == {"n": 3}
