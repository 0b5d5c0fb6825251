"""The spec side of the miter: a Tseitin encoding of the spec's AST.

Each input is a fresh variable; each ``a & b``, ``a | b``, ``a ^ b`` a
hash-consed gate variable ``g`` with the clauses of ``g <-> a op b`` (OR as
``~(~a & ~b)``, NOT as a negated literal, constants as the literal of the
constant-true variable).  The clauses are definitional: for every input
there is exactly one assignment of the gate variables that satisfies them,
the one with each gate's true value, so adding them keeps the models of the
formula in one-to-one correspondence with the inputs (see :mod:`.encode`).

The walk is :func:`threshnet.compiler.spec.fold`, the same postorder walk
the evaluator and the lowering use, so it is iterative (100,000-deep
expressions are fine) and shared subexpressions are encoded once.
"""

from __future__ import annotations

import numpy as np

from ..compiler.spec import AND, OR, Spec, fold
from .encode import FALSE, TRUE, _Problem


def encode_spec(p: _Problem, spec: Spec, pats: np.ndarray) -> tuple[list[int], list[int], list[int]]:
    """Encode ``spec`` into ``p``: input variables, output literals, and the gate variables in creation order.

    ``pats`` (patterns x inputs, 0/1) are the simulation values of the inputs;
    each gate's simulation value is computed as it is made.
    """
    inputs: list[int] = []
    env: dict[str, int] = {}
    for i, name in enumerate(spec.inputs):
        v = p.new_var()
        inputs.append(v)
        env[name] = v
        p.sim[v] = pats[:, i].astype(bool)
    gates: list[int] = []

    def binary(op: str, l: int, r: int) -> int:
        top = p.top
        g = p.and_(l, r) if op == AND else p.or_(l, r) if op == OR else p.xor_(l, r)
        if p.top > top:
            gates.append(abs(g))
        return g

    values = fold(spec, env, const=lambda v: TRUE if v else FALSE, unary=lambda x: -x, binary=binary)
    return inputs, [values[o] for o in spec.outputs], gates
