"""threshnet: compile boolean logic into exact, checked PyTorch networks."""

from .compiler.errors import SpecError
from .compiler.evaluate import evaluate, evaluate_batch
from .compiler.parse import parse
from .compiler.spec import Spec, render

__all__ = ["Spec", "SpecError", "evaluate", "evaluate_batch", "parse", "render"]
__version__ = "0.1.0"
