"""Source text: the one rule for turning input into text, and for where lines end.

Every way a spec or text netlist comes in (a file, stdin, ``threshnet.read``,
``read_text``, ``parse`` of a ``str``, ``compile("...")``) passes through
:func:`decode_source`, so all of them accept and refuse the same input and
report problems in the same words:

* bytes are UTF-8; a leading UTF-8 byte-order mark (``EF BB BF``, or ``U+FEFF``
  at the start of a ``str``) is dropped.  Invalid UTF-8 is a located error,
  ``file:LINE:COL: error: not UTF-8 text (invalid start byte)``, at the first bad byte;
* a NUL character is refused (``file:LINE:COL: error: NUL character: ...``): no
  format threshnet reads as text has one, and a NUL almost always means a binary file;
* lines end at ``\\n``.  A ``\\r`` just before a ``\\n`` belongs to the line end, so
  ``\\r\\n`` files read exactly like ``\\n`` files, errors and columns included (the spec
  parser lexes the text with each ``\\r\\n`` as ``\\n``; :func:`lines` drops it); any other
  ``\\r`` is whitespace, as in the spec language's grammar.  The text itself is not
  rewritten: ``Spec.source`` is what the file held, less a BOM.

Line ``L`` is ``text.split("\\n")[L - 1]`` (without a final ``\\r``) and column ``C``
counts characters (code points) from 1 in that line.  The spec lexer, the netlist
readers (through :func:`lines`) and :func:`~threshnet.compiler.errors.format_error`
all count this way, so a caret always sits under the character it names.
"""

from __future__ import annotations

from typing import Iterator

from .errors import DEFAULT_FILENAME, SpecError

BOM = "\ufeff"


def _locate(text: str, index: int) -> tuple[int, int]:
    """1-based (line, column) of ``text[index]`` under the rule above."""
    line = text.count("\n", 0, index) + 1
    start = text.rfind("\n", 0, index) + 1
    return line, index - start + 1


def decode_source(data: bytes | bytearray | memoryview | str, filename: str = DEFAULT_FILENAME) -> str:
    """Bytes or text to checked source text (see the module docstring for the rule).

    Raises :class:`SpecError` located at the first invalid UTF-8 byte or NUL character,
    and ``TypeError`` for anything that is neither bytes nor ``str``.
    """
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if isinstance(data, bytes):
        raw = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            good = raw[: e.start].decode("utf-8")
            shown = raw.decode("utf-8", errors="replace")
            line, column = _locate(good, len(good))
            raise SpecError(
                f"not UTF-8 text ({e.reason})", filename=filename, line=line, column=column, source=shown
            ) from None
    elif isinstance(data, str):
        text = data[1:] if data.startswith(BOM) else data
    else:
        raise TypeError(f"source text must be str or bytes, not {type(data).__name__}")
    nul = text.find("\x00")
    if nul >= 0:
        line, column = _locate(text, nul)
        raise SpecError(
            "NUL character: this is not a text file", filename=filename, line=line, column=column, source=text
        )
    return text


def lines(text: str) -> Iterator[str]:
    """The lines of decoded text under the rule above, without their line ends.

    Unlike ``str.splitlines`` this breaks only at ``\\n`` (form feeds, lone ``\\r``
    and Unicode line separators stay inside a line), so line numbers agree with the
    spec lexer's and with the lines that error messages show.  A final empty line
    (after a trailing ``\\n``) is not produced.
    """
    parts = text.split("\n")
    if parts and parts[-1] == "":
        parts.pop()
    for part in parts:
        yield part[:-1] if part.endswith("\r") else part
