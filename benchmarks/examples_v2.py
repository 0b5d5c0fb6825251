"""The v2 language examples: neurons, layers and compile time per layout, as a table.

    python benchmarks/examples_v2.py

Each network is checked against its spec (exhaustively up to the check's limit) before
its row is printed; times are one compile each, on one thread.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

import threshnet

EXAMPLES = ("adder8", "comparator8", "alu4", "popcount16", "majority17", "mult4")
ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    torch.set_num_threads(1)
    threshnet.compile("y = a & b")  # warm up imports
    print("| example | inputs | outputs | word nodes | layout | neurons | layers | compile |")
    print("|---|---:|---:|---:|---|---:|---:|---:|")
    for name in EXAMPLES:
        spec = threshnet.parse((ROOT / "examples" / f"{name}.bool").read_text(), f"{name}.bool")
        for layout in ("mlp", "sparse"):
            t = time.perf_counter()
            net = threshnet.compile(spec, layout=layout)
            dt = time.perf_counter() - t
            report = threshnet.check(net, spec)
            if not report.ok:
                raise SystemExit(f"{name} ({layout}): CHECK FAILED\n{report}")
            s = net.stats()
            print(f"| {name} | {len(spec.inputs)} | {len(spec.outputs)} | {len(spec.words.nodes)} | {layout} | "
                  f"{s.hidden_neurons + s.neurons[-1]} | {s.layers} | {dt:.2f} s |")


if __name__ == "__main__":
    main()
