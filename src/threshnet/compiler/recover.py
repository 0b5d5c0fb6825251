"""Stage 2a, arithmetic recovery: ripple-carry adders and carry-save arrays in a boolean graph become
constant-depth threshold adders.

A gate-level netlist loses its words: a 128-bit ripple adder is a chain of
128 full adders, and a cut-based mapper covers it bit by bit, so its depth
stays linear in the width.  This pass finds the chains and rebuilds each one
with the constant-depth adder of :mod:`.arith_add` (carries as single
threshold gates over weighted operand bits).

1. **Cuts.**  Every node gets its cuts of at most three leaves with their
   truth tables (bit ``a`` of a table: the value on the row whose bit ``j``
   is leaf ``j``, leaves in increasing order).
2. **Adders.**  Over three leaves ``l`` a node whose table is
   ``maj(l0 ^ p0, l1 ^ p1, l2 ^ p2)`` (every table of the majority's NPN
   class is one of these eight) is a *carry*, and a node whose table is
   ``l0 ^ l1 ^ l2 ^ q`` is a *sum*; a carry and a sum over the same leaves
   are a full adder of the operands ``x_j = l_j ^ p_j``:
   ``x0 + x1 + x2 = (S ^ r) + 2 C`` with ``r = q ^ p0 ^ p1 ^ p2``.  Over two
   leaves, ``C = (x0 & x1) ^ o`` and ``S = x0 ^ x1 ^ r`` are a half adder
   (``x0 + x1 = (S ^ r) + 2 (C ^ o)``).
3. **Chains.**  Adder ``j + 1`` continues adder ``j`` when ``j``'s carry node
   is one of its leaves.  A full adder may be *flipped* (every operand
   negated): ``~x0 + ~x1 + ~x2 = ~s + 2 ~c``, because ``x -> 1 - x`` maps
   ``x0 + x1 + x2 = s + 2c`` to ``3 - (s + 2c) = (1 - s) + 2 (1 - c)``.
   With flips ``f_j`` chosen so that adder ``j + 1`` reads the true carry
   ``k_j`` (``f_(j+1) = f_j ^ p ^ o_j``, ``p`` its polarity on the carry
   leaf; half adders cannot flip, so a chain breaks where one would need
   to), the bits satisfy ``a_j + b_j + k_(j-1) = s_j + 2 k_j``, and summing
   ``2^j`` times these telescopes to
   ``sum 2^j (a_j + b_j) + k_(-1) = sum 2^j s_j + 2^n k_(n-1)``:
   the chain is the word addition ``A + B + cin``.
4. **Splice.**  A chain of at least :data:`MIN_BITS` adders is rebuilt by
   :func:`.arith_add.add_bits` in a :class:`.synth.Builder` whose inputs are
   the operand leaves, sized for the compile's dtype and objective (a chain
   whose adder does not fit is left alone).  Each sum node and the last
   carry node becomes the construction's gate for its bit (negated when the
   polarities say so: ``~[L >= t] = [-L >= 1 - t]``); the construction's
   other gates become new nodes.  A chain is refused when one of its
   operands depends on one of its own outputs (the rebuilt bits read every
   operand, which would close a cycle).  Old carries that something else
   still reads are rebuilt too (the carry of the prefix, a gate of the same
   construction), and logic nothing reads any more is dropped.
5. **Arrays** (only with ``arrays=True``, which ``compile`` does not ask:
   see :func:`recover_adders`).  Adders linked by sums as well as carries
   (:func:`_clusters`) get columns (a sum stays in its adder's column, a carry moves one up);
   adding the per-adder identities ``x0 + x1 + x2 = s + 2c`` times
   ``2^column``, every output that exactly one other adder of the array
   reads cancels, leaving ``sum_operands 2^col x = sum_terminals 2^col t``.
   With the terminals (outputs no adder of the array reads) in distinct
   columns, the right side is a binary number, so the terminals are the
   digits of the left side: :func:`.arith_count.add_columns` of the operand
   columns.
6. **Only when shallower.**  A rebuilt adder's outputs all wait for its
   latest operand; a ripple whose operands arrive as its carries do (a row
   of an array multiplier) is already as early.  A chain or array is
   rebuilt only when its latest operand's level (gate levels of the input
   graph) plus :data:`LEVELS_PER_LAYER` per layer of the construction is
   below the level of its latest output.  This is a choice of cost, not of
   correctness.

Soundness: the tables are computed exactly from the cuts, the identity of
step 3 holds for every input, and every gate of the construction is exact
in the dtype (the builder's fit rule), so each replaced node computes the
same function of the graph's inputs as before (for arrays, the column
identity of step 5 holds for every input, and its right side is below
``2^width``, so the digits are exact).  Tests check the rebuilt graphs
against the spec's evaluator.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

import networkx as nx

from .synth import FALSE, Builder, Unfit, budget_for  # before arith_add: synth registers the constructions
from .arith_add import add_bits  # noqa: I001
from .arith_count import add_columns
from .mapping import drop_dead, live_nodes
from .keys import (
    INPUTS, NAME, NEG, OP, OP_AND, OP_INPUT, OP_OR, OP_THRESHOLD, OP_XOR, OUTPUTS, RECOVERED, THRESHOLD, WEIGHT,
)
from .options import FLOAT_BITS, INT_MAX

__all__ = ["MIN_BITS", "RECOVERED", "Recovered", "recover_adders"]

#: Shortest chain worth rebuilding (shorter ones the mapper covers in as few layers).
MIN_BITS = 4
#: Cuts (of at most three leaves) kept per node.
CUTS_PER_NODE = 12

#: ANDs and ORs of at most this many operands are also read through their operand subsets (:func:`_cuts`).
SUBGROUP_FANINS = 5

_XOR3, _XOR2 = 0x96, 0x6


@dataclass(frozen=True)
class Recovered:
    """What the pass rebuilt: adder chains and their bits."""

    adders: int = 0      # ripple chains rebuilt as two-operand adders
    adder_bits: int = 0  # full and half adders replaced (chains and arrays)
    sums: int = 0        # carry-save arrays rebuilt as multi-operand sums (column compression)


@dataclass(frozen=True)
class _Bit:
    """One full (three leaves) or half (two leaves) adder: ``sum x = (S ^ r) + 2 (C ^ o)``, ``x_j = leaves_j ^ pol_j``."""

    leaves: tuple[int, ...]
    pol: tuple[int, ...]
    s: int
    r: int
    c: int
    o: int


@lru_cache(maxsize=None)
def _maj_tables() -> dict[int, tuple[int, ...]]:
    out = {}
    for p in range(8):
        t = sum(1 << a for a in range(8) if bin((a ^ p) & 7).count("1") >= 2)
        out[t] = tuple((p >> j) & 1 for j in range(3))
    return out


@lru_cache(maxsize=None)
def _and_tables() -> dict[int, tuple[tuple[int, ...], int]]:
    out = {}
    for p in range(4):
        t = sum(1 << a for a in range(4) if (a ^ p) & 3 == 3)
        pol = ((p >> 0) & 1, (p >> 1) & 1)
        out[t] = (pol, 0)
        out[t ^ 0xF] = (pol, 1)
    return out


@lru_cache(maxsize=1 << 16)
def _stretch(t: int, pos: tuple[int, ...], n: int) -> int:
    """A table over ``len(pos)`` leaves re-expressed over ``n`` leaves (its leaf ``j`` at ``pos[j]``)."""
    out = 0
    for a in range(1 << n):
        idx = 0
        for j, p in enumerate(pos):
            idx |= ((a >> p) & 1) << j
        if (t >> idx) & 1:
            out |= 1 << a
    return out


def _topo(g: nx.DiGraph) -> list[int]:
    ids = sorted(g.nodes)
    if all(u < v for v in ids for u in g._pred[v]):
        return ids
    return list(nx.lexicographical_topological_sort(g))


def _cuts(g: nx.DiGraph, order: list[int]) -> dict[int, list[tuple[tuple[int, ...], int]]]:
    """Per node, its cuts of at most three leaves: ``(leaves, table)``, the trivial cut first.

    Lowering flattens trees of one operator, so ``(x ^ y) & k`` with ``k = a & b`` is one AND of
    ``x ^ y``, ``a`` and ``b``; an AND or OR whose operands include those of another node of the
    same operator (``k``) is also read as that node and the rest of its operands.
    """
    cuts: dict[int, list[tuple[tuple[int, ...], int]]] = {}
    node, pred = g._node, g._pred
    groups: dict[tuple[str, frozenset], int] = {}
    for v in order:
        op = node[v][OP]
        if op in (OP_AND, OP_OR) and len(pred[v]) <= SUBGROUP_FANINS:
            groups.setdefault((op, frozenset((u, bool(e[NEG])) for u, e in pred[v].items())), v)
    for v in order:
        op = node[v][OP]
        triv = [((v,), 2)]
        if op not in (OP_AND, OP_OR, OP_XOR):
            cuts[v] = triv
            continue
        lits = sorted((u, bool(e[NEG])) for u, e in pred[v].items())
        readings = [lits]
        if op != OP_XOR and 3 <= len(lits) <= SUBGROUP_FANINS:
            for k in range(2, len(lits)):
                for sub in itertools.combinations(lits, k):
                    u = groups.get((op, frozenset(sub)))
                    if u is not None and u in cuts:  # processed already (not v itself)
                        readings.append([(u, False)] + [x for x in lits if x not in sub])
        found: dict[tuple[int, ...], int] = {}
        for fis in readings:
            partial: list[tuple[tuple[int, ...], tuple]] = [((), ())]
            for u, _ in fis:
                nxt = []
                for leaves, picks in partial:
                    for c in cuts[u]:
                        if leaves:  # leaf tuples are sorted and distinct
                            both = {*leaves, *c[0]}
                            if len(both) > 3:
                                continue
                            merged = tuple(sorted(both))
                        else:
                            merged = c[0]
                        nxt.append((merged, picks + (c,)))
                if len(nxt) > 4 * CUTS_PER_NODE:
                    nxt.sort(key=lambda p: len(p[0]))
                    del nxt[4 * CUTS_PER_NODE:]
                partial = nxt
                if not partial:
                    break
            for leaves, picks in partial:
                if leaves in found:
                    continue
                n = len(leaves)
                full = (1 << (1 << n)) - 1
                acc = full if op == OP_AND else 0
                for (u, neg), (cl, ct) in zip(fis, picks):
                    t = _stretch(ct, tuple(leaves.index(x) for x in cl), n)
                    if neg:
                        t ^= full
                    if op == OP_AND:
                        acc &= t
                    elif op == OP_OR:
                        acc |= t
                    else:
                        acc ^= t
                found[leaves] = acc
        kept = sorted(found.items(), key=lambda kv: (len(kv[0]), kv[0]))[:CUTS_PER_NODE - 1]
        cuts[v] = triv + [(l, t) for l, t in kept if l != (v,)]
    return cuts


def _adders(g: nx.DiGraph, order: list[int], cuts: dict) -> list[_Bit]:
    """Full and half adders: a carry and a sum node over the same leaves.  Every carry node over the
    leaves pairs with the first sum node (a half adder's leaves carry several ANDs of their literals,
    and only the chain tells which one is the carry); full adders first."""
    maj, ands = _maj_tables(), _and_tables()
    carry: dict[tuple[int, ...], list[tuple[int, tuple[int, ...], int]]] = {}
    summ: dict[tuple[int, ...], tuple[int, int]] = {}
    for v in order:
        for leaves, t in cuts[v][1:]:
            if len(leaves) == 3:
                if t in maj:
                    carry.setdefault(leaves, []).append((v, maj[t], 0))
                elif t == _XOR3 or t == _XOR3 ^ 0xFF:
                    summ.setdefault(leaves, (v, int(t != _XOR3)))
            elif len(leaves) == 2:
                if t in ands:
                    pol, o = ands[t]
                    carry.setdefault(leaves, []).append((v, pol, o))
                elif t == _XOR2 or t == _XOR2 ^ 0xF:
                    summ.setdefault(leaves, (v, int(t != _XOR2)))
    bits = []
    taken: set[int] = set()  # carry nodes (each pairs once); sums of full adders
    for leaves in sorted(carry, key=lambda l: (-len(l), l)):
        if leaves not in summ:
            continue
        s, q = summ[leaves]
        if s in taken:
            continue
        for c, pol, o in carry[leaves]:
            if s == c or c in taken:
                continue
            taken.add(c)
            r = q
            for p in pol:
                r ^= p
            bits.append(_Bit(leaves, pol, s, r, c, o))
        if len(leaves) == 3:
            taken.add(s)
    bits.sort(key=lambda b: (b.c, b.s))
    return bits


@dataclass(frozen=True)
class _Chain:
    """Bits of one ripple adder, least significant first, with their flips; ``carry_leaf[j]`` the index
    of bit ``j``'s leaf that is bit ``j - 1``'s carry (None for bit 0)."""

    bits: tuple[_Bit, ...]
    flips: tuple[int, ...]
    carry_leaf: tuple[int | None, ...]


def _chains(bits: list[_Bit]) -> list[_Chain]:
    """Maximal ripple chains: bit ``j + 1`` has bit ``j``'s carry node as a leaf, and no other adder
    does (bits over the same sum are one adder with several candidate carries: the one whose own carry
    is read on is taken, then the first)."""
    by_carry = {b.c: b for b in bits}
    readers: dict[int, list[_Bit]] = {}
    for b in bits:
        for l in b.leaves:
            if l in by_carry and by_carry[l] is not b:
                readers.setdefault(l, []).append(b)
    succ: dict[int, _Bit] = {}
    has_pred: set[int] = set()
    for c in sorted(readers):
        rs = sorted(readers[c], key=lambda b: (b.c not in readers, b.c))
        if len({b.s for b in rs}) != 1:  # read by two adders: a tree, not a ripple (see _clusters)
            continue
        nb = rs[0]
        if nb.c in has_pred:
            continue
        succ[c] = nb
        has_pred.add(nb.c)
    chains = []
    used: set[int] = set()
    for b in bits:
        if b.c in has_pred or b.c in used:
            continue
        seq, flips, cl = [b], [0], [None]
        used.add(b.c)
        while seq[-1].c in succ:
            prev, nb = seq[-1], succ[seq[-1].c]
            if nb.c in used:
                break
            j = nb.leaves.index(prev.c)
            f = flips[-1] ^ prev.o ^ nb.pol[j]
            if f and len(nb.leaves) == 2:  # a half adder cannot flip: the chain ends here
                break
            seq.append(nb)
            flips.append(f)
            cl.append(j)
            used.add(nb.c)
        chains.append(_Chain(tuple(seq), tuple(flips), tuple(cl)))
    return chains


@dataclass(frozen=True)
class _Cluster:
    """Adders linked by sums as well as carries (a carry-save array): per bit its column and flip,
    the operand literals (leaf, negated, column), and the terminals (node, column, polarity)."""

    bits: tuple[_Bit, ...]
    operands: tuple[tuple[int, int, int], ...]
    terminals: tuple[tuple[int, int, int], ...]


def _clusters(bits: list[_Bit]) -> list[_Cluster]:
    """Components of adders linked through their sums (and carries) whose unread outputs form one word.

    A link: bit ``B`` has bit ``A``'s sum (or carry) node as a leaf, ``A``'s output read by no other bit
    before (each output is consumed at most once inside a cluster, so the per-bit identities
    ``sum x = s + 2c`` add up with every internal signal cancelling).  Columns: ``B``'s operands sit in
    ``A``'s column (a sum) or the next one (a carry); flips as for chains.  What is left is
    ``sum_operands 2^col x = sum_terminals 2^col t``, and when the terminals' columns are distinct the
    terminals are the binary digits of the operands' weighted sum.

    A half adder's sum pairs with every AND of its literals (:func:`_adders`); here each sum keeps one
    carry, the first that another adder reads (else the first); a half adder over two of a full adder's
    leaves is taken for that full adder's inner half (``a ^ b``, ``a & b``) and left out."""
    pairs = {pr for b in bits if len(b.leaves) == 3 for pr in itertools.combinations(b.leaves, 2)}
    bits = [b for b in bits if len(b.leaves) == 3 or b.leaves not in pairs]
    leaves_read = {l for b in bits for l in b.leaves}
    by_sum: dict[int, _Bit] = {}
    for b in bits:
        k = by_sum.get(b.s)
        if k is None or (k.c not in leaves_read and b.c in leaves_read):
            by_sum[b.s] = b
    bits = sorted(by_sum.values(), key=lambda b: (b.c, b.s))
    prod: dict[int, tuple[int, str]] = {}
    for i, b in enumerate(bits):
        prod[b.s] = (i, "s")
        prod[b.c] = (i, "c")
    links: list[list[tuple[int, int, str, int]]] = [[] for _ in bits]  # (other bit, leaf index, kind, direction)
    linked_in: list[set[int]] = [set() for _ in bits]
    consumed: set[int] = set()
    has_sum_link = [False] * len(bits)
    for i, b in enumerate(bits):
        for j, l in enumerate(b.leaves):
            if l in prod and prod[l][0] != i and l not in consumed:
                a, kind = prod[l]
                consumed.add(l)
                links[i].append((a, j, kind, -1))
                links[a].append((i, j, kind, +1))
                linked_in[i].add(j)
                if kind == "s":
                    has_sum_link[i] = has_sum_link[a] = True
    out: list[_Cluster] = []
    seen = [False] * len(bits)
    for root in range(len(bits)):
        if seen[root] or not links[root]:
            continue
        comp, stack = [], [root]
        seen[root] = True
        while stack:
            i = stack.pop()
            comp.append(i)
            for a, _, _, _ in links[i]:
                if not seen[a]:
                    seen[a] = True
                    stack.append(a)
        if not any(has_sum_link[i] for i in comp):
            continue
        comp.sort()
        for f0 in (0, 1):
            r = _place(bits, links, comp, f0)
            if r is not None:
                break
        else:
            continue
        col, flip = r
        operands, terminals = [], []
        for i in comp:
            b = bits[i]
            for j, (l, p) in enumerate(zip(b.leaves, b.pol)):
                if j not in linked_in[i]:
                    operands.append((l, p ^ flip[i], col[i]))
            if b.s not in consumed:
                terminals.append((b.s, col[i], b.r ^ flip[i]))
            if b.c not in consumed:
                terminals.append((b.c, col[i] + 1, b.o ^ flip[i]))
        if len({c for _, c, _ in terminals}) != len(terminals):
            continue
        out.append(_Cluster(tuple(bits[i] for i in comp), tuple(operands), tuple(sorted(terminals, key=lambda t: t[1]))))
    return out


def _place(bits: list[_Bit], links, comp: list[int], f0: int) -> tuple[dict[int, int], dict[int, int]] | None:
    """Columns and flips of a component from its first bit (column 0, flip ``f0``); None on a conflict."""
    col, flip = {comp[0]: 0}, {comp[0]: f0}
    if f0 and len(bits[comp[0]].leaves) == 2:
        return None
    stack = [comp[0]]
    while stack:
        i = stack.pop()
        for a, j, kind, d in links[i]:
            # the link's consumer reads leaf j; producer output true value = node ^ (r or o) ^ f_producer
            cons, prod_ = (i, a) if d < 0 else (a, i)
            bp, bc = bits[prod_], bits[cons]
            shift = 0 if kind == "s" else 1
            pol = bp.r if kind == "s" else bp.o
            # consumer's operand l ^ pol_j ^ f_cons equals the producer's l ^ pol ^ f_prod
            want_col = col[i] - shift if d < 0 else col[i] + shift
            want_f = flip[i] ^ bc.pol[j] ^ pol
            other = a
            if other in col:
                if col[other] != want_col or flip[other] != want_f:
                    return None
                continue
            if want_f and len(bits[other].leaves) == 2:
                return None
            col[other], flip[other] = want_col, want_f
            stack.append(other)
    return col, flip


def _budget(dtype: str) -> int:
    if dtype in FLOAT_BITS:
        return budget_for(dtype)
    return INT_MAX[dtype] // 4


def _depends_on(g: nx.DiGraph, roots: list[int], targets: set[int]) -> bool:
    """Does one of ``roots`` read (through gates) one of ``targets``, or is one?"""
    seen: set[int] = set()
    stack = list(roots)
    pred = g._pred
    while stack:
        v = stack.pop()
        if v in seen:
            continue
        if v in targets:
            return True
        seen.add(v)
        stack.extend(pred[v])
    return False


class _Splicer:
    """Writes a builder's gates into the graph: chosen nodes take given literals, other gates become new nodes."""

    def __init__(self, g: nx.DiGraph) -> None:
        self.g = g
        self.next_id = max(g.nodes, default=-1) + 1

    def splice(self, b: Builder, leaf_of: dict[int, int], want: list[tuple[int, int]]) -> None:
        """``want``: (graph node, builder literal): the node becomes that literal's function."""
        g = self.g
        where: dict[int, tuple[int, int]] = {bn: (leaf, 0) for bn, leaf in leaf_of.items()}
        tops: list[tuple[int, int]] = []  # (graph node, builder node) whose gate it becomes, negated or not
        for v, lit in want:
            bn = lit >> 1
            if b.gates[bn] is not None and bn not in where:
                where[bn] = (v, lit & 1)
            tops.append((v, lit))
        live = b.live([lit for _, lit in want])
        made: list[tuple[int, int, int]] = []  # (graph node, builder node, negated)
        for bn in range(1, len(b.gates)):
            if not live[bn] or b.gates[bn] is None:
                continue
            if bn not in where:
                nid = self.next_id
                self.next_id += 1
                g.add_node(nid, **{OP: OP_THRESHOLD, THRESHOLD: 0, NAME: None})
                where[bn] = (nid, 0)
                made.append((nid, bn, 0))
        for v, lit in tops:
            g.remove_edges_from(list(g.in_edges(v)))
            attrs = g._node[v]
            attrs.pop(THRESHOLD, None)
            attrs[OP] = OP_THRESHOLD
            made.append((v, lit >> 1, lit & 1))
        for v, bn, neg in made:
            gate = b.gates[bn]
            if gate is None:  # an operand itself: [x >= 1] or [-x >= 0]
                terms, t = [(bn, 1)], 1
            else:
                terms, t = list(gate.terms), gate.t
            if neg:
                terms, t = [(u, -w) for u, w in terms], 1 - t
            coef: dict[int, int] = {}
            for u, w in terms:
                s, sn = where[u]
                if sn:
                    t -= w
                    w = -w
                coef[s] = coef.get(s, 0) + w
            g._node[v][THRESHOLD] = t
            for s in sorted(coef):
                if coef[s]:
                    g.add_edge(s, v, **{NEG: False, WEIGHT: coef[s]})


def recover_adders(g: nx.DiGraph, *, dtype: str = "float32", objective: str = "depth",
                   activation: str = "step", min_bits: int = MIN_BITS, arrays: bool = False) -> nx.DiGraph:
    """``g`` (a boolean graph) with its ripple adders rebuilt as carry-lookahead threshold gates and, with
    ``arrays``, its carry-save arrays as multi-operand sums, where that makes their outputs earlier.

    ``arrays`` is off in ``compile``: a multiplier's array rebuilt by column compression (ISCAS c6288:
    30 -> 6 layers) shares almost no internal signal with the netlist: the node-by-node proof of
    ``threshnet.prove`` did not finish on it in 5 minutes (and one miter of a multiplier is the classic
    hard case), where the ripple-only network proves in a second.

    Returns ``g`` itself when no chain or array of ``min_bits`` adders is found, fits and helps; otherwise a new
    ``mapped``-dialect graph (numbered in topological order, inputs first) with
    ``graph[RECOVERED]`` a :class:`Recovered`.
    """
    order = _topo(g)
    level: dict[int, int] = {}
    for v in order:
        level[v] = 1 + max((level[u] for u in g._pred[v]), default=-1)
    cuts = _cuts(g, order)
    bits = _adders(g, order, cuts)
    del cuts
    clusters = [c for c in _clusters(bits) if len(c.bits) >= min_bits] if arrays else []
    chains = [c for c in _chains(bits) if len(c.bits) >= min_bits]
    if not chains and not clusters:
        return g
    h = g.copy()
    sp = _Splicer(h)
    budget = _budget(dtype)
    done: list[tuple[_Chain, dict[int, int], list[tuple[int, int]], list[tuple[int, int]]]] = []
    n_bits = n_sums = 0
    replaced: set[int] = set()
    for cl in clusters:
        r = _build_cluster(cl, budget, objective, activation)
        if r is None:
            continue
        b, leaf_of, want = r
        targets = {v for v, _ in want}
        if not _shallower(b, leaf_of, want, level) or _depends_on(h, sorted(leaf_of.values()), targets):
            continue
        replaced.update(targets)
        replaced.update(x for bit in cl.bits for x in (bit.s, bit.c))
        sp.splice(b, leaf_of, want)
        n_sums += 1
        n_bits += len(cl.bits)
    for ch in chains:
        if any(bit.s in replaced or bit.c in replaced for bit in ch.bits):
            continue
        r = _build(ch, budget, objective, activation, None)
        if r is None:
            continue
        b, leaf_of, want, operands = r
        targets = {v for v, _ in want}
        if not _shallower(b, leaf_of, want, level) or _depends_on(h, sorted(leaf_of.values()), targets):
            continue
        replaced.update(targets)
        sp.splice(b, leaf_of, want)
        done.append((ch, leaf_of, want, operands))
        n_bits += len(ch.bits)
    if not done and not n_sums:
        return g
    # old carries still read elsewhere: the construction's carry of the prefix
    live = live_nodes(h)
    for ch, _, _, _ in done:
        need = [j for j, bit in enumerate(ch.bits[:-1]) if bit.c in live and h._node[bit.c][OP] != OP_THRESHOLD]
        if not need:
            continue
        r = _build(ch, budget, objective, activation, need)
        if r is None:
            continue
        b, leaf_of, want, _ = r
        if _depends_on(h, sorted(leaf_of.values()), {v for v, _ in want}):
            continue
        sp.splice(b, leaf_of, want)
    drop_dead(h)
    if not nx.is_directed_acyclic_graph(h):  # exact-or-refuse: never hand on a broken graph
        return g
    out = _renumbered(h)
    out.graph[RECOVERED] = Recovered(len(done), n_bits, n_sums)
    return out


#: Gate levels of the boolean graph one threshold layer of a construction is taken to stand for.
LEVELS_PER_LAYER = 2


def _shallower(b: Builder, leaf_of: dict[int, int], want: list[tuple[int, int]], level: dict[int, int]) -> bool:
    """Does the construction make its outputs earlier?  Its outputs all wait for the latest operand,
    where a ripple's low bits need not: rebuilt, the outputs come ``LEVELS_PER_LAYER`` levels per layer
    after the latest operand, which must be before the latest output of the chain as it is.  (A row of
    an array multiplier, whose operands arrive as its carries do, stays a ripple.)"""
    latest = max(level[v] for v in leaf_of.values())
    layers = max(b.depth(lit) for _, lit in want)
    return latest + LEVELS_PER_LAYER * layers < max(level[v] for v, _ in want)


def _build_cluster(cl: _Cluster, budget: int, objective: str, activation: str):
    """The cluster's weighted operand sum by column compression: (builder, builder node -> graph leaf,
    (terminal node, literal) pairs), or None when it does not fit."""
    b = Builder(budget, objective, activation=activation)
    lit_of: dict[int, int] = {}
    leaf_of: dict[int, int] = {}
    lo = min(min(c for _, c, _ in cl.operands), min(c for _, c, _ in cl.terminals))
    cols: dict[int, list[int]] = {}
    for l, neg, c in cl.operands:
        if l not in lit_of:
            x = b.input(f"n{l}")
            lit_of[l] = x
            leaf_of[x >> 1] = l
        cols.setdefault(c - lo, []).append(lit_of[l] ^ neg)
    width = max(c for _, c, _ in cl.terminals) - lo + 1
    try:
        out = add_columns(b, cols, width, name="sum")
    except Unfit:
        return None
    want = [(v, out[c - lo] ^ pol) for v, c, pol in cl.terminals]
    if any(lit >> 1 == 0 for _, lit in want):
        return None
    return b, leaf_of, want


def _build(ch: _Chain, budget: int, objective: str, activation: str, carries: list[int] | None):
    """The chain's adder in a fresh builder: (builder, builder node -> graph leaf, (graph node, literal) to
    splice, operands).  With ``carries``, only those bits' carry nodes (prefix carries) are wanted."""
    b = Builder(budget, objective, activation=activation)
    lit_of: dict[int, int] = {}
    leaf_of: dict[int, int] = {}

    def lit(node: int, neg: int) -> int:
        if node not in lit_of:
            x = b.input(f"n{node}")
            lit_of[node] = x
            leaf_of[x >> 1] = node
        return lit_of[node] ^ neg

    bits = ch.bits
    xs: list[int] = []
    ys: list[int] = []
    cin = FALSE
    for j, (bit, f) in enumerate(zip(bits, ch.flips)):
        ops = [lit(l, p ^ f) for k, (l, p) in enumerate(zip(bit.leaves, bit.pol)) if k != ch.carry_leaf[j]]
        if j == 0 and len(ops) == 3:
            cin = ops.pop()
        if len(ops) == 1:
            ops.append(FALSE)
        xs.append(ops[0])
        ys.append(ops[1])
    n = len(bits)
    want: list[tuple[int, int]] = []
    try:
        if carries is None:
            out = add_bits(b, xs, ys, cin, n + 1, "add")
            for j, bit in enumerate(bits):  # S = s' ^ r ^ f
                want.append((bit.s, out[j] ^ bit.r ^ ch.flips[j]))
            last = bits[-1]  # C = k ^ o ^ f
            want.append((last.c, out[n] ^ last.o ^ ch.flips[-1]))
        else:
            for j in carries:
                out = add_bits(b, xs[:j + 1], ys[:j + 1], cin, j + 2, "add")
                want.append((bits[j].c, out[j + 1] ^ bits[j].o ^ ch.flips[j]))
    except Unfit:
        return None
    if any(lit >> 1 == 0 for _, lit in want):  # a constant bit: not an adder worth splicing
        return None
    return b, leaf_of, want, (xs, ys, cin)


def _renumbered(g: nx.DiGraph) -> nx.DiGraph:
    """``g`` numbered in topological order, inputs first in port order."""
    inputs = list(g.graph[INPUTS])
    inset = set(inputs)
    order = inputs + [v for v in nx.lexicographical_topological_sort(g) if v not in inset]
    new = {v: q for q, v in enumerate(order)}
    r = nx.relabel_nodes(g, new, copy=True)
    r.graph.update(g.graph)
    r.graph[INPUTS] = tuple(new[v] for v in inputs)
    r.graph[OUTPUTS] = tuple((p, new[v], ng) for p, v, ng in g.graph[OUTPUTS])
    assert all(r._node[v][OP] == OP_INPUT for v in r.graph[INPUTS])
    return r
