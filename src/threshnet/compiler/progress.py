"""Stage progress on stderr (tqdm), shown only once a run has taken over a second."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Callable, Iterator

#: Seconds before a bar appears; quick runs print nothing.
DELAY = 1.0


@contextmanager
def stages(names: list[str], enabled: bool, desc: str = "compile") -> Iterator[Callable[[str], None]]:
    """Yield ``start(name)``; call it as each stage begins."""
    if not enabled:
        yield lambda name: None
        return
    from tqdm import tqdm

    bar = tqdm(total=len(names), desc=desc, unit="stage", delay=DELAY, file=sys.stderr, leave=False,
               bar_format="{desc} ({n}/{total} stages done, {elapsed})")
    started = False

    def start(name: str) -> None:
        nonlocal started
        if started:
            bar.update(1)
        started = True
        bar.set_description_str(f"{desc}: {name}", refresh=False)

    try:
        yield start
        if started:
            bar.update(1)
    finally:
        bar.close()
