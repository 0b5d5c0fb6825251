"""The sequential part of :func:`threshnet.precision.analyze`: one sweep over every neuron in order.

Everything that depends only on a neuron's own weights (fraction bits,
representability, the ReLU pairs) is computed by ``analyze`` for the whole
network at once with numpy.  What depends on the layers before (the interval
of each buffer entry, its grid, its noise gain, the pair it belongs to) is
carried here from neuron to neuron, in layer order: a layer reads the buffer
as the layer before left it, then writes its neurons into their slots.  Per
neuron the work is one pass over its nonzero weights, so a network of
37,500 small layers costs what one layer of the same size does (the numpy
version, one call per layer, spent about 0.7 ms per layer on call overhead).

The same function runs interpreted (small networks: no JIT compile, no
numba import) or compiled by numba (large ones, :data:`COMPILED_FROM`), with
the same float64 operations in the same order, so the same report.  A row's
weights on one entry are added up before the entry's interval is used (the
per-layer numpy version did so only in layers with ReLU pairs): the interval
is then the exact range of that entry's term, never wider.

Arguments (``N`` neurons, ``E`` nonzero weights, ``L`` layers, a buffer of
``width`` entries): ``noff`` (L+1) the first neuron of each layer; ``act``
(L) 0 affine, 1 step, 2 ReLU; ``rowptr`` (N+1), ``col``, ``weight``, ``fw``
(E): each neuron's weights, their buffer entries and fraction bits;
``bias``, ``fb``, ``finite`` (N); ``slot`` (N) the entry a neuron writes;
``pair_b`` (N) for neuron ``a`` of a ReLU pair its neuron ``b`` (else -1);
``lo_v``, ``hi_v``, ``fx``, ``gain`` (width) the starting buffer (inputs in
``[0, 1]``).  Returns per neuron the partial-sum bound ``s``, the interval
``lo``/``hi`` (infinite where the analysis cannot decide), the grid ``f``,
the grid of the weighted inputs alone ``fin``, the noise gain ``g``, whether the neuron is beyond
``GUARD`` (``big``), and the last layer's largest output gain.
"""

from __future__ import annotations

import numpy as np

#: Networks with at least this many neurons plus weights are swept by the numba-compiled
#: function: interpreted, the sweep takes about 12 us per neuron or weight; compiled, a JIT
#: compile of about 8 s once per install (numba caches it in ``__pycache__``) and about 0.6 s
#: to load it in each process, then about 0.5 us.
COMPILED_FROM = 50_000
#: Weights and biases must be dyadic rationals ``m / 2**k`` with ``k`` at most this.
MAX_FRACTION_BITS = 30
#: The analysis sums in float64 values that are integers once scaled by ``2**f``;
#: such sums are exact while every partial sum stays below 2**52 units of the grid.
#: A neuron whose bound reaches it is refused in every dtype (see docs/proofs-and-precision.md).
GUARD = 2.0**52

_compiled = None


def sweep(*args, compiled: bool | None = None):
    """Run :func:`_sweep`; ``compiled`` None chooses by size (:data:`COMPILED_FROM`)."""
    n, e = len(args[3]) - 1, len(args[4])
    if compiled is None:
        compiled = n + e >= COMPILED_FROM
    if compiled:
        global _compiled
        if _compiled is None:
            import numba

            _compiled = numba.njit(cache=True, nogil=True)(_sweep)
        return _compiled(*args)
    with np.errstate(all="ignore"):
        return _sweep(*args)


def _sweep(noff, act, width, rowptr, col, weight, fw, bias, fb, finite, slot, pair_b, lo_v, hi_v, fx, gain):
    N = len(bias)
    L = len(act)
    s_out = np.zeros(N)
    lo_out = np.zeros(N)
    hi_out = np.zeros(N)
    f_out = np.zeros(N, np.int64)
    fin_out = np.zeros(N, np.int64)
    g_out = np.zeros(N)
    big_out = np.zeros(N, np.bool_)
    partner = np.full(width, -1, np.int64)  # entry a of a pair: its entry b
    back = np.full(width, -1, np.int64)  # entry b of a pair: its entry a
    dlo = np.zeros(width)
    dhi = np.zeros(width)
    acc = np.zeros(width)  # a row's weight per entry, pairs folded onto entry b
    seen = np.zeros(width, np.bool_)
    most = 0
    for v in range(N):
        most = max(most, rowptr[v + 1] - rowptr[v])
    touched = np.zeros(most, np.int64)
    out_gain = 0.0
    inf = np.inf
    for li in range(L):
        a0 = noff[li]
        a1 = noff[li + 1]
        for v in range(a0, a1):
            b = bias[v]
            s = abs(b)
            t = abs(b)
            lo = b
            hi = b
            g = 0.0
            fmax = 0
            nt = 0
            for e in range(rowptr[v], rowptr[v + 1]):
                c = col[e]
                w = weight[e]
                fmax = max(fmax, fw[e] + fx[c])
                s += abs(w) * max(abs(lo_v[c]), abs(hi_v[c]))
                p = partner[c]
                eff = c
                if p >= 0:  # w * a = w * (a - b) + w * b, with a - b in [dlo, dhi]
                    eff = p
                    lo += min(w * dlo[c], w * dhi[c])
                    hi += max(w * dlo[c], w * dhi[c])
                    t += abs(w) * max(abs(dlo[c]), abs(dhi[c]))
                    g += abs(w) * gain[p]
                if not seen[eff]:
                    seen[eff] = True
                    acc[eff] = 0.0
                    touched[nt] = eff
                    nt += 1
                acc[eff] += w
            for k in range(nt):
                c = touched[k]
                seen[c] = False
                w = acc[c]
                if w != 0:
                    lo += min(w * lo_v[c], w * hi_v[c])
                    hi += max(w * lo_v[c], w * hi_v[c])
                    t += abs(w) * max(abs(lo_v[c]), abs(hi_v[c]))
                    g += abs(w) * gain[c]
            f = max(fmax, fb[v])
            units = max(s, t) * 2.0 ** min(f, MAX_FRACTION_BITS + 1)
            if not finite[v] or not units < GUARD:
                lo = -inf
                hi = inf
                big_out[v] = True
            s_out[v] = s
            lo_out[v] = lo
            hi_out[v] = hi
            f_out[v] = f
            fin_out[v] = fmax
            g_out[v] = g
        # the layer's writes: a pair pointing at a rewritten entry is dissolved
        for v in range(a0, a1):
            x = slot[v]
            a = back[x]
            if a >= 0 and partner[a] == x:
                partner[a] = -1
            back[x] = -1
        kind = act[li]
        for v in range(a0, a1):
            x = slot[v]
            if kind == 1:  # step: 0/1 values, integers, input noise absorbed
                lo_v[x] = 0.0
                hi_v[x] = 1.0
                fx[x] = 0
                gain[x] = 0.0
            elif kind == 2:
                lo_v[x] = max(lo_out[v], 0.0)
                hi_v[x] = max(hi_out[v], 0.0)
                fx[x] = f_out[v]
                gain[x] = g_out[v]
            else:
                lo_v[x] = lo_out[v]
                hi_v[x] = hi_out[v]
                fx[x] = f_out[v]
                gain[x] = g_out[v]
            partner[x] = -1
            dlo[x] = 0.0
            dhi[x] = 0.0
        for v in range(a0, a1):
            u = pair_b[v]
            if u >= 0:  # relu(u + 1) - relu(u) = clip(u + 1, 0, 1)
                x = slot[v]
                y = slot[u]
                partner[x] = y
                back[y] = x
                dlo[x] = min(max(lo_out[u] + 1.0, 0.0), 1.0)
                dhi[x] = min(max(hi_out[u] + 1.0, 0.0), 1.0)
        if li == L - 1 and kind != 1:
            for v in range(a0, a1):
                out_gain = max(out_gain, gain[slot[v]])
    return s_out, lo_out, hi_out, f_out, fin_out, g_out, big_out, out_gain
