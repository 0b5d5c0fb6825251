"""The word-level IR: unsigned words and the operators on them, kept as operators.

The v2 spec language elaborates into a :class:`WordSpec`; lowering stages
turn each operator into bits (``bitblast``: plain logic, the reference) or
threshold gates (``synthesize``: the threshold constructions).

Contract
--------
A ``WordSpec`` is a list of nodes in SSA form: node ``i`` reads only nodes
``< i``.  Every node is a :class:`WNode`:

============  ==================================================================
field         meaning
============  ==================================================================
``op``        one of :data:`OPS` (table below)
``args``      indices of earlier nodes, in operand order
``width``     bits of the result, >= 1; the value is always in ``[0, 2**width)``
``params``    operator parameters (ints and tuples of ints), see the table
``span``      source span of the expression (``None`` when generated)
``name``      the spec name it was assigned to, if any (for dumps and neuron names)
============  ==================================================================

Semantics: every operator computes an exact non-negative integer from its
operands' integer values and the result is taken **mod 2**width**.  So
``add`` with ``width = max(wa, wb) + 1`` is exact, ``sub`` is two's
complement in its width, and a narrower ``width`` drops high bits.

============  ============  ==========================================  ================
op            args          value (then mod 2**width)                    params
============  ============  ==========================================  ================
input         ()            the input port's value                       (port index,)
const         ()            ``value``                                    (value,)
zext          (a,)          a  (width >= wa)                             ()
slice         (a,)          (a >> lo)  (width == hi - lo + 1, hi < wa)   (hi, lo)
concat        (p1, ..., pk) parts, p1 most significant (width = sum)     ()
not           (a,)          2**width - 1 - a  (width == wa)              ()
and/or/xor    (a, b, ...)   bitwise; every wi == width, k >= 2           ()
add           (a, b, ...)   a + b + ... , k >= 2                         ()
sub           (a, b)        a - b                                        ()
mul           (a, b)        a * b                                        ()
shl / shr     (a,)          a << k  /  a >> k                            (k,)
lt le gt ge   (a, b)        comparison, width 1                          ()
eq ne         (a, b)        comparison, width 1                          ()
mux           (c, x, y)     x if c else y  (wc == 1)                     ()
min / max     (a, b)        min(a, b) / max(a, b)                        ()
popcount      (a, ...)      number of 1 bits over all operands           ()
atleast       (a, ...)      1 if popcount(all operand bits) >= k, width 1  (k,)
parity        (a, ...)      popcount(all operand bits) mod 2, width 1    ()
th            (x1, ..., xn) 1 if sum(wi * xi) >= t; every wi == 1, width 1  (weights tuple, t)
============  ============  ==========================================  ================

``maj(x...)`` is ``atleast`` with ``k = n // 2 + 1`` over its ``n`` bits,
``and(x)`` / ``or(x)`` are ``atleast(n)`` / ``atleast(1)``, ``xor(x)`` is
``parity``.  Outputs are ``(Port, node)`` pairs; an output port's width equals
its node's width.  Ports name their bits ``a[0], a[1], ...`` (bit 0 least
significant) when ``vector`` is true and ``a`` when it is a scalar.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from .errors import DEFAULT_FILENAME, Span
from .gcpause import without_gc
from .spec import _from_bytes, _span_ints, _span_of, _Strings, _to_bytes, _unstrings

__all__ = ["OPS", "Port", "WNode", "WordSpec", "WordError", "bit_names", "dump_words", "evaluate_words",
           "input_values", "is_bit_logic", "verify_words"]

#: Every operator of the word IR.
OPS = ("input", "const", "zext", "slice", "concat", "not", "and", "or", "xor", "add", "sub", "mul", "shl", "shr",
       "lt", "le", "gt", "ge", "eq", "ne", "mux", "min", "max", "popcount", "atleast", "parity", "th")
BITWISE = ("not", "and", "or", "xor")
COMPARE = ("lt", "le", "gt", "ge", "eq", "ne")


@dataclass(frozen=True, slots=True)
class Port:
    """An input or output: ``width`` bits; ``vector`` ports name bits ``name[i]``."""

    name: str
    width: int = 1
    vector: bool = False

    @property
    def bits(self) -> tuple[str, ...]:
        return bit_names(self.name, self.width, self.vector)

    def __reduce__(self):  # positional: the slots default pickles through dataclasses.fields per object
        return Port, (self.name, self.width, self.vector)


def bit_names(name: str, width: int, vector: bool) -> tuple[str, ...]:
    """``("a[0]", ..., "a[w-1]")`` for a vector, ``("a",)`` for a scalar."""
    if not vector:
        return (name,)
    return tuple(f"{name}[{i}]" for i in range(width))


@dataclass(frozen=True, slots=True)
class WNode:
    op: str
    args: tuple[int, ...]
    width: int
    params: tuple = ()
    span: Span | None = field(default=None, compare=False)
    name: str | None = field(default=None, compare=False)

    def __reduce__(self):  # a program of 100k nodes pickles 5x faster than through dataclasses.fields
        return WNode, (self.op, self.args, self.width, self.params, self.span, self.name)


@dataclass(frozen=True)
class WordSpec:
    """A word-level program: ports, SSA nodes, and the node each output reads."""

    inputs: tuple[Port, ...]
    outputs: tuple[tuple[Port, int], ...]
    nodes: tuple[WNode, ...]
    filename: str = DEFAULT_FILENAME
    source: str | None = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        return (f"WordSpec(inputs={[p.name for p in self.inputs]}, outputs={[p.name for p, _ in self.outputs]}, "
                f"{len(self.nodes)} nodes)")

    @without_gc
    def __reduce__(self):
        """A packed table, as ``Spec`` pickles (see :mod:`.spec`): a handful of objects, not several per node."""
        strings = _Strings()
        ports = array("q")
        for p in self.inputs + tuple(p for p, _ in self.outputs):
            ports.extend((strings(p.name), p.width, int(p.vector)))
        rows, args, spans = array("q"), array("q"), array("q")
        ints, other = array("q"), {}  # params: all-int tuples packed (length, values), the rest by node
        for i, n in enumerate(self.nodes):
            plain = not n.params or all(type(x) is int for x in n.params)
            rows.extend((strings(n.op), len(n.args), n.width, -1 if n.name is None else strings(n.name),
                         len(n.params) if plain else -1))
            args.extend(n.args)
            spans.extend(_span_ints(n.span))
            if plain:
                ints.extend(n.params)
            else:
                other[i] = n.params
        table = (*map(_to_bytes, (ports, array("q", [v for _, v in self.outputs]), rows, args, spans, ints)),
                 len(self.inputs), other)
        return _unpack_words, (strings.packed(), table, self.filename, self.source)


@without_gc
def _unpack_words(strings: tuple[str, bytes], table: tuple, filename: str, source: str | None) -> WordSpec:
    names = _unstrings(strings)
    ports, outs, rows, args, spans, ints = map(_from_bytes, table[:6])
    n_in, other = table[6:]
    pi = iter(ports)
    all_ports = [Port(names[k], w, bool(v)) for k, w, v in zip(pi, pi, pi)]
    nodes = []
    r, s = iter(rows), iter(spans)
    args_l, ints_l = args.tolist(), ints.tolist()
    at = ip = 0
    for i, ((op, n_args, width, name, n_params), sp) in enumerate(zip(zip(r, r, r, r, r), zip(s, s, s, s))):
        if n_params >= 0:
            params = tuple(ints_l[ip:ip + n_params])
            ip += n_params
        else:
            params = other[i]
        nodes.append(WNode(names[op], tuple(args_l[at:at + n_args]), width, params, _span_of(*sp),
                           None if name < 0 else names[name]))
        at += n_args
    return WordSpec(tuple(all_ports[:n_in]), tuple(zip(all_ports[n_in:], outs)), tuple(nodes), filename, source)


class WordError(Exception):
    """A word IR broke its contract: node index (or None) and what is wrong."""

    def __init__(self, node: int | None, message: str) -> None:
        self.node, self.message = node, message
        super().__init__(f"words: {'' if node is None else f'node {node}: '}{message}")


# ----------------------------------------------------------------------------- semantics

def _popcount(x: int) -> int:
    return bin(x).count("1")


def _value(n: WNode, a: list[int], widths: list[int]) -> int:
    """The exact value of node ``n`` on operand values ``a`` (before the mod)."""
    op = n.op
    if op == "const":
        return n.params[0]
    if op == "zext":
        return a[0]
    if op == "slice":
        return a[0] >> n.params[1]
    if op == "concat":
        v = 0
        for x, w in zip(a, widths):
            v = (v << w) | x
        return v
    if op == "not":
        return ~a[0]
    if op == "and":
        v = a[0]
        for x in a[1:]:
            v &= x
        return v
    if op == "or":
        v = 0
        for x in a:
            v |= x
        return v
    if op == "xor":
        v = 0
        for x in a:
            v ^= x
        return v
    if op == "add":
        return sum(a)
    if op == "sub":
        return a[0] - a[1]
    if op == "mul":
        return a[0] * a[1]
    if op == "shl":
        return a[0] << n.params[0]
    if op == "shr":
        return a[0] >> n.params[0]
    if op in COMPARE:
        x, y = a
        return int({"lt": x < y, "le": x <= y, "gt": x > y, "ge": x >= y, "eq": x == y, "ne": x != y}[op])
    if op == "mux":
        return a[1] if a[0] else a[2]
    if op == "min":
        return min(a)
    if op == "max":
        return max(a)
    count = sum(_popcount(x) for x in a)
    if op == "popcount":
        return count
    if op == "atleast":
        return int(count >= n.params[0])
    if op == "parity":
        return count & 1
    if op == "th":
        weights, t = n.params
        return int(sum(w * x for w, x in zip(weights, a)) >= t)
    raise WordError(None, f"unknown operator {op!r}")


def evaluate_words(ws: WordSpec, values: Mapping[str, int]) -> dict[str, int]:
    """Each output's value for input port values ``values`` (``name -> int``); the word oracle."""
    vals: list[int] = []
    widths: list[int] = []
    for i, n in enumerate(ws.nodes):
        if n.op == "input":
            port = ws.inputs[n.params[0]]
            v = values[port.name]
            if not 0 <= v < (1 << port.width):
                raise ValueError(f"input {port.name} = {v} does not fit in {port.width} bits")
        else:
            v = _value(n, [vals[j] for j in n.args], [widths[j] for j in n.args])
        vals.append(v & ((1 << n.width) - 1))
        widths.append(n.width)
    return {p.name: vals[i] for p, i in ws.outputs}


# ----------------------------------------------------------------------------- contract

_ARITY: dict[str, tuple[int, int | None]] = {
    "input": (0, 0), "const": (0, 0), "zext": (1, 1), "slice": (1, 1), "concat": (1, None), "not": (1, 1),
    "and": (2, None), "or": (2, None), "xor": (2, None), "add": (2, None), "sub": (2, 2), "mul": (2, 2),
    "shl": (1, 1), "shr": (1, 1), "mux": (3, 3), "min": (2, 2), "max": (2, 2), "popcount": (1, None),
    "atleast": (1, None), "parity": (1, None), "th": (1, None),
    **{c: (2, 2) for c in COMPARE},
}


def verify_words(ws: WordSpec) -> None:
    """Raise :class:`WordError` unless ``ws`` keeps the contract in the module docstring."""
    seen_inputs: set[int] = set()
    for i, n in enumerate(ws.nodes):
        if n.op not in _ARITY:
            raise WordError(i, f"unknown operator {n.op!r}")
        lo, hi = _ARITY[n.op]
        if len(n.args) < lo or (hi is not None and len(n.args) > hi):
            raise WordError(i, f"{n.op} takes {lo}{'' if hi == lo else '+' if hi is None else f'-{hi}'} "
                               f"operands, got {len(n.args)}")
        if not (isinstance(n.width, int) and n.width >= 1):
            raise WordError(i, f"width {n.width!r} is not a positive integer")
        for j in n.args:
            if not (isinstance(j, int) and 0 <= j < i):
                raise WordError(i, f"operand {j!r} is not an earlier node")
        w = [ws.nodes[j].width for j in n.args]
        op = n.op
        if op == "input":
            p = n.params[0] if n.params else None
            if not (isinstance(p, int) and 0 <= p < len(ws.inputs)) or p in seen_inputs:
                raise WordError(i, f"input port index {p!r} is out of range or repeated")
            seen_inputs.add(p)
            if ws.inputs[p].width != n.width:
                raise WordError(i, f"input {ws.inputs[p].name} has width {ws.inputs[p].width}, node {n.width}")
        elif op == "const":
            if not (n.params and isinstance(n.params[0], int) and 0 <= n.params[0] < (1 << n.width)):
                raise WordError(i, f"constant {n.params!r} does not fit in {n.width} bits")
        elif op == "zext" and n.width < w[0]:
            raise WordError(i, f"zext to {n.width} bits from {w[0]}")
        elif op == "slice":
            hi, lo_ = n.params
            if not (0 <= lo_ <= hi < w[0] and n.width == hi - lo_ + 1):
                raise WordError(i, f"slice [{hi}:{lo_}] of a {w[0]}-bit word into {n.width} bits")
        elif op == "concat" and n.width != sum(w):
            raise WordError(i, f"concat of {sum(w)} bits has width {n.width}")
        elif op in BITWISE and any(x != n.width for x in w):
            raise WordError(i, f"{op} operands have widths {w}, node {n.width}")
        elif op in ("shl", "shr") and not (n.params and isinstance(n.params[0], int) and n.params[0] >= 0):
            raise WordError(i, f"shift amount {n.params!r} is not a non-negative integer")
        elif (op in COMPARE or op in ("atleast", "parity", "th")) and n.width != 1:
            raise WordError(i, f"{op} has width {n.width}, not 1")
        elif op == "mux" and w[0] != 1:
            raise WordError(i, f"mux condition has width {w[0]}, not 1")
        elif op == "atleast" and not (n.params and isinstance(n.params[0], int)):
            raise WordError(i, f"atleast needs an integer k, got {n.params!r}")
        elif op == "th":
            weights, t = n.params
            if len(weights) != len(n.args) or any(x != 1 for x in w):
                raise WordError(i, "th needs one integer weight per 1-bit operand")
            if not all(isinstance(x, int) for x in (*weights, t)):
                raise WordError(i, "th weights and threshold must be integers")
    if len(seen_inputs) != len(ws.inputs):
        raise WordError(None, f"{len(ws.inputs) - len(seen_inputs)} input ports have no input node")
    names = [p.name for p in ws.inputs] + [p.name for p, _ in ws.outputs]
    if len(set(names)) != len(names):
        raise WordError(None, "port names repeat")
    for p, i in ws.outputs:
        if not (0 <= i < len(ws.nodes)) or ws.nodes[i].width != p.width:
            raise WordError(i if 0 <= i < len(ws.nodes) else None, f"output {p.name} ({p.width} bits) reads "
                            f"node {i}")


def dump_words(ws: WordSpec) -> str:
    """Deterministic text: ports, then ``%i = op.width %a, %b [params]  # name`` per node."""
    lines = ["inputs " + ", ".join(f"{p.name}[{p.width}]" if p.vector else p.name for p in ws.inputs)]
    for i, n in enumerate(ws.nodes):
        args = ", ".join(f"%{j}" for j in n.args)
        params = f" {list(n.params)}" if n.params and n.op != "input" else ""
        src = f" {ws.inputs[n.params[0]].name}" if n.op == "input" else ""
        note = f"  # {n.name}" if n.name else ""
        lines.append(f"%{i} = {n.op}.{n.width}{src}{' ' + args if args else ''}{params}{note}")
    lines.append("outputs " + ", ".join(f"{p.name} = %{i}" for p, i in ws.outputs))
    return "\n".join(lines) + "\n"


def is_bit_logic(ws: WordSpec) -> bool:
    """True when every node is a 1-bit input, constant, NOT, AND, OR or XOR (a v1 spec)."""
    return all(n.width == 1 and n.op in ("input", "const") + BITWISE for n in ws.nodes)


def input_values(ws: WordSpec, bits: Sequence[int]) -> dict[str, int]:
    """Port values from one bit per input bit, in port order (bit 0 first within a port)."""
    out: dict[str, int] = {}
    k = 0
    for p in ws.inputs:
        v = 0
        for b in range(p.width):
            v |= (int(bits[k]) & 1) << b
            k += 1
        out[p.name] = v
    return out
