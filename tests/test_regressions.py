"""Specs that once crashed the compiler, compiled, checked and proved in every setting."""

from __future__ import annotations

from pathlib import Path

import importlib

import pytest

import threshnet

HERE = Path(__file__).parent / "regressions"
CASES = sorted(HERE.glob("*.bool"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
@pytest.mark.parametrize("layout", ["mlp", "sparse"])
@pytest.mark.parametrize("activation", ["relu", "step"])
def test_regression_compiles_checks_and_proves(path: Path, layout: str, activation: str) -> None:
    spec = threshnet.read(path)
    net = threshnet.compile(spec, activation, layout=layout)
    report = threshnet.check(net, spec)
    assert report.ok and report.exhaustive and report.tried == 2 ** len(spec.inputs)
    if importlib.import_module("threshnet.prove").available():
        assert threshnet.prove(net, spec).proved
