"""The one rule for pausing Python's cyclic garbage collector around allocation-heavy work.

Readers, the parser, the compile driver (``compile_stages``), ``build``, ``check``,
``prove``, the spec's one walk (``spec.fold``) and the packed pickles of specs and word
programs allocate hundreds of thousands of small acyclic objects (tuples, attribute
dicts, graph nodes, modules).  Every 700 allocations the collector scans the young
objects, and every so often all of them: on a million-gate netlist those passes took a
third of the time, and evaluating a 100,000-line spec once took 8 s with them and 3 s
without.  Reference counting still frees every acyclic object at once; the collector is
re-enabled (if it was on) when the outermost paused function returns or raises, so
anything cyclic is collected then.
"""

from __future__ import annotations

import functools
import gc
from typing import Callable, TypeVar

__all__ = ["without_gc"]

_F = TypeVar("_F", bound=Callable)


def without_gc(fn: _F) -> _F:
    """``fn`` run with the cyclic garbage collector paused (see the module docstring)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not gc.isenabled():
            return fn(*args, **kwargs)
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            gc.enable()

    return wrapper  # type: ignore[return-value]
