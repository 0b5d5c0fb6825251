"""Located errors: ``file:line:col: error: message``, the source line and a caret."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_FILENAME = "<spec>"
#: A source line under an error is shown whole up to this many characters (plus the 6 that two "..." would take);
#: a longer one is shown as this many characters around the column.
SHOWN_LINE_LIMIT = 120


@dataclass(frozen=True)
class Span:
    """A 1-based source range; ``end_column`` is exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int

    @staticmethod
    def point(line: int, column: int) -> "Span":
        return Span(line, column, line, column + 1)

    def __reduce__(self):  # four ints, not a state dict: a spec of 100k nodes carries 100k spans
        return Span, (self.line, self.column, self.end_line, self.end_column)


def _source_line(source: str | None, line: int) -> str | None:
    if not source or line < 1:
        return None
    lines = source.split("\n")  # the lexer counts lines by "\n" alone
    if line > len(lines):
        return None
    return lines[line - 1].rstrip("\r")


def format_error(
    message: str,
    filename: str,
    line: int | None,
    column: int | None,
    source: str | None,
    end_column: int | None = None,
) -> str:
    """Render one diagnostic in the ``file:line:col: error: ...`` form."""
    if line is None:
        return f"{filename}: error: {message}"
    if column is None:
        return f"{filename}:{line}: error: {message}"
    head = f"{filename}:{line}:{column}: error: {message}"
    text = _source_line(source, line)
    if text is None:
        return head
    # one column per character: tabs become one space, anything unprintable (a NUL of a binary file) a '?'
    text = "".join(ch if ch.isprintable() else "?" for ch in text.expandtabs(1))
    width = 1
    if end_column is not None and end_column > column:
        width = min(end_column - column, max(1, len(text) - column + 1))
    if len(text) > SHOWN_LINE_LIMIT + 6:  # a window around the column, "..." where it is cut (when that is shorter)
        start = max(0, min(column - 1 - SHOWN_LINE_LIMIT // 2, len(text) - SHOWN_LINE_LIMIT))
        end = start + SHOWN_LINE_LIMIT
        width = max(1, min(width, end - column + 1))
        column -= start - (3 if start else 0)
        text = ("..." if start else "") + text[start:end] + ("..." if end < len(text) else "")
    caret = " " * (column - 1) + "^" + "~" * (width - 1)
    return f"{head}\n    {text}\n    {caret}"


class SpecError(ValueError):
    """A problem in a spec or netlist, located at ``filename:line:column``.

    ``str(err)`` is the full diagnostic; ``err.message`` is the bare message.
    ``column`` is ``None`` for line-oriented formats.
    """

    def __init__(
        self,
        message: str,
        *,
        filename: str = DEFAULT_FILENAME,
        line: int | None = None,
        column: int | None = None,
        source: str | None = None,
        end_column: int | None = None,
    ) -> None:
        self.message = message
        self.filename = filename
        self.line = line
        self.column = column
        self.end_column = end_column
        self.source = source
        super().__init__(format_error(message, filename, line, column, source, end_column))

    @classmethod
    def at(cls, message: str, span: Span | None, filename: str, source: str | None) -> "SpecError":
        if span is None:
            return cls(message, filename=filename, source=source)
        end = span.end_column if span.end_line == span.line else None
        return cls(
            message,
            filename=filename,
            line=span.line,
            column=span.column,
            source=source,
            end_column=end,
        )
