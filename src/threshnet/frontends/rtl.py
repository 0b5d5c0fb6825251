"""Verilog RTL that keeps its words: Yosys' coarse cells (``$add``, ``$mul``, ``$lt``, ``$mux``...) as a WordSpec.

:func:`read_rtl` reads a Verilog file twice through Yosys: the bit-level
netlist of :mod:`.verilog` (the reference, and the home of every error
message), and the design *before techmapping* as JSON::

    read_verilog [-sv] FILE
    hierarchy -check -top TOP | -auto-top
    proc; flatten; check; opt_clean
    write_json

whose cells are word operators on bit vectors.  Each cell becomes a node of
a :class:`~threshnet.compiler.words.WordSpec` and the WordSpec is attached to
the bit-level spec (``spec.words``), so ``threshnet.compile`` synthesizes the
words with the threshold constructions (a 32-bit ``+`` in a few layers
instead of a 32-layer ripple) while ``threshnet.check``/``prove`` compare the
network against the bit-level netlist Yosys made of the same file.

Cell semantics (Yosys' simulation library, ``simlib.v``): an operand is
extended to the operation's width, with copies of its top bit when the cell
is signed (``A_SIGNED`` and ``B_SIGNED``), else with zeros; ``$add $sub $mul
$neg $pos $and $or $xor $xnor $not`` compute in ``Y_WIDTH`` bits;
comparisons compare both operands at ``max(A_WIDTH, B_WIDTH)`` bits (signed
ones after flipping the top bits, which maps two's complement order onto
unsigned order); ``$mux`` is ``S ? B : A``; ``$pmux`` takes the first ``B``
part whose ``S`` bit is set (Yosys leaves several set bits undefined, so
any choice is sound); shifts by a constant are wiring and by a signal a
barrel of word muxes; ``$logic_*`` and ``$reduce_*`` are ``atleast``/
``parity`` of the operand bits.  A bit vector that a cell reads is
rebuilt from the words that drive its bits (``slice`` and ``concat``
nodes, ``const`` for constant bits; ``x``/``z`` read as 0, as the bit-level
reader does).

A design with a cell outside this list (``$div``, flip-flops, memories...)
or ports whose bits are not named ``a[0] ..`` (a ``[0:3]`` or ``[7:4]``
range) keeps the bit-level path: :func:`read_rtl` returns the bit-level spec
without words, and :func:`rtl_words` says why.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import tempfile

from ..compiler.errors import SpecError
from ..compiler.spec import Spec
from ..compiler.words import Port, WNode, WordError, WordSpec, verify_words
from .verilog import _quote, find_yosys, read_verilog

__all__ = ["CoarseUnsupported", "read_rtl", "rtl_words", "words_from_json"]

Bit = tuple[int, int]  # (node, bit index); node -1: constant, index = value
_ZERO: Bit = (-1, 0)
_ONE: Bit = (-1, 1)
_COMPARE = {"$lt": "lt", "$le": "le", "$gt": "gt", "$ge": "ge", "$eq": "eq", "$ne": "ne", "$eqx": "eq",
            "$nex": "ne"}
_ARITH = {"$add": "add", "$sub": "sub", "$mul": "mul"}
_BITWISE = {"$and": "and", "$or": "or", "$xor": "xor"}


class CoarseUnsupported(SpecError):
    """The design has something the word path does not read (it keeps the bit-level path)."""


def read_rtl(path: str | os.PathLike[str], *, top: str | None = None, sv: bool | None = None,
             strict: bool = False) -> Spec:
    """The bit-level spec of a Verilog file with its word program attached (``spec.words``).

    When the coarse netlist has a cell the word path does not read, the spec
    comes back without words (the bit-level path), unless ``strict``: then
    :class:`CoarseUnsupported` says which cell and where.
    """
    spec = read_verilog(path, top=top, sv=sv)
    try:
        ws = rtl_words(path, top=top, sv=sv, spec=spec)
    except CoarseUnsupported:
        if strict:
            raise
        return spec
    return dataclasses.replace(spec, words=ws)


def rtl_words(path: str | os.PathLike[str], *, top: str | None = None, sv: bool | None = None,
              spec: Spec | None = None) -> WordSpec:
    """The WordSpec of a Verilog file's coarse netlist (ports checked against ``spec`` when given)."""
    filename = os.fspath(path)
    if sv is None:
        sv = filename.lower().endswith(".sv")
    data = _coarse_json(filename, top=top, sv=sv)
    ws = words_from_json(data, filename, top=top)
    if spec is not None:
        bits_in = tuple(b for p in ws.inputs for b in p.bits)
        bits_out = tuple(b for p, _ in ws.outputs for b in p.bits)
        if bits_in != tuple(spec.inputs) or bits_out != tuple(spec.outputs):
            raise CoarseUnsupported("the word ports do not name the bit-level ports' bits "
                                    f"({', '.join(bits_in[:4])} .. vs {', '.join(spec.inputs[:4])} ..)",
                                    filename=filename)
    return ws


def _coarse_json(filename: str, *, top: str | None, sv: bool) -> dict:
    cmd = find_yosys()
    if cmd is None:
        raise SpecError("reading Verilog needs Yosys (pip install 'threshnet[verilog]')", filename=filename)
    with tempfile.TemporaryDirectory(prefix="threshnet-rtl-") as tmp:
        source = os.path.relpath(os.path.abspath(filename), tmp)
        if '"' in source or not source.isprintable():
            source = "input" + (".sv" if sv else ".v")
            shutil.copyfile(filename, os.path.join(tmp, source))
        hier = f"hierarchy -check -top {_quote(top)}" if top else "hierarchy -check -auto-top"
        script = "\n".join([f"read_verilog{' -sv' if sv else ''} {_quote(source)}", hier, "proc", "flatten",
                            "check", "opt_clean", "write_json out.json"]) + "\n"
        with open(os.path.join(tmp, "coarse.ys"), "w", encoding="utf-8") as f:
            f.write(script)
        proc = subprocess.run(cmd + ["-q", "-s", "coarse.ys"], cwd=tmp, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, errors="replace")
        if proc.returncode != 0:
            raise SpecError("Yosys failed on the coarse netlist:\n" + (proc.stdout + proc.stderr)[-2000:],
                            filename=filename)
        with open(os.path.join(tmp, "out.json"), encoding="utf-8") as f:
            return json.load(f)


def _int(v: object) -> int:
    return int(v, 2) if isinstance(v, str) else int(v)  # type: ignore[arg-type]


def _located(msg: str, cell: dict, filename: str) -> CoarseUnsupported:
    src = str(cell.get("attributes", {}).get("src", "")).split("|")[0]
    line = None
    if ":" in src:
        try:
            line = int(src.rsplit(":", 1)[1].split(".")[0])
        except ValueError:
            line = None
    return CoarseUnsupported(msg, filename=filename, line=line)


class _Words:
    """The WordSpec under construction: nodes, and words rebuilt from bit lists (cached)."""

    def __init__(self) -> None:
        self.nodes: list[WNode] = []
        self.cache: dict[tuple, int] = {}
        self.sole: set[int] = set()

    def add(self, op: str, args: tuple[int, ...], width: int, params: tuple = (), name: str | None = None) -> int:
        key = (op, args, width, params)
        if key in self.cache and name is None:
            return self.cache[key]
        self.nodes.append(WNode(op, args, width, params, None, name))
        self.cache.setdefault(key, len(self.nodes) - 1)
        return len(self.nodes) - 1

    def word(self, bits: list[Bit]) -> int:
        """A node whose value has these bits (LSB first)."""
        runs: list[tuple[int, int, int]] = []  # (node, lo, hi) with node -1: constant value in lo, width hi
        for n, i in bits:
            if runs:
                rn, lo, hi = runs[-1]
                if n == -1 and rn == -1:
                    runs[-1] = (-1, lo | (i << hi), hi + 1)
                    continue
                if n == rn and n != -1 and i == hi + 1:
                    runs[-1] = (n, lo, i)
                    continue
            runs.append((-1, i, 1) if n == -1 else (n, i, i))
        parts = []
        for n, lo, hi in runs:
            if n == -1:
                parts.append(self.add("const", (), hi, (lo,)))
            elif lo == 0 and hi == self.nodes[n].width - 1:
                parts.append(n)
            else:
                parts.append(self.add("slice", (n,), hi - lo + 1, (hi, lo)))
        if len(parts) == 1:
            return parts[0]
        return self.add("concat", tuple(reversed(parts)), len(bits))

    def bits(self, node: int) -> list[Bit]:
        return [(node, i) for i in range(self.nodes[node].width)]


def _ext(bits: list[Bit], width: int, signed: bool) -> list[Bit]:
    if len(bits) >= width:
        return list(bits[:width])
    fill = bits[-1] if signed and bits else _ZERO
    return list(bits) + [fill] * (width - len(bits))


def words_from_json(data: dict, filename: str = "<verilog>", *, top: str | None = None) -> WordSpec:
    """The WordSpec of a Yosys JSON netlist (the top module, combinational coarse cells)."""
    mods = data.get("modules", {})
    if top is None:
        tops = [n for n, m in mods.items() if _int(m.get("attributes", {}).get("top", 0))]
        top = tops[0] if tops else next(iter(mods))
    mod = mods[top]
    w = _Words()
    net: dict[int, Bit] = {}
    inputs: list[Port] = []
    outputs: list[tuple[str, list]] = []
    for name, p in mod["ports"].items():
        if p.get("offset", 0) or p.get("upto", 0):
            raise CoarseUnsupported(f"port {name} is not indexed [{len(p['bits']) - 1}:0]", filename=filename)
        if p["direction"] == "input":
            width = len(p["bits"])
            node = w.add("input", (), width, (len(inputs),), name)
            inputs.append(Port(name, width, width > 1))
            for i, b in enumerate(p["bits"]):
                if isinstance(b, int):
                    net[b] = (node, i)
        elif p["direction"] == "output":
            outputs.append((name, p["bits"]))
        else:
            raise CoarseUnsupported(f"port {name} is {p['direction']}", filename=filename)
    names: dict[tuple, str] = {}
    for nn, info in mod.get("netnames", {}).items():
        if not _int(info.get("hide_name", 0)) and all(isinstance(b, int) for b in info["bits"]):
            names.setdefault(tuple(info["bits"]), nn)

    cells = list(mod.get("cells", {}).values())
    driver: dict[int, int] = {}
    for ci, c in enumerate(cells):
        for port, d in c.get("port_directions", {}).items():
            if d == "output":
                for b in c["connections"][port]:
                    if isinstance(b, int):
                        driver[b] = ci
    # Kahn order over cells (iterative)
    deps = [set() for _ in cells]
    users: list[list[int]] = [[] for _ in cells]
    for ci, c in enumerate(cells):
        for port, d in c.get("port_directions", {}).items():
            if d != "output":
                for b in c["connections"][port]:
                    if isinstance(b, int) and b in driver and driver[b] not in deps[ci]:
                        deps[ci].add(driver[b])
                        users[driver[b]].append(ci)
    indeg = [len(d) for d in deps]
    order = [ci for ci in range(len(cells)) if indeg[ci] == 0]
    k = 0
    while k < len(order):
        for u in users[order[k]]:
            indeg[u] -= 1
            if indeg[u] == 0:
                order.append(u)
        k += 1
    if len(order) != len(cells):
        raise CoarseUnsupported("combinational loop in the coarse netlist", filename=filename)

    def get(bits: list) -> list[Bit]:
        out = []
        for b in bits:
            if isinstance(b, int):
                if b not in net:
                    out.append(_ZERO)  # undriven: 0, as setundef -zero does
                else:
                    out.append(net[b])
            else:
                out.append(_ONE if b == "1" else _ZERO)
        return out

    uses: dict[int, int] = {}
    for c in cells:
        for port, d in c.get("port_directions", {}).items():
            if d != "output":
                for bit in c["connections"][port]:
                    if isinstance(bit, int):
                        uses[bit] = uses.get(bit, 0) + 1
    for _, bits in outputs:
        for bit in bits:
            if isinstance(bit, int):
                uses[bit] = uses.get(bit, 0) + 1
    w.sole = set()  # add nodes whose result only one cell reads (they may be merged into it)
    for ci in order:
        c = cells[ci]
        node = _cell(w, c, get, filename)
        if c["type"] in ("$add",) and w.nodes[node].op == "add" and all(
                isinstance(bit, int) and uses.get(bit, 0) <= 1 for bit in c["connections"]["Y"]):
            w.sole.add(node)
        y = c["connections"]["Y"]
        nm = names.get(tuple(y)) if all(isinstance(b, int) for b in y) else None
        if nm is not None and w.nodes[node].name is None and w.nodes[node].op not in ("input", "const"):
            w.nodes[node] = dataclasses.replace(w.nodes[node], name=nm)
        for i, b in enumerate(y):
            if isinstance(b, int):
                net[b] = (node, i)
    outs = []
    for name, bits in outputs:
        node = w.word(get(bits))
        outs.append((Port(name, len(bits), len(bits) > 1), node))
    ws = WordSpec(tuple(inputs), tuple(outs), tuple(w.nodes), filename=filename)
    try:
        verify_words(ws)
    except WordError as e:  # a bug here, not the user's: say so plainly
        raise CoarseUnsupported(f"internal: coarse netlist gave a bad word program: {e}", filename=filename) from None
    return ws


def _cell(w: _Words, c: dict, get, filename: str) -> int:
    """The node computing cell ``c``'s Y (width Y_WIDTH / WIDTH)."""
    t = c["type"]
    p = {k: _int(v) for k, v in c.get("parameters", {}).items() if isinstance(v, (str, int))
         and (not isinstance(v, str) or set(v) <= {"0", "1"})}
    conn = c["connections"]
    a = get(conn["A"]) if "A" in conn else []
    b = get(conn["B"]) if "B" in conn else []
    yw = p.get("Y_WIDTH", p.get("WIDTH", len(conn.get("Y", []))))
    signed = bool(p.get("A_SIGNED", 0) and p.get("B_SIGNED", 0)) if "B_SIGNED" in p else bool(p.get("A_SIGNED", 0))

    def bool_of(bits: list[Bit]) -> int:
        return w.add("atleast", (w.word(bits),), 1, (1,))

    def to_y(node1: int) -> int:
        return node1 if yw == 1 else w.add("zext", (node1,), yw)

    if t == "$add":  # a sum of a sum that nothing else reads is one many-operand sum (exact mod 2^yw)
        args: list[int] = []
        for x in (w.word(_ext(a, yw, signed)), w.word(_ext(b, yw, signed))):
            inner = w.nodes[x]
            if inner.op == "add" and x in w.sole and inner.width >= yw:
                args.extend(inner.args)
            else:
                args.append(x)
        return w.add("add", tuple(args), yw)
    if t in _ARITH:
        return w.add(_ARITH[t], (w.word(_ext(a, yw, signed)), w.word(_ext(b, yw, signed))), yw)
    if t == "$neg":
        return w.add("sub", (w.add("const", (), yw, (0,)), w.word(_ext(a, yw, signed))), yw)
    if t == "$pos":
        return w.word(_ext(a, yw, signed))
    if t in _BITWISE or t == "$xnor":
        x = w.add(_BITWISE.get(t, "xor"), (w.word(_ext(a, yw, signed)), w.word(_ext(b, yw, signed))), yw)
        return w.add("not", (x,), yw) if t == "$xnor" else x
    if t == "$not":
        return w.add("not", (w.word(_ext(a, yw, signed)),), yw)
    if t in _COMPARE:
        n = max(len(a), len(b))
        xa, xb = _ext(a, n, signed), _ext(b, n, signed)
        if signed and _COMPARE[t] not in ("eq", "ne"):  # two's complement order = unsigned order, top bit flipped
            xa, xb = _flip_top(w, xa), _flip_top(w, xb)
        return to_y(w.add(_COMPARE[t], (w.word(xa), w.word(xb)), 1))
    if t in ("$logic_not", "$reduce_or", "$reduce_bool", "$reduce_and", "$reduce_xor", "$reduce_xnor"):
        x = w.word(a)
        if t == "$logic_not":
            r = w.add("not", (bool_of(a),), 1)
        elif t == "$reduce_and":
            r = w.add("atleast", (x,), 1, (len(a),))
        elif t in ("$reduce_xor", "$reduce_xnor"):
            r = w.add("parity", (x,), 1)
            if t == "$reduce_xnor":
                r = w.add("not", (r,), 1)
        else:
            r = bool_of(a)
        return to_y(r)
    if t in ("$logic_and", "$logic_or"):
        return to_y(w.add("and" if t == "$logic_and" else "or", (bool_of(a), bool_of(b)), 1))
    if t == "$mux":
        s = w.word(get(conn["S"]))
        return w.add("mux", (s, w.word(b), w.word(a)), yw)
    if t == "$pmux":
        sw = p["S_WIDTH"]
        s = get(conn["S"])
        y = w.word(a)
        for i in reversed(range(sw)):
            y = w.add("mux", (w.word([s[i]]), w.word(b[i * yw:(i + 1) * yw]), y), yw)
        return y
    if t in ("$shl", "$sshl", "$shr", "$sshr", "$shift", "$shiftx"):
        return _shift(w, t, a, b, p, yw, c, filename)
    raise _located(f"the word path does not read Yosys cell {t}", c, filename)


def _flip_top(w: _Words, bits: list[Bit]) -> list[Bit]:
    top = bits[-1]
    if top[0] == -1:
        flipped = (-1, 1 - top[1])
    else:
        flipped = (w.add("not", (w.word([top]),), 1), 0)
    return bits[:-1] + [flipped]


def _shift(w: _Words, t: str, a: list[Bit], b: list[Bit], p: dict, yw: int, c: dict, filename: str) -> int:
    a_signed = bool(p.get("A_SIGNED", 0))
    left = t in ("$shl", "$sshl")
    arith = t == "$sshr" and a_signed
    if t in ("$shift", "$shiftx") and p.get("B_SIGNED", 0) and b and b[-1] == _ZERO:
        b = b[:-1]  # a signed amount whose sign bit is 0 (Yosys' part-select index): unsigned
    elif t in ("$shift", "$shiftx") and p.get("B_SIGNED", 0):
        if all(x[0] == -1 for x in b):
            v = sum(x[1] << i for i, x in enumerate(b))
            if v >> (len(b) - 1):
                v -= 1 << len(b)
            if v < 0:
                left, b = True, [(-1, (-v) >> i & 1) for i in range(len(b) + 1)]
        else:
            raise _located(f"the word path does not read {t} by a signed amount", c, filename)
    n = max(len(a), yw) if not left else yw
    src = _ext(a, n, a_signed and t in ("$sshr", "$sshl", "$shl", "$shr") and not left)
    fill = src[-1] if arith else _ZERO

    def shifted(bits: list[Bit], k: int) -> list[Bit]:
        if left:
            return ([_ZERO] * k + bits)[:len(bits)]
        return (bits[k:] + [fill] * k)[:len(bits)] if k < len(bits) else [fill] * len(bits)

    cur = src
    if all(x[0] == -1 for x in b):
        amount = sum(x[1] << i for i, x in enumerate(b))
        return w.word(_ext(shifted(cur, min(amount, len(cur))), yw, False))
    node = w.word(cur)
    for i, sb in enumerate(b):
        if sb[0] == -1:
            if sb[1]:
                node = w.word(shifted(w.bits(node), min(1 << i, len(cur))))
            continue
        moved = w.word(shifted(w.bits(node), min(1 << i, len(cur))))
        node = w.add("mux", (w.word([sb]), moved, node), len(cur))
    return w.word(_ext(w.bits(node), yw, False))
