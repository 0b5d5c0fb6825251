"""What does each neuron of a small network compute?  ``explain`` answers with boolean functions.

The module is read as ``prove`` reads it (:func:`threshnet.prove.read_module`:
weights from its tensors as exact dyadic rationals, order of operations from
its traced ``forward``), so a hand-written ``nn.Module`` such as the lecture's
``AdderNN`` is explained as well as a compiled :class:`~threshnet.ThreshNet`.

The maths.  With ``n`` inputs (at most :data:`MAX_INPUTS`), every one of the
``2**n`` 0/1 input rows is run through the affine maps and activations in
exact integer arithmetic: each layer's values are integers times ``2**-s``
(weights are multiples of ``2**-k``, so a layer multiplies the scale by
``2**k``), held in int64 after a bound ``|b| + sum |w| * max|x| < 2**62`` on
every neuron is checked, so no sum can overflow.  A neuron's *boolean
function* is ``f(x) = [value(x) > 0]``: its output for a step neuron, "it
fires" for a ReLU neuron (whose values are listed too).  For ``f`` we report:

* its support (the inputs it depends on: flipping one changes ``f`` somewhere);
* a threshold gate ``[w . x >= T]`` with integer ``w``, ``T`` when ``f`` is
  one (searched for supports of at most :data:`MAX_GATE_VARS` inputs): the
  smallest ``sum |w|`` is found by an integer program (scipy's HiGHS) over
  the support's ``2**k`` rows, after its LP relaxation (infeasible: no gate), and the gate is then *re-checked
  on every row* by enumeration, so a reported gate is always right; when the
  solver finds no gate, ``f`` is reported as not a threshold function;
* a minimized sum of products from sympy's ``SOPform`` (Quine-McCluskey),
  for supports of at most :data:`MAX_FORMULA_VARS` inputs, and the truth table.

Soundness: every reported value comes from the enumeration, which computes
the module's own function exactly (the reader's maps are the module's maps
over the rationals; int64 never overflows by the bound above).  The gate is
verified row by row; SOPform's output is equal to ``f`` by construction (it
covers exactly the minterms given), and the tests re-evaluate it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from fractions import Fraction
from math import lcm

import numpy as np
from torch import nn

#: Networks with more inputs are refused (explain enumerates all 2**n rows).
MAX_INPUTS = 20
#: Formulas are minimized for supports of at most this many inputs.
MAX_FORMULA_VARS = 10
#: Threshold gates are searched for supports of at most this many inputs.
MAX_GATE_VARS = 14
#: The text and the tables show the truth table up to this many inputs.
TABLE_INPUTS = 6
#: ... and up to this many neurons.
TABLE_NEURONS = 24
#: Equations list at most this many terms.
MAX_TERMS = 12
_LIMIT = 2**62


@dataclass(frozen=True, eq=False)
class Neuron:
    """One neuron: its equation over the previous layer and its boolean function over the inputs."""

    layer: int  # 1-based
    name: str
    act: str  # "relu", "step", "sign" (values -1, 0, 1) or "linear" (an output with no activation)
    equation: str  # e.g. "relu(a0 + b0 - 1.5)"
    values: np.ndarray  # float64, one per input row (row r: input i is bit n-1-i of r)
    support: tuple[str, ...]
    gate: str | None  # "[a0 + b0 >= 2]"; None if f is not a threshold function, is constant,
    # or depends on more than MAX_GATE_VARS inputs (not searched)
    formula: str | None  # minimized sum of products, "a0 | b0"; None when the support is too wide

    @property
    def bits(self) -> np.ndarray:
        """``f(x) = [value > 0]`` per input row (bool)."""
        return self.values > 0

    @property
    def is_gate(self) -> bool:
        """Whether ``f`` is a threshold function (constants included)."""
        return self.gate is not None or not self.support

    @property
    def distinct_values(self) -> tuple[float, ...]:
        return tuple(float(v) for v in np.unique(self.values))

    def describe(self) -> str:
        """One line: what the neuron computes, e.g. ``a0 | b0  (threshold gate [a0 + b0 >= 1])``."""
        what = self.formula if self.formula is not None else f"a function of {', '.join(self.support)}"
        how = (f"threshold gate {self.gate}" if self.gate else "constant" if not self.support
               else f"gate not searched: {len(self.support)} inputs" if len(self.support) > MAX_GATE_VARS
               else "not a threshold gate")
        verb = {"relu": "fires (> 0) on", "step": "computes", "linear": "is > 0 on", "sign": "is +1 on"}[self.act]
        text = f"{verb} {what}  ({how})"
        if self.act != "step":
            text += f"; values {', '.join(_num(v) for v in self.distinct_values)}"
        return text


@dataclass(frozen=True, eq=False)
class Explanation:
    """Every neuron of a network with its function; ``str()`` is the text report."""

    title: str
    input_names: tuple[str, ...]
    neurons: tuple[Neuron, ...]

    def __repr__(self) -> str:
        return f"<Explanation of {self.title}: {len(self.input_names)} inputs, {len(self.neurons)} neurons>"

    def neuron(self, name: str) -> Neuron:
        """The neuron called ``name`` (the last one, if names repeat)."""
        found = [n for n in self.neurons if n.name == name]
        if not found:
            raise KeyError(f"no neuron {name!r}; neurons are {', '.join(n.name for n in self.neurons)}")
        return found[-1]

    def rows(self) -> np.ndarray:
        """All ``2**n`` input rows, ``(2**n, n)`` int64, in counting order (the last input fastest)."""
        n = len(self.input_names)
        r = np.arange(1 << n, dtype=np.int64)
        return ((r[:, None] >> np.arange(n - 1, -1, -1)) & 1) if n else np.zeros((1, 0), np.int64)

    def _show_table(self) -> bool:
        return len(self.input_names) <= TABLE_INPUTS and len(self.neurons) <= TABLE_NEURONS

    def truth_table(self) -> list[list[str]]:
        """Header and rows: the inputs, then every neuron's value."""
        head = list(self.input_names) + [n.name for n in self.neurons]
        body = [[str(int(v)) for v in row] + [_num(n.values[i]) for n in self.neurons]
                for i, row in enumerate(self.rows())]
        return [head] + body

    def __str__(self) -> str:
        n_layers = max((n.layer for n in self.neurons), default=0)
        lines = [f"{self.title}: {len(self.input_names)} inputs ({', '.join(self.input_names)}), "
                 f"{len(self.neurons)} neurons in {n_layers} layers"]
        layer = 0
        for nr in self.neurons:
            if nr.layer != layer:
                layer = nr.layer
                lines.append(f"layer {layer} ({nr.act})")
            lines.append(f"  {nr.name} = {nr.equation}")
            lines.append(f"      {nr.describe()}")
        if self._show_table():
            lines.append("truth table:")
            tab = self.truth_table()
            k = len(self.input_names)
            widths = [max(len(r[j]) for r in tab) for j in range(len(tab[0]))]
            for r in tab:
                cells = [v.rjust(w) for v, w in zip(r, widths)]
                lines.append("  " + " ".join(cells[:k]) + " | " + " ".join(cells[k:]))
        else:
            lines.append(f"(truth table left out: more than {TABLE_INPUTS} inputs or {TABLE_NEURONS} neurons)")
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """The neurons as a markdown table, then the truth table (pandas-free)."""
        esc = lambda s: s.replace("|", "\\|")  # noqa: E731
        out = ["| layer | neuron | equation | computes | threshold gate |", "|---|---|---|---|---|"]
        for nr in self.neurons:
            gate = nr.gate or ("constant" if not nr.support else "no")
            out.append(f"| {nr.layer} | {esc(nr.name)} | `{esc(nr.equation)}` | "
                       f"`{esc(nr.formula or '(wide)')}` | `{esc(gate)}` |")
        if self._show_table():
            tab = self.truth_table()
            out += ["", "| " + " | ".join(map(esc, tab[0])) + " |", "|" + "---|" * len(tab[0])]
            out += ["| " + " | ".join(r) + " |" for r in tab[1:]]
        return "\n".join(out)

    def _repr_html_(self) -> str:
        e = html.escape
        out = ["<table><tr><th>layer</th><th>neuron</th><th>equation</th><th>computes</th>"
               "<th>threshold gate</th></tr>"]
        for nr in self.neurons:
            gate = nr.gate or ("constant" if not nr.support else "no")
            out.append(f"<tr><td>{nr.layer}</td><td>{e(nr.name)}</td><td><code>{e(nr.equation)}</code></td>"
                       f"<td><code>{e(nr.formula or '(wide)')}</code></td><td><code>{e(gate)}</code></td></tr>")
        out.append("</table>")
        if self._show_table():
            tab = self.truth_table()
            out.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in tab[0]) + "</tr>")
            out += ["<tr>" + "".join(f"<td>{v}</td>" for v in r) + "</tr>" for r in tab[1:]]
            out.append("</table>")
        return "\n".join(out)


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _term(w: Fraction | int, name: str, first: bool) -> str:
    sign = "-" if w < 0 else "+"
    mag = abs(w)
    body = name if mag == 1 else f"{_num(float(mag))}*{name}"
    return (f"-{body}" if sign == "-" else body) if first else f" {sign} {body}"


def _linear_text(row: list[tuple[int, Fraction]], bias: Fraction, names: list[str]) -> str:
    terms = [(w, names[j]) for j, w in sorted(row) if w]
    text = "".join(_term(w, nm, i == 0) for i, (w, nm) in enumerate(terms[:MAX_TERMS]))
    if len(terms) > MAX_TERMS:
        text += f" + ... ({len(terms)} terms)"
    if bias or not terms:
        text += _num(float(bias)) if not terms else f" {'-' if bias < 0 else '+'} {_num(float(abs(bias)))}"
    return text


def _names_of(module: nn.Module) -> tuple[list[list[str]] | None, list[str] | None]:
    """A ThreshNet's neuron names per activation layer (by row), and its input names."""
    from .network import SPARSE, ThreshNet

    if not isinstance(module, ThreshNet):
        return None, None
    if module.layout != SPARSE:
        return [list(n) for n in module.neuron_names], list(module.input_names)
    from .compiler.runtime import GatherLayer

    per: list[list[str]] = []
    k = 0
    for m in module.layers:
        if isinstance(m, GatherLayer):
            if m.final:
                per.append(list(module.output_names))
                continue
            slots = m.slots.tolist()
            by_slot = [""] * (max(slots, default=-1) + 1)
            for slot, nm in zip(slots, module.neuron_names[k]):
                by_slot[slot] = nm
            per.append(by_slot)
            k += 1
    return per, list(module.input_names)


def explain(module: nn.Module, spec: object = None, *, inputs: list[str] | tuple[str, ...] | None = None,
            outputs: list[str] | tuple[str, ...] | None = None, title: str | None = None) -> Explanation:
    """The boolean function of every neuron of a small feed-forward network.

    ``module``: a :class:`~threshnet.ThreshNet` or any module ``prove`` reads
    (``nn.Linear`` with ReLU, ``Step``, ``(z > c).float()``, ``torch.heaviside``
    or ``torch.sign``).  Input and
    output names come from ``inputs`` / ``outputs``, else from ``spec`` (a
    Spec, spec text or path), else from a ThreshNet, else ``x0, x1, ...``.
    Raises ``ValueError`` for a module it cannot read exactly, more than
    :data:`MAX_INPUTS` inputs, or names that do not match the widths.
    """
    from .prove.reader import _Act, _Affine, read_module

    ops = read_module(module)
    affines = [op for op in ops if isinstance(op, _Affine)]
    if not affines:
        raise ValueError("the module has no nn.Linear layer: nothing to explain")
    n = affines[0].in_width if affines[0].in_width is not None else 0
    per_layer_names, net_inputs = _names_of(module)
    spec_in = spec_out = None
    if spec is not None:
        from .inputs import as_spec

        sp = as_spec(spec)
        spec_in, spec_out = list(sp.inputs), list(sp.outputs)
    in_names = list(inputs) if inputs is not None else spec_in or net_inputs or [f"x{i}" for i in range(n)]
    if len(in_names) != n:
        raise ValueError(f"the module reads {n} inputs, but {len(in_names)} input names were given "
                         f"({', '.join(in_names)})")
    if n > MAX_INPUTS:
        raise ValueError(f"explain enumerates all 2**n inputs; this network has {n} inputs (at most "
                         f"{MAX_INPUTS}); use 'threshnet check --prove' against a spec instead")
    out_names = list(outputs) if outputs is not None else spec_out
    rows = (np.arange(1 << n, dtype=np.int64)[:, None] >> np.arange(n - 1, -1, -1)) & 1
    vals = rows.copy()  # integer values times 2**-scale
    scale = 0
    names = list(in_names)
    bound = np.ones(n, dtype=object)  # max |value| per column, as exact Fractions
    neurons: list[Neuron] = []
    layer_no = 0
    i = 0
    while i < len(ops):
        op = ops[i]
        i += 1
        if isinstance(op, _Act):
            continue  # an activation with no affine before it: reader keeps chains, so none
        act = ops[i] if i < len(ops) and isinstance(ops[i], _Act) else None
        if act is not None:
            i += 1
        elif _is_sign(ops, i, _Act, _Affine):  # the reader's [z > 0] - [-z > 0] for torch.sign
            act = _Act("sign")
            i += 3
        k = max([0] + [Fraction(w).denominator.bit_length() - 1 for row in op.rows for _, w in row]
                + [Fraction(b).denominator.bit_length() - 1 for b in op.bias])
        if act is not None and act.kind == "step":
            k = max(k, Fraction(act.thr).denominator.bit_length() - 1)
        unit = 1 << (k + scale)
        out_bound = []
        for row, b in zip(op.rows, op.bias):
            s = abs(b) + sum(abs(w) * bound[j] for j, w in row)
            if s * unit >= _LIMIT:
                raise ValueError(f"layer {op.name!r}: values reach {float(s):g}, too large to enumerate exactly "
                                 f"in int64")
            out_bound.append(s)
        w_int = np.zeros((len(op.rows), vals.shape[1]), dtype=np.int64)
        for r, row in enumerate(op.rows):
            for j, w in row:
                w_int[r, j] += int(w * (1 << k))
        b_int = np.array([int(b * unit) for b in op.bias], dtype=np.int64)
        z = vals @ w_int.T + b_int  # exact: every partial sum is below 2**62 by the bound
        new_scale = k + scale
        only = set(range(len(op.rows))) if act is None or act.only is None else set(act.only)
        if act is None and i < len(ops):  # a linear map feeding another (the sparse layout's ToSlots)
            vals, scale = _normalize(z, new_scale)
            new_names = []
            for r, row in enumerate(op.rows):
                copy = len(row) == 1 and row[0][1] == 1 and not op.bias[r]
                new_names.append(names[row[0][0]] if copy else "0" if not row and not op.bias[r]
                                 else f"{op.name}[{r}]")
            names = new_names
            bound = np.array(out_bound, dtype=object)
            continue
        layer_no += 1
        last = i >= len(ops)
        kind = "linear" if act is None else act.kind
        if act is None:
            out = z
        elif act.kind == "relu":
            out = np.maximum(z, 0)
        elif act.kind == "sign":
            out = np.sign(z) * unit
        else:  # a step's 0/1 kept on the layer's scale, so copied slots (sparse layout) share it
            t = int(Fraction(act.thr) * unit)
            out = ((z > t) if act.strict else (z >= t)).astype(np.int64) * unit
        if act is not None and act.only is not None:
            keep = np.zeros(len(op.rows), bool)
            keep[list(only)] = True
            out = np.where(keep, out, z)
        layer_names = (per_layer_names[layer_no - 1] if per_layer_names is not None
                       and layer_no - 1 < len(per_layer_names) else None)
        if last and out_names is not None:
            if len(out_names) != len(op.rows):
                raise ValueError(f"the module has {len(op.rows)} outputs, but {len(out_names)} output names "
                                 f"were given ({', '.join(out_names)})")
            layer_names = out_names
        new_names = list(names) if act is not None and act.only is not None else [""] * len(op.rows)
        for r in sorted(only):
            nm = layer_names[r] if layer_names is not None and r < len(layer_names) and layer_names[r] \
                else f"{op.name}[{r}]"
            new_names[r] = nm
            lin = _linear_text(op.rows[r], op.bias[r], names)
            if kind in ("relu", "sign"):
                eq = f"{kind}({lin})"
            elif kind == "step":
                thr = _num(float(act.thr))
                eq = f"[{lin} {'>' if act.strict else '>='} {thr}]"
            else:
                eq = lin
            v = out[:, r].astype(np.float64) / float(unit)
            neurons.append(_neuron(layer_no, nm, kind, eq, v, in_names))
        names = new_names
        bound = np.array([Fraction(1) if kind in ("step", "sign") and r in only else out_bound[r]
                          for r in range(len(op.rows))], dtype=object)
        vals, scale = _normalize(out, new_scale)
    return Explanation(title or type(module).__name__, tuple(in_names), tuple(neurons))


def _is_sign(ops: list[object], i: int, act_type: type, affine_type: type) -> bool:
    """Whether ``ops[i:i+3]`` is the prove reader's expansion of ``torch.sign`` (split, step, join)."""
    if i + 2 >= len(ops):
        return False
    a, b, c = ops[i], ops[i + 1], ops[i + 2]
    return (isinstance(a, affine_type) and isinstance(b, act_type) and isinstance(c, affine_type)
            and a.name.endswith(".sign") and c.name.endswith(".sign") and b.kind == "step")


def _normalize(vals: np.ndarray, scale: int) -> tuple[np.ndarray, int]:
    """The same values with the smallest scale: divide by 2 while every entry is even."""
    while scale > 0 and not np.any(vals & 1):
        vals, scale = vals >> 1, scale - 1
    return vals, scale


def _support(bits: np.ndarray, n: int) -> list[int]:
    cube = bits.reshape((2,) * n) if n else bits
    return [i for i in range(n) if np.any(np.take(cube, 0, axis=i) != np.take(cube, 1, axis=i))]


def _neuron(layer: int, name: str, kind: str, eq: str, values: np.ndarray, in_names: list[str]) -> Neuron:
    n = len(in_names)
    bits = values > 0
    sup = _support(bits, n)
    sup_names = tuple(in_names[i] for i in sup)
    # The function on the support: rows of the support's 2**k patterns (others fixed at 0).
    k = len(sup)
    pats = (np.arange(1 << k)[:, None] >> np.arange(k - 1, -1, -1)) & 1
    idx = np.zeros(1 << k, dtype=np.int64)
    for j, i in enumerate(sup):
        idx |= pats[:, j] << (n - 1 - i)
    f = bits[idx]
    if k == 0:
        return Neuron(layer, name, kind, eq, values, (), None, "1" if bits[0] else "0")
    gate = _gate(pats, f, sup_names) if k <= MAX_GATE_VARS else None
    formula = _formula(pats, f, sup_names) if k <= MAX_FORMULA_VARS else None
    return Neuron(layer, name, kind, eq, values, sup_names, gate, formula)


def fit_gate(pats: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, int] | None:
    """Integer ``w``, ``T`` of least ``sum |w|`` with ``[pats @ w >= T] == f`` on every row, or None.

    ``pats`` are 0/1 rows (the patterns that matter; others are don't-cares).
    scipy's HiGHS solves the integer program; the answer is re-checked on every
    row here, so a returned gate is right whatever the solver's tolerances.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    pats = np.asarray(pats, dtype=np.int64)
    f = np.asarray(f, dtype=bool)
    k = pats.shape[1]
    # variables: w (k), T, u (k) with u >= |w|; minimize sum u
    sign = np.where(f, 1.0, -1.0)
    a_rows = np.hstack([pats * sign[:, None], -sign[:, None], np.zeros((len(f), k))])
    lo = np.where(f, 0.0, 1.0)  # f=1: w.x - T >= 0;  f=0: T - w.x >= 1
    eye = np.eye(k)
    abs1 = np.hstack([eye, np.zeros((k, 1)), -eye])   # w - u <= 0
    abs2 = np.hstack([-eye, np.zeros((k, 1)), -eye])  # -w - u <= 0
    cons = [LinearConstraint(a_rows, lo, np.inf), LinearConstraint(np.vstack([abs1, abs2]), -np.inf, 0.0)]
    c = np.concatenate([np.zeros(k + 1), np.ones(k)])
    big = float(1 << 20)
    # The LP relaxation first: when it is infeasible no real (hence no integer) gate exists, and
    # HiGHS says so at once where branch and bound would search (parity of 14 inputs: a minute).
    lp = milp(c, constraints=cons, integrality=np.zeros(2 * k + 1), bounds=Bounds(-big, big))
    if lp.status != 0:
        return None
    res = milp(c, constraints=cons, integrality=np.ones(2 * k + 1), bounds=Bounds(-big, big),
               options={"presolve": True})
    if res.status != 0 or res.x is None:
        return None
    sol = np.round(res.x).astype(np.int64)
    w, t = sol[:k], int(sol[k])
    if not np.array_equal(pats @ w >= t, f):  # the exact check: the gate must be f on every row
        return None
    return w, t


def _gate(pats: np.ndarray, f: np.ndarray, names: tuple[str, ...]) -> str | None:
    """``[w . x >= T]`` text of :func:`fit_gate`'s gate, or None when ``f`` is no threshold function."""
    found = fit_gate(pats, f)
    if found is None:
        return None
    w, t = found
    terms = [(int(wi), nm) for wi, nm in zip(w, names) if wi]
    lhs = "".join(_term(wi, nm, j == 0) for j, (wi, nm) in enumerate(terms)) or "0"
    return f"[{lhs} >= {t}]"


def _formula(pats: np.ndarray, f: np.ndarray, names: tuple[str, ...]) -> str:
    """A minimized sum of products (sympy's SOPform) of ``f`` over ``names``."""
    from sympy import Symbol
    from sympy.logic import SOPform

    syms = [Symbol(nm) for nm in names]
    minterms = [list(map(int, p)) for p, v in zip(pats, f) if v]
    return str(SOPform(syms, minterms))
