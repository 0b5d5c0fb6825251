"""Attribute keys of the networkx graphs that flow between stages.

What each dialect holds, and the invariants every stage keeps, are described
in :mod:`threshnet.compiler.ir` (the table of fields, ``dump`` and ``verify``).
"""

OP = "op"
NAME = "name"
NEG = "neg"
INPUTS = "inputs"
OUTPUTS = "outputs"

OP_INPUT = "input"
OP_CONST = "const"
OP_AND = "and"
OP_OR = "or"
OP_XOR = "xor"
OP_THRESHOLD = "threshold"  # mapped graphs only

#: Widest XOR kept as one gate.  A k-input parity costs k threshold gates
#: reading all k operands (k*k weights), so wider ones become a tree of these.
XOR_MAX_ARITY = 8

KIND = "kind"
KIND_INPUT = "input"
KIND_GATE = "gate"
THRESHOLD = "threshold"
ROLE = "role"
WEIGHT = "weight"
XORS = "xors"
BOOL_MAP = "bool_map"
LAYER = "layer"
DEPTH = "depth"
#: graph[RECOVERED] of a graph whose adders :mod:`.recover` rebuilt: a ``recover.Recovered``.
RECOVERED = "recovered"
