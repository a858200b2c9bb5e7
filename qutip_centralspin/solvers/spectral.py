r"""The spectral form of :math:`E_B(t)` on one excitation sector, at cost of its occupied part.

On a sector with eigenpairs :math:`(\lambda_a, v_a)` a state :math:`\rho_{KK} = CC^\dagger`
(``C``: one column for a ket) has eigenbasis amplitudes :math:`c = V^TC` and

.. math::

    E_B(t) = \sum_{ab} M_{ab}\, e^{-i\omega_{ab}t}, \qquad
    M_{ab} = \rho_{ab} Z_{ab}, \quad \rho = cc^\dagger, \quad
    Z = V^T \mathrm{diag}(z) V, \quad \omega_{ab} = \lambda_a - \lambda_b,

with :math:`z_m` the battery energy of the basis state :math:`m` (:math:`B(m - N_B/2)` for
the Dicke level :math:`m` of one battery group). Every quantity
the certified maxima need is a sum over these pairs: the derivative bounds
:math:`M_k = \sum|M_{ab}||\omega_{ab}|^k`, the time average, the oscillation amplitude and the
derivatives :math:`E_B^{(k)}(t)` at a point. :class:`SpectralTerms` evaluates them in blocks of
rows (memory :math:`O(s)` per row, never :math:`O(s^2)` at once) and never forms :math:`Z` on
more than the *kept* eigenstates.

Negligible amplitudes
---------------------
On a large sector most eigenstates carry amplitudes at or below the accuracy of the
eigendecomposition itself (:math:`|c_a| \lesssim \epsilon`: the Dicke state :math:`|0, N\rangle`
at :math:`N_B = N = 2000` has 184 of 2001 amplitudes above :math:`10^{-16}`). On a sector of at
least :data:`TRUNCATE_MIN_SIZE` levels, eigenstates with :math:`\lVert c_{a,:}\rVert \le`
:data:`NEGLIGIBLE_AMPLITUDE` :math:`\lVert C\rVert` are dropped when that removes at least half
of them, and what they could contribute is bounded rigorously. With :math:`R` the dropped set,
:math:`\ell = \sum_{a\in R}\lVert c_{a,:}\rVert` and :math:`\lVert C\rVert^2` the sector's
weight: in the eigenbasis :math:`Z_{ab}(\lambda_a - \lambda_b)^k` is the matrix element of the
nested commutator :math:`\mathrm{ad}_H^k(Z) = [H, [H, \dots, Z]]`, whose rows have 2-norm at
most :math:`\lVert\mathrm{ad}_H^k(Z)\rVert_2`, so by Cauchy-Schwarz the pairs with
:math:`a\in R` or :math:`b \in R` add at most

.. math::

    \sum_{a \in R \text{ or } b \in R} |\rho_{ab}||Z_{ab}||\omega_{ab}|^k
    \le 2\ell\lVert C\rVert\,\lVert\mathrm{ad}_H^k(Z)\rVert_2 .

In the Dicke basis :math:`\mathrm{ad}_H^k(Z)` is a band matrix of half-width :math:`k`
(:math:`Z` diagonal, :math:`H` tridiagonal), so its norm is bounded by its largest absolute
row sum in :math:`O(kd)` operations (:meth:`SpectralTerms.truncation`). :math:`Z` changes by
:math:`B` from level to level, so this is far below the crude :math:`\max|z|\,\Omega^k`
(:math:`\Omega` the sector's spread). At :math:`N_B = N = 2000`, :math:`|0, N\rangle` keeps 177
of 2001 eigenstates; the bound adds :math:`10^{-13}` relative to :math:`M_4` (the crude one:
25 %) and triples the round-off floor of :math:`E_B` (still :math:`10^{-13}` of its size).
These bounds are added to every derivative bound, to the oscillation amplitude and to the
round-off budget of every evaluation (:mod:`qutip_centralspin.maxima.certified`), so all brackets stay
rigorous.
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.sparse as sp

from .sectors import Sector

__all__ = ["SpectralTerms", "NEGLIGIBLE_AMPLITUDE", "TRUNCATE_MIN_SIZE"]

#: Eigenstates whose amplitude is at most this fraction of the sector's norm may be dropped
#: (one ulp: below the accuracy of the computed eigenvectors).
NEGLIGIBLE_AMPLITUDE = float(np.finfo(float).eps)
#: Only sectors with at least this many levels are truncated (small ones cost nothing).
TRUNCATE_MIN_SIZE = 128
#: Pair sums run over blocks of rows with about this many entries.
_BLOCK_ENTRIES = 1 << 18
#: ... and energy evaluations over blocks of times with about this many entries of psi(t).
_EVAL_ENTRIES = 1 << 21


class SpectralTerms:
    r"""The terms :math:`M_{ab}e^{-i\omega_{ab}t}` of :math:`E_B(t)` from one occupied sector.

    Parameters
    ----------
    sector : Sector
        The diagonalised sector.
    coeff : ndarray, shape (d, r)
        Eigenbasis amplitudes :math:`c = V^T C` of the state's block :math:`C`
        (:math:`\rho_{KK} = CC^\dagger`).
    z : ndarray, shape (d,)
        Battery energy of each basis state of the sector (the diagonal of :math:`H_B`:
        :math:`B(m - N_B/2)` on the Dicke level :math:`m`).
    weight : float
        The sector's population :math:`\lVert C\rVert^2`.
    """

    def __init__(self, sector: Sector, coeff: np.ndarray, z: np.ndarray, weight: float):
        self.sector = sector
        self.z = z
        self.weight = weight
        #: sum of the norms of the dropped amplitude rows (0: nothing dropped)
        self.dropped_l1 = 0.0
        self._rows_l1 = 0.0
        kept = None
        n_eig = sector.energies.size
        # the truncation bound reads H as the tridiagonal (diag, off) of the sector: only
        # such sectors, with all their eigenstates, are truncated (a banded sector such as the
        # Dicke charger's parity sectors is summed in full)
        tridiagonal = sector.off_diagonal.size == sector.m.size - 1 and n_eig == sector.m.size
        if tridiagonal and n_eig >= TRUNCATE_MIN_SIZE and coeff.shape[0] == n_eig:
            rows = np.sqrt(np.sum(coeff.real**2 + coeff.imag**2, axis=1))
            big = np.flatnonzero(rows > NEGLIGIBLE_AMPLITUDE * np.sqrt(weight))
            if 2 * big.size <= n_eig:
                kept = big
                dropped = np.ones(n_eig, dtype=bool)
                dropped[big] = False
                self.dropped_l1 = float(rows[dropped].sum())
                self._rows_l1 = float(rows.sum())
        if kept is None:
            self.energies, self.amplitudes, self.vectors = sector.energies, coeff, sector.vectors
        else:
            self.energies = sector.energies[kept]
            self.amplitudes = coeff[kept]
            self.vectors = sector.vectors[:, kept]
        #: number of kept eigenstates
        self.size = self.energies.size
        self._ad_norms: list[float] = []  # bounds on |ad_H^k(Z)|_2, k = 0, 1, ...
        self._ad_last = None  # the last ad_H^k(Z) computed (sparse, banded)

    # -- the dropped part ------------------------------------------------------------------
    def truncation(self, order: int) -> float:
        r"""Bound on what the dropped eigenstates add to :math:`|E_B^{(k)}(t)|` (any t), or to
        :math:`M_k`, ``order`` = k; for k = 0 also to :math:`\sum|M_{ab}|` and the time average:
        :math:`2\ell\lVert C\rVert\,\lVert\mathrm{ad}_H^k(Z)\rVert_2`.

        0 when nothing was dropped. See the module notes.
        """
        if self.dropped_l1 == 0.0:
            return 0.0
        return 2.0 * self.dropped_l1 * np.sqrt(self.weight) * self.commutator_norm(order)

    def coherence_truncation(self) -> float:
        r"""Bound on what the dropped eigenstates add to :attr:`coherence`:
        :math:`2\ell\sum_b\lVert c_{b,:}\rVert`."""
        return 2.0 * self.dropped_l1 * self._rows_l1

    def commutator_norm(self, order: int) -> float:
        r"""Upper bound on :math:`\lVert\mathrm{ad}_H^k(Z)\rVert_2` on the sector, ``order`` =
        k: the largest absolute row sum of the band matrix :math:`[H,[H,\dots,Z]]` in the Dicke
        basis (it is symmetric or antisymmetric), with a margin for its rounding."""
        if not self._ad_norms:
            self._ad_last = sp.diags(self.z).tocsr()
            self._ad_norms.append(float(np.max(np.abs(self.z))))
        while len(self._ad_norms) <= order:
            self._ad_last, norm = _next_commutator(self.sector, self._ad_last)
            self._ad_norms.append(norm)
        return self._ad_norms[order]

    # -- E_B(t) ----------------------------------------------------------------------------
    def energy(self, t: np.ndarray) -> np.ndarray:
        r""":math:`\sum_m z_m |\psi_m(t)|^2` with :math:`\psi(t) = V e^{-i\lambda t}c` over the
        kept eigenstates (in blocks of times: memory bounded)."""
        out = np.zeros(t.shape)
        d = self.z.size
        step = max(1, _EVAL_ENTRIES // (2 * d))
        for start in range(0, t.size, step):
            tt = t[start : start + step]
            phase = np.multiply.outer(self.energies, tt)
            cos_sin = np.concatenate([np.cos(phase), np.sin(phase)], axis=1)  # (s, 2T)
            size = tt.size
            for col in self.amplitudes.T:
                # c e^{-i lambda t}: real and (minus) imaginary parts side by side, one GEMM
                if np.iscomplexobj(col):
                    cos, sin = cos_sin[:, :size], cos_sin[:, size:]
                    re, im = col.real[:, None], col.imag[:, None]
                    parts = np.concatenate([re * cos + im * sin, re * sin - im * cos], axis=1)
                else:
                    parts = col[:, None] * cos_sin
                psi = self.vectors @ parts  # (d, 2T)
                sq = self.z @ (psi * psi)
                out[start : start + size] += sq[:size] + sq[size:]
        return out

    # -- the pairs (a, b) ------------------------------------------------------------------
    @functools.cached_property
    def zmatrix(self) -> np.ndarray:
        r""":math:`Z_{ab} = v_a^T\mathrm{diag}(z)v_b` on the kept eigenstates, shape (s, s)."""
        v, z = self.vectors, self.z
        if z.size * self.size <= _EVAL_ENTRIES:
            return v.T @ (z[:, None] * v)
        out = np.zeros((self.size, self.size))
        step = max(1, _EVAL_ENTRIES // self.size)  # blocks of Dicke levels: bounded memory
        for start in range(0, z.size, step):
            block = v[start : start + step]
            out += block.T @ (z[start : start + step, None] * block)
        return out

    def _blocks(self):
        """``(rows, rho[rows], M[rows], omega[rows])`` of the kept pairs, in blocks of rows
        (one block, kept, on a small sector)."""
        if self.size * self.size <= _BLOCK_ENTRIES:
            return self._one_block
        return self._row_blocks()

    @functools.cached_property
    def _one_block(self) -> list:
        return list(self._row_blocks())

    def _row_blocks(self):
        c, e, zmat = self.amplitudes, self.energies, self.zmatrix
        step = max(1, _BLOCK_ENTRIES // max(self.size, 1))
        conj = c.conj().T
        for start in range(0, self.size, step):
            rows = slice(start, start + step)
            rho = c[rows] @ conj
            yield rows, rho, rho * zmat[rows], e[rows, None] - e[None, :]

    @functools.cached_property
    def sums(self) -> dict:
        r"""One pass over the kept pairs: ``moments`` :math:`M_0..M_4`, ``oscillation``
        :math:`\sum_{\omega\ne0}|M_{ab}|`, ``mean`` :math:`\sum_{\omega=0}M_{ab}` and
        ``rate`` :math:`\sum\omega_{ab}\,\mathrm{Im}\,M_{ab}` (the dropped part not included)."""
        moments = np.zeros(5)
        oscillation = mean = rate = 0.0
        for _, _, m, w in self._blocks():
            mag, freq = np.abs(m), np.abs(w)
            moving = freq != 0
            oscillation += float(np.sum(mag, where=moving))
            mean += float(np.sum(m.real, where=~moving))
            if np.iscomplexobj(m):
                rate += float(np.sum(w * m.imag))
            moments[0] += float(mag.sum())
            for k in range(1, _POWERS):
                mag *= freq
                moments[k] += float(mag.sum())
        return {
            "moments": moments.tolist(),
            "oscillation": oscillation,
            "mean": mean,
            "rate": rate,
        }

    @functools.cached_property
    def coherence(self) -> float:
        r""":math:`\sum_{\omega_{ab}\ne0}|\rho_{ab}|` over the kept pairs."""
        total = 0.0
        for _, rho, _, w in self._blocks():
            total += float(np.abs(rho)[w != 0].sum())
        return total

    def moment(self, order: int) -> float:
        r""":math:`\sum|M_{ab}||\omega_{ab}|^k` over the kept pairs (any order k)."""
        if order < _POWERS:
            return self.sums["moments"][order]
        total = 0.0
        for _, _, m, w in self._blocks():
            total += float(np.sum(np.abs(m) * np.abs(w) ** order))
        return total

    def derivatives(self, t: float) -> np.ndarray:
        r""":math:`E_B^{(k)}(t)`, k = 0..3, of the kept pairs:
        :math:`\mathrm{Re}\sum M_{ab}(-i\omega_{ab})^k e^{-i\omega_{ab}t}`.

        On a small sector from the terms :math:`M_{ab}(-i\omega_{ab})^k`, kept; on a large one
        in blocks of rows with :math:`e^{-i\omega_{ab}t} = e^{-i\lambda_a t}e^{i\lambda_b t}`
        (the phases rounded as in :meth:`energy`).
        """
        if self.size * self.size <= _BLOCK_ENTRIES:
            terms, omega = self._taylor_terms
            return (terms @ np.exp(-1j * t * omega)).real
        phase = np.exp(-1j * t * self.energies)
        back = phase.conj()
        sums = np.zeros(4, dtype=complex)
        for rows, _, m, w in self._blocks():
            g = m * np.multiply.outer(phase[rows], back)
            sums[0] += g.sum()
            for k in range(1, 4):
                g *= w
                sums[k] += g.sum()
        # Re((-i)^k s_k): s0.re, s1.im, -s2.re, -s3.im
        return np.array([sums[0].real, sums[1].imag, -sums[2].real, -sums[3].imag])

    @functools.cached_property
    def _taylor_terms(self) -> tuple[np.ndarray, np.ndarray]:
        """Rows :math:`M_{ab}(-i\\omega_{ab})^k`, k = 0..3, and the frequencies (small sector)."""
        ((_, _, m, w),) = self._blocks()
        m, omega = m.ravel(), w.ravel()
        rows = np.empty((4, m.size), dtype=complex)
        rows[0] = m
        factor = -1j * omega
        for k in range(1, 4):
            np.multiply(rows[k - 1], factor, out=rows[k])
        return rows, omega


#: Moments M_k kept for k below this.
_POWERS = 5
#: Relative margin on the computed norms of ad_H^k(Z) (their rounding is far below it).
_NORM_MARGIN = 1.0 + 2.0**-20


def _next_commutator(sector: Sector, current: sp.csr_matrix) -> tuple[sp.csr_matrix, float]:
    """``[H, X]`` for the sector's tridiagonal ``H`` (shifted by its mean diagonal, which does
    not change a commutator) and a bound on its 2-norm (largest absolute row sum)."""
    diag = sector.diagonal - float(np.mean(sector.diagonal))
    off = sector.off_diagonal
    h = sp.diags([off, diag, off], [-1, 0, 1], shape=(sector.size, sector.size), format="csr")
    nxt = (h @ current - current @ h).tocsr()
    rows = np.asarray(abs(nxt).sum(axis=1)).ravel()
    return nxt, float(rows.max(initial=0.0)) * _NORM_MARGIN
