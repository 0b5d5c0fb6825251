"""The gate-to-neurons rule (compiler/neurons.py), exhaustively, and the value bounds it hands the layouts."""

from __future__ import annotations

import itertools

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import threshnet
from threshnet.compiler.compiling import compile_stages
from threshnet.compiler.neurons import LayerNeurons, encode, encode_pass
from threshnet.compiler.runtime import RELU, STEP
from threshnet.testing import specs

pytestmark = pytest.mark.filterwarnings("ignore:Initializing zero-element tensors is a no-op:UserWarning")

Z = (0.0, {0: 1.0})  # the affine map z = x0


def _act(act: str, v: float) -> float:
    return float(v > 0) if act == STEP else max(0.0, v)


def _pre(nrn, z: int) -> float:
    const, coef = nrn.aff
    return const + coef.get(0, 0.0) * z + nrn.shift


@pytest.mark.parametrize("act", [STEP, RELU])
def test_encoding_is_the_gate_for_every_integer_range(act):
    for lo in range(-9, 4):
        for hi in range(lo, 10):
            enc = encode(Z, lo, hi, act)
            values = {n: [] for n in range(len(enc.neurons))}
            for z in range(lo, hi + 1):
                outs = [_act(act, _pre(nrn, z)) for nrn in enc.neurons]
                got = enc.const + sum(c * o for c, o in zip(enc.coefs, outs))
                assert got == (1.0 if z >= 0 else 0.0), (lo, hi, z, enc)
                for n, o in enumerate(outs):
                    values[n].append(o)
                    pre = _pre(enc.neurons[n], z)
                    if act == STEP:
                        assert abs(pre) >= 0.5 and pre % 1 == 0.5  # the 0.5 margin
                    else:
                        assert pre == int(pre)  # ReLU neurons stay on the integer grid
            for n, nrn in enumerate(enc.neurons):
                assert nrn.top >= max(values[n]), (lo, hi, n)  # tops bound the values ...
                if lo < 0 <= hi:
                    assert nrn.top == max(values[n]), (lo, hi, n)  # ... and are reached by a non-constant gate
            if act == RELU:
                assert len(enc.neurons) == (1 if hi <= 0 or lo >= -1 else 2)
                # the wide values are as small as the two mirrored forms allow
                assert max(n.top for n in enc.neurons) <= max(1, min(hi + 1, -lo))


@pytest.mark.parametrize("act", [STEP, RELU])
def test_pass_through_carries_zero_and_one(act):
    enc = encode_pass(Z, act)
    for s in (0, 1):
        outs = [_act(act, _pre(nrn, s)) for nrn in enc.neurons]
        assert enc.const + sum(c * o for c, o in zip(enc.coefs, outs)) == s


def test_identical_neurons_are_shared_unless_asked_not_to():
    assert [n.suffix for n in encode(Z, -3, 3, RELU).neurons] == ["[-z]", "[-z-1]"]  # mirrored: smaller values
    enc = encode(Z, -4, 3, RELU)
    shared = LayerNeurons()
    assert shared.place(enc, "a") == shared.place(enc, "b")
    assert len(shared.rows) == 2 and shared.names == ["a[z+1]", "a[z]"]
    single = LayerNeurons(share=False)
    single.place(enc, "a")
    single.place(enc, "b")
    assert len(single.rows) == 4


def _activations(module, x: torch.Tensor) -> list[torch.Tensor]:
    """Each hidden layer's activations (mlp: per neuron; sparse: the slot buffer after the layer)."""
    out = []
    h = x
    for m in module.layers:
        h = m(h)
        if isinstance(m, (torch.nn.ReLU, threshnet.Step)):
            out.append(h)
        elif type(m).__name__ == "GatherLayer" and not m.final:
            out.append(h.t().clone())
    return out


@settings(max_examples=40, deadline=None)
@given(spec=specs(max_inputs=8, max_gates=30), layout=st.sampled_from(["mlp", "sparse"]),
       activation=st.sampled_from([STEP, RELU]))
def test_plan_tops_bound_every_activation(spec, layout, activation):
    """The exact value bounds in the plans (``tops``) hold on every input, in both layouts."""
    c = compile_stages(spec, activation, layout=layout)
    net = threshnet.compile(spec, activation, layout=layout, dtype="float64")
    n = len(spec.inputs)
    x = torch.tensor(list(itertools.product((0.0, 1.0), repeat=n)), dtype=torch.float64).reshape(1 << n, n)
    acts = _activations(net, x)
    if layout == "mlp":
        plans = [p for p in c.plans if p.activation is not None]
        assert len(plans) == len(acts)
        for p, a in zip(plans, acts):
            assert a.shape[1] == len(p.tops)
            assert (a <= torch.tensor(p.tops, dtype=torch.float64)).all()
            assert (a >= 0).all()
    else:
        tops = torch.tensor(c.plans[0].tops, dtype=torch.float64)
        for a in acts:
            assert (a <= tops).all() and (a >= 0).all()
