"""Precision claims: each claimed dtype is run and checked; refusals name the neuron."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import threshnet
from threshnet.check import _rows_exhaustive
from threshnet.precision import DTYPES, TORCH_DTYPES, analyze, integer_forward, integer_program, noise_radius

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.bool"))
CONFIGS = [("step", True, "mlp"), ("relu", True, "mlp"), ("relu", False, "mlp"), ("step", True, "sparse"),
           ("relu", True, "sparse")]
WIDE_AND = "y = " + " & ".join(f"x{i}" for i in range(300))


@pytest.mark.parametrize("activation,output_step,layout", CONFIGS)
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_claimed_float_dtype_is_exact(path, activation, output_step, layout):
    spec = threshnet.parse(path.read_text(), str(path))
    net = threshnet.compile(spec, activation, output_step=output_step, layout=layout)
    claimed = analyze(net).exact_dtypes
    assert "float32" in claimed and "float64" in claimed
    assert net.stats().exact_dtypes == claimed
    for name in claimed:
        if name not in TORCH_DTYPES:
            continue
        low = threshnet.compile(spec, activation, output_step=output_step, layout=layout, dtype=name)
        assert next(low.parameters()).dtype == TORCH_DTYPES[name]
        report = threshnet.check(low, spec)  # runs on the CPU in that dtype
        assert report.ok, f"{name}: {report}"


@pytest.mark.parametrize("activation,output_step", [("step", True), ("relu", True), ("relu", False)])
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_integer_export_is_exact(path, activation, output_step):
    spec = threshnet.parse(path.read_text(), str(path))
    net = threshnet.compile(spec, activation, output_step=output_step, layout="mlp")
    program = integer_program(net)
    for layer in program:
        assert layer.weight.dtype == np.int64 and layer.bias.dtype == np.int64
    rows = _rows_exhaustive(len(spec.inputs), 0, 1 << len(spec.inputs))
    assert (integer_forward(program, rows) == threshnet.evaluate_batch(spec, rows)).all()
    report = analyze(net)
    for name in ("int8", "int16", "int32"):
        if report.exact[name]:
            limit = {"int8": 127, "int16": 2**15 - 1, "int32": 2**31 - 1}[name]
            for layer in program:
                assert np.abs(layer.weight).max(initial=0) <= limit and np.abs(layer.bias).max(initial=0) <= limit


def test_wide_and_refuses_bfloat16_with_the_neuron():
    report = analyze(threshnet.compile(WIDE_AND))
    assert report.exact["float16"] and not report.exact["bfloat16"] and not report.exact["int8"]
    with pytest.raises(ValueError, match=r"not exact in bfloat16: layer 1 neuron 0: partial sums reach 599\.5"):
        threshnet.compile(WIDE_AND, dtype="bfloat16")
    net = threshnet.compile(WIDE_AND, dtype=torch.float16)
    assert threshnet.check(net, WIDE_AND, samples=200).ok


def test_int_dtype_in_compile_points_to_integer_export():
    with pytest.raises(ValueError, match="integer_program"):
        threshnet.compile("y = a & b", dtype="int8")


def test_notebook_addernn_is_exact_in_nothing():
    m = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2), threshnet.Step())
    with torch.no_grad():
        m[0].weight.copy_(torch.tensor([[1.0, 1], [1, 1], [1, 1]]))
        m[0].bias.copy_(torch.tensor([-1.5, -0.5, -1.5]))
        m[2].weight.copy_(torch.tensor([[1.0, 0, 0], [0, 1, -2]]))
        m[2].bias.copy_(torch.tensor([0.0, 0]))
    report = analyze(m, n_inputs=2)
    assert report.exact_dtypes == ()
    assert "not kept away from 0" in report.reasons["float32"]


def test_noise_within_radius_keeps_outputs_exact():
    spec = threshnet.parse((ROOT / "examples" / "ripple_adder4.bool").read_text())
    for activation in ("step", "relu"):
        net = threshnet.compile(spec, activation)
        r = noise_radius(net)
        assert r > 0 and net.stats().noise_radius == r
        x = torch.from_numpy(_rows_exhaustive(9, 0, 512)).float()
        clean = net(x)
        g = torch.Generator().manual_seed(0)
        for _ in range(5):  # the radius is the bare layers' (ThreshNet itself rounds its inputs first)
            noise = (torch.rand(x.shape, generator=g) * 2 - 1) * r * 0.999
            assert torch.equal(net.layers(x + noise), clean)
        # Well beyond the radius the answer changes somewhere.
        corner = torch.sign(torch.rand(x.shape, generator=g) - 0.5) * 0.49
        assert not torch.equal(net.layers(x + corner), clean)
        assert torch.equal(net(x + corner), clean)


def test_pure_relu_has_zero_noise_radius():
    assert noise_radius(threshnet.compile("y = a & b", output_step=False)) == 0.0


def test_strict_rejects_non_binary_inputs():
    net = threshnet.compile("y = a & b", strict=True)
    assert net(torch.tensor([[1.0, 1.0]])).tolist() == [[1.0]]
    with pytest.raises(ValueError, match="exactly 0 or 1, got 0.5"):
        net(torch.tensor([[0.5, 1.0]]))
    loose = threshnet.compile("y = a & b")
    assert loose(torch.tensor([[0.9, 1.0]])).tolist() == [[1.0]]  # within the noise radius


def test_all_dtypes_named():
    assert set(DTYPES) == {"float64", "float32", "float16", "bfloat16", "int8", "int16", "int32"}
