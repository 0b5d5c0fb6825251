"""Gate to neurons: the one rule both layouts use to turn a threshold gate into neurons.

A threshold gate is ``[z >= 0]`` with ``z = sum(w_i * x_i) - t``: integer
weights ``w_i``, integer threshold ``t``, 0/1 fan-ins ``x_i``.  So ``z`` is an
integer in ``[lo, hi]`` with ``lo = sum(w_i < 0) - t`` and ``hi = sum(w_i > 0) - t``
(:func:`gate_range`).  Each fan-in ``x_i`` is itself an affine function of
neurons of the previous layer, so ``z`` is too (:func:`combine`); the encoder
only adds a shift and chooses how many neurons to spend:

* step: ``step(z + 0.5)``.  ``z + 0.5`` is a half-integer, at least 0.5 from 0,
  so ``(z + 0.5 > 0) = [z >= 0]``.  Value range ``{0, 1}``.
* relu, ``hi <= 0``: ``relu(z + 1)``.  For integer ``z <= 0`` it is 1 at
  ``z = 0`` and 0 for ``z <= -1``.  Range ``[0, 1]``.
* relu, ``lo >= -1``: ``1 - relu(-z)``.  For integer ``z >= -1``, ``relu(-z)`` is
  1 at ``z = -1`` and 0 for ``z >= 0``.  Range of the neuron ``[0, 1]``.
* relu otherwise, ``hi + 1 <= -lo``: ``relu(z + 1) - relu(z)``, i.e.
  ``clip(z + 1, 0, 1)``, which is ``[z >= 0]`` for every integer ``z``.  The
  two neurons take values up to ``hi + 1`` and ``hi``.
* relu otherwise, ``hi + 1 > -lo``: the mirror image
  ``1 - relu(-z) + relu(-z - 1)``, i.e. ``1 - clip(-z, 0, 1)``, also
  ``[z >= 0]`` for every integer ``z``; values up to ``-lo`` and ``-lo - 1``.

The two-neuron forms are the only wide ReLU values in a network, and the
choice keeps them at ``min(hi + 1, -lo)``: the distance from the gate's
switching point to the nearer end of its range.  A reader's partial sums
are bounded by these exact values, which never compound from layer to
layer (each gate's value is exactly 0 or 1, whatever its neurons hold).

A pass-through of a 0/1 value ``s`` is ``relu(s)`` (``step(s - 0.5)``).

``Neuron.top`` is the largest value the neuron's activation takes, exact from
the gate's integer range (the float bounds check of the compiler reads it).
A layout asks :func:`encode` for a gate's neurons, creates (or shares) them,
and gets the gate's value as ``const + sum(coef * neuron)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from .keys import THRESHOLD, WEIGHT
from .runtime import STEP

Affine = tuple[float, dict[int, float]]  # constant, {neuron index: coefficient}


@dataclass(frozen=True)
class Neuron:
    """``act(aff + shift)``; ``suffix`` tells the two neurons of a wide ReLU gate apart."""

    aff: Affine
    shift: float
    suffix: str
    top: float  # the largest value of the activation


@dataclass(frozen=True)
class Encoding:
    """A gate as neurons: its value is ``const + sum(coefs[i] * neurons[i])``."""

    neurons: tuple[Neuron, ...]
    const: float
    coefs: tuple[float, ...]


def gate_range(g: nx.DiGraph, v: int) -> tuple[int, int]:
    """Range of ``sum(w * x) - t`` over 0/1 fan-ins."""
    t = g._node[v][THRESHOLD]
    lo = hi = -t
    for e in g._pred[v].values():  # networkx's adjacency dicts: its edge views cost more per call
        w = e[WEIGHT]
        if w < 0:
            lo += w
        else:
            hi += w
    return lo, hi


def combine(g: nx.DiGraph, v: int, where: dict[int, Affine]) -> Affine:
    """``z = sum(w * value(s)) - t`` as an affine map of the previous layer's neurons."""
    const = -float(g._node[v][THRESHOLD])
    coef: dict[int, float] = {}
    for s, e in g._pred[v].items():
        w = e[WEIGHT]
        c0, terms = where[s]
        const += w * c0
        for j, c in terms.items():
            coef[j] = coef.get(j, 0.0) + w * c
    return const, coef


def _neg(z: Affine) -> Affine:
    return -z[0], {j: -c for j, c in z[1].items()}


def encode(z: Affine, lo: int, hi: int, activation: str) -> Encoding:
    """The neurons of ``[z >= 0]`` for integer ``z`` in ``[lo, hi]`` (see the module docstring)."""
    if activation == STEP:
        return Encoding((Neuron(z, 0.5, "", 1.0),), 0.0, (1.0,))
    if hi <= 0:
        return Encoding((Neuron(z, 1.0, "", max(0.0, hi + 1.0)),), 0.0, (1.0,))
    if lo >= -1:
        return Encoding((Neuron(_neg(z), 0.0, "", max(0.0, float(-lo))),), 1.0, (-1.0,))
    if hi + 1 <= -lo:
        return Encoding((Neuron(z, 1.0, "[z+1]", hi + 1.0), Neuron(z, 0.0, "[z]", float(hi))), 0.0, (1.0, -1.0))
    # Mostly-true gates (e.g. "at least 2 of 300"): the mirrored pair has the smaller values.
    return Encoding((Neuron(_neg(z), 0.0, "[-z]", float(-lo)), Neuron(_neg(z), -1.0, "[-z-1]", -lo - 1.0)),
                    1.0, (-1.0, 1.0))


def encode_pass(value: Affine, activation: str) -> Encoding:
    """A 0/1 value carried one layer on: ``relu(s)`` or ``step(s - 0.5)``."""
    return Encoding((Neuron(value, -0.5 if activation == STEP else 0.0, "", 1.0),), 0.0, (1.0,))


class LayerNeurons:
    """The neurons of one layer under construction; identical neurons are made once.

    Two neurons are identical when their rows and biases are equal.  With
    ``share=False`` (the dense output layer, one neuron per port) every
    request makes a new neuron.
    """

    def __init__(self, share: bool = True) -> None:
        self.rows: list[dict[int, float]] = []
        self.bias: list[float] = []
        self.names: list[str] = []
        self.tops: list[float] = []
        self.share = share
        self._seen: dict[tuple, int] = {}

    def place(self, enc: Encoding, name: str) -> Affine:
        """Make (or share) the encoding's neurons; the gate's value as an affine map of them."""
        coef: dict[int, float] = {}
        for nrn, c in zip(enc.neurons, enc.coefs):
            row = {j: k for j, k in nrn.aff[1].items() if k}
            b = nrn.aff[0] + nrn.shift
            key = (tuple(sorted(row.items())), b)
            if not self.share or key not in self._seen:
                self.rows.append(row)
                self.bias.append(b)
                self.names.append(name + nrn.suffix)
                self.tops.append(nrn.top)
                self._seen[key] = len(self.rows) - 1
            coef[self._seen[key]] = c
        return enc.const, coef
