"""Golden dumps of every stage for a few small examples, in both layouts.

``tests/golden/ir/NAME/LAYOUT/`` holds exactly what ``ir.write_dumps`` writes
for the default compile (relu with an output step): ``01-spec.txt``,
``02-boolean.txt``, ``03-mapped.txt``, ``04-threshold.txt``,
``05-layered.txt`` and ``06-dense.txt`` or ``06-sparse.txt``; plus the plans
of the other activation modes (``06-dense.step.txt``,
``06-dense.relu-linear.txt``, ``06-sparse.step.txt``).  The activation does
not change stages 1-5, which the test also asserts.

Regenerate with ``THRESHNET_UPDATE_GOLDEN=1`` after a deliberate change and
review the diff: it shows exactly what the compiler now does differently.
The half adder's dumps are also written out below, in the test itself.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from threshnet.compiler.compiling import compile_stages
from threshnet.compiler.ir import dump, dump_all, write_dumps

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "ir"
UPDATE = os.environ.get("THRESHNET_UPDATE_GOLDEN") == "1" or os.environ.get("THRESHNET_REGEN_GOLDEN") == "1"
EXAMPLES = ["half_adder", "full_adder", "mux4"]
LAYOUTS = ["mlp", "sparse"]
#: Other activation modes per layout: (activation, output_step, file suffix).
EXTRA_MODES = {"mlp": [("step", True, "step"), ("relu", False, "relu-linear")], "sparse": [("step", True, "step")]}


def _source(name: str) -> str:
    return (ROOT / "examples" / f"{name}.bool").read_text(encoding="utf-8")


def golden_files(name: str, layout: str) -> dict[str, str]:
    """File name -> text of every golden dump of one example in one layout."""
    text = _source(name)
    c = compile_stages(text, layout=layout, verify=True)
    stages = dump_all(c)
    files = {f"{n:02d}-{stage}.txt": t for n, (stage, t) in enumerate(stages.items(), 1)}
    plans = "dense" if layout == "mlp" else "sparse"
    for activation, output_step, suffix in EXTRA_MODES[layout]:
        m = compile_stages(text, activation, output_step=output_step, layout=layout, verify=True)
        other = dump_all(m)
        for stage in ("spec", "boolean", "mapped", "threshold", "layered"):
            assert other[stage] == stages[stage], f"{activation}/{output_step} changed stage {stage}"
        files[f"06-{plans}.{suffix}.txt"] = other[plans]
    return files


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", EXAMPLES)
def test_ir_golden(name: str, layout: str) -> None:
    folder = GOLDEN / name / layout
    files = golden_files(name, layout)
    if UPDATE:
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.txt"):
            if stale.name not in files:
                stale.unlink()
        for fname, got in files.items():
            (folder / fname).write_text(got, encoding="utf-8", newline="\n")
    for fname, got in files.items():
        path = folder / fname
        assert path.exists(), f"missing {path}; run with THRESHNET_UPDATE_GOLDEN=1"
        assert got == path.read_text(encoding="utf-8"), \
            f"{name}/{layout}/{fname} changed (THRESHNET_UPDATE_GOLDEN=1 rewrites it)"
    assert {p.name for p in folder.glob("*")} == set(files), f"stray files in {folder}"


def test_no_stray_golden_files() -> None:
    expected = {GOLDEN / n / layout for n in EXAMPLES for layout in LAYOUTS}
    found = {p.parent for p in GOLDEN.rglob("*.txt")}
    assert found <= expected, f"golden dumps of no test: {sorted(map(str, found - expected))}"
    assert not list(GOLDEN.glob("*.txt")), "old flat golden files are left in tests/golden/ir"


def test_write_dumps_writes_every_stage(tmp_path: Path) -> None:
    c = compile_stages(_source("full_adder"), layout="sparse")
    paths = write_dumps(c, tmp_path / "new" / "dir")
    assert [p.name for p in paths] == ["01-spec.txt", "02-boolean.txt", "03-mapped.txt", "04-threshold.txt",
                                       "05-layered.txt", "06-sparse.txt"]
    for p, text in zip(paths, dump_all(c).values()):
        assert p.read_text(encoding="utf-8") == text


def test_dumps_are_deterministic() -> None:
    a = dump_all(compile_stages(_source("mux4"), layout="mlp"))
    b = dump_all(compile_stages(_source("mux4"), layout="mlp"))
    assert a == b


def _text(s: str) -> str:
    return textwrap.dedent(s).lstrip("\n")


HALF_ADDER = "c1 = a0 & b0\nc0 = a0 ^ b0\n"


def test_half_adder_every_stage_mlp() -> None:
    """The half adder, stage by stage, as the dense layout compiles it."""
    c = compile_stages(HALF_ADDER, layout="mlp", verify=True)
    assert dump(c.spec) == _text("""
        input a0, b0
        output c1, c0
        c1 = a0 & b0
        c0 = a0 ^ b0
        """)
    boolean = _text("""
        0 = input a0
        1 = input b0
        2 = and(0, 1)  # c1
        3 = xor(0, 1)  # c0
        output c1 = 2
        output c0 = 3
        """)
    assert dump(c.bool_graph, "boolean") == boolean
    assert dump(c.mapped_graph, "mapped") == boolean  # nothing to merge
    assert dump_all(c)["threshold"] == _text("""
        0 = input a0
        1 = input b0
        2 = [+1*0 +1*1 >= 2]  and c1
        3 = [+1*0 +1*1 >= 1]  or c0.or
        4 = [-1*2 +1*3 >= 1]  xor c0
        output c1 = 2
        output c0 = 4
        xor 4 ladder: operands 0 1; rungs 3 2
        map 0 -> 0
        map 1 -> 1
        map 2 -> 2
        map 3 -> 4
        """)
    assert dump(c.threshold_graph) == _text("""
        depth 2
        L0 0 = input a0
        L0 1 = input b0
        L1 2 = [+1*0 +1*1 >= 2]  and c1
        L1 3 = [+1*0 +1*1 >= 1]  or c0.or
        L2 4 = [-1*2 +1*3 >= 1]  xor c0
        output c1 = 2
        output c0 = 4
        xor 4 ladder: operands 0 1; rungs 3 2
        map 0 -> 0
        map 1 -> 1
        map 2 -> 2
        map 3 -> 4
        """)
    assert dump(c.plans, inputs=c.spec.inputs) == _text("""
        layer 1: Linear(2 -> 2), relu, 0 pass-through(s)
          c1    = relu(+1*a0 +1*b0 - 1)
          c0.or = relu(-1*a0 -1*b0 + 1)
        layer 2: Linear(2 -> 2), step, 1 pass-through(s)
          c1 = step(+1*c1 - 0.5)
          c0 = step(-1*c1 -1*c0.or + 0.5)
        """)


def test_half_adder_every_stage_sparse() -> None:
    """The sparse layout: the XOR takes the even form (one gate fewer), slots are reused."""
    c = compile_stages(HALF_ADDER, layout="sparse", verify=True)
    assert dump(c.threshold_graph) == _text("""
        depth 2
        L0 0 = input a0
        L0 1 = input b0
        L1 2 = [+1*0 +1*1 >= 2]  and c1
        L2 4 = [+1*0 +1*1 -2*2 >= 1]  xor c0
        output c1 = 2
        output c0 = 4
        xor 4 even: operands 0 1; rungs 3 2
        map 0 -> 0
        map 1 -> 1
        map 2 -> 2
        map 3 -> 4
        """)
    assert dump(c.plans) == _text("""
        layer 1: relu, 1 neuron(s) in 1 bucket(s), 3 slot(s)
          bucket 1 x 2
            s2 <- c1 = relu(+1*s0 +1*s1 - 1)
        layer 2: relu, 2 neuron(s) in 1 bucket(s), 3 slot(s)
          bucket 2 x 4
            s0 <- c0[z+1] = relu(+1*s0 +1*s1 -2*s2 + 0)
            s1 <- c0[z]   = relu(+1*s0 +1*s1 -2*s2 - 1)
        layer 3: read-out, 2 neuron(s) in 1 bucket(s), 3 slot(s)
          bucket 2 x 2
            c1 = linear(+1*s2 + 0)
            c0 = linear(+1*s0 -1*s1 + 0)
        """)


def test_cli_dump_ir_writes_every_stage(tmp_path):
    """``threshnet compile --dump-ir DIR`` writes the same text as ``ir.dump_all``."""
    from threshnet.cli import main
    from threshnet.compiler.compiling import compile_stages
    from threshnet.compiler.ir import dump_all

    src = Path(__file__).resolve().parent.parent / "examples" / "half_adder.bool"
    assert main(["compile", "-q", str(src), "--dump-ir", str(tmp_path / "ir")]) == 0
    files = sorted(p.name for p in (tmp_path / "ir").iterdir())
    assert files == ["01-spec.txt", "02-boolean.txt", "03-mapped.txt", "04-threshold.txt", "05-layered.txt",
                     "06-dense.txt"]
    import threshnet

    want = list(dump_all(compile_stages(threshnet.read(src))).values())
    assert [(tmp_path / "ir" / f).read_text() for f in files] == want
