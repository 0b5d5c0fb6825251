"""The command line, run as a user would run it (``run``: a process of its own, forked from a warm
server by tests/cliproc.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import cliproc
from threshnet.cli import main
from conftest import require_prover

ROOT = Path(__file__).resolve().parent.parent
HALF = str(ROOT / "examples" / "half_adder.bool")


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return cliproc.run(list(args), stdin=stdin, cwd=ROOT, timeout=120)


def test_help_for_every_subcommand(capsys):
    for cmd in ["compile", "show", "table", "check", "eval"]:
        with pytest.raises(SystemExit) as e:
            main([cmd, "--help"])
        assert e.value.code == 0
        assert "usage: threshnet " + cmd in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "compile" in capsys.readouterr().out


def test_compile_prints_summary(capsys):
    assert main(["compile", HALF]) == 0
    out = capsys.readouterr().out
    assert "neurons per layer: 2 -> 2" in out and "parameters            12" in out
    assert "fp32 48, fp16 24, int8 12" in out and "min margin            0.5" in out


def test_show_labels_rows_and_columns(capsys):
    assert main(["show", HALF, "--activation", "step"]) == 0
    out = capsys.readouterr().out
    assert "layer 1: Linear(2 -> 2), then step" in out
    lines = out.splitlines()
    assert lines[1].split() == ["a0", "b0", "|", "bias"]
    assert lines[2].split() == ["c1", "1", "1", "|", "-1.5"]


@pytest.mark.parametrize("activation", ["relu", "step"])
def test_show_of_a_saved_network_is_the_show_of_its_compile(activation, tmp_path, capsys):
    net = tmp_path / "net.pt2"
    assert main(["compile", HALF, "--activation", activation, "-q", "-o", str(net)]) == 0
    capsys.readouterr()
    assert main(["show", HALF, "--activation", activation]) == 0
    compiled = capsys.readouterr().out
    assert main(["show", str(net)]) == 0
    assert capsys.readouterr().out == compiled
    assert f"then {activation}" in compiled


def test_table_side_by_side(capsys):
    assert main(["table", HALF]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["a0", "b0", "|", "c1", "c0", "|", "net.c1", "net.c0"]
    assert out[4].split() == ["1", "1", "|", "1", "0", "|", "1", "0", "ok"]
    assert out[-1] == "4 rows, 0 mismatches - all correct"


def test_table_refuses_many_inputs(tmp_path, capsys):
    f = tmp_path / "wide.bool"
    f.write_text("y = " + " & ".join(f"x{i}" for i in range(11)))
    assert main(["table", str(f)]) == 2
    assert capsys.readouterr().err == (f"threshnet: error: {f}: 11 inputs is too many for a truth table "
                                       "(at most 10, 1024 rows); use 'threshnet check' instead\n")


def test_eval_and_stdin():
    r = run("eval", "-", "a0=1", "b0=1", stdin="c1 = a0 & b0; c0 = a0 ^ b0\n")
    assert r.returncode == 0 and r.stdout.strip() == "c1=1 c0=0"
    r = run("eval", HALF, "a0=1", "b0=2")
    assert r.returncode == 2 and r.stderr == "threshnet: error: bad input 'b0=2': a value is 0 or 1\n"


def test_check_exit_codes(tmp_path):
    assert run("check", HALF).returncode == 0
    r = run("check", "-", stdin="y = a & (b\n")
    assert r.returncode == 2
    assert r.stderr.startswith("<stdin>:1:9: error: unclosed parenthesis")
    assert "Traceback" not in r.stderr


def test_errors_never_traceback(tmp_path):
    bad = tmp_path / "bad.bool"
    bad.write_text("input a\ny = a & b\n")
    r = run("compile", str(bad))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.splitlines()[0] == f"{bad}:2:9: error: undefined name 'b' (not an input and never assigned)"
    assert r.stderr.splitlines()[2].strip() == "^"
    r = run("show", str(tmp_path / "missing.bool"))
    assert r.returncode == 2
    assert r.stderr == f"threshnet: error: {tmp_path / 'missing.bool'}: cannot read file: No such file or directory\n"
    bin_ = tmp_path / "bin.bool"
    bin_.write_bytes(b"\xff\xfe\x00")
    r = run("check", str(bin_))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.splitlines()[0] == f"{bin_}:1:1: error: not UTF-8 text (invalid start byte)"


def test_saved_network_loads_with_torch_alone(tmp_path):
    out = tmp_path / "half.pt2"
    r = run("compile", HALF, "-o", str(out))
    assert r.returncode == 0, r.stderr
    code = (  # the file format of docs/api.md ("Network files"); test_network.py runs its reference runner
        "import sys, json, torch\n"
        "sys.modules['threshnet'] = None  # make sure threshnet cannot be imported\n"
        f"saved = torch.load({str(out)!r}, weights_only=True)\n"
        "info, t = json.loads(saved['metadata']), saved['tensors']\n"
        "x = torch.tensor([[0., 0.], [0., 1.], [1., 0.], [1., 1.]])\n"
        "w1, b1 = t['weight'][:4].reshape(2, 2), t['bias'][:2]\n"
        "w2, b2 = t['weight'][4:].reshape(2, 2), t['bias'][2:]\n"
        "y = ((torch.relu(x @ w1.T + b1) @ w2.T + b2) > 0).float()\n"
        "print(info['input_names'], info['output_names'], [l['kind'] for l in info['layers']], y.tolist())\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == ("['a0', 'b0'] ['c1', 'c0'] ['Linear', 'ReLU', 'Linear', 'Step'] "
                                "[[0.0, 0.0], [0.0, 1.0], [0.0, 1.0], [1.0, 0.0]]")
    assert run("check", HALF, "--net", str(out)).returncode == 0


# --- check --prove -------------------------------------------------------------------------------

EXAMPLE_FILES = sorted(str(p) for p in (ROOT / "examples").glob("*.bool"))
ISCAS = ROOT / "benchmarks" / "circuits" / "iscas85" / "bench"


@pytest.mark.parametrize("path", EXAMPLE_FILES + [str(ISCAS / f"{c}.bench")
                                                  for c in ("c432", "c499", "c880", "c1355", "c1908")],
                         ids=lambda p: Path(p).stem)
def test_check_prove_proves(path, capsys):
    require_prover()
    assert main(["check", "--prove", "-q", path, "--timeout", "120"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{path}: proved equivalent in ") and "cadical" in out


def test_check_prove_refutes_notebook_adder():
    require_prover()
    r = run("check", "--prove", "examples/half_adder.bool", "--net", "examples/notebook_adder.py:model")
    assert r.returncode == 1, r.stderr
    assert "REFUTED" in r.stdout
    assert "input:    a0=1 b0=1" in r.stdout and "expected: c1=1 c0=0" in r.stdout
    assert "got:      c1=1 c0=1" in r.stdout
    # Without --prove the same module fails the plain check, with the same counterexample.
    r = run("check", "examples/half_adder.bool", "--net", "examples/notebook_adder.py")
    assert r.returncode == 1 and "input:    a0=1 b0=1" in r.stdout


def test_check_prove_saved_network_and_timeout(tmp_path, capsys):
    require_prover()
    f = str(tmp_path / "ra4.pt2")
    assert main(["compile", "examples/ripple_adder4.bool", "-o", f]) == 0
    capsys.readouterr()
    assert main(["check", "--prove", "examples/ripple_adder4.bool", "--net", f]) == 0
    assert "proved equivalent" in capsys.readouterr().out
    # A spent time budget is neither a proof nor a refutation: exit 3.
    assert main(["check", "--prove", str(ISCAS / "c1908.bench"), "-q", "--timeout", "1e-9"]) == 3
    assert "timeout after" in capsys.readouterr().out


def test_check_net_errors(capsys):
    assert main(["check", HALF, "--net", "examples/notebook_adder.py:nothing"]) == 2
    assert "defines no 'nothing'" in capsys.readouterr().err
    assert main(["check", HALF, "--net", "missing.pt2"]) == 2
    assert capsys.readouterr().err == "threshnet: error: missing.pt2: cannot read file: No such file or directory\n"


def test_check_prove_refuses_a_net_of_non_dyadic_weights(capsys):
    require_prover()
    assert main(["check", HALF, "--net", "examples/notebook_adder.py:AdderNN", "--prove"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("threshnet: error: examples/notebook_adder.py:AdderNN: layer 'fc1'") and "dyadic" in err
