"""Attribute keys of the networkx graphs that flow between stages.

Boolean-gate graph (stage ``lower``), a ``networkx.DiGraph``:
    node[OP]        one of OP_INPUT, OP_CONST, OP_AND, OP_OR, OP_XOR
    node[NAME]      the spec signal name of the node, or None
    edge[NEG]       True when the reader sees the negated signal
    graph[INPUTS]   node ids of the input ports, in port order
    graph[OUTPUTS]  (port name, node id, negated) triples, in port order
    A const node is false; a negated edge or output reads it as true.

Threshold-gate graph (stage ``threshold``), a ``networkx.DiGraph``:
    node[KIND]      KIND_INPUT or KIND_GATE
    node[THRESHOLD] integer t: the gate is 1 iff sum(weight * fanin) >= t
    node[ROLE]      what the gate does, e.g. "and", "or", "xor", "xor.ge2", "copy"
    node[NAME]      a readable name (signal name where there is one)
    edge[WEIGHT]    integer weight
    graph[INPUTS]   input node ids in port order
    graph[OUTPUTS]  (port name, gate id) pairs in port order; each port owns its gate
    graph[XORS]     XorForm records, for choosing each XOR's threshold form
    graph[BOOL_MAP] (boolean node, threshold node, negated) triples: where each
                    boolean gate's value lives (a hint for node-by-node proofs)
Layering adds node[LAYER] (inputs 0, gates 1..depth) and graph[DEPTH].
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
