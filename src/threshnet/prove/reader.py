"""Reading a module: its computation as a chain of exact affine maps and activations.

What is trusted is the module itself: its weights are read from its tensors
(never from the compiler's intermediate forms), and the order of its
operations from its real ``forward``, traced with ``torch.fx``.  Supported:
``nn.Linear``, ``nn.ReLU`` / ``F.relu`` / ``torch.relu``, threshnet's
``Step``, ``torch.heaviside(z, v)`` with a constant ``v`` of all 0 or all 1,
``torch.sign`` right after an ``nn.Linear`` (read as ``[z > 0] - [-z > 0]``), a comparison with a constant (``z > 0``, ``gt(0)``, ``>=``, ...)
followed by ``.float()`` / ``.to(dtype)``, ``nn.Identity``, nested
``nn.Sequential``, and the sparse layout's ``ToSlots`` / ``GatherLayer``
(read from their index and weight tensors).  A ThreshNet is read through its
``.layers``.  Anything else is refused with a :class:`ValueError`, so what
is encoded is exactly what ``forward`` runs.

The arithmetic is exact: every weight and bias must be a dyadic rational
``m / 2**k`` with ``k <= MAX_FRACTION_BITS`` that does not look rounded (a
non-integer whose odd numerator fills the dtype's mantissa, like float32
``0.1``, is refused with a :class:`ValueError` naming the layer, row, column
and value).  Such a value converts to a :class:`~fractions.Fraction` without
error (every finite float is a dyadic rational), so the affine maps read
here are the module's maps over the rationals, not approximations of them.
A ``GatherLayer`` bucket ``act(sum(w * slot[idx]) + b)`` is rewritten as an
affine map over the whole slot buffer (repeated indices summed, untouched
slots copied by the identity), which is the same function.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from fractions import Fraction

import torch
from torch import fx, nn

from ..compiler.runtime import Step

#: Largest k for weights that are multiples of 2**-k.
MAX_FRACTION_BITS = 30
#: A weight with a denominator above 2 whose odd numerator has more than (mantissa bits - this) bits looks rounded.
ROUNDING_SLACK_BITS = 4

@dataclass
class _Affine:
    """``out[j] = bias[j] + sum(w * in[i] for i, w in rows[j])``."""

    name: str
    rows: list[list[tuple[int, Fraction]]]
    bias: list[Fraction]
    in_width: int | None
    precision: int  # mantissa bits of the layer's dtype


@dataclass
class _Act:
    """An activation on ``vec`` (or on the positions ``only``): relu, or a step ``[z > thr]`` / ``[z >= thr]``."""

    kind: str  # "relu" | "step"
    only: tuple[int, ...] | None = None
    thr: Fraction = Fraction(0)
    strict: bool = True


_ZERO, _ONE = Fraction(0), Fraction(1)  # shared: Fractions are immutable, and a network reads millions


def _precision(dtype: torch.dtype) -> int:
    """Mantissa bits, the implicit one included (float32: 24)."""
    return 1 - int(math.log2(torch.finfo(dtype).eps)) if dtype.is_floating_point else 63


def _exact(t: torch.Tensor, what: str, dtype: torch.dtype) -> list[tuple[tuple[int, ...], Fraction]]:
    """The nonzero entries of ``t`` as exact dyadic Fractions, or a ValueError naming the first bad one."""
    t = t.detach().to("cpu")
    t64 = t.to(torch.float64)
    prec = _precision(dtype)
    bad_mask = ~torch.isfinite(t64)
    scaled = t64 * float(2 ** MAX_FRACTION_BITS)
    bad_mask |= scaled != torch.round(scaled)
    idx = torch.nonzero(t64 != 0, as_tuple=False).tolist()
    vals = t64[t64 != 0].tolist() if t64.dim() else ([float(t64)] if float(t64) != 0 else [])
    bad = bad_mask[t64 != 0].tolist() if t64.dim() else [bool(bad_mask)] * len(vals)
    out = []
    known: dict[float, Fraction] = {}  # a network repeats a few values: one Fraction each
    for ix, v, b in zip(idx, vals, bad):
        ix = tuple(ix)
        if b:
            _refuse(what, ix, v, dtype, f"not a multiple of 2**-{MAX_FRACTION_BITS}")
        f = known.get(v)
        if f is not None:
            out.append((ix, f))
            continue
        f = known[v] = Fraction(v)
        # A half-integer is the step layers' own bias (``t - 1/2``): never a rounding artifact's shape
        # at the magnitudes where its numerator would be long (there float32's grid is finer than 1/2).
        if f.denominator > 2:
            m = abs(f.numerator)
            if m.bit_length() > prec - ROUNDING_SLACK_BITS:
                _refuse(what, ix, v, dtype,
                        f"it is {f.numerator}/{f.denominator}, whose {m.bit_length()}-bit numerator fills "
                        f"{dtype}'s {prec}-bit mantissa, so it looks rounded")
        out.append((ix, f))
    return out


def _refuse(what: str, ix: tuple[int, ...], v: float, dtype: torch.dtype, why: str) -> None:
    where = f"row {ix[0]}, column {ix[1]}" if len(ix) == 2 else f"row {ix[0]}" if ix else ""
    raise ValueError(
        f"{what}: {where}: value {v:.10g} ({dtype}) is not an exact dyadic rational: {why}; "
        f"prove needs weights and biases that are multiples of 2**-k (k <= {MAX_FRACTION_BITS}), "
        f"e.g. integers or 0.25"
    )


def _linear_op(name: str, lin: nn.Linear) -> _Affine:
    dtype = lin.weight.dtype
    out_f, in_f = lin.weight.shape
    rows: list[list[tuple[int, Fraction]]] = [[] for _ in range(out_f)]
    for (i, j), f in _exact(lin.weight, f"layer {name!r} (nn.Linear) weight", dtype):
        rows[i].append((j, f))
    bias = [_ZERO] * out_f
    if lin.bias is not None:
        for (i,), f in _exact(lin.bias, f"layer {name!r} (nn.Linear) bias", dtype):
            bias[i] = f
    return _Affine(name, rows, bias, in_f, _precision(dtype))


def _gather_ops(name: str, m: nn.Module) -> list[object]:
    """threshnet's sparse ``GatherLayer`` on the slot buffer.

    Per bucket ``act(sum(w * slot[idx]) + b)``; a hidden layer writes its
    neurons into ``slots`` and leaves the other slots as they are, the final
    layer returns the read-out itself.
    """
    try:
        final = bool(m.final)
        shapes = list(m.shapes)
        weights, biases = list(m.weights), list(m.biases)
        idxs = [getattr(m, f"idx{i}") for i in range(len(shapes))]
        slots = None if final else [int(s) for s in m.slots.tolist()]
        n_slots = int(m.n_slots)
        act = m.act
    except AttributeError as e:  # a GatherLayer of another version
        raise ValueError(f"layer {name!r}: unsupported GatherLayer layout ({e})") from None
    new_rows: list[list[tuple[int, Fraction]]] = []
    new_bias: list[Fraction] = []
    dtype = weights[0].dtype if weights else torch.float32
    for b, ((mm, k), w, bb, idx) in enumerate(zip(shapes, weights, biases, idxs)):
        w_ex = dict(_exact(w.reshape(mm, k), f"layer {name!r} (GatherLayer bucket {b}) weight", w.dtype))
        b_ex = dict(_exact(bb.reshape(mm), f"layer {name!r} (GatherLayer bucket {b}) bias", bb.dtype))
        idx = idx.reshape(mm, k).tolist()
        for r in range(mm):
            acc: dict[int, Fraction] = {}
            for c in range(k):
                f = w_ex.get((r, c))
                if f is not None:
                    acc[idx[r][c]] = acc.get(idx[r][c], _ZERO) + f
            new_rows.append([(j, f) for j, f in acc.items() if f])
            new_bias.append(b_ex.get((r,), _ZERO))
    if isinstance(act, Step):
        kind = "step"
    elif isinstance(act, nn.ReLU):
        kind = "relu"
    elif isinstance(act, nn.Identity):
        kind = None
    else:
        raise ValueError(f"layer {name!r}: unsupported GatherLayer activation {type(act).__name__}")
    prec = _precision(dtype)
    if final:
        ops: list[object] = [_Affine(name, new_rows, new_bias, n_slots, prec)]
        if kind:
            ops.append(_Act(kind))
        return ops
    if len(slots) != len(new_rows) or len(set(slots)) != len(slots) or not all(0 <= s < n_slots for s in slots):
        raise ValueError(f"layer {name!r}: GatherLayer writes {len(new_rows)} neurons to slots {slots[:8]}...: "
                         f"not one distinct slot each")
    rows: list[list[tuple[int, Fraction]]] = [[(s, _ONE)] for s in range(n_slots)]
    bias = [_ZERO] * n_slots
    for s, row, b in zip(slots, new_rows, new_bias):
        rows[s], bias[s] = row, b
    ops = [_Affine(name, rows, bias, n_slots, prec)]
    if kind:
        ops.append(_Act(kind, only=tuple(sorted(slots))))
    return ops


def _to_slots_op(name: str, m: nn.Module) -> _Affine:
    """threshnet's sparse ``ToSlots``: the inputs in the first slots, zeros after."""
    n_in, n_slots = int(m.n_inputs), int(m.n_slots)
    rows = [[(i, _ONE)] for i in range(n_in)] + [[] for _ in range(n_slots - n_in)]
    return _Affine(name, rows, [_ZERO] * n_slots, n_in, 63)


def _is_sparse(m: nn.Module, kind: str) -> bool:
    return type(m).__name__ == kind and type(m).__module__.startswith("threshnet.")


def _is_gather(m: nn.Module) -> bool:
    return _is_sparse(m, "GatherLayer") or _is_sparse(m, "ToSlots")


class _Tracer(fx.Tracer):
    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        if isinstance(m, Step) or _is_gather(m):
            return True
        return super().is_leaf_module(m, qualname)


_CMP = {operator.gt: (">", False), torch.gt: (">", False), operator.ge: (">=", False), torch.ge: (">=", False),
        operator.lt: ("<", False), torch.lt: ("<", False), operator.le: ("<=", False), torch.le: ("<=", False)}
_CMP_METHODS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
_RELU_FNS = {torch.relu, torch.nn.functional.relu}
_CASTS = {"float", "double", "half", "bfloat16", "to", "type", "type_as"}


def _sign_ops(ops: list[object], node: fx.Node) -> list[object]:
    """``sign(z) = [z > 0] - [-z > 0]``: copy ``z`` and ``-z``, step both, subtract (exact maps)."""
    last = next((op for op in reversed(ops) if isinstance(op, _Affine)), None)
    if last is None or ops[-1] is not last:
        raise ValueError(f"unsupported {node.format_node()}: sign is read right after an nn.Linear")
    m = len(last.rows)
    one = Fraction(1)
    split = [[(j, one)] for j in range(m)] + [[(j, -one)] for j in range(m)]
    join = [[(j, one), (m + j, -one)] for j in range(m)]
    return [_Affine(f"{last.name}.sign", split, [_ZERO] * 2 * m, m, 63), _Act("step"),
            _Affine(f"{last.name}.sign", join, [_ZERO] * m, 2 * m, 63)]


def _heaviside_strict(node: fx.Node, root: nn.Module) -> bool:
    """``torch.heaviside(z, v)`` with a constant ``v`` of 0 (``[z > 0]``: True) or 1 (``[z >= 0]``: False)."""
    v = node.args[1] if len(node.args) > 1 else node.kwargs.get("values")
    t = None
    if isinstance(v, fx.Node) and v.op == "get_attr":
        t = root
        for part in str(v.target).split("."):
            t = getattr(t, part, None)
    elif isinstance(v, (int, float)):
        t = torch.tensor(float(v))
    if isinstance(t, torch.Tensor) and t.numel() >= 1:
        vals = set(t.detach().reshape(-1).tolist())
        if vals in ({0.0}, {1.0}):
            return vals == {0.0}
    raise ValueError(f"unsupported {node.format_node()}: torch.heaviside(z, values) is read with a constant "
                     f"values tensor of all 0 (z > 0) or all 1 (z >= 0)")


def read_module(module: nn.Module) -> list[object]:
    """The module's computation as a list of exact affine maps and activations."""
    from ..network import ThreshNet

    root = module.layers if isinstance(module, ThreshNet) else module
    prefix = "layers." if root is not module else ""
    tracer = _Tracer()
    try:
        graph = tracer.trace(root)
    except Exception as e:
        raise ValueError(f"cannot read the module's forward with torch.fx: {type(e).__name__}: {e}") from None
    ops: list[object] = []
    cur = None

    def need(node: fx.Node, arg: object) -> None:
        if arg is not cur:
            raise ValueError(f"unsupported network shape at {node.format_node()}: prove reads a plain chain of "
                             f"Linear / ReLU / step operations")

    for node in graph.nodes:
        if node.op == "placeholder":
            if cur is not None:
                raise ValueError("prove supports modules with one input tensor")
            cur = node
            continue
        if node.op == "output":
            need(node, node.args[0])
            break
        if node.op == "call_module":
            sub = root.get_submodule(node.target)
            need(node, node.args[0] if node.args else None)
            if len(node.args) != 1 or node.kwargs:
                raise ValueError(f"unsupported call of {node.target!r} with extra arguments")
            if isinstance(sub, nn.Linear):
                ops.append(_linear_op(prefix + node.target, sub))
            elif isinstance(sub, nn.ReLU):
                ops.append(_Act("relu"))
            elif isinstance(sub, Step):
                ops.append(_Act("step"))
            elif isinstance(sub, nn.Identity):
                pass
            elif _is_sparse(sub, "GatherLayer"):
                ops.extend(_gather_ops(prefix + node.target, sub))
            elif _is_sparse(sub, "ToSlots"):
                ops.append(_to_slots_op(prefix + node.target, sub))
            else:
                raise ValueError(f"unsupported layer {node.target!r} ({type(sub).__name__}); prove reads "
                                 f"nn.Linear, nn.ReLU, Step, nn.Identity and comparisons with a constant")
            cur = node
            continue
        if node.op == "call_function" and node.target in _RELU_FNS:
            need(node, node.args[0])
            ops.append(_Act("relu"))
            cur = node
            continue
        if node.op == "call_method" and node.target == "relu":
            need(node, node.args[0])
            ops.append(_Act("relu"))
            cur = node
            continue
        is_cmp_fn = node.op == "call_function" and node.target in _CMP
        if is_cmp_fn or (node.op == "call_method" and node.target in _CMP_METHODS):
            sym = _CMP[node.target][0] if is_cmp_fn else _CMP_METHODS[node.target]
            a, b = node.args[0], node.args[1]
            if a is cur and isinstance(b, (int, float)):
                const = b
            elif b is cur and isinstance(a, (int, float)):
                const = a
                sym = {">": "<", ">=": "<=", "<": ">", "<=": ">="}[sym]
            else:
                raise ValueError(f"unsupported comparison {node.format_node()}: prove reads comparisons of the "
                                 f"running value with a constant")
            if sym not in (">", ">="):
                raise ValueError(f"unsupported comparison {node.format_node()}: use z > c or z >= c")
            if isinstance(const, float) and not math.isfinite(const):
                raise ValueError(f"comparison with {const!r}")
            ops.append(_Act("step", None, Fraction(const), sym == ">"))
            cur = node
            continue
        if node.op == "get_attr":
            continue  # a constant, read where it is used (torch.heaviside's values)
        if (node.op == "call_function" and node.target is torch.sign) or \
                (node.op == "call_method" and node.target == "sign"):
            need(node, node.args[0])
            ops.extend(_sign_ops(ops, node))
            cur = node
            continue
        if node.op == "call_function" and node.target is torch.heaviside:
            need(node, node.args[0])
            ops.append(_Act("step", None, Fraction(0), _heaviside_strict(node, tracer.root)))
            cur = node
            continue
        if node.op == "call_function" and node.target is getattr and node.args[1] in ("dtype", "device"):
            continue  # read by a cast, e.g. (z > 0).to(z.dtype)
        if node.op == "call_method" and node.target in _CASTS:
            need(node, node.args[0])
            cur = node  # a cast of 0/1 or of the exact values: no change
            continue
        raise ValueError(f"unsupported operation {node.format_node()}; prove reads nn.Linear, nn.ReLU / "
                         f"F.relu / torch.relu, Step, nn.Identity and (z > c).float()")
    return ops

