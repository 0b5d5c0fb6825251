"""A frozen copy of the v1 parser (tests compare the v2 parser with it).

Stage 1, parse: spec text to a checked :class:`Spec` with source spans.

Lark's LALR parser runs the tree callbacks while it reduces, so building the
AST never recurses, however deep the nesting.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from threshnet.compiler.errors import DEFAULT_FILENAME, Span, SpecError
from threshnet.compiler.source import decode_source
from threshnet.compiler.spec import AND, KEYWORDS, OR, XOR, Assign, BinOp, Const, Expr, Name, Not, Spec, names_read
from threshnet.compiler.validate import SPEC_WORDS, Driver, validate

_DESCRIBE_EXPECTED = {
    "NAME": "a name",
    "NUMBER": "a constant",
    "NOT": "'~' or '!'",
    "LPAR": "'('",
    "RPAR": "')'",
    "EQUAL": "'='",
    "AMPERSAND": "'&'",
    "VBAR": "'|'",
    "CIRCUMFLEX": "'^'",
    "COMMA": "','",
    "SEMICOLON": "';'",
    "_NEWLINE": "end of line",
    "$END": "end of input",
    "INPUT": "'input'",
    "OUTPUT": "'output'",
}


def _span(tok: Token) -> Span:
    return Span(tok.line, tok.column, tok.end_line, tok.end_column)


def _join(a: Span | None, b: Span | None) -> Span | None:
    if a is None or b is None:
        return a or b
    return Span(a.line, a.column, b.end_line, b.end_column)


class _SpecError(Exception):
    """Raised inside callbacks; turned into SpecError with the file name."""

    def __init__(self, message: str, span: Span) -> None:
        self.message, self.span = message, span


@v_args(inline=True)
class _Build(Transformer):
    def name(self, tok: Token) -> Name:
        return Name(str(tok), _span(tok))

    def const(self, tok: Token) -> Const:
        if tok.value not in ("0", "1"):
            raise _SpecError(f"invalid constant '{tok.value}': only 0 and 1 are constants", _span(tok))
        return Const(int(tok.value), _span(tok))

    def paren(self, _l: Token, e: Expr, _r: Token) -> Expr:
        return e

    def not_(self, tok: Token, e: Expr) -> Not:
        return Not(e, _join(_span(tok), e.span))

    def and_(self, a: Expr, b: Expr) -> BinOp:
        return BinOp(AND, a, b, _join(a.span, b.span))

    def xor_(self, a: Expr, b: Expr) -> BinOp:
        return BinOp(XOR, a, b, _join(a.span, b.span))

    def or_(self, a: Expr, b: Expr) -> BinOp:
        return BinOp(OR, a, b, _join(a.span, b.span))

    def name_list(self, *toks: Token) -> list[Token]:
        return list(toks)

    def input_decl(self, _kw: Token, names: list[Token]) -> tuple[str, list[Token]]:
        return ("input", names)

    def output_decl(self, _kw: Token, names: list[Token]) -> tuple[str, list[Token]]:
        return ("output", names)

    def assign(self, target: Token, e: Expr) -> Assign:
        return Assign(str(target), e, _span(target))

    def start(self, *stmts: object) -> list[object]:
        return list(stmts)


class _ParenTracker:
    """Post-lexer: drops newlines inside parentheses and remembers open ones."""

    always_accept = ("_NEWLINE",)

    def __init__(self) -> None:
        self.open: list[Token] = []
        self.last: Token | None = None
        self.prev: Token | None = None
        self.last_unmatched = False  # the last token was a ')' with no '(' open

    def process(self, stream: Iterable[Token]) -> Iterator[Token]:
        self.open, self.last, self.prev = [], None, None
        for tok in stream:
            self.last_unmatched = False
            if tok.type == "LPAR":
                self.open.append(tok)
            elif tok.type == "RPAR":
                if self.open:
                    self.open.pop()
                else:
                    self.last_unmatched = True
            elif tok.type == "_NEWLINE" and self.open:
                continue
            self.prev, self.last = self.last, tok
            yield tok

    def innermost_open(self) -> Token | None:
        """The innermost '(' still open before the last token."""
        stack = self.open[:-1] if self.last is not None and self.last.type == "LPAR" else self.open
        return stack[-1] if stack else None


@lru_cache(maxsize=1)
def _grammar() -> str:
    return (Path(__file__).parent / "v1_spec.lark").read_text(encoding="utf-8")


_LOCAL = threading.local()


def _make_parser() -> tuple[Lark, _ParenTracker]:
    """The parser and its post-lexer, built once per thread (the tracker holds per-parse state)."""
    cached = getattr(_LOCAL, "parser", None)
    if cached is None:
        cached = _LOCAL.parser = _new_parser()
    return cached


def _new_parser() -> tuple[Lark, _ParenTracker]:
    tracker = _ParenTracker()
    parser = Lark(
        _grammar(),
        parser="lalr",
        lexer="basic",
        transformer=_Build(),
        postlex=tracker,
        maybe_placeholders=False,
    )
    return parser, tracker


def _describe_token(tok: Token) -> str:
    if tok.type == "$END":
        return "end of input"
    if tok.type == "_NEWLINE":
        return "end of line"
    if tok.type == "NAME":
        return f"name '{tok.value}'"
    return f"'{tok.value}'"


def _expected(expected: Iterable[str]) -> str:
    words = sorted({_DESCRIBE_EXPECTED.get(t, t.lower()) for t in expected})
    if not words:
        return ""
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _syntax_error(err: UnexpectedInput, tracker: _ParenTracker, filename: str, text: str) -> SpecError:
    def at(message: str, line: int, column: int, width: int = 1) -> SpecError:
        return SpecError(
            message, filename=filename, line=line, column=column, source=text, end_column=column + width
        )

    if isinstance(err, UnexpectedCharacters):
        ch = text[err.pos_in_stream] if err.pos_in_stream < len(text) else ""
        return at(f"unknown character {ch!r}", err.line, err.column)
    assert isinstance(err, UnexpectedToken)
    tok = err.token
    expected = set(err.expected)
    if tok.type in ("INPUT", "OUTPUT") and "NAME" in expected:
        return at(f"'{tok.value}' is a keyword and cannot be used as a name", tok.line, tok.column, len(tok.value))
    prev = tracker.prev
    if tok.type == "EQUAL" and prev is not None and prev.type in ("INPUT", "OUTPUT"):
        return at(f"'{prev.value}' is a keyword and cannot be used as a name", prev.line, prev.column, len(prev.value))
    if tok.type == "RPAR" and tracker.last_unmatched:
        return at("unmatched ')'", tok.line, tok.column)
    paren = tracker.innermost_open()
    if paren is None:
        expected.discard("RPAR")
    elif tok.type == "$END" or tok.line > paren.line:
        return at(f"unclosed parenthesis: expected ')' before {_describe_token(tok)}", paren.line, paren.column)
    else:  # inside parentheses a statement cannot end
        expected -= {"_NEWLINE", "SEMICOLON", "$END"}
    if tok.type == "$END":
        line, column = _end_position(text)
        return at(f"unexpected end of input; expected {_expected(expected)}", line, column)
    width = max(1, len(tok.value)) if tok.type != "_NEWLINE" else 1
    return at(f"unexpected {_describe_token(tok)}; expected {_expected(expected)}", tok.line, tok.column, width)


def _end_position(text: str) -> tuple[int, int]:
    lines = text.split("\n")
    return len(lines), len(lines[-1]) + 1


def parse(text: str, filename: str = DEFAULT_FILENAME) -> Spec:
    """Parse and check spec text; raise :class:`SpecError` on any problem.

    ``text`` passes through :func:`~threshnet.compiler.source.decode_source` first (a
    leading BOM is dropped, a NUL character refused), as every other input path does.
    """
    if not isinstance(text, str):
        raise TypeError(f"spec text must be str, not {type(text).__name__}")
    source = decode_source(text, filename)
    # The lexer would take the '\r' of '\r\n' as whitespace before the line end, one
    # column to the right of where an '\n' file has it; lex every line end as '\n'.
    text = source.replace("\r\n", "\n") if "\r" in source else source
    parser, tracker = _make_parser()
    try:
        stmts = parser.parse(text)
    except _SpecError as e:
        raise SpecError.at(e.message, e.span, filename, text) from None
    except UnexpectedInput as e:
        raise _syntax_error(e, tracker, filename, text) from None
    except Exception as e:  # lark wraps callback errors in VisitError
        inner = getattr(e, "orig_exc", None)
        if isinstance(inner, _SpecError):
            raise SpecError.at(inner.message, inner.span, filename, text) from None
        raise
    return analyze(stmts, filename, source)


def analyze(stmts: list[object], filename: str, source: str | None) -> Spec:
    """Check declarations and assignments and fix the port order.

    Second declarations and assignments are refused here, in statement order; the rules
    every reader shares (undefined names, undefined outputs, loops, no outputs) are
    :func:`~threshnet.compiler.validate.validate`'s.  Without an ``input`` declaration the
    inputs are the names read but never assigned, in order of first use; without an
    ``output`` declaration the outputs are the assigned names never read.
    """

    def fail(message: str, span: Span | None) -> SpecError:
        return SpecError.at(message, span, filename, source)

    declared_in: dict[str, Span] = {}
    declared_out: dict[str, Span] = {}
    saw_input_decl = False
    assigns: list[Assign] = []
    defined: dict[str, Assign] = {}
    for st in stmts:
        if isinstance(st, Assign):
            if st.target in defined:
                first = defined[st.target].span
                where = f" (first assigned on line {first.line})" if first else ""
                raise fail(f"'{st.target}' is assigned twice{where}", st.span)
            defined[st.target] = st
            assigns.append(st)
            continue
        kind, toks = st  # type: ignore[misc]
        table = declared_in if kind == "input" else declared_out
        saw_input_decl |= kind == "input"
        for tok in toks:
            if tok.value in table:
                raise fail(f"{kind} '{tok.value}' is declared twice", _span(tok))
            table[tok.value] = _span(tok)

    for a in assigns:
        if a.target in declared_in:
            raise fail(f"cannot assign to input '{a.target}'", a.span)

    first_read: dict[str, Name] = {}
    drivers: dict[str, Driver[Span | None]] = {}
    for a in assigns:
        names = list(names_read(a.expr))
        for n in names:
            first_read.setdefault(n.id, n)
        drivers[a.target] = Driver(reads=[n.id for n in names], where=a.span,
                                   line=a.span.line if a.span else None, reads_at=[n.span for n in names])
    if saw_input_decl:
        inputs = tuple(declared_in)
    else:
        inputs = tuple(n for n in first_read if n not in defined)
    if declared_out:
        outputs = tuple(declared_out)
        places: dict[str, Span | None] = dict(declared_out)
    else:
        outputs = tuple(a.target for a in assigns if a.target not in first_read)
        places = {o: defined[o].span for o in outputs}
    nowhere = Span.point(1, 1)
    validate(set(inputs), places, drivers, fail, SPEC_WORDS, nowhere=nowhere)
    return Spec(inputs=inputs, outputs=outputs, assignments=tuple(assigns), filename=filename, source=source)
