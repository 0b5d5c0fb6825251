"""The ``threshnet`` command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from .compiler.errors import SpecError
from .compiler.options import ACTIVATIONS, FLOAT_DTYPES, IN_FORMATS, LAYOUTS, OUT_FORMATS, PROVE_METHODS
from .compiler.spec import Spec

TABLE_LIMIT = 10
DENSE_SHOW_LIMIT = 12  # wider layers are shown one equation per neuron


class CliError(Exception):
    """A user-facing error: printed as ``threshnet: error: ...``, exit 1."""


def load_spec(path: str, fmt: str | None = None, cut_latches: bool = False, top: str | None = None) -> Spec:
    """Read a spec or netlist from a path, or from stdin when ``path`` is ``-``."""
    from .compiler.parse import parse

    if path == "-":
        text = sys.stdin.read()
        if fmt in (None, "bool"):
            return parse(text, "<stdin>")
        from .frontends import read_text

        return read_text(text, fmt, filename="<stdin>", cut_latches=cut_latches, top=top)
    p = Path(path)
    if not p.exists():
        raise CliError(f"cannot read '{path}': no such file")
    if p.is_dir():
        raise CliError(f"cannot read '{path}': it is a directory")
    if (fmt or p.suffix.lstrip(".").lower()) in ("bool", "") and fmt in (None, "bool"):
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            raise CliError(f"cannot read '{path}': not UTF-8 text ({e.reason} at byte {e.start})") from None
        return parse(text, str(path))
    from .frontends import read

    return read(p, format=fmt, cut_latches=cut_latches, top=top)


def _compile(args: argparse.Namespace, spec: Spec):
    from .build import compile

    return compile(spec, args.activation, output_step=not getattr(args, "no_output_step", False),
                   layout=getattr(args, "layout", "auto"), progress=not getattr(args, "quiet", False),
                   dtype=getattr(args, "dtype", "float32"))


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def cmd_compile(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec, args.format, args.cut_latches, args.top)
    net = _compile(args, spec)
    print(f"{spec.filename}: {len(spec.inputs)} inputs ({', '.join(spec.inputs)}), "
          f"{len(spec.outputs)} outputs ({', '.join(spec.outputs)})")
    if len(net.layers) <= 16:
        print(net)
    print(net.stats())
    if args.output:
        net.save(args.output)
        print(f"saved to {args.output}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    import torch

    spec = load_spec(args.spec, args.format, args.cut_latches, args.top)
    net = _compile(args, spec)
    if net.layout != "mlp":
        raise CliError("'show' prints dense weight matrices; this network uses the sparse layout "
                       "(try --layout mlp, or 'threshnet draw' for the gate graph)")
    mods = list(net.layers)
    cols = list(net.input_names)
    k = 0
    for i, m in enumerate(mods):
        if not isinstance(m, torch.nn.Linear):
            continue
        act = type(mods[i + 1]).__name__.lower() if i + 1 < len(mods) else "none (final Linear)"
        rows = list(net.neuron_names[k])
        print(f"layer {k + 1}: Linear({m.in_features} -> {m.out_features}), then {act}")
        w = m.weight.detach().double().numpy()
        b = m.bias.detach().double().numpy()
        if m.in_features <= DENSE_SHOW_LIMIT:
            _print_matrix(rows, cols, w, b)
        else:
            for r, name in enumerate(rows):
                terms = " ".join(f"{'+' if w[r, j] > 0 else '-'} {_fmt(abs(w[r, j]))}*{cols[j]}"
                                 for j in np.nonzero(w[r])[0])
                print(f"  {name} = {act}({terms} {'+' if b[r] >= 0 else '-'} {_fmt(abs(b[r]))})")
        print()
        cols = rows
        k += 1
    return 0


def _print_matrix(rows: list[str], cols: list[str], w: np.ndarray, b: np.ndarray) -> None:
    cells = [[_fmt(v) for v in row] + [_fmt(bv)] for row, bv in zip(w, b)]
    heads = cols + ["bias"]
    widths = [max([len(h)] + [len(r[j]) for r in cells]) for j, h in enumerate(heads)]
    lw = max([len(r) for r in rows] + [0])
    line = lambda label, vals: "  " + label.ljust(lw) + "  " + "  ".join(  # noqa: E731
        v.rjust(widths[j]) for j, v in enumerate(vals[:-1])) + " | " + vals[-1].rjust(widths[-1])
    print(line("", heads))
    for label, vals in zip(rows, cells):
        print(line(label, vals))


def cmd_table(args: argparse.Namespace) -> int:
    import torch

    from .check import _rows_exhaustive
    from .compiler.evaluate import evaluate_batch

    spec = load_spec(args.spec, args.format, args.cut_latches, args.top)
    n = len(spec.inputs)
    if n > TABLE_LIMIT:
        print(f"{spec.filename}: {n} inputs is too many for a truth table (at most {TABLE_LIMIT}, "
              f"{1 << TABLE_LIMIT} rows); use 'threshnet check' instead")
        return 1
    net = _compile(args, spec)
    rows = _rows_exhaustive(n, 0, 1 << n)
    want = evaluate_batch(spec, rows)
    with torch.no_grad():
        got = net(torch.as_tensor(rows, dtype=next(net.parameters()).dtype)).double().numpy()
    heads = list(spec.inputs) + ["|"] + [f"{o}" for o in spec.outputs] + ["|"] + \
        [f"net.{o}" for o in spec.outputs] + [""]
    widths = [max(1, len(h)) for h in heads]
    print("  ".join(h.rjust(w) for h, w in zip(heads, widths)).rstrip())
    bad = 0
    for r, wv, gv in zip(rows, want, got):
        ok = bool((wv == gv).all())
        bad += not ok
        vals = [str(int(v)) for v in r] + ["|"] + [str(int(v)) for v in wv] + ["|"] + \
            [_fmt(v) for v in gv] + ["ok" if ok else "MISMATCH"]
        print("  ".join(v.rjust(w) for v, w in zip(vals, widths)))
    print(f"{len(rows)} rows, {bad} mismatches" + (" - all correct" if not bad else ""))
    return 0 if not bad else 1


def load_net(path: str):
    """A saved threshnet network (``.pt2``), or ``file.py:NAME`` for any ``nn.Module`` in Python.

    ``NAME`` (default ``model``) may be a module, or a class or function that
    builds one with no arguments.
    """
    import torch.nn as nn

    file, _, attr = path.partition(".py:") if ".py:" in path else (path, "", "")
    if path.endswith(".py") or attr:
        import importlib.util

        file = path if path.endswith(".py") else file + ".py"
        attr = attr or "model"
        if not Path(file).is_file():
            raise CliError(f"cannot read '{file}': no such file")
        mspec = importlib.util.spec_from_file_location(f"threshnet_user_net_{abs(hash(file))}", file)
        mod = importlib.util.module_from_spec(mspec)
        mspec.loader.exec_module(mod)
        if not hasattr(mod, attr):
            raise CliError(f"{file} defines no '{attr}' (use --net {file}:NAME)")
        obj = getattr(mod, attr)
        if not isinstance(obj, nn.Module) and callable(obj):
            obj = obj()
        if not isinstance(obj, nn.Module):
            raise CliError(f"{file}:{attr} is not a torch.nn.Module")
        return obj.eval()
    if not Path(path).is_file():
        raise CliError(f"cannot read '{path}': no such file")
    from .network import load

    return load(path)


def cmd_check(args: argparse.Namespace) -> int:
    from .check import check

    spec = load_spec(args.spec, args.format, args.cut_latches, args.top)
    net = load_net(args.net) if args.net else _compile(args, spec)
    if args.prove:
        from .prove import available, prove

        if not available():
            raise CliError("--prove needs python-sat with its pb extra: pip install 'threshnet[prove]'")

        proof = prove(net, spec, timeout=args.timeout, method=args.method)
        print(f"{spec.filename}: {proof}")
        return {"proved": 0, "refuted": 1}.get(proof.status, 3)
    report = check(net, spec, samples=args.samples, seed=args.seed)
    print(f"{spec.filename}: {report}")
    return 0 if report.ok else 1


def cmd_eval(args: argparse.Namespace) -> int:
    from .compiler.evaluate import evaluate

    spec = load_spec(args.spec, args.format, args.cut_latches, args.top)
    values: dict[str, int] = {}
    for a in args.assignments:
        name, eq, val = a.partition("=")
        if not eq or val not in ("0", "1"):
            raise CliError(f"bad input '{a}': write NAME=0 or NAME=1")
        if name not in spec.inputs:
            raise CliError(f"unknown input '{name}'; inputs are {', '.join(spec.inputs)}")
        values[name] = int(val)
    missing = [n for n in spec.inputs if n not in values]
    if missing:
        raise CliError(f"missing input value(s): {', '.join(missing)}")
    out = evaluate(spec, values)
    print(" ".join(f"{k}={v}" for k, v in out.items()))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .export import export_onnx

    spec = load_spec(args.spec, args.format, args.cut_latches, args.top)
    if args.activation == "relu" and not args.output_step:
        args.no_output_step = True
    net = _compile(args, spec)
    export_onnx(net, args.output)
    kind = "pure ReLU, no step" if getattr(args, "no_output_step", False) else args.activation
    print(f"wrote {args.output}: ONNX ({kind}, {net.layout} layout), input 'x' (batch, {len(spec.inputs)}), "
          f"output 'y' (batch, {len(spec.outputs)})")
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    from .frontends import write, write_text

    spec = load_spec(args.spec, args.format, args.cut_latches, args.top)
    if args.output == "-":
        data = write_text(spec, args.to or "bool")
        if isinstance(data, bytes):
            sys.stdout.buffer.write(data)
        else:
            sys.stdout.write(data)
        return 0
    write(spec, args.output, args.to)
    print(f"wrote {args.output}: {len(spec.inputs)} inputs, {len(spec.outputs)} outputs, "
          f"{len(spec.assignments)} assignments", file=sys.stderr)
    return 0


def cmd_draw(args: argparse.Namespace) -> int:
    from .compiler.compiling import compile_stages
    from .export import draw

    spec = load_spec(args.spec, args.format, args.cut_latches, args.top)
    c = compile_stages(spec, "step", layout=args.layout, progress=not args.quiet)
    written = draw(c.threshold_graph, args.output)
    if written != Path(args.output):
        print(f"Graphviz 'dot' is not installed; wrote DOT text to {written}")
    else:
        print(f"wrote {written}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="threshnet",
        description="Compile boolean logic into exact, checked PyTorch networks.",
        epilog="Run 'threshnet COMMAND --help' for a command's options.",
    )
    p.add_argument("--version", action="version", version=f"threshnet {_version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, help: str, func, net_opts: bool = True) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.add_argument("spec", metavar="SPEC", help="spec or netlist file, or - for stdin")
        sp.add_argument("--format", choices=IN_FORMATS,
                        help="input format (default: from the file extension; stdin: bool)")
        sp.add_argument("--top", metavar="MODULE", help="Verilog: the top module (default: found by Yosys)")
        sp.add_argument("--cut-latches", action="store_true",
                        help="sequential netlists: each latch becomes an extra input (its state) and an "
                             "extra output NAME$next (its next state), so one clock step compiles")
        if net_opts:
            sp.add_argument("--activation", choices=ACTIVATIONS, default="relu",
                            help="hidden activation (default: relu)")
            sp.add_argument("--no-output-step", action="store_true",
                            help="relu only: end in a Linear layer, no step anywhere")
            sp.add_argument("--layout", choices=LAYOUTS, default="auto",
                            help="dense Linear layers (mlp), index-gathering layers (sparse), "
                                 "or auto: mlp while the dense weights stay small (default)")
            sp.add_argument("--dtype", choices=FLOAT_DTYPES, default="float32",
                            help="weights' dtype; refused unless the network is exact in it (default float32)")
        sp.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
        sp.set_defaults(func=func)
        return sp

    c = add("compile", "compile a spec, print the network and its sizes, optionally save it", cmd_compile)
    c.add_argument("-o", "--output", metavar="FILE", help="save the network (torch.export .pt2 file)")
    add("show", "print each layer's weights and biases, labelled by signal names", cmd_show)
    add("table", f"print the truth table of spec and network side by side (<= {TABLE_LIMIT} inputs)",
        cmd_table)
    ck = add("check", "compile (or load --net) and compare with the spec, or prove it equal with "
             "--prove; exit 0 if equal, 1 if not, 3 if the proof timed out", cmd_check)
    ck.add_argument("--net", metavar="FILE", help="check this network instead of compiling: a saved "
                    ".pt2 file, or file.py:NAME for an nn.Module (or a class or function making one)")
    ck.add_argument("--prove", action="store_true",
                    help="prove equivalence on every input with SAT (needs threshnet[prove])")
    ck.add_argument("--timeout", type=float, default=None, metavar="S",
                    help="--prove: give up after S seconds (exit 3)")
    ck.add_argument("--method", choices=PROVE_METHODS, default="auto",
                    help="--prove: one miter, node-by-node sweeping, or auto (monolithic for 3 s, "
                         "then nodes; default)")
    ck.add_argument("--samples", type=int, default=100_000,
                    help="random rows when there are more than 20 inputs (default 100000)")
    ck.add_argument("--seed", type=int, default=0, help="random seed for sampled checks")
    ex = add("export", "export the network to ONNX (needs the extra threshnet[onnx])", cmd_export)
    ex.add_argument("-o", "--output", metavar="FILE", required=True, help="the .onnx file to write")
    ex.add_argument("--output-step", action="store_true",
                    help="relu only: keep the final step (default for export: pure ReLU, no step)")
    cv = add("convert", "convert a spec or netlist to .bool, BLIF or ASCII/binary AIGER", cmd_convert,
             net_opts=False)
    cv.add_argument("output", metavar="OUT", help="output file (.bool, .blif, .aag, .aig), or - for stdout")
    cv.add_argument("--to", choices=OUT_FORMATS, help="output format (default: from OUT's extension; "
                                                       "stdout: bool)")
    dr = add("draw", "draw the threshold-gate graph, clustered by layer (.svg/.png/.pdf via Graphviz, "
             "or .dot)", cmd_draw, net_opts=False)
    dr.add_argument("-o", "--output", metavar="FILE", required=True, help="net.svg, net.png, net.pdf or net.dot")
    dr.add_argument("--layout", choices=LAYOUTS, default="auto",
                    help="which layering to draw (default: auto)")
    ev = add("eval", "evaluate the spec on one input, e.g. 'threshnet eval half.bool a0=1 b0=1'",
             cmd_eval, net_opts=False)
    ev.add_argument("assignments", nargs="*", metavar="NAME=0|1")
    return p


def _version() -> str:
    from . import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except SpecError as e:
        print(str(e), file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. piped into `head`
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (CliError, ValueError, OSError) as e:
        print(f"threshnet: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
