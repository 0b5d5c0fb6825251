"""threshnet.train (fit, round, check, prove) and threshnet.relax (an exact, trainable copy)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import threshnet
from threshnet.compiler.runtime import Step
from threshnet.train import SoftStep, relax, train
from conftest import require_prover

pytest.importorskip("scipy")

ROOT = Path(__file__).resolve().parent.parent
HALF = "c1 = a0 & b0; c0 = a0 ^ b0"
EXAMPLES = sorted(p.stem for p in (ROOT / "examples").glob("*.bool"))


def test_lecture_architecture_trains_to_a_proved_half_adder():
    require_prover()
    r = train(HALF, hidden=3, seed=0)
    assert r.check.ok and r.proof is not None and r.proof.status == "proved" and r.ok
    assert r.hidden == (3,) and r.attempts == 1
    lin = r.net.linears()
    assert [tuple(m.weight.shape) for m in lin] == [(3, 2), (2, 3)]
    for m in lin:  # integer weights, half-integer biases: every pre-activation 0.5 from 0
        w, b = m.weight.double(), m.bias.double()
        assert torch.equal(w, w.round()) and torch.equal(b - b.floor(), torch.full_like(b, 0.5))
    assert r.net.stats().min_margin == 0.5
    again = train(HALF, hidden=3, seed=0, prove=False)  # same seed, same network
    assert all(torch.equal(a, b) for a, b in zip(r.net.state_dict().values(), again.net.state_dict().values()))
    assert str(r).startswith("trained 2 -> 3 -> 2 from seed 0 (attempt 1, ")


@pytest.mark.parametrize("name", ["full_adder", "majority3", "mux2"])
def test_other_small_specs(name):
    spec = threshnet.read(ROOT / "examples" / f"{name}.bool")
    r = train(spec, hidden=4, seed=0, prove=False)
    assert r.check.ok


def test_refusals():
    with pytest.raises(ValueError, match="17 inputs is too many"):
        train("y = " + " ^ ".join(f"x{i}" for i in range(17)))
    with pytest.raises(RuntimeError, match="no attempt of 2"):
        train("y = a ^ b", hidden=1, steps=50, attempts=2, prove=False)  # XOR needs two hidden neurons


@pytest.mark.parametrize("activation", ["relu", "step"])
@pytest.mark.parametrize("name", EXAMPLES)
def test_relax_is_exact_at_init_and_trainable(name, activation):
    spec = threshnet.read(ROOT / "examples" / f"{name}.bool")
    net = threshnet.compile(spec, activation, layout="mlp")
    soft = relax(net)
    n = len(spec.inputs)
    rows = torch.tensor((np.arange(1 << n)[:, None] >> np.arange(n - 1, -1, -1)) & 1, dtype=torch.float32)
    with torch.no_grad():
        assert torch.equal(soft(rows), net(rows))
    assert all(p.requires_grad for p in soft.parameters())
    assert any(isinstance(m, SoftStep) for m in soft) and not any(isinstance(m, Step) for m in soft)
    out = soft(rows)
    out.sum().backward()
    grads = [p.grad for p in soft.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)
    # the original is not touched
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(),
                                                 threshnet.compile(spec, activation, layout="mlp")
                                                 .state_dict().values()))


def test_relax_refuses_sparse():
    with pytest.raises(ValueError, match="layout='mlp'"):
        relax(threshnet.compile(HALF, layout="sparse"))
