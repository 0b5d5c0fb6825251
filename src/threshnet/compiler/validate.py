"""One validation of a spec's signals, shared by the spec parser and every netlist reader.

Whatever it was read from, a spec is ports plus drivers: each driven signal has one
expression, which reads some names.  Once a reader has collected them (refusing a second
declaration or a second driver as it goes, where the file's order gives the message), it
calls :func:`validate`, which checks, in this order:

1. every name read is an input or driven (*undefined*); the first such read in file order
   is reported, at the place the reader gives for it;
2. every declared output is an input or driven;
3. the drivers are acyclic (*combinational loop*), reported as ``a -> b -> a`` where
   ``a -> b`` means ``a`` reads ``b``, starting from the loop's earliest signal in the
   file; a loop through more than :data:`LOOP_SHOWN` signals names the first ones;
4. there is at least one output.

A loop is reported before a missing output because a loop is why a spec whose every
assignment is read has no outputs.  Only the words differ between the spec language
("name", "assigned") and netlists ("signal", "driven"): :class:`Wording` holds them, and
:data:`SPEC_WORDS` / :data:`NETLIST_WORDS` are the two sets.  Where things are (a
:class:`~threshnet.compiler.errors.Span`, a netlist line) is opaque here: each reader
passes its own places and a ``fail(message, place)`` that makes its ``SpecError``.

Everything is iterative (netlists have 100k+ signals and chains thousands deep).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Collection, Generic, Hashable, Iterable, Mapping, Sequence, TypeVar

W = TypeVar("W")  # a reader's notion of a place in the file

#: Signals of a long combinational loop named in its message.
LOOP_SHOWN = 10


@dataclass(frozen=True)
class Wording:
    """The messages of :func:`validate` in one family of formats (``{name}`` is filled in)."""

    undefined: str
    output_undefined: str
    no_outputs: str


SPEC_WORDS = Wording(
    undefined="undefined name '{name}' (not an input and never assigned)",
    output_undefined="output '{name}' is declared but never defined",
    no_outputs="spec has no outputs",
)
NETLIST_WORDS = Wording(
    undefined="undefined signal '{name}' (not an input and never driven)",
    output_undefined="output '{name}' is never driven",
    no_outputs="the netlist has no outputs",
)


@dataclass(frozen=True)
class Driver(Generic[W]):
    """One driven signal: the names its expression reads and where it is.

    ``reads_at`` gives the place of each read (same length as ``reads``); without it a
    read is reported at ``where``.  ``line`` orders drivers in the file (``None``: unknown,
    first).  ``in_graph=False`` marks a latch's next-state function: its reads must be
    defined, but a latch breaks every loop through it.
    """

    reads: Sequence[str]
    where: W
    line: int | None = None
    reads_at: Sequence[W] | None = None
    in_graph: bool = True


def validate(
    inputs: Collection[str],
    outputs: Mapping[str, W],
    drivers: Mapping[str, Driver[W]],
    fail: Callable[[str, W | None], Exception],
    words: Wording,
    *,
    also_defined: Collection[str] = (),
    latches: Iterable[Driver[W]] = (),
    nowhere: W | None = None,
) -> None:
    """Check the rules of the module docstring; raise ``fail(message, place)`` on the first broken one.

    ``drivers`` maps each driven signal to its :class:`Driver` (in file order);
    ``also_defined`` names signals defined otherwise (latch outputs), and ``latches`` the
    latches' next-state readers.  ``nowhere`` is the place of a spec-wide problem (no
    outputs).
    """

    def defined(name: str) -> bool:
        return name in drivers or name in inputs or name in also_defined

    readers = [d for d in drivers.values()] + list(latches)
    first: tuple[int, int, str, W] | None = None
    for order, d in enumerate(readers):
        key = d.line if d.line is not None else 0
        if first is not None and key >= first[0]:
            continue
        for k, r in enumerate(d.reads):
            if not defined(r):
                first = (key, order, r, d.reads_at[k] if d.reads_at is not None else d.where)
                break
    if first is not None:
        raise fail(words.undefined.format(name=first[2]), first[3])

    for name, where in outputs.items():
        if not defined(name):
            raise fail(words.output_undefined.format(name=name), where)

    _check_loops(drivers, fail)

    if not outputs:
        raise fail(words.no_outputs, nowhere)


def _check_loops(drivers: Mapping[str, Driver[W]], fail: Callable[[str, W | None], Exception]) -> None:
    def deps(n: str) -> Sequence[str]:
        return drivers[n].reads

    def is_node(n: str) -> bool:
        d = drivers.get(n)
        return d is not None and d.in_graph

    cycle = find_cycle((n for n, d in drivers.items() if d.in_graph), deps, is_node)
    if cycle is None:
        return
    order = {n: i for i, n in enumerate(drivers)}

    def key(n: str) -> tuple[int, int]:
        line = drivers[n].line
        return (line if line is not None else 0, order[n])

    start = min(cycle, key=key)
    i = cycle.index(start)
    ring = cycle[i:] + cycle[:i] + [start]
    if len(ring) > LOOP_SHOWN + 2:
        text = f"combinational loop through {len(cycle)} signals: " + " -> ".join(
            ring[:LOOP_SHOWN] + ["...", start]
        )
    else:
        text = "combinational loop: " + " -> ".join(ring)
    raise fail(text, drivers[start].where)


N = TypeVar("N", bound=Hashable)


def find_cycle(nodes: Iterable[N], deps: Callable[[N], Iterable[N]], is_node: Callable[[N], bool]) -> list[N] | None:
    """A cycle (list of nodes, each depending on the next, the last on the first) or ``None``.

    Iterative depth-first search; ``deps(n)`` gives the names ``n`` reads and ``is_node``
    filters them to nodes of the graph.
    """
    state: dict[N, int] = {}  # 1 = on the current path, 2 = finished
    for root in nodes:
        if root in state:
            continue
        path = [root]
        iters = [iter(deps(root))]
        state[root] = 1
        while path:
            for nxt in iters[-1]:
                if not is_node(nxt):
                    continue
                s = state.get(nxt)
                if s == 1:
                    return path[path.index(nxt):]
                if s is None:
                    state[nxt] = 1
                    path.append(nxt)
                    iters.append(iter(deps(nxt)))
                    break
            else:
                state[path.pop()] = 2
                iters.pop()
    return None
