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
from hypothesis import given
from hypothesis import strategies as st

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
    "long_line": (2, 355, "unexpected '&'; expected "),
    "control_character": (1, 11, "unknown character '\\x01'"),
    # v2 (vectors, numbers, functions): one per error kind
    "v2_argument_too_wide": (5, 7, "width mismatch: argument 1 of 'f' has 4 bits but parameter 'a' has 2"),
    "v2_assign_to_parameter": (2, 5, "cannot assign to parameter 'a' of 'f'"),
    "v2_atleast_k_not_number": (2, 13, "the first argument of 'atleast' must be a number (how many must be 1)"),
    "v2_bit_assigned_twice": (4, 1, 'bit s[0] is assigned twice (first assigned on line 3)'),
    "v2_bit_never_assigned": (2, 8, "bit s[1] of 's' is never assigned"),
    "v2_bit_of_undeclared": (2, 1, "'s' is not a declared vector output, so its bits cannot be assigned one by one (declare it, e.g. 'output s[8]')"),
    "v2_bit_out_of_range": (3, 5, 'bit 8 is out of range: the value has 8 bits (0 to 7)'),
    "v2_builtin_redefined": (1, 1, "'maj' is a built-in function and cannot be redefined"),
    "v2_condition_width": (2, 5, "the condition of '?:' has 2 bits; it must be 1 bit (compare it, e.g. 'c != 0')"),
    "v2_def_misspelled": (1, 4, "unexpected name 'f'; a function definition starts with 'def'"),
    "v2_end_misspelled": (3, 1, "expected 'end' to close function 'f', not 'finish'"),
    "v2_function_defined_twice": (4, 1, "function 'f' is defined twice (first on line 1)"),
    "v2_missing_end": (1, 1, "function definition is not closed: expected 'end' before the end of input"),
    "v2_multi_target_count": (6, 11, "'f' returns 2 results but 3 targets are assigned"),
    "v2_multi_target_not_a_call": (2, 8, '2 targets need a call of a function with 2 results on the right'),
    "v2_multi_target_unknown_function": (2, 8, "unknown function 'f' (define it with 'def')"),
    "v2_number_as_port": (1, 7, "'3' is a number; a name is needed here"),
    "v2_number_as_target": (2, 1, "'3' is a number; a name is needed here"),
    "v2_output_is_input": (2, 8, "output 'a' is also an input; assign it to a new name"),
    "v2_recursion": (5, 10, "recursive call of 'f' (f -> g -> f): functions are expanded at compile time and cannot call themselves"),
    "v2_result_never_assigned": (1, 16, "result 'c' of 'f' is never assigned"),
    "v2_several_results_in_expression": (6, 5, "'fa' returns 2 results; assign them all at once, e.g. 's, co = fa(...)'"),
    "v2_shift_by_signal": (2, 10, 'shift amount must be a number, not a signal (shift by a signal is not supported; use ?: on its bits)'),
    "v2_slice_out_of_range": (3, 5, 'slice [9:4] is out of range: the value has 8 bits (0 to 7)'),
    "v2_slice_reversed": (3, 5, 'slice [3:5] is reversed: write [high:low]'),
    "v2_th_not_a_comparison": (2, 8, "'th' takes a weighted sum compared with a number: th(w1*x1 + w2*x2 + ... >= t)"),
    "v2_th_term_width": (2, 10, "each input of 'th' must be 1 bit; this one has 2 bits"),
    "v2_too_wide": (2, 5, 'a value of 80000 bits is wider than the 65536 bits the compiler handles'),
    "v2_undefined_in_function": (2, 13, "undefined name 'q' (not a parameter of 'f' and never assigned)"),
    "v2_unknown_function": (2, 5, "unknown function 'foo' (built-ins: maj, atleast, popcount, and, or, xor, min, max, th; or define it with 'def')"),
    "v2_width_mismatch": (3, 1, "width mismatch: 's' is declared with 4 bits but the expression has 5 (write a slice, e.g. (...)[3:0], to drop bits)"),
    "v2_wrong_argument_count": (5, 5, "'f' takes 2 arguments, got 1"),
    "v2_wrong_argument_count_builtin": (2, 5, "'min' takes 2 arguments, got 1"),
    "v2_zero_width": (1, 9, "'a' is declared with 0 bits; a width is at least 1"),
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


@given(st.one_of(st.text(max_size=130), st.text(min_size=121, max_size=400)), st.data())
def test_shown_line_is_short_printable_and_the_caret_marks_the_column(line, data):
    """Whatever the line, the caret stands under the character the column names, in at most
    SHOWN_LINE_LIMIT characters (plus the two "..." marks) of printable text."""
    from threshnet.compiler.errors import SHOWN_LINE_LIMIT, format_error

    line = line.replace("\n", " ").replace("\r", " ").replace("\t", " ")  # one line; tabs are shown as spaces
    column = data.draw(st.integers(1, len(line) + 1), label="column")
    end = data.draw(st.integers(column, len(line) + 2), label="end_column")
    head, shown, caret = format_error("m", "f", 1, column, line + "\n", end).split("\n")
    shown, caret = shown[4:], caret[4:]
    assert head == f"f:1:{column}: error: m"
    assert shown.isprintable() and len(shown) <= SHOWN_LINE_LIMIT + 6
    at = caret.index("^")
    assert caret[:at] == " " * at and set(caret[at + 1:]) <= {"~"}
    printable = "".join(ch if ch.isprintable() else "?" for ch in line)
    if column <= len(line):  # each marked character is the one the column (and the span after it) names
        assert len(caret) - at <= max(1, end - column)  # the underline never runs past the span
        for k in range(at, len(caret)):
            assert k < len(shown) and shown[k] == printable[column - 1 + k - at], (shown, caret)
    else:
        assert at == len(shown)  # the caret stands just past the line's end
    if len(line) <= SHOWN_LINE_LIMIT + 6:
        assert shown == printable
    else:
        assert len(shown) < len(line)


@pytest.mark.parametrize("length,whole", [(120, True), (126, True), (127, False), (5000, False)])
def test_a_line_is_windowed_only_when_that_makes_it_shorter(length, whole):
    from threshnet.compiler.errors import SHOWN_LINE_LIMIT, format_error

    line = ("ab " * length)[:length]
    shown = format_error("m", "f", 1, length // 2, line + "\n").split("\n")[1][4:]
    assert (shown == line) == whole
    if not whole:
        assert shown.startswith("...") and shown.endswith("...") and len(shown) == SHOWN_LINE_LIMIT + 6


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
