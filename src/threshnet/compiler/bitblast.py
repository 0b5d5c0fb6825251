"""Stage 1c, bitblast: a :class:`~threshnet.compiler.words.WordSpec` to the bit-level :class:`Spec`.

This is the *reference* lowering: every word operator becomes plain AND / OR /
XOR / NOT logic by the textbook construction, one function per operator in
:data:`BITBLAST` (``(node, operand bits) -> result bits``, bits LSB first):

* ``add``: a ripple-carry adder per operand, every operand zero-extended to the
  node's width and the carry out of the top bit dropped (so the result is the
  sum mod ``2**width``, which is the word semantics);
* ``sub``: ``a + ~b + 1`` in the node's width (two's complement);
* ``mul``: shift-and-add (an array multiplier), truncated to the width;
* ``lt``/``le``/``gt``/``ge``: the carry out of ``a + ~b + 1`` over
  ``max(wa, wb)`` bits is ``a >= b``; ``eq``/``ne``: AND of XNORs;
* ``popcount``/``atleast``: a balanced tree of ripple adders counts the bits,
  then ``>=`` as above; ``th``: ripple sums of the positive and of the negative
  weighted terms, compared the same way;
* ``mux``: ``c & x | ~c & y`` per bit; ``min``/``max``: ``mux`` on ``lt``.

Constants fold as they are built (``x & 0 = 0``, ``x ^ 1 = ~x``, ...), which is
plain algebra.  The result is a :class:`Spec` whose ports are the words' bits
(``a[0], ..., a[7]`` for a vector ``a[8]``, ``cin`` for a scalar), in port
order, with ``spec.words`` set.  Every node the source named (``t = ...``)
becomes one assignment per bit; a node read more than once becomes
assignments to fresh names (``_n12[3]``) so that no expression is copied.
Everything is a loop over the nodes (no recursion).
"""

from __future__ import annotations

from typing import Callable, Sequence

from .spec import AND, OR, XOR, Assign, BinOp, Const, Expr, Name, Not, Spec
from .words import WNode, WordSpec, bit_names

__all__ = ["BITBLAST", "bitblast"]

Bits = list[Expr]
ZERO, ONE = 0, 1


def _c(v: int) -> Const:
    return Const(v)


def _val(e: Expr) -> int | None:
    return e.value if isinstance(e, Const) else None


def NOT(a: Expr) -> Expr:
    v = _val(a)
    if v is not None:
        return _c(1 - v)
    if isinstance(a, Not):
        return a.operand
    return Not(a)


def AND2(a: Expr, b: Expr) -> Expr:
    va, vb = _val(a), _val(b)
    if va == 0 or vb == 0:
        return _c(0)
    if va == 1:
        return b
    if vb == 1:
        return a
    return BinOp(AND, a, b)


def OR2(a: Expr, b: Expr) -> Expr:
    va, vb = _val(a), _val(b)
    if va == 1 or vb == 1:
        return _c(1)
    if va == 0:
        return b
    if vb == 0:
        return a
    return BinOp(OR, a, b)


def XOR2(a: Expr, b: Expr) -> Expr:
    va, vb = _val(a), _val(b)
    if va is not None and vb is not None:
        return _c(va ^ vb)
    if va is not None:
        return b if va == 0 else NOT(b)
    if vb is not None:
        return a if vb == 0 else NOT(a)
    return BinOp(XOR, a, b)


def _pad(bits: Sequence[Expr], width: int) -> Bits:
    """``bits`` zero-extended or truncated to ``width``."""
    out = list(bits[:width])
    out.extend(_c(0) for _ in range(width - len(out)))
    return out


def _ripple(a: Sequence[Expr], b: Sequence[Expr], width: int, cin: Expr | None = None) -> tuple[Bits, Expr]:
    """``a + b + cin`` over ``width`` bits: the sum bits and the carry out."""
    a, b = _pad(a, width), _pad(b, width)
    c: Expr = cin if cin is not None else _c(0)
    out: Bits = []
    for x, y in zip(a, b):
        p = XOR2(x, y)
        out.append(XOR2(p, c))
        c = OR2(AND2(x, y), AND2(c, p))
    return out, c


def _ge(a: Sequence[Expr], b: Sequence[Expr]) -> Expr:
    """``a >= b`` (unsigned): the carry out of ``a + ~b + 1``."""
    n = max(len(a), len(b))
    _, carry = _ripple(_pad(a, n), [NOT(x) for x in _pad(b, n)], n, _c(1))
    return carry


def _eq(a: Sequence[Expr], b: Sequence[Expr]) -> Expr:
    n = max(len(a), len(b))
    acc: Expr = _c(1)
    for x, y in zip(_pad(a, n), _pad(b, n)):
        acc = AND2(acc, NOT(XOR2(x, y)))
    return acc


def _count(bits: Sequence[Expr], width: int) -> Bits:
    """The number of 1s among ``bits``, over ``width`` bits: a balanced tree of exact ripple adders.

    Each level adds neighbours pairwise, every sum one bit wider than its wider operand (so
    nothing overflows), and the total is zero-extended or truncated to ``width`` at the end.
    """
    level: list[Bits] = [[x] for x in bits]
    while len(level) > 1:
        nxt: list[Bits] = []
        for k in range(0, len(level) - 1, 2):
            a, b = level[k], level[k + 1]
            w = max(len(a), len(b))
            total, carry = _ripple(a, b, w)
            nxt.append(total + [carry])
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return _pad(level[0] if level else [], width)


def _mux(c: Expr, x: Sequence[Expr], y: Sequence[Expr], width: int) -> Bits:
    return [OR2(AND2(c, p), AND2(NOT(c), q)) for p, q in zip(_pad(x, width), _pad(y, width))]


def _number(v: int, width: int) -> Bits:
    return [_c((v >> i) & 1) for i in range(width)]


def _bitwise(f: Callable[[Expr, Expr], Expr]) -> Callable[[WNode, list[Bits]], Bits]:
    def run(n: WNode, a: list[Bits]) -> Bits:
        acc = _pad(a[0], n.width)
        for x in a[1:]:
            acc = [f(p, q) for p, q in zip(acc, _pad(x, n.width))]
        return acc
    return run


def _add(n: WNode, a: list[Bits]) -> Bits:
    acc = _pad(a[0], n.width)
    for x in a[1:]:
        acc, _ = _ripple(acc, x, n.width)
    return acc


def _sub(n: WNode, a: list[Bits]) -> Bits:
    return _ripple(a[0], [NOT(x) for x in _pad(a[1], n.width)], n.width, _c(1))[0]


def _mul(n: WNode, a: list[Bits]) -> Bits:
    acc = _pad([], n.width)
    x = _pad(a[0], n.width)
    for j, y in enumerate(a[1][: n.width]):
        partial = _pad([_c(0)] * j + [AND2(p, y) for p in x], n.width)
        acc, _ = _ripple(acc, partial, n.width)
    return acc


def _compare(op: str) -> Callable[[WNode, list[Bits]], Bits]:
    def run(n: WNode, a: list[Bits]) -> Bits:
        x, y = a
        r = {"ge": lambda: _ge(x, y), "lt": lambda: NOT(_ge(x, y)), "le": lambda: _ge(y, x),
             "gt": lambda: NOT(_ge(y, x)), "eq": lambda: _eq(x, y), "ne": lambda: NOT(_eq(x, y))}[op]()
        return [r]
    return run


def _all_bits(a: list[Bits]) -> Bits:
    return [x for bits in a for x in bits]


def _atleast(n: WNode, a: list[Bits]) -> Bits:
    bits = _all_bits(a)
    k = n.params[0]
    if k <= 0:
        return [_c(1)]
    if k > len(bits):
        return [_c(0)]
    w = len(bits).bit_length()
    return [_ge(_count(bits, w), _number(k, w))]


def _parity(n: WNode, a: list[Bits]) -> Bits:
    acc: Expr = _c(0)
    for x in _all_bits(a):
        acc = XOR2(acc, x)
    return [acc]


def _th(n: WNode, a: list[Bits]) -> Bits:
    """``sum(w_i x_i) >= t`` as ``P >= N + t`` (or ``P + |t| >= N``) with P, N the positive and negative sums."""
    weights, t = n.params
    pos = [(w, x[0]) for w, x in zip(weights, a) if w > 0]
    neg = [(-w, x[0]) for w, x in zip(weights, a) if w < 0]
    width = (sum(w for w, _ in pos) + sum(w for w, _ in neg) + abs(t)).bit_length() + 1

    def total(terms: list[tuple[int, Expr]], extra: int) -> Bits:
        acc = _number(extra, width)
        for w, x in terms:
            acc, _ = _ripple(acc, [AND2(b, x) for b in _number(w, width)], width)
        return acc

    if t >= 0:
        return [_ge(total(pos, 0), total(neg, t))]
    return [_ge(total(pos, -t), total(neg, 0))]


def _slice(n: WNode, a: list[Bits]) -> Bits:
    hi, lo = n.params
    return a[0][lo: hi + 1]


def _concat(n: WNode, a: list[Bits]) -> Bits:
    return [x for bits in reversed(a) for x in bits]


def _minmax(n: WNode, a: list[Bits]) -> Bits:
    x, y = a
    lt = NOT(_ge(x, y))
    return _mux(lt, x, y, n.width) if n.op == "min" else _mux(lt, y, x, n.width)


#: One bit-level construction per word operator (``input`` is handled by :func:`bitblast`).
BITBLAST: dict[str, Callable[[WNode, list[Bits]], Bits]] = {
    "const": lambda n, a: _number(n.params[0], n.width),
    "zext": lambda n, a: _pad(a[0], n.width),
    "slice": _slice,
    "concat": _concat,
    "not": lambda n, a: [NOT(x) for x in a[0]],
    "and": _bitwise(AND2),
    "or": _bitwise(OR2),
    "xor": _bitwise(XOR2),
    "add": _add,
    "sub": _sub,
    "mul": _mul,
    "shl": lambda n, a: _pad([_c(0)] * n.params[0] + a[0], n.width),
    "shr": lambda n, a: _pad(a[0][n.params[0]:], n.width),
    **{op: _compare(op) for op in ("lt", "le", "gt", "ge", "eq", "ne")},
    "mux": lambda n, a: _mux(a[0][0], a[1], a[2], n.width),
    "min": _minmax,
    "max": _minmax,
    "popcount": lambda n, a: _count(_all_bits(a), n.width),
    "atleast": _atleast,
    "parity": _parity,
    "th": _th,
}


def bitblast(ws: WordSpec) -> Spec:
    """The bit-level spec of ``ws`` (see the module docstring), with ``words`` set to ``ws``."""
    out_port = {i: p for p, i in ws.outputs}
    uses = [0] * len(ws.nodes)
    for n in ws.nodes:
        for j in n.args:
            uses[j] += 1
    taken = {b for p in ws.inputs for b in p.bits} | {b for p, _ in ws.outputs for b in p.bits}
    taken |= {n.name for n in ws.nodes if n.name}
    bits: list[Bits] = []
    assigns: list[Assign] = []
    for i, n in enumerate(ws.nodes):
        if n.op == "input":
            bits.append([Name(b) for b in ws.inputs[n.params[0]].bits])
            continue
        value = BITBLAST[n.op](n, [bits[j] for j in n.args])
        assert len(value) == n.width, (n, len(value))
        names: tuple[str, ...] | None = None
        if i in out_port:
            names = out_port[i].bits
        elif n.name:
            names = bit_names(n.name, n.width, n.width > 1)
        elif uses[i] > 1 and not all(isinstance(x, (Name, Const)) for x in value):
            base = f"_n{i}"
            while any(b in taken for b in bit_names(base, n.width, True)) or base in taken:
                base = "_" + base
            names = bit_names(base, n.width, n.width > 1)
        if names is not None:
            for nm, e in zip(names, value):
                assigns.append(Assign(nm, e))
            value = [Name(nm) for nm in names]
        bits.append(value)
    outputs = tuple(b for p, _ in ws.outputs for b in p.bits)
    done = {a.target for a in assigns}
    for p, i in ws.outputs:  # an output node that is also another output: copy its bits
        for nm, e in zip(p.bits, bits[i]):
            if nm not in done:
                assigns.append(Assign(nm, e))
                done.add(nm)
    inputs = tuple(b for p in ws.inputs for b in p.bits)
    return Spec(inputs, outputs, tuple(assigns), ws.filename, ws.source, ws)
