"""Espresso PLA reader: a two-level cover (``.i .o .ilb .ob .p .type``) to a :class:`Spec`.

Each cover row is ``.i`` input characters (``0``, ``1``, ``-``) followed by ``.o`` output
characters (``1``, ``0``, ``-``, ``~``).  Whitespace inside a row is ignored and a row may be
wrapped across lines: it is complete once it has ``.i + .o`` significant characters (as in
``cps.pla``), and must then end at the end of a line.  If the first line of a row has several
words, the first word must be the whole input part.  ``#`` starts a comment; ``.e``/``.end``
ends the cover (it may be missing); ``.p`` is checked for form only.

Each output is the OR over rows of the AND of the row's input literals, taken over the rows
that put the point in the output's ON-set:

* ``.type f`` (the default): ``1`` = the row is in the ON-set; ``0``, ``-`` and ``~`` = not.
* ``.type fd``: ``1`` = ON-set; ``-`` = don't care, implemented as 0; ``0``/``~`` = not.
* ``.type fr`` and ``fdr``: ``1`` = ON-set, ``0`` = OFF-set, ``-`` = don't care; the function is
  the ON-set cover, so points in neither set (don't cares) are 0.
* ``.type r``: only the OFF-set is given (``0``); the function is its complement.

An output with no rows in its ON-set is constant 0.  Names come from ``.ilb``/``.ob``,
kept exactly; without them inputs are ``i0, i1, ...`` and outputs ``o0, o1, ...`` (made
unique against the other names).  Ports follow the column order.
"""

from __future__ import annotations

from ..compiler.errors import DEFAULT_FILENAME
from ..compiler.source import lines
from ..compiler.spec import Expr, Name, Not, Spec
from ._netlist import without_gc, Loc, Netlist, and_all, or_all, plural, unique_name

_TYPES = ("f", "fd", "fr", "fdr", "r")
_UNSUPPORTED = (".phase", ".pair", ".symbolic", ".symbolic-output", ".mv", ".kiss", ".label")
_IGNORED = (".model",)


@without_gc
def parse_pla(text: str, filename: str = DEFAULT_FILENAME, *, cut_latches: bool = False) -> Spec:
    """Read PLA text; raise :class:`SpecError` on any problem.  (PLAs have no latches.)"""
    net = Netlist(filename, text)
    err = net.error
    ni: int | None = None
    no: int | None = None
    decl_line: dict[str, int] = {}
    ilb: list[str] | None = None
    ob: list[str] | None = None
    ptype = "f"
    rows: list[tuple[str, str, int]] = []  # input part, output part, first line
    pending = ""
    pending_line = 0

    def number(toks: list[str], lineno: int) -> int:
        if len(toks) != 2 or not (toks[1].isascii() and toks[1].isdigit()):
            raise err(f"malformed {toks[0]} line: expected '{toks[0]} <number>'", Loc(lineno))
        return int(toks[1])

    def incomplete() -> None:
        assert ni is not None and no is not None
        raise err(
            f"incomplete cover row: {plural(len(pending), 'character')}, expected {ni + no} "
            f"(.i {ni} + .o {no})",
            Loc(pending_line),
        )

    for lineno, raw in enumerate(lines(text), 1):
        line = raw.split("#", 1)[0] if "#" in raw else raw
        words = line.split()
        if not words:
            continue
        head = words[0]
        if head[0] == ".":
            if pending:
                incomplete()
            if head in (".e", ".end"):
                break
            if head in (".i", ".o"):
                if head in decl_line:
                    raise err(f"{head} is given twice (first on line {decl_line[head]})", Loc(lineno))
                decl_line[head] = lineno
                if head == ".i":
                    ni = number(words, lineno)
                else:
                    no = number(words, lineno)
            elif head == ".p":
                number(words, lineno)
            elif head in (".ilb", ".ob"):
                if head in decl_line:
                    raise err(f"{head} is given twice (first on line {decl_line[head]})", Loc(lineno))
                decl_line[head] = lineno
                if head == ".ilb":
                    ilb = words[1:]
                else:
                    ob = words[1:]
            elif head == ".type":
                if len(words) != 2 or words[1] not in _TYPES:
                    raise err(f"unknown PLA type '{' '.join(words[1:])}'; expected one of {', '.join(_TYPES)}",
                              Loc(lineno))
                ptype = words[1]
            elif head in _UNSUPPORTED:
                raise err(f"'{head}' (multiple-valued or symbolic PLA) is not supported", Loc(lineno))
            elif head in _IGNORED:
                pass
            else:
                raise err(f"unknown PLA directive '{head}'", Loc(lineno))
            continue
        # A cover row, or part of one.
        if ni is None or no is None:
            raise err("cover row before the .i and .o declarations", Loc(lineno))
        need = ni + no
        chars = "".join(words)
        if not pending:
            if len(words) > 1 and ni > 0 and len(words[0]) != ni:
                raise err(f"input part of the cover row has {len(words[0])} characters; expected {ni} (.i {ni})",
                          Loc(lineno, len(line) - len(line.lstrip()) + 1, len(words[0])))
            pending_line = lineno
            offset = 0
        else:
            offset = len(pending)
            if offset + len(chars) > need and len(chars) == need:
                # This line is a whole row by itself: the row before it is the short one.
                incomplete()
        if offset + len(chars) > need:
            raise err(
                f"cover row has {offset + len(chars)} characters; expected {need} (.i {ni} + .o {no})",
                Loc(lineno),
            )
        for k, ch in enumerate(chars, offset):
            if k < ni:
                if ch not in "01-":
                    raise err(f"invalid character '{ch}' in the input part of a cover row; expected 0, 1 or -",
                              Loc(lineno))
            elif ch not in "01-~":
                raise err(f"invalid character '{ch}' in the output part of a cover row; expected 1, 0, - or ~",
                          Loc(lineno))
        pending += chars
        if len(pending) == need:
            rows.append((pending[:ni], pending[ni:], pending_line))
            pending = ""
    if pending:
        incomplete()

    if ni is None:
        raise err("missing .i (number of inputs)", Loc(1))
    if no is None:
        raise err("missing .o (number of outputs)", Loc(1))
    if ilb is not None and len(ilb) != ni:
        raise err(f".ilb names {plural(len(ilb), 'input')}, but .i is {ni}", Loc(decl_line[".ilb"]))
    if ob is not None and len(ob) != no:
        raise err(f".ob names {plural(len(ob), 'output')}, but .o is {no}", Loc(decl_line[".ob"]))

    used: set[str] = set(ilb or ()) | set(ob or ())
    if ilb is None:
        ilb = []
        for k in range(ni):
            name = unique_name(f"i{k}", used)
            used.add(name)
            ilb.append(name)
    if ob is None:
        ob = []
        for k in range(no):
            name = unique_name(f"o{k}", used)
            used.add(name)
            ob.append(name)

    in_loc = Loc(decl_line.get(".ilb", decl_line[".i"]))
    out_loc = Loc(decl_line.get(".ob", decl_line[".o"]))
    for name in ilb:
        net.add_input(name, in_loc)
    for name in ob:
        net.add_output(name, out_loc)
    on = "0" if ptype == "r" else "1"
    for j, name in enumerate(ob):
        terms: list[Expr] = []
        reads: dict[str, None] = {}
        for inp, out, _line in rows:
            if out[j] != on:
                continue
            lits: list[Expr] = []
            for ch, x in zip(inp, ilb):
                if ch == "1":
                    lits.append(Name(x))
                    reads[x] = None
                elif ch == "0":
                    lits.append(Not(Name(x)))
                    reads[x] = None
            terms.append(and_all(lits))
        e = or_all(terms)
        if ptype == "r":
            e = Not(e)
        net.drive(name, e, list(reads), out_loc)
    return net.finish(cut_latches)
