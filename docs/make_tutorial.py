"""Build docs/tutorial.ipynb from the cells below and run it with a real Jupyter kernel (nbclient).

    python docs/make_tutorial.py            # build, execute, write docs/tutorial.ipynb with its outputs
    python docs/make_tutorial.py --words    # the same, with the word-level cells (v2 language)
    python docs/make_tutorial.py --no-run   # build only (no outputs)

``make tutorial`` runs the first.  The word-level section needs the v2 spec language
(``input a[8], b[8]; output s[9]; s = a + b``) and word I/O (``net.encode`` /
``net.decode``); until those are on the branch the notebook is built without it
and says so.  The choice is kept in the notebook's metadata
(``metadata.threshnet.words``), so tests/test_tutorial.py rebuilds the same cells.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOTEBOOK = HERE / "tutorial.ipynb"
#: Set to True once the v2 language and word I/O are on main (then run `make tutorial`).
WORDS = True
#: Seconds a cell may run.
CELL_TIMEOUT = 300

M, C = "markdown", "code"

INTRO: list[tuple[str, str]] = [
    (M, """# threshnet tutorial: the lecture, redone

A lecture notebook builds a 2-3-2 network that adds two bits, counts its parameters and bytes
in fp32, fp16 and INT6/INT4/INT2, and declares it "all correct!" while it outputs 1 + 1 = 11.
This notebook redoes it with threshnet, step by step:

1. the lecture's `AdderNN`, as written;
2. `check` and `prove` find 1 + 1 = 11;
3. `explain` shows what each of its neurons computes;
4. the compiled adder: its weights, a drawing, parameters and bytes per dtype (int4 and int2 included),
   and packed integer weights that load back exactly;
5. words: an 8-bit adder, a comparison in one neuron, a multiplier's size and depth;
6. a network trained from random weights, rounded, checked and proved.

Run it from the `docs/` directory (Jupyter does), or rebuild it with `make tutorial`."""),
    (C, """import torch
import torch.nn as nn

import threshnet

torch.set_num_threads(1)  # one thread: the same numbers on every run"""),
    (M, """## 1. The lecture's AdderNN, as written

Two inputs `a0`, `b0`; two outputs read as the 2-bit number `c1 c0` (`c1` is the carry).
The weights are the lecture's hand-set ones (also in `examples/notebook_adder.py`)."""),
    (C, """class AdderNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 3)
        self.fc2 = nn.Linear(3, 2)
        self.relu = nn.ReLU()

    def forward(self, x):
        h = self.relu(self.fc1(x))
        return (self.fc2(h) > 0).float()


model = AdderNN()
model.fc1.weight.data = torch.Tensor([[1, 1], [1, 1], [1, 1]])
model.fc1.bias.data = torch.Tensor([-1.5, -0.5, -1.5])
model.fc2.weight.data = torch.Tensor([[1, 0, 0], [0, 1, -2]])
model.fc2.bias.data = torch.Tensor([0, 0])

print("parameters:", sum(p.numel() for p in model.parameters()))
x = torch.Tensor([[0, 0], [0, 1], [1, 0], [1, 1]])
for row, out in zip(x.int().tolist(), model(x).int().tolist()):
    print(f"{row[0]} + {row[1]} = c1 c0 = {out[0]}{out[1]}")"""),
    (M, """The last line reads 1 + 1 = 11 (three), not 10 (two). The lecture's test missed it.

## 2. `check` and `prove` find 1 + 1 = 11

The spec is two lines of logic. `check` runs every input (there are four); `prove` asks a SAT
solver, reading the weights out of the module's own tensors and the order of its operations
from its traced `forward`."""),
    (C, """spec = threshnet.read("../examples/half_adder.bool")
print(threshnet.render(spec))
print(threshnet.check(model, spec))
print(threshnet.prove(model, spec, simulate=False))  # simulate=False: the counterexample comes from SAT"""),
    (M, """## 3. What does each neuron compute? `explain`

For every neuron, the boolean function over the inputs: `[value > 0]` (a ReLU neuron "fires",
a step neuron outputs 1). It is given as a threshold gate when it is one (found by an integer
program and re-checked on every input), as a minimized formula (sympy's `SOPform`), and in the
truth table. The command line says the same: `threshnet explain examples/notebook_adder.py:model
--spec examples/half_adder.bool`."""),
    (C, """ex = threshnet.explain(model, spec)
print(ex)"""),
    (M, """So `c0` computes `a0 | b0`: OR, where the sum bit needs XOR. The hidden neuron `fc1[1]` takes
the value 1.5 on 1 + 1 and `2 * fc1[2]` only subtracts 1, so `c0` stays on. As a table:"""),
    (C, """ex"""),
    (M, """## 4. The compiled adder

`threshnet.compile` derives every weight from the spec. The half adder needs two hidden neurons
(`c1` and `c0.or`, which holds `1 - (a0 | b0)`), then the output layer."""),
    (C, """net = threshnet.compile(spec)
net"""),
    (C, """from threshnet.cli import main as threshnet_cli

threshnet_cli(["show", "../examples/half_adder.bool"]);  # the same as `threshnet show` in a shell"""),
    (C, """print(threshnet.check(net, spec))
print(threshnet.prove(net, spec))
print(threshnet.explain(net))"""),
    (M, """### A drawing

`threshnet draw -o half.svg` renders the threshold-gate graph with Graphviz when it is installed;
without it, it writes the DOT text, which is what is printed here (paste it into any Graphviz
viewer)."""),
    (C, """from threshnet.compiler.compiling import compile_stages
from threshnet.export import to_dot

print(to_dot(compile_stages(spec, "step").threshold_graph))"""),
    (M, """### Parameters and bytes per dtype

The lecture's question, answered from the tensors. `stats()` gives bytes at 32, 16, 8, 4 and 2
bits per parameter and the smallest integer width that holds every weight and bias exactly (one
power-of-two scale per layer). A float dtype is usable when the precision analysis says the
network is exact in it; an integer width when the weights fit it."""),
    (C, """st = net.stats()
print(st)
print()
print(f"{'dtype':8} {'bits':>4} {'bytes':>5}  exact")
for name, bits in [("fp32", 32), ("fp16", 16), ("int8", 8), ("int6", 6), ("int4", 4), ("int2", 2)]:
    if name.startswith("fp"):
        ok = {"fp32": "float32", "fp16": "float16"}[name] in st.exact_dtypes
    else:
        ok = st.int_bits <= bits
    print(f"{name:8} {bits:>4} {st.bytes(bits):>5}  {'yes' if ok else 'no'}")"""),
    (M, """### Packed integer weights

`threshnet.precision.save_packed` writes the network as packed integer tensors (int8, int4 or
int2) with each layer's scale; `load_packed` gives back a network with exactly the original
tensors. A width too narrow is refused, naming the weight."""),
    (C, """import os
import tempfile

from threshnet.precision import int_layers, load_packed, save_packed

for layer in int_layers(net):  # weight = q * 2**-exp, bias = (q + half/2) * 2**-exp
    print(layer.name, "weights", layer.q_weight.tolist(), "biases", layer.q_bias.tolist(),
          "exp", layer.exp, "half", layer.half)
tmp = tempfile.mkdtemp()
path = os.path.join(tmp, "half.int2.pt")
save_packed(net, path, bits=2)
raw = torch.load(path, weights_only=True)  # plain tensors: four 2-bit values to a byte
print("packed bytes:", [t.tolist() for t in raw["weight"]], [t.tolist() for t in raw["bias"]])
back = load_packed(path)
print("same tensors:", all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), back.state_dict().values())))
print(threshnet.check(back, spec))

full = threshnet.compile(threshnet.read("../examples/full_adder.bool"), activation="step")
try:
    save_packed(full, os.path.join(tmp, "full.int2.pt"), bits=2)
except ValueError as e:
    print("refused:", e)"""),
]

WORDS_PENDING: list[tuple[str, str]] = [
    (M, """## 5. Words

*This section needs the word-level spec language (`input a[8], b[8]; output s[9]; s = a + b`)
and word I/O (`net.encode` / `net.decode`), which are not on this branch yet; rebuild with
`python docs/make_tutorial.py --words` once they are.*"""),
]

WORDS_CELLS: list[tuple[str, str]] = [
    (M, """## 5. Words

Ports can be words: `a[8]` is an 8-bit unsigned number (bit 0 least significant). `net.encode`
turns numbers into the input bits and `net.decode` turns the output bits back into numbers.
An 8-bit adder with step neurons is two layers deep."""),
    (C, """add8 = threshnet.compile("input a[8], b[8]; output s[9]; s = a + b", activation="step")
y = add8(add8.encode(a=200, b=100))
print(add8.decode(y))
print(threshnet.prove(add8, add8.spec))
print(add8.stats())"""),
    (M, """A comparison of two 8-bit numbers is one threshold neuron:
`[sum 2**i a[i] - sum 2**i b[i] >= 0]`."""),
    (C, """ge8 = threshnet.compile("input a[8], b[8]; output ge; ge = a >= b", activation="step")
print(ge8.stats().neurons)
print(ge8.decode(ge8(ge8.encode(a=200, b=100))), ge8.decode(ge8(ge8.encode(a=100, b=200))))
print(threshnet.prove(ge8, ge8.spec))"""),
    (M, """A 4-bit multiplier: its size (neurons, parameters) and depth (layers)."""),
    (C, """mul4 = threshnet.compile("input a[4], b[4]; output p[8]; p = a * b")
st = mul4.stats()
print(f"depth {st.layers} layers, {st.hidden_neurons} hidden neurons, {st.parameters} parameters")
print(mul4.decode(mul4(mul4.encode(a=13, b=11))))
print(threshnet.prove(mul4, mul4.spec))"""),
]

TRAINING: list[tuple[str, str]] = [
    (M, """## 6. Training, the other way round

`threshnet.train` fits the lecture's 2-3-2 architecture (with step neurons) to the spec from
random weights (seed 0), through a sigmoid relaxation of the step whose temperature is lowered
as it trains. Once the real step network is right on every row, each neuron is rounded to the
integer threshold gate of least total weight that makes the same decisions, so every
pre-activation is at least 0.5 from 0. Then `check` and `prove` judge the result."""),
    (C, """trained = threshnet.train(spec, hidden=3, seed=0)
print(trained)
for m in trained.net.linears():
    print(m.weight.int().tolist(), m.bias.tolist())"""),
    (C, """print(threshnet.explain(trained.net))"""),
    (M, """`threshnet.relax` goes the other way: a trainable float copy of a compiled network, each
step replaced by a straight-through estimator (the exact step forward, the sigmoid's gradient
backward), so it starts out computing exactly the compiled function and can be an exact
initialization inside a larger model."""),
    (C, """soft = threshnet.relax(net)
print(soft)
x = torch.Tensor([[0, 0], [0, 1], [1, 0], [1, 1]])
print("exact at init:", torch.equal(soft(x), net(x)))
loss = soft(x).sum()
loss.backward()
print("gradients:", [p.grad.abs().sum().item() > 0 for p in soft.parameters()])"""),
]


def cells(words: bool) -> list[tuple[str, str]]:
    """The notebook's cells, (kind, source), in order."""
    return INTRO + (WORDS_CELLS if words else WORDS_PENDING) + TRAINING


def build(words: bool):
    """A fresh notebook (no outputs)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["threshnet"] = {"words": words, "generator": "docs/make_tutorial.py"}
    for i, (kind, src) in enumerate(cells(words)):
        cell = nbformat.v4.new_markdown_cell(src) if kind == M else nbformat.v4.new_code_cell(src)
        cell["id"] = f"cell-{i:02d}"
        nb.cells.append(cell)
    return nb


def execute(nb, cwd: Path = HERE):
    """Run every cell with a python3 kernel in ``cwd``; raises on the first cell that fails.

    The kernel imports threshnet from this checkout's ``src`` (put first on its ``PYTHONPATH``).
    """
    import os

    from nbclient import NotebookClient

    src = str(HERE.parent / "src")
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = src + (os.pathsep + old if old else "")
    try:
        NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=False,
                       resources={"metadata": {"path": str(cwd)}}).execute()
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old
    for cell in nb.cells:  # run times and dates are not part of the result
        cell.get("metadata", {}).pop("execution", None)
    return nb


def main(argv: list[str] | None = None) -> int:
    import nbformat

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--words", action="store_true", default=WORDS, help="include the word-level section")
    p.add_argument("--no-run", action="store_true", help="write the cells without executing them")
    p.add_argument("-o", "--output", default=str(NOTEBOOK), help="where to write (default docs/tutorial.ipynb)")
    args = p.parse_args(argv)
    nb = build(args.words)
    if not args.no_run:
        execute(nb)
    nbformat.write(nb, args.output)
    print(f"wrote {args.output}" + ("" if args.no_run else " (executed)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
