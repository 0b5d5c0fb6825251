"""The prover's driver: simulation, the miter, and the two methods.

:func:`prove` encodes the spec (:mod:`.spec`) and the module (:mod:`.encode`,
read by :mod:`.reader`) into one incremental SAT problem, and asks CaDiCaL
for an input on which some output differs.  UNSAT is a proof; SAT is a
counterexample, which is replayed on the real module in torch (float64) and
on :func:`threshnet.evaluate` before it is reported.

The miter
---------
One output differs when the network's value differs from the spec's output
literal ``G``: ``N xor G`` for a Boolean output, ``D*G != z'`` (two
threshold literals, ``z' - D*G >= 1`` or ``D*G - z' >= 1``) for a final
Linear with no activation, so any value other than the exact spec bit counts
as a difference.  The miter is the OR of those.  Since the formula is
definitional (its models are exactly the inputs, see :mod:`.encode`), UNSAT
of the miter means no input makes any output differ.

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

A literal whose signature is constant (0, or 1, on every pattern) gets no
SAT call: it is compared on small cuts only (``local_equal``), with up to
``CONSTANT_CANDIDATES`` candidates.  Such a signature is weak evidence (an
AND of eight balanced signals is 0 on all 1,024 patterns with probability
e**-4) and the candidates are many (every rare spec signal shares it), while
each SAT call costs time in proportion to the whole formula: on a
100,000-input XOR chain, 36 such calls, all satisfiable, took most of the
proof's time.

Why sweeping is sound, by induction over the order of creation: let ``T*``
be the literal the module really computes and ``T`` the one encoded, built
from the earlier literals after substitution.  Each earlier literal ``L``
that was replaced by ``G`` had ``L = G`` proven for all inputs, and by the
induction hypothesis ``L`` equals the module's real signal; so substituting
``G`` changes no value on any input, and ``T`` equals ``T*`` on every input.
Each check is a query on a definitional formula, so UNSAT of ``T xor G``
really means equality on all inputs.  A check that is SAT, or runs out of
its conflict budget, merely leaves ``T`` unmerged: that costs speed, never
soundness.  Signatures only choose which equalities to try, so they cannot
make a wrong proof.

No compiler intermediate form is consulted, not even as a hint: the
candidates come from simulating the spec's AST and the module's weights.
(The compiler's ``BOOL_MAP`` / ``LayerPlan.values`` name lowered-graph
nodes, not AST nodes, and would tie the method to networks of the
compiler's shape; the hash-consed threshold literals already recover each
compiled signal, so simulation finds the same correspondences on any
network.)

``"auto"``: ``"monolithic"`` with a time budget of ``AUTO_MONOLITHIC_SECONDS``,
then ``"nodes"`` with the time left.

Before any SAT call, the patterns are also run through the module in torch:
a mismatch there is already a confirmed counterexample, and a disagreement
between the module and its encoding raises an internal error
(:func:`_self_check`).
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..inputs import as_spec
from ..compiler.evaluate import evaluate, evaluate_batch
from ..compiler.gcpause import without_gc
from ..compiler.options import PROVE_METHODS
from ..compiler.spec import Spec
from . import encode
from .encode import FALSE, TRUE, Form, _form_lit, _lit_form, _Network, _Problem, _Timeout
from .reader import _Affine, read_module
from .spec import encode_spec

#: The SAT solver (python-sat name).
SOLVER = "cadical195"
#: Time budget of the monolithic attempt in method="auto".
AUTO_MONOLITHIC_SECONDS = 3.0
#: Conflict budget of one node check in method="nodes".
NODE_CONFLICTS = 2000
#: Spec literals tried per network literal with a matching signature.
NODE_CANDIDATES = 3
#: Candidates tried, on small cuts only, for a network literal whose signature is constant.
CONSTANT_CANDIDATES = 16
#: Random simulation patterns (plus all-zeros and all-ones).
SIM_PATTERNS = 1022
#: Rows times inputs per forward call of the simulation (:func:`_run`).
RUN_ELEMENTS = 1 << 20
METHODS = PROVE_METHODS

PROVED, REFUTED, TIMEOUT = "proved", "refuted", "timeout"

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


def available() -> bool:
    """Whether python-sat and pindakaas (the extra ``threshnet[prove]``) are installed."""
    try:
        import pindakaas  # noqa: F401
        import pysat  # noqa: F401
    except ImportError:
        return False
    return True


@without_gc
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
    from ..network import ThreshNet

    if isinstance(module, ThreshNet):
        if tuple(module.input_names) != tuple(spec.inputs) or tuple(module.output_names) != tuple(spec.outputs):
            notes.append("the network's port names differ from the spec's; ports are matched by position")


def _patterns(spec: Spec, n: int) -> np.ndarray:
    """``n`` random rows (all zeros and all ones first): ``default_rng(0).integers(0, 2, (n, inputs))``,
    drawn in slices of rows so that the int64 draws of a wide spec never take n x inputs x 8 bytes at
    once (the slices continue one stream: the same rows, ``test_patterns_are_one_stream``)."""
    rng = np.random.default_rng(0)
    m = len(spec.inputs)
    pats = np.empty((n, m), dtype=np.uint8)
    step = max(1, RUN_ELEMENTS // max(1, m))
    for i in range(0, n, step):
        pats[i:i + step] = rng.integers(0, 2, size=(min(step, n - i), m))
    if n >= 2:
        pats[0, :] = 0
        pats[1, :] = 1
    return pats


def _run(module: nn.Module, rows: np.ndarray) -> np.ndarray:
    """The module's outputs in float64 (on a copy, on the CPU)."""
    m = copy.deepcopy(module).to("cpu", torch.float64)
    # In slices of rows: a wide network's activations for all rows at once would take
    # n_inputs x rows x 8 bytes and more (a 100k-input chain: gigabytes).
    step = max(16, RUN_ELEMENTS // max(1, rows.shape[1] if rows.ndim == 2 else 1))
    outs = []
    with torch.no_grad():
        for i in range(0, len(rows), step):
            part = rows[i:i + step]
            outs.append(m(torch.as_tensor(part, dtype=torch.float64)).to(torch.float64).numpy().reshape(len(part), -1))
    return np.concatenate(outs) if len(outs) > 1 else outs[0]


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
            inputs, outs, gates = encode_spec(p, spec, pats)
            if sweep:
                table = _signature_table(p, inputs, gates)

                def on_new(lit: int) -> int:
                    nonlocal merged
                    s = p.sim[lit]
                    constant = not s.any() or s.all()  # weak evidence: checked on small cuts only
                    for cand in table.get(_sig(s), ())[:CONSTANT_CANDIDATES if constant else NODE_CANDIDATES]:
                        p.tick()
                        same = p.local_equal(lit, cand)
                        if same:  # proved on a small cut: no SAT call, no clauses
                            merged += 1
                            return cand
                        if same is False or constant:  # proved different on a cut of inputs, or not worth a call
                            continue
                        p.ensure_encoded(lit)
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
                             f"{encode.UNARY_LIMIT} values")
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


__all__ = ["ProofReport", "prove", "available", "METHODS"]