"""Netlist front ends: BLIF, AIGER (``.aag``/``.aig``), ISCAS ``.bench`` and PLA to a :class:`Spec`.

Every reader returns the same :class:`~threshnet.compiler.spec.Spec` as the spec-language
parser, so the rest of the pipeline is shared: one assignment per netlist signal, ports in
the file's order and names exactly as the file spells them.  Problems in a file raise
:class:`~threshnet.compiler.errors.SpecError` (``file:line: error: ...``).

Sequential circuits (BLIF ``.latch``, AIGER latches, bench ``DFF``) are refused unless
``cut_latches=True``: then each latch's output (its current state) becomes an extra input
named like the latch output and its next-state function an extra output named
``<latch>$next``, both after the ordinary ports and in file order.

"""

from __future__ import annotations

import os
from typing import Callable

from ..compiler.errors import SpecError
from ..compiler.spec import Spec
from ._netlist import NEXT_SUFFIX, decode_text
from .aiger import parse_aag, parse_aig, parse_aiger
from .bench import parse_bench
from .blif import parse_blif
from .pla import parse_pla

__all__ = [
    "FORMATS",
    "NEXT_SUFFIX",
    "format_of",
    "parse_aag",
    "parse_aig",
    "parse_aiger",
    "parse_bench",
    "parse_blif",
    "parse_pla",
    "read",
    "read_text",
]

#: Format name -> what it is.  The file extension is ``.`` + the format name.
FORMATS: dict[str, str] = {
    "blif": "BLIF netlist (.names covers, .subckt hierarchy)",
    "aag": "ASCII AIGER and-inverter graph",
    "aig": "binary AIGER and-inverter graph",
    "bench": "ISCAS bench netlist",
    "pla": "Espresso PLA two-level cover",
    "bool": "threshnet spec language",
}


def _known() -> str:
    return ", ".join("." + f for f in FORMATS)


def format_of(path: str | os.PathLike[str]) -> str:
    """The format name for ``path``'s extension (case-insensitive); :class:`SpecError` if unknown."""
    filename = os.fspath(path)
    ext = os.path.splitext(filename)[1].lower()
    fmt = ext[1:]
    if fmt not in FORMATS:
        what = f"extension '{ext}'" if ext else "no extension"
        raise SpecError(
            f"unknown netlist format ({what}); known formats: {_known()}",
            filename=str(filename),
        )
    return fmt


def _check_format(format: str, filename: str) -> str:
    fmt = format.lower().lstrip(".")
    if fmt not in FORMATS:
        raise SpecError(f"unknown netlist format '{format}'; known formats: {_known()}", filename=filename)
    return fmt


def read(path: str | os.PathLike[str], format: str | None = None, *, cut_latches: bool = False) -> Spec:
    """Read a netlist or spec file into a :class:`Spec`.

    ``format`` is one of :data:`FORMATS` (``"blif"``, ``"aag"``, ``"aig"``, ``"bench"``,
    ``"pla"``, ``"bool"``); by default it comes from the file extension.  ``Spec.filename``
    is ``path`` as given.  AIGER files are recognised by their header, so an ASCII file named
    ``.aig`` (or a binary one named ``.aag``) reads too.
    """
    filename = os.fspath(path)
    fmt = _check_format(format, filename) if format is not None else format_of(filename)
    try:
        with open(filename, "rb") as f:
            data = f.read()
    except OSError as e:
        raise SpecError(f"cannot read file: {e.strerror or e}", filename=filename) from None
    return read_text(data, fmt, filename, cut_latches=cut_latches)


def read_text(
    text: str | bytes, format: str, filename: str | None = None, *, cut_latches: bool = False
) -> Spec:
    """Read netlist ``text`` of the given ``format`` (see :data:`FORMATS`).

    ``text`` may be ``str`` or ``bytes`` (decoded as UTF-8, else Latin-1); binary AIGER
    (``"aig"``) needs ``bytes``.  ``filename`` (default ``<format>``) is used in messages.
    """
    fmt = _check_format(format, filename or "<input>")
    if filename is None:
        filename = f"<{fmt}>"
    if fmt in ("aag", "aig"):
        if isinstance(text, str):
            if fmt == "aig" and not text.startswith("aag"):
                raise TypeError("binary AIGER must be given as bytes")
            return parse_aag(text, filename, cut_latches=cut_latches)
        return parse_aiger(bytes(text), filename, cut_latches=cut_latches)
    if not isinstance(text, str):
        text = decode_text(bytes(text))
    parser: Callable[..., Spec]
    if fmt == "bool":
        from ..compiler.parse import parse

        return parse(text, filename)
    parser = {"blif": parse_blif, "bench": parse_bench, "pla": parse_pla}[fmt]
    return parser(text, filename, cut_latches=cut_latches)
