"""Low-bit weights: the smallest integer width, int4/int2 sizes, and packed integer files that load back exactly.

Every example of examples/*.bool, in both activations, is saved at int8, int4 and
int2; a width the weights fit must give back the very same tensors (and a network
that checks equal to its spec), and a width they do not fit must be refused with
a message that names the weight.  ``stats().int_bits`` decides which.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import threshnet
from threshnet.precision import (PACKED_BITS, integer_bits, load_packed, pack_bits, save_packed, signed_bits,
                                 unpack_bits)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p.stem for p in (ROOT / "examples").glob("*.bool"))


@pytest.mark.parametrize("activation", ["relu", "step"])
@pytest.mark.parametrize("name", EXAMPLES)
def test_packed_round_trip_on_every_example(name, activation, tmp_path):
    spec = threshnet.read(ROOT / "examples" / f"{name}.bool")
    net = threshnet.compile(spec, activation, layout="mlp")
    need = net.stats().int_bits
    assert need == integer_bits(net) and need is not None
    for bits in PACKED_BITS:
        path = tmp_path / f"{name}.int{bits}.pt"
        if bits < need:
            with pytest.raises(ValueError, match=rf"int{bits} cannot hold layer \d+ (weight|bias)\[[\d, ]+\] = "):
                save_packed(net, path, bits)
            continue
        save_packed(net, path, bits)
        back = load_packed(path)
        for (k, a), (k2, b) in zip(net.state_dict().items(), back.state_dict().items()):
            assert k == k2 and a.dtype == b.dtype and torch.equal(a, b), k
        assert back.input_names == net.input_names and back.neuron_names == net.neuron_names
        assert threshnet.check(back, spec).ok
        raw = torch.load(path, weights_only=True)  # plain tensors and values only
        dt = torch.int8 if bits == 8 else torch.uint8
        assert all(t.dtype == dt for t in raw["weight"] + raw["bias"])
        n_w = sum(m.weight.numel() for m in net.linears())
        assert sum(t.numel() for t in raw["weight"]) <= n_w * bits // 8 + len(raw["weight"])


def test_half_adder_fits_int2_and_refusal_names_the_weight(tmp_path):
    half = threshnet.compile("c1 = a0 & b0; c0 = a0 ^ b0")
    st_ = half.stats()
    assert st_.int_bits == 2 and st_.bytes(4) == 6 and st_.bytes(2) == 3
    assert "int4 6, int2 3" in str(st_) and "integer width         int2" in str(st_)
    full = threshnet.compile(threshnet.read(ROOT / "examples" / "full_adder.bool"), "step")
    with pytest.raises(ValueError) as e:
        save_packed(full, tmp_path / "f.pt", 2)
    assert str(e.value) == ("int2 cannot hold layer 1 bias[2] = -2.5 (neuron 's.and'): stored as the integer -3 "
                            "(scale 1), which needs 3 bits; int2 holds -2..1; this network needs int3")
    with pytest.raises(ValueError, match="bits must be one of 8, 4, 2"):
        save_packed(half, tmp_path / "h.pt", 3)


def test_fractional_scale_round_trips(tmp_path):
    net = threshnet.compile("c1 = a0 & b0; c0 = a0 ^ b0", "step")
    with torch.no_grad():
        for m in net.linears():
            m.weight.mul_(0.25)
            m.bias.mul_(0.25)
    assert net.stats().int_bits == 2  # same integers, scale 2**-2
    save_packed(net, tmp_path / "q.pt", 2)
    back = load_packed(tmp_path / "q.pt")
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), back.state_dict().values()))


def test_sparse_layout_refused(tmp_path):
    net = threshnet.compile("c1 = a0 & b0; c0 = a0 ^ b0", layout="sparse")
    assert net.stats().int_bits is not None
    with pytest.raises(ValueError, match="dense \\(mlp\\) layout"):
        save_packed(net, tmp_path / "s.pt", 8)


def test_show_prints_sizes(capsys):
    from threshnet.cli import main

    assert main(["show", str(ROOT / "examples" / "half_adder.bool")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-2] == "parameters 12; bytes: fp32 48, fp16 24, int8 12, int4 6, int2 3"
    assert out[-1].startswith("integer width: int2 ")


@given(st.sampled_from(PACKED_BITS), st.data())
def test_pack_unpack_inverse(bits, data):
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    q = np.array(data.draw(st.lists(st.integers(lo, hi), max_size=40)), dtype=np.int64)
    t = pack_bits(q, bits)
    assert t.numel() == (len(q) if bits == 8 else -(-len(q) * bits // 8))
    assert np.array_equal(unpack_bits(t, bits, len(q)), q)
    assert signed_bits(q) <= bits
    if len(q):
        assert signed_bits(np.array([hi + 1])) == bits + 1 and signed_bits(np.array([lo - 1])) == bits + 1


@given(st.integers(1, 4), st.integers(1, 4), st.integers(0, 6), st.booleans(), st.data())
def test_int_layers_reconstruct_every_value(n_in, n_out, exp, half, data):
    from torch import nn

    from threshnet.precision import int_layers

    qw = np.array(data.draw(st.lists(st.integers(-9, 9), min_size=n_in * n_out, max_size=n_in * n_out)))
    qb = np.array(data.draw(st.lists(st.integers(-9, 9), min_size=n_out, max_size=n_out)))
    lin = nn.Linear(n_in, n_out)
    w = qw.reshape(n_out, n_in) * 2.0**-exp
    b = (qb + (0.5 if half else 0.0)) * 2.0**-exp
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(w))
        lin.bias.copy_(torch.from_numpy(b))
    (layer,) = int_layers(nn.Sequential(lin))
    assert np.array_equal(layer.q_weight * 2.0**-layer.exp, w)
    assert np.array_equal((layer.q_bias + (0.5 if layer.half else 0.0)) * 2.0**-layer.exp, b)
    assert layer.exp <= exp + 1 and layer.bits <= max(signed_bits(qw), signed_bits(qb)) + 1
