"""v2 spec text for a :class:`~threshnet.compiler.words.WordSpec` (``threshnet.render`` of a v2 spec).

Every node is written as the language expression with the same integer
value; where the language's width rule for that expression gives a different
width than the node has, the text is fitted: a slice ``(e)[w-1:0]`` drops the
extra high bits (the node's value is the exact value mod ``2**w``) and
``{0, ..., 0, e}`` adds zero bits.  ``sub`` first widens its left operand to at
least ``w - 1`` bits, so that ``a - b`` wraps at ``2**w`` or above, never below.
A ``zext`` that the width rule of its reader adds again (``&``, ``^``, ``|``,
``?:`` operands, a declared output) is left implicit.

A node gets its own statement when the source named it, when an output reads
it, or when more than one node reads it (so no expression is copied);
generated names are ``_t1, _t2, ...`` in node order, skipping names in use.

Round trip (tests/test_language_v2.py): ``parse(render(s)).words`` evaluates
like ``s.words`` on every input, and ``render`` is a fixpoint from the second
round on (``render(parse(t)) == t`` for ``t = render(parse(render(s)))``).
All walks are loops (no recursion), linear in the size of the program.
"""

from __future__ import annotations

import re

from .words import WNode, WordSpec

__all__ = ["render_words"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_RESERVED = {"input", "output"}
ATOM, UNARY, MUL, ADD, SHIFT, REL, EQ, AND_, XOR_, OR_, COND = 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2
_BIN = {"mul": ("*", MUL), "add": ("+", ADD), "sub": ("-", ADD), "lt": ("<", REL), "le": ("<=", REL),
        "gt": (">", REL), "ge": (">=", REL), "eq": ("==", EQ), "ne": ("!=", EQ), "and": ("&", AND_),
        "xor": ("^", XOR_), "or": ("|", OR_)}

# A rendered expression: pieces (str, or int = "node i's text here") plus its precedence and natural width.
Pieces = list  # list[str | int]


class _Text:
    __slots__ = ("pieces", "prec", "width")

    def __init__(self, pieces: Pieces, prec: int, width: int) -> None:
        self.pieces, self.prec, self.width = pieces, prec, width


def _natural_add(widths: list[int]) -> int:
    w = widths[0]
    for x in widths[1:]:
        w = max(w, x) + 1
    return w


def render_words(ws: WordSpec) -> str:
    """v2 text whose program computes what ``ws`` computes (see the module docstring)."""
    nodes = ws.nodes
    uses = [0] * len(nodes)
    for n in nodes:
        for j in n.args:
            uses[j] += 1
    outputs_of: dict[int, list[str]] = {}
    for p, i in ws.outputs:
        outputs_of.setdefault(i, []).append(p.name)
    taken = {p.name for p in ws.inputs} | {p.name for p, _ in ws.outputs}
    # Statement names: the source's name where it is a usable one, else _tK.
    stmt: dict[int, str] = {}
    counter = 0
    for i, n in enumerate(nodes):
        if n.op == "input":
            stmt[i] = ws.inputs[n.params[0]].name
            continue
        own = outputs_of.get(i)
        if own:
            stmt[i] = own[0]
            continue
        wants = n.name is not None or (uses[i] > 1 and n.op != "const")
        if not wants:
            continue
        if n.name is not None and _NAME.match(n.name) and n.name not in _RESERVED and n.name not in taken:
            stmt[i] = n.name
        else:
            counter += 1
            while f"_t{counter}" in taken:
                counter += 1
            stmt[i] = f"_t{counter}"
        taken.add(stmt[i])

    texts: list[_Text] = []
    lines: list[str] = []
    if ws.inputs:
        lines.append("input " + ", ".join(f"{p.name}[{p.width}]" if p.vector else p.name for p in ws.inputs))
    lines.append("output " + ", ".join(f"{p.name}[{p.width}]" if p.vector else p.name for p, _ in ws.outputs))
    port_width = {p.name: p.width for p, _ in ws.outputs}
    for i, n in enumerate(nodes):
        t = _node_text(ws, n, texts)
        if i in stmt and n.op != "input":
            name = stmt[i]
            declared = port_width.get(name)
            body = t
            if declared is not None and n.op == "zext" and texts_width(texts, n.args[0]) <= declared:
                body = texts[n.args[0]]  # the declaration zero-extends
            elif declared is None or t.width > declared:
                body = _fit(t, n.width)
            lines.append(f"{name} = {_expand(body.pieces, texts)}")
            t = _Text([name], ATOM, n.width)
        elif i in stmt:
            t = _Text([stmt[i]], ATOM, n.width)
        texts.append(t)
    for p, i in ws.outputs:
        if stmt.get(i) != p.name:
            lines.append(f"{p.name} = {_expand(texts[i].pieces, texts)}")
    return "\n".join(lines) + "\n"


def texts_width(texts: list[_Text], i: int) -> int:
    return texts[i].width


def _wrap(t: _Text, prec: int) -> Pieces:
    """``t``'s pieces, parenthesised unless it binds at least as tightly as ``prec``."""
    return t.pieces if t.prec >= prec else ["(", *t.pieces, ")"]


def _fit(t: _Text, width: int) -> _Text:
    """``t`` with exactly ``width`` bits: a slice drops high bits, zeros in a concatenation add them."""
    if t.width == width:
        return t
    if t.width > width:
        return _Text([*_wrap(t, ATOM), f"[{width - 1}:0]"], ATOM, width)
    return _Text(["{", "0, " * (width - t.width), *t.pieces, "}"], ATOM, width)


def _ref(texts: list[_Text], j: int) -> _Text:
    """Node ``j`` as an operand: a name if it has one, else (the index of) its own text."""
    t = texts[j]
    if len(t.pieces) == 1 and t.prec == ATOM:
        return t
    return _Text([j], t.prec, t.width)


def _arg(texts: list[_Text], j: int, width: int | None = None) -> _Text:
    """Operand ``j``; with ``width``, a zext to ``width`` that the reader's width rule adds anyway is dropped."""
    n = texts[j]
    return _ref(texts, j) if width is None or n.width <= width else _fit(_ref(texts, j), width)


def _node_text(ws: WordSpec, n: WNode, texts: list[_Text]) -> _Text:
    op, w = n.op, n.width
    a = [_ref(texts, j) for j in n.args]
    if op == "input":
        p = ws.inputs[n.params[0]]
        return _Text([p.name], ATOM, p.width)
    if op == "const":
        v = n.params[0]
        return _fit(_Text([str(v)], ATOM, max(1, v.bit_length())), w)
    if op == "zext":
        return _fit(a[0], w)
    if op == "slice":
        hi, lo = n.params
        sel = f"[{hi}]" if hi == lo else f"[{hi}:{lo}]"
        return _Text([*_wrap(a[0], ATOM), sel], ATOM, w)
    if op == "concat":
        pieces: Pieces = ["{"]
        for k, x in enumerate(a):
            pieces.extend(([", "] if k else []) + x.pieces)
        pieces.append("}")
        return _Text(pieces, ATOM, w)
    if op == "not":
        return _Text(["~", *_wrap(a[0], UNARY)], UNARY, w)
    if op in ("and", "or", "xor"):
        # Operands have the node's width already; one that is a zext of a narrower node is written bare.
        parts = [_unzext(ws, texts, j, w) for j in n.args]
        return _fit(_chain(parts, *_BIN[op]), w)
    if op == "add":
        return _fit(_chain(a, *_BIN[op], width=_natural_add([x.width for x in a])), w)
    if op == "sub":
        left = a[0] if a[0].width >= w - 1 else _fit(a[0], w - 1)
        return _fit(_chain([left, a[1]], *_BIN[op], width=max(left.width, a[1].width) + 1), w)
    if op == "mul":
        return _fit(_chain(a, *_BIN[op], width=a[0].width + a[1].width), w)
    if op in ("shl", "shr"):
        k = n.params[0]
        nat = a[0].width + k if op == "shl" else max(a[0].width - k, 1)
        sym = "<<" if op == "shl" else ">>"
        return _fit(_Text([*_wrap(a[0], SHIFT), f" {sym} {k}"], SHIFT, nat), w)
    if op in ("lt", "le", "gt", "ge", "eq", "ne"):
        return _fit(_chain(a, *_BIN[op], width=1), w)
    if op == "mux":
        c = a[0]
        x, y = _unzext(ws, texts, n.args[1], w), _unzext(ws, texts, n.args[2], w)
        t = _Text([*_wrap(c, OR_), " ? ", *x.pieces, " : ", *_wrap(y, COND)], COND, max(x.width, y.width))
        return _fit(t, w)
    if op in ("min", "max"):
        return _fit(_call(op, a, max(x.width for x in a)), w)
    total = sum(x.width for x in a)
    if op == "popcount":
        return _fit(_call("popcount", a, max(1, total.bit_length())), w)
    if op == "atleast":
        k = max(0, n.params[0])
        return _fit(_call("atleast", [_Text([str(k)], ATOM, 1), *a], 1), w)
    if op == "parity":
        return _fit(_call("xor", a, 1), w)
    if op == "th":
        weights, t = n.params
        pieces = ["th("]
        for k, (wt, x) in enumerate(zip(weights, a)):
            sign = "-" if wt < 0 else "+"
            if k == 0:
                pieces.append("0 - " if wt < 0 else "")
            else:
                pieces.append(f" {sign} ")
            mag = abs(wt)
            # A bare number term keeps its weight (``1*0``): alone it would read as part of the threshold.
            number = len(x.pieces) == 1 and isinstance(x.pieces[0], str) and x.pieces[0][:1].isdigit()
            pieces.extend(_wrap(x, UNARY) if mag == 1 and not number else [f"{mag}*", *_wrap(x, UNARY)])
        if t < 0:
            pieces.append(f" + {-t} >= 0)")
        else:
            pieces.append(f" >= {t})")
        return _fit(_Text(pieces, ATOM, 1), w)
    raise ValueError(f"cannot render operator {op!r}")


def _unzext(ws: WordSpec, texts: list[_Text], j: int, width: int) -> _Text:
    """Operand ``j`` of a reader that zero-extends to ``width``: a zext node is written as its operand."""
    n = ws.nodes[j]
    if n.op == "zext" and len(texts[j].pieces) != 1 and texts[n.args[0]].width <= width:
        return _ref(texts, n.args[0])
    return _ref(texts, j)


def _chain(parts: list[_Text], sym: str, prec: int, width: int | None = None) -> _Text:
    """``p1 sym p2 sym ...`` (left-associative)."""
    pieces: Pieces = list(_wrap(parts[0], prec))
    for x in parts[1:]:
        pieces.append(f" {sym} ")
        pieces.extend(_wrap(x, prec + 1))
    return _Text(pieces, prec, width if width is not None else max(x.width for x in parts))


def _call(name: str, args: list[_Text], width: int) -> _Text:
    pieces: Pieces = [f"{name}("]
    for k, x in enumerate(args):
        pieces.extend(([", "] if k else []) + x.pieces)
    pieces.append(")")
    return _Text(pieces, ATOM, width)


def _expand(pieces: Pieces, texts: list[_Text]) -> str:
    """The text of ``pieces``, every node reference replaced by its text (explicit stack)."""
    out: list[str] = []
    stack: list[object] = list(reversed(pieces))
    while stack:
        x = stack.pop()
        if isinstance(x, int):
            stack.extend(reversed(texts[x].pieces))
        else:
            out.append(x)  # type: ignore[arg-type]
    return "".join(out)
