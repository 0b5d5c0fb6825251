"""Word ports: the one rule that groups a spec's or a network's bits into unsigned words.

Every spec and every network has bit-level ports (``spec.inputs``,
``net.input_names``: one name per tensor column).  Users think in words
(``a = 200``), so evaluation, ``net.encode``/``decode``/``run``, ``threshnet
eval`` and ``threshnet table`` all read the ports through :func:`ports_of` /
:func:`ports_from_names`, which give the same answer for the same names.

The rule
--------
* A v2 spec (``spec.words`` is set) has the ports it declares: ``input a[8]``
  is the vector ``a`` of 8 bits ``a[0] .. a[7]``, ``cin`` a scalar.
* Otherwise (netlists, loaded networks) the names decide.  ``x[i]`` (``i``
  a decimal number without leading zeros, ``x`` without brackets) is bit
  ``i`` of ``x``.  The bits ``x[0], x[1], ..., x[n-1]`` form the vector port
  ``x`` of width ``n`` when they stand next to each other in the port list,
  in exactly that order, and no other port of that list is ``x`` or
  ``x[...]``.  Every other name is a scalar port (a 1-bit word) named by
  itself, so a bus whose bits are out of order, incomplete or split stays as
  separate bits named ``x[3]`` etc.

Both ways give the same ports for a v2 spec, because v2 names a vector's bits
``a[0] .. a[n-1]`` in that order and its scalars cannot contain brackets.  The
strict order is what the network's tensors hold (a vector is its bits, bit 0
first), so a port is one contiguous run of columns starting at
:attr:`WordPort.start`.

Values
------
A port's value is ``sum(bit_i << i)``: unsigned, bit 0 least significant.
Encoding takes a mapping whose keys are port names (a whole word) or bit
names (one bit: ``a[3]``, or a scalar); every bit must get exactly one value,
so a vector is given whole or bit by bit, never both.  Refused, with a
``ValueError`` naming the port: an unknown name, a negative value, a value
that does not fit the port's width, a non-integer.  Decoding reads bits that
must be exactly 0 or 1 (a network's outputs are), so a wrong bit is never
rounded into a plausible number.
"""

from __future__ import annotations

import functools
import operator
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

if TYPE_CHECKING:
    from .spec import Spec

__all__ = ["Ports", "WordPort", "group_ports", "parse_number", "ports_from_names", "ports_of"]

_BIT = re.compile(r"([^\[\]]+)\[(0|[1-9][0-9]*)\]\Z")
#: Words up to this width fit numpy/torch int64 in batch results; wider ones are Python ints.
INT64_BITS = 63


@dataclass(frozen=True, slots=True)
class WordPort:
    """A port of ``width`` bits in columns ``start .. start + width - 1``; ``vector`` ports name bits ``x[i]``."""

    name: str
    width: int
    vector: bool
    start: int

    @property
    def bits(self) -> tuple[str, ...]:
        """The bit names, bit 0 first (``("a[0]", ...)``, or ``("cin",)`` for a scalar)."""
        return tuple(f"{self.name}[{i}]" for i in range(self.width)) if self.vector else (self.name,)

    @property
    def columns(self) -> range:
        return range(self.start, self.start + self.width)

    def __str__(self) -> str:
        """``a[8]`` for a vector, ``cin`` for a scalar (as declared in v2)."""
        return f"{self.name}[{self.width}]" if self.vector else self.name


def group_ports(names: Sequence[str]) -> tuple[WordPort, ...]:
    """The ports of one bit-name list by the rule in the module docstring."""
    base: list[str | None] = []
    index: list[int] = []
    count: dict[str, int] = {}
    for n in names:
        m = _BIT.match(n)
        b = m.group(1) if m else n
        base.append(b if m else None)
        index.append(int(m.group(2)) if m else -1)
        count[b] = count.get(b, 0) + 1
    ports: list[WordPort] = []
    i, total = 0, len(names)
    while i < total:
        b = base[i]
        if b is not None and index[i] == 0:
            w = 1
            while i + w < total and base[i + w] == b and index[i + w] == w:
                w += 1
            if count[b] == w:  # every port called b or b[...] is in this run
                ports.append(WordPort(b, w, True, i))
                i += w
                continue
        ports.append(WordPort(names[i], 1, False, i))
        i += 1
    return tuple(ports)


@functools.lru_cache(maxsize=64)
def _cached(inputs: tuple[str, ...], outputs: tuple[str, ...]) -> "Ports":
    return Ports(group_ports(inputs), group_ports(outputs), inputs, outputs)


def ports_from_names(inputs: Sequence[str], outputs: Sequence[str]) -> "Ports":
    """The word ports of bit-level port lists (a netlist's, a loaded network's)."""
    return _cached(tuple(inputs), tuple(outputs))


def ports_of(spec: "Spec") -> "Ports":
    """The word ports of ``spec``: its declared ports when ``spec.words`` is set, else :func:`ports_from_names`."""
    ws = spec.words
    if ws is None:
        return ports_from_names(spec.inputs, spec.outputs)

    def lay(declared: Sequence[Any], bits: tuple[str, ...], what: str) -> tuple[WordPort, ...]:
        out, at = [], 0
        for p in declared:
            out.append(WordPort(p.name, p.width, p.vector, at))
            at += p.width
        flat = tuple(b for p in out for b in p.bits)
        if flat != bits:
            raise ValueError(f"{spec.filename}: the word ports' {what} bits {flat[:4]}... differ from the spec's "
                             f"{bits[:4]}...")
        return tuple(out)

    return Ports(lay(ws.inputs, spec.inputs, "input"), lay([p for p, _ in ws.outputs], spec.outputs, "output"),
                 tuple(spec.inputs), tuple(spec.outputs))


def parse_number(text: str) -> int | None:
    """``42``, ``0x2A`` or ``0b101010`` (as in the spec language) to an int; None if it is not one."""
    t = text.strip()
    m = re.fullmatch(r"0[xX]([0-9a-fA-F]+)|0[bB]([01]+)|([0-9]+)", t)
    if m is None:
        return None
    hx, bn, dec = m.groups()
    return int(hx, 16) if hx is not None else int(bn, 2) if bn is not None else int(dec, 10)


def _as_int(v: object, what: str) -> int:
    """``v`` as an exact int: ints, bools, numpy and 0-d torch integers, integral floats."""
    try:
        return operator.index(v)  # type: ignore[arg-type]
    except TypeError:
        pass
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return int(v)
    item = getattr(v, "item", None)
    if callable(item) and getattr(v, "ndim", None) == 0:
        return _as_int(item(), what)
    raise ValueError(f"{what} = {v!r} is not an integer")


def _fits(width: int) -> str:
    return f"{width} bit{'s' if width > 1 else ''} (0..{(1 << width) - 1})"


@dataclass(frozen=True)
class Ports:
    """The word ports of both sides and the bit names they cover (tensor order)."""

    inputs: tuple[WordPort, ...]
    outputs: tuple[WordPort, ...]
    input_bits: tuple[str, ...]
    output_bits: tuple[str, ...]

    @property
    def has_vectors(self) -> bool:
        """True when some port is a vector (else words and bits are the same thing)."""
        return any(p.vector for p in self.inputs + self.outputs)

    def describe_inputs(self) -> str:
        """``a[8], b[8], cin``: the inputs as a v2 declaration lists them."""
        return ", ".join(map(str, self.inputs))

    def wants_words(self, keys: Sequence[str]) -> bool:
        """Whether results for input ``keys`` are words by default: when some key names a vector input whole.

        Otherwise (every key a bit or a scalar) results are bits, as before words existed.
        """
        vec = {p.name for p in self.inputs if p.vector}
        return any(k in vec for k in keys)

    # -- encoding -----------------------------------------------------------------------------
    def _targets(self, keys: Sequence[str]) -> list[tuple[str, WordPort | None, int]]:
        """Per key: (key, the port it names whole or None, the column of the bit it names else -1)."""
        by_port = {p.name: p for p in self.inputs}
        bit_col = {b: i for i, b in enumerate(self.input_bits)}
        out: list[tuple[str, WordPort | None, int]] = []
        for k in keys:
            p = by_port.get(k)
            if p is not None and (p.vector or k in bit_col):
                out.append((k, p, -1))
            elif k in bit_col:
                out.append((k, None, bit_col[k]))
            else:
                inputs = self.describe_inputs() or "none"
                raise ValueError(f"unknown input '{k}'; inputs are {inputs}")
        owner = {}
        for k, p, col in out:
            cols = p.columns if p is not None else range(col, col + 1)
            for c in cols:
                if c in owner:
                    other = owner[c]
                    whole, part = (k, other) if p is not None else (other, k)
                    raise ValueError(f"input {whole} is given both whole and by its bit {part}")
                owner[c] = k
        if len(owner) != len(self.input_bits):
            missing = []
            for p in self.inputs:
                gone = [b for b, c in zip(p.bits, p.columns) if c not in owner]
                if len(gone) == p.width:
                    missing.append(p.name)
                else:
                    missing.extend(gone)
            raise ValueError(f"missing input value(s): {', '.join(missing)}")
        return out

    def encode(self, values: Mapping[str, object]) -> list[int]:
        """One row of input bits (0/1, tensor order) from word and/or bit values."""
        row = [0] * len(self.input_bits)
        for k, p, col in self._targets(list(values)):
            width = p.width if p is not None else 1
            v = _as_int(values[k], f"input {k}")
            if v < 0:
                raise ValueError(f"input {k} = {v} is negative; words are unsigned")
            if v >> width:
                raise ValueError(f"input {k} = {v} does not fit in {_fits(width)}")
            start = p.start if p is not None else col
            for i, ch in enumerate(reversed(format(v, "b"))):  # linear in the width, also for 100k bits
                row[start + i] = 1 if ch == "1" else 0
        return row

    def encode_batch(self, values: Mapping[str, object]) -> np.ndarray:
        """Rows of input bits, shape ``(*batch, n_inputs)`` uint8, from arrays of values (broadcast together).

        Values may be ints, sequences, numpy arrays or torch tensors of integers;
        words wider than 63 bits take Python ints (lists or object arrays).
        """
        targets = self._targets(list(values))
        arrays = [_int_array(values[k], f"input {k}") for k, _, _ in targets]
        try:
            arrays = list(np.broadcast_arrays(*arrays)) if arrays else []
        except ValueError:
            shapes = ", ".join(f"{k}: {np.shape(a)}" for (k, _, _), a in zip(targets, arrays))
            raise ValueError(f"input value shapes do not broadcast together ({shapes})") from None
        shape = arrays[0].shape if arrays else ()
        out = np.zeros((*shape, len(self.input_bits)), dtype=np.uint8)
        for (k, p, col), a in zip(targets, arrays):
            width = p.width if p is not None else 1
            start = p.start if p is not None else col
            if a.size:
                lo, hi = a.min(), a.max()
                if lo < 0:
                    raise ValueError(f"input {k} = {int(lo)} is negative; words are unsigned")
                if int(hi) >> width:
                    raise ValueError(f"input {k} = {int(hi)} does not fit in {_fits(width)}")
            for i in range(width if a.dtype == object else min(width, INT64_BITS)):  # int64 values < 2**63
                out[..., start + i] = ((a >> i) & 1).astype(np.uint8)
        return out

    # -- decoding -----------------------------------------------------------------------------
    def decode(self, bits: Sequence[object]) -> dict[str, int]:
        """Output words from one row of output bits (each exactly 0 or 1)."""
        if len(bits) != len(self.output_bits):
            raise ValueError(f"expected {len(self.output_bits)} output bits, got {len(bits)}")
        for c, b in enumerate(bits):
            if b != 0 and b != 1:
                raise ValueError(f"output {self.output_bits[c]} is {b!r}, not 0 or 1")
        out: dict[str, int] = {}
        for p in self.outputs:
            digits = "".join("1" if bits[c] == 1 else "0" for c in reversed(p.columns))
            out[p.name] = int(digits, 2)  # linear in the width, also for 100k bits
        return out

    def decode_batch(self, bits: np.ndarray) -> dict[str, np.ndarray]:
        """Output words from rows ``(*batch, n_outputs)`` of exact 0/1.

        Each word is an int64 array of shape ``batch`` when it has at most 63
        bits, else an object array of Python ints.
        """
        arr = np.asarray(bits)
        if arr.ndim == 0 or arr.shape[-1] != len(self.output_bits):
            raise ValueError(f"expected shape (..., {len(self.output_bits)}) of output bits, got {arr.shape}")
        bad = (arr != 0) & (arr != 1)
        if bad.any():
            where = np.argwhere(bad)[0]
            bit, v = self.output_bits[int(where[-1])], arr[tuple(where)].item()
            raise ValueError(f"output {bit} is {v!r}, not 0 or 1")
        b = arr.astype(np.int64)
        out: dict[str, np.ndarray] = {}
        for p in self.outputs:
            if p.width <= INT64_BITS:
                shifts = np.arange(p.width, dtype=np.int64)
                out[p.name] = (b[..., p.start:p.start + p.width] << shifts).sum(axis=-1)
            else:
                acc = np.zeros(arr.shape[:-1], dtype=object)
                for i, c in enumerate(p.columns):
                    acc = acc + (b[..., c].astype(object) << i)
                out[p.name] = np.asarray(acc, dtype=object)
        return out


def _int_array(v: object, what: str) -> np.ndarray:
    """``v`` as an integer numpy array (int64, or object of Python ints when that cannot hold it)."""
    if hasattr(v, "detach") and hasattr(v, "cpu"):  # a torch tensor, without importing torch here
        v = v.detach().cpu().numpy()  # type: ignore[union-attr]
    # Python ints and lists stay exact (numpy would make 2**63 and more floats): convert them one by one.
    a = v if isinstance(v, np.ndarray) else np.array(v, dtype=object) if isinstance(v, (list, tuple, int)) \
        else np.asarray(v)
    kind = a.dtype.kind
    if kind == "b":
        return a.astype(np.int64)
    if kind == "i" or (kind == "u" and a.dtype.itemsize < 8):
        return a.astype(np.int64)
    if kind == "f":
        ok = np.isfinite(a) & (a == np.floor(a))
        if not ok.all():
            raise ValueError(f"{what} = {a[~ok].flat[0]!r} is not an integer")
        if a.size and np.abs(a).max() >= 2.0 ** 53:
            raise ValueError(f"{what}: floats of 2**53 or more are not exact; pass Python ints")
        return a.astype(np.int64)
    if kind == "u" or kind == "O":
        flat = [_as_int(x, what) for x in a.reshape(-1).tolist()]
        if all(-(1 << 62) <= x < (1 << 62) for x in flat):
            return np.array(flat, dtype=np.int64).reshape(a.shape)
        obj = np.empty(len(flat), dtype=object)
        obj[:] = flat
        return obj.reshape(a.shape)
    raise ValueError(f"{what}: values of dtype {a.dtype} are not integers")
