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


#: Tests in files of their own owners that take more than a few seconds on 2 cores; `make test-fast`
#: (``-m "not slow"``) leaves them out.  Node ids, or prefixes of parametrized ones.
SLOW_TESTS = (
    "tests/test_scale.py::test_100k_line_spec_in_shuffled_order",
    "tests/test_scale.py::test_nested_mixed_operators_50k_deep",
    "tests/test_scale.py::test_nested_nots_50k_deep",
    "tests/test_netlists.py::test_generated_100k_gate_circuit",
    "tests/test_netlists.py::test_circuit_compiles_and_checks",
    "tests/test_cli.py::test_saved_network_loads_with_torch_alone",
    "tests/test_cli.py::test_eval_and_stdin",
    "tests/test_cli.py::test_check_prove_refutes_notebook_adder",
    "tests/test_cli.py::test_errors_never_traceback",
    "tests/test_cli.py::test_check_exit_codes",
    "tests/test_prove.py::test_deep_spec",
    "tests/test_prove.py::test_random_networks_agree_with_exhaustive_check",
    "tests/test_prove.py::test_c6288_node_by_node_and_timeout",
    "tests/test_verilog.py::test_epfl_verilog_matches_aig",
    "tests/test_layouts.py::test_onnx_matches_torch",
    "tests/test_onnx.py::test_every_dtype_is_valid_and_exact",
    "tests/test_recursion.py::test_network_of_a_100k_chain",
    "tests/test_recursion.py::test_check_on_5000_operand_chains",
    "tests/test_recursion.py::test_spec_copies_and_evaluates",
    "tests/test_recursion_prove.py::test_prove_100k_deep_not",
    "tests/test_recursion_prove.py::test_prove_5000_operands",
    "tests/test_recursion_prove.py::test_prove_100k_operand_mixed_chain",
    "tests/test_examples_reference.py::test_example_truth_table[majority17.bool]",
)


def pytest_collection_modifyitems(config, items):
    import pytest

    for item in items:
        if item.nodeid.startswith(SLOW_TESTS):
            item.add_marker(pytest.mark.slow)


def notebook_adder() -> torch.nn.Module:
    """The lecture notebook's ``AdderNN`` with its hand-set weights, from examples/notebook_adder.py."""
    path = Path(__file__).resolve().parent.parent / "examples" / "notebook_adder.py"
    spec = importlib.util.spec_from_file_location("notebook_adder_example", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.notebook_adder()
