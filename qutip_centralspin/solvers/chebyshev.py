r"""Chebyshev propagation of :math:`e^{tM}v` for a real generator, at many times in one sweep.

Generic: any generator object with ``dim`` (the vector length), ``recurrence(num_cpus)`` (an
object whose ``step(x, out, sign)`` overwrites ``out`` with :math:`Y_2x + \sigma\,out`,
:math:`Y_2 = 2(M - c)/s`, and ``close()``), ``c``, ``scale`` (:math:`s`), ``modified`` and
``weights`` (the physical-norm weight of each entry) can be propagated: the assembled
generator (:class:`CsrRecurrence` on its CSR matrix) and the matrix-free one
(:mod:`.matrix_free`) both are. :math:`e^{tM} = e^{ct}\sum_k (2-\delta_{k0}) J_k(st)\, i^k T_k((M-c)/(is))`
(Jacobi-Anger), or with modified Bessel functions :math:`I_k` along the real axis when
dissipation dominates (``modified``). Only the observables :math:`F h_k` of each recurrence
vector are kept. The series stops where the Bessel tail is below :data:`CHEBYSHEV_TAIL`; a
segment whose recurrence vectors grow by more than :data:`MAX_RECURRENCE_GROWTH` is split.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np
import qutip
import scipy.sparse as sp
from scipy.linalg.blas import daxpy as _daxpy
from scipy.special import j0, j1
from threadpoolctl import ThreadpoolController

try:  # SciPy's compiled y += A x kernel (frees the GIL); optional speed-up
    from scipy.sparse._sparsetools import csr_matvec as _csr_matvec
except ImportError:  # pragma: no cover
    _csr_matvec = None

__all__ = [
    "bessel_table",
    "propagate",
    "CsrRecurrence",
    "CHEBYSHEV_TAIL",
    "MAX_RECURRENCE_GROWTH",
]

#: Chebyshev series truncated where every remaining Bessel coefficient is below this.
CHEBYSHEV_TAIL = 1e-17
#: Largest growth of the recurrence vectors accepted before a segment is split (rounding
#: errors are amplified by at most this factor: 1e6 x 1e-16 stays below 1e-9 relative). Measured
#: (benchmarks/README.md, session 7): on the open cavity charger at N = 80, t in [0, 10], 1e6
#: instead of 1e4 moves Delta E_B by 4e-13 (Delta E_B of size ~50) and saves the first rejected
#: segment (1296 -> 666 products detuned, 1385 -> 1180 resonant).
MAX_RECURRENCE_GROWTH = 1e6
#: A long series first runs a probe segment of about this many terms: the recurrence vectors of
#: a non-normal generator grow in bursts after a few hundred terms (benchmarks/README.md,
#: session 7), and a rejected segment's products are lost. If the probe's vectors grew less
#: than :data:`PROBE_QUIET_GROWTH`, the rest of the span is one segment.
PROBE_TERMS = 256
#: Growth of the probe's recurrence vectors below which the rest of the span is one segment.
PROBE_QUIET_GROWTH = 10.0
#: Largest series length accepted (spectral half-width times the time span).
MAX_TERMS = 1e8
#: Generators with at least this many entries use two threads for the sparse products.
THREADED_MIN_NNZ = 400_000
_MOMENT_CHUNK = 64
_TINY_X = 1e-10
_CONTROLLER: list = []  # one ThreadpoolController (finding the BLAS libraries takes ~0.1 s)


def _blas_controller() -> ThreadpoolController:
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0]


def bessel_table(x, modified: bool = False) -> np.ndarray:
    r"""Table ``T[k, i]`` of :math:`J_k(x_i)` (``modified``: :math:`e^{-x_i}I_k(x_i)`).

    Miller's backward recurrence, vectorised over ``x >= 0`` and normalised with
    :math:`J_0^2 + 2\sum_{k\ge1} J_k^2 = 1` (:math:`e^{-x}(I_0 + 2\sum_{k\ge1} I_k) = 1`); the
    sign of :math:`J` is fixed with ``scipy.special.j0``/``j1``. Rows stop after the last
    order at which some value is at least :data:`CHEBYSHEV_TAIL`.
    """
    x = np.atleast_1d(np.asarray(x, dtype=float))
    if modified:
        start = np.ceil(12 * np.sqrt(x) + 40).astype(int)
    else:
        start = np.ceil(x + 20 * np.cbrt(x) + 40).astype(int)
    n = int(start.max()) + 1
    table = np.zeros((n + 1, x.size))
    # below TINY_X two terms are exact to rounding (J_2 ~ x^2/8 < 1e-22), and Miller's
    # recurrence would overflow (it multiplies by 2/x at every order)
    pos = x > _TINY_X
    tiny = (x > 0) & ~pos
    two_over_x = np.zeros(x.size)
    two_over_x[pos] = 2.0 / x[pos]
    sign = 1.0 if modified else -1.0
    nxt = np.zeros(x.size)  # order k + 1
    cur = np.zeros(x.size)  # order k
    for k in range(n, 0, -1):
        cur[(start == k) & pos] = 1.0
        table[k] = cur
        nxt, cur = cur, k * two_over_x * cur + sign * nxt
        big = np.abs(cur) > 1e250
        if big.any():
            table[:, big] *= 1e-250
            cur[big] *= 1e-250
            nxt[big] *= 1e-250
    table[0] = cur
    peak = np.abs(table).max(axis=0)
    table[:, pos] /= peak[pos]
    if modified:
        norm = table[0] + 2 * table[1:].sum(axis=0)
    else:
        norm = np.sqrt(table[0] ** 2 + 2 * (table[1:] ** 2).sum(axis=0))
        ref0, ref1 = j0(x), j1(x)
        flip = np.where(np.abs(ref0) >= np.abs(ref1), table[0] * ref0 < 0, table[1] * ref1 < 0)
        norm = np.where(flip, -norm, norm)
    table[:, pos] /= norm[pos]
    table[:, ~pos] = 0.0
    table[0, ~pos] = 1.0
    if tiny.any():  # J_0 = 1 - x^2/4, J_1 = x/2 (e^-x I_0 = 1 - x, e^-x I_1 = x/2)
        table[0, tiny] = 1.0 - (x[tiny] if modified else x[tiny] ** 2 / 4)
        table[1, tiny] = x[tiny] / 2
    significant = np.nonzero(np.abs(table).max(axis=1) >= CHEBYSHEV_TAIL)[0]
    return table[: int(significant.max()) + 1]


class CsrRecurrence:
    """In-place Chebyshev step ``out = A @ x + sign * out`` (no allocation), threaded by rows.

    Uses SciPy's compiled CSR kernel, which accumulates into ``out`` and releases the GIL;
    falls back to ``A @ x`` if that private kernel is unavailable.
    """

    def __init__(self, A: sp.csr_matrix, num_cpus):
        self.A = A
        if num_cpus is None:
            num_cpus = 2 if A.nnz >= THREADED_MIN_NNZ else 1
        num_cpus = max(1, min(int(num_cpus), os.cpu_count() or 1))
        if _csr_matvec is None:
            num_cpus = 1
        cuts = np.searchsorted(A.indptr, np.linspace(0, A.nnz, num_cpus + 1)[1:-1])
        self.bounds = np.concatenate([[0], cuts, [A.shape[0]]]).astype(np.int64)
        self.pool = ThreadPoolExecutor(num_cpus) if num_cpus > 1 else None

    def _part(self, lo, hi, x, out):
        _csr_matvec(
            hi - lo,
            self.A.shape[1],
            self.A.indptr[lo : hi + 1],
            self.A.indices,
            self.A.data,
            x,
            out[lo:hi],
        )

    def step(self, x: np.ndarray, out: np.ndarray, sign: float) -> np.ndarray:
        """Overwrite ``out`` with ``A @ x + sign * out`` and return it."""
        if sign != 1.0:
            out *= sign
        if _csr_matvec is None:
            out += self.A @ x
        elif self.pool is None:
            self._part(0, self.A.shape[0], x, out)
        else:
            futures = [
                self.pool.submit(self._part, lo, hi, x, out)
                for lo, hi in zip(self.bounds[:-1], self.bounds[1:], strict=True)
            ]
            for f in futures:
                f.result()
        return out

    def close(self):
        if self.pool is not None:
            self.pool.shutdown()


class DenseOutput:
    r"""The functionals ``F @ exp(t M) v0`` at *any* time of ``[0, t_end]``, after one sweep.

    The Chebyshev moments :math:`F h_k` do not depend on time: they are kept per segment
    (a few numbers per term), and any time is then one product with its Bessel coefficients,
    :math:`O(n_{terms})`, exact to the same rounding as the sweep itself.
    """

    def __init__(self, gen, segments):
        self.scale, self.c, self.modified = gen.scale, gen.c, gen.modified
        self.segments = segments  # [(t_start, t_end, moments (n_terms, n_functionals))]

    @property
    def t_end(self) -> float:
        return self.segments[-1][1] if self.segments else 0.0

    def __call__(self, times) -> np.ndarray:
        """Values at ``times`` (from 0, within ``[0, t_end]``), shape ``(n_functionals, n)``."""
        times = np.atleast_1d(np.asarray(times, dtype=float))
        n_func = self.segments[0][2].shape[1]
        out = np.zeros((n_func, times.size))
        starts = np.array([seg[0] for seg in self.segments])
        which = np.clip(np.searchsorted(starts, times, side="right") - 1, 0, len(starts) - 1)
        for i, (t0, _, moments) in enumerate(self.segments):
            for sel in np.array_split(np.nonzero(which == i)[0], max(1, times.size // 512)):
                if sel.size == 0:
                    continue
                rel = times[sel] - t0
                coef = bessel_table(self.scale * rel, modified=self.modified)
                coef[1:] *= 2.0
                coef *= np.exp((self.c + (self.scale if self.modified else 0.0)) * rel)[None, :]
                n = min(coef.shape[0], moments.shape[0])
                out[:, sel] = moments[:n].T @ coef[:n]
        return out


def propagate(gen, v0, times, F, options, *, final: bool = False, dense: bool = False):
    """``F @ exp(t M) v0`` at every t of ``times`` (from 0), shape ``(n_functionals, n_times)``.

    ``options``: ``num_cpus``, ``progress_bar``, ``progress_kwargs`` (QuTiP's names).
    With ``final=True`` returns ``(values, exp(times[-1] M) v0)``: the state at the last time
    (to start the next segment of a piecewise-constant generator). With ``dense=True`` returns
    ``(values, DenseOutput)``: the functionals at any later time of ``[0, times[-1]]``.
    """
    if dense and final:
        raise ValueError("propagate: ask for final or dense, not both")
    out = np.zeros((F.shape[0], times.size))
    v0 = np.asarray(v0, dtype=float)
    if gen.dim == 0 or gen.scale <= 0:
        if dense:
            raise ValueError("dense output needs a non-trivial generator")
        if gen.dim == 0:
            return (out, v0) if final else out
        # the generator is c times the identity
        out = (F @ v0)[:, None] * np.exp(gen.c * times)[None, :]
        return (out, v0 * np.exp(gen.c * float(times[-1]))) if final else out
    terms = gen.scale * float(times[-1])
    if not (np.isfinite(terms) and np.isfinite(gen.c)) or terms > MAX_TERMS:
        raise ValueError(
            f"the generator's spectral half-width {gen.scale:.3g} times the time span "
            f"{float(times[-1]):.3g} needs about {terms:.3g} Chebyshev terms (at most "
            f"{MAX_TERMS:.0e}): the rates or fields are too large for this time span"
        )
    # the recurrence runs its own threads: BLAS threads (small dense products of the
    # moments) would only compete with them for the cores
    with _blas_controller().limit(limits=1, user_api="blas"):
        out, v_end, segments = _propagate(gen, v0, times, F, options, final, dense)
    if dense:
        return out, DenseOutput(gen, segments)
    return (out, v_end) if final else out


def _propagate(gen, v0, times, F, options, final, dense=False):
    out = np.zeros((F.shape[0], times.size))
    rec = gen.recurrence(options.get("num_cpus"))
    bar = qutip.ui.progressbar.progress_bars[options.get("progress_bar")](
        int(np.ceil((gen.scale * times[-1] + 100) / _MOMENT_CHUNK)),
        **dict(options.get("progress_kwargs") or {}),
    )
    try:
        t0, v, seg = 0.0, np.asarray(v0, dtype=float), float(times[-1])
        probe = gen.scale * seg > PROBE_TERMS
        if probe:
            seg = PROBE_TERMS / gen.scale
        remaining = np.ones(times.size, dtype=bool)
        segments = []
        while remaining.any():
            t_end = min(float(times[-1]), t0 + seg)
            last = t_end >= times[-1]
            inside = remaining & ((times <= t_end) | last)
            rel = np.concatenate([times[inside] - t0, [t_end - t0]])
            done = _chebyshev_segment(
                rec, gen, v, rel, F, need_end=final or not last, bar=bar, keep=dense
            )
            if isinstance(done, _Rejected):  # the recurrence grew: a shorter segment
                seg = _shorter(done, gen.scale, t_end - t0)
                if seg < 1e-12 * max(float(times[-1]), 1.0):
                    raise RuntimeError(
                        "Chebyshev propagation did not converge: the generator's scale (energies and "
                        "rates) times the time step is beyond double precision; rescale the model's "
                        "parameters and times"
                    )
                continue
            values, v, moments, growth = done
            if probe and growth < PROBE_QUIET_GROWTH:  # the rest in one segment
                seg = float(times[-1])
            probe = False
            if dense:
                segments.append((t0, t_end, moments))
            out[:, inside] = values[:, :-1]
            remaining &= ~inside
            t0 = t_end
    finally:
        rec.close()
        bar.finished()
    return out, v, segments


class _Rejected(NamedTuple):
    """A segment given up: the recurrence vectors grew too much after ``terms`` of its
    ``n_terms`` terms."""

    terms: int
    n_terms: int


def _shorter(rejected: _Rejected, scale: float, length: float) -> float:
    """The next segment length after ``rejected`` (a segment of ``length``).

    The growth of the recurrence vectors depends on the number of terms, so the next segment
    is sized to need about 80 % of the terms that were reached (the Bessel tail beyond
    ``scale * length`` kept), between 1/16 and 9/10 of ``length``: one rejection teaches the
    length, instead of halving until a segment passes (each try costs its products).
    """
    tail = rejected.n_terms - scale * length
    target = (0.8 * rejected.terms - tail) / scale
    return float(min(max(target, length / 16), 0.9 * length))


def _chebyshev_segment(rec, gen, v, rel, F, *, need_end, bar, keep=False):
    """One Chebyshev sweep from ``v`` over the times ``rel`` (relative to the segment start).

    Returns ``(values, v_end, moments, growth)`` with ``v_end`` the state at ``rel[-1]`` (if
    ``need_end``), every moment ``F h_k`` (if ``keep``) and the largest growth of the
    recurrence vectors seen, or a :class:`_Rejected` if they grew beyond
    :data:`MAX_RECURRENCE_GROWTH`.
    """
    scale, modified = gen.scale, gen.modified
    coef = bessel_table(scale * rel, modified=modified)  # (n_terms, n_times)
    coef[1:] *= 2.0
    coef *= np.exp((gen.c + (scale if modified else 0.0)) * rel)[None, :]
    n_terms = coef.shape[0]
    values = np.zeros((F.shape[0], rel.size))
    weights = gen.weights
    base = max(float(np.abs(v * weights).max()), np.finfo(float).tiny)
    v_end = coef[0, -1] * v if need_end else None
    moments = np.empty((_MOMENT_CHUNK, F.shape[0]))
    # h_0 = v, h_1 = Y v = (Y2 v)/2, h_{k+1} = Y2 h_k + h_{k-1} (I_k: - h_{k-1})
    prev = np.array(v, dtype=float)
    cur = rec.step(v, np.zeros_like(prev), 1.0)
    cur *= 0.5
    sign = -1.0 if modified else 1.0
    filled, first = 0, 0
    growth = 1.0
    kept = [] if keep else None
    for k in range(n_terms):
        vec = prev if k == 0 else cur
        moments[filled] = F @ vec
        filled += 1
        if need_end and k > 0:
            _daxpy(vec, v_end, a=coef[k, -1])  # v_end += c_k h_k in place (no temporary)
        if filled == _MOMENT_CHUNK or k == n_terms - 1:
            values += moments[:filled].T @ coef[first : first + filled]
            if keep:
                kept.append(moments[:filled].copy())
            first += filled
            filled = 0
            bar.update()
            growth = max(growth, float(np.abs(vec * weights).max()) / base)
            if growth > MAX_RECURRENCE_GROWTH:
                return _Rejected(k + 1, n_terms)
        if k >= 1 and k < n_terms - 1:
            prev = rec.step(cur, prev, sign)  # prev <- Y2 cur + sign prev = h_{k+1}
            prev, cur = cur, prev
    return values, v_end, (np.concatenate(kept) if keep else None), growth
