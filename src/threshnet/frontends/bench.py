"""ISCAS ``.bench`` reader: ``INPUT(x)``, ``OUTPUT(y)``, ``y = GATE(a, b, ...)`` to a :class:`Spec`.

Gates (names case-insensitive, any fan-in of at least one): AND, NAND, OR, NOR, XOR (parity
of all inputs), XNOR (its negation), NOT and BUF/BUFF (exactly one input), and DFF (a latch:
refused unless ``cut_latches=True``; then its output is an extra input and ``<output>$next``,
equal to its data input, an extra output).  ``#`` starts a comment.  A name declared as both
INPUT and OUTPUT is a wire: the output is the input.  Names are kept exactly.
"""

from __future__ import annotations

import re

from ..compiler.errors import DEFAULT_FILENAME
from ..compiler.source import lines
from ..compiler.spec import Expr, Name, Not, Spec
from ._netlist import without_gc, Loc, Netlist, and_all, or_all, xor_all

_PORT = re.compile(r"(INPUT|OUTPUT)\s*\((.*)\)\s*", re.I)
_GATE = re.compile(r"([^=\s]+)\s*=\s*([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)\s*")
_GATES = ("AND", "NAND", "OR", "NOR", "XOR", "XNOR", "NOT", "BUF", "BUFF", "DFF")
_USAGE = "malformed line: expected 'INPUT(name)', 'OUTPUT(name)' or 'name = GATE(input, ...)'"


@without_gc
def parse_bench(text: str, filename: str = DEFAULT_FILENAME, *, cut_latches: bool = False) -> Spec:
    """Read ``.bench`` text; raise :class:`SpecError` on any problem."""
    net = Netlist(filename, text)
    err = net.error
    port_match = _PORT.fullmatch
    gate_match = _GATE.fullmatch
    for lineno, raw in enumerate(lines(text), 1):
        line = raw.split("#", 1)[0] if "#" in raw else raw
        body = line.strip()
        if not body:
            continue
        indent = len(line) - len(line.lstrip())
        m = port_match(body)
        if m is not None:
            name = m.group(2).strip()
            col = indent + m.start(2) + 1 + (len(m.group(2)) - len(m.group(2).lstrip()))
            loc = Loc(lineno, col, len(name))
            if not name or "," in name:
                raise err(f"{m.group(1).upper()}(...) takes exactly one name", loc)
            if m.group(1).upper() == "INPUT":
                net.add_input(name, loc)
            else:
                net.add_output(name, loc)
            continue
        m = gate_match(body)
        if m is None:
            raise err(_USAGE, Loc(lineno, indent + 1, len(body)))
        target, gate = m.group(1), m.group(2).upper()
        tloc = Loc(lineno, indent + 1, len(target))
        if gate not in _GATES:
            raise err(
                f"unknown gate type '{m.group(2)}'; known gates: {', '.join(_GATES)}",
                Loc(lineno, indent + m.start(2) + 1, len(m.group(2))),
            )
        args = [a.strip() for a in m.group(3).split(",")]
        if args == [""]:
            args = []
        if any(not a for a in args):
            raise err(f"empty input name in {gate}(...)", Loc(lineno, indent + m.start(3) + 1))
        if not args:
            raise err(f"{gate} needs at least one input", tloc)
        if gate in ("NOT", "BUF", "BUFF", "DFF") and len(args) != 1:
            raise err(f"{gate} takes exactly one input, got {len(args)}", tloc)
        if gate == "DFF":
            net.add_latch(target, Name(args[0]), args, tloc)
            continue
        net.drive(target, _gate_expr(gate, args), args, tloc)
    return net.finish(cut_latches)


def _gate_expr(gate: str, args: list[str]) -> Expr:
    names: list[Expr] = [Name(a) for a in args]
    if gate in ("BUF", "BUFF"):
        return names[0]
    if gate == "NOT":
        return Not(names[0])
    if gate in ("AND", "NAND"):
        e = and_all(names)
    elif gate in ("OR", "NOR"):
        e = or_all(names)
    else:
        e = xor_all(names)
    return Not(e) if gate in ("NAND", "NOR", "XNOR") else e
