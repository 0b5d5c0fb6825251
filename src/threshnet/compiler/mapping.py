"""Stage 2b, threshold mapping: cover the boolean graph with threshold gates.

A threshold gate computes far more than an AND: ``[a + b + c >= 2]``
(majority) is one gate, where an And-Inverter Graph needs four.  This stage
is a cut-based technology mapper whose library is "every threshold function
of at most ``CUT_SIZE`` inputs, and every parity":

1. **Cuts.**  In topological order each node gets up to ``CUTS_PER_NODE``
   *cuts*: sets of at most ``CUT_SIZE`` leaves whose values determine the
   node, with the node's truth table over them (a Python int, bit ``a`` the
   value on the row whose bit ``j`` is leaf ``j``).  A node's cuts are merged
   from its fanins' cuts; a leaf the table does not depend on is dropped.
   Only the cuts of unmapped fanins are kept in memory, so the pass is linear
   in the graph.
2. **Matching.**  A cut whose table is a threshold function
   (:mod:`.lp_threshold`: unateness and Chow-order filters, then an integer
   program, cached per table) is a candidate gate; so is a parity (a k-input
   XOR costs ``k // 2 + 1`` gates and two layers), a single literal (a wire,
   free) or a constant.  The node itself, with its own op over its fanins,
   is always a candidate (threshold nodes handed in by word-level synthesis
   keep their weights, so their function never changes).
3. **Selection.**  A depth pass gives each node its least *arrival* (layers
   of threshold gates).  The required time of every output is then the
   optimal depth (``objective="depth"``) or the depth of the plain lowering
   (``objective="size"``), and area-flow passes pick, per node, the
   candidate of least area flow (gates per use) whose arrival meets the
   required time.  So the result is never deeper than the plain lowering,
   and in depth mode never deeper than the best cover of these cuts.
4. **Cover.**  From the outputs, the chosen candidates become a boolean
   graph whose nodes may be ``OP_THRESHOLD`` (weights on edges, threshold on
   the node); a wire is a renaming, not a gate.

Soundness: every candidate's table is computed exactly from its cut (the
composition of its fanins' tables), and every threshold realization is
re-checked on every row of its table, so the cover computes exactly the
functions of the nodes it replaces.

With the full adder's carry as ``[a + b + c >= 2]`` and its sum as the XOR
of a, b, c, whose "at least two" rung is that same gate, a ripple adder
costs two gates per bit.

Graphs of ``COMPILED_FROM`` nodes or more run steps 1-3 as compiled loops
(:mod:`._mapkernel`): the same algorithm in the same order over flat arrays,
hence the same cover; the Python passes here are its test oracle.
"""

from __future__ import annotations

import itertools
from operator import itemgetter
from dataclasses import dataclass
from functools import lru_cache

import networkx as nx
import numpy as np

from .keys import (
    INPUTS, NAME, NEG, OP, OP_AND, OP_CONST, OP_INPUT, OP_OR, OP_THRESHOLD, OP_XOR, OUTPUTS, RECOVERED, THRESHOLD,
    WEIGHT,
)
from .gcpause import without_gc
from .ir import add_to_graph
from .lp_threshold import canonical, identify
from .symmetric import ThresholdCone, find_symmetric

__all__ = ["OBJECTIVES", "OP_THRESHOLD", "STATS", "MappingStats", "map_threshold", "threshold_functions"]
#: graph[STATS] of a mapped graph: its :class:`MappingStats`.
STATS = "mapping_stats"


@dataclass(frozen=True)
class MappingStats:
    """What the cover is made of (gates of the mapped graph, before threshold lowering)."""

    native: int = 0        # gates kept as they were (AND/OR/XOR, or given threshold nodes)
    small: int = 0         # threshold gates found on cuts of at most 4 leaves
    large: int = 0         # threshold gates found on cuts of 5..CUT_SIZE leaves (integer program)
    xors: int = 0          # parities found on cuts
    majorities: int = 0    # one threshold gate for a symmetric cone of more than CUT_SIZE inputs
    counters: int = 0      # counter layers (symmetric cones with several changes of value)
    cones: int = 0         # one threshold gate for a non-symmetric cone of more than CUT_SIZE inputs
    adders: int = 0        # ripple adders rebuilt as carry-lookahead adders (:mod:`.recover`)
    adder_bits: int = 0    # their full and half adders (those of carry-save arrays included)
    sums: int = 0          # carry-save arrays rebuilt as multi-operand sums (:mod:`.recover`)

    def __str__(self) -> str:
        parts = [f"{v} {k}" for k, v in (("th<=4", self.small), ("th5+", self.large), ("xor", self.xors),
                                           ("maj", self.majorities), ("counter", self.counters),
                                           ("cone", self.cones)) if v]
        if self.adders or self.sums:
            kinds = [f"{n} {w}{'s' * (n > 1)}" for n, w in ((self.adders, "adder"), (self.sums, "sum array")) if n]
            parts.append(f"{' + '.join(kinds)} ({self.adder_bits} full/half adders)")
        return ", ".join(parts) or "-"

    @property
    def wide(self) -> int:
        """Gates whose weights are not bounded by the cut size: recovered adders and threshold cones."""
        return self.adders + self.sums + self.cones

#: Leaves per cut (truth tables of at most 2**CUT_SIZE bits).
CUT_SIZE = 6
#: Cuts kept per node (the trivial cut included).
CUTS_PER_NODE = 8
#: Every threshold function of up to 4 inputs has weights within +-4 (the exhaustive table).
MAX_WEIGHT = 4
TABLE_INPUTS = 4
#: Area-flow passes after the depth pass, then exact-area passes.
AREA_PASSES = 2
EXACT_PASSES = 2
OBJECTIVES = ("depth", "size")

# op codes of the compact node records
_IN, _CONST, _AND, _OR, _XOR, _TH = range(6)
_CODE = {OP_INPUT: _IN, OP_CONST: _CONST, OP_AND: _AND, OP_OR: _OR, OP_XOR: _XOR, OP_THRESHOLD: _TH}
# a kept cut is (deepest leaf's arrival, size, leaves, table, signature)
_by_depth, _by_size = itemgetter(0, 1), itemgetter(1, 0)
# candidate kinds
NATIVE, GATE, XOR, WIRE, CONST, SYM = range(6)
#: Supports simulated exhaustively for symmetric functions (:mod:`.symmetric`).
MAX_SUPPORT = 16
#: Stretched tables remembered by the cut pass at most (95% of stretches repeat one seen before).
MEMO_LIMIT = 1 << 18
#: Rungs of a counter layer at most (9symml needs 2).
MAX_RUNGS = 3


@lru_cache(maxsize=None)
def threshold_functions(n: int) -> dict[int, tuple[tuple[int, ...], int]]:
    """Every threshold function of ``n`` inputs: truth table -> (weights, threshold).

    Bit ``a`` of a truth table is the value on the assignment whose bit ``j``
    is input ``j``.  Among realizations, the one with the least total
    absolute weight (then the smallest threshold) is kept.
    """
    rng = np.arange(-MAX_WEIGHT, MAX_WEIGHT + 1)
    ws = np.array(list(itertools.product(rng, repeat=n)), dtype=np.int64).reshape(-1, n)
    assign = np.array([[(a >> j) & 1 for j in range(n)] for a in range(1 << n)], dtype=np.int64)
    sums = ws @ assign.T  # (W, 2^n)
    cost = np.abs(ws).sum(1)
    order = np.lexsort((np.abs(ws).max(1), cost))
    ws, sums = ws[order], sums[order]
    pow2 = (1 << np.arange(1 << n, dtype=np.int64))
    ts = np.arange(-MAX_WEIGHT * n, MAX_WEIGHT * n + 2)
    # keys[i, k]: the table of [ws[i] . x >= ts[k]], for the thresholds from min(sum) to max(sum) + 1
    keys = ((sums[:, None, :] >= ts[None, :, None]) * pow2).sum(-1)
    valid = (ts >= sums.min(1)[:, None]) & (ts <= sums.max(1)[:, None] + 1)
    rows, cols = np.nonzero(valid)  # row-major: by realization, then threshold
    _, first = np.unique(keys[rows, cols], return_index=True)
    first.sort()  # the first realization of each table, in the order of the search
    return {int(keys[rows[f], cols[f]]): (tuple(int(w) for w in ws[rows[f]]), int(ts[cols[f]])) for f in first}


# ----------------------------------------------------------------------------- truth tables

@lru_cache(maxsize=None)
def _masks(n: int) -> tuple[tuple[int, ...], int]:
    """(rows where input j is 0, for each j; all rows) of an ``n``-input table."""
    return tuple(sum(1 << a for a in range(1 << n) if not (a >> j) & 1) for j in range(n)), (1 << (1 << n)) - 1


@lru_cache(maxsize=None)
def _swap_masks(n: int, i: int, j: int) -> tuple[int, int, int, int]:
    """(keep, rows i=1 j=0, rows i=0 j=1, shift) to exchange inputs ``i < j`` of an ``n``-input table."""
    a = b = 0
    for r in range((1 << n)):
        bi, bj = (r >> i) & 1, (r >> j) & 1
        if bi and not bj:
            a |= 1 << r
        elif bj and not bi:
            b |= 1 << r
    return ((1 << (1 << n)) - 1) & ~(a | b), a, b, (1 << j) - (1 << i)


def _swap(t: int, n: int, i: int, j: int) -> int:
    keep, a, b, sh = _swap_masks(n, i, j)
    return (t & keep) | ((t & a) << sh) | ((t & b) >> sh)


@lru_cache(maxsize=None)
def _repeat(m: int, n: int) -> int:
    return sum(1 << (k << m) for k in range(1 << (n - m)))


def _stretch(t: int, m: int, positions: tuple[int, ...], n: int) -> int:
    """An ``m``-input table re-expressed over ``n`` inputs, its input ``j`` at ``positions[j]`` (increasing)."""
    if m == n:
        return t
    t *= _repeat(m, n)
    for j in range(m - 1, -1, -1):
        p = positions[j]
        if p != j:
            t = _swap(t, n, j, p)
    return t


def _shrink(leaves: tuple[int, ...], t: int) -> tuple[tuple[int, ...], int]:
    """Drop the leaves ``t`` does not depend on."""
    n = len(leaves)
    masks, _ = _masks(n)
    j = 0
    while j < n:
        m = masks[j]
        if (t & m) == ((t >> (1 << j)) & m):
            for q in range(j, n - 1):  # move input j to the top, keeping the others in order
                t = _swap(t, n, q, q + 1)
            n -= 1
            t &= (1 << (1 << n)) - 1
            leaves = leaves[:j] + leaves[j + 1:]
            masks, _ = _masks(n)
        else:
            j += 1
    return leaves, t


@lru_cache(maxsize=None)
def _parity(n: int) -> int:
    return sum(1 << a for a in range(1 << n) if bin(a).count("1") % 2)


def _threshold_table(tables: list[int], weights: tuple[int, ...], t: int, n: int) -> int:
    """Truth table over ``n`` leaves of ``[sum(w_i * f_i) >= t]``, each ``f_i`` given by its table."""
    out = 0
    for a in range(1 << n):
        if sum(w for f, w in zip(tables, weights) if (f >> a) & 1) >= t:
            out |= 1 << a
    return out


def _xor_cost(k: int) -> int:
    return k // 2 + 1  # the even form: rungs [sum >= 2], [sum >= 4], ..., then the output


# ----------------------------------------------------------------------------- the mapper

class _Net:
    """Compact per-node records of a boolean graph, nodes numbered 0..N-1 in topological order."""

    def __init__(self, g: nx.DiGraph) -> None:
        ids = sorted(g.nodes)
        pred = g._pred  # adjacency dicts: read directly, the networkx views cost more per call
        topo = all(u < v for v in ids for u in pred[v])
        if not topo:
            ids = list(nx.lexicographical_topological_sort(g))
        # nodes numbered 0..N-1 already in topological order (the usual case): no renumbering
        same = topo and (not ids or (ids[0] == 0 and ids[-1] == len(ids) - 1))
        index = {v: i for i, v in enumerate(ids)}
        node = g._node
        self.ids = ids
        self.op = [_CODE[node[v][OP]] for v in ids]
        fin: list[tuple[int, ...]] = []
        neg: list[tuple[bool, ...]] = []
        self.w: dict[int, tuple[int, ...]] = {}
        self.t: dict[int, int] = {}
        for i, v in enumerate(ids):
            p = pred[v]
            us = sorted(p, key=index.__getitem__) if not topo else sorted(p)
            fin.append(tuple(us) if same else tuple([index[u] for u in us]))
            neg.append(tuple([bool(p[u][NEG]) for u in us]))
            if self.op[i] == _TH:
                self.w[i] = tuple(int(p[u][WEIGHT]) for u in us)
                self.t[i] = int(node[v][THRESHOLD])
        self.fin, self.neg = fin, neg
        fanout = [0] * len(ids)
        for f in fin:
            for u in f:
                fanout[u] += 1
        self.fanout = fanout
        self.outputs = [(p, index[v], bool(neg)) for p, v, neg in g.graph[OUTPUTS]]
        for _, i, _ in self.outputs:
            self.fanout[i] += 1


@without_gc
def map_threshold(g: nx.DiGraph, *, objective: str = "depth", cut_size: int = CUT_SIZE,
                  cuts_per_node: int = CUTS_PER_NODE, threshold_limit: int | None = None) -> nx.DiGraph:
    """A cover of ``g`` by threshold gates and XORs, never deeper than ``g``.

    ``objective="depth"``: the least depth these cuts reach, then the fewest
    gates; ``"size"``: the fewest gates no deeper than the plain lowering.
    ``threshold_limit``: also offer cones of up to ``MAX_SUPPORT`` inputs that are one threshold gate
    whose partial sums stay within it (:mod:`.symmetric`), e.g. a comparator of two 8-bit words.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}; got {objective!r}")
    if not 1 <= cut_size <= 8:
        raise ValueError(f"cut_size must be in 1..8; got {cut_size}")
    if not 1 <= cuts_per_node <= 64:
        raise ValueError(f"cuts_per_node must be in 1..64; got {cuts_per_node}")
    net = _Net(g)
    if all(o in (_IN, _CONST) for o in net.op):
        return g
    compiled = (len(net.op) >= COMPILED_FROM) if _COMPILED is None else _COMPILED
    if cut_size <= 6 and compiled:
        needed, chosen = _map_compiled(net, cut_size, cuts_per_node, objective, threshold_limit)
    else:
        cands, arr, depth0 = _candidates(net, cut_size, cuts_per_node)
        for i, extra in _symmetric(net, cut_size, threshold_limit).items():
            cands[i].extend(extra)
        choice = _select(net, cands, arr, depth0, objective)
        needed, chosen = _reached(net, lambda i: cands[i][choice[i]])
    return _cover(g, net, needed, chosen)


#: Graphs of at least this many nodes are mapped by the compiled passes (:mod:`._mapkernel`, the same
#: cover, about 10 times faster; 0.6 s to load them in a process); smaller ones by the Python passes,
#: which need no JIT compile (about 20 s, once per install: numba caches it on disk).
COMPILED_FROM = 5_000
#: None: choose by size (above); True/False: always the compiled / the Python passes (the tests compare).
_COMPILED: bool | None = None


def _map_compiled(net: _Net, K: int, C: int, objective: str, threshold_limit: int | None):
    """The passes of :func:`_candidates` and :func:`_select`, compiled (:mod:`._mapkernel`, same
    results); returns what :func:`_reached` does."""
    from . import _mapkernel as mk  # numba: imported only when a large graph needs it
    N = len(net.op)
    op = np.array(net.op, np.int8)
    deg = np.fromiter(map(len, net.fin), np.int64, N)
    fptr = np.zeros(N + 1, np.int64)
    np.cumsum(deg, out=fptr[1:])
    fidx = np.fromiter(itertools.chain.from_iterable(net.fin), np.int32, int(fptr[-1]))
    fneg = np.fromiter(itertools.chain.from_iterable(net.neg), np.bool_, int(fptr[-1]))
    thw = np.zeros(int(fptr[-1]), np.int64)
    tht = np.zeros(N, np.int64)
    for i, w in net.w.items():
        thw[fptr[i]:fptr[i + 1]] = w
        tht[i] = net.t[i]
    kmax = max(1, int(deg.max(initial=1)))
    reals: list[tuple[tuple[int, ...], int]] = []  # realizations: of small tables, then of cones
    canon: list[tuple[tuple[int, ...], int]] = []  # realizations of canonical positive tables
    look, look_off = _lookup_tables(K, reals)
    hbits = 10
    h_t, h_n, h_v = np.zeros(1 << hbits, np.uint64), np.zeros(1 << hbits, np.int8), np.zeros(1 << hbits, np.int32)
    n_hash = 0
    cut_n = np.empty((N, C), np.int8)
    cut_l = np.empty((N, C, K), np.int32)
    cut_t = np.empty((N, C), np.uint64)
    cut_s = np.empty((N, C), np.uint64)
    cut_d = np.empty((N, C), np.int64)
    arr = np.zeros(N, np.int64)
    depth0 = np.zeros(N, np.int64)
    cptr = np.zeros(N + 1, np.int64)
    cap = 8 * N + 1024
    c_kind, c_n, c_data = np.empty(cap, np.int8), np.empty(cap, np.int64), np.empty(cap, np.int64)
    c_cost, c_delay = np.empty(cap, np.int64), np.empty(cap, np.int64)
    c_l = np.empty((cap, K), np.int32)
    req = np.zeros(3, np.int64)
    m = mk.MASKS
    start = 0
    while True:
        status = mk.candidates(start, kmax, op, fptr, fidx, fneg, thw, tht, K, C, cut_n, cut_l, cut_t, cut_s,
                               cut_d, arr, depth0, cptr, c_kind, c_n, c_l, c_data, c_cost, c_delay, look, look_off,
                               h_t, h_n, h_v, m["full"], m["par"], m["cof"], m["swk"], m["swa"], m["swb"], m["rep"],
                               m["cnt"], req)
        if status == mk.DONE:
            break
        start = int(req[0])
        if status == mk.NEED_SPACE:
            cap *= 2
            c_kind, c_n, c_data, c_cost, c_delay = (np.resize(a, cap) for a in (c_kind, c_n, c_data, c_cost, c_delay))
            c_l = np.resize(c_l, (cap, K))
            continue
        t, n = int(req[1]) & ((1 << 64) - 1), int(req[2])
        real = canonical(t, n)  # the integer program of a canonical positive table
        v = -1
        if real is not None:
            v = len(canon)
            canon.append(real)
        if 2 * (n_hash + 1) > h_t.size:  # keep the table at most half full
            keys = [(h_t[s], h_n[s], h_v[s]) for s in np.flatnonzero(h_n)]
            size = 2 * h_t.size
            h_t, h_n, h_v = np.zeros(size, np.uint64), np.zeros(size, np.int8), np.zeros(size, np.int32)
            for kt, kn, kv in keys:
                mk.hash_insert(kt, kn, kv, h_t, h_n, h_v)
        mk.hash_insert(np.uint64(t), n, v, h_t, h_n, h_v)
        n_hash += 1
    del cut_n, cut_l, cut_t, cut_s, cut_d

    # symmetric cones and threshold cones: extra candidates of a few nodes
    extra = _symmetric(net, K, threshold_limit)
    syms: list = []

    def unit_t(real: tuple[tuple[int, ...], int]) -> int:
        """A realization's threshold when every weight is 1 (a "[sum >= t]" rung key), else _INF."""
        return real[1] if all(x == 1 for x in real[0]) else mk._INF

    ex_node, ex_kind, ex_data, ex_cost, ex_delay, ex_t, ex_leaves, ex_reads = [], [], [], [], [], [], [], []
    for i in sorted(extra):
        for c in extra[i]:
            kind, leaves, data, cost, delay = c
            ex_node.append(i)
            ex_kind.append(kind)
            if kind == GATE:
                ex_data.append(len(reals))
                reals.append(data)
                ex_t.append(unit_t(data))
            else:
                ex_data.append(len(syms))
                syms.append(data)
                ex_t.append(mk._INF)
            ex_cost.append(cost)
            ex_delay.append(delay)
            ex_leaves.append(leaves)
            ex_reads.append(_leaves_read(c))
    ex_ptr = np.zeros(N + 1, np.int64)
    np.cumsum(np.bincount(np.array(ex_node, np.int64), minlength=N), out=ex_ptr[1:])

    def csr(rows):
        ptr = np.zeros(len(rows) + 1, np.int64)
        np.cumsum([len(r) for r in rows], out=ptr[1:])
        return ptr, np.fromiter(itertools.chain.from_iterable(rows), np.int32, int(ptr[-1]))

    ex_lptr, ex_lidx = csr(ex_leaves)
    ex_rptr, ex_ridx = csr(ex_reads)
    real_t = np.array([unit_t(r) for r in reals] or [0], np.int64)
    canon_t = np.array([unit_t(r) for r in canon] or [0], np.int64)
    (cptr, kind, data, cost, delay, ctt, lptr, lidx, rptr, ridx) = mk.build(
        cptr, c_kind, c_n, c_l, c_data, c_cost, c_delay, fptr, fidx, real_t, canon_t,
        ex_ptr, np.array(ex_kind, np.int8), np.array(ex_data, np.int64), np.array(ex_cost, np.int64),
        np.array(ex_delay, np.int64), np.array(ex_t, np.int64), ex_lptr, ex_lidx, ex_rptr, ex_ridx)
    del c_kind, c_n, c_l, c_data, c_cost, c_delay

    # selection: depth, area flow under required times, exact area (as _select)
    gates = np.flatnonzero(op > _CONST).astype(np.int64)
    outs = np.array([i for _, i, _ in net.outputs], np.int64)
    fanout = np.array(net.fanout, np.int64)
    est = np.maximum(1, fanout).astype(np.float64)
    sel_arr = np.zeros(N, np.int64)
    flow = np.zeros(N, np.float64)
    choice = np.zeros(N, np.int64)
    no_req = np.zeros(N, np.int64)
    mk.flow_pass(gates, cptr, delay, cost, rptr, ridx, est, sel_arr, flow, choice, no_req, False)
    d_best = int(sel_arr[outs].max(initial=0))
    d_plain = int(depth0[outs].max(initial=0))
    target = d_best if objective == "depth" else max(d_best, d_plain)
    for _ in range(AREA_PASSES):
        rq, refs = mk.required(gates, outs, cptr, delay, rptr, ridx, choice, target, N)
        est = np.where(refs > 0, np.maximum(1, refs), np.maximum(1, fanout)).astype(np.float64)
        mk.flow_pass(gates, cptr, delay, cost, rptr, ridx, est, sel_arr, flow, choice, rq, True)
    native_neg = np.zeros(N, np.bool_)  # some fanin of the node is complemented
    native_neg[np.repeat(np.arange(N), deg)[fneg]] = True
    is_gate = op > _CONST
    for _ in range(EXACT_PASSES):
        rq, refs = mk.required(gates, outs, cptr, delay, rptr, ridx, choice, target, N)
        mk.exact_pass(gates, cptr, kind, cost, delay, ctt, lptr, lidx, rptr, ridx, op, native_neg,
                      is_gate, choice, sel_arr, rq, refs, EXACT_DEPTH)

    # the chosen candidates of the nodes the outputs reach, as the tuples of the Python passes
    needed_a = mk.reached(outs, cptr, choice, rptr, ridx, is_gate)
    ng = np.flatnonzero(needed_a & is_gate)
    q = cptr[ng] + choice[ng]
    lens = lptr[q + 1] - lptr[q]
    starts = np.zeros(len(q) + 1, np.int64)
    np.cumsum(lens, out=starts[1:])
    flat = lidx[np.repeat(lptr[q] - starts[:-1], lens) + np.arange(int(starts[-1]))].tolist()
    chosen: list = [None] * N
    for i, k, d, c, dl, a, b in zip(ng.tolist(), kind[q].tolist(), data[q].tolist(), cost[q].tolist(),
                                    delay[q].tolist(), starts[:-1].tolist(), starts[1:].tolist()):
        leaves = tuple(flat[a:b])
        value = (None if k == NATIVE else (reals[d] if d >= 0 else _decode(d, b - a, canon)) if k == GATE
                 else syms[d] if k == SYM else d if k == CONST else bool(d))
        chosen[i] = (k, leaves, value, c, dl)
    return needed_a.tolist(), chosen


def _decode(data: int, n: int, canon: list) -> tuple[tuple[int, ...], int]:
    """The realization a gate code of :func:`._mapkernel._classify` stands for (as identify builds it:
    the canonical weights permuted back, complemented inputs undone)."""
    code = -4 - data
    flips, val = code & 63, code >> 25
    if (code >> 24) & 1:  # symmetric: [count >= val]
        weights, t = [1] * n, val
    else:
        wc, t = canon[val]
        weights = [0] * n
        for q in range(n):
            weights[(code >> (6 + 3 * q)) & 7] = wc[q]
    ws = tuple(-w if (flips >> j) & 1 else w for j, w in enumerate(weights))
    return ws, t - sum(w for j, w in enumerate(weights) if (flips >> j) & 1)


def _lookup_tables(K: int, reals: list) -> tuple[np.ndarray, np.ndarray]:
    """Dense realization lookup for tables of 2..min(K, 4) leaves: ``look[off[n] + table]`` is an index
    into ``reals`` (appended here), or -1."""
    off = np.zeros(TABLE_INPUTS + 1, np.int64)
    total = 0
    for n in range(2, TABLE_INPUTS + 1):
        off[n] = total
        total += 1 << (1 << n)
    look = np.full(total, -1, np.int32)
    for n in range(2, min(K, TABLE_INPUTS) + 1):
        for t, real in threshold_functions(n).items():
            look[off[n] + t] = len(reals)
            reals.append(real)
    return look, off


def _candidates(net: _Net, K: int, C: int) -> tuple[list[list[tuple]], list[int], list[int]]:
    """Per node: its candidates ``(kind, leaves, data, cost, delay)`` (the native one first), the least
    arrival, and the depth of the plain lowering.

    A cut is ``(leaves, table, signature, arrival of its deepest leaf)``; the signature (one bit per
    leaf, modulo 64) rejects most unions over ``K`` leaves before they are built.
    """
    n_nodes = len(net.op)
    op, fin, negs = net.op, net.fin, net.neg
    cuts: list = [None] * n_nodes
    left = list(net.fanout)  # gate readers not yet processed: a node's cuts are freed at 0
    for _, i, _ in net.outputs:
        left[i] -= 1
    arr = [0] * n_nodes
    depth0 = [0] * n_nodes
    cands: list[list[tuple]] = [[] for _ in range(n_nodes)]
    tables4 = {n: threshold_functions(n) for n in range(1, min(K, TABLE_INPUTS) + 1)}
    match: dict[tuple[int, int], tuple | None] = {}
    fulls = [(1 << (1 << n)) - 1 for n in range(K + 1)]
    parity = [_parity(n) for n in range(K + 1)]
    arr_at = arr.__getitem__
    memo: dict[tuple[int, tuple[int, ...], int], int] = {}  # (table, positions, n) -> stretched table

    def stretched(t: int, cut: tuple[int, ...], leaves: tuple[int, ...]) -> int:
        """The table ``t`` over ``cut`` re-expressed over ``leaves`` (a superset), memoized."""
        key = (t, tuple(map(leaves.index, cut)), len(leaves))
        r = memo.get(key)
        if r is None:
            r = memo[key] = _stretch(t, len(cut), key[1], key[2])
        return r

    for i in range(n_nodes):
        o = op[i]
        if o == _IN or o == _CONST:
            cuts[i] = [((i,), 2, 1 << (i & 63), 0)]
            continue
        if len(memo) > MEMO_LIMIT:  # bounded memory on very large graphs
            memo.clear()
        fi = fin[i]
        k = len(fi)
        delay = 2 if o == _XOR else 1
        cost = _xor_cost(k) if o == _XOR else 1
        depth0[i] = delay + max(map(depth0.__getitem__, fi), default=0)
        best_arr = delay + max(map(arr_at, fi), default=0)
        mine = [(NATIVE, fi, None, cost, delay)]
        # leaves -> (table, signature, deepest leaf's arrival, may not depend on every leaf)
        found: dict[tuple[int, ...], tuple] = {}
        if k == 2 and o != _TH:
            (u0, u1), (n0, n1) = fi, negs[i]
            for la, ta, sa, da in cuts[u0]:
                ma = len(la)
                for lb, tb, sb, db in cuts[u1]:
                    sg = sa | sb
                    if sg.bit_count() > K:
                        continue
                    if la == lb:
                        leaves, n = la, ma
                        if leaves in found:
                            continue
                        x, y = ta, tb
                        overlap = True
                    else:
                        leaves = tuple(sorted({*la, *lb}))
                        n = len(leaves)
                        if n > K or leaves in found:
                            continue
                        mb = len(lb)
                        overlap = n < ma + mb
                        x = ta if ma == n else stretched(ta, la, leaves)
                        y = tb if mb == n else stretched(tb, lb, leaves)
                    full = fulls[n]
                    if n0:
                        x ^= full
                    if n1:
                        y ^= full
                    found[leaves] = (x & y if o == _AND else x | y if o == _OR else x ^ y, sg,
                                     da if da > db else db, overlap)
        elif k > 0:
            # Merge the fanins' cuts one fanin at a time, dropping unions over K leaves early.  A gate
            # of more than K fanins has cuts too when its fanins share leaves (a sum of products).
            partial = [(0, (), ())]
            for u in fi:
                if not partial:
                    break
                nxt = []
                for sig, leaves, picks in partial:
                    for c in cuts[u]:
                        sg = sig | c[2]
                        if sg.bit_count() > K:
                            continue
                        cl = c[0]
                        merged = cl if not leaves or leaves == cl else tuple(sorted({*leaves, *cl}))
                        if len(merged) > K:
                            continue
                        nxt.append((sg, merged, picks + (c,)))
                if len(nxt) > 4 * C:
                    nxt.sort(key=lambda p: len(p[1]))
                    del nxt[4 * C:]
                partial = nxt
            for sig, leaves, picks in partial:
                if leaves in found:
                    continue
                n = len(leaves)
                full = fulls[n]
                tabs = []
                for (cl, ct, _, _), neg in zip(picks, negs[i]):
                    t = ct if len(cl) == n else stretched(ct, cl, leaves)
                    tabs.append(t ^ full if neg else t)
                if o == _AND:
                    acc = full
                    for t in tabs:
                        acc &= t
                elif o == _OR:
                    acc = 0
                    for t in tabs:
                        acc |= t
                elif o == _XOR:
                    acc = 0
                    for t in tabs:
                        acc ^= t
                else:
                    acc = _threshold_table(tabs, net.w[i], net.t[i], n)
                found[leaves] = (acc, sig, max((c[3] for c in picks), default=0), True)
        kept = []
        seen = set()
        for leaves, (t, sg, d_in, overlap) in found.items():
            n = len(leaves)
            if overlap:
                masks = _masks(n)[0]
                for j in range(n):  # a leaf the table does not depend on is dropped
                    mj = masks[j]
                    if (t & mj) == ((t >> (1 << j)) & mj):
                        leaves, t = _shrink(leaves, t)
                        n = len(leaves)
                        sg = _sig(leaves)
                        d_in = max(map(arr_at, leaves), default=0)
                        break
            if leaves in seen:
                continue
            seen.add(leaves)
            if n >= 2:
                key = (n, t)
                m = match.get(key, False)
                if m is False:
                    real = tables4[n].get(t) if n <= TABLE_INPUTS else identify(t, n)
                    if real is not None:
                        m = (GATE, real, 1, 1)
                    elif t == parity[n] or t == parity[n] ^ fulls[n]:
                        m = (XOR, t != parity[n], _xor_cost(n), 2)
                    else:
                        m = None
                    match[key] = m
                if m is not None:
                    mine.append((m[0], leaves, m[1], m[2], m[3]))
                    if m[3] + d_in < best_arr:
                        best_arr = m[3] + d_in
                kept.append((d_in, n, leaves, t, sg))
            elif n == 1:
                mine.append((WIRE, leaves, t == 1, 0, 0))
                if d_in < best_arr:
                    best_arr = d_in
                kept.append((d_in, n, leaves, t, sg))
            else:
                mine.append((CONST, (), t & 1, 0, 0))
                best_arr = 0
        arr[i] = best_arr
        cands[i] = mine
        if len(kept) > C - 1:  # half the places to the shallowest cuts, the rest to the smallest
            kept.sort(key=_by_depth)
            rest = kept[(C - 1) // 2:]
            rest.sort(key=_by_size)
            kept = kept[:(C - 1) // 2] + rest[:C - 1 - (C - 1) // 2]
        cuts[i] = [((i,), 2, 1 << (i & 63), best_arr)] + [(l, t, sg, d) for d, _, l, t, sg in kept]
        for u in fi:
            left[u] -= 1
            if left[u] == 0:
                cuts[u] = None
    return cands, arr, depth0


def _symmetric(net: _Net, K: int, threshold_limit: int | None) -> dict[int, list[tuple]]:
    """Extra candidates: symmetric functions of more than ``K`` inputs (one threshold gate, or a counter
    layer); threshold cones (one gate) when ``threshold_limit`` is given."""
    found = find_symmetric(net.op, net.fin, net.neg, net.w, net.t, min_support=K + 1, max_support=MAX_SUPPORT,
                           threshold_limit=threshold_limit)
    extra: dict[int, list[tuple]] = {}
    for i, sym in found.items():
        if isinstance(sym, ThresholdCone):
            extra.setdefault(i, []).append((GATE, sym.support, (sym.weights, sym.t), 1, 1))
            continue
        ch = sym.changes
        if len(ch) == 1:
            k = ch[0]
            w = tuple(-1 if ng else 1 for ng in sym.negated)
            n_neg = sum(sym.negated)
            if sym.pattern[0] == 0:  # [c >= k], c = sum(w x) + n_neg
                cand = (GATE, sym.support, (w, k - n_neg), 1, 1)
            else:  # [c <= k - 1] = [-c >= 1 - k]
                cand = (GATE, sym.support, (tuple(-x for x in w), 1 - k + n_neg), 1, 1)
        elif len(ch) <= MAX_RUNGS:
            cand = (SYM, sym.support, sym, len(ch) + 1, 2)
        else:  # a wide counter costs more neurons than it saves layers
            continue
        extra.setdefault(i, []).append(cand)
    return extra


def _sig(leaves: tuple[int, ...]) -> int:
    s = 0
    for l in leaves:
        s |= 1 << (l & 63)
    return s


def _leaves_read(c: tuple) -> tuple[int, ...]:
    """The leaves a candidate's gate reads (a weight-0 leaf is not read)."""
    if c[0] == GATE:
        return tuple(l for l, w in zip(c[1], c[2][0]) if w)
    return c[1]


def _select(net: _Net, cands: list[list[tuple]], arr0: list[int], depth0: list[int], objective: str) -> list[int]:
    """Per node, the index of its chosen candidate: depth first, then area flow under required times."""
    n_nodes = len(net.op)
    op = net.op
    gates = [i for i in range(n_nodes) if op[i] != _IN and op[i] != _CONST]
    outs = [i for _, i, _ in net.outputs]
    reads = [[_leaves_read(c) for c in cs] for cs in cands]
    # Depth pass: least arrival, ties by area flow with the graph's fanouts.
    est = [max(1, f) for f in net.fanout]
    arr = [0] * n_nodes
    flow = [0.0] * n_nodes
    choice = [0] * n_nodes
    _flow_pass(gates, cands, reads, est, arr, flow, choice, None)
    d_best = max((arr[i] for i in outs), default=0)
    d_plain = max((depth0[i] for i in outs), default=0)
    target = d_best if objective == "depth" else max(d_best, d_plain)
    for _ in range(AREA_PASSES):
        req, refs = _required(net, gates, reads, cands, choice, target)
        est = [max(1, r) if r else max(1, f) for r, f in zip(refs, net.fanout)]
        _flow_pass(gates, cands, reads, est, arr, flow, choice, req)
    rungs: dict[tuple[int, int], tuple[tuple, tuple]] = {}  # (node, candidate) -> _rung_keys
    for _ in range(EXACT_PASSES):
        req, refs = _required(net, gates, reads, cands, choice, target)
        _exact_pass(net, gates, cands, reads, choice, arr, req, refs, rungs)
    return choice


#: How deep the exact-area pass follows a cut's exclusive logic (bounds its time per node).
EXACT_DEPTH = 8


def _rung_keys(net: _Net, i: int, c: tuple) -> tuple[tuple, tuple]:
    """(gates this candidate is, gates it needs) as ``(plain leaves, t)`` keys of ``[sum >= t]``: an
    XOR's even rungs are such gates, and the threshold stage shares equal gates (a full adder's
    carry is its sum's "at least two" rung)."""
    kind, leaves, data = c[0], c[1], c[2]
    if kind == GATE:
        w, t = data
        return (((leaves, t),) if all(x == 1 for x in w) else ()), ()
    if kind == XOR:
        return (), tuple((leaves, t) for t in range(2, len(leaves) + 1, 2))
    if kind == NATIVE and not any(net.neg[i]):
        o = net.op[i]
        if o == _AND:
            return ((leaves, len(leaves)),), ()
        if o == _OR:
            return ((leaves, 1),), ()
        if o == _XOR:
            return (), tuple((leaves, t) for t in range(2, len(leaves) + 1, 2))
    return (), ()


def _exact_pass(net: _Net, gates, cands, reads, choice, arr, req, refs, rungs: dict) -> None:
    """Exact local area: each node of the cover takes the candidate that adds the fewest gates to the
    cover (its own cost plus the logic only it would read), among those meeting the required time.
    A candidate's own cost counts the XOR rungs it shares with gates of the cover (estimate)."""
    op = net.op
    is_gate = [o != _IN and o != _CONST for o in op]
    arr_at = arr.__getitem__
    have: dict[tuple, int] = {}  # [sum >= t] gates of the cover
    need: dict[tuple, int] = {}  # XOR rungs of the cover

    def keys(i: int, q: int) -> tuple[tuple, tuple]:
        k = rungs.get((i, q))
        if k is None:
            k = rungs[i, q] = _rung_keys(net, i, cands[i][q])
        return k

    def mark(i: int, q: int, step: int) -> None:
        is_, needs = keys(i, q)
        for k in is_:
            have[k] = have.get(k, 0) + step
        for k in needs:
            need[k] = need.get(k, 0) + step

    def own(i: int, q: int) -> int:
        is_, needs = keys(i, q)
        if not is_ and not needs:
            return cands[i][q][3]
        return (cands[i][q][3] - sum(1 for k in needs if have.get(k, 0) > 0)
                - sum(1 for k in is_ if need.get(k, 0) > 0))

    def walk(i: int, q: int, step: int) -> int:
        """Reference (step 1) or dereference (step -1) candidate q of node i; the gates that enter
        (leave) the cover below it, counted to EXACT_DEPTH levels."""
        area = 0
        stack = [(l, 1) for l in reads[i][q]]
        while stack:
            l, d = stack.pop()
            if not is_gate[l]:
                continue
            refs[l] += step
            if refs[l] == (1 if step > 0 else 0):
                c = choice[l]
                area += cands[l][c][3]
                if d < EXACT_DEPTH:
                    stack.extend((x, d + 1) for x in reads[l][c])
        return area

    def added(i: int, q: int) -> int:
        """What ``walk(i, q, 1)`` would return, without changing the reference counts: a gate enters
        the cover when nothing references it yet, the first time the walk reaches it."""
        area = 0
        seen = set()
        stack = [(l, 1) for l in reads[i][q]]
        while stack:
            l, d = stack.pop()
            if not is_gate[l] or refs[l] or l in seen:
                continue
            seen.add(l)
            c = choice[l]
            area += cands[l][c][3]
            if d < EXACT_DEPTH:
                stack.extend((x, d + 1) for x in reads[l][c])
        return area

    for i in gates:
        if refs[i]:
            mark(i, choice[i], 1)
    for i in gates:
        if not refs[i]:
            continue
        walk(i, choice[i], -1)
        mark(i, choice[i], -1)
        best = None
        r = req[i]
        for q, (c, ls) in enumerate(zip(cands[i], reads[i])):
            a = c[4] + max(map(arr_at, ls), default=0)
            if a > r:
                continue
            area = own(i, q) + added(i, q)
            if best is None or (area, a) < best[0]:
                best = ((area, a), q, a)
        if best is not None:
            _, choice[i], arr[i] = best
        walk(i, choice[i], 1)
        mark(i, choice[i], 1)


def _flow_pass(gates, cands, reads, est, arr, flow, choice, req) -> None:
    """Per node in topological order: the candidate of least (arrival, area flow), or with required
    times ``req``, of least area flow among those that meet it."""
    inf = float("inf")
    share = [f / e for f, e in zip(flow, est)]  # a leaf's area flow per use (its leaves come first)
    arr_at, share_at = arr.__getitem__, share.__getitem__
    for i in gates:
        best = None
        limit = inf if req is None else req[i]
        for q, (c, ls) in enumerate(zip(cands[i], reads[i])):
            a = c[4] + max(map(arr_at, ls), default=0)
            f = c[3] + sum(map(share_at, ls))
            key = (a, f) if req is None else ((0, f, a) if a <= limit else (1, a, f))
            if best is None or key < best[0]:
                best = (key, q, a, f)
        _, choice[i], arr[i], flow[i] = best
        share[i] = flow[i] / est[i]


def _required(net: _Net, gates: list[int], reads, cands, choice: list[int], target: int):
    """Required times of the current cover (inf off it) and its reference counts."""
    inf = float("inf")
    req: list = [inf] * len(net.op)
    refs = [0] * len(net.op)
    for _, i, _ in net.outputs:
        req[i] = min(req[i], target)
        refs[i] += 1
    for i in reversed(gates):
        if not refs[i]:
            continue
        c = cands[i][choice[i]]
        r = req[i] - c[4]
        for l in reads[i][choice[i]]:
            refs[l] += 1
            if r < req[l]:
                req[l] = r
    return req, refs


def _reached(net: _Net, pick) -> tuple[list[bool], list]:
    """(the nodes the outputs reach through the chosen candidates, each gate's chosen candidate
    ``pick(i)`` or None)."""
    n_nodes = len(net.op)
    needed = [False] * n_nodes
    chosen: list = [None] * n_nodes
    stack = [i for _, i, _ in net.outputs]
    while stack:
        i = stack.pop()
        if needed[i]:
            continue
        needed[i] = True
        if net.op[i] not in (_IN, _CONST):
            chosen[i] = pick(i)
            stack.extend(_leaves_read(chosen[i]))
    return needed, chosen


def _cover(g: nx.DiGraph, net: _Net, needed: list[bool], chosen: list) -> nx.DiGraph:
    """The chosen candidates of the ``needed`` nodes (:func:`_reached`), as a mapped graph."""
    n_nodes = len(net.op)
    ids = net.ids
    m = nx.DiGraph()
    # nodes and edges are collected, then added at once (in the same order): every edge's source is
    # added before it, so the graph is the same as adding them one by one, in far less time
    nodes: list[tuple[int, dict]] = []
    edges: list[tuple[int, int, dict]] = []
    add_node, add_edge = nodes.append, edges.append
    rep: list = [None] * n_nodes  # where each original node's value lives: (mapped node, negated)
    const_id = [None]

    def const() -> int:
        if const_id[0] is None:
            existing = [ids[i] for i in range(n_nodes) if net.op[i] == _CONST]
            const_id[0] = existing[0] if existing else max(ids) + 1
            add_node((const_id[0], {OP: OP_CONST, NAME: None}))
        return const_id[0]

    used = {"native": 0, "small": 0, "large": 0, "xors": 0, "majorities": 0, "counters": 0, "cones": 0}
    for i in range(n_nodes):
        if needed[i] and net.op[i] not in (_IN, _CONST):
            kind, leaves, data = chosen[i][:3]
            key = ("native" if kind == NATIVE else "xors" if kind == XOR else "counters" if kind == SYM else
                   None if kind in (WIRE, CONST) else "small" if len(leaves) <= TABLE_INPUTS else
                   "large" if len(leaves) <= 8 else
                   "majorities" if all(abs(w) == 1 for w in data[0]) else "cones")
            if key:
                used[key] += 1
    next_id = [max(ids) + 2]  # new nodes (counter rungs); then the graph is renumbered
    renumber = [False]
    node = g._node
    for v in g.graph[INPUTS]:
        add_node((v, dict(node[v])))
    for i in range(n_nodes):
        if net.op[i] == _IN:
            rep[i] = (ids[i], False)
    for i in range(n_nodes):
        if not needed[i] or net.op[i] == _IN:
            continue
        v = ids[i]
        if net.op[i] == _CONST:
            rep[i] = (const(), False)
            continue
        kind, leaves, data, _, _ = chosen[i]
        attrs = dict(node[v])
        if kind == WIRE:
            s, sn = rep[leaves[0]]
            rep[i] = (s, sn ^ bool(data))
            continue
        if kind == CONST:
            rep[i] = (const(), bool(data))
            continue
        if kind == SYM:  # rungs [c >= k_j], then [h_1 - h_2 + ... >= 1]
            terms = [(rep[x], -1 if ng else 1) for x, ng in zip(leaves, data.negated)]
            rungs = []
            for j, k in enumerate(data.changes):
                r = next_id[0]
                next_id[0] += 1
                add_node((r, {OP: OP_THRESHOLD, THRESHOLD: k - sum(data.negated), NAME: None}))
                for (s, sn), w in terms:
                    add_edge((s, r, {NEG: sn, WEIGHT: w}))
                rungs.append((r, 1 if j % 2 == 0 else -1))
            attrs[OP] = OP_THRESHOLD
            attrs[THRESHOLD] = 1
            add_node((v, attrs))
            for r, w in rungs:
                add_edge((r, v, {NEG: False, WEIGHT: w}))
            rep[i] = (v, bool(data.pattern[0]))
            renumber[0] = True
            continue
        if kind == XOR or (kind == NATIVE and net.op[i] == _XOR):
            par = bool(data) if kind == XOR else False
            srcs: dict[int, bool] = {}
            lits = [rep[l] for l in leaves] if kind == XOR else \
                [(rep[u][0], rep[u][1] ^ n) for u, n in zip(leaves, net.neg[i])]
            for s, sn in lits:
                par ^= sn
                if s == const_id[0]:  # false, or true when negated: only the parity changes
                    continue
                if s in srcs:  # x ^ x = 0
                    del srcs[s]
                else:
                    srcs[s] = False
            if len(srcs) >= 2:
                attrs[OP] = OP_XOR
                attrs.pop(THRESHOLD, None)
                add_node((v, attrs))
                for s in sorted(srcs):
                    add_edge((s, v, {NEG: False}))
                rep[i] = (v, par)
            elif len(srcs) == 1:
                rep[i] = (next(iter(srcs)), par)
            else:
                rep[i] = (const(), par)
            continue
        # A linear form: [sum(w * lit) >= t] over the representatives, repeated sources merged.
        if kind == GATE:
            weights, t = data
            terms = [(rep[l], w) for l, w in zip(leaves, weights) if w]
            op_out = OP_THRESHOLD
        else:
            o = net.op[i]
            lits = [(rep[u][0], rep[u][1] ^ n) for u, n in zip(leaves, net.neg[i])]
            if o == _TH:
                terms, t, op_out = list(zip(lits, net.w[i])), net.t[i], OP_THRESHOLD
            else:
                terms, t = [(l, 1) for l in lits], (len(lits) if o == _AND else 1)
                op_out = OP_AND if o == _AND else OP_OR
        if const_id[0] is not None:  # fold constant operands into the threshold
            folded = []
            for (s, sn), w in terms:
                if s == const_id[0]:
                    t -= w * sn
                    op_out = OP_THRESHOLD
                else:
                    folded.append(((s, sn), w))
            terms = folded
            if not terms:
                rep[i] = (const(), 0 >= t)
                continue
        srcs = [s for (s, _), _ in terms]
        if len(set(srcs)) == len(srcs):  # every source once: the literals as they are
            attrs[OP] = op_out
            if op_out == OP_THRESHOLD:
                attrs[THRESHOLD] = t
            else:
                attrs.pop(THRESHOLD, None)
            add_node((v, attrs))
            for (s, sn), w in terms:
                add_edge((s, v, {NEG: sn, WEIGHT: w} if op_out == OP_THRESHOLD else {NEG: sn}))
            rep[i] = (v, False)
            continue
        coef: dict[int, int] = {}
        for (s, sn), w in terms:
            if sn:  # w * (1 - x) = w - w * x
                t -= w
                w = -w
            coef[s] = coef.get(s, 0) + w
        coef = {s: w for s, w in coef.items() if w}
        if not coef:
            rep[i] = (const(), 0 >= t)  # the constant [0 >= t]
            continue
        attrs[OP] = OP_THRESHOLD
        attrs[THRESHOLD] = t
        add_node((v, attrs))
        for s in sorted(coef):
            add_edge((s, v, {NEG: False, WEIGHT: coef[s]}))
        rep[i] = (v, False)
    add_to_graph(m, nodes, edges)
    m.graph[INPUTS] = g.graph[INPUTS]
    m.graph[OUTPUTS] = tuple((p, rep[i][0], neg ^ rep[i][1]) for p, i, neg in net.outputs)
    drop_dead(m)
    m = _renumbered(m) if renumber[0] else m
    rec = g.graph.get(RECOVERED)
    m.graph[STATS] = MappingStats(**used, adders=rec.adders if rec else 0, adder_bits=rec.adder_bits if rec else 0,
                                  sums=rec.sums if rec else 0)
    return m


def _renumbered(m: nx.DiGraph) -> nx.DiGraph:
    """``m`` with nodes numbered in topological order, inputs first in port order (later stages
    read the nodes in increasing order)."""
    inputs = list(m.graph[INPUTS])
    inset = set(inputs)
    order = inputs + [v for v in nx.lexicographical_topological_sort(m) if v not in inset]
    new = {v: q for q, v in enumerate(order)}
    r = nx.relabel_nodes(m, new, copy=True)
    r.graph[INPUTS] = tuple(new[v] for v in inputs)
    r.graph[OUTPUTS] = tuple((p, new[v], ng) for p, v, ng in m.graph[OUTPUTS])
    return r


def live_nodes(m: nx.DiGraph) -> set[int]:
    """The inputs and every node an output reads, directly or through gates."""
    seen = set(m.graph[INPUTS])
    stack = [v for _, v, _ in m.graph[OUTPUTS]]
    while stack:
        v = stack.pop()
        if v not in seen:
            seen.add(v)
            stack.extend(m._pred[v])
    return seen


def drop_dead(m: nx.DiGraph) -> None:
    """Remove gates no output reads (merging repeated sources can cancel an edge)."""
    seen = live_nodes(m)
    m.remove_nodes_from([v for v in m.nodes if v not in seen])
