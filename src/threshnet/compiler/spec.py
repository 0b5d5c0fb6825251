"""The spec AST: expressions with source spans, assignments and the ``Spec`` value.

Every walker here is iterative, so expressions nested 50,000 deep are fine.
Nodes compare by identity; use :func:`expr_equal` / ``Spec.__eq__`` for
structural equality (spans ignored).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Union

from .errors import DEFAULT_FILENAME, Span

#: Binary operators, tightest first.  NOT binds tighter than all of them.
AND, XOR, OR = "and", "xor", "or"
OPERATORS = (AND, XOR, OR)
OP_SYMBOL = {AND: "&", XOR: "^", OR: "|"}
OP_PRECEDENCE = {OR: 1, XOR: 2, AND: 3}  # higher binds tighter
NOT_PRECEDENCE = 4
KEYWORDS = frozenset({"input", "output"})


@dataclass(frozen=True, eq=False, slots=True)
class Const:
    value: int
    span: Span | None = field(default=None)

    def __repr__(self) -> str:
        return f"Const({self.value})"


@dataclass(frozen=True, eq=False, slots=True)
class Name:
    id: str
    span: Span | None = field(default=None)

    def __repr__(self) -> str:
        return f"Name({self.id!r})"


@dataclass(frozen=True, eq=False, slots=True)
class Not:
    operand: "Expr"
    span: Span | None = field(default=None)

    def __repr__(self) -> str:
        return f"Not({render_expr(self, limit=60)})"


@dataclass(frozen=True, eq=False, slots=True)
class BinOp:
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
    """Spec text that parses back to an equal spec (ports declared explicitly)."""
    lines: list[str] = []
    if spec.inputs:
        lines.append("input " + ", ".join(spec.inputs))
    lines.append("output " + ", ".join(spec.outputs))
    for a in spec.assignments:
        lines.append(f"{a.target} = {render_expr(a.expr)}")
    return "\n".join(lines) + "\n"


def assignment_order(spec: Spec) -> list[Assign]:
    """Assignments with every assigned name before its readers (iterative)."""
    by_name = {a.target: a for a in spec.assignments}
    done: set[str] = set()
    order: list[Assign] = []
    for a in spec.assignments:
        if a.target in done:
            continue
        stack: list[tuple[Assign, Iterator[Name]]] = [(a, names_read(a.expr))]
        done.add(a.target)
        while stack:
            cur, it = stack[-1]
            for n in it:
                dep = by_name.get(n.id)
                if dep is not None and dep.target not in done:
                    done.add(dep.target)
                    stack.append((dep, names_read(dep.expr)))
                    break
            else:
                stack.pop()
                order.append(cur)
    return order
