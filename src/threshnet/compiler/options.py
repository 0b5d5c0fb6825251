"""The choices of every option, shared by the library and the command line.

One home for each list, so ``threshnet.compile(layout=...)`` and
``threshnet compile --layout`` accept the same words and say the same thing
when a word is wrong.
"""

from __future__ import annotations

#: Hidden activations: a Heaviside step, or ReLU (with an exact 0/1 read-out).
ACTIVATIONS = ("relu", "step")
#: Synthesis objectives for word programs: fewest layers exact in the dtype, or fewest neurons.
OBJECTIVES = ("depth", "size")
#: Network layouts: dense ``nn.Linear`` layers, index-gathering layers, or chosen by size.
LAYOUTS = ("auto", "mlp", "sparse")
#: Float dtypes a network may be built in, with their significant bits.
FLOAT_BITS = {"float64": 53, "float32": 24, "float16": 11, "bfloat16": 8}
FLOAT_DTYPES = tuple(FLOAT_BITS)
#: Integer formats the precision analysis judges (weights and biases scaled by 2).
INT_MAX = {"int8": 2**7 - 1, "int16": 2**15 - 1, "int32": 2**31 - 1}
INT_DTYPES = tuple(INT_MAX)
DTYPES = FLOAT_DTYPES + INT_DTYPES
#: Other spellings of float dtypes.
DTYPE_ALIASES = {"half": "float16", "float": "float32", "double": "float64", "bf16": "bfloat16",
                 "fp16": "float16", "fp32": "float32", "fp64": "float64"}
#: Proof methods of ``threshnet.prove``.
PROVE_METHODS = ("auto", "monolithic", "nodes")
#: Spec and netlist formats that ``threshnet.read`` takes, and those ``write`` makes.
IN_FORMATS = ("bool", "blif", "aag", "aig", "bench", "pla", "verilog")
OUT_FORMATS = ("bool", "blif", "aag", "aig")


def choice(what: str, value: object, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``, else a ``ValueError`` that lists them."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{what} must be one of {', '.join(choices)}; got {value!r}")
    return value


def dtype_name(dtype: object) -> str:
    """The canonical name (``"float32"``, ``"int8"``...) of a torch dtype or a dtype string."""
    name = str(dtype).removeprefix("torch.")
    name = DTYPE_ALIASES.get(name, name)
    if name not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose one of {', '.join(DTYPES)}")
    return name
