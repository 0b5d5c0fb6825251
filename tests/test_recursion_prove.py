"""``prove`` on the chains of test_recursion: 245 and 5,000 operands, a 100,000-operand mixed chain
(with test_recursion's network checks), the 100,000-deep ``~``, at Python's default recursion limit (a
file of its own so that the two test workers share the long runs)."""

from __future__ import annotations

import functools

import pytest
import torch

import threshnet
from threshnet.compiler.spec import Spec
from test_recursion import (AND, N, OR, SYM, XOR, chain_text, default_recursion_limit,  # noqa: F401 (autouse)
                            exercise_network)

# --- prove ------------------------------------------------------------------------------------------------------------


prove_deps = pytest.mark.skipif(
    not __import__("importlib").import_module("threshnet.prove").available(),
    reason="threshnet.prove needs python-sat and pindakaas (pip install 'threshnet[prove]')")


@prove_deps
@pytest.mark.parametrize("method", ["monolithic", "nodes"])
@pytest.mark.parametrize("kind", [AND, OR, XOR, "mixed", "not"])
def test_prove_245_operands(kind, method):
    """The issue's case: 245 operands overflowed the stack in check --prove (a deepcopy of the net)."""
    text = chain_text(245, kind)
    for activation, layout in [("step", "mlp"), ("relu", "sparse")]:
        net = threshnet.compile(text, activation, layout=layout)
        assert threshnet.prove(net, text, method=method).proved
    first = "&" if kind == "mixed" else SYM.get(kind)  # the first operator, swapped for another
    wrong = (text.replace("y = ~", "y = ", 1) if kind == "not"
             else text.replace(f"y = i0 {first} ", f"y = i0 {'&' if first != '&' else '|'} ", 1))
    assert wrong != text
    rep = threshnet.prove(threshnet.compile(wrong, "step", layout="sparse"), text, method=method, simulate=False)
    assert rep.status == "refuted"


@prove_deps
@pytest.mark.parametrize("kind", [XOR, "mixed", "not"])
def test_prove_5000_operands(kind):
    text = chain_text(5000, kind)
    net = threshnet.compile(text, "step", layout="sparse")
    assert threshnet.prove(net, text, method="nodes").proved


@prove_deps
@pytest.mark.parametrize("activation,output_step", [("step", True), ("relu", True), ("relu", False)])
def test_prove_xor_chain_merges_without_sat(activation, output_step):
    """A left-deep XOR chain against the network's balanced parity tree: the prover regroups the
    chain, and every parity the network computes is merged on a small cut, with no SAT call."""
    text = chain_text(512, XOR)
    net = threshnet.compile(text, activation, output_step=output_step, layout="sparse")
    rep = threshnet.prove(net, text, method="nodes")
    assert rep.proved and rep.merged >= 512 // 8 and rep.sat_calls <= 1
    wrong = threshnet.compile(chain_text(512, XOR).replace("^ i300 ", "& i300 ", 1), activation, layout="sparse")
    assert threshnet.prove(wrong, text, method="nodes", simulate=False).status == "refuted"


def test_prove_100k_operand_mixed_chain(tmp_path):
    """Item 6 of the crash-free issue: the 100,000-operand mixed chain compiles, runs, copies, saves, loads
    and proves (one compile for all of it: the longest test of the suite)."""
    spec = threshnet.parse(chain_text(N, "mixed"))
    net = threshnet.compile(spec, "step", layout="sparse")
    exercise_network(net, spec, "mixed", tmp_path)
    if not __import__("importlib").import_module("threshnet.prove").available():
        pytest.skip("the network checks ran; proving needs python-sat and pindakaas (pip install 'threshnet[prove]')")
    assert threshnet.prove(net, spec, method="nodes", timeout=600).proved


@functools.lru_cache(maxsize=1)
def deep_not() -> tuple[Spec, torch.nn.Module, torch.nn.Module]:
    """The 100,000-deep ``~``, its relu network and the step network of one ``~`` fewer (both methods
    prove these same networks; neither changes them)."""
    spec = threshnet.parse(chain_text(N, "not"))
    return (spec, threshnet.compile(spec, "relu", layout="sparse"),
            threshnet.compile(chain_text(N - 1, "not"), "step", layout="sparse"))


@prove_deps
@pytest.mark.parametrize("method", ["monolithic", "nodes"])
def test_prove_100k_deep_not(method):
    spec, net, wrong = deep_not()
    assert threshnet.prove(net, spec, method=method).proved
    assert threshnet.prove(wrong, spec, method=method, simulate=False).status == "refuted"
