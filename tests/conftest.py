"""Shared test setup: one torch thread, and the Hypothesis profiles.

Profiles: ``ci`` (chosen when the ``CI`` environment variable is set: no
deadline, a modest number of examples, derandomized so every run tries the
same inputs, a reproduction blob printed on failure, no slow "explain" phase) and ``dev`` (the
default: more examples, random each run).  ``HYPOTHESIS_PROFILE=name``
overrides the choice.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import torch
from hypothesis import HealthCheck, Phase, settings

torch.set_num_threads(1)
os.environ.setdefault("THRESHNET_VERIFY", "1")

settings.register_profile(
    "ci",
    deadline=None,
    max_examples=40,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
    # No "explain" phase: it traces every line under sys.settrace, which turns a failure's
    # report into minutes when the failing code is the compiler.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
)
settings.register_profile(
    "dev",
    deadline=None,
    max_examples=100,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


def notebook_adder() -> torch.nn.Module:
    """The lecture notebook's ``AdderNN`` with its hand-set weights, from examples/notebook_adder.py."""
    path = Path(__file__).resolve().parent.parent / "examples" / "notebook_adder.py"
    spec = importlib.util.spec_from_file_location("notebook_adder_example", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.notebook_adder()
