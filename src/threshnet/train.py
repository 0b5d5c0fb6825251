"""Training, the other way round: fit a small threshold network to a spec, then make it exact and prove it.

:func:`train` fits ``Linear -> step -> ... -> Linear -> step`` from random
initialization (``torch.manual_seed(seed)``, PyTorch's default ``nn.Linear``
init) on every row of the spec's truth table.  The step has no gradient, so
training runs a relaxation of it: ``sigmoid(z / t)``, with the temperature
``t`` lowered geometrically from ``t0`` to ``t1``, and binary cross-entropy
on the outputs.  Every ``check_every`` steps the *hard* network (the real
step) is run on all rows; once it equals the spec, training stops.

Rounding.  The float weights are then replaced by integers, neuron by
neuron: the hard network's neuron ``[w . h + b > 0]`` computes some boolean
function of the 0/1 patterns ``h`` its layer actually receives on the rows;
:func:`threshnet.explain.fit_gate` finds integer ``w'``, ``T`` of least
``sum |w'|`` with ``[w' . h >= T]`` equal to it on those patterns (one exists:
the float neuron separates them), and the neuron becomes
``[w' . h - T + 0.5 > 0]``: integer weights, a half-integer bias, every
pre-activation at least 0.5 from 0.  Layer by layer the patterns are those
of the rounded network, so the rounded network computes what the hard
network computed on every row.  The result is a :class:`~threshnet.ThreshNet`,
which :func:`threshnet.check` and :func:`threshnet.prove` then judge; the
report says both.

:func:`relax` goes the other way: a compiled network as a trainable float
copy, with each step replaced by a straight-through estimator (forward: the
exact step; backward: the gradient of ``sigmoid(z / t)``), so the copy
computes exactly the compiled function at initialization and can sit inside
a larger model.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .compiler.runtime import Step

#: Specs with more inputs are refused (training uses every row of the truth table).
MAX_TRAIN_INPUTS = 16


class _StraightThrough(torch.autograd.Function):
    """Forward the exact ``[z > 0]``; backward the gradient of ``sigmoid(z / t)``."""

    @staticmethod
    def forward(ctx, z: torch.Tensor, t: float) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(z)
        ctx.t = t
        return (z > 0).to(z.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        (z,) = ctx.saved_tensors
        s = torch.sigmoid(z / ctx.t)
        return grad * s * (1 - s) / ctx.t, None


class SoftStep(nn.Module):
    """A differentiable step: ``sigmoid(z / t)``, or with ``straight_through`` the exact ``[z > 0]``
    forward and the sigmoid's gradient backward."""

    def __init__(self, temperature: float = 0.5, straight_through: bool = True) -> None:
        super().__init__()
        self.temperature = temperature
        self.straight_through = straight_through

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if not self.straight_through:
            return torch.sigmoid(z / self.temperature)
        return _StraightThrough.apply(z, self.temperature)

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}, straight_through={self.straight_through}"


def relax(net: nn.Module, temperature: float = 0.5, dtype: torch.dtype = torch.float32) -> nn.Sequential:
    """A trainable copy of a dense network: its Linears (``requires_grad``) with each ``Step`` as a
    straight-through :class:`SoftStep`; ReLUs stay.  On 0/1 inputs it computes exactly what ``net``
    computes (the same weights, the exact step forward).  Raises ``ValueError`` for the sparse layout."""
    layers = getattr(net, "layers", net)
    mods = list(layers) if isinstance(layers, nn.Sequential) else [layers]
    out: list[nn.Module] = []
    for m in mods:
        if isinstance(m, nn.Linear):
            lin = nn.Linear(m.in_features, m.out_features, bias=m.bias is not None, dtype=dtype)
            with torch.no_grad():
                lin.weight.copy_(m.weight.detach())
                if m.bias is not None:
                    lin.bias.copy_(m.bias.detach())
            out.append(lin)
        elif isinstance(m, Step):
            out.append(SoftStep(temperature))
        elif isinstance(m, (nn.ReLU, nn.Identity)):
            out.append(copy.deepcopy(m))
        else:
            raise ValueError(f"relax copies dense networks of Linear, ReLU and Step; got {type(m).__name__} "
                             f"(compile with layout='mlp')")
    return nn.Sequential(*out).train()


@dataclass(frozen=True, eq=False)
class TrainReport:
    """What :func:`train` did: the rounded network and the verdicts on it."""

    net: nn.Module  # a ThreshNet with integer weights and half-integer biases
    seed: int
    hidden: tuple[int, ...]
    attempts: int  # random initializations tried (seed, seed + 1, ...)
    steps: int  # optimizer steps of the successful attempt
    loss: float  # relaxed loss at the end
    check: object  # CheckReport
    proof: object | None  # ProofReport, or None without python-sat

    @property
    def ok(self) -> bool:
        return bool(self.check.ok) and (self.proof is None or self.proof.status == "proved")

    def __str__(self) -> str:
        arch = " -> ".join(map(str, (len(self.net.input_names),) + self.hidden + (len(self.net.output_names),)))
        lines = [f"trained {arch} from seed {self.seed} (attempt {self.attempts}, {self.steps} steps), "
                 f"rounded to integer weights",
                 f"check: {self.check}"]
        if self.proof is not None:
            lines.append(f"prove: {self.proof}")
        return "\n".join(lines)


def _rows(n: int) -> np.ndarray:
    r = np.arange(1 << n, dtype=np.int64)
    return (r[:, None] >> np.arange(n - 1, -1, -1)) & 1


def _fit(x: torch.Tensor, y: torch.Tensor, sizes: list[int], steps: int, lr: float, t0: float, t1: float,
         check_every: int) -> tuple[nn.Sequential, int, float, bool]:
    mods: list[nn.Module] = []
    for a, b in zip(sizes, sizes[1:]):
        mods += [nn.Linear(a, b), SoftStep(t0, straight_through=False)]
    model = nn.Sequential(*mods)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    soft = [m for m in model if isinstance(m, SoftStep)]
    loss_v = float("nan")
    for step in range(1, steps + 1):
        t = t0 * (t1 / t0) ** (step / steps)
        for m in soft:
            m.temperature = t
        opt.zero_grad()
        p = model(x).clamp(1e-6, 1 - 1e-6)
        loss = nn.functional.binary_cross_entropy(p, y)
        loss.backward()
        opt.step()
        loss_v = float(loss.detach())
        if step % check_every == 0 and torch.equal(_hard(model, x), y):
            return model, step, loss_v, True
    return model, steps, loss_v, torch.equal(_hard(model, x), y)


def _hard(model: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    h = x
    with torch.no_grad():
        for m in model:
            h = m(h) if isinstance(m, nn.Linear) else (h > 0).to(h.dtype)
    return h


def _round(model: nn.Sequential, x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Integer weights and half-integer biases computing the hard network's function on the rows ``x``."""
    from .explain import fit_gate

    h = x.astype(np.int64)
    layers = []
    for lin in [m for m in model if isinstance(m, nn.Linear)]:
        w = lin.weight.detach().double().numpy()
        b = lin.bias.detach().double().numpy()
        want = (h @ w.T + b) > 0  # the hard network's neurons on the patterns this layer receives
        pats, first = np.unique(h, axis=0, return_index=True)
        wi = np.zeros_like(w, dtype=np.int64)
        bi = np.zeros(len(b))
        for j in range(len(b)):
            found = fit_gate(pats, want[first, j])
            if found is None:  # cannot happen: the float neuron separates these patterns
                raise RuntimeError(f"neuron {j}: no integer gate for a linearly separable function")
            wi[j], bi[j] = found[0], -found[1] + 0.5
        h = ((h @ wi.T + bi) > 0).astype(np.int64)
        layers.append((wi, bi))
    return layers


def train(spec: object, hidden: int | tuple[int, ...] = 3, *, seed: int = 0, steps: int = 3000,
          lr: float = 0.05, t0: float = 1.0, t1: float = 0.05, attempts: int = 10, check_every: int = 25,
          prove: bool = True) -> TrainReport:
    """Fit ``inputs -> hidden... -> outputs`` step network to ``spec`` from random weights, round, check, prove.

    ``hidden``: neurons per hidden layer.  Attempt ``i`` seeds torch with
    ``seed + i``; the first whose hard network equals the spec on every row
    is rounded (module docstring).  Raises ``ValueError`` for more than
    :data:`MAX_TRAIN_INPUTS` inputs and ``RuntimeError`` when no attempt fits.
    """
    from .check import check
    from .compiler.evaluate import evaluate_batch
    from .inputs import as_spec
    from .network import ThreshNet

    sp = as_spec(spec)
    n, m = len(sp.inputs), len(sp.outputs)
    if n > MAX_TRAIN_INPUTS:
        raise ValueError(f"train fits every row of the truth table; {n} inputs is too many "
                         f"(at most {MAX_TRAIN_INPUTS})")
    hidden = (hidden,) if isinstance(hidden, int) else tuple(hidden)
    rows = _rows(n)
    x = torch.tensor(rows, dtype=torch.float32)
    y = torch.tensor(evaluate_batch(sp, rows), dtype=torch.float32)
    sizes = [n, *hidden, m]
    for attempt in range(attempts):
        torch.manual_seed(seed + attempt)
        model, used, loss, ok = _fit(x, y, sizes, steps, lr, t0, t1, check_every)
        if ok:
            break
    else:
        raise RuntimeError(f"no attempt of {attempts} (seeds {seed}..{seed + attempts - 1}) fitted the spec "
                           f"with hidden layers {hidden}; try more hidden neurons or steps")
    mods: list[nn.Module] = []
    for wi, bi in _round(model, rows):
        lin = nn.Linear(wi.shape[1], wi.shape[0])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(wi.astype(np.float32)))
            lin.bias.copy_(torch.from_numpy(bi.astype(np.float32)))
        lin.requires_grad_(False)
        mods += [lin, Step()]
    names = tuple(tuple(f"h{k + 1}.{j}" for j in range(h)) for k, h in enumerate(hidden)) + (tuple(sp.outputs),)
    net = ThreshNet(nn.Sequential(*mods), tuple(sp.inputs), tuple(sp.outputs), names, "step", True, 0, sp)
    report = check(net, sp)
    proof = None
    if prove:
        from .prove import available
        from .prove import prove as prove_

        if available():
            proof = prove_(net, sp)
    return TrainReport(net.eval(), seed, hidden, attempt + 1, used, loss, report, proof)
