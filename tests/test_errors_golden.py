"""Golden diagnostics: one spec per error the parser reports.

Each ``tests/golden/errors/NAME.bool`` is parsed with the file name
``tests/golden/errors/NAME.bool`` (fixed, so the text does not depend on where
the tests run) and ``str(err)`` must equal ``NAME.txt``.  Regenerate the
``.txt`` files with ``THRESHNET_REGEN_GOLDEN=1`` after a deliberate change,
and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import threshnet

GOLDEN = Path(__file__).resolve().parent / "golden" / "errors"
REGEN = os.environ.get("THRESHNET_REGEN_GOLDEN") == "1"

#: name -> (line, column, start of err.message)
CASES: dict[str, tuple[int, int, str]] = {
    "syntax_unexpected_token": (1, 7, "unexpected name 'b'; expected ';', an operator, end of input or end of line"),
    "syntax_inside_parens": (1, 8, "unexpected name 'b'; expected ')' or an operator"),
    "syntax_end_of_line": (1, 8, "unexpected end of line; expected "),
    "syntax_end_of_input": (1, 8, "unexpected end of input; expected "),
    "syntax_missing_target": (4, 1, "unexpected '='; expected "),
    "unknown_character": (1, 7, "unknown character '$'"),
    "unknown_character_unicode": (2, 7, "unknown character '\u2227'"),
    "unclosed_paren_eof": (1, 5, "unclosed parenthesis: expected ')' before end of input"),
    "unclosed_paren_next_line": (1, 5, "unclosed parenthesis: expected ')' before name 't'"),
    "unclosed_paren_nested": (1, 5, "unclosed parenthesis: expected ')' before end of input"),
    "unmatched_rparen": (1, 10, "unmatched ')'"),
    "invalid_constant": (1, 9, "invalid number '0b102': write decimal (42), hex (0x2A) or binary (0b101010)"),
    "invalid_constant_alnum": (1, 9, "invalid number '1a': write decimal (42), hex (0x2A) or binary (0b101010)"),
    "undefined_name": (2, 9, "undefined name 'c' (not an input and never assigned)"),
    "assigned_twice": (3, 1, "'s' is assigned twice (first assigned on line 1)"),
    "assign_to_input": (3, 1, "cannot assign to input 'a'"),
    "duplicate_input": (1, 13, "input 'a' is declared twice"),
    "duplicate_output": (3, 11, "output 's' is declared twice"),
    "output_never_defined": (1, 11, "output 't' is declared but never defined"),
    "loop": (3, 1, "combinational loop: t -> u -> t"),
    "loop_self": (1, 1, "combinational loop: y -> y"),
    "loop_no_outputs": (1, 1, "combinational loop: x -> w -> z -> y -> x"),
    "no_outputs_empty": (1, 1, "spec has no outputs"),
    "no_outputs_comments": (1, 1, "spec has no outputs"),
    "no_outputs_inputs_only": (1, 1, "spec has no outputs"),
    "keyword_as_target": (1, 1, "'input' is a keyword and cannot be used as a name"),
    "keyword_in_expression": (1, 5, "'output' is a keyword and cannot be used as a name"),
    "keyword_in_declaration": (1, 10, "'output' is a keyword and cannot be used as a name"),
}


def test_every_golden_file_has_a_case():
    assert sorted(p.stem for p in GOLDEN.glob("*.bool")) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_error_golden(name):
    path = GOLDEN / f"{name}.bool"
    filename = f"tests/golden/errors/{name}.bool"
    text = path.read_bytes().decode("utf-8")
    with pytest.raises(threshnet.SpecError) as info:
        threshnet.parse(text, filename)
    err = info.value
    line, column, message = CASES[name]
    assert (err.line, err.column) == (line, column)
    assert err.message.startswith(message), err.message
    assert err.filename == filename
    assert str(err).startswith(f"{filename}:{line}:{column}: error: {err.message}")
    got = str(err) + "\n"
    expected_path = path.with_suffix(".txt")
    if REGEN:
        expected_path.write_bytes(got.encode("utf-8"))
    assert expected_path.exists(), f"missing {expected_path}; run with THRESHNET_REGEN_GOLDEN=1"
    assert got == expected_path.read_bytes().decode("utf-8")


def test_parser_is_reused_safely_after_errors_and_across_threads():
    """The Lark parser is built once per thread; an error must not leak state into the next parse."""
    from concurrent.futures import ThreadPoolExecutor

    good = "c1 = a0 & b0\nc0 = (a0 ^\n b0)\n"
    want = threshnet.parse(good)
    for bad in ["y = (a & b\n", "y = a &\n", ")\n", "y = ((a)\nz = b"]:
        with pytest.raises(threshnet.SpecError):
            threshnet.parse(bad)
        assert threshnet.parse(good) == want
    texts = [f"y{i} = " + "(" * i + "a & b" + ")" * i for i in range(1, 41)]
    with ThreadPoolExecutor(4) as pool:
        specs = list(pool.map(threshnet.parse, texts))
    assert [s.outputs for s in specs] == [(f"y{i}",) for i in range(1, 41)]


def test_spec_and_netlists_share_one_validation():
    """The parser and the netlist readers call the same validate(): same loop text, same order of checks."""
    from threshnet.frontends import read_text

    n = 20
    names = [f"s{i}" for i in range(n)]
    spec = "output y\ny = s0\n" + "".join(f"{a} = ~{b}\n" for a, b in zip(names, names[1:] + names[:1]))
    bench = "INPUT(a)\nOUTPUT(y)\ny = BUFF(s0)\n" + "".join(
        f"{a} = NOT({b})\n" for a, b in zip(names, names[1:] + names[:1]))
    ring = " -> ".join(names[:10] + ["...", "s0"])
    with pytest.raises(threshnet.SpecError) as e1:
        threshnet.parse(spec, "t.bool")
    with pytest.raises(threshnet.SpecError) as e2:
        read_text(bench, "bench", "t.bench")
    assert e1.value.message == e2.value.message == f"combinational loop through {n} signals: {ring}"
    assert (e1.value.line, e2.value.line) == (3, 4)
