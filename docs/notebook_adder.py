"""The lecture notebook's hand-set half adder, checked by threshnet.

Run: .venv/bin/python docs/notebook_adder.py
The weights are copied unchanged from the notebook (AdderNN, cell In [4]).
"""

import torch
import torch.nn as nn

import threshnet


class AdderNN(nn.Module):
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

print("hidden neurons:", model.fc1.out_features)
print("parameters:", sum(p.numel() for p in model.parameters()))

# The half adder spec, c1 c0 = a0 + b0 (examples/half_adder.bool).
report = threshnet.check(model, "c1 = a0 & b0; c0 = a0 ^ b0")
print(report)

# Where it goes wrong: hidden activations and output pre-activations per row.
x = torch.Tensor([[0, 0], [0, 1], [1, 0], [1, 1]])
with torch.no_grad():
    h = model.relu(model.fc1(x))
    z = model.fc2(h)
for xi, hi, zi in zip(x.tolist(), h.tolist(), z.tolist()):
    print(f"a0 b0 = {xi}  h = {hi}  fc2(h) = {zi}  ->  c1 c0 = {[int(v > 0) for v in zi]}")
