"""ONNX export in every dtype that ``export`` offers: valid under the full checker, exact in onnxruntime."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch

import threshnet
from threshnet.cli import main
from threshnet.export import ONNX_DTYPES, export_onnx

onnx = pytest.importorskip("onnx", reason="ONNX export needs the extra threshnet[onnx] (onnx)")
ort = pytest.importorskip("onnxruntime", reason="running exported models needs onnxruntime")

torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parent.parent
# Small, with XOR, majority and a constant-free reconvergent output: every row is checked.
SPEC = """
input a, b, c, d
output s, co, m, z
t = a ^ b
s = t ^ c
co = a & b | c & t
m = a & b | a & d | b & d
z = ~(s & d) ^ co
"""
MODES = [("relu", False), ("relu", True), ("step", True)]
NP = {torch.float64: np.float64, torch.float32: np.float32, torch.float16: np.float16}


def all_rows(n: int) -> np.ndarray:
    return np.array(list(itertools.product([0, 1], repeat=n)), dtype=np.float64)


@pytest.mark.parametrize("dtype", list(ONNX_DTYPES.values()))
@pytest.mark.parametrize("layout", ["mlp", "sparse"])
@pytest.mark.parametrize("activation,output_step", MODES)
def test_every_dtype_is_valid_and_exact(tmp_path, dtype, layout, activation, output_step):
    net = threshnet.compile(SPEC, activation, output_step=output_step, layout=layout, dtype=dtype)
    tdtype = getattr(torch, dtype)
    assert {p.dtype for p in net.parameters()} == {tdtype}
    path = tmp_path / "n.onnx"
    export_onnx(net, path)
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    assert model.ir_version == 10  # onnxruntime before 1.21 refuses anything newer
    elem = {torch.float64: onnx.TensorProto.DOUBLE, torch.float32: onnx.TensorProto.FLOAT,
            torch.float16: onnx.TensorProto.FLOAT16}[tdtype]
    assert model.graph.input[0].type.tensor_type.elem_type == elem
    assert model.graph.output[0].type.tensor_type.elem_type == elem
    assert {p.key: p.value for p in model.metadata_props}["threshnet.dtype"] == dtype
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rows = all_rows(len(net.input_names))
    got = sess.run(None, {"x": rows.astype(NP[tdtype])})[0]
    with torch.no_grad():
        want = net(torch.tensor(rows, dtype=tdtype)).double().numpy()
    assert np.array_equal(got.astype(np.float64), want)
    assert np.array_equal(want, threshnet.evaluate_batch(threshnet.parse(SPEC), rows.astype(np.uint8)))


@pytest.mark.parametrize("layout", ["mlp", "sparse"])
def test_bfloat16_is_refused_before_writing(tmp_path, layout):
    net = threshnet.compile(SPEC, "step", layout=layout, dtype="bfloat16")
    path = tmp_path / "n.onnx"
    with pytest.raises(ValueError, match=r"cannot export a bfloat16 network to ONNX.*float64, float32, float16"):
        export_onnx(net, path)
    assert not path.exists()


def test_mixed_dtypes_are_refused(tmp_path):
    net = threshnet.compile(SPEC, "step", layout="mlp")
    net.layers[0].double()
    with pytest.raises(ValueError, match=r"mixes dtypes \(float32, float64\)"):
        export_onnx(net, tmp_path / "n.onnx")
    assert not (tmp_path / "n.onnx").exists()


def test_cli_export_dtypes(tmp_path, capsys):
    """The issue's case: ``export --dtype float16`` used to declare a FLOAT input over FLOAT16 weights."""
    spec = tmp_path / "s.bool"
    spec.write_text(SPEC)
    out = tmp_path / "float16.onnx"
    assert main(["export", str(spec), "-o", str(out), "--dtype", "float16"]) == 0
    onnx.checker.check_model(onnx.load(str(out)), full_check=True)
    ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    out = tmp_path / "bf16.onnx"
    code = main(["export", str(spec), "-o", str(out), "--dtype", "bfloat16"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith(f"threshnet: error: {spec}: cannot export a bfloat16 network")
    assert not out.exists()
