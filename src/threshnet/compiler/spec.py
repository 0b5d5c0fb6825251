"""The spec AST: expressions with source spans, assignments and the ``Spec`` value.

Every walker here is iterative, so expressions nested 100,000 deep are fine.
Nodes compare by identity; use :func:`expr_equal` / ``Spec.__eq__`` for
structural equality (spans ignored).

One walk
--------
:func:`fold` is the one postorder walk over a spec: it visits the
assignments in dependency order (:func:`assignment_order`) and each
expression's nodes after their operands, and computes a value per node with
three callbacks (``const``, ``unary``, ``binary``; a ``Name`` takes the value
of its input or assignment).  A node object reached twice (a netlist reader
may share subexpressions) is computed once, from a memo keyed by identity.
The evaluator, the lowering and the prover's spec encoding are all folds, so
they read the spec the same way by construction.

No recursion in copies either
-----------------------------
The default ``pickle`` and ``copy.deepcopy`` recurse once per tree level, so
an expression ``i0 & i1 & ... & i244`` used to overflow Python's stack in
``torch.save(net)`` and ``copy.deepcopy(net)`` (a ``ThreshNet`` holds its
``Spec``).  Every node, ``Assign`` and ``Spec`` therefore defines:

* ``__deepcopy__`` / ``__copy__`` returning itself: they are frozen, and
  every field is immutable (str, int, tuple, frozen ``Span``), so the value
  *is* its own deep copy;
* ``__reduce__``: the expressions are packed by :func:`fold_expr` into one
  postorder table (each shared node once) of integer arrays: four ints per
  node (kind, payload, child indices), four per span, the names as one
  string and their lengths, and rebuilt by a loop over that table.  So the
  pickle is flat whatever the depth, sharing is kept, and it is a handful of
  objects, not several per node (``torch.save`` calls its ``persistent_id``
  hook once per object: millions for a 100k-gate netlist).  Pickles of the
  earlier table of row tuples still load (``_rebuild_spec``).
"""

from __future__ import annotations

import sys
from array import array
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterator, Mapping, TypeVar, Union

from .errors import DEFAULT_FILENAME, Span
from .gcpause import without_gc

if TYPE_CHECKING:
    from .words import WordSpec

#: Binary operators, tightest first.  NOT binds tighter than all of them.
AND, XOR, OR = "and", "xor", "or"
OPERATORS = (AND, XOR, OR)
OP_SYMBOL = {AND: "&", XOR: "^", OR: "|"}
OP_PRECEDENCE = {OR: 1, XOR: 2, AND: 3}  # higher binds tighter
NOT_PRECEDENCE = 4
KEYWORDS = frozenset({"input", "output"})


class _Node:
    """Expression nodes are immutable: a copy is the node itself, and pickling
    flattens the whole tree into one table (no recursion, shared nodes stay shared)."""

    __slots__ = ()

    def __reduce__(self):
        strings = _Strings()
        table = _pack((self,), strings)
        return _unpack_expr, (strings.packed(), table)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


@dataclass(frozen=True, eq=False, slots=True)
class Const(_Node):
    value: int
    span: Span | None = field(default=None)

    def __repr__(self) -> str:
        return f"Const({self.value})"


@dataclass(frozen=True, eq=False, slots=True)
class Name(_Node):
    id: str
    span: Span | None = field(default=None)

    def __repr__(self) -> str:
        return f"Name({self.id!r})"


@dataclass(frozen=True, eq=False, slots=True)
class Not(_Node):
    operand: "Expr"
    span: Span | None = field(default=None)

    def __repr__(self) -> str:
        return f"Not({render_expr(self, limit=60)})"


@dataclass(frozen=True, eq=False, slots=True)
class BinOp(_Node):
    op: str
    left: "Expr"
    right: "Expr"
    span: Span | None = field(default=None)

    def __repr__(self) -> str:
        return f"BinOp({self.op}, {render_expr(self, limit=60)})"


Expr = Union[Const, Name, Not, BinOp]


def children(e: Expr) -> tuple[Expr, ...]:
    if isinstance(e, BinOp):
        return (e.left, e.right)
    if isinstance(e, Not):
        return (e.operand,)
    return ()


def postorder(e: Expr) -> Iterator[Expr]:
    """Yield every node after its children, without recursion."""
    stack: list[tuple[Expr, bool]] = [(e, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            yield node
            continue
        stack.append((node, True))
        for c in reversed(children(node)):
            stack.append((c, False))


def names_read(e: Expr) -> Iterator[Name]:
    """Names in ``e``, left to right."""
    stack: list[Expr] = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, Name):
            yield node
        else:
            stack.extend(reversed(children(node)))


def names_read_once(e: Expr) -> Iterator[Name]:
    """Names in ``e``, left to right, each shared node visited once (a DAG can have exponentially many paths)."""
    seen: set[int] = set()
    stack: list[Expr] = [e]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, Name):
            yield node
        else:
            stack.extend(reversed(children(node)))


def expr_equal(a: Expr, b: Expr) -> bool:
    """Structural equality, ignoring spans."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, Const):
            if x.value != y.value:
                return False
        elif isinstance(x, Name):
            if x.id != y.id:
                return False
        elif isinstance(x, Not):
            stack.append((x.operand, y.operand))
        else:
            if x.op != y.op:
                return False
            stack.append((x.left, y.left))
            stack.append((x.right, y.right))
    return True


def render_expr(e: Expr, limit: int | None = None) -> str:
    """Text for ``e`` with the fewest parentheses that keep its tree shape."""
    out: list[str] = []
    # Work items: either a node to print in a context of precedence `ctx`
    # (and whether it sits on the right of a left-associative operator), or text.
    stack: list[object] = [(e, 0, False)]
    while stack:
        if limit is not None and sum(map(len, out)) > limit:
            out.append("...")
            break
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        node, ctx, right = item  # type: ignore[misc]
        if isinstance(node, Const):
            out.append(str(node.value))
        elif isinstance(node, Name):
            out.append(node.id)
        elif isinstance(node, Not):
            out.append("~")
            stack.append((node.operand, NOT_PRECEDENCE, False))
        else:
            prec = OP_PRECEDENCE[node.op]
            paren = prec < ctx or (prec == ctx and right)
            if paren:
                out.append("(")
                stack.append(")")
            stack.append((node.right, prec, True))
            stack.append(f" {OP_SYMBOL[node.op]} ")
            stack.append((node.left, prec, False))
    return "".join(out)


@dataclass(frozen=True, eq=False, slots=True)
class Assign:
    """``target = expr``; ``span`` covers the target name."""

    target: str
    expr: Expr
    span: Span | None = None

    def __repr__(self) -> str:
        return f"Assign({self.target} = {render_expr(self.expr, limit=60)})"

    def __reduce__(self):
        strings = _Strings()
        table = _pack((self.expr,), strings)
        return _unpack_assign, (self.target, self.span, strings.packed(), table)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


@dataclass(frozen=True, eq=False)
class Spec:
    """A checked spec: ports in tensor order and assignments in source order.

    Every front end (the spec language, BLIF, AIGER, ...) produces one.
    """

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    assignments: tuple[Assign, ...]
    filename: str = DEFAULT_FILENAME
    source: str | None = field(default=None, repr=False)
    #: The word-level program this bit-level spec was elaborated from (v2 text), or None
    #: (netlists).  Not part of equality: two specs are equal when their bits are.
    words: "WordSpec | None" = field(default=None, repr=False, compare=False)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Spec):
            return NotImplemented
        return (
            self.inputs == other.inputs
            and self.outputs == other.outputs
            and len(self.assignments) == len(other.assignments)
            and all(
                a.target == b.target and expr_equal(a.expr, b.expr)
                for a, b in zip(self.assignments, other.assignments)
            )
        )

    __hash__ = object.__hash__

    def __reduce__(self):
        strings = _Strings()
        ports = (_to_bytes(array("q", map(strings, self.inputs))), _to_bytes(array("q", map(strings, self.outputs))))
        targets = array("q", [strings(a.target) for a in self.assignments])
        spans = array("q")
        for a in self.assignments:
            spans.extend(_span_ints(a.span))
        table = _pack(tuple(a.expr for a in self.assignments), strings)
        return _unpack_spec, (strings.packed(), ports, (_to_bytes(targets), _to_bytes(spans)), table, self.filename,
                              self.source, self.words)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __repr__(self) -> str:
        return (
            f"Spec(inputs={list(self.inputs)}, outputs={list(self.outputs)}, "
            f"{len(self.assignments)} assignments, filename={self.filename!r})"
        )

    @property
    def n_inputs(self) -> int:
        return len(self.inputs)

    @property
    def n_outputs(self) -> int:
        return len(self.outputs)


def render(spec: Spec) -> str:
    """Spec text that parses back to an equal spec (ports declared explicitly).

    A spec with a word program that is more than 1-bit logic (a v2 spec) is written as v2
    text by :func:`~threshnet.compiler.wordtext.render_words`; every other spec as v1 text.
    """
    if spec.words is not None and not _is_v1_words(spec.words):
        from .wordtext import render_words
        return render_words(spec.words)
    lines: list[str] = []
    if spec.inputs:
        lines.append("input " + ", ".join(spec.inputs))
    lines.append("output " + ", ".join(spec.outputs))
    for a in spec.assignments:
        lines.append(f"{a.target} = {render_expr(a.expr)}")
    return "\n".join(lines) + "\n"


def _is_v1_words(ws: "WordSpec") -> bool:
    """Scalar ports and 1-bit NOT/AND/OR/XOR logic only (copies included): what a v1 spec elaborates to."""
    return (all(not p.vector for p in ws.inputs) and all(not p.vector for p, _ in ws.outputs)
            and all(n.width == 1 and n.op in ("input", "const", "not", "and", "or", "xor", "zext")
                    for n in ws.nodes))


def assignment_order(spec: Spec) -> list[Assign]:
    """Assignments with every assigned name before its readers (iterative).

    Source order when it already is one (a parsed spec or a netlist usually is); otherwise a
    depth-first walk from each assignment in source order.  Remembered on the spec (it is frozen).
    """
    cached = spec.__dict__.get("_assignment_order")
    if cached is not None:
        return list(cached)
    by_name = {a.target: a for a in spec.assignments}
    defined: set[str] = set()
    for a in spec.assignments:
        if any(n.id in by_name and n.id not in defined for n in names_read_once(a.expr)):
            order = _depth_first_order(spec.assignments, by_name)
            break
        defined.add(a.target)
    else:
        order = list(spec.assignments)
    object.__setattr__(spec, "_assignment_order", tuple(order))
    return order


def _depth_first_order(assignments: tuple[Assign, ...], by_name: dict[str, Assign]) -> list[Assign]:
    done: set[str] = set()
    order: list[Assign] = []
    for a in assignments:
        if a.target in done:
            continue
        stack: list[tuple[Assign, Iterator[Name]]] = [(a, names_read_once(a.expr))]
        done.add(a.target)
        while stack:
            cur, it = stack[-1]
            for n in it:
                dep = by_name.get(n.id)
                if dep is not None and dep.target not in done:
                    done.add(dep.target)
                    stack.append((dep, names_read_once(dep.expr)))
                    break
            else:
                stack.pop()
                order.append(cur)
    return order


# ---------------------------------------------------------------------------
# The one walk

T = TypeVar("T")


def fold_expr(
    e: Expr,
    leaf: Callable[[Const | Name], T],
    unary: Callable[[Not, T], T],
    binary: Callable[[BinOp, T, T], T],
    memo: dict[int, T] | None = None,
) -> T:
    """The value of ``e`` computed bottom-up, without recursion.

    ``leaf(node)`` gives a ``Const``'s or ``Name``'s value, ``unary(node, v)``
    a ``Not``'s, ``binary(node, l, r)`` a ``BinOp``'s.  Each node object is
    computed once; ``memo`` (``id(node) -> value``) may be shared between
    calls whose nodes stay alive, as :func:`fold` does.
    """
    memo = {} if memo is None else memo
    if id(e) in memo:
        return memo[id(e)]
    # The stack holds nodes whose value is pending; the top one is computed once its operands are,
    # else its first pending operand goes on top (left before right).  A leaf operand is computed
    # where it is met, without a push.  A node is pushed only while it has no value, and every node
    # above it on the stack is one of its operands' operands (acyclic), so none of them can give it
    # one: a node is never pushed twice, and the top never has a value yet.
    stack: list[Expr] = [e]
    push, pop, _id = stack.append, stack.pop, id
    while stack:
        node = stack[-1]
        cls = type(node)
        if cls is BinOp:
            a = node.left
            ka = _id(a)
            if ka not in memo:
                t = type(a)
                if t is BinOp or t is Not:
                    push(a)
                    continue
                memo[ka] = leaf(a)
            b = node.right
            kb = _id(b)
            if kb not in memo:
                t = type(b)
                if t is BinOp or t is Not:
                    push(b)
                    continue
                memo[kb] = leaf(b)
            pop()
            memo[_id(node)] = binary(node, memo[ka], memo[kb])
        elif cls is Not:
            a = node.operand
            ka = _id(a)
            if ka not in memo:
                t = type(a)
                if t is BinOp or t is Not:
                    push(a)
                    continue
                memo[ka] = leaf(a)
            pop()
            memo[_id(node)] = unary(node, memo[ka])
        else:
            pop()
            memo[_id(node)] = leaf(node)
    return memo[id(e)]


@without_gc
def fold(
    spec: Spec,
    inputs: Mapping[str, T],
    const: Callable[[int], T],
    unary: Callable[[T], T],
    binary: Callable[[str, T, T], T],
    on_assign: Callable[[Assign, T], None] | None = None,
) -> dict[str, T]:
    """Every signal's value: ``inputs`` (a value per input), then each assignment in dependency order.

    ``const(0 or 1)``, ``unary(v)`` (NOT) and ``binary(op, l, r)`` (``op`` in
    :data:`OPERATORS`) compute the values; operands come first (postorder)
    and left before right; a ``Name`` reads the value of its input or
    assignment.  ``on_assign(a, v)`` is told each assignment's value as it is
    made.  Returns the values of the inputs and of every assigned name.
    """
    env: dict[str, T] = dict(inputs)
    memo: dict[int, T] = {}

    def leaf(node: Const | Name) -> T:
        return env[node.id] if isinstance(node, Name) else const(node.value)

    def un(node: Not, v: T) -> T:
        return unary(v)

    def bi(node: BinOp, l: T, r: T) -> T:
        return binary(node.op, l, r)

    for a in assignment_order(spec):
        v = env[a.target] = fold_expr(a.expr, leaf, un, bi, memo)
        if on_assign is not None:
            on_assign(a, v)
    return env


# ---------------------------------------------------------------------------
# Packed tables for pickle (see the module docstring)

_CONST, _NAME, _NOT, _BINOP = 0, 1, 2, 3
_NO_SPAN = (-1, -1, -1, -1)
Packed = tuple[bytes, bytes, bytes]  # int64s: 4 per node (kind, payload, i, j), 4 per span, the roots' nodes


class _Strings:
    """Distinct strings, numbered in order of first use; packed as one string and the lengths."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.items: list[str] = []

    def __call__(self, s: str) -> int:
        i = self.index.get(s)
        if i is None:
            i = self.index[s] = len(self.items)
            self.items.append(s)
        return i

    def packed(self) -> tuple[str, bytes]:
        return "".join(self.items), _to_bytes(array("q", map(len, self.items)))


def _to_bytes(a: array) -> bytes:
    """An int64 array as little-endian bytes: one pickled object at every protocol (``torch.save``'s
    protocol 2 pickles an ``array`` as a list of its ints)."""
    if sys.byteorder == "big":
        a = array("q", a)
        a.byteswap()
    return a.tobytes()


def _from_bytes(b: bytes) -> array:
    a = array("q")
    a.frombytes(b)
    if sys.byteorder == "big":
        a.byteswap()
    return a


def _unstrings(packed: tuple[str, bytes]) -> list[str]:
    text, lengths = packed
    out, pos = [], 0
    for n in _from_bytes(lengths):
        out.append(text[pos:pos + n])
        pos += n
    return out


def _span_ints(s: Span | None) -> tuple[int, int, int, int]:
    return _NO_SPAN if s is None else (s.line, s.column, s.end_line, s.end_column)


def _span_of(line: int, column: int, end_line: int, end_column: int) -> Span | None:
    return None if line < 0 else Span(line, column, end_line, end_column)


_OP_CODE = {op: k for k, op in enumerate(OPERATORS)}


@without_gc
def _pack(roots: tuple[Expr, ...], strings: _Strings) -> Packed:
    """Every node reachable from ``roots`` (each once, in postorder) as integer arrays: per node its
    kind, payload (a ``Name``'s string number, a ``Const``'s value, a ``BinOp``'s operator number)
    and operand nodes (-1 when absent), and its span; then each root's node."""
    code, spans = array("q"), array("q")

    def add(kind: int, payload: int, i: int, j: int, span: Span | None) -> int:
        code.extend((kind, payload, i, j))
        spans.extend(_span_ints(span))
        return len(code) // 4 - 1

    def leaf(n: Const | Name) -> int:
        if type(n) is Name:
            return add(_NAME, strings(n.id), -1, -1, n.span)
        return add(_CONST, int(n.value), -1, -1, n.span)

    memo: dict[int, int] = {}
    heads = [fold_expr(r, leaf, lambda n, i: add(_NOT, 0, i, -1, n.span),
                       lambda n, i, j: add(_BINOP, _OP_CODE[n.op], i, j, n.span), memo) for r in roots]
    return _to_bytes(code), _to_bytes(spans), _to_bytes(array("q", heads))


@without_gc
def _unpack(names: list[str], table: Packed) -> list[Expr]:
    """The roots of a :func:`_pack` table (``names``: the strings it numbers)."""
    code, spans, heads = map(_from_bytes, table)
    c, s = iter(code), iter(spans)
    nodes: list[Expr] = []
    for (kind, payload, i, j), sp in zip(zip(c, c, c, c), zip(s, s, s, s)):
        span = _span_of(*sp)
        if kind == _BINOP:
            nodes.append(BinOp(OPERATORS[payload], nodes[i], nodes[j], span))
        elif kind == _NOT:
            nodes.append(Not(nodes[i], span))
        elif kind == _NAME:
            nodes.append(Name(names[payload], span))
        else:
            nodes.append(Const(payload, span))
    return [nodes[i] for i in heads]


def _unpack_expr(strings: tuple[str, bytes], table: Packed) -> Expr:
    return _unpack(_unstrings(strings), table)[0]


def _unpack_assign(target: str, span: Span | None, strings: tuple[str, bytes], table: Packed) -> Assign:
    return Assign(target, _unpack(_unstrings(strings), table)[0], span)


def _unpack_spec(strings: tuple[str, bytes], ports: tuple[bytes, bytes], heads: tuple[bytes, bytes],
                 table: Packed, filename: str, source: str | None, words: "WordSpec | None" = None) -> Spec:
    names = _unstrings(strings)
    targets, spans = map(_from_bytes, heads)
    s = iter(spans)
    assigns = tuple(Assign(names[t], e, _span_of(*sp))
                    for t, e, sp in zip(targets, _unpack(names, table), zip(s, s, s, s)))
    ins, outs = map(_from_bytes, ports)
    return Spec(tuple(names[i] for i in ins), tuple(names[i] for i in outs), assigns, filename, source, words)


# The table of row tuples that pickles made before the packed table (their loads still work).

Row = tuple  # (_CONST, value, span) | (_NAME, id, span) | (_NOT, span, i) | (_BINOP, op, span, i, j)


@without_gc
def _rebuild(table: tuple[tuple[Row, ...], tuple[int, ...]]) -> list[Expr]:
    rows, roots = table
    nodes: list[Expr] = []
    for row in rows:
        kind = row[0]
        if kind == _BINOP:
            nodes.append(BinOp(row[1], nodes[row[3]], nodes[row[4]], row[2] and Span(*row[2])))
        elif kind == _NOT:
            nodes.append(Not(nodes[row[2]], row[1] and Span(*row[1])))
        elif kind == _NAME:
            nodes.append(Name(row[1], row[2] and Span(*row[2])))
        else:
            nodes.append(Const(row[1], row[2] and Span(*row[2])))
    return [nodes[i] for i in roots]


def _rebuild_expr(table: tuple[tuple[Row, ...], tuple[int, ...]]) -> Expr:
    return _rebuild(table)[0]


def _rebuild_assign(target: str, span: Span | None, table: tuple[tuple[Row, ...], tuple[int, ...]]) -> Assign:
    return Assign(target, _rebuild(table)[0], span)


def _rebuild_spec(inputs: tuple[str, ...], outputs: tuple[str, ...], heads: tuple[tuple[str, Span | None], ...],
                  table: tuple[tuple[Row, ...], tuple[int, ...]], filename: str, source: str | None,
                  words: "WordSpec | None" = None) -> Spec:
    exprs = _rebuild(table)
    return Spec(inputs, outputs, tuple(Assign(t, e, sp) for (t, sp), e in zip(heads, exprs)), filename, source,
                words)
