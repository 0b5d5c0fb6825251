"""Hypothesis strategies and assertions for property-based tests of threshnet networks.

>>> from hypothesis import given
>>> import threshnet
>>> from threshnet.testing import assert_equivalent, specs
>>> @given(specs(max_inputs=6, max_gates=20))
... def test_compile(spec):
...     assert_equivalent(threshnet.compile(spec), spec)

Random specs are drawn as a structure, rendered to spec text in varied styles
(declared or inferred ports, shuffled statements, ``;`` or newlines, comments,
extra parentheses, line breaks inside parentheses, ``~`` or ``!``) and parsed
with :func:`threshnet.parse`, so a drawn ``Spec`` is exactly what a user with
that text would get.  This module needs Hypothesis (the ``test`` extra).

For differential fuzzing (``tests/test_fuzz.py``, ``make fuzz``) there are
two more families: :func:`xor_specs` (small XOR-heavy specs with shared
structure: the same XOR written in different association orders, majorities,
reconvergent fan-out, negated operands) and :func:`netlist_cases` (random
multi-output gate netlists, written as BLIF and ASCII AIGER text by this
module's own writers and read back with ``threshnet.frontends.read_text``).
:func:`assert_compiles_everywhere` compiles a spec in every layout,
activation and mapping setting (:data:`CONFIGS`) and compares each network
with the reference evaluator.
"""

from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
from hypothesis import strategies as st
from torch import nn

from .check import EXHAUSTIVE_LIMIT, CheckReport, check
from .inputs import as_spec
from .compiler.parse import parse
from .prove import available as prover_available
from .compiler.spec import (
    AND, KEYWORDS, NOT_PRECEDENCE, OP_PRECEDENCE, OP_SYMBOL, OR, XOR, Assign, BinOp, Const, Expr, Name, Not,
    Spec,
)

__all__ = [
    "CONFIGS", "NetlistCase", "SpecCase", "Tree", "assert_equivalent", "assert_compiles_everywhere",
    "fuzz_rows", "inputs_for", "netlist_cases", "netlist_specs", "prover_available", "spec_cases", "spec_texts", "specs", "xor_spec_texts",
    "xor_specs", "V2Case", "v2_spec_cases", "v2_spec_texts", "word_values",
]

#: A drawn expression: ``("const", 0|1)``, ``("name", id)``, ``("not", t)`` or ``(op, left, right)``
#: with ``op`` one of ``"and"``, ``"xor"``, ``"or"``.
Tree = tuple

METHODS = ("auto", "exhaustive", "random", "prove")

_ODD_NAMES = ("inputs", "outputs", "Input", "OUTPUT", "input_", "_output", "in", "out", "_", "__", "x0", "O1")
_SPACE = object()  # placeholder for drawn whitespace
_COMMENTS = ("# note", "// a = (b", "#", "//", "# x = y & ; ( ) ~", "// input output")


@dataclass(frozen=True)
class SpecCase:
    """A drawn spec: its text and, worked out without threshnet, what parsing it must give.

    ``assignments`` is in source order; ``inputs`` and ``outputs`` are the port
    orders the language rules give (docs/language.md).
    """

    text: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    assignments: tuple[tuple[str, Tree], ...]

    def expected_spec(self) -> Spec:
        """The ``Spec`` that ``parse(self.text)`` must equal (built directly, not parsed)."""
        return Spec(self.inputs, self.outputs, tuple(Assign(t, _to_expr(e)) for t, e in self.assignments))

    def evaluate(self, values: Mapping[str, int]) -> dict[str, int]:
        """Outputs for one input assignment, by a plain evaluator independent of threshnet."""
        env = {n: int(values[n]) for n in self.inputs}
        pending = dict(self.assignments)
        while pending:
            progressed = False
            for target, tree in list(pending.items()):
                if all(n in env for n in _names(tree)):
                    env[target] = _eval_tree(tree, env)
                    del pending[target]
                    progressed = True
            if not progressed:
                raise AssertionError("drawn spec has a loop")  # cannot happen: strategies draw DAGs
        return {o: env[o] for o in self.outputs}


def _names(tree: Tree) -> list[str]:
    """Names read by ``tree``, left to right (iterative)."""
    out, stack = [], [tree]
    while stack:
        t = stack.pop()
        if t[0] == "name":
            out.append(t[1])
        elif t[0] != "const":
            stack.extend(reversed(t[1:]))
    return out


def _eval_tree(tree: Tree, env: Mapping[str, int]) -> int:
    stack: list[tuple[Tree, bool]] = [(tree, False)]
    vals: list[int] = []
    while stack:
        t, done = stack.pop()
        kind = t[0]
        if kind == "const":
            vals.append(t[1])
        elif kind == "name":
            vals.append(env[t[1]])
        elif not done:
            stack.append((t, True))
            stack.extend((c, False) for c in reversed(t[1:]))
        elif kind == "not":
            vals.append(1 - vals.pop())
        else:
            r, l = vals.pop(), vals.pop()
            vals.append(l & r if kind == AND else l | r if kind == OR else l ^ r)
    return vals.pop()


def _to_expr(tree: Tree) -> Expr:
    stack: list[tuple[Tree, bool]] = [(tree, False)]
    vals: list[Expr] = []
    while stack:
        t, done = stack.pop()
        kind = t[0]
        if kind == "const":
            vals.append(Const(t[1]))
        elif kind == "name":
            vals.append(Name(t[1]))
        elif not done:
            stack.append((t, True))
            stack.extend((c, False) for c in reversed(t[1:]))
        elif kind == "not":
            vals.append(Not(vals.pop()))
        else:
            r, l = vals.pop(), vals.pop()
            vals.append(BinOp(kind, l, r))
    return vals.pop()


# --- drawing ---------------------------------------------------------------------------------------


def _draw_tree(draw: Any, ops: int, inputs: Sequence[str], wires: Sequence[str], start: int = 0) -> Tree:
    """An expression with exactly ``ops`` operator nodes (iterative, any size)."""
    leaf_kinds = (["input"] * 3 if inputs else []) + (["wire"] * 3 if wires else []) + ["const"]
    recent_first = list(reversed(wires))  # shrinks towards reading the latest wire: deeper logic
    cursor = start
    root: list = [None]
    holes: list[tuple[list, int, int]] = [(root, 0, ops)]
    while holes:
        parent, slot, k = holes.pop()
        if k == 0:
            kind = draw(st.sampled_from(leaf_kinds))
            if kind == "input":
                # Offsets from a round-robin cursor: the simplest draws still spread over the inputs.
                parent[slot] = ["name", inputs[(cursor + draw(st.integers(0, len(inputs) - 1))) % len(inputs)]]
                cursor += 1
            elif kind == "wire":
                parent[slot] = ["name", draw(st.sampled_from(recent_first))]
            else:
                parent[slot] = ["const", draw(st.integers(0, 1))]
            continue
        op = draw(st.sampled_from((AND, XOR, OR, "not")))
        if op == "not":
            node = ["not", None]
            holes.append((node, 1, k - 1))
        else:
            left = draw(st.integers(0, k - 1))
            node = [op, None, None]
            holes.append((node, 2, k - 1 - left))
            holes.append((node, 1, left))
        parent[slot] = node
    return _freeze(root[0])


def _freeze(node: list) -> Tree:
    stack: list[tuple[list, bool]] = [(node, False)]
    vals: list[Tree] = []
    while stack:
        n, done = stack.pop()
        if n[0] in ("const", "name"):
            vals.append((n[0], n[1]))
        elif not done:
            stack.append((n, True))
            stack.extend((c, False) for c in reversed(n[1:]))
        else:
            kids = [vals.pop() for _ in n[1:]][::-1]
            vals.append((n[0], *kids))
    return vals.pop()


class _Style:
    """Cosmetic choices (names, spacing, separators, comments), from a seeded RNG.

    They never change what a spec means, so they need not shrink; the plain
    style (``rng=None``) is what shrinking ends at.
    """

    def __init__(self, rng: random.Random | None) -> None:
        self.rng = rng

    def pick(self, plain: str, *fancy: str) -> str:
        return plain if self.rng is None else self.rng.choice((plain, *fancy))

    def chance(self, p: float) -> bool:
        return self.rng is not None and self.rng.random() < p

    def names(self, n_in: int, n_wire: int) -> tuple[list[str], list[str]]:
        if self.rng is None:
            return [f"x{i}" for i in range(n_in)], [f"t{i}" for i in range(n_wire)]
        seen: set[str] = set(KEYWORDS)
        out: list[str] = []
        first = string.ascii_letters + "_"
        rest = first + string.digits
        while len(out) < n_in + n_wire:
            r = self.rng.random()
            if r < 0.2:
                name = self.rng.choice(_ODD_NAMES)
            elif r < 0.6:
                name = self.rng.choice(string.ascii_lowercase) + str(self.rng.randrange(100))
            else:
                name = self.rng.choice(first) + "".join(self.rng.choices(rest, k=self.rng.randrange(8)))
            if name not in seen:
                seen.add(name)
                out.append(name)
        return out[:n_in], out[n_in:]


def _render_tree(style: _Style, tree: Tree) -> str:
    """Spec text for ``tree``; parses back to exactly ``tree``'s shape."""
    out: list[str] = []
    depth = 0  # parentheses open in the output so far
    # Work items: (tree, context precedence, is right operand), a literal string, or _SPACE.
    stack: list[object] = [(tree, 0, False)]
    while stack:
        item = stack.pop()
        if item is _SPACE:
            if depth and style.chance(0.08):  # a line break inside parentheses
                out.append(style.pick("", " # more") + "\n" + style.pick("", "  ", "\t"))
            else:
                out.append(style.pick(" ", "", " ", "\t", "  "))
            continue
        if isinstance(item, str):
            depth -= item == ")"
            out.append(item)
            continue
        t, ctx, right = item  # type: ignore[misc]
        kind = t[0]
        extra = style.chance(0.1)  # redundant parentheses
        if kind == "not":
            prefix = style.pick("~", "!") + style.pick("", "", " ")
            paren = extra
            body: list[object] = [(t[1], NOT_PRECEDENCE, False)]
        elif kind in ("const", "name"):
            prefix, paren, body = str(t[1]), extra, []
        else:
            prec = OP_PRECEDENCE[kind]
            prefix = ""
            paren = extra or prec < ctx or (prec == ctx and right)
            body = [(t[1], prec, False), _SPACE, OP_SYMBOL[kind], _SPACE, (t[2], prec, True)]
        if paren:
            out.append("(")
            depth += 1
            body = [*body, ")"] if style.rng is None else [_SPACE, *body, _SPACE, ")"]
        out.append(prefix)
        stack.extend(reversed(body))
    return "".join(out)


@st.composite
def spec_cases(draw: Any, max_inputs: int = 12, max_gates: int = 60, max_assignments: int = 20) -> SpecCase:
    """Random well-formed specs with their text and independently derived expectations.

    Up to ``max_inputs`` inputs, ``max_assignments`` assignments and
    ``max_gates`` operator nodes (``&``, ``^``, ``|``, ``~``/``!``) in all;
    constants 0/1; later assignments read earlier ones (names shared by
    several statements); statements shuffled; ports declared or inferred.
    There is always at least one output, never a loop, never an assigned input.
    """
    style = _Style(None if draw(st.integers(0, 3)) == 0 else random.Random(draw(st.integers(0, 2**32 - 1))))
    n_in = draw(st.integers(0, max_inputs))
    declare_inputs = draw(st.booleans())
    declare_outputs = draw(st.booleans())
    min_assign = 0 if declare_inputs and declare_outputs and n_in else 1
    n_assign = draw(st.integers(min_assign, max(min_assign, max_assignments)))
    inputs, wires = style.names(n_in, n_assign)

    # Split the operator budget between the assignments with sorted cut points.
    total = draw(st.integers(0, max_gates)) if n_assign else 0
    cuts = sorted(draw(st.lists(st.integers(0, total), min_size=max(0, n_assign - 1),
                                max_size=max(0, n_assign - 1))))
    sizes = [b - a for a, b in zip([0] + cuts, cuts + [total])]
    # Assignment i reads inputs and wires[:i], so the dependencies form a DAG.
    trees = [_draw_tree(draw, sizes[i], inputs, wires[:i], start=sum(sizes[:i]) + i) for i in range(n_assign)]

    order = draw(st.permutations(range(n_assign))) if n_assign > 1 else list(range(n_assign))
    assigns = [(wires[i], trees[i]) for i in order]
    read_order: dict[str, None] = {}
    for _, tree in assigns:
        for n in _names(tree):
            read_order.setdefault(n, None)

    if declare_inputs:
        port_inputs = tuple(draw(st.permutations(inputs))) if inputs else ()
    else:
        port_inputs = tuple(n for n in read_order if n in inputs)
    sinks = [t for t, _ in assigns if t not in read_order]  # assigned names nobody reads
    if declare_outputs:
        # Usually every sink (so no logic is dead), in a drawn order, plus a few other names
        # (read wires or inputs, maybe none); sometimes only a drawn selection.
        keep = sinks if draw(st.integers(0, 3)) < 3 else []
        others = [n for n in reversed(wires) if n not in keep] + list(port_inputs)
        extra = draw(st.lists(st.sampled_from(others), min_size=0 if keep else 1, max_size=min(len(others), 3),
                              unique=True)) if others else []
        port_outputs = tuple(draw(st.permutations(keep + extra)))
    else:
        port_outputs = tuple(sinks)

    # Statements: assignments plus declaration lines (possibly split), in a drawn order.
    stmts = [f"{t}{style.pick(' ', '')}={style.pick(' ', '', '  ')}{_render_tree(style, e)}" for t, e in assigns]
    for keyword, ports, declared in (("input", port_inputs, declare_inputs),
                                     ("output", port_outputs, declare_outputs)):
        if not declared or not ports:
            continue
        pieces = draw(st.integers(1, len(ports)))
        step = -(-len(ports) // pieces)
        lines = [f"{keyword} " + style.pick(", ", ",", " ,").join(ports[i:i + step])
                 for i in range(0, len(ports), step)]
        lo = 0
        for line in lines:  # keep the declared order: each piece after the one before
            at = draw(st.integers(lo, len(stmts)))
            stmts.insert(at, line)
            lo = at + 1

    parts: list[str] = []
    if style.chance(0.25):
        parts.append(style.pick(*_COMMENTS) + "\n")
    for i, s in enumerate(stmts):
        parts.append(s)
        if i == len(stmts) - 1:
            parts.append(style.pick("\n", "", ";", "\n\n", " # end\n"))
        else:
            parts.append(style.pick("\n", "\n", ";", " ; ", "\r\n", ";\n", "\n\n", " # c\n", "\t// c\n"))
    return SpecCase("".join(parts), port_inputs, port_outputs, tuple(assigns))


def spec_texts(max_inputs: int = 12, max_gates: int = 60, max_assignments: int = 20) -> st.SearchStrategy[str]:
    """Text of random well-formed specs (see :func:`spec_cases`)."""
    return spec_cases(max_inputs, max_gates, max_assignments).map(lambda c: c.text)


def specs(max_inputs: int = 12, max_gates: int = 60, max_assignments: int = 20) -> st.SearchStrategy[Spec]:
    """Random well-formed ``Spec`` objects, parsed from :func:`spec_texts` by :func:`threshnet.parse`."""
    return spec_texts(max_inputs, max_gates, max_assignments).map(parse)


def inputs_for(spec: Spec | str, *, min_rows: int = 1, max_rows: int = 32,
               as_array: bool = False) -> st.SearchStrategy[list[list[int]]] | st.SearchStrategy[np.ndarray]:
    """Batches of 0/1 input rows for ``spec``, each row in port order (``spec.inputs``).

    Lists of lists by default; ``as_array=True`` gives ``uint8`` arrays of
    shape ``(rows, n_inputs)``.
    """
    n = len(as_spec(spec).inputs)
    row = st.lists(st.integers(0, 1), min_size=n, max_size=n)
    rows = st.lists(row, min_size=min_rows, max_size=max_rows)
    if as_array:
        return rows.map(lambda r: np.asarray(r, dtype=np.uint8).reshape(len(r), n))
    return rows


def assert_equivalent(module: nn.Module, spec: Spec | str, *, method: str = "auto", samples: int = 10_000,
                      seed: int = 0, timeout: float | None = 60.0) -> CheckReport | Any:
    """Assert that ``module`` computes ``spec``; return the report that shows it.

    ``method``:

    * ``"auto"``: every input when the spec has at most 20 inputs; beyond
      that a SAT proof (:func:`threshnet.prove`) when python-sat is
      installed, falling back to ``samples`` random rows (plus corner rows)
      if it is not or the proof times out;
    * ``"exhaustive"``: every input (at most 20 inputs);
    * ``"random"``: ``samples`` random rows plus corner rows;
    * ``"prove"``: a SAT proof within ``timeout`` seconds, else a failure.

    Raises ``AssertionError`` showing the counterexample (inputs, expected,
    got).  Returns a :class:`~threshnet.CheckReport` or, when proved, a
    :class:`~threshnet.ProofReport`.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    spec = as_spec(spec)
    n = len(spec.inputs)
    if method == "exhaustive" and n > EXHAUSTIVE_LIMIT:
        raise ValueError(f"method='exhaustive' supports at most {EXHAUSTIVE_LIMIT} inputs; "
                         f"this spec has {n}")
    if method == "prove" or (method == "auto" and n > EXHAUSTIVE_LIMIT and prover_available()):
        from .prove import prove

        proof = prove(module, spec, timeout=timeout)
        if proof.status == "refuted":
            raise AssertionError(f"module does not compute spec {spec.filename}: {proof}")
        if proof.status == "proved":
            return proof
        if method == "prove":
            raise AssertionError(f"could not prove that the module computes spec {spec.filename}: {proof}")
    report = check(module, spec, samples=samples, seed=seed, exhaustive=False if method == "random" else None)
    if not report.ok:
        raise AssertionError(f"module does not compute spec {spec.filename}: {report}")
    return report


# --- differential fuzzing: XOR-heavy specs, random netlists, every compile setting --------------------

#: Every compile setting the fuzzer tries: (layout, activation, output_step, optimize).
CONFIGS: tuple[tuple[str, str, bool, bool], ...] = tuple(
    (layout, act, out_step, optimize)
    for layout in ("mlp", "sparse")
    for act, out_step in (("relu", True), ("step", True), ("relu", False))
    for optimize in (True, False)
)

#: Gate kinds of the XOR-heavy strategies, most XOR-like first (shrinking prefers them).
_XOR_KINDS = ("xor", "xor3", "again", "maj", "and", "or", "xor_in", "not")


def _lit(draw: Any, sigs: Sequence[str]) -> str:
    """A signal, usually a recent one (reconvergence), sometimes negated."""
    name = sigs[-1 - draw(st.integers(0, len(sigs) - 1))]
    return ("~" + name) if draw(st.integers(0, 4)) == 0 else name


def _assoc(draw: Any, ops: Sequence[str]) -> str:
    """``ops`` joined by ``^`` in a drawn association order (left chain, right chain or grouped)."""
    ops = list(ops)
    while len(ops) > 1:
        i = draw(st.integers(0, len(ops) - 2))
        ops[i:i + 2] = [f"({ops[i]} ^ {ops[i + 1]})"]
    return ops[0]


@st.composite
def xor_spec_texts(draw: Any, max_inputs: int = 6, max_gates: int = 24) -> str:
    """Spec text rich in XOR, majority and reconvergence, with the same XOR written several ways.

    One assignment per drawn gate, ``g<k> = ...``, reading inputs ``x<i>`` and
    earlier gates; kinds: 2- and 3-input XOR in a drawn association order,
    ``again`` (an earlier XOR's operands in another order and grouping,
    sometimes with one operand replaced by the gate that already XORs two of
    them, as in ``A = t ^ z; B = x ^ z ^ y``), majority (``a & b | a & c |
    b & c`` in a drawn form), AND, OR, an XOR inside a larger expression, and
    NOT.  A name may be read before any assignment (an inferred input).  The
    outputs are the gates nobody reads, plus drawn others when declared.
    """
    n_in = draw(st.integers(1, max_inputs))
    sigs = [f"x{i}" for i in range(n_in)]
    n_gates = draw(st.integers(1, max_gates))
    xors: list[tuple[str, list[str]]] = []  # (gate, operands) of each XOR drawn so far
    lines: list[str] = []
    for k in range(n_gates):
        g = f"g{k}"
        kind = draw(st.sampled_from(_XOR_KINDS))
        if kind == "again" and not xors:
            kind = "xor3"
        if kind in ("xor", "xor3"):
            ops = [_lit(draw, sigs) for _ in range(2 if kind == "xor" else 3)]
            expr = _assoc(draw, ops)
            xors.append((g, ops))
        elif kind == "again":
            gate, ops = xors[draw(st.integers(0, len(xors) - 1))]
            ops = list(draw(st.permutations(ops)))
            if draw(st.booleans()):
                ops.append(_lit(draw, sigs))
            # Reuse a gate that already XORs two of the operands, when there is one.
            for other, o2 in xors:
                if len(o2) == 2 and len(ops) > 2 and set(o2) <= set(ops) and draw(st.booleans()):
                    ops = [other] + [o for o in ops if o not in o2]
                    break
            expr = _assoc(draw, ops)
            xors.append((g, ops))
        elif kind == "maj":
            a, b, c = (_lit(draw, sigs) for _ in range(3))
            form = draw(st.sampled_from(("{0} & {1} | {0} & {2} | {1} & {2}", "{0} & {1} | {2} & ({0} | {1})",
                                         "({0} | {1}) & ({0} | {2}) & ({1} | {2})", "{0} & ({1} | {2}) | {1} & {2}")))
            expr = form.format(a, b, c)
        elif kind in ("and", "or"):
            expr = f"{_lit(draw, sigs)} {'&' if kind == 'and' else '|'} {_lit(draw, sigs)}"
        elif kind == "xor_in":
            expr = f"({_assoc(draw, [_lit(draw, sigs), _lit(draw, sigs)])}) {draw(st.sampled_from('&|'))} " \
                   f"{_lit(draw, sigs)}"
        else:
            expr = "~" + sigs[-1 - draw(st.integers(0, len(sigs) - 1))]
        if draw(st.integers(0, 15)) == 0:  # read a name never assigned: an inferred input
            expr = f"({expr}) ^ g{n_gates + draw(st.integers(0, 2))}"
        lines.append(f"{g} = {expr}")
        sigs.append(g)
    if draw(st.booleans()):
        lines = list(draw(st.permutations(lines)))
    if draw(st.integers(0, 3)) == 0:
        assigned = [line.split(" = ")[0] for line in lines]
        read = {m for line in lines for m in _NAME_RE.findall(line.split(" = ", 1)[1])}
        sinks = [a for a in assigned if a not in read]
        extra = draw(st.lists(st.sampled_from(assigned), max_size=3, unique=True))
        outs = sinks + [e for e in extra if e not in sinks]
        lines.insert(0, "output " + ", ".join(outs))
    return "\n".join(lines) + "\n"


_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def xor_specs(max_inputs: int = 6, max_gates: int = 24) -> st.SearchStrategy[Spec]:
    """``Spec`` objects parsed from :func:`xor_spec_texts`."""
    return xor_spec_texts(max_inputs, max_gates).map(parse)


#: Gate kinds of :class:`NetlistCase` and their fan-in.
NETLIST_KINDS = {"and": 2, "or": 2, "xor": 2, "xor3": 3, "maj": 3}


@dataclass(frozen=True)
class NetlistCase:
    """A random combinational netlist, with its own writers and evaluator (no threshnet code).

    Signals: inputs ``0..n_inputs-1``, then gate ``k`` is signal
    ``n_inputs + k``; a literal is ``(signal, negated)``.  ``outputs`` are
    literals, one per output port ``o<k>``.
    """

    n_inputs: int
    gates: tuple[tuple[str, tuple[tuple[int, bool], ...]], ...]
    outputs: tuple[tuple[int, bool], ...]

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(f"x{i}" for i in range(self.n_inputs))

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(f"o{k}" for k in range(len(self.outputs)))

    def _name(self, s: int) -> str:
        return f"x{s}" if s < self.n_inputs else f"n{s - self.n_inputs}"

    def evaluate_rows(self, rows: np.ndarray) -> np.ndarray:
        """``(n, n_inputs)`` 0/1 to ``(n, n_outputs)`` uint8, one numpy vector per signal."""
        rows = np.asarray(rows, dtype=np.uint8)
        val = [rows[:, i].astype(bool) for i in range(self.n_inputs)]
        for kind, ops in self.gates:
            v = [val[s] ^ neg for s, neg in ops]
            if kind == "and":
                out = v[0] & v[1]
            elif kind == "or":
                out = v[0] | v[1]
            elif kind in ("xor", "xor3"):
                out = v[0] ^ v[1]
                for extra in v[2:]:
                    out = out ^ extra
            else:
                out = (v[0] & v[1]) | (v[0] & v[2]) | (v[1] & v[2])
            val.append(out)
        if not self.outputs:
            return np.zeros((len(rows), 0), np.uint8)
        return np.stack([val[s] ^ neg for s, neg in self.outputs], axis=1).astype(np.uint8)

    def blif(self) -> str:
        """BLIF text: one ``.names`` cover per gate, and a buffer or inverter per output."""
        out = [".model fuzz", ".inputs " + " ".join(self.input_names), ".outputs " + " ".join(self.output_names)]
        rows_of = {
            "and": ["11"], "or": ["1-", "-1"], "xor": ["10", "01"],
            "xor3": ["100", "010", "001", "111"], "maj": ["11-", "1-1", "-11"],
        }
        for k, (kind, ops) in enumerate(self.gates):
            out.append(".names " + " ".join(self._name(s) for s, _ in ops) + f" n{k}")
            for cube in rows_of[kind]:
                bits = "".join(c if c == "-" or not neg else "10"[int(c)] for c, (_, neg) in zip(cube, ops))
                out.append(f"{bits} 1")
        for name, (s, neg) in zip(self.output_names, self.outputs):
            out += [f".names {self._name(s)} {name}", f"{0 if neg else 1} 1"]
        out.append(".end")
        return "\n".join(out) + "\n"

    def aag(self) -> str:
        """ASCII AIGER text: each gate as AND gates with inverted edges, ports named by symbols."""
        lit = [2 * (i + 1) for i in range(self.n_inputs)]
        ands: list[tuple[int, int, int]] = []
        next_var = self.n_inputs + 1

        def and2(a: int, b: int) -> int:
            nonlocal next_var
            ands.append((2 * next_var, a, b))
            next_var += 1
            return ands[-1][0]

        def or2(a: int, b: int) -> int:
            return and2(a ^ 1, b ^ 1) ^ 1

        def xor2(a: int, b: int) -> int:
            return or2(and2(a, b ^ 1), and2(a ^ 1, b))

        for kind, ops in self.gates:
            v = [lit[s] ^ int(neg) for s, neg in ops]
            if kind == "and":
                r = and2(v[0], v[1])
            elif kind == "or":
                r = or2(v[0], v[1])
            elif kind == "xor":
                r = xor2(v[0], v[1])
            elif kind == "xor3":
                r = xor2(xor2(v[0], v[1]), v[2])
            else:
                r = or2(and2(v[0], v[1]), and2(v[2], or2(v[0], v[1])))
            lit.append(r)
        outs = [lit[s] ^ int(neg) for s, neg in self.outputs]
        lines = [f"aag {next_var - 1} {self.n_inputs} 0 {len(outs)} {len(ands)}"]
        lines += [str(2 * (i + 1)) for i in range(self.n_inputs)]
        lines += [str(o) for o in outs]
        lines += [f"{a} {b} {c}" for a, b, c in ands]
        lines += [f"i{i} {n}" for i, n in enumerate(self.input_names)]
        lines += [f"o{k} {n}" for k, n in enumerate(self.output_names)]
        return "\n".join(lines) + "\n"


@st.composite
def netlist_cases(draw: Any, min_gates: int = 100, max_gates: int = 5000, min_inputs: int = 4,
                  max_inputs: int = 40, max_outputs: int = 64) -> NetlistCase:
    """Random multi-output netlists rich in XOR, majority and reconvergence.

    Sizes and the gate mix are drawn by Hypothesis; the gates themselves come
    from a seeded RNG (thousands of gates would make shrinking slow and
    unhelpful).  Operands are mostly recent signals (deep, reconvergent
    logic) and sometimes any earlier one (long fan-out); a fifth are negated.
    Outputs: drawn gates and the last gate, possibly negated, at most
    ``max_outputs``; gates that reach no output are legal and must be dropped
    by the compiler.
    """
    n_in = draw(st.integers(min_inputs, max_inputs))
    n_gates = draw(st.integers(min_gates, max_gates))
    weights = draw(st.lists(st.integers(1, 6), min_size=len(NETLIST_KINDS), max_size=len(NETLIST_KINDS)))
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    kinds = list(NETLIST_KINDS)
    gates: list[tuple[str, tuple[tuple[int, bool], ...]]] = []
    for k in range(n_gates):
        kind = rng.choices(kinds, weights)[0]
        n_sig = n_in + k
        ops: list[tuple[int, bool]] = []
        while len(ops) < NETLIST_KINDS[kind]:
            s = n_sig - 1 - min(n_sig - 1, int(rng.expovariate(1 / 6))) if rng.random() < 0.8 \
                else rng.randrange(n_sig)
            if all(s != o for o, _ in ops) or n_sig < NETLIST_KINDS[kind]:
                ops.append((s, rng.random() < 0.2))
        gates.append((kind, tuple(ops)))
    n_out = draw(st.integers(1, max_outputs))
    outs = [(n_in + n_gates - 1, False)]
    outs += [(n_in + rng.randrange(n_gates), rng.random() < 0.3) for _ in range(n_out - 1)]
    return NetlistCase(n_in, tuple(gates), tuple(outs))


def netlist_specs(fmt: str = "blif", **kwargs: Any) -> st.SearchStrategy[tuple[NetlistCase, Spec]]:
    """(case, spec read back from the case's ``fmt`` text, ``"blif"`` or ``"aag"``)."""
    from .frontends import read_text

    def read_back(case: NetlistCase) -> tuple[NetlistCase, Spec]:
        text = case.blif() if fmt == "blif" else case.aag()
        return case, read_text(text, fmt, f"fuzz.{fmt}")

    return netlist_cases(**kwargs).map(read_back)


def fuzz_rows(n_inputs: int, *, exhaustive_up_to: int = 12, samples: int = 256, seed: int = 0) -> np.ndarray:
    """Every row for at most ``exhaustive_up_to`` inputs, else corner rows and ``samples`` random ones."""
    if n_inputs <= exhaustive_up_to:
        idx = np.arange(1 << n_inputs, dtype=np.int64)
        return ((idx[:, None] >> np.arange(n_inputs)[None, :]) & 1).astype(np.uint8)
    rng = np.random.default_rng(seed)
    corners = np.concatenate([np.zeros((1, n_inputs)), np.ones((1, n_inputs)), np.eye(n_inputs)])
    return np.concatenate([corners, rng.integers(0, 2, size=(samples, n_inputs))]).astype(np.uint8)


def _compile_kwargs() -> dict[str, Any]:
    """``verify=True`` when this threshnet's ``compile`` takes it (IR verification after every stage)."""
    import inspect

    import threshnet

    return {"verify": True} if "verify" in inspect.signature(threshnet.compile).parameters else {}


def assert_compiles_everywhere(spec: Spec | str, rows: np.ndarray | None = None, *,
                               expected: np.ndarray | None = None,
                               configs: Sequence[tuple[str, str, bool, bool]] = CONFIGS) -> int:
    """Compile ``spec`` in every setting of ``configs`` and compare each network with the evaluator.

    ``rows`` defaults to :func:`fuzz_rows`; ``expected`` defaults to
    ``threshnet.evaluate_batch(spec, rows)``.  IR verification is asked for
    (``THRESHNET_VERIFY=1``, and ``verify=True`` where ``compile`` takes it).
    Raises ``AssertionError`` naming the setting and the first differing row;
    any other exception (a compiler crash) propagates.  Returns the number of
    networks checked.
    """
    import os

    import torch

    import threshnet

    os.environ["THRESHNET_VERIFY"] = "1"
    spec = as_spec(spec)
    rows = fuzz_rows(len(spec.inputs)) if rows is None else np.asarray(rows, dtype=np.uint8)
    want = threshnet.evaluate_batch(spec, rows) if expected is None else expected
    extra = _compile_kwargs()
    x = torch.as_tensor(rows, dtype=torch.float32)
    for layout, act, out_step, optimize in configs:
        net = threshnet.compile(spec, act, output_step=out_step, layout=layout, optimize=optimize, **extra)
        with torch.no_grad():
            got = net(x).to(torch.float64).numpy()
        bad = np.nonzero((got != want).any(axis=1))[0]
        if bad.size:
            i = int(bad[0])
            raise AssertionError(
                f"layout={layout} activation={act} output_step={out_step} optimize={optimize}: "
                f"input {dict(zip(spec.inputs, rows[i].tolist()))} expected {want[i].tolist()} "
                f"got {got[i].tolist()}\nspec:\n{_spec_text(spec)}")
    return len(configs)


def _spec_text(spec: Spec, limit: int = 4000) -> str:
    from .compiler.spec import render

    text = render(spec)
    return text if len(text) <= limit else text[:limit] + "\n..."


# ----------------------------------------------------------------------------- v2 specs (words)

#: Widest value a drawn v2 expression may have before it is sliced back.
V2_MAX_WIDTH = 10


@dataclass(frozen=True)
class V2Case:
    """A drawn v2 spec: its text, its input ports (``name -> width``) and an independent evaluator.

    ``evaluate(values)`` gives the value of every assigned name (wires and outputs) for input
    port values ``values``, computed with Python integers from the drawn expression trees by
    the language's rules, never by threshnet.
    """

    text: str
    inputs: tuple[tuple[str, int], ...]
    program: tuple = field(default=(), repr=False, compare=False)  # ((targets, fn), ...) in order

    def evaluate(self, values: Mapping[str, int]) -> dict[str, int]:
        env: dict[str, int] = dict(values)
        for targets, fn in self.program:
            got = fn(env)
            for t, v in zip(targets, got):
                env[t] = v
        return {k: v for k, v in env.items() if k not in values}


# Precedence levels of the v2 grammar, tightest highest (see docs/language.md).
_ATOM, _UNARY, _MUL, _ADD, _SHIFT, _REL, _EQ, _AND, _XOR, _OR, _COND = 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2
_V2_BIN = {"*": _MUL, "+": _ADD, "-": _ADD, "<": _REL, "<=": _REL, ">": _REL, ">=": _REL, "==": _EQ, "!=": _EQ,
           "&": _AND, "^": _XOR, "|": _OR}


def _pop(v: int) -> int:
    return bin(v).count("1")


class _E:
    """A drawn expression: text, width, precedence and its value function (``env -> int``)."""

    __slots__ = ("text", "width", "prec", "fn")

    def __init__(self, text: str, width: int, prec: int, fn: Any) -> None:
        self.text, self.width, self.prec, self.fn = text, width, prec, fn


class _V2Draw:
    """Draws typed v2 expressions: each with its width by the language's width rules and its value."""

    def __init__(self, draw: Any, pool: list[tuple[str, int]], funcs: list[tuple[str, list[int], list[int], Any]]):
        self.draw, self.pool, self.funcs = draw, pool, funcs

    def wrap(self, e: _E, prec: int) -> str:
        """``e``'s text as an operand needing precedence ``prec``: parenthesised when needed (or sometimes)."""
        if e.prec < prec or (e.prec < _ATOM and self.draw(st.integers(0, 5)) == 0):
            return f"({e.text})"
        return e.text

    def leaf(self) -> _E:
        d = self.draw
        if self.pool and d(st.integers(0, 4)):
            name, w = d(st.sampled_from(self.pool))
            return _E(name, w, _ATOM, lambda env, n=name: env[n])
        v = d(st.integers(0, 40))
        text = d(st.sampled_from([str(v), hex(v), bin(v)]))
        return _E(text, max(1, v.bit_length()), _ATOM, lambda env, v=v: v)

    def fit(self, e: _E, most: int) -> _E:
        """``e`` sliced to at most ``most`` bits."""
        if e.width <= most:
            return e
        mask = (1 << most) - 1
        return _E(f"{self.wrap(e, _ATOM)}[{most - 1}:0]", most, _ATOM, lambda env, f=e.fn: f(env) & mask)

    def bit(self, depth: int) -> _E:
        """A 1-bit expression."""
        e = self.expr(depth)
        if e.width == 1:
            return e
        k = self.draw(st.integers(0, e.width - 1))
        return _E(f"{self.wrap(e, _ATOM)}[{k}]", 1, _ATOM, lambda env, f=e.fn: (f(env) >> k) & 1)

    def binary(self, op: str, a: _E, b: _E) -> _E:
        prec = _V2_BIN[op]
        text = f"{self.wrap(a, prec)} {op} {self.wrap(b, prec + 1)}"
        fa, fb = a.fn, b.fn
        if op in "+-*":
            w = a.width + b.width if op == "*" else max(a.width, b.width) + 1
            m = (1 << w) - 1
            f = {"+": lambda x, y: x + y, "-": lambda x, y: (x - y) & m, "*": lambda x, y: x * y}[op]
        elif op in ("&", "^", "|"):
            w = max(a.width, b.width)
            f = {"&": lambda x, y: x & y, "^": lambda x, y: x ^ y, "|": lambda x, y: x | y}[op]
        else:
            w = 1
            f = {"<": lambda x, y: int(x < y), "<=": lambda x, y: int(x <= y), ">": lambda x, y: int(x > y),
                 ">=": lambda x, y: int(x >= y), "==": lambda x, y: int(x == y), "!=": lambda x, y: int(x != y)}[op]
        return self.fit(_E(text, w, prec, lambda env: f(fa(env), fb(env))), V2_MAX_WIDTH)

    def expr(self, depth: int) -> _E:
        d = self.draw
        if depth <= 0:
            return self.leaf()
        kind = d(st.sampled_from(["leaf", "not", "arith", "shift", "cmp", "bitwise", "cond", "slice", "concat",
                                  "maj", "atleast", "popcount", "reduce", "minmax", "th", "call"]))
        sub = lambda: self.expr(depth - 1)  # noqa: E731
        if kind == "leaf":
            return self.leaf()
        if kind == "not":
            e = sub()
            m = (1 << e.width) - 1
            return _E(f"{d(st.sampled_from('~!'))}{self.wrap(e, _UNARY)}", e.width, _UNARY,
                      lambda env, f=e.fn: ~f(env) & m)
        if kind in ("arith", "cmp", "bitwise"):
            ops = {"arith": "+-*", "cmp": ["<", "<=", ">", ">=", "==", "!="], "bitwise": "&^|"}[kind]
            return self.binary(d(st.sampled_from(list(ops))), sub(), sub())
        if kind == "shift":
            e = sub()
            k = d(st.integers(0, 3))
            if d(st.booleans()):
                return self.fit(_E(f"{self.wrap(e, _SHIFT)} << {k}", e.width + k, _SHIFT,
                                   lambda env, f=e.fn: f(env) << k), V2_MAX_WIDTH)
            return _E(f"{self.wrap(e, _SHIFT)} >> {k}", max(e.width - k, 1), _SHIFT, lambda env, f=e.fn: f(env) >> k)
        if kind == "cond":
            c, x, y = self.bit(depth - 1), sub(), sub()
            text = f"{self.wrap(c, _OR)} ? {self.wrap(x, _COND)} : {self.wrap(y, _COND)}"
            return _E(text, max(x.width, y.width), _COND,
                      lambda env, fc=c.fn, fx=x.fn, fy=y.fn: fx(env) if fc(env) else fy(env))
        if kind == "slice":
            e = sub()
            hi = d(st.integers(0, e.width - 1))
            lo = d(st.integers(0, hi))
            m = (1 << (hi - lo + 1)) - 1
            return _E(f"{self.wrap(e, _ATOM)}[{hi}:{lo}]", hi - lo + 1, _ATOM, lambda env, f=e.fn: (f(env) >> lo) & m)
        if kind == "concat":
            parts = [sub() for _ in range(d(st.integers(1, 3)))]

            def cat(env: Mapping[str, int], parts: list[_E] = parts) -> int:
                v = 0
                for p in parts:
                    v = (v << p.width) | p.fn(env)
                return v
            return self.fit(_E("{" + ", ".join(p.text for p in parts) + "}", sum(p.width for p in parts), _ATOM,
                               cat), V2_MAX_WIDTH)
        if kind in ("maj", "popcount", "reduce", "atleast"):
            parts = [sub() for _ in range(d(st.integers(1, 3)))]
            args = ", ".join(p.text for p in parts)
            n = sum(p.width for p in parts)
            fns = [p.fn for p in parts]
            count = lambda env: sum(_pop(f(env)) for f in fns)  # noqa: E731
            if kind == "maj":
                return _E(f"maj({args})", 1, _ATOM, lambda env: int(count(env) >= n // 2 + 1))
            if kind == "popcount":
                return _E(f"popcount({args})", max(1, n.bit_length()), _ATOM, count)
            if kind == "atleast":
                k = d(st.integers(0, n + 1))
                return _E(f"atleast({k}, {args})", 1, _ATOM, lambda env: int(count(env) >= k))
            red = d(st.sampled_from(["and", "or", "xor"]))
            f = {"and": lambda c: int(c == n), "or": lambda c: int(c >= 1), "xor": lambda c: c & 1}[red]
            return _E(f"{red}({args})", 1, _ATOM, lambda env: f(count(env)))
        if kind == "minmax":
            a, b = sub(), sub()
            name = d(st.sampled_from(["min", "max"]))
            g = min if name == "min" else max
            return _E(f"{name}({a.text}, {b.text})", max(a.width, b.width), _ATOM,
                      lambda env, fa=a.fn, fb=b.fn: g(fa(env), fb(env)))
        if kind == "th":
            terms = [self.bit(depth - 1) for _ in range(d(st.integers(1, 4)))]
            weights = [d(st.integers(-3, 3)) for _ in terms]
            t = d(st.integers(0, 4))
            body = ""
            for k, (wt, x) in enumerate(zip(weights, terms)):
                sign = "-" if wt < 0 else "+"
                term = f"{abs(wt)}*{self.wrap(x, _ATOM)}"
                body += (f"0 {sign} " if k == 0 and wt < 0 else "" if k == 0 else f" {sign} ") + term
            fns = [x.fn for x in terms]
            return _E(f"th({body} >= {t})", 1, _ATOM,
                      lambda env: int(sum(w * f(env) for w, f in zip(weights, fns)) >= t))
        single = [f for f in self.funcs if len(f[2]) == 1]
        if not single:
            return self.leaf()
        name, params, results, body = d(st.sampled_from(single))
        args = [self.fit(sub(), pw) for pw in params]
        fns = [a.fn for a in args]
        return _E(f"{name}({', '.join(a.text for a in args)})", results[0], _ATOM,
                  lambda env: body([f(env) for f in fns])[0])


def _vdecl(name: str, w: int, vector: bool) -> str:
    return f"{name}[{w}]" if vector else name


@st.composite
def v2_spec_cases(draw: Any, max_inputs: int = 4, max_width: int = 6, max_assignments: int = 5,
                  max_depth: int = 3, functions: bool = True) -> V2Case:
    """Random well-formed v2 specs: vector and scalar inputs, every operator and built-in, functions
    (one or several results, vector parameters), slices, concatenation, ``?:``, bit-by-bit outputs.

    Every expression is drawn as a tree with its width and value by the language's rules
    (:meth:`V2Case.evaluate` is an oracle independent of threshnet) and written with the fewest
    parentheses the precedence table needs, plus a few extra.  Conditions are 1 bit, slices are
    in range and arguments fit their parameters.  Ports are declared (outputs sometimes wider
    than their value, or assigned bit by bit) or inferred.
    """
    n_in = draw(st.integers(1, max_inputs))
    inputs: list[tuple[str, int, bool]] = []
    for i in range(n_in):
        vector = draw(st.booleans())
        inputs.append((f"x{i}", draw(st.integers(1, max_width)) if vector else 1, vector))
    lines: list[str] = []
    funcs: list[tuple[str, list[int], list[int], Any]] = []
    if functions:
        for f in range(draw(st.integers(0, 2))):
            params = [(f"p{k}", draw(st.integers(1, 4)), draw(st.booleans())) for k in range(draw(st.integers(1, 3)))]
            params = [(n, w if v else 1, v) for n, w, v in params]
            gen = _V2Draw(draw, [(n, w) for n, w, _ in params], funcs[:])
            results, body, fns = [], [], []
            for r in range(draw(st.integers(1, 2))):
                e = gen.expr(draw(st.integers(0, 2)))
                rw = draw(st.integers(e.width, e.width + 1))
                results.append((f"r{r}", rw, rw > 1 or draw(st.booleans())))
                body.append(f"    r{r} = {e.text}")
                fns.append(e.fn)
            names = [n for n, _, _ in params]

            def run(args: list[int], names: list[str] = names, fns: list[Any] = fns) -> list[int]:
                env = dict(zip(names, args))
                return [f(env) for f in fns]
            lines += [f"def f{f}({', '.join(_vdecl(*p) for p in params)}) -> "
                      f"{', '.join(_vdecl(*r) for r in results)}", *body, "end"]
            funcs.append((f"f{f}", [w for _, w, _ in params], [w for _, w, _ in results], run))
    pool = [(n, w) for n, w, _ in inputs]
    gen = _V2Draw(draw, pool, funcs)
    assigns: list[tuple[str, int]] = []
    program: list[tuple[tuple[str, ...], Any]] = []
    for k in range(draw(st.integers(1, max_assignments))):
        multi = [f for f in funcs if len(f[2]) > 1]
        if multi and draw(st.integers(0, 4)) == 0:
            name, params, res, body = draw(st.sampled_from(multi))
            args = [gen.fit(gen.expr(draw(st.integers(0, 1))), pw) for pw in params]
            targets = tuple(f"w{k}_{r}" for r in range(len(res)))
            lines.append(f"{', '.join(targets)} = {name}({', '.join(a.text for a in args)})")
            fns = [a.fn for a in args]
            program.append((targets, lambda env, body=body, fns=fns: body([f(env) for f in fns])))
            for t, w in zip(targets, res):
                assigns.append((t, w))
                pool.append((t, w))
            continue
        e = gen.expr(draw(st.integers(0, max_depth)))
        lines.append(f"w{k} = {e.text}")
        program.append(((f"w{k}",), lambda env, f=e.fn: [f(env)]))
        assigns.append((f"w{k}", e.width))
        pool.append((f"w{k}", e.width))
    decl_out = draw(st.booleans())
    body_lines = lines
    header = []
    if draw(st.booleans()) or decl_out or any(v for _, _, v in inputs):  # inferred inputs are 1 bit
        header.append("input " + ", ".join(_vdecl(*i) for i in inputs))
    if decl_out:
        outs = draw(st.lists(st.sampled_from(assigns), min_size=1, max_size=len(assigns), unique=True))
        decls, extra = [], []
        for n, w in outs:
            ow = draw(st.integers(w, w + 2))
            decls.append(_vdecl(f"o_{n}", ow, ow > 1))
            if ow > 1 and draw(st.integers(0, 3)) == 0:  # bit by bit
                extra.append(f"o_{n}[0] = {n if w == 1 else f'{n}[0]'}")
                extra.append(f"o_{n}[{ow - 1}:1] = " + (f"{n}[{w - 1}:1]" if w > 1 else "0"))
            else:
                extra.append(f"o_{n} = {n}")
            program.append(((f"o_{n}",), lambda env, n=n: [env[n]]))  # the same value, zero-extended
        header.append("output " + ", ".join(decls))
        body_lines = lines + extra
    if draw(st.booleans()) and not funcs:  # statements in any order
        body_lines = draw(st.permutations(body_lines))
    text = "\n".join(header + list(body_lines)) + "\n"
    if header:
        ports = tuple((n, w) for n, w, _ in inputs)
    else:  # inferred: the inputs read, in order of first use
        width = {n: w for n, w, _ in inputs}
        seen = dict.fromkeys(n for n in re.findall(r"(?<![A-Za-z0-9_])[A-Za-z_][A-Za-z0-9_]*", text) if n in width)
        ports = tuple((n, width[n]) for n in seen)
    return V2Case(text, ports, tuple(program))


def v2_spec_texts(**kwargs: Any) -> st.SearchStrategy[str]:
    """Text of random v2 specs (see :func:`v2_spec_cases`)."""
    return v2_spec_cases(**kwargs).map(lambda c: c.text)


def word_values(spec: Spec) -> st.SearchStrategy[dict[str, int]]:
    """Values for the input ports of ``spec.words`` (``name -> int`` in range)."""
    ws = spec.words
    if ws is None:
        raise ValueError("the spec has no word program")
    return st.fixed_dictionaries({p.name: st.integers(0, (1 << p.width) - 1) for p in ws.inputs})
