"""BLIF (Berkeley Logic Interchange Format) reader: ``.names`` covers to a :class:`Spec`.

Supported: ``.model``/``.inputs``/``.outputs``/``.names``/``.end``, ``.latch`` (refused, or
cut with ``cut_latches=True``), ``.subckt`` (flattened), Yosys' ``.conn a b`` (``b = a``);
``#`` comments, backslash continuations, declarations spread over several lines, covers in
any order, files without ``.end``.  Timing and attribute directives (``.area``,
``.input_arrival``, ``.cname``, ``.attr``, ...) and ``.clock`` are ignored; a ``.exdc``
don't-care network is skipped.  Library gates (``.gate``, ``.mlatch``) are refused.

Covers: each row is an input plane (``0``, ``1``, ``-`` per ``.names`` input) and an output
value; all rows of one cover share the output value.  A cover for 1 is the OR of its rows
(each the AND of its literals); a cover for 0 is the negation of that OR; a cover with no
rows is constant 0, and ``.names x`` with the row ``1`` is constant 1.

Hierarchy: the first model is the top.  ``.subckt m f1=a1 f2=a2`` instantiates model ``m``
with formal port ``f1`` bound to the parent's signal ``a1``.  Signals inside an instance that
are not bound to a port are renamed ``<model>_<k>/<signal>``, where ``k`` counts the
instances of ``m`` in the parent (from 0); nested instances stack the prefixes
(``adder_0/fa_1/carry``).  A generated name that clashes with a name of the top model gets
``'`` appended until it is unique.

Latches: ``.latch in out [type control] [init]``.  With ``cut_latches=True`` each latch
output ``out`` becomes an extra input and ``out$next`` (equal to ``in``) an extra output,
after the ordinary ports, in file order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator

from ..compiler.errors import DEFAULT_FILENAME
from ..compiler.source import lines
from ..compiler.spec import Expr, Name, Not, Spec
from ._netlist import without_gc, Loc, Netlist, and_all, or_all

_TOKEN = re.compile(r"\S+")

#: Directives that carry timing, attributes or names only; they do not change the function.
_IGNORED = frozenset(
    """.area .delay .wire_load_slope .wire .input_arrival .default_input_arrival .output_required
    .default_output_required .input_drive .default_input_drive .output_load .default_output_load
    .max_input_load .default_max_input_load .cname .attr .param .clock .clock_event""".split()
)
_UNSUPPORTED = {
    ".gate": "library gates (.gate) are not supported; write the logic as .names covers",
    ".mlatch": "library latches (.mlatch) are not supported",
    ".search": ".search (reading other files) is not supported; put all models in one file",
    ".fsm": "state-transition tables (.start_kiss/.fsm) are not supported",
    ".start_kiss": "state-transition tables (.start_kiss/.fsm) are not supported",
}
_LATCH_TYPES = frozenset({"fe", "re", "ah", "al", "as"})

Tok = tuple[str, int, int]  # text, line, column


def _loc(tok: Tok) -> Loc:
    return Loc(tok[1], tok[2], len(tok[0]))


@dataclass
class _Cover:
    output: Tok
    inputs: list[Tok]
    rows: list[str] = field(default_factory=list)
    value: int | None = None  # output value shared by all rows
    value_line: int = 0


@dataclass
class _Model:
    name: str
    loc: Loc
    inputs: list[Tok] = field(default_factory=list)
    outputs: list[Tok] = field(default_factory=list)
    # ("names", _Cover) | ("latch", in_tok, out_tok, loc) | ("conn", src, dst)
    # | ("subckt", model_tok, [(formal, actual_tok, tok)], loc)
    stmts: list[tuple] = field(default_factory=list)
    blackbox: bool = False


def logical_lines(text: str) -> Iterator[list[Tok]]:
    """Tokens of each logical line: comments dropped, backslash continuations joined."""
    pending: list[Tok] = []
    finditer = _TOKEN.finditer
    for lineno, raw in enumerate(lines(text), 1):
        if "#" in raw:
            raw = raw[: raw.index("#")]
        cont = False
        if "\\" in raw:
            stripped = raw.rstrip()
            if stripped.endswith("\\"):
                raw = stripped[:-1]
                cont = True
        for m in finditer(raw):
            pending.append((m.group(), lineno, m.start() + 1))
        if not cont and pending:
            yield pending
            pending = []
    if pending:
        yield pending


@without_gc
def parse_blif(text: str, filename: str = DEFAULT_FILENAME, *, cut_latches: bool = False) -> Spec:
    """Read BLIF text; raise :class:`SpecError` on any problem."""
    net = Netlist(filename, text)
    models = _parse_models(text, net)
    _check_models(models, net)
    _flatten(models, net)
    return net.finish(cut_latches)


def _parse_models(text: str, net: Netlist) -> dict[str, _Model]:
    err = net.error
    models: dict[str, _Model] = {}
    model: _Model | None = None
    cover: _Cover | None = None
    ended = False  # saw .end for the current model
    in_exdc = False

    def current(tok: Tok) -> _Model:
        nonlocal model
        if model is None:
            if ended:
                raise err(f"'{tok[0]}' after .end; start a new model with .model", _loc(tok))
            model = _Model("", Loc(tok[1]))
            models[""] = model
        return model

    for toks in logical_lines(text):
        head = toks[0]
        word = head[0]
        if in_exdc:
            if word == ".end":
                in_exdc = False
                model, cover, ended = None, None, True
            elif word == ".model":
                raise err(".exdc section is not closed by .end before the next .model", _loc(head))
            continue
        if word[0] != ".":
            if cover is None:
                if word.lstrip("01-") == "" and model is not None:
                    raise err("cover row outside a .names cover", _loc(head))
                raise err(f"malformed line: expected a '.' directive or a cover row, found '{word}'", _loc(head))
            _add_row(cover, toks, err)
            continue
        cover = None
        if word == ".model":
            if len(toks) > 2:
                raise err("malformed .model line: expected '.model <name>'", _loc(toks[2]))
            name = toks[1][0] if len(toks) > 1 else ""
            if name in models:
                raise err(f"model '{name}' is defined twice (first on line {models[name].loc.line})", _loc(toks[-1]))
            model = _Model(name, Loc(head[1]))
            models[name] = model
            ended = False
        elif word == ".inputs":
            current(head).inputs.extend(toks[1:])
        elif word == ".outputs":
            current(head).outputs.extend(toks[1:])
        elif word == ".names":
            m = current(head)
            if len(toks) < 2:
                raise err("malformed .names line: expected '.names <inputs...> <output>'", _loc(head))
            cover = _Cover(output=toks[-1], inputs=toks[1:-1])
            m.stmts.append(("names", cover))
        elif word == ".latch":
            m = current(head)
            if not 3 <= len(toks) <= 6:
                raise err("malformed .latch line: expected '.latch <input> <output> [<type> <control>] [<init>]'",
                          _loc(head))
            rest = [t[0] for t in toks[3:]]
            if len(rest) in (2, 3) and rest[0] not in _LATCH_TYPES:
                raise err(f"unknown latch type '{rest[0]}'; expected one of fe, re, ah, al, as", _loc(toks[3]))
            if len(rest) in (1, 3) and rest[-1] not in ("0", "1", "2", "3"):
                raise err(f"latch initial value must be 0, 1, 2 or 3, got '{rest[-1]}'", _loc(toks[-1]))
            m.stmts.append(("latch", toks[1], toks[2], Loc(head[1])))
        elif word == ".subckt":
            m = current(head)
            if len(toks) < 2:
                raise err("malformed .subckt line: expected '.subckt <model> <formal>=<actual> ...'", _loc(head))
            binds = []
            for t in toks[2:]:
                formal, eq, actual = t[0].partition("=")
                if not eq or not formal or not actual:
                    raise err(f"malformed .subckt binding '{t[0]}': expected <formal>=<actual>", _loc(t))
                binds.append((formal, (actual, t[1], t[2] + len(formal) + 1), t))
            m.stmts.append(("subckt", toks[1], binds, Loc(head[1])))
        elif word == ".conn":
            m = current(head)
            if len(toks) != 3:
                raise err("malformed .conn line: expected '.conn <from> <to>'", _loc(head))
            m.stmts.append(("conn", toks[1], toks[2]))
        elif word == ".end":
            if model is None and not models:
                raise err(".end without a model", _loc(head))
            model, ended = None, True
        elif word == ".exdc":
            current(head)
            in_exdc = True
        elif word == ".blackbox":
            current(head).blackbox = True
        elif word in _IGNORED:
            current(head)
        elif word in _UNSUPPORTED:
            raise err(_UNSUPPORTED[word], _loc(head))
        else:
            raise err(f"unknown BLIF directive '{word}'", _loc(head))
    if not models:
        raise err("no model in the file (expected .model, .inputs, .outputs and .names)", Loc(1))
    return models


def _add_row(cover: _Cover, toks: list[Tok], err) -> None:
    n = len(cover.inputs)
    if n == 0:
        if len(toks) != 1:
            raise err("malformed cover row: a .names without inputs takes rows of just '0' or '1'", _loc(toks[1]))
        plane, out = "", toks[0]
    else:
        if len(toks) != 2:
            if len(toks) == 1:
                raise err(f"malformed cover row: expected {n} input characters, a space and the output value",
                          _loc(toks[0]))
            raise err(f"malformed cover row: expected {n} input characters, a space and the output value",
                      _loc(toks[2]))
        ptok, out = toks
        plane = ptok[0]
        if len(plane) != n:
            raise err(f"cover row has {len(plane)} input characters; expected {n} (one per input of .names)",
                      _loc(ptok))
        bad = plane.lstrip("01-")
        if bad:
            col = ptok[2] + len(plane) - len(bad)
            raise err(f"invalid character '{bad[0]}' in cover row; expected 0, 1 or -", Loc(ptok[1], col))
    v = out[0]
    if v != "0" and v != "1":
        raise err(f"cover row output must be 0 or 1, got '{v}'", _loc(out))
    value = 1 if v == "1" else 0
    if cover.value is None:
        cover.value, cover.value_line = value, out[1]
    elif cover.value != value:
        raise err(
            f"cover mixes rows for output {cover.value} (line {cover.value_line}) and output {value}; "
            "all rows of one .names must have the same output value",
            _loc(out),
        )
    cover.rows.append(plane)


def cover_expr(inputs: list[str], rows: list[str], value: int | None) -> Expr:
    """The function of a cover over the (already renamed) input signals."""
    terms: list[Expr] = []
    for plane in rows:
        lits: list[Expr] = []
        for ch, name in zip(plane, inputs):
            if ch == "1":
                lits.append(Name(name))
            elif ch == "0":
                lits.append(Not(Name(name)))
        terms.append(and_all(lits))
    e = or_all(terms)
    return Not(e) if value == 0 and rows else e


def _check_models(models: dict[str, _Model], net: Netlist) -> None:
    """Per model: ports declared once, outputs driven, .subckt targets exist."""
    err = net.error
    for model in models.values():
        seen_in: dict[str, Tok] = {}
        for t in model.inputs:
            if t[0] in seen_in:
                raise err(f"input '{t[0]}' is declared twice (first on line {seen_in[t[0]][1]})", _loc(t))
            seen_in[t[0]] = t
        seen_out: dict[str, Tok] = {}
        for t in model.outputs:
            if t[0] in seen_out:
                raise err(f"output '{t[0]}' is declared twice (first on line {seen_out[t[0]][1]})", _loc(t))
            seen_out[t[0]] = t
        driven = set(seen_in)
        for st in model.stmts:
            kind = st[0]
            if kind == "names":
                driven.add(st[1].output[0])
            elif kind == "latch":
                driven.add(st[2][0])
            elif kind == "conn":
                driven.add(st[2][0])
            else:
                child = models.get(st[1][0])
                if child is None:
                    raise err(f"undefined model '{st[1][0]}' in .subckt", _loc(st[1]))
                child_in = {t[0] for t in child.inputs}
                child_out = {t[0] for t in child.outputs}
                for formal, actual, tok in st[2]:
                    if formal in child_out and formal not in child_in:
                        driven.add(actual[0])
        if model.blackbox:
            continue
        for t in model.outputs:
            if t[0] not in driven:
                where = f" of model '{model.name}'" if model is not next(iter(models.values())) else ""
                raise err(f"output '{t[0]}'{where} is never driven", _loc(t))


def _flatten(models: dict[str, _Model], net: Netlist) -> None:
    err = net.error
    top = next(iter(models.values()))
    if top.blackbox:
        raise err(f"the top model '{top.name}' is a .blackbox", top.loc)
    for t in top.inputs:
        net.add_input(t[0], _loc(t))
    for t in top.outputs:
        net.add_output(t[0], _loc(t))

    used = {t[0] for t in top.inputs} | {t[0] for t in top.outputs}
    for st in top.stmts:
        if st[0] == "names":
            used.add(st[1].output[0])
            used.update(t[0] for t in st[1].inputs)
        elif st[0] in ("latch", "conn"):
            used.add(st[1][0])
            used.add(st[2][0])
        else:
            used.update(a[0] for _f, a, _t in st[2])

    # Work items: (model, binding of formal ports to global names or None for the top,
    # instance prefix, ancestry of model names)
    work: list[tuple[_Model, dict[str, str] | None, str, tuple[str, ...]]] = [(top, None, "", (top.name,))]
    while work:
        model, binding, prefix, ancestry = work.pop()
        if binding is None:
            def g(local: str) -> str:
                return local
        else:
            memo: dict[str, str] = dict(binding)

            def g(local: str, memo=memo, prefix=prefix) -> str:
                name = memo.get(local)
                if name is None:
                    name = prefix + local
                    while name in used:
                        name += "'"
                    used.add(name)
                    memo[local] = name
                return name

        counts: dict[str, int] = {}
        children = []
        for st in model.stmts:
            kind = st[0]
            if kind == "names":
                c: _Cover = st[1]
                ins = [g(t[0]) for t in c.inputs]
                net.drive(g(c.output[0]), cover_expr(ins, c.rows, c.value), ins, _loc(c.output))
            elif kind == "latch":
                src = g(st[1][0])
                net.add_latch(g(st[2][0]), Name(src), [src], st[3])
            elif kind == "conn":
                src = g(st[1][0])
                net.drive(g(st[2][0]), Name(src), [src], _loc(st[2]))
            else:
                mtok, binds, loc = st[1], st[2], st[3]
                child = models[mtok[0]]
                if child.name in ancestry:
                    path = " -> ".join(ancestry[ancestry.index(child.name):] + (child.name,))
                    raise err(f"recursive .subckt: {path}", _loc(mtok))
                if child.blackbox:
                    raise err(f"model '{child.name}' is a .blackbox and cannot be flattened", _loc(mtok))
                ports = {t[0] for t in child.inputs} | {t[0] for t in child.outputs}
                child_binding: dict[str, str] = {}
                for formal, actual, tok in binds:
                    if formal not in ports:
                        raise err(f"model '{child.name}' has no port '{formal}'", _loc(tok))
                    if formal in child_binding:
                        raise err(f"port '{formal}' is bound twice in .subckt", _loc(tok))
                    child_binding[formal] = g(actual[0])
                for t in child.inputs:
                    if t[0] not in child_binding:
                        raise err(f"input '{t[0]}' of model '{child.name}' is not connected", loc)
                k = counts.get(child.name, 0)
                counts[child.name] = k + 1
                children.append((child, child_binding, f"{prefix}{child.name}_{k}/", ancestry + (child.name,)))
        work.extend(reversed(children))
