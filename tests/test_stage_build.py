"""``threshnet.build``: the public compile above the compiler, one exactness rule, and the import layering."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

import pytest
import torch

import threshnet
from threshnet import build
from threshnet.compiler.compiling import compile_stages
from threshnet.precision import analyze

ROOT = Path(__file__).resolve().parent.parent
COMPILER = ROOT / "src" / "threshnet" / "compiler"
WIDE_AND = "y = " + " & ".join(f"i{k}" for k in range(200))  # partial sums near 200: not exact in bfloat16


def test_public_compile_is_build_compile():
    assert threshnet.compile is build.compile
    net = threshnet.compile("c1 = a0 & b0; c0 = a0 ^ b0", verify=True)
    assert threshnet.check(net, net.spec).ok


def test_compiler_imports_nothing_above_it():
    """No module under compiler/ imports threshnet's upper layers (relative or absolute)."""
    bad = []
    for path in sorted(COMPILER.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                mod = node.module or ""
                if node.level >= 2 or (node.level == 0 and mod.startswith("threshnet")
                                       and not mod.startswith("threshnet.compiler")):
                    bad.append(f"{path.name}:{node.lineno}: from {'.' * node.level}{mod}")
            elif isinstance(node, ast.Import):
                bad += [f"{path.name}:{node.lineno}: import {a.name}" for a in node.names
                        if a.name.startswith("threshnet") and not a.name.startswith("threshnet.compiler")]
    assert not bad, "\n".join(bad)


def test_as_spec_reads_paths_text_and_specs(tmp_path):
    p = tmp_path / "x.bool"
    p.write_text("y = a | b\n", encoding="utf-8")
    spec = build.as_spec(p)
    assert spec.inputs == ("a", "b") and build.as_spec(spec) is spec
    assert build.as_spec("y = a | b") == spec
    with pytest.raises(TypeError, match="expected a Spec"):
        build.as_spec(42)
    with pytest.raises(TypeError, match="threshnet.read"):
        compile_stages(p)  # the compiler does not read files


def test_dtype_is_certified_by_the_analysis():
    net = threshnet.compile(WIDE_AND, layout="mlp", dtype="float16")
    assert net.linears()[0].weight.dtype == torch.float16
    assert analyze(net).exact["float16"]
    with pytest.raises(ValueError, match=r"^the network is not exact in bfloat16: layer 1 neuron 0: partial sums"):
        threshnet.compile(WIDE_AND, layout="mlp", dtype="bfloat16")
    with pytest.raises(ValueError, match="not exact in bfloat16"):
        threshnet.compile(WIDE_AND, layout="sparse", dtype=torch.bfloat16)


def test_float32_also_asks_the_analysis(monkeypatch):
    """float32 has no bound check of its own: when the analysis says no, compile refuses."""
    real = build.analyze

    def no_float32(net):
        r = real(net)
        return replace(r, exact={**r.exact, "float32": False}, reasons={**r.reasons, "float32": "test says no"})

    monkeypatch.setattr(build, "analyze", no_float32)
    with pytest.raises(ValueError, match="^the network is not exact in float32: test says no$"):
        threshnet.compile("y = a & b")
    assert threshnet.compile("y = a & b", dtype="float64").linears()[0].weight.dtype == torch.float64


def test_no_float32_bound_check_left():
    text = (ROOT / "src" / "threshnet" / "build.py").read_text() + (COMPILER / "compiling.py").read_text()
    assert "FLOAT32_EXACT" not in text and "_check_float32" not in text


@pytest.mark.parametrize("dtype", ["int8", "int32"])
def test_integer_dtypes_refused_before_compiling(dtype):
    with pytest.raises(ValueError, match="torch layers compute in floats"):
        threshnet.compile("y = a & b", dtype=dtype)


def test_unknown_dtype_refused():
    with pytest.raises(ValueError, match="unknown dtype"):
        threshnet.compile("y = a & b", dtype="float8")


def test_build_from_stages_for_dump_ir(tmp_path):
    """What ``compile --dump-ir DIR`` needs: the stages, their dumps and the same network."""
    from threshnet.compiler.ir import write_dumps

    c = compile_stages("c1 = a0 & b0; c0 = a0 ^ b0", "step", layout="sparse", verify=True)
    paths = write_dumps(c, tmp_path)
    assert len(paths) == 6
    net = build.build(c, "float32")
    ref = threshnet.compile("c1 = a0 & b0; c0 = a0 ^ b0", "step", layout="sparse")
    assert net.activation == "step" and net.layout == "sparse"
    x = torch.tensor([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=torch.float32)
    assert torch.equal(net(x), ref(x))
