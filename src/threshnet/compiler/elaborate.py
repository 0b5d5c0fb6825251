"""Stage 1b, elaborate: a parsed v2 program to a :class:`~threshnet.compiler.words.WordSpec`.

What it does
------------
1. Collects the ``def`` functions, the port declarations and the assignments,
   refusing second definitions and declarations in file order.
2. Checks each scope (the top level, and each function body once) with the
   shared :func:`~threshnet.compiler.validate.validate`: every name read is
   defined, no combinational loop, at least one output.  A vector assigned
   bit by bit (``s[0] = ...``) is one signal per assigned part, so
   ``s[1] = s[0] & a`` is no loop; every bit must be assigned exactly once.
3. Walks the assignments in dependency order and turns every expression into
   SSA word nodes, fixing each node's width by the width rules of
   docs/language.md (``+``/``-``: ``max(wa, wb) + 1``, ``*``: ``wa + wb``,
   ``& ^ |`` and ``?:``: the wider operand, the narrower zero-extended, ...).
   A function call is expanded in place: its body is elaborated again with
   its parameters bound to the argument nodes.

Soundness: every word operator has exactly the integer meaning of the
language's operator (``evaluate_words`` is the word oracle), and no width
rule drops a bit silently: a value wider than the place it is assigned to
(a declared port, a parameter, a result) is an error naming both widths;
only explicit slices drop bits.  Expressions are walked with an explicit
stack (100,000-deep nesting is fine); only function expansion recurses, once
per nested *function* (and recursion between functions is an error).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

from .ast2 import Arith, Assign2, Call, Concat, Cond, Decl, Expr2, FuncDef, Index, Num, PortDecl, Slice, Target
from .ast2 import children2
from .errors import Span, SpecError
from .spec import AND, OR, XOR, BinOp, Const, Name, Not, Spec, assignment_order, fold_expr
from .validate import SPEC_WORDS, Driver, Wording, validate
from .words import Port, WNode, WordSpec, verify_words

__all__ = ["BUILTINS", "MAX_CALL_DEPTH", "MAX_WIDTH", "elaborate", "words_of_v1"]

#: Built-in functions (a user function cannot take these names).
BUILTINS = ("maj", "atleast", "popcount", "and", "or", "xor", "min", "max", "th")
#: The widest value the language makes (bits); wider is refused rather than bit-blasted.
MAX_WIDTH = 1 << 16
#: How deep function calls may nest (each level is a few Python frames: expansion recurses per function).
MAX_CALL_DEPTH = 100


def _min_width(v: int) -> int:
    return max(1, v.bit_length())


@dataclass
class _Nodes:
    """The SSA node list under construction."""

    ops: list[WNode] = field(default_factory=list)
    names: list[str | None] = field(default_factory=list)

    def add(self, op: str, args: Sequence[int], width: int, params: tuple = (), span: Span | None = None) -> int:
        self.ops.append(WNode(op, tuple(args), width, params, span))
        self.names.append(None)
        return len(self.ops) - 1

    def width(self, i: int) -> int:
        return self.ops[i].width

    def zext(self, i: int, width: int, span: Span | None = None) -> int:
        return i if self.width(i) == width else self.add("zext", (i,), width, (), span)

    def frozen(self) -> tuple[WNode, ...]:
        """The nodes with their names (a node never named is kept as it is)."""
        return tuple(n if name is None else WNode(n.op, n.args, n.width, n.params, n.span, name)
                     for n, name in zip(self.ops, self.names))


class _Fail:
    def __init__(self, filename: str, source: str | None) -> None:
        self.filename, self.source = filename, source

    def __call__(self, message: str, span: Span | None) -> SpecError:
        return SpecError.at(message, span, self.filename, self.source)


def _first_line(span: Span | None) -> str:
    return f" (first assigned on line {span.line})" if span else ""


@dataclass
class _Scope:
    """One checked scope: the top level or a function body.

    ``order`` lists the assignments in dependency order; ``parts`` the parts
    assigned of each vector assigned bit by bit; ``widths`` the declared width
    of each declared output / result.
    """

    func: FuncDef | None
    inputs: list[Decl]
    outputs: list[Decl]
    order: list[Assign2]
    parts: dict[str, list[Target]]
    widths: dict[str, Decl]
    inferred_outputs: list[str]


def _reads(e: Expr2, parts: dict[str, list[Target]]) -> Iterable[tuple[str, Span | None]]:
    """Signal keys read by ``e`` (a part-assigned vector is one key per part), with where."""
    stack: list[Expr2] = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, Name):
            for t in parts.get(node.id, ()):
                yield t.text(), node.span
            if node.id not in parts:
                yield node.id, node.span
        elif isinstance(node, (Index, Slice)) and isinstance(node.base, Name) and node.base.id in parts:
            hi, lo = (node.bit, node.bit) if isinstance(node, Index) else (node.hi, node.lo)
            hit = [t for t in parts[node.base.id] if t.lo <= hi and lo <= t.hi]  # type: ignore[operator]
            for t in hit or parts[node.base.id]:
                yield t.text(), node.base.span
        else:
            stack.extend(reversed(children2(node)))


def _check_scope(stmts: Sequence[object], fail: _Fail, func: FuncDef | None) -> _Scope:
    """Declarations, assignment targets, names and loops of one scope (see the module docstring)."""
    declared_in: dict[str, Decl] = {}
    declared_out: dict[str, Decl] = {}
    saw_inputs = False
    assigns: list[Assign2] = []
    if func is not None:
        for d in func.params:
            if d.name in declared_in:
                raise fail(f"parameter '{d.name}' of '{func.name}' is declared twice", d.span)
            declared_in[d.name] = d
        for d in func.results:
            if d.name in declared_out:
                raise fail(f"result '{d.name}' of '{func.name}' is declared twice", d.span)
            if d.name in declared_in:
                raise fail(f"'{d.name}' is both a parameter and a result of '{func.name}'", d.span)
            declared_out[d.name] = d
        saw_inputs = True
    whole: dict[str, Assign2] = {}
    parts: dict[str, list[Target]] = {}
    part_at: dict[str, dict[int, Span]] = {}
    for st in stmts:
        if isinstance(st, PortDecl):
            table = declared_in if st.kind == "input" else declared_out
            saw_inputs |= st.kind == "input"
            for d in st.decls:
                if d.width > MAX_WIDTH:
                    raise fail(f"'{d.name}' is declared with {d.width} bits, wider than the {MAX_WIDTH} bits the "
                               "compiler handles", d.span)
                if d.name in table:
                    raise fail(f"{st.kind} '{d.name}' is declared twice", d.span)
                table[d.name] = d
            continue
        if not isinstance(st, Assign2):
            continue
        assigns.append(st)
        for t in st.targets:
            if t.name in whole or (not t.part and t.name in parts):
                first = whole[t.name].span if t.name in whole else parts[t.name][0].span
                raise fail(f"'{t.name}' is assigned twice{_first_line(first)}", t.span)
            if not t.part:
                whole[t.name] = st
                continue
            d = declared_out.get(t.name)
            if d is None or not d.vector:
                what = "result" if func is not None else "output"
                raise fail(f"'{t.name}' is not a declared vector {what}, so its bits cannot be assigned one by "
                           f"one (declare it, e.g. '{what} {t.name}[8]')", t.span)
            assert t.hi is not None and t.lo is not None
            if t.hi < t.lo:
                raise fail(f"slice [{t.hi}:{t.lo}] is reversed: write [high:low]", t.span)
            if t.hi >= d.width:
                raise fail(f"bit {t.hi} is out of range: '{t.name}' has {d.width} bits (0 to {d.width - 1})", t.span)
            seen = part_at.setdefault(t.name, {})
            for b in range(t.lo, t.hi + 1):
                if b in seen:
                    raise fail(f"bit {t.name}[{b}] is assigned twice (first assigned on line {seen[b].line})",
                               t.span)
                seen[b] = t.span
            parts.setdefault(t.name, []).append(t)
    for st in assigns:
        for t in st.targets:
            if t.name in declared_in:
                what = f"parameter '{t.name}' of '{func.name}'" if func is not None else f"input '{t.name}'"
                raise fail(f"cannot assign to {what}", t.span)

    drivers: dict[str, Driver[Span | None]] = {}
    first_read: dict[str, Span | None] = {}
    for st in assigns:
        reads = list(_reads(st.expr, parts))
        for k, at in reads:
            first_read.setdefault(k.split("[", 1)[0], at)
        for t in st.targets:
            drivers[t.text()] = Driver(reads=[k for k, _ in reads], where=t.span, line=t.span.line,
                                       reads_at=[at for _, at in reads])
    assigned = set(whole) | set(parts)
    if saw_inputs:
        inputs = list(declared_in.values())
    else:
        inputs = [Decl(n, 1, False, at or Span.point(1, 1)) for n, at in first_read.items() if n not in assigned]
    inferred: list[str] = []
    if declared_out:
        outputs = list(declared_out.values())
        places: dict[str, Span | None] = {d.name: d.span for d in outputs}
    else:
        inferred = [t.name for st in assigns for t in st.targets if t.name not in first_read]
        outputs = []
        places = {n: whole[n].targets[0].span for n in inferred}
    words = SPEC_WORDS
    if func is not None:
        words = Wording(undefined=f"undefined name '{{name}}' (not a parameter of '{func.name}' and never assigned)",
                        output_undefined=f"result '{{name}}' of '{func.name}' is never assigned",
                        no_outputs=f"function '{func.name}' has no results")
    # A declared vector assigned in parts is defined by its parts.
    part_outputs = {n: places[n] for n in places if n in parts}
    validate({d.name for d in inputs}, places, drivers, fail, words, also_defined=set(parts),
             nowhere=func.span if func is not None else Span.point(1, 1))
    for n, where in part_outputs.items():
        d = declared_out[n]
        missing = [b for b in range(d.width) if b not in part_at[n]]
        if missing:
            raise fail(f"bit {n}[{missing[0]}] of '{n}' is never assigned", where)
    return _Scope(func, inputs, outputs, _order(assigns, drivers, parts), parts, declared_out, inferred)


def _order(assigns: list[Assign2], drivers: dict[str, Driver[Span | None]], parts: dict) -> list[Assign2]:
    """Assignments with every one they read before them (iterative DFS, source order otherwise)."""
    owner: dict[str, int] = {}
    for i, st in enumerate(assigns):
        for t in st.targets:
            owner[t.text()] = i
    done = [False] * len(assigns)
    order: list[Assign2] = []
    for i in range(len(assigns)):
        if done[i]:
            continue
        done[i] = True
        stack = [(i, iter(drivers[assigns[i].targets[0].text()].reads))]
        while stack:
            j, it = stack[-1]
            for k in it:
                o = owner.get(k)
                if o is not None and not done[o]:
                    done[o] = True
                    stack.append((o, iter(drivers[assigns[o].targets[0].text()].reads)))
                    break
            else:
                stack.pop()
                order.append(assigns[j])
    return order


@dataclass(frozen=True)
class _Th:
    """A parsed ``th(...)``: a weight per term and the threshold."""

    weights: tuple[int, ...]
    terms: tuple[Expr2, ...]
    t: int


class _Elab:
    """Turns checked scopes into nodes; one instance per program."""

    def __init__(self, funcs: dict[str, tuple[FuncDef, _Scope]], fail: _Fail) -> None:
        self.funcs = funcs
        self.fail = fail
        self.b = _Nodes()
        self.active: list[str] = []

    # ------------------------------------------------------------------ scopes
    def run(self, scope: _Scope, env: dict[str, int], top: bool) -> dict[str, int]:
        """Elaborate ``scope``'s assignments into ``env`` (name -> node); returns ``env``."""
        pieces: dict[str, list[tuple[Target, int]]] = {n: [] for n in scope.parts}
        for st in scope.order:
            if len(st.targets) > 1:
                call = st.expr
                if isinstance(call, Call) and call.name not in self.funcs and call.name not in BUILTINS:
                    raise self.fail(f"unknown function '{call.name}' (define it with 'def')", call.name_span)
                if not (isinstance(call, Call) and call.name in self.funcs):
                    raise self.fail(f"{len(st.targets)} targets need a call of a function with "
                                    f"{len(st.targets)} results on the right", st.expr.span)
                nodes = self.call(call, [self.expr(a, env, pieces, scope) for a in call.args], multi=True)
                if len(nodes) != len(st.targets):
                    raise self.fail(f"'{call.name}' returns {len(nodes)} results but {len(st.targets)} targets "
                                    "are assigned", st.expr.span)
            else:
                nodes = [self.expr(st.expr, env, pieces, scope)]
            for t, r in zip(st.targets, nodes):
                self.bind(t, r, env, pieces, scope, top, st.expr.span)
        for n, ps in pieces.items():
            if n not in env:
                env[n] = self._assemble(n, ps, scope.widths[n].width, top)
        return env

    def bind(self, t: Target, r: int, env: dict[str, int], pieces: dict[str, list[tuple[Target, int]]],
             scope: _Scope, top: bool, span: Span | None) -> None:
        b = self.b
        w = b.width(r)
        if t.part:
            assert t.hi is not None and t.lo is not None
            want = t.hi - t.lo + 1
            if w > want:
                raise self.fail(f"width mismatch: {t.text()} has {want} bit{'s' * (want > 1)} but the expression "
                                f"has {w} (write a slice, e.g. (...)[{want - 1}:0], to drop bits)", t.span)
            pieces[t.name].append((t, b.zext(r, want, span)))
            return
        d = scope.widths.get(t.name)
        if d is not None:
            if w > d.width:
                raise self.fail(f"width mismatch: '{t.name}' is declared with {d.width} bit{'s' * (d.width > 1)} "
                                f"but the expression has {w} (write a slice, e.g. (...)[{d.width - 1}:0], to drop "
                                "bits)", t.span)
            r = b.zext(r, d.width, span)
        if top:
            if b.names[r] is not None or b.ops[r].op == "input":
                r = b.add("zext", (r,), b.width(r), (), span)
            b.names[r] = t.name
        env[t.name] = r

    def _assemble(self, name: str, ps: list[tuple[Target, int]], width: int, top: bool) -> int:
        ordered = sorted(ps, key=lambda p: -p[0].lo)  # type: ignore[operator]
        r = ordered[0][1] if len(ordered) == 1 else self.b.add("concat", [i for _, i in ordered], width)
        if top:
            if self.b.names[r] is not None or self.b.ops[r].op == "input" or len(ordered) == 1:
                r = self.b.add("zext", (r,), width)
            self.b.names[r] = name
        return r

    def _part_bits(self, name: str, hi: int, lo: int, pieces: dict[str, list[tuple[Target, int]]],
                   span: Span | None) -> int:
        """Bits ``hi..lo`` of a vector assigned in parts, from the parts already made."""
        got = []
        for t, i in sorted(pieces[name], key=lambda p: -p[0].lo):  # type: ignore[operator]
            assert t.hi is not None and t.lo is not None
            a, z = min(hi, t.hi), max(lo, t.lo)
            if a >= z:
                got.append(i if (a, z) == (t.hi, t.lo) else self.b.add("slice", (i,), a - z + 1, (a - t.lo,
                                                                                                   z - t.lo), span))
        if len(got) == 1:
            return got[0]
        return self.b.add("concat", got, hi - lo + 1, (), span)

    # ------------------------------------------------------------------ calls
    def call(self, e: Call, args: list[int], multi: bool = False) -> list[int]:
        fd, scope = self.funcs[e.name]
        if e.name in self.active:
            ring = " -> ".join(self.active[self.active.index(e.name):] + [e.name])
            raise self.fail(f"recursive call of '{e.name}' ({ring}): functions are expanded at compile time and "
                            "cannot call themselves", e.name_span)
        if len(self.active) >= MAX_CALL_DEPTH:
            raise self.fail(f"calls nested more than {MAX_CALL_DEPTH} functions deep (a function calling a "
                            f"function calling ...); flatten some of them", e.name_span)
        if len(args) != len(fd.params):
            raise self.fail(f"'{e.name}' takes {len(fd.params)} argument{'s' * (len(fd.params) != 1)}, got "
                            f"{len(args)}", e.name_span)
        if not multi and len(fd.results) != 1:
            raise self.fail(f"'{e.name}' returns {len(fd.results)} results; assign them all at once, e.g. "
                            f"'{', '.join(d.name for d in fd.results)} = {e.name}(...)'", e.name_span)
        env: dict[str, int] = {}
        for k, (d, a, ae) in enumerate(zip(fd.params, args, e.args)):
            w = self.b.width(a)
            if w > d.width:
                raise self.fail(f"width mismatch: argument {k + 1} of '{e.name}' has {w} bits but parameter "
                                f"'{d.name}' has {d.width}", ae.span)
            env[d.name] = self.b.zext(a, d.width, ae.span)
        self.active.append(e.name)
        try:
            self.run(scope, env, top=False)
        finally:
            self.active.pop()
        return [env[d.name] for d in fd.results]

    # ------------------------------------------------------------------ expressions
    def expr(self, root: Expr2, env: dict[str, int], pieces: dict[str, list[tuple[Target, int]]],
             scope: _Scope) -> int:
        """The node of ``root`` (explicit-stack postorder walk)."""
        memo: dict[int, int] = {}
        ths: dict[int, _Th] = {}
        stack: list[tuple[Expr2, bool]] = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if id(node) in memo:
                continue
            if not expanded:
                special = self._leaf(node, env, pieces, scope)
                if special is not None:
                    memo[id(node)] = special
                    continue
                stack.append((node, True))
                for c in reversed(self._operands(node, ths)):
                    stack.append((c, False))
                continue
            ops = [memo[id(c)] for c in self._operands(node, ths)]
            memo[id(node)] = self._make(node, ops, ths)
        return memo[id(root)]

    def _leaf(self, node: Expr2, env: dict[str, int], pieces: dict, scope: _Scope) -> int | None:
        """The node of a leaf (or of a read of a part-assigned vector), else None."""
        b = self.b
        if isinstance(node, Name):
            if node.id in env:
                return env[node.id]
            if node.id in pieces:
                env[node.id] = self._assemble(node.id, pieces[node.id], scope.widths[node.id].width,
                                              top=scope.func is None)
                return env[node.id]
            raise self.fail(f"undefined name '{node.id}'", node.span)  # validate() makes this unreachable
        if isinstance(node, Const):
            return b.add("const", (), 1, (node.value,), node.span)
        if isinstance(node, Num):
            return b.add("const", (), self._width(_min_width(node.value), node.span), (node.value,), node.span)
        if isinstance(node, (Index, Slice)) and isinstance(node.base, Name) and node.base.id in pieces \
                and node.base.id not in env:
            hi, lo = (node.bit, node.bit) if isinstance(node, Index) else (node.hi, node.lo)
            self._check_range(hi, lo, scope.widths[node.base.id].width, node.span)
            return self._part_bits(node.base.id, hi, lo, pieces, node.span)
        return None

    def _operands(self, node: Expr2, ths: dict[int, _Th]) -> tuple[Expr2, ...]:
        if isinstance(node, Arith) and node.op in ("shl", "shr"):
            return (node.left,)
        if isinstance(node, Call):
            if node.name == "atleast":
                return node.args[1:]
            if node.name == "th":
                th = ths.get(id(node))
                if th is None:
                    th = ths[id(node)] = self._parse_th(node)
                return th.terms
        return children2(node)

    def _width(self, w: int, span: Span | None) -> int:
        if w > MAX_WIDTH:
            raise self.fail(f"a value of {w} bits is wider than the {MAX_WIDTH} bits the compiler handles", span)
        return w

    def _check_range(self, hi: int, lo: int, w: int, span: Span | None) -> None:
        if hi < lo:
            raise self.fail(f"slice [{hi}:{lo}] is reversed: write [high:low]", span)
        if hi >= w:
            what = f"bit {hi}" if hi == lo else f"slice [{hi}:{lo}]"
            raise self.fail(f"{what} is out of range: the value has {w} bit{'s' * (w > 1)} (0 to {w - 1})", span)

    def _make(self, node: Expr2, ops: list[int], ths: dict[int, _Th]) -> int:
        b = self.b
        sp = node.span
        ws = [b.width(i) for i in ops]
        if isinstance(node, Not):
            return b.add("not", ops, ws[0], (), sp)
        if isinstance(node, BinOp):
            w = max(ws)
            return b.add({AND: "and", OR: "or", XOR: "xor"}[node.op], [b.zext(i, w, sp) for i in ops], w, (), sp)
        if isinstance(node, Arith):
            op = node.op
            if op in ("shl", "shr"):
                k = node.right
                if not isinstance(k, (Num, Const)):
                    raise self.fail("shift amount must be a number, not a signal (shift by a signal is not "
                                    "supported; use ?: on its bits)", k.span)
                kv = k.value
                w = ws[0] + kv if op == "shl" else max(ws[0] - kv, 1)
                return b.add(op, ops, self._width(w, sp), (kv,), sp)
            if op in ("add", "sub"):
                return b.add(op, ops, self._width(max(ws) + 1, sp), (), sp)
            if op == "mul":
                return b.add(op, ops, self._width(ws[0] + ws[1], sp), (), sp)
            return b.add(op, ops, 1, (), sp)
        if isinstance(node, Cond):
            if ws[0] != 1:
                raise self.fail(f"the condition of '?:' has {ws[0]} bits; it must be 1 bit (compare it, e.g. "
                                "'c != 0')", node.cond.span)
            w = max(ws[1], ws[2])
            return b.add("mux", [ops[0], b.zext(ops[1], w, sp), b.zext(ops[2], w, sp)], w, (), sp)
        if isinstance(node, Index):
            self._check_range(node.bit, node.bit, ws[0], sp)
            return b.add("slice", ops, 1, (node.bit, node.bit), sp)
        if isinstance(node, Slice):
            self._check_range(node.hi, node.lo, ws[0], sp)
            return b.add("slice", ops, node.hi - node.lo + 1, (node.hi, node.lo), sp)
        if isinstance(node, Concat):
            return b.add("concat", ops, self._width(sum(ws), sp), (), sp)
        if isinstance(node, Call):
            return self._builtin(node, ops, ws, ths)
        raise AssertionError(type(node))

    def _arity(self, e: Call, lo: int, hi: int | None) -> None:
        n = len(e.args)
        if n < lo or (hi is not None and n > hi):
            want = f"{lo}" if hi == lo else f"at least {lo}" if hi is None else f"{lo} to {hi}"
            raise self.fail(f"'{e.name}' takes {want} argument{'s' * (want != '1')}, got {n}", e.name_span)

    def _builtin(self, e: Call, ops: list[int], ws: list[int], ths: dict[int, _Th]) -> int:
        b, sp, name = self.b, e.span, e.name
        if name in self.funcs:
            return self.call(e, ops)[0]
        n = sum(ws)
        if name == "maj":
            self._arity(e, 1, None)
            return b.add("atleast", ops, 1, (n // 2 + 1,), sp)
        if name == "atleast":
            self._arity(e, 2, None)
            k = e.args[0]
            if not isinstance(k, (Num, Const)):
                raise self.fail("the first argument of 'atleast' must be a number (how many must be 1)", k.span)
            return b.add("atleast", ops, 1, (k.value,), sp)
        if name == "popcount":
            self._arity(e, 1, None)
            return b.add("popcount", ops, _min_width(n), (), sp)
        if name in ("and", "or"):
            self._arity(e, 1, None)
            return b.add("atleast", ops, 1, (n if name == "and" else 1,), sp)
        if name == "xor":
            self._arity(e, 1, None)
            return b.add("parity", ops, 1, (), sp)
        if name in ("min", "max"):
            self._arity(e, 2, 2)
            return b.add(name, ops, max(ws), (), sp)
        if name == "th":
            th = ths[id(e)]
            for term, w in zip(th.terms, ws):
                if w != 1:
                    raise self.fail(f"each input of 'th' must be 1 bit; this one has {w} bits", term.span)
            return b.add("th", ops, 1, (th.weights, th.t), sp)
        raise self.fail(f"unknown function '{name}' (built-ins: {', '.join(BUILTINS)}; or define it with 'def')",
                        e.name_span)

    def _parse_th(self, e: Call) -> _Th:
        """``th(w1*x1 + w2*x2 - w3*x3 ... >= t)`` (or ``> t``) into weights, terms and ``t``."""
        if len(e.args) != 1:
            raise self.fail(f"'th' takes 1 argument (a comparison 'w1*x1 + ... >= t'), got {len(e.args)}",
                            e.name_span)
        cmp_ = e.args[0]
        if not (isinstance(cmp_, Arith) and cmp_.op in ("ge", "gt") and isinstance(cmp_.right, (Num, Const))):
            raise self.fail("'th' takes a weighted sum compared with a number: th(w1*x1 + w2*x2 + ... >= t)",
                            cmp_.span)
        t = cmp_.right.value + (1 if cmp_.op == "gt" else 0)
        weights: list[int] = []
        terms: list[Expr2] = []
        stack: list[tuple[Expr2, int]] = [(cmp_.left, 1)]
        while stack:
            node, sign = stack.pop()
            if isinstance(node, Arith) and node.op in ("add", "sub"):
                stack.append((node.right, -sign if node.op == "sub" else sign))
                stack.append((node.left, sign))
            elif isinstance(node, (Num, Const)):
                t -= sign * node.value
            elif isinstance(node, Arith) and node.op == "mul" and isinstance(node.left, (Num, Const)):
                weights.append(sign * node.left.value)
                terms.append(node.right)
            elif isinstance(node, Arith) and node.op == "mul" and isinstance(node.right, (Num, Const)):
                weights.append(sign * node.right.value)
                terms.append(node.left)
            else:
                weights.append(sign)
                terms.append(node)
        if not terms:
            raise self.fail("'th' needs at least one input", cmp_.span)
        return _Th(tuple(weights), tuple(terms), t)


def elaborate(stmts: Sequence[object], filename: str, source: str | None) -> WordSpec:
    """The word program of a parsed program (statements from the parser); ``SpecError`` on any mistake."""
    fail = _Fail(filename, source)
    funcs: dict[str, tuple[FuncDef, _Scope]] = {}
    top: list[object] = []
    for st in stmts:
        if isinstance(st, FuncDef):
            if st.name in BUILTINS:
                raise fail(f"'{st.name}' is a built-in function and cannot be redefined", st.span)
            if st.name in funcs:
                raise fail(f"function '{st.name}' is defined twice (first on line {funcs[st.name][0].span.line})",
                           st.span)
            funcs[st.name] = (st, _check_scope(st.body, fail, st))
        else:
            top.append(st)
    scope = _check_scope(top, fail, None)
    el = _Elab(funcs, fail)
    b = el.b
    ports = [Port(d.name, d.width, d.vector) for d in scope.inputs]
    env = {d.name: b.add("input", (), d.width, (k,), d.span) for k, d in enumerate(scope.inputs)}
    env = el.run(scope, env, top=True)
    outs: list[tuple[Port, int]] = []
    in_names = {p.name for p in ports}
    if scope.outputs:
        for d in scope.outputs:
            if d.name in in_names:
                raise fail(f"output '{d.name}' is also an input; assign it to a new name", d.span)
            r = b.zext(env[d.name], d.width)
            outs.append((Port(d.name, d.width, d.vector), r))
    else:
        for n in scope.inferred_outputs:
            w = b.width(env[n])
            outs.append((Port(n, w, w > 1), env[n]))
    ws = WordSpec(tuple(ports), tuple(outs), b.frozen(), filename, source)
    verify_words(ws)
    return ws


def words_of_v1(spec: Spec) -> WordSpec | None:
    """The word program of a checked v1 spec (all 1-bit logic): one node per operator, in dependency order.

    ``t = u`` adds no node (``t`` reads ``u``'s), so the program is :func:`~threshnet.compiler.words.is_bit_logic`.

    ``None`` when the spec has no word program: an output that is an input (word ports may not repeat).
    """
    if set(spec.inputs) & set(spec.outputs):
        return None
    b = _Nodes()
    env: dict[str, int] = {n: b.add("input", (), 1, (k,)) for k, n in enumerate(spec.inputs)}
    memo: dict[int, int] = {}
    ops = {AND: "and", OR: "or", XOR: "xor"}

    def leaf(node: Const | Name) -> int:
        if type(node) is Name:
            return env[node.id]
        return b.add("const", (), 1, (node.value,), node.span)

    for a in assignment_order(spec):
        r = fold_expr(a.expr, leaf, lambda n, v: b.add("not", (v,), 1, (), n.span),
                      lambda n, l, r: b.add(ops[n.op], (l, r), 1, (), n.span), memo)
        if b.names[r] is None and b.ops[r].op != "input":  # no copies: the program stays is_bit_logic
            b.names[r] = a.target
        env[a.target] = r
    ports = tuple(Port(n) for n in spec.inputs)
    return WordSpec(ports, tuple((Port(n), env[n]) for n in spec.outputs), b.frozen(), spec.filename, spec.source)
