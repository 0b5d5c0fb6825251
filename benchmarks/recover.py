"""Layers and neurons of bit-level circuits without and with arithmetic recovery (``compiler/recover.py``).

    PYTHONPATH=src python benchmarks/recover.py [files...]

Compiles each circuit (step activation, sparse layout, float32) three times: with
``recover_adders`` replaced by the identity, as ``threshnet.compile`` does (ripple
chains), and with carry-save arrays too (``arrays=True``), and prints layers,
neurons and the structures the mapping reports.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

import threshnet
from threshnet.build import build
from threshnet.compiler import compiling
from threshnet.compiler.mapping import STATS
from threshnet.frontends import read

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ["examples/ripple_adder4.bool", "benchmarks/circuits/epfl/adder.aig",
           "benchmarks/circuits/iscas85/bench/c6288.bench", "benchmarks/circuits/epfl/sin.aig",
           "benchmarks/circuits/epfl/square.aig", "benchmarks/circuits/epfl/multiplier.aig"]


def main(files: list[str]) -> None:
    torch.set_num_threads(1)
    real = compiling.recover_adders
    print("| circuit | before layers | before neurons | compile layers | compile neurons | arrays layers "
          "| arrays neurons | recognized (arrays) | s |")
    print("|---|--:|--:|--:|--:|--:|--:|---|--:|")
    variants = [lambda g, **kw: g, real, lambda g, **kw: real(g, arrays=True, **kw)]
    for f in files:
        spec = read(ROOT / f if not Path(f).is_absolute() else f)
        row = [Path(f).name]
        for variant in variants:
            compiling.recover_adders = variant
            try:
                t = time.perf_counter()
                c = compiling.compile_stages(spec, "step", layout="sparse")
                dt = time.perf_counter() - t
                net = build(c)
            finally:
                compiling.recover_adders = real
            s = net.stats()
            row += [str(s.layers), str(sum(s.neurons))]
        st = c.mapped_graph.graph.get(STATS)
        rec = "-" if st is None or not (st.adders or st.sums) else \
            f"{st.adders} adder(s), {st.sums} sum array(s) ({st.adder_bits} full/half adders)"
        print("| " + " | ".join(row + [rec, f"{dt:.1f}"]) + " |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or DEFAULT)
