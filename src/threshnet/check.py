"""Checking any ``nn.Module`` against a spec, with an oracle that reads only the spec.

The oracle is the reference evaluator (``compiler.evaluate``) for specs of at
most ``SIM_ABOVE`` assignments and the bit-parallel spec simulator
(``compiler.specsim``) above that.  Both read the ``Spec``'s own assignments
and expression trees, never a graph built by the compiler, so a bug in
lowering, mapping or layering shows up as a mismatch at any size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .inputs import as_spec
from .compiler.evaluate import evaluate_batch
from .compiler.gcpause import without_gc
from .compiler.spec import Spec

#: Specs with at most this many inputs are checked on every input.
EXHAUSTIVE_LIMIT = 20
CHUNK = 1 << 16
#: Rows per forward pass; keeps the sparse layout's gathered operands small.
MODULE_BATCH = 4096
#: Specs with more assignments than this are simulated bit-parallel from the
#: spec itself (``compiler.specsim``) instead of by the plain evaluator.
SIM_ABOVE = 2000
BITSIM_ABOVE = SIM_ABOVE  # the former name
#: Rows per chunk are capped so that a chunk holds at most this many cells (wide specs).
CHUNK_CELLS = 1 << 25
#: Wider specs get one-hot and one-cold rows for this many evenly spread inputs, not all.
CORNER_INPUTS = 1024
#: Random rows are generated in one call up to this many cells, else in blocks.
RANDOM_CELLS = 1 << 27


@dataclass(frozen=True)
class CheckReport:
    """Outcome of :func:`check`; ``counterexample`` is None when ``ok``."""

    ok: bool
    tried: int
    exhaustive: bool
    counterexample: dict[str, int] | None = None
    expected: dict[str, int] | None = None
    got: dict[str, float] | None = None
    inputs: tuple[str, ...] = field(default=(), repr=False)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        how = "all" if self.exhaustive else "sampled"
        if self.ok:
            return f"ok: {self.tried} inputs checked ({how})"
        fmt = lambda d: " ".join(f"{k}={_num(v)}" for k, v in d.items())  # noqa: E731
        return (f"MISMATCH after {self.tried} inputs ({how})\n"
                f"  input:    {fmt(self.counterexample)}\n"
                f"  expected: {fmt(self.expected)}\n"
                f"  got:      {fmt(self.got)}")


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _rows_exhaustive(n: int, start: int, stop: int) -> np.ndarray:
    idx = np.arange(start, stop, dtype=np.int64)
    shifts = np.arange(n - 1, -1, -1, dtype=np.int64)  # first input is the most significant bit
    return ((idx[:, None] >> shifts[None, :]) & 1).astype(np.uint8)


def _rows_sampled(n: int, samples: int, seed: int) -> "_Sampled":
    return _Sampled(n, samples, seed)


class _Sampled:
    """All-zeros, all-ones, one-hot and one-cold rows (every input up to ``CORNER_INPUTS``), then ``samples`` random rows, made chunk by chunk.

    Rows are built only when sliced, so 100,000 inputs do not need the
    (2n + 2) x n corner block in memory at once.  The random rows come from
    one ``default_rng(seed)`` call while they fit in ``RANDOM_CELLS`` bytes
    (as before), else from blocks seeded ``(seed, block)``.
    """

    def __init__(self, n: int, samples: int, seed: int) -> None:
        self.n, self.samples, self.seed = n, max(0, samples), seed
        # One-hot and one-cold rows for every input up to CORNER_INPUTS inputs; beyond,
        # for CORNER_INPUTS evenly spread inputs (first and last included), so the
        # corner block stays O(n) rows-times-width instead of O(n^2).
        self.hot = (np.arange(n) if n <= CORNER_INPUTS else
                    np.unique(np.linspace(0, n - 1, CORNER_INPUTS).round().astype(np.int64)))
        self.corners = 2 + 2 * len(self.hot) if n else 1
        self.block = max(1, RANDOM_CELLS // max(n, 1))
        self.whole = None
        if n and self.samples * n <= RANDOM_CELLS:
            self.whole = np.random.default_rng(seed).integers(0, 2, size=(self.samples, n), dtype=np.uint8)

    def __len__(self) -> int:
        return self.corners + (self.samples if self.n else 0)

    def __getitem__(self, sl: slice) -> np.ndarray:
        n = self.n
        start, stop, _ = sl.indices(len(self))
        if not n:
            return np.zeros((stop - start, 0), np.uint8)
        parts = []
        a, b = start, min(stop, self.corners)
        if a < b:
            idx = np.arange(a, b)
            rows = np.zeros((b - a, n), np.uint8)
            rows[idx == 1] = 1
            k = len(self.hot)
            hot = (idx >= 2) & (idx < 2 + k)
            rows[np.nonzero(hot)[0], self.hot[idx[hot] - 2]] = 1
            cold = idx >= 2 + k
            rows[cold] = 1
            rows[np.nonzero(cold)[0], self.hot[idx[cold] - 2 - k]] = 0
            parts.append(rows)
        a, b = max(start, self.corners) - self.corners, stop - self.corners
        if a < b:
            if self.whole is not None:
                parts.append(self.whole[a:b])
            else:
                for k in range(a // self.block, (b - 1) // self.block + 1):
                    lo = k * self.block
                    size = min(self.block, self.samples - lo)
                    blk = np.random.default_rng((self.seed, k)).integers(0, 2, size=(size, n), dtype=np.uint8)
                    parts.append(blk[max(a, lo) - lo:min(b, lo + size) - lo])
        if not parts:
            return np.zeros((0, n), np.uint8)
        return np.concatenate(parts) if len(parts) > 1 else parts[0]


@without_gc
def check(module: nn.Module, spec: Spec | str | Path, samples: int = 100_000, *, seed: int = 0,
          exhaustive: bool | None = None) -> CheckReport:
    """Compare ``module`` with the spec's evaluator.

    Exhaustive for at most ``EXHAUSTIVE_LIMIT`` inputs (in chunks), otherwise
    ``samples`` random rows plus all-zeros, all-ones and every one-hot and
    one-cold row (for ``CORNER_INPUTS`` evenly spread inputs when there are
    more); ``exhaustive=False`` samples even small specs.  Any output
    that is not exactly the expected 0.0/1.0 fails.
    """
    spec = as_spec(spec)
    n = len(spec.inputs)
    if exhaustive and n > EXHAUSTIVE_LIMIT:
        raise ValueError(f"exhaustive checking supports at most {EXHAUSTIVE_LIMIT} inputs; this spec has {n}")
    exhaustive = n <= EXHAUSTIVE_LIMIT if exhaustive is None else exhaustive
    total = 1 << n if exhaustive else None
    sampled = None if exhaustive else _rows_sampled(n, samples, seed)
    param = next(iter(module.parameters()), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None and param.dtype.is_floating_point else torch.float32
    tried = 0
    stop = total if exhaustive else len(sampled)
    oracle = lambda rows: evaluate_batch(spec, rows)  # noqa: E731
    if len(spec.assignments) > SIM_ABOVE:
        from .compiler.specsim import SpecSim

        oracle = SpecSim(spec).run
    chunk = max(1, min(CHUNK, CHUNK_CELLS // max(n, 1)))
    for start in range(0, stop, chunk):
        end = min(stop, start + chunk)
        rows = _rows_exhaustive(n, start, end) if exhaustive else sampled[start:end]
        want = oracle(rows)
        with torch.no_grad():
            x = torch.as_tensor(rows, dtype=dtype, device=device)
            got = torch.cat([module(x[i:i + MODULE_BATCH]) for i in range(0, len(x), MODULE_BATCH)]) \
                .detach().to("cpu", torch.float64).numpy()
        if got.shape != want.shape:
            raise ValueError(f"module returned shape {got.shape[1:]} per row, spec has {len(spec.outputs)} outputs")
        bad = np.nonzero((got != want).any(axis=1))[0]
        if bad.size:
            i = int(bad[0])
            return CheckReport(
                False, tried + i + 1, exhaustive,
                {k: int(v) for k, v in zip(spec.inputs, rows[i])},
                {k: int(v) for k, v in zip(spec.outputs, want[i])},
                {k: float(v) for k, v in zip(spec.outputs, got[i])},
                spec.inputs,
            )
        tried = end
    return CheckReport(True, tried, exhaustive, inputs=spec.inputs)
