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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

os.environ.setdefault("THRESHNET_VERIFY", "1")

#: ``pytester`` runs a pytest session inside a test (tests/test_docs.py runs docs/testing.md's example).
pytest_plugins = ("pytester",)


def pytest_configure(config):
    """One torch thread and the Hypothesis profiles, in every process that runs tests.

    The pytest-xdist controller runs none: it skips importing torch and Hypothesis (about 4 s
    before its workers can start)."""
    if getattr(config, "workerinput", None) is None and getattr(config.option, "numprocesses", None):
        return
    import torch
    from hypothesis import HealthCheck, Phase, settings

    torch.set_num_threads(1)
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
    # `make test-fast`: the ci profile with fewer examples per property (tests that set their own count keep it).
    settings.register_profile("fast", parent=settings.get_profile("ci"), max_examples=10)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


#: Tests in files of their own owners that take more than a second on 2 cores; `make test-fast`
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
    "tests/test_recursion.py::test_spec_pickles_as_a_few_objects",
    "tests/test_recursion_prove.py::test_prove_100k_deep_not",
    "tests/test_recursion_prove.py::test_prove_5000_operands",
    "tests/test_recursion_prove.py::test_prove_100k_operand_mixed_chain",
    "tests/test_mapping_kernel.py::test_random_netlists",
    "tests/test_mapping_kernel.py::test_shared_graphs",
    "tests/test_precision.py::test_sweep_compiled_and_interpreted_agree",
    "tests/test_examples_reference.py::test_example_truth_table[majority17.bool]",
    # Over 0.75 s each in `make test-fast` (measured on 2 cores, 2026-12-01):
    "tests/test_compile.py::test_compiling_does_not_import_sympy",
    "tests/test_arith_compile.py::test_random_rows_wide[add3",
    "tests/test_arith_compile.py::test_random_rows_wide[mul",
    "tests/test_arith_compile.py::test_random_rows_wide[popcount",
    "tests/test_arith_compile.py::test_targets_16x16_and_popcount64",
    "tests/test_bitsim.py::test_check_is_independent_of_lower",
    "tests/test_bitsim.py::test_specsim_deep_chains_need_no_recursion",
    "tests/test_cli.py::test_check_prove_proves[adder8]",
    "tests/test_cli.py::test_check_prove_proves[mult4]",
    "tests/test_cli.py::test_check_prove_saved_network_and_timeout",
    "tests/test_cli_errors.py::test_binary_aiger_on_stdin",
    "tests/test_cli_errors.py::test_cli_error[compile_missing_dir]",
    "tests/test_cli_errors.py::test_cli_error[compile_to_directory]",
    "tests/test_cli_errors.py::test_write_to_a_full_device",
    "tests/test_elaborate.py::test_deep_v2_expression_is_iterative",
    "tests/test_elaborate.py::test_random_v2_specs_bits_equal_words",
    "tests/test_elaborate.py::test_render_round_trip",
    "tests/test_examples_reference.py::test_example_truth_table[adder8.bool]",
    "tests/test_examples_reference.py::test_example_truth_table[comparator8.bool]",
    "tests/test_examples_reference.py::test_example_truth_table[popcount16.bool]",
    "tests/test_explain.py::test_values_gates_and_formulas_match_the_module",
    "tests/test_frontends.py::test_deep_chain_out_of_order_and_wide_gate",
    "tests/test_frontends.py::test_epfl_arithmetic_oracles[aig]",
    "tests/test_frontends.py::test_epfl_arithmetic_oracles[blif]",
    "tests/test_frontends.py::test_every_file_reads[epfl/multiplier.aig]",
    "tests/test_frontends.py::test_every_file_reads[epfl/multiplier.blif]",
    "tests/test_frontends.py::test_every_file_reads[epfl/square.blif]",
    "tests/test_frontends.py::test_formats_compute_the_same_function[epfl/arbiter.blif-epfl/arbiter.aig]",
    "tests/test_frontends.py::test_formats_compute_the_same_function[epfl/multiplier.blif-epfl/multiplier.aig]",
    "tests/test_frontends.py::test_formats_compute_the_same_function[epfl/square.blif-epfl/square.aig]",
    "tests/test_frontends.py::test_multiplier_reads_fast",
    "tests/test_frontends.py::test_port_counts_match_reference_table[epfl/multiplier.blif]",
    "tests/test_fuzz.py::test_netlist_text_reads_back",
    "tests/test_fuzz.py::test_xor_strategy_reaches_every_feature",
    "tests/test_ir.py::test_deep_graph_without_recursion",
    "tests/test_layouts.py::test_auto_picks_mlp_for_small_and_sparse_for_large",
    "tests/test_layouts.py::test_drawing_refuses_huge_graphs",
    "tests/test_mapping.py::test_abc_preoptimized_start_is_equivalent_and_kept_only_when_smaller",
    "tests/test_mapping.py::test_mapping_keeps_the_function_of_mixed_graphs",
    "tests/test_mapping.py::test_random_symmetric_functions_as_gates",
    "tests/test_network.py::test_bare_layers_exact_within_noise_radius",
    "tests/test_network.py::test_damaged_files_raise_value_error_naming_the_path",
    "tests/test_network.py::test_documented_runner_with_torch_alone",
    "tests/test_network.py::test_file_is_deterministic_and_small",
    "tests/test_network.py::test_first_format_still_loads",
    "tests/test_neurons.py::test_plan_tops_bound_every_activation",
    "tests/test_onnx.py::test_cli_export_dtypes",
    "tests/test_ports.py::test_multiplier_words",
    "tests/test_precision.py::test_c6288_relu_sums_and_noise_radius",
    "tests/test_precision.py::test_certified_dtypes_are_exact_on_every_row",
    "tests/test_precision.py::test_majority_chain_gets_one_answer_from_compile_and_stats[mlp]",
    "tests/test_precision.py::test_majority_chain_gets_one_answer_from_compile_and_stats[sparse]",
    "tests/test_properties.py::test_strategy_reaches_every_feature",
    "tests/test_prove.py::test_compiled_specs_are_proved",
    "tests/test_prove.py::test_examples_proved[monolithic-relu-False-adder8]",
    "tests/test_prove.py::test_examples_proved[monolithic-relu-False-comparator8]",
    "tests/test_prove.py::test_examples_proved[monolithic-relu-False-mult4]",
    "tests/test_prove.py::test_examples_proved[monolithic-relu-True-adder8]",
    "tests/test_prove.py::test_examples_proved[monolithic-relu-True-mult4]",
    "tests/test_prove.py::test_examples_proved[nodes-relu-False-adder8]",
    "tests/test_prove.py::test_examples_proved[nodes-relu-False-comparator8]",
    "tests/test_prove.py::test_examples_proved[nodes-relu-False-mult4]",
    "tests/test_prove.py::test_examples_proved[nodes-relu-True-adder8]",
    "tests/test_prove.py::test_iscas_proved[relu-c499]",
    "tests/test_prove.py::test_iscas_proved[step-c880]",
    "tests/test_recover.py::test_c6288_as_compiled_is_provable",
    "tests/test_recover.py::test_c6288_is_one_sum_array",
    "tests/test_recover.py::test_epfl_adder_layers_and_agreement",
    "tests/test_recursion.py::test_mlp_layout_refuses_a_dense_net_too_big_for_memory",
    "tests/test_recursion.py::test_pickle_and_fold_agree_with_the_tree",
    "tests/test_recursion.py::test_render_and_parse_round_trip_deep",
    "tests/test_recursion_prove.py::test_prove_245_operands[mixed-monolithic]",
    "tests/test_recursion_prove.py::test_prove_245_operands[mixed-nodes]",
    "tests/test_recursion_prove.py::test_prove_245_operands[xor-monolithic]",
    "tests/test_recursion_prove.py::test_prove_245_operands[xor-nodes]",
    "tests/test_recursion_prove.py::test_prove_xor_chain_merges_without_sat[relu-False]",
    "tests/test_recursion_prove.py::test_prove_xor_chain_merges_without_sat[relu-True]",
    "tests/test_rtl.py::test_every_cell_agrees_with_the_bit_level_netlist",
    "tests/test_rtl.py::test_limb_adder_merges_sums_and_carries_in",
    "tests/test_rtl.py::test_mix32_word_path_is_exact_and_shallow",
    "tests/test_rtl.py::test_unsupported_cell_keeps_the_bit_level_path",
    "tests/test_rtl_read.py::test_adder_and_multiplier_both_ways",
    "tests/test_rtl_read.py::test_cli_rtl_and_gates_flags",
    "tests/test_rtl_read.py::test_gate_netlist_keeps_the_gate_path",
    "tests/test_rtl_read.py::test_read_text_takes_the_word_path_too",
    "tests/test_rtl_read.py::test_unsupported_cell_falls_back_or_is_refused",
    "tests/test_scale.py::test_nested_parentheses_50k_deep",
    "tests/test_synth.py::test_256_bit_networks_on_random_values[relu]",
    "tests/test_synth.py::test_parsed_specs_compile_and_check[relu]",
    "tests/test_train.py::test_lecture_architecture_trains_to_a_proved_half_adder",
    "tests/test_verilog.py::test_epfl_adder_verilog_adds",
    "tests/test_verilog.py::test_iscas85_verilog_matches_bench[c1908.v]",
    "tests/test_verilog.py::test_iscas85_verilog_matches_bench[c6288.v]",
    "tests/test_verilog.py::test_odd_paths_and_includes",
    "tests/test_verilog.py::test_registers_are_refused_or_cut",
    "tests/test_verilog.py::test_semantic_errors",
    "tests/test_verilog.py::test_systemverilog_and_read_text",
    "tests/test_verilog.py::test_vectors_hierarchy_and_arithmetic",
    "tests/test_verilog.py::test_yosys_time_is_recorded",
    # Over 1.4 s each in `make test-fast` (2 cores, 2026-12-02):
    "tests/test_mapping_kernel.py::test_generated_netlist",
    "tests/test_fuzz.py::test_xor_specs_compile_everywhere",
    "tests/test_layering.py::test_optimal_layers_are_feasible_and_fewest",
    "tests/test_train.py::test_other_small_specs[full_adder]",
)


#: Test files that take longest in the full suite, longest first (summed test time on 2 cores, 2026-12-02:
#: 47, 46, 37, 36, 31, ... 5 s; every file of 5 s or more).  They run first and the short files last, so no
#: worker starts a long file near the end while the other idles (longest-first scheduling; the Makefile
#: passes --no-loadscope-reorder, else pytest-xdist orders files by their number of tests).
LONGEST_FILES = (
    "tests/test_recursion_prove.py",
    "tests/test_recursion.py",
    "tests/test_netlists.py",
    "tests/test_scale.py",
    "tests/test_prove.py",
    "tests/test_properties.py",
    "tests/test_arith_compile.py",
    "tests/test_verilog.py",
    "tests/test_frontends.py",
    "tests/test_docs.py",
    "tests/test_precision.py",
    "tests/test_synth.py",
    "tests/test_mapping_kernel.py",
    "tests/test_fuzz.py",
    "tests/test_rtl.py",
    "tests/test_arith.py",
    "tests/test_cli.py",
    "tests/test_synth_prove.py",
    "tests/test_rtl_read.py",
    "tests/test_network.py",
    "tests/test_examples_reference.py",
    "tests/test_writers.py",
)


def pytest_sessionfinish(session, exitstatus):
    import sys

    if "cliproc" in sys.modules:  # the warm command servers of tests/cliproc.py
        sys.modules["cliproc"].close_all()


def pytest_collection_modifyitems(config, items):
    import pytest

    for item in items:
        if item.nodeid.startswith(SLOW_TESTS):
            item.add_marker(pytest.mark.slow)
    rank = {f: q for q, f in enumerate(LONGEST_FILES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))  # stable


def notebook_adder() -> torch.nn.Module:
    """The lecture notebook's ``AdderNN`` with its hand-set weights, from examples/notebook_adder.py."""
    path = Path(__file__).resolve().parent.parent / "examples" / "notebook_adder.py"
    spec = importlib.util.spec_from_file_location("notebook_adder_example", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.notebook_adder()


#: Why a test that proves is skipped: ``threshnet.prove`` needs python-sat with its pb extra and pindakaas.
NO_PROVER = "threshnet.prove needs python-sat and pindakaas (pip install 'threshnet[prove]')"


def _prover_missing() -> bool:
    from threshnet.testing import prover_available

    return not prover_available()


def require_prover() -> None:
    """Skip the calling test (or module) unless ``threshnet.prove`` can run; the one rule, the library's own."""
    import pytest

    if _prover_missing():
        pytest.skip(NO_PROVER, allow_module_level=True)


def needs_prover(test):
    """``@needs_prover``: the skip of :func:`require_prover` as a mark."""
    import pytest

    return pytest.mark.skipif(_prover_missing(), reason=NO_PROVER)(test)
