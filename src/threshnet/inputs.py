"""The one input loader: every way a spec or netlist comes in ends in the same few calls.

=============================  ===========================================================
way in                         path through this module
=============================  ===========================================================
``threshnet CMD FILE``         :func:`load` -> :func:`threshnet.frontends.read`
``threshnet CMD -`` (stdin)    :func:`load` -> :func:`read_stdin` -> ``read_text(bytes)``
``threshnet.read(path)``       ``frontends.read`` -> ``read_text(bytes)``
``threshnet.read_text(...)``   ``read_text`` -> :func:`decode_source` -> the reader
``threshnet.parse(str)``       ``parse`` -> :func:`decode_source` -> the spec parser
``compile(str | Path | Spec)`` :func:`as_spec` -> ``parse`` / ``frontends.read``
=============================  ===========================================================

Files and stdin are read as **bytes** and decoded once, by
:func:`~threshnet.compiler.source.decode_source` (UTF-8, a leading BOM dropped, ``\\r\\n``
and ``\\n`` alike, a lone ``\\r`` whitespace, invalid UTF-8 and NUL characters refused
with a located ``file:line:col: error:``).  Nothing opens a file in text mode, so
Python's universal newlines never turn a lone ``\\r`` into a line end on one path but
not another.  Binary AIGER (``--format aig``) is read as bytes from a file and from stdin.

A file with no extension, or ``.bool``, is the spec language; stdin is the spec
language unless a format is given.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import BinaryIO

from .compiler.source import decode_source
from .compiler.spec import Spec

__all__ = ["STDIN", "as_spec", "decode_source", "load", "read_stdin"]

#: The file name used in messages for text read from standard input.
STDIN = "<stdin>"


def load(
    path: str | os.PathLike[str],
    format: str | None = None,
    *,
    cut_latches: bool = False,
    top: str | None = None,
    stdin: BinaryIO | None = None,
    words: bool | None = None,
) -> Spec:
    """Read a spec or netlist file, or standard input when ``path`` is ``"-"``.

    ``format`` defaults to the file's extension (none, or ``.bool``: the spec language)
    and to ``"bool"`` for stdin.  Problems, a missing or unreadable file included, raise
    :class:`~threshnet.compiler.errors.SpecError` naming the file.  ``words`` picks
    Verilog's word-level or gate-level reading (see :func:`threshnet.frontends.read`).
    """
    from .frontends import read

    name = os.fspath(path)
    if name == "-":
        return read_stdin(format, cut_latches=cut_latches, top=top, stream=stdin, words=words)
    if format is None and not os.path.splitext(name)[1]:
        format = "bool"
    return read(name, format, cut_latches=cut_latches, top=top, words=words)


def read_stdin(
    format: str | None = None,
    *,
    cut_latches: bool = False,
    top: str | None = None,
    stream: BinaryIO | None = None,
    words: bool | None = None,
) -> Spec:
    """Read a spec (or a netlist of ``format``) from ``stream``, by default stdin, as bytes."""
    from .frontends import read_text

    if stream is None:
        # A text stream without a byte buffer (a test's StringIO) gives str; both decode alike.
        stream = getattr(sys.stdin, "buffer", sys.stdin)
    data = stream.read()
    return read_text(data, format or "bool", filename=STDIN, cut_latches=cut_latches, top=top, words=words)


def as_spec(spec: Spec | str | Path) -> Spec:
    """A :class:`Spec` as is, spec text (parsed), or a path to a spec or netlist file (read)."""
    if isinstance(spec, Spec):
        return spec
    if isinstance(spec, str):
        from .compiler.parse import parse

        return parse(spec)
    if isinstance(spec, os.PathLike):
        return load(spec)
    raise TypeError(f"expected a Spec, spec text or a Path, got {type(spec).__name__}")
