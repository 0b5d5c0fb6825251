"""`make bench`, word-level part: the threshold arithmetic of issue 9, next to the bit-level path.

Each spec is a v2 word program (addition, comparison, multiplication,
counting); it is compiled through the word path (``threshnet.compile``
synthesizes the words) and, as the baseline measured in the same run, through
the bit-level path (the same spec with its words dropped, so the plain
AND/OR/XOR lowering and threshold mapping; or the public benchmark circuit
of the same function: the EPFL adder and multiplier, ISCAS c6288, whose
ABC resyn2 AND counts and levels come from benchmarks/circuits/README.md).
Every network is checked against its spec before its figures are printed.

Tables: objective="depth" in float32 (the default), objective="size", and
dtype="bfloat16" / "float16" (deeper networks that are exact in them), and
the Verilog examples read both ways (coarse words vs Yosys' bit-level
netlist).  The 64x64 multiplier is in the size/dtype tables with --full only.

    python benchmarks/words.py [--quick | --full] [--only SUBSTRING ...]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import torch

import threshnet
from threshnet.compiler.parse import parse

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import abc_table, circuit_path  # noqa: E402

CHECK_SAMPLES = 2000
#: Left out with --quick; and from the size/float16/bfloat16 tables unless --full (about 90 s of compiles).
QUICK_SKIP = {"mul 64x64", "add 128"}
BIG = {"mul 64x64"}


def add(n: int) -> str:
    return f"input a[{n}], b[{n}]\noutput s[{n + 1}]\ns = a + b\n"


def cmp(n: int) -> str:
    return f"input a[{n}], b[{n}]\noutput lt, eq\nlt = a < b\neq = a == b\n"


def mul(n: int) -> str:
    return f"input a[{n}], b[{n}]\noutput p[{2 * n}]\np = a * b\n"


#: (name, v2 text, public circuit of the same function or None)
SPECS: list[tuple[str, str, str | None]] = (
    [(f"add {n}", add(n), "adder" if n == 128 else None) for n in (8, 16, 32, 64, 128)]
    + [(f"lt,eq {n}", cmp(n), None) for n in (8, 16, 32, 64, 128)]
    + [(f"mul {n}x{n}", mul(n), {16: "c6288", 64: "multiplier"}.get(n)) for n in (8, 16, 32, 64)]
    + [("popcount 64", "input v[64]\noutput c[7]\nc = popcount(v)\n", None),
       ("maj 16", "input v[16]\noutput y\ny = maj(v)\n", None),
       ("atleast 2 of 5", "input v[5]\noutput y\ny = atleast(2, v)\n", None),
       ("gt 4", "input a[4], b[4]\noutput gt\ngt = a > b\n", None),
       ("add3 32", "input a[32], b[32], c[32]\noutput s[34]\ns = a + b + c\n", None),
       ("a * 0x9E3779B1", "input a[32]\noutput p[32]\np = (a * 2654435761)[31:0]\n", None)]
)

#: issue 9's targets (step, float32): layers, gates.
TARGETS = {"add 32": (4, 165), "add 128": (4, 645), "lt,eq 64": (2, 24), "popcount 64": (3, 200),
           "mul 16x16": (10, 1600), "mul 64x64": (16, 18000), "maj 16": (1, 1), "atleast 2 of 5": (1, 1),
           "gt 4": (1, 1)}


def table(rows: list[list[str]], heads: list[str]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(heads)]
    line = lambda cells: "| " + " | ".join(c.rjust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    sep = "|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|"
    return "\n".join([line(heads), sep] + [line(r) for r in rows])


def gates(net) -> tuple[int, object]:
    s = net.stats()
    return sum(s.neurons) - s.passthroughs, s


def word_figures(spec, *, dtype: str, objective: str, relu: bool) -> dict:
    t = time.perf_counter()
    try:
        net = threshnet.compile(spec, "step", dtype=dtype, objective=objective, layout="sparse", verify=False)
    except Exception as e:  # noqa: BLE001  (a refusal is a result of the table)
        return dict(error=f"{type(e).__name__}: {str(e).splitlines()[0][:60]}")
    dt = time.perf_counter() - t
    g, s = gates(net)
    report = threshnet.check(net, spec, samples=CHECK_SAMPLES)
    if not report.ok:
        raise SystemExit(f"{spec.filename}: CHECK FAILED\n{report}")
    out = dict(layers=s.layers, gates=g, passthroughs=s.passthroughs, max_w=s.max_abs_weight,
               exact=",".join(d.replace("float", "f").replace("bf", "bf") for d in s.exact_dtypes if "int" not in d),
               weights=s.nonzero_weights, compile_s=dt)
    if relu:
        rnet = threshnet.compile(spec, "relu", dtype=dtype, objective=objective, layout="sparse", verify=False)
        rg, _ = gates(rnet)
        out["relu"] = rg
    return out


def bit_figures(name: str, spec, circuit: str | None, abc: dict) -> dict:
    if circuit is not None:
        bit_spec = threshnet.read(circuit_path(circuit))
        src = circuit
    else:
        bit_spec = dataclasses.replace(spec, words=None)
        src = "bitblast"
    t = time.perf_counter()
    net = threshnet.compile(bit_spec, "step", layout="sparse", verify=False)
    dt = time.perf_counter() - t
    g, s = gates(net)
    and_count, levels = abc.get(circuit, (None, None)) if circuit else (None, None)
    return dict(src=src, layers=s.layers, gates=g, compile_s=dt, abc=and_count, abc_lev=levels)


def run(only: list[str], quick: bool, full: bool = False) -> None:
    abc = abc_table()
    specs = [(n, parse(text, filename=f"<{n}>"), c) for n, text, c in SPECS
             if not only or any(o in n for o in only)]
    if quick:
        specs = [s for s in specs if s[0] not in QUICK_SKIP]
    base: dict[str, dict] = {}
    main: dict[str, dict] = {}
    rows = []
    for name, spec, circuit in specs:
        w = word_figures(spec, dtype="float32", objective="depth", relu=True)
        b = bit_figures(name, spec, circuit, abc)
        main[name], base[name] = w, b
        tgt = TARGETS.get(name)
        ok = "" if tgt is None or "error" in w else (" ok" if w["layers"] <= tgt[0] and w["gates"] <= tgt[1]
                                                    else " MISSED")
        rows.append([name, str(w["layers"]), f"{w['gates']:,}", f"{w['relu']:,}", str(w["passthroughs"]),
                     f"{w['max_w']:g}", w["exact"], f"{w['weights']:,}", f"{w['compile_s']:.2f}",
                     "-" if tgt is None else f"{tgt[0]} / {tgt[1]:,}{ok}",
                     b["src"], str(b["layers"]), f"{b['gates']:,}", f"{b['compile_s']:.2f}",
                     "-" if b["abc"] is None else f"{b['abc']:,} / {b['abc_lev']}",
                     f"{b['layers'] / w['layers']:.1f}x", f"{b['gates'] / max(1, w['gates']):.1f}x"])
        print(f"  {name}: {w['layers']} layers, {w['gates']} gates", file=sys.stderr, flush=True)
    print("\n## Word-level arithmetic (step, float32, objective=\"depth\"; baseline: bit-level path, same run)\n")
    print(table(rows, ["spec", "layers", "gates", "relu gates", "pass", "max |w|", "exact in", "weights",
                       "compile s", "target", "bit-level", "layers", "gates", "compile s", "ABC AND / lev",
                       "layers ratio", "gates ratio"]))
    print("\ngates: neurons of every layer, outputs included, pass-throughs not ('pass'); 'relu gates' the same "
          "for activation='relu'. bit-level: the same function with its words dropped (plain logic, threshold "
          "mapping), or the public circuit named. ratio = bit-level / word-level. Every network checked "
          f"(exhaustive up to 20 inputs, else {CHECK_SAMPLES:,} random rows plus corners).")

    for title, kw in (("objective=\"size\" (float32)", dict(dtype="float32", objective="size")),
                      ("dtype=\"float16\"", dict(dtype="float16", objective="depth")),
                      ("dtype=\"bfloat16\"", dict(dtype="bfloat16", objective="depth"))):
        rows = []
        for name, spec, _ in specs:
            if name in BIG and not full:
                continue
            w = word_figures(spec, relu=False, **kw)
            m = main[name]
            if "error" in w:
                rows.append([name, w["error"], "", "", "", "", "", "", "", ""])
                continue
            rows.append([name, str(w["layers"]), f"{w['gates']:,}", str(w["passthroughs"]), f"{w['max_w']:g}",
                         w["exact"], f"{w['weights']:,}", f"{w['compile_s']:.2f}",
                         f"{m['layers']} / {m['gates']:,}", f"{base[name]['layers']} / {base[name]['gates']:,}"])
            print(f"  {title} {name}: {w['layers']} layers, {w['gates']} gates", file=sys.stderr, flush=True)
        print(f"\n## Word-level arithmetic, {title} (step)\n")
        print(table(rows, ["spec", "layers", "gates", "pass", "max |w|", "exact in", "weights", "compile s",
                           "depth/f32 layers / gates", "bit-level layers / gates"]))


#: Verilog examples read both ways: coarse (words) and bit-level (Yosys techmap), step, float32.
RTL_EXAMPLES = ("mix32.v", "add128_limbs.v", "popcount64.v")


def run_rtl() -> None:
    from threshnet.frontends.rtl import read_rtl
    from threshnet.frontends.verilog import find_yosys, read_verilog

    if find_yosys() is None:
        print("\n(RTL table skipped: no Yosys)")
        return
    rows = []
    for name in RTL_EXAMPLES:
        path = HERE.parent / "examples" / name
        bit_spec = read_verilog(path)
        word_spec = read_rtl(path, strict=True)
        out = []
        for spec in (word_spec, bit_spec):
            t = time.perf_counter()
            net = threshnet.compile(spec, "step", layout="sparse", verify=False)
            dt = time.perf_counter() - t
            if not threshnet.check(net, bit_spec, samples=CHECK_SAMPLES).ok:
                raise SystemExit(f"{name}: CHECK FAILED")
            g, st = gates(net)
            out.append((st.layers, g, dt))
        (wl, wg, wt), (bl, bg, bt) = out
        rows.append([name, str(wl), f"{wg:,}", f"{wt:.2f}", str(bl), f"{bg:,}", f"{bt:.2f}", f"{bl / wl:.1f}x"])
        print(f"  rtl {name}: {wl} vs {bl} layers", file=sys.stderr, flush=True)
    print("\n## Verilog RTL: coarse word path (frontends/rtl.py) vs bit-level path (Yosys techmap), step, float32\n")
    print(table(rows, ["example", "layers", "gates", "compile s", "bit-level layers", "gates", "compile s",
                       "layers ratio"]))
    print("\nBoth networks checked against Yosys' bit-level netlist. Yosys' techmap already builds "
          "log-depth adders, so a chain of adds gains ~5x; a chain of '+' into one accumulator becomes one "
          "many-operand sum.")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=f"leave out {', '.join(sorted(QUICK_SKIP))}")
    ap.add_argument("--full", action="store_true", help=f"also {', '.join(sorted(BIG))} in the size/dtype tables")
    ap.add_argument("--only", nargs="*", default=[], help="specs whose name contains one of these")
    args = ap.parse_args()
    torch.set_num_threads(1)
    t = time.perf_counter()
    run(args.only, args.quick, args.full)
    if not args.only:
        run_rtl()
    print(f"\n(word-level tables: {time.perf_counter() - t:.0f} s)")


if __name__ == "__main__":
    main()
