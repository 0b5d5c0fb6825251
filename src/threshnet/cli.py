"""The ``threshnet`` command line.

Exit codes (docs/cli.md, "Exit codes and errors"):

====  ==========================================================================
0     success: the network equals the spec (``check``, ``table``), or was proved
1     a mismatch (``check``, ``table``) or a refuted proof (``check --prove``)
2     bad input or usage: every ``threshnet: error:`` line, every located spec
      error, and argparse's usage errors
3     ``check --prove`` ran out of time (``--timeout``)
130   interrupted (Ctrl-C)
====  ==========================================================================

Every error is reported once on stderr and never as a traceback: a spec or netlist
problem as its located diagnostic (``file:line:col: error: ...``, the source line and a
caret), anything else as one line ``threshnet: error: ...`` that names the file
involved.  Option values and combinations are checked before any file is read.  Output
files are written through :func:`_write_output`: the target is checked first, the
content is produced in a private temporary directory (so a full or read-only target
never reaches torch's or Graphviz's writers), then copied with plain Python I/O, whose
failures are ordinary ``OSError`` s.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import logging
import math
import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from .compiler.errors import SpecError
from .compiler.options import ACTIVATIONS, FLOAT_DTYPES, IN_FORMATS, LAYOUTS, OBJECTIVES, OUT_FORMATS, PROVE_METHODS
from .compiler.spec import Spec

TABLE_LIMIT = 10
DENSE_SHOW_LIMIT = 12  # wider layers are shown one equation per neuron

EXIT_OK = 0
EXIT_MISMATCH = 1
EXIT_USAGE = 2
EXIT_TIMEOUT = 3
EXIT_INTERRUPTED = 130

#: ``draw -o`` extensions: DOT text, or a Graphviz rendering.
DRAW_EXTENSIONS = (".svg", ".png", ".pdf", ".dot", ".gv")
SAVED_NET_SUFFIX = ".pt2"  # what 'compile -o' writes; as SPEC, 'show' prints it and other commands point to --net


class CliError(Exception):
    """A user-facing error: printed as ``threshnet: error: MESSAGE``, exit 2."""


# -- reading --------------------------------------------------------------------------------------
def load_spec(path: str, fmt: str | None = None, cut_latches: bool = False, top: str | None = None,
              words: bool | None = None) -> Spec:
    """Read a spec or netlist from a path, or from stdin (as bytes) when ``path`` is ``-``."""
    from .inputs import load

    return load(path, fmt, cut_latches=cut_latches, top=top, words=words)


def _spec(args: argparse.Namespace) -> Spec:
    _refuse_saved_net(args.spec, args.format, args.command, net_given=bool(getattr(args, "net", None)))
    return load_spec(args.spec, args.format, args.cut_latches, args.top, getattr(args, "rtl", None))


def _refuse_saved_net(path: str, fmt: str | None, cmd: str, net_given: bool) -> None:
    """Where a spec is read, refuse a saved network (``.pt2``) and say which command reads it."""
    if not _names_saved_net(path, fmt):
        return
    if net_given:
        hint = "give the spec or netlist that the network computes"
    elif cmd in ("check", "eval"):
        values = " NAME=VALUE ..." if cmd == "eval" else ""
        hint = f"give its spec and the network: 'threshnet {cmd} SPEC --net {path}{values}'"
    else:
        hint = (f"'{cmd}' reads a spec or netlist ('threshnet show {path}' prints the network's weights, "
                f"'threshnet check SPEC --net {path}' checks it)")
    raise CliError(f"{path}: {SAVED_NET_SUFFIX} names a saved network, not a spec or netlist; {hint}")


def _names_saved_net(path: str, fmt: str | None) -> bool:
    """Whether a SPEC argument names a saved network (extension ``.pt2``, no ``--format``) rather than a spec."""
    return fmt is None and Path(path).suffix.lower() == SAVED_NET_SUFFIX


def _compile(args: argparse.Namespace, spec: Spec):
    from .build import compile_and_build

    try:
        c, net = compile_and_build(spec, args.activation, output_step=not getattr(args, "no_output_step", False),
                                   layout=getattr(args, "layout", "auto"), progress=not getattr(args, "quiet", False),
                                   dtype=getattr(args, "dtype", "float32"),
                                   objective=getattr(args, "objective", "depth"),
                                   max_weight=getattr(args, "max_weight", None))
        dump_dir = getattr(args, "dump_ir", None)
        if dump_dir:
            from .compiler.ir import write_dumps

            try:
                write_dumps(c, dump_dir)
            except OSError as e:
                why = "a file, not a directory" if Path(dump_dir).is_file() else e.strerror or e
                raise CliError(f"cannot write IR dumps to '{dump_dir}': {why}") from None
        return net
    except ValueError as e:  # a refused dtype or an inexact network: name the file
        if isinstance(e, SpecError):
            raise
        raise CliError(f"{spec.filename}: {_first_line(e)}") from None


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# -- writing --------------------------------------------------------------------------------------
def _check_target(path: str) -> Path:
    """``path`` as a writable target, or a :class:`CliError` saying why not (before any work)."""
    p = Path(path)
    if path.endswith(("/", os.sep)) or p.is_dir():
        raise CliError(f"cannot write '{path}': it is a directory")
    parent = p.parent
    if not parent.exists():
        raise CliError(f"cannot write '{path}': no such directory '{parent}'")
    if not parent.is_dir():
        raise CliError(f"cannot write '{path}': '{parent}' is not a directory")
    return p


def _write_output(path: str, produce: Callable[[Path], Path | None], *, rename: bool = False) -> Path:
    """Let ``produce(tmp)`` write a file in a private directory, then move it to ``path``.

    ``produce`` may write another file next to ``tmp`` and return it; with ``rename``
    (``draw`` falls back to ``.dot``) the result keeps that name in ``path``'s
    directory, else it is written to ``path`` itself.  A
    regular target is replaced atomically (a failed write leaves the old file); a
    device or pipe (``/dev/full``, ``/dev/stdout``) is written in place.
    """
    target = _check_target(path)
    with tempfile.TemporaryDirectory(prefix="threshnet-") as tmpdir:
        tmp = Path(tmpdir) / target.name
        written = produce(tmp) or tmp
        final = target.with_name(written.name) if rename else target
        try:
            mode = final.stat().st_mode if final.exists() else None
            if mode is not None and not stat.S_ISREG(mode):
                with open(written, "rb") as src, open(final, "wb") as dst:
                    shutil.copyfileobj(src, dst)
            else:
                fd, part = tempfile.mkstemp(prefix=f".{final.name}.", dir=final.parent)
                try:
                    with open(written, "rb") as src, os.fdopen(fd, "wb") as dst:
                        shutil.copyfileobj(src, dst)
                    os.chmod(part, stat.S_IMODE(mode) if mode is not None else 0o666 & ~_umask())
                    os.replace(part, final)
                except BaseException:
                    Path(part).unlink(missing_ok=True)
                    raise
        except OSError as e:
            raise CliError(f"cannot write '{final}': {e.strerror or e}") from None
    return final


# -- networks from files --------------------------------------------------------------------------
def load_net(path: str):
    """A saved threshnet network (``.pt2``), or ``file.py:NAME`` for any ``nn.Module`` in Python.

    ``NAME`` (default ``model``) may be a module, or a class or function that
    builds one with no arguments.  Every failure is a :class:`CliError` naming the file.
    """
    file, _, attr = path.partition(".py:") if ".py:" in path else (path, "", "")
    if path.endswith(".py") or attr:
        file = path if path.endswith(".py") else file + ".py"
        return _load_python_net(file, attr or "model")
    return _load_saved_net(path)


def _load_saved_net(path: str):
    import zipfile

    p = Path(path)
    if not p.exists():
        raise CliError(f"{path}: cannot read file: {os.strerror(errno.ENOENT)}")
    if p.is_dir():
        raise CliError(f"{path}: cannot read file: {os.strerror(errno.EISDIR)}")
    try:
        size = p.stat().st_size
        if size == 0:
            raise CliError(f"{path}: not a saved network: the file is empty")
        if not zipfile.is_zipfile(p):
            with open(p, "rb") as f:
                damaged = f.read(4) == b"PK\x03\x04"
            why = "a truncated or damaged archive" if damaged else "not a zip archive"
            ext = p.suffix.lower()[1:]
            if not damaged and (ext in IN_FORMATS or ext in ("v", "sv")):
                why += f" (a .{ext} spec: save its network with 'threshnet compile {path} -o NET.pt2')"
            raise CliError(f"{path}: not a saved network: {why}")
        with zipfile.ZipFile(p) as z:
            bad = z.testzip()
        if bad is not None:
            raise CliError(f"{path}: not a saved network: a damaged archive (bad CRC in {bad})")
    except (OSError, zipfile.BadZipFile, EOFError) as e:
        raise CliError(f"{path}: not a saved network: {_reason(e)}") from None
    from .network import load

    try:
        with _quiet_torch():
            return load(path)
    except Exception as e:  # load may raise anything on a damaged or foreign file
        msg = _first_line(e)
        if path in msg:
            raise CliError(msg) from None
        raise CliError(f"{path}: not a saved network: {_reason(e)}") from None


@contextlib.contextmanager
def _quiet_torch() -> Iterator[None]:
    """Hold back torch's log warnings (with tracebacks) about a file we report ourselves."""
    logger = logging.getLogger("torch")
    level = logger.level
    logger.setLevel(logging.ERROR + 10)
    try:
        yield
    finally:
        logger.setLevel(level)


def _reason(e: BaseException) -> str:
    import json

    if isinstance(e, json.JSONDecodeError):
        return f"its threshnet.json metadata is not valid JSON ({e.msg}, line {e.lineno} column {e.colno})"
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    if isinstance(e, KeyError):
        return f"its metadata lacks {e}"
    if "warnings above" in str(e):  # torch logged the real cause, which _quiet_torch held back
        inner: BaseException = e
        while (inner.__cause__ or inner.__context__) is not None:
            inner = inner.__cause__ or inner.__context__  # type: ignore[assignment]
        if inner is not e:
            return f"torch.export cannot read it ({type(inner).__name__}: {_first_line(inner)})"
        return "torch.export cannot read it (a damaged or foreign archive)"
    return f"{type(e).__name__}: {_first_line(e)}"


def _load_python_net(file: str, attr: str):
    import importlib.util
    import inspect
    import traceback

    import torch.nn as nn

    if not Path(file).is_file():
        what = os.strerror(errno.EISDIR if Path(file).is_dir() else errno.ENOENT)
        raise CliError(f"{file}: cannot read file: {what}")
    where = f"{file}:{attr}"
    mspec = importlib.util.spec_from_file_location(f"threshnet_user_net_{abs(hash(file))}", file)
    if mspec is None or mspec.loader is None:
        raise CliError(f"cannot import '{file}' as a Python module")
    mod = importlib.util.module_from_spec(mspec)
    try:
        mspec.loader.exec_module(mod)
    except SyntaxError as e:
        raise CliError(f"{file}:{e.lineno}:{e.offset or 1}: syntax error: {e.msg}") from None
    except Exception as e:
        raise CliError(f"{file}: running it raised {type(e).__name__}: {_first_line(e)}"
                       f"{_user_line(traceback.extract_tb(e.__traceback__), file)}") from None
    if not hasattr(mod, attr):
        raise CliError(f"{file} defines no '{attr}' (use --net {file}:NAME)")
    obj = getattr(mod, attr)
    if not isinstance(obj, nn.Module) and callable(obj):
        try:
            inspect.signature(obj).bind()
        except TypeError:
            raise CliError(f"{where} needs arguments {_signature(obj)}; --net takes a module, or a class "
                           f"or function that builds one with no arguments") from None
        except ValueError:  # no signature (a builtin): just try it
            pass
        try:
            obj = obj()
        except Exception as e:
            raise CliError(f"{where}: calling {attr}() raised {type(e).__name__}: {_first_line(e)}"
                           f"{_user_line(traceback.extract_tb(e.__traceback__), file)}") from None
        if not isinstance(obj, nn.Module):
            raise CliError(f"{where}: {attr}() returned {_a(obj)}, not a torch.nn.Module")
    if not isinstance(obj, nn.Module):
        raise CliError(f"{where} is {_a(obj)}, not a torch.nn.Module")
    return obj.eval()


def _signature(obj) -> str:
    import inspect

    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return "(...)"


def _a(obj: object) -> str:
    name = type(obj).__name__
    return ("an " if name[:1].lower() in "aeiou" else "a ") + name


def _user_line(frames, file: str) -> str:
    """`` (file:LINE)``: the deepest frame of the user's file, if any."""
    real = os.path.realpath(file)
    for fr in reversed(frames):
        if os.path.realpath(fr.filename) == real:
            return f" ({file}:{fr.lineno})"
    return ""


def _run_user(net, args: argparse.Namespace, what: Callable[[], object]):
    """Run a check or proof; a module loaded by ``--net`` that fails while running is an error."""
    if not args.net:
        return what()
    try:
        return what()
    except (CliError, SpecError, KeyboardInterrupt):
        raise
    except Exception as e:
        if isinstance(e, ValueError) and not isinstance(e, (SpecError, ArithmeticError)):
            raise CliError(f"{args.net}: {_first_line(e)}") from None  # the library's own refusal
        raise CliError(f"{args.net}: running the network raised {type(e).__name__}: {_first_line(e)}") from None


# -- commands -------------------------------------------------------------------------------------
def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def cmd_compile(args: argparse.Namespace) -> int:
    if args.output:
        _check_target(args.output)
    spec = _spec(args)
    net = _compile(args, spec)
    print(f"{spec.filename}: {len(spec.inputs)} inputs ({', '.join(spec.inputs)}), "
          f"{len(spec.outputs)} outputs ({', '.join(spec.outputs)})")
    if len(net.layers) <= 16:
        print(net)
    print(net.stats())
    if args.output:
        _write_output(args.output, lambda tmp: _saved(net, tmp))
        print(f"saved to {args.output}")
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    import torch

    if _names_saved_net(args.spec, args.format):  # a saved network: its own weights, nothing compiled
        where, net, hint = args.spec, load_net(args.spec), "compile its spec with --layout mlp"
    else:
        spec = _spec(args)
        where, net, hint = spec.filename, _compile(args, spec), "try --layout mlp"
    if net.layout != "mlp":
        raise CliError(f"{where}: 'show' prints dense weight matrices; this network uses the sparse layout "
                       f"({hint}, or 'threshnet draw' for the gate graph)")
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
    _print_sizes(net.stats())
    return EXIT_OK


def _print_sizes(st) -> None:
    """``show``'s last lines: bytes per dtype, and the smallest integer width of the weights."""
    print(f"parameters {st.parameters}; bytes: fp32 {st.bytes(32)}, fp16 {st.bytes(16)}, int8 {st.bytes(8)}, "
          f"int4 {st.bytes(4)}, int2 {st.bytes(2)}")
    if st.int_bits is not None:
        fits = [f"int{b}" for b in (8, 4, 2) if b >= st.int_bits]
        print(f"integer width: int{st.int_bits} (one power-of-two scale per layer; packed export fits "
              f"{', '.join(fits) or 'none of int8, int4, int2'})")


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
    from .compiler.ports import ports_of

    spec = _spec(args)
    n = len(spec.inputs)
    if n > TABLE_LIMIT:
        raise CliError(f"{spec.filename}: {n} inputs is too many for a truth table (at most {TABLE_LIMIT}, "
                       f"{1 << TABLE_LIMIT} rows); use 'threshnet check' instead")
    net = _compile(args, spec)
    ports = ports_of(spec)
    if ports.has_vectors and not args.bits:
        return _word_table(spec, ports, net)
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
    return EXIT_OK if not bad else EXIT_MISMATCH


def _word_table(spec: Spec, ports, net) -> int:
    """The truth table with one column per word port, rows counting up (first input port most significant)."""
    import torch

    from .check import _rows_exhaustive
    from .compiler.evaluate import evaluate_batch

    n = len(spec.inputs)
    order = [c for p in ports.inputs for c in reversed(p.columns)]  # counting order, most significant first
    count = _rows_exhaustive(n, 0, 1 << n)
    rows = np.empty_like(count)
    rows[:, order] = count
    want = evaluate_batch(spec, rows)
    with torch.no_grad():
        got = net(torch.as_tensor(rows, dtype=next(net.parameters()).dtype)).double().numpy()
    in_vals = [(rows[:, p.start:p.start + p.width].astype(np.int64) << np.arange(p.width)).sum(1)
               for p in ports.inputs]
    want_w = ports.decode_batch(want)
    heads = [p.name for p in ports.inputs] + ["|"] + [p.name for p in ports.outputs] + ["|"] + \
        [f"net.{p.name}" for p in ports.outputs] + [""]
    lines: list[list[str]] = []
    bad = 0
    for r in range(len(rows)):
        ok = bool((want[r] == got[r]).all())
        bad += not ok
        net_cells = []
        for p in ports.outputs:
            bits = got[r, p.start:p.start + p.width]
            if np.isin(bits, (0.0, 1.0)).all():
                net_cells.append(str(int(sum(int(b) << i for i, b in enumerate(bits)))))
            else:
                net_cells.append("?")
        lines.append([str(int(v[r])) for v in in_vals] + ["|"] + [str(int(want_w[p.name][r])) for p in ports.outputs]
                     + ["|"] + net_cells + ["ok" if ok else "MISMATCH"])
    widths = [max([len(h)] + [len(ln[j]) for ln in lines]) for j, h in enumerate(heads)]
    print("  ".join(h.rjust(w) for h, w in zip(heads, widths)).rstrip())
    for ln in lines:
        print("  ".join(v.rjust(w) for v, w in zip(ln, widths)))
    print(f"{len(rows)} rows, {bad} mismatches" + (" - all correct" if not bad else ""))
    return EXIT_OK if not bad else EXIT_MISMATCH


def _saved(net, tmp: Path) -> Path:
    """Save ``net`` under a ``.pt2`` name (torch warns about others); the caller copies it."""
    out = tmp.with_name("network" + SAVED_NET_SUFFIX)
    with _quiet_torch():
        net.save(out)
    return out


def cmd_check(args: argparse.Namespace) -> int:
    from .check import check

    spec = _spec(args)
    net = load_net(args.net) if args.net else _compile(args, spec)
    if args.prove:
        from .prove import available, prove

        if not available():
            raise CliError("--prove needs python-sat with its pb extra: pip install 'threshnet[prove]'")
        proof = _run_user(net, args, lambda: prove(net, spec, timeout=args.timeout, method=args.method))
        print(f"{spec.filename}: {proof}")
        return {"proved": EXIT_OK, "refuted": EXIT_MISMATCH}.get(proof.status, EXIT_TIMEOUT)
    report = _run_user(net, args, lambda: check(net, spec, samples=args.samples, seed=args.seed))
    print(f"{spec.filename}: {report}")
    return EXIT_OK if report.ok else EXIT_MISMATCH


def _assignments(words: Sequence[str]) -> dict[str, tuple[int, str]]:
    """``NAME=VALUE`` words to ``{name: (value, word)}``; malformed, repeated or negative words are errors.

    A value is a number as in the spec language: decimal, ``0x2A`` or ``0b101``.
    """
    from .compiler.ports import parse_number

    values: dict[str, tuple[int, str]] = {}
    for a in words:
        name, eq, val = a.partition("=")
        if not eq or not name:
            raise CliError(f"bad input '{a}': write NAME=VALUE (a bit 0 or 1, or a number: 200, 0xC8, 0b11001000)")
        v = parse_number(val)
        if v is None:
            if val.strip().startswith("-") and parse_number(val.strip()[1:]) is not None:
                raise CliError(f"bad input '{a}': values are unsigned (0 or more)")
            raise CliError(f"bad input '{a}': '{val}' is not a number (decimal, 0x... or 0b...)")
        if name in values:
            raise CliError(f"input '{name}' is given twice ({name}={values[name][1].partition('=')[2]} and {a})")
        values[name] = (v, a)
    return values


def _checked_values(spec: Spec, given: dict[str, tuple[int, str]]) -> dict[str, int]:
    """``given`` checked against the spec's word ports (names, widths, every bit once)."""
    from .compiler.ports import ports_of

    ports = ports_of(spec)
    whole = {p.name: p.width for p in ports.inputs}
    bits = set(spec.inputs)
    for name, (v, word) in given.items():
        if name not in whole and name not in bits:
            raise CliError(f"{spec.filename}: unknown input '{name}'; inputs are {ports.describe_inputs()}")
        width = whole.get(name, 1)
        if v >> width:
            raise CliError(f"bad input '{word}': a value is 0 or 1" if width == 1 else
                           f"bad input '{word}': {name} has {width} bits, so 0..{(1 << width) - 1}")
    values = {name: v for name, (v, _) in given.items()}
    try:
        ports.encode(values)  # missing values, a vector given whole and by a bit
    except ValueError as e:
        raise CliError(f"{spec.filename}: {e}") from None
    return values


def cmd_eval(args: argparse.Namespace) -> int:
    from .compiler.evaluate import evaluate
    from .compiler.ports import ports_of

    given = _assignments(args.assignments)
    spec = _spec(args)
    values = _checked_values(spec, given)
    as_words = args.words or (not args.bits and ports_of(spec).wants_words(list(values)))
    want = evaluate(spec, values, words=as_words)
    if not args.net:
        print(" ".join(f"{k}={v}" for k, v in want.items()))
        return EXIT_OK
    net = load_net(args.net)
    got = _run_user(net, args, lambda: _net_eval(net, spec, values, as_words))
    print(" ".join(f"{k}={v}" for k, v in got.items()))
    if got != want:
        print(f"threshnet: mismatch: the spec gives {' '.join(f'{k}={v}' for k, v in want.items())}",
              file=sys.stderr)
        return EXIT_MISMATCH
    return EXIT_OK


def _net_eval(net, spec: Spec, values: dict[str, int], as_words: bool) -> dict[str, int | str]:
    """A network's outputs for one input, read through the spec's ports (any ``nn.Module`` works).

    Outputs that are not exactly 0/1 are shown as they are (never made into a word).
    """
    import torch

    from .compiler.ports import ports_of

    ports = ports_of(spec)
    param = next(net.parameters(), None)
    dtype = param.dtype if param is not None and param.dtype.is_floating_point else torch.float32
    with torch.no_grad():
        y = net(torch.tensor([ports.encode(values)], dtype=dtype))
    if not isinstance(y, torch.Tensor) or tuple(y.shape) != (1, len(spec.outputs)):
        shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise ValueError(f"expected output of shape (1, {len(spec.outputs)}), got {shape}")
    row = y[0].double().tolist()
    if not as_words or any(v not in (0.0, 1.0) for v in row):
        return {o: int(v) if v in (0.0, 1.0) else _fmt(v) for o, v in zip(spec.outputs, row)}
    return ports.decode([int(v) for v in row])


def cmd_export(args: argparse.Namespace) -> int:
    from .export import ONNX_DTYPES, export_onnx

    _check_target(args.output)
    spec = _spec(args)
    if args.dtype not in ONNX_DTYPES.values():
        raise CliError(f"{spec.filename}: cannot export a {args.dtype} network to ONNX (onnxruntime has no "
                       f"CPU kernels for it); use --dtype {' or '.join(ONNX_DTYPES.values())}")
    if args.activation == "relu" and not args.output_step:
        args.no_output_step = True
    net = _compile(args, spec)

    def produce(tmp: Path) -> None:
        try:
            export_onnx(net, tmp)
        except (ImportError, RuntimeError) as e:
            raise CliError(f"cannot export '{args.output}': {_first_line(e)}") from None

    _write_output(args.output, produce)
    kind = "pure ReLU, no step" if getattr(args, "no_output_step", False) else args.activation
    print(f"wrote {args.output}: ONNX ({kind}, {net.layout} layout), input 'x' (batch, {len(spec.inputs)}), "
          f"output 'y' (batch, {len(spec.outputs)})")
    return EXIT_OK


def _out_format(args: argparse.Namespace) -> str:
    """``convert``'s output format: ``--to``, else OUT's extension (stdout: bool)."""
    if args.to:
        return args.to
    if args.output == "-":
        return "bool"
    ext = Path(args.output).suffix.lower().lstrip(".")
    if ext not in OUT_FORMATS:
        what = f"extension '.{ext}'" if ext else "no extension"
        raise CliError(f"cannot choose a format for '{args.output}' ({what}); use one of "
                       f"{', '.join('.' + f for f in OUT_FORMATS)} or give --to")
    return ext


def cmd_convert(args: argparse.Namespace) -> int:
    from .frontends import write, write_text

    if args.output != "-":
        _check_target(args.output)
    fmt = _out_format(args)
    spec = _spec(args)
    if args.output == "-":
        data = write_text(spec, fmt)
        if isinstance(data, bytes):
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
        else:
            sys.stdout.write(data)
        return EXIT_OK
    _write_output(args.output, lambda tmp: write(spec, tmp, fmt))
    print(f"wrote {args.output}: {len(spec.inputs)} inputs, {len(spec.outputs)} outputs, "
          f"{len(spec.assignments)} assignments", file=sys.stderr)
    return EXIT_OK


def cmd_draw(args: argparse.Namespace) -> int:
    import subprocess

    from .compiler.compiling import compile_stages
    from .export import draw

    ext = Path(args.output).suffix.lower()
    if ext not in DRAW_EXTENSIONS:
        what = f"extension '{ext}'" if ext else "no extension"
        raise CliError(f"cannot draw to '{args.output}' ({what}); use .svg, .png or .pdf (Graphviz) "
                       f"or .dot")
    _check_target(args.output)
    spec = _spec(args)
    c = compile_stages(spec, "step", layout=args.layout, progress=not args.quiet)

    def produce(tmp: Path) -> Path:
        try:
            return draw(c.threshold_graph, tmp)
        except ValueError as e:  # too many gates to draw
            raise CliError(f"{spec.filename}: {_first_line(e)}") from None
        except subprocess.CalledProcessError as e:
            why = _first_line(RuntimeError(e.stderr or "")) if e.stderr else f"exit status {e.returncode}"
            raise CliError(f"cannot draw '{args.output}': Graphviz 'dot' failed: {why}") from None

    written = _write_output(args.output, produce, rename=True)
    if written != Path(args.output):
        print(f"Graphviz 'dot' is not installed; wrote DOT text to {written}")
    else:
        print(f"wrote {written}")
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    from .explain import explain

    names = lambda text: [n.strip() for n in text.split(",")] if text is not None else None  # noqa: E731
    if args.spec:
        _refuse_saved_net(args.spec, None, "explain", net_given=True)
    spec = load_spec(args.spec) if args.spec else None
    net = load_net(args.net)
    try:
        report = explain(net, spec, inputs=names(args.inputs), outputs=names(args.outputs),
                         title=args.net)
    except ImportError as e:
        raise CliError(f"explain needs scipy and sympy (pip install 'threshnet[explain]'): {_first_line(e)}") \
            from None
    except ValueError as e:
        raise CliError(f"{args.net}: {_first_line(e)}") from None
    print(report)
    return EXIT_OK


# -- options --------------------------------------------------------------------------------------
def _whole(text: str, least: int) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if v < least:
        raise argparse.ArgumentTypeError(f"must be {'at least 1' if least == 1 else f'{least} or more'}, got {v}")
    return v


def _max_weight(text: str) -> int:
    return _whole(text, 2)


def _positive_int(text: str) -> int:
    return _whole(text, 1)


def _seed(text: str) -> int:
    return _whole(text, 0)


def _seconds(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got '{text}'") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got '{text}'")
    return v


#: Defaults of options whose explicit use is checked against other options.
_DEFAULTS = {"activation": "relu", "layout": "auto", "dtype": "float32", "objective": "depth",
             "method": "auto", "samples": 100_000, "seed": 0}
#: Options that only shape a compile (meaningless with ``check --net``).
_COMPILE_OPTIONS = (("activation", "--activation"), ("no_output_step", "--no-output-step"),
                    ("layout", "--layout"), ("dtype", "--dtype"), ("objective", "--objective"),
                    ("max_weight", "--max-weight"))
#: Options that only shape how a spec or netlist is read (meaningless for a saved network).
_READ_OPTIONS = (("top", "--top"), ("cut_latches", "--cut-latches"))  # and --rtl/--gates (args.rtl not None)


def validate_options(args: argparse.Namespace) -> None:
    """Refuse meaningless combinations (as argparse usage errors), then fill in the defaults."""
    fail = args.command_parser.error
    given = lambda name: getattr(args, name, None) not in (None, False)  # noqa: E731
    if given("no_output_step") and args.activation == "step":
        fail("--no-output-step needs --activation relu (a step network ends in a step)")
    if args.command == "export" and args.output_step:
        if args.activation == "step":
            fail("--output-step is for --activation relu (a step network always ends in a step)")
        if args.no_output_step:
            fail("--output-step and --no-output-step contradict each other")
    if args.command == "check":
        if not args.prove:
            for name in ("timeout", "method"):
                if given(name):
                    fail(f"--{name} needs --prove")
        else:
            for name in ("samples", "seed"):
                if given(name):
                    fail(f"--{name} is for sampled checks; --prove covers every input")
        if args.net:
            for name, flag in _COMPILE_OPTIONS:
                if given(name):
                    fail(f"{flag} has no effect with --net (the network is loaded, not compiled)")
    if args.command == "show" and _names_saved_net(args.spec, args.format):
        if args.rtl is not None:
            fail(f"{'--rtl' if args.rtl else '--gates'} has no effect on a saved network (it is loaded, not compiled)")
        for name, flag in _COMPILE_OPTIONS + _READ_OPTIONS:
            if given(name):
                fail(f"{flag} has no effect on a saved network (it is loaded, not compiled)")
    for name, value in _DEFAULTS.items():
        if hasattr(args, name) and getattr(args, name) is None:
            setattr(args, name, value)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="threshnet",
        description="Compile boolean logic into exact, checked PyTorch networks.",
        epilog="Run 'threshnet COMMAND --help' for a command's options.",
    )
    p.add_argument("--version", action="version", version=f"threshnet {_version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, help: str, func, net_opts: bool = True,
            spec_help: str = "spec or netlist file, or - for stdin") -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.add_argument("spec", metavar="SPEC", help=spec_help)
        sp.add_argument("--format", choices=IN_FORMATS,
                        help="input format (default: from the file extension; stdin: bool)")
        sp.add_argument("--top", metavar="MODULE", help="Verilog: the top module (default: found by Yosys)")
        level = sp.add_mutually_exclusive_group()
        level.add_argument("--rtl", dest="rtl", action="store_const", const=True, default=None,
                           help="Verilog: require the word-level reading (adders, multipliers, comparators "
                                "compile as words); an error if a cell has none. Default: words when every "
                                "cell has them, else gates")
        level.add_argument("--gates", dest="rtl", action="store_const", const=False,
                           help="Verilog: read the gate-level netlist only (no word-level compilation)")
        sp.add_argument("--cut-latches", action="store_true",
                        help="sequential netlists: each latch becomes an extra input (its state) and an "
                             "extra output NAME$next (its next state), so one clock step compiles")
        if net_opts:
            sp.add_argument("--activation", choices=ACTIVATIONS, default=None,
                            help="hidden activation (default: relu)")
            sp.add_argument("--no-output-step", action="store_true",
                            help="relu only: end in a Linear layer, no step anywhere")
            sp.add_argument("--layout", choices=LAYOUTS, default=None,
                            help="dense Linear layers (mlp), index-gathering layers (sparse), "
                                 "or auto: mlp while the dense weights stay small (default)")
            sp.add_argument("--dtype", choices=FLOAT_DTYPES, default=None,
                            help="weights' dtype; refused unless the network is exact in it (default float32)")
            sp.add_argument("--objective", choices=OBJECTIVES, default=None,
                            help="word-level specs: fewest layers exact in the dtype (depth, default) or "
                                 "fewest neurons (size)")
            sp.add_argument("--max-weight", type=_max_weight, default=None, metavar="W",
                            help="word-level specs: no weight above W in magnitude (W >= 2)")
        sp.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
        sp.set_defaults(func=func, command_parser=sp)
        return sp

    c = add("compile", "compile a spec, print the network and its sizes, optionally save it", cmd_compile)
    c.add_argument("-o", "--output", metavar="FILE",
                   help="save the network (a torch.save archive of its tensors; see docs/api.md)")
    c.add_argument("--dump-ir", metavar="DIR",
                   help="write the text of every intermediate form (spec, boolean, mapped, threshold, "
                        "layered, plans) into DIR, one file per stage")
    add("show", "print each layer's weights and biases, labelled by signal names", cmd_show,
        spec_help=f"spec or netlist file, - for stdin, or a saved network (*{SAVED_NET_SUFFIX}: shown as saved, "
                  "not compiled)")
    tb = add("table", f"print the truth table of spec and network side by side (<= {TABLE_LIMIT} inputs)",
             cmd_table)
    tb.add_argument("--bits", action="store_true",
                    help="one column per bit (a[0], a[1], ...) instead of one number per vector port")
    ck = add("check", "compile (or load --net) and compare with the spec, or prove it equal with "
             "--prove; exit 0 if equal, 1 if not, 3 if the proof timed out", cmd_check)
    ck.add_argument("--net", metavar="FILE", help="check this network instead of compiling: a saved "
                    ".pt2 file, or file.py:NAME for an nn.Module (or a class or function making one)")
    ck.add_argument("--prove", action="store_true",
                    help="prove equivalence on every input with SAT (needs threshnet[prove])")
    ck.add_argument("--timeout", type=_seconds, default=None, metavar="S",
                    help="--prove: give up after S seconds (exit 3)")
    ck.add_argument("--method", choices=PROVE_METHODS, default=None,
                    help="--prove: one miter, node-by-node sweeping, or auto (monolithic for 3 s, "
                         "then nodes; default)")
    ck.add_argument("--samples", type=_positive_int, default=None,
                    help="random rows when there are more than 20 inputs (default 100000)")
    ck.add_argument("--seed", type=_seed, default=None, help="random seed for sampled checks (default 0)")
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
    dr.add_argument("--layout", choices=LAYOUTS, default=None,
                    help="which layering to draw (default: auto)")
    ev = add("eval", "evaluate the spec on one input, e.g. 'threshnet eval adder8.bool a=200 b=100'",
             cmd_eval, net_opts=False)
    ev.add_argument("assignments", nargs="*", metavar="NAME=VALUE",
                    help="an input word or bit: decimal, 0x... or 0b... (a vector a[8] takes 0..255)")
    shown = ev.add_mutually_exclusive_group()
    shown.add_argument("--bits", action="store_true", help="print every output bit (s[0]=...), not words")
    shown.add_argument("--words", action="store_true",
                       help="print output words (s=300) even when the inputs are given bit by bit")
    ev.add_argument("--net", metavar="FILE", help="run this network on the input instead (a saved .pt2 file, "
                    "or file.py:NAME); exit 1 if it disagrees with the spec")
    xp = sub.add_parser("explain", help="print the boolean function of every neuron of a small network",
                        description="print the boolean function of every neuron of a small network "
                                    "(at most 20 inputs): a threshold gate when it is one, a minimized "
                                    "formula, and the truth table")
    xp.add_argument("net", metavar="NET", help="a saved .pt2 network, or file.py:NAME for an nn.Module "
                                               "(or a class or function making one)")
    xp.add_argument("--spec", metavar="SPEC", help="take input and output names from this spec or netlist")
    xp.add_argument("--inputs", metavar="NAMES", help="comma-separated input names (default: x0, x1, ...)")
    xp.add_argument("--outputs", metavar="NAMES", help="comma-separated output names")
    xp.set_defaults(func=cmd_explain, command_parser=xp)
    return p


def _version() -> str:
    from . import __version__

    return __version__


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def error_text(e: SpecError) -> str:
    """A spec error as printed: the located block, or one ``threshnet: error:`` line if unlocated."""
    if e.line is None:
        return f"threshnet: error: {e.filename}: {e.message}"
    return str(e)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and getattr(args, "func", None) is cmd_eval and all("=" in x and not x.startswith("-") for x in extra):
        args.assignments += extra  # NAME=VALUE after an option: 'eval SPEC --net N a=1' (argparse stops at --net)
    elif extra:
        args = parser.parse_args(argv)  # the usual usage error
    validate_options(args)
    try:
        code = args.func(args)
        sys.stdout.flush()
        return code
    except SpecError as e:
        print(error_text(e), file=sys.stderr)
    except CliError as e:
        print(f"threshnet: error: {e}", file=sys.stderr)
    except BrokenPipeError:  # e.g. piped into `head`
        _silence_stdout()
        return EXIT_OK
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except OSError as e:
        if e.filename is None and _stdout_failed():
            _silence_stdout()
            print(f"threshnet: error: cannot write to standard output: {e.strerror or e}", file=sys.stderr)
        else:
            where = f"{e.filename}: " if e.filename else ""
            print(f"threshnet: error: {where}{e.strerror or e}", file=sys.stderr)
    except (ValueError, TypeError) as e:  # a library refusal that no command put into words
        print(f"threshnet: error: {_first_line(e)}", file=sys.stderr)
    except Exception as e:  # last resort: a bug, reported in one line
        if os.environ.get("THRESHNET_DEBUG"):
            raise
        print(f"threshnet: error: internal error: {type(e).__name__}: {_first_line(e)} "
              f"(please report this with the command; THRESHNET_DEBUG=1 shows the traceback)", file=sys.stderr)
    return EXIT_USAGE


def _stdout_failed() -> bool:
    try:
        sys.stdout.flush()
    except OSError:
        return True
    return False


if __name__ == "__main__":
    sys.exit(main())
