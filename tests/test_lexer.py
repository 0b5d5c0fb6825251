"""The spec lexer (``parse._Lexer``) against lark's own ``BasicLexer`` on the same grammar: the same
tokens at the same positions, and the same error at the same place, on any text."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st
from lark.exceptions import UnexpectedCharacters
from lark.lexer import BasicLexer, LexerThread

from threshnet.compiler import parse as P

# Every character the grammar's terminals use, the whitespace it ignores, comment starts, and a few
# characters no terminal starts with.
ALPHABET = "abxyz_AZ019" + "~!&|^=<>+-*?:;,()[]{}" + " \t\f\r\n" + "#/" + "@$é\x0b"
TOKEN_WORDS = ["input", "output", "inputs", "def", "end", "0x1F", "0b101", "->", "<<", ">>", "<=", ">=", "==", "!=",
               "// c\n", "# c\n", "\r\n"]


def _tokens(lexer, text: str):
    out = []
    try:
        for t in LexerThread.from_text(lexer, text).lex(None):
            out.append((t.type, t.value, t.start_pos, t.line, t.column, t.end_line, t.end_column, t.end_pos))
    except UnexpectedCharacters as e:
        out.append(("error", e.pos_in_stream, e.line, e.column, sorted(e.allowed)))
    return out


def _lexers():
    parser, _, _ = P._make_parser()
    return P._Lexer(parser.lexer_conf), BasicLexer(parser.lexer_conf)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(ALPHABET, max_size=6), st.sampled_from(TOKEN_WORDS)), max_size=30).map("".join))
@example("y = a & b\nz = ~y | (a ^\n b)\n")
@example("input a\n\n  y = a  # note\r\nz = y @ a\n")
@example("a\n\n\nb é")
def test_same_tokens_as_larks_basic_lexer(text):
    ours, larks = _lexers()
    assert _tokens(ours, text) == _tokens(larks, text)
