"""`make bench`: threshnet on the public benchmark circuits, printed as tables.

Every rate is measured in this run, on one thread, next to its baseline (the
bit-parallel simulator of the same circuit), and quoted as a ratio.

    python benchmarks/run.py [--quick] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path

import numpy as np
import torch

import threshnet
from threshnet.compiler.bitsim import BitSim, pack_rows
from threshnet.compiler.lower import lower
from threshnet.compiler.spec import Assign, BinOp, Name, Not, Spec
from threshnet.frontends import read

HERE = Path(__file__).resolve().parent
CIRCUITS = HERE / "circuits"
EPFL = ["adder", "bar", "max", "multiplier", "sin", "square", "arbiter", "dec", "int2float", "ctrl", "i2c"]
ISCAS = ["c17", "c432", "c499", "c880", "c1355", "c1908", "c2670", "c3540", "c5315", "c6288", "c7552"]
ISCAS = [n for n in ISCAS if (CIRCUITS / "iscas85" / "bench" / f"{n}.bench").exists()]
BATCH = 4096
CHECK_SAMPLES = 10_000
#: The closest existing tool (Verilog -> Yosys abc -g AND -> one ReLU per AND, sparse float64),
#: as measured on this machine and quoted in the issue.
PEER = {"c6288": dict(neurons=1898, layers=161, rows_s=575),
        "multiplier": dict(neurons=25344, layers=458, compile_s=110)}


def abc_table() -> dict[str, tuple[int, int]]:
    """(AND count, levels) per circuit, from the provenance README's reference table."""
    out = {}
    for line in (CIRCUITS / "README.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 5 and re.fullmatch(r"[a-z0-9_]+", cells[0] or "-") and cells[3].isdigit():
            out[cells[0]] = (int(cells[3]), int(cells[4]))
    return out


def circuit_path(name: str) -> Path:
    if name in EPFL:
        return CIRCUITS / "epfl" / f"{name}.aig"
    return CIRCUITS / "iscas85" / "bench" / f"{name}.bench"


def rate(fn, rows: int, min_time: float = 0.3) -> float:
    """Rows per second of ``fn()``, best of repeated runs lasting at least ``min_time``."""
    fn()
    best, spent = float("inf"), 0.0
    while spent < min_time:
        t = time.perf_counter()
        fn()
        dt = time.perf_counter() - t
        best, spent = min(best, dt), spent + dt
    return rows / best


def bench_circuit(name: str, abc: dict[str, tuple[int, int]]) -> dict:
    spec = read(circuit_path(name))
    t = time.perf_counter()
    net = threshnet.compile(spec, "step", layout="sparse")
    compile_s = time.perf_counter() - t
    relu = threshnet.compile(spec, "relu", layout="sparse")
    t = time.perf_counter()
    report = threshnet.check(net, spec, samples=CHECK_SAMPLES)
    check_s = time.perf_counter() - t
    if not report.ok:
        raise SystemExit(f"{name}: CHECK FAILED\n{report}")
    s, sr = net.stats(), relu.stats()
    x = torch.randint(0, 2, (BATCH, len(spec.inputs))).float()
    with torch.no_grad():
        torch_rate = rate(lambda: net(x), BATCH)
    sim = BitSim(lower(spec))
    words = pack_rows(x.numpy().astype(np.uint8))
    sim_rate = rate(lambda: sim.run_words(words), BATCH)
    and_count, levels = abc.get(name, (None, None))
    return dict(name=name, pi=len(spec.inputs), po=len(spec.outputs), abc_and=and_count, abc_lev=levels,
                neurons=sum(s.neurons), relu_neurons=sum(sr.neurons), layers=s.layers,
                passthroughs=s.passthroughs, weights=s.nonzero_weights, compile_s=compile_s, check_s=check_s,
                tried=report.tried, rows_s=torch_rate, sim_rows_s=sim_rate)


def table(rows: list[list[str]], heads: list[str]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(heads)]
    line = lambda cells: "| " + " | ".join(c.rjust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    sep = "|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|"
    return "\n".join([line(heads), sep] + [line(r) for r in rows])


def generated(n_gates: int, n_inputs: int = 64, seed: int = 0) -> Spec:
    """A random multi-level circuit of ``n_gates`` two-input gates with local wiring."""
    rng = random.Random(seed)
    names = [f"x{i}" for i in range(n_inputs)]
    assigns, read_names = [], set()
    for i in range(n_gates):
        a = rng.choice(names[-2000:])
        b = rng.choice(names[-2000:] if rng.random() < 0.9 else names[:n_inputs])
        left = Name(a) if rng.random() < 0.7 else Not(Name(a))
        assigns.append(Assign(f"g{i}", BinOp(rng.choice(["and", "or", "xor", "and"]), left, Name(b))))
        names.append(f"g{i}")
        read_names.update((a, b))
    outs = tuple(a.target for a in assigns if a.target not in read_names)
    return Spec(tuple(names[:n_inputs]), outs, tuple(assigns), filename=f"<generated {n_gates}>")


def print_circuits(results: list[dict]) -> None:
    """The circuits table and the comparison with the closest existing tool."""
    def fmt(v, spec="{:,}") -> str:
        return "-" if v is None else spec.format(v)

    rows = []
    for r in results:
        ok_n = r["abc_and"] is None or r["neurons"] <= r["abc_and"]
        ok_l = r["abc_lev"] is None or r["layers"] <= r["abc_lev"]
        rows.append([r["name"], str(r["pi"]), str(r["po"]), fmt(r["abc_and"]), fmt(r["abc_lev"]),
                     f"{r['neurons']:,}" + ("" if ok_n else " !"), f"{r['relu_neurons']:,}",
                     f"{r['layers']}" + ("" if ok_l else " !"), str(r["passthroughs"]), f"{r['weights']:,}",
                     f"{r['compile_s']:.2f}", f"{r['check_s']:.2f}", f"{r['rows_s']:,.0f}",
                     f"{r['sim_rows_s']:,.0f}", f"{r['rows_s'] / r['sim_rows_s']:.3f}"])
    print("\n## Benchmark circuits (sparse layout, one thread, batch 4096)\n")
    print(table(rows, ["circuit", "PI", "PO", "ABC AND", "ABC lev", "neurons", "relu neurons", "layers",
                       "pass", "weights", "compile s", "check s", "rows/s", "bitsim rows/s", "ratio"]))
    print("\nneurons/layers: step activation (one neuron per threshold gate); 'relu neurons' counts the "
          "ReLU form (1-2 per gate). '!' marks a figure above ABC's. check: exhaustive up to 20 inputs, "
          f"else {CHECK_SAMPLES:,} random rows plus corners. ratio = rows/s / bitsim rows/s (same inputs, "
          "same run).")

    peer_rows = []
    for r in results:
        p = PEER.get(r["name"])
        if not p:
            continue
        peer_rows.append([r["name"], f"{p['neurons']:,} -> {r['neurons']:,} ({p['neurons'] / r['neurons']:.2f}x)",
                          f"{p['layers']} -> {r['layers']} ({p['layers'] / r['layers']:.2f}x)",
                          (f"{p['rows_s']:,} -> {r['rows_s']:,.0f} ({r['rows_s'] / p['rows_s']:.0f}x)"
                           if "rows_s" in p else "-"),
                          (f"{p['compile_s']} -> {r['compile_s']:.1f} ({p['compile_s'] / r['compile_s']:.0f}x)"
                           if "compile_s" in p else "-")])
    if peer_rows:
        print("\n## Against the closest existing tool (its figures as quoted in the issue)\n")
        print(table(peer_rows, ["circuit", "neurons", "layers", "rows/s", "compile s"]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small circuits only, no scaling run")
    ap.add_argument("--only", nargs="*", help="circuit names")
    ap.add_argument("--scaling-only", action="store_true", help="only the compile-time-against-size table")
    args = ap.parse_args()
    torch.set_num_threads(1)
    abc = abc_table()
    names = [] if args.scaling_only else args.only or (EPFL + ISCAS)
    if args.quick:
        names = [n for n in names if n in ("c17", "c432", "c880", "c6288", "ctrl", "int2float", "dec", "adder")]
    results = []
    for n in names:
        print(f"  {n} ...", file=sys.stderr, flush=True)
        results.append(bench_circuit(n, abc))

    if results:
        print_circuits(results)

    if not args.quick and not args.only:
        print("\n## Compile time against size (generated random circuits, sparse layout, step)\n")
        srows = []
        for n in (10_000, 50_000, 200_000):
            spec = generated(n)
            cells = [f"{n:,}"]
            for optimize in (True, False):
                t = time.perf_counter()
                net = threshnet.compile(spec, "step", layout="sparse", optimize=optimize)
                dt = time.perf_counter() - t
                cells += [f"{sum(net.stats().neurons):,}", str(net.stats().layers), f"{dt:.1f}", f"{dt / n * 1e6:.0f}"]
            t = time.perf_counter()
            ok = threshnet.check(net, spec, samples=2000).ok
            ct = time.perf_counter() - t
            srows.append(cells + [f"{ct:.1f}", "ok" if ok else "FAIL"])
        print(table(srows, ["gates", "neurons", "layers", "compile s", "us/gate",
                            "unmapped neurons", "layers", "compile s", "us/gate", "check s", "check"]))
        print("\nLeft: the default pipeline (threshold mapping up to MAP_LIMIT gates). Right: optimize=False, "
              "one gate per AND/OR, the same stages otherwise; its time per gate should stay flat.")

if __name__ == "__main__":
    main()
