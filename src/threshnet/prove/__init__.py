"""Formal equivalence: prove that a network computes its spec on *every* input.

:func:`prove` reads the weights out of the module, encodes what the module
computes and what the spec computes as one SAT problem, and asks CaDiCaL
(through python-sat) for an input on which they differ.  UNSAT is a proof;
SAT is a counterexample, replayed on the real module before it is reported.

The package, one job per module:

* :mod:`.reader`: the module as a chain of exact affine maps and
  activations (weights from its tensors, order from ``torch.fx``; only
  dyadic rationals that do not look rounded are accepted).
* :mod:`.encode`: the SAT problem: exact integer forms, hash-consed
  threshold literals as pseudo-Boolean constraints, unary and binary ReLU,
  and why every model of the formula is an input with its true values.
* :mod:`.spec`: the Tseitin encoding of the spec's AST, by the one
  postorder walk :func:`threshnet.compiler.spec.fold`.
* :mod:`.driver`: simulation, the miter, the methods (``"monolithic"``,
  ``"nodes"`` SAT sweeping, ``"auto"``) and why sweeping is sound.

What is trusted: the module's tensors and its traced ``forward``; the spec's
AST; python-sat's PB encodings (pindakaas) and CaDiCaL.
"""

from __future__ import annotations

from .driver import (AUTO_MONOLITHIC_SECONDS, METHODS, NODE_CANDIDATES, NODE_CONFLICTS, PROVED, REFUTED,
                     SIM_PATTERNS, SOLVER, TIMEOUT, ProofReport, available, prove)  # noqa: F401
from .encode import PB_TOTALIZER_LIMIT, UNARY_LIMIT, _Problem  # noqa: F401  (read-only copies; patch the submodule)
from .reader import MAX_FRACTION_BITS, ROUNDING_SLACK_BITS, read_module  # noqa: F401

__all__ = ["ProofReport", "prove", "available", "read_module", "METHODS"]
