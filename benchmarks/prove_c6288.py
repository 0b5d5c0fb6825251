"""Prove the ISCAS-85 c6288 (16x16 multiplier) network equivalent to its netlist.

Run: .venv/bin/python benchmarks/prove_c6288.py [--monolithic-timeout S] [--circuit NAME]

A multiplier is the classic hard case for one monolithic miter; node-by-node
proving (SAT sweeping with cut points, threshnet.prove's method="nodes")
takes seconds.  Prints one line per (activation, layout, method).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

import threshnet
from threshnet.frontends import read
from threshnet.prove import prove

BENCH = Path(__file__).resolve().parent / "circuits" / "iscas85" / "bench"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--circuit", default="c6288")
    ap.add_argument("--monolithic-timeout", type=float, default=60.0,
                    help="time limit of the monolithic attempt (0 skips it)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    spec = read(BENCH / f"{args.circuit}.bench")
    print(f"{args.circuit}: {len(spec.inputs)} inputs, {len(spec.outputs)} outputs, "
          f"{len(spec.assignments)} assignments")
    for activation in ("step", "relu"):
        for layout in ("mlp", "sparse"):
            t0 = time.monotonic()
            net = threshnet.compile(spec, activation, layout=layout)
            compile_s = time.monotonic() - t0
            methods = [("nodes", None), ("auto", None)]
            if args.monolithic_timeout > 0:
                methods.append(("monolithic", args.monolithic_timeout))
            for method, timeout in methods:
                report = prove(net, spec, method=method, timeout=timeout)
                print(f"{activation:4} {layout:6} compile {compile_s:5.2f} s  {method:10} {report.status:8} "
                      f"{report.seconds:7.2f} s  {report.variables} vars, {report.clauses} clauses, "
                      f"{report.merged} merged, {report.sat_calls} SAT calls", flush=True)


if __name__ == "__main__":
    main()
