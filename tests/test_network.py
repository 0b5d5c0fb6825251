"""The compiled network as a value: what it accepts, and its file format.

* Inputs: bool, integer and floating tensors are read as the bits ``x > 0.5``,
  so both layouts and every activation agree on any real input (a Hypothesis
  property against the spec's evaluator); non-tensors raise ``TypeError``;
  ``strict=True`` refuses anything but exact 0/1.
* Files: ``load(save(net))`` has the original's tensors bit for bit, in every
  layout, activation and dtype; the file is deterministic, small (tensors
  within twice the parameter bytes) and readable by torch alone, with the
  reference runner of docs/api.md; the first format (a ``torch.export``
  program) still loads.
* Every damaged file (made here by corrupting a saved network) raises
  ``ValueError`` starting with the path; the messages are golden
  (``tests/golden/network/load_errors.txt``, regenerate with
  ``THRESHNET_REGEN_GOLDEN=1``).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import threshnet
from threshnet.network import FORMAT, PROGRAM_FORMAT
from threshnet.testing import specs

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "network" / "load_errors.txt"
REGEN = os.environ.get("THRESHNET_REGEN_GOLDEN") == "1"
HALF = "c1 = a0 & b0; c0 = a0 ^ b0"
#: several outputs, XOR, majority, reconvergence, an inverted output
MIXED = "c1 = a0 & b0; c0 = a0 ^ b0; d = ~(a0 ^ b0) | c1 ^ e; h = a0 ^ b0 ^ e ^ g\n" \
        "k = (a0 & e) | (b0 & g) | (e & g); m = ~((h & k) | d)"
MODES = [("relu", True), ("step", True), ("relu", False)]
LAYOUTS = ["mlp", "sparse"]


def _all_rows(n: int) -> torch.Tensor:
    return torch.tensor(list(itertools.product([0.0, 1.0], repeat=n))).reshape(-1, n)


def _expected(spec: threshnet.Spec, x: torch.Tensor) -> torch.Tensor:
    bits = (x > 0.5).to(torch.uint8).numpy().reshape(math.prod(x.shape[:-1]), len(spec.inputs))
    want = threshnet.evaluate_batch(spec, bits) if len(bits) else np.zeros((0, len(spec.outputs)))
    return torch.tensor(np.asarray(want), dtype=torch.float32).reshape(*x.shape[:-1], len(spec.outputs))


# --- what a network accepts -----------------------------------------------------------------------


_REALS = st.one_of(
    st.sampled_from([0.0, 1.0, -0.0, 0.5, 0.49999997, 0.50000006, -1.0, 2.0, 1e30, -1e30,
                     float("inf"), float("-inf"), float("nan")]),
    st.floats(-3.0, 3.0, width=32),
)


@settings(max_examples=25, deadline=None)
@given(specs(max_inputs=5, max_gates=14, max_assignments=6), st.data())
def test_layouts_and_activations_agree_on_real_inputs(spec, data):
    """Any real input gives the compiled function of ``x > 0.5``, in both layouts and every activation."""
    n = len(spec.inputs)
    rows = data.draw(st.lists(st.lists(_REALS, min_size=n, max_size=n), min_size=1, max_size=6))
    x = torch.tensor(rows, dtype=torch.float32).reshape(len(rows), n)
    want = _expected(spec, x)
    for activation, output_step in MODES:
        for layout in LAYOUTS:
            net = threshnet.compile(spec, activation, output_step=output_step, layout=layout)
            got = net(x)
            assert torch.equal(got, want), (activation, output_step, layout, x, got, want)


def test_bare_layers_differ_between_layouts_beyond_the_noise_radius():
    """Why ``forward`` rounds: the raw layers of the two layouts disagree on real values."""
    spec = threshnet.parse(MIXED)
    x = torch.rand(400, len(spec.inputs), generator=torch.Generator().manual_seed(0)) * 3 - 1
    for activation, output_step in MODES:
        mlp, sparse = (threshnet.compile(spec, activation, output_step=output_step, layout=lay)
                       for lay in LAYOUTS)
        assert not torch.equal(mlp.layers(x), sparse.layers(x))
        assert torch.equal(mlp(x), sparse(x)) and torch.equal(mlp(x), _expected(spec, x))


@settings(max_examples=20, deadline=None)
@given(specs(max_inputs=5, max_gates=14, max_assignments=6), st.data())
def test_bare_layers_exact_within_noise_radius(spec, data):
    """The documented guarantee of the raw layers: noise below ``stats().noise_radius`` changes nothing."""
    n = len(spec.inputs)
    bits = data.draw(st.lists(st.lists(st.sampled_from([0.0, 1.0]), min_size=n, max_size=n),
                              min_size=1, max_size=6))
    x = torch.tensor(bits, dtype=torch.float64).reshape(len(bits), n)
    signs = torch.tensor(data.draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=x.numel(),
                                            max_size=x.numel())), dtype=torch.float64).reshape(x.shape)
    want = _expected(spec, x).double()
    for activation, output_step in MODES:
        for layout in LAYOUTS:
            net = threshnet.compile(spec, activation, output_step=output_step, layout=layout, dtype="float64")
            r = min(net.stats().noise_radius, 1e6)  # inf (an output that reads no input): any finite noise
            assert torch.equal(net.layers(x + signs * (r * 0.999)), want), (activation, output_step, layout, r)


def test_sparse_step_noise_radius_is_sound():
    """Found by the property above: sparse layers after a step layer still read raw input slots, so the radius must count them."""
    text = "output t0\nt0 = (x0 & x1 ^ ~(x0 ^ (x1 ^ x2))) & ~(x2 & ~(x0 & (x1 & x2)))\n"
    net = threshnet.compile(text, "step", layout="sparse", dtype="float64")
    r = net.stats().noise_radius
    x = torch.tensor([[0.0, 1.0, 0.0]], dtype=torch.float64)
    assert r > 0 and net(x).tolist() == [[0.0]]
    assert net.layers(x - r * 0.999).tolist() == [[0.0]]  # today: [[1.0]] with r = 0.25


@pytest.mark.parametrize("dtype", [torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64,
                                   torch.float8_e4m3fn, torch.float8_e5m2, torch.float16, torch.bfloat16,
                                   torch.float32, torch.float64])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_any_bool_integer_or_float_dtype_is_cast(dtype, layout):
    spec = threshnet.parse(MIXED)
    for net_dtype in ("float32", "float64"):
        net = threshnet.compile(spec, layout=layout, dtype=net_dtype)
        x = _all_rows(len(spec.inputs))
        got = net(x.to(dtype).reshape(2, -1, len(spec.inputs)))
        assert got.dtype == net.dtype == getattr(torch, net_dtype)
        assert torch.equal(got.float(), _expected(spec, x).reshape(2, -1, len(spec.outputs)))


@pytest.mark.parametrize("value", [[[1.0, 0.0]], np.array([[1.0, 0.0]]), 1.0, 1, True, None, "10"],
                         ids=["list", "numpy", "float", "int", "bool", "None", "str"])
def test_non_tensors_raise_type_error(value):
    net = threshnet.compile(HALF)
    with pytest.raises(TypeError, match=r"^expected a torch\.Tensor of shape \(\.\.\., 2\) holding 0/1, got "
                                        r"\w+; convert it with torch\.as_tensor\(x\)$"):
        net(value)


def test_complex_tensor_raises_type_error():
    net = threshnet.compile(HALF)
    with pytest.raises(TypeError, match=r"^expected a bool, integer or floating tensor, got dtype torch\.complex64$"):
        net(torch.ones(1, 2, dtype=torch.complex64))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_strict_refuses_all_but_exact_bits(layout):
    net = threshnet.compile(HALF, layout=layout, strict=True)
    for x, shown in [(torch.tensor([[1.0, float("nan")]]), "nan"), (torch.tensor([[float("inf"), 1.0]]), "inf"),
                     (torch.tensor([[float("-inf"), 0.0]]), "-inf"), (torch.tensor([[0.5, 1.0]]), "0.5"),
                     (torch.tensor([[1, 2]]), "2"), (torch.tensor([[-1, 0]], dtype=torch.int8), "-1"),
                     (torch.tensor([[1.0, 1.0000001]], dtype=torch.float64), "1.0000001")]:
        with pytest.raises(ValueError, match=rf"^strict network: inputs must be exactly 0 or 1, "
                                             rf"got {re.escape(shown)}$"):
            net(x)
    rows = _all_rows(2)
    for dtype in (torch.bool, torch.int64, torch.float8_e5m2, torch.float16, torch.float64):
        assert torch.equal(net(rows.to(dtype)), _expected(threshnet.parse(HALF), rows))
    with pytest.raises(ValueError, match=r"got 0\.5$"):
        net(torch.tensor([[0.5, 1.0]]).to(torch.float8_e4m3fn))


def test_wrong_shape_is_value_error_before_strict_check():
    net = threshnet.compile(HALF, strict=True)
    for x in (torch.tensor(0.5), torch.ones(3), torch.full((4, 3), 0.5)):
        with pytest.raises(ValueError, match=r"^expected input of shape \(\.\.\., 2\)"):
            net(x)


def test_empty_batch_and_zero_input_network():
    net = threshnet.compile(HALF)
    assert net(torch.zeros(0, 2)).shape == (0, 2)
    const = threshnet.compile("one = 1; zero = 0")
    assert const(torch.zeros(3, 0, dtype=torch.bool)).tolist() == [[1.0, 0.0]] * 3


# --- saving and loading ---------------------------------------------------------------------------


def _same(a: threshnet.ThreshNet, b: threshnet.ThreshNet) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for k in sa:
        assert sa[k].dtype == sb[k].dtype and torch.equal(sa[k], sb[k]), k
    for attr in ("input_names", "output_names", "neuron_names", "activation", "output_step", "passthroughs",
                 "layout", "dtype"):
        assert getattr(a, attr) == getattr(b, attr), attr
    assert str(a) == str(b)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("activation,output_step", MODES)
def test_round_trip_is_bit_exact(tmp_path, layout, activation, output_step):
    spec = threshnet.parse(MIXED)
    for dtype in ("float32", "float64", "float16", "bfloat16"):
        net = threshnet.compile(spec, activation, output_step=output_step, layout=layout, dtype=dtype)
        path = tmp_path / f"{dtype}.pt2"
        net.save(path)
        back = threshnet.load(path)
        _same(net, back)
        assert back.spec is None and back.strict is False
        x = _all_rows(len(spec.inputs))
        assert torch.equal(back(x), net(x))


@settings(max_examples=15, deadline=None)
@given(specs(max_inputs=6, max_gates=20, max_assignments=8), st.sampled_from(LAYOUTS),
       st.sampled_from(MODES))
def test_round_trip_property(spec, layout, mode):
    net = threshnet.compile(spec, mode[0], output_step=mode[1], layout=layout)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "net.pt2"
        net.save(path)
        _same(net, threshnet.load(path))


def test_file_is_deterministic_and_small(tmp_path):
    spec = threshnet.read(ROOT / "benchmarks" / "circuits" / "iscas85" / "bench" / "c880.bench")
    a = threshnet.compile(spec, layout="sparse")
    b = threshnet.compile(spec, layout="sparse")
    a.save(tmp_path / "a.pt2")
    b.save(tmp_path / "b.pt2")
    data = (tmp_path / "a.pt2").read_bytes()
    assert data == (tmp_path / "b.pt2").read_bytes()
    saved = torch.load(tmp_path / "a.pt2", weights_only=True)
    assert sorted(saved) == ["format", "metadata", "tensors"] and saved["format"] == FORMAT
    assert sorted(saved["tensors"]) == ["bias", "count", "index", "slot", "weight"]
    param_bytes = sum(p.numel() * p.element_size() for p in a.parameters())
    tensor_bytes = sum(t.numel() * t.element_size() for t in saved["tensors"].values())
    assert tensor_bytes <= 2 * param_bytes
    assert len(data) <= 2 * param_bytes + len(saved["metadata"]) + 4096


def test_first_format_still_loads(tmp_path):
    for layout in LAYOUTS:
        net = threshnet.compile(MIXED, layout=layout)
        path = tmp_path / f"{layout}.pt2"
        net.save(path, program=True)
        with zipfile.ZipFile(path) as z:
            meta = json.loads(z.read(next(n for n in z.namelist() if n.endswith("extra/threshnet.json"))))
        assert meta["format"] == PROGRAM_FORMAT
        _same(net, threshnet.load(path))


def test_program_file_of_the_old_gather_layout_loads():
    """A sparse program file written by threshnet 452e99b, whose gather layers kept each bucket's weight and
    bias in lists (state keys ``1.weights.0``, now ``1.w0``)."""
    spec = threshnet.parse("y = a & b | c\nz = a ^ b ^ c")
    net = threshnet.load(ROOT / "tests" / "golden" / "network" / "sparse_program_452e99b.pt2")
    assert net.layout == "sparse" and "1.w0" in net.layers.state_dict()
    assert threshnet.check(net, spec).ok


def _runner_source() -> str:
    text = (ROOT / "docs" / "api.md").read_text()
    head = re.search(r"^### Network files$", text, re.M)
    assert head, "docs/api.md has no '### Network files' section"
    block = re.search(r"^```python\n(.*?)^```\s*$", text[head.end():], re.M | re.S)
    assert block and "def run(" in block.group(1)
    return block.group(1)


def test_documented_runner_with_torch_alone(tmp_path):
    """The reference runner of docs/api.md, with threshnet unimportable, matches every mode and dtype."""
    cases = []
    x = _all_rows(len(threshnet.parse(MIXED).inputs))
    for i, (layout, (activation, output_step), dtype) in enumerate(
            itertools.product(LAYOUTS, MODES, ("float32", "float16", "float64"))):
        net = threshnet.compile(MIXED, activation, output_step=output_step, layout=layout, dtype=dtype)
        path = tmp_path / f"n{i}.pt2"
        net.save(path)
        cases.append((str(path), net(x).tolist(), str(net.dtype)))
    torch.save(x, tmp_path / "x.pt")
    code = (
        "import json, sys\n"
        "sys.modules['threshnet'] = None  # threshnet cannot be imported\n"
        + _runner_source()
        + f"x = torch.load({str(tmp_path / 'x.pt')!r}, weights_only=True)\n"
        f"for path, want, dtype in json.loads({json.dumps(cases)!r}):\n"
        "    y = run(path, x)\n"
        "    assert str(y.dtype) == dtype and y.tolist() == want, path\n"
        "print('ok', len(json.loads(" + repr(json.dumps(cases)) + ")))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300,
                       cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == f"ok {len(cases)}"


def test_save_errors_are_os_errors(tmp_path):
    net = threshnet.compile(HALF)
    with pytest.raises(FileNotFoundError):
        net.save(tmp_path / "missing" / "x.pt2")
    with pytest.raises(IsADirectoryError):
        net.save(tmp_path)
    if Path("/dev/full").exists():
        with pytest.raises(OSError):
            net.save("/dev/full")


def test_load_of_missing_file_or_directory_is_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        threshnet.load(tmp_path / "missing.pt2")
    with pytest.raises(IsADirectoryError):
        threshnet.load(tmp_path)


# --- damaged files --------------------------------------------------------------------------------


def _rewrite_zip(src: Path, dst: Path, member_suffix: str, data: bytes) -> None:
    """Copy a zip archive, replacing the member whose name ends with ``member_suffix``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            zout.writestr(info, data if info.filename.endswith(member_suffix) else zin.read(info))


def _flip_byte_in(path: Path, member_suffix: str) -> None:
    """Flip one byte of a member's data in place (the archive stays a valid zip, the checksum fails)."""
    with zipfile.ZipFile(path) as z:
        info = next(i for i in z.infolist() if i.filename.endswith(member_suffix))
    raw = bytearray(path.read_bytes())
    name_len, extra_len = int.from_bytes(raw[info.header_offset + 26:info.header_offset + 28], "little"), \
        int.from_bytes(raw[info.header_offset + 28:info.header_offset + 30], "little")
    at = info.header_offset + 30 + name_len + extra_len + info.file_size // 2
    raw[at] ^= 0xFF
    path.write_bytes(bytes(raw))


def _resave(src: Path, dst: Path, change) -> None:
    obj = torch.load(src, weights_only=True)
    change(obj)
    with open(dst, "wb") as f:
        torch.save(obj, f)


def _set_meta(key: str, value: object):
    def change(obj: dict) -> None:
        meta = json.loads(obj["metadata"])
        if value is _DELETE:
            del meta[key]
        else:
            meta[key] = value
        obj["metadata"] = json.dumps(meta)
    return change


_DELETE = object()


def _damaged_files(tmp_path: Path) -> dict[str, Path]:
    """name -> a damaged copy of a saved sparse (and, for the first format, mlp) network."""
    good = tmp_path / "good.pt2"
    threshnet.compile(MIXED, layout="sparse").save(good)
    program = tmp_path / "program.pt2"
    threshnet.compile(HALF).save(program, program=True)
    data = good.read_bytes()
    out: dict[str, Path] = {}

    def file(name: str) -> Path:
        out[name] = tmp_path / f"{name}.pt2"
        return out[name]

    file("empty").write_bytes(b"")
    file("truncated").write_bytes(data[: len(data) // 2])
    file("truncated_program").write_bytes(program.read_bytes()[:-100])
    file("text").write_text("c1 = a0 & b0\n")
    with zipfile.ZipFile(file("other_zip"), "w") as z:
        z.writestr("readme.txt", "hello")
    path = file("checksum")
    path.write_bytes(data)
    _flip_byte_in(path, "data/0")
    torch.save({"weights": torch.ones(3)}, file("other_torch_file"))
    torch.save(torch.nn.Linear(2, 2), file("pickled_module"))  # weights_only refuses a module
    _resave(good, file("wrong_marker"), lambda o: o.update(format="something-else/1"))
    _resave(good, file("newer_format"), lambda o: o.update(format="threshnet-network/9"))
    _resave(good, file("bad_json"), lambda o: o.update(metadata='{"format": "threshnet-network/2", '))
    _resave(good, file("metadata_not_text"), lambda o: o.update(metadata=[1, 2]))
    _resave(good, file("metadata_not_object"), lambda o: o.update(metadata="[1, 2]"))
    _resave(good, file("missing_field"), _set_meta("output_names", _DELETE))
    _resave(good, file("bad_dtype"), _set_meta("dtype", "float8"))
    _resave(good, file("bad_layer_kind"), _set_meta("layers", [{"kind": "Conv2d"}]))
    _resave(good, file("short_weight"), lambda o: o["tensors"].update(weight=o["tensors"]["weight"][:-1]))
    _resave(good, file("long_bias"), lambda o: o["tensors"].update(bias=torch.cat([o["tensors"]["bias"],
                                                                                    torch.zeros(1)])))
    _resave(good, file("missing_tensor"), lambda o: o["tensors"].pop("count"))
    _resave(good, file("index_out_of_range"),
            lambda o: o["tensors"].update(index=o["tensors"]["index"].long() + 1000))
    _resave(good, file("count_too_big"),
            lambda o: o["tensors"].update(count=o["tensors"]["count"].long() * 0 + 99))
    _rewrite_zip(program, file("program_bad_json"), "extra/threshnet.json", b'{"format": ')
    _rewrite_zip(program, file("program_not_utf8"), "extra/threshnet.json", b"\xff\xfe")
    _rewrite_zip(program, file("program_wrong_marker"), "extra/threshnet.json", b'{"format": "x"}')
    meta = json.loads(zipfile.ZipFile(program).read(
        next(n for n in zipfile.ZipFile(program).namelist() if n.endswith("extra/threshnet.json"))))
    del meta["input_names"]
    _rewrite_zip(program, file("program_missing_field"), "extra/threshnet.json", json.dumps(meta).encode())
    return out


def test_damaged_files_raise_value_error_naming_the_path(tmp_path):
    lines = []
    for name, path in _damaged_files(tmp_path).items():
        with pytest.raises(ValueError) as err:
            threshnet.load(path)
        message = str(err.value)
        assert message.startswith(f"{path}: "), message
        assert "\n" not in message and "Traceback" not in message
        assert err.value.__cause__ is None
        lines.append(f"{name}: {message.replace(str(path), 'FILE')}")
    text = "\n".join(lines) + "\n"
    if REGEN:
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()
