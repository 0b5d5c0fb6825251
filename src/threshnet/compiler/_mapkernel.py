"""Compiled loops of the threshold mapper (:mod:`.mapping`), for cuts of at most 6 leaves.

The same algorithm as mapping's Python passes, step for step and in the same
order (so the same cover, byte for byte; ``tests/test_mapping_kernel.py``
compares the two), over flat numpy arrays instead of per-node tuples:

* a truth table of ``n <= 6`` leaves is one ``uint64`` (bit ``a``: the row
  whose bit ``j`` is leaf ``j``), so merging, stretching and shrinking cuts
  are a few shifts and masks;
* a node's cuts are rows ``[i, 0..C)`` of fixed arrays (leaves, table,
  signature, deepest arrival), its candidates a contiguous range of flat
  candidate arrays (CSR);
* a threshold realization is an index into a list kept by the caller: every
  table of at most 4 leaves is looked up in a dense array, a unate table of
  5 or 6 leaves in a hash table that the caller fills.  When the kernel meets
  a table it has not seen, it stops and returns it; the caller runs the
  integer program (:func:`.lp_threshold.identify`, the same call as the Python
  mapper), stores the answer and resumes at the same node (a node's work only
  writes its own rows, so restarting it is safe).

numba compiles the loops on first use and caches them on disk
(``__pycache__``); nothing here is approximate: tables are exact bitsets and
area flows are the same float64 sums in the same order.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.typed import Dict

# op codes and candidate kinds: the same numbers as mapping's
_IN, _CONST, _AND, _OR, _XOR, _TH = range(6)
NATIVE, GATE, XOR, WIRE, CONST, SYM = range(6)
#: Leaves per cut this module handles (a table is one uint64).
MAX_K = 6

# kernel status codes
DONE, NEED_IDENTIFY, NEED_SPACE = 0, 1, 2

_U0 = np.uint64(0)
_U1 = np.uint64(1)
_HASH_MUL = np.uint64(0x9E3779B97F4A7C15)


def _masks() -> dict[str, np.ndarray]:
    """The constant tables of the kernels (uint64 truth-table masks for 0..6 leaves)."""
    K = MAX_K
    full = np.zeros(K + 1, np.uint64)
    par = np.zeros(K + 1, np.uint64)
    cof = np.zeros((K + 1, K), np.uint64)
    swk = np.zeros((K + 1, K, K), np.uint64)
    swa = np.zeros((K + 1, K, K), np.uint64)
    swb = np.zeros((K + 1, K, K), np.uint64)
    rep = np.zeros((K + 1, K + 1), np.uint64)
    cnt = np.zeros((K + 1, K + 1), np.uint64)
    for n in range(K + 1):
        rows = 1 << n
        full[n] = (1 << rows) - 1
        for c in range(n + 1):
            cnt[n, c] = sum(1 << a for a in range(rows) if bin(a).count("1") == c)
        par[n] = sum(1 << a for a in range(rows) if bin(a).count("1") % 2)
        for j in range(n):
            cof[n, j] = sum(1 << a for a in range(rows) if not (a >> j) & 1)
            for i in range(j):
                a_ = b_ = 0
                for r in range(rows):
                    bi, bj = (r >> i) & 1, (r >> j) & 1
                    if bi and not bj:
                        a_ |= 1 << r
                    elif bj and not bi:
                        b_ |= 1 << r
                swk[n, i, j] = ((1 << rows) - 1) & ~(a_ | b_)
                swa[n, i, j] = a_
                swb[n, i, j] = b_
        for m in range(n + 1):
            rep[m, n] = sum(1 << (k << m) for k in range(1 << (n - m)))
    return {"full": full, "par": par, "cof": cof, "swk": swk, "swa": swa, "swb": swb, "rep": rep, "cnt": cnt}


MASKS = _masks()


@njit(cache=True, inline="always")
def _swap(t, n, i, j, swk, swa, swb):
    sh = np.uint64((1 << j) - (1 << i))
    return (t & swk[n, i, j]) | ((t & swa[n, i, j]) << sh) | ((t & swb[n, i, j]) >> sh)


@njit(cache=True)
def _stretch(t, m, cl, leaves, n, rep, swk, swa, swb):
    """Table ``t`` over the ``m`` sorted leaves ``cl`` re-expressed over the sorted superset ``leaves[:n]``."""
    if m == n:
        return t
    t = t * rep[m, n]
    p = n - 1
    for j in range(m - 1, -1, -1):  # positions of cl in leaves, from the top
        while leaves[p] != cl[j]:
            p -= 1
        if p != j:
            t = _swap(t, n, j, p, swk, swa, swb)
        p -= 1
    return t


@njit(cache=True, inline="always")
def _depends(t, n, j, cof):
    m = cof[n, j]
    return (t & m) != ((t >> np.uint64(1 << j)) & m)


@njit(cache=True, inline="always")
def _bits(x):
    c = 0
    while x:
        x &= x - _U1
        c += 1
    return c


@njit(cache=True)
def _lookup(t, n, h_t, h_n, h_v):
    """The stored class of a 5-6 leaf table: realization index, -1 (not threshold), or -3 (unknown)."""
    mask = h_t.size - 1
    s = int(((t ^ np.uint64(n)) * _HASH_MUL) >> np.uint64(32)) & mask
    while h_n[s] != 0:
        if h_n[s] == n and h_t[s] == t:
            return h_v[s]
        s = (s + 1) & mask
    return -3


@njit(cache=True)
def hash_insert(t, n, v, h_t, h_n, h_v):
    mask = h_t.size - 1
    s = int(((t ^ np.uint64(n)) * _HASH_MUL) >> np.uint64(32)) & mask
    while h_n[s] != 0:
        if h_n[s] == n and h_t[s] == t:
            h_v[s] = v
            return
        s = (s + 1) & mask
    h_t[s] = t
    h_n[s] = n
    h_v[s] = v


@njit(cache=True)
def _permute(t, n, perm, swk, swa, swb, where, at):
    """lp_threshold._permute: the table of ``g(y) = f(x)`` with ``y_q = x_perm[q]`` (``where``, ``at``:
    scratch of 6 entries)."""
    for j in range(6):
        where[j] = j
        at[j] = j
    for q in range(n):
        p = where[perm[q]]
        if p != q:
            i, j = (q, p) if q < p else (p, q)
            t = _swap(t, n, i, j, swk, swa, swb)
            x = at[q]
            y = at[p]
            at[q] = y
            at[p] = x
            where[y] = q
            where[x] = p
    return t


@njit(cache=True)
def _classify(t, n, look, look_off, h_t, h_n, h_v, full, cof, swk, swa, swb, cnt, unknown, scratch):
    """The realization of table ``t`` (``n >= 2`` leaves, depends on each: the cut pass drops the
    others, and the Chow-order test below relies on it), as lp_threshold.identify finds it: ``>= 0`` an index into the caller's list (tables of at most 4 leaves), ``<= -4`` a code
    (:func:`gate_code`), -1 not a threshold function, -3 unknown (``unknown[0]``: the canonical
    positive table whose integer program the caller must solve)."""
    if n <= 4:
        return look[look_off[n] + int(t)]
    flips = 0
    pos = t
    for j in range(n):  # unateness; a decreasing input is complemented
        m = cof[n, j]
        s = np.uint64(1 << j)
        f0 = pos & m
        f1 = (pos >> s) & m
        if (f0 & ~f1) == _U0:
            continue
        if (f1 & ~f0) == _U0:
            flips |= 1 << j
            pos = (f0 << s) | f1
        else:
            return -1
    # symmetric: [count >= k]
    sym = True
    k = -1
    for c in range(n + 1):
        cm = cnt[n, c]
        x = pos & cm
        if x != _U0 and x != cm:
            sym = False
            break
        if x != _U0 and k < 0:
            k = c
    if sym:
        return -4 - (flips | (1 << 24) | (k << 25))
    for i in range(n):  # Chow order: every pair of inputs comparable
        for j in range(i + 1, n):
            sel = cof[n, j] & ~cof[n, i]
            sh = np.uint64((1 << j) - (1 << i))
            fa = pos & sel
            fb = (pos >> sh) & sel
            if (fa & ~fb) != _U0 and (fb & ~fa) != _U0:
                return -1
    chow = scratch[0]
    perm = scratch[1]
    for j in range(n):
        chow[j] = _bits(pos & ~cof[n, j] & full[n])
    # stable sort by decreasing Chow parameter
    for j in range(n):
        perm[j] = j
    for a in range(1, n):
        v = perm[a]
        b = a - 1
        while b >= 0 and chow[perm[b]] < chow[v]:
            perm[b + 1] = perm[b]
            b -= 1
        perm[b + 1] = v
    canon = _permute(pos, n, perm, swk, swa, swb, scratch[2], scratch[3])
    cid = _lookup(canon, n, h_t, h_n, h_v)
    if cid == -3:
        unknown[0] = canon
        return -3
    if cid < 0:
        return -1
    code = 0
    for q in range(n):
        code |= perm[q] << (6 + 3 * q)
    return -4 - (flips | code | (cid << 25))


@njit(cache=True)
def _equal(a, b, n):
    for x in range(n):
        if a[x] != b[x]:
            return False
    return True


@njit(cache=True)
def _seen(rows, sizes, sigs, count, leaves, n, sg):
    """Whether ``leaves[:n]`` (signature ``sg``) is one of the first ``count`` rows."""
    for e in range(count):
        if sigs[e] == sg and sizes[e] == n and _equal(rows[e], leaves, n):
            return True
    return False


@njit(cache=True)
def _union(a, na, b, nb, out, K):
    """The sorted union of the sorted leaves ``a[:na]`` and ``b[:nb]`` into ``out``; its size, or -1
    when it has more than ``K`` leaves."""
    x = y = n = 0
    while x < na or y < nb:
        if y >= nb or (x < na and a[x] < b[y]):
            v = a[x]
            x += 1
        elif x >= na or b[y] < a[x]:
            v = b[y]
            y += 1
        else:
            v = a[x]
            x += 1
            y += 1
        if n >= K:
            return -1
        out[n] = v
        n += 1
    return n


@njit(cache=True)
def candidates(start, kmax, op, fptr, fidx, fneg, thw, tht, K, C,
               cut_n, cut_l, cut_t, cut_s, cut_d,
               arr, depth0, cptr, c_kind, c_n, c_l, c_data, c_cost, c_delay,
               look, look_off, h_t, h_n, h_v, full, par, cof, swk, swa, swb, rep, cnt, req):
    """mapping._candidates from node ``start`` on; returns a status (DONE, NEED_IDENTIFY with
    ``req = (node, table, n)``, NEED_SPACE with ``req[0] = node``)."""
    N = op.size
    F = max(C * C, 4 * C) + 1
    f_l = np.empty((F, K), np.int32)
    f_n = np.empty(F, np.int64)
    f_t = np.empty(F, np.uint64)
    f_s = np.empty(F, np.uint64)
    f_d = np.empty(F, np.int64)
    f_o = np.empty(F, np.bool_)
    P = 4 * C * C + C + 1
    p_s = np.empty((2, P), np.uint64)
    p_l = np.empty((2, P, K), np.int32)
    p_n = np.empty((2, P), np.int64)
    p_pk = np.empty((2, P, kmax), np.int16)  # cut indices (C <= 64)
    p_ord = np.empty(P, np.int64)
    leaves = np.empty(K, np.int32)
    tabs = np.empty(kmax, np.uint64)
    unknown = np.empty(1, np.uint64)
    scratch = np.empty((4, 6), np.int64)
    k_l = np.empty((F, K), np.int32)   # kept cuts
    k_n = np.empty(F, np.int64)
    k_t = np.empty(F, np.uint64)
    k_s = np.empty(F, np.uint64)
    k_d = np.empty(F, np.int64)
    k_ord = np.empty(F, np.int64)
    k_tmp = np.empty(F, np.int64)
    cap = c_kind.size
    for i in range(start, N):
        o = op[i]
        if o == _IN or o == _CONST:
            cut_n[i, 0] = 1
            cut_l[i, 0, 0] = i
            cut_t[i, 0] = np.uint64(2)
            cut_s[i, 0] = _U1 << np.uint64(i & 63)
            cut_d[i, 0] = 0
            for q in range(1, C):
                cut_n[i, q] = -1
            cptr[i + 1] = cptr[i]
            continue
        if cptr[i] + F + 1 > cap:
            req[0] = i
            return NEED_SPACE
        f0, f1 = fptr[i], fptr[i + 1]
        k = f1 - f0
        delay = 2 if o == _XOR else 1
        cost = k // 2 + 1 if o == _XOR else 1
        d0 = 0
        ba = 0
        for e in range(f0, f1):
            d0 = max(d0, depth0[fidx[e]])
            ba = max(ba, arr[fidx[e]])
        depth0[i] = delay + d0
        best_arr = delay + ba
        nc = cptr[i]
        c_kind[nc] = NATIVE
        c_n[nc] = k
        c_data[nc] = 0
        c_cost[nc] = cost
        c_delay[nc] = delay
        nc += 1
        nf = 0
        if k == 2 and o != _TH:
            u0 = fidx[f0]
            u1 = fidx[f0 + 1]
            n0 = fneg[f0]
            n1 = fneg[f0 + 1]
            for a in range(C):
                ma = cut_n[u0, a]
                if ma < 0:
                    break
                for b in range(C):
                    mb = cut_n[u1, b]
                    if mb < 0:
                        break
                    sg = cut_s[u0, a] | cut_s[u1, b]
                    if _bits(sg) > K:
                        continue
                    same = ma == mb and _equal(cut_l[u0, a], cut_l[u1, b], ma)
                    if same:
                        n = ma
                        for x in range(n):
                            leaves[x] = cut_l[u0, a, x]
                    else:
                        n = _union(cut_l[u0, a], ma, cut_l[u1, b], mb, leaves, K)
                        if n < 0:
                            continue
                    if _seen(f_l, f_n, f_s, nf, leaves, n, sg):
                        continue
                    if same:
                        xt = cut_t[u0, a]
                        yt = cut_t[u1, b]
                        overlap = True
                    else:
                        overlap = n < ma + mb
                        xt = _stretch(cut_t[u0, a], ma, cut_l[u0, a], leaves, n, rep, swk, swa, swb)
                        yt = _stretch(cut_t[u1, b], mb, cut_l[u1, b], leaves, n, rep, swk, swa, swb)
                    fl = full[n]
                    if n0:
                        xt ^= fl
                    if n1:
                        yt ^= fl
                    for x in range(n):
                        f_l[nf, x] = leaves[x]
                    f_n[nf] = n
                    f_t[nf] = (xt & yt) if o == _AND else ((xt | yt) if o == _OR else (xt ^ yt))
                    f_s[nf] = sg
                    f_d[nf] = max(cut_d[u0, a], cut_d[u1, b])
                    f_o[nf] = overlap
                    nf += 1
        elif k > 0:
            cur = 0
            npart = 1
            p_s[0, 0] = _U0
            p_n[0, 0] = 0
            for e in range(f0, f1):
                if npart == 0:
                    break
                u = fidx[e]
                pos = e - f0
                nxt = 1 - cur
                nn = 0
                for p in range(npart):
                    pn = p_n[cur, p]
                    for c in range(C):
                        cn = cut_n[u, c]
                        if cn < 0:
                            break
                        sg = p_s[cur, p] | cut_s[u, c]
                        if _bits(sg) > K:
                            continue
                        same = pn == cn and _equal(p_l[cur, p], cut_l[u, c], cn)
                        if pn == 0 or same:
                            n = cn
                            for x in range(cn):
                                p_l[nxt, nn, x] = cut_l[u, c, x]
                        else:
                            n = _union(p_l[cur, p], pn, cut_l[u, c], cn, p_l[nxt, nn], K)
                            if n < 0:
                                continue
                        p_n[nxt, nn] = n
                        p_s[nxt, nn] = sg
                        for x in range(pos):
                            p_pk[nxt, nn, x] = p_pk[cur, p, x]
                        p_pk[nxt, nn, pos] = c
                        nn += 1
                if nn > 4 * C:  # stable sort by leaf count, keep the first 4C
                    m = 0
                    for want in range(K + 1):
                        for p in range(nn):
                            if p_n[nxt, p] == want:
                                p_ord[m] = p
                                m += 1
                    # permute in place through the other buffer's free slots
                    for p in range(4 * C):
                        q = p_ord[p]
                        p_s[cur, p] = p_s[nxt, q]
                        p_n[cur, p] = p_n[nxt, q]
                        for x in range(K):
                            p_l[cur, p, x] = p_l[nxt, q, x]
                        for x in range(pos + 1):
                            p_pk[cur, p, x] = p_pk[nxt, q, x]
                    npart = 4 * C
                    # cur keeps its index: the sorted entries now live there
                else:
                    npart = nn
                    cur = nxt
            for p in range(npart):
                n = p_n[cur, p]
                if _seen(f_l, f_n, f_s, nf, p_l[cur, p], n, p_s[cur, p]):
                    continue
                fl = full[n]
                dmax = 0
                for e in range(f0, f1):
                    u = fidx[e]
                    c = p_pk[cur, p, e - f0]
                    dmax = max(dmax, cut_d[u, c])
                    t = _stretch(cut_t[u, c], cut_n[u, c], cut_l[u, c], p_l[cur, p], n, rep, swk, swa, swb)
                    tabs[e - f0] = t ^ fl if fneg[e] else t
                if o == _AND:
                    acc = fl
                    for e in range(k):
                        acc &= tabs[e]
                elif o == _OR:
                    acc = _U0
                    for e in range(k):
                        acc |= tabs[e]
                elif o == _XOR:
                    acc = _U0
                    for e in range(k):
                        acc ^= tabs[e]
                else:
                    acc = _U0
                    th = tht[i]
                    for a in range(1 << n):
                        s = 0
                        for e in range(k):
                            if (tabs[e] >> np.uint64(a)) & _U1:
                                s += thw[f0 + e]
                        if s >= th:
                            acc |= _U1 << np.uint64(a)
                for x in range(n):
                    f_l[nf, x] = p_l[cur, p, x]
                f_n[nf] = n
                f_t[nf] = acc
                f_s[nf] = p_s[cur, p]
                f_d[nf] = dmax
                f_o[nf] = True
                nf += 1
        nk = 0
        for e in range(nf):
            n = f_n[e]
            t = f_t[e]
            sg = f_s[e]
            d_in = f_d[e]
            for x in range(n):
                leaves[x] = f_l[e, x]
            if f_o[e]:
                shrink = False
                for j in range(n):
                    if not _depends(t, n, j, cof):
                        shrink = True
                        break
                if shrink:
                    j = 0
                    while j < n:
                        if not _depends(t, n, j, cof):
                            for q in range(j, n - 1):
                                t = _swap(t, n, q, q + 1, swk, swa, swb)
                                leaves[q] = leaves[q + 1]
                            n -= 1
                            t &= full[n]
                        else:
                            j += 1
                    sg = _U0
                    d_in = 0
                    for x in range(n):
                        sg |= _U1 << np.uint64(leaves[x] & 63)
                        d_in = max(d_in, arr[leaves[x]])
            dup = _seen(k_l, k_n, k_s, nk, leaves, n, sg)
            if not dup and n == 0:  # "seen" holds the constant cut too
                for q in range(nc - cptr[i]):
                    if c_kind[cptr[i] + q] == CONST:
                        dup = True
            if dup:
                continue
            if n >= 2:
                r = _classify(t, n, look, look_off, h_t, h_n, h_v, full, cof, swk, swa, swb, cnt, unknown, scratch)
                if r == -3:
                    req[0] = i
                    req[1] = np.int64(unknown[0])
                    req[2] = n
                    return NEED_IDENTIFY
                kind = -1
                if r >= 0 or r <= -4:
                    kind, data, ccost, cdel = GATE, r, 1, 1
                elif t == par[n] or t == (par[n] ^ full[n]):
                    kind, data, ccost, cdel = XOR, 1 if t != par[n] else 0, n // 2 + 1, 2
                if kind >= 0:
                    c_kind[nc] = kind
                    c_n[nc] = n
                    for x in range(n):
                        c_l[nc, x] = leaves[x]
                    c_data[nc] = data
                    c_cost[nc] = ccost
                    c_delay[nc] = cdel
                    nc += 1
                    if cdel + d_in < best_arr:
                        best_arr = cdel + d_in
            elif n == 1:
                c_kind[nc] = WIRE
                c_n[nc] = 1
                c_l[nc, 0] = leaves[0]
                c_data[nc] = 1 if t == _U1 else 0
                c_cost[nc] = 0
                c_delay[nc] = 0
                nc += 1
                if d_in < best_arr:
                    best_arr = d_in
            else:
                c_kind[nc] = CONST
                c_n[nc] = 0
                c_data[nc] = int(t & _U1)
                c_cost[nc] = 0
                c_delay[nc] = 0
                nc += 1
                best_arr = 0
                continue
            for x in range(n):
                k_l[nk, x] = leaves[x]
            k_n[nk] = n
            k_t[nk] = t
            k_s[nk] = sg
            k_d[nk] = d_in
            nk += 1
        arr[i] = best_arr
        cptr[i + 1] = nc
        # the trivial cut, then the kept ones (half the places to the shallowest, the rest to the smallest)
        for q in range(nk):
            k_ord[q] = q
        if nk > C - 1:
            h = (C - 1) // 2
            _stable_sort2(k_ord, nk, k_d, k_n)
            m = nk - h
            for q in range(m):
                k_tmp[q] = k_ord[h + q]
            _stable_sort2(k_tmp, m, k_n, k_d)
            for q in range(C - 1 - h):
                k_ord[h + q] = k_tmp[q]
            nk = C - 1
        cut_n[i, 0] = 1
        cut_l[i, 0, 0] = i
        cut_t[i, 0] = np.uint64(2)
        cut_s[i, 0] = _U1 << np.uint64(i & 63)
        cut_d[i, 0] = best_arr
        for q in range(nk):
            e = k_ord[q]
            cut_n[i, q + 1] = k_n[e]
            for x in range(k_n[e]):
                cut_l[i, q + 1, x] = k_l[e, x]
            cut_t[i, q + 1] = k_t[e]
            cut_s[i, q + 1] = k_s[e]
            cut_d[i, q + 1] = k_d[e]
        for q in range(nk + 1, C):
            cut_n[i, q] = -1
    return DONE


@njit(cache=True)
def _stable_sort2(idx, m, key1, key2):
    """Insertion sort of ``idx[:m]`` by ``(key1, key2)``, stable."""
    for a in range(1, m):
        v = idx[a]
        b = a - 1
        while b >= 0 and (key1[idx[b]] > key1[v] or (key1[idx[b]] == key1[v] and key2[idx[b]] > key2[v])):
            idx[b + 1] = idx[b]
            b -= 1
        idx[b + 1] = v


# ----------------------------------------------------------------------------- selection

_INF = 1 << 60


@njit(cache=True)
def flow_pass(gates, cptr, c_delay, c_cost, rptr, ridx, est, arr, flow, choice, req, use_req):
    """mapping._flow_pass."""
    share = flow / est
    for i in gates:
        bq = -1
        ba = 0
        bf = 0.0
        bk0 = 0
        limit = req[i]
        for q in range(cptr[i], cptr[i + 1]):
            a = 0
            f = 0.0
            for e in range(rptr[q], rptr[q + 1]):
                a = max(a, arr[ridx[e]])
                f += share[ridx[e]]
            a += c_delay[q]
            f = c_cost[q] + f
            if not use_req:
                better = bq < 0 or a < ba or (a == ba and f < bf)
                k0 = 0
            else:
                k0 = 0 if a <= limit else 1
                if bq < 0 or k0 < bk0:
                    better = True
                elif k0 > bk0:
                    better = False
                elif k0 == 0:
                    better = f < bf or (f == bf and a < ba)
                else:
                    better = a < ba or (a == ba and f < bf)
            if better:
                bq, ba, bf, bk0 = q, a, f, k0
        choice[i] = bq - cptr[i]
        arr[i] = ba
        flow[i] = bf
        share[i] = bf / est[i]


@njit(cache=True)
def required(gates, outs, cptr, c_delay, rptr, ridx, choice, target, N):
    """mapping._required: required times (``_INF`` off the cover) and reference counts."""
    req = np.full(N, _INF, np.int64)
    refs = np.zeros(N, np.int64)
    for i in outs:
        req[i] = min(req[i], target)
        refs[i] += 1
    for x in range(gates.size - 1, -1, -1):
        i = gates[x]
        if refs[i] == 0:
            continue
        q = cptr[i] + choice[i]
        r = req[i] - c_delay[q]
        for e in range(rptr[q], rptr[q + 1]):
            l = ridx[e]
            refs[l] += 1
            if r < req[l]:
                req[l] = r
    return req, refs


_KEY = types.UniTuple(types.int64, 8)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


@njit(cache=True)
def _key(q, t, lptr, lidx):
    """The rung key ``(leaves of candidate q, t)``: the leaves themselves when at most 6, else two
    independent 64-bit hashes of them (a wide native gate; equal keys then need equal hashes)."""
    n = lptr[q + 1] - lptr[q]
    s = lptr[q]
    if n <= 6:
        return (t, n, np.int64(lidx[s]) if n > 0 else -1, np.int64(lidx[s + 1]) if n > 1 else -1,
                np.int64(lidx[s + 2]) if n > 2 else -1, np.int64(lidx[s + 3]) if n > 3 else -1,
                np.int64(lidx[s + 4]) if n > 4 else -1, np.int64(lidx[s + 5]) if n > 5 else -1)
    h1 = np.uint64(n)
    h2 = np.uint64(n) ^ _HASH_MUL
    for x in range(n):
        l = np.uint64(lidx[s + x])
        h1 = (h1 ^ l) * _M1
        h1 ^= h1 >> np.uint64(31)
        h2 = (h2 + l) * _M2
        h2 ^= h2 >> np.uint64(29)
    return (t, n, -2, np.int64(h1 >> np.uint64(1)), np.int64(h2 >> np.uint64(1)), -2, -2, -2)


@njit(cache=True)
def _rung_kind(q, i, c_kind, c_t, native_op, native_neg):
    """What candidate q of node i is in mapping._rung_keys: 0 nothing, 1 one gate ``[sum >= t]`` with
    ``t = c_t[q]`` (or the native AND/OR's), 2 an XOR whose even rungs it needs."""
    kind = c_kind[q]
    if kind == GATE:
        return 1 if c_t[q] != _INF else 0
    if kind == XOR:
        return 2
    if kind == NATIVE and not native_neg[i]:
        o = native_op[i]
        if o == _XOR:
            return 2
        if o == _AND or o == _OR:
            return 1
    return 0


@njit(cache=True)
def _own_t(q, i, c_kind, c_t, native_op, lptr):
    if c_kind[q] == GATE:
        return c_t[q]
    return lptr[q + 1] - lptr[q] if native_op[i] == _AND else 1


@njit(cache=True)
def _mark(q, i, step, c_kind, c_t, native_op, native_neg, lptr, lidx, have, need):
    rk = _rung_kind(q, i, c_kind, c_t, native_op, native_neg)
    if rk == 1:
        k = _key(q, _own_t(q, i, c_kind, c_t, native_op, lptr), lptr, lidx)
        have[k] = have.get(k, 0) + step
    elif rk == 2:
        for t in range(2, lptr[q + 1] - lptr[q] + 1, 2):
            k = _key(q, t, lptr, lidx)
            need[k] = need.get(k, 0) + step


@njit(cache=True)
def _own(q, i, c_kind, c_cost, c_t, native_op, native_neg, lptr, lidx, have, need):
    rk = _rung_kind(q, i, c_kind, c_t, native_op, native_neg)
    c = c_cost[q]
    if rk == 1:
        if need.get(_key(q, _own_t(q, i, c_kind, c_t, native_op, lptr), lptr, lidx), 0) > 0:
            c -= 1
    elif rk == 2:
        for t in range(2, lptr[q + 1] - lptr[q] + 1, 2):
            if have.get(_key(q, t, lptr, lidx), 0) > 0:
                c -= 1
    return c


@njit(cache=True)
def _walk(q, step, rptr, ridx, is_gate, refs, cptr, choice, c_cost, depth_limit, seen, stamp, st_l, st_d):
    """mapping._exact_pass's ``walk`` (step 1: reference candidate q, -1: dereference it; the area that
    enters or leaves the cover) and, with step 0, its ``added`` (the area referencing q would add,
    counts unchanged; ``seen``/``stamp`` mark the gates met)."""
    area = 0
    top = 0
    for e in range(rptr[q], rptr[q + 1]):
        st_l[top] = ridx[e]
        st_d[top] = 1
        top += 1
    while top:
        top -= 1
        l = st_l[top]
        d = st_d[top]
        if not is_gate[l]:
            continue
        if step == 0:
            if refs[l] or seen[l] == stamp:
                continue
            seen[l] = stamp
        else:
            refs[l] += step
            if refs[l] != (1 if step > 0 else 0):
                continue
        c = cptr[l] + choice[l]
        area += c_cost[c]
        if d < depth_limit:
            for e in range(rptr[c], rptr[c + 1]):
                st_l[top] = ridx[e]
                st_d[top] = d + 1
                top += 1
    return area


@njit(cache=True)
def exact_pass(gates, cptr, c_kind, c_cost, c_delay, c_t, lptr, lidx, rptr, ridx, native_op, native_neg,
               is_gate, choice, arr, req, refs, depth_limit):
    """mapping._exact_pass; the gates and XOR rungs of the cover are counted by :func:`_key`."""
    have = Dict.empty(key_type=_KEY, value_type=types.int64)
    need = Dict.empty(key_type=_KEY, value_type=types.int64)
    N = is_gate.size
    maxr = 1
    for q in range(c_kind.size):
        maxr = max(maxr, rptr[q + 1] - rptr[q])
    # a walk's stack: at most depth_limit levels of at most maxr entries each
    size = maxr * (depth_limit + 1) * 2 + 16
    st_l = np.empty(size, np.int64)
    st_d = np.empty(size, np.int64)
    seen = np.zeros(N, np.int64)
    stamp = 0
    for i in gates:
        if refs[i]:
            _mark(cptr[i] + choice[i], i, 1, c_kind, c_t, native_op, native_neg, lptr, lidx, have, need)
    for i in gates:
        if not refs[i]:
            continue
        q0 = cptr[i] + choice[i]
        _walk(q0, -1, rptr, ridx, is_gate, refs, cptr, choice, c_cost, depth_limit, seen, 0, st_l, st_d)
        _mark(q0, i, -1, c_kind, c_t, native_op, native_neg, lptr, lidx, have, need)
        bq = -1
        ba = 0
        barea = 0
        r = req[i]
        for q in range(cptr[i], cptr[i + 1]):
            a = 0
            for e in range(rptr[q], rptr[q + 1]):
                a = max(a, arr[ridx[e]])
            a += c_delay[q]
            if a > r:
                continue
            stamp += 1
            area = (_own(q, i, c_kind, c_cost, c_t, native_op, native_neg, lptr, lidx, have, need)
                    + _walk(q, 0, rptr, ridx, is_gate, refs, cptr, choice, c_cost, depth_limit, seen, stamp,
                            st_l, st_d))
            if bq < 0 or area < barea or (area == barea and a < ba):
                bq, ba, barea = q, a, area
        if bq >= 0:
            choice[i] = bq - cptr[i]
            arr[i] = ba
        q1 = cptr[i] + choice[i]
        _walk(q1, 1, rptr, ridx, is_gate, refs, cptr, choice, c_cost, depth_limit, seen, 0, st_l, st_d)
        _mark(q1, i, 1, c_kind, c_t, native_op, native_neg, lptr, lidx, have, need)


@njit(cache=True)
def reached(outs, cptr, choice, rptr, ridx, is_gate):
    """mapping._reached: the nodes the outputs reach through the chosen candidates' read leaves."""
    N = is_gate.size
    needed = np.zeros(N, np.bool_)
    stack = np.empty(ridx.size + outs.size + 1, np.int64)  # each gate pushes its read leaves once
    top = 0
    for i in outs:
        stack[top] = i
        top += 1
    while top:
        top -= 1
        i = stack[top]
        if needed[i]:
            continue
        needed[i] = True
        if is_gate[i]:
            q = cptr[i] + choice[i]
            for e in range(rptr[q], rptr[q + 1]):
                if not needed[ridx[e]]:
                    stack[top] = ridx[e]
                    top += 1
    return needed


@njit(cache=True)
def _gate_t(data, real_t, canon_t):
    """A gate's threshold when all its weights are 1, else ``_INF`` (data: see :func:`_classify`)."""
    if data >= 0:
        return real_t[data]
    code = -4 - data
    if code & 63:  # a complemented input has weight -1
        return _INF
    if (code >> 24) & 1:
        return code >> 25
    return canon_t[code >> 25]


@njit(cache=True)
def build(cptr, c_kind, c_n, c_l, c_data, c_cost, c_delay, fptr, fidx, real_t, canon_t,
          ex_ptr, ex_kind, ex_data, ex_cost, ex_delay, ex_t, ex_lptr, ex_lidx, ex_rptr, ex_ridx):
    """The candidates of every node as one CSR: each node's own (native first), then its extras
    (``ex_*``, e.g. symmetric cones: their own leaves and read leaves).  Returns
    ``(cptr, kind, data, cost, delay, t, lptr, lidx, rptr, ridx)``; ``t`` is a GATE's threshold when
    all its weights are 1 (``_INF`` otherwise), from ``real_t`` for the cut candidates."""
    N = cptr.size - 1
    nb = cptr[N]
    ne = ex_kind.size
    M = nb + ne
    ncptr = np.zeros(N + 1, np.int64)
    kind = np.empty(M, np.int8)
    data = np.empty(M, np.int64)
    cost = np.empty(M, np.int64)
    delay = np.empty(M, np.int64)
    tt = np.empty(M, np.int64)
    lptr = np.zeros(M + 1, np.int64)
    rptr = np.zeros(M + 1, np.int64)
    nl = 0
    nr = 0
    for i in range(N):
        for q in range(cptr[i], cptr[i + 1]):
            if c_kind[q] == NATIVE:
                nl += fptr[i + 1] - fptr[i]
            else:
                nl += c_n[q]
        nr += ex_rptr[ex_ptr[i + 1]] - ex_rptr[ex_ptr[i]]
    nr += nl
    nl += ex_lptr[ne]
    lidx = np.empty(nl, np.int32)
    ridx = np.empty(nr, np.int32)
    m = 0
    a = 0
    b = 0
    for i in range(N):
        ncptr[i] = m
        for q in range(cptr[i], cptr[i + 1]):
            kind[m] = c_kind[q]
            data[m] = c_data[q]
            cost[m] = c_cost[q]
            delay[m] = c_delay[q]
            tt[m] = _gate_t(c_data[q], real_t, canon_t) if c_kind[q] == GATE else _INF
            if c_kind[q] == NATIVE:
                for e in range(fptr[i], fptr[i + 1]):
                    lidx[a] = fidx[e]
                    ridx[b] = fidx[e]
                    a += 1
                    b += 1
            else:
                for x in range(c_n[q]):
                    lidx[a] = c_l[q, x]
                    ridx[b] = c_l[q, x]
                    a += 1
                    b += 1
            m += 1
            lptr[m] = a
            rptr[m] = b
        for q in range(ex_ptr[i], ex_ptr[i + 1]):
            kind[m] = ex_kind[q]
            data[m] = ex_data[q]
            cost[m] = ex_cost[q]
            delay[m] = ex_delay[q]
            tt[m] = ex_t[q]
            for e in range(ex_lptr[q], ex_lptr[q + 1]):
                lidx[a] = ex_lidx[e]
                a += 1
            for e in range(ex_rptr[q], ex_rptr[q + 1]):
                ridx[b] = ex_ridx[e]
                b += 1
            m += 1
            lptr[m] = a
            rptr[m] = b
    ncptr[N] = m
    return ncptr, kind, data, cost, delay, tt, lptr, lidx, rptr, ridx
