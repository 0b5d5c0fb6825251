"""docs/tutorial.ipynb runs top to bottom with a real Jupyter kernel, and its committed outputs are that run's.

* The committed cells are what docs/make_tutorial.py builds (with the notebook's own
  ``metadata.threshnet.words`` choice), so the generator is the one source.
* The notebook is executed afresh (nbclient, a python3 kernel, in docs/; the kernel
  imports this checkout's threshnet), failing on any error, and every code cell's
  outputs must equal the committed ones after normalizing what legitimately varies:
  timings (``0.41 s``), object addresses (``0x7f...``) and how a stream happens to
  be split into chunks.  Regenerate with ``make tutorial``.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from conftest import require_prover

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("scipy")
require_prover()

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "docs" / "tutorial.ipynb"

_TIMING = re.compile(r"\b\d+(\.\d+)?(e[+-]?\d+)? ?(s|ms|us)\b")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")


def _generator():
    spec = importlib.util.spec_from_file_location("make_tutorial", ROOT / "docs" / "make_tutorial.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _norm(text: str) -> str:
    return _ADDRESS.sub("0x?", _TIMING.sub("<time>", text))


def _outputs(cell) -> list[tuple]:
    """A code cell's outputs, normalized: streams of one name merged, data by MIME type, no counts."""
    out: list[tuple] = []
    for o in cell.get("outputs", []):
        kind = o["output_type"]
        if kind == "stream":
            text = _norm("".join(o["text"]) if isinstance(o["text"], list) else o["text"])
            if out and out[-1][0] == "stream" and out[-1][1] == o["name"]:
                out[-1] = ("stream", o["name"], out[-1][2] + text)
            else:
                out.append(("stream", o["name"], text))
        elif kind in ("execute_result", "display_data"):
            data = {k: _norm("".join(v) if isinstance(v, list) else str(v)) for k, v in o["data"].items()}
            out.append((kind, tuple(sorted(data.items()))))
        else:
            out.append((kind, o.get("ename"), o.get("evalue")))
    return out


def test_committed_cells_are_the_generators():
    gen = _generator()
    nb = nbformat.read(NOTEBOOK, as_version=4)
    words = nb.metadata["threshnet"]["words"]
    assert [(c.cell_type, c.source) for c in nb.cells] == list(gen.cells(words)), \
        "docs/tutorial.ipynb is out of date: run `make tutorial`"


@pytest.mark.slow
def test_notebook_runs_and_matches_its_committed_outputs():
    gen = _generator()
    committed = nbformat.read(NOTEBOOK, as_version=4)
    fresh = nbformat.read(NOTEBOOK, as_version=4)
    for cell in fresh.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    gen.execute(fresh)  # raises CellExecutionError on any failing cell
    codes = [(a, b) for a, b in zip(committed.cells, fresh.cells) if a.cell_type == "code"]
    assert codes and all(_outputs(a) for a, _ in codes[1:]), "the committed notebook lacks outputs"
    for i, (old, new) in enumerate(codes):
        assert _outputs(new) == _outputs(old), f"code cell {i} ({old.source.splitlines()[0]!r}) changed"


def test_notebook_shows_the_lecture_bug_and_the_fixes():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    text = "\n".join(str(o) for c in nb.cells if c.cell_type == "code" for o in _outputs(c))
    assert "1 + 1 = c1 c0 = 11" in text
    assert "REFUTED" in text and "computes a0 | b0" in text
    assert "int4 6, int2 3" in text and "same tensors: True" in text
    assert "trained 2 -> 3 -> 2 from seed 0" in text and "prove: proved equivalent" in text
