"""Fill numba's disk cache at install time: ``python -m threshnet._warm`` (``make install`` runs it).

Two passes are numba-compiled loops: the mapping of graphs of
:data:`~threshnet.compiler.mapping.COMPILED_FROM` nodes or more, and the bound sweep of networks
of :data:`~threshnet._boundsweep.COMPILED_FROM` neurons plus weights or more.  numba compiles a
loop on its first call (about 25 s for the mapping's, 8 s for the sweep's, on one core) and keeps
the machine code in ``__pycache__`` beside the source; a later process loads it in under a second.
Without this step the first large compile after an install pays those seconds, and so does every
test process of a fresh checkout.

Compiling one random netlist that is large enough for both, through :func:`threshnet.compile`,
calls each loop with the argument types real compiles use, so the cache holds what they load.
Nothing is written but numba's cache; the network is dropped.
"""

from __future__ import annotations

import random
import sys
import time

#: Gates of the netlist: lowered to more than the mapping's 5,000 nodes, and compiled to more than the
#: sweep's 50,000 neurons plus weights.
GATES = 12_000


def netlist(n_gates: int = GATES, n_inputs: int = 64, seed: int = 1) -> str:
    """Spec text of a random netlist: AND/OR/XOR of recent signals, some negated (deterministic)."""
    rng = random.Random(seed)
    names = [f"x{i}" for i in range(n_inputs)]
    lines = []
    for i in range(n_gates):
        a = rng.choice(names[-1000:])
        b = rng.choice(names[-1000:] if rng.random() < 0.9 else names[:n_inputs])
        lines.append(f"g{i} = {'~' if rng.random() < 0.3 else ''}{a} {rng.choice('&|^')} {b}")
        names.append(f"g{i}")
    return "\n".join(lines) + "\n"


def main() -> int:
    import threshnet
    from threshnet import _boundsweep

    t0 = time.perf_counter()
    net = threshnet.compile(netlist())
    # Both loops must have run compiled, else the cache is not what large compiles load.
    missing = [what for what, ran in (("the mapping's (compiler/_mapkernel.py)",
                                       "threshnet.compiler._mapkernel" in sys.modules),
                                      ("the bound sweep's (_boundsweep.py)", _boundsweep._compiled is not None))
               if not ran]
    if missing:
        print(f"threshnet._warm: error: the netlist of {GATES:,} gates did not run {' or '.join(missing)} "
              f"numba loop; raise GATES", file=sys.stderr)
        return 1
    print(f"threshnet: numba's cache is warm ({time.perf_counter() - t0:.0f} s; a {net.layout} network of "
          f"{sum(net.stats().neurons):,} neurons)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
