"""The lecture notebook's hand-set half adder (AdderNN, cell In [4]), weights unchanged.

It prints "all correct!" in the notebook, but 1 + 1 gives c1 c0 = 11.  Catch it:

    python examples/notebook_adder.py
    threshnet check examples/half_adder.bool --net examples/notebook_adder.py:model
    threshnet check --prove examples/half_adder.bool --net examples/notebook_adder.py:model
"""

import torch
import torch.nn as nn


class AdderNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 3)
        self.fc2 = nn.Linear(3, 2)
        self.relu = nn.ReLU()

    def forward(self, x):
        h = self.relu(self.fc1(x))
        return (self.fc2(h) > 0).float()


def notebook_adder() -> AdderNN:
    """AdderNN with the notebook's hand-set weights."""
    model = AdderNN()
    model.fc1.weight.data = torch.Tensor([[1, 1], [1, 1], [1, 1]])
    model.fc1.bias.data = torch.Tensor([-1.5, -0.5, -1.5])
    model.fc2.weight.data = torch.Tensor([[1, 0, 0], [0, 1, -2]])
    model.fc2.bias.data = torch.Tensor([0, 0])
    return model


model = notebook_adder()

if __name__ == "__main__":
    import threshnet

    print("hidden neurons:", model.fc1.out_features)
    print("parameters:", sum(p.numel() for p in model.parameters()))
    # The half adder spec, c1 c0 = a0 + b0 (examples/half_adder.bool).
    print(threshnet.check(model, "c1 = a0 & b0; c0 = a0 ^ b0"))
    # Where it goes wrong: hidden activations and output pre-activations per row.
    x = torch.Tensor([[0, 0], [0, 1], [1, 0], [1, 1]])
    with torch.no_grad():
        h = model.relu(model.fc1(x))
        z = model.fc2(h)
    for xi, hi, zi in zip(x.tolist(), h.tolist(), z.tolist()):
        print(f"a0 b0 = {xi}  h = {hi}  fc2(h) = {zi}  ->  c1 c0 = {[int(v > 0) for v in zi]}")
