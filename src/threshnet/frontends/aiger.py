"""AIGER reader: ASCII ``.aag`` and binary ``.aig`` And-Inverter Graphs to a :class:`Spec`.

Header ``aag M I L O A`` / ``aig M I L O A``.  AIGER 1.9 headers may add ``B C J F``
(bad-state properties, invariant constraints, justice and fairness properties); only zero
counts are accepted.  Latch lines may carry a 1.9 reset value, which is ignored.

Names: the symbol table (``i0 name``, ``l0 name``, ``o0 name``) names the ports, kept
exactly.  Unnamed inputs, latches and outputs get ``i<k>``, ``l<k>`` and ``o<k>`` (``k`` is the
position among its kind, from 0).  Each AND gate is a signal named ``n<var>`` (its variable
index).  Every default name is made unique against all names in the file by appending
``_1``, ``_2``, ... .  Each output is its own assignment ``<output> = <literal>`` (a constant,
an (inverted) input or latch, or an (inverted) AND gate), except that an output named like
an input or latch and equal to it is that port itself.  The comment section after ``c`` is
ignored.

Latches are refused unless ``cut_latches=True``; then each latch's current state is an
extra input named like the latch and its next-state function an extra output named
``<latch>$next``, after the ordinary ports.

Binary files have no source text (``Spec.source`` is ``None``); errors still name the line
(counting newline bytes) and, in the AND section, the byte offset.
"""

from __future__ import annotations

import re
from typing import Iterable

from ..compiler.errors import DEFAULT_FILENAME, SpecError
from ..compiler.source import lines as source_lines
from ..compiler.spec import AND, BinOp, Const, Expr, Name, Not, Spec
from ._netlist import without_gc, Loc, Netlist, decode_text, plural, unique_name

_EXTRA = (
    ("B", "bad-state properties"),
    ("C", "invariant constraints"),
    ("J", "justice properties"),
    ("F", "fairness constraints"),
)
_SYMBOL = re.compile(r"([ilobcjf])([0-9]+) (.*)", re.S)
_MAX_INPUTS = 1 << 24  # binary inputs take no bytes: refuse absurd headers before allocating
_KIND_WORD = {"i": ("input", "inputs"), "l": ("latch", "latches"), "o": ("output", "outputs"),
              "b": ("bad-state property", "bad-state properties"), "c": ("constraint", "constraints"),
              "j": ("justice property", "justice properties"), "f": ("fairness constraint", "fairness constraints")}


class _Aig:
    """The parsed file before naming: literals and the lines they came from."""

    def __init__(self) -> None:
        self.M = self.I = self.L = self.O = self.A = 0
        self.inputs: list[tuple[int, Loc]] = []
        self.latches: list[tuple[int, int, Loc]] = []
        self.outputs: list[tuple[int, Loc]] = []
        self.ands: list[tuple[int, int, int, Loc]] = []
        self.symbols: dict[str, dict[int, tuple[str, Loc]]] = {"i": {}, "l": {}, "o": {}}


# -- entry points ---------------------------------------------------------------------------------
def parse_aiger(data: bytes, filename: str = DEFAULT_FILENAME, *, cut_latches: bool = False) -> Spec:
    """Read an AIGER file's bytes, ASCII (``aag``) or binary (``aig``) by its header."""
    if data.startswith(b"aag"):
        return parse_aag(_decode_aag(data), filename, cut_latches=cut_latches)
    if data.startswith(b"aig"):
        return parse_aig(data, filename, cut_latches=cut_latches)
    raise SpecError("not an AIGER file: the header must start with 'aag' or 'aig'", filename=filename, line=1)


@without_gc
def parse_aag(text: str, filename: str = DEFAULT_FILENAME, *, cut_latches: bool = False) -> Spec:
    """Read ASCII AIGER text; raise :class:`SpecError` on any problem."""
    net = Netlist(filename, text)
    aig = _Aig()
    lines = list(source_lines(text))
    _header(lines[0] if lines else "", "aag", aig, net)
    pos = 1

    def take(what: str, count: int) -> list[tuple[list[int], Loc]]:
        nonlocal pos
        out = []
        for k in range(count):
            if pos >= len(lines):
                raise net.error(
                    f"unexpected end of file: the header promises {plural(count, what + ' line')}, found {k}",
                    Loc(len(lines) or 1),
                )
            out.append((_ints(lines[pos], pos + 1, what, net), Loc(pos + 1)))
            pos += 1
        return out

    for vals, loc in take("input", aig.I):
        if len(vals) != 1:
            raise net.error("malformed input line: expected one literal", loc)
        aig.inputs.append((vals[0], loc))
    for vals, loc in take("latch", aig.L):
        if len(vals) not in (2, 3):
            raise net.error("malformed latch line: expected '<literal> <next> [<reset>]'", loc)
        aig.latches.append((vals[0], vals[1], loc))
    for vals, loc in take("output", aig.O):
        if len(vals) != 1:
            raise net.error("malformed output line: expected one literal", loc)
        aig.outputs.append((vals[0], loc))
    for vals, loc in take("AND", aig.A):
        if len(vals) != 3:
            raise net.error("malformed AND line: expected '<lhs> <rhs0> <rhs1>'", loc)
        aig.ands.append((vals[0], vals[1], vals[2], loc))
    _symbols([(i + 1, lines[i]) for i in range(pos, len(lines))], aig, net)
    return _build(aig, net, cut_latches, binary=False)


@without_gc
def parse_aig(data: bytes, filename: str = DEFAULT_FILENAME, *, cut_latches: bool = False) -> Spec:
    """Read binary AIGER bytes; raise :class:`SpecError` on any problem."""
    net = Netlist(filename, None)
    aig = _Aig()
    n = len(data)
    pos = 0
    lineno = 0

    def text_line(what: str, count: int, k: int) -> str:
        nonlocal pos, lineno
        end = data.find(b"\n", pos)
        if end < 0:
            if pos >= n:
                raise net.error(
                    f"unexpected end of file: the header promises {plural(count, what + ' line')}, found {k}",
                    Loc(lineno or 1),
                )
            end = n
        line = data[pos:end].decode("latin-1")
        pos = end + 1
        lineno += 1
        return line

    header = text_line("header", 1, 0)
    _header(header, "aig", aig, net)
    if aig.M != aig.I + aig.L + aig.A:
        raise net.error(
            f"invalid binary AIGER header: M = {aig.M} but I + L + A = {aig.I + aig.L + aig.A}", Loc(1)
        )
    if aig.I > _MAX_INPUTS:
        raise net.error(f"the header declares {aig.I} inputs; this reader handles at most {_MAX_INPUTS}", Loc(1))
    for i in range(aig.I):
        aig.inputs.append((2 * (i + 1), Loc(None)))
    for k in range(aig.L):
        vals = _ints(text_line("latch", aig.L, k), lineno, "latch", net)
        if len(vals) not in (1, 2):
            raise net.error("malformed latch line: expected '<next> [<reset>]'", Loc(lineno))
        aig.latches.append((2 * (aig.I + k + 1), vals[0], Loc(lineno)))
    for k in range(aig.O):
        vals = _ints(text_line("output", aig.O, k), lineno, "output", net)
        if len(vals) != 1:
            raise net.error("malformed output line: expected one literal", Loc(lineno))
        aig.outputs.append((vals[0], Loc(lineno)))

    # AND gates: two variable-length deltas each (7 bits per byte, high bit = more follows).
    lhs = 2 * (aig.I + aig.L)
    ands = aig.ands
    nowhere = Loc(None)
    for i in range(aig.A):
        lhs += 2
        start = pos
        deltas = []
        for _ in (0, 1):
            x = shift = 0
            while True:
                if pos >= n:
                    raise net.error(
                        f"truncated binary AIGER: the file ends inside AND gate {i} of {aig.A} (byte {pos})",
                        Loc(1 + data.count(b"\n", 0, pos)),
                    )
                b = data[pos]
                pos += 1
                x |= (b & 0x7F) << shift
                if b < 0x80:
                    break
                shift += 7
            deltas.append(x)
        d0, d1 = deltas
        rhs0 = lhs - d0
        rhs1 = rhs0 - d1
        if d0 == 0 or rhs0 < 0 or rhs1 < 0:
            raise net.error(
                f"invalid AND gate {i} (literal {lhs}) at byte {start}: deltas {d0}, {d1} "
                f"give inputs {rhs0}, {rhs1}; binary AIGER needs {lhs} > rhs0 >= rhs1 >= 0",
                Loc(1 + data.count(b"\n", 0, start)),
            )
        ands.append((lhs, rhs0, rhs1, nowhere))

    first = 1 + data.count(b"\n", 0, pos)
    # Decode line by line: the comment section may hold any bytes.
    rest = data[pos:].split(b"\n")
    _symbols(((first + k, decode_text(line)) for k, line in enumerate(rest)), aig, net)
    return _build(aig, net, cut_latches, binary=True)


def _decode_aag(data: bytes) -> str:
    """ASCII AIGER bytes to text: UTF-8 names survive a comment section in another encoding."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    m = re.search(rb"\nc\r?\n", data)
    if m is None:
        return decode_text(data)
    return decode_text(data[: m.end()]) + data[m.end():].decode("latin-1")


# -- pieces -----------------------------------------------------------------------------------------
def _ints(line: str, lineno: int, what: str, net: Netlist) -> list[int]:
    toks = line.split()
    for t in toks:
        if not (t.isascii() and t.isdigit()):
            raise net.error(f"malformed {what} line: '{t}' is not a literal (a non-negative integer)", Loc(lineno))
    return [int(t) for t in toks]


def _header(line: str, magic: str, aig: _Aig, net: Netlist) -> None:
    toks = line.split()
    usage = f"malformed AIGER header: expected '{magic} M I L O A'"
    if not toks or toks[0] != magic:
        raise net.error(usage, Loc(1))
    nums = toks[1:]
    if not 5 <= len(nums) <= 9 or not all(t.isascii() and t.isdigit() for t in nums):
        raise net.error(usage, Loc(1))
    vals = [int(t) for t in nums]
    aig.M, aig.I, aig.L, aig.O, aig.A = vals[:5]
    for (letter, what), v in zip(_EXTRA, vals[5:]):
        if v:
            raise net.error(
                f"unsupported AIGER 1.9 header: {letter} = {v} ({what}); "
                "only inputs, latches, outputs and AND gates can be read",
                Loc(1),
            )


def _symbols(lines: Iterable[tuple[int, str]], aig: _Aig, net: Netlist) -> None:
    counts = {"i": aig.I, "l": aig.L, "o": aig.O}
    for lineno, line in lines:
        if line.endswith("\r"):
            line = line[:-1]
        if not line:
            continue
        if line[0] == "c" and (len(line) == 1 or not line[1].isdigit()):
            return  # comment section
        m = _SYMBOL.fullmatch(line)
        if m is None:
            raise net.error(
                "malformed symbol table line: expected 'i<k> <name>', 'l<k> <name>', 'o<k> <name>' or 'c'",
                Loc(lineno),
            )
        kind, idx, name = m.group(1), int(m.group(2)), m.group(3)
        word, words = _KIND_WORD[kind]
        if kind not in counts or idx >= counts[kind]:
            have = plural(counts.get(kind, 0), word, words)
            raise net.error(f"symbol for {word} {idx}, but the file has {have}", Loc(lineno))
        if not name:
            raise net.error(f"empty name for {word} {idx}", Loc(lineno))
        table = aig.symbols[kind]
        if idx in table:
            raise net.error(f"{word} {idx} is named twice (first on line {table[idx][1].line})", Loc(lineno))
        table[idx] = (name, Loc(lineno))


def _build(aig: _Aig, net: Netlist, cut_latches: bool, *, binary: bool) -> Spec:
    M = aig.M
    maxlit = 2 * M + 1

    def check_lit(lit: int, loc: Loc) -> None:
        if lit > maxlit:
            raise net.error(f"literal {lit} is out of range: the header says M = {M} (literals up to {maxlit})", loc)

    # Which variable is defined where, and what kind of thing it is.
    defined_at: dict[int, Loc] = {}
    kind_of: dict[int, tuple[str, int]] = {}

    def define(lit: int, what: str, k: int, loc: Loc) -> None:
        check_lit(lit, loc)
        if lit < 2 or lit & 1:
            raise net.error(f"{what} literal must be even and at least 2, got {lit}", loc)
        var = lit >> 1
        if var in defined_at:
            first = defined_at[var].line
            where = f" (first on line {first})" if first is not None else ""
            raise net.error(f"variable {var} (literal {lit}) is defined twice{where}", loc)
        defined_at[var] = loc
        kind_of[var] = (what, k)

    for k, (lit, loc) in enumerate(aig.inputs):
        define(lit, "input", k, loc)
    for k, (lit, _nxt, loc) in enumerate(aig.latches):
        define(lit, "latch", k, loc)
    for k, (lhs, _a, _b, loc) in enumerate(aig.ands):
        define(lhs, "AND", k, loc)
    if not binary:  # binary AND inputs are earlier variables by construction
        for _lhs, a, b, loc in aig.ands:
            for lit in (a, b):
                check_lit(lit, loc)
                if lit >> 1 and lit >> 1 not in defined_at:
                    raise net.error(f"literal {lit} uses variable {lit >> 1}, which is never defined", loc)
    for _lit, nxt, loc in aig.latches:
        check_lit(nxt, loc)
        if nxt >> 1 and nxt >> 1 not in defined_at:
            raise net.error(f"literal {nxt} uses variable {nxt >> 1}, which is never defined", loc)
    for lit, loc in aig.outputs:
        check_lit(lit, loc)
        if lit >> 1 and lit >> 1 not in defined_at:
            raise net.error(f"literal {lit} uses variable {lit >> 1}, which is never defined", loc)

    # Names: symbols first, then defaults made unique against everything.
    sym_i, sym_l, sym_o = aig.symbols["i"], aig.symbols["l"], aig.symbols["o"]
    used: dict[str, str] = {}  # name -> what it names ("input 3")
    owner_var: dict[str, int] = {}

    def claim(name: str, what: str, loc: Loc) -> None:
        if name in used:
            raise net.error(f"name '{name}' is used for both {used[name]} and {what}", loc)
        used[name] = what

    for k, (lit, _loc) in enumerate(aig.inputs):
        if k in sym_i:
            claim(sym_i[k][0], f"input {k}", sym_i[k][1])
            owner_var[sym_i[k][0]] = lit >> 1
    for k, (lit, _nxt, _loc) in enumerate(aig.latches):
        if k in sym_l:
            claim(sym_l[k][0], f"latch {k}", sym_l[k][1])
            owner_var[sym_l[k][0]] = lit >> 1
    out_names: list[str] = []
    out_alias: list[bool] = []  # the output is an input/latch of the same name
    for k, (lit, _loc) in enumerate(aig.outputs):
        if k in sym_o:
            name, sloc = sym_o[k]
            if name in used and used[name].startswith("output"):
                raise net.error(f"name '{name}' is used for both {used[name]} and output {k}", sloc)
            if name in owner_var:
                if lit != 2 * owner_var[name]:
                    raise net.error(
                        f"output {k} is named '{name}' like {used[name]}, but it is a different signal", sloc
                    )
                out_alias.append(True)
            else:
                used[name] = f"output {k}"
                out_alias.append(False)
            out_names.append(name)
        else:
            out_names.append("")
            out_alias.append(False)

    var_name: dict[int, str] = {}
    for k, (lit, _loc) in enumerate(aig.inputs):
        name = sym_i[k][0] if k in sym_i else None
        if name is None:
            name = unique_name(f"i{k}", used)
            used[name] = f"input {k}"
        var_name[lit >> 1] = name
    for k, (lit, _nxt, _loc) in enumerate(aig.latches):
        name = sym_l[k][0] if k in sym_l else None
        if name is None:
            name = unique_name(f"l{k}", used)
            used[name] = f"latch {k}"
        var_name[lit >> 1] = name
    for k in range(len(out_names)):
        if not out_names[k]:
            name = unique_name(f"o{k}", used)
            used[name] = f"output {k}"
            out_names[k] = name
    for lhs, _a, _b, _loc in aig.ands:
        var = lhs >> 1
        name = unique_name(f"n{var}", used)
        used[name] = f"AND {var}"
        var_name[var] = name

    def expr(lit: int) -> tuple[Expr, list[str]]:
        var = lit >> 1
        if var == 0:
            return Const(lit & 1), []
        name = var_name[var]
        return (Not(Name(name)) if lit & 1 else Name(name)), [name]

    # Ports and drivers.
    for k, (lit, loc) in enumerate(aig.inputs):
        net.add_input(var_name[lit >> 1], loc)  # type: ignore[arg-type]
    for k, (lit, loc) in enumerate(aig.outputs):
        net.add_output(out_names[k], loc)
    for lhs, a, b, loc in aig.ands:
        ea, ra = expr(a)
        eb, rb = expr(b)
        net.drive(var_name[lhs >> 1], BinOp(AND, ea, eb), ra + rb, loc)  # type: ignore[arg-type]
    for k, (lit, loc) in enumerate(aig.outputs):
        if not out_alias[k]:
            e, r = expr(lit)
            net.drive(out_names[k], e, r, loc)
    for k, (lit, nxt, loc) in enumerate(aig.latches):
        e, r = expr(nxt)
        net.add_latch(var_name[lit >> 1], e, r, loc)  # type: ignore[arg-type]
    return net.finish(cut_latches)
