"""threshnet: compile boolean logic into exact, checked PyTorch networks.

>>> import threshnet
>>> net = threshnet.compile("c1 = a0 & b0; c0 = a0 ^ b0")
>>> threshnet.check(net, net.spec).ok
True
"""

from .check import CheckReport, check
from .build import compile
from .compiler.errors import SpecError
from .compiler.evaluate import evaluate, evaluate_batch
from .compiler.parse import parse
from .compiler.ports import ports_of
from .compiler.spec import Spec, render
from .explain import Explanation, explain
from .frontends import read, write
from .network import NetStats, Step, ThreshNet, load
from .prove import ProofReport, prove
from .train import TrainReport, relax, train

__all__ = [
    "CheckReport", "Explanation", "NetStats", "ProofReport", "Spec", "SpecError", "Step", "ThreshNet", "TrainReport",
    "check", "compile", "evaluate", "evaluate_batch", "explain", "load", "parse", "ports_of", "prove", "read", "relax",
    "render", "train", "write",
]
__version__ = "0.1.0"
