"""The compiled networks: the half adder pinned, every example exact in every mode."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch
from torch import nn

import threshnet
from threshnet import Step

EXAMPLES = sorted(Path(__file__).resolve().parent.parent.joinpath("examples").glob("*.bool"))
MODES = [("step", True), ("relu", True), ("relu", False)]
HALF_ADDER = "c1 = a0 & b0; c0 = a0 ^ b0"


def _linears(net: nn.Module) -> list[nn.Linear]:
    return [m for m in net.layers if isinstance(m, nn.Linear)]


@pytest.mark.parametrize("activation", ["step", "relu"])
def test_half_adder_shape_is_2_2_2(activation):
    net = threshnet.compile(HALF_ADDER, activation)
    mods = list(net.layers)
    assert [type(m) for m in mods] == [nn.Linear, Step if activation == "step" else nn.ReLU, nn.Linear, Step]
    assert [(m.in_features, m.out_features) for m in _linears(net)] == [(2, 2), (2, 2)]
    assert sum(p.numel() for p in net.parameters()) == 12  # the notebook's net has 17
    s = net.stats()
    assert s.hidden_neurons == 2 and s.parameters == 12 and s.layers == 2
    assert s.bytes(32) == 48 and s.bytes(16) == 24 and s.bytes(8) == 12
    assert s.min_margin == 0.5 and s.max_abs_weight == 1
    assert net.input_names == ("a0", "b0") and net.output_names == ("c1", "c0")


def test_half_adder_truth_table():
    net = threshnet.compile(HALF_ADDER)
    x = torch.tensor(list(itertools.product([0.0, 1.0], repeat=2)))
    assert net(x).tolist() == [[0, 0], [0, 1], [0, 1], [1, 0]]


def test_half_adder_pure_relu_has_no_step():
    net = threshnet.compile(HALF_ADDER, "relu", output_step=False)
    assert not any(isinstance(m, Step) for m in net.layers)
    # Its last ReLU layer already holds c1 and c0, so no combining Linear follows: still 12 parameters.
    assert [type(m) for m in net.layers] == [nn.Linear, nn.ReLU, nn.Linear, nn.ReLU]
    assert sum(p.numel() for p in net.parameters()) == 12
    assert threshnet.check(net, net.spec).ok
    # The full adder's sum needs relu(z+1) - relu(z): that takes a final combining Linear.
    full = threshnet.compile("s = a ^ b ^ c; cout = a & b | c & (a ^ b)", "relu", output_step=False)
    assert isinstance(list(full.layers)[-1], nn.Linear)
    assert threshnet.check(full, full.spec).ok
    assert net.stats().min_margin is None


@pytest.mark.parametrize("activation,output_step", MODES)
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_compiles_exact(path, activation, output_step):
    spec = threshnet.parse(path.read_text(), str(path))
    net = threshnet.compile(spec, activation, output_step=output_step)
    report = threshnet.check(net, spec)
    assert report.ok, str(report)
    assert report.exhaustive and report.tried == 2 ** len(spec.inputs)
    for lin in _linears(net):
        w = lin.weight.detach()
        assert torch.equal(w, torch.round(w)), "weights must be integers"
    if activation == "step":
        for lin in _linears(net):
            frac = lin.bias.detach() - torch.floor(lin.bias.detach())
            assert torch.all(frac == 0.5), "step biases are half-integers"
    s = net.stats()
    assert s.neurons[-1] == len(spec.outputs)
    assert s.parameters == sum(p.numel() for p in net.parameters())


def test_notebook_addernn_is_caught():
    """The lecture notebook's hand-set weights are wrong for 1 + 1."""

    from conftest import notebook_adder

    m = notebook_adder()  # examples/notebook_adder.py, weights as in the notebook
    assert [p.tolist() for p in m.parameters()] == [
        [[1, 1], [1, 1], [1, 1]], [-1.5, -0.5, -1.5], [[1, 0, 0], [0, 1, -2]], [0, 0]]
    assert sum(p.numel() for p in m.parameters()) == 17
    r = threshnet.check(m, HALF_ADDER)
    assert not r.ok
    assert r.counterexample == {"a0": 1, "b0": 1}
    assert r.expected == {"c1": 1, "c0": 0}
    assert r.got == {"c1": 1.0, "c0": 1.0}
    assert "a0=1 b0=1" in str(r)


def test_check_catches_a_single_wrong_weight():
    net = threshnet.compile(EXAMPLES[0].read_text())
    assert threshnet.check(net, net.spec).ok
    with torch.no_grad():
        _linears(net)[-1].bias[0] += 1.0
    assert not threshnet.check(net, net.spec).ok


def test_check_samples_beyond_20_inputs():
    text = "y = " + " & ".join(f"x{i}" for i in range(24)) + "\nz = x0 ^ x23"
    net = threshnet.compile(text)
    r = threshnet.check(net, text, samples=500)
    assert r.ok and not r.exhaustive and r.tried == 500 + 2 + 2 * 24
    # The all-ones corner is what makes y = 1; a broken AND is caught there.
    with torch.no_grad():
        _linears(net)[0].bias += -1.0
    assert not threshnet.check(net, text, samples=10).ok


def test_batched_any_leading_shape_and_dtype():
    net = threshnet.compile(HALF_ADDER).double()
    x = torch.tensor([[[1.0, 1.0], [0.0, 1.0]]], dtype=torch.float64)
    out = net(x)
    assert out.shape == (1, 2, 2) and out.dtype == torch.float64
    assert out.tolist() == [[[1, 0], [0, 1]]]


def test_wrong_input_width_is_a_clear_error():
    net = threshnet.compile(HALF_ADDER)
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 2\)"):
        net(torch.zeros(4, 3))


def test_constant_and_wire_outputs():
    text = "output one, zero, wire, inv\none = 1\nzero = a & ~a\nwire = a\ninv = ~a"
    for act, os_ in MODES:
        net = threshnet.compile(text, act, output_step=os_)
        assert threshnet.check(net, text).ok
        assert net.output_names == ("one", "zero", "wire", "inv")


def test_step_with_output_step_false_is_refused():
    with pytest.raises(ValueError, match="output_step=False"):
        threshnet.compile(HALF_ADDER, "step", output_step=False)


def test_deterministic_weights():
    a = threshnet.compile(EXAMPLES[-1].read_text())
    b = threshnet.compile(EXAMPLES[-1].read_text())
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert a.neuron_names == b.neuron_names


def test_save_and_load_round_trip(tmp_path):
    net = threshnet.compile(HALF_ADDER)
    path = tmp_path / "ha.pt2"
    net.save(path)
    back = threshnet.load(path)
    assert back.input_names == net.input_names and back.output_names == net.output_names
    assert threshnet.check(back, HALF_ADDER).ok


def test_compiling_does_not_import_sympy():
    """Every CLI command compiles or loads a network; building its layers once imported sympy through
    ``nn.utils.skip_init`` (half a second per process, a quarter of a half adder's compile)."""
    import subprocess
    import sys

    code = ("import sys, threshnet; net = threshnet.compile('c1 = a0 & b0; c0 = a0 ^ b0', 'relu', layout='mlp'); "
            "threshnet.compile('y = a | b', 'step', layout='sparse'); print('sympy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
