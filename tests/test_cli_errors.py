"""Every error path of the command line: one message, a documented exit code, no traceback.

Exit codes (docs/cli.md): 0 success, 1 mismatch or refuted, 2 bad input or usage, 3 proof
timeout.  Each case of ``CASES`` runs ``threshnet`` in-process and compares stderr with
``tests/golden/cli/NAME.txt`` (``{tmp}`` stands for the test's temporary directory);
``THRESHNET_REGEN_GOLDEN=1`` rewrites the golden files after a deliberate change.  A few
cases that once killed the process (``-o /dev/full`` aborted with SIGABRT) or need a real
stdin run in a process of their own (forked from a warm server: tests/cliproc.py).

The input matrix at the end feeds the same bytes through every way text comes in (CLI
file, CLI stdin, ``threshnet.read``, ``read_text``, ``parse``/``compile``) and demands the
same spec or the same error from each.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

import cliproc

import threshnet
from threshnet.cli import main
from threshnet.frontends import read_text
from conftest import require_prover

ROOT = Path(__file__).resolve().parent.parent
HALF = "examples/half_adder.bool"
I2F = "benchmarks/circuits/epfl/int2float.aig"
GOLDEN = Path(__file__).resolve().parent / "golden" / "cli"
REGEN = os.environ.get("THRESHNET_REGEN_GOLDEN") == "1"


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """A directory of broken inputs: damaged saved networks and bad ``--net`` modules."""
    d = tmp_path_factory.mktemp("cli")
    good = d / "good.pt2"
    threshnet.compile((ROOT / HALF).read_text()).save(good)
    data = good.read_bytes()
    (d / "truncated.pt2").write_bytes(data[: len(data) // 2])
    (d / "empty.pt2").write_bytes(b"")
    (d / "notzip.pt2").write_text("hello\n")
    (d / "notes.xyz").write_text("hello\n")
    threshnet.compile((ROOT / HALF).read_text(), layout="sparse").save(d / "sparse.pt2")
    program = d / "program.pt2"  # the torch.export format, which load() also reads
    threshnet.compile((ROOT / HALF).read_text()).save(program, program=True)
    torch.save({"format": "threshnet-network/2", "metadata": '{"format": bad', "tensors": {}}, d / "badmeta.pt")
    with zipfile.ZipFile(program) as src:
        items = [(i, src.read(i.filename)) for i in src.infolist()]
    with zipfile.ZipFile(d / "badjson.pt2", "w") as dst:
        for info, blob in items:
            dst.writestr(info, b'{"format": bad' if info.filename.endswith("threshnet.json") else blob)
    with zipfile.ZipFile(d / "noweights.pt2", "w") as dst:
        for info, blob in items:
            if "weight_0" not in info.filename:
                dst.writestr(info, blob)
    (d / "syntax.py").write_text("import torch\ndef model(:\n")
    (d / "raises.py").write_text("def model():\n    raise RuntimeError('boom')\n")
    (d / "args.py").write_text("import torch.nn as nn\ndef model(n):\n    return nn.Linear(n, 2)\n")
    (d / "tuple.py").write_text("def model():\n    return (1, 2)\n")
    (d / "scalar.py").write_text("model = 3\n")
    (d / "import_fails.py").write_text("x = 1 / 0\n")
    (d / "wrong_width.py").write_text("import torch.nn as nn\nmodel = nn.Linear(3, 2)\n")
    (d / "wide.bool").write_text("y = " + " & ".join(f"x{i}" for i in range(11)) + "\n")
    (d / "a_dir").mkdir()
    return d


def cli(argv: list[str], capsys, monkeypatch, stdin: bytes = b"") -> tuple[int, str, str]:
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    try:
        code = main(argv)
    except SystemExit as e:  # argparse usage errors
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


#: name -> (command line, exit code).  ``{tmp}`` is the fixture directory.
CASES: dict[str, tuple[list[str], int]] = {
    # output files
    "compile_missing_dir": (["compile", "-q", HALF, "-o", "{tmp}/missing_dir/x.pt2"], 2),
    "compile_to_directory": (["compile", "-q", HALF, "-o", "{tmp}/a_dir"], 2),
    "draw_unknown_extension": (["draw", "-q", HALF, "-o", "{tmp}/x.txt"], 2),
    "draw_missing_dir": (["draw", "-q", HALF, "-o", "{tmp}/missing_dir/x.svg"], 2),
    "export_missing_dir": (["export", "-q", HALF, "-o", "{tmp}/missing_dir/x.onnx"], 2),
    "convert_unknown_extension": (["convert", HALF, "{tmp}/x.txt"], 2),
    "convert_to_directory": (["convert", HALF, "{tmp}/a_dir"], 2),
    # saved networks
    "net_missing": (["check", HALF, "--net", "{tmp}/missing.pt2"], 2),
    "net_truncated": (["check", HALF, "--net", "{tmp}/truncated.pt2"], 2),
    "net_empty": (["check", HALF, "--net", "{tmp}/empty.pt2"], 2),
    "net_not_zip": (["check", HALF, "--net", "{tmp}/notzip.pt2"], 2),
    "net_bad_json": (["check", HALF, "--net", "{tmp}/badjson.pt2"], 2),
    "net_missing_tensor": (["check", HALF, "--net", "{tmp}/noweights.pt2"], 2),
    "net_bad_json_archive": (["check", HALF, "--net", "{tmp}/badmeta.pt"], 2),
    # Python modules
    "net_py_syntax_error": (["check", HALF, "--net", "{tmp}/syntax.py:model"], 2),
    "net_py_builder_raises": (["check", HALF, "--net", "{tmp}/raises.py:model"], 2),
    "net_py_builder_needs_arguments": (["check", HALF, "--net", "{tmp}/args.py:model"], 2),
    "net_py_returns_tuple": (["check", HALF, "--net", "{tmp}/tuple.py:model"], 2),
    "net_py_scalar": (["check", HALF, "--net", "{tmp}/scalar.py"], 2),
    "net_py_import_fails": (["check", HALF, "--net", "{tmp}/import_fails.py"], 2),
    "net_py_no_name": (["check", HALF, "--net", "{tmp}/scalar.py:other"], 2),
    "net_py_wrong_width": (["check", HALF, "--net", "{tmp}/wrong_width.py"], 2),
    # spec input
    "spec_missing": (["compile", "{tmp}/missing.bool"], 2),
    "spec_directory": (["compile", "{tmp}/a_dir"], 2),
    "spec_unknown_extension": (["compile", "{tmp}/notes.xyz"], 2),
    "spec_is_a_saved_network": (["compile", "{tmp}/good.pt2"], 2),
    "table_of_a_saved_network": (["table", "{tmp}/good.pt2"], 2),
    "check_spec_is_a_saved_network": (["check", "{tmp}/good.pt2"], 2),
    "eval_spec_is_a_saved_network": (["eval", "{tmp}/good.pt2", "a0=1", "b0=1"], 2),
    "show_saved_not_zip": (["show", "{tmp}/notzip.pt2"], 2),
    "show_saved_sparse": (["show", "{tmp}/sparse.pt2"], 2),
    "check_spec_and_net_both_saved": (["check", "{tmp}/good.pt2", "--net", "{tmp}/good.pt2"], 2),
    "explain_spec_is_a_saved_network": (["explain", "{tmp}/good.pt2", "--spec", "{tmp}/good.pt2"], 2),
    "dump_ir_to_a_file": (["compile", HALF, "-q", "--dump-ir", "{tmp}/good.pt2"], 2),
    "spec_top_not_verilog": (["compile", HALF, "--top", "main"], 2),
    "table_too_many_inputs": (["table", "{tmp}/wide.bool"], 2),
    # eval values
    "eval_repeated_name": (["eval", HALF, "a0=1", "a0=0", "b0=1"], 2),
    "eval_value_not_bit": (["eval", HALF, "a0=2", "b0=1"], 2),
    "eval_not_an_assignment": (["eval", HALF, "a0"], 2),
    "eval_unknown_name": (["eval", HALF, "a0=1", "b0=1", "c=1"], 2),
    "eval_missing_name": (["eval", HALF, "a0=1"], 2),
    # eval words (a netlist with a vector input B[11])
    "eval_word_too_wide": (["eval", I2F, "B=2048"], 2),
    "eval_word_negative": (["eval", I2F, "B=-1"], 2),
    "eval_word_not_a_number": (["eval", I2F, "B=0x1g"], 2),
    "eval_word_and_its_bit": (["eval", I2F, "B=1", "B[0]=1"], 2),
    "eval_word_missing_bits": (["eval", I2F, "B[0]=1", "B[1]=0"], 2),
    "eval_word_unknown": (["eval", I2F, "b=1"], 2),
    "eval_net_disagrees_shape": (["eval", I2F, "B=1", "--net", "{tmp}/good.pt2"], 2),
}

#: Usage errors: argparse prints the usage, then this last line; exit 2.
USAGE: dict[str, tuple[list[str], str]] = {
    "samples_negative": (["check", HALF, "--samples", "-5"],
                         "threshnet check: error: argument --samples: must be at least 1, got -5"),
    "samples_zero": (["check", HALF, "--samples", "0"],
                     "threshnet check: error: argument --samples: must be at least 1, got 0"),
    "samples_not_int": (["check", HALF, "--samples", "many"],
                        "threshnet check: error: argument --samples: expected a whole number, got 'many'"),
    "seed_negative": (["check", HALF, "--seed", "-1"],
                      "threshnet check: error: argument --seed: must be 0 or more, got -1"),
    "timeout_negative": (["check", HALF, "--prove", "--timeout", "-1"],
                         "threshnet check: error: argument --timeout: must be a positive number of seconds, "
                         "got '-1'"),
    "timeout_zero": (["check", HALF, "--prove", "--timeout", "0"],
                     "threshnet check: error: argument --timeout: must be a positive number of seconds, got '0'"),
    "timeout_nan": (["check", HALF, "--prove", "--timeout", "nan"],
                    "threshnet check: error: argument --timeout: must be a positive number of seconds, "
                    "got 'nan'"),
    "method_without_prove": (["check", HALF, "--method", "nodes"], "threshnet check: error: --method needs --prove"),
    "timeout_without_prove": (["check", HALF, "--timeout", "5"], "threshnet check: error: --timeout needs --prove"),
    "samples_with_prove": (["check", HALF, "--prove", "--samples", "5"],
                           "threshnet check: error: --samples is for sampled checks; --prove covers every input"),
    "seed_with_prove": (["check", HALF, "--prove", "--seed", "5"],
                        "threshnet check: error: --seed is for sampled checks; --prove covers every input"),
    "dtype_with_net": (["check", HALF, "--net", "x.pt2", "--dtype", "float64"],
                       "threshnet check: error: --dtype has no effect with --net (the network is loaded, "
                       "not compiled)"),
    "activation_with_saved_show": (["show", "x.pt2", "--activation", "step"],
                                   "threshnet show: error: --activation has no effect on a saved network (it is "
                                   "loaded, not compiled)"),
    "gates_with_saved_show": (["show", "x.pt2", "--gates"],
                              "threshnet show: error: --gates has no effect on a saved network (it is loaded, "
                              "not compiled)"),
    "top_with_saved_show": (["show", "x.pt2", "--top", "main"],
                            "threshnet show: error: --top has no effect on a saved network (it is loaded, "
                            "not compiled)"),
    "layout_with_net": (["check", HALF, "--net", "x.pt2", "--layout", "mlp"],
                        "threshnet check: error: --layout has no effect with --net (the network is loaded, "
                        "not compiled)"),
    "no_output_step_with_step": (["compile", HALF, "--activation", "step", "--no-output-step"],
                                 "threshnet compile: error: --no-output-step needs --activation relu "
                                 "(a step network ends in a step)"),
    "export_output_step_with_step": (["export", HALF, "-o", "x.onnx", "--activation", "step", "--output-step"],
                                     "threshnet export: error: --output-step is for --activation relu "
                                     "(a step network always ends in a step)"),
    "export_output_step_both": (["export", HALF, "-o", "x.onnx", "--output-step", "--no-output-step"],
                                "threshnet export: error: --output-step and --no-output-step contradict each other"),
    "unknown_activation": (["compile", HALF, "--activation", "tanh"],
                           "threshnet compile: error: argument --activation: invalid choice: 'tanh' "
                           "(choose from 'relu', 'step')"),
}


def test_every_golden_file_has_a_case():
    assert sorted(p.stem for p in GOLDEN.glob("*.txt")) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_cli_error(name, files, capsys, monkeypatch):
    argv, want_code = CASES[name]
    code, out, err = cli([a.replace("{tmp}", str(files)) for a in argv], capsys, monkeypatch)
    assert code == want_code, err
    assert "Traceback" not in err
    got = err.replace(str(files), "{tmp}")
    assert got.startswith("threshnet: error: ") and got.count("\n") == 1, got
    path = GOLDEN / f"{name}.txt"
    if REGEN:
        path.write_text(got, encoding="utf-8")
    assert got == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(USAGE))
def test_usage_error(name, capsys, monkeypatch):
    argv, last = USAGE[name]
    code, out, err = cli(argv, capsys, monkeypatch)
    assert code == 2 and out == ""
    assert err.startswith("usage: threshnet ") and err.splitlines()[-1] == last


def test_nothing_is_written_on_error(files, capsys, monkeypatch):
    """A refused option or a bad spec leaves no output file behind."""
    out = files / "never.pt2"
    code, _, _ = cli(["compile", "-", "-o", str(out)], capsys, monkeypatch, stdin=b"y = a &\n")
    assert code == 2 and not out.exists()
    assert not [p for p in files.iterdir() if p.name.startswith(".never")]


def test_output_replaces_a_file_atomically(files, capsys, monkeypatch):
    out = files / "net.pt2"
    out.write_text("old")
    code, stdout, _ = cli(["compile", "-q", HALF, "-o", str(out)], capsys, monkeypatch)
    assert code == 0 and stdout.endswith(f"saved to {out}\n")
    assert threshnet.load(out).input_names == ("a0", "b0")


def test_located_spec_error_exits_2(capsys, monkeypatch):
    code, out, err = cli(["check", "-"], capsys, monkeypatch, stdin=b"y = a & (b\n")
    assert code == 2 and out == ""
    assert err == ("<stdin>:1:9: error: unclosed parenthesis: expected ')' before end of input\n"
                   "    y = a & (b\n"
                   "            ^\n")


def test_mismatch_exits_1_and_refuted_exits_1(capsys, monkeypatch):
    code, out, _ = cli(["check", HALF, "--net", "examples/notebook_adder.py:model"], capsys, monkeypatch)
    assert code == 1 and "MISMATCH" in out
    require_prover()
    code, out, _ = cli(["check", "--prove", HALF, "--net", "examples/notebook_adder.py:model"], capsys, monkeypatch)
    assert code == 1 and "REFUTED" in out


def test_proof_timeout_exits_3(capsys, monkeypatch):
    require_prover()
    c1908 = "benchmarks/circuits/iscas85/bench/c1908.bench"
    code, out, _ = cli(["check", "--prove", "-q", c1908, "--timeout", "1e-9"], capsys, monkeypatch)
    assert code == 3 and "timeout after" in out


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """``python -m threshnet ARGS`` as a process of its own, its output as bytes."""
    return cliproc.run(list(args), stdin=stdin, cwd=ROOT, timeout=300, text=False)


def test_binary_aiger_on_stdin(tmp_path):
    """Stdin is read as bytes: binary AIGER works with --format aig (it was a UnicodeDecodeError)."""
    aig = tmp_path / "half.aig"
    threshnet.write(threshnet.read(ROOT / HALF), aig)
    r = run("check", "--format", "aig", "-", stdin=aig.read_bytes())
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == "<stdin>: ok: 4 inputs checked (all)\n"
    # Binary AIGER without --format is refused at the first NUL or bad byte, not with a traceback.
    r = run("eval", "-", "a=1", stdin=aig.read_bytes())
    assert r.returncode == 2 and b"Traceback" not in r.stderr
    assert r.stderr.decode().startswith("<stdin>:")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_write_to_a_full_device():
    """``-o /dev/full`` aborted the process (SIGABRT, exit 134) inside torch's writer."""
    r = run("compile", "-q", HALF, "-o", "/dev/full")
    assert r.returncode == 2, r.stderr
    assert r.stderr.decode() == "threshnet: error: cannot write '/dev/full': No space left on device\n"
    r = run("convert", HALF, "/dev/full", "--to", "blif")
    assert r.returncode == 2
    assert r.stderr.decode() == "threshnet: error: cannot write '/dev/full': No space left on device\n"


# --- one input loader: the same bytes give the same answer on every path --------------------------

VARIANTS: dict[str, bytes] = {
    "plain": b"y = a & b\nz = a ^ b\n",
    "bom": b"\xef\xbb\xbfy = a & b\nz = a ^ b\n",
    "crlf": b"y = a & b\r\nz = a ^ b\r\n",
    "lone_cr_whitespace": b"y = a &\rb\nz = a ^ b\n",
    "lone_cr_not_a_line_end": b"y = a & b\rz = a ^ b\n",
    "invalid_utf8": b"y = a & b\nz = a ^ \xff b\n",
    "invalid_utf8_continuation": b"y = a & b\nz = \xc3( a\n",
    "nul": b"y = a & b\nz = a\x00 ^ b\n",
    "bom_and_crlf_error": b"\xef\xbb\xbfy = a & b\r\nz = a ^\r\n",
}


def _api(path: str, data: bytes, tmp_path: Path) -> str:
    f = tmp_path / "in.bool"
    f.write_bytes(data)
    try:
        if path == "read":
            spec = threshnet.read(f)
        elif path == "read_text":
            spec = read_text(data, "bool", filename=str(f))
        elif path == "parse":
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                pytest.skip("parse takes str; invalid UTF-8 cannot be a str")
            spec = threshnet.parse(text, str(f))
        elif path == "compile":
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                pytest.skip("compile takes str; invalid UTF-8 cannot be a str")
            spec = threshnet.compile(text).spec
        else:
            raise AssertionError(path)
    except threshnet.SpecError as e:
        return str(e).replace(str(f), "F").replace("<spec>", "F") + "\n"
    return " ".join(f"{k}={v}" for k, v in threshnet.evaluate(spec, {"a": 1, "b": 1}).items()) + "\n"


def _cli(path: str, data: bytes, tmp_path: Path, capsys, monkeypatch) -> str:
    f = tmp_path / "in.bool"
    f.write_bytes(data)
    if path == "cli_file":
        code, out, err = cli(["eval", str(f), "a=1", "b=1"], capsys, monkeypatch)
        return (out or err).replace(str(f), "F")
    code, out, err = cli(["eval", "-", "a=1", "b=1"], capsys, monkeypatch, stdin=data)
    return (out or err).replace("<stdin>", "F")


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("path", ["cli_file", "cli_stdin", "read", "read_text", "parse", "compile"])
def test_every_input_path_agrees(variant, path, tmp_path, capsys, monkeypatch):
    data = VARIANTS[variant]
    want = _api("read", data, tmp_path)
    if path.startswith("cli"):
        got = _cli(path, data, tmp_path, capsys, monkeypatch)
    else:
        got = _api(path, data, tmp_path)
    assert got == want
    assert got == EXPECTED[variant]


#: What every path gives (F is the file name).
EXPECTED: dict[str, str] = {
    "plain": "y=1 z=0\n",
    "bom": "y=1 z=0\n",
    "crlf": "y=1 z=0\n",
    "lone_cr_whitespace": "y=1 z=0\n",
    "lone_cr_not_a_line_end": (
        "F:1:11: error: unexpected name 'z'; expected ';', an operator, end of input or end of line\n"
        "    y = a & b?z = a ^ b\n"  # an unprintable character is shown as '?' (a raw CR would move the cursor)
        "              ^\n"),
    "invalid_utf8": ("F:2:9: error: not UTF-8 text (invalid start byte)\n"
                     "    z = a ^ \ufffd b\n"
                     "            ^\n"),
    "invalid_utf8_continuation": ("F:2:5: error: not UTF-8 text (invalid continuation byte)\n"
                                  "    z = \ufffd( a\n"
                                  "        ^\n"),
    "nul": ("F:2:6: error: NUL character: this is not a text file\n"
            "    z = a? ^ b\n"
            "         ^\n"),
    "bom_and_crlf_error": ("F:2:8: error: unexpected end of line; expected '(', '{', '~' or '!', a name or a number\n"
                           "    z = a ^\n"
                           "           ^\n"),
}


@pytest.mark.parametrize("fmt,data,want", [
    ("blif", b"\xef\xbb\xbf.model m\r\n.inputs a b\r\n.outputs y\r\n.names a b y\r\n11 1\r\n.end\r\n", "y=1\n"),
    ("bench", b"\xef\xbb\xbfINPUT(a)\r\nINPUT(b)\r\nOUTPUT(y)\r\ny = AND(a, b)\r\n", "y=1\n"),
    ("blif", b".model m\n.inputs a b\n.outputs y\n.names a b y\n11 \xff\n.end\n",
     "F:5:4: error: not UTF-8 text (invalid start byte)\n    11 \ufffd\n       ^\n"),
])
def test_netlists_decode_the_same_way(fmt, data, want, tmp_path, capsys, monkeypatch):
    f = tmp_path / f"in.{fmt}"
    f.write_bytes(data)
    code, out, err = cli(["eval", str(f), "a=1", "b=1"], capsys, monkeypatch)
    assert (out or err).replace(str(f), "F") == want
    code, out, err = cli(["eval", "--format", fmt, "-", "a=1", "b=1"], capsys, monkeypatch, stdin=data)
    assert (out or err).replace("<stdin>", "F") == want
