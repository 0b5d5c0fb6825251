"""Netlist front ends: BLIF, AIGER (``.aag``/``.aig``), ISCAS ``.bench``, PLA and Verilog to a :class:`Spec`.

Every reader returns the same :class:`~threshnet.compiler.spec.Spec` as the spec-language
parser, so the rest of the pipeline is shared: one assignment per netlist signal, ports in
the file's order and names exactly as the file spells them.  Problems in a file raise
:class:`~threshnet.compiler.errors.SpecError` (``file:line: error: ...``).

Sequential circuits (BLIF ``.latch``, AIGER latches, bench ``DFF``) are refused unless
``cut_latches=True``: then each latch's output (its current state) becomes an extra input
named like the latch output and its next-state function an extra output named
``<latch>$next``, both after the ordinary ports and in file order.

Verilog (``.v``, ``.sv``) goes through Yosys (:mod:`.verilog`; the ``threshnet[verilog]``
extra or a ``yosys`` on ``PATH``) to BLIF and then through the BLIF reader.  By default
(``words=None``) the design is also read at Yosys' word level (:mod:`.rtl`: ``$add``,
``$mul``, ``$lt``... before techmapping) and that word program is attached as
``spec.words``, so :func:`threshnet.compile` builds constant-depth adders and multipliers
instead of compiling the gate netlist; the bit-level netlist stays the spec that
``check``/``prove`` compare against.  A design with a cell the word reader does not know
(``$div``, flip-flops...), or a gate netlist (every operator a one-bit gate, where words
compile to the same network), quietly keeps the gate-level path; ``words=True`` makes that an
error (:class:`~.rtl.CoarseUnsupported`, naming the cell and its line) and
``words=False`` skips the word reading.  Words never change what a spec computes, only
how it compiles.

Writers (:mod:`.writers`): :func:`write` / :func:`write_text` give the spec language, BLIF
or AIGER text of a :class:`Spec`; ``convert`` is ``write(read(src), dst)``.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from typing import Callable

from ..compiler.errors import SpecError
from ..compiler.spec import Spec
from ..compiler.words import WordSpec
from ..compiler.source import decode_source
from ._netlist import NEXT_SUFFIX
from .aiger import parse_aag, parse_aig, parse_aiger
from .bench import parse_bench
from .blif import parse_blif
from .pla import parse_pla
from .verilog import read_verilog, read_verilog_text
from .writers import WRITE_FORMATS, apply_renaming, read_renaming, rename_for, write, write_text

__all__ = [
    "FORMATS",
    "NEXT_SUFFIX",
    "WRITE_FORMATS",
    "apply_renaming",
    "convert",
    "format_of",
    "parse_aag",
    "parse_aig",
    "parse_aiger",
    "parse_bench",
    "parse_blif",
    "parse_pla",
    "read",
    "read_renaming",
    "read_text",
    "read_verilog",
    "read_verilog_text",
    "rename_for",
    "write",
    "write_text",
]

#: Format name -> what it is.  The file extension is ``.`` + the format name.
FORMATS: dict[str, str] = {
    "blif": "BLIF netlist (.names covers, .subckt hierarchy)",
    "aag": "ASCII AIGER and-inverter graph",
    "aig": "binary AIGER and-inverter graph",
    "bench": "ISCAS bench netlist",
    "pla": "Espresso PLA two-level cover",
    "bool": "threshnet spec language",
    "verilog": "Verilog / SystemVerilog through Yosys (.v, .sv)",
}

#: File extensions (lower case, without the dot) that are not a format name.
EXTENSIONS: dict[str, str] = {"v": "verilog", "sv": "verilog"}


def _known() -> str:
    return ", ".join("." + f for f in FORMATS if f != "verilog") + ", .v, .sv"


def format_of(path: str | os.PathLike[str]) -> str:
    """The format name for ``path``'s extension (case-insensitive); :class:`SpecError` if unknown."""
    filename = os.fspath(path)
    ext = os.path.splitext(filename)[1].lower()
    fmt = EXTENSIONS.get(ext[1:], ext[1:])
    if fmt not in FORMATS:
        what = f"extension '{ext}'" if ext else "no extension"
        raise SpecError(
            f"unknown netlist format ({what}); known formats: {_known()}",
            filename=str(filename),
        )
    return fmt


def _check_format(format: str, filename: str) -> str:
    fmt = format.lower().lstrip(".")
    fmt = EXTENSIONS.get(fmt, fmt)
    if fmt not in FORMATS:
        raise SpecError(f"unknown netlist format '{format}'; known formats: {_known()}", filename=filename)
    return fmt


def read(
    path: str | os.PathLike[str],
    format: str | None = None,
    *,
    cut_latches: bool = False,
    top: str | None = None,
    words: bool | None = None,
) -> Spec:
    """Read a netlist or spec file into a :class:`Spec`.

    ``format`` is one of :data:`FORMATS` (``"blif"``, ``"aag"``, ``"aig"``, ``"bench"``,
    ``"pla"``, ``"bool"``, ``"verilog"``; ``"v"`` and ``"sv"`` name Verilog too); by default
    it comes from the file extension.  ``Spec.filename`` is ``path`` as given.  AIGER files
    are recognised by their header, so an ASCII file named ``.aig`` (or a binary one named
    ``.aag``) reads too.  ``top`` names the top module of a Verilog design (default: Yosys
    picks it); it is an error for other formats.

    ``words`` (Verilog only): ``None`` (default) attaches the design's word program
    (``spec.words``) when every Yosys cell has a word reading and some operator is wider
    than a one-bit gate, else keeps the gate-level spec; ``True`` requires the word reading (:class:`~.rtl.CoarseUnsupported` otherwise);
    ``False`` reads gates only.  ``words=True`` is an error for other formats.
    """
    filename = os.fspath(path)
    fmt = _check_format(format, filename) if format is not None else format_of(filename)
    if fmt == "verilog":
        sv = _is_sv(format, filename)
        spec = read_verilog(filename, cut_latches=cut_latches, top=top, sv=sv)
        return _attach_words(spec, filename, filename, top=top, sv=sv, words=words)
    _no_top(top, fmt, filename)
    _no_words(words, fmt, filename)
    try:
        with open(filename, "rb") as f:
            data = f.read()
    except OSError as e:
        raise SpecError(f"cannot read file: {e.strerror or e}", filename=filename) from None
    return read_text(data, fmt, filename, cut_latches=cut_latches)


def read_text(
    text: str | bytes,
    format: str,
    filename: str | None = None,
    *,
    cut_latches: bool = False,
    top: str | None = None,
    words: bool | None = None,
) -> Spec:
    """Read netlist ``text`` of the given ``format`` (see :data:`FORMATS`).

    ``text`` may be ``str`` or ``bytes``; text formats pass through
    :func:`~threshnet.compiler.source.decode_source` (UTF-8, a BOM dropped, invalid UTF-8
    or a NUL character a located error), as every other input path does.  AIGER
    (``"aag"``/``"aig"``) is read by its own rules (binary AIGER needs ``bytes``; its
    comment section may hold any bytes).  ``filename`` (default ``<format>``) is used in messages;
    for Verilog, a ``filename`` ending in ``.sv`` (or ``format="sv"``) reads SystemVerilog.
    ``words`` is as for :func:`read`.
    """
    fmt = _check_format(format, filename or "<input>")
    if filename is None:
        filename = f"<{fmt}>"
    if fmt == "verilog":
        text = decode_source(text, filename)
        sv = _is_sv(format, filename)
        spec = read_verilog_text(text, filename, cut_latches=cut_latches, top=top, sv=sv)
        if words is False:
            return spec
        with tempfile.TemporaryDirectory(prefix="threshnet-rtl-text-") as tmp:
            source = os.path.join(tmp, "input.sv" if sv else "input.v")
            with open(source, "w", encoding="utf-8") as f:
                f.write(text)
            return _attach_words(spec, source, filename, top=top, sv=sv, words=words)
    _no_top(top, fmt, filename)
    _no_words(words, fmt, filename)
    if fmt in ("aag", "aig"):
        if isinstance(text, str):
            if fmt == "aig" and not text.startswith("aag"):
                raise TypeError("binary AIGER must be given as bytes")
            return parse_aag(text, filename, cut_latches=cut_latches)
        return parse_aiger(bytes(text), filename, cut_latches=cut_latches)
    text = decode_source(text, filename)
    parser: Callable[..., Spec]
    if fmt == "bool":
        from ..compiler.parse import parse

        return parse(text, filename)
    parser = {"blif": parse_blif, "bench": parse_bench, "pla": parse_pla}[fmt]
    return parser(text, filename, cut_latches=cut_latches)


def convert(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    format: str | None = None,
    *,
    in_format: str | None = None,
    cut_latches: bool = False,
    top: str | None = None,
) -> Spec:
    """Read ``src`` (any of :data:`FORMATS`) and write it to ``dst`` as ``format``.

    ``format`` (one of :data:`WRITE_FORMATS`) defaults to ``dst``'s extension, ``in_format``
    to ``src``'s.  Returns the spec that was read.
    """
    spec = read(src, in_format, cut_latches=cut_latches, top=top, words=False)  # writers write bits
    write(spec, dst, format)
    return spec


def _is_sv(format: str | None, filename: str) -> bool:
    if format is not None and format.lower().lstrip(".") == "sv":
        return True
    return os.path.splitext(filename)[1].lower() == ".sv"


def _attach_words(spec: Spec, source: str, filename: str, *, top: str | None, sv: bool,
                  words: bool | None) -> Spec:
    """``spec`` with the word program of the Verilog file ``source`` (messages name ``filename``)."""
    if words is False:
        return spec
    from .rtl import CoarseUnsupported, rtl_words

    try:
        ws = rtl_words(source, top=top, sv=sv, spec=spec)
    except SpecError as e:  # CoarseUnsupported, or Yosys failing on the coarse netlist
        if words:
            raise CoarseUnsupported(f"no word-level reading (use words=False / --gates): {e.message}",
                                    filename=filename, line=e.line) from None
        return spec
    if words is None and _gate_level(ws):
        return spec
    return dataclasses.replace(spec, words=ws)


#: Word operators that, one bit wide, are a single gate; wiring nodes are free.
_GATE_OPS = frozenset({"and", "or", "xor", "not", "mux"})
_WIRING_OPS = frozenset({"input", "const", "slice", "concat", "zext"})


def _gate_level(ws: WordSpec) -> bool:
    """True when every operator of ``ws`` is a one-bit gate (a gate netlist: words compile no better)."""
    return all(n.op in _WIRING_OPS or (n.op in _GATE_OPS and n.width == 1) for n in ws.nodes)


def _no_words(words: bool | None, fmt: str, filename: str) -> None:
    if words:
        raise SpecError(f"the word-level (RTL) reading is only for Verilog input, not .{fmt}", filename=filename)


def _no_top(top: str | None, fmt: str, filename: str) -> None:
    if top is not None:
        raise SpecError(f"a top module can only be chosen for Verilog input, not .{fmt}", filename=filename)
