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

from .compiler.compiling import as_spec
from .compiler.evaluate import evaluate_batch
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


def _rows_sampled(n: int, samples: int, seed: int) -> np.ndarray:
    corners = [np.zeros(n, np.uint8), np.ones(n, np.uint8)]
    eye = np.eye(n, dtype=np.uint8)
    corners += list(eye) + list(1 - eye)
    rng = np.random.default_rng(seed)
    rand = rng.integers(0, 2, size=(max(0, samples), n), dtype=np.uint8)
    return np.concatenate([np.stack(corners), rand]) if n else np.zeros((1, 0), np.uint8)


def check(module: nn.Module, spec: Spec | str | Path, samples: int = 100_000, *, seed: int = 0,
          exhaustive: bool | None = None) -> CheckReport:
    """Compare ``module`` with the spec's evaluator.

    Exhaustive for at most ``EXHAUSTIVE_LIMIT`` inputs (in chunks), otherwise
    ``samples`` random rows plus all-zeros, all-ones and every one-hot and
    one-cold row; ``exhaustive=False`` samples even small specs.  Any output
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
    for start in range(0, stop, CHUNK):
        end = min(stop, start + CHUNK)
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
