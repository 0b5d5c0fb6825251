"""Shared back end of the netlist readers: collect signals, check them, build a :class:`Spec`.

A reader registers ports, drivers (one expression per signal) and latches with a
:class:`Netlist`, each with the place in the file it came from (a second declaration or
driver is refused at once, naming the first); :meth:`Netlist.finish` then checks the
whole netlist with :func:`~threshnet.compiler.validate.validate`, the rules the spec
parser uses too (undefined signals, undriven outputs, combinational loops reported as
``a -> b -> a`` where ``a -> b`` means ``a`` reads ``b``, no outputs), refuses or cuts
latches, and returns the ``Spec``.  Everything here is iterative:
netlists have 100k+ gates and chains thousands deep.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

from ..compiler.errors import Span, SpecError
from ..compiler.gcpause import without_gc
from ..compiler.spec import AND, OR, XOR, Assign, BinOp, Const, Expr, Spec
from ..compiler.validate import NETLIST_WORDS, Driver, validate

#: Suffix of the next-state output that ``cut_latches=True`` adds for each latch.
NEXT_SUFFIX = "$next"


class Loc(NamedTuple):
    """Where something is in the file: 1-based line, optional 1-based column and width."""

    line: int | None
    column: int | None = None
    width: int = 1


NOWHERE = Loc(None)


def chain(op: str, operands: Sequence[Expr]) -> Expr:
    """Left-associative chain ``((a op b) op c) op d``; the empty AND is 1, the empty OR/XOR 0."""
    if not operands:
        return Const(1 if op == AND else 0)
    e = operands[0]
    for x in operands[1:]:
        e = BinOp(op, e, x)
    return e


def and_all(operands: Sequence[Expr]) -> Expr:
    return chain(AND, operands)


def or_all(operands: Sequence[Expr]) -> Expr:
    return chain(OR, operands)


def xor_all(operands: Sequence[Expr]) -> Expr:
    return chain(XOR, operands)


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n} {word if n == 1 else (words or word + 's')}"


def unique_name(base: str, used: set[str] | dict, sep: str = "_") -> str:
    """``base`` if unused, else ``base<sep>1``, ``base<sep>2``, ... (the caller records it)."""
    if base not in used:
        return base
    k = 1
    while f"{base}{sep}{k}" in used:
        k += 1
    return f"{base}{sep}{k}"


class Netlist:
    """A flat combinational netlist under construction (plus latches, which are cut or refused)."""

    def __init__(self, filename: str, source: str | None) -> None:
        self.filename = filename
        self.source = source
        self.inputs: dict[str, Loc] = {}
        self.outputs: dict[str, Loc] = {}
        # name -> (expression, names it reads (structural fan-in), where it is driven)
        self.drivers: dict[str, tuple[Expr, Sequence[str], Loc]] = {}
        # (current-state signal, next-state expression, names it reads, where)
        self.latches: list[tuple[str, Expr, Sequence[str], Loc]] = []
        self._latch_out: dict[str, Loc] = {}

    # -- errors ---------------------------------------------------------------------------------
    def error(self, message: str, loc: Loc = NOWHERE) -> SpecError:
        line, column, width = loc
        return SpecError(
            message,
            filename=self.filename,
            line=line,
            column=column if line is not None else None,
            source=self.source,
            end_column=None if column is None else column + max(1, width),
        )

    def _first_driven(self, name: str) -> str | None:
        """Describe an earlier definition of ``name``, or ``None`` when there is none."""
        if name in self.inputs:
            return f"it is an input{_on(self.inputs[name])}"
        if name in self.drivers:
            return f"first driven{_on(self.drivers[name][2])}"
        if name in self._latch_out:
            return f"first driven by a latch{_on(self._latch_out[name])}"
        return None

    # -- building -------------------------------------------------------------------------------
    def add_input(self, name: str, loc: Loc) -> None:
        if name in self.inputs:
            raise self.error(f"input '{name}' is declared twice{_first(self.inputs[name])}", loc)
        earlier = self._first_driven(name)
        if earlier is not None:
            raise self.error(f"signal '{name}' is driven twice ({earlier})", loc)
        self.inputs[name] = loc

    def add_output(self, name: str, loc: Loc) -> None:
        if name in self.outputs:
            raise self.error(f"output '{name}' is declared twice{_first(self.outputs[name])}", loc)
        self.outputs[name] = loc

    def drive(self, name: str, expr: Expr, reads: Sequence[str], loc: Loc) -> None:
        earlier = self._first_driven(name)
        if earlier is not None:
            raise self.error(f"signal '{name}' is driven twice ({earlier})", loc)
        self.drivers[name] = (expr, reads, loc)

    def add_latch(self, current: str, nxt: Expr, reads: Sequence[str], loc: Loc) -> None:
        """A latch with output (current state) ``current`` and data input (next state) ``nxt``."""
        earlier = self._first_driven(current)
        if earlier is not None:
            raise self.error(f"signal '{current}' is driven twice ({earlier})", loc)
        self._latch_out[current] = loc
        self.latches.append((current, nxt, reads, loc))

    def is_driven(self, name: str) -> bool:
        return name in self.inputs or name in self.drivers or name in self._latch_out

    # -- checking -------------------------------------------------------------------------------
    def finish(self, cut_latches: bool) -> Spec:
        """Check the netlist with the rules every reader shares, cut or refuse latches, build the Spec."""
        self.validate()
        inputs = list(self.inputs)
        outputs = list(self.outputs)
        assigns = [Assign(n, e, _span(loc)) for n, (e, _r, loc) in self.drivers.items()]
        if self.latches:
            if not cut_latches:
                raise self.error(
                    f"sequential circuit: {plural(len(self.latches), 'latch', 'latches')}; "
                    "use --cut-latches to compile one clock step",
                    Loc(self.latches[0][3].line),
                )
            used = set(self.inputs) | set(self.outputs) | set(self.drivers) | set(self._latch_out)
            for current, nxt, _reads, loc in self.latches:
                inputs.append(current)
                name = unique_name(current + NEXT_SUFFIX, used, sep="$")
                used.add(name)
                outputs.append(name)
                assigns.append(Assign(name, nxt, _span(loc)))
        return Spec(
            inputs=tuple(inputs),
            outputs=tuple(outputs),
            assignments=tuple(assigns),
            filename=self.filename,
            source=self.source,
        )

    def validate(self) -> None:
        """:func:`~threshnet.compiler.validate.validate` in netlist words, problems located by line."""
        drivers = {
            n: Driver(reads, Loc(loc.line), loc.line) for n, (_e, reads, loc) in self.drivers.items()
        }
        latches = [Driver(reads, Loc(loc.line), loc.line, in_graph=False) for _c, _n, reads, loc in self.latches]
        validate(
            self.inputs, self.outputs, drivers, lambda m, loc: self.error(m, loc or NOWHERE), NETLIST_WORDS,
            also_defined=self._latch_out, latches=latches, nowhere=Loc(1),
        )


def _on(loc: Loc) -> str:
    return f" on line {loc.line}" if loc.line is not None else ""


def _first(loc: Loc) -> str:
    return f" (first on line {loc.line})" if loc.line is not None else ""


def _span(loc: Loc) -> Span | None:
    if loc.line is None:
        return None
    col = loc.column or 1
    return Span(loc.line, col, loc.line, col + max(1, loc.width))


def decode_text(data: bytes) -> str:
    """File bytes to text: UTF-8 (a BOM is dropped), else Latin-1, which never fails."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")

