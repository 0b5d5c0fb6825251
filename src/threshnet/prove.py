"""Formal equivalence: prove that a network computes its spec on *every* input.

:func:`prove` reads the weights out of the module, encodes what the module
computes and what the spec computes as one SAT problem, and asks CaDiCaL
(through python-sat) for an input on which they differ.  UNSAT is a proof;
SAT is a counterexample, which is then replayed on the real module in torch
(float64) and on :func:`threshnet.evaluate` before it is reported.

What is trusted
---------------
* The module's weights, read from its tensors (never from the compiler's
  intermediate forms), and the order of its operations, read with
  ``torch.fx`` from its real ``forward``.  Supported: ``nn.Linear``,
  ``nn.ReLU`` / ``F.relu`` / ``torch.relu``, threshnet's ``Step``, a
  comparison with a constant (``z > 0``, ``gt(0)``, ``>=``, ...) followed by
  ``.float()`` / ``.to(dtype)``, ``nn.Identity``, nested ``nn.Sequential``,
  and the sparse layout's ``ToSlots`` / ``GatherLayer`` (read from their
  index and weight tensors).  A ThreshNet is read through its ``.layers``.
* The spec's AST, Tseitin-encoded directly (iteratively, so 50k-deep
  expressions are fine).
* python-sat's PB encodings (pindakaas) and CaDiCaL.

The arithmetic is exact: every weight and bias must be a dyadic rational
``m / 2**k`` with ``k <= MAX_FRACTION_BITS`` that does not look rounded (a
non-integer whose odd numerator fills the dtype's mantissa, like float32
``0.1``, is refused with a :class:`ValueError` naming the layer, row, column
and value).  Each neuron row is scaled by the common denominator of its
terms, so every pre-activation is an integer linear form ``z'`` over 0/1
variables.  The proof is about the exact real-valued function; the report
notes whether the module's own dtype computes every partial sum exactly
(it does for compiled networks).

The encoding
------------
Every value is an integer linear form over Boolean SAT variables, divided by
a positive integer (a *form*).  Inputs are variables.  A Linear row combines
forms exactly.  A step neuron ``[z' >= t]`` is a *threshold literal*: a
variable ``T`` with ``T <-> sum(c_i v_i) >= t`` (two conditional
pseudo-Boolean constraints, or plain clauses for AND/OR shapes).  Threshold
literals are normalised (gcd, sign, trivial bounds, single variable) and
hash-consed, so identical neurons share one variable.  A ReLU neuron
``r = max(0, z)`` with integer bounds ``lo < 0 < hi'`` (interval arithmetic
from the 0/1 input box, intersected with the form's own range) is

* ``r' = [z' >= 1] + [z' >= 2] + ... + [z' >= hi']`` (unary) when
  ``hi' <= UNARY_LIMIT``.  Exact, since ``z' <= hi'``.  With hash-consing, a
  compiled pair ``relu(z+1) - relu(z)`` cancels symbolically to the single
  literal ``[z >= 0]``, so a compiled ReLU network becomes the same threshold
  circuit as its step twin.
* otherwise binary bits ``r' = sum 2**k b_k`` and an indicator ``a`` with
  ``r' >= z'``, ``r' <= z' - lo'(1 - a)``, ``r' <= hi' a`` (exact: ``a = 1``
  forces ``r' = z' >= 0``, ``a = 0`` forces ``r' = 0 >= z'``).

The miter asks for one output whose value differs from the spec's output
literal ``G``: ``N xor G`` for a Boolean output, ``D*G != z'`` (two threshold
literals) for a final Linear with no activation, so any value other than the
exact spec bit counts as a difference.

Every constraint is *definitional*: for each 0/1 input there is exactly one
value of every encoded signal that satisfies the clauses (PB auxiliaries
exist by correctness of the encoding).  So the models of the formula are
exactly the inputs, each with the true values of all signals: UNSAT means no
input makes any output differ.

Methods
-------
``"monolithic"``: one miter, one SAT call.

``"nodes"``: SAT sweeping (cut points).  The spec is encoded first.  Random
simulation (the same patterns through the spec and through the network
encoding) gives each signal a signature.  The network is then encoded in
topological order; each new threshold literal ``T`` whose signature equals
that of a spec literal ``G`` (or its complement, or a constant) is checked
with a small SAT call, ``T xor G`` under an assumption.  If that is UNSAT,
``T = G`` holds on every input, the equivalence clauses are added, and every
later network signal that reads ``T`` is built over ``G`` instead (the cut
point).  Finally the outputs: those that became the spec's own output
literal need no call; the rest go to one miter.

Why that is sound, by induction over the order of creation: let ``T*`` be
the literal the module really computes and ``T`` the one encoded, built
from the earlier literals after substitution.  Each earlier literal ``L``
that was replaced by ``G`` had ``L = G`` proven for all inputs, and by the
induction hypothesis ``L`` equals the module's real signal; so substituting
``G`` changes no value on any input, and ``T`` equals ``T*`` on every input.
Each check is a query on a formula that is definitional (above), so UNSAT
of ``T xor G`` really means equality on all inputs.  A check that is SAT,
or runs out of its conflict budget, merely leaves ``T`` unmerged: that
costs speed, never soundness.  Signatures only choose which equalities to
try, so they cannot make a wrong proof.

No compiler intermediate form is consulted, not even as a hint: the
candidates come from simulating the spec's AST and the module's weights.
(The compiler's ``BOOL_MAP`` / ``LayerPlan.values`` name lowered-graph
nodes, not AST nodes, and would tie the method to networks of the
compiler's shape; the hash-consed threshold literals already recover each
compiled signal, e.g. ``relu(z+1) - relu(z)`` cancels to ``[z >= 0]``, so
simulation finds the same correspondences on any network.)

``"auto"``: ``"monolithic"`` with a time budget of ``AUTO_MONOLITHIC_SECONDS``,
then ``"nodes"`` with the time left.

Before any SAT call, the patterns are also run through the module in torch:
a mismatch there is already a confirmed counterexample, and a disagreement
between the module and its encoding raises an internal error.
"""

from __future__ import annotations

import copy
import math
import operator
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
import torch
from torch import fx, nn

from .inputs import as_spec
from .compiler.evaluate import evaluate, evaluate_batch
from .compiler.spec import AND, OR, BinOp, Const, Name, Not, Spec, assignment_order, postorder
from .compiler.options import PROVE_METHODS
from .compiler.runtime import Step

#: Largest k for weights that are multiples of 2**-k.
MAX_FRACTION_BITS = 30
#: A non-integer weight whose odd numerator has more than (mantissa bits - this) bits looks rounded.
ROUNDING_SLACK_BITS = 4
#: ReLU neurons with at most this many positive values are encoded in unary.
UNARY_LIMIT = 64
#: Pseudo-Boolean constraints whose weights sum to more than this use the adder encoding.
PB_TOTALIZER_LIMIT = 256
#: The SAT solver (python-sat name).
SOLVER = "cadical195"
#: Time budget of the monolithic attempt in method="auto".
AUTO_MONOLITHIC_SECONDS = 3.0
#: Conflict budget of one node check in method="nodes".
NODE_CONFLICTS = 2000
#: Spec literals tried per network literal with a matching signature.
NODE_CANDIDATES = 3
#: Random simulation patterns (plus all-zeros and all-ones).
SIM_PATTERNS = 1022
METHODS = PROVE_METHODS

PROVED, REFUTED, TIMEOUT = "proved", "refuted", "timeout"
TRUE, FALSE = 1, -1  # variable 1 is the constant true


@dataclass(frozen=True)
class ProofReport:
    """Outcome of :func:`prove`.

    ``status`` is ``"proved"``, ``"refuted"`` or ``"timeout"``.  For
    ``"refuted"``, ``counterexample`` maps each input to 0/1, ``expected`` the
    spec's outputs there and ``got`` the module's (float64) outputs.
    ``variables`` / ``clauses`` count the SAT problem that decided (for
    ``"nodes"`` the one incremental problem of all checks); ``sat_calls`` and
    ``merged`` (network signals proven equal to spec signals) are for
    ``"nodes"``.
    """

    status: str
    counterexample: dict[str, int] | None = None
    expected: dict[str, int] | None = None
    got: dict[str, float] | None = None
    solver: str = SOLVER
    seconds: float = 0.0
    variables: int = 0
    clauses: int = 0
    method: str = "monolithic"
    sat_calls: int = 0
    merged: int = 0
    notes: tuple[str, ...] = ()

    @property
    def proved(self) -> bool:
        return self.status == PROVED

    def __bool__(self) -> bool:
        return self.proved

    def __str__(self) -> str:
        how = f"({self.solver}, {self.variables} vars, {self.clauses} clauses, {self.method}"
        if self.method == "nodes":
            how += f", {self.merged} signals merged in {self.sat_calls} SAT calls"
        how += ")"
        if self.status == PROVED:
            lines = [f"proved equivalent in {self.seconds:.2f} s {how}"]
        elif self.status == REFUTED:
            fmt = lambda d: " ".join(f"{k}={_num(v)}" for k, v in d.items())  # noqa: E731
            lines = [f"REFUTED in {self.seconds:.2f} s {how}",
                     f"  input:    {fmt(self.counterexample)}",
                     f"  expected: {fmt(self.expected)}",
                     f"  got:      {fmt(self.got)}"]
        else:
            lines = [f"timeout after {self.seconds:.2f} s {how}: neither proved nor refuted"]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


class _Timeout(Exception):
    pass


# ---------------------------------------------------------------------------
# Reading the module


@dataclass
class _Affine:
    """``out[j] = bias[j] + sum(w * in[i] for i, w in rows[j])``."""

    name: str
    rows: list[list[tuple[int, Fraction]]]
    bias: list[Fraction]
    in_width: int | None
    precision: int  # mantissa bits of the layer's dtype


@dataclass
class _Act:
    """An activation on ``vec`` (or on the positions ``only``): relu, or a step ``[z > thr]`` / ``[z >= thr]``."""

    kind: str  # "relu" | "step"
    only: tuple[int, ...] | None = None
    thr: Fraction = Fraction(0)
    strict: bool = True


def _precision(dtype: torch.dtype) -> int:
    """Mantissa bits, the implicit one included (float32: 24)."""
    return 1 - int(math.log2(torch.finfo(dtype).eps)) if dtype.is_floating_point else 63


def _exact(t: torch.Tensor, what: str, dtype: torch.dtype) -> list[tuple[tuple[int, ...], Fraction]]:
    """The nonzero entries of ``t`` as exact dyadic Fractions, or a ValueError naming the first bad one."""
    t = t.detach().to("cpu")
    t64 = t.to(torch.float64)
    prec = _precision(dtype)
    bad_mask = ~torch.isfinite(t64)
    scaled = t64 * float(2 ** MAX_FRACTION_BITS)
    bad_mask |= scaled != torch.round(scaled)
    idx = torch.nonzero(t64 != 0, as_tuple=False).tolist()
    vals = t64[t64 != 0].tolist() if t64.dim() else ([float(t64)] if float(t64) != 0 else [])
    out = []
    for ix, v in zip(idx, vals):
        ix = tuple(ix)
        if bool(bad_mask[ix]) or not math.isfinite(v):
            _refuse(what, ix, v, dtype, f"not a multiple of 2**-{MAX_FRACTION_BITS}")
        f = Fraction(v)
        if f.denominator != 1:
            m = abs(f.numerator)
            if m.bit_length() > prec - ROUNDING_SLACK_BITS:
                _refuse(what, ix, v, dtype,
                        f"it is {f.numerator}/{f.denominator}, whose {m.bit_length()}-bit numerator fills "
                        f"{dtype}'s {prec}-bit mantissa, so it looks rounded")
        out.append((ix, f))
    return out


def _refuse(what: str, ix: tuple[int, ...], v: float, dtype: torch.dtype, why: str) -> None:
    where = f"row {ix[0]}, column {ix[1]}" if len(ix) == 2 else f"row {ix[0]}" if ix else ""
    raise ValueError(
        f"{what}: {where}: value {v:.10g} ({dtype}) is not an exact dyadic rational: {why}; "
        f"prove needs weights and biases that are multiples of 2**-k (k <= {MAX_FRACTION_BITS}), "
        f"e.g. integers or 0.25"
    )


def _linear_op(name: str, lin: nn.Linear) -> _Affine:
    dtype = lin.weight.dtype
    out_f, in_f = lin.weight.shape
    rows: list[list[tuple[int, Fraction]]] = [[] for _ in range(out_f)]
    for (i, j), f in _exact(lin.weight, f"layer {name!r} (nn.Linear) weight", dtype):
        rows[i].append((j, f))
    bias = [Fraction(0)] * out_f
    if lin.bias is not None:
        for (i,), f in _exact(lin.bias, f"layer {name!r} (nn.Linear) bias", dtype):
            bias[i] = f
    return _Affine(name, rows, bias, in_f, _precision(dtype))


def _gather_ops(name: str, m: nn.Module) -> list[object]:
    """threshnet's sparse ``GatherLayer`` on the slot buffer.

    Per bucket ``act(sum(w * slot[idx]) + b)``; a hidden layer writes its
    neurons into ``slots`` and leaves the other slots as they are, the final
    layer returns the read-out itself.
    """
    try:
        final = bool(m.final)
        shapes = list(m.shapes)
        weights, biases = list(m.weights), list(m.biases)
        idxs = [getattr(m, f"idx{i}") for i in range(len(shapes))]
        slots = None if final else [int(s) for s in m.slots.tolist()]
        n_slots = int(m.n_slots)
        act = m.act
    except AttributeError as e:  # a GatherLayer of another version
        raise ValueError(f"layer {name!r}: unsupported GatherLayer layout ({e})") from None
    new_rows: list[list[tuple[int, Fraction]]] = []
    new_bias: list[Fraction] = []
    dtype = weights[0].dtype if weights else torch.float32
    for b, ((mm, k), w, bb, idx) in enumerate(zip(shapes, weights, biases, idxs)):
        w_ex = dict(_exact(w.reshape(mm, k), f"layer {name!r} (GatherLayer bucket {b}) weight", w.dtype))
        b_ex = dict(_exact(bb.reshape(mm), f"layer {name!r} (GatherLayer bucket {b}) bias", bb.dtype))
        idx = idx.reshape(mm, k).tolist()
        for r in range(mm):
            acc: dict[int, Fraction] = {}
            for c in range(k):
                f = w_ex.get((r, c))
                if f is not None:
                    acc[idx[r][c]] = acc.get(idx[r][c], Fraction(0)) + f
            new_rows.append([(j, f) for j, f in acc.items() if f])
            new_bias.append(b_ex.get((r,), Fraction(0)))
    if isinstance(act, Step):
        kind = "step"
    elif isinstance(act, nn.ReLU):
        kind = "relu"
    elif isinstance(act, nn.Identity):
        kind = None
    else:
        raise ValueError(f"layer {name!r}: unsupported GatherLayer activation {type(act).__name__}")
    prec = _precision(dtype)
    if final:
        ops: list[object] = [_Affine(name, new_rows, new_bias, n_slots, prec)]
        if kind:
            ops.append(_Act(kind))
        return ops
    if len(slots) != len(new_rows) or len(set(slots)) != len(slots) or not all(0 <= s < n_slots for s in slots):
        raise ValueError(f"layer {name!r}: GatherLayer writes {len(new_rows)} neurons to slots {slots[:8]}...: "
                         f"not one distinct slot each")
    rows: list[list[tuple[int, Fraction]]] = [[(s, Fraction(1))] for s in range(n_slots)]
    bias = [Fraction(0)] * n_slots
    for s, row, b in zip(slots, new_rows, new_bias):
        rows[s], bias[s] = row, b
    ops = [_Affine(name, rows, bias, n_slots, prec)]
    if kind:
        ops.append(_Act(kind, only=tuple(sorted(slots))))
    return ops


def _to_slots_op(name: str, m: nn.Module) -> _Affine:
    """threshnet's sparse ``ToSlots``: the inputs in the first slots, zeros after."""
    n_in, n_slots = int(m.n_inputs), int(m.n_slots)
    rows = [[(i, Fraction(1))] for i in range(n_in)] + [[] for _ in range(n_slots - n_in)]
    return _Affine(name, rows, [Fraction(0)] * n_slots, n_in, 63)


def _is_sparse(m: nn.Module, kind: str) -> bool:
    return type(m).__name__ == kind and type(m).__module__.startswith("threshnet.")


def _is_gather(m: nn.Module) -> bool:
    return _is_sparse(m, "GatherLayer") or _is_sparse(m, "ToSlots")


class _Tracer(fx.Tracer):
    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        if isinstance(m, Step) or _is_gather(m):
            return True
        return super().is_leaf_module(m, qualname)


_CMP = {operator.gt: (">", False), torch.gt: (">", False), operator.ge: (">=", False), torch.ge: (">=", False),
        operator.lt: ("<", False), torch.lt: ("<", False), operator.le: ("<=", False), torch.le: ("<=", False)}
_CMP_METHODS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
_RELU_FNS = {torch.relu, torch.nn.functional.relu}
_CASTS = {"float", "double", "half", "bfloat16", "to", "type", "type_as"}


def read_module(module: nn.Module) -> list[object]:
    """The module's computation as a list of exact affine maps and activations."""
    from .network import ThreshNet

    root = module.layers if isinstance(module, ThreshNet) else module
    prefix = "layers." if root is not module else ""
    try:
        graph = _Tracer().trace(root)
    except Exception as e:
        raise ValueError(f"cannot read the module's forward with torch.fx: {type(e).__name__}: {e}") from None
    ops: list[object] = []
    cur = None

    def need(node: fx.Node, arg: object) -> None:
        if arg is not cur:
            raise ValueError(f"unsupported network shape at {node.format_node()}: prove reads a plain chain of "
                             f"Linear / ReLU / step operations")

    for node in graph.nodes:
        if node.op == "placeholder":
            if cur is not None:
                raise ValueError("prove supports modules with one input tensor")
            cur = node
            continue
        if node.op == "output":
            need(node, node.args[0])
            break
        if node.op == "call_module":
            sub = root.get_submodule(node.target)
            need(node, node.args[0] if node.args else None)
            if len(node.args) != 1 or node.kwargs:
                raise ValueError(f"unsupported call of {node.target!r} with extra arguments")
            if isinstance(sub, nn.Linear):
                ops.append(_linear_op(prefix + node.target, sub))
            elif isinstance(sub, nn.ReLU):
                ops.append(_Act("relu"))
            elif isinstance(sub, Step):
                ops.append(_Act("step"))
            elif isinstance(sub, nn.Identity):
                pass
            elif _is_sparse(sub, "GatherLayer"):
                ops.extend(_gather_ops(prefix + node.target, sub))
            elif _is_sparse(sub, "ToSlots"):
                ops.append(_to_slots_op(prefix + node.target, sub))
            else:
                raise ValueError(f"unsupported layer {node.target!r} ({type(sub).__name__}); prove reads "
                                 f"nn.Linear, nn.ReLU, Step, nn.Identity and comparisons with a constant")
            cur = node
            continue
        if node.op == "call_function" and node.target in _RELU_FNS:
            need(node, node.args[0])
            ops.append(_Act("relu"))
            cur = node
            continue
        if node.op == "call_method" and node.target == "relu":
            need(node, node.args[0])
            ops.append(_Act("relu"))
            cur = node
            continue
        is_cmp_fn = node.op == "call_function" and node.target in _CMP
        if is_cmp_fn or (node.op == "call_method" and node.target in _CMP_METHODS):
            sym = _CMP[node.target][0] if is_cmp_fn else _CMP_METHODS[node.target]
            a, b = node.args[0], node.args[1]
            if a is cur and isinstance(b, (int, float)):
                const = b
            elif b is cur and isinstance(a, (int, float)):
                const = a
                sym = {">": "<", ">=": "<=", "<": ">", "<=": ">="}[sym]
            else:
                raise ValueError(f"unsupported comparison {node.format_node()}: prove reads comparisons of the "
                                 f"running value with a constant")
            if sym not in (">", ">="):
                raise ValueError(f"unsupported comparison {node.format_node()}: use z > c or z >= c")
            if isinstance(const, float) and not math.isfinite(const):
                raise ValueError(f"comparison with {const!r}")
            ops.append(_Act("step", None, Fraction(const), sym == ">"))
            cur = node
            continue
        if node.op == "call_function" and node.target is getattr and node.args[1] in ("dtype", "device"):
            continue  # read by a cast, e.g. (z > 0).to(z.dtype)
        if node.op == "call_method" and node.target in _CASTS:
            need(node, node.args[0])
            cur = node  # a cast of 0/1 or of the exact values: no change
            continue
        raise ValueError(f"unsupported operation {node.format_node()}; prove reads nn.Linear, nn.ReLU / "
                         f"F.relu / torch.relu, Step, nn.Identity and (z > c).float()")
    return ops


# ---------------------------------------------------------------------------
# The SAT problem

Form = tuple[int, dict[int, int], int]  # (const, {var: coef}, den): value = (const + sum coef*var) / den


def _lit_form(l: int) -> Form:
    if l == TRUE:
        return (1, {}, 1)
    if l == FALSE:
        return (0, {}, 1)
    return (0, {l: 1}, 1) if l > 0 else (1, {-l: -1}, 1)


def _form_lit(f: Form) -> int | None:
    """The literal a form is exactly, if any."""
    c, coefs, den = f
    if den != 1:
        return None
    if not coefs:
        return TRUE if c == 1 else FALSE if c == 0 else None
    if len(coefs) == 1:
        (v, a), = coefs.items()
        if c == 0 and a == 1:
            return v
        if c == 1 and a == -1:
            return -v
    return None


class _Problem:
    """One incremental CaDiCaL instance, with hash-consed gates and simulation values."""

    def __init__(self, solver: str, n_patterns: int, deadline: float | None) -> None:
        from pysat.solvers import Solver

        self.solver_name = solver
        self.solver = Solver(name=solver)
        self.top = 1
        self.n_clauses = 0
        self.deadline = deadline
        self.buf: list[list[int]] = []
        self.add([TRUE])
        self.P = n_patterns
        self.sim: dict[int, np.ndarray] = {TRUE: np.ones(n_patterns, dtype=bool)}
        self.tcache: dict[tuple, int] = {}
        self.gcache: dict[tuple, int] = {}
        self.on_new_threshold: Callable[[int], int] | None = None
        self.sat_calls = 0

    # -- plumbing
    def close(self) -> None:
        self.solver.delete()

    def new_var(self) -> int:
        self.top += 1
        return self.top

    def add(self, clause: list[int]) -> None:
        self.buf.append(clause)
        self.n_clauses += 1
        if len(self.buf) >= 4096:
            self.flush()

    def flush(self) -> None:
        if self.buf:
            self.solver.append_formula(self.buf)
            self.buf = []

    def tick(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise _Timeout

    def lsim(self, l: int) -> np.ndarray:
        s = self.sim[abs(l)]
        return s if l > 0 else ~s

    def form_sim(self, f: Form) -> np.ndarray:
        c, coefs, _ = f
        acc = np.full(self.P, c, dtype=np.int64)
        for v, a in coefs.items():
            acc += a * self.sim[v]
        return acc

    def solve(self, assumptions: Sequence[int], conflicts: int | None = None) -> bool | None:
        """SAT? ``None`` when the conflict budget ran out; raises _Timeout past the deadline."""
        self.flush()
        self.sat_calls += 1
        if conflicts is not None:
            self.solver.conf_budget(conflicts)
            return self.solver.solve_limited(assumptions=list(assumptions))
        if self.deadline is None:
            return self.solver.solve(assumptions=list(assumptions))
        budget = 2000
        while True:
            self.tick()
            t0 = time.monotonic()
            self.solver.conf_budget(budget)
            r = self.solver.solve_limited(assumptions=list(assumptions))
            if r is not None:
                return r
            spent = max(time.monotonic() - t0, 1e-3)
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise _Timeout
            # aim for slices of about half a second, never past the deadline by much
            budget = int(max(500, min(budget * 4, budget / spent * min(0.5, left))))

    # -- Boolean gates (spec side and miters)
    def and_(self, a: int, b: int) -> int:
        if a == FALSE or b == FALSE or a == -b:
            return FALSE
        if a == TRUE or a == b:
            return b
        if b == TRUE:
            return a
        key = ("and", min(a, b), max(a, b))
        g = self.gcache.get(key)
        if g is None:
            g = self.new_var()
            self.add([-g, a])
            self.add([-g, b])
            self.add([g, -a, -b])
            self.sim[g] = self.lsim(a) & self.lsim(b)
            self.gcache[key] = g
        return g

    def or_(self, a: int, b: int) -> int:
        return -self.and_(-a, -b)

    def xor_(self, a: int, b: int) -> int:
        if a == FALSE:
            return b
        if b == FALSE:
            return a
        if a == TRUE:
            return -b
        if b == TRUE:
            return -a
        if a == b:
            return FALSE
        if a == -b:
            return TRUE
        neg = (a < 0) != (b < 0)
        a, b = abs(a), abs(b)
        key = ("xor", min(a, b), max(a, b))
        g = self.gcache.get(key)
        if g is None:
            g = self.new_var()
            self.add([-g, a, b])
            self.add([-g, -a, -b])
            self.add([g, -a, b])
            self.add([g, a, -b])
            self.sim[g] = self.sim[a] ^ self.sim[b]
            self.gcache[key] = g
        return -g if neg else g

    def or_many(self, lits: Iterable[int]) -> int:
        lits = [l for l in lits if l != FALSE]
        if TRUE in lits:
            return TRUE
        if not lits:
            return FALSE
        if len(lits) == 1:
            return lits[0]
        g = self.new_var()
        self.add([-g] + lits)
        for l in lits:
            self.add([g, -l])
        return g

    # -- threshold literals
    def threshold(self, coefs: dict[int, int], t: int, sweep: bool = True) -> int:
        """A literal equal to ``[sum(coefs[v] * v) >= t]`` (``v`` positive variables)."""
        items = sorted((v, a) for v, a in coefs.items() if a)
        lo = sum(a for _, a in items if a < 0)
        hi = sum(a for _, a in items if a > 0)
        if t <= lo:
            return TRUE
        if t > hi:
            return FALSE
        g = 0
        for _, a in items:
            g = math.gcd(g, a)
        if g > 1:
            items = [(v, a // g) for v, a in items]
            t = -((-t) // g)  # ceil
        neg = items[0][1] < 0
        if neg:  # [sum >= t] = not [-sum >= 1 - t]
            items = [(v, -a) for v, a in items]
            t = 1 - t
        if len(items) == 1:  # [v >= 1] after normalisation
            lit = items[0][0]
            return -lit if neg else lit
        key = (tuple(items), t)
        lit = self.tcache.get(key)
        if lit is None:
            self.tick()
            lit = self.new_var()
            self._encode_threshold(lit, items, t)
            acc = np.zeros(self.P, dtype=np.int64)
            for v, a in items:
                acc += a * self.sim[v]
            self.sim[lit] = acc >= t
            if sweep and self.on_new_threshold is not None:
                lit = self.on_new_threshold(lit)
            self.tcache[key] = lit
        return -lit if neg else lit

    def _encode_threshold(self, out: int, items: list[tuple[int, int]], t: int) -> None:
        """Clauses for ``out <-> sum(a * v) >= t``, with 0 < t <= max."""
        lits, weights = [], []
        for v, a in items:
            if a > 0:
                lits.append(v)
                weights.append(a)
            else:  # a*v = a + |a|*(not v)
                lits.append(-v)
                weights.append(-a)
                t -= a
        total = sum(weights)
        if all(w >= t for w in weights):  # any one literal suffices: OR
            self.add([-out] + lits)
            for l in lits:
                self.add([out, -l])
            return
        if all(total - w < t for w in weights):  # every literal is needed: AND
            self.add([out] + [-l for l in lits])
            for l in lits:
                self.add([-out, l])
            return
        self._pb(lits, weights, t, out)
        self._pb([-l for l in lits], weights, total - t + 1, -out)

    def pb_geq(self, coefs: dict[int, int], t: int) -> None:
        """The plain constraint ``sum(coefs[v] * v) >= t``."""
        lits, weights = [], []
        for v, a in coefs.items():
            if a > 0:
                lits.append(v)
                weights.append(a)
            elif a < 0:
                lits.append(-v)
                weights.append(-a)
                t -= a
        if t <= 0:
            return
        if t > sum(weights):
            self.add([FALSE])
            return
        self._pb(lits, weights, t, None)

    def _pb(self, lits: list[int], weights: list[int], bound: int, cond: int | None) -> None:
        """``cond -> sum(w * l) >= bound`` through pindakaas, with variables renumbered locally."""
        from pysat.pb import EncType, PBEnc

        n = len(lits)
        local = list(range(1, n + 1))
        glob = {i + 1: l for i, l in enumerate(lits)}
        conds = None
        if cond is not None:
            glob[n + 1] = cond
            conds = [n + 1]
        top = n + 1
        # Small weights: pindakaas's default (a totalizer, which propagates well).  Large ones
        # (e.g. binary ReLU bits): the adder encoding, whose size does not grow with the weights.
        enc = EncType.best if sum(weights) <= PB_TOTALIZER_LIMIT else EncType.adder
        cnf = PBEnc.atleast(lits=local, weights=weights, bound=bound, top_id=top, conditionals=conds, encoding=enc)
        for cl in cnf.clauses:
            out = []
            for x in cl:
                v = abs(x)
                g = glob.get(v)
                if g is None:
                    g = glob[v] = self.new_var()
                out.append(g if x > 0 else -g)
            self.add(out)


class _Network:
    """The module's computation encoded into a :class:`_Problem`."""

    def __init__(self, prob: _Problem, ops: list[object], inputs: list[int]) -> None:
        self.p = prob
        self.ops = ops
        self.inputs = inputs
        self.exact_note: str | None = None
        self.binary_relus = 0

    def encode(self) -> list[Form]:
        p = self.p
        # (form, lo, hi) per value; lo/hi are exact bounds of the value
        vec: list[tuple[Form, Fraction, Fraction]] = [((0, {v: 1}, 1), Fraction(0), Fraction(1)) for v in self.inputs]
        worst: tuple[float, str] | None = None
        for op in self.ops:
            p.tick()
            if isinstance(op, _Affine):
                if op.in_width is not None and op.in_width != len(vec):
                    raise ValueError(f"layer {op.name!r} reads {op.in_width} values but receives {len(vec)}")
                new = []
                for j, (row, b) in enumerate(zip(op.rows, op.bias)):
                    f, lo, hi, need = self._combine(row, b, vec)
                    new.append((f, lo, hi))
                    # exactness of the module's own float arithmetic: |partial sums| * den < 2**precision
                    ratio = need / 2.0 ** op.precision
                    if worst is None or ratio > worst[0]:
                        worst = (ratio, f"layer {op.name!r} row {j}")
                vec = new
            else:
                assert isinstance(op, _Act)
                if op.only is None:
                    vec = [self._act(op, *e) for e in vec]
                else:
                    vec = list(vec)
                    for i in op.only:
                        vec[i] = self._act(op, *vec[i])
        if worst is not None and worst[0] > 1:
            self.exact_note = (f"the module's own dtype may round partial sums ({worst[1]} needs "
                               f"{math.log2(worst[0]):.1f} more mantissa bits); the proof is about "
                               f"exact arithmetic")
        return [f for f, _, _ in vec]

    def _combine(self, row: list[tuple[int, Fraction]], b: Fraction,
                 vec: list[tuple[Form, Fraction, Fraction]]) -> tuple[Form, Fraction, Fraction, float]:
        den = b.denominator
        for i, w in row:
            den = math.lcm(den, w.denominator * vec[i][0][2])
        const = b.numerator * (den // b.denominator)
        coefs: dict[int, int] = {}
        lo = hi = b
        mag = abs(b)
        for i, w in row:
            (c, cs, d), vlo, vhi = vec[i]
            k = w.numerator * (den // (w.denominator * d))
            const += k * c
            for v, a in cs.items():
                coefs[v] = coefs.get(v, 0) + k * a
            if w > 0:
                lo += w * vlo
                hi += w * vhi
            else:
                lo += w * vhi
                hi += w * vlo
            mag += abs(w) * max(abs(vlo), abs(vhi))
        coefs = {v: a for v, a in coefs.items() if a}
        g = math.gcd(den, const)
        for a in coefs.values():
            g = math.gcd(g, a)
        if g > 1:
            den //= g
            const //= g
            coefs = {v: a // g for v, a in coefs.items()}
        f = (const, coefs, den)
        flo = Fraction(const + sum(a for a in coefs.values() if a < 0), den)
        fhi = Fraction(const + sum(a for a in coefs.values() if a > 0), den)
        return f, max(lo, flo), min(hi, fhi), float(mag * den)

    def _act(self, op: _Act, f: Form, lo: Fraction, hi: Fraction) -> tuple[Form, Fraction, Fraction]:
        p = self.p
        c, coefs, den = f
        if op.kind == "step":
            # [z > thr] with z = (c + sum)/den  <=>  sum >= floor(thr*den - c) + 1 (strict) or ceil(...)
            x = op.thr * den - c
            t = math.floor(x) + 1 if op.strict else math.ceil(x)
            lit = p.threshold(coefs, t)
            lf = _lit_form(lit)
            return lf, Fraction(1 if lit == TRUE else 0), Fraction(0 if lit == FALSE else 1)
        # relu
        if hi <= 0:
            return (0, {}, 1), Fraction(0), Fraction(0)
        if lo >= 0:
            return f, lo, hi
        zlo = math.ceil(lo * den)   # integer bounds of z' = c + sum(coefs * v) = den * z
        hi_i = math.floor(hi * den)
        if hi_i <= UNARY_LIMIT:
            const, acc = 0, {}
            for t in range(1, hi_i + 1):
                lit = p.threshold(coefs, t - c)
                lc, lcs, _ = _lit_form(lit)
                const += lc
                for v, a in lcs.items():
                    acc[v] = acc.get(v, 0) + a
            acc = {v: a for v, a in acc.items() if a}
            return (const, acc, den), Fraction(0), hi
        # binary: r' = sum 2^k b_k, indicator a
        self.binary_relus += 1
        m = hi_i.bit_length()
        bits = [p.new_var() for _ in range(m)]
        a = p.new_var()
        z_sim = p.form_sim(f)
        r_sim = np.maximum(z_sim, 0)
        for k, bv in enumerate(bits):
            p.sim[bv] = ((r_sim >> k) & 1).astype(bool)
        p.sim[a] = z_sim > 0
        r = {bv: 1 << k for k, bv in enumerate(bits)}
        # r' - z' >= 0
        e = dict(r)
        for v, w in coefs.items():
            e[v] = e.get(v, 0) - w
        p.pb_geq(e, c)
        # z' - r' + lo'*a >= lo'
        e = dict(coefs)
        for v, w in r.items():
            e[v] = e.get(v, 0) - w
        e[a] = e.get(a, 0) + zlo
        p.pb_geq(e, zlo - c)
        # hi'*a - r' >= 0
        e = {v: -w for v, w in r.items()}
        e[a] = hi_i
        p.pb_geq(e, 0)
        return (0, r, den), Fraction(0), hi


def _encode_spec(p: _Problem, spec: Spec, pats: np.ndarray) -> tuple[list[int], list[int], list[int]]:
    """Tseitin encoding of the spec's AST: input variables, output literals, gate variables in order."""
    env: dict[str, int] = {}
    inputs = []
    for i, name in enumerate(spec.inputs):
        v = p.new_var()
        inputs.append(v)
        env[name] = v
        p.sim[v] = pats[:, i].astype(bool)
    gates: list[int] = []
    for a in assignment_order(spec):
        stack: list[int] = []
        for node in postorder(a.expr):
            if isinstance(node, Name):
                stack.append(env[node.id])
            elif isinstance(node, Const):
                stack.append(TRUE if node.value else FALSE)
            elif isinstance(node, Not):
                stack.append(-stack.pop())
            else:
                assert isinstance(node, BinOp)
                r = stack.pop()
                l = stack.pop()
                top = p.top
                g = p.and_(l, r) if node.op == AND else p.or_(l, r) if node.op == OR else p.xor_(l, r)
                if p.top > top:
                    gates.append(abs(g))
                stack.append(g)
        env[a.target] = stack.pop()
    return inputs, [env[o] for o in spec.outputs], gates


# ---------------------------------------------------------------------------
# prove


def available() -> bool:
    """Whether python-sat and pindakaas (the extra ``threshnet[prove]``) are installed."""
    try:
        import pindakaas  # noqa: F401
        import pysat  # noqa: F401
    except ImportError:
        return False
    return True


def prove(module: nn.Module, spec: Spec | str | Path, *, timeout: float | None = None,
          method: str = "auto", solver: str = SOLVER, simulate: bool = True) -> ProofReport:
    """Prove ``module`` equivalent to ``spec`` on every 0/1 input, or find an input where it is not.

    ``module`` is a :class:`~threshnet.ThreshNet` or any network made of
    ``nn.Linear``, ReLU and a step (see the module docstring).  ``timeout``
    (seconds) bounds the whole proof; past it the report's status is
    ``"timeout"``.  ``method`` is ``"auto"``, ``"monolithic"`` or ``"nodes"``.
    ``simulate=False`` skips the quick refutation by random simulation, so that
    a counterexample always comes from the SAT solver (the simulation still
    checks the encoding against the module).
    Raises :class:`ValueError` for a module it cannot read exactly, and
    :class:`RuntimeError` for an internal inconsistency (a counterexample that
    the module does not confirm).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    start = time.monotonic()
    deadline = None if timeout is None else start + timeout
    spec = as_spec(spec)
    ops = read_module(module)
    notes: list[str] = []
    _check_names(module, spec, notes)

    first = next((op for op in ops if isinstance(op, _Affine)), None)
    if first is not None and first.in_width is not None and first.in_width != len(spec.inputs):
        raise ValueError(f"module reads {first.in_width} inputs, spec has {len(spec.inputs)} "
                         f"({', '.join(spec.inputs)})")

    # Simulation: the module on random patterns, before any SAT call.
    pats = _patterns(spec, SIM_PATTERNS + 2)
    try:
        got = _run(module, pats)
    except Exception as e:
        raise ValueError(f"running the module on {len(spec.inputs)} inputs failed: {type(e).__name__}: {e}") from e
    if got.shape != (len(pats), len(spec.outputs)):
        raise ValueError(f"module returns {got.shape[1:]} values per input, spec has {len(spec.outputs)} outputs")
    want = evaluate_batch(spec, pats).astype(np.float64)
    bad = np.nonzero((got != want).any(axis=1))[0]
    if bad.size and simulate:
        cex = {k: int(v) for k, v in zip(spec.inputs, pats[int(bad[0])])}
        rep = _refuted(module, spec, cex, solver, start, 0, 0, "simulation", 0, 0,
                       notes + ["counterexample found by random simulation, before any SAT call"])
        return rep

    if method in ("monolithic", "auto"):
        budget = deadline
        if method == "auto":
            budget = start + AUTO_MONOLITHIC_SECONDS if deadline is None else min(deadline, start + AUTO_MONOLITHIC_SECONDS)
        rep = _attempt(module, spec, ops, pats, got, solver, start, budget, sweep=False, notes=notes)
        if rep.status != TIMEOUT or method == "monolithic" or (deadline is not None and time.monotonic() >= deadline):
            return rep
        notes.append(f"monolithic miter gave up after {time.monotonic() - start:.1f} s; proving node by node")
    return _attempt(module, spec, ops, pats, got, solver, start, deadline, sweep=True, notes=notes)


def _check_names(module: nn.Module, spec: Spec, notes: list[str]) -> None:
    from .network import ThreshNet

    if isinstance(module, ThreshNet):
        if tuple(module.input_names) != tuple(spec.inputs) or tuple(module.output_names) != tuple(spec.outputs):
            notes.append("the network's port names differ from the spec's; ports are matched by position")


def _patterns(spec: Spec, n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    pats = rng.integers(0, 2, size=(n, len(spec.inputs))).astype(np.uint8)
    if n >= 2:
        pats[0, :] = 0
        pats[1, :] = 1
    return pats


def _run(module: nn.Module, rows: np.ndarray) -> np.ndarray:
    """The module's outputs in float64 (on a copy, on the CPU)."""
    m = copy.deepcopy(module).to("cpu", torch.float64)
    with torch.no_grad():
        out = m(torch.as_tensor(rows, dtype=torch.float64))
    return out.detach().to(torch.float64).numpy().reshape(len(rows), -1)


def _refuted(module, spec, cex, solver, start, nv, nc, method, calls, merged, notes) -> ProofReport:
    expected = evaluate(spec, cex)
    row = np.array([[cex[k] for k in spec.inputs]], dtype=np.uint8)
    got_row = _run(module, row)[0]
    got = {o: float(v) for o, v in zip(spec.outputs, got_row)}
    if all(got[o] == expected[o] for o in spec.outputs):
        raise RuntimeError(
            f"internal error in threshnet.prove: the SAT counterexample {cex} is not one: the module computes "
            f"{got} there, as the spec does (an encoding bug; please report it)"
        )
    return ProofReport(REFUTED, cex, expected, got, solver, time.monotonic() - start, nv, nc, method,
                       calls, merged, tuple(notes))


def _attempt(module, spec, ops, pats, got, solver, start, deadline, *, sweep: bool, notes: list[str]) -> ProofReport:
    method = "nodes" if sweep else "monolithic"
    p = _Problem(solver, len(pats), deadline)
    merged = 0
    try:
        try:
            inputs, outs, gates = _encode_spec(p, spec, pats)
            if sweep:
                table = _signature_table(p, inputs, gates)

                def on_new(lit: int) -> int:
                    nonlocal merged
                    for cand in table.get(_sig(p.sim[lit]), ())[:NODE_CANDIDATES]:
                        p.tick()
                        x = p.new_var()
                        p.add([-x, lit, cand])
                        p.add([-x, -lit, -cand])
                        r = p.solve([x], conflicts=NODE_CONFLICTS)
                        if r is False:
                            p.add([-x])
                            p.add([-lit, cand])
                            p.add([lit, -cand])
                            merged += 1
                            return cand
                    return lit

                p.on_new_threshold = on_new
            net = _Network(p, ops, inputs)
            forms = net.encode()
            p.on_new_threshold = None
            if len(forms) != len(outs):
                raise ValueError(f"module has {len(forms)} outputs, spec has {len(outs)}")
            _self_check(p, forms, got, spec)
            if net.exact_note and net.exact_note not in notes:
                notes.append(net.exact_note)
            if net.binary_relus and not any(n.startswith("binary ReLU") for n in notes):
                notes.append(f"binary ReLU encoding for {net.binary_relus} neuron(s) with more than "
                             f"{UNARY_LIMIT} values")
            diffs = []
            for f, g in zip(forms, outs):
                lit = _form_lit(f)
                if lit is not None:
                    if lit != g:
                        diffs.append(p.xor_(lit, g))
                    continue
                c, coefs, den = f
                e = dict(coefs)  # E = c + sum - den*G
                gc, gcs, _ = _lit_form(g)
                for v, a in gcs.items():
                    e[v] = e.get(v, 0) - den * a
                c -= den * gc
                up = p.threshold(e, 1 - c, sweep=False)
                down = p.threshold({v: -a for v, a in e.items()}, 1 + c, sweep=False)
                diffs.append(p.or_(up, down))
            miter = p.or_many(diffs)
            if miter == FALSE:
                return ProofReport(PROVED, solver=solver, seconds=time.monotonic() - start, variables=p.top,
                                   clauses=p.n_clauses, method=method, sat_calls=p.sat_calls, merged=merged,
                                   notes=tuple(notes))
            sat = p.solve([miter])
        except _Timeout:
            return ProofReport(TIMEOUT, solver=solver, seconds=time.monotonic() - start, variables=p.top,
                               clauses=p.n_clauses, method=method, sat_calls=p.sat_calls, merged=merged,
                               notes=tuple(notes))
        if not sat:
            return ProofReport(PROVED, solver=solver, seconds=time.monotonic() - start, variables=p.top,
                               clauses=p.n_clauses, method=method, sat_calls=p.sat_calls, merged=merged,
                               notes=tuple(notes))
        model = p.solver.get_model()
        val = set(l for l in model if l > 0)
        cex = {name: int(v in val) for name, v in zip(spec.inputs, inputs)}
        return _refuted(module, spec, cex, solver, start, p.top, p.n_clauses, method, p.sat_calls, merged, notes)
    finally:
        p.close()


def _sig(s: np.ndarray) -> bytes:
    return np.packbits(s).tobytes()


def _signature_table(p: _Problem, inputs: list[int], gates: list[int]) -> dict[bytes, list[int]]:
    table: dict[bytes, list[int]] = {}
    for lit in [TRUE] + inputs + gates:
        for l in (lit, -lit):
            table.setdefault(_sig(p.lsim(l)), []).append(l)
    return table


def _self_check(p: _Problem, forms: list[Form], got: np.ndarray, spec: Spec) -> None:
    """The encoding must compute what torch computed on the patterns."""
    for j, f in enumerate(forms):
        mine = p.form_sim(f).astype(np.float64) / f[2]
        if not np.array_equal(mine, got[:, j]):
            i = int(np.nonzero(mine != got[:, j])[0][0])
            raise RuntimeError(
                f"internal error in threshnet.prove: the encoding of output {spec.outputs[j]} computes "
                f"{mine[i]:g} on a test input where the module computes {got[i, j]:g} (a reader or encoding bug, "
                f"or a module whose float64 arithmetic is not exact)"
            )


__all__ = ["ProofReport", "prove", "read_module", "METHODS"]
