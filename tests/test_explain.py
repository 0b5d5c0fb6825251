"""threshnet.explain and `threshnet explain`: every neuron's boolean function, checked against the module.

The lecture's AdderNN is the golden case (tests/golden/explain/; regenerate with
THRESHNET_REGOLD=1).  Random small networks (Hypothesis) check that each reported
value is what torch computes, that each reported threshold gate and formula equal
the neuron's function on every input, and that the gate search finds a gate for
functions that are threshold functions by construction.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

pytest.importorskip("scipy")
pytest.importorskip("sympy")

import threshnet  # noqa: E402
from threshnet.explain import MAX_INPUTS, explain  # noqa: E402
from threshnet.compiler.runtime import Step  # noqa: E402

from conftest import notebook_adder  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "explain"
HALF = "c1 = a0 & b0; c0 = a0 ^ b0"


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("THRESHNET_REGOLD"):
        path.write_text(text)
    assert text == path.read_text()


def _cli(*args: str) -> subprocess.CompletedProcess:
    """``threshnet ARGS`` in this process (from the repository root), as a finished process."""
    import contextlib
    import io

    from threshnet.cli import main

    out, err = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
    finally:
        os.chdir(cwd)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def test_notebook_adder_c0_is_an_or():
    ex = explain(notebook_adder(), HALF)
    c0 = ex.neuron("c0")
    assert c0.formula == "a0 | b0" and c0.gate == "[a0 + b0 >= 1]"
    assert ex.neuron("c1").formula == "a0 & b0"
    assert [n.name for n in ex.neurons] == ["fc1[0]", "fc1[1]", "fc1[2]", "c1", "c0"]
    assert ex.neuron("fc1[1]").distinct_values == (0.0, 0.5, 1.5)


def test_cli_explain_notebook_adder_golden():
    r = _cli("explain", "examples/notebook_adder.py:model", "--spec", "examples/half_adder.bool")
    assert r.returncode == 0, r.stderr
    _golden("notebook_adder.txt", r.stdout)
    assert "computes a0 | b0" in r.stdout


def test_cli_explain_errors_are_one_line():
    r = _cli("explain", "examples/notebook_adder.py:model", "--inputs", "a,b,c")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == ("threshnet: error: examples/notebook_adder.py:model: the module reads 2 inputs, "
                        "but 3 input names were given (a, b, c)\n")
    r = _cli("explain", "examples/missing.py:model")
    assert r.returncode == 2 and r.stderr.startswith("threshnet: error: examples/missing.py: cannot read file")


def test_saved_network_keeps_its_names(tmp_path):
    net = threshnet.compile(HALF, activation="step")
    net.save(tmp_path / "half.pt2")
    r = _cli("explain", str(tmp_path / "half.pt2"))
    assert r.returncode == 0, r.stderr
    assert "computes (a0 & ~b0) | (b0 & ~a0)  (not a threshold gate)" in r.stdout


def test_too_many_inputs_refused():
    lin = nn.Linear(MAX_INPUTS + 1, 1)
    with torch.no_grad():
        lin.weight.fill_(1.0)
        lin.bias.fill_(-0.5)
    with pytest.raises(ValueError, match=f"this network has {MAX_INPUTS + 1} inputs \\(at most {MAX_INPUTS}\\)"):
        explain(nn.Sequential(lin, Step()))


@pytest.mark.parametrize("name", ["half_adder", "full_adder", "majority3", "mux2", "comparator2"])
@pytest.mark.parametrize("layout,activation", [("mlp", "relu"), ("mlp", "step"), ("sparse", "step"),
                                               ("sparse", "relu")])
def test_outputs_of_compiled_examples_are_the_spec(name, layout, activation):
    spec = threshnet.read(ROOT / "examples" / f"{name}.bool")
    net = threshnet.compile(spec, activation, layout=layout)
    ex = explain(net)
    want = threshnet.evaluate_batch(spec, ex.rows())
    last = max(n.layer for n in ex.neurons)
    outs = [n for n in ex.neurons if n.layer == last]
    assert [n.name for n in outs] == list(spec.outputs)
    for j, n in enumerate(outs):
        assert np.array_equal(n.values, want[:, j].astype(float)), n.name


def _eval_gate(gate: str, names: tuple[str, ...], row: dict[str, int]) -> bool:
    lhs, t = gate[1:-1].split(" >= ")
    return eval(lhs.replace("*", " * "), {}, dict(row)) >= int(t)  # the gate's own text, re-read


def _eval_formula(formula: str, row: dict[str, int]) -> bool:
    from sympy import sympify

    expr = sympify(formula, locals={k: __import__("sympy").Symbol(k) for k in row})
    return bool(expr.subs({__import__("sympy").Symbol(k): bool(v) for k, v in row.items()}))


@st.composite
def small_nets(draw):
    n = draw(st.integers(1, 4))
    widths = [n] + draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)) + [draw(st.integers(1, 2))]
    mods: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(widths, widths[1:])):
        lin = nn.Linear(a, b)
        w = draw(st.lists(st.integers(-3, 3), min_size=a * b, max_size=a * b))
        bias = draw(st.lists(st.integers(-6, 6), min_size=b, max_size=b))
        with torch.no_grad():
            lin.weight.copy_(torch.tensor(w, dtype=torch.float32).reshape(b, a))
            lin.bias.copy_(torch.tensor(bias, dtype=torch.float32) / 2)
        mods.append(lin)
        last = i == len(widths) - 2
        mods.append(Step() if last else draw(st.sampled_from([Step(), nn.ReLU(), _SignAct()])))
    return nn.Sequential(*mods), n


class _SignAct(nn.Module):
    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sign(z)


@settings(max_examples=40, deadline=None)
@given(small_nets())
def test_values_gates_and_formulas_match_the_module(case):
    from sympy import Symbol  # noqa: F401

    module, n = case
    ex = explain(module)
    rows = torch.tensor(ex.rows(), dtype=torch.float64)
    # Every neuron's values, recomputed layer by layer in float64 torch.
    h = rows
    got = []
    for m in module:
        if isinstance(m, nn.Linear):
            h = h @ m.weight.double().T + m.bias.double()
        else:
            h = (h > 0).double() if isinstance(m, Step) else torch.sign(h) if isinstance(m, _SignAct) \
                else torch.relu(h)
            got.append(h)
    want = torch.cat(got, dim=1).detach().numpy()
    assert want.shape[1] == len(ex.neurons)
    for j, nr in enumerate(ex.neurons):
        assert np.array_equal(nr.values, want[:, j])
        for i, r in enumerate(ex.rows()):
            row = dict(zip(ex.input_names, map(int, r)))
            if nr.gate is not None:
                assert _eval_gate(nr.gate, nr.support, row) == nr.bits[i]
            if nr.formula is not None and nr.support:
                assert _eval_formula(nr.formula, row) == nr.bits[i]
        if nr.act == "step" and module[0].out_features and nr.layer == 1:
            assert nr.is_gate  # a first-layer step neuron is a threshold gate by construction


def test_markdown_and_html_tables():
    ex = explain(notebook_adder(), HALF)
    md = ex.to_markdown()
    assert "| 2 | c0 | `[fc1[1] - 2*fc1[2] > 0]` | `a0 \\| b0` | `[a0 + b0 >= 1]` |" in md
    assert "| 1 | 1 | 0.5 | 1.5 | 0.5 | 1 | 1 |" in md
    assert "<td><code>a0 | b0</code></td>" in ex._repr_html_()


class _Heaviside(nn.Module):
    """The half adder with torch.heaviside steps (values 0: z > 0; values 1: z >= 0)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(2, 2)
        self.fc2 = nn.Linear(2, 2)
        with torch.no_grad():
            self.fc1.weight.copy_(torch.tensor([[1.0, 1.0], [1.0, 1.0]]))
            self.fc1.bias.copy_(torch.tensor([-2.0, -1.0]))
            self.fc2.weight.copy_(torch.tensor([[1.0, 0.0], [-1.0, 1.0]]))
            self.fc2.bias.copy_(torch.tensor([-0.5, -0.5]))
        self.register_buffer("one", torch.ones(1))
        self.register_buffer("zero", torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.heaviside(self.fc1(x), self.one)  # [a0 + b0 >= 2], [a0 + b0 >= 1]
        return torch.heaviside(self.fc2(h), self.zero)


def test_heaviside_modules_are_explained_and_proved():
    m = _Heaviside()
    ex = explain(m, HALF)
    assert ex.neuron("fc1[0]").equation == "[a0 + b0 - 2 >= 0]"
    assert ex.neuron("c0").formula == "(a0 & ~b0) | (b0 & ~a0)"
    from threshnet.prove import available

    if available():
        assert threshnet.prove(m, HALF).status == "proved"
    m.zero.fill_(0.5)
    with pytest.raises(ValueError, match="constant values tensor of all 0"):
        explain(m)


class _Sign(nn.Module):
    """XOR with sign hidden neurons: sign(a + b - 0.5) and sign(a + b - 1.5), then a step."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(2, 2)
        self.fc2 = nn.Linear(2, 1)
        with torch.no_grad():
            self.fc1.weight.fill_(1.0)
            self.fc1.bias.copy_(torch.tensor([-0.5, -1.5]))
            self.fc2.weight.copy_(torch.tensor([[1.0, -1.0]]))
            self.fc2.bias.fill_(-1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.fc2(torch.sign(self.fc1(x))) > 0).float()


def test_sign_modules_are_explained_and_proved():
    m = _Sign()
    ex = explain(m, "y = a ^ b")
    assert ex.neuron("y").formula == "(a & ~b) | (b & ~a)"
    signs = [n for n in ex.neurons if n.act == "sign"]
    assert [n.distinct_values for n in signs] == [(-1.0, 1.0), (-1.0, 1.0)]
    assert [n.formula for n in signs] == ["a | b", "a & b"]
    assert [n.equation for n in signs] == ["sign(a + b - 0.5)", "sign(a + b - 1.5)"]
    from threshnet.prove import available

    if available():
        assert threshnet.prove(m, "y = a ^ b").status == "proved"
        assert threshnet.prove(m, "y = a | b").status == "refuted"


def test_cli_explain_without_names_prints_every_neuron():
    r = _cli("explain", "examples/notebook_adder.py:model")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "examples/notebook_adder.py:model: 2 inputs (x0, x1), 5 neurons in 2 layers"
    for name in ("fc1[0]", "fc1[1]", "fc1[2]", "fc2[0]", "fc2[1]"):
        at = next(i for i, line in enumerate(lines) if line.startswith(f"  {name} = "))
        assert lines[at + 1].lstrip().startswith(("fires (> 0) on ", "computes "))
    assert "  fc2[1] = [fc1[1] - 2*fc1[2] > 0]\n      computes x0 | x1  (threshold gate [x0 + x1 >= 1])" in r.stdout
