r"""The block solver's generator applied without storing it (a compiled stencil per block).

:class:`~qutip_centralspin.solvers.blocks.BlockSolver` evolves the blocks :math:`X_{jlK}` of
:math:`\rho` (see its module notes). Every term of :math:`\mathcal L` on a block element is a
closed formula of the element's labels :math:`(j, l, K, k_a, k_b)`, and it factorises over the
ket and the bra:

* :math:`-i[H, X]`: :math:`H` is tridiagonal within a block (diagonal :math:`E(k, n)`, the
  flip-flop amplitude :math:`u(k) = \langle k+1, n-1|H|k, n\rangle` off the diagonal);
* :math:`-\frac12\{L^\dagger L, X\}_{ab} = (h(k_a) + h(k_b)) X_{ab}`;
* every jump :math:`\sum_i o_i X o_i^\dagger` (and each collective one) moves a whole block
  by a fixed step :math:`(\Delta q, \Delta r, \Delta K)` and its elements by a fixed shift,
  with coefficient :math:`g(k_a)\,g(k_b)`, :math:`g` evaluated at the source's labels
  (:func:`~qutip_centralspin.solvers.dissipators.local_factors`).

So the generator is stored as a few numbers *per block row* (the tables :math:`E, u, h, g`:
:math:`\sum_{\rm blocks} d` entries each, against :math:`\sim 12 \sum d^2` CSR entries), and
the product is one pass over the state: each element gathers its at most
:math:`5 + n_{\rm jumps}` sources (neighbours in its own block, the same element of a few
neighbouring blocks). The kernel is compiled with Numba (cached on disk: the first use in a
process costs ~1 s) and releases the GIL; two Python threads run it on balanced ranges of
blocks when a product has at least :data:`THREADED_MIN_WORK` multiply-adds (BLAS is not
involved). The inner loops index with unsigned integers and have no data-dependent branch, so
they vectorise; one product runs at 0.5-0.8 of the machine's STREAM-triad bandwidth on the
large cases of ``benchmarks/bench_matrix_free.py``. The Chebyshev step
:math:`y \leftarrow 2(\mathcal L - c)x/s + \sigma y` is fused into the pass: it reads
:math:`x` and :math:`y` and writes :math:`y` once.

Layout
------
Each block stores its upper triangle :math:`a \le b` row by row. In general the entries are
complex (interleaved real and imaginary parts; the imaginary part of the diagonal is kept at
zero). Under the chiral symmetry (resonance, :attr:`BlockSolver.chiral_symmetric`)
:math:`X_{ab} = i^{\,k_a - k_b} Y_{ab}` with :math:`Y` real and symmetric: one real per
entry, and every coefficient of :math:`\mathcal L` is real in :math:`Y` (the commutator's
:math:`\mp i` times the phase :math:`i^{\pm 1}` of a neighbour gives :math:`\pm 1`). Both
layouts hold the same number of reals as the assembled generator's packed vector (the
complex one :math:`d` more per block).

The spectral bounds (Gershgorin discs of the dissipator in the physical norm, the Bohr width
of the blocks) are those of the assembled generator, computed from the same tables, so both
paths run the same Chebyshev series and agree to rounding.
"""

from __future__ import annotations

import importlib.util
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

__all__ = ["AVAILABLE", "JumpTerm", "MatrixFreeGenerator", "triad", "upper_slots"]

#: Whether Numba (the compiler of the matrix-free kernel) is importable.
AVAILABLE = importlib.util.find_spec("numba") is not None
#: Products of at least this much work (reals times the terms of each, 5 + jumps) use two
#: threads by default (below, waking a second thread costs more than it saves).
THREADED_MIN_WORK = 1_000_000
_KERNELS: dict = {}  # the compiled kernels, built on first use


@dataclass
class JumpTerm:
    r"""One jump term: the block step and the row factor :math:`g` of every block row.

    ``target = source + (dq, dr, dK)``; the battery excitation of each element moves by
    ``dk`` (``dK`` for a battery operator, ``0`` for a charger one); the coefficient of source
    element :math:`(a, b)` is ``g[row(a)] * g[row(b)]``.
    """

    dq: int
    dr: int
    dK: int
    dk: int
    g: np.ndarray

    @property
    def diagonal(self) -> bool:
        """Whether the term maps every element onto itself (dephasing within a ladder)."""
        return self.dq == 0 and self.dr == 0 and self.dK == 0 and self.dk == 0


def upper_slots(d: np.ndarray) -> np.ndarray:
    """Entries of the upper triangle (diagonal included) of blocks of sizes ``d``."""
    d = np.asarray(d, dtype=np.int64)
    return d * (d + 1) // 2


def _kernels():
    """Compile (once) and return the Numba kernels."""
    if _KERNELS:
        return _KERNELS
    import numba

    @numba.njit(cache=True, inline="always")
    def rotate_none(z):
        return z

    @numba.njit(cache=True, inline="always")
    def rotate_minus_i(z):
        return complex(z.imag, -z.real)  # -i z

    @numba.njit(nogil=True, cache=True)
    def product(x, y, alpha, c, sign, rotate, ket_lo, ket_hi, bra_lo, bra_hi, blk_lo, blk_hi,
                d, rowoff, start, energy, up, half, src, shift, g):  # fmt: skip
        """y <- alpha (L x - c x) + sign y on blocks ``blk_lo .. blk_hi - 1``, row by row.

        ``start[row]`` (unsigned) is the entry of the row's diagonal element; X_{a,b}
        (a <= b) is entry ``start[row a] + b - a``, and X_{b,a} its conjugate. ``g`` is flat:
        term t's factor of row ``rs`` is ``g[t * n_rows + rs]``. The commutator is
        ``rotate`` of a real combination of neighbours (``-i`` of it in the complex layout,
        itself in the chiral one). The inner loops index with unsigned integers (no
        negative-index test) and have no data-dependent branch: they vectorise.
        """
        n_terms = src.shape[1]
        n_rows = start.size
        one = np.uint64(1)
        has_energy = np.any(energy != 0.0)
        for blk in range(blk_lo, blk_hi):
            db = d[blk]
            ro = rowoff[blk]
            for a in range(db):
                r = ro + a
                ru = np.uint64(r)
                i0 = start[r]
                n = np.uint64(db - a)
                ha = half[r]
                ulo = up[r - 1] if a > 0 else 0.0
                uhi = up[r] if a < db - 1 else 0.0
                # the diagonal element (its neighbours X_{a,a-1}, X_{a+1,a} are conjugates)
                xd = x[i0]
                br = 0.0 * xd
                if a > 0:
                    above = x[start[r - 1] + one]  # X_{a-1,a}
                    br += ulo * (ket_lo * above + bra_lo * np.conj(above))
                if n > one:
                    right = x[i0 + one]  # X_{a,a+1}
                    br += uhi * (ket_hi * np.conj(right) + bra_hi * right)
                val = sign * y[i0] + alpha * ((2.0 * ha - c) * xd + rotate(br))
                y[i0] = val.real
                if n == one:
                    continue
                # the rest of the row, b = a + j; X_{a-1,b} at prev + j (a > 0; else any
                # entry of the row, times ulo = 0), X_{a+1,b} at nxt + j
                prev = start[r - 1] + one if a > 0 else i0
                nxt = start[r + 1] - one
                klo, khi = alpha * ket_lo * ulo, alpha * ket_hi * uhi
                blo, bhi = alpha * bra_lo, alpha * bra_hi
                hc = alpha * (ha - c)
                ea = alpha * energy[r]
                for j in range(one, n - one):  # X_{a,b+1} is in the row
                    i = i0 + j
                    xi = x[i]
                    br = blo * up[ru + j - one] * x[i - one] + bhi * up[ru + j] * x[i + one]
                    br += klo * x[prev + j] + khi * x[nxt + j]
                    y[i] = sign * y[i] + (hc + alpha * half[ru + j]) * xi + rotate(br)
                j = n - one  # the last column
                i = i0 + j
                br = blo * up[ru + j - one] * x[i - one] + klo * x[prev + j]
                br += khi * x[nxt + j]
                y[i] = sign * y[i] + (hc + alpha * half[ru + j]) * x[i] + rotate(br)
                if has_energy:  # -i (E_a - E_b) X_ab
                    for j in range(one, n):
                        i = i0 + j
                        y[i] += rotate((ea - alpha * energy[ru + j]) * x[i])
            # the jumps: row a gathers row a + shift of a neighbouring block, for the
            # rows where that row exists (one range per term)
            for t in range(n_terms):
                sb = src[blk, t]
                if sb < 0:
                    continue
                sh = shift[blk, t]
                top = min(db, d[sb] - sh)
                base = t * n_rows + rowoff[sb] + sh
                for a in range(max(0, -sh), top):
                    ga = alpha * g[base + a]
                    if ga == 0.0:
                        continue
                    i0 = start[ro + a]
                    s0 = start[rowoff[sb] + a + sh]
                    gb = np.uint64(base + a)
                    for j in range(np.uint64(top - a)):
                        y[i0 + j] += ga * g[gb + j] * x[s0 + j]

    @numba.njit(cache=True)
    def gershgorin(d, rowoff, half, src, shift, fwd, fshift, g, diag_term, wrow, wcol):
        """(min re, max re, max radius) of the dissipator's Gershgorin discs (physical norm)."""
        lo, hi, rad = np.inf, -np.inf, 0.0
        n_terms = src.shape[1]
        for blk in range(d.size):
            db = d[blk]
            ro = rowoff[blk]
            for a in range(db):
                for b in range(a, db):
                    diag = half[ro + a] + half[ro + b]
                    row = 0.0
                    col = 0.0
                    for t in range(n_terms):
                        if diag_term[t]:
                            diag += g[t, ro + a] * g[t, ro + b]
                            continue
                        sb = src[blk, t]  # this element as a target
                        if sb >= 0:
                            sa = a + shift[blk, t]
                            sbb = b + shift[blk, t]
                            if sa >= 0 and sbb < d[sb]:
                                rs = rowoff[sb]
                                row += abs(g[t, rs + sa] * g[t, rs + sbb]) * wrow[blk, t]
                        tb = fwd[blk, t]  # this element as a source
                        if tb >= 0:
                            ta = a + fshift[blk, t]
                            tbb = b + fshift[blk, t]
                            if ta >= 0 and tbb < d[tb]:
                                col += abs(g[t, ro + a] * g[t, ro + b]) * wcol[blk, t]
                    radius = 0.5 * (row + col)
                    lo = min(lo, diag - radius)
                    hi = max(hi, diag + radius)
                    rad = max(rad, radius)
        return lo, hi, rad

    @numba.njit(nogil=True, cache=True)
    def triad_kernel(a, b, c, s, lo, hi):
        for i in range(lo, hi):
            a[i] = b[i] + s * c[i]

    _KERNELS.update(
        product=product,
        rotate_none=rotate_none,
        rotate_minus_i=rotate_minus_i,
        gershgorin=gershgorin,
        triad=triad_kernel,
    )
    return _KERNELS


def _require():
    if not AVAILABLE:
        raise ValueError(
            "options['generator'] = 'matrix-free' needs Numba (pip install numba); "
            "use 'csr' (the assembled generator) or 'auto'"
        )
    return _kernels()


def triad(n: int, repeat: int = 5, num_cpus: int | None = None) -> float:
    """Bytes per second of the STREAM triad ``a = b + s c`` on ``n`` doubles (best of
    ``repeat``), compiled and threaded like the matrix-free product (24 bytes per element)."""
    import time

    kernel = _require()["triad"]
    a, b, c = np.zeros(n), np.random.default_rng(0).random(n), np.ones(n)
    threads = _threads(num_cpus)
    cuts = np.linspace(0, n, threads + 1).astype(np.int64)
    ranges = list(zip(cuts[:-1], cuts[1:], strict=True))
    best = np.inf
    with _Pool(threads) as pool:
        for i in range(repeat + 1):
            t0 = time.perf_counter()
            pool.run(lambda lo, hi: kernel(a, b, c, 0.5, lo, hi), ranges)
            if i:  # the first call warms up
                best = min(best, time.perf_counter() - t0)
    return 24.0 * n / best


def _threads(num_cpus) -> int:
    n = (os.cpu_count() or 1) if num_cpus is None else int(num_cpus)
    return max(1, min(n, os.cpu_count() or 1))


class _Pool:
    """Python threads running a GIL-free kernel on ranges (the calling thread takes the
    first range); one thread: no pool."""

    def __init__(self, threads: int):
        self.pool = ThreadPoolExecutor(threads - 1) if threads > 1 else None

    def run(self, fn, ranges) -> None:
        if self.pool is None:
            for lo, hi in ranges:
                fn(lo, hi)
            return
        futures = [self.pool.submit(fn, lo, hi) for lo, hi in ranges[1:]]
        fn(*ranges[0])
        for f in futures:
            f.result()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@dataclass
class MatrixFreeGenerator:
    r"""The block generator as per-row tables and a compiled product (see the module notes).

    Built by :meth:`BlockSolver.generator` with ``kind="matrix-free"``; it is propagated by
    :func:`~qutip_centralspin.solvers.chebyshev.propagate` like the assembled one. Vectors are
    real: in the complex layout the real and imaginary parts of each entry interleave.

    Attributes
    ----------
    space : BlockSpace
        The blocks (shared with the assembled generator).
    chiral : bool
        Real symmetric layout (:math:`X_{ab} = i^{k_a-k_b}Y_{ab}`).
    c, scale, modified, omega, re_low, re_high :
        The Chebyshev interval, as for the assembled generator.
    """

    space: object
    chiral: bool
    energy: np.ndarray  # per block row: diagonal of H
    up: np.ndarray  # per block row a: <a+1|H|a>
    half: np.ndarray  # per block row: h, with -{L^dag L, X}/2 = (h_a + h_b) X_ab
    terms: list  # JumpTerm
    log_mult: np.ndarray  # log(d_j d_l) per (q, r), padded
    bohr_width: float
    c: float = 0.0
    scale: float = 0.0
    modified: bool = False
    omega: float = 0.0
    re_low: float = 0.0
    re_high: float = 0.0
    pop_rows: np.ndarray = field(init=False)
    pop_blk: np.ndarray = field(init=False)
    pop_k: np.ndarray = field(init=False)

    def __post_init__(self):
        S = self.space
        d = S.d.astype(np.int64)
        self.comp = 1 if self.chiral else 2  # reals per entry
        self.rowoff = np.concatenate([[0], np.cumsum(d)[:-1]]).astype(np.int64)
        slots = upper_slots(d)
        self.off = np.concatenate([[0], np.cumsum(slots)[:-1]]).astype(np.int64)  # in entries
        self.dim = int(slots.sum()) * self.comp
        # source block and element shift of every (target block, term); its inverse
        n_terms = len(self.terms)
        nq, nr, nK = S.table.shape
        self.src = np.full((d.size, n_terms), -1, dtype=np.int64)
        self.shift = np.zeros((d.size, n_terms), dtype=np.int64)
        self.fwd = np.full((d.size, n_terms), -1, dtype=np.int64)
        self.fshift = np.zeros((d.size, n_terms), dtype=np.int64)
        self.wrow = np.zeros((d.size, n_terms))
        self.wcol = np.zeros((d.size, n_terms))
        for t, term in enumerate(self.terms):
            for sign, out, out_shift, weight in (
                (-1, self.src, self.shift, self.wrow),
                (1, self.fwd, self.fshift, self.wcol),
            ):
                q, r, K = S.q + sign * term.dq, S.r + sign * term.dr, S.K + sign * term.dK
                ok = (q >= 0) & (q < nq) & (r >= 0) & (r < nr) & (K >= 0) & (K < nK)
                other = np.full(d.size, -1, dtype=np.int64)
                other[ok] = S.table[q[ok], r[ok], K[ok]]
                found = other >= 0
                out[:, t] = other
                # element a of this block <-> element a + shift of the other block
                out_shift[found, t] = S.kmin[found] + sign * term.dk - S.kmin[other[found]]
                # physical-norm weight of an entry: sqrt(d_source / d_target)
                lm_self = self.log_mult[S.q[found], S.r[found]]
                lm_other = self.log_mult[S.q[found] + sign * term.dq, S.r[found] + sign * term.dr]
                weight[found, t] = np.exp(0.5 * sign * (lm_self - lm_other))
        self.g = (
            np.array([term.g for term in self.terms])
            if n_terms
            else np.zeros((0, max(int(d.sum()), 1)))
        )
        self.diag_term = np.array([term.diagonal for term in self.terms], dtype=np.bool_)
        if self.chiral:
            self.energy = np.zeros_like(self.energy)  # constant per block: drops out of [H, X]
        self._bounds()
        a = np.arange(int(d.sum())) - np.repeat(self.rowoff, d)
        self.pop_blk = np.repeat(np.arange(d.size), d)
        self.pop_k = S.kmin[self.pop_blk] + a
        dd = d[self.pop_blk]
        start = self.off[self.pop_blk] + a * dd - a * (a - 1) // 2  # entry of (a, a)
        self.start = start.astype(np.uint64)
        self.pop_rows = start * self.comp
        self.weights = np.repeat(np.exp(-0.5 * self.log_mult[S.q, S.r]), slots * self.comp)

    # -- spectral bounds ------------------------------------------------------------------
    def _bounds(self):
        if self.space.d.size:
            k = _require()
            re_low, re_high, radius = k["gershgorin"](
                self.space.d.astype(np.int64),
                self.rowoff,
                self.half,
                self.src,
                self.shift,
                self.fwd,
                self.fshift,
                self.g,
                self.diag_term,
                self.wrow,
                self.wcol,
            )
        else:
            re_low = re_high = radius = 0.0
        self.re_low, self.re_high = float(re_low), float(re_high)
        self.omega = self.bohr_width + float(radius)
        self.c = 0.5 * (self.re_low + self.re_high)
        beta = 0.5 * (self.re_high - self.re_low)
        self.modified = beta > self.omega
        self.scale = beta if self.modified else self.omega

    # -- layout ---------------------------------------------------------------------------
    def pack(self, blocks) -> np.ndarray:
        """The state vector of ``blocks``: ``(block id, X)`` pairs (other blocks zero).

        Raises
        ------
        ValueError
            If the layout is chiral and a block breaks the symmetry.
        """
        v = np.zeros(self.dim)
        for i, X in blocks:
            d = int(self.space.d[i])
            iu = np.triu_indices(d)
            upper = X[iu]
            o = int(self.off[i]) * self.comp
            if self.chiral:
                phase = (1j) ** ((iu[1] - iu[0]) % 4)  # Y = X i^(b - a) is real
                Y = upper * phase
                if np.any(np.abs(Y.imag) > 0):
                    raise ValueError("the state breaks the chiral symmetry of the layout")
                v[o : o + upper.size] = Y.real
            else:
                v[o : o + 2 * upper.size] = np.ascontiguousarray(upper, dtype=complex).view(float)
        return v

    def blocks(self, vec: np.ndarray):
        """The Hermitian blocks held by ``vec`` (a state), grouped by size: ``(ids, stack)``."""
        S = self.space
        for d in np.unique(S.d):
            d = int(d)
            ids = np.nonzero(S.d == d)[0]
            n = d * (d + 1) // 2
            iu = np.triu_indices(d)
            cols = (self.off[ids][:, None] * self.comp) + np.arange(n * self.comp)[None, :]
            raw = vec[cols]
            if self.chiral:
                upper = raw * (1j) ** ((iu[0] - iu[1]) % 4)[None, :]
            else:
                upper = raw[:, 0::2] + 1j * raw[:, 1::2]
            X = np.zeros((ids.size, d, d), dtype=complex)
            X[:, iu[0], iu[1]] = upper
            X = X + np.triu(X, 1).conj().transpose(0, 2, 1)
            yield ids, X

    # -- products -------------------------------------------------------------------------
    def recurrence(self, num_cpus=None) -> _MatrixFreeRecurrence:
        """The fused Chebyshev step ``out <- Y2 x + sign out``, ``Y2 = 2 (M - c) / scale``."""
        return _MatrixFreeRecurrence(self, num_cpus)

    def apply(self, v: np.ndarray) -> np.ndarray:
        """``M @ v``: the time derivative of the state ``v``."""
        out = np.zeros_like(v)
        rec = self.recurrence(1)
        rec.product(v, out, 1.0, 0.0, 0.0)
        rec.close()
        return out

    @property
    def nbytes(self) -> int:
        """Bytes held by the generator's tables (no vector)."""
        arrays = (self.energy, self.up, self.half, self.g, self.src, self.shift, self.fwd)
        arrays += (self.fshift, self.wrow, self.wcol, self.weights)
        return int(sum(a.nbytes for a in arrays))


class _MatrixFreeRecurrence:
    """The interface of :class:`~qutip_centralspin.solvers.chebyshev` recurrences: the
    kernel on balanced ranges of blocks, one per thread (Python threads; the kernel releases
    the GIL)."""

    def __init__(self, gen: MatrixFreeGenerator, num_cpus):
        self.gen = gen
        k = _require()
        self.kernel = k["product"]
        if num_cpus is None:
            num_cpus = 2 if gen.dim * (5 + len(gen.terms)) >= THREADED_MIN_WORK else 1
        self.threads = _threads(num_cpus)
        d = gen.space.d.astype(np.int64)
        work = np.cumsum(upper_slots(d) * (1 + len(gen.terms)))
        cuts = np.searchsorted(
            work, np.linspace(0, work[-1] if work.size else 0, self.threads + 1)
        )
        cuts[0], cuts[-1] = 0, d.size
        self.ranges = list(zip(cuts[:-1], cuts[1:], strict=True))
        self.pool = _Pool(self.threads)
        # rotation, ket_lo, ket_hi, bra_lo, bra_hi: -i[H, X] = rotation of
        # (ket_lo u_{a-1} X_{a-1,b} + ket_hi u_a X_{a+1,b} + bra_lo u_{b-1} X_{a,b-1} + ...)
        if gen.chiral:  # X = i^(k_a - k_b) Y: the -i and the neighbours' phases give +-1
            self.coef = (k["rotate_none"], -1.0, 1.0, -1.0, 1.0)
        else:
            self.coef = (k["rotate_minus_i"], 1.0, 1.0, -1.0, -1.0)
        self.d = d
        self.g = gen.g.ravel()

    def product(self, x, y, alpha, c, sign):
        gen = self.gen
        if not gen.chiral:
            x, y = x.view(np.complex128), y.view(np.complex128)

        def part(lo, hi):
            self.kernel(
                x, y, alpha, c, sign, *self.coef, lo, hi, self.d, gen.rowoff, gen.start,
                gen.energy, gen.up, gen.half, gen.src, gen.shift, self.g,
            )  # fmt: skip

        self.pool.run(part, self.ranges)

    def step(self, x: np.ndarray, out: np.ndarray, sign: float) -> np.ndarray:
        """Overwrite ``out`` with ``Y2 x + sign out`` and return it."""
        self.product(x, out, 2.0 / self.gen.scale, self.gen.c, float(sign))
        return out

    def close(self):
        self.pool.close()
