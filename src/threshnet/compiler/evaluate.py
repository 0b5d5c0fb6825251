"""The reference evaluator: plain Python over the spec AST, the oracle for all else.

It never looks at the lowered graphs, so it can judge them.  Rows are packed
into Python integers (bit ``r`` of a signal is its value on row ``r``), which
makes the batched form fast and still obviously correct.

Words (:mod:`threshnet.compiler.ports`): ``evaluate(spec, {"a": 200, "b": 100})``
encodes the words into input bits, evaluates those bits, and decodes the
output bits into words (``{"s": 300}``), so a word answer is exactly the
bit-level answer read as numbers.  Bit names keep working as before.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from .ports import ports_of
from .spec import AND, OR, Spec, fold


def _eval_packed(spec: Spec, packed: Mapping[str, int], mask: int) -> dict[str, int]:
    """Every signal's packed value: a fold of the spec (:func:`threshnet.compiler.spec.fold`)."""
    return fold(
        spec, packed,
        const=lambda v: mask if v else 0,
        unary=lambda x: x ^ mask,
        binary=lambda op, l, r: l & r if op == AND else l | r if op == OR else l ^ r,
    )


def evaluate(spec: Spec | str, inputs: Mapping[str, int], *, words: bool | None = None) -> dict[str, int]:
    """Outputs of ``spec`` for one input assignment: bits ``{"a0": 1, "b0": 1}`` or words ``{"a": 200}``.

    Keys are input port names (whole words) or bit names; see
    :mod:`threshnet.compiler.ports` for the ports and the errors.  The result
    is words (``{"s": 300}``) when ``words`` is true, bits (``{"s[0]": 0, ...}``)
    when it is false, and by default words when some key names a vector input
    whole, else bits (as before words existed).  Without vectors both forms
    are the same.
    """
    from .parse import parse

    if isinstance(spec, str):
        spec = parse(spec)
    bit_names = set(spec.inputs)
    plain = words is not True and all(k in bit_names for k in inputs)
    if plain and spec.words is None and not any("[" in k for k in inputs):
        return _evaluate_bits(spec, inputs)  # v1 specs and bit-named netlists: no port grouping needed
    ports = ports_of(spec)
    as_words = words if words is not None else ports.wants_words(list(inputs))
    if plain and not as_words:
        return _evaluate_bits(spec, inputs)
    row = ports.encode(inputs)
    env = _eval_packed(spec, dict(zip(spec.inputs, row)), 1)
    bits = [env[o] for o in spec.outputs]
    return ports.decode(bits) if as_words else dict(zip(spec.outputs, bits))


def _evaluate_bits(spec: Spec, inputs: Mapping[str, int]) -> dict[str, int]:
    missing = [n for n in spec.inputs if n not in inputs]
    if missing:
        raise ValueError(f"missing input value(s): {', '.join(missing)}")
    extra = [n for n in inputs if n not in spec.inputs]
    if extra:
        raise ValueError(f"unknown input(s): {', '.join(extra)}; inputs are {', '.join(spec.inputs)}")
    packed = {}
    for n in spec.inputs:
        v = inputs[n]
        if v not in (0, 1) or isinstance(v, float) and not v.is_integer():
            raise ValueError(f"input {n} must be 0 or 1, got {v!r}")
        packed[n] = int(v)
    env = _eval_packed(spec, packed, 1)
    return {o: env[o] for o in spec.outputs}


def evaluate_batch(spec: Spec, rows: Sequence[Sequence[int]] | np.ndarray | Mapping[str, object]
                   ) -> np.ndarray | dict[str, np.ndarray]:
    """Outputs for many rows at once: ``(n_rows, n_inputs)`` 0/1 to ``(n_rows, n_outputs)`` uint8.

    Words: ``rows`` a mapping of input names to arrays of values (broadcast
    together, e.g. ``{"a": [1, 2], "b": 3}``) gives a dict of output words, each
    an int64 array (an object array of Python ints above 63 bits).
    """
    if isinstance(rows, Mapping):
        ports = ports_of(spec)
        x = ports.encode_batch(rows)
        flat = evaluate_batch(spec, x.reshape(-1, len(spec.inputs)))
        return ports.decode_batch(flat.reshape(*x.shape[:-1], len(spec.outputs)))
    raw = np.asarray(rows)
    if raw.size and not ((raw == 0) | (raw == 1)).all():  # np.isin takes 30 times as long
        raise ValueError("rows must hold only 0 and 1")
    arr = raw.astype(np.uint8)
    if arr.ndim != 2 or arr.shape[1] != len(spec.inputs):
        raise ValueError(f"rows must have shape (n, {len(spec.inputs)}), got {arr.shape}")
    n = arr.shape[0]
    if n == 0:
        return np.zeros((0, len(spec.outputs)), dtype=np.uint8)
    mask = (1 << n) - 1
    cols = np.ascontiguousarray(np.packbits(arr, axis=0, bitorder="little").T)  # (n_inputs, bytes)
    packed = {name: int.from_bytes(cols[i].tobytes(), "little") for i, name in enumerate(spec.inputs)}
    env = _eval_packed(spec, packed, mask)
    out = np.empty((n, len(spec.outputs)), dtype=np.uint8)
    for j, o in enumerate(spec.outputs):
        out[:, j] = _unpack(env[o], n)
    return out


def _unpack(value: int, n: int) -> np.ndarray:
    nbytes = (n + 7) // 8
    bits = np.unpackbits(np.frombuffer(value.to_bytes(nbytes, "little"), dtype=np.uint8), bitorder="little")
    return bits[:n]
