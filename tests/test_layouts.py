"""Both layouts: exact in every mode, save/load, ONNX in onnxruntime, drawing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import threshnet
from threshnet.compiler.compiling import AUTO_DENSE_LIMIT, compile_stages, dense_size_estimate
from threshnet.export import DRAW_LIMIT, draw, export_onnx, to_dot

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.bool"))
MODES = [("step", True), ("relu", True), ("relu", False)]


@pytest.mark.parametrize("activation,output_step", MODES)
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_sparse_layout_is_exact(path, activation, output_step):
    spec = threshnet.parse(path.read_text(), str(path))
    net = threshnet.compile(spec, activation, output_step=output_step, layout="sparse")
    assert net.layout == "sparse"
    assert threshnet.check(net, spec).ok
    s = net.stats()
    assert s.passthroughs == 0
    assert s.neurons[-1] >= 1


def test_sparse_never_has_more_neurons_than_gates():
    text = (ROOT / "examples" / "ripple_adder4.bool").read_text()
    mlp = threshnet.compile(text, "step", layout="mlp").stats()
    sparse = threshnet.compile(text, "step", layout="sparse").stats()
    assert sum(sparse.neurons) < sum(mlp.neurons)  # no pass-throughs
    assert sparse.layers == mlp.layers


def test_auto_picks_mlp_for_small_and_sparse_for_large():
    small = compile_stages("y = a & b")
    assert small.layout == "mlp" and dense_size_estimate(small.threshold_graph) <= AUTO_DENSE_LIMIT
    # A 300-bit ripple adder: every input is carried to the end of a 300-layer MLP.
    lines = ["c0 = a0 & b0"] + [f"c{i} = (a{i} & b{i}) | (c{i - 1} & (a{i} | b{i}))" for i in range(1, 300)]
    lines += [f"s{i} = a{i} ^ b{i} ^ c{i}" for i in range(300)]
    spec = threshnet.parse("\n".join(lines))
    big = compile_stages(spec)
    assert dense_size_estimate(big.threshold_graph) > AUTO_DENSE_LIMIT
    net = threshnet.compile(spec)
    assert big.layout == net.layout == "sparse"
    assert threshnet.check(net, spec, samples=300).ok


@pytest.mark.parametrize("layout", ["mlp", "sparse"])
@pytest.mark.parametrize("activation,output_step", MODES)
def test_save_load_both_layouts(tmp_path, layout, activation, output_step):
    text = (ROOT / "examples" / "mult2x2.bool").read_text()
    net = threshnet.compile(text, activation, output_step=output_step, layout=layout)
    net.save(tmp_path / "n.pt2")
    back = threshnet.load(tmp_path / "n.pt2")
    assert back.layout == layout and back.output_names == net.output_names
    assert threshnet.check(back, text).ok
    x = torch.randint(0, 2, (64, len(net.input_names))).float()
    assert torch.equal(back(x), net(x))


def test_state_dict_round_trip_sparse():
    text = (ROOT / "examples" / "seg7.bool").read_text()
    a = threshnet.compile(text, layout="sparse")
    b = threshnet.compile(text, layout="sparse")
    with torch.no_grad():
        for p in b.parameters():
            p.zero_()
    assert not threshnet.check(b, text).ok
    b.load_state_dict(a.state_dict())
    assert threshnet.check(b, text).ok


@pytest.mark.parametrize("layout", ["mlp", "sparse"])
@pytest.mark.parametrize("activation,output_step", MODES)
@pytest.mark.parametrize("name", ["full_adder", "seg7", "ripple_adder4"])
def test_onnx_matches_torch(tmp_path, name, layout, activation, output_step):
    onnx = pytest.importorskip("onnx")  # here, not at module level: the drawing tests below need no ONNX
    ort = pytest.importorskip("onnxruntime")
    net = threshnet.compile((ROOT / "examples" / f"{name}.bool").read_text(), activation,
                            output_step=output_step, layout=layout)
    path = tmp_path / "n.onnx"
    export_onnx(net, path)
    model = onnx.load(str(path))
    ops = {n.op_type for n in model.graph.node}
    if layout == "mlp" and activation == "relu" and not output_step:
        assert ops <= {"Gemm", "Relu", "Gather", "Add"}, ops  # pure ReLU
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["threshnet.input_names"].startswith("[")
    sess = ort.InferenceSession(str(path))
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, size=(257, len(net.input_names))).astype(np.float32)
    got = sess.run(None, {"x": x})[0]
    with torch.no_grad():
        want = net(torch.from_numpy(x)).numpy()
    assert np.array_equal(got, want)


def test_dot_drawing(tmp_path):
    c = compile_stages((ROOT / "examples" / "half_adder.bool").read_text())
    dot = to_dot(c.threshold_graph)
    assert dot.startswith("digraph threshnet {") and "cluster_1" in dot and "cluster_2" in dot
    assert '"c1\\nand  >= 2"' in dot


def test_draw_without_graphviz_writes_dot_beside(tmp_path, monkeypatch):
    monkeypatch.setenv("THRESHNET_DOT", "")
    c = compile_stages((ROOT / "examples" / "half_adder.bool").read_text())
    out = draw(c.threshold_graph, tmp_path / "ha.svg")
    assert out == tmp_path / "ha.dot" and out.read_text() == to_dot(c.threshold_graph)
    assert not (tmp_path / "ha.svg").exists()


def test_draw_with_graphviz_renders_svg(tmp_path, monkeypatch):
    from threshnet.export import graphviz_dot

    monkeypatch.delenv("THRESHNET_DOT", raising=False)
    if graphviz_dot() is None:
        pytest.skip("Graphviz 'dot' is not installed (apt-get install graphviz)")
    c = compile_stages((ROOT / "examples" / "half_adder.bool").read_text())
    out = draw(c.threshold_graph, tmp_path / "ha.svg")
    assert out == tmp_path / "ha.svg" and "<svg" in out.read_text()


def test_drawing_refuses_huge_graphs():
    text = "\n".join(f"y{i} = a{i} & b{i} | c{i}" for i in range(DRAW_LIMIT + 5))
    c = compile_stages(text, layout="sparse")
    with pytest.raises(ValueError, match="drawing is limited"):
        to_dot(c.threshold_graph)
