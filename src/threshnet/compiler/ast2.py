"""The v2 spec AST: the nodes the v2 language adds to the v1 expression nodes.

A parsed v2 program mixes the v1 nodes of :mod:`~threshnet.compiler.spec`
(``Name``, ``Const`` for the literals ``0`` and ``1``, ``Not``, ``BinOp`` for
``& ^ |``) with the nodes here (numbers, slices, concatenation, calls, ``?:``,
arithmetic and comparisons).  A program that uses none of the v2 nodes and
statements is a v1 program and is checked by the v1 analysis unchanged.

Nodes are frozen and compare by identity; :func:`children2` lists a node's
operands so that every walk (elaboration, rendering) is an explicit-stack loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Union

from .errors import Span
from .spec import BinOp, Const, Name, Not, _Node

#: v2 binary operators: source symbol -> word IR operator.
BINARY = {"*": "mul", "+": "add", "-": "sub", "<<": "shl", ">>": "shr", "<": "lt", "<=": "le", ">": "gt",
          ">=": "ge", "==": "eq", "!=": "ne"}
SYMBOL = {v: k for k, v in BINARY.items()}


@dataclass(frozen=True, eq=False, slots=True)
class Num(_Node):
    """A number other than the v1 literals ``0`` and ``1``; ``text`` is how it was written."""

    value: int
    text: str
    span: Span | None = field(default=None)


@dataclass(frozen=True, eq=False, slots=True)
class Arith(_Node):
    """``left op right`` for an operator of :data:`BINARY` (``op`` is the word IR name)."""

    op: str
    left: "Expr2"
    right: "Expr2"
    span: Span | None = field(default=None)


@dataclass(frozen=True, eq=False, slots=True)
class Index(_Node):
    """``base[bit]``."""

    base: "Expr2"
    bit: int
    span: Span | None = field(default=None)


@dataclass(frozen=True, eq=False, slots=True)
class Slice(_Node):
    """``base[hi:lo]`` (inclusive)."""

    base: "Expr2"
    hi: int
    lo: int
    span: Span | None = field(default=None)


@dataclass(frozen=True, eq=False, slots=True)
class Concat(_Node):
    """``{p1, ..., pk}``, ``p1`` most significant."""

    parts: tuple["Expr2", ...]
    span: Span | None = field(default=None)


@dataclass(frozen=True, eq=False, slots=True)
class Cond(_Node):
    """``c ? x : y``."""

    cond: "Expr2"
    then: "Expr2"
    other: "Expr2"
    span: Span | None = field(default=None)


@dataclass(frozen=True, eq=False, slots=True)
class Call(_Node):
    """``name(args...)``; ``name_span`` covers the function name."""

    name: str
    args: tuple["Expr2", ...]
    span: Span | None = field(default=None)
    name_span: Span | None = field(default=None)


Expr2 = Union[Const, Name, Not, BinOp, Num, Arith, Index, Slice, Concat, Cond, Call]


def children2(e: Expr2) -> tuple[Expr2, ...]:
    """The operands of ``e``, in source order."""
    if isinstance(e, (BinOp, Arith)):
        return (e.left, e.right)
    if isinstance(e, Not):
        return (e.operand,)
    if isinstance(e, (Index, Slice)):
        return (e.base,)
    if isinstance(e, Concat):
        return e.parts
    if isinstance(e, Cond):
        return (e.cond, e.then, e.other)
    if isinstance(e, Call):
        return e.args
    return ()


def names_read2(e: Expr2) -> Iterator[Name]:
    """``Name`` nodes in ``e``, left to right (function names of calls are not names)."""
    stack: list[Expr2] = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, Name):
            yield node
        else:
            stack.extend(reversed(children2(node)))


@dataclass(frozen=True)
class Decl:
    """One declared port or parameter: ``name`` or ``name[width]`` (``vector``)."""

    name: str
    width: int
    vector: bool
    span: Span


@dataclass(frozen=True)
class Target:
    """An assignment target: ``name``, ``name[hi]`` (``hi == lo``) or ``name[hi:lo]``; ``part`` when indexed."""

    name: str
    hi: int | None
    lo: int | None
    span: Span

    @property
    def part(self) -> bool:
        return self.hi is not None

    def text(self) -> str:
        if self.hi is None:
            return self.name
        return f"{self.name}[{self.hi}]" if self.hi == self.lo else f"{self.name}[{self.hi}:{self.lo}]"


@dataclass(frozen=True)
class Assign2:
    """``t1, ..., tk = expr`` (``k > 1`` only for a call of a function with ``k`` results)."""

    targets: tuple[Target, ...]
    expr: Expr2
    span: Span


@dataclass(frozen=True)
class PortDecl:
    """An ``input`` or ``output`` statement."""

    kind: str
    decls: tuple[Decl, ...]


@dataclass(frozen=True)
class FuncDef:
    """``def name(params) -> results`` ... ``end``."""

    name: str
    params: tuple[Decl, ...]
    results: tuple[Decl, ...]
    body: tuple[Assign2, ...]
    span: Span


Stmt = Union[PortDecl, Assign2, FuncDef]
