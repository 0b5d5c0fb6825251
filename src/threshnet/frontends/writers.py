"""Netlist writers: a :class:`Spec` to the spec language, BLIF or AIGER (``.aag``/``.aig``).

Reading a written file back gives the same function with the same ports in the same order
(see ``tests/test_writers.py``).

``bool`` (the spec language) keeps the spec's assignments as they are.  Vector ports
(:mod:`threshnet.compiler.ports`: a v2 spec's declared vectors, or a netlist's bits
``a[0] .. a[n-1]`` in order) are declared as vectors (``input a[8]``, ``output s[9]``) and
keep their bit names (``s[3] = a[3] ^ b[3]``), so the v2 parser reads the text back to the
same bit-level ports in the same order; this needs every bit of an output vector to be
assigned, else the ports are written bit by bit as in v1.  Other names that the
language cannot spell (it takes ``[A-Za-z_][A-Za-z0-9_]*`` except its keywords), and
names that would clash with a vector's name, are renamed deterministically: every other character becomes ``_``, a leading digit or a
keyword gets a ``_`` in front, and a name that is taken gets ``_1``, ``_2``, ... appended
(``a[0]`` -> ``a_0_``, ``1GAT(0)`` -> ``_1GAT_0_``, ``a$next`` -> ``a_next``).  Names that
are valid already never change.  The file then opens with a comment block that lists each
renaming as ``#   "original" -> new`` (the original as a JSON string);
:func:`read_renaming` reads that block back.

``blif`` and ``aag``/``aig`` are written from the lowered boolean-gate graph
(:func:`threshnet.compiler.lower.lower`): shared subexpressions, constants folded, dead
logic dropped.  BLIF has one ``.names`` per gate (AND: one ON-set row; OR: one OFF-set row,
output 0; XOR of k inputs: its 2^(k-1) ON-set rows; a gate whose spec signal is its
complement, like a NAND, or that drives an inverted output, gets the complemented cover, so
no inverter is needed), named after the spec signal where there is one and ``n<id>``
otherwise; an output that is a constant, an input or a signal used elsewhere (perhaps
inverted) gets its own ``.names``; an output named like an input is that input.  AIGER has the inputs in port order as
variables 1..I, AND gates in topological order (OR by De Morgan, a 2-input XOR as 3 ANDs,
wide gates as balanced trees, structurally hashed) and a symbol table with the port names.
A port name that the format cannot carry (BLIF: whitespace, ``#``, a trailing backslash;
AIGER: a line break) is renamed the same way and listed in a comment (BLIF: at the top;
AIGER: in the comment section).
"""

from __future__ import annotations

import json
import os
import re
from typing import Callable, Iterable

import networkx as nx

from ..compiler.errors import SpecError
from ..compiler.ports import WordPort, ports_of
from ..compiler.keys import INPUTS, NAME, NEG, OP, OP_AND, OP_CONST, OP_INPUT, OP_OR, OP_XOR, OUTPUTS
from ..compiler.spec import (KEYWORDS, Assign, BinOp, Const, Expr, Name, Not, Spec, fold_expr, names_read_once,
                             render_expr)
from ._netlist import unique_name

__all__ = ["WRITE_FORMATS", "apply_renaming", "read_renaming", "rename_for", "write", "write_text"]

#: Formats that :func:`write_text` can produce.
WRITE_FORMATS: dict[str, str] = {
    "bool": "threshnet spec language",
    "blif": "BLIF netlist, one .names per gate",
    "aag": "ASCII AIGER and-inverter graph",
    "aig": "binary AIGER and-inverter graph",
}

_SPEC_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NOT_SPEC_CHAR = re.compile(r"[^A-Za-z0-9_]")
_RENAME_HEAD = "# Renamed signals (original -> name here); all other names are unchanged:"
_RENAME_LINE = re.compile(r'#   ("(?:[^"\\]|\\.)*") -> (\S+)\s*')
_LINE_WIDTH = 100


# -- names ------------------------------------------------------------------------------------------
def _spec_ok(name: str) -> bool:
    return _SPEC_NAME.fullmatch(name) is not None and name not in KEYWORDS


def _spec_fix(name: str) -> str:
    s = _NOT_SPEC_CHAR.sub("_", name)
    if not s or s[0].isdigit() or s in KEYWORDS:
        s = "_" + s
    return s


def _blif_ok(name: str) -> bool:
    return bool(name) and "#" not in name and not name.endswith("\\") and not any(c.isspace() for c in name)


def _blif_fix(name: str) -> str:
    s = "".join("_" if c.isspace() or c == "#" else c for c in name)
    if s.endswith("\\"):
        s = s[:-1] + "_"
    return s or "_"


_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")


def _aiger_ok(name: str) -> bool:
    return bool(name) and not any(c in _LINE_BREAKS for c in name)


def _aiger_fix(name: str) -> str:
    return "".join("_" if c in _LINE_BREAKS else c for c in name) or "_"


_RULES: dict[str, tuple[Callable[[str], bool], Callable[[str], str]]] = {
    "bool": (_spec_ok, _spec_fix),
    "blif": (_blif_ok, _blif_fix),
    "aag": (_aiger_ok, _aiger_fix),
    "aig": (_aiger_ok, _aiger_fix),
}


def _names(spec: Spec, ports_only: bool) -> Iterable[str]:
    yield from spec.inputs
    yield from spec.outputs
    if not ports_only:
        for a in spec.assignments:
            yield a.target


def rename_for(spec: Spec, format: str) -> dict[str, str]:
    """The renamings ``{original: new}`` that writing ``spec`` as ``format`` applies.

    Empty when every name can be written as it is.  Deterministic: names that are fine keep
    their spelling and reserve it; the others, in the order inputs, outputs, assignment
    targets, get their fixed spelling with ``_1``, ``_2``, ... appended while it is taken.
    """
    fmt = _format(format)
    ok, fix = _RULES[fmt]
    ports_only = fmt != "bool"  # BLIF/AIGER signal names inside come from the gate graph
    if fmt == "bool":
        vectors = _bool_vectors(spec)
        if vectors:  # vector bits are spelled as they are; a vector's name is taken
            bits = {b for p in vectors for b in p.bits}
            bases = {p.name for p in vectors}
            ok = lambda n: n in bits or (_spec_ok(n) and n not in bases)  # noqa: E731
    names = list(dict.fromkeys(_names(spec, ports_only)))
    used = {n for n in names if ok(n)}
    if fmt == "bool" and vectors:
        used |= bases
    if not ports_only:
        used |= {n.id for a in spec.assignments for n in names_read_once(a.expr) if ok(n.id)}
    mapping: dict[str, str] = {}
    for n in names:
        if ok(n) or n in mapping:
            continue
        new = unique_name(fix(n), used)
        used.add(new)
        mapping[n] = new
    return mapping


def _rename_block(mapping: dict[str, str]) -> list[str]:
    if not mapping:
        return []
    lines = [_RENAME_HEAD]
    for old, new in mapping.items():
        lines.append(f"#   {json.dumps(old, ensure_ascii=False)} -> {new}")
    return lines


def read_renaming(text: str | bytes) -> dict[str, str]:
    """The renamings listed at the top of a written file, as ``{new: original}``.

    Works for ``.bool`` and BLIF files (the comment block before the first statement) and for
    AIGER files (the same lines in the comment section, without the ``#``).  Empty when the
    file lists none.
    """
    if isinstance(text, bytes):
        pos = text.rfind(b"\nc\n")
        text = text[pos + 3:].decode("utf-8", "replace") if pos >= 0 else ""
    elif text.startswith("aag"):
        pos = text.rfind("\nc\n")
        text = text[pos + 3:] if pos >= 0 else ""
    lines = text.split("\n")
    out: dict[str, str] = {}
    active = False
    for ln in lines:
        ln = ln.rstrip("\r")
        if ln == _RENAME_HEAD:
            active = True
            continue
        if not active:
            continue
        m = _RENAME_LINE.fullmatch(ln)
        if m is None:
            break
        out[m.group(2)] = json.loads(m.group(1))
    return out


def apply_renaming(spec: Spec, mapping: dict[str, str]) -> Spec:
    """``spec`` with every name in ``mapping`` replaced (ports and signals; spans dropped).

    ``apply_renaming(read(written), read_renaming(text))`` gives back the original names.
    """
    return _renamed(spec, mapping)


def _renamed(spec: Spec, mapping: dict[str, str]) -> Spec:
    if not mapping:
        return spec
    get = mapping.get
    memo: dict[int, Expr] = {}  # shared by every assignment: shared nodes stay shared

    def leaf(node: Const | Name) -> Expr:
        return Name(get(node.id)) if isinstance(node, Name) and node.id in mapping else node

    def rename(e: Expr) -> Expr:
        return fold_expr(e, leaf, lambda node, v: Not(v), lambda node, l, r: BinOp(node.op, l, r), memo)

    return Spec(
        inputs=tuple(get(n, n) for n in spec.inputs),
        outputs=tuple(get(n, n) for n in spec.outputs),
        assignments=tuple(Assign(get(a.target, a.target), rename(a.expr)) for a in spec.assignments),
        filename=spec.filename,
    )


def _blif_decl(head: str, names: list[str]) -> list[str]:
    """``head n1 n2 ...`` split with backslash continuations at about ``_LINE_WIDTH`` characters."""
    lines: list[str] = []
    cur = head
    for n in names:
        if cur != head and cur.strip() and len(cur) + 1 + len(n) > _LINE_WIDTH:
            lines.append(cur + " \\")
            cur = " " + n
        else:
            cur += " " + n
    lines.append(cur)
    return lines


# -- spec language ------------------------------------------------------------------------------------
def _bool_vectors(spec: Spec) -> list[WordPort]:
    """The vector ports that ``.bool`` declares as vectors: all of them, or none when one cannot be.

    v2 refuses an output that is also an input, wants every bit of an output vector
    assigned and each name declared once; a vector's bit must not be a scalar port either.
    """
    try:
        ports = ports_of(spec)
    except ValueError:
        return []
    vectors = [p for p in ports.inputs + ports.outputs if p.vector]
    if not vectors or len({p.name for p in vectors}) != len(vectors):
        return []
    if set(spec.inputs) & set(spec.outputs):
        return []  # v2 refuses an output that is an input; v1 text keeps such aliases
    targets = {a.target for a in spec.assignments}
    if any(b not in targets for p in ports.outputs if p.vector for b in p.bits):
        return []
    bits = {b for p in vectors for b in p.bits}
    if any(p.name in bits for p in ports.inputs + ports.outputs if not p.vector):
        return []  # a vector's bit is also a scalar port on the other side (an output aliasing an input)
    return vectors


def _declared(spec: Spec, mapping: dict[str, str]) -> tuple[list[str], list[str]]:
    """The names in the ``input``/``output`` lines: ``a[8]`` for a vector, else the (renamed) bit name."""
    vectors = _bool_vectors(spec)
    if not vectors:
        return ([mapping.get(n, n) for n in spec.inputs], [mapping.get(n, n) for n in spec.outputs])
    ports = ports_of(spec)
    return ([str(p) if p.vector else mapping.get(p.name, p.name) for p in ports.inputs],
            [str(p) if p.vector else mapping.get(p.name, p.name) for p in ports.outputs])


def _write_bool(spec: Spec) -> str:
    mapping = rename_for(spec, "bool")
    s = _renamed(spec, mapping)
    lines = _rename_block(mapping)
    if lines:
        lines.append("")
    for head, ports in zip(("input ", "output "), _declared(spec, mapping)):
        if not ports:
            continue
        cur: list[str] = []
        width = len(head)
        for p in ports:  # one declaration per line of about _LINE_WIDTH characters
            if cur and width + len(p) + 2 > _LINE_WIDTH:
                lines.append(head + ", ".join(cur))
                cur, width = [], len(head)
            cur.append(p)
            width += len(p) + 2
        lines.append(head + ", ".join(cur))
    lines += _bool_statements(s)
    return "\n".join(lines) + "\n"


#: A subexpression shared by several readers is written once, under a name, when it has more nodes.
_SHARED_TEXT = 16


def _bool_statements(spec: Spec) -> list[str]:
    """``target = expr`` per assignment.  A subexpression object read from two places or more (words
    bit-blasted from v2 share their carries and comparisons) of more than ``_SHARED_TEXT`` nodes
    (once its own named parts count one each) gets a statement of its own, named ``_t1``, ``_t2``, ...
    (skipping names in use), just before the first assignment that reads it; so the text grows with
    the spec's size, where writing trees would repeat shared parts exponentially often."""
    uses: dict[int, int] = {}  # readers of each node object
    names: set[str] = set()

    def count(*nodes: Expr) -> None:
        for c in nodes:
            uses[id(c)] = uses.get(id(c), 0) + 1

    def leaf(node: Const | Name) -> None:
        if isinstance(node, Name):
            names.add(node.id)

    memo: dict[int, None] = {}
    for a in spec.assignments:
        fold_expr(a.expr, leaf, lambda node, _: count(node.operand), lambda node, _l, _r: count(node.left, node.right),
                  memo)
        count(a.expr)
    used = set(spec.inputs) | set(spec.outputs) | {a.target for a in spec.assignments} | names | set(KEYWORDS)
    lines: list[str] = []
    n_temps = 0

    def written(node: Expr, e: Expr, size: int) -> tuple[Expr, int]:
        """How readers write ``node`` (``e``, of ``size`` nodes): itself, or a new name for it."""
        nonlocal n_temps
        if size <= _SHARED_TEXT or uses[id(node)] < 2:
            return e, size
        n_temps += 1
        name = unique_name(f"_t{n_temps}", used)
        used.add(name)
        lines.append(f"{name} = {render_expr(e)}")
        return Name(name), 1

    # Each node once, children first, in the order the assignments reach them (their names come first).
    memo2: dict[int, tuple[Expr, int]] = {}
    for a in spec.assignments:
        e, _ = fold_expr(a.expr, lambda node: (node, 1),
                         lambda node, v: written(node, Not(v[0]), 1 + v[1]),
                         lambda node, l, r: written(node, BinOp(node.op, l[0], r[0]), 1 + l[1] + r[1]), memo2)
        lines.append(f"{a.target} = {render_expr(e)}")
    return lines


# -- boolean-gate graph -------------------------------------------------------------------------------
def _lowered(spec: Spec, mapping: dict[str, str]) -> nx.DiGraph:
    from ..compiler.lower import lower

    return lower(_renamed(spec, mapping) if mapping else spec)


def _fanins(g: nx.DiGraph, v: int) -> list[tuple[int, bool]]:
    return sorted((u, bool(e[NEG])) for u, _, e in g.in_edges(v, data=True))


def _write_blif(spec: Spec) -> str:
    mapping = rename_for(spec, "blif")
    g = _lowered(spec, mapping)
    inputs = [g.nodes[v][NAME] for v in g.graph[INPUTS]]
    outputs = list(g.graph[OUTPUTS])
    out_names = [o for o, _v, _n in outputs]
    in_set = set(inputs)
    used = set(inputs) | set(out_names)
    name: dict[int, str] = {v: g.nodes[v][NAME] for v in g.graph[INPUTS]}
    # inv[v]: the BLIF signal name[v] carries the complement of node v (its cover is
    # complemented and readers flip the literal), so a NAND or an inverted output costs no
    # extra .names.
    inv: dict[int, bool] = {}
    gates = [v for v in sorted(g.nodes) if g.nodes[v][OP] != OP_INPUT]
    # An output that is a gate names that gate (the first such output wins) ...
    for o, v, neg in outputs:
        if o not in in_set and v not in name and g.nodes[v][OP] != OP_CONST:
            name[v], inv[v] = o, neg
    for v in gates:  # ... then the spec's own signal names, where BLIF can spell them
        label = g.nodes[v][NAME]
        if v in name or not label:
            continue
        neg = label.startswith("~")
        label = label[1:] if neg else label
        if _blif_ok(label) and label not in used:
            name[v], inv[v] = label, neg
            used.add(label)
    for v in gates:
        if v not in name:
            name[v], inv[v] = unique_name(f"n{v}", used), False
            used.add(name[v])

    title = os.path.splitext(os.path.basename(spec.filename))[0]
    title = _blif_fix(title) if title and not title.startswith("<") else "top"
    lines = _rename_block(mapping)
    lines.append(f".model {title}")
    if inputs:
        lines += _blif_decl(".inputs", inputs)
    lines += _blif_decl(".outputs", out_names)
    for v in gates:
        op = g.nodes[v][OP]
        if op == OP_CONST:
            if any(g.nodes[r][OP] != OP_INPUT for r in g.successors(v)):
                lines.append(f".names {name[v]}")  # no rows: constant 0
            continue
        fan = [(u, neg ^ inv.get(u, False)) for u, neg in _fanins(g, v)]
        lines.append(".names " + " ".join(name[u] for u, _ in fan) + " " + name[v])
        out = "0" if inv[v] else "1"
        if op == OP_AND:  # the one cube of the ON-set (of the OFF-set when inverted)
            lines.append("".join("0" if neg else "1" for _, neg in fan) + " " + out)
        elif op == OP_OR:  # NOR is the AND of the complements
            lines.append("".join("1" if neg else "0" for _, neg in fan) + " " + ("1" if inv[v] else "0"))
        else:
            assert op == OP_XOR
            k = len(fan)
            flip = (sum(neg for _, neg in fan) + inv[v]) & 1
            for bits in range(1 << k):
                if (bin(bits).count("1") & 1) ^ flip:
                    lines.append(format(bits, f"0{k}b") + " 1")
    for o, v, neg in outputs:
        if name.get(v) == o and neg == inv.get(v, False):
            continue  # the gate itself, or an input port of the same name
        if g.nodes[v][OP] == OP_CONST:
            lines.append(f".names {o}")
            if neg:
                lines.append("1")
        else:
            lines.append(f".names {name[v]} {o}")
            lines.append("0 1" if neg ^ inv.get(v, False) else "1 1")
    lines.append(".end")
    return "\n".join(lines) + "\n"


class _Aig:
    """AND gates over AIGER literals, structurally hashed, in creation (topological) order."""

    def __init__(self, n_inputs: int) -> None:
        self.next_var = n_inputs + 1
        self.ands: list[tuple[int, int, int]] = []
        self.table: dict[tuple[int, int], int] = {}

    def and2(self, a: int, b: int) -> int:
        if a < b:
            a, b = b, a
        if b == 0:
            return 0
        if b == 1:
            return a
        if a == b:
            return a
        if a ^ 1 == b:
            return 0
        lit = self.table.get((a, b))
        if lit is None:
            lit = 2 * self.next_var
            self.next_var += 1
            self.ands.append((lit, a, b))
            self.table[(a, b)] = lit
        return lit

    def xor2(self, a: int, b: int) -> int:
        parity = (a ^ b) & 1
        a &= ~1
        b &= ~1
        # a ^ b = ~(a & b) & ~(~a & ~b): three ANDs
        return self.and2(self.and2(a, b) ^ 1, self.and2(a ^ 1, b ^ 1) ^ 1) ^ parity

    def tree(self, fn: Callable[[int, int], int], lits: list[int]) -> int:
        while len(lits) > 1:
            nxt = [fn(lits[i], lits[i + 1]) for i in range(0, len(lits) - 1, 2)]
            if len(lits) & 1:
                nxt.append(lits[-1])
            lits = nxt
        return lits[0]


def _aiger(spec: Spec) -> tuple[list[str], list[tuple[str, int]], list[tuple[int, int, int]], dict[str, str], int]:
    mapping = rename_for(spec, "aag")
    g = _lowered(spec, mapping)
    ins = list(g.graph[INPUTS])
    aig = _Aig(len(ins))
    lit: dict[int, int] = {v: 2 * (k + 1) for k, v in enumerate(ins)}
    for v in sorted(g.nodes):
        op = g.nodes[v][OP]
        if op == OP_INPUT:
            continue
        if op == OP_CONST:
            lit[v] = 0
            continue
        fan = [lit[u] ^ neg for u, neg in _fanins(g, v)]
        if op == OP_AND:
            lit[v] = aig.tree(aig.and2, fan)
        elif op == OP_OR:
            lit[v] = aig.tree(aig.and2, [x ^ 1 for x in fan]) ^ 1
        else:
            lit[v] = aig.tree(aig.xor2, fan)
    inputs = [g.nodes[v][NAME] for v in ins]
    outputs = [(o, lit[v] ^ neg) for o, v, neg in g.graph[OUTPUTS]]
    return inputs, outputs, aig.ands, mapping, aig.next_var - 1


def _aiger_tail(inputs: list[str], outputs: list[tuple[str, int]], mapping: dict[str, str]) -> str:
    lines = [f"i{k} {n}" for k, n in enumerate(inputs)]
    lines += [f"o{k} {o}" for k, (o, _l) in enumerate(outputs)]
    lines.append("c")
    lines.append("written by threshnet")
    lines += _rename_block(mapping)
    return "\n".join(lines) + "\n"


def _write_aag(spec: Spec) -> str:
    inputs, outputs, ands, mapping, m = _aiger(spec)
    lines = [f"aag {m} {len(inputs)} 0 {len(outputs)} {len(ands)}"]
    lines += [str(2 * (k + 1)) for k in range(len(inputs))]
    lines += [str(l) for _o, l in outputs]
    lines += [f"{a} {b} {c}" for a, b, c in ands]
    return "\n".join(lines) + "\n" + _aiger_tail(inputs, outputs, mapping)


def _varint(x: int, out: bytearray) -> None:
    while x >= 0x80:
        out.append((x & 0x7F) | 0x80)
        x >>= 7
    out.append(x)


def _write_aig(spec: Spec) -> bytes:
    inputs, outputs, ands, mapping, m = _aiger(spec)
    head = f"aig {m} {len(inputs)} 0 {len(outputs)} {len(ands)}\n"
    head += "".join(f"{l}\n" for _o, l in outputs)
    body = bytearray()
    for lhs, a, b in ands:  # a >= b, both below lhs: the builder creates fan-ins first
        _varint(lhs - a, body)
        _varint(a - b, body)
    return head.encode("ascii") + bytes(body) + _aiger_tail(inputs, outputs, mapping).encode("utf-8")


# -- entry points ---------------------------------------------------------------------------------------
_WRITERS: dict[str, Callable[[Spec], str | bytes]] = {
    "bool": _write_bool,
    "blif": _write_blif,
    "aag": _write_aag,
    "aig": _write_aig,
}


def _format(format: str, filename: str = "<output>") -> str:
    fmt = format.lower().lstrip(".")
    if fmt not in WRITE_FORMATS:
        known = ", ".join("." + f for f in WRITE_FORMATS)
        raise SpecError(f"cannot write format '{fmt}'; writable formats: {known}", filename=filename)
    return fmt


def write_text(spec: Spec, format: str) -> str | bytes:
    """``spec`` as the text of ``format`` (see :data:`WRITE_FORMATS`); binary ``"aig"`` is ``bytes``."""
    return _WRITERS[_format(format)](spec)


def write(spec: Spec, path: str | os.PathLike[str], format: str | None = None) -> None:
    """Write ``spec`` to ``path``; ``format`` defaults to the path's extension."""
    filename = os.fspath(path)
    if format is None:
        ext = os.path.splitext(filename)[1].lower()
        if not ext:
            raise SpecError(
                "no extension to choose the output format by; writable formats: "
                + ", ".join("." + f for f in WRITE_FORMATS),
                filename=filename,
            )
        format = ext
    data = _WRITERS[_format(format, filename)](spec)
    try:
        if isinstance(data, bytes):
            with open(filename, "wb") as f:
                f.write(data)
        else:
            with open(filename, "w", encoding="utf-8", newline="\n") as f:
                f.write(data)
    except OSError as e:
        raise SpecError(f"cannot write file: {e.strerror or e}", filename=filename) from None
