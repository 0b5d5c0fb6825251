"""Stage 1, parse: spec text to a checked :class:`Spec` with source spans.

Lark's LALR parser runs the tree callbacks while it reduces, so building the
AST never recurses, however deep the nesting.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from functools import lru_cache
from importlib import resources
from typing import Iterable, Iterator

from lark import Lark, Token, Transformer, v_args
from lark.lexer import BasicLexer
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from .errors import DEFAULT_FILENAME, Span, SpecError
from .gcpause import without_gc
from .source import decode_source
from .ast2 import BINARY, Arith, Assign2, Call, Concat, Cond, Decl, Expr2, FuncDef, Index, Num, PortDecl, Slice, Target
from .spec import AND, OR, XOR, Assign, BinOp, Const, Expr, Name, Not, Spec, names_read
from .bitblast import bitblast
from .elaborate import elaborate, words_of_v1
from .validate import SPEC_WORDS, Driver, validate

_DESCRIBE_EXPECTED = {
    "NAME": "a name",
    "NUMBER": "a number",
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
    "LSQB": "'['",
    "RSQB": "']'",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "COLON": "':'",
    "QMARK": "'?'",
    "ARROW": "'->'",
    "EQEQ": "'=='",
    "NOTEQ": "'!='",
    "LESS": "'<'",
    "LESSEQ": "'<='",
    "MORE": "'>'",
    "MOREEQ": "'>='",
    "SHL": "'<<'",
    "SHR": "'>>'",
    "PLUS": "'+'",
    "MINUS": "'-'",
    "STAR": "'*'",
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


def _number(tok: Token) -> int:
    """The value of a NUMBER token: decimal, ``0x`` hex or ``0b`` binary; ``_SpecError`` otherwise."""
    text = tok.value
    try:
        if text[:2] in ("0x", "0X"):
            return int(text[2:], 16) if text[2:].isalnum() else int("-")
        if text[:2] in ("0b", "0B"):
            return int(text[2:], 2) if text[2:].isalnum() else int("-")
        if text.isdigit():
            return int(text)
    except ValueError:
        pass
    raise _SpecError(f"invalid number '{text}': write decimal (42), hex (0x2A) or binary (0b101010)", _span(tok))


#: Binary operators by how tightly they bind (higher first); the grammar reads a run of them flat
#: and :meth:`_Build.binary` groups it.  The order is the one docs/language.md gives.
BINARY_PRECEDENCE = {"*": 8, "+": 7, "-": 7, "<<": 6, ">>": 6, "<": 5, "<=": 5, ">": 5, ">=": 5, "==": 4, "!=": 4,
                     "&": 3, "^": 2, "|": 1}
_BIT_OPS = {"&": AND, "^": XOR, "|": OR}


def _plain(items: tuple[object, ...]) -> list[object]:
    """Drop punctuation tokens from a callback's children."""
    return [x for x in items if not isinstance(x, Token)]


@v_args(inline=True)
class _Build(Transformer):
    """Builds the AST while Lark reduces; ``v2`` records whether any v2 construct was seen."""

    v2 = False

    def name(self, tok: Token) -> Name:
        return Name(str(tok), _span(tok))

    def const(self, tok: Token) -> Const | Num:
        if tok.value in ("0", "1"):
            return Const(int(tok.value), _span(tok))
        self.v2 = True
        return Num(_number(tok), tok.value, _span(tok))

    def paren(self, _l: Token, e: Expr, _r: Token) -> Expr:
        return e

    def not_(self, tok: Token, e: Expr) -> Not:
        return Not(e, _join(_span(tok), e.span))

    def binary(self, *items: object) -> Expr2:
        """A run ``e0 op1 e1 op2 e2 ...`` grouped by :data:`BINARY_PRECEDENCE`, left-associative
        (operator precedence parsing with two stacks: no recursion, one pass)."""
        operands: list[Expr2] = [items[0]]  # type: ignore[list-item]
        ops: list[Token] = []
        prec = BINARY_PRECEDENCE
        for i in range(1, len(items), 2):
            op: Token = items[i]  # type: ignore[assignment]
            p = prec[op.value]
            while ops and prec[ops[-1].value] >= p:
                b = operands.pop()
                operands[-1] = self._binop(ops.pop(), operands[-1], b)
            ops.append(op)
            operands.append(items[i + 1])  # type: ignore[arg-type]
        while ops:
            b = operands.pop()
            operands[-1] = self._binop(ops.pop(), operands[-1], b)
        return operands[0]

    def _binop(self, op: Token, a: Expr2, b: Expr2) -> Expr2:
        bit = _BIT_OPS.get(op.value)
        if bit is not None:
            return BinOp(bit, a, b, _join(a.span, b.span))  # type: ignore[arg-type]
        self.v2 = True
        return Arith(BINARY[op.value], a, b, _join(a.span, b.span))

    def cond_(self, c: Expr2, _q: Token, x: Expr2, _c: Token, y: Expr2) -> Cond:
        self.v2 = True
        return Cond(c, x, y, _join(c.span, y.span))

    def index(self, base: Expr2, _l: Token, bit: Token, r: Token) -> Index:
        self.v2 = True
        return Index(base, _number(bit), _join(base.span, _span(r)))

    def slice(self, base: Expr2, _l: Token, hi: Token, _c: Token, lo: Token, r: Token) -> Slice:
        self.v2 = True
        return Slice(base, _number(hi), _number(lo), _join(base.span, _span(r)))

    def concat(self, l: Token, *items: object) -> Concat:
        self.v2 = True
        r = items[-1]
        return Concat(tuple(_plain(items)), _join(_span(l), _span(r)))  # type: ignore[arg-type]

    def call(self, name: Token, _l: Token, *items: object) -> Call:
        self.v2 = True
        r = items[-1]
        return Call(str(name), tuple(_plain(items)), _join(_span(name), _span(r)), _span(name))  # type: ignore

    def decl(self, tok: Token) -> Decl:
        return Decl(str(tok), 1, False, _span(tok))

    def vdecl(self, tok: Token, _l: Token, width: Token, r: Token) -> Decl:
        self.v2 = True
        w = _number(width)
        if w < 1:
            raise _SpecError(f"'{tok.value}' is declared with {w} bits; a width is at least 1", _span(width))
        return Decl(str(tok), w, True, _join(_span(tok), _span(r)))

    def decl_list(self, *items: object) -> tuple[Decl, ...]:
        return tuple(_plain(items))  # type: ignore[arg-type]

    def input_decl(self, _kw: Token, decls: tuple[Decl, ...]) -> PortDecl:
        return PortDecl("input", decls)

    def output_decl(self, _kw: Token, decls: tuple[Decl, ...]) -> PortDecl:
        return PortDecl("output", decls)

    def target(self, tok: Token) -> Target:
        return Target(str(tok), None, None, _span(tok))

    def bit_target(self, tok: Token, _l: Token, bit: Token, r: Token) -> Target:
        self.v2 = True
        b = _number(bit)
        return Target(str(tok), b, b, _join(_span(tok), _span(r)))

    def slice_target(self, tok: Token, _l: Token, hi: Token, _c: Token, lo: Token, r: Token) -> Target:
        self.v2 = True
        return Target(str(tok), _number(hi), _number(lo), _join(_span(tok), _span(r)))

    def target_list(self, *items: object) -> tuple[Target, ...]:
        targets = tuple(_plain(items))
        if len(targets) > 1:
            self.v2 = True
        return targets  # type: ignore[return-value]

    def assign(self, targets: tuple[Target, ...], _eq: Token, e: Expr2) -> Assign2:
        return Assign2(targets, e, targets[0].span)

    def funcdef(self, kw: Token, name: Token, *items: object) -> FuncDef:
        self.v2 = True
        if kw.value != "def":
            raise _SpecError(f"unexpected name '{name.value}'; a function definition starts with 'def'", _span(name))
        end = items[-1]
        assert isinstance(end, Token)
        if end.value != "end":
            raise _SpecError(f"expected 'end' to close function '{name.value}', not '{end.value}'", _span(end))
        parts = _plain(items[:-1])
        params: tuple[Decl, ...] = ()
        if len(parts) >= 2 and isinstance(parts[1], tuple):
            params = parts.pop(0)  # type: ignore[assignment]
        results = parts.pop(0)
        body = tuple(parts)
        return FuncDef(str(name), params, results, body, _join(_span(kw), _span(name)))  # type: ignore[arg-type]

    def start(self, *stmts: object) -> list[object]:
        return _plain(stmts)


class _ParenTracker:
    """Post-lexer: drops newlines inside parentheses and remembers open ones."""

    always_accept = ("_NEWLINE",)

    def __init__(self) -> None:
        self.open: list[Token] = []
        self.calls: list[bool] = []
        self.at_start = True
        self.maybe_def: Token | None = None
        self.def_tok: Token | None = None
        self.last: Token | None = None
        self.prev: Token | None = None
        self.last_unmatched = False  # the last token was a ')' with no '(' open
        self.braces = 0  # '{' open
        self.qmarks = 0  # '?' in this statement

    def process(self, stream: Iterable[Token]) -> Iterator[Token]:
        self.open, self.last, self.prev = [], None, None
        self.calls: list[bool] = []  # per open '(': is it a call's?
        self.braces = self.qmarks = 0
        self.at_start = True  # the next token starts a statement
        self.maybe_def: Token | None = None
        self.def_tok: Token | None = None  # the 'def' of a function not yet closed by 'end'
        for tok in stream:
            self.last_unmatched = False
            if self.maybe_def is not None and tok.type == "NAME":  # 'def NAME' starts a function
                self.def_tok = self.maybe_def
            self.maybe_def = None
            if self.at_start and not self.open:
                if tok.type == "NAME" and tok.value == "def":
                    self.maybe_def = tok
                elif tok.type == "NAME" and tok.value == "end":
                    self.def_tok = None
            self.at_start = tok.type in ("_NEWLINE", "SEMICOLON") and not self.open
            if tok.type == "LBRACE":
                self.braces += 1
            elif tok.type == "RBRACE":
                self.braces -= 1
            elif tok.type == "QMARK":
                self.qmarks += 1
            elif tok.type in ("_NEWLINE", "SEMICOLON") and not self.open:
                self.braces = self.qmarks = 0
            if tok.type == "LPAR":
                self.open.append(tok)
                self.calls.append(self.last is not None and self.last.type == "NAME")
            elif tok.type == "RPAR":
                if self.open:
                    self.open.pop()
                    self.calls.pop()
                else:
                    self.last_unmatched = True
            elif tok.type == "_NEWLINE" and self.open:
                continue
            self.prev, self.last = self.last, tok
            yield tok

    def in_call(self) -> bool:
        """The innermost open '(' (before the last token) is a call's."""
        stack = self.calls[:-1] if self.last is not None and self.last.type == "LPAR" else self.calls
        return bool(stack) and stack[-1]

    def innermost_open(self) -> Token | None:
        """The innermost '(' still open before the last token."""
        stack = self.open[:-1] if self.last is not None and self.last.type == "LPAR" else self.open
        return stack[-1] if stack else None


class _Lexer(BasicLexer):
    """Lark's basic lexer for the grammar's own terminals, keyword rule and errors, in one loop.

    It is lark's ``BasicLexer`` with its ``lex`` written as a single generator: the same
    scanner (lark builds it from the grammar), the same ``UnexpectedCharacters`` on a
    character no terminal starts with, and the same token positions.  Lark's version
    spends most of its time per token in method calls and a line counter object; here
    the line and column are two local ints, and newlines are counted only in the
    terminals lark marks as able to hold one (``_NEWLINE``).  ``tests/test_lexer.py``
    compares the two lexers token by token on random text.
    """

    __future_interface__ = 2  # lark passes (lexer_state, parser_state) to lex

    def lex(self, state, parser_state):  # type: ignore[override]
        match = self.scanner.match
        callback, ignore, newline = self.callback, self.ignore_types, self.newline_types
        ctr = state.line_ctr
        source = state.text  # a lark TextSlice, which the scanner takes
        text, end = source.text, source.end
        pos, line, line_start = ctr.char_pos, ctr.line, ctr.line_start_pos
        try:
            while pos < end:
                res = match(source, pos)
                if not res:
                    allowed = (self.scanner.allowed_types - ignore) or {"<END-OF-FILE>"}
                    raise UnexpectedCharacters(text, pos, line, pos - line_start + 1, allowed=allowed,
                                               token_history=state.last_token and [state.last_token],
                                               state=parser_state, terminals_by_name=self.terminals_by_name)
                value, type_ = res
                start, start_line, column = pos, line, pos - line_start + 1
                pos += len(value)
                if type_ in newline:
                    nl = value.count("\n")
                    if nl:
                        line += nl
                        line_start = start + value.rindex("\n") + 1
                if type_ in ignore and type_ not in callback:
                    continue
                t = Token(type_, value, start, start_line, column, line, pos - line_start + 1, pos)
                if type_ in callback:
                    t = callback[type_](t)
                if type_ in ignore:
                    continue
                state.last_token = t
                yield t
        finally:
            ctr.char_pos, ctr.line, ctr.line_start_pos = pos, line, line_start
            ctr.column = pos - line_start + 1


@lru_cache(maxsize=1)
def _grammar() -> str:
    return resources.files("threshnet.grammar").joinpath("spec.lark").read_text(encoding="utf-8")


_LOCAL = threading.local()


def _make_parser() -> tuple[Lark, _ParenTracker, _Build]:
    """The parser and its post-lexer, built once per thread (the tracker holds per-parse state)."""
    cached = getattr(_LOCAL, "parser", None)
    if cached is None:
        cached = _LOCAL.parser = _new_parser()
    return cached


def _new_parser() -> tuple[Lark, _ParenTracker, _Build]:
    tracker = _ParenTracker()
    builder = _Build()
    parser = Lark(
        _grammar(),
        parser="lalr",
        lexer=_Lexer,
        transformer=builder,
        postlex=tracker,
        maybe_placeholders=False,
    )
    return parser, tracker, builder


def _describe_token(tok: Token) -> str:
    if tok.type == "$END":
        return "end of input"
    if tok.type == "_NEWLINE":
        return "end of line"
    if tok.type == "NAME":
        return f"name '{tok.value}'"
    return f"'{tok.value}'"


#: Binary operator tokens: listed as "an operator" in a syntax error.
_OPERATOR_TOKENS = frozenset({"AMPERSAND", "VBAR", "CIRCUMFLEX", "PLUS", "MINUS", "STAR", "SHL", "SHR", "LESS",
                              "LESSEQ", "MORE", "MOREEQ", "EQEQ", "NOTEQ", "QMARK"})


def _expected(expected: Iterable[str]) -> str:
    words = sorted({"an operator" if t in _OPERATOR_TOKENS else _DESCRIBE_EXPECTED.get(t, t.lower())
                    for t in expected})
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
    if tok.type == "NUMBER" and "NAME" in expected and "NUMBER" not in expected:
        return at(f"'{tok.value}' is a number; a name is needed here", tok.line, tok.column, len(tok.value))
    if tok.type == "$END" and tracker.def_tok is not None and not tracker.open:
        d = tracker.def_tok
        return at("function definition is not closed: expected 'end' before the end of input", d.line, d.column, 3)
    if tok.type == "RPAR" and tracker.last_unmatched:
        return at("unmatched ')'", tok.line, tok.column)
    paren = tracker.innermost_open()
    if paren is None:
        expected.discard("RPAR")
    elif tok.type == "$END" or tok.line > paren.line:
        return at(f"unclosed parenthesis: expected ')' before {_describe_token(tok)}", paren.line, paren.column)
    else:  # inside parentheses a statement cannot end
        expected -= {"_NEWLINE", "SEMICOLON", "$END"}
    if expected & _OPERATOR_TOKENS:
        # After a complete operand: a call's '(' or an index's '[' is possible too, but "an operator"
        # says enough; ',' ':' '}' are possible only inside '{...}', a call or after '?'.
        expected -= {"LPAR", "LSQB"}
        if not tracker.braces:
            expected.discard("RBRACE")
        if not tracker.braces and not tracker.in_call():
            expected.discard("COMMA")
        if not tracker.qmarks:
            expected.discard("COLON")
    if tok.type == "$END":
        line, column = _end_position(text)
        return at(f"unexpected end of input; expected {_expected(expected)}", line, column)
    width = max(1, len(tok.value)) if tok.type != "_NEWLINE" else 1
    return at(f"unexpected {_describe_token(tok)}; expected {_expected(expected)}", tok.line, tok.column, width)


def _end_position(text: str) -> tuple[int, int]:
    lines = text.split("\n")
    return len(lines), len(lines[-1]) + 1


def parse(text: str, filename: str = DEFAULT_FILENAME) -> Spec:
    """Parse and check spec text; raise :class:`SpecError` on any problem (see :func:`_parse`).

    The cyclic garbage collector is paused while it runs (:mod:`.gcpause`): parsing makes
    only acyclic objects, and a collection every few thousand of them made long specs
    quadratic-ish.
    """
    return _parse(text, filename)


@without_gc
def _parse(text: str, filename: str = DEFAULT_FILENAME) -> Spec:
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
    parser, tracker, builder = _make_parser()
    builder.v2 = False
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
    if builder.v2:
        return bitblast(elaborate(stmts, filename, source))
    spec = analyze(stmts, filename, source)
    return replace(spec, words=words_of_v1(spec))


def analyze(stmts: list[object], filename: str, source: str | None) -> Spec:
    """Check a v1 program's declarations and assignments and fix the port order.

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
        if isinstance(st, Assign2):
            st = Assign(st.targets[0].name, st.expr, st.span)  # type: ignore[arg-type]
            if st.target in defined:
                first = defined[st.target].span
                where = f" (first assigned on line {first.line})" if first else ""
                raise fail(f"'{st.target}' is assigned twice{where}", st.span)
            defined[st.target] = st
            assigns.append(st)
            continue
        assert isinstance(st, PortDecl)
        kind = st.kind
        table = declared_in if kind == "input" else declared_out
        saw_input_decl |= kind == "input"
        for d in st.decls:
            if d.name in table:
                raise fail(f"{kind} '{d.name}' is declared twice", d.span)
            table[d.name] = d.span

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
